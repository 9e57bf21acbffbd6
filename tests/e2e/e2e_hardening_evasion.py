# e2e_hardening_evasion.py - protocol detection and parsing that fail closed (issue 17,
# "Fail closed"): evasions that used to turn a confirmed breach into "not observed".
# Run in run_e2e.py's namespace.


def _evasion_csv(n=30):
    rows = ["mrn,last_name,first_name,dob,ssn,diagnosis"]
    rows += ["%07d,ROE%d,JOHN,1970-01-02,%03d-33-%04d,I10" % (4300000 + i, i, 300 + i, 2000 + i)
             for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def _evasion_case(name, request_segments):
    import pcapw
    cap = pcapw.pcap([("10.3.0.5", "203.0.113.77", 43000, 80, request_segments,
                       b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")])
    c = case(name)
    os.makedirs(c + "-in", exist_ok=True)
    p = os.path.join(c + "-in", "e.pcap")
    with open(p, "wb") as fh:
        fh.write(cap)
    run("analyze", "-q", "--home-net", "10.0.0.0/8", p, "-o", c, check=0)
    return c


@test
def evasion_request_line_cut_over_segments_is_still_http():
    body = _evasion_csv()
    head = b"POST /upload HTTP/1.1\r\nHost: x.example\r\nContent-Type: text/csv\r\n" \
           b"Content-Length: %d\r\n\r\n" % len(body)
    whole = head + body
    for cut in (1, 2, 4, 13):
        c = _evasion_case("evasion-cut-%d" % cut, [whole[:cut], whole[cut:cut + 1400],
                                                   whole[cut + 1400:]])
        app = db(c).execute("SELECT app FROM flow").fetchone()[0]
        v = db(c).execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchone()[0]
        n = db(c).execute("SELECT estimate FROM individuals WHERE scope = 'outbound'").fetchone()[0]
        assert (app, v, n) == ("http", "confirmed", 30), (cut, app, v, n)


def _confirmed_30(c, what):
    v = db(c).execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchone()[0]
    n = db(c).execute("SELECT estimate FROM individuals WHERE scope = 'outbound'").fetchone()[0]
    assert (v, n) == ("confirmed", 30), (what, v, n)


@test
def evasion_long_header_line_is_cut_and_parsing_goes_on():
    body = _evasion_csv()
    pad = b"X-Pad: " + b"A" * 20000 + b"\r\n"
    req = b"POST /upload HTTP/1.1\r\nHost: x.example\r\n" + pad + \
          b"Content-Type: text/csv\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    c = _evasion_case("evasion-long-header", req)
    _confirmed_30(c, "http")
    kinds = [r[0] for r in db(c).execute("SELECT kind FROM anomaly")]
    assert "limit.http_line" in kinds, kinds
    # the same long line inside a multipart part's headers
    b = b"----B0undary"
    part = b"--" + b + b"\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.csv\"\r\n" + \
           b"X-Pad: " + b"B" * 12000 + b"\r\n\r\n" + body + b"\r\n--" + b + b"--\r\n"
    req = b"POST /u HTTP/1.1\r\nHost: x.example\r\nContent-Type: multipart/form-data; " \
          b"boundary=" + b + b"\r\nContent-Length: %d\r\n\r\n" % len(part) + part
    c = _evasion_case("evasion-long-part-header", req)
    _confirmed_30(c, "multipart")
    kinds = [r[0] for r in db(c).execute("SELECT kind FROM anomaly")]
    assert "limit.multipart_line" in kinds, kinds


@test
def evasion_long_mime_header_still_decodes_the_attachment():
    import base64
    import pcapw
    att = base64.encodebytes(_evasion_csv())
    msg = (b"From: a@example.org\r\nTo: b@example.net\r\nSubject: x\r\nX-Junk: " + b"J" * 12000 +
           b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n"
           b"--zz\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--zz\r\n"
           b"Content-Type: text/csv; name=\"p.csv\"\r\nContent-Transfer-Encoding: base64\r\n"
           b"Content-Disposition: attachment; filename=\"p.csv\"\r\n\r\n" + att +
           b"--zz--\r\n")
    cmds = (b"EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n" + msg +
            b"\r\n.\r\nQUIT\r\n")
    server = b"220 mx ESMTP\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n"
    cap = pcapw.pcap([("10.3.0.6", "203.0.113.78", 43001, 25, cmds, server)])
    c = case("evasion-long-mime")
    os.makedirs(c + "-in", exist_ok=True)
    p = os.path.join(c + "-in", "m.pcap")
    with open(p, "wb") as fh:
        fh.write(cap)
    run("analyze", "-q", "--home-net", "10.0.0.0/8", p, "-o", c, check=0)
    _confirmed_30(c, "smtp")
    kinds = [r[0] for r in db(c).execute("SELECT kind FROM anomaly")]
    assert "limit.mime_header" in kinds, kinds


@test
def evasion_unparseable_http_is_kept_and_scanned():
    # a valid request, then a second "request" whose start line is garbage: the rest of the
    # stream is kept as an object and scanned (it used to be dropped)
    body = _evasion_csv()
    ok = b"GET / HTTP/1.1\r\nHost: x.example\r\n\r\n"
    bad = b"PUTX\x01 nonsense\r\n" + body
    c = _evasion_case("evasion-garbage", ok + bad)
    row = db(c).execute("SELECT encoding, name FROM object WHERE encoding = 'unparsed'"
                        ).fetchone()
    assert row is not None and "request" in row[1], row
    _confirmed_30(c, "unparsed")


@test
def gzip_bomb_in_http_stops_at_the_ratio_limit():
    import gzip
    z = gzip.compress(b"\0" * (200 * 1024 * 1024), 9)  # about 200 KiB, ratio about 1000:1
    resp = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(z) + z
    import pcapw
    cap = pcapw.pcap([("10.3.0.7", "198.51.100.9", 43002, 80,
                       b"GET /big HTTP/1.1\r\nHost: y.example\r\n\r\n", resp)])
    c = case("gzip-bomb")
    os.makedirs(c + "-in", exist_ok=True)
    p = os.path.join(c + "-in", "b.pcap")
    with open(p, "wb") as fh:
        fh.write(cap)
    run("analyze", "-q", p, "-o", c, check=0)
    kinds = [r[0] for r in db(c).execute("SELECT kind FROM anomaly")]
    assert "limit.decompression" in kinds, kinds
    size, complete = db(c).execute("SELECT size, complete FROM object WHERE protocol = 'http' "
                                   "ORDER BY size DESC").fetchone()
    assert size <= 260 * len(z) and complete == 0, (size, len(z), complete)


@test
def server_greeting_of_an_unknown_protocol_is_kept():
    # the server speaks first with a greeting no decoder knows; the client then sends a CSV:
    # both directions are stored whole (the greeting used to be dropped, leaving a false gap)
    import pcapw
    greet = b"* custom sync agent v2 ready\r\n"
    body = _evasion_csv()
    cap = pcapw.pcap([("10.3.0.8", "203.0.113.80", 43003, 7000, [b"PUSH\r\n", body],
                       [greet, b"+OK\r\n"])], server_first=True)
    c = case("greeting")
    os.makedirs(c + "-in", exist_ok=True)
    p = os.path.join(c + "-in", "g.pcap")
    with open(p, "wb") as fh:
        fh.write(cap)
    run("analyze", "-q", "--home-net", "10.0.0.0/8", p, "-o", c, check=0)
    rows = db(c).execute("SELECT stream_dir, size, gap_bytes FROM object WHERE protocol = 'tcp' "
                         "ORDER BY stream_dir").fetchall()
    assert rows == [("c2s", 6 + len(body), 0), ("s2c", len(greet) + 5, 0)], rows
    _confirmed_30(c, "raw")
