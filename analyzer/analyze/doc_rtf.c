/*
 * doc_rtf.c - the text of RTF documents.
 *
 * Microsoft Rich Text Format 1.9.1. Syntax: groups { }, control words \letters[-digits] with
 * one optional space delimiter, control symbols \x, \'hh (a byte in the document's code
 * page; cp1252, the \ansicpg of nearly every RTF written, is decoded), \uN (a signed 16-bit
 * UTF-16 unit, followed by \ucN fallback characters to skip; pairs of surrogates combine),
 * \bin N (N raw bytes). Destinations whose content is not text are skipped: any group
 * starting \*, and fonttbl, colortbl, stylesheet, info, pict, object, themedata,
 * datastore, latentstyles, listtable, listoverridetable, rsidtbl, generator, field
 * instructions (fldinst), xmlnstbl, mmathPr; headers and footers are text and kept. Layout: \par and \line end a line, \row ends a table
 * row, \cell is a TAB, \tab a TAB (a space inside a table cell), \page and \sect a FF.
 * Untrusted: groups nest at most PT_DOC_RTF_DEPTH; \bin lengths are checked against the
 * bytes left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/limits.h"
#include "doc_int.h"

/* cp1252 0x80-0x9f (the rest of the upper half is Latin-1); 0 where undefined. */
static const uint16_t cp1252_hi[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017d, 0,      0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178};

static uint32_t cp1252(uint8_t b)
{
    if (b >= 0x80 && b < 0xa0) {
        return cp1252_hi[b - 0x80] ? cp1252_hi[b - 0x80] : 0xfffd;
    }
    return b;
}

static const char *const skip_dest[] = {
    "fonttbl",  "colortbl",   "stylesheet",  "info",     "pict",         "object",
    "themedata", "datastore", "latentstyles", "listtable", "listoverridetable", "rsidtbl",
    "generator", "fldinst",   "xmlnstbl",    "mmathPr",  "filetbl",      "revtbl",
    "pgdsctbl", "colorschememapping", "xmlopen", "objdata", "fontemb", "bkmkstart", "bkmkend",
};

struct rtf_state {
    bool skip;     /* inside a destination that is not text */
    unsigned uc;   /* fallback characters after \u (\ucN) */
};

struct rtf {
    struct doc *d;
    struct pt_cur c;
    struct rtf_state st[PT_DOC_RTF_DEPTH];
    unsigned depth;
    unsigned fallback;  /* characters of a \u fallback still to skip */
    uint32_t high;      /* a pending high surrogate */
    bool in_cell;       /* text since the last \row is a table cell (\intbl) */
};

static bool letter(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void text_cp(struct rtf *r, uint32_t cp)
{
    if (r->st[r->depth].skip) {
        return;
    }
    if (r->fallback > 0) {
        r->fallback--;
        return;
    }
    if (cp >= 0xd800 && cp <= 0xdbff) {
        r->high = cp;
        return;
    }
    if (cp >= 0xdc00 && cp <= 0xdfff && r->high != 0) {
        cp = 0x10000 + ((r->high - 0xd800) << 10) + (cp - 0xdc00);
    }
    r->high = 0;
    doc_put_cp(r->d, cp);
}

static void emit(struct rtf *r, const char *s)
{
    if (!r->st[r->depth].skip) {
        doc_put(r->d, s, strlen(s));
    }
}

static void control_word(struct rtf *r, const char *w, bool has_arg, long arg)
{
    struct rtf_state *s = &r->st[r->depth];
    for (size_t i = 0; i < sizeof skip_dest / sizeof skip_dest[0]; i++) {
        if (strcmp(w, skip_dest[i]) == 0) {
            s->skip = true;
            return;
        }
    }
    if (strcmp(w, "uc") == 0 && has_arg) {
        s->uc = arg < 0 ? 0 : arg > 8 ? 8 : (unsigned)arg;
    } else if (strcmp(w, "u") == 0 && has_arg) {
        text_cp(r, (uint32_t)(arg < 0 ? arg + 65536 : arg) & 0xffff);
        r->fallback = s->skip ? 0 : s->uc;
    } else if (strcmp(w, "bin") == 0 && has_arg) {
        size_t n = arg < 0 ? 0 : (size_t)arg;
        if (!pt_cur_skip(&r->c, n)) {
            doc_anomaly(r->d, PT_ANOM_DOC_BAD_BIN, "\\bin announces more bytes than are left");
        }
    } else if (strcmp(w, "par") == 0 || strcmp(w, "line") == 0) {
        if (!s->skip) {
            if (r->in_cell) {
                emit(r, " ");
            } else {
                doc_trim_tabs(r->d);
                emit(r, "\n");
            }
        }
    } else if (strcmp(w, "intbl") == 0) {
        r->in_cell = true;
    } else if (strcmp(w, "pard") == 0) {
        r->in_cell = false;
    } else if (strcmp(w, "cell") == 0 || strcmp(w, "nestcell") == 0) {
        if (!s->skip) {
            while (r->d->out->n > 0 && r->d->out->p[r->d->out->n - 1] == ' ') {
                r->d->out->n--;
            }
        }
        emit(r, "\t");
    } else if (strcmp(w, "row") == 0 || strcmp(w, "nestrow") == 0) {
        if (!s->skip) {
            /* the TAB after the last cell ends the row, not a field */
            if (r->d->out->n > 0 && r->d->out->p[r->d->out->n - 1] == '\t') {
                r->d->out->n--;
            }
            emit(r, "\n");
        }
        r->in_cell = false;
    } else if (strcmp(w, "tab") == 0) {
        emit(r, r->in_cell ? " " : "\t");
    } else if (strcmp(w, "page") == 0 || strcmp(w, "sect") == 0) {
        if (!s->skip) {
            doc_newline(r->d);
            emit(r, "\f");
        }
    } else if (strcmp(w, "emdash") == 0) {
        text_cp(r, 0x2014);
    } else if (strcmp(w, "endash") == 0) {
        text_cp(r, 0x2013);
    } else if (strcmp(w, "lquote") == 0) {
        text_cp(r, 0x2018);
    } else if (strcmp(w, "rquote") == 0) {
        text_cp(r, 0x2019);
    } else if (strcmp(w, "ldblquote") == 0) {
        text_cp(r, 0x201c);
    } else if (strcmp(w, "rdblquote") == 0) {
        text_cp(r, 0x201d);
    } else if (strcmp(w, "bullet") == 0) {
        text_cp(r, 0x2022);
    } else if (strcmp(w, "emspace") == 0 || strcmp(w, "enspace") == 0) {
        text_cp(r, ' ');
    }
}

void doc_rtf(struct doc *d)
{
    struct rtf *r = calloc(1, sizeof *r);
    if (r == NULL) {
        d->out->oom = true;
        return;
    }
    r->d = d;
    r->c = pt_cur_make(d->b, d->n);
    r->st[0].uc = 1;
    bool opened = false, over = false;
    while (!d->stop && pt_cur_left(&r->c) > 0) {
        uint8_t ch = pt_cur_u8(&r->c);
        if (ch == '{') {
            if (r->depth + 1 >= PT_DOC_RTF_DEPTH) {
                doc_anomaly(d, PT_ANOM_DOC_TOO_DEEP, "groups nest deeper than PT_DOC_RTF_DEPTH");
                break;
            }
            r->st[r->depth + 1] = r->st[r->depth];
            r->depth++;
            opened = true;
            r->fallback = 0;
            if (pt_cur_peek_u8(&r->c, 0) == '\\' && pt_cur_peek_u8(&r->c, 1) == '*') {
                r->st[r->depth].skip = true;
                pt_cur_skip(&r->c, 2);
            }
        } else if (ch == '}') {
            if (r->depth == 0) {
                over = true;
                continue;
            }
            r->depth--;
            r->fallback = 0;
        } else if (ch == '\\') {
            uint8_t n = pt_cur_peek_u8(&r->c, 0);
            if (pt_cur_left(&r->c) == 0) {
                break;
            }
            if (letter(n)) {
                char w[33];
                size_t wl = 0;
                while (pt_cur_left(&r->c) > 0 && letter(pt_cur_peek_u8(&r->c, 0))) {
                    uint8_t lc = pt_cur_u8(&r->c);
                    if (wl < sizeof w - 1) {
                        w[wl++] = (char)lc;
                    }
                }
                w[wl] = '\0';
                bool neg = false, has_arg = false;
                long arg = 0;
                if (pt_cur_peek_u8(&r->c, 0) == '-') {
                    neg = true;
                    pt_cur_skip(&r->c, 1);
                }
                unsigned digits = 0;
                while (pt_cur_left(&r->c) > 0 && pt_cur_peek_u8(&r->c, 0) >= '0' &&
                       pt_cur_peek_u8(&r->c, 0) <= '9') {
                    uint8_t dc = pt_cur_u8(&r->c);
                    if (digits++ < 10) {
                        arg = arg * 10 + (dc - '0');
                    }
                    has_arg = true;
                }
                if (neg) {
                    arg = -arg;
                }
                if (pt_cur_peek_u8(&r->c, 0) == ' ') {
                    pt_cur_skip(&r->c, 1);
                }
                bool was_fallback = r->fallback > 0 && strcmp(w, "u") != 0;
                if (was_fallback) {
                    r->fallback--; /* a control word counts as one fallback character */
                    if (strcmp(w, "bin") != 0) {
                        continue;
                    }
                }
                control_word(r, w, has_arg, arg);
            } else if (n == '\'') {
                pt_cur_skip(&r->c, 1);
                uint8_t h[2] = {pt_cur_u8(&r->c), pt_cur_u8(&r->c)};
                unsigned v = 0;
                bool ok = pt_cur_ok(&r->c);
                for (int i = 0; i < 2 && ok; i++) {
                    uint8_t c = h[i];
                    unsigned dv = c >= '0' && c <= '9'   ? c - '0'
                                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 16;
                    ok = dv < 16;
                    v = v * 16 + dv;
                }
                if (!ok) {
                    doc_anomaly(d, PT_ANOM_DOC_BAD_HEX, "a \\'hh escape without two hex digits");
                    break;
                }
                text_cp(r, cp1252((uint8_t)v));
            } else {
                pt_cur_skip(&r->c, 1);
                if (r->fallback > 0) {
                    r->fallback--;
                } else if (n == '\\' || n == '{' || n == '}') {
                    text_cp(r, n);
                } else if (n == '~') {
                    text_cp(r, 0xa0);
                } else if (n == '_') {
                    text_cp(r, '-');
                } else if (n == '\n' || n == '\r') {
                    control_word(r, "par", false, 0); /* \<newline> is \par */
                } else if (n == '\t') {
                    control_word(r, "tab", false, 0);
                }
            }
        } else if (ch == '\r' || ch == '\n') {
            continue; /* line ends in RTF source are not text */
        } else if (ch != 0) {
            text_cp(r, ch >= 0x80 ? cp1252(ch) : ch);
        }
    }
    if (!opened) {
        doc_anomaly(d, PT_ANOM_DOC_MALFORMED, "no RTF group found");
    } else if (r->depth > 0 && !d->stop) {
        doc_anomaly(d, PT_ANOM_DOC_TRUNCATED, "the document ends inside a group; text so far kept");
    } else if (over) {
        doc_anomaly(d, PT_ANOM_DOC_UNBALANCED, "more closing than opening braces");
    }
    doc_newline(d);
    free(r);
}
