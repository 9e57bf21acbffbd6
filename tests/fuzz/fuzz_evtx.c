/*
 * fuzz_evtx.c - libFuzzer target for the EVTX reader's lines into rows (ingest/evtx.c): the
 * record-to-row mapping (libevtx's XML rendering read through the bounded tag scanner,
 * ingest/xmltag.c) and the reader's line protocol, which the analyzer takes as untrusted
 * (the reader parses hostile files). libevtx itself runs in its own process and is not
 * fuzzed here. Byte 0 sets the size of the pieces the rest is fed in; every line must be
 * accounted for exactly once and every text field of a row be terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/evtx.h"
#include "ingest/logparse.h"

#define TERMINATED(s) (strnlen((s), sizeof(s)) < sizeof(s))

static void on_rec(void *arg, enum pt_logrec_kind k, const void *rec)
{
    (void)arg;
    if (k == PT_LOGREC_WINEVT) {
        const struct pt_logwinevt_rec *w = rec;
        if (!TERMINATED(w->kind) || !TERMINATED(w->channel) || !TERMINATED(w->computer) ||
            !TERMINATED(w->subject_user) || !TERMINATED(w->target_user) ||
            !TERMINATED(w->client) || !TERMINATED(w->target_server) || !TERMINATED(w->process) ||
            !TERMINATED(w->parent) || !TERMINATED(w->object) || !TERMINATED(w->access) ||
            !TERMINATED(w->command) || !TERMINATED(w->script_id) || w->kind[0] == '\0' ||
            w->cport > 65535 || (w->client[0] == '\0' && w->cport != -1)) {
            abort();
        }
    } else if (k == PT_LOGREC_CONN) {
        const struct pt_logconn_rec *c = rec;
        if (!TERMINATED(c->client) || !TERMINATED(c->server) || !TERMINATED(c->service) ||
            c->client[0] == '\0' || c->server[0] == '\0' || c->cport > 65535 ||
            c->sport > 65535 || strcmp(c->p.source, "evtx") != 0) {
            abort();
        }
    } else {
        abort(); /* EVTX gives no other kind of row */
    }
}

static void on_anom(void *arg, uint64_t off, enum pt_anom kind, const char *detail)
{
    (void)arg;
    (void)off;
    (void)kind;
    if (strlen(detail) == 0) {
        abort();
    }
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
    pt_logparse_init(p, PT_LOGFMT_EVTX, 1, 0, on_rec, on_anom, NULL);
    size_t piece = 1 + (size_t)data[0] * 29;
    for (size_t at = 1; at < size; at += piece) {
        pt_logparse_feed(p, data + at, size - at < piece ? size - at : piece);
    }
    pt_logparse_end(p);
    pt_evtx_end(p);
    const struct pt_logstats *s = &p->st;
    if (s->lines != s->records + s->other + s->headers + s->blank + s->malformed ||
        s->records != s->conn + s->winevt || s->bytes != size - 1) {
        abort();
    }
    return 0;
}
