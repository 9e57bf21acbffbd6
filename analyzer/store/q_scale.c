/*
 * q_scale.c - the scale-out's reads and writes of case databases (see q_scale.h).
 */
#include "q_scale.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "../flow/flow.h"
#include "db.h"
#include "db_handle.h"

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static pt_status fail(sqlite3 *h, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(h));
    }
    return PT_EDB;
}

bool pt_q_manifest_get(struct pt_db *db, const char *key, char *out, size_t len)
{
    sqlite3_stmt *q = NULL;
    bool ok = false;
    out[0] = '\0';
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT value FROM run_manifest WHERE key = ?1", -1,
                           &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) {
            snprintf(out, len, "%s", col(q, 0));
            ok = true;
        }
    }
    sqlite3_finalize(q);
    return ok;
}

/* ---- a shard attached ---------------------------------------------------------------------- */

pt_status pt_q_shard_attach(struct pt_db *db, const char *dir, char *err, size_t errlen)
{
    sqlite3 *h = pt_db_handle(db);
    char path[4300];
    snprintf(path, sizeof path, "%s/evidence.db", dir);
    sqlite3_stmt *a = NULL;
    if (sqlite3_prepare_v2(h, "ATTACH ?1 AS shard", -1, &a, NULL) != SQLITE_OK) {
        return fail(h, err, errlen);
    }
    sqlite3_bind_text(a, 1, path, -1, SQLITE_STATIC);
    int arc = sqlite3_step(a);
    sqlite3_finalize(a);
    if (arc != SQLITE_DONE) {
        snprintf(err, errlen, "cannot open %.600s: %s", path, sqlite3_errmsg(h));
        return PT_EDB;
    }
    return PT_OK;
}

void pt_q_shard_detach(struct pt_db *db)
{
    pt_db_exec(pt_db_handle(db), "DETACH shard", NULL, 0);
}

pt_status pt_q_shard_begin(struct pt_db *db, char *err, size_t errlen)
{
    PT_TRY(pt_db_begin(db));
    return pt_db_exec(pt_db_handle(db), "PRAGMA defer_foreign_keys = ON", err, errlen);
}

bool pt_q_shard_item(struct pt_db *db, int64_t id, char *sha, size_t shalen, uint64_t *size)
{
    sqlite3_stmt *q = NULL;
    bool found = false;
    sha[0] = '\0';
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT sha256, size FROM shard.evidence_item "
                           "WHERE id = ?1", -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, id);
        if (sqlite3_step(q) == SQLITE_ROW) {
            snprintf(sha, shalen, "%s", col(q, 0));
            *size = (uint64_t)sqlite3_column_int64(q, 1);
            found = sqlite3_column_type(q, 0) != SQLITE_NULL;
        }
    }
    sqlite3_finalize(q);
    return found;
}

/* Columns holding an object(id) (q_links.h), and object's own id: copied shifted by the
 * merged case's largest object id before the copy, so every link still finds its object. */
static const struct {
    const char *table, *column;
} object_ids[] = {{"object_row", "id"},
                  {"hl7_message_row", "object_id"},
                  {"http_txn_row", "req_object"},
                  {"http_txn_row", "resp_object"}};

static bool is_object_id(const char *table, const char *column)
{
    for (size_t i = 0; i < sizeof object_ids / sizeof object_ids[0]; i++) {
        if (strcmp(table, object_ids[i].table) == 0 && strcmp(column, object_ids[i].column) == 0) {
            return true;
        }
    }
    return false;
}

/* Lookup tables (records.def's PT_LOOKUP: http_header, hl7_header; phi_type_class...): an
 * INTEGER PRIMARY KEY id and the other columns UNIQUE together. A row is its values: a
 * shard's rows are added where the merged case has not got them, and a column referencing
 * one (FOREIGN KEY) is copied as the id of the row with the same values here. */
#define LOOKUP_TABLES                                                                              \
    "SELECT t.name FROM main.sqlite_master t WHERE t.type = 'table' AND EXISTS (SELECT 1 FROM "   \
    "main.pragma_table_info(t.name) c WHERE c.name = 'id' AND c.pk = 1 AND upper(c.type) = "     \
    "'INTEGER') AND EXISTS (SELECT 1 FROM main.pragma_index_list(t.name) x WHERE x.origin = "    \
    "'u' AND (SELECT count(*) FROM main.pragma_index_info(x.name)) + 1 = (SELECT count(*) FROM " \
    "main.pragma_table_info(t.name)))"

/* "m.a IS s.a AND m.b IS s.b ..." over lookup `table`'s value columns, into `out`. */
static pt_status lookup_match(sqlite3 *h, const char *table, char *out, size_t len)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(h, "SELECT name FROM main.pragma_table_info(?1) WHERE name != 'id' "
                           "ORDER BY cid", -1, &q, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    size_t used = 0;
    pt_status rc = PT_OK;
    out[0] = '\0';
    while (rc == PT_OK && sqlite3_step(q) == SQLITE_ROW) {
        int w = snprintf(out + used, len - used, "%sm.\"%s\" IS s.\"%s\"", used ? " AND " : "",
                         col(q, 0), col(q, 0));
        rc = w < 0 || (size_t)w >= len - used ? PT_ELIMIT : PT_OK;
        used += rc == PT_OK ? (size_t)w : 0;
    }
    sqlite3_finalize(q);
    return rc == PT_OK && used == 0 ? PT_EDB : rc;
}

/* The attached shard's lookup rows the merged case has not got, added in the shard's order. */
static pt_status merge_lookups(sqlite3 *h, char *err, size_t errlen)
{
    sqlite3_stmt *t = NULL;
    if (sqlite3_prepare_v2(h, LOOKUP_TABLES " ORDER BY t.name", -1, &t, NULL) != SQLITE_OK) {
        return fail(h, err, errlen);
    }
    pt_status rc = PT_OK;
    char match[2048], cols[2048], sql[8600];
    while (rc == PT_OK && sqlite3_step(t) == SQLITE_ROW) {
        const char *name = col(t, 0);
        sqlite3_stmt *c = NULL;
        size_t used = 0;
        rc = lookup_match(h, name, match, sizeof match);
        if (rc == PT_OK && sqlite3_prepare_v2(h, "SELECT group_concat('\"' || name || '\"', ', ') "
                                              "FROM main.pragma_table_info(?1) WHERE name != "
                                              "'id'", -1, &c, NULL) == SQLITE_OK) {
            sqlite3_bind_text(c, 1, name, -1, SQLITE_STATIC);
            used = sqlite3_step(c) == SQLITE_ROW ? (size_t)snprintf(cols, sizeof cols, "%s",
                                                                    col(c, 0)) : 0;
        }
        sqlite3_finalize(c);
        if (rc == PT_OK && (used == 0 || used >= sizeof cols)) {
            rc = PT_ELIMIT;
        }
        if (rc != PT_OK) {
            snprintf(err, errlen, "columns of %s", name);
            break;
        }
        snprintf(sql, sizeof sql, "INSERT INTO main.\"%s\"(%s) SELECT %s FROM shard.\"%s\" s "
                 "WHERE NOT EXISTS (SELECT 1 FROM main.\"%s\" m WHERE %s) ORDER BY s.id", name,
                 cols, cols, name, name, match);
        rc = pt_db_exec(h, sql, err, errlen);
    }
    sqlite3_finalize(t);
    return rc;
}

/* After a stitch: the lookup rows no row names any longer (a cut transaction's values that
 * the whole one has not) go, as a single run would not have written them. */
static pt_status prune_lookups(sqlite3 *h, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL;
    /* NOT IN a list holding a NULL is never true: the NULLs (no string) are left out */
    if (sqlite3_prepare_v2(h, "SELECT l.name, group_concat('SELECT \"' || f.\"from\" || '\" FROM "
                           "main.\"' || m.name || '\" WHERE \"' || f.\"from\" || '\" IS NOT "
                           "NULL', ' UNION ALL ') FROM (" LOOKUP_TABLES
                           ") l JOIN main.sqlite_master m ON m.type = 'table' JOIN "
                           "main.pragma_foreign_key_list(m.name) f ON f.\"table\" = l.name "
                           "GROUP BY l.name ORDER BY l.name", -1, &q, NULL) != SQLITE_OK) {
        return fail(h, err, errlen);
    }
    pt_status rc = PT_OK;
    while (rc == PT_OK && sqlite3_step(q) == SQLITE_ROW) {
        char *sql = sqlite3_mprintf("DELETE FROM main.\"%w\" WHERE id NOT IN (%s)", col(q, 0),
                                    col(q, 1));
        rc = sql == NULL ? PT_ENOMEM : pt_db_exec(h, sql, err, errlen);
        sqlite3_free(sql);
    }
    sqlite3_finalize(q);
    return rc;
}

/* "a, b, c" of `table`'s columns (the merged case's schema), without a rowid-alias id whose
 * values are new here, into `out`; into `sel` what is copied into them: the column, for an
 * object id the column plus `obj_off`, for the id of a lookup row the id of the same values
 * here. */
static pt_status columns(sqlite3 *h, const char *table, int64_t obj_off, char *out, char *sel,
                         size_t len)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(h, "SELECT c.name, c.pk, upper(c.type), (SELECT f.\"table\" FROM "
                           "main.pragma_foreign_key_list(?1) f WHERE f.\"from\" = c.name AND "
                           "f.\"table\" IN (" LOOKUP_TABLES ")) FROM main.pragma_table_info(?1) "
                           "c ORDER BY c.cid", -1, &q, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    size_t used = 0, sused = 0;
    out[0] = sel[0] = '\0';
    bool keep_id = strcmp(table, "evidence_item") == 0 || strcmp(table, "flow") == 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *name = col(q, 0);
        bool shift = is_object_id(table, name);
        if (!keep_id && !shift && sqlite3_column_int(q, 1) == 1 && strcmp(name, "id") == 0 &&
            strcmp(col(q, 2), "INTEGER") == 0) {
            continue;
        }
        int w = snprintf(out + used, len - used, "%s\"%s\"", used ? ", " : "", name);
        int v;
        char match[2048];
        if (sqlite3_column_type(q, 3) != SQLITE_NULL) {
            const char *look = col(q, 3);
            if (lookup_match(h, look, match, sizeof match) != PT_OK) {
                sqlite3_finalize(q);
                return PT_ELIMIT;
            }
            v = snprintf(sel + sused, len - sused, "%s(SELECT m.id FROM shard.\"%s\" s JOIN "
                         "main.\"%s\" m ON %s WHERE s.id = \"%s\")", sused ? ", " : "", look,
                         look, match, name);
        } else if (shift) {
            v = snprintf(sel + sused, len - sused, "%s\"%s\" + %lld", sused ? ", " : "", name,
                         (long long)obj_off);
        } else {
            v = snprintf(sel + sused, len - sused, "%s\"%s\"", sused ? ", " : "", name);
        }
        if (w < 0 || (size_t)w >= len - used || v < 0 || (size_t)v >= len - sused) {
            sqlite3_finalize(q);
            return PT_ELIMIT;
        }
        used += (size_t)w;
        sused += (size_t)v;
    }
    sqlite3_finalize(q);
    return used > 0 ? PT_OK : PT_EDB;
}

/* An item read in byte ranges has a row in each of its shards: one row, summed. */
static const char item_upsert[] =
    " ON CONFLICT(id) DO UPDATE SET size = size + excluded.size, packets = packets + "
    "excluded.packets, first_ts = coalesce(min(first_ts, excluded.first_ts), first_ts, "
    "excluded.first_ts), last_ts = coalesce(max(last_ts, excluded.last_ts), last_ts, "
    "excluded.last_ts), status = CASE WHEN status = 'ok' THEN excluded.status ELSE status END, "
    "error = coalesce(error, excluded.error), linktype = coalesce(linktype, excluded.linktype), "
    "linktype_name = coalesce(linktype_name, excluded.linktype_name), time_source = "
    "coalesce(time_source, excluded.time_source), sha256 = NULL";

/* A table without rowid (object_blob, phi_object_type) is read in the order of its key:
 * "ORDER BY rowid" fails there. */
static const char *row_order(sqlite3 *h, const char *table)
{
    sqlite3_stmt *q = NULL;
    bool without = false;
    if (sqlite3_prepare_v2(h, "SELECT sql LIKE '%WITHOUT ROWID' FROM main.sqlite_master WHERE "
                              "type = 'table' AND name = ?1", -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
        without = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) != 0;
    }
    sqlite3_finalize(q);
    return without ? "" : " ORDER BY rowid";
}

/* One copy statement per table of `tables` (a query of table names), made from the table's
 * columns: the shard's rows appended (`stitch` false), or the rows of the flows in
 * stitch_old replaced by the attached re-read's (`stitch` true). Object ids are shifted past
 * the merged case's (object_ids); lookup ids are those of the same values here (columns). */
static pt_status copy_each(sqlite3 *h, const char *tables, bool stitch, char *err, size_t errlen)
{
    sqlite3_stmt *t = NULL;
    if (sqlite3_prepare_v2(h, tables, -1, &t, NULL) != SQLITE_OK) {
        return fail(h, err, errlen);
    }
    static char cols[8192], sel[8192], sql[26000];
    pt_status rc = PT_OK;
    const int64_t obj_off = pt_db_int(h, "SELECT coalesce(max(id), 0) FROM main.object_row");
    while (rc == PT_OK && sqlite3_step(t) == SQLITE_ROW) {
        const char *name = col(t, 0);
        rc = columns(h, name, obj_off, cols, sel, sizeof cols);
        if (rc != PT_OK) {
            snprintf(err, errlen, "columns of %s: %s", name, sqlite3_errmsg(h));
            break;
        }
        if (stitch) {
            snprintf(sql, sizeof sql, "DELETE FROM main.\"%s\" WHERE flow_id IN (SELECT id FROM "
                     "stitch_old); INSERT INTO main.\"%s\"(%s) SELECT %s FROM shard.\"%s\" WHERE "
                     "flow_id IN (SELECT id FROM stitch_old)%s", name, name, cols, sel, name,
                     row_order(h, name));
        } else {
            snprintf(sql, sizeof sql, "INSERT INTO main.\"%s\"(%s) SELECT %s FROM shard.\"%s\" "
                     "WHERE true%s%s", name, cols, sel, name, row_order(h, name),
                     strcmp(name, "evidence_item") != 0 ? "" : item_upsert);
        }
        rc = pt_db_exec(h, sql, err, errlen);
    }
    sqlite3_finalize(t);
    return rc;
}

/* A shard has no PHI rows: the merge scans every object itself (scale.h). Rows of its would be
 * copied with new ids while a record's packed hits (store/phi_pack.h) and phi_object's
 * first_record hold the shard's own, so a shard that has them is refused, not mis-keyed. */
static pt_status shard_without_phi(sqlite3 *h, char *err, size_t errlen)
{
    int64_t n = pt_db_int(h, "SELECT (SELECT count(*) FROM shard.phi_record_row) + (SELECT "
                             "count(*) FROM shard.phi_ident) + (SELECT count(*) FROM "
                             "shard.phi_object)");
    if (n != 0) {
        snprintf(err, errlen, "the shard has PHI rows (%lld); a shard case is made without the "
                 "PHI scan (phitrace analyze --plan PLAN --shard I)", (long long)n);
        return PT_EMALFORMED;
    }
    return PT_OK;
}

pt_status pt_q_shard_copy_rows(struct pt_db *db, unsigned idx, char *err, size_t errlen)
{
    sqlite3 *h = pt_db_handle(db);
    PT_TRY(shard_without_phi(h, err, errlen));
    PT_TRY(merge_lookups(h, err, errlen));
    pt_status rc = copy_each(h, "SELECT name FROM main.sqlite_master WHERE type = 'table' AND "
                             "name NOT IN ('run_manifest', 'audit_log', 'object_blob') AND name "
                             "NOT IN (" LOOKUP_TABLES ") AND name NOT LIKE 'sqlite_%' ORDER BY "
                             "name", false, err, errlen);
    if (rc == PT_OK) {
        char sql[300];
        snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO main.object_blob(sha256, pack, "
                 "offset, size) SELECT sha256, 'packs/s%u-' || substr(pack, 7), offset, size "
                 "FROM shard.object_blob ORDER BY sha256", idx);
        rc = pt_db_exec(h, sql, err, errlen);
    }
    return rc;
}

pt_status pt_q_shard_chain(struct pt_db *db,
                           pt_status (*fn)(void *arg, const struct pt_q_chain_row *r), void *arg)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT seq, actor, action, detail, row_hash FROM "
                           "shard.audit_log ORDER BY seq", -1, &q, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    pt_status rc = PT_OK;
    while (rc == PT_OK && sqlite3_step(q) == SQLITE_ROW) {
        struct pt_q_chain_row r = {sqlite3_column_int64(q, 0), col(q, 1), col(q, 2), col(q, 3),
                                   col(q, 4)};
        rc = fn(arg, &r);
    }
    sqlite3_finalize(q);
    return rc;
}

/* ---- the merged case ----------------------------------------------------------------------- */

pt_status pt_q_item_hashed(struct pt_db *db, int64_t id, const char *sha, uint64_t size,
                           char *status, size_t len)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *up = NULL, *st = NULL;
    if (sqlite3_prepare_v2(h, "UPDATE evidence_item SET sha256 = ?2 WHERE id = ?1 AND size = ?3",
                           -1, &up, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "SELECT status FROM evidence_item WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK) {
        sqlite3_finalize(up);
        return PT_EDB;
    }
    sqlite3_bind_int64(up, 1, id);
    sqlite3_bind_text(up, 2, sha, -1, SQLITE_STATIC);
    sqlite3_bind_int64(up, 3, (sqlite3_int64)size);
    pt_status rc =
        sqlite3_step(up) == SQLITE_DONE && sqlite3_changes(h) == 1 ? PT_OK : PT_EMALFORMED;
    sqlite3_bind_int64(st, 1, id);
    snprintf(status, len, "%s", sqlite3_step(st) == SQLITE_ROW ? col(st, 0) : "?");
    sqlite3_finalize(up);
    sqlite3_finalize(st);
    return rc;
}

pt_status pt_q_items_sha(struct pt_db *db, pt_status (*fn)(void *arg, int64_t id, const char *sha),
                         void *arg)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT id, sha256 FROM evidence_item ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    pt_status rc = PT_OK;
    while (rc == PT_OK && sqlite3_step(q) == SQLITE_ROW) {
        rc = fn(arg, sqlite3_column_int64(q, 0),
                sqlite3_column_type(q, 1) == SQLITE_NULL ? NULL : col(q, 1));
    }
    sqlite3_finalize(q);
    return rc;
}

#define TIMEOUT_SQL(f) "1000000 * CASE WHEN " f ".proto = 6 AND " f ".ports_known = 1 THEN ?1 " \
                       "WHEN " f ".proto = 17 THEN ?2 ELSE ?3 END"

/* merge.c's find_cuts says what a cut is. scale_part: which shard read each frame. */
static const char cut_sql[] =
    "SELECT a.id, b.id, b.item_id, sa.shard, sb.shard, b.first_ts - a.last_ts, "
    "b.proto = 6 AND b.history GLOB 'S*', a.end_reason = 'eof' FROM flow a JOIN scale_part sa ON "
    "sa.item = a.last_item_id AND a.last_frame BETWEEN sa.lo AND sa.hi JOIN flow b ON b.id = "
    "(SELECT c.id FROM flow c WHERE c.source = 'capture' "
    "AND c.proto = a.proto AND c.family = a.family AND c.vlan IS a.vlan AND c.tunnel IS "
    "a.tunnel AND ((c.client_addr = a.client_addr AND c.client_port = a.client_port AND "
    "c.server_addr = a.server_addr AND c.server_port = a.server_port) OR (c.client_addr = "
    "a.server_addr AND c.client_port = a.server_port AND c.server_addr = a.client_addr AND "
    "c.server_port = a.client_port)) AND (c.item_id > a.last_item_id OR (c.item_id = "
    "a.last_item_id AND c.first_frame > a.last_frame)) ORDER BY c.item_id, c.first_frame LIMIT "
    "1) JOIN scale_part sb ON sb.item = b.item_id AND b.first_frame BETWEEN sb.lo AND sb.hi "
    "WHERE a.end_reason IN ('eof', 'fin', 'rst') "
    "AND a.source = 'capture' AND sb.shard <> sa.shard AND b.first_ts - a.last_ts <= "
    TIMEOUT_SQL("a") " AND coalesce((SELECT max(e.last_ts) FROM evidence_item e WHERE e.id > "
    "a.last_item_id AND e.id < b.item_id AND e.kind = 'capture'), a.last_ts) - a.last_ts <= "
    TIMEOUT_SQL("a") " ORDER BY a.id";

static pt_status fill_parts(sqlite3 *h, const struct pt_q_part *parts, size_t n)
{
    sqlite3_stmt *ins = NULL;
    if (sqlite3_prepare_v2(h, "INSERT INTO scale_part VALUES (?1, ?2, ?3, ?4)", -1, &ins,
                           NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    pt_status rc = PT_OK;
    for (size_t i = 0; rc == PT_OK && i < n; i++) {
        sqlite3_bind_int64(ins, 1, parts[i].item);
        sqlite3_bind_int64(ins, 2, parts[i].lo);
        sqlite3_bind_int64(ins, 3, parts[i].hi);
        sqlite3_bind_int64(ins, 4, parts[i].shard);
        rc = sqlite3_step(ins) == SQLITE_DONE ? PT_OK : PT_EDB;
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    return rc;
}

pt_status pt_q_cuts(struct pt_db *db, const struct pt_q_part *parts, size_t n_parts,
                    pt_status (*fn)(void *arg, const struct pt_q_cut *c), void *arg, char *err,
                    size_t errlen)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *q = NULL;
    pt_status rc = pt_db_exec(h, "CREATE TEMP TABLE scale_part(item INTEGER NOT NULL, lo "
                                 "INTEGER NOT NULL, hi INTEGER NOT NULL, shard INTEGER NOT "
                                 "NULL, PRIMARY KEY (item, lo))", err, errlen);
    if (rc != PT_OK || (rc = fill_parts(h, parts, n_parts)) != PT_OK) {
        pt_db_exec(h, "DROP TABLE temp.scale_part", NULL, 0);
        return rc;
    }
    if (sqlite3_prepare_v2(h, cut_sql, -1, &q, NULL) != SQLITE_OK) {
        rc = PT_EDB;
    } else {
        sqlite3_bind_int(q, 1, PT_FLOW_TCP_IDLE_S);
        sqlite3_bind_int(q, 2, PT_FLOW_UDP_IDLE_S);
        sqlite3_bind_int(q, 3, PT_FLOW_OTHER_IDLE_S);
    }
    while (rc == PT_OK && sqlite3_step(q) == SQLITE_ROW) {
        struct pt_q_cut c = {sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
                             sqlite3_column_int64(q, 2), sqlite3_column_int(q, 3),
                             sqlite3_column_int(q, 4), sqlite3_column_int64(q, 5),
                             sqlite3_column_int(q, 6) != 0, sqlite3_column_int(q, 7) != 0};
        rc = fn(arg, &c);
    }
    if (rc != PT_OK) {
        snprintf(err, errlen, "finding connections cut between shards: %s", sqlite3_errmsg(h));
    }
    sqlite3_finalize(q);
    pt_db_exec(h, "DROP TABLE temp.scale_part", NULL, 0);
    return rc;
}

pt_status pt_q_flow_reuse(struct pt_db *db, int64_t id)
{
    sqlite3_stmt *up = NULL;
    if (sqlite3_prepare_v2(pt_db_handle(db), "UPDATE flow SET end_reason = 'reuse' WHERE id = ?1",
                           -1, &up, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    sqlite3_bind_int64(up, 1, id);
    pt_status rc = sqlite3_step(up) == SQLITE_DONE ? PT_OK : PT_EDB;
    sqlite3_finalize(up);
    return rc;
}

pt_status pt_q_flows_age(struct pt_db *db, int64_t end, char *err, size_t errlen)
{
    char sql[900];
    snprintf(sql, sizeof sql,
             "UPDATE flow SET end_reason = 'idle' WHERE end_reason = 'eof' AND source = "
             "'capture' AND %lld - last_ts > 1000000 * CASE WHEN proto = 6 AND ports_known = 1 "
             "THEN %d WHEN proto = 17 THEN %d ELSE %d END",
             (long long)end, PT_FLOW_TCP_IDLE_S, PT_FLOW_UDP_IDLE_S, PT_FLOW_OTHER_IDLE_S);
    return pt_db_exec(pt_db_handle(db), sql, err, errlen);
}

void pt_q_totals(struct pt_db *db, struct pt_q_totals *t)
{
    sqlite3 *h = pt_db_handle(db);
    t->items = (uint64_t)pt_db_int(h, "SELECT count(*) FROM evidence_item");
    t->packets = (uint64_t)pt_db_int(h, "SELECT coalesce(sum(packets), 0) FROM evidence_item");
    t->flows = (uint64_t)pt_db_int(h, "SELECT count(*) FROM flow");
    t->anomalies = (uint64_t)pt_db_int(h, "SELECT count(*) FROM anomaly");
    t->items_failed = (uint64_t)pt_db_int(h, "SELECT count(*) FROM evidence_item WHERE status "
                                             "NOT IN ('ok', 'skipped')");
}

/* ---- the stitch ---------------------------------------------------------------------------- */

bool pt_q_flow_span(struct pt_db *db, int64_t id, struct pt_q_flow_span *out)
{
    sqlite3_stmt *q = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT item_id, first_frame, last_item_id, "
                           "last_frame, client_addr, server_addr FROM flow WHERE id = ?1", -1, &q,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, id);
        if (sqlite3_step(q) == SQLITE_ROW) {
            out->item = sqlite3_column_int64(q, 0);
            out->frame = sqlite3_column_int64(q, 1);
            out->last_item = sqlite3_column_int64(q, 2);
            out->last_frame = sqlite3_column_int64(q, 3);
            snprintf(out->client, sizeof out->client, "%s", col(q, 4));
            snprintf(out->server, sizeof out->server, "%s", col(q, 5));
            found = true;
        }
    }
    sqlite3_finalize(q);
    return found;
}

pt_status pt_q_open_before(struct pt_db *db, int64_t id,
                           void (*fn)(void *arg, int64_t id, int64_t item, int64_t frame),
                           void *arg)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT o.id, o.item_id, o.first_frame FROM flow f "
                           "JOIN flow o ON ((o.client_addr = f.client_addr AND o.server_addr = "
                           "f.server_addr) OR (o.client_addr = f.server_addr AND "
                           "o.server_addr = f.client_addr)) AND (o.item_id < f.item_id OR "
                           "(o.item_id = f.item_id AND o.first_frame < f.first_frame)) AND "
                           "(o.last_item_id > f.item_id OR (o.last_item_id = f.item_id AND "
                           "o.last_frame >= f.first_frame)) WHERE f.id = ?1", -1, &q,
                           NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    sqlite3_bind_int64(q, 1, id);
    while (sqlite3_step(q) == SQLITE_ROW) {
        fn(arg, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
           sqlite3_column_int64(q, 2));
    }
    sqlite3_finalize(q);
    return PT_OK;
}

/* stitch_old: the flows whose rows go; stitch_new: those that must come back. */
static pt_status stitch_ids(sqlite3 *h, const int64_t *old, const int64_t *heads, size_t n,
                            char *err, size_t errlen)
{
    pt_status rc = pt_db_exec(h, "CREATE TEMP TABLE stitch_old(id INTEGER PRIMARY KEY); "
                                 "CREATE TEMP TABLE stitch_new(id INTEGER PRIMARY KEY)",
                              err, errlen);
    sqlite3_stmt *a = NULL, *b = NULL;
    if (rc == PT_OK &&
        (sqlite3_prepare_v2(h, "INSERT OR IGNORE INTO stitch_old VALUES (?1)", -1, &a, NULL) !=
             SQLITE_OK ||
         sqlite3_prepare_v2(h, "INSERT OR IGNORE INTO stitch_new VALUES (?1)", -1, &b, NULL) !=
             SQLITE_OK)) {
        rc = fail(h, err, errlen);
    }
    for (size_t i = 0; rc == PT_OK && i < n; i++) {
        sqlite3_bind_int64(a, 1, old[i]);
        sqlite3_bind_int64(b, 1, heads[i]);
        rc = sqlite3_step(a) == SQLITE_DONE && sqlite3_step(b) == SQLITE_DONE ? PT_OK : PT_EDB;
        sqlite3_reset(a);
        sqlite3_reset(b);
    }
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    /* and every other connection of those hosts the re-read saw end: read with all of the
     * two hosts' packets from the earliest one open, it has the context a shard may have
     * missed (an FTP data connection in one shard whose PASV was in the one before) */
    if (rc == PT_OK) {
        rc = pt_db_exec(h, "INSERT OR IGNORE INTO stitch_old SELECT id FROM shard.flow WHERE "
                           "end_reason <> 'eof'", err, errlen);
    }
    return rc;
}

static pt_status stitch_rows(sqlite3 *h, const int64_t *old, const int64_t *heads, size_t n,
                             unsigned idx, char *err, size_t errlen)
{
    pt_status rc = stitch_ids(h, old, heads, n, err, errlen);
    /* the lookups first; every table with a flow_id column, then the flows, then blobs and
     * lookup rows nothing uses */
    if (rc == PT_OK) {
        rc = merge_lookups(h, err, errlen);
    }
    if (rc == PT_OK) {
        rc = copy_each(h, "SELECT m.name FROM main.sqlite_master m WHERE m.type = 'table' AND "
                       "EXISTS (SELECT 1 FROM main.pragma_table_info(m.name) c WHERE c.name = "
                       "'flow_id') ORDER BY m.name", true, err, errlen);
    }
    static char cols[8192], sel[8192], sql[18000];
    if (rc == PT_OK && (rc = columns(h, "flow", 0, cols, sel, sizeof cols)) == PT_OK) {
        snprintf(sql, sizeof sql, "DELETE FROM main.flow WHERE id IN (SELECT id FROM stitch_old);"
                 " INSERT INTO main.flow(%s) SELECT %s FROM shard.flow WHERE id IN (SELECT id "
                 "FROM stitch_old) ORDER BY rowid; DELETE FROM main.object_blob WHERE sha256 NOT "
                 "IN (SELECT sha256 FROM main.object); INSERT OR IGNORE INTO main.object_blob"
                 "(sha256, pack, offset, size) SELECT sha256, 'packs/s%u-' || substr(pack, 7), offset, size FROM "
                 "shard.object_blob WHERE sha256 IN (SELECT sha256 FROM main.object) ORDER BY "
                 "sha256", cols, cols, idx);
        rc = pt_db_exec(h, sql, err, errlen);
    }
    if (rc == PT_OK) {
        rc = prune_lookups(h, err, errlen);
    }
    int64_t got = rc == PT_OK ? pt_db_int(h, "SELECT count(*) FROM main.flow WHERE id IN "
                                             "(SELECT id FROM stitch_new)")
                              : 0;
    int64_t want = rc == PT_OK ? pt_db_int(h, "SELECT count(*) FROM stitch_new") : 0;
    if (rc == PT_OK && got != want) {
        snprintf(err, errlen, "the re-read found %lld of the %lld cut connections",
                 (long long)got, (long long)want);
        rc = PT_EMALFORMED;
    }
    pt_db_exec(h, "DROP TABLE temp.stitch_old; DROP TABLE temp.stitch_new", NULL, 0);
    return rc;
}

pt_status pt_q_stitch_replace(struct pt_db *db, const int64_t *old, const int64_t *heads,
                              size_t n, unsigned idx, char *err, size_t errlen)
{
    sqlite3 *h = pt_db_handle(db);
    PT_TRY(pt_db_exec(h, "SAVEPOINT stitch", err, errlen));
    pt_status rc = stitch_rows(h, old, heads, n, idx, err, errlen);
    if (rc != PT_OK) { /* the shards' rows stay, and the cuts are reported */
        pt_db_exec(h, "ROLLBACK TO stitch", NULL, 0);
    }
    pt_db_forget(db); /* strings gone either way */
    pt_db_exec(h, "RELEASE stitch", NULL, 0);
    return rc;
}
