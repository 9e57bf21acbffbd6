/*
 * logtime.h - the span of time a log covers, from the timestamps its lines begin with.
 *
 * Logs are not parsed into flows by this version; this reader only finds, per line, the
 * first timestamp in its first PT_LOGTIME_SCAN bytes, so a case without packet captures can
 * still state the window its evidence covers. Recognised: ISO 8601 / RFC 3339 date-times
 * (with 'T' or a space; an offset or 'Z', else read as UTC), Unix epoch seconds at the start
 * of a line (Zeek, Squid; 2000-2099 only), the web servers' [10/Oct/2024:13:55:36 -0700], and
 * BSD syslog's "Oct 10 13:55:36", whose year is not written: it is taken from the file's
 * modification time (the year before when the line would otherwise be more than a day after
 * that time), and the reader says it assumed it.
 *
 * Fed in pieces of any size; a line longer than PT_LOGTIME_SCAN bytes is read from its start
 * only. Memory: PT_LOGTIME_SCAN bytes.
 */
#ifndef PT_LOGTIME_H
#define PT_LOGTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_LOGTIME_SCAN 256

struct pt_logtime {
    int64_t first, last;  /* microseconds since 1970, UTC; valid when stamped > 0 */
    uint64_t lines;       /* lines seen */
    uint64_t stamped;     /* lines with a timestamp */
    bool year_assumed;    /* a syslog line's year came from the file's time */
    bool zone_assumed;    /* a time without an offset was read as UTC */
    int ref_year;         /* of the file's modification time, for syslog lines */
    int64_t ref_us;       /* that time */
    uint8_t line[PT_LOGTIME_SCAN];
    size_t len;           /* bytes of the current line kept (at most PT_LOGTIME_SCAN) */
};

/* `mtime_us`: the file's modification time (0 when unknown: syslog lines are then skipped). */
void pt_logtime_init(struct pt_logtime *t, int64_t mtime_us);
void pt_logtime_feed(struct pt_logtime *t, const uint8_t *p, size_t n);
/* The last line when the file does not end with a newline. */
void pt_logtime_end(struct pt_logtime *t);
/* The first timestamp in p[0..n), in microseconds UTC, or -1 (exposed for the unit test). */
int64_t pt_logtime_line(struct pt_logtime *t, const uint8_t *p, size_t n);

#endif
