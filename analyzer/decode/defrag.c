/*
 * defrag.c - IP fragment reassembly (see defrag.h for policy and limits).
 *
 * Each datagram in progress owns a payload buffer (grown on demand up to
 * PT_DEFRAG_MAX_DGRAM) and a bitmap of the bytes received. Datagrams live in
 * a hash table and in a list ordered by arrival, so the oldest can expire
 * after PT_DEFRAG_TIMEOUT_S of capture time and be evicted at the memory cap.
 */
#include "defrag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096u

struct dgram {
    struct pt_frag_key key;
    struct dgram *hnext;          /* hash chain */
    struct dgram *older, *newer;  /* arrival list */
    uint8_t *buf;                 /* payload bytes, cap bytes allocated */
    uint8_t *have;                /* bitmap, one bit per payload byte, cap bits */
    uint32_t cap;
    uint32_t total;               /* payload length once the last fragment is seen, else 0 */
    uint32_t received;            /* distinct payload bytes held */
    uint32_t n_frags;
    bool last_seen;
    int64_t first_ts;
    uint32_t item;
    uint64_t first_frame;
    size_t mem;                   /* bytes charged to the global cap */
};

struct pt_defrag {
    struct dgram *table[BUCKETS];
    struct dgram *oldest, *newest;
    uint64_t n;
    size_t mem;
    pt_anomaly_fn sink;
    void *arg;
    uint8_t *done;                /* last completed payload, owned */
};


struct pt_defrag *pt_defrag_new(pt_anomaly_fn sink, void *arg)
{
    struct pt_defrag *d = calloc(1, sizeof *d);
    if (d != NULL) {
        d->sink = sink;
        d->arg = arg;
    }
    return d;
}

static uint32_t key_hash(const struct pt_frag_key *k)
{
    /* FNV-1a over the fields; not exposed to an attacker's choice of bucket count beyond DoS,
     * which the datagram cap bounds. */
    uint32_t h = 2166136261u;
    const uint8_t *parts[2] = {k->src.b, k->dst.b};
    for (int p = 0; p < 2; p++) {
        for (int i = 0; i < 16; i++) {
            h = (h ^ parts[p][i]) * 16777619u;
        }
    }
    h = (h ^ k->id) * 16777619u;
    h = (h ^ k->proto) * 16777619u;
    h = (h ^ k->ctx.outer) * 16777619u;
    return h % BUCKETS;
}

static bool key_eq(const struct pt_frag_key *a, const struct pt_frag_key *b)
{
    return a->id == b->id && a->proto == b->proto && a->family == b->family &&
           memcmp(a->src.b, b->src.b, 16) == 0 && memcmp(a->dst.b, b->dst.b, 16) == 0 &&
           a->ctx.outer == b->ctx.outer && a->ctx.depth == b->ctx.depth &&
           a->ctx.vlan[0] == b->ctx.vlan[0] && a->ctx.vlan[1] == b->ctx.vlan[1];
}

static void unlink_dgram(struct pt_defrag *d, struct dgram *g)
{
    struct dgram **pp = &d->table[key_hash(&g->key)];
    while (*pp != NULL && *pp != g) {
        pp = &(*pp)->hnext;
    }
    if (*pp == g) {
        *pp = g->hnext;
    }
    if (g->older != NULL) {
        g->older->newer = g->newer;
    } else {
        d->oldest = g->newer;
    }
    if (g->newer != NULL) {
        g->newer->older = g->older;
    } else {
        d->newest = g->older;
    }
    d->n--;
    d->mem -= g->mem;
}

static void free_dgram(struct dgram *g)
{
    if (g != NULL) {
        free(g->buf);
        free(g->have);
        free(g);
    }
}

static void drop(struct pt_defrag *d, struct dgram *g, const char *why)
{
    char detail[160];
    snprintf(detail, sizeof detail, "%s: id %u, %u of %u bytes received in %u fragments", why,
             g->key.id, g->received, g->total, g->n_frags);
    struct pt_frame at = {.item = g->item, .num = g->first_frame};
    d->sink(d->arg, &at, 0,
            g->key.family == 4 ? PT_ANOM_IPV4_FRAG_INCOMPLETE : PT_ANOM_IPV6_FRAG_INCOMPLETE,
            detail);
    unlink_dgram(d, g);
    free_dgram(g);
}

void pt_defrag_flush(struct pt_defrag *d, uint32_t item)
{
    struct dgram *g = d->oldest;
    while (g != NULL) {
        struct dgram *next = g->newer;
        if (item == 0 || g->item == item) {
            drop(d, g, "end of input");
        }
        g = next;
    }
}

void pt_defrag_free(struct pt_defrag *d)
{
    if (d == NULL) {
        return;
    }
    struct dgram *g = d->oldest;
    while (g != NULL) {
        struct dgram *next = g->newer;
        free_dgram(g);
        g = next;
    }
    free(d->done);
    free(d);
}

uint64_t pt_defrag_pending(const struct pt_defrag *d)
{
    return d->n;
}

static bool bit_get(const uint8_t *bm, uint32_t i)
{
    return (bm[i >> 3] >> (i & 7)) & 1;
}

static void bit_set(uint8_t *bm, uint32_t i)
{
    bm[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* Every byte in [0, n) received? (received counts bytes past n too, from overlaps.) */
static bool covered(const uint8_t *bm, uint32_t n)
{
    for (uint32_t i = 0; i < n / 8; i++) {
        if (bm[i] != 0xff) {
            return false;
        }
    }
    for (uint32_t i = n & ~7u; i < n; i++) {
        if (!bit_get(bm, i)) {
            return false;
        }
    }
    return true;
}

/* Grow the payload buffer and its bitmap to hold `need` bytes. At the global memory cap the
 * oldest other datagrams are dropped first (each with an anomaly), so a flood of incomplete
 * datagrams cannot starve new ones. */
static bool grow(struct pt_defrag *d, struct dgram *g, uint32_t need)
{
    if (need <= g->cap) {
        return true;
    }
    uint32_t ncap = g->cap ? g->cap : 2048;
    while (ncap < need) {
        ncap *= 2;
    }
    if (ncap > PT_DEFRAG_MAX_DGRAM + 1) {
        ncap = PT_DEFRAG_MAX_DGRAM + 1;
    }
    size_t extra = (size_t)(ncap - g->cap) + (ncap - g->cap + 7) / 8;
    while (d->mem + extra > PT_DEFRAG_MAX_BYTES && d->oldest != NULL && d->oldest != g) {
        drop(d, d->oldest, "evicted at the memory cap");
    }
    if (d->mem + extra > PT_DEFRAG_MAX_BYTES) {
        return false;
    }
    uint8_t *nb = realloc(g->buf, ncap);
    if (nb == NULL) {
        return false;
    }
    g->buf = nb;
    uint8_t *nh = realloc(g->have, (ncap + 7) / 8);
    if (nh == NULL) {
        return false;
    }
    memset(nh + (g->cap + 7) / 8, 0, (ncap + 7) / 8 - (g->cap + 7) / 8);
    g->have = nh;
    d->mem += extra;
    g->mem += extra;
    g->cap = ncap;
    return true;
}

static void expire(struct pt_defrag *d, int64_t now_us)
{
    while (d->oldest != NULL && now_us - d->oldest->first_ts > (int64_t)PT_DEFRAG_TIMEOUT_S * 1000000) {
        drop(d, d->oldest, "timed out");
    }
}

/* The anomaly `name` of the key's IP version (PT_ANOM_IPV4_<name> or PT_ANOM_IPV6_<name>). */
#define BY_FAMILY(k, name) ((k)->family == 4 ? PT_ANOM_IPV4_##name : PT_ANOM_IPV6_##name)

enum pt_defrag_result pt_defrag_add(struct pt_defrag *d, const struct pt_frame *f,
                                    const struct pt_frag_key *k, uint32_t off,
                                    const uint8_t *data, uint32_t len, bool more,
                                    const uint8_t **out, uint32_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    expire(d, f->ts_us);

    /* RFC 791: offset + length beyond 65535 is impossible for a real datagram. */
    if ((uint64_t)off + len > PT_DEFRAG_MAX_DGRAM) {
        d->sink(d->arg, f, 0, BY_FAMILY(k, FRAG_TOO_LARGE), "fragment ends beyond 65535 bytes");
        return PT_DEFRAG_DROPPED;
    }
    uint32_t h = key_hash(k);
    struct dgram *g = d->table[h];
    while (g != NULL && !key_eq(&g->key, k)) {
        g = g->hnext;
    }
    if (g == NULL) {
        while (d->n >= PT_DEFRAG_MAX_DATAGRAMS && d->oldest != NULL) {
            drop(d, d->oldest, "evicted at the datagram cap");
        }
        g = calloc(1, sizeof *g);
        if (g == NULL) {
            d->sink(d->arg, f, 0, BY_FAMILY(k, FRAG_MEMCAP), "out of memory for a new datagram");
            return PT_DEFRAG_DROPPED;
        }
        g->key = *k;
        g->first_ts = f->ts_us;
        g->item = f->item;
        g->first_frame = f->num;
        g->mem = sizeof *g;
        g->hnext = d->table[h];
        d->table[h] = g;
        g->older = d->newest;
        if (d->newest != NULL) {
            d->newest->newer = g;
        } else {
            d->oldest = g;
        }
        d->newest = g;
        d->n++;
        d->mem += g->mem;
    }
    if (++g->n_frags > PT_DEFRAG_MAX_FRAGS) {
        drop(d, g, "too many fragments");
        return PT_DEFRAG_DROPPED;
    }
    if (!more) {
        if (g->last_seen && g->total != off + len) {
            d->sink(d->arg, f, 0, BY_FAMILY(k, FRAG_CONFLICTING_END),
                    "two last fragments disagree on the datagram length");
        } else if (!g->last_seen) {
            g->last_seen = true;
            g->total = off + len;
        }
    }
    /* RFC 791 §3.2: all fragments but the last carry a multiple of 8 bytes. */
    if (more && (len % 8) != 0) {
        d->sink(d->arg, f, 0, BY_FAMILY(k, FRAG_MISALIGNED),
                "non-final fragment length is not a multiple of 8");
    }
    if (!grow(d, g, off + len)) {
        drop(d, g, "memory cap reached");
        return PT_DEFRAG_DROPPED;
    }
    bool conflict = false;
    for (uint32_t i = 0; i < len; i++) {
        uint32_t at = off + i;
        if (bit_get(g->have, at)) {
            if (g->buf[at] != data[i]) {
                conflict = true;
            }
            continue; /* first data wins */
        }
        g->buf[at] = data[i];
        bit_set(g->have, at);
        g->received++;
    }
    if (conflict) {
        d->sink(d->arg, f, 0, BY_FAMILY(k, FRAG_OVERLAP_CONFLICT),
                "overlapping fragment with different bytes; first kept");
    }
    if (!g->last_seen || g->received < g->total || !covered(g->have, g->total)) {
        return PT_DEFRAG_PENDING;
    }
    /* Bytes past the announced end (from a fragment that overlapped it) are ignored. */
    free(d->done);
    d->done = g->buf;
    g->buf = NULL;
    *out = d->done;
    *out_len = g->total;
    unlink_dgram(d, g);
    free_dgram(g);
    return PT_DEFRAG_DONE;
}
