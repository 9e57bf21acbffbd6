/*
 * reader.h - the reader thread of the packet stage: each evidence item opened read-only
 * through a hashing source (ingest/source.h) and read by its content as a packet capture
 * (ingest/capture.h, frames to the workers), a file at rest (one object, unpacked; a text
 * log also gives its time window and, in the formats ingest/logparse.h reads, records), a
 * split image's segments, or a disk image's files (ingest/image.h, read in a child process).
 * The item row, its custody events and its anomalies go to the writer.
 */
#ifndef PT_READER_H
#define PT_READER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "decode/decode.h"
#include "ingest/inputs.h"
#include "pipeline.h"
#include "worker.h"
#include "writer.h"

struct logsink;
struct pt_hmac;

struct pt_reader {
    const struct pt_options *opt;
    struct pt_writer *w;
    struct pt_anom_sink anoms;     /* the reader's own anomalies */
    struct pt_worker files;        /* the object store for files at rest (not a thread) */
    struct pt_decoder *dec;
    struct pt_dispatch *dispatch;  /* decoded views to the workers */
    _Atomic uint64_t *done;        /* bytes read, for the progress display */
    struct logsink *logs;          /* logs read as records (made on the first log) */
    bool image;                    /* the file at rest just read is a disk image (by content) */
    int64_t max_ts;                /* latest packet time over all inputs */
    uint64_t packets, items_failed;
    uint64_t objects_lost;         /* log rows that could not be buffered */
    struct pt_hmac *patient_mac;   /* the case key, for ATNA patients (made on the first) */
    bool patient_mac_failed;
};

/* Read input `in` as evidence item `id`, its row written before and after. */
void pt_reader_item(struct pt_reader *r, const struct pt_input *in, uint32_t id);
void pt_reader_fini(struct pt_reader *r);

#endif
