/*
 * records.h - the decoders' records (analyze/records.def) as rows: one INSERT and one binder
 * for every kind, both read from the .def's column lists. Private to store/.
 */
#ifndef PT_STORE_RECORDS_H
#define PT_STORE_RECORDS_H

#include <sqlite3.h>

#include "../analyze/app.h"

/* The table a kind's rows go to. */
const char *pt_rec_table(enum pt_rec_kind kind);
/* "INSERT INTO <table>(<columns>) VALUES (?1, ...)" for a kind; owned (sqlite3_free). */
char *pt_rec_insert_sql(enum pt_rec_kind kind);
/* Bind a record's columns to the parameters of pt_rec_insert_sql()'s statement. */
void pt_rec_bind(sqlite3_stmt *st, enum pt_rec_kind kind, const void *rec);

#endif
