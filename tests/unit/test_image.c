/* test_image.c - the disk-image reader's frames (analyzer/ingest/image_frame.c, image.c's
 * pt_image_feed): records round-trip, split frames wait for more bytes, and a child's
 * garbage (unknown type, huge length, fields past the payload, data outside a file) is
 * refused rather than read. */
#include "cm.h"

#include <stdio.h>
#include <string.h>

#include "ingest/image.h"

struct seen {
    char log[1024];
    size_t n;
};

static void on_rec(void *arg, const struct pt_img_rec *r)
{
    struct seen *s = arg;
    char b[300];
    int k = r->type == PT_IMG_FILE ? snprintf(b, sizeof b, "F(%s,%llu,%c,%u);", r->path,
                                              (unsigned long long)r->inode, r->kind, r->flags)
            : r->type == PT_IMG_DATA ? snprintf(b, sizeof b, "D%zu;", r->n)
            : r->type == PT_IMG_END  ? snprintf(b, sizeof b, "E(%d,%llu);", r->ok,
                                                (unsigned long long)r->size)
            : r->type == PT_IMG_VOL  ? snprintf(b, sizeof b, "V(%s,%llu);", r->fs,
                                                (unsigned long long)r->offset)
                                     : snprintf(b, sizeof b, "%c;", r->type);
    if (k > 0 && (size_t)k < sizeof s->log - s->n) {
        memcpy(s->log + s->n, b, (size_t)k + 1);
        s->n += (size_t)k;
    }
}

static size_t enc(uint8_t *buf, size_t cap, const struct pt_img_rec *r)
{
    size_t n = pt_img_rec_encode(r, buf, cap);
    assert_true(n > 0);
    return n;
}

static size_t stream(uint8_t *buf, size_t cap)
{
    static struct pt_img_rec r;
    size_t n = 0;
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_VOL;
    r.offset = 1048576;
    r.ok = true;
    snprintf(r.fs, sizeof r.fs, "ntfs");
    n += enc(buf + n, cap - n, &r);
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_FILE;
    r.inode = 64;
    r.kind = 'r';
    r.flags = PT_IMG_F_CONTENT | PT_IMG_F_NAME_UNALLOC;
    snprintf(r.path, sizeof r.path, "Users/x/roster.csv:hidden");
    n += enc(buf + n, cap - n, &r);
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_PING; /* a sign of life inside a file is allowed and not handed on */
    n += enc(buf + n, cap - n, &r);
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_DATA;
    r.data = (const uint8_t *)"abc";
    r.n = 3;
    n += enc(buf + n, cap - n, &r);
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_END;
    r.ok = true;
    r.size = 3;
    n += enc(buf + n, cap - n, &r);
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_DONE;
    r.size = 1;
    n += enc(buf + n, cap - n, &r);
    return n;
}

static void records_round_trip(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t n = stream(buf, sizeof buf);
    struct seen s = {.n = 0};
    struct pt_image_stats st = {0};
    bool in_file = false, bad = false;
    assert_int_equal(pt_image_feed(buf, n, on_rec, &s, &st, &in_file, &bad), n);
    assert_false(bad);
    assert_false(in_file);
    assert_true(st.finished);
    assert_string_equal(s.log, "V(ntfs,1048576);F(Users/x/roster.csv:hidden,64,r,17);D3;"
                               "E(1,3);Z;");
}

static void frames_cut_anywhere_wait_for_more(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t n = stream(buf, sizeof buf);
    for (size_t cut = 0; cut < n; cut++) {
        struct seen s = {.n = 0};
        struct pt_image_stats st = {0};
        bool in_file = false, bad = false;
        size_t used = pt_image_feed(buf, cut, on_rec, &s, &st, &in_file, &bad);
        assert_false(bad);
        assert_true(used <= cut);
        used += pt_image_feed(buf + used, n - used, on_rec, &s, &st, &in_file, &bad);
        assert_int_equal(used, n);
        assert_string_equal(s.log, "V(ntfs,1048576);F(Users/x/roster.csv:hidden,64,r,17);D3;"
                                   "E(1,3);Z;");
    }
}

static void garbage_is_refused(void **state)
{
    (void)state;
    struct pt_image_stats st = {0};
    struct seen s = {.n = 0};
    bool in_file = false, bad = false;
    const uint8_t unknown[] = {'Q', 0, 0, 0, 0};
    pt_image_feed(unknown, sizeof unknown, on_rec, &s, &st, &in_file, &bad);
    assert_true(bad);
    bad = false;
    const uint8_t huge[] = {'D', 0xff, 0xff, 0xff, 0x7f};
    pt_image_feed(huge, sizeof huge, on_rec, &s, &st, &in_file, &bad);
    assert_true(bad);
    bad = false;
    const uint8_t data_outside[] = {'D', 1, 0, 0, 0, 'x'};
    pt_image_feed(data_outside, sizeof data_outside, on_rec, &s, &st, &in_file, &bad);
    assert_true(bad);
    bad = false;
    /* a volume whose fs string claims more bytes than the frame holds */
    const uint8_t short_vol[] = {'V', 23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                 0, 0, 0, 0, 0, 0, 0, 0, 1, 9, 0};
    pt_image_feed(short_vol, sizeof short_vol, on_rec, &s, &st, &in_file, &bad);
    assert_true(bad);
    assert_int_equal(s.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(records_round_trip),
        cmocka_unit_test(frames_cut_anywhere_wait_for_more),
        cmocka_unit_test(garbage_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
