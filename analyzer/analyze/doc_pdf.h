/*
 * doc_pdf.h - what the two halves of the PDF reader share (internal): doc_pdf.c parses the
 * file (lexer, values, the object table, streams and filters, object streams, trailers);
 * doc_pdf_text.c turns pages into text (fonts, ToUnicode CMaps, content streams, the page
 * tree). See doc_pdf.c for the specification references, trust boundary and limits.
 */
#ifndef PT_DOC_PDF_H
#define PT_DOC_PDF_H

#include "../core/arena.h"
#include "doc_int.h"

/* Values (§7.3). */
enum pv_type { PV_NULL, PV_BOOL, PV_NUM, PV_NAME, PV_STR, PV_ARR, PV_DICT, PV_REF, PV_OP };

struct pv {
    enum pv_type t;
    double num;
    uint32_t ref;           /* PV_REF: object number */
    const uint8_t *s;       /* NAME (without '/'), STR (decoded), OP: bytes */
    size_t n;               /* bytes of s; ARR: items; DICT: pairs */
    struct pv *items;       /* ARR: n values; DICT: 2n (key, value) */
};

extern const struct pv pdf_null;
bool pdf_is_name(const struct pv *v, const char *s);
bool pdf_is_op(const struct pv *v, const char *s);
/* The value of `key` in dictionary d (not resolved); pdf_null when absent. */
const struct pv *pdf_dict_get(const struct pv *d, const char *key);

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
    /* both capped at PT_DOC_PDF_MAX_MEMORY (core/arena.h) */
    struct pt_arena a;        /* the objects' values: lives as long as the document */
    struct pt_arena scratch;  /* operands of content streams and CMaps: reset to a mark */
    struct pt_arena *cur;     /* where parse() allocates */
    struct pdf_obj *o;
    size_t n, cap;
    struct stm_data *stm;
    size_t n_stm, cap_stm;
    struct font **fonts;      /* parsed fonts, by their dictionary */
    const struct pv **font_keys;
    size_t n_fonts;
    bool oom;
};

bool pdf_space(uint8_t c);
int pdf_hexval(uint8_t c);
/* One value at the cursor into *out, allocated in p->cur; false when none could be read
 * (the cursor may not have moved: callers step over a byte). */
bool pdf_parse(struct pdf *p, struct pt_cur *c, struct pv *out, unsigned depth);
struct pdf_obj *pdf_find(struct pdf *p, uint32_t num);
/* The object's value, parsed once (a reference cycle reads as null). */
const struct pv *pdf_load(struct pdf *p, struct pdf_obj *o);
/* Follow references; rget: resolve(dict[key]). */
const struct pv *pdf_resolve(struct pdf *p, const struct pv *v);
const struct pv *pdf_rget(struct pdf *p, const struct pv *dict, const char *key);
/* A stream's decoded data (malloc'd): PT_EUNSUPPORTED for a filter not decoded, PT_ELIMIT
 * past the document's budget, PT_ENOMEM. */
pt_status pdf_stream(struct pdf *p, struct pdf_obj *o, uint8_t **out, size_t *on);

/* doc_pdf_text.c: the pages' text in page order (or loose streams), and the fonts' memory. */
void pdf_text(struct pdf *p, const struct pv *root);
void pdf_fonts_free(struct pdf *p);

#endif
