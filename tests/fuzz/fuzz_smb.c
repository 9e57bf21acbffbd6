/*
 * fuzz_smb.c - libFuzzer target for the SMB1/SMB2 decoder; the input is a sequence
 * of records in both directions (see fuzz_records.h).
 */
#include "fuzz_records.h"

extern const struct pt_app_proto pt_app_smb;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_records(&pt_app_smb, data, size, 445);
    return 0;
}
