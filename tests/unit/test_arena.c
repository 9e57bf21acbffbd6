/*
 * test_arena.c - the bump allocator (core/arena.h): strings and aligned blocks share chunks,
 * growth keeps what was given, a mark gives back what came after it, and a limit refuses
 * (sticky `full`) without losing what is there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "core/arena.h"

static bool aligned(const void *p)
{
    return (uintptr_t)p % _Alignof(max_align_t) == 0;
}

static void strings_and_blocks(void **state)
{
    (void)state;
    struct pt_arena a = {0};
    char *s = pt_arena_strdup(&a, "abc");
    void *b = pt_arena_alloc(&a, 24); /* after 4 odd bytes: still aligned */
    char *t = pt_arena_strndup(&a, "hello world", 5);
    assert_string_equal(s, "abc");
    assert_true(aligned(b));
    assert_string_equal(t, "hello");
    assert_true(t > (char *)b && t >= (char *)b + 24); /* no overlap */
    assert_ptr_equal(a.head->next, NULL);           /* one chunk */
    assert_int_equal(a.total, PT_ARENA_CHUNK);
    pt_arena_free(&a);
    assert_null(a.head);
    assert_int_equal(a.total, 0);
    assert_non_null(pt_arena_strdup(&a, "again")); /* usable after free */
    pt_arena_free(&a);
}

static void growth_keeps_contents(void **state)
{
    (void)state;
    struct pt_arena a = {.chunk = 64};
    char *got[200];
    for (int i = 0; i < 200; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "s%d", i);
        got[i] = pt_arena_strdup(&a, buf);
        uint64_t *v = pt_arena_alloc(&a, sizeof *v);
        assert_true(aligned(v));
        *v = (uint64_t)i * 0x0101010101010101u;
    }
    for (int i = 0; i < 200; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "s%d", i);
        assert_string_equal(got[i], buf);
    }
    size_t chunks = 0;
    for (struct pt_arena_chunk *c = a.head; c != NULL; c = c->next) {
        assert_true(c->used <= c->cap);
        chunks++;
    }
    assert_true(chunks > 1);
    assert_int_equal(a.total, chunks * 64);
    char *big = pt_arena_alloc(&a, 1000); /* larger than a chunk: a chunk of its own */
    assert_non_null(big);
    assert_int_equal(a.head->cap, 1000);
    memset(big, 'x', 1000);
    assert_false(a.full);
    pt_arena_free(&a);
    assert_int_equal(a.chunk, 64); /* its settings kept */
}

static void mark_and_reset(void **state)
{
    (void)state;
    struct pt_arena a = {.chunk = 128};
    char *keep = pt_arena_strdup(&a, "kept");
    struct pt_arena_mark m = pt_arena_mark(&a);
    size_t total = a.total, used = a.head->used;
    for (int i = 0; i < 50; i++) {
        assert_non_null(pt_arena_alloc(&a, 40)); /* several chunks past the mark */
    }
    assert_true(a.total > total);
    pt_arena_reset(&a, m);
    assert_int_equal(a.total, total);
    assert_int_equal(a.head->used, used);
    assert_string_equal(keep, "kept");
    char *next = pt_arena_strdup(&a, "next"); /* the space after the mark is reused */
    assert_ptr_equal(next, keep + 5);
    /* a mark of the empty arena frees every chunk */
    struct pt_arena b = {0};
    struct pt_arena_mark none = pt_arena_mark(&b);
    pt_arena_strdup(&b, "x");
    pt_arena_reset(&b, none);
    assert_null(b.head);
    assert_int_equal(b.total, 0);
    pt_arena_free(&a);
}

static void limit_refuses(void **state)
{
    (void)state;
    struct pt_arena a = {.chunk = 100, .limit = 250};
    assert_non_null(pt_arena_alloc(&a, 90));
    assert_non_null(pt_arena_alloc(&a, 90)); /* a second chunk: 200 of 250 */
    assert_false(a.full);
    assert_null(pt_arena_alloc(&a, 90)); /* a third would pass the limit */
    assert_true(a.full);
    assert_int_equal(a.total, 200);
    assert_non_null(pt_arena_strndup(&a, "abcd", 4)); /* what fits in the last chunk does */
    assert_null(pt_arena_alloc(&a, SIZE_MAX - 8)); /* no overflow on a huge request */
    struct pt_arena_mark m = pt_arena_mark(&a);
    pt_arena_reset(&a, m);
    assert_true(a.full); /* sticky: the caller reports it */
    pt_arena_free(&a);
    assert_false(a.full);
    assert_int_equal(a.limit, 250);
    assert_null(pt_arena_alloc(&a, 251)); /* one block past the limit */
    assert_null(a.head);
    pt_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_and_blocks),
        cmocka_unit_test(growth_keeps_contents),
        cmocka_unit_test(mark_and_reset),
        cmocka_unit_test(limit_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
