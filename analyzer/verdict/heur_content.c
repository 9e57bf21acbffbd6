/*
 * heur_content.c - heuristics on what the flows carried: ICMP tunnels, DICOM sent
 * outside, PHI leaving home-net, YARA matches.
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../core/conf.h"
#include "flow_sql.h"
#include "verdict_int.h"

/* Per flow, what the inside end sent: its payload bytes over its own messages (the mean
 * of one direction, not of both). */
void pt_heur_icmp_tunnel(struct pt_verdict_ctx *x)
{
    const char *sql = "SELECT f.id, " INSIDE_SQL ", " OUTSIDE_SQL ", i.echo_requests, "
                      "i.echo_replies, CASE WHEN f.class='outbound' THEN i.c_payload_bytes ELSE "
                      "i.s_payload_bytes END, CASE WHEN f.class='outbound' THEN i.c_max_payload "
                      "ELSE i.s_max_payload END, i.entropy, i.mismatched_replies, "
                      "f.first_ts, f.last_ts, CASE WHEN f.class='outbound' THEN i.c_messages "
                      "ELSE i.s_messages END, CASE WHEN f.class='outbound' THEN i.s_payload_bytes "
                      "ELSE i.c_payload_bytes END FROM icmp_summary i JOIN flow f ON "
                      "f.id = i.flow_id WHERE f.class IN ('outbound','inbound') ORDER BY f.id";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, sql, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && x->rc == PT_OK) {
        double out = (double)sqlite3_column_int64(st, 5);
        double msgs = (double)sqlite3_column_int64(st, 11);
        double mean = msgs > 0 ? out / msgs : 0;
        int64_t mism = sqlite3_column_int64(st, 8);
        bool big = out >= x->c.icmp_payload_bytes && mean >= x->c.icmp_mean_payload;
        if (!big && !(mism >= x->c.icmp_mismatched_replies && out >= x->c.icmp_payload_bytes)) {
            continue;
        }
        char sum[512], det[400], ev[96], hb[32];
        human(out, hb, sizeof hb);
        snprintf(sum, sizeof sum,
                 "ICMP tunnel: %s sent %s of ICMP payload to %s in %.0f "
                 "messages (mean %.0f B, largest %lld B, entropy %.2f, %lld "
                 "replies not echoing their request)",
                 col(st, 1), hb, col(st, 2), msgs, mean, (long long)sqlite3_column_int64(st, 6),
                 sqlite3_column_double(st, 7), (long long)mism);
        snprintf(det, sizeof det,
                 "{\"payload_out\":%.0f,\"messages_out\":%.0f,"
                 "\"mean_payload\":%.1f,\"max_payload_out\":%lld,"
                 "\"payload_in\":%lld,\"entropy\":%.3f,"
                 "\"mismatched_replies\":%lld}",
                 out, msgs, mean, (long long)sqlite3_column_int64(st, 6),
                 (long long)sqlite3_column_int64(st, 12), sqlite3_column_double(st, 7),
                 (long long)mism);
        snprintf(ev, sizeof ev, "{\"flow\":[%lld]}", (long long)sqlite3_column_int64(st, 0));
        pt_verdict_finding(x, PT_HEUR_ICMP_TUNNEL, col(st, 1), col(st, 2), "icmp",
                           sqlite3_column_int64(st, 9), sqlite3_column_int64(st, 10), (int64_t)out,
                           mism > 0 ? 0.6 : 0.4, sum, det, ev);
    }
    sqlite3_finalize(st);
}

static bool ae_known(const struct pt_heur_conf *c, const char *ae)
{
    char list[1024];
    snprintf(list, sizeof list, "%s", c->known_ae_titles);
    char *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        pt_trim(t);
        if (strcasecmp(t, ae) == 0) {
            return true;
        }
    }
    return false;
}

void pt_heur_dicom_outbound(struct pt_verdict_ctx *x)
{
    const char *sql = "SELECT f.id, f.client_addr, f.server_addr, a.calling_ae, a.called_ae, "
                      "m.command, m.move_destination, count(*), sum(m.dataset_size), "
                      "min(m.ts), max(m.ts) FROM dicom_message m JOIN flow f ON f.id = m.flow_id "
                      "LEFT JOIN dicom_assoc a ON a.flow_id = f.id WHERE f.class = 'outbound' AND "
                      "m.command IN ('C-STORE-RQ', 'C-MOVE-RQ', 'C-GET-RQ') GROUP BY f.id, "
                      "m.command, m.move_destination ORDER BY f.id";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, sql, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && x->rc == PT_OK) {
        const char *called = col(st, 4), *cmd = col(st, 5), *move = col(st, 6);
        const char *target = strcmp(cmd, "C-MOVE-RQ") == 0 && move[0] ? move : called;
        if (ae_known(&x->c, target)) {
            continue;
        }
        char sum[512], det[400], ev[96], hb[32], t1[64], t2[64], t3[64];
        human((double)sqlite3_column_int64(st, 8), hb, sizeof hb);
        jesc(col(st, 3), t1, sizeof t1);
        jesc(called, t2, sizeof t2);
        jesc(move, t3, sizeof t3);
        snprintf(sum, sizeof sum,
                 "DICOM %s x%d from %s (AE %s) to %s (AE %s, not a known AE "
                 "title)%s%s, %s of data sets",
                 cmd, sqlite3_column_int(st, 7), col(st, 1), col(st, 3), col(st, 2), called,
                 move[0] ? ", move destination " : "", move, hb);
        snprintf(det, sizeof det,
                 "{\"command\":\"%s\",\"calling_ae\":\"%s\",\"called_ae\":\"%s\","
                 "\"move_destination\":\"%s\",\"messages\":%d}",
                 cmd, t1, t2, t3, sqlite3_column_int(st, 7));
        snprintf(ev, sizeof ev, "{\"flow\":[%lld]}", (long long)sqlite3_column_int64(st, 0));
        pt_verdict_finding(x, PT_HEUR_DICOM_OUTBOUND, col(st, 1), col(st, 2), "dicom",
                           sqlite3_column_int64(st, 9), sqlite3_column_int64(st, 10),
                           sqlite3_column_int64(st, 8), 0.7, sum, det, ev);
    }
    sqlite3_finalize(st);
}

void pt_heur_phi_outbound(struct pt_verdict_ctx *x)
{
    const char *sql =
        "SELECT " OBJ_SOURCE_SQL ", " OBJ_DEST_SQL ", o.protocol, o.sha256, o.size, o.name, o.ts, "
        /* an object's hits through its records (both indexed; phi_hit has no index by
         * object, and a scan of it per upload made the verdict grow with the square) */
        "p.phi_hits, p.hits, (SELECT group_concat(DISTINCT h.type) FROM phi_record hr CROSS JOIN "
        "phi_hit h ON h.record_id = hr.id WHERE hr.object_sha256 = o.sha256 AND h.phi_class = "
        "'PHI'), (SELECT count(DISTINCT r.entity_id) "
        "FROM phi_record r WHERE r.object_sha256 = o.sha256 AND r.entity_id IS NOT NULL), f.id "
        "FROM object o JOIN flow f ON f.id = o.flow_id JOIN phi_object p ON p.object_sha256 = "
        "o.sha256 WHERE o.direction = 'upload' AND p.phi_hits > 0 ORDER BY o.ts, o.sha256";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, sql, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && x->rc == PT_OK) {
        char sum[700], det[700], ev[200], hb[32], nm[300];
        human((double)sqlite3_column_int64(st, 4), hb, sizeof hb);
        jesc(col(st, 5), nm, sizeof nm);
        /* a tunnel payload is named by its domain, which the sentence gives already */
        const char *what = strcmp(col(st, 2), "dns-tunnel") == 0 ? "the payload of its queries"
                           : col(st, 5)[0]                       ? col(st, 5)
                                                                 : "an object";
        snprintf(sum, sizeof sum,
                 "PHI left the network: %s sent %s (%s, %s) to %s over %s: %d "
                 "PHI identifiers (%s) of %d individual(s)",
                 col(st, 0), what, hb, col(st, 3), col(st, 1), col(st, 2),
                 sqlite3_column_int(st, 7), col(st, 9), sqlite3_column_int(st, 10));
        snprintf(det, sizeof det,
                 "{\"object\":\"%s\",\"name\":\"%s\",\"size\":%lld,"
                 "\"phi_hits\":%d,\"phi_types\":\"%s\",\"individuals\":%d}",
                 col(st, 3), nm, (long long)sqlite3_column_int64(st, 4), sqlite3_column_int(st, 7),
                 col(st, 9), sqlite3_column_int(st, 10));
        snprintf(ev, sizeof ev, "{\"object\":[\"%s\"],\"flow\":[%lld]}", col(st, 3),
                 (long long)sqlite3_column_int64(st, 11));
        pt_verdict_finding(x, PT_HEUR_PHI_OUTBOUND, col(st, 0), col(st, 1), col(st, 2),
                           sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 6),
                           sqlite3_column_int64(st, 4), 1.0, sum, det, ev);
    }
    sqlite3_finalize(st);
}

void pt_heur_yara(struct pt_verdict_ctx *x)
{
    /* rules about exfiltration tooling, staging and extortion wherever the object was seen */
    const char *sql = "SELECT y.rule, y.category, y.severity, y.description, y.object_sha256, "
                      "min(o.name), min(o.ts), max(o.direction), min(o.flow_id) FROM yara_match y "
                      "JOIN object o ON o.sha256 = y.object_sha256 WHERE y.category IN "
                      "('exfiltration tool', 'staging', 'ransomware', 'malware') "
                      "GROUP BY y.rule, y.object_sha256 ORDER BY 7, 1";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->h, sql, -1, &st, NULL) != SQLITE_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && x->rc == PT_OK) {
        char sum[600], ev[200], det[800], ds[300];
        jesc(col(st, 3), ds, sizeof ds);
        snprintf(sum, sizeof sum, "YARA %s (%s): %s in %s (%s)", col(st, 0), col(st, 1), col(st, 3),
                 col(st, 5), col(st, 7));
        snprintf(det, sizeof det, "{\"rule\":\"%s\",\"category\":\"%s\",\"description\":\"%s\"}",
                 col(st, 0), col(st, 1), ds);
        snprintf(ev, sizeof ev, "{\"object\":[\"%s\"]}", col(st, 4));
        const char *sev = col(st, 2);
        double score = strcmp(sev, "critical") == 0 ? 0.9 : strcmp(sev, "high") == 0 ? 0.7 : 0.5;
        pt_verdict_finding(x, PT_HEUR_YARA, "", "", col(st, 1), sqlite3_column_int64(st, 6),
                           sqlite3_column_int64(st, 6), 0, score, sum, det, ev);
    }
    sqlite3_finalize(st);
}

/* Findings whose transfer began outside working hours (local time of the configured
 * offset): a supporting finding each. */
