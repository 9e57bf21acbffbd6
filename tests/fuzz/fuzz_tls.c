/*
 * fuzz_tls.c - libFuzzer target for the TLS handshake decoder. Byte 0 chooses how the
 * rest is cut into stream pieces; bytes alternate direction by their piece index.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/app.h"

extern const struct pt_app_proto pt_app_tls;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    struct pt_app_ctx ctx = {0};
    struct pt_flow_rec rec;
    memset(&rec, 0, sizeof rec);
    size_t step = 1 + data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    uint8_t *copy = malloc(n);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, p, n);
    pt_app_tls.probe(6, 0, copy, n, 40000, 443);
    void *st = pt_app_tls.open(&ctx, &rec);
    uint64_t off[2] = {0, 0};
    for (size_t i = 0, piece = 0; i < n; i += step, piece++) {
        size_t k = n - i < step ? n - i : step;
        int dir = (data[0] & 0x80) ? (int)(piece & 1) : 0;
        pt_app_tls.data(st, dir, off[dir], copy + i, k, NULL);
        off[dir] += k;
    }
    pt_app_tls.close(st);
    free(copy);
    return 0;
}
