/*
 * xmltag.c - the bounded XML tag scanner (xmltag.h).
 */
#include "xmltag.h"

#include <string.h>

void pt_xmlscan_init(struct pt_xmlscan *x, const uint8_t *p, size_t n)
{
    x->p = p;
    x->n = n;
    x->i = 0;
}

static size_t find(const uint8_t *p, size_t n, size_t i, const char *s)
{
    size_t k = strlen(s);
    while (i + k <= n) {
        const uint8_t *q = memchr(p + i, s[0], n - i);
        if (q == NULL) {
            return n;
        }
        i = (size_t)(q - p);
        if (i + k <= n && memcmp(p + i, s, k) == 0) {
            return i;
        }
        i++;
    }
    return n;
}

static bool name_char(uint8_t c)
{
    return c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '>' && c != '/' && c != '=';
}

/* Markup that is not an element: comments, CDATA, <?...?>, <!DOCTYPE ...>: its end, or n. */
static size_t skip_special(const uint8_t *p, size_t n, size_t i)
{
    if (i + 4 <= n && memcmp(p + i, "<!--", 4) == 0) {
        size_t e = find(p, n, i + 4, "-->");
        return e < n ? e + 3 : n;
    }
    if (i + 9 <= n && memcmp(p + i, "<![CDATA[", 9) == 0) {
        size_t e = find(p, n, i + 9, "]]>");
        return e < n ? e + 3 : n;
    }
    size_t e = find(p, n, i + 1, ">");
    return e < n ? e + 1 : n;
}

bool pt_xmlscan_next(struct pt_xmlscan *x, struct pt_xmltag *t)
{
    const uint8_t *p = x->p;
    size_t n = x->n;
    for (;;) {
        size_t lt = find(p, n, x->i, "<");
        if (lt + 1 >= n) {
            x->i = n;
            return false;
        }
        if (p[lt + 1] == '!' || p[lt + 1] == '?') {
            x->i = skip_special(p, n, lt);
            continue;
        }
        size_t gt = find(p, n, lt + 1, ">");
        if (gt >= n) {
            x->i = n;
            return false;
        }
        memset(t, 0, sizeof *t);
        t->off = lt;
        size_t i = lt + 1;
        t->closing = p[i] == '/';
        i += t->closing;
        size_t ns = i, k = 0;
        while (i < gt && name_char(p[i])) {
            if (p[i] == ':') { /* a prefix: the local name follows */
                ns = i + 1;
            }
            i++;
        }
        for (size_t j = ns; j < i && k < sizeof t->name - 1; j++) {
            t->name[k++] = (char)p[j];
        }
        t->name[k] = '\0';
        t->empty = gt > lt && p[gt - 1] == '/';
        t->attrs = p + i;
        t->attrs_len = gt - i - (t->empty ? 1 : 0);
        size_t next = find(p, n, gt + 1, "<");
        t->text = p + gt + 1;
        t->text_len = next - (gt + 1);
        x->i = gt + 1;
        return true;
    }
}

static int hexv(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* An entity at p[i] ('&'): its code point and length, or 0 when it is not one. */
static size_t entity(const uint8_t *p, size_t n, size_t i, uint32_t *cp)
{
    static const struct { const char *s; uint32_t c; } named[] = {
        {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
        size_t l = strlen(named[k].s);
        if (i + l <= n && memcmp(p + i, named[k].s, l) == 0) {
            *cp = named[k].c;
            return l;
        }
    }
    if (i + 3 >= n || p[i + 1] != '#') {
        return 0;
    }
    bool hex = p[i + 2] == 'x' || p[i + 2] == 'X';
    uint32_t v = 0;
    size_t j = i + 2 + hex, digits = 0;
    for (; j < n && p[j] != ';' && digits < 8; j++, digits++) {
        int d = hex ? hexv(p[j]) : (p[j] >= '0' && p[j] <= '9' ? p[j] - '0' : -1);
        if (d < 0) {
            return 0;
        }
        v = v * (hex ? 16 : 10) + (uint32_t)d;
    }
    if (j >= n || p[j] != ';' || digits == 0 || v > 0x10FFFF || v == 0) {
        return 0;
    }
    *cp = v;
    return j + 1 - i;
}

static size_t put_utf8(uint32_t c, uint8_t b[4])
{
    if (c < 0x80) {
        b[0] = (uint8_t)c;
        return 1;
    }
    if (c < 0x800) {
        b[0] = (uint8_t)(0xC0 | c >> 6);
        b[1] = (uint8_t)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        b[0] = (uint8_t)(0xE0 | c >> 12);
        b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        b[2] = (uint8_t)(0x80 | (c & 0x3F));
        return 3;
    }
    b[0] = (uint8_t)(0xF0 | c >> 18);
    b[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
    b[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
    b[3] = (uint8_t)(0x80 | (c & 0x3F));
    return 4;
}

size_t pt_xml_decode(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0, total = 0;
    for (size_t i = 0; i < n;) {
        uint8_t b[4];
        size_t bl = 1;
        uint32_t cp;
        size_t el = p[i] == '&' ? entity(p, n, i, &cp) : 0;
        if (el > 0) {
            bl = put_utf8(cp, b);
            i += el;
        } else {
            b[0] = p[i++];
        }
        total += (b[0] & 0xC0) != 0x80; /* characters, not bytes */
        if (cap > 0 && o + bl <= cap - 1) {
            memcpy(out + o, b, bl);
            o += bl;
        }
    }
    if (cap > 0) {
        out[o] = '\0';
    }
    return total;
}

bool pt_xmltag_attr(const struct pt_xmltag *t, const char *name, char *out, size_t cap)
{
    const uint8_t *a = t->attrs;
    size_t n = t->attrs_len, i = 0, nl = strlen(name);
    while (i < n) {
        while (i < n && !name_char(a[i])) {
            i++;
        }
        size_t s = i, ns = i;
        while (i < n && name_char(a[i])) {
            ns = a[i] == ':' ? i + 1 : ns;
            i++;
        }
        size_t e = i;
        while (i < n && (a[i] == ' ' || a[i] == '\t' || a[i] == '\r' || a[i] == '\n')) {
            i++;
        }
        if (i >= n || a[i] != '=') {
            if (i == s) {
                i++;
            }
            continue;
        }
        i++;
        while (i < n && (a[i] == ' ' || a[i] == '\t' || a[i] == '\r' || a[i] == '\n')) {
            i++;
        }
        if (i >= n || (a[i] != '"' && a[i] != '\'')) {
            return false;
        }
        uint8_t q = a[i++];
        const uint8_t *v = a + i;
        const uint8_t *qe = memchr(v, q, n - i);
        if (qe == NULL) {
            return false;
        }
        i = (size_t)(qe - a) + 1;
        if (e - ns == nl && memcmp(a + ns, name, nl) == 0) {
            pt_xml_decode(v, (size_t)(qe - v), out, cap);
            return true;
        }
    }
    return false;
}

size_t pt_xmltag_text(const struct pt_xmltag *t, char *out, size_t cap)
{
    const uint8_t *s = t->text;
    size_t n = t->text_len;
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                     s[n - 1] == '\n')) {
        n--;
    }
    return pt_xml_decode(s, n, out, cap);
}
