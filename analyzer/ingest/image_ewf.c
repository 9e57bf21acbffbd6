/*
 * image_ewf.c - stored and computed hashes of an EWF image (image_ewf.h).
 * Trust boundary: the image is hostile; this runs in the isolated reader process, and
 * libewf does the parsing. Reads 1 MiB at a time; memory does not grow with the image.
 */
#include "image_ewf.h"

#include <stdio.h>
#include <string.h>

#include <libewf.h>
#include <openssl/evp.h>

#include "../core/sha256.h"

#define EWF_CHUNK (1u << 20)

bool pt_ewf_is(const char *path)
{
    static const unsigned char sig[8] = {'E', 'V', 'F', 0x09, 0x0d, 0x0a, 0xff, 0x00};
    unsigned char head[8];
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return false;
    }
    bool is = fread(head, 1, sizeof head, fp) == sizeof head && memcmp(head, sig, 8) == 0;
    fclose(fp);
    return is;
}

static void why(libewf_error_t **err, struct pt_img_rec *r, const char *what)
{
    char msg[300] = "";
    if (*err != NULL) {
        libewf_error_sprint(*err, msg, sizeof msg);
        libewf_error_free(err);
    }
    for (char *p = msg; *p != '\0'; p++) {
        *p = *p == '\n' ? ' ' : *p;
    }
    snprintf(r->note, sizeof r->note, "%s: %s", what, msg);
}

void pt_ewf_hashes(char *const *paths, int n, struct pt_img_rec *r, void (*tick)(void *),
                   void *arg)
{
    memset(r, 0, sizeof *r);
    r->type = PT_IMG_HASH;
    libewf_handle_t *h = NULL;
    libewf_error_t *err = NULL;
    static uint8_t buf[EWF_CHUNK];
    EVP_MD_CTX *md[3] = {EVP_MD_CTX_new(), EVP_MD_CTX_new(), EVP_MD_CTX_new()};
    if (md[0] == NULL || md[1] == NULL || md[2] == NULL ||
        libewf_handle_initialize(&h, &err) != 1) {
        why(&err, r, "libewf cannot start");
        goto out;
    }
    if (libewf_handle_open(h, paths, n, LIBEWF_OPEN_READ, &err) != 1) {
        why(&err, r, "libewf cannot open the image");
        goto out;
    }
    uint8_t stored[20];
    if (libewf_handle_get_md5_hash(h, stored, 16, &err) == 1) {
        pt_hex(stored, 16, r->stored_md5);
    }
    libewf_error_free(&err);
    if (libewf_handle_get_sha1_hash(h, stored, 20, &err) == 1) {
        pt_hex(stored, 20, r->stored_sha1);
    }
    libewf_error_free(&err);
    size64_t media = 0;
    if (libewf_handle_get_media_size(h, &media, &err) != 1) {
        why(&err, r, "libewf gives no media size");
        goto out;
    }
    EVP_DigestInit_ex(md[0], EVP_md5(), NULL);
    EVP_DigestInit_ex(md[1], EVP_sha1(), NULL);
    EVP_DigestInit_ex(md[2], EVP_sha256(), NULL);
    uint64_t done = 0;
    while (done < media) {
        size_t want = media - done < EWF_CHUNK ? (size_t)(media - done) : EWF_CHUNK;
        ssize_t got = libewf_handle_read_buffer(h, buf, want, &err);
        if (got <= 0) {
            char what[120];
            snprintf(what, sizeof what, "the media could be read only to byte %llu of %llu",
                     (unsigned long long)done, (unsigned long long)media);
            why(&err, r, what);
            break;
        }
        for (int i = 0; i < 3; i++) {
            EVP_DigestUpdate(md[i], buf, (size_t)got);
        }
        done += (uint64_t)got;
        if (done % (64u << 20) == 0) {
            tick(arg);
        }
    }
    r->size = media;
    r->ok = done == media;
    if (r->ok) {
        uint8_t dig[32];
        unsigned len = 0;
        EVP_DigestFinal_ex(md[0], dig, &len);
        pt_hex(dig, 16, r->md5);
        EVP_DigestFinal_ex(md[1], dig, &len);
        pt_hex(dig, 20, r->sha1);
        EVP_DigestFinal_ex(md[2], dig, &len);
        pt_hex(dig, 32, r->sha256);
    }
out:
    for (int i = 0; i < 3; i++) {
        EVP_MD_CTX_free(md[i]);
    }
    if (h != NULL) {
        libewf_handle_close(h, NULL);
        libewf_handle_free(&h, NULL);
    }
}
