/*
 * arena.h - a bump allocator for many small things that die together: the PHI stage's
 * per-object strings (a value, field, reason and issuer per hit, freed when the object is
 * written) and the PDF reader's values (analyze/doc_pdf.c: the objects' for the document,
 * content-stream operands reset to a mark as they go). Each costs a copy instead of a malloc
 * and a free.
 *
 * Owner: the struct pt_arena; pt_arena_free releases everything it gave at once,
 * pt_arena_reset what it gave after a mark. Zero-initialised it is ready, unlimited, in
 * chunks of PT_ARENA_CHUNK; `limit` caps the bytes of its chunks (a hostile document cannot
 * make it grow past it) and `chunk` sets their size. Not shared between threads.
 */
#ifndef PT_ARENA_H
#define PT_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct pt_arena_chunk {
    struct pt_arena_chunk *next; /* the one before: the newest chunk is the head */
    size_t used, cap;            /* bytes of data */
    max_align_t data[];
};

struct pt_arena {
    struct pt_arena_chunk *head;
    size_t total;  /* bytes of data in all chunks */
    size_t limit;  /* the most `total` may reach; 0: no limit */
    size_t chunk;  /* the size of a chunk's data; 0: PT_ARENA_CHUNK */
    bool full;     /* an allocation was refused (the limit, or no memory); sticky */
};

/* Where an arena was: pt_arena_reset gives back everything allocated after it. */
struct pt_arena_mark {
    struct pt_arena_chunk *head;
    size_t used;
};

enum { PT_ARENA_CHUNK = 16384 - sizeof(struct pt_arena_chunk) };

/* A new chunk for n bytes, made the head (arena.c); NULL, and a->full, when refused. */
struct pt_arena_chunk *pt_arena_grow(struct pt_arena *a, size_t n);

/* n bytes at an offset that is a multiple of `align` (a power of two, at most
 * alignof(max_align_t)); NULL, and a->full, when refused. */
static inline void *pt_arena_take(struct pt_arena *a, size_t n, size_t align)
{
    struct pt_arena_chunk *c = a->head;
    size_t at = c != NULL ? (c->used + align - 1) & ~(align - 1) : 0;
    if (c == NULL || at > c->cap || n > c->cap - at) {
        if ((c = pt_arena_grow(a, n)) == NULL) {
            return NULL;
        }
        at = 0;
    }
    c->used = at + n;
    return (char *)c->data + at;
}

/* n bytes aligned for any type (the PDF reader's values). */
static inline void *pt_arena_alloc(struct pt_arena *a, size_t n)
{
    return pt_arena_take(a, n, sizeof(max_align_t));
}

/* A copy of s[0..n) with a NUL after it, owned by the arena; NULL when refused. */
static inline char *pt_arena_strndup(struct pt_arena *a, const char *s, size_t n)
{
    char *d = pt_arena_take(a, n + 1, 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static inline char *pt_arena_strdup(struct pt_arena *a, const char *s)
{
    return pt_arena_strndup(a, s, strlen(s));
}

static inline struct pt_arena_mark pt_arena_mark(const struct pt_arena *a)
{
    struct pt_arena_mark m = {a->head, a->head != NULL ? a->head->used : 0};
    return m;
}

/* Gives back everything allocated since m (the chunks made since are freed). */
void pt_arena_reset(struct pt_arena *a, struct pt_arena_mark m);

/* Frees everything the arena gave; it can be used again (its limit and chunk size kept, full
 * cleared). */
void pt_arena_free(struct pt_arena *a);

#endif
