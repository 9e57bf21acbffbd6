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
#include <stdint.h>

#include "../core/status.h"

struct pt_db;

#define PT_Q_CAT_STAGED 1u
#define PT_Q_CAT_PRESENT 2u

/* Fill object_category, individual_category, disk_holding and the individuals_by_state rows
 * of 'staged' and 'present'. Needs phi_object, phi_record (with entity ids), patient_entity,
 * yara_match, archive_password, object and disk_file; idempotent (rows are replaced). */
pt_status pt_q_disk_categorize(struct pt_db *db, char *err, size_t errlen);

/* fn(arg, sha256, PT_Q_CAT_* bits) for every categorized object, in sha256 order. */
pt_status pt_q_disk_category_each(struct pt_db *db, void (*fn)(void *, const char *, unsigned),
                                  void *arg);

/* The reports' queries. Individuals per category: category, what it means, estimate, lower,
 * upper, deceased (rows in the order left, staged, present). */
extern const char pt_q_disk_categories_sql[];
/* Archives and folders holding individuals, largest first: kind, path, staged, reason,
 * individuals, records, objects. */
extern const char pt_q_disk_holdings_sql[];
/* Browser downloads and recycle-bin records for the reports, in time order. */
extern const char pt_q_disk_downloads_sql[];
extern const char pt_q_disk_recycle_sql[];
/* One line for summary.txt: "left N (bounds a-b); staged ...; present ..." (NULL columns when
 * the PHI stage did not run). */
extern const char pt_q_disk_summary_sql[];

/* Objects at rest that may be disk artifacts (recycle-bin `$I` files, browser history
 * databases), one per content, at most `max_size` bytes: fn(arg, row). */
struct pt_q_disk_candidate {
    const char *sha256, *path, *pack; /* pack "" when the object is a file of its own */
    uint32_t item;
    uint64_t size, pack_off;
};
pt_status pt_q_disk_candidates(struct pt_db *db, uint64_t max_size,
                               void (*fn)(void *, const struct pt_q_disk_candidate *),
                               void *arg);

/* Rows of browser_download and recycle_record (times 0 and counts < 0 are NULL). */
struct pt_q_download_row {
    uint32_t item;
    const char *sha256, *source_path, *browser, *url, *target, *state;
    int64_t start_us, end_us, received, total;
};
struct pt_q_recycle_row {
    uint32_t item;
    const char *sha256, *path, *original_path;
    unsigned version;
    uint64_t size;
    int64_t deleted_us;
};
pt_status pt_q_disk_download_put(struct pt_db *db, const struct pt_q_download_row *r);
pt_status pt_q_disk_recycle_put(struct pt_db *db, const struct pt_q_recycle_row *r);
/* An anomaly of an item (kind string from anomalies.def). */
pt_status pt_q_disk_anomaly(struct pt_db *db, uint32_t item, const char *kind, const char *detail);

#endif
