/*
 * heur_logon_spray.c - password spraying that succeeded (issue 14; MITRE ATT&CK T1110.003,
 * detection strategy DET0487: failures across many accounts from one source, Windows events
 * 4625 and 4771). A success for an account (a logon, 4624, or a Kerberos TGT granted, 4768
 * with result 0x0) on any computer of the case, preceded in the spray_window_s seconds before
 * it by failures for at least spray_accounts distinct accounts, its own among them, from the
 * same source (the client address, else the workstation name) on any computer (a domain
 * controller's 4771 and 4768 and the member servers' 4625 are one attack), is a finding: the
 * first such success per (source, account), with the failures counted (the Kerberos ones
 * apart), the accounts tried (counted; the first 20 by name), the computers that logged the
 * failures, the first failure's time and the record identifiers. Failures: 4625, and 4771 or
 * 4768 with result 0x18 (bad password), 0x12 (disabled, expired, locked out) or 0x6 (no such
 * name); accounts compared without domain or realm; computer accounts (name$) left out. A
 * spray no success follows is no finding (it stays in log_winevent). The thresholds and where
 * they come from are in signatures/heuristics.conf. Source: the host of the success
 * (temp.winhost), else its computer's name; destination: the source address when it is one.
 * Role HOST (events.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "verdict_int.h"
#include "winlog.h"

static void on_row(void *arg, const struct pt_q_winrow *r)
{
    struct pt_winstate *w = arg;
    struct pt_verdict_ctx *x = w->x;
    struct pt_winburst b;
    char sum[4096], det[8192];
    pt_winburst_read(&b, r);
    snprintf(sum, sizeof sum, "password spraying from %s%.200s: %" PRId64 " failed logons or "
             "Kerberos pre-authentications (%" PRId64 " Kerberos) for %" PRId64 " accounts on %"
             PRId64 " computer(s) from %s over %" PRId64 " s, then %.200s %s on %s at %s; the "
             "success is %s, the failures records %.600s",
             b.is_addr ? "" : "workstation ", b.src, r->v[8], r->v[15], r->v[9], r->v[17],
             b.first, b.span, b.account, b.success, b.hw, b.when, b.prov, r->s[11]);
    snprintf(det, sizeof det, "{\"computer\":\"%s\",\"host\":\"%s\",\"account\":\"%s\","
             "\"source\":\"%s\",\"logon_type\":%" PRId64 ",\"success_event\":%" PRId64 ","
             "\"failures\":%" PRId64 ",\"kerberos_failures\":%" PRId64 ",\"accounts_tried\":%"
             PRId64 ",\"accounts\":%.2400s,\"failure_computers\":%" PRId64 ","
             "\"first_failure_ts\":%" PRId64 ",\"seconds\":%" PRId64 ",\"logon_record\":%"
             PRId64 ",\"failure_records\":%s,\"spray_accounts\":%g,\"spray_window_s\":%g,"
             "\"file\":\"%s\"}",
             b.cmp, b.host, b.acc, b.srcj, r->v[6], r->v[14], r->v[8], r->v[15], r->v[9],
             r->s[16], r->v[17], r->v[10], b.span, r->v[1], r->s[11], x->c.spray_accounts,
             x->c.spray_window_s, b.fl);
    pt_winburst_finding(x, PT_HEUR_PASSWORD_SPRAYING, &b, r, sum, det);
}

void pt_heur_password_spraying(struct pt_verdict_ctx *x)
{
    static const struct pt_winheur h = {sizeof(struct pt_winstate), PT_QW_SPRAYED_LOGONS, NULL,
                                        on_row, NULL, NULL};
    double p[2] = {x->c.spray_accounts, x->c.spray_window_s};
    pt_winlog_run(x, &h, p, 2);
}
