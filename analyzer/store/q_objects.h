/*
 * q_objects.h - stored objects for the stages after capture (analyze/archive_pw.c): the
 * text objects to harvest passwords from, the encrypted archives to open, and what opening
 * them gave (archive_password rows).
 */
#ifndef PT_STORE_Q_OBJECTS_H
#define PT_STORE_Q_OBJECTS_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_db;

/* A text object (once per hash, in the order stored); strings live until fn returns. */
struct pt_q_text_object {
    const char *sha256;     /* as stored (NULL only in a damaged database) */
    const char *name;       /* "" when none */
    const char *pack;       /* "" for an object file */
    uint64_t off, size;
};

/* Text objects of 1..max bytes that are not encrypted; fn returns false to stop. */
pt_status pt_q_text_objects(struct pt_db *db, uint64_t max,
                            bool (*fn)(void *arg, const struct pt_q_text_object *o), void *arg);

/* A zip with encrypted members, or a 7z or RAR with encrypted members or none at all: its
 * first object row. Strings are the columns as read (NULL when the column is). */
struct pt_q_archive {
    const char *sha256, *mime, *name, *protocol, *direction, *pack;
    uint64_t size, off, stream_off, frame;
    int64_t flow_id, ts;
    uint32_t item;
    unsigned depth;
    bool members_encrypted; /* else it gave no member at all */
};

/* Such archives, once per hash in the order stored; fn returns false to stop. */
pt_status pt_q_encrypted_archives(struct pt_db *db,
                                  bool (*fn)(void *arg, const struct pt_q_archive *a), void *arg);

/* One archive_password row. */
struct pt_q_archive_pw {
    const char *sha256, *name;
    uint64_t size;
    bool opened;            /* the next five only when opened */
    const char *method;
    const char *source_sha256; /* "" for none */
    const char *source_path;
    uint64_t line;
    const char *form;
    uint64_t candidates, members;
    const char *note;       /* NULL for none */
};

pt_status pt_q_archive_pw_put(struct pt_db *db, const struct pt_q_archive_pw *r);

#endif
