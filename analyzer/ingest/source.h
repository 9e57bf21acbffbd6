/*
 * source.h - read-only evidence files with SHA-256 computed in the same pass.
 *
 * A source wraps a file descriptor opened O_RDONLY. Every raw byte read is
 * hashed; when the file is gzip-compressed the consumer sees the inflated
 * stream while the hash stays over the bytes on disk. pt_source_close()
 * reads whatever the consumer left unread so the hash always covers the
 * whole file, and reports how many bytes that was.
 *
 * Limits: none on size; memory is one read buffer plus zlib's window.
 */
#ifndef PT_SOURCE_H
#define PT_SOURCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../core/sha256.h"
#include "../core/status.h"

enum pt_input_kind {
    PT_KIND_UNKNOWN,
    PT_KIND_PCAP,    /* microsecond timestamps */
    PT_KIND_PCAP_NS, /* nanosecond timestamps */
    PT_KIND_PCAPNG,
};

struct pt_source;

/* Open `path` read-only. `progress` (may be NULL) is advanced by raw bytes read. */
pt_status pt_source_open(const char *path, _Atomic uint64_t *progress, struct pt_source **out,
                         char *err, size_t errlen);
/* The same, and every raw byte is also hashed into `whole` (not owned; NULL for none): the
 * segments of a split image, opened one after the other, hash into one digest of the whole.
 * `whole` must not be used again until pt_source_close has returned. */
pt_status pt_source_open_hashing(const char *path, _Atomic uint64_t *progress,
                                 struct pt_sha256 *whole, struct pt_source **out, char *err,
                                 size_t errlen);
/* The file's modification time when it was opened, in microseconds since 1970 (UTC). */
int64_t pt_source_mtime_us(const struct pt_source *s);
/* Content kind, from the magic numbers (looking inside gzip). */
enum pt_input_kind pt_source_kind(const struct pt_source *s);
bool pt_source_gzip(const struct pt_source *s);
/* A stdio stream over the (inflated) content. Owned by the source; whoever closes it
 * (libpcap's pcap_close does) must call pt_source_stream_closed() afterwards. */
FILE *pt_source_stream(struct pt_source *s);
void pt_source_stream_closed(struct pt_source *s);
/* The file's bytes as they are on disk, from its first byte, through the descriptor that
 * hashes them (a file at rest is stored exactly as hashed, even if it changes meanwhile).
 * Only instead of the stream, never after it. Returns bytes copied, 0 at the end, -1 on error. */
ssize_t pt_source_raw(struct pt_source *s, uint8_t *buf, size_t cap);
/* True when the file's size or modification time now differ from when it was opened (it was
 * written to while being read); `why` says how. Call before pt_source_close. */
bool pt_source_changed(const struct pt_source *s, char *why, size_t len);
/* True when the gzip layer hit corrupt or truncated compressed data. */
bool pt_source_gzip_error(const struct pt_source *s, const char **why);
/* After pt_source_raw returned 0 (every byte read): the SHA-256 of the file's bytes, the one
 * pt_source_close then gives (hashed once: a file at rest's object takes it rather than
 * hashing the same bytes again). False, with nothing done, before the end or when the
 * source does not hash. */
bool pt_source_digest(struct pt_source *s, char hex[PT_SHA256_HEX]);
/* Finish hashing the rest of the file, fill hex and size, and free everything. */
pt_status pt_source_close(struct pt_source *s, char hex[PT_SHA256_HEX], uint64_t *size,
                          uint64_t *unread);

#endif
