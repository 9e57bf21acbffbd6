# e2e_bench_hospital.py - the hospital bench's generator and the detector checked against each
# other (issue 16): a tiny capture of tests/bench/gen_hospital.py (HL7/MLLP, DICOM C-STORE,
# FHIR bundles some gzip-encoded, CSV and zipped CSV, e-mail with base64 CSV, an exfiltration
# host) must give exactly the patients the generator planted, in all evidence and in what left
# home-net, and one phi_record per planted record (hits stored compactly, their per-type totals
# those of the hits). Run inside run_e2e.py's namespace (@test,
# run, case, db); the expected numbers come from the generator's ground truth, never from
# phitrace's output.


def _gen_hospital(path, mb=1.5, seed=7):
    import json
    import subprocess
    gen = os.path.join(ROOT, "tests", "bench", "gen_hospital.py")
    subprocess.run([sys.executable, gen, "--mb", str(mb), "--seed", str(seed), path,
                    path + ".truth.json"], check=True, timeout=120)
    with open(path + ".truth.json") as f:
        return json.load(f)


@test
def bench_hospital_individuals_equal_the_planted_patients():
    d = case("hospital")
    os.makedirs(d + "-in", exist_ok=True)
    cap = os.path.join(d + "-in", "hospital.pcap")
    truth = _gen_hospital(cap)
    # the generator is deterministic: the same seed gives the same bytes
    again = _gen_hospital(cap + ".2")
    with open(cap, "rb") as a, open(cap + ".2", "rb") as b:
        assert a.read() == b.read(), "gen_hospital.py is not deterministic for one seed"
    assert again == truth
    os.unlink(cap + ".2")
    assert 0 < truth["patients"]["outbound"] < truth["patients"]["all"], truth["patients"]
    run("analyze", "-q", cap, "-o", d, check=0)
    c = db(d)
    got = dict((s, (e, lo, up)) for s, e, lo, up in c.execute(
        "SELECT scope, estimate, lower, upper FROM individuals"))
    assert got["all"][0] == truth["patients"]["all"], (got, truth["patients"])
    assert got["outbound"][0] == truth["patients"]["outbound"], (got, truth["patients"])
    # names are distinct in the population, so not even the lower bound may merge two people
    assert got["all"][1] == truth["patients"]["all"], got
    assert got["outbound"][1] == truth["patients"]["outbound"], got
    records = c.execute("SELECT count(*) FROM phi_record").fetchone()[0]
    assert records == truth["records"], (records, truth["records"])
    packets = c.execute("SELECT sum(packets) FROM evidence_item").fetchone()[0]
    assert packets == truth["packets"], (packets, truth["packets"])
    flows = c.execute("SELECT count(*) FROM flow").fetchone()[0]
    assert flows == truth["tcp_connections"], (flows, truth["tcp_connections"])
    # hits are stored compactly (issue 16 item 4): each distinct identifier once, a record's
    # hits packed into its row, and the reports' per-type totals (phi_object_type) are those
    # of the hits themselves
    hits, idents = c.execute("SELECT count(*), count(DISTINCT hmac) FROM phi_hit").fetchone()
    assert hits > 10 * idents > 0, (hits, idents)
    assert c.execute("SELECT count(*) FROM phi_ident").fetchone()[0] == idents
    per_type = "SELECT type, safe_harbor, phi_class, count(*), count(DISTINCT object_sha256) " \
               "FROM phi_hit GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    summed = "SELECT t.type, t.safe_harbor, t.phi_class, sum(t.hits), count(*) FROM " \
             "phi_object_type t GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    assert c.execute(per_type).fetchall() == c.execute(summed).fetchall()
    assert c.execute("SELECT count(*) FROM phi_hit_row").fetchone()[0] == hits
    # packed: 4 to 6 bytes a hit (identifier, site, offset) where a row of integers took 19
    packed = c.execute("SELECT sum(length(hits)) FROM phi_record_row").fetchone()[0]
    assert packed < 6.5 * hits, (packed, hits)
    # the records with their hits: 10 bytes a hit here, where the records, the rows of hits
    # and their index took 23; with the identifiers and sites and every index 26, where 39
    pages = "SELECT sum(pgsize) FROM dbstat WHERE name = 'phi_record_row'"
    size = c.execute(pages).fetchone()[0]
    assert size < 14 * hits, (size, hits)
    size = c.execute(pages + " OR name IN ('phi_ident', 'phi_site', 'phi_record_kind') OR name "
                     "LIKE 'sqlite_autoindex_phi_ident%' OR name LIKE 'sqlite_autoindex_phi_site%'"
                     " OR name LIKE 'sqlite_autoindex_phi_record_kind%'").fetchone()[0]
    assert size < 32 * hits, (size, hits)


@test
def bench_tls_heavy_capture_is_mostly_tls_with_the_same_patients():
    # the TLS-heavy bench (`make bench`, gen_hospital.py --tls): most bytes are TLS sessions
    # phitrace can only name (ClientHello SNI, versions), the hospital's cleartext the rest;
    # every session is one tls_session row and the planted patients are still found exactly
    d = case("hospital-tls")
    os.makedirs(d + "-in", exist_ok=True)
    cap = os.path.join(d + "-in", "tls.pcap")
    import json
    import subprocess
    gen = os.path.join(ROOT, "tests", "bench", "gen_hospital.py")
    subprocess.run([sys.executable, gen, "--mb", "6", "--seed", "7", "--tls", "0.8", cap],
                   check=True, timeout=120)
    with open(cap + ".truth.json") as f:
        truth = json.load(f)
    sessions = truth["objects_by_kind"]["tls session"]
    assert sessions >= 2, truth["objects_by_kind"]
    assert truth["bytes_by_session"]["tls"] > 0.7 * truth["bytes"], truth["bytes_by_session"]
    run("analyze", "-q", cap, "-o", d, check=0)
    c = db(d)
    n, named = c.execute("SELECT count(*), sum(sni = 'ehr.genhosp.org' OR sni LIKE "
                         "'svc%.example-cloud.net') FROM tls_session").fetchone()
    assert (n, named) == (sessions, sessions), (n, named, sessions)
    got = dict(c.execute("SELECT scope, estimate FROM individuals"))
    assert got["all"] == truth["patients"]["all"], (got, truth["patients"])
    assert got["outbound"] == truth["patients"]["outbound"], (got, truth["patients"])
    packets = c.execute("SELECT sum(packets) FROM evidence_item").fetchone()[0]
    assert packets == truth["packets"], (packets, truth["packets"])
    flows = c.execute("SELECT count(*) FROM flow").fetchone()[0]
    assert flows == truth["tcp_connections"], (flows, truth["tcp_connections"])
