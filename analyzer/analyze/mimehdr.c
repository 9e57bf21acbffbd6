/*
 * mimehdr.c - MIME header field values to UTF-8 (see mimehdr.h).
 *
 * RFC 2045 §5.1 parameter syntax:   ";" attribute "=" (token / quoted-string)
 * RFC 2231 §3 continuations:        name*0="...", name*1="..."   joined in section order
 * RFC 2231 §4 charset and language: name*=charset'lang'%XX..     (name*0*= for continued
 *                                   values; later sections with '*' are percent-encoded,
 *                                   those without are literal)
 * RFC 2047 §2 encoded word:         "=?" charset ["*" lang] "?" ("B" / "Q") "?" text "?="
 *
 * Charsets other than UTF-8 and US-ASCII go through iconv (glibc); adjacent encoded words of
 * one charset are joined before conversion, because encoders split multi-byte characters
 * across words. Unquoted values are read leniently up to ';' (spaces included), as mailers
 * write them.
 */
#include "mimehdr.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "../core/cursor.h"
#include "../core/limits.h"

/* Bytes being built, bounded by cap; `full` once something did not fit. */
struct out {
    char *p;
    size_t cap, n;
    bool full;
};

static void put(struct out *o, const void *p, size_t n)
{
    if (o->full || o->cap == 0) {
        return;
    }
    size_t room = o->cap - 1 - o->n;
    if (n > room) {
        n = room;
        o->full = true;
        /* UTF-8: do not leave a sequence cut in two */
        while (n > 0 && (((const uint8_t *)p)[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    memcpy(o->p + o->n, p, n);
    o->n += n;
    o->p[o->n] = '\0';
}

static struct out out_make(char *p, size_t cap)
{
    struct out o = {p, cap, 0, false};
    if (cap > 0) {
        p[0] = '\0';
    }
    return o;
}

/* Well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or values past U+10FFFF) with
 * no control character: a name that can be shown and stored as it is. */
static bool clean_utf8(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) {
                return false;
            }
            i++;
            continue;
        }
        size_t k = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                                              : c >= 0xf0 && c <= 0xf4 ? 4
                                                                       : 0;
        if (k == 0 || k > n - i) {
            return false;
        }
        for (size_t j = 1; j < k; j++) {
            if ((p[i + j] & 0xc0) != 0x80) {
                return false;
            }
        }
        if ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] > 0x9f) ||
            (c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] > 0x8f)) {
            return false;
        }
        if (c == 0xc2 && p[i + 1] < 0xa0) {
            return false; /* C1 controls */
        }
        i += k;
    }
    return true;
}

/* Append p[0..n), in charset cs (a NUL-terminated name), to o as UTF-8. False, with o
 * unchanged, when the charset is unknown or the bytes are not valid in it. */
static bool put_converted(struct out *o, const char *cs, const uint8_t *p, size_t n)
{
    char utf[PT_MIME_MAX_VALUE * 4];
    size_t got = 0;
    if (cs[0] == '\0' || strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
        strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0) {
        if (n > sizeof utf) {
            return false;
        }
        memcpy(utf, p, n);
        got = n;
    } else {
        iconv_t cd = iconv_open("UTF-8", cs);
        if (cd == (iconv_t)-1) {
            return false;
        }
        char *ip = (char *)(uintptr_t)p, *op = utf;
        size_t il = n, ol = sizeof utf;
        size_t r = iconv(cd, &ip, &il, &op, &ol);
        if (r != (size_t)-1) {
            r = iconv(cd, NULL, NULL, &op, &ol); /* stateful charsets: back to the initial state */
        }
        iconv_close(cd);
        if (r == (size_t)-1) {
            return false;
        }
        got = sizeof utf - ol;
    }
    if (!clean_utf8((const uint8_t *)utf, got)) {
        return false;
    }
    put(o, utf, got);
    return true;
}

/* A charset name as written (RFC 2978 mime-charset characters), without an RFC 2231 §5
 * "*language" suffix. False when it holds anything else or is too long. */
static bool charset_name(const uint8_t *p, size_t n, char *cs, size_t cap)
{
    const uint8_t *star = memchr(p, '*', n);
    if (star != NULL) {
        n = (size_t)(star - p);
    }
    if (n >= cap) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum(p[i]) && (p[i] == 0 || strchr("-_.:+()!#$%&^`{}~", p[i]) == NULL)) {
            return false;
        }
    }
    memcpy(cs, p, n);
    cs[n] = '\0';
    return true;
}

static int hexval(uint8_t c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

static int b64val(uint8_t c)
{
    return c >= 'A' && c <= 'Z'   ? c - 'A'
           : c >= 'a' && c <= 'z' ? c - 'a' + 26
           : c >= '0' && c <= '9' ? c - '0' + 52
           : c == '+'             ? 62
           : c == '/'             ? 63
                                  : -1;
}

/* ---- RFC 2047 encoded words ------------------------------------------------------------- */

struct word {
    size_t start, end;      /* the whole "=?...?=" in the text */
    char cs[64];
    uint8_t enc;            /* 'B' or 'Q' */
    size_t text, text_n;    /* encoded text */
};

/* Is there an encoded word at the cursor's position? (The cursor does not move.) */
static bool word_at(const struct pt_cur *c, struct word *w)
{
    struct pt_cur k = *c;
    w->start = k.off;
    if (pt_cur_u8(&k) != '=' || pt_cur_u8(&k) != '?') {
        return false;
    }
    size_t cs0 = k.off;
    while (pt_cur_left(&k) > 0 && pt_cur_peek_u8(&k, 0) != '?' && k.off - cs0 < sizeof w->cs) {
        pt_cur_skip(&k, 1);
    }
    if (!charset_name(k.base + cs0, k.off - cs0, w->cs, sizeof w->cs) || k.off == cs0 ||
        pt_cur_u8(&k) != '?') {
        return false;
    }
    w->enc = (uint8_t)toupper(pt_cur_u8(&k));
    if ((w->enc != 'B' && w->enc != 'Q') || pt_cur_u8(&k) != '?') {
        return false;
    }
    w->text = k.off;
    while (pt_cur_left(&k) > 0) {
        uint8_t ch = pt_cur_u8(&k);
        if (ch == '?') {
            if (pt_cur_peek_u8(&k, 0) != '=') {
                return false;
            }
            w->text_n = k.off - 1 - w->text;
            pt_cur_skip(&k, 1);
            w->end = k.off;
            return w->text_n <= PT_MIME_MAX_VALUE;
        }
        if (ch <= ' ' || ch == 0x7f) {
            return false; /* RFC 2047 §5: no white space inside an encoded word */
        }
    }
    return false;
}

/* Decode the word's text, appending raw bytes to buf (at most cap, *n so far). */
static bool word_bytes(const uint8_t *text, const struct word *w, uint8_t *buf, size_t cap,
                       size_t *n)
{
    struct pt_cur c = pt_cur_make(text + w->text, w->text_n);
    uint32_t quad = 0;
    unsigned q = 0;
    while (pt_cur_left(&c) > 0) {
        uint8_t ch = pt_cur_u8(&c);
        uint8_t b[3];
        size_t bn = 0;
        if (w->enc == 'Q') {
            if (ch == '_') {
                b[bn++] = ' ';
            } else if (ch == '=') {
                int hi = hexval(pt_cur_peek_u8(&c, 0)), lo = hexval(pt_cur_peek_u8(&c, 1));
                if (hi < 0 || lo < 0) {
                    return false;
                }
                pt_cur_skip(&c, 2);
                b[bn++] = (uint8_t)(hi << 4 | lo);
            } else {
                b[bn++] = ch;
            }
        } else if (ch == '=') {
            break; /* padding */
        } else {
            int v = b64val(ch);
            if (v < 0) {
                return false;
            }
            quad = quad << 6 | (uint32_t)v;
            if (++q == 4) {
                b[bn++] = (uint8_t)(quad >> 16);
                b[bn++] = (uint8_t)(quad >> 8);
                b[bn++] = (uint8_t)quad;
                q = 0;
                quad = 0;
            }
        }
        if (bn > cap - *n) {
            return false;
        }
        memcpy(buf + *n, b, bn);
        *n += bn;
    }
    if (w->enc == 'B' && q > 0) { /* the bytes of a final, possibly unpadded, group */
        uint8_t b[2] = {(uint8_t)(quad >> (q == 2 ? 4 : 10)), (uint8_t)(quad >> 2)};
        size_t bn = q == 2 ? 1 : q == 3 ? 2 : 0;
        if (bn == 0 || bn > cap - *n) {
            return false;
        }
        memcpy(buf + *n, b, bn);
        *n += bn;
    }
    return true;
}

/* White space only (folding included)? */
static bool blank(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') {
            return false;
        }
    }
    return true;
}

/* Decode a run of adjacent words of one charset, text[from..to), into o; kept as sent when it
 * does not decode. */
static void put_run(struct out *o, const uint8_t *text, const struct word *ws, size_t nw)
{
    uint8_t bytes[PT_MIME_MAX_VALUE];
    size_t n = 0;
    bool ok = true;
    for (size_t i = 0; i < nw && ok; i++) {
        ok = word_bytes(text, &ws[i], bytes, sizeof bytes, &n);
    }
    if (!ok || !put_converted(o, ws[0].cs, bytes, n)) {
        put(o, text + ws[0].start, ws[nw - 1].end - ws[0].start);
    }
}

static void words(const uint8_t *text, size_t len, struct out *o)
{
    struct pt_cur c = pt_cur_make(text, len);
    struct word run[PT_MIME_MAX_PARAM_SECTIONS];
    size_t nrun = 0;
    size_t plain = 0; /* start of text not yet written */
    while (pt_cur_left(&c) > 0) {
        struct word w;
        if (!word_at(&c, &w)) {
            pt_cur_skip(&c, 1);
            continue;
        }
        bool joins = nrun > 0 && nrun < PT_MIME_MAX_PARAM_SECTIONS &&
                     blank(text + plain, w.start - plain) && strcasecmp(run[0].cs, w.cs) == 0;
        bool adjacent = nrun > 0 && blank(text + plain, w.start - plain);
        if (!joins && nrun > 0) {
            put_run(o, text, run, nrun);
            nrun = 0;
        }
        if (!adjacent) {
            put(o, text + plain, w.start - plain);
        }
        run[nrun++] = w;
        plain = w.end;
        pt_cur_skip(&c, w.end - c.off);
    }
    if (nrun > 0) {
        put_run(o, text, run, nrun);
    }
    put(o, text + plain, len - plain);
}

void pt_mime_words(const char *text, char *out, size_t len)
{
    struct out o = out_make(out, len);
    words((const uint8_t *)text, strlen(text), &o);
}

/* ---- RFC 2045 / RFC 2231 parameters -------------------------------------------------------- */

struct section {
    const uint8_t *v;   /* the value as written (quotes removed, escapes not yet) */
    size_t n;
    bool quoted, ext, seen;
};

/* Append a section's value: quoted-pairs undone (RFC 5322 §3.2.4), percent escapes too when
 * it is an extended one. */
static void section_bytes(const struct section *s, bool percent, uint8_t *buf, size_t cap,
                          size_t *n)
{
    struct pt_cur c = pt_cur_make(s->v, s->n);
    while (pt_cur_left(&c) > 0 && *n < cap) {
        uint8_t ch = pt_cur_u8(&c);
        if (s->quoted && ch == '\\' && pt_cur_left(&c) > 0) {
            ch = pt_cur_u8(&c);
        } else if (percent && ch == '%' && hexval(pt_cur_peek_u8(&c, 0)) >= 0 &&
                   hexval(pt_cur_peek_u8(&c, 1)) >= 0) {
            ch = (uint8_t)(hexval(pt_cur_peek_u8(&c, 0)) << 4 | hexval(pt_cur_peek_u8(&c, 1)));
            pt_cur_skip(&c, 2);
        }
        buf[(*n)++] = ch;
    }
}

static void skip_space(struct pt_cur *c)
{
    while (pt_cur_left(c) > 0 && strchr(" \t\r\n", pt_cur_peek_u8(c, 0)) != NULL) {
        pt_cur_skip(c, 1);
    }
}

/* Read one "; attribute = value" at the cursor into *attr and *s. False at the end. */
static bool next_param(struct pt_cur *c, const uint8_t **attr, size_t *attr_n, struct section *s)
{
    while (pt_cur_left(c) > 0 && pt_cur_peek_u8(c, 0) != ';') {
        pt_cur_skip(c, 1); /* the type, or the rest of a parameter that did not parse */
    }
    if (!pt_cur_skip(c, 1)) {
        return false;
    }
    skip_space(c);
    *attr = pt_cur_ptr(c);
    size_t a0 = c->off;
    while (pt_cur_left(c) > 0 && strchr("=; \t\r\n", pt_cur_peek_u8(c, 0)) == NULL) {
        pt_cur_skip(c, 1);
    }
    *attr_n = c->off - a0;
    skip_space(c);
    memset(s, 0, sizeof *s);
    if (pt_cur_peek_u8(c, 0) != '=') {
        return true; /* no value: an attribute of length 0 for the caller to skip */
    }
    pt_cur_skip(c, 1);
    skip_space(c);
    s->seen = true;
    if (pt_cur_peek_u8(c, 0) == '"') {
        pt_cur_skip(c, 1);
        s->quoted = true;
        s->v = pt_cur_ptr(c);
        size_t v0 = c->off;
        while (pt_cur_left(c) > 0 && pt_cur_peek_u8(c, 0) != '"') {
            pt_cur_skip(c, pt_cur_peek_u8(c, 0) == '\\' && pt_cur_left(c) > 1 ? 2 : 1);
        }
        s->n = c->off - v0;
        pt_cur_skip(c, 1);
        return true;
    }
    s->v = pt_cur_ptr(c);
    size_t v0 = c->off;
    while (pt_cur_left(c) > 0 && pt_cur_peek_u8(c, 0) != ';') {
        pt_cur_skip(c, 1);
    }
    s->n = c->off - v0;
    while (s->n > 0 && strchr(" \t\r\n", s->v[s->n - 1]) != NULL) {
        s->n--;
    }
    return true;
}

/* Which form of parameter `name` is attr? -1: another parameter; -2: the plain name=;
 * 0..: RFC 2231 section number (name*= is section 0), *ext when it is percent-encoded. */
static int param_form(const uint8_t *attr, size_t n, const char *name, bool *ext)
{
    size_t nl = strlen(name);
    if (n < nl || strncasecmp((const char *)attr, name, nl) != 0) {
        return -1;
    }
    if (n == nl) {
        return -2;
    }
    struct pt_cur c = pt_cur_make(attr + nl, n - nl);
    if (pt_cur_u8(&c) != '*') {
        return -1;
    }
    *ext = false;
    if (pt_cur_left(&c) == 0) {
        *ext = true;
        return 0;
    }
    unsigned num = 0;
    size_t digits = 0;
    while (pt_cur_left(&c) > 0 && isdigit(pt_cur_peek_u8(&c, 0)) && digits < 4) {
        num = num * 10 + (unsigned)(pt_cur_u8(&c) - '0');
        digits++;
    }
    if (digits == 0 || (digits > 1 && attr[nl + 1] == '0')) {
        return -1; /* RFC 2231 §3: no leading zeros */
    }
    if (pt_cur_left(&c) == 1 && pt_cur_peek_u8(&c, 0) == '*') {
        *ext = true;
        pt_cur_skip(&c, 1);
    }
    if (pt_cur_left(&c) > 0 || num >= PT_MIME_MAX_PARAM_SECTIONS) {
        return -1;
    }
    return (int)num;
}

bool pt_mime_param(const char *value, const char *name, char *out, size_t len)
{
    struct out o = out_make(out, len);
    struct section sec[PT_MIME_MAX_PARAM_SECTIONS];
    struct section plain;
    memset(sec, 0, sizeof sec);
    memset(&plain, 0, sizeof plain);
    struct pt_cur c = pt_cur_make((const uint8_t *)value, strlen(value));
    const uint8_t *attr;
    size_t attr_n;
    struct section s;
    while (next_param(&c, &attr, &attr_n, &s)) {
        bool ext = false;
        int form = s.seen ? param_form(attr, attr_n, name, &ext) : -1;
        if (form == -2 && !plain.seen) {
            plain = s;
        } else if (form >= 0 && !sec[form].seen) {
            sec[form] = s;
            sec[form].ext = ext;
        }
    }
    if (sec[0].seen) {
        /* RFC 2231: sections 0, 1, 2 ... up to the first one missing */
        static _Thread_local uint8_t bytes[PT_MIME_MAX_VALUE];
        size_t n = 0;
        char cs[64] = "";
        struct section first = sec[0];
        if (first.ext) { /* charset'language'value */
            const uint8_t *q1 = memchr(first.v, '\'', first.n);
            const uint8_t *q2 = q1 ? memchr(q1 + 1, '\'', first.n - (size_t)(q1 + 1 - first.v))
                                   : NULL;
            if (q2 != NULL && charset_name(first.v, (size_t)(q1 - first.v), cs, sizeof cs)) {
                first.n -= (size_t)(q2 + 1 - first.v);
                first.v = q2 + 1;
            }
        }
        for (size_t i = 0; i < PT_MIME_MAX_PARAM_SECTIONS && sec[i].seen; i++) {
            section_bytes(i == 0 ? &first : &sec[i], sec[i].ext, bytes, sizeof bytes, &n);
        }
        if (!put_converted(&o, cs, bytes, n)) {
            /* kept as sent: the sections joined, still percent-encoded */
            n = 0;
            for (size_t i = 0; i < PT_MIME_MAX_PARAM_SECTIONS && sec[i].seen; i++) {
                section_bytes(&sec[i], false, bytes, sizeof bytes, &n);
            }
            put(&o, bytes, n);
        }
        return true;
    }
    if (plain.seen) {
        static _Thread_local uint8_t bytes[PT_MIME_MAX_VALUE];
        size_t n = 0;
        section_bytes(&plain, false, bytes, sizeof bytes - 1, &n);
        words(bytes, n, &o);
        return true;
    }
    return false;
}
