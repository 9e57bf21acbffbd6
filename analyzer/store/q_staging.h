/*
 * q_staging.h - the join of "staged on this host" with that host's outbound volume (issue 15
 * item 4). A disk image is linked to a host's address by the examiner (image_host, from
 * `analyze --image-host IMAGE=ADDR`); the files of the image that object_category calls
 * staged (a PHI archive, a password-protected archive, a file in a staging folder) are then
 * weighed against the bytes that address sent unread (encrypted, undecoded, or seen only in
 * a log) to each outside destination after the file's time. verdict/heur_staging.c writes
 * the findings; pt_q_staging_likely raises their events to "likely".
 */
#ifndef PT_STORE_Q_STAGING_H
#define PT_STORE_Q_STAGING_H

#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_db;

/* Link the evidence items whose path is `image` (or ends in "/image") to `addr`; *matched
 * the number of items linked. */
pt_status pt_q_staging_link(struct pt_db *db, const char *image, const char *addr,
                            int *matched);

/* The host inferred from an image's own files (analyze/hostinfer.c). Each file of a read
 * image that may tell it: allocated regular files under etc/ and var/lib/, and the SYSTEM
 * hive, of at most `max_size` bytes, with where the case keeps their bytes. */
struct pt_q_host_file {
    const char *path, *sha256, *pack; /* pack "" when the object is a file of its own */
    uint32_t item;
    uint64_t size, pack_off;
};
pt_status pt_q_staging_host_files(struct pt_db *db, uint64_t max_size,
                                  void (*fn)(void *, const struct pt_q_host_file *), void *arg);
/* An address inferred for `item` (source 'inferred', `origin` where it was read; used
 * unless an option links the item; a second origin of the same address is added to the
 * first), and a host name. */
pt_status pt_q_staging_inferred(struct pt_db *db, uint32_t item, const char *addr,
                                const char *origin);
pt_status pt_q_staging_hostname(struct pt_db *db, uint32_t item, const char *name,
                                const char *origin);
/* What was inferred for `item`, in one sentence for its image.host_inferred anomaly ("" when
 * nothing was). */
pt_status pt_q_staging_inferred_note(struct pt_db *db, uint32_t item, char *out, size_t cap);

/* One (host, destination) where staged files of the host's image are matched by the bytes
 * the host sent unread to the destination after them. */
struct pt_q_staged_upload {
    const char *host, *destination, *image;
    const char *largest_path;   /* the largest staged file that the volume covers */
    int64_t largest_size;
    int64_t staged_ts;          /* its time (mtime, else crtime; µs, 0 unknown) */
    int64_t files;              /* staged files the volume covers */
    int64_t staged_bytes;       /* their sizes summed */
    int64_t bytes_out;          /* unread bytes sent to the destination after the first */
    int64_t first_ts, last_ts;  /* of those flows */
    int64_t flows, sources;     /* the flows, inside hosts that talk to the destination */
    const char *protocols;      /* of the flows: tls,ssh,tcp,... */
    const char *detail;         /* the finding's detail (JSON): image, host, staged_files
                                 * [{image, path, size, staged_ts, reason, bytes_out_after}],
                                 * counts, bytes, flows, destination_sources, the ratio */
};

/* fn once per (host, destination) where some staged file's size times `ratio` is at most the
 * unread bytes the host sent there after that file's time, and the destination is unusual:
 * at most `rare_max` inside hosts talk to it, or a cloud, beacon or tunnel finding names the
 * pair. Needs image_host, disk_file, object_category, evidence_item, flow and finding. */
pt_status pt_q_staging_uploads(struct pt_db *db, double ratio, double rare_max,
                               void (*fn)(void *, const struct pt_q_staged_upload *),
                               void *arg);

/* After the events: an event whose findings include a staged_upload finding and that no rule
 * made more than "possible" becomes "likely" (reasons.disk_staged lists those findings), and
 * the verdicts per destination and overall follow. */
pt_status pt_q_staging_likely(struct pt_db *db, char *err, size_t errlen);

#endif
