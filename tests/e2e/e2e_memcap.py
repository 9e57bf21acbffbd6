# e2e_memcap.py - issue 17: the memory cap over per-flow decoder state. Loaded by run_e2e.py
# into its namespace (@test, run, case, db, BIN, ENV, TMP).
import halfopen


# Memory is measured with the release build when there is one: AddressSanitizer keeps freed
# memory in quarantine, so a sanitized run's peak RSS does not show what eviction released.
REL_BIN = os.path.join(ROOT, "phitrace")
RSS_BIN = REL_BIN if os.path.exists(REL_BIN) else BIN


def _peak_rss_kb(args, binary=None):
    """Run phitrace with `args`; return (exit code, peak RSS of that child in KiB). The child
    is started by /usr/bin/time, a small process: a child forked by this runner would inherit
    the runner's own peak RSS (Linux keeps the high-water mark over fork and exec), and late
    in the suite the runner is larger than the capped run."""
    out = os.path.join(TMP, "memcap-rss.txt")
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out, binary or RSS_BIN] + list(args),
                       capture_output=True, env=ENV, timeout=900)
    err = p.stderr.decode("utf-8", "replace")
    for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        assert marker not in err, err[-3000:]
    with open(out) as fh:
        return p.returncode, int(fh.read().split()[-1])


@test
def memcap_evicts_half_open_flows_in_bursts_with_a_limitation():
    """8000 half-open DICOM, TLS and SMB2 flows and 8000 streams held by protocol detection
    (32000 flows) under --memcap 8M: peak RSS stays far below the uncapped run's, the oldest
    flows are ended early ('evicted') in bursts with one limit.memcap anomaly each (counts in
    the detail), a memcap_evictions limitation says data may be missing (also in report.txt),
    the payload of every evicted flow is accounted for in the anomalies, and the bytes the
    detector held for evicted flows are stored as raw objects."""
    d = os.path.join(TMP, "memcap")
    os.makedirs(d, exist_ok=True)
    pcap = os.path.join(d, "halfopen.pcap")
    n = 8000
    halfopen.write(pcap, n, ("dicom", "tls", "smb", "held"))
    big = case("memcap-uncapped")
    rc, rss_uncapped = _peak_rss_kb(["analyze", "-q", "--no-phi", "-j2", "--memcap", "4G", pcap,
                                     "-o", big])
    assert rc == 0
    assert db(big).execute("SELECT count(*) FROM anomaly WHERE kind = 'limit.memcap'"
                           ).fetchone()[0] == 0
    c = case("memcap-8m")
    rc, rss = _peak_rss_kb(["analyze", "-q", "--no-phi", "-j2", "--memcap", "8M", pcap, "-o", c])
    assert rc == 0
    # the state alone was ~150 MB uncapped; capped, the process stays near its baseline
    assert rss < rss_uncapped * 0.6, (rss, rss_uncapped)
    if "san" not in RSS_BIN:
        assert rss < 120 * 1024, rss
    if RSS_BIN != BIN:  # the accounting below is checked on the tested (sanitized) build
        c = case("memcap-8m-tested")
        run("analyze", "-q", "--no-phi", "-j2", "--memcap", "8M", pcap, "-o", c, check=0)
    con = db(c)
    assert con.execute("SELECT count(*) FROM flow").fetchone()[0] == 4 * n
    evicted = con.execute("SELECT count(*), sum(c_captured_bytes), sum(c_pkts) FROM flow "
                          "WHERE end_reason = 'evicted'").fetchone()
    assert evicted[0] > 2 * n, evicted
    details = [r[0] for r in con.execute("SELECT detail FROM anomaly WHERE kind = 'limit.memcap'")]
    assert 1 <= len(details) < evicted[0] / 20, (len(details), evicted)  # bursts, not per flow
    counts = [re.search(r"(\d+) flow\(s\) ended early.* \((\d+) packets, (\d+) payload bytes",
                        x).groups() for x in details]
    assert sum(int(f) for f, _, _ in counts) == evicted[0]
    assert sum(int(p) for _, p, _ in counts) == evicted[2]
    assert sum(int(b) for _, _, b in counts) == evicted[1]  # no byte vanished unaccounted
    assert all("memory cap of 8 MiB" in x for x in details)
    lim = con.execute("SELECT detail, value FROM limitation WHERE kind = 'memcap_evictions'"
                      ).fetchone()
    assert lim is not None and lim[1] == len(details), lim
    assert lim[0].startswith("%d flow(s) were ended early" % evicted[0]), lim
    assert "data may be missing" in lim[0]
    txt = open(os.path.join(c, "report.txt"), encoding="utf-8").read()
    assert "memcap_evictions" in txt and "data may be missing" in txt
    # what detection held for an evicted flow was stored raw, as at the end of a flow
    held = con.execute("SELECT count(*) FROM object o JOIN flow f ON f.id = o.flow_id WHERE "
                       "f.end_reason = 'evicted' AND f.server_port = 7777 AND o.protocol = 'tcp' "
                       "AND o.size = ?", (len(halfopen.HELD),)).fetchone()[0]
    assert held > 0, held
    raw_all = con.execute("SELECT count(*) FROM object WHERE protocol = 'tcp'").fetchone()[0]
    assert raw_all == n, raw_all  # every held stream, evicted or not
    # the uncapped run decoded the same flows: nothing evicted there
    assert db(big).execute("SELECT count(*) FROM flow WHERE end_reason = 'evicted'"
                           ).fetchone()[0] == 0


@test
def memcap_option_is_checked():
    """--memcap takes bytes or K/M/G, at least 1M; anything else is a usage error."""
    for bad in ("0", "512", "1K", "12Q", "-5M", "M", ""):
        p = run("analyze", "--memcap", bad, "x.pcap", "-o", case("memcap-bad"), check=1)
        assert "--memcap" in p.stderr, (bad, p.stderr)
    assert "--memcap SIZE" in run("--help", check=0).stdout
