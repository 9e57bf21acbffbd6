/*
 * q_report.h - the report modules' reads of the case database, by name. Every statement is
 * a line of q_report.def, here in store/; a report module opens one, steps through its rows
 * and reads their columns, and never prepares SQL itself.
 */
#ifndef PT_Q_REPORT_H
#define PT_Q_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/status.h"
#include "db.h"

enum pt_query {
#define PT_QUERY(name, sql) PT_Q_##name,
#include "q_report.def"
#undef PT_QUERY
    PT_Q_COUNT
};

struct pt_q;

enum pt_q_type { PT_Q_NULL, PT_Q_INT, PT_Q_REAL, PT_Q_TEXT };

/* Prepare query `name` over the case; *out is owned (pt_q_free). PT_EDB when it cannot be. */
pt_status pt_q_open(struct pt_db *db, enum pt_query name, struct pt_q **out);
/* Bind parameter `idx` (1-based) before the first step. */
pt_status pt_q_bind_int(struct pt_q *q, int idx, int64_t v);
pt_status pt_q_bind_real(struct pt_q *q, int idx, double v);
pt_status pt_q_bind_text(struct pt_q *q, int idx, const char *s);
/* The next row: true while there is one. */
bool pt_q_step(struct pt_q *q);
/* Once pt_q_step returned false: PT_OK when the rows ended, PT_EDB when reading failed (the
 * store's message: pt_q_errmsg). */
pt_status pt_q_done(const struct pt_q *q);
const char *pt_q_errmsg(const struct pt_q *q);
/* The columns: how many, their names as the query gives them. */
int pt_q_columns(const struct pt_q *q);
const char *pt_q_name(const struct pt_q *q, int col);
/* Columns of the current row (0-based); text is "" for NULL, borrowed until the next step. */
enum pt_q_type pt_q_type(const struct pt_q *q, int col);
int64_t pt_q_int(const struct pt_q *q, int col);
double pt_q_real(const struct pt_q *q, int col);
const char *pt_q_text(const struct pt_q *q, int col);
bool pt_q_is_null(const struct pt_q *q, int col);
/* NULL-safe. */
void pt_q_free(struct pt_q *q);

#endif
