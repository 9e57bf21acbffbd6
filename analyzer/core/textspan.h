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

#include "cursor.h"

/*
 * The bytes up to the next `delim` (or to the end of the view) as a child cursor, the
 * parent advanced past them and past the delimiter. True when a delimiter ended the field,
 * so another field, maybe empty, follows it; false at the view's end (or on a failed cursor,
 * when the field is empty and failed).
 */
bool pt_text_field(struct pt_cur *c, uint8_t delim, struct pt_cur *field);

/* Skip a run of `ch`; the count skipped. */
size_t pt_text_skip(struct pt_cur *c, uint8_t ch);

/* Consume `lit` (a C string) when the view continues with it; false, nothing read, if not. */
bool pt_text_lit(struct pt_cur *c, const char *lit);

/* A run of 1 or more decimal digits whose value is at most `max` into *v. False (nothing
 * read, *v 0) when there is no digit or the value exceeds max. */
bool pt_text_u64(struct pt_cur *c, uint64_t max, uint64_t *v);

/* Seconds with an optional fraction ("1672843056.913119", "0.084044", "12.") in
 * microseconds, the digits past the sixth decimal read and dropped. False (nothing read)
 * when it does not start with a digit or the value would not fit an int64_t. */
bool pt_text_seconds_us(struct pt_cur *c, int64_t *us);

/* A dotted quad of 1-3 digit parts each at most 255, without leading zeros as inet_pton
 * reads it ("10.0.0.1"), into a[4]. False
 * (nothing read) when the view does not start with one; what follows is not looked at. */
bool pt_text_ipv4(struct pt_cur *c, uint8_t a[4]);

#endif
