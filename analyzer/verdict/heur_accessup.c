/*
 * heur_accessup.c - PHI read on a host, then sent out by it (issue 14 item 3). An audit or
 * access log shows a host reading, querying or exporting patients' records (phi_access: IHE
 * ATNA audit messages, web and proxy requests that name patients); within
 * access_upload_window_s after such an access the same host began to send bytes unread
 * (encrypted, undecoded, or seen only in a log) to an outside destination that few inside
 * hosts talk to (at most rare_max_sources, or a cloud, beacon or tunnel finding names the
 * pair). The pair gets a phi_access_upload finding that names the logs (path, lines), the
 * records and the distinct patients; its event becomes "likely" (pt_q_accessup_likely, after
 * the events): the content was not visible on the wire, but the host had just read those
 * records and sent that much. The finding supports an event and makes none by itself (a host
 * that reads records and browses is no exfiltration). The SQL is store/q_accessup.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "../store/q_accessup.h"
#include "verdict_int.h"

static void on_upload(void *arg, const struct pt_q_access_upload *u)
{
    struct pt_verdict_ctx *x = arg;
    char a1[32], a2[32], up[32], sum[1600];
    pt_verdict_iso(u->first_access, a1);
    pt_verdict_iso(u->last_access, a2);
    pt_verdict_iso(u->first_ts, up);
    int64_t gap_s = (u->first_ts - u->last_access) / 1000000;
    snprintf(sum, sizeof sum,
             "PHI accessed, then sent: %s read records of %" PRId64 " patient(s) (%" PRId64
             " access record(s) from %s to %s: %.900s); from %s, %" PRId64 " s after the last "
             "access, %" PRId64 " bytes went unread (%s) from %s to %s (%" PRId64 " flow(s))",
             u->host, u->patients, u->accesses, a1, a2, u->sources, up, gap_s, u->bytes_out,
             u->protocols, u->host, u->destination, u->flows);
    double score = u->patients >= 10 ? 0.75 : 0.6;
    pt_verdict_finding(x, PT_HEUR_PHI_ACCESS_UPLOAD, u->host, u->destination, u->protocols,
                       u->first_access, u->last_ts, u->bytes_out, score, sum, u->detail,
                       "{\"phi_access\":\"phi_access rows of the host before the flows\"}");
}

void pt_heur_phi_access_upload(struct pt_verdict_ctx *x)
{
    if (x->rc != PT_OK) {
        return;
    }
    int64_t window_us = (int64_t)(x->c.access_upload_window_s * 1e6);
    if (pt_q_accessup_uploads(x->db, window_us, x->c.rare_max_sources, on_upload, x) !=
        PT_OK) {
        x->rc = PT_EDB;
    }
}
