/*
 * summary.h - the first summary: flows and bytes per class, top outbound
 * talkers, anomalies by kind, inputs that failed. Built from the database
 * alone; written to CASE/summary.txt (main prints it).
 */
#ifndef PT_SUMMARY_H
#define PT_SUMMARY_H

#include <stdbool.h>
#include <stdio.h>

#include "../core/status.h"
#include "../store/db.h"

pt_status pt_summary_render(struct pt_db *db, FILE *out);

#endif
