/*
 * heur_logon_remote.c - remote logons from outside (issue 14: Windows logons weighed). A
 * successful logon (4624, log_winevent) of type 10 (RemoteInteractive: Remote Desktop) or 3
 * (Network: SMB, WinRM, ...) whose client address (IpAddress) is outside the case's home
 * network (--home-net, as the manifest keeps it; loopback, link-local and unspecified
 * addresses are never remote) is a finding on the host logged on to: one per (computer,
 * client address, logon type), with its distinct accounts (counted; the first 20 named, in
 * time order), how many logons, the first and last, the first logon's client port,
 * workstation name, authentication package and logon id, and the EVTX record identifiers.
 * Its source is the host's address (temp.winhost, store/q_winlog.h), else the computer's
 * name; its destination the client address. Role HOST: it joins every
 * later exfiltration event of that host (events.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/addr.h"
#include "../store/q_scale.h"
#include "verdict_int.h"
#include "winlog.h"

/* never a remote client, whatever the home network */
#define MAX_ACCOUNTS 20

#define NOT_REMOTE "127.0.0.0/8,::1/128,0.0.0.0/32,::/128,169.254.0.0/16,fe80::/10"

struct remote {
    struct pt_winstate w; /* first: the run and the group */
    struct pt_cidr_set home, local;
    char computer[200], host[64], account[200], client[64], workstation[200], auth[64],
        logon_id[32], file[600];
    char accounts[4200]; /* JSON array: the first MAX_ACCOUNTS distinct, in time order */
    char names[MAX_ACCOUNTS][200];
    size_t n_names;
    int64_t type, port, n_accounts; /* n_accounts: all distinct ones (the query counts) */
};

static void flush(void *arg)
{
    struct remote *s = arg;
    if (s->w.g.n == 0) {
        return;
    }
    struct pt_winwords ww;
    char sum[4096], det[12288];
    char ws[400], cmp[400], fl[1200], au[200], li[100];
    pt_winwords_of(&ww, &s->w.g, s->host, s->computer, s->file);
    const char *what = s->type == 10 ? "remote interactive logon (type 10, Remote Desktop)"
                                     : "network logon (type 3)";
    char port[32] = "";
    if (s->port > 0) {
        snprintf(port, sizeof port, " port %" PRId64, s->port);
    }
    char as[400];
    if (s->n_accounts > 1) {
        snprintf(as, sizeof as, "%" PRId64 " accounts (%.200s, ...)", s->n_accounts, s->account);
    } else {
        snprintf(as, sizeof as, "%.200s", s->account[0] ? s->account : "an unnamed account");
    }
    snprintf(sum, sizeof sum, "%s from %s%s%s%.200s to %s as %s%s%s: %" PRId64 " logon(s), "
             "%s%s%s; %s", what, s->client, port, s->workstation[0] ? ", workstation " : "",
             s->workstation, ww.hw, as, s->auth[0] ? " with " : "", s->auth, s->w.g.n, ww.first,
             s->w.g.n > 1 ? " to " : "", s->w.g.n > 1 ? ww.last : "", ww.prov);
    jesc(s->workstation, ws, sizeof ws);
    jesc(s->computer, cmp, sizeof cmp);
    jesc(s->file, fl, sizeof fl);
    jesc(s->auth, au, sizeof au);
    jesc(s->logon_id, li, sizeof li);
    snprintf(det, sizeof det, "{\"computer\":\"%s\",\"host\":\"%s\",\"accounts\":%s,"
             "\"logon_type\":%" PRId64 ",\"client\":\"%s\",\"client_port\":%" PRId64 ","
             "\"workstation\":\"%s\",\"auth_package\":\"%s\",\"logon_id\":\"%s\","
             "\"accounts_count\":%" PRId64 ",\"logons\":%" PRId64 ",\"records\":%s,"
             "\"file\":\"%s\"}",
             cmp, s->host, s->accounts, s->type, s->client, s->port, ws, au, li,
             s->n_accounts, s->w.g.n, s->w.g.records, fl);
    pt_verdict_finding(s->w.x, PT_HEUR_REMOTE_LOGON, pt_winlog_source(s->host, s->computer),
                       s->client, s->type == 10 ? "rdp" : "", s->w.g.first, s->w.g.last, 0,
                       s->type == 10 ? 0.6 : 0.4, sum, det, ww.ev);
}

/* An account not yet listed: listed, while there is room. */
static void add_account(struct remote *s, const char *account)
{
    for (size_t i = 0; i < s->n_names; i++) {
        if (strcasecmp(s->names[i], account) == 0) {
            return;
        }
    }
    if (s->n_names >= MAX_ACCOUNTS) {
        return;
    }
    snprintf(s->names[s->n_names++], sizeof s->names[0], "%s", account);
    char j[400];
    jesc(account, j, sizeof j);
    size_t k = strlen(s->accounts) - 1; /* over the ']' */
    snprintf(s->accounts + k, sizeof s->accounts - k, "%s\"%s\"]", s->n_names > 1 ? "," : "", j);
}

static void on_row(void *arg, const struct pt_q_winrow *r)
{
    struct remote *s = arg;
    struct pt_addr a;
    if (!pt_addr_parse(r->s[7], &a) || pt_cidr_set_contains(&s->home, &a) ||
        pt_cidr_set_contains(&s->local, &a)) {
        return;
    }
    char key[1200];
    snprintf(key, sizeof key, "%s|%s|%" PRId64, r->s[3], r->s[7], r->v[6]);
    if (strcasecmp(key, s->w.g.key) != 0) {
        flush(s);
        pt_wingroup_start(&s->w.g, key);
        snprintf(s->computer, sizeof s->computer, "%s", r->s[3]);
        snprintf(s->host, sizeof s->host, "%s", r->s[4]);
        snprintf(s->account, sizeof s->account, "%s", r->s[5]);
        s->type = r->v[6];
        snprintf(s->client, sizeof s->client, "%s", r->s[7]);
        s->port = r->v[8];
        snprintf(s->workstation, sizeof s->workstation, "%s", r->s[9]);
        snprintf(s->auth, sizeof s->auth, "%s", r->s[10]);
        snprintf(s->logon_id, sizeof s->logon_id, "%s", r->s[11]);
        snprintf(s->file, sizeof s->file, "%s", r->s[12]);
        snprintf(s->accounts, sizeof s->accounts, "[]");
        s->n_names = 0;
        s->n_accounts = r->v[13];
    }
    add_account(s, r->s[5]);
    pt_wingroup_add(&s->w.g, r->v[0], r->v[1], r->v[2]);
}

/* The home network (as the manifest keeps it, else the default) and the never-remote ranges */
static bool start(void *arg)
{
    struct remote *s = arg;
    char home[4096] = "", err[200];
    if (!pt_q_manifest_get(s->w.x->db, "home_net", home, sizeof home) ||
        pt_cidr_set_parse(home, &s->home, err, sizeof err) != PT_OK) {
        pt_cidr_set_parse(PT_HOME_NET_DEFAULT, &s->home, err, sizeof err);
    }
    pt_cidr_set_parse(NOT_REMOTE, &s->local, err, sizeof err);
    return true;
}

static void fini(void *arg)
{
    struct remote *s = arg;
    pt_cidr_set_fini(&s->home);
    pt_cidr_set_fini(&s->local);
}

void pt_heur_remote_logon(struct pt_verdict_ctx *x)
{
    static const struct pt_winheur h = {sizeof(struct remote), PT_QW_REMOTE_LOGONS, start,
                                        on_row, flush, fini};
    pt_winlog_run(x, &h, NULL, 0);
}
