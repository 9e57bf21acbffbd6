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
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "../store/db.h"
#include "verdict_int.h"

/* The PHI hits on lines of web/proxy logs, one row per hit: a request for a status below
 * 400 (or none given) names what it returned. */
static const char hits_sql[] =
    "CREATE TEMP TABLE acc_hit AS SELECT h.id AS hid, h.item_id, h.line, h.ts, h.client_addr AS "
    "client, coalesce(h.server_addr, '') AS server, coalesce(h.host, '') AS host, CASE WHEN "
    "coalesce(h.host, '') != '' THEN h.host WHEN coalesce(h.server_addr, '') != '' THEN "
    "h.server_addr ELSE 'the server of ' || (SELECT path FROM log_source WHERE item_id = "
    "h.item_id ORDER BY rowid LIMIT 1) END AS srv, "
    "coalesce(h.method, '') AS method, h.status, coalesce(h.resp_bytes, 0) AS resp, h.source, "
    "p.id AS pid, p.type, r.entity_id FROM log_http h "
    "JOIN (SELECT item_id, sum(bytes) AS bytes FROM log_source GROUP BY item_id) ls ON "
    "ls.item_id = h.item_id "
    "JOIN (SELECT DISTINCT item_id, sha256, size FROM object WHERE direction = 'at-rest') o ON "
    "o.item_id = h.item_id AND o.size = ls.bytes "
    "JOIN phi_hit p ON p.object_sha256 = o.sha256 AND p.offset >= h.offset AND "
    "p.offset < h.offset + h.length "
    "LEFT JOIN phi_record r ON r.id = p.record_id "
    "WHERE h.client_addr IS NOT NULL AND h.client_addr != '' AND "
    "(h.status IS NULL OR h.status < 400);"
    "INSERT INTO phi_access(item_id, line, ts, client, server, host, method, status, "
    "resp_bytes, source, phi_types, hits, individuals) SELECT item_id, line, ts, client, "
    "server, host, method, status, resp, source, (SELECT group_concat(type) FROM (SELECT "
    "DISTINCT b.type FROM acc_hit b WHERE b.hid = a.hid ORDER BY 1)), count(DISTINCT pid), "
    "count(DISTINCT entity_id) FROM acc_hit a GROUP BY hid ORDER BY item_id, line;";

/* One finding per client and server; individuals counted over all its lines (not summed). */
static const char pairs_sql[] =
    "SELECT a.client, a.srv, a.requests, a.bytes, a.first, a.last, coalesce(i.people, 0), "
    "a.sources, a.item, a.l1, a.l2, a.ids, coalesce(t.types, '') FROM (SELECT p.client, s.srv, "
    "count(*) AS requests, sum(p.resp_bytes) AS bytes, min(p.ts) AS first, max(p.ts) AS last, "
    "group_concat(DISTINCT p.source) AS sources, min(p.item_id) AS item, min(p.line) AS l1, "
    "max(p.line) AS l2, json_group_array(p.id) AS ids FROM phi_access p JOIN (SELECT DISTINCT "
    "item_id, line, srv FROM acc_hit) s ON s.item_id = p.item_id AND s.line = p.line GROUP BY "
    "1, 2) a LEFT JOIN (SELECT client, srv, count(DISTINCT entity_id) AS "
    "people FROM acc_hit GROUP BY 1, 2) i ON i.client = a.client AND i.srv = a.srv LEFT JOIN "
    "(SELECT client, srv, group_concat(type) AS types FROM (SELECT DISTINCT client, srv, type "
    "FROM acc_hit ORDER BY 1, 2, 3) GROUP BY 1, 2) t ON t.client = a.client AND t.srv = a.srv "
    "ORDER BY 1, 2";

void pt_heur_phi_access(struct pt_verdict_ctx *x)
{
    char err[256];
    if (pt_db_exec(x->h, hits_sql, err, sizeof err) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, pairs_sql, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && x->rc == PT_OK) {
        int64_t requests = sqlite3_column_int64(st, 2);
        int64_t bytes = sqlite3_column_int64(st, 3);
        int64_t people = sqlite3_column_int64(st, 6);
        char sum[640], det[512], hb[32];
        human((double)bytes, hb, sizeof hb);
        snprintf(sum, sizeof sum,
                 "PHI access in logs: %s requested records naming %lld individual(s) from %s "
                 "(%lld request(s) returning %s; %s; from %s, item %lld lines %lld-%lld)",
                 col(st, 0), (long long)people, col(st, 1), (long long)requests, hb, col(st, 12),
                 col(st, 7), (long long)sqlite3_column_int64(st, 8),
                 (long long)sqlite3_column_int64(st, 9), (long long)sqlite3_column_int64(st, 10));
        snprintf(det, sizeof det,
                 "{\"requests\":%lld,\"individuals\":%lld,\"resp_bytes\":%lld,"
                 "\"phi_types\":\"%s\",\"sources\":\"%s\"}",
                 (long long)requests, (long long)people, (long long)bytes, col(st, 12),
                 col(st, 7));
        char *ev = sqlite3_mprintf("{\"phi_access\":%s}", col(st, 11));
        if (ev == NULL) {
            x->rc = PT_ENOMEM;
            break;
        }
        double score = people >= 10 ? 0.6 : 0.45;
        pt_verdict_finding(x, PT_HEUR_PHI_ACCESS, col(st, 0), col(st, 1), "http",
                           sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5), 0, score, sum,
                           det, ev);
        sqlite3_free(ev);
    }
    sqlite3_finalize(st);
    if (x->rc == PT_OK && pt_db_exec(x->h, "DROP TABLE acc_hit", err, sizeof err) != PT_OK) {
        x->rc = PT_EDB;
    }
}
