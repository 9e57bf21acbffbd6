/*
 * image_child.h - the disk-image reader's process (`phitrace image-child SEGMENT...`): libtsk
 * walks the image and sends frames (image_frame.h) on stdout. Only image.c starts it.
 */
#ifndef PT_IMAGE_CHILD_H
#define PT_IMAGE_CHILD_H

/* argv: the image's segment paths in order. Returns the process's exit code. */
int pt_image_child_main(int argc, char **argv);

#endif
