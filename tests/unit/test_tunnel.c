/* test_tunnel.c - DNS tunnel names grouped and payloads decoded (analyze/tunnel.c): keys by
 * longest shared suffix, tags without a registered domain, base32 whole-stream decoding,
 * counters with a missing piece, dnscat2 with retransmissions and a hole; downstream data in
 * answers, iodine's NULL answers with fragments, a retransmission and a lost fragment. */
#include "cm.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "analyze/tunnel.h"

static void grouping(void **state)
{
    (void)state;
    struct pt_tun_name nm[] = {
        {.name = "mzxw6ytboi.t.Example.com"}, {.name = "nbswy3dpeb.t.example.com"},
        {.name = "krugkidrov.t.example.com"}, {.name = "www.example.com"},
        {.name = "mail.example.com"},         {.name = "dnscat.0a1b2c3d4e5f60718293a4b5"},
        {.name = "0a1b2c3d4e5f6071.8293a4b5c6d7e8f9"}, {.name = "example.com"},
        {.name = "www.bbc.co.uk"},            {.name = "news.bbc.co.uk"},
    };
    assert_int_equal(pt_tun_group(nm, 10), PT_OK);
    assert_string_equal(nm[0].key, "t.example.com");
    assert_int_equal(nm[0].data_len, strlen("mzxw6ytboi"));
    assert_string_equal(nm[2].key, "t.example.com");
    assert_string_equal(nm[3].key, "example.com"); /* a quarter of example.com's names */
    assert_string_equal(nm[4].key, "example.com");
    assert_string_equal(nm[5].key, "dnscat.*");
    assert_true(nm[5].tagged);
    assert_string_equal(nm[6].key, "*");
    assert_string_equal(nm[7].key, "example.com");
    assert_int_equal(nm[7].data_len, 0);
    assert_string_equal(nm[8].key, "bbc.co.uk"); /* a public second-level suffix */
    char data[64];
    assert_int_equal(pt_tun_data_part(&nm[5], data, sizeof data), 24);
    assert_string_equal(data, "0a1b2c3d4e5f60718293a4b5");
    assert_int_equal(pt_tun_data_part(&nm[0], data, sizeof data), 10);
    assert_string_equal(data, "mzxw6ytboi");
}

/* Two tunnels under one parent, one of 8 names beside one of 40: two groups, not the
 * parent (the smaller holds less than a quarter of the parent's names). */
static void sibling_tunnels(void **state)
{
    (void)state;
    struct pt_tun_name nm[48];
    char names[48][64];
    for (int i = 0; i < 48; i++) {
        snprintf(names[i], sizeof names[i], "%08x%04x.%s.tunnel.example", (unsigned)i * 2654435761u,
                 (unsigned)i, i < 8 ? "small" : "large");
        nm[i] = (struct pt_tun_name){.name = names[i]};
    }
    assert_int_equal(pt_tun_group(nm, 48), PT_OK);
    assert_string_equal(nm[0].key, "small.tunnel.example");
    assert_string_equal(nm[7].key, "small.tunnel.example");
    assert_string_equal(nm[8].key, "large.tunnel.example");
    assert_int_equal(nm[0].data_len, 12);
}

static void labels(void **state)
{
    (void)state;
    assert_true(pt_tun_label_encoded("0a1b2c3d", 8));
    assert_false(pt_tun_label_encoded("portal", 6));
    assert_true(pt_tun_label_encoded("abcdefghijklmnopq", 17));
    assert_int_equal(pt_tun_label_charset("0a1b", 4),
                     PT_TUN_CS_HEX | PT_TUN_CS_B64 | PT_TUN_CS_B64URL); /* no 0 or 1 in base32 */
    assert_int_equal(pt_tun_label_charset("mzxw6", 5),
                     PT_TUN_CS_B32 | PT_TUN_CS_B64 | PT_TUN_CS_B64URL);
    assert_int_equal(pt_tun_label_charset("a-b_C", 5), PT_TUN_CS_B64URL);
}

/* Decode and check the encoding found and the bytes; the caller frees p. */
static void decoded(const char *const *parts, size_t n, const char *tag, enum pt_tun_enc enc,
                    const char *want, struct pt_tun_payload *p)
{
    assert_int_equal(pt_tun_decode(parts, n, tag, p), PT_OK);
    assert_int_equal(p->enc, enc);
    assert_int_equal(p->len, strlen(want));
    assert_memory_equal(p->data, want, p->len);
}

static void base32_stream(void **state)
{
    (void)state;
    /* base32("hello world, this is a test") cut at arbitrary symbols across names */
    const char *parts[] = {"nbswy3dpeb3w", "64tmmqwca5dinf", "zsa2ltebqsa5dfon2a"};
    struct pt_tun_payload p;
    decoded(parts, 3, "t.example.com", PT_TUN_ENC_BASE32, "hello world, this is a test", &p);
    assert_int_equal(p.n_gaps, 0);
    pt_tun_payload_free(&p);
}

static void counters_and_gap(void **state)
{
    (void)state;
    /* hex pieces of 4 bytes numbered 0..3, 2 missing, 1 sent twice, out of order */
    const char *parts[] = {"0.41414141", "1.42424242", "1.42424242", "3.44444444"};
    struct pt_tun_payload p;
    decoded(parts, 4, "x.example.net", PT_TUN_ENC_HEX, "AAAABBBBDDDD", &p);
    assert_int_equal(p.dropped, 1);
    assert_int_equal(p.n_gaps, 1);
    assert_int_equal(p.gaps[0].at, 8);
    assert_int_equal(p.gaps[0].len, 4); /* the median piece */
    pt_tun_payload_free(&p);
}

/* One dnscat2 packet as hex: packet_id, type, session, then seq/ack and data for MSG. */
static void dc2(char *out, size_t len, unsigned pid, unsigned type, unsigned seq,
                const char *data)
{
    size_t w = (size_t)snprintf(out, len, "%04x%02x%04x", pid, type, 0x1234u);
    if (type == 0) {
        w += (size_t)snprintf(out + w, len - w, "%04x0000", seq);
    } else {
        w += (size_t)snprintf(out + w, len - w, "%04x0000", seq);
        for (const char *d = data; *d != '\0' && w + 3 < len; d++) {
            w += (size_t)snprintf(out + w, len - w, "%02x", (unsigned char)*d);
        }
    }
}

static void dnscat2_framing(void **state)
{
    (void)state;
    char a[5][128];
    dc2(a[0], sizeof a[0], 1, 0, 0xfffe, "");
    dc2(a[1], sizeof a[1], 2, 1, 0xfffe, "abcd");  /* seq wraps past 0xffff */
    dc2(a[2], sizeof a[2], 3, 1, 0xfffe, "abcd");  /* retransmitted */
    dc2(a[3], sizeof a[3], 4, 1, 0x0006, "ghij");  /* 0x0002..0x0005 lost */
    dc2(a[4], sizeof a[4], 5, 2, 0x000a, "");      /* FIN */
    /* split into labels as a client would */
    char l1[140];
    snprintf(l1, sizeof l1, "%.10s.%.117s", a[1], a[1] + 10);
    const char *parts[] = {a[0], l1, a[2], a[3], a[4]};
    struct pt_tun_payload p;
    decoded(parts, 5, "dnscat.*", PT_TUN_ENC_DNSCAT2, "abcdghij", &p);
    assert_int_equal(p.dropped, 1);
    assert_int_equal(p.n_gaps, 1);
    assert_int_equal(p.gaps[0].at, 4);
    assert_int_equal(p.gaps[0].len, 4);
    pt_tun_payload_free(&p);
}

static void dnscat2_first_msg_lost(void **state)
{
    (void)state;
    char a[3][128];
    dc2(a[0], sizeof a[0], 1, 0, 0x0010, "");      /* SYN: data starts at 0x0010 */
    dc2(a[1], sizeof a[1], 3, 1, 0x0013, "defg");  /* 0x0010..0x0012 lost */
    dc2(a[2], sizeof a[2], 4, 1, 0x0017, "hi");
    const char *parts[] = {a[0], a[1], a[2]};
    struct pt_tun_payload p;
    decoded(parts, 3, "c2.example.net", PT_TUN_ENC_DNSCAT2, "defghi", &p);
    assert_int_equal(p.n_gaps, 1);
    assert_int_equal(p.gaps[0].at, 0);
    assert_int_equal(p.gaps[0].len, 3);
    pt_tun_payload_free(&p);
}

/* Downstream: what answers carry, as data parts; then a dnscat2 server's MSG packets in TXT
 * answers, and base32 in CNAME and MX targets, decoded like queries. */
static void answer_parts(void **state)
{
    (void)state;
    static const struct {
        unsigned type;
        bool decoded;
        const char *data, *key, *want;
    } cases[] = {
        /* TXT: the strings joined without quotes, dns.c's \DDD escapes kept for the decoder */
        {16, true, "\"00ab\" \"cd\\034e\"", "t.example", "00abcd\\034e"},
        /* CNAME and MX targets: the labels below the tunnel domain (any case), root dot
         * ignored */
        {5, true, "nbswy.3dp.T.Example.", "t.example", "nbswy.3dp"},
        {15, true, "10 eb3w.t.example", "t.example", "eb3w"},
        /* a tag key: the encoded-looking labels */
        {5, true, "dnscat.0a1b2c3d4e5f6071", "dnscat.*", "0a1b2c3d4e5f6071"},
        /* a target elsewhere, NULL records (hex RDATA), A records: nothing */
        {5, true, "www.other.example", "t.example", ""},
        {10, false, "00ff10", "t.example", ""},
        {1, true, "192.0.2.1", "t.example", ""},
    };
    char out[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(pt_tun_answer_part(cases[i].type, cases[i].decoded, cases[i].data,
                                            cases[i].key, out, sizeof out),
                         strlen(cases[i].want));
        assert_string_equal(out, cases[i].want);
    }
    /* a buffer too small: cut, still terminated */
    assert_int_equal(pt_tun_answer_part(16, true, "\"abcdef\"", "t.example", out, 4), 3);
    assert_string_equal(out, "abc");
}

static void downstream_decoded(void **state)
{
    (void)state;
    char a[4][128], t[4][140], o[4][160];
    dc2(a[0], sizeof a[0], 7, 0, 0x1000, "");          /* the server's SYN */
    dc2(a[1], sizeof a[1], 8, 1, 0x1000, "whoami\n");
    dc2(a[2], sizeof a[2], 9, 1, 0x1007, "upload ");
    dc2(a[3], sizeof a[3], 10, 1, 0x100e, "/etc/x\n");
    const char *parts[4];
    for (int i = 0; i < 4; i++) {
        snprintf(t[i], sizeof t[i], "\"%s\"", a[i]);
        assert_true(pt_tun_answer_part(16, true, t[i], "dc.example", o[i], sizeof o[i]) > 0);
        parts[i] = o[i];
    }
    struct pt_tun_payload p;
    decoded(parts, 4, "dc.example", PT_TUN_ENC_DNSCAT2, "whoami\nupload /etc/x\n", &p);
    pt_tun_payload_free(&p);
    /* base32("hello world, this is a test") in CNAME and MX targets */
    const char *ans[][2] = {{"5", "nbswy3dpeb3w.t.example.com"},
                            {"15", "10 64tmmqwca5dinf.t.example.com"},
                            {"5", "zsa2lteb.qsa5dfon2a.t.example.com"}};
    char b[3][64];
    for (int i = 0; i < 3; i++) {
        assert_true(pt_tun_answer_part(ans[i][0][0] == '5' ? 5 : 15, true, ans[i][1],
                                       "t.example.com", b[i], sizeof b[i]) > 0);
        parts[i] = b[i];
    }
    decoded(parts, 3, "t.example.com", PT_TUN_ENC_BASE32, "hello world, this is a test", &p);
    pt_tun_payload_free(&p);
}

/* One iodine downstream answer: header |C|SSS|FFFF| |DDD|GGGG|L| and the fragment. */
static size_t iod(uint8_t *out, unsigned seq, unsigned frag, bool last, const void *d, size_t n)
{
    out[0] = 0x80;
    out[1] = (uint8_t)(seq << 5 | frag << 1 | (last ? 1 : 0));
    memcpy(out + 2, d, n);
    return n + 2;
}

static void iodine_downstream(void **state)
{
    (void)state;
    const char *p1 = "first packet, whole in two fragments";
    uint8_t z[128];
    uLongf zn = sizeof z;
    assert_int_equal(compress(z, &zn, (const uint8_t *)p1, strlen(p1)), Z_OK);
    uint8_t a[6][160];
    size_t len[6];
    len[0] = iod(a[0], 3, 0, false, z, 10);
    len[1] = iod(a[1], 3, 0, false, z, 10);                    /* sent again */
    len[2] = iod(a[2], 3, 1, true, z + 10, zn - 10);
    len[3] = iod(a[3], 4, 0, false, "lost-tail", 9);           /* fragment 1 never came */
    len[4] = 2;                                                /* a bare header: nothing */
    memcpy(a[4], "\x80\xa0", 2);
    len[5] = iod(a[5], 5, 0, true, "raw packet, not compressed", 26);
    const uint8_t *rd[6] = {a[0], a[1], a[2], a[3], a[4], a[5]};
    struct pt_tun_payload p;
    assert_int_equal(pt_tun_iodine_down(rd, len, 6, &p), PT_OK);
    assert_int_equal(p.enc, PT_TUN_ENC_IODINE);
    assert_int_equal(p.dropped, 1);
    assert_int_equal(p.n_gaps, 1);
    assert_int_equal(p.gaps[0].at, strlen(p1));
    assert_int_equal(p.gaps[0].len, 9);
    const char *want = "first packet, whole in two fragmentsraw packet, not compressed";
    assert_int_equal(p.len, strlen(want));
    assert_memory_equal(p.data, want, p.len);
    pt_tun_payload_free(&p);
}

static void nothing_fits(void **state)
{
    (void)state;
    const char *parts[] = {"www", "has space\\032here", "x!y"};
    struct pt_tun_payload p;
    decoded(parts, 3, "example.com", PT_TUN_ENC_NONE, "", &p);
    pt_tun_payload_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grouping),        cmocka_unit_test(labels),
        cmocka_unit_test(sibling_tunnels),
        cmocka_unit_test(base32_stream),   cmocka_unit_test(counters_and_gap),
        cmocka_unit_test(dnscat2_framing), cmocka_unit_test(dnscat2_first_msg_lost),
        cmocka_unit_test(nothing_fits),    cmocka_unit_test(answer_parts),
        cmocka_unit_test(downstream_decoded), cmocka_unit_test(iodine_downstream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
