/*
 * multipart.h - streaming multipart body splitter (RFC 2046 §5.1, RFC 7578 form-data).
 *
 * Fed the decoded body of a message in pieces of any size; reports each part's headers,
 * bytes and end. The delimiter is found across piece boundaries without buffering a part:
 * at most the delimiter's length is held back. Trust boundary: the body is untrusted;
 * header lines are bounded by PT_MULTIPART_MAX_LINE and parts by PT_MULTIPART_MAX_PARTS.
 */
#ifndef PT_MULTIPART_H
#define PT_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/anomaly.h"

#define PT_MULTIPART_MAX_LINE 2048
#define PT_MULTIPART_MAX_PARTS 1024
#define PT_MULTIPART_MAX_BOUNDARY 70 /* RFC 2046 §5.1.1 */

struct pt_multipart_ops {
    /* A part starts; name is the filename (or the form field name), ctype its type. */
    void (*begin)(void *arg, unsigned index, const char *name, const char *ctype);
    void (*data)(void *arg, const uint8_t *p, size_t n);
    void (*gap)(void *arg, uint64_t n);
    void (*end)(void *arg, bool complete);
    /* Optional: a part's headers could not be read whole ("limit.multipart_line"). */
    void (*anomaly)(void *arg, enum pt_anom kind, const char *detail);
};

struct pt_multipart;

/* Extract the boundary parameter of a multipart Content-Type into out (NUL-terminated).
 * False when the type is not multipart or the boundary is missing or too long. */
bool pt_multipart_boundary(const char *content_type, char *out, size_t len);

/* Returns owned (pt_multipart_free) or NULL. ops is borrowed. With raw_parts, part headers
 * are not read here: each part's bytes, headers included, go to data (for a MIME walker
 * that parses every part as an entity of its own); begin then gets empty name and type. */
struct pt_multipart *pt_multipart_new(const char *boundary, const struct pt_multipart_ops *ops,
                                      void *arg, bool raw_parts);
void pt_multipart_feed(struct pt_multipart *m, const uint8_t *p, size_t n);
void pt_multipart_gap(struct pt_multipart *m, uint64_t n);
/* End of the body: a part still open ends incomplete. Frees m. */
void pt_multipart_free(struct pt_multipart *m);

#endif
