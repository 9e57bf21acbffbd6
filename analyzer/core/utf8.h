/*
 * utf8.h - well-formed UTF-8 (RFC 3629 §4), for writers that must emit valid text whatever
 * bytes the evidence put in a string.
 */
#ifndef PT_UTF8_H
#define PT_UTF8_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at p (no overlong forms, no surrogates, nothing
 * above U+10FFFF), or 0 when the byte there starts none. Reads no further than a NUL. */
static inline size_t pt_utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80) {
        return 1;
    }
    size_t n = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
               : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0; /* also stops at the terminating NUL */
        }
    }
    if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
        (n == 4 && p[0] == 0xf0 && p[1] < 0x90) || (n == 4 && p[0] == 0xf4 && p[1] >= 0x90)) {
        return 0;
    }
    return n;
}

/* Whether the NUL-terminated s is well-formed UTF-8 throughout. */
static inline int pt_utf8_valid(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = pt_utf8_len(p);
        if (n == 0) {
            return 0;
        }
        p += n;
    }
    return 1;
}

#endif
