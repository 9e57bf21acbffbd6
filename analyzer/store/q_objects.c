/*
 * q_objects.c - stored objects for the stages after capture (see q_objects.h).
 */
#include "q_objects.h"

#include <sqlite3.h>
#include <stddef.h>

#include "db_handle.h"

static const char *ctext(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

pt_status pt_q_text_objects(struct pt_db *db, uint64_t max,
                            bool (*fn)(void *arg, const struct pt_q_text_object *o), void *arg)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT o.sha256, coalesce(o.name, ''), coalesce(b.pack, ''), "
                      "coalesce(b.offset, 0), o.size FROM object o LEFT JOIN object_blob b ON "
                      "b.sha256 = o.sha256 WHERE o.mime LIKE 'text/%' AND o.size BETWEEN 1 AND "
                      "?1 AND o.encrypted = 0 GROUP BY o.sha256 ORDER BY min(o.id)";
    if (sqlite3_prepare_v2(pt_db_handle(db), sql, -1, &st, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct pt_q_text_object o = {ctext(st, 0), ctext(st, 1), ctext(st, 2),
                                     (uint64_t)sqlite3_column_int64(st, 3),
                                     (uint64_t)sqlite3_column_int64(st, 4)};
        if (!fn(arg, &o)) {
            break;
        }
    }
    sqlite3_finalize(st);
    return PT_OK;
}

pt_status pt_q_encrypted_archives(struct pt_db *db,
                                  bool (*fn)(void *arg, const struct pt_q_archive *a), void *arg)
{
    sqlite3_stmt *st = NULL;
    const char *sql =
        "SELECT o.sha256, o.size, o.mime, coalesce(o.name, ''), o.protocol, o.direction, "
        "coalesce(o.flow_id, 0), coalesce(o.item_id, 0), coalesce(o.frame, 0), "
        "coalesce(o.ts, 0), o.depth, coalesce(b.pack, ''), coalesce(b.offset, 0), o.stream_off, "
        "EXISTS (SELECT 1 FROM object_row k WHERE k.parent = " OBJECT_SHA("o.id") " AND "
        "k.encrypted = 1) FROM object o LEFT JOIN object_blob b ON b.sha256 = o.sha256 WHERE "
        "o.encrypted = 0 AND o.size > 0 AND (o.mime IN ('application/zip', "
        "'application/x-7z-compressed', 'application/x-rar', 'application/vnd.rar')) AND "
        "(EXISTS (SELECT 1 FROM object_row k WHERE k.parent = " OBJECT_SHA("o.id") " AND "
        "k.encrypted = 1) OR (o.mime != 'application/zip' AND NOT EXISTS (SELECT 1 FROM "
        "object_row k WHERE k.parent = " OBJECT_SHA("o.id") "))) GROUP BY o.sha256 ORDER BY "
        "min(o.id)";
    if (sqlite3_prepare_v2(pt_db_handle(db), sql, -1, &st, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct pt_q_archive a = {
            .sha256 = ctext(st, 0),
            .size = (uint64_t)sqlite3_column_int64(st, 1),
            .mime = ctext(st, 2),
            .name = ctext(st, 3),
            .protocol = ctext(st, 4),
            .direction = ctext(st, 5),
            .flow_id = sqlite3_column_int64(st, 6),
            .item = (uint32_t)sqlite3_column_int64(st, 7),
            .frame = (uint64_t)sqlite3_column_int64(st, 8),
            .ts = sqlite3_column_int64(st, 9),
            .depth = (unsigned)sqlite3_column_int64(st, 10),
            .pack = ctext(st, 11),
            .off = (uint64_t)sqlite3_column_int64(st, 12),
            .stream_off = (uint64_t)sqlite3_column_int64(st, 13),
            .members_encrypted = sqlite3_column_int(st, 14) != 0,
        };
        if (!fn(arg, &a)) {
            break;
        }
    }
    sqlite3_finalize(st);
    return PT_OK;
}

pt_status pt_q_archive_pw_put(struct pt_db *db, const struct pt_q_archive_pw *r)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "INSERT INTO archive_password(archive_sha256, archive_name, archive_size, "
                      "opened, method, source_sha256, source_path, line, form, candidates, "
                      "members, note) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)";
    if (sqlite3_prepare_v2(pt_db_handle(db), sql, -1, &st, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    sqlite3_bind_text(st, 1, r->sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)r->size);
    sqlite3_bind_int(st, 4, r->opened);
    if (r->opened) {
        sqlite3_bind_text(st, 5, r->method, -1, SQLITE_STATIC);
        if (r->source_sha256[0] != '\0') {
            sqlite3_bind_text(st, 6, r->source_sha256, -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_text(st, 7, r->source_path, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 8, (sqlite3_int64)r->line);
        sqlite3_bind_text(st, 9, r->form, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 10, (sqlite3_int64)r->candidates);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)r->members);
    if (r->note != NULL) {
        sqlite3_bind_text(st, 12, r->note, -1, SQLITE_TRANSIENT);
    }
    pt_status rc = sqlite3_step(st) == SQLITE_DONE ? PT_OK : PT_EDB;
    sqlite3_finalize(st);
    return rc;
}
