/* sha256.c - SHA-256 wrappers over libcrypto EVP. */
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
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
    EVP_MD_CTX *inner, *outer, *work;
};

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
    h->inner = EVP_MD_CTX_new();
    h->outer = EVP_MD_CTX_new();
    h->work = EVP_MD_CTX_new();
    bool ok = h->inner != NULL && h->outer != NULL && h->work != NULL &&
              EVP_DigestInit_ex(h->inner, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(h->inner, ipad, sizeof ipad) == 1 &&
              EVP_DigestInit_ex(h->outer, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(h->outer, opad, sizeof opad) == 1;
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
    EVP_MD_CTX_free(h->inner);
    EVP_MD_CTX_free(h->outer);
    EVP_MD_CTX_free(h->work);
    free(h);
}

void pt_hmac_sha256(struct pt_hmac *h, const void *a, size_t alen, const void *b, size_t blen,
                    uint8_t out[PT_SHA256_LEN])
{
    uint8_t in[PT_SHA256_LEN];
    unsigned n = 0;
    EVP_MD_CTX_copy_ex(h->work, h->inner);
    EVP_DigestUpdate(h->work, a, alen);
    if (b != NULL && blen > 0) {
        EVP_DigestUpdate(h->work, b, blen);
    }
    EVP_DigestFinal_ex(h->work, in, &n);
    EVP_MD_CTX_copy_ex(h->work, h->outer);
    EVP_DigestUpdate(h->work, in, sizeof in);
    EVP_DigestFinal_ex(h->work, out, &n);
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
