/*
 * q_case.h - what `phitrace verify` and `export-object` read (verify.c): the completion
 * record and the audit chain, the evidence items and segments with their audit rows, rows
 * that point to no flow, and the stored objects. Strings handed to a callback are "" for
 * NULL and live until it returns; a callback returns false to stop.
 */
#ifndef PT_STORE_Q_CASE_H
#define PT_STORE_Q_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/sha256.h"
#include "../core/status.h"

struct pt_db;

/* The last completion record (case_sealed): its seq and detail; false when there is none. */
bool pt_q_seal_row(struct pt_db *db, long long *seq, char *detail, size_t len);
/* The last audit row's seq and hash; false when the log is empty. */
bool pt_q_audit_last(struct pt_db *db, long long *seq, char hash[PT_SHA256_HEX]);
/* Is row `seq` the completion record, with hash `hash`? */
bool pt_q_audit_head_is(struct pt_db *db, long long seq, const char *hash);
/* The action of every audit row after `seq`; PT_EDB when they cannot be read. */
pt_status pt_q_audit_after(struct pt_db *db, long long seq,
                           bool (*fn)(void *arg, const char *action), void *arg);

/* Evidence items not hashed although neither skipped nor failed. */
long long pt_q_unhashed_items(struct pt_db *db);

struct pt_q_item {
    long long id, size, segments;
    const char *path, *sha256, *status;
    const char *range; /* a shard's byte range of the file (its range_hashed audit row's
                        * detail), "" for a whole item */
};
/* Every evidence item, by id. */
void pt_q_items(struct pt_db *db, bool (*fn)(void *arg, const struct pt_q_item *it), void *arg);
/* How many evidence_segment rows item `id` has. */
long long pt_q_segment_count(struct pt_db *db, long long id);

struct pt_q_segment {
    long long seq, size;
    const char *path, *sha256;
    const char *audit; /* its segment_hashed rows' details, '\n' between them */
};
/* The segments of item `id`, in order. */
void pt_q_segments(struct pt_db *db, long long id,
                   bool (*fn)(void *arg, const struct pt_q_segment *s), void *arg);

/* Every evidence item with its input_hashed (or, for a shard's byte range, range_hashed)
 * rows' details ('\n' between them, "" for none). */
void pt_q_item_audits(struct pt_db *db,
                      bool (*fn)(void *arg, long long id, const char *sha256, long long size,
                                 const char *audit),
                      void *arg);

/* For each table whose rows point to a flow (stream events, objects, the records of
 * analyze/records.def): how many point to none; fn is called for those with some. */
void pt_q_orphans(struct pt_db *db, void (*fn)(void *arg, const char *table, long long rows),
                  void *arg);

/* Where an object not kept (--keep-objects) came from: its first occurrence. */
struct pt_q_origin {
    uint32_t item, depth;
    char path[4096];          /* the evidence item's path */
    char item_sha256[72];     /* its SHA-256, "" when not hashed */
    int64_t flow_id;          /* 0 for a file at rest */
    char stream_dir[8];       /* c2s | s2c */
    uint64_t stream_off, frame;
    char parent[72];          /* the archive it came out of, "" at the top */
};
bool pt_q_object_origin(struct pt_db *db, const char *sha256, struct pt_q_origin *o);
/* A run_manifest value; false when the key is absent. */
bool pt_q_manifest_value(struct pt_db *db, const char *key, char *out, size_t len);
/* Every distinct stored object by hash, with its pack ("" for an object file, "-" for one
 * the case did not keep: no object_blob row once the keep stage ran, objkeep.h). */
void pt_q_stored_objects(struct pt_db *db,
                         bool (*fn)(void *arg, const char *sha256, const char *pack,
                                    uint64_t off, uint64_t size),
                         void *arg);

/* Object `sha256`: false when the case holds none; else where its bytes are. */
bool pt_q_object_place(struct pt_db *db, const char *sha256, char *pack, size_t packlen,
                       uint64_t *off, uint64_t *size);

#endif
