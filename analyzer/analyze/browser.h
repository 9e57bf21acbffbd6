/*
 * browser.h - browser download history (issue 15 item 4): Chrome, Edge and other Chromium
 * browsers' `History` database (tables downloads and downloads_url_chains) and Firefox's
 * `places.sqlite` (moz_annos rows 'downloads/destinationFileURI' and 'downloads/metaData' of
 * a moz_places URL, Firefox 26 on) and legacy `downloads.sqlite` (table moz_downloads,
 * Firefox 3 to 25).
 *
 * Trust boundary: the database is evidence. It is read through sqlite3 from a private copy
 * the caller wrote (never the evidence in place), opened read-only and immutable (no journal,
 * no WAL, no file created), with defensive mode on, untrusted schema, a length limit and a
 * bound on the work of each query (a progress handler).
 */
#ifndef PT_BROWSER_H
#define PT_BROWSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pt_download {
    const char *browser;  /* "chromium" (Chrome, Edge, ...: History) | "firefox" */
    const char *url;      /* where it came from (Chromium: the last URL of its chain) */
    const char *target;   /* where it was saved */
    int64_t start_us;     /* UTC microseconds since 1970, 0 unknown */
    int64_t end_us;
    int64_t received;     /* bytes received, -1 unknown */
    int64_t total;        /* bytes expected, -1 unknown */
    const char *state;    /* complete | in progress | cancelled | interrupted | state N */
};

typedef void (*pt_download_fn)(void *arg, const struct pt_download *d);

/* The downloads of the browser database at `path`: fn once per row; the count, or -1 when it
 * is not a browser history database sqlite3 can read (why in err). */
long pt_browser_downloads(const char *path, pt_download_fn fn, void *arg, char *err,
                          size_t errlen);

/* Whether a path names a browser history database: last component `History`,
 * `places.sqlite` or `downloads.sqlite` (case-insensitive). */
bool pt_browser_name(const char *path);

/* A Chromium time (microseconds since 1601-01-01 UTC) as microseconds since 1970; 0 for 0. */
int64_t pt_webkit_us(int64_t t);

#endif
