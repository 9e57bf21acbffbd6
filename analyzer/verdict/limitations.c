/*
 * limitations.c - coverage (what each input was examined as) and the limitations of
 * the case: capture windows and holes, bytes not captured, encrypted share, caps and
 * unreadable content (from the anomaly vocabulary), joins of individuals.
 */
#include <ctype.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../store/db.h"
#include "verdict_int.h"

/* What each input was examined as, and how much of it was read. A file's class comes from its
 * top object: disk images and logs by content (ingest/sniff.c; not parsed by this version),
 * containers as archives or documents, binary content as read in printable runs only. */
static const char coverage_sql[] =
    "CREATE TEMP TABLE item_obj AS SELECT o.item_id, o.sha256, max(o.size) AS size, "
    "coalesce(max(p.read_bytes), 0) AS read_bytes FROM object o LEFT JOIN phi_object p ON "
    "p.object_sha256 = o.sha256 WHERE o.item_id IS NOT NULL GROUP BY o.item_id, o.sha256;"
    "CREATE TEMP TABLE item_top AS SELECT e.id AS item_id, (SELECT o.sha256 FROM object o WHERE "
    "o.item_id = e.id AND o.depth = 0 ORDER BY o.id LIMIT 1) AS sha256 FROM evidence_item e WHERE "
    "e.kind != 'capture';"
    /* disk images whose file systems libtsk read (issue 15): their file systems, the content
     * bytes read from their files, and what stopped the reader */
    "CREATE TEMP TABLE item_img AS SELECT e.id AS item_id, (SELECT group_concat(DISTINCT fs) "
    "FROM disk_volume d WHERE d.item_id = e.id AND d.status = 'read') AS fs, (SELECT "
    "coalesce(sum(read_bytes), 0) FROM disk_file f WHERE f.item_id = e.id) AS read_bytes, "
    "(SELECT group_concat(detail, '; ') FROM anomaly a WHERE a.item_id = e.id AND a.kind LIKE "
    "'image.%') AS problem FROM evidence_item e WHERE EXISTS (SELECT 1 FROM disk_volume d WHERE "
    "d.item_id = e.id) OR EXISTS (SELECT 1 FROM anomaly a WHERE a.item_id = e.id AND a.kind "
    "LIKE 'image.%');"
    "CREATE TEMP TABLE item_log AS SELECT item_id, min(format) AS format, sum(bytes) AS bytes, "
    "sum(coalesce(flows_matched, 0) + coalesce(flows_created, 0)) AS flows, "
    "sum(coalesce(flows_matched, 0)) AS matched, sum(conn) AS conn, sum(dns) AS dns, "
    "sum(http) AS http, sum(xfer) AS xfer FROM "
    "log_source GROUP BY item_id;"
    "CREATE TEMP TABLE item_cut AS SELECT item_id, sum(role = 'blocked') AS blocked, "
    "sum(role = 'untimed' AND log_xfer_id IS NULL) AS untimed, sum(log_xfer_id IS NOT NULL AND "
    "role IN ('matched', 'created')) AS xplaced, sum(log_xfer_id IS NOT NULL AND role = "
    "'matched') AS xmatched, sum(log_xfer_id IS NOT NULL AND role = 'unaddressed') AS xnoaddr "
    "FROM flow_source GROUP BY item_id;"
    "INSERT INTO coverage SELECT e.id, CASE WHEN e.kind = 'capture' THEN 'capture' "
    "WHEN e.status IN ('error', 'skipped') OR t.sha256 IS NULL THEN 'unreadable' "
    "WHEN g.fs IS NOT NULL THEN 'image:' || g.fs "
    "WHEN lg.item_id IS NOT NULL THEN 'log:' || lg.format "
    "WHEN p.evidence_format IS NOT NULL THEN p.evidence_format "
    "WHEN p.format = 'container' AND EXISTS (SELECT 1 FROM object c WHERE c.parent_sha256 = "
    "t.sha256 AND c.encoding LIKE '%-text') THEN 'document' "
    "WHEN p.format = 'container' THEN 'archive' WHEN p.format = 'binary-strings' THEN "
    "'file:binary' ELSE 'file:' || coalesce(p.format, 'empty') END, "
    "CASE WHEN e.kind = 'capture' THEN e.status IN ('ok', 'truncated') "
    "WHEN g.fs IS NOT NULL THEN e.status = 'ok' "
    "WHEN lg.item_id IS NOT NULL THEN lg.conn + lg.dns + lg.http + coalesce(ct.xplaced, 0) > 0 "
    "ELSE e.status = 'ok' AND "
    "p.evidence_format IS NULL AND coalesce(p.format, '') != 'binary-strings' AND t.sha256 IS "
    "NOT NULL END, e.size, "
    "CASE WHEN e.kind = 'capture' AND e.status IN ('ok', 'truncated') THEN e.size "
    "WHEN g.fs IS NOT NULL THEN min(g.read_bytes, e.size) "
    "WHEN lg.item_id IS NOT NULL THEN lg.bytes "
    "WHEN e.kind != 'capture' AND e.status = 'ok' AND p.evidence_format IS NULL AND "
    "coalesce(p.format, '') != 'binary-strings' THEN e.size ELSE 0 END, "
    "coalesce((SELECT sum(size) FROM item_obj i WHERE i.item_id = e.id), 0), "
    "coalesce((SELECT sum(read_bytes) FROM item_obj i WHERE i.item_id = e.id), 0), "
    "coalesce((SELECT sum(size) FROM item_obj i WHERE i.item_id = e.id), 0), "
    "CASE WHEN e.status IN ('error', 'skipped') THEN coalesce(e.error, e.status) "
    "WHEN e.kind = 'capture' THEN NULL "
    "WHEN g.fs IS NOT NULL AND g.problem IS NOT NULL THEN 'disk image: its file systems were "
    "read through libtsk, but not whole: ' || g.problem "
    "WHEN g.fs IS NOT NULL THEN NULL "
    "WHEN p.evidence_format = 'image:ewf' THEN 'EnCase (E01) image: libtsk read no file system "
    "in it (' || coalesce(g.problem, 'no reason given') || '), so neither PHI nor files inside "
    "it can be seen' "
    "WHEN p.evidence_format LIKE 'image:%' THEN 'disk image: libtsk read no file system in it ("
    "' || coalesce(g.problem, 'no reason given') || '); only its printable runs were read for "
    "PHI and YARA saw its raw bytes' "
    "WHEN p.evidence_format = 'log:evtx' AND EXISTS (SELECT 1 FROM anomaly a WHERE a.item_id = "
    "e.id AND a.kind IN ('log.evtx_unreadable', 'log.evtx_reader', 'log.evtx_corrupt')) THEN "
    "'Windows event log, not read whole: ' || (SELECT group_concat(detail, '; ') FROM (SELECT "
    "a.detail FROM anomaly a WHERE a.item_id = e.id AND a.kind IN ('log.evtx_unreadable', "
    "'log.evtx_reader', 'log.evtx_corrupt') ORDER BY a.id)) || '; read before: ' || (SELECT "
    "count(*) FROM log_winevent w WHERE w.item_id = e.id) || ' event(s) (log_winevent) and ' || "
    "coalesce(lg.conn, 0) || ' connection(s)' "
    "WHEN p.evidence_format = 'log:evtx' AND coalesce(lg.conn, 0) = 0 THEN 'Windows event log: "
    "its ' || (SELECT count(*) FROM log_winevent w WHERE w.item_id = e.id) || ' event(s) "
    "(logons, object access, processes, script blocks) are stored (log_winevent) but not yet "
    "weighed by the heuristics and the verdict' "
    "WHEN p.evidence_format = 'log:nfcapd' AND coalesce(lg.conn, 0) = 0 THEN coalesce((SELECT detail FROM anomaly a WHERE "
    "a.item_id = e.id AND a.kind LIKE 'log.nfdump%' ORDER BY a.id LIMIT 1), 'nfcapd file: "
    "nfdump gave no flow') || '; its bytes were read for PHI only' "
    "WHEN lg.conn + lg.dns + lg.http + coalesce(ct.xplaced, 0) > 0 THEN 'log: ' || CASE WHEN "
    "lg.conn > 0 THEN lg.flows || "
    "' connection(s) weighed as flows (' || lg.matched || ' also seen in a capture or an "
    "earlier log'"
    " || CASE WHEN coalesce(ct.blocked, 0) > 0 THEN '; ' || ct.blocked || ' blocked by the "
    "firewall, not flows' ELSE '' END"
    " || CASE WHEN coalesce(ct.untimed, 0) > 0 THEN '; ' || ct.untimed || ' without a time, not "
    "placed' ELSE '' END || '); the content of its connections was not seen' ELSE '' END"
    " || CASE WHEN lg.dns > 0 THEN CASE WHEN lg.conn > 0 THEN '; its ' ELSE 'its ' END || "
    "lg.dns || ' DNS queries weighed by the DNS tunnel heuristic' ELSE '' END"
    " || CASE WHEN lg.http > 0 THEN CASE WHEN lg.conn + lg.dns > 0 THEN '; its ' ELSE 'its ' "
    "END || lg.http || ' HTTP requests weighed for PHI access (phi_access)' ELSE '' END"
    " || CASE WHEN lg.xfer > 0 THEN CASE WHEN lg.conn + lg.dns + lg.http > 0 THEN '; its ' "
    "ELSE 'its ' END || lg.xfer || ' file transfers: ' || coalesce(ct.xplaced, 0) || ' weighed "
    "as flows (' || coalesce(ct.xmatched, 0) || ' on a data connection already seen)' || CASE "
    "WHEN coalesce(ct.xnoaddr, 0) > 0 THEN ', ' || ct.xnoaddr || ' not placed: no control "
    "connection of their client names the server''s address' ELSE '' END ELSE '' END || '; its "
    "text was read for PHI' "
    "WHEN lg.item_id IS NOT NULL THEN 'log: its records are stored (log_conn, log_dns, "
    "log_http, log_xfer; every line accounted for in log_source) but it holds no connection, "
    "DNS query or HTTP request' || CASE WHEN lg.xfer > 0 THEN ', and none of its ' || lg.xfer "
    "|| ' file transfers could be placed as a flow (' || coalesce(ct.xnoaddr, 0) || ' without a "
    "control connection naming the server''s address; the others incomplete, deletions or "
    "untimed)' ELSE '' END || '; its text was read for PHI' "
    "WHEN p.evidence_format LIKE 'log:%' THEN 'log: its records are not turned into flows, "
    "DNS queries or transfers by this version; its text was read for PHI only' "
    "WHEN p.format = 'binary-strings' THEN 'no parser for its format: only its printable runs "
    "were read for PHI' END "
    "FROM evidence_item e LEFT JOIN item_top t ON t.item_id = e.id LEFT JOIN phi_object p ON "
    "p.object_sha256 = t.sha256 LEFT JOIN item_log lg ON lg.item_id = e.id LEFT JOIN item_cut "
    "ct ON ct.item_id = e.id LEFT JOIN item_img g ON g.item_id = e.id ORDER BY e.id;"
    "DROP TABLE item_obj; DROP TABLE item_top; DROP TABLE item_log; DROP TABLE item_cut; "
    "DROP TABLE item_img;";

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
static void logs_beside_captures(sqlite3 *h, const char *caps, const char *a, const char *b,
                                 long long wlogs, const char *what, char *window, size_t wl)
{
    int64_t lf0 = pt_db_int(h, "SELECT min(first_ts) FROM flow WHERE source != 'capture'");
    int64_t lf1 = pt_db_int(h, "SELECT max(last_ts) FROM flow WHERE source != 'capture'");
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

static void coverage_counts(sqlite3 *h, struct covn *n)
{
    n->caps = pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as = 'capture' AND "
                                  "examined");
    n->files = pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as != 'capture' "
                                   "AND examined_as NOT LIKE 'log:%' AND examined");
    /* logs whose connections became flows: weighed like captures, content unseen */
    n->wlogs = pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as LIKE 'log:%' "
                                   "AND examined");
    n->lflows = pt_db_int(h, "SELECT count(*) FROM flow_source WHERE role IN ('matched', "
                                    "'created')");
    n->ldns = pt_db_int(h, "SELECT coalesce(sum(dns), 0) FROM log_source");
    n->lhttp = pt_db_int(h, "SELECT coalesce(sum(http), 0) FROM log_source");
    n->images = pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as LIKE 'image:%' "
                             "AND NOT examined");
    n->logs = pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as LIKE 'log:%' "
                                  "AND NOT examined");
    n->binary =
        pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as = 'file:binary'");
    n->bad =
        pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as = 'unreadable' OR "
                     "(examined_as = 'capture' AND NOT examined)");
}

/* The coverage sentence: what was decoded, over which window, and what was not examined. */
pt_status pt_verdict_coverage(struct pt_verdict_ctx *x, char *err, size_t errlen)
{
    PT_TRY(pt_db_exec(x->h, coverage_sql, err, errlen));
    sqlite3 *h = x->h;
    struct covn n;
    coverage_counts(h, &n);
    long long caps = n.caps, files = n.files, wlogs = n.wlogs, lflows = n.lflows, ldns = n.ldns;
    long long images = n.images, logs = n.logs, binary = n.binary, bad = n.bad;
    char what[120]; /* what the logs gave the heuristics */
    weighed(what, sizeof what, lflows, ldns, n.lhttp);
    int64_t first =
        pt_db_int(h, "SELECT coalesce(min(first_ts), -1) FROM evidence_item WHERE kind = "
                     "'capture' AND first_ts IS NOT NULL");
    int64_t last = pt_db_int(h, "SELECT coalesce(max(last_ts), -1) FROM evidence_item WHERE kind = "
                                "'capture' AND last_ts IS NOT NULL");
    /* without captures: the span of the logs' line times, else of the files' modification
     * times (which date the copies, not the events, and are said to) */
    long long timed_logs = pt_db_int(h, "SELECT count(*) FROM evidence_item WHERE kind != "
                                        "'capture' AND time_source = 'log lines'");
    const char *from = caps > 0 && first >= 0 ? "captures" : "none";
    if (strcmp(from, "none") == 0) {
        first = last = -1;
    }
    if (caps == 0 && timed_logs > 0) {
        first = pt_db_int(h, "SELECT min(first_ts) FROM evidence_item WHERE kind != 'capture' "
                             "AND time_source = 'log lines'");
        last = pt_db_int(h, "SELECT max(last_ts) FROM evidence_item WHERE kind != 'capture' "
                            "AND time_source = 'log lines'");
        from = "log lines";
    } else if (caps == 0 && pt_db_int(h, "SELECT count(mtime) FROM evidence_item") > 0) {
        first = pt_db_int(h, "SELECT min(mtime) FROM evidence_item WHERE mtime IS NOT NULL");
        last = pt_db_int(h, "SELECT max(mtime) FROM evidence_item WHERE mtime IS NOT NULL");
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
        logs_beside_captures(h, part, a, b, wlogs, what, window, sizeof window);
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
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "INSERT INTO coverage_summary VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "coverage: %s", sqlite3_errmsg(h));
        return PT_EDB;
    }
    sqlite3_bind_text(st, 1, sentence, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, caps);
    sqlite3_bind_int64(st, 3, caps + files);
    sqlite3_bind_int64(st, 4, images + logs + binary + bad);
    if (first >= 0 && last >= 0) {
        sqlite3_bind_int64(st, 5, first);
        sqlite3_bind_int64(st, 6, last);
    }
    sqlite3_bind_text(st, 7, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, window, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, ne_text, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "coverage: %s", sqlite3_errmsg(h));
        return PT_EDB;
    }
    return PT_OK;
}

static const char limitations_sql[] =
    /* each capture's window, and the holes between capture windows (over 60 s) */
    "INSERT INTO limitation(kind, detail, value) SELECT 'capture_window', path || ': ' || "
    "strftime('%Y-%m-%dT%H:%M:%SZ', first_ts / 1000000, 'unixepoch') || ' to ' || "
    "strftime('%Y-%m-%dT%H:%M:%SZ', last_ts / 1000000, 'unixepoch'), (last_ts - first_ts) / 1e6 "
    "FROM evidence_item WHERE kind = 'capture' AND first_ts IS NOT NULL ORDER BY first_ts, id;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'capture_hole', 'no capture from ' || "
    "strftime('%Y-%m-%dT%H:%M:%SZ', prev_end / 1000000, 'unixepoch') || ' to ' || "
    "strftime('%Y-%m-%dT%H:%M:%SZ', first_ts / 1000000, 'unixepoch'), (first_ts - prev_end) / 1e6 "
    "FROM (SELECT first_ts, max(last_ts) OVER (ORDER BY first_ts ROWS BETWEEN UNBOUNDED "
    "PRECEDING AND 1 PRECEDING) AS prev_end FROM evidence_item WHERE kind = 'capture' AND "
    "first_ts IS NOT NULL) WHERE prev_end IS NOT NULL AND first_ts - prev_end > 60000000;"
    /* bytes the capture does not hold */
    "INSERT INTO limitation(kind, detail, value) SELECT 'bytes_not_captured', "
    "'TCP bytes sent but not in the capture (sequence-implied minus captured; stream gaps)', "
    "coalesce(sum(c_gap_bytes + s_gap_bytes), 0) FROM flow HAVING sum(c_gap_bytes + s_gap_bytes) "
    "> 0;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'outbound_bytes_not_captured', "
    "'bytes sent from inside to outside that the capture misses (sequence numbers show them)', "
    "sum(CASE WHEN class = 'outbound' THEN max(0, c_seq_bytes - c_payload_bytes) ELSE max(0, "
    "s_seq_bytes - s_payload_bytes) END) FROM flow WHERE class IN ('outbound', 'inbound') HAVING "
    "sum(CASE WHEN class = 'outbound' THEN max(0, c_seq_bytes - c_payload_bytes) ELSE max(0, "
    "s_seq_bytes - s_payload_bytes) END) > 0;"
    /* the encrypted share of outbound bytes */
    "INSERT INTO limitation(kind, detail, value) SELECT 'encrypted_outbound_share', "
    "printf('%.1f%% of the %lld bytes sent to outside addresses were encrypted (TLS, SSH) or of no "
    "protocol phitrace decodes (stored and scanned as raw streams; encrypted ones cannot be "
    "read)', 100.0 * enc / tot, tot), "
    "1.0 * enc / tot FROM (SELECT sum(CASE WHEN unread THEN b ELSE 0 END) AS enc, sum(b) AS tot "
    "FROM (SELECT unread, bytes_out AS b FROM crossing_flow)) WHERE tot > 0;"
    /* inputs that could not be read fully, caps that truncated data, objects not scanned */
    "INSERT INTO limitation(kind, detail, value) SELECT 'input_' || status, path || ': ' || "
    "coalesce(error, status), size FROM evidence_item WHERE status NOT IN ('ok', 'skipped') "
    "ORDER BY id;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'cap_' || kind, count(*) || ' time(s): ' "
    "|| min(detail), count(*) FROM anomaly WHERE kind IN (SELECT kind FROM anomaly_kind WHERE "
    "limitation IN ('cap', 'evict')) GROUP BY kind ORDER BY kind;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'memcap_evictions', (SELECT count(*) FROM "
    "flow WHERE end_reason = 'evicted') || ' flow(s) were ended early (at the memory cap over "
    "per-flow decoder state, --memcap, in ' || count(*) || ' burst(s), or at the flow table "
    "cap): what they had buffered was decoded or stored, but their later packets were decoded "
    "as new flows from the middle of a stream, so records and objects of them may be missing or "
    "split; data may be missing', count(*) FROM anomaly WHERE kind IN (SELECT kind FROM "
    "anomaly_kind WHERE limitation = 'evict') HAVING count(*) > 0;"
    /* members of an archive a harvested password opened (archive_password) were read */
    "INSERT INTO limitation(kind, detail, value) SELECT 'encrypted_archive_members', count(*) || "
    "' archive member(s) were encrypted and could not be read', count(*) FROM object WHERE "
    "encrypted = 1 AND coalesce(parent_sha256, '') NOT IN (SELECT archive_sha256 FROM "
    "archive_password WHERE opened = 1) HAVING count(*) > 0;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'encrypted_archive_closed', "
    "'encrypted archive ' || coalesce(archive_name, archive_sha256) || ' (' || archive_size || "
    "' bytes) stayed closed: ' || coalesce(note, 'no password opened it'), archive_size FROM "
    "archive_password WHERE opened = 0 ORDER BY id;"
    /* not a gap, but what the members' analysis rests on: the password's source */
    "INSERT INTO limitation(kind, detail, value) SELECT 'encrypted_archive_opened', "
    "'encrypted archive ' || coalesce(archive_name, archive_sha256) || ' was opened (' || "
    "method || ') with a password found in ' || source_path || ', line ' || line || ' (' || "
    "form || '); its ' || members || ' member object(s) were analyzed', members FROM "
    "archive_password WHERE opened = 1 ORDER BY id;"
    /* the counted kinds of anomalies.def (encrypted SMB3, objects not stored), in its order */
    "INSERT INTO limitation(kind, detail, value) SELECT v.row, count(*) || v.sentence, count(*) "
    "FROM anomaly a JOIN anomaly_kind v ON v.kind = a.kind WHERE v.limitation = 'counted' GROUP "
    "BY v.ord ORDER BY v.ord;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'partial_objects', count(*) || ' "
    "object(s) are partial (capture gaps); PHI in the missing bytes cannot be seen', count(*) "
    "FROM object WHERE complete = 0 HAVING count(*) > 0;"
    /* inputs not examined, and content read only in its printable runs */
    "INSERT INTO limitation(kind, detail, value) SELECT 'not_examined', e.path || ' (' || "
    "c.examined_as || '): ' || c.reason, c.bytes FROM coverage c JOIN evidence_item e ON e.id = "
    "c.item_id WHERE NOT c.examined AND c.reason IS NOT NULL ORDER BY c.item_id;"
    /* an EWF image whose media does not match its stored hashes (issue 15) */
    "INSERT INTO limitation(kind, detail, value) SELECT 'image_hash_mismatch', e.path || ': ' "
    "|| a.detail, e.size FROM anomaly a JOIN evidence_item e ON e.id = a.item_id WHERE a.kind = "
    "'input.ewf_hash_mismatch' ORDER BY a.id;"
    /* a disk image read in part: the reader crashed, hung or a walk stopped (issue 15) */
    "INSERT INTO limitation(kind, detail, value) SELECT 'image_read_incomplete', e.path || ' ("
    "' || c.examined_as || '): ' || c.reason, c.bytes FROM coverage c JOIN evidence_item e ON "
    "e.id = c.item_id WHERE c.examined AND c.examined_as LIKE 'image:%' AND c.reason IS NOT "
    "NULL ORDER BY c.item_id;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'binary_objects_strings_only', count(*) || "
    "' object(s) of formats no parser reads (' || sum(o.size) || ' bytes) were read for PHI "
    "only in their printable runs (ASCII and UTF-16LE); identifiers inside compressed or "
    "encoded parts of them cannot be seen', count(*) FROM phi_object p JOIN (SELECT sha256, "
    "max(size) AS size FROM object GROUP BY sha256) o ON o.sha256 = p.object_sha256 WHERE "
    "p.format = 'binary-strings' HAVING count(*) > 0;"
    /* how far the joining of records into individuals can be trusted */
    "INSERT INTO limitation(kind, detail, value) SELECT replace(kind, '.', '_'), detail, "
    "CAST(detail AS INTEGER) FROM anomaly WHERE kind IN (SELECT kind FROM anomaly_kind WHERE "
    "limitation = 'each') ORDER BY kind;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'names_in_free_text', 'personal names in "
    "free text are detected only after a patient-name label (\"Patient:\", \"Name:\"); there is "
    "no named-entity recognition; other names come from structured records (DICOM, HL7, "
    "FHIR, CDA, X12, CSV columns)', 0;";

pt_status pt_verdict_limitations(struct pt_verdict_ctx *x, struct pt_db *db, char *err,
                                 size_t errlen)
{
    PT_TRY(pt_db_anomaly_vocabulary(db));
    return pt_db_exec(x->h, limitations_sql, err, errlen);
}
