/*
 * typer.h - naming an object's type without libmagic where phitrace can be sure.
 *
 * libmagic costs 0.1-2 ms an object (its text tests run dozens of regular expressions), which
 * on hospital traffic of tens of thousands of small HL7, DICOM and API objects is most of the
 * analysis. Two shortcuts, both checked against libmagic over a corpus of files phitrace did
 * not make (tests/unit/test_typer.c prints the agreement per format):
 *
 *   pt_type_sniff    formats with a signature phitrace itself parses or unpacks (DICOM Part
 *                    10, HL7 v2 and X12 text, gzip, PDF, PNG, JPEG, GIF, empty): the MIME
 *                    type libmagic gives them, and phitrace's own description; and FHIR JSON
 *                    on one line cut by the head (libmagic: plain text after all its text
 *                    rules, 1.5 ms a 16 KiB head): text/plain and libmagic's own words;
 *   pt_type_mime_of  the MIME type that a libmagic description implies ("ASCII text, with
 *                    CRLF line terminators" is text/plain), so one libmagic call gives both.
 *
 * Everything else goes to libmagic as before.
 */
#ifndef PT_TYPER_H
#define PT_TYPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* `p[0..n)` is the object's head (all of it when it is short). True when the content is
 * named: `mime` and `desc` filled (cut to fit). */
bool pt_type_sniff(const uint8_t *p, size_t n, char *mime, size_t mlen, char *desc,
                   size_t dlen);
/* The MIME type libmagic gives content it describes as `desc`, or NULL when the description
 * does not settle it. */
const char *pt_type_mime_of(const char *desc);

#endif
