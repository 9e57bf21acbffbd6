/* fuzz_phi_fhir.c - libFuzzer target for the FHIR JSON and NDJSON PHI parser. */
#include "fuzz_phi.h"

static void json(const uint8_t *p, size_t n, const struct pt_phi_sink *s)
{
    pt_phi_json(p, n, false, s);
}

static void ndjson(const uint8_t *p, size_t n, const struct pt_phi_sink *s)
{
    pt_phi_json(p, n, true, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_phi(json, data, size);
    fuzz_phi(ndjson, data, size);
    return 0;
}
