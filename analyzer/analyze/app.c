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

struct app_flow {
    struct pt_app_ctx *ctx;
    const struct pt_app_proto *proto;
    const char *name;              /* the protocol found first (kept across STARTTLS) */
    void *st;
    bool decided;
    unsigned tries;
};

/* A stream whose first bytes come from the server (a greeting such as "220 mail ready")
 * may say nothing about its protocol; the client's first line then decides. */
#define APP_SERVER_FIRST_TRIES 4

void pt_app_anomaly(const struct pt_app_ctx *ctx, const struct pt_flow_pkt *pkt, uint32_t item,
                    const char *kind, const char *detail)
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

static void *app_open(void *arg, struct pt_flow_rec *rec)
{
    (void)rec;
    struct app_flow *a = calloc(1, sizeof *a);
    if (a != NULL) {
        a->ctx = arg;
    }
    return a;
}

static void app_data(void *arg, void *st, const struct pt_flow_rec *rec, int dir, uint64_t off,
                     const uint8_t *p, size_t n, const struct pt_flow_pkt *pkt)
{
    struct app_flow *a = st;
    if (!a->decided) {
        a->decided = true;
        /* an FTP data channel is known by its announcement, not by its content */
        a->st = pt_ftp_claim(a->ctx, rec, pkt ? pkt->ts_us : INT64_MIN);
        if (a->st != NULL) {
            a->proto = &pt_app_ftp_data;
        }
        for (size_t i = 0; a->st == NULL && i < sizeof protos / sizeof protos[0]; i++) {
            if (protos[i]->probe(6, dir, p, n, rec->cport, rec->sport)) {
                a->proto = protos[i];
                a->st = a->proto->open(a->ctx, rec);
                break;
            }
        }
        if (a->st == NULL && dir == 1 && ++a->tries < APP_SERVER_FIRST_TRIES) {
            a->decided = false; /* wait for the client to speak */
        }
    }
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
            uint8_t *keep[2] = {NULL, NULL};
            for (int d = 0; d < 2 && a->proto->tail != NULL; d++) {
                tn[d] = a->proto->tail(a->st, d, &t[d]);
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
                    app_data(arg, a, rec, d, off + n - tn[d], keep[d], tn[d], pkt);
                }
                free(keep[d]);
            }
        }
    }
}

static void app_gap(void *arg, void *st, const struct pt_flow_rec *rec, int dir, uint64_t off,
                    uint64_t n)
{
    (void)arg;
    (void)rec;
    struct app_flow *a = st;
    if (a->st != NULL) {
        a->proto->gap(a->st, dir, off, n);
    }
}

static void app_close(void *arg, void *st, struct pt_flow_rec *rec)
{
    (void)arg;
    struct app_flow *a = st;
    if (a->st != NULL) {
        a->proto->close(a->st);
    }
    if (a->name != NULL) {
        snprintf(rec->app, sizeof rec->app, "%s", a->name);
    }
    free(a);
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

const struct pt_stream_ops pt_app_stream_ops = {app_open, app_data, app_gap, app_close,
                                                app_datagram};
