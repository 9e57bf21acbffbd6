/*
 * limitations.c - coverage (what each input was examined as) and the limitations of
 * the case: capture windows and holes, bytes not captured, encrypted share, caps and
 * unreadable content (from the anomaly vocabulary), joins of individuals.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../store/q_verdict.h"
#include "verdict_int.h"

/* Plural-aware "3 disk images" for the coverage sentence. */
static void count_phrase(char *out, size_t len, long long n, const char *one, const char *many)
{
    snprintf(out, len, "%lld %s", n, n == 1 ? one : many);
}

/* What the logs gave the heuristics: "30 connection(s)", "87 DNS queries", or both. */
static void weighed(char *out, size_t len, long long flows, long long dns, long long http)
{
    static const char *const noun[3] = {"connection(s)", "DNS queries", "HTTP request(s)"};
    long long v[3] = {flows, dns, http};
    int parts = (flows > 0) + (dns > 0) + (http > 0), done = 0;
    size_t k = 0;
    out[0] = '\0';
    for (int i = 0; i < 3 && k < len; i++) {
        if (v[i] == 0 && !(i == 0 && parts == 0)) {
            continue;
        }
        if (done > 0) {
            k += (size_t)snprintf(out + k, len - k, "%s", done == parts - 1 ? " and " : ", ");
        }
        if (k < len) {
            k += (size_t)snprintf(out + k, len - k, "%lld %s", v[i], noun[i]);
        }
        done++;
    }
}

/* The window of a verdict over captures and logs: the logs' connections widen what was
 * weighed, over their own span. */
static void logs_beside_captures(struct pt_db *db, const char *caps, const char *a, const char *b,
                                 long long wlogs, const char *what, char *window, size_t wl)
{
    int64_t lf0 = pt_qv_int1(db, PT_QV_WIN_LOG_FLOW_FIRST);
    int64_t lf1 = pt_qv_int1(db, PT_QV_WIN_LOG_FLOW_LAST);
    char c0[40] = "", c1[40] = "", lp[80];
    time_t t0 = (time_t)(lf0 / 1000000), t1 = (time_t)(lf1 / 1000000);
    struct tm tm;
    strftime(c0, sizeof c0, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t0, &tm));
    strftime(c1, sizeof c1, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t1, &tm));
    count_phrase(lp, sizeof lp, wlogs, "log", "logs");
    if (lf0 == 0 && lf1 == 0) { /* DNS queries only: no flow of their own */
        snprintf(window, wl, "in the %s covering %s to %s and the %s of %s", caps, a, b, what,
                 lp);
        return;
    }
    snprintf(window, wl, "in the %s covering %s to %s and the %s of %s from %s to %s (their "
             "content not seen)", caps, a, b, what, lp, c0, c1);
}

/* Logs without a capture: their connections were weighed, their content never seen. */
static size_t logs_alone(const char *files, const char *a, const char *b, long long wlogs,
                         const char *what, bool flows, bool other, char *window, size_t wl,
                         char *sentence, size_t sl)
{
    char lp[80];
    count_phrase(lp, sizeof lp, wlogs, "log", "logs");
    snprintf(window, wl, "in the %s of %s, without any packet capture (%sthe lines of the %s "
             "span %s to %s)", what, lp, flows ? "their content was not seen; " : "", files, a,
             b);
    const char *how = !flows  ? ""
                      : other ? " (the connections as flows, their content not seen)"
                              : " as flows, their content not seen";
    int n = snprintf(sentence, sl, "no packet capture: %s from %s weighed%s; the evidence "
                     "window, from the times in %s, is %s to %s", what, lp, how, files, a, b);
    return n < 0 ? 0 : (size_t)n;
}

/* What the coverage sentence counts: inputs examined by kind, logs weighed and their flows. */
struct covn {
    long long caps, files, wlogs, lflows, ldns, lhttp, images, logs, binary, bad;
};

static void coverage_counts(struct pt_db *db, struct covn *n)
{
    n->caps = pt_qv_int1(db, PT_QV_COV_CAPTURES);
    n->files = pt_qv_int1(db, PT_QV_COV_FILES);
    /* logs whose connections became flows: weighed like captures, content unseen */
    n->wlogs = pt_qv_int1(db, PT_QV_COV_WEIGHED_LOGS);
    n->lflows = pt_qv_int1(db, PT_QV_COV_LOG_FLOWS);
    n->ldns = pt_qv_int1(db, PT_QV_COV_LOG_DNS);
    n->lhttp = pt_qv_int1(db, PT_QV_COV_LOG_HTTP);
    n->images = pt_qv_int1(db, PT_QV_COV_IMAGES);
    n->logs = pt_qv_int1(db, PT_QV_COV_LOGS);
    n->binary = pt_qv_int1(db, PT_QV_COV_BINARY);
    n->bad = pt_qv_int1(db, PT_QV_COV_BAD);
}

/* The coverage sentence: what was decoded, over which window, and what was not examined. */
pt_status pt_verdict_coverage(struct pt_verdict_ctx *x, char *err, size_t errlen)
{
    /* what each input was examined as, and how much of it was read (COVERAGE): a file's
     * class comes from its top object, disk images and logs by content (ingest/sniff.c),
     * containers as archives or documents, binary content as read in printable runs only */
    PT_TRY(pt_qv_exec(x->db, PT_QV_COVERAGE, err, errlen));
    struct pt_db *db = x->db;
    struct covn n;
    coverage_counts(db, &n);
    long long caps = n.caps, files = n.files, wlogs = n.wlogs, lflows = n.lflows, ldns = n.ldns;
    long long images = n.images, logs = n.logs, binary = n.binary, bad = n.bad;
    char what[120]; /* what the logs gave the heuristics */
    weighed(what, sizeof what, lflows, ldns, n.lhttp);
    int64_t first = pt_qv_int1(db, PT_QV_WIN_CAPTURE_FIRST);
    int64_t last = pt_qv_int1(db, PT_QV_WIN_CAPTURE_LAST);
    /* without captures: the span of the logs' line times, else of the files' modification
     * times (which date the copies, not the events, and are said to) */
    long long timed_logs = pt_qv_int1(db, PT_QV_WIN_TIMED_LOGS);
    const char *from = caps > 0 && first >= 0 ? "captures" : "none";
    if (strcmp(from, "none") == 0) {
        first = last = -1;
    }
    if (caps == 0 && timed_logs > 0) {
        first = pt_qv_int1(db, PT_QV_WIN_LOG_LINES_FIRST);
        last = pt_qv_int1(db, PT_QV_WIN_LOG_LINES_LAST);
        from = "log lines";
    } else if (caps == 0 && pt_qv_int1(db, PT_QV_WIN_MTIMES) > 0) {
        first = pt_qv_int1(db, PT_QV_WIN_MTIME_FIRST);
        last = pt_qv_int1(db, PT_QV_WIN_MTIME_LAST);
        from = "file times";
    }
    char sentence[1024], part[160], a[40] = "", b[40] = "", window[640], ne_text[400] = "";
    size_t k = 0;
    if (first >= 0 && last >= 0) {
        time_t t0 = (time_t)(first / 1000000), t1 = (time_t)(last / 1000000);
        struct tm tm;
        strftime(a, sizeof a, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t0, &tm));
        strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t1, &tm));
    }
    if (caps > 0 && wlogs > 0) {
        count_phrase(part, sizeof part, caps, "packet capture", "packet captures");
        logs_beside_captures(db, part, a, b, wlogs, what, window, sizeof window);
        k += (size_t)snprintf(sentence + k, sizeof sentence - k, "%s decoded, covering %s to %s",
                              part, a, b);
    } else if (caps > 0) {
        count_phrase(part, sizeof part, caps, "packet capture", "packet captures");
        snprintf(window, sizeof window, "in the %s covering %s to %s", part, a, b);
        k += (size_t)snprintf(sentence + k, sizeof sentence - k, "%s decoded, covering %s to %s",
                              part, a, b);
    } else if (strcmp(from, "log lines") == 0 && wlogs > 0) {
        count_phrase(part, sizeof part, timed_logs, "log file", "log files");
        k += logs_alone(part, a, b, wlogs, what, lflows > 0, ldns > 0 || n.lhttp > 0, window,
                        sizeof window, sentence + k, sizeof sentence - k);
    } else if (strcmp(from, "log lines") == 0) {
        count_phrase(part, sizeof part, timed_logs, "log file", "log files");
        snprintf(window, sizeof window,
                 "in evidence without any packet capture (no network "
                 "traffic was seen; the lines of the %s span %s to %s)",
                 part, a, b);
        k += (size_t)snprintf(sentence + k, sizeof sentence - k,
                              "no packet capture, so no network traffic was seen; the evidence "
                              "window, from the times in %s, is %s to %s",
                              part, a, b);
    } else if (strcmp(from, "file times") == 0) {
        snprintf(window, sizeof window,
                 "in evidence without any packet capture (no network "
                 "traffic was seen; no evidence window is known: the input files were last "
                 "modified %s to %s, which dates the copies, not the events)",
                 a, b);
        k += (size_t)snprintf(sentence + k, sizeof sentence - k,
                              "no packet capture, so no network traffic was seen and no time "
                              "in the evidence dates it: the input files were last modified "
                              "%s to %s (when the copies were made, not when events happened)",
                              a, b);
    } else {
        snprintf(window, sizeof window,
                 "in evidence without any packet capture (no network "
                 "traffic was seen; no evidence window is known)");
        k += (size_t)snprintf(sentence + k, sizeof sentence - k,
                              "no packet capture, so no network traffic was seen and the "
                              "evidence window is not known");
    }
    if (caps > 0 && wlogs > 0 && k < sizeof sentence) {
        count_phrase(part, sizeof part, wlogs, "log", "logs");
        k += (size_t)snprintf(sentence + k, sizeof sentence - k,
                              "; %s from %s weighed with them (their content not seen)", what,
                              part);
    }
    if (files > 0 && k < sizeof sentence) {
        count_phrase(part, sizeof part, files, "file", "files");
        k += (size_t)snprintf(sentence + k, sizeof sentence - k, "; %s read for PHI", part);
    }
    if ((images || logs || binary || bad) && k < sizeof sentence) {
        k += (size_t)snprintf(sentence + k, sizeof sentence - k, "; not examined:");
        const struct {
            long long n;
            const char *one, *many;
        } ne[] = {{images, "disk image", "disk images"},
                  {logs, "log file", "log files"},
                  {binary, "file of a format phitrace does not read (printable text only)",
                   "files of formats phitrace does not read (printable text only)"},
                  {bad, "unreadable input", "unreadable inputs"}};
        bool first_part = true;
        for (size_t i = 0; i < sizeof ne / sizeof ne[0] && k < sizeof sentence; i++) {
            if (ne[i].n == 0) {
                continue;
            }
            count_phrase(part, sizeof part, ne[i].n, ne[i].one, ne[i].many);
            k += (size_t)snprintf(sentence + k, sizeof sentence - k, "%s %s", first_part ? "" : ",",
                                  part);
            size_t l = strlen(ne_text);
            snprintf(ne_text + l, sizeof ne_text - l, "%s%s", first_part ? "" : ", ", part);
            first_part = false;
        }
        if (k < sizeof sentence) {
            snprintf(sentence + k, sizeof sentence - k, " (see the limitations)");
        }
        size_t l = strlen(ne_text);
        snprintf(ne_text + l, sizeof ne_text - l, " %s not examined",
                 images + logs + binary + bad == 1 ? "was" : "were");
    }
    sentence[0] = (char)toupper((unsigned char)sentence[0]);
    struct pt_qv *q = NULL;
    if (pt_qv_open(db, PT_QV_COVERAGE_SUMMARY_PUT, &q) != PT_OK) {
        snprintf(err, errlen, "coverage: %s", pt_qv_errmsg(db));
        return PT_EDB;
    }
    pt_qv_bind_text(q, 1, sentence);
    pt_qv_bind_int(q, 2, caps);
    pt_qv_bind_int(q, 3, caps + files);
    pt_qv_bind_int(q, 4, images + logs + binary + bad);
    if (first >= 0 && last >= 0) {
        pt_qv_bind_int(q, 5, first);
        pt_qv_bind_int(q, 6, last);
    }
    pt_qv_bind_text(q, 7, from);
    pt_qv_bind_text(q, 8, window);
    pt_qv_bind_text(q, 9, ne_text);
    pt_status rc = pt_qv_run(q);
    if (rc != PT_OK) {
        snprintf(err, errlen, "coverage: %s", pt_qv_errmsg(db));
    }
    pt_qv_free(q);
    return rc;
}

/* The limitations (LIMITATIONS): capture windows and holes, bytes not captured, the
 * encrypted share, inputs not read fully, caps and unreadable content (from the anomaly
 * vocabulary), encrypted archives, objects read in printable runs only, joins of
 * individuals. */
pt_status pt_verdict_limitations(struct pt_verdict_ctx *x, char *err, size_t errlen)
{
    return pt_qv_limitations(x->db, err, errlen);
}
