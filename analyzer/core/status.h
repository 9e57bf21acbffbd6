/*
 * status.h - the one status enum of phitrace.
 *
 * Two families: input verdicts (the evidence is truncated, malformed or
 * exceeds a limit; the caller records an anomaly and moves on) and engine
 * failures (out of memory, I/O, database; they stop the stage).
 */
#ifndef PT_STATUS_H
#define PT_STATUS_H

#include <stdbool.h>

typedef enum pt_status {
    PT_OK = 0,
    /* input verdicts */
    PT_ETRUNC,       /* the input ends before a field it announces */
    PT_EMALFORMED,   /* a field holds a value the specification forbids */
    PT_ELIMIT,       /* a configured limit (limits.h) was reached */
    PT_EUNSUPPORTED, /* well-formed, but a kind this version does not decode */
    /* engine failures */
    PT_ENOMEM,
    PT_EIO,
    PT_EDB,
    PT_EUSAGE,
    PT_EINTERNAL,
} pt_status;

/* Short stable text for logs and the database. */
const char *pt_status_str(pt_status st);

/* True for the input verdicts, which become anomalies rather than failures. */
static inline bool pt_status_is_input(pt_status st)
{
    return st >= PT_ETRUNC && st <= PT_EUNSUPPORTED;
}

/* Return early with the status of a fallible call. */
#define PT_TRY(expr)                                                                               \
    do {                                                                                           \
        pt_status pt_try_st_ = (expr);                                                             \
        if (pt_try_st_ != PT_OK) {                                                                 \
            return pt_try_st_;                                                                     \
        }                                                                                          \
    } while (0)

/* Store the status in `rc` and jump to the function's `out:` label. */
#define PT_TRY_OUT(expr)                                                                           \
    do {                                                                                           \
        rc = (expr);                                                                               \
        if (rc != PT_OK) {                                                                         \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

#endif
