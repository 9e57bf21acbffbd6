/*
 * q_dns.h - the DNS rows the stages after capture read (analyze/tunnel_phase.c): the queries
 * per client, the answers to one client below a domain, and whether an address forwards
 * other clients' queries.
 */
#ifndef PT_STORE_Q_DNS_H
#define PT_STORE_Q_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_db;

/* One query (dns_query, response = 0): strings live until the callback returns. */
struct pt_q_query {
    const char *client;     /* the flow's client address, "" without a flow */
    const char *qname;
    int64_t ts, flow_id;
    uint32_t item;          /* 0 when not tied to a packet */
    uint64_t frame;
};

/* Every query with a name (but .arpa and .local names) ordered by client, time and row;
 * fn returns false to stop. PT_EDB when the rows cannot be read. */
pt_status pt_q_dns_queries(struct pt_db *db, bool (*fn)(void *arg, const struct pt_q_query *q),
                           void *arg);

/* One answer record, grouped by (name, type, data) with its first time. */
struct pt_q_answer {
    unsigned type;
    int decoded;
    const char *data;       /* "" when NULL */
    int64_t rdlength;
    int64_t flow_id, ts;
    uint32_t item;
    uint64_t frame;
};

/* The answers to client `addr` whose name is LIKE `like` (lower case), each distinct one once
 * in time order; with `iodine`, only NULL records in hex whose name starts with a hex digit
 * or 'p'. fn returns false to stop. */
pt_status pt_q_dns_answers(struct pt_db *db, const char *addr, const char *like, bool iodine,
                           bool (*fn)(void *arg, const struct pt_q_answer *a), void *arg);

/* Does `addr` receive queries LIKE `like` from another client (a forwarding resolver)? */
bool pt_q_dns_forwarder(struct pt_db *db, const char *addr, const char *like);

#endif
