/*
 * doc_xml.c - a pull tokenizer for the XML of document packages (XML 1.0 fifth edition).
 *
 * Enough of XML for OOXML and OpenDocument parts: elements, attributes, character data with
 * the five predefined entities and character references (§4.1, §4.6), CDATA sections,
 * comments, processing instructions and a DOCTYPE skipped. No DTD is read and no other entity
 * is expanded (so no entity bomb and no external entity). Untrusted: the tokenizer only
 * moves a cursor forward; nesting stops at PT_DOC_MAX_XML_DEPTH with XML_BAD.
 */
#include <string.h>

#include "../core/limits.h"
#include "doc_int.h"

void xml_init(struct xml *x, const uint8_t *p, size_t n)
{
    memset(x, 0, sizeof *x);
    x->c = pt_cur_make(p, n);
}

/* Offset of `s` from the cursor on, or SIZE_MAX. */
static size_t find(const struct xml *x, const char *s)
{
    const uint8_t *p = pt_cur_ptr(&x->c);
    size_t left = pt_cur_left(&x->c);
    if (p == NULL) {
        return SIZE_MAX;
    }
    const uint8_t *h = memmem(p, left, s, strlen(s));
    return h == NULL ? SIZE_MAX : (size_t)(h - p);
}

static bool name_char(uint8_t c)
{
    return c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '/' && c != '>' && c != '=';
}

/* The end of a tag: '>' outside quoted attribute values. */
static size_t tag_end(const uint8_t *p, size_t n)
{
    uint8_t q = 0;
    for (size_t i = 0; i < n; i++) {
        if (q != 0) {
            if (p[i] == q) {
                q = 0;
            }
        } else if (p[i] == '"' || p[i] == '\'') {
            q = p[i];
        } else if (p[i] == '>') {
            return i;
        }
    }
    return SIZE_MAX;
}

enum xml_tok xml_next(struct xml *x)
{
    for (;;) {
        const uint8_t *p = pt_cur_ptr(&x->c);
        size_t left = pt_cur_left(&x->c);
        if (p == NULL || left == 0) {
            return XML_EOF;
        }
        if (p[0] != '<') {
            const uint8_t *lt = memchr(p, '<', left);
            size_t n = lt == NULL ? left : (size_t)(lt - p);
            x->name = NULL;
            x->name_len = 0;
            x->text = p;
            x->text_len = n;
            pt_cur_skip(&x->c, n);
            return XML_TEXT;
        }
        if (left >= 4 && memcmp(p, "<!--", 4) == 0) {
            size_t e = find(x, "-->");
            if (e == SIZE_MAX) {
                return XML_BAD;
            }
            pt_cur_skip(&x->c, e + 3);
            continue;
        }
        if (left >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
            size_t e = find(x, "]]>");
            if (e == SIZE_MAX) {
                return XML_BAD;
            }
            x->name = NULL;
            x->name_len = 0;
            x->text = p + 9;
            x->text_len = e - 9;
            pt_cur_skip(&x->c, e + 3);
            return XML_CDATA;
        }
        if (left >= 2 && (p[1] == '?' || p[1] == '!')) {
            size_t e = tag_end(p, left); /* a DOCTYPE internal subset is not expected here */
            if (e == SIZE_MAX) {
                return XML_BAD;
            }
            pt_cur_skip(&x->c, e + 1);
            continue;
        }
        size_t e = tag_end(p, left);
        if (e == SIZE_MAX) {
            return XML_BAD;
        }
        bool close = left >= 2 && p[1] == '/';
        bool empty = e >= 1 && p[e - 1] == '/';
        size_t i = close ? 2 : 1;
        size_t end = empty ? e - 1 : e;
        size_t ns = i;
        while (i < end && name_char(p[i])) {
            i++;
        }
        x->name = p + ns;
        x->name_len = i - ns;
        x->attrs = p + i;
        x->attrs_len = end > i ? end - i : 0;
        pt_cur_skip(&x->c, e + 1);
        if (x->name_len == 0) {
            return XML_BAD;
        }
        if (close) {
            if (x->depth == 0) {
                return XML_BAD;
            }
            x->depth--;
            return XML_CLOSE;
        }
        if (empty) {
            return XML_EMPTY;
        }
        if (x->depth >= PT_DOC_MAX_XML_DEPTH) {
            return XML_BAD;
        }
        x->depth++;
        return XML_OPEN;
    }
}

static bool local_eq(const uint8_t *q, size_t n, const char *local)
{
    if (q == NULL || n == 0) {
        return false;
    }
    const uint8_t *colon = memchr(q, ':', n);
    if (colon != NULL) {
        n -= (size_t)(colon - q) + 1;
        q = colon + 1;
    }
    size_t l = strlen(local);
    return n == l && memcmp(q, local, l) == 0;
}

bool xml_is(const struct xml *x, const char *local)
{
    return local_eq(x->name, x->name_len, local);
}

static bool attr(const struct xml *x, const char *local, bool prefixed, const uint8_t **v,
                 size_t *vl)
{
    const uint8_t *p = x->attrs;
    size_t n = x->attrs_len, i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) {
            i++;
        }
        size_t ns = i;
        while (i < n && p[i] != '=' && p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
               p[i] != '\n') {
            i++;
        }
        size_t nl = i - ns;
        while (i < n && p[i] != '=') {
            i++;
        }
        i++; /* '=' */
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) {
            i++;
        }
        if (i >= n || (p[i] != '"' && p[i] != '\'')) {
            return false;
        }
        uint8_t q = p[i++];
        size_t vs = i;
        while (i < n && p[i] != q) {
            i++;
        }
        if (i >= n) {
            return false;
        }
        if (nl > 0 && local_eq(p + ns, nl, local) &&
            (!prefixed || memchr(p + ns, ':', nl) != NULL)) {
            *v = p + vs;
            *vl = i - vs;
            return true;
        }
        i++;
    }
    return false;
}

bool xml_attr(const struct xml *x, const char *local, const uint8_t **v, size_t *vl)
{
    return attr(x, local, false, v, vl);
}

bool xml_attr_str(const struct xml *x, const char *local, char *buf, size_t cap)
{
    const uint8_t *v;
    size_t vl;
    if (!xml_attr(x, local, &v, &vl)) {
        if (cap > 0) {
            buf[0] = '\0';
        }
        return false;
    }
    xml_decode(v, vl, buf, cap);
    return true;
}

bool xml_attr_rel(const struct xml *x, char *buf, size_t cap)
{
    const uint8_t *v;
    size_t vl;
    if (!attr(x, "id", true, &v, &vl)) {
        buf[0] = '\0';
        return false;
    }
    xml_decode(v, vl, buf, cap);
    return true;
}

/* An entity or character reference at s[0] == '&': its code point and length, or 0. */
static size_t entity(const uint8_t *s, size_t n, uint32_t *cp)
{
    static const struct {
        const char *name;
        uint32_t cp;
    } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
        size_t l = strlen(named[k].name);
        if (n >= l + 1 && memcmp(s + 1, named[k].name, l) == 0) {
            *cp = named[k].cp;
            return l + 1;
        }
    }
    if (n < 4 || s[1] != '#') {
        return 0;
    }
    bool hex = s[2] == 'x' || s[2] == 'X';
    size_t i = hex ? 3 : 2;
    uint32_t v = 0;
    size_t digits = 0;
    while (i < n && digits < 8) {
        uint8_t c = s[i];
        unsigned dv;
        if (c >= '0' && c <= '9') {
            dv = c - '0';
        } else if (hex && c >= 'a' && c <= 'f') {
            dv = c - 'a' + 10;
        } else if (hex && c >= 'A' && c <= 'F') {
            dv = c - 'A' + 10;
        } else {
            break;
        }
        v = v * (hex ? 16 : 10) + dv;
        digits++;
        i++;
    }
    if (digits == 0 || i >= n || s[i] != ';') {
        return 0;
    }
    *cp = v; /* invalid code points become U+FFFD when encoded */
    return i + 1;
}

static bool xml_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool xml_put_text(struct doc *d, const uint8_t *s, size_t n, bool collapse)
{
    size_t i = 0, run = 0;
    while (i < n) {
        if (collapse && xml_space(s[i])) {
            if (i > run && !doc_put(d, (const char *)s + run, i - run)) {
                return false;
            }
            while (i < n && xml_space(s[i])) {
                i++;
            }
            char c = doc_last(d);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\f' && !doc_putc(d, ' ')) {
                return false;
            }
            run = i;
            continue;
        }
        if (s[i] == '&') {
            uint32_t cp;
            size_t l = entity(s + i, n - i, &cp);
            if (l > 0) {
                if (i > run && !doc_put(d, (const char *)s + run, i - run)) {
                    return false;
                }
                if (!doc_put_cp(d, cp)) {
                    return false;
                }
                i += l;
                run = i;
                continue;
            }
        }
        i++;
    }
    return i > run ? doc_put(d, (const char *)s + run, i - run) : !d->stop;
}

bool xml_put_token(struct doc *d, const struct xml *x, enum xml_tok t, bool collapse)
{
    if (t == XML_CDATA) {
        return doc_put(d, (const char *)x->text, x->text_len);
    }
    return xml_put_text(d, x->text, x->text_len, collapse);
}

size_t xml_decode(const uint8_t *s, size_t n, char *buf, size_t cap)
{
    size_t o = 0;
    if (cap == 0) {
        return 0;
    }
    for (size_t i = 0; i < n;) {
        char tmp[4];
        size_t tl = 1;
        tmp[0] = (char)s[i];
        size_t adv = 1;
        if (s[i] == '&') {
            uint32_t cp;
            size_t l = entity(s + i, n - i, &cp);
            if (l > 0) {
                tl = doc_utf8(cp, tmp);
                adv = l;
            }
        }
        if (tl > cap - 1 - o) {
            break;
        }
        memcpy(buf + o, tmp, tl);
        o += tl;
        i += adv;
    }
    buf[o] = '\0';
    return o;
}

enum xml_tok xml_skip(struct xml *x)
{
    unsigned target = x->depth - 1;
    enum xml_tok t;
    while ((t = xml_next(x)) != XML_EOF && t != XML_BAD) {
        if (t == XML_CLOSE && x->depth == target) {
            return t;
        }
    }
    return t;
}
