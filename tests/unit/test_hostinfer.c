/* test_hostinfer.c - an image's host from its files (analyze/hostinfer.c, regf.c): the SYSTEM
 * hive seed (tests/fuzz/corpus/regf/system.hive, written by tests/e2e/regfgen.py) read
 * exactly, then cut at every offset (each prefix a fresh heap copy: nothing read past it,
 * nothing found that the whole hive does not give), damaged cells, and each Linux
 * configuration format with look-alikes that give nothing. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/hostinfer.h"
#include "analyze/regf.h"

#define HIVE "Windows/System32/config/SYSTEM"
#define MAXF 32

struct got {
    char v[MAXF][300];
    size_t n;
};

static void collect(void *arg, enum pt_hostinfer_kind kind, const char *value,
                    const char *origin)
{
    struct got *g = arg;
    assert_true(value[0] != '\0' && origin[0] != '\0');
    if (g->n < MAXF) {
        snprintf(g->v[g->n++], sizeof g->v[0], "%s %s @ %s",
                 kind == PT_HOSTINFER_ADDR ? "addr" : "name", value, origin);
    }
}

static struct got infer(const char *path, const void *p, size_t n,
                        struct pt_hostinfer_names *names)
{
    struct got g = {.n = 0};
    struct pt_hostinfer_names local = {.n = 0};
    pt_hostinfer_file(path, p, n, names != NULL ? names : &local, collect, &g);
    return g;
}

static uint8_t *read_seed(size_t *n)
{
    FILE *f = fopen("tests/fuzz/corpus/regf/system.hive", "rb");
    assert_non_null(f);
    uint8_t *p = malloc(1 << 20);
    assert_non_null(p);
    *n = fread(p, 1, 1 << 20, f);
    fclose(f);
    return p;
}

#define CS "ControlSet002\\Services\\Tcpip\\Parameters"
#define IFS HIVE ": " CS "\\Interfaces\\"
static const char *const hive_want[] = {
    "name WS21 @ " HIVE ": ControlSet002\\Control\\ComputerName\\ComputerName\\ComputerName",
    "name ws21 @ " HIVE ": " CS "\\Hostname",
    "addr 10.30.0.21 @ " IFS "{AAAA-1}\\IPAddress",
    "addr 10.30.0.22 @ " IFS "{AAAA-1}\\IPAddress",
    "addr 10.30.0.23 @ " IFS "{BBBB-2}\\DhcpIPAddress",
    "addr 2001:db8:30::24 @ " IFS "{DDDD-4}\\IPAddress",
};

static void system_hive(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = read_seed(&n);
    struct pt_hostinfer_names names = {.n = 0};
    struct got g = infer(HIVE, p, n, &names);
    assert_int_equal(g.n, sizeof hive_want / sizeof hive_want[0]);
    for (size_t i = 0; i < g.n; i++) {
        assert_string_equal(g.v[i], hive_want[i]);
    }
    assert_int_equal(names.n, 1); /* WS21 and ws21 are one name */
    /* the path is matched without case, as Windows does */
    assert_int_equal(infer("WINDOWS/system32/CONFIG/system", p, n, NULL).n, g.n);
    /* the reader itself: the Select key's DWORD, a key that is not there */
    struct pt_regf h;
    assert_true(pt_regf_open(&h, p, n));
    uint32_t type, len;
    const uint8_t *d;
    uint32_t sel = pt_regf_key(&h, h.root, "select");
    assert_true(sel != 0 && pt_regf_value(&h, sel, "Current", &type, &d, &len));
    assert_true(type == PT_REGF_DWORD && len == 4 && d[0] == 2);
    assert_int_equal(pt_regf_key(&h, h.root, "ControlSet002\\Nope"), 0);
    assert_int_equal(pt_regf_key(&h, h.root, "ControlSet00"), 0);
    free(p);
}

static bool in_want(const char *s)
{
    for (size_t i = 0; i < sizeof hive_want / sizeof hive_want[0]; i++) {
        if (strcmp(s, hive_want[i]) == 0) {
            return true;
        }
    }
    return false;
}

static void hive_cut_at_every_offset(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = read_seed(&n);
    size_t whole = 0;
    for (size_t cut = 0; cut <= n; cut++) {
        uint8_t *q = malloc(cut ? cut : 1);
        assert_non_null(q);
        memcpy(q, p, cut);
        struct got g = infer(HIVE, q, cut, NULL);
        for (size_t i = 0; i < g.n; i++) {
            assert_true(in_want(g.v[i]));
        }
        whole += g.n == sizeof hive_want / sizeof hive_want[0];
        free(q);
    }
    assert_true(whole >= 1);
    free(p);
}

static void hive_damaged(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = read_seed(&n);
    /* every byte after the base block flipped in turn: never a read out of bounds, and every
     * address found still one a host can have */
    for (size_t i = 4096; i < n; i++) {
        p[i] ^= 0xff;
        struct got g = infer(HIVE, p, n, NULL);
        assert_true(g.n <= MAXF);
        p[i] ^= 0xff;
    }
    /* the root key's subkey list pointing at the root itself: no key, no loop */
    struct pt_regf h;
    assert_true(pt_regf_open(&h, p, n));
    uint32_t root = h.root;
    memcpy(p + 4096 + root + 4 + 0x1C, &root, 4);
    assert_int_equal(pt_regf_key(&h, h.root, "Select"), 0);
    /* a free cell (positive size) is not read */
    int32_t pos = 96;
    memcpy(p + 4096 + root, &pos, 4);
    assert_false(pt_regf_open(&h, p, n));
    memcpy(p, "regX", 4);
    assert_false(pt_regf_open(&h, p, n));
    free(p);
}

struct text_case {
    const char *path, *text, *want[6];
};

static const struct text_case cases[] = {
    {"etc/hostname", "ws11\nignored\n", {"name ws11 @ etc/hostname: line 1"}},
    {"etc/hosts",
     "127.0.0.1 localhost\n127.0.1.1 ws11\n10.20.0.11 ws11.clinic.example  # me\n"
     "10.20.0.99 fileserver\n#10.20.0.77 ws11\n10.20.0.78 x # ws11\n::1 ws11\n"
     "fe80::1 ws11\n2001:db8::11\tws11.clinic.example\n",
     {"addr 10.20.0.11 @ etc/hosts: line 3", "addr 2001:db8::11 @ etc/hosts: line 9"}},
    {"etc/network/interfaces",
     "iface eth0 inet static\n  address 10.20.0.12/24\n  gateway 10.20.0.1\n"
     "# address 10.20.0.79\niface lo inet loopback\n  address 127.0.0.1\n",
     {"addr 10.20.0.12 @ etc/network/interfaces: line 2"}},
    {"etc/network/interfaces.d/eth1", "address 10.20.0.16\n",
     {"addr 10.20.0.16 @ etc/network/interfaces.d/eth1: line 1"}},
    {"etc/netplan/50.yaml",
     "network:\n  ethernets:\n    e:\n      addresses:\n      - 10.20.0.13/24\n"
     "      nameservers:\n        addresses: [10.20.0.2]\n      routes:\n"
     "        - via: 10.20.0.1\n",
     {"addr 10.20.0.13 @ etc/netplan/50.yaml: line 5",
      "addr 10.20.0.2 @ etc/netplan/50.yaml: line 7"}},
    {"etc/NetworkManager/system-connections/w",
     "[ipv4]\naddresses1=10.20.0.17;24;10.20.0.1;\ngateway=10.20.0.1\n[ipv6]\n"
     "address1=2001:db8::17/64\n",
     {"addr 10.20.0.17 @ etc/NetworkManager/system-connections/w: line 2",
      "addr 2001:db8::17 @ etc/NetworkManager/system-connections/w: line 5"}},
    {"etc/systemd/network/10-e.network", "[Network]\nAddress=10.20.0.18/24\nDNS=10.20.0.2\n",
     {"addr 10.20.0.18 @ etc/systemd/network/10-e.network: line 2"}},
    {"var/lib/dhcp/dhclient.leases",
     "lease {\n  fixed-address 10.20.0.9;\n  option routers 10.20.0.1;\n}\n"
     "lease {\n  fixed-address 10.20.0.19;\n}\n",
     {"addr 10.20.0.9 @ var/lib/dhcp/dhclient.leases: line 2",
      "addr 10.20.0.19 @ var/lib/dhcp/dhclient.leases: line 6"}},
    {"var/lib/NetworkManager/internal-x-eth0.lease", "ADDRESS=10.20.0.20\nROUTER=10.20.0.1\n",
     {"addr 10.20.0.20 @ var/lib/NetworkManager/internal-x-eth0.lease: line 1"}},
};

static void linux_files(void **state)
{
    (void)state;
    struct pt_hostinfer_names names = {.n = 0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct text_case *c = &cases[i];
        assert_true(pt_hostinfer_wanted(c->path) != 0);
        struct got g = infer(c->path, c->text, strlen(c->text), &names);
        size_t want = 0;
        while (want < 6 && c->want[want] != NULL) {
            want++;
        }
        for (size_t k = 0; k < g.n && k < want; k++) {
            assert_string_equal(g.v[k], c->want[k]);
        }
        assert_int_equal(g.n, want);
    }
    /* without a known name, /etc/hosts says nothing */
    const char *hosts = "10.20.0.11 ws11\n";
    assert_int_equal(infer("etc/hosts", hosts, strlen(hosts), NULL).n, 0);
    /* a binary file of a configuration's name is not read */
    assert_int_equal(infer("etc/network/interfaces", "address 10.1.1.1\n\0", 18, NULL).n, 0);
}

/* The "kind value" head of a collected line ("addr 10.20.0.12 @ ..." -> "addr 10.20.0.12"). */
static size_t head_len(const char *line)
{
    const char *at = strstr(line, " @ ");
    return at != NULL ? (size_t)(at - line) : strlen(line);
}

/* Every file cut at every offset, each cut in a buffer of its own size (ASan sees a read past
 * it): what is found is a wanted value or the start of one (an address cut short). */
static void linux_files_cut_at_every_offset(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct text_case *c = &cases[i];
        size_t len = strlen(c->text);
        for (size_t k = 0; k <= len; k++) {
            char *cut = malloc(k > 0 ? k : 1);
            assert_non_null(cut);
            memcpy(cut, c->text, k);
            struct pt_hostinfer_names names = {.n = 1};
            snprintf(names.v[0], sizeof names.v[0], "ws11");
            struct got g = infer(c->path, cut, k, &names);
            for (size_t j = 0; j < g.n; j++) {
                size_t h = head_len(g.v[j]);
                bool ok = false;
                for (size_t w = 0; w < 6 && c->want[w] != NULL && !ok; w++) {
                    ok = h <= head_len(c->want[w]) && memcmp(g.v[j], c->want[w], h) == 0;
                }
                if (!ok) {
                    fail_msg("%s cut at %zu: %s", c->path, k, g.v[j]);
                }
            }
            free(cut);
        }
    }
}

static void which_files(void **state)
{
    (void)state;
    assert_int_equal(pt_hostinfer_wanted("Windows/System32/config/SYSTEM"), 1);
    assert_int_equal(pt_hostinfer_wanted("etc/hostname"), 1);
    assert_int_equal(pt_hostinfer_wanted("etc/hosts"), 2);
    assert_int_equal(pt_hostinfer_wanted("etc/netplan/01.yml"), 2);
    assert_int_equal(pt_hostinfer_wanted("var/lib/dhclient/dhclient-eth0.lease"), 2);
    assert_int_equal(pt_hostinfer_wanted("Windows/System32/config/SOFTWARE"), 0);
    assert_int_equal(pt_hostinfer_wanted("etc/netplan/sub/01.yaml"), 0);
    assert_int_equal(pt_hostinfer_wanted("etc/netplan/01.yaml.bak"), 0);
    assert_int_equal(pt_hostinfer_wanted("home/u/etc/hosts"), 0);
    assert_int_equal(pt_hostinfer_wanted("etc/motd"), 0);
    assert_int_equal(pt_hostinfer_wanted("var/lib/dhcp/"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(system_hive),  cmocka_unit_test(hive_cut_at_every_offset),
        cmocka_unit_test(hive_damaged), cmocka_unit_test(linux_files),
        cmocka_unit_test(linux_files_cut_at_every_offset),
        cmocka_unit_test(which_files),
    };
    return cmocka_run_group_tests_name("hostinfer", tests, NULL, NULL);
}
