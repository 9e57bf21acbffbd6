/*
 * diskart.h - disk artifacts read from the objects at rest after they are stored (issue 15
 * item 4): Windows recycle-bin `$I` records (recycle.h) and browser downloads (browser.h),
 * written to recycle_record and browser_download; their times go to the timeline (verdict
 * stage, store/q_disk.h).
 *
 * Trust boundary: the objects are evidence. A `$I` file is parsed from its bytes through the
 * cursor; a browser database is copied into a private directory of the case
 * (objects/tmp/dl.XXXXXX, 0700, the copy 0600), read there by sqlite3 read-only and removed.
 * Limits: objects of at most PT_DISKART_MAX_DB bytes are read.
 */
#ifndef PT_DISKART_H
#define PT_DISKART_H

#include <stddef.h>

#include "../core/status.h"

#define PT_DISKART_MAX_DB (512ull << 20)

struct pt_db;

struct pt_diskart_result {
    unsigned recycle;    /* $I records */
    unsigned downloads;  /* browser download rows */
};

pt_status pt_diskart_phase(struct pt_db *db, const char *case_dir, struct pt_diskart_result *res,
                           char *err, size_t errlen);
/* The phase as the pipeline runs it: a failure is logged, what was found an audit row. */
pt_status pt_diskart_run(struct pt_db *db, const char *case_dir);

#endif
