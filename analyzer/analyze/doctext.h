/*
 * doctext.h - the text of office documents and PDFs as one derived object.
 *
 * Exports leave a hospital as spreadsheets, letters and PDFs; their text hides inside zip
 * packages of XML, RTF control words or compressed PDF content streams, where the PHI stage
 * cannot read it. For an object just stored whose content (never its name) is a document,
 * the text is extracted into ONE child object (parent = the document's SHA-256, depth + 1,
 * encoding "<kind>-text", name "<parent name>#text") that the PHI stage scans like any text.
 *
 * Formats and their specifications:
 *   DOCX, XLSX, PPTX  ECMA-376 (Office Open XML) parts 1 and 2; zip per PKWARE APPNOTE
 *   ODT, ODS, ODP     OASIS OpenDocument 1.2/1.3 (zip with a first member `mimetype`)
 *   RTF               Microsoft RTF 1.9.1
 *   PDF               ISO 32000-1 (objects, streams, object streams, fonts, text operators)
 *
 * Layout of the derived text (the PHI stage makes one record per person out of it):
 *   spreadsheets  one line per row, cells separated by TAB (empty cells kept), sheets by FF;
 *                 dates as YYYY-MM-DD (XLSX serials with a date format, ODS date values)
 *   DOCX, ODT     one line per paragraph; a table row is one line of TAB-separated cells;
 *                 page and section breaks are FF
 *   PPTX, ODP     paragraphs as lines, slides separated by FF
 *   RTF           \par and \row end a line, \cell is a TAB
 *   PDF           a new line when the text's baseline moves, a TAB for a wide gap on the same
 *                 line (table cells), a space for a narrower one; pages separated by FF
 *
 * Trust boundary: every byte of the document, and of every member or stream inflated out of
 * it, is untrusted and read through the bounds-checked cursor. Limits (core/limits.h,
 * PT_DOC_*): document size read, text produced, XML and PDF nesting, inflated bytes per
 * member/stream and per document and their ratio, PDF objects, pages and CMap entries.
 * Malformed input is an anomaly `doc.<format>.<what>` and the text extracted up to there is
 * kept; an encrypted PDF is `doc.pdf_encrypted` and gives no text.
 */
#ifndef PT_DOCTEXT_H
#define PT_DOCTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"
#include "app.h"

enum pt_doc_kind {
    PT_DOC_NONE,
    PT_DOC_DOCX,
    PT_DOC_XLSX,
    PT_DOC_PPTX,
    PT_DOC_ODT,
    PT_DOC_ODS,
    PT_DOC_ODP,
    PT_DOC_RTF,
    PT_DOC_PDF,
};

/* Extracted text: p[0..n) is UTF-8 (not NUL-terminated); owned by whoever called
 * pt_doc_extract, released with pt_doc_text_fini. */
struct pt_doc_text {
    char *p;
    size_t n, cap;
    bool cut; /* PT_DOC_MAX_TEXT was reached */
    bool oom;
};

/* Where a document's anomalies go: kind like "doc.xlsx.bad_xml", detail a sentence. */
struct pt_doc_sink {
    void *arg;
    void (*anomaly)(void *arg, enum pt_anom kind, const char *detail);
};

/* The kind of document b[0..n) is, by content (zip members, signatures), or PT_DOC_NONE. */
enum pt_doc_kind pt_doc_sniff(const uint8_t *b, size_t n);
/* "docx", "xlsx", ... ("" for PT_DOC_NONE). */
const char *pt_doc_kind_name(enum pt_doc_kind k);

/* Extract the text of b[0..n) (borrowed), a document of kind k, into *out (zeroed by the
 * caller; owned by the caller afterwards). Problems with the input are anomalies through
 * sink (may be NULL) and still return PT_OK with the text found so far; PT_ENOMEM only when
 * memory ran out. */
pt_status pt_doc_extract(const uint8_t *b, size_t n, enum pt_doc_kind k, struct pt_doc_text *out,
                         const struct pt_doc_sink *sink);
void pt_doc_text_fini(struct pt_doc_text *t);

/* For `parent` just stored: when it is a document, store its text as a child object through
 * ctx->object. Returns true when a text object was made (the caller then does not unpack the
 * package, whose raw XML members would be scanned a second time); false when parent is not
 * a document or nothing could be extracted (the anomaly says why). */
bool pt_doctext(struct pt_app_ctx *ctx, const struct pt_object_rec *parent);

#endif
