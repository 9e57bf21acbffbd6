# e2e_export.py - issue 18 item 4, exports for pipelines: `phitrace export` in NDJSON, CSV,
# Timesketch JSONL and l2t_csv against the JSON Schemas in reports/schema (every row of the
# samples case, rows in == rows out, values equal to the database), Community ID against
# tshark's, hostile evidence strings escaped, files 0600, no raw PHI, and
# `analyze --progress=json`. Loaded by run_e2e.py into its namespace (@test, run, case, db).
import csv as _ex_csv
import datetime as _ex_dt
import json as _ex_json
import struct as _ex_struct

_EX_TABLES = {"events": ("exfil_event", "first_ts"), "findings": ("finding", "first_ts"),
              "objects": ("object", "ts"), "flows": ("flow", "first_ts"),
              "individuals": ("patient_entity", None), "timeline": ("timeline_event", "ts")}
_EX_JSON = {"events": {"reasons"}, "findings": {"detail", "evidence"}, "objects": {"gap_map"}}
_EX_L2T = ["date", "time", "timezone", "MACB", "source", "sourcetype", "type", "user", "host",
           "short", "desc", "version", "filename", "inode", "notes", "format", "extra"]


def _ex_run(*args, check=0):
    """The binary under umask 0: every file it creates must still be private."""
    p = subprocess.run([BIN] + list(args), capture_output=True, env=ENV, timeout=600,
                       preexec_fn=lambda: os.umask(0))
    err = p.stderr.decode("utf-8", "replace")
    for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        assert marker not in err, "sanitizer report:\n" + err[-3000:]
    assert p.returncode == check, "exit %d, want %d: %s" % (p.returncode, check, err[-2000:])
    return p


def _ex_schema(name):
    with open(os.path.join(ROOT, "reports", "schema", "export-%s-v1.schema.json" % name)) as f:
        return _ex_json.load(f)


def _ex_validator(name):
    try:
        import jsonschema
    except ImportError:
        raise Skip("python3-jsonschema is not installed (make deps installs it)")
    return jsonschema.Draft202012Validator(_ex_schema(name))


def _ex_rows(c, kind):
    """The table's rows by id, text as bytes (the evidence may hold bytes that are not UTF-8)."""
    con = db(c)
    con.text_factory = bytes
    cur = con.execute("SELECT * FROM %s ORDER BY id" % _EX_TABLES[kind][0])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur]


def _ex_timed(c, kind):
    table, tcol = _EX_TABLES[kind]
    return db(c).execute("SELECT count(*) FROM %s WHERE %s IS NOT NULL" % (table, tcol)
                         ).fetchone()[0]


def _ex_iso(us):
    t = _ex_dt.datetime(1970, 1, 1, tzinfo=_ex_dt.timezone.utc) + _ex_dt.timedelta(microseconds=us)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ex_text(raw, mode):
    """What the CSV ("csv") or l2t_csv ("l2t") export must show for these database bytes: an
    implementation of README's rules written apart from export.c."""
    s = raw.decode("utf-8", "replace")
    out = []
    for ch in s:
        o = ord(ch)
        if o < 0x20 and (mode == "l2t" or ch not in "\t\r\n"):
            out.append(chr(0x2400 + o))
        elif o == 0x7f:
            out.append("\u2421")
        elif mode == "l2t" and ch == ",":
            out.append(" ")
        elif mode == "l2t" and ch == '"':
            out.append("'")
        else:
            out.append(ch)
    t = "".join(out)
    if len(s) > 1 and s[0] in "=+-@\t\r":
        t = "'" + t
    return t


def _ex_check_ndjson(c, kind, path):
    """Every row once, in id order, each valid against its schema and equal to the database."""
    raw = open(path, "rb").read()
    lines = raw.decode("utf-8").split("\n")  # strict UTF-8
    assert lines[-1] == "", "no final newline"
    recs = [_ex_json.loads(x) for x in lines[:-1]]
    rows = _ex_rows(c, kind)
    assert len(recs) == len(rows), (kind, len(recs), len(rows))
    v = _ex_validator(kind)
    for rec, row in zip(recs, rows):
        v.validate(rec)
        for k, val in row.items():
            if k in _EX_JSON.get(kind, ()):
                want = _ex_json.loads(val.decode("utf-8", "replace")) if val is not None else None
                assert rec[k] == want, (kind, k)
            elif isinstance(val, bytes):
                try:
                    assert rec[k] == val.decode("utf-8"), (kind, k, rec[k], val)
                    assert k + "_hex" not in rec, (kind, k)
                except UnicodeDecodeError:
                    assert bytes.fromhex(rec[k + "_hex"]) == val and "\ufffd" in rec[k], (kind, k)
            else:
                assert rec[k] == val, (kind, k, rec[k], val)
            if k == "ts" or k.endswith("_ts"):
                assert rec[k + "_iso"] == (_ex_iso(val) if val is not None else None), (kind, k)
    return recs


def _ex_check_csv(c, kind, path):
    """RFC 4180 as Python's csv module reads it: the schema's columns, every row, equal values."""
    with open(path, newline="", encoding="utf-8") as f:
        table = list(_ex_csv.reader(f))
    schema = _ex_schema(kind)
    assert table[0] == schema["x-columns"], (kind, table[0])
    rows = _ex_rows(c, kind)
    assert len(table) - 1 == len(rows), (kind, len(table) - 1, len(rows))
    v = _ex_validator(kind)
    for cells, row in zip(table[1:], rows):
        assert len(cells) == len(table[0])
        rec = dict(zip(table[0], cells))
        for k, val in row.items():
            if val is None:
                assert rec[k] == "", (kind, k, rec[k])
            elif k in _EX_JSON.get(kind, ()):
                assert _ex_json.loads(rec[k]) == _ex_json.loads(val.decode("utf-8", "replace")), \
                    (kind, k)
            elif isinstance(val, bytes):
                assert rec[k] == _ex_text(val, "csv"), (kind, k, rec[k], val)
            elif isinstance(val, float):
                assert float(rec[k]) == val, (kind, k)
            else:
                assert rec[k] == str(val), (kind, k, rec[k], val)
        # typed by the schema, the row is what the NDJSON line is (less the _hex fields)
        typed = {}
        for k, cell in rec.items():
            t = schema["properties"][k].get("type", "")
            kinds_ = t if isinstance(t, list) else [t]
            if cell == "" and ("null" in kinds_ or None in schema["properties"][k].get("enum", [0])):
                typed[k] = None
            elif "integer" in kinds_ or "enum" in schema["properties"][k] and cell.isdigit():
                typed[k] = int(cell)
            elif "number" in kinds_:
                typed[k] = float(cell)
            elif "object" in kinds_ or "array" in kinds_:
                typed[k] = _ex_json.loads(cell)
            else:
                typed[k] = cell
        v.validate(typed)
    return table


def _ex_check_timesketch(c, path, kinds):
    raw = open(path, "rb").read()
    lines = raw.decode("utf-8").split("\n")
    assert lines[-1] == ""
    v = _ex_validator("timesketch")
    recs = [_ex_json.loads(x) for x in lines[:-1]]
    want = sum(_ex_timed(c, k) for k in kinds)
    assert len(recs) == want, (len(recs), want)
    last = None
    for r in recs:
        v.validate(r)
        for k in ("message", "datetime", "timestamp_desc"):  # Timesketch's required fields
            assert isinstance(r[k], str) and r[k], (k, r)
        t = _ex_dt.datetime.fromisoformat(r["datetime"])
        assert t.utcoffset() == _ex_dt.timedelta(0)
        assert round(t.timestamp() * 1e6) == r["timestamp"], r
        assert last is None or r["timestamp"] >= last, "not in time order"
        last = r["timestamp"]
    by_type = {}
    for r in recs:
        by_type.setdefault(r["data_type"].split(":")[1], 0)
        by_type[r["data_type"].split(":")[1]] += 1
    for k, dt in (("events", "event"), ("objects", "object"), ("flows", "flow")):
        if k in kinds:  # the timeline's own rows of that data type come too
            also = db(c).execute("SELECT count(*) FROM timeline_event WHERE data_type = ? AND "
                                 "ts IS NOT NULL", ("phitrace:" + dt,)).fetchone()[0]
            assert by_type.get(dt, 0) == _ex_timed(c, k) + also, (k, by_type, also)
    return recs


def _ex_check_l2t(c, path, kinds):
    raw = open(path, "rb").read()
    text = raw.decode("utf-8")
    assert not any(ord(ch) < 0x20 and ch != "\n" for ch in text), "a control byte in l2t_csv"
    lines = text.split("\n")
    assert lines[-1] == "" and lines[0] == ",".join(_EX_L2T), lines[0]
    for line in lines[1:-1]:
        assert len(line.split(",")) == 17, line  # plain splitting, as log2timeline readers do
    with open(path, newline="", encoding="utf-8") as f:
        table = list(_ex_csv.reader(f))
    assert all(len(r) == 17 for r in table), [r for r in table if len(r) != 17][:1]
    assert len(table) - 1 == sum(_ex_timed(c, k) for k in kinds)
    v = _ex_validator("l2tcsv")
    for r in table[1:]:
        v.validate(dict(zip(_EX_L2T, r)))
    return table


def _ex_mode(path):
    return oct(os.stat(path).st_mode & 0o777)


@test
def export_samples_every_format_against_its_schema():
    """The samples case (analyzed with --keep-phi) exported in the four formats under umask 0:
    every export validates against its schema, rows in == rows out for each table, values equal
    the database, files 0600 in a 0700 directory, and no raw identifier of phi_value (which
    only --keep-phi fills) appears in any export."""
    c = case("export-samples")
    run("analyze", "-q", "--keep-phi", "--home-net", "10.1.0.0/16", SAMPLES, "-o", c, check=0)
    out = os.path.join(TMP, "export-samples-out")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    _ex_run("export", c, "--format", "ndjson", "-o", out + "/nd")
    _ex_run("export", c, "--format", "csv", "-o", out + "/csv")
    _ex_run("export", c, "--format", "timesketch", "-o", out + "/ts.jsonl")
    _ex_run("export", c, "--format", "l2tcsv", "-o", out + "/l2t.csv")
    assert _ex_mode(out + "/nd") == "0o700" and _ex_mode(out + "/csv") == "0o700"
    files = [out + "/ts.jsonl", out + "/l2t.csv"]
    for kind in _EX_TABLES:
        files += [out + "/nd/%s.ndjson" % kind, out + "/csv/%s.csv" % kind]
        recs = _ex_check_ndjson(c, kind, out + "/nd/%s.ndjson" % kind)
        _ex_check_csv(c, kind, out + "/csv/%s.csv" % kind)
        assert recs, kind  # the samples have rows of every kind
    for f in files:
        assert _ex_mode(f) == "0o600", (f, _ex_mode(f))
    assert sorted(os.listdir(out + "/nd")) == sorted(k + ".ndjson" for k in _EX_TABLES)
    timed = [k for k in _EX_TABLES if _EX_TABLES[k][1]]
    _ex_check_timesketch(c, out + "/ts.jsonl", timed)
    _ex_check_l2t(c, out + "/l2t.csv", timed)
    # Community ID on every flow with ports, and an object carries its flow's
    flows = {r["id"]: r for r in _ex_check_ndjson(c, "flows", out + "/nd/flows.ndjson")}
    assert all(f["community_id"] for f in flows.values() if f["ports_known"]), flows
    for o in _ex_check_ndjson(c, "objects", out + "/nd/objects.ndjson"):
        want = flows[o["flow_id"]]["community_id"] if o["flow_id"] is not None else None
        assert o["community_id"] == want, o
    # no raw PHI: names, addresses, SSNs and phones of phi_value, as whole words
    blob = b"".join(open(f, "rb").read() for f in files).decode("utf-8")
    values = db(c).execute("SELECT type, value FROM phi_value WHERE type IN "
                           "('name', 'address', 'ssn', 'phone')").fetchall()
    assert len(values) > 40, values
    for typ, val in values:
        forms = [val] + ([val[:3] + "-" + val[3:5] + "-" + val[5:]] if typ == "ssn" else [])
        forms += [p for p in val.split("^") if len(p) >= 5] if typ == "name" else []
        for form in forms:
            assert not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(form), blob), (typ, form)


@test
def export_one_kind_to_stdout_and_usage():
    """One kind goes to stdout; several need a directory; individuals have no time, so no
    timeline format takes them; an existing output file is replaced by a 0600 one; an
    incomplete case is refused and nothing is written."""
    c = case("export-usage")
    run("analyze", "-q", "--home-net", "10.1.0.0/16", SAMPLES, "-o", c, check=0)
    p = _ex_run("export", c, "--format", "csv", "--what", "findings")
    n = db(c).execute("SELECT count(*) FROM finding").fetchone()[0]
    assert p.stdout.count(b"\r\n") == n + 1, p.stdout[:300]
    _ex_run("export", c, "--format", "ndjson", check=1)
    _ex_run("export", c, "--format", "timesketch", "--what", "individuals", check=1)
    _ex_run("export", c, "--format", "xml", "--what", "flows", check=1)
    _ex_run("export", c, "--format", "csv", "--what", "flows,nothing", check=1)
    _ex_run("export", "--format", "csv", check=1)
    _ex_run("export", c, "--format", "csv", "--what", "flows", "--community-id-seed", "65536",
            check=1)
    f = os.path.join(TMP, "export-usage.ndjson")
    with open(f, "w") as fh:
        fh.write("stale\n")
    os.chmod(f, 0o644)
    _ex_run("export", c, "--format", "ndjson", "--what", "flows", "-o", f)
    assert _ex_mode(f) == "0o600" and "stale" not in open(f).read()
    # seed 1 changes every identifier (the spec's seeded vectors are in test_communityid)
    a = [_ex_json.loads(x)["community_id"] for x in open(f)]
    _ex_run("export", c, "--format", "ndjson", "--what", "flows", "-o", f,
            "--community-id-seed", "1")
    b = [_ex_json.loads(x)["community_id"] for x in open(f)]
    assert len(a) == len(b) and all(x != y for x, y in zip(a, b) if x), (a[:2], b[:2])
    os.unlink(os.path.join(c, "summary.txt"))
    g = os.path.join(TMP, "export-usage-incomplete.csv")
    p = _ex_run("export", c, "--format", "csv", "--what", "flows", "-o", g, check=2)
    assert b"incomplete" in p.stderr and not os.path.exists(g)
    assert not [x for x in os.listdir(TMP) if x.startswith("export-usage-incomplete")]


# ---- packets beyond pcapw's TCP: ICMP and ICMPv6 echoes, UDP over IPv6 -------------------------

def _ex_v6(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def _ex_frames(start):
    eth4 = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00"
    eth6 = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x86\xdd"

    def ip4(src, dst, proto, payload):
        h = _ex_struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 7, 0, 64, proto, 0,
                            bytes(int(x) for x in src.split(".")),
                            bytes(int(x) for x in dst.split(".")))
        import pcapw
        return eth4 + h[:10] + _ex_struct.pack("!H", pcapw._csum(h)) + h[12:] + payload

    def ip6(src, dst, nxt, payload):
        return eth6 + _ex_struct.pack("!IHBB16s16s", 6 << 28, len(payload), nxt, 64, _ex_v6(src),
                                      _ex_v6(dst)) + payload

    def icmp(t, ident, seq, data):
        return _ex_struct.pack("!BBHHH", t, 0, 0, ident, seq) + data

    frames = []
    for i in range(3):  # ping 10.1.1.20 -> 203.0.113.9 and its replies
        frames.append(ip4("10.1.1.20", "203.0.113.9", 1, icmp(8, 0x77, i, b"abcdefgh" * 4)))
        frames.append(ip4("203.0.113.9", "10.1.1.20", 1, icmp(0, 0x77, i, b"abcdefgh" * 4)))
    for i in range(2):  # ping6 fd00::20 -> 2001:db8::9
        frames.append(ip6("fd00::20", "2001:db8::9", 58, icmp(128, 0x66, i, b"ping6" * 4)))
        frames.append(ip6("2001:db8::9", "fd00::20", 58, icmp(129, 0x66, i, b"ping6" * 4)))
    dnsq = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"
    frames.append(ip6("fd00::20", "2001:db8::53", 17,
                      _ex_struct.pack("!HHHH", 53535, 53, 8 + len(dnsq), 0) + dnsq))
    out = [_ex_struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
    for k, fr in enumerate(frames):
        t = start + k * 0.01
        out.append(_ex_struct.pack("<IIII", int(t), int(round((t % 1) * 1e6)) % 1000000,
                                   len(fr), len(fr)))
        out.append(fr)
    return b"".join(out)


def _ex_tshark_cids(paths):
    if shutil.which("tshark") is None:
        raise Skip("tshark is absent (make deps installs it)")
    got = {}
    for p in paths:
        r = subprocess.run(["tshark", "--enable-protocol", "communityid", "-r", p, "-T",
                            "fields", "-e", "communityid"], capture_output=True, text=True,
                           env=ENV, timeout=300)
        assert r.returncode == 0, r.stderr
        for line in r.stdout.split("\n"):
            if line.strip():
                got[line.strip()] = got.get(line.strip(), 0) + 1
    assert got, "tshark printed no Community ID (its communityid dissector is missing)"
    return got


@test
def export_community_id_equals_tsharks():
    """Wireshark's own Community ID dissector (tshark --enable-protocol communityid), packet by
    packet, against the flows export: every TCP and UDP flow of the samples and of a capture
    with IPv6 (UDP), ICMP and ICMPv6 echoes gets the identifier tshark gives its packets,
    the echo flows included (their request and reply share it)."""
    d = os.path.join(TMP, "export-cid-in")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open(os.path.join(d, "icmp-ipv6.pcap"), "wb") as fh:
        fh.write(_ex_frames(1700000000.0))
    c = case("export-cid")
    inputs = [os.path.join(SAMPLES, "radiology-breach.pcap"), os.path.join(d, "icmp-ipv6.pcap")]
    run("analyze", "-q", "--home-net", "10.1.0.0/16,fd00::/8", *inputs, "-o", c, check=0)
    tshark = _ex_tshark_cids(inputs)
    p = _ex_run("export", c, "--format", "ndjson", "--what", "flows")
    flows = [_ex_json.loads(x) for x in p.stdout.decode().split("\n") if x]
    assert len(flows) == db(c).execute("SELECT count(*) FROM flow").fetchone()[0]
    missing = [(f["proto"], f["client_addr"], f["server_addr"], f["community_id"]) for f in flows
               if f["community_id"] not in tshark]
    assert not missing, missing
    protos = sorted(set((f["family"], f["proto"]) for f in flows))
    assert protos == [(4, 1), (4, 6), (4, 17), (6, 17), (6, 58)], protos
    # the ping's 6 packets and the ping6's 4 carry the identifier of their flow
    for fam, proto, n in ((4, 1, 6), (6, 58, 4)):
        cid = [f["community_id"] for f in flows if f["proto"] == proto][0]
        assert tshark[cid] == n, (proto, cid, tshark[cid])


# ---- hostile strings ---------------------------------------------------------------------------

_EX_UPNAME = b"=HYPERLINK(1;2),x\x1b[2J\x07\xff\xfe.csv"  # a formula, a comma, ESC, BEL, not UTF-8
_EX_FILE = b'cap"quo,te\nINJECTED\x1b[2J\xff\t.pcap'       # quote, comma, newline, ESC, tab


@test
def export_escapes_hostile_evidence_strings():
    """An uploaded file named like a spreadsheet formula with a comma, an escape sequence, BEL
    and bytes that are not UTF-8, in a capture whose own file name has a double quote, a comma,
    a newline, an escape sequence and a tab: NDJSON and Timesketch stay one strict-UTF-8 JSON
    object a line with the bytes in _hex; CSV reads back with Python's csv module as the
    documented rules say (formula prefixed with ', controls as pictures, U+FFFD); l2t_csv keeps
    17 fields on every line and no evidence byte starts a line."""
    body = (b"--XB\r\nContent-Disposition: form-data; name=\"f\"; filename=\"" + _EX_UPNAME +
            b"\"\r\nContent-Type: text/csv\r\n\r\nmrn,ssn\r\n1,219-09-9999\r\n--XB--\r\n")
    req = (b"POST /up HTTP/1.1\r\nHost: up.example\r\nContent-Type: multipart/form-data; "
           b"boundary=XB\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    import pcapw
    d = os.path.join(TMP, "export-hostile-in")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d.encode(), _EX_FILE)
    with open(path, "wb") as fh:
        fh.write(pcapw.pcap([("10.1.1.20", "203.0.113.80", 40200, 80, req,
                              b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]))
    c = case("export-hostile")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", os.fsdecode(path), "-o", c, check=0)
    out = os.path.join(TMP, "export-hostile-out")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    _ex_run("export", c, "--format", "ndjson", "-o", out + "/nd")
    _ex_run("export", c, "--format", "csv", "-o", out + "/csv")
    _ex_run("export", c, "--format", "timesketch", "-o", out + "/ts.jsonl")
    _ex_run("export", c, "--format", "l2tcsv", "-o", out + "/l2t.csv")
    objs = _ex_check_ndjson(c, "objects", out + "/nd/objects.ndjson")
    up = [o for o in objs if o.get("name_hex")]
    assert [bytes.fromhex(o["name_hex"]) for o in up] == [_EX_UPNAME], objs
    timeline = _ex_check_ndjson(c, "timeline", out + "/nd/timeline.ndjson")
    assert any("\nINJECTED" in t["message"] for t in timeline), timeline  # JSON keeps the LF
    for kind in _EX_TABLES:
        nd = open(out + "/nd/%s.ndjson" % kind, "rb").read()
        assert not any(b < 0x20 and b != 0x0a for b in nd), kind
        _ex_check_csv(c, kind, out + "/csv/%s.csv" % kind)
    with open(out + "/csv/objects.csv", newline="", encoding="utf-8") as fh:
        names = [r["name"] for r in _ex_csv.DictReader(fh)]
    assert "'=HYPERLINK(1;2),x\u241b[2J\u2407\ufffd\ufffd.csv" in names, names
    with open(out + "/csv/timeline.csv", newline="", encoding="utf-8") as fh:
        msgs = [r["message"] for r in _ex_csv.DictReader(fh)]
    assert any('cap"quo,te\nINJECTED\u241b[2J\ufffd\t.pcap' in m for m in msgs), msgs
    timed = [k for k in _EX_TABLES if _EX_TABLES[k][1]]
    ts = _ex_check_timesketch(c, out + "/ts.jsonl", timed)
    assert any("\nINJECTED" in r["message"] for r in ts)
    table = _ex_check_l2t(c, out + "/l2t.csv", timed)
    raw = open(out + "/l2t.csv", encoding="utf-8").read()
    assert not any(line.startswith("INJECTED") for line in raw.split("\n"))
    files = [r[12] for r in table[1:] if r[15] == "phitrace/flows"]
    assert files and all(f.endswith("cap'quo te\u240aINJECTED\u241b[2J\ufffd\u2409.pcap")
                         for f in files), files


@test
def analyze_progress_json_lines():
    """--progress=json (even with -q): every stderr line that starts with { is one JSON
    object with stage, done, total, bytes, bytes_total and elapsed; the stages come in order,
    reading ends with every input and byte read, and the last line says completed."""
    c = case("progress-json")
    p = run("analyze", "-q", "--progress=json", "--home-net", "10.1.0.0/16", SAMPLES, "-o", c,
            check=0)
    lines = [_ex_json.loads(x) for x in p.stderr.split("\n") if x.startswith("{")]
    assert lines, p.stderr
    for ln in lines:
        assert set(ln) >= {"stage", "done", "total", "bytes", "bytes_total", "elapsed"}, ln
        assert 0 <= ln["done"] <= ln["total"] and 0 <= ln["bytes"] <= ln["bytes_total"], ln
    stages = []
    for ln in lines:
        if not stages or stages[-1] != ln["stage"]:
            stages.append(ln["stage"])
    assert stages == ["read", "content", "verdict", "report", "done"], stages
    size = os.path.getsize(os.path.join(SAMPLES, "radiology-breach.pcap"))
    read = [ln for ln in lines if ln["stage"] == "read"][-1]
    assert (read["done"], read["total"], read["bytes"], read["bytes_total"]) == (1, 1, size, size)
    assert lines[-1]["status"] == "completed", lines[-1]
    assert all(a["elapsed"] <= b["elapsed"] for a, b in zip(lines, lines[1:]))
    run("analyze", "-q", "--progress=xml", SAMPLES, "-o", case("progress-bad"), check=1)


@test
def export_community_id_of_log_flows_equals_spec_vectors():
    """Connections read from a Zeek conn.log become flows of their own, ports as logged (an
    ICMP type and code as Zeek logs them): the flows export gives the spec's published
    values for the tuples of its README table (default seed), through the whole path from
    evidence to export. The expected values are copied from the spec, not computed here."""
    rows = [("1.2.3.4", 1122, "5.6.7.8", 3344, "tcp", "1:wCb3OG7yAFWelaUydu0D+125CLM="),
            ("1.2.3.4", 1122, "5.6.7.8", 3344, "udp", "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="),
            ("1.2.3.4", 8, "5.6.7.8", 0, "icmp", "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="),
            ("1.2.3.4", 11, "5.6.7.8", 0, "icmp", "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=")]
    log = (b"#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\t"
           b"id.resp_p\tproto\torig_bytes\tresp_bytes\n")
    for i, (a, ap, b, bp, proto, _) in enumerate(rows):
        log += b"%d.0\tC%d\t%s\t%d\t%s\t%d\t%s\t10\t10\n" % (1700000000 + 100 * i, i, a.encode(),
                                                           ap, b.encode(), bp, proto.encode())
    d = os.path.join(TMP, "export-cidlog-in")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open(os.path.join(d, "conn.log"), "wb") as fh:
        fh.write(log)
    c = case("export-cidlog")
    run("analyze", "-q", "--home-net", "1.2.3.0/24", d, "-o", c, check=0)
    p = _ex_run("export", c, "--format", "ndjson", "--what", "flows")
    flows = [_ex_json.loads(x) for x in p.stdout.decode().split("\n") if x]
    got = sorted((f["client_addr"], f["client_port"], f["proto"], f["community_id"])
                 for f in flows)
    num = {"tcp": 6, "udp": 17, "icmp": 1}
    want = sorted((a, ap, num[proto], cid) for a, ap, b, bp, proto, cid in rows)
    assert got == want, (got, want)
