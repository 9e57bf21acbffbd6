/*
 * hl7.c - HL7 version 2 messages over MLLP (HL7 v2.5.1 Appendix C, Minimal Lower Layer
 * Protocol): each message is framed as <VT=0x0b> message <FS=0x1c><CR=0x0d>.
 *
 * Every message becomes an object (stored as it streamed, without the framing bytes) and
 * an hl7_message row with the MSH header: sending and receiving application and facility,
 * message type, control id, version, and its segment and PID-segment counts. Patient
 * content is left to the PHI stage, which reads the stored object.
 *
 * Trust boundary: the stream is untrusted. The MSH fields are read from the first
 * PT_HL7_HEADER_BYTES of a message; messages longer than PT_HL7_MAX_MESSAGE are cut
 * (partial object plus an anomaly); bytes outside a frame are counted, not stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cursor.h"
#include "../core/limits.h"
#include "app.h"

struct hl7_dir {
    bool in_msg;
    bool saw_fs;           /* the previous byte was FS: a CR ends the message */
    struct pt_obj *obj;
    char head[PT_HL7_HEADER_BYTES + 1];
    size_t head_len;
    uint32_t segments, pid;
    char seg_start[4];     /* first bytes of the current segment */
    size_t seg_len;
    uint64_t size;
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
    uint64_t start_off;
    bool dead;
};

struct hl7_flow {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;
    struct hl7_dir d[2];
    const struct pt_flow_pkt *pkt;
    uint32_t seq;
};

static bool hl7_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                      uint16_t sport)
{
    (void)dir;
    (void)cport;
    (void)sport;
    size_t i = 0;
    if (transport != 6 || n < 4 || p[0] != 0x0b) {
        return false;
    }
    i = 1;
    while (i < n && (p[i] == '\r' || p[i] == '\n')) { /* some senders add a line break */
        i++;
    }
    return n - i >= 3 && memcmp(p + i, "MSH", 3) == 0;
}

static void *hl7_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct hl7_flow *h = calloc(1, sizeof *h);
    if (h != NULL) {
        h->ctx = ctx;
        h->rec = *rec;
    }
    return h;
}

static void anomaly(struct hl7_flow *h, enum pt_anom kind, const char *detail)
{
    pt_app_anomaly(h->ctx, h->pkt, 0, kind, detail);
}

/* Field n (MSH-n numbering) of the MSH segment in head, into out. */
static void msh_field(const char *head, unsigned n, char *out, size_t len)
{
    out[0] = '\0';
    const char *msh = strstr(head, "MSH");
    if (msh == NULL || msh[3] == '\0') {
        return;
    }
    char sep = msh[3]; /* MSH-1 is the field separator itself; MSH-2 follows it */
    const char *p = msh + 3;
    for (unsigned f = 2; f < n; f++) {
        p = strchr(p + 1, sep);
        if (p == NULL) {
            return;
        }
    }
    p++;
    size_t i = 0;
    while (p[i] != '\0' && p[i] != sep && p[i] != '\r' && p[i] != '\n' && i + 1 < len) {
        out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
        i++;
    }
    out[i] = '\0';
}

static void message_start(struct hl7_flow *h, int dir, uint64_t off)
{
    struct hl7_dir *d = &h->d[dir];
    memset(d, 0, sizeof *d);
    d->in_msg = true;
    d->start_off = off;
    if (h->pkt != NULL) {
        d->item = h->pkt->item;
        d->frame = h->pkt->frame;
        d->ts_us = h->pkt->ts_us;
    }
    struct pt_object_rec meta;
    pt_app_object_meta(&meta, &h->rec, dir, "hl7", off, d->item, d->frame, d->ts_us);
    d->obj = pt_obj_open(h->ctx->store, &meta);
    if (d->obj == NULL) {
        anomaly(h, PT_ANOM_OBJECT_STORE_FAILED, "cannot create the object file");
    }
}

static void message_end(struct hl7_flow *h, int dir, bool complete)
{
    struct hl7_dir *d = &h->d[dir];
    if (!d->in_msg) {
        return;
    }
    struct pt_hl7_rec r;
    memset(&r, 0, sizeof r);
    d->head[d->head_len] = '\0';
    r.flow_id = h->rec.id;
    r.seq = h->seq++;
    r.dir = (uint8_t)dir;
    r.item = d->item;
    r.frame = d->frame;
    r.ts_us = d->ts_us;
    msh_field(d->head, 3, r.sending_app, sizeof r.sending_app);
    msh_field(d->head, 4, r.sending_facility, sizeof r.sending_facility);
    msh_field(d->head, 5, r.receiving_app, sizeof r.receiving_app);
    msh_field(d->head, 6, r.receiving_facility, sizeof r.receiving_facility);
    msh_field(d->head, 7, r.msg_time, sizeof r.msg_time);
    msh_field(d->head, 9, r.msg_type, sizeof r.msg_type);
    msh_field(d->head, 10, r.control_id, sizeof r.control_id);
    msh_field(d->head, 12, r.version, sizeof r.version);
    r.segments = d->segments + (d->seg_len > 0);
    r.pid_segments = d->pid;
    r.size = d->size;
    r.complete = complete;
    if (strstr(d->head, "MSH") == NULL) {
        anomaly(h, PT_ANOM_HL7_NO_MSH, "MLLP frame without an MSH segment");
    }
    if (d->obj != NULL) {
        struct pt_object_rec o;
        char name[256];
        snprintf(name, sizeof name, "%s %s", r.msg_type, r.control_id);
        if (pt_obj_close(d->obj, complete, &o)) {
            snprintf(o.name, sizeof o.name, "%s", name);
            snprintf(r.sha256, sizeof r.sha256, "%s", o.sha256);
            r.stream_off = o.stream_off; /* the object's key until it has an id (q_links.c) */
            if (h->ctx->object != NULL) {
                h->ctx->object(h->ctx->arg, &o);
            }
        } else {
            anomaly(h, PT_ANOM_OBJECT_STORE_FAILED, "cannot write the object file");
        }
        d->obj = NULL;
    }
    pt_emit_hl7(h->ctx, &r);
    d->in_msg = false;
}

/* Message bytes (framing removed): store, keep the header, count segments. */
static void body(struct hl7_dir *d, const uint8_t *p, size_t n)
{
    pt_obj_write(d->obj, p, n);
    d->size += n;
    if (d->head_len < PT_HL7_HEADER_BYTES) {
        size_t k = PT_HL7_HEADER_BYTES - d->head_len < n ? PT_HL7_HEADER_BYTES - d->head_len : n;
        for (size_t i = 0; i < k; i++) {
            d->head[d->head_len++] = p[i] == '\0' ? ' ' : (char)p[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r' || p[i] == '\n') {
            if (d->seg_len > 0) {
                d->segments++;
            }
            d->seg_len = 0;
            continue;
        }
        if (d->seg_len < 3) {
            d->seg_start[d->seg_len] = (char)p[i];
        }
        if (++d->seg_len == 3 && memcmp(d->seg_start, "PID", 3) == 0) {
            d->pid++;
        }
    }
}

static void hl7_data(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                     const struct pt_flow_pkt *pkt)
{
    struct hl7_flow *h = st;
    struct hl7_dir *d = &h->d[dir];
    h->pkt = pkt;
    struct pt_cur c = pt_cur_make(p, n);
    while (pt_cur_left(&c) > 0 && !d->dead) {
        const uint8_t *q = pt_cur_ptr(&c);
        size_t left = pt_cur_left(&c);
        if (!d->in_msg) {
            const uint8_t *vt = memchr(q, 0x0b, left);
            if (vt == NULL) {
                return; /* bytes between frames (ACK padding, keep-alives): not a message */
            }
            pt_cur_skip(&c, (size_t)(vt - q) + 1);
            message_start(h, dir, off + (n - pt_cur_left(&c)));
            continue;
        }
        if (!d->saw_fs) {
            /* inside a message: copy up to FS */
            const uint8_t *fs = memchr(q, 0x1c, left);
            size_t k = fs != NULL ? (size_t)(fs - q) : left;
            if (k > 0) {
                if (d->size + k > PT_HL7_MAX_MESSAGE) {
                    anomaly(h, PT_ANOM_LIMIT_HL7_MESSAGE, "message longer than PT_HL7_MAX_MESSAGE");
                    message_end(h, dir, false);
                    d->dead = true;
                    return;
                }
                body(d, q, k);
                pt_cur_skip(&c, k);
            }
            if (fs == NULL) {
                return;
            }
            d->saw_fs = true;
            pt_cur_skip(&c, 1);
            if (pt_cur_left(&c) == 0) {
                return;
            }
        }
        /* the byte after FS should be CR; end the message either way */
        if (pt_cur_peek_u8(&c, 0) == 0x0d) {
            pt_cur_skip(&c, 1);
        } else {
            anomaly(h, PT_ANOM_HL7_BAD_TRAILER, "FS not followed by CR");
        }
        d->saw_fs = false;
        message_end(h, dir, true);
    }
}

static void hl7_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    (void)off;
    struct hl7_flow *h = st;
    struct hl7_dir *d = &h->d[dir];
    h->pkt = NULL;
    if (d->in_msg) {
        pt_obj_gap(d->obj, n); /* the message stays open; its object is partial */
        d->size += n;
    }
}

static void hl7_close(void *st)
{
    struct hl7_flow *h = st;
    h->pkt = NULL;
    message_end(h, 0, false);
    message_end(h, 1, false);
    free(h);
}

const struct pt_app_proto pt_app_hl7 = {
    .name = "hl7",
    .probe = hl7_probe,
    .open = hl7_open,
    .data = hl7_data,
    .gap = hl7_gap,
    .close = hl7_close,
    .datagram = NULL,
    .state_size = sizeof(struct hl7_flow),
};
