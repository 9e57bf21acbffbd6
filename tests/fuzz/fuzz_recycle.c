/*
 * fuzz_recycle.c - libFuzzer target for the recycle-bin `$I` parser (analyze/recycle.c): the
 * input is one file. A record it accepts must be version 1 (544 bytes) or 2, with a
 * NUL-terminated, non-empty path of valid length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/recycle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pt_recycle r;
    if (!pt_recycle_parse(data, size, &r)) {
        return 0;
    }
    size_t len = strnlen(r.path, sizeof r.path);
    if (len == 0 || len == sizeof r.path || (r.version == 1 && size != 544) ||
        (r.version != 1 && r.version != 2) || r.size > (uint64_t)INT64_MAX) {
        abort();
    }
    return 0;
}
