/*
 * verdict.c - exfiltration heuristics, events, verdicts, limitations and the timeline
 * (see verdict.h). Thresholds: signatures/heuristics.conf (each with its source).
 *
 * Every heuristic reads aggregates of the database and writes `finding` rows with the
 * evidence they rest on (flow ids, object hashes, DNS names); nothing here reads evidence
 * files, so the same case gives the same verdict on every run.
 */
#include "verdict.h"

#include <math.h>
#include <sqlite3.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include "../analyze/tunnel.h"
#include "../core/conf.h"
#include "../core/grow.h"
#include "../core/limits.h"
#include "../store/db.h"
#include "beacon.h"
#include "flow_sql.h"

/* ---- configuration -------------------------------------------------------------------------- */

struct hconf {
    double volume_out_bytes, volume_out_high_bytes, burst_rate_bps, burst_min_bytes;
    double ratio_out_in, ratio_min_bytes, long_connection_s;
    double beacon_min_connections, beacon_report_score, beacon_window_s;
    double dns_subdomains, dns_label_bytes, dns_min_queries, dns_entropy, dns_long_label,
        dns_odd_type_share;
    double icmp_payload_bytes, icmp_mean_payload, icmp_mismatched_replies;
    double rare_max_sources;
    double work_start_hour, work_end_hour, utc_offset_minutes, work_days;
    double likely_volume_ratio;
    char known_ae_titles[1024];
    char cloud[256][80];
    size_t n_cloud;
};

static const struct {
    const char *key;
    size_t off;
} conf_keys[] = {
#define K(name) {#name, offsetof(struct hconf, name)}
    K(volume_out_bytes), K(volume_out_high_bytes), K(burst_rate_bps), K(burst_min_bytes),
    K(ratio_out_in), K(ratio_min_bytes), K(long_connection_s), K(beacon_min_connections),
    K(beacon_report_score), K(beacon_window_s), K(dns_subdomains), K(dns_label_bytes),
    K(dns_min_queries), K(dns_entropy), K(dns_long_label), K(dns_odd_type_share),
    K(icmp_payload_bytes), K(icmp_mean_payload), K(icmp_mismatched_replies), K(rare_max_sources),
    K(work_start_hour), K(work_end_hour), K(utc_offset_minutes), K(work_days),
    K(likely_volume_ratio),
#undef K
};

static pt_status load_conf(const char *dir, struct hconf *c, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/heuristics.conf", dir);
    struct pt_conf cf;
    if (!pt_conf_open(&cf, path)) {
        snprintf(err, errlen, "cannot open %s (heuristic thresholds)", path);
        return PT_EIO;
    }
    unsigned seen = 0;
    for (char *line; (line = pt_conf_next(&cf)) != NULL;) {
        char *k = NULL, *v = NULL;
        if (!pt_conf_kv(line, &k, &v)) {
            snprintf(err, errlen, "%s:%u: expected key = value", path, cf.ln);
            pt_conf_close(&cf);
            return PT_EUSAGE;
        }
        if (strcmp(k, "known_ae_titles") == 0) {
            snprintf(c->known_ae_titles, sizeof c->known_ae_titles, "%s", v);
            continue;
        }
        bool ok = false;
        for (size_t i = 0; i < sizeof conf_keys / sizeof conf_keys[0]; i++) {
            if (strcmp(k, conf_keys[i].key) == 0) {
                char *end = NULL;
                double d = strtod(v, &end);
                if (end == v || *end != '\0') {
                    break;
                }
                memcpy((char *)c + conf_keys[i].off, &d, sizeof d); /* a double field */
                ok = true;
                seen++;
            }
        }
        if (!ok) {
            snprintf(err, errlen, "%s:%u: unknown key or bad number: %s", path, cf.ln, k);
            pt_conf_close(&cf);
            return PT_EUSAGE;
        }
    }
    pt_conf_close(&cf);
    if (seen < sizeof conf_keys / sizeof conf_keys[0]) {
        snprintf(err, errlen, "%s: %u of %zu thresholds set; every key must be given", path,
                 seen, sizeof conf_keys / sizeof conf_keys[0]);
        return PT_EUSAGE;
    }
    snprintf(path, sizeof path, "%s/cloud_endpoints.txt", dir);
    if (pt_conf_open(&cf, path)) { /* optional */
        for (char *line; (line = pt_conf_next(&cf)) != NULL && c->n_cloud < 256;) {
            if (strlen(line) < sizeof c->cloud[0]) {
                snprintf(c->cloud[c->n_cloud++], sizeof c->cloud[0], "%s", line);
            }
        }
        pt_conf_close(&cf);
    }
    return PT_OK;
}

/* ---- helpers ------------------------------------------------------------------------------------ */

const char *pt_verdict_name(enum pt_verdict_level v)
{
    static const char *const n[] = {"not observed", "possible", "likely", "confirmed"};
    return v <= PT_VERDICT_CONFIRMED ? n[v] : "?";
}

int pt_verdict_parse(const char *s)
{
    if (strcmp(s, "confirmed") == 0) {
        return PT_VERDICT_CONFIRMED;
    }
    if (strcmp(s, "likely") == 0) {
        return PT_VERDICT_LIKELY;
    }
    if (strcmp(s, "possible") == 0) {
        return PT_VERDICT_POSSIBLE;
    }
    if (strcmp(s, "not-observed") == 0 || strcmp(s, "not observed") == 0) {
        return PT_VERDICT_NOT_OBSERVED;
    }
    return -1;
}

static const char *severity(double score)
{
    return score > 0.8 ? "critical" : score >= 0.6 ? "high" : score >= 0.4 ? "medium"
                                      : score >= 0.2 ? "low" : "info";
}

struct ctx {
    sqlite3 *h;
    struct hconf c;
    sqlite3_stmt *ins;
    unsigned findings;
    pt_status rc;
};

/* JSON-safe copy (quotes and control characters escaped) of s into out. */
static void jesc(const char *s, char *out, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; s[i] != '\0' && k + 7 < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            out[k++] = '\\';
            out[k++] = (char)ch;
        } else if (ch < 0x20) {
            k += (size_t)snprintf(out + k, len - k, "\\u%04x", ch);
        } else {
            out[k++] = (char)ch;
        }
    }
    out[k] = '\0';
}

static void finding(struct ctx *x, const char *heuristic, const char *src, const char *dst,
                    const char *proto, int64_t first, int64_t last, int64_t bytes, double score,
                    const char *summary, const char *detail, const char *evidence)
{
    if (x->rc != PT_OK) {
        return;
    }
    sqlite3_stmt *st = x->ins;
    sqlite3_bind_text(st, 1, heuristic, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, src ? src : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, dst ? dst : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, proto ? proto : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, first);
    sqlite3_bind_int64(st, 6, last);
    sqlite3_bind_int64(st, 7, bytes);
    sqlite3_bind_double(st, 8, round(score * 1000) / 1000);
    sqlite3_bind_text(st, 9, severity(score), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, summary, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 11, detail ? detail : "{}", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 12, evidence ? evidence : "{}", -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) {
        x->rc = PT_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    x->findings++;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static void human(double b, char *out, size_t len)
{
    const char *u[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    snprintf(out, len, i == 0 ? "%.0f %s" : "%.1f %s", b, u[i]);
}

/* ---- flow heuristics: volume, ratio, bursts, long connections, cloud endpoints -------------------- */


static void flow_heuristics(struct ctx *x)
{
    const struct hconf *c = &x->c;
    sqlite3_stmt *st = NULL;
    /* pairs */
    const char *pairs = "SELECT " INSIDE_SQL ", " OUTSIDE_SQL ", sum(" OUT_BYTES_SQL "), sum("
                        IN_BYTES_SQL "), min(f.first_ts), max(f.last_ts), count(*), "
                        "group_concat(DISTINCT coalesce(f.app, f.proto)), min(f.id) "
                        "FROM flow f WHERE f.class IN ('outbound', 'inbound') "
                        "GROUP BY 1, 2 ORDER BY 1, 2";
    if (sqlite3_prepare_v2(x->h, pairs, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && x->rc == PT_OK) {
        const char *src = col(st, 0), *dst = col(st, 1), *apps = col(st, 7);
        double out = (double)sqlite3_column_int64(st, 2), in = (double)sqlite3_column_int64(st, 3);
        int64_t first = sqlite3_column_int64(st, 4), last = sqlite3_column_int64(st, 5);
        int flows = sqlite3_column_int(st, 6);
        char sum[512], det[512], ev[256], hb[32], hb2[32];
        human(out, hb, sizeof hb);
        human(in, hb2, sizeof hb2);
        snprintf(ev, sizeof ev, "{\"flows\":\"SELECT id FROM flow WHERE (client_addr='%s' AND "
                                "server_addr='%s') OR (client_addr='%s' AND server_addr='%s')\"}",
                 src, dst, dst, src);
        snprintf(det, sizeof det, "{\"bytes_out\":%.0f,\"bytes_in\":%.0f,\"flows\":%d,"
                                  "\"protocols\":\"%s\"}", out, in, flows, apps);
        if (out >= c->volume_out_bytes) {
            double score = pt_beacon_bucket(out, c->volume_out_bytes, c->volume_out_high_bytes,
                                            c->volume_out_high_bytes * 5,
                                            c->volume_out_high_bytes * 50);
            snprintf(sum, sizeof sum, "%s sent %s to %s in %d flow(s) (%s)", src, hb, dst,
                     flows, apps);
            finding(x, "outbound_volume", src, dst, apps, first, last, (int64_t)out, score, sum,
                    det, ev);
        }
        if (out >= c->ratio_min_bytes && out >= c->ratio_out_in * (in > 1 ? in : 1)) {
            snprintf(sum, sizeof sum, "%s sent %s to %s and received %s: %.1fx more out than in",
                     src, hb, dst, hb2, in > 0 ? out / in : out);
            finding(x, "upload_ratio", src, dst, apps, first, last, (int64_t)out, 0.3, sum, det,
                    ev);
        }
    }
    sqlite3_finalize(st);
    /* per flow: bursts and long connections */
    const char *flows = "SELECT f.id, " INSIDE_SQL ", " OUTSIDE_SQL ", " OUT_BYTES_SQL ", "
                        "f.first_ts, f.last_ts, coalesce(f.app, f.proto), f.server_port "
                        "FROM flow f WHERE f.class IN ('outbound', 'inbound') ORDER BY f.id";
    if (sqlite3_prepare_v2(x->h, flows, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && x->rc == PT_OK) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *src = col(st, 1), *dst = col(st, 2), *app = col(st, 6);
        double out = (double)sqlite3_column_int64(st, 3);
        int64_t first = sqlite3_column_int64(st, 4), last = sqlite3_column_int64(st, 5);
        double dur = (double)(last - first) / 1e6;
        char sum[512], ev[96], det[256], hb[32];
        snprintf(ev, sizeof ev, "{\"flow\":[%lld]}", (long long)id);
        human(out, hb, sizeof hb);
        double rate = out / (dur > 1 ? dur : 1);
        if (out >= c->burst_min_bytes && rate >= c->burst_rate_bps) {
            snprintf(sum, sizeof sum, "upload burst: %s from %s to %s at %.0f B/s (%s)", hb, src,
                     dst, rate, app);
            snprintf(det, sizeof det, "{\"bytes_out\":%.0f,\"seconds\":%.3f,\"rate_bps\":%.0f}",
                     out, dur, rate);
            finding(x, "upload_burst", src, dst, app, first, last, (int64_t)out,
                    pt_beacon_bucket(out, c->burst_min_bytes, c->volume_out_bytes,
                                     c->volume_out_high_bytes, c->volume_out_high_bytes * 10),
                    sum, det, ev);
        }
        if (dur >= c->long_connection_s) {
            snprintf(sum, sizeof sum, "long connection: %s to %s open %.0f s (%s), %s out", src,
                     dst, dur, app, hb);
            snprintf(det, sizeof det, "{\"seconds\":%.0f,\"bytes_out\":%.0f}", dur, out);
            finding(x, "long_connection", src, dst, app, first, last, (int64_t)out,
                    pt_beacon_bucket(dur, 3600, 14400, 28800, 43200), sum, det, ev);
        }
    }
    sqlite3_finalize(st);
    /* cloud storage endpoints by SNI and Host, with the bytes sent on those flows */
    const char *cloud = "SELECT f.id, " INSIDE_SQL ", " OUTSIDE_SQL ", " OUT_BYTES_SQL ", "
                        "f.first_ts, f.last_ts, lower(n.name), n.via FROM flow f JOIN ("
                        "SELECT flow_id, sni AS name, 'tls' AS via FROM tls_session WHERE sni != '' "
                        "UNION SELECT flow_id, host, 'http' FROM http_txn WHERE host != '') n "
                        "ON n.flow_id = f.id WHERE f.class IN ('outbound', 'inbound') ORDER BY f.id";
    if (sqlite3_prepare_v2(x->h, cloud, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && x->rc == PT_OK) {
        const char *name = col(st, 6);
        const char *hit = NULL;
        size_t nl = strlen(name);
        for (size_t i = 0; i < c->n_cloud && hit == NULL; i++) {
            size_t l = strlen(c->cloud[i]);
            if (nl >= l && strcmp(name + nl - l, c->cloud[i]) == 0 &&
                (nl == l || name[nl - l - 1] == '.')) {
                hit = c->cloud[i];
            }
        }
        double out = (double)sqlite3_column_int64(st, 3);
        if (hit == NULL || out < c->burst_min_bytes) {
            continue;
        }
        char sum[512], ev[96], hb[32], det[700], nm[300];
        human(out, hb, sizeof hb);
        jesc(name, nm, sizeof nm);
        snprintf(sum, sizeof sum, "%s sent %s to cloud storage %s (%s)", col(st, 1), hb, name,
                 col(st, 7));
        snprintf(ev, sizeof ev, "{\"flow\":[%lld]}", (long long)sqlite3_column_int64(st, 0));
        snprintf(det, sizeof det, "{\"endpoint\":\"%s\",\"bytes_out\":%.0f}", nm, out);
        finding(x, "cloud_storage", col(st, 1), col(st, 2), col(st, 7), sqlite3_column_int64(st, 4),
                sqlite3_column_int64(st, 5), (int64_t)out, 0.4, sum, det, ev);
    }
    sqlite3_finalize(st);
}

/* ---- beaconing (RITA v5) ----------------------------------------------------------------------------- */

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
static void beacon_groups(struct ctx *x, const char *sql, const char *family, int64_t start,
                          int64_t end)
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
        snprintf(sum, sizeof sum, "beacon (%s family): %s to %s, %u connections every %lld s "
                                  "(score %.3f: timing %.3f, size %.3f, histogram %.3f, duration %.3f)",
                 family, key_src[0] ? key_src : "several hosts", key_dst, b.connections,
                 (long long)b.top_interval, b.score, b.ts, b.ds, b.hist, b.dur);
        snprintf(det, sizeof det, "{\"family\":\"%s\",\"score\":%.3f,\"ts\":%.3f,\"ds\":%.3f,"
                                  "\"hist\":%.3f,\"dur\":%.3f,\"connections\":%u,\"unique_ts\":%u,"
                                  "\"top_interval_s\":%lld,\"top_size\":%lld,\"sources\":%lld}",
                 family, b.score, b.ts, b.ds, b.hist, b.dur, b.connections, b.unique_ts,
                 (long long)b.top_interval, (long long)b.top_size, (long long)sources);
        snprintf(ev, sizeof ev, "{\"family\":\"%s\",\"source\":\"%s\",\"destination\":\"%s\"}",
                 family, ks, kd);
        finding(x, "beacon", key_src, key_dst, family, s.ts[0] * 1000000,
                s.ts[s.n - 1] * 1000000, 0, b.strobe ? 0.8 : b.bucketed, sum, det, ev);
    }
    free(s.ts);
    free(s.bytes);
    sqlite3_finalize(st);
}

static void beacons(struct ctx *x)
{
    sqlite3_stmt *st = NULL;
    int64_t lo = 0, hi = 0;
    if (sqlite3_prepare_v2(x->h, "SELECT min(first_ts), max(first_ts) FROM flow WHERE class IN "
                                 "('outbound','inbound')", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        lo = sqlite3_column_int64(st, 0) / 1000000;
        hi = sqlite3_column_int64(st, 1) / 1000000;
    }
    sqlite3_finalize(st);
    int64_t start = hi - (int64_t)x->c.beacon_window_s > lo ? hi - (int64_t)x->c.beacon_window_s : lo;
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
             "WHERE class = 'outbound' AND first_ts >= %lld GROUP BY server_addr HAVING n > 1) s ON s.server_addr = f.server_addr "
             "WHERE f.class = 'outbound' AND f.first_ts >= %lld ORDER BY 1, 2, 3",
             (long long)start * 1000000, (long long)start * 1000000);
    beacon_groups(x, sql, "destination", start, hi);
}

/* ---- DNS tunnels ---------------------------------------------------------------------------------------- */

#define DNS_RESOLVERS 4

struct dgroup {
    char client[64], domain[256];
    unsigned queries, names, odd, responses, nx, long_label, encoded_names;
    unsigned charset[4];        /* names whose data labels all fit hex, base32, base64, url */
    uint64_t label_bytes;
    uint64_t chars[256];
    int64_t first, last;
    char resolver[DNS_RESOLVERS][64];
    bool resolver_inside[DNS_RESOLVERS];
    unsigned n_resolvers;
};

struct drow {
    char *name;
    int qtype, response, rcode;
    int64_t ts;
    char server[64];
    bool internal;
    size_t nm;                  /* index of its distinct name */
};

static double dns_entropy(const struct dgroup *g)
{
    double total = 0, ent = 0;
    for (int i = 0; i < 256; i++) {
        total += (double)g->chars[i];
    }
    for (int i = 0; i < 256 && total > 0; i++) {
        if (g->chars[i] > 0) {
            double p = (double)g->chars[i] / total;
            ent -= p * log2(p);
        }
    }
    return ent;
}

/* The forwarded copy of a tunnel: its client is the resolver of another client's group
 * under the same domain (the capture saw both legs). */
static bool forwarded(const struct dgroup *all, size_t n, const struct dgroup *g)
{
    for (size_t i = 0; i < n; i++) {
        if (&all[i] == g || strcmp(all[i].domain, g->domain) != 0) {
            continue;
        }
        for (unsigned r = 0; r < all[i].n_resolvers; r++) {
            if (strcmp(all[i].resolver[r], g->client) == 0) {
                return true;
            }
        }
    }
    return false;
}

static void dns_report(struct ctx *x, struct dgroup *g)
{
    const struct hconf *c = &x->c;
    double ent = dns_entropy(g);
    double odd_share = g->queries ? (double)g->odd / g->queries : 0;
    unsigned cs_best = 0;
    for (int i = 0; i < 4; i++) {
        cs_best = g->charset[i] > cs_best ? g->charset[i] : cs_best;
    }
    bool many = g->names >= c->dns_subdomains;
    bool encoded = g->label_bytes >= c->dns_label_bytes && ent >= c->dns_entropy &&
                   g->queries >= c->dns_min_queries;
    bool oddtypes = odd_share >= c->dns_odd_type_share && g->queries >= c->dns_min_queries;
    bool longl = g->long_label > 0 && g->queries >= c->dns_min_queries;
    /* most names carry labels that look encoded, in one character set */
    bool datalabels = g->encoded_names >= c->dns_min_queries &&
                      4 * (uint64_t)g->encoded_names >= 3 * (uint64_t)g->names &&
                      10 * (uint64_t)cs_best >= 9 * (uint64_t)g->encoded_names &&
                      g->label_bytes * 4 >= c->dns_label_bytes;
    if (!many && !encoded && !oddtypes && !longl && !datalabels) {
        return;
    }
    char via[300] = "", vj[300] = "[", dom[300], cl[100], hb[32];
    for (unsigned r = 0; r < g->n_resolvers; r++) {
        size_t u = strlen(via), v = strlen(vj);
        snprintf(via + u, sizeof via - u, "%s%s%s", r ? ", " : "",
                 g->resolver_inside[r] ? "resolver " : "", g->resolver[r]);
        snprintf(vj + v, sizeof vj - v, "%s\"%s\"", r ? "," : "", g->resolver[r]);
    }
    snprintf(vj + strlen(vj), sizeof vj - strlen(vj), "]");
    jesc(g->domain, dom, sizeof dom);
    jesc(g->client, cl, sizeof cl);
    human((double)g->label_bytes, hb, sizeof hb);
    /* the payload decoded by the tunnel stage, when there is one */
    char obj[80] = "", enc[40] = "", ob[32] = "";
    int64_t osize = 0, ogap = 0;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(x->h, "SELECT o.sha256, o.size, o.encoding, o.gap_bytes FROM object o "
                           "JOIN flow f ON f.id = o.flow_id WHERE o.protocol = 'dns-tunnel' AND "
                           "o.name = ?1 AND f.client_addr = ?2 ORDER BY o.id LIMIT 1",
                           -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, g->domain, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, g->client, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) {
            snprintf(obj, sizeof obj, "%s", col(q, 0));
            osize = sqlite3_column_int64(q, 1);
            snprintf(enc, sizeof enc, "%s", col(q, 2));
            ogap = sqlite3_column_int64(q, 3);
        }
    }
    sqlite3_finalize(q);
    char sum[1600], det[2400], ev[700], dec[200] = "";
    if (obj[0] != '\0') {
        human((double)osize, ob, sizeof ob);
        snprintf(dec, sizeof dec, "; %s decoded (%s%s)", ob, enc,
                 ogap > 0 ? ", partial" : "");
    }
    snprintf(sum, sizeof sum, "DNS tunnel: %s sent %u queries %s%s for %u distinct names under "
                              "%s, about %s encoded in labels (entropy %.2f bits/char, %.0f%% "
                              "NULL/TXT/other record types, %u NXDOMAIN)%s",
             g->client, g->queries, g->n_resolvers ? "via " : "", via, g->names, g->domain, hb,
             ent, 100 * odd_share, g->nx, dec);
    snprintf(det, sizeof det, "{\"tunnel_domain\":\"%s\",\"registered_domain\":\"%s\","
                              "\"client\":\"%s\",\"resolvers\":%s,\"queries\":%u,"
                              "\"distinct_names\":%u,\"label_bytes\":%llu,\"entropy\":%.3f,"
                              "\"odd_type_share\":%.3f,\"long_labels\":%u,\"encoded_names\":%u,"
                              "\"responses\":%u,\"nxdomain\":%u,\"decoded_object\":\"%s\","
                              "\"decoded_bytes\":%lld,\"encoding\":\"%s\","
                              "\"estimate\":\"label bytes approximate the data sent out\"}",
             dom, dom, cl, vj, g->queries, g->names, (unsigned long long)g->label_bytes, ent,
             odd_share, g->long_label, g->encoded_names, g->responses, g->nx, obj,
             (long long)osize, enc);
    /* the rows behind it: names ending in the domain, or starting with a tag's labels */
    char like[310];
    snprintf(like, sizeof like, "%s%s", strchr(dom, '*') ? "" : "%", dom);
    char *star = strchr(like, '*');
    if (star != NULL) {
        *star = '%';
    }
    snprintf(ev, sizeof ev, "{\"dns\":\"SELECT * FROM dns_query WHERE qname LIKE '%s'\"%s%s%s}",
             like, obj[0] ? ",\"object\":[\"" : "", obj, obj[0] ? "\"]" : "");
    double score = fmax(pt_beacon_bucket(g->names, 100, 500, 800, 1000),
                        fmax(encoded ? 0.5 : 0, oddtypes || longl || datalabels ? 0.4 : 0));
    finding(x, "dns_tunnel", g->client, g->domain, "dns", g->first, g->last,
            (int64_t)g->label_bytes, score, sum, det, ev);
}

/* Per-label tests of one distinct name's data part into its group. */
static void dns_labels(const struct hconf *c, struct dgroup *g, const struct pt_tun_name *nm)
{
    char data[1100];
    size_t dl = pt_tun_data_part(nm, data, sizeof data);
    bool enc = false, longl = false;
    unsigned cs = 0xf;
    size_t chars = 0;
    for (size_t i = 0; i < dl;) {
        size_t l = strcspn(data + i, ".");
        if (l > c->dns_long_label) {
            longl = true;
        }
        if (pt_tun_label_encoded(data + i, l)) {
            enc = true;
            cs &= pt_tun_label_charset(data + i, l);
        }
        for (size_t k = 0; k < l; k++) {
            g->chars[(unsigned char)data[i + k]]++;
        }
        chars += l;
        i += l + 1;
    }
    g->names++;
    g->label_bytes += chars;
    g->long_label += longl;
    if (enc) {
        g->encoded_names++;
        for (int b = 0; b < 4; b++) {
            g->charset[b] += (cs >> b) & 1;
        }
    }
}

/* One client's rows: distinct names, their groups, the aggregates of each group. */
static bool dns_client(struct ctx *x, struct drow *rows, size_t n, const char *client,
                       struct dgroup **groups, size_t *ng, size_t *cap)
{
    bool ok = false;
    size_t *ix = malloc((n ? n : 1) * sizeof *ix);
    struct pt_tun_name *nm = calloc(n ? n : 1, sizeof *nm);
    size_t *gid = malloc((n ? n : 1) * sizeof *gid);
    size_t *first = malloc((n ? n : 1) * sizeof *first), *which = NULL;
    const char **q = malloc((n ? n : 1) * sizeof *q);
    size_t m = 0;
    if (ix == NULL || nm == NULL || gid == NULL || first == NULL || q == NULL ||
        (which = malloc((n ? n : 1) * sizeof *which)) == NULL) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        q[i] = rows[i].name;
    }
    if (pt_tun_distinct(q, n, nm, &m, first, which, ix) != PT_OK) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        rows[i].nm = which[i];
    }
    for (size_t j = 0; j < m; j++) {
        size_t i = ix[j];
        if (j == 0 || strcmp(nm[i].key, nm[ix[j - 1]].key) != 0) {
            if (!pt_grow(groups, cap, *ng + 1, sizeof **groups, 64)) {
                goto out;
            }
            struct dgroup *g = &(*groups)[(*ng)++];
            memset(g, 0, sizeof *g);
            snprintf(g->client, sizeof g->client, "%s", client);
            snprintf(g->domain, sizeof g->domain, "%s", nm[i].key);
            g->first = INT64_MAX;
            g->last = INT64_MIN;
        }
        gid[i] = *ng - 1;
        dns_labels(&x->c, &(*groups)[*ng - 1], &nm[i]);
    }
    for (size_t i = 0; i < n; i++) {
        struct drow *r = &rows[i];
        struct dgroup *g = &(*groups)[gid[r->nm]];
        g->first = r->ts < g->first ? r->ts : g->first;
        g->last = r->ts > g->last ? r->ts : g->last;
        if (r->response) {
            g->responses++;
            g->nx += r->rcode == 3;
            continue;
        }
        g->queries++;
        int t = r->qtype;
        g->odd += !(t == 1 || t == 28 || t == 12 || t == 6 || t == 33 || t == 32 || t == 65 ||
                    t == 64 || t == 15 || t == 5);
        unsigned k = 0;
        while (k < g->n_resolvers && strcmp(g->resolver[k], r->server) != 0) {
            k++;
        }
        if (k == g->n_resolvers && k < DNS_RESOLVERS && r->server[0] != '\0') {
            snprintf(g->resolver[k], sizeof g->resolver[k], "%s", r->server);
            g->resolver_inside[k] = r->internal;
            g->n_resolvers++;
        }
    }
    ok = true;
out:
    free(q);
    free(which);
    free(first);
    free(gid);
    free(nm);
    free(ix);
    return ok;
}

/* Groups are (inside client, tunnel domain): the client's names grouped by their longest
 * shared suffix (analyze/tunnel.c), so a tunnel without a registered domain, or under a
 * subdomain of a busy one, is one group; queries to an internal resolver count for the
 * client that sent them, and the resolver's forwarded copies are not a second tunnel. */
static void dns_tunnels(struct ctx *x)
{
    const char *sql = "SELECT coalesce(f.client_addr, ''), d.qname, d.qtype, d.response, "
                      "d.rcode, d.ts, coalesce(f.server_addr, ''), coalesce(f.class, '') = "
                      "'internal' FROM dns_query d LEFT JOIN flow f ON f.id = d.flow_id "
                      "WHERE d.qname != '' AND lower(d.qname) NOT LIKE '%.arpa' AND "
                      "lower(d.qname) NOT LIKE '%.local' ORDER BY 1, d.ts, d.id";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, sql, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    struct dgroup *groups = NULL;
    size_t ng = 0, gcap = 0, n = 0, cap = 0;
    struct drow *rows = NULL;
    char cur[64] = "";
    for (;;) {
        int r = sqlite3_step(st);
        const char *cl = r == SQLITE_ROW ? col(st, 0) : "";
        if (r != SQLITE_ROW || strcmp(cl, cur) != 0) {
            if (n > 0 && !dns_client(x, rows, n, cur, &groups, &ng, &gcap)) {
                x->rc = PT_ENOMEM;
            }
            for (size_t i = 0; i < n; i++) {
                free(rows[i].name);
            }
            n = 0;
            if (r != SQLITE_ROW || x->rc != PT_OK) {
                break;
            }
            snprintf(cur, sizeof cur, "%s", cl);
        }
        if (n >= PT_TUN_MAX_NAMES) {
            continue; /* the tunnel stage recorded limit.tunnel_names */
        }
        if (!pt_grow(&rows, &cap, n + 1, sizeof *rows, 256)) {
            x->rc = PT_ENOMEM;
            break;
        }
        struct drow *w = &rows[n];
        w->name = strdup(col(st, 1));
        if (w->name == NULL) {
            x->rc = PT_ENOMEM;
            break;
        }
        size_t nl = strlen(w->name);
        if (nl > 1 && w->name[nl - 1] == '.' && w->name[nl - 2] != '\\') {
            w->name[nl - 1] = '\0';
        }
        w->qtype = sqlite3_column_int(st, 2);
        w->response = sqlite3_column_int(st, 3);
        w->rcode = sqlite3_column_int(st, 4);
        w->ts = sqlite3_column_int64(st, 5);
        snprintf(w->server, sizeof w->server, "%s", col(st, 6));
        w->internal = sqlite3_column_int(st, 7) != 0;
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        free(rows[i].name);
    }
    free(rows);
    sqlite3_finalize(st);
    for (size_t i = 0; i < ng && x->rc == PT_OK; i++) {
        if (groups[i].queries > 0 && !forwarded(groups, ng, &groups[i])) {
            dns_report(x, &groups[i]);
        }
    }
    free(groups);
}

/* ---- ICMP tunnels, DICOM, PHI leaving, YARA ------------------------------------------------------------ */

/* Per flow, what the inside end sent: its payload bytes over its own messages (the mean
 * of one direction, not of both). */
static void icmp_tunnels(struct ctx *x)
{
    const char *sql = "SELECT f.id, " INSIDE_SQL ", " OUTSIDE_SQL ", i.echo_requests, "
                      "i.echo_replies, CASE WHEN f.class='outbound' THEN i.c_payload_bytes ELSE "
                      "i.s_payload_bytes END, CASE WHEN f.class='outbound' THEN i.c_max_payload "
                      "ELSE i.s_max_payload END, i.entropy, i.mismatched_replies, "
                      "f.first_ts, f.last_ts, CASE WHEN f.class='outbound' THEN i.c_messages "
                      "ELSE i.s_messages END, CASE WHEN f.class='outbound' THEN i.s_payload_bytes "
                      "ELSE i.c_payload_bytes END FROM icmp_summary i JOIN flow f ON "
                      "f.id = i.flow_id WHERE f.class IN ('outbound','inbound') ORDER BY f.id";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, sql, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && x->rc == PT_OK) {
        double out = (double)sqlite3_column_int64(st, 5);
        double msgs = (double)sqlite3_column_int64(st, 11);
        double mean = msgs > 0 ? out / msgs : 0;
        int64_t mism = sqlite3_column_int64(st, 8);
        bool big = out >= x->c.icmp_payload_bytes && mean >= x->c.icmp_mean_payload;
        if (!big && !(mism >= x->c.icmp_mismatched_replies && out >= x->c.icmp_payload_bytes)) {
            continue;
        }
        char sum[512], det[400], ev[96], hb[32];
        human(out, hb, sizeof hb);
        snprintf(sum, sizeof sum, "ICMP tunnel: %s sent %s of ICMP payload to %s in %.0f "
                                  "messages (mean %.0f B, largest %lld B, entropy %.2f, %lld "
                                  "replies not echoing their request)",
                 col(st, 1), hb, col(st, 2), msgs, mean, (long long)sqlite3_column_int64(st, 6),
                 sqlite3_column_double(st, 7), (long long)mism);
        snprintf(det, sizeof det, "{\"payload_out\":%.0f,\"messages_out\":%.0f,"
                                  "\"mean_payload\":%.1f,\"max_payload_out\":%lld,"
                                  "\"payload_in\":%lld,\"entropy\":%.3f,"
                                  "\"mismatched_replies\":%lld}",
                 out, msgs, mean, (long long)sqlite3_column_int64(st, 6),
                 (long long)sqlite3_column_int64(st, 12), sqlite3_column_double(st, 7),
                 (long long)mism);
        snprintf(ev, sizeof ev, "{\"flow\":[%lld]}", (long long)sqlite3_column_int64(st, 0));
        finding(x, "icmp_tunnel", col(st, 1), col(st, 2), "icmp", sqlite3_column_int64(st, 9),
                sqlite3_column_int64(st, 10), (int64_t)out, mism > 0 ? 0.6 : 0.4, sum, det, ev);
    }
    sqlite3_finalize(st);
}

static bool ae_known(const struct hconf *c, const char *ae)
{
    char list[1024];
    snprintf(list, sizeof list, "%s", c->known_ae_titles);
    char *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        pt_trim(t);
        if (strcasecmp(t, ae) == 0) {
            return true;
        }
    }
    return false;
}

static void dicom_outbound(struct ctx *x)
{
    const char *sql = "SELECT f.id, f.client_addr, f.server_addr, a.calling_ae, a.called_ae, "
                      "m.command, m.move_destination, count(*), sum(m.dataset_size), "
                      "min(m.ts), max(m.ts) FROM dicom_message m JOIN flow f ON f.id = m.flow_id "
                      "LEFT JOIN dicom_assoc a ON a.flow_id = f.id WHERE f.class = 'outbound' AND "
                      "m.command IN ('C-STORE-RQ', 'C-MOVE-RQ', 'C-GET-RQ') GROUP BY f.id, "
                      "m.command, m.move_destination ORDER BY f.id";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, sql, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && x->rc == PT_OK) {
        const char *called = col(st, 4), *cmd = col(st, 5), *move = col(st, 6);
        const char *target = strcmp(cmd, "C-MOVE-RQ") == 0 && move[0] ? move : called;
        if (ae_known(&x->c, target)) {
            continue;
        }
        char sum[512], det[400], ev[96], hb[32], t1[64], t2[64], t3[64];
        human((double)sqlite3_column_int64(st, 8), hb, sizeof hb);
        jesc(col(st, 3), t1, sizeof t1);
        jesc(called, t2, sizeof t2);
        jesc(move, t3, sizeof t3);
        snprintf(sum, sizeof sum, "DICOM %s x%d from %s (AE %s) to %s (AE %s, not a known AE "
                                  "title)%s%s, %s of data sets",
                 cmd, sqlite3_column_int(st, 7), col(st, 1), col(st, 3), col(st, 2), called,
                 move[0] ? ", move destination " : "", move, hb);
        snprintf(det, sizeof det, "{\"command\":\"%s\",\"calling_ae\":\"%s\",\"called_ae\":\"%s\","
                                  "\"move_destination\":\"%s\",\"messages\":%d}",
                 cmd, t1, t2, t3, sqlite3_column_int(st, 7));
        snprintf(ev, sizeof ev, "{\"flow\":[%lld]}", (long long)sqlite3_column_int64(st, 0));
        finding(x, "dicom_outbound", col(st, 1), col(st, 2), "dicom", sqlite3_column_int64(st, 9),
                sqlite3_column_int64(st, 10), sqlite3_column_int64(st, 8), 0.7, sum, det, ev);
    }
    sqlite3_finalize(st);
}

static void phi_outbound(struct ctx *x)
{
    const char *sql =
        "SELECT " OBJ_SOURCE_SQL ", " OBJ_DEST_SQL ", o.protocol, o.sha256, o.size, o.name, o.ts, "
        "p.phi_hits, p.hits, (SELECT group_concat(DISTINCT h.type) FROM phi_hit h WHERE "
        "h.object_sha256 = o.sha256 AND h.phi_class = 'PHI'), (SELECT count(DISTINCT r.entity_id) "
        "FROM phi_record r WHERE r.object_sha256 = o.sha256 AND r.entity_id IS NOT NULL), f.id "
        "FROM object o JOIN flow f ON f.id = o.flow_id JOIN phi_object p ON p.object_sha256 = "
        "o.sha256 WHERE o.direction = 'upload' AND p.phi_hits > 0 ORDER BY o.ts, o.sha256";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, sql, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && x->rc == PT_OK) {
        char sum[700], det[700], ev[200], hb[32], nm[300];
        human((double)sqlite3_column_int64(st, 4), hb, sizeof hb);
        jesc(col(st, 5), nm, sizeof nm);
        /* a tunnel payload is named by its domain, which the sentence gives already */
        const char *what = strcmp(col(st, 2), "dns-tunnel") == 0 ? "the payload of its queries"
                           : col(st, 5)[0]                      ? col(st, 5)
                                                                : "an object";
        snprintf(sum, sizeof sum, "PHI left the network: %s sent %s (%s, %s) to %s over %s: %d "
                                  "PHI identifiers (%s) of %d individual(s)",
                 col(st, 0), what, hb, col(st, 3), col(st, 1),
                 col(st, 2), sqlite3_column_int(st, 7), col(st, 9), sqlite3_column_int(st, 10));
        snprintf(det, sizeof det, "{\"object\":\"%s\",\"name\":\"%s\",\"size\":%lld,"
                                  "\"phi_hits\":%d,\"phi_types\":\"%s\",\"individuals\":%d}",
                 col(st, 3), nm, (long long)sqlite3_column_int64(st, 4), sqlite3_column_int(st, 7),
                 col(st, 9), sqlite3_column_int(st, 10));
        snprintf(ev, sizeof ev, "{\"object\":[\"%s\"],\"flow\":[%lld]}", col(st, 3),
                 (long long)sqlite3_column_int64(st, 11));
        finding(x, "phi_outbound", col(st, 0), col(st, 1), col(st, 2), sqlite3_column_int64(st, 6),
                sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 4), 1.0, sum, det, ev);
    }
    sqlite3_finalize(st);
}

static void yara_findings(struct ctx *x)
{
    /* rules about exfiltration tooling, staging and extortion wherever the object was seen */
    const char *sql = "SELECT y.rule, y.category, y.severity, y.description, y.object_sha256, "
                      "min(o.name), min(o.ts), max(o.direction), min(o.flow_id) FROM yara_match y "
                      "JOIN object o ON o.sha256 = y.object_sha256 WHERE y.category IN "
                      "('exfiltration tool', 'staging', 'ransomware', 'malware') "
                      "GROUP BY y.rule, y.object_sha256 ORDER BY 7, 1";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, sql, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && x->rc == PT_OK) {
        char sum[600], ev[200], det[800], ds[300];
        jesc(col(st, 3), ds, sizeof ds);
        snprintf(sum, sizeof sum, "YARA %s (%s): %s in %s (%s)", col(st, 0), col(st, 1),
                 col(st, 3), col(st, 5), col(st, 7));
        snprintf(det, sizeof det, "{\"rule\":\"%s\",\"category\":\"%s\",\"description\":\"%s\"}",
                 col(st, 0), col(st, 1), ds);
        snprintf(ev, sizeof ev, "{\"object\":[\"%s\"]}", col(st, 4));
        const char *sev = col(st, 2);
        double score = strcmp(sev, "critical") == 0 ? 0.9 : strcmp(sev, "high") == 0 ? 0.7 : 0.5;
        finding(x, "yara", "", "", col(st, 1), sqlite3_column_int64(st, 6),
                sqlite3_column_int64(st, 6), 0, score, sum, det, ev);
    }
    sqlite3_finalize(st);
}

/* Findings whose transfer began outside working hours (local time of the configured
 * offset): a supporting finding each. */
static void after_hours(struct ctx *x)
{
    const char *sql = "SELECT id, source, destination, first_ts, bytes_out, heuristic FROM finding "
                      "WHERE heuristic IN ('outbound_volume', 'upload_burst', 'phi_outbound', "
                      "'cloud_storage', 'dicom_outbound') ORDER BY id";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, sql, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    struct {
        int64_t id, ts, bytes;
        char src[64], dst[256], heur[32];
    } rows[512];
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 512) {
        rows[n].id = sqlite3_column_int64(st, 0);
        rows[n].ts = sqlite3_column_int64(st, 3);
        rows[n].bytes = sqlite3_column_int64(st, 4);
        snprintf(rows[n].src, sizeof rows[n].src, "%s", col(st, 1));
        snprintf(rows[n].dst, sizeof rows[n].dst, "%s", col(st, 2));
        snprintf(rows[n].heur, sizeof rows[n].heur, "%s", col(st, 5));
        n++;
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < n && x->rc == PT_OK; i++) {
        int64_t local = rows[i].ts / 1000000 + (int64_t)x->c.utc_offset_minutes * 60;
        int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
        int hour = (int)((local - days * 86400) / 3600);
        int wday = (int)((days + 3) % 7 + 7) % 7 + 1; /* 1970-01-01 was a Thursday: Mon=1 */
        char wd[2] = {(char)('0' + wday), 0};
        char days_s[16];
        snprintf(days_s, sizeof days_s, "%.0f", x->c.work_days);
        bool workday = strstr(days_s, wd) != NULL;
        if (workday && hour >= x->c.work_start_hour && hour < x->c.work_end_hour) {
            continue;
        }
        char sum[400], ev[96], det[160];
        snprintf(sum, sizeof sum, "outside working hours: %s by %s to %s began at %02d:xx local "
                                  "time on day %d of the week",
                 rows[i].heur, rows[i].src, rows[i].dst, hour, wday);
        snprintf(det, sizeof det, "{\"local_hour\":%d,\"weekday\":%d,\"utc_offset_minutes\":%.0f}",
                 hour, wday, x->c.utc_offset_minutes);
        snprintf(ev, sizeof ev, "{\"finding\":[%lld]}", (long long)rows[i].id);
        finding(x, "after_hours", rows[i].src, rows[i].dst, "", rows[i].ts, rows[i].ts,
                rows[i].bytes, 0.3, sum, det, ev);
    }
}

/* ---- events, verdicts ------------------------------------------------------------------------------ */

/* Events: one per (inside host, destination) with a finding that says "exfiltration
 * shape" or PHI leaving; supporting findings (ratio, after hours, yara, long connection to
 * a destination already in an event) add reasons. The verdict rules are SQL, in the open. */
static const char events_sql[] =
    /* exfiltration-shaped findings per pair */
    "CREATE TEMP TABLE ev AS SELECT source, destination, group_concat(DISTINCT heuristic) AS "
    "heuristics, group_concat(DISTINCT protocol) AS protocols, min(first_ts) AS first_ts, "
    "max(last_ts) AS last_ts, max(CASE WHEN heuristic IN ('outbound_volume','dns_tunnel',"
    "'icmp_tunnel','phi_outbound','dicom_outbound','cloud_storage','upload_burst') THEN bytes_out "
    "ELSE 0 END) AS bytes_out, json_group_array(id) AS finding_ids, max(heuristic = "
    "'phi_outbound') AS phi_left, max(heuristic IN ('dns_tunnel','icmp_tunnel')) AS tunnel, "
    "max(heuristic IN ('beacon')) AS beacon FROM finding WHERE destination != '' AND heuristic IN "
    "('outbound_volume','upload_burst','upload_ratio','beacon','dns_tunnel','icmp_tunnel',"
    "'long_connection','cloud_storage','dicom_outbound','phi_outbound','after_hours') GROUP BY "
    "source, destination HAVING max(heuristic IN ('outbound_volume','upload_burst','beacon',"
    "'dns_tunnel','icmp_tunnel','long_connection','cloud_storage','dicom_outbound',"
    "'phi_outbound')) = 1;"
    /* PHI each host held: objects with PHI that it received, read or sent over any flow
     * (downloads, internal transfers, SMB reads and writes, uploads). Per host, so that PHI
     * one host read does not make another host's upload likely. Files at rest belong to no
     * host here. */
    "CREATE TEMP TABLE staged AS SELECT host, sum(size) AS bytes, count(*) AS objects, "
    "min(ts) AS first_ts, json_group_array(sha256) AS objects_json FROM (SELECT host, sha256, "
    "max(size) AS size, min(ts) AS ts FROM (SELECT f.client_addr AS host, o.sha256, o.size, "
    "o.ts FROM object o JOIN flow f ON f.id = o.flow_id JOIN phi_object p ON p.object_sha256 = "
    "o.sha256 WHERE p.phi_hits > 0 UNION ALL SELECT f.server_addr, o.sha256, o.size, o.ts FROM "
    "object o JOIN flow f ON f.id = o.flow_id JOIN phi_object p ON p.object_sha256 = o.sha256 "
    "WHERE p.phi_hits > 0) GROUP BY host, sha256 ORDER BY host, sha256) GROUP BY host;"
    /* encrypted bytes out per pair (TLS, SSH, unknown streams) */
    "CREATE TEMP TABLE enc AS SELECT " INSIDE_SQL " AS source, " OUTSIDE_SQL " AS destination, "
    "sum(" OUT_BYTES_SQL ") AS bytes FROM flow f WHERE f.class IN ('outbound','inbound') AND "
    UNREAD_SQL " GROUP BY 1, 2;"
    /* how many inside hosts talked to each destination */
    "CREATE TEMP TABLE prevalence AS SELECT " OUTSIDE_SQL " AS destination, count(DISTINCT "
    INSIDE_SQL ") AS sources FROM flow f WHERE f.class IN ('outbound','inbound') GROUP BY 1;"
    /* all bytes an inside host sent to an outside address */
    "CREATE TEMP TABLE pairbytes AS SELECT " INSIDE_SQL " AS source, " OUTSIDE_SQL " AS "
    "destination, sum(" OUT_BYTES_SQL ") AS bytes FROM flow f WHERE f.class IN ('outbound',"
    "'inbound') GROUP BY 1, 2;";

static pt_status events(struct ctx *x, char *err, size_t errlen)
{
    PT_TRY(pt_db_exec(x->h, events_sql, err, errlen));
    /* what was uploaded where, once, instead of a correlated query per event */
    PT_TRY(pt_db_exec(x->h,
                    "CREATE TEMP TABLE upl AS SELECT " OBJ_SOURCE_SQL " AS source, " OBJ_DEST_SQL
                    " AS destination, o.sha256 AS sha256, coalesce(p.phi_hits, 0) > 0 AS phi "
                    "FROM object o JOIN flow f ON f.id = o.flow_id LEFT JOIN phi_object p ON "
                    "p.object_sha256 = o.sha256 WHERE o.direction = 'upload';"
                    /* per pair: objects, PHI objects, PHI types (sorted), individuals; joined
                     * from grouped subqueries, not correlated ones (one pass each) */
                    "CREATE TEMP TABLE upl_agg AS SELECT a.source, a.destination, a.objects, "
                    "a.phi_objects, t.phi_types, coalesce(i.individuals, 0) AS individuals FROM "
                    "(SELECT source, destination, count(DISTINCT sha256) AS objects, count("
                    "DISTINCT CASE WHEN phi THEN sha256 END) AS phi_objects FROM upl GROUP BY "
                    "source, destination) a LEFT JOIN (SELECT source, destination, group_concat("
                    "type) AS phi_types FROM (SELECT DISTINCT v.source, v.destination, h.type FROM "
                    "upl v JOIN phi_hit h ON h.object_sha256 = v.sha256 WHERE v.phi AND "
                    "h.phi_class = 'PHI' ORDER BY 1, 2, 3) GROUP BY source, destination) t ON "
                    "t.source = a.source AND t.destination = a.destination LEFT JOIN (SELECT "
                    "v.source, v.destination, count(DISTINCT r.entity_id) AS individuals FROM upl "
                    "v JOIN phi_record r ON r.object_sha256 = v.sha256 WHERE v.phi AND "
                    "r.entity_id IS NOT NULL GROUP BY v.source, v.destination) i ON i.source = "
                    "a.source AND i.destination = a.destination;",
                    err, errlen));
    char sql[4096];
    snprintf(sql, sizeof sql,
             "INSERT INTO exfil_event(source, destination, protocols, first_ts, last_ts, "
             "bytes_out, objects, phi_objects, phi_types, individuals, verdict, reasons) "
             "SELECT e.source, e.destination, e.protocols, e.first_ts, e.last_ts, "
             "max(e.bytes_out, coalesce(enc.bytes, 0), coalesce(pb.bytes, 0)), "
             "coalesce(ua.objects, 0), "
             "coalesce(ua.phi_objects, 0), ua.phi_types, coalesce(ua.individuals, 0), "
             "CASE WHEN e.phi_left THEN 'confirmed' "
             "WHEN coalesce(s.bytes, 0) > 0 AND (e.tunnel OR coalesce(enc.bytes, 0) > 0) AND "
             "max(e.bytes_out, coalesce(enc.bytes, 0)) >= %.6f * s.bytes AND (e.tunnel OR e.beacon "
             "OR coalesce(pv.sources, 1) <= %.0f OR instr(e.heuristics, 'cloud_storage') > 0) "
             "AND e.last_ts >= s.first_ts THEN 'likely' ELSE 'possible' END, "
             "json_object('findings', json(e.finding_ids), 'heuristics', e.heuristics, "
             "'encrypted_bytes_out', coalesce(enc.bytes, 0), 'phi_staged_bytes', "
             "coalesce(s.bytes, 0), 'phi_staged_objects', json(coalesce(s.objects_json, '[]')), "
             "'destination_sources', coalesce(pv.sources, 0)) "
             "FROM ev e LEFT JOIN staged s ON s.host = e.source LEFT JOIN enc ON enc.source = e.source AND "
             "enc.destination = e.destination LEFT JOIN prevalence pv ON pv.destination = "
             "e.destination LEFT JOIN upl_agg ua ON ua.source = e.source AND ua.destination = "
             "e.destination LEFT JOIN pairbytes pb ON pb.source = e.source AND pb.destination = "
             "e.destination ORDER BY e.first_ts, e.source, e.destination",
             x->c.likely_volume_ratio, x->c.rare_max_sources);
    PT_TRY(pt_db_exec(x->h, sql, err, errlen));
    /* DNS tunnel destinations are domains: the flow sub-selects found nothing, which is
     * right (no object can travel in DNS labels); verdict per destination and overall */
    PT_TRY(pt_db_exec(x->h,
                    "INSERT INTO verdict(scope, subject, verdict, bytes_out, reasons) "
                    "SELECT 'destination', destination, CASE max(CASE verdict WHEN 'confirmed' "
                    "THEN 3 WHEN 'likely' THEN 2 ELSE 1 END) WHEN 3 THEN 'confirmed' WHEN 2 THEN "
                    "'likely' ELSE 'possible' END, sum(bytes_out), json_group_array(id) FROM "
                    "exfil_event GROUP BY destination ORDER BY destination;"
                    "INSERT INTO verdict(scope, subject, verdict, bytes_out, reasons) SELECT "
                    "'overall', '', coalesce((SELECT CASE max(CASE verdict WHEN 'confirmed' THEN 3 "
                    "WHEN 'likely' THEN 2 ELSE 1 END) WHEN 3 THEN 'confirmed' WHEN 2 THEN 'likely' "
                    "WHEN 1 THEN 'possible' END FROM exfil_event), 'not observed'), (SELECT "
                    "coalesce(sum(bytes_out), 0) FROM exfil_event), (SELECT json_group_array(id) "
                    "FROM exfil_event);"
                    "DROP TABLE ev; DROP TABLE staged; DROP TABLE enc; DROP TABLE prevalence; "
                    "DROP TABLE upl; DROP TABLE upl_agg; DROP TABLE pairbytes;",
                    err, errlen));
    return PT_OK;
}

/* ---- coverage and limitations ---------------------------------------------------------------------- */

/* What each input was examined as, and how much of it was read. A file's class comes from its
 * top object: disk images and logs by content (ingest/sniff.c; an image whose file systems
 * libtsk read is examined, its file systems named from disk_volume), containers as archives
 * or documents, binary content as read in printable runs only. */
static const char coverage_sql[] =
    "CREATE TEMP TABLE item_obj AS SELECT o.item_id, o.sha256, max(o.size) AS size, "
    "coalesce(max(p.read_bytes), 0) AS read_bytes FROM object o LEFT JOIN phi_object p ON "
    "p.object_sha256 = o.sha256 WHERE o.item_id IS NOT NULL GROUP BY o.item_id, o.sha256;"
    "CREATE TEMP TABLE item_top AS SELECT e.id AS item_id, (SELECT o.sha256 FROM object o WHERE "
    "o.item_id = e.id AND o.depth = 0 ORDER BY o.id LIMIT 1) AS sha256 FROM evidence_item e WHERE "
    "e.kind != 'capture';"
    /* disk images whose file systems libtsk read (issue 15): their file systems, the content
     * bytes read from their files, and what stopped the reader */
    "CREATE TEMP TABLE item_img AS SELECT e.id AS item_id, (SELECT group_concat(DISTINCT fs) "
    "FROM disk_volume d WHERE d.item_id = e.id AND d.status = 'read') AS fs, (SELECT "
    "coalesce(sum(read_bytes), 0) FROM disk_file f WHERE f.item_id = e.id) AS read_bytes, "
    "(SELECT group_concat(detail, '; ') FROM anomaly a WHERE a.item_id = e.id AND a.kind LIKE "
    "'image.%') AS problem FROM evidence_item e WHERE EXISTS (SELECT 1 FROM disk_volume d WHERE "
    "d.item_id = e.id) OR EXISTS (SELECT 1 FROM anomaly a WHERE a.item_id = e.id AND a.kind "
    "LIKE 'image.%');"
    "INSERT INTO coverage SELECT e.id, CASE WHEN e.kind = 'capture' THEN 'capture' "
    "WHEN e.status IN ('error', 'skipped') OR t.sha256 IS NULL THEN 'unreadable' "
    "WHEN g.fs IS NOT NULL THEN 'image:' || g.fs "
    "WHEN p.evidence_format IS NOT NULL THEN p.evidence_format "
    "WHEN p.format = 'container' AND EXISTS (SELECT 1 FROM object c WHERE c.parent_sha256 = "
    "t.sha256 AND c.encoding LIKE '%-text') THEN 'document' "
    "WHEN p.format = 'container' THEN 'archive' WHEN p.format = 'binary-strings' THEN "
    "'file:binary' ELSE 'file:' || coalesce(p.format, 'empty') END, "
    "CASE WHEN e.kind = 'capture' THEN e.status IN ('ok', 'truncated') WHEN g.fs IS NOT NULL "
    "THEN e.status = 'ok' ELSE e.status = 'ok' AND "
    "p.evidence_format IS NULL AND coalesce(p.format, '') != 'binary-strings' AND t.sha256 IS "
    "NOT NULL END, e.size, "
    "CASE WHEN e.kind = 'capture' AND e.status IN ('ok', 'truncated') THEN e.size "
    "WHEN g.fs IS NOT NULL THEN min(g.read_bytes, e.size) "
    "WHEN e.kind != 'capture' AND e.status = 'ok' AND p.evidence_format IS NULL AND "
    "coalesce(p.format, '') != 'binary-strings' THEN e.size ELSE 0 END, "
    "coalesce((SELECT sum(size) FROM item_obj i WHERE i.item_id = e.id), 0), "
    "coalesce((SELECT sum(read_bytes) FROM item_obj i WHERE i.item_id = e.id), 0), "
    "coalesce((SELECT sum(size) FROM item_obj i WHERE i.item_id = e.id), 0), "
    "CASE WHEN e.status IN ('error', 'skipped') THEN coalesce(e.error, e.status) "
    "WHEN e.kind = 'capture' THEN NULL "
    "WHEN g.fs IS NOT NULL AND g.problem IS NOT NULL THEN 'disk image: its file systems were "
    "read through libtsk, but not whole: ' || g.problem "
    "WHEN g.fs IS NOT NULL THEN NULL "
    "WHEN p.evidence_format = 'image:ewf' THEN 'EnCase (E01) image: libtsk read no file system "
    "in it (' || coalesce(g.problem, 'no reason given') || '), so neither PHI nor files inside "
    "it can be seen' "
    "WHEN p.evidence_format LIKE 'image:%' THEN 'disk image: libtsk read no file system in it ("
    "' || coalesce(g.problem, 'no reason given') || '); only its printable runs were read for "
    "PHI and YARA saw its raw bytes' "
    "WHEN p.evidence_format LIKE 'log:%' THEN 'log: its records are not turned into flows, "
    "DNS queries or transfers by this version; its text was read for PHI only' "
    "WHEN p.format = 'binary-strings' THEN 'no parser for its format: only its printable runs "
    "were read for PHI' END "
    "FROM evidence_item e LEFT JOIN item_top t ON t.item_id = e.id LEFT JOIN phi_object p ON "
    "p.object_sha256 = t.sha256 LEFT JOIN item_img g ON g.item_id = e.id ORDER BY e.id;"
    "DROP TABLE item_obj; DROP TABLE item_top; DROP TABLE item_img;";

/* Plural-aware "3 disk images" for the coverage sentence. */
static void count_phrase(char *out, size_t len, long long n, const char *one, const char *many)
{
    snprintf(out, len, "%lld %s", n, n == 1 ? one : many);
}

/* The coverage sentence: what was decoded, over which window, and what was not examined. */
static pt_status coverage(struct ctx *x, char *err, size_t errlen)
{
    PT_TRY(pt_db_exec(x->h, coverage_sql, err, errlen));
    sqlite3 *h = x->h;
    long long caps = pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as = 'capture' AND "
                               "examined");
    long long files = pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as != 'capture' "
                                "AND examined");
    long long images = pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as LIKE 'image:%' "
                                "AND NOT examined");
    long long logs = pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as LIKE 'log:%'");
    long long binary = pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as = 'file:binary'");
    long long bad = pt_db_int(h, "SELECT count(*) FROM coverage WHERE examined_as = 'unreadable' OR "
                              "(examined_as = 'capture' AND NOT examined)");
    int64_t first = pt_db_int(h, "SELECT coalesce(min(first_ts), -1) FROM evidence_item WHERE kind = "
                              "'capture' AND first_ts IS NOT NULL");
    int64_t last = pt_db_int(h, "SELECT coalesce(max(last_ts), -1) FROM evidence_item WHERE kind = "
                             "'capture' AND last_ts IS NOT NULL");
    /* without captures: the span of the logs' line times, else of the files' modification
     * times (which date the copies, not the events, and are said to) */
    long long timed_logs = pt_db_int(h, "SELECT count(*) FROM evidence_item WHERE kind != "
                                     "'capture' AND time_source = 'log lines'");
    const char *from = caps > 0 && first >= 0 ? "captures" : "none";
    if (strcmp(from, "none") == 0) {
        first = last = -1;
    }
    if (caps == 0 && timed_logs > 0) {
        first = pt_db_int(h, "SELECT min(first_ts) FROM evidence_item WHERE kind != 'capture' "
                          "AND time_source = 'log lines'");
        last = pt_db_int(h, "SELECT max(last_ts) FROM evidence_item WHERE kind != 'capture' "
                         "AND time_source = 'log lines'");
        from = "log lines";
    } else if (caps == 0 && pt_db_int(h, "SELECT count(mtime) FROM evidence_item") > 0) {
        first = pt_db_int(h, "SELECT min(mtime) FROM evidence_item WHERE mtime IS NOT NULL");
        last = pt_db_int(h, "SELECT max(mtime) FROM evidence_item WHERE mtime IS NOT NULL");
        from = "file times";
    }
    char sentence[1024], part[160], a[40] = "", b[40] = "", window[400], ne_text[400] = "";
    size_t k = 0;
    if (first >= 0 && last >= 0) {
        time_t t0 = (time_t)(first / 1000000), t1 = (time_t)(last / 1000000);
        struct tm tm;
        strftime(a, sizeof a, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t0, &tm));
        strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t1, &tm));
    }
    if (caps > 0) {
        count_phrase(part, sizeof part, caps, "packet capture", "packet captures");
        snprintf(window, sizeof window, "in the %s covering %s to %s", part, a, b);
        k += (size_t)snprintf(sentence + k, sizeof sentence - k, "%s decoded, covering %s to %s",
                              part, a, b);
    } else if (strcmp(from, "log lines") == 0) {
        count_phrase(part, sizeof part, timed_logs, "log file", "log files");
        snprintf(window, sizeof window, "in evidence without any packet capture (no network "
                 "traffic was seen; the lines of the %s span %s to %s)", part, a, b);
        k += (size_t)snprintf(sentence + k, sizeof sentence - k,
                              "no packet capture, so no network traffic was seen; the evidence "
                              "window, from the times in %s, is %s to %s", part, a, b);
    } else if (strcmp(from, "file times") == 0) {
        snprintf(window, sizeof window, "in evidence without any packet capture (no network "
                 "traffic was seen; no evidence window is known: the input files were last "
                 "modified %s to %s, which dates the copies, not the events)", a, b);
        k += (size_t)snprintf(sentence + k, sizeof sentence - k,
                              "no packet capture, so no network traffic was seen and no time "
                              "in the evidence dates it: the input files were last modified "
                              "%s to %s (when the copies were made, not when events happened)",
                              a, b);
    } else {
        snprintf(window, sizeof window, "in evidence without any packet capture (no network "
                                        "traffic was seen; no evidence window is known)");
        k += (size_t)snprintf(sentence + k, sizeof sentence - k,
                              "no packet capture, so no network traffic was seen and the "
                              "evidence window is not known");
    }
    if (files > 0 && k < sizeof sentence) {
        count_phrase(part, sizeof part, files, "file", "files");
        k += (size_t)snprintf(sentence + k, sizeof sentence - k, "; %s read for PHI", part);
    }
    if ((images || logs || binary || bad) && k < sizeof sentence) {
        k += (size_t)snprintf(sentence + k, sizeof sentence - k, "; not examined:");
        const struct {
            long long n;
            const char *one, *many;
        } ne[] = {{images, "disk image", "disk images"},
                  {logs, "log file", "log files"},
                  {binary, "file of a format phitrace does not read (printable text only)",
                   "files of formats phitrace does not read (printable text only)"},
                  {bad, "unreadable input", "unreadable inputs"}};
        bool first_part = true;
        for (size_t i = 0; i < sizeof ne / sizeof ne[0] && k < sizeof sentence; i++) {
            if (ne[i].n == 0) {
                continue;
            }
            count_phrase(part, sizeof part, ne[i].n, ne[i].one, ne[i].many);
            k += (size_t)snprintf(sentence + k, sizeof sentence - k, "%s %s",
                                  first_part ? "" : ",", part);
            size_t l = strlen(ne_text);
            snprintf(ne_text + l, sizeof ne_text - l, "%s%s", first_part ? "" : ", ", part);
            first_part = false;
        }
        if (k < sizeof sentence) {
            snprintf(sentence + k, sizeof sentence - k, " (see the limitations)");
        }
        size_t l = strlen(ne_text);
        snprintf(ne_text + l, sizeof ne_text - l, " %s not examined",
                 images + logs + binary + bad == 1 ? "was" : "were");
    }
    sentence[0] = (char)toupper((unsigned char)sentence[0]);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "INSERT INTO coverage_summary VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "coverage: %s", sqlite3_errmsg(h));
        return PT_EDB;
    }
    sqlite3_bind_text(st, 1, sentence, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, caps);
    sqlite3_bind_int64(st, 3, caps + files);
    sqlite3_bind_int64(st, 4, images + logs + binary + bad);
    if (first >= 0 && last >= 0) {
        sqlite3_bind_int64(st, 5, first);
        sqlite3_bind_int64(st, 6, last);
    }
    sqlite3_bind_text(st, 7, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, window, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, ne_text, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "coverage: %s", sqlite3_errmsg(h));
        return PT_EDB;
    }
    return PT_OK;
}

static const char limitations_sql[] =
    /* each capture's window, and the holes between capture windows (over 60 s) */
    "INSERT INTO limitation(kind, detail, value) SELECT 'capture_window', path || ': ' || "
    "strftime('%Y-%m-%dT%H:%M:%SZ', first_ts / 1000000, 'unixepoch') || ' to ' || "
    "strftime('%Y-%m-%dT%H:%M:%SZ', last_ts / 1000000, 'unixepoch'), (last_ts - first_ts) / 1e6 "
    "FROM evidence_item WHERE kind = 'capture' AND first_ts IS NOT NULL ORDER BY first_ts, id;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'capture_hole', 'no capture from ' || "
    "strftime('%Y-%m-%dT%H:%M:%SZ', prev_end / 1000000, 'unixepoch') || ' to ' || "
    "strftime('%Y-%m-%dT%H:%M:%SZ', first_ts / 1000000, 'unixepoch'), (first_ts - prev_end) / 1e6 "
    "FROM (SELECT first_ts, max(last_ts) OVER (ORDER BY first_ts ROWS BETWEEN UNBOUNDED "
    "PRECEDING AND 1 PRECEDING) AS prev_end FROM evidence_item WHERE kind = 'capture' AND "
    "first_ts IS NOT NULL) WHERE prev_end IS NOT NULL AND first_ts - prev_end > 60000000;"
    /* bytes the capture does not hold */
    "INSERT INTO limitation(kind, detail, value) SELECT 'bytes_not_captured', "
    "'TCP bytes sent but not in the capture (sequence-implied minus captured; stream gaps)', "
    "coalesce(sum(c_gap_bytes + s_gap_bytes), 0) FROM flow HAVING sum(c_gap_bytes + s_gap_bytes) "
    "> 0;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'outbound_bytes_not_captured', "
    "'bytes sent from inside to outside that the capture misses (sequence numbers show them)', "
    "sum(CASE WHEN class = 'outbound' THEN max(0, c_seq_bytes - c_payload_bytes) ELSE max(0, "
    "s_seq_bytes - s_payload_bytes) END) FROM flow WHERE class IN ('outbound', 'inbound') HAVING "
    "sum(CASE WHEN class = 'outbound' THEN max(0, c_seq_bytes - c_payload_bytes) ELSE max(0, "
    "s_seq_bytes - s_payload_bytes) END) > 0;"
    /* the encrypted share of outbound bytes */
    "INSERT INTO limitation(kind, detail, value) SELECT 'encrypted_outbound_share', "
    "printf('%.1f%% of the %lld bytes sent to outside addresses were encrypted (TLS, SSH) or of no "
    "protocol phitrace decodes (stored and scanned as raw streams; encrypted ones cannot be "
    "read)', 100.0 * enc / tot, tot), "
    "1.0 * enc / tot FROM (SELECT sum(CASE WHEN unread THEN b ELSE 0 END) AS enc, sum(b) AS tot "
    "FROM (SELECT " UNREAD_SQL " AS unread, " OUT_BYTES_SQL " AS b FROM flow f WHERE f.class IN "
    "('outbound', 'inbound'))) WHERE tot > 0;"
    /* inputs that could not be read fully, caps that truncated data, objects not scanned */
    "INSERT INTO limitation(kind, detail, value) SELECT 'input_' || status, path || ': ' || "
    "coalesce(error, status), size FROM evidence_item WHERE status NOT IN ('ok', 'skipped') "
    "ORDER BY id;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'cap_' || kind, count(*) || ' time(s): ' "
    "|| min(detail), count(*) FROM anomaly WHERE kind LIKE 'limit.%' GROUP BY kind ORDER BY kind;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'memcap_evictions', (SELECT count(*) FROM "
    "flow WHERE end_reason = 'evicted') || ' flow(s) were ended early (at the memory cap over "
    "per-flow decoder state, --memcap, in ' || count(*) || ' burst(s), or at the flow table "
    "cap): what they had buffered was decoded or stored, but their later packets were decoded "
    "as new flows from the middle of a stream, so records and objects of them may be missing or "
    "split; data may be missing', count(*) FROM anomaly WHERE kind = 'limit.memcap' HAVING "
    "count(*) > 0;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'encrypted_archive_members', count(*) || "
    "' archive member(s) were encrypted and could not be read', count(*) FROM object WHERE "
    "encrypted = 1 HAVING count(*) > 0;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'smb_encrypted', count(*) || ' SMB3 "
    "flow(s) were encrypted: file names and content unreadable', count(*) FROM anomaly WHERE kind "
    "= 'smb.encrypted' HAVING count(*) > 0;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'objects_not_stored', count(*) || ' "
    "object(s) could not be written to the case (disk full or I/O error): their content was not "
    "scanned for PHI, so the case is incomplete', count(*) FROM anomaly WHERE kind = "
    "'store.failed' HAVING count(*) > 0;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'partial_objects', count(*) || ' "
    "object(s) are partial (capture gaps); PHI in the missing bytes cannot be seen', count(*) "
    "FROM object WHERE complete = 0 HAVING count(*) > 0;"
    /* inputs not examined, and content read only in its printable runs */
    "INSERT INTO limitation(kind, detail, value) SELECT 'not_examined', e.path || ' (' || "
    "c.examined_as || '): ' || c.reason, c.bytes FROM coverage c JOIN evidence_item e ON e.id = "
    "c.item_id WHERE NOT c.examined AND c.reason IS NOT NULL ORDER BY c.item_id;"
    /* an EWF image whose media does not match its stored hashes (issue 15) */
    "INSERT INTO limitation(kind, detail, value) SELECT 'image_hash_mismatch', e.path || ': ' "
    "|| a.detail, e.size FROM anomaly a JOIN evidence_item e ON e.id = a.item_id WHERE a.kind = "
    "'input.ewf_hash_mismatch' ORDER BY a.id;"
    /* a disk image read in part: the reader crashed, hung or a walk stopped (issue 15) */
    "INSERT INTO limitation(kind, detail, value) SELECT 'image_read_incomplete', e.path || ' ("
    "' || c.examined_as || '): ' || c.reason, c.bytes FROM coverage c JOIN evidence_item e ON "
    "e.id = c.item_id WHERE c.examined AND c.examined_as LIKE 'image:%' AND c.reason IS NOT "
    "NULL ORDER BY c.item_id;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'binary_objects_strings_only', count(*) || "
    "' object(s) of formats no parser reads (' || sum(o.size) || ' bytes) were read for PHI "
    "only in their printable runs (ASCII and UTF-16LE); identifiers inside compressed or "
    "encoded parts of them cannot be seen', count(*) FROM phi_object p JOIN (SELECT sha256, "
    "max(size) AS size FROM object GROUP BY sha256) o ON o.sha256 = p.object_sha256 WHERE "
    "p.format = 'binary-strings' HAVING count(*) > 0;"
    /* how far the joining of records into individuals can be trusted */
    "INSERT INTO limitation(kind, detail, value) SELECT replace(kind, '.', '_'), detail, "
    "CAST(detail AS INTEGER) FROM anomaly WHERE kind IN ('phi.join_refused', "
    "'phi.multi_person_record', 'phi.implausible_entity') ORDER BY kind;"
    "INSERT INTO limitation(kind, detail, value) SELECT 'names_in_free_text', 'personal names in "
    "free text are detected only after a patient-name label (\"Patient:\", \"Name:\"); there is "
    "no named-entity recognition; other names come from structured records (DICOM, HL7, "
    "FHIR, CDA, X12, CSV columns)', 0;";

/* ---- timeline (plaso-compatible fields) ------------------------------------------------------------- */

static const char timeline_sql[] =
    "INSERT INTO timeline_event(ts, timestamp_desc, source, source_long, data_type, message, "
    "evidence) "
    "SELECT first_ts, 'First Seen', 'EVIDENCE', 'phitrace evidence item', 'phitrace:input', "
    "'capture ' || path || ' begins', 'evidence_item:' || id FROM evidence_item WHERE "
    "first_ts IS NOT NULL "
    "UNION ALL SELECT last_ts, 'Last Seen', 'EVIDENCE', 'phitrace evidence item', "
    "'phitrace:input', 'capture ' || path || ' ends', 'evidence_item:' || id FROM evidence_item "
    "WHERE last_ts IS NOT NULL "
    "UNION ALL SELECT first_ts, 'Start Time', 'FINDING', 'phitrace heuristic ' || heuristic, "
    "'phitrace:finding:' || heuristic, summary, 'finding:' || id FROM finding "
    "UNION ALL SELECT o.ts, 'Transfer Time', 'FILE', 'phitrace object (' || o.protocol || ')', "
    "'phitrace:object', o.direction || ' ' || coalesce(o.name, '') || ' (' || o.size || ' bytes, ' "
    "|| coalesce(o.mime, '?') || ')' || CASE WHEN p.phi_hits > 0 THEN ' with PHI of ' || "
    "p.individuals || ' individual(s)' ELSE '' END, 'object:' || o.sha256 FROM object o LEFT JOIN "
    "phi_object p ON p.object_sha256 = o.sha256 WHERE o.ts IS NOT NULL AND o.depth = 0 AND "
    "(o.direction = 'upload' OR p.phi_hits > 0) "
    "UNION ALL SELECT first_ts, 'Start Time', 'EVENT', 'phitrace exfiltration event', "
    "'phitrace:event', verdict || ': ' || source || ' -> ' || destination || ' (' || bytes_out || "
    "' bytes out)', 'exfil_event:' || id FROM exfil_event "
    /* disk images (issue 15): the MACB times of files with PHI and of deleted files */
    "UNION ALL SELECT t.ts, t.descr, 'FILE', 'phitrace disk file', 'fs:stat', d.path || ' (' || "
    "d.state || ', ' || d.size || ' bytes' || CASE WHEN p.phi_hits > 0 THEN ', PHI of ' || "
    "p.individuals || ' individual(s)' ELSE '' END || ')', 'disk_file:' || d.rowid FROM "
    "disk_file d JOIN (SELECT rowid AS id, mtime AS ts, 'Content Modification Time' AS descr "
    "FROM disk_file UNION ALL SELECT rowid, atime, 'Last Access Time' FROM disk_file UNION ALL "
    "SELECT rowid, ctime, 'Metadata Modification Time' FROM disk_file UNION ALL SELECT rowid, "
    "crtime, 'Creation Time' FROM disk_file) t ON t.id = d.rowid LEFT JOIN phi_object p ON "
    "p.object_sha256 = d.sha256 WHERE t.ts IS NOT NULL AND d.kind = 'r' AND (p.phi_hits > 0 OR "
    "d.state IN ('deleted', 'orphan')) "
    "ORDER BY 1, 7";

pt_status pt_verdict_run(struct pt_db *db, const char *sig_dir, struct pt_verdict_result *res,
                         char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    struct ctx *x = calloc(1, sizeof *x);
    if (x == NULL) {
        return PT_ENOMEM;
    }
    x->h = pt_db_handle(db);
    pt_status rc = load_conf(sig_dir, &x->c, err, errlen);
    if (rc != PT_OK) {
        free(x);
        return rc;
    }
    rc = pt_db_exec(x->h, "BEGIN", err, errlen);
    if (rc == PT_OK &&
        sqlite3_prepare_v2(x->h, "INSERT INTO finding(heuristic, source, destination, protocol, "
                                 "first_ts, last_ts, bytes_out, score, severity, summary, detail, "
                                 "evidence) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                           -1, &x->ins, NULL) != SQLITE_OK) {
        rc = PT_EDB;
    }
    if (rc == PT_OK) {
        flow_heuristics(x);
        beacons(x);
        dns_tunnels(x);
        icmp_tunnels(x);
        dicom_outbound(x);
        phi_outbound(x);
        yara_findings(x);
        after_hours(x);
        rc = x->rc;
        if (rc != PT_OK) {
            snprintf(err, errlen, "heuristics: %s", sqlite3_errmsg(x->h));
        }
    }
    sqlite3_finalize(x->ins);
    if (rc == PT_OK) {
        rc = events(x, err, errlen);
    }
    if (rc == PT_OK) {
        rc = coverage(x, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_db_exec(x->h, limitations_sql, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_db_exec(x->h, timeline_sql, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_db_exec(x->h, "COMMIT", err, errlen);
    } else {
        pt_db_exec(x->h, "ROLLBACK", NULL, 0);
    }
    res->findings = x->findings;
    free(x);
    if (rc == PT_OK) {
        rc = pt_verdict_read(db, &res->overall);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT count(*) FROM exfil_event", -1, &st,
                               NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            res->events = (unsigned)sqlite3_column_int(st, 0);
        }
        sqlite3_finalize(st);
    }
    return rc;
}

pt_status pt_verdict_read(struct pt_db *db, enum pt_verdict_level *out)
{
    sqlite3_stmt *st = NULL;
    *out = PT_VERDICT_NOT_OBSERVED;
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT verdict FROM verdict WHERE scope = 'overall'",
                           -1, &st, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        int v = pt_verdict_parse(col(st, 0));
        *out = v < 0 ? PT_VERDICT_NOT_OBSERVED : (enum pt_verdict_level)v;
    }
    sqlite3_finalize(st);
    return PT_OK;
}
