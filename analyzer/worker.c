/*
 * worker.c - the flow workers and the reader's hand-off to them (see worker.h).
 */
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/doctext.h"
#include "analyze/expect.h"
#include "analyze/unpack.h"
#include "core/limits.h"
#include "core/log.h"

struct pkt_entry {
    struct pt_view v;     /* payload pointer replaced by payload_off into the batch data */
    uint32_t payload_off;
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
    uint32_t wire_len;
    uint8_t view_idx;
};

struct pt_batch {
    bool end;             /* last batch: flush and stop */
    int64_t end_ts;       /* with end: latest packet time of the whole run */
    uint32_t n;
    uint32_t used;        /* bytes of data in use */
    struct pkt_entry e[PT_BATCH_PKTS];
    uint8_t data[PT_BATCH_BYTES];
};

static void worker_object(void *arg, const struct pt_object_rec *r)
{
    struct pt_worker *wk = arg;
    pt_rowbuf_add(wk->w, &wk->objs, r);
    /* a document's text becomes one derived object; its package is then not unpacked, or
     * the raw XML members would be scanned a second time and count patients twice */
    if (!pt_doctext(&wk->app, r)) {
        pt_unpack(&wk->app, r); /* archive members become objects too (recursively, bounded) */
    }
}

static void worker_record(void *arg, enum pt_rec_kind kind, const void *rec)
{
    struct pt_worker *wk = arg;
    pt_rowbuf_add(wk->w, &wk->rec[kind], rec);
}

static void worker_app_anomaly(void *arg, uint32_t item, uint64_t frame, enum pt_anom kind,
                               const char *detail)
{
    struct pt_worker *wk = arg;
    pt_anom_sink_push(&wk->anoms, item, frame, 0, kind, detail);
}

static void worker_emit(void *arg, const struct pt_flow_rec *rec)
{
    struct pt_worker *wk = arg;
    pt_rowbuf_add(wk->w, &wk->out, rec);
}

static void worker_stream_event(void *arg, const struct pt_stream_event *e)
{
    struct pt_worker *wk = arg;
    pt_rowbuf_add(wk->w, &wk->sev, e);
}

static void worker_anomaly(void *arg, const struct pt_flow_pkt *p, enum pt_anom kind,
                           const char *detail)
{
    struct pt_worker *wk = arg;
    pt_anom_sink_push(&wk->anoms, p->item, p->frame, 0, kind, detail);
}

static void *worker_main(void *arg)
{
    struct pt_worker *wk = arg;
    struct pt_batch *b;
    while ((b = pt_queue_pop(&wk->full)) != NULL) {
        for (uint32_t i = 0; i < b->n; i++) {
            struct pkt_entry *e = &b->e[i];
            e->v.payload = b->data + e->payload_off;
            struct pt_flow_pkt p = {.v = &e->v, .item = e->item, .frame = e->frame,
                                    .view_idx = e->view_idx, .ts_us = e->ts_us,
                                    .wire_len = e->wire_len};
            pt_flow_update(wk->flows, &p);
        }
        bool end = b->end;
        int64_t end_ts = b->end_ts;
        b->n = 0;
        b->used = 0;
        b->end = false;
        pt_queue_push(&wk->free, b);
        if (end) {
            pt_flow_flush(wk->flows, end_ts);
            break;
        }
    }
    pt_rowbuf_flush(wk->w, &wk->out);
    pt_rowbuf_flush(wk->w, &wk->sev);
    pt_rowbuf_flush(wk->w, &wk->objs);
    for (int k = 0; k < PT_REC_COUNT; k++) {
        pt_rowbuf_flush(wk->w, &wk->rec[k]);
    }
    pt_anom_sink_flush(&wk->anoms);
    return NULL;
}

/* Reader side: hand the current batch to the worker and take an empty one. */
static void ship(struct pt_worker *wk, bool end, int64_t end_ts)
{
    if (wk->cur == NULL) {
        wk->cur = pt_queue_pop(&wk->free);
    }
    wk->cur->end = end;
    wk->cur->end_ts = end_ts;
    pt_queue_push(&wk->full, wk->cur);
    wk->cur = end ? NULL : pt_queue_pop(&wk->free);
}

/* An object the store could not write (disk full, EIO): an anomaly naming it, on the thread
 * that owns the store. The run then ends with the case sealed incomplete (exit 2). */
static void store_failed(void *arg, const struct pt_object_rec *rec)
{
    struct pt_worker *wk = arg;
    char d[200];
    snprintf(d, sizeof d, "%s object '%.100s' (%llu bytes, sha256 %.16s...) could not be written "
             "to the case: %s", rec->protocol[0] ? rec->protocol : "?", rec->name,
             (unsigned long long)rec->size, rec->sha256, strerror(errno));
    pt_anom_sink_push(&wk->anoms, rec->item, rec->frame, 0, PT_ANOM_STORE_FAILED, d);
}

static pt_status open_store(struct pt_worker *wk, unsigned idx, struct pt_writer *w,
                            const struct pt_worker_conf *c)
{
    wk->idx = idx;
    wk->w = w;
    pt_anom_sink_init(&wk->anoms, w);
    if (pt_objstore_new(c->case_dir, idx, &wk->app.store) != PT_OK) {
        pt_error("cannot create the object store under %s/objects", c->case_dir);
        return PT_EIO;
    }
    pt_objstore_on_fail(wk->app.store, store_failed, wk);
    return PT_OK;
}

pt_status pt_worker_start(struct pt_worker *wk, unsigned idx, struct pt_writer *w,
                          const struct pt_worker_conf *c)
{
    wk->out = (struct pt_rowbuf){.kind = PT_W_FLOWS, .cap = 1024};
    wk->sev = (struct pt_rowbuf){.kind = PT_W_STREAM_EVENTS, .cap = 256};
    wk->objs = (struct pt_rowbuf){.kind = PT_W_OBJECTS, .cap = 256};
    static const size_t rec_batch[PT_REC_COUNT] = {
#define PT_RECORD(name, NAME, table, batch) [PT_REC_##NAME] = batch,
#define PT_RECORD_PUT(name, NAME, put, batch) [PT_REC_##NAME] = batch,
#include "analyze/records.def"
#undef PT_RECORD
#undef PT_RECORD_PUT
    };
    for (int k = 0; k < PT_REC_COUNT; k++) {
        wk->rec[k] = (struct pt_rowbuf){.kind = (enum pt_writer_kind)(PT_W_REC + k),
                                        .cap = rec_batch[k]};
    }
    wk->app = (struct pt_app_ctx){.arg = wk, .object = worker_object, .emit = worker_record,
                                  .unpack = c->unpack, .anomaly = worker_app_anomaly};
    PT_TRY(open_store(wk, idx, w, c));
    wk->flows = pt_flow_table_new(c->home, c->max_flows, worker_emit, worker_anomaly, wk);
    if (wk->flows == NULL || pt_queue_init(&wk->full, PT_RING_SLOTS) != PT_OK ||
        pt_queue_init(&wk->free, PT_RING_SLOTS) != PT_OK) {
        return PT_ENOMEM;
    }
    if (c->flows_only) {
        pt_flow_set_flows_only(wk->flows);
    } else {
        pt_flow_set_stream_events(wk->flows, worker_stream_event);
        pt_flow_set_stream_ops(wk->flows, &pt_app_stream_ops, &wk->app);
    }
    pt_flow_set_memcap(wk->flows, c->memcap);
    for (unsigned k = 0; k < PT_RING_SLOTS; k++) {
        struct pt_batch *b = calloc(1, sizeof *b);
        if (b == NULL) {
            return PT_ENOMEM;
        }
        pt_queue_push(&wk->free, b);
    }
    wk->cur = pt_queue_pop(&wk->free);
    if (pthread_create(&wk->th, NULL, worker_main, wk) != 0) {
        return PT_EINTERNAL;
    }
    wk->started = true;
    return PT_OK;
}

pt_status pt_worker_files_init(struct pt_worker *wk, unsigned idx, struct pt_writer *w,
                               const struct pt_worker_conf *c)
{
    wk->objs = (struct pt_rowbuf){.kind = PT_W_OBJECTS, .cap = 64};
    wk->app = (struct pt_app_ctx){.arg = wk, .object = worker_object, .unpack = c->unpack,
                                  .anomaly = worker_app_anomaly};
    return open_store(wk, idx, w, c);
}

void pt_worker_files_flush(struct pt_worker *wk)
{
    pt_rowbuf_flush(wk->w, &wk->objs);
    pt_anom_sink_flush(&wk->anoms);
}

void pt_worker_stop(struct pt_worker *wk, int64_t end_ts)
{
    if (!wk->started) {
        return;
    }
    ship(wk, true, end_ts);
    pthread_join(wk->th, NULL);
    wk->started = false;
}

uint64_t pt_worker_objects_lost(const struct pt_worker *wk)
{
    return pt_objstore_failures(wk->app.store);
}

void pt_worker_fini(struct pt_worker *wk)
{
    pt_flow_table_free(wk->flows);
    if (wk->full.slots != NULL) {
        struct pt_batch *b;
        pt_queue_close(&wk->free);
        while ((b = pt_queue_pop(&wk->free)) != NULL) {
            free(b);
        }
        pt_queue_close(&wk->full);
        while ((b = pt_queue_pop(&wk->full)) != NULL) {
            free(b);
        }
    }
    pt_queue_fini(&wk->full);
    pt_queue_fini(&wk->free);
    free(wk->cur);
    free(wk->out.rows);
    free(wk->sev.rows);
    free(wk->objs.rows);
    for (int k = 0; k < PT_REC_COUNT; k++) {
        free(wk->rec[k].rows);
    }
    pt_expect_table_free(wk->app.expect);
    pt_objstore_free(wk->app.store);
    free(wk->anoms.rb.rows);
}

/*
 * Routing of announced connections (analyze/expect.h). A connection announced by another
 * flow (an FTP data channel) has its own 5-tuple, so the symmetric hash would send it to any
 * worker; the announcing flow's decoder, which registers the expectation and knows the file
 * name, lives on one. The reader therefore asks the protocols (pt_app_announces) about the
 * start of every TCP segment, whatever its ports, so the result is the same at any thread
 * count; it remembers each announced endpoint with the announcing flow's worker and sends the
 * connection that then uses it to that worker, for its whole life. In that worker the
 * announcement is decoded before the connection's first bytes (capture order), so the claim
 * sees it even when both are in the same batch.
 */
#define ROUTE_PROBE 32

struct router {
    struct {
        struct pt_addr addr;
        uint16_t port;
        unsigned worker;
        int64_t expires;
    } e[PT_EXPECT_MAX];
    unsigned next_e, n_e;
    struct {
        uint64_t hash;
        unsigned worker;
        int64_t last;
        bool used;
    } f[PT_EXPECT_ROUTES];
    unsigned n_f;
};

static unsigned route(struct router *r, const struct pt_view *v, const struct pt_frame *f,
                      uint64_t h, unsigned n_workers)
{
    unsigned w = (unsigned)(h % n_workers);
    if (v->proto != 6 || !v->has_ports || n_workers == 1) {
        return w;
    }
    bool routed = false;
    if (r->n_f > 0) {
        for (unsigned i = 0; i < ROUTE_PROBE; i++) {
            unsigned at = (unsigned)((h + i) % PT_EXPECT_ROUTES);
            if (r->f[at].used && r->f[at].hash == h) {
                w = r->f[at].worker;
                r->f[at].last = f->ts_us;
                routed = true;
                break;
            }
        }
    }
    if (!routed && r->n_e > 0) {
        for (unsigned i = 0; i < PT_EXPECT_MAX; i++) {
            if (r->e[i].expires < f->ts_us) {
                continue;
            }
            bool dst = r->e[i].port == v->dport && pt_addr_cmp(&r->e[i].addr, &v->dst) == 0;
            bool src = r->e[i].port == v->sport && pt_addr_cmp(&r->e[i].addr, &v->src) == 0;
            if (!dst && !src) {
                continue;
            }
            w = r->e[i].worker;
            unsigned best = (unsigned)(h % PT_EXPECT_ROUTES);
            for (unsigned k = 0; k < ROUTE_PROBE; k++) { /* a free slot, else the oldest */
                unsigned at = (unsigned)((h + k) % PT_EXPECT_ROUTES);
                if (!r->f[at].used) {
                    best = at;
                    break;
                }
                if (r->f[at].last < r->f[best].last) {
                    best = at;
                }
            }
            r->n_f += !r->f[best].used;
            r->f[best].used = true;
            r->f[best].hash = h;
            r->f[best].worker = w;
            r->f[best].last = f->ts_us;
            break;
        }
    }
    struct pt_announce an;
    if (v->payload != NULL && v->payload_len >= 8 &&
        pt_app_announces(v->payload, v->payload_len, &v->src, &an)) {
        r->e[r->next_e].addr = an.addr;
        r->e[r->next_e].port = an.port;
        r->e[r->next_e].worker = w; /* the announcing flow's worker */
        r->e[r->next_e].expires = f->ts_us + an.lifetime_us;
        r->next_e = (r->next_e + 1) % PT_EXPECT_MAX;
        r->n_e += r->n_e < PT_EXPECT_MAX;
    }
    return w;
}

struct pt_dispatch {
    struct pt_worker *workers;
    unsigned n;
    struct router router; /* announced connections to the announcing flow's worker */
};

pt_status pt_dispatch_new(struct pt_worker *workers, unsigned n, struct pt_dispatch **out)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL) {
        return PT_ENOMEM;
    }
    (*out)->workers = workers;
    (*out)->n = n;
    return PT_OK;
}

void pt_dispatch_free(struct pt_dispatch *d)
{
    free(d);
}

void pt_dispatch_view(struct pt_dispatch *d, const struct pt_frame *f, const struct pt_view *v,
                      uint8_t idx)
{
    struct pt_worker *wk = &d->workers[route(&d->router, v, f, pt_flow_hash(v), d->n)];
    struct pt_batch *b = wk->cur;
    uint32_t plen = v->payload_len;
    if (b->n == PT_BATCH_PKTS || plen > PT_BATCH_BYTES - b->used) {
        ship(wk, false, 0);
        b = wk->cur;
    }
    struct pkt_entry *e = &b->e[b->n++];
    e->v = *v;
    e->v.payload = NULL;
    e->payload_off = b->used;
    if (plen > 0 && v->payload != NULL) {
        memcpy(b->data + b->used, v->payload, plen);
        b->used += plen;
    }
    e->item = f->item;
    e->frame = f->num;
    e->ts_us = f->ts_us;
    e->wire_len = f->wire_len;
    e->view_idx = idx;
}
