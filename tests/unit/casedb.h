/* casedb.h - a new case database for a unit test: `setup` creates DIR/evidence.db with the
 * schema in a fresh directory under /tmp (its prefix CASEDB_PREFIX), `teardown` closes and
 * removes it (with its WAL files), `exec` runs SQL on it and fails the test on an error.
 * Included once by a test file, after cm.h. */
#ifndef PT_TEST_CASEDB_H
#define PT_TEST_CASEDB_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/db.h"
#include "store/db_handle.h"

static char dir[64];
static char path[128];
static struct pt_db *db;

static int setup(void **state)
{
    (void)state;
    char err[256];
    snprintf(dir, sizeof dir, "/tmp/" CASEDB_PREFIX "-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(path, sizeof path, "%s/evidence.db", dir);
    return pt_db_create(path, &db, err, sizeof err) == PT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char p[160];
    pt_db_close(db);
    static const char *const ext[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, ext[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

static void exec(const char *sql)
{
    char err[256] = "";
    if (pt_db_exec(pt_db_handle(db), sql, err, sizeof err) != PT_OK) {
        fail_msg("%s: %s", sql, err);
    }
}

#endif
