/* test_objstore.c - the object store: content addressing, duplicates, spilling to files past
 * the per-object size and the per-worker memory budget, gaps, discarded objects. */
#include "cm.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "analyze/objstore.h"
#include "core/sha256.h"

static char case_dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(case_dir, sizeof case_dir, "/tmp/pt-objstore-XXXXXX");
    return mkdtemp(case_dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", case_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Bytes of object `k`, position `i`: distinct per object. */
static uint8_t byte_of(unsigned k, size_t i)
{
    return (uint8_t)((i * 31u + k * 7u + (i >> 9)) ^ k);
}

static void expected_sha(unsigned k, size_t n, char hex[PT_SHA256_HEX])
{
    struct pt_sha256 *h = pt_sha256_new();
    assert_non_null(h);
    uint8_t buf[4096];
    for (size_t off = 0; off < n; off += sizeof buf) {
        size_t m = n - off < sizeof buf ? n - off : sizeof buf;
        for (size_t i = 0; i < m; i++) {
            buf[i] = byte_of(k, off + i);
        }
        pt_sha256_update(h, buf, m);
    }
    uint8_t d[PT_SHA256_LEN];
    pt_sha256_final(h, d);
    pt_sha256_free(h);
    pt_hex(d, sizeof d, hex);
}

static void write_obj(struct pt_obj *o, unsigned k, size_t n, size_t chunk)
{
    uint8_t *buf = malloc(chunk);
    assert_non_null(buf);
    for (size_t off = 0; off < n; off += chunk) {
        size_t m = n - off < chunk ? n - off : chunk;
        for (size_t i = 0; i < m; i++) {
            buf[i] = byte_of(k, off + i);
        }
        pt_obj_write(o, buf, m);
    }
    free(buf);
}

static void assert_bytes(const struct pt_objbytes *b, unsigned k, size_t n)
{
    assert_int_equal(b->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(b->p[i], byte_of(k, i));
    }
}

/* The store holds exactly the object's bytes: read back through the store, and from the
 * case directory as a later stage would (its pack slice or its file). Objects that stayed in
 * memory are in the pack, larger ones are files. */
static void assert_stored(struct pt_objstore *s, const struct pt_object_rec *rec, unsigned k,
                          size_t n)
{
    struct pt_objbytes b;
    assert_true(pt_objstore_load(s, rec->sha256, &b));
    assert_bytes(&b, k, n);
    pt_object_release(&b);
    assert_true(pt_object_load(case_dir, rec->sha256, rec->pack, rec->pack_off, rec->size, &b));
    assert_bytes(&b, k, n);
    pt_object_release(&b);
    /* the same through kept packs and buffer (as the PHI stage reads), and its head */
    struct pt_packfd c;
    pt_packfd_init(&c);
    for (int twice = 0; twice < 2; twice++) {
        assert_true(pt_object_load_from(&c, case_dir, rec->sha256, rec->pack, rec->pack_off,
                                        rec->size, &b));
        assert_bytes(&b, k, n);
        pt_object_release(&b);
    }
    pt_packfd_close(&c);
    uint8_t head[100];
    size_t hn = pt_objstore_head(s, rec->sha256, head, sizeof head);
    assert_int_equal(hn, n < sizeof head ? n : sizeof head);
    for (size_t i = 0; i < hn; i++) {
        assert_int_equal(head[i], byte_of(k, i));
    }
    char path[512];
    assert_true(pt_objstore_path(s, rec->sha256, path, sizeof path));
    struct stat st;
    if (rec->pack[0] != '\0') {
        assert_non_null(strstr(rec->pack, "packs/p"));
        assert_int_not_equal(stat(path, &st), 0); /* no file per small object */
    } else {
        assert_int_equal(stat(path, &st), 0);
    }
}

static size_t files_in(const char *sub)
{
    char path[256];
    snprintf(path, sizeof path, "%s/objects/%s", case_dir, sub);
    DIR *d = opendir(path);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

static void sizes_small_large_and_duplicates(void **state)
{
    (void)state;
    struct pt_objstore *s = NULL;
    assert_int_equal(pt_objstore_new(case_dir, 0, &s), PT_OK);
    const size_t sizes[] = {0, 1, 4095, 4096, 4097, PT_OBJ_MEM_BYTES - 1, PT_OBJ_MEM_BYTES,
                            PT_OBJ_MEM_BYTES + 1, 3 * PT_OBJ_MEM_BYTES + 17};
    for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (int copy = 0; copy < 2; copy++) { /* the second is a duplicate */
            struct pt_object_rec meta = {0}, rec;
            snprintf(meta.protocol, sizeof meta.protocol, "test");
            struct pt_obj *o = pt_obj_open(s, &meta);
            assert_non_null(o);
            write_obj(o, k, sizes[k], copy ? 1000 : 65536);
            assert_int_equal(pt_obj_size(o), sizes[k]);
            assert_true(pt_obj_close(o, true, &rec));
            char want[PT_SHA256_HEX];
            expected_sha(k, sizes[k], want);
            assert_string_equal(rec.sha256, want);
            assert_int_equal(rec.size, sizes[k]);
            assert_true(rec.complete);
            assert_int_equal(rec.pack[0] != '\0', sizes[k] <= PT_OBJ_MEM_BYTES);
            assert_stored(s, &rec, k, sizes[k]);
        }
    }
    assert_int_equal(files_in("tmp"), 0); /* no temporary file left behind */
    assert_int_equal(files_in("packs"), 1); /* one pack; duplicates were not appended */
    size_t packed = 0;
    for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        packed += sizes[k] <= PT_OBJ_MEM_BYTES ? sizes[k] : 0;
    }
    struct pt_object_rec meta = {0}, rec;
    struct pt_obj *o = pt_obj_open(s, &meta);
    write_obj(o, 1, 1, 1);
    assert_true(pt_obj_close(o, true, &rec));
    char path[512];
    snprintf(path, sizeof path, "%s/objects/%s", case_dir, rec.pack);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((size_t)st.st_size, packed);
    assert_int_equal((st.st_mode & 0777), 0600);
    pt_objstore_free(s);
    /* a pack name from the database is only ever a file under objects/packs/ */
    struct pt_objbytes b;
    assert_false(pt_object_load(case_dir, rec.sha256, "packs/../../evil", 0, 1, &b));
    assert_false(pt_object_load(case_dir, rec.sha256, "/etc/passwd", 0, 1, &b));
    assert_false(pt_object_load(case_dir, rec.sha256, "packs/a/b.pack", 0, 1, &b));
    assert_false(pt_object_load(case_dir, rec.sha256, rec.pack, 0, PT_OBJ_MEM_BYTES + 1, &b));
    assert_false(pt_object_load(case_dir, rec.sha256, rec.pack, packed, 10, &b)); /* past end */
}

/* One reader over the packs of more stores than it keeps open (PT_PACKFD_MAX): every
 * object reads back whole in any order, the oldest pack closed as a new one opens; a pack
 * name that is no file under packs/ is refused and not kept. */
static void packfd_reads_many_packs(void **state)
{
    (void)state;
    enum { STORES = PT_PACKFD_MAX + 3 };
    struct pt_object_rec rec[STORES];
    for (unsigned w = 0; w < STORES; w++) {
        struct pt_objstore *s = NULL;
        assert_int_equal(pt_objstore_new(case_dir, w, &s), PT_OK);
        struct pt_object_rec meta = {0};
        struct pt_obj *o = pt_obj_open(s, &meta);
        assert_non_null(o);
        write_obj(o, w, 1000 + 97 * w, 300);
        assert_true(pt_obj_close(o, true, &rec[w]));
        assert_true(rec[w].pack[0] != '\0');
        pt_objstore_free(s);
    }
    assert_int_equal(files_in("packs"), STORES);
    struct pt_packfd c;
    pt_packfd_init(&c);
    struct pt_objbytes b;
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned x = 0; x < STORES; x++) {
            unsigned w = (x * 7 + round) % STORES;
            assert_true(pt_object_load_from(&c, case_dir, rec[w].sha256, rec[w].pack,
                                            rec[w].pack_off, rec[w].size, &b));
            assert_bytes(&b, w, 1000 + 97 * w);
            pt_object_release(&b);
        }
    }
    unsigned open_packs = 0;
    for (unsigned i = 0; i < PT_PACKFD_MAX; i++) {
        open_packs += c.fd[i] >= 0;
    }
    assert_int_equal(open_packs, PT_PACKFD_MAX);
    assert_false(pt_object_load_from(&c, case_dir, rec[0].sha256, "packs/../../evil", 0, 1, &b));
    assert_false(pt_object_load_from(&c, case_dir, rec[0].sha256, rec[0].pack, 0,
                                     PT_OBJ_MEM_BYTES + 1, &b));
    pt_packfd_close(&c);
    for (unsigned i = 0; i < PT_PACKFD_MAX; i++) {
        assert_int_equal(c.fd[i], -1);
    }
}

/* A kept pack (objkeep.h): each entry its 4-byte length, then its zlib stream when that is
 * smaller than the object, else its bytes; an entry that does not inflate to exactly the
 * object's size is refused, and so is an object not kept. */
static void kept_pack_entries_read_back(void **state)
{
    (void)state;
    uint8_t text[3000], raw[40], z[4000];
    for (size_t i = 0; i < sizeof text; i++) {
        text[i] = (uint8_t)"MSH|^~\\&|PID|"[i % 14];
    }
    for (size_t i = 0; i < sizeof raw; i++) {
        raw[i] = byte_of(9, i);
    }
    uLongf zn = sizeof z;
    assert_int_equal(compress2(z, &zn, text, sizeof text, 6), Z_OK);
    assert_true(zn < sizeof text);
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/objects/packs", case_dir);
    snprintf(path, sizeof path, "%s/objects", case_dir);
    mkdir(path, 0700);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/k1.zpk", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint8_t h1[4] = {(uint8_t)zn, (uint8_t)(zn >> 8), 0, 0}, h2[4] = {sizeof raw, 0, 0, 0};
    fwrite(h1, 1, 4, f);
    fwrite(z, 1, zn, f);
    fwrite(h2, 1, 4, f);
    fwrite(raw, 1, sizeof raw, f);
    fclose(f);
    assert_true(pt_object_kept_pack("packs/k1.zpk"));
    assert_false(pt_object_kept_pack("packs/p0-1.pack"));
    struct pt_objbytes b;
    assert_true(pt_object_load(case_dir, "", "packs/k1.zpk", 4, sizeof text, &b));
    assert_int_equal(b.n, sizeof text);
    assert_memory_equal(b.p, text, sizeof text);
    pt_object_release(&b);
    assert_true(pt_object_load(case_dir, "", "packs/k1.zpk", 8 + zn, sizeof raw, &b));
    assert_memory_equal(b.p, raw, sizeof raw);
    pt_object_release(&b);
    /* the wrong size, an offset without its length before it, an object not kept */
    assert_false(pt_object_load(case_dir, "", "packs/k1.zpk", 4, sizeof text - 1, &b));
    assert_false(pt_object_load(case_dir, "", "packs/k1.zpk", 4, sizeof text + 1, &b));
    assert_false(pt_object_load(case_dir, "", "packs/k1.zpk", 0, sizeof text, &b));
    assert_false(pt_object_load(case_dir, "", PT_OBJ_NOT_KEPT, 0, 0, &b));
    /* a flipped byte in the compressed stream is refused, never returned as the object */
    f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 4 + (long)zn / 2, SEEK_SET);
    fputc(z[zn / 2] ^ 0x55, f);
    fclose(f);
    if (pt_object_load(case_dir, "", "packs/k1.zpk", 4, sizeof text, &b)) {
        assert_memory_not_equal(b.p, text, sizeof text);
        pt_object_release(&b);
    }
}

/* A kept entry past the memory budget (a kept object's file packed by the keep stage) reads
 * back up to PT_OBJ_KEEP_PACK_MAX; a size past that is refused, not allocated. */
static void kept_pack_entry_past_the_memory_budget(void **state)
{
    (void)state;
    const size_t n = 3 * PT_OBJ_MEM_BYTES + 17;
    uLongf zn = compressBound((uLong)n);
    uint8_t *obj = malloc(n), *z = malloc(zn);
    assert_non_null(obj);
    assert_non_null(z);
    uint32_t x = 2463534242u; /* xorshift: bytes that compress little, and some text */
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        obj[i] = (uint8_t)(i % 4 == 0 ? 'a' : x);
    }
    assert_int_equal(compress2(z, &zn, obj, (uLong)n, 1), Z_OK);
    assert_true(zn > PT_OBJ_MEM_BYTES && zn < n); /* the stream too is past the budget */
    char path[400];
    snprintf(path, sizeof path, "%s/objects", case_dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/objects/packs", case_dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/objects/packs/k2.zpk", case_dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint8_t h[4] = {(uint8_t)zn, (uint8_t)(zn >> 8), (uint8_t)(zn >> 16), (uint8_t)(zn >> 24)};
    fwrite(h, 1, 4, f);
    fwrite(z, 1, zn, f);
    fclose(f);
    struct pt_objbytes b;
    assert_true(pt_object_load(case_dir, "", "packs/k2.zpk", 4, n, &b));
    assert_int_equal(b.n, n);
    assert_memory_equal(b.p, obj, n);
    pt_object_release(&b);
    assert_false(pt_object_load(case_dir, "", "packs/k2.zpk", 4, PT_OBJ_KEEP_PACK_MAX + 1ull,
                                &b));
    free(obj);
    free(z);
}

/* More open objects than the memory budget holds: the later ones go to files, all land. */
static void memory_budget_spills_to_files(void **state)
{
    (void)state;
    struct pt_objstore *s = NULL;
    assert_int_equal(pt_objstore_new(case_dir, 1, &s), PT_OK);
    enum { N = PT_OBJ_MEM_BUDGET / (PT_OBJ_MEM_BYTES / 2) + 8 };
    const size_t n = PT_OBJ_MEM_BYTES / 2 + 100; /* each wants 256 KiB of memory */
    struct pt_obj **open = calloc(N, sizeof *open);
    assert_non_null(open);
    for (unsigned k = 0; k < N; k++) {
        struct pt_object_rec meta = {0};
        open[k] = pt_obj_open(s, &meta);
        assert_non_null(open[k]);
    }
    for (size_t off = 0; off < n; off += 8192) { /* interleaved, as concurrent flows are */
        for (unsigned k = 0; k < N; k++) {
            uint8_t buf[8192];
            size_t m = n - off < sizeof buf ? n - off : sizeof buf;
            for (size_t i = 0; i < m; i++) {
                buf[i] = byte_of(100 + k, off + i);
            }
            pt_obj_write(open[k], buf, m);
        }
    }
    assert_true(files_in("tmp") >= N - PT_OBJ_MEM_BUDGET / PT_OBJ_MEM_BYTES); /* spilled */
    for (unsigned k = 0; k < N; k++) {
        struct pt_object_rec rec;
        assert_true(pt_obj_close(open[k], true, &rec));
        char want[PT_SHA256_HEX];
        expected_sha(100 + k, n, want);
        assert_string_equal(rec.sha256, want);
        assert_stored(s, &rec, 100 + k, n);
    }
    assert_int_equal(files_in("tmp"), 0);
    free(open);
    pt_objstore_free(s);
}

static void gaps_and_discard(void **state)
{
    (void)state;
    struct pt_objstore *s = NULL;
    assert_int_equal(pt_objstore_new(case_dir, 2, &s), PT_OK);
    struct pt_object_rec meta = {0}, rec;
    struct pt_obj *o = pt_obj_open(s, &meta);
    pt_obj_write(o, (const uint8_t *)"abc", 3);
    pt_obj_gap(o, 10);
    pt_obj_write(o, (const uint8_t *)"def", 3);
    assert_true(pt_obj_close(o, true, &rec));
    assert_false(rec.complete); /* a gap makes it partial whatever the caller says */
    assert_int_equal(rec.gap_bytes, 10);
    assert_string_equal(rec.gap_map, "[[3,10]]");
    assert_int_equal(rec.size, 6);
    /* discarded objects, in memory or spilled, leave nothing */
    o = pt_obj_open(s, &meta);
    write_obj(o, 7, 100, 100);
    pt_obj_discard(o);
    o = pt_obj_open(s, &meta);
    write_obj(o, 8, PT_OBJ_MEM_BYTES * 2, 65536);
    assert_int_equal(files_in("tmp"), 1);
    pt_obj_discard(o);
    assert_int_equal(files_in("tmp"), 0);
    pt_objstore_free(s);
}

static void count_failure(void *arg, const struct pt_object_rec *rec)
{
    unsigned *n = arg;
    assert_string_equal(rec->name, "lost.bin");
    assert_string_equal(rec->protocol, "ftp");
    (*n)++;
}

/* A store that cannot write (here objects/tmp/ is a file, as ENOSPC or EIO would do) reports
 * every lost object to its callback and counts it: no caller can drop one silently. */
static void failed_store_is_reported(void **state)
{
    (void)state;
    struct pt_objstore *s = NULL;
    assert_int_equal(pt_objstore_new(case_dir, 0, &s), PT_OK);
    unsigned failures = 0;
    pt_objstore_on_fail(s, count_failure, &failures);
    for (int d = 0; d < 2; d++) { /* neither a temporary file nor the pack can be made */
        char tmp[128];
        snprintf(tmp, sizeof tmp, "%s/objects/%s", case_dir, d ? "packs" : "tmp");
        assert_int_equal(rmdir(tmp), 0);
        FILE *f = fopen(tmp, "w");
        assert_non_null(f);
        fclose(f);
    }
    struct pt_object_rec meta = {.name = "lost.bin", .protocol = "ftp"}, rec;
    for (unsigned k = 0; k < 2; k++) { /* one in memory until closed, one spilled */
        struct pt_obj *o = pt_obj_open(s, &meta);
        assert_non_null(o);
        write_obj(o, k, k ? 3 * PT_OBJ_MEM_BYTES : 1000, 4096);
        assert_false(pt_obj_close(o, true, &rec));
    }
    assert_int_equal(failures, 2);
    assert_int_equal(pt_objstore_failures(s), 2);
    pt_objstore_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sizes_small_large_and_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(kept_pack_entry_past_the_memory_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(kept_pack_entries_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(packfd_reads_many_packs, setup, teardown),
        cmocka_unit_test_setup_teardown(memory_budget_spills_to_files, setup, teardown),
        cmocka_unit_test_setup_teardown(gaps_and_discard, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_store_is_reported, setup, teardown),
    };
    return cmocka_run_group_tests_name("objstore", tests, NULL, NULL);
}
