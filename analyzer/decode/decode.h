/*
 * decode.h - link, network and transport decoding of one captured frame.
 *
 * Input: untrusted frame bytes from any source (capture today; carved
 * packets later). Output: up to PT_MAX_VIEWS network-layer "views", one per
 * IP layer with the transport header decoded: a tunnelled frame yields the
 * outer flow and the inner flow, as tshark's conversation tables do.
 *
 * Every malformation becomes an anomaly through the sink and decoding of
 * that layer stops; nothing in here fails the run.
 *
 * Limits: PT_MAX_VLAN, PT_MAX_MPLS, PT_MAX_TUNNEL_DEPTH, PT_MAX_IPV6_EXT and the
 * defragmentation caps in core/limits.h.
 */
#ifndef PT_DECODE_H
#define PT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/addr.h"
#include "../core/anomaly.h"
#include "../core/limits.h"
#include "../core/status.h"

/* One captured frame as handed over by a reader. Borrowed bytes. */
struct pt_frame {
    uint32_t item;      /* evidence item id */
    uint64_t num;       /* 1-based frame number within the item */
    int64_t ts_us;      /* UTC microseconds since the epoch */
    uint32_t wire_len;  /* original length on the wire */
    uint32_t cap_len;   /* bytes captured (<= wire_len) */
    int linktype;       /* libpcap DLT_* value */
    const uint8_t *data;
};

/* What encapsulated a view; part of the flow key so tunnels do not merge. */
enum pt_tunnel {
    PT_TUN_NONE = 0,
    PT_TUN_IPIP,
    PT_TUN_GRE,
    PT_TUN_VXLAN,
    PT_TUN_TEREDO,
};

struct pt_ctx {
    uint16_t vlan[2]; /* outermost two VLAN ids (12 bits each) */
    uint8_t n_vlan;   /* VLAN tags seen (may exceed 2) */
    uint8_t depth;    /* tunnel depth, 0 for the outermost IP layer */
    uint8_t tunnel;   /* enum pt_tunnel of the innermost encapsulation */
    uint32_t tun_id;  /* VXLAN VNI or GRE key, else 0 */
    uint32_t outer;   /* hash of the outer endpoints, 0 when not tunnelled */
};

enum pt_tcp_flag {
    PT_TCP_FIN = 0x01,
    PT_TCP_SYN = 0x02,
    PT_TCP_RST = 0x04,
    PT_TCP_PSH = 0x08,
    PT_TCP_ACK = 0x10,
    PT_TCP_URG = 0x20,
    PT_TCP_ECE = 0x40,
    PT_TCP_CWR = 0x80,
};

struct pt_view {
    struct pt_addr src, dst;
    uint8_t family;           /* 4 or 6 */
    uint8_t proto;            /* IP protocol of the transport (after extension headers) */
    bool has_ports;           /* TCP or UDP header decoded */
    bool reassembled;         /* built from IP fragments */
    uint16_t sport, dport;    /* TCP/UDP ports; ICMP echo identifier on both for echo */
    uint32_t ip_len;          /* IP datagram length as announced (header + payload) */
    uint32_t payload_len;     /* transport payload bytes captured */
    uint32_t payload_wire;    /* transport payload bytes announced by the headers */
    const uint8_t *payload;   /* borrowed: valid until the next pt_decode_frame() */
    uint32_t seq, ack;        /* TCP; seq also holds an ICMP echo sequence number */
    uint16_t win;             /* TCP */
    uint8_t tcp_flags;        /* TCP, enum pt_tcp_flag */
    uint8_t icmp_type, icmp_code;
    struct pt_ctx ctx;
};

struct pt_decoded {
    struct pt_view v[PT_MAX_VIEWS];
    unsigned n;
    bool non_ip; /* frame carried no IP (ARP, LLC, ...) */
};

/* Anomaly sink: `kind` is a stable dotted name, `detail` human text (may be NULL). */
typedef void (*pt_anomaly_fn)(void *arg, const struct pt_frame *f, uint64_t offset,
                              enum pt_anom kind, const char *detail);

struct pt_decoder; /* opaque: owns the defragmentation state */

/* Returns owned (pt_decoder_free) or NULL on allocation failure. */
struct pt_decoder *pt_decoder_new(pt_anomaly_fn sink, void *arg);
void pt_decoder_free(struct pt_decoder *d);

/* Decode one frame into *out. Never fails: malformations go to the sink. */
void pt_decode_frame(struct pt_decoder *d, const struct pt_frame *f, struct pt_decoded *out);

/* Report and drop fragments still waiting (end of input): one anomaly per datagram. */
void pt_decoder_flush(struct pt_decoder *d, uint32_t item);

/* Counters for the summary and tests. */
struct pt_decode_stats {
    uint64_t frames, non_ip, frag_datagrams, frag_reassembled, frag_dropped;
};
void pt_decoder_stats(const struct pt_decoder *d, struct pt_decode_stats *out);

/* Name of a DLT value, or NULL when the link type is not decoded. */
const char *pt_linktype_name(int dlt);

#endif
