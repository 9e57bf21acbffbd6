/*
 * doc_ooxml.c - the text of Office Open XML packages: DOCX, XLSX, PPTX.
 *
 * ECMA-376 5th edition. Part 2 (OPC): [Content_Types].xml names the main part by its
 * content type (§10.1.2); relationships live in <dir>/_rels/<part>.rels (§9.3), targets
 * relative to the source part's folder. Part 1:
 *   WordprocessingML (§17): w:body > w:p (paragraph) > w:r (run) > w:t | w:tab | w:br | w:cr;
 *     w:tbl > w:tr > w:tc > w:p; w:br w:type="page" and w:pPr/w:sectPr are page breaks.
 *   SpreadsheetML (§18): xl/workbook.xml lists the sheets (r:id) in order; sharedStrings.xml
 *     the strings (si > t | r > t; rPh is phonetic text, skipped); styles.xml cellXfs map a
 *     cell's s attribute to a numFmtId (built-in ids §18.8.30, custom numFmts); a sheet's
 *     sheetData > row > c (r="B7", t="s|inlineStr|str|b|e|d|n", s) > v | is.
 *     Dates are serial days (1900 system with its phantom 1900-02-29, or 1904: §18.17.4.1).
 *   PresentationML (§19): ppt/presentation.xml p:sldIdLst > p:sldId r:id in show order; each
 *     slide's a:p > a:r > a:t, a:br; tables a:tbl > a:tr > a:tc.
 * mc:AlternateContent keeps mc:Choice; mc:Fallback repeats the content and is skipped.
 * Untrusted: members inflate under the PT_DOC_* limits; XML is read by doc_xml.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/limits.h"
#include "doc_int.h"

/* ---- package structure ------------------------------------------------------------------------ */

struct rel {
    char id[64];
    char type[48];   /* last path segment of the relationship type */
    char target[256]; /* resolved part name, no leading '/' */
};

struct rels {
    struct rel *r;
    size_t n, cap;
};

/* Copy src into dst[cap], cut to fit (names of parts are ASCII). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t l = strnlen(src, cap - 1);
    memcpy(dst, src, l);
    dst[l] = '\0';
}

static void rels_free(struct rels *rs)
{
    free(rs->r);
    memset(rs, 0, sizeof *rs);
}

/* Resolve `target` against the folder of `source` (part names without a leading '/'). */
static void resolve(const char *source, const char *target, char *out, size_t cap)
{
    char buf[512];
    if (target[0] == '/') {
        snprintf(buf, sizeof buf, "%s", target + 1);
    } else {
        const char *slash = strrchr(source, '/');
        int dl = slash == NULL ? 0 : (int)(slash - source + 1);
        snprintf(buf, sizeof buf, "%.*s%s", dl, source, target);
    }
    /* remove "./" and "x/../" segments */
    char seg[64][256];
    size_t ns = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, "/", &save); t != NULL; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0) {
            continue;
        }
        if (strcmp(t, "..") == 0) {
            if (ns > 0) {
                ns--;
            }
            continue;
        }
        if (ns < 64) {
            copy_str(seg[ns++], sizeof seg[0], t);
        }
    }
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ns; i++) {
        int w = snprintf(out + o, cap - o, "%s%s", i ? "/" : "", seg[i]);
        if (w < 0 || (size_t)w >= cap - o) {
            break;
        }
        o += (size_t)w;
    }
}

static void bad_xml(struct doc *d, const char *part)
{
    char msg[320];
    snprintf(msg, sizeof msg, "malformed or too deeply nested XML in %.200s; text up to there "
             "kept", part);
    doc_anomaly(d, PT_ANOM_DOC_BAD_XML, msg);
}

/* The relationships of `part`. Absent rels are not an error: a part may have none. */
static pt_status read_rels(struct doc *d, const struct doc_zip *z, const char *part,
                           struct rels *rs)
{
    char path[512];
    const char *slash = strrchr(part, '/');
    int dl = slash == NULL ? 0 : (int)(slash - part + 1);
    snprintf(path, sizeof path, "%.*s_rels/%s.rels", dl, part, part + dl);
    uint8_t *m;
    size_t mn;
    pt_status st = doc_zip_read(d, z, path, &m, &mn);
    if (st != PT_OK) {
        return st == PT_ENOMEM ? st : PT_OK;
    }
    struct xml x;
    xml_init(&x, m, mn);
    enum xml_tok t;
    while ((t = xml_next(&x)) != XML_EOF && t != XML_BAD) {
        if ((t != XML_OPEN && t != XML_EMPTY) || !xml_is(&x, "Relationship")) {
            continue;
        }
        char mode[32];
        if (xml_attr_str(&x, "TargetMode", mode, sizeof mode) && strcmp(mode, "External") == 0) {
            continue;
        }
        struct rel r = {0};
        char type[256] = "", target[256] = "";
        if (!xml_attr_str(&x, "Id", r.id, sizeof r.id) ||
            !xml_attr_str(&x, "Target", target, sizeof target)) {
            continue;
        }
        xml_attr_str(&x, "Type", type, sizeof type);
        const char *tail = strrchr(type, '/');
        copy_str(r.type, sizeof r.type, tail ? tail + 1 : type);
        resolve(part, target, r.target, sizeof r.target);
        if (rs->n == rs->cap) {
            if (rs->cap >= 4 * PT_DOC_MAX_PARTS) {
                break;
            }
            size_t nc = rs->cap ? rs->cap * 2 : 16;
            struct rel *nr = realloc(rs->r, nc * sizeof *nr);
            if (nr == NULL) {
                free(m);
                return PT_ENOMEM;
            }
            rs->r = nr;
            rs->cap = nc;
        }
        rs->r[rs->n++] = r;
    }
    if (t == XML_BAD) {
        bad_xml(d, path);
    }
    free(m);
    return PT_OK;
}

static const char *rel_by_id(const struct rels *rs, const char *id)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (strcmp(rs->r[i].id, id) == 0) {
            return rs->r[i].target;
        }
    }
    return NULL;
}

static const char *rel_by_type(const struct rels *rs, const char *type)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (strcmp(rs->r[i].type, type) == 0) {
            return rs->r[i].target;
        }
    }
    return NULL;
}

/* The main part from [Content_Types].xml: the Override whose type is the document's. */
static void main_part(struct doc *d, const struct doc_zip *z, enum pt_doc_kind k, char *out,
                      size_t cap)
{
    const char *dflt = k == PT_DOC_DOCX ? "word/document.xml"
                       : k == PT_DOC_XLSX ? "xl/workbook.xml" : "ppt/presentation.xml";
    snprintf(out, cap, "%s", dflt);
    uint8_t *m;
    size_t mn;
    if (doc_zip_read(d, z, "[Content_Types].xml", &m, &mn) != PT_OK) {
        return;
    }
    const char *want[] = {k == PT_DOC_DOCX ? "wordprocessingml" : k == PT_DOC_XLSX
                                                                    ? "spreadsheetml"
                                                                    : "presentationml",
                          k == PT_DOC_DOCX ? "ms-word" : k == PT_DOC_XLSX ? "ms-excel"
                                                                          : "ms-powerpoint"};
    struct xml x;
    xml_init(&x, m, mn);
    enum xml_tok t;
    while ((t = xml_next(&x)) != XML_EOF && t != XML_BAD) {
        if ((t != XML_OPEN && t != XML_EMPTY) || !xml_is(&x, "Override")) {
            continue;
        }
        char ct[256], pn[256];
        if (!xml_attr_str(&x, "ContentType", ct, sizeof ct) ||
            !xml_attr_str(&x, "PartName", pn, sizeof pn)) {
            continue;
        }
        size_t l = strlen(ct);
        bool is_main = l > 9 && strcmp(ct + l - 9, ".main+xml") == 0;
        if (is_main && (strstr(ct, want[0]) != NULL || strstr(ct, want[1]) != NULL)) {
            resolve("", pn, out, cap);
            break;
        }
    }
    free(m);
}

/* Text of a cell: tabs and line ends inside it would break the row's columns. */
static bool put_cell(struct doc *d, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v') {
            if ((i > run && !doc_put(d, s + run, i - run)) || !doc_putc(d, ' ')) {
                return false;
            }
            run = i + 1;
        }
    }
    return n > run ? doc_put(d, s + run, n - run) : !d->stop;
}

static void trim_spaces(struct doc *d)
{
    while (d->out->n > 0 && d->out->p[d->out->n - 1] == ' ') {
        d->out->n--;
    }
}

/* ---- DOCX and PPTX: paragraphs, runs, tables -------------------------------------------------- */

/* End of a paragraph outside tables: one line; an empty paragraph leaves one empty line. */
static void para_end(struct doc *d)
{
    struct pt_doc_text *t = d->out;
    trim_spaces(d);
    if (doc_last(d) != '\n' && doc_last(d) != '\f') {
        doc_putc(d, '\n');
    } else if (t->n >= 2 && t->p[t->n - 2] != '\n' && t->p[t->n - 1] == '\n') {
        doc_putc(d, '\n');
    }
}

/* One text body: WordprocessingML (word) or DrawingML (slides). */
static void flow_text(struct doc *d, const uint8_t *m, size_t mn, const char *part, bool word)
{
    struct xml x;
    xml_init(&x, m, mn);
    unsigned in_t = 0, in_r = 0, in_ppr = 0, cells = 0, rows = 0;
    bool page_after = false;
    enum xml_tok t;
    while (!d->stop && (t = xml_next(&x)) != XML_EOF) {
        if (t == XML_BAD) {
            bad_xml(d, part);
            break;
        }
        if (t == XML_TEXT || t == XML_CDATA) {
            if (in_t > 0) {
                xml_put_token(d, &x, t, cells > 0);
            }
            continue;
        }
        bool open = t == XML_OPEN, empty = t == XML_EMPTY, close = t == XML_CLOSE;
        if (open && (xml_is(&x, "Fallback") || xml_is(&x, "instrText") ||
                     xml_is(&x, "fldData") || xml_is(&x, "rPh"))) {
            if (xml_skip(&x) == XML_BAD) {
                bad_xml(d, part);
                break;
            }
            continue;
        }
        if (xml_is(&x, "t") || xml_is(&x, "delText")) {
            in_t += open;
            in_t -= close && in_t > 0;
        } else if (xml_is(&x, "r")) {
            in_r += open;
            in_r -= close && in_r > 0;
        } else if (xml_is(&x, "pPr")) {
            in_ppr += open;
            in_ppr -= close && in_ppr > 0;
        } else if (xml_is(&x, "sectPr") && in_ppr > 0 && (open || empty)) {
            page_after = true; /* a section break ends this paragraph (§17.6.18) */
        } else if (xml_is(&x, "tab") && (open || empty) && in_r > 0) {
            doc_putc(d, cells > 0 ? ' ' : '\t');
        } else if ((xml_is(&x, "br") || xml_is(&x, "cr")) && (open || empty) && in_ppr == 0) {
            char type[16];
            xml_attr_str(&x, "type", type, sizeof type);
            if (word && strcmp(type, "page") == 0 && cells == 0) {
                doc_newline(d);
                doc_putc(d, '\f');
            } else {
                doc_putc(d, cells > 0 ? ' ' : '\n');
            }
        } else if (xml_is(&x, "noBreakHyphen") && (open || empty)) {
            doc_putc(d, '-');
        } else if (xml_is(&x, "p") && close) {
            if (cells > 0) {
                if (doc_last(d) != ' ' && doc_last(d) != '\t') {
                    doc_putc(d, ' ');
                }
            } else {
                para_end(d);
                if (page_after) {
                    doc_putc(d, '\f');
                }
            }
            page_after = false;
        } else if (xml_is(&x, "tc")) {
            if (open) {
                cells++;
            } else if (close && cells > 0) {
                cells--;
                trim_spaces(d);
                doc_putc(d, cells > 0 ? ' ' : '\t');
            }
        } else if (xml_is(&x, "tr")) {
            if (open) {
                rows++;
                if (cells == 0) {
                    doc_newline(d);
                }
            } else if (close && rows > 0) {
                rows--;
                if (cells == 0) {
                    doc_newline(d);
                }
            }
        }
    }
}

static void read_flow(struct doc *d, const struct doc_zip *z, const char *part, bool word);

/* Headers, footers, footnotes, endnotes and comments (§17.10-17.13) hold text too (a
 * patient's name in every page header): after the body, each part once, FF before each. */
static void docx_more(struct doc *d, const struct doc_zip *z, const char *main)
{
    static const char *const types[] = {"header", "footer", "footnotes", "endnotes", "comments"};
    struct rels rs = {0};
    if (read_rels(d, z, main, &rs) != PT_OK) {
        return;
    }
    for (size_t t = 0; t < sizeof types / sizeof types[0] && !d->stop; t++) {
        for (size_t i = 0; i < rs.n && !d->stop; i++) {
            if (strcmp(rs.r[i].type, types[t]) != 0) {
                continue;
            }
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++) {
                seen = strcmp(rs.r[j].target, rs.r[i].target) == 0;
            }
            if (seen) {
                continue;
            }
            size_t before = d->out->n;
            doc_newline(d);
            doc_putc(d, '\f');
            size_t mark = d->out->n;
            read_flow(d, z, rs.r[i].target, true);
            if (d->out->n == mark) {
                d->out->n = before; /* an empty header leaves no page break */
            }
        }
    }
    rels_free(&rs);
}

static void read_flow(struct doc *d, const struct doc_zip *z, const char *part, bool word)
{
    uint8_t *m;
    size_t mn;
    pt_status st = doc_zip_read(d, z, part, &m, &mn);
    if (st != PT_OK) {
        char msg[320];
        snprintf(msg, sizeof msg, "the part %s is missing or unreadable", part);
        doc_anomaly(d, PT_ANOM_DOC_MISSING_PART, msg);
        return;
    }
    flow_text(d, m, mn, part, word);
    free(m);
}

/* The ordered r:id list of `list_elem` > `item_elem` in a main part, resolved to parts. */
static pt_status ordered_parts(struct doc *d, const struct doc_zip *z, const char *main,
                               const char *item_elem, char (**parts)[256], size_t *np,
                               bool *date1904)
{
    *parts = NULL;
    *np = 0;
    struct rels rs = {0};
    PT_TRY(read_rels(d, z, main, &rs));
    uint8_t *m;
    size_t mn;
    if (doc_zip_read(d, z, main, &m, &mn) != PT_OK) {
        char msg[320];
        snprintf(msg, sizeof msg, "the main part %s is missing or unreadable", main);
        doc_anomaly(d, PT_ANOM_DOC_MISSING_PART, msg);
        rels_free(&rs);
        return PT_OK;
    }
    char (*list)[256] = calloc(PT_DOC_MAX_PARTS, sizeof *list);
    if (list == NULL) {
        free(m);
        rels_free(&rs);
        return PT_ENOMEM;
    }
    struct xml x;
    xml_init(&x, m, mn);
    enum xml_tok t;
    size_t n = 0;
    while ((t = xml_next(&x)) != XML_EOF && t != XML_BAD) {
        if (t != XML_OPEN && t != XML_EMPTY) {
            continue;
        }
        char v[64];
        if (date1904 != NULL && xml_is(&x, "workbookPr") &&
            xml_attr_str(&x, "date1904", v, sizeof v)) {
            *date1904 = strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
        }
        if (!xml_is(&x, item_elem) || !xml_attr_rel(&x, v, sizeof v)) {
            continue;
        }
        const char *target = rel_by_id(&rs, v);
        if (target == NULL) {
            doc_anomaly(d, PT_ANOM_DOC_BAD_RELATIONSHIP,
                        "a sheet or slide names a missing relationship");
            continue;
        }
        if (n == PT_DOC_MAX_PARTS) {
            doc_anomaly_kind(d, PT_ANOM_LIMIT_DOC_PARTS,
                             "more sheets or slides than PT_DOC_MAX_PARTS");
            break;
        }
        snprintf(list[n++], sizeof list[0], "%s", target);
    }
    if (t == XML_BAD) {
        bad_xml(d, main);
    }
    free(m);
    rels_free(&rs);
    *parts = list;
    *np = n;
    return PT_OK;
}

static void pptx(struct doc *d, const struct doc_zip *z, const char *main)
{
    char (*slides)[256];
    size_t ns;
    if (ordered_parts(d, z, main, "sldId", &slides, &ns, NULL) != PT_OK) {
        return;
    }
    for (size_t i = 0; i < ns && !d->stop; i++) {
        if (i > 0) {
            doc_newline(d);
            doc_putc(d, '\f');
        }
        read_flow(d, z, slides[i], false);
    }
    free(slides);
}

/* ---- XLSX ------------------------------------------------------------------------------------- */

struct sst {
    struct pt_doc_text pool;
    size_t *off, *len;
    size_t n, cap;
};

static void sst_free(struct sst *s)
{
    pt_doc_text_fini(&s->pool);
    free(s->off);
    free(s->len);
}

static pt_status read_sst(struct doc *d, const struct doc_zip *z, const char *part, struct sst *s)
{
    uint8_t *m;
    size_t mn;
    if (doc_zip_read(d, z, part, &m, &mn) != PT_OK) {
        doc_anomaly(d, PT_ANOM_DOC_MISSING_PART,
                    "the shared strings part is missing or unreadable");
        return PT_OK;
    }
    struct doc pd = *d; /* same budget and sink, output into the pool */
    pd.out = &s->pool;
    pd.stop = false;
    struct xml x;
    xml_init(&x, m, mn);
    enum xml_tok t;
    unsigned in_t = 0;
    size_t start = 0;
    pt_status rc = PT_OK;
    while (!pd.stop && (t = xml_next(&x)) != XML_EOF) {
        if (t == XML_BAD) {
            bad_xml(d, part);
            break;
        }
        if (t == XML_TEXT || t == XML_CDATA) {
            if (in_t > 0) {
                xml_put_token(&pd, &x, t, false);
            }
        } else if (t == XML_OPEN && xml_is(&x, "rPh")) {
            xml_skip(&x);
        } else if (xml_is(&x, "t")) {
            in_t += t == XML_OPEN;
            in_t -= t == XML_CLOSE && in_t > 0;
        } else if (xml_is(&x, "si") && t == XML_OPEN) {
            start = s->pool.n;
        } else if (xml_is(&x, "si") && (t == XML_CLOSE || t == XML_EMPTY)) {
            if (t == XML_EMPTY) {
                start = s->pool.n;
            }
            if (s->n == s->cap) {
                size_t nc = s->cap ? s->cap * 2 : 1024;
                size_t *no = realloc(s->off, nc * sizeof *no);
                if (no == NULL) {
                    rc = PT_ENOMEM;
                    break;
                }
                s->off = no;
                size_t *nl = realloc(s->len, nc * sizeof *nl);
                if (nl == NULL) {
                    rc = PT_ENOMEM;
                    break;
                }
                s->len = nl;
                s->cap = nc;
            }
            s->off[s->n] = start;
            s->len[s->n] = s->pool.n - start;
            s->n++;
        }
    }
    d->inflated = pd.inflated;
    d->anomalies = pd.anomalies;
    free(m);
    return rc;
}

/* ECMA-376 part 1 §18.8.30: built-in number formats that show a date. */
static bool builtin_date(unsigned id)
{
    return (id >= 14 && id <= 17) || id == 22 || (id >= 27 && id <= 36) || (id >= 50 && id <= 58);
}

/* A custom format code shows a date when it has a year or day part, or a month without hours
 * or seconds (then "m" is a month, §18.8.31); quoted text, escapes and [..] are not parts. */
static bool code_is_date(const char *f)
{
    bool y = false, dd = false, m = false, hs = false;
    for (size_t i = 0; f[i] != '\0'; i++) {
        char c = f[i];
        if (c == '"') {
            while (f[i + 1] != '\0' && f[i + 1] != '"') {
                i++;
            }
            if (f[i + 1] != '\0') {
                i++;
            }
        } else if (c == '\\' || c == '_' || c == '*') {
            if (f[i + 1] != '\0') {
                i++;
            }
        } else if (c == '[') {
            while (f[i + 1] != '\0' && f[i] != ']') {
                i++;
            }
        } else if (c == ';') {
            break; /* the first section decides */
        } else if (c == 'y' || c == 'Y' || c == 'e') {
            y = true;
        } else if (c == 'd' || c == 'D') {
            dd = true;
        } else if (c == 'm' || c == 'M') {
            m = true;
        } else if (c == 'h' || c == 'H' || c == 's' || c == 'S') {
            hs = true;
        }
    }
    return y || dd || (m && !hs);
}

/* styles.xml: for each cellXfs index, whether its number format is a date. */
static pt_status read_styles(struct doc *d, const struct doc_zip *z, const char *part,
                             bool **is_date, size_t *n_xf)
{
    *is_date = NULL;
    *n_xf = 0;
    uint8_t *m;
    size_t mn;
    if (part == NULL || doc_zip_read(d, z, part, &m, &mn) != PT_OK) {
        return PT_OK; /* no styles: no dates */
    }
    enum { MAX_FMTS = 1024, MAX_XF = 65536 };
    unsigned fmt_id[MAX_FMTS];
    bool fmt_date[MAX_FMTS];
    size_t nf = 0;
    bool *xf = calloc(MAX_XF, sizeof *xf);
    if (xf == NULL) {
        free(m);
        return PT_ENOMEM;
    }
    size_t nx = 0;
    unsigned in_cellxfs = 0;
    struct xml x;
    xml_init(&x, m, mn);
    enum xml_tok t;
    while ((t = xml_next(&x)) != XML_EOF && t != XML_BAD) {
        if (xml_is(&x, "cellXfs")) {
            in_cellxfs += t == XML_OPEN;
            in_cellxfs -= t == XML_CLOSE && in_cellxfs > 0;
            continue;
        }
        if (t != XML_OPEN && t != XML_EMPTY) {
            continue;
        }
        char v[512];
        if (xml_is(&x, "numFmt") && nf < MAX_FMTS && xml_attr_str(&x, "numFmtId", v, sizeof v)) {
            fmt_id[nf] = (unsigned)strtoul(v, NULL, 10);
            xml_attr_str(&x, "formatCode", v, sizeof v);
            fmt_date[nf++] = code_is_date(v);
        } else if (xml_is(&x, "xf") && in_cellxfs > 0 && nx < MAX_XF) {
            unsigned id = xml_attr_str(&x, "numFmtId", v, sizeof v)
                              ? (unsigned)strtoul(v, NULL, 10) : 0;
            bool date = builtin_date(id);
            for (size_t i = 0; i < nf; i++) {
                if (fmt_id[i] == id) {
                    date = fmt_date[i];
                }
            }
            xf[nx++] = date;
        }
    }
    if (t == XML_BAD) {
        bad_xml(d, part);
    }
    free(m);
    *is_date = xf;
    *n_xf = nx;
    return PT_OK;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm, proleptic Gregorian). */
static void civil(long long z, int *y, unsigned *mo, unsigned *da)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = (long long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *da = doy - (153 * mp + 2) / 5 + 1;
    *mo = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*mo <= 2));
}

/* A serial date to YYYY-MM-DD; false when out of Excel's range (then shown as written). */
static bool serial_date(const char *v, bool date1904, char out[32])
{
    char *end;
    double s = strtod(v, &end);
    if (end == v || *end != '\0' || !(s >= 0 && s < 2958466)) {
        return false;
    }
    long long days = (long long)floor(s);
    if (!date1904 && days == 60) {
        snprintf(out, 32, "1900-02-29"); /* the day Lotus 1-2-3 invented */
        return true;
    }
    /* days since 1970-01-01: 1904 system from 1904-01-01 (serial 0); 1900 system from
     * 1899-12-31 up to serial 59, from 1899-12-30 after the phantom day */
    long long z = date1904 ? -24107 + days : days < 60 ? -25568 + days : -25569 + days;
    int y;
    unsigned mo, da;
    civil(z, &y, &mo, &da);
    snprintf(out, 32, "%04d-%02u-%02u", y, mo, da);
    return true;
}

/* "BC12" to column index 54 (0-based); UINT32_MAX when absent or malformed. */
static uint32_t col_of(const char *r)
{
    uint32_t c = 0;
    size_t i = 0;
    for (; r[i] >= 'A' && r[i] <= 'Z' && i < 4; i++) {
        c = c * 26 + (uint32_t)(r[i] - 'A' + 1);
    }
    return i == 0 ? UINT32_MAX : c - 1;
}

struct sheet_ctx {
    const struct sst *sst;
    const bool *xf_date;
    size_t n_xf;
    bool date1904;
};

static void emit_cell(struct doc *d, const struct sheet_ctx *sc, const char *type, unsigned style,
                      const char *v, size_t vn, const char *is, size_t isn)
{
    char date[32];
    if (strcmp(type, "s") == 0) {
        char *end;
        unsigned long i = strtoul(v, &end, 10);
        if (end == v || i >= sc->sst->n) {
            doc_anomaly(d, PT_ANOM_DOC_BAD_SHARED_STRING,
                        "a cell names a shared string that is absent");
            return;
        }
        if (sc->sst->len[i] > 0) {
            put_cell(d, sc->sst->pool.p + sc->sst->off[i], sc->sst->len[i]);
        }
    } else if (strcmp(type, "inlineStr") == 0) {
        put_cell(d, is, isn);
    } else if (strcmp(type, "b") == 0) {
        doc_put(d, v[0] == '1' ? "TRUE" : "FALSE", v[0] == '1' ? 4 : 5);
    } else if (strcmp(type, "d") == 0) {
        put_cell(d, v, vn < 10 ? vn : 10); /* ISO 8601: the date part */
    } else if ((type[0] == '\0' || strcmp(type, "n") == 0) && style < sc->n_xf &&
               sc->xf_date[style] && serial_date(v, sc->date1904, date)) {
        doc_put(d, date, strlen(date));
    } else {
        put_cell(d, v, vn);
    }
}

static void read_sheet(struct doc *d, const struct doc_zip *z, const char *part,
                       const struct sheet_ctx *sc)
{
    uint8_t *m;
    size_t mn;
    if (doc_zip_read(d, z, part, &m, &mn) != PT_OK) {
        char msg[320];
        snprintf(msg, sizeof msg, "the sheet %s is missing or unreadable", part);
        doc_anomaly(d, PT_ANOM_DOC_MISSING_PART, msg);
        return;
    }
    struct xml x;
    xml_init(&x, m, mn);
    enum xml_tok t;
    /* the current cell: its value (v) and inline string (is) gathered decoded */
    struct pt_doc_text vbuf = {0}, isbuf = {0};
    struct doc vd = *d, id = *d;
    vd.out = &vbuf;
    id.out = &isbuf;
    char type[16] = "", ref[32] = "";
    unsigned style = 0;
    bool in_c = false, in_v = false, in_is_t = false, in_is = false;
    long long last = -1; /* column of the last cell written on this row */
    while (!d->stop && (t = xml_next(&x)) != XML_EOF) {
        if (t == XML_BAD) {
            bad_xml(d, part);
            break;
        }
        if (t == XML_TEXT || t == XML_CDATA) {
            if (in_v || in_is_t) {
                xml_put_token(in_v ? &vd : &id, &x, t, false);
            }
            continue;
        }
        if (xml_is(&x, "row")) {
            if (t == XML_OPEN || t == XML_EMPTY) {
                doc_newline(d);
                last = -1;
            }
            if (t == XML_CLOSE) {
                doc_newline(d);
            }
        } else if (xml_is(&x, "c") && (t == XML_OPEN || t == XML_EMPTY)) {
            in_c = t == XML_OPEN;
            xml_attr_str(&x, "t", type, sizeof type);
            xml_attr_str(&x, "r", ref, sizeof ref);
            char s[16];
            style = xml_attr_str(&x, "s", s, sizeof s) ? (unsigned)strtoul(s, NULL, 10) : 0;
            vbuf.n = isbuf.n = 0;
            vd.stop = id.stop = false;
        } else if (xml_is(&x, "c") && t == XML_CLOSE && in_c) {
            in_c = false;
            if (vbuf.n == 0 && isbuf.n == 0) {
                continue; /* a styled empty cell */
            }
            uint32_t col = col_of(ref);
            long long k = col == UINT32_MAX ? last + 1 : (long long)col;
            if (k >= PT_DOC_MAX_COLUMNS) {
                doc_anomaly_kind(d, PT_ANOM_LIMIT_DOC_COLUMNS, "a cell beyond PT_DOC_MAX_COLUMNS");
                continue;
            }
            long long tabs = k > last ? k - (last < 0 ? 0 : last) : 1;
            if (last < 0 && k == 0) {
                tabs = 0;
            }
            for (long long i = 0; i < tabs; i++) {
                doc_putc(d, '\t');
            }
            last = k > last ? k : last + 1;
            /* NUL-terminate the value for number parsing (a copy; bounded) */
            char num[64];
            size_t vn = vbuf.n < sizeof num - 1 ? vbuf.n : sizeof num - 1;
            memcpy(num, vbuf.p ? vbuf.p : "", vn);
            num[vn] = '\0';
            if (strcmp(type, "s") == 0 || strcmp(type, "b") == 0 || type[0] == '\0' ||
                strcmp(type, "n") == 0) {
                emit_cell(d, sc, type, style, num, vn, isbuf.p, isbuf.n);
            } else {
                emit_cell(d, sc, type, style, vbuf.p ? vbuf.p : "", vbuf.n, isbuf.p, isbuf.n);
            }
        } else if (xml_is(&x, "v") && in_c) {
            in_v = t == XML_OPEN;
        } else if (xml_is(&x, "is") && in_c) {
            in_is = t == XML_OPEN;
        } else if (xml_is(&x, "rPh") && t == XML_OPEN) {
            xml_skip(&x);
        } else if (xml_is(&x, "t") && in_is) {
            in_is_t = t == XML_OPEN;
        }
    }
    d->inflated = vd.inflated > id.inflated ? vd.inflated : id.inflated;
    pt_doc_text_fini(&vbuf);
    pt_doc_text_fini(&isbuf);
    free(m);
}

static void xlsx(struct doc *d, const struct doc_zip *z, const char *main)
{
    struct rels rs = {0};
    struct sst sst = {0};
    bool *xf = NULL;
    size_t n_xf = 0;
    char (*sheets)[256] = NULL;
    size_t ns = 0;
    bool date1904 = false;
    if (read_rels(d, z, main, &rs) != PT_OK) {
        goto out;
    }
    const char *ss = rel_by_type(&rs, "sharedStrings");
    if (ss != NULL && read_sst(d, z, ss, &sst) != PT_OK) {
        goto out;
    }
    if (read_styles(d, z, rel_by_type(&rs, "styles"), &xf, &n_xf) != PT_OK) {
        goto out;
    }
    if (ordered_parts(d, z, main, "sheet", &sheets, &ns, &date1904) != PT_OK) {
        goto out;
    }
    struct sheet_ctx sc = {&sst, xf, n_xf, date1904};
    for (size_t i = 0; i < ns && !d->stop; i++) {
        if (i > 0) {
            doc_newline(d);
            doc_putc(d, '\f');
        }
        read_sheet(d, z, sheets[i], &sc);
    }
out:
    free(sheets);
    free(xf);
    sst_free(&sst);
    rels_free(&rs);
}

void doc_ooxml(struct doc *d, const struct doc_zip *z, enum pt_doc_kind k)
{
    char main[256];
    main_part(d, z, k, main, sizeof main);
    if (k == PT_DOC_DOCX) {
        read_flow(d, z, main, true);
        docx_more(d, z, main);
    } else if (k == PT_DOC_XLSX) {
        xlsx(d, z, main);
    } else {
        pptx(d, z, main);
    }
    doc_newline(d);
}
