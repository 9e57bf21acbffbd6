/*
 * icmp.c - ICMP and ICMPv6 payloads (RFC 792, RFC 4443): what an echo channel carries.
 *
 * Per ICMP flow: echo requests and replies, payload bytes each way, the largest payload,
 * the Shannon entropy of all payload bytes (ping fills are low; tunnels and encrypted data
 * approach 8 bits per byte), replies whose payload differs from their request's (a tunnel
 * answers with its own data; a real host echoes), and requests never answered. One
 * icmp_summary row per flow; heuristics read them later.
 *
 * Trust boundary: payloads are untrusted and only counted and hashed; requests waiting
 * for a reply are remembered up to PT_ICMP_PENDING per flow.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/limits.h"
#include "app.h"

struct pending {
    uint16_t id, seq;
    uint64_t hash;
    bool used;
};

struct icmp_flow {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;
    struct pt_obj *obj;         /* the echo requests' payloads */
    uint64_t obj_bytes, fill_hash;
    bool varied, capped;
    struct pt_icmp_rec out;
    uint64_t hist[256];
    uint64_t total;
    struct pending p[PT_ICMP_PENDING];
    unsigned next;
};

static bool icmp_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                       uint16_t sport)
{
    (void)dir;
    (void)p;
    (void)n;
    (void)cport;
    (void)sport;
    return transport == 1 || transport == 58;
}

static void *icmp_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct icmp_flow *f = calloc(1, sizeof *f);
    if (f != NULL) {
        f->ctx = ctx;
        f->rec = *rec;
        f->out.flow_id = rec->id;
    }
    return f;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ull;
    }
    return h ^ n;
}

/* Add a request's payload to the flow's object unless it is a retransmission. */
static void keep(struct icmp_flow *f, int dir, const uint8_t *p, size_t n,
                 const struct pt_flow_pkt *pkt, uint16_t id, uint16_t seq)
{
    uint64_t h = fnv(p, n);
    for (unsigned i = 0; i < PT_ICMP_PENDING; i++) {
        const struct pending *e = &f->p[i];
        if ((e->used || e->hash != 0) && e->id == id && e->seq == seq && e->hash == h) {
            return; /* the same request again */
        }
    }
    if (n == 0 || f->capped || f->ctx->store == NULL) {
        return;
    }
    if (f->obj == NULL) {
        struct pt_object_rec meta;
        pt_app_object_meta(&meta, &f->rec, dir, "icmp", 0, pkt->item, pkt->frame, pkt->ts_us);
        snprintf(meta.name, sizeof meta.name, "icmp echo request payloads");
        f->obj = pt_obj_open(f->ctx->store, &meta);
        if (f->obj == NULL) {
            f->capped = true;
            return;
        }
        f->fill_hash = n > 16 ? fnv(p + 16, n - 16) : 0;
    }
    if (!f->varied && (n > 16 ? fnv(p + 16, n - 16) : 0) != f->fill_hash) {
        f->varied = true;
    }
    if (f->obj_bytes + n > PT_TUN_MAX_BYTES) {
        n = (size_t)(PT_TUN_MAX_BYTES - f->obj_bytes);
        f->capped = true;
        pt_app_anomaly(f->ctx, pkt, f->rec.item, PT_ANOM_LIMIT_ICMP_PAYLOAD,
                       "ICMP echo payloads longer than the limit; the object is cut");
    }
    pt_obj_write(f->obj, p, n);
    f->obj_bytes += n;
}

static void icmp_datagram(void *st, int dir, const uint8_t *p, size_t n,
                          const struct pt_flow_pkt *pkt)
{
    struct icmp_flow *f = st;
    struct pt_icmp_rec *o = &f->out;
    if (pkt == NULL) {
        return;
    }
    const struct pt_view *v = pkt->v;
    if (o->item == 0) {
        o->item = pkt->item;
        o->frame = pkt->frame;
        o->ts_us = pkt->ts_us;
    }
    o->messages++;
    o->payload_bytes[dir ? 1 : 0] += n;
    o->dir_messages[dir ? 1 : 0]++;
    if (n > o->max_payload) {
        o->max_payload = (uint32_t)n;
    }
    if (n > o->dir_max_payload[dir ? 1 : 0]) {
        o->dir_max_payload[dir ? 1 : 0] = (uint32_t)n;
    }
    for (size_t i = 0; i < n; i++) {
        f->hist[p[i]]++;
    }
    f->total += n;
    bool v6 = v->proto == 58;
    bool rq = v->icmp_type == (v6 ? 128 : 8), rp = v->icmp_type == (v6 ? 129 : 0);
    uint16_t id = v->sport, seq = (uint16_t)v->seq;
    if (rq) {
        o->echo_requests++;
        keep(f, dir, p, n, pkt, id, seq);
        struct pending *e = &f->p[f->next];
        f->next = (f->next + 1) % PT_ICMP_PENDING;
        if (e->used) {
            o->unanswered++; /* pushed out before any reply came */
        }
        *e = (struct pending){id, seq, fnv(p, n), true};
    } else if (rp) {
        o->echo_replies++;
        for (unsigned i = 0; i < PT_ICMP_PENDING; i++) {
            struct pending *e = &f->p[i];
            if (e->used && e->id == id && e->seq == seq) {
                if (e->hash != fnv(p, n)) {
                    o->mismatched_replies++;
                }
                e->used = false;
                break;
            }
        }
    } else {
        o->other++;
    }
}

static void icmp_close(void *st)
{
    struct icmp_flow *f = st;
    struct pt_icmp_rec *o = &f->out;
    for (unsigned i = 0; i < PT_ICMP_PENDING; i++) {
        o->unanswered += f->p[i].used;
    }
    double h = 0;
    for (int i = 0; i < 256 && f->total > 0; i++) {
        if (f->hist[i] > 0) {
            double q = (double)f->hist[i] / (double)f->total;
            h -= q * log2(q);
        }
    }
    o->entropy = h;
    if (o->messages > 0) {
        pt_emit_icmp(f->ctx, o);
    }
    if (f->obj != NULL) {
        struct pt_object_rec rec;
        if (f->obj_bytes < PT_ICMP_OBJECT_MIN || !f->varied) {
            pt_obj_discard(f->obj); /* ping's fill, not data */
        } else if (pt_obj_close(f->obj, !f->capped, &rec)) {
            if (f->ctx->object != NULL) {
                f->ctx->object(f->ctx->arg, &rec);
            }
        } else {
            pt_app_anomaly(f->ctx, NULL, f->rec.item, PT_ANOM_OBJECT_STORE_FAILED,
                           "cannot write the object file");
        }
    }
    free(f);
}

const struct pt_app_proto pt_app_icmp = {
    .name = "icmp",
    .probe = icmp_probe,
    .open = icmp_open,
    .data = pt_app_no_stream,
    .gap = pt_app_no_gap,
    .close = icmp_close,
    .datagram = icmp_datagram,
    .state_size = sizeof(struct icmp_flow),
};
