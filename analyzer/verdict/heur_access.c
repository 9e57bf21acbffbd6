/*
 * heur_access.c - PHI access from web and proxy logs (issue 14 item 3): a request whose
 * log line names a patient (an MRN, SSN or accession number in its URI or query string) is
 * evidence that the client read that patient's record, even when the content never crossed
 * a captured link.
 *
 * The log file itself was scanned for PHI like any file at rest (phi/); a hit lies on the
 * line of the log_http row whose byte span [offset, offset + length) holds it, in the object
 * that holds the log's decoded bytes (the file, or the member of its gzip: the object of the
 * same item as long as the lines read). Nothing is scanned twice and no value is stored
 * here: rows name the masked hits by their keyed hash only through phi_hit.
 *
 * Writes phi_access (one row per request line that named patients) and one finding per
 * (client, server): "10.0.0.5 requested the records of 30 individuals from emr.example
 * (31 requests, mrn) between ...". The event rules count the bytes these requests returned
 * as PHI the client held (events.c, `staged`), so a later upload from that client can be
 * "likely" although its content was encrypted.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/q_accessup.h"
#include "../store/q_verdict.h"
#include "verdict_int.h"

/* IHE ATNA / DICOM audit messages that name patients (ACCESS_AUDIT, ACCESS_AUDIT_PAIRS): one
 * finding per requesting host and the system it read from. Patients are counted distinct
 * over the messages through the keyed hashes of their identifiers (log_audit_patient, made
 * with the case key); summed when none could be keyed. Before the pairs, the persons of every
 * phi_access row (temp.acc_person, store/q_accessup.h) for them and for heur_accessup.c. */
static void audit_findings(struct pt_verdict_ctx *x)
{
    char err[256];
    struct pt_qv *st = NULL;
    if (pt_qv_exec(x->db, PT_QV_ACCESS_AUDIT, err, sizeof err) != PT_OK ||
        pt_q_accessup_persons(x->db, err, sizeof err) != PT_OK ||
        pt_qv_open(x->db, PT_QV_ACCESS_AUDIT_PAIRS, &st) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (pt_qv_step(st) && x->rc == PT_OK) {
        int64_t msgs = pt_qv_int(st, 2), people = pt_qv_int(st, 3), objs = pt_qv_int(st, 12);
        bool distinct = pt_qv_int(st, 13) != 0;
        const char *srv = pt_qv_text(st, 1)[0] != '\0' ? pt_qv_text(st, 1) : "the audited system";
        char sum[900], det[512];
        snprintf(sum, sizeof sum,
                 "PHI access in audit logs: %s (user %s) %s records of %lld %spatient(s) from "
                 "%s (%lld IHE ATNA audit message(s) naming %lld patient object(s)%s; %.300s "
                 "lines %lld-%lld)",
                 pt_qv_text(st, 0), pt_qv_text(st, 11)[0] != '\0' ? pt_qv_text(st, 11) : "?",
                 pt_qv_text(st, 6), (long long)people, distinct ? "distinct " : "", srv,
                 (long long)msgs, (long long)objs,
                 distinct ? "" : ", patients summed over them: no key for their identifiers",
                 pt_qv_text(st, 14), (long long)pt_qv_int(st, 8), (long long)pt_qv_int(st, 9));
        snprintf(det, sizeof det,
                 "{\"messages\":%lld,\"patients\":%lld,\"patients_distinct\":%s,"
                 "\"patient_objects\":%lld,\"events\":\"%s\"}",
                 (long long)msgs, (long long)people, distinct ? "true" : "false",
                 (long long)objs, pt_qv_text(st, 6));
        size_t evlen = strlen(pt_qv_text(st, 10)) + sizeof "{\"phi_access\":}";
        char *ev = malloc(evlen);
        if (ev == NULL) {
            x->rc = PT_ENOMEM;
            break;
        }
        snprintf(ev, evlen, "{\"phi_access\":%s}", pt_qv_text(st, 10));
        pt_verdict_finding(x, PT_HEUR_PHI_ACCESS, pt_qv_text(st, 0), srv, "atna",
                           pt_qv_int(st, 4), pt_qv_int(st, 5), 0, people >= 10 ? 0.6 : 0.45, sum,
                           det, ev);
        free(ev);
    }
    pt_qv_free(st);
}

/* The PHI hits on lines of web/proxy logs (ACCESS_HITS of store/q_verdict.def): a request for
 * a status below 400 (or none given) names what it returned. One finding per client and
 * server (ACCESS_PAIRS); individuals counted over all its lines (not summed). */
void pt_heur_phi_access(struct pt_verdict_ctx *x)
{
    char err[256];
    if (pt_qv_exec(x->db, PT_QV_ACCESS_HITS, err, sizeof err) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    struct pt_qv *st = NULL;
    if (pt_qv_open(x->db, PT_QV_ACCESS_PAIRS, &st) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (pt_qv_step(st) && x->rc == PT_OK) {
        int64_t requests = pt_qv_int(st, 2);
        int64_t bytes = pt_qv_int(st, 3);
        int64_t people = pt_qv_int(st, 6);
        char sum[640], det[512], hb[32];
        pt_human_bytes((double)bytes, hb, sizeof hb);
        snprintf(sum, sizeof sum,
                 "PHI access in logs: %s requested records naming %lld individual(s) from %s "
                 "(%lld request(s) returning %s; %s; from %s, item %lld lines %lld-%lld)",
                 pt_qv_text(st, 0), (long long)people, pt_qv_text(st, 1), (long long)requests, hb,
                 pt_qv_text(st, 12), pt_qv_text(st, 7), (long long)pt_qv_int(st, 8),
                 (long long)pt_qv_int(st, 9), (long long)pt_qv_int(st, 10));
        snprintf(det, sizeof det,
                 "{\"requests\":%lld,\"individuals\":%lld,\"resp_bytes\":%lld,"
                 "\"phi_types\":\"%s\",\"sources\":\"%s\"}",
                 (long long)requests, (long long)people, (long long)bytes, pt_qv_text(st, 12),
                 pt_qv_text(st, 7));
        size_t evlen = strlen(pt_qv_text(st, 11)) + sizeof "{\"phi_access\":}";
        char *ev = malloc(evlen);
        if (ev == NULL) {
            x->rc = PT_ENOMEM;
            break;
        }
        snprintf(ev, evlen, "{\"phi_access\":%s}", pt_qv_text(st, 11));
        double score = people >= 10 ? 0.6 : 0.45;
        pt_verdict_finding(x, PT_HEUR_PHI_ACCESS, pt_qv_text(st, 0), pt_qv_text(st, 1), "http",
                           pt_qv_int(st, 4), pt_qv_int(st, 5), 0, score, sum, det, ev);
        free(ev);
    }
    pt_qv_free(st);
    if (x->rc == PT_OK) {
        audit_findings(x);
    }
    if (x->rc == PT_OK && pt_qv_exec(x->db, PT_QV_ACCESS_DONE, err, sizeof err) != PT_OK) {
        x->rc = PT_EDB;
    }
}
