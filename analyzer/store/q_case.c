/*
 * q_case.c - the rows `verify` and `export-object` read (see q_case.h).
 */
#include "q_case.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "../analyze/app.h"
#include "db.h"
#include "db_handle.h"

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

bool pt_q_seal_row(struct pt_db *db, long long *seq, char *detail, size_t len)
{
    sqlite3_stmt *st = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT seq, detail FROM audit_log WHERE action = "
                           "'case_sealed' ORDER BY seq DESC LIMIT 1", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        snprintf(detail, len, "%s", col(st, 1));
        found = true;
    }
    sqlite3_finalize(st);
    return found;
}

bool pt_q_audit_last(struct pt_db *db, long long *seq, char hash[PT_SHA256_HEX])
{
    sqlite3_stmt *st = NULL;
    bool found = false;
    sqlite3_prepare_v2(pt_db_handle(db), "SELECT seq, row_hash FROM audit_log ORDER BY seq "
                       "DESC LIMIT 1", -1, &st, NULL);
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        snprintf(hash, PT_SHA256_HEX, "%s", col(st, 1));
        found = true;
    }
    sqlite3_finalize(st);
    return found;
}

bool pt_q_audit_head_is(struct pt_db *db, long long seq, const char *hash)
{
    sqlite3_stmt *st = NULL;
    bool ok = false;
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT row_hash = ?2 AND action = 'case_sealed' "
                           "FROM audit_log WHERE seq = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
        ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    }
    sqlite3_finalize(st);
    return ok;
}

pt_status pt_q_audit_after(struct pt_db *db, long long seq,
                           bool (*fn)(void *arg, const char *action), void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT action FROM audit_log WHERE seq > ?1", -1,
                           &st, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    sqlite3_bind_int64(st, 1, seq);
    while (sqlite3_step(st) == SQLITE_ROW && fn(arg, col(st, 0))) {
    }
    sqlite3_finalize(st);
    return PT_OK;
}

long long pt_q_unhashed_items(struct pt_db *db)
{
    sqlite3_stmt *st = NULL;
    long long n = 0;
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT count(*) FROM evidence_item WHERE sha256 "
                           "IS NULL AND status NOT IN ('skipped', 'error')", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

void pt_q_items(struct pt_db *db, bool (*fn)(void *arg, const struct pt_q_item *it), void *arg)
{
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(pt_db_handle(db), "SELECT i.id, i.path, i.size, i.sha256, i.status, "
                       "i.segments, CASE WHEN EXISTS (SELECT 1 FROM audit_log a WHERE "
                       "a.action = 'input_hashed' AND a.detail LIKE 'item=' || i.id || ' %') "
                       "THEN '' ELSE coalesce((SELECT detail FROM audit_log a WHERE a.action = "
                       "'range_hashed' AND a.detail LIKE 'item=' || i.id || ' %' LIMIT 1), '') "
                       "END FROM evidence_item i ORDER BY i.id", -1, &st, NULL);
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        struct pt_q_item it = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 2),
                               sqlite3_column_int64(st, 5), col(st, 1), col(st, 3), col(st, 4),
                               col(st, 6)};
        if (!fn(arg, &it)) {
            break;
        }
    }
    sqlite3_finalize(st);
}

long long pt_q_segment_count(struct pt_db *db, long long id)
{
    char q[120];
    snprintf(q, sizeof q, "SELECT count(*) FROM evidence_segment WHERE item_id = %lld", id);
    return pt_db_int(pt_db_handle(db), q);
}

void pt_q_segments(struct pt_db *db, long long id,
                   bool (*fn)(void *arg, const struct pt_q_segment *s), void *arg)
{
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(pt_db_handle(db),
                       "SELECT s.seq, s.path, s.size, coalesce(s.sha256, ''), (SELECT "
                       "group_concat(detail, '\n') FROM audit_log a WHERE a.action = "
                       "'segment_hashed' AND a.detail LIKE 'item=' || s.item_id || ' segment="
                       "' || s.seq || ' %') FROM evidence_segment s WHERE s.item_id = ?1 "
                       "ORDER BY s.seq", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, id);
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        struct pt_q_segment s = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 2),
                                 col(st, 1), col(st, 3), col(st, 4)};
        if (!fn(arg, &s)) {
            break;
        }
    }
    sqlite3_finalize(st);
}

void pt_q_item_audits(struct pt_db *db,
                      bool (*fn)(void *arg, long long id, const char *sha256, long long size,
                                 const char *audit),
                      void *arg)
{
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(pt_db_handle(db),
                       "SELECT i.id, i.sha256, i.size, coalesce((SELECT group_concat(detail, "
                       "'\n') FROM audit_log a WHERE a.action = 'input_hashed' AND a.detail "
                       "LIKE 'item=' || i.id || ' %'), (SELECT group_concat(detail, '\n') FROM "
                       "audit_log a WHERE a.action = 'range_hashed' AND a.detail LIKE 'item=' "
                       "|| i.id || ' %')) FROM evidence_item i ORDER BY i.id",
                       -1, &st, NULL);
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW &&
           fn(arg, sqlite3_column_int64(st, 0), col(st, 1), sqlite3_column_int64(st, 2),
              col(st, 3))) {
    }
    sqlite3_finalize(st);
}

void pt_q_orphans(struct pt_db *db, void (*fn)(void *arg, const char *table, long long rows),
                  void *arg)
{
    /* no FOREIGN KEY: flows are written last */
    static const char *const children[] = {"stream_gap", "stream_conflict", "object",
#define PT_RECORD(name, NAME, table, batch) #table,
#include "../analyze/records.def"
#undef PT_RECORD
    };
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        char sql[200];
        sqlite3_stmt *st = NULL;
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM %s WHERE flow_id IS NOT NULL AND flow_id NOT IN (SELECT id "
                 "FROM flow)", children[i]);
        if (sqlite3_prepare_v2(pt_db_handle(db), sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0) {
            fn(arg, children[i], sqlite3_column_int64(st, 0));
        }
        sqlite3_finalize(st);
    }
}

/* An object without an object_blob row: its file, or, once the keep stage ran (the manifest's
 * keep_objects), not kept ('-', PT_OBJ_NOT_KEPT). */
#define NOT_KEPT "CASE WHEN EXISTS (SELECT 1 FROM run_manifest WHERE key = 'keep_objects') " \
                 "THEN '-' ELSE '' END"

void pt_q_stored_objects(struct pt_db *db,
                         bool (*fn)(void *arg, const char *sha256, const char *pack,
                                    uint64_t off, uint64_t size),
                         void *arg)
{
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(pt_db_handle(db), "SELECT DISTINCT o.sha256, coalesce(b.pack, " NOT_KEPT
                       "), b.offset, b.size FROM object o LEFT JOIN object_blob b ON b.sha256 = "
                       "o.sha256 ORDER BY o.sha256", -1, &st, NULL);
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW &&
           fn(arg, col(st, 0), col(st, 1), (uint64_t)sqlite3_column_int64(st, 2),
              (uint64_t)sqlite3_column_int64(st, 3))) {
    }
    sqlite3_finalize(st);
}

bool pt_q_object_place(struct pt_db *db, const char *sha256, char *pack, size_t packlen,
                       uint64_t *off, uint64_t *size)
{
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(pt_db_handle(db), "SELECT EXISTS (SELECT 1 FROM object_row WHERE sha = "
                       "?2), coalesce(b.pack, " NOT_KEPT "), b.offset, b.size FROM (SELECT 1) "
                       "LEFT JOIN object_blob b ON b.sha256 = ?1", -1, &st, NULL);
    sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
    bool found = st != NULL && pt_db_bind_sha(st, 2, sha256) &&
                 sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
    if (found) {
        snprintf(pack, packlen, "%s", col(st, 1));
        *off = (uint64_t)sqlite3_column_int64(st, 2);
        *size = (uint64_t)sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    return found;
}

bool pt_q_object_origin(struct pt_db *db, const char *sha256, struct pt_q_origin *o)
{
    sqlite3_stmt *st = NULL;
    memset(o, 0, sizeof *o);
    sqlite3_prepare_v2(pt_db_handle(db), "SELECT coalesce(o.item_id, 0), o.depth, "
                       "coalesce(e.path, ''), coalesce(e.sha256, ''), coalesce(o.flow_id, 0), "
                       "coalesce(o.stream_dir, ''), o.stream_off, coalesce(o.frame, 0), "
                       "coalesce(o.parent_sha256, '') FROM object o LEFT JOIN evidence_item e ON "
                       "e.id = o.item_id WHERE o.id = (SELECT min(id) FROM object_row WHERE sha = "
                       "?1)", -1, &st, NULL);
    bool found = st != NULL && pt_db_bind_sha(st, 1, sha256) && sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        o->item = (uint32_t)sqlite3_column_int64(st, 0);
        o->depth = (uint32_t)sqlite3_column_int64(st, 1);
        snprintf(o->path, sizeof o->path, "%s", col(st, 2));
        snprintf(o->item_sha256, sizeof o->item_sha256, "%s", col(st, 3));
        o->flow_id = sqlite3_column_int64(st, 4);
        snprintf(o->stream_dir, sizeof o->stream_dir, "%s", col(st, 5));
        o->stream_off = (uint64_t)sqlite3_column_int64(st, 6);
        o->frame = (uint64_t)sqlite3_column_int64(st, 7);
        snprintf(o->parent, sizeof o->parent, "%s", col(st, 8));
    }
    sqlite3_finalize(st);
    return found;
}

bool pt_q_manifest_value(struct pt_db *db, const char *key, char *out, size_t len)
{
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(pt_db_handle(db), "SELECT value FROM run_manifest WHERE key = ?1", -1,
                       &st, NULL);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    bool found = st != NULL && sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(out, len, "%s", col(st, 0));
    }
    sqlite3_finalize(st);
    return found;
}
