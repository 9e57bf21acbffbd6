/*
 * fuzz_dns.c - libFuzzer target for the DNS decoder: the input as one UDP datagram, then
 * as a TCP stream of length-prefixed messages cut into pieces by its own bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/app.h"

extern const struct pt_app_proto pt_app_dns;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_app_ctx ctx = {0};
    struct pt_flow_rec rec;
    memset(&rec, 0, sizeof rec);
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    pt_app_dns.probe(17, 0, copy, size, 40000, 53);
    pt_app_dns.probe(6, 0, copy, size, 40000, 8053);
    void *st = pt_app_dns.open(&ctx, &rec);
    pt_app_dns.datagram(st, 0, copy, size, NULL);
    size_t off = 0;
    while (off < size) {
        size_t k = 1 + (copy[off] % 64);
        if (k > size - off) {
            k = size - off;
        }
        pt_app_dns.data(st, 1, off, copy + off, k, NULL);
        off += k;
    }
    pt_app_dns.close(st);
    free(copy);
    return 0;
}
