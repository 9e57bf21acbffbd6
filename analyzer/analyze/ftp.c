/*
 * ftp.c - FTP control connections (RFC 959, RFC 2428 EPRT/EPSV) and their data channels.
 *
 * The control decoder reads commands and replies line by line. PORT/EPRT commands and
 * 227/229 replies announce where the next data connection will go; the decoder registers
 * each as an expectation (expect.h), and the connection that then uses the endpoint is
 * claimed by it before protocol detection. `announces` is the same parsing for the reader,
 * which sends that connection to this flow's worker before any worker has read the line.
 * A data channel's bytes are stored as an object named by the command it serves (STOR,
 * APPE, STOU, RETR, LIST, NLST, MLSD), and an ftp_transfer row links both flows.
 *
 * Trust boundary: both connections are untrusted. Lines are bounded by PT_FTP_MAX_LINE;
 * expectations expire after PT_FTP_EXPECT_S seconds of capture time (their number per
 * worker: expect.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/cursor.h"
#include "../core/limits.h"
#include "app.h"
#include "expect.h"

/* What the control connection last asked the data channel to carry. Shared (reference
 * counted) between the control decoder and the data channels it announced. */
struct ftp_session {
    unsigned refs;
    int64_t ctl_flow;
    char user[64];
    char banner[128];       /* the server's first 220 greeting line, after "220" */
    char cmd[8];
    char arg[256];
    uint32_t cmd_seq;       /* bumps with every transfer command */
};

struct ftp_ctl {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;
    struct ftp_session *s;
    char line[2][PT_FTP_MAX_LINE];
    size_t len[2];
    bool dead[2];
    bool pasv_pending, epsv_pending;
    const struct pt_flow_pkt *pkt;
};

struct ftp_data {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;
    struct ftp_session *s;
    struct pt_obj *obj;
    int dir;                /* direction the bytes flow in, -1 until the first byte */
    struct pt_ftp_rec out;
};

static void session_put(struct ftp_session *s)
{
    if (s != NULL && --s->refs == 0) {
        free(s);
    }
}

extern const struct pt_app_proto pt_app_ftp_data;

static void expect(struct ftp_ctl *c, const struct pt_addr *a, uint16_t port)
{
    int64_t expires = (c->pkt ? c->pkt->ts_us : 0) + (int64_t)PT_FTP_EXPECT_S * 1000000;
    c->s->refs++; /* the expectation's reference */
    pt_expect_add(c->ctx, a, port, expires, &pt_app_ftp_data, c->s);
}

/* ---- parsing the announcements ------------------------------------------------------- */

/* "h1,h2,h3,h4,p1,p2" (PORT argument, or inside a 227 reply) */
static bool parse_hostport(const char *p, struct pt_addr *a, uint16_t *port)
{
    unsigned v[6];
    while (*p != '\0' && !isdigit((unsigned char)*p)) {
        p++;
    }
    if (pt_text_uints(p, ',', v, 6) == 0) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        if (v[i] > 255) {
            return false;
        }
    }
    uint8_t ip[4] = {(uint8_t)v[0], (uint8_t)v[1], (uint8_t)v[2], (uint8_t)v[3]};
    pt_addr_from_v4(a, ip);
    *port = (uint16_t)(v[4] << 8 | v[5]);
    return true;
}

/* EPRT |proto|addr|port| (RFC 2428 §2), any delimiter character. */
static bool parse_eprt(const char *p, struct pt_addr *a, uint16_t *port)
{
    while (*p == ' ') {
        p++;
    }
    char d = *p;
    if (d == '\0') {
        return false;
    }
    char buf[128];
    snprintf(buf, sizeof buf, "%s", p + 1);
    char *f1 = buf, *f2 = strchr(f1, d);
    if (f2 == NULL) {
        return false;
    }
    *f2++ = '\0';
    char *f3 = strchr(f2, d);
    if (f3 == NULL) {
        return false;
    }
    *f3++ = '\0';
    char *end = strchr(f3, d);
    if (end != NULL) {
        *end = '\0';
    }
    long pn = strtol(f3, NULL, 10);
    if (pn <= 0 || pn > 65535 || !pt_addr_parse(f2, a)) {
        return false;
    }
    *port = (uint16_t)pn;
    return true;
}

/* 229 Entering Extended Passive Mode (|||port|) */
static bool parse_epsv(const char *p, uint16_t *port)
{
    const char *o = strchr(p, '(');
    if (o == NULL || o[1] == '\0') {
        return false;
    }
    char d = o[1];
    const char *q = o + 1;
    for (int i = 0; i < 3; i++) {
        q = strchr(q + (i ? 1 : 0), d);
        if (q == NULL) {
            return false;
        }
    }
    long pn = strtol(q + 1, NULL, 10);
    if (pn <= 0 || pn > 65535) {
        return false;
    }
    *port = (uint16_t)pn;
    return true;
}

/* The reader's look at the start of a TCP segment (expect.h): the same announcements the
 * decoder registers, on a segment's first line (up to 200 bytes) and without the session's
 * state, so that the data connection reaches this flow's worker. */
static bool ftp_announces(const uint8_t *p, size_t n, const struct pt_addr *src,
                          struct pt_announce *out)
{
    if (n < 8) {
        return false;
    }
    /* Per-packet path: only the four announcements are looked at further. */
    uint8_t c0 = p[0] | 0x20;
    if (!(c0 == 'p' || c0 == 'e' || (p[0] == '2' && p[1] == '2' && (p[2] == '7' || p[2] == '9')))) {
        return false;
    }
    char line[201];
    size_t k = n < 200 ? n : 200;
    memcpy(line, p, k);
    line[k] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    out->lifetime_us = (int64_t)PT_FTP_EXPECT_S * 1000000;
    if (strncasecmp(line, "PORT ", 5) == 0) {
        return parse_hostport(line + 5, &out->addr, &out->port);
    }
    if (strncasecmp(line, "EPRT ", 5) == 0) {
        return parse_eprt(line + 5, &out->addr, &out->port);
    }
    if (strncmp(line, "227 ", 4) == 0) {
        return parse_hostport(line + 4, &out->addr, &out->port);
    }
    if (strncmp(line, "229 ", 4) == 0 && parse_epsv(line, &out->port)) {
        out->addr = *src; /* EPSV: the replying server's address */
        return true;
    }
    return false;
}

/* ---- control ----------------------------------------------------------------------------- */

/* Commands a client may open a session with, before or instead of USER: RFC 959 (USER, ACCT,
 * SYST, PWD, XPWD, STAT), RFC 2228 (AUTH, PBSZ, PROT), RFC 2389 (FEAT, OPTS), RFC 2640 (LANG),
 * RFC 7151 (HOST), CLNT (sent by several clients, no RFC). lftp opens with FEAT, FileZilla
 * with AUTH or USER, curl with USER, Windows ftp with OPTS UTF8. NOOP, HELP, QUIT and RSET
 * are left out: SMTP has them too. */
static const char *const first_cmds[] = {"USER", "AUTH", "FEAT", "SYST", "OPTS", "HOST",
                                          "CLNT", "LANG", "ACCT", "PWD",  "XPWD", "PBSZ",
                                          "PROT", "STAT"};

/* p[0..n) is "<first command>" then SP, CR or LF. */
static bool first_command(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < sizeof first_cmds / sizeof first_cmds[0]; i++) {
        size_t l = strlen(first_cmds[i]);
        if (n > l && strncasecmp((const char *)p, first_cmds[i], l) == 0 &&
            (p[l] == ' ' || p[l] == '\r' || p[l] == '\n')) {
            return true;
        }
    }
    return false;
}

/* A greeting is 220 then SP or '-' (RFC 959 §4.2) naming FTP in any case ("vsFTPd",
 * "pyftpdlib ... ready", "Microsoft FTP Service"); one whose first line says SMTP is a mail
 * server's on a host called ftp.example. Greetings that name neither are decided by the
 * client's first command. */
static bool ftp_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                      uint16_t sport)
{
    (void)cport;
    (void)sport;
    if (transport != 6 || n < 4) {
        return false;
    }
    if (dir == 1) {
        size_t k = n < 512 ? n : 512;
        const uint8_t *lf = memchr(p, '\n', k);
        size_t first = lf != NULL ? (size_t)(lf - p) : k;
        return memcmp(p, "220", 3) == 0 && (p[3] == ' ' || p[3] == '-') &&
               pt_app_has_word(p, k, "ftp") && !pt_app_has_word(p, first, "smtp");
    }
    return first_command(p, n);
}

static void *ftp_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct ftp_ctl *c = calloc(1, sizeof *c);
    struct ftp_session *s = calloc(1, sizeof *s);
    if (c == NULL || s == NULL) {
        free(c);
        free(s);
        return NULL;
    }
    s->refs = 1;
    s->ctl_flow = rec->id;
    c->ctx = ctx;
    c->rec = *rec;
    c->s = s;
    return c;
}

static void command(struct ftp_ctl *c, char *line)
{
    char *sp = strchr(line, ' ');
    char *arg = sp ? sp + 1 : (char *)"";
    if (sp != NULL) {
        *sp = '\0';
    }
    struct pt_addr a;
    uint16_t port;
    if (strcasecmp(line, "USER") == 0) {
        snprintf(c->s->user, sizeof c->s->user, "%s", arg);
    } else if (strcasecmp(line, "PORT") == 0) {
        if (parse_hostport(arg, &a, &port)) {
            expect(c, &a, port);
        }
    } else if (strcasecmp(line, "EPRT") == 0) {
        if (parse_eprt(arg, &a, &port)) {
            expect(c, &a, port);
        }
    } else if (strcasecmp(line, "PASV") == 0) {
        c->pasv_pending = true;
    } else if (strcasecmp(line, "EPSV") == 0) {
        c->epsv_pending = true;
    } else if (strcasecmp(line, "STOR") == 0 || strcasecmp(line, "APPE") == 0 ||
               strcasecmp(line, "STOU") == 0 || strcasecmp(line, "RETR") == 0 ||
               strcasecmp(line, "LIST") == 0 || strcasecmp(line, "NLST") == 0 ||
               strcasecmp(line, "MLSD") == 0) {
        for (char *q = line; *q; q++) {
            *q = (char)toupper((unsigned char)*q);
        }
        snprintf(c->s->cmd, sizeof c->s->cmd, "%s", line);
        snprintf(c->s->arg, sizeof c->s->arg, "%s", arg);
        c->s->cmd_seq++;
    }
}

static void reply(struct ftp_ctl *c, const char *line)
{
    struct pt_addr a;
    uint16_t port;
    if (c->s->banner[0] == '\0' && strncmp(line, "220", 3) == 0 &&
        (line[3] == ' ' || line[3] == '-')) {
        snprintf(c->s->banner, sizeof c->s->banner, "%s", line + 4); /* names the server */
    }
    if (strncmp(line, "227", 3) == 0 && c->pasv_pending) {
        c->pasv_pending = false;
        if (parse_hostport(line + 3, &a, &port)) {
            expect(c, &a, port);
        }
    } else if (strncmp(line, "229", 3) == 0 && c->epsv_pending) {
        c->epsv_pending = false;
        if (parse_epsv(line, &port)) {
            expect(c, &c->rec.srv, port); /* EPSV: the control connection's server address */
        }
    }
}

static void ftp_data(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                     const struct pt_flow_pkt *pkt)
{
    (void)off;
    struct ftp_ctl *c = st;
    c->pkt = pkt;
    struct pt_cur cur = pt_cur_make(p, n);
    while (pt_cur_left(&cur) > 0 && !c->dead[dir]) {
        size_t len = 0;
        enum pt_line_rc rc = pt_cur_line(&cur, c->line[dir], sizeof c->line[dir], &c->len[dir],
                                         &len, NULL);
        if (rc == PT_LINE_LONG) {
            if (c->ctx->anomaly != NULL) {
                c->ctx->anomaly(c->ctx->arg, pkt ? pkt->item : 0, pkt ? pkt->frame : 0,
                                PT_ANOM_LIMIT_FTP_LINE, "control line longer than PT_FTP_MAX_LINE");
            }
            c->dead[dir] = true;
            return;
        }
        if (rc == PT_LINE_MORE) {
            return;
        }
        for (size_t i = 0; i < len; i++) { /* NUL or control bytes: keep the line printable */
            if ((unsigned char)c->line[dir][i] < 0x20) {
                c->line[dir][i] = ' ';
            }
        }
        if (dir == 0) {
            command(c, c->line[dir]);
        } else {
            reply(c, c->line[dir]);
        }
    }
}

static void ftp_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    (void)off;
    (void)n;
    struct ftp_ctl *c = st;
    c->len[dir] = 0; /* drop the partial line; the next full line parses again */
}

static void ftp_close(void *st)
{
    struct ftp_ctl *c = st;
    session_put(c->s);
    free(c);
}

const struct pt_app_proto pt_app_ftp = {
    .name = "ftp",
    .probe = ftp_probe,
    .refuted = pt_app_not_digit_reply,
    .open = ftp_open,
    .data = ftp_data,
    .gap = ftp_gap,
    .close = ftp_close,
    .datagram = NULL,
    .state_size = sizeof(struct ftp_ctl) + sizeof(struct ftp_session),
    .announces = ftp_announces,
};

/* ---- data channels ------------------------------------------------------------------------ */

/* A data channel claimed by the expectation `data` (its session reference moves here). */
static void *data_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec, void *data)
{
    struct ftp_data *d = calloc(1, sizeof *d);
    if (d == NULL) {
        return NULL;
    }
    d->ctx = ctx;
    d->rec = *rec;
    d->s = data;
    d->dir = -1;
    return d;
}

static void session_free(void *data)
{
    session_put(data);
}

static void data_bytes(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                       const struct pt_flow_pkt *pkt)
{
    struct ftp_data *d = st;
    if (d->dir == -1) {
        d->dir = dir;
        struct ftp_session *s = d->s;
        struct pt_ftp_rec *o = &d->out;
        o->ctl_flow = s->ctl_flow;
        o->data_flow = d->rec.id;
        snprintf(o->command, sizeof o->command, "%s", s->cmd);
        snprintf(o->name, sizeof o->name, "%s", s->arg);
        snprintf(o->user, sizeof o->user, "%s", s->user);
        snprintf(o->banner, sizeof o->banner, "%s", s->banner);
        if (pkt != NULL) {
            o->item = pkt->item;
            o->frame = pkt->frame;
            o->ts_us = pkt->ts_us;
        }
        struct pt_object_rec meta;
        pt_app_object_meta(&meta, &d->rec, dir, "ftp", off, o->item, o->frame, o->ts_us);
        snprintf(meta.name, sizeof meta.name, "%s", s->arg[0] ? s->arg : s->cmd);
        d->obj = pt_obj_open(d->ctx->store, &meta);
    }
    if (dir != d->dir) {
        return; /* a data channel carries one direction; the other side only acknowledges */
    }
    pt_obj_write(d->obj, p, n);
    d->out.size += n;
}

static void data_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    (void)off;
    struct ftp_data *d = st;
    if (dir == d->dir) {
        pt_obj_gap(d->obj, n);
        d->out.size += n;
    }
}

static void data_close(void *st)
{
    struct ftp_data *d = st;
    if (d->obj != NULL) {
        struct pt_object_rec o;
        if (pt_obj_close(d->obj, true, &o)) {
            snprintf(d->out.sha256, sizeof d->out.sha256, "%s", o.sha256);
            d->out.complete = o.complete;
            if (d->ctx->object != NULL) {
                d->ctx->object(d->ctx->arg, &o);
            }
        }
        snprintf(d->out.direction, sizeof d->out.direction, "%s",
                 pt_app_direction(&d->rec, d->dir));
        pt_emit_ftp(d->ctx, &d->out);
    }
    session_put(d->s);
    free(d);
}

static bool never(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                  uint16_t sport)
{
    (void)transport;
    (void)dir;
    (void)p;
    (void)n;
    (void)cport;
    (void)sport;
    return false; /* data channels are claimed by expectation, never by content */
}

const struct pt_app_proto pt_app_ftp_data = {
    .name = "ftp-data",
    .probe = never,
    .open = NULL,
    .data = data_bytes,
    .gap = data_gap,
    .close = data_close,
    .datagram = NULL,
    .state_size = sizeof(struct ftp_data),
    .expected = data_open,
    .expect_free = session_free,
};
