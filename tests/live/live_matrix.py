"""live_matrix.py - the real-client matrix of make test-live (issue 12): every client program
against every server, each transfer a file of its own, and phitrace must report each one
exactly: protocol, user, file name, size, SHA-256 and direction.

    FTP   lftp, curl, python ftplib (STOR, passive and active), wget (RETR)
          against pyftpdlib (user export) and vsftpd (anonymous, incoming/)
    HTTP  curl (POST, multipart, PUT, chunked), wget (POST, PUT), python urllib (POST, PUT),
          python requests (multipart), a raw HTTP/0.9 GET, wget (GET)
          against nginx (dav PUT, POST) and python http.server
    SMTP  swaks (attachment), msmtp (a message whose attachment has an RFC 2231 name in
          continuations), python smtplib (an RFC 2231 UTF-8 name) against aiosmtpd and a
          smtpd-like sink

Runs inside run_live.py's network namespace (inner) and checks outside it (check).
"""
import hashlib
import http.server
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import threading
import time

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
PYFTPD = ("127.0.0.4", 2121)     # run_live.py's pyftpdlib, user export
VSFTPD = ("127.0.0.6", 2121)
NGINX = ("127.0.0.7", 8080)
PYHTTP = ("127.0.0.8", 8080)
AIOSMTPD = ("127.0.0.9", 2525)
SINK = ("127.0.0.3", 2525)       # run_live.py's SMTPSink
SERVERS = {"pyftpdlib": PYFTPD, "vsftpd": VSFTPD, "nginx": NGINX, "http.server": PYHTTP,
           "aiosmtpd": AIOSMTPD, "smtpd-sink": SINK}
TOOLS = ("lftp", "curl", "wget", "swaks", "msmtp", "vsftpd", "nginx")
MODULES = ("pyftpdlib", "aiosmtpd", "requests")


def missing():
    out = [t for t in TOOLS if shutil.which(t) is None]
    for m in MODULES:
        if subprocess.run([PY, "-c", "import " + m], capture_output=True).returncode != 0:
            out.append("python3-" + m)
    return out


def content(tid, n):
    """A file of its own per transfer: a CSV-like export, n bytes."""
    head = b"# transfer %s\nrow,code,value\n" % tid.encode()
    rows, i = [], 0
    while len(head) + sum(map(len, rows)) < n:
        rows.append(b"%d,%s,%08x\n" % (i, hashlib.sha256(b"%s%d" % (tid.encode(), i)).hexdigest()[
            :12].encode(), i * 2654435761 & 0xffffffff))
        i += 1
    return (head + b"".join(rows))[:n]


def start_tcpdump(pcap, err, expr=("tcp",)):
    """Record loopback (TCP unless told) into pcap; returns once tcpdump listens (SIGINT
    stops it). -B: a 32 MiB kernel buffer, so a busy CI machine drops fewer of loopback's
    64 KiB packets (tcpdump_drops says how many it did drop)."""
    tcp = subprocess.Popen(["tcpdump", "-Z", "root", "-i", "lo", "-B", "32768", "-U", "-w",
                            pcap] + list(expr),
                           stderr=open(err, "w"))
    for _ in range(100):
        if "listening on" in open(err).read():
            break
        time.sleep(0.1)
    return tcp


def tcpdump_drops(err):
    """The packets tcpdump said the kernel dropped (its last words in err), 0 if none."""
    m = re.findall(r"(\d+) packets? dropped by kernel", open(err).read())
    return int(m[-1]) if m else 0


def wait_port(addr):
    """Wait (5 s at most) until a TCP server listens at addr."""
    for _ in range(50):
        try:
            socket.create_connection(addr, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)


# ---- servers ---------------------------------------------------------------------------------

class PyHTTP(http.server.BaseHTTPRequestHandler):
    """python http.server: POST and PUT store the body (Content-Length or chunked), GET serves
    files; an HTTP/0.9 GET gets the bare file (BaseHTTPRequestHandler does that)."""
    root = "."

    def log_message(self, *a):
        pass

    def _body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self):
        self._body()
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_POST

    def do_GET(self):
        p = os.path.join(self.root, os.path.basename(self.path))
        if not os.path.isfile(p):
            self.send_error(404)
            return
        data = open(p, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
error_log %(d)s/error.log;
pid %(d)s/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %(d)s/body;
    server {
        listen %(addr)s:%(port)d;
        root %(d)s/www;
        client_max_body_size 64m;
        location /dav/ { dav_methods PUT; create_full_put_path on; }
        location /upload { return 201; }
    }
}
"""

VSFTPD_CONF = """listen=YES
listen_ipv6=NO
listen_address=%(addr)s
listen_port=%(port)d
background=NO
anonymous_enable=YES
no_anon_password=YES
local_enable=NO
write_enable=YES
anon_upload_enable=YES
anon_umask=022
anon_root=%(d)s/root
ftp_username=ftp
secure_chroot_dir=%(d)s/empty
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
pasv_enable=YES
port_enable=YES
connect_from_port_20=NO
xferlog_enable=NO
"""


def start_servers(work):
    d = os.path.join(work, "matrix")
    procs = []
    # vsftpd: anonymous (the Debian package's user ftp) uploads into incoming/, downloads from
    # pub/ (its root is not writable: vsftpd refuses a writable chroot)
    v = os.path.join(d, "vsftpd")
    for sub in ("root/incoming", "root/pub", "empty"):
        os.makedirs(os.path.join(v, sub), exist_ok=True)
    os.chmod(os.path.join(v, "root"), 0o755)
    os.chmod(os.path.join(v, "root/incoming"), 0o777)
    os.chmod(d, 0o755)
    os.chmod(work, 0o755)
    with open(os.path.join(v, "vsftpd.conf"), "w") as f:
        f.write(VSFTPD_CONF % {"addr": VSFTPD[0], "port": VSFTPD[1], "d": v})
    procs.append(subprocess.Popen(["vsftpd", os.path.join(v, "vsftpd.conf")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    # nginx
    n = os.path.join(d, "nginx")
    os.makedirs(os.path.join(n, "www/dav"), exist_ok=True)
    os.makedirs(os.path.join(n, "body"), exist_ok=True)
    with open(os.path.join(n, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF % {"addr": NGINX[0], "port": NGINX[1], "d": n})
    procs.append(subprocess.Popen(["nginx", "-e", os.path.join(n, "error.log"), "-c",
                                   os.path.join(n, "nginx.conf")], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL))
    # python http.server
    www = os.path.join(d, "pyhttp")
    os.makedirs(www, exist_ok=True)
    PyHTTP.root = www
    srv = http.server.ThreadingHTTPServer(PYHTTP, PyHTTP)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    # aiosmtpd, messages discarded
    procs.append(subprocess.Popen([PY, "-m", "aiosmtpd", "-n", "-l", "%s:%d" % AIOSMTPD, "-c",
                                   "aiosmtpd.handlers.Sink"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL))
    for addr in (VSFTPD, NGINX, PYHTTP, AIOSMTPD, PYFTPD, SINK):
        wait_port(addr)
    return procs, {"vsftpd-pub": os.path.join(v, "root/pub"), "ftp": os.path.join(work, "ftp"),
                   "nginx-www": os.path.join(n, "www"), "pyhttp": www}


# ---- clients ---------------------------------------------------------------------------------

def ftp_runs(files, dirs):
    """(label, argv, expectation) for every FTP client, server and mode."""
    out = []
    for server, (addr, port) in (("pyftpdlib", PYFTPD), ("vsftpd", VSFTPD)):
        user, pw = ("export", "export") if server == "pyftpdlib" else ("anonymous", "x@y")
        cd = "" if server == "pyftpdlib" else "incoming/"
        url = "ftp://%s:%d/%s" % (addr, port, cd)
        for mode in ("passive", "active"):
            pasv = mode == "passive"
            t = files("lftp-%s-%s" % (server, mode), 30000)
            out.append(("lftp -> %s (%s) put" % (server, mode),
                        ["lftp", "-u", "%s,%s" % (user, pw), "-e",
                         "set ftp:passive-mode %s; set ftp:ssl-allow no; %sput %s -o %s; bye" % (
                             "on" if pasv else "off", "cd incoming; " if cd else "", t["path"],
                             t["name"]), "ftp://%s:%d" % (addr, port)],
                        dict(t, proto="ftp", user=user, command="STOR", direction="upload")))
            t = files("curl-%s-%s" % (server, mode), 45000)
            out.append(("curl -> %s (%s) -T" % (server, mode),
                        ["curl", "-sS", "--user", "%s:%s" % (user, pw), "-T", t["path"]] +
                        ([] if pasv else ["-P", "-"]) + [url + t["name"]],
                        dict(t, proto="ftp", user=user, command="STOR", direction="upload")))
            t = files("ftplib-%s-%s" % (server, mode), 20000)
            code = ("import ftplib\nf = ftplib.FTP()\nf.connect(%r, %d)\nf.login(%r, %r)\n"
                    "f.set_pasv(%r)\n%s"
                    "f.storbinary('STOR %s', open(%r, 'rb'))\nf.quit()\n" % (
                        addr, port, user, pw, pasv, "f.cwd('incoming')\n" if cd else "",
                        t["name"], t["path"]))
            out.append(("python ftplib -> %s (%s) storbinary" % (server, mode), [PY, "-c", code],
                        dict(t, proto="ftp", user=user, command="STOR", direction="upload")))
        t = files("wget-%s" % server, 25000)
        pub = dirs["ftp"] if server == "pyftpdlib" else dirs["vsftpd-pub"]
        shutil.copy(t["path"], os.path.join(pub, t["name"]))
        path = "" if server == "pyftpdlib" else "pub/"
        out.append(("wget -> %s (passive) RETR" % server,
                    ["wget", "-q", "--tries=1", "-O", "/dev/null", "--user", user, "--password", pw,
                     "ftp://%s:%d/%s%s" % (addr, port, path, t["name"])],
                    dict(t, proto="ftp", user=user, command="RETR", direction="download")))
    return out


def http_runs(files, dirs):
    out = []
    for server, (addr, port) in (("nginx", NGINX), ("http.server", PYHTTP)):
        base = "http://%s:%d" % (addr, port)
        put = "/dav/" if server == "nginx" else "/"
        post = "/upload/" if server == "nginx" else "/"

        def add(label, argv, t, method, uri, ua, direction="upload", name=None):
            out.append(("%s -> %s %s" % (label, server, method), argv,
                        dict(t, proto="http", user=None, method=method, uri=uri, ua=ua,
                             direction=direction, name=name or uri)))
        t = files("curl-post-%s" % server, 40000)
        uri = post + t["name"]
        add("curl --data-binary", ["curl", "-sS", "-o", "/dev/null", "-H",
                                   "Content-Type: text/csv", "--data-binary", "@" + t["path"],
                                   base + uri], t, "POST", uri, "curl/")
        t = files("curl-multipart-%s" % server, 50000)
        uri = post + "form"
        add("curl -F (multipart)", ["curl", "-sS", "-o", "/dev/null", "-F",
                                    "export=@%s;filename=%s;type=text/csv" % (t["path"], t["name"]),
                                    base + uri], t, "POST", uri, "curl/", name=t["name"])
        t = files("curl-put-%s" % server, 35000)
        uri = put + t["name"]
        add("curl -T", ["curl", "-sS", "-o", "/dev/null", "-T", t["path"], base + uri], t, "PUT",
            uri, "curl/")
        t = files("curl-chunked-%s" % server, 60000)
        uri = post + t["name"]
        add("curl chunked", ["curl", "-sS", "-o", "/dev/null", "-H", "Transfer-Encoding: chunked",
                             "-H", "Content-Type: text/csv", "--data-binary", "@" + t["path"],
                             base + uri], t, "POST", uri, "curl/")
        t = files("wget-post-%s" % server, 30000)
        uri = post + t["name"]
        add("wget --post-file", ["wget", "-q", "-O", "/dev/null", "--header",
                                 "Content-Type: text/csv", "--post-file", t["path"], base + uri],
            t, "POST", uri, "Wget/")
        t = files("wget-put-%s" % server, 28000)
        uri = put + t["name"]
        add("wget --method=PUT", ["wget", "-q", "-O", "/dev/null", "--method=PUT",
                                  "--body-file=" + t["path"], base + uri], t, "PUT", uri, "Wget/")
        for method in ("POST", "PUT"):
            t = files("urllib-%s-%s" % (method.lower(), server), 33000)
            uri = (post if method == "POST" else put) + t["name"]
            code = ("import urllib.request as u\nr = u.Request(%r, data=open(%r, 'rb').read(), "
                    "method=%r, headers={'Content-Type': 'text/csv'})\nu.urlopen(r).read()\n" % (
                        base + uri, t["path"], method))
            add("python urllib", [PY, "-c", code], t, method, uri, "Python-urllib/")
        t = files("requests-%s" % server, 42000)
        uri = post + "form"
        code = ("import requests\nr = requests.post(%r, files={'export': (%r, open(%r, 'rb'), "
                "'text/csv')})\n" % (base + uri, t["name"], t["path"]))
        add("python requests files=", [PY, "-c", code], t, "POST", uri, "python-requests/",
            name=t["name"])
        # downloads: wget GET, and a raw HTTP/0.9 simple request (no version, no headers)
        t = files("wget-get-%s" % server, 26000)
        www = dirs["nginx-www"] if server == "nginx" else dirs["pyhttp"]
        shutil.copy(t["path"], os.path.join(www, t["name"]))
        uri = "/" + t["name"]
        add("wget", ["wget", "-q", "-O", "/dev/null", base + uri], t, "GET", uri, "Wget/",
            direction="download")
        t = files("http09-%s" % server, 24000)
        shutil.copy(t["path"], os.path.join(www, t["name"]))
        uri = "/" + t["name"]
        code = ("import socket\ns = socket.create_connection((%r, %d))\n"
                "s.sendall(b'GET %s\\r\\n')\n"
                "s.shutdown(socket.SHUT_WR)\nwhile s.recv(65536):\n    pass\n" % (addr, port, uri))
        add("python socket HTTP/0.9", [PY, "-c", code], t, "GET", uri, "", direction="download")
    return out


def smtp_runs(files, work):
    out = []
    for server, (addr, port) in (("aiosmtpd", AIOSMTPD), ("smtpd-sink", SINK)):
        sender = "frontdesk@clinic.example"
        t = files("swaks-%s" % server, 18000)
        out.append(("swaks --attach -> %s" % server,
                    ["swaks", "--server", addr, "--port", str(port), "--from", sender, "--to",
                     "records@outside.example", "--header", "Subject: export", "--body", "see",
                     "--attach-type", "text/csv", "--attach-name", t["name"], "--attach",
                     "@" + t["path"]],
                    dict(t, proto="smtp", user=sender, direction="upload")))
        # msmtp sends a prepared message: the attachment's name is long and not ASCII, so
        # Python's email package writes it as RFC 2231 continuations (filename*0*=, *1*=)
        t = files("msmtp-%s" % server, 22000,
                  "\u00dcbersicht der Patienten f\u00fcr die Weiterbehandlung M\u00e4rz "
                  "2026 \u2013 Kardiologie Station 4 %s.csv" % server)
        eml = os.path.join(work, "matrix", "msmtp-%s.eml" % server)
        code = ("import email.message\nm = email.message.EmailMessage()\nm['From'] = %r\n"
                "m['To'] = 'records@outside.example'\n"
                "m['Subject'] = 'Befunde f\\u00fcr M\\u00e4rz'\n"
                "m.set_content('see attached')\nm.add_attachment(open(%r, 'rb').read(), "
                "maintype='text', subtype='csv', filename=%r)\nopen(%r, 'wb').write(bytes(m))\n" % (
                    sender, t["path"], t["name"], eml))
        subprocess.run([PY, "-c", code], check=True)
        out.append(("msmtp (RFC 2231 continued name) -> %s" % server,
                    ["sh", "-c", "msmtp --host=%s --port=%d --auth=off --tls=off --from=%s "
                     "records@outside.example < %s" % (addr, port, sender, eml)],
                    dict(t, proto="smtp", user=sender, direction="upload", rfc2231=True)))
        t = files("smtplib-%s" % server, 26000, "Befund M\u00fcller %s.csv" % server)
        code = ("import email.message, smtplib\nm = email.message.EmailMessage()\nm['From'] = %r\n"
                "m['To'] = 'records@outside.example'\nm['Subject'] = 'export'\n"
                "m.set_content('see attached')\nm.add_attachment(open(%r, 'rb').read(), "
                "maintype='text', subtype='csv', filename=%r)\n"
                "s = smtplib.SMTP(%r, %d)\ns.send_message(m)\ns.quit()\n" % (
                    sender, t["path"], t["name"], addr, port))
        out.append(("python smtplib (RFC 2231 name) -> %s" % server, [PY, "-c", code],
                    dict(t, proto="smtp", user=sender, direction="upload", rfc2231=True)))
    return out


def file_maker(d):
    """files(tid, n, name=None): a file of its own for a transfer, written under d/files."""
    os.makedirs(os.path.join(d, "files"), exist_ok=True)

    def files(tid, n, name=None):
        body = content(tid, n)
        name = name or tid + ".csv"
        path = os.path.join(d, "files", tid + ".csv")
        with open(path, "wb") as f:
            f.write(body)
        return {"id": tid, "path": path, "name": name, "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest()}
    return files


def inner(work):
    """Inside the namespace, after run_live.py's own recording: record the matrix into
    matrix.pcap and write what each run sent into matrix.json."""
    d = os.path.join(work, "matrix")
    files = file_maker(d)
    tcp = start_tcpdump(os.path.join(work, "matrix.pcap"), os.path.join(d, "tcpdump.err"))
    procs, dirs = start_servers(work)

    results = []
    try:
        runs = ftp_runs(files, dirs) + http_runs(files, dirs) + smtp_runs(files, work)
        run_rows(runs, results, 20)
    finally:
        finish(procs, tcp, os.path.join(work, "matrix.json"), results)


def run_rows(runs, results, timeout):
    """Run each (label, argv, expectation) and add the expectation, with the client's exit
    code and its last output, to results; a None expectation is a set-up step, recorded only
    when it fails."""
    for label, argv, want in runs:
        t0 = time.time()
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
            rc, err = p.returncode, (p.stderr + p.stdout)[-400:]
        except subprocess.TimeoutExpired:
            rc, err = -1, "timed out after %d s" % timeout
        if want is None:
            want = {"proto": "setup"} if rc != 0 else None
        if want is not None:
            want.update(label=label, rc=rc, stderr=err, seconds=round(time.time() - t0, 2))
            results.append(want)
    time.sleep(1.0)


def finish(procs, tcp, path, results):
    """Stop the servers, then the recording; write what each run sent into path."""
    for p in procs:
        p.terminate()
    time.sleep(0.5)
    tcp.send_signal(2)
    tcp.wait(timeout=30)
    with open(path, "w") as f:
        json.dump(results, f, indent=1)


# ---- the check (outside the namespace) -------------------------------------------------------

def analyze(binary, pcap, case, what, expect):
    """phitrace on pcap with home-net 127.0.0.1/32 (the sinks are outside); the database."""
    p = subprocess.run([binary, "analyze", "-q", "--home-net", "127.0.0.1/32", pcap, "-o", case],
                       capture_output=True, text=True, timeout=600)
    expect(what + "analyze exits 0", p.returncode == 0, p.stderr[-500:])
    return sqlite3.connect(os.path.join(case, "evidence.db"))


def check(work, binary, expect):
    """expect(name, ok, detail) is run_live.py's reporter."""
    con = analyze(binary, os.path.join(work, "matrix.pcap"), os.path.join(work, "case-matrix"),
                  "matrix: ", expect)
    runs = json.load(open(os.path.join(work, "matrix.json")))
    for t in runs:
        if t["rc"] != 0:
            expect(t["label"], False, "the client failed: rc %d %s" % (t["rc"], t["stderr"]))
            continue
        obj = con.execute("SELECT protocol, name, size, direction, complete, flow_id FROM object "
                          "WHERE sha256 = ? AND depth = 0", (t["sha256"],)).fetchall()
        want_obj = (t["proto"], t["name"], t["size"], t["direction"], 1)
        got = [o[:5] for o in obj]
        ok = got == [want_obj]
        detail = "object %s, want %s" % (got, want_obj)
        if ok and t["proto"] == "ftp":
            row = con.execute("SELECT command, name, user, size, direction FROM ftp_transfer "
                              "WHERE sha256 = ?", (t["sha256"],)).fetchall()
            w = [(t["command"], t["name"], t["user"], t["size"], t["direction"])]
            ok, detail = row == w, "ftp_transfer %s, want %s" % (row, w)
        elif ok and t["proto"] == "http":
            sha_col = "(SELECT sha256 FROM object WHERE id = %s)" % (
                "resp_object" if t["direction"] == "download" else "req_object")
            if t["name"] != t["uri"]:  # a multipart part: the transaction has the whole body
                rows = con.execute("SELECT method, uri, user_agent FROM http_txn WHERE "
                                   "flow_id = ?", (obj[0][5],)).fetchall()
            else:
                rows = con.execute("SELECT method, uri, user_agent FROM http_txn WHERE %s = ?"
                                   % sha_col, (t["sha256"],)).fetchall()
            ok = len(rows) == 1 and rows[0][:2] == (t["method"], t["uri"]) and \
                (rows[0][2] or "").startswith(t["ua"])
            detail = "http_txn %s, want %s %s %s*" % (rows, t["method"], t["uri"], t["ua"])
        elif ok and t["proto"] == "smtp":
            row = con.execute("SELECT mail_from, rcpt_to, attachments FROM smtp_message WHERE "
                              "flow_id = ?", (obj[0][5],)).fetchall()
            w = [(t["user"], "records@outside.example", 1)]
            ok, detail = row == w, "smtp_message %s, want %s" % (row, w)
        expect("%s: %s %s, %d bytes, %s" % (t["label"], t["proto"], t["name"], t["size"],
                                           t["direction"]), ok, detail)
    apps = {r[0]: r[1] for r in con.execute("SELECT app, count(*) FROM flow GROUP BY app")}
    expect("matrix: no stream left undecoded", "tcp" not in apps, apps)
    return runs
