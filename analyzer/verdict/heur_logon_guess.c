/*
 * heur_logon_guess.c - password guessing that succeeded (issue 14; MITRE ATT&CK T1110.001
 * password guessing, T1110.003 spraying). A successful logon (4624) for an account on a
 * computer, preceded in the logon_fail_window_s seconds before it by at least
 * logon_fail_burst failed logons (4625) from the same source (the client address, else the
 * workstation name) on the same computer, one of them for the same account, is a finding:
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

#include "../core/addr.h"
#include "verdict_int.h"
#include "winlog.h"

static void on_row(void *arg, const struct pt_q_winrow *r)
{
    struct pt_verdict_ctx *x = arg;
    const char *computer = r->s[3], *host = r->s[4], *account = r->s[5], *src = r->s[7];
    struct pt_addr a;
    bool is_addr = pt_addr_parse(src, &a);
    char hw[300], first[32], when[32], prov[700], sum[4096], det[4096], ev[2400];
    char acc[400], cmp[400], fl[1200], srcj[400], au[200], ws[400];
    struct pt_wingroup g = {.n = 0};
    pt_wingroup_start(&g, "");
    pt_wingroup_add(&g, r->v[0], r->v[1], r->v[2]);
    pt_winlog_host_words(hw, sizeof hw, host, computer);
    pt_winlog_iso(r->v[10], first);
    pt_winlog_iso(r->v[2], when);
    pt_winlog_prov(prov, sizeof prov, &g, r->s[13]);
    int64_t span = r->v[10] >= 0 ? (r->v[2] - r->v[10]) / 1000000 : -1;
    snprintf(sum, sizeof sum, "password guessing on %s: %" PRId64 " failed logons from %s%.200s "
             "from %s over %" PRId64 " s (%" PRId64 " account(s) tried), then %.200s logged on "
             "(type %" PRId64 ") at %s; the logon is %s, the failures records %.600s",
             hw, r->v[8], is_addr ? "" : "workstation ", src, first, span, r->v[9],
             account, r->v[6], when, prov, r->s[11]);
    jesc(account, acc, sizeof acc);
    jesc(computer, cmp, sizeof cmp);
    jesc(r->s[13], fl, sizeof fl);
    jesc(src, srcj, sizeof srcj);
    jesc(r->s[14], au, sizeof au);
    jesc(r->s[15], ws, sizeof ws);
    snprintf(det, sizeof det, "{\"computer\":\"%s\",\"host\":\"%s\",\"account\":\"%s\","
             "\"source\":\"%s\",\"logon_type\":%" PRId64 ",\"failures\":%" PRId64 ","
             "\"accounts_tried\":%" PRId64 ",\"first_failure_ts\":%" PRId64 ",\"seconds\":%"
             PRId64 ",\"logon_record\":%" PRId64 ",\"failure_records\":%s,\"auth_package\":"
             "\"%s\",\"workstation\":\"%s\",\"logon_fail_burst\":%g,\"logon_fail_window_s\":%g,"
             "\"file\":\"%s\"}",
             cmp, host, acc, srcj, r->v[6], r->v[8], r->v[9], r->v[10], span, r->v[1],
             r->s[11], au, ws, x->c.logon_fail_burst, x->c.logon_fail_window_s, fl);
    /* the logon first, then the failures (their ids: a JSON array "[...]") */
    snprintf(ev, sizeof ev, "{\"log_winevent\":[%" PRId64 "%s%.2000s}", r->v[0],
             strlen(r->s[12]) > 2 ? "," : "]", strlen(r->s[12]) > 2 ? r->s[12] + 1 : "");
    pt_verdict_finding(x, PT_HEUR_PASSWORD_GUESSING, pt_winlog_source(host, computer),
                       is_addr ? src : "", "", r->v[10] >= 0 ? r->v[10] : r->v[2], r->v[2], 0,
                       0.7, sum, det, ev);
}

void pt_heur_password_guessing(struct pt_verdict_ctx *x)
{
    if (!pt_winlog_hosts(x)) {
        return;
    }
    double p[2] = {x->c.logon_fail_burst, x->c.logon_fail_window_s};
    if (pt_q_winlog_rows(x->db, PT_QW_GUESSED_LOGONS, p, 2, on_row, x) != PT_OK) {
        x->rc = PT_EDB;
    }
}
