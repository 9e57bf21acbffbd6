/*
 * tcp_reasm.c - first-wins TCP reassembly with gap and conflict records (see tcp_reasm.h).
 *
 * In-order data with nothing buffered takes a fast path and is delivered without a copy.
 * Everything else goes through a sorted list of non-overlapping out-of-order segments:
 * a new segment keeps only the bytes no earlier segment covered (first data wins), and its
 * overlaps are compared with what was kept. Bytes already delivered are compared with a
 * ring of the last delivered bytes (grown on demand up to PT_REASM_HISTORY).
 */
#include "tcp_reasm.h"

#include <stdlib.h>
#include <string.h>

#include "../core/limits.h"

struct pt_reasm_seg {
    uint64_t off;
    size_t n;
    struct pt_reasm_seg *next;
    uint8_t data[];
};

struct hist_hdr {
    size_t cap; /* power of two */
};

void pt_reasm_start(struct pt_reasm_dir *d, uint32_t first_data_seq)
{
    d->started = true;
    d->base = first_data_seq;
    d->next = 0;
    d->last_seq = 0;
}

/* Unwrapped offset of `seq` from the base, taken nearest to the last offset seen. */
static int64_t unwrap(struct pt_reasm_dir *d, uint32_t seq)
{
    uint32_t rel = seq - d->base;
    int32_t delta = (int32_t)(rel - (uint32_t)d->last_seq);
    return (int64_t)d->last_seq + delta;
}

/* ---- delivered-bytes history ----------------------------------------------------------------- */

static size_t hist_cap(const struct pt_reasm_dir *d)
{
    return d->hist == NULL ? 0 : ((const struct hist_hdr *)(const void *)d->hist)->cap;
}

static uint8_t *hist_bytes(struct pt_reasm_dir *d)
{
    return d->hist + sizeof(struct hist_hdr);
}

/* Grow the ring to cover at least `want` bytes (power of two, at most PT_REASM_HISTORY). */
static void hist_grow(struct pt_reasm_dir *d, size_t want, struct pt_reasm_budget *b)
{
    size_t cap = hist_cap(d);
    if (cap >= want || cap >= PT_REASM_HISTORY) {
        return;
    }
    /* small first: a half-open stream of a few bytes should not hold a page (memcap) */
    size_t ncap = cap ? cap : 256;
    while (ncap < want && ncap < PT_REASM_HISTORY) {
        ncap *= 2;
    }
    if (b->used + (ncap - cap) > b->max) {
        return; /* no room: older retransmissions become unverifiable, nothing else changes */
    }
    uint8_t *n = malloc(sizeof(struct hist_hdr) + ncap);
    if (n == NULL) {
        return;
    }
    ((struct hist_hdr *)(void *)n)->cap = ncap;
    if (cap > 0) {
        /* re-place the bytes still valid: [next - cap, next) */
        uint64_t from = d->next > cap ? d->next - cap : 0;
        for (uint64_t o = from; o < d->next;) {
            /* in runs that wrap neither ring */
            size_t at = (size_t)(o & (cap - 1)), nat = (size_t)(o & (ncap - 1));
            size_t k = (size_t)(d->next - o);
            k = k < cap - at ? k : cap - at;
            k = k < ncap - nat ? k : ncap - nat;
            memcpy(n + sizeof(struct hist_hdr) + nat, hist_bytes(d) + at, k);
            o += k;
        }
    }
    free(d->hist);
    b->used += ncap - cap;
    d->hist = n;
}

static void deliver(struct pt_reasm_dir *d, int dir, const uint8_t *p, size_t n,
                    struct pt_reasm_budget *b, const struct pt_reasm_sink *s)
{
    if (n == 0) {
        return;
    }
    hist_grow(d, (size_t)(d->next + n), b);
    size_t cap = hist_cap(d);
    if (cap > 0) {
        const uint8_t *src = p;
        size_t len = n;
        uint64_t off = d->next;
        if (len > cap) { /* only the last cap bytes can stay */
            src += len - cap;
            off += len - cap;
            len = cap;
        }
        size_t at = (size_t)(off & (cap - 1));
        size_t first = cap - at < len ? cap - at : len;
        memcpy(hist_bytes(d) + at, src, first);
        memcpy(hist_bytes(d), src + first, len - first);
    }
    if (s->data != NULL) {
        s->data(s->arg, dir, d->next, p, n);
    }
    d->next += n;
    d->delivered += n;
}

/* Compare bytes [off, off+n) that were delivered with `p`; report a conflict if they differ.
 * Bytes older than the history window cannot be compared and are ignored. */
static void check_delivered(struct pt_reasm_dir *d, int dir, uint64_t off, const uint8_t *p,
                            size_t n, const struct pt_reasm_sink *s)
{
    size_t cap = hist_cap(d);
    uint64_t lo = d->next > cap ? d->next - cap : 0;
    if (off < lo) {
        uint64_t skip = lo - off;
        if (skip >= n) {
            return;
        }
        p += skip;
        off += skip;
        n -= (size_t)skip;
    }
    if (n == 0 || cap == 0) {
        return;
    }
    bool differ = false;
    for (size_t i = 0; i < n && !differ; i++) {
        differ = hist_bytes(d)[(off + i) & (cap - 1)] != p[i];
    }
    if (!differ) {
        return;
    }
    d->conflicts++;
    if (s->conflict == NULL) {
        return;
    }
    uint8_t kept[PT_SHA256_LEN], other[PT_SHA256_LEN];
    uint8_t *tmp = malloc(n);
    if (tmp == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        tmp[i] = hist_bytes(d)[(off + i) & (cap - 1)];
    }
    pt_sha256_buf(tmp, n, kept);
    pt_sha256_buf(p, n, other);
    free(tmp);
    s->conflict(s->arg, dir, off, n, kept, other);
}

/* ---- out-of-order list ------------------------------------------------------------------------ */

static void free_seg(struct pt_reasm_dir *d, struct pt_reasm_seg *g, struct pt_reasm_budget *b)
{
    d->ooo_bytes -= g->n;
    b->used -= g->n;
    free(g);
}

static unsigned count_segs(const struct pt_reasm_dir *d)
{
    unsigned n = 0;
    for (const struct pt_reasm_seg *g = d->ooo; g != NULL; g = g->next) {
        n++;
    }
    return n;
}

/* Deliver buffered segments that are now in order. */
static void drain(struct pt_reasm_dir *d, int dir, struct pt_reasm_budget *b,
                  const struct pt_reasm_sink *s)
{
    while (d->ooo != NULL && d->ooo->off <= d->next) {
        struct pt_reasm_seg *g = d->ooo;
        d->ooo = g->next;
        if (g->off + g->n > d->next) {
            size_t skip = (size_t)(d->next - g->off);
            deliver(d, dir, g->data + skip, g->n - skip, b, s);
        }
        free_seg(d, g, b);
    }
}

/* Skip to the first buffered segment: the bytes between are a gap. */
static void skip_to_buffered(struct pt_reasm_dir *d, int dir, struct pt_reasm_budget *b,
                             const struct pt_reasm_sink *s)
{
    if (d->ooo == NULL) {
        return;
    }
    if (d->ooo->off > d->next) {
        uint64_t n = d->ooo->off - d->next;
        d->gap_bytes += n;
        if (s->gap != NULL) {
            s->gap(s->arg, dir, d->next, n);
        }
        d->next = d->ooo->off;
    }
    drain(d, dir, b, s);
}

static bool store(struct pt_reasm_dir *d, struct pt_reasm_seg **link, uint64_t off,
                  const uint8_t *p, size_t n, struct pt_reasm_budget *b)
{
    struct pt_reasm_seg *g = malloc(sizeof *g + n);
    if (g == NULL) {
        return false;
    }
    g->off = off;
    g->n = n;
    memcpy(g->data, p, n);
    g->next = *link;
    *link = g;
    d->ooo_bytes += n;
    b->used += n;
    return true;
}

/* Insert [off, off+n) keeping earlier bytes where segments overlap (first data wins). */
static void insert(struct pt_reasm_dir *d, int dir, uint64_t off, const uint8_t *p, size_t n,
                   struct pt_reasm_budget *b, const struct pt_reasm_sink *s)
{
    struct pt_reasm_seg **link = &d->ooo;
    while (n > 0) {
        struct pt_reasm_seg *g = *link;
        if (g == NULL || off + n <= g->off) {
            store(d, link, off, p, n, b);
            return;
        }
        if (off >= g->off + g->n) {
            link = &g->next;
            continue;
        }
        if (off < g->off) { /* the part before g is new */
            size_t head = (size_t)(g->off - off);
            if (!store(d, link, off, p, head, b)) {
                return;
            }
            link = &(*link)->next; /* now points at g again */
            off += head;
            p += head;
            n -= head;
            continue;
        }
        /* overlap with g: compare, keep g's bytes */
        size_t at = (size_t)(off - g->off);
        size_t ov = g->n - at < n ? g->n - at : n;
        if (memcmp(g->data + at, p, ov) != 0) {
            d->conflicts++;
            if (s->conflict != NULL) {
                uint8_t kept[PT_SHA256_LEN], other[PT_SHA256_LEN];
                pt_sha256_buf(g->data + at, ov, kept);
                pt_sha256_buf(p, ov, other);
                s->conflict(s->arg, dir, off, ov, kept, other);
            }
        }
        off += ov;
        p += ov;
        n -= ov;
        link = &g->next;
    }
}

static void enforce_caps(struct pt_reasm_dir *d, int dir, struct pt_reasm_budget *b,
                         const struct pt_reasm_sink *s)
{
    enum pt_anom kind = PT_ANOM_COUNT;
    if (d->ooo_bytes > PT_REASM_FLOW_MAX) {
        kind = PT_ANOM_LIMIT_REASSEMBLY_FLOW;
    } else if (b->used > b->max) {
        kind = PT_ANOM_LIMIT_REASSEMBLY_MEMCAP;
    } else if (count_segs(d) > PT_REASM_MAX_SEGS) {
        kind = PT_ANOM_LIMIT_REASSEMBLY_SEGMENTS;
    }
    if (kind == PT_ANOM_COUNT) {
        return;
    }
    if (s->limit != NULL) {
        s->limit(s->arg, dir, kind);
    }
    /* Give up waiting for the hole: everything buffered is delivered after a gap. */
    while (d->ooo != NULL) {
        skip_to_buffered(d, dir, b, s);
    }
}

void pt_reasm_segment(struct pt_reasm_dir *d, int dir, uint32_t seq, const uint8_t *p, size_t n,
                      size_t wire, struct pt_reasm_budget *b, const struct pt_reasm_sink *s)
{
    if (!d->started) {
        pt_reasm_start(d, seq);
    }
    if (wire == 0 || d->closed) {
        return;
    }
    int64_t off = unwrap(d, seq);
    if (off > (int64_t)d->last_seq) {
        d->last_seq = (uint64_t)off;
    }
    if (n > wire) {
        n = wire;
    }
    if (p == NULL) {
        n = 0; /* nothing captured: the announced bytes become a gap when passed */
    }
    if (off < 0) { /* before the stream's first byte (retransmission of what we never saw) */
        if ((uint64_t)(-off) >= n) {
            return;
        }
        p += (size_t)(-off);
        n -= (size_t)(-off);
        off = 0;
    }
    uint64_t o = (uint64_t)off;
    if (o < d->next) {
        size_t old = d->next - o < n ? (size_t)(d->next - o) : n;
        check_delivered(d, dir, o, p, old, s);
        o += old;
        p += old;
        n -= old;
    }
    if (n == 0) {
        return;
    }
    if (o == d->next && (d->ooo == NULL || o + n <= d->ooo->off)) {
        deliver(d, dir, p, n, b, s); /* fast path: in order, nothing buffered in the way */
        drain(d, dir, b, s);
        return;
    }
    insert(d, dir, o, p, n, b, s);
    drain(d, dir, b, s);
    enforce_caps(d, dir, b, s);
}

void pt_reasm_fin(struct pt_reasm_dir *d, uint32_t seq_end)
{
    if (!d->started) {
        pt_reasm_start(d, seq_end);
    }
    int64_t off = unwrap(d, seq_end);
    if (off >= 0 && !d->fin) {
        d->fin = true;
        d->fin_off = (uint64_t)off;
    }
}

void pt_reasm_ack(struct pt_reasm_dir *d, int dir, uint32_t ack, struct pt_reasm_budget *b,
                  const struct pt_reasm_sink *s)
{
    if (!d->started || d->closed) {
        return;
    }
    int64_t off = unwrap(d, ack);
    if (d->fin && off > (int64_t)d->fin_off) {
        off = (int64_t)d->fin_off; /* the FIN takes a sequence number but carries no byte */
    }
    /* Believe acknowledgements only within reach of what was seen: a challenge ACK or a
     * corrupt one must not invent a gigabyte of missing data. */
    if (off <= (int64_t)d->next || off > (int64_t)d->last_seq + (int64_t)PT_REASM_ACK_REACH) {
        return;
    }
    uint64_t upto = (uint64_t)off;
    if (d->ooo != NULL && d->ooo->off < upto) {
        upto = d->ooo->off;
    }
    if (upto > d->next) {
        uint64_t n = upto - d->next;
        d->gap_bytes += n;
        if (s->gap != NULL) {
            s->gap(s->arg, dir, d->next, n);
        }
        d->next = upto;
        if (upto > d->last_seq) {
            d->last_seq = upto;
        }
    }
    drain(d, dir, b, s);
}

void pt_reasm_finish(struct pt_reasm_dir *d, int dir, struct pt_reasm_budget *b,
                     const struct pt_reasm_sink *s)
{
    while (d->ooo != NULL) {
        skip_to_buffered(d, dir, b, s);
    }
    pt_reasm_free(d, b);
    d->closed = true;
}

size_t pt_reasm_mem(const struct pt_reasm_dir *d)
{
    size_t h = hist_cap(d);
    return (h > 0 ? h + sizeof(struct hist_hdr) : 0) + (size_t)d->ooo_bytes;
}

void pt_reasm_free(struct pt_reasm_dir *d, struct pt_reasm_budget *b)
{
    while (d->ooo != NULL) {
        struct pt_reasm_seg *g = d->ooo;
        d->ooo = g->next;
        free_seg(d, g, b);
    }
    if (d->hist != NULL) {
        b->used -= hist_cap(d);
        free(d->hist);
        d->hist = NULL;
    }
}
