/*
 * heur_file_access.c - an account read or wrote a PHI-bearing file (issue 14: Windows object
 * access weighed). An object access (4663, log_winevent) whose AccessMask reads (0x1
 * ReadData) or writes (0x2 WriteData, 0x4 AppendData) a file that is
 *   - a file found with PHI on a disk image of the case: by the path's tail (the Windows path
 *     without its drive ends with the file's path on the image), else by its name; or
 *   - named like a patient-data file (signatures/phi_files.txt, shell patterns),
 * becomes PHI access of its host, the way a web log line that names patients does: a
 * phi_access row (source 'evtx', line the EVTX record identifier, client the host's address
 * or else the computer's name, resp_bytes the image file's size), which the event rules read
 * as PHI the host held (EVENT_INPUTS' staged: "likely" when the host's later unread upload
 * covers it). And a finding per (computer, account, file): how it matched, the process, how
 * many reads and writes, the record identifiers. Source: the host (temp.winhost), else the
 * computer's name; no destination. Role HOST (events.c): "this account read the patient
 * export before the upload" is a reason of the host's upload event.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verdict_int.h"
#include "winlog.h"

struct acc {
    struct pt_winstate w; /* first: the run and the group */
    int64_t reads, writes;
    char computer[200], host[64], subject[200], process[300], object[600], file[600];
    char how[16], image[600], image_path[600], rule[96], types[300];
    int64_t size, individuals;
};

/* The pattern of phi_files.txt the path matches (lower case, '\' as '/'), or NULL. */
static const char *name_rule(const struct pt_heur_conf *c, const char *object)
{
    char p[1024];
    size_t n = 0;
    for (; object[n] != '\0' && n + 1 < sizeof p; n++) {
        p[n] = object[n] == '\\' ? '/' : (char)tolower((unsigned char)object[n]);
    }
    p[n] = '\0';
    const char *base = strrchr(p, '/') != NULL ? strrchr(p, '/') + 1 : p;
    for (size_t i = 0; i < c->n_phi_files; i++) {
        char pat[96];
        size_t k = 0;
        for (; c->phi_files[i][k] != '\0' && k + 1 < sizeof pat; k++) {
            pat[k] = (char)tolower((unsigned char)c->phi_files[i][k]);
        }
        pat[k] = '\0';
        if (fnmatch(pat, strchr(pat, '/') != NULL ? p : base, 0) == 0) {
            return c->phi_files[i];
        }
    }
    return NULL;
}

static void flush(void *arg)
{
    struct acc *s = arg;
    if (s->w.g.n == 0) {
        return;
    }
    struct pt_winwords ww;
    char why[1400], sum[4096], det[16384];
    char subj[400], proc[700], obj[1300], cmp[400], fl[1200], img[1200], ip[1200], rule[200];
    pt_winwords_of(&ww, &s->w.g, s->host, s->computer, s->file);
    if (s->how[0] != '\0') {
        snprintf(why, sizeof why, "a file with PHI%s%.0" PRId64 "%s on image %.300s as "
                 "%.400s, matched by %s", s->individuals > 0 ? " of " : "",
                 s->individuals > 0 ? s->individuals : 0,
                 s->individuals > 0 ? " individual(s)" : "", pt_winlog_base(s->image),
                 s->image_path, s->how);
    } else {
        snprintf(why, sizeof why, "named like a patient-data file (phi_files.txt: %s)", s->rule);
    }
    const char *verb = s->reads && s->writes ? "read and wrote" : s->reads ? "read" : "wrote";
    snprintf(sum, sizeof sum, "%.200s %s %.500s on %s%s%.300s: %s; %" PRId64 " access(es) "
             "from %s; %s", s->subject[0] ? s->subject : "an unnamed account", verb, s->object,
             ww.hw, s->process[0] ? " with " : "", s->process, why, s->w.g.n, ww.first, ww.prov);
    jesc(s->subject, subj, sizeof subj);
    jesc(s->process, proc, sizeof proc);
    jesc(s->object, obj, sizeof obj);
    jesc(s->computer, cmp, sizeof cmp);
    jesc(s->file, fl, sizeof fl);
    jesc(s->image, img, sizeof img);
    jesc(s->image_path, ip, sizeof ip);
    jesc(s->rule, rule, sizeof rule);
    snprintf(det, sizeof det, "{\"computer\":\"%s\",\"host\":\"%s\",\"account\":\"%s\","
             "\"process\":\"%s\",\"object\":\"%s\",\"matched\":\"%s\",\"image\":\"%s\","
             "\"image_path\":\"%s\",\"size\":%" PRId64 ",\"individuals\":%" PRId64 ","
             "\"phi_types\":\"%s\",\"rule\":\"%s\",\"reads\":%" PRId64 ",\"writes\":%" PRId64
             ",\"records\":%s,\"file\":\"%s\"}",
             cmp, s->host, subj, proc, obj, s->how[0] ? s->how : "rule", img, ip, s->size,
             s->individuals, s->types, rule, s->reads, s->writes, s->w.g.records, fl);
    pt_verdict_finding(s->w.x, PT_HEUR_PHI_FILE_ACCESS, pt_winlog_source(s->host, s->computer),
                       "", "", s->w.g.first, s->w.g.last, 0,
                       strcmp(s->how, "path") == 0 ? 0.6 : s->how[0] ? 0.5 : 0.4, sum, det, ww.ev);
}

static void start(struct acc *s, const struct pt_q_winrow *r, const char *key, const char *rule)
{
    flush(s);
    pt_wingroup_start(&s->w.g, key);
    s->reads = s->writes = 0;
    snprintf(s->computer, sizeof s->computer, "%s", r->s[3]);
    snprintf(s->host, sizeof s->host, "%s", r->s[4]);
    snprintf(s->subject, sizeof s->subject, "%s", r->s[5]);
    snprintf(s->process, sizeof s->process, "%s", r->s[6]);
    snprintf(s->object, sizeof s->object, "%s", r->s[7]);
    snprintf(s->file, sizeof s->file, "%s", r->s[10]);
    snprintf(s->how, sizeof s->how, "%s", r->s[11]);
    snprintf(s->image, sizeof s->image, "%s", r->s[12]);
    snprintf(s->image_path, sizeof s->image_path, "%s", r->s[13]);
    s->size = r->v[14];
    s->individuals = r->v[15];
    snprintf(s->types, sizeof s->types, "%s", r->s[16]);
    snprintf(s->rule, sizeof s->rule, "%s", rule != NULL ? rule : "");
}

static void on_row(void *arg, const struct pt_q_winrow *r)
{
    struct acc *s = arg;
    if (s->w.x->rc != PT_OK) {
        return;
    }
    char *end = NULL;
    unsigned long long mask = strtoull(r->s[8], &end, 16);
    bool rd = end != r->s[8] && (mask & 0x1), wr = end != r->s[8] && (mask & 0x6);
    const char *rule = r->s[11][0] == '\0' ? name_rule(&s->w.x->c, r->s[7]) : NULL;
    if ((!rd && !wr) || (r->s[11][0] == '\0' && rule == NULL)) {
        return;
    }
    char key[1400];
    snprintf(key, sizeof key, "%s|%s|%s", r->s[3], r->s[5], r->s[7]);
    if (strcasecmp(key, s->w.g.key) != 0) {
        start(s, r, key, rule);
    }
    pt_wingroup_add(&s->w.g, r->v[0], r->v[1], r->v[2]);
    s->reads += rd;
    s->writes += wr;
    struct pt_q_winaccess a = {
        .item_id = r->v[9], .line = r->v[1], .ts = r->v[2],
        .client = pt_winlog_source(r->s[4], r->s[3]), .computer = r->s[3],
        .method = rd && wr ? "read,write" : rd ? "read" : "write", .phi_types = r->s[16],
        .bytes = r->s[11][0] != '\0' ? r->v[14] : 0, .hits = r->s[11][0] != '\0',
        .individuals = r->v[15]};
    if (pt_q_winlog_phi_access(s->w.x->db, &a) != PT_OK) {
        s->w.x->rc = PT_EDB;
    }
}

void pt_heur_phi_file_access(struct pt_verdict_ctx *x)
{
    static const struct pt_winheur h = {sizeof(struct acc), PT_QW_FILE_ACCESS, NULL, on_row,
                                        flush, NULL};
    pt_winlog_run(x, &h, NULL, 0);
}
