/* test_db.c - evidence database: schema marks, inserts, audit chain and its verification. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"
#include "store/db_handle.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pt-test-db-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(path, sizeof path, "%s/evidence.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static long long scalar(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static void create_write_and_reopen(void **state)
{
    (void)state;
    unlink(path);
    char err[256];
    struct pt_db *db;
    assert_int_equal(pt_db_create(path, &db, err, sizeof err), PT_OK);
    assert_int_equal(pt_db_audit(db, "test", "case_created", "x"), PT_OK);
    assert_int_equal(pt_db_begin(db), PT_OK);
    struct pt_item_rec it = {.id = 1, .path = "a.pcap", .size = 10, .sha256 = "ab", .kind = "capture",
                             .linktype = 1, .linktype_name = "ethernet", .status = "reading"};
    assert_int_equal(pt_db_item_put(db, &it), PT_OK);
    struct pt_anomaly_rec an = {.item = 1, .frame = 7, .offset = 14, .kind = PT_ANOM_IPV4_BAD_IHL};
    assert_int_equal(pt_db_anomaly_put(db, &an), PT_OK);
    it.status = "ok";
    it.packets = 3;
    assert_int_equal(pt_db_item_put(db, &it), PT_OK); /* upsert keeps the anomaly's parent */
    struct pt_flow_rec fr;
    memset(&fr, 0, sizeof fr);
    fr.id = 42;
    fr.item = fr.last_item = 1;
    fr.family = 4;
    fr.proto = 6;
    fr.ports_known = 1;
    fr.ctx.n_vlan = 2;
    fr.ctx.vlan[0] = 10;
    fr.ctx.vlan[1] = 20;
    fr.c2s.pkts = 5;
    fr.cls = PT_CLASS_OUTBOUND;
    assert_int_equal(pt_db_flow_put(db, &fr), PT_OK);
    assert_int_equal(pt_db_manifest_set(db, "tool", "phitrace"), PT_OK);
    assert_int_equal(pt_db_commit(db), PT_OK);
    /* an anomaly for an item that does not exist violates the foreign key */
    an.item = 99;
    assert_int_equal(pt_db_anomaly_put(db, &an), PT_EDB);
    assert_int_equal(pt_db_audit(db, "test", "done", "y"), PT_OK);
    pt_db_close(db);

    assert_int_equal(pt_db_open_ro(path, &db, err, sizeof err), PT_OK);
    sqlite3 *h = pt_db_handle(db);
    assert_int_equal(scalar(h, "PRAGMA application_id"), PT_DB_APPLICATION_ID);
    assert_int_equal(scalar(h, "PRAGMA user_version"), PT_DB_SCHEMA_VERSION);
    assert_int_equal(scalar(h, "SELECT packets FROM evidence_item WHERE id=1"), 3);
    assert_int_equal(scalar(h, "SELECT count(*) FROM anomaly"), 1);
    assert_int_equal(scalar(h, "SELECT c_pkts FROM flow WHERE id=42 AND vlan='10,20' AND "
                               "class='outbound'"),
                     5);
    uint64_t rows = 0;
    assert_int_equal(pt_db_audit_verify(db, &rows, err, sizeof err), PT_OK);
    assert_int_equal(rows, 2);
    /* read-only really is read-only */
    assert_int_not_equal(sqlite3_exec(h, "DELETE FROM flow", NULL, NULL, NULL), SQLITE_OK);
    pt_db_close(db);
}

static void strict_tables_reject_wrong_types(void **state)
{
    (void)state;
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(h, "INSERT INTO anomaly(item_id, frame, kind) VALUES (1, 'x', 'k')", NULL,
                     NULL, NULL),
        SQLITE_OK);
    sqlite3_close(h);
}

static void tampering_breaks_the_chain(void **state)
{
    (void)state;
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    /* triggers refuse changes; an attacker who drops them still cannot fix the hashes */
    assert_int_not_equal(
        sqlite3_exec(h, "DELETE FROM audit_log WHERE seq=1", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "DROP TRIGGER audit_log_no_update", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "UPDATE audit_log SET detail='z' WHERE seq=1", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    struct pt_db *db;
    char err[256];
    assert_int_equal(pt_db_open_ro(path, &db, err, sizeof err), PT_OK);
    uint64_t rows;
    assert_int_equal(pt_db_audit_verify(db, &rows, err, sizeof err), PT_EMALFORMED);
    assert_non_null(strstr(err, "row 1 was altered"));
    pt_db_close(db);
}

static void not_a_case_database(void **state)
{
    (void)state;
    char other[160];
    snprintf(other, sizeof other, "%s/other.db", dir);
    sqlite3 *h;
    sqlite3_open(other, &h);
    sqlite3_exec(h, "CREATE TABLE t(x)", NULL, NULL, NULL);
    sqlite3_close(h);
    struct pt_db *db;
    char err[256];
    assert_int_equal(pt_db_open_ro(other, &db, err, sizeof err), PT_EDB);
    assert_non_null(strstr(err, "not a phitrace evidence database"));
    unlink(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_write_and_reopen),
        cmocka_unit_test(strict_tables_reject_wrong_types),
        cmocka_unit_test(tampering_breaks_the_chain),
        cmocka_unit_test(not_a_case_database),
    };
    return cmocka_run_group_tests_name("db", tests, setup, teardown);
}
