/*
 * q_names.c - destinations and their names (see q_names.h).
 */
#include "q_names.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "db_handle.h"

pt_status pt_q_destinations(struct pt_db *db, pt_status (*fn)(void *arg, const char *dest),
                            void *arg)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(pt_db_handle(db),
                           "SELECT DISTINCT subject FROM verdict WHERE scope = 'destination' "
                           "UNION SELECT DISTINCT destination FROM encrypted_channel ORDER BY 1",
                           -1, &q, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    pt_status st = PT_OK;
    while (st == PT_OK && sqlite3_step(q) == SQLITE_ROW) {
        const unsigned char *d = sqlite3_column_text(q, 0);
        st = fn(arg, d ? (const char *)d : "");
    }
    sqlite3_finalize(q);
    return st;
}

struct pt_q_dname {
    sqlite3_stmt *ins;
};

pt_status pt_q_dname_open(struct pt_db *db, struct pt_q_dname **out)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL) {
        return PT_ENOMEM;
    }
    if (sqlite3_prepare_v2(pt_db_handle(db),
                           "INSERT OR IGNORE INTO destination_name(destination, kind, name, seen, "
                           "first_ts) VALUES (?1, ?2, ?3, 1, NULL)",
                           -1, &(*out)->ins, NULL) != SQLITE_OK) {
        pt_q_dname_close(*out);
        *out = NULL;
        return PT_EDB;
    }
    return PT_OK;
}

pt_status pt_q_dname_put(struct pt_q_dname *w, const char *dest, const char *kind,
                         const char *name)
{
    sqlite3_bind_text(w->ins, 1, dest, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(w->ins, 2, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(w->ins, 3, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(w->ins);
    sqlite3_reset(w->ins);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

void pt_q_dname_close(struct pt_q_dname *w)
{
    if (w != NULL) {
        sqlite3_finalize(w->ins);
        free(w);
    }
}
