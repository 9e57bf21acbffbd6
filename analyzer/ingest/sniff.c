/*
 * sniff.c - what kind of evidence a file is, by content (see sniff.h).
 *
 * Disk images by their volume or container signatures (Brian Carrier, "File System Forensic
 * Analysis": MBR 0x55AA at 510, GPT "EFI PART" at 512, NTFS "NTFS    " at 3, FAT labels at
 * 54/82, exFAT at 3, ext2/3/4 magic 0xEF53 at 1080, HFS+ "H+"/"HX" at 1024, ISO 9660
 * "CD001" at 32769; libewf's "EVF\t\r\n\xff\0" and "LVF", VMDK "KDMV" and descriptor, VHD
 * "conectix", VHDX "vhdxfile", QCOW "QFI\xfb"). Logs by their first lines: Zeek TSV
 * (#separator / #fields) and JSON (ts + uid), Suricata EVE (event_type), W3C extended
 * (#Fields:), syslog (RFC 3164 and 5424), Apache/NGINX combined, CEF/LEEF, Windows EVTX
 * ("ElfFile"), nfcapd files, NetFlow/flow CSV exports (a header naming source and
 * destination addresses and bytes), and IHE ATNA audit messages (one a line, or an
 * <AuditMessage> with its <EventIdentification> anywhere in the head: XML over many lines).
 *
 * Trust boundary: reads only the first PT_SNIFF_HEAD bytes given, with bounds checks.
 */
#include "sniff.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "atna.h"

static bool at(const uint8_t *p, size_t n, size_t off, const char *sig, size_t len)
{
    return off + len <= n && memcmp(p + off, sig, len) == 0;
}

static const char *image(const uint8_t *p, size_t n)
{
    if (at(p, n, 0, "EVF\x09\x0d\x0a\xff\x00", 8) || at(p, n, 0, "EVF2\x0d\x0a\x81\x00", 8)) {
        return "image:ewf";
    }
    if (at(p, n, 0, "LVF\x09\x0d\x0a\xff\x00", 8)) {
        return "image:ewf-logical";
    }
    if (at(p, n, 0, "KDMV", 4) || at(p, n, 0, "# Disk DescriptorFile", 21)) {
        return "image:vmdk";
    }
    if (at(p, n, 0, "conectix", 8)) {
        return "image:vhd";
    }
    if (at(p, n, 0, "vhdxfile", 8)) {
        return "image:vhdx";
    }
    if (at(p, n, 0, "QFI\xfb", 4)) {
        return "image:qcow";
    }
    if (at(p, n, 3, "NTFS    ", 8)) {
        return "image:ntfs";
    }
    if (at(p, n, 3, "EXFAT   ", 8)) {
        return "image:exfat";
    }
    if (at(p, n, 82, "FAT32   ", 8) || at(p, n, 54, "FAT16   ", 8) ||
        at(p, n, 54, "FAT12   ", 8)) {
        return "image:fat";
    }
    if (n >= 1082 && p[1080] == 0x53 && p[1081] == 0xef) {
        return "image:ext";
    }
    if (at(p, n, 1024, "H+", 2) || at(p, n, 1024, "HX", 2)) {
        return "image:hfsplus";
    }
    if (at(p, n, 512, "EFI PART", 8)) {
        return "image:gpt";
    }
    if (at(p, n, 32769, "CD001", 5)) {
        return "image:iso9660";
    }
    if (n >= 512 && p[510] == 0x55 && p[511] == 0xaa) {
        /* an MBR: partition entries with a known type and a non-zero size */
        for (int e = 0; e < 4; e++) {
            const uint8_t *q = p + 446 + 16 * e;
            uint32_t sectors = (uint32_t)q[12] | (uint32_t)q[13] << 8 | (uint32_t)q[14] << 16 |
                               (uint32_t)q[15] << 24;
            if ((q[0] == 0x00 || q[0] == 0x80) && q[4] != 0 && sectors != 0) {
                return "image:mbr";
            }
        }
    }
    return NULL;
}

/* The first line (without its end) into out; false when there is none. */
static bool line(const uint8_t *p, size_t n, size_t *pos, char *out, size_t len)
{
    size_t i = *pos, k = 0;
    if (i >= n) {
        return false;
    }
    /* the line's end by memchr: a head of one long line (JSON) is not walked byte by byte */
    const uint8_t *nl = memchr(p + i, '\n', n - i);
    size_t e = nl != NULL ? (size_t)(nl - p) : n;
    for (; i < e && k + 1 < len; i++) {
        if (p[i] != '\r') {
            out[k++] = (char)p[i];
        }
    }
    out[k] = '\0';
    *pos = e + 1;
    return true;
}

static bool syslog_line(const char *l)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (l[0] == '<') { /* <PRI> then RFC 5424 "1 2024-..." or RFC 3164 "Jan  5 ..." */
        const char *e = strchr(l, '>');
        if (e == NULL || e - l > 4) {
            return false;
        }
        l = e + 1;
        if (l[0] == '1' && l[1] == ' ' && isdigit((unsigned char)l[2])) {
            return true;
        }
    }
    /* rsyslog's RFC 3339 form ("2024-01-05T10:05:00+00:00 host tag: text") is taken for
     * syslog when the text is a Cisco ASA/FTD message (other programs' ISO-dated logs are
     * not syslog by that alone) */
    if (strlen(l) > 20 && isdigit((unsigned char)l[0]) && l[4] == '-' && l[7] == '-' &&
        l[10] == 'T' && l[13] == ':' && l[16] == ':' &&
        (strstr(l, " %ASA-") != NULL || strstr(l, " %FTD-") != NULL)) {
        return true;
    }
    for (int m = 0; m < 12; m++) {
        if (strncmp(l, months[m], 3) == 0 && l[3] == ' ' &&
            (isdigit((unsigned char)l[4]) || l[4] == ' ') && strlen(l) > 15 && l[9] == ':' &&
            l[12] == ':') {
            return true;
        }
    }
    return false;
}

static bool combined_log_line(const char *l)
{
    /* 203.0.113.5 - - [05/Jan/2024:10:00:01 +0000] "GET / HTTP/1.1" 200 ... */
    const char *b = strstr(l, " [");
    const char *q = strstr(l, "] \"");
    return b != NULL && q != NULL && b < q && q - b > 20 && isdigit((unsigned char)b[2]) &&
           (isdigit((unsigned char)l[0]) || isxdigit((unsigned char)l[0]));
}

/* Squid's native access.log: "1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET ..." */
static bool squid_line(const char *l)
{
    size_t i = 0;
    while (isdigit((unsigned char)l[i])) {
        i++;
    }
    if (i < 9 || i > 10 || l[i] != '.') {
        return false;
    }
    const char *c = strchr(l + i, ' ');
    if (c == NULL) {
        return false;
    }
    while (*c == ' ') {
        c++;
    }
    while (isdigit((unsigned char)*c)) {
        c++;
    }
    const char *res = *c == ' ' ? strchr(c + 1, ' ') : NULL; /* after the client */
    if (res == NULL) {
        return false;
    }
    const char *slash = strchr(res + 1, '/');
    return slash != NULL && slash - res > 3 && isupper((unsigned char)res[1]) &&
           isdigit((unsigned char)slash[1]);
}

/* AWS load balancer access logs: ALB "https 2020-01-11T16:55:20.356586Z app/name/id
 * 192.168.1.10:44325 ...", Classic ELB the same without the type. */
static bool elb_line(const char *l)
{
    static const char *const types[] = {"http ", "https ", "h2 ", "ws ", "wss ", "grpcs "};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strncmp(l, types[i], strlen(types[i])) == 0) {
            l += strlen(types[i]);
            break;
        }
    }
    if (strncmp(l, "tls ", 4) == 0 && isdigit((unsigned char)l[4])) { /* NLB: "tls 2.0 time" */
        const char *v = strchr(l + 4, ' ');
        return v != NULL && strlen(v) > 20 && isdigit((unsigned char)v[1]) && v[5] == '-' &&
               v[11] == 'T';
    }
    if (strlen(l) < 30 || !isdigit((unsigned char)l[0]) || l[4] != '-' || l[10] != 'T') {
        return false;
    }
    const char *sp = strchr(l, ' ');
    if (sp == NULL || sp[-1] != 'Z') {
        return false;
    }
    const char *cl = strchr(sp + 1, ' '); /* after the balancer's name: client:port */
    return cl != NULL && (isdigit((unsigned char)cl[1]) || cl[1] == '[') &&
           strchr(cl + 1, ':') != NULL;
}

/* C's ctime() time at the start of a line: "Mon Jun  6 18:43:28 2016" */
static bool ctime_prefix(const char *l)
{
    return strlen(l) > 24 && l[3] == ' ' && l[7] == ' ' && l[10] == ' ' && l[13] == ':' &&
           l[16] == ':' && l[19] == ' ' && isdigit((unsigned char)l[20]) &&
           isdigit((unsigned char)l[23]) && l[24] == ' ';
}

/* vsftpd's own log: ctime, then "[pid N]" */
static bool vsftpd_line(const char *l)
{
    return ctime_prefix(l) && strncmp(l + 24, " [pid ", 6) == 0;
}

/* xferlog: ctime, then seconds, host, size, ... and a completion status c or i last */
static bool xferlog_line(const char *l)
{
    if (!ctime_prefix(l) || !isdigit((unsigned char)l[25])) {
        return false;
    }
    size_t n = strlen(l);
    while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == ' ')) {
        n--;
    }
    return n > 2 && l[n - 2] == ' ' && (l[n - 1] == 'c' || l[n - 1] == 'i');
}

/* PAN-OS: "...,2019/11/07 23:59:59,SERIAL,TRAFFIC,end,..." (THREAT, SYSTEM, CONFIG alike) */
static bool panos_line(const char *l)
{
    static const char *const types[] = {",TRAFFIC,", ",THREAT,", ",SYSTEM,", ",CONFIG,"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const char *t = strstr(l, types[i]);
        if (t != NULL && t - l > 20) {
            const char *c = t - 1; /* back over the serial number to the receive time */
            while (c > l && *c != ',') {
                c--;
            }
            return c - l >= 19 && c[-3] == ':' && c[-6] == ':' && c[-12] == '/' && c[-15] == '/';
        }
    }
    return false;
}

/* The Windows DNS server's debug log: its header, or packet lines */
static bool windns_line(const char *l)
{
    return strncmp(l, "DNS Server log file creation at", 31) == 0 ||
           (strstr(l, " PACKET ") != NULL && (strstr(l, " UDP ") || strstr(l, " TCP ")) &&
            (strstr(l, " Rcv ") || strstr(l, " Snd ")));
}

/* IHE ATNA audit messages spread over lines (pretty-printed XML, several messages a file,
 * a wrapping element, syslog frames whose message runs over lines): an <AuditMessage> tag
 * and, after it, its <EventIdentification>. */
static bool atna_document(const uint8_t *p, size_t n)
{
    const uint8_t *m = pt_atna_find(p, n); /* names with a namespace prefix or without */
    return m != NULL &&
           pt_atna_find_tag(m, n - (size_t)(m - p), "EventIdentification") != NULL;
}

static const char *logfile(const uint8_t *p, size_t n)
{
    if (at(p, n, 0, "ElfFile", 8)) {
        return "log:evtx";
    }
    /* nfdump's file magic 0xA50C and layout 1 or 2, 16-bit words in the writer's byte order
     * (little-endian on x86: 0c a5 02 00) */
    if (n >= 4 && ((p[0] == 0x0c && p[1] == 0xa5 && (p[2] == 1 || p[2] == 2) && p[3] == 0) ||
                   (p[0] == 0xa5 && p[1] == 0x0c && p[2] == 0 && (p[3] == 1 || p[3] == 2)))) {
        return "log:nfcapd";
    }
    char l[1024];
    size_t pos = 0;
    unsigned lines = 0, sys = 0, combined = 0, cef = 0, eve = 0, zeekj = 0, squid = 0, elb = 0;
    unsigned vsftpd = 0, xferlog = 0, pan = 0, windns = 0, atna = 0;
    bool w3c = false;
    while (lines < 20 && line(p, n, &pos, l, sizeof l)) {
        if (lines == 0 && (strncmp(l, "#separator", 10) == 0 || strncmp(l, "#fields\t", 8) == 0)) {
            return "log:zeek";
        }
        if (strncmp(l, "#Fields:", 8) == 0 || strncmp(l, "#Software: Microsoft", 20) == 0) {
            w3c = true;
        }
        if (l[0] == '\0') {
            continue;
        }
        lines++;
        if (l[0] == '{') {
            eve += strstr(l, "\"event_type\"") != NULL;
            zeekj += strstr(l, "\"uid\"") != NULL && strstr(l, "\"ts\"") != NULL;
        }
        sys += syslog_line(l);
        combined += combined_log_line(l);
        squid += squid_line(l);
        elb += elb_line(l);
        vsftpd += vsftpd_line(l);
        xferlog += xferlog_line(l);
        pan += panos_line(l);
        windns += windns_line(l);
        atna += pt_atna_find((const uint8_t *)l, strlen(l)) != NULL; /* IHE ATNA, a line each */
        cef += strstr(l, "CEF:0|") != NULL || strstr(l, "LEEF:") != NULL;
    }
    if (lines == 0) {
        return NULL;
    }
    if (w3c) {
        return "log:w3c";
    }
    if (atna * 2 > lines) {
        return "log:atna";
    }
    if (eve * 2 > lines) {
        return "log:suricata-eve";
    }
    if (zeekj * 2 > lines) {
        return "log:zeek-json";
    }
    if (cef * 2 > lines) {
        return "log:cef";
    }
    if (pan * 2 > lines) {
        return "log:panos";
    }
    if (windns > 0 && strncmp((const char *)p, "DNS Server log file creation at", 31) == 0) {
        return "log:windns";
    }
    if (windns * 2 > lines) {
        return "log:windns";
    }
    if (vsftpd * 2 > lines) {
        return "log:vsftpd";
    }
    if (xferlog * 2 > lines) {
        return "log:xferlog";
    }
    if (elb * 2 > lines) {
        return "log:elb";
    }
    if (sys * 2 > lines) {
        return "log:syslog";
    }
    if (combined * 2 > lines) {
        return "log:web-access";
    }
    if (squid * 2 > lines) {
        return "log:squid";
    }
    if (atna_document(p, n)) {
        return "log:atna";
    }
    /* flow exports: a CSV header with source/destination addresses and a byte count (nfdump's
     * sa/da, SiLK's sIP/dIP, vendors' srcaddr/dstaddr ...) */
    pos = 0;
    if (line(p, n, &pos, l, sizeof l)) {
        for (char *c = l; *c; c++) {
            *c = (char)tolower((unsigned char)*c);
        }
        bool src = strstr(l, "srcaddr") || strstr(l, "src_ip") || strstr(l, "sa,") ||
                   strncmp(l, "sip,", 4) == 0 || strstr(l, ",sip,") ||
                   strstr(l, "source address") || strstr(l, "srcip") || strstr(l, "src_addr");
        bool dst = strstr(l, "dstaddr") || strstr(l, "dst_ip") || strstr(l, "da,") ||
                   strstr(l, ",dip,") ||
                   strstr(l, "destination address") || strstr(l, "dstip") || strstr(l, "dst_addr");
        bool bytes = strstr(l, "byt") != NULL || strstr(l, "octets") != NULL;
        if (src && dst && bytes) {
            return "log:flow-csv";
        }
    }
    return NULL;
}

const char *pt_sniff_evidence(const uint8_t *p, size_t n)
{
    if (n > PT_SNIFF_HEAD) {
        n = PT_SNIFF_HEAD;
    }
    const char *k = image(p, n);
    return k != NULL ? k : logfile(p, n);
}
