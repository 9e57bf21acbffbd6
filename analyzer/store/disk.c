/*
 * disk.c - INSERTs of the disk-image tables, prepared per row (a file system has thousands
 * of names, not millions of packets; the writer thread is the only caller).
 */
#include "disk.h"
#include "db_handle.h"

#include <sqlite3.h>

static const char vol_sql[] = "INSERT INTO disk_volume(item_id, offset, fs, block_size, "
                              "blocks, status, note) VALUES (?1,?2,?3,?4,?5,?6,?7)";
static const char file_sql[] = "INSERT INTO disk_file(item_id, vol_offset, path, inode, attr, "
                               "kind, state, meta_free, mtime, atime, ctime, crtime, size, "
                               "read_bytes, sha256, complete, note, image_offset, attr_type, "
                               "attr_id) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,"
                               "?14,?15,?16,?17,?18,?19,?20)";

static const char image_sql[] = "INSERT INTO disk_image(item_id, media_size, stored_md5, "
                                "stored_sha1, md5, sha1, sha256, verified, note) VALUES (?1,"
                                "?2,?3,?4,?5,?6,?7,?8,?9)";

static sqlite3_stmt *prepare(struct pt_db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(pt_db_handle(db), sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static pt_status run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

static void text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL && s[0] != '\0') {
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    }
}

static void time_or_null(sqlite3_stmt *st, int i, int64_t t)
{
    if (t != 0) {
        sqlite3_bind_int64(st, i, t);
    }
}

pt_status pt_db_disk_image_put(struct pt_db *db, const struct pt_disk_image_rec *m)
{
    sqlite3_stmt *st = prepare(db, image_sql);
    if (st == NULL) {
        return PT_EDB;
    }
    sqlite3_bind_int64(st, 1, m->item);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)m->media_size);
    text_or_null(st, 3, m->stored_md5);
    text_or_null(st, 4, m->stored_sha1);
    text_or_null(st, 5, m->md5);
    text_or_null(st, 6, m->sha1);
    text_or_null(st, 7, m->sha256);
    sqlite3_bind_text(st, 8, m->verified, -1, SQLITE_STATIC);
    text_or_null(st, 9, m->note);
    return run(st);
}

pt_status pt_db_disk_volume_put(struct pt_db *db, const struct pt_disk_volume_rec *v)
{
    sqlite3_stmt *st_vol = prepare(db, vol_sql);
    if (st_vol == NULL) {
        return PT_EDB;
    }
    sqlite3_bind_int64(st_vol, 1, v->item);
    sqlite3_bind_int64(st_vol, 2, (sqlite3_int64)v->offset);
    text_or_null(st_vol, 3, v->fs);
    sqlite3_bind_int64(st_vol, 4, v->block_size);
    sqlite3_bind_int64(st_vol, 5, (sqlite3_int64)v->blocks);
    sqlite3_bind_text(st_vol, 6, v->read ? "read" : "unreadable", -1, SQLITE_STATIC);
    text_or_null(st_vol, 7, v->note);
    return run(st_vol);
}

pt_status pt_db_disk_file_put(struct pt_db *db, const struct pt_disk_file_rec *f)
{
    sqlite3_stmt *st = prepare(db, file_sql);
    if (st == NULL) {
        return PT_EDB;
    }
    char kind[2] = {f->kind, '\0'};
    sqlite3_bind_int64(st, 1, f->item);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)f->vol_offset);
    sqlite3_bind_text(st, 3, f->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)f->inode);
    text_or_null(st, 5, f->attr);
    sqlite3_bind_text(st, 6, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, f->state, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, f->meta_free);
    time_or_null(st, 9, f->mtime);
    time_or_null(st, 10, f->atime);
    time_or_null(st, 11, f->ctime);
    time_or_null(st, 12, f->crtime);
    sqlite3_bind_int64(st, 13, (sqlite3_int64)f->size);
    sqlite3_bind_int64(st, 14, (sqlite3_int64)f->read_bytes);
    text_or_null(st, 15, f->sha256);
    sqlite3_bind_int(st, 16, f->complete);
    text_or_null(st, 17, f->note);
    if (f->image_offset != 0) {
        sqlite3_bind_int64(st, 18, (sqlite3_int64)f->image_offset);
    }
    if (f->attr_type != 0) {
        sqlite3_bind_int64(st, 19, f->attr_type);
        sqlite3_bind_int64(st, 20, f->attr_id);
    }
    return run(st);
}
