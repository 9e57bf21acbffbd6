/*
 * heur_content.c - heuristics on what the flows carried: ICMP tunnels, DICOM sent
 * outside, PHI leaving home-net, YARA matches.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../core/conf.h"
#include "../store/q_verdict.h"
#include "verdict_int.h"

/* Per flow, what the inside end sent: its payload bytes over its own messages (the mean
 * of one direction, not of both). */
void pt_heur_icmp_tunnel(struct pt_verdict_ctx *x)
{
    struct pt_qv *st = NULL;
    if (pt_qv_open(x->db, PT_QV_ICMP, &st) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (pt_qv_step(st) && x->rc == PT_OK) {
        double out = (double)pt_qv_int(st, 5);
        double msgs = (double)pt_qv_int(st, 11);
        double mean = msgs > 0 ? out / msgs : 0;
        int64_t mism = pt_qv_int(st, 8);
        bool big = out >= x->c.icmp_payload_bytes && mean >= x->c.icmp_mean_payload;
        if (!big && !(mism >= x->c.icmp_mismatched_replies && out >= x->c.icmp_payload_bytes)) {
            continue;
        }
        char sum[512], det[400], ev[96], hb[32];
        pt_human_bytes(out, hb, sizeof hb);
        snprintf(sum, sizeof sum,
                 "ICMP tunnel: %s sent %s of ICMP payload to %s in %.0f "
                 "messages (mean %.0f B, largest %lld B, entropy %.2f, %lld "
                 "replies not echoing their request)",
                 pt_qv_text(st, 1), hb, pt_qv_text(st, 2), msgs, mean, (long long)pt_qv_int(st, 6),
                 pt_qv_double(st, 7), (long long)mism);
        snprintf(det, sizeof det,
                 "{\"payload_out\":%.0f,\"messages_out\":%.0f,"
                 "\"mean_payload\":%.1f,\"max_payload_out\":%lld,"
                 "\"payload_in\":%lld,\"entropy\":%.3f,"
                 "\"mismatched_replies\":%lld}",
                 out, msgs, mean, (long long)pt_qv_int(st, 6), (long long)pt_qv_int(st, 12),
                 pt_qv_double(st, 7), (long long)mism);
        snprintf(ev, sizeof ev, "{\"flow\":[%lld]}", (long long)pt_qv_int(st, 0));
        pt_verdict_finding(x, PT_HEUR_ICMP_TUNNEL, pt_qv_text(st, 1), pt_qv_text(st, 2), "icmp",
                           pt_qv_int(st, 9), pt_qv_int(st, 10), (int64_t)out, mism > 0 ? 0.6 : 0.4,
                           sum, det, ev);
    }
    pt_qv_free(st);
}

static bool ae_known(const struct pt_heur_conf *c, const char *ae)
{
    char list[1024];
    snprintf(list, sizeof list, "%s", c->known_ae_titles);
    char *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        pt_trim(t);
        if (strcasecmp(t, ae) == 0) {
            return true;
        }
    }
    return false;
}

void pt_heur_dicom_outbound(struct pt_verdict_ctx *x)
{
    struct pt_qv *st = NULL;
    if (pt_qv_open(x->db, PT_QV_DICOM, &st) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (pt_qv_step(st) && x->rc == PT_OK) {
        const char *called = pt_qv_text(st, 4), *cmd = pt_qv_text(st, 5), *move = pt_qv_text(st, 6);
        const char *target = strcmp(cmd, "C-MOVE-RQ") == 0 && move[0] ? move : called;
        if (ae_known(&x->c, target)) {
            continue;
        }
        char sum[512], det[400], ev[96], hb[32], t1[64], t2[64], t3[64];
        pt_human_bytes((double)pt_qv_int(st, 8), hb, sizeof hb);
        jesc(pt_qv_text(st, 3), t1, sizeof t1);
        jesc(called, t2, sizeof t2);
        jesc(move, t3, sizeof t3);
        snprintf(sum, sizeof sum,
                 "DICOM %s x%d from %s (AE %s) to %s (AE %s, not a known AE "
                 "title)%s%s, %s of data sets",
                 cmd, (int)pt_qv_int(st, 7), pt_qv_text(st, 1), pt_qv_text(st, 3),
                 pt_qv_text(st, 2), called, move[0] ? ", move destination " : "", move, hb);
        snprintf(det, sizeof det,
                 "{\"command\":\"%s\",\"calling_ae\":\"%s\",\"called_ae\":\"%s\","
                 "\"move_destination\":\"%s\",\"messages\":%d}",
                 cmd, t1, t2, t3, (int)pt_qv_int(st, 7));
        snprintf(ev, sizeof ev, "{\"flow\":[%lld]}", (long long)pt_qv_int(st, 0));
        pt_verdict_finding(x, PT_HEUR_DICOM_OUTBOUND, pt_qv_text(st, 1), pt_qv_text(st, 2), "dicom",
                           pt_qv_int(st, 9), pt_qv_int(st, 10), pt_qv_int(st, 8), 0.7, sum, det,
                           ev);
    }
    pt_qv_free(st);
}

void pt_heur_phi_outbound(struct pt_verdict_ctx *x)
{
    struct pt_qv *st = NULL;
    if (pt_qv_open(x->db, PT_QV_PHI_UPLOADS, &st) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (pt_qv_step(st) && x->rc == PT_OK) {
        char sum[700], det[700], ev[200], hb[32], nm[300];
        pt_human_bytes((double)pt_qv_int(st, 4), hb, sizeof hb);
        jesc(pt_qv_text(st, 5), nm, sizeof nm);
        /* a tunnel payload is named by its domain, which the sentence gives already */
        const char *what = strcmp(pt_qv_text(st, 2), "dns-tunnel") == 0
                               ? "the payload of its queries"
                           : pt_qv_text(st, 5)[0] ? pt_qv_text(st, 5)
                                                  : "an object";
        snprintf(sum, sizeof sum,
                 "PHI left the network: %s sent %s (%s, %s) to %s over %s: %d "
                 "PHI identifiers (%s) of %d individual(s)",
                 pt_qv_text(st, 0), what, hb, pt_qv_text(st, 3), pt_qv_text(st, 1),
                 pt_qv_text(st, 2), (int)pt_qv_int(st, 7), pt_qv_text(st, 9),
                 (int)pt_qv_int(st, 10));
        snprintf(det, sizeof det,
                 "{\"object\":\"%s\",\"name\":\"%s\",\"size\":%lld,"
                 "\"phi_hits\":%d,\"phi_types\":\"%s\",\"individuals\":%d}",
                 pt_qv_text(st, 3), nm, (long long)pt_qv_int(st, 4), (int)pt_qv_int(st, 7),
                 pt_qv_text(st, 9), (int)pt_qv_int(st, 10));
        snprintf(ev, sizeof ev, "{\"object\":[\"%s\"],\"flow\":[%lld]}", pt_qv_text(st, 3),
                 (long long)pt_qv_int(st, 11));
        pt_verdict_finding(x, PT_HEUR_PHI_OUTBOUND, pt_qv_text(st, 0), pt_qv_text(st, 1),
                           pt_qv_text(st, 2), pt_qv_int(st, 6), pt_qv_int(st, 6), pt_qv_int(st, 4),
                           1.0, sum, det, ev);
    }
    pt_qv_free(st);
}

void pt_heur_yara(struct pt_verdict_ctx *x)
{
    /* rules about exfiltration tooling, staging and extortion wherever the object was seen */
    struct pt_qv *st = NULL;
    if (pt_qv_open(x->db, PT_QV_YARA, &st) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (pt_qv_step(st) && x->rc == PT_OK) {
        char sum[600], ev[200], det[800], ds[300];
        jesc(pt_qv_text(st, 3), ds, sizeof ds);
        snprintf(sum, sizeof sum, "YARA %s (%s): %s in %s (%s)", pt_qv_text(st, 0),
                 pt_qv_text(st, 1), pt_qv_text(st, 3), pt_qv_text(st, 5), pt_qv_text(st, 7));
        snprintf(det, sizeof det, "{\"rule\":\"%s\",\"category\":\"%s\",\"description\":\"%s\"}",
                 pt_qv_text(st, 0), pt_qv_text(st, 1), ds);
        snprintf(ev, sizeof ev, "{\"object\":[\"%s\"]}", pt_qv_text(st, 4));
        const char *sev = pt_qv_text(st, 2);
        double score = strcmp(sev, "critical") == 0 ? 0.9 : strcmp(sev, "high") == 0 ? 0.7 : 0.5;
        pt_verdict_finding(x, PT_HEUR_YARA, "", "", pt_qv_text(st, 1), pt_qv_int(st, 6),
                           pt_qv_int(st, 6), 0, score, sum, det, ev);
    }
    pt_qv_free(st);
}

/* Findings whose transfer began outside working hours (local time of the configured
 * offset): a supporting finding each. */
