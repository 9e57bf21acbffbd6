/*
 * winlog.h - helpers of the Windows event log heuristics (heur_logon_*.c,
 * heur_file_access.c): a group of records that make one finding, and the words of a summary.
 * Private to analyzer/verdict/.
 */
#ifndef PT_VERDICT_WINLOG_H
#define PT_VERDICT_WINLOG_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../store/q_winlog.h"
#include "verdict_int.h"

#define PT_WINGROUP_LIST 50 /* record identifiers and row ids named per finding */

/* Records with one key, in time order: how many, the first and last time, the first
 * PT_WINGROUP_LIST record identifiers and log_winevent ids (JSON arrays). */
struct pt_wingroup {
    char key[1400];
    int64_t n, first, last, record; /* record: the first's identifier */
    char records[PT_WINGROUP_LIST * 21 + 3], ids[PT_WINGROUP_LIST * 21 + 3];
    size_t nr, ni;
};

static inline void pt_wingroup_start(struct pt_wingroup *g, const char *key)
{
    snprintf(g->key, sizeof g->key, "%s", key);
    g->n = 0;
    g->first = g->last = -1;
    g->nr = g->ni = 0;
    snprintf(g->records, sizeof g->records, "[]");
    snprintf(g->ids, sizeof g->ids, "[]");
}

static inline void pt_wingroup_list(char *l, size_t cap, size_t *used, int64_t v)
{
    if (*used >= PT_WINGROUP_LIST) {
        return;
    }
    size_t k = strlen(l) - 1; /* over the ']' */
    snprintf(l + k, cap - k, "%s%" PRId64 "]", *used ? "," : "", v);
    (*used)++;
}

/* What every Windows log heuristic's state begins with: the run, and the group of records
 * that makes its finding being gathered. */
struct pt_winstate {
    struct pt_verdict_ctx *x;
    struct pt_wingroup g;
};

/* A heuristic over one query of store/q_winlog.h (winlog.c runs it): its state is `size`
 * bytes, zeroed, beginning with a struct pt_winstate; start (NULL: none) prepares it and
 * may fail (the run's rc set), row sees each row, flush follows the last (NULL: none), fini
 * (NULL: none) releases what start took. */
struct pt_winheur {
    size_t size;
    enum pt_q_winlog q;
    bool (*start)(void *s);
    void (*row)(void *s, const struct pt_q_winrow *r);
    void (*flush)(void *s);
    void (*fini)(void *s);
};

/* Run h over its query, with parameters p[0..np), once the hosts are known
 * (pt_winlog_hosts); a failure is the run's rc. */
void pt_winlog_run(struct pt_verdict_ctx *x, const struct pt_winheur *h, const double *p,
                   size_t np);

/* One record: its log_winevent id, record identifier and time (-1 unknown). */
static inline void pt_wingroup_add(struct pt_wingroup *g, int64_t id, int64_t record, int64_t ts)
{
    if (g->n++ == 0) {
        g->record = record;
    }
    if (ts >= 0) {
        g->first = g->first < 0 || ts < g->first ? ts : g->first;
        g->last = ts > g->last ? ts : g->last;
    }
    pt_wingroup_list(g->records, sizeof g->records, &g->nr, record);
    pt_wingroup_list(g->ids, sizeof g->ids, &g->ni, id);
}

/* The host a record is of: its address (temp.winhost), else its computer's name. */
static inline const char *pt_winlog_source(const char *addr, const char *computer)
{
    return addr[0] != '\0' ? addr : computer;
}

/* "WS07.hosp.local (10.2.0.7)", or the name alone when no address is known. */
static inline void pt_winlog_host_words(char *out, size_t cap, const char *addr,
                                        const char *computer)
{
    if (addr[0] != '\0' && computer[0] != '\0') {
        snprintf(out, cap, "%.200s (%s)", computer, addr);
    } else {
        snprintf(out, cap, "%.200s", addr[0] != '\0' ? addr : computer[0] ? computer : "an "
                                                                            "unnamed computer");
    }
}

/* The file's name from its path. */
static inline const char *pt_winlog_base(const char *path)
{
    const char *b = strrchr(path, '/');
    return b != NULL ? b + 1 : path;
}

/* A success after a burst of failures (heur_logon_guess.c, heur_logon_spray.c: a row of
 * PT_QW_GUESSED_LOGONS or PT_QW_SPRAYED_LOGONS, whose columns 0-14 are alike), in words
 * and JSON: the host, the first failure's and the success's times, the success's
 * provenance and what it was ("logged on (type 10)", "was granted a Kerberos TGT (4768)"),
 * the seconds from the first failure, the evidence (the success's row id, then the
 * failures'), and the JSON-escaped account, computer, file and source. */
struct pt_winburst {
    const char *computer, *host, *account, *src;
    bool is_addr; /* src is an address */
    int64_t span;
    char hw[300], first[32], when[32], prov[700], success[120], ev[2400];
    char acc[400], cmp[400], fl[1200], srcj[400];
};
void pt_winburst_read(struct pt_winburst *b, const struct pt_q_winrow *r);
/* Its finding (heuristic h, score 0.7): source the host, else the computer; destination the
 * source when an address; from the first failure (else the success) to the success. */
void pt_winburst_finding(struct pt_verdict_ctx *x, enum pt_heur h, const struct pt_winburst *b,
                         const struct pt_q_winrow *r, const char *sum, const char *det);

/* "EVTX record 12 of Security.evtx" / "EVTX records 12, 13, ... (5) of Security.evtx" */
static inline void pt_winlog_prov(char *out, size_t cap, const struct pt_wingroup *g,
                                  const char *file)
{
    if (g->n == 1) {
        snprintf(out, cap, "EVTX record %" PRId64 " of %.200s", g->record, pt_winlog_base(file));
        return;
    }
    snprintf(out, cap, "EVTX records %.300s%s (%" PRId64 ") of %.200s", g->records,
             g->n > PT_WINGROUP_LIST ? "..." : "", g->n, pt_winlog_base(file));
}

/* The words of a group's finding: its host's, its first and last times, its provenance and
 * its evidence ({"log_winevent":[ids]}). */
struct pt_winwords {
    char hw[300], first[32], last[32], prov[700], ev[1200];
};
void pt_winwords_of(struct pt_winwords *o, const struct pt_wingroup *g, const char *host,
                    const char *computer, const char *file);

#endif
