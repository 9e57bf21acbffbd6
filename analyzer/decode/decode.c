/*
 * decode.c - link, network and transport decoding (see decode.h).
 *
 * Dispatch is table-driven: linktypes.def maps a link type to a decoder,
 * ethertypes.def an EtherType, ipprotos.def an IP protocol. Adding a protocol is one decoder function and
 * one line in a .def list.
 *
 * Specifications: IEEE 802.3 and 802.1Q; RFC 3032 (MPLS); RFC 2516 (PPPoE);
 * RFC 1661 (PPP); RFC 791 (IPv4); RFC 8200 (IPv6); RFC 2784/2890/2637 (GRE);
 * RFC 7348 (VXLAN); RFC 4380 (Teredo); RFC 9293 (TCP); RFC 768 (UDP);
 * RFC 792/4443 (ICMP). Link-layer headers: tcpdump.org/linktypes.html.
 */
#include "decode.h"

#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cursor.h"
#include "defrag.h"

struct pt_decoder {
    pt_anomaly_fn sink;
    void *arg;
    struct pt_defrag *defrag;
    struct pt_decode_stats stats;
};

/* Per-frame decoding state. */
struct dstate {
    struct pt_decoder *d;
    const struct pt_frame *f;
    struct pt_decoded *out;
    struct pt_ctx ctx;      /* context for the next IP layer */
    const uint8_t *origin;  /* base for anomaly offsets: frame bytes or a reassembled buffer */
    size_t origin_len;
};

/* ---- anomalies ---------------------------------------------------------------------------- */

static uint64_t cur_offset(const struct dstate *s, const struct pt_cur *c)
{
    /* Offsets are for the report only; compare addresses as integers, never dereference. */
    uintptr_t p = (uintptr_t)c->base + c->off;
    uintptr_t o = (uintptr_t)s->origin;
    if (c->base == NULL || p < o || p - o > s->origin_len) {
        return 0;
    }
    return (uint64_t)(p - o);
}

static void anomaly(struct dstate *s, const struct pt_cur *c, enum pt_anom kind, const char *detail)
{
    s->d->sink(s->d->arg, s->f, cur_offset(s, c), kind, detail);
}

/* Truncation is an anomaly only when the capture did not announce it (caplen < wire length):
 * a snaplen cut is a property of the capture, recorded per item, not a malformation. */
static void truncated(struct dstate *s, const struct pt_cur *c, enum pt_anom kind)
{
    if (s->f->cap_len < s->f->wire_len && s->origin == s->f->data) {
        return;
    }
    anomaly(s, c, kind, "header extends past the end of the frame");
}

/* ---- decoder prototypes from the .def lists ----------------------------------------------- */

typedef void (*l2_fn)(struct dstate *s, struct pt_cur *c);
typedef void (*l4_fn)(struct dstate *s, struct pt_cur *c, struct pt_view *v);

#define PT_ETHERTYPE(type, name) static void decode_##name(struct dstate *s, struct pt_cur *c);
#include "ethertypes.def"
#undef PT_ETHERTYPE
#define PT_IPPROTO(num, name)                                                                      \
    static void decode_##name(struct dstate *s, struct pt_cur *c, struct pt_view *v);
#include "ipprotos.def"
#undef PT_IPPROTO

static void dispatch_ethertype(struct dstate *s, uint16_t type, struct pt_cur *c)
{
    switch (type) {
#define PT_ETHERTYPE(t, name)                                                                      \
    case t: decode_##name(s, c); return;
#include "ethertypes.def"
#undef PT_ETHERTYPE
        default: s->out->non_ip = true; return;
    }
}

static void dispatch_ipproto(struct dstate *s, uint8_t proto, struct pt_cur *c, struct pt_view *v)
{
    switch (proto) {
#define PT_IPPROTO(num, name)                                                                      \
    case num: decode_##name(s, c, v); return;
#include "ipprotos.def"
#undef PT_IPPROTO
        default: return; /* an IP-level view without transport details (ESP, OSPF, ...) */
    }
}

/* ---- link layers ------------------------------------------------------------------------ */

/*
 * Ethernet II / 802.3:  dst(6) src(6) type-or-length(2).
 * A value below 1536 is an 802.3 length followed by LLC: not IP for our purposes.
 */
static void decode_ether(struct dstate *s, struct pt_cur *c)
{
    if (!pt_cur_skip(c, 12)) {
        truncated(s, c, PT_ANOM_ETH_TRUNCATED);
        return;
    }
    uint16_t type = pt_cur_be16(c);
    if (!pt_cur_ok(c)) {
        truncated(s, c, PT_ANOM_ETH_TRUNCATED);
        return;
    }
    if (type < 1536) {
        s->out->non_ip = true;
        return;
    }
    dispatch_ethertype(s, type, c);
}

/* 802.1Q tag: TCI(2: PCP 3, DEI 1, VID 12) type(2). Walked iteratively up to PT_MAX_VLAN. */
static void decode_vlan(struct dstate *s, struct pt_cur *c)
{
    uint16_t type;
    do {
        uint16_t tci = pt_cur_be16(c);
        type = pt_cur_be16(c);
        if (!pt_cur_ok(c)) {
            truncated(s, c, PT_ANOM_VLAN_TRUNCATED);
            return;
        }
        if (s->ctx.n_vlan < 2) {
            s->ctx.vlan[s->ctx.n_vlan] = tci & 0x0fff;
        }
        if (++s->ctx.n_vlan > PT_MAX_VLAN) {
            anomaly(s, c, PT_ANOM_LIMIT_VLAN_DEPTH, "more VLAN tags than PT_MAX_VLAN");
            return;
        }
    } while (type == 0x8100 || type == 0x88a8 || type == 0x9100);
    dispatch_ethertype(s, type, c);
}

/* MPLS label stack entry: label(20) TC(3) S(1) TTL(8); the payload type is not signalled,
 * so it is guessed from the first nibble after the bottom of stack (what tshark does). */
static void decode_mpls(struct dstate *s, struct pt_cur *c)
{
    for (unsigned i = 0;; i++) {
        if (i >= PT_MAX_MPLS) {
            anomaly(s, c, PT_ANOM_LIMIT_MPLS_DEPTH, "more MPLS labels than PT_MAX_MPLS");
            return;
        }
        uint32_t e = pt_cur_be32(c);
        if (!pt_cur_ok(c)) {
            truncated(s, c, PT_ANOM_MPLS_TRUNCATED);
            return;
        }
        if (e & 0x100) {
            break;
        }
    }
    uint8_t first = pt_cur_peek_u8(c, 0);
    if (!pt_cur_has(c, 1)) {
        truncated(s, c, PT_ANOM_MPLS_TRUNCATED);
    } else if ((first >> 4) == 4) {
        decode_ipv4(s, c);
    } else if ((first >> 4) == 6) {
        decode_ipv6(s, c);
    } else if (first == 0) {
        /* RFC 4385 pseudowire control word, then Ethernet. */
        pt_cur_skip(c, 4);
        decode_ether(s, c);
    } else {
        anomaly(s, c, PT_ANOM_MPLS_UNKNOWN_PAYLOAD, "payload after the label stack is not IP");
    }
}

/* PPP protocol field (RFC 1661 §2), possibly compressed to one byte (odd first byte). */
static void decode_ppp_proto(struct dstate *s, struct pt_cur *c)
{
    uint16_t proto = pt_cur_u8(c);
    if (pt_cur_ok(c) && (proto & 1) == 0) {
        proto = (uint16_t)((proto << 8) | pt_cur_u8(c));
    }
    if (!pt_cur_ok(c)) {
        truncated(s, c, PT_ANOM_PPP_TRUNCATED);
        return;
    }
    if (proto == 0x0021) {
        decode_ipv4(s, c);
    } else if (proto == 0x0057) {
        decode_ipv6(s, c);
    } else {
        s->out->non_ip = true; /* LCP, IPCP, CHAP, ... */
    }
}

/* PPP in HDLC-like framing (RFC 1662): optional address 0xff and control 0x03. */
static void decode_ppp(struct dstate *s, struct pt_cur *c)
{
    if (pt_cur_peek_u8(c, 0) == 0xff && pt_cur_peek_u8(c, 1) == 0x03) {
        pt_cur_skip(c, 2);
    }
    decode_ppp_proto(s, c);
}

/* PPPoE session (RFC 2516 §4): ver/type(1) code(1) session(2) length(2), then PPP protocol. */
static void decode_pppoe_sess(struct dstate *s, struct pt_cur *c)
{
    if (!pt_cur_skip(c, 6)) {
        truncated(s, c, PT_ANOM_PPPOE_TRUNCATED);
        return;
    }
    decode_ppp_proto(s, c);
}

/* ---- IPv4 -------------------------------------------------------------------------------- */

static struct pt_view *new_view(struct dstate *s)
{
    if (s->out->n >= PT_MAX_VIEWS) {
        return NULL;
    }
    struct pt_view *v = &s->out->v[s->out->n++];
    memset(v, 0, sizeof *v);
    v->ctx = s->ctx;
    return v;
}

/* Hash of the outer endpoints, to keep flows of different tunnels apart. */
static uint32_t outer_hash(const struct pt_view *v)
{
    uint32_t h = 2166136261u ^ v->ctx.outer;
    for (int i = 0; i < 16; i++) {
        h = (h ^ (uint8_t)(v->src.b[i] ^ v->dst.b[i])) * 16777619u;
    }
    return h;
}

/* Transport decoding of a (possibly reassembled) IP payload. `wire` is the payload length
 * the IP header announced, `c` holds the bytes that were captured. */
static void decode_transport(struct dstate *s, struct pt_view *v, struct pt_cur *c, uint32_t wire)
{
    v->payload_wire = wire;
    v->payload_len = (uint32_t)pt_cur_left(c);
    v->payload = pt_cur_ptr(c);
    dispatch_ipproto(s, v->proto, c, v);
}

/*
 * IPv4 header (RFC 791 §3.1):
 *  0      version(4) IHL(4)     4   identification(16)     8  TTL(8) protocol(8) checksum(16)
 *  1      TOS(8)                6   flags(3) frag off(13)  12 source(32)  16 destination(32)
 *  2      total length(16)      20  options (IHL*4 - 20)
 */
static void decode_ipv4(struct dstate *s, struct pt_cur *c)
{
    struct pt_cur ip = *c;
    size_t avail = pt_cur_left(c);
    uint8_t vihl = pt_cur_u8(c);
    pt_cur_skip(c, 1);
    uint16_t total = pt_cur_be16(c);
    uint16_t id = pt_cur_be16(c);
    uint16_t frag = pt_cur_be16(c);
    pt_cur_skip(c, 1);
    uint8_t proto = pt_cur_u8(c);
    pt_cur_skip(c, 2);
    uint8_t src[4], dst[4];
    pt_cur_copy(c, src, 4);
    pt_cur_copy(c, dst, 4);
    if (!pt_cur_ok(c)) {
        truncated(s, &ip, PT_ANOM_IPV4_TRUNCATED);
        return;
    }
    if ((vihl >> 4) != 4) {
        anomaly(s, &ip, PT_ANOM_IPV4_BAD_VERSION, "version field is not 4");
        return;
    }
    unsigned hlen = (vihl & 15u) * 4u;
    if (hlen < 20) { /* RFC 791: IHL is at least 5 words */
        anomaly(s, &ip, PT_ANOM_IPV4_BAD_IHL, "header length below 20 bytes");
        return;
    }
    if (total < hlen) {
        /* total 0 is TCP segmentation offload on the capturing host; take what was captured */
        if (total != 0) {
            anomaly(s, &ip, PT_ANOM_IPV4_BAD_TOTAL_LENGTH, "total length below header length");
            return;
        }
        total = (uint16_t)(avail > 65535 ? 65535 : avail);
    }
    struct pt_cur opts;
    if (!pt_cur_sub(c, hlen - 20, &opts)) {
        truncated(s, &ip, PT_ANOM_IPV4_TRUNCATED);
        return;
    }
    /* Options (RFC 791 §3.1): EOL(0), NOP(1), else type(1) length(1, >= 2) data. */
    while (pt_cur_left(&opts) > 0) {
        uint8_t t = pt_cur_u8(&opts);
        if (t == 0) {
            break;
        }
        if (t == 1) {
            continue;
        }
        uint8_t olen = pt_cur_u8(&opts);
        if (!pt_cur_ok(&opts) || olen < 2 || !pt_cur_skip(&opts, olen - 2u)) {
            anomaly(s, &ip, PT_ANOM_IPV4_BAD_OPTION, "option length runs past the header");
            break;
        }
    }
    size_t on_wire = total;
    if (on_wire > avail) {
        /* Snaplen cut: the rest was on the wire but not captured. Otherwise it is a lie. */
        if (!(s->f->cap_len < s->f->wire_len && s->origin == s->f->data)) {
            anomaly(s, &ip, PT_ANOM_IPV4_TOTAL_LENGTH_EXCEEDS_FRAME,
                    "total length beyond frame end");
        }
        on_wire = avail;
    }
    struct pt_cur payload;
    pt_cur_sub(c, on_wire - hlen, &payload); /* trims Ethernet padding past `total` */

    struct pt_view *v = new_view(s);
    if (v == NULL) {
        anomaly(s, &ip, PT_ANOM_LIMIT_TUNNEL_DEPTH, "more IP layers than PT_MAX_VIEWS");
        return;
    }
    v->family = 4;
    pt_addr_from_v4(&v->src, src);
    pt_addr_from_v4(&v->dst, dst);
    v->proto = proto;
    v->ip_len = total;

    bool more = (frag & 0x2000) != 0;
    uint32_t off = (uint32_t)(frag & 0x1fff) * 8u;
    if (more || off != 0) {
        struct pt_frag_key k = {.src = v->src, .dst = v->dst, .id = id, .proto = proto,
                                .family = 4, .ctx = v->ctx};
        s->d->stats.frag_datagrams += off == 0;
        const uint8_t *done = NULL;
        uint32_t done_len = 0;
        const uint8_t *bytes = pt_cur_ptr(&payload);
        uint32_t n = (uint32_t)pt_cur_left(&payload);
        if (total - hlen != n) {
            /* Snaplen cut a fragment: no reassembly is possible. A first fragment still tells
             * the ports (tshark decodes it too); later ones are dropped. */
            anomaly(s, &ip, PT_ANOM_IPV4_FRAG_TRUNCATED,
                    off == 0 ? "first fragment not fully captured; decoded alone"
                             : "fragment not fully captured; dropped");
            if (off != 0) {
                s->out->n--;
                return;
            }
            decode_transport(s, v, &payload, (uint32_t)(total - hlen));
            return;
        }
        enum pt_defrag_result r =
            pt_defrag_add(s->d->defrag, s->f, &k, off, bytes, n, more, &done, &done_len);
        if (r != PT_DEFRAG_DONE) {
            s->d->stats.frag_dropped += r == PT_DEFRAG_DROPPED;
            s->out->n--; /* like tshark: the flow sees the datagram on the frame completing it */
            return;
        }
        s->d->stats.frag_reassembled++;
        v->reassembled = true;
        v->ip_len = hlen + done_len;
        s->origin = done;
        s->origin_len = done_len;
        struct pt_cur whole = pt_cur_make(done, done_len);
        decode_transport(s, v, &whole, done_len);
        return;
    }
    decode_transport(s, v, &payload, (uint32_t)(total - hlen));
}

/* ---- IPv6 -------------------------------------------------------------------------------- */

static bool is_ipv6_ext(uint8_t nh)
{
    /* RFC 8200 §4: hop-by-hop, routing, fragment, destination options; RFC 4302 AH;
     * RFC 6275 mobility; RFC 7401 HIP; RFC 5533 shim6. */
    return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135 || nh == 139 ||
           nh == 140;
}

/*
 * Walk the extension headers from `nh` over `c` and decode the transport.
 * `unfrag_len` is the length of what precedes `c` in the datagram (40 + earlier headers).
 * Fragment header (RFC 8200 §4.5): next(1) reserved(1) offset(13) res(2) M(1) id(32).
 */
static void ipv6_chain(struct dstate *s, struct pt_view *v, struct pt_cur *c, uint8_t nh,
                       uint32_t wire_left, const struct pt_cur *hdr)
{
    for (unsigned i = 0; is_ipv6_ext(nh); i++) {
        if (i >= PT_MAX_IPV6_EXT) {
            anomaly(s, c, PT_ANOM_LIMIT_IPV6_EXT_HEADERS,
                    "more extension headers than PT_MAX_IPV6_EXT");
            s->out->n--;
            return;
        }
        struct pt_cur eh = *c;
        if (nh == 44) {
            uint8_t next = pt_cur_u8(c);
            pt_cur_skip(c, 1);
            uint16_t offm = pt_cur_be16(c);
            uint32_t id = pt_cur_be32(c);
            if (!pt_cur_ok(c)) {
                truncated(s, &eh, PT_ANOM_IPV6_TRUNCATED);
                s->out->n--;
                return;
            }
            wire_left = wire_left >= 8 ? wire_left - 8 : 0;
            uint32_t off = (uint32_t)(offm & 0xfff8);
            bool more = (offm & 1) != 0;
            if (!more && off == 0) {
                nh = next; /* atomic fragment (RFC 6946): not really fragmented */
                continue;
            }
            uint32_t n = (uint32_t)pt_cur_left(c);
            if (n != wire_left) {
                anomaly(s, &eh, PT_ANOM_IPV6_FRAG_TRUNCATED,
                        "fragment not fully captured; dropped");
                s->out->n--;
                return;
            }
            struct pt_frag_key k = {.src = v->src, .dst = v->dst, .id = id, .proto = next,
                                    .family = 6, .ctx = v->ctx};
            s->d->stats.frag_datagrams += off == 0;
            const uint8_t *done = NULL;
            uint32_t done_len = 0;
            enum pt_defrag_result r =
                pt_defrag_add(s->d->defrag, s->f, &k, off, pt_cur_ptr(c), n, more, &done, &done_len);
            if (r != PT_DEFRAG_DONE) {
                s->d->stats.frag_dropped += r == PT_DEFRAG_DROPPED;
                s->out->n--;
                return;
            }
            s->d->stats.frag_reassembled++;
            v->reassembled = true;
            v->ip_len = v->ip_len - wire_left - 8 + done_len; /* unfragmentable part + payload */
            s->origin = done;
            s->origin_len = done_len;
            struct pt_cur whole = pt_cur_make(done, done_len);
            ipv6_chain(s, v, &whole, next, done_len, hdr);
            return;
        }
        uint8_t next = pt_cur_u8(c);
        uint8_t hl = pt_cur_u8(c);
        if (!pt_cur_ok(c)) {
            truncated(s, &eh, PT_ANOM_IPV6_TRUNCATED);
            s->out->n--;
            return;
        }
        /* AH counts its length in 4-byte words minus 2 (RFC 4302 §2.2); the others in
         * 8-byte words not counting the first (RFC 8200 §4.3). */
        size_t len = nh == 51 ? ((size_t)hl + 2) * 4 : ((size_t)hl + 1) * 8;
        if (!pt_cur_skip(c, len - 2)) {
            truncated(s, &eh, PT_ANOM_IPV6_TRUNCATED);
            s->out->n--;
            return;
        }
        wire_left = wire_left >= len ? wire_left - (uint32_t)len : 0;
        nh = next;
    }
    (void)hdr;
    v->proto = nh;
    if (nh == 59) { /* no next header */
        return;
    }
    decode_transport(s, v, c, wire_left);
}

/*
 * IPv6 header (RFC 8200 §3): version(4) class(8) flow(20) | payload length(16) next(8)
 * hop limit(8) | source(128) | destination(128).
 */
static void decode_ipv6(struct dstate *s, struct pt_cur *c)
{
    struct pt_cur ip = *c;
    uint32_t vcf = pt_cur_be32(c);
    uint16_t plen = pt_cur_be16(c);
    uint8_t nh = pt_cur_u8(c);
    pt_cur_skip(c, 1);
    uint8_t src[16], dst[16];
    pt_cur_copy(c, src, 16);
    pt_cur_copy(c, dst, 16);
    if (!pt_cur_ok(c)) {
        truncated(s, &ip, PT_ANOM_IPV6_TRUNCATED);
        return;
    }
    if ((vcf >> 28) != 6) {
        anomaly(s, &ip, PT_ANOM_IPV6_BAD_VERSION, "version field is not 6");
        return;
    }
    size_t avail = pt_cur_left(c);
    size_t on_wire = plen;
    if (plen == 0 && nh != 0) {
        on_wire = avail; /* jumbogram without hop-by-hop, or offload: take what is there */
    } else if (plen == 0) {
        on_wire = avail; /* RFC 2675 jumbo payload: length is in hop-by-hop; not tracked */
    }
    if (on_wire > avail) {
        if (!(s->f->cap_len < s->f->wire_len && s->origin == s->f->data)) {
            anomaly(s, &ip, PT_ANOM_IPV6_PAYLOAD_LENGTH_EXCEEDS_FRAME,
                    "payload length beyond frame end");
        }
        on_wire = avail;
    }
    struct pt_cur payload;
    pt_cur_sub(c, on_wire, &payload);
    struct pt_view *v = new_view(s);
    if (v == NULL) {
        anomaly(s, &ip, PT_ANOM_LIMIT_TUNNEL_DEPTH, "more IP layers than PT_MAX_VIEWS");
        return;
    }
    v->family = 6;
    pt_addr_from_v6(&v->src, src);
    pt_addr_from_v6(&v->dst, dst);
    uint32_t wire = plen != 0 ? plen : (uint32_t)on_wire;
    v->ip_len = 40 + wire;
    ipv6_chain(s, v, &payload, nh, wire, &ip);
}

/* ---- transports -------------------------------------------------------------------------- */

/*
 * TCP header (RFC 9293 §3.1): sport(16) dport(16) seq(32) ack(32) offset(4) rsvd(4) flags(8)
 * window(16) checksum(16) urgent(16) options.
 */
static void decode_tcp(struct dstate *s, struct pt_cur *c, struct pt_view *v)
{
    struct pt_cur th = *c;
    uint16_t sport = pt_cur_be16(c);
    uint16_t dport = pt_cur_be16(c);
    uint32_t seq = pt_cur_be32(c);
    uint32_t ack = pt_cur_be32(c);
    uint8_t off = pt_cur_u8(c);
    uint8_t flags = pt_cur_u8(c);
    uint16_t win = pt_cur_be16(c);
    pt_cur_skip(c, 4);
    if (!pt_cur_ok(c)) {
        truncated(s, &th, PT_ANOM_TCP_TRUNCATED);
        return;
    }
    unsigned hlen = (off >> 4) * 4u;
    if (hlen < 20) { /* RFC 9293 §3.1: data offset is at least 5 words */
        anomaly(s, &th, PT_ANOM_TCP_BAD_HEADER_LENGTH, "data offset below 5 words");
        return;
    }
    if (v->payload_wire < hlen) {
        anomaly(s, &th, PT_ANOM_TCP_BAD_HEADER_LENGTH, "data offset beyond the IP payload");
        return;
    }
    if (!pt_cur_skip(c, hlen - 20)) {
        truncated(s, &th, PT_ANOM_TCP_TRUNCATED);
        return;
    }
    v->has_ports = true;
    v->sport = sport;
    v->dport = dport;
    v->seq = seq;
    v->ack = ack;
    v->win = win;
    v->tcp_flags = flags;
    v->payload_wire -= hlen;
    v->payload_len = (uint32_t)pt_cur_left(c);
    if (v->payload_len > v->payload_wire) {
        v->payload_len = v->payload_wire;
    }
    v->payload = pt_cur_ptr(c);
}

/* VXLAN (RFC 7348 §5): flags(8, I bit 0x08) reserved(24) VNI(24) reserved(8), then Ethernet. */
static void decode_vxlan(struct dstate *s, struct pt_cur *c, struct pt_view *outer)
{
    uint8_t flags = pt_cur_u8(c);
    pt_cur_skip(c, 3);
    uint32_t vni = pt_cur_be32(c) >> 8;
    if (!pt_cur_ok(c) || !(flags & 0x08)) {
        return; /* not VXLAN after all: stays a plain UDP flow */
    }
    s->ctx.depth++;
    s->ctx.tunnel = PT_TUN_VXLAN;
    s->ctx.tun_id = vni;
    s->ctx.outer = outer_hash(outer);
    s->ctx.n_vlan = 0;
    s->ctx.vlan[0] = s->ctx.vlan[1] = 0;
    decode_ether(s, c);
}

/* Teredo (RFC 4380 §5.1.1): optional authentication (0x0001) and origin (0x0000) indicators,
 * then an IPv6 packet. Off port 3544 (a relay's data path uses any port) only a packet that
 * fills the datagram exactly and has a Teredo address (2001:0::/32, §2.14) is taken
 * (`strict`). */
static void decode_teredo(struct dstate *s, struct pt_cur *c, struct pt_view *outer, bool strict)
{
    struct pt_cur t = *c;
    if (pt_cur_peek_u8(&t, 0) == 0 && pt_cur_peek_u8(&t, 1) == 1) {
        pt_cur_skip(&t, 2);
        uint8_t idlen = pt_cur_u8(&t);
        uint8_t aulen = pt_cur_u8(&t);
        pt_cur_skip(&t, (size_t)idlen + aulen + 9);
    }
    if (pt_cur_peek_u8(&t, 0) == 0 && pt_cur_peek_u8(&t, 1) == 0) {
        pt_cur_skip(&t, 8);
    }
    if (!pt_cur_has(&t, 40) || (pt_cur_peek_u8(&t, 0) >> 4) != 6) {
        return; /* Teredo bubble or not Teredo: plain UDP */
    }
    /* A plausible IPv6 header whose payload length fits what follows. */
    uint16_t plen = (uint16_t)((pt_cur_peek_u8(&t, 4) << 8) | pt_cur_peek_u8(&t, 5));
    if ((size_t)plen + 40 > pt_cur_left(&t)) {
        return;
    }
    if (strict) {
        const uint8_t *ip6 = pt_cur_ptr(&t);
        static const uint8_t prefix[4] = {0x20, 0x01, 0x00, 0x00};
        if ((size_t)plen + 40 != pt_cur_left(&t) ||
            (memcmp(ip6 + 8, prefix, 4) != 0 && memcmp(ip6 + 24, prefix, 4) != 0)) {
            return;
        }
    }
    s->ctx.depth++;
    s->ctx.tunnel = PT_TUN_TEREDO;
    s->ctx.tun_id = 0;
    s->ctx.outer = outer_hash(outer);
    decode_ipv6(s, &t);
}

/* UDP header (RFC 768): sport(16) dport(16) length(16) checksum(16). */
static void decode_udp(struct dstate *s, struct pt_cur *c, struct pt_view *v)
{
    struct pt_cur uh = *c;
    uint16_t sport = pt_cur_be16(c);
    uint16_t dport = pt_cur_be16(c);
    uint16_t ulen = pt_cur_be16(c);
    pt_cur_skip(c, 2);
    if (!pt_cur_ok(c)) {
        truncated(s, &uh, PT_ANOM_UDP_TRUNCATED);
        return;
    }
    uint32_t wire = v->payload_wire;
    if (ulen < 8 || ulen > wire) {
        /* ulen 0 is legal for IPv6 jumbograms only (RFC 2675); take the IP length then */
        if (!(ulen == 0 && v->family == 6)) {
            anomaly(s, &uh, PT_ANOM_UDP_BAD_LENGTH, "length field disagrees with the IP payload");
        }
        ulen = (uint16_t)(wire > 65535 ? 65535 : wire);
        if (ulen < 8) {
            return;
        }
    }
    v->has_ports = true;
    v->sport = sport;
    v->dport = dport;
    v->payload_wire = ulen - 8u;
    v->payload_len = (uint32_t)pt_cur_left(c);
    if (v->payload_len > v->payload_wire) {
        v->payload_len = v->payload_wire;
    }
    v->payload = pt_cur_ptr(c);
    if (s->ctx.depth + 1 >= PT_MAX_TUNNEL_DEPTH) {
        return;
    }
    struct pt_cur inner = pt_cur_make(v->payload, v->payload_len);
    if (dport == 4789) { /* IANA VXLAN port; the source port is an entropy hash */
        decode_vxlan(s, &inner, v);
    } else if (sport == 3544 || dport == 3544) {
        decode_teredo(s, &inner, v, false);
    } else if (v->payload_len >= 40) {
        decode_teredo(s, &inner, v, true);
    }
}

/* ICMP (RFC 792) / ICMPv6 (RFC 4443): type(8) code(8) checksum(16) rest(32). Echo request
 * and reply carry identifier(16) sequence(16); the identifier keys the flow on both sides. */
static void decode_icmp_common(struct dstate *s, struct pt_cur *c, struct pt_view *v, bool echo_rq,
                               bool echo_rp, enum pt_anom kind)
{
    uint8_t type = pt_cur_u8(c);
    uint8_t code = pt_cur_u8(c);
    pt_cur_skip(c, 2);
    uint16_t id = pt_cur_be16(c);
    if (!pt_cur_ok(c)) {
        truncated(s, c, kind);
        return;
    }
    v->icmp_type = type;
    v->icmp_code = code;
    if (echo_rq || echo_rp) {
        v->sport = v->dport = id;
    }
    v->seq = pt_cur_be16(c); /* echo sequence number (ICMP views have no TCP seq) */
    v->payload_len = (uint32_t)pt_cur_left(c);
    v->payload_wire = v->payload_wire >= 8 ? v->payload_wire - 8 : 0;
    if (v->payload_len > v->payload_wire) {
        v->payload_len = v->payload_wire;
    }
    v->payload = pt_cur_ptr(c);
}

static void decode_icmp(struct dstate *s, struct pt_cur *c, struct pt_view *v)
{
    uint8_t t = pt_cur_peek_u8(c, 0);
    decode_icmp_common(s, c, v, t == 8, t == 0, PT_ANOM_ICMP_TRUNCATED);
}

static void decode_icmpv6(struct dstate *s, struct pt_cur *c, struct pt_view *v)
{
    uint8_t t = pt_cur_peek_u8(c, 0);
    decode_icmp_common(s, c, v, t == 128, t == 129, PT_ANOM_ICMPV6_TRUNCATED);
}

/* IP in IP: the inner header starts right here. */
static void decode_ipip(struct dstate *s, struct pt_cur *c, struct pt_view *v)
{
    if (s->ctx.depth + 1 >= PT_MAX_TUNNEL_DEPTH) {
        anomaly(s, c, PT_ANOM_LIMIT_TUNNEL_DEPTH, "tunnel nesting deeper than PT_MAX_TUNNEL_DEPTH");
        return;
    }
    s->ctx.depth++;
    s->ctx.tunnel = PT_TUN_IPIP;
    s->ctx.tun_id = 0;
    s->ctx.outer = outer_hash(v);
    uint8_t nib = pt_cur_peek_u8(c, 0) >> 4;
    if (v->proto == 4 && nib == 4) {
        decode_ipv4(s, c);
    } else if (v->proto == 41 && nib == 6) {
        decode_ipv6(s, c);
    } else {
        anomaly(s, c, PT_ANOM_IPIP_BAD_INNER_VERSION,
                "inner header version does not match protocol");
    }
}

/*
 * GRE (RFC 2784 §2.1, RFC 2890 §2): C(1) R(1) K(1) S(1) ... version(3) | protocol(16) |
 * [checksum(16) reserved(16)] [key(32)] [sequence(32)]. Version 1 is PPTP's enhanced GRE
 * (RFC 2637 §4.1): key present, optional acknowledgement(32), PPP payload.
 */
static void decode_gre(struct dstate *s, struct pt_cur *c, struct pt_view *v)
{
    struct pt_cur gh = *c;
    uint16_t fl = pt_cur_be16(c);
    uint16_t proto = pt_cur_be16(c);
    if (!pt_cur_ok(c)) {
        truncated(s, &gh, PT_ANOM_GRE_TRUNCATED);
        return;
    }
    unsigned ver = fl & 7u;
    uint32_t key = 0;
    if (ver > 1) {
        anomaly(s, &gh, PT_ANOM_GRE_BAD_VERSION, "GRE version other than 0 or 1");
        return;
    }
    if ((fl & 0x8000) || (fl & 0x4000)) {
        pt_cur_skip(c, 4); /* checksum + offset/reserved */
    }
    if (fl & 0x2000) {
        key = pt_cur_be32(c);
    }
    if (fl & 0x1000) {
        pt_cur_skip(c, 4);
    }
    if (ver == 1 && (fl & 0x0080)) {
        pt_cur_skip(c, 4);
    }
    if (!pt_cur_ok(c)) {
        truncated(s, &gh, PT_ANOM_GRE_TRUNCATED);
        return;
    }
    if (s->ctx.depth + 1 >= PT_MAX_TUNNEL_DEPTH) {
        anomaly(s, c, PT_ANOM_LIMIT_TUNNEL_DEPTH, "tunnel nesting deeper than PT_MAX_TUNNEL_DEPTH");
        return;
    }
    s->ctx.depth++;
    s->ctx.tunnel = PT_TUN_GRE;
    s->ctx.tun_id = key;
    s->ctx.outer = outer_hash(v);
    if (ver == 1 || proto == 0x880b) {
        if (pt_cur_left(c) > 0) {
            decode_ppp(s, c);
        }
        return;
    }
    if (proto == 0x88be) { /* ERSPAN type II: 8-byte header, then Ethernet */
        if (pt_cur_skip(c, 8)) {
            decode_ether(s, c);
        }
        return;
    }
    dispatch_ethertype(s, proto, c);
}

/* ---- link-type entry points ------------------------------------------------------------- */

/* Linux cooked v1 (16 bytes): type(2) arphrd(2) addrlen(2) addr(8) protocol(2). */
static void decode_sll(struct dstate *s, struct pt_cur *c)
{
    pt_cur_skip(c, 14);
    uint16_t proto = pt_cur_be16(c);
    if (!pt_cur_ok(c)) {
        truncated(s, c, PT_ANOM_SLL_TRUNCATED);
        return;
    }
    dispatch_ethertype(s, proto, c);
}

/* Linux cooked v2 (20 bytes): protocol(2) reserved(2) ifindex(4) arphrd(2) type(1) alen(1)
 * addr(8). */
static void decode_sll2(struct dstate *s, struct pt_cur *c)
{
    uint16_t proto = pt_cur_be16(c);
    pt_cur_skip(c, 18);
    if (!pt_cur_ok(c)) {
        truncated(s, c, PT_ANOM_SLL2_TRUNCATED);
        return;
    }
    dispatch_ethertype(s, proto, c);
}

static void decode_raw(struct dstate *s, struct pt_cur *c)
{
    uint8_t nib = pt_cur_peek_u8(c, 0) >> 4;
    if (!pt_cur_has(c, 1)) {
        truncated(s, c, PT_ANOM_RAW_TRUNCATED);
    } else if (nib == 4) {
        decode_ipv4(s, c);
    } else if (nib == 6) {
        decode_ipv6(s, c);
    } else {
        anomaly(s, c, PT_ANOM_RAW_BAD_VERSION, "raw IP frame is neither IPv4 nor IPv6");
    }
}

/* BSD loopback: a 4-byte address family in the capturing host's byte order (DLT_NULL) or
 * network order (DLT_LOOP). AF_INET is 2 everywhere; AF_INET6 is 24, 28 or 30 by OS. */
static void decode_null(struct dstate *s, struct pt_cur *c, bool loop)
{
    struct pt_cur h = *c;
    uint32_t le = pt_cur_le32(&h);
    if (!pt_cur_ok(&h)) {
        truncated(s, c, PT_ANOM_NULL_TRUNCATED);
        return;
    }
    uint32_t af = le;
    if (loop || (le & 0xffff0000u) != 0) {
        af = ((le & 0xff) << 24) | ((le & 0xff00) << 8) | ((le >> 8) & 0xff00) | (le >> 24);
    }
    pt_cur_skip(c, 4);
    if (af == 2) {
        decode_ipv4(s, c);
    } else if (af == 24 || af == 28 || af == 30 || af == 10) {
        decode_ipv6(s, c);
    } else {
        s->out->non_ip = true;
    }
}

/* Cisco HDLC (DLT_C_HDLC): address(1) control(1) protocol(2, an EtherType). */
static void decode_chdlc(struct dstate *s, struct pt_cur *c)
{
    pt_cur_skip(c, 2);
    uint16_t proto = pt_cur_be16(c);
    if (!pt_cur_ok(c)) {
        truncated(s, c, PT_ANOM_CHDLC_TRUNCATED);
        return;
    }
    dispatch_ethertype(s, proto, c);
}

static void decode_bsd_null(struct dstate *s, struct pt_cur *c)
{
    decode_null(s, c, false);
}

static void decode_bsd_loop(struct dstate *s, struct pt_cur *c)
{
    decode_null(s, c, true);
}

const char *pt_linktype_name(int dlt)
{
    switch (dlt) {
#define PT_LINKTYPE(dlt, name, decoder)                                                            \
    case dlt: return name;
#include "linktypes.def"
#undef PT_LINKTYPE
        default: return NULL;
    }
}

void pt_decode_frame(struct pt_decoder *d, const struct pt_frame *f, struct pt_decoded *out)
{
    struct dstate s = {.d = d, .f = f, .out = out, .origin = f->data, .origin_len = f->cap_len};
    out->n = 0;
    out->non_ip = false;
    d->stats.frames++;
    struct pt_cur c = pt_cur_make(f->data, f->cap_len);
    switch (f->linktype) {
#define PT_LINKTYPE(dlt, name, decoder)                                                            \
    case dlt: decode_##decoder(&s, &c); break;
#include "linktypes.def"
#undef PT_LINKTYPE
        default: out->non_ip = true; break;
    }
    if (out->n == 0 && out->non_ip) {
        d->stats.non_ip++;
    }
}

struct pt_decoder *pt_decoder_new(pt_anomaly_fn sink, void *arg)
{
    struct pt_decoder *d = calloc(1, sizeof *d);
    if (d == NULL) {
        return NULL;
    }
    d->sink = sink;
    d->arg = arg;
    d->defrag = pt_defrag_new(sink, arg);
    if (d->defrag == NULL) {
        free(d);
        return NULL;
    }
    return d;
}

void pt_decoder_free(struct pt_decoder *d)
{
    if (d != NULL) {
        pt_defrag_free(d->defrag);
        free(d);
    }
}

void pt_decoder_flush(struct pt_decoder *d, uint32_t item)
{
    pt_defrag_flush(d->defrag, item);
}

void pt_decoder_stats(const struct pt_decoder *d, struct pt_decode_stats *out)
{
    *out = d->stats;
}
