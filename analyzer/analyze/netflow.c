/*
 * netflow.c - NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export packets found in
 * a capture: the UDP datagrams an exporter sends its collector. The flows they describe
 * become log_conn rows, as an nfcapd file's or a flow CSV's do (store/logflows.c then makes
 * them flows: a connection only the exporter saw is weighed as unread volume).
 *
 *   v5 header (24 bytes): version, count, sysUptime ms, unix_secs, unix_nsecs, sequence,
 *      engine type, engine id, sampling; then count records of 48 bytes (srcaddr, dstaddr,
 *      nexthop, input, output, dPkts, dOctets, First, Last, srcport, dstport, pad, flags,
 *      prot, tos, src_as, dst_as, masks, pad).
 *   v9 header (20 bytes): version, count, sysUptime ms, unix_secs, sequence, source id;
 *      then FlowSets: id 0 templates, 1 options templates, >= 256 data (RFC 3954 §5).
 *   IPFIX header (16 bytes): version 10, length, export time, sequence, observation domain;
 *      then Sets: 2 templates, 3 options templates, >= 256 data (RFC 7011 §3); a field
 *      specifier with the enterprise bit carries a 32-bit enterprise number (§3.2); a field of
 *      length 65535 is variable: one length byte, 255 meaning a 16-bit length follows (§7).
 *
 * Templates are kept per exporter flow (its address and port) and source id / observation
 * domain, as RFC 3954 §5.1 and RFC 7011 §8 scope them. A data set whose template has not been
 * seen cannot be read: its sets and bytes are counted and one netflow.no_template anomaly at
 * the end of the export says how many (its flows are unknown). Counts: octets and packets as
 * exported (IP bytes, one direction; IPFIX's reverse elements, enterprise 29305 of RFC 5103,
 * and v9's OUT_BYTES fill the other). Times: absolute elements (seconds, milliseconds, NTP
 * micro- and nanoseconds), delta microseconds from the export time, or sysUpTime offsets with
 * the header's clock (v5, v9) or the exporter's systemInitTimeMilliseconds from an options
 * record (IPFIX); without them the row has no time.
 *
 * Trust boundary: every datagram is untrusted and read through core/cursor.h; set lengths,
 * field counts and variable lengths are checked against the bytes that remain and against
 * NF_MAX_FIELDS / NF_MAX_TEMPLATES; a set that breaks them is a netflow.malformed anomaly
 * (the first NF_ANOMALY_MAX per export) and the rest of the datagram is skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cursor.h"
#include "app.h"

#define NF_MAX_FIELDS 64       /* fields per template (softflowd uses 18, nprobe ~40) */
#define NF_MAX_TEMPLATES 128   /* per exporter flow, all domains together */
#define NF_MAX_DOMAINS 16      /* IPFIX domains whose system init time is kept */
#define NF_ANOMALY_MAX 20
#define NF_REVERSE_PEN 29305   /* RFC 5103 §6.1: reverse information elements */
#define NF_NTP_UNIX 2208988800ULL

static const uint16_t nf_ports[] = {2055, 9995, 9996, 4739};

struct nf_field {
    uint16_t ie, len;          /* len 65535: variable (IPFIX) */
    uint32_t pen;              /* 0: IETF */
};

struct nf_tmpl {
    uint32_t domain;
    uint16_t id, n;
    bool options;
    struct nf_field f[NF_MAX_FIELDS];
};

/* One export datagram's header, what its records' times are relative to. */
struct nf_hdr {
    int version;
    uint32_t domain;
    uint32_t uptime_ms;        /* v5, v9 */
    int64_t unix_us;           /* the header's clock (v5, v9: unix_secs; IPFIX: export time) */
    const struct pt_flow_pkt *pkt;
    const uint8_t *base;       /* the datagram, for record offsets */
};

struct nf_state {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;
    char source[64];
    struct nf_tmpl *t;
    size_t nt;
    struct {
        uint32_t domain;
        int64_t ms;
    } init[NF_MAX_DOMAINS];
    size_t ninit;
    uint64_t early_sets, early_bytes;  /* data sets before their template */
    uint32_t early_item;
    uint64_t early_frame;
    uint16_t early_id;
    uint32_t early_domain;
    unsigned anomalies;
};

/* The values of one data record that a connection row needs. */
struct nf_vals {
    int fam;                   /* 4, 6; 0: no addresses */
    uint8_t src[16], dst[16];
    int32_t sport, dport;
    int proto;
    int64_t bytes, pkts, rbytes, rpkts, tbytes, tpkts;
    int64_t abs_start, abs_end;          /* microseconds, -1 unset */
    int64_t up_start, up_end;            /* sysUpTime milliseconds, -1 unset */
    int64_t delta_start, delta_end;      /* microseconds before the export time, -1 unset */
    int64_t sysinit_ms;
};

static bool nf_port(uint16_t p)
{
    for (size_t i = 0; i < sizeof nf_ports / sizeof nf_ports[0]; i++) {
        if (p == nf_ports[i]) {
            return true;
        }
    }
    return false;
}

/* Do the sets of a v9 or IPFIX message (after its header) tile it? Trailing bytes under 4
 * are tolerated in v9 (exporters pad the datagram). */
static bool sets_tile(struct pt_cur c, bool ipfix)
{
    unsigned sets = 0;
    while (pt_cur_left(&c) >= 4) {
        uint16_t id = pt_cur_be16(&c), len = pt_cur_be16(&c);
        if (len < 4 || (size_t)(len - 4) > pt_cur_left(&c)) {
            return false;
        }
        if (ipfix ? id != 2 && id != 3 && id < 256 : id > 1 && id < 256) {
            return false;
        }
        pt_cur_skip(&c, len - 4u);
        sets++;
    }
    return sets > 0 && pt_cur_left(&c) == 0;
}

/* The header's size for a version phitrace reads, 0 for any other. */
static size_t hdr_len(const uint8_t *p, size_t n)
{
    int ver = n >= 2 ? p[0] << 8 | p[1] : 0;
    size_t need = ver == 5 ? 24 : ver == 9 ? 20 : ver == 10 ? 16 : 0;
    return n >= need ? need : 0;
}

/* A NetFlow or IPFIX message by content: its version, a clock that is not zero, and lengths
 * and counts that agree with the datagram's bytes. */
static bool nf_looks(const uint8_t *p, size_t n)
{
    size_t h = hdr_len(p, n);
    if (h == 0) {
        return false;
    }
    size_t count = (size_t)(p[2] << 8 | p[3]);
    bool clock = (p[8] | p[9] | p[10] | p[11]) != 0 || h == 16;
    if (h == 24) {
        return clock && count >= 1 && count <= 30 && n == 24 + 48 * count;
    }
    if (h == 20) {
        return clock && sets_tile(pt_cur_make(p + 20, n - 20), false);
    }
    return count == n && sets_tile(pt_cur_make(p + 16, n - 16), true);
}

/* At a collector's port a header of a known version is enough: what does not add up in the
 * rest is then a netflow.malformed anomaly of the export, not another protocol. */
static bool nf_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                     uint16_t sport)
{
    (void)dir;
    return transport == 17 &&
           (nf_looks(p, n) || ((nf_port(cport) || nf_port(sport)) && hdr_len(p, n) > 0));
}

static void *nf_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct nf_state *s = calloc(1, sizeof *s);
    if (s != NULL) {
        s->ctx = ctx;
        s->rec = *rec;
    }
    return s;
}

static void nf_anomaly(struct nf_state *s, const struct nf_hdr *h, enum pt_anom kind,
                       const char *why, size_t off)
{
    if (s->anomalies++ >= NF_ANOMALY_MAX) {
        return;
    }
    char d[200];
    snprintf(d, sizeof d, "%s export from %s, byte %zu of the datagram: %s",
             h->version == 10 ? "IPFIX" : h->version == 9 ? "NetFlow v9" : "NetFlow v5",
             s->source + strcspn(s->source, "@") + 1, off, why);
    pt_app_anomaly(s->ctx, h->pkt, h->pkt != NULL ? h->pkt->item : s->rec.item, kind, d);
}

static struct nf_tmpl *tmpl_find(struct nf_state *s, uint32_t domain, uint16_t id)
{
    for (size_t i = 0; i < s->nt; i++) {
        if (s->t[i].domain == domain && s->t[i].id == id) {
            return &s->t[i];
        }
    }
    return NULL;
}

/* The slot for (domain, id): the old definition is replaced (RFC 7011 §8.1); NULL when the
 * table is full or memory is short. */
static struct nf_tmpl *tmpl_slot(struct nf_state *s, uint32_t domain, uint16_t id)
{
    struct nf_tmpl *t = tmpl_find(s, domain, id);
    if (t == NULL && s->nt < NF_MAX_TEMPLATES) {
        struct nf_tmpl *g = realloc(s->t, (s->nt + 1) * sizeof *g);
        if (g == NULL) {
            return NULL;
        }
        s->t = g;
        t = &s->t[s->nt++];
    }
    if (t != NULL) {
        memset(t, 0, sizeof *t);
        t->domain = domain;
        t->id = id;
    }
    return t;
}

static void tmpl_drop(struct nf_state *s, uint32_t domain, uint16_t id)
{
    struct nf_tmpl *t = tmpl_find(s, domain, id);
    if (t != NULL) {
        *t = s->t[--s->nt];
    }
}

/* Field specifiers into t; false when they run past the set or exceed NF_MAX_FIELDS. */
static bool read_fields(struct pt_cur *c, struct nf_tmpl *t, unsigned n, bool ipfix)
{
    if (n > NF_MAX_FIELDS) {
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        uint16_t ie = pt_cur_be16(c), len = pt_cur_be16(c);
        uint32_t pen = 0;
        if (ipfix && (ie & 0x8000) != 0) {
            ie &= 0x7fff;
            pen = pt_cur_be32(c);
        }
        if (!pt_cur_ok(c) || (!ipfix && len == 65535)) {
            return false;
        }
        t->f[i] = (struct nf_field){ie, len, pen};
    }
    t->n = (uint16_t)n;
    return true;
}

/* A template set (v9 id 0 or 1, IPFIX 2 or 3): each template read into the table. Bytes after
 * the last one that cannot start a template are padding (RFC 3954 §5.2, RFC 7011 §3.3.1). */
static bool template_set(struct nf_state *s, const struct nf_hdr *h, struct pt_cur c,
                         bool options)
{
    bool ipfix = h->version == 10;
    while (pt_cur_left(&c) >= 4) {
        uint16_t id = pt_cur_be16(&c), count = pt_cur_be16(&c), scope = 0;
        if (id < 256) {
            return id == 0 && count == 0; /* padding is zeros */
        }
        unsigned fields = count;
        if (options && !ipfix) { /* v9: scope and option lengths in bytes (RFC 3954 §6.1) */
            uint16_t olen = pt_cur_be16(&c);
            if (!pt_cur_ok(&c) || count % 4 != 0 || olen % 4 != 0) {
                return false;
            }
            scope = count / 4;
            fields = scope + olen / 4u;
        } else if (options) {
            scope = pt_cur_be16(&c);
            if (!pt_cur_ok(&c) || scope == 0 || scope > count) {
                return false;
            }
        }
        if (ipfix && fields == 0) { /* a withdrawal (RFC 7011 §8.1) */
            tmpl_drop(s, h->domain, id);
            continue;
        }
        struct nf_tmpl tmp;
        if (!read_fields(&c, &tmp, fields, ipfix)) {
            return false;
        }
        struct nf_tmpl *t = tmpl_slot(s, h->domain, id);
        if (t != NULL) {
            memcpy(t->f, tmp.f, tmp.n * sizeof tmp.f[0]);
            t->n = tmp.n;
            t->options = options;
        }
    }
    return true;
}

static int64_t be_uint(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* NTP timestamp (RFC 5905 §6: seconds since 1900, 32-bit fraction) in Unix microseconds. */
static int64_t ntp_us(const uint8_t *p)
{
    uint64_t sec = (uint64_t)be_uint(p, 4), frac = (uint64_t)be_uint(p + 4, 4);
    if (sec < NF_NTP_UNIX) {
        return -1;
    }
    return (int64_t)((sec - NF_NTP_UNIX) * 1000000 + ((frac * 1000000) >> 32));
}

/* One field's value into v (IANA IPFIX registry numbers; v9 shares 1-127). */
static void take_field(struct nf_vals *v, const struct nf_field *f, const uint8_t *p, size_t n)
{
    if (f->pen == NF_REVERSE_PEN) {
        if (f->ie == 1 && n <= 8) {
            v->rbytes = be_uint(p, n);
        } else if (f->ie == 2 && n <= 8) {
            v->rpkts = be_uint(p, n);
        }
        return;
    }
    if (f->pen != 0 || n == 0) {
        return;
    }
    int64_t x = n <= 8 ? be_uint(p, n) : -1;
    switch (f->ie) {
        case 1: v->bytes = x; break;
        case 2: v->pkts = x; break;
        case 85: v->tbytes = x; break;
        case 86: v->tpkts = x; break;
        case 23: v->rbytes = x; break;  /* v9 OUT_BYTES, as nfdump reads it */
        case 24: v->rpkts = x; break;
        case 4: v->proto = (int)x; break;
        case 7: v->sport = (int32_t)(x & 0xffff); break;
        case 11: v->dport = (int32_t)(x & 0xffff); break;
        case 22: v->up_start = x; break;
        case 21: v->up_end = x; break;
        case 150: v->abs_start = x * 1000000; break;
        case 151: v->abs_end = x * 1000000; break;
        case 152: v->abs_start = x * 1000; break;
        case 153: v->abs_end = x * 1000; break;
        case 154: case 156: v->abs_start = n == 8 ? ntp_us(p) : -1; break;
        case 155: case 157: v->abs_end = n == 8 ? ntp_us(p) : -1; break;
        case 158: v->delta_start = x; break;
        case 159: v->delta_end = x; break;
        case 160: v->sysinit_ms = x; break;
        case 8: case 12:
            if (n == 4 && v->fam != 6) {
                memcpy(f->ie == 8 ? v->src : v->dst, p, 4);
                v->fam = 4;
            }
            break;
        case 27: case 28:
            if (n == 16) {
                memcpy(f->ie == 27 ? v->src : v->dst, p, 16);
                v->fam = 6;
            }
            break;
        default: break;
    }
}

static int64_t sysinit_of(const struct nf_state *s, uint32_t domain)
{
    for (size_t i = 0; i < s->ninit; i++) {
        if (s->init[i].domain == domain) {
            return s->init[i].ms;
        }
    }
    return -1;
}

static void set_sysinit(struct nf_state *s, uint32_t domain, int64_t ms)
{
    size_t i = 0;
    while (i < s->ninit && s->init[i].domain != domain) {
        i++;
    }
    if (i == s->ninit && s->ninit < NF_MAX_DOMAINS) {
        s->ninit++;
    }
    if (i < s->ninit) {
        s->init[i].domain = domain;
        s->init[i].ms = ms;
    }
}

/* A time of the record in Unix microseconds, -1 when the export does not give one. */
static int64_t when(const struct nf_state *s, const struct nf_hdr *h, int64_t abs, int64_t up,
                    int64_t delta)
{
    if (abs > 0) {
        return abs;
    }
    if (delta >= 0 && h->version == 10) {
        return h->unix_us - delta;
    }
    if (up < 0) {
        return -1;
    }
    if (h->version == 10) {
        int64_t init = sysinit_of(s, h->domain);
        return init >= 0 ? (init + up) * 1000 : -1;
    }
    /* v5, v9: the header's uptime is the export's; the counter is 32 bits of milliseconds and
     * wraps (49.7 days), and a record ended before its export, so the difference is taken
     * modulo 2^32, as nfdump reads v5 */
    uint32_t ago = (uint32_t)(h->uptime_ms - (uint32_t)up);
    return h->unix_us - (int64_t)ago * 1000;
}

static void proto_name(char *out, size_t cap, int proto)
{
    /* the flow tables' names; logflows.c reads "ipv6-icmp" as 58 (it fits no 8 bytes) */
    const char *name = proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 1 ? "icmp"
                     : proto == 58 ? "icmp6" : NULL;
    if (name != NULL) {
        snprintf(out, cap, "%s", name);
    } else {
        snprintf(out, cap, "%d", proto & 0xff);
    }
}

/* One described flow to the pipeline as a log_conn row. */
static void emit_flow(struct nf_state *s, const struct nf_hdr *h, const struct nf_vals *v,
                      size_t off, size_t len)
{
    struct pt_netflow_rec r;
    memset(&r, 0, sizeof r);
    struct pt_logconn_rec *c = &r.conn;
    snprintf(r.source, sizeof r.source, "%s", s->source);
    c->p.item = h->pkt != NULL ? h->pkt->item : s->rec.item;
    c->p.line = h->pkt != NULL ? h->pkt->frame : 0;
    c->p.offset = off;
    c->p.length = (uint32_t)len;
    int64_t start = when(s, h, v->abs_start, v->up_start, v->delta_start);
    int64_t end = when(s, h, v->abs_end, v->up_end, v->delta_end);
    c->p.ts_us = start;
    c->dur_us = start >= 0 && end >= start ? end - start : -1;
    struct pt_addr a, b;
    if (v->fam == 4) {
        pt_addr_from_v4(&a, v->src);
        pt_addr_from_v4(&b, v->dst);
    } else {
        pt_addr_from_v6(&a, v->src);
        pt_addr_from_v6(&b, v->dst);
    }
    pt_addr_str(&a, c->client);
    pt_addr_str(&b, c->server);
    proto_name(c->proto, sizeof c->proto, v->proto);
    bool ports = v->proto == 6 || v->proto == 17 || v->proto == 132;
    c->cport = ports ? v->sport : -1;
    c->sport = ports ? v->dport : -1;
    c->c_bytes = c->s_bytes = c->c_frame_bytes = c->s_frame_bytes = -1;
    c->c_ip_bytes = v->bytes >= 0 ? v->bytes : v->tbytes;
    c->c_pkts = v->pkts >= 0 ? v->pkts : v->tpkts;
    c->s_ip_bytes = v->rbytes;
    c->s_pkts = v->rpkts;
    pt_emit_netflow(s->ctx, &r);
}

/* One data record at c (its template t); false when a variable length runs past the set. */
static bool data_record(struct nf_state *s, const struct nf_hdr *h, struct pt_cur *c,
                        const struct nf_tmpl *t)
{
    struct nf_vals v = {.sport = -1, .dport = -1, .proto = 0, .bytes = -1, .pkts = -1,
                        .rbytes = -1, .rpkts = -1, .tbytes = -1, .tpkts = -1, .abs_start = -1,
                        .abs_end = -1, .up_start = -1, .up_end = -1, .delta_start = -1,
                        .delta_end = -1, .sysinit_ms = -1};
    size_t start = c->off;
    for (unsigned i = 0; i < t->n; i++) {
        size_t len = t->f[i].len;
        if (len == 65535) {
            len = pt_cur_u8(c);
            if (len == 255) {
                len = pt_cur_be16(c);
            }
        }
        const uint8_t *p;
        if (!pt_cur_bytes(c, len, &p)) {
            return false;
        }
        take_field(&v, &t->f[i], p, len);
    }
    if (v.sysinit_ms >= 0) {
        set_sysinit(s, h->domain, v.sysinit_ms);
    }
    if (!t->options && v.fam != 0) {
        emit_flow(s, h, &v, (size_t)(c->base - h->base) + start, c->off - start);
    }
    return true;
}

/* The smallest record the template describes (a variable field takes at least one byte). */
static size_t min_len(const struct nf_tmpl *t)
{
    size_t n = 0;
    for (unsigned i = 0; i < t->n; i++) {
        n += t->f[i].len == 65535 ? 1 : t->f[i].len;
    }
    return n;
}

static void data_set(struct nf_state *s, const struct nf_hdr *h, struct pt_cur c, uint16_t id,
                     size_t set_off)
{
    const struct nf_tmpl *t = tmpl_find(s, h->domain, id);
    if (t == NULL) {
        if (s->early_sets++ == 0) {
            s->early_item = h->pkt != NULL ? h->pkt->item : s->rec.item;
            s->early_frame = h->pkt != NULL ? h->pkt->frame : 0;
            s->early_id = id;
            s->early_domain = h->domain;
        }
        s->early_bytes += pt_cur_left(&c);
        return;
    }
    size_t need = min_len(t);
    if (need == 0) {
        nf_anomaly(s, h, PT_ANOM_NETFLOW_MALFORMED, "a template whose records have no bytes",
                   set_off);
        return;
    }
    while (pt_cur_left(&c) >= need) { /* fewer bytes than a record: padding */
        if (!data_record(s, h, &c, t)) {
            nf_anomaly(s, h, PT_ANOM_NETFLOW_MALFORMED, "a variable-length field runs past its "
                       "set", set_off);
            return;
        }
    }
}

/* v9 FlowSets or IPFIX Sets after the header, at c. */
static void sets(struct nf_state *s, const struct nf_hdr *h, struct pt_cur c)
{
    bool ipfix = h->version == 10;
    while (pt_cur_left(&c) >= 4) {
        size_t at = c.off;
        uint16_t id = pt_cur_be16(&c), len = pt_cur_be16(&c);
        struct pt_cur body;
        if (len < 4 || !pt_cur_sub(&c, len - 4u, &body)) {
            nf_anomaly(s, h, PT_ANOM_NETFLOW_MALFORMED, "a set length past the datagram", at);
            return;
        }
        bool ok = true;
        if (id == (ipfix ? 2 : 0) || id == (ipfix ? 3 : 1)) {
            ok = template_set(s, h, body, id == (ipfix ? 3 : 1));
        } else if (id >= 256) {
            data_set(s, h, body, id, at);
        }
        if (!ok) {
            nf_anomaly(s, h, PT_ANOM_NETFLOW_MALFORMED, "a template that runs past its set or "
                       "has more fields than are read", at);
        }
    }
}

/* v5: fixed records of 48 bytes after a 24-byte header. */
static void v5(struct nf_state *s, struct nf_hdr *h, struct pt_cur c, uint16_t count)
{
    h->uptime_ms = pt_cur_be32(&c);
    uint32_t secs = pt_cur_be32(&c), nsecs = pt_cur_be32(&c);
    pt_cur_skip(&c, 8);
    h->unix_us = (int64_t)secs * 1000000 + nsecs / 1000;
    for (unsigned i = 0; i < count && pt_cur_ok(&c); i++) {
        size_t at = c.off;
        struct nf_vals v = {.fam = 4, .rbytes = -1, .rpkts = -1, .tbytes = -1, .tpkts = -1,
                            .abs_start = -1, .abs_end = -1, .delta_start = -1, .delta_end = -1};
        const uint8_t *p;
        if (!pt_cur_bytes(&c, 48, &p)) {
            nf_anomaly(s, h, PT_ANOM_NETFLOW_MALFORMED, "fewer records than its count", at);
            return;
        }
        memcpy(v.src, p, 4);
        memcpy(v.dst, p + 4, 4);
        v.pkts = be_uint(p + 16, 4);
        v.bytes = be_uint(p + 20, 4);
        v.up_start = be_uint(p + 24, 4);
        v.up_end = be_uint(p + 28, 4);
        v.sport = (int32_t)be_uint(p + 32, 2);
        v.dport = (int32_t)be_uint(p + 34, 2);
        v.proto = p[38];
        emit_flow(s, h, &v, at, 48);
    }
}

static void nf_datagram(void *st, int dir, const uint8_t *p, size_t n,
                        const struct pt_flow_pkt *pkt)
{
    (void)dir;
    struct nf_state *s = st;
    struct nf_hdr h = {.pkt = pkt, .base = p};
    if (s->source[0] == '\0') {
        char a[PT_ADDR_STRLEN];
        pt_addr_str(&s->rec.cli, a);
        h.version = n >= 2 ? p[0] << 8 | p[1] : 0;
        snprintf(s->source, sizeof s->source, "netflow:%s@%s",
                 h.version == 10 ? "ipfix" : h.version == 9 ? "v9" : "v5", a);
    }
    if (hdr_len(p, n) == 0) {
        h.version = n >= 2 ? p[0] << 8 | p[1] : 0;
        nf_anomaly(s, &h, PT_ANOM_NETFLOW_MALFORMED, "not a NetFlow v5/v9 or IPFIX header", 0);
        return;
    }
    struct pt_cur c = pt_cur_make(p, n);
    if (p[0] == 0 && p[1] == 10 && (size_t)(p[2] << 8 | p[3]) < n) {
        c = pt_cur_make(p, (size_t)(p[2] << 8 | p[3])); /* IPFIX: its own length counts */
    }
    h.version = pt_cur_be16(&c);
    uint16_t count = pt_cur_be16(&c);
    if (h.version == 5) {
        v5(s, &h, c, count);
        return;
    }
    if (h.version == 9) {
        h.uptime_ms = pt_cur_be32(&c);
        h.unix_us = (int64_t)pt_cur_be32(&c) * 1000000;
        pt_cur_skip(&c, 4);
    } else {
        h.unix_us = (int64_t)pt_cur_be32(&c) * 1000000;
        pt_cur_skip(&c, 4);
    }
    h.domain = pt_cur_be32(&c);
    sets(s, &h, c);
}

static void nf_close(void *st)
{
    struct nf_state *s = st;
    if (s->early_sets > 0) {
        char d[240];
        snprintf(d, sizeof d, "%llu data set(s), %llu bytes, from %s came before their template "
                 "(first: template %u, domain %lu); the flows they describe are not known",
                 (unsigned long long)s->early_sets, (unsigned long long)s->early_bytes,
                 s->source + strcspn(s->source, "@") + 1, s->early_id,
                 (unsigned long)s->early_domain);
        if (s->ctx->anomaly != NULL) {
            s->ctx->anomaly(s->ctx->arg, s->early_item, s->early_frame,
                            PT_ANOM_NETFLOW_NO_TEMPLATE, d);
        }
    }
    free(s->t);
    free(s);
}

static size_t nf_mem(const void *st)
{
    const struct nf_state *s = st;
    return s->nt * sizeof *s->t;
}

const struct pt_app_proto pt_app_netflow = {
    .name = "netflow",
    .probe = nf_probe,
    .open = nf_open,
    .data = pt_app_no_stream,
    .gap = pt_app_no_gap,
    .close = nf_close,
    .datagram = nf_datagram,
    .state_size = sizeof(struct nf_state),
    .mem = nf_mem,
};
