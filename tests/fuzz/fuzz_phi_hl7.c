/* fuzz_phi_hl7.c - libFuzzer target for the hl7 PHI parser (analyzer/phi/). */
#include "fuzz_phi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_phi(pt_phi_hl7, data, size);
    return 0;
}
