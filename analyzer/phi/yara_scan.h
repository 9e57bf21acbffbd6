/*
 * yara_scan.h - YARA over stored objects (research/c-deps-guide.md §4).
 *
 * Rules are compiled once (the .yar files of signatures/, then --rules DIR) and shared read-only; each
 * scanning thread owns one long-lived scanner with SCAN_FLAGS_NO_TRYCATCH and a timeout.
 * External variables filename, protocol, direction and mime are defined for every rule file
 * and set per object. An object is scanned whole, or, when larger than the window, in
 * windows that overlap by PT_YARA_OVERLAP: a rule is reported once per object, at its
 * smallest absolute match offset.
 */
#ifndef PT_YARA_SCAN_H
#define PT_YARA_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/anomaly.h"
#include "../core/sha256.h"
#include "../core/status.h"

struct pt_yara;
struct pt_yara_scanner;

struct pt_yara_file {
    char path[512];
    char sha256[PT_SHA256_HEX];
};

struct pt_yara_match {
    const char *rule, *ns, *tags;
    const char *description, *category, *severity, *reference;
    uint64_t offset;         /* smallest absolute offset of a matching string */
    unsigned strings;        /* matching string occurrences (over all windows) */
};

struct pt_yara_ext {
    const char *filename, *protocol, *direction, *mime;
};

/* Compile every .yar and .yara file of each directory (NULL entries skipped), in name order.
 * Errors make it fail with the first message in err; warnings (slow strings) are printed
 * to `warn` when not NULL. The files and their SHA-256 go to files[0..*n). */
pt_status pt_yara_load(const char *const *dirs, size_t n_dirs, FILE *warn,
                       struct pt_yara_file *files, size_t max, size_t *n, struct pt_yara **out,
                       char *err, size_t errlen);
void pt_yara_free(struct pt_yara *y);
unsigned pt_yara_rule_count(const struct pt_yara *y);

/* `phitrace rules check DIR`: compile, print each error and warning with file and line,
 * and the rule count. Returns PT_OK when there is no error (warnings are allowed unless
 * `strict`). */
pt_status pt_yara_check(const char *dir, bool strict, FILE *out);

/* One scanner per thread. `window` 0 means PT_YARA_WINDOW. */
struct pt_yara_scanner *pt_yara_scanner_new(const struct pt_yara *y, size_t window, size_t overlap);
void pt_yara_scanner_free(struct pt_yara_scanner *s);

/* Scan p[0..n); each matching rule once through `match`; problems (timeout, too many
 * matches) through `anomaly`. */
void pt_yara_scan(struct pt_yara_scanner *s, const uint8_t *p, size_t n,
                  const struct pt_yara_ext *ext,
                  void (*match)(void *arg, const struct pt_yara_match *m),
                  void (*anomaly)(void *arg, uint64_t off, enum pt_anom kind, const char *detail),
                  void *arg);

#endif
