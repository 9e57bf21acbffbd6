/*
 * tls.c - TLS handshakes: ClientHello (SNI, ALPN, JA3, JA4), ServerHello, and the
 * server certificate's subject and issuer where it travels in clear (TLS 1.2 and older).
 *
 * RFC 8446 §4 (handshake, extensions), RFC 5246 §7.4 (TLS 1.2 Certificate), RFC 6066 §3
 * (server_name), RFC 7301 (ALPN), RFC 8701 (GREASE values, left out of fingerprints).
 * JA3: salesforce/ja3 (MD5 of version,ciphers,extensions,groups,point formats).
 * JA4: FoxIO-LLC/ja4 technical details (TCP form "t").
 *
 * Trust boundary: records and handshake messages are untrusted. Handshake bytes are
 * gathered up to PT_TLS_MAX_HANDSHAKE per direction; lists are read through cursors;
 * certificates are parsed by libcrypto's DER decoder (d2i_X509) with their own length.
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cursor.h"
#include "../core/limits.h"
#include "../core/memcap.h"
#include "../core/sha256.h"
#include "app.h"

struct tls_dir {
    uint8_t rec_hdr[5];
    size_t rec_hdr_len;
    size_t rec_left;       /* bytes of the current record still to come */
    uint8_t rec_type;
    uint8_t *hs;           /* gathered handshake bytes (grown as they arrive) */
    size_t hs_len, hs_cap;
    bool done;             /* stop parsing: encrypted, gap, or limit */
};

struct tls_flow {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;
    struct tls_dir d[2];
    struct pt_tls_rec out;
    bool have_client, have_server;
    const struct pt_flow_pkt *pkt;
};

static bool grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static bool tls_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                      uint16_t sport)
{
    (void)cport;
    (void)sport;
    if (transport != 6 || n < 6 || p[0] != 0x16 || p[1] != 0x03 || p[2] > 0x04) {
        return false;
    }
    return p[5] == (dir == 0 ? 1 : 2); /* ClientHello first from the client, ServerHello */
}

static void *tls_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct tls_flow *t = calloc(1, sizeof *t);
    if (t != NULL) {
        t->ctx = ctx;
        t->rec = *rec;
        t->out.flow_id = rec->id;
    }
    return t;
}

static void anomaly(struct tls_flow *t, enum pt_anom kind, const char *detail)
{
    pt_app_anomaly(t->ctx, t->pkt, 0, kind, detail);
}

/* Append "v" to a "-" or "," separated decimal list. */
static void list_add(char *buf, size_t len, unsigned v, char sep)
{
    size_t used = strlen(buf);
    if (used + 8 < len) {
        if (used > 0) {
            buf[used++] = sep;
        }
        snprintf(buf + used, len - used, "%u", v);
    }
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* "0a0b,0c0d" of 4-digit hex values, then SHA-256, first 12 hex characters. */
static void hex_hash12(const uint16_t *v, size_t n, const uint16_t *tail, size_t tn, char out[13])
{
    char *s = malloc((n + tn) * 5 + 2);
    if (s == NULL) {
        snprintf(out, 13, "000000000000");
        return;
    }
    size_t w = 0, cap = (n + tn) * 5 + 2;
    for (size_t i = 0; i < n; i++) {
        w += (size_t)snprintf(s + w, cap - w, "%s%04x", i ? "," : "", v[i]);
    }
    if (tail != NULL && tn > 0) {
        s[w++] = '_';
        for (size_t i = 0; i < tn; i++) {
            w += (size_t)snprintf(s + w, cap - w, "%s%04x", i ? "," : "", tail[i]);
        }
    }
    s[w] = '\0';
    if (n == 0 && tn == 0) {
        snprintf(out, 13, "000000000000");
    } else {
        uint8_t d[PT_SHA256_LEN];
        char hex[PT_SHA256_HEX];
        pt_sha256_buf(s, w, d);
        pt_hex(d, sizeof d, hex);
        memcpy(out, hex, 12);
        out[12] = '\0';
    }
    free(s);
}

/* What a ClientHello's lists hold, for JA3 (in the order sent, GREASE left out) and JA4. */
struct hello {
    uint16_t legacy;
    uint16_t ciphers[256], exts[128], sigs[64];
    size_t n_ciphers, n_exts, n_sigs;
    char ja3_c[1200], ja3_e[800], ja3_g[400], ja3_p[64];
    uint16_t best_version;  /* supported_versions, 0 when absent */
    char alpn_first[64];
    bool sni;
};

/* server_name: list(2) { type(1) len(2) name } */
static void ext_sni(struct pt_tls_rec *o, struct hello *h, struct pt_cur *e)
{
    pt_cur_be16(e);
    uint8_t nt = pt_cur_u8(e);
    uint16_t nl = pt_cur_be16(e);
    const uint8_t *name;
    if (nt == 0 && pt_cur_bytes(e, nl, &name)) {
        size_t k = nl < sizeof o->sni - 1 ? nl : sizeof o->sni - 1;
        for (size_t i = 0; i < k; i++) { /* keep it printable */
            o->sni[i] = name[i] > 0x20 && name[i] < 0x7f ? (char)name[i] : '?';
        }
        o->sni[k] = '\0';
        h->sni = true;
    }
}

/* ALPN: list(2) { len(1) proto } */
static void ext_alpn(struct pt_tls_rec *o, struct hello *h, struct pt_cur *e)
{
    pt_cur_be16(e);
    while (pt_cur_left(e) >= 1) {
        uint8_t pl = pt_cur_u8(e);
        const uint8_t *pn;
        if (!pt_cur_bytes(e, pl, &pn)) {
            break;
        }
        char proto[64];
        size_t k = pl < sizeof proto - 1 ? pl : sizeof proto - 1;
        for (size_t i = 0; i < k; i++) {
            proto[i] = pn[i] > 0x20 && pn[i] < 0x7f ? (char)pn[i] : '?';
        }
        proto[k] = '\0';
        if (h->alpn_first[0] == '\0' && pl > 0) {
            size_t fl = pl < sizeof h->alpn_first - 1 ? pl : sizeof h->alpn_first - 1;
            memcpy(h->alpn_first, pn, fl);
            h->alpn_first[fl] = '\0';
        }
        size_t used = strlen(o->alpn);
        if (used + k + 2 < sizeof o->alpn) {
            snprintf(o->alpn + used, sizeof o->alpn - used, "%s%s", used ? "," : "", proto);
        }
    }
}

/* One extension of type `type` (not GREASE), its body in e. */
static void hello_extension(struct pt_tls_rec *o, struct hello *h, uint16_t type,
                            struct pt_cur *e)
{
    list_add(h->ja3_e, sizeof h->ja3_e, type, '-');
    if (h->n_exts < 128) {
        h->exts[h->n_exts++] = type;
    }
    if (type == 0) {
        ext_sni(o, h, e);
    } else if (type == 16) {
        ext_alpn(o, h, e);
    } else if (type == 10) { /* supported_groups */
        pt_cur_be16(e);
        while (pt_cur_left(e) >= 2) {
            uint16_t g = pt_cur_be16(e);
            if (!grease(g)) {
                list_add(h->ja3_g, sizeof h->ja3_g, g, '-');
            }
        }
    } else if (type == 11) { /* ec_point_formats */
        uint8_t fl = pt_cur_u8(e);
        for (unsigned i = 0; i < fl && pt_cur_left(e) >= 1; i++) {
            list_add(h->ja3_p, sizeof h->ja3_p, pt_cur_u8(e), '-');
        }
    } else if (type == 13) { /* signature_algorithms, in the order sent */
        pt_cur_be16(e);
        while (pt_cur_left(e) >= 2 && h->n_sigs < 64) {
            uint16_t sa = pt_cur_be16(e);
            if (!grease(sa)) {
                h->sigs[h->n_sigs++] = sa;
            }
        }
    } else if (type == 43) { /* supported_versions */
        uint8_t vl = pt_cur_u8(e);
        for (unsigned i = 0; i + 1 < vl && pt_cur_left(e) >= 2; i += 2) {
            uint16_t v = pt_cur_be16(e);
            if (!grease(v) && v > h->best_version) {
                h->best_version = v;
            }
        }
    }
}

/* JA3: version,ciphers,extensions,groups,point formats, and its MD5. */
static void ja3(struct pt_tls_rec *o, const struct hello *h)
{
    char s[3000]; /* large enough for every list above; the hash covers all of it */
    snprintf(s, sizeof s, "%u,%s,%s,%s,%s", h->legacy, h->ja3_c, h->ja3_e, h->ja3_g, h->ja3_p);
    size_t jl = strnlen(s, sizeof o->ja3 - 1);
    memcpy(o->ja3, s, jl);
    o->ja3[jl] = '\0';
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    EVP_Digest(s, strlen(s), md, &md_len, EVP_md5(), NULL);
    pt_hex(md, md_len, o->ja3_md5);
}

/* JA4 (FoxIO): t<version><sni><ciphers><extensions><alpn>_<ciphers hash>_<extensions hash>. */
static void ja4(struct pt_tls_rec *o, const struct hello *h)
{
    uint16_t v = h->best_version ? h->best_version : h->legacy;
    const char *vs = v == 0x0304 ? "13" : v == 0x0303 ? "12" : v == 0x0302 ? "11" : v == 0x0301 ? "10"
                   : v == 0x0300 ? "s3" : v == 0x0200 ? "s2" : "00";
    char alpn2[3] = "00";
    size_t al = strlen(h->alpn_first);
    if (al > 0) {
        alpn2[0] = h->alpn_first[0];
        alpn2[1] = h->alpn_first[al - 1];
    }
    uint16_t sorted_c[256] = {0}, sorted_e[128] = {0};
    memcpy(sorted_c, h->ciphers, h->n_ciphers * sizeof *h->ciphers);
    qsort(sorted_c, h->n_ciphers, sizeof *sorted_c, cmp_u16);
    size_t ne = 0;
    for (size_t i = 0; i < h->n_exts; i++) {
        if (h->exts[i] != 0 && h->exts[i] != 16) { /* SNI and ALPN are counted, not hashed */
            sorted_e[ne++] = h->exts[i];
        }
    }
    qsort(sorted_e, ne, sizeof *sorted_e, cmp_u16);
    char hc[13], he[13];
    hex_hash12(sorted_c, h->n_ciphers, NULL, 0, hc);
    hex_hash12(sorted_e, ne, h->sigs, h->n_sigs, he);
    snprintf(o->ja4, sizeof o->ja4, "t%s%c%02zu%02zu%s_%s_%s", vs, h->sni ? 'd' : 'i',
             h->n_ciphers > 99 ? (size_t)99 : h->n_ciphers,
             h->n_exts > 99 ? (size_t)99 : h->n_exts, alpn2, hc, he);
}

static void client_hello(struct tls_flow *t, struct pt_cur *c)
{
    struct pt_tls_rec *o = &t->out;
    uint16_t legacy = pt_cur_be16(c);
    pt_cur_skip(c, 32);
    uint8_t sid = pt_cur_u8(c);
    pt_cur_skip(c, sid);
    uint16_t cs_len = pt_cur_be16(c);
    struct pt_cur cs;
    pt_cur_sub(c, cs_len, &cs);
    uint8_t comp = pt_cur_u8(c);
    pt_cur_skip(c, comp);
    if (!pt_cur_ok(c)) {
        anomaly(t, PT_ANOM_TLS_BAD_CLIENT_HELLO, "ClientHello shorter than its fields");
        return;
    }
    t->have_client = true;
    o->client_version = legacy;
    struct hello h;
    memset(&h, 0, sizeof h);
    h.legacy = legacy;
    while (pt_cur_left(&cs) >= 2) {
        uint16_t v = pt_cur_be16(&cs);
        if (!grease(v)) {
            list_add(h.ja3_c, sizeof h.ja3_c, v, '-');
            if (h.n_ciphers < 256) {
                h.ciphers[h.n_ciphers++] = v;
            }
        }
    }
    if (pt_cur_left(c) >= 2) {
        uint16_t ext_len = pt_cur_be16(c);
        struct pt_cur ex;
        pt_cur_sub(c, ext_len, &ex);
        while (pt_cur_left(&ex) >= 4) {
            uint16_t type = pt_cur_be16(&ex);
            uint16_t len = pt_cur_be16(&ex);
            struct pt_cur e;
            if (!pt_cur_sub(&ex, len, &e)) {
                anomaly(t, PT_ANOM_TLS_BAD_EXTENSION, "extension length past the ClientHello");
                break;
            }
            if (!grease(type)) {
                hello_extension(o, &h, type, &e);
            }
        }
    }
    ja3(o, &h);
    ja4(o, &h);
    o->max_version = h.best_version;
}

static void server_hello(struct tls_flow *t, struct pt_cur *c)
{
    struct pt_tls_rec *o = &t->out;
    uint16_t legacy = pt_cur_be16(c);
    pt_cur_skip(c, 32);
    uint8_t sid = pt_cur_u8(c);
    pt_cur_skip(c, sid);
    uint16_t cipher = pt_cur_be16(c);
    pt_cur_u8(c);
    if (!pt_cur_ok(c)) {
        anomaly(t, PT_ANOM_TLS_BAD_SERVER_HELLO, "ServerHello shorter than its fields");
        return;
    }
    t->have_server = true;
    o->server_version = legacy;
    o->cipher = cipher;
    if (pt_cur_left(c) >= 2) {
        uint16_t ext_len = pt_cur_be16(c);
        struct pt_cur ex;
        pt_cur_sub(c, ext_len, &ex);
        while (pt_cur_left(&ex) >= 4) {
            uint16_t type = pt_cur_be16(&ex);
            uint16_t len = pt_cur_be16(&ex);
            struct pt_cur e;
            if (!pt_cur_sub(&ex, len, &e)) {
                break;
            }
            if (type == 43 && len == 2) { /* TLS 1.3 names its version here */
                o->server_version = pt_cur_be16(&e);
            }
        }
    }
}

static void certificate(struct tls_flow *t, struct pt_cur *c)
{
    struct pt_tls_rec *o = &t->out;
    if (o->cert_subject[0] != '\0' || o->server_version == 0x0304) {
        return; /* first certificate only; TLS 1.3 certificates are encrypted */
    }
    uint32_t list = (uint32_t)pt_cur_u8(c) << 16;
    list |= pt_cur_be16(c);
    uint32_t clen = (uint32_t)pt_cur_u8(c) << 16;
    clen |= pt_cur_be16(c);
    const uint8_t *der;
    if (!pt_cur_ok(c) || list < 3 || !pt_cur_bytes(c, clen, &der)) {
        anomaly(t, PT_ANOM_TLS_BAD_CERTIFICATE, "certificate list shorter than announced");
        return;
    }
    const unsigned char *pp = der;
    X509 *x = d2i_X509(NULL, &pp, (long)clen);
    if (x == NULL) {
        anomaly(t, PT_ANOM_TLS_BAD_CERTIFICATE, "server certificate is not valid DER");
        return;
    }
    X509_NAME_oneline(X509_get_subject_name(x), o->cert_subject, sizeof o->cert_subject);
    X509_NAME_oneline(X509_get_issuer_name(x), o->cert_issuer, sizeof o->cert_issuer);
    X509_free(x);
}

/* Parse every complete handshake message gathered in direction dir. */
static void handshakes(struct tls_flow *t, int dir)
{
    struct tls_dir *d = &t->d[dir];
    size_t off = 0;
    while (d->hs_len - off >= 4) {
        uint8_t type = d->hs[off];
        uint32_t len = ((uint32_t)d->hs[off + 1] << 16) | ((uint32_t)d->hs[off + 2] << 8) |
                       d->hs[off + 3];
        if (len > PT_TLS_MAX_HANDSHAKE) {
            anomaly(t, PT_ANOM_LIMIT_TLS_HANDSHAKE, "handshake message longer than the limit");
            d->done = true;
            return;
        }
        if (d->hs_len - off - 4 < len) {
            break; /* wait for the rest */
        }
        struct pt_cur c = pt_cur_make(d->hs + off + 4, len);
        if (dir == 0 && type == 1 && !t->have_client) {
            client_hello(t, &c);
        } else if (dir == 1 && type == 2 && !t->have_server) {
            server_hello(t, &c);
        } else if (dir == 1 && type == 11) {
            certificate(t, &c);
        }
        off += 4 + len;
    }
    memmove(d->hs, d->hs + off, d->hs_len - off);
    d->hs_len -= off;
}

static void tls_data(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                     const struct pt_flow_pkt *pkt)
{
    (void)off;
    struct tls_flow *t = st;
    struct tls_dir *d = &t->d[dir];
    t->pkt = pkt;
    if (t->out.item == 0 && pkt != NULL) {
        t->out.item = pkt->item;
        t->out.frame = pkt->frame;
        t->out.ts_us = pkt->ts_us;
    }
    while (n > 0 && !d->done) {
        if (d->rec_left == 0) { /* record header: type(1) version(2) length(2) */
            size_t k = 5 - d->rec_hdr_len < n ? 5 - d->rec_hdr_len : n;
            memcpy(d->rec_hdr + d->rec_hdr_len, p, k);
            d->rec_hdr_len += k;
            p += k;
            n -= k;
            if (d->rec_hdr_len < 5) {
                return;
            }
            d->rec_hdr_len = 0;
            d->rec_type = d->rec_hdr[0];
            d->rec_left = ((size_t)d->rec_hdr[3] << 8) | d->rec_hdr[4];
            if (d->rec_hdr[1] != 0x03 || d->rec_type < 20 || d->rec_type > 24 ||
                d->rec_left > 16384 + 2048) { /* RFC 8446 §5.1: at most 2^14 + 2048 */
                anomaly(t, PT_ANOM_TLS_BAD_RECORD, "record header out of range; decoding stops");
                d->done = true;
                return;
            }
            if (d->rec_type == 20 || d->rec_type == 23) {
                d->done = true; /* ChangeCipherSpec or data: the rest is encrypted */
                return;
            }
            continue;
        }
        size_t k = d->rec_left < n ? d->rec_left : n;
        if (d->rec_type == 22) {
            if (d->hs_len + k > PT_TLS_MAX_HANDSHAKE + 4) {
                anomaly(t, PT_ANOM_LIMIT_TLS_HANDSHAKE, "handshake bytes beyond the limit");
                d->done = true;
                return;
            }
            if (!pt_buf_reserve(&d->hs, &d->hs_cap, d->hs_len + k, PT_TLS_MAX_HANDSHAKE + 4)) {
                d->done = true;
                return;
            }
            memcpy(d->hs + d->hs_len, p, k);
            d->hs_len += k;
        }
        d->rec_left -= k;
        p += k;
        n -= k;
        if (d->rec_type == 22 && d->rec_left == 0) {
            handshakes(t, dir);
        }
    }
}

static void tls_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    (void)off;
    (void)n;
    struct tls_flow *t = st;
    t->d[dir].done = true; /* record boundaries are lost */
}

static void tls_close(void *st)
{
    struct tls_flow *t = st;
    if (t->have_client || t->have_server) {
        pt_emit_tls(t->ctx, &t->out);
    }
    free(t->d[0].hs);
    free(t->d[1].hs);
    free(t);
}

static size_t tls_mem(const void *st)
{
    const struct tls_flow *t = st;
    return t->d[0].hs_cap + t->d[1].hs_cap;
}

const struct pt_app_proto pt_app_tls = {
    .name = "tls",
    .probe = tls_probe,
    .open = tls_open,
    .data = tls_data,
    .gap = tls_gap,
    .close = tls_close,
    .datagram = NULL,
    .state_size = sizeof(struct tls_flow),
    .mem = tls_mem,
};
