/*
 * verdict.c - the verdict stage (see verdict.h): the heuristics of heuristics.def in their
 * order, then events, coverage and limitations, in one transaction (the timeline is a view
 * of what they wrote: store/schema.sql).
 * Thresholds: signatures/heuristics.conf (each with its source).
 *
 * Every heuristic reads aggregates of the database and writes `finding` rows with the
 * evidence they rest on (flow ids, object hashes, DNS names); nothing here reads evidence
 * files, so the same case gives the same verdict on every run. One file per heuristic
 * family (heur_*.c), events.c, limitations.c, config.c.
 */
#include "verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/q_verdict.h"
#include "../store/q_accessup.h"
#include "../store/q_staging.h"
#include "verdict_int.h"

/* ---- the heuristic table ---------------------------------------------------------------- */

static const struct pt_heur_info heuristics[PT_HEUR_COUNT] = {
#define PT_HEURISTIC_FAMILY(family)
#define PT_HEURISTIC(id, name, role, bytes, mark)                                                  \
    [PT_HEUR_##id] = {name, PT_HEUR_ROLE_##role, PT_HEUR_##bytes, PT_HEUR_MARK_##mark},
#define PT_THRESHOLD(key)
#define PT_HEUR_COUNTS true
#define PT_HEUR_NOBYTES false
#include "heuristics.def"
#undef PT_HEURISTIC_FAMILY
#undef PT_HEURISTIC
#undef PT_THRESHOLD
#undef PT_HEUR_COUNTS
#undef PT_HEUR_NOBYTES
};

const struct pt_heur_info *pt_heur_info(enum pt_heur h)
{
    return &heuristics[(unsigned)h < PT_HEUR_COUNT ? h : 0];
}

/* ---- helpers ---------------------------------------------------------------------------- */

const char *pt_verdict_name(enum pt_verdict_level v)
{
    static const char *const n[] = {"not observed", "possible", "likely", "confirmed"};
    return v <= PT_VERDICT_CONFIRMED ? n[v] : "?";
}

int pt_verdict_parse(const char *s)
{
    if (strcmp(s, "confirmed") == 0) {
        return PT_VERDICT_CONFIRMED;
    }
    if (strcmp(s, "likely") == 0) {
        return PT_VERDICT_LIKELY;
    }
    if (strcmp(s, "possible") == 0) {
        return PT_VERDICT_POSSIBLE;
    }
    if (strcmp(s, "not-observed") == 0 || strcmp(s, "not observed") == 0) {
        return PT_VERDICT_NOT_OBSERVED;
    }
    return -1;
}

static const char *severity(double score)
{
    return score > 0.8    ? "critical"
           : score >= 0.6 ? "high"
           : score >= 0.4 ? "medium"
           : score >= 0.2 ? "low"
                          : "info";
}

void pt_verdict_finding(struct pt_verdict_ctx *x, enum pt_heur h, const char *src, const char *dst,
                        const char *proto, int64_t first, int64_t last, int64_t bytes, double score,
                        const char *summary, const char *detail, const char *evidence)
{
    if (x->rc != PT_OK) {
        return;
    }
    struct pt_qv *q = x->ins;
    pt_qv_bind_text(q, 1, pt_heur_info(h)->name);
    pt_qv_bind_text(q, 2, src ? src : "");
    pt_qv_bind_text(q, 3, dst ? dst : "");
    pt_qv_bind_text(q, 4, proto ? proto : "");
    pt_qv_bind_int(q, 5, first);
    pt_qv_bind_int(q, 6, last);
    pt_qv_bind_int(q, 7, bytes);
    pt_qv_bind_double(q, 8, round(score * 1000) / 1000);
    pt_qv_bind_text(q, 9, severity(score));
    pt_qv_bind_text(q, 10, summary);
    pt_qv_bind_text(q, 11, detail ? detail : "{}");
    pt_qv_bind_text(q, 12, evidence ? evidence : "{}");
    if (pt_qv_run(q) != PT_OK) {
        x->rc = PT_EDB;
    }
    x->findings++;
}

/* ---- the sources each finding rests on -------------------------------------------------- */

/* detail.sources of every finding whose rows can be named: the flows of its pair (either
 * direction) as the capture and each log saw them (flow.source, flow_source.source), the DNS
 * queries of a tunnel (captured ones, log ones), a log's PHI access lines; and
 * detail.strongest_source, the one that saw most: a capture (content), then a sensor's log
 * (Zeek, Suricata: sessions), then a device's log (NetFlow, firewall, proxy: counts). The
 * statement is FINDING_SOURCES of store/q_verdict.def. */

/* ---- the stage -------------------------------------------------------------------------- */

pt_status pt_verdict_run(struct pt_db *db, const char *sig_dir, struct pt_verdict_result *res,
                         char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    struct pt_verdict_ctx *x = calloc(1, sizeof *x);
    if (x == NULL) {
        return PT_ENOMEM;
    }
    x->db = db;
    pt_status rc = pt_heur_conf_load(sig_dir, &x->c, err, errlen);
    if (rc != PT_OK) {
        free(x);
        return rc;
    }
    pt_heur_dns_start(x); /* the DNS groups on the second core meanwhile (verdict_int.h) */
    rc = pt_qv_exec(db, PT_QV_BEGIN, err, errlen);
    if (rc == PT_OK) {
        rc = pt_qv_exec(db, PT_QV_PAIRS_ONCE, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_qv_open(db, PT_QV_FINDING_PUT, &x->ins);
    }
    if (rc == PT_OK) {
#define PT_HEURISTIC_FAMILY(family) pt_heur_##family(x);
#define PT_HEURISTIC(id, name, role, bytes, mark)
#define PT_THRESHOLD(key)
#include "heuristics.def"
#undef PT_HEURISTIC_FAMILY
#undef PT_HEURISTIC
#undef PT_THRESHOLD
        rc = x->rc;
        if (rc != PT_OK) {
            snprintf(err, errlen, "heuristics: %s", pt_qv_errmsg(db));
        }
    }
    pt_qv_free(x->ins);
    pt_heur_dns_end(x);
    if (rc == PT_OK) {
        rc = pt_qv_exec(db, PT_QV_FINDING_SOURCES, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_verdict_events(x, err, errlen);
    }
    if (rc == PT_OK) { /* heur_staging.c: staged on the host, then sent: "likely" */
        rc = pt_q_staging_likely(x->db, err, errlen);
    }
    if (rc == PT_OK) { /* heur_accessup.c: PHI read in a log, then sent: "likely" */
        rc = pt_q_accessup_likely(x->db, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_verdict_names(x, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_verdict_coverage(x, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_verdict_limitations(x, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_qv_exec(db, PT_QV_COMMIT, err, errlen);
    } else {
        pt_qv_exec(db, PT_QV_ROLLBACK, NULL, 0);
    }
    res->findings = x->findings;
    free(x);
    if (rc == PT_OK) {
        rc = pt_verdict_read(db, &res->overall);
        res->events = (unsigned)pt_qv_int1(db, PT_QV_EVENT_COUNT);
    }
    return rc;
}

pt_status pt_verdict_read(struct pt_db *db, enum pt_verdict_level *out)
{
    struct pt_qv *q = NULL;
    *out = PT_VERDICT_NOT_OBSERVED;
    PT_TRY(pt_qv_open(db, PT_QV_OVERALL, &q));
    if (pt_qv_step(q)) {
        int v = pt_verdict_parse(pt_qv_text(q, 0));
        *out = v < 0 ? PT_VERDICT_NOT_OBSERVED : (enum pt_verdict_level)v;
    }
    pt_qv_free(q);
    return PT_OK;
}
