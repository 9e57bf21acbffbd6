/*
 * queue.h - bounded blocking queue of pointers between threads.
 *
 * Used at batch granularity only (hundreds of packets or records per item),
 * so its mutex is never on the per-packet path. Bounded so a slow consumer
 * holds producers back instead of growing memory.
 */
#ifndef PT_QUEUE_H
#define PT_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "status.h"

struct pt_queue {
    void **slots; /* owned */
    size_t cap, head, n;
    bool closed;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
};

pt_status pt_queue_init(struct pt_queue *q, size_t cap);
void pt_queue_fini(struct pt_queue *q);
/* Blocks while full. Returns false when the queue was closed (the item is not taken). */
bool pt_queue_push(struct pt_queue *q, void *item);
/* Blocks while empty. Returns NULL once closed and drained. */
void *pt_queue_pop(struct pt_queue *q);
/* No more pushes; pops drain what is left, then return NULL. */
void pt_queue_close(struct pt_queue *q);

#endif
