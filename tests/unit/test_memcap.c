/* test_memcap.c - the memory cap over per-flow state (issue 17): accounting, the growth
 * helper, and eviction in bursts from the flow table, oldest idle first, fair between tables
 * sharing one cap, with what the evicted flows held handed to their consumer. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/memcap.h"
#include "flow/flow.h"
#include "home_net.h"

#define STATE (64u * 1024) /* what the fake consumer says each flow holds */

struct obs {
    int flows, evicted, bursts, closes, opened;
    uint16_t first_evicted;
    uint64_t bytes_seen;  /* stream bytes the consumer received, evicted flows included */
    char last_detail[512];
};

static void emit(void *arg, const struct pt_flow_rec *r)
{
    struct obs *o = arg;
    o->flows++;
    if (r->end == PT_END_EVICTED && o->evicted++ == 0) {
        o->first_evicted = r->cport;
    }
}

static void anom(void *arg, const struct pt_flow_pkt *p, enum pt_anom kind, const char *d)
{
    const char *k = pt_anom_kind(kind);
    (void)p;
    struct obs *o = arg;
    if (strcmp(k, "limit.memcap") == 0) {
        o->bursts++;
        snprintf(o->last_detail, sizeof o->last_detail, "%s", d);
    }
}

static void *c_open(void *arg, struct pt_flow_rec *rec)
{
    (void)rec;
    ((struct obs *)arg)->opened++;
    return malloc(1);
}

static void c_data(void *arg, void *st, const struct pt_flow_rec *rec, int dir, uint64_t off,
                   const uint8_t *p, size_t n, const struct pt_flow_pkt *pkt)
{
    (void)st, (void)rec, (void)dir, (void)off, (void)p, (void)pkt;
    ((struct obs *)arg)->bytes_seen += n;
}

static void c_gap(void *arg, void *st, const struct pt_flow_rec *rec, int dir, uint64_t off,
                  uint64_t n)
{
    (void)arg, (void)st, (void)rec, (void)dir, (void)off, (void)n;
}

static void c_close(void *arg, void *st, struct pt_flow_rec *rec)
{
    (void)rec;
    ((struct obs *)arg)->closes++;
    free(st);
}

static size_t c_mem(void *arg, const void *st)
{
    (void)arg, (void)st;
    return STATE;
}

static const struct pt_stream_ops ops = {c_open, c_data, c_gap, c_close, NULL, c_mem};

static uint64_t frame;

/* One client data segment (no handshake: a half-open flow) on client port `sp`. */
static void half_open(struct pt_flow_table *t, uint16_t sp, int64_t ts)
{
    static const uint8_t data[64] = "half-open request";
    struct pt_view v;
    memset(&v, 0, sizeof v);
    pt_addr_parse("10.0.0.5", &v.src);
    pt_addr_parse("203.0.113.9", &v.dst);
    v.family = 4;
    v.proto = 6;
    v.has_ports = true;
    v.sport = sp;
    v.dport = 104;
    v.seq = 1000;
    v.tcp_flags = PT_TCP_PSH;
    v.payload = data;
    v.payload_len = v.payload_wire = sizeof data;
    v.ip_len = 40 + sizeof data;
    struct pt_flow_pkt p = {.v = &v, .item = 1, .frame = ++frame, .ts_us = ts,
                            .wire_len = v.ip_len + 14};
    pt_flow_update(t, &p);
}

static void reserve_grows_by_doubling_to_the_limit(void **state)
{
    (void)state;
    uint8_t *b = NULL;
    size_t cap = 0;
    assert_true(pt_buf_reserve(&b, &cap, 10, 4096));
    assert_int_equal(cap, PT_MEMCAP_BUF_MIN);
    memcpy(b, "0123456789", 10);
    assert_true(pt_buf_reserve(&b, &cap, PT_MEMCAP_BUF_MIN + 1, 4096));
    assert_int_equal(cap, 2 * PT_MEMCAP_BUF_MIN);
    assert_memory_equal(b, "0123456789", 10); /* content kept */
    assert_true(pt_buf_reserve(&b, &cap, 3000, 3000));
    assert_int_equal(cap, 3000);              /* never past the limit */
    assert_false(pt_buf_reserve(&b, &cap, 3001, 3000));
    assert_int_equal(cap, 3000);              /* a refusal changes nothing */
    assert_true(pt_buf_reserve(&b, &cap, 100, 3000));
    free(b);
}

static void accounting_and_watermarks(void **state)
{
    (void)state;
    struct pt_memcap m;
    pt_memcap_init(&m, 1000);
    assert_false(pt_memcap_over(&m));
    pt_memcap_charge(&m, 1200);
    assert_true(pt_memcap_over(&m));
    pt_memcap_charge(&m, -700);
    assert_int_equal(pt_memcap_used(&m), 500);
    assert_false(pt_memcap_over(&m));
    assert_int_equal(pt_memcap_low(&m), 1000 / 100 * PT_MEMCAP_LOW_PERCENT);
    pt_memcap_hold(&m);
    pt_memcap_hold(&m);
    assert_int_equal(pt_memcap_share(&m), pt_memcap_low(&m) / 2);
    pt_memcap_charge(NULL, 5); /* NULL-safe */
    struct pt_memcap off;
    pt_memcap_init(&off, 0);
    pt_memcap_charge(&off, 1ll << 40);
    assert_false(pt_memcap_over(&off)); /* no cap */
}

static void eviction_in_bursts_oldest_first(void **state)
{
    (void)state;
    struct obs o = {0};
    struct pt_memcap m;
    pt_memcap_init(&m, 1u << 20); /* 1 MiB: about 15 flows of 64 KiB */
    struct pt_flow_table *t = pt_flow_table_new(&home, 0, emit, anom, &o);
    pt_flow_set_stream_ops(t, &ops, &o);
    pt_flow_set_memcap(t, &m);
    const int n = 200;
    for (int i = 0; i < n; i++) {
        half_open(t, (uint16_t)(2000 + i), 1000000 + i);
        /* the cap holds after every packet (one flow's state is the most it can overshoot) */
        assert_true(pt_memcap_used(&m) <= m.max + STATE + 4096);
    }
    assert_true(o.evicted > 150);
    assert_int_equal(o.first_evicted, 2000);       /* the oldest idle flow goes first */
    assert_int_equal(o.closes, o.evicted);         /* each handed to its consumer's close */
    assert_true(o.bursts >= 1);
    assert_true(o.bursts * 1 < o.evicted);         /* bursts, not one anomaly per flow */
    assert_int_equal(m.evicted_flows, (uint64_t)o.evicted);
    assert_int_equal(m.bursts, (uint64_t)o.bursts);
    assert_non_null(strstr(o.last_detail, "memory cap of 1 MiB"));
    assert_int_equal(o.bytes_seen, (uint64_t)n * 64); /* no byte vanished before the consumer */
    pt_flow_flush(t, 2000000);
    assert_int_equal(o.flows, n);
    assert_int_equal(o.closes, n);
    assert_int_equal(pt_memcap_used(&m), 0);       /* everything charged was released */
    pt_flow_table_free(t);
}

static void tables_sharing_a_cap_evict_their_own_share(void **state)
{
    (void)state;
    struct obs a = {0}, b = {0};
    struct pt_memcap m;
    pt_memcap_init(&m, 2u << 20);
    struct pt_flow_table *ta = pt_flow_table_new(&home, 0, emit, anom, &a);
    struct pt_flow_table *tb = pt_flow_table_new(&home, 0, emit, anom, &b);
    pt_flow_set_stream_ops(ta, &ops, &a);
    pt_flow_set_stream_ops(tb, &ops, &b);
    pt_flow_set_memcap(ta, &m);
    pt_flow_set_memcap(tb, &m);
    /* table a fills most of the cap first; then b grows: a, above its share, gives way when it
     * next sees a packet, so b is not the only one to lose its flows */
    for (int i = 0; i < 28; i++) {
        half_open(ta, (uint16_t)(3000 + i), 1000 + i);
    }
    for (int i = 0; i < 100; i++) {
        half_open(tb, (uint16_t)(4000 + i), 2000 + i);
        half_open(ta, (uint16_t)(5000 + i), 2000 + i);
        assert_true(pt_memcap_used(&m) <= m.max + 2 * (STATE + 4096));
    }
    assert_true(a.evicted > 0 && b.evicted > 0);
    assert_int_equal(a.first_evicted, 3000);
    pt_flow_flush(ta, 10000);
    pt_flow_flush(tb, 10000);
    assert_int_equal(pt_memcap_used(&m), 0);
    pt_flow_table_free(ta);
    pt_flow_table_free(tb);
}

static void table_free_releases_its_charge(void **state)
{
    (void)state;
    struct obs o = {0};
    struct pt_memcap m;
    pt_memcap_init(&m, PT_MEMCAP_DEFAULT);
    struct pt_flow_table *t = pt_flow_table_new(&home, 0, emit, anom, &o);
    pt_flow_set_memcap(t, &m); /* no consumer: the flows and their streams only */
    for (int i = 0; i < 10; i++) {
        half_open(t, (uint16_t)(6000 + i), 1000 + i);
    }
    assert_true(pt_memcap_used(&m) >= 10 * 64);
    pt_flow_table_free(t);
    assert_int_equal(pt_memcap_used(&m), 0);
    assert_int_equal(o.bursts, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reserve_grows_by_doubling_to_the_limit),
        cmocka_unit_test(accounting_and_watermarks),
        cmocka_unit_test(eviction_in_bursts_oldest_first),
        cmocka_unit_test(tables_sharing_a_cap_evict_their_own_share),
        cmocka_unit_test(table_free_releases_its_charge),
    };
    return cmocka_run_group_tests_name("memcap", tests, setup, teardown);
}
