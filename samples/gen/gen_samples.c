/*
 * gen_samples.c - writes the sample evidence in samples/ deterministically.
 *
 * Usage: gen_samples DIR              the sample case (samples/evidence)
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
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (argc != 2) {
        fprintf(stderr, "usage: gen_samples DIR | gen_samples --bench MB FILE\n");
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
    pcap_dump_close(out);
    pcap_close(dead);
    return 0;
}
