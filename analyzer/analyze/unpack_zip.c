/* unpack_zip.c - the central directory pass that refuses overlapping zip entries (see
 * unpack_zip.h). */
#include "unpack_zip.h"

#include <stdlib.h>
#include <string.h>

#include "../core/cursor.h"
#include "../core/limits.h"

#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_LOCAL 0x04034b50u

/*
 * End of central directory record (§4.3.16), found backwards within the last 64 KiB + 22:
 *   0 sig  4 disk(2)  6 cd-disk(2)  8 entries-here(2)  10 entries(2)  12 cd-size(4)
 *   16 cd-offset(4)  20 comment-length(2)  22 comment
 * Accepted only when it describes one volume and a directory that ends before it (the checks
 * libarchive's seekable reader makes, so both of us pick the same record).
 */
static bool find_eocd(const uint8_t *b, size_t n, size_t *at, uint64_t *cd_size,
                      uint64_t *cd_off)
{
    if (n < 22) {
        return false;
    }
    size_t lo = n > 65535 + 22 ? n - 65535 - 22 : 0;
    for (size_t i = n - 22 + 1; i-- > lo;) {
        struct pt_cur c = pt_cur_make(b, n);
        pt_cur_skip(&c, i);
        if (pt_cur_le32(&c) != SIG_EOCD) {
            continue;
        }
        uint16_t disk = pt_cur_le16(&c), cd_disk = pt_cur_le16(&c);
        uint16_t here = pt_cur_le16(&c), total = pt_cur_le16(&c);
        uint32_t size = pt_cur_le32(&c), off = pt_cur_le32(&c);
        if (pt_cur_ok(&c) && disk == 0 && cd_disk == 0 && here == total &&
            (uint64_t)off + size <= i) {
            *at = i;
            *cd_size = size;
            *cd_off = off;
            return true;
        }
    }
    return false;
}

/*
 * Zip64 (§4.3.14-15): a locator right before the EOCD record points to the zip64 record:
 *   locator: 0 sig  4 disk(4)  8 record-offset(8)  16 disks(4)
 *   record:  0 sig  4 size(8)  12 versions(4)  16 disk(4)  20 cd-disk(4)  24 entries-here(8)
 *            32 entries(8)  40 cd-size(8)  48 cd-offset(8)
 */
static bool read_zip64(const uint8_t *b, size_t n, size_t eocd, uint64_t *cd_size,
                       uint64_t *cd_off)
{
    if (eocd < 20) {
        return false;
    }
    struct pt_cur l = pt_cur_make(b, n);
    pt_cur_skip(&l, eocd - 20);
    if (pt_cur_le32(&l) != SIG_LOC64) {
        return false;
    }
    pt_cur_skip(&l, 4);
    uint64_t rec = pt_cur_le64(&l);
    if (!pt_cur_ok(&l) || rec > n) {
        return false;
    }
    struct pt_cur r = pt_cur_make(b, n);
    pt_cur_skip(&r, (size_t)rec);
    uint32_t sig = pt_cur_le32(&r);
    pt_cur_skip(&r, 36);
    *cd_size = pt_cur_le64(&r);
    *cd_off = pt_cur_le64(&r);
    return pt_cur_ok(&r) && sig == SIG_EOCD64;
}

/* Zip64 extended information (§4.5.3, id 0x0001) in a central header's extra field: the
 * 64-bit values, in this order, of exactly the fields whose 32-bit value is all ones. */
static void zip64_extra(struct pt_cur x, uint64_t *usize, uint64_t *csize, uint64_t *local)
{
    while (pt_cur_left(&x) >= 4) {
        uint16_t id = pt_cur_le16(&x), len = pt_cur_le16(&x);
        struct pt_cur f;
        if (!pt_cur_sub(&x, len, &f)) {
            return;
        }
        if (id != 0x0001) {
            continue;
        }
        if (*usize == UINT32_MAX) {
            *usize = pt_cur_le64(&f);
        }
        if (*csize == UINT32_MAX) {
            *csize = pt_cur_le64(&f);
        }
        if (*local == UINT32_MAX) {
            *local = pt_cur_le64(&f);
        }
        return;
    }
}

/* Earliest end first; of equal ends the latest start (the innermost of nested ranges); of
 * one header listed twice, the first listed (qsort is not stable). */
static int by_end(const void *a, const void *b)
{
    const struct pt_zip_entry *x = a, *y = b;
    if (x->end != y->end) {
        return x->end < y->end ? -1 : 1;
    }
    if (x->local != y->local) {
        return x->local > y->local ? -1 : 1;
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

/* By data offset, the kept entry first among entries of one local header. */
static int by_data(const void *a, const void *b)
{
    const struct pt_zip_entry *x = a, *y = b;
    if (x->data != y->data) {
        return x->data < y->data ? -1 : 1;
    }
    return (int)y->keep - (int)x->keep;
}

/*
 * Local file header (§4.3.7): 0 sig  4 version(2)  6 flags(2)  8 method(2)  10 time(4)
 * 14 crc(4)  18 csize(4)  22 usize(4)  26 name-length(2)  28 extra-length(2)  30 name extra
 * data. The data start after the local name and extra, which may differ from the central.
 */
static bool locate_data(const uint8_t *b, size_t n, struct pt_zip_entry *e)
{
    if (e->local > n) {
        return false;
    }
    struct pt_cur c = pt_cur_make(b, n);
    pt_cur_skip(&c, (size_t)e->local);
    uint32_t sig = pt_cur_le32(&c);
    pt_cur_skip(&c, 22);
    uint16_t nl = pt_cur_le16(&c), xl = pt_cur_le16(&c);
    pt_cur_skip(&c, (size_t)nl + xl);
    if (!pt_cur_ok(&c) || sig != SIG_LOCAL || e->csize > pt_cur_left(&c)) {
        return false;
    }
    e->data = c.off;
    e->end = c.off + e->csize;
    return true;
}

pt_status pt_zipdir_read(const uint8_t *b, size_t n, struct pt_zipdir *d, enum pt_zipdir_rc *rc)
{
    memset(d, 0, sizeof *d);
    size_t eocd;
    uint64_t cd_size, cd_off;
    if (!find_eocd(b, n, &eocd, &cd_size, &cd_off)) {
        *rc = PT_ZIPDIR_NONE;
        return PT_OK;
    }
    /* Bytes prepended to a zip (a self-extractor stub) shift every offset: the directory
     * really starts cd-size bytes before the record, and the difference corrects the local
     * header offsets (as libarchive and Info-ZIP do). Zip64 offsets are taken as written. */
    uint64_t start = eocd - cd_size, shift = start - cd_off;
    uint64_t z64_size, z64_off;
    if (read_zip64(b, n, eocd, &z64_size, &z64_off)) {
        start = z64_off;
        shift = 0;
        cd_size = z64_size;
    }
    if (start > n || cd_size > n - start) {
        *rc = PT_ZIPDIR_BAD;
        return PT_OK;
    }
    size_t cap = 0;
    struct pt_cur cd = pt_cur_make(b, (size_t)(start + cd_size));
    pt_cur_skip(&cd, (size_t)start);
    uint64_t listed = 0;
    /*
     * Central directory header (§4.3.12): 0 sig  4 made-by(2)  6 needed(2)  8 flags(2)
     * 10 method(2)  12 time(4)  16 crc(4)  20 csize(4)  24 usize(4)  28 name-length(2)
     * 30 extra-length(2)  32 comment-length(2)  34 disk(2)  36 internal(2)  38 external(4)
     * 42 local-offset(4)  46 name extra comment
     */
    *rc = PT_ZIPDIR_OK;
    while (pt_cur_left(&cd) > 0) {
        uint32_t sig = pt_cur_le32(&cd);
        pt_cur_skip(&cd, 4);
        uint16_t flags = pt_cur_le16(&cd), method = pt_cur_le16(&cd);
        pt_cur_skip(&cd, 4);
        uint32_t crc = pt_cur_le32(&cd);
        uint64_t csize = pt_cur_le32(&cd), usize = pt_cur_le32(&cd);
        uint16_t nl = pt_cur_le16(&cd), xl = pt_cur_le16(&cd), cl = pt_cur_le16(&cd);
        pt_cur_skip(&cd, 8);
        uint64_t local = pt_cur_le32(&cd);
        struct pt_cur extra;
        pt_cur_skip(&cd, nl);
        pt_cur_sub(&cd, xl, &extra);
        pt_cur_skip(&cd, cl);
        if (!pt_cur_ok(&cd) || sig != SIG_CENTRAL) {
            *rc = PT_ZIPDIR_BAD;
            break;
        }
        if (++listed > PT_UNPACK_MAX_ENTRIES) {
            *rc = PT_ZIPDIR_TOO_MANY;
            break;
        }
        bool z64 = local == UINT32_MAX;
        zip64_extra(extra, &usize, &csize, &local);
        if (d->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct pt_zip_entry *nv = realloc(d->v, nc * sizeof *nv);
            if (nv == NULL) {
                pt_zipdir_fini(d);
                return PT_ENOMEM;
            }
            d->v = nv;
            cap = nc;
        }
        d->v[d->n] = (struct pt_zip_entry){.local = z64 ? local : local + shift, .csize = csize,
                                           .order = (uint32_t)d->n, .crc = crc, .flags = flags,
                                           .method = method};
        d->n++;
    }
    d->listed = d->n;
    if (d->n == 0) {
        return PT_OK;
    }
    /* Keep the largest set of entries whose ranges do not overlap: interval scheduling,
     * earliest end first, an entry kept when it starts at or after the end of the last one
     * kept. Nested ("quoted") overlaps keep their innermost entry, the real data; entries
     * sharing one header keep one; a zip without overlaps keeps everything. */
    size_t out = 0;
    for (size_t i = 0; i < d->n; i++) {
        struct pt_zip_entry e = d->v[i];
        if (locate_data(b, n, &e)) {
            d->v[out++] = e;
        } else {
            d->bad++;
        }
    }
    qsort(d->v, out, sizeof *d->v, by_end);
    uint64_t reach = 0;
    for (size_t i = 0; i < out; i++) {
        struct pt_zip_entry *e = &d->v[i];
        e->keep = e->local >= reach;
        if (e->keep) {
            reach = e->end;
        } else {
            d->refused++;
        }
    }
    /* one entry per data offset: a header listed twice is read (by libarchive too) once */
    qsort(d->v, out, sizeof *d->v, by_data);
    d->n = 0;
    for (size_t i = 0; i < out; i++) {
        if (d->n == 0 || d->v[d->n - 1].data != d->v[i].data) {
            d->v[d->n++] = d->v[i];
        }
    }
    return PT_OK;
}

void pt_zipdir_fini(struct pt_zipdir *d)
{
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

static int data_is(const void *key, const void *elem)
{
    uint64_t k = *(const uint64_t *)key, d = ((const struct pt_zip_entry *)elem)->data;
    return k < d ? -1 : k > d;
}

const struct pt_zip_entry *pt_zipdir_find(const struct pt_zipdir *d, uint64_t data)
{
    return d->n ? bsearch(&data, d->v, d->n, sizeof *d->v, data_is) : NULL;
}
