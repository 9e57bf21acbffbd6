/*
 * recycle.h - Windows recycle-bin records: the `$I` file Windows Vista and later write beside
 * each deleted file's `$R` copy in `$Recycle.Bin\<SID>\`, giving the original path, the size
 * and the deletion time (issue 15 item 4).
 *
 * Layout (little-endian; as documented by the forensic literature, e.g. libyal's "Windows
 * Recycle.Bin file formats" and Abdulalla/Mostafa's $I studies, checked against files
 * Windows 7 and 10 wrote):
 *   version 1 (Vista, 7, 8):  i64 version = 1 | i64 file size | u64 FILETIME deletion |
 *                             UTF-16LE path, 260 characters (520 bytes), NUL-terminated;
 *                             the file is 544 bytes
 *   version 2 (10, 11):       i64 version = 2 | i64 file size | u64 FILETIME deletion |
 *                             u32 path length in characters, NUL included | that many
 *                             UTF-16LE characters
 * Trust boundary: the bytes are evidence (an image's file): every field is read through the
 * bounds-checked cursor; a file that does not follow the layout exactly is not a record.
 */
#ifndef PT_RECYCLE_H
#define PT_RECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_RECYCLE_PATH_MAX 2048 /* UTF-8 bytes of the original path, NUL included */

struct pt_recycle {
    unsigned version;          /* 1 or 2 */
    uint64_t size;             /* of the deleted file */
    int64_t deleted_us;        /* deletion time, UTC microseconds since 1970; 0 unknown */
    char path[PT_RECYCLE_PATH_MAX]; /* the original path (UTF-8; an unpaired surrogate as
                                     * U+FFFD) */
};

/* A `$I` file's record: true when `p[0..n)` follows one of the two layouts exactly. */
bool pt_recycle_parse(const uint8_t *p, size_t n, struct pt_recycle *out);

/* Whether a file name (a path's last component) is a `$I` name: "$I" and at least one more
 * character (case-insensitive). */
bool pt_recycle_name(const char *path);

/* A Windows FILETIME (100 ns since 1601-01-01 UTC) as microseconds since 1970; 0 for 0. */
int64_t pt_filetime_us(uint64_t ft);

#endif
