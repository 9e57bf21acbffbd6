/* test_defrag.c - fragment reassembly limits and policies. */
#include "cm.h"

#include "sink.h"

#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "decode/defrag.h"


static struct pt_frag_key key(uint32_t id)
{
    struct pt_frag_key k;
    memset(&k, 0, sizeof k);
    k.id = id;
    k.proto = 17;
    k.family = 4;
    k.src.b[15] = 1;
    k.dst.b[15] = 2;
    return k;
}

static void oversize_and_misaligned(void **state)
{
    (void)state;
    struct sink s = {0};
    struct pt_defrag *d = pt_defrag_new(on_anomaly, &s);
    struct pt_frame f = {.item = 1, .num = 1, .ts_us = 0};
    uint8_t data[16] = {0};
    const uint8_t *out;
    uint32_t n;
    struct pt_frag_key k = key(1);
    assert_int_equal(pt_defrag_add(d, &f, &k, 65530, data, 16, false, &out, &n), PT_DEFRAG_DROPPED);
    assert_string_equal(s.last, "ipv4.frag_too_large");
    assert_int_equal(pt_defrag_add(d, &f, &k, 0, data, 5, true, &out, &n), PT_DEFRAG_PENDING);
    assert_string_equal(s.last, "ipv4.frag_misaligned");
    pt_defrag_free(d);
}

static void timeout_and_datagram_cap(void **state)
{
    (void)state;
    struct sink s = {0};
    struct pt_defrag *d = pt_defrag_new(on_anomaly, &s);
    uint8_t data[8] = {0};
    const uint8_t *out;
    uint32_t n;
    struct pt_frame f = {.item = 1, .num = 1, .ts_us = 0};
    struct pt_frag_key k = key(1);
    pt_defrag_add(d, &f, &k, 0, data, 8, true, &out, &n);
    f.ts_us = (int64_t)(PT_DEFRAG_TIMEOUT_S + 1) * 1000000;
    k = key(2);
    pt_defrag_add(d, &f, &k, 0, data, 8, true, &out, &n);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.last, "ipv4.frag_incomplete");
    assert_int_equal(pt_defrag_pending(d), 1);
    for (uint32_t i = 0; i < PT_DEFRAG_MAX_DATAGRAMS + 5; i++) {
        k = key(100 + i);
        pt_defrag_add(d, &f, &k, 0, data, 8, true, &out, &n);
    }
    assert_int_equal(pt_defrag_pending(d), PT_DEFRAG_MAX_DATAGRAMS);
    assert_int_equal(s.n, 1 + 6);
    pt_defrag_flush(d, 0);
    assert_int_equal(pt_defrag_pending(d), 0);
    pt_defrag_free(d);
}

static void duplicate_last_fragments_and_complete(void **state)
{
    (void)state;
    struct sink s = {0};
    struct pt_defrag *d = pt_defrag_new(on_anomaly, &s);
    struct pt_frame f = {.item = 1, .num = 1};
    const uint8_t *out;
    uint32_t n;
    struct pt_frag_key k = key(5);
    assert_int_equal(pt_defrag_add(d, &f, &k, 8, (const uint8_t *)"22222222", 8, false, &out, &n),
                     PT_DEFRAG_PENDING);
    /* a second "last" fragment claiming another end is an anomaly; the first end stands */
    assert_int_equal(pt_defrag_add(d, &f, &k, 16, (const uint8_t *)"33", 2, false, &out, &n),
                     PT_DEFRAG_PENDING);
    assert_string_equal(s.last, "ipv4.frag_conflicting_end");
    assert_int_equal(pt_defrag_add(d, &f, &k, 0, (const uint8_t *)"11111111", 8, true, &out, &n),
                     PT_DEFRAG_DONE);
    assert_int_equal(n, 16);
    assert_memory_equal(out, "1111111122222222", 16);
    pt_defrag_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oversize_and_misaligned),
        cmocka_unit_test(timeout_and_datagram_cap),
        cmocka_unit_test(duplicate_last_fragments_and_complete),
    };
    return cmocka_run_group_tests_name("defrag", tests, NULL, NULL);
}
