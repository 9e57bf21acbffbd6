/* test_cursor.c - the bounds-checked cursor. */
#include "cm.h"

#include <string.h>

#include "core/cursor.h"

static void reads_in_both_byte_orders(void **state)
{
    (void)state;
    /* 01 02 | 03 04 05 06 | 07 08 */
    const uint8_t b[] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct pt_cur c = pt_cur_make(b, sizeof b);
    assert_int_equal(pt_cur_be16(&c), 0x0102);
    assert_int_equal(pt_cur_le32(&c), 0x06050403);
    assert_int_equal(pt_cur_left(&c), 2);
    assert_int_equal(pt_cur_le16(&c), 0x0807);
    assert_true(pt_cur_ok(&c));
    c = pt_cur_make(b, sizeof b);
    assert_true(pt_cur_be64(&c) == 0x0102030405060708ull);
    c = pt_cur_make(b, sizeof b);
    assert_true(pt_cur_le64(&c) == 0x0807060504030201ull);
}

static void failure_is_sticky_and_reads_nothing(void **state)
{
    (void)state;
    const uint8_t b[] = {0xaa, 0xbb, 0xcc};
    struct pt_cur c = pt_cur_make(b, sizeof b);
    assert_int_equal(pt_cur_be32(&c), 0);
    assert_false(pt_cur_ok(&c));
    assert_int_equal(c.off, 0);
    /* Every later read fails too, even one that would fit. */
    assert_int_equal(pt_cur_u8(&c), 0);
    assert_int_equal(pt_cur_left(&c), 0);
    assert_false(pt_cur_skip(&c, 0) && pt_cur_ok(&c));
}

static void huge_lengths_do_not_wrap(void **state)
{
    (void)state;
    const uint8_t b[4] = {0};
    struct pt_cur c = pt_cur_make(b, sizeof b);
    pt_cur_skip(&c, 2);
    assert_false(pt_cur_skip(&c, SIZE_MAX));
    c = pt_cur_make(b, sizeof b);
    const uint8_t *v = (const uint8_t *)1;
    assert_false(pt_cur_bytes(&c, SIZE_MAX - 1, &v));
    assert_null(v);
}

static void sub_cursor_is_bounded(void **state)
{
    (void)state;
    /* TLV: type 1, length 2, value 0x1122, then sibling 0x33 */
    const uint8_t b[] = {1, 2, 0x11, 0x22, 0x33};
    struct pt_cur c = pt_cur_make(b, sizeof b);
    pt_cur_u8(&c);
    uint8_t len = pt_cur_u8(&c);
    struct pt_cur v;
    assert_true(pt_cur_sub(&c, len, &v));
    assert_int_equal(pt_cur_be16(&v), 0x1122);
    assert_int_equal(pt_cur_u8(&v), 0); /* cannot read the sibling */
    assert_false(pt_cur_ok(&v));
    assert_int_equal(pt_cur_u8(&c), 0x33);
    assert_true(pt_cur_ok(&c));
    struct pt_cur bad;
    assert_false(pt_cur_sub(&c, 1, &bad));
    assert_false(pt_cur_ok(&bad));
}

static void copy_and_peek(void **state)
{
    (void)state;
    const uint8_t b[] = {9, 8, 7};
    struct pt_cur c = pt_cur_make(b, sizeof b);
    assert_int_equal(pt_cur_peek_u8(&c, 2), 7);
    assert_int_equal(pt_cur_peek_u8(&c, 3), 0);
    assert_true(pt_cur_ok(&c));
    uint8_t out[4] = {1, 1, 1, 1};
    assert_false(pt_cur_copy(&c, out, 4));
    assert_memory_equal(out, "\0\0\0\0", 4);
    struct pt_cur e = pt_cur_make(NULL, 0);
    assert_int_equal(pt_cur_left(&e), 0);
    assert_null(pt_cur_ptr(&(struct pt_cur){NULL, 0, 0, false}));
    struct pt_cur r = pt_cur_rest(&e);
    assert_int_equal(pt_cur_left(&r), 0);
}

/* Lines split across pieces at every offset come out the same; over-long lines stop. */
static void lines_from_pieces(void **state)
{
    (void)state;
    static const char text[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\nbare LF\nlast";
    const size_t n = sizeof text - 1;
    for (size_t cut = 0; cut <= n; cut++) {
        char buf[32], lines[8][32];
        size_t held = 0, len = 0, raw = 0, got = 0, raw_total = 0;
        for (int piece = 0; piece < 2; piece++) {
            struct pt_cur c = piece == 0 ? pt_cur_make((const uint8_t *)text, cut)
                                         : pt_cur_make((const uint8_t *)text + cut, n - cut);
            enum pt_line_rc rc;
            while ((rc = pt_cur_line(&c, buf, sizeof buf, &held, &len, &raw)) == PT_LINE_DONE) {
                assert_true(got < 8);
                assert_int_equal(strlen(buf), len);
                memcpy(lines[got++], buf, len + 1);
                raw_total += raw;
            }
            assert_int_equal(rc, PT_LINE_MORE);
            assert_int_equal(pt_cur_left(&c), 0);
        }
        assert_int_equal(got, 4);
        assert_string_equal(lines[0], "GET / HTTP/1.1");
        assert_string_equal(lines[1], "Host: x");
        assert_string_equal(lines[2], "");
        assert_string_equal(lines[3], "bare LF");
        assert_int_equal(raw_total, n - 4);
        assert_int_equal(held, 4); /* "last" waits for its LF */
    }
    /* a line that does not fit: LONG, nothing taken, also when it grows over pieces */
    char small[8];
    size_t held = 0, len = 0;
    struct pt_cur c = pt_cur_make((const uint8_t *)"1234567\n", 8);
    assert_int_equal(pt_cur_line(&c, small, sizeof small, &held, &len, NULL), PT_LINE_LONG);
    assert_int_equal(pt_cur_left(&c), 8);
    c = pt_cur_make((const uint8_t *)"123456\n", 7);
    assert_int_equal(pt_cur_line(&c, small, sizeof small, &held, &len, NULL), PT_LINE_DONE);
    assert_int_equal(len, 6);
    c = pt_cur_make((const uint8_t *)"1234", 4);
    assert_int_equal(pt_cur_line(&c, small, sizeof small, &held, &len, NULL), PT_LINE_MORE);
    c = pt_cur_make((const uint8_t *)"5678", 4);
    assert_int_equal(pt_cur_line(&c, small, sizeof small, &held, &len, NULL), PT_LINE_LONG);
    assert_int_equal(pt_cur_line(&c, small, 0, &held, &len, NULL), PT_LINE_LONG);
    /* NUL bytes are kept (the caller decides); a lone CR is not a line end */
    held = 0;
    c = pt_cur_make((const uint8_t *)"a\0b\rc\r\n", 7);
    assert_int_equal(pt_cur_line(&c, small, sizeof small, &held, &len, NULL), PT_LINE_DONE);
    assert_int_equal(len, 5);
    assert_memory_equal(small, "a\0b\rc", 6);
}

static void text_uints(void **state)
{
    (void)state;
    unsigned v[6] = {0};
    assert_int_equal(pt_text_uints("10,1,2,3,4,5)", ',', v, 6), 12);
    assert_int_equal(v[0], 10);
    assert_int_equal(v[5], 5);
    assert_int_equal(pt_text_uints("10,1,2,3,4", ',', v, 6), 0);      /* too few */
    assert_int_equal(pt_text_uints("10,1,,3,4,5", ',', v, 6), 0);     /* empty field */
    assert_int_equal(pt_text_uints(" 10,1,2,3,4,5", ',', v, 6), 0);   /* not at the start */
    assert_int_equal(pt_text_uints("1234567890,1", ',', v, 2), 0);    /* over 9 digits */
    assert_int_equal(pt_text_uints("200 OK", 0, v, 1), 3);
    assert_int_equal(v[0], 200);
    assert_int_equal(pt_text_uints("", 0, v, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_uints),
        cmocka_unit_test(reads_in_both_byte_orders),
        cmocka_unit_test(failure_is_sticky_and_reads_nothing),
        cmocka_unit_test(huge_lengths_do_not_wrap),
        cmocka_unit_test(sub_cursor_is_bounded),
        cmocka_unit_test(copy_and_peek),
        cmocka_unit_test(lines_from_pieces),
    };
    return cmocka_run_group_tests_name("cursor", tests, NULL, NULL);
}
