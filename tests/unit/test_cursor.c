/* test_cursor.c - the bounds-checked cursor. */
#include "cm.h"

#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "core/textspan.h"

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

/* A heap copy of exactly n bytes of s, no NUL after it, so ASan sees any read past n. */
static uint8_t *exact(const char *s, size_t n)
{
    uint8_t *b = malloc(n > 0 ? n : 1);
    assert_non_null(b);
    memcpy(b, s, n);
    return b;
}

static void text_fields(void **state)
{
    (void)state;
    const char *line = "a\tbc\t\t-";
    struct pt_cur c = pt_cur_make((const uint8_t *)line, strlen(line)), f;
    assert_true(pt_text_field(&c, '\t', &f));
    assert_int_equal(f.len, 1);
    assert_int_equal(f.base[0], 'a');
    assert_true(pt_text_field(&c, '\t', &f));
    assert_int_equal(f.len, 2);
    assert_true(pt_text_field(&c, '\t', &f)); /* empty field between two tabs */
    assert_int_equal(f.len, 0);
    assert_false(pt_text_field(&c, '\t', &f)); /* the last: no delimiter after it */
    assert_int_equal(f.len, 1);
    assert_int_equal(f.base[0], '-');
    assert_int_equal(pt_cur_left(&c), 0);
    assert_true(pt_cur_ok(&c));
    assert_false(pt_text_field(&c, '\t', &f)); /* at the end: one empty field */
    assert_int_equal(f.len, 0);
    /* cut at every offset: the fields seen are the prefix's fields, in bounds */
    for (size_t k = 0; k <= strlen(line); k++) {
        uint8_t *b = exact(line, k);
        c = pt_cur_make(b, k);
        size_t total = 0, fields = 0;
        bool more;
        do {
            more = pt_text_field(&c, '\t', &f);
            assert_true(pt_cur_ok(&f));
            assert_memory_equal(f.base, line + total, f.len);
            total += f.len + (more ? 1 : 0);
            fields++;
        } while (more);
        assert_int_equal(total, k);
        size_t tabs = 0;
        for (size_t i = 0; i < k; i++) {
            tabs += line[i] == '\t';
        }
        assert_int_equal(fields, tabs + 1);
        free(b);
    }
    struct pt_cur bad = pt_cur_make((const uint8_t *)line, 1);
    pt_cur_skip(&bad, 2);
    assert_false(pt_text_field(&bad, '\t', &f));
    assert_false(pt_cur_ok(&f));
}

static void text_skip_and_literals(void **state)
{
    (void)state;
    const char *s = "   GET /";
    struct pt_cur c = pt_cur_make((const uint8_t *)s, strlen(s));
    assert_int_equal(pt_text_skip(&c, ' '), 3);
    assert_int_equal(pt_text_skip(&c, ' '), 0);
    assert_false(pt_text_lit(&c, "GETX"));
    assert_int_equal(c.off, 3);
    assert_true(pt_text_lit(&c, "GET "));
    assert_true(pt_text_lit(&c, ""));
    assert_true(pt_text_lit(&c, "/"));
    assert_false(pt_text_lit(&c, "/")); /* at the end */
    assert_true(pt_cur_ok(&c));
    for (size_t k = 0; k <= strlen(s); k++) {
        uint8_t *b = exact(s, k);
        c = pt_cur_make(b, k);
        assert_int_equal(pt_text_skip(&c, ' '), k < 3 ? k : 3);
        assert_true(pt_text_lit(&c, "GET /") == (k == strlen(s)));
        assert_true(pt_cur_ok(&c));
        free(b);
    }
}

/* find, after and head look only at the unread view, whatever follows it in memory */
static void text_find_after_head(void **state)
{
    (void)state;
    const char *s = "kernel: DROP IN=eth0 SRC=10.0.0.1 DST=10.0.0.2";
    struct pt_cur c = pt_cur_make((const uint8_t *)s, strlen(s)), r;
    assert_int_equal(pt_text_find(&c, " SRC="), 20);
    assert_int_equal(pt_text_find(&c, "kernel"), 0);
    assert_int_equal(pt_text_find(&c, "10.0.0.2"), strlen(s) - 8);
    assert_int_equal(pt_text_find(&c, "  "), SIZE_MAX);
    assert_int_equal(pt_text_find(&c, " DST=10.0.0.2 "), SIZE_MAX); /* runs past the end */
    assert_int_equal(pt_text_find(&c, ""), 0);
    assert_true(pt_text_after(&c, "SRC=", &r));
    assert_int_equal(pt_cur_left(&r), strlen(s) - 25);
    assert_int_equal(pt_cur_peek_u8(&r, 0), '1');
    assert_int_equal(c.off, 0); /* not moved */
    assert_false(pt_text_after(&c, "SPT=", &r));
    assert_int_equal(pt_cur_left(&r), 0);
    pt_cur_skip(&c, 21);
    assert_int_equal(pt_text_find(&c, " SRC="), SIZE_MAX); /* before the unread view */
    assert_int_equal(pt_text_find(&c, "SRC="), 0);
    r = pt_text_head(&c, 3);
    assert_int_equal(pt_cur_left(&r), 3);
    assert_int_equal(pt_text_find(&r, "SRC="), SIZE_MAX);
    r = pt_text_head(&c, SIZE_MAX);
    assert_int_equal(pt_cur_left(&r), pt_cur_left(&c));
    for (size_t k = 0; k <= strlen(s); k++) {
        uint8_t *b = exact(s, k); /* a read past the cut trips ASan */
        c = pt_cur_make(b, k);
        assert_true((pt_text_find(&c, " DST=") == 33) == (k >= 38));
        assert_true(pt_text_after(&c, "DST=", &r) == (k >= 38));
        assert_int_equal(pt_cur_left(&r), k >= 38 ? k - 38 : 0);
        assert_true((pt_text_find(&c, "10.0.0.2") != SIZE_MAX) == (k == strlen(s)));
        r = pt_text_head(&c, 10);
        assert_int_equal(pt_cur_left(&r), k < 10 ? k : 10);
        free(b);
    }
    struct pt_cur bad = pt_cur_make((const uint8_t *)s, 2);
    pt_cur_skip(&bad, 3);
    assert_int_equal(pt_text_find(&bad, ""), SIZE_MAX);
    assert_false(pt_text_after(&bad, "k", &r));
    assert_int_equal(pt_cur_left(&r), 0);
}

static void text_numbers(void **state)
{
    (void)state;
    uint64_t v;
    int64_t us;
    struct pt_cur c = pt_cur_make((const uint8_t *)"65535x", 6);
    assert_true(pt_text_u64(&c, 65535, &v));
    assert_int_equal(v, 65535);
    assert_int_equal(pt_cur_peek_u8(&c, 0), 'x');
    assert_false(pt_text_u64(&c, 65535, &v)); /* no digit */
    c = pt_cur_make((const uint8_t *)"65536", 5);
    assert_false(pt_text_u64(&c, 65535, &v));
    assert_int_equal(c.off, 0);
    c = pt_cur_make((const uint8_t *)"18446744073709551615", 20);
    assert_true(pt_text_u64(&c, UINT64_MAX, &v));
    assert_true(v == UINT64_MAX);
    c = pt_cur_make((const uint8_t *)"18446744073709551616", 20);
    assert_false(pt_text_u64(&c, UINT64_MAX, &v));
    c = pt_cur_make((const uint8_t *)"9223372036853.9999999", 21);
    assert_true(pt_text_seconds_us(&c, &us));
    assert_true(us == 9223372036853999999LL);
    c = pt_cur_make((const uint8_t *)"9223372036854.0", 15); /* would not fit */
    assert_false(pt_text_seconds_us(&c, &us));
    c = pt_cur_make((const uint8_t *)".5", 2);
    assert_false(pt_text_seconds_us(&c, &us));
    /* cut at every offset: the value of the digits present, never a read past them */
    const char *t = "1672843056.913119";
    const int64_t want[] = {0, 1000000, 16000000, 167000000, 1672000000, 16728000000,
                            167284000000, 1672843000000, 16728430000000, 167284305000000,
                            1672843056000000, 1672843056000000, 1672843056900000,
                            1672843056910000, 1672843056913000, 1672843056913100,
                            1672843056913110, 1672843056913119};
    for (size_t k = 0; k <= strlen(t); k++) {
        uint8_t *b = exact(t, k);
        c = pt_cur_make(b, k);
        assert_true(pt_text_seconds_us(&c, &us) == (k > 0));
        assert_true(us == want[k]);
        assert_int_equal(c.off, k);
        c = pt_cur_make(b, k);
        assert_true(pt_text_u64(&c, UINT64_MAX, &v) == (k > 0));
        assert_int_equal(c.off, k < 10 ? k : 10);
        free(b);
    }
}

static void text_ipv4(void **state)
{
    (void)state;
    uint8_t a[4];
    const char *s = "192.168.10.254:80";
    struct pt_cur c = pt_cur_make((const uint8_t *)s, strlen(s));
    assert_true(pt_text_ipv4(&c, a));
    assert_int_equal(a[0], 192);
    assert_int_equal(a[3], 254);
    assert_int_equal(pt_cur_peek_u8(&c, 0), ':');
    const char *bad[] = {"256.1.1.1", "1.2.3", "1.2.3.", "01.2.3.4", "1..2.3", "a.b.c.d", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = pt_cur_make((const uint8_t *)bad[i], strlen(bad[i]));
        assert_false(pt_text_ipv4(&c, a));
        assert_int_equal(c.off, 0);
        assert_true(pt_cur_ok(&c));
    }
    for (size_t k = 0; k <= strlen(s); k++) { /* "192.168.10.2" is already a quad */
        uint8_t *b = exact(s, k);
        c = pt_cur_make(b, k);
        assert_true(pt_text_ipv4(&c, a) == (k >= 12));
        assert_int_equal(c.off, k < 12 ? 0 : k < 14 ? k : 14);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_uints),
        cmocka_unit_test(text_fields),
        cmocka_unit_test(text_skip_and_literals),
        cmocka_unit_test(text_find_after_head),
        cmocka_unit_test(text_numbers),
        cmocka_unit_test(text_ipv4),
        cmocka_unit_test(reads_in_both_byte_orders),
        cmocka_unit_test(failure_is_sticky_and_reads_nothing),
        cmocka_unit_test(huge_lengths_do_not_wrap),
        cmocka_unit_test(sub_cursor_is_bounded),
        cmocka_unit_test(copy_and_peek),
        cmocka_unit_test(lines_from_pieces),
    };
    return cmocka_run_group_tests_name("cursor", tests, NULL, NULL);
}
