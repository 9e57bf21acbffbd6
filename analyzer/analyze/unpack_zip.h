/*
 * unpack_zip.h - our own bounds-checked pass over a zip's central directory, before
 * libarchive reads the archive: where each entry's bytes are, and which entries overlap.
 *
 * Why: libarchive trusts the central directory, so entries whose local data ranges overlap
 * (David Fifield's "better zip bomb", 2019: one deflate kernel referenced by thousands of
 * entries) would each be inflated in full. The pass finds every entry's range
 * [local header, end of data) and keeps the largest set of entries whose ranges do not
 * overlap (earliest end first, so nested overlaps keep their innermost entry, the real
 * data); the others are refused. Entries are later matched to libarchive's by the offset
 * of their first data byte. The data range also lets an encrypted entry be stored as sent.
 *
 * Format (APPNOTE 6.3.10): end of central directory record §4.3.16, zip64 locator §4.3.15
 * and record §4.3.14, central directory header §4.3.12, zip64 extra field §4.5.3, local
 * file header §4.3.7.
 *
 * Trust boundary: b[0..n) is hostile; every read goes through struct pt_cur. Limits: past
 * PT_UNPACK_MAX_ENTRIES entries the pass stops (PT_ZIPDIR_TOO_MANY).
 */
#ifndef PT_UNPACK_ZIP_H
#define PT_UNPACK_ZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_zip_entry {
    uint64_t local;   /* local header offset (corrected for bytes prepended to the zip) */
    uint64_t data;    /* first data byte */
    uint64_t end;     /* one past the last data byte */
    uint64_t csize;   /* compressed size from the directory */
    uint32_t order;   /* place in the directory */
    uint32_t crc;
    uint16_t flags;   /* general purpose bits: 0 encrypted, 3 sizes after the data */
    uint16_t method;
    bool keep;        /* false: overlaps an entry kept before it, refused */
};

/* The outcome of the pass; every value but PT_ZIPDIR_OK comes with an anomaly. */
enum pt_zipdir_rc {
    PT_ZIPDIR_OK,
    PT_ZIPDIR_NONE,    /* no end of central directory record (a cut or damaged zip) */
    PT_ZIPDIR_BAD,     /* the record or the directory is inconsistent */
    PT_ZIPDIR_TOO_MANY /* more entries than PT_UNPACK_MAX_ENTRIES */
};

struct pt_zipdir {
    struct pt_zip_entry *v; /* sorted by data offset (owned) */
    size_t n;
    size_t listed;          /* entries in the directory */
    size_t refused;         /* entries refused for overlapping */
    size_t bad;             /* entries whose local header or data lie outside the zip */
};

/* Read the directory of b[0..n) into *d (owned by the caller, free with pt_zipdir_fini).
 * Returns PT_ENOMEM or PT_OK; *rc says what was found. */
pt_status pt_zipdir_read(const uint8_t *b, size_t n, struct pt_zipdir *d, enum pt_zipdir_rc *rc);
void pt_zipdir_fini(struct pt_zipdir *d);

/* The entry whose data start at `data`, or NULL. */
const struct pt_zip_entry *pt_zipdir_find(const struct pt_zipdir *d, uint64_t data);

#endif
