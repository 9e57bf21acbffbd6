/*
 * q_links.c - the protocol rows' links to their objects (see q_links.h).
 */
#include "q_links.h"

#include <stdio.h>

#include "db.h"
#include "db_handle.h"

/* The objects on the wire of hl7 and http by (flow, direction, offset), once each (the
 * first id should two ever share a key), then each row's id looked up by its key: a temporary
 * index, so a connection carrying thousands of messages costs a lookup each, not a scan of
 * its objects each. */
static const char link_sql[] =
    "CREATE TEMP TABLE link_key(flow_id INTEGER NOT NULL, dir TEXT NOT NULL, off INTEGER NOT "
    "NULL, id INTEGER NOT NULL, PRIMARY KEY (flow_id, dir, off)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO temp.link_key SELECT flow_id, stream_dir, stream_off, id FROM object "
    "WHERE depth = 0 AND part = 0 AND flow_id IS NOT NULL AND stream_dir IS NOT NULL AND "
    "protocol IN ('hl7', 'http') ORDER BY id;"
    "UPDATE hl7_message_row SET object_id = (SELECT k.id FROM temp.link_key k WHERE k.flow_id "
    "= hl7_message_row.flow_id AND k.dir = hl7_message_row.direction AND k.off = "
    "hl7_message_row.stream_off) WHERE object_id IS NULL AND stream_off IS NOT NULL;"
    "UPDATE http_txn_row SET req_object = (SELECT k.id FROM temp.link_key k WHERE k.flow_id = "
    "http_txn_row.flow_id AND k.dir = 'c2s' AND k.off = http_txn_row.req_body_off) WHERE "
    "req_object IS NULL AND req_body_off IS NOT NULL;"
    "UPDATE http_txn_row SET resp_object = (SELECT k.id FROM temp.link_key k WHERE k.flow_id = "
    "http_txn_row.flow_id AND k.dir = 's2c' AND k.off = http_txn_row.resp_body_off) WHERE "
    "resp_object IS NULL AND resp_body_off IS NOT NULL;";

pt_status pt_q_link_objects(struct pt_db *db, char *err, size_t errlen)
{
    sqlite3 *h = pt_db_handle(db);
    PT_TRY(pt_db_begin(db));
    pt_status rc = pt_db_exec(h, link_sql, err, errlen);
    pt_db_exec(h, "DROP TABLE IF EXISTS temp.link_key", NULL, 0);
    if (rc != PT_OK) {
        pt_db_rollback(db);
        return rc;
    }
    return pt_db_commit(db);
}

void pt_q_link_orphans(struct pt_db *db,
                       void (*fn)(void *arg, const char *table, const char *column, long long rows),
                       void *arg)
{
    static const char *const cols[][2] = {
        {"hl7_message", "object_id"}, {"http_txn", "req_object"}, {"http_txn", "resp_object"}};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE %s IS NOT NULL AND %s NOT IN "
                 "(SELECT id FROM object)", cols[i][0], cols[i][1], cols[i][1]);
        int64_t n = pt_db_int(pt_db_handle(db), sql);
        if (n > 0) {
            fn(arg, cols[i][0], cols[i][1], (long long)n);
        }
    }
}
