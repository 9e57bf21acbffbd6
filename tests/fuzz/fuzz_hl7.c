/*
 * fuzz_hl7.c - libFuzzer target for HL7 over MLLP: the input is fed as a client stream in
 * pieces whose sizes come from byte 0; a byte 0 with the top bit set puts a gap in the middle.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/app.h"
#include "fuzz_store.h"

extern const struct pt_app_proto pt_app_hl7;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    struct pt_app_ctx ctx = {.store = fuzz_store_get(), .object = fuzz_on_object};
    struct pt_flow_rec rec;
    memset(&rec, 0, sizeof rec);
    size_t step = 1 + (data[0] & 0x7f);
    uint8_t *copy = malloc(size);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data + 1, size - 1);
    size_t n = size - 1;
    pt_app_hl7.probe(6, 0, copy, n, 40000, 2575);
    void *st = pt_app_hl7.open(&ctx, &rec);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        if ((data[0] & 0x80) && i == (n / 2 / step) * step) {
            pt_app_hl7.gap(st, 0, off, 10);
            off += 10;
        }
        pt_app_hl7.data(st, 0, off, copy + i, k, NULL);
        off += k;
    }
    pt_app_hl7.close(st);
    free(copy);
    return 0;
}
