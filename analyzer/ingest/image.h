/*
 * image.h - disk images read through libtsk in a child process (image_child.c), with memory
 * and time limits and a watchdog; the records come back as frames (image_frame.h) and are
 * handed to the caller one by one. A crash, a hang or garbage from the child ends the read
 * with a note (a limitation of that image) after what was read before it; the run goes on.
 */
#ifndef PT_IMAGE_H
#define PT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"
#include "image_frame.h"

/* The reader's limits: address space (not applied under AddressSanitizer, which reserves
 * terabytes of it), CPU seconds, wall seconds, and seconds without a byte from it. */
#define PT_IMG_MEM_LIMIT (2048ull << 20)
#define PT_IMG_CPU_SECONDS 600
#define PT_IMG_WALL_SECONDS 1800
#define PT_IMG_IDLE_SECONDS 120

struct pt_image_limits {
    uint64_t mem_bytes;
    unsigned cpu_seconds, wall_seconds, idle_seconds;
};

/* Called in order: a volume ('V'), a file ('F'; then, with PT_IMG_F_CONTENT, its 'D' data
 * and one 'E' end, which the reader makes up with ok = false when the child died inside the
 * file), a note ('L': kind "image.*" and text). `rec` is borrowed for the call. */
typedef void (*pt_image_fn)(void *arg, const struct pt_img_rec *rec);

struct pt_image_stats {
    uint64_t files, volumes, content_bytes;
    bool finished;          /* the child sent its done frame and exited 0 */
};

/* The limits above for an image of `bytes`, CPU and wall time grown with its size (a
 * 500 GB E01 is decompressed and hashed: 1 s of CPU per PT_IMG_CPU_BYTES_PER_S bytes, 1 s of
 * wall per PT_IMG_WALL_BYTES_PER_S), each overridden by the environment when set to a
 * positive number: PHITRACE_IMAGE_WALL_SECONDS, PHITRACE_IMAGE_IDLE_SECONDS,
 * PHITRACE_IMAGE_CPU_SECONDS. The idle watchdog is what catches a hang. */
#define PT_IMG_CPU_BYTES_PER_S (50ull << 20)
#define PT_IMG_WALL_BYTES_PER_S (20ull << 20)
void pt_image_limits_default(struct pt_image_limits *lim, uint64_t bytes);
/* The reader's executable: $PHITRACE_IMAGE_READER (another build, or a stand-in in the
 * tests of a crashing or hanging reader), else this executable. False when neither. */
bool pt_image_reader_path(char *out, size_t len);

/* Read the image whose segments are `paths` (in order) with the executable `self` (which
 * must answer `image-child`). PT_OK whatever happened to the child (fn got a note);
 * PT_EIO/PT_ENOMEM when no child could be started. */
pt_status pt_image_read(const char *self, const char *const *paths, size_t n,
                        const struct pt_image_limits *lim, pt_image_fn fn, void *arg,
                        struct pt_image_stats *st);

/* Feed a buffer of frames to fn as the reader does (the fuzz target's entry): returns the
 * bytes consumed; *bad is set when the stream is malformed. An open file is left open. */
size_t pt_image_feed(const uint8_t *p, size_t n, pt_image_fn fn, void *arg,
                     struct pt_image_stats *st, bool *in_file, bool *bad);

#endif
