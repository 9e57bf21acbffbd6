/* summary.c - text summary from the evidence database (see summary.h). */
#include "summary.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/limits.h"
#include "../store/q_disk.h"

static const char *txt(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

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

static pt_status query(struct pt_db *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(pt_db_handle(db), sql, -1, st, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

/* Bytes an inside host sent: for outbound flows the client's, for inbound the server's.
 * Sequence-implied bytes win over header-announced ones when the capture missed segments. */
#define OUT_BYTES                                                                                  \
    "CASE WHEN class='outbound' THEN max(c_payload_bytes, c_seq_bytes) "                           \
    "WHEN class='inbound' THEN max(s_payload_bytes, s_seq_bytes) ELSE 0 END"

pt_status pt_summary_render(struct pt_db *db, FILE *out)
{
    sqlite3_stmt *st = NULL;
    char a[40], b[40];
    int rows = 0;

    fprintf(out, "phitrace summary\n================\n\n");
    /* The completion record says whether the case is whole; an incomplete one says so first. */
    if (query(db, "SELECT coalesce(substr(detail, instr(detail, ' reason=') + 8), 'no reason "
                  "recorded') FROM audit_log WHERE action = 'case_sealed' AND detail NOT LIKE "
                  "'status=complete %' ORDER BY seq DESC LIMIT 1", &st) == PT_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            fprintf(out, "*** INCOMPLETE CASE: %s ***\n\n", txt(st, 0));
        }
        sqlite3_finalize(st);
    }
    /* The verdict, when the verdict stage ran, and the individuals. */
    if (query(db, "SELECT v.verdict, v.bytes_out, (SELECT count(*) FROM exfil_event), "
                  "coalesce((SELECT estimate || ' (bounds ' || lower || '-' || upper || ')' FROM "
                  "individuals WHERE scope = 'outbound'), '0'), coalesce((SELECT estimate || "
                  "' (bounds ' || lower || '-' || upper || ')' FROM individuals WHERE scope = "
                  "'all'), '0') FROM verdict v WHERE v.scope = 'overall'", &st) == PT_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            fprintf(out, "Verdict: %s (did patient data leave the network?); %lld event(s), "
                         "%lld bytes out in them\n"
                         "Individuals in data that left: %s; in all evidence: %s\n\n",
                    txt(st, 0), sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 1),
                    txt(st, 3), txt(st, 4));
        }
        sqlite3_finalize(st);
    }
    /* Individuals per category of data (left, staged, present: store/q_disk.h). */
    if (query(db, pt_q_disk_summary_sql, &st) == PT_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            fprintf(out, "Individuals per category (a person in several is counted in each): "
                         "%s\n\n", txt(st, 0));
        }
        sqlite3_finalize(st);
    }
    /* The one-line answer to "how much left the network, to where". */
    PT_TRY(query(db,
                 "SELECT count(DISTINCT inside), count(DISTINCT outside), count(*), "
                 "coalesce(sum(bytes_out), 0) FROM crossing_flow",
                 &st));
    if (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(out,
                "Result: %lld inside host(s) sent %lld payload bytes to %lld outside address(es) "
                "in %lld flow(s)\n\n",
                sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 3),
                sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
    }
    sqlite3_finalize(st);
    PT_TRY(query(db,
                 "SELECT count(*), sum(packets), min(first_ts), max(last_ts), "
                 "sum(status NOT IN ('ok','skipped')), sum(status='skipped') FROM evidence_item",
                 &st));
    if (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(out, "Evidence: %lld input(s), %lld packet(s); %lld failed or partial, %lld skipped\n",
                sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5));
        if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
            fmt_ts(sqlite3_column_int64(st, 2), a, sizeof a);
            fmt_ts(sqlite3_column_int64(st, 3), b, sizeof b);
            fprintf(out, "Capture window: %s to %s\n", a, b);
        }
    }
    sqlite3_finalize(st);

    fprintf(out, "\nFlows by class (bytes are frame bytes; 'sent out' is payload an inside host "
                 "sent to the outside)\n");
    fprintf(out, "  %-9s %10s %12s %16s %16s\n", "class", "flows", "packets", "bytes", "sent out");
    PT_TRY(query(db,
                 "SELECT class, count(*), sum(c_pkts + s_pkts), sum(c_frame_bytes + s_frame_bytes), "
                 "sum(" OUT_BYTES ") FROM flow GROUP BY class ORDER BY class",
                 &st));
    while (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(out, "  %-9s %10lld %12lld %16lld %16lld\n", txt(st, 0), sqlite3_column_int64(st, 1),
                sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                sqlite3_column_int64(st, 4));
    }
    sqlite3_finalize(st);

    fprintf(out, "\nTop outbound talkers (inside host -> outside destination, by payload bytes "
                 "sent out)\n");
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT inside, outside, count(*), sum(bytes_out) AS sent, min(first_ts), "
             "max(last_ts), coalesce((SELECT label FROM destination_label WHERE destination = "
             "outside), '') FROM crossing_flow GROUP BY inside, outside "
             "ORDER BY sent DESC, inside, outside LIMIT %d",
             PT_SUMMARY_TOP);
    PT_TRY(query(db, sql, &st));
    rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        fmt_ts(sqlite3_column_int64(st, 4), a, sizeof a);
        fmt_ts(sqlite3_column_int64(st, 5), b, sizeof b);
        fprintf(out, "  %-39s -> %-39s %6lld flow(s) %14lld bytes  %s .. %s\n", txt(st, 0),
                txt(st, 1), sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3), a, b);
        if (txt(st, 6)[0] != '\0') {
            fprintf(out, "  %-39s    named by: %s\n", "", txt(st, 6));
        }
        rows++;
    }
    if (rows == 0) {
        fprintf(out, "  none: no flow crossed the home-net boundary\n");
    }
    sqlite3_finalize(st);

    fprintf(out, "\nApplication layer\n");
    static const struct {
        const char *label, *sql;
    } counts[] = {
        {"HTTP transactions", "SELECT count(*) FROM http_txn"},
        {"DNS messages", "SELECT count(*) FROM dns_query"},
        {"TLS sessions", "SELECT count(*) FROM tls_session"},
        {"HL7 v2 messages", "SELECT count(*) FROM hl7_message"},
        {"FTP transfers", "SELECT count(*) FROM ftp_transfer"},
        {"SMTP messages", "SELECT count(*) FROM smtp_message"},
        {"SMB files opened", "SELECT count(*) FROM smb_file"},
        {"SSH sessions", "SELECT count(*) FROM ssh_session"},
        {"DICOM associations", "SELECT count(*) FROM dicom_assoc"},
        {"DICOM data sets (C-STORE and others)",
         "SELECT count(*) FROM dicom_message WHERE sha256 IS NOT NULL"},
        {"TCP stream gaps (bytes not captured)", "SELECT coalesce(sum(length), 0) FROM stream_gap"},
        {"TCP retransmission conflicts", "SELECT count(*) FROM stream_conflict"},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        PT_TRY(query(db, counts[i].sql, &st));
        if (sqlite3_step(st) == SQLITE_ROW) {
            fprintf(out, "  %-40s %10lld\n", counts[i].label, sqlite3_column_int64(st, 0));
        }
        sqlite3_finalize(st);
    }

    fprintf(out, "\nObjects (files and messages transferred, stored under objects/)\n");
    PT_TRY(query(db,
                 "SELECT direction, protocol, count(*), sum(size), sum(complete = 0) FROM object "
                 "GROUP BY direction, protocol ORDER BY direction, protocol",
                 &st));
    rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(out, "  %-9s %-6s %8lld object(s) %14lld bytes  %lld partial\n", txt(st, 0),
                txt(st, 1), sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                sqlite3_column_int64(st, 4));
        rows++;
    }
    if (rows == 0) {
        fprintf(out, "  none\n");
    }
    sqlite3_finalize(st);

    fprintf(out, "\nAnomalies by kind\n");
    PT_TRY(query(db, "SELECT kind, count(*) FROM anomaly GROUP BY kind ORDER BY kind", &st));
    rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(out, "  %-40s %10lld\n", txt(st, 0), sqlite3_column_int64(st, 1));
        rows++;
    }
    if (rows == 0) {
        fprintf(out, "  none\n");
    }
    sqlite3_finalize(st);

    fprintf(out, "\nInputs not fully analyzed\n");
    PT_TRY(query(db,
                 "SELECT path, status, coalesce(error, '') FROM evidence_item "
                 "WHERE status <> 'ok' ORDER BY id",
                 &st));
    rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(out, "  [%s] %s: %s\n", txt(st, 1), txt(st, 0), txt(st, 2));
        rows++;
    }
    if (rows == 0) {
        fprintf(out, "  none\n");
    }
    sqlite3_finalize(st);

    PT_TRY(query(db, "SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1", &st));
    if (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(out, "\nAudit chain head: row %lld, %s\n", sqlite3_column_int64(st, 0), txt(st, 1));
    }
    sqlite3_finalize(st);
    return PT_OK;
}
