/*
 * q_verdict.h - the verdict stage's reads and writes of the case database (analyzer/verdict/),
 * by name. Every statement is a line of q_verdict.def, here in store/; a heuristic opens one,
 * binds its parameters, steps through its rows and reads their columns by position, and never
 * prepares SQL itself. The shared vocabulary is the views of schema.sql (crossing_flow,
 * crossing_pair, upload_object).
 */
#ifndef PT_STORE_Q_VERDICT_H
#define PT_STORE_Q_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_db;

enum pt_qv_name {
#define PT_QV(name, sql) PT_QV_##name,
#include "q_verdict.def"
#undef PT_QV
    PT_QV_COUNT
};

struct pt_qv;

/* Prepare statement `name` over the case; *out is owned (pt_qv_free). PT_EDB when it cannot
 * be (pt_db_errmsg says why). */
pt_status pt_qv_open(struct pt_db *db, enum pt_qv_name name, struct pt_qv **out);
/* Bind parameter `idx` (1-based) before the first step; text is copied. Unbound ones are
 * NULL. */
pt_status pt_qv_bind_int(struct pt_qv *q, int idx, int64_t v);
pt_status pt_qv_bind_double(struct pt_qv *q, int idx, double v);
pt_status pt_qv_bind_text(struct pt_qv *q, int idx, const char *s);
/* The next row: true while there is one. */
bool pt_qv_step(struct pt_qv *q);
/* Run a statement without rows (an INSERT) to its end, then clear it and its bindings for
 * the next use. */
pt_status pt_qv_run(struct pt_qv *q);
/* Columns of the current row (0-based); text is "" for NULL, borrowed until the next step. */
int64_t pt_qv_int(const struct pt_qv *q, int col);
double pt_qv_double(const struct pt_qv *q, int col);
const char *pt_qv_text(const struct pt_qv *q, int col);
/* NULL-safe. */
void pt_qv_free(struct pt_qv *q);

/* Run statement `name` whole (all its parts); SQLite's message to err on failure. */
pt_status pt_qv_exec(struct pt_db *db, enum pt_qv_name name, char *err, size_t errlen);
/* The first column of the first row of `name` as an integer, 0 when there is none. */
int64_t pt_qv_int1(struct pt_db *db, enum pt_qv_name name);
/* SQLite's last message on the case database. */
const char *pt_qv_errmsg(struct pt_db *db);

/* The heuristics of each role in the event rules (verdict/heuristics.def), each a list of
 * finding.heuristic names separated by commas ("" for none). */
struct pt_qv_roles {
    const char *bytes;                              /* whose bytes_out counts toward the event's */
    const char *phi_left, *tunnel, *beacon, *cloud; /* the marks */
    const char *shaped;                             /* role EVENT or SUPPORT */
    const char *event;                              /* role EVENT */
};
/* temp.ev: the exfiltration-shaped findings per pair (EVENT_PAIRS). */
pt_status pt_qv_event_pairs(struct pt_db *db, const struct pt_qv_roles *r, char *err,
                            size_t errlen);
/* exfil_event from temp.ev and the inputs (EVENTS): "likely" needs the bytes out to reach
 * `volume_ratio` times the PHI the source held, and a rare destination has at most
 * `rare_sources` sources. */
pt_status pt_qv_events(struct pt_db *db, double volume_ratio, double rare_sources, char *err,
                       size_t errlen);

/* The limitations (LIMITATIONS), after loading the anomaly vocabulary they read. */
pt_status pt_qv_limitations(struct pt_db *db, char *err, size_t errlen);

#endif
