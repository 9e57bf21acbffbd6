/*
 * pipeline.h - the analyze run: ingest -> decode -> flows -> store.
 *
 * Threads: the calling thread reads every input in order and decodes; N
 * workers own disjoint flow tables chosen by a symmetric flow hash; one
 * writer thread owns the database connection. Hand-offs are batches through
 * bounded queues, so memory is bounded whatever the input size.
 */
#ifndef PT_PIPELINE_H
#define PT_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

struct pt_db;
struct pt_run_result;
struct pt_view;

/* Scale-out: a capture read in part (scale/split.c). Bytes [offset, end) of item `item`,
 * after its first `head` bytes (the header) when offset > 0; frames numbered from frames + 1. */
struct pt_byte_range {
    uint32_t item;
    uint64_t head, offset, end, frames;
};

#define PT_MAX_IMAGE_HOSTS 64

struct pt_options {
    char **inputs;
    size_t n_inputs;
    const char *case_dir;
    const char *home_net;  /* NULL: PT_HOME_NET_DEFAULT */
    unsigned threads;      /* workers; 0 = number of cores */
    uint32_t max_flows;    /* per worker; 0 = default */
    uint64_t memcap;       /* bytes of per-flow decoder state, all workers; 0 = default */
    bool flows_only;       /* decode and flows; no reassembly, protocols or objects */
    bool progress;
    bool progress_json;    /* --progress=json: JSON lines on stderr, even with quiet */
    bool quiet;
    bool force;            /* reuse a case directory that already holds a database */
    bool keep_phi;         /* store full PHI values (phi_value) besides masked ones */
    bool no_phi;           /* skip the PHI stage */
    bool copy_inputs;      /* copy files at rest into CASE/objects (default: link to them) */
    int keep_objects;      /* --keep-objects: enum pt_keep_objects (store/objkeep.h), 0 evidence */
    const char *signatures;/* signatures directory; NULL: found beside the executable */
    const char *rules;     /* extra YARA rules directory (--rules) */
    const char *passwords; /* --passwords FILE: candidate archive passwords, or NULL */
    /* --image-host IMAGE=ADDR: the disk image of a host (verdict/heur_staging.c) */
    const char *image_hosts[PT_MAX_IMAGE_HOSTS];
    size_t n_image_hosts;
    const char *case_id;   /* --case-id, --examiner, --org: the manifest and report header */
    const char *examiner;
    const char *org;
    const char *geoip;     /* --geoip FILE.mmdb: country and network of destinations, or NULL */
    int fail_on;           /* exit 3 at this verdict level or above; -1: off */
    int argc;
    char **argv;
    /* Scale-out (scale/scale.h). A shard run reads only the expanded inputs whose item id is
     * in `only_items` (sorted; the ids stay those of the whole input list) and stops after the
     * capture and file stages: no log joining, tunnels, archive passwords, PHI, verdict or
     * reports. A merge run reads no input: `merge` (the scale module's) fills the database
     * from the shard cases once the writer has finished, then every later stage runs. */
    const uint32_t *only_items;
    size_t n_only;
    /* items of `only_items` read in part (sorted by item, one range each); NULL for none */
    const struct pt_byte_range *ranges;
    size_t n_ranges;
    /* The merge's re-read of connections cut between shards (scale/merge.c): a packet whose
     * view this refuses is decoded (frame numbers stay) but not given to the flows. */
    bool (*keep_view)(void *arg, const struct pt_view *v);
    void *keep_arg;
    bool shard;
    pt_status (*merge)(void *arg, struct pt_db *db, const char *case_dir,
                       struct pt_run_result *res);
    void *merge_arg;
    /* Called with the directory the run builds in, before the database is created (the
     * shard and merge runs write the plan's phi.key there); NULL for none. */
    pt_status (*prepare)(void *arg, const char *build_dir);
    void *prepare_arg;
    const char *const *manifest; /* more run_manifest rows: key, value, ..., NULL */
};

struct pt_run_result {
    uint64_t items, items_failed, packets, flows, anomalies;
    uint64_t phi_hits, individuals, individuals_outbound, yara_matches;
    int verdict;           /* enum pt_verdict_level of the run */
    double report_seconds; /* writing the reports (after the manifest was sealed) */
    uint64_t objects_lost; /* objects the store could not write (store.failed anomalies) */
    bool incomplete;       /* the case was sealed incomplete (objects lost): exit 2 */
};

/* Run an analysis. PT_EUSAGE: bad options (message printed); PT_EIO/PT_EDB/PT_ENOMEM: the run
 * stopped. Per-input problems are recorded and do not fail the run. */
pt_status pt_analyze(const struct pt_options *opt, struct pt_run_result *res);

/* Re-hash every input and check the audit chain. Prints a report on stdout.
 * PT_OK when everything matches, PT_EMALFORMED on any mismatch. */
pt_status pt_verify(const char *case_dir);
/* `phitrace export-object`: the bytes of one stored object (from its file or its pack,
 * checked against its SHA-256) to `out_path` (created 0600) or stdout when NULL or "-". */
pt_status pt_export_object(const char *case_dir, const char *sha256, const char *out_path);

/* True when the case in `db` (directory `case_dir`) is not whole, with the reason in `why`:
 * it has no completion record or summary.txt does not name it (the run was interrupted or
 * failed), the run sealed it incomplete (objects lost), or an evidence item was never hashed.
 * `verify` and `report` refuse such a case (exit 2). */
bool pt_case_incomplete(struct pt_db *db, const char *case_dir, char *why, size_t len);

/* The signatures directory: `given`, else $PHITRACE_SIGNATURES, else signatures/ beside the
 * executable (or two levels up, for build/san/phitrace), else PT_DATADIR/signatures. */
bool pt_signatures_dir(const char *given, char *out, size_t len);

/* The versions line(s) for --version. */
void pt_print_versions(void);

#endif
