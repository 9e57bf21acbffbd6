/*
 * fuzz_atna.c - libFuzzer target for IHE ATNA / DICOM audit messages (ingest/atna.c) read as
 * log lines (ingest/logparse.c). Byte 0 picks the size of the pieces the rest is fed in;
 * every line must be accounted for exactly once and every row's text terminated; the message
 * is also read whole by pt_atna_parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/atna.h"
#include "ingest/logparse.h"

#define TERMINATED(s) (strnlen((s), sizeof(s)) < sizeof(s))

static void check(const struct pt_atna_msg *m)
{
    if (!TERMINATED(m->event) || !TERMINATED(m->event_name) || !TERMINATED(m->action) ||
        !TERMINATED(m->when) || !TERMINATED(m->user) || !TERMINATED(m->user_addr) ||
        !TERMINATED(m->src_addr) || !TERMINATED(m->dst_addr) || m->patients < 0 ||
        m->studies < 0 || m->patients + m->studies > m->objects || m->event[0] == '\0') {
        abort();
    }
}

static void on_rec(void *arg, enum pt_logrec_kind k, const void *rec)
{
    (void)arg;
    if (k != PT_LOGREC_AUDIT) {
        abort();
    }
    check(&((const struct pt_logaudit_rec *)rec)->m);
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
    struct pt_atna_msg m;
    const char *why = NULL;
    if (pt_atna_parse(data + 1, size - 1, &m, &why)) {
        check(&m);
    } else if (why == NULL) {
        abort();
    }
    pt_logparse_init(p, PT_LOGFMT_ATNA, 1, 0, on_rec, on_anom, NULL);
    size_t piece = 1 + (size_t)data[0] * 13;
    for (size_t at = 1; at < size; at += piece) {
        pt_logparse_feed(p, data + at, size - at < piece ? size - at : piece);
    }
    pt_logparse_end(p);
    const struct pt_logstats *s = &p->st;
    if (s->lines != s->records + s->other + s->headers + s->blank + s->malformed ||
        s->records != s->audit || s->bytes != size - 1) {
        abort();
    }
    return 0;
}
