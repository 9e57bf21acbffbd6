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
                              "of 12 patient(s) from 10.4.0.5 (12 IHE ATNA"), f[0][3]
    det = _logs_json.loads(f[0][4])
    assert (det["messages"], det["patients"], det["sources"]) == (12, 12, ["atna"]), det
    text = "\n".join(con.iterdump())  # the whole database
    for secret in ("ZQ481003", "PATIENT^NUMBER", "ZQ999999"):
        assert secret not in text, secret
