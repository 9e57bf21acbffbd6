/*
 * addr.h - IPv4/IPv6 addresses and CIDR sets (the --home-net).
 *
 * IPv4 addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d) so that one
 * 16-byte comparison serves both families.
 */
#ifndef PT_ADDR_H
#define PT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct pt_addr {
    uint8_t b[16]; /* network order; IPv4 as ::ffff:a.b.c.d */
};

#define PT_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

void pt_addr_from_v4(struct pt_addr *a, const uint8_t v4[4]);
void pt_addr_from_v6(struct pt_addr *a, const uint8_t v6[16]);
bool pt_addr_is_v4(const struct pt_addr *a);
int pt_addr_cmp(const struct pt_addr *x, const struct pt_addr *y);
/* Dotted quad for IPv4, RFC 5952 text for IPv6. */
void pt_addr_str(const struct pt_addr *a, char out[PT_ADDR_STRLEN]);
bool pt_addr_parse(const char *text, struct pt_addr *out);

struct pt_cidr {
    struct pt_addr net;
    uint8_t bits; /* prefix length over the 128-bit (mapped) form */
};

struct pt_cidr_set {
    struct pt_cidr *v; /* owned */
    size_t n;
};

/* Parse "10.0.0.0/8,fc00::/7" (comma or space separated) into *set (owned by the caller:
 * release with pt_cidr_set_fini). PT_EUSAGE with `err` filled on a bad element. */
pt_status pt_cidr_set_parse(const char *text, struct pt_cidr_set *set, char *err, size_t errlen);
void pt_cidr_set_fini(struct pt_cidr_set *set);
bool pt_cidr_set_contains(const struct pt_cidr_set *set, const struct pt_addr *a);
/* Canonical text of the set, for the manifest. Returns bytes written (truncated at len). */
size_t pt_cidr_set_str(const struct pt_cidr_set *set, char *out, size_t len);

/* RFC 1918, RFC 6598 shared space 100.64/10, fc00::/7 unique local (DESIGN.md), plus the
 * ranges that cannot leave a network at all: loopback and link-local (RFC 1122, 3927, 4291),
 * so a capture taken on a host's loopback is not mistaken for traffic to the outside. */
#define PT_HOME_NET_DEFAULT                                                                        \
    "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,127.0.0.0/8,169.254.0.0/16,fc00::/7,"   \
    "fe80::/10,::1/128"

#endif
