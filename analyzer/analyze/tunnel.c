/*
 * tunnel.c - DNS tunnel names grouped by tunnel domain; tunnel payloads decoded.
 *
 * Grouping (see tunnel.h): every proper suffix of every name is counted once per name in a
 * hash table whose keys point into one lower-cased copy of the names, so the table costs
 * a pointer and a count per suffix.
 *
 * Decoding: the data parts of a group's queries, in time order, are unescaped (dns.c's
 * \DDD and \.) and their label dots removed. Then, by the first scheme that fits:
 *   dnscat2 (doc/protocol.md): hex of  packet_id(2) type(1) session_id(2), then for
 *       SYN (0) isn(2) options(2), for MSG (1) seq(2) ack(2) data; seq counts bytes, so
 *       retransmissions (same seq) are dropped and missing bytes are exact gaps;
 *   iodine (doc/proto_00000502.txt): upstream data queries are userid (one hex char),
 *       three base32 header characters (3 bits packet seqno, 4 bits fragment, last-fragment
 *       flag), one check character, then data in base32, base64, base64u or base128
 *       (iodine's own alphabets); fragments are joined per packet and the packet inflated
 *       (iodine compresses upstream with zlib); the object is the tunnelled IP packets;
 *   a decimal counter as first label (`<n>.<data>.domain`): pieces ordered by it,
 *       duplicates dropped, a missing counter a gap of the median piece size (estimated);
 *   plain hex, base32 (RFC 4648, case-insensitive), base64url, base64 over the
 *       concatenation.
 *
 * Trust boundary: names are untrusted text (NUL-terminated, as dns.c wrote them); the
 * binary headers decoded from them (dnscat2's, iodine's) are read through pt_cur; counts
 * from the input (sequence numbers, fragment numbers, counters) only place bytes, never
 * size an allocation. The output is capped at PT_TUN_MAX_BYTES (capped = true); an iodine
 * packet inflates into at most 64 KiB (else it is kept as sent).
 */
#include "tunnel.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "../core/cursor.h"
#include "../core/grow.h"
#include "../core/limits.h"

/* ---- names and labels ------------------------------------------------------------------ */

#define MAX_LABELS 128

/* Offsets where the labels of a presentation name start (after unescaped dots). */
static size_t label_starts(const char *s, size_t *starts, size_t max)
{
    size_t k = 0;
    if (s[0] == '\0') {
        return 0;
    }
    starts[k++] = 0;
    for (size_t i = 0; s[i] != '\0';) {
        if (s[i] == '\\') {
            i += isdigit((unsigned char)s[i + 1]) ? 4 : 2;
            if (i > strlen(s)) {
                break;
            }
            continue;
        }
        if (s[i] == '.' && s[i + 1] != '\0' && k < max) {
            starts[k++] = i + 1;
        }
        i++;
    }
    return k;
}

/* Length of the label starting at s (up to an unescaped dot). */
static size_t label_len(const char *s)
{
    size_t i = 0;
    while (s[i] != '\0' && s[i] != '.') {
        if (s[i] == '\\' && s[i + 1] != '\0') {
            i += isdigit((unsigned char)s[i + 1]) && s[i + 2] != '\0' && s[i + 3] != '\0' ? 4 : 2;
        } else {
            i++;
        }
    }
    return i;
}

bool pt_tun_label_encoded(const char *label, size_t len)
{
    bool digit = false, alpha = false;
    for (size_t i = 0; i < len; i++) {
        digit |= isdigit((unsigned char)label[i]) != 0;
        alpha |= isalpha((unsigned char)label[i]) != 0;
        if (label[i] == '\\') {
            return true; /* binary bytes in a label */
        }
    }
    return len >= 16 || (len >= 8 && digit && alpha);
}

bool pt_tun_part_encoded(const char *part)
{
    size_t st[MAX_LABELS];
    size_t k = label_starts(part, st, MAX_LABELS);
    for (size_t j = 0; j < k; j++) {
        if (pt_tun_label_encoded(part + st[j], label_len(part + st[j]))) {
            return true;
        }
    }
    return false;
}

unsigned pt_tun_label_charset(const char *label, size_t len)
{
    unsigned cs = PT_TUN_CS_HEX | PT_TUN_CS_B32 | PT_TUN_CS_B64 | PT_TUN_CS_B64URL;
    for (size_t i = 0; i < len && cs != 0; i++) {
        unsigned char c = (unsigned char)label[i];
        unsigned lc = (unsigned)tolower(c);
        if (!isxdigit(c)) {
            cs &= ~(unsigned)PT_TUN_CS_HEX;
        }
        if (!((lc >= 'a' && lc <= 'z') || (c >= '2' && c <= '7') || c == '=')) {
            cs &= ~(unsigned)PT_TUN_CS_B32;
        }
        if (!(isalnum(c) || c == '+' || c == '/' || c == '=')) {
            cs &= ~(unsigned)PT_TUN_CS_B64;
        }
        if (!(isalnum(c) || c == '-' || c == '_')) {
            cs &= ~(unsigned)PT_TUN_CS_B64URL;
        }
    }
    return cs;
}

/* A last label that can be a top-level domain: letters (or an IDN xn--), 2 to 24 long. */
static bool tld_like(const char *l, size_t len)
{
    if (len < 2 || len > 24) {
        return false;
    }
    if (len > 4 && strncmp(l, "xn--", 4) == 0) {
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        if (!islower((unsigned char)l[i])) {
            return false;
        }
    }
    return true;
}

static bool public_sld(const char *s)
{
    static const char *const sld[] = {"co.uk", "org.uk", "ac.uk", "gov.uk", "com.au", "net.au",
                                      "org.au", "co.jp", "ne.jp", "com.br", "co.nz", "co.in",
                                      "com.cn", "com.mx", "co.za", "com.tr", NULL};
    for (const char *const *p = sld; *p != NULL; p++) {
        if (strcmp(s, *p) == 0) {
            return true;
        }
    }
    return false;
}

struct slot {
    const char *s;
    uint32_t n;
};

struct smap {
    struct slot *t;
    size_t mask;
};

static uint64_t hstr(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

static struct slot *smap_get(struct smap *m, const char *s, bool add)
{
    for (size_t i = hstr(s) & m->mask;; i = (i + 1) & m->mask) {
        if (m->t[i].s == NULL) {
            if (add) {
                m->t[i].s = s;
                return &m->t[i];
            }
            return NULL;
        }
        if (strcmp(m->t[i].s, s) == 0) {
            return &m->t[i];
        }
    }
}

static uint32_t smap_count(struct smap *m, const char *s)
{
    struct slot *e = smap_get(m, s, false);
    return e ? e->n : 0;
}

/* The key of a name without a registered domain: its plain labels, then "*". */
static void tag_key(const char *s, const size_t *st, size_t k, char *key, size_t keylen)
{
    size_t w = 0;
    for (size_t j = 0; j < k; j++) {
        size_t l = label_len(s + st[j]);
        if (pt_tun_label_encoded(s + st[j], l) || w + l + 3 > keylen) {
            continue;
        }
        memcpy(key + w, s + st[j], l);
        w += l;
        key[w++] = '.';
    }
    key[w++] = '*';
    key[w] = '\0';
}

pt_status pt_tun_group(struct pt_tun_name *names, size_t n)
{
    pt_status rc = PT_ENOMEM;
    size_t total = 0, slots = 0;
    for (size_t i = 0; i < n; i++) {
        total += strlen(names[i].name) + 1;
    }
    char *low = malloc(total ? total : 1);
    char **lp = calloc(n ? n : 1, sizeof *lp);
    struct smap m = {NULL, 0};
    if (low == NULL || lp == NULL) {
        goto out;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        lp[i] = low + w;
        for (const char *p = names[i].name; *p != '\0'; p++) {
            low[w++] = (char)tolower((unsigned char)*p);
        }
        low[w++] = '\0';
    }
    size_t st[MAX_LABELS];
    for (size_t i = 0; i < n; i++) {
        slots += label_starts(lp[i], st, MAX_LABELS); /* the suffixes this name adds */
    }
    size_t cap = 16;
    while (cap < 2 * slots) {
        cap *= 2;
    }
    m.t = calloc(cap, sizeof *m.t);
    m.mask = cap - 1;
    if (m.t == NULL) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = label_starts(lp[i], st, MAX_LABELS);
        for (size_t j = 1; j < k; j++) {
            smap_get(&m, lp[i] + st[j], true)->n++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct pt_tun_name *nm = &names[i];
        const char *s = lp[i];
        size_t k = label_starts(s, st, MAX_LABELS);
        nm->data_len = 0;
        nm->tagged = false;
        if (k <= 1) {
            snprintf(nm->key, sizeof nm->key, "%s", s);
            continue;
        }
        if (!tld_like(s + st[k - 1], label_len(s + st[k - 1]))) {
            nm->tagged = true;
            tag_key(s, st, k, nm->key, sizeof nm->key);
            continue;
        }
        size_t cur = k - 2;
        if (k >= 3 && public_sld(s + st[k - 2])) {
            cur = k - 3;
        }
        if (cur == 0) {
            snprintf(nm->key, sizeof nm->key, "%s", s);
            continue;
        }
        /* a longer suffix with PT_TUN_MIN_NAMES names whose new label does not look like
         * data is a group of its own even beside a larger sibling (two tunnels under one
         * parent stay two; a data label that repeats does not split a tunnel) */
        while (cur > 1) {
            uint32_t child = smap_count(&m, s + st[cur - 1]);
            bool own = child >= PT_TUN_MIN_NAMES &&
                       !pt_tun_label_encoded(s + st[cur - 1], label_len(s + st[cur - 1]));
            if (child < 2 || (4 * (uint64_t)child < smap_count(&m, s + st[cur]) && !own)) {
                break;
            }
            cur--;
        }
        snprintf(nm->key, sizeof nm->key, "%s", s + st[cur]);
        nm->data_len = st[cur] - 1;
    }
    rc = PT_OK;
out:
    free(m.t);
    free(lp);
    free(low);
    return rc;
}

struct idx {
    const char *s;
    size_t i;
};

static int idx_casecmp(const void *a, const void *b)
{
    const struct idx *x = a, *y = b;
    int c = strcasecmp(x->s, y->s);
    return c != 0 ? c : (x->i < y->i ? -1 : x->i > y->i);
}

static int idx_cmp(const void *a, const void *b)
{
    const struct idx *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c != 0 ? c : (x->i < y->i ? -1 : x->i > y->i);
}

static int size_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

pt_status pt_tun_distinct(const char *const *q, size_t n, struct pt_tun_name *names, size_t *m,
                          size_t *first, size_t *which, size_t *order)
{
    pt_status rc = PT_ENOMEM;
    struct idx *v = malloc((n ? n : 1) * sizeof *v);
    size_t *rank = malloc((n ? n : 1) * sizeof *rank);
    size_t k = 0;
    if (v == NULL || rank == NULL) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = (struct idx){q[i], i};
    }
    qsort(v, n, sizeof *v, idx_casecmp);
    for (size_t j = 0; j < n; j++) { /* the first of each run is the first occurrence */
        if (j == 0 || strcasecmp(v[j].s, v[j - 1].s) != 0) {
            first[k++] = v[j].i;
        }
    }
    qsort(first, k, sizeof *first, size_cmp); /* names in time order */
    for (size_t j = 0; j < k; j++) {
        names[j] = (struct pt_tun_name){.name = q[first[j]]};
        rank[first[j]] = j;
    }
    for (size_t j = 0, lead = 0; j < n && which != NULL; j++) {
        if (j == 0 || strcasecmp(v[j].s, v[j - 1].s) != 0) {
            lead = rank[v[j].i];
        }
        which[v[j].i] = lead;
    }
    if ((rc = pt_tun_group(names, k)) != PT_OK) {
        goto out;
    }
    for (size_t j = 0; j < k; j++) {
        v[j] = (struct idx){names[j].key, j};
    }
    qsort(v, k, sizeof *v, idx_cmp);
    for (size_t j = 0; j < k; j++) {
        order[j] = v[j].i;
    }
    *m = k;
out:
    free(rank);
    free(v);
    return rc;
}

/* ---- payload buffer ------------------------------------------------------------------- */

void pt_tun_payload_free(struct pt_tun_payload *p)
{
    if (p != NULL) {
        free(p->data);
        free(p->gaps);
        memset(p, 0, sizeof *p);
    }
}

static bool put(struct pt_tun_payload *p, const uint8_t *b, size_t n)
{
    if (p->capped) {
        return true;
    }
    if (n > PT_TUN_MAX_BYTES - p->len) {
        n = PT_TUN_MAX_BYTES - p->len;
        p->capped = true;
    }
    if (!pt_grow(&p->data, &p->cap, p->len + n, 1, 4096)) {
        return false;
    }
    memcpy(p->data + p->len, b, n);
    p->len += n;
    return true;
}

static bool gap(struct pt_tun_payload *p, uint64_t n)
{
    if (n == 0 || p->capped) {
        return true;
    }
    if (!pt_grow(&p->gaps, &p->cap_gaps, p->n_gaps + 1, sizeof *p->gaps, 16)) {
        return false;
    }
    p->gaps[p->n_gaps++] = (struct pt_tun_gap){p->len, n};
    p->gap_bytes += n;
    return true;
}

/* ---- pieces ------------------------------------------------------------------------------ */

struct piece {
    uint8_t *raw;       /* unescaped, dots removed (points into one buffer) */
    size_t len;
    long seq;           /* decimal counter label, -1 when none */
    size_t skip;        /* bytes of raw taken by the counter */
};

/* Unescape a presentation data part into raw bytes without label dots. */
static size_t unescape(const char *s, uint8_t *out)
{
    size_t w = 0;
    for (size_t i = 0; s[i] != '\0';) {
        if (s[i] == '\\' && isdigit((unsigned char)s[i + 1]) && isdigit((unsigned char)s[i + 2]) &&
            isdigit((unsigned char)s[i + 3])) {
            out[w++] = (uint8_t)((s[i + 1] - '0') * 100 + (s[i + 2] - '0') * 10 + (s[i + 3] - '0'));
            i += 4;
        } else if (s[i] == '\\' && s[i + 1] != '\0') {
            out[w++] = (uint8_t)s[i + 1];
            i += 2;
        } else if (s[i] == '.') {
            i++;
        } else {
            out[w++] = (uint8_t)s[i++];
        }
    }
    return w;
}

/* ---- base-N decoding -------------------------------------------------------------------- */

static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char IOD32[] = "abcdefghijklmnopqrstuvwxyz012345";
static const char IOD64[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789+";
static const char IOD64U[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789_";

struct codec {
    int16_t map[256];
    unsigned bits;
    bool fold;          /* case-insensitive */
};

static void codec_init(struct codec *c, const char *alpha, size_t n, unsigned bits, bool fold)
{
    for (int i = 0; i < 256; i++) {
        c->map[i] = -1;
    }
    for (size_t i = 0; i < n; i++) {
        c->map[(unsigned char)alpha[i]] = (int16_t)i;
    }
    if (bits == 7) { /* iodine base128: 62 alphanumerics, bytes 188..253 */
        for (int i = 0; i < 66; i++) {
            c->map[188 + i] = (int16_t)(62 + i);
        }
    }
    c->bits = bits;
    c->fold = fold;
}

static int sym(const struct codec *c, uint8_t ch)
{
    return c->map[c->fold ? (uint8_t)tolower(ch) : ch];
}

/* Decode symbols MSB first into out (at most n * bits / 8 bytes); '=' ends a block.
 * Returns false on a symbol outside the alphabet. */
static bool base_decode(const struct codec *c, const uint8_t *s, size_t n, struct pt_tun_payload *p)
{
    uint32_t acc = 0;
    unsigned have = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            acc = 0;
            have = 0;
            continue;
        }
        int v = sym(c, s[i]);
        if (v < 0) {
            return false;
        }
        acc = (acc << c->bits) | (uint32_t)v;
        have += c->bits;
        if (have >= 8) {
            have -= 8;
            uint8_t b = (uint8_t)(acc >> have);
            if (!put(p, &b, 1)) {
                return false;
            }
            acc &= (1u << have) - 1;
        }
    }
    return true;
}

static bool all_in(const struct codec *c, const struct piece *pc, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = pc[i].skip; j < pc[i].len; j++) {
            if (pc[i].raw[j] != '=' && sym(c, pc[i].raw[j]) < 0) {
                return false;
            }
        }
    }
    return true;
}

/* ---- dnscat2 ------------------------------------------------------------------------------ */

struct seg {
    uint64_t off;
    const uint8_t *p;
    size_t n;
    size_t order;
};

static int seg_cmp(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;
    if (x->off != y->off) {
        return x->off < y->off ? -1 : 1;
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Segments by offset: first data wins, holes are gaps, repeats are dropped. */
static bool assemble(struct seg *sg, size_t n, uint64_t start, struct pt_tun_payload *p)
{
    qsort(sg, n, sizeof *sg, seg_cmp);
    uint64_t at = start;
    for (size_t i = 0; i < n; i++) {
        uint64_t end = sg[i].off + sg[i].n;
        if (end <= at) {
            p->dropped += sg[i].n > 0;
            continue;
        }
        if (sg[i].off > at && !gap(p, sg[i].off - at)) {
            return false;
        }
        size_t skip = sg[i].off < at ? (size_t)(at - sg[i].off) : 0;
        if (!put(p, sg[i].p + skip, sg[i].n - skip)) {
            return false;
        }
        at = end;
    }
    return true;
}

/* Hex-decoded messages parse as dnscat2 packets of one session: reassemble its MSG data. */
static pt_status dnscat2(struct piece *pc, size_t n, bool tagged, struct pt_tun_payload *p)
{
    struct codec hex;
    codec_init(&hex, "0123456789abcdef", 16, 4, true);
    size_t good = 0, total = 0;
    struct seg *sg = calloc(n ? n : 1, sizeof *sg);
    uint8_t **dec = calloc(n ? n : 1, sizeof *dec);
    uint16_t *sess = calloc(n ? n : 1, sizeof *sess);
    pt_status rc = PT_ENOMEM;
    if (sg == NULL || dec == NULL || sess == NULL) {
        goto out;
    }
    /* decode every piece on its own: dnscat2 encodes each packet separately */
    size_t nseg = 0;
    uint16_t best = 0;
    size_t best_bytes = 0;
    struct {
        uint16_t s;
        size_t bytes;
    } tally[16];
    size_t nt = 0, nsyn = 0;
    struct {
        uint16_t s, isn;
    } syn[16];
    for (size_t i = 0; i < n; i++) {
        if ((pc[i].len & 1) != 0) {
            continue;
        }
        struct pt_tun_payload one = {0};
        if (!base_decode(&hex, pc[i].raw, pc[i].len, &one)) {
            pt_tun_payload_free(&one);
            continue;
        }
        total++;
        struct pt_cur c = pt_cur_make(one.data, one.len);
        pt_cur_be16(&c); /* packet_id */
        uint8_t type = pt_cur_u8(&c);
        uint16_t s = pt_cur_be16(&c);
        if (!pt_cur_ok(&c) || !(type <= 3 || type == 0xff)) {
            pt_tun_payload_free(&one);
            continue;
        }
        good++;
        if (type == 0 && nsyn < 16) {
            uint16_t isn = pt_cur_be16(&c);
            if (pt_cur_ok(&c)) {
                syn[nsyn].s = s;
                syn[nsyn++].isn = isn;
            }
        }
        if (type == 1) {
            uint16_t seq = pt_cur_be16(&c);
            pt_cur_be16(&c); /* ack */
            if (pt_cur_ok(&c) && pt_cur_left(&c) > 0) {
                size_t off = one.len - pt_cur_left(&c);
                dec[i] = one.data;
                sess[nseg] = s;
                sg[nseg++] = (struct seg){seq, one.data + off, one.len - off, i};
                size_t t = 0;
                while (t < nt && tally[t].s != s) {
                    t++;
                }
                if (t == nt && nt < 16) {
                    tally[nt].s = s;
                    tally[nt++].bytes = 0;
                }
                if (t < nt) {
                    tally[t].bytes += one.len - off;
                    if (tally[t].bytes > best_bytes) {
                        best_bytes = tally[t].bytes;
                        best = s;
                    }
                }
                free(one.gaps);
                continue;
            }
        }
        pt_tun_payload_free(&one);
    }
    rc = PT_OK;
    if (total == 0 || good * 10 < total * (tagged ? 5 : 8) || best_bytes == 0) {
        goto out; /* not dnscat2 */
    }
    /* the chosen session's MSG segments, sequence numbers unwrapped in time order */
    size_t k = 0;
    uint64_t last = 0;
    bool first = true;
    for (size_t i = 0; i < nseg; i++) {
        if (sess[i] != best) {
            continue;
        }
        uint16_t seq = (uint16_t)sg[i].off;
        if (first) {
            last = 65536 + seq; /* room for a retransmission before the first seen */
            first = false;
        } else {
            int16_t d = (int16_t)(uint16_t)(seq - (uint16_t)last);
            last = (uint64_t)((int64_t)last + d);
        }
        sg[k] = sg[i];
        sg[k++].off = last;
    }
    uint64_t start = UINT64_MAX;
    for (size_t i = 0; i < k; i++) {
        start = sg[i].off < start ? sg[i].off : start;
    }
    /* the SYN's initial sequence number is where the data starts: a lost first MSG is a
     * gap, not a silently shorter object */
    for (size_t i = 0; i < nsyn && k > 0; i++) {
        int16_t d = (int16_t)(uint16_t)(syn[i].isn - (uint16_t)start);
        if (syn[i].s == best && d < 0 && (uint64_t)(-d) <= start) {
            start -= (uint64_t)(-d);
        }
    }
    p->enc = PT_TUN_ENC_DNSCAT2;
    p->pieces = (unsigned)k;
    if (!assemble(sg, k, start, p)) {
        rc = PT_ENOMEM;
    }
out:
    for (size_t i = 0; dec != NULL && i < n; i++) {
        free(dec[i]);
    }
    free(dec);
    free(sess);
    free(sg);
    return rc;
}

/* ---- iodine ------------------------------------------------------------------------------- */

/* Inflate one iodine packet (zlib); the raw bytes when they do not inflate. */
static bool iodine_packet(const uint8_t *b, size_t n, struct pt_tun_payload *p)
{
    uint8_t out[65536];
    uLongf olen = sizeof out;
    if (uncompress(out, &olen, b, n) == Z_OK) {
        return put(p, out, olen);
    }
    return put(p, b, n);
}

/* iodine's fragments joined into packets, in either direction: a packet is its fragments
 * 0..last with one sequence number; a fragment sent again is dropped, a packet with a
 * fragment missing (or cut by the next packet) is a gap of what it held. */
struct frags {
    struct pt_tun_payload pkt; /* the packet being joined */
    int cur_seq, next_frag;
    bool broken;
    unsigned got;              /* fragments taken */
};

/* A fragment's header: returns 0 to drop it (sent again), 1 to append its data to f->pkt,
 * -1 when out of memory. */
static int frag_begin(struct frags *f, int seq, int frag, struct pt_tun_payload *p)
{
    if (seq == f->cur_seq && frag < f->next_frag) {
        p->dropped++;
        return 0;
    }
    if (seq != f->cur_seq) { /* a new packet: the unfinished one is a gap */
        if (f->pkt.len > 0 && !gap(p, f->pkt.len)) {
            return -1;
        }
        f->pkt.len = 0;
        f->cur_seq = seq;
        f->broken = frag != 0;
    } else if (frag != f->next_frag) {
        f->broken = true; /* a fragment is missing */
    }
    f->got++;
    return 1;
}

/* After a fragment's data: at the last one, the packet (inflated) or its gap. */
static bool frag_end(struct frags *f, int frag, bool lastf, struct pt_tun_payload *p)
{
    f->next_frag = frag + 1;
    if (!lastf) {
        return true;
    }
    bool ok = f->broken ? gap(p, f->pkt.len) : iodine_packet(f->pkt.data, f->pkt.len, p);
    f->pkt.len = 0;
    f->broken = false;
    f->next_frag = 0;
    f->cur_seq = -1;
    return ok;
}

/* The end of the fragments: iodine's encoding when one was taken; returns rc. */
static pt_status frags_done(struct frags *f, pt_status rc, struct pt_tun_payload *p)
{
    pt_tun_payload_free(&f->pkt);
    if (f->got > 0 && rc == PT_OK) {
        p->enc = PT_TUN_ENC_IODINE;
        p->pieces = f->got;
    }
    return rc;
}

/* Upstream data queries: [0-9a-f] userid, 3 base32 header chars, 1 check char, data. */
static pt_status iodine(struct piece *pc, size_t n, struct pt_tun_payload *p)
{
    struct codec h32, c32, c64, c64u, c128;
    codec_init(&h32, IOD32, 32, 5, true);
    codec_init(&c32, IOD32, 32, 5, true);
    codec_init(&c64, IOD64, 64, 6, false);
    codec_init(&c64u, IOD64U, 64, 6, false);
    codec_init(&c128, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 62, 7,
               false);
    size_t data = 0, cmds = 0;
    bool version = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c0 = pc[i].len > 0 ? pc[i].raw[0] : 0;
        if (pc[i].len >= 5 && isxdigit(c0) && !isupper(c0)) {
            data++;
        } else if (c0 != 0 && strchr("vlizsyorxpnVLIZSYORXPN", c0) != NULL) {
            cmds++;
        }
        /* the version handshake: 'v' then base32 of a 32-bit version 0x0000xxxx */
        version |= pc[i].len >= 8 && memcmp(pc[i].raw, "vaaaa", 5) == 0;
    }
    if (!version || data == 0 || (data + cmds) * 10 < n * 9) {
        return PT_OK; /* not iodine's shape (a capture that missed the handshake is decoded
                       * by the generic schemes, if at all) */
    }
    struct frags f = {.cur_seq = -1};
    pt_status rc = PT_OK;
    for (size_t i = 0; i < n && rc == PT_OK; i++) {
        struct pt_cur c = pt_cur_make(pc[i].raw, pc[i].len);
        uint8_t uid = pt_cur_u8(&c);
        uint8_t h1 = pt_cur_u8(&c), h2 = pt_cur_u8(&c), h3 = pt_cur_u8(&c);
        pt_cur_u8(&c); /* data check character */
        if (!pt_cur_ok(&c) || !isxdigit(uid) || isupper(uid) || sym(&h32, h1) < 0 ||
            sym(&h32, h2) < 0 || sym(&h32, h3) < 0) {
            continue;
        }
        int v1 = sym(&h32, h1), v2 = sym(&h32, h2), v3 = sym(&h32, h3);
        int seq = v1 >> 2, frag = ((v1 & 3) << 2) | (v2 >> 3);
        bool lastf = (v3 & 1) != 0;
        size_t off = pc[i].len - pt_cur_left(&c);
        const uint8_t *d = pc[i].raw + off;
        size_t dn = pc[i].len - off;
        bool hi = false, upper = false, plus = false, under = false;
        for (size_t j = 0; j < dn; j++) {
            hi |= d[j] >= 0x80;
            upper |= isupper(d[j]) != 0;
            plus |= d[j] == '+';
            under |= d[j] == '_';
        }
        const struct codec *cd = hi ? &c128 : under ? &c64u : (upper || plus) ? &c64 : &c32;
        int step = frag_begin(&f, seq, frag, p);
        if (step <= 0) {
            rc = step < 0 ? PT_ENOMEM : PT_OK;
            continue;
        }
        if (!base_decode(cd, d, dn, &f.pkt)) {
            f.broken = true;
        }
        if (!frag_end(&f, frag, lastf, p)) {
            rc = PT_ENOMEM;
        }
    }
    return frags_done(&f, rc, p);
}

pt_status pt_tun_iodine_down(const uint8_t *const *rd, const size_t *len, size_t n,
                             struct pt_tun_payload *out)
{
    memset(out, 0, sizeof *out);
    struct frags f = {.cur_seq = -1};
    pt_status rc = PT_OK;
    for (size_t i = 0; i < n && rc == PT_OK; i++) {
        /* |C|SSS|FFFF| |DDD|GGGG|L|: compression, the upstream packet and fragment acked,
         * this downstream packet, fragment, last-fragment flag; then the fragment */
        struct pt_cur c = pt_cur_make(rd[i], len[i]);
        pt_cur_u8(&c);
        uint8_t h = pt_cur_u8(&c);
        if (!pt_cur_ok(&c) || pt_cur_left(&c) == 0) {
            continue; /* a bare header: the server had nothing to send */
        }
        int step = frag_begin(&f, h >> 5, (h >> 1) & 15, out);
        if (step <= 0) {
            rc = step < 0 ? PT_ENOMEM : PT_OK;
            continue;
        }
        size_t dn = pt_cur_left(&c);
        if (!put(&f.pkt, pt_cur_ptr(&c), dn) || !frag_end(&f, (h >> 1) & 15, h & 1, out)) {
            rc = PT_ENOMEM;
        }
    }
    return frags_done(&f, rc, out);
}

/* ---- counters and plain encodings ------------------------------------------------------- */

static int piece_cmp(const void *a, const void *b)
{
    const struct piece *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static size_t median_decoded(const struct piece *pc, size_t n, unsigned bits)
{
    size_t lens[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 64; i++) {
        lens[k++] = (pc[i].len - pc[i].skip) * bits / 8;
    }
    for (size_t i = 1; i < k; i++) { /* insertion sort of at most 64 */
        for (size_t j = i; j > 0 && lens[j - 1] > lens[j]; j--) {
            size_t t = lens[j];
            lens[j] = lens[j - 1];
            lens[j - 1] = t;
        }
    }
    return k ? lens[k / 2] : 0;
}

/* A decimal first label on nine in ten pieces is a sequence counter. */
static bool counters(struct piece *pc, size_t n, const char *const *parts)
{
    size_t with = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = parts[i];
        size_t l = label_len(s);
        pc[i].seq = -1;
        if (l == 0 || l > 9 || s[l] != '.') {
            continue;
        }
        long v = 0;
        size_t j = 0;
        while (j < l && isdigit((unsigned char)s[j])) {
            v = v * 10 + (s[j++] - '0');
        }
        if (j == l) {
            pc[i].seq = v;
            pc[i].skip = l;
            with++;
        }
    }
    return n > 0 && with * 10 >= n * 9;
}

pt_status pt_tun_decode(const char *const *parts, size_t n, const char *tag,
                        struct pt_tun_payload *out)
{
    memset(out, 0, sizeof *out);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += strlen(parts[i]) + 1;
    }
    uint8_t *buf = malloc(total ? total : 1);
    struct piece *pc = calloc(n ? n : 1, sizeof *pc);
    pt_status rc = PT_ENOMEM;
    if (buf == NULL || pc == NULL) {
        goto out;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        pc[i].raw = buf + w;
        pc[i].len = unescape(parts[i], buf + w);
        pc[i].seq = -1;
        w += pc[i].len;
    }
    bool tagged = tag != NULL && strchr(tag, '*') != NULL;
    rc = PT_OK;
    struct codec hex;
    codec_init(&hex, "0123456789abcdef", 16, 4, true);
    if (all_in(&hex, pc, n)) {
        if ((rc = dnscat2(pc, n, tagged, out)) != PT_OK || out->enc != PT_TUN_ENC_NONE) {
            goto out;
        }
    }
    if ((rc = iodine(pc, n, out)) != PT_OK || out->enc != PT_TUN_ENC_NONE) {
        goto out;
    }
    pt_tun_payload_free(out);
    bool counted = counters(pc, n, parts);
    if (counted) {
        /* pieces without a counter sort first and are dropped below; equal counters are
         * retransmissions and any one copy will do (qsort is not stable) */
        qsort(pc, n, sizeof *pc, piece_cmp);
    } else {
        for (size_t i = 0; i < n; i++) {
            pc[i].skip = 0;
        }
    }
    struct codec b32, b64, b64u;
    codec_init(&b32, B32, 32, 5, true);
    codec_init(&b64, B64, 64, 6, false);
    codec_init(&b64u, B64URL, 64, 6, false);
    const struct codec *cd = NULL;
    enum pt_tun_enc enc = PT_TUN_ENC_NONE;
    if (all_in(&hex, pc, n)) {
        cd = &hex;
        enc = PT_TUN_ENC_HEX;
    } else if (all_in(&b32, pc, n)) {
        cd = &b32;
        enc = PT_TUN_ENC_BASE32;
    } else if (all_in(&b64u, pc, n)) {
        cd = &b64u;
        enc = PT_TUN_ENC_BASE64URL;
    } else if (all_in(&b64, pc, n)) {
        cd = &b64;
        enc = PT_TUN_ENC_BASE64;
    }
    if (cd == NULL) {
        goto out;
    }
    size_t med = counted ? median_decoded(pc, n, cd->bits) : 0;
    long prev = -1;
    /* runs of pieces decoded as one stream of symbols (a whole message may have been encoded
     * and then cut into names at any symbol); a missing counter ends a run with a gap */
    uint8_t *run = malloc(total ? total : 1);
    size_t rl = 0;
    if (run == NULL) {
        rc = PT_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (counted) {
            if (pc[i].seq < 0 || pc[i].seq == prev) {
                out->dropped += pc[i].seq == prev;
                continue;
            }
            if (prev >= 0 && pc[i].seq > prev + 1) {
                bool ok = base_decode(cd, run, rl, out);
                rl = 0;
                if (!ok || !gap(out, (uint64_t)(pc[i].seq - prev - 1) * med)) {
                    rc = PT_ENOMEM;
                    break;
                }
            }
            prev = pc[i].seq;
        }
        out->pieces++;
        memcpy(run + rl, pc[i].raw + pc[i].skip, pc[i].len - pc[i].skip);
        rl += pc[i].len - pc[i].skip;
    }
    if (rc == PT_OK && !base_decode(cd, run, rl, out)) {
        rc = PT_ENOMEM; /* every symbol was checked: only the buffer can fail */
    }
    free(run);
    out->enc = enc;
out:
    free(pc);
    free(buf);
    return rc;
}

const char *pt_tun_enc_name(enum pt_tun_enc e)
{
    static const char *const n[] = {"",       "hex",     "base32", "base64",
                                     "base64url", "dnscat2", "iodine", "raw"};
    return (unsigned)e < sizeof n / sizeof n[0] ? n[e] : "";
}

size_t pt_tun_data_part(const struct pt_tun_name *nm, char *out, size_t len)
{
    size_t w = 0;
    if (len == 0) {
        return 0;
    }
    if (!nm->tagged) {
        w = nm->data_len < len - 1 ? nm->data_len : len - 1;
        memcpy(out, nm->name, w);
    } else {
        size_t st[MAX_LABELS];
        size_t k = label_starts(nm->name, st, MAX_LABELS);
        for (size_t j = 0; j < k; j++) {
            size_t l = label_len(nm->name + st[j]);
            if (!pt_tun_label_encoded(nm->name + st[j], l) || w + l + 2 > len) {
                continue;
            }
            if (w > 0) {
                out[w++] = '.';
            }
            memcpy(out + w, nm->name + st[j], l);
            w += l;
        }
    }
    out[w] = '\0';
    return w;
}

/* The target of a name-valued answer, as the data part of a name under `key`. */
static size_t name_part(const char *name, const char *key, char *out, size_t len)
{
    struct pt_tun_name nm = {.name = name};
    size_t nl = strlen(name), kl = strlen(key);
    if (nl > 0 && name[nl - 1] == '.') {
        nl--; /* a trailing root dot */
    }
    if (strchr(key, '*') != NULL) {
        nm.tagged = true;
    } else if (nl > kl + 1 && name[nl - kl - 1] == '.' &&
               strncasecmp(name + nl - kl, key, kl) == 0) {
        nm.data_len = nl - kl - 1;
    } else {
        out[0] = '\0';
        return 0; /* not under the tunnel domain */
    }
    return pt_tun_data_part(&nm, out, len);
}

size_t pt_tun_answer_part(unsigned type, bool decoded, const char *data, const char *key,
                          char *out, size_t len)
{
    enum { T_NS = 2, T_CNAME = 5, T_PTR = 12, T_MX = 15, T_TXT = 16 };
    if (len == 0) {
        return 0;
    }
    out[0] = '\0';
    if (!decoded) {
        return 0;
    }
    if (type == T_TXT) {
        /* "..." "...": the strings' bytes; dns.c wrote quotes and backslashes as \DDD */
        size_t w = 0;
        bool in = false;
        for (size_t i = 0; data[i] != '\0' && w + 1 < len; i++) {
            if (data[i] == '"') {
                in = !in;
            } else if (in) {
                out[w++] = data[i];
            }
        }
        out[w] = '\0';
        return w;
    }
    if (type == T_MX) {
        const char *sp = strchr(data, ' ');
        return sp != NULL ? name_part(sp + 1, key, out, len) : 0;
    }
    if (type == T_CNAME || type == T_NS || type == T_PTR) {
        return name_part(data, key, out, len);
    }
    return 0;
}
