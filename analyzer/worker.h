/*
 * worker.h - the flow workers of the packet stage, and the reader's hand-off to them.
 *
 * Each worker is a thread owning a flow table (flow/flow.h) and, through it, the stream
 * reassembly and protocol decoders of its flows, plus an object store. The reader appends
 * each decoded view to the batch of the worker its flow hashes to (symmetric, so both
 * directions meet) and ships full batches over a bounded queue; empty batches come back over
 * a second one, so memory is bounded whatever the input size. Workers send finished flows,
 * records, objects and anomalies to the writer (writer.h) in batches.
 */
#ifndef PT_WORKER_H
#define PT_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "analyze/app.h"
#include "core/addr.h"
#include "core/memcap.h"
#include "core/queue.h"
#include "decode/decode.h"
#include "flow/flow.h"
#include "writer.h"

struct pt_batch;

struct pt_worker {
    unsigned idx;
    pthread_t th;
    bool started;                       /* the thread runs: ship an end batch, then join */
    struct pt_queue full, free;         /* batches to process, and back to the reader */
    struct pt_batch *cur;               /* reader side: batch being filled */
    struct pt_flow_table *flows;
    struct pt_rowbuf out;               /* finished flows, kind PT_W_FLOWS */
    struct pt_rowbuf sev;               /* stream gaps and conflicts, kind PT_W_STREAM_EVENTS */
    struct pt_rowbuf objs;              /* kind PT_W_OBJECTS */
    struct pt_rowbuf rec[PT_REC_COUNT]; /* kind PT_W_REC + k: the decoders' records */
    struct pt_anom_sink anoms;
    struct pt_app_ctx app;
    struct pt_writer *w;
};

/* What every worker of a run shares (borrowed; outlives the workers). */
struct pt_worker_conf {
    const char *case_dir;               /* objects/ is under it */
    const struct pt_cidr_set *home;
    uint32_t max_flows;                 /* per worker; 0 = default */
    bool flows_only;                    /* no reassembly, protocols or objects */
    struct pt_memcap *memcap;
    struct pt_unpack_run *unpack;
};

/* Set up worker `idx` (object store `idx`) and start its thread. On failure the worker may
 * be partly set up: pt_worker_fini releases it. */
pt_status pt_worker_start(struct pt_worker *wk, unsigned idx, struct pt_writer *w,
                          const struct pt_worker_conf *c);
/* The reader's own object store for files at rest (store `idx`): no thread, no flows. Its
 * objects are unpacked and stored like a worker's; pt_worker_files_flush sends them. */
pt_status pt_worker_files_init(struct pt_worker *wk, unsigned idx, struct pt_writer *w,
                               const struct pt_worker_conf *c);
void pt_worker_files_flush(struct pt_worker *wk);
/* Reader side: the last batch (flows still open end at end_ts, 0: "eof"), then wait for the
 * thread. Nothing when the thread never started. */
void pt_worker_stop(struct pt_worker *wk, int64_t end_ts);
/* Objects its store could not write (store.failed anomalies). */
uint64_t pt_worker_objects_lost(const struct pt_worker *wk);
/* Release everything the worker holds (its thread stopped). */
void pt_worker_fini(struct pt_worker *wk);

/* The reader's hand-off: which worker each view goes to. */
struct pt_dispatch;

pt_status pt_dispatch_new(struct pt_worker *workers, unsigned n, struct pt_dispatch **out);
void pt_dispatch_free(struct pt_dispatch *d);
/* Append view `idx` of frame `f` to its worker's batch (the view's payload is copied). */
void pt_dispatch_view(struct pt_dispatch *d, const struct pt_frame *f, const struct pt_view *v,
                      uint8_t idx);

#endif
