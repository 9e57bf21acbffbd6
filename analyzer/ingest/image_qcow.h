/*
 * image_qcow.h - QEMU copy-on-write images (QCOW 1-3), which this libtsk (4.11) does not
 * open, read through libqcow and handed to libtsk as an external image, in the image
 * reader's process. A backing file or encryption is not followed (libqcow reports it).
 */
#ifndef PT_IMAGE_QCOW_H
#define PT_IMAGE_QCOW_H

#include <stdbool.h>
#include <stddef.h>

#include <tsk/libtsk.h>

/* True when `path` starts with a QCOW signature. */
bool pt_qcow_is(const char *path);
/* The image as libtsk sees it (close with tsk_img_close), or NULL with the reason in `why`. */
TSK_IMG_INFO *pt_qcow_open(const char *path, char *why, size_t len);

#endif
