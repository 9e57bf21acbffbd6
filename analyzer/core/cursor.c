/* cursor.c - out-of-line cursor operations (see cursor.h for the contract). */
#include "cursor.h"

#include <string.h>

bool pt_cur_copy(struct pt_cur *c, void *dst, size_t n)
{
    if (!pt_cur_need(c, n)) {
        memset(dst, 0, n);
        return false;
    }
    if (n > 0) {
        memcpy(dst, c->base + c->off, n);
    }
    c->off += n;
    return true;
}

bool pt_cur_bytes(struct pt_cur *c, size_t n, const uint8_t **out)
{
    if (!pt_cur_need(c, n)) {
        *out = NULL;
        return false;
    }
    *out = c->base == NULL ? NULL : c->base + c->off;
    c->off += n;
    return true;
}

bool pt_cur_sub(struct pt_cur *c, size_t n, struct pt_cur *child)
{
    if (!pt_cur_need(c, n)) {
        *child = pt_cur_make(NULL, 0);
        child->err = true;
        return false;
    }
    *child = pt_cur_make(c->base == NULL ? NULL : c->base + c->off, n);
    c->off += n;
    return true;
}

struct pt_cur pt_cur_rest(struct pt_cur *c)
{
    struct pt_cur child;
    pt_cur_sub(c, pt_cur_left(c), &child);
    return child;
}

enum pt_line_rc pt_cur_line(struct pt_cur *c, char *buf, size_t cap, size_t *held, size_t *len,
                            size_t *raw)
{
    size_t left = pt_cur_left(c);
    const uint8_t *p = pt_cur_ptr(c);
    const uint8_t *lf = p != NULL && left > 0 ? memchr(p, '\n', left) : NULL;
    size_t k = lf != NULL ? (size_t)(lf - p) + 1 : left;
    if (*held >= cap || k >= cap - *held) {
        return PT_LINE_LONG;
    }
    pt_cur_copy(c, buf + *held, k);
    *held += k;
    if (lf == NULL) {
        return PT_LINE_MORE;
    }
    size_t n = *held - 1; /* drop LF (and CR) */
    if (n > 0 && buf[n - 1] == '\r') {
        n--;
    }
    buf[n] = '\0';
    *len = n;
    if (raw != NULL) {
        *raw = *held;
    }
    *held = 0;
    return PT_LINE_DONE;
}

enum pt_line_rc pt_cur_line_resync(struct pt_cur *c, char *buf, size_t cap, size_t *held,
                                   bool *skipping, size_t *len, size_t *raw)
{
    if (!*skipping) {
        enum pt_line_rc rc = pt_cur_line(c, buf, cap, held, len, raw);
        if (rc != PT_LINE_LONG) {
            return rc;
        }
        /* keep what fits (there is no LF in it), skip the rest up to the LF */
        size_t room = *held < cap - 1 ? cap - 1 - *held : 0;
        size_t take = room < pt_cur_left(c) ? room : pt_cur_left(c);
        pt_cur_copy(c, buf + *held, take);
        *held += take;
        *skipping = true;
    }
    size_t left = pt_cur_left(c);
    const uint8_t *p = pt_cur_ptr(c);
    const uint8_t *lf = p != NULL && left > 0 ? memchr(p, '\n', left) : NULL;
    if (lf == NULL) {
        pt_cur_skip(c, left);
        return PT_LINE_MORE;
    }
    pt_cur_skip(c, (size_t)(lf - p) + 1);
    size_t n = *held < cap ? *held : cap - 1;
    buf[n] = '\0';
    *len = n;
    if (raw != NULL) {
        *raw = n;
    }
    *held = 0;
    *skipping = false;
    return PT_LINE_CUT;
}

size_t pt_text_uints(const char *s, char sep, unsigned *v, size_t n)
{
    size_t i = 0;
    for (size_t k = 0; k < n; k++) {
        if (k > 0) {
            if (s[i] != sep) {
                return 0;
            }
            i++;
        }
        unsigned x = 0, digits = 0;
        while (s[i] >= '0' && s[i] <= '9') {
            if (++digits > 9) {
                return 0;
            }
            x = x * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (digits == 0) {
            return 0;
        }
        v[k] = x;
    }
    return i;
}
