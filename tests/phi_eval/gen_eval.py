#!/usr/bin/env python3
"""Independent PHI evaluation set for phitrace (issue 10, item 8).

Writes documents in the layouts that hospital systems really emit (tests/phi_eval/LAYOUTS.md),
ships each of them in every container phitrace opens (file at rest, zip, tar.gz, 7z, gzip,
and packet captures of HTTP multipart, SMTP, FTP and SMB2 uploads), and writes truth.json
(which patients are in which document, every identifier planted, and the individuals of the
union under the definitions in LAYOUTS.md) before phitrace ever runs.

This generator does not share code or vocabulary with the detector (analyzer/phi/) or with
tests/phi/gen_labelled.py: it was written from the README and from what the systems print.

Usage: gen_eval.py OUTDIR            (OUTDIR/docs, OUTDIR/containers, OUTDIR/truth.json)
Standard library plus Debian packages: python3-pydicom, python3-openpyxl, python3-docx,
python3-reportlab, p7zip-full (each missing one skips its layout or container, loudly).
"""
import base64
import csv
import datetime
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tarfile
import unicodedata
import zipfile

# The Debian packages live in the system interpreter; a pyenv/venv python does not see them.
if __name__ == "__main__" and os.path.exists("/usr/bin/python3") and \
        os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
        not os.environ.get("PHI_EVAL_NO_REEXEC"):
    try:
        import pydicom  # noqa: F401
        import openpyxl  # noqa: F401
    except ImportError:
        os.environ["PHI_EVAL_NO_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)

SEED = 20261202
FIXED_TIME = datetime.datetime(2026, 11, 28, 2, 13, 0)
FIXED_EPOCH = 1795832000  # 2026-11-28T02:13:20Z, the capture's start

SKIPPED = []  # (what, why)


# ---- normal forms (README: digits for SSN/phone, YYYYMMDD dates, FAMILY^GIVEN upper case) ----

def nfc(s):
    return unicodedata.normalize("NFC", s)


def norm(typ, raw):
    if typ in ("ssn", "phone"):
        d = "".join(c for c in raw if c.isdigit())
        if typ == "phone" and len(d) == 11 and d[0] == "1":
            d = d[1:]
        return d
    if typ == "birth_date":
        return raw  # always passed as YYYYMMDD
    if typ == "name":
        fam, giv = raw
        return nfc("%s^%s" % (fam.upper(), giv.upper()))
    if typ == "email":
        return raw.lower()
    if typ in ("address", "health_plan_id", "mrn", "zip"):
        return nfc(raw.upper())
    return nfc(raw)


def ascii_fold(s):
    """What an ASCII-only system prints for a name: accents dropped (GONCALVES, LUKASZ)."""
    s = "".join({"Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ß": "ss",
                 "Æ": "AE", "æ": "ae"}.get(c, c) for c in s)
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


# ---- the synthetic population ---------------------------------------------------------------

FAMILIES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Turner",
    "Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Murphy",
    "Cook", "Rogers", "Morgan", "Cooper", "Peterson", "Reed", "Bailey", "Kelly", "Howard",
    "Ward", "Cox", "Richardson", "Wood", "Watson", "Brooks", "Bennett", "Gray", "Hughes",
    "Price", "Sanders", "Myers", "Long", "Ross", "Foster", "Powell", "Jenkins", "Perry",
    "Russell", "Sullivan", "Fisher", "Henderson", "Coleman", "Patterson", "Jordan",
    "Reynolds", "Hamilton", "Graham", "Wallace", "Woods", "Cole", "West", "Owens",
    "Kowalski", "Novak", "Schwartz", "Lindqvist", "Haddad", "Okafor", "Tanaka", "Chen",
]
GIVEN_M = ["James", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Charles",
           "Thomas", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Paul",
           "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Edward", "Ronald",
           "Timothy", "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric"]
GIVEN_F = ["Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan",
           "Jessica", "Sarah", "Karen", "Nancy", "Lisa", "Margaret", "Betty", "Sandra",
           "Ashley", "Dorothy", "Kimberly", "Emily", "Donna", "Michelle", "Carol", "Amanda",
           "Melissa", "Deborah", "Stephanie", "Rebecca", "Laura", "Sharon", "Cynthia"]
# Names a record system must keep intact (UTF-8 in most layouts, entities in HTML, \\u escapes
# in FHIR JSON). (family, given, sex)
SPECIAL = [
    ("Müller", "Jürgen", "M"), ("García", "José", "M"), ("Ñúñez", "María", "F"),
    ("Lefèvre", "François", "M"), ("Wójcik", "Łukasz", "M"), ("O'Brien", "Siobhán", "F"),
    ("Smith-Jones", "Chloé", "F"), ("de la Cruz", "Ana", "F"), ("Björnsson", "Björn", "M"),
    ("Nguyễn", "Thị Lan", "F"), ("Gonçalves", "João", "M"), ("Østergaard", "Søren", "M"),
    ("Zoë", "Adèle", "F"), ("Dvořák", "Anežka", "F"),
]
LATIN1 = set(range(0x20, 0x7f)) | set(range(0xa0, 0x100))

CITIES = [("Boston", "MA", "02118", "617"), ("Cambridge", "MA", "02139", "617"),
          ("Worcester", "MA", "01608", "508"), ("Providence", "RI", "02903", "401"),
          ("Quincy", "MA", "02169", "617"), ("Newton", "MA", "02458", "617"),
          ("Nashua", "NH", "03060", "603"), ("Hartford", "CT", "06103", "860"),
          ("Lowell", "MA", "01852", "978"), ("Brockton", "MA", "02301", "508")]
STREETS = ["Maple", "Oak", "Washington", "Beacon", "Centre", "Elm", "Highland", "Pleasant",
           "Summer", "Union", "Chestnut", "Prospect", "Harvard", "Adams", "Lincoln", "Walnut"]
SUFFIX = ["St", "Street", "Ave", "Avenue", "Rd", "Road", "Dr", "Ln", "Blvd", "Way"]

HOSPITAL = "Riverside General Hospital"
HOSP_ADDR = ("55 Fruit Street", "Boston", "MA", "02114")
HOSP_PHONE = "(617) 726-2000"
CLINIC_ADDRS = [("200 Cambridge Street", "Boston", "MA", "02114"),
                ("1 Hospital Drive", "Quincy", "MA", "02169"),
                ("15 Parkman Street", "Boston", "MA", "02114")]


def luhn_ok(digits):
    s = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return s % 10 == 0


def make_npi(rng):
    while True:
        base = str(rng.choice((1, 2))) + "".join(str(rng.randrange(10)) for _ in range(8))
        for c in range(10):
            if luhn_ok("80840" + base + str(c)):
                return base + str(c)


def make_dea(rng, family):
    letters = rng.choice("ABFM") + family[0].upper()
    d = [rng.randrange(10) for _ in range(6)]
    chk = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return letters + "".join(map(str, d)) + str(chk)


def make_ssn(rng, used):
    while True:
        area = rng.randrange(1, 900)
        if area == 666:
            continue
        group = rng.randrange(1, 100)
        serial = rng.randrange(1, 10000)
        s = "%03d-%02d-%04d" % (area, group, serial)
        if s in ("078-05-1120", "219-09-9999", "123-45-6789") or s in used:
            continue
        used.add(s)
        return s


def make_phone(rng, area):
    while True:
        exch = rng.randrange(200, 1000)
        if exch == 555 or exch % 100 == 11:
            continue
        return "%s%03d%04d" % (area, exch, rng.randrange(10000))


class Patient:
    pass


class Staff:
    pass


def population(rng):
    used_ssn, used_mrn = set(), set()
    names = []
    for fam, giv, sex in SPECIAL:
        names.append((fam, giv, sex))
    fams = rng.sample(FAMILIES, len(FAMILIES))
    i = 0
    while len(names) < 104:
        sex = rng.choice("MF")
        giv = rng.choice(GIVEN_M if sex == "M" else GIVEN_F)
        names.append((fams[i % len(fams)], giv, sex))
        i += 1
    # namesakes: different people, same family and given name, different birth dates
    for k in range(4):
        fam, giv, sex = names[20 + k]
        names.append((fam, giv, sex))
    pats = []
    for n, (fam, giv, sex) in enumerate(names):
        p = Patient()
        p.pid = "P%03d" % (n + 1)
        p.family, p.given, p.sex = fam, giv, sex
        p.middle = rng.choice("ABCDEFGHJKLMNPRSTW") if rng.random() < 0.4 else ""
        p.dob = datetime.date(1935, 1, 1) + datetime.timedelta(days=rng.randrange(0, 30500))
        p.ssn = make_ssn(rng, used_ssn) if rng.random() < 0.8 else ""
        while True:
            mrn = "%08d" % rng.randrange(10000000, 99999999)
            if mrn not in used_mrn:
                used_mrn.add(mrn)
                break
        p.mrn = mrn
        city = rng.choice(CITIES)
        p.street = "%d %s %s" % (rng.randrange(2, 990), rng.choice(STREETS), rng.choice(SUFFIX))
        p.city, p.state, p.zip, area = city
        p.phone = make_phone(rng, area)
        p.plan = rng.choice(("BCX", "HPH", "TUF", "AET")) + "%09d" % rng.randrange(10 ** 9)
        asc = unicodedata.normalize("NFKD", giv[0] + fam).encode("ascii", "ignore").decode()
        asc = "".join(c for c in asc if c.isalnum()).lower()
        p.email = ("%s%02d@example.net" % (asc, p.dob.year % 100)) if rng.random() < 0.5 else ""
        p.latin1 = all(ord(c) in LATIN1 for c in fam + giv)
        pats.append(p)
    for p in pats[96:104]:
        if not p.ssn:
            p.ssn = make_ssn(rng, used_ssn)
        assert p.latin1, p.family
    # a family: a mother and her child share the home phone and the address (phone and address
    # never identify one person)
    mom, kid = pats[40], pats[41]
    kid.family = mom.family
    kid.street, kid.city, kid.state, kid.zip, kid.phone = (mom.street, mom.city, mom.state,
                                                           mom.zip, mom.phone)
    kid.dob = datetime.date(2015, 6, 3)
    # twins: same family name and birth date, different given names
    t1, t2 = pats[42], pats[43]
    t2.family, t2.dob = t1.family, t1.dob
    if t2.given == t1.given:
        t2.given = "Olivia" if t1.given != "Olivia" else "Emma"
    # namesakes must differ in birth date
    for k in range(4):
        a, b = pats[20 + k], pats[104 + k]
        while b.dob == a.dob:
            b.dob += datetime.timedelta(days=1)
    staff = []
    for fam, giv, cred, dept in [("Patel", "Ravi", "MD", "Internal Medicine"),
                                 ("Okonkwo", "Adaeze", "MD", "Radiology"),
                                 ("Hartmann", "Lukas", "MD", "Pathology"),
                                 ("Rossi", "Giulia", "DO", "Family Medicine"),
                                 ("Sato", "Kenji", "MD", "Oncology"),
                                 ("Brennan", "Claire", "NP", "Wound Care"),
                                 ("Ibrahim", "Yusuf", "MD", "Hospital Medicine"),
                                 ("Lindgren", "Maja", "MD", "Surgery"),
                                 ("Alvarez", "Sofia", "RN", "Infusion"),
                                 ("Weiss", "Daniel", "MD", "Emergency Medicine")]:
        s = Staff()
        s.family, s.given, s.cred, s.dept = fam, giv, cred, dept
        s.npi = make_npi(rng)
        s.dea = make_dea(rng, fam) if cred in ("MD", "DO", "NP") else ""
        s.phone = "617726%04d" % rng.randrange(1000, 9999)
        s.pager = "617726%04d" % rng.randrange(1000, 9999)
        staff.append(s)
    return pats, staff


# ---- formatting helpers -----------------------------------------------------------------------

def us_date(d):
    return d.strftime("%m/%d/%Y")


def iso_date(d):
    return d.isoformat()


def hl7_date(d):
    return d.strftime("%Y%m%d")


def phone_paren(p):
    return "(%s) %s-%s" % (p[:3], p[3:6], p[6:])


def phone_dash(p):
    return "%s-%s-%s" % (p[:3], p[3:6], p[6:])


def phone_dot(p):
    return "%s.%s.%s" % (p[:3], p[3:6], p[6:])


def age(d, on=datetime.date(2026, 11, 28)):
    return on.year - d.year - ((on.month, on.day) < (d.month, d.day))


def pad(s, n):
    s = s[:n]
    return s + " " * (n - len(s))


def upname(p):
    return "%s, %s%s" % (p.family.upper(), p.given.upper(), (" " + p.middle) if p.middle else "")


class Doc:
    def __init__(self, layout, name):
        self.layout = layout
        self.name = name  # relative path under docs/
        self.data = b""
        self.pats = {}   # pid -> set of (type, value)
        self.staff = set()  # (type, value, role)

    def plant(self, p, typ, raw):
        self.pats.setdefault(p.pid, set()).add((typ, norm(typ, raw)))

    def patient(self, p, *types):
        """Plants the listed identifier types of p as this layout prints them."""
        for t in types:
            if t == "name":
                self.plant(p, "name", (p.family, p.given))
            elif t == "birth_date":
                self.plant(p, "birth_date", hl7_date(p.dob))
            elif t == "ssn":
                if p.ssn:
                    self.plant(p, "ssn", p.ssn)
            elif t == "mrn":
                self.plant(p, "mrn", p.mrn)
            elif t == "phone":
                self.plant(p, "phone", p.phone)
            elif t == "address":
                self.plant(p, "address", p.street)
            elif t == "zip":
                self.plant(p, "zip", p.zip)
            elif t == "email":
                if p.email:
                    self.plant(p, "email", p.email)
            elif t == "health_plan_id":
                self.plant(p, "health_plan_id", p.plan)
            else:
                raise ValueError(t)
        self.pats.setdefault(p.pid, set())

    def staffer(self, s, *types):
        for t in types:
            if t == "npi":
                self.staff.add(("provider_npi", s.npi, "staff"))
            elif t == "phone":
                self.staff.add(("phone", s.phone, "staff"))
            elif t == "pager":
                self.staff.add(("phone", s.pager, "staff"))
            elif t == "name":
                self.staff.add(("name", norm("name", (s.family, s.given)), "staff"))
            elif t == "dea":
                if s.dea:
                    self.staff.add(("provider_dea", s.dea, "staff"))

    def other(self, typ, value, role):
        self.staff.add((typ, value, role))

    def place(self, addr, role):
        """A clinic or hospital address (street, city, state, ZIP): not a patient's."""
        self.staff.add(("address", addr[0].upper(), role))
        self.staff.add(("zip", addr[3], role))


def lab_results(rng, n=None):
    tests = [("GLUCOSE", "mg/dL", "70-99", 60, 240), ("SODIUM", "mmol/L", "135-145", 128, 150),
             ("POTASSIUM", "mmol/L", "3.5-5.1", 3.0, 6.0), ("CREATININE", "mg/dL", "0.6-1.3",
                                                             0.5, 3.2),
             ("HEMOGLOBIN", "g/dL", "12.0-17.5", 8.0, 18.0), ("WBC", "K/uL", "4.5-11.0", 2.0,
                                                              19.0),
             ("PLATELETS", "K/uL", "150-400", 80, 520), ("TSH", "uIU/mL", "0.4-4.0", 0.1, 9.0)]
    out = []
    for t in rng.sample(tests, n or rng.randrange(2, 5)):
        name, unit, ref, lo, hi = t
        v = rng.uniform(lo, hi)
        vs = "%d" % v if hi > 50 else "%.1f" % v
        lo_r, hi_r = (float(x) for x in ref.split("-"))
        flag = "H" if v > hi_r else ("L" if v < lo_r else "")
        out.append((name, vs, unit, ref, flag))
    return out


DX = [("I10", "Essential hypertension"), ("E11.9", "Type 2 diabetes mellitus without complications"),
      ("J18.9", "Pneumonia, unspecified organism"), ("N18.3", "Chronic kidney disease, stage 3"),
      ("I50.9", "Heart failure, unspecified"), ("J44.1", "COPD with acute exacerbation"),
      ("C50.911", "Malignant neoplasm of right female breast"), ("L89.154", "Pressure ulcer of sacral region, stage 4"),
      ("E78.5", "Hyperlipidemia, unspecified"), ("F32.9", "Major depressive disorder, single episode"),
      ("M17.11", "Unilateral primary osteoarthritis, right knee"), ("K57.30", "Diverticulosis of large intestine")]


# ---- layouts ---------------------------------------------------------------------------------

def L_lis_lab(rng, pats, staff):
    d = Doc("lis_lab", "lis_lab/CUMRPT_20261128_0614.txt")
    lines, page = [], 1
    run = rng.randrange(1000, 9999)
    director = staff[2]
    d.staffer(director, "name", "phone")

    def header():
        return ["%-60s PAGE %3d" % (HOSPITAL.upper() + " - CLINICAL LABORATORY", page),
                "CUMULATIVE RESULTS REPORT     PRINTED 11/28/2026 06:14     RUN %d" % run,
                "LAB DIRECTOR: %s, %s MD   CLIA 22D0912345   PHONE %s" % (
                    director.family.upper(), director.given.upper(), phone_paren(director.phone)),
                "-" * 80]
    lines += header()
    for i, p in enumerate(pats):
        if i and i % 6 == 0:
            page += 1
            lines.append("\f" + header()[0])
            lines += header()[1:]
        doc = rng.choice(staff[:8])
        acc = "L26-%07d" % rng.randrange(10 ** 7)
        order = "%08d" % rng.randrange(10 ** 7, 10 ** 8)  # order numbers look like MRNs
        lines.append("PATIENT: %-28s MRN: %s   DOB: %s   SEX: %s   LOC: %s" % (
            upname(p), p.mrn, us_date(p.dob), p.sex, rng.choice(("4W-412", "ED", "OPC", "6E-602"))))
        lines.append("ORDERING: %s, %s %s (NPI %s)   ORDER# %s   ACC: %s" % (
            doc.family.upper(), doc.given.upper(), doc.cred, doc.npi, order, acc))
        lines.append("COLLECTED: 11/27/2026 %02d:%02d   RECEIVED: 11/27/2026 %02d:%02d" % (
            rng.randrange(4, 7), rng.randrange(60), rng.randrange(7, 9), rng.randrange(60)))
        for name, v, unit, ref, flag in lab_results(rng):
            lines.append("  %-18s %8s  %-7s (%s)  %s" % (name, v, unit, ref, flag))
        lines.append("-" * 80)
        d.patient(p, "name", "mrn", "birth_date")
        d.staffer(doc, "npi", "name")
        d.other("accession", acc, "look-alike")
        d.other("order", order, "look-alike")
    lines.append("*** END OF REPORT ***  %d PATIENTS" % len(pats))
    d.data = ("\n".join(lines) + "\n").encode()
    return [d]


def L_rad_worklist(rng, pats, staff):
    d = Doc("rad_worklist", "rad_worklist/CT2_worklist_2026-11-28.txt")
    lines = ["%s - RADIOLOGY MODALITY WORKLIST   CT SCANNER 2 (AE CT2_RGH)   DATE: 2026-11-28" %
             HOSPITAL.upper(),
             "READING ROOM %s" % phone_dash(staff[1].phone), "",
             "SCHED ACCESSION    MRN       PATIENT NAME                  DOB        SEX MOD "
             "EXAM                       REFERRING",
             "----- ------------ --------- ----------------------------- ---------- --- --- "
             "-------------------------- ----------------"]
    d.staffer(staff[1], "phone")
    exams = ["CT ABD/PEL W CONTRAST", "CT HEAD WO CONTRAST", "CT CHEST PE PROTOCOL",
             "CTA CHEST", "CT SINUS WO", "CT L-SPINE WO"]
    t = datetime.datetime(2026, 11, 28, 7, 0)
    for p in pats:
        ref = rng.choice(staff)
        acc = "RA%08d" % rng.randrange(10 ** 8)
        lines.append("%s %s %s %s %s %-3s CT  %s %s" % (
            t.strftime("%H:%M"), pad(acc, 12), pad(p.mrn, 9), pad(upname(p), 29),
            iso_date(p.dob), p.sex, pad(rng.choice(exams), 26),
            "%s, %s" % (ref.family.upper(), ref.given[0])))
        t += datetime.timedelta(minutes=rng.choice((15, 20, 30)))
        d.patient(p, "mrn", "name", "birth_date")
        d.other("accession", acc, "look-alike")
    lines.append("")
    lines.append("TOTAL EXAMS: %d" % len(pats))
    d.data = ("\n".join(lines) + "\n").encode()
    return [d]


def L_adt_census(rng, pats, staff):
    d = Doc("adt_census", "adt_census/MIDNIGHT_CENSUS_112826.txt")
    units = [("4 WEST MEDICAL/SURGICAL", "4W", "6177264400"), ("6 EAST CARDIOLOGY", "6E",
                                                                "6177264600"),
             ("ICU", "ICU", "6177264900")]
    lines = []
    per = (len(pats) + 2) // 3
    for u, (uname, code, uphone) in enumerate(units):
        chunk = pats[u * per:(u + 1) * per]
        lines += ["\f%-36s MIDNIGHT CENSUS          11/28/2026 00:00" % HOSPITAL.upper(),
                  "UNIT: %-30s UNIT PHONE %s" % (uname, phone_dash(uphone)),
                  "ROOM-BED  PATIENT NAME                 MRN        AGE SEX  ADMIT DATE  "
                  "ATTENDING               ACCOUNT",
                  "--------  ---------------------------  ---------  --- ---  ----------  "
                  "----------------------  ---------"]
        d.other("phone", uphone, "unit")
        for p in chunk:
            att = rng.choice(staff[:8])
            acct = "%09d" % rng.randrange(10 ** 8, 10 ** 9)  # 9 bare digits, not an SSN
            lines.append("%-8s  %s  %s  %3d %-3s  %s  %s  %s" % (
                "%s%d-%s" % (code, rng.randrange(1, 40), rng.choice("AB")), pad(upname(p), 27),
                pad(p.mrn, 9), age(p.dob), p.sex,
                us_date(datetime.date(2026, 11, rng.randrange(15, 28))),
                pad("%s, %s %s" % (att.family.upper(), att.given[0], att.cred), 22), acct))
            d.patient(p, "name", "mrn")
            d.other("account", acct, "look-alike")
        lines.append("UNIT TOTAL: %d" % len(chunk))
    d.data = ("\n".join(lines) + "\n").encode()
    return [d]


def L_billing_csv(rng, pats, staff):
    d = Doc("billing_csv", "billing_csv/claims_export_2026-11.csv")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["ClaimID", "PatientAccount", "LastName", "FirstName", "DOB", "SSN",
                "SubscriberID", "Address1", "City", "State", "Zip", "Phone", "DOS", "CPT",
                "ICD10", "Charge", "RenderingNPI", "RenderingProvider"])
    cpts = ["99213", "99214", "93000", "80053", "71046", "36415", "99284"]
    for p in pats:
        prov = rng.choice(staff[:8])
        claim = "CLM%010d" % rng.randrange(10 ** 10)
        acct = "%09d" % rng.randrange(10 ** 8, 10 ** 9)
        dos = datetime.date(2026, 11, rng.randrange(1, 27))
        w.writerow([claim, acct, p.family, p.given, us_date(p.dob), p.ssn, p.plan, p.street,
                    p.city, p.state, p.zip, phone_paren(p.phone), us_date(dos),
                    rng.choice(cpts), rng.choice(DX)[0], "%.2f" % rng.uniform(40, 2400),
                    prov.npi, "%s %s %s" % (prov.given, prov.family, prov.cred)])
        d.patient(p, "name", "birth_date", "ssn", "health_plan_id", "address", "zip", "phone")
        d.staffer(prov, "npi", "name")
        d.other("date", hl7_date(dos), "date of service")
    d.data = buf.getvalue().encode()
    return [d]


def L_ehr_pipe(rng, pats, staff):
    d = Doc("ehr_pipe", "ehr_pipe/PAT_DEMOG_20261128.dat")
    lines = ["# export Clarity PAT_DEMOG extract host=clarity01 run=2026-11-28T02:00:03Z rows=%d"
             % len(pats),
             "#PAT_MRN|PAT_LAST|PAT_FIRST|PAT_MI|BIRTH_DATE|SEX|HOME_PHONE|ADDR_LINE_1|CITY|STATE"
             "|ZIP|PCP_NPI|LAST_ENC_DATE|LAST_DX"]
    for p in pats:
        pcp = rng.choice(staff[:8])
        enc = datetime.date(2026, rng.randrange(1, 12), rng.randrange(1, 28))
        lines.append("|".join([p.mrn, p.family.upper(), p.given.upper(), p.middle,
                               iso_date(p.dob), p.sex, phone_dash(p.phone), p.street.upper(),
                               p.city.upper(), p.state, p.zip, pcp.npi, iso_date(enc),
                               rng.choice(DX)[0]]))
        d.patient(p, "mrn", "name", "birth_date", "phone", "address", "zip")
        d.staffer(pcp, "npi")
    d.data = ("\n".join(lines) + "\n").encode()
    return [d]


def L_tsv_noheader(rng, pats, staff):
    d = Doc("tsv_noheader", "tsv_noheader/specimen_log_112726.tsv")
    lines = []
    for p in pats:
        for name, v, unit, ref, flag in lab_results(rng, 2):
            acc = "L26-%07d" % rng.randrange(10 ** 7)
            lines.append("\t".join([acc, p.mrn, "2026-11-27 %02d:%02d" % (rng.randrange(4, 9),
                                                                        rng.randrange(60)),
                                    name, v, unit, flag, "T%04d" % rng.randrange(10000)]))
            d.other("accession", acc, "look-alike")
        d.patient(p, "mrn")
    d.data = ("\n".join(lines) + "\n").encode()
    return [d]


def L_semicolon_csv(rng, pats, staff):
    d = Doc("semicolon_csv", "semicolon_csv/international_referrals.csv")
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["Surname", "Given name", "Date of birth", "Sex", "Referral date", "Referring clinic",
                "Diagnosis (ICD-10)", "Weight kg", "Ward"])
    for p in pats:
        dx = rng.choice(DX)
        w.writerow([p.family, p.given, p.dob.strftime("%d.%m.%Y"), "m" if p.sex == "M" else "w",
                    datetime.date(2026, 11, rng.randrange(1, 27)).strftime("%d.%m.%Y"),
                    rng.choice(("Klinikum Nord", "Hôpital Saint-Louis", "Clínica Sur")),
                    "%s %s" % dx, ("%.1f" % rng.uniform(45, 110)).replace(".", ","),
                    rng.choice(("4W", "6E", "ICU"))])
        d.patient(p, "name", "birth_date")
    d.data = b"\xef\xbb\xbf" + buf.getvalue().encode()
    return [d]


def L_kv_demographics(rng, pats, staff):
    d = Doc("kv_demographics", "kv_demographics/registration_queue.txt")
    out = []
    for i, p in enumerate(pats):
        sep = "==== PATIENT REGISTRATION %d ====" % (i + 1) if i % 2 == 0 else ""
        blk = [sep] if sep else []
        blk += ["Name: %s %s" % (p.given, p.family),
                "SSN: %s" % p.ssn,
                "Phone: %s" % phone_paren(p.phone),
                "Address: %s, %s, %s %s" % (p.street, p.city, p.state, p.zip),
                "Insurance: %s  Member ID: %s" % (
                    {"BCX": "Blue Cross", "HPH": "Harvard Pilgrim", "TUF": "Tufts Health Plan",
                     "AET": "Aetna"}[p.plan[:3]], p.plan),
                "Reason for visit: %s" % rng.choice(DX)[1].lower(),
                "Registered by: front desk, ext %d  (main %s)" % (rng.randrange(4000, 4999),
                                                                 HOSP_PHONE)]
        out.append("\n".join(blk))
        d.patient(p, "name", "ssn", "phone", "address", "zip", "health_plan_id")
    d.other("phone", norm("phone", HOSP_PHONE), "hospital")
    d.data = ("\n\n".join(out) + "\n").encode()
    return [d]


def L_kv_handoff(rng, pats, staff):
    d = Doc("kv_handoff", "kv_handoff/6E_shift_handoff_1900.txt")
    out = ["6 EAST CARDIOLOGY - NURSING SHIFT HANDOFF 11/28/2026 19:00",
           "Charge RN: %s %s, ext %s" % (staff[8].given, staff[8].family, staff[8].phone[-4:])]
    for i, p in enumerate(pats):
        blk = ["====" if i % 3 else "=" * 40,
               "Name: %s, %s" % (p.family, p.given),
               "DOB: %d/%d/%d" % (p.dob.month, p.dob.day, p.dob.year),
               "MRN: %s" % p.mrn,
               "Room: 6E-%d%s" % (rng.randrange(601, 640), rng.choice("AB")),
               "Dx: %s" % rng.choice(DX)[1],
               "Allergies: %s" % rng.choice(("NKDA", "penicillin", "sulfa", "latex")),
               "Code status: %s" % rng.choice(("Full code", "DNR/DNI")),
               "Last BM: 11/%d   Weight: %d kg" % (rng.randrange(20, 28), rng.randrange(45, 120)),
               "Covering MD: %s, pager %s" % (rng.choice(staff[:8]).family,
                                               phone_dash(staff[6].pager))]
        out.append("\n".join(blk) + ("\n" if i % 2 else ""))
        d.patient(p, "name", "birth_date", "mrn")
    d.staffer(staff[6], "pager")
    d.data = ("\n".join(out) + "\n").encode()
    return [d]


def L_discharge(rng, pats, staff):
    docs = []
    for i, p in enumerate(pats):
        d = Doc("discharge_summary", "discharge_summary/DS_%s_%d.txt" % (p.mrn, 2026112 + i))
        att = rng.choice(staff[:8])
        pcp = rng.choice([s for s in staff[:8] if s is not att])
        clinic = rng.choice(CLINIC_ADDRS)
        adm = datetime.date(2026, 11, rng.randrange(10, 20))
        dis = adm + datetime.timedelta(days=rng.randrange(2, 7))
        dx = rng.choice(DX)
        he = "He" if p.sex == "M" else "She"
        title = "Mr." if p.sex == "M" else "Ms."
        fup = dis + datetime.timedelta(days=10)
        txt = """%s
%s, %s, %s %s  *  Tel %s  *  Fax (617) 726-2001

DISCHARGE SUMMARY

Patient: %s %s                MRN: %s
Date of birth: %s         Admission: %s    Discharge: %s
Attending: %s %s, %s (NPI %s)   Pager %s

HOSPITAL COURSE:
%s %s is a %d-year-old %s admitted on %s with %s (ICD-10 %s). %s was treated
per protocol and improved. Labs on the day of discharge were unremarkable; order number
%08d was cancelled. The pharmacy dispensed lot 4K%05d.

SOCIAL HISTORY: %s lives at %s, %s, %s %s and can be reached at %s.

FOLLOW-UP: %s %s, %s at Riverside Primary Care, %s, %s, %s %s,
telephone %s, on %s. Call %s with questions.

Electronically signed by %s %s, %s on %s.
""" % (HOSPITAL, HOSP_ADDR[0], HOSP_ADDR[1], HOSP_ADDR[2], HOSP_ADDR[3], HOSP_PHONE,
            p.given, p.family, p.mrn, us_date(p.dob), us_date(adm), us_date(dis),
            att.given, att.family, att.cred, att.npi, phone_dash(att.pager),
            title, p.family, age(p.dob), "man" if p.sex == "M" else "woman", us_date(adm),
            dx[1].lower(), dx[0], he, rng.randrange(10 ** 7, 10 ** 8), rng.randrange(10 ** 5),
            he, p.street, p.city, p.state, p.zip, phone_paren(p.phone),
            pcp.given, pcp.family, pcp.cred, clinic[0], clinic[1], clinic[2], clinic[3],
            phone_dot(pcp.phone), us_date(fup), phone_paren(att.phone),
            att.given, att.family, att.cred, us_date(dis))
        d.data = txt.encode()
        d.patient(p, "name", "mrn", "birth_date", "address", "zip", "phone")
        d.staffer(att, "name", "npi", "pager", "phone")
        d.staffer(pcp, "name", "phone")
        d.place(clinic, "clinic")
        d.place(HOSP_ADDR, "hospital")
        d.other("phone", norm("phone", HOSP_PHONE), "hospital")
        d.other("date", hl7_date(adm), "admission")
        docs.append(d)
    return docs


def L_appointments(rng, pats, staff):
    d = Doc("appointments", "appointments/appt_list_2026-12-01.txt")
    lines = []
    provs = staff[:3]
    per = (len(pats) + len(provs) - 1) // len(provs)
    for k, prov in enumerate(provs):
        lines += ["RIVERSIDE PRIMARY CARE - APPOINTMENT LIST     Tuesday 12/01/2026",
                  "Provider: %s, %s %s   NPI %s   Clinic line %s" % (
                      prov.family, prov.given, prov.cred, prov.npi, phone_dash(prov.phone)),
                  "",
                  "TIME   PATIENT                        MRN        TYPE         REASON"
                  "                     PHONE",
                  "-----  -----------------------------  ---------  -----------  "
                  "-------------------------  ------------"]
        d.staffer(prov, "npi", "phone", "name")
        t = datetime.datetime(2026, 12, 1, 8, 0)
        for p in pats[k * per:(k + 1) * per]:
            lines.append("%s  %s  %s  %s  %s  %s" % (
                t.strftime("%H:%M"), pad("%s, %s" % (p.family, p.given), 29), pad(p.mrn, 9),
                pad(rng.choice(("FOLLOW UP", "NEW PATIENT", "ANNUAL", "TELEHEALTH")), 11),
                pad(rng.choice(DX)[1].lower(), 25), phone_dash(p.phone)))
            t += datetime.timedelta(minutes=20)
            d.patient(p, "name", "mrn", "phone")
        lines.append("")
    d.data = ("\n".join(lines) + "\n").encode()
    return [d]


def L_jsonl(rng, pats, staff):
    d = Doc("jsonl", "jsonl/encounters_20261128.jsonl")
    out = []
    for p in pats:
        prov = rng.choice(staff[:8])
        rec = {"mrn": p.mrn,
               "name": {"family": p.family, "given": p.given},
               "birth_date": iso_date(p.dob),
               "ssn": p.ssn or None,
               "phone": "+1-" + phone_dash(p.phone),
               "email": p.email or None,
               "encounter": {"id": "ENC%09d" % rng.randrange(10 ** 9),
                             "date": iso_date(datetime.date(2026, 11, rng.randrange(1, 28))),
                             "dx": [rng.choice(DX)[0]], "provider_npi": prov.npi}}
        out.append(json.dumps(rec, ensure_ascii=False))
        d.patient(p, "mrn", "name", "birth_date", "ssn", "phone", "email")
        d.staffer(prov, "npi")
    d.data = ("\n".join(out) + "\n").encode()
    return [d]


def html_esc(s):
    import html
    out = []
    for ch in html.escape(s, quote=True):
        if ord(ch) > 127:
            ent = {"ü": "&uuml;", "é": "&eacute;", "ñ": "&ntilde;", "á": "&aacute;",
                   "ó": "&oacute;", "è": "&egrave;", "ç": "&ccedil;", "ö": "&ouml;",
                   "ë": "&euml;", "Ñ": "&Ntilde;", "ú": "&uacute;"}.get(ch)
            out.append(ent or "&#%d;" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def L_html_report(rng, pats, staff):
    d = Doc("html_report", "html_report/surgpath_daily_log.html")
    path = staff[2]
    rows = []
    for p in pats:
        acc = "S26-%05d" % rng.randrange(10 ** 5)
        rows.append("<tr><td>%s</td><td>%s, %s</td><td>%s</td><td>%s</td><td>%s</td>"
                    "<td>%s</td></tr>" % (acc, html_esc(p.family), html_esc(p.given), p.mrn,
                                          us_date(p.dob), rng.choice(
                                              ("Skin, left forearm, shave biopsy",
                                               "Colon, sigmoid, polypectomy",
                                               "Breast, right, core biopsy",
                                               "Prostate, needle biopsies")),
                                          rng.choice(("Pending", "Signed out", "In review"))))
        d.patient(p, "name", "mrn", "birth_date")
        d.other("accession", acc, "look-alike")
    d.staffer(path, "name", "npi", "phone")
    html = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Surgical Pathology Daily Log</title></head>
<body>
<h1>%s &mdash; Surgical Pathology Daily Log</h1>
<p>Printed 11/28/2026 07:02 by PATHLAB. Pathologist of the day: %s %s, MD (NPI %s), %s</p>
<table border="1">
<tr><th>Accession</th><th>Patient</th><th>MRN</th><th>DOB</th><th>Specimen</th><th>Status</th></tr>
%s
</table>
</body></html>
""" % (HOSPITAL, path.given, path.family, path.npi, phone_paren(path.phone), "\n".join(rows))
    d.data = html.encode()
    return [d]


def L_hl7_batch(rng, pats, staff):
    d = Doc("hl7_batch", "hl7_batch/ADT_ORU_batch_20261128.hl7")
    segs_all = []
    ts = datetime.datetime(2026, 11, 28, 1, 0, 0)
    ctl = 1000
    segs_all.append("FHS|^~\\&|EPIC|RGH|INTERFACE|RGH|20261128020000||ADTORU_20261128.hl7")
    segs_all.append("BHS|^~\\&|EPIC|RGH|INTERFACE|RGH|20261128020000")
    n = 0
    for i, p in enumerate(pats):
        kinds = ["ADT^A01^ADT_A01"] + (["ORU^R01^ORU_R01"] if i % 3 != 2 else [])
        for kind in kinds:
            ctl += 1
            ts += datetime.timedelta(minutes=rng.randrange(1, 9))
            att = rng.choice(staff[:8])
            pid3 = "%s^^^RGH^MR" % p.mrn
            if p.ssn and i % 4 == 0:
                pid3 += "~%s^^^USSSA^SS" % p.ssn.replace("-", "")
            segs = ["MSH|^~\\&|EPIC|RGH|LAB|RGH|%s||%s|%d|P|2.5.1" % (
                ts.strftime("%Y%m%d%H%M%S"), kind, ctl),
                "EVN|%s|%s" % (kind[4:7], ts.strftime("%Y%m%d%H%M%S")),
                "PID|1||%s||%s^%s^%s||%s|%s|||%s^^%s^%s^%s^USA||(%s)%s-%s||||||%s" % (
                    pid3, p.family.upper(), p.given.upper(), p.middle, hl7_date(p.dob), p.sex,
                    p.street, p.city, p.state, p.zip, p.phone[:3], p.phone[3:6], p.phone[6:],
                    p.ssn.replace("-", "") if (p.ssn and i % 4 == 1) else "")]
            if kind.startswith("ADT"):
                kin_given = rng.choice(GIVEN_F + GIVEN_M)
                kin_phone = make_phone(rng, "617")
                segs.append("NK1|1|%s^%s|SPO^Spouse|%s^^%s^%s^%s|(%s)%s-%s" % (
                    p.family.upper(), kin_given.upper(), p.street, p.city, p.state, p.zip,
                    kin_phone[:3], kin_phone[3:6], kin_phone[6:]))
                d.other("phone", kin_phone, "next of kin")
                d.other("name", norm("name", (p.family, kin_given)), "next of kin")
                segs.append("PV1|1|I|4W^412^A^RGH||||%s^%s^%s^^^^%s^^^^NPI|||MED||||1|||%s^%s^%s"
                            "^^^^%s^^^^NPI|IN||%010d|||||||||||||||||||||||||%s" % (
                                att.npi, att.family.upper(), att.given.upper(), att.cred,
                                att.npi, att.family.upper(), att.given.upper(), att.cred,
                                rng.randrange(10 ** 9, 10 ** 10), ts.strftime("%Y%m%d%H%M")))
                segs.append("DG1|1||%s^%s^I10" % rng.choice(DX))
            else:
                segs.append("ORC|RE|%08d|L26-%07d||CM" % (rng.randrange(10 ** 7, 10 ** 8),
                                                          rng.randrange(10 ** 7)))
                segs.append("OBR|1|%08d|L26-%07d|BMP^BASIC METABOLIC PANEL^L|||%s|||||||||%s^%s^%s"
                            "^^^^%s^^^^NPI" % (rng.randrange(10 ** 7, 10 ** 8),
                                               rng.randrange(10 ** 7),
                                               ts.strftime("%Y%m%d%H%M"), att.npi,
                                               att.family.upper(), att.given.upper(), att.cred))
                for k, (name, v, unit, ref, flag) in enumerate(lab_results(rng)):
                    segs.append("OBX|%d|NM|%s^%s^L||%s|%s|%s|%s|||F" % (
                        k + 1, name[:4], name, v, unit, ref, flag))
            d.staffer(att, "npi", "name")
            segs_all += segs
            n += 1
        types = ["mrn", "name", "birth_date", "address", "zip", "phone"]
        if p.ssn and i % 4 in (0, 1):
            types.append("ssn")
        d.patient(p, *types)
    segs_all.append("BTS|%d" % n)
    segs_all.append("FTS|1")
    d.data = ("\r".join(segs_all) + "\r").encode()
    return [d]


def L_dicom(rng, pats, staff):
    try:
        import pydicom
        from pydicom.dataset import FileDataset, FileMetaDataset
        from pydicom.uid import ExplicitVRLittleEndian
    except ImportError:
        SKIPPED.append(("layout dicom", "python3-pydicom is not installed"))
        return []
    docs = []
    root = "1.2.826.0.1.3680043.8.498."  # pydicom's UID root
    ref = staff[1]
    entries = [(i, p, k) for i, p in enumerate(pats) for k in range(rng.choice((2, 3)))] + \
        [(999, None, 0)]
    for n, (i, p, k) in enumerate(entries):
        study = "%s%d%06d" % (root, 1, i)  # one study per patient, its series are its files
        sop = "%s%d%06d%02d" % (root, 2, n, k)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = root + "1"
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = sop
        ds.Modality = "CT"
        ds.StudyDate = "20261128"
        ds.StudyTime = "0730%02d" % n
        ds.InstitutionName = HOSPITAL
        ds.InstitutionAddress = "%s, %s, %s %s" % HOSP_ADDR
        ds.ReferringPhysicianName = "%s^%s" % (ref.family.upper(), ref.given.upper())
        ds.StationName = "CT2_RGH"
        ds.Manufacturer = "GE MEDICAL SYSTEMS"
        ds.DeviceSerialNumber = "CT%07d" % 4411
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = study + ".%d" % (k + 1)
        ds.SeriesNumber = k + 1
        ds.InstanceNumber = 1
        if p is None:  # the daily QA phantom scan: not a patient
            ds.PatientName = "QA^PHANTOM^DAILY"
            ds.PatientID = "QA_PHANTOM_CT2"
            ds.PatientBirthDate = ""
            ds.PatientSex = "O"
            ds.AccessionNumber = ""
            ds.StudyDescription = "DAILY QA CT2"
            fname = "dicom/QA_PHANTOM/CT_QA_20261128.dcm"
        else:
            ds.PatientName = "%s^%s" % (p.family, p.given) + (("^" + p.middle) if p.middle
                                                                else "")
            ds.PatientID = p.mrn
            ds.IssuerOfPatientID = "RGH"
            ds.PatientBirthDate = hl7_date(p.dob)
            ds.PatientSex = p.sex
            ds.AccessionNumber = "RA%08d" % (20000000 + i)
            ds.StudyDescription = "CT ABD/PEL W CONTRAST"
            ds.OtherPatientIDs = ""
            fname = "dicom/%s/CT_%d_%02d.dcm" % (p.mrn, k + 1, 1)
        ds.Rows = 8
        ds.Columns = 8
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.PixelData = bytes(rng.randrange(256) for _ in range(128))
        ds.is_little_endian = True
        ds.is_implicit_VR = False
        bio = io.BytesIO()
        pydicom.dcmwrite(bio, ds, write_like_original=False)
        d = Doc("dicom", fname)
        d.data = bio.getvalue()
        if p is not None:
            d.patient(p, "name", "mrn", "birth_date")
        else:
            d.other("name", "QA^PHANTOM", "QA phantom")
            d.other("mrn", "QA_PHANTOM_CT2", "QA phantom")
        d.staffer(ref, "name")
        d.place(HOSP_ADDR, "hospital")
        docs.append(d)
    return docs


def L_fhir_bundle(rng, pats, staff):
    d = Doc("fhir_bundle", "fhir_bundle/bundle_20261128.json")
    entries = []
    prac = staff[4]
    entries.append({"fullUrl": "urn:uuid:prac-%s" % prac.npi, "resource": {
        "resourceType": "Practitioner", "id": "prac-%s" % prac.npi,
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": prac.npi}],
        "name": [{"family": prac.family, "given": [prac.given], "prefix": ["Dr."]}],
        "telecom": [{"system": "phone", "value": phone_paren(prac.phone), "use": "work"}]}})
    d.staffer(prac, "npi", "name", "phone")
    for i, p in enumerate(pats):
        pid = "%08x-%04x-4%03x-a%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                                rng.getrandbits(12), rng.getrandbits(12),
                                                rng.getrandbits(48))
        ident = [{"use": "usual", "type": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
            "system": "urn:oid:2.16.840.1.113883.3.7412.1", "value": p.mrn}]
        types = ["mrn", "name", "birth_date", "address", "zip", "phone"]
        if p.ssn and i % 2 == 0:
            ident.append({"type": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "SS"}]},
                "system": "http://hl7.org/fhir/sid/us-ssn", "value": p.ssn})
            types.append("ssn")
        entries.append({"fullUrl": "urn:uuid:" + pid, "resource": {
            "resourceType": "Patient", "id": pid, "identifier": ident,
            "name": [{"use": "official", "family": p.family, "given": [p.given] + (
                [p.middle] if p.middle else [])}],
            "gender": "male" if p.sex == "M" else "female", "birthDate": iso_date(p.dob),
            "address": [{"line": [p.street], "city": p.city, "state": p.state,
                         "postalCode": p.zip}],
            "telecom": [{"system": "phone", "value": phone_dash(p.phone), "use": "home"}]}})
        dx = rng.choice(DX)
        entries.append({"fullUrl": "urn:uuid:cond-%d" % i, "resource": {
            "resourceType": "Condition", "id": "cond-%d" % i,
            "subject": {"reference": "Patient/" + pid},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": dx[0],
                                 "display": dx[1]}]},
            "recordedDate": "2026-11-%02d" % rng.randrange(1, 28),
            "recorder": {"reference": "Practitioner/prac-%s" % prac.npi}}})
        for k, (name, v, unit, ref, flag) in enumerate(lab_results(rng, 2)):
            entries.append({"fullUrl": "urn:uuid:obs-%d-%d" % (i, k), "resource": {
                "resourceType": "Observation", "id": "obs-%d-%d" % (i, k), "status": "final",
                "code": {"text": name}, "subject": {"reference": "Patient/" + pid},
                "effectiveDateTime": "2026-11-27T06:%02d:00Z" % rng.randrange(60),
                "valueQuantity": {"value": float(v), "unit": unit}}})
        d.patient(p, *types)
    bundle = {"resourceType": "Bundle", "id": "rgh-export-20261128", "type": "collection",
              "timestamp": "2026-11-28T02:00:00Z", "entry": entries}
    d.data = json.dumps(bundle, ensure_ascii=True, indent=1).encode()
    return [d]


def L_x12_837(rng, pats, staff):
    d = Doc("x12_837", "x12_837/837P_RGH_20261128.x12")
    bill = staff[0]
    segs = []
    isa = "ISA*00*%s*00*%s*ZZ*%s*ZZ*%s*261128*0200*^*00501*%09d*0*P*:" % (
        " " * 10, " " * 10, pad("RGHBILLING", 15), pad("CLEARINGHSE", 15), 4711)
    segs.append(isa)
    segs.append("GS*HC*RGHBILLING*CLEARINGHSE*20261128*0200*4711*X*005010X222A1")
    segs.append("ST*837*0001*005010X222A1")
    segs.append("BHT*0019*00*RGH4711*20261128*0200*CH")
    segs.append("NM1*41*2*RIVERSIDE GENERAL HOSPITAL*****46*RGH001")
    segs.append("PER*IC*BILLING OFFICE*TE*%s" % HOSP_PHONE.replace("(", "").replace(")", "")
                .replace(" ", "").replace("-", ""))
    segs.append("NM1*40*2*CLEARINGHOUSE INC*****46*CH0001")
    segs.append("HL*1**20*1")
    segs.append("NM1*85*2*RIVERSIDE GENERAL HOSPITAL*****XX*%s" % bill.npi)
    segs.append("N3*%s" % HOSP_ADDR[0].upper())
    segs.append("N4*%s*%s*%s" % (HOSP_ADDR[1].upper(), HOSP_ADDR[2], HOSP_ADDR[3]))
    segs.append("REF*EI*04%07d" % rng.randrange(10 ** 7))
    d.place(HOSP_ADDR, "hospital")
    d.other("phone", norm("phone", HOSP_PHONE), "hospital")
    d.staffer(bill, "npi")
    for i, p in enumerate(pats):
        prov = rng.choice(staff[:8])
        segs.append("HL*%d*1*22*0" % (i + 2))
        segs.append("SBR*P*18*******CI")
        # X12's character set has no accents: clearinghouses print names folded to ASCII
        fam, giv = ascii_fold(p.family).upper(), ascii_fold(p.given).upper()
        segs.append("NM1*IL*1*%s*%s*%s***MI*%s" % (fam, giv, p.middle, p.plan))
        d.plant(p, "name", (fam, giv))
        segs.append("N3*%s" % p.street.upper())
        segs.append("N4*%s*%s*%s" % (p.city.upper(), p.state, p.zip))
        segs.append("DMG*D8*%s*%s" % (hl7_date(p.dob), p.sex))
        types = ["health_plan_id", "address", "zip", "birth_date"]
        if p.ssn and i % 3 == 0:
            segs.append("REF*SY*%s" % p.ssn.replace("-", ""))
            types.append("ssn")
        segs.append("NM1*PR*2*%s*****PI*%05d" % ({"BCX": "BLUE CROSS", "HPH": "HARVARD PILGRIM",
                                                   "TUF": "TUFTS HEALTH PLAN",
                                                   "AET": "AETNA"}[p.plan[:3]],
                                                  rng.randrange(10 ** 5)))
        dx = rng.choice(DX)[0].replace(".", "")
        segs.append("CLM*RGH%08d*%.2f***11:B:1*Y*A*Y*Y" % (rng.randrange(10 ** 8),
                                                          rng.uniform(80, 900)))
        segs.append("HI*ABK:%s" % dx)
        segs.append("NM1*82*1*%s*%s****XX*%s" % (prov.family.upper(), prov.given.upper(),
                                                 prov.npi))
        segs.append("LX*1")
        segs.append("SV1*HC:%s*%.2f*UN*1***1" % (rng.choice(("99213", "99214", "93000")),
                                                  rng.uniform(80, 900)))
        segs.append("DTP*472*D8*202611%02d" % rng.randrange(1, 28))
        d.patient(p, *types)
        d.staffer(prov, "npi", "name")
    segs.append("SE*%d*0001" % (len(segs) - 1))
    segs.append("GE*1*4711")
    segs.append("IEA*1*%09d" % 4711)
    d.data = ("~\n".join(segs) + "~\n").encode()
    return [d]


def L_cda(rng, pats, staff):
    docs = []
    from xml.sax.saxutils import escape
    for i, p in enumerate(pats):
        d = Doc("cda_ccd", "cda_ccd/CCD_%s.xml" % p.mrn)
        auth = rng.choice(staff[:8])
        ssn_id = ('\n        <id root="2.16.840.1.113883.4.1" extension="%s"/>' % p.ssn
                  if p.ssn else "")
        xml = """<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <realmCode code="US"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.10.20.22.1.2" extension="2015-08-01"/>
  <id root="2.16.840.1.113883.3.7412.2" extension="CCD%08d"/>
  <code code="34133-9" codeSystem="2.16.840.1.113883.6.1" displayName="Summarization of Episode Note"/>
  <title>Continuity of Care Document</title>
  <effectiveTime value="20261128020000-0500"/>
  <recordTarget>
    <patientRole>
        <id root="2.16.840.1.113883.3.7412.1" extension="%s"/>%s
      <addr use="HP"><streetAddressLine>%s</streetAddressLine><city>%s</city><state>%s</state><postalCode>%s</postalCode><country>US</country></addr>
      <telecom use="HP" value="tel:+1-%s"/>
      <patient>
        <name use="L"><given>%s</given><family>%s</family></name>
        <administrativeGenderCode code="%s" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="%s"/>
      </patient>
    </patientRole>
  </recordTarget>
  <author>
    <time value="20261128020000-0500"/>
    <assignedAuthor>
      <id root="2.16.840.1.113883.4.6" extension="%s"/>
      <addr><streetAddressLine>%s</streetAddressLine><city>%s</city><state>%s</state><postalCode>%s</postalCode></addr>
      <telecom use="WP" value="tel:+1-%s"/>
      <assignedPerson><name><given>%s</given><family>%s</family></name></assignedPerson>
    </assignedAuthor>
  </author>
  <custodian><assignedCustodian><representedCustodianOrganization>
    <id root="2.16.840.1.113883.4.6" extension="%s"/>
    <name>%s</name>
    <telecom value="tel:+1-617-726-2000"/>
    <addr><streetAddressLine>%s</streetAddressLine><city>%s</city><state>%s</state><postalCode>%s</postalCode></addr>
  </representedCustodianOrganization></assignedCustodian></custodian>
  <component><structuredBody><component><section>
    <code code="11450-4" codeSystem="2.16.840.1.113883.6.1" displayName="Problem list"/>
    <title>Problems</title>
    <text><list><item>%s (%s), noted %s</item></list></text>
  </section></component></structuredBody></component>
</ClinicalDocument>
""" % (rng.randrange(10 ** 8), p.mrn, ssn_id, escape(p.street), escape(p.city), p.state, p.zip,
            phone_dash(p.phone), escape(p.given), escape(p.family), p.sex, hl7_date(p.dob),
            auth.npi, CLINIC_ADDRS[0][0], CLINIC_ADDRS[0][1], CLINIC_ADDRS[0][2],
            CLINIC_ADDRS[0][3], phone_dash(auth.phone), auth.given, auth.family, staff[0].npi,
            HOSPITAL, HOSP_ADDR[0], HOSP_ADDR[1], HOSP_ADDR[2], HOSP_ADDR[3],
            *(lambda dx: (escape(dx[1]), dx[0]))(rng.choice(DX)), "11/%02d/2026" % rng.randrange(1, 28))
        d.data = xml.encode()
        d.patient(p, "mrn", "ssn", "address", "zip", "phone", "name", "birth_date")
        d.staffer(auth, "npi", "phone", "name")
        d.staffer(staff[0], "npi")
        d.place(CLINIC_ADDRS[0], "clinic")
        d.place(HOSP_ADDR, "hospital")
        d.other("phone", norm("phone", HOSP_PHONE), "hospital")
        docs.append(d)
    return docs


def rezip_fixed(data):
    """Office files are zips whose members carry the time of writing; rewrite them with a
    fixed time so the generator is deterministic."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 11, 28, 2, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, src.read(info.filename))
    return out.getvalue()


def L_xlsx(rng, pats, staff):
    try:
        import openpyxl
    except ImportError:
        SKIPPED.append(("layout xlsx", "python3-openpyxl is not installed"))
        return []
    d = Doc("xlsx", "xlsx/infusion_schedule_wk48.xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Schedule"
    ws["A1"] = "%s - Infusion Center" % HOSPITAL
    ws["A2"] = "Week 48 schedule. Charge nurse %s %s, RN  ext. %s" % (
        staff[8].given, staff[8].family, phone_dash(staff[8].phone))
    d.staffer(staff[8], "phone")
    ws.append([])
    ws.append(["Chair", "Time", "MRN", "Patient Name", "DOB", "Phone", "Drug", "Lot #",
               "Ordering MD"])
    for p in pats:
        prov = staff[4]
        ws.append([rng.randrange(1, 16), "%02d:%02d" % (rng.randrange(7, 17), rng.choice((0, 30))),
                   p.mrn, "%s, %s" % (p.family, p.given),
                   datetime.datetime(p.dob.year, p.dob.month, p.dob.day),
                   phone_paren(p.phone),
                   rng.choice(("Pembrolizumab 200 mg", "Infliximab 5 mg/kg", "Iron sucrose 200 mg",
                               "Zoledronic acid 4 mg")),
                   "%d%s%d" % (rng.randrange(10, 99), rng.choice("ABKX"), rng.randrange(1000, 9999)),
                   "%s, %s" % (prov.family, prov.given)])
        ws.cell(row=ws.max_row, column=5).number_format = "mm/dd/yyyy"
        d.patient(p, "mrn", "name", "birth_date", "phone")
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = "infusion.scheduler"
    bio = io.BytesIO()
    wb.save(bio)
    d.data = rezip_fixed(bio.getvalue())
    return [d]


def L_docx(rng, pats, staff):
    try:
        import docx
    except ImportError:
        SKIPPED.append(("layout docx", "python3-docx is not installed"))
        return []
    d = Doc("docx", "docx/wound_care_roster.docx")
    doc = docx.Document()
    np_ = staff[5]
    doc.add_heading("Wound Care Clinic - Weekly Roster", 1)
    doc.add_paragraph("%s, %s, %s %s. Clinic phone %s. Nurse practitioner: %s %s, %s (NPI %s)."
                      % (CLINIC_ADDRS[2][0], CLINIC_ADDRS[2][1], CLINIC_ADDRS[2][2],
                         CLINIC_ADDRS[2][3], phone_paren(np_.phone), np_.given, np_.family,
                         np_.cred, np_.npi))
    d.staffer(np_, "phone", "npi", "name")
    d.place(CLINIC_ADDRS[2], "clinic")
    t = doc.add_table(rows=1, cols=5)
    for c, h in enumerate(("Patient", "MRN", "DOB", "Wound / diagnosis", "Next visit")):
        t.rows[0].cells[c].text = h
    for p in pats:
        r = t.add_row().cells
        dx = rng.choice(DX[6:8] + DX[:2])
        r[0].text = "%s %s" % (p.given, p.family)
        r[1].text = p.mrn
        r[2].text = us_date(p.dob)
        r[3].text = "%s (%s)" % (dx[1], dx[0])
        r[4].text = us_date(datetime.date(2026, 12, rng.randrange(1, 20)))
        d.patient(p, "name", "mrn", "birth_date")
    doc.core_properties.created = FIXED_TIME
    doc.core_properties.modified = FIXED_TIME
    doc.core_properties.author = "woundcare"
    bio = io.BytesIO()
    doc.save(bio)
    d.data = rezip_fixed(bio.getvalue())
    return [d]


def L_pdf(rng, pats, staff):
    try:
        from reportlab.lib.pagesizes import letter
        from reportlab.pdfgen import canvas
    except ImportError:
        SKIPPED.append(("layout pdf", "python3-reportlab is not installed"))
        return []
    from reportlab import rl_config
    rl_config.useA85 = 0  # FlateDecode streams alone, as report writers emit them
    d = Doc("pdf", "pdf/immunization_report_nov2026.pdf")
    bio = io.BytesIO()
    c = canvas.Canvas(bio, pagesize=letter, invariant=1, pageCompression=1)
    c.setTitle("Immunization Administration Report")
    nurse = staff[8]
    y = 740

    def head():
        c.setFont("Helvetica-Bold", 12)
        c.drawString(40, 760, "%s - Immunization Administration Report, November 2026" % HOSPITAL)
        c.setFont("Helvetica", 8)
        c.drawString(40, 748, "Employee Health & Clinics, %s, %s, %s %s  Tel %s" % (
            HOSP_ADDR + (HOSP_PHONE,)))
        c.drawString(40, 728, "Patient name")
        c.drawString(200, 728, "Date of birth")
        c.drawString(280, 728, "Vaccine")
        c.drawString(420, 728, "Lot")
        c.drawString(480, 728, "Given")
    head()
    y = 712
    for p in pats:
        if y < 60:
            c.showPage()
            head()
            y = 712
        c.setFont("Helvetica", 8)
        lot = "%s%d%s" % (rng.choice(("EL", "FK", "GH")), rng.randrange(1000, 9999),
                          rng.choice("ABC"))
        c.drawString(40, y, "%s, %s" % (p.family, p.given))
        c.drawString(200, y, us_date(p.dob))
        c.drawString(280, y, rng.choice(("Influenza quadrivalent", "COVID-19 2026-27",
                                         "Tdap", "Pneumococcal PCV20")))
        c.drawString(420, y, lot)
        c.drawString(480, y, us_date(datetime.date(2026, 11, rng.randrange(1, 28))))
        y -= 14
        d.patient(p, "name", "birth_date")
        d.other("lot", lot, "look-alike")
    c.drawString(40, y - 20, "Administered by %s %s, %s. Questions: %s" % (
        nurse.given, nurse.family, nurse.cred, phone_paren(nurse.phone)))
    d.staffer(nurse, "phone")
    d.place(HOSP_ADDR, "hospital")
    d.other("phone", norm("phone", HOSP_PHONE), "hospital")
    c.save()
    d.data = bio.getvalue()
    return [d]


def L_staff_directory(rng, pats, staff):
    d = Doc("staff_directory", "staff_directory/provider_directory.csv")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Provider", "Credentials", "NPI", "DEA", "Department", "Office phone", "Pager",
                "Office address"])
    for s in staff:
        clinic = rng.choice(CLINIC_ADDRS)
        w.writerow(["%s, %s" % (s.family, s.given), s.cred, s.npi, s.dea, s.dept,
                    phone_paren(s.phone), phone_dash(s.pager), "%s, %s, %s %s" % clinic])
        d.staffer(s, "name", "npi", "dea", "phone", "pager")
        d.place(clinic, "clinic")
    d.data = buf.getvalue().encode()
    return [d]


# name, function, patients (count), the system it imitates
LAYOUTS = [
    ("lis_lab", L_lis_lab, 24, "LIS cumulative results printout (Sunquest/Cerner PathNet style)"),
    ("rad_worklist", L_rad_worklist, 20, "RIS modality worklist printout, fixed-width columns"),
    ("adt_census", L_adt_census, 30, "ADT midnight census report, fixed-width, unit headers"),
    ("billing_csv", L_billing_csv, 30, "billing/claims CSV export (practice management)"),
    ("ehr_pipe", L_ehr_pipe, 40, "EHR reporting-database pipe-delimited dump (Clarity-like)"),
    ("tsv_noheader", L_tsv_noheader, 20, "LIS specimen log, tab-separated, no header"),
    ("semicolon_csv", L_semicolon_csv, 15, "semicolon CSV from European-locale Excel"),
    ("kv_demographics", L_kv_demographics, 15, "registration key:value demographics blocks"),
    ("kv_handoff", L_kv_handoff, 18, "nursing shift handoff, Name/DOB/MRN key:value blocks"),
    ("discharge_summary", L_discharge, 4, "discharge summary prose, one patient per document"),
    ("appointments", L_appointments, 24, "ambulatory appointment list per provider"),
    ("jsonl", L_jsonl, 25, "JSON Lines encounter export from an integration engine"),
    ("html_report", L_html_report, 20, "HTML table report (pathology daily log)"),
    ("hl7_batch", L_hl7_batch, 20, "HL7 v2.5.1 ADT^A01/ORU^R01 batch file with FHS/BHS"),
    ("x12_837", L_x12_837, 20, "ASC X12 837P professional claim batch (clearinghouse)"),
    ("cda_ccd", L_cda, 3, "HL7 C-CDA Continuity of Care Documents, one patient each"),
    ("dicom", L_dicom, 6, "DICOM CT studies, 2-3 files per patient, plus a QA phantom"),
    ("fhir_bundle", L_fhir_bundle, 15, "FHIR R4 collection Bundle: Patient, Condition, Observation"),
    ("xlsx", L_xlsx, 15, "infusion-center schedule spreadsheet (Excel .xlsx)"),
    ("docx", L_docx, 15, "clinic roster table in a Word document (.docx)"),
    ("pdf", L_pdf, 15, "immunization administration report (PDF)"),
    ("staff_directory", L_staff_directory, 0, "provider directory CSV (staff only: no patients)"),
]


# ---- truth: individuals of the union ------------------------------------------------------------

class UF:
    def __init__(self):
        self.p = {}

    def find(self, x):
        self.p.setdefault(x, x)
        while self.p[x] != x:
            self.p[x] = self.p[self.p[x]]
            x = self.p[x]
        return x

    def union(self, a, b):
        a, b = self.find(a), self.find(b)
        if a != b:
            self.p[max(a, b)] = min(a, b)


def components(records, mode):
    """records: list of (key, pid, set of (type, value)). mode: 'estimate' joins SSN, MRN,
    health plan id and name together with birth date; 'upper' joins SSN, MRN and plan ids
    only; 'lower' adds names alone. Returns {component root: set of pids}."""
    uf = UF()
    first = {}
    for key, pid, ids in records:
        uf.find(key)
        names = [ascii_fold(v).upper() for t, v in ids if t == "name"]  # a careful reader
        # joins GONCALVES^JOAO and GONÇALVES^JOÃO
        dobs = [v for t, v in ids if t == "birth_date"]
        keys = [(t, v) for t, v in ids if t in ("ssn", "mrn", "health_plan_id")]
        if mode in ("estimate", "lower"):
            keys += [("name+dob", n + "|" + b) for n in names for b in dobs]
        if mode == "lower":
            keys += [("name", n) for n in names]
        for k in keys:
            if k in first:
                uf.union(first[k], key)
            else:
                first[k] = key
    comps = {}
    for key, pid, ids in records:
        comps.setdefault(uf.find(key), set()).add(pid)
    return comps


def union_truth(docs):
    records = [(doc.name + "#" + pid, pid, ids) for doc in docs for pid, ids in doc.pats.items()]
    true = {pid for _, pid, _ in records}
    est = components(records, "estimate")
    up = components(records, "upper")
    lo = components(records, "lower")
    frag = {}
    for c in est.values():
        for pid in c:
            frag[pid] = frag.get(pid, 0) + 1
    split = sorted(pid for pid, n in frag.items() if n > 1)
    lo_frag = {}
    for c in lo.values():
        for pid in c:
            lo_frag[pid] = lo_frag.get(pid, 0) + 1
    doubtful = sorted(pid for pid in split if lo_frag[pid] == 1)
    unlinkable = sorted(pid for pid in split if lo_frag[pid] > 1)
    merged_in_lower = sorted({pid for c in lo.values() if len(c) > 1 for pid in c})
    return {
        "true_individuals": len(true),
        "linkable_individuals": len(est),
        "linkable_lower": len(lo),
        "linkable_upper": len(up),
        "split_patients": split,
        "doubtful_patients": doubtful,
        "unlinkable_patients": unlinkable,
        "namesakes_merged_by_name_alone": merged_in_lower,
    }


# ---- containers ---------------------------------------------------------------------------------

def write_docs(root, docs):
    for d in docs:
        p = os.path.join(root, d.name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as fh:
            fh.write(d.data)
        os.utime(p, (FIXED_EPOCH, FIXED_EPOCH))
    for dirpath, _, _ in os.walk(root):
        os.utime(dirpath, (FIXED_EPOCH, FIXED_EPOCH))


def c_zip(path, docs):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for d in docs:
            zi = zipfile.ZipInfo("export/" + d.name, date_time=(2026, 11, 28, 2, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, d.data)


def c_targz(path, docs):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for d in docs:
            ti = tarfile.TarInfo("export/" + d.name)
            ti.size = len(d.data)
            ti.mtime = FIXED_EPOCH
            ti.mode = 0o644
            ti.uname = ti.gname = "backup"
            t.addfile(ti, io.BytesIO(d.data))
    with open(path, "wb") as fh:
        fh.write(gzip.compress(raw.getvalue(), mtime=0))


def c_7z(path, docs_root):
    exe = shutil.which("7z") or shutil.which("7za")
    if not exe:
        SKIPPED.append(("container 7z", "the 7z command (p7zip-full) is not installed"))
        return False
    subprocess.run([exe, "a", "-t7z", "-mx=5", "-mtm=off", "-mtc=off", "-mta=off", "-bd", "-y", "-bso0",
                    os.path.abspath(path), "."], cwd=docs_root, check=True,
                   stdout=subprocess.DEVNULL)
    return True


def c_gzip(root, docs):
    for d in docs:
        p = os.path.join(root, d.name + ".gz")
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as fh:
            fh.write(gzip.compress(d.data, mtime=0))


# ---- packet captures (Ethernet / IPv4 / TCP written by hand) --------------------------------

def ip_csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip4(a):
    return bytes(int(x) for x in a.split("."))


class Capture:
    def __init__(self):
        self.frames = []
        self.t = FIXED_EPOCH * 1000000
        self.ipid = 1

    def tick(self, us=300):
        self.t += us

    def tcp(self, src, dst, sport, dport, seq, ack, flags, data=b""):
        mac_in, mac_gw = b"\x02\x00\x0a\x00\x05\x14", b"\x02\x00\x0a\x00\x00\x01"
        smac, dmac = (mac_in, mac_gw) if src.startswith("10.") else (mac_gw, mac_in)
        th = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, 5 << 4,
                         flags, 64240, 0, 0)
        pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(th) + len(data))
        th = th[:16] + struct.pack("!H", ip_csum(pseudo + th + data)) + th[18:]
        total = 20 + len(th) + len(data)
        ih = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, self.ipid & 0xffff, 0x4000, 64, 6, 0,
                         ip4(src), ip4(dst))
        ih = ih[:10] + struct.pack("!H", ip_csum(ih)) + ih[12:]
        self.ipid += 1
        self.frames.append((self.t, dmac + smac + b"\x08\x00" + ih + th + data))
        self.tick()

    def write(self, path):
        with open(path, "wb") as fh:
            fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            for t, f in self.frames:
                fh.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(f), len(f)) + f)


class Conn:
    """One TCP connection: three-way handshake, data in segments of at most 1460 bytes, each
    acknowledged by the peer, FIN both ways."""
    FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16

    def __init__(self, cap, cip, cport, sip, sport, rng):
        self.cap, self.c, self.s = cap, (cip, cport), (sip, sport)
        self.seq = {0: rng.getrandbits(32), 1: rng.getrandbits(32)}
        cap.tcp(cip, sip, cport, sport, self.seq[0], 0, self.SYN)
        self.seq[0] += 1
        cap.tcp(sip, cip, sport, cport, self.seq[1], self.seq[0], self.SYN | self.ACK)
        self.seq[1] += 1
        cap.tcp(cip, sip, cport, sport, self.seq[0], self.seq[1], self.ACK)

    def ends(self, side):
        return (self.c, self.s) if side == 0 else (self.s, self.c)

    def send(self, side, data):
        (a, ap), (b, bp) = self.ends(side)
        for i in range(0, len(data), 1460):
            seg = data[i:i + 1460]
            last = i + 1460 >= len(data)
            self.cap.tcp(a, b, ap, bp, self.seq[side], self.seq[1 - side],
                         self.ACK | (self.PSH if last else 0), seg)
            self.seq[side] += len(seg)
            if last or (i // 1460) % 2 == 1:
                self.cap.tcp(b, a, bp, ap, self.seq[1 - side], self.seq[side], self.ACK)

    def close(self):
        (a, ap), (b, bp) = self.ends(0)
        self.cap.tcp(a, b, ap, bp, self.seq[0], self.seq[1], self.FIN | self.ACK)
        self.seq[0] += 1
        self.cap.tcp(b, a, bp, ap, self.seq[1], self.seq[0], self.FIN | self.ACK)
        self.seq[1] += 1
        self.cap.tcp(a, b, ap, bp, self.seq[0], self.seq[1], self.ACK)


def by_layout(docs):
    out = {}
    for d in docs:
        out.setdefault(d.layout, []).append(d)
    return out


def pcap_http(path, docs, rng):
    cap = Capture()
    port = 49200
    for layout, ds in by_layout(docs).items():
        boundary = "----WebKitFormBoundary%016x" % rng.getrandbits(64)
        body = b""
        for d in ds:
            body += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n" % (
                         boundary, os.path.basename(d.name))).encode() + d.data + b"\r\n"
        body += ("--%s\r\nContent-Disposition: form-data; name=\"folder\"\r\n\r\n%s\r\n--%s--\r\n"
                 % (boundary, layout, boundary)).encode()
        req = ("POST /api/v2/upload HTTP/1.1\r\nHost: files.203-0-113-80.example\r\n"
               "User-Agent: python-requests/2.31.0\r\nAccept: */*\r\n"
               "Content-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n"
               % (boundary, len(body))).encode() + body
        port += 1
        c = Conn(cap, "10.0.5.20", port, "203.0.113.80", 80, rng)
        c.send(0, req)
        c.send(1, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
               b"\r\n{\"ok\":true}")
        c.close()
    cap.write(path)


def pcap_smtp(path, docs, rng):
    cap = Capture()
    port = 51000
    for n, (layout, ds) in enumerate(by_layout(docs).items()):
        port += 1
        c = Conn(cap, "10.0.5.20", port, "203.0.113.25", 25, rng)
        boundary = "=_rgh_%012x" % rng.getrandbits(48)
        msg = ("From: scanner@riverside-general.example\r\nTo: drop@203-0-113-25.example\r\n"
               "Subject: %s export\r\nDate: Sat, 28 Nov 2026 02:%02d:00 +0000\r\n"
               "Message-ID: <%d.%s@riverside-general.example>\r\nMIME-Version: 1.0\r\n"
               "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
               "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee attached.\r\n"
               % (layout, n, 1000 + n, layout, boundary, boundary))
        for d in ds:
            b64 = base64.encodebytes(d.data).decode().replace("\n", "\r\n")
            msg += ("--%s\r\nContent-Type: application/octet-stream; name=\"%s\"\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n%s" % (
                        boundary, os.path.basename(d.name), os.path.basename(d.name), b64))
        msg += "--%s--\r\n" % boundary
        lines = [("." + ln) if ln.startswith(".") else ln for ln in msg.split("\r\n")]
        msg = "\r\n".join(lines)
        c.send(1, b"220 mx.203-0-113-25.example ESMTP Postfix\r\n")
        c.send(0, b"EHLO ws-0412.riverside-general.example\r\n")
        c.send(1, b"250-mx.203-0-113-25.example\r\n250-SIZE 52428800\r\n250 8BITMIME\r\n")
        c.send(0, b"MAIL FROM:<scanner@riverside-general.example>\r\n")
        c.send(1, b"250 2.1.0 Ok\r\n")
        c.send(0, b"RCPT TO:<drop@203-0-113-25.example>\r\n")
        c.send(1, b"250 2.1.5 Ok\r\n")
        c.send(0, b"DATA\r\n")
        c.send(1, b"354 End data with <CR><LF>.<CR><LF>\r\n")
        c.send(0, msg.encode() + b".\r\n")
        c.send(1, b"250 2.0.0 Ok: queued as 4K7QX%d\r\n" % n)
        c.send(0, b"QUIT\r\n")
        c.send(1, b"221 2.0.0 Bye\r\n")
        c.close()
    cap.write(path)


def pcap_ftp(path, docs, rng):
    cap = Capture()
    srv = "203.0.113.21"
    ctl = Conn(cap, "10.0.5.20", 50999, srv, 21, rng)
    ctl.send(1, b"220 (vsFTPd 3.0.3)\r\n")
    ctl.send(0, b"USER drop\r\n")
    ctl.send(1, b"331 Please specify the password.\r\n")
    ctl.send(0, b"PASS hunter2\r\n")
    ctl.send(1, b"230 Login successful.\r\n")
    ctl.send(0, b"TYPE I\r\n")
    ctl.send(1, b"200 Switching to Binary mode.\r\n")
    dport = 40000
    cport = 52000
    for d in docs:
        dport += 1
        cport += 1
        ctl.send(0, b"PASV\r\n")
        ctl.send(1, ("227 Entering Passive Mode (203,0,113,21,%d,%d).\r\n" % (
            dport >> 8, dport & 255)).encode())
        name = d.name.replace("/", "_")
        ctl.send(0, ("STOR %s\r\n" % name).encode())
        data = Conn(cap, "10.0.5.20", cport, srv, dport, rng)
        ctl.send(1, b"150 Ok to send data.\r\n")
        data.send(0, d.data)
        data.close()
        ctl.send(1, b"226 Transfer complete.\r\n")
    ctl.send(0, b"QUIT\r\n")
    ctl.send(1, b"221 Goodbye.\r\n")
    ctl.close()
    cap.write(path)


def smb2_hdr(cmd, mid, resp=False, tree=0, session=0x11, status=0):
    return b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ16s", 64, 1, status, cmd, 1,
                                     1 if resp else 0, 0, mid, 0, tree, session, b"\0" * 16)


def nbss(msg):
    return struct.pack(">I", len(msg)) + msg


def ntlm_auth(user, domain, host):
    u, dm, h = (x.encode("utf-16le") for x in (user, domain, host))
    off = 64
    fields = []
    payload = b""
    for blob in (b"", b"\0" * 24, dm, u, h, b""):
        fields.append(struct.pack("<HHI", len(blob), len(blob), off + len(payload)))
        payload += blob
    # order on the wire: Lm, Nt, Domain, User, Workstation, SessionKey
    return b"NTLMSSP\0" + struct.pack("<I", 3) + b"".join(fields) + struct.pack("<I", 0x00088205) \
        + payload


def pcap_smb2(path, docs, rng):
    cap = Capture()
    c = Conn(cap, "10.0.5.20", 49800, "203.0.113.45", 445, rng)
    mid = 0
    guid = bytes(rng.getrandbits(8) for _ in range(16))
    neg = struct.pack("<HHHHI16sQ", 36, 2, 1, 0, 0x7f, guid, 0) + struct.pack("<HH", 0x0202,
                                                                               0x0210)
    c.send(0, nbss(smb2_hdr(0, mid, session=0) + neg))
    negr = struct.pack("<HHHH16sIIIIQQHHI", 65, 1, 0x0210, 0, guid[::-1], 0x7, 8388608, 8388608,
                       8388608, 133000000000000000, 0, 128, 0, 0) + b"\0"
    c.send(1, nbss(smb2_hdr(0, mid, True, session=0) + negr))
    mid += 1
    blob = ntlm_auth("svc_backup", "RGH", "WS-0412")
    ss = struct.pack("<HBBIIHHQ", 25, 0, 1, 1, 0, 88, len(blob), 0) + blob
    c.send(0, nbss(smb2_hdr(1, mid) + ss))
    c.send(1, nbss(smb2_hdr(1, mid, True) + struct.pack("<HHHH", 9, 0, 72, 0) + b"\0"))
    mid += 1
    share = "\\\\203.0.113.45\\drop".encode("utf-16le")
    c.send(0, nbss(smb2_hdr(3, mid) + struct.pack("<HHHH", 9, 0, 72, len(share)) + share))
    c.send(1, nbss(smb2_hdr(3, mid, True, tree=5) + struct.pack("<HBBIII", 16, 1, 0, 0, 0,
                                                                  0x1f01ff)))
    ft = 134000000000000000
    for n, d in enumerate(docs):
        mid += 1
        fid = struct.pack("<QQ", 0x1000 + n, 0xffff0000 + n)
        name = ("staging\\" + d.name.replace("/", "\\")).encode("utf-16le")
        body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, 0, 2, 0, 0, 0x12019f, 0x80, 7, 5, 0x40,
                           120, len(name), 0, 0) + name
        c.send(0, nbss(smb2_hdr(5, mid, tree=5) + body))
        body = struct.pack("<HBBIQQQQQQII16sII", 89, 0, 0, 2, ft, ft, ft, ft, 0, 0, 0x80, 0, fid,
                           0, 0)
        c.send(1, nbss(smb2_hdr(5, mid, True, tree=5) + body))
        for off in range(0, max(len(d.data), 1), 32768):
            chunk = d.data[off:off + 32768]
            mid += 1
            w = struct.pack("<HHIQ16sIIHHI", 49, 112, len(chunk), off, fid, 0, 0, 0, 0, 0) + chunk
            c.send(0, nbss(smb2_hdr(9, mid, tree=5) + w))
            c.send(1, nbss(smb2_hdr(9, mid, True, tree=5) + struct.pack("<HHIIHH", 17, 0,
                                                                          len(chunk), 0, 0, 0)))
        mid += 1
        c.send(0, nbss(smb2_hdr(6, mid, tree=5) + struct.pack("<HHI16s", 24, 1, 0, fid)))
        c.send(1, nbss(smb2_hdr(6, mid, True, tree=5) + struct.pack(
            "<HHIQQQQQQI", 60, 1, 0, ft, ft, ft, ft, len(d.data), len(d.data), 0x80)))
    mid += 1
    c.send(0, nbss(smb2_hdr(4, mid, tree=5) + struct.pack("<HH", 4, 0)))
    c.send(1, nbss(smb2_hdr(4, mid, True, tree=5) + struct.pack("<HH", 4, 0)))
    c.close()
    cap.write(path)


CONTAINERS = ["file", "zip", "targz", "7z", "gzip", "http", "smtp", "ftp", "smb2"]


# Patients whose identifiers are split across documents on purpose (LAYOUTS.md, "truth"):
# tsv_noheader prints the MRN only, semicolon_csv and pdf name + birth date, kv_demographics
# name + SSN without a birth date, adt_census name + MRN, jsonl and billing_csv nearly all.
SCENARIOS = {
    "P097": ("tsv_noheader", "semicolon_csv"),                    # disjoint: not linkable
    "P098": ("tsv_noheader", "pdf"),                              # disjoint: not linkable
    "P099": ("kv_demographics", "pdf"),                           # name alone: doubtful
    "P100": ("kv_demographics", "semicolon_csv"),                 # name alone: doubtful
    "P101": ("tsv_noheader", "kv_demographics", "semicolon_csv", "jsonl"),  # linked by jsonl
    "P102": ("tsv_noheader", "kv_demographics", "billing_csv", "ehr_pipe"),  # SSN, name+DOB, MRN
    "P103": ("adt_census", "semicolon_csv"),                      # name alone: doubtful
    "P104": ("dicom", "kv_demographics", "billing_csv"),          # name+DOB and SSN
}


# ---- main ---------------------------------------------------------------------------------------

def generate(out):
    rng = random.Random(SEED)
    pats, staff = population(rng)
    pool = pats[:]
    docs = []
    layouts = {}
    forced = {}
    for pid, lays in SCENARIOS.items():
        for lay in lays:
            forced.setdefault(lay, []).append(pid)
    scen = {p.pid: p for p in pats if p.pid in SCENARIOS}
    pool = [p for p in pats if p.pid not in SCENARIOS]
    for name, fn, n, system in LAYOUTS:
        lr = random.Random("%d/%s" % (SEED, name))
        cand = pool
        if name == "kv_demographics":
            cand = [p for p in pool if p.ssn]
        if name == "pdf":
            cand = [p for p in pool if p.latin1]
        must = [scen[pid] for pid in forced.get(name, [])]
        chosen = must + (lr.sample(cand, n - len(must)) if n else [])
        # the namesakes (P021-P024 and P105-P108) and the family (P041/P042) are in the
        # name-bearing layouts, so that joining on names alone has something to get wrong
        if name in ("billing_csv", "ehr_pipe"):
            for p in pats[20:24] + pats[104:108] + pats[40:44]:
                if p not in chosen:
                    while True:
                        k = lr.randrange(len(chosen))
                        if chosen[k].pid not in SCENARIOS and chosen[k] not in \
                                pats[20:24] + pats[104:108] + pats[40:44]:
                            break
                    chosen[k] = p
        chosen.sort(key=lambda p: p.pid)
        lr.shuffle(chosen)
        ds = fn(lr, chosen, staff)
        for d in ds:
            for pid in d.pats:
                assert pid in {p.pid for p in chosen}
        docs += ds
        if ds:
            layouts[name] = {"system": system, "files": [d.name for d in ds]}
    docs_root = os.path.join(out, "docs")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(docs_root)
    write_docs(docs_root, docs)
    croot = os.path.join(out, "containers")
    containers = {}
    for c in CONTAINERS:
        if c != "file":
            os.makedirs(os.path.join(croot, c), exist_ok=True)
    containers["file"] = {"input": "docs", "kind": "files at rest"}
    c_zip(os.path.join(croot, "zip", "rgh_export.zip"), docs)
    containers["zip"] = {"input": "containers/zip", "kind": "zip (deflate), one archive"}
    c_targz(os.path.join(croot, "targz", "rgh_export.tar.gz"), docs)
    containers["targz"] = {"input": "containers/targz", "kind": "tar.gz, one archive"}
    if c_7z(os.path.join(croot, "7z", "rgh_export.7z"), docs_root):
        containers["7z"] = {"input": "containers/7z", "kind": "7z (LZMA2), one archive"}
    c_gzip(os.path.join(croot, "gzip"), docs)
    containers["gzip"] = {"input": "containers/gzip", "kind": "gzip, one .gz per file"}
    crng = random.Random(SEED + 1)
    pcap_http(os.path.join(croot, "http", "http_upload.pcap"), docs, crng)
    containers["http"] = {"input": "containers/http",
                          "kind": "pcap: HTTP POST multipart/form-data to 203.0.113.80"}
    pcap_smtp(os.path.join(croot, "smtp", "smtp_mail.pcap"), docs, crng)
    containers["smtp"] = {"input": "containers/smtp",
                          "kind": "pcap: SMTP mail with base64 attachments to 203.0.113.25"}
    pcap_ftp(os.path.join(croot, "ftp", "ftp_stor.pcap"), docs, crng)
    containers["ftp"] = {"input": "containers/ftp",
                         "kind": "pcap: FTP STOR over passive data connections to 203.0.113.21"}
    pcap_smb2(os.path.join(croot, "smb2", "smb2_write.pcap"), docs, crng)
    containers["smb2"] = {"input": "containers/smb2",
                          "kind": "pcap: SMB2 CREATE/WRITE/CLOSE to \\\\203.0.113.45\\drop"}
    for c in CONTAINERS:
        if c not in containers or c == "file":
            shutil.rmtree(os.path.join(croot, c), ignore_errors=True)

    ut = union_truth(docs)
    assert ut["linkable_lower"] <= ut["true_individuals"] <= ut["linkable_individuals"] \
        <= ut["linkable_upper"], ut
    for name in layouts:
        ld = [d for d in docs if d.layout == name]
        layouts[name]["patients"] = sorted({pid for d in ld for pid in d.pats})
        lt = union_truth(ld)
        layouts[name]["individuals"] = lt["linkable_individuals"]
    truth = {
        "generator": "tests/phi_eval/gen_eval.py",
        "seed": SEED,
        "home_net": "10.0.0.0/8",
        "normal_forms": {"ssn": "digits", "phone": "10 digits", "birth_date": "YYYYMMDD",
                         "name": "FAMILY^GIVEN upper case (NFC)", "mrn": "as printed",
                         "address": "street line upper case", "zip": "5 digits",
                         "email": "lower case", "health_plan_id": "upper case"},
        "patients": {p.pid: {"family": p.family, "given": p.given, "middle": p.middle,
                             "sex": p.sex, "birth_date": hl7_date(p.dob), "ssn": p.ssn,
                             "mrn": p.mrn, "street": p.street, "city": p.city, "state": p.state,
                             "zip": p.zip, "phone": p.phone, "email": p.email,
                             "health_plan_id": p.plan} for p in pats},
        "staff": [{"name": "%s^%s" % (s.family.upper(), s.given.upper()), "npi": s.npi,
                   "dea": s.dea, "phone": s.phone, "pager": s.pager} for s in staff],
        "layouts": layouts,
        "documents": {d.name: {
            "layout": d.layout, "sha256": hashlib.sha256(d.data).hexdigest(),
            "size": len(d.data), "patients": sorted(d.pats),
            "individuals": len(d.pats),
            "identifiers": sorted([t, v, pid] for pid, ids in d.pats.items() for t, v in ids),
            "others": sorted([t, v, role] for t, v, role in d.staff)} for d in docs},
        "union": ut,
        "containers": containers,
        "skipped": SKIPPED,
    }
    with open(os.path.join(out, "truth.json"), "w") as fh:
        json.dump(truth, fh, indent=1, ensure_ascii=False, sort_keys=True)
    return truth


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: gen_eval.py OUTDIR")  # `--help` once made a directory of that name
    t = generate(sys.argv[1])
    u = t["union"]
    print("gen_eval: %d documents in %d layouts, %d containers; union: true %d, linkable %d "
          "(lower %d, upper %d), %d split patients (%d doubtful, %d unlinkable)" % (
              len(t["documents"]), len(t["layouts"]), len(t["containers"]),
              u["true_individuals"], u["linkable_individuals"], u["linkable_lower"],
              u["linkable_upper"], len(u["split_patients"]), len(u["doubtful_patients"]),
              len(u["unlinkable_patients"])))
    for what, why in t["skipped"]:
        print("gen_eval: SKIPPED %s: %s" % (what, why))


if __name__ == "__main__":
    main()
