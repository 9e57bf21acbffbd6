/*
 * textspan.c - text tokens read through the bounds-checked cursor (textspan.h).
 */
#include "textspan.h"

#include <string.h>

bool pt_text_lit(struct pt_cur *c, const char *lit)
{
    size_t n = strlen(lit);
    if (!pt_cur_has(c, n) || (n > 0 && memcmp(pt_cur_ptr(c), lit, n) != 0)) {
        return false;
    }
    return pt_cur_skip(c, n);
}

size_t pt_text_find(const struct pt_cur *c, const char *lit)
{
    size_t n = strlen(lit), left = pt_cur_left(c);
    if (c->err || n > left) {
        return SIZE_MAX;
    }
    if (n == 0) {
        return 0;
    }
    /* memchr (vectorised) for one byte of the literal, then compare the whole: the byte is
     * its first that is not a blank, since blanks are everywhere in a line and " SRC=" would
     * stop at each one. glibc 2.36's memmem sets up a table on every call and is twice as
     * slow on a syslog line's eight searches. */
    if (n == 1) {
        const uint8_t *one = memchr(c->base + c->off, lit[0], left);
        return one != NULL ? (size_t)(one - (c->base + c->off)) : SIZE_MAX;
    }
    size_t i = 0;
    while (i + 1 < n && lit[i] == ' ') {
        i++;
    }
    const uint8_t *v = c->base + c->off, *at;
    for (size_t k = i; k + n - i <= left && (at = memchr(v + k, lit[i], left - (n - i) + 1 - k));
         k++) {
        k = (size_t)(at - v); /* of the anchor byte, in the view: the literal starts k - i */
        size_t j = 0; /* the literals are short: compared in place, no call */
        while (j < n && v[k - i + j] == (uint8_t)lit[j]) {
            j++;
        }
        if (j == n) {
            return k - i;
        }
    }
    return SIZE_MAX;
}

bool pt_text_after(const struct pt_cur *c, const char *lit, struct pt_cur *rest)
{
    size_t k = pt_text_find(c, lit);
    if (k == SIZE_MAX) {
        *rest = pt_cur_make(NULL, 0);
        return false;
    }
    *rest = *c;
    rest->off += k + strlen(lit); /* k + strlen(lit) <= left: the literal is in the view */
    *rest = pt_cur_rest(rest);
    return true;
}

static bool digit_at(const struct pt_cur *c, size_t k)
{
    uint8_t d = pt_cur_peek_u8(c, k);
    return pt_cur_has(c, k + 1) && d >= '0' && d <= '9';
}

bool pt_text_ipv4(struct pt_cur *c, uint8_t a[4])
{
    struct pt_cur t = *c;
    for (int i = 0; i < 4; i++) {
        uint64_t v;
        if (i > 0 && !pt_text_lit(&t, ".")) {
            return false;
        }
        size_t at = t.off;
        bool lead0 = digit_at(&t, 1) && pt_cur_peek_u8(&t, 0) == '0'; /* "01": inet_pton says no */
        if (lead0 || !pt_text_u64(&t, 255, &v) || t.off - at > 3) {
            return false;
        }
        a[i] = (uint8_t)v;
    }
    *c = t;
    return true;
}
