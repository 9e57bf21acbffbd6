/*
 * merge.c - `phitrace merge -o CASE SHARD...`: shard cases of one plan into one case, then
 * the whole-case stages once (scale.h says which stages those are).
 *
 * Before anything is written every shard is checked: a whole case (sealed, summary naming
 * the seal), an intact audit chain, a shard of the same plan (the SHA-256 of its plan.txt
 * and of its manifest's plan_sha256), no shard twice, none missing (unless --allow-missing,
 * which records scale.shard_missing), the same schema version. The merge is then an
 * ordinary run (pipeline.c) that reads no input: once its writer has finished, this file
 * fills the database from the shards:
 *
 * - rows: every table but run_manifest, audit_log and object_blob, copied in the shard's
 *   row order. Item ids are the plan's and flow ids are made from them (flow.h), so both are
 *   kept and every flow_id and item_id column stays right; other row ids are new.
 * - objects: object rows per occurrence as in a whole run; object_blob once per SHA-256
 *   (the first shard's copy), its pack renamed packs/s<I>-<name>; pack and object files
 *   hard-linked when the shard is on the same file system, else copied; links to inputs
 *   (objects by reference) re-made.
 * - custody: each shard's audit chain, row by row (see copy_chain), then "shard_merged"
 *   with its path, chain head, row count and sealed tables digest, all in the merged chain.
 * - flows a shard ended "eof" are ended as the whole run would have: "reuse" when a later
 *   shard's flow of the same endpoints opens with a SYN within the timeout, "idle" when the
 *   latest packet time of all shards is past their idle timeout (pt_flow_flush's rule); a
 *   connection that went on in another shard's file is reported cut (find_cuts).
 * - every item's SHA-256 is checked against the plan's: an input changed between the plan
 *   and its shard fails the merge.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/anomaly.h"
#include "../core/limits.h"
#include "../core/log.h"
#include "../core/version.h"
#include "../pipeline.h"
#include "../store/db.h"
#include "scale.h"

struct shard {
    char *dir;      /* borrowed from argv */
    unsigned idx;
    int64_t max_ts; /* its latest packet time (manifest shard_max_ts) */
};

struct merge {
    struct pt_plan plan;
    const struct pt_options *base; /* the merge's options: the re-read of cut connections */
    struct pt_scale_prep pp;
    struct shard *sh; /* sorted by idx */
    size_t n;
    unsigned missing;
    char missing_list[400];
};

/* ---- checking the shards ------------------------------------------------------------------ */

static int cmp_shard(const void *a, const void *b)
{
    const struct shard *x = a, *y = b;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

bool pt_scale_manifest_get(sqlite3 *h, const char *key, char *out, size_t len)
{
    sqlite3_stmt *q = NULL;
    bool ok = false;
    out[0] = '\0';
    if (sqlite3_prepare_v2(h, "SELECT value FROM run_manifest WHERE key = ?1", -1, &q, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) {
            snprintf(out, len, "%s", (const char *)sqlite3_column_text(q, 0));
            ok = true;
        }
    }
    sqlite3_finalize(q);
    return ok;
}

/* One shard case: whole, chained, of `plan_sha`; its index and latest packet time. */
static pt_status check_shard(struct shard *s, const char *plan_sha)
{
    char path[4300], err[512] = "", why[600], v[128];
    snprintf(path, sizeof path, "%s/evidence.db", s->dir);
    struct pt_db *db = NULL;
    if (pt_db_open_ro(path, &db, err, sizeof err) != PT_OK) {
        pt_error("shard %s: %s", s->dir, err);
        return PT_EUSAGE;
    }
    sqlite3 *h = pt_db_handle(db);
    uint64_t rows = 0;
    pt_status rc = PT_EUSAGE;
    unsigned long long idx;
    char *end = NULL;
    if (pt_case_incomplete(db, s->dir, why, sizeof why)) {
        pt_error("shard %s is incomplete (%s); rerun it", s->dir, why);
    } else if (pt_db_audit_verify(db, &rows, err, sizeof err) != PT_OK) {
        pt_error("shard %s: its audit chain is broken: %s", s->dir, err);
    } else if (!pt_scale_manifest_get(h, "scale_role", v, sizeof v) || strcmp(v, "shard") != 0) {
        pt_error("%s is not a shard case (made by phitrace analyze --plan --shard)", s->dir);
    } else if (!pt_scale_manifest_get(h, "plan_sha256", v, sizeof v) || strcmp(v, plan_sha) != 0) {
        pt_error("shard %s was made from another plan (plan_sha256 %.16s..., its plan.txt "
                 "%.16s...)", s->dir, v, plan_sha);
    } else if (!pt_scale_manifest_get(h, "schema_version", v, sizeof v) ||
               strtol(v, NULL, 10) != PT_DB_SCHEMA_VERSION) {
        pt_error("shard %s has schema version %s, this phitrace %d", s->dir, v,
                 PT_DB_SCHEMA_VERSION);
    } else if (!pt_scale_manifest_get(h, "scale_shard", v, sizeof v) || v[0] < '0' || v[0] > '9' ||
               (idx = strtoull(v, &end, 10)) >= PT_PLAN_MAX_SHARDS || *end != '\0') {
        pt_error("shard %s does not say which shard it is", s->dir);
    } else {
        s->idx = (unsigned)idx;
        s->max_ts = pt_scale_manifest_get(h, "shard_max_ts", v, sizeof v) ? strtoll(v, NULL, 10) : 0;
        rc = PT_OK;
    }
    pt_db_close(db);
    return rc;
}

static pt_status check_all(struct merge *m, char **dirs, size_t n, bool allow_missing)
{
    char err[512] = "", path[4300];
    for (size_t i = 0; i < n; i++) {
        struct pt_plan p;
        snprintf(path, sizeof path, "%s/plan.txt", dirs[i]);
        if (pt_plan_load(path, &p, err, sizeof err) != PT_OK) {
            pt_error("shard %s: %s", dirs[i], err);
            return PT_EUSAGE;
        }
        if (i == 0) {
            m->plan = p;
        } else {
            bool same = strcmp(p.sha256, m->plan.sha256) == 0;
            pt_plan_fini(&p);
            if (!same) {
                pt_error("shards %s and %s were made from different plans", dirs[0], dirs[i]);
                return PT_EUSAGE;
            }
        }
        m->sh[i].dir = dirs[i];
        PT_TRY(check_shard(&m->sh[i], m->plan.sha256));
    }
    m->n = n;
    qsort(m->sh, n, sizeof *m->sh, cmp_shard);
    for (size_t i = 0; i < n; i++) {
        if (m->sh[i].idx >= m->plan.shards || (i > 0 && m->sh[i].idx == m->sh[i - 1].idx)) {
            pt_error("shard %u is given twice (%s and %s) or is not in the plan's %u",
                     m->sh[i].idx, i > 0 ? m->sh[i - 1].dir : "", m->sh[i].dir, m->plan.shards);
            return PT_EUSAGE;
        }
    }
    size_t k = 0, used = 0;
    for (unsigned s = 0; s < m->plan.shards; s++) {
        if (k < n && m->sh[k].idx == s) {
            k++;
            continue;
        }
        m->missing++;
        if (used < sizeof m->missing_list - 16) {
            used += (size_t)snprintf(m->missing_list + used, sizeof m->missing_list - used,
                                     "%s%u", used ? ", " : "", s);
        }
    }
    if (m->missing > 0 && !allow_missing) {
        pt_error("%u of the plan's %u shards are not given (shard %s); merge them all, or pass "
                 "--allow-missing to make a case that says it lacks them",
                 m->missing, m->plan.shards, m->missing_list);
        return PT_EUSAGE;
    }
    return PT_OK;
}

/* ---- rows --------------------------------------------------------------------------------- */

/* "a, b, c" of `table`'s columns, without a rowid-alias id whose values are new here. */
pt_status pt_scale_columns(sqlite3 *h, const char *table, char *out, size_t len)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(h, "SELECT name, pk, upper(type) FROM main.pragma_table_info(?1)",
                           -1, &q, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    size_t used = 0;
    out[0] = '\0';
    bool keep_id = strcmp(table, "evidence_item") == 0 || strcmp(table, "flow") == 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        if (!keep_id && sqlite3_column_int(q, 1) == 1 && strcmp(name, "id") == 0 &&
            strcmp((const char *)sqlite3_column_text(q, 2), "INTEGER") == 0) {
            continue;
        }
        int w = snprintf(out + used, len - used, "%s\"%s\"", used ? ", " : "", name);
        if (w < 0 || (size_t)w >= len - used) {
            sqlite3_finalize(q);
            return PT_ELIMIT;
        }
        used += (size_t)w;
    }
    sqlite3_finalize(q);
    return used > 0 ? PT_OK : PT_EDB;
}

static const char item_upsert[] =
    " ON CONFLICT(id) DO UPDATE SET size = size + excluded.size, packets = packets + "
    "excluded.packets, first_ts = coalesce(min(first_ts, excluded.first_ts), first_ts, "
    "excluded.first_ts), last_ts = coalesce(max(last_ts, excluded.last_ts), last_ts, "
    "excluded.last_ts), status = CASE WHEN status = 'ok' THEN excluded.status ELSE status END, "
    "error = coalesce(error, excluded.error), linktype = coalesce(linktype, excluded.linktype), "
    "linktype_name = coalesce(linktype_name, excluded.linktype_name), time_source = "
    "coalesce(time_source, excluded.time_source), sha256 = NULL";

static pt_status copy_rows(sqlite3 *h, unsigned idx, char *err, size_t errlen)
{
    sqlite3_stmt *t = NULL;
    if (sqlite3_prepare_v2(h, "SELECT name, sql LIKE '%WITHOUT ROWID' FROM main.sqlite_master "
                              "WHERE type = 'table' AND name NOT IN ('run_manifest', 'audit_log', "
                              "'object_blob') AND name NOT LIKE 'sqlite_%' ORDER BY name",
                           -1, &t, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(h));
        return PT_EDB;
    }
    pt_status rc = PT_OK;
    static char cols[8192], sql[18000];
    while (rc == PT_OK && sqlite3_step(t) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(t, 0);
        rc = pt_scale_columns(h, name, cols, sizeof cols);
        if (rc != PT_OK) {
            snprintf(err, errlen, "columns of %s: %s", name, sqlite3_errmsg(h));
            break;
        }
        /* an item read in byte ranges has a row in each of its shards: one row, summed; a
         * table without rowid is read in the order of its key */
        snprintf(sql, sizeof sql, "INSERT INTO main.\"%s\"(%s) SELECT %s FROM shard.\"%s\" "
                 "WHERE true%s%s", name, cols, cols, name,
                 sqlite3_column_int(t, 1) ? "" : " ORDER BY rowid",
                 strcmp(name, "evidence_item") != 0 ? "" : item_upsert);
        rc = pt_db_exec(h, sql, err, errlen);
    }
    sqlite3_finalize(t);
    if (rc == PT_OK) {
        snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO main.object_blob SELECT sha256, "
                 "'packs/s%u-' || substr(pack, 7), offset, size FROM shard.object_blob "
                 "ORDER BY rowid", idx);
        rc = pt_db_exec(h, sql, err, errlen);
    }
    return rc;
}

/* The shard's chain into the merged one, row by row: the action and detail as the shard
 * wrote them (so `verify` finds each item's input_hashed row), the actor saying which shard
 * row it was; the shard's own start, end and seal renamed shard_*, so the merged case has
 * one of each. Then the shard's summary row. */
static pt_status copy_chain(struct pt_db *db, const struct shard *s)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(h, "SELECT seq, actor, action, detail, row_hash FROM shard.audit_log "
                              "ORDER BY seq", -1, &q, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    static const char *const renamed[][2] = {{"analysis_started", "shard_started"},
                                             {"analysis_finished", "shard_finished"},
                                             {"case_sealed", "shard_sealed"}};
    pt_status rc = PT_OK;
    uint64_t rows = 0;
    char head[PT_SHA256_HEX] = "", tables[PT_SHA256_HEX] = "", actor[400], d[4600];
    while (rc == PT_OK && sqlite3_step(q) == SQLITE_ROW) {
        const char *action = (const char *)sqlite3_column_text(q, 2);
        const char *detail = (const char *)sqlite3_column_text(q, 3);
        snprintf(head, sizeof head, "%s", (const char *)sqlite3_column_text(q, 4));
        snprintf(actor, sizeof actor, "%.200s [shard %u seq %lld row_hash %s]",
                 (const char *)sqlite3_column_text(q, 1), s->idx,
                 (long long)sqlite3_column_int64(q, 0), head);
        for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++) {
            action = strcmp(action, renamed[i][0]) == 0 ? renamed[i][1] : action;
        }
        const char *ts = strstr(detail, "tables_sha256=");
        if (strcmp(action, "shard_sealed") == 0 && ts != NULL) {
            snprintf(tables, sizeof tables, "%.64s", ts + 14);
        }
        rc = pt_db_audit(db, actor, action, detail);
        rows++;
    }
    sqlite3_finalize(q);
    char abs[4096];
    if (realpath(s->dir, abs) == NULL) {
        snprintf(abs, sizeof abs, "%s", s->dir);
    }
    snprintf(d, sizeof d, "shard=%u path=%.4000s chain_rows=%llu chain_head=%s tables_sha256=%s",
             s->idx, abs, (unsigned long long)rows, head, tables);
    return rc == PT_OK ? pt_db_audit(db, "phitrace " PT_VERSION, "shard_merged", d) : rc;
}

/* ---- object files ------------------------------------------------------------------------- */

static pt_status copy_file(const char *from, const char *to)
{
    if (link(from, to) == 0 || errno == EEXIST) {
        return PT_OK;
    }
    int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int out = in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    pt_status rc = out < 0 ? (errno == EEXIST ? PT_OK : PT_EIO) : PT_OK;
    static char buf[1 << 16];
    ssize_t n = 0;
    while (out >= 0 && rc == PT_OK && (n = read(in, buf, sizeof buf)) > 0) {
        rc = write(out, buf, (size_t)n) == n ? PT_OK : PT_EIO;
    }
    rc = n < 0 ? PT_EIO : rc;
    if (out >= 0 && close(out) != 0) {
        rc = PT_EIO;
    }
    if (in >= 0) {
        close(in);
    }
    if (rc != PT_OK) {
        pt_error("cannot copy %s to %s: %s", from, to, strerror(errno));
    }
    return rc;
}

/* One entry of a shard's objects/: a pack, an object file or a link to an input. */
static pt_status copy_entry(const char *from, const char *to)
{
    struct stat st;
    if (lstat(from, &st) != 0) {
        return PT_EIO;
    }
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(from, target, sizeof target - 1);
        if (n < 0) {
            return PT_EIO;
        }
        target[n] = '\0';
        return symlink(target, to) == 0 || errno == EEXIST ? PT_OK : PT_EIO;
    }
    return S_ISREG(st.st_mode) ? copy_file(from, to) : PT_OK;
}

static pt_status copy_objects(const struct shard *s, const char *case_dir)
{
    char from[4400], to[4400];
    snprintf(from, sizeof from, "%s/objects", s->dir);
    DIR *top = opendir(from);
    if (top == NULL) {
        return errno == ENOENT ? PT_OK : PT_EIO;
    }
    pt_status rc = PT_OK;
    struct dirent *e;
    while (rc == PT_OK && (e = readdir(top)) != NULL) {
        bool packs = strcmp(e->d_name, "packs") == 0;
        if (!packs && (strlen(e->d_name) != 2 || strchr(e->d_name, '.') != NULL)) {
            continue; /* ".", "..", tmp/ */
        }
        snprintf(from, sizeof from, "%s/objects/%s", s->dir, e->d_name);
        snprintf(to, sizeof to, "%s/objects/%s", case_dir, e->d_name);
        if (mkdir(to, 0700) != 0 && errno != EEXIST) {
            return PT_EIO;
        }
        DIR *sub = opendir(from);
        struct dirent *f;
        while (sub != NULL && rc == PT_OK && (f = readdir(sub)) != NULL) {
            if (f->d_name[0] == '.') {
                continue;
            }
            snprintf(from, sizeof from, "%s/objects/%s/%s", s->dir, e->d_name, f->d_name);
            if (packs) {
                snprintf(to, sizeof to, "%s/objects/packs/s%u-%s", case_dir, s->idx, f->d_name);
            } else {
                snprintf(to, sizeof to, "%s/objects/%s/%s", case_dir, e->d_name, f->d_name);
            }
            rc = copy_entry(from, to);
        }
        if (sub != NULL) {
            closedir(sub);
        }
    }
    closedir(top);
    return rc;
}

/* ---- the merge, inside the merged run ------------------------------------------------------ */

static bool is_merged(const struct merge *m, unsigned shard)
{
    for (size_t k = 0; k < m->n; k++) {
        if (m->sh[k].idx == shard) {
            return true;
        }
    }
    return false;
}

/* Each byte range the shard read: its SHA-256 and size the plan's, or the input changed. */
static pt_status check_ranges(const struct merge *m, sqlite3 *h, unsigned idx, char *err,
                              size_t errlen)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(h, "SELECT sha256, size FROM shard.evidence_item WHERE id = ?1", -1,
                           &q, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(h));
        return PT_EDB;
    }
    pt_status rc = PT_OK;
    for (size_t i = 0; rc == PT_OK && i < m->plan.n_ranges; i++) {
        const struct pt_plan_range *r = &m->plan.ranges[i];
        if (r->shard != idx) {
            continue;
        }
        sqlite3_bind_int64(q, 1, r->r.item);
        bool same = false;
        if (sqlite3_step(q) == SQLITE_ROW) {
            const char *sha = (const char *)sqlite3_column_text(q, 0);
            same = sha != NULL && strcmp(sha, r->sha256) == 0 &&
                   (uint64_t)sqlite3_column_int64(q, 1) == r->r.end - r->r.offset;
        }
        sqlite3_reset(q);
        if (!same) {
            snprintf(err, errlen, "bytes %llu-%llu of input %s (shard %u) are not those of the "
                     "plan (SHA-256 or size); make a new plan",
                     (unsigned long long)r->r.offset, (unsigned long long)r->r.end,
                     m->plan.items[r->r.item - 1].path, idx);
            rc = PT_EMALFORMED;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

/* An item read in ranges: its SHA-256 and size are the plan's once every range was checked
 * (check_ranges) and merged, with the input_hashed row a whole run writes, so `verify`
 * re-hashes the file against it. A range of a missing shard leaves the item without hash. */
static pt_status whole_items(const struct merge *m, struct pt_db *db, char *err, size_t errlen)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *up = NULL, *st = NULL;
    if (sqlite3_prepare_v2(h, "UPDATE evidence_item SET sha256 = ?2 WHERE id = ?1 AND size = ?3",
                           -1, &up, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "SELECT status FROM evidence_item WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(h));
        sqlite3_finalize(up);
        return PT_EDB;
    }
    pt_status rc = PT_OK;
    for (size_t i = 0; rc == PT_OK && i < m->plan.n_items; i++) {
        const struct pt_plan_item *it = &m->plan.items[i];
        bool all = it->n_ranges > 0;
        for (size_t j = 0; all && j < it->n_ranges; j++) {
            all = is_merged(m, m->plan.ranges[it->first_range + j].shard);
        }
        if (!all) {
            continue;
        }
        sqlite3_bind_int64(up, 1, it->id);
        sqlite3_bind_text(up, 2, it->sha256, -1, SQLITE_STATIC);
        sqlite3_bind_int64(up, 3, (sqlite3_int64)it->size);
        rc = sqlite3_step(up) == SQLITE_DONE && sqlite3_changes(h) == 1 ? PT_OK : PT_EMALFORMED;
        sqlite3_reset(up);
        sqlite3_bind_int64(st, 1, it->id);
        char d[4400];
        snprintf(d, sizeof d, "item=%u size=%llu sha256=%s status=%s path=%s", it->id,
                 (unsigned long long)it->size, it->sha256,
                 sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "?",
                 it->path);
        sqlite3_reset(st);
        if (rc == PT_OK) {
            rc = pt_db_audit(db, "phitrace " PT_VERSION, "input_hashed", d);
        } else {
            snprintf(err, errlen, "the ranges of %s do not add up to its size", it->path);
        }
    }
    sqlite3_finalize(up);
    sqlite3_finalize(st);
    return rc;
}

pt_status pt_scale_attach(sqlite3 *h, const char *dir, char *err, size_t errlen)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/evidence.db", dir);
    sqlite3_stmt *a = NULL;
    if (sqlite3_prepare_v2(h, "ATTACH ?1 AS shard", -1, &a, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(h));
        return PT_EDB;
    }
    sqlite3_bind_text(a, 1, path, -1, SQLITE_STATIC);
    int arc = sqlite3_step(a);
    sqlite3_finalize(a);
    if (arc != SQLITE_DONE) {
        snprintf(err, errlen, "cannot open %.600s: %s", path, sqlite3_errmsg(h));
        return PT_EDB;
    }
    return PT_OK;
}

pt_status pt_scale_copy_objects(const char *dir, unsigned idx, const char *case_dir)
{
    struct shard s = {.dir = (char *)dir, .idx = idx};
    return copy_objects(&s, case_dir);
}

static pt_status merge_one(const struct merge *m, struct pt_db *db, const struct shard *s,
                           const char *case_dir, char *err, size_t errlen)
{
    sqlite3 *h = pt_db_handle(db);
    PT_TRY(pt_scale_attach(h, s->dir, err, errlen));
    pt_status rc = pt_db_begin(db);
    if (rc == PT_OK) { /* tables go in name order: references are checked at the commit */
        rc = pt_db_exec(h, "PRAGMA defer_foreign_keys = ON", err, errlen);
    }
    if (rc == PT_OK) {
        rc = check_ranges(m, h, s->idx, err, errlen);
    }
    if (rc == PT_OK) {
        rc = copy_rows(h, s->idx, err, errlen);
    }
    if (rc == PT_OK) {
        rc = copy_chain(db, s);
    }
    if (rc == PT_OK) {
        rc = pt_db_commit(db);
    } else {
        pt_db_exec(h, "ROLLBACK", NULL, 0);
    }
    pt_db_exec(h, "DETACH shard", NULL, 0);
    if (rc == PT_OK && (rc = copy_objects(s, case_dir)) != PT_OK) {
        snprintf(err, errlen, "cannot copy the objects of shard %s", s->dir);
    }
    if (rc != PT_OK && err[0] == '\0') {
        snprintf(err, errlen, "merging shard %s: %s", s->dir, sqlite3_errmsg(h));
    }
    return rc;
}

/* A flow still in its shard's flow table at the shard's end ("eof", or closed by FIN or RST
 * but kept for the last segments) and the next flow of the same endpoints in read order
 * (item, frame) may have been one flow in a whole run, which reads every file and range
 * through one flow table, when that flow is in another shard and nothing read in between
 * ended the first: its first packet within the idle timeout of the first flow's last
 * (earlier counts: capture files out of time order, or two copies of one capture, are joined
 * so too), and no capture file read in between reaching past the timeout. When it starts
 * with a SYN the whole run would have ended an open first one as "reuse" (flow.c), and so
 * does this; otherwise the pair is cut, and the merge re-reads it (stitch.c), which decides
 * as the whole run does whether it is one flow; a cut the re-read cannot mend is one
 * scale.flow_cut anomaly. Runs before the "eof" flows are aged (merge_finish), so "eof" still
 * means open at its shard's end. */
#define TIMEOUT_SQL(f) "1000000 * CASE WHEN " f ".proto = 6 AND " f ".ports_known = 1 THEN ?1 " \
                       "WHEN " f ".proto = 17 THEN ?2 ELSE ?3 END"
struct cut {
    int64_t ab[2], item;
    int sa, sb;
    int64_t dt;
};

static const char cut_sql[] =
    "SELECT a.id, b.id, b.item_id, sa.shard, sb.shard, b.first_ts - a.last_ts, "
    "b.proto = 6 AND b.history GLOB 'S*', a.end_reason = 'eof' FROM flow a JOIN scale_part sa ON sa.item = "
    "a.last_item_id AND a.last_frame BETWEEN sa.lo AND sa.hi JOIN flow b ON b.id = (SELECT c.id "
    "FROM flow c WHERE c.source = 'capture' "
    "AND c.proto = a.proto AND c.family = a.family AND c.vlan IS a.vlan AND c.tunnel IS "
    "a.tunnel AND ((c.client_addr = a.client_addr AND c.client_port = a.client_port AND "
    "c.server_addr = a.server_addr AND c.server_port = a.server_port) OR (c.client_addr = "
    "a.server_addr AND c.client_port = a.server_port AND c.server_addr = a.client_addr AND "
    "c.server_port = a.client_port)) AND (c.item_id > a.last_item_id OR (c.item_id = "
    "a.last_item_id AND c.first_frame > a.last_frame)) ORDER BY c.item_id, c.first_frame LIMIT "
    "1) JOIN scale_part sb ON sb.item = b.item_id AND b.first_frame BETWEEN sb.lo AND sb.hi "
    "WHERE a.end_reason IN ('eof', 'fin', 'rst') "
    "AND a.source = 'capture' AND sb.shard <> sa.shard AND b.first_ts - a.last_ts <= "
    TIMEOUT_SQL("a") " AND coalesce((SELECT max(e.last_ts) FROM evidence_item e WHERE e.id > "
    "a.last_item_id AND e.id < b.item_id AND e.kind = 'capture'), a.last_ts) - a.last_ts <= "
    TIMEOUT_SQL("a") " ORDER BY a.id";

/* scale_part: which shard read each frame of each item (a whole item: all of its frames). */
static pt_status fill_parts(const struct merge *m, sqlite3 *h)
{
    sqlite3_stmt *ins = NULL;
    if (sqlite3_prepare_v2(h, "INSERT INTO scale_part VALUES (?1, ?2, ?3, ?4)", -1, &ins,
                           NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    pt_status rc = PT_OK;
    for (size_t i = 0; rc == PT_OK && i < m->plan.n_items; i++) {
        const struct pt_plan_item *it = &m->plan.items[i];
        for (size_t j = 0; rc == PT_OK && j < (it->n_ranges ? it->n_ranges : 1); j++) {
            const struct pt_plan_range *r = it->n_ranges ? &m->plan.ranges[it->first_range + j]
                                                         : NULL;
            const struct pt_plan_range *nx = r != NULL && j + 1 < it->n_ranges ? r + 1 : NULL;
            sqlite3_bind_int64(ins, 1, it->id);
            sqlite3_bind_int64(ins, 2, r ? (sqlite3_int64)r->r.frames + 1 : 0);
            sqlite3_bind_int64(ins, 3, nx ? (sqlite3_int64)nx->r.frames : INT64_MAX);
            sqlite3_bind_int64(ins, 4, r ? r->shard : it->shard);
            rc = sqlite3_step(ins) == SQLITE_DONE ? PT_OK : PT_EDB;
            sqlite3_reset(ins);
        }
    }
    sqlite3_finalize(ins);
    return rc;
}

/* One scale.flow_cut anomaly per cut the re-read could not make whole. */
static pt_status report_cuts(sqlite3 *h, const struct cut *c, size_t n)
{
    sqlite3_stmt *an = NULL;
    if (sqlite3_prepare_v2(h, "INSERT INTO anomaly(item_id, frame, offset, kind, detail) VALUES "
                              "(?1, NULL, 0, ?2, ?3)", -1, &an, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    pt_status rc = PT_OK;
    for (size_t i = 0; rc == PT_OK && i < n; i++) {
        char d[400];
        snprintf(d, sizeof d, "flow %lld (shard %d) and flow %lld (shard %d, %.3f s after it) "
                 "are one connection cut where its capture (files or byte ranges) went to "
                 "different shards", (long long)c[i].ab[0], c[i].sa, (long long)c[i].ab[1],
                 c[i].sb, (double)c[i].dt / 1e6);
        sqlite3_bind_int64(an, 1, c[i].item);
        sqlite3_bind_text(an, 2, pt_anom_kind(PT_ANOM_SCALE_FLOW_CUT), -1, SQLITE_STATIC);
        sqlite3_bind_text(an, 3, d, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(an) == SQLITE_DONE ? PT_OK : PT_EDB;
        sqlite3_reset(an);
    }
    sqlite3_finalize(an);
    return rc;
}

/* Cut connections: found (cut_sql), then made whole by re-reading them (stitch.c); when the
 * re-read fails (an input gone from this host), each cut is reported instead. */
static pt_status find_cuts(const struct merge *m, struct pt_db *db, const char *case_dir,
                           char *err, size_t errlen)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *q = NULL, *up = NULL;
    struct cut *c = NULL;
    size_t n = 0, cap = 0;
    pt_status rc = pt_db_exec(h, "CREATE TEMP TABLE scale_part(item INTEGER NOT NULL, lo "
                                 "INTEGER NOT NULL, hi INTEGER NOT NULL, shard INTEGER NOT "
                                 "NULL, PRIMARY KEY (item, lo))", err, errlen);
    if (rc != PT_OK || (rc = fill_parts(m, h)) != PT_OK) {
        pt_db_exec(h, "DROP TABLE temp.scale_part", NULL, 0);
        return rc;
    }
    if (sqlite3_prepare_v2(h, cut_sql, -1, &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "UPDATE flow SET end_reason = 'reuse' WHERE id = ?1", -1, &up,
                           NULL) != SQLITE_OK) {
        rc = PT_EDB;
    }
    if (rc == PT_OK) {
        sqlite3_bind_int(q, 1, PT_FLOW_TCP_IDLE_S);
        sqlite3_bind_int(q, 2, PT_FLOW_UDP_IDLE_S);
        sqlite3_bind_int(q, 3, PT_FLOW_OTHER_IDLE_S);
    }
    while (rc == PT_OK && sqlite3_step(q) == SQLITE_ROW) {
        if (sqlite3_column_int(q, 6)) { /* a new connection: the first ended by "reuse" */
            if (sqlite3_column_int(q, 7)) {
                sqlite3_bind_int64(up, 1, sqlite3_column_int64(q, 0));
                rc = sqlite3_step(up) == SQLITE_DONE ? PT_OK : PT_EDB;
                sqlite3_reset(up);
            }
            continue;
        }
        if (n == cap) {
            struct cut *nc = realloc(c, (cap = cap ? cap * 2 : 16) * sizeof *nc);
            if (nc == NULL) {
                rc = PT_ENOMEM;
                break;
            }
            c = nc;
        }
        c[n++] = (struct cut){{sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1)},
                              sqlite3_column_int64(q, 2), sqlite3_column_int(q, 3),
                              sqlite3_column_int(q, 4), sqlite3_column_int64(q, 5)};
    }
    if (rc != PT_OK) {
        snprintf(err, errlen, "finding connections cut between shards: %s", sqlite3_errmsg(h));
    }
    sqlite3_finalize(q);
    sqlite3_finalize(up);
    pt_db_exec(h, "DROP TABLE temp.scale_part", NULL, 0);
    if (rc == PT_OK && n > 0) {
        char serr[600] = "";
        int64_t *pairs = calloc(2 * n, sizeof *pairs);
        bool *done = calloc(n, sizeof *done), *merged = calloc(m->plan.shards, sizeof *merged);
        for (size_t i = 0; pairs != NULL && i < n; i++) {
            pairs[2 * i] = c[i].ab[0];
            pairs[2 * i + 1] = c[i].ab[1];
        }
        for (unsigned k = 0; merged != NULL && k < m->plan.shards; k++) {
            merged[k] = is_merged(m, k);
        }
        pt_status sr = pairs == NULL || done == NULL || merged == NULL
                           ? PT_ENOMEM
                           : pt_scale_stitch(&m->plan, merged, &m->pp, m->base, db, case_dir,
                                             pairs, n, done, serr, sizeof serr);
        if (sr != PT_OK) {
            pt_warn("%zu connection(s) cut between shards stay cut: %s", n,
                    serr[0] ? serr : pt_status_str(sr));
        }
        size_t left = 0; /* the cuts not mended, reported */
        for (size_t i = 0; done != NULL && i < n; i++) {
            if (sr != PT_OK || !done[i]) {
                c[left++] = c[i];
            }
        }
        rc = done == NULL ? PT_ENOMEM : report_cuts(h, c, left);
        free(pairs);
        free(done);
        free(merged);
    }
    free(c);
    return rc;
}

/* After all shards: what needs all of them. */
static pt_status merge_finish(struct merge *m, struct pt_db *db, const char *case_dir, char *err,
                              size_t errlen)
{
    sqlite3 *h = pt_db_handle(db);
    int64_t end = 0;
    for (size_t i = 0; i < m->n; i++) {
        end = m->sh[i].max_ts > end ? m->sh[i].max_ts : end;
    }
    PT_TRY(whole_items(m, db, err, errlen));
    PT_TRY(find_cuts(m, db, case_dir, err, errlen));
    char sql[900];
    snprintf(sql, sizeof sql,
             "UPDATE flow SET end_reason = 'idle' WHERE end_reason = 'eof' AND source = "
             "'capture' AND %lld - last_ts > 1000000 * CASE WHEN proto = 6 AND ports_known = 1 "
             "THEN %d WHEN proto = 17 THEN %d ELSE %d END",
             (long long)end, PT_FLOW_TCP_IDLE_S, PT_FLOW_UDP_IDLE_S, PT_FLOW_OTHER_IDLE_S);
    PT_TRY(pt_db_exec(h, sql, err, errlen));
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(h, "SELECT id, sha256, path FROM evidence_item ORDER BY id", -1, &q,
                           NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(h));
        return PT_EDB;
    }
    pt_status rc = PT_OK;
    while (rc == PT_OK && sqlite3_step(q) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        const char *sha = (const char *)sqlite3_column_text(q, 1);
        if (id < 1 || (uint64_t)id > m->plan.n_items) {
            snprintf(err, errlen, "a shard holds item %lld, which is not in the plan",
                     (long long)id);
            rc = PT_EMALFORMED;
        } else if (sha != NULL && m->plan.items[id - 1].sha256[0] != '\0' &&
                   strcmp(sha, m->plan.items[id - 1].sha256) != 0) {
            snprintf(err, errlen, "input %s changed between the plan and its shard (SHA-256 "
                     "%.16s... in the plan, %.16s... when analyzed); make a new plan",
                     m->plan.items[id - 1].path, m->plan.items[id - 1].sha256, sha);
            rc = PT_EMALFORMED;
        }
    }
    sqlite3_finalize(q);
    /* every item of the merged shards is here, once (ids are unique by the primary key) */
    int64_t want = 0, got = pt_db_int(h, "SELECT count(*) FROM evidence_item");
    for (size_t i = 0; i < m->plan.n_items; i++) {
        const struct pt_plan_item *it = &m->plan.items[i];
        bool any = it->n_ranges == 0 && is_merged(m, it->shard);
        for (size_t j = 0; !any && j < it->n_ranges; j++) {
            any = is_merged(m, m->plan.ranges[it->first_range + j].shard);
        }
        want += any;
    }
    if (rc == PT_OK && got != want) {
        snprintf(err, errlen, "the shards hold %lld evidence items, their part of the plan %lld",
                 (long long)got, (long long)want);
        rc = PT_EMALFORMED;
    }
    if (rc == PT_OK && m->missing > 0) {
        char d[600];
        snprintf(d, sizeof d, "%u of the plan's %u shards were not merged (shard %s): their "
                 "inputs are not in this case", m->missing, m->plan.shards, m->missing_list);
        snprintf(sql, sizeof sql, "INSERT INTO anomaly(item_id, frame, offset, kind, detail) "
                 "VALUES (NULL, NULL, 0, ?2, ?1)");
        if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK) {
            return PT_EDB;
        }
        sqlite3_bind_text(q, 1, d, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, pt_anom_kind(PT_ANOM_SCALE_SHARD_MISSING), -1, SQLITE_STATIC);
        rc = sqlite3_step(q) == SQLITE_DONE ? PT_OK : PT_EDB;
        sqlite3_finalize(q);
    }
    return rc;
}

static pt_status merge_hook(void *arg, struct pt_db *db, const char *case_dir,
                            struct pt_run_result *res)
{
    struct merge *m = arg;
    char err[1024] = "";
    pt_status rc = PT_OK;
    for (size_t i = 0; i < m->n && rc == PT_OK; i++) {
        rc = merge_one(m, db, &m->sh[i], case_dir, err, sizeof err);
    }
    if (rc == PT_OK) {
        rc = merge_finish(m, db, case_dir, err, sizeof err);
    }
    if (rc != PT_OK) {
        pt_error("merge: %s", err[0] ? err : pt_status_str(rc));
        return rc;
    }
    sqlite3 *h = pt_db_handle(db);
    res->items = (uint64_t)pt_db_int(h, "SELECT count(*) FROM evidence_item");
    res->packets = (uint64_t)pt_db_int(h, "SELECT coalesce(sum(packets), 0) FROM evidence_item");
    res->flows = (uint64_t)pt_db_int(h, "SELECT count(*) FROM flow");
    res->anomalies = (uint64_t)pt_db_int(h, "SELECT count(*) FROM anomaly");
    res->items_failed = (uint64_t)pt_db_int(h, "SELECT count(*) FROM evidence_item WHERE status "
                                               "NOT IN ('ok', 'skipped')");
    return PT_OK;
}

pt_status pt_scale_merge(char **dirs, size_t n, bool allow_missing, const struct pt_options *base,
                         struct pt_run_result *res)
{
    struct merge m;
    memset(&m, 0, sizeof m);
    if ((m.sh = calloc(n ? n : 1, sizeof *m.sh)) == NULL) {
        return PT_ENOMEM;
    }
    pt_status rc = check_all(&m, dirs, n, allow_missing);
    if (rc == PT_OK) {
        char count[16], plan_path[4300], merged[16];
        snprintf(count, sizeof count, "%u", m.plan.shards);
        snprintf(merged, sizeof merged, "%zu", m.n);
        snprintf(plan_path, sizeof plan_path, "%s/plan.txt", m.sh[0].dir);
        const char *const manifest[] = {"scale_role", "merge", "scale_shards", count,
                                        "scale_merged", merged, "plan_sha256", m.plan.sha256,
                                        NULL};
        m.pp = (struct pt_scale_prep){&m.plan, plan_path};
        m.base = base;
        struct pt_scale_prep pp = m.pp;
        struct pt_options o = *base;
        pt_scale_plan_options(&m.plan, &o);
        o.merge = merge_hook;
        o.merge_arg = &m;
        o.prepare = pt_scale_prepare;
        o.prepare_arg = &pp;
        o.manifest = manifest;
        rc = pt_analyze(&o, res);
    }
    pt_plan_fini(&m.plan);
    free(m.sh);
    return rc;
}
