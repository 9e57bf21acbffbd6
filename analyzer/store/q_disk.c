/*
 * q_disk.c - data on disk by category, and the individuals each archive and folder holds
 * (q_disk.h; the definitions are those of schema.sql's object_category).
 *
 * Everything is SQL over the case's own tables, run by the PHI stage inside its transaction
 * after the entities are written. Containment is object.parent_sha256 (an archive member, a
 * document part) followed to any depth; folders are the directories of disk_file paths (the
 * part before the last '/': rtrim(path, replace(path, '/', '')) keeps it with its slash).
 */
#include "q_disk.h"

#include "db.h"
#include "db_handle.h"

/* Archive formats whose content is staged when it holds PHI (a document's parts are not). */
#define ARCHIVE_MIME                                                                           \
    "(mime IN ('application/zip', 'application/x-7z-compressed', 'application/x-rar', "      \
    "'application/vnd.rar', 'application/x-rar-compressed', 'application/gzip', "            \
    "'application/x-gzip', 'application/x-tar', 'application/x-bzip2', 'application/x-xz', " \
    "'application/zstd', 'application/x-lzip', 'application/x-compress'))"

static const char categorize_sql[] =
    "DELETE FROM object_category; DELETE FROM individual_category; DELETE FROM disk_holding;"
    "DELETE FROM individuals_by_state WHERE scope IN ('staged', 'present');"
    "DROP TABLE IF EXISTS temp.qd_link; DROP TABLE IF EXISTS temp.qd_desc;"
    "DROP TABLE IF EXISTS temp.qd_arch; DROP TABLE IF EXISTS temp.qd_seed;"
    "DROP TABLE IF EXISTS temp.qd_file; DROP TABLE IF EXISTS temp.qd_folder;"
    "DROP TABLE IF EXISTS temp.qd_staged;"
    /* objects at rest, and what contains what among them */
    "CREATE TEMP TABLE qd_link AS SELECT DISTINCT parent_sha256 AS p, sha256 AS c FROM object "
    "WHERE direction = 'at-rest' AND parent_sha256 IS NOT NULL AND parent_sha256 != sha256;"
    "CREATE INDEX temp.qd_link_p ON qd_link(p);"
    "CREATE TEMP TABLE qd_desc AS WITH RECURSIVE d(a, c) AS (SELECT p, c FROM qd_link UNION "
    "SELECT d.a, l.c FROM d JOIN qd_link l ON l.p = d.c) SELECT a, c FROM d;"
    "CREATE INDEX temp.qd_desc_a ON qd_desc(a);"
    "CREATE TEMP TABLE qd_arch AS SELECT DISTINCT sha256 FROM object WHERE direction = "
    "'at-rest' AND " ARCHIVE_MIME " AND sha256 IN (SELECT p FROM qd_link);"
    /* what makes data staged by itself: archives with PHI, password-protected archives, and
     * (for the folder it is in) an exfiltration tool's configuration or script */
    "CREATE TEMP TABLE qd_seed AS SELECT a AS sha256, 'archive with PHI' AS why, 1 AS data "
    "FROM (SELECT DISTINCT d.a FROM qd_desc d JOIN phi_object p ON " PHI_OBJECT_OF("p", "d.c")
    " WHERE "
    "p.phi_hits > 0 AND d.a IN (SELECT sha256 FROM qd_arch)) "
    "UNION ALL SELECT sha256, 'password-protected archive', 1 FROM (SELECT object_sha256 AS "
    "sha256 FROM yara_match WHERE category = 'staging' UNION SELECT archive_sha256 FROM "
    "archive_password UNION SELECT parent_sha256 FROM object WHERE encrypted = 1 AND "
    "parent_sha256 IS NOT NULL) WHERE sha256 IN (SELECT sha256 FROM object WHERE direction = "
    "'at-rest') "
    "UNION ALL SELECT DISTINCT object_sha256, 'exfiltration tool (' || rule || ')', 0 FROM "
    "yara_match WHERE category = 'exfiltration tool' AND object_sha256 IN (SELECT sha256 FROM "
    "object WHERE direction = 'at-rest');"
    /* the files of images, with their folder */
    "CREATE TEMP TABLE qd_file AS SELECT DISTINCT item_id, vol_offset, state, rtrim(path, "
    "replace(path, '/', '')) AS dir, sha256 FROM disk_file WHERE sha256 IS NOT NULL;"
    "CREATE TEMP TABLE qd_folder AS SELECT f.item_id, f.vol_offset, f.dir, min(s.why) AS why "
    "FROM qd_file f JOIN qd_seed s ON s.sha256 = f.sha256 WHERE f.dir != '' AND f.state != "
    "'carved' AND f.state != 'slack' AND f.dir NOT LIKE '$OrphanFiles/%' AND f.dir NOT LIKE "
    "'$CarvedFiles/%' "
    "GROUP BY 1, 2, 3;"
    "CREATE TEMP TABLE qd_staged AS WITH top(sha256, why) AS (SELECT sha256, why FROM qd_seed "
    "WHERE data UNION ALL SELECT f.sha256, 'in staging folder /' || rtrim(g.dir, '/') || ' (' || "
    "g.why || ')' FROM qd_file f JOIN qd_folder g ON g.item_id = f.item_id AND g.vol_offset = "
    "f.vol_offset AND g.dir = f.dir) SELECT sha256, min(why) AS why FROM (SELECT sha256, why "
    "FROM top UNION ALL SELECT d.c, 'member of a staged archive: ' || t.why FROM top t JOIN "
    "qd_desc d ON d.a = t.sha256) GROUP BY sha256;"
    /* every object at rest but an image's own bytes once a file system of it was read */
    "INSERT INTO object_category(sha256, staged, present, reason) SELECT o.sha256, s.sha256 IS "
    "NOT NULL, s.sha256 IS NULL, s.why FROM (SELECT DISTINCT sha256 FROM object WHERE direction "
    "= 'at-rest' AND sha256 NOT IN (SELECT e.sha256 FROM evidence_item e JOIN disk_volume v ON "
    "v.item_id = e.id WHERE v.status = 'read' AND e.sha256 IS NOT NULL)) o LEFT JOIN qd_staged "
    "s ON s.sha256 = o.sha256;"
    /* the individuals of each category */
    "INSERT INTO individual_category SELECT id, 'left' FROM patient_entity WHERE outbound = 1;"
    "INSERT OR IGNORE INTO individual_category SELECT DISTINCT r.entity_id, CASE WHEN c.staged "
    "THEN 'staged' ELSE 'present' END FROM phi_record r JOIN object_category c ON "
    PHI_OBJECT_OF("r", "c.sha256") " WHERE r.entity_id IS NOT NULL;"
    "INSERT INTO individuals_by_state SELECT c.category, coalesce(e.state, 'unknown'), "
    "count(*) FROM individual_category c JOIN patient_entity e ON e.id = c.entity_id WHERE "
    "e.phi = 1 AND c.category IN ('staged', 'present') GROUP BY 1, 2;"
    /* archives at rest: the individuals of their members at any depth */
    "INSERT INTO disk_holding SELECT 'archive', (SELECT min(item_id) FROM object_row WHERE sha = "
    "unhex(h.a)), NULL, coalesce((SELECT '/' || min(path) FROM disk_file WHERE sha256 = h.a), "
    "(SELECT min(name) FROM object_row WHERE sha = unhex(h.a)), ''), h.a, coalesce(c.staged, 0), "
    "c.reason, "
    "h.individuals, h.records, h.objects FROM (SELECT d.a, count(DISTINCT r.entity_id) AS "
    "individuals, count(DISTINCT r.id) AS records, count(DISTINCT r.object_sha256) AS objects "
    "FROM qd_desc d JOIN phi_record r ON " PHI_OBJECT_OF("r", "d.c") " JOIN patient_entity e ON "
    "e.id = "
    "r.entity_id WHERE e.phi = 1 AND d.a IN (SELECT sha256 FROM qd_arch) GROUP BY d.a) h LEFT "
    "JOIN object_category c ON c.sha256 = h.a;"
    /* folders of images: the individuals of every file under them (and of its members) */
    "INSERT INTO disk_holding WITH RECURSIVE up(item_id, vol_offset, dir, sha256) AS (SELECT "
    "item_id, vol_offset, dir, sha256 FROM qd_file UNION SELECT item_id, vol_offset, rtrim("
    "substr(dir, 1, length(dir) - 1), replace(substr(dir, 1, length(dir) - 1), '/', '')), "
    "sha256 FROM up WHERE dir != ''), under(item_id, vol_offset, dir, sha256) AS (SELECT * FROM "
    "up UNION SELECT u.item_id, u.vol_offset, u.dir, d.c FROM up u JOIN qd_desc d ON d.a = "
    "u.sha256) SELECT 'folder', u.item_id, u.vol_offset, '/' || rtrim(u.dir, '/'), NULL, "
    "g.dir IS NOT NULL, g.why, count(DISTINCT r.entity_id), count(DISTINCT r.id), "
    "count(DISTINCT r.object_sha256) FROM under u JOIN phi_record r ON "
    PHI_OBJECT_OF("r", "u.sha256") " JOIN patient_entity e ON e.id = r.entity_id LEFT JOIN qd_folder g ON g.item_id = "
    "u.item_id AND g.vol_offset = u.vol_offset AND g.dir = u.dir WHERE e.phi = 1 GROUP BY "
    "u.item_id, u.vol_offset, u.dir;"
    "DROP TABLE temp.qd_link; DROP TABLE temp.qd_desc; DROP TABLE temp.qd_arch;"
    "DROP TABLE temp.qd_seed; DROP TABLE temp.qd_file; DROP TABLE temp.qd_folder;"
    "DROP TABLE temp.qd_staged;";

pt_status pt_q_disk_categorize(struct pt_db *db, char *err, size_t errlen)
{
    return pt_db_exec(pt_db_handle(db), categorize_sql, err, errlen);
}

pt_status pt_q_disk_category_each(struct pt_db *db, void (*fn)(void *, const char *, unsigned),
                                  void *arg)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT sha256, staged, present FROM object_category ORDER BY "
                              "sha256", -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return PT_EDB;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sha = (const char *)sqlite3_column_text(st, 0);
        unsigned bits = (sqlite3_column_int(st, 1) ? PT_Q_CAT_STAGED : 0) |
                        (sqlite3_column_int(st, 2) ? PT_Q_CAT_PRESENT : 0);
        if (sha != NULL) {
            fn(arg, sha, bits);
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

#define CATEGORY(scope, name, meaning, k)                                                      \
    "SELECT " #k " AS k, '" name "' AS category, '" meaning "' AS meaning, estimate, lower, "  \
    "upper, deceased FROM individuals WHERE scope = '" scope "'"

const char pt_q_disk_categories_sql[] =
    "SELECT category, meaning, estimate, lower, upper, deceased FROM ("
    CATEGORY("outbound", "left", "in data that left the network (captures, logs)", 0)
    " UNION ALL " CATEGORY("staged", "staged", "in data staged on a host: archives with PHI, "
                           "password-protected archives, files in staging folders", 1)
    " UNION ALL " CATEGORY("present", "present", "in data merely present at rest (disk images, "
                           "files), not staged", 2) ") ORDER BY k";

const char pt_q_disk_holdings_sql[] =
    "SELECT kind, path, CASE staged WHEN 1 THEN 'yes' ELSE 'no' END AS staged, coalesce(reason, "
    "'') AS reason, individuals, records, objects FROM disk_holding ORDER BY individuals DESC, "
    "kind, path";

const char pt_q_disk_downloads_sql[] =
    "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', start_ts / 1000000, 'unixepoch') AS started, "
    "browser, url, target_path, received_bytes, total_bytes, state, source_path FROM "
    "browser_download ORDER BY start_ts, id";

const char pt_q_disk_recycle_sql[] =
    "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', deleted_ts / 1000000, 'unixepoch') AS deleted, "
    "original_path, size, path AS record_path, version FROM recycle_record ORDER BY "
    "deleted_ts, id";

const char pt_q_disk_summary_sql[] =
    "SELECT group_concat(category || ' ' || estimate || ' (bounds ' || lower || '-' || upper || "
    "')', '; ') FROM (" CATEGORY("outbound", "left", "", 0) " UNION ALL "
    CATEGORY("staged", "staged", "", 1) " UNION ALL " CATEGORY("present", "present", "", 2)
    " ORDER BY k)";

pt_status pt_q_disk_candidates(struct pt_db *db, uint64_t max_size,
                               void (*fn)(void *, const struct pt_q_disk_candidate *),
                               void *arg)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *st = NULL;
    /* LIKE is case-insensitive for ASCII; the caller checks the name exactly */
    if (sqlite3_prepare_v2(h, "SELECT o.sha256, coalesce((SELECT min(path) FROM disk_file d "
                              "WHERE d.sha256 = o.sha256), substr(min(o.name), 1 + (substr(min("
                              "o.name), 1, 1) = '/'))), min(o.item_id), max(o.size), "
                              "coalesce(b.pack, ''), coalesce(b.offset, 0) FROM object o LEFT "
                              "JOIN object_blob b ON b.sha256 = o.sha256 WHERE o.direction = "
                              "'at-rest' AND o.size > 0 AND o.size <= ?1 AND (o.name LIKE "
                              "'%$I%' OR o.name LIKE '%History' OR o.name LIKE "
                              "'%places.sqlite' OR o.name LIKE '%downloads.sqlite') GROUP BY "
                              "o.sha256 ORDER BY o.sha256",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return PT_EDB;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max_size);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sha = (const char *)sqlite3_column_text(st, 0);
        const char *path = (const char *)sqlite3_column_text(st, 1);
        struct pt_q_disk_candidate c = {
            .sha256 = sha, .path = path != NULL ? path : "",
            .pack = (const char *)sqlite3_column_text(st, 4),
            .item = (uint32_t)sqlite3_column_int64(st, 2),
            .size = (uint64_t)sqlite3_column_int64(st, 3),
            .pack_off = (uint64_t)sqlite3_column_int64(st, 5)};
        if (sha != NULL && c.pack != NULL) {
            fn(arg, &c);
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

static void bind_time(sqlite3_stmt *st, int i, int64_t v)
{
    if (v > 0) {
        sqlite3_bind_int64(st, i, v);
    }
}

static void bind_count(sqlite3_stmt *st, int i, int64_t v)
{
    if (v >= 0) {
        sqlite3_bind_int64(st, i, v);
    }
}

static pt_status step_once(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

pt_status pt_q_disk_download_put(struct pt_db *db, const struct pt_q_download_row *r)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "INSERT INTO browser_download(item_id, object_sha256, "
                              "source_path, browser, url, target_path, start_ts, end_ts, "
                              "received_bytes, total_bytes, state) VALUES (?1,?2,?3,?4,?5,?6,"
                              "?7,?8,?9,?10,?11)", -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return PT_EDB;
    }
    sqlite3_bind_int64(st, 1, r->item);
    sqlite3_bind_text(st, 2, r->sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->source_path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, r->browser, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, r->url, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, r->target, -1, SQLITE_TRANSIENT);
    bind_time(st, 7, r->start_us);
    bind_time(st, 8, r->end_us);
    bind_count(st, 9, r->received);
    bind_count(st, 10, r->total);
    sqlite3_bind_text(st, 11, r->state, -1, SQLITE_TRANSIENT);
    return step_once(st);
}

pt_status pt_q_disk_recycle_put(struct pt_db *db, const struct pt_q_recycle_row *r)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "INSERT INTO recycle_record(item_id, object_sha256, path, "
                              "version, original_path, size, deleted_ts) VALUES (?1,?2,?3,?4,"
                              "?5,?6,?7)", -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return PT_EDB;
    }
    sqlite3_bind_int64(st, 1, r->item);
    sqlite3_bind_text(st, 2, r->sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, (int)r->version);
    sqlite3_bind_text(st, 5, r->original_path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)r->size);
    bind_time(st, 7, r->deleted_us);
    return step_once(st);
}

pt_status pt_q_disk_anomaly(struct pt_db *db, uint32_t item, const char *kind, const char *detail)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "INSERT INTO anomaly(item_id, frame, offset, kind, detail) "
                              "VALUES (?1, NULL, 0, ?2, ?3)", -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return PT_EDB;
    }
    if (item != 0) {
        sqlite3_bind_int64(st, 1, item);
    }
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, detail, -1, SQLITE_TRANSIENT);
    return step_once(st);
}
