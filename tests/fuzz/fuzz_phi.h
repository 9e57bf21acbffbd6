/* fuzz_phi.h - one libFuzzer entry per PHI parser: the input is the whole object, copied so a
 * read past its end is caught; a sink that keeps nothing. */
#ifndef PT_FUZZ_PHI_H
#define PT_FUZZ_PHI_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phi/config.h"
#include "phi/phi.h"

static void fz_record(void *a, const char *k, uint64_t o)
{
    (void)a, (void)k, (void)o;
}

static void fz_hit(void *a, const struct pt_phi_hit *h)
{
    (void)a;
    if (h->value == NULL || h->field == NULL || h->reason == NULL) {
        abort();
    }
    (void)strlen(h->value); /* every value is a NUL-terminated string */
}

static void fz_health(void *a, const char *w)
{
    (void)a, (void)w;
}

static void fz_anomaly(void *a, uint64_t o, enum pt_anom k, const char *d)
{
    (void)a, (void)o, (void)k, (void)d;
}

static inline void fuzz_phi(void (*fn)(const uint8_t *, size_t, const struct pt_phi_sink *),
                            const uint8_t *data, size_t size)
{
    static const struct pt_phi_sink sink = {NULL, fz_record, fz_hit, fz_health, fz_anomaly};
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, data, size);
    fn(copy, size, &sink);
    free(copy);
}

#endif
