#!/usr/bin/env python3
"""Write one 40-patient roster as office documents made by other programs, for e2e_doctext.

usage: gen_documents.py OUTDIR [SEED]

Writes OUTDIR/roster.json (the planted patients: mrn, name, dob, ssn, diagnosis) and
  roster.xlsx (openpyxl; dob as real date cells with a date format)
  roster.docx (python-docx; a table, landscape so LibreOffice does not wrap cells)
  roster-helvetica.pdf (reportlab, standard Helvetica, WinAnsi)
  roster-ttf.pdf (reportlab, DejaVuSans embedded as a subset with a ToUnicode CMap)
  roster.ods, roster.odt (odfpy; dob as office:date-value in the ODS)
  roster.html (for Chromium's print to PDF)
and prints a JSON object {"made": [...], "skipped": {"file": "reason"}}. The expected values
come from here, never from phitrace.
"""
import datetime
import json
import os
import random
import sys

FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
         "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
         "Thomas", "Sarah", "Charles", "Karen"]
LAST = ["Okafor", "Lindqvist", "Haddad", "Moreau", "Kowalski", "Tanaka", "Brennan", "Ferreira",
        "Novak", "Castellanos", "Whitfield", "Abernathy", "Delacroix", "Szymanski", "Oyelaran",
        "Pemberton", "Vasquez", "Halvorsen", "Quintero", "Rasmussen"]
DIAG = ["E11.9 Type 2 diabetes mellitus", "I10 Essential hypertension",
        "J45.909 Asthma, uncomplicated", "F32.9 Major depressive disorder",
        "C50.911 Malignant neoplasm of breast", "N18.3 Chronic kidney disease, stage 3"]
HEADER = ["mrn", "name", "dob", "ssn", "diagnosis"]


def roster(seed):
    rnd = random.Random(seed)
    out, names, ssns = [], set(), set()
    while len(out) < 40:
        name = "%s %s" % (rnd.choice(FIRST), rnd.choice(LAST))
        area = rnd.choice([a for a in range(1, 900) if a != 666])  # SSA: 001-665, 667-899
        ssn = "%03d-%02d-%04d" % (area, rnd.randint(1, 99), rnd.randint(1, 9999))
        if name in names or ssn in ssns:
            continue
        names.add(name)
        ssns.add(ssn)
        dob = datetime.date(1931, 1, 1) + datetime.timedelta(days=rnd.randint(0, 30000))
        out.append({"mrn": "%08d" % rnd.randint(10000000, 99999999), "name": name,
                    "dob": dob.isoformat(), "ssn": ssn, "diagnosis": rnd.choice(DIAG)})
    return out


def cells(p):
    return [p["mrn"], p["name"], p["dob"], p["ssn"], p["diagnosis"]]


def xlsx(path, pts):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Patients"
    ws.append(HEADER)
    for p in pts:
        ws.append([p["mrn"], p["name"], datetime.date.fromisoformat(p["dob"]), p["ssn"],
                   p["diagnosis"]])
    for col, w in zip("ABCDE", (12, 24, 12, 13, 40)):
        ws.column_dimensions[col].width = w
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=3):
        row[0].number_format = "yyyy-mm-dd"
    # printed (LibreOffice to PDF) landscape on one page width, as an export would be
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    wb.save(path)


def docx(path, pts):
    import docx as pd
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt
    d = pd.Document()
    sec = d.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = sec.page_height, sec.page_width
    d.styles["Normal"].font.size = Pt(9)
    t = d.add_table(rows=1, cols=5)
    t.autofit = False
    widths = (Cm(3), Cm(5), Cm(3), Cm(3.2), Cm(9))
    for j, col in enumerate(t.columns):
        col.width = widths[j]
    for j, h in enumerate(HEADER):
        t.rows[0].cells[j].text = h
    for p in pts:
        row = t.add_row().cells
        for j, v in enumerate(cells(p)):
            row[j].text = v
    for r in t.rows:
        for j, c in enumerate(r.cells):
            c.width = widths[j]
    d.save(path)


def pdf(path, pts, font):
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle
    doc = SimpleDocTemplate(path, pagesize=landscape(letter))
    t = Table([HEADER] + [cells(p) for p in pts])
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 9)]))
    doc.build([t])


def ods(path, pts):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P
    doc = OpenDocumentSpreadsheet()
    t = Table(name="Patients")
    rows = [HEADER] + [cells(p) for p in pts]
    for i, r in enumerate(rows):
        tr = TableRow()
        for j, v in enumerate(r):
            if i > 0 and j == 2:  # a real date cell: office:date-value, shown as MM/DD/YYYY
                d = datetime.date.fromisoformat(v)
                c = TableCell(valuetype="date", datevalue=v)
                c.addElement(P(text=d.strftime("%m/%d/%Y")))
            else:
                c = TableCell(valuetype="string")
                c.addElement(P(text=v))
            tr.addElement(c)
        t.addElement(tr)
    doc.spreadsheet.addElement(t)
    doc.save(path)


def odt(path, pts):
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P
    doc = OpenDocumentText()
    t = Table(name="Patients")
    t.addElement(TableColumn(numbercolumnsrepeated=5))
    for r in [HEADER] + [cells(p) for p in pts]:
        tr = TableRow()
        for v in r:
            c = TableCell()
            c.addElement(P(text=v))
            tr.addElement(c)
        t.addElement(tr)
    doc.text.addElement(t)
    doc.save(path)


def html(path, pts):
    """For Chromium's print to PDF (Skia): landscape, cells kept on one line."""
    rows = "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % v for v in cells(p)) for p in pts)
    with open(path, "w") as fh:
        fh.write("<html><head><style>@page { size: letter landscape } body { font: 10pt "
                 "sans-serif } td { white-space: nowrap }</style></head><body><table border=1>"
                 "<tr>%s</tr>%s</table></body></html>"
                 % ("".join("<th>%s</th>" % h for h in HEADER), rows))


def main():
    out = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20240611
    os.makedirs(out, exist_ok=True)
    pts = roster(seed)
    with open(os.path.join(out, "roster.json"), "w") as fh:
        json.dump(pts, fh)
    made, skipped = [], {}
    jobs = [("roster.xlsx", lambda p: xlsx(p, pts)), ("roster.docx", lambda p: docx(p, pts)),
            ("roster-helvetica.pdf", lambda p: pdf(p, pts, "Helvetica")),
            ("roster.ods", lambda p: ods(p, pts)), ("roster.odt", lambda p: odt(p, pts)),
            ("roster.html", lambda p: html(p, pts))]
    ttf = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    if os.path.exists(ttf):
        def ttf_pdf(p):
            from reportlab.pdfbase import pdfmetrics
            from reportlab.pdfbase.ttfonts import TTFont
            pdfmetrics.registerFont(TTFont("DejaVuSans", ttf))
            pdf(p, pts, "DejaVuSans")
        jobs.append(("roster-ttf.pdf", ttf_pdf))
    else:
        skipped["roster-ttf.pdf"] = "no TTF font (install fonts-dejavu-core)"
    for name, fn in jobs:
        try:
            fn(os.path.join(out, name))
            made.append(name)
        except ImportError as e:
            skipped[name] = "python module missing: %s" % e
    print(json.dumps({"made": made, "skipped": skipped}))


if __name__ == "__main__":
    main()
