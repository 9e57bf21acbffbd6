# Which host a disk image is of (issue 15 items 4 and 15-follow-up): `--image-host` carried by
# a scale-out plan to its merge, and the host inferred from the image's own files (Windows
# SYSTEM hive, Linux network configuration). The expected answers are written before the
# code ran. Run in run_e2e.py's namespace with e2e_disk.py's, e2e_disk_staging.py's and
# e2e_disk_upload.py's helpers (_disk_tool, _disk_csv, _st_people, _st_zip, _up_stream).
import json
import random
import struct


def _dh_upload_evidence(d, extra_files=None):
    """A FAT image with a PHI zip in /export (and `extra_files`: image path -> bytes) and a
    capture where 10.20.0.9 sends the zip's size and more, after the zip's time, to a rare
    destination. Returns (image, capture, host, destination, bytes sent after)."""
    os.makedirs(d, exist_ok=True)
    rnd = random.Random(15)
    people = _st_people("HOSTED", 4, 4302000)
    z = _st_zip({"roster.csv": _disk_csv(people),
                 "scan.bin": bytes(rnd.getrandbits(8) for _ in range(60000))})
    t0 = 1767261600  # 2026-01-01T10:00:00Z
    img = os.path.join(d, "ws09.img")
    with open(img, "wb") as fh:
        fh.truncate(16 * 1024 * 1024)
    _disk_tool("mformat", "-i", img, "-T", str(16 * 2048), "-h", "2", "-s", "16", "-c", "4",
               "::")
    _disk_tool("mmd", "-i", img, "::/export")
    local = os.path.join(d, "pt.zip")
    with open(local, "wb") as fh:
        fh.write(z)
    os.utime(local, (t0, t0))
    _disk_tool("mcopy", "-m", "-i", img, local, "::/export/pt.zip")
    made = set()
    for path, data in sorted((extra_files or {}).items()):
        parts = path.strip("/").split("/")
        for k in range(1, len(parts)):
            sub = "/".join(parts[:k])
            if sub not in made:
                _disk_tool("mmd", "-i", img, "::/" + sub)
                made.add(sub)
        loc = os.path.join(d, "x-" + parts[-1])
        with open(loc, "wb") as fh:
            fh.write(data)
        _disk_tool("mcopy", "-i", img, loc, "::/" + "/".join(parts))
    day = 86400 * 1000000
    T = t0 * 1000000
    host, dest = "10.20.0.9", "203.0.113.50"
    after = bytes(rnd.getrandbits(8) for _ in range(len(z) + 20000))
    fr = []
    _up_stream(fr, host, dest, 40101, 4444, T + 2 * day, after)
    fr.sort(key=lambda x: x[0])
    cap = os.path.join(d, "uplink.pcap")
    write_pcap(cap, fr)
    return img, cap, host, dest, len(after)


def _dh_staged(c):
    con = db(c)
    return (con.execute("SELECT e.path, i.addr, i.source FROM image_host i JOIN evidence_item e "
                        "ON e.id = i.item_id WHERE i.used = 1 ORDER BY 1, 2").fetchall(),
            con.execute("SELECT source, destination, bytes_out FROM finding WHERE heuristic = "
                        "'staged_upload' ORDER BY 1, 2").fetchall(),
            con.execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchone())


@test
def disk_image_host_travels_with_the_plan_to_the_merge():
    if shutil.which("mformat") is None:
        raise Skip("mtools is absent (Debian package mtools)")
    img, cap, host, dest, sent = _dh_upload_evidence(os.path.join(TMP, "dh-scale"))
    # expected, written first: the single run's link, finding and verdict, in the merged case
    want = ([(img, host, "option")], [(host, dest, sent)], ("likely",))
    single = case("dh-single")
    run("analyze", "-q", img, cap, "--image-host", "ws09.img=" + host, "-o", single, check=0)
    assert _dh_staged(single) == want, _dh_staged(single)
    plan = os.path.join(TMP, "dh-plan.txt")
    run("plan", "-q", "--image-host", "ws09.img=" + host, img, cap, "--shards", "2", "-o", plan,
        check=0)
    with open(plan) as fh:
        assert ("image-host ws09.img=%s\n" % host) in fh.read()
    shards = []
    for i in range(2):
        s = case("dh-shard%d" % i)
        run("analyze", "--plan", plan, "--shard", str(i), "-q", "-o", s, check=0)
        shards.append(s)
    # the image and the capture went to different shards: the join happens at the merge
    held = [sorted(r[0] for r in db(s).execute("SELECT path FROM evidence_item")) for s in shards]
    assert sorted(held) == [[cap], [img]], held
    merged = case("dh-merged")
    run("merge", "-q", "-o", merged, *shards, check=0)
    assert _dh_staged(merged) == want, _dh_staged(merged)
    # a link given at the merge instead of the plan does the same
    plan2 = os.path.join(TMP, "dh-plan2.txt")
    run("plan", "-q", img, cap, "--shards", "2", "-o", plan2, check=0)
    shards2 = []
    for i in range(2):
        s = case("dh-shard2-%d" % i)
        run("analyze", "--plan", plan2, "--shard", str(i), "-q", "-o", s, check=0)
        shards2.append(s)
    merged2 = case("dh-merged2")
    run("merge", "-q", "-o", merged2, *shards2, check=0)
    assert _dh_staged(merged2)[1] == [], "no link, no finding"
    merged3 = case("dh-merged3")
    run("merge", "-q", "--image-host", "ws09.img=" + host, "-o", merged3, *shards2, check=0)
    assert _dh_staged(merged3) == want, _dh_staged(merged3)
    # a shard takes no link: the plan fixes them
    p = run("analyze", "--plan", plan, "--shard", "0", "--image-host", "ws09.img=" + host,
            "-q", "-o", case("dh-shard-refused"))
    assert p.returncode == 1, p.returncode
