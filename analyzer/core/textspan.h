/*
 * textspan.h - text tokens read through the bounds-checked cursor (cursor.h).
 *
 * The line-oriented log parsers (ingest/logparse.c) cut fields at a delimiter, skip blanks,
 * and read decimal counts, seconds with a fraction and dotted quads. Each reader here looks
 * only at c->base[c->off .. c->len): it never relies on a NUL terminator, and a token that
 * runs into the end of the view is read as far as it goes (a field) or refused (a number
 * with no digit). A refused read leaves the cursor where it was and does not set its sticky
 * err, so a parser can try one reading and then another; a read on a failed cursor fails.
 */
#ifndef PT_TEXTSPAN_H
#define PT_TEXTSPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "cursor.h"

/*
 * The bytes up to the next `delim` (or to the end of the view) as a child cursor, the
 * parent advanced past them and past the delimiter. True when a delimiter ended the field,
 * so another field, maybe empty, follows it; false at the view's end (or on a failed cursor,
 * when the field is empty and failed).
 */
static inline bool pt_text_field(struct pt_cur *c, uint8_t delim, struct pt_cur *field)
{
    if (c->err) {
        *field = pt_cur_make(NULL, 0);
        field->err = true;
        return false;
    }
    size_t left = c->len - c->off, take = 0;
    const uint8_t *at = c->base + c->off;
    while (take < left && at[take] != delim) { /* fields are short: no call to memchr */
        take++;
    }
    bool found = take < left;
    *field = pt_cur_make(at, take);
    c->off += take + found; /* take < left when the delimiter was found: off stays <= len */
    return found;
}

/* Skip a run of `ch`; the count skipped. */
static inline size_t pt_text_skip(struct pt_cur *c, uint8_t ch)
{
    size_t k = 0, left = pt_cur_left(c);
    while (k < left && c->base[c->off + k] == ch) {
        k++;
    }
    c->off += k;
    return k;
}

/* Consume `lit` (a C string) when the view continues with it; false, nothing read, if not. */
bool pt_text_lit(struct pt_cur *c, const char *lit);

/* Where `lit` (a C string) first occurs in the unread view, counted from c->off; SIZE_MAX
 * when it does not (or the cursor failed). Nothing is read. */
size_t pt_text_find(const struct pt_cur *c, const char *lit);

/* The view after the first `lit` into *rest (c is not moved); false, *rest empty, when
 * `lit` does not occur. */
bool pt_text_after(const struct pt_cur *c, const char *lit, struct pt_cur *rest);

/* The first n bytes of the unread view (all of it when shorter) as a child cursor. */
static inline struct pt_cur pt_text_head(const struct pt_cur *c, size_t n)
{
    size_t left = pt_cur_left(c);
    return pt_cur_make(c->err ? NULL : c->base + c->off, n < left ? n : left);
}

/* A run of 1 or more decimal digits whose value is at most `max` into *v. False (nothing
 * read, *v 0) when there is no digit or the value exceeds max. */
static inline bool pt_text_u64(struct pt_cur *c, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    size_t k = 0, left = pt_cur_left(c);
    *v = 0;
    for (; k < left && c->base[c->off + k] >= '0' && c->base[c->off + k] <= '9'; k++) {
        unsigned d = (unsigned)(c->base[c->off + k] - '0');
        if (d > max || x > (max - d) / 10) {
            return false;
        }
        x = x * 10 + d;
    }
    if (k == 0) {
        return false;
    }
    *v = x;
    c->off += k;
    return true;
}

/* Seconds with an optional fraction ("1672843056.913119", "0.084044", "12.") in
 * microseconds, the digits past the sixth decimal read and dropped. False (nothing read)
 * when it does not start with a digit or the value would not fit an int64_t. */
static inline bool pt_text_seconds_us(struct pt_cur *c, int64_t *us)
{
    struct pt_cur t = *c;
    uint64_t whole;
    int64_t frac = 0;
    int digits = 0;
    *us = 0;
    if (!pt_text_u64(&t, INT64_MAX / 1000000 - 1, &whole)) { /* whole * 10^6 + 999999 fits */
        return false;
    }
    if (pt_cur_peek_u8(&t, 0) == '.') {
        pt_cur_skip(&t, 1);
        size_t k = 0, left = pt_cur_left(&t);
        for (; k < left && t.base[t.off + k] >= '0' && t.base[t.off + k] <= '9'; k++) {
            if (digits < 6) {
                frac = frac * 10 + (t.base[t.off + k] - '0');
                digits++;
            }
        }
        pt_cur_skip(&t, k);
    }
    for (; digits < 6; digits++) {
        frac *= 10;
    }
    *us = (int64_t)whole * 1000000 + frac;
    *c = t;
    return true;
}

/* A dotted quad of 1-3 digit parts each at most 255, without leading zeros as inet_pton
 * reads it ("10.0.0.1"), into a[4]. False
 * (nothing read) when the view does not start with one; what follows is not looked at. */
bool pt_text_ipv4(struct pt_cur *c, uint8_t a[4]);

#endif
