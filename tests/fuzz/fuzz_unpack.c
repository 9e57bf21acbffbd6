/*
 * fuzz_unpack.c - libFuzzer target for the zip reader and gzip unpacking: the input is stored
 * as an object and unpacked as a zip (byte 0 even) or a gzip (odd), recursively.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/unpack.h"

static struct pt_objstore *store;
static char dir[64];
static struct pt_app_ctx ctx;

static void on_obj(void *arg, const struct pt_object_rec *r)
{
    (void)arg;
    pt_unpack(&ctx, r);
    char path[4400];
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", dir, r->sha256, r->sha256);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    if (store == NULL) {
        snprintf(dir, sizeof dir, "/tmp/pt-fuzz-unpack-XXXXXX");
        if (mkdtemp(dir) == NULL || pt_objstore_new(dir, 0, &store) != PT_OK) {
            abort();
        }
        ctx.store = store;
        ctx.object = on_obj;
    }
    struct pt_object_rec meta;
    memset(&meta, 0, sizeof meta);
    struct pt_obj *o = pt_obj_open(store, &meta);
    if (o == NULL) {
        return 0;
    }
    pt_obj_write(o, data + 1, size - 1);
    struct pt_object_rec rec;
    if (pt_obj_close(o, true, &rec)) {
        snprintf(rec.mime, sizeof rec.mime, "%s", (data[0] & 1) ? "application/gzip" : "application/zip");
        pt_unpack(&ctx, &rec);
        char path[4400];
        snprintf(path, sizeof path, "%s/objects/%.2s/%s", dir, rec.sha256, rec.sha256);
        unlink(path);
    }
    return 0;
}
