/*
 * q_accessup.c - PHI read on a host, then sent out by it (q_accessup.h). The SQL is here,
 * in the open; the heuristic that writes the findings is verdict/heur_accessup.c.
 */
#include "q_accessup.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "db_handle.h"
#include "q_report.h"
#include "q_stmt.h"

/* An ATNA phi_access row is its log_audit row's (same item, line, time, client and event:
 * phi_access keeps no byte offset); its patients are that message's keyed hashes. */
static const char persons_sql[] =
    "DROP TABLE IF EXISTS temp.acc_person;"
    "CREATE TEMP TABLE acc_person AS "
    "SELECT DISTINCT p.id AS pid, 'atna:' || k.hmac AS person FROM phi_access p JOIN log_audit "
    "a ON a.item_id = p.item_id AND a.line = p.line AND a.ts IS p.ts AND a.event = p.method "
    "AND coalesce(nullif(a.user_addr, ''), a.dest_addr) = p.client JOIN log_audit_patient k ON "
    "k.item_id = a.item_id AND k.offset = a.offset WHERE p.source = 'atna' AND k.hmac != '' "
    "UNION SELECT q.id, 'entity:' || h.entity_id FROM phi_access q JOIN acc_hit h ON "
    "h.item_id = q.item_id AND h.line = q.line WHERE q.source != 'atna' AND h.entity_id IS NOT "
    "NULL;"
    "CREATE INDEX temp.acc_person_pid ON acc_person(pid);";

pt_status pt_q_accessup_persons(struct pt_db *db, char *err, size_t errlen)
{
    return pt_db_exec(pt_db_handle(db), persons_sql, err, errlen);
}

/* ?1 the window (µs), ?2 the most inside hosts of a rare destination. m: each (access, flow)
 * of a host where the flow began within the window after the access. A Windows object access
 * (4663) counts only on a file whose PHI the case has seen (hits > 0), not one matched by its
 * name alone (signatures/phi_files.txt). */
static const char uploads_sql[] =
    "WITH acc AS (SELECT p.id, p.client AS host, p.ts, p.item_id, p.line, p.source, p.method, "
    "p.individuals FROM phi_access p WHERE p.ts > 0 AND NOT (p.source = 'evtx' AND p.hits = "
    "0)), "
    "fl AS (SELECT f.id, f.inside AS host, f.outside AS destination, f.first_ts, f.last_ts, "
    "f.bytes_out, coalesce(f.app, CASE f.proto WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' ELSE 'ip' "
    "END) AS proto FROM crossing_flow f WHERE f.unread AND f.bytes_out > 0 AND f.inside IN "
    "(SELECT host FROM acc)), "
    "m AS (SELECT fl.host, fl.destination, a.id AS aid, fl.id AS fid FROM fl JOIN acc a ON "
    "a.host = fl.host AND a.ts <= fl.first_ts AND a.ts >= fl.first_ts - ?1), "
    "pv AS (SELECT outside, count(DISTINCT inside) AS sources FROM crossing_flow GROUP BY 1), "
    "up AS (SELECT u.host, u.destination, count(*) AS flows, sum(fl.bytes_out) AS bytes, "
    "min(fl.first_ts) AS first_ts, max(fl.last_ts) AS last_ts, group_concat(DISTINCT fl.proto) "
    "AS protos FROM (SELECT DISTINCT host, destination, fid FROM m) u JOIN fl ON fl.id = u.fid "
    "GROUP BY 1, 2), "
    "ac AS (SELECT u.host AS h, u.destination AS d, a.* FROM (SELECT DISTINCT host, "
    "destination, aid FROM m) u JOIN acc a ON a.id = u.aid), "
    "src AS (SELECT s.h, s.d, s.source, s.item_id, e.path, min(s.line) AS l1, max(s.line) AS "
    "l2, count(*) AS n, group_concat(DISTINCT s.method) AS methods FROM ac s JOIN "
    "evidence_item e ON e.id = s.item_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4), "
    "who AS (SELECT ac.h, ac.d, count(DISTINCT x.person) AS people, sum(x.pid IS NULL) AS "
    "unkeyed FROM ac LEFT JOIN acc_person x ON x.pid = ac.id GROUP BY 1, 2), "
    "agg AS (SELECT h, d, count(*) AS n, min(ts) AS t1, max(ts) AS t2, sum(individuals) AS "
    "summed FROM ac GROUP BY 1, 2) "
    "SELECT u.host, u.destination, u.flows, u.bytes, u.first_ts, u.last_ts, u.protos, g.n, "
    "g.t1, g.t2, CASE WHEN w.people > 0 THEN w.people ELSE g.summed END, "
    "(SELECT group_concat(CASE s.source WHEN 'atna' THEN 'IHE ATNA audit' ELSE s.source || "
    "' log' END || ' ' || s.path || ' line(s) ' || s.l1 || '-' || s.l2 || ': ' || s.n || "
    "' record(s) (' || s.methods || ')', '; ') FROM src s WHERE s.h = u.host AND s.d = "
    "u.destination), "
    "json_object('host', u.host, 'patients', CASE WHEN w.people > 0 THEN w.people ELSE "
    "g.summed END, 'patients_distinct', w.people > 0, 'accesses', g.n, 'first_access_ts', "
    "g.t1, 'last_access_ts', g.t2, 'access_sources', (SELECT json_group_array(json_object("
    "'source', s.source, 'path', s.path, 'item', s.item_id, 'first_line', s.l1, 'last_line', "
    "s.l2, 'records', s.n, 'events', s.methods)) FROM src s WHERE s.h = u.host AND s.d = "
    "u.destination), 'flows', u.flows, 'bytes_out', u.bytes, 'first_upload_ts', u.first_ts, "
    "'window_s', ?1 / 1000000, 'destination_sources', pv.sources) "
    "FROM up u JOIN agg g ON g.h = u.host AND g.d = u.destination JOIN pv ON pv.outside = "
    "u.destination LEFT JOIN who w ON w.h = u.host AND w.d = u.destination WHERE pv.sources <= "
    "?2 OR EXISTS (SELECT 1 FROM finding n WHERE n.source = u.host AND n.destination = "
    "u.destination AND n.heuristic IN ('cloud_storage', 'beacon', 'dns_tunnel', "
    "'icmp_tunnel')) ORDER BY u.host, u.destination";

pt_status pt_q_accessup_uploads(struct pt_db *db, int64_t window_us, double rare_max,
                                void (*fn)(void *, const struct pt_q_access_upload *),
                                void *arg)
{
    struct pt_q *q;
    pt_status rc = pt_q_prepare(db, uploads_sql, &q);
    if (rc != PT_OK) {
        return rc;
    }
    pt_q_bind_int(q, 1, window_us);
    pt_q_bind_real(q, 2, rare_max);
    while (pt_q_step(q)) {
        struct pt_q_access_upload u = {
            .host = pt_q_text(q, 0), .destination = pt_q_text(q, 1), .flows = pt_q_int(q, 2),
            .bytes_out = pt_q_int(q, 3), .first_ts = pt_q_int(q, 4), .last_ts = pt_q_int(q, 5),
            .protocols = pt_q_text(q, 6), .accesses = pt_q_int(q, 7),
            .first_access = pt_q_int(q, 8), .last_access = pt_q_int(q, 9),
            .patients = pt_q_int(q, 10), .sources = pt_q_text(q, 11), .detail = pt_q_text(q, 12)};
        fn(arg, &u);
    }
    rc = pt_q_done(q);
    pt_q_free(q);
    if (rc != PT_OK) {
        return rc;
    }
    return pt_db_exec(pt_db_handle(db), "DROP TABLE IF EXISTS temp.acc_person", NULL, 0);
}

static const char likely_sql[] =
    "UPDATE exfil_event SET verdict = CASE verdict WHEN 'possible' THEN 'likely' ELSE verdict "
    "END, reasons = json_set(reasons, '$.phi_accessed', "
    "(SELECT json_group_array(json_object('finding', n.id, 'patients', json_extract(n.detail, "
    "'$.patients'), 'patients_distinct', json_extract(n.detail, '$.patients_distinct'), "
    "'access_sources', json_extract(n.detail, '$.access_sources'))) FROM json_each("
    "exfil_event.reasons, '$.findings') k JOIN finding n ON n.id = k.value WHERE n.heuristic = "
    "'phi_access_upload')) WHERE EXISTS (SELECT 1 FROM json_each("
    "exfil_event.reasons, '$.findings') k JOIN finding n ON n.id = k.value WHERE n.heuristic = "
    "'phi_access_upload');"
    "UPDATE verdict SET verdict = 'likely' WHERE verdict = 'possible' AND ((scope = "
    "'destination' AND subject IN (SELECT destination FROM exfil_event WHERE verdict = "
    "'likely')) OR (scope = 'overall' AND EXISTS (SELECT 1 FROM exfil_event WHERE verdict = "
    "'likely')));";

pt_status pt_q_accessup_likely(struct pt_db *db, char *err, size_t errlen)
{
    return pt_db_exec(pt_db_handle(db), likely_sql, err, errlen);
}
