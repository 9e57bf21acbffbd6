/*
 * jsonflat.h - one JSON object (a line of Zeek JSON or Suricata EVE) read into a flat table of
 * leaf values by dotted path: {"flow":{"bytes_toserver":12}} gives "flow.bytes_toserver" =
 * "12". Arrays give each element under the array's path with "[]" appended (strings and
 * numbers only). Strings are unescaped into the table's own buffer (\uXXXX and surrogate pairs
 * as UTF-8, an invalid escape or lone surrogate as U+FFFD). Read through the bounds-checked
 * cursor; nesting deeper than PT_JSONFLAT_DEPTH or values that do not fit the buffer make the
 * object malformed (false). Leaves past PT_JSONFLAT_MAX are read but not kept (`dropped`
 * counts them: an EVE stats event has hundreds).
 */
#ifndef PT_JSONFLAT_H
#define PT_JSONFLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_JSONFLAT_MAX 256
#define PT_JSONFLAT_DEPTH 8
#define PT_JSONFLAT_PATH 96
/* room for a line's worth of values (64 KiB, unescaping only shrinks them) and every path */
#define PT_JSONFLAT_BUF (65536 + PT_JSONFLAT_MAX * (PT_JSONFLAT_PATH + 1))

enum pt_json_type { PT_JSON_STR, PT_JSON_NUM, PT_JSON_TRUE, PT_JSON_FALSE, PT_JSON_NULL };

struct pt_jsonflat {
    size_t n, dropped;
    struct {
        uint32_t path, path_len;   /* offsets into buf */
        uint32_t val, val_len;     /* offsets into buf; NUL-terminated */
        enum pt_json_type type;
    } leaf[PT_JSONFLAT_MAX];
    size_t used;
    char buf[PT_JSONFLAT_BUF];
};

/* Read the object that p[0..n) holds (surrounding white space allowed, nothing else). */
bool pt_jsonflat_parse(struct pt_jsonflat *j, const uint8_t *p, size_t n);
/* The value at `path` ("id.orig_h"), NUL-terminated, or NULL; `type` may be NULL. The n-th
 * element of an array is asked for with pt_jsonflat_nth. */
const char *pt_jsonflat_get(const struct pt_jsonflat *j, const char *path, enum pt_json_type *type);
const char *pt_jsonflat_nth(const struct pt_jsonflat *j, const char *path, size_t nth);

#endif
