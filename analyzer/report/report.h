/*
 * report.h - the reports, built from the evidence database alone: report.json (schema
 * reports/schema/report-v3.schema.json), report.html (self-contained: inline CSS and SVG,
 * no script, no external resource; prints to PDF) and report.txt.
 *
 * The same database gives the same reports, apart from the generation time line.
 */
#ifndef PT_REPORT_H
#define PT_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/status.h"

struct pt_db;

enum {
    PT_REPORT_JSON = 1,
    PT_REPORT_HTML = 2,
    PT_REPORT_TXT = 4,
};

/* "html,json,txt" to a mask; 0 on an unknown name. */
unsigned pt_report_formats(const char *list);

/* Write CASE/report.{json,html,txt} for the formats in `mask`, each file 0600 and replaced
 * by rename. `incomplete` is NULL for a complete case, else why the case is not whole: every
 * report then says INCOMPLETE CASE with that reason before anything else. */
pt_status pt_report_write(struct pt_db *db, const char *case_dir, unsigned mask,
                          const char *incomplete, char *err, size_t errlen);

/* The same in two steps, for the run, which seals the reports' hashes into the audit chain
 * between them: stage writes CASE/report.*.staged, publish renames them into place. */
pt_status pt_report_stage(struct pt_db *db, const char *case_dir, unsigned mask,
                          const char *incomplete, char *err, size_t errlen);
pt_status pt_report_publish(const char *case_dir, unsigned mask, char *err, size_t errlen);
/* File name of one format ("report.json"), and the path of its staged file. */
const char *pt_report_name(unsigned bit);
bool pt_report_staged_path(const char *case_dir, unsigned bit, char *out, size_t len);

/* The long lists, written with report.json (which holds their first rows and totals): list i
 * (from 0) is the file CASE/<name>, "report/timeline.jsonl.gz" ..., JSON Lines compressed
 * with gzip; NULL past the last. Staged beside it as <name>.staged until published. */
const char *pt_report_list_name(size_t i);
bool pt_report_list_staged_path(const char *case_dir, size_t i, char *out, size_t len);

#endif
