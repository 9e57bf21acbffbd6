# e2e_doctext.py - office documents and PDFs as files at rest (loaded by run_e2e.py, run in its
# namespace). A 40-patient roster is written by other programs (openpyxl, python-docx,
# reportlab, odfpy; LibreOffice when installed) by tests/e2e/gen_documents.py; each document is
# analysed alone and must give one derived text object, child of the document, holding every
# planted MRN and SSN, and exactly 40 individuals. Expected values come from the generator.

import json as _json

_DOCS = {}


def _doc_python():
    """An interpreter with the document modules (Debian's python3-* live in /usr/bin/python3)."""
    for py in (sys.executable, "/usr/bin/python3"):
        if not os.path.exists(py):
            continue
        r = subprocess.run([py, "-c", "import openpyxl, docx, reportlab, odf"],
                           capture_output=True)
        if r.returncode == 0:
            return py
    return sys.executable


def _documents():
    """Generate once: {"dir", "patients", "made", "skipped"}."""
    if not _DOCS:
        d = os.path.join(TMP, "docs")
        gen = os.path.join(HERE, "gen_documents.py")
        r = subprocess.run([_doc_python(), gen, d], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        info = _json.loads(r.stdout.strip().splitlines()[-1])
        with open(os.path.join(d, "roster.json")) as fh:
            info["patients"] = _json.load(fh)
        info["dir"] = d
        _DOCS.update(info)
    return _DOCS


def _doc(name):
    info = _documents()
    if name not in info["made"]:
        raise Skip("%s not generated: %s" % (name, info["skipped"].get(name, "?")))
    return os.path.join(info["dir"], name)


def _sha256(path):
    import hashlib
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _check_document(path, encoding, dates=False):
    """Analyse `path` alone; the derived text must hold the roster and count 40 people."""
    pts = _documents()["patients"]
    c = case("doc-" + os.path.basename(path).replace(".", "-") + "-" + encoding)
    run("analyze", "-q", "--keep-phi", path, "-o", c, check=0)
    con = db(c)
    parent = _sha256(path)
    rows = con.execute("SELECT sha256, encoding, mime, name FROM object WHERE parent_sha256 = ?",
                       (parent,)).fetchall()
    texts = [r for r in rows if r[1] == encoding]
    assert len(texts) == 1, ("want one %s child of the document" % encoding, rows)
    assert len(rows) == 1, ("the package must not also be unpacked", rows)
    sha, _, mime, name = texts[0]
    assert mime.startswith("text/"), mime
    assert name == path + "#text", name
    with io.StringIO(objbytes(c, sha).decode("utf-8")) as fh:
        text = fh.read()
    missing = [p["mrn"] for p in pts if p["mrn"] not in text]
    missing += [p["ssn"] for p in pts if p["ssn"] not in text]
    if dates:
        missing += [p["dob"] for p in pts if p["dob"] not in text]
    assert not missing, ("planted values missing from the text", missing[:10], text[:600])
    # every planted SSN is found by the PHI stage in the text object (values kept as digits)
    ssns = {v.replace("-", "") for (v,) in con.execute(
        "SELECT v.value FROM phi_hit h JOIN phi_value v ON v.hmac = h.hmac "
        "WHERE h.object_sha256 = ? AND h.type = 'ssn'", (sha,))}
    want = {p["ssn"].replace("-", "") for p in pts}
    assert want <= ssns, ("SSNs not detected", sorted(want - ssns)[:5])
    est = con.execute("SELECT estimate FROM individuals WHERE scope='all'").fetchone()
    assert est is not None and est[0] == len(pts), ("individuals", est, "want", len(pts))


@test
def doc_xlsx_openpyxl():
    _check_document(_doc("roster.xlsx"), "xlsx-text", dates=True)


@test
def doc_docx_python_docx():
    _check_document(_doc("roster.docx"), "docx-text")


@test
def doc_pdf_reportlab_helvetica():
    _check_document(_doc("roster-helvetica.pdf"), "pdf-text")


@test
def doc_pdf_reportlab_ttf_subset():
    _check_document(_doc("roster-ttf.pdf"), "pdf-text")


@test
def doc_ods_odfpy():
    _check_document(_doc("roster.ods"), "ods-text", dates=True)


@test
def doc_odt_odfpy():
    _check_document(_doc("roster.odt"), "odt-text")


_LO = {}


def _libreoffice(src, fmt):
    """`src` converted by LibreOffice to `fmt`; Skip when soffice is absent."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise Skip("LibreOffice (soffice) is not installed: apt-get install "
                   "libreoffice-writer-nogui libreoffice-calc-nogui")
    key = (src, fmt)
    if key not in _LO:
        out = os.path.join(TMP, "lo-%s-%s" % (os.path.basename(src).replace(".", "-"), fmt))
        os.makedirs(out, exist_ok=True)
        profile = "file://" + os.path.join(TMP, "lo-profile")
        r = subprocess.run([soffice, "-env:UserInstallation=" + profile, "--headless",
                            "--convert-to", fmt, "--outdir", out, _doc(src)],
                           capture_output=True, text=True, timeout=300)
        dst = os.path.join(out, os.path.splitext(src)[0] + "." + fmt)
        assert os.path.exists(dst), ("soffice made nothing", r.stdout, r.stderr)
        _LO[key] = dst
    return _LO[key]


@test
def doc_pdf_libreoffice_writer():
    _check_document(_libreoffice("roster.docx", "pdf"), "pdf-text")


@test
def doc_pdf_libreoffice_calc():
    _check_document(_libreoffice("roster.xlsx", "pdf"), "pdf-text")


@test
def doc_odt_libreoffice():
    _check_document(_libreoffice("roster.docx", "odt"), "odt-text")


@test
def doc_rtf_libreoffice():
    _check_document(_libreoffice("roster.docx", "rtf"), "rtf-text")


@test
def doc_docx_libreoffice():
    _check_document(_libreoffice("roster.odt", "docx"), "docx-text")


@test
def doc_xlsx_libreoffice():
    _check_document(_libreoffice("roster.ods", "xlsx"), "xlsx-text", dates=True)


@test
def doc_ods_libreoffice():
    _check_document(_libreoffice("roster.xlsx", "ods"), "ods-text", dates=True)


@test
def doc_pdf_chromium():
    """Chromium (Skia) prints the roster table: subset fonts, ToUnicode, ligatures."""
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    if chrome is None:
        raise Skip("chromium is not installed")
    out = os.path.join(TMP, "docs-chromium.pdf")
    if not os.path.exists(out):
        subprocess.run([chrome, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-pdf-header-footer", "--print-to-pdf=" + out,
                        "file://" + _doc("roster.html")], capture_output=True, timeout=300)
    assert os.path.exists(out), "chromium printed nothing"
    _check_document(out, "pdf-text")


@test
def doc_legacy_word_is_an_anomaly():
    """A legacy binary .doc (LibreOffice) is not read, and an anomaly says so."""
    c = case("doc-legacy")
    run("analyze", "-q", _libreoffice("roster.docx", "doc"), "-o", c, check=0)
    con = db(c)
    kinds = [k for (k,) in con.execute("SELECT kind FROM anomaly")]
    assert kinds == ["doc.legacy_office"], kinds
    assert con.execute("SELECT count(*) FROM object WHERE depth > 0").fetchone()[0] == 0


@test
def doc_in_zip_and_encrypted_pdf():
    """A DOCX inside a zip is read as a document; an encrypted PDF is an anomaly, no text."""
    import zipfile
    pts = _documents()["patients"]
    z = os.path.join(TMP, "docs-bundle.zip")
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(_doc("roster.docx"), "export/roster.docx")
    c = case("doc-in-zip")
    run("analyze", "-q", z, "-o", c, check=0)
    con = db(c)
    docx_sha = _sha256(_doc("roster.docx"))
    row = con.execute("SELECT sha256, depth FROM object WHERE parent_sha256 = ? AND "
                      "encoding = 'docx-text'", (docx_sha,)).fetchone()
    assert row is not None and row[1] == 2, row
    with io.StringIO(objbytes(c, row[0]).decode("utf-8")) as fh:
        text = fh.read()
    assert all(p["ssn"] in text for p in pts)
    members = con.execute("SELECT count(*) FROM object WHERE parent_sha256 = ?",
                          (docx_sha,)).fetchone()[0]
    assert members == 1, members
    # encrypted: reportlab's standard encryption (RC4/AES with a user password)
    py = _doc_python()
    enc = os.path.join(TMP, "docs-encrypted.pdf")
    r = subprocess.run([py, "-c", """
import sys
from reportlab.pdfgen import canvas
from reportlab.lib import pdfencrypt
c = canvas.Canvas(sys.argv[1], encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
c.drawString(72, 720, "SSN 123-45-6789 MRN 00451234")
c.save()
""", enc], capture_output=True, text=True)
    if r.returncode != 0:
        raise Skip("reportlab cannot encrypt here: " + r.stderr[-300:])
    c = case("doc-encrypted")
    run("analyze", "-q", enc, "-o", c, check=0)
    con = db(c)
    kinds = [k for (k,) in con.execute("SELECT kind FROM anomaly")]
    assert "doc.pdf_encrypted" in kinds, kinds
    assert con.execute("SELECT count(*) FROM object WHERE depth > 0").fetchone()[0] == 0
