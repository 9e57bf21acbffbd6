/*
 * xmltag.c - the bounded XML tag scanner (xmltag.h). Every read of the input goes through
 * the bounds-checked cursor (core/cursor.h): a view never reaches past [p, p + n).
 */
#include "xmltag.h"

#include <string.h>

void pt_xmlscan_init(struct pt_xmlscan *x, const uint8_t *p, size_t n)
{
    x->c = pt_cur_make(p, n);
}

/* Advance c to the next occurrence of s (not consumed); false, with c at its end, when none. */
static bool seek(struct pt_cur *c, const char *s)
{
    size_t k = strlen(s);
    while (pt_cur_has(c, k)) {
        const uint8_t *at = pt_cur_ptr(c);
        const uint8_t *q = memchr(at, s[0], pt_cur_left(c));
        if (q == NULL) {
            break;
        }
        pt_cur_skip(c, (size_t)(q - at));
        if (pt_cur_has(c, k) && memcmp(pt_cur_ptr(c), s, k) == 0) {
            return true;
        }
        pt_cur_skip(c, 1);
    }
    pt_cur_skip(c, pt_cur_left(c));
    return false;
}

/* True when the bytes at c begin with s (nothing consumed). */
static bool at(const struct pt_cur *c, const char *s)
{
    size_t k = strlen(s);
    return pt_cur_has(c, k) && memcmp(pt_cur_ptr(c), s, k) == 0;
}

static bool name_char(uint8_t c)
{
    return c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '>' && c != '/' && c != '=';
}

static bool space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Markup that is not an element (c at its '<'): comments, CDATA, <?...?>, <!DOCTYPE ...>;
 * c ends past it, or at the end of the input. */
static void skip_special(struct pt_cur *c)
{
    const char *end = ">";
    size_t open = 1;
    if (at(c, "<!--")) {
        end = "-->";
        open = 4;
    } else if (at(c, "<![CDATA[")) {
        end = "]]>";
        open = 9;
    }
    pt_cur_skip(c, open);
    if (seek(c, end)) {
        pt_cur_skip(c, strlen(end));
    }
}

/* Advance c to the '<' that ends a tag's text: the next one that does not open a CDATA
 * section (a section's text is the tag's, markers and all; pt_xml_decode reads it), or the
 * end of the input. */
static void text_end(struct pt_cur *c)
{
    while (seek(c, "<") && at(c, "<![CDATA[")) {
        pt_cur_skip(c, 9);
        if (!seek(c, "]]>")) {
            return;
        }
        pt_cur_skip(c, 3);
    }
}

/* The tag's name (c just past '<' and any '/'), its prefix dropped. */
static void tag_name(struct pt_cur *c, size_t stop, struct pt_xmltag *t)
{
    size_t ns = c->off, k = 0;
    while (c->off < stop && name_char(pt_cur_peek_u8(c, 0))) {
        if (pt_cur_u8(c) == ':') { /* a prefix: the local name follows */
            ns = c->off;
        }
    }
    struct pt_cur n = pt_cur_make(c->base + ns, c->off - ns);
    while (pt_cur_left(&n) > 0 && k < sizeof t->name - 1) {
        t->name[k++] = (char)pt_cur_u8(&n);
    }
    t->name[k] = '\0';
}

bool pt_xmlscan_next(struct pt_xmlscan *x, struct pt_xmltag *t)
{
    struct pt_cur *c = &x->c;
    while (seek(c, "<")) {
        uint8_t second = pt_cur_peek_u8(c, 1);
        if (second == '!' || second == '?') {
            skip_special(c);
            continue;
        }
        size_t lt = c->off;
        struct pt_cur g = *c;
        if (!seek(&g, ">")) {
            break; /* a tag cut by the end of the input */
        }
        size_t gt = g.off;
        memset(t, 0, sizeof *t);
        t->off = lt;
        pt_cur_skip(c, 1);
        t->closing = pt_cur_peek_u8(c, 0) == '/';
        pt_cur_skip(c, t->closing ? 1 : 0);
        tag_name(c, gt, t);
        t->empty = gt > lt + 1 && c->base[gt - 1] == '/';
        t->attrs = c->base + c->off;
        t->attrs_len = gt - c->off - (t->empty && gt - 1 >= c->off ? 1 : 0);
        pt_cur_skip(c, gt + 1 - c->off);
        struct pt_cur txt = *c;
        text_end(&txt);
        t->text = c->base + c->off;
        t->text_len = txt.off - c->off;
        return true;
    }
    pt_cur_skip(c, pt_cur_left(c));
    return false;
}

static int hexv(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A numeric character reference at c ("&#...;"): its code point, or false (c unchanged). */
static bool charref(struct pt_cur *c, uint32_t *cp)
{
    struct pt_cur r = *c;
    pt_cur_skip(&r, 2);
    bool hex = pt_cur_peek_u8(&r, 0) == 'x' || pt_cur_peek_u8(&r, 0) == 'X';
    pt_cur_skip(&r, hex ? 1 : 0);
    uint32_t v = 0;
    size_t digits = 0;
    while (pt_cur_left(&r) > 0 && pt_cur_peek_u8(&r, 0) != ';' && digits < 8) {
        uint8_t b = pt_cur_u8(&r);
        int d = hex ? hexv(b) : (b >= '0' && b <= '9' ? b - '0' : -1);
        if (d < 0) {
            return false;
        }
        v = v * (hex ? 16 : 10) + (uint32_t)d;
        digits++;
    }
    if (pt_cur_u8(&r) != ';' || !pt_cur_ok(&r) || digits == 0 || v > 0x10FFFF || v == 0) {
        return false;
    }
    *cp = v;
    *c = r;
    return true;
}

/* An entity at c ('&'): its code point, c past it; false (c unchanged) when it is not one. */
static bool entity(struct pt_cur *c, uint32_t *cp)
{
    static const struct { const char *s; uint32_t c; } named[] = {
        {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
        if (at(c, named[k].s)) {
            *cp = named[k].c;
            pt_cur_skip(c, strlen(named[k].s));
            return true;
        }
    }
    return pt_cur_peek_u8(c, 1) == '#' && charref(c, cp);
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
    struct pt_cur c = pt_cur_make(p, n);
    while (pt_cur_left(&c) > 0) {
        uint8_t b[4];
        size_t bl = 1;
        uint32_t cp;
        if (at(&c, "<![CDATA[")) { /* its characters as they are, without the markers */
            pt_cur_skip(&c, 9);
            struct pt_cur e = c;
            bool closed = seek(&e, "]]>");
            size_t k = e.off - c.off;
            for (size_t i = 0; i < k; i++) {
                uint8_t x = pt_cur_u8(&c);
                total += (x & 0xC0) != 0x80;
                if (cap > 0 && o + 1 <= cap - 1) {
                    out[o++] = (char)x;
                }
            }
            pt_cur_skip(&c, closed ? 3 : 0);
            continue;
        }
        if (pt_cur_peek_u8(&c, 0) == '&' && entity(&c, &cp)) {
            bl = put_utf8(cp, b);
        } else {
            b[0] = pt_cur_u8(&c);
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

/* The next attribute of a tag (a at its attributes): its local name and raw value; false at
 * their end or at one that is not name="value" (nothing after it is read). */
static bool next_attr(struct pt_cur *a, struct pt_cur *name, struct pt_cur *value)
{
    for (;;) {
        while (pt_cur_left(a) > 0 && !name_char(pt_cur_peek_u8(a, 0))) {
            pt_cur_skip(a, 1);
        }
        if (pt_cur_left(a) == 0) {
            return false;
        }
        size_t ns = a->off;
        while (pt_cur_left(a) > 0 && name_char(pt_cur_peek_u8(a, 0))) {
            ns = pt_cur_u8(a) == ':' ? a->off : ns;
        }
        *name = pt_cur_make(a->base + ns, a->off - ns);
        while (pt_cur_left(a) > 0 && space(pt_cur_peek_u8(a, 0))) {
            pt_cur_skip(a, 1);
        }
        if (pt_cur_peek_u8(a, 0) != '=') {
            continue; /* a name without a value: passed over */
        }
        pt_cur_skip(a, 1);
        while (pt_cur_left(a) > 0 && space(pt_cur_peek_u8(a, 0))) {
            pt_cur_skip(a, 1);
        }
        uint8_t q = pt_cur_u8(a);
        if (!pt_cur_ok(a) || (q != '"' && q != '\'')) {
            return false;
        }
        const uint8_t *v = pt_cur_ptr(a);
        const uint8_t *qe = v != NULL ? memchr(v, q, pt_cur_left(a)) : NULL;
        if (qe == NULL) {
            return false;
        }
        pt_cur_sub(a, (size_t)(qe - v), value);
        pt_cur_skip(a, 1);
        return true;
    }
}

bool pt_xmltag_attr(const struct pt_xmltag *t, const char *name, char *out, size_t cap)
{
    struct pt_cur a = pt_cur_make(t->attrs, t->attrs_len), n, v;
    size_t nl = strlen(name);
    while (next_attr(&a, &n, &v)) {
        if (n.len == nl && memcmp(n.base, name, nl) == 0) {
            pt_xml_decode(v.base, v.len, out, cap);
            return true;
        }
    }
    return false;
}

size_t pt_xmltag_text(const struct pt_xmltag *t, char *out, size_t cap)
{
    const uint8_t *s = t->text;
    size_t n = t->text_len;
    while (n > 0 && space(*s)) {
        s++;
        n--;
    }
    while (n > 0 && space(s[n - 1])) {
        n--;
    }
    return pt_xml_decode(s, n, out, cap);
}
