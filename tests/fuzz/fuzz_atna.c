/*
 * fuzz_atna.c - libFuzzer target for IHE ATNA / DICOM audit messages (ingest/atna.c) read
 * from a stream (ingest/atna_stream.c), on one line or many. Byte 0 picks the size of the
 * pieces the rest is fed in; every unit (message or line) must be accounted for exactly
 * once, every row's text terminated, each patient row keyed (64 hex digits) and never more
 * patient rows for a message than its patient count; the input is also read whole by
 * pt_atna_parse and pt_atna_patients.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
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

static int64_t pending; /* patient rows the last message may still give */
static bool keep;       /* rows carry the identifier */

static void on_rec(void *arg, enum pt_logrec_kind k, const void *rec)
{
    (void)arg;
    if (k == PT_LOGREC_AUDIT_PATIENT) {
        const struct pt_logaudit_patient_rec *r = rec;
        if (strnlen(r->hmac, sizeof r->hmac) != 64 || (r->id[0] == '\0') == keep || !TERMINATED(r->id) ||
            --pending < 0) {
            abort();
        }
        return;
    }
    if (k != PT_LOGREC_AUDIT) {
        abort();
    }
    check(&((const struct pt_logaudit_rec *)rec)->m);
    pending = ((const struct pt_logaudit_rec *)rec)->m.patients;
}

static void on_key(void *arg, const char *key)
{
    char again[PT_ATNA_ID_MAX];
    (*(size_t *)arg)++;
    /* a key has an ID: keying it again gives one */
    if (key[0] == '\0' || strnlen(key, PT_ATNA_ID_MAX) >= PT_ATNA_ID_MAX ||
        !pt_atna_patient_key(key, again, sizeof again)) {
        abort();
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
    static struct pt_hmac *mac;
    static const uint8_t key[32] = {7};
    if (size < 1) {
        return 0;
    }
    if (p == NULL && (p = calloc(1, sizeof *p)) == NULL) {
        return 0;
    }
    if (mac == NULL && (mac = pt_hmac_new(key, sizeof key)) == NULL) {
        return 0;
    }
    struct pt_atna_msg m;
    const char *why = NULL;
    if (pt_atna_parse(data + 1, size - 1, &m, &why)) {
        check(&m);
        size_t keys = 0;
        pt_atna_patients(data + 1, size - 1, on_key, &keys);
        if (keys > (size_t)m.patients) {
            abort();
        }
    } else if (why == NULL) {
        abort();
    }
    /* a file time, so RFC 3164 headers' times get their year */
    pt_logparse_init(p, PT_LOGFMT_ATNA, 1, 1794096000000000LL, on_rec, on_anom, NULL);
    p->mac = mac;
    p->keep_ids = keep = data[0] & 1;
    pending = 0;
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
