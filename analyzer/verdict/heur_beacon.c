/*
 * heur_beacon.c - beaconing: connection series per pair (and per DNS name), scored
 * as RITA v5 does (beacon.c).
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static void beacon_groups(struct pt_verdict_ctx *x, const char *sql, const char *family,
                          int64_t start, int64_t end)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, sql, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    char key_src[256] = "", key_dst[300] = "";
    struct series s = {0};
    int more = sqlite3_step(st) == SQLITE_ROW;
    while (more && x->rc == PT_OK) {
        snprintf(key_src, sizeof key_src, "%s", col(st, 0));
        snprintf(key_dst, sizeof key_dst, "%s", col(st, 1));
        s.n = 0;
        int64_t sources = 0;
        while (more && strcmp(col(st, 0), key_src) == 0 && strcmp(col(st, 1), key_dst) == 0) {
            series_add(&s, sqlite3_column_int64(st, 2) / 1000000, sqlite3_column_int64(st, 3));
            sources = sqlite3_column_int64(st, 4);
            more = sqlite3_step(st) == SQLITE_ROW;
        }
        struct pt_beacon b;
        if (s.n < x->c.beacon_min_connections ||
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
        pt_verdict_finding(x, PT_HEUR_BEACON, key_src, key_dst, family, s.ts[0] * 1000000,
                           s.ts[s.n - 1] * 1000000, 0, b.strobe ? 0.8 : b.bucketed, sum, det, ev);
    }
    free(s.ts);
    free(s.bytes);
    sqlite3_finalize(st);
}

void pt_heur_beacon(struct pt_verdict_ctx *x)
{
    sqlite3_stmt *st = NULL;
    int64_t lo = 0, hi = 0;
    if (sqlite3_prepare_v2(x->h,
                           "SELECT min(first_ts), max(first_ts) FROM flow WHERE class IN "
                           "('outbound','inbound')",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        lo = sqlite3_column_int64(st, 0) / 1000000;
        hi = sqlite3_column_int64(st, 1) / 1000000;
    }
    sqlite3_finalize(st);
    int64_t start =
        hi - (int64_t)x->c.beacon_window_s > lo ? hi - (int64_t)x->c.beacon_window_s : lo;
    char sql[2048];
    /* SNI / Host family */
    snprintf(sql, sizeof sql,
             "SELECT f.client_addr, lower(n.name), f.first_ts, f.c_ip_bytes, 1 " /* */
             "FROM flow f JOIN (SELECT flow_id, sni AS name FROM tls_session WHERE sni != '' "
             "UNION SELECT flow_id, host FROM http_txn WHERE host != '') n ON n.flow_id = f.id "
             "WHERE f.class = 'outbound' AND f.first_ts >= %lld ORDER BY 1, 2, 3",
             (long long)start * 1000000);
    beacon_groups(x, sql, "sni", start, hi);
    /* IP family: flows not named by SNI or Host */
    snprintf(sql, sizeof sql,
             "SELECT f.client_addr, f.server_addr, f.first_ts, f.c_ip_bytes, 1 " /* */
             "FROM flow f WHERE f.class = 'outbound' AND f.first_ts >= %lld AND f.id NOT IN "
             "(SELECT flow_id FROM tls_session WHERE sni != '' UNION SELECT flow_id FROM "
             "http_txn WHERE host != '') ORDER BY 1, 2, 3",
             (long long)start * 1000000);
    beacon_groups(x, sql, "ip", start, hi);
    /* destination family: one outside address polled by several inside hosts in turn (a
     * beacon whose source changes: DHCP, NAT pools, a fleet) */
    snprintf(sql, sizeof sql,
             "SELECT '', f.server_addr, f.first_ts, f.c_ip_bytes, s.n " /* */
             "FROM flow f JOIN (SELECT server_addr, count(DISTINCT client_addr) n FROM flow "
             "WHERE class = 'outbound' AND first_ts >= %lld GROUP BY server_addr HAVING n > 1) s "
             "ON s.server_addr = f.server_addr "
             "WHERE f.class = 'outbound' AND f.first_ts >= %lld ORDER BY 1, 2, 3",
             (long long)start * 1000000, (long long)start * 1000000);
    beacon_groups(x, sql, "destination", start, hi);
}
