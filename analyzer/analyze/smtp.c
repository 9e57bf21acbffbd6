/*
 * smtp.c - SMTP and ESMTP (RFC 5321), DATA with dot-stuffing (§4.5.2), BDAT chunking
 * (RFC 3030), STARTTLS (RFC 3207: what follows is encrypted and only counted); LMTP (RFC 2033)
 * is read the same way (LHLO for EHLO).
 *
 * Every message is stored whole as an object (as the server received it, dot-unstuffed);
 * its MIME structure is walked (mime.c) and every leaf -- body text and attachments -- is
 * stored decoded from base64 or quoted-printable, named by its filename. An smtp_message row
 * carries the envelope (HELO, MAIL FROM, RCPT TO) and the header fields From, To, Subject,
 * Date and Message-ID, read from the first PT_SMTP_HEADER_BYTES of the message.
 *
 * Trust boundary: both streams are untrusted; command lines are bounded by
 * PT_SMTP_MAX_LINE, recipients by the row's buffer.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/cursor.h"
#include "../core/limits.h"
#include "app.h"
#include "mime.h"
#include "mimehdr.h"

enum sstate {
    SS_CMD,     /* command lines */
    SS_DATA,    /* DATA content, line by line */
    SS_BDAT,    /* BDAT chunk bytes */
    SS_TLS,     /* after STARTTLS: encrypted */
    SS_DEAD,
};

struct smtp_flow {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;
    enum sstate st;
    char line[PT_SMTP_MAX_LINE];
    size_t len;
    bool bol;                 /* DATA: at the beginning of a line */
    uint64_t bdat_left;
    bool bdat_last;
    bool starttls_asked;
    char helo[128], mail_from[256], rcpt[512];
    struct pt_smtp_rec msg;
    bool in_msg;
    struct pt_obj *obj;
    struct pt_mime *mime;
    char head[PT_SMTP_HEADER_BYTES + 1];
    size_t head_len;
    uint32_t seq;
    unsigned attachments;
    const struct pt_flow_pkt *pkt;
};

/* The server's banner: 220 then SP or '-', its first line naming SMTP or LMTP in any case
 * (Postfix "ESMTP Postfix", aiosmtpd "Python SMTP 1.4.3", "esmtp" in lower case). The client:
 * EHLO, HELO (RFC 5321 §4.1.1.1) or LHLO (LMTP, RFC 2033 §4.1), in any case, then SP, CR or
 * LF. A banner that names neither is decided by the client's greeting. */
static bool smtp_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                       uint16_t sport)
{
    (void)cport;
    (void)sport;
    if (transport != 6 || n < 5) {
        return false;
    }
    if (dir == 1) {
        size_t k = n < 512 ? n : 512;
        const uint8_t *lf = memchr(p, '\n', k);
        size_t l = lf ? (size_t)(lf - p) : k;
        return memcmp(p, "220", 3) == 0 && (p[3] == ' ' || p[3] == '-') &&
               (pt_app_has_word(p, l, "smtp") || pt_app_has_word(p, l, "lmtp"));
    }
    bool hello = strncasecmp((const char *)p, "EHLO", 4) == 0 ||
                 strncasecmp((const char *)p, "HELO", 4) == 0 ||
                 strncasecmp((const char *)p, "LHLO", 4) == 0;
    return hello && (p[4] == ' ' || p[4] == '\r' || p[4] == '\n');
}

static void *smtp_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct smtp_flow *s = calloc(1, sizeof *s);
    if (s != NULL) {
        s->ctx = ctx;
        s->rec = *rec;
    }
    return s;
}

/* ---- MIME leaves become objects ------------------------------------------------------- */

struct leaf_obj {
    struct pt_obj *obj;
};

static void *leaf_begin(void *arg, const struct pt_mime_leaf *leaf)
{
    struct smtp_flow *s = arg;
    struct pt_object_rec meta;
    pt_app_object_meta(&meta, &s->rec, 0, "smtp", s->seq, s->msg.item, s->msg.frame,
                       s->msg.ts_us);
    snprintf(meta.name, sizeof meta.name, "%s", leaf->name);
    snprintf(meta.encoding, sizeof meta.encoding, "mime%s%.24s", leaf->cte[0] ? "," : "",
             leaf->cte);
    meta.part = leaf->index;
    if (leaf->name[0] != '\0') {
        s->attachments++;
    }
    return pt_obj_open(s->ctx->store, &meta);
}

static void leaf_data(void *arg, void *h, const uint8_t *p, size_t n)
{
    (void)arg;
    pt_obj_write(h, p, n);
}

static void leaf_gap(void *arg, void *h, uint64_t n)
{
    (void)arg;
    pt_obj_gap(h, n);
}

static void leaf_end(void *arg, void *h, bool complete)
{
    struct smtp_flow *s = arg;
    struct pt_object_rec o;
    if (h != NULL && pt_obj_close(h, complete, &o) && s->ctx->object != NULL) {
        s->ctx->object(s->ctx->arg, &o);
    }
}

static void leaf_anomaly(void *arg, enum pt_anom kind, const char *detail)
{
    struct smtp_flow *s = arg;
    pt_app_anomaly(s->ctx, s->pkt, s->rec.item, kind, detail);
}

static const struct pt_mime_ops leaf_ops = {leaf_begin, leaf_data, leaf_gap, leaf_end,
                                            leaf_anomaly};

/* ---- messages ------------------------------------------------------------------------------ */

static void msg_end(struct smtp_flow *s, bool complete);

static void msg_begin(struct smtp_flow *s)
{
    if (s->in_msg) {
        msg_end(s, false); /* DATA after an unfinished BDAT: the earlier message is cut short */
    }
    struct pt_smtp_rec *m = &s->msg;
    memset(m, 0, sizeof *m);
    m->flow_id = s->rec.id;
    if (s->pkt != NULL) {
        m->item = s->pkt->item;
        m->frame = s->pkt->frame;
        m->ts_us = s->pkt->ts_us;
    }
    snprintf(m->helo, sizeof m->helo, "%s", s->helo);
    snprintf(m->mail_from, sizeof m->mail_from, "%s", s->mail_from);
    snprintf(m->rcpt_to, sizeof m->rcpt_to, "%s", s->rcpt);
    s->in_msg = true;
    s->head_len = 0;
    s->attachments = 0;
    struct pt_object_rec meta;
    pt_app_object_meta(&meta, &s->rec, 0, "smtp", s->seq, m->item, m->frame, m->ts_us);
    snprintf(meta.name, sizeof meta.name, "message");
    s->obj = pt_obj_open(s->ctx->store, &meta);
    s->mime = pt_mime_new(&leaf_ops, s);
}

static void msg_bytes(struct smtp_flow *s, const uint8_t *p, size_t n)
{
    pt_obj_write(s->obj, p, n);
    pt_mime_feed(s->mime, p, n);
    s->msg.size += n;
    if (s->head_len < PT_SMTP_HEADER_BYTES) {
        size_t k = PT_SMTP_HEADER_BYTES - s->head_len < n ? PT_SMTP_HEADER_BYTES - s->head_len : n;
        memcpy(s->head + s->head_len, p, k);
        s->head_len += k;
    }
}

/* A header field's (unfolded) value from the message head, or "". */
static void header_field(const char *head, const char *name, char *out, size_t len)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    const char *p = head;
    while (*p != '\0') {
        if ((p == head || p[-1] == '\n') && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            size_t w = 0;
            while (*v != '\0' && w + 1 < len) {
                if (*v == '\r' || *v == '\n') {
                    const char *q = v;
                    while (*q == '\r' || *q == '\n') {
                        q++;
                    }
                    if (*q != ' ' && *q != '\t') {
                        break; /* end of the field */
                    }
                    v = q; /* folded: continue on the next line */
                    continue;
                }
                if (w > 0 || (*v != ' ' && *v != '\t')) {
                    out[w++] = (unsigned char)*v < 0x20 ? ' ' : *v;
                }
                v++;
            }
            out[w] = '\0';
            return;
        }
        if (p[0] == '\n' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'))) {
            return; /* end of the header section */
        }
        p++;
    }
}

static void msg_end(struct smtp_flow *s, bool complete)
{
    if (!s->in_msg) {
        return;
    }
    struct pt_smtp_rec *m = &s->msg;
    s->head[s->head_len] = '\0';
    for (size_t i = 0; i < s->head_len; i++) {
        if (s->head[i] == '\0') {
            s->head[i] = ' ';
        }
    }
    header_field(s->head, "From", m->from, sizeof m->from);
    header_field(s->head, "To", m->to, sizeof m->to);
    char raw[sizeof m->subject];
    header_field(s->head, "Subject", raw, sizeof raw);
    pt_mime_words(raw, m->subject, sizeof m->subject); /* RFC 2047 encoded words */
    header_field(s->head, "Date", m->date, sizeof m->date);
    header_field(s->head, "Message-ID", m->msg_id, sizeof m->msg_id);
    pt_mime_free(s->mime, complete);
    s->mime = NULL;
    m->attachments = s->attachments;
    m->complete = complete;
    m->seq = s->seq++;
    if (s->obj != NULL) {
        struct pt_object_rec o;
        if (pt_obj_close(s->obj, complete, &o)) {
            snprintf(m->sha256, sizeof m->sha256, "%s", o.sha256);
            if (s->ctx->object != NULL) {
                s->ctx->object(s->ctx->arg, &o);
            }
        }
        s->obj = NULL;
    }
    pt_emit_smtp(s->ctx, m);
    s->in_msg = false;
    s->rcpt[0] = '\0';
}

static void add_rcpt(struct smtp_flow *s, const char *arg)
{
    size_t used = strlen(s->rcpt), l = strlen(arg);
    if (used + l + 2 < sizeof s->rcpt) {
        if (used > 0) {
            s->rcpt[used++] = ',';
        }
        memcpy(s->rcpt + used, arg, l + 1);
    }
}

/* An address argument "FROM:<a@b> SIZE=10" -> "a@b". */
static void address(const char *arg, char *out, size_t len)
{
    const char *lt = strchr(arg, '<');
    const char *p = lt ? lt + 1 : arg;
    const char *end = lt ? strchr(p, '>') : NULL;
    size_t n = end ? (size_t)(end - p) : strcspn(p, " ");
    if (n >= len) {
        n = len - 1;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

static void command(struct smtp_flow *s, char *line)
{
    if (strncasecmp(line, "HELO ", 5) == 0 || strncasecmp(line, "EHLO ", 5) == 0 ||
        strncasecmp(line, "LHLO ", 5) == 0) {
        snprintf(s->helo, sizeof s->helo, "%s", line + 5);
    } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
        address(line + 10, s->mail_from, sizeof s->mail_from);
        s->rcpt[0] = '\0';
    } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
        char a[256];
        address(line + 8, a, sizeof a);
        add_rcpt(s, a);
    } else if (strcasecmp(line, "DATA") == 0) {
        msg_begin(s);
        s->st = SS_DATA;
        s->bol = true;
    } else if (strncasecmp(line, "BDAT ", 5) == 0) {
        char *end = NULL;
        unsigned long long n = strtoull(line + 5, &end, 10);
        if (end == line + 5) {
            s->st = SS_DEAD;
            return;
        }
        if (!s->in_msg) {
            msg_begin(s);
        }
        s->bdat_left = n;
        s->bdat_last = strcasestr(end, "LAST") != NULL;
        s->st = SS_BDAT;
        if (n == 0 && s->bdat_last) {
            msg_end(s, true);
            s->st = SS_CMD;
        }
    } else if (strcasecmp(line, "STARTTLS") == 0) {
        s->starttls_asked = true;
    }
}

static void smtp_data(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                      const struct pt_flow_pkt *pkt)
{
    (void)off;
    struct smtp_flow *s = st;
    s->pkt = pkt;
    if (dir == 1) {
        /* replies: only the 220 that answers STARTTLS matters (RFC 3207 §4) */
        if (s->starttls_asked && n >= 3 && memcmp(p, "220", 3) == 0) {
            s->st = SS_TLS;
            s->msg.starttls = true;
            if (s->ctx->anomaly != NULL) {
                /* not an anomaly of the evidence: recorded on the flow via app = smtp */
            }
        }
        return;
    }
    struct pt_cur c = pt_cur_make(p, n);
    while (pt_cur_left(&c) > 0) {
        size_t left = pt_cur_left(&c);
        switch (s->st) {
            case SS_TLS:
            case SS_DEAD:
                return;
            case SS_BDAT: {
                size_t k = s->bdat_left < left ? (size_t)s->bdat_left : left;
                msg_bytes(s, pt_cur_ptr(&c), k);
                pt_cur_skip(&c, k);
                s->bdat_left -= k;
                if (s->bdat_left == 0) {
                    if (s->bdat_last) {
                        msg_end(s, true);
                    }
                    s->st = SS_CMD;
                }
                continue;
            }
            case SS_DATA: {
                /* pass DATA content through line by line; only ".\r\n" and a leading dot
                 * need the start of a line (RFC 5321 §4.5.2) */
                const uint8_t *lf = memchr(pt_cur_ptr(&c), '\n', left);
                size_t k = lf ? (size_t)(lf - pt_cur_ptr(&c)) + 1 : left;
                uint8_t b0 = pt_cur_peek_u8(&c, 0), b1 = pt_cur_peek_u8(&c, 1),
                        b2 = pt_cur_peek_u8(&c, 2);
                if (s->bol && b0 == '.') {
                    if ((k == 3 && b1 == '\r' && b2 == '\n') || (k == 2 && b1 == '\n')) {
                        msg_end(s, true);
                        s->st = SS_CMD;
                        pt_cur_skip(&c, k);
                        continue;
                    }
                    if (k == 1 && lf == NULL) {
                        /* a lone dot at the end of the piece: wait for what follows */
                        if (s->len + 1 < sizeof s->line) {
                            s->line[s->len++] = '.';
                        }
                        pt_cur_skip(&c, 1);
                        s->bol = false;
                        continue;
                    }
                    pt_cur_skip(&c, 1); /* dot-stuffing: drop the first dot */
                    k--;
                } else if (!s->bol && s->len == 1 && s->line[0] == '.') {
                    /* the held dot from the previous piece */
                    s->len = 0;
                    if ((k == 2 && b0 == '\r' && b1 == '\n') || (k == 1 && b0 == '\n')) {
                        msg_end(s, true);
                        s->st = SS_CMD;
                        pt_cur_skip(&c, k);
                        s->bol = true;
                        continue;
                    }
                }
                msg_bytes(s, pt_cur_ptr(&c), k);
                pt_cur_skip(&c, k);
                s->bol = lf != NULL;
                continue;
            }
            case SS_CMD: {
                size_t len = 0;
                enum pt_line_rc rc = pt_cur_line(&c, s->line, sizeof s->line, &s->len, &len, NULL);
                if (rc == PT_LINE_LONG) {
                    s->st = SS_DEAD;
                    if (s->ctx->anomaly != NULL) {
                        s->ctx->anomaly(s->ctx->arg, pkt ? pkt->item : 0, pkt ? pkt->frame : 0,
                                        PT_ANOM_LIMIT_SMTP_LINE,
                                        "command line beyond PT_SMTP_MAX_LINE");
                    }
                    return;
                }
                if (rc == PT_LINE_MORE) {
                    return;
                }
                command(s, s->line);
                continue;
            }
        }
    }
}

static void smtp_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    (void)off;
    struct smtp_flow *s = st;
    if (dir != 0) {
        return;
    }
    if ((s->st == SS_DATA || s->st == SS_BDAT) && s->in_msg) {
        pt_obj_gap(s->obj, n);
        pt_mime_gap(s->mime, n);
        s->msg.size += n;
        if (s->st == SS_BDAT) {
            uint64_t k = n < s->bdat_left ? n : s->bdat_left;
            s->bdat_left -= k;
            if (s->bdat_left == 0) {
                s->st = SS_CMD;
            }
        }
        return;
    }
    s->len = 0; /* a partial command line is dropped */
}

static void smtp_close(void *st)
{
    struct smtp_flow *s = st;
    s->pkt = NULL;
    msg_end(s, false);
    if (s->msg.starttls && s->seq == 0) {
        /* only the envelope before STARTTLS was visible: still worth a row */
        memset(&s->msg, 0, sizeof s->msg);
        s->msg.flow_id = s->rec.id;
        s->msg.starttls = true;
        snprintf(s->msg.helo, sizeof s->msg.helo, "%s", s->helo);
        pt_emit_smtp(s->ctx, &s->msg);
    }
    free(s);
}

extern const struct pt_app_proto pt_app_tls;

static const struct pt_app_proto *smtp_upgraded(void *st)
{
    return ((struct smtp_flow *)st)->st == SS_TLS ? &pt_app_tls : NULL;
}

const struct pt_app_proto pt_app_smtp = {
    .name = "smtp",
    .probe = smtp_probe,
    .refuted = pt_app_not_digit_reply,
    .open = smtp_open,
    .data = smtp_data,
    .gap = smtp_gap,
    .close = smtp_close,
    .datagram = NULL,
    .upgraded = smtp_upgraded,
    .state_size = sizeof(struct smtp_flow),
};
