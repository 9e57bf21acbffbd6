/* logtime.c - the time span of a log from its lines' timestamps (see logtime.h). */
#include "logtime.h"

#include <string.h>
#include <time.h>

static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* n decimal digits at p[0..len) into *v; false when any is not a digit or out of range. */
static bool digits(const uint8_t *p, size_t len, size_t at, size_t n, int *v)
{
    if (at + n > len) {
        return false;
    }
    int x = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[at + i] < '0' || p[at + i] > '9') {
            return false;
        }
        x = x * 10 + (p[at + i] - '0');
    }
    *v = x;
    return true;
}

static bool is_digit(const uint8_t *p, size_t len, size_t at)
{
    return at < len && p[at] >= '0' && p[at] <= '9';
}

/* A plausible civil time to microseconds UTC, or -1. */
static int64_t civil(int y, int mo, int d, int h, int mi, int s, int64_t off_s)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1990 || y > 2099 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
        mi > 59 || s > 60) {
        return -1;
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off_s;
    return secs * 1000000;
}

/* HH:MM:SS at p[at]; fills h, mi, s. */
static bool clock_at(const uint8_t *p, size_t len, size_t at, int *h, int *mi, int *s)
{
    return digits(p, len, at, 2, h) && at + 2 < len && p[at + 2] == ':' &&
           digits(p, len, at + 3, 2, mi) && at + 5 < len && p[at + 5] == ':' &&
           digits(p, len, at + 6, 2, s);
}

/* A numeric offset (+HH:MM, +HHMM, +HH) at p[at], in seconds; `used` its length. */
static bool offset_at(const uint8_t *p, size_t len, size_t at, int64_t *off, size_t *used)
{
    if (at >= len || (p[at] != '+' && p[at] != '-')) {
        return false;
    }
    int oh, om = 0;
    size_t u = 3;
    if (!digits(p, len, at + 1, 2, &oh) || oh > 14) {
        return false;
    }
    if (at + 3 < len && p[at + 3] == ':' && digits(p, len, at + 4, 2, &om)) {
        u = 6;
    } else if (digits(p, len, at + 3, 2, &om)) {
        u = 5;
    }
    if (om > 59) {
        return false;
    }
    *off = (p[at] == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
    *used = u;
    return true;
}

/* YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|offset] at p[i]. */
static int64_t iso_at(struct pt_logtime *t, const uint8_t *p, size_t n, size_t i)
{
    int y, mo, d, h, mi, s;
    /* 2024-01-05, or 2024/01/05 as PAN-OS and others write it */
    if (!digits(p, n, i, 4, &y) || i + 4 >= n || (p[i + 4] != '-' && p[i + 4] != '/') ||
        !digits(p, n, i + 5, 2, &mo) || i + 7 >= n || p[i + 7] != p[i + 4] ||
        !digits(p, n, i + 8, 2, &d) || i + 10 >= n ||
        (p[i + 10] != 'T' && p[i + 10] != ' ') || !clock_at(p, n, i + 11, &h, &mi, &s)) {
        return -1;
    }
    size_t k = i + 19;
    int64_t frac = 0, scale = 100000;
    if (k < n && (p[k] == '.' || p[k] == ',')) {
        k++;
        while (is_digit(p, n, k)) {
            frac += scale * (p[k] - '0');
            scale /= 10;
            k++;
        }
    }
    int64_t off = 0;
    size_t used = 0;
    if (k < n && (p[k] == 'Z' || p[k] == 'z')) {
        off = 0;
    } else if (!offset_at(p, n, k, &off, &used)) {
        t->zone_assumed = true;
    }
    int64_t us = civil(y, mo, d, h, mi, s, off);
    return us < 0 ? -1 : us + frac;
}

/* [10/Oct/2024:13:55:36 -0700] at p[i] ('['); also HAProxy's [06/Feb/2009:12:14:14.655],
 * milliseconds and no offset (read as UTC). */
static int64_t clf_at(struct pt_logtime *t, const uint8_t *p, size_t n, size_t i)
{
    int d, y, h, mi, s, mo = -1;
    if (!digits(p, n, i + 1, 2, &d) || i + 3 >= n || p[i + 3] != '/' || i + 7 >= n ||
        p[i + 7] != '/' || !digits(p, n, i + 8, 4, &y) || i + 12 >= n || p[i + 12] != ':' ||
        !clock_at(p, n, i + 13, &h, &mi, &s)) {
        return -1;
    }
    for (int m = 0; m < 12; m++) {
        if (memcmp(p + i + 4, months[m], 3) == 0) {
            mo = m + 1;
        }
    }
    int64_t off = 0;
    size_t used = 0;
    if (mo >= 0 && i + 21 < n && p[i + 21] == '.') {
        int64_t frac = 0, scale = 1000000;
        size_t k = i + 22;
        for (; k < n && is_digit(p, n, k) && scale > 1; k++) {
            scale /= 10;
            frac += (p[k] - '0') * scale;
        }
        if (k == i + 22 || k >= n || p[k] != ']' || civil(y, mo, d, h, mi, s, 0) < 0) {
            return -1;
        }
        t->zone_assumed = true;
        return civil(y, mo, d, h, mi, s, 0) + frac;
    }
    if (mo < 0 || i + 21 >= n || p[i + 21] != ' ' || !offset_at(p, n, i + 22, &off, &used)) {
        return -1;
    }
    return civil(y, mo, d, h, mi, s, off);
}

/* Epoch seconds (10 digits, optional fraction) at the start of a line. */
static int64_t epoch_at(const uint8_t *p, size_t n)
{
    int hi, lo;
    if (!digits(p, n, 0, 5, &hi) || !digits(p, n, 5, 5, &lo) || is_digit(p, n, 10)) {
        return -1;
    }
    int64_t secs = (int64_t)hi * 100000 + lo;
    size_t k = 10;
    int64_t frac = 0, scale = 100000;
    if (k < n && p[k] == '.') {
        k++;
        while (is_digit(p, n, k)) {
            frac += scale * (p[k] - '0');
            scale /= 10;
            k++;
        }
    }
    if (k < n && p[k] != '\t' && p[k] != ' ' && p[k] != ',' && p[k] != '\r') {
        return -1;
    }
    if (secs < 946684800 || secs >= 4102444800) {
        return -1;
    }
    return secs * 1000000 + frac;
}

/* BSD syslog "Oct 10 13:55:36" at the start of a line (after an optional <PRI>). */
static int64_t syslog_at(struct pt_logtime *t, const uint8_t *p, size_t n)
{
    size_t i = 0;
    if (n > 0 && p[0] == '<') {
        for (i = 1; i < 6 && is_digit(p, n, i); i++) {
        }
        if (i >= n || p[i] != '>') {
            return -1;
        }
        i++;
    }
    if (t->ref_year == 0 || i + 15 > n || p[i + 3] != ' ') {
        return -1;
    }
    int mo = -1, d, h, mi, s;
    for (int m = 0; m < 12; m++) {
        if (memcmp(p + i, months[m], 3) == 0) {
            mo = m + 1;
        }
    }
    uint8_t dd[2] = {p[i + 4] == ' ' ? '0' : p[i + 4], p[i + 5]};
    if (mo < 0 || !digits(dd, 2, 0, 2, &d) || p[i + 6] != ' ' ||
        !clock_at(p, n, i + 7, &h, &mi, &s)) {
        return -1;
    }
    /* the year of the file's time, or the one before when that would put the line more than
     * a day after the file was last written */
    int64_t us = civil(t->ref_year, mo, d, h, mi, s, 0);
    if (us < 0 || us > t->ref_us + 86400LL * 1000000) {
        us = civil(t->ref_year - 1, mo, d, h, mi, s, 0);
    }
    if (us >= 0) {
        t->year_assumed = true;
        t->zone_assumed = true;
    }
    return us;
}

/* C's ctime() form at the start of a line, "Mon Jun  6 18:43:28 2016" (vsftpd, xferlog):
 * the year is written; the zone is not (vsftpd writes GMT unless use_localtime). */
static int64_t ctime_at(struct pt_logtime *t, const uint8_t *p, size_t n)
{
    static const char days[7][4] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    bool day = false;
    for (int i = 0; i < 7 && n >= 24; i++) {
        day = day || memcmp(p, days[i], 3) == 0;
    }
    if (!day || p[3] != ' ' || p[7] != ' ' || p[10] != ' ' || p[19] != ' ') {
        return -1;
    }
    int mo = -1, d, h, mi, s, y;
    for (int m = 0; m < 12; m++) {
        if (memcmp(p + 4, months[m], 3) == 0) {
            mo = m + 1;
        }
    }
    uint8_t dd[2] = {p[8] == ' ' ? '0' : p[8], p[9]};
    if (mo < 0 || !digits(dd, 2, 0, 2, &d) || !clock_at(p, n, 11, &h, &mi, &s) ||
        !digits(p, n, 20, 4, &y) || (n > 24 && p[24] != ' ')) {
        return -1;
    }
    int64_t us = civil(y, mo, d, h, mi, s, 0);
    if (us >= 0) {
        t->zone_assumed = true;
    }
    return us;
}

/* The US short date and 12-hour clock of Windows logs at the start of a line, "5/4/2020
 * 10:00:01 AM" (the Windows DNS server's debug log): month first, the local zone not
 * written. */
static int64_t usdate_at(struct pt_logtime *t, const uint8_t *p, size_t n)
{
    int v[6] = {0};
    size_t i = 0;
    static const char sep[6] = {'/', '/', ' ', ':', ':', ' '};
    for (int f = 0; f < 6; f++) {
        size_t start = i;
        while (i < n && i - start < 4 && p[i] >= '0' && p[i] <= '9') {
            v[f] = v[f] * 10 + (p[i++] - '0');
        }
        if (i == start || i >= n || p[i] != sep[f]) {
            return -1;
        }
        i++;
    }
    if (i + 2 > n || (p[i] != 'A' && p[i] != 'P') || p[i + 1] != 'M' || v[3] < 1 || v[3] > 12) {
        return -1;
    }
    int h = v[3] % 12 + (p[i] == 'P' ? 12 : 0);
    int64_t us = civil(v[2], v[0], v[1], h, v[4], v[5], 0);
    if (us >= 0) {
        t->zone_assumed = true;
    }
    return us;
}

int64_t pt_logtime_line(struct pt_logtime *t, const uint8_t *p, size_t n)
{
    int64_t us = epoch_at(p, n);
    if (us < 0) {
        us = ctime_at(t, p, n);
    }
    if (us < 0) {
        us = usdate_at(t, p, n);
    }
    if (us < 0) {
        us = syslog_at(t, p, n);
    }
    for (size_t i = 0; us < 0 && i + 19 <= n; i++) {
        if (p[i] == '[') {
            us = clf_at(t, p, n, i);
        } else if (is_digit(p, n, i) && (i == 0 || !is_digit(p, n, i - 1))) {
            us = iso_at(t, p, n, i);
        }
    }
    return us;
}

void pt_logtime_init(struct pt_logtime *t, int64_t mtime_us)
{
    memset(t, 0, sizeof *t);
    if (mtime_us > 0) {
        time_t secs = (time_t)(mtime_us / 1000000);
        struct tm tm;
        if (gmtime_r(&secs, &tm) != NULL) {
            t->ref_year = tm.tm_year + 1900;
            t->ref_us = mtime_us;
        }
    }
}

static void line_done(struct pt_logtime *t)
{
    if (t->len == 0) {
        return;
    }
    t->lines++;
    int64_t us = pt_logtime_line(t, t->line, t->len);
    if (us >= 0) {
        if (t->stamped == 0 || us < t->first) {
            t->first = us;
        }
        if (t->stamped == 0 || us > t->last) {
            t->last = us;
        }
        t->stamped++;
    }
    t->len = 0;
}

void pt_logtime_feed(struct pt_logtime *t, const uint8_t *p, size_t n)
{
    while (n > 0) {
        const uint8_t *nl = memchr(p, '\n', n);
        size_t take = nl != NULL ? (size_t)(nl - p) : n;
        size_t room = sizeof t->line - t->len;
        size_t keep = take < room ? take : room;
        memcpy(t->line + t->len, p, keep);
        t->len += keep;
        if (nl == NULL) {
            return;
        }
        if (t->len == 0) {
            t->lines++; /* an empty line: counted, no time */
        }
        line_done(t);
        p += take + 1;
        n -= take + 1;
    }
}

void pt_logtime_end(struct pt_logtime *t)
{
    line_done(t);
}
