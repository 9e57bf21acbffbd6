# Staging evidence on a disk image (issue 15 items 4 and 6): individuals per category (left,
# staged, present), the individuals each archive and folder holds, browser downloads and
# recycle-bin records. The image is a FAT16 volume made with mtools (no root); the expected
# answers below were written before the code ran.
# Run in run_e2e.py's namespace (test, run, case, db, Skip) with e2e_disk.py's helpers.
import io
import zipfile


def _st_people(tag, n, base):
    # (mrn, last, first, dob, ssn): distinct people, every identifier different
    return [(base + i, "%s%s" % (tag, chr(ord("A") + i)), "PAT", "19%02d-0%d-1%d" % (
        40 + (base % 50) + i, 1 + i % 8, i % 9), "536-%02d-%04d" % (base % 90 + 10, 6000 + i))
        for i in range(n)]


_ST_A = _st_people("ZIPPED", 3, 4300100)      # in /export/pt.zip
_ST_B = _st_people("EXTRA", 2, 4300200)       # /export/extra.csv
_ST_B3 = _st_people("GONE", 1, 4300300)       # /export/old.csv, deleted
_ST_C = _st_people("TOOLS", 1, 4300400)       # /tools/list.csv next to rclone.conf
_ST_E = _st_people("VAULT", 1, 4300500)       # /vault/list2.csv next to an encrypted zip
_ST_P = _st_people("CLINIC", 4, 4300600)      # /records/clinic.csv (+ one of _ST_A)
_ST_P5 = _st_people("SUB", 1, 4300700)        # /records/sub/more.csv
_ST_R = _st_people("ROOT", 1, 4300800)        # /roots.csv


def _st_zip(members, encrypt_flag=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    b = bytearray(buf.getvalue())
    if encrypt_flag:
        # general purpose bit 0 (APPNOTE 4.4.4) in every local and central header: readers
        # see encrypted members they cannot open without the password
        for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            i = b.find(sig)
            while i >= 0:
                b[i + at] |= 1
                i = b.find(sig, i + 4)
    return bytes(b)


def _st_image(d):
    if shutil.which("mformat") is None:
        raise Skip("mtools is absent (Debian package mtools)")
    os.makedirs(d, exist_ok=True)
    img = os.path.join(d, "ws04.img")
    with open(img, "wb") as fh:
        fh.truncate(16 * 1024 * 1024)
    files = {
        "export/pt.zip": _st_zip({"roster_a.csv": _disk_csv(_ST_A)}),
        "export/extra.csv": _disk_csv(_ST_B),
        "export/old.csv": _disk_csv(_ST_B3),
        "tools/rclone.conf": b"[exfil]\ntype = mega\nuser = drop@example.com\npass = x0\n",
        "tools/list.csv": _disk_csv(_ST_C),
        "vault/enc.zip": _st_zip({"secret.txt": b"nothing to see here " * 20}, True),
        "vault/list2.csv": _disk_csv(_ST_E),
        "records/clinic.csv": _disk_csv(_ST_P + _ST_A[:1]),
        "records/sub/more.csv": _disk_csv(_ST_P5),
        "roots.csv": _disk_csv(_ST_R),
        "notes.txt": b"call the vendor\n",
    }
    m = _disk_tool
    m("mformat", "-i", img, "-T", "32768", "-h", "2", "-s", "16", "-c", "4", "::")
    for sub in ("export", "tools", "vault", "records", "records/sub"):
        m("mmd", "-i", img, "::/" + sub)
    for name, data in files.items():
        local = os.path.join(d, name.replace("/", "_"))
        with open(local, "wb") as fh:
            fh.write(data)
        m("mcopy", "-i", img, local, "::/" + name)
        os.remove(local)
    m("mdel", "-i", img, "::/export/old.csv")
    return img, files


@test
def disk_staging_individuals_per_category_and_holdings():
    c = case("disk-staging")
    img, files = _st_image(c + "-in")
    run("analyze", "-q", img, "-o", c, check=0)
    con = db(c)
    ind = {r[0]: r[1:] for r in con.execute("SELECT scope, estimate, lower, upper FROM "
                                            "individuals")}
    # all: 3 + 2 + 1 + 1 + 1 + 4 + 1 + 1 = 14 people; staged: the zip's 3, /export's 2 and the
    # deleted one, /tools' 1, /vault's 1 = 8; present: /records' 4 + 1 + one of the zip's,
    # and the root's 1 = 7; nothing left (no capture)
    assert ind == {"all": (14, 14, 14), "outbound": (0, 0, 0), "staged": (8, 8, 8),
                   "present": (7, 7, 7)}, ind
    staged = {r[0] for r in con.execute(
        "SELECT d.path FROM disk_file d JOIN object_category c ON c.sha256 = d.sha256 WHERE "
        "c.staged AND d.state != 'carved'")}
    assert staged == {"export/pt.zip", "export/extra.csv", "export/_ld.csv", "tools/list.csv",
                      "tools/rclone.conf", "vault/enc.zip", "vault/list2.csv"}, staged
    why = dict(con.execute("SELECT d.path, c.reason FROM disk_file d JOIN object_category c ON "
                           "c.sha256 = d.sha256 WHERE d.state != 'carved'"))
    assert why["export/pt.zip"] == "archive with PHI", why
    assert why["export/extra.csv"] == "in staging folder /export (archive with PHI)", why
    assert why["tools/list.csv"] == ("in staging folder /tools (exfiltration tool "
                                     "(Rclone_Config))"), why
    assert why["vault/list2.csv"] == ("in staging folder /vault (password-protected "
                                      "archive)"), why
    assert why["records/clinic.csv"] is None and why["roots.csv"] is None, why
    # archives and folders with how many individuals each holds, largest first
    hold = con.execute("SELECT kind, path, staged, individuals FROM disk_holding ORDER BY "
                       "individuals DESC, kind, path").fetchall()
    assert hold == [("folder", "/", 0, 14), ("folder", "/export", 1, 6),
                    ("folder", "/records", 0, 6), ("archive", "/export/pt.zip", 1, 3),
                    ("folder", "/$CarvedFiles", 0, 1), ("folder", "/records/sub", 0, 1),
                    ("folder", "/tools", 1, 1), ("folder", "/vault", 1, 1)], hold
    # the people to notify: every staged person, with the categories that apply
    cats = sorted(r[0] for r in con.execute("SELECT categories FROM individual_roster"))
    assert cats == ["staged"] * 7 + ["staged,present"], cats
    rep = json.load(open(os.path.join(c, "report.json")))
    by_cat = {r["category"]: (r["estimate"], r["lower"], r["upper"]) for r in
              rep["individuals"]["by_category"]}
    assert rep["individuals"]["all"]["estimate"] == 14, rep["individuals"]
    assert by_cat == {"left": (0, 0, 0), "staged": (8, 8, 8), "present": (7, 7, 7)}, by_cat
    txt = open(os.path.join(c, "report.txt")).read()
    assert "  staged   8 (bounds 8-8, 0 deceased)" in txt, txt
    assert "Individuals in all evidence:   14 (bounds 14-14" in txt, txt
    assert "  folder  /export  6 individual(s)  STAGED: archive with PHI" in txt, txt
    html = open(os.path.join(c, "report.html")).read()
    assert "Individuals per category" in html and "/export/pt.zip" in html
    summ = open(os.path.join(c, "summary.txt")).read()
    assert ("left 0 (bounds 0-0); staged 8 (bounds 8-8); present 7 (bounds 7-7)") in summ, summ
