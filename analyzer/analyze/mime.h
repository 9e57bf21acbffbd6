/*
 * mime.h - streaming MIME entity walker (RFC 2045-2047 headers and transfer encodings,
 * RFC 2046 multipart, nested to PT_MIME_MAX_DEPTH).
 *
 * Fed an entity's bytes (headers, blank line, body) in pieces of any size; every leaf
 * entity's body is decoded from its Content-Transfer-Encoding (base64, quoted-printable;
 * others as they are) and handed to the callbacks, so attachments come out as the files
 * that were attached, named in UTF-8 (RFC 2231 and RFC 2047 names decoded by mimehdr.c). Trust boundary: input is untrusted; header lines are bounded by
 * PT_MIME_MAX_HEADER, nesting by PT_MIME_MAX_DEPTH, parts by the multipart splitter.
 */
#ifndef PT_MIME_H
#define PT_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/anomaly.h"

#define PT_MIME_MAX_DEPTH 8
#define PT_MIME_MAX_HEADER 8192

struct pt_mime_leaf {
    char name[256];    /* Content-Disposition filename, else Content-Type name, else "" */
    char ctype[128];   /* as sent, without parameters */
    char cte[32];      /* Content-Transfer-Encoding, lower case */
    unsigned depth;    /* 0 for a message that is itself the leaf */
    unsigned index;    /* leaves so far, from 1 */
};

struct pt_mime_ops {
    void *(*begin)(void *arg, const struct pt_mime_leaf *leaf);
    void (*data)(void *arg, void *h, const uint8_t *p, size_t n);
    void (*gap)(void *arg, void *h, uint64_t n);
    void (*end)(void *arg, void *h, bool complete);
    /* Optional: something in the message could not be read whole (kind "limit.mime_header"). */
    void (*anomaly)(void *arg, enum pt_anom kind, const char *detail);
};

struct pt_mime;

/* Returns owned (pt_mime_free) or NULL; ops borrowed. */
struct pt_mime *pt_mime_new(const struct pt_mime_ops *ops, void *arg);
void pt_mime_feed(struct pt_mime *m, const uint8_t *p, size_t n);
void pt_mime_gap(struct pt_mime *m, uint64_t n);
/* End of the entity: leaves still open end with `complete`. Frees m. */
void pt_mime_free(struct pt_mime *m, bool complete);

#endif
