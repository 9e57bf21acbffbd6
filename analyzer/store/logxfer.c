/*
 * logxfer.c - the file transfers of FTP servers' logs (vsftpd.log, xferlog) weighed as flows
 * (issue 14), after the logs' connections (logflows.c).
 *
 * An FTP server's log names the client and the file, the direction and the bytes, but not the
 * server's own address. That address is taken from a control connection (port 21) of the same
 * client that the capture or another log (a firewall, NetFlow, Zeek) holds and that spans the
 * transfer's time; without one the transfer cannot be placed (flow_source role
 * 'unaddressed', counted in the log's coverage line). Placed, it is either a data connection
 * that is already a flow (between the two hosts, either way round as active and passive mode
 * open it, overlapping the transfer in time and carrying at least the file's bytes in its
 * direction: role 'matched', so its bytes are not counted twice), or a flow of its own (role
 * 'created', flow.source naming the log, ports unknown, app 'ftp-data'), whose bytes are the
 * file's: a download by an outside client is bytes out of the server. Transfers that did not
 * complete, deletions, and transfers without a time or a client address are not flows
 * ('failed', 'delete', 'untimed', 'unaddressed').
 */
#include "db.h"
#include "db_handle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT_XFER_SLACK_US (60LL * 1000000) /* clocks and log times to the second */

enum { X_ROWS, X_CONTROL, X_DATA, X_SOURCE, X_FLOW, X_NEXT_ID, X_COUNT };

static const char *const xsql[X_COUNT] = {
    [X_ROWS] = "SELECT id, item_id, line, ts, source, coalesce(client_addr, ''), direction, "
               "coalesce(bytes, 0), coalesce(duration_us, 0), ok FROM log_xfer ORDER BY id",
    /* the server: a control connection of the client spanning the transfer */
    [X_CONTROL] = "SELECT server_addr FROM flow WHERE client_addr = ?1 AND server_port = 21 AND "
                  "first_ts <= ?3 + ?4 AND last_ts >= ?2 - ?4 ORDER BY abs(first_ts - ?2), id "
                  "LIMIT 1",
    /* a data connection already known: passive (client to server) or active (server to
     * client), not the control one, overlapping the transfer, with the file's bytes in the
     * transfer's direction (?5: 1 when the server sent them), not yet claimed */
    [X_DATA] = "SELECT f.id FROM flow f WHERE ((f.client_addr = ?1 AND f.server_addr = ?6 AND "
               "f.server_port != 21 AND CASE WHEN ?5 THEN max(f.s_payload_bytes, f.s_seq_bytes) "
               "ELSE max(f.c_payload_bytes, f.c_seq_bytes) END >= ?7) OR (f.client_addr = ?6 AND "
               "f.server_addr = ?1 AND CASE WHEN ?5 THEN max(f.c_payload_bytes, f.c_seq_bytes) "
               "ELSE max(f.s_payload_bytes, f.s_seq_bytes) END >= ?7)) AND f.first_ts <= ?3 + ?4 "
               "AND f.last_ts >= ?2 - ?4 AND NOT EXISTS (SELECT 1 FROM flow_source s WHERE "
               "s.flow_id = f.id AND s.log_xfer_id IS NOT NULL) ORDER BY abs(f.first_ts - ?2), "
               "f.id LIMIT 1",
    [X_SOURCE] = "INSERT INTO flow_source(flow_id, item_id, line, log_xfer_id, source, role, "
                 "skew_us, bytes_kind, c_bytes, s_bytes) VALUES (?1,?2,?3,?4,?5,?6,0,"
                 "'payload',?7,?8)",
    [X_FLOW] = "INSERT INTO flow(id, item_id, first_frame, last_item_id, last_frame, family, proto, "
               "client_addr, client_port, server_addr, server_port, ports_known, class, "
               "first_ts, last_ts, c_pkts, c_frame_bytes, c_ip_bytes, c_payload_bytes, "
               "c_captured_bytes, c_seq_bytes, s_pkts, s_frame_bytes, s_ip_bytes, "
               "s_payload_bytes, s_captured_bytes, s_seq_bytes, c_stream_bytes, c_gap_bytes, "
               "c_conflicts, s_stream_bytes, s_gap_bytes, s_conflicts, c_tcp_flags, s_tcp_flags, "
               "app, end_reason, source) VALUES (?1,?2,?3,?2,?3,?4,6,?5,0,?6,0,0,?7,?8,?9,0,0,0,"
               "?10,0,0,0,0,0,?11,0,0,0,0,0,0,0,0,0,0,'ftp-data','log',?12)",
    [X_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM flow",
};

struct lx {
    sqlite3 *h;
    sqlite3_stmt *q[X_COUNT];
    const struct pt_cidr_set *home;
    int64_t next_id;
    struct pt_logxfer_stats *st;
};

static const char *text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t != NULL ? (const char *)t : "";
}

static pt_status step_done(sqlite3_stmt *q)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

/* The server's address from a control connection, "" when none is known. */
static void server_of(struct lx *x, const char *cli, int64_t start, int64_t end, char *out,
                      size_t cap)
{
    sqlite3_stmt *q = x->q[X_CONTROL];
    sqlite3_bind_text(q, 1, cli, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, start);
    sqlite3_bind_int64(q, 3, end);
    sqlite3_bind_int64(q, 4, PT_XFER_SLACK_US);
    out[0] = '\0';
    if (sqlite3_step(q) == SQLITE_ROW) {
        snprintf(out, cap, "%s", text(q, 0));
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
}

static int64_t data_flow(struct lx *x, const char *cli, const char *srv, int64_t start,
                         int64_t end, bool down, int64_t bytes)
{
    sqlite3_stmt *q = x->q[X_DATA];
    sqlite3_bind_text(q, 1, cli, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, start);
    sqlite3_bind_int64(q, 3, end);
    sqlite3_bind_int64(q, 4, PT_XFER_SLACK_US);
    sqlite3_bind_int(q, 5, down);
    sqlite3_bind_text(q, 6, srv, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 7, bytes);
    int64_t id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return id;
}

static pt_status new_flow(struct lx *x, sqlite3_stmt *r, const char *cli, const char *srv,
                          int64_t start, int64_t end, int64_t c, int64_t s, int64_t *id)
{
    sqlite3_stmt *q = x->q[X_FLOW];
    *id = x->next_id++;
    sqlite3_bind_int64(q, 1, *id);
    sqlite3_bind_int64(q, 2, sqlite3_column_int64(r, 1));
    sqlite3_bind_int64(q, 3, sqlite3_column_int64(r, 2));
    sqlite3_bind_int(q, 4, strchr(cli, ':') != NULL ? 6 : 4);
    sqlite3_bind_text(q, 5, cli, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 6, srv, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 7, pt_logflow_class(x->home, cli, srv), -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 8, start);
    sqlite3_bind_int64(q, 9, end);
    sqlite3_bind_int64(q, 10, c);
    sqlite3_bind_int64(q, 11, s);
    sqlite3_bind_text(q, 12, text(r, 4), -1, SQLITE_TRANSIENT);
    return step_done(q);
}

static pt_status source_row(struct lx *x, sqlite3_stmt *r, int64_t flow, const char *role,
                            int64_t c, int64_t s)
{
    sqlite3_stmt *q = x->q[X_SOURCE];
    if (flow > 0) {
        sqlite3_bind_int64(q, 1, flow);
    }
    sqlite3_bind_int64(q, 2, sqlite3_column_int64(r, 1));
    sqlite3_bind_int64(q, 3, sqlite3_column_int64(r, 2));
    sqlite3_bind_int64(q, 4, sqlite3_column_int64(r, 0));
    sqlite3_bind_text(q, 5, text(r, 4), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 6, role, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, c);
    sqlite3_bind_int64(q, 8, s);
    return step_done(q);
}

/* One transfer: its role, and the flow that carries it. */
static pt_status one_xfer(struct lx *x, sqlite3_stmt *r)
{
    const char *cli = text(r, 5), *dir = text(r, 6);
    int64_t bytes = sqlite3_column_int64(r, 7), dur = sqlite3_column_int64(r, 8);
    bool down = strcmp(dir, "download") == 0;
    int64_t c = down ? 0 : bytes, s = down ? bytes : 0;
    struct pt_addr a;
    if (strcmp(dir, "delete") == 0) {
        return source_row(x, r, 0, "delete", 0, 0);
    }
    if (sqlite3_column_int(r, 9) == 0) {
        x->st->failed++;
        return source_row(x, r, 0, "failed", c, s);
    }
    if (sqlite3_column_type(r, 3) == SQLITE_NULL) {
        x->st->untimed++;
        return source_row(x, r, 0, "untimed", c, s);
    }
    int64_t end = sqlite3_column_int64(r, 3), start = end - (dur > 0 ? dur : 0);
    char srv[64];
    if (pt_addr_parse(cli, &a)) {
        server_of(x, cli, start, end, srv, sizeof srv);
    } else {
        srv[0] = '\0'; /* the server logged a host name */
    }
    if (srv[0] == '\0') {
        x->st->unaddressed++;
        return source_row(x, r, 0, "unaddressed", c, s);
    }
    int64_t flow = data_flow(x, cli, srv, start, end, down, bytes);
    if (flow > 0) {
        x->st->matched++;
        return source_row(x, r, flow, "matched", c, s);
    }
    PT_TRY(new_flow(x, r, cli, srv, start, end, c, s, &flow));
    x->st->created++;
    return source_row(x, r, flow, "created", c, s);
}

pt_status pt_db_log_xfers(struct pt_db *db, const struct pt_cidr_set *home,
                          struct pt_logxfer_stats *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    sqlite3 *h = pt_db_handle(db);
    if (pt_db_int(h, "SELECT count(*) FROM log_xfer") <= 0) {
        return PT_OK;
    }
    struct lx x = {.h = h, .home = home, .st = st};
    pt_status rc = pt_db_exec(h, "CREATE INDEX IF NOT EXISTS flow_pair ON flow(client_addr, "
                                 "server_addr);BEGIN", err, errlen);
    for (int i = 0; rc == PT_OK && i < X_COUNT; i++) {
        if (sqlite3_prepare_v2(h, xsql[i], -1, &x.q[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "file transfers to flows: %s", sqlite3_errmsg(h));
            rc = PT_EDB;
        }
    }
    if (rc == PT_OK) {
        x.next_id = sqlite3_step(x.q[X_NEXT_ID]) == SQLITE_ROW
                        ? sqlite3_column_int64(x.q[X_NEXT_ID], 0) : 1;
    }
    while (rc == PT_OK && sqlite3_step(x.q[X_ROWS]) == SQLITE_ROW) {
        rc = one_xfer(&x, x.q[X_ROWS]);
        st->transfers++;
    }
    for (int i = 0; i < X_COUNT; i++) {
        sqlite3_finalize(x.q[i]);
    }
    /* flows written after flow_pair (and flow_tuple) were built: rebuilt packed (db.h) */
    if (rc == PT_OK && st->created > 0) {
        rc = pt_db_exec(h, "REINDEX flow_pair", err, errlen);
        if (rc == PT_OK && pt_db_int(h, "SELECT count(*) FROM sqlite_schema WHERE type = "
                                        "'index' AND name = 'flow_tuple'") > 0) {
            rc = pt_db_exec(h, "REINDEX flow_tuple", err, errlen);
        }
    }
    if (rc == PT_OK) {
        rc = pt_db_exec(h, "COMMIT", err, errlen);
    } else {
        if (err[0] == '\0') {
            snprintf(err, errlen, "file transfers to flows: %s", sqlite3_errmsg(h));
        }
        pt_db_exec(h, "ROLLBACK", NULL, 0);
    }
    return rc;
}
