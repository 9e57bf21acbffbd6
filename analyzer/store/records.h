/*
 * records.h - the decoders' records (analyze/records.def) as rows: one INSERT and one binder
 * for every kind, both read from the .def's column lists. Private to store/.
 */
#ifndef PT_STORE_RECORDS_H
#define PT_STORE_RECORDS_H

#include <sqlite3.h>

#include "../analyze/app.h"

#include "../core/status.h"

struct pt_db;

/* The table a kind's rows go to; NULL for a record with its own put function. */
const char *pt_rec_table(enum pt_rec_kind kind);
/* A record's own put function (PT_RECORD_PUT), NULL for the others. */
typedef pt_status (*pt_rec_put_fn)(struct pt_db *db, const void *rec);
pt_rec_put_fn pt_rec_put(enum pt_rec_kind kind);
/* "INSERT INTO <table>(<columns>) VALUES (?1, ...)" for a kind; owned (sqlite3_free). NULL
 * for a record with its own put function. */
char *pt_rec_insert_sql(enum pt_rec_kind kind);
/* Bind a record's columns to the parameters of pt_rec_insert_sql()'s statement. */
void pt_rec_bind(sqlite3_stmt *st, enum pt_rec_kind kind, const void *rec);

#endif
