/*
 * tcp_reasm.h - TCP stream reassembly for one direction of one flow.
 *
 * Policy (research/network-anchors.md §4): the first bytes received for a
 * sequence range are kept. A later segment whose bytes differ from what was
 * kept is a conflict, reported with its range and the SHA-256 of both
 * versions. Bytes that were never captured are gaps, reported as ranges and
 * never filled with zeros. Sequence numbers wrap; offsets here are unwrapped
 * 64-bit offsets from the first byte of the stream.
 *
 * Trust boundary: segments are untrusted (sequence numbers, lengths, flags).
 * Limits: PT_REASM_* in core/limits.h. Out-of-order data beyond the per-flow
 * cap, or beyond the worker's budget, is dropped with a gap and an anomaly.
 */
#ifndef PT_TCP_REASM_H
#define PT_TCP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/anomaly.h"
#include "../core/sha256.h"

/* What the reassembler reports. All pointers are borrowed for the call only. */
struct pt_reasm_sink {
    void *arg;
    /* In-order bytes at stream offset `off`. */
    void (*data)(void *arg, int dir, uint64_t off, const uint8_t *p, size_t n);
    /* Bytes [off, off+n) will never be delivered: not in the capture. */
    void (*gap)(void *arg, int dir, uint64_t off, uint64_t n);
    /* A retransmission disagreed with the kept bytes over [off, off+n). */
    void (*conflict)(void *arg, int dir, uint64_t off, uint64_t n,
                     const uint8_t kept[PT_SHA256_LEN], const uint8_t other[PT_SHA256_LEN]);
    /* A cap was hit (kind is a stable anomaly name). */
    void (*limit)(void *arg, int dir, enum pt_anom kind);
};

/* Shared by all streams of one worker: the out-of-order byte budget. */
struct pt_reasm_budget {
    uint64_t used;
    uint64_t max;
};

struct pt_reasm_seg; /* out-of-order segment, private */

struct pt_reasm_dir {
    bool started;           /* base is known */
    uint32_t base;          /* sequence number of stream offset 0 */
    uint64_t next;          /* offset of the next byte to deliver */
    uint64_t last_seq;      /* unwrapped offset of the last segment (for unwrapping) */
    struct pt_reasm_seg *ooo; /* sorted, non-overlapping, all > next */
    uint64_t ooo_bytes;
    uint8_t *hist;          /* ring of the last PT_REASM_HISTORY delivered bytes */
    uint64_t delivered;     /* bytes delivered (unique, in order) */
    uint64_t gap_bytes;
    uint32_t conflicts;
    bool closed;            /* finished: later segments are ignored */
    bool fin;               /* a FIN was seen: the stream ends at fin_off */
    uint64_t fin_off;
};

/* Start the direction at `isn` (SYN seen: data starts at isn + 1) or at a mid-stream seq. */
void pt_reasm_start(struct pt_reasm_dir *d, uint32_t first_data_seq);

/*
 * Add a segment with `n` captured payload bytes at sequence `seq`. `wire` is the payload
 * length the headers announced (wire > n when the capture cut the segment: the missing tail is
 * a gap once it is passed).
 */
void pt_reasm_segment(struct pt_reasm_dir *d, int dir, uint32_t seq, const uint8_t *p, size_t n,
                      size_t wire, struct pt_reasm_budget *b, const struct pt_reasm_sink *s);

/* A FIN ends the stream at sequence `seq_end` (the FIN's seq plus its payload): later
 * acknowledgements count the FIN itself and no byte beyond it. */
void pt_reasm_fin(struct pt_reasm_dir *d, uint32_t seq_end);

/* The peer acknowledged everything below `ack`: anything missing below it is a gap. */
void pt_reasm_ack(struct pt_reasm_dir *d, int dir, uint32_t ack, struct pt_reasm_budget *b,
                  const struct pt_reasm_sink *s);

/* End of the stream: buffered out-of-order data is delivered after gaps. Frees memory. */
void pt_reasm_finish(struct pt_reasm_dir *d, int dir, struct pt_reasm_budget *b,
                     const struct pt_reasm_sink *s);

/* Bytes this direction holds: the history ring and the out-of-order payload (core/memcap.h). */
size_t pt_reasm_mem(const struct pt_reasm_dir *d);

/* Free without delivering (table teardown). */
void pt_reasm_free(struct pt_reasm_dir *d, struct pt_reasm_budget *b);

#endif
