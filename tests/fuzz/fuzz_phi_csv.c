/* fuzz_phi_csv.c - libFuzzer target for the csv PHI parser (analyzer/phi/). */
#include "fuzz_phi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_phi(pt_phi_csv, data, size);
    return 0;
}
