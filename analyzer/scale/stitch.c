/*
 * stitch.c - connections cut between shards made whole at the merge (scale.h).
 *
 * A connection whose packets fall in two or more shards (its capture files, or byte ranges
 * of one capture, went to different shards) is two or more flows in the shard cases, each
 * with part of the bytes, and any object crossing the cut is in pieces. The merge finds each
 * such chain (merge.c, find_cuts: same endpoints, the first still open at its shard's end,
 * the next in read order in another shard, within the idle timeout, not a new SYN) and
 * re-reads the evidence for them: one shard-like run (pipeline.c, the capture stages only)
 * over the files and byte ranges from the one where the chain's first flow starts to the one
 * where its last flow ends, given only the packets between the cut connections' two hosts
 * (the others are decoded, so frame numbers stay the whole run's, but not given to the
 * flows; all of the two hosts' connections are, so an FTP data connection finds its control
 * connection when that falls in the span read). That
 * run's flow is the whole run's flow: same first frame (so same id), every packet, the stream
 * reassembled whole, the application decoders and object extraction run over it once. The
 * merge then replaces the shards' rows of every flow of the chain (the flow rows and every
 * row carrying their flow_id, objects included) by the re-read run's rows of that one flow.
 *
 * Why a re-read and not spill files of the partial stream ends: the decoders keep state that
 * is not bytes (an HTTP parser mid-body, a DICOM association's presentation contexts, TLS
 * records, a DNS-over-TCP length prefix), so a shard cannot hand over "the rest" without
 * serializing every decoder; the evidence itself is the one thing every node already shares,
 * and reading it again costs the bytes of the ranges the cut connections span, of which only
 * the cut connections' packets are reassembled. A connection open across every range (a
 * week-long tunnel) costs a second read of the whole capture at the merge: the price of an
 * answer equal to a single run.
 */
#include <arpa/inet.h>
#include <ftw.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/addr.h"
#include "../core/log.h"
#include "../decode/decode.h"
#include "../phi/config.h"
#include "../store/db.h"
#include "scale.h"

struct ends {
    uint8_t proto;
    struct pt_addr a, b; /* a <= b, as bytes */
    uint16_t pa, pb;
};

static int cmp_ends(const void *x, const void *y)
{
    const struct ends *p = x, *q = y;
    if (p->proto != q->proto) {
        return p->proto < q->proto ? -1 : 1;
    }
    int c = memcmp(&p->a, &q->a, sizeof p->a);
    c = c ? c : memcmp(&p->b, &q->b, sizeof p->b);
    if (c) {
        return c;
    }
    return p->pa != q->pa ? (p->pa < q->pa ? -1 : 1) : p->pb < q->pb ? -1 : p->pb > q->pb;
}

static void ends_make(struct ends *e, uint8_t proto, const struct pt_addr *x, uint16_t px,
                      const struct pt_addr *y, uint16_t py)
{
    memset(e, 0, sizeof *e);
    e->proto = proto;
    bool swap = memcmp(x, y, sizeof *x) > 0 || (memcmp(x, y, sizeof *x) == 0 && px > py);
    e->a = swap ? *y : *x;
    e->b = swap ? *x : *y;
    e->pa = swap ? py : px;
    e->pb = swap ? px : py;
}

static bool parse_addr(const char *s, struct pt_addr *a)
{
    uint8_t b[16];
    if (inet_pton(AF_INET, s, b) == 1) {
        pt_addr_from_v4(a, b);
        return true;
    }
    if (inet_pton(AF_INET6, s, b) == 1) {
        pt_addr_from_v6(a, b);
        return true;
    }
    return false;
}

struct filter {
    struct ends *v;
    size_t n;
};

static bool keep_view(void *arg, const struct pt_view *v)
{
    const struct filter *f = arg;
    struct ends e;
    ends_make(&e, 0, &v->src, 0, &v->dst, 0);
    return bsearch(&e, f->v, f->n, sizeof e, cmp_ends) != NULL;
}

/* The plan's unit (an item read whole, or one of its ranges) that read frame `frame` of item
 * `item`, as an index over all units in read order; -1 if the item is not in the plan. */
static long unit_of(const struct pt_plan *p, int64_t item, int64_t frame)
{
    long u = 0;
    for (size_t i = 0; i < p->n_items; i++) {
        const struct pt_plan_item *it = &p->items[i];
        size_t n = it->n_ranges ? it->n_ranges : 1;
        if ((int64_t)it->id == item) {
            for (size_t j = n; j-- > 1;) {
                if ((uint64_t)frame > p->ranges[it->first_range + j].r.frames) {
                    return u + (long)j;
                }
            }
            return u;
        }
        u += (long)n;
    }
    return -1;
}

/* The shard that reads unit `u`. */
static unsigned unit_shard(const struct pt_plan *p, long u)
{
    for (size_t i = 0; i < p->n_items; i++) {
        const struct pt_plan_item *it = &p->items[i];
        long n = it->n_ranges ? (long)it->n_ranges : 1;
        if (u < n) {
            return it->n_ranges ? p->ranges[it->first_range + (size_t)u].shard : it->shard;
        }
        u -= n;
    }
    return UINT32_MAX;
}

struct stitch {
    const struct pt_plan *plan;
    const bool *merged; /* by shard: merged here (a missing shard's units are not re-read) */
    int64_t *flows;  /* every flow of a cut chain */
    int64_t *heads;  /* its chain's first flow, per entry of flows */
    size_t n;
    bool *unit;      /* units to re-read */
    size_t n_units;
    struct filter filt;
};

static pt_status chains(struct stitch *st, const int64_t *pairs, size_t n_pairs)
{
    st->flows = calloc(2 * n_pairs + 1, sizeof *st->flows);
    st->heads = calloc(2 * n_pairs + 1, sizeof *st->heads);
    if (st->flows == NULL || st->heads == NULL) {
        return PT_ENOMEM;
    }
    for (size_t k = 0; k < n_pairs; k++) {
        int64_t a = pairs[2 * k], b = pairs[2 * k + 1], head = a;
        bool have_a = false;
        for (size_t i = 0; i < st->n; i++) {
            if (st->flows[i] == a) {
                head = st->heads[i];
                have_a = true;
            }
        }
        if (!have_a) {
            st->flows[st->n] = a;
            st->heads[st->n++] = a;
        }
        st->flows[st->n] = b;
        st->heads[st->n++] = head;
    }
    return PT_OK;
}

/* A chain's re-read starts where the earliest connection between its two hosts still open
 * at the chain's first packet started (its own chain's start, when it was cut too): an FTP
 * data connection is known as such from its control connection's earlier PASV or PORT. */
static pt_status open_before(const struct stitch *st, sqlite3 *h, long *lo)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(h, "SELECT o.id, o.item_id, o.first_frame FROM flow f JOIN flow o "
                              "ON ((o.client_addr = f.client_addr AND o.server_addr = "
                              "f.server_addr) OR (o.client_addr = f.server_addr AND "
                              "o.server_addr = f.client_addr)) AND (o.item_id < f.item_id OR "
                              "(o.item_id = f.item_id AND o.first_frame < f.first_frame)) AND "
                              "(o.last_item_id > f.item_id OR (o.last_item_id = f.item_id AND "
                              "o.last_frame >= f.first_frame)) WHERE f.id = ?1", -1, &q,
                           NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    for (size_t i = 0; i < st->n; i++) {
        if (st->flows[i] != st->heads[i]) {
            continue;
        }
        sqlite3_bind_int64(q, 1, st->flows[i]);
        while (sqlite3_step(q) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(q, 0);
            long u = unit_of(st->plan, sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2));
            for (size_t j = 0; j < st->n; j++) { /* a cut one: from its chain's start */
                for (size_t k = 0; st->flows[j] == id && k < st->n; k++) {
                    u = st->flows[k] == st->heads[j] && lo[k] < u ? lo[k] : u;
                }
            }
            lo[i] = u >= 0 && u < lo[i] ? u : lo[i];
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    return PT_OK;
}

/* Units each chain spans, and the endpoints of its flows. */
static pt_status spans(struct stitch *st, sqlite3 *h)
{
    const struct pt_plan *p = st->plan;
    for (size_t i = 0; i < p->n_items; i++) {
        st->n_units += p->items[i].n_ranges ? p->items[i].n_ranges : 1;
    }
    st->unit = calloc(st->n_units + 1, sizeof *st->unit);
    long *lo = calloc(st->n + 1, sizeof *lo), *hi = calloc(st->n + 1, sizeof *hi);
    st->filt.v = calloc(st->n + 1, sizeof *st->filt.v);
    sqlite3_stmt *q = NULL;
    pt_status rc = st->unit == NULL || lo == NULL || hi == NULL || st->filt.v == NULL
                       ? PT_ENOMEM
                       : PT_OK;
    if (rc == PT_OK &&
        sqlite3_prepare_v2(h, "SELECT item_id, first_frame, last_item_id, last_frame, proto, "
                              "client_addr, client_port, server_addr, server_port FROM flow "
                              "WHERE id = ?1", -1, &q, NULL) != SQLITE_OK) {
        rc = PT_EDB;
    }
    for (size_t i = 0; rc == PT_OK && i < st->n; i++) {
        sqlite3_bind_int64(q, 1, st->flows[i]);
        struct pt_addr ca, sa;
        if (sqlite3_step(q) != SQLITE_ROW ||
            !parse_addr((const char *)sqlite3_column_text(q, 5), &ca) ||
            !parse_addr((const char *)sqlite3_column_text(q, 7), &sa)) {
            rc = PT_EMALFORMED;
            break;
        }
        lo[i] = unit_of(p, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1));
        hi[i] = unit_of(p, sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3));
        /* every packet between the two hosts: state a connection takes from another one of
         * theirs (an FTP data connection from its control connection) is read again too */
        ends_make(&st->filt.v[st->filt.n++], 0, &ca, 0, &sa, 0);
        sqlite3_reset(q);
        rc = lo[i] < 0 || hi[i] < lo[i] ? PT_EMALFORMED : PT_OK;
    }
    sqlite3_finalize(q);
    if (rc == PT_OK) {
        rc = open_before(st, h, lo);
    }
    /* a chain: from its head's first unit to the last unit any of its flows reaches; a
     * chain across a shard that was not merged stays cut (its packets are not in this case) */
    size_t kept = 0;
    for (size_t i = 0; rc == PT_OK && i < st->n; i++) {
        long from = -1, to = -1;
        for (size_t j = 0; j < st->n; j++) {
            if (st->heads[j] == st->heads[i]) {
                from = from < 0 || lo[j] < from ? lo[j] : from;
                to = hi[j] > to ? hi[j] : to;
            }
        }
        bool whole = true;
        for (long u = from; u <= to && whole; u++) {
            unsigned sh = unit_shard(p, u);
            whole = sh < p->shards && st->merged[sh];
        }
        for (long u = from; whole && u <= to; u++) {
            st->unit[u] = true;
        }
        if (whole) {
            st->flows[kept] = st->flows[i];
            st->heads[kept++] = st->heads[i];
        }
    }
    st->n = rc == PT_OK ? kept : st->n;
    qsort(st->filt.v, st->filt.n, sizeof *st->filt.v, cmp_ends);
    free(lo);
    free(hi);
    return rc;
}

/* The re-read: the marked units, item by item (an item's marked ranges as one range from the
 * first to the last), through the shard's stages, into `dir`. */
static pt_status reread(struct stitch *st, const struct pt_scale_prep *pp,
                        const struct pt_options *base, const char *dir)
{
    const struct pt_plan *p = st->plan;
    uint32_t *ids = calloc(p->n_items + 1, sizeof *ids);
    struct pt_byte_range *rs = calloc(p->n_items + 1, sizeof *rs);
    if (ids == NULL || rs == NULL) {
        free(ids);
        free(rs);
        return PT_ENOMEM;
    }
    size_t n = 0, nr = 0, u = 0;
    for (size_t i = 0; i < p->n_items; i++) {
        const struct pt_plan_item *it = &p->items[i];
        size_t k = it->n_ranges ? it->n_ranges : 1;
        long first = -1, last = -1;
        for (size_t j = 0; j < k; j++) {
            if (st->unit[u + j]) {
                first = first < 0 ? (long)j : first;
                last = (long)j;
            }
        }
        u += k;
        if (first < 0) {
            continue;
        }
        ids[n++] = it->id;
        if (it->n_ranges > 0) {
            rs[nr] = p->ranges[it->first_range + (size_t)first].r;
            rs[nr++].end = p->ranges[it->first_range + (size_t)last].r.end;
        }
    }
    struct pt_options o = *base;
    pt_scale_plan_options(p, &o);
    o.case_dir = dir;
    o.only_items = ids;
    o.n_only = n;
    o.ranges = nr > 0 ? rs : NULL;
    o.n_ranges = nr;
    o.shard = true;
    o.force = true;
    o.quiet = true;
    o.progress = false;
    o.progress_json = false;
    o.merge = NULL;
    o.manifest = NULL;
    o.prepare = pt_scale_prepare;
    o.prepare_arg = (void *)pp;
    o.keep_view = keep_view;
    o.keep_arg = &st->filt;
    o.fail_on = -1;
    struct pt_run_result res;
    memset(&res, 0, sizeof res);
    /* the PHI tables are the process's: the inner run loads and frees them, so the merge's
     * own run, whose PHI stage is still to come, loads them again after it */
    pt_phi_config_free();
    pt_status rc = pt_analyze(&o, &res);
    char sig[4096], err[512] = "";
    struct pt_phi_config_file files[8];
    size_t nf = 0;
    if (!pt_signatures_dir(base->signatures, sig, sizeof sig) ||
        pt_phi_config_load(sig, files, 8, &nf, err, sizeof err) != PT_OK) {
        pt_error("the PHI tables cannot be loaded again: %s", err);
        rc = rc == PT_OK ? PT_EUSAGE : rc;
    }
    free(ids);
    free(rs);
    return rc;
}

/* The chains' rows in the merged case replaced by the re-read's rows of the same flow ids:
 * the first flow of each chain, whole, and any later one the re-read also kept apart (a
 * whole run would have too: a connection closed before the next one of its endpoints). */
static pt_status replace_rows(struct stitch *st, sqlite3 *h, unsigned idx, char *err,
                              size_t errlen)
{
    pt_status rc = pt_db_exec(h, "CREATE TEMP TABLE stitch_old(id INTEGER PRIMARY KEY); "
                                 "CREATE TEMP TABLE stitch_new(id INTEGER PRIMARY KEY)",
                              err, errlen);
    sqlite3_stmt *a = NULL, *b = NULL, *t = NULL;
    if (rc == PT_OK &&
        (sqlite3_prepare_v2(h, "INSERT OR IGNORE INTO stitch_old VALUES (?1)", -1, &a, NULL) !=
             SQLITE_OK ||
         sqlite3_prepare_v2(h, "INSERT OR IGNORE INTO stitch_new VALUES (?1)", -1, &b, NULL) !=
             SQLITE_OK)) {
        rc = PT_EDB;
    }
    for (size_t i = 0; rc == PT_OK && i < st->n; i++) {
        sqlite3_bind_int64(a, 1, st->flows[i]);
        sqlite3_bind_int64(b, 1, st->heads[i]);
        rc = sqlite3_step(a) == SQLITE_DONE && sqlite3_step(b) == SQLITE_DONE ? PT_OK : PT_EDB;
        sqlite3_reset(a);
        sqlite3_reset(b);
    }
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    /* and every other connection of those hosts the re-read saw end: read with all of the
     * two hosts' packets from the earliest one open, it has the context a shard may have
     * missed (an FTP data connection in one shard whose PASV was in the one before) */
    if (rc == PT_OK) {
        rc = pt_db_exec(h, "INSERT OR IGNORE INTO stitch_old SELECT id FROM shard.flow WHERE "
                           "end_reason <> 'eof'", err, errlen);
    }
    /* every table with a flow_id column, then the flows, then blobs no object uses */
    if (rc == PT_OK &&
        sqlite3_prepare_v2(h, "SELECT m.name FROM main.sqlite_master m WHERE m.type = 'table' "
                              "AND EXISTS (SELECT 1 FROM main.pragma_table_info(m.name) c WHERE "
                              "c.name = 'flow_id') ORDER BY m.name", -1, &t, NULL) != SQLITE_OK) {
        rc = PT_EDB;
    }
    static char cols[8192], sql[18000];
    while (rc == PT_OK && sqlite3_step(t) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(t, 0);
        rc = pt_scale_columns(h, name, cols, sizeof cols);
        if (rc == PT_OK) {
            snprintf(sql, sizeof sql, "DELETE FROM main.\"%s\" WHERE flow_id IN (SELECT id FROM "
                     "stitch_old); INSERT INTO main.\"%s\"(%s) SELECT %s FROM shard.\"%s\" WHERE "
                     "flow_id IN (SELECT id FROM stitch_old) ORDER BY rowid", name, name, cols,
                     cols, name);
            rc = pt_db_exec(h, sql, err, errlen);
        }
    }
    sqlite3_finalize(t);
    if (rc == PT_OK && (rc = pt_scale_columns(h, "flow", cols, sizeof cols)) == PT_OK) {
        snprintf(sql, sizeof sql, "DELETE FROM main.flow WHERE id IN (SELECT id FROM stitch_old);"
                 " INSERT INTO main.flow(%s) SELECT %s FROM shard.flow WHERE id IN (SELECT id "
                 "FROM stitch_old) ORDER BY rowid; DELETE FROM main.object_blob WHERE sha256 NOT "
                 "IN (SELECT sha256 FROM main.object); INSERT OR IGNORE INTO main.object_blob "
                 "SELECT sha256, 'packs/s%u-' || substr(pack, 7), offset, size FROM "
                 "shard.object_blob WHERE sha256 IN (SELECT sha256 FROM main.object) ORDER BY "
                 "rowid", cols, cols, idx);
        rc = pt_db_exec(h, sql, err, errlen);
    }
    int64_t got = rc == PT_OK ? pt_db_int(h, "SELECT count(*) FROM main.flow WHERE id IN "
                                             "(SELECT id FROM stitch_new)")
                              : 0;
    int64_t want = rc == PT_OK ? pt_db_int(h, "SELECT count(*) FROM stitch_new") : 0;
    if (rc == PT_OK && got != want) {
        snprintf(err, errlen, "the re-read found %lld of the %lld cut connections",
                 (long long)got, (long long)want);
        rc = PT_EMALFORMED;
    }
    pt_db_exec(h, "DROP TABLE temp.stitch_old; DROP TABLE temp.stitch_new", NULL, 0);
    return rc;
}

pt_status pt_scale_stitch(const struct pt_plan *plan, const bool *merged,
                          const struct pt_scale_prep *pp, const struct pt_options *base,
                          struct pt_db *db, const char *case_dir, const int64_t *pairs,
                          size_t n_pairs, bool *stitched, char *err, size_t errlen)
{
    struct stitch st;
    memset(&st, 0, sizeof st);
    st.plan = plan;
    st.merged = merged;
    memset(stitched, 0, n_pairs * sizeof *stitched);
    sqlite3 *h = pt_db_handle(db);
    char dir[4300];
    snprintf(dir, sizeof dir, "%s.stitch-%ld", case_dir, (long)getpid());
    pt_status rc = chains(&st, pairs, n_pairs);
    if (rc == PT_OK && (rc = spans(&st, h)) != PT_OK) {
        snprintf(err, errlen, "the flows of a cut connection are not where the plan says");
    }
    if (rc == PT_OK && st.n == 0) { /* every chain crosses a missing shard */
        free(st.flows);
        free(st.heads);
        free(st.unit);
        free(st.filt.v);
        return PT_OK;
    }
    if (rc == PT_OK && (rc = reread(&st, pp, base, dir)) != PT_OK) {
        snprintf(err, errlen, "re-reading the cut connections failed: %s", pt_status_str(rc));
    }
    if (rc == PT_OK) {
        rc = pt_scale_attach(h, dir, err, errlen);
        if (rc == PT_OK && (rc = pt_db_exec(h, "SAVEPOINT stitch", err, errlen)) == PT_OK) {
            rc = replace_rows(&st, h, plan->shards, err, errlen);
            if (rc != PT_OK) { /* the shards' rows stay, and the cuts are reported */
                pt_db_exec(h, "ROLLBACK TO stitch", NULL, 0);
            }
            pt_db_exec(h, "RELEASE stitch", NULL, 0);
        }
        pt_db_exec(h, "DETACH shard", NULL, 0);
    }
    if (rc == PT_OK && (rc = pt_scale_copy_objects(dir, plan->shards, case_dir)) != PT_OK) {
        snprintf(err, errlen, "cannot copy the objects of the re-read connections");
    }
    pt_scale_remove_tree(dir);
    for (size_t k = 0; rc == PT_OK && k < n_pairs; k++) {
        for (size_t i = 0; i < st.n && !stitched[k]; i++) {
            stitched[k] = st.flows[i] == pairs[2 * k];
        }
    }
    free(st.flows);
    free(st.heads);
    free(st.unit);
    free(st.filt.v);
    return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void pt_scale_remove_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
