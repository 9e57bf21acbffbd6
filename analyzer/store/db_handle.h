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

/* SQL: phi_object `p` (or phi_record, phi_hit: their object_id) is the object whose hash is the
 * expression `sha`. phi_object_row names its object by object(id), the first of its hash
 * (schema.sql), so the second term is how a query finds `p` from a hash by an index; the first
 * lets it go the other way (from `p` to the object by object_sha). */
#define PHI_OBJECT_OF(p, sha) \
    "(" p ".object_sha256 = " sha " AND " p ".object_id = (SELECT min(x_.id) FROM object x_ " \
    "WHERE x_.sha256 = " sha "))"

#endif
