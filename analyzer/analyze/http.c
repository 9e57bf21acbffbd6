/*
 * http.c - HTTP/1.x over a reassembled TCP stream: transactions and bodies as objects.
 *
 * RFC 9112 (message syntax and framing): start line, header fields, and the body length
 * rules of §6.3 in order: responses to HEAD and 1xx/204/304 have none; 101 and a 2xx to
 * CONNECT switch to a tunnel; chunked transfer coding; Content-Length; otherwise a
 * response runs to the end of the connection and a request has no body. Pipelined
 * requests are matched to responses in order. Bodies are stored de-chunked and with the
 * Content-Encoding (gzip, deflate) removed, as they were meant to be read. An HTTP/0.9
 * request (RFC 1945 §4.1: "GET" SP Request-URI CRLF, no version, no headers) is answered by
 * the bare body up to the end of the connection; the transaction then has no status.
 *
 * Trust boundary: every byte of both streams is untrusted. Lines are bounded by
 * PT_HTTP_MAX_LINE, headers by PT_HTTP_MAX_HEADERS, pipelining by PT_HTTP_MAX_PIPELINE,
 * decompression by PT_DECODE_MAX_RATIO and PT_DECODE_MAX_BYTES. A stream that breaks
 * the framing stops being decoded, with an anomaly; nothing is guessed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "../core/cursor.h"
#include "../core/grow.h"
#include "../core/limits.h"
#include "app.h"
#include "mimehdr.h"
#include "multipart.h"

enum hstate {
    HS_START,       /* waiting for a request or status line */
    HS_HEADERS,
    HS_BODY_LEN,    /* remaining bytes by Content-Length */
    HS_CHUNK_SIZE,
    HS_CHUNK_DATA,
    HS_CHUNK_CRLF,  /* the CRLF after a chunk's data */
    HS_TRAILERS,
    HS_BODY_EOF,    /* body runs to the end of the connection */
    HS_TUNNEL,      /* after 101 or CONNECT: not HTTP any more */
    HS_DEAD,        /* framing lost; the rest of this direction is not decoded */
};

struct hmsg {
    char method[16];
    char uri[1024];
    int status;
    char host[256], ua[256], ctype[128], name[256], ce[32];
    bool websocket;   /* Upgrade: websocket */
    bool http09;      /* an HTTP/0.9 simple request */
    int64_t clen;     /* -1 when absent */
    bool chunked;
    unsigned n_headers;
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
    uint64_t off;     /* stream offset of the start line */
    uint64_t body_off;
    struct pt_obj *obj;
    z_stream z;
    bool z_on, z_failed, z_started;
    uint64_t z_in, z_out;
    bool body_gap;
    struct pt_multipart *mp;  /* splits a multipart body into part objects */
    struct pt_obj *part;      /* the open part's object */
    struct http_flow *owner;  /* for the multipart callbacks */
    int dir;
};

struct hdir {
    enum hstate st;
    char line[PT_HTTP_MAX_LINE];
    size_t line_len;
    bool skipping;            /* the rest of an over-long line is being skipped */
    uint64_t remaining;
    uint64_t pos;             /* stream offset reached (for the unparsed rest) */
    struct pt_obj *dead;      /* after framing is lost: the rest of this direction, raw */
    struct hmsg m;
};

struct req_summary {
    char method[16], uri[1024], host[256], ua[256], ctype[128];
    bool http09;              /* the response is a bare body (RFC 1945 §6) */
    uint64_t body, body_off; /* the body's size, and where its object starts in the stream */
    char sha[PT_SHA256_HEX];
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
};

struct http_flow {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;  /* copy at open: id, class, endpoints */
    struct hdir d[2];
    struct req_summary q[PT_HTTP_MAX_PIPELINE];
    unsigned q_head, q_n;
    uint32_t txn_seq;
    const struct pt_flow_pkt *pkt; /* packet delivering the current bytes, may be NULL */
    const struct pt_app_proto *tunnel; /* what the connection became (101, CONNECT) */
    bool early;                    /* a response came before its request had ended */
    struct hmsg early_resp;        /* ... (its body closed), paired when the request ends */
    char early_sha[PT_SHA256_HEX];
    uint64_t early_size;
    uint8_t *tail[2];              /* bytes after the switch, for that decoder */
    size_t tail_n[2], tail_cap[2];
    uint64_t tail_off[2];          /* the stream offset of tail[dir][0] */
};

extern const struct pt_app_proto pt_app_websocket;

/* RFC 9110 §5.6.2 token characters. */
static bool tchar(uint8_t c)
{
    return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A request line: method token, SP, target, SP, "HTTP/1.x", then CR LF or LF. Any method
 * token is accepted (WebDAV, UPnP's NOTIFY and SUBSCRIBE, ...) because the version at the
 * end of the line is what makes it HTTP. *len gets the method's length. */
static bool is_request_line(const uint8_t *p, size_t n, size_t *len)
{
    size_t i = 0;
    while (i < n && i < 32 && tchar(p[i])) {
        i++;
    }
    if (i == 0 || i >= n || p[i] != ' ') {
        return false;
    }
    const uint8_t *lf = memchr(p, '\n', n < PT_HTTP_MAX_LINE ? n : PT_HTTP_MAX_LINE);
    if (lf == NULL) {
        return false;
    }
    size_t end = (size_t)(lf - p);
    if (end > 0 && p[end - 1] == '\r') {
        end--;
    }
    if (end < i + 10 || memcmp(p + end - 8, "HTTP/1.", 7) != 0 || p[end - 9] != ' ') {
        return false;
    }
    if (len != NULL) {
        *len = i;
    }
    return true;
}

/* An HTTP/0.9 simple request: "GET" SP target CRLF (or LF), the target an absolute path or
 * URI without spaces or control bytes (RFC 1945 §4.1, §5.1.2). */
static bool is_simple_request(const uint8_t *p, size_t n)
{
    if (n < 6 || memcmp(p, "GET ", 4) != 0 || (p[4] != '/' && !isalpha(p[4]))) {
        return false;
    }
    for (size_t i = 4; i < n && i < PT_HTTP_MAX_LINE; i++) {
        if (p[i] == '\n' || (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')) {
            return i > 4 && (p[4] == '/' || memchr(p + 4, ':', i - 4) != NULL);
        }
        if (p[i] <= ' ' || p[i] == 0x7f) {
            return false;
        }
    }
    return false;
}

static bool http_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                       uint16_t sport)
{
    (void)cport;
    (void)sport;
    if (transport != 6) {
        return false;
    }
    if (dir == 0) {
        return is_request_line(p, n, NULL) || is_simple_request(p, n);
    }
    return n >= 9 && memcmp(p, "HTTP/1.", 7) == 0 && p[8] == ' ';
}

static void anomaly(struct http_flow *h, enum pt_anom kind, const char *detail)
{
    pt_app_anomaly(h->ctx, h->pkt, h->rec.item, kind, detail);
}

/* Framing is lost in this direction (a bad start line, chunk size or Content-Length, a
 * capture gap): the rest of it is kept as one object, starting with the line that could not
 * be parsed when there is one, and scanned like any other (fail closed: nothing is dropped). */
static void go_dead(struct http_flow *h, int dir, uint64_t off, const char *pre, size_t pre_n)
{
    struct hdir *d = &h->d[dir];
    d->st = HS_DEAD;
    if (d->dead != NULL) {
        return;
    }
    struct pt_object_rec meta;
    pt_app_object_meta(&meta, &h->rec, dir, "http", off, h->pkt ? h->pkt->item : h->rec.item,
                       h->pkt ? h->pkt->frame : 0, h->pkt ? h->pkt->ts_us : h->rec.last_ts);
    snprintf(meta.name, sizeof meta.name, "unparsed rest of the %s stream",
             dir == 0 ? "request" : "response");
    snprintf(meta.encoding, sizeof meta.encoding, "unparsed");
    d->dead = pt_obj_open(h->ctx->store, &meta);
    if (d->dead != NULL && pre != NULL) {
        pt_obj_write(d->dead, (const uint8_t *)pre, pre_n);
        pt_obj_write(d->dead, (const uint8_t *)"\n", 1);
    }
}

static void *http_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct http_flow *h = calloc(1, sizeof *h);
    if (h != NULL) {
        h->ctx = ctx;
        h->rec = *rec;
    }
    return h;
}

/* ---- bodies ------------------------------------------------------------------------------- */

static void emit_object(struct http_flow *h, struct pt_obj *o, bool complete, char *sha,
                        uint64_t *size);

static void part_begin(void *arg, unsigned index, const char *name, const char *ctype)
{
    (void)ctype;
    struct hmsg *m = arg;
    struct http_flow *h = m->owner;
    struct pt_object_rec meta;
    pt_app_object_meta(&meta, &h->rec, m->dir, "http", m->body_off, m->item, m->frame, m->ts_us);
    snprintf(meta.name, sizeof meta.name, "%.255s", name[0] ? name : m->uri);
    snprintf(meta.encoding, sizeof meta.encoding, "multipart");
    meta.part = index;
    m->part = pt_obj_open(h->ctx->store, &meta);
}

static void part_data(void *arg, const uint8_t *p, size_t n)
{
    struct hmsg *m = arg;
    pt_obj_write(m->part, p, n);
}

static void part_gap(void *arg, uint64_t n)
{
    struct hmsg *m = arg;
    pt_obj_gap(m->part, n);
}

static void part_end(void *arg, bool complete)
{
    struct hmsg *m = arg;
    if (m->part != NULL) {
        char sha[PT_SHA256_HEX];
        uint64_t size;
        emit_object(m->owner, m->part, complete, sha, &size);
        m->part = NULL;
    }
}

static void part_anomaly(void *arg, enum pt_anom kind, const char *detail)
{
    struct hmsg *m = arg;
    anomaly(m->owner, kind, detail);
}

static const struct pt_multipart_ops part_ops = {part_begin, part_data, part_gap, part_end,
                                                 part_anomaly};

/* Decoded body bytes go to the body's object and, for multipart bodies, to the splitter. */
static void body_out(struct hmsg *m, const uint8_t *p, size_t n)
{
    pt_obj_write(m->obj, p, n);
    pt_multipart_feed(m->mp, p, n);
}

static void body_open(struct http_flow *h, int dir)
{
    struct hmsg *m = &h->d[dir].m;
    struct pt_object_rec meta;
    pt_app_object_meta(&meta, &h->rec, dir, "http", m->body_off, m->item, m->frame, m->ts_us);
    const char *uri = dir == 0 ? m->uri : (h->q_n ? h->q[h->q_head].uri : "");
    snprintf(meta.name, sizeof meta.name, "%.255s", m->name[0] ? m->name : uri);
    snprintf(meta.encoding, sizeof meta.encoding, "%s%s%s", m->chunked ? "chunked" : "",
             m->chunked && m->ce[0] ? "," : "", m->ce);
    m->obj = pt_obj_open(h->ctx->store, &meta);
    if (m->obj == NULL) {
        anomaly(h, PT_ANOM_OBJECT_STORE_FAILED, "cannot create the object file");
    }
    char boundary[PT_MULTIPART_MAX_BOUNDARY + 1];
    if (pt_multipart_boundary(m->ctype, boundary, sizeof boundary)) {
        m->owner = h;
        m->dir = dir;
        m->mp = pt_multipart_new(boundary, &part_ops, m, false);
    }
    if (strcasecmp(m->ce, "gzip") == 0 || strcasecmp(m->ce, "x-gzip") == 0 ||
        strcasecmp(m->ce, "deflate") == 0) {
        m->z_on = true;
    } else if (m->ce[0] != '\0' && strcasecmp(m->ce, "identity") != 0) {
        anomaly(h, PT_ANOM_HTTP_UNKNOWN_CONTENT_ENCODING, m->ce);
    }
}

static void z_feed(struct http_flow *h, struct hmsg *m, const uint8_t *p, size_t n)
{
    if (!m->z_started) {
        /* deflate is zlib-wrapped by the RFC but raw in practice as often as not */
        int bits = 16 + MAX_WBITS;
        if (strcasecmp(m->ce, "deflate") == 0) {
            bool zlib_hdr = n >= 2 && (p[0] & 0x0f) == 8 && ((p[0] << 8) | p[1]) % 31 == 0;
            bits = zlib_hdr ? MAX_WBITS : -MAX_WBITS;
        }
        if (inflateInit2(&m->z, bits) != Z_OK) {
            m->z_failed = true;
            return;
        }
        m->z_started = true;
    }
    uint8_t out[16384];
    m->z.next_in = (Bytef *)(uintptr_t)p;
    m->z.avail_in = (uInt)n;
    m->z_in += n;
    while (m->z.avail_in > 0 && !m->z_failed) {
        m->z.next_out = out;
        m->z.avail_out = sizeof out;
        int r = inflate(&m->z, Z_NO_FLUSH);
        size_t got = sizeof out - m->z.avail_out;
        m->z_out += got;
        if (m->z_out > PT_DECODE_MAX_BYTES ||
            (m->z_out > 1024 * 1024 && m->z_out / (m->z_in ? m->z_in : 1) > PT_DECODE_MAX_RATIO)) {
            anomaly(h, PT_ANOM_LIMIT_DECOMPRESSION, "decompressed size or ratio beyond the limits");
            m->z_failed = true;
            break;
        }
        body_out(m, out, got);
        if (r == Z_STREAM_END) {
            break; /* trailing bytes after the compressed stream are ignored */
        }
        if (r != Z_OK && r != Z_BUF_ERROR) {
            anomaly(h, PT_ANOM_HTTP_DECOMPRESS_FAILED,
                    m->z.msg ? m->z.msg : "corrupt compressed body");
            m->z_failed = true;
        }
        if (r == Z_BUF_ERROR && got == 0) {
            break;
        }
    }
}

static void body_data(struct http_flow *h, int dir, const uint8_t *p, size_t n)
{
    struct hmsg *m = &h->d[dir].m;
    if (m->z_on) {
        if (!m->z_failed) {
            z_feed(h, m, p, n);
        }
    } else {
        body_out(m, p, n);
    }
}

static void body_gap(struct http_flow *h, int dir, uint64_t n)
{
    struct hmsg *m = &h->d[dir].m;
    m->body_gap = true;
    if (m->z_on) {
        /* the decompressor cannot cross a hole: the object ends partial here */
        if (!m->z_failed) {
            anomaly(h, PT_ANOM_HTTP_GAP_IN_COMPRESSED_BODY, "decoding stopped at a capture gap");
        }
        m->z_failed = true;
        pt_obj_gap(m->obj, n); /* approximate: compressed bytes missing */
        pt_multipart_gap(m->mp, n);
    } else {
        pt_obj_gap(m->obj, n);
        pt_multipart_gap(m->mp, n);
    }
}

static void body_close(struct http_flow *h, int dir, bool complete, char sha[PT_SHA256_HEX],
                       uint64_t *size)
{
    struct hmsg *m = &h->d[dir].m;
    sha[0] = '\0';
    *size = 0;
    if (m->z_started) {
        inflateEnd(&m->z);
        m->z_started = false;
    }
    pt_multipart_free(m->mp); /* an open part ends incomplete */
    m->mp = NULL;
    if (m->obj == NULL) {
        return;
    }
    emit_object(h, m->obj, complete && !m->z_failed && !m->body_gap, sha, size);
    m->obj = NULL;
}

static void emit_object(struct http_flow *h, struct pt_obj *o, bool complete, char *sha,
                        uint64_t *size)
{
    struct pt_object_rec rec;
    if (!pt_obj_close(o, complete, &rec)) {
        anomaly(h, PT_ANOM_OBJECT_STORE_FAILED, "cannot write the object file");
        return;
    }
    snprintf(sha, PT_SHA256_HEX, "%s", rec.sha256);
    *size = rec.size;
    if (h->ctx->object != NULL) {
        h->ctx->object(h->ctx->arg, &rec);
    }
}

/* ---- messages ------------------------------------------------------------------------------ */

static void emit_txn(struct http_flow *h, const struct req_summary *rq, const struct hmsg *resp,
                     const char *resp_sha, uint64_t resp_size)
{
    struct pt_http_rec r;
    memset(&r, 0, sizeof r);
    r.flow_id = h->rec.id;
    r.seq = h->txn_seq++;
    if (rq != NULL) {
        r.item = rq->item;
        r.frame = rq->frame;
        r.ts_us = rq->ts_us;
        snprintf(r.method, sizeof r.method, "%s", rq->method);
        snprintf(r.uri, sizeof r.uri, "%s", rq->uri);
        snprintf(r.host, sizeof r.host, "%s", rq->host);
        snprintf(r.user_agent, sizeof r.user_agent, "%s", rq->ua);
        snprintf(r.req_ctype, sizeof r.req_ctype, "%s", rq->ctype);
        r.req_body = rq->body;
        snprintf(r.req_sha256, sizeof r.req_sha256, "%s", rq->sha);
        r.req_off = rq->body_off;
    } else if (resp != NULL) {
        r.item = resp->item;
        r.frame = resp->frame;
        r.ts_us = resp->ts_us;
    }
    if (resp != NULL) {
        r.status = resp->status;
        snprintf(r.resp_ctype, sizeof r.resp_ctype, "%s", resp->ctype);
        r.resp_body = resp_size;
        snprintf(r.resp_sha256, sizeof r.resp_sha256, "%s", resp_sha);
        r.resp_off = resp->body_off;
    }
    pt_emit_http(h->ctx, &r);
}

/* Bounded string copy between fields of one flow (snprintf would trip -Wrestrict there). */
static void scopy(char *dst, size_t len, const char *src)
{
    size_t n = strnlen(src, len - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Is a request being read (its headers or body)? */
static bool request_open(const struct http_flow *h)
{
    enum hstate st = h->d[0].st;
    return st == HS_HEADERS || st == HS_BODY_LEN || st == HS_CHUNK_SIZE || st == HS_CHUNK_DATA ||
           st == HS_CHUNK_CRLF || st == HS_TRAILERS;
}

static void http_data(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                      const struct pt_flow_pkt *pkt);

/* Keep p[0..n), at stream offset off, for the tunnel's decoder (appended to what is kept). */
static void hold_tail(struct http_flow *h, int dir, uint64_t off, const uint8_t *p, size_t n)
{
    if (h->tail_n[dir] == 0) {
        h->tail_off[dir] = off;
    }
    if (n > PT_HTTP_MAX_TAIL - h->tail_n[dir]) {
        anomaly(h, PT_ANOM_LIMIT_HTTP_TUNNEL_EARLY, "more than PT_HTTP_MAX_TAIL bytes before the "
                                              "tunnel's decoder took over; the rest is not "
                                              "decoded");
        n = PT_HTTP_MAX_TAIL - h->tail_n[dir];
    }
    if (n > 0 && pt_grow(&h->tail[dir], &h->tail_cap[dir], h->tail_n[dir] + n, 1, 4096)) {
        memcpy(h->tail[dir] + h->tail_n[dir], p, n);
        h->tail_n[dir] += n;
    }
}

/* Is the last request sent a CONNECT still waiting for its answer? The client's bytes are
 * then the tunnel's if the proxy says 2xx (a client may send without waiting). */
static bool connect_pending(const struct http_flow *h)
{
    return h->q_n > 0 &&
           strcmp(h->q[(h->q_head + h->q_n - 1) % PT_HTTP_MAX_PIPELINE].method, "CONNECT") == 0;
}

/* A message in `dir` is complete (or cut short when !complete). */
static void message_done(struct http_flow *h, int dir, bool complete)
{
    struct hdir *d = &h->d[dir];
    struct hmsg *m = &d->m;
    char sha[PT_SHA256_HEX];
    uint64_t size;
    body_close(h, dir, complete, sha, &size);
    /* the final answer to a CONNECT that is not 2xx: no tunnel */
    bool refused = dir == 1 && h->q_n > 0 && strcmp(h->q[h->q_head].method, "CONNECT") == 0 &&
                   m->status >= 200 && !(m->status < 300);
    if (dir == 0) {
        if (h->q_n == PT_HTTP_MAX_PIPELINE) {
            anomaly(h, PT_ANOM_LIMIT_HTTP_PIPELINE, "too many requests without responses");
            emit_txn(h, &h->q[h->q_head], NULL, "", 0);
            h->q_head = (h->q_head + 1) % PT_HTTP_MAX_PIPELINE;
            h->q_n--;
        }
        struct req_summary *rq = &h->q[(h->q_head + h->q_n) % PT_HTTP_MAX_PIPELINE];
        h->q_n++;
        scopy(rq->method, sizeof rq->method, m->method);
        scopy(rq->uri, sizeof rq->uri, m->uri);
        scopy(rq->host, sizeof rq->host, m->host);
        scopy(rq->ua, sizeof rq->ua, m->ua);
        scopy(rq->ctype, sizeof rq->ctype, m->ctype);
        scopy(rq->sha, sizeof rq->sha, sha);
        rq->http09 = m->http09;
        rq->body = size;
        rq->body_off = m->body_off;
        rq->item = m->item;
        rq->frame = m->frame;
        rq->ts_us = m->ts_us;
        if (h->early && h->q_n == 1) {
            h->early = false;
            emit_txn(h, rq, &h->early_resp, h->early_sha, h->early_size);
            h->q_head = (h->q_head + 1) % PT_HTTP_MAX_PIPELINE;
            h->q_n--;
        }
    } else if (m->status >= 100 && m->status < 200 && m->status != 101) {
        /* interim response: the final one for the same request follows */
    } else if (h->q_n > 0) {
        emit_txn(h, &h->q[h->q_head], m, sha, size);
        h->q_head = (h->q_head + 1) % PT_HTTP_MAX_PIPELINE;
        h->q_n--;
    } else if (request_open(h) && !h->early) {
        /* RFC 9110 §15: a server may answer before the request's body has arrived (nginx
         * does, to "Expect: 100-continue"); the pair is emitted when the request ends */
        h->early = true;
        h->early_resp = *m;
        scopy(h->early_sha, sizeof h->early_sha, sha);
        h->early_size = size;
    } else {
        anomaly(h, PT_ANOM_HTTP_RESPONSE_WITHOUT_REQUEST, "a response with no request before it");
        emit_txn(h, NULL, m, sha, size);
    }
    if (d->st != HS_TUNNEL && d->st != HS_DEAD) {
        d->st = HS_START;
    }
    if (refused && h->tail_n[0] > 0 && !connect_pending(h)) {
        /* the CONNECT was refused: what the client sent meanwhile is HTTP again */
        uint8_t *held = h->tail[0];
        size_t n = h->tail_n[0];
        h->tail[0] = NULL;
        h->tail_n[0] = h->tail_cap[0] = 0;
        http_data(h, 0, h->tail_off[0], held, n, NULL);
        free(held);
    }
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
}

static void header_line(struct http_flow *h, int dir, char *line)
{
    struct hmsg *m = &h->d[dir].m;
    if (++m->n_headers > PT_HTTP_MAX_HEADERS) {
        if (m->n_headers == PT_HTTP_MAX_HEADERS + 1) {
            anomaly(h, PT_ANOM_LIMIT_HTTP_HEADERS, "more header lines than PT_HTTP_MAX_HEADERS");
        }
        return;
    }
    char *colon = strchr(line, ':');
    if (colon == NULL) {
        anomaly(h, PT_ANOM_HTTP_BAD_HEADER, "header line without a colon");
        return;
    }
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    trim(v);
    if (strcasecmp(line, "Host") == 0) {
        snprintf(m->host, sizeof m->host, "%s", v);
    } else if (strcasecmp(line, "User-Agent") == 0) {
        snprintf(m->ua, sizeof m->ua, "%s", v);
    } else if (strcasecmp(line, "Content-Type") == 0) {
        snprintf(m->ctype, sizeof m->ctype, "%s", v);
    } else if (strcasecmp(line, "Content-Encoding") == 0) {
        snprintf(m->ce, sizeof m->ce, "%s", v);
    } else if (strcasecmp(line, "Content-Disposition") == 0) {
        pt_mime_param(v, "filename", m->name, sizeof m->name); /* RFC 6266 §4.3 */
    } else if (strcasecmp(line, "Upgrade") == 0) {
        m->websocket = strcasestr(v, "websocket") != NULL;
    } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
        m->chunked = strcasestr(v, "chunked") != NULL;
    } else if (strcasecmp(line, "Content-Length") == 0) {
        char *end = NULL;
        long long n = strtoll(v, &end, 10);
        if (end == v || *end != '\0' || n < 0 || (m->clen >= 0 && m->clen != n)) {
            anomaly(h, PT_ANOM_HTTP_BAD_CONTENT_LENGTH, "invalid or conflicting Content-Length");
            go_dead(h, dir, h->d[dir].pos, NULL, 0); /* RFC 9112 §6.3: unrecoverable */
            return;
        }
        m->clen = n;
    }
}

/* A new message in `dir` starts at stream offset off, in the packet at hand. */
static struct hmsg *msg_reset(struct http_flow *h, int dir, uint64_t off)
{
    struct hmsg *m = &h->d[dir].m;
    memset(m, 0, sizeof *m);
    m->clen = -1;
    m->off = off;
    if (h->pkt != NULL) {
        m->item = h->pkt->item;
        m->frame = h->pkt->frame;
        m->ts_us = h->pkt->ts_us;
    }
    return m;
}

static void start_message(struct http_flow *h, int dir, char *line, uint64_t off)
{
    struct hdir *d = &h->d[dir];
    struct hmsg *m = msg_reset(h, dir, off);
    if (dir == 0) {
        size_t ml = 0;
        char tmp[PT_HTTP_MAX_LINE + 2];
        int tl = snprintf(tmp, sizeof tmp, "%s\n", line);
        if (tl > 0 && is_simple_request((const uint8_t *)tmp, (size_t)tl)) {
            snprintf(m->method, sizeof m->method, "GET");
            snprintf(m->uri, sizeof m->uri, "%s", line + 4);
            m->http09 = true;
            message_done(h, dir, true); /* no headers, no body */
            return;
        }
        if (tl < 0 || !is_request_line((const uint8_t *)tmp, (size_t)tl, &ml) ||
            ml >= sizeof m->method) {
            anomaly(h, PT_ANOM_HTTP_BAD_REQUEST_LINE, "not an HTTP request line");
            go_dead(h, dir, off, line, strlen(line));
            return;
        }
        memcpy(m->method, line, ml);
        char *uri = line + ml + 1;
        char *sp = strrchr(uri, ' ');
        if (sp == NULL || strncmp(sp + 1, "HTTP/", 5) != 0) {
            anomaly(h, PT_ANOM_HTTP_BAD_REQUEST_LINE, "request line without an HTTP version");
            go_dead(h, dir, off, line, strlen(line));
            return;
        }
        *sp = '\0';
        snprintf(m->uri, sizeof m->uri, "%s", uri);
    } else {
        if (strncmp(line, "HTTP/", 5) != 0 || strlen(line) < 12 || !isdigit((unsigned char)line[9])) {
            anomaly(h, PT_ANOM_HTTP_BAD_STATUS_LINE, "not an HTTP status line");
            go_dead(h, dir, off, line, strlen(line));
            return;
        }
        unsigned code = 0;
        pt_text_uints(line + 9, 0, &code, 1);
        m->status = code > 999 ? 999 : (int)code;
    }
    d->st = HS_HEADERS;
}

static void headers_done(struct http_flow *h, int dir, uint64_t body_off)
{
    struct hdir *d = &h->d[dir];
    struct hmsg *m = &d->m;
    m->body_off = body_off;
    if (dir == 1) {
        const char *rq_method = h->q_n ? h->q[h->q_head].method : "";
        if (strcmp(rq_method, "HEAD") == 0 || (m->status >= 100 && m->status < 200) ||
            m->status == 204 || m->status == 304) {
            bool upgrade = m->status == 101;
            bool ws = m->websocket;
            message_done(h, dir, true);
            if (upgrade) {
                d->st = HS_TUNNEL;
                h->d[0].st = HS_TUNNEL;
                h->tunnel = ws ? &pt_app_websocket : &pt_app_reprobe;
            }
            return;
        }
        if (strcmp(rq_method, "CONNECT") == 0 && m->status >= 200 && m->status < 300) {
            message_done(h, dir, true);
            d->st = HS_TUNNEL;
            h->d[0].st = HS_TUNNEL;
            h->tunnel = &pt_app_reprobe;
            return;
        }
    }
    if (m->chunked) {
        body_open(h, dir);
        d->st = HS_CHUNK_SIZE;
    } else if (m->clen > 0) {
        body_open(h, dir);
        d->remaining = (uint64_t)m->clen;
        d->st = HS_BODY_LEN;
    } else if (m->clen == 0 || dir == 0) {
        message_done(h, dir, true);
    } else {
        body_open(h, dir);
        d->st = HS_BODY_EOF;
    }
}

/* Process one complete line (without CRLF) in a line-oriented state. */
static void on_line(struct http_flow *h, int dir, char *line, uint64_t line_off, uint64_t next_off)
{
    struct hdir *d = &h->d[dir];
    switch (d->st) {
        case HS_START:
            if (line[0] == '\0') {
                return; /* RFC 9112 §2.2: ignore empty lines before a message */
            }
            start_message(h, dir, line, line_off);
            return;
        case HS_HEADERS:
            if (line[0] == '\0') {
                headers_done(h, dir, next_off);
            } else {
                header_line(h, dir, line);
            }
            return;
        case HS_CHUNK_SIZE: {
            char *end = NULL;
            unsigned long long sz = strtoull(line, &end, 16);
            if (end == line || (*end != '\0' && *end != ';' && *end != ' ' && *end != '\t')) {
                anomaly(h, PT_ANOM_HTTP_BAD_CHUNK_SIZE, "chunk size is not hexadecimal");
                body_close(h, dir, false, (char[PT_SHA256_HEX]){0}, &(uint64_t){0});
                go_dead(h, dir, d->pos, line, strlen(line));
                return;
            }
            if (sz == 0) {
                d->st = HS_TRAILERS;
            } else {
                d->remaining = sz;
                d->st = HS_CHUNK_DATA;
            }
            return;
        }
        case HS_CHUNK_CRLF:
            if (line[0] != '\0') {
                anomaly(h, PT_ANOM_HTTP_BAD_CHUNK_END, "chunk data not followed by CRLF");
            }
            d->st = HS_CHUNK_SIZE;
            return;
        case HS_TRAILERS:
            if (line[0] == '\0') {
                message_done(h, dir, true);
            }
            return;
        default:
            return;
    }
}

/* Do p[0..n) begin (as far as they go) like "HTTP/"? A server may answer an HTTP/0.9 request
 * with a full response all the same. */
static bool status_line_start(const uint8_t *p, size_t n)
{
    return memcmp(p, "HTTP/", n < 5 ? n : 5) == 0;
}

/* The response to an HTTP/0.9 request: the body, up to the end of the connection. */
static void simple_response(struct http_flow *h, uint64_t off)
{
    msg_reset(h, 1, off)->body_off = off;
    body_open(h, 1);
    h->d[1].st = HS_BODY_EOF;
}

static void http_data(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                      const struct pt_flow_pkt *pkt)
{
    struct http_flow *h = st;
    struct hdir *d = &h->d[dir];
    h->pkt = pkt;
    struct pt_cur c = pt_cur_make(p, n);
    while (pt_cur_left(&c) > 0) {
        size_t left = pt_cur_left(&c);
        d->pos = off;
        switch (d->st) {
            case HS_DEAD:
                pt_obj_write(d->dead, pt_cur_ptr(&c), left); /* NULL-safe */
                return;
            case HS_TUNNEL:
                /* the rest of this call belongs to the tunnel's protocol */
                hold_tail(h, dir, off, pt_cur_ptr(&c), left);
                return;
            case HS_BODY_EOF:
                body_data(h, dir, pt_cur_ptr(&c), left);
                return;
            case HS_BODY_LEN:
            case HS_CHUNK_DATA: {
                size_t k = d->remaining < left ? (size_t)d->remaining : left;
                body_data(h, dir, pt_cur_ptr(&c), k);
                pt_cur_skip(&c, k);
                d->remaining -= k;
                off += k;
                if (d->remaining == 0) {
                    if (d->st == HS_BODY_LEN) {
                        message_done(h, dir, true);
                    } else {
                        d->st = HS_CHUNK_CRLF;
                    }
                }
                continue;
            }
            case HS_START:
                if (dir == 0 && d->line_len == 0 && connect_pending(h)) {
                    hold_tail(h, dir, off, pt_cur_ptr(&c), left);
                    return;
                }
                if (dir == 1 && d->line_len == 0 && h->q_n > 0 && h->q[h->q_head].http09 &&
                    !status_line_start(pt_cur_ptr(&c), left)) {
                    simple_response(h, off);
                    continue;
                }
                /* fall through - a start line */
            default: {
                /* line-oriented states: gather up to LF */
                size_t len = 0, raw = 0;
                enum pt_line_rc rc = pt_cur_line_resync(&c, d->line, sizeof d->line,
                                                        &d->line_len, &d->skipping, &len, &raw);
                off += left - pt_cur_left(&c);
                if (rc == PT_LINE_MORE) {
                    continue;
                }
                if (rc == PT_LINE_CUT) {
                    /* read up to the limit; parsing goes on after its end (resync) */
                    anomaly(h, PT_ANOM_LIMIT_HTTP_LINE,
                            "a line longer than PT_HTTP_MAX_LINE was cut "
                            "there; parsing went on after its end");
                }
                if (memchr(d->line, '\0', len) != NULL) {
                    anomaly(h, PT_ANOM_HTTP_NUL_IN_LINE, "NUL byte in a start or header line");
                    body_close(h, dir, false, (char[PT_SHA256_HEX]){0}, &(uint64_t){0});
                    go_dead(h, dir, off - raw, d->line, len);
                    continue;
                }
                on_line(h, dir, d->line, off - raw, off);
            }
        }
    }
}

static void http_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    (void)off;
    struct http_flow *h = st;
    struct hdir *d = &h->d[dir];
    h->pkt = NULL;
    switch (d->st) {
        case HS_BODY_EOF:
            body_gap(h, dir, n);
            return;
        case HS_BODY_LEN:
            if (n <= d->remaining) {
                body_gap(h, dir, n);
                d->remaining -= n;
                if (d->remaining == 0) {
                    message_done(h, dir, false);
                }
                return;
            }
            body_gap(h, dir, d->remaining);
            message_done(h, dir, false);
            break;
        case HS_START:
        case HS_DEAD:
        case HS_TUNNEL:
            if (d->st == HS_START && d->line_len == 0) {
                /* between messages: the next one may be whole; resynchronise on a start line */
                return;
            }
            break;
        default:
            body_close(h, dir, false, (char[PT_SHA256_HEX]){0}, &(uint64_t){0});
            break;
    }
    if (d->st == HS_DEAD) {
        pt_obj_gap(d->dead, n);
        return;
    }
    if (d->st == HS_TUNNEL) {
        return;
    }
    anomaly(h, PT_ANOM_HTTP_GAP_LOST_FRAMING,
            "a capture gap broke the message framing; the rest of "
            "this direction is kept unparsed");
    go_dead(h, dir, off + n, NULL, 0);
}

static void http_close(void *st)
{
    struct http_flow *h = st;
    h->pkt = NULL;
    for (int dir = 0; dir < 2; dir++) {
        struct hdir *d = &h->d[dir];
        if (d->st == HS_BODY_EOF) {
            message_done(h, dir, true); /* the connection's end is the body's end */
        } else if (d->st == HS_BODY_LEN || d->st == HS_CHUNK_DATA || d->st == HS_CHUNK_SIZE ||
                   d->st == HS_CHUNK_CRLF || d->st == HS_TRAILERS) {
            message_done(h, dir, false);
        } else {
            char sha[PT_SHA256_HEX];
            uint64_t size;
            body_close(h, dir, false, sha, &size);
        }
    }
    for (int dir = 0; dir < 2; dir++) {
        if (h->d[dir].dead != NULL) {
            char sha[PT_SHA256_HEX];
            uint64_t size;
            emit_object(h, h->d[dir].dead, true, sha, &size);
            h->d[dir].dead = NULL;
        }
    }
    if (h->early) { /* its request never ended */
        emit_txn(h, NULL, &h->early_resp, h->early_sha, h->early_size);
    }
    while (h->q_n > 0) { /* requests that never saw a response */
        emit_txn(h, &h->q[h->q_head], NULL, "", 0);
        h->q_head = (h->q_head + 1) % PT_HTTP_MAX_PIPELINE;
        h->q_n--;
    }
    free(h->tail[0]);
    free(h->tail[1]);
    free(h);
}

static const struct pt_app_proto *http_upgraded(void *st)
{
    struct http_flow *h = st;
    return h->d[1].st == HS_TUNNEL ? h->tunnel : NULL;
}

static size_t http_tail(void *st, int dir, const uint8_t **p, uint64_t *off)
{
    struct http_flow *h = st;
    *p = h->tail[dir];
    *off = h->tail_off[dir];
    return h->tail_n[dir];
}

const struct pt_app_proto pt_app_http = {
    .name = "http",
    .probe = http_probe,
    .open = http_open,
    .data = http_data,
    .gap = http_gap,
    .close = http_close,
    .datagram = NULL,
    .upgraded = http_upgraded,
    .tail = http_tail,
    .state_size = sizeof(struct http_flow),
};
