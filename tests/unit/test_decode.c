/* test_decode.c - link/network/transport decoders, including truncation at every offset. */
#include "cm.h"

#include "sink.h"

#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "frames.h"


static struct pt_decoded decode(int dlt, const struct fb *f, struct sink *s)
{
    struct pt_decoder *d = pt_decoder_new(on_anomaly, s);
    assert_non_null(d);
    struct pt_frame fr = {.item = 1, .num = 1, .wire_len = (uint32_t)f->n,
                          .cap_len = (uint32_t)f->n, .linktype = dlt, .data = f->b};
    struct pt_decoded out;
    pt_decode_frame(d, &fr, &out);
    pt_decoder_free(d);
    return out;
}

/* Ethernet / 802.1ad 100 / 802.1Q 200 / IPv4 / TCP 40000 -> 443 with 5 bytes */
static void build_qinq_tcp(struct fb *f)
{
    f->n = 0;
    fb_eth(f, 0x88a8);
    fb_be16(f, 100);   /* S-tag VID 100 */
    fb_be16(f, 0x8100);
    fb_be16(f, 200);   /* C-tag VID 200 */
    fb_be16(f, 0x0800);
    fb_ipv4(f, IP4(10, 0, 0, 1), IP4(8, 8, 8, 8), 6, 25, 1, 0x4000);
    fb_tcp(f, 40000, 443, 1000, 0, 0x18);
    fb_bytes(f, "hello", 5);
}

static void vlan_stack_and_tcp(void **state)
{
    (void)state;
    struct fb f;
    build_qinq_tcp(&f);
    struct sink s = {0};
    struct pt_decoded d = decode(DLT_EN10MB, &f, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(d.n, 1);
    const struct pt_view *v = &d.v[0];
    assert_int_equal(v->ctx.n_vlan, 2);
    assert_int_equal(v->ctx.vlan[0], 100);
    assert_int_equal(v->ctx.vlan[1], 200);
    assert_true(v->has_ports);
    assert_int_equal(v->sport, 40000);
    assert_int_equal(v->dport, 443);
    assert_int_equal(v->seq, 1000);
    assert_int_equal(v->payload_len, 5);
    assert_memory_equal(v->payload, "hello", 5);
    assert_int_equal(v->ip_len, 45);
}

static void ethernet_padding_is_trimmed(void **state)
{
    (void)state;
    struct fb f = {.n = 0};
    fb_eth(&f, 0x0800);
    fb_ipv4(&f, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 17, 8, 2, 0);
    fb_udp(&f, 1000, 2000, 0);
    fb_bytes(&f, "\0\0\0\0\0\0", 6); /* minimum-frame padding */
    struct sink s = {0};
    struct pt_decoded d = decode(DLT_EN10MB, &f, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].payload_len, 0);
}

/* Every prefix of a well-formed frame decodes without crashing; too-short prefixes give an
 * anomaly or no view, and a view that does come out never points outside the prefix. */
static void check_all_prefixes(int dlt, const struct fb *full)
{
    for (size_t cut = 0; cut <= full->n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size so ASan sees any overread */
        memcpy(copy, full->b, cut);
        struct pt_decoder *dec = pt_decoder_new(on_anomaly, &(struct sink){0});
        struct pt_frame fr = {.item = 1, .num = 1, .wire_len = (uint32_t)cut,
                              .cap_len = (uint32_t)cut, .linktype = dlt, .data = copy};
        struct pt_decoded out;
        pt_decode_frame(dec, &fr, &out);
        for (unsigned i = 0; i < out.n; i++) {
            const struct pt_view *v = &out.v[i];
            if (v->payload_len > 0) {
                assert_true(v->payload >= copy && v->payload + v->payload_len <= copy + cut);
            }
        }
        /* Same prefix, but announced as a snaplen cut of the full frame. */
        fr.wire_len = (uint32_t)full->n;
        pt_decode_frame(dec, &fr, &out);
        pt_decoder_free(dec);
        free(copy);
    }
}

static void truncate_at_every_offset(void **state)
{
    (void)state;
    struct fb f;
    build_qinq_tcp(&f);
    check_all_prefixes(DLT_EN10MB, &f);

    /* IPv6 / hop-by-hop / destination options / UDP 53 */
    f.n = 0;
    fb_eth(&f, 0x86dd);
    fb_ipv6(&f, 8 + 8 + 8 + 4, 0, 1, 2);
    fb_u8(&f, 60);     /* hop-by-hop: next = destination options */
    fb_u8(&f, 0);      /* length 0 -> 8 bytes */
    fb_bytes(&f, "\1\4\0\0\0\0", 6);
    fb_u8(&f, 17);     /* destination options: next = UDP */
    fb_u8(&f, 0);
    fb_bytes(&f, "\1\4\0\0\0\0", 6);
    fb_udp(&f, 5353, 53, 4);
    fb_bytes(&f, "abcd", 4);
    struct sink s = {0};
    struct pt_decoded d = decode(DLT_EN10MB, &f, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].proto, 17);
    assert_int_equal(d.v[0].dport, 53);
    assert_int_equal(d.v[0].payload_len, 4);
    check_all_prefixes(DLT_EN10MB, &f);

    /* MPLS label stack (2 labels) / IPv4 / ICMP echo */
    f.n = 0;
    fb_eth(&f, 0x8847);
    fb_be32(&f, (16u << 12) | 64);         /* label 16, S=0 */
    fb_be32(&f, (17u << 12) | 0x100 | 64); /* label 17, S=1 */
    fb_ipv4(&f, IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 1, 12, 3, 0);
    fb_bytes(&f, "\x08\x00\x00\x00\x12\x34\x00\x01ping", 12); /* echo id 0x1234 */
    s.n = 0;
    d = decode(DLT_EN10MB, &f, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].icmp_type, 8);
    assert_int_equal(d.v[0].sport, 0x1234);
    check_all_prefixes(DLT_EN10MB, &f);
}

static void gre_and_vxlan_tunnels(void **state)
{
    (void)state;
    struct fb f = {.n = 0};
    /* IPv4 / GRE with key 7 / IPv4 / UDP */
    fb_eth(&f, 0x0800);
    fb_ipv4(&f, IP4(198, 51, 100, 1), IP4(198, 51, 100, 2), 47, 8 + 20 + 8, 4, 0);
    fb_be16(&f, 0x2000); /* K bit */
    fb_be16(&f, 0x0800);
    fb_be32(&f, 7);      /* key */
    fb_ipv4(&f, IP4(10, 9, 9, 1), IP4(10, 9, 9, 2), 17, 8, 5, 0);
    fb_udp(&f, 1111, 2222, 0);
    struct sink s = {0};
    struct pt_decoded d = decode(DLT_EN10MB, &f, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[0].proto, 47);
    assert_int_equal(d.v[1].ctx.depth, 1);
    assert_int_equal(d.v[1].ctx.tunnel, PT_TUN_GRE);
    assert_int_equal(d.v[1].ctx.tun_id, 7);
    assert_int_equal(d.v[1].dport, 2222);
    check_all_prefixes(DLT_EN10MB, &f);

    /* IPv4 / UDP 4789 / VXLAN VNI 42 / Ethernet / IPv4 / TCP */
    f.n = 0;
    fb_eth(&f, 0x0800);
    fb_ipv4(&f, IP4(198, 51, 100, 1), IP4(198, 51, 100, 2), 17, 8 + 8 + 14 + 20 + 20, 6, 0);
    fb_udp(&f, 55555, 4789, 8 + 14 + 20 + 20);
    fb_be32(&f, 0x08000000); /* I flag */
    fb_be32(&f, 42 << 8);    /* VNI */
    fb_eth(&f, 0x0800);
    fb_ipv4(&f, IP4(10, 0, 0, 5), IP4(10, 0, 0, 6), 6, 20, 7, 0);
    fb_tcp(&f, 1, 2, 3, 4, 0x02);
    s.n = 0;
    d = decode(DLT_EN10MB, &f, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[0].dport, 4789);
    assert_int_equal(d.v[1].ctx.tunnel, PT_TUN_VXLAN);
    assert_int_equal(d.v[1].ctx.tun_id, 42);
    assert_int_equal(d.v[1].tcp_flags, 0x02);
    check_all_prefixes(DLT_EN10MB, &f);
}

static void other_link_types(void **state)
{
    (void)state;
    struct fb ip = {.n = 0};
    fb_ipv4(&ip, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 17, 8, 9, 0);
    fb_udp(&ip, 7, 9, 0);
    struct {
        int dlt;
        uint8_t hdr[24];
        size_t hlen;
    } cases[] = {
        {DLT_LINUX_SLL, {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}, 16},
        {DLT_LINUX_SLL2, {0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, 20},
        {DLT_RAW, {0}, 0},
        {DLT_NULL, {2, 0, 0, 0}, 4},  /* AF_INET, little-endian host */
        {DLT_NULL, {0, 0, 0, 2}, 4},  /* AF_INET, big-endian host */
        {DLT_LOOP, {0, 0, 0, 2}, 4},
        {DLT_PPP, {0xff, 0x03, 0x00, 0x21}, 4},
        {DLT_PPP, {0x21}, 1},         /* compressed protocol field */
        {DLT_C_HDLC, {0x0f, 0x00, 0x08, 0x00}, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fb f = {.n = 0};
        fb_bytes(&f, cases[i].hdr, cases[i].hlen);
        fb_bytes(&f, ip.b, ip.n);
        struct sink s = {0};
        struct pt_decoded d = decode(cases[i].dlt, &f, &s);
        assert_int_equal(s.n, 0);
        assert_int_equal(d.n, 1);
        assert_int_equal(d.v[0].dport, 9);
        check_all_prefixes(cases[i].dlt, &f);
    }
}

static void malformed_headers_are_anomalies(void **state)
{
    (void)state;
    struct fb f = {.n = 0};
    fb_eth(&f, 0x0800);
    fb_ipv4(&f, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 6, 20, 1, 0);
    fb_tcp(&f, 1, 2, 3, 4, 0x10);
    f.b[14 + 20 + 12] = 2 << 4; /* data offset 2 words < 5 */
    struct sink s = {0};
    struct pt_decoded d = decode(DLT_EN10MB, &f, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.last, "tcp.bad_header_length");
    assert_int_equal(d.n, 1);
    assert_false(d.v[0].has_ports);

    f.b[14 + 20 + 12] = 5 << 4;
    f.b[14] = 0x43; /* IHL 3 */
    s.n = 0;
    d = decode(DLT_EN10MB, &f, &s);
    assert_string_equal(s.last, "ipv4.bad_ihl");
    assert_int_equal(d.n, 0);

    f.b[14] = 0x45;
    f.b[16] = 0xff; /* total length 65300+ beyond the frame, not a snaplen cut */
    s.n = 0;
    d = decode(DLT_EN10MB, &f, &s);
    assert_string_equal(s.last, "ipv4.total_length_exceeds_frame");
}

static void fragments_are_reassembled(void **state)
{
    (void)state;
    struct sink s = {0};
    struct pt_decoder *dec = pt_decoder_new(on_anomaly, &s);
    /* UDP datagram of 8 + 24 bytes in fragments of 16 and 16, sent last-first. */
    uint8_t l4[32];
    struct fb u = {.n = 0};
    fb_udp(&u, 1234, 53, 24);
    memcpy(l4, u.b, 8);
    for (int i = 0; i < 24; i++) {
        l4[8 + i] = (uint8_t)('a' + i);
    }
    struct fb f1 = {.n = 0}, f2 = {.n = 0};
    fb_eth(&f2, 0x0800);
    fb_ipv4(&f2, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 17, 16, 77, 2); /* offset 16, MF=0 */
    fb_bytes(&f2, l4 + 16, 16);
    fb_eth(&f1, 0x0800);
    fb_ipv4(&f1, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 17, 16, 77, 0x2000); /* MF, offset 0 */
    fb_bytes(&f1, l4, 16);
    struct pt_decoded d;
    struct pt_frame fr = {.item = 1, .num = 1, .wire_len = (uint32_t)f2.n,
                          .cap_len = (uint32_t)f2.n, .linktype = DLT_EN10MB, .data = f2.b};
    pt_decode_frame(dec, &fr, &d);
    assert_int_equal(d.n, 0);
    fr = (struct pt_frame){.item = 1, .num = 2, .wire_len = (uint32_t)f1.n,
                           .cap_len = (uint32_t)f1.n, .linktype = DLT_EN10MB, .data = f1.b};
    pt_decode_frame(dec, &fr, &d);
    assert_int_equal(d.n, 1);
    assert_true(d.v[0].reassembled);
    assert_int_equal(d.v[0].dport, 53);
    assert_int_equal(d.v[0].payload_len, 24);
    assert_memory_equal(d.v[0].payload, l4 + 8, 24);
    assert_int_equal(d.v[0].ip_len, 20 + 32);
    assert_int_equal(s.n, 0);
    struct pt_decode_stats st;
    pt_decoder_stats(dec, &st);
    assert_int_equal(st.frag_reassembled, 1);
    /* An orphan first fragment is reported when the input ends. */
    fr.num = 3;
    f1.b[14 + 5] = 78; /* new id */
    pt_decode_frame(dec, &fr, &d);
    assert_int_equal(d.n, 0);
    pt_decoder_flush(dec, 1);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.last, "ipv4.frag_incomplete");
    pt_decoder_free(dec);
}

static void overlapping_fragment_conflict(void **state)
{
    (void)state;
    struct sink s = {0};
    struct pt_decoder *dec = pt_decoder_new(on_anomaly, &s);
    struct fb a = {.n = 0}, b = {.n = 0}, c = {.n = 0};
    /* IPv4 proto 253 (experimental): bytes 0-15 "AAAA...", then 8-15 again as "BBBB", then
     * the last fragment 16-23. First data wins: the result keeps the As. */
    fb_eth(&a, 0x0800);
    fb_ipv4(&a, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 253, 16, 9, 0x2000);
    fb_bytes(&a, "AAAAAAAAAAAAAAAA", 16);
    fb_eth(&b, 0x0800);
    fb_ipv4(&b, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 253, 8, 9, 0x2000 | 1);
    fb_bytes(&b, "BBBBBBBB", 8);
    fb_eth(&c, 0x0800);
    fb_ipv4(&c, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 253, 8, 9, 2);
    fb_bytes(&c, "CCCCCCCC", 8);
    struct fb *all[] = {&a, &b, &c};
    struct pt_decoded d;
    for (int i = 0; i < 3; i++) {
        struct pt_frame fr = {.item = 1, .num = (uint64_t)i + 1, .wire_len = (uint32_t)all[i]->n,
                              .cap_len = (uint32_t)all[i]->n, .linktype = DLT_EN10MB,
                              .data = all[i]->b};
        pt_decode_frame(dec, &fr, &d);
    }
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].payload_len, 24);
    assert_memory_equal(d.v[0].payload, "AAAAAAAAAAAAAAAACCCCCCCC", 24);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.last, "ipv4.frag_overlap_conflict");
    pt_decoder_free(dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vlan_stack_and_tcp),
        cmocka_unit_test(ethernet_padding_is_trimmed),
        cmocka_unit_test(truncate_at_every_offset),
        cmocka_unit_test(gre_and_vxlan_tunnels),
        cmocka_unit_test(other_link_types),
        cmocka_unit_test(malformed_headers_are_anomalies),
        cmocka_unit_test(fragments_are_reassembled),
        cmocka_unit_test(overlapping_fragment_conflict),
    };
    return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
