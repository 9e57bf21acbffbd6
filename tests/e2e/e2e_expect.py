# e2e_expect.py - connections announced by another flow (analyze/expect.h, issue 13): an FTP
# data channel whose SYN follows its announcement at once, so that both are in the reader's
# same batch and no worker has read the announcement when the reader routes the SYN. Run in
# run_e2e.py's namespace (@test, run, case, db).

def _expect_capture():
    """Eight FTP sessions (PORT, PASV, EPRT, EPSV twice each) whose data connection opens in
    the frame right after the announcement, before the reply or the transfer command."""
    import pcapw
    cli, srv = "10.4.0.7", "198.51.100.21"
    cap = pcapw.Capture()
    bodies = []
    for i in range(8):
        mode = ("PORT", "PASV", "EPRT", "EPSV")[i % 4]
        body = ("mrn,name\n%07d,EXPECT%d\n" % (6200000 + i, i)).encode() * (40 + i)
        name = "batch-%d-%s.csv" % (i, mode.lower())
        ctl = cap.tcp(cli, srv, 41000 + i, 21)
        ctl.s(b"220 test FTP server ready\r\n")
        ctl.c(b"USER u%d\r\n" % i).s(b"331 Password required.\r\n")
        ctl.c(b"PASS x\r\n").s(b"230 Logged in.\r\n")
        port = 50000 + 7 * i
        if mode == "PORT":
            ctl.c(b"PORT 10,4,0,7,%d,%d\r\n" % (port >> 8, port & 255))
            data = cap.tcp(srv, cli, 20, port)
            ctl.s(b"200 PORT command successful.\r\n")
        elif mode == "EPRT":
            ctl.c(b"EPRT |1|10.4.0.7|%d|\r\n" % port)
            data = cap.tcp(srv, cli, 20, port)
            ctl.s(b"200 EPRT command successful.\r\n")
        elif mode == "PASV":
            ctl.c(b"PASV\r\n").s(b"227 Entering Passive Mode (198,51,100,21,%d,%d).\r\n"
                                 % (port >> 8, port & 255))
            data = cap.tcp(cli, srv, 42000 + i, port)
        else:
            ctl.c(b"EPSV\r\n").s(b"229 Entering Extended Passive Mode (|||%d|)\r\n" % port)
            data = cap.tcp(cli, srv, 42000 + i, port)
        ctl.c(b"STOR %s\r\n" % name.encode()).s(b"150 Ok to send data.\r\n")
        if mode in ("PORT", "EPRT"):
            data.s(body).close()  # the server connected back; the client's bytes flow to it
        else:
            data.c(body).close()
        ctl.s(b"226 Transfer complete.\r\n")
        ctl.c(b"QUIT\r\n").s(b"221 Goodbye.\r\n").close()
        bodies.append((name, "u%d" % i, body))
    return cap.bytes(), bodies


@test
def ftp_data_channel_in_the_announcements_batch_at_any_thread_count():
    import hashlib
    cap, bodies = _expect_capture()
    c0 = case("expect-in")
    os.makedirs(c0, exist_ok=True)
    p = os.path.join(c0, "expect.pcap")
    with open(p, "wb") as fh:
        fh.write(cap)
    want = sorted(("STOR", name, user, len(body), "upload", 1, hashlib.sha256(body).hexdigest())
                  for name, user, body in bodies)
    for threads in ("1", "2", "4"):
        c = case("expect-j" + threads)
        run("analyze", "-q", "-j", threads, "--home-net", "10.0.0.0/8", p, "-o", c, check=0)
        con = db(c)
        rows = sorted(con.execute("SELECT command, name, user, size, direction, complete, sha256"
                                  " FROM ftp_transfer").fetchall())
        assert rows == want, (threads, rows)
        apps = sorted(r[0] for r in con.execute("SELECT app FROM flow"))
        assert apps == ["ftp"] * 8 + ["ftp-data"] * 8, (threads, apps)
        raw = con.execute("SELECT count(*) FROM object WHERE protocol = 'tcp'").fetchone()[0]
        assert raw == 0, (threads, "data channels stored as raw TCP", raw)
