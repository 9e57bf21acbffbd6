/*
 * progress.c - the progress display of an analyze run (see progress.h).
 */
#include "progress.h"

#include <stdio.h>
#include <string.h>

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void human(double bytes, char *out, size_t len)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (bytes >= 1000 && i < 4) {
        bytes /= 1000;
        i++;
    }
    snprintf(out, len, i ? "%.1f %s" : "%.0f %s", bytes, u[i]);
}

/* --progress=json (README "Progress for pipelines"): {"stage","done","total","bytes",
 * "bytes_total","elapsed"}; done and total count inputs while reading, then each later stage
 * is one line as it starts (0 of 1), and "done" ends the run with its "status". */
void pt_progress_json(struct pt_progress *p, const char *stage, uint64_t done, uint64_t total,
                      const char *status)
{
    if (!p->json) {
        return;
    }
    p->last = since(&p->start);
    fprintf(stderr, "{\"stage\":\"%s\",\"done\":%llu,\"total\":%llu,\"bytes\":%llu,"
            "\"bytes_total\":%llu,\"elapsed\":%.3f%s%s%s}\n", stage, (unsigned long long)done,
            (unsigned long long)total, (unsigned long long)atomic_load(&p->done),
            (unsigned long long)p->total, p->last, status ? ",\"status\":\"" : "",
            status ? status : "", status ? "\"" : "");
    fflush(stderr);
}

static void progress_draw(struct pt_progress *p, bool final)
{
    uint64_t done = atomic_load(&p->done);
    double el = since(&p->start);
    if (p->json) { /* the first line, one a second, and the last */
        if (final || p->last == 0.0 || el - p->last >= 1.0) {
            pt_progress_json(p, "read", atomic_load(&p->inputs), p->n_inputs, NULL);
        }
        return;
    }
    double frac = p->total ? (double)done / (double)p->total : 1.0;
    if (frac > 1) {
        frac = 1;
    }
    char d[32], t[32], r[32];
    human((double)done, d, sizeof d);
    human((double)p->total, t, sizeof t);
    human(el > 0 ? (double)done / el : 0, r, sizeof r);
    int bars = (int)(frac * 30);
    char bar[31];
    memset(bar, '#', (size_t)bars);
    memset(bar + bars, '.', (size_t)(30 - bars));
    bar[30] = '\0';
    double eta = frac > 0 && frac < 1 ? el / frac - el : 0;
    fprintf(stderr, "\r[%s] %3.0f%% %s / %s  %s/s  ETA %d:%02d ", bar, frac * 100, d, t, r,
            (int)eta / 60, (int)eta % 60);
    if (final) {
        fputc('\n', stderr);
    }
    fflush(stderr);
}

static void *progress_main(void *arg)
{
    struct pt_progress *p = arg;
    while (!atomic_load(&p->stop)) {
        progress_draw(p, false);
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

void pt_progress_start(struct pt_progress *p, bool bar, bool json, uint64_t total_bytes,
                       uint64_t n_inputs)
{
    p->total = total_bytes;
    p->enabled = bar || json;
    p->json = json;
    p->n_inputs = n_inputs;
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    if (p->enabled && pthread_create(&p->th, NULL, progress_main, p) == 0) {
        p->started = true;
    }
}

void pt_progress_stop(struct pt_progress *p)
{
    if (!p->started) {
        return;
    }
    atomic_store(&p->stop, true);
    pthread_join(p->th, NULL);
    p->started = false;
    progress_draw(p, true);
}

double pt_progress_elapsed(const struct pt_progress *p)
{
    return since(&p->start);
}
