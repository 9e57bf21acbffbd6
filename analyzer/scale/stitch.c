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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/addr.h"
#include "../core/log.h"
#include "../decode/decode.h"
#include "../phi/config.h"
#include "../store/db.h"
#include "../store/q_scale.h"
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
struct before {
    const struct stitch *st;
    long *lo;
    size_t i;
};

static void on_before(void *arg, int64_t id, int64_t item, int64_t frame)
{
    const struct before *b = arg;
    const struct stitch *st = b->st;
    long u = unit_of(st->plan, item, frame);
    for (size_t j = 0; j < st->n; j++) { /* a cut one: from its chain's start */
        for (size_t k = 0; st->flows[j] == id && k < st->n; k++) {
            u = st->flows[k] == st->heads[j] && b->lo[k] < u ? b->lo[k] : u;
        }
    }
    b->lo[b->i] = u >= 0 && u < b->lo[b->i] ? u : b->lo[b->i];
}

static pt_status open_before(const struct stitch *st, struct pt_db *db, long *lo)
{
    struct before b = {st, lo, 0};
    pt_status rc = PT_OK;
    for (b.i = 0; rc == PT_OK && b.i < st->n; b.i++) {
        if (st->flows[b.i] == st->heads[b.i]) {
            rc = pt_q_open_before(db, st->flows[b.i], on_before, &b);
        }
    }
    return rc;
}

/* Units each chain spans, and the endpoints of its flows. */
static pt_status spans(struct stitch *st, struct pt_db *db)
{
    const struct pt_plan *p = st->plan;
    for (size_t i = 0; i < p->n_items; i++) {
        st->n_units += p->items[i].n_ranges ? p->items[i].n_ranges : 1;
    }
    st->unit = calloc(st->n_units + 1, sizeof *st->unit);
    long *lo = calloc(st->n + 1, sizeof *lo), *hi = calloc(st->n + 1, sizeof *hi);
    st->filt.v = calloc(st->n + 1, sizeof *st->filt.v);
    pt_status rc = st->unit == NULL || lo == NULL || hi == NULL || st->filt.v == NULL
                       ? PT_ENOMEM
                       : PT_OK;
    for (size_t i = 0; rc == PT_OK && i < st->n; i++) {
        struct pt_q_flow_span f;
        struct pt_addr ca, sa;
        if (!pt_q_flow_span(db, st->flows[i], &f) || !parse_addr(f.client, &ca) ||
            !parse_addr(f.server, &sa)) {
            rc = PT_EMALFORMED;
            break;
        }
        lo[i] = unit_of(p, f.item, f.frame);
        hi[i] = unit_of(p, f.last_item, f.last_frame);
        /* every packet between the two hosts: state a connection takes from another one of
         * theirs (an FTP data connection from its control connection) is read again too */
        ends_make(&st->filt.v[st->filt.n++], 0, &ca, 0, &sa, 0);
        rc = lo[i] < 0 || hi[i] < lo[i] ? PT_EMALFORMED : PT_OK;
    }
    if (rc == PT_OK) {
        rc = open_before(st, db, lo);
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
    char dir[4300];
    snprintf(dir, sizeof dir, "%s.stitch-%ld", case_dir, (long)getpid());
    pt_status rc = chains(&st, pairs, n_pairs);
    if (rc == PT_OK && (rc = spans(&st, db)) != PT_OK) {
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
        /* the chains' rows in the merged case replaced by the re-read's rows of the same
         * flow ids: the first flow of each chain, whole, and any later one the re-read also
         * kept apart (a whole run would have too: a connection closed before the next one of
         * its endpoints); on failure the shards' rows stay, and the cuts are reported */
        rc = pt_q_shard_attach(db, dir, err, errlen);
        if (rc == PT_OK) {
            rc = pt_q_stitch_replace(db, st.flows, st.heads, st.n, plan->shards, err, errlen);
            pt_q_shard_detach(db);
        }
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
