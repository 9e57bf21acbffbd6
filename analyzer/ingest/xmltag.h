/*
 * xmltag.h - a bounded tag scanner over XML text that libevtx rendered or an audit message
 * carried (evtx.c, atna.c): one tag at a time with its local name (namespace prefix
 * dropped), its attributes and the text after it up to the next tag, values read with the
 * five predefined entities and numeric character references decoded, a CDATA section's
 * characters taken as they are (its markers dropped: <![CDATA[a<b]]> is "a<b"). Not a
 * validating parser: no DTD, no entity definitions (nothing expands), comments and
 * processing instructions skipped. Memory: none; every output is the caller's
 * fixed-size buffer, cut at its size.
 *
 * Trust boundary: the bytes are untrusted; every read goes through the bounds-checked cursor
 * (core/cursor.h) and stays inside [p, p + n).
 */
#ifndef PT_XMLTAG_H
#define PT_XMLTAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/cursor.h"

struct pt_xmltag {
    char name[64];          /* local name, cut at 63 bytes */
    bool closing;           /* </name> */
    bool empty;             /* <name/> */
    const uint8_t *attrs;   /* between the name and '>' */
    size_t attrs_len;
    const uint8_t *text;    /* after '>' up to the next '<' that does not open a CDATA
                             * section (raw) */
    size_t text_len;
    size_t off;             /* of '<' in the input */
};

struct pt_xmlscan {
    struct pt_cur c;        /* the input; every read is bounds-checked */
};

void pt_xmlscan_init(struct pt_xmlscan *x, const uint8_t *p, size_t n);
/* The next tag; false at the end of the input (or at a tag cut by it). */
bool pt_xmlscan_next(struct pt_xmlscan *x, struct pt_xmltag *t);
/* Attribute `name` (local name) decoded into out; false when the tag has none. */
bool pt_xmltag_attr(const struct pt_xmltag *t, const char *name, char *out, size_t cap);
/* The text after the tag, decoded and trimmed of surrounding white space; returns its
 * length in characters of the decoded text before cutting (so a caller can count a value it
 * does not keep). */
size_t pt_xmltag_text(const struct pt_xmltag *t, char *out, size_t cap);
/* Decode entities of p[0..n) into out (cut at cap - 1, NUL-terminated); returns the
 * decoded length before cutting. */
size_t pt_xml_decode(const uint8_t *p, size_t n, char *out, size_t cap);

#endif
