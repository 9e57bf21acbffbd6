/*
 * report.h - the reports, built from the evidence database alone: report.json (schema
 * reports/schema/report-v1.schema.json), report.html (self-contained: inline CSS and SVG,
 * no script, no external resource; prints to PDF) and report.txt.
 *
 * The same database gives the same reports, apart from the generation time line.
 */
#ifndef PT_REPORT_H
#define PT_REPORT_H

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

/* Write CASE/report.{json,html,txt} for the formats in `mask`. */
pt_status pt_report_write(struct pt_db *db, const char *case_dir, unsigned mask, char *err,
                          size_t errlen);

#endif
