"""halfopen.py - write a capture of many half-open TCP flows whose decoders must hold state:
DICOM (an A-ASSOCIATE-RQ cut after its AE titles), TLS (a ClientHello record cut short) and
SMB2 (a NetBIOS message cut inside its header), and optionally "held": bytes of no known
protocol that detection holds until it can decide. Each flow is a SYN and one data segment from
the client; nothing follows, so every decoder keeps its buffers until the flow ends.

Usage: python3 halfopen.py OUT.pcap FLOWS_PER_KIND [dicom,tls,smb,held]   (issue 17 memcap)
"""
import struct
import sys

DICOM = (b"\x01\x00" + struct.pack("!I", 4096) + b"\x00\x01\x00\x00" + b"STORESCP".ljust(16)
         + b"EVILSCU".ljust(16) + b"\x00" * 32 + b"\x10\x00\x00\x15" + b"1.2.840.10008.3.1.1.1")
TLS = (b"\x16\x03\x01" + struct.pack("!H", 512) + b"\x01\x00\x01\xfc\x03\x03" + bytes(range(32))
       + b"\x20" + bytes(32) + b"\x00\x20" + bytes(range(0x30, 0x50)))
SMB = (b"\x00" + struct.pack("!I", 4096)[1:] + b"\xfeSMB"
       + struct.pack("<HHIHHII", 64, 0, 0, 5, 1, 0, 0) + bytes(40) + b"\x39\x00" + bytes(30))
# bytes no decoder recognises yet (no line end, under 128 bytes): held by protocol detection
HELD = b"XFER-BEGIN patient-export part 1 of"
PAYLOADS = {"dicom": (DICOM, 104), "tls": (TLS, 443), "smb": (SMB, 445), "held": (HELD, 7777)}


def _frame(src, dst, sport, dport, seq, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 1, 0x4000, 64, 6, 0, src, dst)
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip + tcp + payload


def write(path, flows, kinds=("dicom", "tls", "smb"), start=1700000000):
    """`flows` half-open flows of each kind, interleaved; returns the number of flows."""
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        usec = 0
        n = 0
        for i in range(flows):
            for k, kind in enumerate(kinds):
                payload, port = PAYLOADS[kind]
                src = bytes((10, k + 1, (i >> 8) & 0xff, i & 0xff))
                dst = bytes((203, 0, 113, 1 + (i >> 16) % 200))
                sport = 30000 + (i % 30000)  # clear of port hints (5353 is DNS)
                for flags, seq, data in ((0x02, 999, b""), (0x18, 1000, payload)):
                    f = _frame(src, dst, sport, port, seq, flags, data)
                    usec += 5
                    out.write(struct.pack("<IIII", start + usec // 1000000, usec % 1000000,
                                          len(f), len(f)))
                    out.write(f)
                n += 1
    return n


if __name__ == "__main__":
    kinds = sys.argv[3].split(",") if len(sys.argv) > 3 else ("dicom", "tls", "smb")
    print(write(sys.argv[1], int(sys.argv[2]), kinds))
