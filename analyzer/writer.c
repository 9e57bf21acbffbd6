/*
 * writer.c - the writer thread (see writer.h).
 */
#include "writer.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/version.h"
#include "ingest/logparse.h"
#include "store/disk.h"

/* ---- messages ---------------------------------------------------------------------------------
 */

struct wmsg {
    enum pt_writer_kind kind;
    size_t n;
    void *rows;      /* owned: flows, anomalies or one item */
    char *a, *b, *c; /* owned strings: manifest key/value, audit actor/action/detail */
};

static void wmsg_free(struct wmsg *m)
{
    if (m != NULL) {
        free(m->rows);
        free(m->a);
        free(m->b);
        free(m->c);
        free(m);
    }
}

/* Bulk row kinds: how the writer stores one row of each. */
static pt_status put_flow(struct pt_db *db, const void *row)
{
    return pt_db_flow_put(db, row);
}

static pt_status put_anomaly(struct pt_db *db, const void *row)
{
    return pt_db_anomaly_put(db, row);
}

static pt_status put_stream_event(struct pt_db *db, const void *row)
{
    return pt_db_stream_event_put(db, row);
}

static pt_status put_object(struct pt_db *db, const void *row)
{
    return pt_db_object_put(db, row);
}

static pt_status put_logsource(struct pt_db *db, const void *row)
{
    return pt_db_logsource_put(db, row);
}

static pt_status put_logconn(struct pt_db *db, const void *row)
{
    return pt_db_logconn_put(db, row);
}

static pt_status put_logdns(struct pt_db *db, const void *row)
{
    return pt_db_logdns_put(db, row);
}

static pt_status put_loghttp(struct pt_db *db, const void *row)
{
    return pt_db_loghttp_put(db, row);
}

static pt_status put_logxfer(struct pt_db *db, const void *row)
{
    return pt_db_logxfer_put(db, row);
}

static pt_status put_logwinevt(struct pt_db *db, const void *row)
{
    return pt_db_logwinevt_put(db, row);
}

static pt_status put_logaudit(struct pt_db *db, const void *row)
{
    return pt_db_logaudit_put(db, row);
}

static pt_status put_logaudit_patient(struct pt_db *db, const void *row)
{
    return pt_db_logaudit_patient_put(db, row);
}

#define PT_RECORD(name, NAME, table, batch)                                                        \
    static pt_status put_##name(struct pt_db *db, const void *row)                                 \
    {                                                                                              \
        return pt_db_record_put(db, PT_REC_##NAME, row);                                           \
    }
#define PT_RECORD_PUT(name, NAME, put, batch) PT_RECORD(name, NAME, put, batch)
#include "analyze/records.def"
#undef PT_RECORD
#undef PT_RECORD_PUT

static const struct {
    pt_status (*put)(struct pt_db *db, const void *row);
    size_t size;
} bulk[] = {
    [PT_W_FLOWS] = {put_flow, sizeof(struct pt_flow_rec)},
    [PT_W_ANOMALIES] = {put_anomaly, sizeof(struct pt_anomaly_rec)},
    [PT_W_STREAM_EVENTS] = {put_stream_event, sizeof(struct pt_stream_event)},
    [PT_W_OBJECTS] = {put_object, sizeof(struct pt_object_rec)},
    [PT_W_LOG_SOURCE] = {put_logsource, sizeof(struct pt_logsource_rec)},
    [PT_W_LOG_CONN] = {put_logconn, sizeof(struct pt_logconn_rec)},
    [PT_W_LOG_DNS] = {put_logdns, sizeof(struct pt_logdns_rec)},
    [PT_W_LOG_HTTP] = {put_loghttp, sizeof(struct pt_loghttp_rec)},
    [PT_W_LOG_XFER] = {put_logxfer, sizeof(struct pt_logxfer_rec)},
    [PT_W_LOG_WINEVT] = {put_logwinevt, sizeof(struct pt_logwinevt_rec)},
    [PT_W_LOG_AUDIT] = {put_logaudit, sizeof(struct pt_logaudit_rec)},
    [PT_W_LOG_AUDIT_PATIENT] = {put_logaudit_patient, sizeof(struct pt_logaudit_patient_rec)},
#define PT_RECORD(name, NAME, table, batch)                                                        \
    [PT_W_REC + PT_REC_##NAME] = {put_##name, sizeof(struct pt_##name##_rec)},
#define PT_RECORD_PUT(name, NAME, put, batch) PT_RECORD(name, NAME, put, batch)
#include "analyze/records.def"
#undef PT_RECORD
#undef PT_RECORD_PUT
};

static pt_status apply(struct pt_writer *w, struct wmsg *m, size_t *rows)
{
    pt_status rc = PT_OK;
    if (m->kind < PT_W_ITEM) { /* bulk rows: flows, anomalies, stream events, objects, records */
        for (size_t i = 0; i < m->n && rc == PT_OK; i++) {
            rc = bulk[m->kind].put(w->db, (const uint8_t *)m->rows + i * bulk[m->kind].size);
        }
        w->flows += m->kind == PT_W_FLOWS ? m->n : 0;
        w->anomalies += m->kind == PT_W_ANOMALIES ? m->n : 0;
    } else if (m->kind == PT_W_ITEM) {
        rc = pt_db_item_put(w->db, m->rows);
    } else if (m->kind == PT_W_SEGMENT) {
        rc = pt_db_segment_put(w->db, m->rows);
    } else if (m->kind == PT_W_MANIFEST) {
        rc = pt_db_manifest_set(w->db, m->a, m->b);
    } else if (m->kind == PT_W_AUDIT) {
        rc = pt_db_audit(w->db, m->a, m->b, m->c);
    } else if (m->kind == PT_W_DISK_VOLUME) {
        rc = pt_db_disk_volume_put(w->db, m->rows);
    } else if (m->kind == PT_W_DISK_FILE) {
        rc = pt_db_disk_file_put(w->db, m->rows);
    } else if (m->kind == PT_W_DISK_IMAGE) {
        rc = pt_db_disk_image_put(w->db, m->rows);
    }
    *rows += m->n ? m->n : 1;
    return rc;
}

void *pt_writer_main(void *arg)
{
    struct pt_writer *w = arg;
    size_t rows = 0;
    struct wmsg *m;
    while ((m = pt_queue_pop(&w->q)) != NULL) {
        if (atomic_load(&w->failed) == PT_OK) {
            pt_status rc = pt_db_begin(w->db);
            if (rc == PT_OK) {
                rc = apply(w, m, &rows);
            }
            /* Items and custody events are committed at once; bulk rows in batches. */
            if (rc == PT_OK &&
                (rows >= PT_DB_BATCH_ROWS || m->kind == PT_W_ITEM || m->kind == PT_W_AUDIT)) {
                rc = pt_db_commit(w->db);
                rows = 0;
            }
            if (rc != PT_OK) {
                snprintf(w->err, sizeof w->err, "%s", pt_db_errmsg(w->db));
                atomic_store(&w->failed, rc);
            }
        }
        wmsg_free(m);
    }
    if (atomic_load(&w->failed) == PT_OK && pt_db_commit(w->db) != PT_OK) {
        snprintf(w->err, sizeof w->err, "%s", pt_db_errmsg(w->db));
        atomic_store(&w->failed, PT_EDB);
    }
    return NULL;
}

static bool wsend(struct pt_writer *w, struct wmsg *m)
{
    if (m == NULL || !pt_queue_push(&w->q, m)) {
        wmsg_free(m);
        return false;
    }
    return true;
}

void pt_rowbuf_flush(struct pt_writer *w, struct pt_rowbuf *rb)
{
    if (rb->n == 0) {
        return;
    }
    struct wmsg *m = calloc(1, sizeof *m);
    if (m != NULL) {
        m->kind = rb->kind;
        m->rows = rb->rows;
        m->n = rb->n;
        wsend(w, m);
        rb->rows = NULL;
    }
    rb->n = 0;
}

/* Copy one row in; the batch goes to the writer when it is full. A row that cannot be
 * buffered (out of memory) is lost, and pt_rowbuf_add says so. */
bool pt_rowbuf_add(struct pt_writer *w, struct pt_rowbuf *rb, const void *row)
{
    if (rb->rows == NULL) {
        rb->rows = malloc(rb->cap * bulk[rb->kind].size);
        if (rb->rows == NULL) {
            return false;
        }
    }
    memcpy(rb->rows + rb->n * bulk[rb->kind].size, row, bulk[rb->kind].size);
    if (++rb->n == rb->cap) {
        pt_rowbuf_flush(w, rb);
    }
    return true;
}

static struct wmsg *msg_strs(enum pt_writer_kind k, const char *a, const char *b, const char *c)
{
    struct wmsg *m = calloc(1, sizeof *m);
    if (m == NULL) {
        return NULL;
    }
    m->kind = k;
    m->a = a ? strdup(a) : NULL;
    m->b = b ? strdup(b) : NULL;
    m->c = c ? strdup(c) : NULL;
    if ((a && !m->a) || (b && !m->b) || (c && !m->c)) {
        wmsg_free(m);
        return NULL;
    }
    return m;
}

void pt_writer_manifest(struct pt_writer *w, const char *k, const char *v)
{
    wsend(w, msg_strs(PT_W_MANIFEST, k, v, NULL));
}

void pt_writer_audit(struct pt_writer *w, const char *action, const char *detail)
{
    wsend(w, msg_strs(PT_W_AUDIT, "phitrace " PT_VERSION, action, detail));
}

/* One row (an item or a segment) copied into a message of `kind`. */
void pt_writer_row(struct pt_writer *w, enum pt_writer_kind kind, const void *row, size_t size)
{
    struct wmsg *m = calloc(1, sizeof *m);
    void *copy = malloc(size);
    if (m == NULL || copy == NULL) {
        free(m);
        free(copy);
        return;
    }
    memcpy(copy, row, size);
    m->kind = kind;
    m->rows = copy;
    wsend(w, m);
}

void pt_writer_item(struct pt_writer *w, const struct pt_item_rec *it)
{
    pt_writer_row(w, PT_W_ITEM, it, sizeof *it);
}

/* ---- anomalies from one producer thread, batched and capped per kind ---------------- */

void pt_anom_sink_init(struct pt_anom_sink *s, struct pt_writer *w)
{
    s->w = w;
    s->rb = (struct pt_rowbuf){.kind = PT_W_ANOMALIES, .cap = 256};
}

void pt_anom_sink_flush(struct pt_anom_sink *s)
{
    pt_rowbuf_flush(s->w, &s->rb);
}

void pt_anom_sink_push(struct pt_anom_sink *s, uint32_t item, uint64_t frame, uint64_t off,
                       enum pt_anom kind, const char *detail)
{
    if (item != s->item) {
        s->item = item;
        s->n_kinds = 0;
    }
    size_t k = 0;
    while (k < s->n_kinds && s->kinds[k] != kind) {
        k++;
    }
    if (k == s->n_kinds && k < PT_ANOM_SINK_KINDS) {
        s->kinds[k] = kind;
        s->counts[k] = 0;
        s->n_kinds++;
    }
    if (k < PT_ANOM_SINK_KINDS) {
        s->counts[k]++;
        if (s->counts[k] > PT_ANOMALY_MAX_PER_KIND + 1) {
            return;
        }
        if (s->counts[k] == PT_ANOMALY_MAX_PER_KIND + 1) {
            kind = PT_ANOM_LIMIT_ANOMALIES;
            detail = "further anomalies of this kind in this item are not recorded";
        }
    }
    struct pt_anomaly_rec a = {.item = item, .frame = frame, .offset = off, .kind = kind};
    snprintf(a.detail, sizeof a.detail, "%s", detail ? detail : "");
    pt_rowbuf_add(s->w, &s->rb, &a);
}
