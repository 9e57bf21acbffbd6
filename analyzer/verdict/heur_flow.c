/*
 * heur_flow.c - heuristics over flow pairs: outbound volume, upload ratio, upload
 * bursts, long connections, cloud storage endpoints.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../store/q_verdict.h"
#include "beacon.h"
#include "verdict_int.h"

void pt_heur_flow(struct pt_verdict_ctx *x)
{
    const struct pt_heur_conf *c = &x->c;
    struct pt_qv *st = NULL;
    /* pairs */
    if (pt_qv_open(x->db, PT_QV_FLOW_PAIRS, &st) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (pt_qv_step(st) && x->rc == PT_OK) {
        const char *src = pt_qv_text(st, 0), *dst = pt_qv_text(st, 1), *apps = pt_qv_text(st, 7);
        double out = (double)pt_qv_int(st, 2), in = (double)pt_qv_int(st, 3);
        int64_t first = pt_qv_int(st, 4), last = pt_qv_int(st, 5);
        int flows = (int)pt_qv_int(st, 6);
        char sum[512], det[512], ev[256], hb[32], hb2[32];
        pt_human_bytes(out, hb, sizeof hb);
        pt_human_bytes(in, hb2, sizeof hb2);
        snprintf(ev, sizeof ev,
                 "{\"flows\":\"SELECT id FROM flow WHERE (client_addr='%s' AND "
                 "server_addr='%s') OR (client_addr='%s' AND server_addr='%s')\"}",
                 src, dst, dst, src);
        snprintf(det, sizeof det,
                 "{\"bytes_out\":%.0f,\"bytes_in\":%.0f,\"flows\":%d,"
                 "\"protocols\":\"%s\"}",
                 out, in, flows, apps);
        if (out >= c->volume_out_bytes) {
            double score =
                pt_beacon_bucket(out, c->volume_out_bytes, c->volume_out_high_bytes,
                                 c->volume_out_high_bytes * 5, c->volume_out_high_bytes * 50);
            snprintf(sum, sizeof sum, "%s sent %s to %s in %d flow(s) (%s)", src, hb, dst, flows,
                     apps);
            pt_verdict_finding(x, PT_HEUR_OUTBOUND_VOLUME, src, dst, apps, first, last,
                               (int64_t)out, score, sum, det, ev);
        }
        if (out >= c->ratio_min_bytes && out >= c->ratio_out_in * (in > 1 ? in : 1)) {
            snprintf(sum, sizeof sum, "%s sent %s to %s and received %s: %.1fx more out than in",
                     src, hb, dst, hb2, in > 0 ? out / in : out);
            pt_verdict_finding(x, PT_HEUR_UPLOAD_RATIO, src, dst, apps, first, last, (int64_t)out,
                               0.3, sum, det, ev);
        }
    }
    pt_qv_free(st);
    /* per flow: bursts and long connections */
    if (pt_qv_open(x->db, PT_QV_FLOW_EACH, &st) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (pt_qv_step(st) && x->rc == PT_OK) {
        int64_t id = pt_qv_int(st, 0);
        const char *src = pt_qv_text(st, 1), *dst = pt_qv_text(st, 2), *app = pt_qv_text(st, 6);
        double out = (double)pt_qv_int(st, 3);
        int64_t first = pt_qv_int(st, 4), last = pt_qv_int(st, 5);
        double dur = (double)(last - first) / 1e6;
        char sum[512], ev[96], det[256], hb[32];
        snprintf(ev, sizeof ev, "{\"flow\":[%lld]}", (long long)id);
        pt_human_bytes(out, hb, sizeof hb);
        double rate = out / (dur > 1 ? dur : 1);
        if (out >= c->burst_min_bytes && rate >= c->burst_rate_bps) {
            snprintf(sum, sizeof sum, "upload burst: %s from %s to %s at %.0f B/s (%s)", hb, src,
                     dst, rate, app);
            snprintf(det, sizeof det, "{\"bytes_out\":%.0f,\"seconds\":%.3f,\"rate_bps\":%.0f}",
                     out, dur, rate);
            pt_verdict_finding(x, PT_HEUR_UPLOAD_BURST, src, dst, app, first, last, (int64_t)out,
                               pt_beacon_bucket(out, c->burst_min_bytes, c->volume_out_bytes,
                                                c->volume_out_high_bytes,
                                                c->volume_out_high_bytes * 10),
                               sum, det, ev);
        }
        if (dur >= c->long_connection_s) {
            snprintf(sum, sizeof sum, "long connection: %s to %s open %.0f s (%s), %s out", src,
                     dst, dur, app, hb);
            snprintf(det, sizeof det, "{\"seconds\":%.0f,\"bytes_out\":%.0f}", dur, out);
            pt_verdict_finding(x, PT_HEUR_LONG_CONNECTION, src, dst, app, first, last, (int64_t)out,
                               pt_beacon_bucket(dur, 3600, 14400, 28800, 43200), sum, det, ev);
        }
    }
    pt_qv_free(st);
    /* cloud storage endpoints by SNI and Host, with the bytes sent on those flows */
    if (pt_qv_open(x->db, PT_QV_FLOW_NAMED, &st) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (pt_qv_step(st) && x->rc == PT_OK) {
        const char *name = pt_qv_text(st, 6);
        const char *hit = NULL;
        size_t nl = strlen(name);
        for (size_t i = 0; i < c->n_cloud && hit == NULL; i++) {
            size_t l = strlen(c->cloud[i]);
            if (nl >= l && strcmp(name + nl - l, c->cloud[i]) == 0 &&
                (nl == l || name[nl - l - 1] == '.')) {
                hit = c->cloud[i];
            }
        }
        double out = (double)pt_qv_int(st, 3);
        if (hit == NULL || out < c->burst_min_bytes) {
            continue;
        }
        char sum[512], ev[96], hb[32], det[700], nm[300];
        pt_human_bytes(out, hb, sizeof hb);
        jesc(name, nm, sizeof nm);
        snprintf(sum, sizeof sum, "%s sent %s to cloud storage %s (%s)", pt_qv_text(st, 1), hb,
                 name, pt_qv_text(st, 7));
        snprintf(ev, sizeof ev, "{\"flow\":[%lld]}", (long long)pt_qv_int(st, 0));
        snprintf(det, sizeof det, "{\"endpoint\":\"%s\",\"bytes_out\":%.0f}", nm, out);
        pt_verdict_finding(x, PT_HEUR_CLOUD_STORAGE, pt_qv_text(st, 1), pt_qv_text(st, 2),
                           pt_qv_text(st, 7), pt_qv_int(st, 4), pt_qv_int(st, 5), (int64_t)out, 0.4,
                           sum, det, ev);
    }
    pt_qv_free(st);
}
