/*
 * records.h - the decoders' records (analyze/records.def) as rows: one INSERT and one binder
 * for every kind, both read from the .def's column lists. Private to store/.
 */
#ifndef PT_STORE_RECORDS_H
#define PT_STORE_RECORDS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

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
/* A kind's lookup (records.def's PT_LOOKUP): "SELECT id FROM <lookup> WHERE <column> IS ?1
 * AND ..." (`add` false) or "INSERT INTO <lookup>(<columns>) VALUES (?1, ...)"; owned
 * (sqlite3_free). NULL for a kind without one. */
char *pt_rec_lookup_sql(enum pt_rec_kind kind, bool add);
/* Bind a record's columns to the parameters of pt_rec_insert_sql()'s statement; its lookup
 * column (if any) to `lookup_id`. */
void pt_rec_bind(sqlite3_stmt *st, enum pt_rec_kind kind, const void *rec, int64_t lookup_id);
/* Bind a record's lookup columns to the parameters of pt_rec_lookup_sql()'s statements. */
void pt_rec_bind_lookup(sqlite3_stmt *st, enum pt_rec_kind kind, const void *rec);

#endif
