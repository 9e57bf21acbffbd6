/* frames.h - builders for test frames; each byte is commented where it is written. */
#ifndef PT_TEST_FRAMES_H
#define PT_TEST_FRAMES_H

#include <stdint.h>
#include <string.h>

struct fb {
    uint8_t b[4096];
    size_t n;
};

static inline void fb_u8(struct fb *f, uint8_t v)
{
    f->b[f->n++] = v;
}
static inline void fb_be16(struct fb *f, uint16_t v)
{
    fb_u8(f, (uint8_t)(v >> 8));
    fb_u8(f, (uint8_t)v);
}
static inline void fb_be32(struct fb *f, uint32_t v)
{
    fb_be16(f, (uint16_t)(v >> 16));
    fb_be16(f, (uint16_t)v);
}
static inline void fb_bytes(struct fb *f, const void *p, size_t n)
{
    memcpy(f->b + f->n, p, n);
    f->n += n;
}
/* Ethernet II: dst 02:..:02, src 02:..:01, type */
static inline void fb_eth(struct fb *f, uint16_t type)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
    fb_bytes(f, macs, 12);
    fb_be16(f, type);
}
/* IPv4 header, no options; total = 20 + payload; flags/fragment as given. */
static inline void fb_ipv4(struct fb *f, uint32_t src, uint32_t dst, uint8_t proto,
                           uint16_t payload, uint16_t id, uint16_t frag)
{
    fb_u8(f, 0x45);              /* version 4, IHL 5 */
    fb_u8(f, 0);                 /* TOS */
    fb_be16(f, (uint16_t)(20 + payload));
    fb_be16(f, id);
    fb_be16(f, frag);            /* flags(3) offset(13) */
    fb_u8(f, 64);                /* TTL */
    fb_u8(f, proto);
    fb_be16(f, 0);               /* checksum (not verified) */
    fb_be32(f, src);
    fb_be32(f, dst);
}
/* IPv6 header: payload length, next header, src ::1:s, dst ::1:d */
static inline void fb_ipv6(struct fb *f, uint16_t plen, uint8_t nh, uint8_t s, uint8_t d)
{
    fb_be32(f, 0x60000000);
    fb_be16(f, plen);
    fb_u8(f, nh);
    fb_u8(f, 64);
    uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
    a[15] = s;
    fb_bytes(f, a, 16);
    a[15] = d;
    fb_bytes(f, a, 16);
}
/* TCP header without options */
static inline void fb_tcp(struct fb *f, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack,
                          uint8_t flags)
{
    fb_be16(f, sp);
    fb_be16(f, dp);
    fb_be32(f, seq);
    fb_be32(f, ack);
    fb_u8(f, 5 << 4);            /* data offset 5 words */
    fb_u8(f, flags);
    fb_be16(f, 65535);           /* window */
    fb_be16(f, 0);               /* checksum */
    fb_be16(f, 0);               /* urgent */
}
static inline void fb_udp(struct fb *f, uint16_t sp, uint16_t dp, uint16_t payload)
{
    fb_be16(f, sp);
    fb_be16(f, dp);
    fb_be16(f, (uint16_t)(8 + payload));
    fb_be16(f, 0);
}
#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

#endif
