/* fuzz_phi_dicom.c - libFuzzer target for the dicom PHI parser (analyzer/phi/). */
#include "fuzz_phi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_phi(pt_phi_dicom, data, size);
    return 0;
}
