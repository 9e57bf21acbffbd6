/* unpack.c - gzip and zip members as objects (see unpack.h). */
#include "unpack.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../core/cursor.h"
#include "../core/limits.h"

static void anomaly(struct pt_app_ctx *ctx, const struct pt_object_rec *p, const char *kind,
                    const char *detail)
{
    if (ctx->anomaly != NULL) {
        ctx->anomaly(ctx->arg, p->item, p->frame, kind, detail);
    }
}

static struct pt_obj *child_open(struct pt_app_ctx *ctx, const struct pt_object_rec *parent,
                                 const char *name, const char *encoding, uint32_t index)
{
    struct pt_object_rec meta = *parent;
    memset(meta.sha256, 0, sizeof meta.sha256);
    meta.size = 0;
    meta.gap_bytes = 0;
    meta.gap_map[0] = '\0';
    meta.mime[0] = meta.magic[0] = '\0';
    meta.complete = false;
    meta.encrypted = false;
    snprintf(meta.name, sizeof meta.name, "%s", name);
    snprintf(meta.encoding, sizeof meta.encoding, "%s", encoding);
    snprintf(meta.parent_sha256, sizeof meta.parent_sha256, "%s", parent->sha256);
    meta.depth = parent->depth + 1;
    meta.part = index;
    return pt_obj_open(ctx->store, &meta);
}

static void child_close(struct pt_app_ctx *ctx, struct pt_obj *o, bool complete, bool encrypted)
{
    struct pt_object_rec rec;
    if (o != NULL && pt_obj_close(o, complete, &rec)) {
        rec.encrypted = encrypted;
        if (ctx->object != NULL) {
            ctx->object(ctx->arg, &rec);
        }
    }
}

/* Inflate `in` (raw deflate when raw, else gzip with concatenated members) into o. Returns
 * false when the data is corrupt or a limit stopped it. */
static bool inflate_into(struct pt_app_ctx *ctx, const struct pt_object_rec *parent,
                         struct pt_obj *o, const uint8_t *in, size_t n, bool raw,
                         uint64_t *budget)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, raw ? -MAX_WBITS : 16 + MAX_WBITS) != Z_OK) {
        return false;
    }
    uint8_t out[65536];
    uint64_t total = 0;
    bool ok = true;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
    for (;;) {
        z.next_out = out;
        z.avail_out = sizeof out;
        int r = inflate(&z, Z_NO_FLUSH);
        size_t got = sizeof out - z.avail_out;
        total += got;
        if (total > PT_UNPACK_MAX_MEMBER || total > *budget ||
            (total > 1024 * 1024 && total / (n ? n : 1) > PT_UNPACK_MAX_RATIO)) {
            anomaly(ctx, parent, "limit.decompression_bomb",
                    "a compressed member expands beyond the size or ratio limits; cut there");
            ok = false;
            break;
        }
        pt_obj_write(o, out, got);
        if (r == Z_STREAM_END) {
            if (!raw && z.avail_in >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
                inflateReset(&z); /* next gzip member (RFC 1952 §2.2) */
                continue;
            }
            break;
        }
        if (r == Z_BUF_ERROR && got == 0) {
            ok = false; /* input ends before the stream does */
            break;
        }
        if (r != Z_OK && r != Z_BUF_ERROR) {
            ok = false;
            break;
        }
    }
    inflateEnd(&z);
    *budget = total < *budget ? *budget - total : 0;
    return ok;
}

static void gunzip(struct pt_app_ctx *ctx, const struct pt_object_rec *p, const uint8_t *b,
                   size_t n)
{
    /* RFC 1952 §2.3: the original file name, when FNAME (flag 0x08) is set */
    char name[256] = "";
    struct pt_cur c = pt_cur_make(b, n);
    pt_cur_skip(&c, 3);
    uint8_t flg = pt_cur_u8(&c);
    pt_cur_skip(&c, 6);
    if (flg & 0x04) {
        uint16_t xl = pt_cur_le16(&c);
        pt_cur_skip(&c, xl);
    }
    if ((flg & 0x08) && pt_cur_ok(&c)) {
        size_t i = 0;
        while (pt_cur_left(&c) > 0 && i + 1 < sizeof name) {
            uint8_t ch = pt_cur_u8(&c);
            if (ch == 0) {
                break;
            }
            name[i++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
        }
        name[i] = '\0';
    }
    if (name[0] == '\0') {
        snprintf(name, sizeof name, "%s", p->name);
        size_t l = strlen(name);
        if (l > 3 && strcmp(name + l - 3, ".gz") == 0) {
            name[l - 3] = '\0';
        }
    }
    struct pt_obj *o = child_open(ctx, p, name, "gzip", 1);
    uint64_t budget = PT_UNPACK_MAX_ARCHIVE;
    bool ok = inflate_into(ctx, p, o, b, n, false, &budget);
    if (!ok) {
        anomaly(ctx, p, "unpack.gzip_corrupt", "gzip member ends early or is corrupt");
    }
    child_close(ctx, o, ok, false);
}

/*
 * Zip, from the end (APPNOTE §4.3.16): EOCD = sig 0x06054b50, disk(2) cd-disk(2)
 * entries-here(2) entries(2) cd-size(4) cd-offset(4) comment-length(2) comment.
 * Central header (§4.3.12) sig 0x02014b50; local header (§4.3.7) sig 0x04034b50.
 */
static void unzip(struct pt_app_ctx *ctx, const struct pt_object_rec *p, const uint8_t *b,
                  size_t n)
{
    if (n < 22) {
        return;
    }
    size_t lo = n > 65535 + 22 ? n - 65535 - 22 : 0;
    size_t eocd = SIZE_MAX;
    for (size_t i = n - 22 + 1; i-- > lo;) {
        if (b[i] == 0x50 && b[i + 1] == 0x4b && b[i + 2] == 0x05 && b[i + 3] == 0x06) {
            eocd = i;
            break;
        }
    }
    if (eocd == SIZE_MAX) {
        anomaly(ctx, p, "unpack.zip_no_directory", "no end of central directory record");
        return;
    }
    struct pt_cur e = pt_cur_make(b, n);
    pt_cur_skip(&e, eocd + 10);
    uint16_t entries = pt_cur_le16(&e);
    pt_cur_le32(&e);
    uint32_t cd_off = pt_cur_le32(&e);
    if (!pt_cur_ok(&e) || cd_off >= n) {
        anomaly(ctx, p, "unpack.zip_bad_directory", "central directory outside the archive");
        return;
    }
    struct pt_cur cd = pt_cur_make(b, n);
    pt_cur_skip(&cd, cd_off);
    uint64_t budget = PT_UNPACK_MAX_ARCHIVE;
    for (unsigned i = 0; i < entries; i++) {
        if (i >= PT_UNPACK_MAX_ENTRIES) {
            anomaly(ctx, p, "limit.zip_entries", "more entries than PT_UNPACK_MAX_ENTRIES");
            break;
        }
        uint32_t sig = pt_cur_le32(&cd);
        pt_cur_skip(&cd, 4);
        uint16_t flags = pt_cur_le16(&cd);
        uint16_t method = pt_cur_le16(&cd);
        pt_cur_skip(&cd, 8);
        uint32_t csize = pt_cur_le32(&cd);
        uint32_t usize = pt_cur_le32(&cd);
        uint16_t nlen = pt_cur_le16(&cd), xlen = pt_cur_le16(&cd), clen = pt_cur_le16(&cd);
        pt_cur_skip(&cd, 8);
        uint32_t loff = pt_cur_le32(&cd);
        const uint8_t *nm;
        pt_cur_bytes(&cd, nlen, &nm);
        pt_cur_skip(&cd, (size_t)xlen + clen);
        if (!pt_cur_ok(&cd) || sig != 0x02014b50) {
            anomaly(ctx, p, "unpack.zip_bad_entry", "central directory entry is malformed");
            break;
        }
        char name[256];
        size_t k = nlen < sizeof name - 1 ? nlen : sizeof name - 1;
        for (size_t j = 0; j < k; j++) {
            name[j] = nm[j] >= 0x20 && nm[j] < 0x7f ? (char)nm[j] : '?';
        }
        name[k] = '\0';
        if (k > 0 && name[k - 1] == '/') {
            continue; /* a directory */
        }
        /* local header: sig(4) version(2) flags(2) method(2) time(4) crc(4) sizes(8)
         * name-length(2) extra-length(2) name extra data */
        struct pt_cur lh = pt_cur_make(b, n);
        pt_cur_skip(&lh, loff);
        uint32_t lsig = pt_cur_le32(&lh);
        pt_cur_skip(&lh, 22);
        uint16_t lnl = pt_cur_le16(&lh), lxl = pt_cur_le16(&lh);
        pt_cur_skip(&lh, (size_t)lnl + lxl);
        const uint8_t *data;
        bool have = pt_cur_ok(&lh) && lsig == 0x04034b50 && pt_cur_bytes(&lh, csize, &data);
        bool encrypted = (flags & 1) != 0;
        struct pt_obj *o = child_open(ctx, p, name, encrypted ? "zip,encrypted" : "zip", i + 1);
        bool ok = have;
        if (!have) {
            anomaly(ctx, p, "unpack.zip_bad_entry", "entry data outside the archive");
        } else if (encrypted) {
            pt_obj_write(o, data, csize); /* kept as sent: the content cannot be read */
        } else if (method == 0) {
            pt_obj_write(o, data, csize);
            ok = csize == usize;
        } else if (method == 8) {
            ok = inflate_into(ctx, p, o, data, csize, true, &budget);
        } else {
            anomaly(ctx, p, "unpack.zip_method", "compression method not decoded; kept as sent");
            pt_obj_write(o, data, csize);
            ok = false;
        }
        child_close(ctx, o, ok, encrypted);
    }
}

void pt_unpack(struct pt_app_ctx *ctx, const struct pt_object_rec *parent)
{
    bool gz = strcmp(parent->mime, "application/gzip") == 0 ||
              strcmp(parent->mime, "application/x-gzip") == 0;
    bool zip = strcmp(parent->mime, "application/zip") == 0;
    if ((!gz && !zip) || parent->encrypted || ctx->store == NULL || parent->size == 0) {
        return;
    }
    if (parent->depth >= PT_UNPACK_MAX_DEPTH) {
        anomaly(ctx, parent, "limit.unpack_depth", "archives nested deeper than the limit");
        return;
    }
    char path[4400];
    if (!pt_objstore_path(ctx->store, parent->sha256, path, sizeof path)) {
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
        if (fd >= 0) {
            close(fd);
        }
        return;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *b = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (b == MAP_FAILED) {
        return;
    }
    if (gz) {
        gunzip(ctx, parent, b, n);
    } else {
        unzip(ctx, parent, b, n);
    }
    munmap(b, n);
}
