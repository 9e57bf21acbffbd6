/* log.c - stderr diagnostics, serialised so lines from threads do not interleave. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static enum pt_log_level level = PT_LOG_WARN;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void pt_log_set_level(enum pt_log_level lvl)
{
    level = lvl;
}

void pt_log(enum pt_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    if (lvl > level) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&lock);
    fprintf(stderr, "phitrace: %s: ", names[lvl]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&lock);
    va_end(ap);
}
