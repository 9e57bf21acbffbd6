/*
 * q_staging.c - staged on a host, then sent out by it (q_staging.h). The SQL is here, in the
 * open; the heuristic that writes the findings is verdict/heur_staging.c.
 */
#include "q_staging.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "db_handle.h"

pt_status pt_q_staging_link(struct pt_db *db, const char *image, const char *addr,
                            int *matched)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *st = NULL;
    *matched = 0;
    if (sqlite3_prepare_v2(h, "INSERT OR IGNORE INTO image_host(item_id, addr, source) SELECT "
                              "id, ?2, 'option' FROM evidence_item WHERE path = ?1 OR (length("
                              "path) > length(?1) AND substr(path, -length(?1) - 1) = '/' || ?1)",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return PT_EDB;
    }
    sqlite3_bind_text(st, 1, image, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, addr, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        return PT_EDB;
    }
    if (sqlite3_prepare_v2(h, "SELECT count(*) FROM image_host i JOIN evidence_item e ON e.id = "
                              "i.item_id WHERE i.addr = ?2 AND (e.path = ?1 OR (length(e.path) > "
                              "length(?1) AND substr(e.path, -length(?1) - 1) = '/' || ?1))",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return PT_EDB;
    }
    sqlite3_bind_text(st, 1, image, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, addr, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *matched = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return PT_OK;
}

/* Staged files of linked images (names the walk gave, content read), the unread bytes their
 * host sent to each destination in flows that ended after the file's time (the bytes could
 * not have carried it before it existed), kept where the volume covers the file; then per
 * (host, destination) the files covered, largest first. A file's time is its modification
 * time, else its creation time; without either, every flow counts (the time order is then
 * not known, and staged_ts says 0). */
static const char uploads_sql[] =
    "WITH st AS (SELECT DISTINCT i.addr AS host, d.item_id, d.path, d.size, coalesce(nullif("
    "d.mtime, 0), nullif(d.crtime, 0), 0) AS ts, c.reason FROM image_host i JOIN disk_file d ON "
    "d.item_id = i.item_id JOIN object_category c ON c.sha256 = d.sha256 AND c.staged = 1 WHERE "
    "d.kind = 'r' AND d.size > 0 AND d.state != 'slack'), "
    "pv AS (SELECT outside, count(DISTINCT inside) AS sources FROM crossing_flow GROUP BY 1), "
    "ups AS (SELECT s.host, f.outside AS destination, s.item_id, s.path, s.size, s.ts, s.reason, "
    "sum(f.bytes_out) AS bytes, min(f.first_ts) AS first_ts, max(f.last_ts) AS last_ts, count(*) "
    "AS flows, group_concat(DISTINCT coalesce(f.app, CASE f.proto WHEN 6 THEN 'tcp' WHEN 17 "
    "THEN 'udp' ELSE 'ip' END)) AS protocols FROM st s JOIN crossing_flow f ON f.inside = "
    "s.host AND f.unread AND f.last_ts >= s.ts GROUP BY s.host, f.outside, s.item_id, s.path), "
    "hit AS (SELECT u.*, pv.sources, e.path AS image FROM ups u JOIN pv ON pv.outside = "
    "u.destination JOIN evidence_item e ON e.id = u.item_id WHERE u.bytes >= ?1 * u.size AND "
    "(pv.sources <= ?2 OR EXISTS (SELECT 1 FROM finding n WHERE n.source = u.host AND "
    "n.destination = u.destination AND n.heuristic IN ('cloud_storage', 'beacon', "
    "'dns_tunnel', 'icmp_tunnel'))) ORDER BY u.host, u.destination, u.size DESC, u.path) "
    "SELECT g.host, g.destination, min(g.image), (SELECT path FROM hit x WHERE x.host = "
    "g.host AND x.destination = g.destination ORDER BY x.size DESC, x.path LIMIT 1), "
    "max(g.size), (SELECT ts FROM hit x WHERE x.host = g.host AND x.destination = "
    "g.destination ORDER BY x.size DESC, x.path LIMIT 1), count(*), sum(g.size), max(g.bytes), "
    "min(g.first_ts), max(g.last_ts), max(g.flows), max(g.sources), (SELECT protocols FROM hit "
    "x WHERE x.host = g.host AND x.destination = g.destination ORDER BY x.bytes DESC LIMIT 1), "
    "json_object('image', min(g.image), 'host', g.host, 'staged_files', json_group_array("
    "json_object('image', g.image, 'path', g.path, 'size', g.size, 'staged_ts', g.ts, 'reason', "
    "g.reason, 'bytes_out_after', g.bytes)), 'staged_files_count', count(*), 'staged_bytes', "
    "sum(g.size), 'bytes_out_after', max(g.bytes), 'flows', max(g.flows), "
    "'destination_sources', max(g.sources), 'likely_volume_ratio', ?1) FROM hit g GROUP BY "
    "g.host, g.destination ORDER BY g.host, g.destination";

static const char *txt(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t != NULL ? (const char *)t : "";
}

pt_status pt_q_staging_uploads(struct pt_db *db, double ratio, double rare_max,
                               void (*fn)(void *, const struct pt_q_staged_upload *),
                               void *arg)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, uploads_sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return PT_EDB;
    }
    sqlite3_bind_double(st, 1, ratio);
    sqlite3_bind_double(st, 2, rare_max);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct pt_q_staged_upload u = {
            .host = txt(st, 0), .destination = txt(st, 1), .image = txt(st, 2),
            .largest_path = txt(st, 3), .largest_size = sqlite3_column_int64(st, 4),
            .staged_ts = sqlite3_column_int64(st, 5), .files = sqlite3_column_int64(st, 6),
            .staged_bytes = sqlite3_column_int64(st, 7),
            .bytes_out = sqlite3_column_int64(st, 8), .first_ts = sqlite3_column_int64(st, 9),
            .last_ts = sqlite3_column_int64(st, 10), .flows = sqlite3_column_int64(st, 11),
            .sources = sqlite3_column_int64(st, 12), .protocols = txt(st, 13),
            .detail = txt(st, 14)};
        fn(arg, &u);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

static const char likely_sql[] =
    "UPDATE exfil_event SET verdict = 'likely', reasons = json_set(reasons, '$.disk_staged', "
    "(SELECT json_group_array(n.id) FROM json_each(exfil_event.reasons, '$.findings') k JOIN "
    "finding n ON n.id = k.value WHERE n.heuristic = 'staged_upload')) WHERE verdict = "
    "'possible' AND EXISTS (SELECT 1 FROM json_each(exfil_event.reasons, '$.findings') k JOIN "
    "finding n ON n.id = k.value WHERE n.heuristic = 'staged_upload');"
    "UPDATE verdict SET verdict = 'likely' WHERE verdict = 'possible' AND ((scope = "
    "'destination' AND subject IN (SELECT destination FROM exfil_event WHERE verdict = "
    "'likely')) OR (scope = 'overall' AND EXISTS (SELECT 1 FROM exfil_event WHERE verdict = "
    "'likely')));";

pt_status pt_q_staging_likely(struct pt_db *db, char *err, size_t errlen)
{
    return pt_db_exec(pt_db_handle(db), likely_sql, err, errlen);
}
