/* sink.h - an anomaly sink for decoder tests: counts anomalies and keeps the last kind. */
#ifndef PT_TEST_SINK_H
#define PT_TEST_SINK_H

#include <stdio.h>

#include "decode/decode.h"

struct sink {
    int n;
    char last[64];
};

static inline void on_anomaly(void *arg, const struct pt_frame *f, uint64_t off,
                              enum pt_anom kind_id, const char *detail)
{
    const char *kind = pt_anom_kind(kind_id);
    (void)f;
    (void)off;
    (void)detail;
    struct sink *s = arg;
    s->n++;
    snprintf(s->last, sizeof s->last, "%s", kind);
}

#endif
