/*
 * fuzz_plan.c - libFuzzer target for the shard plan reader (analyzer/scale/plan.c): the input
 * is a plan file. A plan that loads must be whole: items numbered 1..n in order, each in a
 * shard below the shard count, with a path; at least one input argument.
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
        for (size_t i = 0; i < p.n_items; i++) {
            if (p.items[i].id != i + 1 || p.items[i].shard >= p.shards ||
                p.items[i].path == NULL || p.items[i].path[0] == '\0') {
                abort();
            }
        }
        pt_plan_fini(&p);
    } else if (err[0] == '\0') {
        abort(); /* a refusal always says why */
    }
    close(fd);
    return 0;
}
