/*
 * unpack.h - recursive decoding of stored objects: gzip members and zip entries become
 * objects of their own, linked to their parent by its SHA-256.
 *
 * Formats: RFC 1952 (gzip, through zlib); PKWARE APPNOTE 6.3.x (zip: end of central
 * directory, central directory, local headers; methods 0 stored and 8 deflate; encrypted
 * entries recorded, not decrypted). The zip structures are read with our own cursor over
 * the read-only mapped object; zlib only inflates.
 *
 * Limits (core/limits.h): nesting PT_UNPACK_MAX_DEPTH, entries PT_UNPACK_MAX_ENTRIES per
 * archive, output PT_DECODE_MAX_BYTES per member and PT_DECODE_MAX_RATIO against its
 * compressed size. A bomb is an anomaly and a partial child, never a hang.
 */
#ifndef PT_UNPACK_H
#define PT_UNPACK_H

#include "app.h"

/* Decode `parent` (just stored) if it is a gzip or zip; children go to ctx->object, which
 * may call back here for them (depth counts the nesting). */
void pt_unpack(struct pt_app_ctx *ctx, const struct pt_object_rec *parent);

#endif
