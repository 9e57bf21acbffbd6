/* queue.c - bounded blocking queue (see queue.h). */
#include "queue.h"

#include <stdlib.h>

pt_status pt_queue_init(struct pt_queue *q, size_t cap)
{
    q->slots = calloc(cap, sizeof *q->slots);
    if (q->slots == NULL) {
        return PT_ENOMEM;
    }
    q->cap = cap;
    q->head = q->n = 0;
    q->closed = false;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    return PT_OK;
}

void pt_queue_fini(struct pt_queue *q)
{
    if (q->slots == NULL) {
        return;
    }
    free(q->slots);
    q->slots = NULL;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
}

bool pt_queue_push(struct pt_queue *q, void *item)
{
    pthread_mutex_lock(&q->mu);
    while (q->n == q->cap && !q->closed) {
        pthread_cond_wait(&q->not_full, &q->mu);
    }
    if (q->closed) {
        pthread_mutex_unlock(&q->mu);
        return false;
    }
    q->slots[(q->head + q->n) % q->cap] = item;
    q->n++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
    return true;
}

void *pt_queue_pop(struct pt_queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->n == 0 && !q->closed) {
        pthread_cond_wait(&q->not_empty, &q->mu);
    }
    void *item = NULL;
    if (q->n > 0) {
        item = q->slots[q->head];
        q->head = (q->head + 1) % q->cap;
        q->n--;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->mu);
    return item;
}

void pt_queue_close(struct pt_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}
