/*
 * events.c - exfiltration events per (inside host, destination) from the findings,
 * with the event rules of heuristics.def, and the verdict per destination and overall.
 */
#include <stdbool.h>
#include <stdio.h>

#include "../store/db.h"
#include "flow_sql.h"
#include "verdict_int.h"

/* Exfiltration-shaped findings per pair, with the roles of heuristics.def: the lists of
 * heuristic names (%s) are, in order, those whose bytes count, PHI_LEFT, TUNNEL, BEACON and
 * CLOUD marks, EVENT or SUPPORT roles, EVENT role. */
static const char ev_sql[] =
    "CREATE TEMP TABLE ev AS SELECT source, destination, group_concat(DISTINCT heuristic) AS "
    "heuristics, group_concat(DISTINCT protocol) AS protocols, min(first_ts) AS first_ts, "
    "max(last_ts) AS last_ts, max(CASE WHEN heuristic IN (%s) THEN bytes_out ELSE 0 END) AS "
    "bytes_out, json_group_array(id) AS finding_ids, max(heuristic IN (%s)) AS phi_left, "
    "max(heuristic IN (%s)) AS tunnel, max(heuristic IN (%s)) AS beacon, max(heuristic IN (%s)) "
    "AS cloud FROM finding WHERE destination != '' AND heuristic IN (%s) GROUP BY source, "
    "destination HAVING max(heuristic IN (%s)) = 1;";

enum pick { BYTES, PHI_LEFT, TUNNEL, BEACON, CLOUD, SHAPED, EVENT, NPICK };

static bool picked(const struct pt_heur_info *i, enum pick p)
{
    switch (p) {
        case BYTES: return i->bytes;
        case PHI_LEFT: return i->mark == PT_HEUR_MARK_PHI_LEFT;
        case TUNNEL: return i->mark == PT_HEUR_MARK_TUNNEL;
        case BEACON: return i->mark == PT_HEUR_MARK_BEACON;
        case CLOUD: return i->mark == PT_HEUR_MARK_CLOUD;
        case SHAPED: return i->role != PT_HEUR_ROLE_ALONE;
        case EVENT: return i->role == PT_HEUR_ROLE_EVENT;
        case NPICK: break;
    }
    return false;
}

/* 'a','b',...: the names of the heuristics p picks, for an IN list ("NULL" when none). */
static void names(char *out, size_t len, enum pick p)
{
    size_t k = 0;
    out[0] = '\0';
    for (int h = 0; h < PT_HEUR_COUNT; h++) {
        const struct pt_heur_info *i = pt_heur_info((enum pt_heur)h);
        if (picked(i, p) && k < len) {
            k += (size_t)snprintf(out + k, len - k, "%s'%s'", k ? "," : "", i->name);
        }
    }
    if (k == 0) {
        snprintf(out, len, "NULL");
    }
}

static pt_status exfil_shaped(struct pt_verdict_ctx *x, char *err, size_t errlen)
{
    char l[NPICK][512];
    for (int p = 0; p < NPICK; p++) {
        names(l[p], sizeof l[p], (enum pick)p);
    }
    char sql[sizeof ev_sql + sizeof l];
    snprintf(sql, sizeof sql, ev_sql, l[BYTES], l[PHI_LEFT], l[TUNNEL], l[BEACON], l[CLOUD],
             l[SHAPED], l[EVENT]);
    return pt_db_exec(x->h, sql, err, errlen);
}

/* Events: one per (inside host, destination) with a finding that says "exfiltration
 * shape" or PHI leaving; supporting findings (ratio, after hours, yara, long connection to
 * a destination already in an event) add reasons. The verdict rules are SQL, in the open. */
static const char events_sql[] =
    /* PHI each host held: objects with PHI that it received, read or sent over any flow
     * (downloads, internal transfers, SMB reads and writes, uploads). Per host, so that PHI
     * one host read does not make another host's upload likely. Files at rest belong to no
     * host here. Requests a web or proxy log shows naming patients (phi_access) count with
     * the bytes their responses carried, keyed "log:<item>:<line>". */
    "CREATE TEMP TABLE staged AS SELECT host, sum(size) AS bytes, count(*) AS objects, "
    "min(ts) AS first_ts, json_group_array(sha256) AS objects_json FROM (SELECT host, sha256, "
    "max(size) AS size, min(ts) AS ts FROM (SELECT f.client_addr AS host, o.sha256, o.size, "
    "o.ts FROM object o JOIN flow f ON f.id = o.flow_id JOIN phi_object p ON p.object_sha256 = "
    "o.sha256 WHERE p.phi_hits > 0 UNION ALL SELECT f.server_addr, o.sha256, o.size, o.ts FROM "
    "object o JOIN flow f ON f.id = o.flow_id JOIN phi_object p ON p.object_sha256 = o.sha256 "
    "WHERE p.phi_hits > 0 UNION ALL SELECT client, 'log:' || item_id || ':' || line, "
    "resp_bytes, ts FROM phi_access) GROUP BY host, sha256 ORDER BY host, sha256) GROUP BY host;"
    /* encrypted bytes out per pair (TLS, SSH, unknown streams) */
    "CREATE TEMP TABLE enc AS SELECT inside AS source, outside AS destination, sum(bytes_out) AS "
    "bytes FROM crossing_flow WHERE unread GROUP BY 1, 2;"
    /* how many inside hosts talked to each destination */
    "CREATE TEMP TABLE prevalence AS SELECT outside AS destination, count(DISTINCT inside) AS "
    "sources FROM crossing_flow GROUP BY 1;"
    /* all bytes an inside host sent to an outside address */
    "CREATE TEMP TABLE pairbytes AS SELECT inside AS source, outside AS destination, "
    "sum(bytes_out) AS bytes FROM crossing_flow GROUP BY 1, 2;";

/* Encrypted (TLS, SSH) and undecoded TCP channels between inside and outside addresses, per
 * source, destination, protocol and what names the far end (SNI, SSH software): where PHI
 * may have left unseen, for the reports. Bytes are those sent from inside. */
static const char channels_sql[] =
    "INSERT INTO encrypted_channel(source, destination, protocol, name, connections, bytes_out, "
    "first_ts, last_ts) SELECT f.inside AS source, f.outside AS destination, coalesce(f.app, "
    "'tcp') AS protocol, coalesce(t.sni, CASE WHEN s.flow_id IS NOT NULL THEN 'client ' || "
    "coalesce(s.client_version, '?') || ', server ' || coalesce(s.server_version, '?') END, '') "
    "AS name, count(*), sum(f.bytes_out) AS sent, min(f.first_ts), max(f.last_ts) FROM "
    "crossing_flow f LEFT JOIN tls_session t ON t.flow_id = f.id LEFT JOIN ssh_session s ON "
    "s.flow_id = f.id WHERE f.unread GROUP BY 1, 2, 3, 4 ORDER BY sent DESC, 1, 2, 3, 4;";

pt_status pt_verdict_events(struct pt_verdict_ctx *x, char *err, size_t errlen)
{
    PT_TRY(pt_db_exec(x->h, channels_sql, err, errlen));
    PT_TRY(exfil_shaped(x, err, errlen));
    PT_TRY(pt_db_exec(x->h, events_sql, err, errlen));
    /* what was uploaded where, once, instead of a correlated query per event */
    PT_TRY(
        pt_db_exec(x->h,
                   "CREATE TEMP TABLE upl AS SELECT " OBJ_SOURCE_SQL " AS source, " OBJ_DEST_SQL
                   " AS destination, o.sha256 AS sha256, coalesce(p.phi_hits, 0) > 0 AS phi "
                   "FROM object o JOIN flow f ON f.id = o.flow_id LEFT JOIN phi_object p ON "
                   "p.object_sha256 = o.sha256 WHERE o.direction = 'upload';"
                   /* per pair: objects, PHI objects, PHI types (sorted), individuals; joined
                    * from grouped subqueries, not correlated ones (one pass each) */
                   "CREATE TEMP TABLE upl_agg AS SELECT a.source, a.destination, a.objects, "
                   "a.phi_objects, t.phi_types, coalesce(i.individuals, 0) AS individuals FROM "
                   "(SELECT source, destination, count(DISTINCT sha256) AS objects, count("
                   "DISTINCT CASE WHEN phi THEN sha256 END) AS phi_objects FROM upl GROUP BY "
                   "source, destination) a LEFT JOIN (SELECT source, destination, group_concat("
                   "type) AS phi_types FROM (SELECT DISTINCT v.source, v.destination, h.type FROM "
                   "upl v JOIN phi_hit h ON h.object_sha256 = v.sha256 WHERE v.phi AND "
                   "h.phi_class = 'PHI' ORDER BY 1, 2, 3) GROUP BY source, destination) t ON "
                   "t.source = a.source AND t.destination = a.destination LEFT JOIN (SELECT "
                   "v.source, v.destination, count(DISTINCT r.entity_id) AS individuals FROM upl "
                   "v JOIN phi_record r ON r.object_sha256 = v.sha256 WHERE v.phi AND "
                   "r.entity_id IS NOT NULL GROUP BY v.source, v.destination) i ON i.source = "
                   "a.source AND i.destination = a.destination;",
                   err, errlen));
    char sql[6144];
    snprintf(sql, sizeof sql,
             "INSERT INTO exfil_event(source, destination, protocols, first_ts, last_ts, "
             "bytes_out, objects, phi_objects, phi_types, individuals, verdict, reasons) "
             "SELECT e.source, e.destination, e.protocols, e.first_ts, e.last_ts, "
             "max(e.bytes_out, coalesce(enc.bytes, 0), coalesce(pb.bytes, 0)), "
             "coalesce(ua.objects, 0), "
             "coalesce(ua.phi_objects, 0), ua.phi_types, coalesce(ua.individuals, 0), "
             "CASE WHEN e.phi_left THEN 'confirmed' "
             "WHEN coalesce(s.bytes, 0) > 0 AND (e.tunnel OR coalesce(enc.bytes, 0) > 0) AND "
             "max(e.bytes_out, coalesce(enc.bytes, 0)) >= %.6f * s.bytes AND (e.tunnel OR e.beacon "
             "OR coalesce(pv.sources, 1) <= %.0f OR e.cloud) "
             "AND e.last_ts >= s.first_ts THEN 'likely' ELSE 'possible' END, "
             "json_object('findings', json(e.finding_ids), 'heuristics', e.heuristics, "
             "'encrypted_bytes_out', coalesce(enc.bytes, 0), 'phi_staged_bytes', "
             "coalesce(s.bytes, 0), 'phi_staged_objects', json(coalesce(s.objects_json, '[]')), "
             "'destination_sources', coalesce(pv.sources, 0), 'sources', (SELECT "
             "json_group_array(v) FROM (SELECT DISTINCT j.value AS v FROM json_each(e.finding_ids) "
             "k JOIN finding n ON n.id = k.value, json_each(n.detail, '$.sources') j ORDER BY 1)), "
             "'strongest_source', (SELECT j.value FROM json_each(e.finding_ids) k JOIN finding n "
             "ON n.id = k.value, json_each(n.detail, '$.sources') j ORDER BY CASE WHEN j.value = "
             "'capture' THEN 0 WHEN substr(j.value, 1, 4) = 'zeek' OR substr(j.value, 1, 3) = "
             "'eve' OR substr(j.value, 1, 8) = 'suricata' THEN 1 ELSE 2 END, j.value LIMIT 1)) "
             "FROM ev e LEFT JOIN staged s ON s.host = e.source LEFT JOIN enc ON enc.source = "
             "e.source AND "
             "enc.destination = e.destination LEFT JOIN prevalence pv ON pv.destination = "
             "e.destination LEFT JOIN upl_agg ua ON ua.source = e.source AND ua.destination = "
             "e.destination LEFT JOIN pairbytes pb ON pb.source = e.source AND pb.destination = "
             "e.destination ORDER BY e.first_ts, e.source, e.destination",
             x->c.likely_volume_ratio, x->c.rare_max_sources);
    PT_TRY(pt_db_exec(x->h, sql, err, errlen));
    /* DNS tunnel destinations are domains: the flow sub-selects found nothing, which is
     * right (no object can travel in DNS labels); verdict per destination and overall */
    PT_TRY(
        pt_db_exec(x->h,
                   "INSERT INTO verdict(scope, subject, verdict, bytes_out, reasons) "
                   "SELECT 'destination', destination, CASE max(CASE verdict WHEN 'confirmed' "
                   "THEN 3 WHEN 'likely' THEN 2 ELSE 1 END) WHEN 3 THEN 'confirmed' WHEN 2 THEN "
                   "'likely' ELSE 'possible' END, sum(bytes_out), json_group_array(id) FROM "
                   "exfil_event GROUP BY destination ORDER BY destination;"
                   "INSERT INTO verdict(scope, subject, verdict, bytes_out, reasons) SELECT "
                   "'overall', '', coalesce((SELECT CASE max(CASE verdict WHEN 'confirmed' THEN 3 "
                   "WHEN 'likely' THEN 2 ELSE 1 END) WHEN 3 THEN 'confirmed' WHEN 2 THEN 'likely' "
                   "WHEN 1 THEN 'possible' END FROM exfil_event), 'not observed'), (SELECT "
                   "coalesce(sum(bytes_out), 0) FROM exfil_event), (SELECT json_group_array(id) "
                   "FROM exfil_event);"
                   "DROP TABLE ev; DROP TABLE staged; DROP TABLE enc; DROP TABLE prevalence; "
                   "DROP TABLE upl; DROP TABLE upl_agg; DROP TABLE pairbytes;",
                   err, errlen));
    return PT_OK;
}
