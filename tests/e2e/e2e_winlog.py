# e2e_winlog.py - issue 14: Windows logons (4624/4625/4648), Kerberos (4768/4769/4771) and
# object access (4663) weighed (verdict/heur_logon_remote.c, heur_logon_guess.c,
# heur_logon_spray.c, heur_logon_explicit.c, heur_file_access.c).
# Loaded by run_e2e.py (shared namespace with e2e_evtx.py's _evtx_* helpers, e2e_logs.py's
# _logs_dir and e2e_disk*.py's _st_fat, _disk_csv). The EVTX files are written by
# tests/e2e/evtxw.py and checked with python-evtx and evtxexport first; the expected findings
# below were written from the scenario before phitrace ran on it.

_WL_PEOPLE = [(4200001, "MARSH", "OLIVE", "1958-03-14", "536-41-7001"),
              (4200002, "BRANT", "TOBIAS", "1971-11-02", "536-41-7002"),
              (4200003, "QUILL", "NORA", "1984-06-25", "536-41-7003")]


def _wl_logon(sec, user, ltype, ip, port="0", ws="-", pkg="NTLM", lid="0x0"):
    return _evtx_ev(4624, sec, _evtx_subject("WS07$") + [
        ("TargetUserSid", "S-1-5-21-1-2-3-500"), ("TargetUserName", user),
        ("TargetDomainName", "HOSP"), ("TargetLogonId", lid), ("LogonType", str(ltype)),
        ("LogonProcessName", "NtLmSsp"), ("AuthenticationPackageName", pkg),
        ("WorkstationName", ws), ("ProcessName", "-"), ("IpAddress", ip), ("IpPort", port)])


def _wl_fail(sec, user, ltype, ip, ws="-"):
    return _evtx_ev(4625, sec, _evtx_subject("-") + [
        ("TargetUserName", user), ("TargetDomainName", "HOSP"), ("Status", "0xc000006d"),
        ("SubStatus", "0xc000006a"), ("LogonType", str(ltype)),
        ("AuthenticationPackageName", "NTLM"), ("WorkstationName", ws), ("IpAddress", ip),
        ("IpPort", "0")])


def _wl_explicit(sec, server, ip):
    return _evtx_ev(4648, sec, _evtx_subject("admin") + [
        ("TargetUserName", "svc_backup"), ("TargetDomainName", "HOSP"),
        ("TargetServerName", server), ("TargetInfo", server),
        ("ProcessName", "C:\\Windows\\System32\\net.exe"), ("IpAddress", ip), ("IpPort", "445")])


def _wl_read(sec, path, mask="0x1", proc="C:\\Windows\\explorer.exe"):
    return _evtx_ev(4663, sec, _evtx_subject("admin") + [
        ("ObjectServer", "Security"), ("ObjectType", "File"), ("ObjectName", path),
        ("AccessMask", mask), ("ProcessName", proc)])


def _wl_dns(sec, port, server):
    return _evtx_ev(5156, sec, [
        ("ProcessID", "1200"), ("Application", "\\device\\harddiskvolume2\\windows\\system32\\"
                                               "svchost.exe"),
        ("Direction", "%%14593"), ("SourceAddress", "10.2.0.7"), ("SourcePort", str(port)),
        ("DestAddress", server), ("DestPort", "53"), ("Protocol", "17")])


def _wl_events():
    """WS07's Security log: its address from two DNS connections (5156 to internal servers);
    12 failed RDP logons from 203.0.113.9 (admin x8, administrator x4) then admin's RDP logon
    from there; 15 failures from 198.51.100.66 for backup that no logon follows, and backup's
    logon from inside; 5 failures from 192.0.2.44 then two network logons of nurse1 from
    there (too few to be guessing: a remote logon); internal, loopback and console logons;
    explicit credentials toward fs01, localhost and WS07 itself; reads of the patient export
    (on the disk image), of a file named like one, of notepad, a ReadAttributes of the export,
    and after the upload a read of another patients file."""
    ev = [_wl_dns(5, 53000, "10.2.0.1"), _wl_dns(6, 53001, "10.2.0.2")]
    for i in range(12):
        ev.append(_wl_fail(10 + 10 * i, "administrator" if i % 3 == 2 else "admin", 10,
                           "203.0.113.9", "KALI"))
    for i in range(15):
        ev.append(_wl_fail(20 + 5 * i + 1, "backup", 3, "198.51.100.66"))
    ev.append(_wl_logon(100, "backup", 3, "10.2.0.30", "50100"))
    ev.append(_wl_logon(130, "admin", 10, "203.0.113.9", "40222", "KALI", "Negotiate",
                        "0x8d2f1a"))
    ev.append(_wl_logon(140, "jdoe", 3, "10.2.0.9", "50111"))
    ev.append(_wl_logon(150, "jdoe", 10, "10.2.0.50", "50112"))
    ev.append(_wl_logon(160, "jdoe", 10, "127.0.0.1", "0"))
    ev.append(_wl_logon(170, "jdoe", 2, "-", "-"))
    for i in range(5):
        ev.append(_wl_fail(180 + 10 * i, "nurse1", 3, "192.0.2.44"))
    ev.append(_wl_logon(230, "nurse1", 3, "192.0.2.44", "51000"))
    ev.append(_wl_logon(235, "nurse1", 3, "192.0.2.44", "51002"))
    ev.append(_wl_explicit(240, "fs01.hosp.local", "10.2.0.20"))
    ev.append(_wl_explicit(245, "localhost", "127.0.0.1"))
    ev.append(_wl_explicit(246, "WS07", "-"))
    ev.append(_wl_read(300, "C:\\Exports\\patients_2024.csv"))
    ev.append(_wl_read(305, "C:\\Exports\\patients_2024.csv"))
    ev.append(_wl_read(310, "D:\\Share\\billing\\patient_export_march.xlsx"))
    ev.append(_wl_read(320, "C:\\Windows\\notepad.exe"))
    ev.append(_wl_read(321, "C:\\Exports\\patients_2024.csv", "0x80"))
    ev.append(_wl_read(900, "C:\\Exports\\patients_2024_b.csv"))
    ev.sort(key=lambda e: e["ts_us"])
    return ev


def _wl_conn():
    """Zeek's conn log: WS07 (10.2.0.7) sends 50 MB over TLS to 198.51.100.77 at +400 s."""
    head = (b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
            b"#path\tconn\n#open\t2024-01-05-10-00-00\n"
            b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
            b"duration\torig_bytes\tresp_bytes\tconn_state\n"
            b"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\t"
            b"count\tstring\n")
    t = _EVTX_T0 // 1000000 + 400
    return head + b"%d.000000\tCwl0001\t10.2.0.7\t50000\t198.51.100.77\t443\ttcp\tssl\t60.0\t" \
                  b"50000000\t40000\tSF\n" % t


@test
def winlog_logons_and_patient_export_join_the_hosts_upload():
    """Written before running. Findings (source WS07's address 10.2.0.7, from its own 5156):
    password_guessing (12 failures from 203.0.113.9, 2 accounts, first at +10 s, then admin's
    type 10 logon at +130 s, destination 203.0.113.9); remote_logon for 203.0.113.9 (type 10,
    admin, 1 logon, protocol rdp) and for 192.0.2.44 (type 3, nurse1, 2 logons); one
    explicit_credentials toward fs01 (10.2.0.20); phi_file_access for the export on the image
    (matched by path, 2 reads, 3 individuals), for patient_export_march.xlsx (the name rule
    *patient*export*) and, after the upload, for patients_2024_b.csv (rule *patients*).
    Nothing for the internal, loopback and console logons, the burst without a logon, the
    five failures, 4648 to localhost or to WS07, notepad, or the ReadAttributes. Four
    phi_access rows (source evtx). The upload to 198.51.100.77 is one event whose reasons hold
    every one of these findings but the read after it, and it is 'likely' (the host read 3
    individuals' file, then sent unread bytes well over its size to a rare destination)."""
    _evtx_need_reader()
    evs = _wl_events()
    rec = {}  # (event id, seconds) -> record identifier, as the writer numbers them
    for i, e in enumerate(evs):
        rec.setdefault((e["event_id"], (e["ts_us"] - _EVTX_T0) // 1000000), i + 1)
    c = case("winlog-scenario")
    evtx, _ = _evtx_write("WS07-Security", evs)
    _evtx_check_independently(evtx, evs)
    conn = _logs_dir("winlog-zeek", {"conn.log": _wl_conn()})[0]
    csv = _disk_csv(_WL_PEOPLE)
    img = _st_fat(c + "-img", "ws07.img", 8, ("Exports",), {"Exports/patients_2024.csv": csv})
    run("analyze", "-q", "--home-net", "10.0.0.0/8", evtx, conn, img, "-o", c, check=None)
    con = db(c)
    t = lambda s: _EVTX_T0 + s * 1000000  # noqa: E731
    mine = ("remote_logon", "password_guessing", "explicit_credentials", "phi_file_access")
    got = sorted(con.execute(
        "SELECT heuristic, source, destination, protocol, first_ts, last_ts FROM finding WHERE "
        "heuristic IN (%s)" % ",".join("'%s'" % m for m in mine)).fetchall())
    want = sorted([
        ("password_guessing", "10.2.0.7", "203.0.113.9", "", t(10), t(130)),
        ("remote_logon", "10.2.0.7", "203.0.113.9", "rdp", t(130), t(130)),
        ("remote_logon", "10.2.0.7", "192.0.2.44", "", t(230), t(235)),
        ("explicit_credentials", "10.2.0.7", "10.2.0.20", "", t(240), t(240)),
        ("phi_file_access", "10.2.0.7", "", "", t(300), t(305)),
        ("phi_file_access", "10.2.0.7", "", "", t(310), t(310)),
        ("phi_file_access", "10.2.0.7", "", "", t(900), t(900)),
    ])
    assert got == want, "\n".join(map(repr, got))
    det = {}
    for h, d in con.execute("SELECT heuristic, detail FROM finding WHERE heuristic IN (%s) "
                            "ORDER BY first_ts" % ",".join("'%s'" % m for m in mine)):
        det.setdefault(h, []).append(json.loads(d))
    g = det["password_guessing"][0]
    assert (g["failures"], g["accounts_tried"], g["account"], g["logon_type"], g["source"],
            g["logon_record"], g["seconds"]) == (12, 2, "HOSP\\admin", 10, "203.0.113.9",
                                                 rec[(4624, 130)], 120), g
    assert g["failure_records"] == [rec[(4625, 10 + 10 * i)] for i in range(12)], g
    r10, r3 = det["remote_logon"]
    assert (r10["accounts"], r10["logon_type"], r10["client_port"], r10["workstation"],
            r10["auth_package"], r10["logon_id"], r10["logons"], r10["records"]) == (
        ["HOSP\\admin"], 10, 40222, "KALI", "Negotiate", "0x8d2f1a", 1, [rec[(4624, 130)]]), r10
    assert (r3["accounts"], r3["logon_type"], r3["logons"], r3["records"]) == (
        ["HOSP\\nurse1"], 3, 2, [rec[(4624, 230)], rec[(4624, 235)]]), r3
    x = det["explicit_credentials"][0]
    assert (x["subject"], x["account"], x["target_server"], x["target_addr"], x["process"],
            x["records"]) == ("HOSP\\admin", "HOSP\\svc_backup", "fs01.hosp.local", "10.2.0.20",
                              "C:\\Windows\\System32\\net.exe", [rec[(4648, 240)]]), x
    f1, f2, f3 = det["phi_file_access"]
    assert (f1["matched"], f1["image_path"], f1["size"], f1["individuals"], f1["reads"],
            f1["records"]) == ("path", "Exports/patients_2024.csv", len(csv), 3, 2,
                               [rec[(4663, 300)], rec[(4663, 305)]]), f1
    assert (f2["matched"], f2["rule"], f2["object"]) == (
        "rule", "*patient*export*", "D:\\Share\\billing\\patient_export_march.xlsx"), f2
    assert (f3["matched"], f3["rule"]) == ("rule", "*patients*"), f3
    # every finding names its EVTX records in its summary, in the timeline, and says evtx
    for h, summ, srcs in con.execute("SELECT heuristic, summary, json_extract(detail, "
                                     "'$.sources') FROM finding WHERE heuristic IN (%s)"
                                     % ",".join("'%s'" % m for m in mine)):
        assert "EVTX record" in summ and "WS07-Security.evtx" in summ, summ
        assert "evtx" in json.loads(srcs), (h, srcs)
    tl = con.execute("SELECT count(*) FROM timeline_event WHERE data_type IN (%s) AND message "
                     "LIKE '%%EVTX record%%'" % ",".join("'phitrace:finding:%s'" % m
                                                        for m in mine)).fetchone()[0]
    assert tl == len(want), tl
    acc = sorted(con.execute("SELECT line, client, host, method, resp_bytes, individuals, "
                             "source FROM phi_access").fetchall())
    assert acc == sorted([
        (rec[(4663, 300)], "10.2.0.7", "WS07.hosp.local", "read", len(csv), 3, "evtx"),
        (rec[(4663, 305)], "10.2.0.7", "WS07.hosp.local", "read", len(csv), 3, "evtx"),
        (rec[(4663, 310)], "10.2.0.7", "WS07.hosp.local", "read", 0, 0, "evtx"),
        (rec[(4663, 900)], "10.2.0.7", "WS07.hosp.local", "read", 0, 0, "evtx"),
    ]), acc
    evs_ = con.execute("SELECT source, destination, verdict, reasons FROM exfil_event"
                       ).fetchall()
    assert [(s, d, v) for s, d, v, _ in evs_] == [("10.2.0.7", "198.51.100.77", "likely")], evs_
    reasons = json.loads(evs_[0][3])
    joined = set(reasons["findings"])
    host_ids = {i for i, ts in con.execute(
        "SELECT id, first_ts FROM finding WHERE heuristic IN (%s)" % ",".join(
            "'%s'" % m for m in mine))}
    late = {i for (i,) in con.execute("SELECT id FROM finding WHERE first_ts = ?", (t(900),))}
    assert joined & host_ids == host_ids - late, (joined, host_ids, late)
    for m in mine:
        assert m in reasons["heuristics"].split(","), reasons
    assert "evtx" in reasons["sources"], reasons
    rep = json.load(open(os.path.join(c, "report.json")))
    _st_valid(rep)  # the report's schema knows the heuristics
    heur = {f["heuristic"] for f in report_list(c, "findings", rep)}
    assert heur >= set(mine), heur


@test
def winlog_without_an_address_names_the_computer_and_joins_nothing():
    """Written before running: the guessing and two RDP logons (two accounts, one with a
    quote; a workstation and package with quotes and a backslash) alone, with no connection of
    WS07 in the log: the two findings name the computer WS07.hosp.local as their source; a
    conn log's upload from 10.2.0.7 is an event without them (nothing ties the name to the
    address, and a limitation says so); with --image-host linking the log to 10.2.0.7 they
    join it and the limitation is gone."""
    _evtx_need_reader()
    evs = [_wl_fail(10 + 10 * i, "admin", 10, "203.0.113.9") for i in range(10)]
    evs.append(_wl_logon(130, "admin", 10, "203.0.113.9", "40222", 'W"S\\1', 'Neg"'))
    evs.append(_wl_logon(131, 'ad"min', 10, "203.0.113.9", "40223"))
    evtx, _ = _evtx_write("WS07-noaddr", evs)
    conn = _logs_dir("winlog-zeek2", {"conn.log": _wl_conn()})[0]
    for link, src in ((False, "WS07.hosp.local"), (True, "10.2.0.7")):
        c = case("winlog-noaddr-%d" % link)
        extra = ["--image-host", "WS07-noaddr.evtx=10.2.0.7"] if link else []
        run("analyze", "-q", "--home-net", "10.0.0.0/8", *extra, evtx, conn, "-o", c,
            check=None)
        con = db(c)
        got = sorted(con.execute("SELECT heuristic, source, destination FROM finding WHERE "
                                 "heuristic IN ('remote_logon', 'password_guessing')"))
        assert got == [("password_guessing", src, "203.0.113.9"),
                       ("remote_logon", src, "203.0.113.9")], got
        # quotes and backslashes of the log stay text in the JSON detail
        d = json.loads(con.execute("SELECT detail FROM finding WHERE heuristic = "
                                   "'remote_logon'").fetchone()[0])
        assert (d["accounts"], d["accounts_count"], d["workstation"], d["auth_package"],
                d["logons"]) == (["HOSP\\admin", "HOSP\\ad\"min"], 2, 'W"S\\1', 'Neg"', 2), d
        d = json.loads(con.execute("SELECT detail FROM finding WHERE heuristic = "
                                   "'password_guessing'").fetchone()[0])
        assert (d["workstation"], d["auth_package"]) == ('W"S\\1', 'Neg"'), d
        ev = con.execute("SELECT source, reasons FROM exfil_event").fetchall()
        assert len(ev) == 1 and ev[0][0] == "10.2.0.7", ev
        h = json.loads(ev[0][1])["heuristics"].split(",")
        assert ("password_guessing" in h and "remote_logon" in h) == link, h
        lim = con.execute("SELECT count(*) FROM limitation WHERE detail LIKE '%WS07-noaddr.evtx%"
                          "no filtering-platform connection%'").fetchone()[0]
        assert lim == (0 if link else 1), lim


# ---- password spraying: Kerberos pre-authentication (4771) and logon (4625) failures over
# many accounts from one source, then a success (heur_logon_spray.c) --------------------------

_WL_SPRAYER = "198.51.100.66"


def _wl_krb_fail(sec, user, status="0x18", ip="::ffff:" + _WL_SPRAYER):
    """4771 as Microsoft documents it: no TargetDomainName, ServiceName krbtgt/REALM."""
    return _evtx_ev(4771, sec, [
        ("TargetUserName", user), ("TargetSid", "S-1-5-21-1-2-3-2000"),
        ("ServiceName", "krbtgt/HOSP.LOCAL"), ("TicketOptions", "0x40810010"),
        ("Status", status), ("PreAuthType", "2"), ("IpAddress", ip), ("IpPort", "49254"),
        ("CertIssuerName", "-"), ("CertSerialNumber", "-"), ("CertThumbprint", "-")],
        computer="DC01.hosp.local")


def _wl_tgt(sec, user, status, ip="::ffff:" + _WL_SPRAYER):
    return _evtx_ev(4768, sec, [
        ("TargetUserName", user), ("TargetDomainName", "HOSP.LOCAL"),
        ("TargetSid", "S-1-5-21-1-2-3-2007"), ("ServiceName", "krbtgt"),
        ("ServiceSid", "S-1-5-21-1-2-3-502"), ("TicketOptions", "0x40810010"),
        ("Status", status), ("TicketEncryptionType", "0x12"), ("PreAuthType", "2"),
        ("IpAddress", ip), ("IpPort", "49300"), ("CertIssuerName", "-"),
        ("CertSerialNumber", "-"), ("CertThumbprint", "-")], computer="DC01.hosp.local")


def _wl_tgs(sec, user, ip="::ffff:" + _WL_SPRAYER):
    return _evtx_ev(4769, sec, [
        ("TargetUserName", user + "@HOSP.LOCAL"), ("TargetDomainName", "HOSP.LOCAL"),
        ("ServiceName", "FS01$"), ("ServiceSid", "S-1-5-21-1-2-3-1601"),
        ("TicketOptions", "0x40810000"), ("TicketEncryptionType", "0x12"), ("IpAddress", ip),
        ("IpPort", "49301"), ("Status", "0x0"), ("LogonGuid", "{00000000-0000-0000-0000-0}"),
        ("TransmittedServices", "-")], computer="DC01.hosp.local")


def _wl_spray_logs(accounts):
    """DC01's log: Kerberos pre-authentication failures (0x18) from 198.51.100.66 for the
    first accounts - 3 (u01..), one every 5 s from +10 s, and two that are no spray's (a
    computer account, WS09$, and 0x25 clock skew for u99); then u07's TGT granted (4768 0x0)
    at +200 s and a service ticket (4769) at +201 s. WS07's log: failed network logons (4625)
    of the last 3 accounts from the same address at +80, +85, +90 s, then u07's network logon
    from there at +210 s."""
    n_krb = accounts - 3
    dc = [_wl_krb_fail(10 + 5 * i, "u%02d" % (i + 1)) for i in range(n_krb)]
    dc += [_wl_krb_fail(12, "WS09$"), _wl_krb_fail(14, "u99", "0x25"),
           _wl_tgt(200, "u07", "0x0"), _wl_tgs(201, "u07")]
    ws = [_wl_fail(80 + 5 * i, "u%02d" % (n_krb + i + 1), 3, _WL_SPRAYER) for i in range(3)]
    ws.append(_wl_logon(210, "u07", 3, _WL_SPRAYER, "51500"))
    dc.sort(key=lambda e: e["ts_us"])
    ws.sort(key=lambda e: e["ts_us"])
    return dc, ws


def _wl_signatures(name, conf):
    """[] or ["--signatures", DIR]: a copy of the signatures with heuristics.conf's keys of
    conf changed"""
    if conf is None:
        return []
    sig = os.path.join(TMP, "sig-" + name)
    shutil.rmtree(sig, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "signatures"), sig)
    with open(os.path.join(sig, "heuristics.conf")) as f:
        text = f.read()
    for k, v in conf.items():
        text, n = re.subn(r"(?m)^%s = .*$" % k, "%s = %s" % (k, v), text)
        assert n == 1, k
    with open(os.path.join(sig, "heuristics.conf"), "w") as f:
        f.write(text)
    return ["--signatures", sig]


def _wl_spray_case(name, accounts, conf=None):
    dc, ws = _wl_spray_logs(accounts)
    dcf, _ = _evtx_write("DC01-%s" % name, dc)
    wsf, _ = _evtx_write("WS07-%s" % name, ws)
    _evtx_check_independently(dcf, dc)
    _evtx_check_independently(wsf, ws)
    c = case("spray-" + name)
    extra = _wl_signatures(name, conf)
    run("analyze", "-q", "--home-net", "10.0.0.0/8", "--image-host",
        "DC01-%s.evtx=10.2.0.5" % name, "--image-host", "WS07-%s.evtx=10.2.0.7" % name, *extra,
        dcf, wsf, "-o", c, check=None)
    con = db(c)
    got = sorted(con.execute("SELECT heuristic, source, destination, first_ts, last_ts FROM "
                             "finding WHERE heuristic IN ('password_spraying', "
                             "'password_guessing')"))
    return c, con, dc, got


@test
def winlog_password_spray_over_kerberos_and_logons_then_a_success():
    """Written before running. 12 Kerberos failures (4771 0x18) on DC01 and 3 failed logons
    (4625) on WS07 from 198.51.100.66: 15 accounts in 100 s, then u07's TGT (4768 0x0) at
    +200 s: exactly one password_spraying finding, on DC01 (10.2.0.5, the success's host)
    toward 198.51.100.66, from the first failure (+10 s) to the TGT; 15 failures (12
    Kerberos), 15 accounts named u01..u15, 2 computers; the computer account and the clock
    skew failure are not counted; WS07's later logon of u07 is the same (source, account): no
    second finding; no password_guessing (12 failures on DC01 are the spray's). The rows:
    14 kerberos_failed with their status, one kerberos_tgt 0x0, one kerberos_tgs whose
    account keeps its realm."""
    _evtx_need_reader()
    c, con, dc, got = _wl_spray_case("s15", 15)
    t = lambda s: _EVTX_T0 + s * 1000000  # noqa: E731
    assert got == [("password_spraying", "10.2.0.5", _WL_SPRAYER, t(10), t(200))], got
    d = json.loads(con.execute("SELECT detail FROM finding WHERE heuristic = "
                               "'password_spraying'").fetchone()[0])
    rec = {(e["event_id"], (e["ts_us"] - _EVTX_T0) // 1000000): i + 1 for i, e in enumerate(dc)}
    assert (d["failures"], d["kerberos_failures"], d["accounts_tried"], d["failure_computers"],
            d["account"], d["success_event"], d["source"], d["seconds"], d["logon_record"],
            d["first_failure_ts"]) == (15, 12, 15, 2, "HOSP.LOCAL\\u07", 4768, _WL_SPRAYER, 190,
                                       rec[(4768, 200)], t(10)), d
    assert d["accounts"] == ["u%02d" % i for i in range(1, 16)], d
    assert (d["spray_accounts"], d["spray_window_s"]) == (11, 1200), d
    ws_recs = [1, 2, 3]  # WS07's log: the three 4625 come first
    assert d["failure_records"] == [rec[(4771, 10 + 5 * i)] for i in range(12)] + ws_recs, d
    summ = con.execute("SELECT summary FROM finding WHERE heuristic = 'password_spraying'"
                       ).fetchone()[0]
    assert "DC01-s15.evtx" in summ and "Kerberos TGT (4768)" in summ, summ
    rows = con.execute("SELECT kind, count(*), group_concat(DISTINCT access) FROM log_winevent "
                       "WHERE kind LIKE 'kerberos%' GROUP BY kind ORDER BY kind").fetchall()
    assert [(k, n) for k, n, _ in rows] == [("kerberos_failed", 14), ("kerberos_tgs", 1),
                                           ("kerberos_tgt", 1)], rows
    assert set(rows[0][2].split(",")) == {"0x18", "0x25"}, rows
    tgs = con.execute("SELECT target_user, target_server, client_addr FROM log_winevent WHERE "
                      "kind = 'kerberos_tgs'").fetchone()
    assert tgs == ("u07@HOSP.LOCAL", "FS01$", _WL_SPRAYER), tgs
    rep = json.load(open(os.path.join(c, "report.json")))
    _st_valid(rep)
    assert "password_spraying" in {f["heuristic"] for f in report_list(c, "findings", rep)}


@test
def winlog_password_spray_controls_fewer_accounts_and_a_higher_threshold():
    """Written before running. The same spray over 10 accounts (7 Kerberos failures on
    DC01, 3 on WS07): no password_spraying and, with 7 failures on DC01, no password_guessing.
    The 15-account spray with spray_accounts = 16: no password_spraying; the TGT is then
    guessing's (12 failures on DC01 from the source, u07's among them, within 900 s): one
    password_guessing on DC01 toward 198.51.100.66 from +10 s to +200 s."""
    _evtx_need_reader()
    _, _, _, got = _wl_spray_case("s10", 10)
    assert got == [], got
    t = lambda s: _EVTX_T0 + s * 1000000  # noqa: E731
    _, con, _, got = _wl_spray_case("s15hi", 15, {"spray_accounts": 16})
    assert got == [("password_guessing", "10.2.0.5", _WL_SPRAYER, t(10), t(200))], got
    d = json.loads(con.execute("SELECT detail FROM finding WHERE heuristic = "
                               "'password_guessing'").fetchone()[0])
    assert (d["failures"], d["accounts_tried"], d["success_event"]) == (12, 12, 4768), d


# one account asking for many services' tickets in RC4 or DES (heur_kerberoast.c) ------------

_WL_ROASTER = "10.2.0.9"
_WL_SVCS = ["svc_sql", "svc_pacs", "svc_backup", "svc_hl7", "svc_web", "svc_report"]


def _wl_roast_tgs(sec, user, service, enc="0x17", ip=_WL_ROASTER, status="0x0"):
    """4769 as Microsoft documents it: TargetUserName user@REALM, ServiceName the service's
    account, TicketOptions 0x40810000 (what Rubeus and GetUserSPNs ask for)."""
    return _evtx_ev(4769, sec, [
        ("TargetUserName", user + "@HOSP.LOCAL"), ("TargetDomainName", "HOSP.LOCAL"),
        ("ServiceName", service), ("ServiceSid", "S-1-5-21-1-2-3-3001"),
        ("TicketOptions", "0x40810000"), ("TicketEncryptionType", enc),
        ("IpAddress", "::ffff:" + ip), ("IpPort", "50100"), ("Status", status),
        ("LogonGuid", "{00000000-0000-0000-0000-0}"), ("TransmittedServices", "-")],
        computer="DC01.hosp.local")


def _wl_roast_case(name, events, conf=None):
    events = sorted(events, key=lambda e: e["ts_us"])
    dcf, _ = _evtx_write("DC01-%s" % name, events)
    _evtx_check_independently(dcf, events)
    c = case("roast-" + name)
    extra = _wl_signatures(name, conf)
    run("analyze", "-q", "--home-net", "10.0.0.0/8", "--image-host",
        "DC01-%s.evtx=10.2.0.5" % name, *extra, dcf, "-o", c, check=None)
    con = db(c)
    got = sorted(con.execute("SELECT source, destination, first_ts, last_ts FROM finding "
                             "WHERE heuristic = 'kerberoasting'"))
    return c, con, events, got


def _wl_roast_burst(enc="0x17", n=6):
    """jdoe from 10.2.0.9: n services' tickets one a second from +10 s"""
    return [_wl_roast_tgs(10 + i, "jdoe", s, enc) for i, s in enumerate(_WL_SVCS[:n])]


@test
def winlog_kerberoasting_rc4_and_des_tickets_for_many_services():
    """Written before running. DC01's log: jdoe from 10.2.0.9 is granted RC4 (0x17) tickets
    for 6 services at +10..+15 s and svc_sql's again at +16 s; from the same pair, requests
    that do not count: RC4 for krbtgt (+17), for a computer (FS01$, +18), an RC4 request
    refused (0xe, +19), AES (0x12) for svc_lis (+20). mallory from 10.2.0.12: DES (0x1, 0x3)
    tickets for 5 services at +100..+104 (the threshold, 5, exactly). Controls: WS09$ (a
    computer account) from 10.2.0.20 with RC4 for the 6 services; nurse1 from 10.2.0.10 with
    RC4 for 2 (a legacy client); jdoe from 10.2.0.11 with RC4 for 2 (another source, its own
    pair). Exactly two kerberoasting findings: 10.2.0.9 -> 10.2.0.5 (DC01) from +10 to +16 s,
    7 requests, 6 services, 0x17, 7 weak requests in all; 10.2.0.12 -> 10.2.0.5 from +100 to
    +104 s, 5 requests, 5 services, 0x1,0x3. Credential access, not exfiltration: no event,
    verdict as without them; each in report.json's findings and in the timeline. The rows
    keep their ticket_enc."""
    _evtx_need_reader()
    ev = _wl_roast_burst() + [_wl_roast_tgs(16, "jdoe", "svc_sql"),
                              _wl_roast_tgs(17, "jdoe", "krbtgt"),
                              _wl_roast_tgs(18, "jdoe", "FS01$"),
                              _wl_roast_tgs(19, "jdoe", "svc_lab", status="0xe"),
                              _wl_roast_tgs(20, "jdoe", "svc_lis", "0x12")]
    ev += [_wl_roast_tgs(100 + i, "mallory", s, "0x1" if i % 2 else "0x3", "10.2.0.12")
           for i, s in enumerate(_WL_SVCS[:5])]
    ev += [_wl_roast_tgs(30 + i, "WS09$", s, ip="10.2.0.20") for i, s in enumerate(_WL_SVCS)]
    ev += [_wl_roast_tgs(40 + i, "nurse1", s, ip="10.2.0.10") for i, s in
           enumerate(_WL_SVCS[:2])]
    ev += [_wl_roast_tgs(50 + i, "jdoe", s, ip="10.2.0.11") for i, s in
           enumerate(_WL_SVCS[2:4])]
    c, con, events, got = _wl_roast_case("r6", ev)
    t = lambda s: _EVTX_T0 + s * 1000000  # noqa: E731
    assert got == sorted([(_WL_ROASTER, "10.2.0.5", t(10), t(16)),
                          ("10.2.0.12", "10.2.0.5", t(100), t(104))]), got
    rec = {(e["ts_us"] - _EVTX_T0) // 1000000: i + 1 for i, e in enumerate(events)}
    dets = [json.loads(d) for (d,) in con.execute(
        "SELECT detail FROM finding WHERE heuristic = 'kerberoasting' ORDER BY first_ts")]
    d = dets[0]
    assert (d["account"], d["source"], d["requests"], d["services_requested"], d["encryption"],
            d["controllers"], d["weak_requests_total"], d["first_ts"], d["computer"],
            d["host"]) == ("jdoe@HOSP.LOCAL", _WL_ROASTER, 7, 6, "0x17", 1, 7, t(10),
                           "DC01.hosp.local", "10.2.0.5"), d
    assert d["services"] == sorted(_WL_SVCS), d
    assert d["records"] == [rec[s] for s in range(10, 17)], d
    assert (d["kerberoast_services"], d["kerberoast_window_s"]) == (5, 3600), d
    d = dets[1]
    assert (d["account"], d["requests"], d["services_requested"], d["encryption"]) == (
        "mallory@HOSP.LOCAL", 5, 5, "0x1,0x3"), d
    summ = con.execute("SELECT summary FROM finding WHERE heuristic = 'kerberoasting' ORDER BY "
                       "first_ts").fetchone()[0]
    assert "DC01-r6.evtx" in summ and "EVTX records" in summ and "0x17" in summ, summ
    assert con.execute("SELECT count(*) FROM exfil_event").fetchone()[0] == 0
    assert con.execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchall() == [
        ("not observed",)]
    tl = con.execute("SELECT count(*) FROM timeline_event WHERE data_type = "
                     "'phitrace:finding:kerberoasting'").fetchone()[0]
    assert tl == 2, tl
    enc = dict(con.execute("SELECT line, ticket_enc FROM log_winevent WHERE kind = "
                           "'kerberos_tgs'").fetchall())
    assert (enc[rec[10]], enc[rec[20]], enc[rec[100]], enc[rec[101]]) == (
        "0x17", "0x12", "0x3", "0x1"), enc
    rep = json.load(open(os.path.join(c, "report.json")))
    _st_valid(rep)
    assert [f["heuristic"] for f in report_list(c, "findings", rep)].count("kerberoasting") == 2


@test
def winlog_kerberoasting_controls_aes_fewer_services_slow_and_a_higher_threshold():
    """Written before running. jdoe's 6 services from 10.2.0.9 in AES (0x12): none. RC4 for
    4 services: none. RC4 for 6 services 1300 s apart (at most 3 in any hour): none. The
    6-service RC4 burst with kerberoast_services = 7: none."""
    _evtx_need_reader()
    assert _wl_roast_case("aes", _wl_roast_burst("0x12"))[3] == []
    assert _wl_roast_case("r4", _wl_roast_burst(n=4))[3] == []
    slow = [_wl_roast_tgs(10 + 1300 * i, "jdoe", s) for i, s in enumerate(_WL_SVCS)]
    assert _wl_roast_case("slow", slow)[3] == []
    assert _wl_roast_case("r6hi", _wl_roast_burst(), {"kerberoast_services": 7})[3] == []
