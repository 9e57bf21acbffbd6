/* fuzz_store.h - one object store per fuzzing process, in a temporary directory; stored
 * object files are removed as they are reported so the disk does not fill. */
#ifndef PT_FUZZ_STORE_H
#define PT_FUZZ_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "analyze/objstore.h"

static struct pt_objstore *fuzz_store;
static char fuzz_dir[64];

static inline struct pt_objstore *fuzz_store_get(void)
{
    if (fuzz_store == NULL) {
        snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/pt-fuzz-XXXXXX");
        if (mkdtemp(fuzz_dir) == NULL || pt_objstore_new(fuzz_dir, 0, &fuzz_store) != PT_OK) {
            abort();
        }
    }
    return fuzz_store;
}

static inline void fuzz_store_drop(const struct pt_object_rec *r)
{
    char path[4400];
    if (pt_objstore_path(fuzz_store, r->sha256, path, sizeof path)) {
        unlink(path);
    }
}

static inline void fuzz_on_object(void *arg, const struct pt_object_rec *r)
{
    (void)arg;
    fuzz_store_drop(r);
}

#endif
