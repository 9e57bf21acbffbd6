/*
 * fuzz_logparse.c - libFuzzer target for logs read as records (ingest/logparse.c) and the flat
 * JSON reader under them. Byte 0 picks the format (below 128, byte % 8: Zeek TSV, Zeek JSON,
 * EVE, web access, W3C, syslog, Squid, flow CSV; from 128, byte % 5: AWS ELB, vsftpd,
 * xferlog, PAN-OS, Windows DNS) and
 * the size of the pieces the rest is fed in; every line must be accounted for exactly once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/logparse.h"

static void on_rec(void *arg, enum pt_logrec_kind k, const void *rec)
{
    (void)arg;
    /* every text field a row carries is terminated */
    if (k == PT_LOGREC_CONN) {
        const struct pt_logconn_rec *c = rec;
        if (strnlen(c->uid, sizeof c->uid) == sizeof c->uid ||
            strnlen(c->service, sizeof c->service) == sizeof c->service) {
            abort();
        }
    } else if (k == PT_LOGREC_HTTP) {
        const struct pt_loghttp_rec *h = rec;
        if (strnlen(h->uri, sizeof h->uri) == sizeof h->uri ||
            strnlen(h->host, sizeof h->host) == sizeof h->host) {
            abort();
        }
    } else if (k == PT_LOGREC_XFER) {
        const struct pt_logxfer_rec *x = rec;
        if (strnlen(x->path, sizeof x->path) == sizeof x->path ||
            strnlen(x->user, sizeof x->user) == sizeof x->user) {
            abort();
        }
    } else {
        const struct pt_logdns_rec *d = rec;
        if (strnlen(d->answers, sizeof d->answers) == sizeof d->answers) {
            abort();
        }
    }
}

static void on_anom(void *arg, uint64_t off, enum pt_anom kind, const char *detail)
{
    (void)arg;
    (void)off;
    (void)kind;
    (void)detail;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pt_logparse *p;
    if (size < 1) {
        return 0;
    }
    if (p == NULL && (p = calloc(1, sizeof *p)) == NULL) {
        return 0;
    }
    static const enum pt_logfmt fmts[] = {PT_LOGFMT_ZEEK, PT_LOGFMT_ZEEK_JSON, PT_LOGFMT_EVE,
                                          PT_LOGFMT_WEB, PT_LOGFMT_W3C, PT_LOGFMT_SYSLOG,
                                          PT_LOGFMT_SQUID, PT_LOGFMT_FLOWCSV};
    static const enum pt_logfmt more[] = {PT_LOGFMT_ELB, PT_LOGFMT_VSFTPD, PT_LOGFMT_XFERLOG,
                                          PT_LOGFMT_PANOS, PT_LOGFMT_WINDNS};
    enum pt_logfmt fmt = data[0] < 128 ? fmts[data[0] % 8] : more[data[0] % 5];
    pt_logparse_init(p, fmt, 1, 0, on_rec, on_anom, NULL);
    size_t piece = 1 + (size_t)((data[0] & 0x7f) / 8) * 37;
    for (size_t at = 1; at < size; at += piece) {
        pt_logparse_feed(p, data + at, size - at < piece ? size - at : piece);
    }
    pt_logparse_end(p);
    const struct pt_logstats *s = &p->st;
    if (s->lines != s->records + s->other + s->headers + s->blank + s->malformed ||
        s->records != s->conn + s->dns + s->http + s->xfer || s->bytes != size - 1) {
        abort();
    }
    return 0;
}
