/*
 * objstore.h - the case's object store: every transferred file or message, by SHA-256.
 *
 * An object is hashed as it streams out of a decoder and kept in memory up to
 * PT_OBJ_MEM_BYTES (within a per-worker budget); a larger one, or one past the budget, goes
 * on to a temporary file under CASE/objects/tmp/, so no large object is held whole. Closed,
 * it is typed (typer.h, else libmagic) from its first PT_OBJ_MAGIC_BYTES. An object that
 * stayed in memory is appended to the store's pack, CASE/objects/packs/p<worker>-<run>.pack
 * (one file per worker and run: creating a file per small object cost most of the analysis
 * of traffic with many small objects), its place given by pt_object_rec.pack/pack_off and
 * the database's object_blob table; a larger one lands, by rename, at
 * CASE/objects/<first two hex>/<sha256>. A duplicate of an object the store already holds
 * writes nothing (an object in another worker's pack may be stored twice; either copy is
 * the object). Read a stored object with pt_objstore_load (the store's own) or
 * pt_object_load (from a case directory). Bytes
 * the capture did not hold are never invented: they are skipped and listed in the gap map,
 * and the object is marked partial. One store per worker (libmagic handles are not shared).
 */
#ifndef PT_OBJSTORE_H
#define PT_OBJSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/sha256.h"
#include "../core/status.h"

/* libmagic reads this much of each object: its text tests are linear in the length, and
 * on 16 KiB the descriptions equal those on 64 KiB for the test corpus (c-deps-guide §6). */
#define PT_OBJ_MAGIC_BYTES (16 * 1024)
/* An open object's bytes held in memory before it spills to a temporary file, and all of a
 * store's (a worker's) open objects together: past the budget new bytes go to files, so
 * thousands of concurrent transfers cannot exhaust memory. */
#define PT_OBJ_MEM_BYTES (256 * 1024)
#define PT_OBJ_MEM_BUDGET (64u * 1024 * 1024)
/* The keep stage compresses a kept object up to this size into its pack when that makes it
 * smaller (objkeep.h); a reader inflates such an entry whole into memory, so a larger one (a
 * disk image, a transfer of gigabytes) stays a file, mapped rather than read. */
#define PT_OBJ_KEEP_PACK_MAX (16u * 1024 * 1024)
/* Gap ranges listed in an object's gap map; the rest are counted. */
#define PT_OBJ_MAP_GAPS 8

/* One stored object instance, as it goes to the database. */
struct pt_object_rec {
    char sha256[PT_SHA256_HEX];
    uint64_t size;              /* bytes stored */
    char mime[64];
    char magic[200];            /* libmagic description */
    char name[256];             /* file name or URI, "" when unknown */
    char protocol[16];          /* "http", ... */
    char encoding[32];          /* content/transfer encodings removed, "" when none */
    int64_t flow_id;
    uint8_t dir;                /* 0 client to server, 1 server to client */
    char direction[10];         /* upload | download | internal | external */
    uint64_t stream_off;        /* where the object starts in its stream */
    uint32_t part;              /* index within the message (multipart parts) */
    bool complete;
    bool encrypted;             /* an archive member that could not be decrypted */
    char parent_sha256[PT_SHA256_HEX]; /* the archive it came out of, "" at the top */
    unsigned depth;             /* 0 for objects seen on the wire */
    uint64_t gap_bytes;
    char gap_map[200];          /* "[[off,len],...]" of missing ranges (first ones) */
    uint32_t item;
    uint64_t frame;             /* frame that started it */
    int64_t ts_us;
    char pack[64];              /* "packs/<name>.pack" under objects/, "" for a file */
    uint64_t pack_off;          /* where its bytes start in the pack */
};

/* A stored object's bytes, read-only: mapped from its file or read from its pack. */
struct pt_objbytes {
    const uint8_t *p;
    size_t n;
    void *map;                  /* mmap base of a file, or NULL */
    uint8_t *owned;             /* malloc'd copy of a pack slice, or NULL */
};

struct pt_objstore;
struct pt_obj;

/* `case_dir` is borrowed; creates objects/ and objects/tmp/ (mode 0700). */
pt_status pt_objstore_new(const char *case_dir, unsigned worker, struct pt_objstore **out);
void pt_objstore_free(struct pt_objstore *s);
/* Called on the store's thread for every object pt_obj_close could not store; `rec` carries
 * its name, protocol, item and frame (its sha256 and size are what was lost). */
typedef void (*pt_objstore_fail_fn)(void *arg, const struct pt_object_rec *rec);
void pt_objstore_on_fail(struct pt_objstore *s, pt_objstore_fail_fn fn, void *arg);
/* Objects that could not be stored so far. */
uint64_t pt_objstore_failures(const struct pt_objstore *s);

/* Start an object described by `meta` (copied; sha256/size/mime are filled at close).
 * Returns NULL when the file cannot be created (the caller records an anomaly). */
struct pt_obj *pt_obj_open(struct pt_objstore *s, const struct pt_object_rec *meta);
void pt_obj_write(struct pt_obj *o, const uint8_t *p, size_t n);
/* `n` bytes of the object are missing here. */
void pt_obj_gap(struct pt_obj *o, uint64_t n);
uint64_t pt_obj_size(const struct pt_obj *o);
/* Finish and store; fills *rec. Returns false (nothing stored) on an I/O failure (disk full,
 * EIO), which is also counted and reported to the store's failure callback, so no caller can
 * lose an object silently. */
bool pt_obj_close(struct pt_obj *o, bool complete, struct pt_object_rec *rec);
/* An input at rest by reference: its bytes are hashed and typed as they are written, but
 * not kept; on close objects/<xx>/<sha256> becomes a symbolic link to `target` (absolute),
 * so readers open the evidence itself, read-only, and the case stays small. An object with
 * the same content already stored is kept as it is. */
struct pt_obj *pt_obj_open_link(struct pt_objstore *s, const struct pt_object_rec *meta,
                                const char *target);
/* The same, but the bytes are not hashed here: the caller, which hashes them anyway (the
 * input's SHA-256, ingest/source.h), gives the digest to pt_obj_close_digest. */
struct pt_obj *pt_obj_open_link_prehashed(struct pt_objstore *s,
                                          const struct pt_object_rec *meta, const char *target);
/* pt_obj_close with the SHA-256 (hex) of every byte written; NULL when the caller has none
 * (the object is then not stored: false). For an object of pt_obj_open_link_prehashed. */
bool pt_obj_close_digest(struct pt_obj *o, bool complete, const char *hex,
                         struct pt_object_rec *rec);
/* Path of a stored object's file; false when it does not fit. */
bool pt_objstore_path(const struct pt_objstore *s, const char *sha256, char *out, size_t len);
/* The bytes of an object this store stored (its pack or its file). False when they cannot be
 * read; an empty object gives n == 0. Release with pt_object_release. */
bool pt_objstore_load(const struct pt_objstore *s, const char *sha256, struct pt_objbytes *b);
/* Up to `max` first bytes of an object this store stored, into buf: the count read (0 when
 * they cannot be read), for a test of the head before the whole object is loaded. */
size_t pt_objstore_head(const struct pt_objstore *s, const char *sha256, uint8_t *buf,
                        size_t max);
/* The bytes of a stored object of the case at `case_dir`: from `pack` at `off` (`size`
 * bytes) when `pack` is not empty (object_blob), else from objects/<xx>/<sha256>. A kept
 * pack (*.zpk, written by the keep stage, objkeep.h) holds each entry compressed when that
 * is smaller (objects up to PT_OBJ_KEEP_PACK_MAX); `pack` PT_OBJ_NOT_KEPT names an object
 * whose bytes the case did not keep (false). */
#define PT_OBJ_NOT_KEPT "-"
bool pt_object_load(const char *case_dir, const char *sha256, const char *pack, uint64_t off,
                    uint64_t size, struct pt_objbytes *b);
void pt_object_release(struct pt_objbytes *b);
/* Open packs and a read buffer kept between loads by one thread that reads many objects
 * (the PHI stage, in hash order, so across every worker's pack): an open and a close per
 * pack instead of per object, and no allocation per object. pt_packfd_init first,
 * pt_packfd_close when done (it frees the buffer). */
#define PT_PACKFD_MAX 8
struct pt_packfd {
    char pack[PT_PACKFD_MAX][128];
    int fd[PT_PACKFD_MAX];
    unsigned next; /* the slot to reuse next */
    uint8_t *buf;  /* the bytes of the last object loaded from a pack */
    size_t cap;
};
void pt_packfd_init(struct pt_packfd *c);
void pt_packfd_close(struct pt_packfd *c);
/* pt_object_load through the open packs of `c` (NULL: none kept). The bytes of an object in
 * a (not kept) pack are in c's buffer: valid until the next load through c. */
bool pt_object_load_from(struct pt_packfd *c, const char *case_dir, const char *sha256,
                         const char *pack, uint64_t off, uint64_t size, struct pt_objbytes *b);
/* `pack` is a kept pack (packs/<name>.zpk): entries framed by their stored length. */
bool pt_object_kept_pack(const char *pack);
/* Describe a child of `parent` (an archive member, a document's text): the parent's
 * provenance (flow, item, frame, protocol, direction) with parent_sha256 = its hash and
 * depth + 1; content fields (hash, size, type, gaps) cleared; name and encoding copied (cut
 * to fit). */
void pt_obj_child_meta(struct pt_object_rec *meta, const struct pt_object_rec *parent,
                       const char *name, const char *encoding, uint32_t part);
/* Abandon without storing. */
void pt_obj_discard(struct pt_obj *o);

#endif
