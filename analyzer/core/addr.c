/* addr.c - address text and CIDR sets. Input: user text (--home-net), not evidence. */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void pt_addr_from_v4(struct pt_addr *a, const uint8_t v4[4])
{
    memcpy(a->b, v4_prefix, 12);
    memcpy(a->b + 12, v4, 4);
}

void pt_addr_from_v6(struct pt_addr *a, const uint8_t v6[16])
{
    memcpy(a->b, v6, 16);
}

bool pt_addr_is_v4(const struct pt_addr *a)
{
    return memcmp(a->b, v4_prefix, 12) == 0;
}

int pt_addr_cmp(const struct pt_addr *x, const struct pt_addr *y)
{
    return memcmp(x->b, y->b, 16);
}

void pt_addr_str(const struct pt_addr *a, char out[PT_ADDR_STRLEN])
{
    if (pt_addr_is_v4(a)) {
        inet_ntop(AF_INET, a->b + 12, out, PT_ADDR_STRLEN);
    } else {
        inet_ntop(AF_INET6, a->b, out, PT_ADDR_STRLEN);
    }
}

bool pt_addr_parse(const char *text, struct pt_addr *out)
{
    uint8_t buf[16];
    if (inet_pton(AF_INET, text, buf) == 1) {
        pt_addr_from_v4(out, buf);
        return true;
    }
    if (inet_pton(AF_INET6, text, buf) == 1) {
        pt_addr_from_v6(out, buf);
        return true;
    }
    return false;
}

static void mask_to(struct pt_addr *a, unsigned bits)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned lo = i * 8;
        if (bits <= lo) {
            a->b[i] = 0;
        } else if (bits < lo + 8) {
            a->b[i] &= (uint8_t)(0xff << (8 - (bits - lo)));
        }
    }
}

static pt_status parse_one(const char *tok, struct pt_cidr *out, char *err, size_t errlen)
{
    char buf[128];
    if (strlen(tok) >= sizeof buf) {
        snprintf(err, errlen, "network '%.40s...' is too long", tok);
        return PT_EUSAGE;
    }
    memcpy(buf, tok, strlen(tok) + 1);
    char *slash = strchr(buf, '/');
    long bits = -1;
    if (slash != NULL) {
        *slash = '\0';
        char *end = NULL;
        bits = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end != '\0' || bits < 0) {
            snprintf(err, errlen, "bad prefix length in '%s'", tok);
            return PT_EUSAGE;
        }
    }
    if (!pt_addr_parse(buf, &out->net)) {
        snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 network (example: 10.0.0.0/8)", tok);
        return PT_EUSAGE;
    }
    bool v4 = pt_addr_is_v4(&out->net);
    long maxbits = v4 ? 32 : 128;
    if (bits < 0) {
        bits = maxbits;
    }
    if (bits > maxbits) {
        snprintf(err, errlen, "prefix length %ld is too long in '%s'", bits, tok);
        return PT_EUSAGE;
    }
    out->bits = (uint8_t)(v4 ? bits + 96 : bits);
    mask_to(&out->net, out->bits);
    return PT_OK;
}

pt_status pt_cidr_set_parse(const char *text, struct pt_cidr_set *set, char *err, size_t errlen)
{
    set->v = NULL;
    set->n = 0;
    char *copy = strdup(text);
    if (copy == NULL) {
        return PT_ENOMEM;
    }
    pt_status rc = PT_OK;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
        struct pt_cidr *nv = realloc(set->v, (set->n + 1) * sizeof *nv);
        if (nv == NULL) {
            rc = PT_ENOMEM;
            break;
        }
        set->v = nv;
        rc = parse_one(tok, &set->v[set->n], err, errlen);
        if (rc != PT_OK) {
            break;
        }
        set->n++;
    }
    free(copy);
    if (rc == PT_OK && set->n == 0) {
        snprintf(err, errlen, "no network given (example: 10.0.0.0/8,fc00::/7)");
        rc = PT_EUSAGE;
    }
    if (rc != PT_OK) {
        pt_cidr_set_fini(set);
    }
    return rc;
}

void pt_cidr_set_fini(struct pt_cidr_set *set)
{
    free(set->v);
    set->v = NULL;
    set->n = 0;
}

bool pt_cidr_set_contains(const struct pt_cidr_set *set, const struct pt_addr *a)
{
    for (size_t i = 0; i < set->n; i++) {
        struct pt_addr m = *a;
        mask_to(&m, set->v[i].bits);
        if (memcmp(m.b, set->v[i].net.b, 16) == 0) {
            return true;
        }
    }
    return false;
}

size_t pt_cidr_set_str(const struct pt_cidr_set *set, char *out, size_t len)
{
    size_t used = 0;
    if (len > 0) {
        out[0] = '\0';
    }
    for (size_t i = 0; i < set->n && used < len; i++) {
        char a[PT_ADDR_STRLEN];
        pt_addr_str(&set->v[i].net, a);
        unsigned bits = set->v[i].bits;
        if (pt_addr_is_v4(&set->v[i].net)) {
            bits -= 96;
        }
        int w = snprintf(out + used, len - used, "%s%s/%u", i ? "," : "", a, bits);
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
    return used < len ? used : len;
}
