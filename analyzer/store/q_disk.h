/*
 * q_disk.h - queries about data on disk (issue 15 items 4 and 6): which objects at rest were
 * staged on the host and which are merely present, the categories of each individual, and how
 * many individuals each archive and each folder of an image holds (schema.sql:
 * object_category, individual_category, disk_holding). The PHI stage calls
 * pt_q_disk_categorize once its entities are written and counts the individuals of each
 * category with the same bounds as the others; the reports read the SQL below.
 */
#ifndef PT_STORE_Q_DISK_H
#define PT_STORE_Q_DISK_H

#include <sqlite3.h>
#include <stddef.h>

#include "../core/status.h"

#define PT_Q_CAT_STAGED 1u
#define PT_Q_CAT_PRESENT 2u

/* Fill object_category, individual_category, disk_holding and the individuals_by_state rows
 * of 'staged' and 'present'. Needs phi_object, phi_record (with entity ids), patient_entity,
 * yara_match, archive_password, object and disk_file; idempotent (rows are replaced). */
pt_status pt_q_disk_categorize(sqlite3 *h, char *err, size_t errlen);

/* fn(arg, sha256, PT_Q_CAT_* bits) for every categorized object, in sha256 order. */
pt_status pt_q_disk_category_each(sqlite3 *h, void (*fn)(void *, const char *, unsigned),
                                  void *arg);

/* The reports' queries. Individuals per category: category, what it means, estimate, lower,
 * upper, deceased (rows in the order left, staged, present). */
extern const char pt_q_disk_categories_sql[];
/* Archives and folders holding individuals, largest first: kind, path, staged, reason,
 * individuals, records, objects. */
extern const char pt_q_disk_holdings_sql[];
/* One line for summary.txt: "left N (bounds a-b); staged ...; present ..." (NULL columns when
 * the PHI stage did not run). */
extern const char pt_q_disk_summary_sql[];

#endif
