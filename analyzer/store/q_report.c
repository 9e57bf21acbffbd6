/*
 * q_report.c - the report modules' reads of the case database (see q_report.h).
 */
#include "q_report.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "q_disk.h"

/* Bytes an inside host sent: for outbound flows the client's, for inbound the server's.
 * Sequence-implied bytes win over header-announced ones when the capture missed segments. */
#define OUT_BYTES                                                                                  \
    "CASE WHEN class='outbound' THEN max(c_payload_bytes, c_seq_bytes) "                           \
    "WHEN class='inbound' THEN max(s_payload_bytes, s_seq_bytes) ELSE 0 END"

static const char *const sql[PT_Q_COUNT] = {
#define PT_QUERY(name, text) [PT_Q_##name] = text,
#include "q_report.def"
#undef PT_QUERY
};

struct pt_q {
    sqlite3_stmt *st;
};

pt_status pt_q_open(struct pt_db *db, enum pt_query name, struct pt_q **out)
{
    *out = NULL;
    if ((unsigned)name >= PT_Q_COUNT) {
        return PT_EINTERNAL;
    }
    struct pt_q *q = calloc(1, sizeof *q);
    if (q == NULL) {
        return PT_ENOMEM;
    }
    if (sqlite3_prepare_v2(pt_db_handle(db), sql[name], -1, &q->st, NULL) != SQLITE_OK) {
        sqlite3_finalize(q->st);
        free(q);
        return PT_EDB;
    }
    *out = q;
    return PT_OK;
}

pt_status pt_q_bind_int(struct pt_q *q, int idx, int64_t v)
{
    return sqlite3_bind_int64(q->st, idx, v) == SQLITE_OK ? PT_OK : PT_EDB;
}

bool pt_q_step(struct pt_q *q)
{
    return sqlite3_step(q->st) == SQLITE_ROW;
}

int64_t pt_q_int(const struct pt_q *q, int col)
{
    return sqlite3_column_int64(q->st, col);
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
