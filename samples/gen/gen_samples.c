/*
 * gen_samples.c - writes the sample evidence in samples/ deterministically.
 *
 * Usage: gen_samples DIR [TRUTH.json] the sample case (samples/evidence) and what left,
 *                                     by hash (samples/ground-truth.json)
 *        gen_samples --bench MB FILE  a mixed capture of about MB megabytes for `make bench`
 *
 * Every byte is derived from fixed constants (timestamps, addresses, a fixed
 * pseudo-random generator), so `make samples` reproduces the committed files
 * byte for byte. Home network: 10.1.0.0/16 (inside RFC 1918). The ground
 * truth is documented in samples/README.md and asserted by tests/e2e.
 *
 * Patients in the payloads are synthetic: generated names and numbers that
 * belong to no one.
 */
#include <openssl/sha.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static pcap_dumper_t *out;
static int64_t now_us = 1767261600000000LL; /* 2026-01-01T10:00:00Z */
static uint16_t ip_id = 1000;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static uint32_t ip4(int a, int b, int c, int d)
{
    return ((uint32_t)a << 24) | ((uint32_t)b << 16) | ((uint32_t)c << 8) | (uint32_t)d;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        sum += (uint32_t)p[n - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Ethernet + IPv4 + (TCP|UDP) frame with correct checksums. */
static void emit(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *l4, size_t l4len)
{
    uint8_t f[1600];
    size_t iplen = 20 + l4len;
    memset(f, 0, 34);
    const uint8_t mac_in[6] = {0x02, 0, 0, 0, 0, 0x01}, mac_gw[6] = {0x02, 0, 0, 0, 0, 0xfe};
    memcpy(f, mac_gw, 6);
    memcpy(f + 6, mac_in, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)iplen);
    put16(ip + 4, ip_id++);
    put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, csum(ip, 20, 0));
    memcpy(ip + 20, l4, l4len);
    uint8_t *t = ip + 20;
    uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto +
                      (uint32_t)l4len;
    if (proto == 6) {
        put16(t + 16, csum(t, l4len, pseudo));
    } else if (proto == 17) {
        put16(t + 6, csum(t, l4len, pseudo));
    }
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(now_us / 1000000);
    h.ts.tv_usec = (suseconds_t)(now_us % 1000000);
    h.caplen = h.len = (bpf_u_int32)(14 + iplen);
    pcap_dump((u_char *)out, &h, f);
    now_us += 350; /* 0.35 ms between frames */
}

struct tcp {
    uint32_t cip, sip;
    uint16_t cport, sport;
    uint32_t cseq, sseq;
};

static void tcp_seg(struct tcp *c, int from_client, uint8_t flags, const uint8_t *data, size_t n)
{
    uint8_t seg[1500];
    memset(seg, 0, 20);
    put16(seg, from_client ? c->cport : c->sport);
    put16(seg + 2, from_client ? c->sport : c->cport);
    put32(seg + 4, from_client ? c->cseq : c->sseq);
    put32(seg + 8, (flags & 0x10) ? (from_client ? c->sseq : c->cseq) : 0);
    seg[12] = 5 << 4;
    seg[13] = flags;
    put16(seg + 14, 64240);
    if (n > 0) {
        memcpy(seg + 20, data, n);
    }
    emit(from_client ? c->cip : c->sip, from_client ? c->sip : c->cip, 6, seg, 20 + n);
    uint32_t adv = (uint32_t)n + ((flags & 0x03) ? 1u : 0u);
    if (from_client) {
        c->cseq += adv;
    } else {
        c->sseq += adv;
    }
}

static void tcp_open(struct tcp *c, uint32_t cip, uint16_t cport, uint32_t sip, uint16_t sport)
{
    c->cip = cip;
    c->sip = sip;
    c->cport = cport;
    c->sport = sport;
    c->cseq = rnd();
    c->sseq = rnd();
    tcp_seg(c, 1, 0x02, NULL, 0);
    tcp_seg(c, 0, 0x12, NULL, 0);
    tcp_seg(c, 1, 0x10, NULL, 0);
}

/* Send n bytes in MSS-sized segments, each acknowledged. */
static void tcp_send(struct tcp *c, int from_client, const uint8_t *data, size_t n)
{
    for (size_t off = 0; off < n; off += 1460) {
        size_t k = n - off < 1460 ? n - off : 1460;
        tcp_seg(c, from_client, 0x18, data + off, k);
        tcp_seg(c, !from_client, 0x10, NULL, 0);
    }
}

static void tcp_close(struct tcp *c)
{
    tcp_seg(c, 1, 0x11, NULL, 0);
    tcp_seg(c, 0, 0x11, NULL, 0);
    tcp_seg(c, 1, 0x10, NULL, 0);
}

static void udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, const uint8_t *d,
                size_t n)
{
    uint8_t u[1500];
    put16(u, sport);
    put16(u + 2, dport);
    put16(u + 4, (uint16_t)(8 + n));
    put16(u + 6, 0);
    memcpy(u + 8, d, n);
    emit(src, dst, 17, u, 8 + n);
}

/* A DNS query for `name` (dotted) with type t; the response echoes it with one TXT/A answer. */
static size_t dns_msg(uint8_t *m, uint16_t id, const char *name, uint16_t type, int response)
{
    put16(m, id);
    put16(m + 2, response ? 0x8180 : 0x0100);
    put16(m + 4, 1);
    put16(m + 6, response ? 1 : 0);
    put16(m + 8, 0);
    put16(m + 10, 0);
    size_t o = 12;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        m[o++] = (uint8_t)l;
        memcpy(m + o, p, l);
        o += l;
        p += l + (dot ? 1 : 0);
    }
    m[o++] = 0;
    put16(m + o, type);
    put16(m + o + 2, 1);
    o += 4;
    if (response) {
        put16(m + o, 0xc00c);
        put16(m + o + 2, type);
        put16(m + o + 4, 1);
        put32(m + o + 6, 60);
        put16(m + o + 10, 4);
        put32(m + o + 12, ip4(198, 51, 100, 99));
        o += 16;
    }
    return o;
}

/* ---- DICOM upper layer (PS3.8) and DIMSE (PS3.7), just enough for a C-STORE ---------- */

static size_t put_item(uint8_t *o, uint8_t type, const void *v, size_t n)
{
    o[0] = type;
    o[1] = 0;
    put16(o + 2, (uint16_t)n);
    memcpy(o + 4, v, n);
    return 4 + n;
}

/* A UID padded with NUL to even length (PS3.5 §9.1). */
static size_t uid_pad(char *dst, const char *uid)
{
    size_t n = strlen(uid);
    memcpy(dst, uid, n);
    if (n & 1) {
        dst[n++] = '\0';
    }
    return n;
}

/* Implicit VR little endian element: group(2) element(2) length(4) value. */
static size_t el(uint8_t *o, uint16_t g, uint16_t e, const void *v, uint32_t n)
{
    o[0] = (uint8_t)g;
    o[1] = (uint8_t)(g >> 8);
    o[2] = (uint8_t)e;
    o[3] = (uint8_t)(e >> 8);
    o[4] = (uint8_t)n;
    o[5] = (uint8_t)(n >> 8);
    o[6] = (uint8_t)(n >> 16);
    o[7] = (uint8_t)(n >> 24);
    memcpy(o + 8, v, n);
    return 8 + n;
}

static size_t el_uid(uint8_t *o, uint16_t g, uint16_t e, const char *uid)
{
    char b[70];
    return el(o, g, e, b, (uint32_t)uid_pad(b, uid));
}

static size_t el_u16(uint8_t *o, uint16_t g, uint16_t e, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return el(o, g, e, b, 2);
}

/* A P-DATA-TF PDU with one PDV. */
static size_t pdata(uint8_t *o, uint8_t pc, uint8_t mch, const uint8_t *v, size_t n)
{
    o[0] = 4;
    o[1] = 0;
    put32(o + 2, (uint32_t)(n + 6));
    put32(o + 6, (uint32_t)(n + 2));
    o[10] = pc;
    o[11] = mch;
    memcpy(o + 12, v, n);
    return 12 + n;
}

static size_t associate(uint8_t *o, uint8_t type, const char *called, const char *calling,
                        const char *abstract)
{
    uint8_t body[512], pcx[200];
    size_t b = 0, p = 0;
    char uid[70];
    put16(body, 1);
    put16(body + 2, 0);
    memset(body + 4, ' ', 32);
    memcpy(body + 4, called, strlen(called));
    memcpy(body + 20, calling, strlen(calling));
    memset(body + 36, 0, 32);
    b = 68;
    b += put_item(body + b, 0x10, uid, uid_pad(uid, "1.2.840.10008.3.1.1.1"));
    pcx[p++] = 1; /* presentation context id */
    pcx[p++] = 0;
    pcx[p++] = 0; /* result (AC: acceptance) */
    pcx[p++] = 0;
    if (type == 1) {
        p += put_item(pcx + p, 0x30, uid, uid_pad(uid, abstract));
    }
    p += put_item(pcx + p, 0x40, uid, uid_pad(uid, "1.2.840.10008.1.2"));
    b += put_item(body + b, type == 1 ? 0x20 : 0x21, pcx, p);
    o[0] = type;
    o[1] = 0;
    put32(o + 2, (uint32_t)b);
    memcpy(o + 6, body, b);
    return 6 + b;
}

static void fill_text(uint8_t *buf, size_t n, const char *line)
{
    size_t l = strlen(line);
    for (size_t i = 0; i < n; i++) {
        buf[i] = (uint8_t)line[i % l];
    }
}


/* ---- the synthetic patients and their documents ------------------------------------------- */

struct patient {
    const char *first, *last, *mrn, *ssn, *dob, *street, *city, *state, *zip, *phone;
};

/* 18 synthetic patients in 7 states: generated names, SSNs in valid format (no real person),
 * record numbers of the sample hospital. Which of them leave, and how, is in
 * samples/README.md. */
static const struct patient pts[18] = {
    {"Avery", "Lindqvist", "4100001", "512345671", "19620314", "14 Harbor Street", "Boston", "MA", "02118", "6174441001"},
    {"Jordan", "Okafor", "4100002", "523456782", "19750822", "233 Maple Avenue", "Worcester", "MA", "01605", "5084441002"},
    {"Casey", "Brennan", "4100003", "534567893", "19881105", "9 Cedar Lane", "Chicago", "IL", "60614", "3124441003"},
    {"Riley", "Nakamura", "4100004", "545678904", "19490127", "78 Willow Drive", "Houston", "TX", "77030", "7134441004"},
    {"Morgan", "Delacroix", "4100005", "556789015", "19930618", "402 Prospect Road", "Austin", "TX", "78701", "5124441005"},
    {"Quinn", "Abernathy", "4100006", "567890126", "19570909", "61 Lincoln Court", "Seattle", "WA", "98101", "2064441006"},
    {"Harper", "Kowalczyk", "4100007", "578901237", "20011230", "5 Sycamore Street", "Miami", "FL", "33101", "3054441007"},
    {"Rowan", "Szabo", "4100008", "589012348", "19680417", "1200 Elm Avenue", "Denver", "CO", "80202", "3034441008"},
    {"Emerson", "Fairbanks", "4100009", "590123459", "19791003", "37 Harbor Road", "Boston", "MA", "02127", "6174441009"},
    {"Skyler", "Villanueva", "4100010", "601234560", "19860725", "8 Maple Lane", "Chicago", "IL", "60601", "3124441010"},
    {"Dakota", "Hartmann", "4100011", "612345671", "19530211", "19 Cedar Drive", "Houston", "TX", "77002", "7134441011"},
    {"Reese", "Pellegrino", "4100012", "623456782", "19990614", "44 Willow Court", "Seattle", "WA", "98109", "2064441012"},
    {"Finley", "Thornbury", "4100013", "634567893", "19720120", "310 Prospect Street", "Miami", "FL", "33130", "3054441013"},
    {"Sage", "Rasmussen", "4100014", "645678904", "19650505", "72 Lincoln Avenue", "Denver", "CO", "80205", "3034441014"},
    {"Parker", "Galloway", "4100015", "656789015", "19840828", "6 Sycamore Road", "Albany", "NY", "12203", "5184441015"},
    {"Blair", "Iwasaki", "4100016", "567890127", "19910312", "900 Elm Lane", "Albany", "NY", "12208", "5184441016"},
    {"Ellis", "Lockhart", "4100017", "578901238", "19580719", "25 Harbor Drive", "Worcester", "MA", "01609", "5084441017"},
    {"Marlowe", "Quintero", "4100018", "589012349", "19770402", "3 Maple Court", "Austin", "TX", "78704", "5124441018"},
};

/* One HL7 v2 ADT^A01 for patient p (no MLLP framing). */
static int hl7_adt(char *o, size_t len, const struct patient *p, int n)
{
    return snprintf(o, len,
                    "MSH|^~\\&|ADT|RADGRP|BILLING|OUTSOURCE|202601011030||ADT^A01|ADT%04d|P|2.5.1\r"
                    "PID|1||%s^^^RADGRP^MR||%s^%s||%s|U|||%s^^%s^%s^%s||(%.3s)%.3s-%s||||||%s\r"
                    "DG1|1||R07.9^Chest pain, unspecified^I10\r",
                    n, p->mrn, p->last, p->first, p->dob, p->street, p->city, p->state, p->zip,
                    p->phone, p->phone + 3, p->phone + 6, p->ssn);
}

/* A DICOM data set (implicit VR little endian) of one CT image of patient p. */
static size_t ct_dataset(uint8_t *ds, const struct patient *p, const char *inst, const char *study)
{
    char name[80], mrn[16];
    int nl = snprintf(name, sizeof name, "%s^%s", p->last, p->first);
    if (nl & 1) {
        name[nl++] = ' ';
    }
    int ml = snprintf(mrn, sizeof mrn, "%s", p->mrn);
    if (ml & 1) {
        mrn[ml++] = ' ';
    }
    size_t d = 0;
    d += el(ds + d, 0x0008, 0x0016, "1.2.840.10008.5.1.4.1.1.2", 26);
    d += el_uid(ds + d, 0x0008, 0x0018, inst);
    d += el(ds + d, 0x0008, 0x0020, "20260101", 8);
    d += el(ds + d, 0x0008, 0x0050, "ACC20260001", 12);
    d += el(ds + d, 0x0010, 0x0010, name, (uint32_t)nl);
    d += el(ds + d, 0x0010, 0x0020, mrn, (uint32_t)ml);
    d += el(ds + d, 0x0010, 0x0030, p->dob, 8);
    d += el_uid(ds + d, 0x0020, 0x000D, study);
    uint8_t pixels[1024];
    for (size_t i = 0; i < sizeof pixels; i++) {
        pixels[i] = (uint8_t)(rnd() & 0xff);
    }
    d += el(ds + d, 0x7fe0, 0x0010, pixels, sizeof pixels);
    return d;
}

static size_t dimse(uint8_t *cmd, uint16_t field, uint16_t msgid, uint16_t dsflag, const char *inst,
                    int status)
{
    const char *ct = "1.2.840.10008.5.1.4.1.1.2";
    size_t k = 12, g0 = 12;
    k += el_uid(cmd + k, 0x0000, 0x0002, ct);
    k += el_u16(cmd + k, 0x0000, 0x0100, field);
    k += el_u16(cmd + k, 0x0000, field == 0x0001 ? 0x0110 : 0x0120, msgid);
    if (field == 0x0001) {
        k += el_u16(cmd + k, 0x0000, 0x0700, 0);
    }
    k += el_u16(cmd + k, 0x0000, 0x0800, dsflag);
    if (status >= 0) {
        k += el_u16(cmd + k, 0x0000, 0x0900, (uint16_t)status);
    }
    k += el_uid(cmd + k, 0x0000, 0x1000, inst);
    uint32_t gl = (uint32_t)(k - g0);
    el(cmd, 0x0000, 0x0000, (uint8_t[4]){(uint8_t)gl, (uint8_t)(gl >> 8), 0, 0}, 4);
    return k;
}

/* A DICOM association that stores one CT image per listed patient. */
static void dicom_store(uint32_t src, uint16_t sport, uint32_t dst, const char *calling,
                        const char *called, const int *which, int n, int inst_base)
{
    static uint8_t pdu[16384], cmd[512], ds[8192];
    struct tcp c;
    const char *ct = "1.2.840.10008.5.1.4.1.1.2";
    tcp_open(&c, src, sport, dst, 104);
    tcp_send(&c, 1, pdu, associate(pdu, 1, called, calling, ct));
    tcp_send(&c, 0, pdu, associate(pdu, 2, called, calling, ct));
    for (int i = 0; i < n; i++) {
        char inst[64], study[64];
        snprintf(inst, sizeof inst, "1.2.826.0.1.3680043.10.1455.7.%d", inst_base + i);
        snprintf(study, sizeof study, "1.2.826.0.1.3680043.10.1455.8.%d", which[i] + 1);
        size_t d = ct_dataset(ds, &pts[which[i]], inst, study);
        size_t k = dimse(cmd, 0x0001, (uint16_t)(i + 1), 0x0000, inst, -1);
        tcp_send(&c, 1, pdu, pdata(pdu, 1, 3, cmd, k));
        tcp_send(&c, 1, pdu, pdata(pdu, 1, 2, ds, d));
        k = dimse(cmd, 0x8001, (uint16_t)(i + 1), 0x0101, inst, 0);
        tcp_send(&c, 0, pdu, pdata(pdu, 1, 3, cmd, k));
    }
    static const uint8_t rq[10] = {5, 0, 0, 0, 0, 4, 0, 0, 0, 0}, rp[10] = {6, 0, 0, 0, 0, 4};
    tcp_send(&c, 1, rq, sizeof rq);
    tcp_send(&c, 0, rp, sizeof rp);
    tcp_close(&c);
}

/* A zip archive of stored (method 0) entries: local headers, central directory, end record
 * (PKWARE APPNOTE 6.3.10), with a fixed DOS date. */
static size_t zip_stored(uint8_t *o, const char *const *names, const uint8_t *const *data,
                         const size_t *lens, int n)
{
    size_t k = 0, cd_off;
    uint32_t offs[8];
    for (int i = 0; i < n; i++) {
        uint32_t crc = (uint32_t)crc32(0, data[i], (uInt)lens[i]);
        size_t nl = strlen(names[i]);
        offs[i] = (uint32_t)k;
        uint8_t h[30] = {0x50, 0x4b, 0x03, 0x04, 10, 0};
        h[10] = 0x00, h[11] = 0x50; /* 10:00 */
        h[12] = 0x21, h[13] = 0x5c; /* 2026-01-01 */
        memcpy(h + 14, (uint8_t[4]){(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16), (uint8_t)(crc >> 24)}, 4);
        for (int b = 0; b < 4; b++) {
            h[18 + b] = h[22 + b] = (uint8_t)(lens[i] >> (8 * b));
        }
        h[26] = (uint8_t)nl;
        memcpy(o + k, h, 30);
        memcpy(o + k + 30, names[i], nl);
        memcpy(o + k + 30 + nl, data[i], lens[i]);
        k += 30 + nl + lens[i];
    }
    cd_off = k;
    for (int i = 0; i < n; i++) {
        size_t nl = strlen(names[i]);
        uint8_t c[46] = {0x50, 0x4b, 0x01, 0x02, 20, 3, 10, 0};
        memcpy(c + 10, o + offs[i] + 8, 18); /* method .. sizes, name length from the local header */
        c[28] = (uint8_t)nl;
        for (int b = 0; b < 4; b++) {
            c[42 + b] = (uint8_t)(offs[i] >> (8 * b));
        }
        memcpy(o + k, c, 46);
        memcpy(o + k + 46, names[i], nl);
        k += 46 + nl;
    }
    uint8_t e[22] = {0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, (uint8_t)n, 0, (uint8_t)n, 0};
    uint32_t cd_len = (uint32_t)(k - cd_off);
    for (int b = 0; b < 4; b++) {
        e[12 + b] = (uint8_t)(cd_len >> (8 * b));
        e[16 + b] = (uint8_t)(cd_off >> (8 * b));
    }
    memcpy(o + k, e, 22);
    return k + 22;
}

static void b64(const uint8_t *in, size_t n, char *dst)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        dst[o++] = t[(v >> 18) & 63];
        dst[o++] = t[(v >> 12) & 63];
        dst[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        dst[o++] = i + 2 < n ? t[v & 63] : '=';
        if ((i / 3 + 1) % 19 == 0) {
            dst[o++] = '\r';
            dst[o++] = '\n';
        }
    }
    dst[o] = '\0';
}

static FILE *truth;

static void truth_object(const char *what, const uint8_t *p, size_t n, int last)
{
    uint8_t md[32];
    SHA256(p, n, md);
    fprintf(truth, "    {\"what\": \"%s\", \"size\": %zu, \"sha256\": \"", what, n);
    for (int i = 0; i < 32; i++) {
        fprintf(truth, "%02x", md[i]);
    }
    fprintf(truth, "\"}%s\n", last ? "" : ",");
}

/*
 * Bench traffic: 200 internal hosts; each round opens TCP connections of 16 to 256 KiB
 * to web, DICOM and HL7 servers inside and outside, with DNS lookups between them, so
 * the flow table holds thousands of live flows and payload dominates the bytes.
 */
static int bench(long mb, const char *path)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    out = pcap_dump_open(dead, path);
    if (out == NULL) {
        fprintf(stderr, "gen_samples: %s\n", pcap_geterr(dead));
        return 1;
    }
    static uint8_t buf[262144];
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t)("GET /studies/1.2.840.113619 HTTP/1.1 PID|1||MRN "[i % 48] ^ (i >> 12));
    }
    long long target = (long long)mb * 1000 * 1000, written = 24;
    uint16_t port = 20000;
    uint8_t m[512];
    while (written < target) {
        uint32_t cli = ip4(10, 2, (int)(rnd() % 4), (int)(1 + rnd() % 50));
        uint32_t srv = (rnd() & 1) ? ip4(10, 3, 0, (int)(1 + rnd() % 20))
                                   : ip4(198, 18, (int)(rnd() % 256), (int)(1 + rnd() % 250));
        static const uint16_t dports[] = {80, 443, 104, 2575, 21};
        size_t n = 16384 + (rnd() % 240) * 1024;
        struct tcp c;
        uint16_t dport = dports[rnd() % 5];
        tcp_open(&c, cli, port++, srv, dport);
        if (port < 20000) {
            port = 20000;
        }
        if (dport == 80) {
            /* a real HTTP upload: the body becomes an object */
            char hdr[160];
            int hl = snprintf(hdr, sizeof hdr,
                              "POST /upload HTTP/1.1\r\nHost: bench\r\nContent-Length: %zu\r\n\r\n",
                              n);
            tcp_send(&c, 1, (const uint8_t *)hdr, (size_t)hl);
            tcp_send(&c, 1, buf, n);
            tcp_send(&c, 0, (const uint8_t *)"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
        } else {
            tcp_send(&c, rnd() & 1, buf, n);
        }
        tcp_close(&c);
        written += (long long)n + (long long)(n / 1460 + 1) * 2 * (54 + 16) + 6 * 70;
        size_t dn = dns_msg(m, (uint16_t)rnd(), "pacs.example.org", 1, 0);
        udp(cli, (uint16_t)(30000 + rnd() % 30000), ip4(10, 2, 0, 2), 53, m, dn);
        written += (long long)dn + 42 + 16;
        now_us += 2000;
    }
    pcap_dump_close(out);
    pcap_close(dead);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--bench") == 0) {
        return bench(atol(argv[2]), argv[3]);
    }
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: gen_samples DIR [GROUND_TRUTH.json] | gen_samples --bench MB FILE\n");
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/radiology-breach.pcap", argv[1]);
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    out = pcap_dump_open(dead, path);
    if (out == NULL) {
        fprintf(stderr, "gen_samples: %s\n", pcap_geterr(dead));
        return 1;
    }
    const uint32_t pacs = ip4(10, 1, 1, 10), modality = ip4(10, 1, 1, 20);
    const uint32_t hl7eng = ip4(10, 1, 1, 40), ris = ip4(10, 1, 1, 30);
    const uint32_t ws = ip4(10, 1, 1, 50), resolver = ip4(10, 1, 1, 2), beacon = ip4(10, 1, 1, 77);
    static uint8_t buf[65536];
    struct tcp c;

    /* 1. Internal DICOM: the CT modality (AE CT01) stores one synthetic image to the PACS
     * (AE PACS) with C-STORE (10.1.1.20 -> 10.1.1.10:104). */
    {
        const char *ct = "1.2.840.10008.5.1.4.1.1.2", *inst = "1.2.826.0.1.3680043.10.1455.42.1";
        uint8_t pdu[8192], cmd[512], ds[4096];
        tcp_open(&c, modality, 40001, pacs, 104);
        tcp_send(&c, 1, pdu, associate(pdu, 1, "PACS", "CT01", ct));
        tcp_send(&c, 0, pdu, associate(pdu, 2, "PACS", "CT01", ct));
        size_t d = 0;
        d += el(ds + d, 0x0008, 0x0016, "1.2.840.10008.5.1.4.1.1.2", 26);
        d += el_uid(ds + d, 0x0008, 0x0018, inst);
        d += el(ds + d, 0x0010, 0x0010, "SAMPLE^PATIENT^ONE", 18);
        d += el(ds + d, 0x0010, 0x0020, "MRN4201 ", 8);
        d += el(ds + d, 0x0010, 0x0030, "19700101", 8);
        uint8_t pixels[2048];
        for (size_t i = 0; i < sizeof pixels; i++) {
            pixels[i] = (uint8_t)(rnd() & 0xff);
        }
        d += el(ds + d, 0x7fe0, 0x0010, pixels, sizeof pixels);
        size_t k = 0, g0;
        k += 12; /* (0000,0000) group length, filled below */
        g0 = k;
        k += el_uid(cmd + k, 0x0000, 0x0002, ct);
        k += el_u16(cmd + k, 0x0000, 0x0100, 0x0001); /* C-STORE-RQ */
        k += el_u16(cmd + k, 0x0000, 0x0110, 1);
        k += el_u16(cmd + k, 0x0000, 0x0700, 0);
        k += el_u16(cmd + k, 0x0000, 0x0800, 0x0000); /* a data set follows */
        k += el_uid(cmd + k, 0x0000, 0x1000, inst);
        uint32_t gl = (uint32_t)(k - g0);
        el(cmd, 0x0000, 0x0000, (uint8_t[4]){(uint8_t)gl, (uint8_t)(gl >> 8), 0, 0}, 4);
        tcp_send(&c, 1, pdu, pdata(pdu, 1, 3, cmd, k));
        tcp_send(&c, 1, pdu, pdata(pdu, 1, 2, ds, d));
        k = 12;
        g0 = k;
        k += el_uid(cmd + k, 0x0000, 0x0002, ct);
        k += el_u16(cmd + k, 0x0000, 0x0100, 0x8001); /* C-STORE-RSP */
        k += el_u16(cmd + k, 0x0000, 0x0120, 1);
        k += el_u16(cmd + k, 0x0000, 0x0800, 0x0101); /* no data set */
        k += el_u16(cmd + k, 0x0000, 0x0900, 0x0000); /* success */
        k += el_uid(cmd + k, 0x0000, 0x1000, inst);
        gl = (uint32_t)(k - g0);
        el(cmd, 0x0000, 0x0000, (uint8_t[4]){(uint8_t)gl, (uint8_t)(gl >> 8), 0, 0}, 4);
        tcp_send(&c, 0, pdu, pdata(pdu, 1, 3, cmd, k));
        static const uint8_t rq[10] = {5, 0, 0, 0, 0, 4, 0, 0, 0, 0}, rp[10] = {6, 0, 0, 0, 0, 4};
        tcp_send(&c, 1, rq, sizeof rq);
        tcp_send(&c, 0, rp, sizeof rp);
        tcp_close(&c);
    }

    /* 2. Internal HL7 over MLLP: RIS -> interface engine (10.1.1.30 -> 10.1.1.40:2575),
     * two ORU^R01 messages, each acknowledged. */
    tcp_open(&c, ris, 40002, hl7eng, 2575);
    for (int i = 1; i <= 2; i++) {
        char msg[512], ack[256];
        int ml = snprintf(msg, sizeof msg,
                          "\x0bMSH|^~\\&|RIS|RADGRP|ENGINE|RADGRP|2026010110000%d||ORU^R01|MSG%04d|P|"
                          "2.5\rPID|1||MRN%04d^^^RADGRP^MR||SAMPLE^PATIENT%d\rOBR|1|||71020^CHEST "
                          "XRAY\rOBX|1|TX|71020||no acute findings\r\x1c\r",
                          i, i, 4200 + i, i);
        tcp_send(&c, 1, (const uint8_t *)msg, (size_t)ml);
        int al = snprintf(ack, sizeof ack,
                          "\x0bMSH|^~\\&|ENGINE|RADGRP|RIS|RADGRP|2026010110000%d||ACK|ACK%04d|P|"
                          "2.5\rMSA|AA|MSG%04d\r\x1c\r",
                          i, i, i);
        tcp_send(&c, 0, (const uint8_t *)ack, (size_t)al);
    }
    tcp_close(&c);

    /* 3. Benign DNS and browsing: workstation 10.1.1.50 resolves and fetches a page. */
    uint8_t m[512];
    size_t n = dns_msg(m, 0x1111, "www.example.org", 1, 0);
    udp(ws, 53001, resolver, 53, m, n);
    n = dns_msg(m, 0x1111, "www.example.org", 1, 1);
    udp(resolver, 53, ws, 53001, m, n);
    tcp_open(&c, ws, 40003, ip4(93, 184, 216, 34), 80);
    const char *get = "GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n";
    tcp_send(&c, 1, (const uint8_t *)get, strlen(get));
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 3000\r\n\r\n";
    size_t okl = strlen(ok);
    memcpy(buf, ok, okl);
    fill_text(buf + okl, 3000, "<html>benign page</html>");
    tcp_send(&c, 0, buf, okl + 3000);
    tcp_close(&c);

    /* 4. Exfiltration by HTTP POST: 10.1.1.20 -> 203.0.113.50:80, 20000-byte body. */
    tcp_open(&c, modality, 40004, ip4(203, 0, 113, 50), 80);
    char hdr[256];
    int hl = snprintf(hdr, sizeof hdr,
                      "POST /upload HTTP/1.1\r\nHost: 203.0.113.50\r\nContent-Length: 20000\r\n\r\n");
    memcpy(buf, hdr, (size_t)hl);
    fill_text(buf + hl, 20000, "PID|1||MRN0042^^^RADGRP^MR||DOE^JANE||19800101|F\r");
    tcp_send(&c, 1, buf, (size_t)hl + 20000);
    tcp_send(&c, 0, (const uint8_t *)"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
    tcp_close(&c);

    /* 5. DNS tunnel: 40 queries with long hex labels under t.exfil.example to 198.51.100.53. */
    for (int i = 0; i < 40; i++) {
        char name[200];
        int o = 0;
        for (int k = 0; k < 48; k++) {
            o += snprintf(name + o, sizeof name - (size_t)o, "%x", rnd() & 15);
        }
        snprintf(name + o, sizeof name - (size_t)o, ".%d.t.exfil.example", i);
        n = dns_msg(m, (uint16_t)(0x2000 + i), name, 16, 0);
        udp(ws, (uint16_t)(50000 + i), ip4(198, 51, 100, 53), 53, m, n);
        n = dns_msg(m, (uint16_t)(0x2000 + i), name, 16, 1);
        udp(ip4(198, 51, 100, 53), 53, ws, (uint16_t)(50000 + i), m, n);
        now_us += 500000;
    }

    /* 6. Beacon: 10.1.1.77 -> 198.51.100.7:443 every 60 s, 12 times, 200 bytes out. */
    for (int i = 0; i < 12; i++) {
        tcp_open(&c, beacon, (uint16_t)(41000 + i), ip4(198, 51, 100, 7), 443);
        fill_text(buf, 200, "\x16\x03\x01 beacon ");
        tcp_send(&c, 1, buf, 200);
        tcp_close(&c);
        now_us += 60000000;
    }
    /* ---- the breach: patient data read inside, then sent out ------------------------ */
    /* what left, by hash, beside the evidence (not inside it: it is not evidence) */
    if (argc == 3) {
        snprintf(path, sizeof path, "%s", argv[2]);
    } else {
        snprintf(path, sizeof path, "%s.ground-truth.json", argv[1]);
    }
    truth = fopen(path, "w");
    if (truth == NULL) {
        perror(path);
        return 1;
    }
    fprintf(truth, "{\n  \"comment\": \"written by samples/gen/gen_samples.c; explained in "
                   "samples/README.md\",\n  \"objects_sent_out\": [\n");
    const uint32_t mail = ip4(10, 1, 1, 60);

    /* 7. The modality stores studies of patients 1-3 on the PACS (read inside). */
    now_us += 60000000;
    dicom_store(modality, 40010, pacs, "CT01", "PACS", (const int[]){0, 1, 2}, 3, 100);

    /* 8. HTTP POST of a CSV export of patients 1-10 to 203.0.113.80. */
    now_us += 30000000;
    {
        static char csv[8192];
        int cl = snprintf(csv, sizeof csv,
                          "mrn,first_name,last_name,dob,ssn,address,city,state,zip,phone,diagnosis\r\n");
        for (int i = 0; i < 10; i++) {
            const struct patient *q = &pts[i];
            cl += snprintf(csv + cl, sizeof csv - (size_t)cl,
                           "%s,%s,%s,%.4s-%.2s-%.2s,%.3s-%.2s-%.4s,%s,%s,%s,%s,%s,R07.9\r\n",
                           q->mrn, q->first, q->last, q->dob, q->dob + 4, q->dob + 6, q->ssn,
                           q->ssn + 3, q->ssn + 5, q->street, q->city, q->state, q->zip, q->phone);
        }
        int h2 = snprintf(hdr, sizeof hdr,
                          "POST /api/upload HTTP/1.1\r\nHost: files.example.net\r\nContent-Type: "
                          "text/csv\r\nContent-Length: %d\r\n\r\n", cl);
        memcpy(buf, hdr, (size_t)h2);
        memcpy(buf + h2, csv, (size_t)cl);
        tcp_open(&c, ws, 40020, ip4(203, 0, 113, 80), 80);
        tcp_send(&c, 1, buf, (size_t)(h2 + cl));
        tcp_send(&c, 0, (const uint8_t *)"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 43);
        tcp_close(&c);
        truth_object("http POST /api/upload: CSV of patients 1-10", (const uint8_t *)csv,
                     (size_t)cl, 0);
    }

    /* 9. DICOM C-STORE from the PACS to an outside AE (EXTPACS): patients 1-3 and 11. */
    now_us += 30000000;
    dicom_store(pacs, 40030, ip4(198, 51, 100, 104), "PACS", "EXTPACS",
                (const int[]){0, 1, 2, 10}, 4, 200);

    /* 10. FTP (passive) STOR of export.zip holding HL7 messages of patients 11-16. */
    now_us += 30000000;
    {
        static char h1[8192], h2b[8192];
        int l1 = 0, l2 = 0;
        for (int i = 10; i < 13; i++) {
            l1 += hl7_adt(h1 + l1, sizeof h1 - (size_t)l1, &pts[i], i + 1);
        }
        for (int i = 13; i < 16; i++) {
            l2 += hl7_adt(h2b + l2, sizeof h2b - (size_t)l2, &pts[i], i + 1);
        }
        static uint8_t zip[32768];
        const char *names[2] = {"adt_11_13.hl7", "adt_14_16.hl7"};
        const uint8_t *data[2] = {(const uint8_t *)h1, (const uint8_t *)h2b};
        size_t lens[2] = {(size_t)l1, (size_t)l2};
        size_t zl = zip_stored(zip, names, data, lens, 2);
        const uint32_t ftp = ip4(203, 0, 113, 21);
        struct tcp ctl, dat;
        tcp_open(&ctl, hl7eng, 40040, ftp, 21);
        static const char *const dialog[][2] = {
            {NULL, "220 ftp.partner.example ready\r\n"},
            {"USER export\r\n", "331 Password required\r\n"},
            {"PASS export\r\n", "230 Logged in\r\n"},
            {"TYPE I\r\n", "200 Binary\r\n"},
            {"PASV\r\n", "227 Entering Passive Mode (203,0,113,21,195,101)\r\n"},
            {"STOR export.zip\r\n", "150 Opening data connection\r\n"},
        };
        for (size_t i = 0; i < sizeof dialog / sizeof dialog[0]; i++) {
            if (dialog[i][0] != NULL) {
                tcp_send(&ctl, 1, (const uint8_t *)dialog[i][0], strlen(dialog[i][0]));
            }
            tcp_send(&ctl, 0, (const uint8_t *)dialog[i][1], strlen(dialog[i][1]));
        }
        tcp_open(&dat, hl7eng, 40041, ftp, 195 * 256 + 101);
        tcp_send(&dat, 1, zip, zl);
        tcp_close(&dat);
        tcp_send(&ctl, 0, (const uint8_t *)"226 Transfer complete\r\n", 23);
        tcp_send(&ctl, 1, (const uint8_t *)"QUIT\r\n", 6);
        tcp_send(&ctl, 0, (const uint8_t *)"221 Bye\r\n", 9);
        tcp_close(&ctl);
        truth_object("ftp STOR export.zip", zip, zl, 0);
        truth_object("export.zip member adt_11_13.hl7 (patients 11-13)", data[0], lens[0], 0);
        truth_object("export.zip member adt_14_16.hl7 (patients 14-16)", data[1], lens[1], 0);
    }

    /* 11. SMTP: a clinic note about patients 5, 17 and 18 mailed to an outside address. */
    now_us += 30000000;
    {
        static char note[4096], mime[8192], att[8192];
        int nl = 0;
        const int who[3] = {4, 16, 17};
        nl += snprintf(note + nl, sizeof note - (size_t)nl, "Radiology follow-up list\r\n\r\n");
        for (int i = 0; i < 3; i++) {
            const struct patient *q = &pts[who[i]];
            nl += snprintf(note + nl, sizeof note - (size_t)nl,
                           "Patient %s %s, MRN: %s, DOB: %.2s/%.2s/%.4s, SSN %.3s-%.2s-%.4s, "
                           "phone (%.3s) %.3s-%s. Address: %s, %s, %s %s. Dx: R07.9, CT chest "
                           "ordered.\r\n\r\n",
                           q->first, q->last, q->mrn, q->dob + 4, q->dob + 6, q->dob, q->ssn,
                           q->ssn + 3, q->ssn + 5, q->phone, q->phone + 3, q->phone + 6, q->street,
                           q->city, q->state, q->zip);
        }
        b64((const uint8_t *)note, (size_t)nl, att);
        int ml = snprintf(mime, sizeof mime,
                          "From: frontdesk@radgroup.example\r\nTo: records@outside.example\r\n"
                          "Subject: follow-up list\r\nDate: Thu, 1 Jan 2026 10:15:00 +0000\r\n"
                          "Message-ID: <sample-1@radgroup.example>\r\nMIME-Version: 1.0\r\n"
                          "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
                          "Content-Type: text/plain\r\n\r\nSee the attached list.\r\n--b1\r\n"
                          "Content-Type: text/plain; name=\"followup.txt\"\r\n"
                          "Content-Disposition: attachment; filename=\"followup.txt\"\r\n"
                          "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n.\r\n", att);
        struct tcp sm;
        tcp_open(&sm, mail, 40050, ip4(192, 0, 2, 25), 25);
        static const char *const smtp[][2] = {
            {NULL, "220 mx.outside.example ESMTP\r\n"},
            {"EHLO radgroup.example\r\n", "250 mx.outside.example\r\n"},
            {"MAIL FROM:<frontdesk@radgroup.example>\r\n", "250 OK\r\n"},
            {"RCPT TO:<records@outside.example>\r\n", "250 OK\r\n"},
            {"DATA\r\n", "354 Go ahead\r\n"},
        };
        for (size_t i = 0; i < sizeof smtp / sizeof smtp[0]; i++) {
            if (smtp[i][0] != NULL) {
                tcp_send(&sm, 1, (const uint8_t *)smtp[i][0], strlen(smtp[i][0]));
            }
            tcp_send(&sm, 0, (const uint8_t *)smtp[i][1], strlen(smtp[i][1]));
        }
        tcp_send(&sm, 1, (const uint8_t *)mime, (size_t)ml);
        tcp_send(&sm, 0, (const uint8_t *)"250 Queued\r\n", 12);
        tcp_send(&sm, 1, (const uint8_t *)"QUIT\r\n", 6);
        tcp_send(&sm, 0, (const uint8_t *)"221 Bye\r\n", 9);
        tcp_close(&sm);
        truth_object("smtp attachment followup.txt (patients 5, 17, 18)", (const uint8_t *)note,
                     (size_t)nl, 1);
    }

    /* 12. An encrypted upload to cloud storage after the data was read: a TLS ClientHello for
     * upload.mega.nz, then 64 KiB of application data records (content unreadable). */
    now_us += 30000000;
    {
        struct tcp tl;
        tcp_open(&tl, ws, 40060, ip4(198, 51, 100, 200), 443);
        static const char sni[] = "upload.mega.nz";
        uint8_t ch[256];
        size_t k = 0;
        ch[k++] = 0x16, ch[k++] = 3, ch[k++] = 1;
        size_t rec_len_at = k;
        k += 2;
        ch[k++] = 1; /* ClientHello */
        size_t hs_len_at = k;
        k += 3;
        ch[k++] = 3, ch[k++] = 3;
        for (int i = 0; i < 32; i++) {
            ch[k++] = (uint8_t)(rnd() & 0xff);
        }
        ch[k++] = 0;                                   /* session id */
        ch[k++] = 0, ch[k++] = 2, ch[k++] = 0x13, ch[k++] = 0x01; /* TLS_AES_128_GCM_SHA256 */
        ch[k++] = 1, ch[k++] = 0;                      /* no compression */
        size_t ext_len_at = k;
        k += 2;
        size_t sl = strlen(sni);
        ch[k++] = 0, ch[k++] = 0;                      /* server_name */
        put16(ch + k, (uint16_t)(sl + 5));
        k += 2;
        put16(ch + k, (uint16_t)(sl + 3));
        k += 2;
        ch[k++] = 0;
        put16(ch + k, (uint16_t)sl);
        k += 2;
        memcpy(ch + k, sni, sl);
        k += sl;
        put16(ch + ext_len_at, (uint16_t)(k - ext_len_at - 2));
        size_t hl2 = k - hs_len_at - 3;
        ch[hs_len_at] = 0, ch[hs_len_at + 1] = (uint8_t)(hl2 >> 8), ch[hs_len_at + 2] = (uint8_t)hl2;
        put16(ch + rec_len_at, (uint16_t)(k - rec_len_at - 2));
        tcp_send(&tl, 1, ch, k);
        /* ServerHello: version, random, empty session id, TLS_AES_128_GCM_SHA256, no
         * compression, no extensions */
        uint8_t sh[5 + 4 + 40] = {0x16, 3, 3, 0, 44, 2, 0, 0, 40, 3, 3};
        for (int i = 0; i < 32; i++) {
            sh[11 + i] = (uint8_t)(rnd() & 0xff);
        }
        sh[43] = 0, sh[44] = 0x13, sh[45] = 0x01, sh[46] = 0, sh[47] = 0, sh[48] = 0;
        tcp_send(&tl, 0, sh, sizeof sh);
        for (int r = 0; r < 16; r++) {
            buf[0] = 0x17, buf[1] = 3, buf[2] = 3;
            put16(buf + 3, 4096);
            for (int i = 0; i < 4096; i++) {
                buf[5 + i] = (uint8_t)(rnd() & 0xff);
            }
            tcp_send(&tl, 1, buf, 4101);
        }
        tcp_close(&tl);
    }
    fprintf(truth, "  ]\n}\n");
    fclose(truth);

    pcap_dump_close(out);
    pcap_close(dead);
    return 0;
}
