# Staged on a host, then sent out by it (issue 15 item 4): a disk image linked to its host with
# `--image-host IMAGE=ADDR` holds a PHI archive in a staging folder; a capture shows that host
# sending unread bytes out before and after the archive's time. The expected answers were
# written before the code ran. Run in run_e2e.py's namespace with e2e_disk.py's and
# e2e_disk_staging.py's helpers (_disk_tool, _disk_csv, _st_people, _st_zip).
import json
import random


def _up_stream(fr, C, S, cport, dport, t, payload):
    """A TCP connection from C to S carrying `payload` (no decoder reads it), closed."""
    c, s = 1000, 5000
    fr.append((t, tcp_frame(C, S, cport, dport, c, 0, 2)))
    fr.append((t, tcp_frame(S, C, dport, cport, s, c + 1, 0x12)))
    c, s = c + 1, s + 1
    fr.append((t, tcp_frame(C, S, cport, dport, c, s, 0x10)))
    for i in range(0, len(payload), 1400):
        d = payload[i:i + 1400]
        fr.append((t + 1000 + i, tcp_frame(C, S, cport, dport, c, s, 0x18, d)))
        c += len(d)
    end = t + 1000 + len(payload) + 1000
    fr.append((end, tcp_frame(C, S, cport, dport, c, s, 0x11)))
    fr.append((end, tcp_frame(S, C, dport, cport, s, c + 1, 0x11)))
    fr.append((end, tcp_frame(C, S, cport, dport, c + 1, s + 1, 0x10)))


@test
def disk_staged_archive_then_upload_from_its_host_is_likely():
    if shutil.which("mformat") is None:
        raise Skip("mtools is absent (Debian package mtools)")
    d = os.path.join(TMP, "disk-upload-src")
    os.makedirs(d, exist_ok=True)
    rnd = random.Random(15)
    people = _st_people("UPLOADED", 4, 4301000)
    # a PHI archive (with an incompressible member, so its size is known to the byte)
    z = _st_zip({"roster.csv": _disk_csv(people),
                 "scan.bin": bytes(rnd.getrandbits(8) for _ in range(60000))})
    t0 = 1767261600  # 2026-01-01T10:00:00Z: the archive's modification time
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
    # FAT keeps local time without a zone: the flows are two days either side of t0, so the
    # order holds whatever zone the image's times are read in
    day = 86400 * 1000000
    T = t0 * 1000000
    host, dest, small_dest, other = "10.20.0.9", "203.0.113.50", "203.0.113.51", "10.20.0.10"
    before = bytes(rnd.getrandbits(8) for _ in range(90000))
    after = bytes(rnd.getrandbits(8) for _ in range(len(z) + 20000))
    small = bytes(rnd.getrandbits(8) for _ in range(len(z) // 5))
    fr = []
    _up_stream(fr, host, dest, 40100, 4444, T - 2 * day, before)
    _up_stream(fr, host, dest, 40101, 4444, T + 2 * day, after)
    _up_stream(fr, host, small_dest, 40102, 4444, T + 2 * day + 5000000, small)
    _up_stream(fr, other, "198.51.100.80", 40103, 4444, T + 2 * day, after)
    fr.sort(key=lambda x: x[0])
    cap = os.path.join(d, "uplink.pcap")
    write_pcap(cap, fr)

    # expected, written first: one staged_upload finding, host -> dest, the archive covered by
    # the bytes sent after it only; its event likely; nothing for the small upload or the
    # other host
    want_bytes = len(after)
    c = case("disk-upload")
    p = run("analyze", "-q", img, cap, "--image-host", "ws09.img=" + host, "--image-host",
            "nosuch.img=10.9.9.9", "-o", c, check=0)
    assert "nosuch.img" in p.stderr and "no input is named" in p.stderr, p.stderr
    con = db(c)
    assert con.execute("SELECT e.path, i.addr, i.source FROM image_host i JOIN evidence_item e "
                       "ON e.id = i.item_id").fetchall() == [(img, host, "option")]
    rows = con.execute("SELECT source, destination, bytes_out, detail, summary FROM finding "
                       "WHERE heuristic = 'staged_upload'").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [(host, dest, want_bytes)], rows
    det = json.loads(rows[0][3])
    assert det["image"] == img and det["host"] == host, det
    assert det["staged_files_count"] == 1 and det["bytes_out_after"] == want_bytes, det
    f = det["staged_files"][0]
    assert (f["path"], f["size"]) == ("export/pt.zip", len(z)), f
    assert abs(f["staged_ts"] - T) <= 14 * 3600 * 1000000 + 2000000, (f["staged_ts"], T)
    assert "in staging folder" in f["reason"] or "archive" in f["reason"], f
    assert "export/pt.zip" in rows[0][4] and dest in rows[0][4], rows[0][4]
    ev = con.execute("SELECT source, destination, verdict, bytes_out, json_extract(reasons, "
                     "'$.disk_staged') FROM exfil_event ORDER BY source, destination").fetchall()
    fid = con.execute("SELECT id FROM finding WHERE heuristic = 'staged_upload'").fetchone()[0]
    # the other host's upload is exfiltration-shaped too (a burst), but nothing was staged on
    # it: possible
    assert ev == [(other, "198.51.100.80", "possible", len(after), None),
                  (host, dest, "likely", len(before) + len(after), "[%d]" % fid)], ev
    assert con.execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchone() == \
        ("likely",)
    assert con.execute("SELECT verdict FROM verdict WHERE scope = 'destination' AND subject = "
                       "?", (dest,)).fetchone() == ("likely",)
    with open(os.path.join(c, "report.json")) as fh:
        rep = json.load(fh)
    assert "staged_upload" in json.dumps(rep), "the report names the finding"

    # without the link the same evidence gives no such finding, and nothing likely
    c2 = case("disk-upload-unlinked")
    run("analyze", "-q", img, cap, "-o", c2, check=0)
    con2 = db(c2)
    assert con2.execute("SELECT count(*) FROM finding WHERE heuristic = 'staged_upload'"
                        ).fetchone() == (0,)
    assert con2.execute("SELECT count(*) FROM exfil_event WHERE verdict != 'possible'"
                        ).fetchone() == (0,)
    assert con2.execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchone() == \
        ("possible",)
