/*
 * verdict_int.h - what the files of the verdict stage share: the thresholds, the run's
 * context, the heuristic table (heuristics.def) and the steps pt_verdict_run calls.
 * Private to analyzer/verdict/.
 */
#ifndef PT_VERDICT_INT_H
#define PT_VERDICT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "../core/human.h"
#include "../core/status.h"
#include "../store/q_verdict.h"

struct pt_db;

/* Thresholds of signatures/heuristics.conf (PT_THRESHOLD lines), the DICOM AE titles
 * allowed outside and the cloud endpoints (cloud_endpoints.txt). */
struct pt_heur_conf {
#define PT_HEURISTIC_FAMILY(family)
#define PT_HEURISTIC(id, name, role, bytes, mark)
#define PT_THRESHOLD(key) double key;
#include "heuristics.def"
#undef PT_HEURISTIC_FAMILY
#undef PT_HEURISTIC
#undef PT_THRESHOLD
    char known_ae_titles[1024];
    char cloud[256][80];
    size_t n_cloud;
    char phi_files[128][96]; /* phi_files.txt: names of PHI-bearing files (heur_file_access.c) */
    size_t n_phi_files;
};

/* The heuristics (PT_HEURISTIC lines): finding.heuristic values and their event roles. */
enum pt_heur {
#define PT_HEURISTIC_FAMILY(family)
#define PT_HEURISTIC(id, name, role, bytes, mark) PT_HEUR_##id,
#define PT_THRESHOLD(key)
#include "heuristics.def"
#undef PT_HEURISTIC_FAMILY
#undef PT_HEURISTIC
#undef PT_THRESHOLD
    PT_HEUR_COUNT
};

enum pt_heur_role {
    PT_HEUR_ROLE_EVENT,
    PT_HEUR_ROLE_SUPPORT,
    PT_HEUR_ROLE_HOST, /* joins every later event of its source host (events.c) */
    PT_HEUR_ROLE_ALONE,
};
enum pt_heur_mark {
    PT_HEUR_MARK_NONE,
    PT_HEUR_MARK_PHI_LEFT,
    PT_HEUR_MARK_TUNNEL,
    PT_HEUR_MARK_BEACON,
    PT_HEUR_MARK_CLOUD,
};

struct pt_heur_info {
    const char *name;
    enum pt_heur_role role;
    bool bytes; /* its bytes_out counts toward the event's */
    enum pt_heur_mark mark;
};

const struct pt_heur_info *pt_heur_info(enum pt_heur h);

/* One verdict run. */
struct pt_verdict_ctx {
    struct pt_db *db;
    struct pt_heur_conf c;
    struct pt_qv *ins; /* FINDING_PUT */
    unsigned findings;
    pt_status rc; /* the first failure; later findings are dropped */
    bool winhost; /* temp.winhost is built (winlog.c) */
    struct pt_dns_pre *dns; /* heur_dns.c: its groups read on a second thread, or NULL */
};

/* heur_dns.c: the DNS tunnel's groups read and counted on a second thread through a
 * connection of its own (what it reads is committed before the verdict), while the
 * heuristics before it run; pt_heur_dns_tunnel takes them in its turn, so the findings and
 * their order are the same. Without a thread (no file, no memory) it reads them itself.
 * pt_heur_dns_end joins and frees whatever is left. */
void pt_heur_dns_start(struct pt_verdict_ctx *x);
void pt_heur_dns_end(struct pt_verdict_ctx *x);

/* The heuristic families, in heuristics.def order. */
#define PT_HEURISTIC_FAMILY(family) void pt_heur_##family(struct pt_verdict_ctx *x);
#define PT_HEURISTIC(id, name, role, bytes, mark)
#define PT_THRESHOLD(key)
#include "heuristics.def"
#undef PT_HEURISTIC_FAMILY
#undef PT_HEURISTIC
#undef PT_THRESHOLD

/* config.c: the thresholds of `dir`/heuristics.conf and `dir`/cloud_endpoints.txt. */
pt_status pt_heur_conf_load(const char *dir, struct pt_heur_conf *c, char *err, size_t errlen);

/* verdict.c: write one finding of heuristic h (score 0..1 gives its severity; detail and
 * evidence JSON, "{}" when NULL). */
void pt_verdict_finding(struct pt_verdict_ctx *x, enum pt_heur h, const char *src, const char *dst,
                        const char *proto, int64_t first, int64_t last, int64_t bytes, double score,
                        const char *summary, const char *detail, const char *evidence);

/* events.c: exfiltration events from the findings, the verdict per destination and overall. */
pt_status pt_verdict_events(struct pt_verdict_ctx *x, char *err, size_t errlen);
/* names.c: what the evidence names each destination by (destination_name), and which
 * individuals were in which event (individual_event); after the events. */
pt_status pt_verdict_names(struct pt_verdict_ctx *x, char *err, size_t errlen);
/* limitations.c: the coverage rows and sentence, then the limitations. */
pt_status pt_verdict_coverage(struct pt_verdict_ctx *x, char *err, size_t errlen);
pt_status pt_verdict_limitations(struct pt_verdict_ctx *x, char *err, size_t errlen);
/* winlog.c: temp.winhost, the address of each Windows computer (store/q_winlog.h), once. */
bool pt_winlog_hosts(struct pt_verdict_ctx *x);



/* JSON-safe copy (quotes and control characters escaped) of s into out. */
static inline void jesc(const char *s, char *out, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; s[i] != '\0' && k + 7 < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            out[k++] = '\\';
            out[k++] = (char)ch;
        } else if (ch < 0x20) {
            k += (size_t)snprintf(out + k, len - k, "\\u%04x", ch);
        } else {
            out[k++] = (char)ch;
        }
    }
    out[k] = '\0';
}

/* A time (UTC microseconds) as ISO 8601 for a finding's words; 0 or less is not known. */
static inline void pt_verdict_iso(int64_t us, char out[32])
{
    if (us <= 0) {
        snprintf(out, 32, "an unknown time");
        return;
    }
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

#endif
