/*
 * merge.c - `phitrace merge -o CASE SHARD...`: shard cases of one plan into one case, then
 * the whole-case stages once (scale.h says which stages those are).
 *
 * Before anything is written every shard is checked: a whole case (sealed, summary naming
 * the seal), an intact audit chain, a shard of the same plan (the SHA-256 of its plan.txt
 * and of its manifest's plan_sha256), no shard twice, none missing (unless --allow-missing,
 * which records scale.shard_missing), the same schema version. The merge is then an
 * ordinary run (pipeline.c) that reads no input: once its writer has finished, this file
 * fills the database from the shards (its SQL is store/q_scale.c's):
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
#include "../store/q_scale.h"
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
    uint64_t rows = 0;
    pt_status rc = PT_EUSAGE;
    unsigned long long idx;
    char *end = NULL;
    if (pt_case_incomplete(db, s->dir, why, sizeof why)) {
        pt_error("shard %s is incomplete (%s); rerun it", s->dir, why);
    } else if (pt_db_audit_verify(db, &rows, err, sizeof err) != PT_OK) {
        pt_error("shard %s: its audit chain is broken: %s", s->dir, err);
    } else if (!pt_q_manifest_get(db, "scale_role", v, sizeof v) || strcmp(v, "shard") != 0) {
        pt_error("%s is not a shard case (made by phitrace analyze --plan --shard)", s->dir);
    } else if (!pt_q_manifest_get(db, "plan_sha256", v, sizeof v) || strcmp(v, plan_sha) != 0) {
        pt_error("shard %s was made from another plan (plan_sha256 %.16s..., its plan.txt "
                 "%.16s...)", s->dir, v, plan_sha);
    } else if (!pt_q_manifest_get(db, "schema_version", v, sizeof v) ||
               strtol(v, NULL, 10) != PT_DB_SCHEMA_VERSION) {
        pt_error("shard %s has schema version %s, this phitrace %d: run the shards and the "
                 "merge with one phitrace", s->dir, v, PT_DB_SCHEMA_VERSION);
    } else if (!pt_q_manifest_get(db, "scale_shard", v, sizeof v) || v[0] < '0' || v[0] > '9' ||
               (idx = strtoull(v, &end, 10)) >= PT_PLAN_MAX_SHARDS || *end != '\0') {
        pt_error("shard %s does not say which shard it is", s->dir);
    } else {
        s->idx = (unsigned)idx;
        s->max_ts = pt_q_manifest_get(db, "shard_max_ts", v, sizeof v) ? strtoll(v, NULL, 10) : 0;
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

/* The shard's chain into the merged one, row by row: the action and detail as the shard
 * wrote them (so `verify` finds each item's input_hashed row), the actor saying which shard
 * row it was; the shard's own start, end and seal renamed shard_*, so the merged case has
 * one of each. Then the shard's summary row. */
struct chain {
    struct pt_db *db;
    unsigned idx;
    uint64_t rows;
    char head[PT_SHA256_HEX], tables[PT_SHA256_HEX];
};

static pt_status chain_row(void *arg, const struct pt_q_chain_row *r)
{
    static const char *const renamed[][2] = {{"analysis_started", "shard_started"},
                                             {"analysis_finished", "shard_finished"},
                                             {"case_sealed", "shard_sealed"}};
    struct chain *c = arg;
    char actor[400];
    const char *action = r->action;
    snprintf(c->head, sizeof c->head, "%s", r->row_hash);
    snprintf(actor, sizeof actor, "%.200s [shard %u seq %lld row_hash %s]", r->actor, c->idx,
             (long long)r->seq, c->head);
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++) {
        action = strcmp(action, renamed[i][0]) == 0 ? renamed[i][1] : action;
    }
    const char *ts = strstr(r->detail, "tables_sha256=");
    if (strcmp(action, "shard_sealed") == 0 && ts != NULL) {
        snprintf(c->tables, sizeof c->tables, "%.64s", ts + 14);
    }
    c->rows++;
    return pt_db_audit(c->db, actor, action, r->detail);
}

static pt_status copy_chain(struct pt_db *db, const struct shard *s)
{
    struct chain c = {.db = db, .idx = s->idx};
    pt_status rc = pt_q_shard_chain(db, chain_row, &c);
    char abs[4096], d[4600];
    if (realpath(s->dir, abs) == NULL) {
        snprintf(abs, sizeof abs, "%s", s->dir);
    }
    snprintf(d, sizeof d, "shard=%u path=%.4000s chain_rows=%llu chain_head=%s tables_sha256=%s",
             s->idx, abs, (unsigned long long)c.rows, c.head, c.tables);
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
static pt_status check_ranges(const struct merge *m, struct pt_db *db, unsigned idx, char *err,
                              size_t errlen)
{
    for (size_t i = 0; i < m->plan.n_ranges; i++) {
        const struct pt_plan_range *r = &m->plan.ranges[i];
        char sha[PT_SHA256_HEX + 1];
        uint64_t size = 0;
        if (r->shard != idx) {
            continue;
        }
        if (!pt_q_shard_item(db, r->r.item, sha, sizeof sha, &size) ||
            strcmp(sha, r->sha256) != 0 || size != r->r.end - r->r.offset) {
            snprintf(err, errlen, "bytes %llu-%llu of input %s (shard %u) are not those of the "
                     "plan (SHA-256 or size); make a new plan",
                     (unsigned long long)r->r.offset, (unsigned long long)r->r.end,
                     m->plan.items[r->r.item - 1].path, idx);
            return PT_EMALFORMED;
        }
    }
    return PT_OK;
}

/* An item read in ranges: its SHA-256 and size are the plan's once every range was checked
 * (check_ranges) and merged, with the input_hashed row a whole run writes, so `verify`
 * re-hashes the file against it. A range of a missing shard leaves the item without hash. */
static pt_status whole_items(const struct merge *m, struct pt_db *db, char *err, size_t errlen)
{
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
        char status[64], d[4400];
        rc = pt_q_item_hashed(db, it->id, it->sha256, it->size, status, sizeof status);
        snprintf(d, sizeof d, "item=%u size=%llu sha256=%s status=%s path=%s", it->id,
                 (unsigned long long)it->size, it->sha256, status, it->path);
        if (rc == PT_OK) {
            rc = pt_db_audit(db, "phitrace " PT_VERSION, "input_hashed", d);
        } else if (rc == PT_EMALFORMED) {
            snprintf(err, errlen, "the ranges of %s do not add up to its size", it->path);
        } else {
            snprintf(err, errlen, "%s", pt_db_errmsg(db));
        }
    }
    return rc;
}

pt_status pt_scale_copy_objects(const char *dir, unsigned idx, const char *case_dir)
{
    struct shard s = {.dir = (char *)dir, .idx = idx};
    return copy_objects(&s, case_dir);
}

static pt_status merge_one(const struct merge *m, struct pt_db *db, const struct shard *s,
                           const char *case_dir, char *err, size_t errlen)
{
    PT_TRY(pt_q_shard_attach(db, s->dir, err, errlen));
    /* tables go in name order: references are checked at the commit */
    pt_status rc = pt_q_shard_begin(db, err, errlen);
    if (rc == PT_OK) {
        rc = check_ranges(m, db, s->idx, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_q_shard_copy_rows(db, s->idx, err, errlen);
    }
    if (rc == PT_OK) {
        rc = copy_chain(db, s);
    }
    if (rc == PT_OK) {
        rc = pt_db_commit(db);
    } else {
        pt_db_rollback(db);
    }
    pt_q_shard_detach(db);
    if (rc == PT_OK && (rc = copy_objects(s, case_dir)) != PT_OK) {
        snprintf(err, errlen, "cannot copy the objects of shard %s", s->dir);
    }
    if (rc != PT_OK && err[0] == '\0') {
        snprintf(err, errlen, "merging shard %s: %s", s->dir, pt_db_errmsg(db));
    }
    return rc;
}

/* A flow still in its shard's flow table at the shard's end ("eof", or closed by FIN or RST
 * but kept for the last segments) and the next flow of the same endpoints in read order
 * (item, frame) may have been one flow in a whole run, which reads every file and range
 * through one flow table, when that flow is in another shard and nothing read in between
 * ended the first: its first packet within the idle timeout of the first flow's last
 * (earlier counts: capture files out of time order, or two copies of one capture, are joined
 * so too), and no capture file read in between reaching past the timeout (the query is
 * store/q_scale.c's pt_q_cuts). When it starts with a SYN the whole run would have ended an
 * open first one as "reuse" (flow.c), and so does this; otherwise the pair is cut, and the
 * merge re-reads it (stitch.c), which decides as the whole run does whether it is one flow;
 * a cut the re-read cannot mend is one scale.flow_cut anomaly. Runs before the "eof" flows
 * are aged (merge_finish), so "eof" still means open at its shard's end. */
struct cuts {
    struct pt_db *db;
    struct pt_q_cut *c;
    size_t n, cap;
};

static pt_status on_cut(void *arg, const struct pt_q_cut *c)
{
    struct cuts *x = arg;
    if (c->syn) { /* a new connection: the first ended by "reuse" */
        return c->a_eof ? pt_q_flow_reuse(x->db, c->a) : PT_OK;
    }
    if (x->n == x->cap) {
        struct pt_q_cut *nc = realloc(x->c, (x->cap = x->cap ? x->cap * 2 : 16) * sizeof *nc);
        if (nc == NULL) {
            return PT_ENOMEM;
        }
        x->c = nc;
    }
    x->c[x->n++] = *c;
    return PT_OK;
}

/* Which shard read each frame of each item (a whole item: all of its frames). */
static struct pt_q_part *plan_parts(const struct pt_plan *p, size_t *n)
{
    struct pt_q_part *v = calloc(p->n_items + p->n_ranges + 1, sizeof *v);
    *n = 0;
    for (size_t i = 0; v != NULL && i < p->n_items; i++) {
        const struct pt_plan_item *it = &p->items[i];
        for (size_t j = 0; j < (it->n_ranges ? it->n_ranges : 1); j++) {
            const struct pt_plan_range *r = it->n_ranges ? &p->ranges[it->first_range + j] : NULL;
            const struct pt_plan_range *nx = r != NULL && j + 1 < it->n_ranges ? r + 1 : NULL;
            v[(*n)++] = (struct pt_q_part){it->id, r ? (int64_t)r->r.frames + 1 : 0,
                                           nx ? (int64_t)nx->r.frames : INT64_MAX,
                                           r ? r->shard : it->shard};
        }
    }
    return v;
}

/* One scale.flow_cut anomaly per cut the re-read could not make whole. */
static pt_status report_cuts(struct pt_db *db, const struct pt_q_cut *c, size_t n)
{
    pt_status rc = PT_OK;
    for (size_t i = 0; rc == PT_OK && i < n; i++) {
        char d[400];
        snprintf(d, sizeof d, "flow %lld (shard %d) and flow %lld (shard %d, %.3f s after it) "
                 "are one connection cut where its capture (files or byte ranges) went to "
                 "different shards", (long long)c[i].a, c[i].sa, (long long)c[i].b, c[i].sb,
                 (double)c[i].dt / 1e6);
        rc = pt_db_anomaly_add(db, (uint32_t)c[i].item, 0, 0, PT_ANOM_SCALE_FLOW_CUT, d);
    }
    return rc;
}

/* The cuts made whole by re-reading them (stitch.c); when the re-read fails (an input gone
 * from this host), each cut is reported instead. */
static pt_status mend_cuts(const struct merge *m, struct pt_db *db, const char *case_dir,
                           struct pt_q_cut *c, size_t n)
{
    char serr[600] = "";
    int64_t *pairs = calloc(2 * n, sizeof *pairs);
    bool *done = calloc(n, sizeof *done), *merged = calloc(m->plan.shards, sizeof *merged);
    for (size_t i = 0; pairs != NULL && i < n; i++) {
        pairs[2 * i] = c[i].a;
        pairs[2 * i + 1] = c[i].b;
    }
    for (unsigned k = 0; merged != NULL && k < m->plan.shards; k++) {
        merged[k] = is_merged(m, k);
    }
    pt_status sr = pairs == NULL || done == NULL || merged == NULL
                       ? PT_ENOMEM
                       : pt_scale_stitch(&m->plan, merged, &m->pp, m->base, db, case_dir, pairs,
                                         n, done, serr, sizeof serr);
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
    pt_status rc = done == NULL ? PT_ENOMEM : report_cuts(db, c, left);
    free(pairs);
    free(done);
    free(merged);
    return rc;
}

static pt_status find_cuts(const struct merge *m, struct pt_db *db, const char *case_dir,
                           char *err, size_t errlen)
{
    size_t n_parts = 0;
    struct pt_q_part *parts = plan_parts(&m->plan, &n_parts);
    if (parts == NULL) {
        return PT_ENOMEM;
    }
    struct cuts x = {.db = db};
    pt_status rc = pt_q_cuts(db, parts, n_parts, on_cut, &x, err, errlen);
    free(parts);
    if (rc == PT_OK && x.n > 0) {
        rc = mend_cuts(m, db, case_dir, x.c, x.n);
    }
    free(x.c);
    return rc;
}

struct sha_check {
    const struct merge *m;
    char *err;
    size_t errlen;
};

/* Every item's SHA-256 as the plan's. */
static pt_status check_sha(void *arg, int64_t id, const char *sha)
{
    const struct sha_check *x = arg;
    const struct pt_plan *p = &x->m->plan;
    if (id < 1 || (uint64_t)id > p->n_items) {
        snprintf(x->err, x->errlen, "a shard holds item %lld, which is not in the plan",
                 (long long)id);
        return PT_EMALFORMED;
    }
    if (sha != NULL && p->items[id - 1].sha256[0] != '\0' &&
        strcmp(sha, p->items[id - 1].sha256) != 0) {
        snprintf(x->err, x->errlen, "input %s changed between the plan and its shard (SHA-256 "
                 "%.16s... in the plan, %.16s... when analyzed); make a new plan",
                 p->items[id - 1].path, p->items[id - 1].sha256, sha);
        return PT_EMALFORMED;
    }
    return PT_OK;
}

/* After all shards: what needs all of them. */
static pt_status merge_finish(struct merge *m, struct pt_db *db, const char *case_dir, char *err,
                              size_t errlen)
{
    int64_t end = 0;
    for (size_t i = 0; i < m->n; i++) {
        end = m->sh[i].max_ts > end ? m->sh[i].max_ts : end;
    }
    PT_TRY(whole_items(m, db, err, errlen));
    PT_TRY(find_cuts(m, db, case_dir, err, errlen));
    PT_TRY(pt_q_flows_age(db, end, err, errlen));
    struct sha_check x = {m, err, errlen};
    pt_status rc = pt_q_items_sha(db, check_sha, &x);
    if (rc == PT_EDB) {
        snprintf(err, errlen, "%s", pt_db_errmsg(db));
        return rc;
    }
    /* every item of the merged shards is here, once (ids are unique by the primary key) */
    struct pt_q_totals t;
    pt_q_totals(db, &t);
    uint64_t want = 0;
    for (size_t i = 0; i < m->plan.n_items; i++) {
        const struct pt_plan_item *it = &m->plan.items[i];
        bool any = it->n_ranges == 0 && is_merged(m, it->shard);
        for (size_t j = 0; !any && j < it->n_ranges; j++) {
            any = is_merged(m, m->plan.ranges[it->first_range + j].shard);
        }
        want += any;
    }
    if (rc == PT_OK && t.items != want) {
        snprintf(err, errlen, "the shards hold %llu evidence items, their part of the plan %llu",
                 (unsigned long long)t.items, (unsigned long long)want);
        rc = PT_EMALFORMED;
    }
    if (rc == PT_OK && m->missing > 0) {
        char d[600];
        snprintf(d, sizeof d, "%u of the plan's %u shards were not merged (shard %s): their "
                 "inputs are not in this case", m->missing, m->plan.shards, m->missing_list);
        rc = pt_db_anomaly_add(db, 0, 0, 0, PT_ANOM_SCALE_SHARD_MISSING, d);
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
    struct pt_q_totals t;
    pt_q_totals(db, &t);
    res->items = t.items;
    res->packets = t.packets;
    res->flows = t.flows;
    res->anomalies = t.anomalies;
    res->items_failed = t.items_failed;
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
