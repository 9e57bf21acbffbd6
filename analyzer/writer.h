/*
 * writer.h - the writer thread: the one owner of the case database during the packet
 * stage. Producers (the reader, the workers) batch rows of one kind in a struct pt_rowbuf
 * and hand full batches over a bounded queue; the writer applies them in transactions of
 * PT_DB_BATCH_ROWS rows, items and custody events at once.
 */
#ifndef PT_WRITER_H
#define PT_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/app.h"
#include "core/queue.h"
#include "store/db.h"

enum pt_writer_kind {
    PT_W_FLOWS,
    PT_W_ANOMALIES,
    PT_W_STREAM_EVENTS,
    PT_W_OBJECTS,
    PT_W_LOG_SOURCE, /* logs read as records (ingest/logparse.h) */
    PT_W_LOG_CONN,
    PT_W_LOG_DNS,
    PT_W_LOG_HTTP,
    PT_W_LOG_XFER,
    PT_W_LOG_WINEVT,
    PT_W_LOG_AUDIT,
    PT_W_LOG_AUDIT_PATIENT,
    PT_W_REC, /* PT_W_REC + enum pt_rec_kind: the decoders' records (records.def) */
    PT_W_ITEM = PT_W_REC + PT_REC_COUNT,
    PT_W_SEGMENT,
    PT_W_MANIFEST,
    PT_W_AUDIT,
    PT_W_DISK_VOLUME, /* disk images (store/disk.h) */
    PT_W_DISK_FILE,
    PT_W_DISK_IMAGE,
};

struct pt_writer {
    struct pt_db *db;
    struct pt_queue q;
    pthread_t th;
    _Atomic int failed; /* pt_status of the first failure */
    char err[256];
    uint64_t flows, anomalies;
};

/* A producer's batch of bulk rows of one kind; sent to the writer when full or flushed. */
struct pt_rowbuf {
    enum pt_writer_kind kind;
    size_t n, cap;
    uint8_t *rows;
};

/* The thread: arg is the struct pt_writer, its db and q set up; returns when q is closed
 * and drained. The first failure is in failed and err; later messages are dropped. */
void *pt_writer_main(void *arg);

/* Send a batch now (if it holds rows). */
void pt_rowbuf_flush(struct pt_writer *w, struct pt_rowbuf *rb);
/* Copy one row in; the batch goes to the writer when it is full. A row that cannot be
 * buffered (out of memory) is lost, and false says so. */
bool pt_rowbuf_add(struct pt_writer *w, struct pt_rowbuf *rb, const void *row);

/* One manifest entry, one custody event, one row (an item or a segment) of `kind`. */
void pt_writer_manifest(struct pt_writer *w, const char *k, const char *v);
void pt_writer_audit(struct pt_writer *w, const char *action, const char *detail);
void pt_writer_row(struct pt_writer *w, enum pt_writer_kind kind, const void *row, size_t size);
void pt_writer_item(struct pt_writer *w, const struct pt_item_rec *it);

/* Anomalies from one producer thread, batched and capped per kind and evidence item: past
 * PT_ANOMALY_MAX_PER_KIND of a kind in an item, one limit.anomalies row says the rest were
 * not recorded. */
#define PT_ANOM_SINK_KINDS 64

struct pt_anom_sink {
    struct pt_writer *w;
    struct pt_rowbuf rb;          /* kind PT_W_ANOMALIES */
    uint32_t item;                /* counts are per evidence item */
    enum pt_anom kinds[PT_ANOM_SINK_KINDS];
    uint32_t counts[PT_ANOM_SINK_KINDS];
    size_t n_kinds;
};

void pt_anom_sink_init(struct pt_anom_sink *s, struct pt_writer *w);
void pt_anom_sink_push(struct pt_anom_sink *s, uint32_t item, uint64_t frame, uint64_t off,
                       enum pt_anom kind, const char *detail);
/* Send the rows batched so far. */
void pt_anom_sink_flush(struct pt_anom_sink *s);

#endif
