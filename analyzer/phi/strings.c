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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

static inline bool lead(uint8_t c)
{
    return c >= 0xc2 && c <= 0xdf;
}

static inline bool cont(uint8_t c)
{
    return (c & 0xc0) == 0x80;
}

/* p[k] is part of a character of a byte run: printable ASCII, or either byte of a two-byte
 * UTF-8 letter (Latin-1 Supplement to Cyrillic). Wider sequences end a run, so random bytes
 * rarely make long runs. Lead and continuation bytes are disjoint sets, so which bytes are
 * characters does not depend on where a scan starts. */
static inline bool in_bytes(const uint8_t *p, size_t n, size_t k)
{
    return printable(p[k]) || (lead(p[k]) && k + 1 < n && cont(p[k + 1])) ||
           (cont(p[k]) && k > 0 && lead(p[k - 1]));
}

/* p[k] starts a UTF-16LE character: a printable or Latin-1 low byte, a zero high byte. */
static inline bool in_wide(const uint8_t *p, size_t n, size_t k)
{
    return k + 1 < n && p[k + 1] == 0 && (printable(p[k]) || p[k] >= 0xa0);
}

/* Bit j: whether position b + j is a character (in_bytes, or in_wide when wide); 0 past n.
 * With SSE2, 16 bytes are classified at a time wherever p[b - 1] .. p[b + 64] exist. */
static uint64_t mask64(const uint8_t *p, size_t n, size_t b, bool wide)
{
    uint64_t m = 0;
#if defined(__SSE2__)
    if (b + 64 < n) {
        if (wide && p[b + 64] != 0) { /* no zero byte, no UTF-16LE character: most blocks */
            const __m128i *w = (const __m128i *)(const void *)(p + b);
            __m128i lo = _mm_min_epu8(_mm_min_epu8(_mm_loadu_si128(w), _mm_loadu_si128(w + 1)),
                                      _mm_min_epu8(_mm_loadu_si128(w + 2),
                                                   _mm_loadu_si128(w + 3)));
            if (_mm_movemask_epi8(_mm_cmpeq_epi8(lo, _mm_setzero_si128())) == 0) {
                return 0;
            }
        }
        uint64_t pr = 0, ld = 0, ct = 0, z = 0, hi = 0;
        for (unsigned q = 0; q < 4; q++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + b + 16 * q));
            /* printable: 0x20..0x7e (shifted to -128..-34) or 9, 10, 12, 13 */
            __m128i a = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x60)),
                                       _mm_set1_epi8(-33));
            __m128i c = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(119)),
                                       _mm_set1_epi8(-123));
            c = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(11)), c);
            unsigned sh = 16 * q;
            pr |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(a, c)) << sh;
            if (wide) {
                z |= (uint64_t)(unsigned)_mm_movemask_epi8(
                         _mm_cmpeq_epi8(v, _mm_setzero_si128())) << sh;
                __m128i h = _mm_cmpgt_epi8(v, _mm_set1_epi8(-97)); /* 0xa0..0xff, 0..0x7f */
                h = _mm_and_si128(h, _mm_cmplt_epi8(v, _mm_setzero_si128()));
                hi |= (uint64_t)(unsigned)_mm_movemask_epi8(h) << sh;
            } else {
                /* lead 0xc2..0xdf (shifted to -128..-99), continuation 0x80..0xbf */
                ld |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(
                          _mm_add_epi8(v, _mm_set1_epi8(-66)), _mm_set1_epi8(-98))) << sh;
                ct |= (uint64_t)(unsigned)_mm_movemask_epi8(
                          _mm_cmplt_epi8(v, _mm_set1_epi8(-64))) << sh;
            }
        }
        if (wide) {
            return (pr | hi) & (z >> 1 | (uint64_t)(p[b + 64] == 0) << 63);
        }
        uint64_t ct_next = ct >> 1 | (uint64_t)cont(p[b + 64]) << 63;
        uint64_t ld_prev = ld << 1 | (uint64_t)(b > 0 && lead(p[b - 1]));
        return pr | (ld & ct_next) | (ct & ld_prev);
    }
#endif
    for (size_t j = 0; j < 64 && b + j < n; j++) {
        if (wide ? in_wide(p, n, b + j) : in_bytes(p, n, b + j)) {
            m |= (uint64_t)1 << j;
        }
    }
    return m;
}

/* The bits of the 128-bit word hi:lo shifted right by k (0 < k < 64), low half. */
static inline uint64_t shr(uint64_t lo, uint64_t hi, unsigned k)
{
    return lo >> k | hi << (64 - k);
}

_Static_assert((PT_PHI_STRINGS_MIN - 1) * 2 < 64, "a run's first window fits in two words");

/* Every maximal run of at least PT_PHI_STRINGS_MIN characters: byte runs when !wide, else
 * UTF-16LE runs of the positions of parity par. A run starts where the window of its first
 * PT_PHI_STRINGS_MIN characters is all characters, and the first such window at or after the
 * end of the previous run is a run's start (an earlier start would have its window too); so
 * blocks of 64 positions are skipped by their masks, and only a run's end is walked. */
static inline bool zero64(const uint8_t *p)
{
    uint64_t w[8];
    memcpy(w, p, sizeof w);
    return (w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) == 0;
}

static void runs_of(const uint8_t *p, size_t n, bool wide, unsigned par, pt_phi_run_fn fn,
                    void *arg)
{
    unsigned st = wide ? 2 : 1;
    size_t i = wide ? par : 0; /* no run starts before i */
    size_t b = 0;
    uint64_t cur = mask64(p, n, 0, wide);
    while (b < n) {
        if (cur == 0) { /* zero blocks (a disk image's empty space) start no run: over them */
            size_t z = b + 64;
            while (z + 64 <= n && zero64(p + z)) {
                z += 64;
            }
            b = z - 64; /* block b holds no run start (cur is 0 for it) */
        }
        uint64_t nxt = b + 64 < n ? mask64(p, n, b + 64, wide) : 0;
        uint64_t w = cur;
        for (unsigned k = 1; k < PT_PHI_STRINGS_MIN; k++) {
            w &= shr(cur, nxt, k * st);
        }
        if (wide) {
            w &= par ? 0xaaaaaaaaaaaaaaaaULL : 0x5555555555555555ULL;
        }
        if (i >= b + 64) {
            w = 0;
        } else if (i > b) {
            w &= ~0ULL << (i - b);
        }
        while (w != 0) {
            size_t a = b + (size_t)__builtin_ctzll(w);
            size_t e = a + PT_PHI_STRINGS_MIN * st;
            while (e < n && (wide ? in_wide(p, n, e) : in_bytes(p, n, e))) {
                e += st;
            }
            fn(arg, a, e - a, wide);
            i = e;
            w = i - b < 64 ? w & ~0ULL << (i - b) : 0;
        }
        if (i >= b + 128) { /* a long run: go on at its end */
            b = i & ~(size_t)63;
            cur = mask64(p, n, b, wide);
        } else {
            b += 64;
            cur = nxt;
        }
    }
}

void pt_phi_strings_runs(const uint8_t *p, size_t n, pt_phi_run_fn fn, void *arg)
{
    runs_of(p, n, false, 0, fn, arg);
    runs_of(p, n, true, 0, fn, arg);
    runs_of(p, n, true, 1, fn, arg);
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

struct strings_arg {
    const uint8_t *p;
    const struct pt_phi_sink *s;
    uint8_t *buf;       /* a UTF-16LE run narrowed */
    size_t cap;
    uint64_t read;
};

static void on_run(void *arg, size_t a, size_t len, bool wide)
{
    struct strings_arg *g = arg;
    if (!wide) {
        run(g->p + a, len, a, 1, g->s);
        g->read += len;
        return;
    }
    size_t chars = len / 2;
    if (chars > g->cap) {
        uint8_t *nb = realloc(g->buf, chars);
        if (nb == NULL) {
            if (g->s->anomaly != NULL) {
                g->s->anomaly(g->s->arg, a, PT_ANOM_PHI_STRINGS_NO_MEMORY,
                              "a UTF-16LE run was not read (no memory)");
            }
            return;
        }
        g->buf = nb;
        g->cap = chars;
    }
    for (size_t k = 0; k < chars; k++) {
        g->buf[k] = g->p[a + 2 * k];
    }
    run(g->buf, chars, a, 2, g->s);
    g->read += len;
}

uint64_t pt_phi_strings(const uint8_t *p, size_t n, const struct pt_phi_sink *s)
{
    struct strings_arg g = {p, s, NULL, 0, 0};
    pt_phi_strings_runs(p, n, on_run, &g);
    free(g.buf);
    return g.read;
}
