/*
 * fuzz_http.c - libFuzzer target for the HTTP/1.x decoder and the object store.
 *
 * Input layout: a sequence of records, each 1 control byte then data up to the next 0xff
 * byte: control bit 0 picks the direction, bit 1 makes the record a gap of (length of
 * the data) bytes instead of data. Objects are written under a temporary directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/app.h"
#include "fuzz_store.h"

extern const struct pt_app_proto pt_app_http;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_app_ctx ctx = {.store = fuzz_store_get(), .object = fuzz_on_object};
    struct pt_flow_rec rec;
    memset(&rec, 0, sizeof rec);
    rec.id = 1;
    rec.cls = PT_CLASS_OUTBOUND;
    void *st = pt_app_http.open(&ctx, &rec);
    uint64_t off[2] = {0, 0};
    size_t i = 0;
    while (i < size) {
        uint8_t ctl = data[i++];
        size_t start = i;
        while (i < size && data[i] != 0xff) {
            i++;
        }
        size_t n = i - start;
        int d = ctl & 1;
        if (ctl & 2) {
            pt_app_http.gap(st, d, off[d], n);
        } else {
            uint8_t *copy = malloc(n ? n : 1); /* exact size: overreads are caught */
            memcpy(copy, data + start, n);
            pt_app_http.data(st, d, off[d], copy, n, NULL);
            free(copy);
        }
        off[d] += n;
        i += i < size; /* skip the separator */
    }
    pt_app_http.close(st);
    return 0;
}
