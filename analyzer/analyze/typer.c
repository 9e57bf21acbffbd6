/* typer.c - object types without libmagic where phitrace can be sure (see typer.h). */
#include "typer.h"

#include <stdio.h>
#include <string.h>

static bool starts(const uint8_t *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n >= k && memcmp(p, s, k) == 0;
}

/* Text as libmagic's encoding test calls it text/plain: ASCII's text characters and valid
 * UTF-8, no NUL or other control byte. A sequence cut at the end of the head is text. */
static bool is_text(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b) {
                return false;
            }
            i++;
            continue;
        }
        size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                     : c >= 0xe0 && c <= 0xef ? 3
                     : c >= 0xf0 && c <= 0xf4 ? 4
                                              : 0;
        if (len == 0) {
            return false;
        }
        for (size_t k = 1; k < len; k++) {
            if (i + k >= n) {
                return true; /* cut by the head */
            }
            if ((p[i + k] & 0xc0) != 0x80) {
                return false;
            }
        }
        i += len;
    }
    return true;
}

/* A FHIR resource or bundle serialised on one line whose JSON the head cuts (the object is
 * longer than the bytes libmagic reads): libmagic's JSON test fails on it, and its text test
 * names it by encoding and line shape. Only printable ASCII without '<' (no markup for the
 * HTML and XML rules to find), and only while the top-level value is still open (a whole
 * value is JSON to libmagic: left to it). */
static bool fhir_cut(const uint8_t *p, size_t n)
{
    if (!starts(p, n, "{\"resourceType\":\"")) {
        return false;
    }
    unsigned depth = 0;
    bool str = false, esc = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c < 0x20 || c > 0x7e || c == '<') {
            return false;
        }
        if (str) {
            if (esc) {
                esc = false;
            } else if (c == '\\') {
                esc = true;
            } else if (c == '"') {
                str = false;
            }
        } else if (c == '"') {
            str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return false;
        }
    }
    return true;
}

static bool named(char *mime, size_t mlen, char *desc, size_t dlen, const char *m, const char *d)
{
    snprintf(mime, mlen, "%s", m);
    snprintf(desc, dlen, "%s", d);
    return true;
}

bool pt_type_sniff(const uint8_t *p, size_t n, char *mime, size_t mlen, char *desc, size_t dlen)
{
    if (n == 0) {
        return named(mime, mlen, desc, dlen, "application/x-empty", "empty");
    }
    /* a preamble that starts with another signature (a TIFF header makes a file both) is
     * left to libmagic, which names the other format */
    if (n >= 132 && memcmp(p + 128, "DICM", 4) == 0 && memcmp(p, "\0\0\0\0", 4) == 0) {
        return named(mime, mlen, desc, dlen, "application/dicom", "DICOM medical imaging data");
    }
    if (n >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8) {
        return named(mime, mlen, desc, dlen, "application/gzip", "gzip compressed data");
    }
    if (starts(p, n, "%PDF-")) {
        return named(mime, mlen, desc, dlen, "application/pdf", "PDF document");
    }
    if (starts(p, n, "\x89PNG\r\n\x1a\n")) {
        return named(mime, mlen, desc, dlen, "image/png", "PNG image data");
    }
    if (n >= 4 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        return named(mime, mlen, desc, dlen, "image/jpeg", "JPEG image data");
    }
    if (starts(p, n, "GIF87a") || starts(p, n, "GIF89a")) {
        return named(mime, mlen, desc, dlen, "image/gif", "GIF image data");
    }
    /* HL7 v2 (a message or a batch) and X12 EDI: plain text to libmagic */
    bool hl7 = (starts(p, n, "MSH|") || starts(p, n, "FHS|") || starts(p, n, "BHS|")) && n >= 8;
    bool x12 = starts(p, n, "ISA*") && n >= 106;
    if ((hl7 || x12) && is_text(p, n)) {
        return named(mime, mlen, desc, dlen, "text/plain",
                     hl7 ? "HL7 v2 message text" : "ASC X12 EDI text");
    }
    if (n > 1 && fhir_cut(p, n)) {
        /* libmagic's own words (ascmagic.c): a line longer than 300 characters is "very
         * long", given with its length */
        snprintf(mime, mlen, "text/plain");
        if (n > 300) {
            snprintf(desc, dlen, "ASCII text, with very long lines (%zu), with no line terminators",
                     n);
        } else {
            snprintf(desc, dlen, "ASCII text, with no line terminators");
        }
        return true;
    }
    return false;
}

const char *pt_type_mime_of(const char *desc)
{
    static const struct {
        const char *prefix, *mime;
        bool exact;
    } map[] = {
        {"ASCII text", "text/plain", false},
        {"Unicode text, UTF-8", "text/plain", false},
        {"CSV text", "text/csv", true},
        {"JSON text data", "application/json", true},
        {"New Line Delimited JSON text data", "application/x-ndjson", true},
        {"DICOM medical imaging data", "application/dicom", true},
        {"empty", "application/x-empty", true},
        {"data", "application/octet-stream", true},
        {"HTML document, ASCII text", "text/html", false},
        {"XML 1.0 document, ASCII text", "text/xml", false},
        {"PDF document", "application/pdf", false},
        {"PNG image data", "image/png", false},
        {"JPEG image data", "image/jpeg", false},
        {"GIF image data", "image/gif", false},
        {"gzip compressed data", "application/gzip", false},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t k = strlen(map[i].prefix);
        if (strncmp(desc, map[i].prefix, k) == 0 && (!map[i].exact || desc[k] == '\0')) {
            return map[i].mime;
        }
    }
    return NULL;
}
