/*
 * fuzz_plan.c - libFuzzer target for the shard plan reader (analyzer/scale/plan.c): the input
 * is a plan file. A plan that loads must be whole: items numbered 1..n in order, each in a
 * shard below the shard count, with a path; at least one input argument; an item's byte
 * ranges contiguous from 0 to its size, in ascending shards.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pipeline.h"
#include "scale/scale.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("plan", MFD_CLOEXEC);
    if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size)) {
        abort();
    }
    char path[64], err[512] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct pt_plan p;
    if (pt_plan_load(path, &p, err, sizeof err) == PT_OK) {
        if (p.shards == 0 || p.shards > PT_PLAN_MAX_SHARDS || p.n_inputs == 0) {
            abort();
        }
        size_t ranges = 0;
        for (size_t i = 0; i < p.n_items; i++) {
            const struct pt_plan_item *it = &p.items[i];
            if (it->id != i + 1 || it->shard >= p.shards || it->path == NULL ||
                it->path[0] == '\0' || it->n_ranges == 1) {
                abort();
            }
            /* an item's ranges: from 0 to its size without gap, shards ascending and below
             * the count, the first in the item's shard, packets before each growing */
            for (size_t j = 0; j < it->n_ranges; j++) {
                const struct pt_plan_range *r = &p.ranges[it->first_range + j];
                const struct pt_plan_range *q = j ? r - 1 : NULL;
                if (it->first_range + j >= p.n_ranges || r->r.item != it->id ||
                    r->shard >= p.shards || r->r.end <= r->r.offset ||
                    (q == NULL && (r->r.offset != 0 || r->shard != it->shard)) ||
                    (q != NULL && (r->r.offset != q->r.end || r->shard <= q->shard ||
                                   r->r.frames <= q->r.frames)) ||
                    (j + 1 == it->n_ranges && r->r.end != it->size)) {
                    abort();
                }
            }
            ranges += it->n_ranges;
        }
        if (ranges != p.n_ranges) {
            abort();
        }
        pt_plan_fini(&p);
    } else if (err[0] == '\0') {
        abort(); /* a refusal always says why */
    }
    close(fd);
    return 0;
}
