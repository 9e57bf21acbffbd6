/*
 * test_unpack.c - archives become member objects: every container built here with libarchive's
 * write API (or, for zip methods its writer lacks, fixed bytes from Python's zipfile), unpacked,
 * and checked by member name, size, SHA-256, encoding and parent; encrypted members, CRC errors,
 * the depth and ratio limits, the expansion budget, unpack-once per hash and refused
 * overlapping zip entries.
 */
#include "cm.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "analyze/unpack.h"
#include "core/limits.h"
#include "core/sha256.h"

/* zipfile.ZipFile(..., ZIP_BZIP2 / ZIP_LZMA) holding "pätients.csv" (UTF-8 name flag set)
 * with the bytes of ZIP_METHOD_DATA. */
#define ZIP_METHOD_DATA "mrn,last_name\nMRN0001,Doe\n"
static const uint8_t zip_bzip2[] = {
    0x50, 0x4b, 0x03, 0x04, 0x2e, 0x00, 0x00, 0x08, 0x0c, 0x00, 0x83, 0x18, 0x22, 0x5c, 0x5a, 0x0a,
    0xe9, 0x8f, 0x46, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x70, 0xc3,
    0xa4, 0x74, 0x69, 0x65, 0x6e, 0x74, 0x73, 0x2e, 0x63, 0x73, 0x76, 0x42, 0x5a, 0x68, 0x39, 0x31,
    0x41, 0x59, 0x26, 0x53, 0x59, 0xc1, 0x26, 0x13, 0x6f, 0x00, 0x00, 0x09, 0xdf, 0x80, 0x00, 0x10,
    0x00, 0x04, 0x60, 0x00, 0x04, 0x03, 0x10, 0x00, 0xa2, 0x07, 0x9c, 0x00, 0x20, 0x00, 0x31, 0x4d,
    0x32, 0x31, 0x31, 0x31, 0x0a, 0x03, 0xd0, 0x86, 0x9b, 0x49, 0xba, 0x65, 0xd4, 0x54, 0x06, 0x69,
    0x47, 0xf4, 0x2c, 0x31, 0x25, 0x35, 0x3f, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, 0xc1, 0x26, 0x13,
    0x6f, 0x50, 0x4b, 0x01, 0x02, 0x2e, 0x03, 0x2e, 0x00, 0x00, 0x08, 0x0c, 0x00, 0x83, 0x18, 0x22,
    0x5c, 0x5a, 0x0a, 0xe9, 0x8f, 0x46, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x70,
    0xc3, 0xa4, 0x74, 0x69, 0x65, 0x6e, 0x74, 0x73, 0x2e, 0x63, 0x73, 0x76, 0x50, 0x4b, 0x05, 0x06,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x3b, 0x00, 0x00, 0x00, 0x71, 0x00, 0x00, 0x00,
    0x00, 0x00,
};
static const uint8_t zip_lzma[] = {
    0x50, 0x4b, 0x03, 0x04, 0x3f, 0x00, 0x02, 0x08, 0x0e, 0x00, 0x83, 0x18, 0x22, 0x5c, 0x5a, 0x0a,
    0xe9, 0x8f, 0x2e, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x70, 0xc3,
    0xa4, 0x74, 0x69, 0x65, 0x6e, 0x74, 0x73, 0x2e, 0x63, 0x73, 0x76, 0x09, 0x04, 0x05, 0x00, 0x5d,
    0x00, 0x00, 0x80, 0x00, 0x00, 0x36, 0x9c, 0x89, 0xfb, 0xda, 0xdd, 0x04, 0x84, 0xff, 0x64, 0x75,
    0xed, 0xc6, 0x4a, 0xa5, 0x8e, 0xf6, 0x0b, 0x5f, 0x8a, 0xe2, 0x10, 0x8e, 0x88, 0x86, 0x50, 0xb1,
    0xc5, 0x09, 0x42, 0x0a, 0xff, 0xe3, 0xb8, 0x80, 0x00, 0x50, 0x4b, 0x01, 0x02, 0x3f, 0x03, 0x3f,
    0x00, 0x02, 0x08, 0x0e, 0x00, 0x83, 0x18, 0x22, 0x5c, 0x5a, 0x0a, 0xe9, 0x8f, 0x2e, 0x00, 0x00,
    0x00, 0x1a, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x70, 0xc3, 0xa4, 0x74, 0x69, 0x65, 0x6e, 0x74, 0x73,
    0x2e, 0x63, 0x73, 0x76, 0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x3b, 0x00, 0x00, 0x00, 0x59, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* A stored RAR 5 archive (RARLAB's "RAR 5.0 archive format": main header, one file header
 * with method 0, end of archive) holding CSV as "a.csv"; written by tests/e2e/e2e_archive.py's
 * rar5_stored(). */
static const uint8_t rar5_stored[] = {
    0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00, 0xc5, 0x1a, 0x33, 0x32, 0x03, 0x01, 0x00, 0x00,
    0x59, 0x58, 0x65, 0xe3, 0x14, 0x02, 0x02, 0x5b, 0x04, 0x5b, 0xa4, 0x83, 0x02, 0x12, 0x19, 0x07,
    0x9c, 0x00, 0x01, 0x05, 0x61, 0x2e, 0x63, 0x73, 0x76, 0x6d, 0x72, 0x6e, 0x2c, 0x6c, 0x61, 0x73,
    0x74, 0x5f, 0x6e, 0x61, 0x6d, 0x65, 0x2c, 0x66, 0x69, 0x72, 0x73, 0x74, 0x5f, 0x6e, 0x61, 0x6d,
    0x65, 0x2c, 0x64, 0x6f, 0x62, 0x2c, 0x73, 0x73, 0x6e, 0x2c, 0x64, 0x69, 0x61, 0x67, 0x6e, 0x6f,
    0x73, 0x69, 0x73, 0x0a, 0x4d, 0x52, 0x4e, 0x30, 0x30, 0x30, 0x30, 0x30, 0x31, 0x2c, 0x44, 0x6f,
    0x65, 0x2c, 0x4a, 0x61, 0x6e, 0x65, 0x2c, 0x31, 0x39, 0x36, 0x31, 0x2d, 0x30, 0x32, 0x2d, 0x30,
    0x33, 0x2c, 0x32, 0x31, 0x39, 0x2d, 0x30, 0x39, 0x2d, 0x39, 0x39, 0x39, 0x39, 0x2c, 0x45, 0x31,
    0x31, 0x2e, 0x39, 0x0a, 0x19, 0xb2, 0x3a, 0x35, 0x03, 0x05, 0x00, 0x00,
};

#define MAX_KIDS 4096

static char case_dir[64];
static struct pt_objstore *store;
static struct pt_app_ctx ctx;
static struct pt_object_rec kids[MAX_KIDS];
static size_t n_kids;
static char anomalies[64][48];
static size_t n_anomalies;
static bool recurse = true;

static void on_object(void *arg, const struct pt_object_rec *r)
{
    (void)arg;
    assert_true(n_kids < MAX_KIDS);
    kids[n_kids++] = *r;
    if (recurse) {
        pt_unpack(&ctx, r);
    }
}

static void on_anomaly(void *arg, uint32_t item, uint64_t frame, enum pt_anom kind_id,
                       const char *detail)
{
    const char *kind = pt_anom_kind(kind_id);
    (void)arg;
    (void)item;
    (void)frame;
    (void)detail;
    if (n_anomalies < 64) {
        snprintf(anomalies[n_anomalies++], sizeof anomalies[0], "%s", kind);
    }
}

static size_t anomaly_count(const char *kind)
{
    size_t k = 0;
    for (size_t i = 0; i < n_anomalies; i++) {
        k += strcmp(anomalies[i], kind) == 0;
    }
    return k;
}

static int setup(void **state)
{
    (void)state;
    snprintf(case_dir, sizeof case_dir, "/tmp/pt-unpack-XXXXXX");
    if (mkdtemp(case_dir) == NULL || pt_objstore_new(case_dir, 0, &store) != PT_OK) {
        return -1;
    }
    memset(&ctx, 0, sizeof ctx);
    ctx.store = store;
    ctx.object = on_object;
    ctx.anomaly = on_anomaly;
    n_kids = n_anomalies = 0;
    recurse = true;
    return pt_unpack_run_new(PT_UNPACK_BUDGET_TOP, PT_UNPACK_BUDGET_CASE, &ctx.unpack) == PT_OK ? 0
                                                                                           : -1;
}

static int teardown(void **state)
{
    (void)state;
    pt_unpack_run_free(ctx.unpack);
    pt_objstore_free(store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", case_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void sha_hex(const void *p, size_t n, char hex[PT_SHA256_HEX])
{
    uint8_t d[PT_SHA256_LEN];
    assert_int_equal(pt_sha256_buf(p, n, d), PT_OK);
    pt_hex(d, sizeof d, hex);
}

/* Store bytes as a top-level object named `name`; libmagic types it. */
static struct pt_object_rec store_top(const void *p, size_t n, const char *name)
{
    struct pt_object_rec meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.name, sizeof meta.name, "%s", name);
    snprintf(meta.direction, sizeof meta.direction, "at-rest");
    struct pt_obj *o = pt_obj_open(store, &meta);
    assert_non_null(o);
    pt_obj_write(o, p, n);
    struct pt_object_rec rec;
    assert_true(pt_obj_close(o, true, &rec));
    return rec;
}

/* The stored bytes of an object (its pack slice or its file). */
static uint8_t *stored(const struct pt_object_rec *r, size_t *n)
{
    struct pt_objbytes ob;
    assert_true(pt_objstore_load(store, r->sha256, &ob));
    uint8_t *b = malloc(ob.n + 1);
    assert_non_null(b);
    memcpy(b, ob.p, ob.n);
    *n = ob.n;
    pt_object_release(&ob);
    return b;
}

/* Destroy an object's stored bytes (zeros over its pack slice, or its file removed), to show
 * that a later step does not read them again. */
static void erase_stored(const struct pt_object_rec *r)
{
    char path[512];
    if (r->pack[0] == '\0') {
        assert_true(pt_objstore_path(store, r->sha256, path, sizeof path));
        assert_int_equal(unlink(path), 0);
        return;
    }
    snprintf(path, sizeof path, "%s/objects/%s", case_dir, r->pack);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)r->pack_off, SEEK_SET), 0);
    for (uint64_t i = 0; i < r->size; i++) {
        fputc(0, f);
    }
    fclose(f);
}

/* Two members every archive test carries: a small CSV and 200 kB of text in a directory. */
#define CSV                                                                                        \
    "mrn,last_name,first_name,dob,ssn,diagnosis\nMRN000001,Doe,Jane,1961-02-03,219-09-9999,E11.9\n"
static uint8_t *big;
static const size_t big_n = 200000;

static void make_big(void)
{
    if (big == NULL) {
        big = malloc(big_n);
        assert_non_null(big);
        for (size_t i = 0; i < big_n; i++) {
            big[i] = (uint8_t)('a' + (i * 7 + i / 13) % 26);
        }
    }
}

struct grow {
    uint8_t *p;
    size_t n;
};

/* An archive of `format` (libarchive write code) with `filter` (options e.g.
 * "zip:compression=store", a passphrase or NULL) holding n members. */
static struct grow write_members(int format, int filter, const char *options, const char *pass,
                                 const char *const *names, const size_t *sizes,
                                 const void *const *data, int n)
{
    size_t cap = 65536, used = 0;
    for (int i = 0; i < n; i++) {
        cap += sizes[i] * 2 + 1024;
    }
    struct grow g = {malloc(cap), 0};
    assert_non_null(g.p);
    struct archive *a = archive_write_new();
    assert_int_equal(archive_write_set_format(a, format), ARCHIVE_OK);
    if (filter != ARCHIVE_FILTER_NONE) {
        assert_int_equal(archive_write_add_filter(a, filter), ARCHIVE_OK);
    }
    if (options != NULL) {
        assert_int_equal(archive_write_set_options(a, options), ARCHIVE_OK);
    }
    if (pass != NULL) {
        assert_int_equal(archive_write_set_passphrase(a, pass), ARCHIVE_OK);
    }
    assert_int_equal(archive_write_open_memory(a, g.p, cap, &used), ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_size(e, (la_int64_t)sizes[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, 1767225600, 0);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, data[i], sizes[i]), (la_ssize_t)sizes[i]);
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    g.n = used;
    return g;
}

/* The two members most tests use: CSV as "a.csv" and big as "dir/b.txt". */
static struct grow write_archive(int format, int filter, const char *options, const char *pass)
{
    make_big();
    const char *names[2] = {"a.csv", "dir/b.txt"};
    const void *data[2] = {CSV, big};
    size_t sizes[2] = {strlen(CSV), big_n};
    return write_members(format, filter, options, pass, names, sizes, data, 2);
}

/* One member of `bytes` compressed by `filter` alone (format raw). */
static struct grow write_stream(int filter, const void *bytes, size_t n)
{
    const char *names[1] = {"x"};
    const void *data[1] = {bytes};
    return write_members(ARCHIVE_FORMAT_RAW, filter, NULL, NULL, names, &n, data, 1);
}

static const struct pt_object_rec *kid(const char *name)
{
    for (size_t i = 0; i < n_kids; i++) {
        if (strcmp(kids[i].name, name) == 0) {
            return &kids[i];
        }
    }
    fail_msg("no member %s", name);
    return NULL;
}

static void assert_member(const struct pt_object_rec *top, const char *name, const void *want,
                          size_t n, const char *encoding)
{
    const struct pt_object_rec *k = kid(name);
    char hex[PT_SHA256_HEX];
    sha_hex(want, n, hex);
    assert_string_equal(k->sha256, hex);
    assert_int_equal(k->size, n);
    assert_string_equal(k->encoding, encoding);
    assert_string_equal(k->parent_sha256, top->sha256);
    assert_int_equal(k->depth, top->depth + 1);
    assert_true(k->complete);
    assert_false(k->encrypted);
    size_t got;
    uint8_t *b = stored(k, &got);
    assert_int_equal(got, n);
    assert_memory_equal(b, want, n);
    free(b);
}

/* ---- formats ---------------------------------------------------------------------------- */

static void archive_formats_give_their_members(void **state)
{
    (void)state;
    static const struct {
        int format, filter;
        const char *options, *mime, *encoding_a, *encoding_b;
    } cases[] = {
        {ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, NULL, "application/x-tar", "tar",
         "tar"},
        {ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_GZIP, NULL, "application/gzip", "tar,gzip",
         "tar,gzip"},
        {ARCHIVE_FORMAT_TAR_GNUTAR, ARCHIVE_FILTER_BZIP2, NULL, "application/x-bzip2",
         "tar,bzip2", "tar,bzip2"},
        {ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_XZ, NULL, "application/x-xz", "tar,xz",
         "tar,xz"},
        {ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_ZSTD, NULL, "application/zstd",
         "tar,zstd", "tar,zstd"},
        {ARCHIVE_FORMAT_CPIO_SVR4_NOCRC, ARCHIVE_FILTER_NONE, NULL, "application/x-cpio", "cpio",
         "cpio"},
        {ARCHIVE_FORMAT_CPIO_SVR4_NOCRC, ARCHIVE_FILTER_XZ, NULL, "application/x-xz", "cpio,xz",
         "cpio,xz"},
        {ARCHIVE_FORMAT_7ZIP, ARCHIVE_FILTER_NONE, NULL, "application/x-7z-compressed", "7z",
         "7z"},
        {ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, "zip:compression=deflate", "application/zip",
         "zip,deflate", "zip,deflate"},
        {ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, "zip:compression=store", "application/zip",
         "zip", "zip"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        n_kids = n_anomalies = 0;
        struct grow g = write_archive(cases[i].format, cases[i].filter, cases[i].options, NULL);
        struct pt_object_rec top = store_top(g.p, g.n, "staged");
        assert_string_equal(top.mime, cases[i].mime);
        pt_unpack(&ctx, &top);
        assert_int_equal(n_kids, 2);
        assert_int_equal(n_anomalies, 0);
        assert_member(&top, "a.csv", CSV, strlen(CSV), cases[i].encoding_a);
        assert_member(&top, "dir/b.txt", big, big_n, cases[i].encoding_b);
        free(g.p);
    }
}

static void compressed_files_give_one_child(void **state)
{
    (void)state;
    make_big();
    static const struct {
        int filter;
        const char *name, *child, *encoding;
    } cases[] = {
        {ARCHIVE_FILTER_GZIP, "/evidence/notes.txt.gz", "/evidence/notes.txt", "gzip"},
        {ARCHIVE_FILTER_BZIP2, "notes.txt.bz2", "notes.txt", "bzip2"},
        {ARCHIVE_FILTER_XZ, "notes.txt.xz", "notes.txt", "xz"},
        {ARCHIVE_FILTER_ZSTD, "notes.txt.zst", "notes.txt", "zstd"},
        {ARCHIVE_FILTER_LZMA, "notes.lzma", "notes", "lzma"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        n_kids = n_anomalies = 0;
        struct grow g = write_stream(cases[i].filter, big, big_n);
        struct pt_object_rec top = store_top(g.p, g.n, cases[i].name);
        pt_unpack(&ctx, &top);
        assert_int_equal(n_kids, 1);
        assert_int_equal(n_anomalies, 0);
        assert_member(&top, cases[i].child, big, big_n, cases[i].encoding);
        free(g.p);
    }
}

/* Two gzip members back to back (RFC 1952 §2.2), the first with FNAME: one child, both
 * members' bytes, named by FNAME. */
static void gzip_members_concatenated(void **state)
{
    (void)state;
    uint8_t out[4096];
    size_t n = 0;
    const char *parts[2] = {"first member\n", "second member\n"};
    for (int i = 0; i < 2; i++) {
        z_stream z;
        memset(&z, 0, sizeof z);
        assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                         Z_OK);
        gz_header h;
        memset(&h, 0, sizeof h);
        h.name = (Bytef *)"r\xe9sultats.txt"; /* ISO 8859-1, as RFC 1952 says */
        if (i == 0) {
            assert_int_equal(deflateSetHeader(&z, &h), Z_OK);
        }
        z.next_in = (Bytef *)(uintptr_t)parts[i];
        z.avail_in = (uInt)strlen(parts[i]);
        z.next_out = out + n;
        z.avail_out = (uInt)(sizeof out - n);
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        n = sizeof out - z.avail_out;
        deflateEnd(&z);
    }
    struct pt_object_rec top = store_top(out, n, "x.gz");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 1);
    assert_member(&top, "r\xc3\xa9sultats.txt", "first member\nsecond member\n", 27, "gzip");
}

static void zip_methods_bzip2_and_lzma(void **state)
{
    (void)state;
    const char *want = ZIP_METHOD_DATA;
    struct pt_object_rec top = store_top(zip_bzip2, sizeof zip_bzip2, "b.zip");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 1);
    assert_member(&top, "p\xc3\xa4tients.csv", want, strlen(want), "zip,bzip2");
    n_kids = 0;
    top = store_top(zip_lzma, sizeof zip_lzma, "l.zip");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 1);
    assert_member(&top, "p\xc3\xa4tients.csv", want, strlen(want), "zip,lzma");
    assert_int_equal(n_anomalies, 0);
}

/* A zip name without the UTF-8 flag is CP437 (APPNOTE appendix D): 0x81 0x82 are "üé". */
static void zip_cp437_name(void **state)
{
    (void)state;
    struct grow g = write_archive(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE,
                                  "zip:compression=store", NULL);
    for (uint8_t *p = g.p; (p = memmem(p, g.n - (size_t)(p - g.p), "a.csv", 5)) != NULL; p++) {
        p[0] = 0x81; /* in the local and the central header */
    }
    struct pt_object_rec top = store_top(g.p, g.n, "cp.zip");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 2);
    assert_member(&top, "\xc3\xbc.csv", CSV, strlen(CSV), "zip");
    free(g.p);
}

/* Self-extractors: an MS-DOS stub, then a zip (found by its central directory, offsets
 * corrected for the stub) or a 7z (found by its signature); a bare executable is nothing. */
static void self_extractors(void **state)
{
    (void)state;
    static const struct {
        int format;
        size_t stub;
        bool pe; /* a PE header after the MS-DOS one: libmagic's other MIME type */
        const char *mime, *encoding;
    } cases[] = {
        {ARCHIVE_FORMAT_ZIP, 512, false, "application/x-dosexec", "zip,deflate"},
        {ARCHIVE_FORMAT_7ZIP, 0x27000, true, "application/vnd.microsoft.portable-executable",
         "7z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        n_kids = n_anomalies = 0;
        struct grow g = write_archive(cases[i].format, ARCHIVE_FILTER_NONE, NULL, NULL);
        uint8_t *exe = calloc(1, cases[i].stub + g.n);
        assert_non_null(exe);
        memcpy(exe, "MZ", 2);
        if (cases[i].pe) {
            /* e_lfanew 0x80: "PE", i386, one section, optional header of 0xe0, PE32 */
            static const uint8_t pe[] = {'P', 'E', 0, 0, 0x4c, 0x01, 1, 0};
            exe[0x3c] = 0x80;
            memcpy(exe + 0x80, pe, sizeof pe);
            exe[0x94] = 0xe0;
            exe[0x96] = 0x02;
            exe[0x97] = 0x01;
            exe[0x98] = 0x0b;
            exe[0x99] = 0x01;
        }
        memcpy(exe + cases[i].stub, g.p, g.n);
        struct pt_object_rec top = store_top(exe, cases[i].stub + g.n, "setup.exe");
        assert_string_equal(top.mime, cases[i].mime);
        pt_unpack(&ctx, &top);
        assert_int_equal(n_kids, 2);
        assert_int_equal(n_anomalies, 0);
        assert_member(&top, "a.csv", CSV, strlen(CSV), cases[i].encoding);
        assert_member(&top, "dir/b.txt", big, big_n, cases[i].encoding);
        free(exe);
        free(g.p);
    }
    n_kids = n_anomalies = 0;
    uint8_t stub[4096] = {'M', 'Z'};
    struct pt_object_rec top = store_top(stub, sizeof stub, "plain.exe");
    assert_string_equal(top.mime, "application/x-dosexec");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 0);
    assert_int_equal(n_anomalies, 0);
}

/* RAR cannot be written by libarchive (or by free software): a stored RAR 5 built by hand. */
static void rar5_members(void **state)
{
    (void)state;
    struct pt_object_rec top = store_top(rar5_stored, sizeof rar5_stored, "s.rar");
    assert_string_equal(top.mime, "application/x-rar");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 1);
    assert_int_equal(n_anomalies, 0);
    assert_member(&top, "a.csv", CSV, strlen(CSV), "rar");
}

/* ---- what cannot be read ------------------------------------------------------------------ */

static void encrypted_zip_member_is_recorded(void **state)
{
    (void)state;
    struct grow g = write_archive(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE,
                                  "zip:encryption=zipcrypt", "secret");
    struct pt_object_rec top = store_top(g.p, g.n, "e.zip");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 2);
    const struct pt_object_rec *k = kid("a.csv");
    assert_true(k->encrypted);
    assert_string_equal(k->encoding, "zip,deflate,encrypted");
    /* kept as sent: the encrypted bytes (12-byte header + data), not the plain text */
    size_t n;
    uint8_t *b = stored(k, &n);
    assert_true(n >= 12);
    assert_null(memmem(b, n, "MRN000001", 9));
    free(b);
    assert_int_equal(anomaly_count("unpack.encrypted_member"), 2);
    free(g.p);
}

/* The archive password phase (archive_pw.c): a wrong passphrase does not open a ZipCrypto or
 * AES zip, the right one does, and the members come out decrypted. */
static void encrypted_zip_opened_with_its_passphrase(void **state)
{
    (void)state;
    static const char *const how[] = {"zip:encryption=zipcrypt", "zip:encryption=aes256"};
    /* libarchive names an AES entry's method "winzip aes", not its inner compression */
    static const char *const enc[] = {"zip,deflate,decrypted", "zip,decrypted"};
    for (size_t i = 0; i < 2; i++) {
        struct grow g = write_archive(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, how[i], "s3cr3t");
        struct pt_object_rec top = store_top(g.p, g.n, "e.zip");
        assert_false(pt_unpack_try_passphrase(g.p, g.n, top.mime, "wrong"));
        assert_false(pt_unpack_try_passphrase(g.p, g.n, top.mime, "s3cr3"));
        assert_true(pt_unpack_try_passphrase(g.p, g.n, top.mime, "s3cr3t"));
        assert_false(pt_unpack_try_passphrase(g.p, g.n, "text/plain", "s3cr3t"));
        n_kids = 0;
        pt_unpack_opened(&ctx, &top, g.p, g.n, "s3cr3t");
        assert_int_equal(n_kids, 2);
        assert_member(&top, "a.csv", CSV, strlen(CSV), enc[i]);
        assert_member(&top, "dir/b.txt", big, big_n, enc[i]);
        free(g.p);
    }
    /* every cut of an encrypted zip is refused or opened, never a crash */
    struct grow g = write_archive(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, how[0], "s3cr3t");
    for (size_t cut = 0; cut < g.n; cut += 97) {
        uint8_t *p = malloc(cut ? cut : 1);
        assert_non_null(p);
        memcpy(p, g.p, cut);
        pt_unpack_try_passphrase(p, cut, "application/zip", "s3cr3t");
        free(p);
    }
    free(g.p);
}

static void crc_errors_are_anomalies_and_partial(void **state)
{
    (void)state;
    struct grow g = write_archive(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE,
                                  "zip:compression=store", NULL);
    uint8_t *hit = memmem(g.p, g.n, "MRN000001", 9);
    assert_non_null(hit);
    hit[3] = '9'; /* stored: the bytes still read, only the CRC can tell */
    struct pt_object_rec top = store_top(g.p, g.n, "c.zip");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 2);
    assert_false(kid("a.csv")->complete);
    assert_true(kid("dir/b.txt")->complete);
    assert_int_equal(anomaly_count("unpack.crc_mismatch"), 1);
    free(g.p);

    /* gzip: zlib checks the trailer's CRC-32 */
    n_kids = n_anomalies = 0;
    g = write_stream(ARCHIVE_FILTER_GZIP, CSV, strlen(CSV));
    g.p[g.n - 8] ^= 1;
    top = store_top(g.p, g.n, "c.csv.gz");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 1);
    assert_false(kids[0].complete);
    assert_int_equal(anomaly_count("unpack.crc_mismatch"), 1);
    free(g.p);
}

/* A method libarchive does not decode (deflate64 here, method 9 written over a stored entry's
 * in both headers): the entry is kept as sent, partial, with an anomaly. */
static void unsupported_zip_method_kept_as_sent(void **state)
{
    (void)state;
    struct grow g = write_archive(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE,
                                  "zip:compression=store", NULL);
    for (size_t i = 0; i + 46 < g.n; i++) {
        bool local = memcmp(g.p + i, "PK\x03\x04", 4) == 0;
        bool central = memcmp(g.p + i, "PK\x01\x02", 4) == 0;
        size_t name = i + (local ? 30 : 46);
        if ((local || central) && name + 5 <= g.n && memcmp(g.p + name, "a.csv", 5) == 0) {
            g.p[i + (local ? 8 : 10)] = 9;
        }
    }
    struct pt_object_rec top = store_top(g.p, g.n, "m.zip");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 2);
    const struct pt_object_rec *k = kid("a.csv");
    assert_false(k->complete);
    assert_string_equal(k->encoding, "zip");
    char hex[PT_SHA256_HEX];
    sha_hex(CSV, strlen(CSV), hex);
    assert_string_equal(k->sha256, hex); /* stored bytes, kept as sent */
    assert_true(kid("dir/b.txt")->complete);
    assert_int_equal(anomaly_count("unpack.zip_method"), 1);
    free(g.p);
}

static void corrupt_archive_is_an_anomaly(void **state)
{
    (void)state;
    struct grow g = write_archive(ARCHIVE_FORMAT_7ZIP, ARCHIVE_FILTER_NONE, NULL, NULL);
    memset(g.p + 40, 0xa5, g.n - 80); /* packed streams and header garbage */
    struct pt_object_rec top = store_top(g.p, g.n, "d.7z");
    pt_unpack(&ctx, &top);
    assert_true(n_anomalies >= 1);
    for (size_t i = 0; i < n_kids; i++) {
        assert_false(kids[i].complete);
    }
    free(g.p);
}

/* ---- limits ------------------------------------------------------------------------------- */

static void depth_limit(void **state)
{
    (void)state;
    /* gzip of gzip of ... eight layers: members down to PT_UNPACK_MAX_DEPTH, then an anomaly */
    struct grow g = {(uint8_t *)strdup("innermost"), 9};
    for (int i = 0; i < 8; i++) {
        struct grow o = write_stream(ARCHIVE_FILTER_GZIP, g.p, g.n);
        free(g.p);
        g = o;
    }
    struct pt_object_rec top = store_top(g.p, g.n, "deep.gz");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, PT_UNPACK_MAX_DEPTH);
    assert_int_equal(kids[n_kids - 1].depth, PT_UNPACK_MAX_DEPTH);
    assert_int_equal(anomaly_count("limit.unpack_depth"), 1);
    free(g.p);
}

/* A 32 MiB run of zeros deflates about 1000:1, beyond PT_UNPACK_MAX_RATIO: cut, partial. */
static void ratio_limit(void **state)
{
    (void)state;
    size_t n = 32u << 20;
    uint8_t *zeros = calloc(1, n);
    assert_non_null(zeros);
    struct grow g = write_stream(ARCHIVE_FILTER_GZIP, zeros, n);
    free(zeros);
    assert_true(g.n < n / 500);
    struct pt_object_rec top = store_top(g.p, g.n, "z.gz");
    clock_t t0 = clock();
    pt_unpack(&ctx, &top);
    assert_true(clock() - t0 < 10 * CLOCKS_PER_SEC);
    assert_int_equal(n_kids, 1);
    assert_false(kids[0].complete);
    assert_true(kids[0].size < n);
    assert_true(kids[0].size <= (uint64_t)PT_UNPACK_MAX_RATIO * (g.n + PT_UNPACK_CHUNK) +
                                      PT_UNPACK_RATIO_FLOOR + PT_UNPACK_CHUNK);
    assert_int_equal(anomaly_count("limit.decompression_bomb"), 1);
    free(g.p);
}

static void le16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    le16(p, v & 0xffff);
    le16(p + 2, v >> 16);
}

/* A zip of n stored entries whose data overlap (Fifield 2019, "quoted" overlap): entry i's
 * data are the local headers and data of entries i+1..n-1 and then `content`. Every header
 * and CRC is right; only the ranges overlap. Named "fNNN". */
static struct grow overlap_zip(unsigned n, const void *content, size_t cn)
{
    const size_t hdr = 34, cen = 50;
    size_t total = n * hdr + cn;
    struct grow g = {malloc(total + n * cen + 22), 0};
    assert_non_null(g.p);
    uint8_t *p = g.p;
    memcpy(p + n * hdr, content, cn);
    uint8_t *c = p + total;
    for (unsigned i = n; i-- > 0;) {
        size_t off = i * hdr, len = total - off - hdr;
        uint32_t crc = (uint32_t)crc32(0, p + off + hdr, (uInt)len);
        char name[8];
        snprintf(name, sizeof name, "f%03u", i % 1000);
        uint8_t *h = p + off;
        memset(h, 0, hdr);
        le32(h, 0x04034b50);
        le16(h + 4, 20);
        le32(h + 14, crc);
        le32(h + 18, (uint32_t)len);
        le32(h + 22, (uint32_t)len);
        le16(h + 26, 4);
        memcpy(h + 30, name, 4);
        uint8_t *e = c + (size_t)i * cen;
        memset(e, 0, cen);
        le32(e, 0x02014b50);
        le16(e + 4, 20);
        le16(e + 6, 20);
        le32(e + 16, crc);
        le32(e + 20, (uint32_t)len);
        le32(e + 24, (uint32_t)len);
        le16(e + 28, 4);
        le32(e + 42, (uint32_t)off);
        memcpy(e + 46, name, 4);
    }
    uint8_t *eocd = c + (size_t)n * cen;
    memset(eocd, 0, 22);
    le32(eocd, 0x06054b50);
    le16(eocd + 8, n);
    le16(eocd + 10, n);
    le32(eocd + 12, (uint32_t)(n * cen));
    le32(eocd + 16, (uint32_t)total);
    g.n = total + n * cen + 22;
    return g;
}

/* The same archive seen twice in a run is unpacked once: the second copy gets the members
 * again, with its own place, without its bytes being read (they are gone here). */
static void unpack_once_per_hash(void **state)
{
    (void)state;
    struct grow g = write_archive(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, NULL, NULL);
    struct pt_object_rec top = store_top(g.p, g.n, "once.zip");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 2);
    erase_stored(&top);
    struct pt_object_rec again = top;
    again.flow_id = 77;
    snprintf(again.direction, sizeof again.direction, "upload");
    pt_unpack(&ctx, &again);
    assert_int_equal(n_anomalies, 0);
    assert_int_equal(n_kids, 4);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(kids[2 + i].sha256, kids[i].sha256);
        assert_string_equal(kids[2 + i].name, kids[i].name);
        assert_string_equal(kids[2 + i].parent_sha256, top.sha256);
        assert_int_equal(kids[2 + i].flow_id, 77);
        assert_string_equal(kids[2 + i].direction, "upload");
    }
    /* the anomalies of the first copy are repeated too, with the second copy's place, so the
     * case does not depend on which copy a worker reached first */
    n_kids = n_anomalies = 0;
    recurse = false;
    struct grow ov = overlap_zip(3, CSV, strlen(CSV));
    struct pt_object_rec first = store_top(ov.p, ov.n, "ov.zip");
    pt_unpack(&ctx, &first);
    erase_stored(&first);
    struct pt_object_rec second = first;
    second.item = 9;
    pt_unpack(&ctx, &second);
    assert_int_equal(n_kids, 2);
    assert_int_equal(kids[1].item, 9);
    assert_int_equal(anomaly_count("unpack.zip_overlap"), 2);
    assert_int_equal(n_anomalies, 2);
    free(ov.p);

    /* without a run state nothing is shared: the erased bytes are read, and show (an
     * unreadable or corrupt archive, no member) */
    struct pt_unpack_run *run = ctx.unpack;
    ctx.unpack = NULL;
    unsigned kids_before = n_kids, anomalies_before = n_anomalies;
    pt_unpack(&ctx, &again);
    assert_int_equal(n_kids, kids_before);
    assert_true(n_anomalies > anomalies_before);
    ctx.unpack = run;
    free(g.p);
}

static void overlapping_zip_entries_refused(void **state)
{
    (void)state;
    recurse = false;
    struct grow g = overlap_zip(60, CSV, strlen(CSV));
    struct pt_object_rec top = store_top(g.p, g.n, "o.zip");
    assert_string_equal(top.mime, "application/zip");
    pt_unpack(&ctx, &top);
    /* the innermost entry (the data all the others quote) is read, the 59 around it refused */
    assert_int_equal(n_kids, 1);
    assert_member(&top, "f059", CSV, strlen(CSV), "zip");
    assert_int_equal(anomaly_count("unpack.zip_overlap"), 1);
    free(g.p);

    /* the same entries without overlap (each its own data) are all read */
    n_kids = n_anomalies = 0;
    struct grow w = write_archive(ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE,
                                  "zip:compression=store", NULL);
    top = store_top(w.p, w.n, "plain.zip");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 2);
    assert_int_equal(anomaly_count("unpack.zip_overlap"), 0);
    free(w.p);
}

/* Overlapping zips nested five deep, 60 entries a level: finishes at once, bounded. */
static void nested_overlap_bomb_is_bounded(void **state)
{
    (void)state;
    struct grow g = {(uint8_t *)strdup(CSV), strlen(CSV)};
    for (int level = 0; level < 5; level++) {
        struct grow o = overlap_zip(60, g.p, g.n);
        free(g.p);
        g = o;
    }
    struct pt_object_rec top = store_top(g.p, g.n, "bomb.zip");
    clock_t t0 = clock();
    pt_unpack(&ctx, &top);
    assert_true(clock() - t0 < 20 * CLOCKS_PER_SEC);
    uint64_t out = 0;
    for (size_t i = 0; i < n_kids; i++) {
        out += kids[i].size;
    }
    assert_true(n_kids < 64);
    assert_true(out < 64 * (uint64_t)g.n);
    assert_true(anomaly_count("unpack.zip_overlap") >= 1);
    free(g.p);
}

static uint8_t *noise(size_t n, unsigned seed)
{
    uint8_t *b = malloc(n);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)(((i + seed) * 2654435761u) >> 13);
    }
    return b;
}

/* One budget covers a top-level object's whole tree, nested members included; another the
 * run. Stored members count like compressed ones. */
static void budgets_cover_the_tree_and_the_run(void **state)
{
    (void)state;
    const size_t mib = 1u << 20;
    pt_unpack_run_free(ctx.unpack);
    assert_int_equal(pt_unpack_run_new(5 * mib / 2, 7 * mib / 2, &ctx.unpack), PT_OK);
    uint8_t *x = noise(mib, 1), *y = noise(mib, 2), *z = noise(mib, 3);
    const char *in_names[1] = {"x"};
    const size_t in_sizes[1] = {mib};
    const void *in_data[1] = {x};
    struct grow inner = write_members(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, NULL,
                                      NULL, in_names, in_sizes, in_data, 1);
    /* outer: inner.tar (~1 MiB, holding x: 1 MiB more), then y (1 MiB), then z */
    const char *names[3] = {"inner.tar", "y", "z"};
    const size_t sizes[3] = {inner.n, mib, mib};
    const void *data[3] = {inner.p, y, z};
    struct grow outer = write_members(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, NULL,
                                      NULL, names, sizes, data, 3);
    struct pt_object_rec top = store_top(outer.p, outer.n, "outer.tar");
    pt_unpack(&ctx, &top);
    /* inner.tar + x + y would be 3 MiB: y is cut at the 2.5 MiB budget, z never read */
    assert_int_equal(n_kids, 3);
    assert_true(kid("inner.tar")->complete);
    assert_true(kid("x")->complete);
    assert_false(kid("y")->complete);
    assert_int_equal(anomaly_count("limit.expansion_budget"), 1);

    /* the run's budget (3.5 MiB) has about 1.5 MiB left after this tree's 2.5: a second
     * top-level tar of 2 MiB is cut by the run's budget though its own is not reached */
    n_kids = n_anomalies = 0;
    const char *names2[2] = {"y", "z"};
    const size_t sizes2[2] = {mib, mib};
    const void *data2[2] = {y, z};
    struct grow second = write_members(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE,
                                       NULL, NULL, names2, sizes2, data2, 2);
    top = store_top(second.p, second.n, "second.tar");
    pt_unpack(&ctx, &top);
    assert_int_equal(n_kids, 2);
    assert_true(kid("y")->complete);
    assert_false(kid("z")->complete);
    assert_int_equal(anomaly_count("limit.expansion_budget"), 1);
    free(second.p);
    free(outer.p);
    free(inner.p);
    free(x);
    free(y);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(archive_formats_give_their_members, setup, teardown),
        cmocka_unit_test_setup_teardown(compressed_files_give_one_child, setup, teardown),
        cmocka_unit_test_setup_teardown(gzip_members_concatenated, setup, teardown),
        cmocka_unit_test_setup_teardown(zip_methods_bzip2_and_lzma, setup, teardown),
        cmocka_unit_test_setup_teardown(zip_cp437_name, setup, teardown),
        cmocka_unit_test_setup_teardown(rar5_members, setup, teardown),
        cmocka_unit_test_setup_teardown(self_extractors, setup, teardown),
        cmocka_unit_test_setup_teardown(encrypted_zip_member_is_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(encrypted_zip_opened_with_its_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(crc_errors_are_anomalies_and_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(unsupported_zip_method_kept_as_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_archive_is_an_anomaly, setup, teardown),
        cmocka_unit_test_setup_teardown(depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(ratio_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(unpack_once_per_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(overlapping_zip_entries_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(nested_overlap_bomb_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(budgets_cover_the_tree_and_the_run, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(big);
    return rc;
}
