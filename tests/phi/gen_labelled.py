#!/usr/bin/env python3
"""Labelled PHI corpus for measuring phitrace's detectors (precision and recall).

Writes synthetic patients (generated names, SSNs in valid format, MRNs, birth dates,
addresses in several states, phones, emails, diagnoses) into CSV, free text, HL7 v2, DICOM
Part 10, FHIR JSON, a zip and a gzip, together with look-alikes that must not be reported
(SSA-invalid and sample SSNs, order numbers, bare dates, fictional 555-01xx phones, card and
NPI test numbers, bad DEA checksums). labels.json lists, per object (by SHA-256 of its
bytes, archive members too), the detector, type and value of every identifier planted, and
the number of distinct individuals.

Deterministic: the same seed gives the same bytes.
Usage: gen_labelled.py OUTDIR LABELS.json [SEED] (the labels stay outside OUTDIR, which is
what phitrace analyzes).
Only the Python standard library is used.
"""
import gzip
import hashlib
import io
import json
import os
import random
import struct
import sys
import zipfile

OUT = sys.argv[1]
LABELS = sys.argv[2]
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 1
rnd = random.Random(SEED)

FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
         "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
         "Thomas", "Sarah", "Carlos", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony",
         "Betty", "Mark", "Margaret", "Donald", "Sandra", "Steven", "Ashley", "Paul", "Kimberly",
         "Andrew", "Emily", "Joshua", "Donna", "Kenneth", "Michelle"]
LAST = ["Okafor", "Lindqvist", "Brennan", "Castellano", "Whitfield", "Nakamura", "Delacroix",
        "Abernathy", "Kowalczyk", "Szabo", "Fairbanks", "Ostrowski", "Villanueva", "Hartmann",
        "Pellegrino", "Thornbury", "Mbeki", "Rasmussen", "Galloway", "Iwasaki", "Lockhart",
        "Montgomery", "Quintero", "Yilmaz", "Sorensen", "Achterberg", "Beaumont", "Calloway",
        "Dunleavy", "Eberhardt", "Fitzroy", "Gustafsson", "Holloway", "Ingram", "Jankowski",
        "Kavanagh", "Lundgren", "Marchetti", "Norwood", "Oyelaran", "Prescott", "Quimby",
        "Rutherford", "Stanislaw", "Tremblay", "Underwood", "Vasquez", "Wexford", "Xiong",
        "Youngblood", "Zeller", "Ashworth", "Blackwood", "Crestwood", "Drummond", "Ellsworth",
        "Fairweather", "Greenhalgh", "Hollingsworth", "Isherwood"]
PLACES = [("Boston", "MA", "021"), ("Worcester", "MA", "016"), ("Chicago", "IL", "606"),
          ("Houston", "TX", "770"), ("Austin", "TX", "787"), ("Seattle", "WA", "981"),
          ("Miami", "FL", "331"), ("Denver", "CO", "802"), ("Phoenix", "AZ", "850"),
          ("Albany", "NY", "122"), ("Portland", "OR", "972"), ("Columbus", "OH", "432")]
AREAS = {"MA": "617", "IL": "312", "TX": "713", "WA": "206", "FL": "305", "CO": "303",
         "AZ": "602", "NY": "518", "OR": "503", "OH": "614"}
STREETS = ["Elm", "Maple", "Cedar", "Harbor", "Lincoln", "Sycamore", "Willow", "Prospect"]
SUFFIX = ["Street", "Avenue", "Road", "Lane", "Drive", "Court"]
ICD = ["E11.9", "I10", "J45.909", "C50.911", "U07.1", "F32.9", "N18.30", "K21.9", "M54.50",
       "G43.909"]


def luhn_digit(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        v = int(ch)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return str((10 - total % 10) % 10)


def npi():
    body = "1" + "".join(rnd.choice("0123456789") for _ in range(8))
    return body + luhn_digit("80840" + body)


def dea(last):
    d = [rnd.randrange(10) for _ in range(6)]
    check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return "A" + last[0].upper() + "".join(map(str, d)) + str(check)


def mbi():
    letters = "ACDEFGHJKMNPQRTUVWXY"
    pat = "CAxNAxNAANN"
    out = ""
    for p in pat:
        if p == "C":
            out += str(rnd.randrange(1, 10))
        elif p == "N":
            out += str(rnd.randrange(10))
        elif p == "A":
            out += rnd.choice(letters)
        else:
            out += rnd.choice(letters + "0123456789")
    return out


people = []
used_ssn = set()
for i in range(60):
    first = FIRST[i % len(FIRST)]
    last = LAST[i]
    while True:
        area = rnd.randrange(1, 900)
        if area in (666,) or area == 0:
            continue
        ssn = "%03d%02d%04d" % (area, rnd.randrange(1, 100), rnd.randrange(1, 10000))
        if ssn not in used_ssn and ssn not in ("078051120", "219099999", "123456789"):
            used_ssn.add(ssn)
            break
    y, m, d = rnd.randrange(1930, 2010), rnd.randrange(1, 13), rnd.randrange(1, 29)
    city, st, zip3 = PLACES[i % len(PLACES)]
    zipc = zip3 + "%02d" % rnd.randrange(1, 100)
    phone = AREAS.get(st, "617") + str(rnd.randrange(2, 10)) + "%02d" % rnd.randrange(0, 100) + \
        "%04d" % rnd.randrange(0, 10000)
    if phone[3:6] == "555":
        phone = phone[:3] + "556" + phone[6:]
    people.append({
        "first": first, "last": last, "mrn": "%07d" % (4000000 + i * 7919), "ssn": ssn,
        "dob": "%04d%02d%02d" % (y, m, d), "street": "%d %s %s" % (
            rnd.randrange(10, 9999), STREETS[i % len(STREETS)], SUFFIX[i % len(SUFFIX)]),
        "city": city, "state": st, "zip": zipc, "phone": phone,
        "email": "%s.%s@mail.example.org" % (first.lower(), last.lower()),
        "icd": ICD[i % len(ICD)], "npi": npi(), "dea": dea(last), "mbi": mbi(),
        "uid": "1.2.826.0.1.3680043.10.1455.%d.%d" % (SEED, 1000 + i),
        "acc": "ACC%06d" % (500000 + i), "study": "2024%02d%02d" % (rnd.randrange(1, 13),
                                                                   rnd.randrange(1, 29)),
        "fhir": "%08x-0000-4000-8000-%012x" % (0xfeed0000 + i, 0xabc000 + i),
    })

labels = {"objects": {}, "individuals": 60, "seed": SEED}


def label(data, detector, typ, value, note=""):
    sha = hashlib.sha256(data).hexdigest()
    labels["objects"].setdefault(sha, {"hits": []})
    labels["objects"][sha]["hits"].append([detector, typ, value])


def register(data, name):
    sha = hashlib.sha256(data).hexdigest()
    labels["objects"].setdefault(sha, {"hits": []})["name"] = name
    return sha


def write(rel, data):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    register(data, rel)


def iso(d):
    return "%s-%s-%s" % (d[:4], d[4:6], d[6:])


# ---- CSV ------------------------------------------------------------------------------------
def csv_for(ps):
    lines = ["mrn,first_name,last_name,dob,ssn,address,city,state,zip,phone,email,diagnosis"]
    for p in ps:
        lines.append(",".join([p["mrn"], p["first"], p["last"], iso(p["dob"]),
                               "%s-%s-%s" % (p["ssn"][:3], p["ssn"][3:5], p["ssn"][5:]),
                               p["street"], p["city"], p["state"], p["zip"],
                               "(%s) %s-%s" % (p["phone"][:3], p["phone"][3:6], p["phone"][6:]),
                               p["email"], p["icd"]]))
    return ("\r\n".join(lines) + "\r\n").encode()


def csv_labels(data, ps):
    for p in ps:
        for typ, v in (("mrn", p["mrn"]), ("name", p["last"] + "^" + p["first"]),
                       ("birth_date", p["dob"]), ("ssn", p["ssn"]), ("address", p["street"]),
                       ("zip", p["zip"]), ("phone", p["phone"]), ("email", p["email"]),
                       ("diagnosis_code", p["icd"])):
            label(data, "csv", typ, v)


data = csv_for(people[0:20])
write("exports/patients.csv", data)
csv_labels(data, people[0:20])

# look-alikes in a table without patient columns: nothing to report
orders = ["order_id,sku,quantity,ship_date,customer_ref"]
for i in range(40):
    orders.append("%09d,SKU-%05d,%d,2023-%02d-%02d,REF%06d" % (
        rnd.randrange(10**8, 10**9), rnd.randrange(10**5), rnd.randrange(1, 9),
        rnd.randrange(1, 13), rnd.randrange(1, 29), rnd.randrange(10**6)))
write("exports/orders.csv", ("\n".join(orders) + "\n").encode())

# ---- free text --------------------------------------------------------------------------------
LOOKALIKES = (
    "Order number %09d shipped on 2021-03-04 and invoice 000-12-3456 was paid; reference "
    "666-45-1234 and 901-23-4567 are not valid numbers, nor is the sample 123-45-6789 printed "
    "on the form. The call center line is (617) 555-0123. The demo card 4111 1111 1111 1111 "
    "was declined.\n\nTracking 20230415 arrived at 10:42. NPI 1234567890 is not valid either. "
    "DEA AB1234564 fails its checksum. Code A1B.2 is not a diagnosis. Room 1999-12-31.\n")
for i, p in enumerate(people[20:30]):
    ssnf = "%s-%s-%s" % (p["ssn"][:3], p["ssn"][3:5], p["ssn"][5:])
    text = (
        "Clinic note\n\nPatient %s %s, MRN: %s, DOB: %s/%s/%s, was seen for follow-up of the "
        "diagnosis below. SSN %s. Contact phone (%s) %s-%s, email %s. Address: %s, %s, %s %s. "
        "Dx: %s. Referring provider NPI %s, DEA %s. Medicare MBI %s.\n\n" % (
            p["first"], p["last"], p["mrn"], p["dob"][4:6], p["dob"][6:], p["dob"][:4], ssnf,
            p["phone"][:3], p["phone"][3:6], p["phone"][6:], p["email"], p["street"], p["city"],
            p["state"], p["zip"], p["icd"], p["npi"], p["dea"], p["mbi"]) +
        LOOKALIKES % rnd.randrange(10**8, 10**9)).encode()
    write("notes/note_%02d.txt" % i, text)
    for typ, v in (("mrn", p["mrn"]), ("birth_date", p["dob"]), ("ssn", p["ssn"]),
                   ("phone", p["phone"]), ("email", p["email"]), ("address", p["street"]),
                   ("zip", p["zip"]), ("diagnosis_code", p["icd"]), ("provider_npi", p["npi"]),
                   ("provider_dea", p["dea"]), ("medicare_mbi", p["mbi"])):
        label(text, "text", typ, v)


# ---- HL7 v2 ---------------------------------------------------------------------------------
def hl7_for(ps, base):
    msgs = []
    for i, p in enumerate(ps):
        msgs.append("\r".join([
            "MSH|^~\\&|RIS|RAD|EHR|HOSP|20240101120000||ADT^A01|MSG%05d|P|2.5.1" % (base + i),
            "PID|1||%s^^^HOSP^MR~%s^^^SSA^SS||%s^%s||%s|F|||%s^^%s^%s^%s||(%s)%s-%s||||||%s" % (
                p["mrn"], p["ssn"], p["last"].upper(), p["first"].upper(), p["dob"],
                p["street"], p["city"], p["state"], p["zip"], p["phone"][:3], p["phone"][3:6],
                p["phone"][6:], p["ssn"]),
            "DG1|1||%s^Diagnosis^I10" % p["icd"]]) + "\r")
    return "\n".join(msgs).encode()


def hl7_labels(data, ps):
    for p in ps:
        for typ, v in (("mrn", p["mrn"]), ("ssn", p["ssn"]),
                       ("name", p["last"] + "^" + p["first"]), ("birth_date", p["dob"]),
                       ("address", p["street"] + ", " + p["city"]), ("zip", p["zip"]),
                       ("phone", p["phone"]), ("diagnosis_code", p["icd"])):
            label(data, "hl7", typ, v)


data = hl7_for(people[30:40], 1)
write("hl7/adt_batch.hl7", data)
hl7_labels(data, people[30:40])


# ---- DICOM Part 10 ------------------------------------------------------------------------------
def el(group, elem, vr, value):
    if isinstance(value, str):
        value = value.encode("latin-1")
        pad = b"\0" if vr == "UI" else b" "
        if len(value) % 2:
            value += pad
    if vr in ("OB", "OW", "SQ", "UN", "UT"):
        return struct.pack("<HH2sHI", group, elem, vr.encode(), 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr.encode(), len(value)) + value


def dicom_for(p):
    sop = p["uid"] + ".1"
    meta = el(2, 1, "OB", b"\0\1") + el(2, 2, "UI", "1.2.840.10008.5.1.4.1.1.2") + \
        el(2, 3, "UI", sop) + el(2, 0x10, "UI", "1.2.840.10008.1.2.1") + \
        el(2, 0x12, "UI", "1.2.826.0.1.3680043.10.1455.9")
    body = (el(8, 5, "CS", "ISO_IR 100") + el(8, 0x16, "UI", "1.2.840.10008.5.1.4.1.1.2") +
            el(8, 0x18, "UI", sop) + el(8, 0x20, "DA", p["study"]) + el(8, 0x50, "SH", p["acc"]) +
            el(8, 0x60, "CS", "CT") + el(0x10, 0x10, "PN", p["last"] + "^" + p["first"]) +
            el(0x10, 0x20, "LO", p["mrn"]) + el(0x10, 0x30, "DA", p["dob"]) +
            el(0x10, 0x40, "CS", "F") + el(0x20, 0x0D, "UI", p["uid"]) +
            el(0x7FE0, 0x10, "OW", bytes(64)))
    return b"\0" * 128 + b"DICM" + el(2, 0, "UL", struct.pack("<I", len(meta))) + meta + body


def dicom_labels(data, p):
    for typ, v in (("name", p["last"] + "^" + p["first"]), ("mrn", p["mrn"]),
                   ("birth_date", p["dob"]), ("date", p["study"]), ("accession", p["acc"]),
                   ("record_id", p["uid"])):
        label(data, "dicom", typ, v)


for i, p in enumerate(people[40:48] + people[30:32]):  # 30-31 also sent by HL7: same MRN
    data = dicom_for(p)
    write("dicom/IMG%02d.dcm" % i, data)
    dicom_labels(data, p)

# ---- FHIR ---------------------------------------------------------------------------------------------
entries = []
for p in people[48:56]:
    entries.append({"fullUrl": "urn:uuid:" + p["fhir"], "resource": {
        "resourceType": "Patient", "id": p["fhir"],
        "identifier": [
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                  "code": "MR"}]}, "system": "urn:oid:1.2.3.4", "value": p["mrn"]},
            {"system": "http://hl7.org/fhir/sid/us-ssn",
             "value": "%s-%s-%s" % (p["ssn"][:3], p["ssn"][3:5], p["ssn"][5:])}],
        "name": [{"family": p["last"], "given": [p["first"]]}],
        "telecom": [{"system": "phone", "value": p["phone"]},
                    {"system": "email", "value": p["email"]}],
        "birthDate": iso(p["dob"]),
        "address": [{"line": [p["street"]], "city": p["city"], "state": p["state"],
                     "postalCode": p["zip"]}]}})
    entries.append({"resource": {"resourceType": "Condition", "id": "c-" + p["fhir"][:8],
                                 "subject": {"reference": "urn:uuid:" + p["fhir"]},
                                 "code": {"coding": [{"code": p["icd"]}]}}})
data = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries},
                  indent=1, sort_keys=True).encode()
write("fhir/bundle.json", data)
for p in people[48:56]:
    for typ, v in (("record_id", "Patient/" + p["fhir"]), ("mrn", p["mrn"]), ("ssn", p["ssn"]),
                   ("name", p["last"] + "^" + p["first"]), ("birth_date", p["dob"]),
                   ("address", p["street"] + ", " + p["city"]), ("zip", p["zip"]),
                   ("phone", p["phone"]), ("email", p["email"])):
        label(data, "fhir", typ, v)

# ---- archives -----------------------------------------------------------------------------------------
member_hl7 = hl7_for(people[56:60], 100)
member_dcm = dicom_for(people[41])  # person 41 again: the same individual
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    for name, content in (("outgoing/adt_56_59.hl7", member_hl7), ("outgoing/scan.dcm", member_dcm)):
        info = zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 6))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, content)
write("staging/export.zip", buf.getvalue())
register(member_hl7, "staging/export.zip!outgoing/adt_56_59.hl7")
register(member_dcm, "staging/export.zip!outgoing/scan.dcm")
hl7_labels(member_hl7, people[56:60])
dicom_labels(member_dcm, people[41])

member_csv = csv_for(people[20:25])  # the people of the notes: joined by MRN
gz = io.BytesIO()
with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, filename="") as g:
    g.write(member_csv)
write("staging/patients_20_24.csv.gz", gz.getvalue())
register(member_csv, "staging/patients_20_24.csv.gz!")
csv_labels(member_csv, people[20:25])

write("README.txt", b"Synthetic test data for phitrace. Nothing here identifies anyone.\n")

with open(LABELS, "w") as f:
    json.dump(labels, f, indent=1, sort_keys=True)
