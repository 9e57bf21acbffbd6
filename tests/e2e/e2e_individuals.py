# e2e_individuals.py - the count of affected individuals on realistic layouts (issue 10).
# Run inside run_e2e.py's namespace (@test, run, case, db). Every expected count below comes
# from the data the test writes, never from phitrace's output.
import random
import struct


def _ssn(i):
    # valid SSA ranges: area 100-665, group 10-89, serial 1000+
    return "%03d-%02d-%04d" % (100 + i % 560, 10 + i % 80, 1000 + i)


_FIRST = ["JOHN", "MARY", "ROBERT", "LINDA", "JAMES", "PATRICIA", "DAVID", "SUSAN", "MICHAEL",
          "KAREN", "AMIT", "SOFIA", "WEI", "FATIMA", "OLGA"]
_LAST = ["SMITH", "JOHNSON", "BROWN", "TAYLOR", "MILLER", "DAVIS", "GARCIA", "WILSON", "MOORE",
         "CLARK", "LEWIS", "YOUNG", "NGUYEN", "PATEL", "KOWALSKI", "OKAFOR"]


def _patients(n, start=0):
    out = []
    for i in range(start, start + n):
        out.append({"mrn": "%07d" % (4100000 + i), "last": _LAST[i % len(_LAST)],
                    "first": _FIRST[(i // len(_LAST)) % len(_FIRST)] + chr(65 + i % 26),
                    "dob": "19%02d-%02d-%02d" % (30 + i % 60, 1 + i % 12, 1 + i % 28),
                    "ssn": _ssn(i)})
    return out


def _csv(pats):
    rows = ["mrn,last_name,first_name,dob,ssn,diagnosis"]
    rows += ["%s,%s,%s,%s,%s,E11.9" % (p["mrn"], p["last"], p["first"], p["dob"], p["ssn"])
             for p in pats]
    return ("\n".join(rows) + "\n").encode()


def _lis(pats):
    lines = ["GENERAL HOSPITAL LABORATORY      CUMULATIVE RESULTS      PAGE 1"]
    for p in pats:
        y, m, d = p["dob"].split("-")
        lines.append("PATIENT: %s, %s   MRN: %s   DOB: %s/%s/%s   SSN: %s" %
                     (p["last"], p["first"], p["mrn"], m, d, y, p["ssn"]))
        lines.append("  GLUCOSE            95 mg/dL      70-99     ORD 88%05d" % random.randint(0, 99999))
        lines.append("  HGB A1C            6.1 %         4.0-5.6   NPI 1234567893")
        lines.append("-" * 64)
    return ("\n".join(lines) + "\n").encode()


def _pipe(pats):
    rows = ["# export 2024-01-01 by admin", "#mrn|last|first|dob|ssn|dx"]
    rows += ["%s|%s|%s|%s|%s|I10" % (p["mrn"], p["last"], p["first"], p["dob"], p["ssn"])
             for p in pats]
    return ("\n".join(rows) + "\n").encode()


# ---- a capture of HTTP multipart uploads (Ethernet, IPv4, TCP with handshake and FIN) ----

def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def _tcp(src, dst, sport, dport, seq, ack, flags, payload=b""):
    ip_src = bytes(int(x) for x in src.split("."))
    ip_dst = bytes(int(x) for x in dst.split("."))
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = ip_src + ip_dst + struct.pack("!BBH", 0, 6, len(hdr) + len(payload))
    c = _csum(pseudo + hdr + payload)
    hdr = hdr[:16] + struct.pack("!H", c) + hdr[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(hdr) + len(payload), 1, 0x4000, 64, 6,
                     0, ip_src, ip_dst)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip + hdr + payload


def _pcap(conns):
    """conns: list of (client, server, sport, request bytes, response bytes)."""
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
    t = [1700000000.0]

    def pkt(frame):
        t[0] += 0.001
        out.append(struct.pack("<IIII", int(t[0]), int((t[0] % 1) * 1e6), len(frame), len(frame)))
        out.append(frame)

    for cli, srv, sport, req, resp in conns:
        cs, ss = 1000, 5000
        pkt(_tcp(cli, srv, sport, 80, cs, 0, 0x02))
        pkt(_tcp(srv, cli, 80, sport, ss, cs + 1, 0x12))
        cs += 1
        ss += 1
        pkt(_tcp(cli, srv, sport, 80, cs, ss, 0x10))
        for i in range(0, len(req), 1400):
            seg = req[i:i + 1400]
            pkt(_tcp(cli, srv, sport, 80, cs, ss, 0x18, seg))
            cs += len(seg)
            pkt(_tcp(srv, cli, 80, sport, ss, cs, 0x10))
        pkt(_tcp(srv, cli, 80, sport, ss, cs, 0x18, resp))
        ss += len(resp)
        pkt(_tcp(cli, srv, sport, 80, cs, ss, 0x11))
        pkt(_tcp(srv, cli, 80, sport, ss, cs + 1, 0x11))
        pkt(_tcp(cli, srv, sport, 80, cs + 1, ss + 1, 0x10))
    return b"".join(out)


def _multipart(name, body):
    b = "----phitraceBoundary7MA4YWxk"
    part = ("--%s\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nmonthly export\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
            "Content-Type: text/csv\r\n\r\n" % (b, b, name)).encode() + body + \
        ("\r\n--%s--\r\n" % b).encode()
    head = ("POST /upload HTTP/1.1\r\nHost: files.example.net\r\nContent-Type: multipart/form-data;"
            " boundary=%s\r\nContent-Length: %d\r\n\r\n" % (b, len(part))).encode()
    return head + part


def _count(c, scope="all"):
    return db(c).execute("SELECT estimate, lower, upper FROM individuals WHERE scope = ?",
                         (scope,)).fetchone()


def _analyze(name, files, *extra):
    import os
    d = case(name)
    src = d + "-in"
    os.makedirs(src, exist_ok=True)
    paths = []
    for fn, data in files.items():
        p = os.path.join(src, fn)
        with open(p, "wb") as fh:
            fh.write(data)
        paths.append(p)
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *extra, *paths, "-o", d, check=0)
    return d


@test
def individuals_lis_printout_one_block_per_patient():
    random.seed(1)
    pats = _patients(30)
    c = _analyze("lis", {"lis.txt": _lis(pats)})
    assert _count(c) == (30, 30, 30), _count(c)
    # and the same printout uploaded in a multipart POST
    cap = _pcap([("10.1.1.5", "203.0.113.9", 40001, _multipart("lis.txt", _lis(pats)),
                  b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")])
    c = _analyze("lis-http", {"lis.pcap": cap})
    est, lo, up = _count(c, "outbound")
    assert est == 30 and lo <= 30 <= up, (est, lo, up)


@test
def individuals_multipart_csv_counts_rows_not_bodies():
    pats = _patients(120)
    c = _analyze("csv-rest", {"export.csv": _csv(pats)})
    assert _count(c) == (120, 120, 120), _count(c)
    cap = _pcap([("10.1.1.5", "203.0.113.9", 40002, _multipart("export.csv", _csv(pats)),
                  b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")])
    c = _analyze("csv-http", {"up.pcap": cap})
    assert _count(c, "outbound")[0] == 120, _count(c, "outbound")
    fmt = dict(db(c).execute("SELECT o.encoding, p.format FROM phi_object p JOIN object o ON "
                             "o.sha256 = p.object_sha256 WHERE o.protocol = 'http' AND "
                             "o.direction = 'upload' AND o.name LIKE '%upload%'").fetchall())
    assert "container" in fmt.values(), fmt  # the raw body is not read as records
    parts = db(c).execute("SELECT count(*) FROM object WHERE encoding = 'multipart' AND "
                          "parent_sha256 IS NOT NULL AND parent_sha256 <> ''").fetchone()[0]
    assert parts == 2, parts  # the note and the file, linked to the body


@test
def individuals_two_overlapping_exports_union_and_bounds():
    a, b = _patients(120), _patients(100, start=100)  # 20 shared: 200 people
    cap = _pcap([("10.1.1.5", "203.0.113.9", 40003, _multipart("a.csv", _csv(a)),
                  b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
                 ("10.1.1.6", "203.0.113.9", 40004, _multipart("b.csv", _csv(b)),
                  b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")])
    c = _analyze("two-exports", {"two.pcap": cap})
    est, lo, up = _count(c, "outbound")
    assert est == 200 and lo <= 200 <= up, (est, lo, up)


@test
def individuals_commented_pipe_roster_counts_rows():
    c = _analyze("pipe", {"roster.txt": _pipe(_patients(25))})
    assert _count(c) == (25, 25, 25), _count(c)


@test
def individuals_name_spellings_are_one_person():
    text = ("patient_name,dob,diagnosis\nMüller^Jürgen,1960-01-02,E11.9\n"
            "MÜLLER^JÜRGEN,1960-01-02,I10\nMuller^Jurgen,1960-01-02,I10\n").encode()
    c = _analyze("names", {"names.csv": text})
    assert _count(c)[0] == 1, _count(c)
    masked = db(c).execute("SELECT DISTINCT masked FROM phi_hit WHERE type = 'name' ORDER BY 1"
                           ).fetchall()
    assert ("M*****^J*****",) in masked, masked  # original letters kept (Ü counts as one)


@test
def individuals_conflicting_identifiers_are_not_joined():
    # the same MRN typed for two people whose SSNs and birth dates differ: two people, and a
    # refused join on record; a third record with MRN and the first SSN joins the first
    text = ("mrn,last_name,first_name,dob,ssn,diagnosis\n"
            "4100001,DOE,JANE,1961-04-12,536-22-5401,E11.9\n"
            "4100001,ROE,JOHN,1970-01-02,536-22-5402,I10\n"
            "4100001,DOE,JANE,1961-04-12,536-22-5401,I10\n").encode()
    c = _analyze("conflict", {"c.csv": text})
    assert _count(c)[0] == 2, _count(c)
    q = db(c).execute("SELECT refused_joins, largest_entity FROM individuals_quality").fetchone()
    assert q[0] >= 1 and q[1] == 2, q
    kinds = [r[0] for r in db(c).execute("SELECT kind FROM anomaly")]
    assert "phi.join_refused" in kinds, kinds
    lim = [r[0] for r in db(c).execute("SELECT kind FROM limitation")]
    assert "phi_join_refused" in lim, lim


@test
def individuals_record_of_several_people_joins_nobody():
    # one line names two people's SSNs (no layout to split it): it must not glue the two
    # patients together, and it adds nobody new since both are seen elsewhere
    text = ("Note: SSN 536-22-5401 and SSN 536-22-5402 share a household.\n\n"
            "Seen: SSN 536-22-5401, MRN: 4100001.\n\nSeen: SSN 536-22-5402, MRN: 4100002.\n"
            ).encode()
    c = _analyze("multi", {"m.txt": text})
    assert _count(c) == (2, 2, 2), _count(c)
    q = db(c).execute("SELECT multi_person_records FROM individuals_quality").fetchone()
    assert q[0] == 1, q
