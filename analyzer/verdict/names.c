/*
 * names.c - who received it, by name, and whose data went there: the destination_name
 * rows (what the evidence calls each outside destination) and the individual_event rows
 * (which individuals were in which exfiltration event), for the reports and exports.
 *
 * Names come only from outbound flows to the destination, so that a name an outside client
 * gave when it connected inwards never names the outside end: the envelope recipients of
 * SMTP, the Host of HTTP requests, the SNI and certificate subject of TLS, the called AE
 * title of DICOM associations, the user and the server greeting of FTP control connections,
 * and the owners of DNS A/AAAA answers that resolved to the address. Every name is text from
 * the evidence: the reports escape it.
 */
#include <stdio.h>

#include "../store/db.h"
#include "flow_sql.h"
#include "verdict_int.h"

/* (destination, kind, name, flow, ts) of every name an outbound flow carried */
#define NAMES_SQL                                                                                  \
    "WITH RECURSIVE rcpt(destination, flow, ts, name, rest) AS (SELECT f.server_addr, f.id, "      \
    "m.ts, '', m.rcpt_to || ',' FROM flow f JOIN smtp_message m ON m.flow_id = f.id WHERE "        \
    "f.class = 'outbound' AND m.rcpt_to IS NOT NULL UNION ALL SELECT destination, flow, ts, "      \
    "trim(substr(rest, 1, instr(rest, ',') - 1), ' <>'), substr(rest, instr(rest, ',') + 1) "     \
    "FROM rcpt WHERE rest != ''), "                                                                \
    "named(destination, kind, name, flow, ts) AS ("                                                \
    "SELECT destination, 'smtp_recipient', name, flow, ts FROM rcpt WHERE name != '' "             \
    "UNION ALL SELECT f.server_addr, 'http_host', h.host, f.id, h.ts FROM flow f JOIN http_txn "   \
    "h ON h.flow_id = f.id WHERE f.class = 'outbound' AND h.host IS NOT NULL "                    \
    "UNION ALL SELECT f.server_addr, 'tls_sni', t.sni, f.id, t.ts FROM flow f JOIN tls_session "   \
    "t ON t.flow_id = f.id WHERE f.class = 'outbound' AND t.sni IS NOT NULL "                     \
    "UNION ALL SELECT f.server_addr, 'tls_certificate', t.cert_subject, f.id, t.ts FROM flow f "   \
    "JOIN tls_session t ON t.flow_id = f.id WHERE f.class = 'outbound' AND t.cert_subject IS "     \
    "NOT NULL "                                                                                    \
    "UNION ALL SELECT f.server_addr, 'dicom_called_ae', trim(a.called_ae), f.id, a.ts FROM flow "  \
    "f JOIN dicom_assoc a ON a.flow_id = f.id WHERE f.class = 'outbound' AND a.called_ae IS NOT "  \
    "NULL "                                                                                        \
    "UNION ALL SELECT f.server_addr, 'ftp_user', x.user, f.id, x.ts FROM flow f JOIN "             \
    "ftp_transfer x ON x.ctl_flow = f.id WHERE f.class = 'outbound' AND x.user IS NOT NULL "      \
    "UNION ALL SELECT f.server_addr, 'ftp_server', trim(x.banner), f.id, x.ts FROM flow f JOIN "   \
    "ftp_transfer x ON x.ctl_flow = f.id WHERE f.class = 'outbound' AND x.banner IS NOT NULL "    \
    "UNION ALL SELECT d.data, 'dns_name', d.name, d.id, d.ts FROM dns_answer d WHERE d.decoded "   \
    "AND d.type IN (1, 28) AND d.data IN (SELECT server_addr FROM flow WHERE class = "            \
    "'outbound'))"

static const char names_sql[] =
    "INSERT INTO destination_name(destination, kind, name, seen, first_ts) " NAMES_SQL
    " SELECT destination, kind, name, count(DISTINCT flow), min(ts) FROM named WHERE name != '' "
    "AND name != destination GROUP BY destination, kind, name ORDER BY destination, kind, name;";

/* Which individuals each event's uploaded objects named: the pairs as events.c forms them
 * (source and destination of an upload, a DNS tunnel's payload going to its domain). */
#define UPLOADS_SQL                                                                                \
    "SELECT " OBJ_SOURCE_SQL " AS source, " OBJ_DEST_SQL " AS destination, o.sha256, o.ts FROM "   \
    "object o JOIN flow f ON f.id = o.flow_id JOIN phi_object p ON p.object_sha256 = o.sha256 "   \
    "WHERE o.direction = 'upload' AND p.phi_hits > 0"

static const char individuals_sql[] =
    "INSERT INTO individual_event(entity_id, event_id, destination, objects, first_ts) SELECT "
    "r.entity_id, e.id, e.destination, count(DISTINCT u.sha256), min(u.ts) FROM (" UPLOADS_SQL
    ") u JOIN exfil_event e ON e.source = u.source AND e.destination = u.destination JOIN "
    "phi_record r ON r.object_sha256 = u.sha256 JOIN patient_entity pe ON pe.id = r.entity_id "
    "WHERE pe.phi = 1 GROUP BY r.entity_id, e.id ORDER BY r.entity_id, e.id;";

pt_status pt_verdict_names(struct pt_verdict_ctx *x, char *err, size_t errlen)
{
    PT_TRY(pt_db_exec(x->h, names_sql, err, errlen));
    return pt_db_exec(x->h, individuals_sql, err, errlen);
}
