/* test_plan.c - the shard plan (analyzer/scale/plan.c): inputs split into consecutive runs
 * by size with every shard used while there are enough files, hashes and key written and read
 * back, paths with any byte survive, and a damaged plan (every cut, every bad field) is
 * refused rather than half-read. */
#include "cm.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline.h"
#include "scale/scale.h"

static char dir[64];

static void put_file(const char *name, size_t size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++) {
        fputc((int)(i * 7 % 251), f);
    }
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_plan-XXXXXX");
    assert_non_null(mkdtemp(dir));
    put_file("a", 10);
    put_file("b", 1000);
    put_file("c", 10);
    put_file("d", 10);
    put_file("e", 5000);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void make_plan(unsigned shards, const char *out, struct pt_plan *p)
{
    char *inputs[1] = {dir};
    struct pt_options o = {.inputs = inputs, .n_inputs = 1, .home_net = "10.1.0.0/16",
                           .memcap = 1 << 24, .keep_phi = true};
    assert_int_equal(pt_plan_create(&o, shards, out, true, true), PT_OK);
    char err[512] = "";
    assert_int_equal(pt_plan_load(out, p, err, sizeof err), PT_OK);
}

static void split_consecutive_and_every_shard_used(void **state)
{
    (void)state;
    char out[128];
    snprintf(out, sizeof out, "%s.plan", dir);
    for (unsigned n = 1; n <= 7; n++) {
        struct pt_plan p;
        make_plan(n, out, &p);
        assert_int_equal(p.shards, n);
        assert_int_equal(p.n_items, 5);
        unsigned used = 0;
        for (size_t i = 0; i < p.n_items; i++) {
            assert_int_equal(p.items[i].id, i + 1);
            assert_true(p.items[i].shard < n);
            if (i > 0) { /* consecutive: never back to an earlier shard */
                assert_true(p.items[i].shard >= p.items[i - 1].shard);
                assert_true(p.items[i].shard <= p.items[i - 1].shard + 1);
            }
            used = p.items[i].shard + 1;
        }
        assert_int_equal(used, n < 5 ? n : 5);
        char want[PT_SHA256_HEX];
        assert_int_equal(pt_sha256_file(p.items[4].path, want, NULL), PT_OK);
        assert_string_equal(p.items[4].sha256, want);
        assert_int_equal(p.items[4].size, 5000);
        assert_string_equal(p.home_net, "10.1.0.0/16");
        assert_int_equal(p.memcap, 1 << 24);
        assert_true(p.keep_phi && !p.no_phi && !p.flows_only);
        assert_null(p.rules);
        pt_plan_fini(&p);
    }
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* two shards: the 5000-byte file alone is more than half, so it is the second shard */
    struct pt_plan p;
    make_plan(2, out, &p);
    assert_int_equal(p.items[3].shard, 0);
    assert_int_equal(p.items[4].shard, 1);
    uint8_t zero[32] = {0};
    assert_memory_not_equal(p.key, zero, 32);
    pt_plan_fini(&p);
    unlink(out);
}

static void paths_with_any_byte_round_trip(void **state)
{
    (void)state;
    put_file("sp ace%25\tnl\nx", 3);
    put_file("-", 3);
    char out[128];
    snprintf(out, sizeof out, "%s.plan", dir);
    struct pt_plan p;
    make_plan(3, out, &p);
    int found = 0;
    for (size_t i = 0; i < p.n_items; i++) {
        const char *base = strrchr(p.items[i].path, '/') + 1;
        found += strcmp(base, "sp ace%25\tnl\nx") == 0;
        found += strcmp(base, "-") == 0;
    }
    assert_int_equal(found, 2);
    pt_plan_fini(&p);
    unlink(out);
    char path[256];
    snprintf(path, sizeof path, "%s/sp ace%%25\tnl\nx", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/-", dir);
    unlink(path);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static bool loads(const char *path)
{
    struct pt_plan p;
    char err[512] = "";
    if (pt_plan_load(path, &p, err, sizeof err) != PT_OK) {
        assert_true(err[0] != '\0');
        return false;
    }
    pt_plan_fini(&p);
    return true;
}

static void every_cut_is_refused(void **state)
{
    (void)state;
    char out[128], cut[140];
    snprintf(out, sizeof out, "%s.plan", dir);
    snprintf(cut, sizeof cut, "%s.cut", dir);
    struct pt_plan p;
    make_plan(2, out, &p);
    pt_plan_fini(&p);
    size_t len;
    char *buf = slurp(out, &len);
    for (size_t n = 0; n + 1 < len; n++) {
        spit(cut, buf, n);
        assert_false(loads(cut));
    }
    spit(cut, buf, len - 1); /* only the last newline gone: the end line is whole */
    assert_true(loads(cut));
    free(buf);
    unlink(out);
    unlink(cut);
}

/* One line of a good plan replaced: refused. */
static void bad_fields_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *from, *to;
    } bad[] = {
        {"shards 2\n", "shards 0\n"},
        {"shards 2\n", "shards 99999\n"},
        {"shards 2\n", "shards 2x\n"},
        {"phitrace-plan 1\n", "phitrace-plan 2\n"},
        {"key ", "key 00"},
        {"memcap 16777216\n", "memcap -1\n"},
        {"keep-phi 1\n", "keep-phi yes\n"},
        {"item 2 ", "item 3 "},
        {"item 1 0 ", "item 1 2 "},
        {"end 5\n", "end 4\n"},
        {"end 5\n", "end 5\nitem 6 0 1 - /x\n"},
        {"rules -\n", "rules %G0\n"},
        {"rules -\n", "rules a%00b\n"},
        {"rules -\n", "color blue\n"},
        {"input ", "input %zz"},
    };
    char out[128], mod[140];
    snprintf(out, sizeof out, "%s.plan", dir);
    snprintf(mod, sizeof mod, "%s.mod", dir);
    struct pt_plan p;
    make_plan(2, out, &p);
    pt_plan_fini(&p);
    size_t len;
    char *buf = slurp(out, &len);
    buf[len] = '\0';
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *at = strstr(buf, bad[i].from);
        assert_non_null(at);
        char *m = malloc(len + 64);
        size_t pre = (size_t)(at - buf), fl = strlen(bad[i].from), tl = strlen(bad[i].to);
        memcpy(m, buf, pre);
        memcpy(m + pre, bad[i].to, tl);
        memcpy(m + pre + tl, at + fl, len - pre - fl);
        spit(mod, m, len - fl + tl);
        bool ok = loads(mod);
        free(m);
        if (ok) {
            free(buf);
            fail_msg("accepted a plan with '%s' made '%s'", bad[i].from, bad[i].to);
        }
    }
    free(buf);
    unlink(out);
    unlink(mod);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_consecutive_and_every_shard_used),
        cmocka_unit_test(paths_with_any_byte_round_trip),
        cmocka_unit_test(every_cut_is_refused),
        cmocka_unit_test(bad_fields_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
