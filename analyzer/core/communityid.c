/*
 * communityid.c - Community ID v1 (see communityid.h). SHA-1 and base64 from libcrypto.
 *
 * Byte layout of the hashed input (community-id-spec README, "Pseudo code"), 32-bit aligned:
 *
 *    0      2                2+n            2+2n  +1   +2      +4      +6
 *   +------+----------------+----------------+-----+---+-------+-------+
 *   | seed | src addr (n=4  | dst addr       |proto| 0 | sport | dport |
 *   | be16 |   or 16 bytes) |                | u8  |   | be16  | be16  |   (ports: TCP, UDP,
 *   +------+----------------+----------------+-----+---+-------+-------+    SCTP, ICMP, ICMPv6)
 */
#include "communityid.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <string.h>

enum { PROTO_ICMP = 1, PROTO_TCP = 6, PROTO_UDP = 17, PROTO_ICMP6 = 58, PROTO_SCTP = 132 };

bool pt_communityid_icmp_ports(uint8_t proto, uint8_t type, uint8_t code, uint16_t *sport,
                               uint16_t *dport)
{
    /* pairs of request and reply types: pycommunityid's icmp.py and icmp6.py, from Zeek */
    static const uint8_t v4[][2] = {{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18}};
    static const uint8_t v6[][2] = {{128, 129}, {130, 131}, {133, 134},
                                    {135, 136}, {139, 140}, {144, 145}};
    const uint8_t(*pairs)[2] = proto == PROTO_ICMP6 ? v6 : v4;
    size_t n = proto == PROTO_ICMP6 ? sizeof v6 / sizeof v6[0] : sizeof v4 / sizeof v4[0];
    *sport = type;
    for (size_t i = 0; i < n; i++) {
        if (pairs[i][0] == type || pairs[i][1] == type) {
            *dport = pairs[i][0] == type ? pairs[i][1] : pairs[i][0];
            return false;
        }
    }
    *dport = code;
    return true;
}

void pt_communityid_tuple(uint16_t seed, const uint8_t *saddr, const uint8_t *daddr, size_t alen,
                          uint8_t proto, bool has_ports, uint16_t sport, uint16_t dport,
                          bool one_way, char out[PT_COMMUNITYID_LEN])
{
    int c = memcmp(saddr, daddr, alen);
    if (!one_way && (c > 0 || (c == 0 && has_ports && sport > dport))) {
        const uint8_t *ta = saddr;
        saddr = daddr;
        daddr = ta;
        uint16_t tp = sport;
        sport = dport;
        dport = tp;
    }
    uint8_t buf[2 + 16 + 16 + 2 + 4];
    size_t n = 0;
    buf[n++] = (uint8_t)(seed >> 8);
    buf[n++] = (uint8_t)seed;
    memcpy(buf + n, saddr, alen);
    n += alen;
    memcpy(buf + n, daddr, alen);
    n += alen;
    buf[n++] = proto;
    buf[n++] = 0;
    if (has_ports) {
        buf[n++] = (uint8_t)(sport >> 8);
        buf[n++] = (uint8_t)sport;
        buf[n++] = (uint8_t)(dport >> 8);
        buf[n++] = (uint8_t)dport;
    }
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (EVP_Digest(buf, n, dig, &dlen, EVP_sha1(), NULL) != 1 || dlen != 20) {
        out[0] = '\0'; /* libcrypto without SHA-1: no identifier rather than a wrong one */
        return;
    }
    memcpy(out, "1:", 2);
    EVP_EncodeBlock((unsigned char *)out + 2, dig, 20); /* 28 characters and a NUL */
}

static bool in_range(int port, int max)
{
    return port >= 0 && port <= max;
}

bool pt_communityid(uint16_t seed, const char *saddr, const char *daddr, uint8_t proto,
                    int sport, int dport, char out[PT_COMMUNITYID_LEN])
{
    uint8_t sa[16], da[16];
    size_t alen;
    if (inet_pton(AF_INET, saddr, sa) == 1 && inet_pton(AF_INET, daddr, da) == 1) {
        alen = 4;
    } else if (inet_pton(AF_INET6, saddr, sa) == 1 && inet_pton(AF_INET6, daddr, da) == 1) {
        alen = 16;
    } else {
        return false;
    }
    bool icmp = proto == PROTO_ICMP || proto == PROTO_ICMP6;
    bool ported = icmp || proto == PROTO_TCP || proto == PROTO_UDP || proto == PROTO_SCTP;
    int max = icmp ? 255 : 65535;
    if (ported && (!in_range(sport, max) || !in_range(dport, max))) {
        return false;
    }
    uint16_t sp = ported ? (uint16_t)sport : 0, dp = ported ? (uint16_t)dport : 0;
    bool one_way = icmp && pt_communityid_icmp_ports(proto, (uint8_t)sport, (uint8_t)dport,
                                                     &sp, &dp);
    char tmp[PT_COMMUNITYID_LEN];
    pt_communityid_tuple(seed, sa, da, alen, proto, ported, sp, dp, one_way, tmp);
    if (tmp[0] == '\0') {
        return false;
    }
    memcpy(out, tmp, sizeof tmp);
    return true;
}
