/*
 * doc_pdf.c - the text of PDF documents, with our own bounds-checked parser.
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

/* ---- arena ------------------------------------------------------------------------------------ */

struct chunk {
    struct chunk *prev;
    size_t used, cap;
    max_align_t data[];
};

struct arena {
    struct chunk *top;
    size_t total;
    bool full;
};

struct mark {
    struct chunk *top;
    size_t used;
};

static void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (a->top == NULL || n > a->top->cap - a->top->used) {
        size_t cap = n > 65536 ? n : 65536;
        if (a->total + cap > PT_DOC_PDF_MAX_MEMORY) {
            a->full = true;
            return NULL;
        }
        struct chunk *c = malloc(sizeof *c + cap);
        if (c == NULL) {
            a->full = true;
            return NULL;
        }
        c->prev = a->top;
        c->used = 0;
        c->cap = cap;
        a->top = c;
        a->total += cap;
    }
    void *p = (uint8_t *)a->top->data + a->top->used;
    a->top->used += n;
    return p;
}

static struct mark arena_mark(const struct arena *a)
{
    struct mark m = {a->top, a->top ? a->top->used : 0};
    return m;
}

static void arena_reset(struct arena *a, struct mark m)
{
    while (a->top != m.top) {
        struct chunk *c = a->top;
        a->top = c->prev;
        a->total -= c->cap;
        free(c);
    }
    if (a->top != NULL) {
        a->top->used = m.used;
    }
}

static void arena_free(struct arena *a)
{
    struct mark none = {NULL, 0};
    arena_reset(a, none);
}

/* ---- values ----------------------------------------------------------------------------------- */

enum pv_type { PV_NULL, PV_BOOL, PV_NUM, PV_NAME, PV_STR, PV_ARR, PV_DICT, PV_REF, PV_OP };

struct pv {
    enum pv_type t;
    double num;
    uint32_t ref;           /* PV_REF: object number */
    const uint8_t *s;       /* NAME (without '/'), STR (decoded), OP: bytes */
    size_t n;               /* bytes of s; ARR: items; DICT: pairs */
    struct pv *items;       /* ARR: n values; DICT: 2n (key, value) */
};

static const struct pv pv_null = {PV_NULL, 0, 0, NULL, 0, NULL};

static bool pv_is_name(const struct pv *v, const char *s)
{
    size_t l = strlen(s);
    return v != NULL && v->t == PV_NAME && v->n == l && memcmp(v->s, s, l) == 0;
}

static const struct pv *dict_get(const struct pv *d, const char *key)
{
    if (d == NULL || d->t != PV_DICT) {
        return &pv_null;
    }
    for (size_t i = 0; i < d->n; i++) {
        if (pv_is_name(&d->items[2 * i], key)) {
            return &d->items[2 * i + 1];
        }
    }
    return &pv_null;
}

/* ---- lexer and parser (§7.2, §7.3) --------------------------------------------------------- */

static bool pdf_space(uint8_t c)
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

static int hexval(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

struct pdf;
static bool parse(struct pdf *p, struct pt_cur *c, struct pv *out, unsigned depth);

struct pdf_obj {
    uint32_t num;
    size_t off;          /* after "obj" in the file, or in the object stream's data */
    int32_t stm;         /* object stream index, -1 for a direct object */
    uint8_t state;       /* 0 unparsed, 1 parsing, 2 parsed */
    struct pv val;
    size_t stream_off;   /* just after the "stream" keyword; SIZE_MAX when no stream */
};

struct stm_data {
    uint8_t *b;
    size_t n;
};

struct font;

struct pdf {
    struct doc *d;
    struct arena a;           /* the objects' values: lives as long as the document */
    struct arena scratch;     /* operands of content streams and CMaps: reset as they go */
    struct arena *cur;        /* where parse() allocates */
    struct pdf_obj *o;
    size_t n, cap;
    struct stm_data *stm;
    size_t n_stm, cap_stm;
    struct font **fonts;      /* parsed fonts, by their dictionary */
    const struct pv **font_keys;
    size_t n_fonts;
    bool oom;
};

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
    uint8_t *o = arena_alloc(p->cur, end - start + 1);
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
    uint8_t *o = arena_alloc(p->cur, span / 2 + 1);
    if (o == NULL) {
        return NULL;
    }
    size_t i = 0;
    int hi = -1;
    for (size_t k = 0; k < span; k++) {
        int v = hexval(b[k]);
        if (v < 0) {
            continue;
        }
        if (hi < 0) {
            hi = v;
        } else {
            o[i++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        o[i++] = (uint8_t)(hi << 4); /* §7.3.4.3: a missing last digit is 0 */
    }
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
        if (!parse(p, c, &tmp[n], depth + 1)) {
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
    struct pv *items = arena_alloc(p->cur, (n ? n : 1) * sizeof *items);
    if (items != NULL) {
        memcpy(items, tmp, n * sizeof *items);
    }
    free(tmp);
    out->items = items;
    out->n = items == NULL ? 0 : close == '>' ? n / 2 : n;
    return ok || items != NULL;
}

static bool parse(struct pdf *p, struct pt_cur *c, struct pv *out, unsigned depth)
{
    *out = pv_null;
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
        uint8_t *s = arena_alloc(p->cur, i + 1);
        if (s == NULL) {
            return false;
        }
        size_t k = 0;
        for (size_t j = 0; j < i; j++) {
            if (b[j] == '#' && j + 2 < i && hexval(b[j + 1]) >= 0 && hexval(b[j + 2]) >= 0) {
                s[k++] = (uint8_t)(hexval(b[j + 1]) << 4 | hexval(b[j + 2]));
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

static bool pv_is_op(const struct pv *v, const char *s)
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
        doc_anomaly_kind(p->d, "limit.pdf_objects", "more objects than PT_DOC_PDF_MAX_OBJECTS");
    }
}

static struct pdf_obj *find_obj(struct pdf *p, uint32_t num)
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

static const struct pv *load(struct pdf *p, struct pdf_obj *o)
{
    if (o->state == 2) {
        return &o->val;
    }
    if (o->state == 1) {
        return &pv_null; /* a reference cycle */
    }
    o->state = 1;
    struct arena *saved = p->cur;
    p->cur = &p->a;
    struct pt_cur c;
    if (o->stm >= 0) {
        c = pt_cur_make(p->stm[o->stm].b, p->stm[o->stm].n);
    } else {
        c = pt_cur_make(p->d->b, p->d->n);
    }
    pt_cur_skip(&c, o->off);
    parse(p, &c, &o->val, 0);
    if (o->stm < 0 && o->val.t == PV_DICT) {
        skip_ws(&c);
        struct pv kw;
        struct pt_cur k2 = c;
        if (parse(p, &k2, &kw, 0) && pv_is_op(&kw, "stream")) {
            o->stream_off = k2.off;
        }
    }
    o->state = 2;
    p->cur = saved;
    return &o->val;
}

static const struct pv *resolve(struct pdf *p, const struct pv *v)
{
    for (int i = 0; i < 8 && v != NULL && v->t == PV_REF; i++) {
        struct pdf_obj *o = find_obj(p, v->ref);
        v = o == NULL ? &pv_null : load(p, o);
    }
    return v == NULL ? &pv_null : v;
}

static const struct pv *rget(struct pdf *p, const struct pv *dict, const char *key)
{
    return resolve(p, dict_get(resolve(p, dict), key));
}

/* ---- streams (§7.3.8, §7.4) ------------------------------------------------------------------- */

static pt_status unhex(const uint8_t *in, size_t n, uint8_t **out, size_t *on)
{
    uint8_t *o = malloc(n / 2 + 1);
    if (o == NULL) {
        return PT_ENOMEM;
    }
    size_t k = 0;
    int hi = -1;
    for (size_t i = 0; i < n && in[i] != '>'; i++) {
        int v = hexval(in[i]);
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
            doc_anomaly(d, "bad_lzw", "an LZW code out of sequence; stream cut there");
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
                    doc_anomaly_kind(d, "limit.doc_inflate", "an LZW stream expands too far");
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
    const struct pv *len = rget(p, &o->val, "Length");
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
        doc_anomaly(p->d, "stream_cut", "a stream has no endstream (a cut file); read to the end");
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
static pt_status stream_data(struct pdf *p, struct pdf_obj *o, uint8_t **out, size_t *on)
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
        doc_anomaly_kind(p->d, "limit.doc_inflate", "the streams read exceed "
                                                    "PT_DOC_MAX_INFLATED; the rest is not read");
        return PT_ELIMIT;
    }
    p->d->inflated += rn;
    const struct pv *f = rget(p, &o->val, "Filter");
    const struct pv *parms = rget(p, &o->val, "DecodeParms");
    size_t nf = f->t == PV_ARR ? f->n : f->t == PV_NAME ? 1 : 0;
    uint8_t *cur = malloc(rn ? rn : 1);
    if (cur == NULL) {
        return PT_ENOMEM;
    }
    memcpy(cur, raw, rn);
    size_t cn = rn;
    for (size_t i = 0; i < nf; i++) {
        const struct pv *name = f->t == PV_ARR ? resolve(p, &f->items[i]) : f;
        const struct pv *pa = parms->t == PV_ARR && i < parms->n ? resolve(p, &parms->items[i])
                                                                 : parms;
        const struct pv *pred = rget(p, pa, "Predictor");
        if (pred->t == PV_NUM && pred->num > 1) {
            free(cur);
            return PT_EUNSUPPORTED; /* predictors: images and xref streams, not text */
        }
        uint8_t *next = NULL;
        size_t nn = 0;
        pt_status st;
        if (pv_is_name(name, "FlateDecode") || pv_is_name(name, "Fl")) {
            bool complete;
            st = doc_inflate(p->d, cur, cn, false, PT_DOC_MAX_MEMBER, &next, &nn, &complete);
            if (st == PT_OK && !complete) {
                doc_anomaly(p->d, "flate_cut", "a FlateDecode stream ends early or is corrupt; "
                                               "what inflated is kept");
            }
            if (st == PT_ELIMIT && next != NULL) {
                st = PT_OK; /* cut at a limit: what inflated is kept */
            }
        } else if (pv_is_name(name, "ASCIIHexDecode") || pv_is_name(name, "AHx")) {
            st = unhex(cur, cn, &next, &nn);
        } else if (pv_is_name(name, "ASCII85Decode") || pv_is_name(name, "A85")) {
            st = un85(cur, cn, &next, &nn);
        } else if (pv_is_name(name, "LZWDecode") || pv_is_name(name, "LZW")) {
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
        const struct pv *v = load(p, o);
        if (!pv_is_name(dict_get(v, "Type"), "ObjStm") || o->stream_off == SIZE_MAX) {
            continue;
        }
        const struct pv *nv = rget(p, v, "N"), *fv = rget(p, v, "First");
        if (nv->t != PV_NUM || fv->t != PV_NUM || nv->num < 0 || fv->num < 0) {
            doc_anomaly(p->d, "bad_objstm", "an object stream without /N or /First");
            continue;
        }
        /* copies: add_obj below may move the table these values live in */
        double count = nv->num, first_off = fv->num;
        uint8_t *data;
        size_t dn;
        pt_status st = stream_data(p, o, &data, &dn);
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

/* ---- fonts (§9.6-9.10) ------------------------------------------------------------------------ */

struct cmap_ent {
    uint32_t lo, hi;
    uint8_t len;        /* code bytes */
    uint8_t n;          /* code points at dst */
    uint32_t dst[4];    /* for a range, the last one increments (§9.10.3) */
};

struct font {
    struct cmap_ent *map;
    size_t n_map;
    struct {
        uint32_t lo, hi;
        uint8_t len;
    } space[8];
    unsigned n_space;
    uint8_t code_len;       /* when no codespace ranges: 2 for Type0, else 1 */
    uint32_t enc[256];      /* simple fonts without ToUnicode: code to Unicode */
    bool cid;
    double widths[256];     /* simple: by code */
    double dw;              /* CID default width */
    struct {
        uint32_t lo, hi;
        double w;
    } *w;                   /* CID widths */
    size_t n_w;
};

/* WinAnsiEncoding (Annex D.2): cp1252, with the undefined positions as bullets. */
static uint32_t winansi(uint8_t c)
{
    static const uint16_t hi[32] = {
        0x20ac, 0x2022, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x2022, 0x017d, 0x2022, 0x2022, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
        0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x2022, 0x017e, 0x0178};
    return c >= 0x80 && c < 0xa0 ? hi[c - 0x80] : c;
}

/* Glyph names of /Differences (Adobe Glyph List, the ones text uses). */
static uint32_t glyph(const uint8_t *s, size_t n)
{
    static const struct {
        const char *name;
        uint16_t cp;
    } agl[] = {
        {"space", ' '}, {"exclam", '!'}, {"quotedbl", '"'}, {"numbersign", '#'},
        {"dollar", '$'}, {"percent", '%'}, {"ampersand", '&'}, {"quotesingle", '\''},
        {"quoteright", 0x2019}, {"parenleft", '('}, {"parenright", ')'}, {"asterisk", '*'},
        {"plus", '+'}, {"comma", ','}, {"hyphen", '-'}, {"minus", '-'}, {"period", '.'},
        {"slash", '/'}, {"zero", '0'}, {"one", '1'}, {"two", '2'}, {"three", '3'},
        {"four", '4'}, {"five", '5'}, {"six", '6'}, {"seven", '7'}, {"eight", '8'},
        {"nine", '9'}, {"colon", ':'}, {"semicolon", ';'}, {"less", '<'}, {"equal", '='},
        {"greater", '>'}, {"question", '?'}, {"at", '@'}, {"bracketleft", '['},
        {"backslash", '\\'}, {"bracketright", ']'}, {"asciicircum", '^'},
        {"underscore", '_'}, {"grave", '`'}, {"quoteleft", 0x2018}, {"braceleft", '{'},
        {"bar", '|'}, {"braceright", '}'}, {"asciitilde", '~'}, {"endash", 0x2013},
        {"emdash", 0x2014}, {"bullet", 0x2022}, {"quotedblleft", 0x201c},
        {"quotedblright", 0x201d}, {"ellipsis", 0x2026}, {"fi", 0xfb01}, {"fl", 0xfb02},
        {"eacute", 0xe9}, {"egrave", 0xe8}, {"aacute", 0xe1}, {"agrave", 0xe0},
        {"iacute", 0xed}, {"oacute", 0xf3}, {"uacute", 0xfa}, {"ntilde", 0xf1},
        {"ccedilla", 0xe7}, {"udieresis", 0xfc}, {"odieresis", 0xf6}, {"adieresis", 0xe4},
        {"Eacute", 0xc9}, {"Ntilde", 0xd1}, {"germandbls", 0xdf}, {"nbspace", 0xa0},
        {"degree", 0xb0}, {"section", 0xa7}, {"copyright", 0xa9}, {"registered", 0xae},
    };
    if (n == 1 && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
        return s[0];
    }
    for (size_t i = 0; i < sizeof agl / sizeof agl[0]; i++) {
        if (strlen(agl[i].name) == n && memcmp(agl[i].name, s, n) == 0) {
            return agl[i].cp;
        }
    }
    /* uniXXXX and uXXXX[XX] */
    size_t start = n >= 7 && memcmp(s, "uni", 3) == 0 ? 3 : n >= 5 && s[0] == 'u' ? 1 : 0;
    if (start > 0 && n - start <= 6) {
        uint32_t v = 0;
        for (size_t i = start; i < start + 4 && i < n; i++) {
            int h = hexval(s[i]);
            if (h < 0 || (s[i] >= 'a' && s[i] <= 'f')) {
                return 0;
            }
            v = v * 16 + (uint32_t)h;
        }
        return v;
    }
    return 0;
}

static uint32_t code_of(const uint8_t *s, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n && i < 4; i++) {
        v = v << 8 | s[i];
    }
    return v;
}

/* UTF-16BE bytes to up to 4 code points. */
static uint8_t utf16(const uint8_t *s, size_t n, uint32_t dst[4])
{
    uint8_t k = 0;
    for (size_t i = 0; i + 1 < n && k < 4; i += 2) {
        uint32_t u = (uint32_t)s[i] << 8 | s[i + 1];
        if (u >= 0xd800 && u <= 0xdbff && i + 3 < n) {
            uint32_t l = (uint32_t)s[i + 2] << 8 | s[i + 3];
            if (l >= 0xdc00 && l <= 0xdfff) {
                u = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
                i += 2;
            }
        }
        dst[k++] = u;
    }
    if (n == 1 && k < 4) {
        dst[k++] = s[0]; /* a one-byte destination seen in the wild */
    }
    return k;
}

static int cmap_cmp(const void *a, const void *b)
{
    const struct cmap_ent *x = a, *y = b;
    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool cmap_add(struct pdf *p, struct font *f, size_t *cap, const struct cmap_ent *e)
{
    if (f->n_map >= PT_DOC_PDF_MAX_CMAP) {
        return false;
    }
    if (f->n_map == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        struct cmap_ent *nm = realloc(f->map, nc * sizeof *nm);
        if (nm == NULL) {
            p->oom = true;
            return false;
        }
        f->map = nm;
        *cap = nc;
    }
    f->map[f->n_map++] = *e;
    return true;
}

/* A ToUnicode CMap (§9.10.3): codespace ranges, bfchar and bfrange sections. */
static void parse_cmap(struct pdf *p, struct font *f, const uint8_t *b, size_t n)
{
    struct pt_cur c = pt_cur_make(b, n);
    struct arena *saved = p->cur;
    p->cur = &p->scratch;
    struct mark m = arena_mark(&p->scratch);
    size_t cap = 0;
    enum { NONE, SPACE, CHAR, RANGE } sect = NONE;
    struct pv v[3];
    unsigned nv = 0;
    bool capped = false;
    while (pt_cur_left(&c) > 0 && !p->scratch.full) {
        struct pv t;
        size_t before = c.off;
        if (!parse(p, &c, &t, 0)) {
            if (c.off == before) {
                pt_cur_skip(&c, 1);
            }
            continue;
        }
        if (t.t == PV_OP) {
            nv = 0;
            sect = pv_is_op(&t, "begincodespacerange") ? SPACE
                   : pv_is_op(&t, "beginbfchar")       ? CHAR
                   : pv_is_op(&t, "beginbfrange")      ? RANGE : NONE;
            continue;
        }
        if (sect == NONE) {
            continue;
        }
        v[nv++] = t;
        if (sect == SPACE && nv == 2) {
            nv = 0;
            if (v[0].t == PV_STR && v[1].t == PV_STR && v[0].n >= 1 && v[0].n <= 4 &&
                f->n_space < 8) {
                f->space[f->n_space].lo = code_of(v[0].s, v[0].n);
                f->space[f->n_space].hi = code_of(v[1].s, v[1].n);
                f->space[f->n_space++].len = (uint8_t)v[0].n;
            }
        } else if (sect == CHAR && nv == 2) {
            nv = 0;
            if (v[0].t != PV_STR || v[0].n < 1 || v[0].n > 4) {
                continue;
            }
            struct cmap_ent e = {.len = (uint8_t)v[0].n};
            e.lo = e.hi = code_of(v[0].s, v[0].n);
            if (v[1].t == PV_STR) {
                e.n = utf16(v[1].s, v[1].n, e.dst);
            } else if (v[1].t == PV_NAME) {
                e.dst[0] = glyph(v[1].s, v[1].n);
                e.n = e.dst[0] != 0;
            }
            capped |= !cmap_add(p, f, &cap, &e);
        } else if (sect == RANGE && nv == 3) {
            nv = 0;
            if (v[0].t != PV_STR || v[1].t != PV_STR || v[0].n < 1 || v[0].n > 4) {
                continue;
            }
            uint32_t lo = code_of(v[0].s, v[0].n), hi = code_of(v[1].s, v[1].n);
            if (hi < lo) {
                continue;
            }
            if (v[2].t == PV_STR) {
                struct cmap_ent e = {.lo = lo, .hi = hi, .len = (uint8_t)v[0].n};
                e.n = utf16(v[2].s, v[2].n, e.dst);
                capped |= !cmap_add(p, f, &cap, &e);
            } else if (v[2].t == PV_ARR) {
                for (size_t i = 0; i < v[2].n && lo + i <= hi; i++) {
                    if (v[2].items[i].t != PV_STR) {
                        continue;
                    }
                    struct cmap_ent e = {.lo = lo + (uint32_t)i, .hi = lo + (uint32_t)i,
                                         .len = (uint8_t)v[0].n};
                    e.n = utf16(v[2].items[i].s, v[2].items[i].n, e.dst);
                    capped |= !cmap_add(p, f, &cap, &e);
                }
            }
        }
        if (capped) {
            doc_anomaly_kind(p->d, "limit.pdf_cmap", "a ToUnicode CMap with more entries than "
                                                     "PT_DOC_PDF_MAX_CMAP; the rest ignored");
            break;
        }
    }
    arena_reset(&p->scratch, m);
    p->cur = saved;
    if (f->n_map > 0) {
        qsort(f->map, f->n_map, sizeof *f->map, cmap_cmp);
    }
}

static const struct cmap_ent *cmap_find(const struct font *f, uint32_t code, uint8_t len)
{
    size_t lo = 0, hi = f->n_map;
    struct cmap_ent key = {.lo = code, .len = len};
    while (lo < hi) { /* the last entry with (len, lo) <= (len, code) */
        size_t mid = lo + (hi - lo) / 2;
        if (cmap_cmp(&f->map[mid], &key) <= 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0) {
        return NULL;
    }
    const struct cmap_ent *e = &f->map[lo - 1];
    return e->len == len && code >= e->lo && code <= e->hi ? e : NULL;
}

static void font_encoding(struct pdf *p, struct font *f, const struct pv *fd)
{
    for (int i = 0; i < 256; i++) {
        f->enc[i] = winansi((uint8_t)i); /* Standard and MacRoman agree on ASCII */
    }
    const struct pv *enc = rget(p, fd, "Encoding");
    const struct pv *diff = enc->t == PV_DICT ? rget(p, enc, "Differences") : &pv_null;
    if (diff->t != PV_ARR) {
        return;
    }
    long code = -1;
    for (size_t i = 0; i < diff->n; i++) {
        const struct pv *it = resolve(p, &diff->items[i]);
        if (it->t == PV_NUM) {
            code = it->num >= 0 && it->num < 256 ? (long)it->num : -1;
        } else if (it->t == PV_NAME && code >= 0 && code < 256) {
            uint32_t u = glyph(it->s, it->n);
            f->enc[code] = u;
            code++;
        }
    }
}

/* Widths of ASCII 32..126 in the standard 14 fonts that text uses (Adobe AFM files), for
 * fonts that give no /Widths (§9.6.2.2: the standard 14 may omit them); Courier is 600. */
static const uint16_t helvetica_w[95] = {
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722,
    722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722,
    667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556,
    556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500,
    500, 334, 260, 334, 584};
static const uint16_t helvetica_bold_w[95] = {
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722,
    722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722,
    667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611,
    611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556,
    500, 389, 280, 389, 584};
static const uint16_t times_w[95] = {
    250, 333, 408, 500, 500, 833, 778, 180, 333, 333, 500, 564, 250, 333, 250, 278, 500, 500,
    500, 500, 500, 500, 500, 500, 500, 500, 278, 278, 564, 564, 564, 444, 921, 722, 667, 667,
    722, 611, 556, 722, 722, 333, 389, 722, 611, 889, 722, 722, 556, 722, 667, 556, 611, 722,
    722, 944, 722, 722, 611, 333, 278, 333, 469, 500, 333, 444, 500, 444, 500, 444, 333, 500,
    500, 278, 278, 500, 278, 778, 500, 500, 500, 500, 333, 389, 278, 500, 500, 722, 500, 500,
    444, 480, 200, 480, 541};

static void font_widths(struct pdf *p, struct font *f, const struct pv *fd)
{
    const struct pv *base = rget(p, fd, "BaseFont");
    const uint16_t *std = NULL;
    double mono = 0;
    if (base->t == PV_NAME) {
        const char *bn = (const char *)base->s;
        size_t bl = base->n;
        bool bold = memmem(bn, bl, "Bold", 4) != NULL;
        if (memmem(bn, bl, "Courier", 7) != NULL) {
            mono = 600;
        } else if (memmem(bn, bl, "Times", 5) != NULL) {
            std = times_w;
        } else if (memmem(bn, bl, "Helvetica", 9) != NULL || memmem(bn, bl, "Arial", 5) != NULL) {
            std = bold ? helvetica_bold_w : helvetica_w;
        }
    }
    for (int i = 0; i < 256; i++) {
        f->widths[i] = mono > 0 ? mono : std != NULL && i >= 32 && i < 127 ? std[i - 32]
                                                : i == ' ' ? 278 : 556;
    }
    f->dw = 1000;
    if (!f->cid) {
        const struct pv *fc = rget(p, fd, "FirstChar"), *w = rget(p, fd, "Widths");
        if (fc->t == PV_NUM && w->t == PV_ARR && fc->num >= 0 && fc->num < 256) {
            for (size_t i = 0; i < w->n && (size_t)fc->num + i < 256; i++) {
                const struct pv *x = resolve(p, &w->items[i]);
                if (x->t == PV_NUM && x->num > 0 && x->num < 10000) {
                    f->widths[(size_t)fc->num + i] = x->num;
                }
            }
        }
        return;
    }
    const struct pv *desc = rget(p, fd, "DescendantFonts");
    const struct pv *cf = desc->t == PV_ARR && desc->n > 0 ? resolve(p, &desc->items[0]) : desc;
    const struct pv *dw = rget(p, cf, "DW"), *w = rget(p, cf, "W");
    if (dw->t == PV_NUM && dw->num > 0 && dw->num < 10000) {
        f->dw = dw->num;
    }
    if (w->t != PV_ARR) {
        return;
    }
    size_t cap = 0;
    for (size_t i = 0; i < w->n;) {
        const struct pv *a = resolve(p, &w->items[i]);
        const struct pv *b = i + 1 < w->n ? resolve(p, &w->items[i + 1]) : &pv_null;
        if (a->t != PV_NUM || a->num < 0 || a->num > 0xffffff) {
            break;
        }
        uint32_t first = (uint32_t)a->num;
        size_t add = 0;
        if (b->t == PV_ARR) {
            add = b->n;
        } else if (b->t == PV_NUM && i + 2 < w->n) {
            add = 1;
        } else {
            break;
        }
        if (f->n_w + add > PT_DOC_PDF_MAX_CMAP) {
            break;
        }
        if (f->n_w + add > cap) {
            size_t nc = (f->n_w + add) * 2;
            void *nw = realloc(f->w, nc * sizeof *f->w);
            if (nw == NULL) {
                p->oom = true;
                return;
            }
            f->w = nw;
            cap = nc;
        }
        if (b->t == PV_ARR) {
            for (size_t k = 0; k < b->n; k++) {
                const struct pv *x = resolve(p, &b->items[k]);
                f->w[f->n_w].lo = f->w[f->n_w].hi = first + (uint32_t)k;
                f->w[f->n_w++].w = x->t == PV_NUM ? x->num : f->dw;
            }
            i += 2;
        } else {
            const struct pv *x = resolve(p, &w->items[i + 2]);
            if (b->num < first) {
                break;
            }
            f->w[f->n_w].lo = first;
            f->w[f->n_w].hi = b->num > 0xffffff ? 0xffffff : (uint32_t)b->num;
            f->w[f->n_w++].w = x->t == PV_NUM ? x->num : f->dw;
            i += 3;
        }
    }
}

static void font_free(struct font *f)
{
    if (f != NULL) {
        free(f->map);
        free(f->w);
        free(f);
    }
}

static struct font *get_font(struct pdf *p, const struct pv *fd)
{
    fd = resolve(p, fd);
    if (fd->t != PV_DICT) {
        return NULL;
    }
    for (size_t i = 0; i < p->n_fonts; i++) {
        if (p->font_keys[i] == fd) {
            return p->fonts[i];
        }
    }
    if (p->n_fonts >= PT_DOC_PDF_MAX_FONTS) {
        doc_anomaly_kind(p->d, "limit.pdf_fonts", "more fonts than PT_DOC_PDF_MAX_FONTS");
        return NULL;
    }
    if (p->fonts == NULL) {
        p->fonts = calloc(PT_DOC_PDF_MAX_FONTS, sizeof *p->fonts);
        p->font_keys = calloc(PT_DOC_PDF_MAX_FONTS, sizeof *p->font_keys);
        if (p->fonts == NULL || p->font_keys == NULL) {
            p->oom = true;
            return NULL;
        }
    }
    struct font *f = calloc(1, sizeof *f);
    if (f == NULL) {
        p->oom = true;
        return NULL;
    }
    f->cid = pv_is_name(rget(p, fd, "Subtype"), "Type0");
    f->code_len = f->cid ? 2 : 1;
    font_encoding(p, f, fd);
    font_widths(p, f, fd);
    const struct pv *tu = dict_get(fd, "ToUnicode");
    if (tu->t == PV_REF) {
        struct pdf_obj *o = find_obj(p, tu->ref);
        if (o != NULL) {
            load(p, o);
            uint8_t *data;
            size_t dn;
            pt_status st = stream_data(p, o, &data, &dn);
            if (st == PT_OK) {
                parse_cmap(p, f, data, dn);
                free(data);
            } else if (st == PT_ENOMEM) {
                p->oom = true;
            } else {
                doc_anomaly(p->d, "tounicode_unreadable", "a font's ToUnicode CMap stream "
                                                          "cannot be decoded");
            }
        }
    }
    if (f->cid && f->n_map == 0) {
        doc_anomaly(p->d, "no_tounicode", "a composite font without a ToUnicode CMap: its text "
                                          "cannot be mapped to characters");
    }
    p->font_keys[p->n_fonts] = fd;
    p->fonts[p->n_fonts++] = f;
    return f;
}

/* The byte length of the code at s (codespace ranges, §9.7.6.2). */
static uint8_t code_len(const struct font *f, const uint8_t *s, size_t n)
{
    for (unsigned i = 0; i < f->n_space; i++) {
        uint8_t l = f->space[i].len;
        if (l <= n) {
            uint32_t c = code_of(s, l);
            if (c >= f->space[i].lo && c <= f->space[i].hi) {
                return l;
            }
        }
    }
    return f->n_space > 0 ? f->space[0].len : f->code_len;
}

static double width_of(const struct font *f, uint32_t code)
{
    if (!f->cid) {
        return code < 256 ? f->widths[code] : 500;
    }
    for (size_t i = 0; i < f->n_w; i++) {
        if (code >= f->w[i].lo && code <= f->w[i].hi) {
            return f->w[i].w;
        }
    }
    return f->dw;
}

/* ---- content streams (§9.4, §8.4.4) ---------------------------------------------------------- */

struct mat {
    double a, b, c, d, e, f;
};

static const struct mat ident = {1, 0, 0, 1, 0, 0};

static struct mat mul(struct mat x, struct mat y)
{
    struct mat r = {x.a * y.a + x.b * y.c,       x.a * y.b + x.b * y.d,
                    x.c * y.a + x.d * y.c,       x.c * y.b + x.d * y.d,
                    x.e * y.a + x.f * y.c + y.e, x.e * y.b + x.f * y.d + y.f};
    return r;
}

struct textpos {
    bool have;            /* text was shown on this page */
    double x_end, y;      /* where the last text ended, its baseline (device space) */
};

struct gstate {
    struct mat ctm;
    struct font *font;
    double fs, tc, tw, th, tl;
};

struct interp {
    struct pdf *p;
    struct textpos *pos;
    struct gstate g;
    struct gstate stack[32];
    unsigned sp;
    struct mat tm, tlm;
    bool fresh;           /* no text shown yet in this BT block */
    const struct pv *res;
};

/* Before text drawn at (x, y) with font size `size` (device space): a new line when the
 * baseline moved; on the same line a TAB for a gap wider than `tab` font sizes, a space for
 * a gap over 0.15 of a size (word spacing by position, as pdfTeX and TJ kerning do). The
 * caller picks `tab`: 0.15 for the first text of a new BT block (LibreOffice, reportlab and
 * Word draw each table cell as its own text object, and Calc leaves only ~0.2 of a size
 * between a right-aligned number and the next cell), 0.5 for text moved by Td/Tm in the
 * same block, a whole size inside a TJ array, where gaps are kerning between words. */
static void separate(struct interp *in, double x, double y, double size, double tab)
{
    struct doc *d = in->p->d;
    if (!in->pos->have) {
        return;
    }
    double fs = size > 0.5 ? size : 0.5;
    char last = doc_last(d);
    if (fabs(y - in->pos->y) > fs * 0.5) {
        doc_newline(d);
    } else if (x - in->pos->x_end > fs * tab) {
        if (last != '\t' && last != '\n' && last != '\f') {
            doc_putc(d, '\t');
        }
    } else if ((x - in->pos->x_end > fs * 0.15 || x < in->pos->x_end - fs * 2) && last != ' ' &&
               last != '\t' && last != '\n' && last != '\f') {
        doc_putc(d, ' ');
    }
}

/* One character of shown text. Ligatures (Chrome/Skia map the "fi" glyph to U+FB01) are
 * spelt out, so a name like Whitfield stays searchable; control characters are dropped. */
static void put_char(struct doc *d, uint32_t cp)
{
    static const char *const lig[] = {"ff", "fi", "fl", "ffi", "ffl", "st", "st"};
    if (cp >= 0xfb00 && cp <= 0xfb06) {
        doc_put(d, lig[cp - 0xfb00], strlen(lig[cp - 0xfb00]));
    } else if (cp >= 0x20 || cp == '\t') {
        doc_put_cp(d, cp);
    }
}

static void show(struct interp *in, const uint8_t *s, size_t n, bool in_tj)
{
    struct font *f = in->g.font;
    struct mat trm = mul(in->tm, in->g.ctm);
    double size = in->g.fs * hypot(trm.c, trm.d);
    separate(in, trm.e, trm.f, size, in->fresh ? 0.15 : in_tj ? 1.0 : 0.5);
    in->fresh = false;
    for (size_t i = 0; i < n && !in->p->d->stop;) {
        uint8_t l = f != NULL ? code_len(f, s + i, n - i) : 1;
        if (l > n - i) {
            l = (uint8_t)(n - i);
        }
        uint32_t code = code_of(s + i, l);
        i += l;
        const struct cmap_ent *e = f != NULL ? cmap_find(f, code, l) : NULL;
        if (e != NULL) {
            for (uint8_t k = 0; k < e->n; k++) {
                put_char(in->p->d, e->dst[k] + (k + 1 == e->n ? code - e->lo : 0));
            }
        } else if (f == NULL || (!f->cid && l == 1)) {
            put_char(in->p->d, f != NULL ? f->enc[code & 0xff] : winansi((uint8_t)code));
        }
        double w = f != NULL ? width_of(f, code) : 500;
        double adv = (w / 1000 * in->g.fs + in->g.tc + (l == 1 && code == 32 ? in->g.tw : 0)) *
                     in->g.th;
        struct mat t = {1, 0, 0, 1, adv, 0};
        in->tm = mul(t, in->tm);
    }
    trm = mul(in->tm, in->g.ctm);
    in->pos->x_end = trm.e;
    in->pos->y = trm.f;
    in->pos->have = true;
}

static double num_at(const struct pv *ops, unsigned n, unsigned k)
{
    return k < n && ops[k].t == PV_NUM ? ops[k].num : 0;
}

static void run_content(struct interp *in, const uint8_t *b, size_t n, unsigned depth);

static void do_xobject(struct interp *in, const struct pv *name, unsigned depth)
{
    struct pdf *p = in->p;
    if (name->t != PV_NAME || depth >= PT_DOC_PDF_DEPTH) {
        return;
    }
    const struct pv *xo = rget(p, in->res, "XObject");
    const struct pv *ref = NULL;
    for (size_t i = 0; xo->t == PV_DICT && i < xo->n; i++) {
        if (xo->items[2 * i].t == PV_NAME && xo->items[2 * i].n == name->n &&
            memcmp(xo->items[2 * i].s, name->s, name->n) == 0) {
            ref = &xo->items[2 * i + 1];
        }
    }
    if (ref == NULL || ref->t != PV_REF) {
        return;
    }
    struct pdf_obj *o = find_obj(p, ref->ref);
    if (o == NULL) {
        return;
    }
    const struct pv *v = load(p, o);
    if (!pv_is_name(dict_get(v, "Subtype"), "Form")) {
        return;
    }
    uint8_t *data;
    size_t dn;
    pt_status st = stream_data(p, o, &data, &dn);
    if (st != PT_OK) {
        if (st == PT_ENOMEM) {
            p->oom = true;
        } else if (st == PT_EUNSUPPORTED) {
            doc_anomaly(p->d, "form_filter", "a form XObject uses a filter not decoded");
        }
        return;
    }
    struct interp sub = *in;
    sub.sp = 0;
    const struct pv *r = rget(p, v, "Resources");
    if (r->t == PV_DICT) {
        sub.res = r;
    }
    const struct pv *m = rget(p, v, "Matrix");
    if (m->t == PV_ARR && m->n == 6) {
        struct mat fm = {num_at(m->items, 6, 0), num_at(m->items, 6, 1), num_at(m->items, 6, 2),
                         num_at(m->items, 6, 3), num_at(m->items, 6, 4), num_at(m->items, 6, 5)};
        sub.g.ctm = mul(fm, sub.g.ctm);
    }
    run_content(&sub, data, dn, depth + 1);
    free(data);
}

static void set_font(struct interp *in, const struct pv *name)
{
    const struct pv *fonts = rget(in->p, in->res, "Font");
    in->g.font = NULL;
    for (size_t i = 0; name->t == PV_NAME && fonts->t == PV_DICT && i < fonts->n; i++) {
        const struct pv *k = &fonts->items[2 * i];
        if (k->t == PV_NAME && k->n == name->n && memcmp(k->s, name->s, name->n) == 0) {
            in->g.font = get_font(in->p, &fonts->items[2 * i + 1]);
            return;
        }
    }
}

/* Inline image data (§8.9.7): skip from ID to a delimited EI. */
static void skip_inline_image(struct pt_cur *c)
{
    pt_cur_skip(c, 1);
    const uint8_t *b = pt_cur_ptr(c);
    size_t left = pt_cur_left(c);
    for (size_t i = 0; b != NULL && i + 2 <= left; i++) {
        if (b[i] == 'E' && b[i + 1] == 'I' && (i == 0 || pdf_space(b[i - 1])) &&
            (i + 2 == left || pdf_space(b[i + 2]))) {
            pt_cur_skip(c, i + 2);
            return;
        }
    }
    pt_cur_skip(c, left);
}

static void run_content(struct interp *in, const uint8_t *b, size_t n, unsigned depth)
{
    struct pdf *p = in->p;
    struct pt_cur c = pt_cur_make(b, n);
    struct pv ops[16];
    unsigned nops = 0;
    struct arena *saved = p->cur;
    p->cur = &p->scratch;
    struct mark m = arena_mark(&p->scratch);
    while (pt_cur_left(&c) > 0 && !p->d->stop && !p->scratch.full) {
        struct pv v;
        size_t before = c.off;
        if (!parse(p, &c, &v, 0)) {
            if (c.off == before) {
                pt_cur_skip(&c, 1);
            }
            continue;
        }
        if (v.t != PV_OP) {
            if (nops < 16) {
                ops[nops++] = v;
            }
            continue;
        }
        const char *op = (const char *)v.s;
        size_t ol = v.n;
#define OP(s) (ol == sizeof(s) - 1 && memcmp(op, s, sizeof(s) - 1) == 0)
        if (OP("BT")) {
            in->tm = in->tlm = ident;
            in->fresh = true;
        } else if (OP("Tf") && nops >= 2) {
            set_font(in, &ops[nops - 2]);
            in->g.fs = num_at(ops, nops, nops - 1);
        } else if (OP("Td") || OP("TD")) {
            double tx = num_at(ops, nops, nops - 2), ty = num_at(ops, nops, nops - 1);
            if (nops >= 2) {
                struct mat t = {1, 0, 0, 1, tx, ty};
                in->tlm = mul(t, in->tlm);
                in->tm = in->tlm;
                if (OP("TD")) {
                    in->g.tl = -ty;
                }
            }
        } else if (OP("Tm") && nops >= 6) {
            struct mat t = {num_at(ops, nops, nops - 6), num_at(ops, nops, nops - 5),
                            num_at(ops, nops, nops - 4), num_at(ops, nops, nops - 3),
                            num_at(ops, nops, nops - 2), num_at(ops, nops, nops - 1)};
            in->tm = in->tlm = t;
        } else if (OP("T*") || OP("'") || OP("\"")) {
            struct mat t = {1, 0, 0, 1, 0, -in->g.tl};
            in->tlm = mul(t, in->tlm);
            in->tm = in->tlm;
            if (OP("\"") && nops >= 3) {
                in->g.tw = num_at(ops, nops, nops - 3);
                in->g.tc = num_at(ops, nops, nops - 2);
            }
            if (!OP("T*") && nops >= 1 && ops[nops - 1].t == PV_STR) {
                show(in, ops[nops - 1].s, ops[nops - 1].n, false);
            }
        } else if (OP("TL") && nops >= 1) {
            in->g.tl = num_at(ops, nops, nops - 1);
        } else if (OP("Tc") && nops >= 1) {
            in->g.tc = num_at(ops, nops, nops - 1);
        } else if (OP("Tw") && nops >= 1) {
            in->g.tw = num_at(ops, nops, nops - 1);
        } else if (OP("Tz") && nops >= 1) {
            in->g.th = num_at(ops, nops, nops - 1) / 100;
        } else if (OP("Tj") && nops >= 1 && ops[nops - 1].t == PV_STR) {
            show(in, ops[nops - 1].s, ops[nops - 1].n, false);
        } else if (OP("TJ") && nops >= 1 && ops[nops - 1].t == PV_ARR) {
            const struct pv *a = &ops[nops - 1];
            bool inside = false;
            for (size_t i = 0; i < a->n; i++) {
                if (a->items[i].t == PV_STR) {
                    show(in, a->items[i].s, a->items[i].n, inside);
                    inside = true;
                } else if (a->items[i].t == PV_NUM) {
                    struct mat t = {1, 0, 0, 1, -a->items[i].num / 1000 * in->g.fs * in->g.th, 0};
                    in->tm = mul(t, in->tm);
                }
            }
        } else if (OP("q")) {
            if (in->sp < 32) {
                in->stack[in->sp++] = in->g;
            }
        } else if (OP("Q")) {
            if (in->sp > 0) {
                in->g = in->stack[--in->sp];
            }
        } else if (OP("cm") && nops >= 6) {
            struct mat t = {num_at(ops, nops, nops - 6), num_at(ops, nops, nops - 5),
                            num_at(ops, nops, nops - 4), num_at(ops, nops, nops - 3),
                            num_at(ops, nops, nops - 2), num_at(ops, nops, nops - 1)};
            in->g.ctm = mul(t, in->g.ctm);
        } else if (OP("Do") && nops >= 1) {
            do_xobject(in, &ops[nops - 1], depth);
        } else if (OP("ID")) {
            skip_inline_image(&c);
        }
#undef OP
        nops = 0;
        p->cur = &p->scratch; /* operators may have loaded objects meanwhile */
        arena_reset(&p->scratch, m);
    }
    arena_reset(&p->scratch, m);
    p->cur = saved;
}

/* ---- pages (§7.7.3) --------------------------------------------------------------------------- */

struct walk {
    unsigned pages;
    unsigned nodes;
    bool over;            /* the node limit was hit: every call returns at once */
    struct textpos pos;
};

static void content_of_page(struct pdf *p, const struct pv *page, const struct pv *res,
                            struct walk *w)
{
    const struct pv *cont = dict_get(page, "Contents");
    const struct pv *rc = resolve(p, cont);
    /* the page's streams form one content stream (§7.8.2): concatenate them */
    size_t nref = rc->t == PV_ARR ? rc->n : 1;
    uint8_t *all = NULL;
    size_t an = 0;
    for (size_t i = 0; i < nref; i++) {
        const struct pv *r = rc->t == PV_ARR ? &rc->items[i] : cont;
        if (r->t != PV_REF) {
            continue;
        }
        struct pdf_obj *o = find_obj(p, r->ref);
        if (o == NULL) {
            doc_anomaly(p->d, "missing_object", "a page's content stream is missing");
            continue;
        }
        load(p, o);
        uint8_t *data;
        size_t dn;
        pt_status st = stream_data(p, o, &data, &dn);
        if (st == PT_ENOMEM) {
            p->oom = true;
            break;
        }
        if (st != PT_OK) {
            doc_anomaly(p->d, "content_filter", "a page's content stream uses a filter not "
                                                "decoded");
            continue;
        }
        uint8_t *na = realloc(all, an + dn + 1);
        if (na == NULL) {
            free(data);
            p->oom = true;
            break;
        }
        all = na;
        memcpy(all + an, data, dn);
        an += dn;
        all[an++] = '\n';
        free(data);
    }
    if (w->pages > 0) {
        doc_newline(p->d);
        doc_putc(p->d, '\f');
    }
    w->pages++;
    w->pos.have = false;
    struct interp in = {.p = p, .pos = &w->pos, .res = res};
    in.g.ctm = ident;
    in.g.th = 1;
    in.tm = in.tlm = ident;
    if (all != NULL) {
        run_content(&in, all, an, 0);
    }
    free(all);
}

static void walk_pages(struct pdf *p, const struct pv *node, const struct pv *res, unsigned depth,
                       struct walk *w)
{
    node = resolve(p, node);
    if (node->t != PV_DICT || p->d->stop || p->oom || w->over) {
        return;
    }
    if (depth >= PT_DOC_PDF_DEPTH || w->nodes++ >= 2 * PT_DOC_PDF_MAX_PAGES) {
        /* a Kids array naming its own node thousands of times must not fan out */
        doc_anomaly_kind(p->d, "limit.pdf_pages", "the page tree is too deep or too large");
        w->over = true;
        return;
    }
    const struct pv *r = rget(p, node, "Resources");
    if (r->t == PV_DICT) {
        res = r;
    }
    const struct pv *kids = rget(p, node, "Kids");
    if (kids->t == PV_ARR && !pv_is_name(dict_get(node, "Type"), "Page")) {
        for (size_t i = 0; i < kids->n && !w->over; i++) {
            walk_pages(p, &kids->items[i], res, depth + 1, w);
        }
        return;
    }
    if (w->pages >= PT_DOC_PDF_MAX_PAGES) {
        return;
    }
    content_of_page(p, node, res, w);
}

/* /Root and /Encrypt from the trailers and cross-reference streams; the last one wins. */
static void trailer(struct pdf *p, const struct pv **root, bool *encrypted)
{
    *root = &pv_null;
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
        if (parse(p, &c, &t, 0) && t.t == PV_DICT) {
            if (dict_get(&t, "Root")->t == PV_REF) {
                *root = dict_get(&t, "Root");
            }
            *encrypted |= dict_get(&t, "Encrypt")->t != PV_NULL;
        }
    }
    for (size_t i = 0; i < p->n; i++) {
        const struct pv *v = load(p, &p->o[i]);
        if (pv_is_name(dict_get(v, "Type"), "XRef")) {
            if (dict_get(v, "Root")->t == PV_REF) {
                *root = dict_get(v, "Root");
            }
            *encrypted |= dict_get(v, "Encrypt")->t != PV_NULL;
        }
    }
    if (resolve(p, *root)->t != PV_DICT) {
        for (size_t i = 0; i < p->n; i++) {
            const struct pv *v = load(p, &p->o[i]);
            if (pv_is_name(dict_get(v, "Type"), "Catalog")) {
                *root = v;
            }
        }
    }
}

/* No page tree: every stream that is not typed (content streams carry no /Type) and holds
 * text operators, in file order. */
static void loose_streams(struct pdf *p, struct walk *w)
{
    for (size_t i = 0; i < p->n && !p->d->stop && !p->oom; i++) {
        struct pdf_obj *o = &p->o[i];
        const struct pv *v = load(p, o);
        if (o->stream_off == SIZE_MAX || dict_get(v, "Type")->t != PV_NULL ||
            dict_get(v, "Subtype")->t != PV_NULL) {
            continue;
        }
        uint8_t *data;
        size_t dn;
        if (stream_data(p, o, &data, &dn) != PT_OK) {
            continue;
        }
        if (memmem(data, dn, "BT", 2) != NULL) {
            struct interp in = {.p = p, .pos = &w->pos, .res = &pv_null};
            in.g.ctm = ident;
            in.g.th = 1;
            in.tm = in.tlm = ident;
            run_content(&in, data, dn, 0);
            doc_newline(p->d);
        }
        free(data);
    }
}

void doc_pdf(struct doc *d)
{
    struct pdf p = {.d = d};
    p.cur = &p.a;
    scan_objects(&p);
    settle(&p);
    object_streams(&p);
    const struct pv *root;
    bool encrypted;
    trailer(&p, &root, &encrypted);
    if (encrypted) {
        doc_anomaly_kind(d, "doc.pdf_encrypted", "the PDF is encrypted (/Encrypt): its text "
                                                 "cannot be read without the key");
        d->explained = true;
    } else if (p.n == 0) {
        doc_anomaly(d, "no_objects", "no indirect object found: not a PDF body or cut in the "
                                     "header");
        d->explained = true;
    } else {
        struct walk w = {0};
        const struct pv *pages = rget(&p, root, "Pages");
        if (pages->t == PV_DICT) {
            walk_pages(&p, pages, &pv_null, 0, &w);
        }
        if (w.pages == 0) {
            doc_anomaly(d, "no_page_tree", "no page tree; text streams read in file order");
            loose_streams(&p, &w);
        }
        doc_newline(d);
    }
    if (p.a.full || p.scratch.full) {
        doc_anomaly_kind(d, "limit.pdf_memory", "the parsed PDF exceeds PT_DOC_PDF_MAX_MEMORY; "
                                                "text so far kept");
    }
    if (p.oom) {
        d->out->oom = true;
    }
    for (size_t i = 0; i < p.n_fonts; i++) {
        font_free(p.fonts[i]);
    }
    free(p.fonts);
    free(p.font_keys);
    for (size_t i = 0; i < p.n_stm; i++) {
        free(p.stm[i].b);
    }
    free(p.stm);
    free(p.o);
    arena_free(&p.a);
    arena_free(&p.scratch);
}
