/*
 * image_ewf.h - an EnCase (EWF) image's integrity, in the image reader's process: the MD5
 * and SHA-1 the acquisition stored in it (libewf), and MD5, SHA-1 and SHA-256 over its
 * media as libewf decompresses it, so a mismatch (a corrupt or altered chunk) is evidence,
 * and the case holds a SHA-256 of the media itself, not only of the container files.
 */
#ifndef PT_IMAGE_EWF_H
#define PT_IMAGE_EWF_H

#include <stdbool.h>

#include "image_frame.h"

/* True when paths[0] starts with the EWF signature ("EVF" 09 0d 0a ff 00). */
bool pt_ewf_is(const char *path);
/* Fill a PT_IMG_HASH record for the EWF image of `n` segments (read whole: r->ok); `tick`
 * is called every 64 MiB read (the reader's sign of life to the watchdog). */
void pt_ewf_hashes(char *const *paths, int n, struct pt_img_rec *r, void (*tick)(void *),
                   void *arg);

#endif
