/*
 * sha256.h - SHA-256 over libcrypto's EVP interface (SHA-NI where the CPU has it).
 */
#ifndef PT_SHA256_H
#define PT_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define PT_SHA256_LEN 32
#define PT_SHA256_HEX (2 * PT_SHA256_LEN + 1)

struct pt_sha256; /* opaque; owns an EVP_MD_CTX */

/* Returns owned (free with pt_sha256_free) or NULL on allocation failure. */
struct pt_sha256 *pt_sha256_new(void);
void pt_sha256_free(struct pt_sha256 *h);
void pt_sha256_update(struct pt_sha256 *h, const void *data, size_t len);
/* Writes the digest and resets the context for reuse. */
void pt_sha256_final(struct pt_sha256 *h, uint8_t out[PT_SHA256_LEN]);

/* HMAC-SHA-256 under one key, many messages: the key's inner and outer states are computed
 * once, so a message of a few dozen bytes costs two compressions, not a key schedule and an
 * algorithm fetch as libcrypto's one-shot HMAC() does. Not shared between threads (it owns a
 * scratch context): one per thread. The result equals HMAC(EVP_sha256(), key, ...). */
struct pt_hmac;
/* Returns owned (free with pt_hmac_free) or NULL; keylen at most 64. */
struct pt_hmac *pt_hmac_new(const uint8_t *key, size_t keylen);
void pt_hmac_free(struct pt_hmac *h);
/* The MAC of the concatenation a || b (b may be NULL); false (out zeroed) only when
 * libcrypto could not compute it even by its one-shot HMAC() (out of memory). */
bool pt_hmac_sha256(struct pt_hmac *h, const void *a, size_t alen, const void *b, size_t blen,
                    uint8_t out[PT_SHA256_LEN]);
/* True once any MAC of h could not be computed: its users must not trust their keys then. */
bool pt_hmac_failed(const struct pt_hmac *h);

/* One-shot digest. */
pt_status pt_sha256_buf(const void *data, size_t len, uint8_t out[PT_SHA256_LEN]);
/* Lowercase hex with NUL. */
void pt_hex(const uint8_t *bin, size_t len, char *out);
/* The `len` hex digits (either case) at `hex` as len / 2 bytes into out; false when len is
 * odd or a character is not a hex digit (out then partly written). */
bool pt_unhex(const char *hex, size_t len, uint8_t *out);
/* Digest of a whole file, read-only; size through *size_out when not NULL. */
pt_status pt_sha256_file(const char *path, char hex[PT_SHA256_HEX], uint64_t *size_out);

#endif
