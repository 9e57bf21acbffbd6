/*
 * inputs.h - expand the command line's INPUT... into evidence files.
 *
 * Directories are walked recursively in byte order of names so item ids are
 * stable from run to run. Symbolic links to files are followed; links to
 * directories are not (loops). The case directory itself is never an input.
 */
#ifndef PT_INPUTS_H
#define PT_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_input {
    char *path;       /* owned */
    uint64_t size;    /* from stat, for progress */
    const char *skip; /* static reason when the entry cannot be read as a file, else NULL */
};

struct pt_input_list {
    struct pt_input *v; /* owned */
    size_t n, cap;
    uint64_t total_bytes;
};

/* Expand `paths`. PT_EUSAGE with `err` when a named path does not exist. `exclude` (may be
 * NULL) is a directory never to enter. */
pt_status pt_inputs_expand(char *const *paths, size_t n_paths, const char *exclude,
                           struct pt_input_list *out, char *err, size_t errlen);
void pt_inputs_fini(struct pt_input_list *l);

#endif
