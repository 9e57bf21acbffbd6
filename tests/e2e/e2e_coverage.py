# e2e_coverage.py - the verdict never outruns the evidence (issue 11): per-host staging,
# coverage of every input, content no parser opened. Run in run_e2e.py's namespace.
import os
import random


def _write(d, files):
    os.makedirs(d, exist_ok=True)
    out = []
    for name, data in files.items():
        p = os.path.join(d, name)
        with open(p, "wb") as fh:
            fh.write(data)
        out.append(p)
    return out


def _roster(n):
    rows = ["mrn,last_name,first_name,dob,ssn,diagnosis"]
    rows += ["%07d,DOE%d,JANE,1961-04-12,%03d-22-%04d,E11.9" % (4200000 + i, i, 200 + i, 1000 + i)
             for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def _staging_case(name, reader):
    import pcapw
    rnd = random.Random(11)
    csv = _roster(50)
    get = b"GET /export.csv HTTP/1.1\r\nHost: ehr.local\r\n\r\n"
    resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n" % len(csv) + csv
    blob = bytes(rnd.getrandbits(8) for _ in range(2 * 1024 * 1024))
    cap = pcapw.pcap([(reader, "10.2.0.9", 41000, 80, get, resp),
                      ("10.2.0.2", "203.0.113.50", 41001, 443, blob, b"\x17\x03\x03\x00\x02ok")])
    c = case(name)
    paths = _write(c + "-in", {"staging.pcap": cap})
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    return db(c).execute("SELECT verdict, json_extract(reasons, '$.phi_staged_bytes') FROM "
                         "exfil_event WHERE source = '10.2.0.2' AND destination = "
                         "'203.0.113.50'").fetchone()


@test
def coverage_staged_phi_is_per_host():
    # host A (10.2.0.1) reads a PHI export; host B (10.2.0.2) sends 2 MiB of unreadable bytes
    # to a rare outside address: B held no PHI, so its upload is possible, not likely
    v = _staging_case("staged-other", "10.2.0.1")
    assert v is not None and v[0] == "possible" and v[1] == 0, v
    # the same upload by the host that read the export is likely
    v = _staging_case("staged-same", "10.2.0.2")
    assert v is not None and v[0] == "likely" and v[1] > 0, v
