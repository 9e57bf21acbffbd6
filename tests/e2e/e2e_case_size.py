# e2e_case_size.py - a case smaller than its evidence (issue 16 item 4): report.json and
# report.html hold the first 100 rows of each long list with its total, the whole list is the
# case's file report/<list>.jsonl.gz, sealed with the reports; protocol rows point to their
# objects by integer id. Run inside run_e2e.py's namespace (@test, run, case, db,
# report_list, report_validate, _gen_hospital of e2e_bench_hospital.py); the expected counts
# come from the database's own tables and the generator's ground truth, never from the report.


def _paged_case():
    d = case("paged")
    os.makedirs(d + "-in", exist_ok=True)
    cap = os.path.join(d + "-in", "hospital.pcap")
    truth = _gen_hospital(cap, mb=3, seed=11)
    run("analyze", "-q", cap, "-o", d, check=0)
    return d, truth


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
