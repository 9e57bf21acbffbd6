/*
 * doc_odf.c - the text of OpenDocument packages: ODT, ODS, ODP.
 *
 * OASIS OpenDocument 1.2/1.3. Part 3 (packages): the member `mimetype` names the kind; the
 * body is content.xml. Part 1 (schema):
 *   text (§5): office:text > text:p | text:h (paragraphs; text:span, text:a inside),
 *     text:s [text:c] (spaces), text:tab, text:line-break; white space collapses (§6.1.2).
 *   tables (§9): table:table > table:table-row [table:number-rows-repeated] >
 *     table:table-cell | table:covered-table-cell [table:number-columns-repeated]
 *     [office:value-type office:date-value] > text:p. LibreOffice writes the unused rest of a
 *     sheet as one row or cell repeated ~10^6 times: empty repeats are counted, never
 *     written, and only emitted as separators when a non-empty cell follows.
 *   presentations (§10): office:presentation > draw:page (slides) > ... > text:p.
 * Untrusted: content.xml inflates under the PT_DOC_* limits and is read by doc_xml.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/limits.h"
#include "doc_int.h"

static void bad_xml(struct doc *d)
{
    doc_anomaly(d, PT_ANOM_DOC_BAD_XML,
                "malformed or too deeply nested XML in content.xml; text up to "
                "there kept");
}

static unsigned long repeated(const struct xml *x, const char *attr, unsigned long cap)
{
    char v[32];
    if (!xml_attr_str(x, attr, v, sizeof v)) {
        return 1;
    }
    unsigned long r = strtoul(v, NULL, 10);
    return r == 0 ? 1 : r > cap ? cap : r;
}

/* ODT and ODP: paragraphs as lines, table rows as TAB-separated lines, slides by FF. */
static void flow(struct doc *d, const uint8_t *m, size_t mn)
{
    struct xml x;
    xml_init(&x, m, mn);
    unsigned in_p = 0, cells = 0, pages = 0;
    enum xml_tok t;
    while (!d->stop && (t = xml_next(&x)) != XML_EOF) {
        if (t == XML_BAD) {
            bad_xml(d);
            break;
        }
        if (t == XML_TEXT || t == XML_CDATA) {
            if (in_p > 0) {
                xml_put_token(d, &x, t, true);
            }
            continue;
        }
        bool open = t == XML_OPEN, start = t == XML_OPEN || t == XML_EMPTY, close = t == XML_CLOSE;
        if (open && (xml_is(&x, "note-citation") || xml_is(&x, "tracked-changes"))) {
            if (xml_skip(&x) == XML_BAD) {
                bad_xml(d);
                break;
            }
        } else if (xml_is(&x, "p") || xml_is(&x, "h")) {
            if (open) {
                in_p++;
            } else if (close && in_p > 0) {
                in_p--;
                if (in_p == 0) {
                    if (cells > 0) {
                        if (doc_last(d) != ' ' && doc_last(d) != '\t') {
                            doc_putc(d, ' ');
                        }
                    } else {
                        doc_newline(d);
                    }
                }
            }
        } else if (xml_is(&x, "s") && start && in_p > 0) {
            unsigned long c = repeated(&x, "c", 64);
            for (unsigned long i = 0; i < c; i++) {
                doc_putc(d, ' ');
            }
        } else if (xml_is(&x, "tab") && start && in_p > 0) {
            doc_putc(d, cells > 0 ? ' ' : '\t');
        } else if (xml_is(&x, "line-break") && start && in_p > 0) {
            doc_putc(d, cells > 0 ? ' ' : '\n');
        } else if (xml_is(&x, "table-cell") || xml_is(&x, "covered-table-cell")) {
            if (open) {
                cells++;
            }
            if ((close && cells > 0) || t == XML_EMPTY) {
                if (close) {
                    cells--;
                }
                while (d->out->n > 0 && d->out->p[d->out->n - 1] == ' ') {
                    d->out->n--;
                }
                unsigned long r = repeated(&x, "number-columns-repeated", 64);
                for (unsigned long i = 0; i < (close ? 1 : r); i++) {
                    doc_putc(d, cells > 0 ? ' ' : '\t');
                }
            }
        } else if (xml_is(&x, "table-row") && cells == 0 && (start || close)) {
            doc_newline(d);
        } else if (xml_is(&x, "page") && open) {
            if (pages++ > 0) {
                doc_newline(d);
                doc_putc(d, '\f');
            }
        }
    }
}

struct ods {
    struct doc *d;
    struct pt_doc_text cell;   /* the current cell's text */
    struct doc cd;             /* output into cell */
    long long col, last;       /* column of the next cell; of the last one written */
    size_t row_start;          /* where this row's text starts in the output */
    unsigned long row_repeat;  /* an empty row's repeats are never written */
};

static void ods_cell_done(struct ods *o, unsigned long rep)
{
    struct doc *d = o->d;
    if (o->cell.n == 0) {
        o->col += (long long)rep;
        return;
    }
    for (unsigned long i = 0; i < rep && !d->stop; i++) {
        if (o->col >= PT_DOC_MAX_COLUMNS) {
            doc_anomaly_kind(d, PT_ANOM_LIMIT_DOC_COLUMNS, "a cell beyond PT_DOC_MAX_COLUMNS");
            break;
        }
        long long tabs = o->last < 0 ? o->col : o->col - o->last;
        for (long long k = 0; k < tabs; k++) {
            doc_putc(d, '\t');
        }
        for (size_t k = 0; k < o->cell.n; k++) {
            char c = o->cell.p[k];
            doc_putc(d, c == '\t' || c == '\n' || c == '\r' || c == '\f' ? ' ' : c);
        }
        o->last = o->col++;
    }
}

static void ods_row_done(struct ods *o)
{
    struct doc *d = o->d;
    if (d->out->n == o->row_start) {
        return;
    }
    /* a repeated row with content is written as often as it repeats (bounded) */
    size_t len = d->out->n - o->row_start;
    for (unsigned long i = 1; i < o->row_repeat && !d->stop; i++) {
        doc_putc(d, '\n');
        size_t at = d->out->n - len - 1; /* the previous copy */
        char buf[4096];
        for (size_t k = 0; k < len && !d->stop; k += sizeof buf) {
            size_t m = len - k < sizeof buf ? len - k : sizeof buf;
            memcpy(buf, d->out->p + at + k, m);
            doc_put(d, buf, m);
        }
    }
    doc_newline(d);
}

/* ODS: one line per row, TAB between cells, FF between sheets. */
static void sheets(struct doc *d, const uint8_t *m, size_t mn)
{
    struct ods o = {.d = d, .last = -1, .row_repeat = 1};
    o.cd = *d;
    o.cd.out = &o.cell;
    struct xml x;
    xml_init(&x, m, mn);
    unsigned in_cell = 0, in_p = 0, tables = 0;
    unsigned long cell_rep = 1;
    bool skip_text = false;
    enum xml_tok t;
    while (!d->stop && (t = xml_next(&x)) != XML_EOF) {
        if (t == XML_BAD) {
            bad_xml(d);
            break;
        }
        if (t == XML_TEXT || t == XML_CDATA) {
            if (in_cell > 0 && in_p > 0 && !skip_text) {
                xml_put_token(&o.cd, &x, t, true);
            }
            continue;
        }
        bool open = t == XML_OPEN, start = open || t == XML_EMPTY, close = t == XML_CLOSE;
        if (xml_is(&x, "table") && open) {
            if (tables++ > 0) {
                doc_newline(d);
                doc_putc(d, '\f');
            }
        } else if (xml_is(&x, "table-row") && start) {
            o.row_start = d->out->n;
            o.row_repeat = repeated(&x, "number-rows-repeated", PT_DOC_MAX_EMPTY_ROWS);
            o.col = 0;
            o.last = -1;
            if (t == XML_EMPTY) {
                ods_row_done(&o);
            }
        } else if (xml_is(&x, "table-row") && close) {
            ods_row_done(&o);
        } else if (xml_is(&x, "table-cell") || xml_is(&x, "covered-table-cell")) {
            if (start) {
                o.cell.n = 0;
                o.cd.stop = false;
                cell_rep = repeated(&x, "number-columns-repeated", PT_DOC_MAX_COLUMNS);
                char vt[32], dv[64];
                xml_attr_str(&x, "value-type", vt, sizeof vt);
                skip_text = false;
                if (strcmp(vt, "date") == 0 && xml_attr_str(&x, "date-value", dv, sizeof dv)) {
                    doc_put(&o.cd, dv, strlen(dv) < 10 ? strlen(dv) : 10);
                    skip_text = true;
                }
                if (open) {
                    in_cell++;
                } else {
                    ods_cell_done(&o, cell_rep);
                }
            } else if (close && in_cell > 0) {
                in_cell--;
                while (o.cell.n > 0 && o.cell.p[o.cell.n - 1] == ' ') {
                    o.cell.n--;
                }
                ods_cell_done(&o, cell_rep);
                skip_text = false;
            }
        } else if ((xml_is(&x, "p") || xml_is(&x, "h")) && in_cell > 0) {
            if (open) {
                if (in_p++ == 0 && o.cell.n > 0) {
                    doc_putc(&o.cd, ' ');
                }
            } else if (close && in_p > 0) {
                in_p--;
            }
        } else if (xml_is(&x, "s") && start && in_p > 0 && !skip_text) {
            unsigned long c = repeated(&x, "c", 64);
            for (unsigned long i = 0; i < c; i++) {
                doc_putc(&o.cd, ' ');
            }
        } else if ((xml_is(&x, "annotation") || xml_is(&x, "note")) && open) {
            if (xml_skip(&x) == XML_BAD) {
                bad_xml(d);
                break;
            }
        }
    }
    d->inflated = o.cd.inflated;
    pt_doc_text_fini(&o.cell);
}

void doc_odf(struct doc *d, const struct doc_zip *z, enum pt_doc_kind k)
{
    uint8_t *m;
    size_t mn;
    pt_status st = doc_zip_read(d, z, "content.xml", &m, &mn);
    if (st != PT_OK) {
        doc_anomaly(d, PT_ANOM_DOC_MISSING_PART, "content.xml is missing or unreadable");
        d->explained = true;
        return;
    }
    if (k == PT_DOC_ODS) {
        sheets(d, m, mn);
    } else {
        flow(d, m, mn);
    }
    doc_newline(d);
    free(m);
}
