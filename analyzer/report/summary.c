/* summary.c - text summary from the evidence database (see summary.h). Its reads are named
 * queries of the store (store/q_report.def); this file only lays out their rows. */
#include "summary.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/limits.h"
#include "../store/q_report.h"

static void fmt_ts(int64_t us, char *out, size_t len)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL) {
        snprintf(out, len, "?");
        return;
    }
    strftime(out, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* The title, whether the case is whole (an incomplete one says so first), the verdict when
 * the verdict stage ran, and the individuals. */
static pt_status case_status(struct pt_db *db, FILE *out)
{
    struct pt_q *q = NULL;
    fprintf(out, "phitrace summary\n================\n\n");
    if (pt_q_open(db, PT_Q_SUMMARY_INCOMPLETE, &q) == PT_OK) {
        if (pt_q_step(q)) {
            fprintf(out, "*** INCOMPLETE CASE: %s ***\n\n", pt_q_text(q, 0));
        }
        pt_q_free(q);
    }
    if (pt_q_open(db, PT_Q_SUMMARY_VERDICT, &q) == PT_OK) {
        if (pt_q_step(q)) {
            fprintf(out, "Verdict: %s (did patient data leave the network?); %lld event(s), "
                         "%lld bytes out in them\n"
                         "Individuals in data that left: %s; in all evidence: %s\n\n",
                    pt_q_text(q, 0), (long long)pt_q_int(q, 2), (long long)pt_q_int(q, 1),
                    pt_q_text(q, 3), pt_q_text(q, 4));
        }
        pt_q_free(q);
    }
    /* Individuals per category of data (left, staged, present: store/q_disk.h). */
    if (pt_q_open(db, PT_Q_SUMMARY_CATEGORIES, &q) == PT_OK) {
        if (pt_q_step(q) && !pt_q_is_null(q, 0)) {
            fprintf(out, "Individuals per category (a person in several is counted in each): "
                         "%s\n\n", pt_q_text(q, 0));
        }
        pt_q_free(q);
    }
    return PT_OK;
}

/* The one-line answer to "how much left the network, to where", and the evidence read. */
static pt_status totals(struct pt_db *db, FILE *out)
{
    struct pt_q *q = NULL;
    char a[40], b[40];
    PT_TRY(pt_q_open(db, PT_Q_SUMMARY_CROSSING, &q));
    if (pt_q_step(q)) {
        fprintf(out,
                "Result: %lld inside host(s) sent %lld payload bytes to %lld outside address(es) "
                "in %lld flow(s)\n\n",
                (long long)pt_q_int(q, 0), (long long)pt_q_int(q, 3), (long long)pt_q_int(q, 1),
                (long long)pt_q_int(q, 2));
    }
    pt_q_free(q);
    PT_TRY(pt_q_open(db, PT_Q_SUMMARY_EVIDENCE, &q));
    if (pt_q_step(q)) {
        fprintf(out, "Evidence: %lld input(s), %lld packet(s); %lld failed or partial, %lld skipped\n",
                (long long)pt_q_int(q, 0), (long long)pt_q_int(q, 1), (long long)pt_q_int(q, 4),
                (long long)pt_q_int(q, 5));
        if (!pt_q_is_null(q, 2)) {
            fmt_ts(pt_q_int(q, 2), a, sizeof a);
            fmt_ts(pt_q_int(q, 3), b, sizeof b);
            fprintf(out, "Capture window: %s to %s\n", a, b);
        }
    }
    pt_q_free(q);
    return PT_OK;
}

static pt_status flows_by_class(struct pt_db *db, FILE *out)
{
    struct pt_q *q = NULL;
    fprintf(out, "\nFlows by class (bytes are frame bytes; 'sent out' is payload an inside host "
                 "sent to the outside)\n");
    fprintf(out, "  %-9s %10s %12s %16s %16s\n", "class", "flows", "packets", "bytes", "sent out");
    PT_TRY(pt_q_open(db, PT_Q_SUMMARY_FLOW_CLASSES, &q));
    while (pt_q_step(q)) {
        fprintf(out, "  %-9s %10lld %12lld %16lld %16lld\n", pt_q_text(q, 0),
                (long long)pt_q_int(q, 1), (long long)pt_q_int(q, 2), (long long)pt_q_int(q, 3),
                (long long)pt_q_int(q, 4));
    }
    pt_q_free(q);
    return PT_OK;
}

/* The PT_SUMMARY_TOP outbound talkers. */
static pt_status talkers(struct pt_db *db, FILE *out)
{
    struct pt_q *q = NULL;
    char a[40], b[40];
    int rows = 0;
    fprintf(out, "\nTop outbound talkers (inside host -> outside destination, by payload bytes "
                 "sent out)\n");
    PT_TRY(pt_q_open(db, PT_Q_SUMMARY_TALKERS, &q));
    pt_status rc = pt_q_bind_int(q, 1, PT_SUMMARY_TOP);
    while (rc == PT_OK && pt_q_step(q)) {
        fmt_ts(pt_q_int(q, 4), a, sizeof a);
        fmt_ts(pt_q_int(q, 5), b, sizeof b);
        fprintf(out, "  %-39s -> %-39s %6lld flow(s) %14lld bytes  %s .. %s\n", pt_q_text(q, 0),
                pt_q_text(q, 1), (long long)pt_q_int(q, 2), (long long)pt_q_int(q, 3), a, b);
        if (pt_q_text(q, 6)[0] != '\0') {
            fprintf(out, "  %-39s    named by: %s\n", "", pt_q_text(q, 6));
        }
        rows++;
    }
    if (rc == PT_OK && rows == 0) {
        fprintf(out, "  none: no flow crossed the home-net boundary\n");
    }
    pt_q_free(q);
    return rc;
}

/* A count per application-layer record kind. */
static pt_status app_layer(struct pt_db *db, FILE *out)
{
    static const struct {
        const char *label;
        enum pt_query q;
    } counts[] = {
        {"HTTP transactions", PT_Q_SUMMARY_HTTP},
        {"DNS messages", PT_Q_SUMMARY_DNS},
        {"TLS sessions", PT_Q_SUMMARY_TLS},
        {"HL7 v2 messages", PT_Q_SUMMARY_HL7},
        {"FTP transfers", PT_Q_SUMMARY_FTP},
        {"SMTP messages", PT_Q_SUMMARY_SMTP},
        {"SMB files opened", PT_Q_SUMMARY_SMB},
        {"SSH sessions", PT_Q_SUMMARY_SSH},
        {"DICOM associations", PT_Q_SUMMARY_DICOM_ASSOC},
        {"DICOM data sets (C-STORE and others)", PT_Q_SUMMARY_DICOM_DATASETS},
        {"TCP stream gaps (bytes not captured)", PT_Q_SUMMARY_GAP_BYTES},
        {"TCP retransmission conflicts", PT_Q_SUMMARY_CONFLICTS},
    };
    fprintf(out, "\nApplication layer\n");
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        struct pt_q *q = NULL;
        PT_TRY(pt_q_open(db, counts[i].q, &q));
        if (pt_q_step(q)) {
            fprintf(out, "  %-40s %10lld\n", counts[i].label, (long long)pt_q_int(q, 0));
        }
        pt_q_free(q);
    }
    return PT_OK;
}

static pt_status objects(struct pt_db *db, FILE *out)
{
    struct pt_q *q = NULL;
    int rows = 0;
    fprintf(out, "\nObjects (files and messages transferred, stored under objects/)\n");
    PT_TRY(pt_q_open(db, PT_Q_SUMMARY_OBJECTS, &q));
    while (pt_q_step(q)) {
        fprintf(out, "  %-9s %-6s %8lld object(s) %14lld bytes  %lld partial\n", pt_q_text(q, 0),
                pt_q_text(q, 1), (long long)pt_q_int(q, 2), (long long)pt_q_int(q, 3),
                (long long)pt_q_int(q, 4));
        rows++;
    }
    if (rows == 0) {
        fprintf(out, "  none\n");
    }
    pt_q_free(q);
    return PT_OK;
}

static pt_status anomalies(struct pt_db *db, FILE *out)
{
    struct pt_q *q = NULL;
    int rows = 0;
    fprintf(out, "\nAnomalies by kind\n");
    PT_TRY(pt_q_open(db, PT_Q_SUMMARY_ANOMALIES, &q));
    while (pt_q_step(q)) {
        fprintf(out, "  %-40s %10lld\n", pt_q_text(q, 0), (long long)pt_q_int(q, 1));
        rows++;
    }
    if (rows == 0) {
        fprintf(out, "  none\n");
    }
    pt_q_free(q);
    return PT_OK;
}

static pt_status inputs(struct pt_db *db, FILE *out)
{
    struct pt_q *q = NULL;
    int rows = 0;
    fprintf(out, "\nInputs not fully analyzed\n");
    PT_TRY(pt_q_open(db, PT_Q_SUMMARY_INPUTS_NOT_OK, &q));
    while (pt_q_step(q)) {
        fprintf(out, "  [%s] %s: %s\n", pt_q_text(q, 1), pt_q_text(q, 0), pt_q_text(q, 2));
        rows++;
    }
    if (rows == 0) {
        fprintf(out, "  none\n");
    }
    pt_q_free(q);
    return PT_OK;
}

static pt_status audit_head(struct pt_db *db, FILE *out)
{
    struct pt_q *q = NULL;
    PT_TRY(pt_q_open(db, PT_Q_SUMMARY_AUDIT_HEAD, &q));
    if (pt_q_step(q)) {
        fprintf(out, "\nAudit chain head: row %lld, %s\n", (long long)pt_q_int(q, 0),
                pt_q_text(q, 1));
    }
    pt_q_free(q);
    return PT_OK;
}

pt_status pt_summary_render(struct pt_db *db, FILE *out)
{
    PT_TRY(case_status(db, out));
    PT_TRY(totals(db, out));
    PT_TRY(flows_by_class(db, out));
    PT_TRY(talkers(db, out));
    PT_TRY(app_layer(db, out));
    PT_TRY(objects(db, out));
    PT_TRY(anomalies(db, out));
    PT_TRY(inputs(db, out));
    return audit_head(db, out);
}
