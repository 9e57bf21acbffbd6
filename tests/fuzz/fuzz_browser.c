/*
 * fuzz_browser.c - libFuzzer target for the browser download readers (analyze/browser.c):
 * the input is a whole SQLite file (Chromium's History, Firefox's places.sqlite or legacy
 * downloads.sqlite, or anything else). As diskart.c does with an object of a case, the bytes
 * are written to a private copy (a 0700 directory made once, the file 0600) and opened there
 * read-only and immutable; the reader must come back with -1 or the number of rows it gave,
 * and every row it gives must be whole (strings present, times not negative).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/browser.h"

static long rows_seen;

static void on_download(void *arg, const struct pt_download *d)
{
    (void)arg;
    if (d->browser == NULL || d->url == NULL || d->target == NULL || d->state == NULL ||
        d->start_us < 0 || d->end_us < 0 || d->received < -1 ||
        (strcmp(d->browser, "chromium") != 0 && strcmp(d->browser, "firefox") != 0)) {
        abort();
    }
    /* every string is read whole (ASan catches a read past its end) */
    volatile size_t k = strlen(d->url) + strlen(d->target) + strlen(d->state);
    (void)k;
    rows_seen++;
}

static char dir[4096];

static void remove_dir(void)
{
    rmdir(dir);
}

static const char *private_copy_path(void)
{
    static char path[4200];
    if (path[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/fuzz-browser.XXXXXX", tmp != NULL ? tmp : "/tmp");
        if (mkdtemp(dir) == NULL) {
            abort();
        }
        atexit(remove_dir);
        snprintf(path, sizeof path, "%s/db", dir);
    }
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = private_copy_path();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        abort();
    }
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            abort();
        }
        off += (size_t)w;
    }
    close(fd);
    char err[512];
    rows_seen = 0;
    long n = pt_browser_downloads(path, on_download, NULL, err, sizeof err);
    if (n < -1 || (n >= 0 && n != rows_seen) || (n < 0 && err[0] == '\0')) {
        abort();
    }
    unlink(path);
    return 0;
}
