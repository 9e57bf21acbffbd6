/*
 * progress.h - the progress display of an analyze run: a bar on stderr redrawn four times a
 * second by its own thread while the inputs are read, or (--progress=json) JSON lines for
 * pipelines (README "Progress for pipelines").
 */
#ifndef PT_PROGRESS_H
#define PT_PROGRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct pt_progress {
    _Atomic uint64_t done;   /* bytes read, added to by the sources (ingest/source.h) */
    uint64_t total;
    _Atomic bool stop;
    bool enabled;
    bool started;
    pthread_t th;
    struct timespec start;
    bool json;               /* --progress=json: one JSON object a line */
    _Atomic uint64_t inputs; /* inputs read, of n_inputs */
    uint64_t n_inputs;
    double last;             /* elapsed at the last JSON line */
};

/* Set the clock; start the drawing thread when enabled (bar or JSON). */
void pt_progress_start(struct pt_progress *p, bool bar, bool json, uint64_t total_bytes,
                       uint64_t n_inputs);
/* Stop the thread and draw the final state. */
void pt_progress_stop(struct pt_progress *p);
/* One JSON line (with --progress=json only): a later stage starts ("content", "verdict",
 * "report": 0 of 1), or the run ends ("done", with `status`). */
void pt_progress_json(struct pt_progress *p, const char *stage, uint64_t done, uint64_t total,
                      const char *status);
/* Seconds since pt_progress_start. */
double pt_progress_elapsed(const struct pt_progress *p);

#endif
