/*
 * sniff.h - what kind of evidence a file is, by its content: a disk image (and its file
 * system or container format) or a log (and its format). Neither is parsed yet; knowing what
 * they are lets the case say plainly what was not examined (coverage and limitations) instead
 * of answering "not observed" over evidence it could not read.
 */
#ifndef PT_SNIFF_H
#define PT_SNIFF_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of a file's head that the sniffer looks at (ISO 9660's descriptor is at 32769). */
#define PT_SNIFF_HEAD 65536

/* "image:ntfs", "image:ewf", "log:zeek", "log:syslog", ... or NULL for other content. */
const char *pt_sniff_evidence(const uint8_t *p, size_t n);

#endif
