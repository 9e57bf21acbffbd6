/*
 * q_report.c - the report modules' reads of the case database (see q_report.h).
 */
#include "q_report.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "db_handle.h"
#include "q_disk.h"
#include "q_stmt.h"

/* Bytes an inside host sent: for outbound flows the client's, for inbound the server's.
 * Sequence-implied bytes win over header-announced ones when the capture missed segments. */
#define OUT_BYTES                                                                                  \
    "CASE WHEN class='outbound' THEN max(c_payload_bytes, c_seq_bytes) "                           \
    "WHEN class='inbound' THEN max(s_payload_bytes, s_seq_bytes) ELSE 0 END"

/* Microseconds as ISO 8601 UTC; ISO_SP with a space for the T, so that a narrow table cell
 * can wrap it (report.html). */
#define ISO(col) "strftime('%Y-%m-%dT%H:%M:%SZ', " col " / 1000000, 'unixepoch')"
#define ISO_SP(col) "strftime('%Y-%m-%d %H:%M:%SZ', " col " / 1000000, 'unixepoch')"
/* Hits per PHI type (HIPAA Safe Harbor identifier) and the objects carrying them, from the
 * PHI stage's per-object counts (phi_object_type: one row per object and type, so count(*) is
 * the objects); `more` adds columns, `name` names the type column, `order` follows hits. */
#define PHI_TYPES_SQL(more, name, order)                                                           \
    "SELECT t.type AS " name ", t.safe_harbor AS safe_harbor, sum(t.hits) AS hits, count(*) AS "  \
    "objects" more " FROM phi_object_type t JOIN phi_object p ON p.id = t.object_id WHERE "       \
    "t.phi_class = 'PHI' GROUP BY t.type, t.safe_harbor ORDER BY hits DESC" order

/* Events by verdict (confirmed first), then time. */
#define EVENT_ORDER "CASE verdict WHEN 'confirmed' THEN 0 WHEN 'likely' THEN 1 ELSE 2 END, first_ts, id"

/* The names of destination `d` as a JSON array of {kind, name, seen} (all of them). */
#define NAMES_JSON(d)                                                                              \
    "(SELECT json_group_array(json_object('kind', kind, 'name', name, 'seen', seen)) FROM "       \
    "(SELECT kind, name, seen FROM destination_name WHERE destination = " d " ORDER BY kind, "    \
    "seen DESC, name))"

static const char *const sql[PT_Q_COUNT] = {
#define PT_QUERY(name, text) [PT_Q_##name] = text,
#include "q_report.def"
#undef PT_QUERY
};

pt_status pt_q_prepare(struct pt_db *db, const char *text, struct pt_q **out)
{
    *out = NULL;
    struct pt_q *q = calloc(1, sizeof *q);
    if (q == NULL) {
        return PT_ENOMEM;
    }
    q->db = db;
    if (sqlite3_prepare_v2(pt_db_handle(db), text, -1, &q->st, NULL) != SQLITE_OK) {
        sqlite3_finalize(q->st);
        free(q);
        return PT_EDB;
    }
    *out = q;
    return PT_OK;
}

pt_status pt_q_open(struct pt_db *db, enum pt_query name, struct pt_q **out)
{
    *out = NULL;
    return (unsigned)name < PT_Q_COUNT ? pt_q_prepare(db, sql[name], out) : PT_EINTERNAL;
}

pt_status pt_q_bind_int(struct pt_q *q, int idx, int64_t v)
{
    return sqlite3_bind_int64(q->st, idx, v) == SQLITE_OK ? PT_OK : PT_EDB;
}

pt_status pt_q_bind_real(struct pt_q *q, int idx, double v)
{
    return sqlite3_bind_double(q->st, idx, v) == SQLITE_OK ? PT_OK : PT_EDB;
}

pt_status pt_q_bind_text(struct pt_q *q, int idx, const char *s)
{
    return sqlite3_bind_text(q->st, idx, s, -1, SQLITE_TRANSIENT) == SQLITE_OK ? PT_OK : PT_EDB;
}

bool pt_q_step(struct pt_q *q)
{
    q->rc = sqlite3_step(q->st);
    return q->rc == SQLITE_ROW;
}

pt_status pt_q_done(const struct pt_q *q)
{
    return q->rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

const char *pt_q_errmsg(const struct pt_q *q)
{
    return pt_db_errmsg(q->db);
}

int pt_q_columns(const struct pt_q *q)
{
    return sqlite3_column_count(q->st);
}

const char *pt_q_name(const struct pt_q *q, int col)
{
    const char *n = sqlite3_column_name(q->st, col);
    return n ? n : "";
}

enum pt_q_type pt_q_type(const struct pt_q *q, int col)
{
    switch (sqlite3_column_type(q->st, col)) {
        case SQLITE_NULL: return PT_Q_NULL;
        case SQLITE_INTEGER: return PT_Q_INT;
        case SQLITE_FLOAT: return PT_Q_REAL;
        default: return PT_Q_TEXT;
    }
}

int64_t pt_q_int(const struct pt_q *q, int col)
{
    return sqlite3_column_int64(q->st, col);
}

double pt_q_real(const struct pt_q *q, int col)
{
    return sqlite3_column_double(q->st, col);
}

const char *pt_q_text(const struct pt_q *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q->st, col);
    return t ? (const char *)t : "";
}

bool pt_q_is_null(const struct pt_q *q, int col)
{
    return sqlite3_column_type(q->st, col) == SQLITE_NULL;
}

void pt_q_free(struct pt_q *q)
{
    if (q != NULL) {
        sqlite3_finalize(q->st);
        free(q);
    }
}
