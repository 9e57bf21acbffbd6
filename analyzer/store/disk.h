/*
 * disk.h - rows of the disk-image tables (disk_volume, disk_file; schema.sql), written by
 * the writer thread like every other row.
 */
#ifndef PT_STORE_DISK_H
#define PT_STORE_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/status.h"
#include "db.h"

struct pt_disk_volume_rec {
    uint32_t item;
    uint64_t offset;        /* bytes into the media */
    char fs[32];            /* libtsk's name, "" when none was opened */
    uint32_t block_size;
    uint64_t blocks;
    bool read;
    char note[512];
};

struct pt_disk_file_rec {
    uint32_t item;
    uint64_t vol_offset;
    char path[4096];
    uint64_t inode;
    char attr[256];
    uint32_t attr_type;     /* libtsk's attribute type (NTFS: 128 $DATA, 144 index root) */
    uint16_t attr_id;
    char kind;              /* fls's letter */
    const char *state;      /* static: allocated | deleted | orphan | reallocated | carved |
                             * slack */
    bool meta_free;
    int64_t mtime, atime, ctime, crtime; /* microseconds, 0 unknown */
    uint64_t size, read_bytes;
    uint64_t image_offset;  /* a carved file's start in the media, 0 otherwise */
    char sha256[65];        /* "" when the content was not read */
    bool complete;
    char note[512];
};

/* An EWF image's stored and computed hashes (disk_image). */
struct pt_disk_image_rec {
    uint32_t item;
    uint64_t media_size;
    char stored_md5[33], stored_sha1[41], md5[33], sha1[41], sha256[65];
    const char *verified;   /* static: match | mismatch | no stored hash | unreadable */
    char note[512];
};

pt_status pt_db_disk_image_put(struct pt_db *db, const struct pt_disk_image_rec *m);
pt_status pt_db_disk_volume_put(struct pt_db *db, const struct pt_disk_volume_rec *v);
pt_status pt_db_disk_file_put(struct pt_db *db, const struct pt_disk_file_rec *f);

#endif
