/* test_links.c - the protocol rows' links to their objects (store/q_links.h): each HL7
 * message and HTTP body finds the object of its flow, direction and stream offset on the
 * wire, by id; identical content twice in one connection still gives each row its own
 * object; a row without an object, or whose offset only an archive member or a multipart
 * part shares, stays NULL; rows already linked are left alone. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CASEDB_PREFIX "pt-test-links"
#include "casedb.h"
#include "store/q_links.h"

/* The rows' links as one string: "seq:id," in order, NULL as "-". */
static void links(const char *sql, char *out, size_t len)
{
    sqlite3_stmt *st = NULL;
    size_t k = 0;
    out[0] = '\0';
    assert_int_equal(sqlite3_prepare_v2(pt_db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && k < len) {
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
            k += (size_t)snprintf(out + k, len - k, "%d:-,", sqlite3_column_int(st, 0));
        } else {
            k += (size_t)snprintf(out + k, len - k, "%d:%d,", sqlite3_column_int(st, 0),
                                  sqlite3_column_int(st, 1));
        }
    }
    sqlite3_finalize(st);
}

/* An object row as object_row holds it: its strings by object_str id, the stream direction
 * 0 (c2s) or 1 (s2c); the hashes are short names here. */
#define STR(s) "(SELECT id FROM object_str WHERE str = '" s "')"
#define OBJ(id, sha, proto, flow, dir, off, part, depth)                                           \
    "INSERT OR IGNORE INTO object_str(str) VALUES ('" proto "'), ('upload');"                      \
    "INSERT INTO object_row(id, sha, size, protocol, flow_id, direction, stream_dir, stream_off, " \
    "part, complete, encrypted, depth, gap_bytes) VALUES (" #id ", CAST('" sha "' AS BLOB), 10, "  \
    STR(proto) ", " #flow ", " STR("upload") ", '" dir "' = 's2c', " #off ", " #part ", 1, 0, "    \
    #depth ", 0);"

static void hl7_and_http_rows_find_their_objects(void **state)
{
    (void)state;
    char got[512];
    /* flow 7: the same message twice (one hash), its ACKs, a message whose object was lost;
     * flow 8: the same offsets as flow 7 (the flow keeps them apart) */
    exec(OBJ(11, "aa", "hl7", 7, "c2s", 0, 0, 0) OBJ(12, "bb", "hl7", 7, "s2c", 0, 0, 0)
         OBJ(13, "aa", "hl7", 7, "c2s", 300, 0, 0) OBJ(14, "cc", "hl7", 7, "s2c", 90, 0, 0)
         OBJ(15, "dd", "hl7", 8, "c2s", 0, 0, 0)
         /* a member of the message at 300 (depth 1) and another protocol at 500 */
         OBJ(16, "ee", "hl7", 7, "c2s", 500, 0, 1) OBJ(17, "ff", "smtp", 7, "c2s", 500, 0, 0));
    exec("INSERT INTO hl7_header(id) VALUES (1); INSERT INTO http_header(id) VALUES (1)");
    exec("INSERT INTO hl7_message_row(flow_id, seq, direction, header_id, segments, "
         "pid_segments, size, complete, stream_off) VALUES (7, 0, 'c2s', 1, 4, 1, 300, 1, 0), "
         "(7, 1, 's2c', 1, 2, 0, 90, 1, 0), (7, 2, 'c2s', 1, 4, 1, 300, 1, 300), (7, 3, 's2c', "
         "1, 2, 0, 90, 1, 90), (7, 4, 'c2s', 1, 4, 1, 300, 1, 500), (7, 5, 'c2s', 1, 4, 1, 300, "
         "0, NULL), (8, 0, 'c2s', 1, 4, 1, 300, 1, 0)");
    /* HTTP on flow 9: a body each way, a request without one, a multipart upload whose parts
     * share the body's offset (part > 0), the same response body twice */
    exec(OBJ(21, "r1", "http", 9, "s2c", 120, 0, 0) OBJ(22, "q2", "http", 9, "c2s", 400, 0, 0)
         OBJ(23, "p1", "http", 9, "c2s", 400, 1, 0) OBJ(24, "p2", "http", 9, "c2s", 400, 2, 0)
         OBJ(25, "r1", "http", 9, "s2c", 900, 0, 0) OBJ(26, "r3", "http", 9, "s2c", 1500, 1, 0));
    exec("INSERT INTO http_txn_row(flow_id, seq, header_id, req_body_len, resp_body_len, "
         "req_body_off, resp_body_off) VALUES (9, 0, 1, 0, 10, NULL, 120), (9, 1, 1, 10, 0, 400, "
         "NULL), (9, 2, 1, 0, 10, NULL, 900), (9, 3, 1, 0, 10, NULL, 1500)");
    char err[256] = "";
    assert_int_equal(pt_q_link_objects(db, err, sizeof err), PT_OK);
    links("SELECT seq, object_id FROM hl7_message WHERE flow_id = 7 ORDER BY seq", got,
          sizeof got);
    assert_string_equal(got, "0:11,1:12,2:13,3:14,4:-,5:-,");
    links("SELECT seq, object_id FROM hl7_message WHERE flow_id = 8", got, sizeof got);
    assert_string_equal(got, "0:15,");
    links("SELECT seq, req_object FROM http_txn ORDER BY seq", got, sizeof got);
    assert_string_equal(got, "0:-,1:22,2:-,3:-,");
    links("SELECT seq, resp_object FROM http_txn ORDER BY seq", got, sizeof got);
    assert_string_equal(got, "0:21,1:-,2:25,3:-,");
    /* a row linked already (a merged shard's) keeps its id; a new one is linked */
    exec("UPDATE hl7_message_row SET object_id = 99 WHERE flow_id = 8");
    exec(OBJ(31, "gg", "hl7", 7, "c2s", 700, 0, 0));
    exec("INSERT INTO hl7_message_row(flow_id, seq, direction, header_id, segments, "
         "pid_segments, size, complete, stream_off) VALUES (7, 6, 'c2s', 1, 4, 1, 300, 1, 700)");
    assert_int_equal(pt_q_link_objects(db, err, sizeof err), PT_OK);
    links("SELECT seq, object_id FROM hl7_message WHERE seq >= 5 OR flow_id = 8 ORDER BY "
          "flow_id, seq", got, sizeof got);
    assert_string_equal(got, "5:-,6:31,0:99,");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hl7_and_http_rows_find_their_objects, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
