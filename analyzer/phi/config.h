/*
 * config.h - PHI detection settings read from the signatures directory once per run,
 * before any worker starts, and read-only afterwards:
 *   icd10cm.txt  ICD-10-CM code table (blocks "A00-A09" or codes "U07.1")
 *   phi.conf     institution MRN masks ("mrn_mask = RAD#######": A letter, # digit,
 *                ? letter or digit, anything else literal)
 * The SHA-256 of each file read is returned for the run manifest.
 */
#ifndef PT_PHI_CONFIG_H
#define PT_PHI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/sha256.h"
#include "../core/status.h"

struct pt_phi_config_file {
    char name[64];
    char sha256[PT_SHA256_HEX];
};

/* Load `dir`/icd10cm.txt and `dir`/phi.conf; fills up to `max` file records. */
pt_status pt_phi_config_load(const char *dir, struct pt_phi_config_file *files, size_t max,
                             size_t *n_files, char *err, size_t errlen);
void pt_phi_config_free(void);

/* The ICD-10-CM code "A00.1" (point optional) is in the table. */
bool pt_phi_config_icd10(const char *code);
/* The token s[0..n) matches one of the institution MRN masks. */
bool pt_phi_config_mrn_mask(const char *s, size_t n);
/* Institution masks are configured. */
bool pt_phi_config_has_masks(void);
/* Add a mask (tests, and phi.conf). */
void pt_phi_config_add_mask(const char *mask);

#endif
