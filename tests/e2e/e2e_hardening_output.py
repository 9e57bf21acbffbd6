# e2e_hardening_output.py - issue 17, "output and privacy": report.txt carries no raw byte of
# the evidence that is not UTF-8 and no control byte but its own line ends (\xNN escapes
# instead), and report.json gives the original bytes of identifying strings that were not
# UTF-8 in a sibling "<field>_hex". Loaded by run_e2e.py into its namespace.
import json as _json

_NAME = b"r\xe9sultats\x01\x1b.csv"
_URI = b"/up\xff\xfeload/\xc3\x28x\x07?q=\xed\xa0\x80"
_FILE = b"cap\xff\x1b[2J\nINJECTED LINE\t.pcap"  # an input named to forge a report line


def _bytes_case(tag):
    body = (b"--XB\r\nContent-Disposition: form-data; name=\"f\"; filename=\"" + _NAME +
            b"\"\r\nContent-Type: text/csv\r\n\r\nmrn,ssn\r\n1,219-09-9999\r\n--XB--\r\n")
    req = (b"POST " + _URI + b" HTTP/1.1\r\nHost: h\xf0\x28.example\r\nContent-Type: "
           b"multipart/form-data; boundary=XB\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    # a TLS ClientHello whose SNI is not UTF-8 (the channel is listed by name in both reports)
    sni = b"exfil\xff\x07.example"
    ext = b"\x00\x00" + struct.pack("!HHBH", len(sni) + 5, len(sni) + 3, 0, len(sni)) + sni
    hello = (b"\x03\x03" + bytes(32) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00" +
             struct.pack("!H", len(ext)) + ext)
    hs = b"\x01" + struct.pack("!I", len(hello))[1:] + hello
    tls = b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs
    conv = [("10.1.1.20", "203.0.113.80", 40200, 80, req, resp),
            ("10.1.1.20", "198.51.100.7", 40201, 443, tls + bytes(range(256)) * 40, b"")]
    d = os.path.join(TMP, tag)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d.encode(), _FILE)
    import pcapw
    with open(path, "wb") as fh:
        fh.write(pcapw.pcap(conv))
    c = case(tag + "-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", os.fsdecode(path), "-o", c, check=0)
    return c, path


@test
def report_txt_escapes_bytes_that_are_not_utf8_and_controls():
    """An input file name with an escape sequence, a newline and a tab, a URI, a host, a
    multipart file name and a TLS SNI with bytes that are not UTF-8 and C0 controls: report.txt
    is strict UTF-8 with no control byte but its line ends, shows them as \\xNN, and no evidence
    byte starts a line of its own."""
    c, path = _bytes_case("txt-bytes")
    raw = open(os.path.join(c, "report.txt"), "rb").read()
    txt = raw.decode("utf-8")  # strict
    bad = sorted(set(b for b in raw if (b < 0x20 and b != 0x0a) or b == 0x7f))
    assert bad == [], bad
    assert not any(line.startswith("INJECTED") for line in txt.split("\n")), txt
    assert "cap\\xff\\x1b[2J\\x0aINJECTED LINE\\x09.pcap" in txt, txt
    # the TLS decoder itself keeps only printable SNI characters ('?' for the others)
    assert "exfil??.example" in txt, txt


@test
def report_json_gives_identifying_bytes_as_hex_when_not_utf8():
    """report.json stays strict UTF-8 (U+FFFD for bytes that are not UTF-8) and, only for
    identifying strings that were not valid UTF-8, gives the original bytes in hex beside
    them: the input path, the multipart file name; valid strings get no _hex.
    The report still validates against reports/schema (the _hex fields are optional)."""
    c, path = _bytes_case("json-bytes")
    j = _json.loads(open(os.path.join(c, "report.json"), "rb").read().decode("utf-8"))
    items = j["evidence_items"]
    assert bytes.fromhex(items[0]["path_hex"]) == path, items[0]
    assert "\ufffd" in items[0]["path"]
    objs = report_list(c, "objects_with_phi", j)
    assert any(bytes.fromhex(o["name_hex"]) == _NAME for o in objs if o.get("name_hex")), objs
    assert not any("name_hex" in ch for ch in j["encrypted_channels"])  # "exfil??.example"
    # valid UTF-8 (even with controls, which JSON escapes losslessly) has no hex sibling
    lists = {"objects_with_phi": objs, "events": report_list(c, "events", j),
             "evidence_items": j["evidence_items"], "encrypted_channels": j["encrypted_channels"]}
    for section, rows in sorted(lists.items()):
        for row in rows:
            for k, v in row.items():
                if k.endswith("_hex"):
                    assert "\ufffd" in row[k[:-4]], (section, k, row)
    report_validate(c, j)
