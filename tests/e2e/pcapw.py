"""pcapw.py - write small classic pcap files of whole TCP conversations for the e2e tests.

Ethernet, IPv4, TCP with a three-way handshake, data in segments of at most 1400 bytes with
their ACKs, and FIN on both sides; checksums are computed. Nothing is sent anywhere: the
addresses are bytes in a file.
"""
import struct


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


def _segments(data):
    if isinstance(data, list):
        return [d for d in data if d]
    return [data[i:i + 1400] for i in range(0, len(data), 1400)]


def pcap(conns, start=1700000000.0, server_first=False):
    """conns: (client, server, sport, dport, request, response) per connection, one after the
    other, a millisecond a packet. A request or response given as a list of byte strings is
    sent one segment per element (to cut a line where a test wants it). With server_first the
    response is sent before the request (a greeting)."""
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
    t = [start]

    def pkt(frame):
        t[0] += 0.001
        out.append(struct.pack("<IIII", int(t[0]), int(round((t[0] % 1) * 1e6)) % 1000000,
                               len(frame), len(frame)))
        out.append(frame)

    for cli, srv, sport, dport, req, resp in conns:
        cs, ss = 1000, 5000
        pkt(_tcp(cli, srv, sport, dport, cs, 0, 0x02))
        pkt(_tcp(srv, cli, dport, sport, ss, cs + 1, 0x12))
        cs += 1
        ss += 1
        pkt(_tcp(cli, srv, sport, dport, cs, ss, 0x10))
        def client_data():
            nonlocal cs
            for seg in _segments(req):
                pkt(_tcp(cli, srv, sport, dport, cs, ss, 0x18, seg))
                cs += len(seg)
                pkt(_tcp(srv, cli, dport, sport, ss, cs, 0x10))

        def server_data():
            nonlocal ss
            for seg in _segments(resp):
                pkt(_tcp(srv, cli, dport, sport, ss, cs, 0x18, seg))
                ss += len(seg)
                pkt(_tcp(cli, srv, sport, dport, cs, ss, 0x10))

        if server_first:
            server_data()
            client_data()
        else:
            client_data()
            server_data()
        pkt(_tcp(cli, srv, sport, dport, cs, ss, 0x11))
        pkt(_tcp(srv, cli, dport, sport, ss, cs + 1, 0x11))
        pkt(_tcp(cli, srv, sport, dport, cs + 1, ss + 1, 0x10))
    return b"".join(out)


class Capture:
    """Connections whose segments interleave in time, as a real session's do: an FTP control
    connection that opens its data connection between two replies. Each packet is a
    millisecond after the one before; every data segment is acknowledged at once.

        cap = Capture()
        ctl = cap.tcp("10.0.0.5", "203.0.113.9", 40001, 21)
        ctl.s(b"220 ready\\r\\n"); ctl.c(b"USER x\\r\\n"); ...; ctl.close()
        open(path, "wb").write(cap.bytes())
    """

    def __init__(self, start=1700000000.0):
        self.t = start
        self.out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]

    def pkt(self, frame):
        self.t += 0.001
        self.out.append(struct.pack("<IIII", int(self.t), int(round((self.t % 1) * 1e6)) % 1000000,
                                    len(frame), len(frame)))
        self.out.append(frame)

    def tcp(self, cli, srv, sport, dport):
        return _Conn(self, cli, srv, sport, dport)

    def bytes(self):
        return b"".join(self.out)


class _Conn:
    def __init__(self, cap, cli, srv, sport, dport):
        self.cap, self.a = cap, (cli, srv, sport, dport)
        self.cs, self.ss = 1000, 5000
        cap.pkt(_tcp(cli, srv, sport, dport, self.cs, 0, 0x02))
        cap.pkt(_tcp(srv, cli, dport, sport, self.ss, self.cs + 1, 0x12))
        self.cs += 1
        self.ss += 1
        cap.pkt(_tcp(cli, srv, sport, dport, self.cs, self.ss, 0x10))

    def c(self, data):
        """Client to server, in segments of at most 1400 bytes (a list: one per element)."""
        return self._send(data, True)

    def s(self, data):
        """Server to client."""
        return self._send(data, False)

    def _send(self, data, from_client):
        cli, srv, sport, dport = self.a
        src, dst, sp, dp = (cli, srv, sport, dport) if from_client else (srv, cli, dport, sport)
        for seg in _segments(data):
            seq, ack = (self.cs, self.ss) if from_client else (self.ss, self.cs)
            self.cap.pkt(_tcp(src, dst, sp, dp, seq, ack, 0x18, seg))
            if from_client:
                self.cs += len(seg)
            else:
                self.ss += len(seg)
            self.cap.pkt(_tcp(dst, src, dp, sp, ack, seq + len(seg), 0x10))
        return self

    def close(self):
        cli, srv, sport, dport = self.a
        self.cap.pkt(_tcp(cli, srv, sport, dport, self.cs, self.ss, 0x11))
        self.cap.pkt(_tcp(srv, cli, dport, sport, self.ss, self.cs + 1, 0x11))
        self.cap.pkt(_tcp(cli, srv, sport, dport, self.cs + 1, self.ss + 1, 0x10))
