# IHE ATNA / DICOM PS3.15 audit messages (issue 14): log_audit rows, every line accounted for,
# PHI-access evidence (phi_access rows and finding) without a patient identifier stored.

_ATNA_EXPORT = (
    '<AuditMessage><EventIdentification EventActionCode="R" EventDateTime="2023-11-14T22:%02d:00Z" '
    'EventOutcomeIndicator="0"><EventID csd-code="110106" codeSystemName="DCM" originalText="Export"/>'
    '</EventIdentification><ActiveParticipant UserID="jdoe" UserIsRequestor="true" '
    'NetworkAccessPointID="10.4.0.9" NetworkAccessPointTypeCode="2"/><ActiveParticipant '
    'UserID="PACS1" UserIsRequestor="false" NetworkAccessPointID="10.4.0.5" '
    'NetworkAccessPointTypeCode="2"><RoleIDCode csd-code="110153" codeSystemName="DCM" '
    'originalText="Source Role ID"/></ActiveParticipant><ActiveParticipant UserID="/media/usb0" '
    'UserIsRequestor="false"><RoleIDCode csd-code="110152" codeSystemName="DCM" '
    'originalText="Destination Role ID"/></ActiveParticipant><AuditSourceIdentification '
    'AuditSourceID="PACS1"/><ParticipantObjectIdentification ParticipantObjectID="1.2.840.99999.%d" '
    'ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="3"><ParticipantObjectIDTypeCode '
    'csd-code="110180" codeSystemName="DCM" originalText="Study Instance UID"/>'
    '</ParticipantObjectIdentification><ParticipantObjectIdentification '
    'ParticipantObjectID="ZQ%06d^^^&amp;1.2.3&amp;ISO" ParticipantObjectTypeCode="1" '
    'ParticipantObjectTypeCodeRole="1"><ParticipantObjectIDTypeCode csd-code="2" '
    'codeSystemName="RFC-3881" originalText="Patient Number"/><ParticipantObjectName>'
    'PATIENT^NUMBER%d</ParticipantObjectName></ParticipantObjectIdentification></AuditMessage>')

_ATNA_QUERY_FAILED = (
    '<AuditMessage><EventIdentification EventActionCode="E" EventDateTime="2023-11-14T22:30:00Z" '
    'EventOutcomeIndicator="8"><EventID code="110112" codeSystemName="DCM" displayName="Query"/>'
    '</EventIdentification><ActiveParticipant UserID="mallory" UserIsRequestor="true" '
    'NetworkAccessPointID="10.4.0.7"/><ParticipantObjectIdentification ParticipantObjectID="ZQ999999" '
    'ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1"/></AuditMessage>')


@test
def atna_audit_messages_become_rows_and_phi_access_evidence():
    """A PACS's ATNA syslog: 12 Export messages (jdoe at 10.4.0.9 exporting one patient's study
    each from 10.4.0.5 to a USB disk), one failed Query (outcome 8) by 10.4.0.7, a blank line, a
    syslog line of another kind, a cut message. Written before running: log_source counts 16
    lines = 13 records + 1 other + 1 blank + 1 malformed (one log.malformed_line anomaly);
    13 log_audit rows with the fields read; 12 phi_access rows (source atna; the failed query
    is none), all for 10.4.0.9; one phi_access finding naming 10.4.0.9, user jdoe, 12
    patients, 10.4.0.5, Export; no patient identifier or name anywhere in the database
    (its whole dump)."""
    hdr = "<85>1 2023-11-14T22:%02d:00.000Z pacs1 PACS 2211 IHE+RFC-3881 - "
    lines = [(hdr % i) + _ATNA_EXPORT % (i, i, 481000 + i, i) for i in range(12)]
    q = (hdr % 30) + _ATNA_QUERY_FAILED
    lines.append("%d %s" % (len(q), q))  # RFC 6587 octet counting
    lines.append("")
    lines.append("<86>1 2023-11-14T22:31:00.000Z pacs1 PACS 2211 - - service restarted")
    lines.append((hdr % 32) + (_ATNA_EXPORT % (32, 32, 481032, 32))[:900])
    data = ("\n".join(lines) + "\n").encode()
    paths = _logs_dir("atna", {"audit.log": data})
    c = case("atna-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    src = con.execute("SELECT format, lines, records, other, headers, blank, malformed, audit "
                      "FROM log_source").fetchall()
    assert src == [("atna", 16, 13, 1, 0, 1, 1, 13)], src
    an = con.execute("SELECT count(*) FROM anomaly WHERE kind = 'log.malformed_line'").fetchone()
    assert an == (1,), an
    rows = con.execute("SELECT line, ts, event_code, event, action, outcome, user_id, user_addr, "
                       "source_addr, dest_addr, patients, studies, objects FROM log_audit "
                       "ORDER BY line").fetchall()
    assert len(rows) == 13, rows
    t0 = 1700000000  # 2023-11-14T22:13:20Z
    assert rows[0] == (1, (t0 - 13 * 60 - 20) * 1000000, "110106", "Export", "R", 0, "jdoe",
                       "10.4.0.9", "10.4.0.5", None, 1, 1, 2), rows[0]
    assert rows[12] == (13, (t0 + 16 * 60 + 40) * 1000000, "110112", "Query", "E", 8, "mallory",
                        "10.4.0.7", None, None, 1, 0, 1), rows[12]
    acc = con.execute("SELECT client, server, method, individuals, source FROM phi_access "
                      "ORDER BY line").fetchall()
    assert len(acc) == 12 and set(acc) == {("10.4.0.9", "10.4.0.5", "Export", 1, "atna")}, acc
    f = con.execute("SELECT source, destination, protocol, summary, detail FROM finding WHERE "
                    "heuristic = 'phi_access'").fetchall()
    assert len(f) == 1 and f[0][:3] == ("10.4.0.9", "10.4.0.5", "atna"), f
    assert f[0][3].startswith("PHI access in audit logs: 10.4.0.9 (user jdoe) Export records "
                              "of 12 distinct patient(s) from 10.4.0.5 (12 IHE ATNA audit "
                              "message(s) naming 12 patient object(s); %s lines 1-12)"
                              % paths[0]), f[0][3]
    det = _logs_json.loads(f[0][4])
    assert (det["messages"], det["patients"], det["sources"]) == (12, 12, ["atna"]), det
    # every message's patients are keyed, the failed query's too (13 rows); no identifier
    assert con.execute("SELECT count(*), count(DISTINCT hmac), count(patient_id) FROM "
                       "log_audit_patient").fetchone() == (13, 13, 0)
    text = "\n".join(con.iterdump())  # the whole database
    for secret in ("ZQ481003", "PATIENT^NUMBER", "ZQ999999"):
        assert secret not in text, secret


# ---- messages over many lines, distinct patients, the upload after the export ----

# One message pretty-printed as archives write their audit files (the layout of PS3.15 A.5's
# examples and dcm4chee-arc's samples: one element a line, a blank line between them, an
# HL7 CX patient identifier with its assigning authority). Values made up.
_ATNA_PRETTY = '''    <AuditMessage xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">

        <EventIdentification EventActionCode="%(action)s" EventDateTime="%(when)s" EventOutcomeIndicator="0">

            <EventID csd-code="%(code)s" codeSystemName="DCM" originalText="%(name)s"/>

        </EventIdentification>

        <ActiveParticipant UserID="%(user)s" UserIsRequestor="true" NetworkAccessPointID="%(host)s" NetworkAccessPointTypeCode="2">

            <RoleIDCode csd-code="%(req_role)s" codeSystemName="DCM" originalText="Source"/>

        </ActiveParticipant>

        <ActiveParticipant UserID="PACS1" AlternativeUserID="AETITLE=PACS1" UserIsRequestor="false" NetworkAccessPointID="10.4.0.5" NetworkAccessPointTypeCode="2">

            <RoleIDCode csd-code="%(pacs_role)s" codeSystemName="DCM"/>

        </ActiveParticipant>

        <AuditSourceIdentification AuditSourceID="PACS1">

            <AuditSourceTypeCode csd-code="4"/>

        </AuditSourceIdentification>
%(objects)s
    </AuditMessage>
'''

_ATNA_PATIENT = '''
        <ParticipantObjectIdentification ParticipantObjectID="%s^^^HOSP&amp;1.2.840.99999.4&amp;ISO" ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1">

            <ParticipantObjectIDTypeCode csd-code="2" originalText="Patient Number" codeSystemName="RFC-3881"/>

            <ParticipantObjectName>%s</ParticipantObjectName>

        </ParticipantObjectIdentification>
'''

# RFC 3881's own form of a Query (code/displayName), one patient object by its ID type only
_ATNA_RFC3881_QUERY = '''<AuditMessage>
  <EventIdentification EventActionCode="E" EventDateTime="%(when)s" EventOutcomeIndicator="0">
    <EventID code="110112" codeSystemName="DCM" displayName="Query"/>
    <EventTypeCode code="ITI-21" codeSystemName="IHE Transactions" displayName="Patient Demographics Query"/>
  </EventIdentification>
  <ActiveParticipant UserID="jdoe" UserIsRequestor="true" NetworkAccessPointID="%(host)s">
    <RoleIDCode code="110153" displayName="Source"/>
  </ActiveParticipant>
  <ActiveParticipant UserID="PACS1" UserIsRequestor="false" NetworkAccessPointID="10.4.0.5">
    <RoleIDCode code="110152" displayName="Destination"/>
  </ActiveParticipant>
  <AuditSourceIdentification AuditSourceID="PACS1"/>
%(objects)s</AuditMessage>
'''

_ATNA_RFC3881_PATIENT = ('  <ParticipantObjectIdentification ParticipantObjectID="%s^^^HOSP&amp;'
                         '1.2.840.99999.4&amp;ISO" ParticipantObjectTypeCode="1">\n'
                         '    <ParticipantObjectIDTypeCode code="2" displayName="Patient Number"/>\n'
                         '  </ParticipantObjectIdentification>\n')

_ATNA_IDS = ["HX%07d" % (5510000 + 37 * i) for i in range(9)]   # P1..P9 -> _ATNA_IDS[0..8]


def _atna_audit_file(host):
    """An audit file of 5 messages, pretty-printed over many lines, by `host` (user jdoe):
    M1 Export of P1 P2 P3 at 22:00Z, M2 Query (RFC 3881 form) of P3 P4 at 22:10Z, M3 DICOM
    Instances Accessed of P1 P5 P6 at 22:20Z, M4 Export of P7 P2 P7 at 22:30Z, M5 Export of
    P9 at 23:30Z (after the upload at 23:00Z). Returns the bytes and the start lines of the
    messages (counted in the text made here)."""
    def pretty(when, code, name, action, pids, req_role="110150", pacs_role="110153"):
        objs = "".join(_ATNA_PATIENT % (_ATNA_IDS[i], "PATIENT^NUMBER%d" % i) for i in pids)
        return _ATNA_PRETTY % dict(action=action, when=when, code=code, name=name, user="jdoe",
                                   host=host, req_role=req_role, pacs_role=pacs_role,
                                   objects=objs)
    q = _ATNA_RFC3881_QUERY % dict(when="2023-11-14T22:10:00Z", host=host, objects="".join(
        _ATNA_RFC3881_PATIENT % _ATNA_IDS[i] for i in (2, 3)))
    msgs = [pretty("2023-11-14T22:00:00Z", "110106", "Export", "R", (0, 1, 2)), q,
            pretty("2023-11-14T22:20:00Z", "110103", "DICOM Instances Accessed", "R", (0, 4, 5)),
            pretty("2023-11-14T22:30:00Z", "110106", "Export", "R", (6, 1, 6)),
            pretty("2023-11-14T23:30:00Z", "110106", "Export", "R", (8,))]
    text = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n\n' + "\n".join(msgs)
    starts, line = [], 1
    for ln in text.split("\n"):
        if "<AuditMessage" in ln:
            starts.append(line)
        line += 1
    return text.encode(), starts


_ATNA_CONN = ("#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\t"
              "id.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\n"
              "1700002800.000000\tCatna1\t%s\t51000\t%s\t443\ttcp\tssl\t120.0\t62914560\t4000\tSF\n")


@test
def atna_export_then_upload_is_likely_with_distinct_patients():
    """Issue 14 item 3. Capture-less: a PACS audit file (pretty-printed DICOM PS3.15 messages
    over many lines, one in RFC 3881 form) shows 10.4.0.9 exporting, querying and reading
    patients' studies between 22:00Z and 22:30Z, then a Zeek conn log shows 10.4.0.9 sending
    60 MB (62914560 bytes) over TLS to 203.0.113.50 at 23:00Z. Written before running:
    log_source atna: 5 records, 0 malformed; 12 log_audit_patient rows (12 patient objects)
    with 8 distinct keyed hashes and no identifier (patient_id NULL, no id or name in the
    whole database); the phi_access finding (10.4.0.9, 10.4.0.5) says "8 distinct
    patient(s)" over 5 messages; a phi_access_upload finding (10.4.0.9, 203.0.113.50) counts
    exactly K = 7 distinct patients (P1..P7: the 4 messages within 6 h before the upload; M5
    came after it) and names the file and the lines of M1 and M4; the event is "likely" with
    reasons.phi_accessed naming the file, lines, 4 records and 7 patients; the overall verdict
    is likely. The control (the same audit file, the upload from 10.4.0.7 instead) has no
    phi_access_upload finding and its event is 'possible', as in a case of the conn log
    alone."""
    audit, starts = _atna_audit_file("10.4.0.9")
    assert len(starts) == 5, starts
    paths = _logs_dir("atna-up", {"audit.xml": audit,
                                  "conn.log": (_ATNA_CONN % ("10.4.0.9", "203.0.113.50")).encode()})
    c = case("atna-up-case")
    run("analyze", "-q", "--home-net", "10.0.0.0/8", *paths, "-o", c, check=0)
    con = db(c)
    src = con.execute("SELECT format, records, malformed, audit FROM log_source WHERE path "
                      "LIKE '%audit.xml'").fetchall()
    assert src == [("atna", 5, 0, 5)], src
    lines = [r[0] for r in con.execute("SELECT line FROM log_audit ORDER BY line")]
    assert lines == starts, (lines, starts)
    pat = con.execute("SELECT count(*), count(DISTINCT hmac), count(patient_id) FROM "
                      "log_audit_patient").fetchone()
    assert pat == (12, 8, 0), pat
    f = con.execute("SELECT destination, summary, detail FROM finding WHERE heuristic = "
                    "'phi_access' AND source = '10.4.0.9'").fetchall()
    assert len(f) == 1 and f[0][0] == "10.4.0.5", f
    assert "records of 8 distinct patient(s) from 10.4.0.5 (5 IHE ATNA audit message(s) " \
           "naming 12 patient object(s);" in f[0][1], f[0][1]
    det = _logs_json.loads(f[0][2])
    assert (det["messages"], det["patients"], det["patients_distinct"]) == (5, 8, True), det
    up = con.execute("SELECT source, destination, summary, detail FROM finding WHERE "
                     "heuristic = 'phi_access_upload'").fetchall()
    assert len(up) == 1 and up[0][:2] == ("10.4.0.9", "203.0.113.50"), up
    s = up[0][2]
    assert "10.4.0.9 read records of 7 patient(s) (4 access record(s)" in s, s
    assert "IHE ATNA audit %s line(s) %d-%d: 4 record(s)" % (paths[0], starts[0], starts[3]) \
        in s, s
    assert "62914560 bytes went unread" in s and "to 203.0.113.50" in s, s
    d = _logs_json.loads(up[0][3])
    assert (d["patients"], d["patients_distinct"], d["accesses"]) == (7, True, 4), d
    ev = con.execute("SELECT verdict, bytes_out, reasons FROM exfil_event WHERE source = "
                     "'10.4.0.9' AND destination = '203.0.113.50'").fetchall()
    assert len(ev) == 1 and ev[0][:2] == ("likely", 62914560), ev
    why = _logs_json.loads(ev[0][2])["phi_accessed"]
    assert len(why) == 1 and why[0]["patients"] == 7, why
    a = why[0]["access_sources"]
    assert len(a) == 1 and (a[0]["source"], a[0]["path"], a[0]["first_line"], a[0]["last_line"],
                            a[0]["records"]) == ("atna", paths[0], starts[0], starts[3], 4), a
    assert con.execute("SELECT verdict FROM verdict WHERE scope = 'overall'").fetchone() == \
        ("likely",)
    text = "\n".join(con.iterdump())
    for secret in _ATNA_IDS + ["PATIENT^NUMBER"]:
        assert secret not in text, secret
    # the control: another host uploads; and the same upload with no audit file at all
    got = {}
    for name, files in (("ctl", {"audit.xml": audit, "conn.log": (
            _ATNA_CONN % ("10.4.0.7", "203.0.113.51")).encode()}),
            ("alone", {"conn.log": (_ATNA_CONN % ("10.4.0.7", "203.0.113.51")).encode()})):
        cc = case("atna-up-" + name)
        run("analyze", "-q", "--home-net", "10.0.0.0/8", *_logs_dir("atna-" + name, files),
            "-o", cc, check=0)
        k = db(cc)
        n = k.execute("SELECT count(*) FROM finding WHERE heuristic = 'phi_access_upload'")
        got[name] = (n.fetchone()[0], k.execute(
            "SELECT verdict, bytes_out FROM exfil_event WHERE source = '10.4.0.7'").fetchall())
    assert got["ctl"] == got["alone"] == (0, [("possible", 62914560)]), got
