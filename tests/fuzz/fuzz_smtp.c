/*
 * fuzz_smtp.c - libFuzzer target for SMTP and the MIME walker: byte 0 sets the piece size;
 * the rest is the client stream (commands, DATA with MIME, BDAT), with a server 220 after it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/app.h"
#include "fuzz_store.h"

extern const struct pt_app_proto pt_app_smtp;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    struct pt_app_ctx ctx = {.store = fuzz_store_get(), .object = fuzz_on_object};
    struct pt_flow_rec rec;
    memset(&rec, 0, sizeof rec);
    size_t step = 1 + data[0], n = size - 1;
    uint8_t *copy = malloc(n ? n : 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data + 1, n);
    pt_app_smtp.probe(6, 0, copy, n, 40000, 25);
    void *st = pt_app_smtp.open(&ctx, &rec);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        if (data[0] == 0x7f && i > 0 && i % 97 == 0) {
            pt_app_smtp.gap(st, 0, off, 13);
            off += 13;
        }
        pt_app_smtp.data(st, 0, off, copy + i, k, NULL);
        off += k;
    }
    pt_app_smtp.data(st, 1, 0, (const uint8_t *)"220 go ahead\r\n", 14, NULL);
    pt_app_smtp.close(st);
    free(copy);
    return 0;
}
