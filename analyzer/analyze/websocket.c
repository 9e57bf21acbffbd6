/*
 * websocket.c - WebSocket (RFC 6455) after an HTTP Upgrade: frames are unmasked and their
 * data (text, binary and continuation frames) is a stream of its own, decoded by content
 * like any TCP stream (wstunnel and similar tools carry HTTP, SSH or TLS this way). Control
 * frames (close, ping, pong) are skipped.
 *
 * Frame (§5.2): FIN|RSV|opcode (1), MASK|length (1), extended length (2 or 8, big endian),
 * masking key (4, client frames), payload. RSV1 set means permessage-deflate (RFC 7692):
 * recorded as an anomaly, the payload is not decoded.
 *
 * Trust boundary: both directions are untrusted; only the frame header is buffered (at most
 * 14 bytes); payload bytes pass through to the inner stream as they arrive.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/cursor.h"
#include "app.h"

struct ws_dir {
    uint8_t hdr[14];
    size_t hdr_len;
    uint64_t left;          /* payload bytes of the current frame still to come */
    uint8_t mask[4];
    bool masked;
    unsigned mask_pos;
    bool data;              /* the current frame's payload belongs to the inner stream */
    uint64_t inner_off;
    bool dead;
};

struct ws_flow {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;
    struct ws_dir d[2];
    void *inner;            /* the app layer's state for the carried stream */
    bool said_deflate;
    const struct pt_flow_pkt *pkt;
};

static bool ws_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                     uint16_t sport)
{
    (void)transport, (void)dir, (void)p, (void)n, (void)cport, (void)sport;
    return false; /* only ever reached through an HTTP Upgrade */
}

static void *ws_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct ws_flow *w = calloc(1, sizeof *w);
    if (w == NULL) {
        return NULL;
    }
    w->ctx = ctx;
    w->rec = *rec;
    w->inner = pt_app_stream_ops.open(ctx, &w->rec);
    return w;
}

/* Header length once the first two bytes are known. */
static size_t hdr_need(const uint8_t *h)
{
    size_t len = 2 + ((h[1] & 0x80) ? 4 : 0);
    uint8_t l7 = h[1] & 0x7f;
    return len + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0);
}

static void frame_start(struct ws_flow *w, struct ws_dir *d)
{
    struct pt_cur c = pt_cur_make(d->hdr, d->hdr_len);
    uint8_t b0 = pt_cur_u8(&c), b1 = pt_cur_u8(&c);
    uint8_t opcode = b0 & 0x0f, l7 = b1 & 0x7f;
    uint64_t len = l7 == 126 ? pt_cur_be16(&c) : l7 == 127 ? pt_cur_be64(&c) : l7;
    d->masked = (b1 & 0x80) != 0;
    if (d->masked) {
        pt_cur_copy(&c, d->mask, 4);
    }
    if (!pt_cur_ok(&c)) { /* hdr_need() sized the header, so this is a logic error */
        d->dead = true;
        return;
    }
    d->mask_pos = 0;
    d->left = len;
    d->data = opcode <= 2;
    if (d->data && (b0 & 0x40) && !w->said_deflate) {
        w->said_deflate = true;
        pt_app_anomaly(w->ctx, w->pkt, 0, PT_ANOM_WEBSOCKET_COMPRESSED,
                       "permessage-deflate frames: the carried stream is not decoded");
    }
    if (b0 & 0x40) {
        d->data = false;
    }
    if (opcode > 2 && opcode < 8) {
        pt_app_anomaly(w->ctx, w->pkt, 0, PT_ANOM_WEBSOCKET_BAD_OPCODE,
                       "reserved WebSocket opcode");
    }
}

static void ws_data(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                    const struct pt_flow_pkt *pkt)
{
    (void)off;
    struct ws_flow *w = st;
    struct ws_dir *d = &w->d[dir];
    w->pkt = pkt;
    uint8_t buf[4096];
    while (n > 0 && !d->dead) {
        if (d->left == 0 && (d->hdr_len < 2 || d->hdr_len < hdr_need(d->hdr))) {
            size_t want = d->hdr_len < 2 ? 2 : hdr_need(d->hdr);
            size_t k = want - d->hdr_len < n ? want - d->hdr_len : n;
            memcpy(d->hdr + d->hdr_len, p, k);
            d->hdr_len += k;
            p += k;
            n -= k;
            if (d->hdr_len >= 2 && d->hdr_len == hdr_need(d->hdr)) {
                frame_start(w, d);
                d->hdr_len = 0;
            }
            continue;
        }
        size_t k = d->left < n ? (size_t)d->left : n;
        if (k > sizeof buf) {
            k = sizeof buf;
        }
        if (d->data && w->inner != NULL) {
            for (size_t i = 0; i < k; i++) {
                buf[i] = d->masked ? p[i] ^ d->mask[(d->mask_pos + i) & 3] : p[i];
            }
            pt_app_stream_ops.data(w->ctx, w->inner, &w->rec, dir, d->inner_off, buf, k, pkt);
            d->inner_off += k;
        }
        d->mask_pos = (unsigned)((d->mask_pos + k) & 3);
        d->left -= k;
        p += k;
        n -= k;
    }
}

static void ws_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    (void)off;
    struct ws_flow *w = st;
    struct ws_dir *d = &w->d[dir];
    w->pkt = NULL;
    if (!d->dead && d->left >= n && d->hdr_len == 0 && d->left > 0) {
        if (d->data && w->inner != NULL) {
            pt_app_stream_ops.gap(w->ctx, w->inner, &w->rec, dir, d->inner_off, n);
            d->inner_off += n;
        }
        d->mask_pos = (unsigned)((d->mask_pos + n) & 3);
        d->left -= n;
        return;
    }
    if (!d->dead) {
        pt_app_anomaly(w->ctx, NULL, w->rec.item, PT_ANOM_WEBSOCKET_GAP_LOST_FRAMING,
                       "a capture gap broke the WebSocket framing");
    }
    d->dead = true;
}

static void ws_close(void *st)
{
    struct ws_flow *w = st;
    if (w->inner != NULL) {
        struct pt_flow_rec r = w->rec;
        pt_app_stream_ops.close(w->ctx, w->inner, &r);
    }
    free(w);
}

const struct pt_app_proto pt_app_websocket = {
    .name = "websocket",
    .probe = ws_probe,
    .open = ws_open,
    .data = ws_data,
    .gap = ws_gap,
    .close = ws_close,
    .datagram = NULL,
    .state_size = sizeof(struct ws_flow),
};
