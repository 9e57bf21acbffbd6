/*
 * doc_pdf.c - PDF documents, with our own bounds-checked parser: the file, its objects and
 * streams here; fonts, content streams and pages to text in doc_pdf_text.c (doc_pdf.h).
 *
 * ISO 32000-1:2008. What is read:
 *   §7.2-7.3  the lexer: white space, comments, numbers, names (#xx), literal strings
 *             (escapes, octal, nesting), hex strings, arrays, dictionaries, references
 *   §7.3.10   indirect objects "N G obj ... endobj", found by scanning the whole file (not
 *             trusting the xref table, which damaged and cut files lack); a later definition
 *             of a number wins (incremental updates, §7.5.6)
 *   §7.3.8    streams: /Length direct or an indirect reference; when it does not lead to
 *             "endstream" the data runs to the next "endstream" keyword
 *   §7.4      filters FlateDecode (zlib), ASCIIHexDecode, ASCII85Decode, LZWDecode, chained
 *   §7.5.7    object streams (/Type /ObjStm, PDF 1.5): N pairs "number offset" from /First
 *   §7.5.8    cross-reference streams and §7.5.5 trailers: /Root and /Encrypt
 *   §7.7.3    the page tree (/Kids, inherited /Resources) walked in page order
 *   §9.4      text objects BT/ET; Tf Td TD T* Tm TL Tc Tw Tz; Tj TJ ' "; q Q cm; form
 *             XObjects through Do (§8.10)
 *   §9.6-9.10 simple fonts (WinAnsi/Standard/MacRoman, /Differences with glyph names,
 *             /Widths) and Type0 fonts (/DescendantFonts /W /DW); ToUnicode CMaps
 *             (codespace ranges, bfchar, bfrange incl. arrays; 1- to 4-byte codes)
 * Layout: a new line when the baseline moves by more than half the font size, a TAB when the
 * next text starts more than one font size to the right of where the last one ended (table
 * cells), a space for a smaller gap (word spacing by positioning or TJ kerning); pages are
 * separated by FF. An encrypted file (/Encrypt, §7.6) gives the anomaly doc.pdf_encrypted and
 * no text.
 * Untrusted: every read is through the cursor; nesting of values, page tree and forms stops
 * at PT_DOC_PDF_DEPTH; objects PT_DOC_PDF_MAX_OBJECTS; streams inflate under the PT_DOC_*
 * limits; parsed values live in one arena capped at PT_DOC_PDF_MAX_MEMORY.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/limits.h"
#include "doc_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/limits.h"
#include "doc_pdf.h"

/* ---- values ----------------------------------------------------------------------------------- */

const struct pv pdf_null = {PV_NULL, 0, 0, NULL, 0, NULL};

bool pdf_is_name(const struct pv *v, const char *s)
{
    size_t l = strlen(s);
    return v != NULL && v->t == PV_NAME && v->n == l && memcmp(v->s, s, l) == 0;
}

const struct pv *pdf_dict_get(const struct pv *d, const char *key)
{
    if (d == NULL || d->t != PV_DICT) {
        return &pdf_null;
    }
    for (size_t i = 0; i < d->n; i++) {
        if (pdf_is_name(&d->items[2 * i], key)) {
            return &d->items[2 * i + 1];
        }
    }
    return &pdf_null;
}

/* ---- lexer and parser (§7.2, §7.3) --------------------------------------------------------- */

bool pdf_space(uint8_t c)
{
    return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

static bool pdf_delim(uint8_t c)
{
    return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' ||
           c == '}' || c == '/' || c == '%';
}

static void skip_ws(struct pt_cur *c)
{
    while (pt_cur_left(c) > 0) {
        uint8_t ch = pt_cur_peek_u8(c, 0);
        if (pdf_space(ch)) {
            pt_cur_skip(c, 1);
        } else if (ch == '%') {
            while (pt_cur_left(c) > 0 && pt_cur_peek_u8(c, 0) != '\n' &&
                   pt_cur_peek_u8(c, 0) != '\r') {
                pt_cur_skip(c, 1);
            }
        } else {
            break;
        }
    }
}

int pdf_hexval(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}




/* Hex digits of in[0..n) up to a '>' into o (n / 2 + 1 bytes); other bytes are white space
 * (§7.3.4.3, §7.4.2); a missing last digit is 0. Returns the bytes written. */
static size_t hex_decode(const uint8_t *in, size_t n, uint8_t *o)
{
    size_t k = 0;
    int hi = -1;
    for (size_t i = 0; i < n && in[i] != '>'; i++) {
        int v = pdf_hexval(in[i]);
        if (v < 0) {
            continue;
        }
        if (hi < 0) {
            hi = v;
        } else {
            o[k++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        o[k++] = (uint8_t)(hi << 4);
    }
    return k;
}

static uint8_t *str_lit(struct pdf *p, struct pt_cur *c, size_t *len)
{
    /* the decoded string is never longer than the source: size by the bytes left */
    size_t start = c->off, depth = 1, i = 0;
    const uint8_t *b = c->base;
    size_t end = start;
    while (end < c->len) {
        uint8_t ch = b[end];
        if (ch == '\\') {
            end += 2;
            continue;
        }
        if (ch == '(') {
            depth++;
        } else if (ch == ')' && --depth == 0) {
            break;
        }
        end++;
    }
    if (end > c->len) {
        end = c->len;
    }
    uint8_t *o = pt_arena_alloc(p->cur, end - start + 1);
    if (o == NULL) {
        return NULL;
    }
    size_t k = start;
    depth = 1;
    while (k < end) {
        uint8_t ch = b[k++];
        if (ch == '(') {
            depth++;
        } else if (ch == ')') {
            depth--;
        }
        if (ch != '\\') {
            o[i++] = ch;
            continue;
        }
        if (k >= end) {
            break;
        }
        uint8_t e = b[k++];
        switch (e) {
            case 'n': o[i++] = '\n'; break;
            case 'r': o[i++] = '\r'; break;
            case 't': o[i++] = '\t'; break;
            case 'b': o[i++] = '\b'; break;
            case 'f': o[i++] = '\f'; break;
            case '\r':
                if (k < end && b[k] == '\n') {
                    k++;
                }
                break;
            case '\n': break;
            default:
                if (e >= '0' && e <= '7') {
                    unsigned v = e - '0';
                    for (int j = 0; j < 2 && k < end && b[k] >= '0' && b[k] <= '7'; j++) {
                        v = v * 8 + (b[k++] - '0');
                    }
                    o[i++] = (uint8_t)v;
                } else {
                    o[i++] = e;
                }
        }
    }
    c->off = end < c->len ? end + 1 : c->len;
    *len = i;
    return o;
}

static uint8_t *str_hex(struct pdf *p, struct pt_cur *c, size_t *len)
{
    const uint8_t *b = pt_cur_ptr(c);
    size_t left = pt_cur_left(c);
    const uint8_t *gt = b ? memchr(b, '>', left) : NULL;
    size_t span = gt == NULL ? left : (size_t)(gt - b);
    uint8_t *o = pt_arena_alloc(p->cur, span / 2 + 1);
    if (o == NULL) {
        return NULL;
    }
    size_t i = hex_decode(b, span, o);
    pt_cur_skip(c, gt == NULL ? span : span + 1);
    *len = i;
    return o;
}

static bool parse_number(struct pt_cur *c, double *v)
{
    const uint8_t *b = pt_cur_ptr(c);
    size_t left = pt_cur_left(c), i = 0;
    bool neg = false, any = false;
    if (i < left && (b[i] == '+' || b[i] == '-')) {
        neg = b[i] == '-';
        i++;
    }
    double x = 0, scale = 0;
    while (i < left && ((b[i] >= '0' && b[i] <= '9') || b[i] == '.')) {
        if (b[i] == '.') {
            if (scale != 0) {
                break;
            }
            scale = 1;
        } else {
            x = x * 10 + (b[i] - '0');
            if (scale != 0) {
                scale *= 10;
            }
            any = true;
        }
        i++;
    }
    if (!any && i == 0) {
        return false;
    }
    if (scale > 1) {
        x /= scale;
    }
    if (!isfinite(x) || x > 1e15) {
        x = 0;
    }
    *v = neg ? -x : x;
    pt_cur_skip(c, i);
    return true;
}

/* An object reference "N G R" after the number just read as out (§7.3.10). */
static void maybe_ref(struct pt_cur *c, struct pv *out)
{
    if (out->num < 0 || out->num != floor(out->num) || out->num > 1e9) {
        return;
    }
    struct pt_cur save = *c;
    skip_ws(c);
    double gen;
    uint8_t ch = pt_cur_peek_u8(c, 0);
    if (ch >= '0' && ch <= '9' && parse_number(c, &gen)) {
        skip_ws(c);
        if (pt_cur_peek_u8(c, 0) == 'R' &&
            (pt_cur_left(c) == 1 || pdf_space(pt_cur_peek_u8(c, 1)) ||
             pdf_delim(pt_cur_peek_u8(c, 1)))) {
            pt_cur_skip(c, 1);
            out->t = PV_REF;
            out->ref = (uint32_t)out->num;
            return;
        }
    }
    *c = save;
}

/* Growable list of values during parsing, copied to the arena when complete. */
static bool collect(struct pdf *p, struct pt_cur *c, uint8_t close, struct pv *out, unsigned depth)
{
    size_t cap = 16, n = 0;
    struct pv *tmp = malloc(cap * sizeof *tmp);
    if (tmp == NULL) {
        p->oom = true;
        return false;
    }
    bool ok = false;
    for (;;) {
        skip_ws(c);
        if (pt_cur_left(c) == 0) {
            break; /* cut: keep what was read */
        }
        uint8_t ch = pt_cur_peek_u8(c, 0);
        if (ch == close && (close == ']' || pt_cur_peek_u8(c, 1) == '>')) {
            pt_cur_skip(c, close == ']' ? 1 : 2);
            ok = true;
            break;
        }
        if (n == cap) {
            if (cap >= (1u << 22)) {
                break;
            }
            struct pv *nt = realloc(tmp, cap * 2 * sizeof *nt);
            if (nt == NULL) {
                p->oom = true;
                break;
            }
            tmp = nt;
            cap *= 2;
        }
        size_t before = c->off;
        if (!pdf_parse(p, c, &tmp[n], depth + 1)) {
            if (c->off == before) {
                pt_cur_skip(c, 1); /* an unexpected byte: step over it */
            }
            if (p->cur->full || p->oom) {
                break;
            }
            continue;
        }
        if (tmp[n].t == PV_OP && close == '>') {
            break; /* "stream" or "endobj" inside an unclosed dictionary */
        }
        n++;
    }
    if (close == '>' && n % 2 == 1) {
        n--;
    }
    struct pv *items = pt_arena_alloc(p->cur, (n ? n : 1) * sizeof *items);
    if (items != NULL) {
        memcpy(items, tmp, n * sizeof *items);
    }
    free(tmp);
    out->items = items;
    out->n = items == NULL ? 0 : close == '>' ? n / 2 : n;
    return ok || items != NULL;
}

bool pdf_parse(struct pdf *p, struct pt_cur *c, struct pv *out, unsigned depth)
{
    *out = pdf_null;
    skip_ws(c);
    if (pt_cur_left(c) == 0 || depth > PT_DOC_PDF_DEPTH) {
        return false;
    }
    uint8_t ch = pt_cur_peek_u8(c, 0);
    if (ch == '/') {
        pt_cur_skip(c, 1);
        const uint8_t *b = pt_cur_ptr(c);
        size_t left = pt_cur_left(c), i = 0;
        while (i < left && !pdf_space(b[i]) && !pdf_delim(b[i])) {
            i++;
        }
        uint8_t *s = pt_arena_alloc(p->cur, i + 1);
        if (s == NULL) {
            return false;
        }
        size_t k = 0;
        for (size_t j = 0; j < i; j++) {
            if (b[j] == '#' && j + 2 < i && pdf_hexval(b[j + 1]) >= 0 && pdf_hexval(b[j + 2]) >= 0) {
                s[k++] = (uint8_t)(pdf_hexval(b[j + 1]) << 4 | pdf_hexval(b[j + 2]));
                j += 2;
            } else {
                s[k++] = b[j];
            }
        }
        pt_cur_skip(c, i);
        out->t = PV_NAME;
        out->s = s;
        out->n = k;
        return true;
    }
    if (ch == '(') {
        pt_cur_skip(c, 1);
        out->t = PV_STR;
        out->s = str_lit(p, c, &out->n);
        return out->s != NULL;
    }
    if (ch == '<' && pt_cur_peek_u8(c, 1) == '<') {
        pt_cur_skip(c, 2);
        out->t = PV_DICT;
        return collect(p, c, '>', out, depth);
    }
    if (ch == '<') {
        pt_cur_skip(c, 1);
        out->t = PV_STR;
        out->s = str_hex(p, c, &out->n);
        return out->s != NULL;
    }
    if (ch == '[') {
        pt_cur_skip(c, 1);
        out->t = PV_ARR;
        return collect(p, c, ']', out, depth);
    }
    if ((ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.') {
        if (!parse_number(c, &out->num)) {
            return false;
        }
        out->t = PV_NUM;
        if (ch != '-' && ch != '+' && ch != '.') {
            maybe_ref(c, out);
        }
        return true;
    }
    if (ch == ']' || ch == '>' || ch == ')' || ch == '{' || ch == '}') {
        return false;
    }
    const uint8_t *b = pt_cur_ptr(c);
    size_t left = pt_cur_left(c), i = 0;
    while (i < left && !pdf_space(b[i]) && !pdf_delim(b[i]) && i < 64) {
        i++;
    }
    if (i == 0) {
        return false;
    }
    pt_cur_skip(c, i);
    if (i == 4 && memcmp(b, "true", 4) == 0) {
        out->t = PV_BOOL;
        out->num = 1;
    } else if (i == 5 && memcmp(b, "false", 5) == 0) {
        out->t = PV_BOOL;
    } else if (i == 4 && memcmp(b, "null", 4) == 0) {
        out->t = PV_NULL;
    } else {
        out->t = PV_OP;
        out->s = b;
        out->n = i;
    }
    return true;
}

bool pdf_is_op(const struct pv *v, const char *s)
{
    size_t l = strlen(s);
    return v->t == PV_OP && v->n == l && memcmp(v->s, s, l) == 0;
}

/* ---- the object table ------------------------------------------------------------------------- */

static int obj_cmp(const void *a, const void *b)
{
    const struct pdf_obj *x = a, *y = b;
    if (x->num != y->num) {
        return x->num < y->num ? -1 : 1;
    }
    /* the same number: direct objects later in the file win over earlier ones and over
     * objects in object streams (stm >= 0 sorts first) */
    if ((x->stm >= 0) != (y->stm >= 0)) {
        return x->stm >= 0 ? -1 : 1;
    }
    return x->off < y->off ? -1 : x->off > y->off;
}

static bool add_obj(struct pdf *p, uint32_t num, size_t off, int32_t stm)
{
    if (p->n >= PT_DOC_PDF_MAX_OBJECTS) {
        return false;
    }
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 256;
        struct pdf_obj *no = realloc(p->o, nc * sizeof *no);
        if (no == NULL) {
            p->oom = true;
            return false;
        }
        p->o = no;
        p->cap = nc;
    }
    struct pdf_obj *o = &p->o[p->n++];
    memset(o, 0, sizeof *o);
    o->num = num;
    o->off = off;
    o->stm = stm;
    o->stream_off = SIZE_MAX;
    return true;
}

/* Sort and keep one entry per number (the winner sorts last). */
static void settle(struct pdf *p)
{
    if (p->n == 0) {
        return;
    }
    qsort(p->o, p->n, sizeof *p->o, obj_cmp);
    size_t w = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (i + 1 < p->n && p->o[i + 1].num == p->o[i].num) {
            continue;
        }
        p->o[w++] = p->o[i];
    }
    p->n = w;
}

/* "N G obj": every occurrence in the file, read backwards from the keyword. */
static void scan_objects(struct pdf *p)
{
    const uint8_t *b = p->d->b;
    size_t n = p->d->n, from = 0;
    bool capped = false;
    while (from < n) {
        const uint8_t *h = memmem(b + from, n - from, "obj", 3);
        if (h == NULL) {
            break;
        }
        size_t at = (size_t)(h - b);
        from = at + 3;
        if ((at + 3 < n && !pdf_space(b[at + 3]) && !pdf_delim(b[at + 3])) || at < 4 ||
            !pdf_space(b[at - 1])) {
            continue;
        }
        size_t i = at;
        while (i > 0 && pdf_space(b[i - 1])) {
            i--;
        }
        size_t ge = i;
        while (i > 0 && b[i - 1] >= '0' && b[i - 1] <= '9') {
            i--;
        }
        if (i == ge || i == 0 || !pdf_space(b[i - 1])) {
            continue;
        }
        while (i > 0 && pdf_space(b[i - 1])) {
            i--;
        }
        size_t ne = i;
        while (i > 0 && b[i - 1] >= '0' && b[i - 1] <= '9' && ne - i < 10) {
            i--;
        }
        if (i == ne || (i > 0 && !pdf_space(b[i - 1]) && !pdf_delim(b[i - 1]))) {
            continue;
        }
        uint64_t num = 0;
        for (size_t k = i; k < ne; k++) {
            num = num * 10 + (b[k] - '0');
        }
        if (num > UINT32_MAX) {
            continue;
        }
        if (!add_obj(p, (uint32_t)num, at + 3, -1)) {
            capped = !p->oom;
            break;
        }
    }
    if (capped) {
        doc_anomaly_kind(p->d, PT_ANOM_LIMIT_PDF_OBJECTS,
                         "more objects than PT_DOC_PDF_MAX_OBJECTS");
    }
}

struct pdf_obj *pdf_find(struct pdf *p, uint32_t num)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->o[mid].num < num) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < p->n && p->o[lo].num == num ? &p->o[lo] : NULL;
}

const struct pv *pdf_load(struct pdf *p, struct pdf_obj *o)
{
    if (o->state == 2) {
        return &o->val;
    }
    if (o->state == 1) {
        return &pdf_null; /* a reference cycle */
    }
    o->state = 1;
    struct pt_arena *saved = p->cur;
    p->cur = &p->a;
    struct pt_cur c;
    if (o->stm >= 0) {
        c = pt_cur_make(p->stm[o->stm].b, p->stm[o->stm].n);
    } else {
        c = pt_cur_make(p->d->b, p->d->n);
    }
    pt_cur_skip(&c, o->off);
    pdf_parse(p, &c, &o->val, 0);
    if (o->stm < 0 && o->val.t == PV_DICT) {
        skip_ws(&c);
        struct pv kw;
        struct pt_cur k2 = c;
        if (pdf_parse(p, &k2, &kw, 0) && pdf_is_op(&kw, "stream")) {
            o->stream_off = k2.off;
        }
    }
    o->state = 2;
    p->cur = saved;
    return &o->val;
}

const struct pv *pdf_resolve(struct pdf *p, const struct pv *v)
{
    for (int i = 0; i < 8 && v != NULL && v->t == PV_REF; i++) {
        struct pdf_obj *o = pdf_find(p, v->ref);
        v = o == NULL ? &pdf_null : pdf_load(p, o);
    }
    return v == NULL ? &pdf_null : v;
}

const struct pv *pdf_rget(struct pdf *p, const struct pv *dict, const char *key)
{
    return pdf_resolve(p, pdf_dict_get(pdf_resolve(p, dict), key));
}

/* ---- streams (§7.3.8, §7.4) ------------------------------------------------------------------- */

static pt_status unhex(const uint8_t *in, size_t n, uint8_t **out, size_t *on)
{
    uint8_t *o = malloc(n / 2 + 1);
    if (o == NULL) {
        return PT_ENOMEM;
    }
    size_t k = hex_decode(in, n, o);
    *out = o;
    *on = k;
    return PT_OK;
}

static pt_status un85(const uint8_t *in, size_t n, uint8_t **out, size_t *on)
{
    uint8_t *o = malloc(n / 5 * 4 + n * 4 / 5 + 8); /* 'z' expands 1 byte to 4 */
    if (o == NULL) {
        return PT_ENOMEM;
    }
    size_t cap = n / 5 * 4 + n * 4 / 5 + 8, k = 0;
    uint32_t acc = 0;
    int cnt = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (c == '~') {
            break;
        }
        if (pdf_space(c)) {
            continue;
        }
        if (c == 'z' && cnt == 0) {
            if (k + 4 > cap) {
                break;
            }
            memset(o + k, 0, 4);
            k += 4;
            continue;
        }
        if (c < '!' || c > 'u') {
            break;
        }
        acc = acc * 85 + (uint32_t)(c - '!');
        if (++cnt == 5) {
            if (k + 4 > cap) {
                break;
            }
            o[k++] = (uint8_t)(acc >> 24);
            o[k++] = (uint8_t)(acc >> 16);
            o[k++] = (uint8_t)(acc >> 8);
            o[k++] = (uint8_t)acc;
            acc = 0;
            cnt = 0;
        }
    }
    if (cnt > 1) {
        for (int j = cnt; j < 5; j++) {
            acc = acc * 85 + 84;
        }
        for (int j = 0; j < cnt - 1 && k < cap; j++) {
            o[k++] = (uint8_t)(acc >> (24 - 8 * j));
        }
    }
    *out = o;
    *on = k;
    return PT_OK;
}

/* LZWDecode (§7.4.4), EarlyChange 1: 9- to 12-bit codes, 256 clear, 257 end. */
static pt_status unlzw(struct doc *d, const uint8_t *in, size_t n, uint8_t **out, size_t *on)
{
    size_t cap = n * 3 + 64, k = 0;
    uint8_t *o = malloc(cap);
    uint16_t *prefix = malloc(4096 * sizeof *prefix);
    uint8_t *suffix = malloc(4096), *stack = malloc(4097);
    pt_status rc = PT_OK;
    if (o == NULL || prefix == NULL || suffix == NULL || stack == NULL) {
        rc = PT_ENOMEM;
        goto out;
    }
    unsigned next = 258, width = 9, prev = 4096;
    uint32_t bits = 0;
    unsigned nbits = 0;
    uint8_t first = 0;
    for (size_t i = 0; i < n;) {
        while (nbits < width && i < n) {
            bits = (bits << 8) | in[i++];
            nbits += 8;
        }
        if (nbits < width) {
            break;
        }
        unsigned code = (bits >> (nbits - width)) & ((1u << width) - 1);
        nbits -= width;
        if (code == 256) {
            next = 258;
            width = 9;
            prev = 4096;
            continue;
        }
        if (code == 257) {
            break;
        }
        unsigned sp = 0, cur = code;
        if (code > next || (code == next && prev == 4096)) {
            doc_anomaly(d, PT_ANOM_DOC_BAD_LZW, "an LZW code out of sequence; stream cut there");
            break;
        }
        if (code == next) {
            stack[sp++] = first;
            cur = prev;
        }
        while (cur >= 258 && sp < 4096) {
            stack[sp++] = suffix[cur];
            cur = prefix[cur];
        }
        if (cur >= 256) {
            break;
        }
        stack[sp++] = (uint8_t)cur;
        first = (uint8_t)cur;
        while (sp > 0) {
            if (k == cap) {
                if (cap >= PT_DOC_MAX_MEMBER || (cap > 1024 * 1024 && cap / (n ? n : 1) >
                                                                          PT_DOC_MAX_RATIO)) {
                    doc_anomaly_kind(d, PT_ANOM_LIMIT_DOC_INFLATE, "an LZW stream expands too far");
                    goto done;
                }
                uint8_t *no = realloc(o, cap * 2);
                if (no == NULL) {
                    rc = PT_ENOMEM;
                    goto out;
                }
                o = no;
                cap *= 2;
            }
            o[k++] = stack[--sp];
        }
        if (prev != 4096 && next < 4096) {
            prefix[next] = (uint16_t)prev;
            suffix[next] = first;
            next++;
            if (next + 1 >= (1u << width) && width < 12) {
                width++;
            }
        }
        prev = code;
    }
done:
    *out = o;
    *on = k;
    o = NULL;
out:
    free(o);
    free(prefix);
    free(suffix);
    free(stack);
    return rc;
}

/* The raw bytes of a stream: /Length when it leads to "endstream", else up to that keyword. */
static bool stream_raw(struct pdf *p, struct pdf_obj *o, const uint8_t **raw, size_t *rn)
{
    const uint8_t *b = p->d->b;
    size_t n = p->d->n, s = o->stream_off;
    if (s == SIZE_MAX || s > n) {
        return false;
    }
    if (s < n && b[s] == '\r') {
        s++;
    }
    if (s < n && b[s] == '\n') {
        s++;
    }
    const struct pv *len = pdf_rget(p, &o->val, "Length");
    if (len->t == PV_NUM && len->num >= 0 && len->num <= (double)(n - s)) {
        size_t e = s + (size_t)len->num, k = e;
        while (k < n && pdf_space(b[k]) && k - e < 4) {
            k++;
        }
        if (n - k >= 9 && memcmp(b + k, "endstream", 9) == 0) {
            *raw = b + s;
            *rn = (size_t)len->num;
            return true;
        }
    }
    const uint8_t *h = memmem(b + s, n - s, "endstream", 9);
    size_t e = h == NULL ? n : (size_t)(h - b);
    if (h == NULL) {
        doc_anomaly(p->d, PT_ANOM_DOC_STREAM_CUT,
                    "a stream has no endstream (a cut file); read to the end");
    }
    if (e > s && b[e - 1] == '\n') {
        e--;
    }
    if (e > s && b[e - 1] == '\r') {
        e--;
    }
    *raw = b + s;
    *rn = e - s;
    return true;
}

/* Decoded stream data (malloc'd). PT_EUNSUPPORTED for a filter we do not decode (images). */
pt_status pdf_stream(struct pdf *p, struct pdf_obj *o, uint8_t **out, size_t *on)
{
    *out = NULL;
    *on = 0;
    const uint8_t *raw;
    size_t rn;
    if (!stream_raw(p, o, &raw, &rn)) {
        return PT_EUNSUPPORTED;
    }
    /* every stream read counts against the document's budget, so pages or forms that name
     * one large stream many times cannot make the work grow without bound */
    if (rn > PT_DOC_MAX_INFLATED - (p->d->inflated < PT_DOC_MAX_INFLATED ? p->d->inflated
                                                                            : PT_DOC_MAX_INFLATED)) {
        doc_anomaly_kind(p->d, PT_ANOM_LIMIT_DOC_INFLATE,
                         "the streams read exceed "
                         "PT_DOC_MAX_INFLATED; the rest is not read");
        return PT_ELIMIT;
    }
    p->d->inflated += rn;
    const struct pv *f = pdf_rget(p, &o->val, "Filter");
    const struct pv *parms = pdf_rget(p, &o->val, "DecodeParms");
    size_t nf = f->t == PV_ARR ? f->n : f->t == PV_NAME ? 1 : 0;
    uint8_t *cur = malloc(rn ? rn : 1);
    if (cur == NULL) {
        return PT_ENOMEM;
    }
    memcpy(cur, raw, rn);
    size_t cn = rn;
    for (size_t i = 0; i < nf; i++) {
        const struct pv *name = f->t == PV_ARR ? pdf_resolve(p, &f->items[i]) : f;
        const struct pv *pa = parms->t == PV_ARR && i < parms->n ? pdf_resolve(p, &parms->items[i])
                                                                 : parms;
        const struct pv *pred = pdf_rget(p, pa, "Predictor");
        if (pred->t == PV_NUM && pred->num > 1) {
            free(cur);
            return PT_EUNSUPPORTED; /* predictors: images and xref streams, not text */
        }
        uint8_t *next = NULL;
        size_t nn = 0;
        pt_status st;
        if (pdf_is_name(name, "FlateDecode") || pdf_is_name(name, "Fl")) {
            bool complete;
            st = doc_inflate(p->d, cur, cn, false, PT_DOC_MAX_MEMBER, &next, &nn, &complete);
            if (st == PT_OK && !complete) {
                doc_anomaly(p->d, PT_ANOM_DOC_FLATE_CUT,
                            "a FlateDecode stream ends early or is corrupt; "
                            "what inflated is kept");
            }
            if (st == PT_ELIMIT && next != NULL) {
                st = PT_OK; /* cut at a limit: what inflated is kept */
            }
        } else if (pdf_is_name(name, "ASCIIHexDecode") || pdf_is_name(name, "AHx")) {
            st = unhex(cur, cn, &next, &nn);
        } else if (pdf_is_name(name, "ASCII85Decode") || pdf_is_name(name, "A85")) {
            st = un85(cur, cn, &next, &nn);
        } else if (pdf_is_name(name, "LZWDecode") || pdf_is_name(name, "LZW")) {
            st = unlzw(p->d, cur, cn, &next, &nn);
        } else {
            st = PT_EUNSUPPORTED;
        }
        free(cur);
        if (st != PT_OK) {
            free(next);
            return st;
        }
        cur = next;
        cn = nn;
    }
    *out = cur;
    *on = cn;
    return PT_OK;
}

/* §7.5.7: the objects inside every object stream join the table. */
static void object_streams(struct pdf *p)
{
    size_t direct = p->n;
    for (size_t i = 0; i < direct && !p->oom; i++) {
        struct pdf_obj *o = &p->o[i];
        const struct pv *v = pdf_load(p, o);
        if (!pdf_is_name(pdf_dict_get(v, "Type"), "ObjStm") || o->stream_off == SIZE_MAX) {
            continue;
        }
        const struct pv *nv = pdf_rget(p, v, "N"), *fv = pdf_rget(p, v, "First");
        if (nv->t != PV_NUM || fv->t != PV_NUM || nv->num < 0 || fv->num < 0) {
            doc_anomaly(p->d, PT_ANOM_DOC_BAD_OBJSTM, "an object stream without /N or /First");
            continue;
        }
        /* copies: add_obj below may move the table these values live in */
        double count = nv->num, first_off = fv->num;
        uint8_t *data;
        size_t dn;
        pt_status st = pdf_stream(p, o, &data, &dn);
        if (st == PT_ENOMEM) {
            p->oom = true;
            return;
        }
        if (st != PT_OK) {
            continue;
        }
        if (p->n_stm == p->cap_stm) {
            size_t nc = p->cap_stm ? p->cap_stm * 2 : 16;
            struct stm_data *ns = realloc(p->stm, nc * sizeof *ns);
            if (ns == NULL) {
                free(data);
                p->oom = true;
                return;
            }
            p->stm = ns;
            p->cap_stm = nc;
        }
        int32_t idx = (int32_t)p->n_stm;
        p->stm[p->n_stm++] = (struct stm_data){data, dn};
        size_t first = first_off < (double)dn ? (size_t)first_off : dn;
        struct pt_cur hc = pt_cur_make(data, first);
        for (double k = 0; k < count; k++) {
            double num, off;
            skip_ws(&hc);
            if (!parse_number(&hc, &num)) {
                break;
            }
            skip_ws(&hc);
            if (!parse_number(&hc, &off)) {
                break;
            }
            if (num < 0 || num > UINT32_MAX || off < 0 || off >= (double)(dn - first)) {
                continue;
            }
            if (!add_obj(p, (uint32_t)num, first + (size_t)off, idx)) {
                break;
            }
        }
    }
    settle(p);
}

/* /Root and /Encrypt from the trailers and cross-reference streams; the last one wins. */
static void trailer(struct pdf *p, const struct pv **root, bool *encrypted)
{
    *root = &pdf_null;
    *encrypted = false;
    const uint8_t *b = p->d->b;
    size_t n = p->d->n, from = 0;
    while (from < n) {
        const uint8_t *h = memmem(b + from, n - from, "trailer", 7);
        if (h == NULL) {
            break;
        }
        struct pt_cur c = pt_cur_make(b, n);
        pt_cur_skip(&c, (size_t)(h - b) + 7);
        from = c.off;
        struct pv t;
        if (pdf_parse(p, &c, &t, 0) && t.t == PV_DICT) {
            if (pdf_dict_get(&t, "Root")->t == PV_REF) {
                *root = pdf_dict_get(&t, "Root");
            }
            *encrypted |= pdf_dict_get(&t, "Encrypt")->t != PV_NULL;
        }
    }
    for (size_t i = 0; i < p->n; i++) {
        const struct pv *v = pdf_load(p, &p->o[i]);
        if (pdf_is_name(pdf_dict_get(v, "Type"), "XRef")) {
            if (pdf_dict_get(v, "Root")->t == PV_REF) {
                *root = pdf_dict_get(v, "Root");
            }
            *encrypted |= pdf_dict_get(v, "Encrypt")->t != PV_NULL;
        }
    }
    if (pdf_resolve(p, *root)->t != PV_DICT) {
        for (size_t i = 0; i < p->n; i++) {
            const struct pv *v = pdf_load(p, &p->o[i]);
            if (pdf_is_name(pdf_dict_get(v, "Type"), "Catalog")) {
                *root = v;
            }
        }
    }
}

void doc_pdf(struct doc *d)
{
    struct pdf p = {.d = d};
    p.a.limit = p.scratch.limit = PT_DOC_PDF_MAX_MEMORY;
    p.a.chunk = p.scratch.chunk = 65536;
    p.cur = &p.a;
    scan_objects(&p);
    settle(&p);
    object_streams(&p);
    const struct pv *root;
    bool encrypted;
    trailer(&p, &root, &encrypted);
    if (encrypted) {
        doc_anomaly_kind(d, PT_ANOM_DOC_PDF_ENCRYPTED,
                         "the PDF is encrypted (/Encrypt): its text "
                         "cannot be read without the key");
        d->explained = true;
    } else if (p.n == 0) {
        doc_anomaly(d, PT_ANOM_DOC_NO_OBJECTS,
                    "no indirect object found: not a PDF body or cut in the "
                    "header");
        d->explained = true;
    } else {
        pdf_text(&p, root);
    }
    if (p.a.full || p.scratch.full) {
        doc_anomaly_kind(d, PT_ANOM_LIMIT_PDF_MEMORY,
                         "the parsed PDF exceeds PT_DOC_PDF_MAX_MEMORY; "
                         "text so far kept");
    }
    if (p.oom) {
        d->out->oom = true;
    }
    pdf_fonts_free(&p);
    for (size_t i = 0; i < p.n_stm; i++) {
        free(p.stm[i].b);
    }
    free(p.stm);
    free(p.o);
    pt_arena_free(&p.a);
    pt_arena_free(&p.scratch);
}
