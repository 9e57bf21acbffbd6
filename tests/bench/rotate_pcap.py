#!/usr/bin/env python3
"""Rotate a capture into several files the way a sensor's rotation would, cutting only where
no flow (5-tuple) has packets on both sides (issue 19: scale-out by file).

    tests/bench/rotate_pcap.py CAPTURE OUTDIR NFILES

Writes OUTDIR/cap-00.pcap ... in time order. Classic pcap, Ethernet only. Used by
tests/e2e/e2e_scale.py and tests/bench/scale_bench.sh."""
import os
import struct
import sys


def pcap_packets(path):
    b = open(path, "rb").read()
    end = "<" if b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    assert struct.unpack(end + "I", b[20:24])[0] == 1, "the splitter reads Ethernet captures"
    off, pk = 24, []
    while off + 16 <= len(b):
        cap = struct.unpack(end + "I", b[off + 8:off + 12])[0]
        pk.append(b[off:off + 16 + cap])
        off += 16 + cap
    return b[:24], pk


def flow_key(rec):
    d = rec[16:]
    et = struct.unpack(">H", d[12:14])[0]
    d = d[14:]
    while et == 0x8100:
        et = struct.unpack(">H", d[2:4])[0]
        d = d[4:]
    if et == 0x0800:
        proto, src, dst, l4 = d[9], d[12:16], d[16:20], d[(d[0] & 15) * 4:]
    elif et == 0x86dd:
        proto, src, dst, l4 = d[6], d[8:24], d[24:40], d[40:]
    else:
        return ("ether", et)
    if proto in (6, 17) and len(l4) >= 4:
        sp, dp = struct.unpack(">HH", l4[:4])
        return (proto,) + tuple(sorted([(src, sp), (dst, dp)]))
    return (proto,) + tuple(sorted([src, dst]))


def rotate(pcap, out, nfiles):
    """Rotate `pcap` into `nfiles` captures, cut only where no flow (5-tuple) has packets on
    both sides: the file splitting a plan does, on rotated captures whose connections do not
    cross a file (one that does is the documented limitation). Returns the cut indices."""
    hdr, pk = pcap_packets(pcap)
    span = {}
    for i, r in enumerate(pk):
        k = flow_key(r)
        span[k] = (span[k][0] if k in span else i, i)
    delta = [0] * (len(pk) + 2)  # flows open across the cut before packet i: a prefix sum
    for first, last in span.values():
        delta[first + 1] += 1
        delta[last + 1] -= 1
    safe, open_now = [], 0
    for i in range(1, len(pk)):
        open_now += delta[i]
        if open_now == 0:
            safe.append(i)
    assert len(safe) >= nfiles - 1, "not enough places to cut"
    cuts = [safe[(j * len(safe)) // nfiles] for j in range(1, nfiles)]
    bounds = [0] + cuts + [len(pk)]
    os.makedirs(out, exist_ok=True)
    for j in range(nfiles):
        with open(os.path.join(out, "cap-%02d.pcap" % j), "wb") as f:
            f.write(hdr + b"".join(pk[bounds[j]:bounds[j + 1]]))
    return cuts


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    cuts = rotate(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    print("%d files, cut before packets %s" % (len(cuts) + 1, cuts))
