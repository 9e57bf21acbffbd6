/* test_db.c - evidence database: schema marks, inserts, audit chain and its verification. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/objstore.h"
#include "store/db.h"
#include "store/db_handle.h"
#include "store/phi_pack.h"
#include "store/q_phi.h"
#include "store/q_scale.h"

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

/* An object row of hash `sha` (the PHI stage's rows name their object by its id). */
static void object_of(struct pt_db *db, const char *sha)
{
    struct pt_object_rec o = {.size = 10, .protocol = "file", .direction = "at-rest",
                              .complete = true, .gap_map = "[]"};
    snprintf(o.sha256, sizeof o.sha256, "%s", sha);
    assert_int_equal(pt_db_object_put(db, &o), PT_OK);
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

static void text_is(sqlite3 *h, const char *sql, const char *want)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    assert_string_equal(t != NULL ? (const char *)t : "(null)", want);
    sqlite3_finalize(st);
}

/* PHI hits stored compactly (q_phi.c): each identifier and site once, hits as integers,
 * read back through the views in the shape of one row per hit. */
static void phi_hits_compact_and_read_back(void **state)
{
    (void)state;
    unlink(path);
    char err[256], hmac[65];
    struct pt_db *db;
    struct pt_q_phi *w;
    assert_int_equal(pt_db_create(path, &db, err, sizeof err), PT_OK);
    assert_int_equal(pt_q_phi_begin(db, &w, err, sizeof err), PT_OK);
    assert_int_equal(pt_q_phi_record_put(w, 1, 0, "csv row", 100, true, "diagnosis"), PT_OK);
    struct pt_q_phi_hit a = {.record_id = 1, .detector = "csv", .field = "column ssn",
                             .type = "ssn", .safe_harbor = "G", .offset = 120, .subject = true,
                             .masked = "***-**-6789", .hmac = "", .state = "", .issuer = "",
                             .reason = "ssn column", .confidence = 0.9};
    memset(hmac, 'a', 64);
    hmac[64] = '\0';
    a.hmac = hmac;
    assert_int_equal(pt_q_phi_hit_put(w, &a), PT_OK);
    a.offset = 150; /* the same identifier and site again */
    assert_int_equal(pt_q_phi_hit_put(w, &a), PT_OK);
    /* texts that a separator-joined key would confuse stay two sites */
    struct pt_q_phi_hit b = a;
    b.field = "column ssn 1:x";
    b.issuer = "";
    assert_int_equal(pt_q_phi_hit_put(w, &b), PT_OK);
    b.field = "column ssn";
    b.issuer = "x 1:";
    assert_int_equal(pt_q_phi_hit_put(w, &b), PT_OK);
    struct pt_q_phi_hit c = {.record_id = 1, .detector = "csv", .field = "column name",
                             .type = "name", .safe_harbor = "A", .offset = 90, .subject = true,
                             .masked = "S****", .hmac = "", .state = "MA", .issuer = "",
                             .reason = "name column", .confidence = 0.8};
    char hmac2[65];
    memset(hmac2, 'b', 64);
    hmac2[64] = '\0';
    c.hmac = hmac2;
    assert_int_equal(pt_q_phi_hit_put(w, &c), PT_OK);
    assert_int_equal(pt_q_phi_record_put(w, 2, 1, "csv row", 200, false, NULL), PT_OK);
    a.record_id = 1; /* not the record last put */
    assert_int_equal(pt_q_phi_hit_put(w, &a), PT_EINTERNAL);
    a.record_id = 2;
    a.offset = 210;
    assert_int_equal(pt_q_phi_hit_put(w, &a), PT_OK);
    /* identifiers whose hashes share a cache slot: each still one row */
    for (int k = 0; k < 600; k++) {
        char hx[65];
        snprintf(hx, sizeof hx, "0000000000000000%048d", k % 300);
        a.hmac = hx;
        assert_int_equal(pt_q_phi_hit_put(w, &a), PT_OK);
    }
    /* sites that differ only in confidence or subject are sites of their own; one too long
     * for the cache's key is found by the table, once */
    a.hmac = hmac;
    a.confidence = 0.95;
    assert_int_equal(pt_q_phi_hit_put(w, &a), PT_OK);
    a.subject = false;
    assert_int_equal(pt_q_phi_hit_put(w, &a), PT_OK);
    static char longfield[3000];
    memset(longfield, 'f', sizeof longfield - 1);
    a.field = longfield;
    assert_int_equal(pt_q_phi_hit_put(w, &a), PT_OK);
    assert_int_equal(pt_q_phi_hit_put(w, &a), PT_OK);
    char sha[65];
    memset(sha, 'e', 64);
    sha[64] = '\0';
    /* YARA matches of the object (before its row): each rule's words once */
    struct pt_q_yara_match y = {sha, "CSV_Patients", "healthcare_formats.yar", "", "patients",
                                "demographics", "info", NULL, 0, 2};
    assert_int_equal(pt_q_phi_yara_put(w, &y), PT_OK);
    y.rule = "Other";
    y.offset = 7;
    assert_int_equal(pt_q_phi_yara_put(w, &y), PT_OK);
    y.rule = "CSV_Patients";
    assert_int_equal(pt_q_phi_yara_put(w, &y), PT_OK);
    char other[65];
    memset(other, 'f', 64);
    other[64] = '\0';
    object_of(db, other);
    object_of(db, sha);
    object_of(db, sha);
    assert_int_equal(pt_q_phi_object_put(w, sha, "csv", 2, 610, 5, 1, 300, NULL), PT_OK);
    assert_int_equal(pt_q_phi_end(w, true, err, sizeof err), PT_OK);
    sqlite3 *h = pt_db_handle(db);
    /* the stage's transaction ran without foreign-key look-ups; they are back on after */
    assert_int_equal(scalar(h, "PRAGMA foreign_keys"), 1);
    assert_int_equal(scalar(h, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    assert_int_equal(scalar(h, "SELECT count(*) FROM yara_rule"), 2);
    text_is(h, "SELECT group_concat((object_sha256 = printf('%.64c', 'e')) || ':' || rule || "
               "':' || namespace || ':' || coalesce(tags, '-') || ':' || category || ':' || offset || "
               "':' || strings, ',') FROM (SELECT * FROM yara_match ORDER BY id)",
            "1:CSV_Patients:healthcare_formats.yar:-:demographics:0:2,"
            "1:Other:healthcare_formats.yar:-:demographics:7:2,"
            "1:CSV_Patients:healthcare_formats.yar:-:demographics:7:2");
    assert_int_equal(scalar(h, "SELECT count(*) FROM phi_ident"), 302);
    assert_int_equal(scalar(h, "SELECT count(*) FROM phi_site"), 7);
    assert_int_equal(scalar(h, "SELECT count(*) FROM phi_hit WHERE length(field) = 2999"), 2);
    assert_int_equal(scalar(h, "SELECT count(*) FROM phi_hit"), 610);
    assert_int_equal(scalar(h, "SELECT count(DISTINCT id) FROM phi_hit"), 610);
    assert_int_equal(scalar(h, "SELECT count(*) FROM (SELECT hmac FROM phi_hit GROUP BY hmac "
                               "HAVING count(*) = 2)"),
                     300);
    text_is(h, "SELECT group_concat(offset) FROM (SELECT offset FROM phi_hit WHERE record_id = 1 "
               "ORDER BY id)",
            "120,150,150,150,90");
    text_is(h, "SELECT group_concat(phi_class || ':' || type || ':' || coalesce(state, '-') || ':' "
               "|| coalesce(issuer, '-') || ':' || field || ':' || masked, '|') FROM (SELECT * "
               "FROM phi_hit WHERE offset IN (90, 210) ORDER BY id LIMIT 2)",
            "PHI:name:MA:-:column name:S****|PII:ssn:-:-:column ssn:***-**-6789");
    assert_int_equal(scalar(h, "SELECT count(*) FROM phi_hit WHERE object_sha256 = "
                               "(SELECT object_sha256 FROM phi_object WHERE id = 1)"),
                     610);
    text_is(h, "SELECT group_concat(type || ':' || safe_harbor || ':' || phi_class || ':' || hits, "
               "',') FROM (SELECT * FROM phi_object_type ORDER BY 1, 2, 4)",
            "name:A:PHI:1,ssn:G:PHI:4,ssn:G:PII:605");
    text_is(h, "SELECT group_concat(object_sha256 || ':' || kind || ':' || seq) FROM phi_record",
            "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee:csv row:0,"
            "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee:csv row:1");
    /* phi_object_row names the first object of its hash by object(id), the view the hash */
    text_is(h, "SELECT object_id || ':' || object_sha256 FROM phi_object",
            "2:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
    pt_db_close(db);
}

/* The packed hits (store/phi_pack.h) read back by the C decoder, hit by hit, at every width
 * and either side of the record's offset; malformed BLOBs refused, never read past. */
static void phi_pack_round_trip_and_malformed(void **state)
{
    (void)state;
    static const struct pt_phi_packed_hit cases[][3] = {
        {{1, 1, 0}, {127, 2, 127}, {3, 127, 5}},                     /* one byte each */
        {{128, 1, 0}, {16383, 128, 16384}, {1, 1, 1}},               /* two, two, three */
        {{UINT32_MAX, 70000, INT64_C(1) << 40}, {1, 1, 0}, {2, 2, 2}}, /* five, three, six */
        {{5, 5, -1}, {6, 6, 63}, {7, 7, 0}},                         /* before the record */
        {{5, 5, -64}, {6, 6, 64}, {7, 7, -65}},                      /* an excess of 2^13 */
        {{PT_PHI_PACK_MAX, PT_PHI_PACK_MAX, PT_PHI_PACK_MAX_DELTA}, {0, 0, -PT_PHI_PACK_MAX_DELTA},
         {1, 1, 1}},
    };
    static const size_t stride[] = {3, 7, 14, 3, 4, 24};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        unsigned widths;
        size_t len, n;
        assert_int_equal(pt_phi_pack_size(cases[c], 3, &widths, &len), PT_OK);
        assert_int_equal(len, 3 * stride[c]);
        uint8_t blob[3 * 24];
        pt_phi_pack(cases[c], 3, widths, blob);
        for (size_t i = 0; i < len; i++) {
            assert_true(blob[i] < 0x80); /* what SQL's unicode() reads */
        }
        assert_true(pt_phi_unpack_count(widths, len, &n));
        assert_int_equal(n, 3);
        for (size_t k = 0; k < 3; k++) {
            struct pt_phi_packed_hit h;
            assert_true(pt_phi_unpack(blob, len, widths, k, &h));
            assert_true(h.ident == cases[c][k].ident && h.site == cases[c][k].site &&
                        h.offset == cases[c][k].offset);
        }
        /* cut anywhere but at a hit's end: not a whole number of hits */
        for (size_t cut = 0; cut < len; cut++) {
            struct pt_phi_packed_hit h;
            bool whole = pt_phi_unpack_count(widths, cut, &n);
            assert_int_equal(whole, cut % stride[c] == 0);
            assert_false(pt_phi_unpack(blob, cut, widths, cut / stride[c], &h));
        }
        blob[len - 1] |= 0x80; /* a byte SQL could not read */
        struct pt_phi_packed_hit h;
        assert_false(pt_phi_unpack(blob, len, widths, 2, &h));
        assert_false(pt_phi_unpack_count(1024, len, &n));
    }
    const struct pt_phi_packed_hit over[] = {{PT_PHI_PACK_MAX + 1, 1, 0}};
    const struct pt_phi_packed_hit under[] = {{1, 1, -PT_PHI_PACK_MAX_DELTA - 1}};
    unsigned widths;
    size_t len;
    assert_int_equal(pt_phi_pack_size(over, 1, &widths, &len), PT_ELIMIT);
    assert_int_equal(pt_phi_pack_size(under, 1, &widths, &len), PT_ELIMIT);
    assert_int_equal(pt_phi_pack_size(NULL, 0, &widths, &len), PT_OK);
    assert_int_equal(len, 0);
}

/* The view phi_hit_row (plain SQL, schema.sql) and the C decoder read the same hits from what
 * the writer packed: identifiers past 2^14 (three bytes), sites past 2^7, offsets of 2^40
 * and before their record's. */
static void phi_hit_row_view_equals_the_decoder(void **state)
{
    (void)state;
    unlink(path);
    char err[256];
    struct pt_db *db;
    struct pt_q_phi *w;
    assert_int_equal(pt_db_create(path, &db, err, sizeof err), PT_OK);
    assert_int_equal(pt_q_phi_begin(db, &w, err, sizeof err), PT_OK);
    struct pt_q_phi_hit a = {.detector = "text", .field = "text", .type = "mrn",
                             .safe_harbor = "H", .masked = "***1", .state = "", .issuer = "",
                             .reason = "r"};
    char hx[65];
    uint32_t rec = 0;
    uint64_t base = 0;
    for (int k = 0; k < 17000; k++) {
        if (k % 1000 == 0) { /* a record every 1000 hits, the last one far into its object */
            base = k == 16000 ? UINT64_C(1) << 40 : (uint64_t)k * 10 + 500;
            assert_int_equal(pt_q_phi_record_put(w, ++rec, (uint64_t)k, "text", base, k % 2000,
                                                 NULL),
                             PT_OK);
        }
        snprintf(hx, sizeof hx, "%064x", k);
        a.hmac = hx;
        a.record_id = rec;
        a.confidence = 0.5 + (k % 300) / 1000.0; /* 300 sites */
        /* some hits before their record's start, one 2^40 past it */
        a.offset = k == 16999 ? base + (UINT64_C(1) << 40) : base + (uint64_t)(k % 700) - 300;
        assert_int_equal(pt_q_phi_hit_put(w, &a), PT_OK);
    }
    char sha[65];
    memset(sha, 'c', 64);
    sha[64] = '\0';
    object_of(db, sha);
    assert_int_equal(pt_q_phi_object_put(w, sha, "text", rec, 17000, 8000, 0, 100, NULL), PT_OK);
    assert_int_equal(pt_q_phi_end(w, true, err, sizeof err), PT_OK);
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *rows, *view;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT id, hit_widths, hits FROM phi_record_row "
                                           "ORDER BY id", -1, &rows, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT record_id, seq, ident_id, site_id, "
                                           "offset_delta FROM phi_hit_row ORDER BY 1, 2",
                                        -1, &view, NULL),
                     SQLITE_OK);
    size_t total = 0;
    int64_t min_off = 0, max_off = 0;
    while (sqlite3_step(rows) == SQLITE_ROW) {
        const uint8_t *blob = sqlite3_column_blob(rows, 2);
        size_t len = (size_t)sqlite3_column_bytes(rows, 2), n;
        unsigned widths = (unsigned)sqlite3_column_int(rows, 1);
        assert_true(pt_phi_unpack_count(widths, len, &n));
        for (size_t k = 0; k < n; k++, total++) {
            struct pt_phi_packed_hit hit;
            assert_true(pt_phi_unpack(blob, len, widths, k, &hit));
            assert_int_equal(sqlite3_step(view), SQLITE_ROW);
            assert_int_equal(sqlite3_column_int64(view, 0), sqlite3_column_int64(rows, 0));
            assert_int_equal(sqlite3_column_int64(view, 1), (int64_t)k);
            assert_int_equal(sqlite3_column_int64(view, 2), (int64_t)hit.ident);
            assert_int_equal(sqlite3_column_int64(view, 3), (int64_t)hit.site);
            assert_int_equal(sqlite3_column_int64(view, 4), hit.offset);
            min_off = hit.offset < min_off ? hit.offset : min_off;
            max_off = hit.offset > max_off ? hit.offset : max_off;
        }
    }
    assert_int_equal(sqlite3_step(view), SQLITE_DONE);
    sqlite3_finalize(rows);
    sqlite3_finalize(view);
    assert_int_equal(total, 17000);
    assert_int_equal(min_off, -300);
    assert_int_equal(max_off, INT64_C(1) << 40);
    assert_int_equal(scalar(h, "SELECT max(ident_id) FROM phi_hit_row"), 17000);
    assert_int_equal(scalar(h, "SELECT max(site_id) FROM phi_hit_row"), 300);
    /* a record's place in its object counts those not stored before it (here 999 a record) */
    assert_int_equal(scalar(h, "SELECT sum(seq = (id - 1) * 1000) FROM phi_record"), 17);
    /* and phi_hit's offsets, the record's plus the delta, are the ones written */
    assert_int_equal(scalar(h, "SELECT offset FROM phi_hit WHERE hmac = printf('%064x', 16999)"),
                     (INT64_C(1) << 40) * 2);
    assert_int_equal(scalar(h, "SELECT offset FROM phi_hit WHERE hmac = printf('%064x', 1300)"),
                     10000 + 500 + 1300 % 700 - 300);
    /* the object's records by their id range, no index */
    assert_int_equal(scalar(h, "SELECT count(*) FROM phi_record WHERE object_sha256 = "
                               "printf('%.64c', 'c')"),
                     17);
    assert_int_equal(scalar(h, "SELECT count(*) FROM phi_hit WHERE object_sha256 = "
                               "printf('%.64c', 'c') AND phi_class = 'PHI'"),
                     8000);
    pt_db_close(db);
}

/* A shard case's directory under the test's, and its database's path. */
static void shard_make(char dir_out[160], char path_out[200])
{
    snprintf(dir_out, 160, "%s/shard", dir);
    snprintf(path_out, 200, "%s/evidence.db", dir_out);
    assert_int_equal(mkdir(dir_out, 0700), 0);
}

static void shard_remove(const char *shard_dir, const char *shard_path)
{
    static const char *const files[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char f[220];
        snprintf(f, sizeof f, "%s%s", shard_path, files[i]);
        unlink(f);
    }
    rmdir(shard_dir);
}

/* Object rows (object_row: the hash as 32 bytes, repeated strings once in object_str) read
 * back through the view object in the shape it had as a table; a hash that is not one is
 * refused; unhex() and the hash index; a string whose row a rollback took is written again,
 * not named by the id the writer had cached. */
static void objects_round_trip_through_the_view(void **state)
{
    (void)state;
    unlink(path);
    char err[256];
    struct pt_db *db;
    assert_int_equal(pt_db_create(path, &db, err, sizeof err), PT_OK);
    struct pt_object_rec a = {.size = 5, .mime = "text/plain", .magic = "ASCII text",
                              .name = "a.txt", .protocol = "http", .encoding = "gzip",
                              .flow_id = 7, .dir = 1, .direction = "download", .stream_off = 100,
                              .complete = true, .gap_map = "[]", .ts_us = 123};
    memset(a.sha256, 'a', 64);
    struct pt_object_rec b = {.size = 9, .mime = "text/plain", .magic = "CSV text",
                              .protocol = "http", .direction = "download", .encrypted = true,
                              .depth = 1, .gap_bytes = 3, .gap_map = "[[0,3]]", .part = 2};
    snprintf(b.sha256, sizeof b.sha256, "%s", "0123456789abcdef0123456789abcdef0123456789abcdef"
             "0123456789ABCDEF");
    memcpy(b.parent_sha256, a.sha256, sizeof a.sha256);
    assert_int_equal(pt_db_object_put(db, &a), PT_OK);
    assert_int_equal(pt_db_object_put(db, &b), PT_OK);
    struct pt_object_rec bad = b;
    snprintf(bad.sha256, sizeof bad.sha256, "%s", "0123");
    assert_int_not_equal(pt_db_object_put(db, &bad), PT_OK);
    memset(bad.sha256, 'g', 64);
    assert_int_not_equal(pt_db_object_put(db, &bad), PT_OK);
    sqlite3 *h = pt_db_handle(db);
    text_is(h, "SELECT group_concat(json_array(id, sha256, size, mime, magic, name, protocol, "
               "encoding, flow_id, direction, stream_dir, stream_off, part, complete, encrypted, "
               "parent_sha256, depth, gap_bytes, gap_map, item_id, frame, ts), ' ') FROM object",
            "[1,\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",5,"
            "\"text/plain\",\"ASCII text\",\"a.txt\",\"http\",\"gzip\",7,\"download\",\"s2c\","
            "100,0,1,0,null,0,0,\"[]\",null,null,null] "
            "[2,\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",9,"
            "\"text/plain\",\"CSV text\",null,\"http\",null,null,\"download\",null,0,2,0,1,"
            "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",1,3,\"[[0,3]]\","
            "null,null,null]");
    assert_int_equal(scalar(h, "SELECT count(*) FROM object_str"), 6);
    assert_int_equal(scalar(h, "SELECT sum(typeof(sha) = 'blob' AND length(sha) = 32) FROM "
                               "object_row"), 2);
    assert_int_equal(scalar(h, "SELECT count(*) FROM object_row WHERE gap_map IS NULL"), 1);
    text_is(h, "SELECT hex(unhex('0aFf')) || ':' || (unhex('0g') IS NULL) || ':' || "
               "(unhex('abc') IS NULL) || ':' || (unhex(NULL) IS NULL)", "0AFF:1:1:1");
    text_is(h, "SELECT group_concat(o.name) FROM object o WHERE " OBJECT_HASHED("o",
               "unhex('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')"),
            "a.txt");
    sqlite3_stmt *plan;
    assert_int_equal(sqlite3_prepare_v2(h, "EXPLAIN QUERY PLAN SELECT id FROM object_row WHERE "
                                           "sha = unhex('aa')", -1, &plan, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(plan), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(plan, 3),
                        "SEARCH object_row USING COVERING INDEX object_sha (sha=?)");
    sqlite3_finalize(plan);
    /* "smb" added, then taken by the rollback: written again on the next put */
    assert_int_equal(pt_db_begin(db), PT_OK);
    snprintf(a.protocol, sizeof a.protocol, "%s", "smb");
    assert_int_equal(pt_db_object_put(db, &a), PT_OK);
    pt_db_rollback(db);
    assert_int_equal(pt_db_object_put(db, &a), PT_OK);
    text_is(h, "SELECT protocol FROM object WHERE id = (SELECT max(id) FROM object)", "smb");
    pt_db_close(db);
}

/* A merge names the strings of a shard's object rows by the merged case's ids (the two cases
 * met them in other orders), and shifts the shard's object ids past the merged case's. */
static void merge_maps_object_strings(void **state)
{
    (void)state;
    char err[256] = "", shard_dir[160], shard_path[200];
    shard_make(shard_dir, shard_path);
    struct pt_db *sh, *db;
    struct pt_object_rec o = {.size = 1, .mime = "text/plain", .protocol = "hl7",
                              .direction = "internal", .gap_map = "[]"};
    memset(o.sha256, '1', 64);
    assert_int_equal(pt_db_create(shard_path, &sh, err, sizeof err), PT_OK);
    assert_int_equal(pt_db_object_put(sh, &o), PT_OK);
    snprintf(o.protocol, sizeof o.protocol, "%s", "smtp");
    snprintf(o.mime, sizeof o.mime, "%s", "message/rfc822");
    assert_int_equal(pt_db_object_put(sh, &o), PT_OK);
    pt_db_close(sh);
    unlink(path);
    assert_int_equal(pt_db_create(path, &db, err, sizeof err), PT_OK);
    snprintf(o.protocol, sizeof o.protocol, "%s", "smtp");
    snprintf(o.mime, sizeof o.mime, "%s", "image/png");
    snprintf(o.direction, sizeof o.direction, "%s", "upload");
    memset(o.sha256, '2', 64);
    assert_int_equal(pt_db_object_put(db, &o), PT_OK);
    assert_int_equal(pt_q_shard_attach(db, shard_dir, err, sizeof err), PT_OK);
    assert_int_equal(pt_q_shard_begin(db, err, sizeof err), PT_OK);
    assert_int_equal(pt_q_shard_copy_rows(db, 1, err, sizeof err), PT_OK);
    assert_int_equal(pt_db_commit(db), PT_OK);
    pt_q_shard_detach(db);
    sqlite3 *h = pt_db_handle(db);
    text_is(h, "SELECT group_concat(id || ':' || substr(sha256, 1, 1) || ':' || mime || ':' || "
               "protocol || ':' || direction, ' ') FROM object",
            "1:2:image/png:smtp:upload 2:1:text/plain:hl7:internal "
            "3:1:message/rfc822:smtp:internal");
    assert_int_equal(scalar(h, "SELECT count(*) FROM object_str"), 7);
    pt_db_close(db);
    shard_remove(shard_dir, shard_path);
}

/* A merge copies a shard's rows with new ids; a shard is made without the PHI scan, and one
 * that has PHI rows (whose packed hits and first_record hold the shard's own ids) is refused
 * rather than copied mis-keyed. */
static void merge_refuses_a_shard_with_phi_rows(void **state)
{
    (void)state;
    char err[256] = "", shard_dir[160], shard_path[200];
    shard_make(shard_dir, shard_path);
    struct pt_db *sh, *db;
    struct pt_q_phi *w;
    assert_int_equal(pt_db_create(shard_path, &sh, err, sizeof err), PT_OK);
    pt_db_close(sh);
    unlink(path);
    assert_int_equal(pt_db_create(path, &db, err, sizeof err), PT_OK);
    /* without PHI rows: copied */
    assert_int_equal(pt_q_shard_attach(db, shard_dir, err, sizeof err), PT_OK);
    assert_int_equal(pt_q_shard_begin(db, err, sizeof err), PT_OK);
    assert_int_equal(pt_q_shard_copy_rows(db, 1, err, sizeof err), PT_OK);
    assert_int_equal(pt_db_commit(db), PT_OK);
    pt_q_shard_detach(db);
    /* with them: refused, saying why */
    assert_int_equal(pt_db_open_rw(shard_path, &sh, err, sizeof err), PT_OK);
    assert_int_equal(pt_q_phi_begin(sh, &w, err, sizeof err), PT_OK);
    char sha[65];
    memset(sha, 'd', 64);
    sha[64] = '\0';
    object_of(sh, sha);
    assert_int_equal(pt_q_phi_object_put(w, sha, "text", 0, 0, 0, 0, 10, NULL), PT_OK);
    assert_int_equal(pt_q_phi_end(w, true, err, sizeof err), PT_OK);
    pt_db_close(sh);
    assert_int_equal(pt_q_shard_attach(db, shard_dir, err, sizeof err), PT_OK);
    assert_int_equal(pt_q_shard_begin(db, err, sizeof err), PT_OK);
    assert_int_equal(pt_q_shard_copy_rows(db, 2, err, sizeof err), PT_EMALFORMED);
    assert_non_null(strstr(err, "the shard has PHI rows (1)"));
    pt_db_rollback(db);
    pt_q_shard_detach(db);
    pt_db_close(db);
    shard_remove(shard_dir, shard_path);
}

/* A case made by a phitrace with another schema is refused, saying who wrote it and what to
 * do; the version in the file is the one this build derives from schema.sql. */
static void other_schema_is_refused_clearly(void **state)
{
    (void)state;
    unlink(path);
    char err[512];
    struct pt_db *db;
    assert_int_equal(pt_db_create(path, &db, err, sizeof err), PT_OK);
    assert_int_equal(pt_db_begin(db), PT_OK);
    assert_int_equal(pt_db_manifest_set(db, "tool_version", "0.0.9"), PT_OK);
    assert_int_equal(pt_db_commit(db), PT_OK);
    assert_true(PT_DB_SCHEMA_VERSION > 0 && PT_DB_SCHEMA_VERSION < (1 << 28));
    assert_int_equal(sqlite3_exec(pt_db_handle(db), "PRAGMA user_version=1", NULL, NULL, NULL),
                     SQLITE_OK);
    pt_db_close(db);
    err[0] = '\0';
    assert_int_equal(pt_db_open_ro(path, &db, err, sizeof err), PT_EDB);
    assert_null(db);
    assert_non_null(strstr(err, "written by phitrace 0.0.9 with database schema 0000001"));
    assert_non_null(strstr(err, "run `phitrace analyze` again"));
}

/* A captured flow of the 5-tuple, starting at ts seconds. */
static void put_captured(struct pt_db *db, long long id, const char *cli, int cport, int sport,
                         long long ts)
{
    char sql[640];
    snprintf(sql, sizeof sql, "INSERT INTO flow VALUES (%lld, 1, %lld, 1, %lld, 4, 6, '%s', %d, "
             "'203.0.113.9', %d, NULL, NULL, 1, NULL, 'outbound', %lld, %lld, 1, 0, 0, 0, 0, 0, 1, "
             "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, 'fin', 'capture')", id, id, id,
             cli, cport, sport, ts * 1000000, ts * 1000000 + 1000);
    assert_int_equal(sqlite3_exec(pt_db_handle(db), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void put_conn(struct pt_db *db, uint32_t item, uint64_t line, const char *cli, int cport,
                     int sport, long long ts, const char *state)
{
    struct pt_logconn_rec r;
    memset(&r, 0, sizeof r);
    r.p = (struct pt_logprov){.item = item, .line = line, .offset = line * 100, .ts_us = ts * 1000000,
                              .source = "zeek:conn", .length = 90};
    r.dur_us = 1000;
    snprintf(r.proto, sizeof r.proto, "tcp");
    snprintf(r.client, sizeof r.client, "%s", cli);
    snprintf(r.server, sizeof r.server, "203.0.113.9");
    snprintf(r.state, sizeof r.state, "%s", state);
    r.cport = cport;
    r.sport = sport;
    r.c_bytes = 100 + (int64_t)line;
    r.s_bytes = r.c_ip_bytes = r.s_ip_bytes = r.c_frame_bytes = r.s_frame_bytes = -1;
    r.c_pkts = r.s_pkts = 1;
    assert_int_equal(pt_db_logconn_put(db, &r), PT_OK);
}

/* Logs to flows (store/logflows.c): the clock offset is the median over the connections a
 * known flow of the same 5-tuple has within two hours; after it, a connection is the flow of
 * its 5-tuple nearest in time (within 60 s), else a flow of its own, which a later line of the
 * same tuple joins; a dropped packet and a connection without its port are no match. */
static void log_connections_join_flows_by_tuple_after_the_offset(void **state)
{
    (void)state;
    unlink(path);
    char err[256];
    struct pt_db *db;
    assert_int_equal(pt_db_create(path, &db, err, sizeof err), PT_OK);
    assert_int_equal(pt_db_begin(db), PT_OK);
    struct pt_item_rec it = {.id = 1, .path = "a.pcap", .size = 10, .sha256 = "ab",
                             .kind = "capture", .status = "ok"};
    assert_int_equal(pt_db_item_put(db, &it), PT_OK);
    it = (struct pt_item_rec){.id = 2, .path = "conn.log", .size = 10, .sha256 = "cd",
                              .kind = "file", .status = "ok"};
    assert_int_equal(pt_db_item_put(db, &it), PT_OK);
    struct pt_logsource_rec ls = {.item = 2, .path = "conn.log", .format = "zeek"};
    assert_int_equal(pt_db_logsource_put(db, &ls), PT_OK);
    const long long t0 = 1700000000;
    put_captured(db, 1, "10.0.0.1", 40001, 443, t0);
    put_captured(db, 2, "10.0.0.2", 40002, 443, t0 + 100);
    put_captured(db, 3, "10.0.0.3", 40003, 443, t0 + 200);
    put_captured(db, 4, "10.0.0.3", 40003, 443, t0 + 240); /* the same tuple again, 40 s on */
    put_captured(db, 5, "10.0.0.5", 40005, 443, t0 + 300);
    /* the log's clock is 7 s ahead; the offsets: 7, 7, 7 and -33 (line 3 against flows 3 and
     * 4), 7, 46 and 6 (line 9): median 7 of 7 (line 8 has no port, lines 5-7 no flow yet) */
    put_conn(db, 2, 1, "10.0.0.1", 40001, 443, t0 + 7, "SF");
    put_conn(db, 2, 2, "10.0.0.2", 40002, 443, t0 + 107, "SF");
    put_conn(db, 2, 3, "10.0.0.3", 40003, 443, t0 + 207, "SF"); /* flow 3, not 4 */
    put_conn(db, 2, 4, "10.0.0.5", 40005, 443, t0 + 307, "DROP"); /* blocked, yet an offset */
    put_conn(db, 2, 5, "10.0.0.9", 40009, 443, t0 + 500, "SF");  /* created */
    put_conn(db, 2, 6, "10.0.0.9", 40009, 443, t0 + 530, "SF");  /* the flow line 5 created */
    put_conn(db, 2, 7, "10.0.0.9", 40009, 443, t0 + 700, "SF");  /* 200 s later: its own */
    put_conn(db, 2, 8, "10.0.0.1", -1, 443, t0 + 7, "SF");       /* no port: no match */
    put_conn(db, 2, 9, "10.0.0.3", 40003, 443, t0 + 246, "SF");  /* flow 4 (1 s), not 3 (39 s) */
    /* a second log, 3 s behind: offsets -4 and -204 (flows 6 and 7, which the first log
     * created), 3 (flow 8, its port 0) and -3 (flow 2): median -3 of 4 */
    it = (struct pt_item_rec){.id = 3, .path = "eve.json", .size = 10, .sha256 = "ef",
                              .kind = "file", .status = "ok"};
    assert_int_equal(pt_db_item_put(db, &it), PT_OK);
    ls = (struct pt_logsource_rec){.item = 3, .path = "eve.json", .format = "suricata-eve"};
    assert_int_equal(pt_db_logsource_put(db, &ls), PT_OK);
    put_conn(db, 3, 1, "10.0.0.9", 40009, 443, t0 + 489, "SF"); /* flow 6 (1 s) */
    put_conn(db, 3, 2, "10.0.0.1", 0, 443, t0 + 3, "SF");       /* flow 8 */
    put_conn(db, 3, 3, "10.0.0.2", 40002, 443, t0 + 97, "SF");  /* flow 2 */
    assert_int_equal(pt_db_commit(db), PT_OK);
    struct pt_cidr_set home;
    assert_int_equal(pt_cidr_set_parse("10.0.0.0/8", &home, err, sizeof err), PT_OK);
    struct pt_logflow_stats st;
    assert_int_equal(pt_db_log_flows(db, &home, &st, err, sizeof err), PT_OK);
    pt_cidr_set_fini(&home);
    sqlite3 *h = pt_db_handle(db);
    assert_int_equal(st.logs, 2);
    assert_int_equal(st.matched, 8);
    assert_int_equal(st.created, 3);
    assert_int_equal(st.blocked, 1);
    assert_int_equal(scalar(h, "SELECT skew_us FROM log_source WHERE item_id = 2"), 7000000);
    assert_int_equal(scalar(h, "SELECT skew_agree FROM log_source WHERE item_id = 2"), 7);
    assert_int_equal(scalar(h, "SELECT skew_us FROM log_source WHERE item_id = 3"), -3000000);
    assert_int_equal(scalar(h, "SELECT skew_agree FROM log_source WHERE item_id = 3"), 4);
    static const struct {
        int item, line;
        long long flow; /* 0: NULL; 6, 7, 8: the flows the log created, in line order */
        const char *role;
    } want[] = {{2, 1, 1, "matched"}, {2, 2, 2, "matched"}, {2, 3, 3, "matched"},
                {2, 4, 0, "blocked"}, {2, 5, 6, "created"}, {2, 6, 6, "matched"},
                {2, 7, 7, "created"}, {2, 8, 8, "created"}, {2, 9, 4, "matched"},
                {3, 1, 6, "matched"}, {3, 2, 8, "matched"}, {3, 3, 2, "matched"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT coalesce(flow_id, 0) FROM flow_source WHERE item_id = "
                 "%d AND line = %d AND role = '%s'", want[i].item, want[i].line, want[i].role);
        assert_int_equal(scalar(h, sql), want[i].flow);
    }
    assert_int_equal(scalar(h, "SELECT first_ts FROM flow WHERE id = 6"), (t0 + 493) * 1000000);
    assert_int_equal(scalar(h, "SELECT count(*) FROM sqlite_schema WHERE name = 'flow_tuple'"), 1);
    pt_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_write_and_reopen),
        cmocka_unit_test(strict_tables_reject_wrong_types),
        cmocka_unit_test(tampering_breaks_the_chain),
        cmocka_unit_test(not_a_case_database),
        cmocka_unit_test(other_schema_is_refused_clearly),
        cmocka_unit_test(phi_hits_compact_and_read_back),
        cmocka_unit_test(log_connections_join_flows_by_tuple_after_the_offset),
        cmocka_unit_test(phi_pack_round_trip_and_malformed),
        cmocka_unit_test(phi_hit_row_view_equals_the_decoder),
        cmocka_unit_test(merge_refuses_a_shard_with_phi_rows),
        cmocka_unit_test(objects_round_trip_through_the_view),
        cmocka_unit_test(merge_maps_object_strings),
    };
    return cmocka_run_group_tests_name("db", tests, setup, teardown);
}
