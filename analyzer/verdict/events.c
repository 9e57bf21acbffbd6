/*
 * events.c - exfiltration events per (inside host, destination) from the findings,
 * with the event rules of heuristics.def, and the verdict per destination and overall.
 */
#include <stdbool.h>
#include <stdio.h>

#include "../store/q_verdict.h"
#include "verdict_int.h"

enum pick { BYTES, PHI_LEFT, TUNNEL, BEACON, CLOUD, SHAPED, EVENT, HOST, NPICK };

static bool picked(const struct pt_heur_info *i, enum pick p)
{
    switch (p) {
        case BYTES: return i->bytes;
        case PHI_LEFT: return i->mark == PT_HEUR_MARK_PHI_LEFT;
        case TUNNEL: return i->mark == PT_HEUR_MARK_TUNNEL;
        case BEACON: return i->mark == PT_HEUR_MARK_BEACON;
        case CLOUD: return i->mark == PT_HEUR_MARK_CLOUD;
        case SHAPED: return i->role == PT_HEUR_ROLE_EVENT || i->role == PT_HEUR_ROLE_SUPPORT;
        case EVENT: return i->role == PT_HEUR_ROLE_EVENT;
        case HOST: return i->role == PT_HEUR_ROLE_HOST;
        case NPICK: break;
    }
    return false;
}

/* a,b,...: the names of the heuristics p picks ("" when none). */
static void names(char *out, size_t len, enum pick p)
{
    size_t k = 0;
    out[0] = '\0';
    for (int h = 0; h < PT_HEUR_COUNT; h++) {
        const struct pt_heur_info *i = pt_heur_info((enum pt_heur)h);
        if (picked(i, p) && k < len) {
            k += (size_t)snprintf(out + k, len - k, "%s%s", k ? "," : "", i->name);
        }
    }
}

/* Exfiltration-shaped findings per pair, with the roles of heuristics.def: the lists of
 * heuristic names are, in order, those whose bytes count, PHI_LEFT, TUNNEL, BEACON and
 * CLOUD marks, EVENT or SUPPORT roles, EVENT role (struct pt_qv_roles). */
static pt_status exfil_shaped(struct pt_verdict_ctx *x, char *err, size_t errlen)
{
    char l[NPICK][512];
    for (int p = 0; p < NPICK; p++) {
        names(l[p], sizeof l[p], (enum pick)p);
    }
    struct pt_qv_roles r = {.bytes = l[BYTES],
                            .phi_left = l[PHI_LEFT],
                            .tunnel = l[TUNNEL],
                            .beacon = l[BEACON],
                            .cloud = l[CLOUD],
                            .shaped = l[SHAPED],
                            .event = l[EVENT]};
    PT_TRY(pt_qv_event_pairs(x->db, &r, err, errlen));
    /* role HOST: the findings of a host before its event's end join each of its events */
    struct pt_qv *q = NULL;
    PT_TRY(pt_qv_open(x->db, PT_QV_EVENT_HOST_SUPPORT, &q));
    pt_qv_bind_text(q, 1, l[HOST]);
    pt_status rc = pt_qv_run(q);
    if (rc != PT_OK) {
        snprintf(err, errlen, "%s", pt_qv_errmsg(x->db));
    }
    pt_qv_free(q);
    return rc;
}

/* Events: one per (inside host, destination) with a finding that says "exfiltration
 * shape" or PHI leaving; supporting findings (ratio, after hours, yara, long connection to
 * a destination already in an event) add reasons. The verdict rules are SQL, in the open:
 * EVENT_INPUTS (the PHI each host held, the bytes per pair, how many hosts talked to each
 * destination), EVENT_UPLOADS and EVENTS of store/q_verdict.def. Before them, the encrypted
 * (TLS, SSH) and undecoded TCP channels between inside and outside addresses (CHANNELS, the
 * encrypted_channel rows the reports read). */
pt_status pt_verdict_events(struct pt_verdict_ctx *x, char *err, size_t errlen)
{
    PT_TRY(pt_qv_exec(x->db, PT_QV_CHANNELS, err, errlen));
    PT_TRY(exfil_shaped(x, err, errlen));
    PT_TRY(pt_qv_exec(x->db, PT_QV_EVENT_INPUTS, err, errlen));
    PT_TRY(pt_qv_exec(x->db, PT_QV_EVENT_UPLOADS, err, errlen));
    PT_TRY(pt_qv_events(x->db, x->c.likely_volume_ratio, x->c.rare_max_sources, err, errlen));
    /* the verdict per destination and overall */
    return pt_qv_exec(x->db, PT_QV_VERDICTS, err, errlen);
}
