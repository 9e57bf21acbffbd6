/*
 * log.h - diagnostics on stderr. Library code logs here and never prints to
 * stdout; only main.c writes results to stdout.
 */
#ifndef PT_LOG_H
#define PT_LOG_H

enum pt_log_level {
    PT_LOG_ERROR,
    PT_LOG_WARN,
    PT_LOG_INFO,
    PT_LOG_DEBUG,
};

void pt_log_set_level(enum pt_log_level lvl);
void pt_log(enum pt_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pt_error(...) pt_log(PT_LOG_ERROR, __VA_ARGS__)
#define pt_warn(...) pt_log(PT_LOG_WARN, __VA_ARGS__)
#define pt_info(...) pt_log(PT_LOG_INFO, __VA_ARGS__)

#endif
