/*
 * heur_dns.c - DNS tunnels per (client, registered domain): distinct subdomains,
 * label bytes, entropy, record types, encodings (RITA, nDPI, community thresholds).
 */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyze/tunnel.h"
#include "../core/grow.h"
#include "../core/limits.h"
#include "../store/db.h"
#include "../store/q_verdict.h"
#include "beacon.h"
#include "verdict_int.h"

#define DNS_RESOLVERS 4

struct dgroup {
    char client[64];
    char *domain; /* owned: most names are short, and there is a group per (client, name) */
    unsigned queries, names, odd, responses, nx, long_label, encoded_names;
    unsigned charset[4]; /* names whose data labels all fit hex, base32, base64, url */
    uint64_t label_bytes;
    double entropy; /* of its names' data label characters */
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
    size_t nm; /* index of its distinct name */
};

/* The entropy of a group's label characters, counted in chars while its names are read (a
 * group's names are read together, so one count serves every group in turn). */
static double dns_entropy(const uint64_t chars[256])
{
    double total = 0, ent = 0;
    for (int i = 0; i < 256; i++) {
        total += (double)chars[i];
    }
    for (int i = 0; i < 256 && total > 0; i++) {
        if (chars[i] > 0) {
            double p = (double)chars[i] / total;
            ent -= p * log2(p);
        }
    }
    return ent;
}

/* The forwarded copy of a tunnel: its client is the resolver of another client's group
 * under the same domain (the capture saw both legs). The set holds each distinct (domain,
 * resolver) of every group whose client is not that resolver, so a group is a forwarded copy
 * when (its domain, its client) is in it. It grows with the distinct (domain, resolver)
 * pairs, not with the groups: groups are read one client at a time and only those the tests
 * flag are kept (dns_flagged), so memory stays flat in the number of clients and queries. */
struct dfwd {
    char **slot; /* "domain\0resolver" keys, open addressing; NULL: empty */
    size_t cap, n;
};

static uint64_t dfwd_hash(const char *domain, const char *resolver)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *s = domain; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *s = resolver; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

/* The slot of (domain, resolver): the key's, or the empty one where it would go. */
static size_t dfwd_find(const struct dfwd *fw, const char *domain, const char *resolver)
{
    size_t i = (size_t)dfwd_hash(domain, resolver) & (fw->cap - 1);
    while (fw->slot[i] != NULL && (strcmp(fw->slot[i], domain) != 0 ||
                                   strcmp(fw->slot[i] + strlen(domain) + 1, resolver) != 0)) {
        i = (i + 1) & (fw->cap - 1);
    }
    return i;
}

static bool dfwd_add(struct dfwd *fw, const char *domain, const char *resolver)
{
    if (2 * (fw->n + 1) > fw->cap) { /* at most half full */
        struct dfwd g = {.cap = fw->cap ? 2 * fw->cap : 256};
        if ((g.slot = calloc(g.cap, sizeof *g.slot)) == NULL) {
            return false;
        }
        for (size_t i = 0; i < fw->cap; i++) {
            if (fw->slot[i] != NULL) {
                g.slot[dfwd_find(&g, fw->slot[i], fw->slot[i] + strlen(fw->slot[i]) + 1)] =
                    fw->slot[i];
            }
        }
        free(fw->slot);
        g.n = fw->n;
        *fw = g;
    }
    size_t i = dfwd_find(fw, domain, resolver);
    if (fw->slot[i] == NULL) {
        size_t dl = strlen(domain), rl = strlen(resolver);
        if ((fw->slot[i] = malloc(dl + rl + 2)) == NULL) {
            return false;
        }
        memcpy(fw->slot[i], domain, dl + 1);
        memcpy(fw->slot[i] + dl + 1, resolver, rl + 1);
        fw->n++;
    }
    return true;
}

static bool forwarded(const struct dfwd *fw, const struct dgroup *g)
{
    return fw->n > 0 && fw->slot[dfwd_find(fw, g->domain, g->client)] != NULL;
}

static void dfwd_free(struct dfwd *fw)
{
    for (size_t i = 0; i < fw->cap; i++) {
        free(fw->slot[i]);
    }
    free(fw->slot);
}

/* The tests a group is reported for (thresholds of heuristics.conf). */
struct dtests {
    bool many, encoded, oddtypes, longl, datalabels;
    double odd_share;
};

static bool dns_flagged(const struct pt_heur_conf *c, const struct dgroup *g, struct dtests *t)
{
    t->odd_share = g->queries ? (double)g->odd / g->queries : 0;
    unsigned cs_best = 0;
    for (int i = 0; i < 4; i++) {
        cs_best = g->charset[i] > cs_best ? g->charset[i] : cs_best;
    }
    t->many = g->names >= c->dns_subdomains;
    t->encoded = g->label_bytes >= c->dns_label_bytes && g->entropy >= c->dns_entropy &&
                 g->queries >= c->dns_min_queries;
    t->oddtypes = t->odd_share >= c->dns_odd_type_share && g->queries >= c->dns_min_queries;
    t->longl = g->long_label > 0 && g->queries >= c->dns_min_queries;
    /* most names carry labels that look encoded, in one character set */
    t->datalabels = g->encoded_names >= c->dns_min_queries &&
                    4 * (uint64_t)g->encoded_names >= 3 * (uint64_t)g->names &&
                    10 * (uint64_t)cs_best >= 9 * (uint64_t)g->encoded_names &&
                    g->label_bytes * 4 >= c->dns_label_bytes;
    return g->queries > 0 && (t->many || t->encoded || t->oddtypes || t->longl || t->datalabels);
}

static void dns_report(struct pt_verdict_ctx *x, struct dgroup *g)
{
    struct dtests t;
    if (!dns_flagged(&x->c, g, &t)) {
        return;
    }
    double ent = g->entropy, odd_share = t.odd_share;
    bool encoded = t.encoded, oddtypes = t.oddtypes, longl = t.longl, datalabels = t.datalabels;
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
    pt_human_bytes((double)g->label_bytes, hb, sizeof hb);
    /* the payload decoded by the tunnel stage, when there is one */
    char obj[80] = "", enc[40] = "", ob[32] = "";
    int64_t osize = 0, ogap = 0;
    struct pt_qv *q = NULL;
    if (pt_qv_open(x->db, PT_QV_DNS_DECODED, &q) == PT_OK) {
        pt_qv_bind_text(q, 1, g->domain);
        pt_qv_bind_text(q, 2, g->client);
        if (pt_qv_step(q)) {
            snprintf(obj, sizeof obj, "%s", pt_qv_text(q, 0));
            osize = pt_qv_int(q, 1);
            snprintf(enc, sizeof enc, "%s", pt_qv_text(q, 2));
            ogap = pt_qv_int(q, 3);
        }
    }
    pt_qv_free(q);
    char sum[1600], det[2400], ev[700], dec[200] = "";
    if (obj[0] != '\0') {
        pt_human_bytes((double)osize, ob, sizeof ob);
        snprintf(dec, sizeof dec, "; %s decoded (%s%s)", ob, enc, ogap > 0 ? ", partial" : "");
    }
    snprintf(sum, sizeof sum,
             "DNS tunnel: %s sent %u queries%s%s for %u distinct names under "
             "%s, about %s encoded in labels (entropy %.2f bits/char, %.0f%% "
             "NULL/TXT/other record types, %u NXDOMAIN)%s",
             g->client, g->queries, g->n_resolvers ? " via " : "", via, g->names, g->domain, hb, ent,
             100 * odd_share, g->nx, dec);
    snprintf(det, sizeof det,
             "{\"tunnel_domain\":\"%s\",\"registered_domain\":\"%s\","
             "\"client\":\"%s\",\"resolvers\":%s,\"queries\":%u,"
             "\"distinct_names\":%u,\"label_bytes\":%llu,\"entropy\":%.3f,"
             "\"odd_type_share\":%.3f,\"long_labels\":%u,\"encoded_names\":%u,"
             "\"responses\":%u,\"nxdomain\":%u,\"decoded_object\":\"%s\","
             "\"decoded_bytes\":%lld,\"encoding\":\"%s\","
             "\"estimate\":\"label bytes approximate the data sent out\"}",
             dom, dom, cl, vj, g->queries, g->names, (unsigned long long)g->label_bytes, ent,
             odd_share, g->long_label, g->encoded_names, g->responses, g->nx, obj, (long long)osize,
             enc);
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
    pt_verdict_finding(x, PT_HEUR_DNS_TUNNEL, g->client, g->domain, "dns", g->first, g->last,
                       (int64_t)g->label_bytes, score, sum, det, ev);
}

/* Per-label tests of one distinct name's data part into its group. */
static void dns_labels(const struct pt_heur_conf *c, struct dgroup *g, uint64_t chars_of[256],
                       const struct pt_tun_name *nm)
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
            chars_of[(unsigned char)data[i + k]]++;
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
static bool dns_client(const struct pt_heur_conf *c, struct drow *rows, size_t n,
                       const char *client, struct dgroup **groups, size_t *ng, size_t *cap)
{
    bool ok = false;
    size_t *ix = malloc((n ? n : 1) * sizeof *ix);
    struct pt_tun_name *nm = calloc(n ? n : 1, sizeof *nm);
    size_t *gid = malloc((n ? n : 1) * sizeof *gid);
    size_t *first = malloc((n ? n : 1) * sizeof *first), *which = NULL;
    const char **q = calloc(n ? n : 1, sizeof *q);
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
    uint64_t chars[256];
    for (size_t j = 0; j < m; j++) {
        size_t i = ix[j];
        if (j == 0 || strcmp(nm[i].key, nm[ix[j - 1]].key) != 0) {
            if (j > 0) {
                (*groups)[*ng - 1].entropy = dns_entropy(chars);
            }
            memset(chars, 0, sizeof chars);
            if (!pt_grow(groups, cap, *ng + 1, sizeof **groups, 64)) {
                goto out;
            }
            struct dgroup *g = &(*groups)[*ng];
            memset(g, 0, sizeof *g);
            snprintf(g->client, sizeof g->client, "%s", client);
            if ((g->domain = strndup(nm[i].key, 255)) == NULL) {
                goto out;
            }
            (*ng)++;
            g->first = INT64_MAX;
            g->last = INT64_MIN;
        }
        gid[i] = *ng - 1;
        dns_labels(c, &(*groups)[*ng - 1], chars, &nm[i]);
    }
    if (m > 0) {
        (*groups)[*ng - 1].entropy = dns_entropy(chars);
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

/* One client's new groups, from `from` on: their resolvers into the forwarded-copy set, and
 * only the flagged ones kept (the others' domains freed). */
static bool dns_keep(const struct pt_heur_conf *c, struct dgroup *groups, size_t from,
                     size_t *ng, struct dfwd *fw)
{
    bool ok = true;
    size_t k = from;
    for (size_t i = from; i < *ng; i++) {
        struct dgroup *g = &groups[i];
        for (unsigned r = 0; r < g->n_resolvers && ok; r++) {
            ok = strcmp(g->resolver[r], g->client) == 0 || dfwd_add(fw, g->domain, g->resolver[r]);
        }
        struct dtests t;
        if (dns_flagged(c, g, &t)) {
            groups[k++] = *g;
        } else {
            free(g->domain);
        }
    }
    *ng = k;
    return ok;
}

/* The flagged groups of every client and the forwarded-copy set, as read from `db`. */
struct dgroups {
    struct dgroup *g;
    size_t n;
    struct dfwd fw;
};

static void dgroups_free(struct dgroups *d)
{
    dfwd_free(&d->fw);
    for (size_t i = 0; i < d->n; i++) {
        free(d->g[i].domain);
    }
    free(d->g);
    memset(d, 0, sizeof *d);
}

/* queries from captures, and from resolver and sensor logs (Zeek, EVE, dnsmasq, BIND,
 * Unbound) that no capture holds too: the same query within 5 s from the same client; read
 * a client at a time (the rows are ordered by client), only its flagged groups kept */
static pt_status dns_collect(struct pt_db *db, const struct pt_heur_conf *c, struct dgroups *d)
{
    struct pt_qv *st = NULL;
    memset(d, 0, sizeof *d);
    if (pt_qv_open(db, PT_QV_DNS_ROWS, &st) != PT_OK) {
        return PT_EDB;
    }
    pt_status rc = PT_OK;
    size_t gcap = 0, n = 0, cap = 0;
    struct drow *rows = NULL;
    char cur[64] = "";
    for (;;) {
        bool row = pt_qv_step(st);
        const char *cl = row ? pt_qv_text(st, 0) : "";
        if (!row || strcmp(cl, cur) != 0) {
            size_t from = d->n;
            if (n > 0 && (!dns_client(c, rows, n, cur, &d->g, &d->n, &gcap) ||
                          !dns_keep(c, d->g, from, &d->n, &d->fw))) {
                rc = PT_ENOMEM;
            }
            for (size_t i = 0; i < n; i++) {
                free(rows[i].name);
            }
            n = 0;
            if (!row || rc != PT_OK) {
                break;
            }
            snprintf(cur, sizeof cur, "%s", cl);
        }
        if (n >= PT_TUN_MAX_NAMES) {
            continue; /* the tunnel stage recorded limit.tunnel_names */
        }
        if (!pt_grow(&rows, &cap, n + 1, sizeof *rows, 256)) {
            rc = PT_ENOMEM;
            break;
        }
        struct drow *w = &rows[n];
        w->name = strdup(pt_qv_text(st, 1));
        if (w->name == NULL) {
            rc = PT_ENOMEM;
            break;
        }
        size_t nl = strlen(w->name);
        if (nl > 1 && w->name[nl - 1] == '.' && w->name[nl - 2] != '\\') {
            w->name[nl - 1] = '\0';
        }
        w->qtype = (int)pt_qv_int(st, 2);
        w->response = (int)pt_qv_int(st, 3);
        w->rcode = (int)pt_qv_int(st, 4);
        w->ts = pt_qv_int(st, 5);
        snprintf(w->server, sizeof w->server, "%s", pt_qv_text(st, 6));
        w->internal = (int)pt_qv_int(st, 7) != 0;
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        free(rows[i].name);
    }
    free(rows);
    pt_qv_free(st);
    return rc;
}

struct pt_dns_pre {
    pthread_t th;
    struct pt_db *db; /* its own reading connection */
    const struct pt_heur_conf *c;
    struct dgroups d;
    pt_status rc;
};

static void *dns_main(void *arg)
{
    struct pt_dns_pre *p = arg;
    p->rc = dns_collect(p->db, p->c, &p->d);
    return NULL;
}

void pt_heur_dns_start(struct pt_verdict_ctx *x)
{
    char err[256];
    struct pt_dns_pre *p = calloc(1, sizeof *p);
    if (p == NULL || pt_db_open_sibling(x->db, &p->db, err, sizeof err) != PT_OK) {
        free(p);
        return; /* read in its turn on the verdict's connection */
    }
    p->c = &x->c;
    if (pthread_create(&p->th, NULL, dns_main, p) != 0) {
        pt_db_close(p->db);
        free(p);
        return;
    }
    x->dns = p;
}

/* The thread's groups (joined), or none when there was no thread. */
static bool dns_join(struct pt_verdict_ctx *x, struct dgroups *d, pt_status *rc)
{
    struct pt_dns_pre *p = x->dns;
    if (p == NULL) {
        return false;
    }
    pthread_join(p->th, NULL);
    pt_db_close(p->db);
    *d = p->d;
    *rc = p->rc;
    free(p);
    x->dns = NULL;
    return true;
}

void pt_heur_dns_end(struct pt_verdict_ctx *x)
{
    struct dgroups d;
    pt_status rc;
    if (dns_join(x, &d, &rc)) {
        dgroups_free(&d);
    }
}

/* Groups are (inside client, tunnel domain): the client's names grouped by their longest
 * shared suffix (analyze/tunnel.c), so a tunnel without a registered domain, or under a
 * subdomain of a busy one, is one group; queries to an internal resolver count for the
 * client that sent them, and the resolver's forwarded copies are not a second tunnel. */
void pt_heur_dns_tunnel(struct pt_verdict_ctx *x)
{
    struct dgroups d;
    pt_status rc;
    if (!dns_join(x, &d, &rc)) {
        rc = dns_collect(x->db, &x->c, &d);
    }
    if (rc != PT_OK && x->rc == PT_OK) {
        x->rc = rc;
    }
    for (size_t i = 0; i < d.n && x->rc == PT_OK; i++) {
        if (!forwarded(&d.fw, &d.g[i])) {
            dns_report(x, &d.g[i]);
        }
    }
    dgroups_free(&d);
}
