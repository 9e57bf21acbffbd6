/* test_addr.c - addresses and --home-net CIDR sets. */
#include "cm.h"

#include <string.h>

#include "core/addr.h"

static void default_home_net(void **state)
{
    (void)state;
    struct pt_cidr_set s;
    char err[128];
    assert_int_equal(pt_cidr_set_parse(PT_HOME_NET_DEFAULT, &s, err, sizeof err), PT_OK);
    const char *in[] = {"10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1",
                        "100.127.255.254", "fd00::1", "fc00::5"};
    const char *out[] = {"172.32.0.1", "8.8.8.8", "100.128.0.1", "2001:db8::1", "11.0.0.1",
                         "::ffff:0.0.0.1"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        struct pt_addr a;
        assert_true(pt_addr_parse(in[i], &a));
        assert_true(pt_cidr_set_contains(&s, &a));
    }
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
        struct pt_addr a;
        assert_true(pt_addr_parse(out[i], &a));
        assert_false(pt_cidr_set_contains(&s, &a));
    }
    char text[256];
    pt_cidr_set_str(&s, text, sizeof text);
    assert_string_equal(text, PT_HOME_NET_DEFAULT);
    pt_cidr_set_fini(&s);
}

static void bad_networks_are_usage_errors(void **state)
{
    (void)state;
    struct pt_cidr_set s;
    char err[128];
    assert_int_equal(pt_cidr_set_parse("10.0.0.0/33", &s, err, sizeof err), PT_EUSAGE);
    assert_non_null(strstr(err, "too long"));
    assert_int_equal(pt_cidr_set_parse("banana", &s, err, sizeof err), PT_EUSAGE);
    assert_int_equal(pt_cidr_set_parse("10.0.0.0/x", &s, err, sizeof err), PT_EUSAGE);
    assert_int_equal(pt_cidr_set_parse(" , ", &s, err, sizeof err), PT_EUSAGE);
    /* host bits are masked; a bare address is a /32 */
    assert_int_equal(pt_cidr_set_parse("10.1.2.3/16 192.0.2.7", &s, err, sizeof err), PT_OK);
    char text[128];
    pt_cidr_set_str(&s, text, sizeof text);
    assert_string_equal(text, "10.1.0.0/16,192.0.2.7/32");
    pt_cidr_set_fini(&s);
}

static void text_forms(void **state)
{
    (void)state;
    struct pt_addr a;
    char t[PT_ADDR_STRLEN];
    assert_true(pt_addr_parse("2001:0db8:0:0:0:0:0:1", &a));
    pt_addr_str(&a, t);
    assert_string_equal(t, "2001:db8::1");
    assert_false(pt_addr_is_v4(&a));
    assert_true(pt_addr_parse("192.0.2.1", &a));
    pt_addr_str(&a, t);
    assert_string_equal(t, "192.0.2.1");
    assert_true(pt_addr_is_v4(&a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_home_net),
        cmocka_unit_test(bad_networks_are_usage_errors),
        cmocka_unit_test(text_forms),
    };
    return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
