/*
 * atna.c - IHE ATNA / DICOM PS3.15 audit messages read with the bounded tag scanner
 * (xmltag.h). See atna.h.
 */
#include "atna.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cursor.h"
#include "xmltag.h"

static bool tag_end(uint8_t c)
{
    return c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/';
}

static bool prefix_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

const uint8_t *pt_atna_find_tag(const uint8_t *p, size_t n, const char *local)
{
    struct pt_cur c = pt_cur_make(p, n);
    size_t k = strlen(local);
    while (pt_cur_left(&c) > 0) {
        const uint8_t *at = pt_cur_ptr(&c);
        const uint8_t *lt = memchr(at, '<', pt_cur_left(&c));
        if (lt == NULL) {
            return NULL;
        }
        pt_cur_skip(&c, (size_t)(lt - at) + 1);
        struct pt_cur t = c;
        size_t pre = 0; /* a prefix: name characters up to a ':' */
        while (pre < PT_ATNA_PREFIX_MAX && prefix_char(pt_cur_peek_u8(&t, pre))) {
            pre++;
        }
        if (pre > 0 && pt_cur_peek_u8(&t, pre) == ':' && pt_cur_has(&t, pre + 1)) {
            pt_cur_skip(&t, pre + 1);
        }
        if (pt_cur_has(&t, k) && memcmp(pt_cur_ptr(&t), local, k) == 0 &&
            (!pt_cur_has(&t, k + 1) || tag_end(pt_cur_peek_u8(&t, k)))) {
            return lt;
        }
    }
    return NULL;
}

const uint8_t *pt_atna_find(const uint8_t *p, size_t n)
{
    return pt_atna_find_tag(p, n, "AuditMessage");
}

/* A token of a syslog header at c (up to white space), copied into out; false when there is
 * none or it does not fit. c ends past it and the white space after it. */
static bool token(struct pt_cur *c, char *out, size_t cap)
{
    size_t k = 0;
    while (pt_cur_left(c) > 0 && pt_cur_peek_u8(c, 0) != ' ') {
        uint8_t b = pt_cur_u8(c);
        if (k + 1 >= cap || b < 0x21 || b > 0x7e) {
            return false;
        }
        out[k++] = (char)b;
    }
    out[k] = '\0';
    while (pt_cur_left(c) > 0 && pt_cur_peek_u8(c, 0) == ' ') {
        pt_cur_skip(c, 1);
    }
    return k > 0;
}

static bool digits(struct pt_cur *c, size_t min, size_t max)
{
    size_t k = 0;
    while (k < max && pt_cur_peek_u8(c, 0) >= '0' && pt_cur_peek_u8(c, 0) <= '9' &&
           pt_cur_left(c) > 0) {
        pt_cur_skip(c, 1);
        k++;
    }
    return k >= min;
}

bool pt_atna_syslog_head(const uint8_t *p, size_t n, struct pt_atna_head *h)
{
    struct pt_cur c = pt_cur_make(p, n);
    memset(h, 0, sizeof *h);
    while (pt_cur_left(&c) > 0 && (pt_cur_peek_u8(&c, 0) == ' ' || pt_cur_peek_u8(&c, 0) == '\t')) {
        pt_cur_skip(&c, 1);
    }
    struct pt_cur oc = c; /* an RFC 6587 octet count, then a space */
    if (digits(&oc, 1, 9) && pt_cur_peek_u8(&oc, 0) == ' ' && pt_cur_left(&oc) > 0) {
        pt_cur_skip(&oc, 1);
        c = oc;
    }
    if (pt_cur_u8(&c) != '<' || !digits(&c, 1, 3) || pt_cur_u8(&c) != '>' || !pt_cur_ok(&c)) {
        return false;
    }
    char when[64], host[256];
    struct pt_cur v = c;
    if (digits(&v, 1, 2) && pt_cur_peek_u8(&v, 0) == ' ' && pt_cur_left(&v) > 0) {
        /* RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP ...; "-" is no value */
        pt_cur_skip(&v, 1);
        h->rfc5424 = true;
        if (!token(&v, when, sizeof when) || !token(&v, host, sizeof host)) {
            return false;
        }
    } else {
        /* RFC 3164: "Mmm dd hh:mm:ss" (or an RFC 3339 time, as rsyslog may write) SP
         * HOSTNAME SP TAG; a token that ends with ':' is the tag (no host written) */
        const uint8_t *t = pt_cur_ptr(&c);
        if (pt_cur_has(&c, 16) && t[3] == ' ' && t[6] == ' ' && t[9] == ':' && t[12] == ':' &&
            t[15] == ' ') {
            memcpy(when, t, 15);
            when[15] = '\0';
            pt_cur_skip(&c, 16);
        } else if (!token(&c, when, sizeof when) || strchr(when, 'T') == NULL) {
            return false;
        }
        if (!token(&c, host, sizeof host) || host[strlen(host) - 1] == ':') {
            host[0] = '\0';
        }
    }
    if (strcmp(when, "-") != 0 && strlen(when) < sizeof h->when) {
        memcpy(h->when, when, strlen(when) + 1);
    }
    if (strcmp(host, "-") != 0 && strlen(host) < sizeof h->host) {
        memcpy(h->host, host, strlen(host) + 1);
    }
    return true;
}

/* The names of the DICOM audit events (PS3.15 A.5.3; PS3.16 CID 400) that concern patient
 * data, for a message that gives no text of its own. */
static const char *event_name(const char *code)
{
    static const char *const names[][2] = {
        {"110100", "Application Activity"}, {"110101", "Audit Log Used"},
        {"110102", "Begin Transferring DICOM Instances"},
        {"110103", "DICOM Instances Accessed"}, {"110104", "DICOM Instances Transferred"},
        {"110105", "DICOM Study Deleted"},      {"110106", "Export"},
        {"110107", "Import"},                   {"110108", "Network Entry"},
        {"110109", "Order Record"},             {"110110", "Patient Record"},
        {"110111", "Procedure Record"},         {"110112", "Query"},
        {"110113", "Security Alert"},           {"110114", "User Authentication"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(code, names[i][0]) == 0) {
            return names[i][1];
        }
    }
    return "";
}

/* A coded value: DICOM's csd-code, RFC 3881's code. */
static bool code_of(const struct pt_xmltag *t, char *out, size_t cap)
{
    return pt_xmltag_attr(t, "csd-code", out, cap) || pt_xmltag_attr(t, "code", out, cap);
}

static bool is_true(const char *v)
{
    return strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* What is gathered while an ActiveParticipant or a ParticipantObjectIdentification is open */
struct part {
    bool open;
    bool requestor;
    char user[128], addr[PT_ADDR_STRLEN], role[16];
    char type[8], type_role[8], id_type[16];
    char id[PT_ATNA_ID_MAX];    /* ParticipantObjectID (given to `fn` only, never kept) */
};

/* One message being read: what it says, the open participant and object, and whom to give
 * the patients' identifiers (NULL: nobody) */
struct scan {
    struct pt_atna_msg *m;
    struct part a, o;
    pt_atna_patient_fn fn;
    void *arg;
};

static void participant_end(struct pt_atna_msg *m, struct part *a)
{
    if (a->requestor && m->user[0] == '\0') {
        snprintf(m->user, sizeof m->user, "%s", a->user);
        snprintf(m->user_addr, sizeof m->user_addr, "%s", a->addr);
    }
    if (strcmp(a->role, "110153") == 0 && m->src_addr[0] == '\0') {
        snprintf(m->src_addr, sizeof m->src_addr, "%s", a->addr);
    } else if (strcmp(a->role, "110152") == 0 && m->dst_addr[0] == '\0') {
        snprintf(m->dst_addr, sizeof m->dst_addr, "%s", a->addr);
    }
    memset(a, 0, sizeof *a);
}

static void object_end(struct scan *x, struct part *o)
{
    struct pt_atna_msg *m = x->m;
    m->objects++;
    if (strcmp(o->type_role, "1") == 0 || strcmp(o->id_type, "2") == 0) {
        m->patients++;
        char key[PT_ATNA_ID_MAX];
        if (x->fn != NULL && pt_atna_patient_key(o->id, key, sizeof key)) {
            x->fn(x->arg, key);
        }
    } else if (strcmp(o->id_type, "110180") == 0) {
        m->studies++;
    }
    memset(o, 0, sizeof *o);
}

static void participant_begin(const struct pt_xmltag *t, struct part *a)
{
    char v[8] = "";
    memset(a, 0, sizeof *a);
    a->open = true;
    pt_xmltag_attr(t, "UserID", a->user, sizeof a->user);
    pt_xmltag_attr(t, "NetworkAccessPointID", a->addr, sizeof a->addr);
    a->requestor = pt_xmltag_attr(t, "UserIsRequestor", v, sizeof v) && is_true(v);
}

static void object_begin(const struct pt_xmltag *t, struct part *o)
{
    memset(o, 0, sizeof *o);
    o->open = true;
    pt_xmltag_attr(t, "ParticipantObjectTypeCode", o->type, sizeof o->type);
    pt_xmltag_attr(t, "ParticipantObjectTypeCodeRole", o->type_role, sizeof o->type_role);
    pt_xmltag_attr(t, "ParticipantObjectID", o->id, sizeof o->id);
}

static void event_begin(const struct pt_xmltag *t, struct pt_atna_msg *m)
{
    char v[16] = "";
    pt_xmltag_attr(t, "EventActionCode", m->action, sizeof m->action);
    pt_xmltag_attr(t, "EventDateTime", m->when, sizeof m->when);
    if (pt_xmltag_attr(t, "EventOutcomeIndicator", v, sizeof v) && v[0] >= '0' && v[0] <= '9') {
        m->outcome = (int32_t)strtol(v, NULL, 10);
    }
}

static void event_id(const struct pt_xmltag *t, struct pt_atna_msg *m)
{
    code_of(t, m->event, sizeof m->event);
    if (!pt_xmltag_attr(t, "originalText", m->event_name, sizeof m->event_name) &&
        !pt_xmltag_attr(t, "displayName", m->event_name, sizeof m->event_name)) {
        snprintf(m->event_name, sizeof m->event_name, "%s", event_name(m->event));
    }
}

/* One tag inside the message; true at </AuditMessage>. */
static bool on_tag(const struct pt_xmltag *t, struct scan *x)
{
    struct pt_atna_msg *m = x->m;
    struct part *a = &x->a, *o = &x->o;
    const char *n = t->name;
    if (strcmp(n, "AuditMessage") == 0) {
        return t->closing;
    }
    if (strcmp(n, "EventIdentification") == 0 && !t->closing) {
        event_begin(t, m);
    } else if (strcmp(n, "EventID") == 0 && !t->closing && m->event[0] == '\0') {
        event_id(t, m);
    } else if (strcmp(n, "ActiveParticipant") == 0) {
        if (!t->closing) {
            participant_begin(t, a);
        }
        if ((t->closing || t->empty) && a->open) {
            participant_end(m, a);
        }
    } else if (strcmp(n, "RoleIDCode") == 0 && a->open && !t->closing && a->role[0] == '\0') {
        code_of(t, a->role, sizeof a->role);
    } else if (strcmp(n, "ParticipantObjectIdentification") == 0) {
        if (!t->closing) {
            object_begin(t, o);
        }
        if ((t->closing || t->empty) && o->open) {
            object_end(x, o);
        }
    } else if (strcmp(n, "ParticipantObjectIDTypeCode") == 0 && o->open && !t->closing) {
        code_of(t, o->id_type, sizeof o->id_type);
    }
    return false;
}

static bool scan(const uint8_t *p, size_t n, struct pt_atna_msg *m, const char **why,
                 pt_atna_patient_fn fn, void *arg)
{
    memset(m, 0, sizeof *m);
    m->outcome = -1;
    struct scan x = {.m = m, .fn = fn, .arg = arg};
    struct pt_xmlscan sc;
    struct pt_xmltag t;
    pt_xmlscan_init(&sc, p, n);
    bool started = false, ended = false;
    while (!ended && pt_xmlscan_next(&sc, &t)) {
        if (!started) {
            started = strcmp(t.name, "AuditMessage") == 0 && !t.closing;
            ended = started && t.empty;
            continue;
        }
        ended = on_tag(&t, &x);
    }
    if (!started) {
        *why = "no <AuditMessage> element";
        return false;
    }
    if (!ended) {
        *why = "an AuditMessage without its end (cut)";
        return false;
    }
    if (m->event[0] == '\0') {
        *why = "an AuditMessage without an EventIdentification/EventID code";
        return false;
    }
    return true;
}

bool pt_atna_parse(const uint8_t *p, size_t n, struct pt_atna_msg *m, const char **why)
{
    return scan(p, n, m, why, NULL, NULL);
}

void pt_atna_patients(const uint8_t *p, size_t n, pt_atna_patient_fn fn, void *arg)
{
    struct pt_atna_msg m;
    const char *why = NULL;
    scan(p, n, &m, &why, fn, arg);
}

/* An HL7 v2 CX value (ID^check digit^scheme^assigning authority^type...) or a plain one:
 * its first component and its fourth, the authority, which tells one numbering system from
 * another; white space around each dropped. */
bool pt_atna_patient_key(const char *id, char *out, size_t cap)
{
    const char *comp[4] = {id, NULL, NULL, NULL};
    size_t len[4] = {0, 0, 0, 0};
    int k = 0;
    for (const char *c = id;; c++) {
        if (*c == '^' || *c == '\0') {
            len[k] = (size_t)(c - comp[k]);
            if (*c == '\0' || k == 3) {
                break;
            }
            comp[++k] = c + 1;
        }
    }
    for (int i = 0; i < 4; i++) {
        while (comp[i] != NULL && len[i] > 0 && (*comp[i] == ' ' || *comp[i] == '\t')) {
            comp[i]++;
            len[i]--;
        }
        while (comp[i] != NULL && len[i] > 0 &&
               (comp[i][len[i] - 1] == ' ' || comp[i][len[i] - 1] == '\t')) {
            len[i]--;
        }
    }
    if (len[0] == 0 || cap == 0) {
        return false;
    }
    int w = snprintf(out, cap, "%.*s%s%.*s", (int)len[0], comp[0], len[3] > 0 ? "^" : "",
                     (int)len[3], comp[3] != NULL ? comp[3] : "");
    return w > 0 && (size_t)w < cap;
}
