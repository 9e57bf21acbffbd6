/*
 * fuzz_tunnel.c - libFuzzer target for the DNS tunnel grouping and decoders: the input is
 * query names, one a line; they are grouped, and both their data parts and the lines as they
 * are go through every decoder (the first byte picks the group tag, so the dnscat2 and
 * counter paths are reached with and without a domain); each line is also read as an
 * answer's data (TXT, CNAME, MX) and those parts decoded as a downstream payload, and as
 * the RDATA of iodine's downstream NULL answers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/tunnel.h"

#define MAX_LINES 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    struct pt_tun_name *nm = calloc(MAX_LINES, sizeof *nm);
    const char **parts = calloc(MAX_LINES, sizeof *parts);
    char *pbuf = malloc(size + MAX_LINES + 1);
    if (buf == NULL || nm == NULL || parts == NULL || pbuf == NULL) {
        goto out;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    size_t n = 0;
    for (char *s = buf, *e; s != NULL && n < MAX_LINES; s = e ? e + 1 : NULL) {
        e = memchr(s, '\n', (size_t)(buf + size - s));
        if (e != NULL) {
            *e = '\0';
        }
        nm[n++].name = s;
        if (e == NULL) {
            break;
        }
    }
    struct pt_tun_payload p;
    const char *tag = size > 0 && (data[0] & 1) ? "dnscat.*" : "t.example.com";
    for (size_t i = 0; i < n; i++) {
        parts[i] = nm[i].name;
    }
    if (pt_tun_decode(parts, n, tag, &p) == PT_OK) {
        pt_tun_payload_free(&p);
    }
    if (pt_tun_group(nm, n) != PT_OK) {
        goto out;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        pt_tun_label_charset(nm[i].name, strlen(nm[i].name));
        parts[i] = pbuf + w;
        w += pt_tun_data_part(&nm[i], pbuf + w, size + MAX_LINES + 1 - w) + 1;
    }
    if (n > 0 && pt_tun_decode(parts, n, nm[0].key, &p) == PT_OK) {
        pt_tun_payload_free(&p);
    }
    static const unsigned types[] = {16, 5, 15};
    w = 0;
    for (size_t i = 0; i < n; i++) {
        parts[i] = pbuf + w;
        w += pt_tun_answer_part(types[i % 3], true, nm[i].name, tag, pbuf + w,
                                size + MAX_LINES + 1 - w) + 1;
    }
    if (n > 0 && pt_tun_decode(parts, n, tag, &p) == PT_OK) {
        pt_tun_payload_free(&p);
    }
    size_t lens[MAX_LINES];
    const uint8_t *rd[MAX_LINES];
    for (size_t i = 0; i < n; i++) {
        rd[i] = (const uint8_t *)nm[i].name;
        lens[i] = strlen(nm[i].name);
    }
    if (pt_tun_iodine_down(rd, lens, n, &p) == PT_OK) {
        pt_tun_payload_free(&p);
    }
out:
    free(pbuf);
    free(parts);
    free(nm);
    free(buf);
    return 0;
}
