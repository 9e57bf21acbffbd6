/*
 * capture.h - reading one packet capture (pcap, nanosecond pcap, pcapng; gzip-compressed or
 * not) through libpcap, frame by frame, into the decoder.
 *
 * Trust boundary: the capture is untrusted; libpcap parses its records and decode/ each
 * frame. A frame whose captured length exceeds its original length is read at its captured
 * length (an anomaly says so); frames cut by the snap length are counted into one anomaly
 * for the item; a capture that stops early is "truncated" (libpcap or gzip says so) or
 * "damaged", and what was read before stays.
 */
#ifndef PT_CAPTURE_H
#define PT_CAPTURE_H

#include <stdint.h>
#include <stdio.h>

#include "../core/anomaly.h"
#include "../decode/decode.h"
#include "source.h"

/* Where the frames of a capture go; all borrowed, called on the reading thread. */
struct pt_capture_sink {
    /* view `idx` of frame `f`, in capture order; `v` is valid for the call only */
    void (*view)(void *arg, const struct pt_frame *f, const struct pt_view *v, uint8_t idx);
    /* frame 0: about the whole capture */
    void (*anomaly)(void *arg, uint32_t item, uint64_t frame, enum pt_anom kind,
                    const char *detail);
    void *arg;
};

struct pt_capture_result {
    int linktype;              /* -1 when libpcap could not open the capture */
    const char *linktype_name; /* static; NULL when unknown */
    uint64_t packets;
    int64_t first_ts, last_ts; /* with packets > 0: UTC microseconds */
    const char *status;        /* NULL when read to the end, else "error", "skipped",
                                * "truncated" or "damaged" (static) */
    char error[512];           /* with status: why */
};

/* Read the capture behind `src` (evidence item `item`) to its end, decoding every frame with
 * `dec` (whose fragments of this item are flushed at the end). With src NULL, the capture is
 * the stream `fp` (closed here): a byte range of one (scale/split.c) whose frames are
 * numbered from `base` + 1; out->packets counts the frames read. */
void pt_capture_read(struct pt_source *src, FILE *fp, uint64_t base, uint32_t item,
                     struct pt_decoder *dec, const struct pt_capture_sink *sink,
                     struct pt_capture_result *out);

#endif
