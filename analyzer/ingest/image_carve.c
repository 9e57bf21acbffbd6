/*
 * image_carve.c - signatures for carving unallocated space (image_carve.h).
 * Signatures: zip local file header "PK\3\4" (APPNOTE 4.3.7), gzip 1f 8b 08 (RFC 1952 2.3.1),
 * "%PDF-" (ISO 32000-1 7.5.2), DICOM Part 10 "DICM" after the 128-byte preamble (PS3.10
 * 7.1), and a first text line with commas naming patient fields.
 * Trust boundary: blocks of a hostile image; reads are bounded by n, through the cursor.
 */
#include "image_carve.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../core/cursor.h"

/* A CSV header line: printable, with commas, naming at least two patient fields. */
static bool patient_csv(const uint8_t *p, size_t n)
{
    static const char *const fields[] = {"ssn", "mrn", "dob", "patient", "birth", "last_name",
                                         "first_name", "diagnosis", "medical"};
    size_t len = 0, commas = 0;
    while (len < n && len < 1024 && p[len] != '\n') {
        if (p[len] == ',') {
            commas++;
        } else if ((p[len] < 0x20 && p[len] != '\r' && p[len] != '\t') || p[len] > 0x7e) {
            return false;
        }
        len++;
    }
    if (len == n || len == 1024 || commas < 2) {
        return false;
    }
    char line[1025];
    memcpy(line, p, len);
    line[len] = '\0';
    unsigned named = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        named += strcasestr(line, fields[i]) != NULL;
    }
    return named >= 2;
}

const char *pt_carve_sniff(const uint8_t *p, size_t n)
{
    struct pt_cur c = pt_cur_make(p, n);
    uint32_t magic = pt_cur_be32(&c);
    if (!pt_cur_ok(&c)) {
        return NULL;
    }
    if (magic == 0x504b0304u) {
        return "zip";
    }
    if ((magic >> 8) == 0x1f8b08u && (magic & 0xe0u) == 0 && n >= 10 &&
        (p[8] == 0 || p[8] == 2 || p[8] == 4) && (p[9] <= 13 || p[9] == 255)) {
        return "gz"; /* RFC 1952 2.3.1: reserved FLG bits zero, XFL 0/2/4, a known OS */
    }
    if (magic == 0x25504446u && n >= 5 && p[4] == '-') {
        return "pdf";
    }
    struct pt_cur d = pt_cur_make(p, n);
    if (pt_cur_skip(&d, 128) && pt_cur_be32(&d) == 0x4449434du && pt_cur_ok(&d)) {
        return "dcm";
    }
    return patient_csv(p, n) ? "csv" : NULL;
}

size_t pt_carve_take(const char *kind, const uint8_t *p, size_t n, bool *last)
{
    *last = false;
    if (strcmp(kind, "csv") == 0) {
        const uint8_t *nul = memchr(p, 0, n);
        if (nul != NULL) {
            *last = true;
            return (size_t)(nul - p);
        }
    } else if (strcmp(kind, "pdf") == 0 && n >= 5) {
        /* the last %%EOF in this block ends it (incremental updates add more) */
        for (size_t i = n - 5 + 1; i-- > 0;) {
            if (memcmp(p + i, "%%EOF", 5) == 0) {
                *last = true;
                size_t end = i + 5;
                end += end < n && p[end] == '\r';
                end += end < n && p[end] == '\n';
                return end;
            }
        }
    }
    return n;
}

/* Whether a header may start at p[i] (line: it is at a line or block start): the test
 * pt_carve_find makes before sniffing. */
static inline bool may_start(const uint8_t *p, size_t i, size_t have, bool line)
{
    /* bytes a header can start with: 'P' (zip), 0x1f (gzip), '%' (PDF); a CSV header starts
     * with a printable byte at a line start; DICOM has 'D' 128 bytes on */
    static const uint8_t lead[256] = {['P'] = 1, [0x1f] = 1, ['%'] = 1};
    uint8_t b = p[i];
    bool text = line && b >= 0x20 && b < 0x7f;
    return lead[b] || text || (i + 132 <= have && p[i + 128] == 'D');
}

#if defined(__SSE2__)
/* Bit j: may_start(p, i + j) for 16 positions, none of them a block start, with p[i - 1] and
 * p[i + 15 + 132] readable: the same test 16 bytes at a time. */
static inline unsigned may_start16(const uint8_t *p, size_t i)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
    __m128i prev = _mm_loadu_si128((const __m128i *)(const void *)(p + i - 1));
    __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 128));
    __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('P')),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8(0x1f)));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('%')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(d, _mm_set1_epi8('D')));
    __m128i line = _mm_or_si128(_mm_cmpeq_epi8(prev, _mm_set1_epi8('\n')),
                                _mm_cmpeq_epi8(prev, _mm_setzero_si128()));
    /* printable 0x20..0x7e: shifted to -128..-34 */
    __m128i text = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x60)), _mm_set1_epi8(-33));
    m = _mm_or_si128(m, _mm_and_si128(line, text));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

size_t pt_carve_find(const uint8_t *p, size_t from, size_t scan, size_t have, size_t bs,
                     const char **kind)
{
    *kind = NULL;
    scan = scan < have ? scan : have;
    size_t next_block = bs != 0 ? (from + bs - 1) / bs * bs : (size_t)-1;
    for (size_t i = from; i < scan;) {
        unsigned cand = 1, step = 1;
#if defined(__SSE2__)
        if (i > 0 && i + 16 <= scan && i + 16 + 132 <= have && !(next_block - i < 16)) {
            cand = may_start16(p, i); /* no block start among the 16 */
            step = 16;
        }
#endif
        for (; cand != 0; cand &= cand - 1) {
            size_t k = i + (size_t)__builtin_ctz(cand);
            bool line = k == 0 || p[k - 1] == '\n' || p[k - 1] == 0 || k == next_block;
            if (step == 1 && !may_start(p, k, have, line)) {
                break;
            }
            const char *t = pt_carve_sniff(p + k, have - k);
            if (t != NULL && (strcmp(t, "csv") != 0 || line)) {
                *kind = t;
                return k;
            }
        }
        if (i == next_block) {
            next_block += bs;
        }
        i += step;
    }
    return scan;
}
