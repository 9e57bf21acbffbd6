/*
 * flow.c - the per-worker flow table (see flow.h for the rules).
 *
 * Open hashing with chains; three LRU lists (open TCP, closed TCP, the rest)
 * each ordered by last packet time, so expiry checks only list heads.
 * Sequence accounting per direction keeps an unwrapped 64-bit high-water
 * mark relative to the first sequence number, fed by the direction's own
 * segments and by the peer's acknowledgements, so bytes the capture missed
 * still count toward volume.
 */
#include "flow.h"

#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <stdio.h>

#include "../core/limits.h"
#include "../core/memcap.h"
#include "../reassemble/tcp_reasm.h"

enum { LRU_TCP_OPEN, LRU_TCP_CLOSED, LRU_OTHER, N_LRU };

struct flow_key {
    struct pt_addr a, b; /* a <= b (with ports) */
    uint16_t pa, pb;
    uint8_t proto, family;
    uint8_t has_ports;   /* a TCP/UDP header was decoded (else ports are 0 and meaningless) */
    uint16_t vlan0, vlan1;
    uint8_t depth, tunnel;
    uint32_t tun_id, outer;
};

struct seqdir {
    bool base_set;
    bool syn;           /* base comes from this direction's SYN (authoritative) */
    bool fin;
    uint32_t first_seq; /* sequence number of the first segment seen (the ISN for a SYN) */
    uint32_t base;      /* sequence number of the first payload byte */
    uint64_t data_hi;   /* highest payload end seen, relative to base */
    uint64_t next_hi;   /* highest sequence number seen on any segment (counts a FIN) */
    uint64_t ack_hi;    /* highest acknowledgement from the peer, relative to base */
};

struct flow {
    struct flow_key key;
    uint64_t hash, hash5;
    struct flow *hnext, *h5next;
    bool asym;                /* the other direction carries other VLAN ids (asym_dir) */
    uint8_t asym_dir;
    uint16_t rvlan0, rvlan1;
    struct flow *prev, *next; /* LRU */
    int lru;
    bool cli_is_a;            /* client is key side a */
    bool closed;
    bool fin_c, fin_s;
    uint16_t hist_seen;       /* which history letters were recorded, 2 x 6 bits */
    uint8_t hist_len;
    struct seqdir sq[2];      /* 0 = client to server */
    struct pt_reasm_dir rs[2];/* TCP byte streams, same directions */
    void *app;                /* stream consumer's state, NULL when none */
    bool app_tried, app_closed;
    uint64_t charged;         /* bytes charged to the memory cap for this flow */
    struct pt_flow_rec rec;
};

struct lru {
    struct flow *head, *tail; /* head = least recently seen */
};

struct pt_flow_table {
    struct flow **buckets;    /* by full key */
    struct flow **buckets5;   /* by key without VLAN ids */
    uint64_t n_buckets;  /* power of two */
    uint64_t live;
    uint32_t max_flows;
    struct lru lru[N_LRU];
    const struct pt_cidr_set *home;
    pt_flow_emit_fn emit;
    pt_flow_anomaly_fn anomaly;
    void *arg;
    uint64_t evicted;
    uint64_t asym_reported;
    struct pt_reasm_budget budget;   /* out-of-order and history bytes of all streams */
    struct pt_reasm_sink rsink;
    struct flow *cur;                /* flow whose stream is being fed (for the sink) */
    const struct pt_flow_pkt *cur_pkt;
    pt_flow_stream_fn stream_ev;
    const struct pt_stream_ops *ops;
    void *ops_arg;
    bool no_streams;                 /* flows only: no reassembly, no stream consumers */
    struct pt_memcap *mc;            /* the run's cap over per-flow state (borrowed), or NULL */
    uint64_t charged;                /* what this table's flows have charged to it */
};

const char *pt_flow_class_str(enum pt_flow_class c)
{
    switch (c) {
        case PT_CLASS_INTERNAL: return "internal";
        case PT_CLASS_OUTBOUND: return "outbound";
        case PT_CLASS_INBOUND: return "inbound";
        case PT_CLASS_EXTERNAL: return "external";
    }
    return "unknown";
}

const char *pt_flow_end_str(enum pt_flow_end e)
{
    switch (e) {
        case PT_END_EOF: return "eof";
        case PT_END_FIN: return "fin";
        case PT_END_RST: return "rst";
        case PT_END_IDLE: return "idle";
        case PT_END_REUSE: return "reuse";
        case PT_END_EVICTED: return "evicted";
    }
    return "unknown";
}

/* ---- keys and hashing ---------------------------------------------------------------------- */

static void make_key(const struct pt_view *v, struct flow_key *k, bool *src_is_a)
{
    memset(k, 0, sizeof *k);
    int c = pt_addr_cmp(&v->src, &v->dst);
    bool a_src = c < 0 || (c == 0 && v->sport <= v->dport);
    k->a = a_src ? v->src : v->dst;
    k->b = a_src ? v->dst : v->src;
    k->pa = a_src ? v->sport : v->dport;
    k->pb = a_src ? v->dport : v->sport;
    k->proto = v->proto;
    k->family = v->family;
    k->has_ports = v->has_ports;
    k->vlan0 = v->ctx.vlan[0];
    k->vlan1 = v->ctx.vlan[1];
    k->depth = v->ctx.depth;
    k->tunnel = v->ctx.tunnel;
    k->tun_id = v->ctx.tun_id;
    k->outer = v->ctx.outer;
    *src_is_a = a_src;
}

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

static uint64_t fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* Hash of everything but the VLAN ids: workers are chosen by it, so both halves of a flow
 * whose directions carry different VLAN tags meet in one table. */
static uint64_t key_hash5(const struct flow_key *k)
{
    uint64_t w[4];
    memcpy(w, k->a.b, 16);
    memcpy(w + 2, k->b.b, 16);
    uint64_t h = 0x6a09e667f3bcc908ull;
    for (int i = 0; i < 4; i++) {
        h = mix(h, w[i]);
    }
    h = mix(h, ((uint64_t)k->pa << 48) | ((uint64_t)k->pb << 32) | ((uint64_t)k->proto << 24) |
                   ((uint64_t)k->depth << 16) | ((uint64_t)k->has_ports << 8) | k->tunnel);
    h = mix(h, ((uint64_t)k->outer << 32) | k->tun_id);
    return fmix(h);
}

static uint64_t key_hash(uint64_t h5, const struct flow_key *k)
{
    return fmix(mix(h5, ((uint64_t)k->vlan0 << 16) | k->vlan1));
}

uint64_t pt_flow_hash(const struct pt_view *v)
{
    struct flow_key k;
    bool a;
    make_key(v, &k, &a);
    return key_hash5(&k);
}

static bool key5_eq(const struct flow_key *x, const struct flow_key *y)
{
    return x->pa == y->pa && x->pb == y->pb && x->proto == y->proto && x->family == y->family &&
           x->has_ports == y->has_ports && x->depth == y->depth && x->tunnel == y->tunnel &&
           x->tun_id == y->tun_id && x->outer == y->outer && memcmp(x->a.b, y->a.b, 16) == 0 &&
           memcmp(x->b.b, y->b.b, 16) == 0;
}

static bool key_eq(const struct flow_key *x, const struct flow_key *y)
{
    return x->vlan0 == y->vlan0 && x->vlan1 == y->vlan1 && key5_eq(x, y);
}

/* ---- LRU lists ------------------------------------------------------------------------------ */

static void lru_unlink(struct pt_flow_table *t, struct flow *f)
{
    struct lru *l = &t->lru[f->lru];
    if (f->prev != NULL) {
        f->prev->next = f->next;
    } else {
        l->head = f->next;
    }
    if (f->next != NULL) {
        f->next->prev = f->prev;
    } else {
        l->tail = f->prev;
    }
    f->prev = f->next = NULL;
}

static void lru_push(struct pt_flow_table *t, struct flow *f, int which)
{
    struct lru *l = &t->lru[which];
    f->lru = which;
    f->next = NULL;
    f->prev = l->tail;
    if (l->tail != NULL) {
        l->tail->next = f;
    } else {
        l->head = f;
    }
    l->tail = f;
}

static int64_t timeout_us(const struct flow *f)
{
    switch (f->lru) {
        case LRU_TCP_OPEN: return (int64_t)PT_FLOW_TCP_IDLE_S * 1000000;
        case LRU_TCP_CLOSED: return (int64_t)PT_FLOW_TCP_CLOSED_S * 1000000;
        default:
            return (int64_t)(f->key.proto == 17 ? PT_FLOW_UDP_IDLE_S : PT_FLOW_OTHER_IDLE_S) *
                   1000000;
    }
}

/* ---- table ---------------------------------------------------------------------------------- */

/* Stamp a stream event with its flow and the packet that revealed it, and pass it on. */
static void stream_event(struct pt_flow_table *t, struct pt_stream_event *e)
{
    if (t->stream_ev == NULL) {
        return;
    }
    e->flow_id = t->cur->rec.id;
    if (t->cur_pkt != NULL) {
        e->item = t->cur_pkt->item;
        e->frame = t->cur_pkt->frame;
    }
    t->stream_ev(t->arg, e);
}

static void rs_data(void *arg, int dir, uint64_t off, const uint8_t *p, size_t n)
{
    struct pt_flow_table *t = arg;
    struct flow *f = t->cur;
    if (t->ops == NULL || f->app_closed) {
        return;
    }
    if (!f->app_tried) {
        f->app_tried = true;
        f->app = t->ops->open(t->ops_arg, &f->rec);
    }
    if (f->app != NULL) {
        t->ops->data(t->ops_arg, f->app, &f->rec, dir, off, p, n, t->cur_pkt);
    }
}

/* Both streams are over: settle them and let the consumer finish. */
static void streams_end(struct pt_flow_table *t, struct flow *f)
{
    const struct pt_flow_pkt *saved = t->cur_pkt;
    t->cur = f;
    for (int d = 0; d < 2; d++) {
        pt_reasm_finish(&f->rs[d], d, &t->budget, &t->rsink);
    }
    t->cur_pkt = saved;
    if (f->app != NULL && !f->app_closed) {
        t->ops->close(t->ops_arg, f->app, &f->rec);
        f->app = NULL;
    }
    f->app_closed = true;
}

static void rs_gap(void *arg, int dir, uint64_t off, uint64_t n)
{
    struct pt_flow_table *t = arg;
    if (t->ops != NULL && t->cur->app != NULL && !t->cur->app_closed) {
        t->ops->gap(t->ops_arg, t->cur->app, &t->cur->rec, dir, off, n);
    }
    struct pt_stream_event e = {.dir = (uint8_t)dir, .kind = PT_STREAM_GAP, .off = off, .len = n};
    stream_event(arg, &e);
}

static void rs_conflict(void *arg, int dir, uint64_t off, uint64_t n, const uint8_t *kept,
                        const uint8_t *other)
{
    struct pt_stream_event e = {.dir = (uint8_t)dir, .kind = PT_STREAM_CONFLICT, .off = off,
                                .len = n};
    memcpy(e.kept, kept, sizeof e.kept);
    memcpy(e.other, other, sizeof e.other);
    stream_event(arg, &e);
}

static void rs_limit(void *arg, int dir, enum pt_anom kind)
{
    (void)dir;
    struct pt_flow_table *t = arg;
    if (t->anomaly != NULL && t->cur_pkt != NULL) {
        t->anomaly(t->arg, t->cur_pkt, kind, "reassembly cap reached: the stream skipped ahead");
    }
}

struct pt_flow_table *pt_flow_table_new(const struct pt_cidr_set *home, uint32_t max_flows,
                                        pt_flow_emit_fn emit, pt_flow_anomaly_fn anomaly,
                                        void *arg)
{
    struct pt_flow_table *t = calloc(1, sizeof *t);
    if (t == NULL) {
        return NULL;
    }
    t->n_buckets = 1 << 16;
    t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
    t->buckets5 = calloc(t->n_buckets, sizeof *t->buckets5);
    if (t->buckets == NULL || t->buckets5 == NULL) {
        free(t->buckets);
        free(t->buckets5);
        free(t);
        return NULL;
    }
    t->max_flows = max_flows ? max_flows : PT_FLOW_MAX_PER_WORKER_DEFAULT;
    t->budget.max = PT_REASM_WORKER_MAX_DEFAULT;
    t->rsink = (struct pt_reasm_sink){t, rs_data, rs_gap, rs_conflict, rs_limit};
    t->home = home;
    t->emit = emit;
    t->anomaly = anomaly;
    t->arg = arg;
    return t;
}

static void unlink_hash(struct pt_flow_table *t, struct flow *f)
{
    struct flow **pp = &t->buckets[f->hash & (t->n_buckets - 1)];
    while (*pp != NULL && *pp != f) {
        pp = &(*pp)->hnext;
    }
    if (*pp == f) {
        *pp = f->hnext;
    }
    pp = &t->buckets5[f->hash5 & (t->n_buckets - 1)];
    while (*pp != NULL && *pp != f) {
        pp = &(*pp)->h5next;
    }
    if (*pp == f) {
        *pp = f->h5next;
    }
}

void pt_flow_set_stream_events(struct pt_flow_table *t, pt_flow_stream_fn fn)
{
    t->stream_ev = fn;
}

void pt_flow_set_flows_only(struct pt_flow_table *t)
{
    t->no_streams = true;
}

void pt_flow_set_stream_ops(struct pt_flow_table *t, const struct pt_stream_ops *ops, void *arg)
{
    t->ops = ops;
    t->ops_arg = arg;
}

/* ---- memory cap ------------------------------------------------------------------------------ */

void pt_flow_set_memcap(struct pt_flow_table *t, struct pt_memcap *m)
{
    t->mc = m;
    pt_memcap_hold(m);
}

/* What a flow holds: itself, its two reassembled streams and its consumer's state. */
static uint64_t flow_mem(const struct pt_flow_table *t, const struct flow *f)
{
    uint64_t n = sizeof *f + pt_reasm_mem(&f->rs[0]) + pt_reasm_mem(&f->rs[1]);
    if (f->app != NULL && !f->app_closed && t->ops != NULL && t->ops->mem != NULL) {
        n += t->ops->mem(t->ops_arg, f->app);
    }
    return n;
}

static void charge(struct pt_flow_table *t, struct flow *f, uint64_t now)
{
    if (t->mc == NULL || now == f->charged) {
        return;
    }
    pt_memcap_charge(t->mc, (int64_t)now - (int64_t)f->charged);
    t->charged = t->charged + now - f->charged;
    f->charged = now;
}

static void finish(struct pt_flow_table *t, struct flow *f, enum pt_flow_end why);

/* The least recently seen flow of all lists, other than `keep`. */
static struct flow *oldest(struct pt_flow_table *t, const struct flow *keep)
{
    struct flow *victim = NULL;
    for (int i = 0; i < N_LRU; i++) {
        struct flow *h = t->lru[i].head;
        if (h == keep) {
            h = h->next;
        }
        if (h != NULL && (victim == NULL || h->rec.last_ts < victim->rec.last_ts)) {
            victim = h;
        }
    }
    return victim;
}

/*
 * Over the cap: end this worker's least recently seen flows (never `keep`, whose packet is
 * being handled) as at the end of the capture, so what they buffered still reaches their
 * decoders, which store it (undecided streams are stored raw), until the whole run is back at
 * the low watermark, this worker at its share of it, or the burst at its size. One anomaly per
 * burst, with its counts.
 */
static void memcap_evict(struct pt_flow_table *t, const struct pt_flow_pkt *p, struct flow *keep)
{
    if (!pt_memcap_over(t->mc)) {
        return;
    }
    uint64_t low = pt_memcap_low(t->mc);
    uint64_t share = pt_memcap_share(t->mc);
    uint64_t burst = t->mc->max / 100 * PT_MEMCAP_BURST_PERCENT;
    uint64_t flows = 0, bytes = 0, pkts = 0, payload = 0;
    struct flow *v;
    while (pt_memcap_used(t->mc) > low && t->charged > share && bytes < burst &&
           (v = oldest(t, keep)) != NULL) {
        bytes += v->charged;
        flows++;
        pkts += v->rec.c2s.pkts + v->rec.s2c.pkts;
        payload += v->rec.c2s.captured_bytes + v->rec.s2c.captured_bytes;
        finish(t, v, PT_END_EVICTED);
    }
    if (flows == 0) {
        return;
    }
    pt_memcap_evicted(t->mc, flows, bytes);
    if (t->anomaly != NULL) {
        char detail[384];
        snprintf(detail, sizeof detail,
                 "memory cap of %" PRIu64 " MiB over per-flow decoder state reached: %" PRIu64
                 " flow(s) ended early, oldest idle first, releasing %" PRIu64
                 " bytes of state (%" PRIu64 " packets, %" PRIu64
                 " payload bytes so far; what they buffered was decoded or stored raw); later "
                 "packets of them start new flows, so records and objects may be missing or split",
                 t->mc->max >> 20, flows, bytes, pkts, payload);
        t->anomaly(t->arg, p, PT_ANOM_LIMIT_MEMCAP, detail);
    }
}

static void finish(struct pt_flow_table *t, struct flow *f, enum pt_flow_end why)
{
    if (f->app != NULL && !f->app_closed && !(f->key.proto == 6 && f->key.has_ports)) {
        t->ops->close(t->ops_arg, f->app, &f->rec); /* UDP consumers */
        f->app = NULL;
        f->app_closed = true;
    }
    if (f->key.proto == 6 && f->key.has_ports) {
        t->cur_pkt = NULL;
        streams_end(t, f);
        for (int d = 0; d < 2; d++) {
            struct pt_flow_dir *fd = d == 0 ? &f->rec.c2s : &f->rec.s2c;
            fd->stream_bytes = f->rs[d].delivered;
            fd->gap_bytes = f->rs[d].gap_bytes;
            fd->conflicts = f->rs[d].conflicts;
        }
    }
    /* Sequence-implied bytes: the larger of data seen and data acknowledged, less the FIN. */
    for (int d = 0; d < 2; d++) {
        struct seqdir *s = &f->sq[d];
        uint64_t acked = s->ack_hi > s->next_hi ? s->ack_hi : s->next_hi;
        if (s->fin && acked > s->data_hi) {
            acked--; /* the FIN takes one sequence number and carries no byte */
        }
        uint64_t implied = s->data_hi > acked ? s->data_hi : acked;
        (d == 0 ? &f->rec.c2s : &f->rec.s2c)->seq_bytes = implied;
    }
    f->rec.end = (uint8_t)why;
    f->rec.history[f->hist_len] = '\0';
    t->emit(t->arg, &f->rec);
    lru_unlink(t, f);
    unlink_hash(t, f);
    t->live--;
    charge(t, f, 0);
    free(f);
}

static void grow_table(struct pt_flow_table *t)
{
    uint64_t nb = t->n_buckets * 2;
    struct flow **b = calloc(nb, sizeof *b);
    struct flow **b5 = calloc(nb, sizeof *b5);
    if (b == NULL || b5 == NULL) {
        free(b);
        free(b5);
        return; /* keep the smaller table; chains grow, nothing is lost */
    }
    for (uint64_t i = 0; i < t->n_buckets; i++) {
        struct flow *f = t->buckets[i];
        while (f != NULL) {
            struct flow *n = f->hnext;
            f->hnext = b[f->hash & (nb - 1)];
            b[f->hash & (nb - 1)] = f;
            f = n;
        }
        f = t->buckets5[i];
        while (f != NULL) {
            struct flow *n = f->h5next;
            f->h5next = b5[f->hash5 & (nb - 1)];
            b5[f->hash5 & (nb - 1)] = f;
            f = n;
        }
    }
    free(t->buckets);
    free(t->buckets5);
    t->buckets = b;
    t->buckets5 = b5;
    t->n_buckets = nb;
}

static void expire(struct pt_flow_table *t, int64_t now)
{
    for (int i = 0; i < N_LRU; i++) {
        while (t->lru[i].head != NULL && now - t->lru[i].head->rec.last_ts > timeout_us(t->lru[i].head)) {
            struct flow *f = t->lru[i].head;
            finish(t, f, i == LRU_TCP_CLOSED ? (f->rec.end == PT_END_RST ? PT_END_RST : PT_END_FIN)
                                            : PT_END_IDLE);
        }
    }
}

static void evict_one(struct pt_flow_table *t, const struct pt_flow_pkt *p)
{
    struct flow *victim = NULL;
    for (int i = 0; i < N_LRU; i++) {
        struct flow *h = t->lru[i].head;
        if (h != NULL && (victim == NULL || h->rec.last_ts < victim->rec.last_ts)) {
            victim = h;
        }
    }
    if (victim == NULL) {
        return;
    }
    if (t->evicted++ == 0 && t->anomaly != NULL) {
        t->anomaly(t->arg, p, PT_ANOM_LIMIT_FLOW_TABLE,
                   "flow table full: least recently seen flows were ended early");
    }
    finish(t, victim, PT_END_EVICTED);
}

static enum pt_flow_class classify(const struct pt_flow_table *t, const struct pt_addr *cli,
                                   const struct pt_addr *srv)
{
    bool ci = pt_cidr_set_contains(t->home, cli);
    bool si = pt_cidr_set_contains(t->home, srv);
    if (ci && si) {
        return PT_CLASS_INTERNAL;
    }
    if (ci) {
        return PT_CLASS_OUTBOUND;
    }
    if (si) {
        return PT_CLASS_INBOUND;
    }
    return PT_CLASS_EXTERNAL;
}

static struct flow *create(struct pt_flow_table *t, const struct pt_flow_pkt *p,
                           const struct flow_key *k, uint64_t h, uint64_t h5, bool src_is_a)
{
    if (t->live >= t->max_flows) {
        evict_one(t, p);
    }
    struct flow *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return NULL;
    }
    const struct pt_view *v = p->v;
    f->key = *k;
    f->hash = h;
    f->hash5 = h5;
    /* Who is the client? SYN sender; SYN-ACK receiver; else low port = server; else sender. */
    bool src_client = true;
    if (v->proto == 6 && v->has_ports && (v->tcp_flags & PT_TCP_SYN)) {
        src_client = !(v->tcp_flags & PT_TCP_ACK);
    } else if (v->has_ports && v->sport < 1024 && v->dport >= 1024) {
        src_client = false;
    }
    f->cli_is_a = src_client == src_is_a;
    struct pt_flow_rec *r = &f->rec;
    r->id = ((int64_t)p->item << 40) | (int64_t)((p->frame & ((1ull << 37) - 1)) << 3) |
            (p->view_idx & 7);
    r->item = p->item;
    r->first_frame = p->frame;
    r->cli = src_client ? v->src : v->dst;
    r->srv = src_client ? v->dst : v->src;
    r->cport = src_client ? v->sport : v->dport;
    r->sport = src_client ? v->dport : v->sport;
    r->proto = v->proto;
    r->ports_known = v->has_ports;
    r->family = v->family;
    r->ctx = v->ctx;
    r->first_ts = p->ts_us;
    r->cls = (uint8_t)classify(t, &r->cli, &r->srv);
    f->hnext = t->buckets[h & (t->n_buckets - 1)];
    t->buckets[h & (t->n_buckets - 1)] = f;
    f->h5next = t->buckets5[h5 & (t->n_buckets - 1)];
    t->buckets5[h5 & (t->n_buckets - 1)] = f;
    lru_push(t, f, v->proto == 6 && v->has_ports ? LRU_TCP_OPEN : LRU_OTHER);
    if (++t->live > t->n_buckets) {
        grow_table(t);
    }
    return f;
}

/* Zeek-like history: each letter once per side; upper case from the client. */
static void history(struct flow *f, int dir, char letter)
{
    static const char letters[] = "SHADFR";
    const char *pos = strchr(letters, letter);
    unsigned bit = (unsigned)(pos - letters) + (dir ? 6u : 0u);
    if (f->hist_seen & (1u << bit) || (size_t)f->hist_len + 1 >= sizeof f->rec.history) {
        return;
    }
    f->hist_seen |= (uint16_t)(1u << bit);
    f->rec.history[f->hist_len++] = dir ? (char)(letter - 'A' + 'a') : letter;
}

/* Advance an unwrapped 64-bit relative position by a 32-bit sequence value. Jumps beyond
 * 1 GiB are not believed: they are garbage or a different connection. */
static void seq_advance(uint64_t *hi, uint32_t base, uint32_t seq_end)
{
    uint32_t cur = base + (uint32_t)*hi;
    int32_t delta = (int32_t)(seq_end - cur);
    if (delta > 0 && delta < (1 << 30)) {
        *hi += (uint64_t)delta;
    }
}

static void tcp_account(struct pt_flow_table *t, struct flow *f, const struct pt_view *v, int dir)
{
    struct seqdir *s = &f->sq[dir];
    uint8_t fl = v->tcp_flags;
    if (fl & PT_TCP_SYN) {
        history(f, dir, (fl & PT_TCP_ACK) ? 'H' : 'S');
        /* A SYN fixes the initial sequence number. A base guessed earlier from a stray ACK
         * (a challenge ACK, a peer's acknowledgement) gives way while no byte depends on it. */
        bool guessed = s->base_set && !s->syn && f->rs[dir].delivered == 0 &&
                       f->rs[dir].ooo_bytes == 0 && f->rs[dir].gap_bytes == 0;
        if (!s->base_set || guessed) {
            if (!s->base_set) {
                s->first_seq = v->seq;
            }
            s->base_set = true;
            s->syn = true;
            s->base = v->seq + 1;
            s->data_hi = s->next_hi = s->ack_hi = 0;
            pt_reasm_start(&f->rs[dir], s->base);
        }
    } else if (!s->base_set) {
        s->base_set = true;
        s->first_seq = v->seq;
        s->base = v->seq;
        pt_reasm_start(&f->rs[dir], s->base);
    }
    /* The byte stream: data of a SYN (TCP Fast Open) starts after the SYN's own number. */
    if (v->payload_wire > 0 && !t->no_streams) {
        uint32_t data_seq = (fl & PT_TCP_SYN) ? v->seq + 1 : v->seq;
        pt_reasm_segment(&f->rs[dir], dir, data_seq, v->payload, v->payload_len, v->payload_wire,
                         &t->budget, &t->rsink);
    }
    if (fl & PT_TCP_FIN) {
        pt_reasm_fin(&f->rs[dir], ((fl & PT_TCP_SYN) ? v->seq + 1 : v->seq) + v->payload_wire);
    }
    if (!(fl & PT_TCP_SYN)) {
        if (v->payload_wire > 0) {
            seq_advance(&s->data_hi, s->base, v->seq + v->payload_wire);
        }
        seq_advance(&s->next_hi, s->base, v->seq + v->payload_wire);
    }
    if (v->payload_wire > 0) {
        history(f, dir, 'D');
    } else if ((fl & (PT_TCP_ACK | PT_TCP_SYN | PT_TCP_FIN | PT_TCP_RST)) == PT_TCP_ACK) {
        history(f, dir, 'A');
    }
    if (fl & PT_TCP_FIN) {
        s->fin = true;
        history(f, dir, 'F');
        if (dir == 0) {
            f->fin_c = true;
        } else {
            f->fin_s = true;
        }
    }
    if (fl & PT_TCP_ACK) {
        struct seqdir *peer = &f->sq[!dir];
        if (!peer->base_set) {
            /* Nothing seen from the peer yet: its acknowledged stream starts here. */
            peer->base_set = true;
            peer->first_seq = v->ack;
            peer->base = v->ack;
            pt_reasm_start(&f->rs[!dir], peer->base);
        } else if ((s->syn || !f->sq[!dir].syn) && !t->no_streams) {
            /* Acknowledgements count once this side's handshake is seen (or when the capture
             * holds no handshake at all): a challenge ACK before it acknowledges nothing. */
            seq_advance(&peer->ack_hi, peer->base, v->ack);
            pt_reasm_ack(&f->rs[!dir], !dir, v->ack, &t->budget, &t->rsink);
        }
    }
    if (fl & PT_TCP_RST) {
        history(f, dir, 'R');
    }
}

/*
 * Asymmetric VLANs (router-on-a-stick SPAN ports tag each direction differently): a packet
 * that matches no flow, but matches one by everything except the VLAN ids, belongs to it when
 * that flow has never seen this direction, or already adopted these VLAN ids for it.
 */
static struct flow *asym_vlan_match(struct pt_flow_table *t, const struct pt_flow_pkt *p,
                                    const struct flow_key *k, uint64_t h5, bool src_is_a)
{
    for (struct flow *g = t->buckets5[h5 & (t->n_buckets - 1)]; g != NULL; g = g->h5next) {
        if (g->hash5 != h5 || !key5_eq(&g->key, k)) {
            continue;
        }
        uint8_t dir = g->cli_is_a == src_is_a ? 0 : 1;
        if (g->asym) {
            if (g->asym_dir == dir && g->rvlan0 == k->vlan0 && g->rvlan1 == k->vlan1) {
                return g;
            }
            continue;
        }
        uint64_t seen = dir == 0 ? g->rec.c2s.pkts : g->rec.s2c.pkts;
        if (seen == 0) {
            g->asym = true;
            g->asym_dir = dir;
            g->rvlan0 = k->vlan0;
            g->rvlan1 = k->vlan1;
            g->rec.reply_vlan[0] = k->vlan0;
            g->rec.reply_vlan[1] = k->vlan1;
            g->rec.asym_vlan = (uint8_t)(dir + 1);
            if (t->anomaly != NULL && t->asym_reported++ == 0) {
                t->anomaly(t->arg, p, PT_ANOM_FLOW_ASYMMETRIC_VLAN,
                           "the two directions of a flow carry different VLAN ids; joined");
            }
            return g;
        }
    }
    return NULL;
}

void pt_flow_update(struct pt_flow_table *t, const struct pt_flow_pkt *p)
{
    const struct pt_view *v = p->v;
    struct flow_key k;
    bool src_is_a;
    make_key(v, &k, &src_is_a);
    uint64_t h5 = key_hash5(&k);
    uint64_t h = key_hash(h5, &k);
    expire(t, p->ts_us);
    struct flow *f = t->buckets[h & (t->n_buckets - 1)];
    while (f != NULL && !(f->hash == h && key_eq(&f->key, &k))) {
        f = f->hnext;
    }
    bool tcp = v->proto == 6 && v->has_ports;
    if (f == NULL && !(tcp && (v->tcp_flags & (PT_TCP_SYN | PT_TCP_ACK)) == PT_TCP_SYN)) {
        f = asym_vlan_match(t, p, &k, h5, src_is_a);
    }
    if (f != NULL) {
        int dir = f->cli_is_a == src_is_a ? 0 : 1;
        bool pure_syn = tcp && (v->tcp_flags & (PT_TCP_SYN | PT_TCP_ACK)) == PT_TCP_SYN;
        if (pure_syn && f->sq[dir].base_set && v->seq != f->sq[dir].first_seq) {
            finish(t, f, PT_END_REUSE);
            f = NULL;
        } else if (p->ts_us - f->rec.last_ts > timeout_us(f)) {
            finish(t, f, PT_END_IDLE);
            f = NULL;
        }
    }
    if (f == NULL) {
        f = create(t, p, &k, h, h5, src_is_a);
        if (f == NULL) {
            return; /* out of memory: this packet goes uncounted; the table keeps working */
        }
    }
    int dir = f->cli_is_a == src_is_a ? 0 : 1;
    struct pt_flow_dir *d = dir == 0 ? &f->rec.c2s : &f->rec.s2c;
    d->pkts++;
    d->frame_bytes += p->wire_len;
    d->ip_bytes += v->ip_len;
    d->payload_bytes += v->payload_wire;
    d->captured_bytes += v->payload_len;
    d->tcp_flags |= v->tcp_flags;
    if (p->ts_us < f->rec.first_ts) {
        f->rec.first_ts = p->ts_us;
    }
    if (p->ts_us > f->rec.last_ts) {
        f->rec.last_ts = p->ts_us;
    }
    f->rec.last_item = p->item;
    f->rec.last_frame = p->frame;
    int which = f->lru;
    bool dgram = (v->proto == 17 && v->has_ports) || v->proto == 1 || v->proto == 58;
    if (dgram && (v->payload_len > 0 || v->proto != 17) && t->ops != NULL &&
        t->ops->datagram != NULL) {
        if (!f->app_tried) {
            f->app_tried = true;
            f->app = t->ops->open(t->ops_arg, &f->rec);
        }
        if (f->app != NULL) {
            t->ops->datagram(t->ops_arg, f->app, &f->rec, dir, v->payload, v->payload_len,
                             v->payload_wire, p);
        }
    }
    if (tcp) {
        t->cur = f;
        t->cur_pkt = p;
        tcp_account(t, f, v, dir);
        t->cur_pkt = NULL;
        bool was_closed = f->closed;
        if (v->tcp_flags & PT_TCP_RST) {
            f->closed = true;
            f->rec.end = PT_END_RST;
        } else if (f->fin_c && f->fin_s) {
            f->closed = true;
            f->rec.end = PT_END_FIN;
        } else if (f->closed && (v->payload_wire > 0 || (v->tcp_flags & PT_TCP_SYN))) {
            /* Traffic after a RST (a forged one from a middlebox, typically): the connection
             * lives on, and so does its flow. */
            f->closed = false;
            f->rec.end = PT_END_EOF;
        }
        if (f->closed && !was_closed && f->rec.end == PT_END_FIN) {
            /* Both sides are done: settle the streams now and give their memory back instead
             * of holding it through the closed-flow linger time. */
            streams_end(t, f);
        }
        which = f->closed ? LRU_TCP_CLOSED : LRU_TCP_OPEN;
    }
    lru_unlink(t, f);
    lru_push(t, f, which);
    if (t->mc != NULL) {
        charge(t, f, flow_mem(t, f));
        memcap_evict(t, p, f);
    }
}

void pt_flow_flush(struct pt_flow_table *t, int64_t end_ts)
{
    for (int i = 0; i < N_LRU; i++) {
        while (t->lru[i].head != NULL) {
            struct flow *f = t->lru[i].head;
            enum pt_flow_end why = PT_END_EOF;
            if (i == LRU_TCP_CLOSED) {
                why = (enum pt_flow_end)f->rec.end;
            } else if (end_ts - f->rec.last_ts > timeout_us(f)) {
                /* Would have timed out before the evidence ends, whichever worker held it. */
                why = PT_END_IDLE;
            }
            finish(t, f, why);
        }
    }
}

uint64_t pt_flow_live(const struct pt_flow_table *t)
{
    return t->live;
}

void pt_flow_table_free(struct pt_flow_table *t)
{
    if (t == NULL) {
        return;
    }
    for (int i = 0; i < N_LRU; i++) {
        struct flow *f = t->lru[i].head;
        while (f != NULL) {
            struct flow *n = f->next;
            charge(t, f, 0);
            pt_reasm_free(&f->rs[0], &t->budget);
            pt_reasm_free(&f->rs[1], &t->budget);
            free(f);
            f = n;
        }
    }
    free(t->buckets);
    free(t->buckets5);
    free(t);
}
