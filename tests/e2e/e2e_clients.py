# e2e_clients.py - protocol detection from the protocol, not from one client's habits (issue
# 12): the sessions of clients and servers other than the ones the other tests use, as they
# look on the wire, and MIME names in RFC 2231 and RFC 2047 forms. Run in run_e2e.py's
# namespace (@test, run, case, db, corpus, Skip).

def _clients_csv(n=12):
    rows = ["mrn,last_name,first_name,dob,ssn"]
    rows += ["%07d,LFTP%d,ANNA,1961-03-%02d,%03d-41-%04d" % (6100000 + i, i, i + 1, 400 + i,
                                                             3000 + i) for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def _clients_run(name, cap, home="10.0.0.0/8"):
    c = case(name)
    os.makedirs(c + "-in", exist_ok=True)
    p = os.path.join(c + "-in", "c.pcap")
    with open(p, "wb") as fh:
        fh.write(cap)
    run("analyze", "-q", "--home-net", home, p, "-o", c, check=0)
    return db(c)


def _lftp_session(greeting, passive=True, upper=False):
    """lftp 4.9 storing a file on pyftpdlib 1.5.7, as recorded in the live test: FEAT first,
    AUTH TLS refused, OPTS before USER, then PASV (or PORT) and STOR over a data channel that
    opens between the 227/200 and the 226 replies."""
    import pcapw
    body = _clients_csv()
    cli, srv = "10.4.0.7", "198.51.100.21"
    cap = pcapw.Capture()
    ctl = cap.tcp(cli, srv, 34364, 2121)
    cmd = (lambda s: s.upper()) if upper else (lambda s: s)
    ctl.s(greeting)
    ctl.c(cmd(b"FEAT\r\n")).s(b"211-Features supported:\r\n EPRT\r\n EPSV\r\n MDTM\r\n"
                              b" UTF8\r\n211 End FEAT.\r\n")
    ctl.c(b"AUTH TLS\r\n").s(b'500 Command "AUTH" not understood.\r\n')
    ctl.c(b"OPTS UTF8 ON\r\n").s(b"530 Log in with USER and PASS first.\r\n")
    ctl.c(b"USER export\r\n").s(b"331 Username ok, send password.\r\n")
    ctl.c(b"PASS export\r\n").s(b"230 Login successful.\r\n")
    ctl.c(b"PWD\r\n").s(b'257 "/" is the current directory.\r\n')
    ctl.c(b"TYPE I\r\n").s(b"200 Type set to: Binary.\r\n")
    if passive:
        ctl.c(b"PASV\r\n").s(b"227 Entering passive mode (198,51,100,21,220,211).\r\n")
        ctl.c(b"STOR patients.csv\r\n")
        data = cap.tcp(cli, srv, 33484, 220 * 256 + 211)
        ctl.s(b"125 Data connection already open. Transfer starting.\r\n")
        data.c(body).close()
    else:
        ctl.c(b"PORT 10,4,0,7,130,53\r\n").s(b"200 Active data connection established.\r\n")
        ctl.c(b"STOR patients.csv\r\n")
        data = cap.tcp(srv, cli, 20, 130 * 256 + 53)  # the server connects back
        ctl.s(b"125 Data connection already open. Transfer starting.\r\n")
        data.s(body).close()
    ctl.s(b"226 Transfer complete.\r\n")
    ctl.c(b"QUIT\r\n").s(b"221 Goodbye.\r\n").close()
    return cap.bytes(), body


def _assert_ftp_upload(con, body, what):
    import hashlib
    sha = hashlib.sha256(body).hexdigest()
    apps = sorted(r[0] for r in con.execute("SELECT app FROM flow"))
    assert apps == ["ftp", "ftp-data"], (what, apps)
    rows = con.execute("SELECT command, name, user, size, direction, complete, sha256 FROM "
                       "ftp_transfer").fetchall()
    assert rows == [("STOR", "patients.csv", "export", len(body), "upload", 1, sha)], (what, rows)
    obj = con.execute("SELECT protocol, name, size, direction, complete FROM object WHERE "
                      "sha256 = ?", (sha,)).fetchall()
    assert obj == [("ftp", "patients.csv", len(body), "upload", 1)], (what, obj)
    raw = con.execute("SELECT count(*) FROM object WHERE protocol = 'tcp'").fetchone()[0]
    assert raw == 0, (what, "raw tcp objects", raw)


@test
def lftp_to_pyftpdlib_is_ftp_with_user_file_and_hash():
    """lftp against pyftpdlib: the lower-case greeting names the server "pyftpdlib", the
    client opens with FEAT. The control connection is FTP, the data channel is claimed, and
    the stored file has its name, user, size, hash and direction, passive and active."""
    for passive in (True, False):
        cap, body = _lftp_session(b"220 pyftpdlib 1.5.7 ready.\r\n", passive)
        con = _clients_run("lftp-%s" % ("pasv" if passive else "port"), cap)
        _assert_ftp_upload(con, body, "passive" if passive else "active")


@test
def ftp_greeting_that_names_no_ftp_is_decided_by_the_first_command():
    """A greeting with no "FTP" in it ("220 Service ready"): FEAT, the client's first
    command, decides; a greeting from a mail server on a host called ftp.example is not FTP."""
    cap, body = _lftp_session(b"220 Service ready for new user.\r\n", upper=True)
    _assert_ftp_upload(_clients_run("ftp-anon-greeting", cap), body, "anonymous greeting")
    import pcapw
    smtp = pcapw.pcap([("10.4.0.8", "198.51.100.22", 40100, 25,
                        b"EHLO ws\r\nQUIT\r\n", b"220 ftp.example.org ESMTP ready\r\n"
                                                b"250 ok\r\n221 bye\r\n")], server_first=True)
    con = _clients_run("smtp-ftp-host", smtp)
    assert con.execute("SELECT app FROM flow").fetchall() == [("smtp",)]


@test
def http09_simple_request_gets_a_transaction_and_the_body():
    """HTTP/0.9 (RFC 1945 §4.1): "GET /path" with no version and no headers, answered by the
    bare body up to the connection's end. An http_txn row with no status, the body stored as
    the response object."""
    import hashlib
    import pcapw
    body = _clients_csv(20)
    cap = pcapw.pcap([("10.4.0.9", "198.51.100.23", 40200, 80, b"GET /export/patients.csv\r\n",
                       body)])
    con = _clients_run("http09", cap, home="198.51.100.0/24")
    assert con.execute("SELECT app FROM flow").fetchall() == [("http",)]
    txn = con.execute("SELECT method, uri, status, resp_body_len, (SELECT sha256 FROM object "
                      "WHERE id = resp_object) FROM http_txn").fetchall()
    sha = hashlib.sha256(body).hexdigest()
    assert txn == [("GET", "/export/patients.csv", None, len(body), sha)], txn
    obj = con.execute("SELECT protocol, name, direction, stream_dir FROM object").fetchall()
    assert obj == [("http", "/export/patients.csv", "upload", "s2c")], obj
    # a server that answers an HTTP/0.9 request with a full response is read as one
    full = b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    cap = pcapw.pcap([("10.4.0.9", "198.51.100.23", 40201, 80, b"GET /p.csv\n", full)])
    con = _clients_run("http09-full", cap, home="198.51.100.0/24")
    txn = con.execute("SELECT method, uri, status, (SELECT sha256 FROM object WHERE id = "
                      "resp_object) FROM http_txn").fetchall()
    assert txn == [("GET", "/p.csv", 200, sha)], txn


@test
def http_methods_of_rfc9110_and_webdav_are_http():
    import pcapw
    for method in (b"PUT", b"PATCH", b"OPTIONS", b"PROPFIND", b"MKCOL", b"COPY", b"LOCK",
                   b"REPORT", b"SEARCH"):
        req = method + b" /dav/p.csv HTTP/1.1\r\nHost: dav\r\nContent-Length: 3\r\n\r\nabc"
        cap = pcapw.pcap([("10.4.0.10", "198.51.100.24", 40300, 8080, req,
                           b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")])
        con = _clients_run("method", cap)
        txn = con.execute("SELECT method, status, req_body_len FROM http_txn").fetchall()
        assert txn == [(method.decode(), 201, 3)], (method, txn)


@test
def early_response_before_the_request_body_is_one_transaction():
    """nginx answers "Expect: 100-continue" with its final response before the body arrives
    (RFC 9110 §15 allows it) and curl sends the body all the same: one transaction, the
    request's body and the response paired, no "response without request"."""
    import hashlib
    import pcapw
    body = _clients_csv(30)
    cap = pcapw.Capture()
    t = cap.tcp("10.4.0.14", "198.51.100.28", 40700, 8080)
    t.c(b"POST /upload/p.csv HTTP/1.1\r\nHost: h\r\nUser-Agent: curl/7.88.1\r\n"
        b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % len(body))
    t.s(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    t.c(body).close()
    con = _clients_run("early-response", cap.bytes())
    txn = con.execute("SELECT method, uri, status, req_body_len, (SELECT sha256 FROM object "
                      "WHERE id = req_object) FROM http_txn").fetchall()
    assert txn == [("POST", "/upload/p.csv", 201, len(body), hashlib.sha256(body).hexdigest())], txn
    kinds = [r[0] for r in con.execute("SELECT kind FROM anomaly")]
    assert "http.response_without_request" not in kinds, kinds


def _raw_objects(con):
    import hashlib
    return {r[0]: r[1:] for r in con.execute(
        "SELECT stream_dir, sha256, stream_off, complete, gap_map FROM object WHERE "
        "protocol = 'tcp'")}, hashlib.sha256


@test
def connect_tunnel_early_bytes_of_both_directions_at_their_own_offsets():
    """A client that does not wait for the proxy's answer to CONNECT (bytes sent before the
    200), and a proxy whose 200 carries the tunnel's first bytes in the same segment: each
    direction's early bytes go to the tunnel's decoder at that direction's own offset (they
    were handed on at the other direction's), nothing is parsed as HTTP, nothing is lost."""
    import pcapw
    req = b"CONNECT files.example:9000 HTTP/1.1\r\nHost: files.example:9000\r\n\r\n"
    resp = b"HTTP/1.1 200 Connection established\r\n\r\n"
    up = b"\x01\x02binary agent hello " + _clients_csv(40)
    down = b"\x7fAGENT-OK " + bytes(range(256)) * 8
    more = b"\x05 rest of the upload " + _clients_csv(5)
    cap = pcapw.Capture()
    t = cap.tcp("10.4.0.31", "198.51.100.40", 40900, 3128)
    t.c(req + up[:300])            # the request and the first early bytes in one segment
    t.c(up[300:])                  # more before the answer
    t.s(resp + down)               # the answer and the tunnel's first bytes together
    t.c(more).close()
    con = _clients_run("connect-early", cap.bytes())
    txn = con.execute("SELECT method, uri, status FROM http_txn").fetchall()
    assert txn == [("CONNECT", "files.example:9000", 200)], txn
    raw, sha = _raw_objects(con)
    assert raw.get("c2s") == (sha(up + more).hexdigest(), len(req), 1, "[]"), raw
    assert raw.get("s2c") == (sha(down).hexdigest(), len(resp), 1, "[]"), raw
    kinds = [r[0] for r in con.execute("SELECT kind FROM anomaly")]
    assert not [k for k in kinds if k.startswith("http.")], kinds


@test
def connect_refused_early_bytes_are_http_again():
    """The proxy refuses the CONNECT (407): what the client sent before the answer is its next
    request, read as HTTP."""
    import pcapw
    req = b"CONNECT files.example:9000 HTTP/1.1\r\nHost: files.example:9000\r\n\r\n"
    nxt = b"GET http://files.example/x HTTP/1.1\r\nHost: files.example\r\n\r\n"
    cap = pcapw.Capture()
    t = cap.tcp("10.4.0.32", "198.51.100.41", 40901, 3128)
    t.c(req + nxt)
    t.s(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    t.close()
    con = _clients_run("connect-refused", cap.bytes())
    txn = con.execute("SELECT method, uri, status FROM http_txn ORDER BY id").fetchall()
    assert txn == [("CONNECT", "files.example:9000", 407), ("GET", "http://files.example/x",
                                                            200)], txn


@test
def pop3_user_first_command_is_not_ftp():
    """A POP3 client opens with USER as an FTP client may, but a POP3 server greets "+OK" and
    an FTP server's every reply starts with three digits (RFC 959 §4.2): the stream is not
    FTP (no decoder for POP3: a raw stream, whole in both directions)."""
    import pcapw
    mail = b"From: a@b\r\nSubject: roster\r\n\r\n" + _clients_csv(20).replace(b"\n", b"\r\n")
    greet = b"+OK Dovecot ready.\r\n"
    cap = pcapw.Capture()
    t = cap.tcp("10.4.0.33", "198.51.100.42", 40902, 110)
    t.s(greet)
    t.c(b"USER alice\r\n").s(b"+OK\r\n")
    t.c(b"PASS secret\r\n").s(b"+OK Logged in.\r\n")
    t.c(b"RETR 1\r\n")
    down = b"+OK %d octets\r\n" % len(mail) + mail + b".\r\n"
    t.s(down)
    t.c(b"QUIT\r\n").s(b"+OK Logging out.\r\n").close()
    con = _clients_run("pop3-user", cap.bytes())
    apps = [r[0] for r in con.execute("SELECT app FROM flow")]
    assert apps == ["tcp"], apps
    assert con.execute("SELECT count(*) FROM ftp_transfer").fetchone()[0] == 0
    raw, sha = _raw_objects(con)
    whole = greet + b"+OK\r\n" + b"+OK Logged in.\r\n" + down + b"+OK Logging out.\r\n"
    assert raw.get("s2c") == (sha(whole).hexdigest(), 0, 1, "[]"), raw


def _smtp_message(att, disposition, subject):
    import base64
    return (b"From: Front Desk <frontdesk@clinic.example>\r\nTo: records@outside.example\r\n"
            b"Subject: " + subject + b"\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
            b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsiehe Anhang\r\n"
            b"--b1\r\nContent-Type: text/csv\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: " + disposition + b"\r\n\r\n" +
            base64.encodebytes(att) + b"--b1--\r\n")


@test
def lmtp_and_lower_case_banner_are_smtp_and_rfc2231_names_are_decoded():
    """An LMTP delivery (LHLO) to a server whose banner says "esmtp" in lower case, carrying
    an attachment named in RFC 2231 continuations with a charset and a Subject in RFC 2047
    encoded words: smtp_message counts the attachment, the object has the decoded name."""
    import hashlib
    import pcapw
    att = _clients_csv(15)
    disp = (b"attachment;\r\n filename*0*=UTF-8''%C3%9Cbersicht%20;\r\n"
            b" filename*1*=Patienten%20M%C3%A4rz;\r\n filename*2=\".csv\"")
    subj = b"=?UTF-8?B?QmVmdW5kZSBmw7xyIA==?=\r\n =?ISO-8859-1?Q?M=E4rz?="  # RFC 2047 §6.2
    msg = _smtp_message(att, disp, subj)
    for name, hello, banner in (("lmtp", b"LHLO", b"220 mx.outside.example lmtp ready\r\n"),
                                ("esmtp", b"ehlo", b"220 mx.outside.example esmtp\r\n"),
                                ("plain", b"HELO", b"220 mx.outside.example ready\r\n")):
        cmds = (hello + b" ws.clinic.example\r\nMAIL FROM:<frontdesk@clinic.example>\r\n"
                b"RCPT TO:<records@outside.example>\r\nDATA\r\n" + msg + b".\r\nQUIT\r\n")
        cap = pcapw.pcap([("10.4.0.11", "198.51.100.25", 40400, 24, cmds,
                           banner + b"250 ok\r\n" * 3 + b"354 go\r\n250 ok\r\n221 bye\r\n")],
                         server_first=True)
        con = _clients_run("smtp-" + name, cap)
        row = con.execute("SELECT helo, mail_from, rcpt_to, subject, attachments FROM "
                          "smtp_message").fetchall()
        assert row == [("ws.clinic.example", "frontdesk@clinic.example",
                        "records@outside.example", "Befunde f\u00fcr M\u00e4rz", 1)], (name, row)
        obj = con.execute("SELECT name, size, direction FROM object WHERE sha256 = ?",
                          (hashlib.sha256(att).hexdigest(),)).fetchall()
        assert obj == [("\u00dcbersicht Patienten M\u00e4rz.csv", len(att), "upload")], (name, obj)


@test
def mime_names_in_every_encoding_and_undecodable_ones_kept():
    """filename*= with ISO-8859-1, an encoded word in name=, the RFC 2231 form winning over a
    plain filename=, and a name whose bytes are not UTF-8 kept as it was sent."""
    import hashlib
    import pcapw
    att = _clients_csv(3)
    cases = [
        (b"attachment; filename*=iso-8859-1'de'M%FCller.csv", "M\u00fcller.csv"),
        (b"attachment; filename=\"=?UTF-8?B?w5xiZXJzaWNodC5jc3Y=?=\"", "\u00dcbersicht.csv"),
        (b"attachment; filename=\"old.csv\"; filename*=UTF-8''neu%20%E2%82%AC.csv",
         "neu \u20ac.csv"),
        (b"attachment; filename*=UTF-8''%FF%FE.csv", "UTF-8''%FF%FE.csv"),
    ]
    for i, (disp, want) in enumerate(cases):
        cmds = (b"EHLO ws\r\nMAIL FROM:<a@clinic.example>\r\nRCPT TO:<b@outside.example>\r\n"
                b"DATA\r\n" + _smtp_message(att, disp, b"x") + b".\r\nQUIT\r\n")
        cap = pcapw.pcap([("10.4.0.12", "198.51.100.26", 40500, 25, cmds,
                           b"220 mx ESMTP\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"
                           b"250 ok\r\n221 bye\r\n")], server_first=True)
        con = _clients_run("mime-name-%d" % i, cap)
        obj = con.execute("SELECT name FROM object WHERE sha256 = ?",
                          (hashlib.sha256(att).hexdigest(),)).fetchall()
        assert obj == [(want,)], (disp, obj)
        n = con.execute("SELECT attachments FROM smtp_message").fetchone()[0]
        assert n == 1, (disp, n)
    # the same names in an HTTP multipart upload and a Content-Disposition response
    b = b"XyZ"
    part = (b"--" + b + b"\r\nContent-Disposition: form-data; name=\"f\"; "
            b"filename*=UTF-8''%C3%9Cbersicht.csv\r\n\r\n" + att + b"\r\n--" + b + b"--\r\n")
    req = (b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=" + b +
           b"\r\nContent-Length: %d\r\n\r\n" % len(part) + part)
    resp = (b"HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename*=UTF-8''r%C3%BCck.csv"
            b"\r\nContent-Length: 2\r\n\r\nok")
    con = _clients_run("mime-http", pcapw.pcap([("10.4.0.13", "198.51.100.27", 40600, 80, req,
                                                 resp)]))
    names = sorted(r[0] for r in con.execute("SELECT name FROM object"))
    assert "\u00dcbersicht.csv" in names and "r\u00fcck.csv" in names, names


# Captures of every kind of TCP stream the corpus has: FTP, SMTP, HTTP, SMB, TLS, SSH, DICOM,
# IRC, SOCKS, syslog, truncated and damaged ones. Together they run in about 10 s.
GAP_CHECK_SET = None  # None: every capture in the corpus


@test
def corpus_raw_tcp_objects_have_only_the_capture_gaps():
    """No probe fallback leaves a gap the capture does not have: every raw `tcp` object's
    gap map, in stream coordinates (shifted by stream_off), equals the stream_gap rows of its
    flow and direction inside the object's extent. One run over every capture of the corpus."""
    import json
    caps = captures_in_corpus() if GAP_CHECK_SET is None else [corpus(r) for r in GAP_CHECK_SET]
    if not caps:
        raise Skip("no capture in ../shared/corpus")
    c = case("gapcheck")
    run("analyze", "-q", "--no-phi", *caps, "-o", c, check=0)
    con = db(c)
    gaps = {}
    for f, d, o, n in con.execute("SELECT flow_id, direction, offset, length FROM stream_gap"):
        gaps.setdefault((f, d), []).append((o, n))

    def merged(ranges):
        out = []
        for o, n in sorted(ranges):
            if out and out[-1][0] + out[-1][1] >= o:
                end = max(out[-1][0] + out[-1][1], o + n)
                out[-1] = (out[-1][0], end - out[-1][0])
            elif n > 0:
                out.append((o, n))
        return out

    checked, bad = 0, []
    for oid, f, d, off, size, gap_bytes, gap_map in con.execute(
            "SELECT id, flow_id, stream_dir, stream_off, size, gap_bytes, gap_map FROM object "
            "WHERE protocol = 'tcp' AND depth = 0"):
        checked += 1
        got = merged((o + off, n) for o, n in json.loads(gap_map))
        lo, hi = off, off + size + gap_bytes
        want = merged((max(o, lo), min(o + n, hi) - max(o, lo)) for o, n in gaps.get((f, d), [])
                      if o < hi and o + n > lo)
        if got != want:
            bad.append((oid, f, d, got[:3], want[:3]))
    assert checked > 100, checked
    assert not bad, "%d of %d raw objects: %s" % (len(bad), checked, bad[:5])
