/*
 * image_carve.h - carving of recognisable content from a file system's unallocated blocks,
 * in the image reader's process: a block that starts like a zip, gzip, PDF, DICOM Part 10
 * file or a CSV with patient headers starts a carved file, which runs over the following
 * contiguous unallocated blocks up to PT_CARVE_MAX bytes (a PDF to its %%EOF, text to its
 * first NUL byte). Unallocated space is read in pages (image_child.c) and headers are looked
 * for at every offset of a page (pt_carve_find), with a lookahead past its end.
 */
#ifndef PT_IMAGE_CARVE_H
#define PT_IMAGE_CARVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_CARVE_MAX (32u << 20)

/* The kind ("zip", "gz", "pdf", "dcm", "csv") of content starting at p[0..n), or NULL. */
const char *pt_carve_sniff(const uint8_t *p, size_t n);

/* The first offset in [from, scan) of p[0..have) where content of a kind starts (*kind), or
 * `scan` when none does: zip, gzip, PDF and DICOM anywhere, a patient CSV at a line start (the
 * buffer's start, a multiple of the block size `bs` (0: none), or after a newline or NUL).
 * Bytes past `scan` up to `have` are the lookahead a header starting before `scan` needs. */
size_t pt_carve_find(const uint8_t *p, size_t from, size_t scan, size_t have, size_t bs,
                     const char **kind);

/* Of a block that continues a carved file of `kind`, the bytes that belong to it; *last is
 * set when the file ends inside it. */
size_t pt_carve_take(const char *kind, const uint8_t *p, size_t n, bool *last);

#endif
