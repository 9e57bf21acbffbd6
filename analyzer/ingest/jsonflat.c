/*
 * jsonflat.c - a JSON object into a flat table of leaves by dotted path (jsonflat.h).
 */
#include "jsonflat.h"

#include <string.h>

#include "../core/cursor.h"
#include "../phi/phi.h" /* pt_phi_utf8_put */

struct rd {
    struct pt_jsonflat *j;
    struct pt_cur c;
    char path[PT_JSONFLAT_PATH];
    size_t plen;
};

static void ws(struct rd *r)
{
    while (pt_cur_has(&r->c, 1)) {
        uint8_t b = pt_cur_peek_u8(&r->c, 0);
        if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
            return;
        }
        pt_cur_skip(&r->c, 1);
    }
}

static bool put(struct rd *r, const void *p, size_t n)
{
    if (n > sizeof r->j->buf - r->j->used) {
        return false;
    }
    memcpy(r->j->buf + r->j->used, p, n);
    r->j->used += n;
    return true;
}

static bool put_utf8(struct rd *r, uint32_t cp)
{
    char o[4];
    size_t n = pt_phi_utf8_put(cp, o, sizeof o);
    return n > 0 && put(r, o, n);
}

/* Four hex digits of a \u escape, or -1. */
static long hex4(struct rd *r)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t b = pt_cur_u8(&r->c);
        int d = b >= '0' && b <= '9' ? b - '0' : b >= 'a' && b <= 'f' ? b - 'a' + 10
              : b >= 'A' && b <= 'F' ? b - 'A' + 10 : -1;
        if (d < 0 || !pt_cur_ok(&r->c)) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

static bool escape(struct rd *r)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    uint8_t e = pt_cur_u8(&r->c);
    const char *k = e != 0 ? strchr(from, e) : NULL;
    if (k != NULL) {
        return put(r, &to[k - from], 1);
    }
    if (e != 'u') {
        return false;
    }
    long hi = hex4(r);
    if (hi < 0) {
        return false;
    }
    uint32_t cp = (uint32_t)hi;
    if (hi >= 0xd800 && hi < 0xdc00 && pt_cur_has(&r->c, 6) && pt_cur_peek_u8(&r->c, 0) == '\\' &&
        pt_cur_peek_u8(&r->c, 1) == 'u') {
        struct pt_cur save = r->c;
        pt_cur_skip(&r->c, 2);
        long lo = hex4(r);
        if (lo >= 0xdc00 && lo < 0xe000) {
            cp = 0x10000 + (((uint32_t)hi - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
        } else {
            r->c = save; /* the second escape is read on its own */
            cp = 0xfffd;
        }
    } else if (hi >= 0xd800 && hi < 0xe000) {
        cp = 0xfffd;
    }
    return put_utf8(r, cp);
}

/* A string after its opening quote, unescaped into buf and NUL-terminated. */
static bool string(struct rd *r, uint32_t *at, uint32_t *len)
{
    *at = (uint32_t)r->j->used;
    for (;;) {
        uint8_t b = pt_cur_u8(&r->c);
        if (!pt_cur_ok(&r->c) || b < 0x20) {
            return false;
        }
        if (b == '"') {
            break;
        }
        if (b == '\\' ? !escape(r) : !put(r, &b, 1)) {
            return false;
        }
    }
    *len = (uint32_t)(r->j->used - *at);
    return put(r, "", 1);
}

static bool leaf(struct rd *r, enum pt_json_type t, uint32_t val, uint32_t len)
{
    struct pt_jsonflat *j = r->j;
    if (j->n == PT_JSONFLAT_MAX) {
        j->dropped++;
        return true;
    }
    uint32_t at = (uint32_t)j->used;
    if (!put(r, r->path, r->plen) || !put(r, "", 1)) {
        return false;
    }
    j->leaf[j->n].path = at;
    j->leaf[j->n].path_len = (uint32_t)r->plen;
    j->leaf[j->n].val = val;
    j->leaf[j->n].val_len = len;
    j->leaf[j->n].type = t;
    j->n++;
    return true;
}

/* A scalar: number or literal, kept as written. */
static bool scalar(struct rd *r, enum pt_json_type *t, uint32_t *at, uint32_t *len)
{
    static const char *const lit[] = {"true", "false", "null"};
    static const enum pt_json_type lt[] = {PT_JSON_TRUE, PT_JSON_FALSE, PT_JSON_NULL};
    const uint8_t *p = pt_cur_ptr(&r->c);
    size_t n = 0, left = pt_cur_left(&r->c);
    while (n < left && ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'z') ||
                        p[n] == '-' || p[n] == '+' || p[n] == '.' || p[n] == 'E')) {
        n++;
    }
    if (n == 0) {
        return false;
    }
    *t = PT_JSON_NUM;
    for (size_t i = 0; i < 3; i++) {
        if (n == strlen(lit[i]) && memcmp(p, lit[i], n) == 0) {
            *t = lt[i];
        }
    }
    if (*t == PT_JSON_NUM && !((p[0] >= '0' && p[0] <= '9') || p[0] == '-')) {
        return false;
    }
    *at = (uint32_t)r->j->used;
    *len = (uint32_t)n;
    pt_cur_skip(&r->c, n);
    return put(r, p, n) && put(r, "", 1);
}

static bool value(struct rd *r, int depth);

static bool push_path(struct rd *r, const char *seg, size_t n, bool dot)
{
    size_t need = (dot && r->plen > 0 ? 1 : 0) + n;
    if (r->plen + need >= sizeof r->path) {
        return false;
    }
    if (dot && r->plen > 0) {
        r->path[r->plen++] = '.';
    }
    memcpy(r->path + r->plen, seg, n);
    r->plen += n;
    r->path[r->plen] = '\0';
    return true;
}

static bool object(struct rd *r, int depth)
{
    size_t base = r->plen;
    ws(r);
    if (pt_cur_has(&r->c, 1) && pt_cur_peek_u8(&r->c, 0) == '}') {
        pt_cur_skip(&r->c, 1);
        return true;
    }
    for (;;) {
        ws(r);
        uint32_t k, klen;
        if (pt_cur_u8(&r->c) != '"' || !string(r, &k, &klen)) {
            return false;
        }
        /* the key's bytes stay in buf: harmless, and the buffer is per object */
        if (!push_path(r, r->j->buf + k, klen, true)) {
            return false;
        }
        ws(r);
        if (pt_cur_u8(&r->c) != ':' || !value(r, depth)) {
            return false;
        }
        r->plen = base;
        r->path[base] = '\0';
        ws(r);
        uint8_t b = pt_cur_u8(&r->c);
        if (b == '}') {
            return pt_cur_ok(&r->c);
        }
        if (b != ',') {
            return false;
        }
    }
}

static bool array(struct rd *r, int depth)
{
    size_t base = r->plen;
    if (!push_path(r, "[]", 2, false)) {
        return false;
    }
    ws(r);
    if (pt_cur_has(&r->c, 1) && pt_cur_peek_u8(&r->c, 0) == ']') {
        pt_cur_skip(&r->c, 1);
    } else {
        for (;;) {
            if (!value(r, depth)) {
                return false;
            }
            ws(r);
            uint8_t b = pt_cur_u8(&r->c);
            if (b == ']') {
                break;
            }
            if (b != ',') {
                return false;
            }
        }
    }
    r->plen = base;
    r->path[base] = '\0';
    return pt_cur_ok(&r->c);
}

static bool value(struct rd *r, int depth)
{
    ws(r);
    if (!pt_cur_has(&r->c, 1) || depth >= PT_JSONFLAT_DEPTH) {
        return false;
    }
    uint8_t b = pt_cur_peek_u8(&r->c, 0);
    if (b == '{' || b == '[') {
        pt_cur_skip(&r->c, 1);
        return b == '{' ? object(r, depth + 1) : array(r, depth + 1);
    }
    uint32_t at, len;
    enum pt_json_type t = PT_JSON_STR;
    if (b == '"') {
        pt_cur_skip(&r->c, 1);
        if (!string(r, &at, &len)) {
            return false;
        }
    } else if (!scalar(r, &t, &at, &len)) {
        return false;
    }
    return leaf(r, t, at, len);
}

bool pt_jsonflat_parse(struct pt_jsonflat *j, const uint8_t *p, size_t n)
{
    struct rd r = {.j = j, .c = pt_cur_make(p, n)};
    j->n = j->dropped = 0;
    j->used = 0;
    ws(&r);
    if (pt_cur_u8(&r.c) != '{' || !object(&r, 1)) {
        j->n = 0;
        return false;
    }
    ws(&r);
    if (pt_cur_left(&r.c) != 0) {
        j->n = 0;
        return false;
    }
    return true;
}

const char *pt_jsonflat_nth(const struct pt_jsonflat *j, const char *path, size_t nth)
{
    size_t plen = strlen(path);
    for (size_t i = 0; i < j->n; i++) {
        if (j->leaf[i].path_len == plen && memcmp(j->buf + j->leaf[i].path, path, plen) == 0 &&
            nth-- == 0) {
            return j->buf + j->leaf[i].val;
        }
    }
    return NULL;
}

const char *pt_jsonflat_get(const struct pt_jsonflat *j, const char *path, enum pt_json_type *type)
{
    size_t plen = strlen(path);
    for (size_t i = 0; i < j->n; i++) {
        if (j->leaf[i].path_len == plen && memcmp(j->buf + j->leaf[i].path, path, plen) == 0) {
            if (type != NULL) {
                *type = j->leaf[i].type;
            }
            return j->buf + j->leaf[i].val;
        }
    }
    return NULL;
}
