# e2e_report.py - the report a compliance officer signs (issue 18, items 1-3): recipients by
# name, the roster of people to notify and `notify-list`, a report that prints. Run inside
# run_e2e.py's namespace (@test, run, case, db, Skip, SAMPLES, ROOT, TMP, ENV, BIN).
# Expected names and patients come from the sample generator (samples/gen/gen_samples.c),
# never from phitrace's output. Module names carry a _rep prefix or none that another e2e file
# defines: every file runs in one namespace.
import csv as _rep_csv
import hashlib as _hashlib
import json as _json
import re as _re
import stat as _stat

_GEN = os.path.join(ROOT, "samples", "gen", "gen_samples.c")

# What the generator's sessions name each outside destination by (gen_samples.c: the HTTP
# Host header, the DICOM called AE, the FTP greeting and USER, the SMTP RCPT TO, the SNI).
_NAMES = {
    "203.0.113.80": {("http_host", "files.example.net")},
    "198.51.100.104": {("dicom_called_ae", "EXTPACS")},
    "203.0.113.21": {("ftp_user", "export"), ("ftp_server", "ftp.partner.example ready")},
    "192.0.2.25": {("smtp_recipient", "records@outside.example")},
    "198.51.100.200": {("tls_sni", "upload.mega.nz")},
}


def _gen_patients():
    """The 18 synthetic patients of the generator: (first, last, street, city, state, zip)."""
    src = open(_GEN).read()
    body = src[src.index("pts[18] = {"):]
    body = body[:body.index("};")]
    rows = _re.findall(r'\{"([^"]+)", "([^"]+)", "\d+", "\d+", "\d+", "([^"]+)", "([^"]+)", '
                       r'"([A-Z]{2})", "(\d{5})"', body)
    assert len(rows) == 18, rows
    return rows


def _sample_case(name, *extra):
    c = case(name)
    run("analyze", "-q", "--home-net", "10.1.0.0/16", *extra, SAMPLES, "-o", c, check=0)
    return c


@test
def report_names_every_recipient_as_the_evidence_does():
    """Every outside destination of the samples is named as its session named it, in the
    database, report.json (arrays), report.txt and report.html; the generator's literal
    strings are in the evidence as given."""
    src = open(_GEN).read()
    for names in _NAMES.values():
        for _, n in names:
            assert n in src, n  # the expectations are the generator's own strings
    c = _sample_case("report-names")
    got = {}
    for d, k, n in db(c).execute("SELECT destination, kind, name FROM destination_name"):
        got.setdefault(d, set()).add((k, n))
    # 93.184.216.34 is the inside hosts' ordinary browsing (HTTP Host www.example.org)
    got.pop("93.184.216.34", None)
    assert got == _NAMES, got
    r = _json.load(open(os.path.join(c, "report.json")))
    dests = {d["destination"]: d for d in report_list(c, "destinations", r)}
    for d, names in _NAMES.items():
        assert {(x["kind"], x["name"]) for x in dests[d]["names"]} == names, dests[d]
        for _, n in names:
            assert n in dests[d]["named_by"], dests[d]
    assert dests["198.51.100.53"]["names"] == [], dests["198.51.100.53"]
    ev = {e["destination"]: e for e in report_list(c, "events", r)}
    assert ev["198.51.100.104"]["protocols"] == ["dicom"], ev["198.51.100.104"]
    assert isinstance(ev["203.0.113.80"]["phi_types"], list)
    assert "birth_date" in ev["203.0.113.80"]["phi_types"]
    assert ev["203.0.113.80"]["named_by"] == "HTTP Host files.example.net"
    rec = {x["destination"] for x in r["ocr_portal"]["recipients"]}
    assert rec == set(_NAMES), rec  # the confirmed and the likely destinations
    assert rec == {x["destination"] for x in r["hipaa_risk_assessment"]["recipients"]}
    txt = open(os.path.join(c, "report.txt")).read()
    html = open(os.path.join(c, "report.html")).read()
    statement = r["verdict"]["statement"]
    for d, names in _NAMES.items():
        for _, n in names:
            assert n in txt and n in html and n in statement, n
    # 8 destinations, 5 in the statement: the rest are counted, not dropped
    assert "and 3 more destination(s)" in statement, statement


@test
def report_lists_are_never_cut_silently():
    """A destination with more names of one kind than the label shows says how many more."""
    c = _sample_case("report-more")
    con = db(c)
    con.executemany("INSERT INTO destination_name VALUES ('192.0.2.25', 'smtp_recipient', ?, 1, 0)",
                    [("r%02d@outside.example" % i,) for i in range(11)])
    con.commit()
    label = con.execute("SELECT label FROM destination_label WHERE destination = '192.0.2.25'"
                        ).fetchone()[0]
    # 12 recipients (the real one and 11 added), 8 shown, and the 4 others counted
    assert label.startswith("mail to ") and label.endswith(" and 4 more"), label
    assert label.count("@outside.example") == 8, label


@test
def roster_lists_the_18_outbound_individuals():
    """The people to notify: the samples' 18 outbound individuals, each with a state, the
    identifier types, the events and destinations and the first time out, in the database,
    report.json, report.txt and report.html."""
    pts = _gen_patients()
    c = _sample_case("report-roster")
    con = db(c)
    rows = con.execute("SELECT individual, state, identifiers, events, destinations, first_out,"
                       " deceased FROM individual_roster").fetchall()
    assert len(rows) == 18 == len(pts), len(rows)
    est = con.execute("SELECT estimate FROM individuals WHERE scope = 'outbound'").fetchone()[0]
    assert est == 18
    states = {}
    for p in pts:
        states[p[4]] = states.get(p[4], 0) + 1
    got = {}
    for _, st, ids, events, dests, first, dead in rows:
        got[st] = got.get(st, 0) + 1
        assert events and dests and first and dead == 0, (st, events, dests)
        assert "ssn" in ids.split(","), ids
        for d in dests.split(","):
            assert d in _NAMES, d  # only destinations that received PHI
    assert got == states, (got, states)
    r = _json.load(open(os.path.join(c, "report.json")))
    roster = report_list(c, "roster", r)
    assert len(roster) == 18
    assert all(isinstance(x["events"], list) and x["events"] and
               isinstance(x["identifiers"], list) for x in roster), roster[0]
    html = open(os.path.join(c, "report.html")).read()
    sec = html[html.index("The people to notify"):]
    sec = sec[:sec.index("</table>")]
    assert sec.count("<tr>") == 19, sec.count("<tr>")  # header and 18 rows
    txt = open(os.path.join(c, "report.txt")).read()
    sec = txt[txt.index("People to notify"):txt.index("Limitations:")]
    assert len(_re.findall(r"^  #\d+ ", sec, _re.M)) == 18, sec


@test
def notify_list_refuses_a_case_without_keep_phi():
    c = _sample_case("notify-masked")
    out = os.path.join(TMP, "notify-masked.csv")
    p = run("notify-list", c, "-o", out, check=1)
    assert "--keep-phi" in p.stderr and "phitrace analyze" in p.stderr, p.stderr
    assert not os.path.exists(out)
    actions = [a for (a,) in db(c).execute("SELECT action FROM audit_log")]
    assert "notify_list_written" not in actions
    run("notify-list", c, check=1)  # usage


@test
def notify_list_writes_0600_and_is_in_the_audit_chain():
    """With --keep-phi: every generator patient once, by ZIP code and state, named as the
    generator names them; the file is 0600 under umask 000, never written over, and its
    hash is in the audit chain, which verify accepts."""
    pts = _gen_patients()
    c = _sample_case("notify-full", "--keep-phi")
    out = os.path.join(TMP, "notify-full.csv")
    if os.path.exists(out):
        os.unlink(out)
    p = subprocess.run([BIN, "notify-list", c, "-o", out], capture_output=True, text=True,
                       env=ENV, preexec_fn=lambda: os.umask(0), timeout=300)
    assert p.returncode == 0, p.stderr
    assert _stat.S_IMODE(os.stat(out).st_mode) == 0o600, oct(os.stat(out).st_mode)
    rows = list(_rep_csv.DictReader(open(out, newline="")))
    assert len(rows) == 18, len(rows)
    by_zip = {z: (f, l, street, st) for f, l, street, _, st, z in pts}
    assert {r["zip"] for r in rows} == set(by_zip), sorted(r["zip"] for r in rows)
    named = 0
    for r in rows:
        f, l, street, st = by_zip[r["zip"]]
        assert r["state"] == st and r["address"].upper().startswith(street.upper()), r
        assert r["events"] and r["destinations"], r
        if r["name"]:
            assert r["name"] == ("%s %s" % (f, l)).upper(), r
            named += 1
    assert named >= 16, named  # two patients leave only in a CSV without name columns
    data = open(out, "rb").read()
    last = db(c).execute("SELECT action, detail FROM audit_log ORDER BY seq DESC LIMIT 1"
                         ).fetchone()
    assert last[0] == "notify_list_written", last
    assert "sha256=" + _hashlib.sha256(data).hexdigest() in last[1], last
    assert "rows=18" in last[1] and os.path.realpath(out) in last[1], last
    v = run("verify", c, check=0)
    assert "1 custody record(s) after the run" in v.stdout, v.stdout
    p = run("notify-list", c, "-o", out, check=1)  # never over an existing file
    assert "exists" in p.stderr and open(out, "rb").read() == data
    # no list from a case that is not whole (here: summary.txt, the run's last step, missing)
    torn = os.path.join(TMP, "notify-torn")
    shutil.rmtree(torn, ignore_errors=True)
    shutil.copytree(c, torn)
    os.unlink(os.path.join(torn, "summary.txt"))
    p = run("notify-list", torn, "-o", out + ".torn", check=2)
    assert "incomplete" in p.stderr and not os.path.exists(out + ".torn"), p.stderr
    # a row added after the seal that is not such a record still breaks verify
    con = db(c)
    con.execute("INSERT INTO audit_log VALUES ((SELECT max(seq) + 1 FROM audit_log), 'x', 'x',"
                " 'other_action', '', '', '')")
    con.commit()
    run("verify", c, check=2)


@test
def report_case_identity_order_and_words():
    """--case-id, --examiner and --org are in the manifest and every report header; events
    come by verdict then time; format YARA rules are information; OCR dates are the first
    and last PHI transfer, not the capture window; keys are shown in words."""
    c = _sample_case("report-ident", "--case-id", "IR-2026-0042", "--examiner", "J. Doe",
                     "--org", "Example <Health> & Co")
    man = dict(db(c).execute("SELECT key, value FROM run_manifest"))
    assert (man["case_id"], man["examiner"], man["organisation"]) == \
        ("IR-2026-0042", "J. Doe", "Example <Health> & Co")
    r = _json.load(open(os.path.join(c, "report.json")))
    assert r["case"]["case_id"] == "IR-2026-0042" and r["case"]["examiner"] == "J. Doe"
    assert r["schema_version"] == 3
    html = open(os.path.join(c, "report.html")).read()
    assert "Example &lt;Health&gt; &amp; Co" in html and "<Health>" not in html
    assert "IR-2026-0042" in open(os.path.join(c, "report.txt")).read()
    rank = {"confirmed": 0, "likely": 1, "possible": 2}
    keys = [(rank[e["verdict"]], e["first"]) for e in report_list(c, "events", r)]
    assert keys == sorted(keys), keys
    # each matched rule described once (yara_rules), each match naming its rule only
    sev = {y["rule"]: y["severity"] for y in r["yara_rules"]}
    assert sev["DICOM_Part10"] == "info" and sev["HL7_v2_Message"] == "info", sev
    matches = report_list(c, "yara_matches", r)
    assert {tuple(sorted(m)) for m in matches} == {("name", "namespace", "rule", "sha256")}, \
        matches[:2]
    per_rule = {}
    for m in matches:
        per_rule[(m["rule"], m["namespace"])] = per_rule.get((m["rule"], m["namespace"]), 0) + 1
    assert per_rule == {(y["rule"], y["namespace"]): y["matches"] for y in r["yara_rules"]}, \
        (per_rule, r["yara_rules"])
    ocr = r["ocr_portal"]
    # the HTTP upload of the CSV is the first PHI out, the SMTP attachment the last
    # (gen_samples.c: 10:13:50 and 10:15:20); the capture runs 10:00:00 to 10:15:50
    assert (ocr["breach_start_date"], ocr["breach_end_date"]) == \
        ("2026-01-01T10:13:50Z", "2026-01-01T10:15:20Z"), ocr
    assert r["time_window"]["first"] != ocr["breach_start_date"]
    assert "date of birth" in html and "Social Security number" in html
    assert "<th>bytes out</th>" in html and "<th>bytes_out</th>" not in html


@test
def report_pdf_prints_every_events_column():
    """report.html printed by headless Chromium: every column header of the events table is
    in the PDF's text, pages are numbered under a running header with the case id, and the
    browser's own header and footer (the file's path) are not printed."""
    if shutil.which("chromium") is None:
        raise Skip("chromium is not installed (make deps installs it)")
    if shutil.which("pdftotext") is None:
        raise Skip("pdftotext is not installed (poppler-utils; make deps installs it)")
    c = _sample_case("report-pdf", "--case-id", "IR-PDF-7")
    html = open(os.path.join(c, "report.html")).read()
    table = html[html.index("<h3>Exfiltration events</h3>"):]
    table = table[:table.index("</thead>")]
    heads = [_re.sub(r"\s+", " ", h) for h in _re.findall(r"<th>([^<]*)</th>", table)]
    assert len(heads) == 12 and "named in the evidence by" in heads, heads
    pdf = os.path.join(TMP, "report-pdf.pdf")
    if os.path.exists(pdf):
        os.unlink(pdf)
    p = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", "--disable-extensions", "--print-to-pdf=" + pdf,
                        "file://" + os.path.join(c, "report.html")],
                       capture_output=True, text=True, timeout=180)
    assert os.path.exists(pdf), p.stderr[-2000:]
    text = subprocess.run(["pdftotext", "-raw", pdf, "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = _re.sub(r"\s+", " ", text)
    sec = flat[flat.index("Exfiltration events"):flat.index("Heuristic findings")]
    for h in heads:
        assert h in sec, (h, sec[:600])
    pages = int(_re.search(r"Page 1 of (\d+)", flat).group(1))
    assert pages > 1 and flat.count("Page ") >= pages, pages
    assert flat.count("phitrace breach analysis report - case IR-PDF-7") == pages
    # (the case directory itself is in the custody records: the browser's footer would show
    # the page's URL, file://.../report.html)
    for leak in ("file://", "report.html"):
        assert leak not in flat, (leak, flat[max(0, flat.find(leak) - 300):flat.find(leak) + 100])
    # every event row is printed: each event's destination is in the table's text
    for e in report_list(c, "events"):
        assert e["destination"] in sec, e["destination"]


@test
def report_tables_fit_the_window_at_1400_and_900_px():
    """In headless Chromium at 1400 and 900 px wide, no table of report.html reaches past the
    page's content box (no cut column). The report forbids scripts, so a copy without its
    Content-Security-Policy gets a probe that measures every table."""
    if shutil.which("chromium") is None:
        raise Skip("chromium is not installed (make deps installs it)")
    c = _sample_case("report-width", "--case-id", "IR-WIDTH", "--org", "Example Health")
    page = open(os.path.join(c, "report.html")).read()
    page = _re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    probe = ("<script>var o=[],m=document.querySelector('main').getBoundingClientRect();"
             "document.querySelectorAll('table').forEach(function(t,i){var r=t.getBoundingClientRe"
             "ct();if(r.right>m.right+0.5||t.scrollWidth>t.clientWidth+1)o.push(i+':'+(t.previousE"
             "lementSibling||{}).textContent+':'+r.right+'>'+m.right)});document.body.setAttribute("
             "'data-tables',document.querySelectorAll('table').length);document.body.setAttribute"
             "('data-over',o.join('|')||'none')</script></body>")
    path = os.path.join(TMP, "report-width-probe.html")
    with open(path, "w") as f:
        f.write(page.replace("</body>", probe))
    for width in (1400, 900):
        p = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                            "--no-first-run", "--window-size=%d,2000" % width, "--dump-dom",
                            "file://" + path], capture_output=True, text=True, timeout=180)
        tables = _re.search(r'data-tables="(\d+)"', p.stdout)
        assert tables and int(tables.group(1)) >= 10, (width, p.stdout[-500:])
        over = _re.search(r'data-over="([^"]*)"', p.stdout).group(1)
        assert over == "none", (width, over)


_MMDB_WRITER = r'''
use strict; use warnings;
use MaxMind::DB::Writer::Tree;
my %types = (country => 'map', iso_code => 'utf8_string', names => 'map', en => 'utf8_string',
             autonomous_system_number => 'uint32', autonomous_system_organization => 'utf8_string');
my $tree = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 24,
    database_type => 'phitrace-test-geo', languages => ['en'], description => {en => 'test'},
    remove_reserved_networks => 0, map_key_type_callback => sub { $types{$_[0]} });
$tree->insert_network('198.51.100.0/24', {country => {iso_code => 'NZ', names => {en => 'New Zealand'}},
    autonomous_system_number => 64500, autonomous_system_organization => 'Example Transit'});
$tree->insert_network('203.0.113.0/25', {country => {iso_code => 'IS', names => {en => 'Iceland'}}});
open my $fh, '>:raw', $ARGV[0] or die; $tree->write_tree($fh); close $fh;
'''


@test
def geoip_names_country_and_network_from_a_supplied_mmdb():
    """--geoip FILE.mmdb (a database built here with Debian's MaxMind::DB::Writer): each
    destination the database knows gets its country and network, in the labels and the
    reports; the manifest records the file, its SHA-256, type and build time; a file that is
    not a MaxMind database is refused before the run."""
    if subprocess.run(["perl", "-MMaxMind::DB::Writer::Tree", "-e", "1"],
                      capture_output=True).returncode != 0:
        raise Skip("MaxMind::DB::Writer is not installed (libmaxmind-db-writer-perl; make deps)")
    mmdb = os.path.join(TMP, "geo-test.mmdb")
    script = os.path.join(TMP, "geo-writer.pl")
    with open(script, "w") as f:
        f.write(_MMDB_WRITER)
    subprocess.run(["perl", script, mmdb], check=True)
    c = _sample_case("report-geoip", "--geoip", mmdb)
    con = db(c)
    got = {(d, k, n) for d, k, n in con.execute(
        "SELECT destination, kind, name FROM destination_name WHERE kind LIKE 'geoip%'")}
    want = set()
    for d in ("198.51.100.104", "198.51.100.200", "198.51.100.53", "198.51.100.7"):
        want |= {(d, "geoip_country", "NZ New Zealand"), (d, "geoip_asn", "AS64500 Example Transit")}
    for d in ("203.0.113.21", "203.0.113.80"):  # in 203.0.113.0/25, no network data
        want.add((d, "geoip_country", "IS Iceland"))
    assert got == want, got ^ want  # 192.0.2.25 and the tunnel's domain: not in it
    man = dict(con.execute("SELECT key, value FROM run_manifest WHERE key LIKE 'geoip%'"))
    assert man["geoip_file"] == os.path.realpath(mmdb)
    assert man["geoip_sha256"] == _hashlib.sha256(open(mmdb, "rb").read()).hexdigest()
    assert man["geoip_database_type"] == "phitrace-test-geo" and man["geoip_build_utc"]
    r = _json.load(open(os.path.join(c, "report.json")))
    dests = {d["destination"]: d for d in report_list(c, "destinations", r)}
    assert dests["198.51.100.104"]["named_by"] == ("DICOM called AE EXTPACS; country NZ New "
                                                   "Zealand; network AS64500 Example Transit")
    assert "country" not in dests["192.0.2.25"]["named_by"]
    run("verify", c, check=0)
    bad = os.path.join(TMP, "not-a.mmdb")
    with open(bad, "wb") as f:
        f.write(b"\0" * 4096)
    p = run("analyze", "-q", "--geoip", bad, SAMPLES, "-o", case("report-geoip-bad"), check=1)
    assert "--geoip" in p.stderr and not os.path.exists(case("report-geoip-bad")), p.stderr


@test
def notify_list_csv_quotes_and_disarms_formulas():
    """The mailing list is RFC 4180 (a quote doubled, a comma quoted) and a value a
    spreadsheet would run as a formula (= + - @ first) starts with an apostrophe; "FAMILY^
    GIVEN" and column names come out as "GIVEN FAMILY". The rows are the test's own."""
    import pcapw
    rows = ["mrn,last_name,first_name,dob,ssn,address,zip,diagnosis",
            '4200001,SMITH,ANN,1970-01-02,123-45-6789,=1+1 MAIN ST,02118,E11.9',
            '4200002,"O""NEIL",BOB,1971-02-03,234-56-7890,+2 ELM ST,60614,I10',
            '4200003,DOE,CAT,1972-02-03,345-67-8901,"@3 OAK ST, APT 4",60614,I10',
            '4200004,ROE,DAN,1973-02-03,456-78-9012,-4 OAK ST,60614,I10']
    body = ("\n".join(rows) + "\n").encode()
    b = "----phitraceB"
    part = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n" % b).encode() + body + ("\r\n--%s--\r\n" % b).encode()
    head = ("POST /upload HTTP/1.1\r\nHost: files.example.net\r\nContent-Type: multipart/form-"
            "data; boundary=%s\r\nContent-Length: %d\r\n\r\n" % (b, len(part))).encode()
    cap = os.path.join(TMP, "notify-quote.pcap")
    with open(cap, "wb") as f:
        f.write(pcapw.pcap([("10.1.1.5", "203.0.113.9", 40001, 80, head + part,
                             b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]))
    c = case("notify-quote")
    run("analyze", "-q", "--keep-phi", "--home-net", "10.0.0.0/8", cap, "-o", c, check=0)
    out = os.path.join(TMP, "notify-quote.csv")
    if os.path.exists(out):
        os.unlink(out)
    run("notify-list", c, "-o", out, check=0)
    raw = open(out, newline="").read()
    assert '"BOB O""NEIL"' in raw and "\"'@3 OAK ST, APT 4\"" in raw, raw
    got = {r["name"]: (r["address"], r["zip"], r["state"])
           for r in _rep_csv.DictReader(open(out, newline=""))}
    assert got == {"ANN SMITH": ("'=1+1 MAIN ST", "02118", "MA"),
                   "BOB O\"NEIL": ("'+2 ELM ST", "60614", "IL"),
                   "CAT DOE": ("'@3 OAK ST, APT 4", "60614", "IL"),
                   "DAN ROE": ("'-4 OAK ST", "60614", "IL")}, got


def _rep_dns_frame(src, dst, sport, dport, payload):
    import socket
    import struct
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + udp


def _rep_dns_answer(qid, name, addr):
    import socket
    import struct
    qname = b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + qname + struct.pack(">HH", 1, 1) + \
        b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)


@test
def dns_answers_name_the_destination_they_resolved():
    """A name whose A answer in the evidence is a destination's address names it (here
    beside the HTTP Host); a name resolved to an address nobody contacted names nothing."""
    import pcapw
    dns = os.path.join(TMP, "names-dns.pcap")
    write_pcap(dns, [(1699999990000000, _rep_dns_frame(
                        "10.0.0.53", "10.1.1.5", 53, 50001,
                        _rep_dns_answer(7, "uploads.partner-cloud.example", "203.0.113.9"))),
                     (1699999991000000, _rep_dns_frame(
                        "10.0.0.53", "10.1.1.5", 53, 50002,
                        _rep_dns_answer(8, "unused.partner-cloud.example", "203.0.113.77")))])
    up = os.path.join(TMP, "names-up.pcap")
    with open(up, "wb") as f:
        f.write(pcapw.pcap([("10.1.1.5", "203.0.113.9", 40001, 80,
                             b"POST /u HTTP/1.1\r\nHost: files.example.net\r\nContent-Length: 5"
                             b"\r\n\r\nhello", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]))
    c = case("names-dns")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", dns, up, "-o", c, check=0)
    got = set(db(c).execute("SELECT destination, kind, name FROM destination_name"))
    assert got == {("203.0.113.9", "dns_name", "uploads.partner-cloud.example"),
                   ("203.0.113.9", "http_host", "files.example.net")}, got
    label = db(c).execute("SELECT label FROM destination_label").fetchall()
    assert label == [("HTTP Host files.example.net; DNS name uploads.partner-cloud.example",)], \
        label


@test
def report_schema_names_every_heuristic():
    # The report schema's enum of heuristic names is the heuristics table's (heuristics.def),
    # so a new heuristic cannot make valid reports fail validation, nor a removed one linger.
    with open(os.path.join(ROOT, "analyzer", "verdict", "heuristics.def")) as f:
        defined = _re.findall(r'^PT_HEURISTIC\(\w+, "([a-z_0-9]+)"', f.read(), _re.M)
    with open(REPORT_SCHEMA) as f:
        schema = _json.load(f)
    enums = []

    def walk(node):
        if isinstance(node, dict):
            if "heuristic" in node.get("properties", {}):
                e = node["properties"]["heuristic"].get("enum")
                if e is not None:
                    enums.append(e)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(schema)
    assert defined and enums, (defined, enums)
    for e in enums:
        assert sorted(e) == sorted(defined), (sorted(set(defined) ^ set(e)))
