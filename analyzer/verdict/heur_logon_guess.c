/*
 * heur_logon_guess.c - password guessing that succeeded (issue 14; MITRE ATT&CK T1110.001
 * password guessing). A success for an account on a computer (a logon, 4624, or on a domain
 * controller a Kerberos TGT granted, 4768 with result 0x0), preceded in the
 * logon_fail_window_s seconds before it by at least logon_fail_burst failures (failed logons,
 * 4625; Kerberos pre-authentication failed, 4771, and refused TGT requests, 4768, with a
 * result code of a refused credential: 0x18, 0x12, 0x6) from the same source (the client
 * address, else the workstation name) on the same computer, one of them for the same account
 * (compared without domain or realm), is a finding unless it is a spray's
 * (heur_logon_spray.c: many accounts, that heuristic's finding instead):
 * the first such logon per (computer, source, account), with the failures counted, the
 * accounts tried, the first failure's time and the record identifiers of the failures and of
 * the logon. A burst of failures that no logon follows is no finding (an attack that did not
 * get in; it stays in log_winevent). The thresholds and where they come from are in
 * signatures/heuristics.conf. Source: the host (temp.winhost), else the computer's name;
 * destination: the source address when it is one. Role HOST (events.c).
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
    char sum[4096], det[4096], au[200], ws[400];
    pt_winburst_read(&b, r);
    snprintf(sum, sizeof sum, "password guessing on %s: %" PRId64 " failed logons from %s%.200s "
             "from %s over %" PRId64 " s (%" PRId64 " account(s) tried), then %.200s %s at %s; "
             "the success is %s, the failures records %.600s",
             b.hw, r->v[8], b.is_addr ? "" : "workstation ", b.src, b.first, b.span, r->v[9],
             b.account, b.success, b.when, b.prov, r->s[11]);
    jesc(r->s[15], au, sizeof au);
    jesc(r->s[16], ws, sizeof ws);
    snprintf(det, sizeof det, "{\"computer\":\"%s\",\"host\":\"%s\",\"account\":\"%s\","
             "\"source\":\"%s\",\"logon_type\":%" PRId64 ",\"success_event\":%" PRId64 ","
             "\"failures\":%" PRId64 ",\"accounts_tried\":%" PRId64 ",\"first_failure_ts\":%"
             PRId64 ",\"seconds\":%" PRId64 ",\"logon_record\":%" PRId64 ",\"failure_records\":"
             "%s,\"auth_package\":\"%s\",\"workstation\":\"%s\",\"logon_fail_burst\":%g,"
             "\"logon_fail_window_s\":%g,\"file\":\"%s\"}",
             b.cmp, b.host, b.acc, b.srcj, r->v[6], r->v[14], r->v[8], r->v[9], r->v[10], b.span,
             r->v[1], r->s[11], au, ws, x->c.logon_fail_burst, x->c.logon_fail_window_s, b.fl);
    pt_winburst_finding(x, PT_HEUR_PASSWORD_GUESSING, &b, r, sum, det);
}

void pt_heur_password_guessing(struct pt_verdict_ctx *x)
{
    static const struct pt_winheur h = {sizeof(struct pt_winstate), PT_QW_GUESSED_LOGONS, NULL,
                                        on_row, NULL, NULL};
    double p[4] = {x->c.logon_fail_burst, x->c.logon_fail_window_s, x->c.spray_accounts,
                   x->c.spray_window_s};
    pt_winlog_run(x, &h, p, 4);
}
