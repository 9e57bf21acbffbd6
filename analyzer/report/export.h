/*
 * export.h - `phitrace export`: the events, findings, objects, flows, individuals and timeline
 * of a case for pipelines, as NDJSON, CSV (RFC 4180), Timesketch JSONL or plaso's l2t_csv.
 *
 * Read from evidence.db alone, opened read-only: the exports hold what the database holds
 * (masked PHI; never phi_value). Every flow, and every object carried by one, gets its
 * Community ID (core/communityid.h). The fields of each export and their versions are the
 * JSON Schemas reports/schema/export-<what>-v1.schema.json, export-timesketch-v1.schema.json
 * and export-l2tcsv-v1.schema.json; README.md "Exports" describes them.
 */
#ifndef PT_EXPORT_H
#define PT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/status.h"

struct pt_db;
/* Whether the case is not whole, with the reason (pt_case_incomplete of pipeline.h). */
typedef bool (*pt_export_incomplete_fn)(struct pt_db *db, const char *case_dir, char *why,
                                        size_t len);

/* The command: argv[0] is "export"; `incomplete` refuses a case that is not whole. Writes the files (0600, replaced by rename) or stdout;
 * messages on stderr. PT_EUSAGE for a usage error (message printed), PT_EIO / PT_EDB when the
 * case cannot be read or an output cannot be written, PT_EMALFORMED for an incomplete case. */
pt_status pt_export_cmd(int argc, char **argv, pt_export_incomplete_fn incomplete);

#endif
