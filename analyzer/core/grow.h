/*
 * grow.h - one place for growing an array by doubling, and for saying when it could not.
 */
#ifndef PT_GROW_H
#define PT_GROW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Make room for `need` elements of `size` bytes in the array whose pointer is at `pp` (for
 * `struct x *v`, pass &v) and whose capacity is *cap, doubling from `first`. Returns false
 * when memory ran out or the size would overflow; the array and *cap are then unchanged. */
static inline bool pt_grow(void *pp, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap) {
        return true;
    }
    size_t nc = *cap ? *cap : (first ? first : 1);
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / size) {
            return false;
        }
        nc *= 2;
    }
    void *old;
    memcpy(&old, pp, sizeof old);
    void *n = realloc(old, nc * size);
    if (n == NULL) {
        return false;
    }
    memcpy(pp, &n, sizeof n);
    *cap = nc;
    return true;
}

#endif
