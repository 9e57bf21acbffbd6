/*
 * image_frame.c - encode and decode the disk-image reader's framed records (image_frame.h).
 * Decoding reads untrusted bytes only through the cursor.
 */
#include "image_frame.h"

#include <string.h>

#include "../core/cursor.h"

static bool known(uint8_t t)
{
    return t == PT_IMG_VOL || t == PT_IMG_FILE || t == PT_IMG_DATA || t == PT_IMG_END ||
           t == PT_IMG_NOTE || t == PT_IMG_DONE || t == PT_IMG_HASH ||
           t == PT_IMG_PING;
}

pt_status pt_img_frame_split(const uint8_t *p, size_t n, uint8_t *type, const uint8_t **payload,
                             size_t *plen, size_t *used)
{
    struct pt_cur c = pt_cur_make(p, n);
    uint8_t t = pt_cur_u8(&c);
    uint32_t len = pt_cur_le32(&c);
    if (!pt_cur_ok(&c)) {
        return PT_ETRUNC;
    }
    if (!known(t) || len > PT_IMG_FRAME_MAX) {
        return PT_EMALFORMED;
    }
    const uint8_t *body = NULL;
    if (!pt_cur_bytes(&c, len, &body)) {
        return PT_ETRUNC;
    }
    *type = t;
    *payload = body;
    *plen = len;
    *used = PT_IMG_FRAME_HDR + (size_t)len;
    return PT_OK;
}

/* A u16-length string into dst (cap bytes with the NUL), cut to fit; NUL bytes inside
 * become '?' so the value is one C string. */
static void get_str(struct pt_cur *c, char *dst, size_t cap)
{
    uint16_t len = pt_cur_le16(c);
    const uint8_t *s = NULL;
    dst[0] = '\0';
    if (!pt_cur_bytes(c, len, &s)) {
        return;
    }
    size_t k = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < k; i++) {
        dst[i] = s[i] == 0 ? '?' : (char)s[i];
    }
    dst[k] = '\0';
}

pt_status pt_img_rec_parse(uint8_t type, const uint8_t *p, size_t n, struct pt_img_rec *out)
{
    memset(out, 0, offsetof(struct pt_img_rec, path));
    out->path[0] = out->attr[0] = out->note[0] = out->note_kind[0] = '\0';
    out->stored_md5[0] = out->stored_sha1[0] = out->md5[0] = out->sha1[0] = '\0';
    out->sha256[0] = '\0';
    out->data = NULL;
    out->n = 0;
    out->type = type;
    struct pt_cur c = pt_cur_make(p, n);
    switch (type) {
    case PT_IMG_VOL:
        out->offset = pt_cur_le64(&c);
        out->block_size = pt_cur_le32(&c);
        out->blocks = pt_cur_le64(&c);
        out->ok = pt_cur_u8(&c) != 0;
        get_str(&c, out->fs, sizeof out->fs);
        get_str(&c, out->note, sizeof out->note);
        break;
    case PT_IMG_FILE:
        out->offset = pt_cur_le64(&c);
        out->inode = pt_cur_le64(&c);
        out->attr_type = pt_cur_le32(&c);
        out->attr_id = pt_cur_le16(&c);
        out->flags = pt_cur_le16(&c);
        out->kind = (char)pt_cur_u8(&c);
        out->mtime = (int64_t)pt_cur_le64(&c);
        out->atime = (int64_t)pt_cur_le64(&c);
        out->ctime = (int64_t)pt_cur_le64(&c);
        out->crtime = (int64_t)pt_cur_le64(&c);
        out->size = pt_cur_le64(&c);
        out->image_off = pt_cur_le64(&c);
        get_str(&c, out->path, sizeof out->path);
        get_str(&c, out->attr, sizeof out->attr);
        if (out->kind < 0x20 || out->kind > 0x7e) {
            out->kind = '?';
        }
        break;
    case PT_IMG_DATA:
        out->data = n > 0 ? p : NULL;
        out->n = n;
        return PT_OK;
    case PT_IMG_END:
        out->ok = pt_cur_u8(&c) != 0;
        out->size = pt_cur_le64(&c);
        get_str(&c, out->note, sizeof out->note);
        break;
    case PT_IMG_NOTE:
        get_str(&c, out->note_kind, sizeof out->note_kind);
        get_str(&c, out->note, sizeof out->note);
        break;
    case PT_IMG_DONE:
        out->size = pt_cur_le64(&c);
        break;
    case PT_IMG_PING:
        break;
    case PT_IMG_HASH:
        out->size = pt_cur_le64(&c);
        out->ok = pt_cur_u8(&c) != 0;
        get_str(&c, out->stored_md5, sizeof out->stored_md5);
        get_str(&c, out->stored_sha1, sizeof out->stored_sha1);
        get_str(&c, out->md5, sizeof out->md5);
        get_str(&c, out->sha1, sizeof out->sha1);
        get_str(&c, out->sha256, sizeof out->sha256);
        get_str(&c, out->note, sizeof out->note);
        break;
    default:
        return PT_EMALFORMED;
    }
    return pt_cur_ok(&c) && pt_cur_left(&c) == 0 ? PT_OK : PT_EMALFORMED;
}

/* ---- encoding (the child) ------------------------------------------------------------------- */

struct wbuf {
    uint8_t *p;
    size_t cap, n;
    bool err;
};

static void put(struct wbuf *w, const void *src, size_t len)
{
    if (w->err || len > w->cap - w->n) {
        w->err = true;
        return;
    }
    memcpy(w->p + w->n, src, len);
    w->n += len;
}

static void put_le(struct wbuf *w, uint64_t v, unsigned bytes)
{
    uint8_t b[8];
    for (unsigned i = 0; i < bytes; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
    put(w, b, bytes);
}

static void put_str(struct wbuf *w, const char *s)
{
    size_t len = strlen(s);
    len = len > 0xffff ? 0xffff : len;
    put_le(w, len, 2);
    put(w, s, len);
}

size_t pt_img_rec_encode(const struct pt_img_rec *r, uint8_t *buf, size_t cap)
{
    struct wbuf w = {buf, cap, 0, false};
    put_le(&w, r->type, 1);
    put_le(&w, 0, 4); /* length, filled below */
    switch (r->type) {
    case PT_IMG_VOL:
        put_le(&w, r->offset, 8);
        put_le(&w, r->block_size, 4);
        put_le(&w, r->blocks, 8);
        put_le(&w, r->ok, 1);
        put_str(&w, r->fs);
        put_str(&w, r->note);
        break;
    case PT_IMG_FILE:
        put_le(&w, r->offset, 8);
        put_le(&w, r->inode, 8);
        put_le(&w, r->attr_type, 4);
        put_le(&w, r->attr_id, 2);
        put_le(&w, r->flags, 2);
        put_le(&w, (uint8_t)r->kind, 1);
        put_le(&w, (uint64_t)r->mtime, 8);
        put_le(&w, (uint64_t)r->atime, 8);
        put_le(&w, (uint64_t)r->ctime, 8);
        put_le(&w, (uint64_t)r->crtime, 8);
        put_le(&w, r->size, 8);
        put_le(&w, r->image_off, 8);
        put_str(&w, r->path);
        put_str(&w, r->attr);
        break;
    case PT_IMG_DATA:
        put(&w, r->data, r->n);
        break;
    case PT_IMG_END:
        put_le(&w, r->ok, 1);
        put_le(&w, r->size, 8);
        put_str(&w, r->note);
        break;
    case PT_IMG_NOTE:
        put_str(&w, r->note_kind);
        put_str(&w, r->note);
        break;
    case PT_IMG_DONE:
        put_le(&w, r->size, 8);
        break;
    case PT_IMG_PING:
        break;
    case PT_IMG_HASH:
        put_le(&w, r->size, 8);
        put_le(&w, r->ok, 1);
        put_str(&w, r->stored_md5);
        put_str(&w, r->stored_sha1);
        put_str(&w, r->md5);
        put_str(&w, r->sha1);
        put_str(&w, r->sha256);
        put_str(&w, r->note);
        break;
    default:
        return 0;
    }
    size_t len = w.n - PT_IMG_FRAME_HDR;
    if (w.err || len > PT_IMG_FRAME_MAX) {
        return 0;
    }
    for (unsigned i = 0; i < 4; i++) {
        buf[1 + i] = (uint8_t)(len >> (8 * i));
    }
    return w.n;
}
