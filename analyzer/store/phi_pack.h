/*
 * phi_pack.h - a PHI record's hits packed into one BLOB (phi_record_row.hits) and read back.
 *
 * A hit is three integers: its identifier (phi_ident.id), the way it was found (phi_site.id)
 * and its byte offset in the object less its record's. Each is written little-endian in
 * groups of 7 bits, one group a byte, so every byte is below 0x80 and SQL reads one as
 * unicode(substr(hits, p, 1)) (NULL for 0): that is how the view phi_hit_row unpacks them
 * with the SQLite of any reader (schema.sql). All hits of a record share one width per
 * integer, the bytes its largest value in the record needs (1 to 8), and the widths are the
 * record's hit_widths:
 *
 *   hit_widths = (ident width - 1) + 8 * (site width - 1) + 64 * (offset width - 1)
 *                + 512 when an offset is before the record's (scanners give a record's start
 *                  and then its hits, but do not promise that they follow it): the offsets
 *                  are then stored plus 2^(7 * width - 1)
 *   hits       = hit 0, hit 1, ...   each: ident | site | offset, little-endian, 7 bits a byte
 *
 * A hit takes 4 to 6 bytes where a row of integers took about 19. The decoder reads a BLOB
 * from a case database, which may have been edited: every length and byte is checked.
 */
#ifndef PT_STORE_PHI_PACK_H
#define PT_STORE_PHI_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

/* The largest identifier or site a packed integer holds (8 bytes of 7 bits), and the
 * largest offset either side of the record's. */
#define PT_PHI_PACK_MAX ((UINT64_C(1) << 56) - 1)
#define PT_PHI_PACK_MAX_DELTA ((INT64_C(1) << 55) - 1)

struct pt_phi_packed_hit {
    uint64_t ident, site;
    int64_t offset; /* less the record's */
};

/* The widths of hits[0..n) (*widths) and the size of their BLOB (*len); PT_ELIMIT when a
 * value is out of range. */
pt_status pt_phi_pack_size(const struct pt_phi_packed_hit *hits, size_t n, unsigned *widths,
                           size_t *len);
/* hits[0..n) in `out`, pt_phi_pack_size's len bytes, at its widths. */
void pt_phi_pack(const struct pt_phi_packed_hit *hits, size_t n, unsigned widths, uint8_t *out);

/* How many hits a BLOB of `len` bytes at `widths` holds; false when it is not one (widths
 * out of range, a length not a whole number of hits). */
bool pt_phi_unpack_count(unsigned widths, size_t len, size_t *n);
/* Hit k of such a BLOB; false when k is past its end or a byte is 0x80 or above. */
bool pt_phi_unpack(const uint8_t *blob, size_t len, unsigned widths, size_t k,
                   struct pt_phi_packed_hit *out);

#endif
