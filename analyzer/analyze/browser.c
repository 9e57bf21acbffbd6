/*
 * browser.c - browser download history through sqlite3 (browser.h).
 * Trust boundary: the database file is a private copy of evidence; see browser.h for how it
 * is opened. Text columns are copied as sqlite3 gives them (the caller stores them as text).
 */
#include "browser.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WEBKIT_UNIX_US 11644473600000000LL
#define MAX_STEPS 50000000 /* virtual machine instructions per database, then it stops */

int64_t pt_webkit_us(int64_t t)
{
    return t <= WEBKIT_UNIX_US ? 0 : t - WEBKIT_UNIX_US;
}

bool pt_browser_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    return strcasecmp(base, "History") == 0 || strcasecmp(base, "places.sqlite") == 0 ||
           strcasecmp(base, "downloads.sqlite") == 0;
}

static int too_long(void *arg)
{
    long *steps = arg;
    *steps += 1000;
    return *steps > MAX_STEPS;
}

static const char chromium_sql[] =
    "SELECT coalesce((SELECT url FROM downloads_url_chains c WHERE c.id = d.id ORDER BY "
    "chain_index DESC LIMIT 1), ''), coalesce(d.target_path, ''), d.start_time, d.end_time, "
    "d.received_bytes, d.total_bytes, d.state FROM downloads d ORDER BY d.id";

static const char firefox_sql[] =
    "SELECT p.url, a.content, a.dateAdded, json_extract(m.content, '$.endTime'), "
    "json_extract(m.content, '$.fileSize'), json_extract(m.content, '$.state') FROM moz_annos "
    "a JOIN moz_anno_attributes t ON t.id = a.anno_attribute_id AND t.name = "
    "'downloads/destinationFileURI' JOIN moz_places p ON p.id = a.place_id LEFT JOIN (SELECT "
    "x.place_id, x.content FROM moz_annos x JOIN moz_anno_attributes y ON y.id = "
    "x.anno_attribute_id AND y.name = 'downloads/metaData' WHERE json_valid(x.content)) m ON "
    "m.place_id = a.place_id ORDER BY a.id";

/* Firefox 3 to 25's downloads.sqlite (nsDownloadManager.cpp schema 8-9): source and target
 * URIs, PRTime microseconds, bytes received and expected. */
static const char legacy_sql[] =
    "SELECT coalesce(source, ''), coalesce(target, ''), startTime, endTime, currBytes, "
    "maxBytes, state FROM moz_downloads ORDER BY id";

enum { CHROMIUM, FIREFOX, FIREFOX_LEGACY };

static const char *const chromium_states[] = {"in progress", "complete", "cancelled",
                                              "interrupted"};
/* nsIDownloadManager's states, which places.sqlite's downloads/metaData keeps too:
 * 0 downloading, 1 finished, 2 failed, 3 canceled (4 paused, 5 queued, 6 and 9 blocked,
 * 7 scanning, 8 dirty are kept as their number) */
static const char *const firefox_states[] = {"in progress", "complete", "interrupted",
                                             "cancelled"};

static const char *text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t != NULL ? (const char *)t : "";
}

static int64_t count_or(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

static unsigned hexval(char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/* A file: URI's path, %XX decoded (a byte that is not a valid escape stays as it is). */
static void file_uri_path(const char *uri, char *out, size_t len)
{
    const char *s = strncasecmp(uri, "file://", 7) == 0 ? uri + 7 : uri;
    if (s[0] == '/' && isalpha((unsigned char)s[1]) && s[2] == ':') {
        s++; /* file:///C:/... is the Windows path C:/... */
    }
    size_t k = 0;
    for (; *s != '\0' && k + 1 < len; s++) {
        unsigned v = 0;
        if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
            v = (unsigned)(hexval(s[1]) << 4 | hexval(s[2]));
        }
        if (v != 0) {
            out[k++] = (char)v;
            s += 2;
        } else {
            out[k++] = *s;
        }
    }
    out[k] = '\0';
}

/* Row st of the kind's query as a download (target and state written into the buffers). */
static void fill(sqlite3_stmt *st, int kind, struct pt_download *d, char *target, size_t tlen,
                 char *state, size_t slen)
{
    static const char *const names[] = {"chromium", "firefox", "firefox"};
    d->browser = names[kind];
    d->url = text(st, 0);
    if (kind == CHROMIUM) {
        d->target = text(st, 1);
        d->start_us = pt_webkit_us(sqlite3_column_int64(st, 2));
        d->end_us = pt_webkit_us(sqlite3_column_int64(st, 3));
        d->received = count_or(st, 4);
        d->total = count_or(st, 5);
    } else {
        file_uri_path(text(st, 1), target, tlen);
        d->target = target;
        d->start_us = sqlite3_column_int64(st, 2);
        /* places.sqlite's metaData gives milliseconds, downloads.sqlite microseconds */
        d->end_us = sqlite3_column_int64(st, 3) * (kind == FIREFOX ? 1000 : 1);
        d->received = count_or(st, 4);
        d->total = kind == FIREFOX ? d->received : count_or(st, 5);
    }
    int col = kind == FIREFOX ? 5 : 6;
    int s = sqlite3_column_int(st, col);
    if (sqlite3_column_type(st, col) != SQLITE_NULL && s >= 0 && s < 4) {
        d->state = kind == CHROMIUM ? chromium_states[s] : firefox_states[s];
    } else {
        snprintf(state, slen, "state %d", s);
        d->state = state;
    }
    d->start_us = d->start_us < 0 ? 0 : d->start_us;
    d->end_us = d->end_us < 0 ? 0 : d->end_us;
}

static long rows(sqlite3 *db, int kind, pt_download_fn fn, void *arg, char *err,
                 size_t errlen)
{
    static const char *const sql[] = {chromium_sql, firefox_sql, legacy_sql};
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql[kind], -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "its download tables cannot be read: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    long n = 0;
    int rc;
    char target[4096], state[32];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct pt_download d;
        fill(st, kind, &d, target, sizeof target, state, sizeof state);
        fn(arg, &d);
        n++;
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "reading its downloads stopped after %ld row(s): %s", n,
                 sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return n;
}

static bool has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
}

long pt_browser_downloads(const char *path, pt_download_fn fn, void *arg, char *err,
                          size_t errlen)
{
    char uri[4200];
    sqlite3 *db = NULL;
    long steps = 0, n = -1;
    err[0] = '\0';
    /* immutable: sqlite3 neither locks nor looks for a journal or WAL beside the copy */
    snprintf(uri, sizeof uri, "file:%s?mode=ro&immutable=1", path);
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite3 cannot open it: %s", db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_progress_handler(db, 1000, too_long, &steps);
    if (has_table(db, "downloads") && has_table(db, "downloads_url_chains")) {
        n = rows(db, CHROMIUM, fn, arg, err, errlen);
    } else if (has_table(db, "moz_annos") && has_table(db, "moz_anno_attributes") &&
               has_table(db, "moz_places")) {
        n = rows(db, FIREFOX, fn, arg, err, errlen);
    } else if (has_table(db, "moz_downloads")) {
        n = rows(db, FIREFOX_LEGACY, fn, arg, err, errlen);
    } else if (err[0] == '\0') {
        snprintf(err, errlen, "no download table (neither Chromium's History nor Firefox's "
                 "places.sqlite or downloads.sqlite): %s", sqlite3_errmsg(db));
    }
    if (steps > MAX_STEPS && n >= 0) {
        snprintf(err, errlen, "reading its downloads was stopped after %ld row(s): too much "
                 "work for its size", n);
    }
    sqlite3_close(db);
    return n;
}
