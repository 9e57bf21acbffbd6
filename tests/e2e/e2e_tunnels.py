# e2e_tunnels.py - DNS and ICMP tunnels: detection without a registered domain and through an
# internal resolver, payloads decoded into objects and scanned for PHI (issue 12).
# Run inside run_e2e.py's namespace (@test, run, case, db, corpus, Skip, write_pcap,
# icmp_frame). Every expected count comes from the data the test writes.
import base64
import hashlib
import json
import socket
import struct


def _tun_patients_csv(n):
    rows = [b"mrn,last_name,first_name,dob,ssn,diagnosis"]
    last = [b"SMITH", b"JOHNSON", b"BROWN", b"TAYLOR", b"MILLER", b"DAVIS", b"GARCIA"]
    for i in range(n):
        rows.append(b"%07d,%s,PAT%c%c,19%02d-%02d-%02d,%03d-%02d-%04d,E11.9" % (
            5200000 + i, last[i % len(last)], 65 + i % 26, 65 + (i // 26) % 26, 40 + i % 50,
            1 + i % 12, 1 + i % 28, 120 + i, 11 + i % 80, 2000 + i))
    return b"\n".join(rows) + b"\n"


def _dns_name(name):
    out = b""
    for label in name.split("."):
        b = label.encode()
        out += bytes([len(b)]) + b
    return out + b"\0"


def _udp_frame(src, dst, sport, dport, payload):
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + udp


def _query(qid, name, qtype):
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + _dns_name(name) + \
        struct.pack(">HH", qtype, 1)


def _answer(qid, name, qtype, rdata):
    return struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + _dns_name(name) + \
        struct.pack(">HH", qtype, 1) + b"\xc0\x0c" + struct.pack(">HHIH", qtype, 1, 60,
                                                                  len(rdata)) + rdata


def _exchange(frames, t, client, server, sport, qid, name, qtype, rdata=None):
    frames.append((t, _udp_frame(client, server, sport, 53, _query(qid, name, qtype))))
    if rdata is not None:
        frames.append((t + 2000, _udp_frame(server, client, 53, sport,
                                            _answer(qid, name, qtype, rdata))))


def _tun_analyze(name, frames, *args):
    """Write the frames as NAME.pcap, analyze it into a case of that name, open its DB."""
    p = os.path.join(TMP, name + ".pcap")
    write_pcap(p, frames)
    c = case(name)
    run("analyze", "-q", p, "-o", c, *args, check=0)
    return c, db(c)


def _labels(s, size=63):
    return ".".join(s[i:i + size] for i in range(0, len(s), size))


@test
def dnscat2_tunnel_without_a_registered_domain():
    """dnscat2's framing (doc/protocol.md: packet_id, type, session_id; SYN with its initial
    sequence number; MSG with seq and ack, seq counting bytes) hex-encoded under the
    `dnscat.` prefix, no domain, MX/TXT/CNAME queries straight to an outside server, with
    retransmissions: one dns_tunnel finding for the `dnscat.*` group and the exact bytes
    decoded."""
    data = b"".join(b"line %04d of a shell session transcript, nothing sensitive here\n" % i
                    for i in range(60))
    C, S, t = "10.3.3.7", "203.0.113.53", 1767261600000000
    fr = []
    sess, isn, pid = 0x4d2a, 0x1200, 1
    syn = struct.pack(">HBHHH", pid, 0, sess, isn, 0)
    _exchange(fr, t, C, S, 40000, 1, "dnscat." + syn.hex(), 16, b"\x04ok00")
    seq, qid, sport = isn, 2, 40001
    chunk = 100
    for i in range(0, len(data), chunk):
        piece = data[i:i + chunk]
        for rep in range(2 if i % 700 == 0 else 1):  # some MSGs sent twice (no ack came)
            pid += 1
            msg = struct.pack(">HBHHH", pid, 1, sess, seq, 0) + piece
            qtype = (15, 16, 5)[qid % 3]
            rdata = {15: b"\x00\x0a" + _dns_name("x.y"), 16: b"\x02ok", 5: _dns_name("ok.x")}
            _exchange(fr, t + qid * 50000, C, S, sport, qid, "dnscat." + _labels(msg.hex()),
                      qtype, rdata[qtype])
            qid += 1
            sport += 1
        seq = (seq + len(piece)) & 0xffff
    _, con = _tun_analyze("dnscat2", fr)
    rows = con.execute("SELECT source, destination, detail FROM finding WHERE heuristic = "
                       "'dns_tunnel'").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(C, "dnscat.*")], rows
    d = json.loads(rows[0][2])
    assert d["encoding"] == "dnscat2" and d["long_labels"] > 0, d
    obj = con.execute("SELECT protocol, name, encoding, sha256, size, complete FROM object"
                      ).fetchall()
    assert obj == [("dns-tunnel", "dnscat.*", "dnscat2", hashlib.sha256(data).hexdigest(),
                    len(data), 1)], obj
    assert d["decoded_object"] == obj[0][3]
    # MX/TXT/CNAME answers are decoded into the answer text and one dns_answer row each
    ans = {r[0] for r in con.execute("SELECT answer_text FROM dns_query WHERE response = 1")}
    assert "MX 10 x.y" in ans and 'TXT "ok"' in ans and "CNAME ok.x" in ans, sorted(ans)[:5]
    rows = set(con.execute("SELECT type, class, ttl, decoded, data FROM dns_answer"))
    assert rows == {(15, 1, 60, 1, "10 x.y"), (16, 1, 60, 1, '"ok"'), (5, 1, 60, 1, "ok.x"),
                    (16, 1, 60, 1, '"ok00"')}, rows
    n = con.execute("SELECT count(*) FROM dns_answer").fetchone()[0]
    assert n == con.execute("SELECT count(*) FROM dns_query WHERE response = 1").fetchone()[0]


def _base32_tunnel(csv, C, R, domain, drop=(), upstream=None, counter=False):
    """base32 (RFC 4648, lower case, no padding) of the whole file, cut into names of two
    labels under `domain`, sent to resolver R; every fifth query is retransmitted. With
    `upstream`, the capture also holds the resolver forwarding each query to it."""
    enc = base64.b32encode(csv).decode().lower().rstrip("=")
    per = 120
    fr, t, qid = [], 1767265200000000, 1
    for n, i in enumerate(range(0, len(enc), per)):
        if n in drop:
            continue
        name = ("%d." % n if counter else "") + _labels(enc[i:i + per], 60) + "." + domain
        for _ in range(2 if n % 5 == 0 else 1):
            _exchange(fr, t + qid * 30000, C, R, 30000 + qid % 20000, qid, name, 1,
                      b"\x7f\x00\x00\x01")
            if upstream is not None:
                _exchange(fr, t + qid * 30000 + 500, R, upstream, 1024 + qid, qid, name, 1,
                          b"\x7f\x00\x00\x01")
            qid += 1
    # ordinary lookups by the same client through the same resolver
    for j, host in enumerate(["www.example.org", "mail.example.org", "portal.meddata-sync.com"]):
        _exchange(fr, t + 5000 + j, C, R, 50000 + j, 60000 + j, host, 1, b"\xc6\x33\x64\x07")
    return fr


@test
def base32_tunnel_through_internal_resolver_is_confirmed():
    """25 patients as a CSV, base32 in two-label names under t.meddata-sync.com, queried
    through the hospital's resolver (an internal flow), with retransmissions: the finding
    names client, resolver and tunnel domain; the decoded object is the CSV; the event is
    confirmed with exactly 25 individuals."""
    csv = _tun_patients_csv(25)
    C, R = "10.20.1.15", "10.20.0.53"
    _, con = _tun_analyze("b32-tunnel", _base32_tunnel(csv, C, R, "t.meddata-sync.com"),
                      "--home-net", "10.0.0.0/8")
    rows = con.execute("SELECT source, destination, summary, detail FROM finding WHERE heuristic"
                       " = 'dns_tunnel'").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(C, "t.meddata-sync.com")], rows
    d = json.loads(rows[0][3])
    assert d["resolvers"] == [R] and "via resolver " + R in rows[0][2], rows[0]
    obj = con.execute("SELECT name, encoding, sha256, complete, direction FROM object WHERE "
                      "protocol = 'dns-tunnel'").fetchall()
    assert obj == [("t.meddata-sync.com", "base32", hashlib.sha256(csv).hexdigest(), 1,
                    "upload")], obj
    ev = con.execute("SELECT source, destination, verdict, individuals FROM exfil_event"
                     ).fetchall()
    assert ev == [(C, "t.meddata-sync.com", "confirmed", 25)], ev


@test
def forwarded_tunnel_queries_are_one_finding():
    """The same tunnel where the capture also holds the resolver's forwarded queries to the
    attacker's name server: one finding, for the inside client (the resolver's copy is not a
    second tunnel), and the event confirmed with 25 individuals."""
    csv = _tun_patients_csv(25)
    C, R = "10.20.1.17", "10.20.0.53"
    _, con = _tun_analyze("b32-forwarded", _base32_tunnel(csv, C, R, "t.meddata-sync.com",
                                                      upstream="203.0.113.99"),
                      "--home-net", "10.0.0.0/8")
    rows = con.execute("SELECT source, destination FROM finding WHERE heuristic = 'dns_tunnel'"
                       ).fetchall()
    assert rows == [(C, "t.meddata-sync.com")], rows
    ev = con.execute("SELECT verdict, individuals FROM exfil_event WHERE destination = "
                     "'t.meddata-sync.com'").fetchall()
    assert ev == [("confirmed", 25)], ev


@test
def base32_tunnel_with_a_lost_query_is_partial():
    """The same tunnel with a decimal counter as first label and query 7 lost: the object is
    partial, its gap map holds the missing piece where it was (120 base32 characters are 75
    bytes: the median piece), and the patients that survived are still found. Without a
    counter the loss cannot be seen: the object is 75 bytes short and complete."""
    csv = _tun_patients_csv(25)
    _, con = _tun_analyze("b32-lost", _base32_tunnel(csv, "10.20.1.16", "10.20.0.53",
                                                 "t.meddata-sync.com", drop=(7,), counter=True),
                      "--home-net", "10.0.0.0/8")
    row = con.execute("SELECT size, complete, gap_bytes, gap_map, encoding FROM object WHERE "
                      "protocol = 'dns-tunnel'").fetchone()
    assert row == (len(csv) - 75, 0, 75, "[[525,75]]", "base32"), row
    v = con.execute("SELECT verdict, individuals FROM exfil_event").fetchone()
    assert v[0] == "confirmed" and 20 <= v[1] < 25, v
    _, con = _tun_analyze("b32-lost-nocounter", _base32_tunnel(csv, "10.20.1.16", "10.20.0.53",
                                                           "t.meddata-sync.com", drop=(7,)),
                      "--home-net", "10.0.0.0/8")
    row = con.execute("SELECT size, complete FROM object WHERE protocol = 'dns-tunnel'"
                      ).fetchone()
    assert row == (len(csv) - 75, 1), row


@test
def iodine_dns_tunnel_finding_with_byte_estimate():
    """nDPI's iodine capture: one dns_tunnel finding naming client and resolver, 222 distinct
    names under pirate.sea, all NULL queries, the label bytes as the estimate of data sent
    out; and the upstream payload decoded (iodine header stripped, fragments joined, zlib
    inflated): the object holds the tunnelled IPv4 packets; and the downstream payload from
    the NULL answers, the packets iodined sent back. No PHI: `possible`."""
    c = case("iodine-verdict")
    run("analyze", "-q", corpus("nDPI/tests/cfgs/default/pcap/dns-tunnel-iodine.pcap"), "-o", c,
        check=0)
    con = db(c)
    rows = con.execute("SELECT source, destination, bytes_out, detail FROM finding WHERE "
                       "heuristic = 'dns_tunnel'").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("10.0.2.30", "pirate.sea")], rows
    d = json.loads(rows[0][3])
    assert d["distinct_names"] == 222 and d["odd_type_share"] == 1.0, d
    assert rows[0][2] == d["label_bytes"] and 15000 < rows[0][2] < 20000, rows[0][2]
    assert d["resolvers"] == ["10.0.2.20"] and d["encoding"] == "iodine", d
    # the NULL answers (iodine's downstream) are kept whole, in hex: 212 answers, 20743 bytes
    assert con.execute("SELECT count(*), sum(decoded), sum(rdlength), sum(length(data)) FROM "
                       "dns_answer WHERE type = 10").fetchone() == (212, 0, 20743, 2 * 20743)
    obj = con.execute("SELECT sha256, size FROM object WHERE protocol = 'dns-tunnel' AND name ="
                      " 'pirate.sea' AND encoding = 'iodine'").fetchall()
    assert len(obj) == 2 and obj[0][1] > 1000, obj  # upload first, then download
    body = objbytes(c, obj[0][0])
    # each tunnelled packet: 4-byte tun header (flags, ethertype 0x0800), then IPv4
    assert body[:6] == b"\x00\x00\x08\x00\x45\x00", body[:16]
    assert body.count(b"\x00\x00\x08\x00\x45") >= 10
    # downstream, from the NULL answers to data and ping queries (2-byte header, fragments
    # joined, inflated): 181 whole packets, each tun header and IPv4 total length end to end
    down = con.execute("SELECT sha256, direction, complete FROM object WHERE protocol = "
                       "'dns-tunnel' AND name = 'pirate.sea' AND encoding = 'iodine' AND "
                       "direction = 'download'").fetchall()
    assert len(down) == 1 and down[0][2] == 1, down
    body, at, packets = objbytes(c, down[0][0]), 0, 0
    while at < len(body):
        assert body[at:at + 4] == b"\x00\x00\x08\x00" and body[at + 4] >> 4 == 4, at
        at += 4 + struct.unpack(">H", body[at + 6:at + 8])[0]
        packets += 1
    assert at == len(body) and packets == 181, (at, len(body), packets)
    assert con.execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchone()[0] \
        == "possible"


@test
def icmp_tunnel_carrying_patient_csv_is_confirmed():
    """25 patients in the payloads of ICMP echo requests (one retransmitted), replies carrying
    other data: the requests' payloads are one object, the finding's mean is per request, and
    the event is confirmed with 25 individuals."""
    csv = _tun_patients_csv(25)
    C, S = "10.9.9.9", "198.51.100.77"
    fr, seq, sent = [], 0, 0
    for i in range(0, len(csv), 400):
        piece = csv[i:i + 400]
        for _ in range(2 if seq == 1 else 1):
            sent += len(piece)
            fr.append(icmp_frame(C, S, 8, 0x5151, seq, piece))
            fr.append(icmp_frame(S, C, 0, 0x5151, seq, b"ack%05d" % seq))
        seq += 1
    _, con = _tun_analyze("icmp-csv",
                          [(1767270000000000 + i * 1000, f) for i, f in enumerate(fr)])
    obj = con.execute("SELECT protocol, sha256, direction FROM object").fetchall()
    assert obj == [("icmp", hashlib.sha256(csv).hexdigest(), "upload")], obj
    det = json.loads(con.execute("SELECT detail FROM finding WHERE heuristic = 'icmp_tunnel'"
                                 ).fetchone()[0])
    requests = seq + 1
    assert det["messages_out"] == requests and det["payload_out"] == sent and \
        abs(det["mean_payload"] - sent / requests) < 0.1, det
    ev = con.execute("SELECT destination, verdict, individuals FROM exfil_event").fetchall()
    assert ev == [(S, "confirmed", 25)], ev


@test
def dnscat2_corpus_capture_decoded():
    """nDPI's bad-dns-traffic.pcap is a real dnscat2 session to skullseclabs.org: the finding,
    and the MSG data reassembled by sequence number: a dnscat2 command-protocol message (its
    32-bit length, packed id and command) carrying a whole PNG, IEND included; and downstream,
    from the server's TXT answers, the command that asked for it (DOWNLOAD, 3, of
    /tmp/dnscap.png)."""
    c = case("dnscat2-corpus")
    run("analyze", "-q", corpus("nDPI/tests/cfgs/default/pcap/bad-dns-traffic.pcap"), "-o", c,
        check=0)
    con = db(c)
    rows = con.execute("SELECT source, destination FROM finding WHERE heuristic = 'dns_tunnel'"
                       ).fetchall()
    assert rows == [("192.168.43.91", "skullseclabs.org")], rows
    obj = con.execute("SELECT sha256, size, complete FROM object WHERE protocol = 'dns-tunnel'"
                      " AND encoding = 'dnscat2' AND direction = 'upload'").fetchall()
    assert len(obj) == 1 and obj[0][2] == 1, obj
    body = objbytes(c, obj[0][0])
    assert struct.unpack(">I", body[:4])[0] == len(body) - 4, body[:8]
    assert body[8:16] == b"\x89PNG\r\n\x1a\n" and body.endswith(b"IEND\xaeB`\x82"), body[:16]
    down = con.execute("SELECT sha256, complete FROM object WHERE protocol = 'dns-tunnel' AND "
                       "encoding = 'dnscat2' AND direction = 'download'").fetchall()
    assert len(down) == 1 and down[0][1] == 1, down
    cmd = objbytes(c, down[0][0])
    assert cmd == struct.pack(">IHH", 20, 1, 3) + b"/tmp/dnscap.png\0", cmd
