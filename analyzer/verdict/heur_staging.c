/*
 * heur_staging.c - staged on a host, then sent out by it (issue 15 item 4). A disk image the
 * examiner linked to a host's address (`analyze --image-host IMAGE=ADDR`) holds staged files
 * (a PHI archive, a password-protected archive, a file in a staging folder: object_category);
 * when that address afterwards sent at least likely_volume_ratio times a staged file's size,
 * unread (encrypted, undecoded, or seen only in a log), to an unusual destination (at most
 * rare_max_sources inside hosts talk to it, or a cloud, beacon or tunnel finding names the
 * pair), the pair gets a staged_upload finding: the staged file, its size and time, the bytes
 * out after it, in time order. Its event is "likely" (pt_q_staging_likely, after the events):
 * the content was not visible on the wire, but the host held it and sent that much.
 * The SQL is store/q_staging.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "../store/q_staging.h"
#include "verdict_int.h"

static void on_upload(void *arg, const struct pt_q_staged_upload *u)
{
    struct pt_verdict_ctx *x = arg;
    char staged[32], first[32], sum[1400], ev[256];
    pt_verdict_iso(u->staged_ts, staged);
    pt_verdict_iso(u->first_ts, first);
    snprintf(sum, sizeof sum,
             "staged on %s, then sent: %.300s (%" PRId64 " bytes, staged %s%s) on its image "
             "%.300s; afterwards %" PRId64 " bytes went unread (%s) from %s to %s, from %s "
             "(%" PRId64 " flow(s)); %.2f times the staged file's size",
             u->host, u->largest_path, u->largest_size, staged,
             u->files > 1 ? ", the largest of the staged files the volume covers" : "",
             u->image, u->bytes_out, u->protocols, u->host, u->destination, first, u->flows,
             u->largest_size > 0 ? (double)u->bytes_out / (double)u->largest_size : 0.0);
    snprintf(ev, sizeof ev, "{\"image\":\"disk_file\",\"files\":%" PRId64 "}", u->files);
    double score = u->bytes_out >= u->largest_size ? 0.8 : 0.6;
    pt_verdict_finding(x, PT_HEUR_STAGED_UPLOAD, u->host, u->destination, u->protocols,
                       u->first_ts, u->last_ts, u->bytes_out, score, sum, u->detail, ev);
}

void pt_heur_staged_upload(struct pt_verdict_ctx *x)
{
    if (x->rc != PT_OK) {
        return;
    }
    if (pt_q_staging_uploads(x->db, x->c.likely_volume_ratio, x->c.rare_max_sources, on_upload,
                             x) != PT_OK) {
        x->rc = PT_EDB;
    }
}
