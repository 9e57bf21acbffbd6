/*
 * fuzz_doctext.c - libFuzzer target for the document readers (doctext.h): byte 0 picks the
 * reader (0: decided by sniffing the rest, as the pipeline does; 1-8: DOCX, XLSX, PPTX, ODT,
 * ODS, ODP, RTF, PDF forced), the rest is the document. Zip members, XML, RTF groups, PDF
 * objects, streams, object streams, fonts and CMaps are all reached from the seeds in
 * corpus/doctext/ (tests/fuzz/make_doctext_seeds.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/doctext.h"

static void on_anomaly(void *arg, enum pt_anom kind_id, const char *detail)
{
    const char *kind = pt_anom_kind(kind_id);
    (void)arg;
    if (kind == NULL || detail == NULL || strncmp(kind, "doc", 3) != 0) {
        if (kind == NULL || strncmp(kind, "limit.", 6) != 0) {
            abort(); /* every anomaly of this module is doc.* or limit.* */
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const uint8_t *b = data + 1;
    size_t n = size - 1;
    enum pt_doc_kind k = data[0] % 9 == 0 ? pt_doc_sniff(b, n) : (enum pt_doc_kind)(data[0] % 9);
    if (k == PT_DOC_NONE) {
        return 0;
    }
    struct pt_doc_text t = {0};
    struct pt_doc_sink sink = {NULL, on_anomaly};
    pt_status rc = pt_doc_extract(b, n, k, &t, &sink);
    if (rc != PT_OK && rc != PT_ENOMEM) {
        abort();
    }
    /* the text is valid to read whole; a cut stays within the limit */
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < t.n; i++) {
        sum += (uint8_t)t.p[i];
    }
    (void)sum;
    pt_doc_text_fini(&t);
    return 0;
}
