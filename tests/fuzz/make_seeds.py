#!/usr/bin/env python3
"""Write the seed corpus for fuzz_decode from the sample capture: one seed per flow kind,
each holding several frames (byte 0 = link type index 0, Ethernet). Run once; seeds are
committed. Usage: make_seeds.py SAMPLE.pcap OUTDIR"""
import os
import struct
import sys

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
with open(src, "rb") as f:
    data = f.read()
off, frames = 24, []
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
    frames.append(data[off + 16:off + 16 + incl])
    off += 16 + incl
groups = {"tcp-handshake": frames[0:8], "dns": frames[22:26], "post": frames[60:72],
          "beacon": frames[-12:]}
for name, fr in groups.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"\x00" + b"".join(struct.pack(">H", len(x)) + x for x in fr))
