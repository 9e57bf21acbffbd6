# Disk images (issue 15): file systems read through libtsk in a child process; equality with
# sleuthkit's fls and icat on the corpus images; corrupt images and a crashing or hanging
# reader end as limitations of that image, never as the end of the run.
# Run in run_e2e.py's namespace (test, run, case, db, corpus, Skip); helpers are _disk_*.
import struct
import time

# The expected comparison, written before the code: per corpus image (its segments), the file
# systems libtsk opens (offset in bytes: name) and the number of names `fls -r -p` lists over
# them. Every name must be the same (inode, path, deleted) in disk_file, and every file whose
# content was read must hash as `icat` gives it. Unsupported formats are not "ok".
_DISK_IMAGES = [
    (["dfvfs/test_data/\u00edmynd.dd"], {0: "ext2"}, 9),
    (["plaso/test_data/syslog_image.dd"], {0: "ext2"}, 10),
    (["dfvfs/test_data/ext2.splitraw.000", "dfvfs/test_data/ext2.splitraw.001"], {0: "ext2"}, 7),
    (["plaso/test_data/image.E01"], {0: "ext2"}, 10),
    (["dfvfs/test_data/ext2.split.E01", "dfvfs/test_data/ext2.split.E02"], {0: "ext2"}, 7),
    (["plaso/test_data/image-split.E01", "plaso/test_data/image-split.E02"],
     {180224: "ext2"}, 2),
    (["plaso/test_data/tsk_volume_system.raw"], {180224: "ext2"}, 2),
    (["dfvfs/test_data/iso9660.raw"], {0: "iso9660"}, 6),
    (["dfvfs/test_data/hfsplus.raw"], {0: "hfsp"}, 17),
    (["plaso/test_data/image.vmdk"], {0: "ext2"}, 9),
    # QCOW2: libtsk 4.11 does not open it, so it is read through libqcow; sleuthkit's tools
    # cannot read it, and it holds the same media as image.E01, so that is the reference
    (["plaso/test_data/image.qcow2"], {0: "ext2"}, 10, ["plaso/test_data/image.E01"]),
]

_DISK_FLS = re.compile(r"^(\S+) (\* )?(\d+)(?:-\d+-\d+)?(\(realloc\))?:\t(.*)$")


def _disk_need_tsk():
    if shutil.which("fls") is None or shutil.which("icat") is None:
        raise Skip("fls/icat are absent (Debian package sleuthkit)")


def _disk_fls(paths, offset):
    args = ["fls", "-r", "-p"] + (["-o", str(offset // 512)] if offset else []) + paths
    p = subprocess.run(args, capture_output=True)
    assert p.returncode == 0, (args, p.stderr)
    out = set()
    for line in p.stdout.decode("utf-8", "surrogateescape").splitlines():
        m = _DISK_FLS.match(line)
        assert m, line
        out.add((int(m.group(3)), m.group(5), bool(m.group(2))))
    return out


def _disk_icat(paths, offset, inode):
    import hashlib
    args = ["icat"] + (["-o", str(offset // 512)] if offset else []) + paths + [str(inode)]
    # inode may be "entry-type-id" (an NTFS stream)
    p = subprocess.run(args, capture_output=True)
    return hashlib.sha256(p.stdout).hexdigest() if p.returncode == 0 else None


@test
def disk_images_list_the_same_files_as_fls_and_hash_as_icat():
    _disk_need_tsk()
    for rels, fss, n_names, *ref in _DISK_IMAGES:
        paths = [corpus(r) for r in rels]
        c = case("disk-" + os.path.basename(rels[0]))
        run("analyze", "-q", *paths, "-o", c, check=0)
        refs = [corpus(r) for r in ref[0]] if ref else paths
        _disk_same_as_sleuthkit(db(c), refs, fss, n_names, rels)
        # an EWF image: the MD5 stored at acquisition matches its media as read
        ewf = db(c).execute("SELECT stored_md5 = md5, verified, length(sha256) FROM "
                            "disk_image").fetchall()
        assert ewf == ([(1, "match", 64)] if rels[0].endswith(".E01") else []), (rels, ewf)


def _disk_same_as_sleuthkit(con, paths, fss, n_names, rels):
    vols = dict(con.execute("SELECT offset, fs FROM disk_volume WHERE status = 'read'"))
    assert vols == fss, (rels, vols)
    names = 0
    for off in vols:
        want = _disk_fls(paths, off)
        # fls prints control characters in names as '^' (disk_file keeps them)
        got = {(r[0], re.sub(r"[\x00-\x1f]", "^", r[1]), r[2] != "allocated") for r in
               con.execute("SELECT inode, path, state FROM disk_file WHERE vol_offset = ? "
                           "AND state NOT IN ('carved', 'slack')", (off,))}
        assert got == want, (rels, off, sorted(want - got), sorted(got - want))
        names += len(got)
        for inode, sha, at, aid in con.execute(
                "SELECT inode, sha256, attr_type, attr_id FROM disk_file WHERE vol_offset = "
                "? AND sha256 IS NOT NULL AND state NOT IN ('carved', 'slack')", (off,)):
            addr = "%d-%d-%d" % (inode, at, aid) if at in (128, 144) else inode
            assert _disk_icat(paths, off, addr) == sha, (rels, addr)
    assert names == n_names, (rels, names)
    # read files are objects of the image's item, scanned for PHI like files at rest
    objs = con.execute("SELECT count(DISTINCT d.sha256) FROM disk_file d JOIN object o ON "
                       "o.sha256 = d.sha256 AND o.item_id = d.item_id").fetchone()[0]
    assert objs == con.execute("SELECT count(DISTINCT sha256) FROM disk_file").fetchone()[0]
    cov = con.execute("SELECT examined_as, examined FROM coverage").fetchone()
    assert cov == ("image:" + ",".join(sorted(set(fss.values()))), 1), (rels, cov)
    lim = [r[0] for r in con.execute("SELECT detail FROM limitation")]
    assert not any("not parsed by this version" in x for x in lim), lim


@test
def disk_image_without_a_readable_file_system_is_a_limitation():
    # an NTFS boot sector over random bytes: recognised as an image, but libtsk reads no file
    # system in it; it is not examined (its printable runs still are), never "ok"
    import random
    rnd = random.Random(7)
    img = bytearray(rnd.getrandbits(8) for _ in range(256 * 1024))
    img[0:512] = bytes(512)
    img[3:11] = b"NTFS    "
    img[510:512] = b"\x55\xaa"
    c = case("disk-unsup")
    os.makedirs(c + "-in", exist_ok=True)
    path = os.path.join(c + "-in", "ws09.dd")
    with open(path, "wb") as fh:
        fh.write(img)
    run("analyze", "-q", path, "-o", c, check=0)
    con = db(c)
    assert con.execute("SELECT count(*) FROM disk_file").fetchone()[0] == 0
    cov = con.execute("SELECT examined_as, examined, reason FROM coverage").fetchone()
    assert cov[:2] == ("image:ntfs", 0) and "libtsk read no file system" in cov[2], cov
    lim = [r[0] for r in con.execute("SELECT detail FROM limitation WHERE kind = "
                                     "'not_examined'")]
    assert len(lim) == 1 and "libtsk read no file system" in lim[0], lim


def _disk_ext2_variant(name, edit):
    src = corpus("dfvfs/test_data/\u00edmynd.dd")
    with open(src, "rb") as fh:
        img = bytearray(fh.read())
    edit(img)
    d = case(name) + "-in"
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name + ".dd")
    with open(p, "wb") as fh:
        fh.write(img)
    return p


def _disk_damage_inodes(img):
    # the first group's inode table (1 KiB blocks: the group descriptors are block 2)
    table = struct.unpack_from("<I", img, 2048 + 8)[0] * 1024
    for i in range(table, table + 4096):
        img[i] = (i * 131 + 7) & 0xFF


def _disk_loop_dir(img):
    # a_directory/a_file's entry becomes a directory entry pointing back at a_directory (12)
    at = img.index(b"\x06\x01a_file") - 6
    struct.pack_into("<I", img, at, 12)
    img[at + 7] = 2


def _disk_finishes(c, path):
    p = run("analyze", "-q", path, "-o", c)
    assert p.returncode in (0, 1), (p.returncode, p.stderr[-2000:])
    con = db(c)
    assert con.execute("SELECT count(*) FROM coverage_summary").fetchone()[0] == 1
    return con


@test
def disk_corrupt_images_never_stop_the_run():
    # a truncated E01 (its first segment cut in half, the second missing)
    with open(corpus("dfvfs/test_data/ext2.split.E01"), "rb") as fh:
        head = fh.read(1500000)
    d = case("disk-trunc") + "-in"
    os.makedirs(d, exist_ok=True)
    e01 = os.path.join(d, "cut.E01")
    with open(e01, "wb") as fh:
        fh.write(head)
    con = _disk_finishes(case("disk-trunc"), e01)
    cov = con.execute("SELECT examined, reason FROM coverage").fetchone()
    kinds = {r[0] for r in con.execute("SELECT kind FROM anomaly WHERE kind LIKE 'image.%'")}
    assert kinds and (cov[0] == 0 or cov[1] is not None), (cov, kinds)
    # an E01 whose compressed chunks were altered: its media no longer matches its MD5
    with open(corpus("dfvfs/test_data/ext2.split.E01"), "rb") as fh:
        e01 = bytearray(fh.read())
    for i in range(20000, 3000000, 30011):
        e01[i] ^= 0x55
    segs = [os.path.join(d, "tampered.E01"), os.path.join(d, "tampered.E02")]
    with open(segs[0], "wb") as fh:
        fh.write(e01)
    shutil.copyfile(corpus("dfvfs/test_data/ext2.split.E02"), segs[1])
    c = case("disk-tampered")
    p = run("analyze", "-q", *segs, "-o", c)
    assert p.returncode in (0, 1), p.stderr[-2000:]
    con = db(c)
    assert con.execute("SELECT verified FROM disk_image").fetchall() == [("mismatch",)]
    lim = con.execute("SELECT detail FROM limitation WHERE kind = 'image_hash_mismatch'"
                      ).fetchall()
    assert len(lim) == 1 and "stored MD5 196066add11fb71c4c49cf1bb50d6d24" in lim[0][0], lim
    # a damaged inode table, a directory that contains itself
    for name, edit in (("disk-damaged", _disk_damage_inodes), ("disk-loop", _disk_loop_dir)):
        con = _disk_finishes(case(name), _disk_ext2_variant(name, edit))
        assert con.execute("SELECT count(*) FROM disk_volume").fetchone()[0] <= 1
        n = con.execute("SELECT count(*) FROM disk_file").fetchone()[0]
        assert n < 1000, n  # a loop is not followed forever


_DISK_FAKE_READER = r'''#!/usr/bin/env python3
import os, signal, struct, sys, time
mode = os.environ["DISK_FAKE_MODE"]
held = sorted(os.listdir("/proc/self/fd"), key=int)
with open(os.environ["DISK_FAKE_FDS"], "w") as fh:
    fh.write(" ".join(held))
def frame(t, body):
    sys.stdout.buffer.write(bytes([ord(t)]) + struct.pack("<I", len(body)) + body)
    sys.stdout.buffer.flush()
def s(x):
    return struct.pack("<H", len(x)) + x
frame("V", struct.pack("<QIQB", 0, 1024, 100, 1) + s(b"ext2") + s(b""))
body = (struct.pack("<QQIHHB", 0, 14, 1, 0, 0x10, ord("r")) + struct.pack("<qqqqQQ", 0, 0, 0, 0, 40, 0)
        + s(b"staged/roster.csv") + s(b""))
frame("F", body)
frame("D", b"mrn,last_name,first_name,dob,ssn\n")
if mode == "crash":
    os.kill(os.getpid(), signal.SIGSEGV)
elif mode == "hang":
    time.sleep(60)
else:
    sys.stdout.buffer.write(b"\xff" * 64)
    sys.stdout.buffer.flush()
    time.sleep(60)
'''


@test
def disk_reader_crash_hang_and_garbage_are_limitations():
    d = case("disk-fake") + "-in"
    os.makedirs(d, exist_ok=True)
    reader = os.path.join(d, "reader.py")
    with open(reader, "w") as fh:
        fh.write(_DISK_FAKE_READER)
    os.chmod(reader, 0o755)
    img = os.path.join(d, "ws.dd")
    with open(img, "wb") as fh:  # an ext2 superblock magic, so it is sniffed as an image
        blob = bytearray(64 * 1024)
        blob[1024 + 56:1024 + 58] = b"\x53\xef"
        fh.write(blob)
    want = {"crash": ("image.reader_crashed", "signal 11"),
            "hang": ("image.reader_timeout", "watchdog"),
            "garbage": ("image.reader_garbage", "garbage")}
    for mode, (kind, text) in want.items():
        c = case("disk-fake-" + mode)
        fds = os.path.join(d, "fds-" + mode)
        env = dict(ENV, PHITRACE_IMAGE_READER=reader, DISK_FAKE_MODE=mode, DISK_FAKE_FDS=fds,
                   PHITRACE_IMAGE_IDLE_SECONDS="2")
        t0 = time.time()
        p = subprocess.run([BIN, "analyze", "-q", img, "-o", c], capture_output=True,
                           text=True, env=env, timeout=300)
        assert p.returncode in (0, 1) and time.time() - t0 < 60, (mode, p.stderr[-2000:])
        # the reader holds stdin, stdout (the pipe), stderr and nothing else of the analyzer's
        # (and the descriptor /proc/self/fd was listed through)
        with open(fds) as fh:
            held = fh.read().split()
        assert len(held) <= 4 and held[:3] == ["0", "1", "2"], held
        con = db(c)
        rows = con.execute("SELECT detail FROM anomaly WHERE kind = ?", (kind,)).fetchall()
        assert len(rows) == 1 and text in rows[0][0] and "after 1 file record" in rows[0][0], (
            mode, rows)
        f = con.execute("SELECT path, complete, read_bytes, note FROM disk_file").fetchone()
        assert f == ("staged/roster.csv", 0, 33, "the image reader stopped inside this file"), f
        cov = con.execute("SELECT examined_as, examined, reason FROM coverage").fetchone()
        assert cov[:2] == ("image:ext2", 1) and "not whole" in cov[2], cov
        lim = con.execute("SELECT count(*) FROM limitation WHERE kind = "
                          "'image_read_incomplete'").fetchone()[0]
        assert lim == 1, lim


def _disk_csv(rows):
    out = "mrn,last_name,first_name,dob,ssn\n"
    for mrn, last, first, dob, ssn in rows:
        out += "%d,%s,%s,%s,%s\n" % (mrn, last, first, dob, ssn)
    return out.encode()


_DISK_STAGED = [(4100001, "DOE", "JANE", "1961-04-12", "536-22-5401"),
                (4100002, "ROE", "RICHARD", "1972-09-30", "536-22-5402"),
                (4100003, "POE", "EDGAR", "1949-01-19", "536-22-5403")]
_DISK_DELETED = [(4100004, "LOWE", "ANN", "1980-02-02", "536-22-5404"),
                 (4100005, "HOWE", "JULIA", "1955-05-27", "536-22-5405")]
_DISK_UNALLOC = [(4100006, "SHAW", "IRENE", "1990-12-01", "536-22-5406")]
_DISK_CARVE_AT = 12000 * 512  # a free cluster, never used by a file of this image


def _disk_tool(*args):
    subprocess.run(list(args), check=True, capture_output=True)


def _disk_fat_image(d):
    """A FAT12 volume made with mtools (no root): a staging folder with a patient CSV, a
    note, a deleted patient CSV, and a CSV that exists only in unallocated space."""
    if shutil.which("mformat") is None:
        raise Skip("mtools is absent (Debian package mtools)")
    os.makedirs(d, exist_ok=True)
    img = os.path.join(d, "ws02.img")
    with open(img, "wb") as fh:
        fh.truncate(8 * 1024 * 1024)
    files = {"roster.csv": _disk_csv(_DISK_STAGED), "notes.txt": b"call the vendor\n",
             "old.csv": _disk_csv(_DISK_DELETED)}
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as fh:
            fh.write(data)

    m = _disk_tool
    m("mformat", "-i", img, "-T", "16384", "-h", "2", "-s", "16", "-c", "4", "::")
    m("mmd", "-i", img, "::/Staging")
    m("mcopy", "-i", img, os.path.join(d, "roster.csv"), "::/Staging/roster.csv")
    m("mcopy", "-i", img, os.path.join(d, "notes.txt"), "::/notes.txt")
    m("mcopy", "-i", img, os.path.join(d, "old.csv"), "::/old.csv")
    m("mdel", "-i", img, "::/old.csv")
    with open(img, "r+b") as fh:
        fh.seek(_DISK_CARVE_AT)
        fh.write(_disk_csv(_DISK_UNALLOC))
    for name in files:
        os.remove(os.path.join(d, name))
    return img, files


@test
def disk_generated_fat_image_is_reported_exactly():
    import hashlib
    c = case("disk-fat")
    img, files = _disk_fat_image(c + "-in")
    run("analyze", "-q", img, "-o", c, check=0)
    con = db(c)
    sha = {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    rows = con.execute("SELECT path, state, size, sha256, image_offset FROM disk_file WHERE "
                       "kind = 'r' ORDER BY path").fetchall()
    carved = [r for r in rows if r[1] == "carved"]
    named = [r for r in rows if r[1] not in ("carved", "slack")]
    # FAT overwrites a deleted name's first character (fls prints it the same way)
    assert named == [
        ("Staging/roster.csv", "allocated", len(files["roster.csv"]), sha["roster.csv"], None),
        ("_ld.csv", "deleted", len(files["old.csv"]), sha["old.csv"], None),
        ("notes.txt", "allocated", len(files["notes.txt"]), sha["notes.txt"], None)], named
    # carved: the deleted CSV's cluster (unallocated now) and the CSV only in free space, each
    # to its first NUL byte, with where it starts in the image
    unalloc = _disk_csv(_DISK_UNALLOC)
    got = {(r[2], r[3], r[4]) for r in carved}
    assert (len(unalloc), hashlib.sha256(unalloc).hexdigest(), _DISK_CARVE_AT) in got, carved
    assert any(r[3] == sha["old.csv"] for r in carved), carved
    assert all(r[0] == "$CarvedFiles/%d.csv" % r[4] for r in carved), carved
    # every patient, from the staged, deleted and unallocated-only files, once each
    est = con.execute("SELECT estimate FROM individuals WHERE scope = 'all'").fetchone()[0]
    assert est == 6, est
    ssns = {r[0] for r in con.execute(
        "SELECT DISTINCT o.name FROM phi_record p JOIN object o ON o.sha256 = p.object_sha256 "
        "WHERE o.name LIKE '/%'")} - {img}  # the image itself: its printable runs
    assert ssns == {"/Staging/roster.csv", "/_ld.csv", "/$CarvedFiles/%d.csv" % _DISK_CARVE_AT
                    } | {"/" + r[0] for r in carved}, ssns
    cov = con.execute("SELECT examined_as, examined, reason FROM coverage").fetchone()
    assert cov == ("image:fat12", 1, None), cov
    # the MACB times of files with PHI and of deleted files are on the timeline
    tl = {(r[0], r[1].split(" (")[0]) for r in con.execute(
        "SELECT timestamp_desc, message FROM timeline_event WHERE data_type = 'fs:stat'")}
    assert {("Content Modification Time", "Staging/roster.csv"),
            ("Content Modification Time", "_ld.csv")} <= tl, tl


@test
def disk_generated_ntfs_image_streams_and_resident_files():
    # mkntfs and ntfscp (Debian ntfs-3g) build and fill an NTFS volume without mounting it
    _disk_need_tsk()
    if shutil.which("mkntfs") is None or shutil.which("ntfscp") is None:
        raise Skip("mkntfs/ntfscp are absent (Debian package ntfs-3g)")
    c = case("disk-ntfs")
    d = c + "-in"
    os.makedirs(d, exist_ok=True)
    img = os.path.join(d, "ws03.img")
    with open(img, "wb") as fh:
        fh.truncate(16 * 1024 * 1024)
    src = {"roster.csv": _disk_csv(_DISK_STAGED), "tiny.txt": b"hi\n",
           "hidden.csv": _disk_csv(_DISK_DELETED)}
    for name, data in src.items():
        with open(os.path.join(d, name), "wb") as fh:
            fh.write(data)

    m = _disk_tool
    m("mkntfs", "-F", "-Q", "-q", img)
    m("ntfscp", "-q", img, os.path.join(d, "roster.csv"), "roster.csv")
    m("ntfscp", "-q", img, os.path.join(d, "tiny.txt"), "tiny.txt")  # resident in its MFT entry
    m("ntfscp", "-q", "-N", "exfil", img, os.path.join(d, "hidden.csv"), "tiny.txt")
    for name in src:
        os.remove(os.path.join(d, name))
    run("analyze", "-q", img, "-o", c, check=0)
    con = db(c)
    _disk_same_as_sleuthkit(con, [img], {0: "ntfs"}, len(_disk_fls([img], 0)), ["ws03.img"])
    rows = con.execute("SELECT path, attr, size FROM disk_file WHERE path NOT LIKE '$%' ORDER "
                       "BY path").fetchall()
    assert rows == [("roster.csv", None, len(src["roster.csv"])), ("tiny.txt", None, 3),
                    ("tiny.txt:exfil", "exfil", len(src["hidden.csv"]))], rows
    # the patients in the alternate data stream are found like any others
    est = con.execute("SELECT estimate FROM individuals WHERE scope = 'all'").fetchone()[0]
    assert est == 5, est
    names = {r[0] for r in con.execute(
        "SELECT DISTINCT o.name FROM phi_record p JOIN object o ON o.sha256 = p.object_sha256")}
    assert "/tiny.txt:exfil" in names, names
