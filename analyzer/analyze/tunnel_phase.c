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
#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/grow.h"
#include "../core/limits.h"
#include "../store/db.h"
#include "../store/db_handle.h"
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
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(pt_db_handle(ph->db), "SELECT 1 FROM dns_query d JOIN flow f ON "
                           "f.id = d.flow_id WHERE f.server_addr = ?1 AND f.client_addr != ?1 "
                           "AND d.response = 0 AND lower(d.qname) LIKE ?2 LIMIT 1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, like, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
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
    static const char digits[] = "0123456789abcdef";
    size_t l = strlen(hex);
    *n = 0;
    for (size_t i = 0; i + 1 < l; i += 2) {
        const char *hi = strchr(digits, tolower((unsigned char)hex[i]));
        const char *lo = strchr(digits, tolower((unsigned char)hex[i + 1]));
        if (hi == NULL || lo == NULL || hex[i] == '\0' || hex[i + 1] == '\0') {
            return false;
        }
        out[(*n)++] = (uint8_t)((hi - digits) << 4 | (lo - digits));
    }
    return l % 2 == 0;
}

/* One answer's downstream piece into *piece (owned; NULL when it carries none): for
 * iodine, the RDATA's bytes (an answer dns.c kept only in part is left out: its packet
 * becomes a gap); otherwise its data part as text (pt_tun_answer_part). */
static bool answer_piece(sqlite3_stmt *st, const char *key, bool iodine, uint8_t **piece,
                         size_t *len)
{
    const char *data = (const char *)sqlite3_column_text(st, 2);
    size_t dl = strlen(data ? data : "");
    *piece = malloc(dl + 1);
    if (*piece == NULL) {
        return false;
    }
    bool some = iodine ? (int64_t)dl == 2 * sqlite3_column_int64(st, 3) &&
                             unhex(data, *piece, len)
                       : (*len = pt_tun_answer_part((unsigned)sqlite3_column_int(st, 0),
                                                    sqlite3_column_int(st, 1), data ? data : "",
                                                    key, (char *)*piece, dl + 1)) > 0;
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
static void downstream(struct phase *ph, const char *addr, const char *key, bool iodine)
{
    char like[300];
    like_pattern(key, like, sizeof like);
    sqlite3_stmt *st = NULL;
    uint8_t **pieces = NULL;
    size_t *len = NULL, n = 0, cap = 0, lcap = 0;
    struct q first = {0};
    if (sqlite3_prepare_v2(pt_db_handle(ph->db),
                           "SELECT a.type, a.decoded, a.data, a.rdlength, a.flow_id, min(a.ts), "
                           "coalesce(a.item_id, 0), coalesce(a.frame, 0) FROM dns_answer a JOIN "
                           "flow f ON f.id = a.flow_id WHERE f.client_addr = ?1 AND "
                           "lower(a.name) LIKE ?2 AND (?3 = 0 OR (a.type = 10 AND a.decoded = 0 "
                           "AND lower(substr(a.name, 1, 1)) IN ('0','1','2','3','4','5','6','7',"
                           "'8','9','a','b','c','d','e','f','p'))) GROUP BY lower(a.name), "
                           "a.type, a.data ORDER BY min(a.ts), min(a.id)",
                           -1, &st, NULL) != SQLITE_OK) {
        ph->rc = PT_EDB;
        return;
    }
    sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, like, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, iodine);
    while (sqlite3_step(st) == SQLITE_ROW && n < PT_TUN_MAX_NAMES) {
        if (!pt_grow(&pieces, &cap, n + 1, sizeof *pieces, 64) ||
            !pt_grow(&len, &lcap, n + 1, sizeof *len, 64) ||
            !answer_piece(st, key, iodine, &pieces[n], &len[n])) {
            ph->rc = PT_ENOMEM;
            break;
        }
        if (pieces[n] == NULL) {
            continue;
        }
        if (n == 0) {
            first.flow_id = sqlite3_column_int64(st, 4);
            first.ts = sqlite3_column_int64(st, 5);
            first.item = (uint32_t)sqlite3_column_int64(st, 6);
            first.frame = (uint64_t)sqlite3_column_int64(st, 7);
        }
        n++;
    }
    sqlite3_finalize(st);
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

pt_status pt_tunnel_phase(struct pt_db *db, const char *case_dir, unsigned store_id,
                          unsigned *objects, char *err, size_t errlen)
{
    struct phase ph = {.db = db, .case_dir = case_dir, .store_id = store_id, .rc = PT_OK};
    *objects = 0;
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT coalesce(f.client_addr, ''), d.qname, d.ts, d.flow_id, "
                      "coalesce(d.item_id, 0), coalesce(d.frame, 0) FROM dns_query d LEFT JOIN "
                      "flow f ON f.id = d.flow_id WHERE d.response = 0 AND d.qname != '' AND "
                      "lower(d.qname) NOT LIKE '%.arpa' AND lower(d.qname) NOT LIKE '%.local' "
                      "ORDER BY 1, d.ts, d.id";
    struct q *qs = NULL;
    size_t n = 0, cap = 0;
    char cur[64] = "";
    bool capped = false;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK || pt_db_begin(db) != PT_OK) {
        snprintf(err, errlen, "tunnel stage: %s", sqlite3_errmsg(h));
        sqlite3_finalize(st);
        pt_objstore_free(ph.store);
        return PT_EDB;
    }
    for (int r; ph.rc == PT_OK;) {
        r = sqlite3_step(st);
        const char *cl = r == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        if (r != SQLITE_ROW || strcmp(cl ? cl : "", cur) != 0) {
            if (n > 0) {
                client(&ph, cur, qs, n);
            }
            for (size_t i = 0; i < n; i++) {
                free(qs[i].name);
            }
            n = 0;
            capped = false;
            if (r != SQLITE_ROW) {
                break;
            }
            snprintf(cur, sizeof cur, "%s", cl ? cl : "");
        }
        if (n >= PT_TUN_MAX_NAMES) {
            if (!capped) {
                anomaly(&ph, (uint32_t)sqlite3_column_int64(st, 4),
                        (uint64_t)sqlite3_column_int64(st, 5), PT_ANOM_LIMIT_TUNNEL_NAMES,
                        "more DNS queries from one client than the tunnel decoder reads");
            }
            capped = true;
            continue;
        }
        if (!pt_grow(&qs, &cap, n + 1, sizeof *qs, 256)) {
            ph.rc = PT_ENOMEM;
            break;
        }
        const char *name = (const char *)sqlite3_column_text(st, 1);
        size_t nl = strlen(name ? name : "");
        qs[n].name = malloc(nl + 1);
        if (qs[n].name == NULL) {
            ph.rc = PT_ENOMEM;
            break;
        }
        memcpy(qs[n].name, name ? name : "", nl + 1);
        if (nl > 1 && qs[n].name[nl - 1] == '.' && qs[n].name[nl - 2] != '\\') {
            qs[n].name[nl - 1] = '\0';
        }
        qs[n].ts = sqlite3_column_int64(st, 2);
        qs[n].flow_id = sqlite3_column_int64(st, 3);
        qs[n].item = (uint32_t)sqlite3_column_int64(st, 4);
        qs[n].frame = (uint64_t)sqlite3_column_int64(st, 5);
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        free(qs[i].name);
    }
    free(qs);
    sqlite3_finalize(st);
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
