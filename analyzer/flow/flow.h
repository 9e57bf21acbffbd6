/*
 * flow.h - bidirectional flows: one table per worker, no locks.
 *
 * A flow is keyed by protocol, both endpoints (ordered), and the VLAN/tunnel
 * context. When the two directions carry different VLAN ids (SPAN of a
 * router-on-a-stick) they are joined into one flow and an anomaly says so. Client and server come from the SYN (or SYN-ACK), else from the
 * port numbers (a source port below 1024 talking to an ephemeral port is the
 * server), else from the first packet.
 *
 * Flows end on TCP close (FIN from both sides, or RST) after
 * PT_FLOW_TCP_CLOSED_S of quiet, on idle timeout, on TCP 5-tuple reuse (a SYN
 * whose sequence number differs from the first one seen in that direction,
 * the rule Wireshark uses for tcp.stream), at the end of the run, or by
 * eviction at the table cap (an anomaly).
 *
 * Ids are deterministic: (item << 40) | (first frame << 3) | view index, so the
 * database is the same whatever the number of workers.
 */
#ifndef PT_FLOW_H
#define PT_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/addr.h"
#include "../decode/decode.h"

enum pt_flow_class {
    PT_CLASS_INTERNAL,
    PT_CLASS_OUTBOUND, /* client inside home-net, server outside */
    PT_CLASS_INBOUND,  /* client outside, server inside */
    PT_CLASS_EXTERNAL, /* neither inside */
};

enum pt_flow_end {
    PT_END_EOF,     /* still open at the end of the evidence */
    PT_END_FIN,
    PT_END_RST,
    PT_END_IDLE,
    PT_END_REUSE,   /* TCP 5-tuple reused by a new connection */
    PT_END_EVICTED, /* flow table cap */
};

const char *pt_flow_class_str(enum pt_flow_class c);
const char *pt_flow_end_str(enum pt_flow_end e);

struct pt_flow_dir {
    uint64_t pkts;
    uint64_t frame_bytes;   /* wire length of the frames, as tshark counts */
    uint64_t ip_bytes;      /* IP datagram lengths as announced */
    uint64_t payload_bytes; /* transport payload announced by headers (retransmissions included) */
    uint64_t captured_bytes;/* transport payload actually present in the capture */
    uint64_t seq_bytes;     /* TCP: payload implied by sequence and acknowledgement numbers */
    uint64_t stream_bytes;  /* TCP: distinct bytes reassembled in order */
    uint64_t gap_bytes;     /* TCP: bytes of the stream that are not in the capture */
    uint32_t conflicts;     /* TCP: retransmissions whose bytes differed from the kept ones */
    uint8_t tcp_flags;      /* OR of all flags */
};

/* A finished flow, as stored. */
struct pt_flow_rec {
    int64_t id;
    uint32_t item;
    uint64_t first_frame;
    uint32_t last_item;
    uint64_t last_frame;
    struct pt_addr cli, srv;
    uint16_t cport, sport;
    uint8_t proto, family;
    struct pt_ctx ctx;
    int64_t first_ts, last_ts; /* UTC microseconds */
    struct pt_flow_dir c2s, s2c;
    char history[20];          /* Zeek-style letters, upper case from the client */
    uint16_t reply_vlan[2];    /* VLAN ids of the other direction when they differ */
    uint8_t asym_vlan;         /* 0, or 1 + the direction that carries reply_vlan */
    uint8_t ports_known;       /* a TCP/UDP header was decoded */
    char app[16];              /* application protocol found in the stream ("http"), or "" */
    uint8_t cls;               /* enum pt_flow_class */
    uint8_t end;               /* enum pt_flow_end */
};

/* One view of one frame, as handed to a worker. */
struct pt_flow_pkt {
    const struct pt_view *v;
    uint32_t item;
    uint64_t frame;
    uint8_t view_idx;
    int64_t ts_us;
    uint32_t wire_len;
};

/* Called for every flow that ends; the record is borrowed for the call. */
typedef void (*pt_flow_emit_fn)(void *arg, const struct pt_flow_rec *rec);
/* Called once when the table cap first evicts a live flow. */
typedef void (*pt_flow_anomaly_fn)(void *arg, const struct pt_flow_pkt *p, enum pt_anom kind,
                                   const char *detail);

/* A TCP stream event: a gap (bytes never captured) or a conflict (a retransmission whose
 * bytes differ from those kept; first data wins). */
enum pt_stream_kind { PT_STREAM_GAP, PT_STREAM_CONFLICT };
struct pt_stream_event {
    int64_t flow_id;
    uint8_t dir;          /* 0 client to server, 1 server to client */
    uint8_t kind;         /* enum pt_stream_kind */
    uint64_t off, len;    /* stream offset and length */
    uint8_t kept[32], other[32]; /* SHA-256 of both versions (conflicts) */
    uint32_t item;        /* packet that revealed it; 0 at the end of the flow */
    uint64_t frame;
};
typedef void (*pt_flow_stream_fn)(void *arg, const struct pt_stream_event *e);

/*
 * Consumers of reassembled TCP streams and of UDP datagrams (the application layer). `open` is called at a flow's
 * first stream byte and returns the consumer's state for the flow (NULL: not interested);
 * `close` once both streams have ended, before the flow record is emitted, so the consumer
 * may set rec->app. `pkt` is the packet that delivered the bytes (NULL when bytes are
 * released at the end of the flow). All pointers are borrowed for the call.
 */
struct pt_stream_ops {
    void *(*open)(void *arg, struct pt_flow_rec *rec);
    void (*data)(void *arg, void *st, const struct pt_flow_rec *rec, int dir, uint64_t off,
                 const uint8_t *p, size_t n, const struct pt_flow_pkt *pkt);
    void (*gap)(void *arg, void *st, const struct pt_flow_rec *rec, int dir, uint64_t off,
                uint64_t n);
    void (*close)(void *arg, void *st, struct pt_flow_rec *rec);
    /* One UDP datagram's captured payload (`wire` bytes were announced). */
    void (*datagram)(void *arg, void *st, const struct pt_flow_rec *rec, int dir,
                     const uint8_t *p, size_t n, size_t wire, const struct pt_flow_pkt *pkt);
    /* Bytes the consumer's state for one flow holds (core/memcap.h); NULL: not counted. */
    size_t (*mem)(void *arg, const void *st);
};

struct pt_flow_table;

/* `home` is borrowed and must outlive the table. Returns owned or NULL. */
struct pt_flow_table *pt_flow_table_new(const struct pt_cidr_set *home, uint32_t max_flows,
                                        pt_flow_emit_fn emit, pt_flow_anomaly_fn anomaly,
                                        void *arg);
void pt_flow_table_free(struct pt_flow_table *t);
/* Count flows only: no TCP reassembly, no stream or datagram consumers (a triage pass). */
void pt_flow_set_flows_only(struct pt_flow_table *t);
/* Hand reassembled streams to `ops` (borrowed), called with `arg`. */
void pt_flow_set_stream_ops(struct pt_flow_table *t, const struct pt_stream_ops *ops, void *arg);
/* Charge every flow's state (the flow, reassembly, the consumer's `mem`) to `m` (borrowed,
 * shared by the tables of a run); past its cap the oldest idle flows end early ("evicted")
 * with one anomaly "limit.memcap" per eviction burst. */
struct pt_memcap;
void pt_flow_set_memcap(struct pt_flow_table *t, struct pt_memcap *m);
/* Receive stream gaps and conflicts (called with the table's arg). */
void pt_flow_set_stream_events(struct pt_flow_table *t, pt_flow_stream_fn fn);

void pt_flow_update(struct pt_flow_table *t, const struct pt_flow_pkt *p);
/* End every flow still open at the end of the run; `end_ts` is the latest packet time of the
 * whole run, so a flow idle longer than its timeout ends "idle" whatever the worker count. */
void pt_flow_flush(struct pt_flow_table *t, int64_t end_ts);
uint64_t pt_flow_live(const struct pt_flow_table *t);

/* Symmetric hash of a view's flow key: both directions give the same value. */
uint64_t pt_flow_hash(const struct pt_view *v);

#endif
