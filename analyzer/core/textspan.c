/*
 * textspan.c - text tokens read through the bounds-checked cursor (textspan.h).
 */
#include "textspan.h"

#include <string.h>

bool pt_text_field(struct pt_cur *c, uint8_t delim, struct pt_cur *field)
{
    size_t left = pt_cur_left(c);
    const uint8_t *at = pt_cur_ptr(c);
    const uint8_t *d = left > 0 ? memchr(at, delim, left) : NULL;
    size_t take = d != NULL ? (size_t)(d - at) : left;
    if (!pt_cur_sub(c, take, field)) {
        return false;
    }
    return d != NULL && pt_cur_skip(c, 1);
}

size_t pt_text_skip(struct pt_cur *c, uint8_t ch)
{
    size_t k = 0;
    while (pt_cur_has(c, k + 1) && pt_cur_peek_u8(c, k) == ch) {
        k++;
    }
    pt_cur_skip(c, k);
    return k;
}

bool pt_text_lit(struct pt_cur *c, const char *lit)
{
    size_t n = strlen(lit);
    if (!pt_cur_has(c, n) || (n > 0 && memcmp(pt_cur_ptr(c), lit, n) != 0)) {
        return false;
    }
    return pt_cur_skip(c, n);
}

static bool digit_at(const struct pt_cur *c, size_t k)
{
    uint8_t d = pt_cur_peek_u8(c, k);
    return pt_cur_has(c, k + 1) && d >= '0' && d <= '9';
}

bool pt_text_u64(struct pt_cur *c, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    size_t k = 0;
    *v = 0;
    for (; digit_at(c, k); k++) {
        unsigned d = (unsigned)(pt_cur_peek_u8(c, k) - '0');
        if (x > (max - d) / 10 || d > max) {
            return false;
        }
        x = x * 10 + d;
    }
    if (k == 0) {
        return false;
    }
    *v = x;
    return pt_cur_skip(c, k);
}

bool pt_text_seconds_us(struct pt_cur *c, int64_t *us)
{
    struct pt_cur t = *c;
    uint64_t whole;
    int64_t frac = 0;
    int digits = 0;
    *us = 0;
    if (!pt_text_u64(&t, INT64_MAX / 1000000 - 1, &whole)) { /* whole * 10^6 + 999999 fits */
        return false;
    }
    if (pt_text_lit(&t, ".")) {
        for (; digit_at(&t, 0); pt_cur_skip(&t, 1)) {
            if (digits < 6) {
                frac = frac * 10 + (pt_cur_peek_u8(&t, 0) - '0');
                digits++;
            }
        }
    }
    for (; digits < 6; digits++) {
        frac *= 10;
    }
    *us = (int64_t)whole * 1000000 + frac;
    *c = t;
    return true;
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
