/*
 * flow_sql.h - SQL expressions over a flow row aliased `f`, shared by the heuristics, the
 * verdict and the reports so that "inside", "bytes out" and "unread" mean the same
 * everywhere. Only outbound and inbound flows cross home-net; for them the inside end is
 * the client of an outbound flow and the server of an inbound one.
 */
#ifndef PT_FLOW_SQL_H
#define PT_FLOW_SQL_H

#define INSIDE_SQL "CASE WHEN f.class = 'outbound' THEN f.client_addr ELSE f.server_addr END"
#define OUTSIDE_SQL "CASE WHEN f.class = 'outbound' THEN f.server_addr ELSE f.client_addr END"

/* where an object went, for an object row aliased `o` of flow `f`: a decoded DNS tunnel
 * payload went from the client that queried to the tunnel domain (its name), whichever
 * resolver the queries passed */
#define OBJ_SOURCE_SQL                                                                           \
    "CASE WHEN o.protocol = 'dns-tunnel' THEN f.client_addr ELSE " INSIDE_SQL " END"
#define OBJ_DEST_SQL "CASE WHEN o.protocol = 'dns-tunnel' THEN o.name ELSE " OUTSIDE_SQL " END"

/* bytes sent from the inside end (sequence-implied where payload is missing), and back */
#define OUT_BYTES_SQL                                                                            \
    "CASE WHEN f.class = 'outbound' THEN max(f.c_payload_bytes, f.c_seq_bytes) "                 \
    "ELSE max(f.s_payload_bytes, f.s_seq_bytes) END"
#define IN_BYTES_SQL                                                                             \
    "CASE WHEN f.class = 'outbound' THEN max(f.s_payload_bytes, f.s_seq_bytes) "                 \
    "ELSE max(f.c_payload_bytes, f.c_seq_bytes) END"

/* a flow whose content phitrace cannot read: encrypted (TLS, SSH), TCP of no decoded
 * protocol, or a connection only a log saw (its content was never in the evidence) */
#define UNREAD_SQL                                                                               \
    "(f.source != 'capture' OR f.app IN ('tls', 'ssh', 'tcp') OR f.app IS NULL AND f.proto = 6)"

#endif
