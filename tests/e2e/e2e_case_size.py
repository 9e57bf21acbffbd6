# e2e_case_size.py - a case smaller than its evidence (issue 16 item 4): report.json and
# report.html hold the first 100 rows of each long list with its total, the whole list is the
# case's file report/<list>.jsonl.gz, sealed with the reports; protocol rows point to their
# objects by integer id. Run inside run_e2e.py's namespace (@test, run, case, db,
# report_list, report_validate, _gen_hospital of e2e_bench_hospital.py); the expected counts
# come from the database's own tables and the generator's ground truth, never from the report.


_CS_CASE = {}


def _paged_case():
    """A 3 MB hospital capture analyzed once for the tests below (the first one alters the
    case last)."""
    if "dir" not in _CS_CASE or not os.path.isdir(_CS_CASE["dir"]):
        d = case("paged")
        os.makedirs(d + "-in", exist_ok=True)
        cap = os.path.join(d + "-in", "hospital.pcap")
        _CS_CASE["truth"] = _gen_hospital(cap, mb=3, seed=11)
        run("analyze", "-q", "--keep-objects=all", cap, "-o", d, check=0)
        _CS_CASE["dir"] = d
    return _CS_CASE["dir"], _CS_CASE["truth"]


@test
def protocol_rows_point_to_their_objects_by_id():
    """hl7_message.object_id and http_txn.req_object/resp_object are object(id): each points
    to the object of its own flow, direction and stream offset, of its protocol, on the wire;
    every HL7 message object is named by exactly one row; the message's bytes start with its
    MSH segment; and `verify` reports a link that names no object."""
    import shutil
    c, truth = _paged_case()
    con = db(c)
    n = con.execute("SELECT count(*) FROM hl7_message").fetchone()[0]
    assert n > 50, n
    good = con.execute(
        "SELECT count(*) FROM hl7_message h JOIN object o ON o.id = h.object_id WHERE "
        "o.flow_id = h.flow_id AND o.stream_dir = h.direction AND o.stream_off = h.stream_off "
        "AND o.protocol = 'hl7' AND o.depth = 0 AND o.part = 0").fetchone()[0]
    assert good == n, (good, n)
    objs = con.execute("SELECT count(*) FROM object WHERE protocol = 'hl7' AND depth = 0"
                       ).fetchone()[0]
    used = con.execute("SELECT count(DISTINCT object_id) FROM hl7_message").fetchone()[0]
    assert objs == used == n, (objs, used, n)
    for side, d in (("resp", "s2c"), ("req", "c2s")):
        rows = con.execute("SELECT count(*), count(%s_object) FROM http_txn WHERE %s_body_len > 0"
                           % (side, side)).fetchone()
        good = con.execute(
            "SELECT count(*) FROM http_txn t JOIN object o ON o.id = t.{s}_object WHERE "
            "o.flow_id = t.flow_id AND o.stream_dir = '{d}' AND o.stream_off = t.{s}_body_off "
            "AND o.protocol = 'http' AND o.size = t.{s}_body_len".format(s=side, d=d)
        ).fetchone()[0]
        assert rows[0] == rows[1] == good, (side, rows, good)
    assert con.execute("SELECT count(*) FROM http_txn WHERE resp_body_len > 0").fetchone()[0] > 50
    sha = con.execute("SELECT o.sha256 FROM hl7_message h JOIN object o ON o.id = h.object_id "
                      "ORDER BY h.id LIMIT 1").fetchone()[0]
    assert objbytes(c, sha).startswith(b"MSH|"), sha
    bad = case("paged-badlink")
    shutil.copytree(c, bad)
    b = db(bad)
    b.execute("UPDATE hl7_message_row SET object_id = 1000000 WHERE id = 1")
    b.commit()
    p = run("verify", bad, check=2)
    assert "ORPHANS     1 row(s) of hl7_message point to no object (object_id)" in p.stdout, \
        p.stdout


@test
def report_long_lists_are_paged_into_sealed_files():
    """On a 3 MB hospital capture (more than 100 timeline entries, objects with PHI and rule
    matches): report.json holds each list's first 100 rows and total, every row is in its
    file (as many as the database's tables give), report.html shows 100 rows and points to
    the file, the files validate against their row schemas, `verify` checks their sealed
    SHA-256 (and fails on one changed), and `phitrace report` rebuilds them byte for byte."""
    import json
    c, truth = _paged_case()
    con = db(c)
    want = {
        "timeline": con.execute("SELECT count(*) FROM timeline_event").fetchone()[0],
        "objects_with_phi": con.execute("SELECT count(DISTINCT object_sha256) FROM phi_object "
                                        "WHERE hits > 0").fetchone()[0],
        "yara_matches": con.execute("SELECT count(*) FROM yara_match").fetchone()[0],
        "roster": con.execute("SELECT count(*) FROM individual_roster").fetchone()[0],
    }
    assert want["timeline"] > 100 and want["objects_with_phi"] > 100, want
    assert want["roster"] == truth["patients"]["outbound"], (want, truth["patients"])
    r = json.load(open(os.path.join(c, "report.json")))
    assert r["schema_version"] == 3
    for key, n in want.items():
        rows = report_list(c, key, r)  # items are the file's first 100 rows, total its count
        assert len(rows) == n, (key, len(rows), n)
    report_validate(c, r)
    # the timeline's rows in time order, as the database has them
    rows = report_list(c, "timeline", r)
    assert [x["timestamp"] for x in rows] == [t for (t,) in con.execute(
        "SELECT ts FROM timeline_event ORDER BY ts, id")]
    html = open(os.path.join(c, "report.html")).read()
    sec = html[html.index("<h2>6. Timeline</h2>"):html.index("<h2>7.")]
    assert sec.count("<tr>") == 101, sec.count("<tr>")  # the header and 100 rows
    assert ("The first 100 of %d rows" % want["timeline"]) in sec, sec[-600:]
    assert 'href="report/timeline.jsonl.gz"' in sec
    for key in ("objects_with_phi", "yara_matches", "timeline", "roster"):
        assert os.stat(os.path.join(c, "report", key + ".jsonl.gz")).st_mode & 0o777 == 0o600
    assert os.stat(os.path.join(c, "report")).st_mode & 0o777 == 0o700
    p = run("verify", c, check=0)
    for key in want:
        assert ("OK          report/%s.jsonl.gz matches its sealed SHA-256" % key) in p.stdout, \
            p.stdout
    files = {k: open(os.path.join(c, "report", k + ".jsonl.gz"), "rb").read() for k in want}
    run("report", c, "--format", "html,json,txt", check=0)
    assert files == {k: open(os.path.join(c, "report", k + ".jsonl.gz"), "rb").read()
                     for k in want}
    # one row changed: the list no longer matches the seal
    path = os.path.join(c, "report", "timeline.jsonl.gz")
    with gzip.open(path, "rt") as f:
        lines = f.readlines()
    lines[-1] = lines[-1].replace('"message":"', '"message":"x', 1)
    with gzip.open(path, "wt") as f:
        f.writelines(lines)
    p = run("verify", c, check=2)
    assert "MISMATCH    report/timeline.jsonl.gz" in p.stdout, p.stdout


@test
def case_database_indexes_are_packed():
    """The run ends with its indexes rebuilt packed and the freed pages returned: no free page
    is left, and rebuilding them again on a copy frees nothing."""
    import shutil
    import sqlite3
    c, _ = _paged_case()
    con = db(c)
    assert con.execute("PRAGMA freelist_count").fetchone()[0] == 0
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    cp = case("paged-reindex")
    os.makedirs(cp)
    shutil.copy(os.path.join(c, "evidence.db"), os.path.join(cp, "evidence.db"))
    again = sqlite3.connect(os.path.join(cp, "evidence.db"))
    again.execute("REINDEX")
    again.commit()
    again.execute("PRAGMA incremental_vacuum")
    again.commit()
    after = again.execute("PRAGMA page_count").fetchone()[0]
    assert after == pages, (pages, after)


@test
def report_findings_and_events_are_paged_and_every_cited_one_is_in_its_file():
    """On 1 MB of generated logs (tests/bench/gen_logs.py, worst mix: thousands of findings,
    hundreds of events): report.json's findings are the database's first 100 findings by id
    with their total, report/findings.jsonl.gz holds every one; the events and the verdict's
    destinations likewise (the page the strongest verdicts first); every finding an event and
    every event a destination cites by id is a line of its file; the files are sealed,
    `verify` checks them and fails on one changed."""
    import json
    import subprocess
    c = case("paged-findings")
    logs = c + "-in"
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", "gen_logs.py"), logs,
                    "1", "1", "worst"], check=True, stdout=subprocess.DEVNULL)
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *[os.path.join(logs, n) for n in (
        "conn.log", "access.log", "dnsmasq.log")], "-o", c, check=0)
    con = db(c)
    ids = [i for (i,) in con.execute("SELECT id FROM finding ORDER BY id")]
    events = {i: v for i, v in con.execute("SELECT id, verdict FROM exfil_event")}
    assert len(ids) > 1000 and len(events) > 100, (len(ids), len(events))
    r = json.load(open(os.path.join(c, "report.json")))
    assert r["findings"]["total"] == len(ids) and len(r["findings"]["items"]) == 100
    assert [f["id"] for f in r["findings"]["items"]] == ids[:100]
    rows = report_list(c, "findings", r)  # items are the file's first 100, total its lines
    assert [f["id"] for f in rows] == ids
    evs = report_list(c, "events", r)
    assert r["events"]["total"] == len(events) and len(r["events"]["items"]) == 100
    assert {e["id"]: e["verdict"] for e in evs} == events
    rank = {"confirmed": 0, "likely": 1, "possible": 2}
    assert sorted(rank[e["verdict"]] for e in evs) == [rank[e["verdict"]] for e in evs]
    cited = {i for e in evs for i in e["reasons"]["findings"]}
    assert cited and cited <= set(ids), sorted(cited - set(ids))[:5]
    dests = report_list(c, "destinations", r)
    assert r["verdict"]["destinations"]["total"] == len(dests) > 100
    assert {d["destination"] for d in dests} == {d for (d,) in con.execute(
        "SELECT subject FROM verdict WHERE scope = 'destination'")}
    assert all(d["events"] and set(d["events"]) <= set(events) for d in dests)
    report_validate(c, r)
    txt = open(os.path.join(c, "report.txt")).read()
    assert ("and %d more (%d in all; every one is in report/events.jsonl.gz)"
            % (len(events) - 100, len(events))) in txt, txt[:3000]
    assert ("Heuristic findings: %d (report.json holds the first 100; every one is in "
            "report/findings.jsonl.gz)" % len(ids)) in txt
    html = open(os.path.join(c, "report.html")).read()
    assert ("The first 100 of %d rows" % len(ids)) in html
    assert 'href="report/findings.jsonl.gz"' in html and 'href="report/events.jsonl.gz"' in html
    p = run("verify", c, check=0)
    for key in ("findings", "events", "destinations"):
        assert ("OK          report/%s.jsonl.gz matches its sealed SHA-256" % key) in p.stdout, \
            p.stdout
    path = os.path.join(c, "report", "findings.jsonl.gz")
    with gzip.open(path, "rt") as f:
        lines = f.readlines()
    with gzip.open(path, "wt") as f:
        f.writelines(lines[:-1])  # the last finding dropped
    p = run("verify", c, check=2)
    assert "MISMATCH    report/findings.jsonl.gz" in p.stdout, p.stdout
