/*
 * winlog.c - what the Windows event log heuristics share (heur_logon_remote.c,
 * heur_logon_guess.c, heur_logon_explicit.c, heur_file_access.c): the address of each
 * computer (temp.winhost, store/q_winlog.h), built once a verdict run.
 */
#include "../store/q_scale.h"
#include "../store/q_winlog.h"
#include "verdict_int.h"

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
