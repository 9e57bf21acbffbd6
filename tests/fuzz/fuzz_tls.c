/*
 * fuzz_tls.c - libFuzzer target for the TLS handshake decoder; the input is a sequence of
 * records in both directions (see fuzz_records.h).
 */
#include "fuzz_records.h"

extern const struct pt_app_proto pt_app_tls;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_records(&pt_app_tls, data, size, 443);
    return 0;
}
