/* test_communityid.c - Community ID v1 (core/communityid.h) against the published test vectors
 * of the specification, https://github.com/corelight/community-id-spec:
 * baseline/README.md (the tables "Default settings" and "A custom seed=1 value", which give
 * ICMP types and codes) and baseline/baseline_deflt.json (flows of pcaps/combined.pcap.gz,
 * ICMP given as the port equivalents pycommunityid's community-id-pcap reports, which are
 * the type and its counterpart or code, so they go in as type and code too).
 * Each expected value is copied from those files, not produced by this implementation. */
#include "cm.h"

#include <stdbool.h>
#include <string.h>

#include "core/communityid.h"

struct vec {
    unsigned seed;
    unsigned proto;
    const char *saddr, *daddr;
    int sport, dport; /* -1: a protocol without ports; ICMP: type and code */
    const char *want;
};

#define V6A "fe80:0001:0203:0405:0607:0809:0A0B:0C0D"
#define V6B "fe80:1011:1213:1415:1617:1819:1A1B:1C1D"

/* baseline/README.md, "Default settings" */
static const struct vec readme_default[] = {
    {0, 6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
    {0, 6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
    {0, 17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
    {0, 17, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
    {0, 132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8="},
    {0, 132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8="},
    {0, 1, "1.2.3.4", "5.6.7.8", 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
    {0, 1, "5.6.7.8", "1.2.3.4", 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
    {0, 1, "1.2.3.4", "5.6.7.8", 11, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk="},
    {0, 58, V6A, V6B, 128, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="},
    {0, 58, V6B, V6A, 129, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="},
    {0, 58, V6A, V6B, 146, 0, "1:fYC8+pz24E+EhANP1EZhpX0Dw10="},
    {0, 46, "1.2.3.4", "5.6.7.8", -1, -1, "1:ikv3kmf89luf73WPz1jOs49S768="},
    {0, 46, "5.6.7.8", "1.2.3.4", -1, -1, "1:ikv3kmf89luf73WPz1jOs49S768="},
    {0, 46, V6A, V6B, -1, -1, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0="},
    {0, 46, V6B, V6A, -1, -1, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0="},
};

/* baseline/README.md, "A custom seed=1 value" */
static const struct vec readme_seed1[] = {
    {1, 6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
    {1, 6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
    {1, 17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
    {1, 132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:uitchpn5MMGAQKBJh7bIr/bAr7s="},
    {1, 1, "1.2.3.4", "5.6.7.8", 8, 0, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {1, 1, "5.6.7.8", "1.2.3.4", 0, 0, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {1, 1, "1.2.3.4", "5.6.7.8", 11, 0, "1:1DD7cWGC/Yg91YGsQeni8du3pIA="},
    {1, 58, V6A, V6B, 128, 0, "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {1, 58, V6B, V6A, 129, 0, "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {1, 58, V6A, V6B, 146, 0, "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s="},
    {1, 46, "1.2.3.4", "5.6.7.8", -1, -1, "1:/buhqeOmaRCopOZFy9HnoJd5XW8="},
    {1, 46, V6B, V6A, -1, -1, "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="},
};

/* baseline/baseline_deflt.json (flows of pcaps/combined.pcap.gz) */
static const struct vec baseline_json[] = {
    {0, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136,
     "1:zavyT/cezQr1fmImYCwYnMXbgck="},
    {0, 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
     "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="},
    {0, 58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4,
     "1:hLZd0XGWojozrvxqE0dWB1iM6R0="},
    {0, 58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
    {0, 58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
    {0, 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="},
    {0, 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, "1:pkvHqCL88/tg1k4cPigmZXUtL00="},
    {0, 1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {0, 1, "192.168.0.1", "192.168.0.89", 0, 8, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {0, 1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM="},
    {0, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {0, 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {0, 132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {0, 132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {0, 6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {0, 6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {0, 17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {0, 17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {0, 46, "10.1.12.1", "10.1.12.2", -1, -1, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
    {0, 46, "10.1.12.2", "10.1.12.1", -1, -1, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
};

static void check(const struct vec *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char got[PT_COMMUNITYID_LEN];
        memset(got, 'x', sizeof got);
        bool ok = pt_communityid((uint16_t)v[i].seed, v[i].saddr, v[i].daddr,
                                 (uint8_t)v[i].proto, v[i].sport, v[i].dport, got);
        if (!ok || strcmp(got, v[i].want) != 0) {
            print_error("vector %zu: proto %u %s %d -> %s %d seed %u: got %s, want %s\n", i,
                        v[i].proto, v[i].saddr, v[i].sport, v[i].daddr, v[i].dport, v[i].seed,
                        ok ? got : "(none)", v[i].want);
            fail();
        }
        assert_int_equal(strlen(got), PT_COMMUNITYID_LEN - 1);
    }
}

static void spec_table_default_seed(void **state)
{
    (void)state;
    check(readme_default, sizeof readme_default / sizeof readme_default[0]);
}

static void spec_table_seed_1(void **state)
{
    (void)state;
    check(readme_seed1, sizeof readme_seed1 / sizeof readme_seed1[0]);
}

static void spec_baseline_json(void **state)
{
    (void)state;
    check(baseline_json, sizeof baseline_json / sizeof baseline_json[0]);
}

/* The port equivalents (Zeek's ICMP4_counterpart and ICMP6_counterpart): request and reply
 * types pair up and the pair orders like ports; any other type is one-way with its code. */
static void icmp_port_equivalents(void **state)
{
    (void)state;
    static const struct {
        unsigned proto, type, code, sp, dp;
        bool one_way;
    } t[] = {
        {1, 8, 0, 8, 0, false},     {1, 0, 0, 0, 8, false},     {1, 13, 0, 13, 14, false},
        {1, 14, 0, 14, 13, false},  {1, 15, 0, 15, 16, false},  {1, 16, 0, 16, 15, false},
        {1, 10, 0, 10, 9, false},   {1, 9, 0, 9, 10, false},    {1, 17, 0, 17, 18, false},
        {1, 18, 0, 18, 17, false},  {1, 3, 3, 3, 3, true},      {1, 11, 1, 11, 1, true},
        {58, 128, 0, 128, 129, false}, {58, 129, 0, 129, 128, false},
        {58, 130, 0, 130, 131, false}, {58, 131, 0, 131, 130, false},
        {58, 133, 0, 133, 134, false}, {58, 134, 0, 134, 133, false},
        {58, 135, 0, 135, 136, false}, {58, 136, 0, 136, 135, false},
        {58, 139, 0, 139, 140, false}, {58, 140, 0, 140, 139, false},
        {58, 144, 0, 144, 145, false}, {58, 145, 0, 145, 144, false},
        {58, 1, 4, 1, 4, true},     {58, 146, 0, 146, 0, true},  {58, 8, 0, 8, 0, true},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint16_t sp = 0xffff, dp = 0xffff;
        bool one_way = pt_communityid_icmp_ports((uint8_t)t[i].proto, (uint8_t)t[i].type,
                                                 (uint8_t)t[i].code, &sp, &dp);
        assert_int_equal(sp, t[i].sp);
        assert_int_equal(dp, t[i].dp);
        assert_int_equal(one_way, t[i].one_way);
    }
}

/* What has no Community ID: addresses that do not parse or mix families, ports out of range,
 * TCP, UDP or SCTP without their ports, ICMP types past 255. */
static void refused_inputs(void **state)
{
    (void)state;
    char out[PT_COMMUNITYID_LEN] = "unchanged";
    assert_false(pt_communityid(0, "1.2.3", "5.6.7.8", 6, 1, 2, out));
    assert_false(pt_communityid(0, "1.2.3.4", "::1", 6, 1, 2, out));
    assert_false(pt_communityid(0, "", "5.6.7.8", 46, -1, -1, out));
    assert_false(pt_communityid(0, "1.2.3.4", "5.6.7.8", 6, -1, 80, out));
    assert_false(pt_communityid(0, "1.2.3.4", "5.6.7.8", 17, 70000, 80, out));
    assert_false(pt_communityid(0, "1.2.3.4", "5.6.7.8", 132, 1, -1, out));
    assert_false(pt_communityid(0, "1.2.3.4", "5.6.7.8", 1, 256, 0, out));
    assert_false(pt_communityid(0, "1.2.3.4", "5.6.7.8", 1, -1, -1, out));
    assert_string_equal(out, "unchanged");
    /* a port-less protocol ignores ports it is given */
    assert_true(pt_communityid(0, "1.2.3.4", "5.6.7.8", 46, 5, 6, out));
    assert_string_equal(out, "1:ikv3kmf89luf73WPz1jOs49S768=");
}

/* The hash input is laid out as the spec says: seed, addresses, proto, a zero byte, ports,
 * ordered so the smaller address (then port) comes first; equal addresses order by port. */
static void ordering_by_port_when_addresses_are_equal(void **state)
{
    (void)state;
    char a[PT_COMMUNITYID_LEN], b[PT_COMMUNITYID_LEN], c[PT_COMMUNITYID_LEN];
    assert_true(pt_communityid(0, "10.0.0.1", "10.0.0.1", 6, 5000, 80, a));
    assert_true(pt_communityid(0, "10.0.0.1", "10.0.0.1", 6, 80, 5000, b));
    assert_string_equal(a, b);
    assert_true(pt_communityid(0, "10.0.0.1", "10.0.0.1", 17, 80, 5000, c));
    assert_string_not_equal(a, c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_table_default_seed),
        cmocka_unit_test(spec_table_seed_1),
        cmocka_unit_test(spec_baseline_json),
        cmocka_unit_test(icmp_port_equivalents),
        cmocka_unit_test(refused_inputs),
        cmocka_unit_test(ordering_by_port_when_addresses_are_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
