/*
 * tunnel_phase.c - DNS tunnel payloads of a case as objects (see tunnel.h).
 *
 * The queries of each inside client, in time order, are reduced to distinct names (a
 * retransmitted query is the same name; case is ignored, as resolvers may randomise it),
 * grouped by tunnel domain with pt_tun_group, and each group's data parts decoded with
 * pt_tun_decode. An object is attributed to the client's first query of the group (flow,
 * frame, time) and named by the tunnel domain, so the verdict can join it to the finding.
 * A resolver's forwarded copies of another inside client's queries are not decoded again.
 *
 * Limits: PT_TUN_MAX_NAMES distinct names per client (limit.tunnel_names), at most
 * PT_TUN_MAX_TUNNELS objects per case (limit.tunnels), PT_TUN_MAX_BYTES per object
 * (limit.tunnel_bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/grow.h"
#include "../core/limits.h"
#include "../core/sha256.h"
#include "../store/db.h"
#include "../store/q_dns.h"
#include "objstore.h"
#include "tunnel.h"

struct q {
    char *name;
    int64_t flow_id, ts;
    uint32_t item;
    uint64_t frame;
};

struct phase {
    struct pt_db *db;
    const char *case_dir;
    unsigned store_id;
    struct pt_objstore *store;  /* opened at the first payload (libmagic loads slowly) */
    unsigned objects;
    bool tunnels_capped;
    pt_status rc;
};

static void anomaly(struct phase *ph, uint32_t item, uint64_t frame, enum pt_anom kind,
                    const char *detail)
{
    struct pt_anomaly_rec a = {.item = item, .frame = frame};
    a.kind = kind;
    snprintf(a.detail, sizeof a.detail, "%s", detail);
    if (pt_db_anomaly_put(ph->db, &a) != PT_OK) {
        ph->rc = PT_EDB;
    }
}

/* Store one decoded payload as an object with its row (direction upload: the queries'
 * payload; download: the answers'). */
static void store(struct phase *ph, const struct q *first, const char *key,
                  const struct pt_tun_payload *pl, const char *direction)
{
    if (ph->objects >= PT_TUN_MAX_TUNNELS) {
        if (!ph->tunnels_capped) {
            anomaly(ph, first->item, first->frame, PT_ANOM_LIMIT_TUNNELS,
                    "more DNS tunnels than the limit; the rest were not decoded");
        }
        ph->tunnels_capped = true;
        return;
    }
    if (ph->store == NULL && pt_objstore_new(ph->case_dir, ph->store_id, &ph->store) != PT_OK) {
        ph->rc = PT_EIO;
        return;
    }
    struct pt_object_rec meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.protocol, sizeof meta.protocol, "dns-tunnel");
    snprintf(meta.name, sizeof meta.name, "%s", key);
    snprintf(meta.encoding, sizeof meta.encoding, "%s", pt_tun_enc_name(pl->enc));
    snprintf(meta.direction, sizeof meta.direction, "%s", direction);
    meta.flow_id = first->flow_id;
    meta.item = first->item;
    meta.frame = first->frame;
    meta.ts_us = first->ts;
    struct pt_obj *o = pt_obj_open(ph->store, &meta);
    if (o == NULL) {
        anomaly(ph, first->item, first->frame, PT_ANOM_OBJECT_STORE_FAILED,
                "cannot create the object file");
        return;
    }
    size_t at = 0;
    for (size_t g = 0; g <= pl->n_gaps; g++) {
        size_t upto = g < pl->n_gaps ? (size_t)pl->gaps[g].at : pl->len;
        if (upto > at) {
            pt_obj_write(o, pl->data + at, upto - at);
            at = upto;
        }
        if (g < pl->n_gaps) {
            pt_obj_gap(o, pl->gaps[g].len);
        }
    }
    if (pl->capped) {
        anomaly(ph, first->item, first->frame, PT_ANOM_LIMIT_TUNNEL_BYTES,
                "DNS tunnel payload longer than the limit; the object is cut");
    }
    struct pt_object_rec rec;
    if (!pt_obj_close(o, pl->n_gaps == 0 && !pl->capped, &rec)) {
        anomaly(ph, first->item, first->frame, PT_ANOM_OBJECT_STORE_FAILED,
                "cannot write the object file");
        return;
    }
    if (pt_db_object_put(ph->db, &rec) != PT_OK) {
        ph->rc = PT_EDB;
        return;
    }
    ph->objects++;
}

/* The SQL LIKE pattern of the names under a tunnel key. */
static void like_pattern(const char *key, char *like, size_t len)
{
    const char *star = strchr(key, '*');
    if (star != NULL) { /* a tag: names start with its labels */
        snprintf(like, len, "%.*s%%", (int)(star - key), key);
    } else {
        snprintf(like, len, "%%%s", key);
    }
}

/* Is this client a resolver forwarding other inside clients' queries for the domain? The
 * capture then holds both legs; the payload is decoded once, for the client that sent it. */
static bool forwarder(struct phase *ph, const char *addr, const char *key)
{
    char like[300];
    like_pattern(key, like, sizeof like);
    return pt_q_dns_forwarder(ph->db, addr, like);
}

/* Does a group of data parts look like tunnel data rather than ordinary names or texts?
 * PT_TUN_MIN_DATA characters, and PT_TUN_MIN_NAMES parts and a quarter of them at least with
 * an encoded-looking label (iodine's many short commands leave about a third). */
static bool tunnel_like(const char *const *parts, size_t n)
{
    size_t chars = 0, encoded = 0;
    for (size_t i = 0; i < n; i++) {
        chars += strlen(parts[i]);
        encoded += pt_tun_part_encoded(parts[i]);
    }
    return chars >= PT_TUN_MIN_DATA && encoded >= PT_TUN_MIN_NAMES && 4 * encoded >= n;
}

/* A hex string's bytes into out (room for strlen(hex) / 2); false when it is not hex. */
static bool unhex(const char *hex, uint8_t *out, size_t *n)
{
    size_t l = strlen(hex);
    *n = l / 2;
    return pt_unhex(hex, l, out);
}

/* One answer's downstream piece into *piece (owned; NULL when it carries none): for
 * iodine, the RDATA's bytes (an answer dns.c kept only in part is left out: its packet
 * becomes a gap); otherwise its data part as text (pt_tun_answer_part). */
static bool answer_piece(const struct pt_q_answer *an, const char *key, bool iodine,
                         uint8_t **piece, size_t *len)
{
    const char *data = an->data;
    size_t dl = strlen(data);
    *piece = malloc(dl + 1);
    if (*piece == NULL) {
        return false;
    }
    bool some = iodine ? (int64_t)dl == 2 * an->rdlength && unhex(data, *piece, len)
                       : (*len = pt_tun_answer_part(an->type, an->decoded, data, key,
                                                    (char *)*piece, dl + 1)) > 0;
    if (!some) {
        free(*piece);
        *piece = NULL;
    }
    return true;
}

/* The downstream payload of a tunnel: the data its answers to `addr` carried, each distinct
 * answer once (a retransmitted query's answer is the same), in time order. For iodine, the
 * NULL answers to its data and ping queries (their names start with the hex user id, or
 * 'p'), decoded with pt_tun_iodine_down; otherwise TXT strings and CNAME/MX/NS/PTR targets
 * below the tunnel domain, decoded like the queries when they look like tunnel data. */
/* The pieces of a tunnel's answers, as downstream() collects them. */
struct pieces {
    struct phase *ph;
    const char *key;
    bool iodine;
    uint8_t **pieces;
    size_t *len, n, cap, lcap;
    struct q first;
};

static bool answer_row(void *arg, const struct pt_q_answer *an)
{
    struct pieces *pc = arg;
    size_t n = pc->n;
    if (!pt_grow(&pc->pieces, &pc->cap, n + 1, sizeof *pc->pieces, 64) ||
        !pt_grow(&pc->len, &pc->lcap, n + 1, sizeof *pc->len, 64) ||
        !answer_piece(an, pc->key, pc->iodine, &pc->pieces[n], &pc->len[n])) {
        pc->ph->rc = PT_ENOMEM;
        return false;
    }
    if (pc->pieces[n] == NULL) {
        return true;
    }
    if (n == 0) {
        pc->first.flow_id = an->flow_id;
        pc->first.ts = an->ts;
        pc->first.item = an->item;
        pc->first.frame = an->frame;
    }
    pc->n++;
    return pc->n < PT_TUN_MAX_NAMES;
}

static void downstream(struct phase *ph, const char *addr, const char *key, bool iodine)
{
    char like[300];
    like_pattern(key, like, sizeof like);
    struct pieces pc = {.ph = ph, .key = key, .iodine = iodine};
    if (pt_q_dns_answers(ph->db, addr, like, iodine, answer_row, &pc) != PT_OK) {
        ph->rc = PT_EDB;
        return;
    }
    uint8_t **pieces = pc.pieces;
    size_t *len = pc.len, n = pc.n;
    struct q first = pc.first;
    const char *const *parts = (const char *const *)pieces;
    if (ph->rc == PT_OK && n > 0 && (iodine || tunnel_like(parts, n))) {
        struct pt_tun_payload pl;
        pt_status rc = iodine ? pt_tun_iodine_down((const uint8_t *const *)pieces, len, n, &pl)
                              : pt_tun_decode(parts, n, key, &pl);
        if (rc != PT_OK) {
            ph->rc = PT_ENOMEM;
        } else if (pl.enc != PT_TUN_ENC_NONE && pl.len >= 16) {
            store(ph, &first, key, &pl, "download");
        }
        pt_tun_payload_free(&pl);
    }
    for (size_t i = 0; i < n; i++) {
        free(pieces[i]);
    }
    free(pieces);
    free(len);
}

/* One client's queries (time order): distinct names, groups, payloads. */
static void client(struct phase *ph, const char *addr, struct q *qs, size_t n)
{
    size_t *ix = malloc((n ? n : 1) * sizeof *ix);
    struct pt_tun_name *nm = calloc(n ? n : 1, sizeof *nm);
    size_t *of = malloc((n ? n : 1) * sizeof *of); /* names index -> qs index */
    const char **parts = calloc(n ? n : 1, sizeof *parts);
    char *pbuf = NULL;
    size_t m = 0;
    if (ix == NULL || nm == NULL || of == NULL || parts == NULL) {
        ph->rc = PT_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        parts[i] = qs[i].name;
    }
    if (pt_tun_distinct(parts, n, nm, &m, of, NULL, ix) != PT_OK) {
        ph->rc = PT_ENOMEM;
        goto out;
    }
    for (size_t a = 0; a < m && ph->rc == PT_OK;) {
        size_t b = a + 1;
        while (b < m && strcmp(nm[ix[b]].key, nm[ix[a]].key) == 0) {
            b++;
        }
        size_t cnt = b - a, need = 0;
        for (size_t i = a; i < b; i++) {
            need += strlen(nm[ix[i]].name) + 1;
        }
        if (cnt >= PT_TUN_MIN_NAMES) {
            free(pbuf);
            pbuf = malloc(need);
            if (pbuf == NULL) {
                ph->rc = PT_ENOMEM;
                break;
            }
            size_t w = 0;
            for (size_t i = a; i < b; i++) { /* ix is in time order within a key */
                parts[i - a] = pbuf + w;
                w += pt_tun_data_part(&nm[ix[i]], pbuf + w, need - w) + 1;
            }
            /* a group of ordinary host names is not decoded */
            if (tunnel_like(parts, cnt) && !forwarder(ph, addr, nm[ix[a]].key)) {
                struct pt_tun_payload pl;
                if (pt_tun_decode(parts, cnt, nm[ix[a]].key, &pl) != PT_OK) {
                    ph->rc = PT_ENOMEM;
                } else if (pl.enc != PT_TUN_ENC_NONE && pl.len >= 16) {
                    store(ph, &qs[of[ix[a]]], nm[ix[a]].key, &pl, "upload");
                }
                enum pt_tun_enc up = pl.enc;
                pt_tun_payload_free(&pl);
                if (ph->rc == PT_OK) {
                    downstream(ph, addr, nm[ix[a]].key, up == PT_TUN_ENC_IODINE);
                }
            }
        }
        a = b;
    }
out:
    free(pbuf);
    free(parts);
    free(of);
    free(nm);
    free(ix);
}

/* The queries of the client being read, as pt_tunnel_phase() groups them. */
struct clientq {
    struct phase *ph;
    struct q *qs;
    size_t n, cap;
    char cur[64];
    bool capped;
};

/* Decode the queries of the client read so far, and forget them. */
static void client_flush(struct clientq *c)
{
    if (c->n > 0) {
        client(c->ph, c->cur, c->qs, c->n);
    }
    for (size_t i = 0; i < c->n; i++) {
        free(c->qs[i].name);
    }
    c->n = 0;
    c->capped = false;
}

static bool query_row(void *arg, const struct pt_q_query *row)
{
    struct clientq *c = arg;
    struct phase *ph = c->ph;
    if (strcmp(row->client, c->cur) != 0) {
        client_flush(c);
        snprintf(c->cur, sizeof c->cur, "%s", row->client);
    }
    if (ph->rc != PT_OK) {
        return false;
    }
    if (c->n >= PT_TUN_MAX_NAMES) {
        if (!c->capped) {
            anomaly(ph, row->item, row->frame, PT_ANOM_LIMIT_TUNNEL_NAMES,
                    "more DNS queries from one client than the tunnel decoder reads");
        }
        c->capped = true;
        return ph->rc == PT_OK;
    }
    if (!pt_grow(&c->qs, &c->cap, c->n + 1, sizeof *c->qs, 256)) {
        ph->rc = PT_ENOMEM;
        return false;
    }
    struct q *q = &c->qs[c->n];
    size_t nl = strlen(row->qname);
    q->name = malloc(nl + 1);
    if (q->name == NULL) {
        ph->rc = PT_ENOMEM;
        return false;
    }
    memcpy(q->name, row->qname, nl + 1);
    if (nl > 1 && q->name[nl - 1] == '.' && q->name[nl - 2] != '\\') {
        q->name[nl - 1] = '\0';
    }
    q->ts = row->ts;
    q->flow_id = row->flow_id;
    q->item = row->item;
    q->frame = row->frame;
    c->n++;
    return ph->rc == PT_OK;
}

pt_status pt_tunnel_phase(struct pt_db *db, const char *case_dir, unsigned store_id,
                          unsigned *objects, char *err, size_t errlen)
{
    struct phase ph = {.db = db, .case_dir = case_dir, .store_id = store_id, .rc = PT_OK};
    *objects = 0;
    struct clientq c = {.ph = &ph};
    pt_status qrc = pt_db_begin(db);
    if (qrc == PT_OK) {
        qrc = pt_q_dns_queries(db, query_row, &c);
    }
    if (qrc != PT_OK) {
        snprintf(err, errlen, "tunnel stage: %s", pt_db_errmsg(db));
        pt_db_commit(db); /* nothing was written */
        pt_objstore_free(ph.store);
        return PT_EDB;
    }
    if (ph.rc == PT_OK) {
        client_flush(&c); /* the last client */
    }
    for (size_t i = 0; i < c.n; i++) {
        free(c.qs[i].name);
    }
    free(c.qs);
    pt_status rc = ph.rc;
    if (pt_db_commit(db) != PT_OK && rc == PT_OK) {
        rc = PT_EDB;
    }
    if (rc == PT_EIO) {
        snprintf(err, errlen, "tunnel stage: cannot create the object store under %s/objects",
                 case_dir);
    } else if (rc != PT_OK) {
        snprintf(err, errlen, "tunnel stage: %s", pt_status_str(rc));
    }
    pt_objstore_free(ph.store);
    *objects = ph.objects;
    return rc;
}
