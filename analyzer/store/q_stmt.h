/*
 * q_stmt.h - for store/ only: a pt_q (q_report.h) over SQL a store module composed itself,
 * as q_export.c does for the export descriptors.
 */
#ifndef PT_STORE_Q_STMT_H
#define PT_STORE_Q_STMT_H

#include "../core/status.h"

struct pt_db;
struct pt_q;

struct pt_q {
    struct sqlite3_stmt *st;
    struct pt_db *db;
    int rc; /* the last sqlite3_step result */
};

/* Prepare `text` over the case; *out is owned (pt_q_free). PT_EDB when it cannot be. */
pt_status pt_q_prepare(struct pt_db *db, const char *text, struct pt_q **out);

#endif
