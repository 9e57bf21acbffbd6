/* test_doctext.c - documents to text: RTF controls and escapes, a hand-built PDF (FlateDecode
 * stream with an indirect /Length, Tj/TJ/Td, WinAnsi and a ToUnicode CMap with 2-byte codes),
 * XML entities in a DOCX table, XLSX shared strings, inline strings and date serials, ODS
 * dates, sniffing by content, and limits and malformed input (anomalies, no crash). Packages
 * are built here with zlib (stored and deflated members), not by phitrace. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "analyze/doctext.h"

/* ---- helpers ---------------------------------------------------------------------------------- */

struct buf {
    uint8_t *p;
    size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void le16(struct buf *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, x, 2);
}

static void le32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

/* Raw deflate (zip method 8) or zlib (PDF FlateDecode). */
static struct buf deflate_buf(const void *in, size_t n, bool raw)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, raw ? -15 : 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    struct buf o = {0};
    o.cap = deflateBound(&z, n) + 16;
    o.p = malloc(o.cap);
    assert_non_null(o.p);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = o.p;
    z.avail_out = (uInt)o.cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    o.n = o.cap - z.avail_out;
    deflateEnd(&z);
    return o;
}

struct member {
    const char *name;
    const char *data;
    size_t len; /* 0: strlen(data) */
    bool deflate;
};

/* A zip (APPNOTE 4.3) of the members: local headers, central directory, end record. */
static struct buf zip(const struct member *m, size_t n)
{
    struct buf z = {0}, cd = {0};
    for (size_t i = 0; i < n; i++) {
        size_t len = m[i].len ? m[i].len : strlen(m[i].data);
        uint32_t crc = (uint32_t)crc32(0, (const Bytef *)m[i].data, (uInt)len);
        struct buf d = m[i].deflate ? deflate_buf(m[i].data, len, true) : (struct buf){0};
        const uint8_t *data = m[i].deflate ? d.p : (const uint8_t *)m[i].data;
        size_t dn = m[i].deflate ? d.n : len;
        uint32_t off = (uint32_t)z.n;
        le32(&z, 0x04034b50);
        le16(&z, 20);
        le16(&z, 0);
        le16(&z, m[i].deflate ? 8 : 0);
        le32(&z, 0);
        le32(&z, crc);
        le32(&z, (uint32_t)dn);
        le32(&z, (uint32_t)len);
        le16(&z, (unsigned)strlen(m[i].name));
        le16(&z, 0);
        puts_(&z, m[i].name);
        put(&z, data, dn);
        le32(&cd, 0x02014b50);
        le16(&cd, 20);
        le16(&cd, 20);
        le16(&cd, 0);
        le16(&cd, m[i].deflate ? 8 : 0);
        le32(&cd, 0);
        le32(&cd, crc);
        le32(&cd, (uint32_t)dn);
        le32(&cd, (uint32_t)len);
        le16(&cd, (unsigned)strlen(m[i].name));
        le16(&cd, 0);
        le16(&cd, 0);
        le16(&cd, 0);
        le16(&cd, 0);
        le32(&cd, 0);
        le32(&cd, off);
        puts_(&cd, m[i].name);
        free(d.p);
    }
    uint32_t cd_off = (uint32_t)z.n;
    put(&z, cd.p, cd.n);
    le32(&z, 0x06054b50);
    le16(&z, 0);
    le16(&z, 0);
    le16(&z, (unsigned)n);
    le16(&z, (unsigned)n);
    le32(&z, (uint32_t)cd.n);
    le32(&z, cd_off);
    le16(&z, 0);
    free(cd.p);
    return z;
}

struct seen {
    char kinds[2048];
};

static void on_anomaly(void *arg, enum pt_anom kind_id, const char *detail)
{
    const char *kind = pt_anom_kind(kind_id);
    struct seen *s = arg;
    (void)detail;
    size_t l = strlen(s->kinds);
    snprintf(s->kinds + l, sizeof s->kinds - l, "%s;", kind);
}

/* Extract b as kind k; the text, NUL-terminated (caller frees), anomalies into *s. */
static char *extract(const void *b, size_t n, enum pt_doc_kind k, struct seen *s)
{
    struct pt_doc_text t = {0};
    struct pt_doc_sink sink = {s, on_anomaly};
    memset(s, 0, sizeof *s);
    assert_int_equal(pt_doc_extract(b, n, k, &t, &sink), PT_OK);
    char *out = malloc(t.n + 1);
    assert_non_null(out);
    memcpy(out, t.p ? t.p : "", t.n);
    out[t.n] = '\0';
    pt_doc_text_fini(&t);
    return out;
}

/* Every prefix of b extracts without a crash (AddressSanitizer checks the reads). */
static void every_prefix(const uint8_t *b, size_t n, enum pt_doc_kind k)
{
    size_t step = n > 600 ? n / 300 : 1;
    for (size_t cut = 0; cut < n; cut += step) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, b, cut);
        struct seen s;
        free(extract(copy, cut, k, &s));
        free(copy);
    }
}

/* ---- RTF -------------------------------------------------------------------------------------- */

static void rtf_controls_and_escapes(void **state)
{
    (void)state;
    static const char rtf[] =
        "{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0\\fswiss Arial;}}{\\colortbl;\\red0\\green0"
        "\\blue0;}{\\stylesheet{\\s0 Normal;}}{\\info{\\title Secret title}{\\author X}}"
        "{\\*\\generator Writer;}\\pard Caf\\'e9 \\u233?t\\'e9\\par\n"
        "\\trowd\\intbl MRN\\cell SSN\\cell\\row\n"
        "\\intbl 00451234\\cell 123-45-6789\\cell\\row\n"
        "\\pard {\\b bold} \\{braces\\}\\tab x\\line y\\page z\\uc2\\u8364\\'80\\'80 euro}";
    struct seen s;
    char *t = extract(rtf, sizeof rtf - 1, PT_DOC_RTF, &s);
    assert_string_equal(t, "Caf\xc3\xa9 \xc3\xa9t\xc3\xa9\n"
                           "MRN\tSSN\n"
                           "00451234\t123-45-6789\n"
                           "bold {braces}\tx\ny\n\fz\xe2\x82\xac euro\n");
    assert_string_equal(s.kinds, "");
    free(t);
    assert_int_equal(pt_doc_sniff((const uint8_t *)rtf, sizeof rtf - 1), PT_DOC_RTF);
    every_prefix((const uint8_t *)rtf, sizeof rtf - 1, PT_DOC_RTF);
}

static void rtf_limits(void **state)
{
    (void)state;
    /* nesting past PT_DOC_RTF_DEPTH: an anomaly, the text before kept */
    struct buf b = {0};
    puts_(&b, "{\\rtf1 kept ");
    for (int i = 0; i < 1000; i++) {
        puts_(&b, "{");
    }
    puts_(&b, "deep");
    struct seen s;
    char *t = extract(b.p, b.n, PT_DOC_RTF, &s);
    assert_string_equal(t, "kept\n");
    assert_non_null(strstr(s.kinds, "doc.rtf.too_deep;"));
    free(t);
    /* cut inside a group; a \bin longer than the document; a bad \'hh */
    t = extract("{\\rtf1 abc{\\b def", 17, PT_DOC_RTF, &s);
    assert_string_equal(t, "abcdef\n");
    assert_non_null(strstr(s.kinds, "doc.rtf.truncated;"));
    free(t);
    t = extract("{\\rtf1 a\\bin99999 xyz}", 22, PT_DOC_RTF, &s);
    assert_non_null(strstr(s.kinds, "doc.rtf.bad_bin;"));
    free(t);
    t = extract("{\\rtf1 a\\'zz}", 13, PT_DOC_RTF, &s);
    assert_non_null(strstr(s.kinds, "doc.rtf.bad_hex;"));
    free(t);
    free(b.p);
}

/* ---- PDF -------------------------------------------------------------------------------------- */

/* A PDF of the given objects ("N 0 obj" bodies, in order from 1), a trailer with /Root 1 0 R
 * and `trailer_extra`; object bodies may hold a stream, added verbatim. */
static struct buf pdf(const struct buf *objs, size_t n, const char *trailer_extra)
{
    struct buf p = {0};
    puts_(&p, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
    for (size_t i = 0; i < n; i++) {
        char h[32];
        snprintf(h, sizeof h, "%zu 0 obj\n", i + 1);
        puts_(&p, h);
        put(&p, objs[i].p, objs[i].n);
        puts_(&p, "\nendobj\n");
    }
    char t[256];
    snprintf(t, sizeof t, "trailer\n<< /Size %zu /Root 1 0 R %s >>\n%%%%EOF\n", n + 1,
             trailer_extra);
    puts_(&p, t);
    return p;
}

static struct buf text_obj(const char *s)
{
    struct buf b = {0};
    puts_(&b, s);
    return b;
}

static struct buf stream_obj(const char *dict, const void *data, size_t n)
{
    struct buf b = {0};
    puts_(&b, dict);
    puts_(&b, "\nstream\n");
    put(&b, data, n);
    puts_(&b, "\nendstream");
    return b;
}

static void free_objs(struct buf *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(o[i].p);
    }
}

static void pdf_flate_tj_tj_td(void **state)
{
    (void)state;
    static const char content[] =
        "BT /F1 12 Tf 72 720 Td (Hello \\(PDF\\)) Tj ET\n"
        "BT /F1 12 Tf 72 700 Td [(Wor) -50 (ld)] TJ 0 -20 Td (SSN\\040123-45-6789) Tj\n"
        "0 -20 Td [(MRN) -3000 (00451234)] TJ 300 0 Td (far) Tj\n"
        "14 TL 0 -20 Td <436166E9> Tj T* (x) ' ET";
    struct buf z = deflate_buf(content, sizeof content - 1, false);
    char len[32];
    snprintf(len, sizeof len, "%zu", z.n);
    struct buf o[6] = {
        text_obj("<< /Type /Catalog /Pages 2 0 R >>"),
        text_obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        text_obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                 "/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"),
        stream_obj("<< /Length 6 0 R /Filter /FlateDecode >>", z.p, z.n),
        text_obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                 "/Encoding /WinAnsiEncoding >>"),
        text_obj(len),
    };
    struct buf p = pdf(o, 6, "");
    assert_int_equal(pt_doc_sniff(p.p, p.n), PT_DOC_PDF);
    struct seen s;
    char *t = extract(p.p, p.n, PT_DOC_PDF, &s);
    assert_string_equal(t, "Hello (PDF)\nWorld\nSSN 123-45-6789\nMRN\t00451234\tfar\n"
                           "Caf\xc3\xa9\nx\n");
    assert_string_equal(s.kinds, "");
    free(t);
    every_prefix(p.p, p.n, PT_DOC_PDF);
    /* a wrong /Length: the stream is found by its endstream keyword */
    free(o[5].p);
    o[5] = text_obj("9");
    free(p.p);
    p = pdf(o, 6, "");
    t = extract(p.p, p.n, PT_DOC_PDF, &s);
    assert_non_null(strstr(t, "SSN 123-45-6789"));
    free(t);
    /* encrypted: an anomaly and no text */
    free(p.p);
    p = pdf(o, 6, "/Encrypt << /Filter /Standard /V 2 >>");
    t = extract(p.p, p.n, PT_DOC_PDF, &s);
    assert_string_equal(t, "");
    assert_string_equal(s.kinds, "doc.pdf_encrypted;");
    free(t);
    free(p.p);
    free(z.p);
    free_objs(o, 6);
}

static void pdf_tounicode_identity_h(void **state)
{
    (void)state;
    /* a subset font as Word, LibreOffice and Skia embed them: Type0, Identity-H, ToUnicode */
    static const char cmap[] =
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        "2 beginbfchar <0001> <0048> <0007> <00660069> endbfchar\n"
        "2 beginbfrange <0002> <0004> <0069> <0005> <0006> [<00E9> <D83DDE00>] endbfrange\n"
        "endcmap CMapName currentdict /CMap defineresource pop end end";
    static const char content[] = "BT /F2 10 Tf 1 0 0 1 50 500 Tm <00010002000500060007> Tj "
                                  "0 -14 Td <00030004> Tj ET";
    struct buf o[7] = {
        text_obj("<< /Type /Catalog /Pages 2 0 R >>"),
        text_obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        text_obj("<< /Type /Page /Parent 2 0 R /Resources << /Font << /F2 5 0 R >> >> "
                 "/Contents 4 0 R >>"),
        stream_obj("<< /Length 90 >>", content, sizeof content - 1),
        text_obj("<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+Calibri /Encoding "
                 "/Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>"),
        text_obj("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+Calibri /DW 500 "
                 "/W [1 [600 500] 5 6 550] >>"),
        stream_obj("<< >>", cmap, sizeof cmap - 1),
    };
    struct buf p = pdf(o, 7, "");
    struct seen s;
    char *t = extract(p.p, p.n, PT_DOC_PDF, &s);
    assert_string_equal(t, "Hi\xc3\xa9\xf0\x9f\x98\x80" "fi\njk\n");
    assert_string_equal(s.kinds, "");
    free(t);
    every_prefix(p.p, p.n, PT_DOC_PDF);
    free(p.p);
    free_objs(o, 7);
}

static void pdf_malformed(void **state)
{
    (void)state;
    struct seen s;
    char *t = extract("%PDF-1.7\nnothing here", 21, PT_DOC_PDF, &s);
    assert_string_equal(t, "");
    assert_non_null(strstr(s.kinds, "doc.pdf.no_objects;"));
    free(t);
    /* no page tree, a cut stream: text in file order and anomalies */
    static const char cut[] = "%PDF-1.4\n1 0 obj << /Length 500 >> stream\nBT (loose text) Tj ET";
    t = extract(cut, sizeof cut - 1, PT_DOC_PDF, &s);
    assert_string_equal(t, "loose text\n");
    assert_non_null(strstr(s.kinds, "doc.pdf.no_page_tree;"));
    assert_non_null(strstr(s.kinds, "doc.pdf.stream_cut;"));
    free(t);
    /* a Flate bomb: 16 MiB of zeros (about 1000:1) stops at the ratio limit */
    size_t big = 16u << 20;
    uint8_t *zeros = calloc(1, big);
    struct buf z = deflate_buf(zeros, big, false);
    free(zeros);
    struct buf o[1] = {stream_obj("<< /Filter /FlateDecode >>", z.p, z.n)};
    struct buf p = pdf(o, 1, "");
    t = extract(p.p, p.n, PT_DOC_PDF, &s);
    assert_non_null(strstr(s.kinds, "limit.doc_inflate;"));
    free(t);
    free(p.p);
    free(z.p);
    free_objs(o, 1);
    /* self-referencing /Length and deep nesting do not loop or overflow */
    struct buf deep = {0};
    puts_(&deep, "%PDF-1.4\n1 0 obj << /Length 1 0 R >> stream\nBT (a) Tj ET\nendstream endobj\n"
                 "2 0 obj ");
    for (int i = 0; i < 100000; i++) {
        puts_(&deep, "[");
    }
    t = extract(deep.p, deep.n, PT_DOC_PDF, &s);
    assert_string_equal(t, "a\n");
    free(t);
    free(deep.p);
    /* a page tree whose node names itself 2000 times, and a page whose one content stream
     * is named 5000 times: bounded by the node limit and the decoded-bytes budget */
    struct buf fan = {0};
    puts_(&fan, "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
                "2 0 obj << /Type /Pages /Kids [3 0 R");
    for (int i = 0; i < 2000; i++) {
        puts_(&fan, " 2 0 R");
    }
    puts_(&fan, "] >> endobj\n3 0 obj << /Type /Page /Contents [");
    for (int i = 0; i < 5000; i++) {
        puts_(&fan, " 4 0 R");
    }
    puts_(&fan, "] >> endobj\n4 0 obj << /Length 16 >> stream\nBT (once) Tj ET \nendstream "
                "endobj\ntrailer << /Root 1 0 R >>\n");
    t = extract(fan.p, fan.n, PT_DOC_PDF, &s);
    assert_non_null(strstr(s.kinds, "limit.pdf_pages;"));
    assert_true(strncmp(t, "once", 4) == 0);
    free(t);
    free(fan.p);
}

/* ---- OOXML and OpenDocument ------------------------------------------------------------------ */

static const char docx_types[] =
    "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
    "content-types\"><Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-"
    "officedocument.wordprocessingml.document.main+xml\"/></Types>";

static void docx_entities_table_breaks(void **state)
{
    (void)state;
    static const char doc[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
        "<w:document xmlns:w=\"w\"><w:body>"
        "<w:p><w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"720\"/></w:tabs></w:pPr>"
        "<w:r><w:t>Smith &amp; Sons &#233;&#xE9;&#x1F600; &lt;b&gt;</w:t></w:r></w:p>"
        "<w:p><w:r><w:t xml:space=\"preserve\">A </w:t></w:r><w:r><w:tab/><w:t>B</w:t>"
        "<w:br w:type=\"page\"/><w:t>C</w:t></w:r></w:p>"
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>mrn</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p/></w:tc><w:tc><w:p><w:r><w:t>ssn</w:t></w:r></w:p></w:tc></w:tr>"
        "<w:tr><w:tc><w:p><w:r><w:t>0045</w:t></w:r></w:p><w:p><w:r><w:t>1234</w:t></w:r>"
        "</w:p></w:tc><w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>123-45-6789</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
        "<w:p><w:pPr><w:sectPr/></w:pPr><w:r><w:instrText>PAGE</w:instrText>"
        "<w:t>end</w:t></w:r></w:p><w:p><w:r><w:t>next section</w:t></w:r></w:p>"
        "<w:sectPr/></w:body></w:document>";
    struct member m[] = {{"[Content_Types].xml", docx_types, 0, false},
                         {"word/document.xml", doc, 0, true}};
    struct buf z = zip(m, 2);
    assert_int_equal(pt_doc_sniff(z.p, z.n), PT_DOC_DOCX);
    struct seen s;
    char *t = extract(z.p, z.n, PT_DOC_DOCX, &s);
    assert_string_equal(t, "Smith & Sons \xc3\xa9\xc3\xa9\xf0\x9f\x98\x80 <b>\n"
                           "A \tB\n\fC\n"
                           "mrn\t\tssn\n"
                           "0045 1234\tx\t123-45-6789\n"
                           "end\n\fnext section\n");
    assert_string_equal(s.kinds, "");
    free(t);
    every_prefix(z.p, z.n, PT_DOC_DOCX);
    free(z.p);
    /* a plain zip is no document; neither is text */
    struct member plain[] = {{"notes.txt", "hello", 0, false}};
    z = zip(plain, 1);
    assert_int_equal(pt_doc_sniff(z.p, z.n), PT_DOC_NONE);
    free(z.p);
    assert_int_equal(pt_doc_sniff((const uint8_t *)"PK\x03\x04 not a zip", 14), PT_DOC_NONE);
    assert_int_equal(pt_doc_sniff((const uint8_t *)"plain text", 10), PT_DOC_NONE);
}

static void xlsx_shared_strings_and_dates(void **state)
{
    (void)state;
    static const char types[] =
        "<Types><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd."
        "openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/></Types>";
    static const char wb[] =
        "<workbook xmlns:r=\"r\"><sheets><sheet name=\"B\" sheetId=\"2\" r:id=\"rId2\"/>"
        "<sheet name=\"A\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
    static const char rels[] =
        "<Relationships>"
        "<Relationship Id=\"rId1\" Type=\"http://x/relationships/worksheet\" "
        "Target=\"worksheets/sheet1.xml\"/>"
        "<Relationship Id=\"rId2\" Type=\"http://x/relationships/worksheet\" "
        "Target=\"/xl/worksheets/sheet2.xml\"/>"
        "<Relationship Id=\"rId3\" Type=\"http://x/relationships/sharedStrings\" "
        "Target=\"sharedStrings.xml\"/>"
        "<Relationship Id=\"rId4\" Type=\"http://x/relationships/styles\" Target=\"styles.xml\"/>"
        "</Relationships>";
    static const char sst[] =
        "<sst count=\"4\"><si><t>mrn</t></si><si><t>dob</t></si>"
        "<si><r><t>Smith</t></r><r><t xml:space=\"preserve\"> &amp; Co</t></r>"
        "<rPh><t>SUMISU</t></rPh></si><si><t>line\none</t></si></sst>";
    static const char styles[] =
        "<styleSheet><numFmts count=\"2\"><numFmt numFmtId=\"164\" formatCode=\"yyyy\\-mm\\-dd\"/>"
        "<numFmt numFmtId=\"165\" formatCode=\"&quot;d&quot;0.00\"/></numFmts>"
        "<cellStyleXfs><xf numFmtId=\"14\"/></cellStyleXfs>"
        "<cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"164\"/><xf numFmtId=\"14\"/>"
        "<xf numFmtId=\"165\"/><xf numFmtId=\"20\"/></cellXfs></styleSheet>";
    static const char sheet1[] =
        "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c>"
        "<c r=\"B1\" t=\"s\"><v>1</v></c></row>"
        "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>2</v></c><c r=\"B2\" s=\"1\"><v>31134</v></c>"
        "<c r=\"C2\" t=\"inlineStr\"><is><t>inline</t></is></c><c r=\"D2\" s=\"1\"/>"
        "<c r=\"E2\" s=\"3\"><v>3.5</v></c><c r=\"F2\" s=\"2\"><v>45000.75</v></c>"
        "<c r=\"G2\" s=\"4\"><v>0.5</v></c><c r=\"H2\" t=\"b\"><v>1</v></c></row>"
        "<row r=\"4\"><c r=\"C4\" t=\"s\"><v>3</v></c><c r=\"D4\" s=\"2\"><v>60</v></c>"
        "<c r=\"E4\" t=\"s\"><v>99</v></c></row></sheetData></worksheet>";
    static const char sheet2[] =
        "<worksheet><sheetData><row><c t=\"str\"><f>A1</f><v>first &lt;sheet&gt;</v></c>"
        "</row></sheetData></worksheet>";
    struct member m[] = {{"[Content_Types].xml", types, 0, false},
                         {"xl/workbook.xml", wb, 0, true},
                         {"xl/_rels/workbook.xml.rels", rels, 0, false},
                         {"xl/sharedStrings.xml", sst, 0, true},
                         {"xl/styles.xml", styles, 0, false},
                         {"xl/worksheets/sheet1.xml", sheet1, 0, true},
                         {"xl/worksheets/sheet2.xml", sheet2, 0, false}};
    struct buf z = zip(m, 7);
    assert_int_equal(pt_doc_sniff(z.p, z.n), PT_DOC_XLSX);
    struct seen s;
    char *t = extract(z.p, z.n, PT_DOC_XLSX, &s);
    /* sheets in workbook order; 31134 with yyyy-mm-dd is 1985-03-28, 45000.75 with
     * built-in 14 is 2023-03-15, serial 60 is Lotus's 1900-02-29; "d" quoted is not a date
     * part; format 20 (h:mm) is a time, shown as written */
    assert_string_equal(t, "first <sheet>\n\f"
                           "mrn\tdob\n"
                           "Smith & Co\t1985-03-28\tinline\t\t3.5\t2023-03-15\t0.5\tTRUE\n"
                           "\t\tline one\t1900-02-29\n");
    assert_string_equal(s.kinds, "doc.xlsx.bad_shared_string;");
    free(t);
    every_prefix(z.p, z.n, PT_DOC_XLSX);
    free(z.p);
}

static void ods_dates_and_repeats(void **state)
{
    (void)state;
    static const char content[] =
        "<office:document-content xmlns:office=\"o\" xmlns:table=\"t\" xmlns:text=\"x\">"
        "<office:body><office:spreadsheet><table:table table:name=\"P\">"
        "<table:table-row><table:table-cell office:value-type=\"string\"><text:p>mrn</text:p>"
        "</table:table-cell><table:table-cell table:number-columns-repeated=\"2\"/>"
        "<table:table-cell><text:p>dob</text:p></table:table-cell>"
        "<table:table-cell table:number-columns-repeated=\"1000000\"/></table:table-row>"
        "<table:table-row table:number-rows-repeated=\"5000000\"><table:table-cell "
        "table:number-columns-repeated=\"16384\"/></table:table-row>"
        "<table:table-row><table:table-cell><text:p>A<text:s text:c=\"2\"/>B</text:p>"
        "<text:p>C</text:p></table:table-cell><table:table-cell/><table:table-cell/>"
        "<table:table-cell office:value-type=\"date\" office:date-value=\"1985-03-28T00:00:00\">"
        "<text:p>03/28/85</text:p></table:table-cell></table:table-row>"
        "</table:table><table:table><table:table-row><table:table-cell><text:p>s2</text:p>"
        "</table:table-cell></table:table-row></table:table>"
        "</office:spreadsheet></office:body></office:document-content>";
    struct member m[] = {{"mimetype", "application/vnd.oasis.opendocument.spreadsheet", 0, false},
                         {"content.xml", content, 0, true}};
    struct buf z = zip(m, 2);
    assert_int_equal(pt_doc_sniff(z.p, z.n), PT_DOC_ODS);
    struct seen s;
    char *t = extract(z.p, z.n, PT_DOC_ODS, &s);
    assert_string_equal(t, "mrn\t\t\tdob\nA  B C\t\t\t1985-03-28\n\fs2\n");
    assert_string_equal(s.kinds, "");
    free(t);
    every_prefix(z.p, z.n, PT_DOC_ODS);
    free(z.p);
}

static void pptx_slides_in_show_order(void **state)
{
    (void)state;
    static const char types[] =
        "<Types><Override PartName=\"/ppt/presentation.xml\" ContentType=\"application/vnd."
        "openxmlformats-officedocument.presentationml.presentation.main+xml\"/></Types>";
    static const char pres[] =
        "<p:presentation xmlns:p=\"p\" xmlns:r=\"r\"><p:sldIdLst>"
        "<p:sldId id=\"256\" r:id=\"rId3\"/><p:sldId id=\"257\" r:id=\"rId2\"/>"
        "</p:sldIdLst></p:presentation>";
    static const char rels[] =
        "<Relationships><Relationship Id=\"rId2\" Type=\"x/slide\" Target=\"slides/slide1.xml\"/>"
        "<Relationship Id=\"rId3\" Type=\"x/slide\" Target=\"slides/slide2.xml\"/>"
        "<Relationship Id=\"rId9\" Type=\"x/hyperlink\" Target=\"http://x\" "
        "TargetMode=\"External\"/></Relationships>";
    static const char s1[] =
        "<p:sld xmlns:p=\"p\" xmlns:a=\"a\"><p:txBody><a:p><a:r><a:t>second</a:t></a:r></a:p>"
        "</p:txBody><a:tbl><a:tr><a:tc><a:txBody><a:p><a:r><a:t>MRN</a:t></a:r></a:p>"
        "</a:txBody></a:tc><a:tc><a:txBody><a:p><a:r><a:t>00451234</a:t></a:r></a:p>"
        "</a:txBody></a:tc></a:tr></a:tbl></p:sld>";
    static const char s2[] =
        "<p:sld xmlns:p=\"p\" xmlns:a=\"a\"><a:p><a:r><a:t>first</a:t></a:r><a:br/><a:r>"
        "<a:t>line two</a:t></a:r></a:p><mc:AlternateContent><mc:Choice><a:p><a:r><a:t>new"
        "</a:t></a:r></a:p></mc:Choice><mc:Fallback><a:p><a:r><a:t>old</a:t></a:r></a:p>"
        "</mc:Fallback></mc:AlternateContent></p:sld>";
    struct member m[] = {{"[Content_Types].xml", types, 0, false},
                         {"ppt/presentation.xml", pres, 0, true},
                         {"ppt/_rels/presentation.xml.rels", rels, 0, false},
                         {"ppt/slides/slide1.xml", s1, 0, true},
                         {"ppt/slides/slide2.xml", s2, 0, true}};
    struct buf z = zip(m, 5);
    assert_int_equal(pt_doc_sniff(z.p, z.n), PT_DOC_PPTX);
    struct seen s;
    char *t = extract(z.p, z.n, PT_DOC_PPTX, &s);
    assert_string_equal(t, "first\nline two\nnew\n\fsecond\nMRN\t00451234\n");
    assert_string_equal(s.kinds, "");
    free(t);
    every_prefix(z.p, z.n, PT_DOC_PPTX);
    free(z.p);
}

static void package_limits_and_damage(void **state)
{
    (void)state;
    /* XML nested past PT_DOC_MAX_XML_DEPTH: an anomaly, the text before it kept */
    struct buf x = {0};
    puts_(&x, "<w:document><w:body><w:p><w:r><w:t>kept</w:t></w:r></w:p>");
    for (int i = 0; i < 400; i++) {
        puts_(&x, "<w:x>");
    }
    put(&x, "", 1);
    struct member m[] = {{"[Content_Types].xml", docx_types, 0, false},
                         {"word/document.xml", (const char *)x.p, 0, true}};
    struct buf z = zip(m, 2);
    struct seen s;
    char *t = extract(z.p, z.n, PT_DOC_DOCX, &s);
    assert_string_equal(t, "kept\n");
    assert_non_null(strstr(s.kinds, "doc.docx.bad_xml;"));
    free(t);
    /* cut before the central directory: members found by their local headers */
    t = extract(z.p, z.n - 60, PT_DOC_DOCX, &s);
    assert_string_equal(t, "kept\n");
    assert_non_null(strstr(s.kinds, "doc.docx.zip_no_directory;"));
    free(t);
    free(z.p);
    free(x.p);
    /* a deflate bomb member: the ratio limit stops it with an anomaly */
    size_t big = 16u << 20;
    char *zeros = malloc(big + 1);
    memset(zeros, ' ', big);
    static const char head[] = "<w:document><w:body><w:p><w:r><w:t>x</w:t></w:r></w:p>";
    memcpy(zeros, head, sizeof head - 1);
    zeros[big] = '\0';
    struct member bomb[] = {{"[Content_Types].xml", docx_types, 0, false},
                            {"word/document.xml", zeros, big, true}};
    z = zip(bomb, 2);
    free(zeros);
    t = extract(z.p, z.n, PT_DOC_DOCX, &s);
    assert_non_null(strstr(s.kinds, "limit.doc_inflate;"));
    assert_string_equal(t, "x\n");
    free(t);
    free(z.p);
    /* the main part is missing: an anomaly and no text */
    struct member none[] = {{"[Content_Types].xml", docx_types, 0, false}};
    z = zip(none, 1);
    t = extract(z.p, z.n, PT_DOC_DOCX, &s);
    assert_string_equal(t, "");
    assert_non_null(strstr(s.kinds, "doc.docx.missing_part;"));
    assert_non_null(strstr(s.kinds, "doc.docx.no_text;"));
    free(t);
    free(z.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rtf_controls_and_escapes),
        cmocka_unit_test(rtf_limits),
        cmocka_unit_test(pdf_flate_tj_tj_td),
        cmocka_unit_test(pdf_tounicode_identity_h),
        cmocka_unit_test(pdf_malformed),
        cmocka_unit_test(docx_entities_table_breaks),
        cmocka_unit_test(xlsx_shared_strings_and_dates),
        cmocka_unit_test(ods_dates_and_repeats),
        cmocka_unit_test(pptx_slides_in_show_order),
        cmocka_unit_test(package_limits_and_damage),
    };
    return cmocka_run_group_tests_name("doctext", tests, NULL, NULL);
}
