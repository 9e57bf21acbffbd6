/*
 * phase.h - the PHI stage of a run: after capture and file ingest have stored every object,
 * each distinct object is scanned (phi/scan.c) on N threads, hits are masked and keyed,
 * records are joined into patient entities (union-find), and the individuals are counted
 * with bounds, overall and for what left home-net.
 *
 * Runs on the thread that owns the database (the writer has finished); results are written
 * in object-hash order so the database does not depend on the thread count.
 */
#ifndef PT_PHI_PHASE_H
#define PT_PHI_PHASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_db;
struct pt_yara;

struct pt_phi_options {
    const char *case_dir;
    unsigned threads;
    bool keep_phi;          /* also store full values in phi_value */
    bool quiet;
    const struct pt_yara *yara; /* rules to run on every object, NULL for none */
};

struct pt_phi_result {
    uint64_t objects, records, hits, phi_hits, individuals, individuals_outbound, yara_matches;
};

/* Create CASE/phi.key (32 random bytes, mode 0600) or read the existing one. */
pt_status pt_phi_key(const char *case_dir, uint8_t key[32], char *err, size_t errlen);

/* Mask a normalised value of a type name ("ssn" -> "***-**-6789"). */
void pt_phi_mask(const char *type, const char *value, char *out, size_t len);

pt_status pt_phi_phase(struct pt_db *db, const struct pt_phi_options *o, struct pt_phi_result *res,
                       char *err, size_t errlen);

#endif
