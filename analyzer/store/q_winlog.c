/*
 * q_winlog.c - the Windows event log rows the logon and object-access heuristics weigh, and
 * the host each record is of (q_winlog.h). The SQL is here, in the open; the findings are
 * written by verdict/heur_logon_remote.c, heur_logon_guess.c, heur_logon_spray.c,
 * heur_logon_explicit.c, heur_file_access.c and heur_kerberoast.c.
 */
#include "q_winlog.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../core/addr.h"
#include "db.h"
#include "db_handle.h"
#include "q_report.h"
#include "q_stmt.h"

/* ---- the host of each record ---------------------------------------------------------------- */

/* the items of Windows records that name one computer, linked by the examiner */
static const char hosts_setup[] =
    "DROP TABLE IF EXISTS temp.winitem; DROP TABLE IF EXISTS temp.winhost;"
    "CREATE TEMP TABLE winitem AS SELECT i.item_id, i.addr, 'option' AS how FROM image_host i "
    "WHERE i.used = 1 AND i.item_id IN (SELECT item_id FROM log_winevent GROUP BY item_id HAVING "
    "count(DISTINCT lower(computer)) = 1);";

/* the ends of the filtering-platform connections of the other such items, the commonest first
 * (a tie: the one that opened more) */
static const char hosts_wfp[] =
    "SELECT item_id, a, count(*) AS n, sum(opened) AS o FROM (SELECT item_id, client_addr AS a, 1 "
    "AS opened FROM log_conn WHERE source LIKE 'evtx%' UNION ALL SELECT item_id, server_addr, 0 "
    "FROM log_conn WHERE source LIKE 'evtx%') WHERE item_id NOT IN (SELECT item_id FROM winitem) "
    "AND item_id IN (SELECT item_id FROM log_winevent GROUP BY item_id HAVING count(DISTINCT "
    "lower(computer)) = 1) GROUP BY 1, 2 ORDER BY 1, 3 DESC, 4 DESC, 2";

/* per computer: the examiner's link first, then the address most of its items give */
static const char hosts_make[] =
    "CREATE TEMP TABLE winhost AS SELECT comp AS computer, addr, how FROM (SELECT comp, addr, "
    "how, row_number() OVER (PARTITION BY comp ORDER BY how = 'option' DESC, n DESC, addr) AS k "
    "FROM (SELECT lower(w.computer) AS comp, i.addr, i.how, count(*) AS n FROM log_winevent w "
    "JOIN winitem i ON i.item_id = w.item_id WHERE coalesce(w.computer, '') != '' GROUP BY 1, 2, "
    "3)) WHERE k = 1; CREATE INDEX temp.winhost_c ON winhost(computer);";

static pt_status exec(sqlite3 *h, const char *sql)
{
    return sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

/* never a host's address on a network: loopback, link-local, unspecified */
#define NOT_A_HOST "127.0.0.0/8,::1/128,0.0.0.0/32,::/128,169.254.0.0/16,fe80::/10"

static pt_status wfp_hosts(sqlite3 *h, const struct pt_cidr_set *home,
                           const struct pt_cidr_set *local)
{
    sqlite3_stmt *q = NULL, *ins = NULL;
    if (sqlite3_prepare_v2(h, hosts_wfp, -1, &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "INSERT INTO winitem(item_id, addr, how) VALUES (?1, ?2, 'wfp')",
                           -1, &ins, NULL) != SQLITE_OK) {
        sqlite3_finalize(q);
        sqlite3_finalize(ins);
        return PT_EDB;
    }
    int64_t done = -1;
    int rc;
    pt_status st = PT_OK;
    while (st == PT_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t item = sqlite3_column_int64(q, 0);
        const char *a = (const char *)sqlite3_column_text(q, 1);
        struct pt_addr ad;
        if (item == done || a == NULL || !pt_addr_parse(a, &ad) ||
            !pt_cidr_set_contains(home, &ad) || pt_cidr_set_contains(local, &ad)) {
            continue;
        }
        done = item;
        sqlite3_bind_int64(ins, 1, item);
        sqlite3_bind_text(ins, 2, a, -1, SQLITE_TRANSIENT);
        st = sqlite3_step(ins) == SQLITE_DONE ? PT_OK : PT_EDB;
        sqlite3_reset(ins);
    }
    if (st == PT_OK && rc != SQLITE_DONE) {
        st = PT_EDB;
    }
    sqlite3_finalize(q);
    sqlite3_finalize(ins);
    return st;
}

pt_status pt_q_winlog_hosts(struct pt_db *db, const char *home)
{
    sqlite3 *h = pt_db_handle(db);
    struct pt_cidr_set set = {0}, local = {0};
    char err[200];
    if (pt_cidr_set_parse(home != NULL && home[0] != '\0' ? home : PT_HOME_NET_DEFAULT, &set,
                          err, sizeof err) != PT_OK) {
        pt_cidr_set_parse(PT_HOME_NET_DEFAULT, &set, err, sizeof err);
    }
    pt_status st = pt_cidr_set_parse(NOT_A_HOST, &local, err, sizeof err);
    if (st == PT_OK) {
        st = exec(h, hosts_setup);
    }
    if (st == PT_OK) {
        st = wfp_hosts(h, &set, &local);
    }
    if (st == PT_OK) {
        st = exec(h, hosts_make);
    }
    pt_cidr_set_fini(&set);
    pt_cidr_set_fini(&local);
    return st;
}

/* ---- the rows weighed ------------------------------------------------------------------------ */

#define HOST "LEFT JOIN winhost wh ON wh.computer = lower(w.computer) "

static const char remote_sql[] =
    "SELECT w.id, w.line, w.ts, coalesce(w.computer, ''), coalesce(wh.addr, ''), "
    "coalesce(w.target_user, ''), w.logon_type, w.client_addr, w.client_port, "
    "coalesce(w.workstation, ''), coalesce(w.auth_package, ''), coalesce(w.logon_id, ''), e.path, "
    "k.accounts FROM log_winevent w JOIN evidence_item e ON e.id = w.item_id " HOST
    "JOIN (SELECT lower(coalesce(computer, '')) AS comp, client_addr, logon_type, count(DISTINCT "
    "lower(coalesce(target_user, ''))) AS accounts FROM log_winevent WHERE kind = 'logon' AND "
    "logon_type IN (3, 10) GROUP BY 1, 2, 3) k ON k.comp = lower(coalesce(w.computer, '')) AND "
    "k.client_addr = w.client_addr AND k.logon_type = w.logon_type "
    "WHERE w.kind = 'logon' AND w.logon_type IN (3, 10) AND coalesce(w.client_addr, '') != '' "
    "ORDER BY lower(w.computer), w.client_addr, w.logon_type, w.ts, w.id";

/* The account of a row without its domain or realm, lower case ("HOSP\Admin", "admin" and
 * "admin@HOSP.LOCAL" are one account: 4625 names DOMAIN\user, 4771 the user alone, 4769
 * user@REALM) */
#define BARE_FROM(filter)                                                                      \
    "(SELECT *, CASE WHEN instr(b0, '@') > 0 THEN substr(b0, 1, instr(b0, '@') - 1) ELSE b0 "  \
    "END AS acct, lower(coalesce(computer, '')) AS comp, coalesce(nullif(client_addr, ''), "   \
    "lower(nullif(workstation, '')), '') AS src FROM (SELECT *, substr(lower(coalesce("        \
    "target_user, '')), instr(coalesce(target_user, ''), '\\') + 1) AS b0 FROM log_winevent "  \
    "WHERE ts IS NOT NULL AND (" filter "))) "

/* The failed authentications (4625; Kerberos 4771 and 4768 with a result code of a refused
 * credential: 0x18 bad password, 0x12 disabled, expired or locked out, 0x6 no such name) and
 * the successes (4624; 4768 with 0x0, a TGT granted), by source (the client address, else the
 * workstation) and account; computer accounts (ending in $) are not people guessing. */
static const char guess_setup[] =
    "DROP TABLE IF EXISTS temp.wl_fail; DROP TABLE IF EXISTS temp.wl_ok;"
    "CREATE TEMP TABLE wl_fail AS SELECT id, line, ts, event_id, comp, src, acct FROM "
    BARE_FROM("kind = 'logon_failed' OR (event_id IN (4768, 4771) AND access IN ('0x6', "
              "'0x12', '0x18'))") "WHERE acct != '' AND acct NOT LIKE '%$';"
    "CREATE INDEX temp.wl_fail_k ON wl_fail(comp, src, ts);"
    "CREATE INDEX temp.wl_fail_s ON wl_fail(src, ts);"
    "CREATE TEMP TABLE wl_ok AS SELECT id, line, ts, computer, item_id, comp, src, acct, "
    "target_user, logon_type, auth_package, workstation, event_id FROM "
    BARE_FROM("kind = 'logon' OR (event_id = 4768 AND access = '0x0')")
    "WHERE src != '' AND acct != '' AND acct NOT LIKE '%$';";

/* The failures from h's source in the W seconds before it (on any computer) */
#define SPRAY_WINDOW(h, W)                                                                     \
    "f.src = " h ".src AND f.ts BETWEEN " h ".ts - " W " * 1000000 AND " h ".ts"
/* Success h follows a spray: at least A distinct accounts failed from its source in the W
 * seconds before it, its own among them */
#define SPRAYED(h, A, W)                                                                       \
    "((SELECT count(DISTINCT f.acct) FROM wl_fail f WHERE " SPRAY_WINDOW(h, W) ") >= " A        \
    " AND EXISTS (SELECT 1 FROM wl_fail f WHERE f.acct = " h ".acct AND " SPRAY_WINDOW(h, W)    \
    "))"

#define BEFORE "f.comp = h.comp AND f.src = h.src AND f.ts BETWEEN h.ts - ?2 * 1000000 AND h.ts"

/* ?1 failures, ?2 seconds on one computer; ?3 accounts, ?4 seconds: a spray, not guessing */
static const char guess_sql[] =
    "WITH c AS (SELECT s.*, (SELECT count(*) FROM wl_fail f WHERE f.comp = s.comp AND f.src = "
    "s.src AND f.ts BETWEEN s.ts - ?2 * 1000000 AND s.ts) AS fails FROM wl_ok s), "
    "g AS (SELECT c.*, row_number() OVER (PARTITION BY comp, src, acct ORDER BY ts, id) AS k "
    "FROM c WHERE fails >= ?1 AND EXISTS (SELECT 1 FROM wl_fail f WHERE f.comp = c.comp AND "
    "f.src = c.src AND f.acct = c.acct AND f.ts BETWEEN c.ts - ?2 * 1000000 AND c.ts) AND NOT "
    SPRAYED("c", "?3", "?4") ") "
    "SELECT h.id, h.line, h.ts, coalesce(h.computer, ''), coalesce(wh.addr, ''), "
    "coalesce(h.target_user, ''), h.logon_type, h.src, h.fails, (SELECT count(DISTINCT f.acct) "
    "FROM wl_fail f WHERE " BEFORE "), (SELECT min(f.ts) FROM wl_fail f WHERE " BEFORE "), "
    "(SELECT json_group_array(line) FROM (SELECT f.line FROM wl_fail f WHERE " BEFORE
    " ORDER BY f.ts, f.id LIMIT 50)), (SELECT json_group_array(id) FROM (SELECT f.id FROM "
    "wl_fail f WHERE " BEFORE " ORDER BY f.ts, f.id LIMIT 50)), e.path, h.event_id, "
    "coalesce(h.auth_package, ''), coalesce(h.workstation, '') FROM g h JOIN "
    "evidence_item e ON e.id = h.item_id LEFT JOIN winhost wh ON wh.computer = h.comp WHERE "
    "h.k = 1 ORDER BY h.ts, h.id";

#define SPRAY_BEFORE SPRAY_WINDOW("h", "?2")

/* ?1 accounts, ?2 seconds, from one source on any computer */
static const char spray_sql[] =
    "WITH g AS (SELECT s.*, row_number() OVER (PARTITION BY src, acct ORDER BY ts, id) AS k "
    "FROM wl_ok s WHERE " SPRAYED("s", "?1", "?2") ") "
    "SELECT h.id, h.line, h.ts, coalesce(h.computer, ''), coalesce(wh.addr, ''), "
    "coalesce(h.target_user, ''), h.logon_type, h.src, (SELECT count(*) FROM wl_fail f WHERE "
    SPRAY_BEFORE "), (SELECT count(DISTINCT f.acct) FROM wl_fail f WHERE " SPRAY_BEFORE "), "
    "(SELECT min(f.ts) FROM wl_fail f WHERE " SPRAY_BEFORE "), (SELECT json_group_array(line) "
    "FROM (SELECT f.line FROM wl_fail f WHERE " SPRAY_BEFORE " ORDER BY f.ts, f.id LIMIT 50)), "
    "(SELECT json_group_array(id) FROM (SELECT f.id FROM wl_fail f WHERE " SPRAY_BEFORE
    " ORDER BY f.ts, f.id LIMIT 50)), e.path, h.event_id, (SELECT count(*) FROM wl_fail f WHERE "
    SPRAY_BEFORE " AND f.event_id != 4625), (SELECT json_group_array(acct) FROM (SELECT "
    "DISTINCT f.acct FROM wl_fail f WHERE " SPRAY_BEFORE " ORDER BY 1 LIMIT 20)), (SELECT "
    "count(DISTINCT f.comp) FROM wl_fail f WHERE " SPRAY_BEFORE ") FROM g h JOIN "
    "evidence_item e ON e.id = h.item_id LEFT JOIN winhost wh ON wh.computer = h.comp WHERE "
    "h.k = 1 ORDER BY h.ts, h.id";

/* Weak service tickets (q_winlog.h, PT_QW_KERBEROAST): 4769 granted in DES (0x1, 0x3) or
 * RC4 (0x17, 0x18), not for krbtgt or a computer account, not to a computer account */
static const char roast_setup[] =
    "DROP TABLE IF EXISTS temp.wl_tgs;"
    "CREATE TEMP TABLE wl_tgs AS SELECT id, line, ts, computer, item_id, comp, src, acct, "
    "target_user, ticket_enc, lower(target_server) AS svc FROM "
    BARE_FROM("event_id = 4769 AND access = '0x0' AND ticket_enc IN ('0x1', '0x3', '0x17', "
              "'0x18')")
    "WHERE acct != '' AND acct NOT LIKE '%$' AND coalesce(target_server, '') != '' AND "
    "target_server NOT LIKE '%$' AND lower(target_server) != 'krbtgt' AND "
    "lower(target_server) NOT LIKE 'krbtgt/%';"
    "CREATE INDEX temp.wl_tgs_k ON wl_tgs(acct, src, ts);";

/* the pair's requests in the window up to h, and those of the window from its first (f0) */
#define ROAST_BEFORE                                                                           \
    "f.acct = h.acct AND f.src = h.src AND f.ts BETWEEN h.ts - ?2 * 1000000 AND h.ts"
#define ROAST_IN                                                                               \
    "f.acct = h.acct AND f.src = h.src AND f.ts BETWEEN h.f0 AND h.f0 + ?2 * 1000000"

/* ?1 services, ?2 seconds, one account from one source: the first request that makes ?1
 * services in the ?2 s up to it; the finding holds the ?2 s from the first of those */
static const char roast_sql[] =
    "WITH c AS (SELECT t.*, (SELECT count(DISTINCT f.svc) FROM wl_tgs f WHERE f.acct = t.acct "
    "AND f.src = t.src AND f.ts BETWEEN t.ts - ?2 * 1000000 AND t.ts) AS svcs FROM wl_tgs t), "
    "g AS (SELECT c.*, row_number() OVER (PARTITION BY acct, src ORDER BY ts, id) AS k FROM c "
    "WHERE svcs >= ?1), "
    "w AS (SELECT h.*, (SELECT min(f.ts) FROM wl_tgs f WHERE " ROAST_BEFORE ") AS f0 FROM g h "
    "WHERE h.k = 1) "
    "SELECT h.id, h.line, h.ts, coalesce(h.computer, ''), coalesce(wh.addr, ''), "
    "coalesce(h.target_user, ''), (SELECT max(f.ts) FROM wl_tgs f WHERE " ROAST_IN "), h.src, "
    "(SELECT count(*) FROM wl_tgs f WHERE " ROAST_IN "), (SELECT count(DISTINCT f.svc) FROM "
    "wl_tgs f WHERE " ROAST_IN "), h.f0, (SELECT json_group_array(line) FROM (SELECT f.line "
    "FROM wl_tgs f WHERE " ROAST_IN " ORDER BY f.ts, f.id LIMIT 50)), (SELECT "
    "json_group_array(id) FROM (SELECT f.id FROM wl_tgs f WHERE " ROAST_IN " ORDER BY f.ts, "
    "f.id LIMIT 50)), e.path, NULL, (SELECT group_concat(t, ',') FROM (SELECT DISTINCT "
    "f.ticket_enc AS t FROM wl_tgs f WHERE " ROAST_IN " ORDER BY 1)), (SELECT "
    "json_group_array(svc) FROM (SELECT DISTINCT f.svc FROM wl_tgs f WHERE " ROAST_IN
    " ORDER BY 1 LIMIT 20)), (SELECT count(DISTINCT f.comp) FROM wl_tgs f WHERE " ROAST_IN "), "
    "(SELECT count(*) FROM wl_tgs f WHERE f.acct = h.acct AND f.src = h.src) FROM w h JOIN "
    "evidence_item e ON e.id = h.item_id LEFT JOIN winhost wh ON wh.computer = h.comp "
    "ORDER BY h.ts, h.id";

/* 4648 toward a server that is not this computer (its name or first label) nor loopback */
static const char explicit_sql[] =
    "SELECT w.id, w.line, w.ts, coalesce(w.computer, ''), coalesce(wh.addr, ''), "
    "coalesce(w.subject_user, ''), coalesce(w.target_user, ''), w.target_server, "
    "coalesce(w.client_addr, ''), coalesce(w.process, ''), e.path, coalesce(w.logon_id, '') "
    "FROM log_winevent w JOIN evidence_item e ON e.id = w.item_id " HOST
    "WHERE w.kind = 'explicit_logon' AND coalesce(w.target_server, '') != '' AND "
    "lower(w.target_server) NOT IN ('localhost', '127.0.0.1', '::1', lower(coalesce(w.computer, "
    "'')), lower(substr(w.computer, 1, instr(w.computer || '.', '.') - 1))) AND "
    "coalesce(w.client_addr, '') NOT IN ('127.0.0.1', '::1') "
    "ORDER BY lower(w.computer), lower(w.subject_user), lower(w.target_user), "
    "lower(w.target_server), w.ts, w.id";

/* 4663 and the PHI-bearing file of a disk image each names: by the path's tail (the path on
 * the image, from its root, ends the Windows path without its drive), else by file name */
static const char access_sql[] =
    "WITH pf AS (SELECT d.item_id, d.path, d.size, p.individuals, p.id AS pid, '/' || "
    "ltrim(lower(replace(d.path, '\\', '/')), '/') AS dp FROM disk_file d JOIN phi_object p ON "
    PHI_OBJECT_OF("p", "d.sha256") " WHERE p.phi_hits > 0 AND d.kind = 'r' AND d.state != 'slack'), "
    "pfn AS (SELECT pf.*, replace(dp, rtrim(dp, replace(dp, '/', '')), '') AS base FROM pf), "
    "a AS (SELECT w.id, lower(replace(w.object, '\\', '/')) AS np0 FROM log_winevent w WHERE "
    "w.kind = 'object_access' AND coalesce(w.object, '') != ''), "
    "b AS (SELECT id, CASE WHEN substr(np0, 2, 1) = ':' THEN substr(np0, 3) ELSE np0 END AS np "
    "FROM a), "
    "c AS (SELECT id, np, replace(np, rtrim(np, replace(np, '/', '')), '') AS nbase FROM b), "
    "m AS (SELECT c.id AS wid, CASE WHEN substr(c.np, -length(f.dp)) = f.dp THEN 'path' ELSE "
    "'name' END AS how, f.*, row_number() OVER (PARTITION BY c.id ORDER BY substr(c.np, "
    "-length(f.dp)) = f.dp DESC, length(f.dp) DESC, f.item_id, f.path) AS k FROM c JOIN pfn f "
    "ON f.base = c.nbase) "
    "SELECT w.id, w.line, w.ts, coalesce(w.computer, ''), coalesce(wh.addr, ''), "
    "coalesce(w.subject_user, ''), coalesce(w.process, ''), w.object, coalesce(w.access, ''), "
    "w.item_id, e.path, m.how, ie.path, m.path, m.size, m.individuals, (SELECT "
    "group_concat(type) FROM (SELECT DISTINCT t.type FROM phi_object_type t WHERE t.object_id = "
    "m.pid AND t.phi_class = 'PHI' ORDER BY 1)) FROM log_winevent w JOIN evidence_item e ON "
    "e.id = w.item_id " HOST "LEFT JOIN m ON m.wid = w.id AND m.k = 1 LEFT JOIN evidence_item ie "
    "ON ie.id = m.item_id WHERE w.kind = 'object_access' AND coalesce(w.object, '') != '' "
    "ORDER BY lower(w.computer), lower(w.subject_user), lower(w.object), w.ts, w.id";

static const struct {
    const char *setup, *sql;
} queries[PT_QW_COUNT] = {
    [PT_QW_REMOTE_LOGONS] = {NULL, remote_sql},
    [PT_QW_GUESSED_LOGONS] = {guess_setup, guess_sql},
    [PT_QW_SPRAYED_LOGONS] = {guess_setup, spray_sql},
    [PT_QW_EXPLICIT_LOGONS] = {NULL, explicit_sql},
    [PT_QW_FILE_ACCESS] = {NULL, access_sql},
    [PT_QW_KERBEROAST] = {roast_setup, roast_sql},
};

pt_status pt_q_winlog_rows(struct pt_db *db, enum pt_q_winlog q, const double *p, size_t np,
                           void (*fn)(void *arg, const struct pt_q_winrow *r), void *arg)
{
    sqlite3 *h = pt_db_handle(db);
    struct pt_q *st = NULL;
    if ((unsigned)q >= PT_QW_COUNT ||
        (queries[q].setup != NULL && exec(h, queries[q].setup) != PT_OK) ||
        pt_q_prepare(db, queries[q].sql, &st) != PT_OK) {
        return PT_EDB;
    }
    for (size_t i = 0; i < np; i++) {
        pt_q_bind_real(st, (int)i + 1, p[i]);
    }
    int n = pt_q_columns(st);
    while (pt_q_step(st)) {
        struct pt_q_winrow r;
        for (int i = 0; i < PT_QW_COLS; i++) {
            bool null = i >= n || pt_q_is_null(st, i);
            r.s[i] = null ? "" : pt_q_text(st, i);
            r.v[i] = null ? -1 : pt_q_int(st, i);
        }
        fn(arg, &r);
    }
    pt_status rc = pt_q_done(st);
    pt_q_free(st);
    if (queries[q].setup != NULL && strstr(queries[q].setup, "wl_fail") != NULL) {
        exec(h, "DROP TABLE IF EXISTS temp.wl_fail; DROP TABLE IF EXISTS temp.wl_ok");
    }
    if (queries[q].setup != NULL && strstr(queries[q].setup, "wl_tgs") != NULL) {
        exec(h, "DROP TABLE IF EXISTS temp.wl_tgs");
    }
    return rc;
}

pt_status pt_q_winlog_phi_access(struct pt_db *db, const struct pt_q_winaccess *a)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "INSERT INTO phi_access(item_id, line, ts, client, server, host, "
                              "method, status, resp_bytes, source, phi_types, hits, "
                              "individuals) VALUES (?1, ?2, ?3, ?4, '', ?5, ?6, NULL, ?7, "
                              "'evtx', ?8, ?9, ?10)",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return PT_EDB;
    }
    sqlite3_bind_int64(st, 1, a->item_id);
    sqlite3_bind_int64(st, 2, a->line);
    if (a->ts >= 0) {
        sqlite3_bind_int64(st, 3, a->ts);
    }
    sqlite3_bind_text(st, 4, a->client, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, a->computer, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, a->method, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, a->bytes > 0 ? a->bytes : 0);
    sqlite3_bind_text(st, 8, a->phi_types, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 9, a->hits > 0 ? a->hits : 0);
    sqlite3_bind_int64(st, 10, a->individuals > 0 ? a->individuals : 0);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}
