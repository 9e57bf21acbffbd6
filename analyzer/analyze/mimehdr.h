/*
 * mimehdr.h - MIME header field values to UTF-8: parameters with RFC 2231 continuations and
 * charsets, and RFC 2047 encoded words.
 *
 *   Content-Disposition: attachment; filename*0*=UTF-8''%C3%9Cbersicht%20;
 *       filename*1*=Patienten.csv                        -> "Übersicht Patienten.csv"
 *   Content-Type: text/csv; name="=?ISO-8859-1?Q?M=FCller.csv?="  -> "Müller.csv"
 *   Subject: =?UTF-8?B?QmVmdW5k?= =?UTF-8?B?ZQ==?=             -> "Befunde"
 *
 * Trust boundary: the values are untrusted text from a header line (NUL-terminated, bounded
 * by the caller's line limit). Output is always NUL-terminated, cut at a character boundary
 * when it does not fit. Whatever does not decode -- an unknown charset, bytes invalid in
 * their charset, a control character in the result -- is kept as it was sent (the encoded
 * word, the percent-encoded value), so a name is never silently lost or turned into bytes
 * that were not there. Sections per parameter are bounded by PT_MIME_MAX_PARAM_SECTIONS.
 */
#ifndef PT_MIMEHDR_H
#define PT_MIMEHDR_H

#include <stdbool.h>
#include <stddef.h>

/* The value of parameter `name` (e.g. "filename", any case) in a header field value such as
 * `attachment; filename="a.csv"`, as UTF-8 in out (len >= 1). An RFC 2231 form (name*=,
 * name*0=, name*0*= ...) wins over a plain name= (RFC 6266 §4.3); encoded words in a plain
 * value are decoded (mailers write them there although RFC 2047 §5 does not allow it).
 * Returns false, with out "", when the parameter is absent. */
bool pt_mime_param(const char *value, const char *name, char *out, size_t len);

/* `text` (a Subject, a display name) with its RFC 2047 encoded words decoded, as UTF-8 in out
 * (len >= 1). White space between two adjacent encoded words is dropped (RFC 2047 §6.2). */
void pt_mime_words(const char *text, char *out, size_t len);

#endif
