# e2e_coverage.py - the verdict never outruns the evidence (issue 11): per-host staging,
# coverage of every input, content no parser opened. Run in run_e2e.py's namespace.
import json
import os
import random


def _write(d, files):
    os.makedirs(d, exist_ok=True)
    out = []
    for name, data in files.items():
        p = os.path.join(d, name)
        with open(p, "wb") as fh:
            fh.write(data)
        out.append(p)
    return out


def _roster(n):
    rows = ["mrn,last_name,first_name,dob,ssn,diagnosis"]
    rows += ["%07d,DOE%d,JANE,1961-04-12,%03d-22-%04d,E11.9" % (4200000 + i, i, 200 + i, 1000 + i)
             for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def _staging_case(name, reader):
    import pcapw
    rnd = random.Random(11)
    csv = _roster(50)
    get = b"GET /export.csv HTTP/1.1\r\nHost: ehr.local\r\n\r\n"
    resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n" % len(csv) + csv
    blob = bytes(rnd.getrandbits(8) for _ in range(2 * 1024 * 1024))
    cap = pcapw.pcap([(reader, "10.2.0.9", 41000, 80, get, resp),
                      ("10.2.0.2", "203.0.113.50", 41001, 443, blob, b"\x17\x03\x03\x00\x02ok")])
    c = case(name)
    paths = _write(c + "-in", {"staging.pcap": cap})
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    return db(c).execute("SELECT verdict, json_extract(reasons, '$.phi_staged_bytes') FROM "
                         "exfil_event WHERE source = '10.2.0.2' AND destination = "
                         "'203.0.113.50'").fetchone()


@test
def coverage_staged_phi_is_per_host():
    # host A (10.2.0.1) reads a PHI export; host B (10.2.0.2) sends 2 MiB of unreadable bytes
    # to a rare outside address: B held no PHI, so its upload is possible, not likely
    v = _staging_case("staged-other", "10.2.0.1")
    assert v is not None and v[0] == "possible" and v[1] == 0, v
    # the same upload by the host that read the export is likely
    v = _staging_case("staged-same", "10.2.0.2")
    assert v is not None and v[0] == "likely" and v[1] > 0, v


def _ntfs_image():
    """A crafted raw NTFS volume: boot sector signature, random clusters, a patient CSV and a
    UTF-16LE note in its data area (no file system parser exists yet; the floor must show)."""
    rnd = random.Random(5)
    img = bytearray(rnd.getrandbits(8) for _ in range(256 * 1024))
    img[0:512] = bytes(512)
    img[3:11] = b"NTFS    "
    img[510:512] = b"\x55\xaa"
    csv = _roster(40)
    img[65536:65536 + len(csv)] = csv
    note = "Patient note\nMRN: 4299977 SSN 536-22-5401 diagnosis E11.9\n".encode("utf-16-le")
    img[200000:200000 + len(note)] = note
    return bytes(img)


MTIME = 1704240000  # 2024-01-03T00:00:00Z: the inputs' modification time in these tests


def _coverage_case(name, files, whole_dir=False):
    c = case(name)
    paths = _write(c + "-in", files)
    for p in paths:
        os.utime(p, (MTIME, MTIME))
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *([c + "-in"] if whole_dir else paths),
        "-o", c, check=0)
    return c


@test
def coverage_raw_image_gives_a_carved_floor_and_says_it_was_not_examined():
    c = _coverage_case("cov-image", {"ws01.dd": _ntfs_image()})
    est = db(c).execute("SELECT estimate FROM individuals WHERE scope = 'all'").fetchone()[0]
    assert est == 41, est  # 40 CSV rows and the UTF-16 note, read in printable runs
    kinds = {r[0] for r in db(c).execute("SELECT kind FROM phi_record")}
    assert kinds == {"carved csv row", "carved text"}, kinds
    row = db(c).execute("SELECT examined_as, examined, phi_bytes > 0 FROM coverage").fetchone()
    assert row == ("image:ntfs", 0, 1), row
    lim = db(c).execute("SELECT detail FROM limitation WHERE kind = 'not_examined'").fetchall()
    assert len(lim) == 1 and "ws01.dd (image:ntfs): disk image" in lim[0][0], lim
    sentence = db(c).execute("SELECT sentence FROM coverage_summary").fetchone()[0]
    assert sentence == ("No packet capture, so no network traffic was seen and no time in the "
                        "evidence dates it: the input files were last modified "
                        "2024-01-03T00:00:00Z to 2024-01-03T00:00:00Z (when the copies were "
                        "made, not when events happened); not examined: 1 disk image (see the "
                        "limitations)"), sentence
    with open(os.path.join(c, "report.txt")) as fh:
        txt = fh.read()
    assert txt.index("COVERAGE: No packet capture") < txt.index("VERDICT:"), txt[:400]


@test
def coverage_logs_and_a_capture_not_observed_names_what_was_not_examined():
    """Logs that give the heuristics nothing (a CEF log, read by no parser; a web access log,
    whose requests are stored but not weighed) are named as not examined, in the coverage
    sentence and the verdict statement."""
    import pcapw
    cap = pcapw.pcap([("10.2.0.5", "10.2.0.9", 42000, 80, b"GET / HTTP/1.1\r\nHost: intranet\r\n\r\n",
                       b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")])
    cef = b"".join(b"Jan  5 10:00:%02d fw01 CEF:0|Acme|FW|1.0|100|allow|3|src=10.2.0.%d "
                   b"dst=203.0.113.9\n" % (i, i) for i in range(30))
    web = b'10.2.0.5 - - [14/Nov/2023:22:13:20 +0000] "GET /chart/4200001 HTTP/1.1" 200 23\n'
    c = _coverage_case("cov-logs", {"lan.pcap": cap, "fw.log": cef, "access.log": web})
    got = dict(db(c).execute("SELECT e.path, c.examined_as FROM coverage c JOIN evidence_item e "
                             "ON e.id = c.item_id"))
    got = {os.path.basename(k): v for k, v in got.items()}
    assert got == {"lan.pcap": "capture", "fw.log": "log:cef", "access.log": "log:web-access"}, got
    lim = [r[0] for r in db(c).execute("SELECT detail FROM limitation WHERE kind = "
                                       "'not_examined' ORDER BY detail")]
    assert len(lim) == 1 and "fw.log (log:cef): log: its records are not turned into flows" in \
        lim[0], lim
    assert db(c).execute("SELECT verdict FROM verdict WHERE scope = 'overall'"
                         ).fetchone()[0] == "not observed"
    sentence = db(c).execute("SELECT sentence FROM coverage_summary").fetchone()[0]
    assert sentence == ("1 packet capture decoded, covering 2023-11-14T22:13:20Z to "
                        "2023-11-14T22:13:20Z; 1 HTTP request(s) from 1 log weighed with them "
                        "(their content not seen); not examined: 1 log file (see the "
                        "limitations)"), sentence
    with open(os.path.join(c, "report.json")) as fh:
        rep = json.load(fh)
    assert rep["verdict"]["statement"].startswith(
        "No transfer of patient data and no exfiltration-shaped activity was observed in the 1 "
        "packet capture covering 2023-11-14T22:13:20Z to 2023-11-14T22:13:20Z and the 1 HTTP "
        "request(s) of 1 log; 1 log file was not examined, within the coverage"), \
        rep["verdict"]["statement"]


def _tree_bytes(d):
    total = 0
    for root, _, files in os.walk(d):
        for f in files:
            total += os.lstat(os.path.join(root, f)).st_size
    return total


@test
def coverage_inputs_at_rest_are_referenced_not_copied():
    # a 300 MB image (sparse, with one patient row in it) gives a case of well under 5% of it:
    # the object is a link to the evidence; --copy-inputs copies it as before
    c = case("by-reference")
    os.makedirs(c + "-in", exist_ok=True)
    img = os.path.join(c + "-in", "vol.img")
    with open(img, "wb") as fh:
        fh.truncate(300 * 1024 * 1024)
        fh.seek(100 * 1000 * 1000)
        fh.write(b"mrn,last_name,first_name,dob,ssn\n4000001,DOE,JANE,1961-04-12,536-22-5401\n")
    run("analyze", "-q", img, "-o", c, check=0)
    used = _tree_bytes(c)
    assert used < 0.05 * 300 * 1024 * 1024, used
    sha = db(c).execute("SELECT sha256 FROM object").fetchone()[0]
    link = os.path.join(c, "objects", sha[:2], sha)
    assert os.path.islink(link) and os.readlink(link) == os.path.realpath(img), link
    assert db(c).execute("SELECT estimate FROM individuals WHERE scope = 'all'").fetchone()[0] == 1
    run("verify", c, check=0)
    c2 = case("by-copy")
    run("analyze", "-q", "--copy-inputs", img, "-o", c2, check=0)
    link2 = os.path.join(c2, "objects", sha[:2], sha)
    assert not os.path.islink(link2) and os.path.getsize(link2) == 300 * 1024 * 1024


@test
def coverage_split_image_is_one_item_with_a_hash_per_segment():
    import hashlib
    img = _ntfs_image()
    third = len(img) // 3
    segs = {"ws01.001": img[:third], "ws01.002": img[third:2 * third], "ws01.003": img[2 * third:]}
    c = _coverage_case("cov-split", dict(segs, **{"ws01.005": b"stray"}), whole_dir=True)
    con = db(c)
    items = con.execute("SELECT path, size, sha256, segments FROM evidence_item ORDER BY id"
                        ).fetchall()
    assert [(os.path.basename(r[0]), r[1], r[2], r[3]) for r in items] == [
        ("ws01.001", len(img), hashlib.sha256(img).hexdigest(), 3),
        ("ws01.005", 5, hashlib.sha256(b"stray").hexdigest(), 1)], items
    rows = con.execute("SELECT seq, path, size, sha256 FROM evidence_segment ORDER BY seq"
                       ).fetchall()
    assert [(r[0], os.path.basename(r[1]), r[2], r[3]) for r in rows] == [
        (i + 1, n, len(d), hashlib.sha256(d).hexdigest()) for i, (n, d) in
        enumerate(sorted(segs.items()))], rows
    gap = con.execute("SELECT detail FROM anomaly WHERE kind = 'input.segment_missing'"
                      ).fetchall()
    assert len(gap) == 1 and "gap after segment 3" in gap[0][0], gap
    cov = con.execute("SELECT examined_as FROM coverage ORDER BY item_id").fetchall()
    assert cov == [("image:ntfs",), ("file:text",)], cov
    # the carved floor is over the whole image (the CSV and the note sit in its segments)
    est = con.execute("SELECT estimate FROM individuals WHERE scope = 'all'").fetchone()[0]
    assert est == 41, est
    out = run("verify", c, check=0)
    assert out.returncode == 0 and "(whole split image)" in out.stdout, out.stdout
    with open(os.path.join(c + "-in", "ws01.002"), "ab") as fh:
        fh.write(b"x")
    out = run("verify", c)
    assert out.returncode != 0 and "MISMATCH    segment 2 of item 1" in out.stdout, out.stdout


@test
def coverage_window_of_logs_without_a_capture():
    syslog = b"".join(b"Dec 30 10:00:%02d fw01 kernel: ACCEPT SRC=10.2.0.%d DST=203.0.113.9\n"
                      % (i, i) for i in range(30))
    web = (b'10.2.0.5 - - [02/Jan/2024:05:00:00 -0500] "GET /chart/4200001 HTTP/1.1" 200 23\n'
           b'10.2.0.5 - - [02/Jan/2024:06:00:00 -0500] "GET /chart/4200002 HTTP/1.1" 200 23\n')
    c = _coverage_case("cov-logtime", {"fw.log": syslog, "access.log": web})
    con = db(c)
    row = con.execute("SELECT sentence, window_from FROM coverage_summary").fetchone()
    # syslog has no year: 2023, since Dec 30 2024 would be after the files were written; the
    # firewall's 30 connections are weighed as flows, the web log's requests for PHI access
    assert row == ("No packet capture: 30 connection(s) and 2 HTTP request(s) from 2 logs "
                   "weighed (the connections as flows, their content not seen); the evidence "
                   "window, from the times in 2 log files, is 2023-12-30T10:00:00Z to "
                   "2024-01-02T11:00:00Z", "log lines"), row
    assumed = con.execute("SELECT detail FROM anomaly WHERE kind = 'input.time_assumed'"
                          ).fetchall()
    assert len(assumed) == 1 and "fw.log: 30 of 30 lines carry a time; syslog lines carry no " \
        "year" in assumed[0][0], assumed


@test
def coverage_a_killed_runs_partial_case_is_not_evidence():
    d = case("cov-partial") + "-in"
    _write(d, {"roster.csv": _roster(5)})
    _write(os.path.join(d, "old.partial-Xy12Ab"), {"evidence.db": b"SQLite format 3\0"})
    os.makedirs(os.path.join(d, "old.partial-Xy12Ab", "objects"))
    _write(os.path.join(d, "old.partial-Xy12Ab", "objects"), {"aa": _roster(50)})
    c = case("cov-partial")
    run("analyze", "-q", d, "-o", c, check=0)
    con = db(c)
    items = [(os.path.basename(r[0]), r[1], r[2]) for r in con.execute(
        "SELECT path, status, error FROM evidence_item ORDER BY id")]
    assert items == [("old.partial-Xy12Ab", "skipped", "a phitrace case directory (the output "
                      "of a run, not evidence)"), ("roster.csv", "ok", None)], items
    est = con.execute("SELECT estimate FROM individuals WHERE scope = 'all'").fetchone()[0]
    assert est == 5, est
