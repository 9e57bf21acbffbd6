/*
 * q_dns.c - DNS rows for the stages after capture (see q_dns.h).
 */
#include "q_dns.h"

#include <sqlite3.h>
#include <stddef.h>

#include "db_handle.h"

static const char *text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

pt_status pt_q_dns_queries(struct pt_db *db, bool (*fn)(void *arg, const struct pt_q_query *q),
                           void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(pt_db_handle(db),
                           "SELECT coalesce(f.client_addr, ''), d.qname, d.ts, d.flow_id, "
                           "coalesce(d.item_id, 0), coalesce(d.frame, 0) FROM dns_query d LEFT "
                           "JOIN flow f ON f.id = d.flow_id WHERE d.response = 0 AND d.qname != "
                           "'' AND lower(d.qname) NOT LIKE '%.arpa' AND lower(d.qname) NOT LIKE "
                           "'%.local' ORDER BY 1, d.ts, d.id",
                           -1, &st, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct pt_q_query q = {text(st, 0), text(st, 1), sqlite3_column_int64(st, 2),
                               sqlite3_column_int64(st, 3), (uint32_t)sqlite3_column_int64(st, 4),
                               (uint64_t)sqlite3_column_int64(st, 5)};
        if (!fn(arg, &q)) {
            break;
        }
    }
    sqlite3_finalize(st);
    return PT_OK;
}

pt_status pt_q_dns_answers(struct pt_db *db, const char *addr, const char *like, bool iodine,
                           bool (*fn)(void *arg, const struct pt_q_answer *a), void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(pt_db_handle(db),
                           "SELECT a.type, a.decoded, a.data, a.rdlength, a.flow_id, min(a.ts), "
                           "coalesce(a.item_id, 0), coalesce(a.frame, 0) FROM dns_answer a JOIN "
                           "flow f ON f.id = a.flow_id WHERE f.client_addr = ?1 AND "
                           "lower(a.name) LIKE ?2 AND (?3 = 0 OR (a.type = 10 AND a.decoded = 0 "
                           "AND lower(substr(a.name, 1, 1)) IN ('0','1','2','3','4','5','6','7',"
                           "'8','9','a','b','c','d','e','f','p'))) GROUP BY lower(a.name), "
                           "a.type, a.data ORDER BY min(a.ts), min(a.id)",
                           -1, &st, NULL) != SQLITE_OK) {
        return PT_EDB;
    }
    sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, like, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, iodine);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct pt_q_answer a = {(unsigned)sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
                                text(st, 2), sqlite3_column_int64(st, 3),
                                sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
                                (uint32_t)sqlite3_column_int64(st, 6),
                                (uint64_t)sqlite3_column_int64(st, 7)};
        if (!fn(arg, &a)) {
            break;
        }
    }
    sqlite3_finalize(st);
    return PT_OK;
}

bool pt_q_dns_forwarder(struct pt_db *db, const char *addr, const char *like)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(pt_db_handle(db), "SELECT 1 FROM dns_query d JOIN flow f ON "
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
