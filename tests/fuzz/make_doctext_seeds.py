#!/usr/bin/env python3
"""Write the seed corpus for fuzz_doctext: a tiny DOCX, XLSX, PPTX, ODS, RTF and two PDFs
(a FlateDecode page with a Type0 font and ToUnicode CMap; a PDF 1.5 object stream), each
with byte 0 = 0 (sniffed). Python's zipfile and zlib only. Run once; seeds are committed.
Usage: make_doctext_seeds.py OUTDIR"""
import io
import os
import sys
import zipfile
import zlib

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def z(members):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data, zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
    return b.getvalue()


def ct(part, kind):
    return ('<Types><Override PartName="/%s" ContentType="application/vnd.openxmlformats-'
            'officedocument.%s.main+xml"/></Types>' % (part, kind))


seeds = {}
seeds["docx"] = z([
    ("[Content_Types].xml", ct("word/document.xml", "wordprocessingml.document")),
    ("word/document.xml", '<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Caf&#233; &amp;'
     '</w:t><w:tab/><w:br w:type="page"/></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>'
     'MRN 00451234</w:t></w:r></w:p></w:tc><w:tc><w:p/></w:tc></w:tr></w:tbl>'
     '<w:p><w:pPr><w:sectPr/></w:pPr></w:p></w:body></w:document>')])
seeds["xlsx"] = z([
    ("[Content_Types].xml", ct("xl/workbook.xml", "spreadsheetml.sheet")),
    ("xl/workbook.xml", '<workbook xmlns:r="r"><workbookPr date1904="1"/><sheets>'
     '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    ("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" Type="x/worksheet" '
     'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="x/sharedStrings" '
     'Target="sharedStrings.xml"/><Relationship Id="rId3" Type="x/styles" '
     'Target="../xl/styles.xml"/></Relationships>'),
    ("xl/sharedStrings.xml", '<sst><si><t>ssn</t></si><si><r><t>123-45-</t></r><r><t>6789</t>'
     '</r><rPh><t>x</t></rPh></si></sst>'),
    ("xl/styles.xml", '<styleSheet><numFmts><numFmt numFmtId="164" formatCode="d/m/yyyy"/>'
     '</numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/></cellXfs>'
     '</styleSheet>'),
    ("xl/worksheets/sheet1.xml", '<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v>'
     '</c><c r="C1" s="1"><v>30000</v></c></row><row r="2"><c r="B2" t="s"><v>1</v></c>'
     '<c r="C2" t="inlineStr"><is><t>inline</t></is></c><c r="D2" t="b"><v>0</v></c>'
     '</row></sheetData></worksheet>')])
seeds["pptx"] = z([
    ("[Content_Types].xml", ct("ppt/presentation.xml", "presentationml.presentation")),
    ("ppt/presentation.xml", '<p:presentation xmlns:p="p" xmlns:r="r"><p:sldIdLst>'
     '<p:sldId id="256" r:id="rId2"/></p:sldIdLst></p:presentation>'),
    ("ppt/_rels/presentation.xml.rels", '<Relationships><Relationship Id="rId2" '
     'Type="x/slide" Target="slides/slide1.xml"/></Relationships>'),
    ("ppt/slides/slide1.xml", '<p:sld xmlns:p="p" xmlns:a="a"><a:p><a:r><a:t>Patient list'
     '</a:t></a:r><a:br/><a:r><a:t>DOB 1980-01-02</a:t></a:r></a:p><a:tbl><a:tr><a:tc>'
     '<a:txBody><a:p><a:r><a:t>x</a:t></a:r></a:p></a:txBody></a:tc></a:tr></a:tbl></p:sld>')])
seeds["ods"] = z([
    ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
    ("content.xml", '<office:document-content xmlns:office="o" xmlns:table="t" xmlns:text="x">'
     '<office:body><office:spreadsheet><table:table><table:table-row><table:table-cell>'
     '<text:p>a<text:s text:c="3"/>b</text:p></table:table-cell><table:table-cell '
     'table:number-columns-repeated="3"/><table:table-cell office:value-type="date" '
     'office:date-value="2001-02-03"><text:p>02/03/01</text:p></table:table-cell>'
     '</table:table-row><table:table-row table:number-rows-repeated="9"><table:table-cell>'
     '<text:p>r</text:p></table:table-cell></table:table-row></table:table>'
     '</office:spreadsheet></office:body></office:document-content>')])
seeds["rtf"] = (b"{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}{\\*\\generator w;}{\\info{\\title t}}"
                b"Caf\\'e9\\par \\uc1\\u233?\\u-10179?\\u-8704?\\par\\intbl a\\cell b\\cell\\row"
                b"{\\pict\\bin4 ABCD}\\page end}")

content = (b"BT /F1 12 Tf 72 720 Td (Hello \\(x\\) \\101) Tj [(A) -3000 (B)] TJ T* <4142> Tj "
           b"ET q 1 0 0 1 5 5 cm BT /F2 10 Tf 1 0 0 1 50 500 Tm <00010002> Tj ET Q "
           b"BI /W 1 /H 1 ID xyz EI /X0 Do")
cmap = (b"1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfchar <0001> <0048> "
        b"endbfchar 1 beginbfrange <0002> <0003> [<0069> <D83DDE00>] endbfrange")
form = b"BT /F1 9 Tf 10 10 Td (in a form) Tj ET"
zc = zlib.compress(content)
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 5 0 R /F2 7 0 R >>"
        b" /XObject << /X0 10 0 R >> >> >>",
        b"<< /Type /Page /Parent 2 0 R /Contents [4 0 R] >>",
        b"<< /Length 6 0 R /Filter [/FlateDecode] >>\nstream\n" + zc + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Differences "
        b"[65 /A /uni0042 /eacute] >> /FirstChar 32 /Widths [250 300] >>",
        str(len(zc)).encode(),
        b"<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /DescendantFonts [8 0 R] "
        b"/ToUnicode 9 0 R >>",
        b"<< /Subtype /CIDFontType2 /DW 1000 /W [1 [500 600] 2 3 700] >>",
        b"<< /Length %d /Filter /ASCIIHexDecode >>\nstream\n" % (len(cmap) * 2 + 1) +
        cmap.hex().encode() + b">\nendstream",
        b"<< /Type /XObject /Subtype /Form /Matrix [1 0 0 1 0 0] /Length %d >>\nstream\n"
        % len(form) + form + b"\nendstream"]


def pdf(objs, trailer):
    b = b"%PDF-1.5\n"
    for i, o in enumerate(objs):
        b += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    return b + trailer


seeds["pdf"] = pdf(objs, b"trailer << /Root 1 0 R >>\n%%EOF\n")
# PDF 1.5: the catalog, pages and font inside an object stream; the trailer is an xref stream
inner = [b"<< /Type /Catalog /Pages 2 0 R >>",
         b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
         b"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R >> >> /Contents 6 0 R >>",
         b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>"]
head, body = b"", b""
for i, o in enumerate(inner):
    head += b"%d %d " % (i + 1, len(body))
    body += o + b" "
stm = zlib.compress(head + body)
page = zlib.compress(b"BT /F1 11 Tf 100 700 Td (MRN 00451234 in an object stream) Tj ET")
seeds["pdf-objstm"] = (
    b"%PDF-1.5\n5 0 obj\n<< /Type /ObjStm /N 4 /First " + str(len(head)).encode() +
    b" /Filter /FlateDecode /Length " + str(len(stm)).encode() + b" >>\nstream\n" + stm +
    b"\nendstream\nendobj\n6 0 obj\n<< /Filter /FlateDecode /Length " +
    str(len(page)).encode() + b" >>\nstream\n" + page + b"\nendstream\nendobj\n"
    b"7 0 obj\n<< /Type /XRef /Root 1 0 R /Size 8 /W [1 2 1] /Length 4 >>\nstream\n"
    b"\x00\x00\x00\x00\nendstream\nendobj\nstartxref\n0\n%%EOF\n")
for name, data in seeds.items():
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"\x00" + data)
