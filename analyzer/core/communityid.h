/*
 * communityid.h - Community ID flow hashing, version 1
 * (https://github.com/corelight/community-id-spec): the identifier Zeek, Suricata, Arkime,
 * Wireshark and Elastic give the same flow, so an exported flow joins their records by a
 * string comparison.
 *
 *   "1:" + base64(SHA-1(seed:be16 . saddr . daddr . proto:u8 . 0:u8 . sport:be16 . dport:be16))
 *
 * with the endpoints ordered so the smaller address (then port) comes first; ports only for
 * TCP, UDP, SCTP and the ICMPs (whose type and counterpart type, or code, stand for them).
 * Trust boundary: the inputs come from our own database; addresses that do not parse give no
 * identifier rather than a wrong one.
 */
#ifndef PT_COMMUNITYID_H
#define PT_COMMUNITYID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "1:" + 28 base64 characters + NUL */
#define PT_COMMUNITYID_LEN 31

/* The identifier of a flow from `saddr` (port `sport`) to `daddr` (port `dport`): addresses
 * as text, both IPv4 or both IPv6. For ICMP (proto 1) and ICMPv6 (58) the ports are the
 * message type and code, mapped as the spec says. Ports are -1 when unknown; they are
 * ignored for protocols without ports. False, `out` untouched, when no identifier can be
 * given: an address that does not parse, mixed families, a port out of range, or TCP, UDP,
 * SCTP or ICMP without its ports. */
bool pt_communityid(uint16_t seed, const char *saddr, const char *daddr, uint8_t proto,
                    int sport, int dport, char out[PT_COMMUNITYID_LEN]);

/* The port equivalents of an ICMP (proto 1) or ICMPv6 (58) message (Zeek's ICMP4_counterpart
 * and ICMP6_counterpart): a request or reply type pairs with its counterpart, bidirectional;
 * any other type is one-way, with its code. Returns true when one-way. */
bool pt_communityid_icmp_ports(uint8_t proto, uint8_t type, uint8_t code, uint16_t *sport,
                               uint16_t *dport);

/* The hash itself over addresses in network byte order (`alen` 4 or 16 bytes each) and ports
 * already mapped; `one_way` keeps the given order (one-way ICMP). */
void pt_communityid_tuple(uint16_t seed, const uint8_t *saddr, const uint8_t *daddr, size_t alen,
                          uint8_t proto, bool has_ports, uint16_t sport, uint16_t dport,
                          bool one_way, char out[PT_COMMUNITYID_LEN]);

#endif
