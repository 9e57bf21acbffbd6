/*
 * evtx.c - the lines of the libevtx reader into rows (evtx.h); the reader's process is
 * evtx_run.c, the reader evtx_child.c.
 *
 * A record's fields are read from libevtx's XML rendering by name (<Data Name="...">), not by
 * position, so the versions of an event (4624 v0 to v2 add fields) read alike; a field an
 * event does not carry stays "" (or -1). Values are decoded XML text, cut to the row's sizes.
 * The script text of a 4104 event is counted, not stored (it may name patients).
 */
#include "evtx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/addr.h"
#include "xmltag.h"

#define FT_EPOCH 116444736000000000LL /* 1601-01-01 to 1970-01-01 in 100 ns units */

/* The EventData fields read. */
enum wf {
    W_SUBJ_USER, W_SUBJ_DOM, W_TGT_USER, W_TGT_DOM, W_LOGON_TYPE, W_IP, W_IP_PORT, W_PROCESS,
    W_NEW_PROCESS, W_PARENT, W_CMD, W_OBJECT, W_MASK, W_STATUS, W_SUBSTATUS, W_TGT_SERVER,
    W_SB_TEXT, W_SB_ID, W_PATH, W_MSG_NUM, W_MSG_TOTAL, W_APP, W_DIRECTION, W_SRC, W_SPORT,
    W_DST, W_DPORT, W_PROTO, W_WORKSTATION, W_TGT_LOGON_ID, W_SUBJ_LOGON_ID, W_AUTH_PKG,
    W_SERVICE, W_TICKET_ENC, W_COUNT
};

static const char *const wname[W_COUNT] = {
    "SubjectUserName", "SubjectDomainName", "TargetUserName", "TargetDomainName", "LogonType",
    "IpAddress", "IpPort", "ProcessName", "NewProcessName", "ParentProcessName", "CommandLine",
    "ObjectName", "AccessMask", "Status", "SubStatus", "TargetServerName", "ScriptBlockText",
    "ScriptBlockId", "Path", "MessageNumber", "MessageTotal", "Application", "Direction",
    "SourceAddress", "SourcePort", "DestAddress", "DestPort", "Protocol", "WorkstationName",
    "TargetLogonId", "SubjectLogonId", "AuthenticationPackageName", "ServiceName",
    "TicketEncryptionType",
};

struct evrec {
    char provider[96], channel[64], computer[128], sid[80];
    char v[W_COUNT][1024];
    bool has[W_COUNT];
    int64_t sb_chars;
};

static void record_anom(struct pt_logparse *p, enum pt_anom kind, const char *fmt_detail)
{
    p->st.malformed++;
    if (p->st.malformed <= PT_LOG_ANOMALY_MAX && p->anom != NULL) {
        p->anom(p->arg, p->line_off, kind, fmt_detail);
    }
}

/* ---- the record's XML ------------------------------------------------------------------------ */

static void data_value(struct evrec *e, const struct pt_xmltag *t, const char *name)
{
    for (size_t i = 0; i < W_COUNT; i++) {
        if (strcmp(name, wname[i]) == 0) {
            e->has[i] = true;
            if (i == W_SB_TEXT) { /* counted as the script holds it, white space too; not kept */
                e->sb_chars = (int64_t)pt_xml_decode(t->text, t->text_len, e->v[i], 1);
            } else {
                pt_xmltag_text(t, e->v[i], sizeof e->v[i]);
            }
            return;
        }
    }
}

static void read_xml(struct evrec *e, const uint8_t *x, size_t n)
{
    struct pt_xmlscan sc;
    struct pt_xmltag t;
    pt_xmlscan_init(&sc, x, n);
    e->sb_chars = -1;
    while (pt_xmlscan_next(&sc, &t)) {
        if (t.closing) {
            continue;
        }
        if (strcmp(t.name, "Provider") == 0) {
            pt_xmltag_attr(&t, "Name", e->provider, sizeof e->provider);
        } else if (strcmp(t.name, "Channel") == 0) {
            pt_xmltag_text(&t, e->channel, sizeof e->channel);
        } else if (strcmp(t.name, "Computer") == 0) {
            pt_xmltag_text(&t, e->computer, sizeof e->computer);
        } else if (strcmp(t.name, "Security") == 0) {
            pt_xmltag_attr(&t, "UserID", e->sid, sizeof e->sid);
        } else if (strcmp(t.name, "Data") == 0 && !t.empty) {
            char name[64];
            if (pt_xmltag_attr(&t, "Name", name, sizeof name)) {
                data_value(e, &t, name);
            }
        }
    }
}

/* ---- values ------------------------------------------------------------------------------------ */

static void cpy(char *dst, size_t cap, const char *s)
{
    size_t n = strnlen(s, cap - 1);
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* "-" is Windows' word for none */
static const char *val(const struct evrec *e, enum wf f)
{
    return e->has[f] && strcmp(e->v[f], "-") != 0 ? e->v[f] : "";
}

static int64_t num(const char *s, int64_t max)
{
    if (*s == '\0') {
        return -1;
    }
    int64_t x = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || x > max) {
            return -1;
        }
        x = x * 10 + (*s - '0');
    }
    return x <= max ? x : -1;
}

static void user(char *out, size_t cap, const struct evrec *e, enum wf dom, enum wf usr)
{
    const char *d = val(e, dom), *u = val(e, usr);
    if (*u == '\0') {
        out[0] = '\0';
    } else if (*d != '\0' && strchr(u, '@') == NULL) { /* 4769: user@REALM already */
        snprintf(out, cap, "%s\\%s", d, u);
    } else {
        cpy(out, cap, u);
    }
}

/* An address as the flow tables write it ("::ffff:10.0.0.1" is 10.0.0.1); "" when none. */
static void address(const char *s, char out[PT_ADDR_STRLEN])
{
    struct pt_addr a;
    out[0] = '\0';
    if (*s != '\0' && pt_addr_parse(s, &a)) {
        pt_addr_str(&a, out);
    }
}

/* ---- rows ------------------------------------------------------------------------------------- */

static const char *winevt_kind(int32_t id)
{
    switch (id) {
        case 4624: return "logon";
        case 4625: return "logon_failed";
        case 4648: return "explicit_logon";
        case 4663: return "object_access";
        case 4688: return "process";
        case 4104: return "script_block";
        case 4768: return "kerberos_tgt";
        case 4769: return "kerberos_tgs";
        case 4771: return "kerberos_failed";
        default: return NULL;
    }
}

static bool kerberos(int32_t id)
{
    return id == 4768 || id == 4769 || id == 4771;
}

/* A Kerberos result code as "0x" and lower-case hex without leading zeros ("0x00000018" and
 * "0X18" are "0x18", as Windows mostly writes it); text that is not one is kept as written. */
static void result_code(const char *s, char *out, size_t cap)
{
    const char *h = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? s + 2 : NULL;
    unsigned long long v = 0;
    size_t k = 0;
    for (; h != NULL && h[k] != '\0' && k < 16; k++) {
        int d = h[k] >= '0' && h[k] <= '9' ? h[k] - '0' : h[k] >= 'a' && h[k] <= 'f'
                ? h[k] - 'a' + 10 : h[k] >= 'A' && h[k] <= 'F' ? h[k] - 'A' + 10 : -1;
        if (d < 0) {
            break;
        }
        v = v * 16 + (unsigned)d;
    }
    if (h != NULL && k > 0 && h[k] == '\0') {
        snprintf(out, cap, "0x%llx", v);
    } else {
        cpy(out, cap, s);
    }
}

static void winevt_row(struct pt_logparse *p, const struct pt_logprov *pv, int32_t id,
                       const struct evrec *e, bool recovered)
{
    struct pt_logwinevt_rec w;
    memset(&w, 0, sizeof w);
    w.p = *pv;
    w.event_id = id;
    w.recovered = recovered;
    cpy(w.kind, sizeof w.kind, winevt_kind(id));
    cpy(w.channel, sizeof w.channel, e->channel);
    cpy(w.computer, sizeof w.computer, e->computer);
    user(w.subject_user, sizeof w.subject_user, e, W_SUBJ_DOM, W_SUBJ_USER);
    if (w.subject_user[0] == '\0') {
        cpy(w.subject_user, sizeof w.subject_user, e->sid); /* 4104: the System's UserID */
    }
    user(w.target_user, sizeof w.target_user, e, W_TGT_DOM, W_TGT_USER);
    w.logon_type = (int32_t)num(val(e, W_LOGON_TYPE), 99);
    address(val(e, W_IP), w.client);
    int64_t port = num(val(e, W_IP_PORT), 65535);
    w.cport = w.client[0] != '\0' && port > 0 ? (int32_t)port : -1;
    cpy(w.target_server, sizeof w.target_server, val(e, W_TGT_SERVER));
    cpy(w.workstation, sizeof w.workstation, val(e, W_WORKSTATION));
    /* the session the logon made (4624), else the acting one's (4648, 4663, 4688) */
    cpy(w.logon_id, sizeof w.logon_id,
        *val(e, W_TGT_LOGON_ID) != '\0' ? val(e, W_TGT_LOGON_ID) : val(e, W_SUBJ_LOGON_ID));
    cpy(w.auth_package, sizeof w.auth_package, val(e, W_AUTH_PKG));
    cpy(w.process, sizeof w.process, id == 4688 ? val(e, W_NEW_PROCESS) : val(e, W_PROCESS));
    cpy(w.parent, sizeof w.parent, val(e, W_PARENT));
    cpy(w.object, sizeof w.object, id == 4104 ? val(e, W_PATH) : val(e, W_OBJECT));
    if (id == 4625) {
        snprintf(w.access, sizeof w.access, "%.30s%s%.30s", val(e, W_STATUS),
                 *val(e, W_SUBSTATUS) ? "/" : "", val(e, W_SUBSTATUS));
    } else if (kerberos(id)) {
        cpy(w.target_server, sizeof w.target_server, val(e, W_SERVICE));
        result_code(val(e, W_STATUS), w.access, sizeof w.access);
        if (id != 4771) { /* 4768/4769: the ticket's etype, 0x17 RC4-HMAC, 0x12 AES256 ... */
            result_code(val(e, W_TICKET_ENC), w.ticket_enc, sizeof w.ticket_enc);
        }
    } else {
        cpy(w.access, sizeof w.access, val(e, W_MASK));
    }
    cpy(w.command, sizeof w.command, val(e, W_CMD));
    cpy(w.script_id, sizeof w.script_id, val(e, W_SB_ID));
    w.part = (int32_t)num(val(e, W_MSG_NUM), 1000000);
    w.parts = (int32_t)num(val(e, W_MSG_TOTAL), 1000000);
    w.script_chars = id == 4104 ? e->sb_chars : -1;
    p->st.winevt++;
    p->st.records++;
    p->rec(p->arg, PT_LOGREC_WINEVT, &w);
}

/* 5156/5157: the Windows Filtering Platform permitted / blocked a connection. Source is the
 * local end, Destination the remote one (Microsoft's event documentation), so an inbound
 * connection's client is the Destination. */
static bool wfp_row(struct pt_logparse *p, const struct pt_logprov *pv, int32_t id,
                    const struct evrec *e)
{
    struct pt_logconn_rec c;
    memset(&c, 0, sizeof c);
    c.p = *pv;
    c.p.source = "evtx";
    c.dur_us = c.c_bytes = c.s_bytes = c.c_ip_bytes = c.s_ip_bytes = -1;
    c.c_frame_bytes = c.s_frame_bytes = c.c_pkts = c.s_pkts = -1;
    const char *dir = val(e, W_DIRECTION);
    bool in = strcmp(dir, "%%14592") == 0 || strcmp(dir, "Inbound") == 0;
    bool out = strcmp(dir, "%%14593") == 0 || strcmp(dir, "Outbound") == 0;
    char src[PT_ADDR_STRLEN], dst[PT_ADDR_STRLEN];
    address(val(e, W_SRC), src);
    address(val(e, W_DST), dst);
    int64_t sp = num(val(e, W_SPORT), 65535), dp = num(val(e, W_DPORT), 65535);
    int64_t pr = num(val(e, W_PROTO), 255);
    if ((!in && !out) || src[0] == '\0' || dst[0] == '\0' || pr < 0) {
        return false;
    }
    cpy(c.client, sizeof c.client, in ? dst : src);
    cpy(c.server, sizeof c.server, in ? src : dst);
    c.cport = (int32_t)(in ? dp : sp);
    c.sport = (int32_t)(in ? sp : dp);
    snprintf(c.proto, sizeof c.proto, "%s", pr == 6 ? "tcp" : pr == 17 ? "udp" : pr == 1 ? "icmp"
                                             : pr == 58 ? "icmp6" : "");
    if (c.proto[0] == '\0') {
        snprintf(c.proto, sizeof c.proto, "%d", (int)pr);
    }
    cpy(c.state, sizeof c.state, id == 5157 ? "blocked" : "allowed");
    const char *app = val(e, W_APP), *base = strrchr(app, '\\');
    cpy(c.service, sizeof c.service, base != NULL ? base + 1 : app);
    p->st.conn++;
    p->st.records++;
    p->rec(p->arg, PT_LOGREC_CONN, &c);
    return true;
}

static void count_other(struct pt_evtx_other *o, uint32_t id)
{
    for (size_t i = 0; i < o->used; i++) {
        if (o->id[i] == id) {
            o->n[i]++;
            return;
        }
    }
    if (o->used < PT_EVTX_OTHER_IDS) {
        o->id[o->used] = id;
        o->n[o->used++] = 1;
    } else {
        o->rest++;
    }
}

/* ---- the reader's lines --------------------------------------------------------------------- */

static size_t split(char *s, char **f, size_t max)
{
    size_t k = 0;
    f[k++] = s;
    while (k < max) {
        char *t = strchr(f[k - 1], '\t');
        if (t == NULL) {
            break;
        }
        *t = '\0';
        f[k++] = t + 1;
    }
    return k;
}

static void record_line(struct pt_logparse *p, char **f, bool recovered)
{
    int64_t off = num(f[2], INT64_MAX / 10), rid = num(f[3], INT64_MAX / 10);
    int64_t ft = num(f[4], INT64_MAX / 10), id = num(f[5], UINT32_MAX);
    if (off < 0 || rid < 0 || ft < 0 || id < 0) {
        record_anom(p, PT_ANOM_LOG_EVTX_RECORD, "evtx: a reader line whose numbers are not "
                                               "numbers");
        return;
    }
    struct evrec *e = calloc(1, sizeof *e);
    if (e == NULL) {
        record_anom(p, PT_ANOM_LOG_EVTX_RECORD, "evtx: out of memory for a record");
        return;
    }
    read_xml(e, (const uint8_t *)f[6], strlen(f[6]));
    struct pt_logprov pv = {.item = p->item, .line = (uint64_t)rid, .offset = (uint64_t)off,
                            .ts_us = ft > FT_EPOCH ? (ft - FT_EPOCH) / 10 : -1,
                            .source = recovered ? "evtx:recovered" : "evtx"};
    if (pv.ts_us >= 0) {
        p->lt.first = p->lt.stamped == 0 || pv.ts_us < p->lt.first ? pv.ts_us : p->lt.first;
        p->lt.last = p->lt.stamped == 0 || pv.ts_us > p->lt.last ? pv.ts_us : p->lt.last;
        p->lt.stamped++;
    }
    p->evtx.recovered += recovered;
    p->evtx.read += !recovered;
    if (winevt_kind((int32_t)id) != NULL) {
        winevt_row(p, &pv, (int32_t)id, e, recovered);
    } else if ((id == 5156 || id == 5157) && wfp_row(p, &pv, (int32_t)id, e)) {
        /* a connection */
    } else {
        if (id == 5156 || id == 5157) {
            char d[200];
            snprintf(d, sizeof d, "evtx record %lld (event %lld): a filtering platform "
                     "connection without its direction, addresses or protocol",
                     (long long)rid, (long long)id);
            record_anom(p, PT_ANOM_LOG_EVTX_RECORD, d);
        } else {
            p->st.other++;
            count_other(&p->evtx, (uint32_t)id);
        }
    }
    free(e);
}

void pt_evtx_line(struct pt_logparse *p, char *s, size_t n)
{
    (void)n;
    char *f[7];
    size_t k = split(s, f, 7);
    char d[400];
    if (k == 7 && (strcmp(f[0], "R") == 0 || strcmp(f[0], "X") == 0)) {
        record_line(p, f, f[0][0] == 'X');
    } else if (k >= 4 && strcmp(f[0], "F") == 0 && strcmp(f[2], "1") == 0) {
        /* a candidate libevtx saw in a chunk's free space: malformed, one note for all */
        p->st.malformed++;
        p->evtx.recovered_failed++;
    } else if (k >= 4 && strcmp(f[0], "F") == 0) {
        p->evtx.failed++;
        snprintf(d, sizeof d, "evtx: libevtx could not read record %s: %.300s", f[1], f[3]);
        record_anom(p, PT_ANOM_LOG_EVTX_RECORD, d);
    } else if (k >= 2 && strcmp(f[0], "C") == 0) {
        p->st.headers++;
        snprintf(d, sizeof d, "evtx: libevtx could not open the file: %.300s", f[1]);
        p->anom(p->arg, 0, PT_ANOM_LOG_EVTX_UNREADABLE, d);
    } else if (k >= 5 && strcmp(f[0], "H") == 0) {
        p->st.headers++;
        if (strcmp(f[4], "1") == 0) {
            snprintf(d, sizeof d, "evtx: libevtx marks the file corrupted (version %.16s, %.20s "
                     "records, %.20s recovered): damaged chunks are not read", f[1], f[2], f[3]);
            p->anom(p->arg, 0, PT_ANOM_LOG_EVTX_CORRUPT, d);
        }
    } else if (k >= 3 && strcmp(f[0], "D") == 0) {
        p->st.headers++;
        int64_t dn = num(f[1], INT64_MAX / 10);
        p->evtx.declared = dn > 0 ? (uint64_t)dn : 0;
    } else if (k >= 3 && strcmp(f[0], "Z") == 0) {
        p->st.headers++;
        uint64_t seen = p->evtx.read + p->evtx.failed;
        if (p->evtx.declared > seen) {
            snprintf(d, sizeof d, "evtx: the chunk headers declare %llu record(s), libevtx gave "
                     "%llu and could not read %llu: %llu record(s) were not read",
                     (unsigned long long)p->evtx.declared, (unsigned long long)p->evtx.read,
                     (unsigned long long)p->evtx.failed,
                     (unsigned long long)(p->evtx.declared - seen));
            p->anom(p->arg, 0, PT_ANOM_LOG_EVTX_CORRUPT, d);
        }
    } else {
        record_anom(p, PT_ANOM_LOG_EVTX_RECORD, "evtx: a line of the reader that is none of its "
                                               "kinds");
    }
}

void pt_evtx_end(struct pt_logparse *p)
{
    const struct pt_evtx_other *o = &p->evtx;
    char d[900];
    if (o->recovered_failed > 0 && p->anom != NULL) {
        snprintf(d, sizeof d, "evtx: %llu candidate record(s) libevtx found in the chunks' free "
                 "space (deleted or overwritten records) could not be read; %llu were read "
                 "(source evtx:recovered)", (unsigned long long)o->recovered_failed,
                 (unsigned long long)o->recovered);
        p->anom(p->arg, 0, PT_ANOM_LOG_EVTX_RECORD, d);
    }
    if (o->used == 0 || p->anom == NULL) {
        return;
    }
    int w = snprintf(d, sizeof d, "evtx: %llu record(s) of event identifiers not read as rows, "
                     "counted:", (unsigned long long)p->st.other);
    for (size_t i = 0; i < o->used && w > 0 && (size_t)w < sizeof d; i++) {
        w += snprintf(d + w, sizeof d - (size_t)w, " %u x%llu", o->id[i],
                      (unsigned long long)o->n[i]);
    }
    if (o->rest > 0 && w > 0 && (size_t)w < sizeof d) {
        snprintf(d + w, sizeof d - (size_t)w, "; %llu of other identifiers",
                 (unsigned long long)o->rest);
    }
    p->anom(p->arg, 0, PT_ANOM_LOG_EVTX_OTHER_EVENTS, d);
}
