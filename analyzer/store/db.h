/*
 * db.h - the evidence database (SQLite).
 *
 * Schema in schema.sql (compiled in). application_id marks the file as a
 * phitrace case ('PHIT'), user_version is the schema version. One connection
 * per thread that uses it; during analysis only the writer thread writes.
 */
#ifndef PT_DB_H
#define PT_DB_H

#include <sqlite3.h>
#include <stdint.h>

#include "../core/anomaly.h"
#include "../core/status.h"
#include "../analyze/app.h"
#include "../flow/flow.h"
#include "../ingest/logparse.h"

#define PT_DB_APPLICATION_ID 0x50484954 /* "PHIT" */
/* The schema version is derived from schema.sql's text at build time (the Makefile), so
 * a case written by a phitrace with another schema is refused with a clear message. */
extern const int pt_schema_version;
#define PT_DB_SCHEMA_VERSION pt_schema_version

struct pt_db;

struct pt_anomaly_rec {
    uint32_t item;   /* 0 when not tied to an evidence item */
    uint64_t frame;  /* 0 when not tied to a frame */
    uint64_t offset; /* byte offset in the frame (or file) */
    enum pt_anom kind;
    char detail[200];
};

struct pt_item_rec {
    uint32_t id;
    char path[4096];
    uint64_t size;
    char sha256[65];
    const char *kind;   /* static string */
    char format[32];
    int linktype;       /* -1 when none */
    const char *linktype_name;
    uint64_t packets;
    int64_t first_ts, last_ts; /* 0 when no packet */
    const char *status; /* static string */
    char error[512];
    int64_t mtime;             /* 0 when unknown */
    const char *time_source;   /* static: "packets", "log lines" or NULL */
    uint32_t segments;         /* 0 or 1 for one file */
};

/* One file of a split image (evidence_segment). */
struct pt_segment_rec {
    uint32_t item, seq;
    char path[4096];
    uint64_t size;
    char sha256[65];
    int64_t mtime;
};

/* What a log's lines were read as (log_source). */
struct pt_logsource_rec {
    uint32_t item;
    char path[4096];
    const char *format;        /* static */
    struct pt_logstats st;
};

/* Create a new database at `path` (must not exist). Returns owned through *out. */
void pt_db_global_init(void);
pt_status pt_db_create(const char *path, struct pt_db **out, char *err, size_t errlen);
/* Open an existing case database read-only (immutable: nothing is written). */
pt_status pt_db_open_ro(const char *path, struct pt_db **out, char *err, size_t errlen);
/* The same, writable: only for custody records appended after the run (pt_db_audit). */
/* A second reading connection beside the run's own (the seal's digest, report.json): no map
 * and a small page cache, as it reads each table in one pass, so that the run's peak memory
 * does not grow by a second connection's. */
void pt_db_lean(struct pt_db *db);
/* A reading connection to the same case file as `db`, for a thread that reads what is
 * committed while `db` writes on (the verdict's DNS groups): lean, with a 16 MiB page cache
 * for its sorts; PT_EUSAGE for a database without a file. */
pt_status pt_db_open_sibling(struct pt_db *db, struct pt_db **out, char *err, size_t errlen);
pt_status pt_db_open_rw(const char *path, struct pt_db **out, char *err, size_t errlen);
void pt_db_close(struct pt_db *db);

/* Run SQL statements on a handle (the stages after capture write through it); on failure
 * SQLite's message goes to err (may be NULL) and the result is PT_EDB. */
pt_status pt_db_exec(sqlite3 *h, const char *sql, char *err, size_t errlen);
/* The first column of the first row of `sql` as an integer, 0 when there is none. */
int64_t pt_db_int(sqlite3 *h, const char *sql);
const char *pt_db_errmsg(struct pt_db *db);

pt_status pt_db_begin(struct pt_db *db);
pt_status pt_db_commit(struct pt_db *db);
/* Undo the transaction pt_db_begin opened (nothing when none is open). */
void pt_db_rollback(struct pt_db *db);
/* The tables whose rows grew after they were written copied back in id order, every index
 * rebuilt packed (those filled in random order, by hash or key, are about a third empty
 * after the run) and the freed pages returned to the file system; rows and ids do not
 * change. flow_tuple and flow_pair are left as they are: they are built in bulk once the
 * flows are written (packed already, REINDEX would sort the flows again for nothing), and
 * whoever writes a flow after building one rebuilds it (logflows.c, logxfer.c). */
pt_status pt_db_compact(struct pt_db *db, char *err, size_t errlen);
/* The SQLite library's version, for the manifest and --version. */
const char *pt_db_sqlite_version(void);

pt_status pt_db_manifest_set(struct pt_db *db, const char *key, const char *value);
pt_status pt_db_item_put(struct pt_db *db, const struct pt_item_rec *it);
pt_status pt_db_segment_put(struct pt_db *db, const struct pt_segment_rec *s);
/* Connections read from logs become flows (store/logflows.c): matched to a flow that is
 * already known (captures, earlier logs) after each log's clock offset, or flows of their own. */
struct pt_logflow_stats {
    uint64_t logs, matched, created, blocked, untimed, skewed;
};
pt_status pt_db_log_flows(struct pt_db *db, const struct pt_cidr_set *home,
                          struct pt_logflow_stats *st, char *err, size_t errlen);
/* A connection's class from its addresses: internal | outbound | inbound | external. */
const char *pt_logflow_class(const struct pt_cidr_set *home, const char *cli, const char *srv);
/* The FTP servers' file transfers (log_xfer) after them (store/logxfer.c): placed on a data
 * connection already known, or flows of their own when the server's address is known from a
 * control connection. */
struct pt_logxfer_stats {
    uint64_t transfers, matched, created, unaddressed, untimed, failed;
};
pt_status pt_db_log_xfers(struct pt_db *db, const struct pt_cidr_set *home,
                          struct pt_logxfer_stats *st, char *err, size_t errlen);
/* Logs read as records (ingest/logparse.h). */
pt_status pt_db_logsource_put(struct pt_db *db, const struct pt_logsource_rec *r);
pt_status pt_db_logconn_put(struct pt_db *db, const struct pt_logconn_rec *r);
/* A NetFlow/IPFIX record of a capture (analyze/netflow.c) as its log_conn row (logflows.c):
 * records.def's put function of the netflow record. */
pt_status pt_db_netflow_put(struct pt_db *db, const struct pt_netflow_rec *r);
pt_status pt_db_logxfer_put(struct pt_db *db, const struct pt_logxfer_rec *r);
pt_status pt_db_logwinevt_put(struct pt_db *db, const struct pt_logwinevt_rec *r);
pt_status pt_db_logaudit_put(struct pt_db *db, const struct pt_logaudit_rec *r);
/* A patient an audit message names: its keyed hash (and identifier with --keep-phi). */
pt_status pt_db_logaudit_patient_put(struct pt_db *db, const struct pt_logaudit_patient_rec *r);
pt_status pt_db_logdns_put(struct pt_db *db, const struct pt_logdns_rec *r);
pt_status pt_db_loghttp_put(struct pt_db *db, const struct pt_loghttp_rec *r);
pt_status pt_db_flow_put(struct pt_db *db, const struct pt_flow_rec *r);
pt_status pt_db_anomaly_put(struct pt_db *db, const struct pt_anomaly_rec *a);
/* The same from its parts, the detail of any length (NULL or "" stores NULL); item and frame
 * 0 store NULL. */
pt_status pt_db_anomaly_add(struct pt_db *db, uint32_t item, uint64_t frame, uint64_t offset,
                            enum pt_anom kind, const char *detail);
/* The anomaly vocabulary (core/anomalies.def) as the table temp.anomaly_kind(kind, severity,
 * limitation, row, sentence, ord): SQL asks it what a kind means instead of matching kind
 * strings. It lives in this connection only; the case file does not carry it. */
pt_status pt_db_anomaly_vocabulary(struct pt_db *db);
pt_status pt_db_stream_event_put(struct pt_db *db, const struct pt_stream_event *e);
pt_status pt_db_object_put(struct pt_db *db, const struct pt_object_rec *o);
/* A decoder's record (analyze/records.def): `rec` is the struct pt_<name>_rec of `kind`; its
 * columns are bound as records.def says, or it goes to its own put function (PT_RECORD_PUT). */
pt_status pt_db_record_put(struct pt_db *db, enum pt_rec_kind kind, const void *rec);

/* Append a custody event to the hash chain (its own transaction when none is open). */
pt_status pt_db_audit(struct pt_db *db, const char *actor, const char *action, const char *detail);
/* Recompute the chain. PT_OK when intact; PT_EMALFORMED with `err` naming the first bad row. */
pt_status pt_db_audit_verify(struct pt_db *db, uint64_t *rows, char *err, size_t errlen);

/* SHA-256 over the rows of every table but audit_log (which is chained): tables by name, rows
 * ordered by all their columns, each value typed and length-prefixed. Equal contents give
 * equal digests whatever the insertion order; an edited, added or removed row changes it.
 * `rows` counts the rows covered. */
pt_status pt_db_digest(struct pt_db *db, char hex[PT_SHA256_HEX], uint64_t *rows, char *err,
                       size_t errlen);
/* The same digest of the database file at `path`, through a read-only connection of its own
 * (it may run on another thread than the connection that wrote the rows, once they are all
 * committed). */
pt_status pt_db_digest_file(const char *path, char hex[PT_SHA256_HEX], uint64_t *rows, char *err,
                            size_t errlen);

/* Current UTC time as ISO 8601 with microseconds. */
void pt_utc_now(char out[32]);

#endif
