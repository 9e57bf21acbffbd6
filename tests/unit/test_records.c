/* test_records.c - the decoders' records (analyze/records.def) against the hand-written
 * schema.sql: every table has exactly the .def's columns (and its id), a lookup table its
 * PT_LOOKUP_FIELD columns, and the one binder writes what each bind kind promises (NULL for
 * an empty text, a zero NZ, an unset `when`), a lookup row once for each combination. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"

extern const char pt_schema_sql[];

/* The columns of every record, from the .def, each list ending with NULL (none for a record
 * with its own put function); a lookup's table as "@table" after the row's column naming it,
 * the lookup's columns as "=column". */
#define PT_RECORD(name, NAME, table, batch) static const char *const cols_##name[] = {
#define PT_RECORD_PUT(name, NAME, put, batch) static const char *const cols_##name[] = {
#define PT_FIELD(rec, ctype, member, dim, column, bind) #column,
#define PT_FIELD_IF(rec, ctype, member, dim, column, bind, when) #column,
#define PT_COLUMN(rec, ctype, expr, column, bind) #column,
#define PT_DERIVED(rec, column, fn) #column,
#define PT_LOOKUP(rec, table, column) #column, "@" #table,
#define PT_LOOKUP_FIELD(rec, ctype, member, dim, column, bind) "=" #column,
#define PT_END(rec) NULL};
#include "analyze/records.def"
#undef PT_RECORD
#undef PT_RECORD_PUT
#undef PT_FIELD
#undef PT_FIELD_IF
#undef PT_COLUMN
#undef PT_DERIVED
#undef PT_LOOKUP
#undef PT_LOOKUP_FIELD
#undef PT_END

static const struct {
    const char *table; /* NULL: its own put function */
    const char *const *cols;
} recs[] = {
#define PT_RECORD(name, NAME, table, batch) {#table, cols_##name},
#define PT_RECORD_PUT(name, NAME, put, batch) {NULL, cols_##name},
#include "analyze/records.def"
#undef PT_RECORD
#undef PT_RECORD_PUT
};

/* `name` among the columns of `cols` marked `mark` ('\0': the row's own) */
static bool in_def(const char *const *cols, char mark, const char *name)
{
    for (size_t i = 0; cols[i] != NULL; i++) {
        if (mark == '\0' ? strcmp(cols[i], name) == 0
                         : cols[i][0] == mark && strcmp(cols[i] + 1, name) == 0) {
            return true;
        }
    }
    return false;
}

/* `table` has exactly the columns of `cols` marked `mark`, and its id. */
static void table_matches(sqlite3 *h, const char *table, const char *const *cols, char mark)
{
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    size_t found = 0, def = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (strcmp(name, "id") == 0) {
            continue;
        }
        if (!in_def(cols, mark, name)) {
            fail_msg("%s.%s is in schema.sql, not in records.def", table, name);
        }
        found++;
    }
    sqlite3_finalize(st);
    for (size_t i = 0; cols[i] != NULL; i++) {
        bool marked = cols[i][0] == '@' || cols[i][0] == '=';
        def += mark == '\0' ? !marked : cols[i][0] == mark;
    }
    if (found != def) {
        fail_msg("%s: records.def has %zu columns, schema.sql %zu (besides id)", table, def,
                 found);
    }
}

static void schema_matches_the_def(void **state)
{
    (void)state;
    sqlite3 *h;
    assert_int_equal(sqlite3_open(":memory:", &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, pt_schema_sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sizeof recs / sizeof recs[0], PT_REC_COUNT);
    for (size_t r = 0; r < sizeof recs / sizeof recs[0]; r++) {
        if (recs[r].table == NULL) { /* its put function's columns: own_put_record_is_its_row */
            assert_null(recs[r].cols[0]);
            continue;
        }
        table_matches(h, recs[r].table, recs[r].cols, '\0');
        for (size_t i = 0; recs[r].cols[i] != NULL; i++) {
            if (recs[r].cols[i][0] == '@') {
                table_matches(h, recs[r].cols[i] + 1, recs[r].cols, '=');
            }
        }
    }
    sqlite3_close(h);
}

static char dir[64], path[128];

static long long scalar(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -2;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static void binder_follows_the_bind_kinds(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pt-test-records-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/evidence.db", dir);
    struct pt_db *db;
    char err[256];
    assert_int_equal(pt_db_create(path, &db, err, sizeof err), PT_OK);
    static struct pt_item_rec it = {.id = 1, .path = "x.pcap", .kind = "capture",
                                    .linktype = -1, .status = "ok"};
    assert_int_equal(pt_db_item_put(db, &it), PT_OK);
    struct pt_smb_rec *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->flow_id = 7;
    s->item = 0; /* no provenance: ts, item_id, frame NULL */
    s->ts_us = 99;
    snprintf(s->share, sizeof s->share, "\\\\srv\\c$");
    s->is_pipe = true;
    s->size = 1234; /* size_known false: NULL */
    s->modified_us = 5;
    s->bytes_read = 3000000000ULL;
    assert_int_equal(pt_db_record_put(db, PT_REC_SMB, s), PT_OK);
    struct pt_dns_rec *d = calloc(1, sizeof *d);
    assert_non_null(d);
    d->flow_id = 8;
    d->item = 1;
    d->frame = 4;
    d->ts_us = -3;
    d->dir = 1;
    d->transport = 6;
    d->id = 65535;
    d->qtype = 28; /* no qname: NULL */
    assert_int_equal(pt_db_record_put(db, PT_REC_DNS, d), PT_OK);
    struct pt_icmp_rec ic = {.flow_id = 9, .payload_bytes = {11, 22}, .dir_max_payload = {3, 4},
                             .entropy = 7.5};
    assert_int_equal(pt_db_record_put(db, PT_REC_ICMP, &ic), PT_OK);
    pt_db_close(db);

    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(scalar(h, "SELECT ts IS NULL AND item_id IS NULL AND frame IS NULL AND "
                               "size IS NULL AND created IS NULL AND action IS NULL AND "
                               "name = '' AND kind = 'pipe' AND share = '\\\\srv\\c$' "
                               "FROM smb_file WHERE flow_id = 7"), 1);
    assert_int_equal(scalar(h, "SELECT modified FROM smb_file"), 5);
    assert_int_equal(scalar(h, "SELECT bytes_read FROM smb_file"), 3000000000LL);
    assert_int_equal(scalar(h, "SELECT ts FROM dns_query"), -3);
    assert_int_equal(scalar(h, "SELECT msg_id FROM dns_query"), 65535);
    assert_int_equal(scalar(h, "SELECT qtype FROM dns_query"), -1);
    assert_int_equal(scalar(h, "SELECT direction = 's2c' AND transport = 'tcp' AND qname IS NULL "
                               "FROM dns_query"), 1);
    assert_int_equal(scalar(h, "SELECT c_payload_bytes * 100 + s_payload_bytes FROM icmp_summary"),
                     1122);
    assert_int_equal(scalar(h, "SELECT s_max_payload FROM icmp_summary WHERE entropy = 7.5"), 4);
    sqlite3_close(h);
    free(s);
    free(d);
    unlink(path);
    rmdir(dir);
}

/* A new case database in a new directory: d (64 bytes) the directory, p (128) the file. */
static struct pt_db *fresh_case(char *d, char *p)
{
    char err[256];
    snprintf(d, 64, "/tmp/pt-test-records-XXXXXX");
    assert_non_null(mkdtemp(d));
    snprintf(p, 128, "%s/evidence.db", d);
    struct pt_db *db;
    assert_int_equal(pt_db_create(p, &db, err, sizeof err), PT_OK);
    return db;
}

/* A record with a lookup (records.def's hl7): each combination of its lookup fields is one
 * row, a NULL (an empty text) equal to a NULL, and the view gives the row its values. */
static void lookup_rows_once_each(void **state)
{
    (void)state;
    char d[64], p[128];
    struct pt_db *db = fresh_case(d, p);
    static const char *const msgs[][3] = {
        /* sending app, message type, control id */
        {"LAB", "ORU^R01", "c1"}, {"LAB", "ORU^R01", "c2"}, {"", "ORU^R01", "c3"},
        {"", "ORU^R01", "c4"},    {"LAB", "ACK", "c5"},     {"LAB", "ORU^R01", "c6"},
    };
    struct pt_hl7_rec *m = calloc(1, sizeof *m);
    assert_non_null(m);
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        memset(m, 0, sizeof *m);
        m->flow_id = 5;
        m->seq = (uint32_t)i;
        snprintf(m->sending_app, sizeof m->sending_app, "%s", msgs[i][0]);
        snprintf(m->msg_type, sizeof m->msg_type, "%s", msgs[i][1]);
        snprintf(m->control_id, sizeof m->control_id, "%s", msgs[i][2]);
        snprintf(m->version, sizeof m->version, "2.5");
        assert_int_equal(pt_db_record_put(db, PT_REC_HL7, m), PT_OK);
    }
    pt_db_close(db);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    /* (LAB, ORU), (NULL, ORU), (LAB, ACK): three, numbered as first written */
    assert_int_equal(scalar(h, "SELECT count(*) FROM hl7_header"), 3);
    assert_int_equal(scalar(h, "SELECT count(*) FROM hl7_header WHERE sending_app IS NULL AND "
                               "receiving_app IS NULL AND version = '2.5'"), 1);
    assert_int_equal(scalar(h, "SELECT CAST(group_concat(header_id, '') AS INTEGER) FROM "
                               "(SELECT header_id FROM hl7_message_row ORDER BY seq)"), 112231);
    assert_int_equal(scalar(h, "SELECT count(*) FROM hl7_message WHERE sending_app IS NULL AND "
                               "control_id IN ('c3', 'c4') AND msg_type = 'ORU^R01'"), 2);
    assert_int_equal(scalar(h, "SELECT count(*) FROM hl7_message WHERE sending_app = 'LAB' AND "
                               "msg_type = 'ACK' AND control_id = 'c5' AND seq = 4"), 1);
    sqlite3_close(h);
    free(m);
    unlink(p);
    rmdir(d);
}

/* A record with its own put function (records.def's netflow) goes through pt_db_record_put
 * to that function: a log_conn row with its source, and no other table touched. */
static void own_put_record_is_its_row(void **state)
{
    (void)state;
    char d[64], p[128];
    struct pt_db *db = fresh_case(d, p);
    static struct pt_item_rec it = {.id = 2, .path = "nf.pcap", .kind = "capture",
                                    .linktype = -1, .status = "ok"};
    assert_int_equal(pt_db_item_put(db, &it), PT_OK);
    struct pt_netflow_rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    snprintf(r->source, sizeof r->source, "netflow:v9@192.0.2.1");
    r->conn.p.item = 2;
    r->conn.p.line = 17;
    r->conn.p.offset = 20;
    r->conn.p.length = 48;
    r->conn.p.ts_us = 1000000;
    snprintf(r->conn.client, sizeof r->conn.client, "10.0.0.1");
    snprintf(r->conn.server, sizeof r->conn.server, "203.0.113.5");
    snprintf(r->conn.proto, sizeof r->conn.proto, "tcp");
    r->conn.cport = 40000;
    r->conn.sport = 443;
    r->conn.dur_us = -1;
    r->conn.c_bytes = r->conn.s_bytes = r->conn.c_frame_bytes = r->conn.s_frame_bytes = -1;
    r->conn.c_ip_bytes = 5000;
    r->conn.c_pkts = 7;
    r->conn.s_ip_bytes = -1;
    r->conn.s_pkts = -1;
    assert_int_equal(pt_db_record_put(db, PT_REC_NETFLOW, r), PT_OK);
    pt_db_close(db);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    assert_int_equal(scalar(h, "SELECT count(*) FROM log_conn WHERE source = "
                               "'netflow:v9@192.0.2.1' AND item_id = 2 AND client_addr = "
                               "'10.0.0.1' AND server_port = 443"), 1);
    assert_int_equal(scalar(h, "SELECT count(*) FROM flow"), 0);
    sqlite3_close(h);
    free(r);
    unlink(p);
    rmdir(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schema_matches_the_def),
        cmocka_unit_test(binder_follows_the_bind_kinds),
        cmocka_unit_test(lookup_rows_once_each),
        cmocka_unit_test(own_put_record_is_its_row),
    };
    return cmocka_run_group_tests_name("records", tests, NULL, NULL);
}
