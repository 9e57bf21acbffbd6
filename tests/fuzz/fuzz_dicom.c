/*
 * fuzz_dicom.c - libFuzzer target for the DICOM upper layer and DIMSE decoder. Byte 0 sets
 * the piece size; bit 7 of byte 0 alternates pieces between the two directions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/app.h"
#include "fuzz_store.h"

extern const struct pt_app_proto pt_app_dicom;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    struct pt_app_ctx ctx = {.store = fuzz_store_get(), .object = fuzz_on_object};
    struct pt_flow_rec rec;
    memset(&rec, 0, sizeof rec);
    size_t n = size - 1, step = 1 + (data[0] & 0x7f) * 8;
    uint8_t *copy = malloc(n ? n : 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data + 1, n);
    pt_app_dicom.probe(6, 0, copy, n, 40000, 104);
    void *st = pt_app_dicom.open(&ctx, &rec);
    uint64_t off[2] = {0, 0};
    for (size_t i = 0, piece = 0; i < n; i += step, piece++) {
        size_t k = n - i < step ? n - i : step;
        int d = (data[0] & 0x80) ? (int)(piece & 1) : 0;
        pt_app_dicom.data(st, d, off[d], copy + i, k, NULL);
        off[d] += k;
    }
    pt_app_dicom.close(st);
    free(copy);
    return 0;
}
