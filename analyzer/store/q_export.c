/*
 * q_export.c - the export descriptors and their queries (see q_export.h).
 */
#include "q_export.h"

#include <stdio.h>

#include "db_handle.h"
#include "q_stmt.h"

struct kind {
    const char *name; /* --what word and file stem */
    const char *cols; /* exported columns, named as in the output */
    const char *from; /* FROM clause with its joins */
    const char *id;   /* row order of a plain export */
    bool flow;        /* joined with its flow `f` and ICMP counts `ic`: Community ID */
    /* timeline formats (SQL expressions); time NULL: the kind has no time */
    const char *time, *message, *desc, *data_type, *source, *sourcetype, *host, *file, *notes;
};

/* JSON text SQLite checked (NULL when it is not JSON) */
#define JSONCOL(x, name) "CASE WHEN json_valid(" x ") THEN json(" x ") END AS " name "_json"
#define ITEM_PATH(col) "(SELECT path FROM evidence_item WHERE id = " col ")"

/* The Community ID inputs, last (PT_QX_CID_NCOLS, q_export.h). ICMP counts are summed per flow first so the
 * join never repeats a row. */
#define CID_COLS                                                                                   \
    ", f.proto AS _proto, f.client_addr AS _ca, f.client_port AS _cp, f.server_addr AS _sa, "     \
    "f.server_port AS _sp, f.ports_known AS _pk, ic.req AS _req, ic.rep AS _rep, ic.msgs AS _msgs"
#define CID_JOIN                                                                                   \
    " LEFT JOIN (SELECT flow_id, sum(echo_requests) AS req, sum(echo_replies) AS rep, "           \
    "sum(messages) AS msgs FROM icmp_summary GROUP BY flow_id) ic ON ic.flow_id = f.id"
#define PROTO_NAME(p)                                                                              \
    "CASE " p " WHEN 6 THEN 'TCP' WHEN 17 THEN 'UDP' WHEN 1 THEN 'ICMP' WHEN 58 THEN 'ICMPv6' "    \
    "WHEN 132 THEN 'SCTP' ELSE 'IP protocol ' || " p " END"

static const struct kind kinds[] = { /* in the order of enum pt_qx_kind */
    {.name = "events",
     .cols = "e.id, e.source, e.destination, e.protocols, e.first_ts, e.last_ts, e.bytes_out, "
             "e.objects, e.phi_objects, e.phi_types, e.individuals, e.verdict, " JSONCOL(
                 "e.reasons", "reasons"),
     .from = "exfil_event e",
     .id = "e.id",
     .time = "e.first_ts",
     .message = "printf('%s: %s -> %s over %s, %lld bytes out; %lld of %lld object(s) with PHI%s;"
                " %lld individual(s)', e.verdict, e.source, e.destination, coalesce(nullif("
                "e.protocols, ''), 'unknown protocols'), e.bytes_out, e.phi_objects, e.objects, "
                "CASE WHEN coalesce(e.phi_types, '') <> '' THEN ' (' || e.phi_types || ')' ELSE "
                "'' END, e.individuals)",
     .desc = "'Start Time'",
     .data_type = "'phitrace:event'",
     .source = "'EVENT'",
     .sourcetype = "'phitrace exfiltration event'",
     .host = "e.source",
     .file = "NULL",
     .notes = "'verdict ' || e.verdict"},
    {.name = "findings",
     .cols = "x.id, x.heuristic, x.source, x.destination, x.protocol, x.first_ts, x.last_ts, "
             "x.bytes_out, x.score, x.severity, x.summary, " JSONCOL(
                 "x.detail", "detail") ", " JSONCOL("x.evidence", "evidence"),
     .from = "finding x",
     .id = "x.id",
     .time = "x.first_ts",
     .message = "x.summary",
     .desc = "'Start Time'",
     .data_type = "'phitrace:finding:' || x.heuristic",
     .source = "'FINDING'",
     .sourcetype = "'phitrace heuristic ' || x.heuristic",
     .host = "nullif(x.source, '')",
     .file = "NULL",
     .notes = "'severity ' || x.severity"},
    {.name = "objects",
     .cols = "o.id, o.sha256, o.size, o.mime, o.magic, o.name, o.protocol, o.encoding, o.flow_id, "
             "o.direction, o.stream_dir, o.stream_off, o.part, o.complete, o.encrypted, "
             "o.parent_sha256, o.depth, o.gap_bytes, " JSONCOL(
                 "o.gap_map", "gap_map") ", o.item_id, o.frame, o.ts, p.format AS phi_format, "
                                         "p.records AS phi_records, p.hits AS phi_hits, "
                                         "p.phi_hits AS phi_health_hits, p.individuals AS "
                                         "phi_individuals",
     .from = "object o LEFT JOIN flow f ON f.id = o.flow_id LEFT JOIN phi_object p ON "
             PHI_OBJECT_OF("p", "o.sha256") CID_JOIN,
     .id = "o.id",
     .flow = true,
     .time = "o.ts",
     .message = "printf('%s %s object %s (%lld bytes, %s)%s', o.direction, o.protocol, "
                "coalesce(o.name, o.sha256), o.size, coalesce(o.mime, 'type unknown'), CASE WHEN "
                "p.hits > 0 THEN printf(' with %lld PHI hit(s) of %lld individual(s)', p.hits, "
                "p.individuals) ELSE '' END)",
     .desc = "'Transfer Time'",
     .data_type = "'phitrace:object'",
     .source = "'FILE'",
     .sourcetype = "'phitrace object (' || o.protocol || ')'",
     .host = "f.client_addr",
     .file = ITEM_PATH("o.item_id"),
     .notes = "CASE WHEN p.hits > 0 THEN 'phi' END"},
    {.name = "flows",
     .cols = "f.id, f.item_id, f.first_frame, f.last_item_id, f.last_frame, f.family, f.proto, "
             "f.client_addr, f.client_port, f.server_addr, f.server_port, f.vlan, f.reply_vlan, "
             "f.ports_known, f.tunnel, f.class, f.first_ts, f.last_ts, f.c_pkts, f.c_frame_bytes, "
             "f.c_ip_bytes, f.c_payload_bytes, f.c_captured_bytes, f.c_seq_bytes, f.s_pkts, "
             "f.s_frame_bytes, f.s_ip_bytes, f.s_payload_bytes, f.s_captured_bytes, "
             "f.s_seq_bytes, f.c_stream_bytes, f.c_gap_bytes, f.c_conflicts, f.s_stream_bytes, "
             "f.s_gap_bytes, f.s_conflicts, f.c_tcp_flags, f.s_tcp_flags, f.history, f.app, "
             "f.end_reason, f.source",
     .from = "flow f" CID_JOIN,
     .id = "f.id",
     .flow = true,
     .time = "f.first_ts",
     .message = "printf('%s %s:%lld -> %s:%lld, %s%s, %lld bytes from the client, %lld from the "
                "server, ended by %s', " PROTO_NAME("f.proto") ", f.client_addr, f.client_port, "
                "f.server_addr, f.server_port, f.class, coalesce(' ' || f.app, ''), "
                "f.c_payload_bytes, f.s_payload_bytes, f.end_reason)",
     .desc = "'Start Time'",
     .data_type = "'phitrace:flow'",
     .source = "'NET'",
     .sourcetype = "'phitrace flow (' || f.source || ')'",
     .host = "f.client_addr",
     .file = ITEM_PATH("f.item_id"),
     .notes = "f.class"},
    {.name = "individuals",
     .cols = "x.id, x.records, x.objects, x.identifiers, x.state, x.phi, x.outbound, "
             "x.name_masked, x.deceased, x.names",
     .from = "patient_entity x",
     .id = "x.id"},
    {.name = "timeline",
     .cols = "x.id, x.ts, x.timestamp_desc, x.source, x.source_long, x.data_type, x.message, "
             "x.evidence",
     .from = "timeline_event x",
     .id = "x.id",
     .time = "x.ts",
     .message = "x.message",
     .desc = "x.timestamp_desc",
     .data_type = "x.data_type",
     .source = "x.source",
     .sourcetype = "x.source_long",
     .host = "NULL",
     .file = "NULL",
     .notes = "NULL"},
};
_Static_assert(sizeof kinds / sizeof kinds[0] == PT_QX_KINDS, "one descriptor per kind");

const char *pt_qx_name(enum pt_qx_kind k)
{
    return kinds[k].name;
}

bool pt_qx_timed(enum pt_qx_kind k)
{
    return kinds[k].time != NULL;
}

bool pt_qx_flow(enum pt_qx_kind k)
{
    return kinds[k].flow;
}

pt_status pt_qx_open(struct pt_db *db, enum pt_qx_kind kind, bool timeline, struct pt_q **out)
{
    const struct kind *k = &kinds[kind];
    char sql[8192];
    int n;
    *out = NULL;
    if (timeline) {
        n = snprintf(sql, sizeof sql,
                     "SELECT %s AS _t, %s AS _msg, %s AS _desc, %s AS _dtype, %s AS _src, "
                     "%s AS _srctype, %s AS _host, %s AS _file, %s AS _notes, %s%s FROM %s "
                     "WHERE %s IS NOT NULL ORDER BY _t, %s",
                     k->time, k->message, k->desc, k->data_type, k->source, k->sourcetype,
                     k->host, k->file, k->notes, k->cols, k->flow ? CID_COLS : "", k->from,
                     k->time, k->id);
    } else {
        n = snprintf(sql, sizeof sql, "SELECT %s%s FROM %s ORDER BY %s", k->cols,
                     k->flow ? CID_COLS : "", k->from, k->id);
    }
    if (n < 0 || (size_t)n >= sizeof sql) {
        return PT_EINTERNAL;
    }
    return pt_q_prepare(db, sql, out);
}
