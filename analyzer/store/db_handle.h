/*
 * db_handle.h - the SQLite connection of a case database, for store/ only. Modules outside
 * store/ read and write through the functions of the store headers.
 *
 * Still included outside store/ (their SQL has not moved yet; remove this list's entries as
 * it does): report/report.c, report/summary.c, report/notify.c, report/export.c,
 * scale/merge.c, scale/shard.c, verdict/verdict.c, verify.c, analyze/tunnel_phase.c,
 * analyze/archive_pw.c, verdict/geoip.c; tests/unit/test_db.c (white-box).
 */
#ifndef PT_STORE_DB_HANDLE_H
#define PT_STORE_DB_HANDLE_H

#include <sqlite3.h>

struct pt_db;

sqlite3 *pt_db_handle(struct pt_db *db);

#endif
