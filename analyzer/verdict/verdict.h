/*
 * verdict.h - exfiltration heuristics, events and the verdict (DESIGN.md "Verdict";
 * research/network-anchors.md §6-8).
 *
 * Runs after the PHI stage on the database alone, so it works the same on any case:
 * heuristics write `finding` rows, findings and PHI objects that left are grouped into
 * `exfil_event` rows per (inside host, destination), each with a verdict and its reasons
 * linked to evidence rows; `verdict` holds the verdict per destination and overall;
 * `limitation` what the evidence could not show; `timeline_event` the chronology.
 *
 * Verdicts, in order: confirmed (PHI content seen leaving home-net in a decoded stream or
 * object), likely (PHI staged or accessed, then encrypted or tunnelled outbound volume of
 * comparable size to an unusual destination), possible (exfiltration-shaped behaviour
 * without PHI content evidence), not observed (none of these within the stated coverage).
 */
#ifndef PT_VERDICT_H
#define PT_VERDICT_H

#include <stddef.h>

#include "../core/status.h"

struct pt_db;

enum pt_verdict_level {
    PT_VERDICT_NOT_OBSERVED,
    PT_VERDICT_POSSIBLE,
    PT_VERDICT_LIKELY,
    PT_VERDICT_CONFIRMED,
};

const char *pt_verdict_name(enum pt_verdict_level v);
/* "confirmed", "likely", "possible" (or "not-observed"); -1 when unknown. */
int pt_verdict_parse(const char *s);

struct pt_verdict_result {
    enum pt_verdict_level overall;
    unsigned findings, events;
};

/* Thresholds from `sig_dir`/heuristics.conf and `sig_dir`/cloud_endpoints.txt. */
pt_status pt_verdict_run(struct pt_db *db, const char *sig_dir, struct pt_verdict_result *res,
                         char *err, size_t errlen);

/* The overall verdict stored in a case database. */
pt_status pt_verdict_read(struct pt_db *db, enum pt_verdict_level *out);

#endif
