/*
 * notify.h - `phitrace notify-list`: the individuals of the roster with full name, address,
 * state and events, as CSV for a notification vendor; only for a case analyzed with
 * --keep-phi. See notify.c.
 */
#ifndef PT_NOTIFY_H
#define PT_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/status.h"

/* Write the list of CASE to out_path (created 0600, never over an existing file) and append
 * its creation to the audit chain. PT_EUSAGE: the case holds no full values (no --keep-phi)
 * or the file exists; PT_EMALFORMED: the case is incomplete; `err` says what to do. */
pt_status pt_notify_list(const char *case_dir, const char *out_path, long long *rows, char *err,
                         size_t errlen);

#endif
