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
    img, cap, host, dest, sent = _dh_upload_evidence(os.path.join(TMP, "dh-scale-in"))
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


from regfgen import regf as _dh_regf, SYSTEM_KEYS as _DH_HIVE_KEYS, \
    SYSTEM_LISTS as _DH_HIVE_LISTS, CS as _DH_CS  # noqa: E402


def _dh_inferred(c):
    con = db(c)
    return (con.execute("SELECT i.addr, i.source, i.origin, i.used FROM image_host i ORDER BY "
                        "1, 2").fetchall(),
            con.execute("SELECT name, origin FROM image_hostname ORDER BY 1, 2").fetchall(),
            [r[0] for r in con.execute("SELECT detail FROM anomaly WHERE kind = "
                                       "'image.host_inferred'")])


@test
def disk_image_host_inferred_from_the_system_hive():
    if shutil.which("mformat") is None:
        raise Skip("mtools is absent (Debian package mtools)")
    hive = _dh_regf(_DH_HIVE_KEYS, _DH_HIVE_LISTS)
    if shutil.which("hivexget"):  # the writer agrees with an independent reader
        hp = os.path.join(TMP, "dh-SYSTEM")
        with open(hp, "wb") as fh:
            fh.write(hive)
        got = subprocess.run(["hivexget", hp, _DH_CS + "\\Interfaces\\{AAAA-1}", "IPAddress"],
                             capture_output=True, text=True)
        assert got.returncode == 0 and got.stdout.split() == ["10.30.0.21", "10.30.0.22"], got
        got = subprocess.run(["hivexget", hp, "ControlSet002\\Control\\ComputerName\\"
                              "ComputerName", "ComputerName"], capture_output=True, text=True)
        assert got.stdout.strip() == "WS21", got
    img, cap, host, dest, sent = _dh_upload_evidence(
        os.path.join(TMP, "dh-win-in"), {"Windows/System32/config/SYSTEM": hive})
    # expected, written first: the current control set's (002) names and addresses, each with
    # its key; 0.0.0.0 and link-local passed over; none of ControlSet001
    sysp = "Windows/System32/config/SYSTEM: "
    ifs = sysp + _DH_CS + "\\Interfaces\\"
    want_addrs = [("10.30.0.21", "inferred", ifs + "{AAAA-1}\\IPAddress", 1),
                  ("10.30.0.22", "inferred", ifs + "{AAAA-1}\\IPAddress", 1),
                  ("10.30.0.23", "inferred", ifs + "{BBBB-2}\\DhcpIPAddress", 1),
                  ("2001:db8:30::24", "inferred", ifs + "{DDDD-4}\\IPAddress", 1)]
    want_names = [("WS21", sysp + "ControlSet002\\Control\\ComputerName\\ComputerName\\"
                   "ComputerName"), ("ws21", sysp + _DH_CS + "\\Hostname")]
    c = case("dh-win")
    run("analyze", "-q", img, cap, "-o", c, check=0)
    addrs, names, notes = _dh_inferred(c)
    assert addrs == want_addrs, addrs
    assert names == want_names, names
    assert len(notes) == 1 and "several candidate addresses" in notes[0], notes
    assert "10.30.0.23" in notes[0] and "WS21" in notes[0], notes
    # none of them is the uploading host: no staged_upload
    assert _dh_staged(c)[1] == [], _dh_staged(c)


_DH_LINUX = {
    "etc/hostname": b"ws11\n",
    "etc/hosts": b"127.0.0.1 localhost\n127.0.1.1 ws11.clinic.example ws11\n"
                 b"10.20.0.11 ws11.clinic.example ws11\n10.20.0.99 fileserver\n"
                 b"# 10.20.0.77 ws11\n::1 localhost ip6-localhost\n",
    "etc/network/interfaces": b"auto eth0\niface eth0 inet static\n    address 10.20.0.12/24\n"
                              b"    gateway 10.20.0.1\n",
    "etc/netplan/01-netcfg.yaml": b"network:\n  version: 2\n  ethernets:\n    eth1:\n"
                                  b"      addresses:\n        - 10.20.0.13/24\n"
                                  b"        - \"fd00::13/64\"\n      routes:\n"
                                  b"        - to: default\n          via: 10.20.0.1\n"
                                  b"    eth2:\n      addresses: [10.20.0.14/24]\n",
    "etc/NetworkManager/system-connections/office.nmconnection":
        b"[connection]\nid=office\n[ipv4]\nmethod=manual\naddress1=10.20.0.15/24,10.20.0.1\n"
        b"dns=10.20.0.2;\n",
    "var/lib/dhcp/dhclient.eth0.leases": b"lease {\n  interface \"eth0\";\n"
                                         b"  fixed-address 10.20.0.9;\n"
                                         b"  option routers 10.20.0.1;\n}\n",
    "etc/motd": b"10.20.0.66 is not a configuration\n",
}


def _dh_ext4(d, files):
    """An ext4 image (mkfs.ext4 -d: no root) holding `files` and the upload evidence's zip."""
    src = os.path.join(d, "root")
    for path, data in files.items():
        p = os.path.join(src, path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as fh:
            fh.write(data)
    return src


@test
def disk_image_host_inferred_from_linux_configuration():
    if shutil.which("mkfs.ext4") is None or shutil.which("mformat") is None:
        raise Skip("mkfs.ext4 or mtools is absent (Debian packages e2fsprogs, mtools)")
    d = os.path.join(TMP, "dh-linux-in")
    fat, cap, host, dest, sent = _dh_upload_evidence(d)
    # the same staged zip on an ext4 image with the Linux configuration files
    src = _dh_ext4(d, _DH_LINUX)
    os.makedirs(os.path.join(src, "export"), exist_ok=True)
    shutil.copy2(os.path.join(d, "pt.zip"), os.path.join(src, "export", "pt.zip"))
    img = os.path.join(d, "ws11.img")
    with open(img, "wb") as fh:
        fh.truncate(8 * 1024 * 1024)
    _disk_tool("mkfs.ext4", "-q", "-F", "-E", "nodiscard", "-d", src, img)
    # expected, written first
    want = [("10.20.0.11", "etc/hosts: line 3"), ("10.20.0.12", "etc/network/interfaces: line 3"),
            ("10.20.0.13", "etc/netplan/01-netcfg.yaml: line 6"),
            ("10.20.0.14", "etc/netplan/01-netcfg.yaml: line 12"),
            ("10.20.0.15", "etc/NetworkManager/system-connections/office.nmconnection: line 5"),
            ("10.20.0.9", "var/lib/dhcp/dhclient.eth0.leases: line 3"),
            ("fd00::13", "etc/netplan/01-netcfg.yaml: line 7")]
    c = case("dh-linux")
    run("analyze", "-q", img, cap, "-o", c, check=0)
    addrs, names, notes = _dh_inferred(c)
    assert [(a, o) for a, s, o, u in addrs] == want, addrs
    assert {(s, u) for a, s, o, u in addrs} == {("inferred", 1)}, addrs
    assert names == [("ws11", "etc/hostname: line 1")], names
    assert len(notes) == 1 and "several candidate addresses" in notes[0], notes
    with open(os.path.join(c, "report.txt")) as fh:
        assert "several candidate addresses" in fh.read(), "the report says so"
    # one of the candidates (the DHCP lease) is the uploading host: the join finds it
    links, found, verdict = _dh_staged(c)
    assert found == [(host, dest, sent)], found
    assert verdict == ("likely",), verdict
    det = json.loads(db(c).execute("SELECT detail FROM finding WHERE heuristic = "
                                   "'staged_upload'").fetchone()[0])
    assert det["host_source"] == "inferred", det
    assert det["host_origin"] == "var/lib/dhcp/dhclient.eth0.leases: line 3", det
    # the same in a scale-out run: the image and the capture in different shards, the
    # inference and the join at the merge
    plan = os.path.join(TMP, "dh-linux-plan.txt")
    run("plan", "-q", img, cap, "--shards", "2", "-o", plan, check=0)
    shards = []
    for i in range(2):
        s = case("dh-linux-shard%d" % i)
        run("analyze", "--plan", plan, "--shard", str(i), "-q", "-o", s, check=0)
        shards.append(s)
    merged = case("dh-linux-merged")
    run("merge", "-q", "-o", merged, *shards, check=0)
    assert _dh_inferred(merged)[:2] == (addrs, names), _dh_inferred(merged)
    assert _dh_staged(merged)[1:] == (found, verdict), _dh_staged(merged)
    # an explicit link wins: the inferred addresses are kept but not used
    c2 = case("dh-linux-option")
    run("analyze", "-q", img, cap, "--image-host", "ws11.img=10.20.0.77", "-o", c2, check=0)
    addrs2, _, notes2 = _dh_inferred(c2)
    assert ("10.20.0.77", "option", None, 1) in addrs2, addrs2
    assert [(a, o) for a, s, o, u in addrs2 if s == "inferred" and u == 0] == want, addrs2
    assert "not used: --image-host links this image" in notes2[0], notes2
    assert _dh_staged(c2)[1] == [], "the option's host sent nothing"
