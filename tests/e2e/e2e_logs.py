# e2e_logs.py - issue 14: logs read as records. Loaded by run_e2e.py (shared namespace: private
# helpers start with _logs_). The expected figures are computed here from the files themselves
# (as zeek-cut and a plain line count would), not taken from phitrace.
import json as _logs_json
import time

_LOGS_CORPUS = [
    "rita/test_data/proxy/conn.log", "rita/test_data/proxy/dns.log",
    "rita/test_data/proxy/http.log", "rita/test_data/proxy/ssl.log",
    "rita/test_data/proxy/files.log", "rita/test_data/proxy/weird.log",
    "rita/test_data/json_with_all_fields/conn.log", "rita/test_data/json_with_all_fields/dns.log",
    "rita/test_data/json_with_all_fields/http.log",
    "rita/test_data/json_with_all_fields/open_conn.log",
    "rita/test_data/truncated/conn.log", "rita/test_data/truncated/conn_json.log",
    "elastic-beats/x-pack/filebeat/module/suricata/eve/test/eve-small.log",
    "elastic-examples/Common Data Formats/apache_logs/apache_logs",
    "plaso/test_data/apache_access.log",
    "elastic-beats/filebeat/module/nginx/access/test/test.log",
    "plaso/test_data/iis/iis6.log", "plaso/test_data/iis/iis10.log",
    "plaso/test_data/aws_elb_access.log", "plaso/test_data/vsftpd.log",
    "plaso/test_data/windows_firewall.log",
    "elastic-beats/x-pack/filebeat/module/iptables/log/test/iptables.log",
    "elastic-beats/x-pack/filebeat/module/iptables/log/test/icmp.log",
    "plaso/test_data/syslog/syslog", "loghub/Linux/Linux_2k.log",
    "rita/test_data/proxy_rolling/conn.16:00:00-17:00:00.log.gz",
    "rita/test_data/proxy_rolling/dns.16:00:00-17:00:00.log.gz",
    "rita/test_data/proxy_rolling/http.15:00:00-16:00:00.log.gz",
]


def _logs_lines(data):
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _logs_zeek_tsv(data):
    """zeek-cut: rows of a TSV log as dicts (fields from #fields), only rows with as many
    fields as the header."""
    fields, rows = None, []
    for line in data.decode("utf-8", "replace").split("\n"):
        if line.startswith("#fields\t"):
            fields = line.split("\t")[1:]
        elif line and not line.startswith("#") and fields:
            v = line.split("\t")
            if len(v) == len(fields):
                rows.append(dict(zip(fields, v)))
    return rows


def _logs_valid_port(v):
    return v in ("-", None) or (str(v).isdigit() and int(v) <= 65535)


def _logs_sum(rows, key):
    return sum(int(r[key]) for r in rows if str(r.get(key, "-")) not in ("-", "", "None"))


@test
def logs_corpus_every_line_accounted_and_zeek_sums_match():
    """Zeek TSV (RITA's proxy logs, a truncated log), Zeek JSON, Suricata EVE and three web
    access logs from the corpus: every line of every file is accounted for (records + other +
    headers + blank + malformed = the file's lines, a plain count), and the stored rows equal
    what zeek-cut / json / a line count give: conn row counts and the sums of orig_bytes,
    resp_bytes, orig_ip_bytes and resp_ip_bytes per file, DNS and HTTP row counts, the web
    logs' response bytes."""
    paths = [corpus(p) for p in _LOGS_CORPUS]
    c = case("logs-corpus")
    run("analyze", "-q", "--no-phi", *paths, "-o", c, check=0)
    con = db(c)
    src = {r[0]: r[1:] for r in con.execute(
        "SELECT path, item_id, format, lines, records, other, headers, blank, malformed, conn, "
        "dns, http FROM log_source")}
    assert len(src) == len(paths), sorted(src)
    assert {src[p][1] for p in paths if p.endswith(".gz")} == {"zeek"}, src
    for p in paths:
        with (gzip.open(p, "rb") if p.endswith(".gz") else open(p, "rb")) as fh:
            data = fh.read()
        item, fmt, lines, records, other, headers, blank, bad, nconn, ndns, nhttp = src[p]
        assert lines == _logs_lines(data), (p, lines, _logs_lines(data))
        assert lines == records + other + headers + blank + bad, (p, src[p])
        conn = con.execute("SELECT count(*), sum(c_bytes), sum(s_bytes), sum(c_ip_bytes), "
                           "sum(s_ip_bytes) FROM log_conn WHERE item_id = ?", (item,)).fetchone()
        conn = tuple(0 if v is None else v for v in conn)
        if fmt == "zeek":
            rows = [r for r in _logs_zeek_tsv(data)
                    if _logs_valid_port(r.get("id.orig_p", "0"))]
            kind = os.path.basename(p).split(".")[0]
            if kind == "conn":
                want = (len(rows), _logs_sum(rows, "orig_bytes"), _logs_sum(rows, "resp_bytes"),
                        _logs_sum(rows, "orig_ip_bytes"), _logs_sum(rows, "resp_ip_bytes"))
                assert conn == want, (p, conn, want)
            elif kind == "dns":
                assert ndns == len(rows), (p, ndns, len(rows))
            elif kind == "http":
                assert nhttp == len(rows), (p, nhttp, len(rows))
            else:
                assert other == len(rows) and records == 0, (p, src[p])
        elif fmt == "zeek-json":
            rows = []
            for line in data.split(b"\n"):
                try:
                    rows.append(_logs_json.loads(line))
                except ValueError:
                    pass
            rows = [r for r in rows if _logs_valid_port(r.get("id.orig_p", 0))]
            if "conn" in p:
                want = (len(rows), _logs_sum(rows, "orig_bytes"), _logs_sum(rows, "resp_bytes"),
                        _logs_sum(rows, "orig_ip_bytes"), _logs_sum(rows, "resp_ip_bytes"))
                assert conn == want, (p, conn, want)
            elif "dns" in p:
                assert ndns == len(rows), (p, ndns, len(rows))
            else:
                assert nhttp == len(rows), (p, nhttp, len(rows))
        elif fmt == "suricata-eve":
            ev = [_logs_json.loads(l)["event_type"] for l in data.split(b"\n") if l.strip()]
            assert (nconn, ndns, nhttp) == (ev.count("flow") + ev.count("netflow"),
                                            ev.count("dns"), ev.count("http")), (p, ev)
            assert other == len(ev) - records and bad == 0, (p, src[p])
        elif fmt == "w3c":
            recs = [l for l in data.decode("utf-8", "replace").split("\n")
                    if l.strip() and not l.startswith("#")]
            assert records == len(recs) and bad == 0, (p, src[p], len(recs))
            if "firewall" in p:
                hdr = [l for l in data.decode().split("\n") if l.startswith("#Fields:")][0]
                col = hdr[8:].split().index("size")
                want = sum(int(l.split()[col]) for l in recs if l.split()[col] != "-")
                assert (nconn, conn[3]) == (len(recs), want), (p, conn, want)
            else:
                assert nhttp == len(recs), (p, src[p])
        elif fmt == "syslog":
            text = data.decode("utf-8", "replace").split("\n")
            nf = [l for l in text if " SRC=" in l and " DST=" in l]
            want = sum(int(re.search(r" LEN=(\d+)", l).group(1)) for l in nf)
            assert (records, nconn, conn[3], bad) == (len(nf), len(nf), want, 0), (p, src[p], conn)
            assert other == lines - blank - len(nf), (p, src[p])
        elif fmt == "elb":
            # AWS's documented layouts: an HTTP request has a three-digit status after the
            # processing times; "- -" statuses (Classic TCP) and NLB "tls" lines are
            # connections with received and sent bytes
            want_http, want_rx = 0, 0
            want_conn, want_cb = 0, 0
            for line in data.decode().split("\n"):
                w = line.split(" ")
                if not line.strip():
                    continue
                if w[0] == "tls":
                    want_conn += 1
                    want_cb += int(w[9])
                    continue
                b = 1 if not w[0][0].isdigit() else 0
                if w[b + 7] == "-":
                    want_conn += 1
                    want_cb += max(int(w[b + 9]), 0) if w[b + 9] != "-" else 0
                else:
                    want_http += 1
                    want_rx += int(w[b + 9])
            assert (nhttp, nconn, bad) == (want_http, want_conn, 0), (p, src[p])
            assert conn[1] == want_cb, (p, conn, want_cb)
            got = con.execute("SELECT sum(req_bytes) FROM log_http WHERE item_id = ?",
                              (item,)).fetchone()[0]
            assert got == want_rx, (p, got, want_rx)
        elif fmt == "vsftpd":
            text = [l for l in data.decode().split("\n") if l.strip()]
            xf = [l for l in text if re.search(r"\] (OK|FAIL) (UPLOAD|DOWNLOAD|DELETE): ", l)]
            want = sum(int(m.group(1)) for m in (re.search(r", (\d+) bytes,", l) for l in xf) if m)
            got = con.execute("SELECT count(*), coalesce(sum(bytes), 0), sum(direction = 'upload') "
                              "FROM log_xfer WHERE item_id = ?", (item,)).fetchone()
            assert (records, other, bad) == (len(xf), len(text) - len(xf), 0), (p, src[p])
            assert got == (len(xf), want, sum(" UPLOAD: " in l for l in xf)), (p, got, want)
        else:
            assert fmt == "web-access" and bad == 0 and nhttp == lines - blank, (p, src[p])
            # the response size is the field after the status: the last "NNN size" pair after
            # the request's closing quote
            want = 0
            for line in data.decode("utf-8", "replace").split("\n"):
                m = re.search(r'" (\d{3}) (\d+|-)( |$)', line)
                if m and m.group(2) != "-":
                    want += int(m.group(2))
            got = con.execute("SELECT coalesce(sum(resp_bytes), 0) FROM log_http WHERE item_id = ?",
                              (item,)).fetchone()[0]
            assert got == want, (p, got, want)
    # RITA's truncated logs: the cut lines are malformed, with an anomaly each naming the line
    trunc = [src[p] for p in paths if "/truncated/" in p]
    assert [t[7] for t in trunc] == [1, 2], trunc
    det = [r[0] for r in con.execute("SELECT detail FROM anomaly WHERE kind = "
                                     "'log.malformed_line' ORDER BY item_id, offset")]
    assert len(det) == 3 and det[0].startswith("zeek line 67 (byte 7775): its number of fields "
                                               "differs from the #fields header"), det


@test
def logs_zeek_conn_log_is_no_phi():
    """A Zeek conn log read for PHI at rest: its "#types time string addr port addr port" line is
    not a table header naming address columns (Zeek names columns in "#fields": ts, uid,
    id.orig_h ..., none of a patient), so its addresses and ports are no PHI hits."""
    head = (b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
            b"#path\tconn\n#open\t2024-01-03-00-00-00\n"
            b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
            b"duration\torig_bytes\tresp_bytes\tconn_state\n"
            b"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\t"
            b"count\tstring\n")
    rows = b"".join(b"%d.000001\tC%05d\t10.2.%d.%d\t%d\t198.51.%d.%d\t%d\ttcp\t-\t0.5\t%d\t%d\tSF\n"
                    % (1704240000 + i, i, i % 7, i % 250 + 1, 40000 + i, i % 9, i % 200 + 1,
                       443 + i % 3, 300 + i, 900 + i) for i in range(300))
    paths = _logs_dir("logs-zeek-nophi", {"conn.log": head + rows})
    c = case("logs-zeek-nophi-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    n = con.execute("SELECT count(*) FROM log_conn").fetchone()[0]
    assert n == 300, n
    hits = con.execute("SELECT detector, field, type, count(*) FROM phi_hit GROUP BY 1, 2, 3"
                       ).fetchall()
    assert hits == [], hits


@test
def logs_rows_point_to_their_line():
    """Every log row's provenance (item, line, byte offset) leads back to its line in the
    evidence: the bytes at the offset are that line, and its fields are the row's."""
    zeek = (b"#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\t"
            b"id.resp_p\tproto\torig_bytes\tresp_bytes\n"
            b"1700000000.250000\tCa\t10.2.0.5\t5000\t203.0.113.9\t443\ttcp\t52428800\t1200\n"
            b"1700000100.0\tCb\t10.2.0.5\t5001\t203.0.113.9\t443\ttcp\t-\t-\n"
            b"this is not a zeek line\n"
            b"1700000200.0\tCc\t10.2.0.6\t5002\t2001:db8::9\t22\ttcp\t7\t9\n")
    web = (b'10.2.0.7 - alice [05/Jan/2024:10:00:00 +0000] "GET /chart?mrn=100200300 HTTP/1.1" '
           b'200 5120 "-" "Mozilla/5.0"\n')
    d = os.path.join(TMP, "logs-prov")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in (("conn.log", zeek), ("access.log", web)):
        with open(os.path.join(d, name), "wb") as fh:
            fh.write(data)
    c = case("logs-prov-case")
    run("analyze", "-q", d, "-o", c, check=0)
    con = db(c)
    rows = con.execute("SELECT e.path, l.line, l.offset, l.ts, l.uid, l.client_addr, "
                       "l.server_addr, l.server_port, l.c_bytes, l.s_bytes FROM log_conn l JOIN "
                       "evidence_item e ON e.id = l.item_id ORDER BY l.line").fetchall()
    assert [(r[1], r[4], r[5], r[6], r[7], r[8], r[9]) for r in rows] == [
        (4, "Ca", "10.2.0.5", "203.0.113.9", 443, 52428800, 1200),
        (5, "Cb", "10.2.0.5", "203.0.113.9", 443, None, None),
        (7, "Cc", "10.2.0.6", "2001:db8::9", 22, 7, 9)], rows
    assert rows[0][3] == 1700000000250000, rows[0]
    for path, line, off, _, uid, *_ in rows:
        with open(path, "rb") as fh:
            fh.seek(off)
            text = fh.readline()
        assert text == zeek.split(b"\n")[line - 1] + b"\n" and uid.encode() in text, (line, text)
    bad = con.execute("SELECT offset, detail FROM anomaly WHERE kind = 'log.malformed_line'"
                      ).fetchall()
    assert bad == [(zeek.index(b"this is"), "zeek line 6 (byte %d): its number of fields differs "
                    "from the #fields header (truncated or cut)" % zeek.index(b"this is"))], bad
    h = con.execute("SELECT client_addr, username, method, uri, status, resp_bytes, ts, source "
                    "FROM log_http").fetchall()
    assert h == [("10.2.0.7", "alice", "GET", "/chart?mrn=100200300", 200, 5120,
                  1704448800000000, "web-access")], h
    cov = {os.path.basename(r[0]): r[1:] for r in con.execute(
        "SELECT e.path, c.examined, c.reason FROM coverage c JOIN evidence_item e ON e.id = "
        "c.item_id")}
    assert cov["conn.log"] == (1, "log: 3 connection(s) weighed as flows (0 also seen in a "
                               "capture or an earlier log); the content of its connections was "
                               "not seen; its text was read for PHI"), cov
    assert cov["access.log"] == (1, "log: its 1 HTTP requests weighed for PHI access (phi_access); "
                                 "its text was read for PHI"), cov


@test
def logs_gzip_rotated_are_read_and_damage_is_said():
    """A rotated log (conn.log.gz, two gzip members back to back, as logrotate's copies
    concatenated) is read as the log it inflates to; a gzip log damaged in the middle keeps the
    rows before the damage, its garbage lines are malformed, a log.gzip_damaged anomaly says
    the rest was not read, and the run goes on."""
    rows = b"".join(b"17000%05d.0\tC%d\t10.2.0.5\t%d\t203.0.113.9\t443\ttcp\t%d\t10\n"
                    % (i, i, 40000 + i, 1000 + i) for i in range(400))
    head = (b"#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\t"
            b"id.resp_h\tid.resp_p\tproto\torig_bytes\tresp_bytes\n")
    text = head + rows
    two = gzip.compress(text[:len(text) // 2]) + gzip.compress(text[len(text) // 2:])
    import random
    rnd = random.Random(7)
    big = head + b"".join(b"17000%05d.0\tC%d\t10.2.0.5\t%d\t203.0.113.9\t443\ttcp\t%d\t%d\n"
                          % (i, rnd.randrange(10**9), 40000 + i % 20000, rnd.randrange(10**6),
                             rnd.randrange(10**6)) for i in range(20000))
    bad = bytearray(gzip.compress(big))
    for k in range(len(bad) // 2, len(bad) // 2 + 64):
        bad[k] ^= 0x5a
    d = os.path.join(TMP, "logs-gz")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in (("conn.log.gz", two), ("conn.2.log.gz", bytes(bad))):
        with open(os.path.join(d, name), "wb") as fh:
            fh.write(data)
    c = case("logs-gz-case")
    run("analyze", "-q", "--no-phi", d, "-o", c, check=0)
    con = db(c)
    got = {os.path.basename(r[0]): r[1:] for r in con.execute(
        "SELECT path, format, lines, records, headers FROM log_source")}
    assert got["conn.log.gz"] == ("zeek", 403, 400, 3), got
    n, s = con.execute("SELECT count(*), sum(c_bytes) FROM log_conn l JOIN evidence_item e ON "
                       "e.id = l.item_id WHERE e.path LIKE '%/conn.log.gz'").fetchone()
    assert (n, s) == (400, sum(1000 + i for i in range(400))), (n, s)
    # deflate decodes damaged data into garbage until its checksum fails at the member's end:
    # those lines are malformed, the rows before the damage are kept
    fmt, lines, records, headers = got["conn.2.log.gz"]
    assert fmt == "zeek" and 5000 < records < 20000, got
    det = [r[0] for r in con.execute("SELECT detail FROM anomaly WHERE kind = 'log.gzip_damaged'")]
    assert det == ["the gzip stream of this log is damaged: its lines after that point were not "
                   "read"], det


def _logs_dir(name, files):
    d = os.path.join(TMP, name + "-in")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    out = []
    for fname, data in files.items():
        p = os.path.join(d, fname)
        with open(p, "wb") as fh:
            fh.write(data)
        os.utime(p, (1704240000, 1704240000))
        out.append(p)
    return out


@test
def logs_connections_join_captured_flows_after_the_clock_offset():
    """A Zeek conn.log whose clock runs 3600.5 s ahead of the capture's: its five connections
    that the capture also holds are the captured flows (flow_source 'matched', the offset
    measured and applied), its sixth is a flow of its own with Zeek's byte counts, a Suricata
    EVE flow of that sixth connection joins it instead of doubling it, and a dropped firewall
    packet is no flow. The coverage sentence and the verdict statement count the logs'
    connections."""
    import pcapw
    t0 = 1700000000.0
    conns = [("10.2.0.5", "203.0.113.9", 40000 + i, 443, b"\x16\x03\x01" + bytes(200),
              b"\x16\x03\x03" + bytes(300)) for i in range(5)]
    cap = pcapw.pcap(conns)
    flows = []
    for i in range(5):
        flows.append((40000 + i, None))
    zeek = [b"#separator \\x09", b"#path\tconn",
            b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
            b"duration\torig_bytes\tresp_bytes"]
    c = case("logs-join-cap")
    # the captured flows' start times, from a first run over the capture alone
    paths = _logs_dir("logs-join", {"lan.pcap": cap})
    run("analyze", "-q", "--no-phi", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    starts = dict(db(c).execute("SELECT client_port, first_ts FROM flow"))
    assert sorted(starts) == [40000 + i for i in range(5)], starts
    skew = 3600500000
    for i in range(5):
        ts = starts[40000 + i] + skew
        zeek.append(b"%d.%06d\tC%d\t10.2.0.5\t%d\t203.0.113.9\t443\ttcp\tssl\t0.2\t203\t303"
                    % (ts // 1000000, ts % 1000000, i, 40000 + i))
    extra = t0 + 7200
    zeek.append(b"%.6f\tCx\t10.2.0.5\t41000\t198.51.100.20\t443\ttcp\tssl\t120.0\t52428800\t"
                b"20480" % (extra + 3600.5))
    eve = (b'{"timestamp":"2023-11-14T22:13:20.000000+0000","event_type":"flow","src_ip":"10.2.0.5",'
           b'"src_port":41000,"dest_ip":"198.51.100.20","dest_port":443,"proto":"TCP",'
           b'"flow":{"pkts_toserver":36000,"pkts_toclient":9000,"bytes_toserver":54000000,'
           b'"bytes_toclient":600000,"start":"%s","end":"%s"}}\n'
           % (time.strftime("%Y-%m-%dT%H:%M:%S.000000+0000", time.gmtime(extra)).encode(),
              time.strftime("%Y-%m-%dT%H:%M:%S.000000+0000", time.gmtime(extra + 120)).encode()))
    fw = b"Nov 15 00:13:20 fw01 kernel: DROP_IN: IN=eth0 OUT= SRC=198.51.100.66 DST=10.2.0.5 " \
         b"LEN=60 PROTO=TCP SPT=5555 DPT=22\n"
    paths = _logs_dir("logs-join", {"lan.pcap": cap, "conn.log": b"\n".join(zeek) + b"\n",
                                    "eve.json": eve, "fw.log": fw})
    c = case("logs-join-case")
    run("analyze", "-q", "--no-phi", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    src = {os.path.basename(r[0]): r[1:] for r in con.execute(
        "SELECT path, skew_us, skew_agree, flows_matched, flows_created FROM log_source")}
    assert src["conn.log"] == (skew, 5, 5, 1), src
    # its one connection is the Zeek log's sixth (one match: too few to measure an offset)
    assert src["eve.json"] == (0, 0, 1, 0), src
    assert src["fw.log"] == (0, 0, 0, 0), src
    roles = con.execute("SELECT s.role, f.source, count(*) FROM flow_source s LEFT JOIN flow f ON "
                        "f.id = s.flow_id GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
    assert roles == [("blocked", None, 1), ("created", "zeek:conn", 1),
                     ("matched", "capture", 5), ("matched", "zeek:conn", 1)], roles
    f = con.execute("SELECT class, first_ts, last_ts, c_payload_bytes, s_payload_bytes, app, "
                    "end_reason FROM flow WHERE source = 'zeek:conn'").fetchone()
    assert f == ("outbound", int(extra * 1000000), int(extra * 1000000) + 120000000, 52428800,
                 20480, "tls", "log"), f
    kinds = con.execute("SELECT source, bytes_kind, c_bytes FROM flow_source WHERE role != "
                        "'blocked' AND source != 'zeek:conn' ").fetchall()
    assert kinds == [("eve:flow", "frame", 54000000)], kinds
    sentence = con.execute("SELECT sentence FROM coverage_summary").fetchone()[0]
    assert sentence == ("1 packet capture decoded, covering %s to %s; 7 connection(s) from 3 logs "
                        "weighed with them (their content not seen)" % (
                            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(min(starts.values())
                                                                            // 1000000)),
                            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(max(starts.values())
                                                                            // 1000000)))), \
        sentence
    reason = con.execute("SELECT c.reason FROM coverage c JOIN evidence_item e ON e.id = c.item_id "
                         "WHERE e.path LIKE '%/fw.log'").fetchone()[0]
    assert reason == ("log: 0 connection(s) weighed as flows (0 also seen in a capture or an "
                      "earlier log; 1 blocked by the firewall, not flows); the content of its "
                      "connections was not seen; its text was read for PHI"), reason
    # 50 MiB to an address no capture saw: a volume finding that rests on the log
    ev = con.execute("SELECT verdict, bytes_out FROM exfil_event WHERE destination = "
                     "'198.51.100.20'").fetchone()
    assert ev is not None and ev[1] == 52428800 and ev[0] in ("possible", "likely"), ev
    # each finding names the sources it rests on, each event its strongest
    srcs = con.execute("SELECT json_extract(reasons, '$.sources'), json_extract(reasons, "
                       "'$.strongest_source') FROM exfil_event WHERE destination = "
                       "'198.51.100.20'").fetchone()
    assert srcs == ('["eve:flow","zeek:conn"]', "eve:flow"), srcs


@test
def logs_alone_netflow_upload_and_phi_staged_in_a_capture_is_likely():
    """The hospital's NetFlow export (nfdump CSV) is the only record of a 60 MB upload from
    10.2.0.2 to 203.0.113.50; a capture of the LAN shows the same host reading a patient
    export from the EHR. Staged PHI plus a large upload whose content was never seen is
    'likely' for that host, as a captured encrypted upload would be; another host's upload of
    the same size is only 'possible'."""
    import pcapw
    csv = _roster(50)
    get = b"GET /export.csv HTTP/1.1\r\nHost: ehr.local\r\n\r\n"
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n"
            % len(csv) + csv)
    cap = pcapw.pcap([("10.2.0.2", "10.2.0.9", 41000, 80, get, resp)])
    nf = (b"ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out\n"
          b"2023-11-14 22:20:00,2023-11-14 22:22:00,120.000,10.2.0.2,203.0.113.50,51000,443,TCP,"
          b".AP.SF,0,0,42000,62914560,0,0,1,2\n"
          b"2023-11-14 22:25:00,2023-11-14 22:27:00,120.000,10.2.0.3,203.0.113.51,51001,443,TCP,"
          b".AP.SF,0,0,42000,62914560,0,0,1,2\n")
    paths = _logs_dir("logs-staged", {"lan.pcap": cap, "flows.csv": nf})
    c = case("logs-staged-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    got = dict(((r[0], r[1]), r[2:]) for r in con.execute(
        "SELECT source, destination, verdict, bytes_out FROM exfil_event"))
    assert got[("10.2.0.2", "203.0.113.50")] == ("likely", 62914560), got
    assert got[("10.2.0.3", "203.0.113.51")] == ("possible", 62914560), got
    assert con.execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchone()[0] == \
        "likely"


@test
def logs_only_flow_with_a_service_name_is_unread():
    """A connection only a log saw is unread whatever application the log names for it: its
    content was never in the evidence. Zeek says `http` for a 60 MB upload from 10.2.0.2 that
    no capture holds; with the same staged PHI as above it is 'likely' and an encrypted
    channel row, as it would be without the service name (the crossing_flow view once
    counted only TLS, SSH and nameless TCP as unread, which left such flows out)."""
    import pcapw
    csv = _roster(50)
    get = b"GET /export.csv HTTP/1.1\r\nHost: ehr.local\r\n\r\n"
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n"
            % len(csv) + csv)
    cap = pcapw.pcap([("10.2.0.2", "10.2.0.9", 41000, 80, get, resp)])
    conn = ("#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\t"
            "id.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\t"
            "conn_state\n"
            "1700000400.000000\tC1\t10.2.0.2\t51000\t203.0.113.50\t80\ttcp\thttp\t120.0\t"
            "62914560\t2048\tSF\n").encode()
    paths = _logs_dir("logs-service-unread", {"lan.pcap": cap, "conn.log": conn})
    c = case("logs-service-unread-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    f = con.execute("SELECT app, source FROM flow WHERE server_addr = '203.0.113.50'").fetchall()
    assert f == [("http", "zeek:conn")], f
    ev = con.execute("SELECT verdict, bytes_out FROM exfil_event WHERE destination = "
                     "'203.0.113.50'").fetchone()
    assert ev == ("likely", 62914560), ev
    ch = con.execute("SELECT protocol, bytes_out FROM encrypted_channel WHERE destination = "
                     "'203.0.113.50'").fetchall()
    assert ch == [("http", 62914560)], ch


@test
def logs_dns_tunnel_found_in_a_resolver_log():
    """The hospital resolver's dnsmasq log is the only evidence: 10.2.0.5 queried 57 TXT names
    carrying a base32-encoded patient list under x.exfil-example.net, 10.2.0.6 looked up one
    ordinary name 30 times. The DNS tunnel heuristic reads the log's queries as it reads
    captured ones: one dns_tunnel finding for 10.2.0.5 and that domain, none for 10.2.0.6;
    the coverage sentence counts the queries."""
    import base64
    data = ("mrn,last,first,dob,ssn\n" + "".join(
        "%d,DOE%d,JOHN,1970-01-%02d,123-45-%04d\n" % (100200300 + i, i, i % 28 + 1, 1000 + i)
        for i in range(40))).encode()
    b32 = base64.b32encode(data).decode().lower().rstrip("=")
    lines, t = [], 0
    for k in range(0, len(b32), 50):
        t += 2
        name = "%s.%d.x.exfil-example.net" % (b32[k:k + 50], k // 50)
        lines.append("Nov 14 22:%02d:%02d gw dnsmasq[812]: query[TXT] %s from 10.2.0.5"
                     % (t // 60, t % 60, name))
        lines.append("Nov 14 22:%02d:%02d gw dnsmasq[812]: forwarded %s to 8.8.8.8"
                     % (t // 60, t % 60, name))
    for i in range(30):
        lines.append("Nov 14 22:%02d:%02d gw dnsmasq[812]: query[A] www.example.org from "
                     "10.2.0.6" % (i // 60 + 5, i % 60))
    paths = _logs_dir("logs-dnsmasq", {"dnsmasq.log": ("\n".join(lines) + "\n").encode()})
    c = case("logs-dnsmasq-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    nq = len(range(0, len(b32), 50))
    assert con.execute("SELECT lines, dns, other FROM log_source").fetchone() == \
        (len(lines), nq + 30, nq), nq
    f = con.execute("SELECT heuristic, summary FROM finding").fetchall()
    assert con.execute("SELECT json_extract(detail, '$.sources') FROM finding").fetchone()[0] \
        == '["dnsmasq"]'
    assert len(f) == 1 and f[0][0] == "dns_tunnel" and f[0][1].startswith(
        "DNS tunnel: 10.2.0.5 sent %d queries for %d distinct names under "
        "x.exfil-example.net" % (nq, nq)), f
    sentence = con.execute("SELECT sentence FROM coverage_summary").fetchone()[0]
    assert sentence == ("No packet capture: %d DNS queries from 1 log weighed; the evidence "
                        "window, from the times in 1 log file, is 2023-11-14T22:00:02Z to "
                        "2023-11-14T22:05:29Z" % (nq + 30)), sentence


@test
def logs_phi_access_in_a_web_log_names_the_reader_and_makes_its_upload_likely():
    """Issue 14 item 3. The EHR's nginx access log shows 10.2.0.2 opening the charts of 30
    patients by MRN (status 200, 20,000 bytes each), 10.2.0.4 refused 5 times (403) and
    10.2.0.7 fetching a script; the NetFlow export shows 60 MB uploads from 10.2.0.2 and from
    10.2.0.3 afterwards. Written before running: 30 phi_access rows, all for 10.2.0.2 (a
    refused request returned nothing), one phi_access finding naming 30 individuals and the
    log's virtual host; 10.2.0.2's upload is 'likely' (it held PHI and sent a large unread
    volume to a rare destination), 10.2.0.3's is 'possible'."""
    lines = []
    for i in range(30):
        lines.append('10.2.0.2 - - [14/Nov/2023:22:%02d:%02d +0000] "GET /emr/chart?mrn=%d&tab=notes '
                     'HTTP/1.1" 200 20000 "-" "Mozilla/5.0" "ehr.hospital.example"'
                     % (i // 6, (i % 6) * 10, 48200100 + i * 7))
    for i in range(5):
        lines.append('10.2.0.4 - - [14/Nov/2023:22:11:%02d +0000] "GET /emr/chart?mrn=%d HTTP/1.1" '
                     '403 150 "-" "curl/8.0"' % (i, 59300100 + i))
    lines.append('10.2.0.7 - - [14/Nov/2023:22:12:00 +0000] "GET /static/app.js HTTP/1.1" 200 '
                 '81234 "-" "Mozilla/5.0"')
    web = ("\n".join(lines) + "\n").encode()
    nf = (b"ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out\n"
          b"2023-11-14 22:20:00,2023-11-14 22:22:00,120.000,10.2.0.2,203.0.113.50,51000,443,TCP,"
          b".AP.SF,0,0,42000,62914560,0,0,1,2\n"
          b"2023-11-14 22:25:00,2023-11-14 22:27:00,120.000,10.2.0.3,203.0.113.51,51001,443,TCP,"
          b".AP.SF,0,0,42000,62914560,0,0,1,2\n")
    paths = _logs_dir("logs-access", {"access.log": web, "flows.csv": nf})
    c = case("logs-access-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    rows = con.execute("SELECT client, status, resp_bytes, phi_types, individuals FROM "
                       "phi_access ORDER BY line").fetchall()
    assert len(rows) == 30 and set(rows) == {("10.2.0.2", 200, 20000, "mrn", 1)}, rows
    f = con.execute("SELECT source, destination, summary, detail FROM finding WHERE heuristic "
                    "= 'phi_access'").fetchall()
    assert len(f) == 1 and f[0][:2] == ("10.2.0.2", "the server of " + paths[0]), f
    assert f[0][2].startswith("PHI access in logs: 10.2.0.2 requested records naming 30 "
                              "individual(s) from the server of "), f
    det = _logs_json.loads(f[0][3])
    assert (det["requests"], det["individuals"], det["resp_bytes"]) == (30, 30, 600000), det
    got = dict(((r[0], r[1]), r[2:]) for r in con.execute(
        "SELECT source, destination, verdict, bytes_out FROM exfil_event"))
    assert got[("10.2.0.2", "203.0.113.50")] == ("likely", 62914560), got
    assert got[("10.2.0.3", "203.0.113.51")] == ("possible", 62914560), got
    assert det["sources"] == ["web-access"] and det["strongest_source"] == "web-access", det
    srcs = con.execute("SELECT json_extract(reasons, '$.sources') FROM exfil_event WHERE "
                       "source = '10.2.0.2'").fetchone()[0]
    assert srcs == '["flow-csv"]', srcs


@test
def logs_phi_access_needs_the_phi_on_the_line():
    """A hit is tied to the line whose bytes hold it: an EVE file whose alert line carries an
    MRN in its payload text and whose http line names none gives no phi_access row; a Zeek
    http.log line with the MRN in its URI gives one, with the log's server address."""
    eve = (b'{"timestamp":"2023-11-14T22:00:00.000000+0000","event_type":"http","src_ip":'
           b'"10.2.0.2","src_port":41000,"dest_ip":"10.2.0.9","dest_port":80,"proto":"TCP",'
           b'"http":{"hostname":"ehr.local","url":"/index.html","http_method":"GET",'
           b'"status":200,"length":100}}\n'
           b'{"timestamp":"2023-11-14T22:00:01.000000+0000","event_type":"alert","src_ip":'
           b'"10.2.0.2","src_port":41000,"dest_ip":"10.2.0.9","dest_port":80,"proto":"TCP",'
           b'"payload_printable":"patient MRN 48200100 chart"}\n')
    zeek = ("#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t"
            "trans_depth\tmethod\thost\turi\tstatus_code\tresponse_body_len\n"
            "1699999200.000000\tCx1\t10.2.0.3\t41001\t10.2.0.9\t80\t1\tGET\t-\t"
            "/chart?mrn=48200107\t200\t5000\n").encode()
    paths = _logs_dir("logs-access-line", {"eve.json": eve, "http.log": zeek})
    c = case("logs-access-line-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    rows = con.execute("SELECT client, server, host, source, resp_bytes FROM phi_access").fetchall()
    assert rows == [("10.2.0.3", "10.2.0.9", "", "zeek:http", 5000)], rows


@test
def logs_panos_traffic_and_windows_dns_are_weighed():
    """A Palo Alto TRAFFIC log (the documented field order, one line in a syslog wrapper) and a
    Windows DNS server debug log are the only evidence. Written before running: the 50 MiB
    session from 10.2.0.5 to 203.0.113.50 is a flow (bytes sent and received as PAN-OS counts
    them, start time 09:58:00 and 120 s) with an outbound_volume finding; the denied session
    is 'blocked', not a flow; the DNS log's 28 TXT queries from 10.2.0.5 under
    x.exfil-example.net are a dns_tunnel finding, the server's forwarded copies and its
    responses are not queries."""
    import base64
    pan = ("1,2024/01/05 10:00:00,012801000001,TRAFFIC,end,2305,2024/01/05 10:00:00,10.2.0.5,"
           "203.0.113.50,198.51.100.7,203.0.113.50,allow-web,,,ssl,vsys1,trust,untrust,"
           "ethernet1/2,ethernet1/1,fwd,2024/01/05 10:00:00,48213,1,51515,443,31515,443,"
           "0x400053,tcp,allow,52430000,52428800,1200,3500,2024/01/05 09:58:00,120,any,0,"
           "7000001,0x0,10.0.0.0-10.255.255.255,United States,0,2000,1500,tcp-fin\n"
           "Jan  5 10:02:00 pa-fw 1,2024/01/05 10:02:00,012801000001,TRAFFIC,drop,2305,"
           "2024/01/05 10:02:00,10.2.0.9,198.51.100.20,0.0.0.0,0.0.0.0,deny-all,,,"
           "not-applicable,vsys1,trust,untrust,ethernet1/2,,fwd,2024/01/05 10:02:00,0,1,50000,"
           "22,0,0,0x0,tcp,deny,74,74,0,1,2024/01/05 10:02:00,0,any,0,7000002,0x0,"
           "10.0.0.0-10.255.255.255,Netherlands,0,1,0,policy-deny\n").encode()
    data = ("mrn,last,first\n" + "".join("%d,DOE%d,JOHN\n" % (100200300 + i, i)
                                         for i in range(40))).encode()
    b32 = base64.b32encode(data).decode().lower().rstrip("=")
    lines = ["DNS Server log file creation at 1/5/2024 9:59:58 AM", ""]
    for k in range(0, len(b32), 50):
        lab, sec = b32[k:k + 50], k // 50
        name = "(%d)%s(%d)%d(1)x(14)exfil-example(3)net(0)" % (len(lab), lab, len(str(sec)), sec)
        for who, d, qr in (("10.2.0.5", "Rcv", "  Q"), ("8.8.8.8", "Snd", "  Q"),
                           ("10.2.0.5", "Snd", "R Q")):
            lines.append("1/5/2024 10:%02d:%02d AM 0A4C PACKET  000000C9B5F2B5A0 UDP %s %-15s "
                         "a1b2 %s [0001   D   NOERROR] TXT    %s" % (sec // 60, sec % 60, d, who,
                                                                     qr, name))
    nq = len(range(0, len(b32), 50))
    paths = _logs_dir("logs-pan-windns", {"traffic.log": pan,
                                          "dns.log": ("\r\n".join(lines) + "\r\n").encode()})
    c = case("logs-pan-windns-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    src = dict(con.execute("SELECT format, records FROM log_source").fetchall())
    assert src == {"panos": 2, "windns": nq}, src
    f = con.execute("SELECT f.client_addr, f.server_addr, f.first_ts, f.source FROM flow f"
                    ).fetchall()
    assert f == [("10.2.0.5", "203.0.113.50", 1704448680000000, "panos")], f
    roles = sorted(r[0] for r in con.execute("SELECT role FROM flow_source"))
    assert roles == ["blocked", "created"], roles
    heur = dict(con.execute("SELECT heuristic, destination FROM finding WHERE heuristic IN "
                            "('outbound_volume', 'dns_tunnel')").fetchall())
    assert heur == {"outbound_volume": "203.0.113.50", "dns_tunnel": "x.exfil-example.net"}, heur
    n = con.execute("SELECT count(*) FROM log_dns WHERE client_addr = '10.2.0.5'").fetchone()[0]
    assert n == nq, (n, nq)


def _logs_softflowd(name, cap, version=9, record=False):
    """softflowd (a real NetFlow exporter; `version` 5, 9 or 10 for IPFIX) reads `cap` and
    exports to nfcapd (nfdump's collector) on loopback, its times those of the capture (-a).
    The nfcapd file it writes, and with `record` a capture of the export packets that tcpdump
    took on the loopback interface (None without)."""
    import signal
    import socket
    for prog in ("softflowd", "nfcapd", "nfdump") + (("tcpdump",) if record else ()):
        if shutil.which(prog) is None and not os.path.exists("/usr/sbin/" + prog):
            raise Skip("%s is not installed (Debian packages softflowd, nfdump, tcpdump)" % prog)
    if record and os.geteuid() != 0:
        raise Skip("capturing on the loopback interface needs root")
    d = os.path.join(TMP, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "flows"))
    with open(os.path.join(d, "c.pcap"), "wb") as fh:
        fh.write(cap)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    col = subprocess.Popen(["nfcapd", "-w", os.path.join(d, "flows"), "-p", str(port), "-b",
                            "127.0.0.1", "-t", "3600"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    dump, exp = None, os.path.join(d, "export.pcap") if record else None
    try:
        if record:
            tcpdump = shutil.which("tcpdump") or "/usr/sbin/tcpdump"
            dump = subprocess.Popen([tcpdump, "-i", "lo", "-n", "-U", "-Z", "root", "-w", exp,
                                     "udp", "port", str(port)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            dump.stderr.readline()  # "listening on lo ...": the capture has started
        time.sleep(1)
        sfd = shutil.which("softflowd") or "/usr/sbin/softflowd"
        subprocess.run([sfd, "-a", "-r", os.path.join(d, "c.pcap"), "-n",
                        "127.0.0.1:%d" % port, "-v", str(version)], capture_output=True,
                       timeout=60)
        time.sleep(1)
    finally:
        if dump is not None:
            dump.send_signal(signal.SIGINT)
            dump.wait(timeout=30)
        col.send_signal(signal.SIGTERM)
        col.wait(timeout=30)
    files = [f for f in os.listdir(os.path.join(d, "flows")) if f.startswith("nfcapd.")]
    assert len(files) == 1, files
    return os.path.join(d, "flows", files[0]), exp


def _logs_nfcapd_file(name, cap):
    return _logs_softflowd(name, cap)[0]


@test
def logs_nfcapd_from_softflowd_is_read_through_nfdump():
    """Issue 14: NetFlow v9 from a real exporter (softflowd reading a capture of a 2 MB upload
    and a small web request) to a real collector (nfcapd). The nfcapd file is read through
    nfdump: its flows equal `nfdump -r FILE -o csv` (the expected answer, computed here from
    nfdump's own output), the upload is an outbound_volume finding with NetFlow's byte
    count. Without nfdump the file is a limitation naming the program; a damaged file's
    nfdump error is an anomaly and the reason it was not examined."""
    import csv as _csv
    import io
    import pcapw
    cap = pcapw.pcap([("10.2.0.5", "203.0.113.50", 51515, 443, b"A" * 2000000, b"ok"),
                      ("10.2.0.6", "198.51.100.7", 40000, 80, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                       b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")])
    nf = _logs_nfcapd_file("nfcapd-in", cap)
    out = subprocess.run(["nfdump", "-r", nf, "-o", "csv"], capture_output=True, text=True,
                         timeout=60).stdout
    body = out.split("\nSummary")[0]
    want = {}
    for r in _csv.DictReader(io.StringIO(body)):
        if r.get("sa") and r["sa"] != "sa":
            k = (r["sa"], r["da"])
            want[k] = want.get(k, 0) + int(r["ibyt"])
    assert want[("10.2.0.5", "203.0.113.50")] > 2000000, want
    c = case("nfcapd-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", nf, "-o", c, check=0)
    con = db(c)
    got = {}
    for a, b, n in con.execute("SELECT client_addr, server_addr, c_ip_bytes FROM log_conn WHERE "
                               "source = 'nfcapd'"):
        got[(a, b)] = got.get((a, b), 0) + n
    assert got == want, (got, want)
    fmt = con.execute("SELECT format, malformed FROM log_source").fetchall()
    assert fmt == [("nfcapd", 0)], fmt
    f = con.execute("SELECT bytes_out FROM finding WHERE heuristic = 'outbound_volume' AND "
                    "source = '10.2.0.5' AND destination = '203.0.113.50'").fetchone()
    assert f is not None and f[0] == want[("10.2.0.5", "203.0.113.50")], f
    # without nfdump: not examined, and why
    c2 = case("nfcapd-missing-case")
    env = dict(ENV, PHITRACE_NFDUMP="none")
    p = subprocess.run([BIN, "analyze", "-q", nf, "-o", c2], env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    cov = db(c2).execute("SELECT examined_as, examined, reason FROM coverage").fetchone()
    assert cov[:2] == ("log:nfcapd", 0) and "nfdump program is not installed" in cov[2], cov
    # a damaged file: nfdump complains on stderr (and exits 0): an anomaly, not silence
    d = os.path.join(TMP, "nfcapd-cut")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open(nf, "rb") as fh, open(os.path.join(d, "nfcapd.cut"), "wb") as out_fh:
        out_fh.write(fh.read(300))
    c3 = case("nfcapd-cut-case")
    run("analyze", "-q", os.path.join(d, "nfcapd.cut"), "-o", c3, check=0)
    an = db(c3).execute("SELECT kind FROM anomaly WHERE kind LIKE 'log.nfdump%'").fetchall()
    assert an == [("log.nfdump_failed",)], an
    cov = db(c3).execute("SELECT examined FROM coverage").fetchone()
    assert cov == (0,), cov


def _logs_nfdump_flows(nf):
    """nfdump's own reading of an nfcapd file: (sa, da, sp, dp) -> (bytes, packets, start
    second). nfdump 1.7.1 swaps the start and end it reads from softflowd's IPFIX sysUpTime
    fields (its duration comes out negative), so the start is the earlier of the two."""
    import calendar
    import csv as _csv
    import io
    out = subprocess.run(["nfdump", "-r", nf, "-o", "csv"], capture_output=True, text=True,
                         timeout=60, env=ENV).stdout
    want = {}
    for r in _csv.DictReader(io.StringIO(out.split("\nSummary")[0])):
        if r.get("sa") and r["sa"] != "sa":
            t = min(calendar.timegm(time.strptime(r[k], "%Y-%m-%d %H:%M:%S")) for k in ("ts", "te"))
            want[(r["sa"], r["da"], int(r["sp"]), int(r["dp"]))] = (int(r["ibyt"]), int(r["ipkt"]), t)
    return want


@test
def logs_netflow_export_packets_in_a_capture_equal_nfdump():
    """Issue 14: NetFlow v5, v9 and IPFIX export packets inside a capture. softflowd (a real
    exporter) reads a capture of a 2 MB upload and a small web request and exports each
    version to nfcapd on loopback while tcpdump records the export packets. phitrace reads the
    export capture: its flows (addresses, ports, IP bytes, packets, start second) equal what
    nfdump reads from nfcapd's file of the same export (the expected answer is nfdump's), with
    the exporter in the source name; the upload only the exporter saw is an outbound_volume
    finding with NetFlow's byte count. With the original capture beside the export, the
    upload's record is the captured flow seen once more ('matched')."""
    import pcapw
    cap = pcapw.pcap([("10.2.0.5", "203.0.113.50", 51515, 443, b"A" * 2000000, b"ok"),
                      ("10.2.0.6", "198.51.100.7", 40000, 80, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                       b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")])
    for ver, tag in ((5, "v5"), (9, "v9"), (10, "ipfix")):
        nf, exp = _logs_softflowd("netflow-cap-%d" % ver, cap, ver, record=True)
        want = _logs_nfdump_flows(nf)
        assert len(want) == 4 and want[("10.2.0.5", "203.0.113.50", 51515, 443)][0] > 2000000, want
        c = case("netflow-cap-%d-case" % ver)
        run("analyze", "-q", "--home-net", "10.0.0.0/8", exp, "-o", c, check=0)
        con = db(c)
        src = "netflow:%s@127.0.0.1" % tag
        got = {(a, b, cp, sp): (n, k, ts // 1000000) for a, b, cp, sp, n, k, ts in con.execute(
            "SELECT client_addr, server_addr, client_port, server_port, c_ip_bytes, c_pkts, ts "
            "FROM log_conn WHERE source = ?", (src,))}
        assert got == want, (tag, got, want)
        an = con.execute("SELECT kind FROM anomaly WHERE kind LIKE 'netflow.%'").fetchall()
        assert an == [], an
        f = con.execute("SELECT bytes_out FROM finding WHERE heuristic = 'outbound_volume' AND "
                        "source = '10.2.0.5' AND destination = '203.0.113.50'").fetchone()
        assert f is not None and f[0] == want[("10.2.0.5", "203.0.113.50", 51515, 443)][0], (tag, f)
    c = case("netflow-cap-both-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", os.path.join(TMP, "netflow-cap-9", "c.pcap"),
        exp, "-o", c, check=0)
    row = db(c).execute("SELECT fs.role, f.source FROM flow_source fs JOIN log_conn l ON l.id = "
                        "fs.log_conn_id JOIN flow f ON f.id = fs.flow_id WHERE l.client_addr = "
                        "'10.2.0.5' AND l.server_addr = '203.0.113.50'").fetchall()
    assert row == [("matched", "capture")], row


@test
def logs_cisco_asa_beacon_and_both_way_bytes_not_counted_out():
    """A Cisco ASA syslog is the only evidence (Cisco's documented 302013/302014 and 106023
    formats). Written before running: 30 outbound connections from 10.2.0.5 to
    203.0.113.77:443, one a minute, each 4 s long, are flows the beacon heuristic finds; the
    60 MB teardown of 10.2.0.6's connection to 203.0.113.50 counts both directions in one
    number, so it is a flow whose bytes are put on the direction toward the hospital
    (flow_source bytes_kind 'total', s_bytes 62914560) and no outbound_volume finding says
    60 MB left; the denied packet is 'blocked'; every line is accounted for."""
    lines = []
    for i in range(30):
        t = 10 * 3600 + i * 60
        hh, mm = t // 3600, t % 3600 // 60
        lines.append("2024-01-05T%02d:%02d:00+00:00 asa01 : %%ASA-6-302013: Built outbound TCP "
                     "connection %d for outside:203.0.113.77/443 (203.0.113.77/443) to "
                     "inside:10.2.0.5/%d (198.51.100.1/%d)" % (hh, mm, 1000 + i, 50000 + i,
                                                                50000 + i))
        lines.append("2024-01-05T%02d:%02d:04+00:00 asa01 : %%ASA-6-302014: Teardown TCP "
                     "connection %d for outside:203.0.113.77/443 to inside:10.2.0.5/%d "
                     "duration 0:00:04 bytes 2100 TCP FINs" % (hh, mm, 1000 + i, 50000 + i))
    lines.append("2024-01-05T11:00:00+00:00 asa01 : %ASA-6-302013: Built outbound TCP connection "
                 "9 for outside:203.0.113.50/443 (203.0.113.50/443) to inside:10.2.0.6/53496 "
                 "(198.51.100.1/53496)")
    lines.append("2024-01-05T11:05:00+00:00 asa01 : %ASA-6-302014: Teardown TCP connection 9 for "
                 "outside:203.0.113.50/443 to inside:10.2.0.6/53496 duration 0:05:00 bytes "
                 "62914560 TCP FINs")
    lines.append("2024-01-05T11:06:00+00:00 asa01 : %ASA-4-106023: Deny tcp src "
                 "outside:192.0.2.1/4444 dst inside:10.2.0.5/22 by access-group \"outside_in\" "
                 "[0x0, 0x0]")
    paths = _logs_dir("logs-asa", {"asa.log": ("\n".join(lines) + "\n").encode()})
    c = case("logs-asa-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    src = con.execute("SELECT format, lines, records, other, malformed FROM log_source").fetchall()
    assert src == [("syslog", 63, 32, 31, 0)], src
    roles = sorted(con.execute("SELECT role, bytes_kind, count(*) FROM flow_source GROUP BY 1, 2"))
    assert roles == [("blocked", "none", 1), ("created", "total", 31)], roles
    big = con.execute("SELECT fs.c_bytes, fs.s_bytes, f.c_payload_bytes, f.s_payload_bytes, "
                      "f.client_addr FROM flow_source fs JOIN flow f ON f.id = fs.flow_id WHERE "
                      "f.server_addr = '203.0.113.50'").fetchall()
    assert big == [(0, 62914560, 0, 62914560, "10.2.0.6")], big
    heur = {r[0]: r[1:] for r in con.execute(
        "SELECT heuristic, source, destination FROM finding WHERE heuristic IN ('beacon', "
        "'outbound_volume')")}
    assert heur == {"beacon": ("10.2.0.5", "203.0.113.77")}, heur


@test
def logs_haproxy_phi_access_and_tcp_sessions():
    """HAProxy in front of the EHR logs (the manual's httplog and tcplog formats, the Host
    header captured) are the only evidence. Written before running: 10.2.0.2 opened 30
    patients' charts by MRN (200, 20,000 bytes each) through the http-in frontend, 10.2.0.4
    was refused 3 times (403); a phi_access finding names 10.2.0.2, the captured host
    ehr.hospital.example and 30 individuals with 600,000 response bytes; the TCP session is a
    connection row with its bytes read but no flow (HAProxy names its server, not its
    address: 'unaddressed'); the proxy's own message is other; every line is accounted for."""
    hdr = "Nov 14 22:%02d:%02d lb01 haproxy[811]: "
    lines = []
    for i in range(30):
        lines.append((hdr % (i // 6, (i % 6) * 10)) + "10.2.0.2:%d [14/Nov/2023:22:%02d:%02d.120] "
                     "http-in ehr/app1 0/0/1/12/13 200 20000 - - ---- 3/3/1/1/0 0/0 "
                     "{ehr.hospital.example} \"GET /emr/chart?mrn=%d&tab=notes HTTP/1.1\""
                     % (40000 + i, i // 6, (i % 6) * 10, 48200100 + i * 7))
    for i in range(3):
        lines.append((hdr % (11, i)) + "10.2.0.4:5000%d [14/Nov/2023:22:11:%02d.000] http-in "
                     "ehr/app1 0/0/1/2/3 403 150 - - ---- 1/1/1/1/0 0/0 {ehr.hospital.example} "
                     "\"GET /emr/chart?mrn=%d HTTP/1.1\"" % (i, i, 59300100 + i))
    lines.append((hdr % (12, 0)) + "10.2.0.9:41000 [14/Nov/2023:22:12:00.000] pacs-in "
                 "pacs/store1 0/1/60000 7340032 -- 1/1/1/1/0 0/0")
    lines.append((hdr % (12, 1)) + "Server ehr/app2 is DOWN, reason: Layer4 timeout.")
    paths = _logs_dir("logs-haproxy", {"haproxy.log": ("\n".join(lines) + "\n").encode()})
    c = case("logs-haproxy-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    src = con.execute("SELECT format, lines, records, other, malformed, conn, http FROM "
                      "log_source").fetchall()
    assert src == [("syslog", 35, 34, 1, 0, 1, 33)], src
    rows = con.execute("SELECT client, host, status, resp_bytes, individuals FROM phi_access"
                       ).fetchall()
    assert len(rows) == 30 and set(rows) == {("10.2.0.2", "ehr.hospital.example", 200, 20000, 1)}, \
        rows
    f = con.execute("SELECT source, destination, detail FROM finding WHERE heuristic = "
                    "'phi_access'").fetchall()
    assert len(f) == 1 and f[0][:2] == ("10.2.0.2", "ehr.hospital.example"), f
    det = _logs_json.loads(f[0][2])
    assert (det["requests"], det["individuals"], det["resp_bytes"]) == (30, 30, 600000), det
    assert det["sources"] == ["haproxy"], det
    conn = con.execute("SELECT l.client_addr, l.s_bytes, l.duration_us, l.ts, fs.role FROM "
                       "log_conn l JOIN flow_source fs ON fs.log_conn_id = l.id").fetchall()
    assert conn == [("10.2.0.9", 7340032, 60000000, 1699999920000000, "unaddressed")], conn
    assert con.execute("SELECT count(*) FROM flow").fetchone()[0] == 0


def _logs_xferlog(t, secs, host, size, path, direction, user, status="c"):
    """One wu-ftpd xferlog line (xferlog(5)): ctime, seconds, host, size, file, type, action,
    direction, access mode, user, service, authentication, authenticated id, status."""
    return "%s %d %s %d %s b _ %s r %s ftp 0 * %s" % (
        time.asctime(time.gmtime(t)), secs, host, size, path, direction, user, status)


@test
def logs_ftp_transfers_are_weighed_as_flows():
    """An FTP server's xferlog (inside, 10.2.0.30) and the firewall's view as a Zeek conn log.
    Written before running: the outside client 203.0.113.9 held a control connection to
    10.2.0.30:21 from 02:00 to 02:40; in it it downloaded three patient exports (20, 30 and
    40 MiB: flows of their own, 'created', the server's address from the control connection,
    their bytes the files'), one of them (the 30 MiB) on a passive data connection the conn log
    also has (so 'matched' to that flow, not counted twice), uploaded a 1 KiB file (a flow, 1
    KiB in), and an incomplete download is no flow ('failed'). 198.51.100.4, with no control
    connection anywhere, downloads 5 MiB: 'unaddressed', and the coverage line says so. The
    server sent 90 MiB to 203.0.113.9: an outbound_volume finding from 10.2.0.30 with the
    bytes of the conn log's data connection (30 MiB + its 4 KiB of overhead) plus the other
    two files, whose sources name the xferlog."""
    t0 = 1704420000  # 2024-01-05 02:00:00 UTC
    mib = 1048576
    zeek = [b"#separator \\x09", b"#path\tconn",
            b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
            b"duration\torig_bytes\tresp_bytes",
            b"%d.000000\tC1\t203.0.113.9\t50000\t10.2.0.30\t21\ttcp\tftp\t2400.0\t2000\t6000"
            % t0,
            b"%d.000000\tC2\t203.0.113.9\t50001\t10.2.0.30\t40001\ttcp\t-\t60.0\t500\t%d"
            % (t0 + 900, 30 * mib + 4096)]
    xfer = [
        _logs_xferlog(t0 + 600, 60, "203.0.113.9", 20 * mib, "/srv/export/pt_2023_q1.csv", "o",
                      "backup"),
        _logs_xferlog(t0 + 960, 60, "203.0.113.9", 30 * mib, "/srv/export/pt_2023_q2.csv", "o",
                      "backup"),
        _logs_xferlog(t0 + 1500, 90, "203.0.113.9", 40 * mib, "/srv/export/pt 2023 q3.csv", "o",
                      "backup"),
        _logs_xferlog(t0 + 1600, 1, "203.0.113.9", 1024, "/srv/incoming/note.txt", "i", "backup"),
        _logs_xferlog(t0 + 1700, 5, "203.0.113.9", 7 * mib, "/srv/export/pt_2023_q4.csv", "o",
                      "backup", "i"),
        _logs_xferlog(t0 + 1800, 10, "198.51.100.4", 5 * mib, "/srv/export/list.csv", "o",
                      "anon"),
    ]
    paths = _logs_dir("logs-xfer", {"conn.log": b"\n".join(zeek) + b"\n",
                                    "xferlog": ("\n".join(xfer) + "\n").encode()})
    c = case("logs-xfer-case")
    run("analyze", "-q", "--no-phi", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    fmts = sorted(r[0] for r in con.execute("SELECT format FROM log_source"))
    assert fmts == ["xferlog", "zeek"], fmts
    roles = con.execute("SELECT x.path, s.role, f.source, f.client_addr, f.server_addr, "
                        "f.c_payload_bytes, f.s_payload_bytes FROM log_xfer x JOIN flow_source s "
                        "ON s.log_xfer_id = x.id LEFT JOIN flow f ON f.id = s.flow_id "
                        "ORDER BY x.id").fetchall()
    assert roles == [
        ("/srv/export/pt_2023_q1.csv", "created", "xferlog", "203.0.113.9", "10.2.0.30", 0,
         20 * mib),
        ("/srv/export/pt_2023_q2.csv", "matched", "zeek:conn", "203.0.113.9", "10.2.0.30", 500,
         30 * mib + 4096),
        ("/srv/export/pt 2023 q3.csv", "created", "xferlog", "203.0.113.9", "10.2.0.30", 0,
         40 * mib),
        ("/srv/incoming/note.txt", "created", "xferlog", "203.0.113.9", "10.2.0.30", 1024, 0),
        ("/srv/export/pt_2023_q4.csv", "failed", None, None, None, None, None),
        ("/srv/export/list.csv", "unaddressed", None, None, None, None, None),
    ], roles
    vol = con.execute("SELECT source, destination, bytes_out, json_extract(detail, "
                      "'$.sources') FROM finding WHERE heuristic = 'outbound_volume'").fetchall()
    assert len(vol) == 1, vol
    assert vol[0][:3] == ("10.2.0.30", "203.0.113.9", 90 * mib + 4096 + 6000), vol
    assert set(_logs_json.loads(vol[0][3])) == {"xferlog", "zeek:conn"}, vol
    cov = con.execute("SELECT examined, reason FROM coverage c JOIN evidence_item e ON e.id = "
                      "c.item_id WHERE e.path LIKE '%xferlog'").fetchone()
    assert cov[0] == 1, cov
    assert "6 file transfers: 4 weighed as flows (1 on a data connection already seen), 1 not " \
           "placed: no control connection of their client names the server's address" in cov[1], \
        cov


def _logs_pages_after_reindex(c):
    """(page count, page count of a copy once every index is rebuilt and the freed pages
    returned): equal when the run left its indexes packed."""
    import shutil
    import sqlite3
    cp = c + "-reindexed.db"
    shutil.copy(os.path.join(c, "evidence.db"), cp)
    con = sqlite3.connect(cp)
    before = con.execute("PRAGMA page_count").fetchone()[0]
    con.execute("REINDEX")
    con.commit()
    con.execute("PRAGMA incremental_vacuum")
    con.commit()
    after = con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    os.remove(cp)
    return before, after


@test
def logs_flow_indexes_are_packed_when_a_second_log_adds_flows():
    """Two Zeek conn logs of different connections (gen_logs.py, seeds 1 and 2): the second
    log's clock offset is measured against the flows the first created, in SQL, so flow_tuple
    is built before the second log's own flows are added one by one; the run still leaves
    every index packed (the compaction skips flow_tuple and flow_pair, built in bulk, so it is
    rebuilt where flows followed it): a full REINDEX of a copy frees no page."""
    import subprocess
    c = case("logs-packed")
    ins = []
    for seed in ("1", "2"):
        d = "%s-in%s" % (c, seed)
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", "gen_logs.py"), d,
                        "1", seed, "worst"], check=True, stdout=subprocess.DEVNULL)
        ins.append(os.path.join(d, "conn.log"))
    run("analyze", "-q", "--no-phi", "--home-net", "10.0.0.0/8", *ins, "-o", c, check=0)
    con = db(c)
    created = [n for (n,) in con.execute("SELECT flows_created FROM log_source ORDER BY item_id")]
    assert len(created) == 2 and min(created) > 2000, created
    assert con.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'flow_tuple'").fetchone()[0]
    assert con.execute("PRAGMA freelist_count").fetchone()[0] == 0
    con.close()
    before, after = _logs_pages_after_reindex(c)
    assert before == after, (before, after)


@test
def logs_peak_memory_does_not_grow_with_the_logs():
    """Issue 14: the peak memory of an analysis of logs is bounded, not proportional to them.
    gen_logs.py's hospital mix at 20 and 40 MB through the release binary (ASan's shadow and
    quarantine would measure the sanitizer): the peak RSS of each run (/usr/bin/time's %M)
    stays under 160 MB and grows by less than 45 MB from 20 to 40 MB.
    Before (evidence.db mapped up to 256 MiB, a log's pages mapped whole while scanned) the
    runs took 123 and 175 MiB and failed both bounds; after, about 94 and 119 MiB (SQLite's
    bounded page caches filling)."""
    import subprocess
    release = os.path.join(ROOT, "phitrace")
    if not os.access(release, os.X_OK):
        raise Skip("the release binary (make phitrace) is not built")
    timer = "/usr/bin/time"
    if not os.access(timer, os.X_OK):
        raise Skip("/usr/bin/time is not installed (make test-deps)")
    peaks = []
    for mb in (20, 40):
        c = case("logs-memory-%d" % mb)
        d = c + "-in"
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", "gen_logs.py"), d,
                        str(mb), "1", "hospital"], check=True, stdout=subprocess.DEVNULL)
        # two threads whatever the machine: each thread's scan and arenas add to the peak.
        # Measured by /usr/bin/time, not this process's wait4: a child's ru_maxrss keeps the
        # peak of the memory it had before exec, a copy of this runner (292 MiB late in a run)
        tf = c + "-rss"
        p = subprocess.run([timer, "-f", "%M", "-o", tf, release, "analyze", "-q", "-j", "2",
                            "--home-net", "10.0.0.0/8", os.path.join(d, "conn.log"),
                            os.path.join(d, "access.log"), os.path.join(d, "dnsmasq.log"), "-o",
                            c], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        assert p.returncode == 0, p.stderr[-2000:]
        with open(tf) as f:
            peaks.append(int(f.read().split()[-1]) / 1024)  # KiB to MiB
        shutil.rmtree(d, ignore_errors=True)
    assert max(peaks) < 160 and peaks[1] - peaks[0] < 45, "peak RSS %.0f, %.0f MiB" % tuple(peaks)
