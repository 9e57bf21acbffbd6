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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_in_both_byte_orders),
        cmocka_unit_test(failure_is_sticky_and_reads_nothing),
        cmocka_unit_test(huge_lengths_do_not_wrap),
        cmocka_unit_test(sub_cursor_is_bounded),
        cmocka_unit_test(copy_and_peek),
    };
    return cmocka_run_group_tests_name("cursor", tests, NULL, NULL);
}
