/*
 * heur_logon_explicit.c - explicit credentials toward another host (issue 14; lateral
 * movement, MITRE ATT&CK T1021 with T1078 valid accounts). A logon with explicit credentials
 * (4648: runas /netonly, net use with a password, PsExec, a scheduled task as another user)
 * whose target server is not the computer itself (its name or first label), not localhost
 * and not a loopback address is a finding on the host that used them: one per (computer,
 * acting account, account used, target server), with how many times, the process, the
 * target's address when the event gives it (its IpAddress: for 4648 the target's) and the
 * EVTX record identifiers. Source: the host (temp.winhost), else the computer's name;
 * destination: the target's address, else its name. Role HOST (events.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verdict_int.h"
#include "winlog.h"

struct expl {
    struct pt_winstate w; /* first: the run and the group */
    char computer[200], host[64], subject[200], account[200], server[200], target[64],
        process[300], file[600], logon_id[32];
};

static void flush(void *arg)
{
    struct expl *s = arg;
    if (s->w.g.n == 0) {
        return;
    }
    struct pt_winwords ww;
    char sum[4096], det[8192];
    char subj[400], acc[400], srv[400], proc[700], cmp[400], fl[1200], li[100];
    pt_winwords_of(&ww, &s->w.g, s->host, s->computer, s->file);
    snprintf(sum, sizeof sum, "explicit credentials on %s: %.200s used %.200s toward %.200s%s%s%s"
             "%s%.300s: %" PRId64 " time(s), %s%s%s; %s", ww.hw,
             s->subject[0] ? s->subject : "an unnamed account",
             s->account[0] ? s->account : "an unnamed account", s->server,
             s->target[0] ? " (" : "", s->target, s->target[0] ? ")" : "",
             s->process[0] ? " with " : "", s->process, s->w.g.n, ww.first,
             s->w.g.n > 1 ? " to " : "",
             s->w.g.n > 1 ? ww.last : "", ww.prov);
    jesc(s->subject, subj, sizeof subj);
    jesc(s->account, acc, sizeof acc);
    jesc(s->server, srv, sizeof srv);
    jesc(s->process, proc, sizeof proc);
    jesc(s->computer, cmp, sizeof cmp);
    jesc(s->file, fl, sizeof fl);
    jesc(s->logon_id, li, sizeof li);
    snprintf(det, sizeof det, "{\"computer\":\"%s\",\"host\":\"%s\",\"subject\":\"%s\","
             "\"account\":\"%s\",\"target_server\":\"%s\",\"target_addr\":\"%s\","
             "\"process\":\"%s\",\"logon_id\":\"%s\",\"times\":%" PRId64 ",\"records\":%s,"
             "\"file\":\"%s\"}",
             cmp, s->host, subj, acc, srv, s->target, proc, li, s->w.g.n, s->w.g.records,
             fl);
    pt_verdict_finding(s->w.x, PT_HEUR_EXPLICIT_CREDENTIALS, pt_winlog_source(s->host, s->computer),
                       s->target[0] ? s->target : s->server, "", s->w.g.first, s->w.g.last, 0, 0.4,
                       sum, det, ww.ev);
}

static void on_row(void *arg, const struct pt_q_winrow *r)
{
    struct expl *s = arg;
    char key[1200];
    snprintf(key, sizeof key, "%s|%s|%s|%s", r->s[3], r->s[5], r->s[6], r->s[7]);
    if (strcasecmp(key, s->w.g.key) != 0) {
        flush(s);
        pt_wingroup_start(&s->w.g, key);
        snprintf(s->computer, sizeof s->computer, "%s", r->s[3]);
        snprintf(s->host, sizeof s->host, "%s", r->s[4]);
        snprintf(s->subject, sizeof s->subject, "%s", r->s[5]);
        snprintf(s->account, sizeof s->account, "%s", r->s[6]);
        snprintf(s->server, sizeof s->server, "%s", r->s[7]);
        snprintf(s->target, sizeof s->target, "%s", r->s[8]);
        snprintf(s->process, sizeof s->process, "%s", r->s[9]);
        snprintf(s->file, sizeof s->file, "%s", r->s[10]);
        snprintf(s->logon_id, sizeof s->logon_id, "%s", r->s[11]);
    }
    pt_wingroup_add(&s->w.g, r->v[0], r->v[1], r->v[2]);
}

void pt_heur_explicit_credentials(struct pt_verdict_ctx *x)
{
    static const struct pt_winheur h = {sizeof(struct expl), PT_QW_EXPLICIT_LOGONS, NULL,
                                        on_row, flush, NULL};
    pt_winlog_run(x, &h, NULL, 0);
}
