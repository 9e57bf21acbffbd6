/*
 * heur_beacon.c - beaconing: connection series per pair (and per DNS name), scored
 * as RITA v5 does (beacon.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/q_verdict.h"
#include "beacon.h"
#include "verdict_int.h"

struct series {
    int64_t *ts, *bytes;
    size_t n, cap;
};

static void series_add(struct series *s, int64_t t, int64_t b)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        int64_t *a = realloc(s->ts, nc * sizeof *a), *bb = NULL;
        if (a != NULL) {
            s->ts = a;
            bb = realloc(s->bytes, nc * sizeof *bb);
        }
        if (a == NULL || bb == NULL) {
            return;
        }
        s->bytes = bb;
        s->cap = nc;
    }
    s->ts[s->n] = t;
    s->bytes[s->n++] = b;
}

/* Score one group (rows of the query, already grouped by key in order) and report it. */
/* The series of a query, grouped by its columns 0 and 1. Column 4 is the sources: a number,
 * or, when by_client, the inside host of each row (the rows ordered by it within the group),
 * and the group's sources are its distinct hosts; groups of one host are skipped. The scores
 * do not depend on the order of a group's rows (pt_beacon_score sorts them). */
static void beacon_groups(struct pt_verdict_ctx *x, enum pt_qv_name series, const char *family,
                          bool by_client, int64_t start, int64_t end)
{
    struct pt_qv *st = NULL;
    if (pt_qv_open(x->db, series, &st) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    pt_qv_bind_int(st, 1, start * 1000000);
    char key_src[256] = "", key_dst[300] = "";
    struct series s = {0};
    int more = pt_qv_step(st);
    while (more && x->rc == PT_OK) {
        snprintf(key_src, sizeof key_src, "%s", pt_qv_text(st, 0));
        snprintf(key_dst, sizeof key_dst, "%s", pt_qv_text(st, 1));
        s.n = 0;
        int64_t sources = 0, first = INT64_MAX, last = INT64_MIN;
        char *host = NULL;
        while (more && strcmp(pt_qv_text(st, 0), key_src) == 0 &&
               strcmp(pt_qv_text(st, 1), key_dst) == 0) {
            int64_t t = pt_qv_int(st, 2) / 1000000;
            series_add(&s, t, pt_qv_int(st, 3));
            first = t < first ? t : first;
            last = t > last ? t : last;
            if (!by_client) {
                sources = pt_qv_int(st, 4);
            } else if (host == NULL || strcmp(host, pt_qv_text(st, 4)) != 0) {
                free(host);
                host = strdup(pt_qv_text(st, 4));
                sources++;
                if (host == NULL) {
                    x->rc = PT_ENOMEM;
                    break;
                }
            }
            more = pt_qv_step(st);
        }
        free(host);
        struct pt_beacon b;
        if ((by_client && sources < 2) || s.n < x->c.beacon_min_connections ||
            !pt_beacon_score(s.ts, s.bytes, s.n, start, end, &b)) {
            continue;
        }
        if (b.bucketed < x->c.beacon_report_score && !b.strobe) {
            continue;
        }
        char sum[900], det[600], ev[1024], ks[300], kd[300];
        jesc(key_src, ks, sizeof ks);
        jesc(key_dst, kd, sizeof kd);
        snprintf(sum, sizeof sum,
                 "beacon (%s family): %s to %s, %u connections every %lld s "
                 "(score %.3f: timing %.3f, size %.3f, histogram %.3f, duration %.3f)",
                 family, key_src[0] ? key_src : "several hosts", key_dst, b.connections,
                 (long long)b.top_interval, b.score, b.ts, b.ds, b.hist, b.dur);
        snprintf(det, sizeof det,
                 "{\"family\":\"%s\",\"score\":%.3f,\"ts\":%.3f,\"ds\":%.3f,"
                 "\"hist\":%.3f,\"dur\":%.3f,\"connections\":%u,\"unique_ts\":%u,"
                 "\"top_interval_s\":%lld,\"top_size\":%lld,\"sources\":%lld}",
                 family, b.score, b.ts, b.ds, b.hist, b.dur, b.connections, b.unique_ts,
                 (long long)b.top_interval, (long long)b.top_size, (long long)sources);
        snprintf(ev, sizeof ev, "{\"family\":\"%s\",\"source\":\"%s\",\"destination\":\"%s\"}",
                 family, ks, kd);
        pt_verdict_finding(x, PT_HEUR_BEACON, key_src, key_dst, family, first * 1000000,
                           last * 1000000, 0, b.strobe ? 0.8 : b.bucketed, sum, det, ev);
    }
    free(s.ts);
    free(s.bytes);
    pt_qv_free(st);
}

void pt_heur_beacon(struct pt_verdict_ctx *x)
{
    struct pt_qv *st = NULL;
    int64_t lo = 0, hi = 0;
    if (pt_qv_open(x->db, PT_QV_BEACON_SPAN, &st) == PT_OK && pt_qv_step(st)) {
        lo = pt_qv_int(st, 0) / 1000000;
        hi = pt_qv_int(st, 1) / 1000000;
    }
    pt_qv_free(st);
    int64_t start =
        hi - (int64_t)x->c.beacon_window_s > lo ? hi - (int64_t)x->c.beacon_window_s : lo;
    /* SNI / Host family */
    beacon_groups(x, PT_QV_BEACON_SNI, "sni", false, start, hi);
    /* IP family: flows not named by SNI or Host */
    beacon_groups(x, PT_QV_BEACON_IP, "ip", false, start, hi);
    /* destination family: one outside address polled by several inside hosts in turn (a
     * beacon whose source changes: DHCP, NAT pools, a fleet) */
    beacon_groups(x, PT_QV_BEACON_DESTINATION, "destination", true, start, hi);
}
