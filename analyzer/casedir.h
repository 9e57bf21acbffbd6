/*
 * casedir.h - the case directory of an analyze run: made private (0700) or built beside an
 * existing case (--force) and swapped in at the end, its manifest (tool, library and
 * signature versions, settings, host, arguments), its seal (the completion record in the
 * audit chain) and summary.txt, the run's last write.
 */
#ifndef PT_CASEDIR_H
#define PT_CASEDIR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sha256.h"
#include "core/status.h"
#include "pipeline.h"
#include "store/db.h"
#include "writer.h"

/* The directory the run builds in, into `build`: o->case_dir itself (created 0700, or an
 * existing one without a database, tightened to 0700 with a warning), or with --force over
 * an existing case a sibling CASE.partial-XXXXXX that pt_case_publish swaps in.
 * PT_EUSAGE: a database is there and no --force (message printed); PT_EIO. */
pt_status pt_case_dir_make(const struct pt_options *o, char *build, size_t len);
/* --force: the case built in `build` replaces `case_dir` in one exchange of names, then the
 * old one is removed. */
pt_status pt_case_publish(const char *build, const char *case_dir);

/* The run's manifest rows: versions, schema, home_net, mode, threads, start, case id,
 * examiner, organisation, host and the command line. */
void pt_case_manifest(struct pt_writer *w, const struct pt_options *o, unsigned threads,
                      const char *home, const char *start);

/* The digest of every table (pt_db_digest), taken on a thread of its own through a second,
 * read-only connection while the reports are written: the analysis has committed all its
 * rows by then and the reports only read, so it is the digest the writing connection would
 * take. When the thread cannot start, pt_case_seal takes the digest itself. */
struct pt_case_digest {
    pthread_t th;
    bool started;
    pt_status rc;
    uint64_t rows;
    char hex[PT_SHA256_HEX];
    char path[4400];
    char err[512];
};
void pt_case_digest_start(struct pt_case_digest *d, const char *dir);

/* The completion record: a digest of every table (from `d` when its thread started, else
 * taken here) and the SHA-256 of each staged report (`reports`, PT_REPORT_* bits), sealed
 * into the audit chain with `incomplete` (NULL: the case is complete) as the reason; then the
 * reports are moved into place. */
pt_status pt_case_seal(struct pt_db *db, const char *dir, unsigned reports,
                       const char *incomplete, struct pt_case_digest *d);
/* DIR/summary.txt. */
pt_status pt_case_write_summary(const char *dir, const char *text, size_t len);

#endif
