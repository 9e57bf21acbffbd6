/*
 * recycle.c - Windows recycle-bin `$I` records (recycle.h).
 * Trust boundary: hostile bytes, read through the cursor; UTF-16 is converted with every
 * surrogate checked and the output bounded.
 */
#include "recycle.h"

#include <string.h>
#include <strings.h>

#include "../core/cursor.h"

#define FILETIME_UNIX_US 11644473600000000LL /* 1601-01-01 to 1970-01-01 in microseconds */

int64_t pt_filetime_us(uint64_t ft)
{
    if (ft == 0 || ft / 10 > (uint64_t)INT64_MAX) {
        return 0;
    }
    return (int64_t)(ft / 10) - FILETIME_UNIX_US;
}

static size_t put_cp(char *out, size_t len, size_t k, uint32_t cp)
{
    char b[4];
    size_t n = cp < 0x80 ? (b[0] = (char)cp, 1)
               : cp < 0x800 ? (b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), 2)
               : cp < 0x10000
                   ? (b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
                      b[2] = (char)(0x80 | (cp & 0x3f)), 3)
                   : (b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
                      b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)),
                      4);
    if (k + n >= len) {
        return k;
    }
    memcpy(out + k, b, n);
    return k + n;
}

/* `chars` UTF-16LE characters at the cursor, to the first NUL, as UTF-8 in out. False when
 * they are not all there or no NUL ends the path. */
static bool utf16_path(struct pt_cur *c, size_t chars, char *out, size_t len)
{
    size_t k = 0;
    bool ended = false;
    for (size_t i = 0; i < chars; i++) {
        uint32_t u = pt_cur_le16(c);
        if (!pt_cur_ok(c)) {
            return false;
        }
        if (ended) {
            continue;
        }
        if (u == 0) {
            ended = true;
            continue;
        }
        if (u >= 0xd800 && u < 0xdc00 && i + 1 < chars && pt_cur_has(c, 2)) {
            uint32_t lo = pt_cur_peek_u8(c, 0) | (uint32_t)pt_cur_peek_u8(c, 1) << 8;
            if (lo >= 0xdc00 && lo < 0xe000) {
                pt_cur_le16(c);
                i++;
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            } else {
                u = 0xfffd;
            }
        } else if (u >= 0xd800 && u < 0xe000) {
            u = 0xfffd;
        }
        k = put_cp(out, len, k, u);
    }
    out[k] = '\0';
    return ended && k > 0;
}

bool pt_recycle_parse(const uint8_t *p, size_t n, struct pt_recycle *out)
{
    memset(out, 0, sizeof *out);
    struct pt_cur c = pt_cur_make(p, n);
    uint64_t version = pt_cur_le64(&c);
    uint64_t size = pt_cur_le64(&c);
    uint64_t ft = pt_cur_le64(&c);
    if (!pt_cur_ok(&c) || size > (uint64_t)INT64_MAX) {
        return false;
    }
    size_t chars;
    if (version == 1) {
        if (n != 544) {
            return false;
        }
        chars = 260;
    } else if (version == 2) {
        uint32_t len = pt_cur_le32(&c);
        if (!pt_cur_ok(&c) || len == 0 || len > 32768 || pt_cur_left(&c) != (size_t)len * 2) {
            return false;
        }
        chars = len;
    } else {
        return false;
    }
    if (!utf16_path(&c, chars, out->path, sizeof out->path)) {
        return false;
    }
    out->version = (unsigned)version;
    out->size = size;
    out->deleted_us = pt_filetime_us(ft);
    return true;
}

bool pt_recycle_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    return strncasecmp(base, "$I", 2) == 0 && base[2] != '\0';
}
