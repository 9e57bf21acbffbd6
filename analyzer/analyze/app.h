/*
 * app.h - the application layer: finds the protocol of a TCP stream by its content and
 * feeds the stream to that protocol's decoder. Decoders are listed in protocols.def.
 *
 * One context per worker; everything a decoder produces leaves through the callbacks.
 */
#ifndef PT_APP_H
#define PT_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../flow/flow.h"
#include "../ingest/logparse.h"
#include "objstore.h"

struct pt_unpack_run;

/* The decoders' records, struct pt_<name>_rec, as records.def describes them. */
#define PT_RECORD(name, NAME, table, batch) struct pt_##name##_rec {
#define PT_RECORD_PUT(name, NAME, put, batch) struct pt_##name##_rec {
#define PT_FIELD(rec, ctype, member, dim, column, bind) ctype member dim;
#define PT_FIELD_IF(rec, ctype, member, dim, column, bind, when) ctype member dim;
#define PT_LOOKUP_FIELD(rec, ctype, member, dim, column, bind) ctype member dim;
#define PT_MEMBER(rec, ctype, member, dim) ctype member dim;
#define PT_END(rec) };
#include "records.def"
#undef PT_RECORD
#undef PT_RECORD_PUT
#undef PT_FIELD
#undef PT_FIELD_IF
#undef PT_LOOKUP_FIELD
#undef PT_MEMBER
#undef PT_END

/* The record kinds of records.def. */
enum pt_rec_kind {
#define PT_RECORD(name, NAME, table, batch) PT_REC_##NAME,
#define PT_RECORD_PUT(name, NAME, put, batch) PT_REC_##NAME,
#include "records.def"
#undef PT_RECORD
#undef PT_RECORD_PUT
    PT_REC_COUNT
};

struct pt_app_ctx {
    struct pt_objstore *store;
    void *arg;
    void (*object)(void *arg, const struct pt_object_rec *r);
    /* a decoder's record (records.def): kind says which struct rec points to */
    void (*emit)(void *arg, enum pt_rec_kind kind, const void *rec);
    struct pt_expect_table *expect; /* connections announced in this worker (owned;
                                       analyze/expect.h) */
    struct pt_unpack_run *unpack; /* archives unpacked in this run, shared by all workers
                                     (borrowed; NULL: nothing shared, see unpack.h) */
    void (*anomaly)(void *arg, uint32_t item, uint64_t frame, enum pt_anom kind,
                    const char *detail);
};

/* pt_emit_http(ctx, &rec) and so on: hand a finished record to the pipeline (typed). */
#define PT_RECORD(name, NAME, table, batch)                                                        \
    static inline void pt_emit_##name(const struct pt_app_ctx *ctx,                                \
                                      const struct pt_##name##_rec *rec)                           \
    {                                                                                              \
        if (ctx->emit != NULL) {                                                                   \
            ctx->emit(ctx->arg, PT_REC_##NAME, rec);                                               \
        }                                                                                          \
    }
#define PT_RECORD_PUT(name, NAME, put, batch) PT_RECORD(name, NAME, put, batch)
#include "records.def"
#undef PT_RECORD
#undef PT_RECORD_PUT

/* Returned by upgraded(): the tunnel's content decides its protocol (HTTP CONNECT). */
extern const struct pt_app_proto pt_app_reprobe;

/* Stream operations for pt_flow_set_stream_ops(); their arg is a struct pt_app_ctx. */
extern const struct pt_stream_ops pt_app_stream_ops;

/* A later connection announced in a flow's bytes (analyze/expect.h). */
struct pt_announce {
    struct pt_addr addr;
    uint16_t port;
    int64_t lifetime_us; /* from the announcing packet's time */
};

/* For the reader: does a TCP segment whose payload starts with p[0..n), sent by `src`,
 * announce a connection (any protocol's `announces` member)? */
bool pt_app_announces(const uint8_t *p, size_t n, const struct pt_addr *src,
                      struct pt_announce *out);

/* Record an anomaly found by a decoder, at the packet that delivered the bytes (pkt may be
 * NULL: bytes released at the end of a flow are then tied to `item` without a frame). */
void pt_app_anomaly(const struct pt_app_ctx *ctx, const struct pt_flow_pkt *pkt, uint32_t item,
                    enum pt_anom kind, const char *detail);

/* Start an object description for bytes sent in `dir` of flow `rec` at stream offset `off`,
 * first seen in (item, frame, ts); the caller adds name, encoding and part. */
void pt_app_object_meta(struct pt_object_rec *meta, const struct pt_flow_rec *rec, int dir,
                        const char *protocol, uint64_t off, uint32_t item, uint64_t frame,
                        int64_t ts_us);

/* "upload", "download", "internal" or "external" for bytes sent in `dir` of a flow. */
const char *pt_app_direction(const struct pt_flow_rec *rec, int dir);

/* For probes: does `word` (ASCII) occur in p[0..n), ignoring case? */
bool pt_app_has_word(const uint8_t *p, size_t n, const char *word);
/* A `refuted` member for protocols whose server replies start with three digits (FTP, RFC 959
 * §4.2; SMTP, RFC 5321 §4.2): true when the server's first bytes do not. */
bool pt_app_not_digit_reply(int dir, const uint8_t *p, size_t n);

/* `data` and `gap` members of a protocol that only decodes datagrams (ICMP, NetFlow). */
void pt_app_no_stream(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                      const struct pt_flow_pkt *pkt);
void pt_app_no_gap(void *st, int dir, uint64_t off, uint64_t n);

/* Protocol decoder descriptor (one per line of protocols.def). */
struct pt_app_proto {
    const char *name;
    /* Does a stream (transport 6) or datagram (17) that starts with p[0..n) in direction dir
     * look like this protocol? The ports are hints only. */
    bool (*probe)(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                  uint16_t sport);
    /* Do the other direction's first bytes rule the protocol out, whatever this direction's
     * probe said? NULL member when nothing can. (An FTP or SMTP server's every reply starts
     * with three digits: a server that greets "+OK" is POP3, whose client may open with
     * USER as an FTP client does.) */
    bool (*refuted)(int dir, const uint8_t *p, size_t n);
    void *(*open)(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec);
    void (*data)(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                 const struct pt_flow_pkt *pkt);
    void (*gap)(void *st, int dir, uint64_t off, uint64_t n);
    void (*close)(void *st);
    /* For datagram protocols (NULL otherwise): one UDP payload. */
    void (*datagram)(void *st, int dir, const uint8_t *p, size_t n, const struct pt_flow_pkt *pkt);
    /* Once the session switched protocol (STARTTLS, HTTP CONNECT or Upgrade): what decodes
     * the rest, or &pt_app_reprobe to decide by content again; NULL while it has not.
     * NULL member when the protocol cannot switch. */
    const struct pt_app_proto *(*upgraded)(void *st);
    /* Bytes the decoder received after the switch in `dir`, for the next decoder, and their
     * stream offset in that direction (*off); NULL member when there are none. */
    size_t (*tail)(void *st, int dir, const uint8_t **p, uint64_t *off);
    /* For the memory cap (core/memcap.h): the size of the per-flow state `open` allocates,
     * and (NULL member when it has none) what its buffers hold now beyond that. */
    size_t state_size;
    size_t (*mem)(const void *st);
    /* Connections this protocol's flows announce (NULL members when none). `announces`: the
     * reader's stateless look at the start of every TCP segment (sent by `src`), before any
     * worker parsed it, to route the announced connection to the announcing flow's worker
     * (worker.c); the decoder itself registers the expectation (pt_expect_add). */
    bool (*announces)(const uint8_t *p, size_t n, const struct pt_addr *src,
                      struct pt_announce *out);
    /* For a protocol that expectations give flows to: the state of flow `rec`, claimed by an
     * expectation whose `data` it takes (NULL: out of memory, data not taken); and how data
     * never claimed is released. */
    void *(*expected)(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec, void *data);
    void (*expect_free)(void *data);
};

#endif
