/*
 * scale.h - scale-out: a shard plan, shard runs and their merge (issue 19).
 *
 *   phitrace plan INPUT... --shards N -o PLAN      the inputs expanded (as `analyze` would),
 *                                                  hashed, and split by file over N shards
 *   phitrace analyze --plan PLAN --shard I -o S    the capture and file stages over shard
 *                                                  I's inputs: a shard case
 *   phitrace merge -o CASE S...                    the shard cases joined into one case, then
 *                                                  the whole-case stages run once
 *
 * Which stage runs where. A shard runs everything that reads the inputs: decoding, flows,
 * reassembly, the protocol decoders, object extraction and storage (and archives unpacked
 * from them), logs and disk images read as records. The merge runs what needs every input at
 * once: logs joined to flows, DNS tunnels grouped across flows, archive passwords harvested
 * from all of the evidence, the PHI scan of each distinct object and the patient entities
 * joined over all of them, the heuristics (a beacon whose connections fall in different
 * shards is one beacon), events, verdict and reports. The PHI scan runs at the merge
 * because the entity join needs the values themselves and a shard case stores only masked
 * values and keyed hashes; the merge scans each distinct object once whichever shards saw it.
 *
 * The plan is a text file, one record a line, fields separated by one space; a path field
 * is the rest of the line with bytes below 0x21, 0x7f and '%' written as %XX:
 *
 *   phitrace-plan 1
 *   shards N
 *   key HEX64             the case's PHI key (CASE/phi.key of every shard and of the merge)
 *   home-net CIDRS|-      - for the default
 *   memcap BYTES          0 for the default
 *   max-flows N           0 for the default
 *   flows-only 0|1, keep-phi 0|1, no-phi 0|1, copy-inputs 0|1
 *   signatures PATH|-, rules PATH|-, passwords PATH|-
 *   image-host IMAGE=ADDR one per --image-host (IMAGE absolute when it names a path with a
 *                         '/', else a file name; the whole value written as a path): the merge
 *                         links the images to their hosts as a single run does (image_host)
 *   input PATH            one per INPUT argument, absolute, in the order given
 *   item ID SHARD SIZE SHA256|- PATH   one per expanded input (ID as the case's item id;
 *                         SHA256 "-" when skipped, unreadable or planned with --no-hash)
 *   range ID SHARD OFFSET END FRAMES HEAD SHA256
 *                         item ID is a capture read in byte ranges (split.c): SHARD reads
 *                         bytes [OFFSET, END), after the file's first HEAD bytes (its header)
 *                         when OFFSET > 0, numbering its frames from FRAMES + 1; OFFSET is a
 *                         packet boundary the plan verified by walking every record before
 *                         it, and FRAMES the packets it walked. The ranges of an item follow
 *                         its item line, from 0 to its size without gap or overlap, one shard
 *                         each; SHA256 is the range's bytes' (the item's is the whole file's)
 *   end COUNT             the number of item lines: a cut plan is refused
 *
 * Lines starting with '#' are comments. The plan holds the case key: it is written 0600 and
 * is as private as a case's phi.key.
 */
#ifndef PT_SCALE_H
#define PT_SCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdatomic.h>
#include <stdio.h>

#include "../core/sha256.h"
#include "../pipeline.h"
#include "../core/status.h"

struct pt_options;
struct pt_run_result;

#define PT_PLAN_MAX_SHARDS 4096

struct pt_plan_item {
    uint32_t id;
    unsigned shard;
    uint64_t size;
    char sha256[PT_SHA256_HEX]; /* "" when the input is skipped or unreadable */
    char *path;                 /* owned */
    size_t first_range, n_ranges; /* its ranges in pt_plan.ranges; n_ranges 0: read whole */
};

/* A capture read in parts (plan "range" lines); a shard run is given its own (pipeline.h). */
struct pt_plan_range {
    struct pt_byte_range r;
    unsigned shard;
    char sha256[PT_SHA256_HEX];
};

struct pt_plan {
    unsigned shards;
    uint8_t key[32];
    char *home_net, *signatures, *rules, *passwords; /* owned, NULL when not set */
    uint64_t memcap;
    uint32_t max_flows;
    bool flows_only, keep_phi, no_phi, copy_inputs;
    char *image_hosts[PT_MAX_IMAGE_HOSTS]; /* owned: --image-host IMAGE=ADDR */
    size_t n_image_hosts;
    char **inputs; /* owned: the INPUT arguments, absolute */
    size_t n_inputs;
    struct pt_plan_item *items; /* owned, by id */
    size_t n_items;
    struct pt_plan_range *ranges; /* owned, by item then offset */
    size_t n_ranges;
    char sha256[PT_SHA256_HEX]; /* of the plan file's bytes (when loaded) */
};

/* Write a plan for `o->inputs` (settings from `o`: home_net, memcap, max_flows, flows_only,
 * keep_phi, no_phi, copy_inputs, signatures, rules, passwords, image_hosts) over `shards` shards to
 * `out` (0600, replaced whole). A new random case key. `hash`: SHA-256 of every input (one
 * read of all of them on the planning host); without it the plan holds sizes only and the
 * merge cannot tell an input changed between the plan and its shard by content. Messages
 * on stderr. */
pt_status pt_plan_create(const struct pt_options *o, unsigned shards, const char *out,
                         bool hash, bool quiet);

/* Read and check a plan. `err` says why it was refused. */
pt_status pt_plan_load(const char *path, struct pt_plan *p, char *err, size_t errlen);
void pt_plan_fini(struct pt_plan *p);

/* `phitrace analyze --plan PLAN --shard I`: `o` carries the case directory and the local
 * options (threads, quiet, progress); everything else comes from the plan. Rerunning it
 * replaces the shard case (built beside it and swapped in). */
pt_status pt_scale_shard(const char *plan, unsigned shard, const struct pt_options *o,
                         struct pt_run_result *res);

/* `phitrace merge -o CASE SHARD...`: every shard of one plan, each once; with
 * `allow_missing`, absent shards are recorded (anomaly scale.shard_missing) instead of
 * refusing. `o` carries the case directory and local options. */
pt_status pt_scale_merge(char **shards, size_t n, bool allow_missing, const struct pt_options *o,
                         struct pt_run_result *res);

/* Between shard.c and merge.c. The options a plan sets (inputs, home-net, memcap, ...); the
 * plan's --image-host links are added to those already in `o` (merge's own). */
void pt_scale_plan_options(const struct pt_plan *p, struct pt_options *o);
/* A run's `prepare` hook: CASE/phi.key from the plan and CASE/plan.txt, a copy of the plan
 * file `plan_path` (refused when its bytes no longer hash to the plan's SHA-256). */
struct pt_scale_prep {
    const struct pt_plan *plan;
    const char *plan_path;
};
pt_status pt_scale_prepare(void *arg, const char *dir);
/* Between merge.c and stitch.c (their SQL is store/q_scale.h's). */
pt_status pt_scale_copy_objects(const char *dir, unsigned idx, const char *case_dir);
void pt_scale_remove_tree(const char *dir);
/* stitch.c: the flows of `pairs` (n_pairs pairs of flow ids: a connection cut between two
 * shards, chains allowed) replaced in the merged database by the flows a re-read of the
 * evidence gives (one, where a whole run has one); `stitched[k]` says which pairs were (not
 * those across a shard not merged, `merged` being by shard). */
struct pt_db;
pt_status pt_scale_stitch(const struct pt_plan *plan, const bool *merged,
                          const struct pt_scale_prep *pp, const struct pt_options *base,
                          struct pt_db *db, const char *case_dir, const int64_t *pairs,
                          size_t n_pairs, bool *stitched, char *err, size_t errlen);

/* ---- split.c: one capture cut at packet boundaries ---- */

#define PT_SPLIT_MAX_CAPLEN (1u << 24) /* a record longer than this ends the walk */
enum { PT_SPLIT_PCAP = 1, PT_SPLIT_PCAP_NS, PT_SPLIT_PCAPNG };
struct pt_split_cut {
    uint64_t offset, frames; /* a packet record's offset and the packets before it */
};
struct pt_split {
    int format;             /* PT_SPLIT_*; 0: not a capture split here */
    uint64_t head, size;    /* the header a range is read after; the file's size */
    struct pt_split_cut *cuts;
    unsigned n;
};
/* Up to `n_want` cuts, the j-th at the first packet record at or after want[j] (ascending),
 * each verified by walking every record from the start; returns how many were found, a
 * prefix of the wanted ones (0: not a capture split here, or no boundary). */
unsigned pt_split_capture(const char *path, const uint64_t *want, unsigned n_want,
                          struct pt_split *out);
void pt_split_fini(struct pt_split *s);
/* SHA-256 of the whole file and of each of its s->n + 1 ranges, in one read. */
pt_status pt_split_hash(const char *path, const struct pt_split *s,
                        char whole_hex[PT_SHA256_HEX], char (*range_hex)[PT_SHA256_HEX],
                        uint64_t *size);
/* A stream over range `rg` of `path` (its header first, when the range is not the first).
 * Close the stream (pcap_close does), then pt_split_reader_done: true when every byte of the
 * range was read; `hex` its SHA-256 (what libpcap left unread is hashed too), `bytes` how
 * many of its bytes were read. */
struct pt_split_reader;
FILE *pt_split_open(const struct pt_byte_range *rg, const char *path, _Atomic uint64_t *progress,
                    struct pt_split_reader **rd);
/* "pcap", "pcap-ns" or "pcapng" (NULL: not one split here) and the file's mtime in us. */
const char *pt_split_describe(const char *path, int64_t *mtime_us);
bool pt_split_reader_done(struct pt_split_reader *rd, char hex[PT_SHA256_HEX], uint64_t *bytes);

#endif
