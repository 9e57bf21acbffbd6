/*
 * geoip.h - `--geoip FILE.mmdb`: country and network of the outside destinations from a
 * MaxMind-format database (libmaxminddb), as destination_name rows; see geoip.c.
 */
#ifndef PT_GEOIP_H
#define PT_GEOIP_H

#include <stddef.h>

#include "../core/status.h"

struct pt_db;

/* Open and close `path`: PT_OK when libmaxminddb reads it (checked before a run starts). */
pt_status pt_geoip_check(const char *path, char *err, size_t errlen);

/* After the verdict stage: a geoip_country and a geoip_asn row per destination the database
 * knows (`found` counts them), and the manifest's geoip_* keys. PT_EUSAGE when the file
 * cannot be opened as a MaxMind database. */
pt_status pt_geoip_annotate(struct pt_db *db, const char *path, unsigned *found, char *err,
                            size_t errlen);

#endif
