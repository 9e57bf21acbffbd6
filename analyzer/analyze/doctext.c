/* doctext.c - documents to text: sniffing, the output with its cap, inflating, and the
 * derived object (see doctext.h). The format readers are doc_ooxml.c, doc_odf.c, doc_rtf.c
 * and doc_pdf.c; zip and XML are doc_zip.c and doc_xml.c. */
#include "doctext.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../core/limits.h"
#include "doc_int.h"

/* ---- output ----------------------------------------------------------------------------------- */

void doc_anomaly_kind(struct doc *d, enum pt_anom kind, const char *detail)
{
    if (d->anomalies >= PT_DOC_MAX_ANOMALIES) {
        return;
    }
    d->anomalies++;
    if (d->sink != NULL && d->sink->anomaly != NULL) {
        d->sink->anomaly(d->sink->arg, kind, detail);
    }
}

_Static_assert(PT_DOC_PDF - PT_DOC_DOCX + 1 == PT_ANOM_DOC_NFORMATS,
               "PT_ANOM_DOC_FORMATS lists the document kinds in enum pt_doc_kind order");

void doc_anomaly(struct doc *d, enum pt_anom what, const char *detail)
{
    /* PT_ANOM_DOC_<WHAT> is the docx kind, the other formats follow it. A document of no
     * kind is a zip probed for its members, with no sink: only counted. */
    enum pt_anom kind = d->kind == PT_DOC_NONE ? what : what + (d->kind - PT_DOC_DOCX);
    doc_anomaly_kind(d, kind, detail);
}

bool doc_put(struct doc *d, const char *s, size_t n)
{
    struct pt_doc_text *t = d->out;
    if (d->stop) {
        return false;
    }
    if (n > PT_DOC_MAX_TEXT - t->n) {
        n = PT_DOC_MAX_TEXT - t->n;
        while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80) {
            n--; /* do not cut a UTF-8 sequence */
        }
        t->cut = true;
        d->stop = true;
        doc_anomaly_kind(d, PT_ANOM_LIMIT_DOC_TEXT,
                         "the document's text exceeds PT_DOC_MAX_TEXT; the derived text is cut");
    }
    if (n > t->cap - t->n) {
        size_t cap = t->cap ? t->cap : 4096;
        while (n > cap - t->n) {
            cap = cap > PT_DOC_MAX_TEXT / 2 ? PT_DOC_MAX_TEXT : cap * 2;
        }
        char *np = realloc(t->p, cap);
        if (np == NULL) {
            t->oom = true;
            d->stop = true;
            return false;
        }
        t->p = np;
        t->cap = cap;
    }
    if (n > 0) {
        memcpy(t->p + t->n, s, n);
        t->n += n;
    }
    return !d->stop;
}

bool doc_putc(struct doc *d, char c)
{
    return doc_put(d, &c, 1);
}

size_t doc_utf8(uint32_t cp, char b[4])
{
    if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        cp = 0xfffd;
    }
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    b[0] = (char)(0xf0 | (cp >> 18));
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    b[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

bool doc_put_cp(struct doc *d, uint32_t cp)
{
    char b[4];
    return doc_put(d, b, doc_utf8(cp, b));
}

char doc_last(const struct doc *d)
{
    return d->out->n == 0 ? '\n' : d->out->p[d->out->n - 1];
}

void doc_trim_tabs(struct doc *d)
{
    struct pt_doc_text *t = d->out;
    while (t->n > 0 && (t->p[t->n - 1] == '\t' || t->p[t->n - 1] == ' ')) {
        t->n--;
    }
}

bool doc_newline(struct doc *d)
{
    char c = doc_last(d);
    if (c == '\n' || c == '\f') {
        return !d->stop;
    }
    doc_trim_tabs(d);
    return doc_putc(d, '\n');
}

void pt_doc_text_fini(struct pt_doc_text *t)
{
    if (t != NULL) {
        free(t->p);
        memset(t, 0, sizeof *t);
    }
}

/* ---- inflating --------------------------------------------------------------------------------- */

pt_status doc_inflate(struct doc *d, const uint8_t *in, size_t n, bool raw, size_t max,
                      uint8_t **out, size_t *out_n, bool *complete)
{
    *out = NULL;
    *out_n = 0;
    *complete = false;
    if (d->inflated >= PT_DOC_MAX_INFLATED) {
        doc_anomaly_kind(d, PT_ANOM_LIMIT_DOC_INFLATE,
                         "the document's inflated bytes reached PT_DOC_MAX_INFLATED; the rest "
                         "is not read");
        return PT_ELIMIT;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 32: a zlib or gzip header, detected (PDF FlateDecode is zlib, ISO 32000-1 7.4.4) */
    if (inflateInit2(&z, raw ? -MAX_WBITS : MAX_WBITS + 32) != Z_OK) {
        return PT_ENOMEM;
    }
    pt_status rc = PT_OK;
    size_t cap = n < 16384 ? 65536 : n * 4;
    if (cap > max) {
        cap = max;
    }
    if (cap == 0) {
        cap = 1;
    }
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        inflateEnd(&z);
        return PT_ENOMEM;
    }
    size_t got = 0;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
    for (;;) {
        if (got == cap) {
            if (cap >= max) {
                rc = PT_ELIMIT;
                break;
            }
            size_t ncap = cap > max / 2 ? max : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (nb == NULL) {
                rc = PT_ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        z.next_out = buf + got;
        z.avail_out = (uInt)(cap - got > UINT32_MAX ? UINT32_MAX : cap - got);
        size_t before = z.avail_out;
        int r = inflate(&z, Z_NO_FLUSH);
        got += before - z.avail_out;
        if ((got > 1024 * 1024 && got / (n ? n : 1) > PT_DOC_MAX_RATIO) ||
            d->inflated + got > PT_DOC_MAX_INFLATED) {
            rc = PT_ELIMIT;
            break;
        }
        if (r == Z_STREAM_END) {
            *complete = true;
            break;
        }
        if (r == Z_BUF_ERROR && z.avail_out != 0) {
            break; /* the input ends before the stream does: keep what came out */
        }
        if (r != Z_OK && r != Z_BUF_ERROR) {
            break; /* corrupt from here on */
        }
    }
    inflateEnd(&z);
    d->inflated += got;
    if (rc == PT_ENOMEM) {
        free(buf);
        return rc;
    }
    if (rc == PT_ELIMIT) {
        doc_anomaly_kind(d, PT_ANOM_LIMIT_DOC_INFLATE,
                         "a document member or stream inflates past PT_DOC_MAX_MEMBER, "
                         "PT_DOC_MAX_RATIO or PT_DOC_MAX_INFLATED; cut there");
    }
    *out = buf;
    *out_n = got;
    return rc;
}

/* ---- sniffing ---------------------------------------------------------------------------------- */

const char *pt_doc_kind_name(enum pt_doc_kind k)
{
    switch (k) {
        case PT_DOC_DOCX: return "docx";
        case PT_DOC_XLSX: return "xlsx";
        case PT_DOC_PPTX: return "pptx";
        case PT_DOC_ODT: return "odt";
        case PT_DOC_ODS: return "ods";
        case PT_DOC_ODP: return "odp";
        case PT_DOC_RTF: return "rtf";
        case PT_DOC_PDF: return "pdf";
        case PT_DOC_NONE: break;
    }
    return "";
}

static bool has(const uint8_t *p, size_t n, const char *s)
{
    return memmem(p, n, s, strlen(s)) != NULL;
}

/* OpenDocument 1.2 part 3 §3.3: the first member `mimetype`, stored, holds the media type. */
static enum pt_doc_kind odf_kind(const uint8_t *m, size_t n)
{
    static const char pre[] = "application/vnd.oasis.opendocument.";
    if (n < sizeof pre - 1 || memcmp(m, pre, sizeof pre - 1) != 0) {
        return PT_DOC_NONE;
    }
    const uint8_t *r = m + sizeof pre - 1;
    size_t rn = n - (sizeof pre - 1);
    if (rn >= 4 && memcmp(r, "text", 4) == 0) {
        return PT_DOC_ODT;
    }
    if (rn >= 11 && memcmp(r, "spreadsheet", 11) == 0) {
        return PT_DOC_ODS;
    }
    if (rn >= 12 && memcmp(r, "presentation", 12) == 0) {
        return PT_DOC_ODP;
    }
    return PT_DOC_NONE;
}

/* ECMA-376 part 2 §10.1.2: [Content_Types].xml names the main part's content type. */
static enum pt_doc_kind ooxml_kind(const uint8_t *ct, size_t n)
{
    if (has(ct, n, "wordprocessingml.document.main+xml") ||
        has(ct, n, "wordprocessingml.template.main+xml") ||
        has(ct, n, "ms-word.document.macroEnabled.main+xml") ||
        has(ct, n, "ms-word.template.macroEnabledTemplate.main+xml")) {
        return PT_DOC_DOCX;
    }
    if (has(ct, n, "spreadsheetml.sheet.main+xml") || has(ct, n, "spreadsheetml.template.main+xml") ||
        has(ct, n, "ms-excel.sheet.macroEnabled.main+xml") ||
        has(ct, n, "ms-excel.template.macroEnabled.main+xml")) {
        return PT_DOC_XLSX;
    }
    if (has(ct, n, "presentationml.presentation.main+xml") ||
        has(ct, n, "presentationml.slideshow.main+xml") ||
        has(ct, n, "presentationml.template.main+xml") ||
        has(ct, n, "ms-powerpoint.presentation.macroEnabled.main+xml")) {
        return PT_DOC_PPTX;
    }
    return PT_DOC_NONE;
}

static enum pt_doc_kind zip_kind(struct doc *d, const struct doc_zip *z)
{
    uint8_t *m = NULL;
    size_t mn = 0;
    enum pt_doc_kind k = PT_DOC_NONE;
    if (doc_zip_find(z, "mimetype") != NULL && doc_zip_read(d, z, "mimetype", &m, &mn) == PT_OK) {
        k = odf_kind(m, mn);
        free(m);
        if (k != PT_DOC_NONE) {
            return k;
        }
    }
    if (doc_zip_find(z, "[Content_Types].xml") != NULL &&
        doc_zip_read(d, z, "[Content_Types].xml", &m, &mn) == PT_OK) {
        k = ooxml_kind(m, mn);
        free(m);
    }
    return k;
}

static bool rtf_start(const uint8_t *b, size_t n)
{
    size_t i = 0;
    if (n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf) {
        i = 3;
    }
    while (i < n && (b[i] == ' ' || b[i] == '\r' || b[i] == '\n' || b[i] == '\t')) {
        i++;
    }
    return n - i >= 5 && memcmp(b + i, "{\\rtf", 5) == 0;
}

/* ISO 32000-1 §7.5.2: the header "%PDF-1.n"; readers accept it within the first 1024 bytes. */
static bool pdf_start(const uint8_t *b, size_t n)
{
    return memmem(b, n < 1024 ? n : 1024, "%PDF-", 5) != NULL;
}

static enum pt_doc_kind sniff(const uint8_t *b, size_t n, struct doc *d)
{
    if (pdf_start(b, n)) {
        return PT_DOC_PDF;
    }
    if (rtf_start(b, n)) {
        return PT_DOC_RTF;
    }
    if (!doc_zip_like(b, n)) {
        return PT_DOC_NONE;
    }
    struct doc_zip z = {0};
    enum pt_doc_kind k = PT_DOC_NONE;
    if (doc_zip_open(d, &z) == PT_OK) {
        k = zip_kind(d, &z);
    }
    doc_zip_close(&z);
    return k;
}

enum pt_doc_kind pt_doc_sniff(const uint8_t *b, size_t n)
{
    struct pt_doc_text scratch = {0};
    struct doc d = {.b = b, .n = n, .out = &scratch, .fmt = "zip"};
    enum pt_doc_kind k = sniff(b, n, &d);
    pt_doc_text_fini(&scratch);
    return k;
}

pt_status pt_doc_extract(const uint8_t *b, size_t n, enum pt_doc_kind k, struct pt_doc_text *out,
                         const struct pt_doc_sink *sink)
{
    struct doc d = {
        .b = b, .n = n, .out = out, .sink = sink, .fmt = pt_doc_kind_name(k), .kind = k};
    switch (k) {
        case PT_DOC_RTF: doc_rtf(&d); break;
        case PT_DOC_PDF: doc_pdf(&d); break;
        case PT_DOC_DOCX:
        case PT_DOC_XLSX:
        case PT_DOC_PPTX:
        case PT_DOC_ODT:
        case PT_DOC_ODS:
        case PT_DOC_ODP: {
            struct doc_zip z = {0};
            pt_status st = doc_zip_open(&d, &z);
            if (st == PT_ENOMEM) {
                return st;
            }
            if (st == PT_OK) {
                if (k == PT_DOC_DOCX || k == PT_DOC_XLSX || k == PT_DOC_PPTX) {
                    doc_ooxml(&d, &z, k);
                } else {
                    doc_odf(&d, &z, k);
                }
            }
            doc_zip_close(&z);
            break;
        }
        case PT_DOC_NONE: break;
    }
    if (out->n == 0 && !out->oom && !d.explained && k != PT_DOC_NONE) {
        doc_anomaly(&d, PT_ANOM_DOC_NO_TEXT,
                    "no text could be extracted; the document stays an object");
    }
    return out->oom ? PT_ENOMEM : PT_OK;
}

/* ---- the derived object ---------------------------------------------------------------------- */

struct glue {
    struct pt_app_ctx *ctx;
    const struct pt_object_rec *parent;
};

static void glue_anomaly(void *arg, enum pt_anom kind, const char *detail)
{
    struct glue *g = arg;
    if (g->ctx->anomaly != NULL) {
        g->ctx->anomaly(g->ctx->arg, g->parent->item, g->parent->frame, kind, detail);
    }
}

static bool cfb_start(const uint8_t *b, size_t n)
{
    static const uint8_t sig[8] = {0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1};
    return n >= 8 && memcmp(b, sig, 8) == 0;
}

/* Is it worth mapping? The first bytes tell a zip, an RTF or a PDF apart from anything else
 * without reading the whole object. */
static bool maybe_document(const uint8_t *head, size_t n)
{
    n = n < 1024 ? n : 1024;
    return (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) ||
           pdf_start(head, n) || rtf_start(head, n) || cfb_start(head, n);
}

/* An OLE compound file ([MS-CFB] signature D0 CF 11 E0 A1 B1 1A E1) holding an encrypted
 * OOXML package ([MS-OFFCRYPTO]: stream "EncryptedPackage") or a legacy binary Word, Excel
 * or PowerPoint document: not read, but said, so no document is skipped silently. The
 * directory names are UTF-16LE; they are looked for anywhere in the file. */
static void cfb_anomaly(struct glue *g, const uint8_t *b, size_t n)
{
    static const struct {
        const char *stream;
        enum pt_anom kind;
        const char *detail;
    } known[] = {
        {"EncryptedPackage", PT_ANOM_DOC_OFFICE_ENCRYPTED,
         "an encrypted Office document (MS-OFFCRYPTO): its text cannot be read without the key"},
        {"WordDocument", PT_ANOM_DOC_LEGACY_OFFICE,
         "a legacy binary Word document: text not extracted"},
        {"Workbook", PT_ANOM_DOC_LEGACY_OFFICE,
         "a legacy binary Excel workbook: text not extracted"},
        {"PowerPoint Document", PT_ANOM_DOC_LEGACY_OFFICE,
         "a legacy binary PowerPoint file: text not extracted"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        char u16[64];
        size_t l = strlen(known[i].stream);
        for (size_t k = 0; k < l; k++) {
            u16[2 * k] = known[i].stream[k];
            u16[2 * k + 1] = '\0';
        }
        if (memmem(b, n, u16, 2 * l) != NULL) {
            glue_anomaly(g, known[i].kind, known[i].detail);
            return;
        }
    }
}

static bool store_text(struct pt_app_ctx *ctx, const struct pt_object_rec *parent,
                       enum pt_doc_kind k, const struct pt_doc_text *t)
{
    char name[sizeof parent->name], enc[32];
    snprintf(name, sizeof name, "%.*s#text", (int)(sizeof name - 6), parent->name);
    snprintf(enc, sizeof enc, "%s-text", pt_doc_kind_name(k));
    struct pt_object_rec meta;
    pt_obj_child_meta(&meta, parent, name, enc, 1);
    struct pt_obj *o = pt_obj_open(ctx->store, &meta);
    struct pt_object_rec rec;
    if (o != NULL) {
        pt_obj_write(o, (const uint8_t *)t->p, t->n);
    }
    if (o == NULL || !pt_obj_close(o, parent->complete && !t->cut, &rec)) {
        struct glue g = {ctx, parent};
        glue_anomaly(&g, PT_ANOM_DOC_STORE_FAILED,
                     "the document's text could not be stored in the "
                     "case (disk full or unwritable?)");
        return false;
    }
    if (ctx->object != NULL) {
        ctx->object(ctx->arg, &rec);
    }
    return true;
}

bool pt_doctext(struct pt_app_ctx *ctx, const struct pt_object_rec *parent)
{
    if (ctx->store == NULL || parent->size < 8 || parent->encrypted) {
        return false;
    }
    /* most objects are no document: their first KiB says so without loading them */
    uint8_t head[1024];
    size_t hn = pt_objstore_head(ctx->store, parent->sha256, head, sizeof head);
    if (hn > 0 && (hn < 8 || !maybe_document(head, hn))) {
        return false;
    }
    struct pt_objbytes ob;
    if (!pt_objstore_load(ctx->store, parent->sha256, &ob)) {
        return false;
    }
    const uint8_t *b = ob.p;
    size_t n = ob.n;
    if (n < 8 || !maybe_document(b, n)) {
        pt_object_release(&ob);
        return false;
    }
    struct glue g = {ctx, parent};
    struct pt_doc_sink sink = {&g, glue_anomaly};
    if ((uint64_t)n > PT_DOC_MAX_INPUT) {
        pt_object_release(&ob);
        glue_anomaly(&g, PT_ANOM_LIMIT_DOC_SIZE,
                     "a document larger than PT_DOC_MAX_INPUT is kept as an object, not read");
        return false;
    }
    if (cfb_start(b, n)) {
        cfb_anomaly(&g, b, n);
        pt_object_release(&ob);
        return false;
    }
    struct pt_doc_text scratch = {0};
    /* silent: a plain zip's faults are unpack's to report */
    struct doc d = {.b = b, .n = n, .out = &scratch, .sink = NULL, .fmt = "zip"};
    enum pt_doc_kind k = sniff(b, n, &d);
    pt_doc_text_fini(&scratch);
    bool made = false;
    if (k != PT_DOC_NONE && parent->depth >= PT_UNPACK_MAX_DEPTH) {
        glue_anomaly(&g, PT_ANOM_LIMIT_UNPACK_DEPTH, "a document nested deeper than the limit");
    } else if (k != PT_DOC_NONE) {
        struct pt_doc_text t = {0};
        pt_status rc = pt_doc_extract(b, n, k, &t, &sink);
        if (rc == PT_ENOMEM) {
            glue_anomaly(&g, PT_ANOM_LIMIT_DOC_MEMORY, "out of memory while extracting a document");
        }
        if (t.n > 0) {
            made = store_text(ctx, parent, k, &t);
        }
        pt_doc_text_fini(&t);
    }
    pt_object_release(&ob);
    return made;
}
