# e2e_keep.py - which object bytes a case keeps (issue 16 item 2, `--keep-objects`): the same
# answers whatever the policy, the kept objects exportable and verified from a compressed pack,
# the others refused by export-object with where their bytes are, counted as a limitation,
# noted by verify. Run inside run_e2e.py's namespace (@test, run, case, db, SAMPLES, BIN,
# ENV). Which objects must be kept is derived from the object rows (directions), never from
# the keep stage's own choice.
import hashlib as _keep_hashlib
import json as _keep_json
import subprocess as _keep_subprocess


def _keep_case(policy):
    c = case("keep-" + policy)
    args = ["analyze", "-q", "--home-net", "10.1.0.0/16"]
    if policy != "default":
        args.append("--keep-objects=" + policy)
    run(*(args + [SAMPLES, "-o", c]), check=0)
    return c


def _keep_answers(c):
    con = db(c)
    q = {"individuals": "SELECT scope, estimate, lower, upper FROM individuals ORDER BY scope",
         "events": "SELECT source, destination, bytes_out, objects, phi_objects, phi_types, "
                   "individuals, verdict FROM exfil_event ORDER BY id",
         "verdict": "SELECT scope, subject, verdict, bytes_out FROM verdict ORDER BY id",
         "findings": "SELECT heuristic, source, destination, severity, summary FROM finding "
                     "ORDER BY id",
         "phi": "SELECT count(*), count(DISTINCT hmac) FROM phi_hit",
         "yara": "SELECT object_sha256, rule, namespace, severity, offset FROM yara_match "
                 "ORDER BY id",
         "objects": "SELECT sha256, size, direction FROM object ORDER BY id"}
    return {k: con.execute(v).fetchall() for k, v in q.items()}


def _keep_export(c, sha):
    return _keep_subprocess.run([BIN, "export-object", c, sha], capture_output=True, env=ENV,
                                timeout=300)


@test
def keep_objects_policies_same_answers_kept_exported_others_said():
    cases = {p: _keep_case(p) for p in ("default", "all", "none")}
    answers = {p: _keep_answers(c) for p, c in cases.items()}
    assert answers["default"] == answers["all"] == answers["none"]
    # the reports differ only by the limitation (and the custody rows, times and manifest)
    reports = {}
    for p, c in cases.items():
        with open(os.path.join(c, "report.json")) as f:
            r = _keep_json.load(f)
        lim = [x for x in r["limitations"] if x["kind"] == "objects_not_kept"]
        reports[p] = (r["verdict"], r["individuals"], r["events"], r["findings"],
                      [x for x in r["limitations"] if x["kind"] != "objects_not_kept"], lim)
    assert reports["default"][:5] == reports["all"][:5] == reports["none"][:5]
    assert reports["all"][5] == []
    con = db(cases["default"])
    shas = dict(con.execute("SELECT sha256, max(direction = 'upload') FROM object WHERE size > 0 "
                            "GROUP BY sha256"))
    assert any(shas.values()) and not all(shas.values()), shas
    blobs = dict((s, (p, size, stored)) for s, p, size, stored in con.execute(
        "SELECT sha256, pack, size, stored FROM object_blob"))
    dropped = 0
    for sha, upload in shas.items():
        p = _keep_export(cases["default"], sha)
        # what left the network is kept, and exports byte for byte
        assert p.returncode == 0 or not upload, p.stderr
        if p.returncode == 0:
            assert _keep_hashlib.sha256(p.stdout).hexdigest() == sha
        else:
            err = p.stderr.decode()
            assert "was not kept in this case (--keep-objects=evidence)" in err, err
            assert "samples/" in err or SAMPLES in err, err  # the evidence item's path
            assert "--keep-objects=all" in err, err
            assert sha not in blobs, blobs[sha]  # object_blob names only what is kept
            dropped += 1
    assert dropped > 0
    lim = reports["default"][5]
    assert len(lim) == 1 and lim[0]["detail"].startswith("%d object(s) of " % dropped), lim
    # every object of the case kept with all: compressed entries in one .zpk pack
    con = db(cases["all"])
    packs = {r[0] for r in con.execute("SELECT DISTINCT pack FROM object_blob")}
    assert len(packs) == 1 and packs.pop().endswith(".zpk")
    assert con.execute("SELECT count(*) FROM object_blob WHERE stored < size").fetchone()[0] > 0
    assert sorted(os.listdir(os.path.join(cases["all"], "objects", "packs")))[0].endswith(".zpk")
    for sha in shas:
        p = _keep_export(cases["all"], sha)
        assert p.returncode == 0 and _keep_hashlib.sha256(p.stdout).hexdigest() == sha, sha
    # none: no object bytes left in the case
    for d, _, files in os.walk(os.path.join(cases["none"], "objects")):
        assert [f for f in files if not os.path.islink(os.path.join(d, f))] == [], (d, files)
    # verify: kept ones re-hashed, the others noted, not problems
    out = run("verify", cases["default"], check=0).stdout
    assert "NOTE        %d object(s) recorded but not kept" % dropped in out, out
    assert "VERIFICATION FAILED" not in out
    out = run("verify", cases["all"], check=0).stdout
    assert "not kept" not in out, out
    run("verify", cases["none"], check=0)
    # a kept entry that no longer decompresses to its hash fails verify
    sha, off = db(cases["all"]).execute("SELECT sha256, offset FROM object_blob WHERE stored < "
                                        "size ORDER BY sha256 LIMIT 1").fetchone()
    pack = db(cases["all"]).execute("SELECT pack FROM object_blob WHERE sha256 = ?",
                                    (sha,)).fetchone()[0]
    with open(os.path.join(cases["all"], "objects", pack), "r+b") as f:
        f.seek(off + 5)
        b = f.read(1)
        f.seek(off + 5)
        f.write(bytes([b[0] ^ 0x40]))
    out = run("verify", cases["all"], check=2).stdout
    assert "MISMATCH    object " + sha in out, out
    p = _keep_export(cases["all"], sha)
    assert p.returncode != 0
    # the policy is a setting of analyze and merge, not of a plan or a shard
    p = run("analyze", "--keep-objects=some", SAMPLES, "-o", case("keep-bad"), check=1)
    assert "--keep-objects takes all, evidence or none" in p.stderr


@test
def kept_large_objects_are_packed_when_they_compress():
    """An object past the memory budget (256 KiB) is a file until the keep stage: kept, it
    goes compressed into the kept pack when that is smaller (up to 16 MiB, as a reader
    inflates it whole) and its file goes; one that does not compress stays a file. Both
    export byte for byte and verify; a damaged packed entry fails verify."""
    import pcapw
    import random as _keep_random
    rng = _keep_random.Random(16)
    text = "".join("%06d,%s,%d\n" % (i, rng.choice(["ok", "late", "held"]), rng.randrange(10**6))
                   for i in range(60000)).encode()[:700000]
    noise = bytes(rng.randrange(256) for _ in range(600000))

    def post(body):
        return (b"POST /drop HTTP/1.1\r\nHost: files.example.net\r\nContent-Type: "
                b"application/octet-stream\r\nContent-Length: %d\r\n\r\n" % len(body)) + body

    d = case("keep-large") + "-in"
    os.makedirs(d, exist_ok=True)
    cap = os.path.join(d, "large.pcap")
    with open(cap, "wb") as f:
        f.write(pcapw.pcap([("10.1.1.20", "203.0.113.81", 40200 + i, 80, post(b),
                             b"HTTP/1.1 204 No Content\r\n\r\n") for i, b in
                            enumerate((text, noise))]))
    c = case("keep-large")
    run("analyze", "-q", "--home-net", "10.1.0.0/16", cap, "-o", c, check=0)
    con = db(c)
    st, sn = (_keep_hashlib.sha256(b).hexdigest() for b in (text, noise))
    rows = {r[0]: r[1:] for r in con.execute("SELECT sha256, pack, size, stored FROM "
                                             "object_blob")}
    assert rows[st][0].endswith(".zpk") and rows[st][1] == len(text), rows[st]
    assert 0 < rows[st][2] < len(text) // 2, rows[st]  # compressed
    assert rows[sn] == ("", len(noise), None), rows[sn]  # stays a file
    assert not os.path.exists(os.path.join(c, "objects", st[:2], st))
    assert os.path.getsize(os.path.join(c, "objects", sn[:2], sn)) == len(noise)
    for sha, body in ((st, text), (sn, noise)):
        p = _keep_export(c, sha)
        assert p.returncode == 0 and p.stdout == body, (sha, p.stderr)
    out = run("verify", c, check=0).stdout
    assert "VERIFICATION FAILED" not in out, out
    off = con.execute("SELECT offset FROM object_blob WHERE sha256 = ?", (st,)).fetchone()[0]
    with open(os.path.join(c, "objects", rows[st][0]), "r+b") as f:
        f.seek(off + 1000)
        b = f.read(1)
        f.seek(off + 1000)
        f.write(bytes([b[0] ^ 0x40]))
    out = run("verify", c, check=2).stdout
    assert "MISMATCH    object " + st in out, out
