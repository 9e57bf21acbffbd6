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
                           .memcap = 1 << 24, .keep_phi = true,
                           .image_hosts = {"ws 09.img=10.20.0.9", "sub/x.E01=2001:db8::5"},
                           .n_image_hosts = 2};
    assert_int_equal(pt_plan_create(&o, shards, out, true, true), PT_OK);
    char err[512] = "";
    assert_int_equal(pt_plan_load(out, p, err, sizeof err), PT_OK);
    /* --image-host: a file name as given, a path made absolute like the inputs */
    char cwd[4096], want[4200];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(want, sizeof want, "%s/sub/x.E01=2001:db8::5", cwd);
    assert_int_equal(p->n_image_hosts, 2);
    assert_string_equal(p->image_hosts[0], "ws 09.img=10.20.0.9");
    assert_string_equal(p->image_hosts[1], want);
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
        {"image-host ws%2009.img=10.20.0.9\n", "image-host ws09.img=nothost\n"},
        {"image-host ws%2009.img=10.20.0.9\n", "image-host =10.20.0.9\n"},
        {"image-host ws%2009.img=10.20.0.9\n", "image-host ws09.img\n"},
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

/* ---- one capture in byte ranges (split.c) ---------------------------------------------- */

static void put32(FILE *f, uint32_t v, bool be)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    if (be) {
        uint8_t r[4] = {b[3], b[2], b[1], b[0]};
        fwrite(r, 1, 4, f);
    } else {
        fwrite(b, 1, 4, f);
    }
}

/* `n` packets of 40..1039 bytes; pcap (micro or nano) or pcapng with an interface
 * statistics block after every 7th packet (not a packet: frames must not count it).
 * Returns the offset of every packet record in offs[]. */
static void put_capture(const char *path, int fmt, bool be, unsigned n, uint64_t *offs)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (fmt == PT_SPLIT_PCAPNG) {
        put32(f, 0x0A0D0D0A, be);
        put32(f, 28, be);
        put32(f, 0x1A2B3C4D, be);
        put32(f, be ? 0x00010000u : 0x00000001u, false); /* version 1.0 as two u16 */
        put32(f, 0xffffffff, be);
        put32(f, 0xffffffff, be);
        put32(f, 28, be);
        put32(f, 1, be);
        put32(f, 20, be);
        put32(f, be ? 0x00010000u : 0x00000001u, false); /* linktype 1, reserved 0 */
        put32(f, 65535, be);
        put32(f, 20, be);
    } else {
        put32(f, fmt == PT_SPLIT_PCAP_NS ? 0xa1b23c4d : 0xa1b2c3d4, be);
        put32(f, be ? 0x00020004u : 0x00040002u, false);
        put32(f, 0, be);
        put32(f, 0, be);
        put32(f, 65535, be);
        put32(f, 1, be);
    }
    for (unsigned i = 0; i < n; i++) {
        uint32_t len = 40 + (i * 379) % 1000, pad = (4 - len % 4) % 4;
        offs[i] = (uint64_t)ftell(f);
        if (fmt == PT_SPLIT_PCAPNG) {
            put32(f, 6, be);
            put32(f, 32 + len + pad, be);
            put32(f, 0, be);
            put32(f, 0, be);
            put32(f, i, be);
            put32(f, len, be);
            put32(f, len, be);
        } else {
            put32(f, 1700000000 + i, be);
            put32(f, 0, be);
            put32(f, len, be);
            put32(f, len, be);
        }
        for (uint32_t k = 0; k < len; k++) {
            fputc((int)((i + k) & 0xff), f);
        }
        if (fmt == PT_SPLIT_PCAPNG) {
            for (uint32_t k = 0; k < pad; k++) {
                fputc(0, f);
            }
            put32(f, 32 + len + pad, be);
            if (i % 7 == 6) { /* an interface statistics block: 12 bytes of frame + 8 */
                put32(f, 5, be);
                put32(f, 20, be);
                put32(f, 0, be);
                put32(f, 0, be);
                put32(f, 20, be);
            }
        }
    }
    fclose(f);
}

static void ranges_are_walked_packet_boundaries(void **state)
{
    (void)state;
    static const struct {
        int fmt;
        bool be;
    } kinds[] = {{PT_SPLIT_PCAP, false}, {PT_SPLIT_PCAP, true}, {PT_SPLIT_PCAP_NS, true},
                 {PT_SPLIT_PCAPNG, false}, {PT_SPLIT_PCAPNG, true}};
    char cdir[64];
    snprintf(cdir, sizeof cdir, "/tmp/test_plan_cap-XXXXXX");
    assert_non_null(mkdtemp(cdir));
    static uint64_t offs[400];
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        char cap[128], out[128], err[512] = "";
        snprintf(cap, sizeof cap, "%s/link.cap", cdir);
        snprintf(out, sizeof out, "%s.plan", cdir);
        put_capture(cap, kinds[k].fmt, kinds[k].be, 400, offs);
        for (unsigned shards = 2; shards <= 5; shards++) {
            char *inputs[1] = {cap};
            struct pt_options o = {.inputs = inputs, .n_inputs = 1};
            assert_int_equal(pt_plan_create(&o, shards, out, true, true), PT_OK);
            struct pt_plan p;
            assert_int_equal(pt_plan_load(out, &p, err, sizeof err), PT_OK);
            assert_int_equal(p.n_items, 1);
            assert_int_equal(p.items[0].n_ranges, shards);
            struct stat st;
            assert_int_equal(stat(cap, &st), 0);
            for (size_t j = 0; j < p.n_ranges; j++) {
                const struct pt_plan_range *r = &p.ranges[j];
                assert_int_equal(r->shard, j);
                assert_int_equal(r->r.head, offs[0]);
                if (j == 0) {
                    assert_int_equal(r->r.offset, 0);
                    assert_int_equal(r->r.frames, 0);
                } else {
                    /* the offset is packet record number `frames`, and near j/N of the file */
                    assert_true(r->r.frames < 400);
                    assert_int_equal(r->r.offset, offs[r->r.frames]);
                    assert_true(r->r.offset >= (uint64_t)st.st_size / shards * j);
                    assert_true(r->r.offset < (uint64_t)st.st_size / shards * j + 1200);
                }
                assert_int_equal(r->r.end, j + 1 < p.n_ranges ? p.ranges[j + 1].r.offset
                                                              : (uint64_t)st.st_size);
                /* a range's reader: the header, then the range, hashed as the plan did */
                struct pt_split_reader *rd = NULL;
                FILE *f = pt_split_open(&r->r, cap, NULL, &rd);
                assert_non_null(f);
                uint8_t first[4];
                assert_int_equal(fread(first, 1, 4, f), 4);
                uint8_t want[4];
                FILE *g = fopen(cap, "rb");
                assert_int_equal(fread(want, 1, 4, g), 4);
                fclose(g);
                assert_memory_equal(first, want, 4); /* every range starts with the magic */
                char buf[4096];
                while (fread(buf, 1, sizeof buf, f) > 0) {
                }
                fclose(f);
                char hex[PT_SHA256_HEX];
                uint64_t bytes = 0;
                assert_true(pt_split_reader_done(rd, hex, &bytes));
                assert_int_equal(bytes, r->r.end - r->r.offset);
                assert_string_equal(hex, r->sha256);
            }
            pt_plan_fini(&p);
        }
    }
    /* not a capture, or a capture damaged before the first wanted place: no cut */
    char path[128];
    snprintf(path, sizeof path, "%s/link.cap", cdir);
    put_capture(path, PT_SPLIT_PCAP, false, 400, offs);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, (long)offs[3] + 8, SEEK_SET); /* a caplen past the end of the file */
    fputc(0xff, f);
    fputc(0xff, f);
    fputc(0xff, f);
    fputc(0x7f, f);
    fclose(f);
    struct pt_split sp;
    uint64_t want[1] = {30000};
    assert_int_equal(pt_split_capture(path, want, 1, &sp), 0);
    pt_split_fini(&sp);
    snprintf(path, sizeof path, "%s/notes.txt", cdir);
    put_capture(path, PT_SPLIT_PCAP, false, 50, offs);
    f = fopen(path, "r+b");
    fputc('x', f);
    fclose(f);
    assert_int_equal(pt_split_capture(path, want, 1, &sp), 0);
    pt_split_fini(&sp);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.plan'", cdir, cdir);
    assert_int_equal(system(cmd), 0);
}

/* A plan with ranges: every bad range line refused. */
static void bad_ranges_are_refused(void **state)
{
    (void)state;
    char cdir[64], cap[128], out[128], mod[140];
    snprintf(cdir, sizeof cdir, "/tmp/test_plan_rng-XXXXXX");
    assert_non_null(mkdtemp(cdir));
    snprintf(cap, sizeof cap, "%s/link.pcap", cdir);
    snprintf(out, sizeof out, "%s.plan", cdir);
    snprintf(mod, sizeof mod, "%s.mod", cdir);
    static uint64_t offs[400];
    put_capture(cap, PT_SPLIT_PCAP, false, 400, offs);
    char *inputs[1] = {cap};
    struct pt_options o = {.inputs = inputs, .n_inputs = 1};
    assert_int_equal(pt_plan_create(&o, 3, out, true, true), PT_OK);
    size_t len;
    char *buf = slurp(out, &len);
    buf[len] = '\0';
    assert_true(loads(out));
    /* each range line in turn: a field changed, the line dropped, the line doubled */
    char *lines[3];
    size_t nl = 0;
    for (char *at = strstr(buf, "\nrange "); at != NULL && nl < 3; at = strstr(at + 1, "\nrange ")) {
        lines[nl++] = at + 1;
    }
    assert_int_equal(nl, 3);
    for (size_t i = 0; i < nl; i++) {
        size_t ll = (size_t)(strchr(lines[i], '\n') - lines[i]) + 1, pre = (size_t)(lines[i] - buf);
        for (int field = 1; field <= 7; field++) {
            char line[512];
            memcpy(line, lines[i], ll);
            line[ll] = '\0';
            char *p = line;
            for (int k = 0; k < field; k++) {
                p = strchr(p, ' ') + 1;
            }
            /* the field's first character changed: '9' prefix for numbers, 'g' for the hash */
            char m[600];
            size_t at = (size_t)(p - line);
            snprintf(m, sizeof m, "%.*s%s%s", (int)at, line, field == 7 ? "g" : "9", p + 1);
            if (field != 7 && p[0] == '9') {
                snprintf(m, sizeof m, "%.*s1%s", (int)at, line, p);
            }
            if (field == 5) { /* frames: not growing (a later range's cannot be checked here) */
                snprintf(m, sizeof m, "%.*s%s%s", (int)at, line, i ? "0" : "1",
                         strchr(p, ' '));
            }
            char *all = malloc(len + 700);
            memcpy(all, buf, pre);
            memcpy(all + pre, m, strlen(m));
            memcpy(all + pre + strlen(m), buf + pre + ll, len - pre - ll);
            spit(mod, all, len - ll + strlen(m));
            free(all);
            if (loads(mod)) {
                fail_msg("accepted range line %zu with field %d changed: %s", i, field, m);
            }
        }
        char *all = malloc(len + ll + 1);
        memcpy(all, buf, pre);
        memcpy(all + pre, buf + pre + ll, len - pre - ll);
        spit(mod, all, len - ll);
        assert_false(loads(mod));
        memcpy(all, buf, pre + ll);
        memcpy(all + pre + ll, buf + pre, len - pre);
        spit(mod, all, len + ll);
        assert_false(loads(mod));
        free(all);
    }
    free(buf);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.plan' '%s.mod'", cdir, cdir, cdir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_consecutive_and_every_shard_used),
        cmocka_unit_test(paths_with_any_byte_round_trip),
        cmocka_unit_test(every_cut_is_refused),
        cmocka_unit_test(bad_fields_are_refused),
        cmocka_unit_test(ranges_are_walked_packet_boundaries),
        cmocka_unit_test(bad_ranges_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
