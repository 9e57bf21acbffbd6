/*
 * fuzz_dns.c - libFuzzer target for the DNS decoder: the records of the input (see
 * fuzz_records.h) as UDP datagrams, then as a TCP stream (length-prefixed messages).
 */
#include "fuzz_records.h"

extern const struct pt_app_proto pt_app_dns;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_datagrams(&pt_app_dns, data, size, 53);
    fuzz_records(&pt_app_dns, data, size, 53);
    return 0;
}
