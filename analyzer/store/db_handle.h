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
#include <stdbool.h>

struct pt_db;

sqlite3 *pt_db_handle(struct pt_db *db);

/* What the writer knows of rows (object_str's ids of strings) forgotten: after SQL that may
 * have deleted them. */
void pt_db_forget(struct pt_db *db);

/* Column i of st: the 32 bytes of the hash `hex` (64 hex digits), what object_row.sha holds
 * (NULL for ""); false, nothing bound, when it is not a hash. */
bool pt_db_bind_sha(sqlite3_stmt *st, int i, const char *hex);

/* SQL: the 32 bytes of object(id) `id`'s hash. */
#define OBJECT_SHA(id) "(SELECT y_.sha FROM object_row y_ WHERE y_.id = " id ")"

/* SQL: `o` (an alias of object, the view) is an object whose hash is the 32 bytes `sha`:
 * found by the hash index (object.sha256, the hash as hex, has none). */
#define OBJECT_HASHED(o, sha) \
    "(" o ".id IN (SELECT z_.id FROM object_row z_ WHERE z_.sha = " sha "))"

/* SQL: `o` (an alias of object) was unpacked from the object whose hash is the 32 bytes `sha`
 * (object_row.parent; no index: a scan of object_row's rows, not of the view's). */
#define OBJECT_CHILD(o, sha) \
    "(" o ".id IN (SELECT w_.id FROM object_row w_ WHERE w_.parent = " sha "))"

/* SQL: phi_object `p` (or phi_record, phi_hit: their object_id) is the object whose hash is the
 * expression `sha`, as hex. phi_object_row names its object by object(id), the first of its
 * hash (schema.sql), so the first term is how a query finds `p` from a hash by an index (the
 * hash's bytes through unhex(), which store/db.c registers); the second lets it go the other
 * way. */
#define PHI_OBJECT_OF(p, sha) \
    "(" p ".object_id = (SELECT min(x_.id) FROM object_row x_ WHERE x_.sha = unhex(" sha "))" \
    " AND " p ".object_sha256 = " sha ")"

#endif
