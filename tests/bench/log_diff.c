/*
 * log_diff.c - the log parsers' output as one line per (file, format): the records of each
 * kind, the anomalies, and a hash over every field of every record and anomaly, in order.
 * Linked once with one ingest/logparse.c and once with another (log_diff.sh), the two
 * outputs are equal when the two parsers read every file alike. Every file is read as every
 * line-log format, so a format's parser also meets the other formats' lines.
 *   log_diff [-t] FILE...   (-t: also the parse time per format, to stderr; the environment's
 *                            LOG_DIFF_FORMAT=syslog reads the files as that format only) 
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/logparse.h"

struct tally {
    uint64_t h, n[PT_LOGREC_COUNT], anoms;
};

static void mix(struct tally *t, const void *b, size_t n)
{
    const uint8_t *p = b;
    for (size_t i = 0; i < n; i++) { /* FNV-1a, 64 bits */
        t->h = (t->h ^ p[i]) * 1099511628211ull;
    }
    t->h = (t->h ^ 0xff) * 1099511628211ull; /* a field boundary */
}

#define NUM(x) mix(t, &(x), sizeof(x))
#define STR(x) mix(t, (x), strnlen((x), sizeof(x)))

static void prov(struct tally *t, const struct pt_logprov *p)
{
    NUM(p->item);
    NUM(p->line);
    NUM(p->offset);
    NUM(p->ts_us);
    NUM(p->length);
    mix(t, p->source ? p->source : "", p->source ? strlen(p->source) : 0);
}

static void on_rec(void *arg, enum pt_logrec_kind k, const void *rec)
{
    struct tally *t = arg;
    NUM(k);
    t->n[k]++;
    if (k == PT_LOGREC_CONN) {
        const struct pt_logconn_rec *c = rec;
        prov(t, &c->p);
        NUM(c->dur_us);
        STR(c->proto);
        STR(c->client);
        STR(c->server);
        NUM(c->cport);
        NUM(c->sport);
        NUM(c->c_bytes);
        NUM(c->s_bytes);
        NUM(c->c_ip_bytes);
        NUM(c->s_ip_bytes);
        NUM(c->c_frame_bytes);
        NUM(c->s_frame_bytes);
        NUM(c->c_pkts);
        NUM(c->s_pkts);
        STR(c->state);
        STR(c->service);
        STR(c->uid);
        NUM(c->both_ways);
    } else if (k == PT_LOGREC_DNS) {
        const struct pt_logdns_rec *d = rec;
        prov(t, &d->p);
        STR(d->proto);
        STR(d->client);
        STR(d->server);
        NUM(d->cport);
        NUM(d->sport);
        STR(d->query);
        STR(d->qtype);
        STR(d->rcode);
        STR(d->answers);
        STR(d->uid);
    } else if (k == PT_LOGREC_HTTP) {
        const struct pt_loghttp_rec *h = rec;
        prov(t, &h->p);
        STR(h->client);
        STR(h->server);
        NUM(h->cport);
        NUM(h->sport);
        STR(h->method);
        STR(h->host);
        STR(h->uri);
        NUM(h->status);
        NUM(h->req_bytes);
        NUM(h->resp_bytes);
        STR(h->user_agent);
        STR(h->user);
        STR(h->uid);
    } else if (k == PT_LOGREC_XFER) {
        const struct pt_logxfer_rec *x = rec;
        prov(t, &x->p);
        STR(x->client);
        STR(x->user);
        STR(x->direction);
        STR(x->path);
        NUM(x->bytes);
        NUM(x->dur_us);
        NUM(x->ok);
    }
}

static void on_anom(void *arg, uint64_t off, enum pt_anom kind, const char *detail)
{
    struct tally *t = arg;
    t->anoms++;
    NUM(off);
    NUM(kind);
    mix(t, detail ? detail : "", detail ? strlen(detail) : 0);
}

static const enum pt_logfmt fmts[] = {
    PT_LOGFMT_ZEEK,  PT_LOGFMT_ZEEK_JSON, PT_LOGFMT_EVE,     PT_LOGFMT_WEB,
    PT_LOGFMT_W3C,   PT_LOGFMT_SYSLOG,    PT_LOGFMT_SQUID,   PT_LOGFMT_FLOWCSV,
    PT_LOGFMT_ELB,   PT_LOGFMT_VSFTPD,    PT_LOGFMT_XFERLOG, PT_LOGFMT_PANOS,
    PT_LOGFMT_WINDNS};
enum { NFMT = sizeof fmts / sizeof fmts[0] };

int main(int argc, char **argv)
{
    static double secs[NFMT];
    const char *only = getenv("LOG_DIFF_FORMAT");
    bool timed = argc > 1 && strcmp(argv[1], "-t") == 0;
    struct pt_logparse *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return 1;
    }
    for (int a = 1 + timed; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        if (f == NULL) {
            continue;
        }
        size_t cap = 1 << 20, n = 0, got;
        uint8_t *b = malloc(cap);
        while (b != NULL && (got = fread(b + n, 1, cap - n, f)) > 0) {
            n += got;
            if (n == cap) {
                uint8_t *nb = realloc(b, cap *= 2);
                if (nb == NULL) {
                    free(b);
                }
                b = nb;
            }
        }
        fclose(f);
        if (b == NULL) {
            return 1;
        }
        for (size_t i = 0; i < NFMT; i++) {
            if (only != NULL && strcmp(only, pt_logfmt_name(fmts[i])) != 0) {
                continue;
            }
            struct tally t = {.h = 14695981039346656037ull};
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            pt_logparse_init(p, fmts[i], 1, 1700000000000000, on_rec, on_anom, &t);
            for (size_t at = 0; at < n; at += 65536) { /* pieces, as the reader feeds them */
                pt_logparse_feed(p, b + at, n - at < 65536 ? n - at : 65536);
            }
            pt_logparse_end(p);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            secs[i] += (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
            mix(&t, &p->st, sizeof p->st);
            printf("%s\t%s\tconn=%llu dns=%llu http=%llu xfer=%llu anom=%llu lines=%llu "
                   "hash=%016llx\n",
                   argv[a], pt_logfmt_name(fmts[i]), (unsigned long long)t.n[PT_LOGREC_CONN],
                   (unsigned long long)t.n[PT_LOGREC_DNS],
                   (unsigned long long)t.n[PT_LOGREC_HTTP],
                   (unsigned long long)t.n[PT_LOGREC_XFER], (unsigned long long)t.anoms,
                   (unsigned long long)p->st.lines, (unsigned long long)t.h);
        }
        free(b);
    }
    double total = 0;
    for (size_t i = 0; timed && i < NFMT; i++) {
        fprintf(stderr, "%s %.6f\n", pt_logfmt_name(fmts[i]), secs[i]);
        total += secs[i];
    }
    if (timed) {
        fprintf(stderr, "total %.6f\n", total);
    }
    free(p);
    return 0;
}
