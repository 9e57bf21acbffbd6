#!/usr/bin/env python3
"""gen_hospital.py - a PHI-dense cleartext hospital capture for `make bench` (issue 16).

    python3 tests/bench/gen_hospital.py [--mb 500] [--seed 1] [--tls 0] OUT.pcap [TRUTH.json]

Writes a classic pcap (Ethernet, IPv4, TCP with handshake, seq/ack, delayed ACKs and FIN on
both sides, valid IP and TCP checksums) of a hospital's day, streaming (only one session is
held in memory at a time), and a ground truth beside it (OUT.pcap.truth.json unless named).
Everything is synthetic and deterministic for a seed: the same arguments give the same bytes.

At --mb 500, roughly (counts scale with the size): 670k packets, 466 internal hosts,
48k objects, 280k patient records of a fixed population of 6,000 patients, a fifth of the
records inside gzip (HTTP Content-Encoding), base64 (e-mail attachments) or zip files:

* HL7 v2.5.1 over MLLP from 40 feeder systems to the interface engine (ADT^A01/A04/A08 with
  PID and DG1, ORU^R01 with OBR/OBX), each message acknowledged (MSA|AA);
* DICOM C-STORE associations from 30 modalities to the PACS (A-ASSOCIATE-RQ/AC, P-DATA-TF
  fragments of 16 KiB with the command and an implicit-VR data set with PatientName,
  PatientID, PatientBirthDate and 12-bit pixel data, C-STORE-RSP, A-RELEASE); a few
  studies go to an outside teleradiology reader;
* an EHR FHIR API answering workstations with Patient search Bundles (a fifth gzip-encoded)
  and a reporting server answering CSV exports (some as zip files);
* e-mail from workstations to the mail server, and from it to an outside relay, with a CSV
  census attached in base64;
* intranet and outside web objects (html, js, css, png) without patient data;
* an exfiltration host uploading CSV, zipped CSV and FHIR NDJSON exports of a quarter of the
  patients to an outside server by HTTP POST.

With --tls F (0 <= F < 1; the TLS-heavy bench uses 0.85) about that fraction of the bytes is
TLS instead: the same hospital scaled to the rest, and HTTPS sessions between the workstations
and servers and outside services (TLS 1.3 ClientHello with SNI, ServerHello, then application
data records of random bytes, mostly downloads of 64 KiB-4 MiB, a tenth of them uploads), whose
bytes phitrace cannot read. --tls 0 writes the same bytes as before the option existed.

The ground truth counts the distinct patients in every record written (`patients.all`) and
in data sent from an inside host to an outside address (`patients.outbound`, the client to
server direction of flows whose client is in 10.0.0.0/8 and server outside): what
phitrace's `individuals` table should give for scopes `all` and `outbound`.
"""
import argparse
import gzip
import io
import json
import os
import random
import struct
import sys
import zipfile
import zlib

# ---------------------------------------------------------------------------------------------
# pcap / TCP writer (after tests/e2e/pcapw.py, made fast: checksums by big-integer modulo,
# precomputed per-connection sums, packets batched into large writes)

_PCAP_HDR = struct.Struct("<IIII")
_IP_TCP = struct.Struct("!BBHHHBBH4s4sHHIIBBHHH")
_ETH_C2S = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
_ETH_S2C = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
MSS = 1460


def _fold(s):
    """One's complement of the one's complement sum s (any non-negative int)."""
    r = s % 0xffff
    return 0xffff - r if r else 0


def _payload_sum(b):
    # the sum of big-endian 16-bit words is congruent to the number modulo 0xffff (2^16 = 1)
    if len(b) & 1:
        b += b"\0"
    return int.from_bytes(b, "big")


class Pcap:
    def __init__(self, path, t0=1767254400.0):   # 2026-01-01 08:00 UTC
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        self.buf = []
        self.bufn = 0
        self.t = int(t0 * 1e6)
        self.packets = 0
        self.bytes = 24
        self.ipid = 1

    def frame(self, eth, ip_tcp, payload):
        n = 14 + 40 + len(payload)
        self.t += 180   # 180 us a packet
        self.buf.append(_PCAP_HDR.pack(self.t // 1000000, self.t % 1000000, n, n))
        self.buf.append(eth)
        self.buf.append(ip_tcp)
        if payload:
            self.buf.append(payload)
        self.bufn += n + 16
        self.packets += 1
        if self.bufn > 1 << 20:
            self.flush()

    def gap(self, us):
        self.t += us

    def flush(self):
        self.f.write(b"".join(self.buf))
        self.bytes += self.bufn
        self.buf = []
        self.bufn = 0

    def close(self):
        self.flush()
        self.f.close()


def ip4(s):
    return bytes(int(x) for x in s.split("."))


class Conn:
    """One TCP connection, client -> server; send() segments at the MSS, the receiver ACKs
    every second segment and the last one of each message."""

    def __init__(self, w, cli, srv, sport, dport, rng):
        self.w, self.sport, self.dport = w, sport, dport
        self.ci, self.si = ip4(cli), ip4(srv)
        ws = lambda b: (b[0] << 8 | b[1]) + (b[2] << 8 | b[3])
        # pseudo-header without the length, protocol 6, ports: the same both ways
        self.base = ws(self.ci) + ws(self.si) + 6 + sport + dport
        self.ipbase = 0x4500 + 0x4000 + (64 << 8 | 6) + ws(self.ci) + ws(self.si)
        self.seq = [rng.getrandbits(32), rng.getrandbits(32)]   # client, server
        self.seg(True, 0x02, b"")
        self.seq[0] += 1
        self.seg(False, 0x12, b"")
        self.seq[1] += 1
        self.seg(True, 0x10, b"")

    def seg(self, c2s, flags, payload, psum=None):
        w = self.w
        seq, ack = (self.seq[0], self.seq[1]) if c2s else (self.seq[1], self.seq[0])
        if not flags & 0x10:
            ack = 0
        seq &= 0xffffffff
        ack &= 0xffffffff
        tlen = 20 + len(payload)
        if psum is None:
            psum = _payload_sum(payload) if payload else 0
        s = (self.base + tlen + (seq >> 16) + (seq & 0xffff) + (ack >> 16) + (ack & 0xffff) +
             (0x5000 | flags) + 65535 + psum)
        tc = _fold(s)
        ipid = w.ipid = (w.ipid + 1) & 0xffff
        ic = _fold(self.ipbase + 20 + tlen + ipid)
        if c2s:
            hdr = _IP_TCP.pack(0x45, 0, 20 + tlen, ipid, 0x4000, 64, 6, ic, self.ci, self.si,
                               self.sport, self.dport, seq, ack, 0x50, flags, 65535, tc, 0)
            w.frame(_ETH_C2S, hdr, payload)
        else:
            hdr = _IP_TCP.pack(0x45, 0, 20 + tlen, ipid, 0x4000, 64, 6, ic, self.si, self.ci,
                               self.dport, self.sport, seq, ack, 0x50, flags, 65535, tc, 0)
            w.frame(_ETH_S2C, hdr, payload)

    def send(self, c2s, data):
        d = 0 if c2s else 1
        n = len(data)
        k = 0
        for i in range(0, n, MSS):
            p = data[i:i + MSS]
            self.seg(c2s, 0x18 if i + MSS >= n else 0x10, p)
            self.seq[d] += len(p)
            k += 1
            if k % 2 == 0 or i + MSS >= n:
                self.seg(not c2s, 0x10, b"")

    def close(self):
        self.seg(True, 0x11, b"")
        self.seq[0] += 1
        self.seg(False, 0x11, b"")
        self.seq[1] += 1
        self.seg(True, 0x10, b"")
        self.w.gap(2000)


# ---------------------------------------------------------------------------------------------
# the patients

FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
         "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
         "Matthew Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily "
         "Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa "
         "Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia "
         "Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda Larry "
         "Pamela Justin Emma Scott Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory "
         "Christine Alexander Debra Frank Rachel Patrick Carolyn Raymond Janet Jack Catherine "
         "Dennis Maria Jerry Heather Tyler Diane Aaron Ruth Jose Julie Adam Olivia Nathan Joyce "
         "Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren Kyle Christina Ethan Joan "
         "Walter Evelyn Noah Judith Jeremy Megan Christian Andrea Keith Cheryl Roger Hannah Terry "
         "Jacqueline Gerald Martha Harold Gloria Sean Teresa Austin Ann Carl Sara Arthur Madison "
         "Lawrence Frances Dylan Kathryn Jesse Janice Jordan Jean Bryan Abigail Billy Alice Joe "
         "Judy Bruce Sophia Gabriel Grace Logan Denise Albert Amber Willie Doris Alan Marilyn "
         "Juan Danielle Wayne Beverly Elijah Isabella Randy Theresa Roy Diana Vincent Natalie "
         "Ralph Brittany Eugene Charlotte Russell Marie Bobby Kayla Mason Alexis Philip Lori").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
        "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
        "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
        "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
        "Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
        "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed "
        "Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
        "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
        "Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales "
        "Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds "
        "Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar "
        "Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington "
        "Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson "
        "Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes "
        "Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice "
        "Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant "
        "Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley "
        "Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado "
        "Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena Richards Contreras Willis "
        "Carpenter Lawrence Sandoval").split()
STREETS = ("Maple Oak Cedar Pine Elm Washington Lake Hill Park Main Church Walnut Spring "
           "Highland Sunset Ridge Meadow Forest River Chestnut Willow Lincoln Jefferson Franklin "
           "Adams Madison Jackson Prospect Harbor Orchard").split()
SUFFIX = "Street Avenue Road Lane Drive Court Place Boulevard".split()
# city, state, ZIP prefixes of that state (so an address and its ZIP name one state)
CITIES = [("Boston", "MA", "021"), ("Worcester", "MA", "016"), ("Springfield", "MA", "011"),
          ("Providence", "RI", "029"), ("Hartford", "CT", "061"), ("Albany", "NY", "122"),
          ("Buffalo", "NY", "142"), ("Manchester", "NH", "031"), ("Portland", "ME", "041"),
          ("Burlington", "VT", "054"), ("Newark", "NJ", "071"), ("Trenton", "NJ", "086")]
DX = [("E11.9", "Type 2 diabetes mellitus without complications"),
      ("I10", "Essential (primary) hypertension"),
      ("J18.9", "Pneumonia, unspecified organism"),
      ("R07.9", "Chest pain, unspecified"),
      ("N39.0", "Urinary tract infection, site not specified"),
      ("K21.9", "Gastro-esophageal reflux disease without esophagitis"),
      ("F32.9", "Major depressive disorder, single episode, unspecified"),
      ("J44.9", "Chronic obstructive pulmonary disease, unspecified"),
      ("I48.91", "Unspecified atrial fibrillation"),
      ("E78.5", "Hyperlipidemia, unspecified"),
      ("N18.3", "Chronic kidney disease, stage 3"),
      ("M17.11", "Unilateral primary osteoarthritis, right knee")]
LABS = [("2345-7", "Glucose", "mg/dL", 70, 180), ("718-7", "Hemoglobin", "g/dL", 9, 17),
        ("2160-0", "Creatinine", "mg/dL", 1, 3), ("6690-2", "WBC", "10*3/uL", 3, 14),
        ("2951-2", "Sodium", "mmol/L", 130, 148), ("4548-4", "Hemoglobin A1c", "%", 5, 11)]


class Patient:
    __slots__ = ("i", "mrn", "first", "last", "dob", "sex", "ssn", "street", "city", "state",
                 "zip", "phone", "fid", "dx")


def population(n, rng):
    pats, names, ssns, mrns = [], set(), set(), set()
    while len(pats) < n:
        p = Patient()
        p.first, p.last = rng.choice(FIRST), rng.choice(LAST)
        if (p.first, p.last) in names:       # distinct names: no two people share one
            continue
        names.add((p.first, p.last))
        p.i = len(pats)
        while True:
            m = "%08d" % rng.randrange(20000000, 29999999)
            if m not in mrns:
                mrns.add(m)
                break
        p.mrn = m
        p.dob = "%04d%02d%02d" % (rng.randrange(1930, 2016), rng.randrange(1, 13),
                                  rng.randrange(1, 29))
        p.sex = rng.choice("MF")
        while True:   # SSA rules (analyzer/phi/validate.c): area 001-665, 667-899; group and
            area = rng.randrange(1, 900)          # serial not zero; not a denied number
            if area == 666:
                continue
            s = "%03d%02d%04d" % (area, rng.randrange(1, 100), rng.randrange(1, 10000))
            if s not in ssns and len(set(s)) > 1 and s not in ("078051120", "219099999",
                                                               "123456789", "111223333"):
                ssns.add(s)
                break
        p.ssn = s
        city, p.state, z3 = rng.choice(CITIES)
        p.city = city
        p.zip = z3 + "%02d" % rng.randrange(1, 99)
        p.street = "%d %s %s" % (rng.randrange(1, 2000), rng.choice(STREETS), rng.choice(SUFFIX))
        p.phone = "%d%02d%d%02d%04d" % (rng.randrange(2, 10), rng.randrange(0, 100),
                                        rng.randrange(2, 10), rng.randrange(0, 100),
                                        rng.randrange(0, 10000))
        if p.phone[3:6] == "555":
            p.phone = p.phone[:3] + "556" + p.phone[6:]
        p.fid = "%08x-%04x-4%03x-a%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                                 rng.getrandbits(12), rng.getrandbits(12),
                                                 rng.getrandbits(48))
        p.dx = rng.choice(DX)
        pats.append(p)
    return pats


def iso(d):
    return "%s-%s-%s" % (d[:4], d[4:6], d[6:])


def ssn_dash(s):
    return "%s-%s-%s" % (s[:3], s[3:5], s[5:])


def phone_fmt(ph):
    return "(%s)%s-%s" % (ph[:3], ph[3:6], ph[6:])


# ---------------------------------------------------------------------------------------------
# documents

def hl7_message(rng, p, app, ctl, ts):
    if rng.random() < 0.55:
        ev = rng.choice(("A01", "A04", "A08"))
        body = ("MSH|^~\\&|%s|GENHOSP|ENGINE|GENHOSP|%s||ADT^%s^ADT_A01|%s|P|2.5.1\r"
                "EVN|%s|%s\r"
                "PID|1||%s^^^GENHOSP^MR||%s^%s||%s|%s|||%s^^%s^%s^%s^USA||%s|||||||%s\r"
                "PV1|1|%s|%s^%d^%d^GENHOSP||||||||||||||||\r"
                "DG1|1||%s^%s^I10|||A\r" %
                (app, ts, ev, ctl, ev, ts, p.mrn, p.last.upper(), p.first.upper(), p.dob, p.sex,
                 p.street, p.city, p.state, p.zip, phone_fmt(p.phone), p.ssn,
                 rng.choice("IOE"), rng.choice(("MED", "SURG", "ICU", "ER", "ONC")),
                 rng.randrange(100, 700), rng.randrange(1, 4), p.dx[0], p.dx[1]))
        return body, "ADT^" + ev
    lines = ["MSH|^~\\&|%s|GENHOSP|ENGINE|GENHOSP|%s||ORU^R01^ORU_R01|%s|P|2.5.1\r" % (app, ts, ctl),
             "PID|1||%s^^^GENHOSP^MR||%s^%s||%s|%s|||%s^^%s^%s^%s^USA||%s\r" %
             (p.mrn, p.last.upper(), p.first.upper(), p.dob, p.sex, p.street, p.city, p.state,
              p.zip, phone_fmt(p.phone)),
             "OBR|1|%d|%d|80053^Comprehensive metabolic panel^CPT|||%s\r" %
             (rng.randrange(10 ** 6, 10 ** 7), rng.randrange(10 ** 6, 10 ** 7), ts)]
    for k, (loinc, name, unit, lo, hi) in enumerate(rng.sample(LABS, rng.randrange(2, 6))):
        lines.append("OBX|%d|NM|%s^%s^LN||%d|%s|%d-%d|N|||F\r" %
                     (k + 1, loinc, name, rng.randrange(lo, hi + 1), unit, lo, hi))
    return "".join(lines), "ORU^R01"


def fhir_patient(p):
    return ('{"fullUrl":"https://ehr.genhosp.org/fhir/Patient/%s","resource":{"resourceType":'
            '"Patient","id":"%s","meta":{"versionId":"3","lastUpdated":"2026-01-01T06:00:00Z"},'
            '"identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/'
            'v2-0203","code":"MR"}]},"system":"urn:oid:2.16.840.1.113883.3.7777.1","value":"%s"},'
            '{"system":"http://hl7.org/fhir/sid/us-ssn","value":"%s"}],"active":true,'
            '"name":[{"use":"official","family":"%s","given":["%s"]}],"telecom":[{"system":'
            '"phone","value":"%s","use":"home"}],"gender":"%s","birthDate":"%s","address":'
            '[{"use":"home","line":["%s"],"city":"%s","state":"%s","postalCode":"%s"}]},'
            '"search":{"mode":"match"}}' %
            (p.fid, p.fid, p.mrn, ssn_dash(p.ssn), p.last, p.first, phone_fmt(p.phone),
             "male" if p.sex == "M" else "female", iso(p.dob), p.street, p.city, p.state, p.zip))


def fhir_bundle(rng, pats):
    return ('{"resourceType":"Bundle","id":"%032x","type":"searchset","total":%d,"link":'
            '[{"relation":"self","url":"https://ehr.genhosp.org/fhir/Patient?_count=%d"}],'
            '"entry":[%s]}' % (rng.getrandbits(128), len(pats), len(pats),
                               ",".join(fhir_patient(p) for p in pats))).encode()


def ndjson(pats):
    out = []
    for p in pats:
        s = fhir_patient(p)
        out.append(s[s.index('"resource":') + 11:s.rindex(',"search"')])
    return ("\n".join(out) + "\n").encode()


CSV_HEAD = "mrn,last_name,first_name,dob,sex,ssn,address,city,state,zip,phone,diagnosis,visit_date\r\n"


def csv_export(rng, pats):
    rows = [CSV_HEAD]
    for p in pats:
        rows.append("%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,2026-01-%02d\r\n" %
                    (p.mrn, p.last, p.first, iso(p.dob), p.sex, ssn_dash(p.ssn), p.street,
                     p.city, p.state, p.zip, phone_fmt(p.phone), p.dx[0], rng.randrange(1, 29)))
    return "".join(rows).encode()


def zip_of(members):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            zi = zipfile.ZipInfo(name, (2026, 1, 1, 8, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data, compresslevel=1)
    return b.getvalue()


LOREM = ("the clinic is open from monday to friday visitors are welcome in the afternoon please "
         "check in at the front desk parking is available in the north garage our staff will "
         "guide you to the right department wellness programs nutrition classes and support "
         "groups meet every week in the community room ask your care team about flu shots "
         "hand hygiene keeps everyone safe thank you for choosing our hospital ").split()


class Web:
    """Templates of web objects without patient data; each object differs in a few bytes."""

    def __init__(self, rng):
        self.rng = rng
        self.noise = rng.randbytes(1 << 20)

    def html(self, n):
        rng = self.rng
        paras, size = [], 0
        while size < n:
            s = " ".join(rng.choice(LOREM) for _ in range(60))
            paras.append("<p class=\"c%d\">%s.</p>\n" % (rng.randrange(9), s.capitalize()))
            size += len(paras[-1])
        return ("<!DOCTYPE html>\n<html><head><title>GenHosp intranet %d</title>"
                "<link rel=\"stylesheet\" href=\"/static/site.css\"></head><body>\n%s"
                "</body></html>\n" % (rng.randrange(1 << 30), "".join(paras))).encode()

    def js(self, n):
        rng = self.rng
        fns, size = [], 0
        while size < n:
            f = ("function f%x(a,b){var c=a.length;for(var i=0;i<c;i++){if(a[i]===b)return i;}"
                 "return -1;}\nvar s%x=document.querySelectorAll('.%s');\n" %
                 (rng.getrandbits(32), rng.getrandbits(32), rng.choice(LOREM)))
            fns.append(f)
            size += len(f)
        return "".join(fns).encode()

    def css(self, n):
        rng = self.rng
        out, size = [], 0
        while size < n:
            r = ".%s-%x{margin:0 auto;padding:%dpx;color:#%06x;font-size:%dpx}\n" % (
                rng.choice(LOREM), rng.getrandbits(16), rng.randrange(20), rng.getrandbits(24),
                rng.randrange(10, 30))
            out.append(r)
            size += len(r)
        return "".join(out).encode()

    def png(self, n):
        o = self.rng.randrange(0, len(self.noise) - n)
        data = self.noise[o:o + n]
        ihdr = struct.pack("!IIBBBBB", self.rng.randrange(16, 800), self.rng.randrange(16, 600),
                           8, 6, 0, 0, 0)
        chunk = lambda t, d: struct.pack("!I", len(d)) + t + d + struct.pack(
            "!I", zlib.crc32(t + d) & 0xffffffff)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + \
            chunk(b"IEND", b"")


# ---------------------------------------------------------------------------------------------
# DICOM upper layer (PS3.8) and DIMSE (PS3.7): enough for C-STORE (as samples/gen/gen_samples.c)

def _even(b, pad=b" "):
    return b + pad if len(b) & 1 else b


def el(g, e, v):
    return struct.pack("<HHI", g, e, len(v)) + v


def uid(u):
    return _even(u.encode(), b"\0")


def associate(kind, called, calling, sop):
    body = struct.pack("!HH", 1, 0) + called.ljust(16).encode() + calling.ljust(16).encode() + \
        b"\0" * 32
    item = lambda t, v: struct.pack("!BBH", t, 0, len(v)) + v
    body += item(0x10, uid("1.2.840.10008.3.1.1.1"))
    pc = b"\x01\x00\x00\x00"
    if kind == 1:
        pc += item(0x30, uid(sop))
    pc += item(0x40, uid("1.2.840.10008.1.2"))
    body += item(0x20 if kind == 1 else 0x21, pc)
    body += item(0x50, item(0x51, struct.pack("!I", 16384)))
    return struct.pack("!BBI", kind, 0, len(body)) + body


def pdata(mch, v):
    return struct.pack("!BBIIBB", 4, 0, len(v) + 6, len(v) + 2, 1, mch) + v


def dimse(sop, field, msgid, dsflag, inst, status=None):
    k = el(0, 2, uid(sop)) + el(0, 0x100, struct.pack("<H", field))
    k += el(0, 0x110 if field == 1 else 0x120, struct.pack("<H", msgid))
    if field == 1:
        k += el(0, 0x700, b"\0\0")
    k += el(0, 0x800, struct.pack("<H", dsflag))
    if status is not None:
        k += el(0, 0x900, struct.pack("<H", status))
    k += el(0, 0x1000, uid(inst))
    return el(0, 0, struct.pack("<I", len(k))) + k


MODALITIES = [("CT", "1.2.840.10008.5.1.4.1.1.2"), ("MR", "1.2.840.10008.5.1.4.1.1.4"),
              ("CR", "1.2.840.10008.5.1.4.1.1.1"), ("US", "1.2.840.10008.5.1.4.1.1.6.1")]


def dicom_dataset(p, mod, sop, inst, study, series, acc, pixels):
    return b"".join((
        el(0x0008, 0x0016, uid(sop)), el(0x0008, 0x0018, uid(inst)),
        el(0x0008, 0x0020, b"20260101"), el(0x0008, 0x0050, _even(acc.encode())),
        el(0x0008, 0x0060, mod.encode()),
        el(0x0010, 0x0010, _even(("%s^%s" % (p.last.upper(), p.first.upper())).encode())),
        el(0x0010, 0x0020, _even(p.mrn.encode())), el(0x0010, 0x0030, p.dob.encode()),
        el(0x0010, 0x0040, _even(p.sex.encode())),
        el(0x0020, 0x000D, uid(study)), el(0x0020, 0x000E, uid(series)),
        el(0x0028, 0x0010, struct.pack("<H", 512)), el(0x0028, 0x0011, struct.pack("<H", 512)),
        el(0x0028, 0x0100, struct.pack("<H", 16)), el(0x0028, 0x0101, struct.pack("<H", 12)),
        el(0x7fe0, 0x0010, pixels)))


# ---------------------------------------------------------------------------------------------
# the capture

def tls_record(ctype, body):
    return struct.pack("!BHH", ctype, 0x0303 if ctype != 0x16 else 0x0301, len(body)) + body


def tls_client_hello(rng, sni):
    ext = lambda t, v: struct.pack("!HH", t, len(v)) + v
    name = sni.encode()
    exts = (ext(0, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name) +
            ext(10, b"\x00\x04\x00\x1d\x00\x17") +                       # groups
            ext(13, b"\x00\x06\x04\x03\x08\x04\x04\x01") +               # signatures
            ext(16, b"\x00\x0c\x02h2\x08http/1.1") +                       # ALPN
            ext(43, b"\x04\x03\x04\x03\x03") +                             # TLS 1.3, 1.2
            ext(51, struct.pack("!HHH", 36, 0x1d, 32) + rng.randbytes(32)))  # key share
    body = (b"\x03\x03" + rng.randbytes(32) + b"\x20" + rng.randbytes(32) +
            b"\x00\x06\x13\x01\x13\x02\xc0\x2f" + b"\x01\x00" + struct.pack("!H", len(exts)) + exts)
    return tls_record(0x16, b"\x01" + len(body).to_bytes(3, "big") + body)


def tls_server_hello(rng):
    exts = b"\x00\x2b\x00\x02\x03\x04" + struct.pack("!HHHH", 51, 36, 0x1d, 32) + rng.randbytes(32)
    body = (b"\x03\x03" + rng.randbytes(32) + b"\x20" + rng.randbytes(32) + b"\x13\x01\x00" +
            struct.pack("!H", len(exts)) + exts)
    return (tls_record(0x16, b"\x02" + len(body).to_bytes(3, "big") + body) +
            tls_record(0x14, b"\x01") + tls_record(0x17, rng.randbytes(rng.randrange(2000, 4500))))


def tls_data(rng, n):
    """n bytes of application data records (at most 16 KiB + 256 each) of random bytes."""
    out, k = [], 0
    while k < n:
        m = min(16640, n - k)
        out.append(tls_record(0x17, rng.randbytes(m)))
        k += m
    return b"".join(out)


class Hospital:
    def __init__(self, mb, seed, path, tls=0.0):
        self.rng = rng = random.Random(seed)
        self.tls, self.tls_mb = tls, mb * tls
        self.trng = random.Random(seed * 7919 + 443)   # TLS bytes: the cleartext's rng untouched
        mb = mb * (1 - tls)        # the hospital's own traffic
        self.scale = mb / 470.0    # sessions per MB, so that --mb 500 writes about 500 MB
        self.w = Pcap(path)
        self.pats = population(max(20, round(6000 * mb / 500.0)), rng)
        self.web = Web(rng)
        # 12-bit pixel values, little endian: the high byte is 0x00-0x0f (no printable runs)
        raw = bytearray(rng.randbytes(4 << 20))
        raw[1::2] = bytes(raw[1::2]).translate(bytes(x & 0x0f for x in range(256)))
        self.pixels = bytes(raw)
        # the hosts: servers, 30 modalities, 40 HL7 feeders, 389 workstations, the exfil host
        self.pacs, self.engine, self.mail = "10.1.1.10", "10.1.1.40", "10.1.1.60"
        self.intranet, self.ehr, self.reports = "10.1.1.70", "10.1.1.80", "10.1.1.90"
        self.modalities = ["10.1.2.%d" % i for i in range(1, 31)]
        self.feeders = ["10.1.3.%d" % i for i in range(1, 41)]
        self.ws = ["10.20.%d.%d" % (i // 200, 10 + i % 200) for i in range(389)]
        self.exfil = "10.30.0.66"
        self.cdn = ["198.51.100.%d" % i for i in range(10, 30)] + ["192.0.2.%d" % i for i in
                                                                   range(40, 50)]
        self.telerad, self.relay, self.drop = "198.51.100.104", "198.51.100.25", "203.0.113.50"
        self.hosts = set()
        self.connections = 0
        self.ports = 20000
        self.all, self.out = set(), set()
        self.records = {}
        self.encoded = 0
        self.objects = {}
        self.sizes = {}

    # -- bookkeeping
    def conn(self, cli, srv, dport):
        self.hosts.update(h for h in (cli, srv) if h.startswith("10."))
        self.ports = 20000 + (self.ports - 19999) % 40000
        self.connections += 1
        return Conn(self.w, cli, srv, self.ports, dport, self.rng)

    def plant(self, kind, pats, outbound, encoded=False):
        self.records[kind] = self.records.get(kind, 0) + len(pats)
        ids = [p.i for p in pats]
        self.all.update(ids)
        if outbound:
            self.out.update(ids)
        if encoded:
            self.encoded += len(pats)

    def obj(self, kind, n=1):
        self.objects[kind] = self.objects.get(kind, 0) + n

    def some(self, lo, hi):
        return self.rng.sample(self.pats, min(len(self.pats), self.rng.randrange(lo, hi + 1)))

    # -- sessions
    def hl7(self):
        rng = self.rng
        app = rng.choice(("ADT", "LAB", "RIS", "PHARM", "REG", "CARDIO"))
        c = self.conn(rng.choice(self.feeders), self.engine, 2575)
        for i in range(rng.randrange(20, 60)):
            p = rng.choice(self.pats)
            ctl = "%s%09d" % (app, rng.randrange(10 ** 9))
            ts = "20260101%02d%02d%02d" % (8 + i % 10, rng.randrange(60), rng.randrange(60))
            msg, kind = hl7_message(rng, p, app, ctl, ts)
            c.send(True, b"\x0b" + msg.encode() + b"\x1c\r")
            ack = ("MSH|^~\\&|ENGINE|GENHOSP|%s|GENHOSP|%s||ACK^%s|A%s|P|2.5.1\rMSA|AA|%s\r" %
                   (app, ts, kind[4:], ctl, ctl))
            c.send(False, b"\x0b" + ack.encode() + b"\x1c\r")
            self.plant("hl7", [p], False)
            self.obj("hl7 message", 2)
        c.close()

    def dicom(self, outside=False):
        rng = self.rng
        p = rng.choice(self.pats)
        mod, sop = rng.choice(MODALITIES)
        src = self.pacs if outside else rng.choice(self.modalities)
        dst = self.telerad if outside else self.pacs
        called, calling = ("TELERAD", "PACS") if outside else ("PACS", mod + "%02d" % rng.randrange(1, 9))
        c = self.conn(src, dst, 104)
        c.send(True, associate(1, called, calling, sop))
        c.send(False, associate(2, called, calling, sop))
        root = "1.2.826.0.1.3680043.10.1455.%d" % rng.randrange(10 ** 9)
        study = root + ".1"
        acc = "ACC%08d" % rng.randrange(10 ** 8)
        n = rng.randrange(1, 5)
        for k in range(n):
            inst = "%s.2.%d" % (root, k + 1)
            size = rng.randrange(40, 520) * 1024
            o = rng.randrange(0, len(self.pixels) - size) & ~1
            ds = dicom_dataset(p, mod, sop, inst, study, root + ".3", acc,
                               self.pixels[o:o + size])
            c.send(True, pdata(3, dimse(sop, 1, k + 1, 0, inst)))
            pdus = [pdata(0, ds[i:i + 16372]) for i in range(0, len(ds), 16372)]
            pdus[-1] = pdus[-1][:11] + b"\x02" + pdus[-1][12:]
            c.send(True, b"".join(pdus))
            c.send(False, pdata(3, dimse(sop, 0x8001, k + 1, 0x0101, inst, 0)))
            self.obj("dicom instance")
        c.send(True, b"\x05\x00\x00\x00\x00\x04\x00\x00\x00\x00")
        c.send(False, b"\x06\x00\x00\x00\x00\x04\x00\x00\x00\x00")
        c.close()
        self.plant("dicom", [p] * n, outside)

    def http(self, cli, srv, exchanges, port=80):
        """exchanges: (request head, request body, response head, response body)"""
        c = self.conn(cli, srv, port)
        for rq, rb, sh, sb in exchanges:
            c.send(True, rq + rb)
            c.send(False, sh + sb)
        c.close()

    @staticmethod
    def resp(ctype, body, extra=""):
        return ("HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Thu, 01 Jan 2026 09:00:00 GMT\r\n"
                "Content-Type: %s\r\nContent-Length: %d\r\n%sConnection: keep-alive\r\n\r\n" %
                (ctype, len(body), extra)).encode()

    def fhir(self):
        rng = self.rng
        ex = []
        for _ in range(rng.randrange(1, 4)):
            pats = self.some(5, 45)
            body = fhir_bundle(rng, pats)
            rq = ("GET /fhir/Patient?_count=%d&_lastUpdated=ge2026-01-01&page=%d HTTP/1.1\r\n"
                  "Host: ehr.genhosp.org\r\nAccept: application/fhir+json\r\n"
                  "Accept-Encoding: gzip\r\nAuthorization: Bearer %032x\r\n\r\n" %
                  (len(pats), rng.randrange(1, 200), rng.getrandbits(128))).encode()
            gz = rng.random() < 0.2
            if gz:
                body = gzip.compress(body, 1, mtime=0)
            ex.append((rq, b"", self.resp("application/fhir+json",
                                          body, "Content-Encoding: gzip\r\n" if gz else ""), body))
            self.plant("fhir", pats, False, gz)
            self.obj("fhir bundle")
        self.http(rng.choice(self.ws), self.ehr, ex)

    def csv(self):
        rng = self.rng
        pats = self.some(60, 300)
        body = csv_export(rng, pats)
        name = "census_%06d" % rng.randrange(10 ** 6)
        zipped = rng.random() < 0.15
        if zipped:
            body = zip_of([(name + ".csv", body)])
            self.obj("zip file")
        rq = ("GET /reports/export/%s.%s HTTP/1.1\r\nHost: reports.genhosp.org\r\n\r\n" %
              (name, "zip" if zipped else "csv")).encode()
        hd = self.resp("application/zip" if zipped else "text/csv", body,
                       "Content-Disposition: attachment; filename=\"%s.%s\"\r\n" %
                       (name, "zip" if zipped else "csv"))
        self.http(rng.choice(self.ws), self.reports, [(rq, b"", hd, body)])
        self.plant("csv", pats, False, zipped)
        self.obj("csv export")

    def web_page(self):
        rng = self.rng
        outside = rng.random() < 0.5
        srv = rng.choice(self.cdn) if outside else self.intranet
        ex = []
        for _ in range(rng.randrange(1, 7)):
            kind = rng.choice(("html", "js", "js", "css", "png", "png", "png"))
            n = int(rng.expovariate(1 / 3500)) + 300
            body = getattr(self.web, kind)(n)
            ctype = {"html": "text/html; charset=utf-8", "js": "application/javascript",
                     "css": "text/css", "png": "image/png"}[kind]
            rq = ("GET /static/%x.%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0 (Windows NT "
                  "10.0; Win64; x64)\r\nAccept: */*\r\n\r\n" %
                  (rng.getrandbits(40), kind, "cdn.example.net" if outside else
                   "intranet.genhosp.org")).encode()
            ex.append((rq, b"", self.resp(ctype, body), body))
            self.obj("web object")
        self.http(rng.choice(self.ws), srv, ex, 80)

    def email(self, outside=False):
        rng = self.rng
        pats = self.some(20, 200)
        att = base64_lines(csv_export(rng, pats))
        b = "----=_Part_%d" % rng.randrange(10 ** 9)
        frm = "user%d@genhosp.org" % rng.randrange(1000)
        to = "billing@%s" % ("partner-billing.example.com" if outside else "genhosp.org")
        msg = ("From: %s\r\nTo: %s\r\nSubject: monthly census\r\nDate: Thu, 01 Jan 2026 10:00:00 "
               "+0000\r\nMessage-ID: <%x@genhosp.org>\r\nMIME-Version: 1.0\r\nContent-Type: "
               "multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\nContent-Type: text/plain; "
               "charset=us-ascii\r\n\r\nPlease find the census attached.\r\n\r\n--%s\r\n"
               "Content-Type: text/csv; name=\"census.csv\"\r\nContent-Transfer-Encoding: base64\r\n"
               "Content-Disposition: attachment; filename=\"census.csv\"\r\n\r\n" %
               (frm, to, rng.getrandbits(64), b, b, b)).encode() + att + \
            ("\r\n--%s--\r\n.\r\n" % b).encode()
        cli, srv = (self.mail, self.relay) if outside else (rng.choice(self.ws), self.mail)
        c = self.conn(cli, srv, 25)
        for who, line in ((0, b"220 mail ESMTP ready\r\n"), (1, b"EHLO ws.genhosp.org\r\n"),
                          (0, b"250-mail\r\n250 8BITMIME\r\n"),
                          (1, ("MAIL FROM:<%s>\r\n" % frm).encode()), (0, b"250 OK\r\n"),
                          (1, ("RCPT TO:<%s>\r\n" % to).encode()), (0, b"250 OK\r\n"),
                          (1, b"DATA\r\n"), (0, b"354 go ahead\r\n"), (1, msg),
                          (0, b"250 OK queued\r\n"), (1, b"QUIT\r\n"), (0, b"221 bye\r\n")):
            c.send(who == 1, line)
        c.close()
        self.plant("email csv", pats, outside, True)
        self.obj("email", 2)

    def tls_session(self):
        """HTTPS: a workstation or server to an outside service (or the EHR's HTTPS port)."""
        t = self.trng
        cli = t.choice(self.ws + [self.ehr, self.mail, self.pacs])
        inside = t.random() < 0.15
        srv = self.ehr if inside and cli != self.ehr else t.choice(self.cdn + [self.relay])
        sni = "ehr.genhosp.org" if srv == self.ehr else "svc%d.example-cloud.net" % t.randrange(40)
        c = self.conn(cli, srv, 443)
        c.send(True, tls_client_hello(t, sni))
        c.send(False, tls_server_hello(t))
        c.send(True, tls_record(0x14, b"\x01") + tls_record(0x17, t.randbytes(58)))
        for _ in range(t.randrange(1, 4)):
            up = t.random() < 0.1
            big = int(t.uniform(64, 4096) * 1024)
            c.send(True, tls_data(t, big if up else t.randrange(300, 1500)))
            c.send(False, tls_data(t, t.randrange(200, 800) if up else big))
        c.close()
        self.obj("tls session")

    def exfil_upload(self, pats, kind):
        rng = self.rng
        if kind == "csv":
            body, ctype = csv_export(rng, pats), "text/csv"
        elif kind == "zip":
            body, ctype = zip_of([("export_%d.csv" % rng.randrange(10 ** 6),
                                   csv_export(rng, pats))]), "application/zip"
            self.obj("zip file")
        else:
            body, ctype = ndjson(pats), "application/fhir+ndjson"
        rq = ("PUT /u/%x/%s HTTP/1.1\r\nHost: files.example-share.net\r\nUser-Agent: curl/8.5.0\r\n"
              "Content-Type: %s\r\nContent-Length: %d\r\n\r\n" %
              (rng.getrandbits(48), "data." + kind, ctype, len(body))).encode()
        ok = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
        self.http(self.exfil, self.drop, [(rq, body, ok, b"")])
        self.plant("exfil " + kind, pats, True, kind == "zip")
        self.obj("upload")

    # -- the day
    def run(self):
        rng, s = self.rng, self.scale
        n = lambda k: max(1, round(k * s))
        plan = (["hl7"] * n(360) + ["dicom"] * n(340) + ["dicom_out"] * round(15 * s) +
                ["fhir"] * n(2500) + ["csv"] * n(600) + ["web"] * n(4200) + ["email"] * n(185) +
                ["email_out"] * round(15 * s))
        # TLS sessions average about 3.1 MB (1-3 exchanges of 64 KiB-4 MiB)
        plan += ["tls"] * round(self.tls_mb / 3.1)
        rng.shuffle(plan)
        # the exfiltration: a quarter of the patients, uploaded three times (CSV, zipped CSV,
        # FHIR NDJSON) in exports of 100-500 patients, spread over the day
        leak = rng.sample(self.pats, len(self.pats) // 4)
        batches = []
        for kind in ("csv", "zip", "ndjson"):
            i = 0
            while i < len(leak):
                k = rng.randrange(100, 500) if len(self.pats) > 400 else max(5, len(leak) // 3)
                batches.append((leak[i:i + k], kind))
                i += k
        rng.shuffle(batches)
        session = {"hl7": self.hl7, "dicom": self.dicom, "dicom_out": lambda: self.dicom(True),
                   "fhir": self.fhir, "csv": self.csv, "web": self.web_page, "email": self.email,
                   "email_out": lambda: self.email(True), "tls": self.tls_session}
        step = max(1, len(plan) // (len(batches) + 1))
        for j, what in enumerate(plan):
            if j % step == step - 1 and batches:
                self.exfil_upload(*batches.pop(0))
            b0 = self.w.bytes + self.w.bufn
            session[what]()
            self.w.gap(rng.randrange(1000, 60000))
            self.sizes[what] = self.sizes.get(what, 0) + self.w.bytes + self.w.bufn - b0
        for b in batches:
            self.exfil_upload(*b)
        # every workstation shows up at least once (a small web fetch), as on a real network
        for ws in self.ws:
            if ws not in self.hosts and s >= 0.5:
                body = self.web.css(400)
                self.http(ws, self.intranet, [(b"GET /static/site.css HTTP/1.1\r\nHost: "
                                               b"intranet.genhosp.org\r\n\r\n", b"",
                                               self.resp("text/css", body), body)])
                self.obj("web object")
        self.w.close()


def base64_lines(data):
    import base64
    b = base64.b64encode(data)
    return b"\r\n".join(b[i:i + 76] for i in range(0, len(b), 76))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=500, help="approximate size (default 500)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tls", type=float, default=0.0,
                    help="fraction of the bytes in TLS sessions (default 0; 0.85 TLS-heavy)")
    ap.add_argument("out")
    ap.add_argument("truth", nargs="?")
    a = ap.parse_args()
    if not 0 <= a.tls < 1:
        ap.error("--tls must be at least 0 and below 1")
    h = Hospital(a.mb, a.seed, a.out, a.tls)
    h.run()
    records = sum(h.records.values())
    truth = {
        "comment": "written by tests/bench/gen_hospital.py; patients are what phitrace's "
                   "individuals table should give (estimate) for scopes all and outbound",
        "seed": a.seed, "mb": a.mb, "tls": a.tls, "bytes": h.w.bytes, "packets": h.w.packets,
        "tcp_connections": h.connections,
        "internal_hosts": len(h.hosts), "population": len(h.pats),
        "patients": {"all": len(h.all), "outbound": len(h.out)},
        "records": records, "records_by_kind": dict(sorted(h.records.items())),
        "records_in_gzip_base64_zip": h.encoded,
        "bytes_by_session": dict(sorted(h.sizes.items())),
        "objects": sum(h.objects.values()), "objects_by_kind": dict(sorted(h.objects.items())),
    }
    with open(a.truth or a.out + ".truth.json", "w") as f:
        json.dump(truth, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
