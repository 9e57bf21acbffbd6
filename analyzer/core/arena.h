/*
 * arena.h - a bump allocator for many small strings that die together (the PHI stage's
 * per-object results: a value, field, reason and issuer per hit, freed when the object is
 * written), so each costs a copy instead of a malloc and a free.
 *
 * Owner: the struct pt_arena; pt_arena_free releases every string it gave at once. Not
 * shared between threads.
 */
#ifndef PT_ARENA_H
#define PT_ARENA_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct pt_arena_chunk {
    struct pt_arena_chunk *next;
    size_t used, cap;
    char data[];
};

struct pt_arena {
    struct pt_arena_chunk *head;
};

enum { PT_ARENA_CHUNK = 16384 - sizeof(struct pt_arena_chunk) };

/* A copy of s[0..n) with a NUL after it, owned by the arena; NULL when memory ran out. */
static inline char *pt_arena_strndup(struct pt_arena *a, const char *s, size_t n)
{
    struct pt_arena_chunk *c = a->head;
    if (c == NULL || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > PT_ARENA_CHUNK ? n + 1 : PT_ARENA_CHUNK;
        c = malloc(sizeof *c + cap);
        if (c == NULL) {
            return NULL;
        }
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    char *d = c->data + c->used;
    memcpy(d, s, n);
    d[n] = '\0';
    c->used += n + 1;
    return d;
}

static inline char *pt_arena_strdup(struct pt_arena *a, const char *s)
{
    return pt_arena_strndup(a, s, strlen(s));
}

/* Frees every string of the arena; it can be used again. */
static inline void pt_arena_free(struct pt_arena *a)
{
    while (a->head != NULL) {
        struct pt_arena_chunk *c = a->head;
        a->head = c->next;
        free(c);
    }
}

#endif
