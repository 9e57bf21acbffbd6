/*
 * logflows.c - connections read from logs become flows (issue 14), so that the heuristics and
 * the verdict weigh captures and logs alike: a beacon seen only by the firewall, an upload
 * counted only by NetFlow.
 *
 * Logs are taken one at a time, in evidence order. A log's clock may differ from the
 * capture's: its offset is the median, over the log's connections whose 5-tuple a flow
 * already has within two hours, of (log time - flow start), when at least three agree; it is
 * applied and reported. A connection whose 5-tuple a flow has within PT_LOGFLOW_MATCH_S of
 * the corrected time is that flow, seen by one more source (flow_source, role 'matched'); the
 * others become flows of their own (role 'created', flow.source naming the log's format), so
 * the same connection in Zeek's conn.log and Suricata's EVE is one flow. A line that records
 * a dropped or rejected packet (the firewall's own word) is not a flow that carried data
 * (role 'blocked'); one without a time cannot be placed (role 'untimed'), nor one without
 * both addresses (role 'unaddressed': HAProxy names its servers, not their addresses).
 *
 * Bytes: captured flows count payload; a log flow's payload is the log's payload count
 * (Zeek) when it has one, else what the source counts (IP bytes for NetFlow and firewalls,
 * whole packets for Suricata's EVE), which flow_source.bytes_kind says.
 */
#include "db.h"
#include "db_handle.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT_LOGFLOW_WINDOW_US (7200LL * 1000000) /* candidates for the clock offset */
#define PT_LOGFLOW_MATCH_US (60LL * 1000000)    /* the same connection after correction */
#define PT_LOGFLOW_MIN_AGREE 3

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t != NULL ? (const char *)t : "";
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool blocked(const char *state)
{
    static const char *const words[] = {"DROP", "DENY", "REJECT", "BLOCK"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        const char *w = words[i];
        for (const char *s = state; *s != '\0'; s++) {
            size_t k = 0;
            while (w[k] != '\0' && (s[k] == w[k] || s[k] == w[k] - 'A' + 'a')) {
                k++;
            }
            if (w[k] == '\0') {
                return true;
            }
        }
    }
    return false;
}

static int proto_number(const char *p)
{
    return strcmp(p, "tcp") == 0 ? 6 : strcmp(p, "udp") == 0 ? 17 : strcmp(p, "icmp") == 0 ? 1
         : strcmp(p, "ipv6-icmp") == 0 || strcmp(p, "icmp6") == 0 ? 58 : 0;
}

const char *pt_logflow_class(const struct pt_cidr_set *home, const char *cli, const char *srv)
{
    struct pt_addr a, b;
    bool ci = pt_addr_parse(cli, &a) && pt_cidr_set_contains(home, &a);
    bool si = pt_addr_parse(srv, &b) && pt_cidr_set_contains(home, &b);
    return ci && si ? "internal" : ci ? "outbound" : si ? "inbound" : "external";
}

/* Zeek names TLS "ssl"; the heuristics know the flow tables' names. */
static void app_of(const char *service, char *out, size_t cap)
{
    size_t n = strcspn(service, ",");
    snprintf(out, cap, "%.*s", (int)n, service);
    for (char *c = out; *c != '\0'; c++) {
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    }
    if (strcmp(out, "ssl") == 0 || strcmp(out, "https") == 0) {
        snprintf(out, cap, "tls");
    }
}

enum { Q_ROWS, Q_TIMED, Q_TUPLE, Q_OFFSET, Q_MATCH, Q_SOURCE, Q_FLOW, Q_NEXT_ID, Q_COUNT };

static const char *const qsql[Q_COUNT] = {
    [Q_ROWS] = "SELECT id, line, ts, source, coalesce(duration_us, 0), coalesce(proto, ''), "
               "coalesce(client_addr, ''), coalesce(client_port, -1), coalesce(server_addr, ''), "
               "coalesce(server_port, -1), c_bytes, s_bytes, c_ip_bytes, s_ip_bytes, c_frame_bytes, "
               "s_frame_bytes, coalesce(c_pkts, 0), coalesce(s_pkts, 0), coalesce(state, ''), "
               "coalesce(service, ''), both_ways FROM log_conn WHERE id BETWEEN ?2 AND ?3 AND item_id = ?1 "
               "ORDER BY id",
    /* the rows a clock offset can be measured on: a time and the whole 5-tuple */
    [Q_TIMED] = "SELECT ts, client_addr, client_port, server_addr, server_port FROM log_conn "
                "WHERE id BETWEEN ?2 AND ?3 AND item_id = ?1 AND ts IS NOT NULL AND "
                "client_addr IS NOT NULL AND "
                "client_port IS NOT NULL AND server_addr IS NOT NULL AND server_port IS NOT NULL",
    /* a candidate of the table of flows checked against its row (a hash is not the tuple) */
    [Q_TUPLE] = "SELECT client_addr, client_port, server_addr, server_port FROM flow WHERE id = ?1",
    /* the offsets against the flows the table does not hold (id from ?3 on) */
    [Q_OFFSET] = "SELECT l.ts - f.first_ts FROM log_conn l JOIN flow f ON f.client_addr = "
                 "l.client_addr AND f.client_port = l.client_port AND f.server_addr = "
                 "l.server_addr AND f.server_port = l.server_port WHERE l.id BETWEEN ?4 AND ?5 AND "
                 "l.item_id = ?1 AND l.ts IS NOT NULL AND abs(l.ts - f.first_ts) <= ?2 AND f.id "
                 ">= ?3",
    /* a range of flow_tuple, no sort: match() picks the nearest (the one with the lower id
     * on a tie) from the few rows of the 5-tuple */
    [Q_MATCH] = "SELECT id, first_ts FROM flow WHERE client_addr = ?1 AND client_port = ?2 AND "
                "server_addr = ?3 AND server_port = ?4 AND first_ts BETWEEN ?5 - ?6 AND ?5 + ?6",
    [Q_SOURCE] = "INSERT INTO flow_source(flow_id, item_id, line, log_conn_id, source, role, "
                 "skew_us, bytes_kind, c_bytes, s_bytes) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
    [Q_FLOW] = "INSERT INTO flow(id, item_id, first_frame, last_item_id, last_frame, family, proto, "
               "client_addr, client_port, server_addr, server_port, vlan, reply_vlan, ports_known, "
               "tunnel, class, first_ts, last_ts, c_pkts, c_frame_bytes, c_ip_bytes, "
               "c_payload_bytes, c_captured_bytes, c_seq_bytes, s_pkts, s_frame_bytes, s_ip_bytes, "
               "s_payload_bytes, s_captured_bytes, s_seq_bytes, c_stream_bytes, c_gap_bytes, "
               "c_conflicts, s_stream_bytes, s_gap_bytes, s_conflicts, c_tcp_flags, s_tcp_flags, "
               "history, app, end_reason, source) VALUES (?1,?2,?3,?2,?3,?4,?5,?6,?7,?8,?9,NULL,"
               "NULL,?10,NULL,?11,?12,?13,?14,?15,?16,?17,0,0,?18,?19,?20,?21,0,0,0,0,0,0,0,0,0,0,"
               "NULL,?22,'log',?23)",
    [Q_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM flow",
};

static uint64_t tuple_hash(const char *cli, int64_t cport, const char *srv, int64_t sport)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *s = cli; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    h = (h ^ 0x100 ^ (uint64_t)cport) * 1099511628211ULL;
    for (const char *s = srv; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    h = (h ^ 0x200 ^ (uint64_t)sport) * 1099511628211ULL;
    h ^= h >> 29;
    return h != 0 ? h : 1; /* 0 marks an empty slot */
}

/* The flows there before the logs (a capture's) by 5-tuple, for the clock offsets and the
 * matches without a SQL join or look-up per log row: open addressing over (hash of the tuple,
 * first_ts, id), 24 bytes a slot, at most half full, so its memory grows with the capture's
 * flows (up to PT_LOGFLOW_TABLE_MAX of them; beyond, every row is looked up in SQL as before),
 * never with the logs. The slots of one hash lie in one run from its home slot, so a look-up
 * walks that run; a candidate's tuple is then checked on its flow row. */
#define PT_LOGFLOW_TABLE_MAX (1 << 21)
struct fslot {
    uint64_t key;
    int64_t ts, id;
};

struct ftab {
    struct fslot *s;
    size_t cap, n;
};

static void ftab_place(struct ftab *t, struct fslot e)
{
    size_t i = (size_t)e.key & (t->cap - 1);
    while (t->s[i].key != 0) {
        i = (i + 1) & (t->cap - 1);
    }
    t->s[i] = e;
    t->n++;
}

static pt_status ftab_add(struct ftab *t, uint64_t key, int64_t ts, int64_t id)
{
    if ((t->n + 1) * 2 > t->cap) {
        struct ftab g = {calloc(t->cap ? t->cap * 2 : 4096, sizeof *g.s),
                         t->cap ? t->cap * 2 : 4096, 0};
        if (g.s == NULL) {
            return PT_ENOMEM;
        }
        for (size_t i = 0; i < t->cap; i++) {
            if (t->s[i].key != 0) {
                ftab_place(&g, t->s[i]);
            }
        }
        free(t->s);
        *t = g;
    }
    ftab_place(t, (struct fslot){key, ts, id});
    return PT_OK;
}

/* The flows the logs create: a Bloom filter of their 5-tuples (PT_LOGFLOW_BLOOM_BITS, 4 MiB
 * whatever their number). A row whose 5-tuple it does not hold cannot be one of them, so only
 * the table of the capture's flows is asked; where it may, the flows of the 5-tuple are looked
 * up in SQL (flow_tuple). A false positive only costs that look-up. */
#define PT_LOGFLOW_BLOOM_BITS (1u << 25)

/* Three bits per tuple, by double hashing; set them (add) or test them. */
static bool bloom_op(uint64_t *w, uint64_t h, bool add)
{
    uint64_t h2 = (h >> 32) | 1;
    bool in = true;
    for (int i = 0; i < 3; i++) {
        uint64_t bit = (h + (uint64_t)i * h2) & (PT_LOGFLOW_BLOOM_BITS - 1);
        uint64_t m = 1ULL << (bit & 63);
        in = in && (w[bit >> 6] & m) != 0;
        if (add) {
            w[bit >> 6] |= m;
        }
    }
    return in;
}

struct lf {
    sqlite3 *h;
    sqlite3_stmt *q[Q_COUNT];
    const struct pt_cidr_set *home;
    int64_t next_id;
    struct pt_logflow_stats *st;
    struct ftab flows;    /* the capture's flows */
    bool sql_all;         /* more than PT_LOGFLOW_TABLE_MAX of them: every row in SQL */
    bool indexed;         /* flow_tuple exists (built at the first look-up in SQL) */
    int64_t indexed_at;   /* next_id when it was built: flows from there on were added to it
                           * one by one, so it is rebuilt packed at the end (db.h) */
    int64_t first_created; /* the first id of a flow a log creates */
    uint64_t *made;       /* Bloom filter of the created flows' 5-tuples */
    int64_t lo, hi;       /* the log's rows lie between these log_conn ids (a rowid range, not
                           * a scan of every log's rows per log) */
};

/* Whether flow `id` has exactly this 5-tuple. */
static bool same_tuple(struct lf *x, int64_t id, const char *cli, int64_t cport, const char *srv,
                       int64_t sport)
{
    sqlite3_stmt *q = x->q[Q_TUPLE];
    sqlite3_bind_int64(q, 1, id);
    bool same = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 1) == cport &&
                sqlite3_column_int64(q, 3) == sport && strcmp(col(q, 0), cli) == 0 &&
                strcmp(col(q, 2), srv) == 0;
    sqlite3_reset(q);
    return same;
}

/* Calls fn for every flow of this 5-tuple whose start lies within `window` of `ts`. */
static void ftab_each(struct lf *x, const char *cli, int64_t cport, const char *srv, int64_t sport,
                      int64_t ts, int64_t window, void (*fn)(void *, const struct fslot *),
                      void *arg)
{
    const struct ftab *t = &x->flows;
    if (t->n == 0) {
        return;
    }
    uint64_t key = tuple_hash(cli, cport, srv, sport);
    for (size_t i = (size_t)key & (t->cap - 1); t->s[i].key != 0; i = (i + 1) & (t->cap - 1)) {
        const struct fslot *e = &t->s[i];
        int64_t d = e->ts - ts;
        if (e->key == key && d >= -window && d <= window &&
            same_tuple(x, e->id, cli, cport, srv, sport)) {
            fn(arg, e);
        }
    }
}

/* The flows already there before the logs. */
static pt_status ftab_fill(struct lf *x)
{
    if (pt_db_int(x->h, "SELECT count(*) FROM flow") > PT_LOGFLOW_TABLE_MAX) {
        x->sql_all = true;
        return PT_OK;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, "SELECT client_addr, client_port, server_addr, server_port, "
                                 "first_ts, id FROM flow", -1, &st, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    int rc;
    pt_status ok = PT_OK;
    while (ok == PT_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ok = ftab_add(&x->flows, tuple_hash(col(st, 0), sqlite3_column_int64(st, 1), col(st, 2),
                                            sqlite3_column_int64(st, 3)),
                      sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5));
    }
    sqlite3_finalize(st);
    return ok != PT_OK ? ok : rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

/* flow_tuple, which the look-ups in SQL need: built when the first one comes (in bulk, from
 * the flows so far; cheaper than keeping it up through every insert when no row needs it),
 * kept up from then on, and always there at the end, as the later stages use it. */
static pt_status need_index(struct lf *x)
{
    if (!x->indexed) {
        if (sqlite3_exec(x->h, "CREATE INDEX IF NOT EXISTS flow_tuple ON flow(client_addr, "
                         "client_port, server_addr, server_port, first_ts)", NULL, NULL,
                         NULL) != SQLITE_OK) {
            return PT_EDB;
        }
        x->indexed = true;
        x->indexed_at = x->next_id;
    }
    return PT_OK;
}

struct diffs {
    int64_t *d, ts;
    size_t n, cap;
    bool nomem;
};

static void push_diff(struct diffs *v, int64_t d)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 256;
        int64_t *g = realloc(v->d, nc * sizeof *g);
        if (g == NULL) {
            v->nomem = true;
            return;
        }
        v->d = g;
        v->cap = nc;
    }
    v->d[v->n++] = d;
}

static void add_diff(void *arg, const struct fslot *e)
{
    struct diffs *v = arg;
    push_diff(v, v->ts - e->ts);
}

/* The median offset of one log's connections against the flows already known: every (log
 * time - flow start) of a flow of the same 5-tuple within PT_LOGFLOW_WINDOW_US (the capture's
 * flows from the table, those earlier logs created from SQL); 0 when fewer than
 * PT_LOGFLOW_MIN_AGREE. */
static pt_status clock_offset(struct lf *x, int64_t item, int64_t *skew, int64_t *agree)
{
    *skew = *agree = 0;
    struct diffs v = {0};
    int rc = SQLITE_DONE;
    sqlite3_stmt *q = x->q[Q_TIMED];
    if (x->flows.n > 0) {
        sqlite3_bind_int64(q, 1, item);
        sqlite3_bind_int64(q, 2, x->lo);
        sqlite3_bind_int64(q, 3, x->hi);
        while (!v.nomem && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            v.ts = sqlite3_column_int64(q, 0);
            ftab_each(x, col(q, 1), sqlite3_column_int64(q, 2), col(q, 3),
                      sqlite3_column_int64(q, 4), v.ts, PT_LOGFLOW_WINDOW_US, add_diff, &v);
        }
        sqlite3_reset(q);
    }
    int64_t from = x->sql_all ? 0 : x->first_created;
    if (!v.nomem && rc == SQLITE_DONE && (x->sql_all || x->next_id > x->first_created)) {
        PT_TRY(need_index(x));
        q = x->q[Q_OFFSET];
        sqlite3_bind_int64(q, 1, item);
        sqlite3_bind_int64(q, 2, PT_LOGFLOW_WINDOW_US);
        sqlite3_bind_int64(q, 3, from);
        sqlite3_bind_int64(q, 4, x->lo);
        sqlite3_bind_int64(q, 5, x->hi);
        while (!v.nomem && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            push_diff(&v, sqlite3_column_int64(q, 0));
        }
        sqlite3_reset(q);
    }
    if (!v.nomem && v.n >= PT_LOGFLOW_MIN_AGREE) {
        qsort(v.d, v.n, sizeof *v.d, cmp_i64);
        *skew = v.d[v.n / 2];
        *agree = (int64_t)v.n;
    }
    free(v.d);
    return v.nomem ? PT_ENOMEM : rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

static int64_t known(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

/* What a log row counts as payload each way, and what kind of count that is. A count of both
 * directions in one number (Cisco ASA's teardown) is put on the direction toward the home
 * network (the responder's, unless the connection came in), so a flow's bytes out never hold
 * what may have been a download: flow_source.bytes_kind 'total' says so. */
static const char *payload(const struct lf *x, sqlite3_stmt *r, int64_t *c, int64_t *s)
{
    if (sqlite3_column_int(r, 20) != 0) {
        int64_t t = known(r, 10) < 0 ? 0 : known(r, 10);
        bool in = strcmp(pt_logflow_class(x->home, col(r, 6), col(r, 8)), "inbound") == 0;
        *c = in ? t : 0;
        *s = in ? 0 : t;
        return "total";
    }
    static const struct {
        int c, s;
        const char *kind;
    } pref[] = {{10, 11, "payload"}, {12, 13, "ip"}, {14, 15, "frame"}};
    for (size_t i = 0; i < sizeof pref / sizeof pref[0]; i++) {
        *c = known(r, pref[i].c);
        *s = known(r, pref[i].s);
        if (*c >= 0 || *s >= 0) {
            *c = *c < 0 ? 0 : *c;
            *s = *s < 0 ? 0 : *s;
            return pref[i].kind;
        }
    }
    *c = *s = 0;
    return "none";
}

/* The text of the log row is bound in place (SQLITE_STATIC) here, in new_flow and in match:
 * each steps and resets its statement before the row moves on. */
static pt_status source_row(struct lf *x, int64_t flow, int64_t item, sqlite3_stmt *r,
                            const char *role, int64_t skew, const char *kind, int64_t c, int64_t s)
{
    sqlite3_stmt *q = x->q[Q_SOURCE];
    if (flow > 0) {
        sqlite3_bind_int64(q, 1, flow);
    }
    sqlite3_bind_int64(q, 2, item);
    sqlite3_bind_int64(q, 3, sqlite3_column_int64(r, 1));
    sqlite3_bind_int64(q, 4, sqlite3_column_int64(r, 0));
    sqlite3_bind_text(q, 5, col(r, 3), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, role, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, skew);
    sqlite3_bind_text(q, 8, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, c);
    sqlite3_bind_int64(q, 10, s);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

static pt_status new_flow(struct lf *x, int64_t item, sqlite3_stmt *r, int64_t ts, int64_t c,
                          int64_t s, int64_t *id)
{
    sqlite3_stmt *q = x->q[Q_FLOW];
    const char *cli = col(r, 6), *srv = col(r, 8), *proto = col(r, 5);
    int64_t cport = sqlite3_column_int64(r, 7), sport = sqlite3_column_int64(r, 9);
    char app[16];
    app_of(col(r, 19), app, sizeof app);
    *id = x->next_id++;
    sqlite3_bind_int64(q, 1, *id);
    sqlite3_bind_int64(q, 2, item);
    sqlite3_bind_int64(q, 3, sqlite3_column_int64(r, 1));
    sqlite3_bind_int(q, 4, strchr(cli, ':') != NULL ? 6 : 4);
    sqlite3_bind_int(q, 5, proto_number(proto));
    sqlite3_bind_text(q, 6, cli, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, cport < 0 ? 0 : cport);
    sqlite3_bind_text(q, 8, srv, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, sport < 0 ? 0 : sport);
    sqlite3_bind_int(q, 10, cport >= 0 && sport >= 0);
    sqlite3_bind_text(q, 11, pt_logflow_class(x->home, cli, srv), -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 12, ts);
    sqlite3_bind_int64(q, 13, ts + sqlite3_column_int64(r, 4));
    sqlite3_bind_int64(q, 14, sqlite3_column_int64(r, 16));
    sqlite3_bind_int64(q, 15, known(r, 14) < 0 ? 0 : known(r, 14));
    sqlite3_bind_int64(q, 16, known(r, 12) < 0 ? 0 : known(r, 12));
    sqlite3_bind_int64(q, 17, c);
    sqlite3_bind_int64(q, 18, sqlite3_column_int64(r, 17));
    sqlite3_bind_int64(q, 19, known(r, 15) < 0 ? 0 : known(r, 15));
    sqlite3_bind_int64(q, 20, known(r, 13) < 0 ? 0 : known(r, 13));
    sqlite3_bind_int64(q, 21, s);
    if (app[0] != '\0') {
        sqlite3_bind_text(q, 22, app, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(q, 23, col(r, 3), -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (rc != SQLITE_DONE) {
        return PT_EDB;
    }
    bloom_op(x->made, tuple_hash(cli, cport < 0 ? 0 : cport, srv, sport < 0 ? 0 : sport), true);
    return PT_OK;
}

struct nearest {
    int64_t ts, id, best;
};

/* The nearest start to ts, the lower id on a tie. */
static void nearer(void *arg, const struct fslot *e)
{
    struct nearest *n = arg;
    int64_t d = e->ts - n->ts;
    d = d < 0 ? -d : d;
    if (d < n->best || (d == n->best && e->id < n->id)) {
        n->id = e->id;
        n->best = d;
    }
}

/* An existing flow for this connection within PT_LOGFLOW_MATCH_US of `ts`, or 0: from the
 * table of the capture's flows, or from SQL where a flow a log created may have the 5-tuple;
 * -1 when flow_tuple cannot be built. */
static int64_t match(struct lf *x, sqlite3_stmt *r, int64_t ts)
{
    struct nearest n = {ts, 0, INT64_MAX};
    const char *cli = col(r, 6), *srv = col(r, 8);
    int64_t cport = sqlite3_column_int64(r, 7), sport = sqlite3_column_int64(r, 9);
    if (!x->sql_all && !bloom_op(x->made, tuple_hash(cli, cport, srv, sport), false)) {
        ftab_each(x, cli, cport, srv, sport, ts, PT_LOGFLOW_MATCH_US, nearer, &n);
        return n.id;
    }
    if (need_index(x) != PT_OK) {
        return -1;
    }
    sqlite3_stmt *q = x->q[Q_MATCH];
    sqlite3_bind_text(q, 1, cli, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, cport);
    sqlite3_bind_text(q, 3, srv, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, sport);
    sqlite3_bind_int64(q, 5, ts);
    sqlite3_bind_int64(q, 6, PT_LOGFLOW_MATCH_US);
    while (sqlite3_step(q) == SQLITE_ROW) {
        nearer(&n, &(struct fslot){0, sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 0)});
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return n.id;
}

static pt_status one_log(struct lf *x, int64_t item)
{
    int64_t skew, agree;
    PT_TRY(clock_offset(x, item, &skew, &agree));
    sqlite3_stmt *r = x->q[Q_ROWS];
    sqlite3_bind_int64(r, 1, item);
    sqlite3_bind_int64(r, 2, x->lo);
    sqlite3_bind_int64(r, 3, x->hi);
    pt_status rc = PT_OK;
    int64_t matched = 0, created = 0;
    while (rc == PT_OK && sqlite3_step(r) == SQLITE_ROW) {
        int64_t c, s, flow = 0;
        const char *kind = payload(x, r, &c, &s);
        if (col(r, 6)[0] == '\0' || col(r, 8)[0] == '\0') {
            /* a proxy's session names its server, not the address: no 5-tuple to place */
            rc = source_row(x, 0, item, r, "unaddressed", skew, kind, c, s);
        } else if (sqlite3_column_type(r, 2) == SQLITE_NULL) {
            rc = source_row(x, 0, item, r, "untimed", skew, kind, c, s);
            x->st->untimed++;
        } else if (blocked(col(r, 18))) {
            rc = source_row(x, 0, item, r, "blocked", skew, kind, c, s);
            x->st->blocked++;
        } else {
            int64_t ts = sqlite3_column_int64(r, 2) - skew;
            if ((flow = match(x, r, ts)) < 0) {
                rc = PT_EDB;
            } else if (flow > 0) {
                rc = source_row(x, flow, item, r, "matched", skew, kind, c, s);
                matched++;
            } else if ((rc = new_flow(x, item, r, ts, c, s, &flow)) == PT_OK) {
                rc = source_row(x, flow, item, r, "created", skew, kind, c, s);
                created++;
            }
        }
    }
    sqlite3_reset(r);
    x->st->matched += (uint64_t)matched;
    x->st->created += (uint64_t)created;
    if (rc == PT_OK) {
        char sql[256];
        snprintf(sql, sizeof sql, "UPDATE log_source SET skew_us = %lld, skew_agree = %lld, "
                 "flows_matched = %lld, flows_created = %lld WHERE item_id = %lld",
                 (long long)skew, (long long)agree, (long long)matched, (long long)created,
                 (long long)item);
        rc = sqlite3_exec(x->h, sql, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
    }
    if (agree > 0 && skew != 0) {
        x->st->skewed++;
    }
    return rc;
}

pt_status pt_db_netflow_put(struct pt_db *db, const struct pt_netflow_rec *r)
{
    struct pt_logconn_rec c = r->conn;
    c.p.source = r->source;
    return pt_db_logconn_put(db, &c);
}

pt_status pt_db_log_flows(struct pt_db *db, const struct pt_cidr_set *home,
                          struct pt_logflow_stats *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    sqlite3 *h = pt_db_handle(db);
    int64_t log_rows = pt_db_int(h, "SELECT count(*) FROM log_conn");
    if (log_rows <= 0) {
        return PT_OK;
    }
    struct lf x = {.h = h, .home = home, .st = st};
    x.made = calloc(PT_LOGFLOW_BLOOM_BITS / 64, sizeof *x.made);
    if (x.made == NULL) {
        return PT_ENOMEM;
    }
    pt_status rc = pt_db_exec(h, "BEGIN", err, errlen);
    for (int i = 0; rc == PT_OK && i < Q_COUNT; i++) {
        if (sqlite3_prepare_v2(h, qsql[i], -1, &x.q[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "logs to flows: %s", sqlite3_errmsg(h));
            rc = PT_EDB;
        }
    }
    rc = rc == PT_OK ? ftab_fill(&x) : rc;
    rc = rc == PT_OK && x.sql_all ? need_index(&x) : rc;
    if (rc == PT_OK) {
        x.next_id = sqlite3_step(x.q[Q_NEXT_ID]) == SQLITE_ROW
                        ? sqlite3_column_int64(x.q[Q_NEXT_ID], 0) : 1;
        x.first_created = x.next_id;
    }
    sqlite3_stmt *items = NULL;
    if (rc == PT_OK && sqlite3_prepare_v2(h, "SELECT item_id, min(id), max(id) FROM log_conn "
                                          "GROUP BY item_id ORDER BY 1", -1,
                                          &items, NULL) != SQLITE_OK) {
        rc = PT_EDB;
    }
    while (rc == PT_OK && sqlite3_step(items) == SQLITE_ROW) {
        x.lo = sqlite3_column_int64(items, 1);
        x.hi = sqlite3_column_int64(items, 2);
        rc = one_log(&x, sqlite3_column_int64(items, 0));
        st->logs++;
    }
    sqlite3_finalize(items);
    for (int i = 0; i < Q_COUNT; i++) {
        sqlite3_finalize(x.q[i]);
    }
    free(x.flows.s);
    free(x.made);
    bool early = x.indexed && x.next_id > x.indexed_at;
    rc = rc == PT_OK ? need_index(&x) : rc;
    rc = rc == PT_OK && early ? pt_db_exec(h, "REINDEX flow_tuple", err, errlen) : rc;
    if (rc == PT_OK) {
        rc = pt_db_exec(h, "COMMIT", err, errlen);
    } else {
        if (err[0] == '\0') {
            snprintf(err, errlen, "logs to flows: %s", sqlite3_errmsg(h));
        }
        pt_db_exec(h, "ROLLBACK", NULL, 0);
    }
    return rc;
}
