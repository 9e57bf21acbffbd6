/*
 * q_scale.h - the scale-out's reads and writes of case databases (scale/shard.c, merge.c,
 * stitch.c). The merge attaches one shard case at a time to the merged one (as schema
 * `shard`), copies its rows table by table and replays its audit chain; then it finds the
 * connections cut between shards, and the stitch replaces their rows by a re-read's.
 *
 * The copies are generated, not written per table: the tables to copy and their columns are
 * read from the merged case's own schema (schema.sql as compiled in), so a table added or
 * re-laid out (phi_hit's columns, a record of analyze/records.def) is copied as it now is.
 * A rowid-alias id is left for SQLite to number again, except evidence_item's and flow's,
 * which the plan made the same in every shard (flow.h). Strings handed to a callback are ""
 * for NULL and live until it returns.
 */
#ifndef PT_STORE_Q_SCALE_H
#define PT_STORE_Q_SCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_db;

/* run_manifest's value of `key` in `out`; false when absent. */
bool pt_q_manifest_get(struct pt_db *db, const char *key, char *out, size_t len);

/* ---- a shard attached (as schema `shard`) ---- */

/* Attach DIR/evidence.db; err says why not. */
pt_status pt_q_shard_attach(struct pt_db *db, const char *dir, char *err, size_t errlen);
void pt_q_shard_detach(struct pt_db *db);
/* A transaction whose foreign keys are checked at its end (tables go in name order). */
pt_status pt_q_shard_begin(struct pt_db *db, char *err, size_t errlen);
/* The attached shard's evidence_item `id`: its SHA-256 ("" for NULL) and size; false when it
 * has none. */
bool pt_q_shard_item(struct pt_db *db, int64_t id, char *sha, size_t shalen, uint64_t *size);
/* Every table's rows but run_manifest's, audit_log's and object_blob's, in the shard's row
 * order; an item read in byte ranges, whose row is in each of its shards, becomes one row
 * with their sizes and packets summed. object_blob once per SHA-256, its pack named
 * packs/s<idx>-<name>. */
pt_status pt_q_shard_copy_rows(struct pt_db *db, unsigned idx, char *err, size_t errlen);

struct pt_q_chain_row {
    int64_t seq;
    const char *actor, *action, *detail, *row_hash;
};
/* The attached shard's audit chain in order; stops at fn's first failure, returned. */
pt_status pt_q_shard_chain(struct pt_db *db,
                           pt_status (*fn)(void *arg, const struct pt_q_chain_row *r), void *arg);

/* ---- the merged case ---- */

/* Item `id` read in ranges, whole: its SHA-256 set when its size is `size` (PT_EMALFORMED
 * when not); `status` gets its status ("?" when it has no row). */
pt_status pt_q_item_hashed(struct pt_db *db, int64_t id, const char *sha, uint64_t size,
                           char *status, size_t len);
/* Every item's id and SHA-256, by id; stops at fn's first failure, returned. */
pt_status pt_q_items_sha(struct pt_db *db, pt_status (*fn)(void *arg, int64_t id, const char *sha),
                         void *arg);

/* Which shard read which frames of an item: frames lo..hi of `item` by `shard`. */
struct pt_q_part {
    int64_t item, lo, hi;
    unsigned shard;
};
/* A flow `a` open (or just closed) at its shard's end and the next flow `b` of the same
 * endpoints in read order, in another shard, within the idle timeout (merge.c: find_cuts). */
struct pt_q_cut {
    int64_t a, b, item; /* item: b's */
    int sa, sb;         /* their shards */
    int64_t dt;         /* b's first packet after a's last, microseconds */
    bool syn;           /* b opens with a SYN */
    bool a_eof;         /* a still open at its shard's end */
};
/* Every such pair, by a's id; stops at fn's first failure, returned. err says what failed. */
pt_status pt_q_cuts(struct pt_db *db, const struct pt_q_part *parts, size_t n_parts,
                    pt_status (*fn)(void *arg, const struct pt_q_cut *c), void *arg, char *err,
                    size_t errlen);
/* Flow `id` ended by "reuse" (a new connection of its endpoints opened). */
pt_status pt_q_flow_reuse(struct pt_db *db, int64_t id);
/* Flows still "eof" at the end of the whole run's packets (`end`, microseconds) ended "idle"
 * when past their idle timeout, as pt_flow_flush does. */
pt_status pt_q_flows_age(struct pt_db *db, int64_t end, char *err, size_t errlen);

/* The run's counts. */
struct pt_q_totals {
    uint64_t items, packets, flows, anomalies, items_failed;
};
void pt_q_totals(struct pt_db *db, struct pt_q_totals *t);

/* ---- the stitch ---- */

/* Where a flow starts and ends in read order, and its two addresses. */
struct pt_q_flow_span {
    int64_t item, frame, last_item, last_frame;
    char client[64], server[64];
};
bool pt_q_flow_span(struct pt_db *db, int64_t id, struct pt_q_flow_span *out);
/* The connections between flow `id`'s two hosts opened before it and still open at its first
 * packet: fn(arg, their id, item, first frame). */
pt_status pt_q_open_before(struct pt_db *db, int64_t id,
                           void (*fn)(void *arg, int64_t id, int64_t item, int64_t frame),
                           void *arg);
/* The re-read case (attached as `shard`) replaces the rows of flows old[0..n) and of every
 * flow it saw end, with their rows' (every table with a flow_id), and object_blob rows
 * follow the objects (the re-read's packs named packs/s<idx>-<name>); heads[0..n) must then
 * be there. All or nothing: on failure the merged case is as before and err says why. */
pt_status pt_q_stitch_replace(struct pt_db *db, const int64_t *old, const int64_t *heads,
                              size_t n, unsigned idx, char *err, size_t errlen);

#endif
