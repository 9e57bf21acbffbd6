/*
 * fuzz_ssh.c - libFuzzer target for the SSH version-exchange decoder; the input is a sequence
 * of records in both directions (see fuzz_records.h).
 */
#include "fuzz_records.h"

extern const struct pt_app_proto pt_app_ssh;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_records(&pt_app_ssh, data, size, 22);
    return 0;
}
