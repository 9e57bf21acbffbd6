/*
 * typer.h - naming an object's type without libmagic where phitrace can be sure.
 *
 * libmagic costs 0.1-2 ms an object (its text tests run dozens of regular expressions, and
 * its soft-magic rules run twice on text: binary rules, then text rules), which on hospital
 * traffic of thousands of small HL7, API and web objects was a quarter of the analysis.
 * Two shortcuts, both checked against libmagic over the corpus (tests/unit/test_typer.c
 * prints the agreement per class):
 *
 *   pt_type_sniff    (1) formats with a signature phitrace itself parses or unpacks (DICOM
 *                    Part 10, HL7 v2 and X12 text, gzip, PDF, PNG, JPEG, GIF, empty):
 *                    libmagic's MIME type and phitrace's own description; (2) text: the
 *                    steps libmagic takes before its rules repeated exactly (encoding, tar
 *                    checksum, JSON, CSV) and its line words (ascmagic.c): generic text,
 *                    CSV and HTML that starts as HTML are named in libmagic's own words
 *                    ("ASCII text, with very long lines (412), with CRLF line terminators",
 *                    "CSV text", "HTML document, ASCII text"); text that libmagic's rules
 *                    could give another class (a head that may be whole JSON, markup, mail,
 *                    scripts, RTF, TeX, any printable signature at offset 0: typer_sigs.h)
 *                    is left to it;
 *   pt_type_mime_of  the MIME type that a libmagic description implies ("ASCII text, with
 *                    CRLF line terminators" is text/plain), so one libmagic call gives both.
 *
 * Everything else (binary formats, executables, images but the three above, XML, mail,
 * whole JSON: 0.03 ms in libmagic) goes to libmagic as before, on the same 16 KiB head.
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
