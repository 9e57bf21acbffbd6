/* sha256.c - SHA-256 wrappers over libcrypto EVP; HMAC over its low-level SHA-256. */
/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but they are the
 * same block function (SHA extensions where the CPU has them) on a context that is a plain
 * struct: copying the key's precomputed states costs a struct copy, where EVP_MD_CTX_copy_ex
 * duplicates the provider's context on the heap (an allocation, a free and a cleanse per
 * copy, two copies per MAC). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pt_sha256 {
    EVP_MD_CTX *ctx;
};

struct pt_sha256 *pt_sha256_new(void)
{
    struct pt_sha256 *h = calloc(1, sizeof *h);
    if (h == NULL) {
        return NULL;
    }
    h->ctx = EVP_MD_CTX_new();
    if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        pt_sha256_free(h);
        return NULL;
    }
    return h;
}

void pt_sha256_free(struct pt_sha256 *h)
{
    if (h == NULL) {
        return;
    }
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void pt_sha256_update(struct pt_sha256 *h, const void *data, size_t len)
{
    if (len > 0) {
        EVP_DigestUpdate(h->ctx, data, len);
    }
}

void pt_sha256_final(struct pt_sha256 *h, uint8_t out[PT_SHA256_LEN])
{
    unsigned int n = 0;
    EVP_DigestFinal_ex(h->ctx, out, &n);
    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

struct pt_hmac {
    SHA256_CTX inner, outer; /* after the key XOR ipad and opad blocks */
    uint8_t key[64];         /* for the one-shot fallback */
    size_t keylen;
    bool failed;             /* a MAC could not be computed (sticky) */
};

static bool hmac_once(const struct pt_hmac *h, const void *a, size_t alen, const void *b,
                      size_t blen, uint8_t out[PT_SHA256_LEN])
{
    unsigned n = 0;
    bool ok = false;
    uint8_t *msg = malloc(alen + blen + 1);
    if (msg != NULL) {
        memcpy(msg, a, alen);
        if (b != NULL && blen > 0) {
            memcpy(msg + alen, b, blen);
        }
        ok = HMAC(EVP_sha256(), h->key, (int)h->keylen, msg, alen + (b != NULL ? blen : 0), out,
                  &n) != NULL && n == PT_SHA256_LEN;
        OPENSSL_cleanse(msg, alen + blen + 1);
        free(msg);
    }
    if (!ok) {
        memset(out, 0, PT_SHA256_LEN);
    }
    return ok;
}

struct pt_hmac *pt_hmac_new(const uint8_t *key, size_t keylen)
{
    if (keylen > 64) {
        return NULL;
    }
    struct pt_hmac *h = calloc(1, sizeof *h);
    if (h == NULL) {
        return NULL;
    }
    uint8_t ipad[64], opad[64];
    for (size_t i = 0; i < 64; i++) {
        uint8_t k = i < keylen ? key[i] : 0;
        ipad[i] = k ^ 0x36;
        opad[i] = k ^ 0x5c;
    }
    memcpy(h->key, key, keylen);
    h->keylen = keylen;
    bool ok = SHA256_Init(&h->inner) == 1 && SHA256_Update(&h->inner, ipad, sizeof ipad) == 1 &&
              SHA256_Init(&h->outer) == 1 && SHA256_Update(&h->outer, opad, sizeof opad) == 1;
    OPENSSL_cleanse(ipad, sizeof ipad);
    OPENSSL_cleanse(opad, sizeof opad);
    if (!ok) {
        pt_hmac_free(h);
        return NULL;
    }
    return h;
}

void pt_hmac_free(struct pt_hmac *h)
{
    if (h == NULL) {
        return;
    }
    OPENSSL_cleanse(h, sizeof *h);
    free(h);
}

/* The low-level calls do not fail (they return 1); should one ever, the MAC is computed
 * again by the one-shot HMAC() from the key kept for that, so a failure never yields a wrong
 * MAC; if that fails too, out is zeroed and false returned. */
bool pt_hmac_sha256(struct pt_hmac *h, const void *a, size_t alen, const void *b, size_t blen,
                    uint8_t out[PT_SHA256_LEN])
{
    uint8_t in[PT_SHA256_LEN];
    SHA256_CTX c = h->inner;
    bool ok = SHA256_Update(&c, a, alen) == 1 &&
              (b == NULL || blen == 0 || SHA256_Update(&c, b, blen) == 1) &&
              SHA256_Final(in, &c) == 1;
    c = h->outer;
    ok = ok && SHA256_Update(&c, in, sizeof in) == 1 && SHA256_Final(out, &c) == 1;
    /* the inner digest and the state keyed by the message are not left on the stack */
    OPENSSL_cleanse(in, sizeof in);
    OPENSSL_cleanse(&c, sizeof c);
    if (ok) {
        return true;
    }
    if (!hmac_once(h, a, alen, b, blen, out)) {
        h->failed = true;
        return false;
    }
    return true;
}

bool pt_hmac_failed(const struct pt_hmac *h)
{
    return h->failed;
}

pt_status pt_sha256_buf(const void *data, size_t len, uint8_t out[PT_SHA256_LEN])
{
    struct pt_sha256 *h = pt_sha256_new();
    if (h == NULL) {
        return PT_ENOMEM;
    }
    pt_sha256_update(h, data, len);
    pt_sha256_final(h, out);
    pt_sha256_free(h);
    return PT_OK;
}

void pt_hex(const uint8_t *bin, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * len] = '\0';
}

bool pt_unhex(const char *hex, size_t len, uint8_t *out)
{
    if (len % 2 != 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (v < 0) {
            return false;
        }
        out[i / 2] = (uint8_t)(i % 2 == 0 ? v << 4 : out[i / 2] | v);
    }
    return true;
}

pt_status pt_sha256_file(const char *path, char hex[PT_SHA256_HEX], uint64_t *size_out)
{
    pt_status rc = PT_OK;
    uint8_t *buf = NULL;
    struct pt_sha256 *h = NULL;
    uint64_t total = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return PT_EIO;
    }
    enum { CHUNK = 1 << 20 };
    buf = malloc(CHUNK);
    h = pt_sha256_new();
    if (buf == NULL || h == NULL) {
        rc = PT_ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = PT_EIO;
            goto out;
        }
        if (n == 0) {
            break;
        }
        pt_sha256_update(h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    uint8_t dig[PT_SHA256_LEN];
    pt_sha256_final(h, dig);
    pt_hex(dig, sizeof dig, hex);
    if (size_out != NULL) {
        *size_out = total;
    }
out:
    close(fd);
    free(buf);
    pt_sha256_free(h);
    return rc;
}
