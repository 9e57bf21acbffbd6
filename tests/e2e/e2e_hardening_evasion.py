# e2e_hardening_evasion.py - protocol detection and parsing that fail closed (issue 17,
# "Fail closed"): evasions that used to turn a confirmed breach into "not observed".
# Run in run_e2e.py's namespace.


def _evasion_csv(n=30):
    rows = ["mrn,last_name,first_name,dob,ssn,diagnosis"]
    rows += ["%07d,ROE%d,JOHN,1970-01-02,%03d-33-%04d,I10" % (4300000 + i, i, 300 + i, 2000 + i)
             for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def _evasion_case(name, request_segments):
    import pcapw
    cap = pcapw.pcap([("10.3.0.5", "203.0.113.77", 43000, 80, request_segments,
                       b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")])
    c = case(name)
    os.makedirs(c + "-in", exist_ok=True)
    p = os.path.join(c + "-in", "e.pcap")
    with open(p, "wb") as fh:
        fh.write(cap)
    run("analyze", "-q", "--home-net", "10.0.0.0/8", p, "-o", c, check=0)
    return c


@test
def evasion_request_line_cut_over_segments_is_still_http():
    body = _evasion_csv()
    head = b"POST /upload HTTP/1.1\r\nHost: x.example\r\nContent-Type: text/csv\r\n" \
           b"Content-Length: %d\r\n\r\n" % len(body)
    whole = head + body
    for cut in (1, 2, 4, 13):
        c = _evasion_case("evasion-cut-%d" % cut, [whole[:cut], whole[cut:cut + 1400],
                                                   whole[cut + 1400:]])
        app = db(c).execute("SELECT app FROM flow").fetchone()[0]
        v = db(c).execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchone()[0]
        n = db(c).execute("SELECT estimate FROM individuals WHERE scope = 'outbound'").fetchone()[0]
        assert (app, v, n) == ("http", "confirmed", 30), (cut, app, v, n)
