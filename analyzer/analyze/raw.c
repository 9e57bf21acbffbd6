/*
 * raw.c - TCP streams that no protocol decoder recognises (a netcat pipe, a custom agent,
 * SSH): each direction is stored as one object (protocol "tcp"), so the PHI stage and the
 * YARA rules read what was carried even when its protocol is unknown. Listed last in
 * protocols.def: every real decoder is tried first.
 *
 * Detection holds a stream's first bytes and replays them (app.c), so an object starts with
 * the first byte its direction carried; after a protocol switch (HTTP CONNECT, Upgrade) it
 * starts where the tunnel does (stream_off), and only capture gaps are gaps in it.
 * A direction longer than PT_RAW_MAX_BYTES is cut: the object is partial and an anomaly
 * says so.
 *
 * Trust boundary: the bytes are stored as they are, never parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/limits.h"
#include "app.h"

struct raw_dir {
    struct pt_obj *obj;
    uint64_t next;          /* stream offset the object continues at */
    bool started, capped;
};

struct raw_flow {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;
    struct raw_dir d[2];
};

static bool raw_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                      uint16_t sport)
{
    (void)p, (void)n, (void)cport, (void)sport;
    return transport == 6 && dir == 0;
}

static void *raw_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct raw_flow *f = calloc(1, sizeof *f);
    if (f != NULL) {
        f->ctx = ctx;
        f->rec = *rec;
    }
    return f;
}

static void raw_data(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                     const struct pt_flow_pkt *pkt)
{
    struct raw_flow *f = st;
    struct raw_dir *d = &f->d[dir];
    if (!d->started) {
        d->started = true;
        struct pt_object_rec meta;
        pt_app_object_meta(&meta, &f->rec, dir, "tcp", off, pkt ? pkt->item : f->rec.item,
                           pkt ? pkt->frame : 0, pkt ? pkt->ts_us : f->rec.first_ts);
        snprintf(meta.name, sizeof meta.name, "tcp stream %s", dir == 0 ? "c2s" : "s2c");
        d->obj = pt_obj_open(f->ctx->store, &meta);
        if (d->obj == NULL) {
            pt_app_anomaly(f->ctx, pkt, f->rec.item, PT_ANOM_OBJECT_STORE_FAILED,
                           "cannot create the object file");
            return;
        }
        d->next = off;
    }
    if (d->obj == NULL || d->capped) {
        return;
    }
    if (off > d->next) {
        pt_obj_gap(d->obj, off - d->next);
    }
    if (d->next + n > PT_RAW_MAX_BYTES) {
        n = d->next < PT_RAW_MAX_BYTES ? (size_t)(PT_RAW_MAX_BYTES - d->next) : 0;
        d->capped = true;
        pt_app_anomaly(f->ctx, pkt, f->rec.item, PT_ANOM_LIMIT_RAW_STREAM,
                       "unidentified TCP stream longer than the limit; the object is cut");
    }
    pt_obj_write(d->obj, p, n);
    d->next = off + n;
}

static void raw_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    struct raw_flow *f = st;
    struct raw_dir *d = &f->d[dir];
    if (d->obj != NULL && !d->capped) {
        if (off > d->next) {
            pt_obj_gap(d->obj, off - d->next);
        }
        pt_obj_gap(d->obj, n);
        d->next = off + n;
    }
}

static void raw_close(void *st)
{
    struct raw_flow *f = st;
    for (int dir = 0; dir < 2; dir++) {
        struct raw_dir *d = &f->d[dir];
        if (d->obj == NULL) {
            continue;
        }
        if (pt_obj_size(d->obj) == 0) {
            pt_obj_discard(d->obj);
            continue;
        }
        struct pt_object_rec o;
        if (pt_obj_close(d->obj, !d->capped, &o)) {
            if (f->ctx->object != NULL) {
                f->ctx->object(f->ctx->arg, &o);
            }
        } else {
            pt_app_anomaly(f->ctx, NULL, f->rec.item, PT_ANOM_OBJECT_STORE_FAILED,
                           "cannot write the object file");
        }
    }
    free(f);
}

const struct pt_app_proto pt_app_raw = {
    .name = "tcp",
    .probe = raw_probe,
    .open = raw_open,
    .data = raw_data,
    .gap = raw_gap,
    .close = raw_close,
    .datagram = NULL,
    .state_size = sizeof(struct raw_flow),
};
