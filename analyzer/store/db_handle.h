/*
 * db_handle.h - the SQLite connection of a case database, for store/ only. Modules outside
 * store/ read and write through the functions of the store headers.
 *
 * Outside store/, only the files of tools/store_open.allow still use it (tools/store_closed.sh,
 * run by `make lint`, keeps it so): report/ (moved on another branch; it gets it through
 * db.h's transitional include) and the verdict stage (the files of verdict/).
 */
#ifndef PT_STORE_DB_HANDLE_H
#define PT_STORE_DB_HANDLE_H

#include <sqlite3.h>

struct pt_db;

sqlite3 *pt_db_handle(struct pt_db *db);

#endif
