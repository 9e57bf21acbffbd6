/* fuzz_phi_scan.c - libFuzzer target for the PHI dispatcher and the parsers it reaches
 * (free text, XML/CDA, X12 and the rest), the printable-run reader for binary content and
 * the evidence sniffer, with the ICD-10-CM table loaded. */
#include "fuzz_phi.h"
#include "ingest/sniff.h"

static void scan(const uint8_t *p, size_t n, const struct pt_phi_sink *s)
{
    (void)pt_phi_scan(p, n, s);
}

/* binary content read in its printable runs, and the evidence-kind sniffer */
static void strings(const uint8_t *p, size_t n, const struct pt_phi_sink *s)
{
    (void)pt_phi_strings(p, n, s);
    (void)pt_sniff_evidence(p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int loaded;
    if (!loaded) {
        char err[256];
        struct pt_phi_config_file f[4];
        size_t n;
        loaded = 1;
        pt_phi_config_load("signatures", f, 4, &n, err, sizeof err);
        pt_phi_config_add_mask("RAD######");
    }
    fuzz_phi(scan, data, size);
    fuzz_phi(pt_phi_x12, data, size);
    fuzz_phi(pt_phi_xml, data, size);
    fuzz_phi(strings, data, size);
    return 0;
}
