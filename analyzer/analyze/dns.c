/*
 * dns.c - DNS messages over UDP and TCP (RFC 1035 §4; TCP framing RFC 7766 §8).
 *
 * Every message (query or response) becomes one dns_query row: id, flags, the first
 * question, and a summary of the answers with the RDATA byte count (what a tunnel can
 * carry back). Every answer is also a dns_answer row: owner, type, class, TTL and its RDATA
 * as text (A, AAAA, CNAME, NS, PTR, MX, SRV, TXT decoded; other types in hex, so the data a
 * tunnel returns in NULL or private types is kept). Heuristics that need whole-case
 * aggregates run later over these rows.
 *
 * Trust boundary: messages are untrusted. Names follow compression pointers only
 * backwards and at most PT_DNS_MAX_JUMPS times; labels are at most 63 bytes and names
 * 255 (RFC 1035 §2.3.4); at most PT_DNS_MAX_RRS answers are summarised. A message that
 * breaks these rules is recorded with malformed = 1 and what could be read.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cursor.h"
#include "../core/limits.h"
#include "app.h"

struct dns_flow {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;
    uint8_t *buf[2];      /* TCP: pending bytes of a length-prefixed message */
    size_t len[2], need[2];
    bool dead[2];
    const struct pt_flow_pkt *pkt;
};

/* Read a (possibly compressed) name at *off of msg into out; advances *off past it. */
static bool read_name(const uint8_t *msg, size_t n, size_t *off, char *out, size_t outlen)
{
    size_t o = *off, w = 0, total = 0;
    bool jumped = false;
    unsigned jumps = 0;
    out[0] = '\0';
    for (;;) {
        struct pt_cur c = pt_cur_make(msg, n);
        if (!pt_cur_skip(&c, o)) {
            return false;
        }
        uint8_t len = pt_cur_u8(&c);
        if (!pt_cur_ok(&c)) {
            return false;
        }
        if ((len & 0xc0) == 0xc0) { /* pointer (RFC 1035 §4.1.4) */
            uint8_t lo = pt_cur_u8(&c);
            if (!pt_cur_ok(&c)) {
                return false;
            }
            size_t target = ((size_t)(len & 0x3f) << 8) | lo;
            if (target >= o || ++jumps > PT_DNS_MAX_JUMPS) {
                return false; /* forward or self pointer: a loop or garbage */
            }
            if (!jumped) {
                *off = o + 2;
                jumped = true;
            }
            o = target;
            continue;
        }
        if ((len & 0xc0) != 0) {
            return false; /* 0x40/0x80 label types are obsolete (RFC 6891 §5) */
        }
        if (len == 0) {
            if (!jumped) {
                *off = o + 1;
            }
            if (w == 0 && outlen > 1) {
                out[w++] = '.';
            }
            out[w < outlen ? w : outlen - 1] = '\0';
            return true;
        }
        const uint8_t *label;
        if (!pt_cur_bytes(&c, len, &label)) {
            return false;
        }
        total += (size_t)len + 1;
        if (total > 255) {
            return false;
        }
        if (w > 0 && w + 1 < outlen) {
            out[w++] = '.';
        }
        for (size_t i = 0; i < len; i++) {
            uint8_t ch = label[i];
            char tmp[5];
            int k;
            if (ch > 0x20 && ch < 0x7f && ch != '.' && ch != '\\') {
                tmp[0] = (char)ch;
                k = 1;
            } else if (ch == '.' || ch == '\\') {
                tmp[0] = '\\';
                tmp[1] = (char)ch;
                k = 2;
            } else {
                k = snprintf(tmp, sizeof tmp, "\\%03u", ch);
            }
            if (w + (size_t)k + 1 < outlen) {
                memcpy(out + w, tmp, (size_t)k);
                w += (size_t)k;
            }
        }
        out[w < outlen ? w : outlen - 1] = '\0';
        o += 1 + (size_t)len;
    }
}

/* Append "; s" to the summary when it fits whole (a cut item would mislead). */
static void append(char *buf, size_t len, const char *s)
{
    size_t used = strlen(buf), add = strlen(s);
    size_t sep = used ? 2 : 0;
    if (used + sep + add + 1 > len) {
        return;
    }
    memcpy(buf + used, "; ", sep);
    memcpy(buf + used + sep, s, add + 1);
}

/* TXT (RFC 1035 §3.3.14): its character-strings, each quoted, non-printable bytes, quotes
 * and backslashes as \DDD. */
static void txt_text(const uint8_t *rd, uint16_t rdlen, char *val, size_t len)
{
    struct pt_cur c = pt_cur_make(rd, rdlen);
    size_t w = 0;
    val[0] = '\0';
    while (pt_cur_left(&c) > 0 && w + 8 < len) {
        uint8_t sl = pt_cur_u8(&c);
        const uint8_t *sp;
        if (!pt_cur_bytes(&c, sl, &sp)) {
            return; /* a string longer than the RDATA: what was read stays */
        }
        w += (size_t)snprintf(val + w, len - w, "%s\"", w ? " " : "");
        for (size_t i = 0; i < sl && w + 8 < len; i++) {
            if (sp[i] >= 0x20 && sp[i] < 0x7f && sp[i] != '"' && sp[i] != '\\') {
                val[w++] = (char)sp[i];
            } else {
                w += (size_t)snprintf(val + w, len - w, "\\%03u", sp[i]);
            }
        }
        w += (size_t)snprintf(val + w, len - w, "\"");
    }
    val[w < len ? w : len - 1] = '\0';
}

/* One answer's RDATA as text into val: A/AAAA addresses, CNAME/NS/PTR names, MX (RFC 1035
 * §3.3.9) "preference exchange", SRV (RFC 2782) "priority weight port target", TXT strings.
 * Returns the type's name, or NULL for a type not decoded or RDATA that does not parse
 * (val is then the RDATA in hex, cut to fit). */
static const char *rdata_text(const uint8_t *msg, size_t n, size_t rd_off, const uint8_t *rd,
                              uint16_t rdlen, uint16_t type, char *val, size_t len)
{
    struct pt_cur c = pt_cur_make(rd, rdlen);
    char target[1024];
    size_t t = rd_off;
    switch (type) {
        case 1:
        case 28:
            if (rdlen == (type == 1 ? 4 : 16) && inet_ntop(type == 1 ? AF_INET : AF_INET6, rd, val,
                                                           (socklen_t)len) != NULL) {
                return type == 1 ? "A" : "AAAA";
            }
            break;
        case 2:
        case 5:
        case 12:
            if (read_name(msg, n, &t, val, len)) {
                return type == 5 ? "CNAME" : type == 2 ? "NS" : "PTR";
            }
            break;
        case 15:
        case 33: {
            uint16_t a = pt_cur_be16(&c), b = 0, port = 0;
            if (type == 33) {
                b = pt_cur_be16(&c);
                port = pt_cur_be16(&c);
            }
            t = rd_off + (type == 33 ? 6 : 2);
            if (!pt_cur_ok(&c) || !read_name(msg, n, &t, target, sizeof target)) {
                break;
            }
            if (type == 15) {
                snprintf(val, len, "%u %s", a, target);
                return "MX";
            }
            snprintf(val, len, "%u %u %u %s", a, b, port, target);
            return "SRV";
        }
        case 16:
            txt_text(rd, rdlen, val, len);
            return "TXT";
        default:
            break;
    }
    size_t w = 0;
    for (size_t i = 0; i < rdlen && w + 3 <= len; i++) {
        w += (size_t)snprintf(val + w, len - w, "%02x", rd[i]);
    }
    val[w < len ? w : len - 1] = '\0';
    return NULL;
}

/* Parse one message; false when it is not plausibly DNS at all. With `d`, each answer is
 * also a dns_answer row. */
static bool parse(const uint8_t *msg, size_t n, struct pt_dns_rec *r, struct dns_flow *d)
{
    struct pt_cur c = pt_cur_make(msg, n);
    r->id = pt_cur_be16(&c);
    uint16_t flags = pt_cur_be16(&c);
    uint16_t qd = pt_cur_be16(&c), an = pt_cur_be16(&c);
    pt_cur_be16(&c);
    pt_cur_be16(&c);
    if (!pt_cur_ok(&c)) {
        return false;
    }
    r->size = (uint32_t)n;
    r->response = (flags & 0x8000) != 0;
    r->opcode = (flags >> 11) & 15;
    r->rcode = flags & 15;
    r->n_answers = an;
    size_t off = 12;
    if (qd > 0) {
        if (!read_name(msg, n, &off, r->qname, sizeof r->qname)) {
            r->malformed = true;
            return qd == 1;
        }
        struct pt_cur q = pt_cur_make(msg, n);
        pt_cur_skip(&q, off);
        r->qtype = pt_cur_be16(&q);
        r->qclass = pt_cur_be16(&q);
        if (!pt_cur_ok(&q)) {
            r->malformed = true;
            return true;
        }
        off += 4;
        for (unsigned i = 1; i < qd && i < 16; i++) { /* further questions are skipped */
            char skip[1024];
            if (!read_name(msg, n, &off, skip, sizeof skip)) {
                r->malformed = true;
                return true;
            }
            off += 4;
        }
    }
    for (unsigned i = 0; i < an && i < PT_DNS_MAX_RRS; i++) {
        char owner[1024];
        if (!read_name(msg, n, &off, owner, sizeof owner)) {
            r->malformed = true;
            return true;
        }
        struct pt_cur rr = pt_cur_make(msg, n);
        pt_cur_skip(&rr, off);
        uint16_t type = pt_cur_be16(&rr);
        uint16_t rclass = pt_cur_be16(&rr);
        uint32_t ttl = pt_cur_be32(&rr);
        uint16_t rdlen = pt_cur_be16(&rr);
        const uint8_t *rd;
        if (!pt_cur_ok(&rr) || !pt_cur_bytes(&rr, rdlen, &rd)) {
            r->malformed = true;
            return true;
        }
        size_t rd_off = off + 10;
        off = rd_off + rdlen;
        r->answer_bytes += rdlen;
        struct pt_dns_answer_rec ans;
        struct pt_dns_answer_rec *ar = &ans;
        memset(ar, 0, sizeof *ar);
        const char *tn = rdata_text(msg, n, rd_off, rd, rdlen, type, ar->data, sizeof ar->data);
        char item[200];
        if (tn != NULL) {
            /* the summary keeps each answer short; the dns_answer row has it whole */
            snprintf(item, sizeof item, "%s %.160s%s", tn, ar->data,
                     strlen(ar->data) > 160 ? "..." : "");
        } else if (type == 10) {
            snprintf(item, sizeof item, "NULL[%u]", rdlen);
        } else {
            snprintf(item, sizeof item, "TYPE%u[%u]", type, rdlen);
        }
        if (d != NULL) {
            ar->flow_id = r->flow_id;
            ar->item = r->item;
            ar->frame = r->frame;
            ar->ts_us = r->ts_us;
            ar->msg_id = r->id;
            ar->index = (uint16_t)i;
            snprintf(ar->name, sizeof ar->name, "%s", owner);
            ar->type = type;
            ar->rclass = rclass;
            ar->ttl = ttl;
            ar->rdlength = rdlen;
            ar->decoded = tn != NULL;
            pt_emit_dns_answer(d->ctx, ar);
        }
        append(r->answers, sizeof r->answers, item);
    }
    return true;
}

/* Content first: a message whose header and first question parse is DNS on any port. */
static bool dns_port(uint16_t port)
{
    return port == 53 || port == 5353 || port == 5355;
}

static bool dns_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                      uint16_t sport)
{
    (void)dir;
    bool port_says = dns_port(cport) || dns_port(sport);
    if (transport == 6) {
        if (n < 14) {
            return false;
        }
        size_t len = ((size_t)p[0] << 8) | p[1];
        p += 2;
        n -= 2;
        if (len < 12 || (!port_says && len > n)) {
            return false;
        }
        n = n < len ? n : len;
    }
    if (n < 12) {
        return false;
    }
    if (port_says) {
        return true; /* the port agrees: even a malformed message is worth a row */
    }
    struct pt_dns_rec r;
    memset(&r, 0, sizeof r);
    if (!parse(p, n, &r, NULL)) {
        return false;
    }
    uint16_t qd = (uint16_t)((p[4] << 8) | p[5]);
    return qd == 1 && !r.malformed && r.opcode <= 5 && r.qclass != 0;
}

static void *dns_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct dns_flow *d = calloc(1, sizeof *d);
    if (d != NULL) {
        d->ctx = ctx;
        d->rec = *rec;
    }
    return d;
}

static void emit(struct dns_flow *d, int dir, const uint8_t *msg, size_t n, int transport)
{
    struct pt_dns_rec r;
    memset(&r, 0, sizeof r);
    r.flow_id = d->rec.id;
    r.dir = (uint8_t)dir;
    r.transport = (uint8_t)transport;
    if (d->pkt != NULL) {
        r.item = d->pkt->item;
        r.frame = d->pkt->frame;
        r.ts_us = d->pkt->ts_us;
    }
    if (!parse(msg, n, &r, d)) {
        r.malformed = true;
    }
    if (r.malformed && d->ctx->anomaly != NULL) {
        d->ctx->anomaly(d->ctx->arg, r.item, r.frame, PT_ANOM_DNS_MALFORMED,
                        "DNS message breaks RFC 1035 framing; partial row kept");
    }
    pt_emit_dns(d->ctx, &r);
}

static void dns_datagram(void *st, int dir, const uint8_t *p, size_t n, const struct pt_flow_pkt *pkt)
{
    struct dns_flow *d = st;
    d->pkt = pkt;
    emit(d, dir, p, n, 17);
}

/* TCP: each message is preceded by its length (RFC 7766 §8). */
static void dns_data(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                     const struct pt_flow_pkt *pkt)
{
    (void)off;
    struct dns_flow *d = st;
    d->pkt = pkt;
    while (n > 0 && !d->dead[dir]) {
        if (d->buf[dir] == NULL) {
            d->buf[dir] = malloc(65535 + 2);
            if (d->buf[dir] == NULL) {
                return;
            }
            d->need[dir] = 2;
        }
        size_t k = d->need[dir] - d->len[dir] < n ? d->need[dir] - d->len[dir] : n;
        memcpy(d->buf[dir] + d->len[dir], p, k);
        d->len[dir] += k;
        p += k;
        n -= k;
        if (d->len[dir] < d->need[dir]) {
            return;
        }
        if (d->need[dir] == 2) {
            size_t mlen = ((size_t)d->buf[dir][0] << 8) | d->buf[dir][1];
            d->need[dir] = 2 + mlen;
            if (mlen == 0) {
                d->len[dir] = 0;
                d->need[dir] = 2;
            }
            continue;
        }
        emit(d, dir, d->buf[dir] + 2, d->len[dir] - 2, 6);
        d->len[dir] = 0;
        d->need[dir] = 2;
    }
}

static void dns_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    (void)off;
    (void)n;
    struct dns_flow *d = st;
    d->dead[dir] = true; /* the length prefixes cannot be found again after a hole */
}

static void dns_close(void *st)
{
    struct dns_flow *d = st;
    free(d->buf[0]);
    free(d->buf[1]);
    free(d);
}

const struct pt_app_proto pt_app_dns = {
    .name = "dns",
    .probe = dns_probe,
    .open = dns_open,
    .data = dns_data,
    .gap = dns_gap,
    .close = dns_close,
    .datagram = dns_datagram,
    .state_size = sizeof(struct dns_flow),
};
