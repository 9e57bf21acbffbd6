# e2e_archive.py - archives and compressed files at rest: a patient table counts the same
# bare and inside every container an intruder stages with, and overlapping zips stay bounded.
# Run by run_e2e.py in its namespace (@test, run(), case(), db(), Skip).
import bz2
import gzip as _gzip
import hashlib
import io
import lzma
import random
import shutil
import struct
import tarfile
import time
import zipfile
import zlib


def _patients_csv(n=120, seed=17):
    """n distinct patients: valid-looking SSNs (area 001-665, not 666; group not 00; serial
    not 0000), distinct MRNs, names and birth dates."""
    rnd = random.Random(seed)
    rows = ["mrn,last_name,first_name,dob,ssn,diagnosis"]
    seen = set()
    diag = ["E11.9", "I10", "J45.909", "F32.9", "C50.911", "N18.3"]
    while len(rows) <= n:
        ssn = "%03d-%02d-%04d" % (rnd.randint(1, 665), rnd.randint(1, 99), rnd.randint(1, 9999))
        if ssn in seen:
            continue
        seen.add(ssn)
        i = len(rows)
        rows.append("RAD%07d,Lastname%03d,Firstname%03d,19%02d-%02d-%02d,%s,%s" % (
            4200000 + i, i, i, 40 + i % 50, 1 + i % 12, 1 + i % 28, ssn, diag[i % len(diag)]))
    return ("\n".join(rows) + "\n").encode()


def _tar(data, name, mode):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = 1767225600
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(data, name, method):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data,
                   compress_type=method)
    return buf.getvalue()


def _cpio_newc(data, name):
    """SVR4 "newc" cpio (070701): 13 eight-digit hex fields, name, NUL, padded to 4."""
    def entry(nm, body, mode, ino):
        nb = nm.encode() + b"\0"
        hdr = b"070701" + b"".join(b"%08X" % v for v in (
            ino, mode, 0, 0, 1, 1767225600, len(body), 0, 0, 0, 0, len(nb), 0))
        out = hdr + nb
        out += b"\0" * (-len(out) % 4)
        return out + body + b"\0" * (-len(body) % 4)
    return entry(name, data, 0o100644, 1) + entry("TRAILER!!!", b"", 0, 0)


def _vint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7f, n >> 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def _rar5_stored(members):
    """A stored RAR 5 archive from RARLAB's "RAR 5.0 archive format": each header is
    CRC32, size (vint), then type, flags... (the CRC and size cover type to extra area); a
    main header, one file header per member (method 0, Unix mode, CRC32 of the data), the
    end-of-archive header. rar itself is non-free and libarchive cannot write RAR."""
    def header(body, data=b""):
        size = _vint(len(body))
        return struct.pack("<I", zlib.crc32(size + body)) + size + body + data
    out = b"Rar!\x1a\x07\x01\x00" + header(_vint(1) + _vint(0) + _vint(0))
    for name, data in members:
        nm = name.encode()
        body = (_vint(2) + _vint(0x0002) + _vint(len(data)) + _vint(0x0004) + _vint(len(data)) +
                _vint(0o100644) + struct.pack("<I", zlib.crc32(data)) + _vint(0) + _vint(1) +
                _vint(len(nm)) + nm)
        out += header(body, data)
    return out + header(_vint(5) + _vint(0) + _vint(0))


def _7z(data, name, d):
    if shutil.which("7z") is None:
        raise Skip("7z (p7zip-full) is not installed")
    src = os.path.join(d, "src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, name), "wb") as f:
        f.write(data)
    out = os.path.join(d, "made.7z")
    subprocess.run(["7z", "a", "-bd", "-y", out, name], cwd=src, check=True,
                   capture_output=True)
    with open(out, "rb") as f:
        return f.read()


def _individuals(c):
    return db(c).execute("SELECT estimate FROM individuals WHERE scope = 'all'").fetchone()[0]


@test
def archived_patient_table_counts_like_the_bare_file():
    """One patient table (120 people) bare, and inside tar.gz, tar.bz2, 7z, zip (bzip2 and
    LZMA methods), cpio, gzip, xz and RAR 5: the same 120 each time, the table an object whose
    parent is the archive, with the container in its encoding."""
    csv = _patients_csv()
    want = hashlib.sha256(csv).hexdigest()
    d = os.path.join(TMP, "archived")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    bare = os.path.join(d, "bare")
    os.makedirs(bare)
    with open(os.path.join(bare, "patients.csv"), "wb") as f:
        f.write(csv)
    c = case("archived-bare")
    run("analyze", "-q", bare, "-o", c, check=0)
    assert _individuals(c) == 120, _individuals(c)
    made = {
        "patients.tar.gz": (_tar(csv, "export/patients.csv", "w:gz"), "tar,gzip",
                            "export/patients.csv"),
        "patients.tar.bz2": (_tar(csv, "export/patients.csv", "w:bz2"), "tar,bzip2",
                             "export/patients.csv"),
        "patients.7z": (_7z(csv, "patients.csv", d), "7z", "patients.csv"),
        "bz.zip": (_zip(csv, "patients.csv", zipfile.ZIP_BZIP2), "zip,bzip2", "patients.csv"),
        "lzma.zip": (_zip(csv, "patients.csv", zipfile.ZIP_LZMA), "zip,lzma", "patients.csv"),
        "patients.cpio": (_cpio_newc(csv, "patients.csv"), "cpio", "patients.csv"),
        "patients.csv.gz": (_gzip.compress(csv, mtime=0), "gzip", None),
        "patients.csv.xz": (lzma.compress(csv), "xz", None),
        "patients.rar": (_rar5_stored([("patients.csv", csv)]), "rar", "patients.csv"),
    }
    for fname, (blob, encoding, member) in made.items():
        sub = os.path.join(d, fname + ".dir")
        os.makedirs(sub)
        path = os.path.join(sub, fname)
        with open(path, "wb") as f:
            f.write(blob)
        c = case("archived-" + fname)
        run("analyze", "-q", sub, "-o", c, check=0)
        con = db(c)
        # a compressed file's one child is named after it (gzip without FNAME, xz)
        name = member if member is not None else path[:-3]
        rows = con.execute("SELECT name, encoding, depth, complete, encrypted, parent_sha256,"
                           " direction FROM object WHERE sha256 = ?", (want,)).fetchall()
        assert rows == [(name, encoding, 1, 1, 0, hashlib.sha256(blob).hexdigest(),
                         "at-rest")], (fname, rows)
        anomalies = con.execute("SELECT kind, detail FROM anomaly").fetchall()
        assert anomalies == [], (fname, anomalies)
        assert _individuals(c) == 120, (fname, _individuals(c))


def _overlap_level(inner, n=60):
    """One level of a zip bomb by overlap (Fifield 2019, quoted overlap): n entries, entry i's
    stored data quote the local headers of entries i+1..n-1, the last entry deflates `inner`.
    Every header and CRC is right; only the central directory's ranges overlap."""
    kernel = zlib.compress(inner, 9)[2:-4]
    hdr = 30 + 4
    total = n * hdr + len(kernel)
    body = bytearray(total)
    body[n * hdr:] = kernel
    central = b""
    for i in reversed(range(n)):
        off = i * hdr
        last = i == n - 1
        data = bytes(body[off + hdr:])
        crc = zlib.crc32(inner) if last else zlib.crc32(data)
        usize = len(inner) if last else len(data)
        name = b"f%03d" % i
        body[off:off + hdr] = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 8 if last else 0,
                                          0, 0x21, crc, len(data), usize, 4, 0) + name
        central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 8 if last else 0, 0,
                              0x21, crc, len(data), usize, 4, 0, 0, 0, 0, 0, off) + name + central
    eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, n, n, len(central), total, 0)
    return bytes(body) + central + eocd


@test
def nested_overlapping_zip_is_refused_and_bounded():
    """Zips whose 60 entries overlap, nested five deep (about 18 KB): naive unpacking would
    write 60^5 members; phitrace keeps the innermost entry of each, records the overlap, and
    finishes at once with bounded output."""
    blob = _patients_csv()
    for _ in range(5):
        blob = _overlap_level(blob)
    assert 12000 < len(blob) < 30000, len(blob)
    with zipfile.ZipFile(io.BytesIO(blob)) as z:  # a valid zip for Python, all 60 entries
        assert len(z.infolist()) == 60 and z.testzip() is None
    d = os.path.join(TMP, "overlap")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open(os.path.join(d, "bomb.zip"), "wb") as f:
        f.write(blob)
    c = case("overlap-case")
    t0 = time.time()
    run("analyze", "-q", d, "-o", c, check=0)
    assert time.time() - t0 < 60
    con = db(c)
    n, total = con.execute("SELECT count(*), coalesce(sum(size), 0) FROM object WHERE depth > 0"
                           ).fetchone()
    # one kept entry per level, down to the depth limit
    assert n == 4 and total < 64 * 1024, (n, total)
    assert con.execute("SELECT count(*) FROM anomaly WHERE kind = 'unpack.zip_overlap'"
                       ).fetchone()[0] == 4
    assert con.execute("SELECT count(*) FROM anomaly WHERE kind = 'limit.unpack_depth'"
                       ).fetchone()[0] == 1
    names = [r[0] for r in con.execute("SELECT name FROM object WHERE depth > 0 ORDER BY depth")]
    assert names == ["f059"] * 4, names


@test
def same_archive_twice_is_unpacked_once_with_both_places():
    """The same zip as two files: unpacked once, its member listed under each copy (so a copy
    that left the network shows what it carried), and the count unchanged."""
    csv = _patients_csv()
    blob = _zip(csv, "patients.csv", zipfile.ZIP_DEFLATED)
    d = os.path.join(TMP, "twice")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for n in ("a.zip", "b.zip"):
        with open(os.path.join(d, n), "wb") as f:
            f.write(blob)
    c = case("twice-case")
    run("analyze", "-q", d, "-o", c, check=0)
    con = db(c)
    rows = con.execute("SELECT o.item_id, o.parent_sha256 FROM object o WHERE o.depth = 1"
                       " ORDER BY o.item_id").fetchall()
    top = hashlib.sha256(blob).hexdigest()
    assert [r[1] for r in rows] == [top, top] and rows[0][0] != rows[1][0], rows
    assert _individuals(c) == 120


def _move_client_port(path, old, new):
    """Rewrite a client port in a pcap of Ethernet/IPv4/TCP frames written by tcp_frame()
    (ports at bytes 34 and 36; its checksums are zero, so nothing else changes)."""
    with open(path, "rb") as f:
        b = bytearray(f.read())
    at = 24
    while at + 16 <= len(b):
        n = struct.unpack_from("<I", b, at + 8)[0]
        fr = at + 16
        for o in (34, 36):
            if struct.unpack_from(">H", b, fr + o)[0] == old:
                struct.pack_into(">H", b, fr + o, new)
        at = fr + n
    with open(path, "wb") as f:
        f.write(b)


@test
def same_archive_in_two_flows_gives_one_database_for_any_thread_count():
    """One overlapping zip uploaded in two captures: whichever worker unpacks it first, the
    other repeats its members and anomalies, so -j1 and -j3 give the same rows."""
    blob = _overlap_level(_overlap_level(_patients_csv()))
    d = os.path.join(TMP, "twoflows")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for n, port in (("a.pcap", 40200), ("b.pcap", 40300)):
        _http_post_capture(os.path.join(d, n), blob)
        _move_client_port(os.path.join(d, n), 40200, port)
    dumps = []
    for j in ("1", "3"):
        c = case("twoflows-j" + j)
        run("analyze", "-q", "-j", j, d, "-o", c, check=0)
        con = db(c)
        objs = sorted(con.execute("SELECT sha256, name, encoding, depth, parent_sha256, item_id,"
                                  " flow_id, direction, complete FROM object").fetchall())
        anoms = sorted(con.execute("SELECT item_id, frame, kind, detail FROM anomaly"
                                   " WHERE kind LIKE 'unpack.%' OR kind LIKE 'limit.%'").fetchall())
        dumps.append((objs, anoms))
    objs, anoms = dumps[0]
    assert dumps[1] == dumps[0]
    members = [o for o in objs if o[3] > 0]
    assert len(members) == 4 and {o[5] for o in members} == {1, 2}, members
    assert [a[2] for a in anoms].count("unpack.zip_overlap") == 4, anoms
