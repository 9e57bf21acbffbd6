#!/usr/bin/env python3
"""Cleartext for the PHI scanner benchmark: clinic notes with planted PHI and look-alikes
(tests/phi/gen_labelled.py) between paragraphs of ordinary prose, mail headers and logs,
to SIZE megabytes. Usage: make_text.py NOTES_DIR SIZE_MB OUT"""
import os
import random
import sys

notes_dir, mb, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
notes = [open(os.path.join(notes_dir, n), "rb").read() for n in sorted(os.listdir(notes_dir))]
rnd = random.Random(7)
words = (b"the of and to in is was for on that with as by at from this which be are have "
         b"report system network server update meeting budget schedule review project "
         b"quarterly results version build release customer invoice shipment").split()
prose = []
for i in range(2000):
    line = b" ".join(rnd.choice(words) for _ in range(rnd.randrange(8, 30)))
    prose.append(line.capitalize() + b".\n")
logs = [b"2024-03-%02d 12:%02d:%02d INFO worker-%d processed job %d in %d ms status=OK\n" % (
    rnd.randrange(1, 29), rnd.randrange(60), rnd.randrange(60), rnd.randrange(16),
    rnd.randrange(10**6), rnd.randrange(1000)) for _ in range(2000)]
target = mb * 1000 * 1000
with open(out, "wb") as f:
    n = 0
    while n < target:
        chunk = b"".join(rnd.choice(prose) for _ in range(20)) + b"\n" + \
            b"".join(rnd.choice(logs) for _ in range(20)) + b"\n"
        if rnd.random() < 0.05:
            chunk += rnd.choice(notes)
        f.write(chunk)
        n += len(chunk)
