/*
 * heur_kerberoast.c - Kerberoasting (issue 14; MITRE ATT&CK T1558.003): one account asking a
 * domain controller for service tickets of many services in a weak encryption type, so as
 * to crack the services' passwords offline. A granted service ticket (4769, Status 0x0)
 * whose TicketEncryptionType is DES (0x1, 0x3) or RC4 (0x17, 0x18), for a service that is
 * neither krbtgt nor a computer account (name$), requested by an account that is not a
 * computer account: the first request of each (account, client address) with at least
 * kerberoast_services distinct services requested by them in the kerberoast_window_s
 * seconds up to it (on any domain controller of the case) makes a finding over the
 * kerberoast_window_s seconds from the first of those requests: its requests counted, the
 * services (counted; the first 20 by name), the encryption types, the controllers that
 * logged them, the record identifiers, and the weak requests of the pair in all. Service tickets in AES (0x11, 0x12) are the normal case and never count. The
 * thresholds and where they come from are in signatures/heuristics.conf. Source: the client
 * address (the host that asked; a stolen ticket is what it may have taken), else the
 * controller's host; destination: the controller's address when known. Role HOST (events.c):
 * credential access, not exfiltration; it adds its reason to the client's events, it makes
 * none.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../core/addr.h"
#include "verdict_int.h"
#include "winlog.h"

static void on_row(void *arg, const struct pt_q_winrow *r)
{
    struct pt_winstate *w = arg;
    struct pt_verdict_ctx *x = w->x;
    struct pt_addr a;
    const char *computer = r->s[3], *host = r->s[4], *src = r->s[7];
    bool is_addr = pt_addr_parse(src, &a);
    struct pt_wingroup g = {.n = 0};
    pt_wingroup_start(&g, "");
    g.n = r->v[8];
    g.record = r->v[1];
    g.first = r->v[10];
    g.last = r->v[6];
    snprintf(g.records, sizeof g.records, "%.*s", (int)(sizeof g.records - 1), r->s[11]);
    snprintf(g.ids, sizeof g.ids, "%.*s", (int)(sizeof g.ids - 1), r->s[12]);
    struct pt_winwords o;
    pt_winwords_of(&o, &g, host, computer, r->s[13]);
    char acc[400], cmp[400], fl[1200], srcj[400], sum[4096], det[8192];
    jesc(r->s[5], acc, sizeof acc);
    jesc(computer, cmp, sizeof cmp);
    jesc(r->s[13], fl, sizeof fl);
    jesc(src, srcj, sizeof srcj);
    snprintf(sum, sizeof sum, "Kerberoasting: %.200s%s%.200s requested %" PRId64 " service "
             "ticket(s) for %" PRId64 " distinct services in weak encryption (%s) from %s to %s "
             "on %s; %s", r->s[5], src[0] ? " from " : "", src, r->v[8], r->v[9], r->s[15],
             o.first, o.last, o.hw, o.prov);
    snprintf(det, sizeof det, "{\"computer\":\"%s\",\"host\":\"%s\",\"account\":\"%s\","
             "\"source\":\"%s\",\"requests\":%" PRId64 ",\"services_requested\":%" PRId64 ","
             "\"services\":%.3000s,\"encryption\":\"%s\",\"controllers\":%" PRId64 ","
             "\"weak_requests_total\":%" PRId64 ",\"first_ts\":%" PRId64 ",\"records\":%s,"
             "\"kerberoast_services\":%g,\"kerberoast_window_s\":%g,\"file\":\"%s\"}",
             cmp, host, acc, srcj, r->v[8], r->v[9], r->s[16], r->s[15], r->v[17], r->v[18],
             r->v[10], g.records, x->c.kerberoast_services, x->c.kerberoast_window_s, fl);
    pt_verdict_finding(x, PT_HEUR_KERBEROASTING, is_addr ? src : pt_winlog_source(host, computer),
                       is_addr ? host : "", "", r->v[10], r->v[6], 0,
                       0.7, sum, det, o.ev);
}

void pt_heur_kerberoasting(struct pt_verdict_ctx *x)
{
    static const struct pt_winheur h = {sizeof(struct pt_winstate), PT_QW_KERBEROAST, NULL,
                                        on_row, NULL, NULL};
    double p[2] = {x->c.kerberoast_services, x->c.kerberoast_window_s};
    pt_winlog_run(x, &h, p, 2);
}
