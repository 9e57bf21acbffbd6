/*
 * memcap.h - one case-wide memory cap over per-flow decoder state (issue 17), as Suricata's
 * memcaps: every worker's flow table charges what its flows hold (the flow itself, TCP
 * reassembly, protocol detection look-ahead, the decoder's state and buffers) to one shared
 * counter; past the cap the worker that pushed it over ends its oldest idle flows early
 * (analyzer/flow/flow.c) until the counter is back under the low watermark.
 *
 * The figures are the bytes allocated for the state, not resident pages: the cap bounds what
 * the state can grow to, whatever the kernel has touched yet. Lock-free; any thread.
 *
 * Also the one growth helper for decoder buffers, so a buffer is as large as what it holds,
 * not as its limit (a half-open flow then charges a few hundred bytes, not 256 KiB).
 */
#ifndef PT_MEMCAP_H
#define PT_MEMCAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pt_memcap {
    _Atomic uint64_t used;  /* bytes charged by all workers */
    uint64_t max;           /* the cap; 0: no cap (nothing is ever evicted) */
    _Atomic uint64_t peak;  /* highest `used` seen */
    _Atomic uint64_t evicted_flows, evicted_bytes, bursts;
    _Atomic unsigned holders; /* flow tables charging to it */
};

void pt_memcap_init(struct pt_memcap *m, uint64_t max);
/* Add `delta` (may be negative) to the charged bytes. NULL-safe. */
void pt_memcap_charge(struct pt_memcap *m, int64_t delta);
uint64_t pt_memcap_used(const struct pt_memcap *m);
/* Above the cap: the caller should evict. */
bool pt_memcap_over(const struct pt_memcap *m);
/* One more flow table charges to the cap. */
void pt_memcap_hold(struct pt_memcap *m);
/* Where an eviction burst stops: PT_MEMCAP_LOW_PERCENT of the cap. */
uint64_t pt_memcap_low(const struct pt_memcap *m);
/* A holder's fair share of the low watermark: over the cap, every holder above it evicts, so
 * one worker does not give up all its flows while another keeps growing (each worker's
 * allocator arena would otherwise grow to the whole cap). */
uint64_t pt_memcap_share(const struct pt_memcap *m);
/* Count one eviction burst that released `bytes` of `flows` flows. */
void pt_memcap_evicted(struct pt_memcap *m, uint64_t flows, uint64_t bytes);

/*
 * Make *buf (capacity *cap, owned by the caller, may be NULL) hold at least `need` bytes,
 * doubling from PT_MEMCAP_BUF_MIN up to `max`. False when need > max or memory ran out; the
 * buffer and its content are then unchanged.
 */
bool pt_buf_reserve(uint8_t **buf, size_t *cap, size_t need, size_t max);

#endif
