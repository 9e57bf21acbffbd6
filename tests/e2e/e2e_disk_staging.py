# Staging evidence on a disk image (issue 15 items 4 and 6): individuals per category (left,
# staged, present), the individuals each archive and folder holds, browser downloads and
# recycle-bin records. The image is a FAT16 volume made with mtools (no root); the expected
# answers below were written before the code ran.
# Run in run_e2e.py's namespace (test, run, case, db, Skip) with e2e_disk.py's helpers.
import io
import sqlite3
import struct
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


def _st_valid(rep):
    """report.json against reports/schema (when python3-jsonschema is installed)."""
    try:
        import jsonschema
    except ImportError:
        return
    jsonschema.validate(rep, json.load(open(REPORT_SCHEMA)))


def _st_fat(d, name, mib, dirs=(), files=None):
    """A FAT16 volume of `mib` MiB (2 KiB clusters) made with mtools in d, with the folders
    and files (path: bytes) given."""
    if shutil.which("mformat") is None:
        raise Skip("mtools is absent (Debian package mtools)")
    os.makedirs(d, exist_ok=True)
    img = os.path.join(d, name)
    with open(img, "wb") as fh:
        fh.truncate(mib * 1024 * 1024)
    _disk_tool("mformat", "-i", img, "-T", str(mib * 2048), "-h", "2", "-s", "16", "-c", "4",
               "::")
    for sub in dirs:
        _disk_tool("mmd", "-i", img, "::/" + sub)
    local = os.path.join(d, "f.bin")
    for path, data in (files or {}).items():
        with open(local, "wb") as fh:
            fh.write(data)
        _disk_tool("mcopy", "-i", img, local, "::/" + path)
        os.remove(local)
    return img


def _st_image(d):
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
    img = _st_fat(d, "ws04.img", 16, ("export", "tools", "vault", "records", "records/sub"),
                  files)
    _disk_tool("mdel", "-i", img, "::/export/old.csv")
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
    _st_valid(rep)
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


_ST_FT = (1709294400 + 11644473600) * 10 ** 7  # 2024-03-01T12:00:00Z as a FILETIME


def _st_recycle_v1(path, size, ft):
    p = path.encode("utf-16-le")
    return struct.pack("<qqQ", 1, size, ft) + p + b"\0" * (520 - len(p))


def _st_recycle_v2(path, size, ft):
    p = (path + "\0").encode("utf-16-le")
    return struct.pack("<qqQI", 2, size, ft, len(p) // 2) + p


def _st_chrome_history(path):
    # the tables and columns Chrome 120 creates (tests/unit/test_image.c has the same)
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE downloads (id INTEGER PRIMARY KEY,guid VARCHAR NOT NULL,current_path "
        "LONGVARCHAR NOT NULL,target_path LONGVARCHAR NOT NULL,start_time INTEGER NOT NULL,"
        "received_bytes INTEGER NOT NULL,total_bytes INTEGER NOT NULL,state INTEGER NOT NULL,"
        "danger_type INTEGER NOT NULL,interrupt_reason INTEGER NOT NULL,hash BLOB NOT NULL,"
        "end_time INTEGER NOT NULL,opened INTEGER NOT NULL,last_access_time INTEGER NOT NULL,"
        "transient INTEGER NOT NULL,referrer VARCHAR NOT NULL,site_url VARCHAR NOT NULL,"
        "embedder_download_data VARCHAR NOT NULL,tab_url VARCHAR NOT NULL,tab_referrer_url "
        "VARCHAR NOT NULL,http_method VARCHAR NOT NULL,by_ext_id VARCHAR NOT NULL,by_ext_name "
        "VARCHAR NOT NULL,by_web_app_id VARCHAR NOT NULL,etag VARCHAR NOT NULL,last_modified "
        "VARCHAR NOT NULL,mime_type VARCHAR(255) NOT NULL,original_mime_type VARCHAR(255) NOT "
        "NULL);"
        "CREATE TABLE downloads_url_chains (id INTEGER NOT NULL,chain_index INTEGER NOT NULL,"
        "url LONGVARCHAR NOT NULL, PRIMARY KEY (id, chain_index));"
        # 2024-02-07T08:26:40Z in microseconds since 1601
        "INSERT INTO downloads VALUES (1,'g1','','C:\\Users\\bob\\Downloads\\rclone.zip',"
        "13351768000000000,2048,4096,1,0,0,x'',13351768005000000,0,0,0,'','','','','','GET',"
        "'','','','','','application/zip','');"
        "INSERT INTO downloads_url_chains VALUES (1,0,'https://rclone.org/dl'),"
        "(1,1,'https://downloads.rclone.org/rclone.zip');")
    con.commit()
    con.close()


@test
def disk_browser_downloads_and_recycle_bin_records():
    c = case("disk-artifacts")
    d = c + "-in"
    os.makedirs(d, exist_ok=True)
    hist = os.path.join(d, "History")
    if os.path.exists(hist):
        os.remove(hist)
    _st_chrome_history(hist)
    bin_dir = "$Recycle.Bin/S-1-5-21-1004"
    chrome = "Users/bob/AppData/Local/Google/Chrome/User Data/Default"
    files = {bin_dir + "/$IAB12CD.7z": _st_recycle_v2("C:\\export\\patients.7z", 48213,
                                                      _ST_FT),
             bin_dir + "/$RAB12CD.7z": b"7z\xbc\xaf\x27\x1c" + bytes(64),
             bin_dir + "/$IXY99.csv": _st_recycle_v1("C:\\records\\old.csv", 300,
                                                     _ST_FT + 864000000000),
             bin_dir + "/$Inot.txt": b"a file named like a record that is not one\n",
             chrome + "/History": open(hist, "rb").read()}
    img = _st_fat(d, "ws05.img", 8, ("$Recycle.Bin", bin_dir, "Users", "Users/bob",
                                     "Users/bob/AppData", "Users/bob/AppData/Local",
                                     "Users/bob/AppData/Local/Google",
                                     "Users/bob/AppData/Local/Google/Chrome",
                                     "Users/bob/AppData/Local/Google/Chrome/User Data",
                                     chrome), files)
    os.remove(hist)
    run("analyze", "-q", img, "-o", c, check=0)
    con = db(c)
    rec = con.execute("SELECT path, version, original_path, size, deleted_ts FROM "
                      "recycle_record ORDER BY path").fetchall()
    assert rec == [(bin_dir + "/$IAB12CD.7z", 2, "C:\\export\\patients.7z", 48213,
                    1709294400000000),
                   (bin_dir + "/$IXY99.csv", 1, "C:\\records\\old.csv", 300,
                    1709294400000000 + 86400000000)], rec
    dl = con.execute("SELECT source_path, browser, url, target_path, start_ts, end_ts, "
                     "received_bytes, total_bytes, state FROM browser_download").fetchall()
    assert dl == [(chrome + "/History", "chromium", "https://downloads.rclone.org/rclone.zip",
                   "C:\\Users\\bob\\Downloads\\rclone.zip", 1707294400000000,
                   1707294405000000, 2048, 4096, "complete")], dl
    tl = con.execute("SELECT ts, timestamp_desc, data_type, message FROM timeline_event WHERE "
                     "data_type IN ('browser:file_downloaded', 'windows:metadata:deleted_item') "
                     "ORDER BY ts").fetchall()
    assert tl == [(1707294400000000, "File Downloaded", "browser:file_downloaded",
                   "https://downloads.rclone.org/rclone.zip -> C:\\Users\\bob\\Downloads\\"
                   "rclone.zip (2048 bytes, complete)"),
                  (1709294400000000, "Content Deletion Time", "windows:metadata:deleted_item",
                   "C:\\export\\patients.7z (48213 bytes, " + bin_dir + "/$IAB12CD.7z)"),
                  (1709294400000000 + 86400000000, "Content Deletion Time",
                   "windows:metadata:deleted_item", "C:\\records\\old.csv (300 bytes, " +
                   bin_dir + "/$IXY99.csv)")], tl
    # the copy the browser database was read from is gone; nothing else was reported
    assert not os.path.exists(os.path.join(c, "objects", "tmp")) or \
        os.listdir(os.path.join(c, "objects", "tmp")) == [], os.listdir(os.path.join(c,
                                                                                    "objects"))
    assert con.execute("SELECT count(*) FROM anomaly WHERE kind = "
                       "'image.artifact_unreadable'").fetchone()[0] == 0
    rep = json.load(open(os.path.join(c, "report.json")))
    _st_valid(rep)
    assert [(r["started"], r["url"]) for r in rep["browser_downloads"]] == [
        ("2024-02-07T08:26:40Z", "https://downloads.rclone.org/rclone.zip")], rep
    assert [(r["deleted"], r["original_path"]) for r in rep["recycle_records"]] == [
        ("2024-03-01T12:00:00Z", "C:\\export\\patients.7z"),
        ("2024-03-02T12:00:00Z", "C:\\records\\old.csv")], rep["recycle_records"]


_ST_PAGE = 1 << 20  # the reader's unallocated page (image_child.c PT_CARVE_PAGE)


@test
def disk_unallocated_pages_overlap_and_file_slack():
    """A patient CSV planted in free space across the boundary of two 1 MiB pages, not at a
    block start, is carved once, at its offset; a CSV in the slack of a small file's cluster
    is read as that file's slack."""
    import hashlib
    c = case("disk-pages")
    note = b"SLACKHOST-UNIQUE-MARKER\n"
    img = _st_fat(c + "-in", "ws06.img", 8, (), {"note.txt": note})
    straddle = _disk_csv(_st_people("EDGE", 2, 4300900))
    at = 6 * _ST_PAGE - 7  # 7 bytes before a page boundary, not at a 2 KiB cluster's start
    in_slack = _disk_csv(_st_people("SLACK", 1, 4301000))
    with open(img, "r+b") as fh:
        fh.seek(at)
        fh.write(straddle)
        raw = open(img, "rb").read()
        pos = raw.index(note)  # the start of the file's cluster (4 sectors of 512 bytes)
        assert raw.count(note) == 1
        fh.seek(pos + len(note) + 100)
        fh.write(in_slack)
    raw = open(img, "rb").read()
    slack = raw[pos + len(note):pos + 2048]
    run("analyze", "-q", img, "-o", c, check=0)
    con = db(c)
    carved = con.execute("SELECT image_offset, size, sha256 FROM disk_file WHERE state = "
                         "'carved'").fetchall()
    assert carved == [(at, len(straddle), hashlib.sha256(straddle).hexdigest())], carved
    sl = con.execute("SELECT path, image_offset, size, sha256 FROM disk_file WHERE state = "
                     "'slack'").fetchall()
    assert sl == [("$Slack/note.txt", pos + len(note), len(slack),
                   hashlib.sha256(slack).hexdigest())], sl
    # each planted patient's record is read once from its carved file or slack (the image's
    # own bytes are read too, as the floor: their records are the image object's)
    per = con.execute("SELECT o.name, count(*) FROM phi_record r JOIN object o ON o.sha256 = "
                      "r.object_sha256 WHERE o.name != ? GROUP BY o.name ORDER BY 1",
                      (img,)).fetchall()
    assert per == [("/$CarvedFiles/%d.csv" % at, 2), ("/$Slack/note.txt", 1)], per
    est = con.execute("SELECT estimate FROM individuals WHERE scope = 'present'").fetchone()[0]
    assert est == 3, est


@test
def disk_generated_ntfs_image_staging_artifacts_slack_and_pages():
    """The generated NTFS image (mkntfs, ntfscp: no root) with a PHI zip, a roster, a
    recycle-bin record, a Chrome history, a file with a patient in its slack and a patient CSV
    across a page boundary of free space: every answer exact, written before the run."""
    import hashlib
    _disk_need_tsk()
    if shutil.which("mkntfs") is None or shutil.which("ntfscp") is None:
        raise Skip("mkntfs/ntfscp are absent (Debian package ntfs-3g)")
    c = case("disk-ntfs-staging")
    d = c + "-in"
    os.makedirs(d, exist_ok=True)
    img = os.path.join(d, "ws07.img")
    with open(img, "wb") as fh:
        fh.truncate(16 * 1024 * 1024)
    hist = os.path.join(d, "History")
    if os.path.exists(hist):
        os.remove(hist)
    _st_chrome_history(hist)
    zipped = _st_people("NTFSZIP", 2, 4301100)
    notes = (b"NTFS-SLACK-HOST-MARKER\n" + b"meeting notes, nothing clinical. " * 90)[:3000]
    src = {"roster.csv": _disk_csv(_DISK_STAGED),
           "pt.zip": _st_zip({"cases.csv": _disk_csv(zipped)}),
           "$IAB12CD.7z": _st_recycle_v2("C:\\export\\patients.7z", 48213, _ST_FT),
           "History": open(hist, "rb").read(),
           "notes.txt": notes}
    os.remove(hist)
    _disk_tool("mkntfs", "-F", "-Q", "-q", img)
    for name, data in src.items():
        local = os.path.join(d, "f.bin")
        with open(local, "wb") as fh:
            fh.write(data)
        _disk_tool("ntfscp", "-q", img, local, name)
        os.remove(local)
    straddle = _disk_csv(_st_people("NTFSEDGE", 2, 4301200))
    at = 12 * _ST_PAGE - 7  # free clusters of a fresh 16 MiB volume, 7 bytes before a page
    in_slack = _disk_csv(_st_people("NTFSSLACK", 1, 4301300))
    with open(img, "r+b") as fh:
        raw = fh.read()
        pos = raw.index(notes[:23])  # notes.txt is not resident: its cluster's start
        assert raw.count(notes[:23]) == 1
        fh.seek(pos + len(notes) + 40)
        fh.write(in_slack)
        fh.seek(at)
        fh.write(straddle)
    slack = open(img, "rb").read()[pos + len(notes):pos + 4096]
    run("analyze", "-q", img, "-o", c, check=0)
    con = db(c)
    # the names are still those of fls, the file contents those of icat
    _disk_same_as_sleuthkit(con, [img], {0: "ntfs"}, len(_disk_fls([img], 0)), ["ws07.img"])
    extra = con.execute("SELECT state, path, image_offset, size, sha256 FROM disk_file WHERE "
                        "state IN ('carved', 'slack') ORDER BY path").fetchall()
    assert extra == [("carved", "$CarvedFiles/%d.csv" % at, at, len(straddle),
                      hashlib.sha256(straddle).hexdigest()),
                     ("slack", "$Slack/notes.txt", pos + len(notes), len(slack),
                      hashlib.sha256(slack).hexdigest())], extra
    rec = con.execute("SELECT path, version, original_path, size, deleted_ts FROM "
                      "recycle_record").fetchall()
    assert rec == [("$IAB12CD.7z", 2, "C:\\export\\patients.7z", 48213, 1709294400000000)], rec
    dl = con.execute("SELECT source_path, url, target_path, received_bytes FROM "
                     "browser_download").fetchall()
    assert dl == [("History", "https://downloads.rclone.org/rclone.zip",
                   "C:\\Users\\bob\\Downloads\\rclone.zip", 2048)], dl
    # individuals: the roster's 3, the zip's 2 (staged: an archive with PHI; the root is
    # never a staging folder), 1 in slack, 2 across the page boundary. The roster is resident
    # in its MFT entry, so $MFT (read like any file) holds it again, one row cut in two by the
    # entry's fixup bytes at its sector's end: the estimate joins the halves, the upper bound,
    # which joins a name and birth date only inside one object, counts them apart (found on
    # the first run: the expectation was 8-8-8 and 6-6-6)
    ind = {r[0]: r[1:] for r in con.execute("SELECT scope, estimate, lower, upper FROM "
                                            "individuals")}
    assert ind == {"all": (8, 8, 10), "outbound": (0, 0, 0), "staged": (2, 2, 2),
                   "present": (6, 6, 7)}, ind
    mft = con.execute("SELECT count(*), count(DISTINCT r.entity_id) FROM phi_record r JOIN "
                      "object o ON o.sha256 = r.object_sha256 WHERE o.name = '/$MFT'").fetchone()
    assert mft == (4, 3), mft
    hold = con.execute("SELECT kind, path, staged, individuals FROM disk_holding ORDER BY "
                       "individuals DESC, kind, path").fetchall()
    assert hold == [("folder", "/", 0, 8), ("archive", "/pt.zip", 1, 2),
                    ("folder", "/$CarvedFiles", 0, 2), ("folder", "/$Slack", 0, 1)], hold
    cats = sorted(r[0] for r in con.execute("SELECT categories FROM individual_roster"))
    assert cats == ["staged", "staged"], cats
