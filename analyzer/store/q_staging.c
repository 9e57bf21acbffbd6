/*
 * q_staging.c - staged on a host, then sent out by it (q_staging.h). The SQL is here, in the
 * open; the heuristic that writes the findings is verdict/heur_staging.c.
 */
#include "q_staging.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "db_handle.h"
#include "q_report.h"
#include "q_stmt.h"

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

static const char host_files_sql[] =
    "SELECT d.item_id, d.path, d.sha256, max(d.size), coalesce(b.pack, "
    "''), coalesce(b.offset, 0) FROM disk_file d LEFT JOIN object_blob "
    "b ON b.sha256 = d.sha256 WHERE d.kind = 'r' AND d.state = "
    "'allocated' AND d.complete = 1 AND d.attr IS NULL AND d.sha256 IS "
    "NOT NULL AND d.size > 0 AND d.size <= ?1 AND (lower(d.path) = "
    "'windows/system32/config/system' OR d.path LIKE 'etc/%' OR d.path "
    "LIKE 'var/lib/%') GROUP BY d.item_id, d.path, d.sha256 ORDER BY "
    "d.item_id, d.path, d.sha256";

pt_status pt_q_staging_host_files(struct pt_db *db, uint64_t max_size,
                                  void (*fn)(void *, const struct pt_q_host_file *), void *arg)
{
    struct pt_q *q;
    pt_status rc = pt_q_prepare(db, host_files_sql, &q);
    if (rc != PT_OK) {
        return rc;
    }
    pt_q_bind_int(q, 1, (int64_t)max_size);
    while (pt_q_step(q)) {
        struct pt_q_host_file f = {
            .item = (uint32_t)pt_q_int(q, 0), .path = pt_q_text(q, 1), .sha256 = pt_q_text(q, 2),
            .size = (uint64_t)pt_q_int(q, 3), .pack = pt_q_text(q, 4),
            .pack_off = (uint64_t)pt_q_int(q, 5)};
        fn(arg, &f);
    }
    rc = pt_q_done(q);
    pt_q_free(q);
    return rc;
}

static pt_status exec3(struct pt_db *db, const char *sql, uint32_t item, const char *a,
                       const char *b)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(pt_db_handle(db), sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return PT_EDB;
    }
    sqlite3_bind_int64(st, 1, item);
    sqlite3_bind_text(st, 2, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, b, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

pt_status pt_q_staging_inferred(struct pt_db *db, uint32_t item, const char *addr,
                                const char *origin)
{
    return exec3(db, "INSERT INTO image_host(item_id, addr, source, origin, used) VALUES (?1, ?2, "
                     "'inferred', ?3, NOT EXISTS (SELECT 1 FROM image_host WHERE item_id = ?1 AND "
                     "source = 'option')) ON CONFLICT (item_id, addr, source) DO UPDATE SET "
                     "origin = origin || '; ' || excluded.origin WHERE instr(origin, "
                     "excluded.origin) = 0",
                 item, addr, origin);
}

pt_status pt_q_staging_hostname(struct pt_db *db, uint32_t item, const char *name,
                                const char *origin)
{
    return exec3(db, "INSERT OR IGNORE INTO image_hostname(item_id, name, origin) VALUES (?1, ?2, "
                     "?3)",
                 item, name, origin);
}

static const char inferred_sql[] =
    "SELECT (SELECT group_concat(name || ' (' || origin || ')', ', ') FROM image_hostname "
    "WHERE item_id = ?1), (SELECT group_concat(addr || ' (' || origin || ')', ', ') FROM "
    "image_host WHERE item_id = ?1 AND source = 'inferred'), (SELECT count(*) FROM image_host "
    "WHERE item_id = ?1 AND source = 'inferred'), EXISTS (SELECT 1 FROM image_host WHERE "
    "item_id = ?1 AND source = 'option')";

pt_status pt_q_staging_inferred_note(struct pt_db *db, uint32_t item, char *out, size_t cap)
{
    struct pt_q *q;
    out[0] = '\0';
    pt_status rc = pt_q_prepare(db, inferred_sql, &q);
    if (rc != PT_OK) {
        return rc;
    }
    pt_q_bind_int(q, 1, item);
    bool row = pt_q_step(q);
    if (row && (!pt_q_is_null(q, 0) || pt_q_int(q, 2) > 0)) {
        int64_t n = pt_q_int(q, 2);
        bool option = pt_q_int(q, 3) != 0;
        snprintf(out, cap, "host inferred from the image's files: name %s; address %s%s",
                 !pt_q_is_null(q, 0) ? pt_q_text(q, 0) : "none found",
                 n > 0 ? pt_q_text(q, 1) : "none found",
                 n == 0 ? " (the staging join has no address for this image unless "
                          "--image-host gives one)"
                 : option ? " (not used: --image-host links this image)"
                 : n > 1  ? "; several candidate addresses: all kept, each used by the "
                            "staging join"
                          : "; used by the staging join");
    }
    rc = row ? PT_OK : pt_q_done(q);
    pt_q_free(q);
    return rc;
}

/* Staged files of linked images (names the walk gave, content read), the unread bytes their
 * host sent to each destination in flows that ended after the file's time (the bytes could
 * not have carried it before it existed), kept where the volume covers the file; then per
 * (host, destination) the files covered, largest first. A file's time is its modification
 * time, else its creation time; without either, every flow counts (the time order is then
 * not known, and staged_ts says 0). */
static const char uploads_sql[] =
    "WITH st AS (SELECT DISTINCT i.addr AS host, d.item_id, d.path, d.size, coalesce(nullif("
    "d.mtime, 0), nullif(d.crtime, 0), 0) AS ts, c.reason, i.source AS host_source, i.origin "
    "AS host_origin FROM image_host i JOIN disk_file d ON d.item_id = i.item_id JOIN "
    "object_category c ON c.sha256 = d.sha256 AND c.staged = 1 WHERE i.used = 1 AND d.kind = 'r' AND d.size > 0 AND d.state != 'slack'), "
    "pv AS (SELECT outside, count(DISTINCT inside) AS sources FROM crossing_flow GROUP BY 1), "
    "ups AS (SELECT s.host, f.outside AS destination, s.item_id, s.path, s.size, s.ts, s.reason, "
    "s.host_source, s.host_origin, sum(f.bytes_out) AS bytes, min(f.first_ts) AS first_ts, "
    "max(f.last_ts) AS last_ts, count(*) AS flows, group_concat(DISTINCT coalesce(f.app, CASE "
    "f.proto WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' ELSE 'ip' END)) AS protocols FROM st s JOIN crossing_flow f ON f.inside = "
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
    "json_object('image', min(g.image), 'host', g.host, 'host_source', min(g.host_source), "
    "'host_origin', min(g.host_origin), 'staged_files', json_group_array("
    "json_object('image', g.image, 'path', g.path, 'size', g.size, 'staged_ts', g.ts, 'reason', "
    "g.reason, 'bytes_out_after', g.bytes)), 'staged_files_count', count(*), 'staged_bytes', "
    "sum(g.size), 'bytes_out_after', max(g.bytes), 'flows', max(g.flows), "
    "'destination_sources', max(g.sources), 'likely_volume_ratio', ?1) FROM hit g GROUP BY "
    "g.host, g.destination ORDER BY g.host, g.destination";

pt_status pt_q_staging_uploads(struct pt_db *db, double ratio, double rare_max,
                               void (*fn)(void *, const struct pt_q_staged_upload *),
                               void *arg)
{
    struct pt_q *q;
    pt_status rc = pt_q_prepare(db, uploads_sql, &q);
    if (rc != PT_OK) {
        return rc;
    }
    pt_q_bind_real(q, 1, ratio);
    pt_q_bind_real(q, 2, rare_max);
    while (pt_q_step(q)) {
        struct pt_q_staged_upload u = {
            .host = pt_q_text(q, 0), .destination = pt_q_text(q, 1), .image = pt_q_text(q, 2),
            .largest_path = pt_q_text(q, 3), .largest_size = pt_q_int(q, 4),
            .staged_ts = pt_q_int(q, 5), .files = pt_q_int(q, 6), .staged_bytes = pt_q_int(q, 7),
            .bytes_out = pt_q_int(q, 8), .first_ts = pt_q_int(q, 9), .last_ts = pt_q_int(q, 10),
            .flows = pt_q_int(q, 11), .sources = pt_q_int(q, 12), .protocols = pt_q_text(q, 13),
            .detail = pt_q_text(q, 14)};
        fn(arg, &u);
    }
    rc = pt_q_done(q);
    pt_q_free(q);
    return rc;
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
