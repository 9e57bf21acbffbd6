/* test_ingest.c - split images as one input, a hash over their segments, case directories
 * never read as evidence, and the time span of logs. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"
#include "ingest/inputs.h"
#include "ingest/logtime.h"
#include "ingest/source.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pt-test-ingest-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *sub, const char *name, const void *data, size_t n)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fwrite(data, 1, n, f);
    fclose(f);
}

static void segment_names(void **state)
{
    (void)state;
    size_t b = 0;
    assert_int_equal(pt_inputs_segment("/x/disk.001", &b), 1);
    assert_int_equal(b, strlen("/x/disk."));
    assert_int_equal(pt_inputs_segment("/x/disk.000", &b), 0);
    assert_int_equal(pt_inputs_segment("/x/disk.E01", &b), 1);
    assert_int_equal(b, strlen("/x/disk.E"));
    assert_int_equal(pt_inputs_segment("/x/disk.e12", &b), 12);
    assert_int_equal(pt_inputs_segment("/x/disk.Ex03", &b), 3);
    assert_int_equal(pt_inputs_segment("/x/disk.L01", &b), 1);
    assert_int_equal(pt_inputs_segment("/x/disk.s02", &b), 2);
    assert_int_equal(pt_inputs_segment("/x/disk.E00", &b), -1);
    assert_int_equal(pt_inputs_segment("/x/disk.0001", &b), -1);
    assert_int_equal(pt_inputs_segment("/x/disk.dd", &b), -1);
    assert_int_equal(pt_inputs_segment("/x/disk.E1", &b), -1);
    assert_int_equal(pt_inputs_segment("/x.001/disk", &b), -1);
    assert_int_equal(pt_inputs_segment("/x/.001", &b), -1);
}

static void split_image_is_one_input(void **state)
{
    (void)state;
    char a[4096] = {0}, z[100] = "tail";
    memset(a, 'A', sizeof a);
    put("img", "disk.001", a, sizeof a);
    put("img", "disk.002", a, sizeof a);
    put("img", "disk.003", z, 4);
    put("img", "other.001", z, 4); /* alone: not a set */
    put("img", "cam.E01", a, 10);
    put("img", "cam.E02", a, 20);
    put("img", "cam.E04", a, 30); /* after a gap: its own input */
    /* numbered captures are separate captures */
    const uint8_t pcap[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0};
    put("img", "trace.001", pcap, sizeof pcap);
    put("img", "trace.002", pcap, sizeof pcap);
    char p[128], err[256] = "";
    snprintf(p, sizeof p, "%s/img", dir);
    char *paths[1] = {p};
    struct pt_input_list l;
    assert_int_equal(pt_inputs_expand(paths, 1, NULL, &l, err, sizeof err), PT_OK);
    assert_int_equal(l.n, 6);
    /* sorted: cam.E01, cam.E04, disk.001, other.001, trace.001, trace.002 */
    assert_int_equal(l.v[0].n_seg, 2);
    assert_true(l.v[0].seg_hole);
    assert_int_equal(l.v[0].size, 30);
    assert_non_null(strstr(l.v[0].path, "cam.E01"));
    assert_non_null(strstr(l.v[0].seg[1], "cam.E02"));
    assert_int_equal(l.v[1].n_seg, 0);
    assert_non_null(strstr(l.v[1].path, "cam.E04"));
    assert_int_equal(l.v[2].n_seg, 3);
    assert_false(l.v[2].seg_hole);
    assert_int_equal(l.v[2].size, 2 * sizeof a + 4);
    assert_non_null(strstr(l.v[2].seg[2], "disk.003"));
    assert_int_equal(l.v[3].n_seg, 0);
    assert_int_equal(l.v[4].n_seg, 0);
    assert_int_equal(l.v[5].n_seg, 0);
    pt_inputs_fini(&l);
}

static void case_directories_are_not_evidence(void **state)
{
    (void)state;
    put("tree", "evidence.txt", "x", 1);
    put("tree/case.partial-AbC123", "evidence.db", "SQLite", 6);
    char p[256], err[256] = "";
    snprintf(p, sizeof p, "%s/tree/case.partial-AbC123/objects", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    put("tree/notacase", "evidence.db", "x", 1); /* no objects/: an ordinary file */
    snprintf(p, sizeof p, "%s/tree", dir);
    char *paths[1] = {p};
    struct pt_input_list l;
    assert_int_equal(pt_inputs_expand(paths, 1, NULL, &l, err, sizeof err), PT_OK);
    assert_int_equal(l.n, 3);
    assert_non_null(strstr(l.v[0].path, "case.partial-AbC123"));
    assert_non_null(l.v[0].skip);
    assert_non_null(strstr(l.v[0].skip, "phitrace case"));
    assert_null(l.v[1].skip);
    assert_null(l.v[2].skip);
    pt_inputs_fini(&l);
}

static void segments_hash_into_one_digest(void **state)
{
    (void)state;
    char a[300], b[500], err[256] = "";
    memset(a, 'a', sizeof a);
    memset(b, 'b', sizeof b);
    put("h", "one", a, sizeof a);
    put("h", "two", b, sizeof b);
    struct pt_sha256 *whole = pt_sha256_new();
    const char *names[2] = {"one", "two"};
    for (int i = 0; i < 2; i++) {
        char p[256], hex[PT_SHA256_HEX];
        snprintf(p, sizeof p, "%s/h/%s", dir, names[i]);
        struct pt_source *s = NULL;
        assert_int_equal(pt_source_open_hashing(p, NULL, whole, &s, err, sizeof err), PT_OK);
        assert_true(pt_source_mtime_us(s) > 0);
        assert_int_equal(pt_source_close(s, hex, NULL, NULL), PT_OK);
    }
    uint8_t got[PT_SHA256_LEN], want[PT_SHA256_LEN], cat[800];
    pt_sha256_final(whole, got);
    pt_sha256_free(whole);
    memcpy(cat, a, sizeof a);
    memcpy(cat + sizeof a, b, sizeof b);
    pt_sha256_buf(cat, sizeof cat, want);
    assert_memory_equal(got, want, sizeof got);
}

static int64_t at(struct pt_logtime *t, const char *line)
{
    return pt_logtime_line(t, (const uint8_t *)line, strlen(line));
}

static void log_line_times(void **state)
{
    (void)state;
    struct pt_logtime t;
    /* file written 2024-01-03T00:00:00Z */
    pt_logtime_init(&t, 1704240000LL * 1000000);
    assert_int_equal(at(&t, "2024-01-02T10:00:00Z host x"), 1704189600LL * 1000000);
    assert_int_equal(at(&t, "2024-01-02 10:00:00.250 x"), 1704189600LL * 1000000 + 250000);
    assert_int_equal(at(&t, "{\"timestamp\":\"2024-01-02T12:00:00.000000+0200\"}"),
                     1704189600LL * 1000000);
    assert_int_equal(at(&t, "1.2.3.4 - - [02/Jan/2024:05:00:00 -0500] \"GET /\""),
                     1704189600LL * 1000000);
    assert_int_equal(at(&t, "1704189600.500000\tCx\t10.0.0.1"), 1704189600LL * 1000000 + 500000);
    /* syslog: no year; Jan 2 is before the file's time: 2024. Dec 31 would be after it: 2023 */
    assert_int_equal(at(&t, "Jan  2 10:00:00 fw kernel: x"), 1704189600LL * 1000000);
    assert_true(t.year_assumed);
    assert_int_equal(at(&t, "<13>Dec 31 23:00:00 fw x"), 1704063600LL * 1000000);
    /* no time, or not a plausible one */
    assert_int_equal(at(&t, "no time here"), -1);
    assert_int_equal(at(&t, "2024-13-02T10:00:00Z"), -1);
    assert_int_equal(at(&t, "12345678901 too many digits"), -1);
    assert_int_equal(at(&t, "0000000001 before 2000"), -1);
}

static void log_span_over_pieces(void **state)
{
    (void)state;
    const char *log = "2024-01-02T10:00:00Z a\n\nnothing\n2024-01-01T09:00:00Z b\n"
                      "2024-01-02T11:00:00Z c";
    size_t n = strlen(log);
    for (size_t cut = 0; cut <= n; cut++) {
        struct pt_logtime t;
        pt_logtime_init(&t, 0);
        pt_logtime_feed(&t, (const uint8_t *)log, cut);
        pt_logtime_feed(&t, (const uint8_t *)log + cut, n - cut);
        pt_logtime_end(&t);
        assert_int_equal(t.lines, 5);
        assert_int_equal(t.stamped, 3);
        assert_int_equal(t.first, 1704099600LL * 1000000);
        assert_int_equal(t.last, 1704193200LL * 1000000);
    }
    /* a line longer than the scan window is read from its start only */
    char big[2000];
    memset(big, 'x', sizeof big);
    memcpy(big + 1500, "2024-01-02T10:00:00Z", 20);
    big[sizeof big - 1] = '\n';
    struct pt_logtime t;
    pt_logtime_init(&t, 0);
    pt_logtime_feed(&t, (const uint8_t *)big, sizeof big);
    assert_int_equal(t.lines, 1);
    assert_int_equal(t.stamped, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(segment_names),
        cmocka_unit_test(split_image_is_one_input),
        cmocka_unit_test(case_directories_are_not_evidence),
        cmocka_unit_test(segments_hash_into_one_digest),
        cmocka_unit_test(log_line_times),
        cmocka_unit_test(log_span_over_pieces),
    };
    return cmocka_run_group_tests_name("ingest", tests, setup, teardown);
}
