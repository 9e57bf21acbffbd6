/*
 * objkeep.c - the keep stage: which object bytes the case keeps (see objkeep.h).
 *
 * Order, so that no crash loses a kept object: the kept pack is written and synced, then
 * object_blob is updated in one transaction, and only after the commit are the raw packs
 * and the files of objects not kept removed. A crash before the commit leaves the case as
 * the capture stage wrote it (and a stray .zpk that nothing names).
 */
#include "objkeep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../analyze/objstore.h"
#include "../core/sha256.h"
#include "db_handle.h"

/* The set kept (temp.keep_obj), by policy; then its closure over archives. */
static const char *const keep_sql[] = {
    [PT_KEEP_EVIDENCE] =
        "INSERT OR IGNORE INTO temp.keep_obj SELECT sha256 FROM object WHERE direction IN "
        "('upload', 'external', 'at-rest') OR encrypted = 1 OR protocol = 'dns-tunnel' OR "
        "item_id IN (SELECT id FROM evidence_item WHERE kind != 'capture');"
        "INSERT OR IGNORE INTO temp.keep_obj SELECT object_sha256 FROM yara_match WHERE "
        "coalesce(severity, 'info') != 'info';"
        "INSERT OR IGNORE INTO temp.keep_obj SELECT archive_sha256 FROM archive_password;"
        "INSERT OR IGNORE INTO temp.keep_obj SELECT source_sha256 FROM archive_password WHERE "
        "source_sha256 IS NOT NULL;"
        /* the objects a finding's evidence names: each 64-character piece of the evidence
         * looked up by the hash index (instr() of every object against every finding took
         * 70 ms on 10,000 objects) */
        "INSERT OR IGNORE INTO temp.keep_obj WITH RECURSIVE pos(f, p) AS (SELECT id, 1 FROM "
        "finding WHERE length(evidence) >= 64 UNION ALL SELECT f, p + 1 FROM pos WHERE p + 64 "
        "<= (SELECT length(evidence) FROM finding WHERE id = f)) SELECT DISTINCT lower(hex(o.sha)) "
        "FROM pos JOIN object_row o ON o.sha = unhex(substr((SELECT evidence FROM finding WHERE "
        "id = pos.f), pos.p, 64));"
        "CREATE TEMP TABLE keep_link (parent TEXT, child TEXT, PRIMARY KEY (parent, child)) "
        "WITHOUT ROWID;"
        "INSERT OR IGNORE INTO temp.keep_link SELECT parent_sha256, sha256 FROM object WHERE "
        "parent_sha256 IS NOT NULL AND parent_sha256 != '';"
        "CREATE INDEX temp.keep_link_child ON keep_link(child);"
        /* the archives a kept object came out of, then all that was unpacked from them */
        "WITH RECURSIVE up(s) AS (SELECT sha256 FROM temp.keep_obj UNION SELECT l.parent FROM "
        "temp.keep_link l JOIN up ON l.child = up.s) INSERT OR IGNORE INTO temp.keep_obj "
        "SELECT s FROM up;"
        "WITH RECURSIVE down(s) AS (SELECT sha256 FROM temp.keep_obj UNION SELECT l.child FROM "
        "temp.keep_link l JOIN down ON l.parent = down.s) INSERT OR IGNORE INTO temp.keep_obj "
        "SELECT s FROM down;"
        "DROP TABLE temp.keep_link;",
    [PT_KEEP_ALL] = "INSERT OR IGNORE INTO temp.keep_obj SELECT sha256 FROM object;",
    [PT_KEEP_NONE] = "",
};

struct keep {
    sqlite3 *h;
    const char *case_dir;
    enum pt_keep_objects policy;
    struct pt_objkeep_result *res;
    char *err;
    size_t errlen;
    char pack[80];      /* the kept pack's name under objects/ */
    int fd;             /* the kept pack, -1 until its first entry */
    uint64_t pos;       /* its length */
    uint8_t *zbuf;      /* a compressed entry, with its 4-byte length */
    size_t zcap;
    char **gone;        /* files to remove after the commit (raw packs, objects' files) */
    size_t n_gone, cap_gone;
    char (*files)[PT_SHA256_HEX]; /* names under objects/<xx>/, sorted; see file_there */
    size_t n_files;
    bool listed;        /* files is the whole listing (else every object is lstat'ed) */
};

const char *pt_keep_objects_name(enum pt_keep_objects k)
{
    return k == PT_KEEP_ALL ? "all" : k == PT_KEEP_NONE ? "none" : "evidence";
}

int pt_keep_objects_parse(const char *s)
{
    return strcmp(s, "evidence") == 0 ? PT_KEEP_EVIDENCE
           : strcmp(s, "all") == 0    ? PT_KEEP_ALL
           : strcmp(s, "none") == 0   ? PT_KEEP_NONE
                                      : -1;
}

/* The error: `what`, with the system's reason when `sys`. */
static pt_status fail(struct keep *k, pt_status rc, const char *what, bool sys)
{
    int e = errno;
    snprintf(k->err, k->errlen, "keeping objects: %s%s%s", what, sys ? ": " : "",
             sys ? strerror(e) : "");
    return rc;
}

static bool gone_add(struct keep *k, const char *path)
{
    if (k->n_gone == k->cap_gone) {
        size_t cap = k->cap_gone ? 2 * k->cap_gone : 64;
        char **v = realloc(k->gone, cap * sizeof *v);
        if (v == NULL) {
            return false;
        }
        k->gone = v;
        k->cap_gone = cap;
    }
    return (k->gone[k->n_gone] = strdup(path)) != NULL && ++k->n_gone;
}

static bool write_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
    for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(fd, p + done, n - done, (off_t)(off + done));
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        done += (size_t)w;
    }
    return true;
}

/* One kept object onto the kept pack: its 4-byte length, then its zlib stream when that is
 * smaller, else its bytes, or, when `shrink`, nothing (*stored 0: it stays a file). *off is
 * where the bytes start, *stored their length. */
static bool pack_append(struct keep *k, const struct pt_objbytes *b, bool shrink, uint64_t *off,
                        uint64_t *stored)
{
    *stored = 0;
    size_t need = 4 + compressBound((uLong)b->n);
    if (need > k->zcap) {
        uint8_t *z = realloc(k->zbuf, need);
        if (z != NULL) {
            k->zbuf = z;
            k->zcap = need;
        }
    }
    uLongf zn = (uLongf)(k->zcap - 4);
    bool packed = b->n > 64 && compress2(k->zbuf + 4, &zn, b->p, (uLong)b->n, Z_BEST_SPEED) ==
                                   Z_OK && zn < b->n;
    if (shrink && !packed) {
        return true;
    }
    if (k->fd < 0) {
        struct timespec now;
        char path[4400];
        clock_gettime(CLOCK_REALTIME, &now);
        snprintf(k->pack, sizeof k->pack, "packs/k%ld-%llx.zpk", (long)getpid(),
                 (unsigned long long)now.tv_sec * 1000000000ull +
                     (unsigned long long)now.tv_nsec);
        snprintf(path, sizeof path, "%s/objects/%s", k->case_dir, k->pack);
        k->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (k->fd < 0) {
            return false;
        }
    }
    const uint8_t *p = b->p;
    size_t n = b->n;
    if (packed) {
        p = k->zbuf + 4;
        n = zn;
    }
    uint8_t h[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    if (!write_all(k->fd, h, 4, k->pos) || !write_all(k->fd, p, n, k->pos + 4)) {
        return false;
    }
    *off = k->pos + 4;
    *stored = n;
    k->pos += 4 + n;
    return true;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The object files, objects/<xx>/<sha256>, listed once and sorted: an lstat() per object
 * (each a path walk; 20,000 on the hospital bench) cost more than the listing. A listing that
 * cannot be read whole leaves k->listed false, and then every object is asked for by lstat. */
static void list_files(struct keep *k)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/objects", k->case_dir);
    DIR *top = opendir(path);
    if (top == NULL) {
        k->listed = errno == ENOENT;
        return;
    }
    size_t cap = 0;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(top)) != NULL) {
        if (strlen(e->d_name) != 2 || e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof path, "%s/objects/%s", k->case_dir, e->d_name);
        DIR *sub = opendir(path);
        if (sub == NULL) {
            ok = errno == ENOTDIR || errno == ENOENT;
            continue;
        }
        struct dirent *f;
        while (ok && (f = readdir(sub)) != NULL) {
            if (strlen(f->d_name) != PT_SHA256_HEX - 1 || memcmp(f->d_name, e->d_name, 2) != 0) {
                continue;
            }
            if (k->n_files == cap) {
                cap = cap ? 2 * cap : 256;
                char(*v)[PT_SHA256_HEX] = realloc(k->files, cap * sizeof *v);
                if (v == NULL) {
                    ok = false;
                    break;
                }
                k->files = v;
            }
            memcpy(k->files[k->n_files++], f->d_name, PT_SHA256_HEX);
        }
        closedir(sub);
    }
    closedir(top);
    if (ok && k->n_files > 0) {
        qsort(k->files, k->n_files, sizeof *k->files, cmp_name);
    }
    k->listed = ok;
}

/* false when objects/<xx>/<sha> is surely absent; true when lstat() must say */
static bool file_there(const struct keep *k, const char *sha)
{
    return !k->listed || strlen(sha) != PT_SHA256_HEX - 1 ||
           (k->n_files > 0 && bsearch(sha, k->files, k->n_files, sizeof *k->files,
                   cmp_name) != NULL);
}

/* Every packed object: kept ones into the kept pack, the others' object_blob rows removed. */
static pt_status rewrite_packs(struct keep *k)
{
    sqlite3_stmt *rows = NULL, *upd = NULL, *packs = NULL;
    pt_status rc = PT_OK;
    if (sqlite3_prepare_v2(k->h, "SELECT b.sha256, b.pack, b.offset, b.size, k.sha256 IS NOT "
                           "NULL FROM object_blob b LEFT JOIN temp.keep_obj k ON k.sha256 = "
                           "b.sha256 WHERE b.pack LIKE 'packs/%' ORDER BY b.pack, b.offset", -1,
                           &rows, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(k->h, "UPDATE object_blob SET pack = ?2, offset = ?3, stored = ?4 "
                           "WHERE sha256 = ?1", -1, &upd, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(k->h, "SELECT DISTINCT pack FROM object_blob WHERE pack LIKE "
                           "'packs/%'", -1, &packs, NULL) != SQLITE_OK) {
        rc = fail(k, PT_EDB, sqlite3_errmsg(k->h), false);
    }
    char path[4400];
    while (rc == PT_OK && sqlite3_step(packs) == SQLITE_ROW) {
        snprintf(path, sizeof path, "%s/objects/%s", k->case_dir, sqlite3_column_text(packs, 0));
        rc = gone_add(k, path) ? PT_OK : PT_ENOMEM;
    }
    while (rc == PT_OK && sqlite3_step(rows) == SQLITE_ROW) {
        const char *sha = (const char *)sqlite3_column_text(rows, 0);
        uint64_t size = (uint64_t)sqlite3_column_int64(rows, 3), off = 0, stored = 0;
        bool kept = sqlite3_column_int(rows, 4) != 0;
        struct pt_objbytes b;
        if (kept && !pt_object_load(k->case_dir, sha, (const char *)sqlite3_column_text(rows, 1),
                                    (uint64_t)sqlite3_column_int64(rows, 2), size, &b)) {
            snprintf(path, sizeof path, "object %s cannot be read from its pack", sha);
            rc = fail(k, PT_EIO, path, false);
            break;
        }
        if (kept) {
            bool ok = pack_append(k, &b, false, &off, &stored);
            pt_object_release(&b);
            if (!ok) {
                rc = fail(k, PT_EIO, "writing the kept pack", true);
                break;
            }
            k->res->kept++;
            k->res->kept_bytes += size;
            k->res->stored_bytes += 4 + stored;
        } else {
            k->res->dropped++;
            k->res->dropped_bytes += size;
            /* a copy that went to a file (past the memory budget) as well goes too */
            struct stat lst;
            snprintf(path, sizeof path, "%s/objects/%.2s/%s", k->case_dir, sha, sha);
            if (file_there(k, sha) && lstat(path, &lst) == 0 && S_ISREG(lst.st_mode) &&
                !gone_add(k, path)) {
                rc = PT_ENOMEM;
                break;
            }
        }
        if (!kept) {
            continue; /* its row goes with the others' below */
        }
        sqlite3_reset(upd);
        sqlite3_bind_text(upd, 1, sha, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(upd, 2, k->pack, -1, SQLITE_STATIC);
        sqlite3_bind_int64(upd, 3, (sqlite3_int64)off);
        sqlite3_bind_int64(upd, 4, (sqlite3_int64)stored);
        if (sqlite3_step(upd) != SQLITE_DONE) {
            rc = fail(k, PT_EDB, sqlite3_errmsg(k->h), false);
        }
    }
    sqlite3_finalize(rows);
    sqlite3_finalize(upd);
    sqlite3_finalize(packs);
    /* the rows of the packed objects not kept, in one statement (a DELETE each cost more) */
    if (rc == PT_OK && pt_db_exec(k->h, "DELETE FROM object_blob WHERE pack LIKE 'packs/%' AND "
                                        "sha256 NOT IN (SELECT sha256 FROM temp.keep_obj)",
                                  k->err, k->errlen) != PT_OK) {
        rc = PT_EDB;
    }
    return rc;
}

/* A kept object's file into the kept pack when it is at most PT_OBJ_KEEP_PACK_MAX and
 * compresses: *stored its bytes there (0: it stays a file), *off where they start; the file
 * goes after the commit. */
static pt_status pack_file(struct keep *k, const char *sha, const char *path, uint64_t size,
                           uint64_t *off, uint64_t *stored)
{
    struct pt_objbytes b;
    *stored = 0;
    if (size == 0 || size > PT_OBJ_KEEP_PACK_MAX || !pt_object_load(k->case_dir, sha, "", 0,
                                                                     size, &b)) {
        return PT_OK; /* as it is: verify says what is wrong with a file it cannot read */
    }
    bool ok = b.n != size || pack_append(k, &b, true, off, stored);
    pt_object_release(&b);
    if (!ok) {
        return fail(k, PT_EIO, "writing the kept pack", true);
    }
    return *stored > 0 && !gone_add(k, path) ? PT_ENOMEM : PT_OK;
}

/* Objects stored as files (past the memory budget) and links to inputs: a kept file into the
 * kept pack when it compresses (pack_file), else kept as it is with a row of pack '', a link
 * always (object_blob then names every object whose bytes the case keeps); one not kept is
 * removed after the commit, without a row. */
static pt_status drop_files(struct keep *k)
{
    sqlite3_stmt *st = NULL, *ins = NULL;
    pt_status rc = PT_OK;
    if (sqlite3_prepare_v2(k->h, "SELECT o.sha256, max(o.size), EXISTS (SELECT 1 FROM "
                           "temp.keep_obj k WHERE k.sha256 = o.sha256) FROM object o WHERE NOT "
                           "EXISTS (SELECT 1 FROM object_blob b WHERE b.sha256 = o.sha256) "
                           "GROUP BY o.sha256 ORDER BY o.sha256", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(k->h, "INSERT INTO object_blob(sha256, pack, offset, size, stored) "
                           "VALUES (?1, ?3, ?4, ?2, ?5)", -1, &ins, NULL) != SQLITE_OK) {
        rc = fail(k, PT_EDB, sqlite3_errmsg(k->h), false);
    }
    while (rc == PT_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *sha = (const char *)sqlite3_column_text(st, 0);
        char path[4400];
        struct stat lst;
        snprintf(path, sizeof path, "%s/objects/%.2s/%s", k->case_dir, sha, sha);
        bool there = file_there(k, sha) && lstat(path, &lst) == 0,
             kept = sqlite3_column_int(st, 2) != 0;
        if (there && S_ISREG(lst.st_mode) && !kept) {
            if (!gone_add(k, path)) {
                rc = PT_ENOMEM;
            }
            k->res->dropped++;
            k->res->dropped_bytes += (uint64_t)sqlite3_column_int64(st, 1);
            continue;
        }
        if (!kept && !(there && S_ISLNK(lst.st_mode))) {
            continue; /* not kept: its pack entry (rewrite_packs counted it) */
        }
        /* kept: a file, a link to an input, or one never stored (verify says MISSING) */
        uint64_t size = (uint64_t)sqlite3_column_int64(st, 1), off = 0, stored = 0;
        if (there && S_ISREG(lst.st_mode)) {
            rc = pack_file(k, sha, path, size, &off, &stored);
        }
        sqlite3_reset(ins);
        sqlite3_bind_text(ins, 1, sha, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ins, 2, (sqlite3_int64)size);
        sqlite3_bind_text(ins, 3, stored > 0 ? k->pack : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 4, (sqlite3_int64)off);
        if (stored > 0) {
            sqlite3_bind_int64(ins, 5, (sqlite3_int64)stored);
        }
        if (rc == PT_OK && sqlite3_step(ins) != SQLITE_DONE) {
            rc = fail(k, PT_EDB, sqlite3_errmsg(k->h), false);
        }
        k->res->kept++;
        k->res->kept_bytes += size;
        /* a file holds its bytes, a pack entry its length and stored bytes; a link to an
         * input none of the case's */
        k->res->stored_bytes += stored > 0                        ? 4 + stored
                                : there && S_ISREG(lst.st_mode) ? (uint64_t)lst.st_size
                                                                 : 0;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    return rc;
}

/* The manifest's record of the policy, and the limitation when bytes left the case. */
static pt_status record(struct keep *k, struct pt_db *db)
{
    char v[600];
    const struct pt_objkeep_result *r = k->res;
    pt_status rc = pt_db_manifest_set(db, "keep_objects", pt_keep_objects_name(k->policy));
    snprintf(v, sizeof v, "%" PRIu64 " objects, %" PRIu64 " bytes (%" PRIu64 " in the case)",
             r->kept, r->kept_bytes, r->stored_bytes);
    rc = rc == PT_OK ? pt_db_manifest_set(db, "objects_kept", v) : rc;
    snprintf(v, sizeof v, "%" PRIu64 " objects, %" PRIu64 " bytes", r->dropped,
             r->dropped_bytes);
    rc = rc == PT_OK ? pt_db_manifest_set(db, "objects_not_kept", v) : rc;
    if (rc != PT_OK || r->dropped == 0) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    snprintf(v, sizeof v, "%" PRIu64 " object(s) of %" PRIu64 " bytes were not kept in the "
             "case (--keep-objects=%s%s): their hashes, sizes, types, flows, stream offsets "
             "and frames are in the database and their bytes in the inputs; `phitrace "
             "export-object` says where, and an analysis with --keep-objects=all keeps them",
             r->dropped, r->dropped_bytes, pt_keep_objects_name(k->policy),
             k->policy == PT_KEEP_EVIDENCE ? ": transfers inside the home network or into it "
                                             "that no finding, YARA rule above info or kept "
                                             "archive names"
                                           : "");
    if (sqlite3_prepare_v2(k->h, "INSERT INTO limitation(kind, detail, value) VALUES "
                           "('objects_not_kept', ?1, ?2)", -1, &st, NULL) != SQLITE_OK) {
        return fail(k, PT_EDB, sqlite3_errmsg(k->h), false);
    }
    sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)r->dropped);
    rc = sqlite3_step(st) == SQLITE_DONE ? PT_OK : fail(k, PT_EDB, sqlite3_errmsg(k->h), false);
    sqlite3_finalize(st);
    return rc;
}

pt_status pt_objkeep_run(struct pt_db *db, const char *case_dir, enum pt_keep_objects policy,
                         struct pt_objkeep_result *res, char *err, size_t errlen)
{
    struct keep k = {.h = pt_db_handle(db), .case_dir = case_dir, .policy = policy,
                     .res = res, .err = err, .errlen = errlen, .fd = -1};
    memset(res, 0, sizeof *res);
    k.zcap = 4 + compressBound(PT_OBJ_MEM_BYTES);
    k.zbuf = malloc(k.zcap);
    if (k.zbuf == NULL) {
        return PT_ENOMEM;
    }
    pt_status rc = pt_db_begin(db);
    rc = rc == PT_OK ? pt_db_exec(k.h, "CREATE TEMP TABLE keep_obj (sha256 TEXT PRIMARY KEY) "
                                       "WITHOUT ROWID", err, errlen)
                     : rc;
    rc = rc == PT_OK ? pt_db_exec(k.h, keep_sql[policy], err, errlen) : rc;
    if (rc == PT_OK) {
        list_files(&k);
    }
    rc = rc == PT_OK ? rewrite_packs(&k) : rc;
    rc = rc == PT_OK ? drop_files(&k) : rc;
    rc = rc == PT_OK ? record(&k, db) : rc;
    if (rc == PT_OK && k.fd >= 0 && fsync(k.fd) != 0) {
        rc = fail(&k, PT_EIO, "syncing the kept pack", true);
    }
    rc = rc == PT_OK ? pt_db_commit(db) : rc;
    if (rc != PT_OK) {
        pt_db_rollback(db);
        if (k.fd >= 0) {
            char path[4400];
            snprintf(path, sizeof path, "%s/objects/%s", case_dir, k.pack);
            unlink(path);
        }
    }
    pt_db_exec(k.h, "DROP TABLE IF EXISTS temp.keep_obj", NULL, 0);
    if (rc == PT_OK) {
        /* the pages of the rows removed leave the file (auto_vacuum is incremental; pages
         * move, rows and their rowids do not) */
        rc = pt_db_exec(k.h, "PRAGMA incremental_vacuum", err, errlen);
    }
    for (size_t i = 0; i < k.n_gone; i++) {
        const char *name = strrchr(k.gone[i], '/');
        if (rc == PT_OK && unlink(k.gone[i]) == 0 && strlen(name) == PT_SHA256_HEX) {
            /* committed: these bytes are no longer named; objects/<xx>/ when it is empty */
            *strrchr(k.gone[i], '/') = '\0';
            rmdir(k.gone[i]);
        }
        free(k.gone[i]);
    }
    if (k.fd >= 0) {
        close(k.fd);
    }
    free(k.gone);
    free(k.files);
    free(k.zbuf);
    return rc;
}
