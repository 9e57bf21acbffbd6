/* test_flow.c - flow table: roles, counters, sequence-implied bytes, splitting, classes. */
#include "cm.h"

#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"
#include "home_net.h"

struct out {
    struct pt_flow_rec rec[64];
    int n;
    int anomalies;
    int gaps;
    uint64_t gap_off, gap_len;
};

static void stream_ev(void *arg, const struct pt_stream_event *e)
{
    struct out *o = arg;
    if (e->kind == PT_STREAM_GAP) {
        o->gaps++;
        o->gap_off = e->off;
        o->gap_len = e->len;
    }
}

static void emit(void *arg, const struct pt_flow_rec *r)
{
    struct out *o = arg;
    o->rec[o->n++] = *r;
}

static void anom(void *arg, const struct pt_flow_pkt *p, enum pt_anom k, const char *d)
{
    (void)p;
    (void)k;
    (void)d;
    ((struct out *)arg)->anomalies++;
}

static uint64_t frame;

static struct pt_view tcpv(const char *src, uint16_t sp, const char *dst, uint16_t dp, uint32_t seq,
                           uint32_t ack, uint8_t flags, uint32_t len)
{
    struct pt_view v;
    memset(&v, 0, sizeof v);
    pt_addr_parse(src, &v.src);
    pt_addr_parse(dst, &v.dst);
    v.family = 4;
    v.proto = 6;
    v.has_ports = true;
    v.sport = sp;
    v.dport = dp;
    v.seq = seq;
    v.ack = ack;
    v.tcp_flags = flags;
    static const uint8_t zeros[2048];
    v.payload_wire = v.payload_len = len;
    v.payload = len ? zeros : NULL;
    v.ip_len = 40 + len;
    return v;
}

static void feed(struct pt_flow_table *t, struct pt_view v, int64_t ts)
{
    struct pt_flow_pkt p = {.v = &v, .item = 1, .frame = ++frame, .ts_us = ts,
                            .wire_len = v.ip_len + 14};
    pt_flow_update(t, &p);
}

#define C "10.0.0.5"
#define S "203.0.113.9"

static void roles_counters_and_seq_bytes(void **state)
{
    (void)state;
    struct out o = {0};
    frame = 0;
    struct pt_flow_table *t = pt_flow_table_new(&home, 0, emit, anom, &o);
    pt_flow_set_stream_events(t, stream_ev);
    /* Handshake (ISN c=1000, s=5000), then 1000 bytes in two segments of which the capture
     * missed the first: the server's ACK for 1001+1000 proves it was sent. */
    feed(t, tcpv(C, 40000, S, 80, 1000, 0, PT_TCP_SYN, 0), 1000000);
    feed(t, tcpv(S, 80, C, 40000, 5000, 1001, PT_TCP_SYN | PT_TCP_ACK, 0), 1000100);
    feed(t, tcpv(C, 40000, S, 80, 1001, 5001, PT_TCP_ACK, 0), 1000200);
    /* segment 1001..1500 not captured */
    feed(t, tcpv(C, 40000, S, 80, 1501, 5001, PT_TCP_ACK | PT_TCP_PSH, 500), 1000300);
    feed(t, tcpv(S, 80, C, 40000, 5001, 2001, PT_TCP_ACK, 0), 1000400);
    feed(t, tcpv(C, 40000, S, 80, 2001, 5001, PT_TCP_ACK | PT_TCP_FIN, 0), 1000500);
    feed(t, tcpv(S, 80, C, 40000, 5001, 2002, PT_TCP_ACK | PT_TCP_FIN, 0), 1000600);
    feed(t, tcpv(C, 40000, S, 80, 2002, 5002, PT_TCP_ACK, 0), 1000700);
    assert_int_equal(o.n, 0);
    pt_flow_flush(t, 1000700);
    assert_int_equal(o.n, 1);
    const struct pt_flow_rec *r = &o.rec[0];
    char a[PT_ADDR_STRLEN];
    pt_addr_str(&r->cli, a);
    assert_string_equal(a, C);
    assert_int_equal(r->cport, 40000);
    assert_int_equal(r->sport, 80);
    assert_int_equal(r->cls, PT_CLASS_OUTBOUND);
    assert_int_equal(r->c2s.pkts, 5);
    assert_int_equal(r->s2c.pkts, 3);
    assert_int_equal(r->c2s.payload_bytes, 500);
    assert_int_equal(r->c2s.seq_bytes, 1000); /* what was sent, not what was captured */
    assert_int_equal(r->c2s.stream_bytes, 500); /* what was captured, reassembled */
    assert_int_equal(r->c2s.gap_bytes, 500);    /* proven missing by the server's ACK */
    assert_int_equal(r->c2s.conflicts, 0);
    assert_int_equal(o.gaps, 1);
    assert_int_equal(o.gap_off, 0);
    assert_int_equal(o.gap_len, 500);
    assert_int_equal(r->s2c.seq_bytes, 0);
    assert_int_equal(r->end, PT_END_FIN);
    assert_string_equal(r->history, "ShADaFf");
    assert_int_equal(r->first_ts, 1000000);
    assert_int_equal(r->last_ts, 1000700);
    pt_flow_table_free(t);
}

static void seq_wraparound(void **state)
{
    (void)state;
    struct out o = {0};
    struct pt_flow_table *t = pt_flow_table_new(&home, 0, emit, anom, &o);
    uint32_t isn = 0xfffffff0u;
    feed(t, tcpv(C, 1, S, 2, isn, 0, PT_TCP_SYN, 0), 1);
    feed(t, tcpv(C, 1, S, 2, isn + 1, 0, PT_TCP_ACK, 100), 2);      /* crosses 2^32 */
    feed(t, tcpv(C, 1, S, 2, isn + 101, 0, PT_TCP_ACK, 100), 3);
    pt_flow_flush(t, 3);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.rec[0].c2s.seq_bytes, 200);
    pt_flow_table_free(t);
}

static void reuse_splits_on_new_isn(void **state)
{
    (void)state;
    struct out o = {0};
    struct pt_flow_table *t = pt_flow_table_new(&home, 0, emit, anom, &o);
    feed(t, tcpv(C, 1234, S, 443, 100, 0, PT_TCP_SYN, 0), 1);
    feed(t, tcpv(C, 1234, S, 443, 100, 0, PT_TCP_SYN, 0), 2); /* retransmitted SYN: same */
    feed(t, tcpv(C, 1234, S, 443, 101, 0, PT_TCP_RST, 0), 3);
    feed(t, tcpv(C, 1234, S, 443, 900, 0, PT_TCP_SYN, 0), 4); /* new connection */
    pt_flow_flush(t, 4);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.rec[0].end, PT_END_REUSE);
    assert_int_equal(o.rec[0].c2s.pkts, 3);
    assert_int_equal(o.rec[1].c2s.pkts, 1);
    assert_int_equal(o.rec[1].end, PT_END_EOF);
    assert_true(o.rec[0].id != o.rec[1].id);
    pt_flow_table_free(t);
}

static void udp_idle_timeout_and_port_roles(void **state)
{
    (void)state;
    struct out o = {0};
    struct pt_flow_table *t = pt_flow_table_new(&home, 0, emit, anom, &o);
    struct pt_view v = tcpv(S, 53, C, 33333, 0, 0, 0, 40); /* response seen first */
    v.proto = 17;
    v.ip_len = 68;
    feed(t, v, 0);
    feed(t, v, (int64_t)PT_FLOW_UDP_IDLE_S * 1000000 + 1); /* beyond the idle timeout */
    pt_flow_flush(t, (int64_t)PT_FLOW_UDP_IDLE_S * 1000000 + 1);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.rec[0].end, PT_END_IDLE);
    char a[PT_ADDR_STRLEN];
    pt_addr_str(&o.rec[0].cli, a);
    assert_string_equal(a, C); /* low source port: the sender is the server */
    assert_int_equal(o.rec[0].s2c.pkts, 1);
    assert_int_equal(o.rec[0].cls, PT_CLASS_OUTBOUND);
    pt_flow_table_free(t);
}

static void asymmetric_vlans_are_joined(void **state)
{
    (void)state;
    struct out o = {0};
    struct pt_flow_table *t = pt_flow_table_new(&home, 0, emit, anom, &o);
    struct pt_view syn = tcpv(C, 5000, S, 22, 1, 0, PT_TCP_SYN, 0);
    syn.ctx.n_vlan = 1;
    syn.ctx.vlan[0] = 1506;
    struct pt_view sa = tcpv(S, 22, C, 5000, 9, 2, PT_TCP_SYN | PT_TCP_ACK, 0);
    sa.ctx.n_vlan = 1;
    sa.ctx.vlan[0] = 1906;
    feed(t, syn, 1);
    feed(t, sa, 2);
    feed(t, sa, 3);
    /* a different flow on the other VLAN with the same 5-tuple from the client side stays apart */
    struct pt_view other = syn;
    other.ctx.vlan[0] = 77;
    other.seq = 1;
    feed(t, other, 4);
    pt_flow_flush(t, 4);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.anomalies, 1);
    assert_int_equal(o.rec[0].s2c.pkts + o.rec[1].s2c.pkts, 2);
    int joined = o.rec[0].asym_vlan ? 0 : 1;
    assert_int_equal(o.rec[joined].reply_vlan[0], 1906);
    assert_int_equal(o.rec[joined].c2s.pkts, 1);
    pt_flow_table_free(t);
}

static void table_cap_evicts_oldest(void **state)
{
    (void)state;
    struct out o = {0};
    struct pt_flow_table *t = pt_flow_table_new(&home, 16, emit, anom, &o);
    for (int i = 0; i < 20; i++) {
        feed(t, tcpv(C, (uint16_t)(1000 + i), S, 80, 1, 0, PT_TCP_SYN, 0), i);
    }
    assert_int_equal(pt_flow_live(t), 16);
    assert_int_equal(o.n, 4);
    assert_int_equal(o.rec[0].end, PT_END_EVICTED);
    assert_int_equal(o.rec[0].cport, 1000);
    assert_int_equal(o.anomalies, 1);
    pt_flow_flush(t, 20);
    assert_int_equal(o.n, 20);
    pt_flow_table_free(t);
}

static void symmetric_hash(void **state)
{
    (void)state;
    struct pt_view a = tcpv(C, 1, S, 2, 0, 0, 0, 0);
    struct pt_view b = tcpv(S, 2, C, 1, 0, 0, 0, 0);
    assert_true(pt_flow_hash(&a) == pt_flow_hash(&b));
    b.ctx.vlan[0] = 5; /* VLAN ids do not change the worker: asymmetric VLANs must meet */
    assert_true(pt_flow_hash(&a) == pt_flow_hash(&b));
    b.dport = 3;
    assert_true(pt_flow_hash(&a) != pt_flow_hash(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roles_counters_and_seq_bytes),
        cmocka_unit_test(seq_wraparound),
        cmocka_unit_test(reuse_splits_on_new_isn),
        cmocka_unit_test(udp_idle_timeout_and_port_roles),
        cmocka_unit_test(asymmetric_vlans_are_joined),
        cmocka_unit_test(table_cap_evicts_oldest),
        cmocka_unit_test(symmetric_hash),
    };
    return cmocka_run_group_tests_name("flow", tests, setup, teardown);
}
