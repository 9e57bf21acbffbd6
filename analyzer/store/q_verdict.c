/*
 * q_verdict.c - the verdict stage's statements (see q_verdict.h and q_verdict.def).
 */
#include "q_verdict.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_handle.h"

/* (destination, kind, name, flow, ts) of every name an outbound flow carried, for
 * DESTINATION_NAMES. Names come only from outbound flows to the destination, so that a name
 * an outside client gave when it connected inwards never names the outside end: the envelope
 * recipients of SMTP, the Host of HTTP requests, the SNI and certificate subject of TLS, the
 * called AE title of DICOM associations, the user and the server greeting of FTP control
 * connections, and the owners of DNS A/AAAA answers that resolved to the address. */
#define NAMES_SQL                                                                                  \
    "WITH RECURSIVE rcpt(destination, flow, ts, name, rest) AS (SELECT f.server_addr, f.id, "      \
    "m.ts, '', m.rcpt_to || ',' FROM flow f JOIN smtp_message m ON m.flow_id = f.id WHERE "        \
    "f.class = 'outbound' AND m.rcpt_to IS NOT NULL UNION ALL SELECT destination, flow, ts, "      \
    "trim(substr(rest, 1, instr(rest, ',') - 1), ' <>'), substr(rest, instr(rest, ',') + 1) "      \
    "FROM rcpt WHERE rest != ''), "                                                                \
    "named(destination, kind, name, flow, ts) AS ("                                                \
    "SELECT destination, 'smtp_recipient', name, flow, ts FROM rcpt WHERE name != '' "             \
    "UNION ALL SELECT f.server_addr, 'http_host', h.host, f.id, h.ts FROM flow f JOIN http_txn "   \
    "h ON h.flow_id = f.id WHERE f.class = 'outbound' AND h.host IS NOT NULL "                     \
    "UNION ALL SELECT f.server_addr, 'tls_sni', t.sni, f.id, t.ts FROM flow f JOIN tls_session "   \
    "t ON t.flow_id = f.id WHERE f.class = 'outbound' AND t.sni IS NOT NULL "                      \
    "UNION ALL SELECT f.server_addr, 'tls_certificate', t.cert_subject, f.id, t.ts FROM flow f "   \
    "JOIN tls_session t ON t.flow_id = f.id WHERE f.class = 'outbound' AND t.cert_subject IS "     \
    "NOT NULL "                                                                                    \
    "UNION ALL SELECT f.server_addr, 'dicom_called_ae', trim(a.called_ae), f.id, a.ts FROM flow "  \
    "f JOIN dicom_assoc a ON a.flow_id = f.id WHERE f.class = 'outbound' AND a.called_ae IS NOT "  \
    "NULL "                                                                                        \
    "UNION ALL SELECT f.server_addr, 'ftp_user', x.user, f.id, x.ts FROM flow f JOIN "             \
    "ftp_transfer x ON x.ctl_flow = f.id WHERE f.class = 'outbound' AND x.user IS NOT NULL "       \
    "UNION ALL SELECT f.server_addr, 'ftp_server', trim(x.banner), f.id, x.ts FROM flow f JOIN "   \
    "ftp_transfer x ON x.ctl_flow = f.id WHERE f.class = 'outbound' AND x.banner IS NOT NULL "     \
    "UNION ALL SELECT d.data, 'dns_name', d.name, d.id, d.ts FROM dns_answer d WHERE d.decoded "   \
    "AND d.type IN (1, 28) AND d.data IN (SELECT server_addr FROM flow WHERE class = "             \
    "'outbound'))"

static const char *const sql[PT_QV_COUNT] = {
#define PT_QV(name, text) [PT_QV_##name] = text,
#include "q_verdict.def"
#undef PT_QV
};

struct pt_qv {
    sqlite3_stmt *st;
};

pt_status pt_qv_open(struct pt_db *db, enum pt_qv_name name, struct pt_qv **out)
{
    *out = NULL;
    if ((unsigned)name >= PT_QV_COUNT) {
        return PT_EINTERNAL;
    }
    struct pt_qv *q = calloc(1, sizeof *q);
    if (q == NULL) {
        return PT_ENOMEM;
    }
    if (sqlite3_prepare_v2(pt_db_handle(db), sql[name], -1, &q->st, NULL) != SQLITE_OK) {
        sqlite3_finalize(q->st);
        free(q);
        return PT_EDB;
    }
    *out = q;
    return PT_OK;
}

pt_status pt_qv_bind_int(struct pt_qv *q, int idx, int64_t v)
{
    return sqlite3_bind_int64(q->st, idx, v) == SQLITE_OK ? PT_OK : PT_EDB;
}

pt_status pt_qv_bind_double(struct pt_qv *q, int idx, double v)
{
    return sqlite3_bind_double(q->st, idx, v) == SQLITE_OK ? PT_OK : PT_EDB;
}

pt_status pt_qv_bind_text(struct pt_qv *q, int idx, const char *s)
{
    return sqlite3_bind_text(q->st, idx, s, -1, SQLITE_TRANSIENT) == SQLITE_OK ? PT_OK : PT_EDB;
}

bool pt_qv_step(struct pt_qv *q)
{
    return sqlite3_step(q->st) == SQLITE_ROW;
}

pt_status pt_qv_run(struct pt_qv *q)
{
    int rc = sqlite3_step(q->st);
    sqlite3_reset(q->st);
    sqlite3_clear_bindings(q->st);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

int64_t pt_qv_int(const struct pt_qv *q, int col)
{
    return sqlite3_column_int64(q->st, col);
}

double pt_qv_double(const struct pt_qv *q, int col)
{
    return sqlite3_column_double(q->st, col);
}

const char *pt_qv_text(const struct pt_qv *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q->st, col);
    return t ? (const char *)t : "";
}

void pt_qv_free(struct pt_qv *q)
{
    if (q != NULL) {
        sqlite3_finalize(q->st);
        free(q);
    }
}

pt_status pt_qv_exec(struct pt_db *db, enum pt_qv_name name, char *err, size_t errlen)
{
    if ((unsigned)name >= PT_QV_COUNT) {
        return PT_EINTERNAL;
    }
    return pt_db_exec(pt_db_handle(db), sql[name], err, errlen);
}

int64_t pt_qv_int1(struct pt_db *db, enum pt_qv_name name)
{
    return (unsigned)name < PT_QV_COUNT ? pt_db_int(pt_db_handle(db), sql[name]) : 0;
}

const char *pt_qv_errmsg(struct pt_db *db)
{
    return pt_db_errmsg(db);
}

pt_status pt_qv_limitations(struct pt_db *db, char *err, size_t errlen)
{
    PT_TRY(pt_db_anomaly_vocabulary(db));
    return pt_qv_exec(db, PT_QV_LIMITATIONS, err, errlen);
}

/* "a,b" as the JSON array ["a","b"] ("[]" when empty). */
static void json_list(const char *names, char *out, size_t len)
{
    size_t k = 0;
    bool open = false;
    out[k++] = '[';
    for (const char *p = names; *p != '\0' && k + 5 < len; p++) {
        if (*p == ',') {
            if (open) {
                out[k++] = '"';
            }
            open = false;
            continue;
        }
        if (!open) {
            if (k > 1) {
                out[k++] = ',';
            }
            out[k++] = '"';
            open = true;
        }
        if (*p == '"' || *p == '\\') {
            out[k++] = '\\';
        }
        out[k++] = *p;
    }
    if (open) {
        out[k++] = '"';
    }
    out[k++] = ']';
    out[k] = '\0';
}

pt_status pt_qv_event_pairs(struct pt_db *db, const struct pt_qv_roles *r, char *err, size_t errlen)
{
    const char *names[7] = {r->bytes, r->phi_left, r->tunnel, r->beacon,
                            r->cloud, r->shaped,   r->event};
    struct pt_qv *q = NULL;
    PT_TRY(pt_qv_open(db, PT_QV_EVENT_PAIRS, &q));
    for (int i = 0; i < 7; i++) {
        char l[1024];
        json_list(names[i] ? names[i] : "", l, sizeof l);
        pt_qv_bind_text(q, i + 1, l);
    }
    pt_status rc = pt_qv_run(q);
    if (rc != PT_OK) {
        snprintf(err, errlen, "%s", pt_db_errmsg(db));
    }
    pt_qv_free(q);
    return rc;
}

pt_status pt_qv_events(struct pt_db *db, double volume_ratio, double rare_sources, char *err,
                       size_t errlen)
{
    /* the thresholds as the rules always read them: the ratio to 6 decimals, the count whole */
    char v[64];
    snprintf(v, sizeof v, "%.6f", volume_ratio);
    struct pt_qv *q = NULL;
    PT_TRY(pt_qv_open(db, PT_QV_EVENTS, &q));
    pt_qv_bind_double(q, 1, strtod(v, NULL));
    pt_qv_bind_double(q, 2, nearbyint(rare_sources));
    pt_status rc = pt_qv_run(q);
    if (rc != PT_OK) {
        snprintf(err, errlen, "%s", pt_db_errmsg(db));
    }
    pt_qv_free(q);
    return rc;
}
