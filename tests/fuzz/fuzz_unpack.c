/*
 * fuzz_unpack.c - libFuzzer target for archive unpacking: the input after its first byte is
 * stored as an object and unpacked as the container that byte picks (0 zip, 1 gzip, then
 * tar, cpio, 7z, rar, bzip2, xz, zstd, lzma, lz4, compress, executable), recursively, with a
 * fresh run state each time so the unpack-once memo and the budgets are exercised too.
 *
 * libarchive's read-ahead reserves a buffer as large as a header says it needs before it
 * learns the input is shorter (a cpio name length is up to 4 GiB). In production that is
 * untouched address space (or a failed malloc libarchive reports as an error); under
 * AddressSanitizer every such allocation is poisoned byte by byte and takes seconds, which
 * reads as a hang. So this target, like a machine with a memory limit, refuses allocations
 * above 128 MiB, and libarchive's error path is what gets fuzzed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/unpack.h"

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "max_allocation_size_mb=128:allocator_may_return_null=1";
}

static const char *const mimes[] = {
    "application/zip",    "application/gzip",  "application/x-tar",
    "application/x-cpio", "application/x-7z-compressed", "application/x-rar",
    "application/x-bzip2", "application/x-xz", "application/zstd",
    "application/x-lzma", "application/x-lz4", "application/x-compress",
    "application/x-dosexec",
};

static struct pt_objstore *store;
static char dir[64];
static struct pt_app_ctx ctx;

static void forget(const char *sha256)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", dir, sha256, sha256);
    unlink(path);
}

static void on_obj(void *arg, const struct pt_object_rec *r)
{
    (void)arg;
    pt_unpack(&ctx, r);
    forget(r->sha256);
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
    /* small budgets, so fuzzing reaches them */
    if (pt_unpack_run_new(64u << 20, 96u << 20, &ctx.unpack) != PT_OK) {
        abort();
    }
    struct pt_object_rec meta;
    memset(&meta, 0, sizeof meta);
    struct pt_obj *o = pt_obj_open(store, &meta);
    if (o != NULL) {
        pt_obj_write(o, data + 1, size - 1);
        struct pt_object_rec rec;
        if (pt_obj_close(o, true, &rec)) {
            const char *mime = mimes[data[0] % (sizeof mimes / sizeof *mimes)];
            snprintf(rec.mime, sizeof rec.mime, "%s", mime);
            pt_unpack(&ctx, &rec);
            forget(rec.sha256);
        }
    }
    pt_unpack_run_free(ctx.unpack);
    ctx.unpack = NULL;
    return 0;
}
