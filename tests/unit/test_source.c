/* test_source.c - read-only hashing source, gzip inflation, kind detection. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/sha256.h"
#include "ingest/source.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pt-test-src-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* pcap global header, microseconds, little-endian, DLT 1, then 3 MB of pattern */
static size_t make_content(uint8_t **out)
{
    size_t n = 24 + 3 * 1024 * 1024;
    uint8_t *b = malloc(n);
    const uint8_t hdr[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                             0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0};
    memcpy(b, hdr, 24);
    for (size_t i = 24; i < n; i++) {
        b[i] = (uint8_t)(i * 31 + (i >> 9));
    }
    *out = b;
    return n;
}

static void plain_and_gzip_give_same_stream_and_disk_hash(void **state)
{
    (void)state;
    uint8_t *content;
    size_t n = make_content(&content);
    char plain[128], gz[128];
    snprintf(plain, sizeof plain, "%s/a.pcap", dir);
    snprintf(gz, sizeof gz, "%s/a.pcap.gz", dir);
    FILE *f = fopen(plain, "wb");
    fwrite(content, 1, n, f);
    fclose(f);
    gzFile g = gzopen(gz, "wb");
    gzwrite(g, content, (unsigned)n);
    gzclose(g);
    const char *paths[2] = {plain, gz};
    for (int i = 0; i < 2; i++) {
        _Atomic uint64_t progress = 0;
        struct pt_source *s;
        char err[128];
        assert_int_equal(pt_source_open(paths[i], &progress, &s, err, sizeof err), PT_OK);
        assert_int_equal(pt_source_kind(s), PT_KIND_PCAP);
        assert_int_equal(pt_source_gzip(s), i == 1);
        FILE *st = pt_source_stream(s);
        uint8_t *back = malloc(n + 10);
        size_t got = fread(back, 1, n + 10, st);
        assert_int_equal(got, n);
        assert_memory_equal(back, content, n);
        free(back);
        assert_false(pt_source_gzip_error(s, NULL));
        char hex[PT_SHA256_HEX], want[PT_SHA256_HEX];
        uint64_t size = 0;
        assert_int_equal(pt_source_close(s, hex, &size, NULL), PT_OK);
        uint64_t wsize;
        assert_int_equal(pt_sha256_file(paths[i], want, &wsize), PT_OK);
        assert_string_equal(hex, want); /* the hash is over the bytes on disk */
        assert_int_equal(size, wsize);
        assert_int_equal(progress, wsize);
    }
    free(content);
}

static void hash_covers_unread_rest(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/b.txt", dir);
    FILE *f = fopen(p, "wb");
    for (int i = 0; i < 300000; i++) {
        fputs("not a capture ", f);
    }
    fclose(f);
    struct pt_source *s;
    char err[128], hex[PT_SHA256_HEX], want[PT_SHA256_HEX];
    assert_int_equal(pt_source_open(p, NULL, &s, err, sizeof err), PT_OK);
    assert_int_equal(pt_source_kind(s), PT_KIND_UNKNOWN);
    assert_int_equal(pt_source_close(s, hex, NULL, NULL), PT_OK);
    assert_int_equal(pt_sha256_file(p, want, NULL), PT_OK);
    assert_string_equal(hex, want);
}

static void truncated_gzip_is_reported(void **state)
{
    (void)state;
    uint8_t *content;
    size_t n = make_content(&content);
    char gz[128];
    snprintf(gz, sizeof gz, "%s/c.pcap.gz", dir);
    gzFile g = gzopen(gz, "wb");
    gzwrite(g, content, (unsigned)n);
    gzclose(g);
    free(content);
    struct stat st;
    stat(gz, &st);
    assert_int_equal(truncate(gz, st.st_size / 2), 0);
    struct pt_source *s;
    char err[128], hex[PT_SHA256_HEX];
    assert_int_equal(pt_source_open(gz, NULL, &s, err, sizeof err), PT_OK);
    FILE *fp = pt_source_stream(s);
    uint8_t buf[65536];
    while (fread(buf, 1, sizeof buf, fp) > 0) {
    }
    const char *why = NULL;
    assert_true(pt_source_gzip_error(s, &why));
    assert_non_null(strstr(why, "truncated"));
    assert_int_equal(pt_source_close(s, hex, NULL, NULL), PT_OK);
}

static void missing_file(void **state)
{
    (void)state;
    struct pt_source *s;
    char err[128];
    assert_int_equal(pt_source_open("/nonexistent/x", NULL, &s, err, sizeof err), PT_EIO);
    assert_non_null(strstr(err, "No such file"));
}

/* A file at rest is stored as it is on disk (gzip included, not inflated), through the
 * descriptor that hashes it: the raw bytes equal the file and hash to the item's SHA-256. */
static void raw_bytes_are_the_hashed_bytes(void **state)
{
    (void)state;
    uint8_t *content;
    size_t n = make_content(&content);
    char gz[128];
    snprintf(gz, sizeof gz, "%s/b.gz", dir);
    gzFile g = gzopen(gz, "wb");
    gzwrite(g, content, (unsigned)n);
    gzclose(g);
    char want[PT_SHA256_HEX], hex[PT_SHA256_HEX], why[300];
    uint64_t size = 0;
    assert_int_equal(pt_sha256_file(gz, want, &size), PT_OK);
    struct pt_source *s = NULL;
    char err[128];
    assert_int_equal(pt_source_open(gz, NULL, &s, err, sizeof err), PT_OK);
    uint8_t *raw = malloc(size + 1);
    assert_non_null(raw);
    size_t got = 0;
    ssize_t k;
    while ((k = pt_source_raw(s, raw + got, size + 1 - got < 7777 ? size + 1 - got : 7777)) > 0) {
        got += (size_t)k;
    }
    assert_int_equal(k, 0);
    assert_int_equal(got, size);
    assert_false(pt_source_changed(s, why, sizeof why));
    assert_int_equal(pt_source_close(s, hex, NULL, NULL), PT_OK);
    assert_string_equal(hex, want);
    assert_int_equal(raw[0], 0x1f); /* still compressed */
    FILE *f = fopen(gz, "ab"); /* a change after opening is seen */
    assert_int_equal(pt_source_open(gz, NULL, &s, err, sizeof err), PT_OK);
    fputs("more", f);
    fclose(f);
    assert_true(pt_source_changed(s, why, sizeof why));
    pt_source_close(s, hex, NULL, NULL);
    free(raw);
    free(content);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_and_gzip_give_same_stream_and_disk_hash),
        cmocka_unit_test(hash_covers_unread_rest),
        cmocka_unit_test(truncated_gzip_is_reported),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(raw_bytes_are_the_hashed_bytes),
    };
    return cmocka_run_group_tests_name("source", tests, setup, teardown);
}
