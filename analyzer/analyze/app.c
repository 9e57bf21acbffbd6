/*
 * app.c - protocol detection by content and dispatch (see app.h).
 *
 * The first stream bytes (either direction) are offered to every decoder's probe in the
 * order of protocols.def; the first that recognises them takes the flow. Ports are only a
 * hint the probe may use, never the decision.
 */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PT_APP_PROTO(name) extern const struct pt_app_proto pt_app_##name;
#include "protocols.def"
#undef PT_APP_PROTO
extern const struct pt_app_proto pt_app_ftp_data;

static const struct pt_app_proto *const protos[] = {
#define PT_APP_PROTO(name) &pt_app_##name,
#include "protocols.def"
#undef PT_APP_PROTO
};

extern const struct pt_app_proto pt_app_tls;

const struct pt_app_proto pt_app_reprobe = {.name = "reprobe"};

/* Bytes that arrived before any decoder recognised the stream, in arrival order (both
 * directions), so that a request line cut over segments ("PO" + "ST /up...") or a server
 * greeting before the client's first command is decided on whole and then replayed: detection
 * never decides on a fragment, and no byte is dropped while it waits. */
struct look_chunk {
    uint8_t dir;
    uint64_t off;
    uint32_t at, n;             /* in the look-ahead buffer */
    struct pt_flow_pkt pkt;     /* a copy (its view pointer cleared) */
    bool has_pkt;
};

struct app_flow {
    struct pt_app_ctx *ctx;
    const struct pt_app_proto *proto;
    const char *name;              /* the protocol found first (kept across STARTTLS) */
    void *st;
    bool decided;
    bool claim_checked;            /* the FTP data-channel table was asked */
    unsigned tries;
    uint8_t *look;                 /* PT_APP_LOOKAHEAD bytes while undecided */
    uint32_t look_n;
    struct look_chunk chunks[PT_APP_LOOK_CHUNKS];
    unsigned nchunks;
};

/* A stream whose first bytes come from the server (a greeting such as "220 mail ready")
 * may say nothing about its protocol; the client's first line then decides. */
#define APP_SERVER_FIRST_TRIES 4
/* A client's first bytes shorter than this, without a line end, may be a cut command. */
#define APP_CLIENT_MIN 128

void pt_app_anomaly(const struct pt_app_ctx *ctx, const struct pt_flow_pkt *pkt, uint32_t item,
                    enum pt_anom kind, const char *detail)
{
    if (ctx->anomaly != NULL) {
        ctx->anomaly(ctx->arg, pkt ? pkt->item : item, pkt ? pkt->frame : 0, kind, detail);
    }
}

void pt_app_object_meta(struct pt_object_rec *meta, const struct pt_flow_rec *rec, int dir,
                        const char *protocol, uint64_t off, uint32_t item, uint64_t frame,
                        int64_t ts_us)
{
    memset(meta, 0, sizeof *meta);
    snprintf(meta->protocol, sizeof meta->protocol, "%s", protocol);
    meta->flow_id = rec->id;
    meta->dir = (uint8_t)dir;
    snprintf(meta->direction, sizeof meta->direction, "%s", pt_app_direction(rec, dir));
    meta->stream_off = off;
    meta->item = item;
    meta->frame = frame;
    meta->ts_us = ts_us;
}

const char *pt_app_direction(const struct pt_flow_rec *rec, int dir)
{
    switch (rec->cls) {
        case PT_CLASS_OUTBOUND: return dir == 0 ? "upload" : "download";
        case PT_CLASS_INBOUND: return dir == 0 ? "download" : "upload";
        case PT_CLASS_INTERNAL: return "internal";
        default: return "external";
    }
}

bool pt_app_has_word(const uint8_t *p, size_t n, const char *word)
{
    size_t l = strlen(word);
    for (size_t i = 0; l <= n && i <= n - l; i++) {
        if (strncasecmp((const char *)p + i, word, l) == 0) {
            return true;
        }
    }
    return false;
}

bool pt_app_not_digit_reply(int dir, const uint8_t *p, size_t n)
{
    for (size_t i = 0; dir == 1 && i < 3 && i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return true;
        }
    }
    return false;
}

static void *app_open(void *arg, struct pt_flow_rec *rec)
{
    (void)rec;
    struct app_flow *a = calloc(1, sizeof *a);
    if (a != NULL) {
        a->ctx = arg;
    }
    return a;
}

static void dispatch(void *arg, struct app_flow *a, const struct pt_flow_rec *rec, int dir,
                     uint64_t off, const uint8_t *p, size_t n, const struct pt_flow_pkt *pkt);
static void app_data(void *arg, void *st, const struct pt_flow_rec *rec, int dir, uint64_t off,
                     const uint8_t *p, size_t n, const struct pt_flow_pkt *pkt);

/* The held bytes of one direction, contiguous, into out (at most cap); returns the length. */
static size_t held(const struct app_flow *a, int dir, uint8_t *out, size_t cap)
{
    size_t k = 0;
    for (unsigned c = 0; c < a->nchunks; c++) {
        const struct look_chunk *ch = &a->chunks[c];
        if (ch->dir != dir) {
            continue;
        }
        size_t m = ch->n < cap - k ? ch->n : cap - k;
        memcpy(out + k, a->look + ch->at, m);
        k += m;
    }
    return k;
}

/* Choose the decoder (the raw one when `force` and nothing else recognises the held bytes
 * and the piece `xp` that is about to be dispatched after them, in direction xdir), then
 * replay what was held, in arrival order. Returns false to keep waiting. */
static bool decide(void *arg, struct app_flow *a, const struct pt_flow_rec *rec, bool force,
                   int xdir, const uint8_t *xp, size_t xn)
{
    static _Thread_local uint8_t buf[2][PT_APP_LOOKAHEAD];
    size_t len[2] = {held(a, 0, buf[0], sizeof buf[0]), held(a, 1, buf[1], sizeof buf[1])};
    if (xp != NULL && len[xdir] < sizeof buf[xdir]) {
        size_t m = xn < sizeof buf[xdir] - len[xdir] ? xn : sizeof buf[xdir] - len[xdir];
        memcpy(buf[xdir] + len[xdir], xp, m);
        len[xdir] += m;
    }
    const struct pt_app_proto *chosen = NULL;
    size_t last = sizeof protos / sizeof protos[0] - 1; /* raw, the fallback */
    for (int d = 0; d < 2 && chosen == NULL; d++) {
        for (size_t i = 0; len[d] > 0 && i < last && chosen == NULL; i++) {
            if (protos[i]->probe(6, d, buf[d], len[d], rec->cport, rec->sport) &&
                (protos[i]->refuted == NULL || len[!d] == 0 ||
                 !protos[i]->refuted(!d, buf[!d], len[!d]))) {
                chosen = protos[i];
            }
        }
    }
    if (chosen == NULL && !force) {
        bool client_cut = len[0] > 0 && len[0] < APP_CLIENT_MIN && !memchr(buf[0], '\n', len[0]);
        bool server_first = len[0] == 0 && a->tries < APP_SERVER_FIRST_TRIES;
        if (client_cut || server_first) {
            return false;
        }
    }
    if (chosen == NULL) {
        chosen = protos[last];
    }
    a->decided = true;
    a->proto = chosen;
    a->st = chosen->open(a->ctx, rec);
    /* replay: the chunks stay valid while dispatch runs (a nested decision starts anew) */
    struct look_chunk chunks[PT_APP_LOOK_CHUNKS];
    unsigned nc = a->nchunks;
    uint8_t *look = a->look;
    memcpy(chunks, a->chunks, nc * sizeof chunks[0]);
    a->look = NULL;
    a->look_n = 0;
    a->nchunks = 0;
    for (unsigned c = 0; c < nc; c++) {
        dispatch(arg, a, rec, chunks[c].dir, chunks[c].off, look + chunks[c].at, chunks[c].n,
                 chunks[c].has_pkt ? &chunks[c].pkt : NULL);
    }
    free(look);
    return true;
}

static void app_data(void *arg, void *st, const struct pt_flow_rec *rec, int dir, uint64_t off,
                     const uint8_t *p, size_t n, const struct pt_flow_pkt *pkt)
{
    struct app_flow *a = st;
    if (!a->decided && !a->claim_checked) {
        /* an FTP data channel is known by its announcement, not by its content */
        a->claim_checked = true;
        a->st = pt_ftp_claim(a->ctx, rec, pkt ? pkt->ts_us : INT64_MIN);
        if (a->st != NULL) {
            a->proto = &pt_app_ftp_data;
            a->decided = true;
        }
    }
    if (a->decided) {
        dispatch(arg, a, rec, dir, off, p, n, pkt);
        return;
    }
    /* hold the bytes while no decoder can tell; a full buffer forces the decision */
    if (a->look == NULL && (a->look = malloc(PT_APP_LOOKAHEAD)) == NULL) {
        decide(arg, a, rec, true, dir, p, n); /* no memory: decide on this piece alone */
        dispatch(arg, a, rec, dir, off, p, n, pkt);
        return;
    }
    if (a->look_n + n > PT_APP_LOOKAHEAD || a->nchunks == PT_APP_LOOK_CHUNKS) {
        decide(arg, a, rec, true, dir, p, n); /* probes see this piece too */
        dispatch(arg, a, rec, dir, off, p, n, pkt);
        return;
    }
    struct look_chunk *ch = &a->chunks[a->nchunks++];
    ch->dir = (uint8_t)dir;
    ch->off = off;
    ch->at = a->look_n;
    ch->n = (uint32_t)n;
    ch->has_pkt = pkt != NULL;
    if (pkt != NULL) {
        ch->pkt = *pkt;
        ch->pkt.v = NULL;
    }
    memcpy(a->look + a->look_n, p, n);
    a->look_n += (uint32_t)n;
    if (dir == 1) {
        a->tries++;
    }
    decide(arg, a, rec, false, 0, NULL, 0);
}

static void dispatch(void *arg, struct app_flow *a, const struct pt_flow_rec *rec, int dir,
                     uint64_t off, const uint8_t *p, size_t n, const struct pt_flow_pkt *pkt)
{
    if (a->st != NULL) {
        if (a->name == NULL) {
            a->name = a->proto->name;
        }
        a->proto->data(a->st, dir, off, p, n, pkt);
        const struct pt_app_proto *next =
            a->proto->upgraded != NULL ? a->proto->upgraded(a->st) : NULL;
        if (next != NULL) {
            /* STARTTLS (RFC 3207), CONNECT or Upgrade (RFC 9110 §9.3.6, §7.8): the decoder
             * is done; bytes it already took after the switch go to the next one */
            const uint8_t *t[2] = {NULL, NULL};
            size_t tn[2] = {0, 0};
            uint64_t toff[2] = {0, 0}; /* each direction's own stream offset */
            uint8_t *keep[2] = {NULL, NULL};
            for (int d = 0; d < 2 && a->proto->tail != NULL; d++) {
                tn[d] = a->proto->tail(a->st, d, &t[d], &toff[d]);
                if (tn[d] > 0 && (keep[d] = malloc(tn[d])) != NULL) {
                    memcpy(keep[d], t[d], tn[d]);
                } else {
                    tn[d] = 0;
                }
            }
            a->proto->close(a->st);
            a->st = NULL;
            a->proto = NULL;
            if (next != &pt_app_reprobe) {
                a->proto = next;
                a->st = a->proto->open(a->ctx, rec);
                a->decided = true;
            } else {
                a->decided = false;
                a->tries = 0;
            }
            for (int d = 0; d < 2; d++) {
                if (tn[d] > 0) {
                    app_data(arg, a, rec, d, toff[d], keep[d], tn[d], d == dir ? pkt : NULL);
                }
                free(keep[d]);
            }
        }
    }
}

static void app_gap(void *arg, void *st, const struct pt_flow_rec *rec, int dir, uint64_t off,
                    uint64_t n)
{
    struct app_flow *a = st;
    if (!a->decided && a->nchunks > 0) {
        decide(arg, a, rec, true, 0, NULL, 0); /* a hole: decide on what was held */
    }
    if (a->st != NULL) {
        a->proto->gap(a->st, dir, off, n);
    }
}

static void app_close(void *arg, void *st, struct pt_flow_rec *rec)
{
    struct app_flow *a = st;
    if (!a->decided && a->nchunks > 0) {
        decide(arg, a, rec, true, 0, NULL, 0); /* the flow ended: nothing is dropped */
    }
    free(a->look);
    if (a->st != NULL) {
        a->proto->close(a->st);
    }
    if (a->name != NULL) {
        snprintf(rec->app, sizeof rec->app, "%s", a->name);
    }
    free(a);
}

void pt_app_no_stream(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                      const struct pt_flow_pkt *pkt)
{
    (void)st;
    (void)dir;
    (void)off;
    (void)p;
    (void)n;
    (void)pkt;
}

void pt_app_no_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    (void)st;
    (void)dir;
    (void)off;
    (void)n;
}

static void app_datagram(void *arg, void *st, const struct pt_flow_rec *rec, int dir,
                         const uint8_t *p, size_t n, size_t wire, const struct pt_flow_pkt *pkt)
{
    (void)arg;
    (void)wire;
    struct app_flow *a = st;
    if (!a->decided) {
        a->decided = true;
        for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++) {
            if (protos[i]->datagram != NULL &&
                protos[i]->probe(rec->proto, dir, p, n, rec->cport, rec->sport)) {
                a->proto = protos[i];
                a->st = a->proto->open(a->ctx, rec);
                break;
            }
        }
    }
    if (a->st != NULL) {
        a->proto->datagram(a->st, dir, p, n, pkt);
    }
}

/* What a flow's application state holds, for the memory cap (core/memcap.h). */
static size_t app_mem(void *arg, const void *st)
{
    (void)arg;
    const struct app_flow *a = st;
    size_t n = sizeof *a + (a->look != NULL ? PT_APP_LOOKAHEAD : 0);
    if (a->st != NULL && a->proto != NULL) {
        n += a->proto->state_size + (a->proto->mem != NULL ? a->proto->mem(a->st) : 0);
    }
    return n;
}

const struct pt_stream_ops pt_app_stream_ops = {app_open, app_data, app_gap, app_close,
                                                app_datagram, app_mem};
