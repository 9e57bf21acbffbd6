/*
 * doc_int.h - what the document readers share (internal to doctext*.c and doc_*.c): the
 * output text with its cap, anomalies, zip members, the XML tokenizer.
 *
 * Every reader gets a `struct doc`: the whole document (borrowed, untrusted), the output,
 * and the budget of inflated bytes. Readers append text with doc_put*; when the text limit
 * is reached `d->stop` is set and readers return as soon as they see it.
 */
#ifndef PT_DOC_INT_H
#define PT_DOC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/cursor.h"
#include "doctext.h"

struct doc {
    const uint8_t *b; /* the document (borrowed) */
    size_t n;
    struct pt_doc_text *out;
    const struct pt_doc_sink *sink;
    const char *fmt;          /* "docx", ... */
    enum pt_doc_kind kind;    /* for anomaly kinds (PT_DOC_NONE: a zip probed, no sink) */
    uint64_t inflated;        /* bytes inflated so far (PT_DOC_MAX_INFLATED) */
    unsigned anomalies;       /* reported so far (PT_DOC_MAX_ANOMALIES) */
    bool stop;                /* text limit reached or memory exhausted */
    bool explained;           /* an anomaly already says why there is no text */
};

/* "doc.<fmt>.<what>" with detail. */
void doc_anomaly(struct doc *d, enum pt_anom what, const char *detail);
/* An anomaly of exactly `kind` (for limit.* and doc.pdf_encrypted). */
void doc_anomaly_kind(struct doc *d, enum pt_anom kind, const char *detail);

/* Output. Each returns false once the text limit stopped the output. */
bool doc_put(struct doc *d, const char *s, size_t n);
bool doc_putc(struct doc *d, char c);
bool doc_put_cp(struct doc *d, uint32_t cp); /* one code point as UTF-8 (invalid as U+FFFD) */
/* Remove trailing spaces and TABs of the current line (a row's trailing empty cells). */
void doc_trim_tabs(struct doc *d);
/* The last byte written, or '\n' at the start. */
char doc_last(const struct doc *d);
/* End the current line unless it is empty. */
bool doc_newline(struct doc *d);

/* UTF-8 encoding of cp into buf (4 bytes); returns the length (U+FFFD for invalid). */
size_t doc_utf8(uint32_t cp, char buf[4]);

/* Inflate in[0..n) (raw deflate when raw, else zlib) into a malloc'd buffer (*out, *out_n),
 * stopping at `max` bytes, PT_DOC_MAX_RATIO and the document's budget. Returns PT_OK (even
 * for a corrupt tail: what was inflated is kept, *complete false), PT_ELIMIT when a limit
 * cut it (output kept), PT_ENOMEM. */
pt_status doc_inflate(struct doc *d, const uint8_t *in, size_t n, bool raw, size_t max,
                      uint8_t **out, size_t *out_n, bool *complete);

/* ---- zip packages (doc_zip.c) ------------------------------------------------------------- */

struct doc_zip_entry {
    char name[256];
    size_t data_off;   /* first byte of the member's data in the document */
    size_t csize;      /* compressed size (bytes up to the end of the document when unknown) */
    uint16_t method;
    bool encrypted;
};

struct doc_zip {
    struct doc_zip_entry *e; /* owned */
    size_t n;
};

/* True when b starts like a zip (local header) or has an end-of-central-directory record. */
bool doc_zip_like(const uint8_t *b, size_t n);
/* List the members: from the central directory, or by scanning local headers when it is
 * missing (a truncated package). Anomalies through d (may be a sniffing doc with no sink). */
pt_status doc_zip_open(struct doc *d, struct doc_zip *z);
void doc_zip_close(struct doc_zip *z);
const struct doc_zip_entry *doc_zip_find(const struct doc_zip *z, const char *name);
/* Member `name` inflated into a malloc'd buffer; PT_EUNSUPPORTED when absent or unreadable
 * (anomaly recorded), PT_ENOMEM. A cut member is returned with what was inflated. */
pt_status doc_zip_read(struct doc *d, const struct doc_zip *z, const char *name, uint8_t **out,
                       size_t *out_n);

/* ---- XML (doc_xml.c) ----------------------------------------------------------------------- */

enum xml_tok { XML_EOF, XML_OPEN, XML_CLOSE, XML_EMPTY, XML_TEXT, XML_CDATA, XML_BAD };

struct xml {
    struct pt_cur c;
    unsigned depth;
    const uint8_t *name;  /* OPEN, CLOSE, EMPTY: the qualified name */
    size_t name_len;
    const uint8_t *attrs; /* OPEN, EMPTY: the raw attribute text */
    size_t attrs_len;
    const uint8_t *text;  /* TEXT (entities not decoded), CDATA */
    size_t text_len;
};

void xml_init(struct xml *x, const uint8_t *p, size_t n);
/* Next token. XML_BAD on malformed markup or nesting past PT_DOC_MAX_XML_DEPTH (the reader
 * records the anomaly and stops). */
enum xml_tok xml_next(struct xml *x);
/* The element's local name (after any prefix) equals `local`. */
bool xml_is(const struct xml *x, const char *local);
/* Attribute by local name: its raw value (entities not decoded). */
bool xml_attr(const struct xml *x, const char *local, const uint8_t **v, size_t *vl);
/* Attribute decoded into buf (NUL-terminated, cut to cap - 1); false when absent. */
bool xml_attr_str(const struct xml *x, const char *local, char *buf, size_t cap);
/* The relationship id r:id (a prefixed "id": p:sldId also has a plain id="256"). */
bool xml_attr_rel(const struct xml *x, char *buf, size_t cap);
/* Append text with entities decoded; collapse: runs of XML white space become one space. */
bool xml_put_text(struct doc *d, const uint8_t *s, size_t n, bool collapse);
/* The text of a TEXT (entities decoded, collapsed if asked) or CDATA (verbatim) token. */
bool xml_put_token(struct doc *d, const struct xml *x, enum xml_tok t, bool collapse);
/* Decode entities of s[0..n) into buf (NUL-terminated, cut to cap - 1); returns length. */
size_t xml_decode(const uint8_t *s, size_t n, char *buf, size_t cap);
/* Skip to the end of the element just opened (its subtree). */
enum xml_tok xml_skip(struct xml *x);

/* ---- the readers ------------------------------------------------------------------------------ */

void doc_ooxml(struct doc *d, const struct doc_zip *z, enum pt_doc_kind k);
void doc_odf(struct doc *d, const struct doc_zip *z, enum pt_doc_kind k);
void doc_rtf(struct doc *d);
void doc_pdf(struct doc *d);

#endif
