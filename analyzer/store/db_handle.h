/*
 * db_handle.h - the SQLite connection of a case database, for store/ only. Modules outside
 * store/ read and write through the functions of the store headers.
 *
 * Outside store/, no module uses it: tools/store_closed.sh (run by `make lint`) fails on any
 * file outside store/ that includes it or uses SQLite, but those tools/store_open.allow lists
 * (analyze/browser.c, which opens evidence databases, not the case).
 */
#ifndef PT_STORE_DB_HANDLE_H
#define PT_STORE_DB_HANDLE_H

#include <sqlite3.h>

struct pt_db;

sqlite3 *pt_db_handle(struct pt_db *db);

#endif
