/*
 * image_qcow.c - a QCOW image through libqcow as a libtsk external image (image_qcow.h).
 * Trust boundary: the image is hostile; libqcow parses it in the isolated reader process.
 */
#include "image_qcow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libqcow.h>

/* Exported by libtsk but declared only in its internal tsk_img_i.h (4.11): the allocation
 * an external image must come from, since tsk_img_close frees it through tsk_img_free. */
extern void *tsk_img_malloc(size_t len);
extern void tsk_img_free(void *ptr);

/* libtsk's image first, as tsk_img_open_external requires, then ours. */
struct qcow_img {
    TSK_IMG_INFO img;
    libqcow_file_t *file;
};

bool pt_qcow_is(const char *path)
{
    return libqcow_check_file_signature(path, NULL) == 1;
}

static ssize_t qcow_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
    struct qcow_img *q = (struct qcow_img *)img;
    if (off < 0 || off >= img->size) {
        return -1;
    }
    if ((uint64_t)len > (uint64_t)(img->size - off)) {
        len = (size_t)(img->size - off);
    }
    return libqcow_file_read_buffer_at_offset(q->file, buf, len, off, NULL);
}

static void qcow_close(TSK_IMG_INFO *img)
{
    struct qcow_img *q = (struct qcow_img *)img;
    libqcow_file_close(q->file, NULL);
    libqcow_file_free(&q->file, NULL);
    tsk_img_free(img);
}

static void qcow_stat(TSK_IMG_INFO *img, FILE *fp)
{
    (void)img;
    fprintf(fp, "QCOW (libqcow)\n");
}

static void reason(libqcow_error_t **err, const char *what, char *why, size_t len)
{
    char msg[300] = "";
    if (*err != NULL) {
        libqcow_error_sprint(*err, msg, sizeof msg);
        libqcow_error_free(err);
    }
    for (char *p = msg; *p != '\0'; p++) {
        *p = *p == '\n' ? ' ' : *p;
    }
    snprintf(why, len, "%s: %s", what, msg);
}

TSK_IMG_INFO *pt_qcow_open(const char *path, char *why, size_t len)
{
    libqcow_file_t *f = NULL;
    libqcow_error_t *err = NULL;
    size64_t media = 0;
    if (libqcow_file_initialize(&f, &err) != 1) {
        reason(&err, "libqcow cannot start", why, len);
        return NULL;
    }
    if (libqcow_file_open(f, path, LIBQCOW_OPEN_READ, &err) != 1 ||
        libqcow_file_get_media_size(f, &media, &err) != 1 || media == 0 ||
        media > (size64_t)INT64_MAX) {
        reason(&err, "libqcow cannot open it", why, len);
        libqcow_file_close(f, NULL);
        libqcow_file_free(&f, NULL);
        return NULL;
    }
    struct qcow_img *q = tsk_img_malloc(sizeof *q);
    if (q == NULL) {
        snprintf(why, len, "out of memory");
        libqcow_file_close(f, NULL);
        libqcow_file_free(&f, NULL);
        return NULL;
    }
    q->file = f;
    TSK_IMG_INFO *img = tsk_img_open_external(q, (TSK_OFF_T)media, 512, qcow_read, qcow_close,
                                              qcow_stat);
    if (img == NULL) {
        snprintf(why, len, "libtsk refused the QCOW media");
        libqcow_file_close(f, NULL);
        libqcow_file_free(&q->file, NULL);
        tsk_img_free(q);
    }
    return img;
}
