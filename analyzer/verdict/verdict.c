/*
 * verdict.c - the verdict stage (see verdict.h): the heuristics of heuristics.def in their
 * order, then events, coverage, limitations and the timeline, in one transaction.
 * Thresholds: signatures/heuristics.conf (each with its source).
 *
 * Every heuristic reads aggregates of the database and writes `finding` rows with the
 * evidence they rest on (flow ids, object hashes, DNS names); nothing here reads evidence
 * files, so the same case gives the same verdict on every run. One file per heuristic
 * family (heur_*.c), events.c, limitations.c, timeline.c, config.c.
 */
#include "verdict.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/db.h"
#include "../store/db_handle.h"
#include "../store/q_staging.h"
#include "verdict_int.h"

/* ---- the heuristic table ---------------------------------------------------------------- */

static const struct pt_heur_info heuristics[PT_HEUR_COUNT] = {
#define PT_HEURISTIC_FAMILY(family)
#define PT_HEURISTIC(id, name, role, bytes, mark)                                                  \
    [PT_HEUR_##id] = {name, PT_HEUR_ROLE_##role, PT_HEUR_##bytes, PT_HEUR_MARK_##mark},
#define PT_THRESHOLD(key)
#define PT_HEUR_COUNTS true
#define PT_HEUR_NOBYTES false
#include "heuristics.def"
#undef PT_HEURISTIC_FAMILY
#undef PT_HEURISTIC
#undef PT_THRESHOLD
#undef PT_HEUR_COUNTS
#undef PT_HEUR_NOBYTES
};

const struct pt_heur_info *pt_heur_info(enum pt_heur h)
{
    return &heuristics[(unsigned)h < PT_HEUR_COUNT ? h : 0];
}

/* ---- helpers ---------------------------------------------------------------------------- */

const char *pt_verdict_name(enum pt_verdict_level v)
{
    static const char *const n[] = {"not observed", "possible", "likely", "confirmed"};
    return v <= PT_VERDICT_CONFIRMED ? n[v] : "?";
}

int pt_verdict_parse(const char *s)
{
    if (strcmp(s, "confirmed") == 0) {
        return PT_VERDICT_CONFIRMED;
    }
    if (strcmp(s, "likely") == 0) {
        return PT_VERDICT_LIKELY;
    }
    if (strcmp(s, "possible") == 0) {
        return PT_VERDICT_POSSIBLE;
    }
    if (strcmp(s, "not-observed") == 0 || strcmp(s, "not observed") == 0) {
        return PT_VERDICT_NOT_OBSERVED;
    }
    return -1;
}

static const char *severity(double score)
{
    return score > 0.8    ? "critical"
           : score >= 0.6 ? "high"
           : score >= 0.4 ? "medium"
           : score >= 0.2 ? "low"
                          : "info";
}

void pt_verdict_finding(struct pt_verdict_ctx *x, enum pt_heur h, const char *src, const char *dst,
                        const char *proto, int64_t first, int64_t last, int64_t bytes, double score,
                        const char *summary, const char *detail, const char *evidence)
{
    if (x->rc != PT_OK) {
        return;
    }
    sqlite3_stmt *st = x->ins;
    sqlite3_bind_text(st, 1, pt_heur_info(h)->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, src ? src : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, dst ? dst : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, proto ? proto : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, first);
    sqlite3_bind_int64(st, 6, last);
    sqlite3_bind_int64(st, 7, bytes);
    sqlite3_bind_double(st, 8, round(score * 1000) / 1000);
    sqlite3_bind_text(st, 9, severity(score), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, summary, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 11, detail ? detail : "{}", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 12, evidence ? evidence : "{}", -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) {
        x->rc = PT_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    x->findings++;
}

/* ---- the sources each finding rests on -------------------------------------------------- */

/* detail.sources of every finding whose rows can be named: the flows of its pair (either
 * direction) as the capture and each log saw them (flow.source, flow_source.source), the DNS
 * queries of a tunnel (captured ones, log ones), a log's PHI access lines; and
 * detail.strongest_source, the one that saw most: a capture (content), then a sensor's log
 * (Zeek, Suricata: sessions), then a device's log (NetFlow, firewall, proxy: counts). */
static const char sources_sql[] =
    /* the flows of each finding's pair, either way round: one indexed lookup a direction
     * (the index is made here, once the flows are all written, not kept up while writing) */
    "CREATE INDEX IF NOT EXISTS flow_pair ON flow(client_addr, server_addr);"
    "CREATE TEMP TABLE fpair AS "
    "SELECT n.id, f.id AS fid, f.source AS src FROM finding n JOIN flow f ON f.client_addr = "
    "n.source AND f.server_addr = n.destination WHERE n.source != '' "
    "UNION ALL SELECT n.id, f.id, f.source FROM finding n JOIN flow f ON f.client_addr = "
    "n.destination AND f.server_addr = n.source WHERE n.source != '';"
    "CREATE TEMP TABLE fsrc AS "
    "SELECT id, src FROM fpair "
    "UNION SELECT p.id, s.source FROM fpair p JOIN flow_source s ON s.flow_id = p.fid "
    "UNION SELECT n.id, 'capture' FROM finding n WHERE n.heuristic = 'dns_tunnel' AND EXISTS "
    "(SELECT 1 FROM dns_query q JOIN flow f ON f.id = q.flow_id WHERE (f.client_addr = n.source "
    "OR f.server_addr = n.source) AND (q.qname = n.destination OR q.qname LIKE '%.' || "
    "replace(n.destination, '*', '%'))) "
    "UNION SELECT n.id, d.source FROM finding n JOIN log_dns d ON d.client_addr = n.source AND "
    "(d.query = n.destination OR d.query LIKE '%.' || replace(n.destination, '*', '%')) WHERE "
    "n.heuristic = 'dns_tunnel' "
    "UNION SELECT n.id, a.source FROM finding n JOIN phi_access a ON a.client = n.source WHERE "
    "n.heuristic = 'phi_access';"
    "CREATE INDEX temp.fsrc_id ON fsrc(id, src);" /* the UPDATE looks each finding up */
    "UPDATE finding SET detail = json_set(detail, '$.sources', (SELECT json_group_array(src) "
    "FROM (SELECT src FROM fsrc WHERE fsrc.id = finding.id ORDER BY src)), "
    "'$.strongest_source', (SELECT src FROM fsrc WHERE fsrc.id = finding.id ORDER BY CASE WHEN "
    "src = 'capture' THEN 0 WHEN src LIKE 'zeek%' OR src LIKE 'eve%' OR src LIKE 'suricata%' "
    "THEN 1 ELSE 2 END, src LIMIT 1)) WHERE id IN (SELECT id FROM fsrc);"
    "DROP TABLE fsrc; DROP TABLE fpair;";

/* ---- the stage -------------------------------------------------------------------------- */

pt_status pt_verdict_run(struct pt_db *db, const char *sig_dir, struct pt_verdict_result *res,
                         char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    struct pt_verdict_ctx *x = calloc(1, sizeof *x);
    if (x == NULL) {
        return PT_ENOMEM;
    }
    x->h = pt_db_handle(db);
    pt_status rc = pt_heur_conf_load(sig_dir, &x->c, err, errlen);
    if (rc != PT_OK) {
        free(x);
        return rc;
    }
    rc = pt_db_exec(x->h, "BEGIN", err, errlen);
    if (rc == PT_OK &&
        sqlite3_prepare_v2(x->h,
                           "INSERT INTO finding(heuristic, source, destination, protocol, "
                           "first_ts, last_ts, bytes_out, score, severity, summary, detail, "
                           "evidence) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                           -1, &x->ins, NULL) != SQLITE_OK) {
        rc = PT_EDB;
    }
    if (rc == PT_OK) {
#define PT_HEURISTIC_FAMILY(family) pt_heur_##family(x);
#define PT_HEURISTIC(id, name, role, bytes, mark)
#define PT_THRESHOLD(key)
#include "heuristics.def"
#undef PT_HEURISTIC_FAMILY
#undef PT_HEURISTIC
#undef PT_THRESHOLD
        rc = x->rc;
        if (rc != PT_OK) {
            snprintf(err, errlen, "heuristics: %s", sqlite3_errmsg(x->h));
        }
    }
    sqlite3_finalize(x->ins);
    if (rc == PT_OK) {
        rc = pt_db_exec(x->h, sources_sql, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_verdict_events(x, err, errlen);
    }
    if (rc == PT_OK) { /* heur_staging.c: staged on the host, then sent: "likely" */
        rc = pt_q_staging_likely(x->h, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_verdict_names(x, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_verdict_coverage(x, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_verdict_limitations(x, db, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_verdict_timeline(x, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_db_exec(x->h, "COMMIT", err, errlen);
    } else {
        pt_db_exec(x->h, "ROLLBACK", NULL, 0);
    }
    res->findings = x->findings;
    free(x);
    if (rc == PT_OK) {
        rc = pt_verdict_read(db, &res->overall);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT count(*) FROM exfil_event", -1, &st,
                               NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            res->events = (unsigned)sqlite3_column_int(st, 0);
        }
        sqlite3_finalize(st);
    }
    return rc;
}

pt_status pt_verdict_read(struct pt_db *db, enum pt_verdict_level *out)
{
    sqlite3_stmt *st = NULL;
    *out = PT_VERDICT_NOT_OBSERVED;
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT verdict FROM verdict WHERE scope = 'overall'",
                           -1, &st, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        int v = pt_verdict_parse(col(st, 0));
        *out = v < 0 ? PT_VERDICT_NOT_OBSERVED : (enum pt_verdict_level)v;
    }
    sqlite3_finalize(st);
    return PT_OK;
}
