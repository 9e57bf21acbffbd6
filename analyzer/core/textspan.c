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
