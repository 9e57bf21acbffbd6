/*
 * db.c - evidence database: schema, prepared inserts, and the audit chain.
 *
 * Durability: WAL with synchronous=FULL and batched transactions
 * (c-deps-guide §8: FULL costs nothing measurable when batched). At close the
 * WAL is checkpointed and the journal switched back to DELETE so a single
 * self-contained file is left.
 */
#include "db.h"
#include "../core/version.h"
#include "db_handle.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "../core/sha256.h"
#include "records.h"

extern const char pt_schema_sql[]; /* generated from schema.sql */

enum {
    ST_MANIFEST,
    ST_ITEM,
    ST_SEGMENT,
    ST_BLOB,
    ST_FLOW,
    ST_ANOMALY,
    ST_GAP,
    ST_CONFLICT,
    ST_OBJECT,
    ST_LOG_SOURCE,
    ST_LOG_CONN,
    ST_LOG_XFER,
    ST_LOG_WINEVT,
    ST_LOG_AUDIT,
    ST_LOG_AUDIT_PATIENT,
    ST_LOG_DNS,
    ST_LOG_HTTP,
    ST_AUDIT,
    ST_AUDIT_LAST,
    ST_STR_FIND,
    ST_STR_ADD,
    N_ST,
};

/* The stages after capture and the reports read the database many times over (PHI rows,
 * flows, events): 16 MiB of pages are cached (with the default 2 MiB, re-reading pages was
 * most of the verdict's time on a 50 MB hospital capture: 3.2 s, then 1.2 s with 64 MiB;
 * with today's set-based verdict, 16 MiB costs no CPU there nor on the log bench, and the
 * cache filling to 64 MiB was what grew the peak memory with the size of the logs: issue 14,
 * README "Logs"). No memory map: its pages counted in the process's memory up to the map's
 * 256 MiB, so the peak RSS grew with the case (333 MB at 160 MB of logs, 141 MB without it
 * and with phase.c's page dropping); reading through pread() into the bounded cache costs
 * 4-7% more CPU on the log bench, the price of a peak that does not grow. */
#define PT_DB_READ_PRAGMAS "PRAGMA mmap_size=0; PRAGMA cache_size=-16384;"

static const char *const st_sql[N_ST] = {
    [ST_MANIFEST] = "INSERT OR REPLACE INTO run_manifest(key, value) VALUES (?1, ?2)",
    [ST_ITEM] = "INSERT INTO evidence_item(id, path, size, sha256, kind, format, "
                "linktype, linktype_name, packets, first_ts, last_ts, status, error, mtime, "
                "time_source, segments) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
                "?15,?16) ON CONFLICT(id) DO UPDATE SET "
                "path=excluded.path, size=excluded.size, sha256=excluded.sha256, "
                "kind=excluded.kind, format=excluded.format, linktype=excluded.linktype, "
                "linktype_name=excluded.linktype_name, packets=excluded.packets, "
                "first_ts=excluded.first_ts, last_ts=excluded.last_ts, status=excluded.status, "
                "error=excluded.error, mtime=excluded.mtime, time_source=excluded.time_source, "
                "segments=excluded.segments",
    [ST_SEGMENT] = "INSERT INTO evidence_segment VALUES (?1,?2,?3,?4,?5,?6)",
    [ST_BLOB] = "INSERT OR IGNORE INTO object_blob(sha256, pack, offset, size) "
                "VALUES (?1,?2,?3,?4)",
    [ST_FLOW] = "INSERT INTO flow VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,"
                "?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36,?37,?38,?39,"
                "?40,?41,'capture')",
    [ST_OBJECT] = "INSERT INTO object_row(sha, size, mime, magic, name, protocol, encoding, "
                  "flow_id, direction, stream_dir, stream_off, part, complete, gap_bytes, gap_map, "
                  "item_id, frame, ts, encrypted, parent, depth) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,"
                  "?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)",
    [ST_LOG_SOURCE] = "INSERT INTO log_source(item_id, path, format, bytes, lines, records, other, "
                      "headers, blank, malformed, conn, dns, http, xfer, winevent, audit) VALUES (?1,?2,"
                      "?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
    [ST_LOG_XFER] = "INSERT INTO log_xfer(item_id, line, offset, ts, source, client_addr, username, "
                    "direction, path, bytes, duration_us, ok, length) VALUES (?1,?2,?3,?4,?5,?6,?7,"
                    "?8,?9,?10,?11,?12,?13)",
    [ST_LOG_WINEVT] = "INSERT INTO log_winevent(item_id, line, offset, ts, source, event_id, "
                      "kind, channel, computer, subject_user, target_user, logon_type, "
                      "client_addr, client_port, target_server, process, parent, object, access, "
                      "command, script_id, part, parts, script_chars, recovered, workstation, "
                      "logon_id, auth_package, ticket_enc) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,"
                      "?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,"
                      "?29)",
    [ST_LOG_AUDIT] = "INSERT INTO log_audit(item_id, line, offset, ts, source, event_code, "
                     "event, action, outcome, user_id, user_addr, source_addr, dest_addr, "
                     "patients, studies, objects, length) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,"
                     "?10,?11,?12,?13,?14,?15,?16,?17)",
    [ST_LOG_AUDIT_PATIENT] = "INSERT INTO log_audit_patient(item_id, offset, line, hmac, "
                             "patient_id) VALUES (?1,?2,?3,?4,?5)",
    [ST_LOG_CONN] = "INSERT INTO log_conn(item_id, line, offset, ts, source, duration_us, proto, "
                    "client_addr, client_port, server_addr, server_port, c_bytes, s_bytes, "
                    "c_ip_bytes, s_ip_bytes, c_frame_bytes, s_frame_bytes, c_pkts, s_pkts, state, "
                    "service, uid, both_ways) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
                    "?15,?16,?17,?18,?19,?20,?21,?22,?23)",
    [ST_LOG_DNS] = "INSERT INTO log_dns(item_id, line, offset, ts, source, proto, client_addr, "
                   "client_port, server_addr, server_port, query, qtype, rcode, answers, uid) "
                   "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
    [ST_LOG_HTTP] = "INSERT INTO log_http(item_id, line, offset, ts, source, client_addr, "
                    "client_port, server_addr, server_port, method, host, uri, status, req_bytes, "
                    "resp_bytes, user_agent, username, uid, length) VALUES (?1,?2,?3,?4,?5,?6,?7,"
                    "?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)",
    [ST_GAP] = "INSERT INTO stream_gap(flow_id, direction, offset, length, item_id, frame) "
               "VALUES (?1,?2,?3,?4,?5,?6)",
    [ST_CONFLICT] = "INSERT INTO stream_conflict(flow_id, direction, offset, length, kept_sha256, "
                    "other_sha256, item_id, frame) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
    [ST_ANOMALY] = "INSERT INTO anomaly(item_id, frame, offset, kind, detail) "
                   "VALUES (?1,?2,?3,?4,?5)",
    [ST_AUDIT] = "INSERT INTO audit_log(seq, ts_utc, actor, action, detail, prev_hash, row_hash) "
                 "VALUES (?1,?2,?3,?4,?5,?6,?7)",
    [ST_AUDIT_LAST] = "SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1",
    [ST_STR_FIND] = "SELECT id FROM object_str WHERE str = ?1",
    [ST_STR_ADD] = "INSERT INTO object_str(str) VALUES (?1)",
};

/* object_str's ids of the strings the object rows name, in a direct-mapped cache: the few
 * dozen MIME types, descriptions and protocols of a case cost a look-up each once. */
#define STR_CACHE 512
struct str_ent {
    char *s;
    int64_t id;
};

struct pt_db {
    sqlite3 *h;
    sqlite3_stmt *st[N_ST];
    sqlite3_stmt *rec[PT_REC_COUNT]; /* the decoders' records (records.def) */
    sqlite3_stmt *look[PT_REC_COUNT][2]; /* their lookups (PT_LOOKUP): find, add; or NULL */
    int in_tx;
    int readonly;
    struct str_ent str[STR_CACHE];
};

sqlite3 *pt_db_handle(struct pt_db *db)
{
    return db->h;
}

const char *pt_db_errmsg(struct pt_db *db)
{
    return db && db->h ? sqlite3_errmsg(db->h) : "no database";
}

void pt_utc_now(char out[32])
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%06ldZ", (long)tv.tv_usec);
}

pt_status pt_db_exec(sqlite3 *h, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "%s", msg ? msg : "sqlite error");
        }
        sqlite3_free(msg);
        return PT_EDB;
    }
    return PT_OK;
}

int64_t pt_db_int(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static pt_status exec(struct pt_db *db, const char *sql)
{
    return pt_db_exec(db->h, sql, NULL, 0);
}

/* `path` as an SQLite URI filename (sqlite.org/uri.html §3.1): every byte but unreserved ones
 * and '/' percent-encoded, so a case directory named with '#', '?' or '%' opens the right
 * file. Owned (sqlite3_free). */
static char *uri_of(const char *path, const char *query)
{
    size_t n = strlen(path);
    char *enc = malloc(n * 3 + 1);
    if (enc == NULL) {
        return NULL;
    }
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL;
        if (plain) {
            enc[k++] = (char)*p;
        } else {
            k += (size_t)snprintf(enc + k, 4, "%%%02X", *p);
        }
    }
    enc[k] = '\0';
    char *uri = sqlite3_mprintf("file:%s%s", enc, query);
    free(enc);
    return uri;
}

/* unhex(X): the bytes of the hex digits X, NULL when X is not hex (SQLite 3.41's built-in,
 * which Debian 12's 3.40 lacks): how a query looks an object up by a hash held as text. */
static void sql_unhex(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    size_t n = (size_t)sqlite3_value_bytes(argv[0]);
    uint8_t *out = t == NULL ? NULL : sqlite3_malloc64(n / 2 + 1);
    if (out != NULL && pt_unhex(t, n, out)) {
        sqlite3_result_blob64(cx, out, n / 2, sqlite3_free);
        return;
    }
    sqlite3_free(out);
    sqlite3_result_null(cx);
}

static pt_status prepare_all(struct pt_db *db)
{
    if (sqlite3_create_function_v2(db->h, "unhex", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC |
                                   SQLITE_INNOCUOUS, NULL, sql_unhex, NULL, NULL, NULL) !=
        SQLITE_OK) {
        return PT_EDB;
    }
    for (int i = 0; i < N_ST; i++) {
        if (db->readonly && i != ST_AUDIT_LAST) {
            continue;
        }
        if (sqlite3_prepare_v3(db->h, st_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i], NULL) !=
            SQLITE_OK) {
            return PT_EDB;
        }
    }
    for (int k = 0; k < PT_REC_COUNT && !db->readonly; k++) {
        if (pt_rec_put((enum pt_rec_kind)k) != NULL) {
            continue; /* its own put function */
        }
        char *sql = pt_rec_insert_sql((enum pt_rec_kind)k);
        int r = sql == NULL ? SQLITE_NOMEM
                            : sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                                 &db->rec[k], NULL);
        sqlite3_free(sql);
        for (int add = 0; add < 2 && r == SQLITE_OK; add++) {
            sql = pt_rec_lookup_sql((enum pt_rec_kind)k, add);
            r = sql == NULL ? SQLITE_OK
                            : sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                                 &db->look[k][add], NULL);
            sqlite3_free(sql);
        }
        if (r != SQLITE_OK) {
            return PT_EDB;
        }
    }
    return PT_OK;
}

/* No allocation statistics (nothing reads them): each of SQLite's allocations otherwise
 * takes a global mutex, a tenth of the PHI stage's writing. It must come before SQLite's
 * initialisation, which the first connection does; after that the call fails, harmlessly. */
static void sqlite_config(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void sqlite_once(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sqlite_config);
}

/* Once, before any database is opened (main): the same as the first connection does. */
void pt_db_global_init(void)
{
    sqlite_once();
}

pt_status pt_db_create(const char *path, struct pt_db **out, char *err, size_t errlen)
{
    sqlite_once();
    *out = NULL;
    struct pt_db *db = calloc(1, sizeof *db);
    if (db == NULL) {
        return PT_ENOMEM;
    }
    pt_status rc = PT_OK;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
    char *uri = uri_of(path, "");
    if (uri == NULL) {
        free(db);
        return PT_ENOMEM;
    }
    int orc = sqlite3_open_v2(uri, &db->h, flags, NULL);
    sqlite3_free(uri);
    if (orc != SQLITE_OK) {
        snprintf(err, errlen, "cannot create %s: %s", path, pt_db_errmsg(db));
        rc = PT_EDB;
        goto out;
    }
    sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db->h, SQLITE_DBCONFIG_ENABLE_FKEY, 1, NULL);
    char pragmas[512];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
             " PRAGMA foreign_keys=ON; PRAGMA application_id=%d; PRAGMA user_version=%d;"
             PT_DB_READ_PRAGMAS,
             PT_DB_APPLICATION_ID, PT_DB_SCHEMA_VERSION);
    if (exec(db, pragmas) != PT_OK || exec(db, "BEGIN") != PT_OK ||
        exec(db, pt_schema_sql) != PT_OK || exec(db, "COMMIT") != PT_OK) {
        snprintf(err, errlen, "cannot initialise %s: %s", path, pt_db_errmsg(db));
        rc = PT_EDB;
        goto out;
    }
    if (prepare_all(db) != PT_OK) {
        snprintf(err, errlen, "cannot prepare statements: %s", pt_db_errmsg(db));
        rc = PT_EDB;
        goto out;
    }
    *out = db;
    db = NULL;
out:
    pt_db_close(db);
    return rc;
}

/* A case written by a phitrace with another schema: say which phitrace wrote it (its
 * manifest, when readable) and what to do, rather than fail later on a missing column. */
static void schema_mismatch(struct pt_db *db, const char *path, int ver, char *err,
                            size_t errlen)
{
    char tool[96] = "an unknown version";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h, "SELECT group_concat(value, ' commit ') FROM (SELECT value "
                           "FROM run_manifest WHERE key IN ('tool_version', 'git_commit') ORDER "
                           "BY key DESC)", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
        snprintf(tool, sizeof tool, "%.80s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    snprintf(err, errlen, "%s was written by phitrace %s with database schema %07x; this "
             "phitrace (%s commit %s) reads schema %07x. Open it with the phitrace that wrote "
             "it, or run `phitrace analyze` again on its evidence to make a new case", path, tool,
             (unsigned)ver, PT_VERSION, PT_GIT_COMMIT, (unsigned)PT_DB_SCHEMA_VERSION);
}

/* An existing case database: read-only, or read-write for a custody record (rw). */
static pt_status open_existing(const char *path, bool rw, struct pt_db **out, char *err,
                               size_t errlen)
{
    sqlite_once();
    *out = NULL;
    struct pt_db *db = calloc(1, sizeof *db);
    if (db == NULL) {
        return PT_ENOMEM;
    }
    db->readonly = !rw;
    pt_status rc = PT_OK;
    char *uri = uri_of(path, rw ? "?mode=rw" : "?mode=ro");
    if (uri == NULL) {
        free(db);
        return PT_ENOMEM;
    }
    if (sqlite3_open_v2(uri, &db->h, (rw ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) |
                        SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, pt_db_errmsg(db));
        rc = PT_EDB;
        goto out;
    }
    sqlite3_stmt *st = NULL;
    int app = 0, ver = 0;
    if (sqlite3_prepare_v2(db->h, "PRAGMA application_id", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        app = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    if (app != PT_DB_APPLICATION_ID) {
        snprintf(err, errlen, "%s is not a phitrace evidence database", path);
        rc = PT_EDB;
        goto out;
    }
    if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        ver = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    if (ver != PT_DB_SCHEMA_VERSION) {
        schema_mismatch(db, path, ver, err, errlen);
        rc = PT_EDB;
        goto out;
    }
    exec(db, rw ? PT_DB_READ_PRAGMAS : "PRAGMA query_only=1;" PT_DB_READ_PRAGMAS);
    if (prepare_all(db) != PT_OK) {
        snprintf(err, errlen, "cannot read %s: %s", path, pt_db_errmsg(db));
        rc = PT_EDB;
        goto out;
    }
    *out = db;
    db = NULL;
out:
    sqlite3_free(uri);
    pt_db_close(db);
    return rc;
}

pt_status pt_db_open_ro(const char *path, struct pt_db **out, char *err, size_t errlen)
{
    return open_existing(path, false, out, err, errlen);
}

pt_status pt_db_open_rw(const char *path, struct pt_db **out, char *err, size_t errlen)
{
    return open_existing(path, true, out, err, errlen);
}

void pt_db_forget(struct pt_db *db)
{
    for (size_t i = 0; i < STR_CACHE; i++) {
        free(db->str[i].s);
        db->str[i] = (struct str_ent){0};
    }
}

void pt_db_close(struct pt_db *db)
{
    if (db == NULL) {
        return;
    }
    if (db->in_tx) {
        exec(db, "COMMIT");
    }
    for (int i = 0; i < N_ST; i++) {
        sqlite3_finalize(db->st[i]);
    }
    for (int k = 0; k < PT_REC_COUNT; k++) {
        sqlite3_finalize(db->rec[k]);
        sqlite3_finalize(db->look[k][0]);
        sqlite3_finalize(db->look[k][1]);
    }
    pt_db_forget(db);
    if (!db->readonly && db->h != NULL) {
        /* Leave one self-contained file (c-deps-guide §8, "seal"). */
        exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
    }
    sqlite3_close(db->h);
    free(db);
}

pt_status pt_db_begin(struct pt_db *db)
{
    if (db->in_tx) {
        return PT_OK;
    }
    PT_TRY(exec(db, "BEGIN IMMEDIATE"));
    db->in_tx = 1;
    return PT_OK;
}

pt_status pt_db_commit(struct pt_db *db)
{
    if (!db->in_tx) {
        return PT_OK;
    }
    db->in_tx = 0;
    return exec(db, "COMMIT");
}

/* Tables whose rows grow after they are written (ids and entities filled in by UPDATE), so
 * that their pages split half empty: a tenth of each on the hospital bench (issue 16). Each
 * has an INTEGER PRIMARY KEY, so its rows keep their ids when copied back (VACUUM would
 * renumber the rowids of tables without one: disk_file's name its timeline rows). */
static const char *const repacked[] = {"phi_record_row", "object_row", "http_txn_row",
                                        "hl7_message_row"};

pt_status pt_db_compact(struct pt_db *db, char *err, size_t errlen)
{
    pt_status rc = PT_OK;
    for (size_t i = 0; i < sizeof repacked / sizeof repacked[0] && rc == PT_OK; i++) {
        char sql[512];
        /* written back in id order: appended, every page filled */
        snprintf(sql, sizeof sql, "BEGIN; CREATE TEMP TABLE repack AS SELECT * FROM main.%s; "
                 "DELETE FROM main.%s; INSERT INTO main.%s SELECT * FROM temp.repack ORDER BY "
                 "1; DROP TABLE temp.repack; COMMIT", repacked[i], repacked[i], repacked[i]);
        rc = pt_db_exec(db->h, sql, err, errlen);
        if (rc != PT_OK) {
            char ignored[64];
            pt_db_exec(db->h, "ROLLBACK", ignored, sizeof ignored);
        }
    }
    /* every table's indexes (and a WITHOUT ROWID table's key, which only REINDEX of the
     * table rebuilds) but flow's indexes built in bulk once the flows were written (packed
     * by that; store/db.h); the names first, as REINDEX changes the schema */
    if (rc != PT_OK) {
        return rc;
    }
    char *names = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&names, &len);
    sqlite3_stmt *st = NULL;
    rc = m == NULL ? PT_ENOMEM : PT_OK;
    if (rc == PT_OK && sqlite3_prepare_v2(db->h, "SELECT name FROM main.sqlite_schema WHERE "
                                          "type = 'table' AND name != 'flow' OR type = "
                                          "'index' AND tbl_name = 'flow' AND name NOT IN "
                                          "('flow_tuple', 'flow_pair') ORDER BY name", -1, &st,
                                          NULL) != SQLITE_OK) {
        rc = PT_EDB;
    }
    while (rc == PT_OK && sqlite3_step(st) == SQLITE_ROW) {
        char *q = sqlite3_mprintf("REINDEX main.\"%w\";", sqlite3_column_text(st, 0));
        if (q == NULL) {
            rc = PT_ENOMEM;
        } else {
            fputs(q, m);
            sqlite3_free(q);
        }
    }
    sqlite3_finalize(st);
    if (m != NULL && fclose(m) != 0 && rc == PT_OK) {
        rc = PT_ENOMEM;
    }
    if (rc == PT_OK) {
        rc = pt_db_exec(db->h, names, err, errlen);
    } else {
        snprintf(err, errlen, "compact: %s", sqlite3_errmsg(db->h));
    }
    free(names);
    return rc == PT_OK ? pt_db_exec(db->h, "PRAGMA incremental_vacuum", err, errlen) : rc;
}

void pt_db_rollback(struct pt_db *db)
{
    if (db->in_tx) {
        db->in_tx = 0;
        exec(db, "ROLLBACK");
        pt_db_forget(db);
    }
}

const char *pt_db_sqlite_version(void)
{
    return sqlite3_libversion();
}

static pt_status step(struct pt_db *db, sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r == SQLITE_DONE ? PT_OK : PT_EDB;
    (void)db;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    }
}

pt_status pt_db_manifest_set(struct pt_db *db, const char *key, const char *value)
{
    sqlite3_stmt *st = db->st[ST_MANIFEST];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, value ? value : "", -1, SQLITE_TRANSIENT);
    return step(db, st);
}

pt_status pt_db_item_put(struct pt_db *db, const struct pt_item_rec *it)
{
    sqlite3_stmt *st = db->st[ST_ITEM];
    sqlite3_bind_int64(st, 1, it->id);
    sqlite3_bind_text(st, 2, it->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)it->size);
    bind_text(st, 4, it->sha256);
    bind_text(st, 5, it->kind);
    bind_text(st, 6, it->format);
    if (it->linktype >= 0) {
        sqlite3_bind_int(st, 7, it->linktype);
    }
    bind_text(st, 8, it->linktype_name);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)it->packets);
    if (it->packets > 0 || it->time_source != NULL) {
        sqlite3_bind_int64(st, 10, it->first_ts);
        sqlite3_bind_int64(st, 11, it->last_ts);
    }
    bind_text(st, 12, it->status);
    bind_text(st, 13, it->error);
    if (it->mtime != 0) {
        sqlite3_bind_int64(st, 14, it->mtime);
    }
    bind_text(st, 15, it->time_source);
    sqlite3_bind_int64(st, 16, it->segments > 1 ? it->segments : 1);
    return step(db, st);
}

pt_status pt_db_segment_put(struct pt_db *db, const struct pt_segment_rec *s)
{
    sqlite3_stmt *st = db->st[ST_SEGMENT];
    sqlite3_bind_int64(st, 1, s->item);
    sqlite3_bind_int64(st, 2, s->seq);
    sqlite3_bind_text(st, 3, s->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)s->size);
    bind_text(st, 5, s->sha256);
    if (s->mtime != 0) {
        sqlite3_bind_int64(st, 6, s->mtime);
    }
    return step(db, st);
}

pt_status pt_db_logsource_put(struct pt_db *db, const struct pt_logsource_rec *r)
{
    sqlite3_stmt *st = db->st[ST_LOG_SOURCE];
    const uint64_t v[] = {r->st.bytes, r->st.lines, r->st.records, r->st.other, r->st.headers,
                          r->st.blank, r->st.malformed, r->st.conn, r->st.dns, r->st.http,
                          r->st.xfer, r->st.winevt, r->st.audit};
    sqlite3_bind_int64(st, 1, r->item);
    sqlite3_bind_text(st, 2, r->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->format, -1, SQLITE_STATIC);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        sqlite3_bind_int64(st, 4 + (int)i, (sqlite3_int64)v[i]);
    }
    return step(db, st);
}

/* A log count or time: NULL when the source did not give it (-1). */
static void bind_known(sqlite3_stmt *st, int i, int64_t v)
{
    if (v >= 0) {
        sqlite3_bind_int64(st, i, v);
    }
}

/* A log row's text: the row outlives the statement's step (each put steps, then clears its
 * bindings), so SQLite need not copy it. */
static void bind_ltext(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    }
}

/* item, line, offset, ts, source at parameters 1-5. */
static void bind_logprov(sqlite3_stmt *st, const struct pt_logprov *p)
{
    sqlite3_bind_int64(st, 1, p->item);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)p->line);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)p->offset);
    bind_known(st, 4, p->ts_us);
    sqlite3_bind_text(st, 5, p->source, -1, SQLITE_STATIC);
}

pt_status pt_db_logconn_put(struct pt_db *db, const struct pt_logconn_rec *r)
{
    sqlite3_stmt *st = db->st[ST_LOG_CONN];
    bind_logprov(st, &r->p);
    bind_known(st, 6, r->dur_us);
    bind_ltext(st, 7, r->proto);
    bind_ltext(st, 8, r->client);
    bind_known(st, 9, r->cport);
    bind_ltext(st, 10, r->server);
    bind_known(st, 11, r->sport);
    const int64_t v[] = {r->c_bytes, r->s_bytes, r->c_ip_bytes, r->s_ip_bytes, r->c_frame_bytes,
                         r->s_frame_bytes, r->c_pkts, r->s_pkts};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        bind_known(st, 12 + (int)i, v[i]);
    }
    bind_ltext(st, 20, r->state);
    bind_ltext(st, 21, r->service);
    bind_ltext(st, 22, r->uid);
    sqlite3_bind_int(st, 23, r->both_ways);
    return step(db, st);
}

pt_status pt_db_logdns_put(struct pt_db *db, const struct pt_logdns_rec *r)
{
    sqlite3_stmt *st = db->st[ST_LOG_DNS];
    bind_logprov(st, &r->p);
    bind_ltext(st, 6, r->proto);
    bind_ltext(st, 7, r->client);
    bind_known(st, 8, r->cport);
    bind_ltext(st, 9, r->server);
    bind_known(st, 10, r->sport);
    bind_ltext(st, 11, r->query);
    bind_ltext(st, 12, r->qtype);
    bind_ltext(st, 13, r->rcode);
    bind_ltext(st, 14, r->answers);
    bind_ltext(st, 15, r->uid);
    return step(db, st);
}

pt_status pt_db_logxfer_put(struct pt_db *db, const struct pt_logxfer_rec *r)
{
    sqlite3_stmt *st = db->st[ST_LOG_XFER];
    bind_logprov(st, &r->p);
    bind_text(st, 6, r->client);
    bind_text(st, 7, r->user);
    sqlite3_bind_text(st, 8, r->direction, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, r->path, -1, SQLITE_TRANSIENT);
    bind_known(st, 10, r->bytes);
    bind_known(st, 11, r->dur_us);
    sqlite3_bind_int(st, 12, r->ok);
    sqlite3_bind_int64(st, 13, r->p.length);
    return step(db, st);
}

pt_status pt_db_logwinevt_put(struct pt_db *db, const struct pt_logwinevt_rec *r)
{
    sqlite3_stmt *st = db->st[ST_LOG_WINEVT];
    bind_logprov(st, &r->p);
    sqlite3_bind_int(st, 6, r->event_id);
    sqlite3_bind_text(st, 7, r->kind, -1, SQLITE_TRANSIENT);
    bind_text(st, 8, r->channel);
    bind_text(st, 9, r->computer);
    bind_text(st, 10, r->subject_user);
    bind_text(st, 11, r->target_user);
    bind_known(st, 12, r->logon_type);
    bind_text(st, 13, r->client);
    bind_known(st, 14, r->cport);
    bind_text(st, 15, r->target_server);
    bind_text(st, 16, r->process);
    bind_text(st, 17, r->parent);
    bind_text(st, 18, r->object);
    bind_text(st, 19, r->access);
    bind_text(st, 20, r->command);
    bind_text(st, 21, r->script_id);
    bind_known(st, 22, r->part);
    bind_known(st, 23, r->parts);
    bind_known(st, 24, r->script_chars);
    sqlite3_bind_int(st, 25, r->recovered);
    bind_text(st, 26, r->workstation);
    bind_text(st, 27, r->logon_id);
    bind_text(st, 28, r->auth_package);
    bind_text(st, 29, r->ticket_enc);
    return step(db, st);
}

pt_status pt_db_logaudit_put(struct pt_db *db, const struct pt_logaudit_rec *r)
{
    sqlite3_stmt *st = db->st[ST_LOG_AUDIT];
    bind_logprov(st, &r->p);
    sqlite3_bind_text(st, 6, r->m.event, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, r->m.event_name, -1, SQLITE_TRANSIENT);
    bind_text(st, 8, r->m.action);
    bind_known(st, 9, r->m.outcome);
    bind_text(st, 10, r->m.user);
    bind_text(st, 11, r->m.user_addr);
    bind_text(st, 12, r->m.src_addr);
    bind_text(st, 13, r->m.dst_addr);
    sqlite3_bind_int(st, 14, r->m.patients);
    sqlite3_bind_int(st, 15, r->m.studies);
    sqlite3_bind_int(st, 16, r->m.objects);
    sqlite3_bind_int64(st, 17, r->p.length);
    return step(db, st);
}

pt_status pt_db_logaudit_patient_put(struct pt_db *db, const struct pt_logaudit_patient_rec *r)
{
    sqlite3_stmt *st = db->st[ST_LOG_AUDIT_PATIENT];
    sqlite3_bind_int64(st, 1, r->p.item);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)r->p.offset);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)r->p.line);
    sqlite3_bind_text(st, 4, r->hmac, -1, SQLITE_TRANSIENT);
    bind_text(st, 5, r->id);
    return step(db, st);
}

pt_status pt_db_loghttp_put(struct pt_db *db, const struct pt_loghttp_rec *r)
{
    sqlite3_stmt *st = db->st[ST_LOG_HTTP];
    bind_logprov(st, &r->p);
    bind_ltext(st, 6, r->client);
    bind_known(st, 7, r->cport);
    bind_ltext(st, 8, r->server);
    bind_known(st, 9, r->sport);
    bind_ltext(st, 10, r->method);
    bind_ltext(st, 11, r->host);
    bind_ltext(st, 12, r->uri);
    bind_known(st, 13, r->status);
    bind_known(st, 14, r->req_bytes);
    bind_known(st, 15, r->resp_bytes);
    bind_ltext(st, 16, r->user_agent);
    bind_ltext(st, 17, r->user);
    bind_ltext(st, 18, r->uid);
    sqlite3_bind_int64(st, 19, r->p.length);
    return step(db, st);
}

static void format_ctx(const struct pt_ctx *c, char *vlan, size_t vl, char *tun, size_t tl)
{
    static const char *names[] = {"none", "ipip", "gre", "vxlan", "teredo"};
    vlan[0] = tun[0] = '\0';
    if (c->n_vlan == 1) {
        snprintf(vlan, vl, "%u", c->vlan[0]);
    } else if (c->n_vlan >= 2) {
        snprintf(vlan, vl, "%u,%u%s", c->vlan[0], c->vlan[1], c->n_vlan > 2 ? ",..." : "");
    }
    if (c->depth > 0) {
        const char *n = c->tunnel < sizeof names / sizeof names[0] ? names[c->tunnel] : "other";
        if (c->tun_id != 0) {
            snprintf(tun, tl, "%s:id=%u/depth=%u/outer=%08x", n, c->tun_id, c->depth, c->outer);
        } else {
            snprintf(tun, tl, "%s/depth=%u/outer=%08x", n, c->depth, c->outer);
        }
    }
}

static void bind_dir(sqlite3_stmt *st, int base, const struct pt_flow_dir *d)
{
    sqlite3_bind_int64(st, base, (sqlite3_int64)d->pkts);
    sqlite3_bind_int64(st, base + 1, (sqlite3_int64)d->frame_bytes);
    sqlite3_bind_int64(st, base + 2, (sqlite3_int64)d->ip_bytes);
    sqlite3_bind_int64(st, base + 3, (sqlite3_int64)d->payload_bytes);
    sqlite3_bind_int64(st, base + 4, (sqlite3_int64)d->captured_bytes);
    sqlite3_bind_int64(st, base + 5, (sqlite3_int64)d->seq_bytes);
}

pt_status pt_db_flow_put(struct pt_db *db, const struct pt_flow_rec *r)
{
    sqlite3_stmt *st = db->st[ST_FLOW];
    char cli[PT_ADDR_STRLEN], srv[PT_ADDR_STRLEN], vlan[32], tun[64];
    pt_addr_str(&r->cli, cli);
    pt_addr_str(&r->srv, srv);
    format_ctx(&r->ctx, vlan, sizeof vlan, tun, sizeof tun);
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, r->item);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)r->first_frame);
    sqlite3_bind_int64(st, 4, r->last_item);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)r->last_frame);
    sqlite3_bind_int(st, 6, r->family);
    sqlite3_bind_int(st, 7, r->proto);
    sqlite3_bind_text(st, 8, cli, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 9, r->cport);
    sqlite3_bind_text(st, 10, srv, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 11, r->sport);
    bind_text(st, 12, vlan);
    char rvlan[32] = "";
    if (r->asym_vlan) {
        snprintf(rvlan, sizeof rvlan, r->reply_vlan[1] ? "%u,%u" : "%u", r->reply_vlan[0],
                 r->reply_vlan[1]);
        if (r->reply_vlan[0] == 0 && r->reply_vlan[1] == 0) {
            snprintf(rvlan, sizeof rvlan, "untagged");
        }
    }
    bind_text(st, 13, rvlan);
    sqlite3_bind_int(st, 14, r->ports_known);
    bind_text(st, 15, tun);
    sqlite3_bind_text(st, 16, pt_flow_class_str(r->cls), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 17, r->first_ts);
    sqlite3_bind_int64(st, 18, r->last_ts);
    bind_dir(st, 19, &r->c2s);
    bind_dir(st, 25, &r->s2c);
    sqlite3_bind_int64(st, 31, (sqlite3_int64)r->c2s.stream_bytes);
    sqlite3_bind_int64(st, 32, (sqlite3_int64)r->c2s.gap_bytes);
    sqlite3_bind_int64(st, 33, r->c2s.conflicts);
    sqlite3_bind_int64(st, 34, (sqlite3_int64)r->s2c.stream_bytes);
    sqlite3_bind_int64(st, 35, (sqlite3_int64)r->s2c.gap_bytes);
    sqlite3_bind_int64(st, 36, r->s2c.conflicts);
    sqlite3_bind_int(st, 37, r->c2s.tcp_flags);
    sqlite3_bind_int(st, 38, r->s2c.tcp_flags);
    bind_text(st, 39, r->history);
    bind_text(st, 40, r->app);
    sqlite3_bind_text(st, 41, pt_flow_end_str(r->end), -1, SQLITE_STATIC);
    return step(db, st);
}

pt_status pt_db_anomaly_add(struct pt_db *db, uint32_t item, uint64_t frame, uint64_t offset,
                            enum pt_anom kind, const char *detail)
{
    sqlite3_stmt *st = db->st[ST_ANOMALY];
    if (item != 0) {
        sqlite3_bind_int64(st, 1, item);
    }
    if (frame != 0) {
        sqlite3_bind_int64(st, 2, (sqlite3_int64)frame);
    }
    sqlite3_bind_int64(st, 3, (sqlite3_int64)offset);
    sqlite3_bind_text(st, 4, pt_anom_kind(kind), -1, SQLITE_STATIC);
    bind_text(st, 5, detail);
    return step(db, st);
}

pt_status pt_db_anomaly_put(struct pt_db *db, const struct pt_anomaly_rec *a)
{
    return pt_db_anomaly_add(db, a->item, a->frame, a->offset, a->kind, a->detail);
}

pt_status pt_db_anomaly_vocabulary(struct pt_db *db)
{
    sqlite3_stmt *st = NULL;
    pt_status rc = pt_db_exec(db->h,
                              "CREATE TEMP TABLE IF NOT EXISTS anomaly_kind (kind TEXT PRIMARY "
                              "KEY, severity TEXT NOT NULL, limitation TEXT NOT NULL, row TEXT, "
                              "sentence TEXT, ord INTEGER NOT NULL); DELETE FROM anomaly_kind;",
                              NULL, 0);
    if (rc == PT_OK &&
        sqlite3_prepare_v2(db->h,
                           "INSERT INTO anomaly_kind(kind, severity, limitation, row, sentence, "
                           "ord) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = PT_EDB;
    }
    for (int a = 0; a < PT_ANOM_COUNT && rc == PT_OK; a++) {
        const struct pt_anom_info *i = pt_anom_info((enum pt_anom)a);
        sqlite3_bind_text(st, 1, i->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, pt_anom_severity_name(i->severity), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, pt_anom_limitation_name(i->limitation), -1, SQLITE_STATIC);
        bind_text(st, 4, i->row);
        bind_text(st, 5, i->sentence);
        sqlite3_bind_int(st, 6, a);
        rc = step(db, st);
    }
    sqlite3_finalize(st);
    return rc;
}

pt_status pt_db_stream_event_put(struct pt_db *db, const struct pt_stream_event *e)
{
    bool gap = e->kind == PT_STREAM_GAP;
    sqlite3_stmt *st = db->st[gap ? ST_GAP : ST_CONFLICT];
    sqlite3_bind_int64(st, 1, e->flow_id);
    sqlite3_bind_text(st, 2, e->dir == 0 ? "c2s" : "s2c", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)e->off);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)e->len);
    int at = 5;
    if (!gap) {
        char k[PT_SHA256_HEX], o[PT_SHA256_HEX];
        pt_hex(e->kept, PT_SHA256_LEN, k);
        pt_hex(e->other, PT_SHA256_LEN, o);
        sqlite3_bind_text(st, 5, k, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, o, -1, SQLITE_TRANSIENT);
        at = 7;
    }
    if (e->item != 0) {
        sqlite3_bind_int64(st, at, e->item);
        sqlite3_bind_int64(st, at + 1, (sqlite3_int64)e->frame);
    }
    return step(db, st);
}

/* object_str's id of `s` into column i of st (NULL for none or ""): cached, else looked up,
 * else added. */
static pt_status bind_str(struct pt_db *db, sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return PT_OK;
    }
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h = (h ^ *p) * 16777619u;
    }
    struct str_ent *e = &db->str[h % STR_CACHE];
    if (e->s == NULL || strcmp(e->s, s) != 0) {
        sqlite3_stmt *q = db->st[ST_STR_FIND];
        sqlite3_bind_text(q, 1, s, -1, SQLITE_STATIC);
        int64_t id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
        sqlite3_reset(q);
        if (id == 0) {
            sqlite3_bind_text(db->st[ST_STR_ADD], 1, s, -1, SQLITE_STATIC);
            PT_TRY(step(db, db->st[ST_STR_ADD]));
            id = sqlite3_last_insert_rowid(db->h);
        }
        char *copy = strdup(s);
        if (copy == NULL) {
            return PT_ENOMEM;
        }
        free(e->s);
        *e = (struct str_ent){copy, id};
    }
    sqlite3_bind_int64(st, i, e->id);
    return PT_OK;
}

bool pt_db_bind_sha(sqlite3_stmt *st, int i, const char *hex)
{
    uint8_t b[PT_SHA256_LEN];
    if (hex[0] == '\0') {
        return true;
    }
    if (strlen(hex) != 2 * PT_SHA256_LEN || !pt_unhex(hex, 2 * PT_SHA256_LEN, b)) {
        return false;
    }
    sqlite3_bind_blob(st, i, b, PT_SHA256_LEN, SQLITE_TRANSIENT);
    return true;
}

pt_status pt_db_object_put(struct pt_db *db, const struct pt_object_rec *o)
{
    sqlite3_stmt *st = db->st[ST_OBJECT];
    pt_status rc = pt_db_bind_sha(st, 1, o->sha256) && o->sha256[0] != '\0' &&
                           pt_db_bind_sha(st, 20, o->parent_sha256) ? PT_OK : PT_EINTERNAL;
    sqlite3_bind_int64(st, 2, (sqlite3_int64)o->size);
    rc = rc != PT_OK ? rc : bind_str(db, st, 3, o->mime);
    rc = rc != PT_OK ? rc : bind_str(db, st, 4, o->magic);
    bind_text(st, 5, o->name);
    rc = rc != PT_OK ? rc : bind_str(db, st, 6, o->protocol);
    rc = rc != PT_OK ? rc : bind_str(db, st, 7, o->encoding);
    if (o->flow_id != 0) {
        sqlite3_bind_int64(st, 8, o->flow_id);
        sqlite3_bind_int(st, 10, o->dir == 0 ? 0 : 1);
    }
    rc = rc != PT_OK ? rc : bind_str(db, st, 9, o->direction);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)o->stream_off);
    sqlite3_bind_int64(st, 12, o->part);
    sqlite3_bind_int(st, 13, o->complete);
    sqlite3_bind_int64(st, 14, (sqlite3_int64)o->gap_bytes);
    if (strcmp(o->gap_map, "[]") != 0) {
        sqlite3_bind_text(st, 15, o->gap_map, -1, SQLITE_TRANSIENT);
    }
    if (o->item != 0) {
        sqlite3_bind_int64(st, 16, o->item);
        sqlite3_bind_int64(st, 17, (sqlite3_int64)o->frame);
        sqlite3_bind_int64(st, 18, o->ts_us);
    }
    sqlite3_bind_int(st, 19, o->encrypted);
    sqlite3_bind_int(st, 21, (int)o->depth);
    if (rc != PT_OK) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc;
    }
    rc = step(db, st);
    if (rc == PT_OK && o->pack[0] != '\0') {
        st = db->st[ST_BLOB];
        bind_text(st, 1, o->sha256);
        bind_text(st, 2, o->pack);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)o->pack_off);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)o->size);
        rc = step(db, st);
    }
    return rc;
}

pt_status pt_db_record_put(struct pt_db *db, enum pt_rec_kind kind, const void *rec)
{
    pt_rec_put_fn put = pt_rec_put(kind);
    if (put != NULL) {
        return put(db, rec);
    }
    /* its lookup row: found, else added (ids in the order first written) */
    int64_t look = 0;
    sqlite3_stmt *find = db->look[kind][0], *add = db->look[kind][1];
    if (find != NULL) {
        pt_rec_bind_lookup(find, kind, rec);
        int r = sqlite3_step(find);
        look = r == SQLITE_ROW ? sqlite3_column_int64(find, 0) : 0;
        sqlite3_reset(find);
        sqlite3_clear_bindings(find);
        if (r != SQLITE_ROW && r != SQLITE_DONE) {
            return PT_EDB;
        }
        if (r == SQLITE_DONE) {
            pt_rec_bind_lookup(add, kind, rec);
            PT_TRY(step(db, add));
            look = sqlite3_last_insert_rowid(db->h);
        }
    }
    sqlite3_stmt *st = db->rec[kind];
    pt_rec_bind(st, kind, rec, look);
    return step(db, st);
}

/* row_hash = SHA-256 over the previous hash and the fields, each followed by a 0x1f unit
 * separator so that field boundaries cannot be shifted. */
static void chain_hash(const char *prev, int64_t seq, const char *ts, const char *actor,
                       const char *action, const char *detail, char out[PT_SHA256_HEX])
{
    struct pt_sha256 *h = pt_sha256_new();
    if (h == NULL) {
        out[0] = '\0';
        return;
    }
    char seqs[32];
    snprintf(seqs, sizeof seqs, "%lld", (long long)seq);
    const char *parts[] = {prev, seqs, ts, actor, action, detail};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        pt_sha256_update(h, parts[i], strlen(parts[i]));
        pt_sha256_update(h, "\x1f", 1);
    }
    uint8_t dig[PT_SHA256_LEN];
    pt_sha256_final(h, dig);
    pt_sha256_free(h);
    pt_hex(dig, sizeof dig, out);
}

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

pt_status pt_db_audit(struct pt_db *db, const char *actor, const char *action, const char *detail)
{
    int own_tx = !db->in_tx;
    if (own_tx) {
        PT_TRY(pt_db_begin(db));
    }
    sqlite3_stmt *q = db->st[ST_AUDIT_LAST];
    int64_t seq = 1;
    char prev[PT_SHA256_HEX] = GENESIS;
    if (sqlite3_step(q) == SQLITE_ROW) {
        seq = sqlite3_column_int64(q, 0) + 1;
        const unsigned char *p = sqlite3_column_text(q, 1);
        snprintf(prev, sizeof prev, "%s", p ? (const char *)p : "");
    }
    sqlite3_reset(q);
    char ts[32], hash[PT_SHA256_HEX];
    pt_utc_now(ts);
    chain_hash(prev, seq, ts, actor, action, detail, hash);
    sqlite3_stmt *st = db->st[ST_AUDIT];
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, ts, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, action, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, detail, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, prev, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, hash, -1, SQLITE_TRANSIENT);
    pt_status rc = step(db, st);
    if (own_tx) {
        pt_status c = pt_db_commit(db);
        if (rc == PT_OK) {
            rc = c;
        }
    }
    return rc;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

pt_status pt_db_audit_verify(struct pt_db *db, uint64_t *rows, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    *rows = 0;
    if (sqlite3_prepare_v2(db->h,
                           "SELECT seq, ts_utc, actor, action, detail, prev_hash, row_hash "
                           "FROM audit_log ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read audit_log: %s", pt_db_errmsg(db));
        return PT_EDB;
    }
    pt_status rc = PT_OK;
    char prev[PT_SHA256_HEX] = GENESIS;
    int64_t expect = 1;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        char calc[PT_SHA256_HEX];
        chain_hash(prev, seq, col(st, 1), col(st, 2), col(st, 3), col(st, 4), calc);
        if (seq != expect) {
            snprintf(err, errlen, "audit_log row %lld is missing (found %lld next)",
                     (long long)expect, (long long)seq);
            rc = PT_EMALFORMED;
            break;
        }
        if (strcmp(col(st, 5), prev) != 0) {
            snprintf(err, errlen, "audit_log row %lld does not point to the previous row",
                     (long long)seq);
            rc = PT_EMALFORMED;
            break;
        }
        if (strcmp(col(st, 6), calc) != 0) {
            snprintf(err, errlen, "audit_log row %lld was altered (hash mismatch)", (long long)seq);
            rc = PT_EMALFORMED;
            break;
        }
        snprintf(prev, sizeof prev, "%s", calc);
        expect++;
        (*rows)++;
    }
    if (rc == PT_OK && r != SQLITE_DONE) {
        snprintf(err, errlen, "cannot read audit_log: %s", pt_db_errmsg(db));
        rc = PT_EDB;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The digest's input, gathered in a buffer: SHA-256 is fed in large pieces, not a few bytes a
 * call (the bytes, and so the digest, are the same). */
struct dbuf {
    struct pt_sha256 *h;
    size_t n;
    double last_f;          /* the last REAL and its text: a column repeats few values */
    int last_fn;
    char last_fs[40];
    uint8_t b[16384];
};

static void dbuf_put(struct dbuf *d, const void *p, size_t n)
{
    if (d->n + n > sizeof d->b) {
        pt_sha256_update(d->h, d->b, d->n);
        d->n = 0;
        if (n > sizeof d->b / 2) {
            pt_sha256_update(d->h, p, n);
            return;
        }
    }
    memcpy(d->b + d->n, p, n);
    d->n += n;
}

/* tag, the decimal digits of v (as printf's %lld), then end */
static void dbuf_num(struct dbuf *d, char tag, long long v, char end)
{
    char t[24];
    size_t k = sizeof t;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    t[--k] = end;
    do {
        t[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        t[--k] = '-';
    }
    t[--k] = tag;
    dbuf_put(d, t + k, sizeof t - k);
}

/* One value into the digest: a type tag, then the value with its length, so that no two
 * different rows can feed the same bytes. */
static void digest_value(struct dbuf *d, sqlite3_stmt *st, int i)
{
    int type = sqlite3_column_type(st, i);
    if (type == SQLITE_INTEGER) {
        dbuf_num(d, 'i', (long long)sqlite3_column_int64(st, i), ';');
    } else if (type == SQLITE_FLOAT) {
        double v = sqlite3_column_double(st, i);
        if (d->last_fn == 0 || memcmp(&v, &d->last_f, sizeof v) != 0) {
            d->last_fn = snprintf(d->last_fs, sizeof d->last_fs, "f%.17g;", v);
            d->last_f = v;
        }
        dbuf_put(d, d->last_fs, (size_t)d->last_fn);
    } else if (type == SQLITE_NULL) {
        dbuf_put(d, "n;", 2);
    } else {
        const void *p = type == SQLITE_BLOB ? sqlite3_column_blob(st, i)
                                            : (const void *)sqlite3_column_text(st, i);
        int len = sqlite3_column_bytes(st, i);
        dbuf_num(d, type == SQLITE_BLOB ? 'b' : 't', len, ':');
        if (len > 0 && p != NULL) {
            dbuf_put(d, p, (size_t)len);
        }
    }
}

pt_status pt_db_digest(struct pt_db *db, char hex[PT_SHA256_HEX], uint64_t *rows, char *err,
                       size_t errlen)
{
    *rows = 0;
    struct pt_sha256 *h = pt_sha256_new();
    struct dbuf *d = malloc(sizeof *d);
    sqlite3_stmt *tables = NULL, *st = NULL;
    pt_status rc = PT_OK;
    if (h == NULL || d == NULL) {
        pt_sha256_free(h);
        free(d);
        return PT_ENOMEM;
    }
    d->h = h;
    d->n = 0;
    d->last_fn = 0;
    if (sqlite3_prepare_v2(db->h, "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND "
                                  "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name != 'audit_log' "
                                  "ORDER BY name", -1, &tables, NULL) != SQLITE_OK) {
        rc = PT_EDB;
        goto out;
    }
    int r;
    while ((r = sqlite3_step(tables)) == SQLITE_ROW) {
        const char *name = col(tables, 0);
        /* columns first, to order the rows by all of them: the digest does not depend on
         * rowids or insertion order, only on the rows */
        char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", name);
        int ncol = 0;
        if (sql != NULL && sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) == SQLITE_OK) {
            ncol = sqlite3_column_count(st);
        }
        sqlite3_finalize(st);
        st = NULL;
        sqlite3_free(sql);
        sql = sqlite3_mprintf("SELECT * FROM \"%w\" ORDER BY 1", name);
        for (int c = 2; sql != NULL && c <= ncol; c++) {
            char *more = sqlite3_mprintf("%s, %d", sql, c);
            sqlite3_free(sql);
            sql = more;
        }
        if (sql == NULL || ncol == 0 || sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
            sqlite3_free(sql);
            rc = PT_EDB;
            goto out;
        }
        sqlite3_free(sql);
        char tag[160];
        int n = snprintf(tag, sizeof tag, "T%zu:%s;", strlen(name), name);
        dbuf_put(d, tag, (size_t)n < sizeof tag ? (size_t)n : sizeof tag - 1);
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            dbuf_put(d, "R", 1);
            for (int c = 0; c < ncol; c++) {
                digest_value(d, st, c);
            }
            (*rows)++;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (r != SQLITE_DONE) {
            rc = PT_EDB;
            goto out;
        }
    }
    if (r != SQLITE_DONE) {
        rc = PT_EDB;
    }
out:
    if (rc != PT_OK && err != NULL) {
        snprintf(err, errlen, "cannot digest the database: %s", pt_db_errmsg(db));
    }
    sqlite3_finalize(st);
    sqlite3_finalize(tables);
    uint8_t dig[PT_SHA256_LEN];
    pt_sha256_update(h, d->b, d->n);
    pt_sha256_final(h, dig);
    pt_sha256_free(h);
    free(d);
    pt_hex(dig, sizeof dig, hex);
    return rc;
}

void pt_db_lean(struct pt_db *db)
{
    exec(db, "PRAGMA mmap_size=0; PRAGMA cache_size=-2048;");
}

pt_status pt_db_open_sibling(struct pt_db *db, struct pt_db **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *path = sqlite3_db_filename(db->h, "main");
    if (path == NULL || path[0] == '\0') {
        snprintf(err, errlen, "the database has no file to open twice");
        return PT_EUSAGE;
    }
    PT_TRY(pt_db_open_ro(path, out, err, errlen));
    exec(*out, "PRAGMA mmap_size=0; PRAGMA cache_size=-16384;");
    return PT_OK;
}

pt_status pt_db_digest_file(const char *path, char hex[PT_SHA256_HEX], uint64_t *rows, char *err,
                            size_t errlen)
{
    struct pt_db *ro = NULL;
    *rows = 0;
    memset(hex, 0, PT_SHA256_HEX);
    pt_status rc = pt_db_open_ro(path, &ro, err, errlen);
    if (rc == PT_OK) {
        pt_db_lean(ro);
        rc = pt_db_digest(ro, hex, rows, err, errlen);
    }
    pt_db_close(ro);
    return rc;
}
