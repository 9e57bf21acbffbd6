/*
 * memcap.c - the case-wide cap over per-flow decoder state (see memcap.h).
 */
#include "memcap.h"

#include <stdlib.h>

#include "limits.h"

void pt_memcap_init(struct pt_memcap *m, uint64_t max)
{
    atomic_init(&m->used, 0);
    atomic_init(&m->peak, 0);
    atomic_init(&m->evicted_flows, 0);
    atomic_init(&m->evicted_bytes, 0);
    atomic_init(&m->bursts, 0);
    atomic_init(&m->holders, 0);
    m->max = max;
}

void pt_memcap_charge(struct pt_memcap *m, int64_t delta)
{
    if (m == NULL || delta == 0) {
        return;
    }
    if (delta < 0) {
        atomic_fetch_sub_explicit(&m->used, (uint64_t)-delta, memory_order_relaxed);
        return;
    }
    uint64_t now =
        atomic_fetch_add_explicit(&m->used, (uint64_t)delta, memory_order_relaxed) +
        (uint64_t)delta;
    uint64_t peak = atomic_load_explicit(&m->peak, memory_order_relaxed);
    while (now > peak && !atomic_compare_exchange_weak_explicit(&m->peak, &peak, now,
                                                                memory_order_relaxed,
                                                                memory_order_relaxed)) {
    }
}

uint64_t pt_memcap_used(const struct pt_memcap *m)
{
    return atomic_load_explicit(&m->used, memory_order_relaxed);
}

bool pt_memcap_over(const struct pt_memcap *m)
{
    return m != NULL && m->max > 0 && pt_memcap_used(m) > m->max;
}

uint64_t pt_memcap_low(const struct pt_memcap *m)
{
    return m->max / 100 * PT_MEMCAP_LOW_PERCENT;
}

void pt_memcap_hold(struct pt_memcap *m)
{
    atomic_fetch_add_explicit(&m->holders, 1, memory_order_relaxed);
}

uint64_t pt_memcap_share(const struct pt_memcap *m)
{
    unsigned n = atomic_load_explicit(&m->holders, memory_order_relaxed);
    return pt_memcap_low(m) / (n > 0 ? n : 1);
}

void pt_memcap_evicted(struct pt_memcap *m, uint64_t flows, uint64_t bytes)
{
    atomic_fetch_add_explicit(&m->evicted_flows, flows, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->evicted_bytes, bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->bursts, 1, memory_order_relaxed);
}

bool pt_buf_reserve(uint8_t **buf, size_t *cap, size_t need, size_t max)
{
    if (need <= *cap) {
        return true;
    }
    if (need > max) {
        return false;
    }
    size_t n = *cap > 0 ? *cap : PT_MEMCAP_BUF_MIN;
    if (n > max) {
        n = max;
    }
    while (n < need) {
        n = n > max / 2 ? max : n * 2;
    }
    uint8_t *p = realloc(*buf, n);
    if (p == NULL) {
        return false;
    }
    *buf = p;
    *cap = n;
    return true;
}
