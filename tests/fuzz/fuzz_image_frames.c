/*
 * fuzz_image_frames.c - libFuzzer target for the disk-image reader's framed output
 * (analyzer/ingest/image_frame.c through image.c's pt_image_feed): the input is what a
 * crashed or compromised reader child might write on its pipe, fed in two pieces.
 */
#include <stddef.h>
#include <stdint.h>

#include "ingest/image.h"

static void sink(void *arg, const struct pt_img_rec *r)
{
    uint64_t *sum = arg;
    *sum += r->type + r->n + r->size + r->path[0] + r->note[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t sum = 0;
    struct pt_image_stats st = {0};
    bool in_file = false, bad = false;
    size_t half = size / 2;
    size_t used = pt_image_feed(data, half, sink, &sum, &st, &in_file, &bad);
    if (!bad) {
        pt_image_feed(data + used, size - used, sink, &sum, &st, &in_file, &bad);
    }
    return 0;
}
