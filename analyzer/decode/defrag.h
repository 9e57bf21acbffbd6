/*
 * defrag.h - IPv4 and IPv6 fragment reassembly.
 *
 * RFC 791 §3.2 and RFC 8200 §4.5. Overlap policy: first data wins (what
 * most end hosts keep, and what our TCP reassembly does too); an overlapping
 * fragment whose bytes differ is recorded as an anomaly. RFC 5722 tells IPv6
 * hosts to drop such datagrams; we keep the first bytes and say so, because
 * the evidence question is what was sent, not what a host accepted.
 *
 * Limits: PT_DEFRAG_* in core/limits.h; each hit is an anomaly.
 */
#ifndef PT_DEFRAG_H
#define PT_DEFRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"

struct pt_frag_key {
    struct pt_addr src, dst;
    uint32_t id;      /* IPv4 identification (16 bits) or IPv6 fragment id */
    uint8_t proto;    /* IPv4 protocol / IPv6 next header after the fragment header */
    uint8_t family;   /* 4 or 6 */
    struct pt_ctx ctx;
};

enum pt_defrag_result {
    PT_DEFRAG_PENDING,  /* kept, datagram not complete yet */
    PT_DEFRAG_DONE,     /* *out holds the whole payload */
    PT_DEFRAG_DROPPED,  /* refused (limit or malformed); an anomaly was reported */
};

struct pt_defrag;

struct pt_defrag *pt_defrag_new(pt_anomaly_fn sink, void *arg);
void pt_defrag_free(struct pt_defrag *d);

/*
 * Add the fragment payload `data[0..len)` at byte offset `off` of the
 * datagram payload; `more` is the MF / M flag. On PT_DEFRAG_DONE, *out and
 * *out_len view the reassembled payload: borrowed, valid until the next call.
 */
enum pt_defrag_result pt_defrag_add(struct pt_defrag *d, const struct pt_frame *f,
                                    const struct pt_frag_key *k, uint32_t off,
                                    const uint8_t *data, uint32_t len, bool more,
                                    const uint8_t **out, uint32_t *out_len);

/* Drop every pending datagram of `item` (or all when item is 0), one anomaly each. */
void pt_defrag_flush(struct pt_defrag *d, uint32_t item);

uint64_t pt_defrag_pending(const struct pt_defrag *d);

#endif
