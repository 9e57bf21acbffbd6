/* test_netflow.c - NetFlow v5/v9 and IPFIX export packets in captures (analyze/netflow.c):
 * hand-built datagrams with their fields, times and accounting (templates, options templates,
 * padding, variable-length and enterprise fields, withdrawals, data before its template,
 * malformed sets), the probe, and every datagram cut at every offset. */
#include "cm.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/app.h"

extern const struct pt_app_proto pt_app_netflow;

#define MAXREC 32

struct sink {
    size_t n, n_malformed, n_notmpl;
    struct pt_netflow_rec r[MAXREC];
    char last[240];
};

/* The decoder's records come through the context's emit (records.def: netflow). */
static void on_emit(void *arg, enum pt_rec_kind kind, const void *rec)
{
    struct sink *s = arg;
    assert_int_equal(kind, PT_REC_NETFLOW);
    if (s->n < MAXREC) {
        s->r[s->n++] = *(const struct pt_netflow_rec *)rec;
    }
}

static void on_anom(void *arg, uint32_t item, uint64_t frame, enum pt_anom kind, const char *d)
{
    struct sink *s = arg;
    (void)item;
    (void)frame;
    s->n_malformed += kind == PT_ANOM_NETFLOW_MALFORMED;
    s->n_notmpl += kind == PT_ANOM_NETFLOW_NO_TEMPLATE;
    snprintf(s->last, sizeof s->last, "%s", d);
}

/* ---- a byte builder ---- */

struct buf {
    uint8_t b[2048];
    size_t n;
};

static void u8(struct buf *b, unsigned v)
{
    b->b[b->n++] = (uint8_t)v;
}

static void u16(struct buf *b, unsigned v)
{
    u8(b, v >> 8);
    u8(b, v & 0xff);
}

static void u32(struct buf *b, uint32_t v)
{
    u16(b, v >> 16);
    u16(b, v & 0xffff);
}

static void u64(struct buf *b, uint64_t v)
{
    u32(b, (uint32_t)(v >> 32));
    u32(b, (uint32_t)v);
}

static void ip4(struct buf *b, const char *a)
{
    struct in_addr x;
    assert_int_equal(inet_pton(AF_INET, a, &x), 1);
    memcpy(b->b + b->n, &x, 4);
    b->n += 4;
}

/* A set header whose length is patched by set_end. */
static size_t set_begin(struct buf *b, unsigned id)
{
    size_t at = b->n;
    u16(b, id);
    u16(b, 0);
    return at;
}

static void set_end(struct buf *b, size_t at)
{
    size_t len = b->n - at;
    b->b[at + 2] = (uint8_t)(len >> 8);
    b->b[at + 3] = (uint8_t)len;
}

/* ---- running the decoder ---- */

struct run {
    struct sink s;
    struct pt_app_ctx ctx;
    struct pt_flow_rec rec;
    void *st;
};

static void start(struct run *r)
{
    memset(r, 0, sizeof *r);
    r->ctx.arg = &r->s;
    r->ctx.emit = on_emit;
    r->ctx.anomaly = on_anom;
    uint8_t a[4] = {192, 0, 2, 9};
    pt_addr_from_v4(&r->rec.cli, a);
    r->rec.item = 3;
    r->st = pt_app_netflow.open(&r->ctx, &r->rec);
    assert_non_null(r->st);
}

static void feed(struct run *r, const struct buf *b, uint64_t frame)
{
    struct pt_flow_pkt pkt = {.item = 3, .frame = frame, .ts_us = 0};
    uint8_t *copy = malloc(b->n); /* exact size: reads past it show under ASan */
    assert_non_null(copy);
    memcpy(copy, b->b, b->n);
    pt_app_netflow.datagram(r->st, 0, copy, b->n, &pkt);
    free(copy);
}

static void finish(struct run *r)
{
    pt_app_netflow.close(r->st);
}

/* ---- v5 ---- */

static void v5_record(struct buf *b, const char *src, const char *dst, uint32_t pkts,
                      uint32_t octets, uint32_t first, uint32_t last, unsigned sp, unsigned dp,
                      unsigned proto)
{
    ip4(b, src);
    ip4(b, dst);
    ip4(b, "0.0.0.0");
    u16(b, 1);
    u16(b, 2);
    u32(b, pkts);
    u32(b, octets);
    u32(b, first);
    u32(b, last);
    u16(b, sp);
    u16(b, dp);
    u8(b, 0);
    u8(b, 0x1b);
    u8(b, proto);
    u8(b, 0);
    u32(b, 0);
    u16(b, 0);
    u16(b, 0);
}

static void build_v5(struct buf *b)
{
    memset(b, 0, sizeof *b);
    u16(b, 5);
    u16(b, 2);
    u32(b, 10000);        /* uptime at export: 10 s */
    u32(b, 1700000010);   /* unix_secs */
    u32(b, 500000000);    /* unix_nsecs: .5 s */
    u32(b, 77);
    u8(b, 0);
    u8(b, 0);
    u16(b, 0);
    v5_record(b, "10.2.0.5", "203.0.113.50", 1434, 2057360, 2000, 4865, 51515, 443, 6);
    /* First after the export's uptime: the counter wrapped since */
    v5_record(b, "10.2.0.6", "198.51.100.7", 3, 180, 0xffffff00u, 9000, 5353, 53, 17);
}

static void netflow_v5_fields(void **state)
{
    (void)state;
    struct buf b;
    build_v5(&b);
    assert_true(pt_app_netflow.probe(17, 0, b.b, b.n, 40000, 12345));
    assert_false(pt_app_netflow.probe(6, 0, b.b, b.n, 40000, 2055));
    struct run r;
    start(&r);
    feed(&r, &b, 41);
    finish(&r);
    assert_int_equal(r.s.n, 2);
    const struct pt_logconn_rec *c = &r.s.r[0].conn;
    assert_string_equal(r.s.r[0].source, "netflow:v5@192.0.2.9");
    assert_string_equal(c->client, "10.2.0.5");
    assert_string_equal(c->server, "203.0.113.50");
    assert_int_equal(c->cport, 51515);
    assert_int_equal(c->sport, 443);
    assert_string_equal(c->proto, "tcp");
    assert_int_equal(c->c_ip_bytes, 2057360);
    assert_int_equal(c->c_pkts, 1434);
    assert_int_equal(c->s_ip_bytes, -1);
    assert_int_equal(c->c_bytes, -1);
    /* export at 1700000010.5 when uptime was 10 s; First at 2 s: 8 s before */
    assert_int_equal(c->p.ts_us, 1700000002500000LL);
    assert_int_equal(c->dur_us, 2865000);
    assert_int_equal(c->p.item, 3);
    assert_int_equal(c->p.line, 41);
    assert_int_equal(c->p.offset, 24);
    assert_int_equal(c->p.length, 48);
    c = &r.s.r[1].conn;
    assert_string_equal(c->proto, "udp");
    assert_int_equal(c->p.offset, 72);
    /* 0xffffff00 to 10000 across the wrap: 10000 + 256 ms before the export */
    assert_int_equal(c->p.ts_us, 1700000010500000LL - 10256000LL);
    assert_int_equal(r.s.n_malformed + r.s.n_notmpl, 0);
}

/* ---- v9 ---- */

static void v9_header(struct buf *b, unsigned count, uint32_t uptime, uint32_t secs,
                      uint32_t source)
{
    memset(b, 0, sizeof *b);
    u16(b, 9);
    u16(b, count);
    u32(b, uptime);
    u32(b, secs);
    u32(b, 1);
    u32(b, source);
}

static void v9_template(struct buf *b)
{
    size_t at = set_begin(b, 0);
    u16(b, 260);
    u16(b, 9);
    static const unsigned f[9][2] = {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 4},
                                     {2, 4}, {22, 4}, {21, 4}};
    for (int i = 0; i < 9; i++) {
        u16(b, f[i][0]);
        u16(b, f[i][1]);
    }
    set_end(b, at);
}

static void v9_data(struct buf *b)
{
    size_t at = set_begin(b, 260);
    ip4(b, "10.2.0.5");
    ip4(b, "203.0.113.50");
    u16(b, 51515);
    u16(b, 443);
    u8(b, 6);
    u32(b, 60000000);
    u32(b, 41000);
    u32(b, 5000);
    u32(b, 65000);
    u8(b, 0); /* padding to 4 bytes: 29 bytes of record + 4 of header + 3 */
    u8(b, 0);
    u8(b, 0);
    set_end(b, at);
}

static void netflow_v9_templates_padding_and_early_data(void **state)
{
    (void)state;
    struct run r;
    start(&r);
    struct buf b;
    /* data of template 260 before the template: counted, not read */
    v9_header(&b, 1, 70000, 1700000100, 5);
    v9_data(&b);
    assert_true(pt_app_netflow.probe(17, 0, b.b, b.n, 40000, 9995));
    feed(&r, &b, 1);
    assert_int_equal(r.s.n, 0);
    /* options template (scope: system 4 bytes; option: sampling interval 4 bytes) and its
     * record, then the template and two data sets; an options record is not a flow */
    v9_header(&b, 4, 70000, 1700000100, 5);
    size_t at = set_begin(&b, 1);
    u16(&b, 300);
    u16(&b, 4);
    u16(&b, 4);
    u16(&b, 1);
    u16(&b, 4);
    u16(&b, 34);
    u16(&b, 4);
    u16(&b, 0); /* padding */
    set_end(&b, at);
    at = set_begin(&b, 300);
    u32(&b, 0);
    u32(&b, 1);
    set_end(&b, at);
    v9_template(&b);
    v9_data(&b);
    feed(&r, &b, 2);
    assert_int_equal(r.s.n, 1);
    /* another source id has no template 260: its data is early too */
    v9_header(&b, 1, 70000, 1700000100, 6);
    v9_data(&b);
    feed(&r, &b, 3);
    finish(&r);
    assert_int_equal(r.s.n, 1);
    const struct pt_logconn_rec *c = &r.s.r[0].conn;
    assert_string_equal(r.s.r[0].source, "netflow:v9@192.0.2.9");
    assert_string_equal(c->client, "10.2.0.5");
    assert_int_equal(c->c_ip_bytes, 60000000);
    assert_int_equal(c->c_pkts, 41000);
    assert_int_equal(c->p.ts_us, 1700000100000000LL - 65000000LL);
    assert_int_equal(c->dur_us, 60000000LL);
    assert_int_equal(c->p.line, 2);
    assert_int_equal(r.s.n_malformed, 0);
    assert_int_equal(r.s.n_notmpl, 1);
    assert_non_null(strstr(r.s.last, "2 data set(s), 64 bytes"));
    assert_non_null(strstr(r.s.last, "template 260, domain 5"));
}

/* ---- IPFIX ---- */

static void ipfix_header(struct buf *b, uint32_t export, uint32_t domain)
{
    memset(b, 0, sizeof *b);
    u16(b, 10);
    u16(b, 0);
    u32(b, export);
    u32(b, 9);
    u32(b, domain);
}

static void ipfix_end(struct buf *b)
{
    b->b[2] = (uint8_t)(b->n >> 8);
    b->b[3] = (uint8_t)b->n;
}

/* Template 400: addresses, ports, protocol, octets, the reverse octets (RFC 5103, enterprise
 * 29305), a variable-length enterprise field of another vendor, interfaceName (variable),
 * and sysUpTime start and end. */
static void ipfix_templates(struct buf *b)
{
    size_t at = set_begin(b, 2);
    u16(b, 400);
    u16(b, 10);
    static const unsigned f[5][2] = {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}};
    for (int i = 0; i < 5; i++) {
        u16(b, f[i][0]);
        u16(b, f[i][1]);
    }
    u16(b, 1);
    u16(b, 8);
    u16(b, 0x8000 | 1);
    u16(b, 4);
    u32(b, 29305);
    u16(b, 0x8000 | 77);
    u16(b, 65535);
    u32(b, 9);
    u16(b, 82);
    u16(b, 65535);
    u16(b, 22);
    u16(b, 4);
    set_end(b, at);
    /* options template 256: scope meteringProcessId, systemInitTimeMilliseconds */
    at = set_begin(b, 3);
    u16(b, 256);
    u16(b, 2);
    u16(b, 1);
    u16(b, 143);
    u16(b, 4);
    u16(b, 160);
    u16(b, 8);
    set_end(b, at);
}

static void ipfix_data(struct buf *b)
{
    size_t at = set_begin(b, 256);
    u32(b, 1);
    u64(b, 1700000000000ULL); /* the exporter started at 1700000000 s */
    set_end(b, at);
    at = set_begin(b, 400);
    ip4(b, "10.2.0.7");
    ip4(b, "198.51.100.9");
    u16(b, 40001);
    u16(b, 22);
    u8(b, 6);
    u64(b, 5000000);
    u32(b, 123456);
    u8(b, 3);        /* vendor field: 3 bytes */
    u8(b, 'a');
    u8(b, 'b');
    u8(b, 'c');
    u8(b, 255);      /* interfaceName: the 3-byte form, 300 bytes */
    u16(b, 300);
    for (int i = 0; i < 300; i++) {
        u8(b, 'x');
    }
    u32(b, 42000);   /* 42 s after the exporter started */
    set_end(b, at);
}

/* One IPFIX message with the templates and their data. */
static void ipfix_whole(struct buf *b)
{
    ipfix_header(b, 1700000100, 0);
    ipfix_templates(b);
    ipfix_data(b);
    ipfix_end(b);
}

static void netflow_ipfix_enterprise_variable_and_sysinit(void **state)
{
    (void)state;
    struct run r;
    start(&r);
    struct buf b;
    ipfix_whole(&b);
    assert_true(pt_app_netflow.probe(17, 0, b.b, b.n, 40000, 12345));
    feed(&r, &b, 7);
    assert_int_equal(r.s.n, 1);
    const struct pt_logconn_rec *c = &r.s.r[0].conn;
    assert_string_equal(r.s.r[0].source, "netflow:ipfix@192.0.2.9");
    assert_string_equal(c->client, "10.2.0.7");
    assert_string_equal(c->server, "198.51.100.9");
    assert_int_equal(c->sport, 22);
    assert_int_equal(c->c_ip_bytes, 5000000);
    assert_int_equal(c->s_ip_bytes, 123456);
    assert_int_equal(c->p.ts_us, 1700000042000000LL);
    assert_int_equal(c->dur_us, -1);
    assert_int_equal(c->p.length, 4 + 4 + 2 + 2 + 1 + 8 + 4 + 4 + 3 + 300 + 4);
    /* withdraw template 400: its next data set is early */
    ipfix_header(&b, 1700000200, 0);
    size_t at = set_begin(&b, 2);
    u16(&b, 400);
    u16(&b, 0);
    set_end(&b, at);
    ipfix_data(&b);
    ipfix_end(&b);
    feed(&r, &b, 8);
    finish(&r);
    assert_int_equal(r.s.n, 1);
    assert_int_equal(r.s.n_notmpl, 1);
    assert_int_equal(r.s.n_malformed, 0);
}

static void netflow_malformed_sets_are_anomalies(void **state)
{
    (void)state;
    struct run r;
    start(&r);
    struct buf b;
    ipfix_whole(&b);
    feed(&r, &b, 1);
    /* a variable length past its set */
    ipfix_header(&b, 1700000100, 0);
    size_t at = set_begin(&b, 400);
    ip4(&b, "10.2.0.7");
    ip4(&b, "198.51.100.9");
    u16(&b, 1);
    u16(&b, 2);
    u8(&b, 6);
    u64(&b, 1);
    u32(&b, 1);
    u8(&b, 200); /* 200 bytes announced, 8 there */
    u64(&b, 0);
    set_end(&b, at);
    ipfix_end(&b);
    feed(&r, &b, 2);
    assert_int_equal(r.s.n_malformed, 1);
    /* a set longer than the datagram (at a collector port: the probe claims it) */
    ipfix_header(&b, 1700000100, 0);
    u16(&b, 400);
    u16(&b, 900);
    u32(&b, 0);
    ipfix_end(&b);
    assert_false(pt_app_netflow.probe(17, 0, b.b, b.n, 40000, 12345));
    assert_true(pt_app_netflow.probe(17, 0, b.b, b.n, 40000, 4739));
    feed(&r, &b, 3);
    assert_int_equal(r.s.n_malformed, 2);
    /* a template with more fields than its set holds */
    v9_header(&b, 1, 1, 1700000100, 0);
    at = set_begin(&b, 0);
    u16(&b, 270);
    u16(&b, 40);
    u16(&b, 8);
    u16(&b, 4);
    set_end(&b, at);
    feed(&r, &b, 4);
    assert_int_equal(r.s.n_malformed, 3);
    finish(&r);
    assert_int_equal(r.s.n, 1);
}

static void netflow_probe_is_strict_off_the_ports(void **state)
{
    (void)state;
    /* a DNS query is not an export, whatever the port */
    static const uint8_t dns[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x01, 'a', 0x00, 0x00, 0x01, 0x00, 0x01};
    assert_false(pt_app_netflow.probe(17, 0, dns, sizeof dns, 40000, 53));
    assert_false(pt_app_netflow.probe(17, 0, dns, sizeof dns, 40000, 2055));
    struct buf b;
    build_v5(&b);
    b.n -= 1; /* the count no longer agrees with the bytes */
    assert_false(pt_app_netflow.probe(17, 0, b.b, b.n, 40000, 12345));
    assert_true(pt_app_netflow.probe(17, 0, b.b, b.n, 2055, 12345));
    v9_header(&b, 1, 1, 1700000100, 0);
    v9_template(&b);
    u8(&b, 0xff); /* a byte after the last set that cannot be padding of a set */
    u8(&b, 0xff);
    u8(&b, 0xff);
    u8(&b, 0xff);
    u8(&b, 0xff);
    assert_false(pt_app_netflow.probe(17, 0, b.b, b.n, 40000, 12345));
}

/* Every datagram cut at every offset: no read past it, never more flows than the whole. */
static void netflow_every_datagram_cut_at_every_offset(void **state)
{
    (void)state;
    struct buf all[3];
    build_v5(&all[0]);
    v9_header(&all[1], 2, 70000, 1700000100, 5);
    v9_template(&all[1]);
    v9_data(&all[1]);
    ipfix_whole(&all[2]);
    for (int k = 0; k < 3; k++) {
        for (size_t cut = 0; cut <= all[k].n; cut++) {
            struct buf b = all[k];
            b.n = cut;
            struct run r;
            start(&r);
            pt_app_netflow.probe(17, 0, b.b, b.n, 40000, 2055);
            feed(&r, &b, 1);
            finish(&r);
            assert_true(r.s.n <= 2);
            if (cut == all[k].n) {
                assert_int_equal(r.s.n, k == 0 ? 2 : 1);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(netflow_v5_fields),
        cmocka_unit_test(netflow_v9_templates_padding_and_early_data),
        cmocka_unit_test(netflow_ipfix_enterprise_variable_and_sysinit),
        cmocka_unit_test(netflow_malformed_sets_are_anomalies),
        cmocka_unit_test(netflow_probe_is_strict_off_the_ports),
        cmocka_unit_test(netflow_every_datagram_cut_at_every_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
