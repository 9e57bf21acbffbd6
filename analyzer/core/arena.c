/*
 * arena.c - the bump allocator's slow paths (arena.h): a new chunk, reset to a mark.
 */
#include "arena.h"

#include <stdint.h>

struct pt_arena_chunk *pt_arena_grow(struct pt_arena *a, size_t n)
{
    size_t size = a->chunk != 0 ? a->chunk : PT_ARENA_CHUNK;
    size_t cap = n > size ? n : size;
    struct pt_arena_chunk *c = NULL;
    if (cap <= SIZE_MAX - sizeof *c && (a->limit == 0 || cap <= a->limit - a->total)) {
        c = malloc(sizeof *c + cap);
    }
    if (c == NULL) {
        a->full = true;
        return NULL;
    }
    c->next = a->head;
    c->used = 0;
    c->cap = cap;
    a->head = c;
    a->total += cap;
    return c;
}

void pt_arena_reset(struct pt_arena *a, struct pt_arena_mark m)
{
    while (a->head != m.head) {
        struct pt_arena_chunk *c = a->head;
        a->head = c->next;
        a->total -= c->cap;
        free(c);
    }
    if (a->head != NULL) {
        a->head->used = m.used;
    }
}

void pt_arena_free(struct pt_arena *a)
{
    struct pt_arena_mark none = {NULL, 0};
    pt_arena_reset(a, none);
    a->full = false;
}
