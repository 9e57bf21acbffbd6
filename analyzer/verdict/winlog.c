/*
 * winlog.c - what the Windows event log heuristics share (heur_logon_remote.c,
 * heur_logon_guess.c, heur_logon_spray.c, heur_logon_explicit.c, heur_file_access.c): the
 * address of each computer (temp.winhost, store/q_winlog.h), built once a verdict run, and
 * the run of one heuristic over its query (winlog.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../core/addr.h"

#include "../store/q_scale.h"
#include "../store/q_winlog.h"
#include "verdict_int.h"
#include "winlog.h"

bool pt_winlog_hosts(struct pt_verdict_ctx *x)
{
    if (x->rc != PT_OK) {
        return false;
    }
    if (!x->winhost) {
        char home[4096] = "";
        if (!pt_q_manifest_get(x->db, "home_net", home, sizeof home)) {
            home[0] = '\0'; /* the default home network */
        }
        if (pt_q_winlog_hosts(x->db, home) != PT_OK) {
            x->rc = PT_EDB;
            return false;
        }
        x->winhost = true;
    }
    return true;
}

void pt_winlog_run(struct pt_verdict_ctx *x, const struct pt_winheur *h, const double *p,
                   size_t np)
{
    if (!pt_winlog_hosts(x)) {
        return;
    }
    struct pt_winstate *s = calloc(1, h->size);
    if (s == NULL) {
        x->rc = PT_ENOMEM;
        return;
    }
    s->x = x;
    pt_wingroup_start(&s->g, "");
    if (h->start == NULL || h->start(s)) {
        if (pt_q_winlog_rows(x->db, h->q, p, np, h->row, s) != PT_OK) {
            x->rc = PT_EDB;
        } else if (h->flush != NULL) {
            h->flush(s);
        }
        if (h->fini != NULL) {
            h->fini(s);
        }
    }
    free(s);
}

void pt_winburst_read(struct pt_winburst *b, const struct pt_q_winrow *r)
{
    struct pt_addr a;
    b->computer = r->s[3];
    b->host = r->s[4];
    b->account = r->s[5];
    b->src = r->s[7];
    b->is_addr = pt_addr_parse(b->src, &a);
    struct pt_wingroup g = {.n = 0};
    pt_wingroup_start(&g, "");
    pt_wingroup_add(&g, r->v[0], r->v[1], r->v[2]);
    pt_winlog_host_words(b->hw, sizeof b->hw, b->host, b->computer);
    pt_verdict_iso(r->v[10], b->first);
    pt_verdict_iso(r->v[2], b->when);
    pt_winlog_prov(b->prov, sizeof b->prov, &g, r->s[13]);
    if (r->v[14] == 4768) {
        snprintf(b->success, sizeof b->success, "was granted a Kerberos TGT (4768)");
    } else {
        snprintf(b->success, sizeof b->success, "logged on (type %" PRId64 ")", r->v[6]);
    }
    b->span = r->v[10] >= 0 ? (r->v[2] - r->v[10]) / 1000000 : -1;
    jesc(b->account, b->acc, sizeof b->acc);
    jesc(b->computer, b->cmp, sizeof b->cmp);
    jesc(r->s[13], b->fl, sizeof b->fl);
    jesc(b->src, b->srcj, sizeof b->srcj);
    /* the success first, then the failures (their ids: a JSON array "[...]") */
    snprintf(b->ev, sizeof b->ev, "{\"log_winevent\":[%" PRId64 "%s%.2000s}", r->v[0],
             strlen(r->s[12]) > 2 ? "," : "]", strlen(r->s[12]) > 2 ? r->s[12] + 1 : "");
}

void pt_winburst_finding(struct pt_verdict_ctx *x, enum pt_heur h, const struct pt_winburst *b,
                         const struct pt_q_winrow *r, const char *sum, const char *det)
{
    pt_verdict_finding(x, h, pt_winlog_source(b->host, b->computer), b->is_addr ? b->src : "",
                       "", r->v[10] >= 0 ? r->v[10] : r->v[2], r->v[2], 0, 0.7, sum, det,
                       b->ev);
}

void pt_winwords_of(struct pt_winwords *o, const struct pt_wingroup *g, const char *host,
                    const char *computer, const char *file)
{
    pt_winlog_host_words(o->hw, sizeof o->hw, host, computer);
    pt_verdict_iso(g->first, o->first);
    pt_verdict_iso(g->last, o->last);
    pt_winlog_prov(o->prov, sizeof o->prov, g, file);
    snprintf(o->ev, sizeof o->ev, "{\"log_winevent\":%s}", g->ids);
}
