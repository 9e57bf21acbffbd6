/*
 * dicom.c - DICOM Upper Layer (PS3.8 §9.3) and DIMSE messages (PS3.7 §9, §E) on any port.
 *
 * Associations: A-ASSOCIATE-RQ/AC/RJ with calling and called AE titles and presentation
 * contexts; A-RELEASE; A-ABORT. P-DATA-TF PDVs are reassembled per presentation context
 * into command sets (implicit VR little endian, PS3.7 §6.3.1) and data sets. Every data
 * set is streamed into an object written as a DICOM Part 10 file (PS3.10 §7.1: 128-byte
 * preamble, "DICM", File Meta Information built from the command and the negotiated
 * transfer syntax), so what was sent can be opened by any DICOM tool.
 *
 * PDU header (PS3.8 Table 9-11 ff.):  type(1) reserved(1) length(4, big endian)
 * PDV item (PS3.8 §9.3.5.1):          length(4) context id(1) control header(1: bit 0 command,
 *                                     bit 1 last fragment) fragment
 * Trust boundary: both streams are untrusted. Association PDUs are buffered up to
 * PT_DICOM_MAX_ASSOC_PDU, command sets up to PT_DICOM_MAX_COMMAND; data sets stream to disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cursor.h"
#include "../core/limits.h"
#include "../core/memcap.h"
#include "app.h"

#define MAX_PC 128

struct pcx {
    uint8_t id;
    bool accepted;
    char abstract[65];
    char transfer[65];
};

enum dstate { DS_PDU_HDR, DS_PDU_BODY, DS_PDV_HDR, DS_PDV_DATA, DS_DEAD };

struct ddir {
    enum dstate st;
    uint8_t hdr[6];
    size_t hdr_len;
    uint8_t pdu_type;
    uint64_t pdu_left;      /* bytes of the current PDU still to come */
    uint8_t *pdu;           /* buffered association PDU (grown as it arrives) */
    size_t pdu_len, pdu_cap;
    uint32_t pdv_left;      /* fragment bytes of the current PDV still to come */
    uint8_t pdv_pc;
    uint8_t pdv_mch;
    uint8_t *cmd;           /* command set being gathered (grown as it arrives) */
    size_t cmd_len, cmd_cap;
    bool cmd_overflow;
    /* the last command, waiting for its data set */
    struct pt_dicom_rec pending;
    bool have_pending;
    struct pt_obj *data;    /* data set being stored */
    bool data_started;      /* the pending command's data set has begun */
    uint64_t data_size;
};

/* The association (17 KiB of contexts and 16 KiB of record): allocated with the first
 * association PDU, so a flow that never completes one holds none of it (memory cap). */
struct dicom_assoc {
    struct pcx pc[MAX_PC];
    size_t n_pc;
    struct pt_dicom_assoc_rec rec;
};

struct dicom_flow {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;
    struct ddir d[2];
    struct dicom_assoc *as;     /* NULL until an association PDU is complete */
    bool have_assoc;
    uint32_t seq;
    const struct pt_flow_pkt *pkt;
};

/* A-ASSOCIATE-RQ: type 1, reserved, length(4), protocol version 1, reserved(2), then two
 * 16-byte AE titles of printable characters. */
static bool dicom_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                        uint16_t sport)
{
    (void)cport;
    (void)sport;
    if (transport != 6 || n < 42 || p[1] != 0 || p[6] != 0 || p[7] != 1) {
        return false;
    }
    if (!(dir == 0 ? p[0] == 0x01 : (p[0] == 0x02 || p[0] == 0x03))) {
        return false;
    }
    for (size_t i = 10; i < 42; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

static void *dicom_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct dicom_flow *f = calloc(1, sizeof *f);
    if (f != NULL) {
        f->ctx = ctx;
        f->rec = *rec;
    }
    return f;
}

static void anomaly(struct dicom_flow *f, enum pt_anom kind, const char *detail)
{
    pt_app_anomaly(f->ctx, f->pkt, 0, kind, detail);
}

/* Copy a text value, dropping the trailing NUL and space padding DICOM uses. */
static void text(const uint8_t *p, size_t n, char *out, size_t len)
{
    while (n > 0 && (p[n - 1] == 0 || p[n - 1] == ' ')) {
        n--;
    }
    size_t i = 0, k = 0;
    while (i < n && p[i] == ' ') {
        i++;
    }
    for (; i < n && k + 1 < len; i++) {
        out[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    }
    out[k] = '\0';
}

/* The association state, allocated on first use; NULL when out of memory. */
static struct dicom_assoc *assoc_state(struct dicom_flow *f)
{
    if (f->as == NULL && (f->as = calloc(1, sizeof *f->as)) != NULL) {
        f->as->rec.flow_id = f->rec.id;
    }
    return f->as;
}

static struct pcx *find_pc(struct dicom_flow *f, uint8_t id, bool create)
{
    if (f->as == NULL) {
        return NULL; /* every caller that creates has made the state */
    }
    for (size_t i = 0; i < f->as->n_pc; i++) {
        if (f->as->pc[i].id == id) {
            return &f->as->pc[i];
        }
    }
    if (!create || f->as->n_pc == MAX_PC) {
        return NULL;
    }
    struct pcx *c = &f->as->pc[f->as->n_pc++];
    memset(c, 0, sizeof *c);
    c->id = id;
    return c;
}

/* ---- association PDUs ------------------------------------------------------------------ */

static void associate(struct dicom_flow *f, int dir, uint8_t type, const uint8_t *p, size_t n)
{
    struct pt_cur c = pt_cur_make(p, n);
    if (assoc_state(f) == NULL) {
        return;
    }
    struct pt_dicom_assoc_rec *a = &f->as->rec;
    if (type == 0x03) { /* A-ASSOCIATE-RJ: reserved(1) result(1) source(1) reason(1) */
        pt_cur_skip(&c, 1);
        uint8_t result = pt_cur_u8(&c), source = pt_cur_u8(&c), reason = pt_cur_u8(&c);
        snprintf(a->result, sizeof a->result, "rejected");
        snprintf(a->reject, sizeof a->reject, "result %u source %u reason %u", result, source,
                 reason);
        return;
    }
    pt_cur_be16(&c); /* protocol version */
    pt_cur_skip(&c, 2);
    const uint8_t *called, *calling;
    pt_cur_bytes(&c, 16, &called);
    pt_cur_bytes(&c, 16, &calling);
    pt_cur_skip(&c, 32);
    if (!pt_cur_ok(&c)) {
        anomaly(f, PT_ANOM_DICOM_BAD_ASSOCIATE, "A-ASSOCIATE PDU shorter than its header");
        return;
    }
    if (type == 0x01) {
        f->have_assoc = true;
        text(called, 16, a->called_ae, sizeof a->called_ae);
        text(calling, 16, a->calling_ae, sizeof a->calling_ae);
        if (f->pkt != NULL) {
            a->item = f->pkt->item;
            a->frame = f->pkt->frame;
            a->ts_us = f->pkt->ts_us;
        }
    } else {
        snprintf(a->result, sizeof a->result, "accepted");
    }
    (void)dir;
    /* Items: type(1) reserved(1) length(2) */
    while (pt_cur_left(&c) >= 4) {
        uint8_t it = pt_cur_u8(&c);
        pt_cur_skip(&c, 1);
        uint16_t il = pt_cur_be16(&c);
        struct pt_cur item;
        if (!pt_cur_sub(&c, il, &item)) {
            anomaly(f, PT_ANOM_DICOM_BAD_ITEM, "association item past the PDU end");
            return;
        }
        if (it == 0x10) {
            text(pt_cur_ptr(&item), il, a->app_context, sizeof a->app_context);
        } else if (it == 0x20 || it == 0x21) { /* presentation context RQ / AC */
            uint8_t id = pt_cur_u8(&item);
            pt_cur_skip(&item, 1);
            uint8_t result = pt_cur_u8(&item);
            pt_cur_skip(&item, 1);
            struct pcx *pc = find_pc(f, id, true);
            if (pc == NULL) {
                anomaly(f, PT_ANOM_LIMIT_DICOM_CONTEXTS, "more presentation contexts than kept");
                continue;
            }
            if (it == 0x21) {
                pc->accepted = result == 0;
            }
            while (pt_cur_left(&item) >= 4) {
                uint8_t st = pt_cur_u8(&item);
                pt_cur_skip(&item, 1);
                uint16_t sl = pt_cur_be16(&item);
                const uint8_t *uid;
                if (!pt_cur_bytes(&item, sl, &uid)) {
                    break;
                }
                if (st == 0x30) {
                    text(uid, sl, pc->abstract, sizeof pc->abstract);
                } else if (st == 0x40 && (it == 0x21 || pc->transfer[0] == '\0')) {
                    text(uid, sl, pc->transfer, sizeof pc->transfer); /* AC: the chosen one */
                }
            }
        }
    }
}

/* ---- DIMSE ----------------------------------------------------------------------------- */

static const char *command_name(uint16_t cf)
{
    switch (cf) {
        case 0x0001: return "C-STORE-RQ";
        case 0x8001: return "C-STORE-RSP";
        case 0x0010: return "C-GET-RQ";
        case 0x8010: return "C-GET-RSP";
        case 0x0020: return "C-FIND-RQ";
        case 0x8020: return "C-FIND-RSP";
        case 0x0021: return "C-MOVE-RQ";
        case 0x8021: return "C-MOVE-RSP";
        case 0x0030: return "C-ECHO-RQ";
        case 0x8030: return "C-ECHO-RSP";
        case 0x0fff: return "C-CANCEL-RQ";
        default: return NULL;
    }
}

/* Command set: implicit VR little endian elements, group(2) element(2) length(4) value. */
static void command(struct dicom_flow *f, int dir, uint8_t pc_id)
{
    struct ddir *d = &f->d[dir];
    struct pt_dicom_rec *r = &d->pending;
    memset(r, 0, sizeof *r);
    r->flow_id = f->rec.id;
    r->dir = (uint8_t)dir;
    r->pc_id = pc_id;
    if (f->pkt != NULL) {
        r->item = f->pkt->item;
        r->frame = f->pkt->frame;
        r->ts_us = f->pkt->ts_us;
    }
    uint16_t cf = 0, dst = 0x0101;
    struct pt_cur c = pt_cur_make(d->cmd, d->cmd_len);
    while (pt_cur_left(&c) >= 8) {
        uint16_t g = pt_cur_le16(&c), e = pt_cur_le16(&c);
        uint32_t l = pt_cur_le32(&c);
        const uint8_t *v;
        if (!pt_cur_bytes(&c, l, &v)) {
            anomaly(f, PT_ANOM_DICOM_BAD_COMMAND, "command element past the command set");
            break;
        }
        if (g != 0) {
            continue;
        }
        struct pt_cur vc = pt_cur_make(v, l);
        if (e == 0x0100) {
            cf = pt_cur_le16(&vc);
        } else if (e == 0x0800) {
            dst = pt_cur_le16(&vc);
        } else if (e == 0x0900) {
            r->status = pt_cur_le16(&vc);
            r->has_status = pt_cur_ok(&vc);
        } else if (e == 0x0002 || e == 0x0003) {
            text(v, l, r->sop_class, sizeof r->sop_class);
        } else if (e == 0x1000 || e == 0x1001) {
            text(v, l, r->sop_instance, sizeof r->sop_instance);
        } else if (e == 0x0600) {
            text(v, l, r->move_destination, sizeof r->move_destination);
        } else if (e == 0x0110 || e == 0x0120) {
            r->message_id = pt_cur_le16(&vc);
        }
    }
    const char *name = command_name(cf);
    snprintf(r->command, sizeof r->command, "%s", name ? name : "");
    if (name == NULL) {
        snprintf(r->command, sizeof r->command, "0x%04x", cf);
    }
    d->have_pending = dst != 0x0101; /* 0x0101: no data set follows (PS3.7 §E.1) */
    d->data_started = false;
    if (!d->have_pending) {
        r->seq = f->seq++;
        pt_emit_dicom(f->ctx, r);
    }
}

/* Explicit VR little endian element with a 2-byte length (UI, UL) or 4-byte (OB). */
static size_t meta_elem(uint8_t *out, uint16_t elem, const char *vr, const void *v, uint32_t len)
{
    size_t o = 0;
    out[o++] = 0x02;
    out[o++] = 0x00;
    out[o++] = (uint8_t)elem;
    out[o++] = (uint8_t)(elem >> 8);
    out[o++] = (uint8_t)vr[0];
    out[o++] = (uint8_t)vr[1];
    if (strcmp(vr, "OB") == 0) {
        out[o++] = 0;
        out[o++] = 0;
        for (int i = 0; i < 4; i++) {
            out[o++] = (uint8_t)(len >> (8 * i));
        }
    } else {
        out[o++] = (uint8_t)len;
        out[o++] = (uint8_t)(len >> 8);
    }
    memcpy(out + o, v, len);
    return o + len;
}

/* UIDs are padded to even length with NUL (PS3.5 §9.1). */
static size_t meta_uid(uint8_t *out, uint16_t elem, const char *uid)
{
    char buf[66];
    size_t n = strlen(uid);
    memcpy(buf, uid, n);
    if (n & 1) {
        buf[n++] = '\0';
    }
    return meta_elem(out, elem, "UI", buf, (uint32_t)n);
}

#define PT_IMPLEMENTATION_UID "1.2.826.0.1.3680043.10.1455.1" /* phitrace, as writer */

static void data_start(struct dicom_flow *f, int dir, uint8_t pc_id)
{
    struct ddir *d = &f->d[dir];
    struct pt_dicom_rec *r = &d->pending;
    struct pcx *pc = find_pc(f, pc_id, false);
    struct pt_object_rec meta;
    pt_app_object_meta(&meta, &f->rec, dir, "dicom", f->seq, r->item, r->frame, r->ts_us);
    snprintf(meta.name, sizeof meta.name, "%s", r->sop_instance);
    snprintf(meta.encoding, sizeof meta.encoding, "part10");
    d->data = pt_obj_open(f->ctx->store, &meta);
    d->data_size = 0;
    if (d->data == NULL) {
        anomaly(f, PT_ANOM_OBJECT_STORE_FAILED, "cannot create the object file");
        return;
    }
    /* PS3.10 §7.1: preamble, "DICM", then group 0002 with its group length first. */
    uint8_t head[128 + 4 + 512];
    memset(head, 0, 128);
    memcpy(head + 128, "DICM", 4);
    uint8_t grp[480];
    size_t g = 0;
    static const uint8_t version[2] = {0x00, 0x01};
    g += meta_elem(grp + g, 0x0001, "OB", version, 2);
    g += meta_uid(grp + g, 0x0002, r->sop_class[0] ? r->sop_class : (pc ? pc->abstract : ""));
    g += meta_uid(grp + g, 0x0003, r->sop_instance);
    g += meta_uid(grp + g, 0x0010, pc && pc->transfer[0] ? pc->transfer : "1.2.840.10008.1.2");
    g += meta_uid(grp + g, 0x0012, PT_IMPLEMENTATION_UID);
    uint32_t gl = (uint32_t)g;
    size_t h = 132;
    h += meta_elem(head + h, 0x0000, "UL", &(uint8_t[4]){(uint8_t)gl, (uint8_t)(gl >> 8),
                                                        (uint8_t)(gl >> 16), (uint8_t)(gl >> 24)},
                   4);
    memcpy(head + h, grp, g);
    pt_obj_write(d->data, head, h + g);
}

static void data_end(struct dicom_flow *f, int dir, bool complete)
{
    struct ddir *d = &f->d[dir];
    if (!d->have_pending) {
        return;
    }
    struct pt_dicom_rec *r = &d->pending;
    r->dataset_size = d->data_size;
    r->complete = complete;
    if (d->data != NULL) {
        struct pt_object_rec o;
        if (pt_obj_close(d->data, complete, &o)) {
            snprintf(r->sha256, sizeof r->sha256, "%s", o.sha256);
            if (f->ctx->object != NULL) {
                f->ctx->object(f->ctx->arg, &o);
            }
        }
        d->data = NULL;
    }
    r->seq = f->seq++;
    pt_emit_dicom(f->ctx, r);
    d->have_pending = false;
}

/* One fragment's bytes (piece of it). `last` when the fragment and message end here. */
static void fragment(struct dicom_flow *f, int dir, const uint8_t *p, size_t n, bool end_of_pdv)
{
    struct ddir *d = &f->d[dir];
    bool is_cmd = d->pdv_mch & 1;
    bool last = (d->pdv_mch & 2) != 0;
    if (is_cmd) {
        if (d->cmd_len + n <= PT_DICOM_MAX_COMMAND &&
            !pt_buf_reserve(&d->cmd, &d->cmd_cap, d->cmd_len + n, PT_DICOM_MAX_COMMAND)) {
            return;
        }
        if (d->cmd_len + n > PT_DICOM_MAX_COMMAND) {
            if (!d->cmd_overflow) {
                anomaly(f, PT_ANOM_LIMIT_DICOM_COMMAND, "command set longer than the limit");
            }
            d->cmd_overflow = true;
        } else {
            memcpy(d->cmd + d->cmd_len, p, n);
            d->cmd_len += n;
        }
        if (end_of_pdv && last) {
            if (d->have_pending) {
                data_end(f, dir, false); /* a new command before the data set ended */
            }
            command(f, dir, d->pdv_pc);
            d->cmd_len = 0;
            d->cmd_overflow = false;
        }
        return;
    }
    if (!d->have_pending) {
        if (n > 0 && d->data == NULL) {
            anomaly(f, PT_ANOM_DICOM_DATA_WITHOUT_COMMAND, "data set fragment with no command");
        }
        return;
    }
    if (!d->data_started) {
        d->data_started = true;
        data_start(f, dir, d->pdv_pc);
    }
    pt_obj_write(d->data, p, n);
    d->data_size += n;
    if (end_of_pdv && last) {
        data_end(f, dir, true);
    }
}

static void pdu_done(struct dicom_flow *f, int dir)
{
    struct ddir *d = &f->d[dir];
    switch (d->pdu_type) {
        case 0x01:
        case 0x02:
        case 0x03: associate(f, dir, d->pdu_type, d->pdu, d->pdu_len); break;
        case 0x05:
        case 0x06:
            if (assoc_state(f) != NULL) {
                f->as->rec.released = true;
            }
            break;
        case 0x07:
            if (assoc_state(f) != NULL) {
                snprintf(f->as->rec.result, sizeof f->as->rec.result, "aborted");
            }
            break;
        default: break;
    }
    d->pdu_len = 0;
}

static void dicom_data(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                       const struct pt_flow_pkt *pkt)
{
    (void)off;
    struct dicom_flow *f = st;
    struct ddir *d = &f->d[dir];
    f->pkt = pkt;
    while (n > 0) {
        switch (d->st) {
            case DS_DEAD:
                return;
            case DS_PDU_HDR: {
                size_t k = 6 - d->hdr_len < n ? 6 - d->hdr_len : n;
                memcpy(d->hdr + d->hdr_len, p, k);
                d->hdr_len += k;
                p += k;
                n -= k;
                if (d->hdr_len < 6) {
                    return;
                }
                d->hdr_len = 0;
                d->pdu_type = d->hdr[0];
                d->pdu_left = ((uint32_t)d->hdr[2] << 24) | ((uint32_t)d->hdr[3] << 16) |
                              ((uint32_t)d->hdr[4] << 8) | d->hdr[5];
                if (d->pdu_type < 1 || d->pdu_type > 7) {
                    anomaly(f, PT_ANOM_DICOM_BAD_PDU_TYPE, "unknown PDU type; decoding stops");
                    d->st = DS_DEAD;
                    return;
                }
                if (d->pdu_type == 0x04) {
                    d->st = d->pdu_left > 0 ? DS_PDV_HDR : DS_PDU_HDR;
                } else if (d->pdu_left > PT_DICOM_MAX_ASSOC_PDU) {
                    anomaly(f, PT_ANOM_LIMIT_DICOM_PDU, "association PDU longer than the limit");
                    d->st = DS_DEAD;
                    return;
                } else {
                    d->st = DS_PDU_BODY;
                    if (d->pdu_left == 0) {
                        pdu_done(f, dir);
                        d->st = DS_PDU_HDR;
                    }
                }
                continue;
            }
            case DS_PDU_BODY: {
                size_t k = d->pdu_left < n ? (size_t)d->pdu_left : n;
                if (!pt_buf_reserve(&d->pdu, &d->pdu_cap, d->pdu_len + k,
                                    PT_DICOM_MAX_ASSOC_PDU)) {
                    d->st = DS_DEAD;
                    return;
                }
                memcpy(d->pdu + d->pdu_len, p, k);
                d->pdu_len += k;
                d->pdu_left -= k;
                p += k;
                n -= k;
                if (d->pdu_left == 0) {
                    pdu_done(f, dir);
                    d->st = DS_PDU_HDR;
                }
                continue;
            }
            case DS_PDV_HDR: {
                size_t k = 6 - d->hdr_len < n ? 6 - d->hdr_len : n;
                if (k > d->pdu_left) {
                    k = (size_t)d->pdu_left;
                }
                memcpy(d->hdr + d->hdr_len, p, k);
                d->hdr_len += k;
                d->pdu_left -= k;
                p += k;
                n -= k;
                if (d->hdr_len < 6) {
                    if (d->pdu_left == 0) {
                        anomaly(f, PT_ANOM_DICOM_BAD_PDV, "PDV header cut by the PDU end");
                        d->hdr_len = 0;
                        d->st = DS_PDU_HDR;
                    }
                    continue;
                }
                d->hdr_len = 0;
                uint32_t il = ((uint32_t)d->hdr[0] << 24) | ((uint32_t)d->hdr[1] << 16) |
                              ((uint32_t)d->hdr[2] << 8) | d->hdr[3];
                d->pdv_pc = d->hdr[4];
                d->pdv_mch = d->hdr[5];
                if (il < 2 || il - 2 > d->pdu_left) {
                    anomaly(f, PT_ANOM_DICOM_BAD_PDV, "PDV length outside its PDU; decoding stops");
                    d->st = DS_DEAD;
                    return;
                }
                d->pdv_left = il - 2;
                d->st = DS_PDV_DATA;
                if (d->pdv_left == 0) {
                    fragment(f, dir, p, 0, true);
                    d->st = d->pdu_left > 0 ? DS_PDV_HDR : DS_PDU_HDR;
                }
                continue;
            }
            case DS_PDV_DATA: {
                size_t k = d->pdv_left < n ? d->pdv_left : n;
                d->pdv_left -= (uint32_t)k;
                d->pdu_left -= k;
                fragment(f, dir, p, k, d->pdv_left == 0);
                p += k;
                n -= k;
                if (d->pdv_left == 0) {
                    d->st = d->pdu_left > 0 ? DS_PDV_HDR : DS_PDU_HDR;
                }
                continue;
            }
        }
    }
}

static void dicom_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    (void)off;
    struct dicom_flow *f = st;
    struct ddir *d = &f->d[dir];
    f->pkt = NULL;
    if (d->st == DS_PDV_DATA && !(d->pdv_mch & 1) && n <= d->pdv_left && d->have_pending) {
        /* a hole inside a data fragment: the data set is partial, framing survives */
        pt_obj_gap(d->data, n);
        d->data_size += n;
        d->pdv_left -= (uint32_t)n;
        d->pdu_left -= n;
        if (d->pdv_left == 0) {
            if (d->pdv_mch & 2) {
                data_end(f, dir, false);
            }
            d->st = d->pdu_left > 0 ? DS_PDV_HDR : DS_PDU_HDR;
        }
        return;
    }
    if (d->st != DS_DEAD) {
        anomaly(f, PT_ANOM_DICOM_GAP_LOST_FRAMING, "a capture gap broke the PDU framing");
    }
    data_end(f, dir, false);
    d->st = DS_DEAD;
}

static void dicom_close(void *st)
{
    struct dicom_flow *f = st;
    f->pkt = NULL;
    for (int dir = 0; dir < 2; dir++) {
        data_end(f, dir, false);
        free(f->d[dir].pdu);
        free(f->d[dir].cmd);
    }
    if (f->have_assoc) {
        struct pt_dicom_assoc_rec *a = &f->as->rec;
        size_t used = 0;
        used += (size_t)snprintf(a->contexts, sizeof a->contexts, "[");
        size_t i = 0;
        const struct dicom_assoc *as = f->as;
        for (; i < as->n_pc && used + 260 < sizeof a->contexts; i++) {
            used += (size_t)snprintf(a->contexts + used, sizeof a->contexts - used,
                                     "%s{\"id\":%u,\"abstract\":\"%s\",\"transfer\":\"%s\","
                                     "\"accepted\":%s}",
                                     i ? "," : "", as->pc[i].id, as->pc[i].abstract,
                                     as->pc[i].transfer, as->pc[i].accepted ? "true" : "false");
        }
        if (i < as->n_pc) { /* cannot happen with 128 contexts, but the JSON stays valid */
            used += (size_t)snprintf(a->contexts + used, sizeof a->contexts - used,
                                     ",{\"omitted\":%zu}", as->n_pc - i);
        }
        snprintf(a->contexts + used, sizeof a->contexts - used, "]");
        if (a->result[0] == '\0') {
            snprintf(a->result, sizeof a->result, "no answer");
        }
        pt_emit_dicom_assoc(f->ctx, a);
    }
    free(f->as);
    free(f);
}

static size_t dicom_mem(const void *st)
{
    const struct dicom_flow *f = st;
    return f->d[0].pdu_cap + f->d[0].cmd_cap + f->d[1].pdu_cap + f->d[1].cmd_cap +
           (f->as != NULL ? sizeof *f->as : 0);
}

const struct pt_app_proto pt_app_dicom = {
    .name = "dicom",
    .probe = dicom_probe,
    .open = dicom_open,
    .data = dicom_data,
    .gap = dicom_gap,
    .close = dicom_close,
    .datagram = NULL,
    .state_size = sizeof(struct dicom_flow),
    .mem = dicom_mem,
};
