/*
 * doc_pdf_text.c - text out of a parsed PDF (ISO 32000-1): fonts and their encodings (§9.6,
 * simple fonts with WinAnsi/Standard/MacRoman, /Differences and /Widths; Type0 fonts with
 * /DescendantFonts /W /DW), ToUnicode CMaps (§9.10.3), content streams (§9.4 text objects
 * and operators, §8.4.4 graphics state, §8.10 form XObjects) and the page tree (§7.7.3).
 * Layout rules are in doc_pdf.c's header. Untrusted: every value comes from doc_pdf.c's
 * parser; operands are bounded (16 per operator, 32 saved states), forms nest at most
 * PT_DOC_PDF_DEPTH, the page tree stops at its node limit, CMaps at PT_DOC_PDF_MAX_CMAP.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/limits.h"
#include "doc_pdf.h"

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
            int h = pdf_hexval(s[i]);
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
    struct pt_arena *saved = p->cur;
    p->cur = &p->scratch;
    struct pt_arena_mark m = pt_arena_mark(&p->scratch);
    size_t cap = 0;
    enum { NONE, SPACE, CHAR, RANGE } sect = NONE;
    struct pv v[3];
    unsigned nv = 0;
    bool capped = false;
    while (pt_cur_left(&c) > 0 && !p->scratch.full) {
        struct pv t;
        size_t before = c.off;
        if (!pdf_parse(p, &c, &t, 0)) {
            if (c.off == before) {
                pt_cur_skip(&c, 1);
            }
            continue;
        }
        if (t.t == PV_OP) {
            nv = 0;
            sect = pdf_is_op(&t, "begincodespacerange") ? SPACE
                   : pdf_is_op(&t, "beginbfchar")       ? CHAR
                   : pdf_is_op(&t, "beginbfrange")      ? RANGE : NONE;
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
            doc_anomaly_kind(p->d, PT_ANOM_LIMIT_PDF_CMAP,
                             "a ToUnicode CMap with more entries than "
                             "PT_DOC_PDF_MAX_CMAP; the rest ignored");
            break;
        }
    }
    pt_arena_reset(&p->scratch, m);
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
    const struct pv *enc = pdf_rget(p, fd, "Encoding");
    const struct pv *diff = enc->t == PV_DICT ? pdf_rget(p, enc, "Differences") : &pdf_null;
    if (diff->t != PV_ARR) {
        return;
    }
    long code = -1;
    for (size_t i = 0; i < diff->n; i++) {
        const struct pv *it = pdf_resolve(p, &diff->items[i]);
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
    const struct pv *base = pdf_rget(p, fd, "BaseFont");
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
        const struct pv *fc = pdf_rget(p, fd, "FirstChar"), *w = pdf_rget(p, fd, "Widths");
        if (fc->t == PV_NUM && w->t == PV_ARR && fc->num >= 0 && fc->num < 256) {
            for (size_t i = 0; i < w->n && (size_t)fc->num + i < 256; i++) {
                const struct pv *x = pdf_resolve(p, &w->items[i]);
                if (x->t == PV_NUM && x->num > 0 && x->num < 10000) {
                    f->widths[(size_t)fc->num + i] = x->num;
                }
            }
        }
        return;
    }
    const struct pv *desc = pdf_rget(p, fd, "DescendantFonts");
    const struct pv *cf = desc->t == PV_ARR && desc->n > 0 ? pdf_resolve(p, &desc->items[0]) : desc;
    const struct pv *dw = pdf_rget(p, cf, "DW"), *w = pdf_rget(p, cf, "W");
    if (dw->t == PV_NUM && dw->num > 0 && dw->num < 10000) {
        f->dw = dw->num;
    }
    if (w->t != PV_ARR) {
        return;
    }
    size_t cap = 0;
    for (size_t i = 0; i < w->n;) {
        const struct pv *a = pdf_resolve(p, &w->items[i]);
        const struct pv *b = i + 1 < w->n ? pdf_resolve(p, &w->items[i + 1]) : &pdf_null;
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
                const struct pv *x = pdf_resolve(p, &b->items[k]);
                f->w[f->n_w].lo = f->w[f->n_w].hi = first + (uint32_t)k;
                f->w[f->n_w++].w = x->t == PV_NUM ? x->num : f->dw;
            }
            i += 2;
        } else {
            const struct pv *x = pdf_resolve(p, &w->items[i + 2]);
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
    fd = pdf_resolve(p, fd);
    if (fd->t != PV_DICT) {
        return NULL;
    }
    for (size_t i = 0; i < p->n_fonts; i++) {
        if (p->font_keys[i] == fd) {
            return p->fonts[i];
        }
    }
    if (p->n_fonts >= PT_DOC_PDF_MAX_FONTS) {
        doc_anomaly_kind(p->d, PT_ANOM_LIMIT_PDF_FONTS, "more fonts than PT_DOC_PDF_MAX_FONTS");
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
    f->cid = pdf_is_name(pdf_rget(p, fd, "Subtype"), "Type0");
    f->code_len = f->cid ? 2 : 1;
    font_encoding(p, f, fd);
    font_widths(p, f, fd);
    const struct pv *tu = pdf_dict_get(fd, "ToUnicode");
    if (tu->t == PV_REF) {
        struct pdf_obj *o = pdf_find(p, tu->ref);
        if (o != NULL) {
            pdf_load(p, o);
            uint8_t *data;
            size_t dn;
            pt_status st = pdf_stream(p, o, &data, &dn);
            if (st == PT_OK) {
                parse_cmap(p, f, data, dn);
                free(data);
            } else if (st == PT_ENOMEM) {
                p->oom = true;
            } else {
                doc_anomaly(p->d, PT_ANOM_DOC_TOUNICODE_UNREADABLE,
                            "a font's ToUnicode CMap stream "
                            "cannot be decoded");
            }
        }
    }
    if (f->cid && f->n_map == 0) {
        doc_anomaly(p->d, PT_ANOM_DOC_NO_TOUNICODE,
                    "a composite font without a ToUnicode CMap: its text "
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
    const struct pv *xo = pdf_rget(p, in->res, "XObject");
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
    struct pdf_obj *o = pdf_find(p, ref->ref);
    if (o == NULL) {
        return;
    }
    const struct pv *v = pdf_load(p, o);
    if (!pdf_is_name(pdf_dict_get(v, "Subtype"), "Form")) {
        return;
    }
    uint8_t *data;
    size_t dn;
    pt_status st = pdf_stream(p, o, &data, &dn);
    if (st != PT_OK) {
        if (st == PT_ENOMEM) {
            p->oom = true;
        } else if (st == PT_EUNSUPPORTED) {
            doc_anomaly(p->d, PT_ANOM_DOC_FORM_FILTER, "a form XObject uses a filter not decoded");
        }
        return;
    }
    struct interp sub = *in;
    sub.sp = 0;
    const struct pv *r = pdf_rget(p, v, "Resources");
    if (r->t == PV_DICT) {
        sub.res = r;
    }
    const struct pv *m = pdf_rget(p, v, "Matrix");
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
    const struct pv *fonts = pdf_rget(in->p, in->res, "Font");
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
    struct pt_arena *saved = p->cur;
    p->cur = &p->scratch;
    struct pt_arena_mark m = pt_arena_mark(&p->scratch);
    while (pt_cur_left(&c) > 0 && !p->d->stop && !p->scratch.full) {
        struct pv v;
        size_t before = c.off;
        if (!pdf_parse(p, &c, &v, 0)) {
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
        pt_arena_reset(&p->scratch, m);
    }
    pt_arena_reset(&p->scratch, m);
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
    const struct pv *cont = pdf_dict_get(page, "Contents");
    const struct pv *rc = pdf_resolve(p, cont);
    /* the page's streams form one content stream (§7.8.2): concatenate them */
    size_t nref = rc->t == PV_ARR ? rc->n : 1;
    uint8_t *all = NULL;
    size_t an = 0;
    for (size_t i = 0; i < nref; i++) {
        const struct pv *r = rc->t == PV_ARR ? &rc->items[i] : cont;
        if (r->t != PV_REF) {
            continue;
        }
        struct pdf_obj *o = pdf_find(p, r->ref);
        if (o == NULL) {
            doc_anomaly(p->d, PT_ANOM_DOC_MISSING_OBJECT, "a page's content stream is missing");
            continue;
        }
        pdf_load(p, o);
        uint8_t *data;
        size_t dn;
        pt_status st = pdf_stream(p, o, &data, &dn);
        if (st == PT_ENOMEM) {
            p->oom = true;
            break;
        }
        if (st != PT_OK) {
            doc_anomaly(p->d, PT_ANOM_DOC_CONTENT_FILTER,
                        "a page's content stream uses a filter not "
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
    node = pdf_resolve(p, node);
    if (node->t != PV_DICT || p->d->stop || p->oom || w->over) {
        return;
    }
    if (depth >= PT_DOC_PDF_DEPTH || w->nodes++ >= 2 * PT_DOC_PDF_MAX_PAGES) {
        /* a Kids array naming its own node thousands of times must not fan out */
        doc_anomaly_kind(p->d, PT_ANOM_LIMIT_PDF_PAGES, "the page tree is too deep or too large");
        w->over = true;
        return;
    }
    const struct pv *r = pdf_rget(p, node, "Resources");
    if (r->t == PV_DICT) {
        res = r;
    }
    const struct pv *kids = pdf_rget(p, node, "Kids");
    if (kids->t == PV_ARR && !pdf_is_name(pdf_dict_get(node, "Type"), "Page")) {
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

/* No page tree: every stream that is not typed (content streams carry no /Type) and holds
 * text operators, in file order. */
static void loose_streams(struct pdf *p, struct walk *w)
{
    for (size_t i = 0; i < p->n && !p->d->stop && !p->oom; i++) {
        struct pdf_obj *o = &p->o[i];
        const struct pv *v = pdf_load(p, o);
        if (o->stream_off == SIZE_MAX || pdf_dict_get(v, "Type")->t != PV_NULL ||
            pdf_dict_get(v, "Subtype")->t != PV_NULL) {
            continue;
        }
        uint8_t *data;
        size_t dn;
        if (pdf_stream(p, o, &data, &dn) != PT_OK) {
            continue;
        }
        if (memmem(data, dn, "BT", 2) != NULL) {
            struct interp in = {.p = p, .pos = &w->pos, .res = &pdf_null};
            in.g.ctm = ident;
            in.g.th = 1;
            in.tm = in.tlm = ident;
            run_content(&in, data, dn, 0);
            doc_newline(p->d);
        }
        free(data);
    }
}


void pdf_text(struct pdf *p, const struct pv *root)
{
    struct walk w = {0};
    const struct pv *pages = pdf_rget(p, root, "Pages");
    if (pages->t == PV_DICT) {
        walk_pages(p, pages, &pdf_null, 0, &w);
    }
    if (w.pages == 0) {
        doc_anomaly(p->d, PT_ANOM_DOC_NO_PAGE_TREE,
                    "no page tree; text streams read in file order");
        loose_streams(p, &w);
    }
    doc_newline(p->d);
}

void pdf_fonts_free(struct pdf *p)
{
    for (size_t i = 0; i < p->n_fonts; i++) {
        font_free(p->fonts[i]);
    }
    free(p->fonts);
    free(p->font_keys);
}
