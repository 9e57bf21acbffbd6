/*
 * strings.c - PHI in content no parser opened: the printable runs of a binary object, in
 * ASCII (and UTF-8) and in UTF-16LE, as bulk_extractor's and `strings -a` / `strings -el`
 * see them (research/phi-disk-compliance.md: a byte search of a raw image finds record
 * numbers long before its file system is parsed).
 *
 * Each run of at least PT_PHI_STRINGS_MIN printable bytes (TAB, line ends and form feeds
 * count, so a CSV or a report inside a disk image stays one run with its lines) is read like
 * a text object: pt_phi_scan picks CSV, HL7, FHIR or free text, and the record rules apply.
 * Offsets are the object's; records are marked "carved" so every hit says where it came from.
 * UTF-16LE runs are narrowed to one byte per character first (only characters below U+0100),
 * with offsets mapped back.
 *
 * Trust boundary: the bytes are untrusted; runs are bounded by PT_PHI_STRINGS_RUN (a longer
 * run is read in pieces cut at a line end).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/limits.h"
#include "phi.h"

/* Offsets of a run's hits, records and anomalies translated to the object, records marked. */
struct carve {
    const struct pt_phi_sink *s;
    uint64_t base;
    unsigned scale;          /* 1 for byte runs, 2 for UTF-16LE */
};

static void c_record(void *arg, const char *kind, uint64_t off)
{
    struct carve *c = arg;
    char k[96];
    snprintf(k, sizeof k, "carved %s", kind);
    if (c->s->record != NULL) {
        c->s->record(c->s->arg, k, c->base + off * c->scale);
    }
}

static void c_hit(void *arg, const struct pt_phi_hit *h)
{
    struct carve *c = arg;
    struct pt_phi_hit x = *h;
    char reason[256];
    x.offset = c->base + h->offset * c->scale;
    snprintf(reason, sizeof reason, "%s; carved from a printable run (%s)", h->reason,
             c->scale == 2 ? "UTF-16LE" : "ASCII");
    x.reason = reason;
    if (c->s->hit != NULL) {
        c->s->hit(c->s->arg, &x);
    }
}

static void c_health(void *arg, const char *what)
{
    struct carve *c = arg;
    if (c->s->health != NULL) {
        c->s->health(c->s->arg, what);
    }
}

static void c_anomaly(void *arg, uint64_t off, enum pt_anom kind, const char *detail)
{
    struct carve *c = arg;
    if (c->s->anomaly != NULL) {
        c->s->anomaly(c->s->arg, c->base + off * c->scale, kind, detail);
    }
}

static inline bool printable(uint8_t c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Bytes of the printable character at p[i]: ASCII, or a two-byte UTF-8 letter (Latin-1
 * Supplement to Cyrillic); 0 when it is not one. Wider sequences end a run, so random
 * bytes rarely make long runs. */
static inline size_t printable_at(const uint8_t *p, size_t n, size_t i)
{
    if (printable(p[i])) {
        return 1;
    }
    return p[i] >= 0xc2 && p[i] <= 0xdf && i + 1 < n && (p[i + 1] & 0xc0) == 0x80 ? 2 : 0;
}

/* Read one run [a, b) of the object (bytes at p, or narrowed UTF-16 in q). */
static void run(const uint8_t *q, size_t n, uint64_t base, unsigned scale,
                const struct pt_phi_sink *s)
{
    struct carve c = {s, base, scale};
    struct pt_phi_sink cs = {&c, c_record, c_hit, c_health, c_anomaly};
    size_t a = 0;
    while (a < n) {
        size_t b = n - a > PT_PHI_STRINGS_RUN ? a + PT_PHI_STRINGS_RUN : n;
        if (b < n) { /* cut a long run at a line end */
            size_t e = b;
            while (e > a + PT_PHI_STRINGS_RUN / 2 && q[e - 1] != '\n') {
                e--;
            }
            if (q[e - 1] == '\n') {
                b = e;
            }
        }
        c.base = base + a * scale;
        pt_phi_scan(q + a, b - a, &cs);
        a = b;
    }
}

uint64_t pt_phi_strings(const uint8_t *p, size_t n, const struct pt_phi_sink *s)
{
    uint64_t read = 0;
    /* byte runs */
    size_t i = 0;
    while (i < n) {
        while (i < n && printable_at(p, n, i) == 0) {
            i++;
        }
        size_t a = i, w;
        while (i < n && (w = printable_at(p, n, i)) > 0) {
            i += w;
        }
        if (i - a >= PT_PHI_STRINGS_MIN) {
            run(p + a, i - a, a, 1, s);
            read += i - a;
        }
    }
    /* UTF-16LE runs: printable low byte, zero high byte */
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (size_t par = 0; par < 2; par++) {
        i = par;
        while (i + 1 < n) {
            while (i + 1 < n && !(p[i + 1] == 0 && (printable(p[i]) || p[i] >= 0xa0))) {
                i += 2;
            }
            size_t a = i;
            while (i + 1 < n && p[i + 1] == 0 && (printable(p[i]) || p[i] >= 0xa0)) {
                i += 2;
            }
            size_t chars = (i - a) / 2;
            if (chars < PT_PHI_STRINGS_MIN) {
                continue;
            }
            if (chars > cap) {
                uint8_t *nb = realloc(buf, chars);
                if (nb == NULL) {
                    if (s->anomaly != NULL) {
                        s->anomaly(s->arg, a, PT_ANOM_PHI_STRINGS_NO_MEMORY,
                                   "a UTF-16LE run was not read (no memory)");
                    }
                    continue;
                }
                buf = nb;
                cap = chars;
            }
            for (size_t k = 0; k < chars; k++) {
                buf[k] = p[a + 2 * k];
            }
            run(buf, chars, a, 2, s);
            read += i - a;
        }
    }
    free(buf);
    return read;
}
