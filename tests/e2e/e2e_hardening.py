# e2e_hardening.py - issue 17, "a case that cannot lie about itself", "no silent loss" and
# "output and privacy". Loaded by run_e2e.py into its namespace (@test, run, case, db, Skip).
import hashlib
import json
import random
import signal
import stat
import time


def _bench_capture(mb=16):
    """A generated mixed capture (the bench generator), else copies of the sample."""
    gen = os.path.join(ROOT, "build", "gen_samples")
    path = os.path.join(TMP, "bench-%d.pcap" % mb)
    if not os.path.exists(path):
        if os.path.exists(gen):
            subprocess.run([gen, "--bench", str(mb), path], check=True,
                           stdout=subprocess.DEVNULL)
        else:
            d = os.path.join(TMP, "bench-copies")
            os.makedirs(d, exist_ok=True)
            for i in range(24):
                shutil.copy(os.path.join(SAMPLES, "radiology-breach.pcap"),
                            os.path.join(d, "copy%02d.pcap" % i))
            return d
    return path


def _root_mount(*args):
    """mount(8) as root, or Skip with the reason."""
    if os.geteuid() != 0:
        raise Skip("needs root (mount -t tmpfs)")
    p = subprocess.run(["mount"] + list(args), capture_output=True, text=True)
    if p.returncode != 0:
        raise Skip("mount refused: " + p.stderr.strip())


def _umount(path):
    subprocess.run(["umount", path], capture_output=True)


def _seal(c):
    row = db(c).execute("SELECT detail FROM audit_log WHERE action = 'case_sealed'").fetchone()
    return row[0] if row else None


def _killed_runs(iterations, seed, force_over=None, frac=0.9):
    """Start analyze, SIGKILL it after a random delay (up to frac of an uninterrupted run's
    time); return (case, killed, rc) per run."""
    src = _bench_capture()
    rng = random.Random(seed)
    t0 = time.monotonic()
    run("analyze", "-q", src, "-o", case("kill-timing"), check=0)
    full = time.monotonic() - t0
    out = []
    for i in range(iterations):
        c = force_over if force_over else case("kill%02d" % i)
        args = [BIN, "analyze", "-q"] + (["--force"] if force_over else []) + [src, "-o", c]
        p = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.0, full * frac))
        killed = p.poll() is None
        if killed:
            p.send_signal(signal.SIGKILL)
        p.wait()
        out.append((c, killed, p.returncode))
    return out


@test
def sigkill_at_random_points_leaves_a_case_verify_and_report_reject():
    """A run killed at a random point leaves a case that `verify` and `report` reject (exit
    2), and any report written from it says INCOMPLETE CASE; 10 random points (50 by hand)."""
    n = int(os.environ.get("PHITRACE_KILLS", "10"))
    rejected = complete = early = 0
    for c, killed, rc in _killed_runs(n, 17):
        if not killed:
            early += 1  # finished before the kill: an ordinary complete case
            continue
        v = run("verify", c)
        if v.returncode == 0:
            # killed after the run's last step (summary.txt names the sealed head): complete
            assert _seal(c) is not None and "status=complete" in _seal(c), v.stdout
            complete += 1
            continue
        assert v.returncode == 2, (v.returncode, v.stdout, v.stderr)
        assert "VERIFICATION FAILED" in v.stdout or "cannot" in v.stderr, v.stdout + v.stderr
        assert "verified:" not in v.stdout, v.stdout
        r = run("report", c)
        assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
        if os.path.exists(os.path.join(c, "evidence.db")) and "incomplete case" in r.stderr:
            for name in ("report.txt", "report.html", "report.json"):
                with open(os.path.join(c, name), encoding="utf-8") as f:
                    text = f.read()
                assert "INCOMPLETE CASE" in text or "Incomplete case" in text, name
            j = json.load(open(os.path.join(c, "report.json"), encoding="utf-8"))
            assert j["case"]["status"] == "incomplete", j["case"]
        rejected += 1
    print("      %d killed runs rejected, %d killed after completion, %d finished first"
          % (rejected, complete, early))
    assert rejected >= n // 2, (rejected, complete, early)


@test
def force_replaces_the_whole_case_atomically():
    """--force builds the new case beside the old one and swaps it in: the old reports and
    stray files go with it; a run killed meanwhile leaves the old case intact and verified."""
    c = case("force-atomic")
    run("analyze", "-q", SAMPLES, "-o", c, check=0)
    stray = os.path.join(c, "objects", "tmp", "w0-0")
    with open(stray, "w") as f:
        f.write("left by a crashed run")
    with open(os.path.join(c, "notes-of-old-run.txt"), "w") as f:
        f.write("x")
    before = hashlib.sha256(open(os.path.join(c, "evidence.db"), "rb").read()).hexdigest()
    # kills in the first half of a run's time, so that one lands even when the machine got
    # quieter than during the timing run
    killed = [k for _, k, _ in _killed_runs(3, 5, force_over=c, frac=0.5) if k]
    assert killed, "no run was killed"
    assert hashlib.sha256(open(os.path.join(c, "evidence.db"), "rb").read()).hexdigest() == before
    run("verify", c, check=0)
    run("analyze", "-q", "--force", SAMPLES, "-o", c, check=0)
    assert not os.path.exists(stray) and not os.path.exists(
        os.path.join(c, "notes-of-old-run.txt")), os.listdir(c)
    parent = os.path.dirname(c)
    left = [n for n in os.listdir(parent) if n.startswith("force-atomic.partial-")]
    assert len(left) <= len(killed), left  # only the killed runs' partial builds remain
    for n in left:
        run("verify", os.path.join(parent, n), check=2)
    run("verify", c, check=0)
    assert oct(os.stat(c).st_mode & 0o777) == "0o700"


@test
def edited_rows_reports_and_audit_hashes_fail_verify():
    """The completion record seals a digest of every table's rows and the reports' SHA-256:
    an edited row or report fails verify; so does an evidence_item hash that disagrees with
    the audit log, a case with no evidence item, and a missing summary.txt."""
    c = case("edit-row")
    run("analyze", "-q", SAMPLES, "-o", c, check=0)
    p = run("verify", c, check=0)
    assert "match the sealed digest" in p.stdout and "report.json matches" in p.stdout, p.stdout
    pristine = os.path.join(TMP, "edit-row-pristine")
    shutil.rmtree(pristine, ignore_errors=True)
    shutil.copytree(c, pristine)

    def tampered(*sql):
        """verify's output on a fresh copy of the case after running `sql` on its database."""
        shutil.rmtree(c)
        shutil.copytree(pristine, c)
        con = db(c)
        con.execute("PRAGMA foreign_keys = OFF")
        for q in sql:
            con.execute(q)
        con.commit()
        con.close()
        return run("verify", c, check=2).stdout if sql else ""

    out = tampered("UPDATE flow SET c_payload_bytes = c_payload_bytes + 1 WHERE id = "
                   "(SELECT min(id) FROM flow)")
    assert "MISMATCH    database rows" in out, out
    # one hit taken out of its record's packed hits (store/phi_pack.h: the first hit's bytes)
    out = tampered("UPDATE phi_record_row SET hits = substr(hits, 4 + (hit_widths & 7) + "
                   "(hit_widths >> 3 & 7) + (hit_widths >> 6 & 7)) WHERE id = (SELECT min(id) "
                   "FROM phi_record_row)")
    assert "MISMATCH    database rows" in out, out
    out = tampered("UPDATE evidence_item SET sha256 = '%s'" % ("0" * 64))
    assert "the audit log recorded sha256" in out, out
    out = tampered("DELETE FROM anomaly", "DELETE FROM evidence_item")
    assert "NO INPUTS" in out and "verified:" not in out, out
    tampered()
    with open(os.path.join(c, "report.html"), "a") as f:
        f.write("<!-- edited -->")
    assert "MISMATCH    report.html" in run("verify", c, check=2).stdout
    tampered()
    os.unlink(os.path.join(c, "summary.txt"))
    p = run("verify", c, check=2)
    assert "summary.txt is missing" in p.stdout, p.stdout
    tampered()
    run("verify", c, check=0)


@test
def full_disk_is_a_store_failure_and_exit_2():
    """Root only. objects/ on a 16 KiB tmpfs (the samples hold 42 KB of objects, packed):
    every object that does not fit is a store.failed anomaly with its name and protocol and an
    objects_not_stored limitation, exit 2, reports marked incomplete, verify and report
    refuse. A full tmpfs as the case's parent: exit 2 and a case verify rejects."""
    c = case("full-objects")
    os.makedirs(os.path.join(c, "objects"))
    _root_mount("-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs", os.path.join(c, "objects"))
    try:
        p = run("analyze", "-q", SAMPLES, "-o", c, check=2)
        assert "incomplete" in p.stderr, p.stderr
        con = db(c)
        rows = con.execute("SELECT detail FROM anomaly WHERE kind = 'store.failed'").fetchall()
        # which objects no longer fit depends on the order the workers close them
        assert rows and all(re.match(r"(http|ftp|smtp|dicom|hl7|smb|tcp|file) object '.*' "
                                     r"\(\d+ bytes.*No space left", r[0]) for r in rows), rows
        assert con.execute("SELECT count(*) FROM limitation WHERE kind = 'objects_not_stored'"
                           ).fetchone()[0] == 1
        for name in ("report.txt", "report.html", "report.json", "summary.txt"):
            with open(os.path.join(c, name), encoding="utf-8") as f:
                assert "INCOMPLETE CASE" in f.read() or name == "report.html", name
        assert "Incomplete case" in open(os.path.join(c, "report.html"), encoding="utf-8").read()
        assert "INCOMPLETE" in run("verify", c, check=2).stdout
        assert "incomplete case" in run("report", c, check=2).stderr
    finally:
        _umount(os.path.join(c, "objects"))
    parent = os.path.join(TMP, "full-parent")
    os.makedirs(parent, exist_ok=True)
    _root_mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", parent)
    try:
        with open(os.path.join(parent, "filler"), "wb") as f:
            f.write(b"\0" * (2048 - 500) * 1024)
        c = os.path.join(parent, "case")
        p = run("analyze", "-q", SAMPLES, "-o", c, check=2)
        assert "full" in p.stderr or "No space" in p.stderr, p.stderr
        run("verify", c, check=2)
        run("report", c, check=2)
    finally:
        _umount(parent)


@test
def read_only_output_directory_is_a_clear_error():
    """Root only: a case in or under a read-only mount exits 2 naming the directory and the
    reason (before: an existing read-only directory gave SQLite's "unable to open")."""
    parent = os.path.join(TMP, "ro-parent")
    os.makedirs(parent, exist_ok=True)
    _root_mount("-t", "tmpfs", "-o", "ro,size=1m,mode=0700", "tmpfs", parent)
    try:
        c = os.path.join(parent, "case")
        p = run("analyze", "-q", SAMPLES, "-o", c, check=2)
        assert "cannot create case directory " + c in p.stderr, p.stderr
        assert "Read-only file system" in p.stderr, p.stderr
        p = run("analyze", "-q", SAMPLES, "-o", parent, check=2)  # an existing directory
        assert "cannot write in case directory " + parent in p.stderr, p.stderr
        assert "Read-only file system" in p.stderr, p.stderr
    finally:
        _umount(parent)


@test
def file_at_rest_changed_during_the_run_is_an_anomaly():
    """A file grown by a writer while phitrace reads it: the object is exactly the bytes the
    item's SHA-256 covers (one descriptor), and an input.changed_during_run anomaly says the
    file on disk is no longer what was hashed."""
    d = os.path.join(TMP, "growing")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "export.csv")
    line = b"mrn,name,dob\n" + b"1234567,DOE^JANE,1980-01-01\n" * 1000
    with open(path, "wb") as f:
        for _ in range(1500):  # ~40 MB
            f.write(line)
    writer = subprocess.Popen([sys.executable, "-c", (
        "import time,sys\n"
        "f=open(sys.argv[1],'ab',buffering=0)\n"
        "t=time.time()\n"
        "while time.time()-t<20: f.write(b'x'*4096); time.sleep(0.0005)\n"), path])
    try:
        time.sleep(0.2)
        c = case("growing-case")
        run("analyze", "-q", "--no-phi", path, "-o", c, check=0)
    finally:
        writer.kill()
        writer.wait()
    con = db(c)
    item_sha, size = con.execute("SELECT sha256, size FROM evidence_item").fetchone()
    obj = con.execute("SELECT sha256, size FROM object WHERE protocol = 'file'").fetchone()
    assert obj == (item_sha, size), (obj, item_sha, size)
    rows = con.execute("SELECT detail FROM anomaly WHERE kind = 'input.changed_during_run'"
                       ).fetchall()
    assert len(rows) == 1 and "when opened" in rows[0][0], rows


@test
def case_is_private_whatever_the_umask():
    """umask 000: every file 0600 and directory 0700; an existing case directory with looser
    modes is tightened with a warning."""
    c = case("umask0")
    os.makedirs(c)
    os.chmod(c, 0o777)
    p = subprocess.run([BIN, "analyze", "-q", "--keep-phi", SAMPLES, "-o", c], env=ENV,
                       capture_output=True, text=True, preexec_fn=lambda: os.umask(0))
    assert p.returncode == 0, p.stderr
    assert "tightened to 0700" in p.stderr, p.stderr
    loose = []
    for d, dirs, files in os.walk(c):
        for n in dirs:
            if stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode) != 0o700:
                loose.append(os.path.join(d, n))
        for n in files:
            if stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode) != 0o600:
                loose.append(os.path.join(d, n))
    assert stat.S_IMODE(os.stat(c).st_mode) == 0o700
    assert loose == [], [(x, oct(os.stat(x).st_mode)) for x in loose]
    p = subprocess.run([BIN, "report", c], env=ENV, capture_output=True, text=True,
                       preexec_fn=lambda: os.umask(0))
    assert p.returncode == 0, p.stderr
    for n in ("report.html", "report.json", "report.txt"):
        assert stat.S_IMODE(os.stat(os.path.join(c, n)).st_mode) == 0o600, n


@test
def reports_are_valid_utf8_with_controls_escaped():
    """HTTP URIs and multipart file names with bytes that are not UTF-8 and C0 controls:
    report.json parses (strict UTF-8), the HTML carries no raw control byte."""
    name = b"r\xe9sultats\x01\x1b.csv"
    body = (b"--XB\r\nContent-Disposition: form-data; name=\"f\"; filename=\"" + name +
            b"\"\r\nContent-Type: text/csv\r\n\r\nmrn,ssn\r\n1,219-09-9999\r\n--XB--\r\n")
    req = (b"POST /up\xff\xfeload/\xc3\x28x\x07?q=\xed\xa0\x80 HTTP/1.1\r\nHost: h\xf0\x28.example"
           b"\r\nUser-Agent: ag\xc0\xafent\r\nContent-Type: multipart/form-data; boundary=XB\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body)) + body
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    c_, s_ = "10.1.1.20", "203.0.113.80"
    isn, sisn = 1000, 5000
    fr = [tcp_frame(c_, s_, 40200, 80, isn, 0, 0x02),
          tcp_frame(s_, c_, 80, 40200, sisn, isn + 1, 0x12),
          tcp_frame(c_, s_, 40200, 80, isn + 1, sisn + 1, 0x10),
          tcp_frame(c_, s_, 40200, 80, isn + 1, sisn + 1, 0x18, req),
          tcp_frame(s_, c_, 80, 40200, sisn + 1, isn + 1 + len(req), 0x18, resp),
          tcp_frame(c_, s_, 40200, 80, isn + 1 + len(req), sisn + 1 + len(resp), 0x11),
          tcp_frame(s_, c_, 80, 40200, sisn + 1 + len(resp), isn + 2 + len(req), 0x11)]
    d = os.path.join(TMP, "utf8")
    os.makedirs(d, exist_ok=True)
    pcap = os.path.join(d, "bytes.pcap")
    write_pcap(pcap, [(1700000000000000 + i * 1000, f) for i, f in enumerate(fr)])
    c = case("utf8-case")
    run("analyze", "-q", pcap, "-o", c, check=0)
    con = db(c)
    uri = con.execute("SELECT CAST(uri AS BLOB) FROM http_txn").fetchone()[0]
    assert b"\xff" in uri, uri  # the database keeps the bytes as they were
    assert con.execute("SELECT count(*) FROM object WHERE CAST(name AS BLOB) = ?",
                       (name,)).fetchone()[0] >= 1
    raw = open(os.path.join(c, "report.json"), "rb").read()
    j = json.loads(raw.decode("utf-8"))  # strict: raises on any invalid byte
    names = [o["name"] for o in report_list(c, "objects_with_phi", j)]
    assert any(n.startswith("r\ufffdsultats\x01\x1b") for n in names), names
    html = open(os.path.join(c, "report.html"), "rb").read()
    html.decode("utf-8")
    bad = sorted(set(b for b in html if b < 0x20 and b not in (0x09, 0x0a)))
    assert bad == [], bad
    assert "r\ufffdsultats\u2401\u241b.csv" in html.decode("utf-8")


@test
def case_path_with_uri_characters_and_relative_inputs():
    """A case directory named with '#', '?' and '%' analyzes, verifies and reports; inputs
    given relative to the working directory are stored absolute, so verify works anywhere."""
    c = case("odd#name?x=1%41")
    run("analyze", "-q", "samples/evidence", "-o", c, check=0, cwd=ROOT)
    path = db(c).execute("SELECT path FROM evidence_item").fetchone()[0]
    assert path == os.path.join(SAMPLES, "radiology-breach.pcap"), path
    p = run("verify", c, check=0, cwd="/")
    assert "verified: 1 input(s)" in p.stdout, p.stdout
    run("report", c, check=0)
    assert not os.path.exists(os.path.join(TMP, "odd")), "opened a truncated path"


@test
def stale_temporary_files_do_not_drop_objects():
    """Temporary names carry the run: files a crashed run left in objects/tmp/ (named as the
    previous version named them, w<worker>-<n>) no longer make the next run drop objects."""
    c = case("stale-tmp")
    os.makedirs(os.path.join(c, "objects", "tmp"))
    for w in range(4):
        for n in range(64):
            with open(os.path.join(c, "objects", "tmp", "w%d-%d" % (w, n)), "w") as f:
                f.write("stale")
    big = os.path.join(TMP, "stale-big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(600 * 1024))  # past the in-memory size: spills to a temporary file
    run("analyze", "-q", "--no-phi", big, SAMPLES, "-o", c, check=0)
    con = db(c)
    assert con.execute("SELECT count(*) FROM anomaly WHERE kind = 'store.failed'"
                       ).fetchone()[0] == 0
    sha = hashlib.sha256(open(big, "rb").read()).hexdigest()
    assert con.execute("SELECT count(*) FROM object WHERE sha256 = ?", (sha,)).fetchone()[0] == 1
    assert os.path.exists(os.path.join(c, "objects", sha[:2], sha))


@test
def symlinked_file_at_rest_is_stored():
    """A symbolic link to a file is followed, as the README says, and stored like the file
    (before, the walker listed it and a second open with O_NOFOLLOW refused it)."""
    d = os.path.join(TMP, "links")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    target = os.path.join(TMP, "link-target.txt")
    with open(target, "w") as f:
        f.write("MRN: 1234567 seen in clinic\n")
    os.symlink(target, os.path.join(d, "notes.txt"))
    c = case("links-case")
    run("analyze", "-q", d, "-o", c, check=0)
    con = db(c)
    assert con.execute("SELECT kind, status FROM evidence_item").fetchall() == [("file", "ok")]
    sha = hashlib.sha256(open(target, "rb").read()).hexdigest()
    assert con.execute("SELECT count(*) FROM object WHERE sha256 = ? AND protocol = 'file'",
                       (sha,)).fetchone()[0] == 1
