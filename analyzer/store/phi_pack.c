/*
 * phi_pack.c - a PHI record's hits as one BLOB (see phi_pack.h for the layout).
 */
#include "phi_pack.h"

/* Bytes of 7 bits that v needs (1 for 0). */
static unsigned width_of(uint64_t v)
{
    unsigned w = 1;
    while (w < 8 && v >> (7 * w) != 0) {
        w++;
    }
    return w;
}

/* The excess that makes offsets of width w not negative when the record has one before its
 * start (phi_pack.h). */
static uint64_t excess(unsigned widths, unsigned w)
{
    return widths & 512 ? UINT64_C(1) << (7 * w - 1) : 0;
}

pt_status pt_phi_pack_size(const struct pt_phi_packed_hit *hits, size_t n, unsigned *widths,
                           size_t *len)
{
    unsigned wi = 1, ws = 1;
    int64_t lo = 0, hi = 0;
    for (size_t k = 0; k < n; k++) {
        if (hits[k].ident > PT_PHI_PACK_MAX || hits[k].site > PT_PHI_PACK_MAX ||
            hits[k].offset > PT_PHI_PACK_MAX_DELTA || hits[k].offset < -PT_PHI_PACK_MAX_DELTA) {
            return PT_ELIMIT;
        }
        unsigned a = width_of(hits[k].ident), b = width_of(hits[k].site);
        wi = a > wi ? a : wi;
        ws = b > ws ? b : ws;
        lo = hits[k].offset < lo ? hits[k].offset : lo;
        hi = hits[k].offset > hi ? hits[k].offset : hi;
    }
    unsigned wo = width_of((uint64_t)hi), sign = 0;
    if (lo < 0) { /* the width whose excess covers both ends */
        sign = 512;
        wo = 1;
        while ((uint64_t)-lo > UINT64_C(1) << (7 * wo - 1) ||
               (uint64_t)hi >= UINT64_C(1) << (7 * wo - 1)) {
            wo++;
        }
    }
    *widths = (wi - 1) + 8 * (ws - 1) + 64 * (wo - 1) + sign;
    *len = n * (wi + ws + wo);
    return PT_OK;
}

static uint8_t *put(uint8_t *p, uint64_t v, unsigned w)
{
    for (unsigned i = 0; i < w; i++) {
        *p++ = (uint8_t)(v >> (7 * i) & 0x7f);
    }
    return p;
}

void pt_phi_pack(const struct pt_phi_packed_hit *hits, size_t n, unsigned widths, uint8_t *out)
{
    unsigned wi = (widths & 7) + 1, ws = (widths >> 3 & 7) + 1, wo = (widths >> 6 & 7) + 1;
    for (size_t k = 0; k < n; k++) {
        out = put(out, hits[k].ident, wi);
        out = put(out, hits[k].site, ws);
        out = put(out, (uint64_t)hits[k].offset + excess(widths, wo), wo);
    }
}

bool pt_phi_unpack_count(unsigned widths, size_t len, size_t *n)
{
    *n = 0;
    if (widths >= 1024) {
        return false;
    }
    size_t stride = (widths & 7) + (widths >> 3 & 7) + (widths >> 6 & 7) + 3;
    if (len % stride != 0) {
        return false;
    }
    *n = len / stride;
    return true;
}

/* The w-byte integer at p; false when a byte has its top bit set. */
static bool get(const uint8_t *p, unsigned w, uint64_t *v)
{
    *v = 0;
    for (unsigned i = 0; i < w; i++) {
        if (p[i] & 0x80) {
            return false;
        }
        *v |= (uint64_t)p[i] << (7 * i);
    }
    return true;
}

bool pt_phi_unpack(const uint8_t *blob, size_t len, unsigned widths, size_t k,
                   struct pt_phi_packed_hit *out)
{
    size_t n;
    if (!pt_phi_unpack_count(widths, len, &n) || k >= n) {
        return false;
    }
    unsigned wi = (widths & 7) + 1, ws = (widths >> 3 & 7) + 1, wo = (widths >> 6 & 7) + 1;
    const uint8_t *p = blob + k * (wi + ws + wo);
    uint64_t off;
    if (!get(p, wi, &out->ident) || !get(p + wi, ws, &out->site) || !get(p + wi + ws, wo, &off)) {
        return false;
    }
    out->offset = (int64_t)(off - excess(widths, wo));
    return true;
}
