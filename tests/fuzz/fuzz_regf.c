/*
 * fuzz_regf.c - libFuzzer target for the host inference of disk images (analyze/hostinfer.c,
 * regf.c): the input is read as a SYSTEM hive and as each Linux configuration file. Every
 * address found must be one a host can have, spelled as flows spell it; every name and
 * origin non-empty.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/hostinfer.h"
#include "core/addr.h"

static void check(void *arg, enum pt_hostinfer_kind kind, const char *value, const char *origin)
{
    (void)arg;
    if (value[0] == '\0' || origin[0] == '\0') {
        abort();
    }
    if (kind == PT_HOSTINFER_ADDR) {
        struct pt_addr a;
        char again[PT_ADDR_STRLEN];
        if (!pt_addr_parse(value, &a)) {
            abort();
        }
        pt_addr_str(&a, again);
        if (strcmp(again, value) != 0 || strcmp(value, "127.0.0.1") == 0 ||
            strcmp(value, "0.0.0.0") == 0 || strcmp(value, "::1") == 0) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {
        "Windows/System32/config/SYSTEM", "etc/hostname", "etc/hosts", "etc/network/interfaces",
        "etc/netplan/1.yaml", "etc/NetworkManager/system-connections/c",
        "etc/systemd/network/1.network", "var/lib/dhcp/dhclient.leases"};
    struct pt_hostinfer_names names = {.n = 1};
    snprintf(names.v[0], sizeof names.v[0], "ws11");
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        pt_hostinfer_file(paths[i], data, size, &names, check, NULL);
    }
    return 0;
}
