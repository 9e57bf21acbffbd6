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

/* Prepare query `name` over the case; *out is owned (pt_q_free). PT_EDB when it cannot be. */
pt_status pt_q_open(struct pt_db *db, enum pt_query name, struct pt_q **out);
/* Bind parameter `idx` (1-based) before the first step. */
pt_status pt_q_bind_int(struct pt_q *q, int idx, int64_t v);
/* The next row: true while there is one. */
bool pt_q_step(struct pt_q *q);
/* Columns of the current row (0-based); text is "" for NULL, borrowed until the next step. */
int64_t pt_q_int(const struct pt_q *q, int col);
const char *pt_q_text(const struct pt_q *q, int col);
bool pt_q_is_null(const struct pt_q *q, int col);
/* NULL-safe. */
void pt_q_free(struct pt_q *q);

#endif
