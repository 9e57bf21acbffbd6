/*
 * inputs.h - expand the command line's INPUT... into evidence files.
 *
 * Directories are walked recursively in byte order of names so item ids are
 * stable from run to run. Symbolic links to files are followed; links to
 * directories are not (loops). The case directory itself is never an input, nor is any
 * other phitrace case (a directory with evidence.db and objects/, such as CASE.partial-XXXXXX
 * left by a killed --force run): those are listed as skipped, with the reason.
 *
 * The segments of a split image are one input: NAME.001, NAME.002, ... (or .000 first), and
 * EnCase's NAME.E01, NAME.E02 ... (also .Ex01, .L01, .s01), consecutive and adjacent in the
 * expanded order (names sort so). A gap in the numbering ends the set (seg_hole says so).
 */
#ifndef PT_INPUTS_H
#define PT_INPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_input {
    char *path;       /* owned; for a split image, its first segment */
    uint64_t size;    /* from stat, for progress; for a split image, of all its segments */
    const char *skip; /* static reason when the entry cannot be read as a file, else NULL */
    char **seg;       /* owned: the segments of a split image in order, or NULL */
    uint64_t *seg_size;
    size_t n_seg;     /* 0 for one file, else 2 or more */
    bool seg_hole;    /* a later segment of the same name exists but one in between does not */
};

struct pt_input_list {
    struct pt_input *v; /* owned */
    size_t n, cap;
    uint64_t total_bytes;
};

/* The segment number of `path` when its name ends like a split image's segment (".001",
 * ".E01", ".Ex01", ".L01", ".s01"), with the name before it in `base` (its length in *blen);
 * -1 otherwise. */
int pt_inputs_segment(const char *path, size_t *blen);

/* Expand `paths`. PT_EUSAGE with `err` when a named path does not exist. `exclude` (may be
 * NULL) is a directory never to enter. */
pt_status pt_inputs_expand(char *const *paths, size_t n_paths, const char *exclude,
                           struct pt_input_list *out, char *err, size_t errlen);
void pt_inputs_fini(struct pt_input_list *l);

#endif
