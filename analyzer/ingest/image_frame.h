/*
 * image_frame.h - the framed records the disk-image reader (a child process running libtsk)
 * sends back to the analyzer over a pipe.
 *
 * Frame: type (u8) | length (u32 LE) | payload (length bytes). Integers in payloads are
 * little-endian; a string is u16 LE length + bytes (no NUL). Payloads by type:
 *   'V' volume   offset u64 | block_size u32 | blocks u64 | ok u8 | fs str | note str
 *   'F' file     vol_off u64 | inode u64 | attr_type u32 | attr_id u16 | flags u16 |
 *                kind u8 | mtime i64 | atime i64 | ctime i64 | crtime i64 (microseconds,
 *                0 unknown) | size u64 | image_off u64 | path str | attr str
 *   'D' data     the next bytes of the open file's content (flag PT_IMG_F_CONTENT)
 *   'E' end      ok u8 | bytes read u64 | note str
 *   'L' note     kind str | text str   (a limitation of the image: what libtsk refused)
 *   'H' hashes   media size u64 | read whole u8 | stored MD5 str | stored SHA-1 str |
 *                MD5 str | SHA-1 str | SHA-256 str | note str   (lower-case hex; an EWF
 *                image's stored hashes and those of its media as read)
 *   'P' progress (empty)               (alive: long hashing or unallocated reading)
 *   'Z' done     files u64             (the walk finished; absent when the child died)
 * Trust boundary: the child parses hostile images with a library that has crashed on them,
 * so its output is read as untrusted bytes, through the cursor, every length checked
 * against PT_IMG_FRAME_MAX and the field sizes below.
 */
#ifndef PT_IMAGE_FRAME_H
#define PT_IMAGE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

#define PT_IMG_FRAME_HDR 5
/* A data frame carries at most 64 KiB; the largest other frame is a path plus fields. */
#define PT_IMG_FRAME_MAX (72u * 1024)
#define PT_IMG_PATH_MAX 4096
#define PT_IMG_NOTE_MAX 512

enum pt_img_type {
    PT_IMG_VOL = 'V',
    PT_IMG_FILE = 'F',
    PT_IMG_DATA = 'D',
    PT_IMG_END = 'E',
    PT_IMG_NOTE = 'L',
    PT_IMG_HASH = 'H',
    PT_IMG_PING = 'P',
    PT_IMG_DONE = 'Z',
};

/* pt_img_rec.flags */
#define PT_IMG_F_NAME_UNALLOC 0x01 /* the name is deleted */
#define PT_IMG_F_META_UNALLOC 0x02 /* the inode / MFT entry is free */
#define PT_IMG_F_ORPHAN 0x04       /* found by the metadata walk, under $OrphanFiles */
#define PT_IMG_F_REALLOC 0x08      /* a deleted name whose inode now belongs to another file */
#define PT_IMG_F_CONTENT 0x10      /* data frames and an end frame follow */
#define PT_IMG_F_CARVED 0x20       /* carved from unallocated space at image_off, no name */
#define PT_IMG_F_SLACK 0x40        /* a file's slack (after its end, in its last cluster) */

struct pt_img_rec {
    uint8_t type;
    uint64_t offset;          /* V: the volume's; F: the file's volume */
    uint32_t block_size;
    uint64_t blocks;
    bool ok;                  /* V: a file system was opened; E: the content read whole */
    char fs[32];
    uint64_t inode;
    uint32_t attr_type;
    uint16_t attr_id;
    uint16_t flags;
    char kind;                /* fls's letters: r d l V c b p s h w - */
    int64_t mtime, atime, ctime, crtime;
    uint64_t size;            /* F: the file's; E: bytes read; Z: files */
    uint64_t image_off;       /* F: where a carved file starts in the media, else 0 */
    char path[PT_IMG_PATH_MAX];
    char attr[256];           /* NTFS stream name, "" for the default */
    char note[PT_IMG_NOTE_MAX];
    char note_kind[64];
    char stored_md5[33], stored_sha1[41]; /* H: "" when the image stores none */
    char md5[33], sha1[41], sha256[65];
    const uint8_t *data;      /* D: borrowed view of the payload */
    size_t n;
};

/* The frame at the start of p[0..n): PT_OK with *type, *payload, *plen and *used (header
 * plus payload); PT_ETRUNC when more bytes are needed; PT_EMALFORMED for an unknown type or
 * a length past PT_IMG_FRAME_MAX (the stream cannot be resynchronised: stop reading it). */
pt_status pt_img_frame_split(const uint8_t *p, size_t n, uint8_t *type, const uint8_t **payload,
                             size_t *plen, size_t *used);
/* Decode one frame's payload into *out (strings cut to their fields, NUL-terminated).
 * PT_EMALFORMED when a field runs past the payload or bytes are left over. */
pt_status pt_img_rec_parse(uint8_t type, const uint8_t *p, size_t n, struct pt_img_rec *out);

/* The child's side: append a frame to `buf` (cap bytes); the bytes used, 0 when it does not
 * fit. */
size_t pt_img_rec_encode(const struct pt_img_rec *r, uint8_t *buf, size_t cap);

#endif
