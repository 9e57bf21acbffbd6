/*
 * atna_stream.c - IHE ATNA / DICOM audit messages found in a stream of bytes (logparse.h,
 * format atna): one message per line as ATNA's syslog transport sends them, or messages that
 * span many lines (pretty-printed XML files, several messages a file, with or without an XML
 * declaration or a wrapping element; RFC 5424 frames whose MSG runs over several lines, RFC
 * 6587 octet-counted frames). Messages are found by their tags, "<AuditMessage" (followed by
 * white space, '>' or '/') to "</AuditMessage>", whatever the lines; inside a message, CDATA
 * sections and comments are passed over (no tag begins or ends in them). The syslog header
 * (and octet count) before a message is read from the message's line, else from the last
 * line before it that no message touched and that is one, when only blank lines, markup or
 * other such header lines come between (a frame's header line, then the pretty-printed XML).
 *
 * Memory: the message being gathered, up to PT_ATNA_MSG_MAX bytes (struct pt_atna_stream);
 * a longer message is passed over to its end and is malformed (one anomaly), the file read on.
 *
 * Accounting (struct pt_logstats): the unit is the message, not the line. Each message is one
 * unit (a record, or malformed: cut, over the limit, no EventID, a NUL byte, a new message
 * before its end), however many lines it spans or shares; each line that no message touches
 * is one unit of its own: blank, a header (markup: an XML declaration, a wrapping element,
 * a comment) or other (text: a syslog line of another kind). So lines = records + other +
 * headers + blank + malformed as for every format. A record's provenance is the physical line
 * and byte offset of its "<AuditMessage" and its length in bytes.
 *
 * Patients: after a message is read, each patient participant object's identifier is keyed
 * (pt_atna_patient_key) and hashed with the caller's HMAC key (the case key) into a
 * PT_LOGREC_AUDIT_PATIENT row; the identifier itself only with keep_ids (--keep-phi).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../core/cursor.h"
#include "../core/sha256.h"
#include "logparse.h"

static const char NAME[] = "AuditMessage";
#define NAME_LEN (sizeof NAME - 1)
#define NOT_IT 0xFF /* a matcher's name is not AuditMessage */
static const char CDATA_OPEN[] = "<![CDATA[";
static const char COMMENT_OPEN[] = "<!--";

static bool space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void malformed(struct pt_logparse *p, enum pt_anom kind, const char *why)
{
    struct pt_atna_stream *s = &p->atna;
    p->st.malformed++;
    if (p->st.malformed <= PT_LOG_ANOMALY_MAX && p->anom != NULL) {
        char d[200];
        snprintf(d, sizeof d, "atna message at line %" PRIu64 " (byte %" PRIu64 ", %" PRIu64
                 " bytes): %s", s->msg_line, s->msg_off, s->msg_bytes, why);
        p->anom(p->arg, s->msg_off, kind, d);
    }
}

struct patients {
    struct pt_logparse *p;
    struct pt_logaudit_patient_rec r;
};

static void on_patient(void *arg, const char *key)
{
    struct patients *x = arg;
    static const char tag[] = "atna-patient:";
    uint8_t mac[PT_SHA256_LEN];
    if (!pt_hmac_sha256(x->p->mac, tag, sizeof tag - 1, key, strlen(key), mac)) {
        return; /* a zeroed MAC would join unrelated patients */
    }
    pt_hex(mac, sizeof mac, x->r.hmac);
    snprintf(x->r.id, sizeof x->r.id, "%s", x->p->keep_ids ? key : "");
    x->p->rec(x->p->arg, PT_LOGREC_AUDIT_PATIENT, &x->r);
}

/* The message gathered is complete ("</AuditMessage>" or an empty <AuditMessage/>). */
static void message_end(struct pt_logparse *p)
{
    struct pt_atna_stream *s = &p->atna;
    s->in_msg = false;
    s->ost = 0;
    s->pre_len = 0; /* a message later on this line has no header of its own */
    s->pre_total = 0;
    p->st.lines++;
    char why[96];
    struct pt_logaudit_rec r;
    memset(&r, 0, sizeof r);
    const char *bad = NULL;
    if (s->oversize) {
        snprintf(why, sizeof why, "longer than the %u bytes one message may have: not read",
                 PT_ATNA_MSG_MAX);
        bad = why;
    } else if (s->nul) {
        bad = "a NUL byte inside the message";
    } else if (!pt_atna_parse(s->buf, s->len, &r.m, &bad)) {
        bad = bad != NULL ? bad : "not an AuditMessage";
    }
    if (bad != NULL) {
        malformed(p, s->oversize ? PT_ANOM_LOG_ATNA_OVERSIZE : PT_ANOM_LOG_MALFORMED_LINE, bad);
        return;
    }
    r.p = (struct pt_logprov){.item = p->item, .line = s->msg_line, .offset = s->msg_off,
                              .ts_us = -1, .source = "atna",
                              .length = s->msg_bytes > UINT32_MAX ? UINT32_MAX
                                                                  : (uint32_t)s->msg_bytes};
    if (r.m.when[0] != '\0') {
        r.p.ts_us = pt_logtime_line(&p->lt, (const uint8_t *)r.m.when, strlen(r.m.when));
    } else if (s->hd_ok && s->hd.when[0] != '\0') { /* the syslog header's time */
        r.p.ts_us = pt_logtime_line(&p->lt, (const uint8_t *)s->hd.when, strlen(s->hd.when));
    }
    if (s->hd_ok && r.m.user_addr[0] == '\0' && r.m.dst_addr[0] == '\0') {
        /* no address of the requestor or the Destination: the host that sent the message */
        snprintf(r.m.user_addr, sizeof r.m.user_addr, "%s", s->hd.host);
    }
    p->st.audit++;
    p->st.records++;
    p->rec(p->arg, PT_LOGREC_AUDIT, &r);
    if (p->mac != NULL && r.m.patients > 0) {
        struct patients x = {.p = p, .r = {.p = r.p}};
        pt_atna_patients(s->buf, s->len, on_patient, &x);
    }
}

/* A message begins: its opening tag's name (s->otag, "<AuditMessage" or
 * "<prefix:AuditMessage") and the byte after it were just read (that byte, at pos - 1, is
 * not yet the message's) */
static void message_begin(struct pt_logparse *p)
{
    struct pt_atna_stream *s = &p->atna;
    if (s->in_msg) {
        s->msg_bytes -= s->otn + 1u; /* the new message's bytes are not the old one's */
        s->in_msg = false;
        p->st.lines++;
        malformed(p, PT_ANOM_LOG_MALFORMED_LINE, "a new AuditMessage began before this one ended (cut)");
        s->pre_len = 0;
        s->pre_total = 0;
    }
    /* the line's bytes before the tag: a syslog header gives the time and host the XML may
     * not */
    uint64_t hl = s->pre_total >= s->otn + 1u ? s->pre_total - s->otn - 1u : 0;
    s->hd_ok = pt_atna_syslog_head(s->pre, hl < s->pre_len ? (size_t)hl : s->pre_len, &s->hd);
    if (!s->hd_ok && s->lh_ok) { /* the header of a line before: the frame's, then the XML */
        s->hd = s->lh;
        s->hd_ok = true;
    }
    s->lh_ok = false; /* one header, one message */
    s->in_msg = true;
    s->head = true;
    s->oversize = s->nul = false;
    s->quote = 0;
    s->last = 0;
    s->cst = s->cdm = s->cmm = s->close_ch = s->cle = 0;
    s->msg_line = s->line;
    s->msg_off = s->pos - 1 - s->otn;
    s->msg_bytes = s->otn;
    memcpy(s->buf, s->otag, s->otn);
    s->len = s->otn;
    s->touched = true;
}

/* A line's end: a line no message touched is a unit of its own. */
static void line_end(struct pt_logparse *p)
{
    struct pt_atna_stream *s = &p->atna;
    if (!s->touched) {
        p->st.lines++;
        if (s->first == 0) {
            p->st.blank++;
        } else if (s->first == '<' && (s->second == '?' || s->second == '!' ||
                                       s->second == '/' || ((s->second | 0x20) >= 'a' &&
                                                            (s->second | 0x20) <= 'z'))) {
            p->st.headers++; /* markup: a declaration, comment or element; not "<85>1 ..." */
        } else {
            p->st.other++;
            /* a syslog header is kept for the next message (message_begin); other text ends
             * what an earlier one said */
            size_t n = s->pre_len;
            while (n > 0 && space(s->pre[n - 1])) {
                n--;
            }
            s->lh_ok = pt_atna_syslog_head(s->pre, n, &s->lh);
        }
    }
    s->line++;
    s->line_start = s->pos;
    s->pre_len = 0;
    s->pre_total = 0;
    s->touched = s->in_msg;
    s->first = s->second = 0;
}

/* In a message's opening tag: true at its end when the tag is empty (<AuditMessage .../>). */
static bool head_byte(struct pt_atna_stream *s, uint8_t c)
{
    if (s->quote != 0) {
        s->quote = c == s->quote ? 0 : s->quote;
        return false;
    }
    if (c == '"' || c == '\'') {
        s->quote = c;
    } else if (c == '>') {
        s->head = false;
        return s->last == '/';
    }
    if (!space(c)) {
        s->last = c;
    }
    return false;
}

/* The closing matcher over a message's body: true when "</AuditMessage" (or
 * "</prefix:AuditMessage"), white space and '>' were just read. */
static bool close_byte(struct pt_atna_stream *s, uint8_t c)
{
    if (s->cst == 3) { /* after the name */
        if (c == '>') {
            return true;
        }
        s->cst = space(c) ? 3 : 0;
    }
    if (c == '<') {
        s->cst = 1;
    } else if (s->cst == 1) {
        s->cst = c == '/' ? 2 : 0;
        s->ck = s->ccolon = s->cn = 0;
    } else if (s->cst == 2) {
        bool named = s->ck == NAME_LEN;
        if (c == '>' || space(c) || ++s->cn > PT_ATNA_PREFIX_MAX + NAME_LEN + 1) {
            s->cst = c == '>' && named ? 0 : named && space(c) ? 3 : 0;
            return c == '>' && named;
        }
        if (c == ':' && !s->ccolon) { /* a prefix: the local name follows */
            s->ccolon = 1;
            s->ck = 0;
        } else {
            s->ck = s->ck < NAME_LEN && c == (uint8_t)NAME[s->ck] ? s->ck + 1 : NOT_IT;
        }
    }
    return false;
}

/* The bytes of pattern `pat` matched after c, having matched k before ("<" restarts it). */
static uint8_t match(const char *pat, uint8_t k, uint8_t c)
{
    return c == (uint8_t)pat[k] ? k + 1 : c == '<' ? 1 : 0;
}

/* CDATA sections and comments in a message's body: true while c is inside one (or ends it),
 * where no tag begins or ends. A section ends at "]]>", a comment at "-->". */
static bool skip_byte(struct pt_atna_stream *s, uint8_t c)
{
    if (s->close_ch != 0) { /* both ends are the closing byte twice, then '>' */
        s->cle = c == s->close_ch ? (s->cle < 2 ? s->cle + 1 : 2)
                 : c == '>' && s->cle == 2 ? 3 : 0;
        if (s->cle == 3) {
            s->close_ch = s->cle = 0;
        }
        return true;
    }
    s->cdm = match(CDATA_OPEN, s->cdm, c);
    s->cmm = match(COMMENT_OPEN, s->cmm, c);
    if (s->cdm == sizeof CDATA_OPEN - 1 || s->cmm == sizeof COMMENT_OPEN - 1) {
        s->close_ch = s->cdm == sizeof CDATA_OPEN - 1 ? ']' : '-';
        s->cdm = s->cmm = 0;
        s->cst = s->ost = 0;
        return true;
    }
    return false;
}

/* One byte inside a message; true when it ends the message. */
static bool msg_byte(struct pt_atna_stream *s, uint8_t c)
{
    if (s->len < PT_ATNA_MSG_MAX) {
        s->buf[s->len++] = c;
    } else {
        s->oversize = true;
    }
    s->msg_bytes++;
    s->nul |= c == '\0';
    if (s->head) {
        return head_byte(s, c);
    }
    return !skip_byte(s, c) && close_byte(s, c);
}

/* The opening matcher, run over every byte outside CDATA sections and a message's comments:
 * true when "<AuditMessage"
 * (or "<prefix:AuditMessage", s->otag) and a byte that ends a tag name (white space, '>',
 * '/') were just read. */
static bool open_byte(struct pt_atna_stream *s, uint8_t c)
{
    if (c == '<') {
        s->ost = 1;
        s->ok = s->ocolon = 0;
        s->otag[0] = c;
        s->otn = 1;
        return false;
    }
    if (s->ost == 0) {
        return false;
    }
    if (space(c) || c == '>' || c == '/') {
        s->ost = 0;
        return s->ok == NAME_LEN;
    }
    if (s->otn >= sizeof s->otag) {
        s->ost = 0;
        return false;
    }
    s->otag[s->otn++] = c;
    if (c == ':' && !s->ocolon) {
        s->ocolon = 1;
        s->ok = 0;
    } else {
        s->ok = s->ok < NAME_LEN && c == (uint8_t)NAME[s->ok] ? s->ok + 1 : NOT_IT;
    }
    return false;
}

/* Inside a message's body with no tag partly matched, the bytes before the next '<' change
 * nothing but the buffer, the message's length and the lines: taken in one piece (c is not
 * at a '<'). */
static void body_run(struct pt_logparse *p, struct pt_cur *c)
{
    struct pt_atna_stream *s = &p->atna;
    const uint8_t *at = pt_cur_ptr(c);
    size_t left = pt_cur_left(c);
    const uint8_t *lt = memchr(at, '<', left);
    size_t k = lt != NULL ? (size_t)(lt - at) : left;
    size_t room = PT_ATNA_MSG_MAX - s->len, take = k < room ? k : room;
    memcpy(s->buf + s->len, at, take);
    s->len += take;
    s->oversize |= take < k;
    s->msg_bytes += k;
    s->nul |= memchr(at, '\0', k) != NULL;
    uint64_t base = s->pos;
    for (const uint8_t *q = at; (q = memchr(q, '\n', (size_t)(at + k - q))) != NULL; q++) {
        s->pos = base + (uint64_t)(q - at) + 1;
        line_end(p);
    }
    s->pos = base + k;
    pt_cur_skip(c, k);
}

void pt_atna_feed(struct pt_logparse *p, const uint8_t *b, size_t n)
{
    struct pt_atna_stream *s = &p->atna;
    struct pt_cur c = pt_cur_make(b, n);
    p->st.bytes += n;
    while (pt_cur_left(&c) > 0) {
        if (s->in_msg && !s->head && s->cst == 0 && s->ost == 0 && s->cdm == 0 && s->cmm == 0 &&
            s->close_ch == 0 && pt_cur_peek_u8(&c, 0) != '<') {
            body_run(p, &c);
            continue;
        }
        uint8_t x = pt_cur_u8(&c);
        s->pos++;
        if (!s->in_msg) { /* the line's bytes before a message: its syslog header */
            if (s->pre_len < sizeof s->pre) {
                s->pre[s->pre_len++] = x;
            }
            s->pre_total++;
        }
        if (s->in_msg && msg_byte(s, x)) {
            message_end(p);
        } else if (s->close_ch == 0 && open_byte(s, x)) {
            message_begin(p);
            msg_byte(s, x); /* the byte after the name: never the message's end */
        }
        if (x == '\n') {
            line_end(p);
        } else if (!s->in_msg && s->first == 0 && !space(x)) {
            s->first = x;
        } else if (!s->in_msg && s->first != 0 && s->second == 0) {
            s->second = x;
        }
    }
}

void pt_atna_end(struct pt_logparse *p)
{
    struct pt_atna_stream *s = &p->atna;
    if (s->in_msg) {
        s->in_msg = false;
        p->st.lines++;
        malformed(p, PT_ANOM_LOG_MALFORMED_LINE, "the file ends inside the message (cut)");
    }
    if (s->pos > s->line_start && !s->touched) {
        line_end(p);
    }
}
