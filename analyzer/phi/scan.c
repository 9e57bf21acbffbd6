/*
 * scan.c - which PHI parser reads an object: by content, most specific first (DICOM, HL7,
 * X12, FHIR JSON/NDJSON, XML, a CSV with patient columns, then any other text). Binary
 * content that is none of these is not scanned (archives were unpacked into their members
 * before; see analyze/unpack.c).
 */
#include <string.h>

#include "phi.h"

static const char *const names[] = {
    [PT_PHI_FMT_NONE] = "binary", [PT_PHI_FMT_DICOM] = "dicom", [PT_PHI_FMT_HL7] = "hl7",
    [PT_PHI_FMT_FHIR_JSON] = "fhir-json", [PT_PHI_FMT_NDJSON] = "fhir-ndjson",
    [PT_PHI_FMT_XML] = "xml", [PT_PHI_FMT_X12] = "x12", [PT_PHI_FMT_CSV] = "csv",
    [PT_PHI_FMT_TEXT] = "text",
};

const char *pt_phi_format_name(enum pt_phi_format f)
{
    return f <= PT_PHI_FMT_TEXT ? names[f] : "?";
}

static bool texty(const uint8_t *p, size_t n)
{
    size_t m = n < 8192 ? n : 8192, bad = 0;
    if (m == 0) {
        return false;
    }
    for (size_t i = 0; i < m; i++) {
        uint8_t c = p[i];
        if (c == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' &&
                       c != 0x0b && c != 0x1c)) {
            bad++;
        }
    }
    return bad * 100 <= m; /* at most 1% control bytes */
}

enum pt_phi_format pt_phi_sniff(const uint8_t *p, size_t n)
{
    if (n >= 132 && memcmp(p + 128, "DICM", 4) == 0) {
        return PT_PHI_FMT_DICOM;
    }
    size_t i = 0;
    if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
        i = 3; /* UTF-8 byte order mark */
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n' || p[i] == 0x0b)) {
        i++;
    }
    const uint8_t *q = p + i;
    size_t m = n - i;
    if (m >= 8 && (memcmp(q, "MSH", 3) == 0 || memcmp(q, "FHS", 3) == 0 ||
                   memcmp(q, "BHS", 3) == 0) &&
        q[3] != ' ' && q[3] != '\n' && q[3] != '\r' && q[4] != q[3]) {
        return PT_PHI_FMT_HL7;
    }
    if (m >= 106 && memcmp(q, "ISA", 3) == 0 && q[3] != ' ' && !(q[3] >= '0' && q[3] <= 'z')) {
        return PT_PHI_FMT_X12;
    }
    if (!texty(p, n)) {
        return pt_phi_dicom_bare(p, n) ? PT_PHI_FMT_DICOM : PT_PHI_FMT_NONE;
    }
    size_t head = n < 65536 ? n : 65536;
    if (m > 0 && (q[0] == '{' || q[0] == '[')) {
        if (memmem(p, head, "\"resourceType\"", 14) == NULL) {
            return PT_PHI_FMT_TEXT;
        }
        /* NDJSON: a second line that starts another object */
        const uint8_t *nl = memchr(q, '\n', m);
        while (nl != NULL && (size_t)(nl - q) + 1 < m && (nl[1] == '\r' || nl[1] == '\n')) {
            nl++;
        }
        if (q[0] == '{' && nl != NULL && (size_t)(nl - q) + 1 < m && nl[1] == '{') {
            return PT_PHI_FMT_NDJSON;
        }
        return PT_PHI_FMT_FHIR_JSON;
    }
    if (m > 0 && q[0] == '<') {
        return PT_PHI_FMT_XML;
    }
    if (pt_phi_csv_header(q, m)) {
        return PT_PHI_FMT_CSV;
    }
    return PT_PHI_FMT_TEXT;
}

enum pt_phi_format pt_phi_scan(const uint8_t *p, size_t n, const struct pt_phi_sink *sink)
{
    enum pt_phi_format f = pt_phi_sniff(p, n);
    switch (f) {
        case PT_PHI_FMT_DICOM: pt_phi_dicom(p, n, sink); break;
        case PT_PHI_FMT_HL7: pt_phi_hl7(p, n, sink); break;
        case PT_PHI_FMT_X12: pt_phi_x12(p, n, sink); break;
        case PT_PHI_FMT_FHIR_JSON: pt_phi_json(p, n, false, sink); break;
        case PT_PHI_FMT_NDJSON: pt_phi_json(p, n, true, sink); break;
        case PT_PHI_FMT_XML: pt_phi_xml(p, n, sink); break;
        case PT_PHI_FMT_CSV: pt_phi_csv(p, n, sink); break;
        case PT_PHI_FMT_TEXT: pt_phi_text(p, n, 0, sink); break;
        case PT_PHI_FMT_NONE: break;
    }
    return f;
}
