/*
 * pipeline.c - the analyze run (see pipeline.h).
 *
 * Reader (this thread): for each input, open it read-only through a hashing
 * source, detect its kind from content, read packets with libpcap, decode
 * them, and append each network-layer view to the batch of the worker its
 * flow hashes to. Batches are recycled through a per-worker free queue.
 *
 * Workers: update their flow table; finished flows go to the writer in
 * batches. Writer: applies messages to SQLite in transactions of
 * PT_DB_BATCH_ROWS rows.
 */
#include "pipeline.h"
#include "scale/scale.h"
#include "verdict/geoip.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <ftw.h>
#include <magic.h>
#include <openssl/opensslv.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <yara.h>
#include <zlib.h>

#include "analyze/app.h"
#include "analyze/archive_pw.h"
#include "analyze/diskart.h"
#include "analyze/doctext.h"
#include "analyze/tunnel.h"
#include "analyze/unpack.h"
#include "core/addr.h"
#include "core/cursor.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/memcap.h"
#include "core/queue.h"
#include "core/sha256.h"
#include "core/version.h"
#include "decode/decode.h"
#include "flow/flow.h"
#include "ingest/inputs.h"
#include "ingest/logtime.h"
#include "ingest/nfdump.h"
#include "ingest/sniff.h"
#include "ingest/source.h"
#include "phi/config.h"
#include "phi/phase.h"
#include "phi/yara_scan.h"
#include "report/report.h"
#include "report/summary.h"
#include "store/db.h"
#include "store/disk.h"
#include "ingest/image.h"
#include "verdict/verdict.h"
#include "writer.h"

/* ---- anomalies from one producer thread, batched and capped per kind --------------------- */

#define ANOM_KINDS 64

struct anomaly_sink {
    struct pt_writer *w;
    struct pt_rowbuf rb;          /* kind PT_W_ANOMALIES */
    uint32_t item;                /* counts are per evidence item */
    enum pt_anom kinds[ANOM_KINDS];
    uint32_t counts[ANOM_KINDS];
    size_t n_kinds;
};

static void anomaly_sink_init(struct anomaly_sink *s, struct pt_writer *w)
{
    s->w = w;
    s->rb = (struct pt_rowbuf){.kind = PT_W_ANOMALIES, .cap = 256};
}

static void anomaly_flush(struct anomaly_sink *s)
{
    pt_rowbuf_flush(s->w, &s->rb);
}

static void anomaly_push(struct anomaly_sink *s, uint32_t item, uint64_t frame, uint64_t off,
                         enum pt_anom kind, const char *detail)
{
    if (item != s->item) {
        s->item = item;
        s->n_kinds = 0;
    }
    size_t k = 0;
    while (k < s->n_kinds && s->kinds[k] != kind) {
        k++;
    }
    if (k == s->n_kinds && k < ANOM_KINDS) {
        s->kinds[k] = kind;
        s->counts[k] = 0;
        s->n_kinds++;
    }
    if (k < ANOM_KINDS) {
        s->counts[k]++;
        if (s->counts[k] > PT_ANOMALY_MAX_PER_KIND + 1) {
            return;
        }
        if (s->counts[k] == PT_ANOMALY_MAX_PER_KIND + 1) {
            kind = PT_ANOM_LIMIT_ANOMALIES;
            detail = "further anomalies of this kind in this item are not recorded";
        }
    }
    struct pt_anomaly_rec a = {.item = item, .frame = frame, .offset = off, .kind = kind};
    snprintf(a.detail, sizeof a.detail, "%s", detail ? detail : "");
    pt_rowbuf_add(s->w, &s->rb, &a);
}

static void decode_anomaly(void *arg, const struct pt_frame *f, uint64_t offset, enum pt_anom kind,
                           const char *detail)
{
    anomaly_push(arg, f->item, f->num, offset, kind, detail);
}

/* ---- workers -------------------------------------------------------------------------------- */

struct pkt_entry {
    struct pt_view v;     /* payload pointer replaced by payload_off into the batch data */
    uint32_t payload_off;
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
    uint32_t wire_len;
    uint8_t view_idx;
};

struct batch {
    bool end;             /* last batch: flush and stop */
    int64_t end_ts;       /* with end: latest packet time of the whole run */
    uint32_t n;
    uint32_t used;        /* bytes of data in use */
    struct pkt_entry e[PT_BATCH_PKTS];
    uint8_t data[PT_BATCH_BYTES];
};

struct worker {
    unsigned idx;
    pthread_t th;
    struct pt_queue full, free;
    struct batch *cur;            /* reader side: batch being filled */
    struct pt_flow_table *flows;
    struct pt_rowbuf out;               /* finished flows, kind PT_W_FLOWS */
    struct pt_rowbuf sev;               /* stream gaps and conflicts, kind PT_W_STREAM_EVENTS */
    struct pt_rowbuf objs;              /* kind PT_W_OBJECTS */
    struct pt_rowbuf rec[PT_REC_COUNT]; /* kind PT_W_REC + k: the decoders' records */
    struct anomaly_sink anoms;
    struct pt_app_ctx app;
    struct pt_writer *w;
};

static void worker_object(void *arg, const struct pt_object_rec *r)
{
    struct worker *wk = arg;
    pt_rowbuf_add(wk->w, &wk->objs, r);
    /* a document's text becomes one derived object; its package is then not unpacked, or
     * the raw XML members would be scanned a second time and count patients twice */
    if (!pt_doctext(&wk->app, r)) {
        pt_unpack(&wk->app, r); /* archive members become objects too (recursively, bounded) */
    }
}

static void worker_record(void *arg, enum pt_rec_kind kind, const void *rec)
{
    struct worker *wk = arg;
    pt_rowbuf_add(wk->w, &wk->rec[kind], rec);
}

static void worker_app_anomaly(void *arg, uint32_t item, uint64_t frame, enum pt_anom kind,
                               const char *detail)
{
    struct worker *wk = arg;
    anomaly_push(&wk->anoms, item, frame, 0, kind, detail);
}

static void worker_emit(void *arg, const struct pt_flow_rec *rec)
{
    struct worker *wk = arg;
    pt_rowbuf_add(wk->w, &wk->out, rec);
}

static void worker_stream_event(void *arg, const struct pt_stream_event *e)
{
    struct worker *wk = arg;
    pt_rowbuf_add(wk->w, &wk->sev, e);
}

static void worker_anomaly(void *arg, const struct pt_flow_pkt *p, enum pt_anom kind,
                           const char *detail)
{
    struct worker *wk = arg;
    anomaly_push(&wk->anoms, p->item, p->frame, 0, kind, detail);
}

static void *worker_main(void *arg)
{
    struct worker *wk = arg;
    struct batch *b;
    while ((b = pt_queue_pop(&wk->full)) != NULL) {
        for (uint32_t i = 0; i < b->n; i++) {
            struct pkt_entry *e = &b->e[i];
            e->v.payload = b->data + e->payload_off;
            struct pt_flow_pkt p = {.v = &e->v, .item = e->item, .frame = e->frame,
                                    .view_idx = e->view_idx, .ts_us = e->ts_us,
                                    .wire_len = e->wire_len};
            pt_flow_update(wk->flows, &p);
        }
        bool end = b->end;
        int64_t end_ts = b->end_ts;
        b->n = 0;
        b->used = 0;
        b->end = false;
        pt_queue_push(&wk->free, b);
        if (end) {
            pt_flow_flush(wk->flows, end_ts);
            break;
        }
    }
    pt_rowbuf_flush(wk->w, &wk->out);
    pt_rowbuf_flush(wk->w, &wk->sev);
    pt_rowbuf_flush(wk->w, &wk->objs);
    for (int k = 0; k < PT_REC_COUNT; k++) {
        pt_rowbuf_flush(wk->w, &wk->rec[k]);
    }
    anomaly_flush(&wk->anoms);
    return NULL;
}

/* Reader side: hand the current batch to the worker and take an empty one. */
static void worker_ship(struct worker *wk, bool end, int64_t end_ts)
{
    if (wk->cur == NULL) {
        wk->cur = pt_queue_pop(&wk->free);
    }
    wk->cur->end = end;
    wk->cur->end_ts = end_ts;
    pt_queue_push(&wk->full, wk->cur);
    wk->cur = end ? NULL : pt_queue_pop(&wk->free);
}

/*
 * Routing of FTP data connections. A data connection has its own 5-tuple, so the symmetric
 * hash would send it to any worker; its control connection's decoder, which knows the file
 * name, lives on one. The reader therefore watches for the four announcements (PORT, EPRT,
 * 227, 229) at the start of any TCP payload (port-independent, so the result is the same for
 * any thread count), remembers the announced endpoint with the control flow's worker, and
 * sends the connection that then uses it to that worker, for its whole life.
 */
#define ROUTE_EXPECT 256
#define ROUTE_FLOWS 4096
#define ROUTE_PROBE 32

struct router {
    struct {
        struct pt_addr addr;
        uint16_t port;
        unsigned worker;
        int64_t expires;
    } e[ROUTE_EXPECT];
    unsigned next_e, n_e;
    struct {
        uint64_t hash;
        unsigned worker;
        int64_t last;
        bool used;
    } f[ROUTE_FLOWS];
    unsigned n_f;
};

static bool announce(const struct pt_view *v, struct pt_addr *a, uint16_t *port)
{
    const uint8_t *p = v->payload;
    size_t n = v->payload_len < 200 ? v->payload_len : 200;
    if (n < 8 || p == NULL) {
        return false;
    }
    /* Per-packet path: only the four announcements are looked at further. */
    uint8_t c0 = p[0] | 0x20;
    if (!(c0 == 'p' || c0 == 'e' || (p[0] == '2' && p[1] == '2' && (p[2] == '7' || p[2] == '9')))) {
        return false;
    }
    char line[201];
    memcpy(line, p, n);
    line[n] = '\0';
    unsigned h[6];
    const char *q = NULL;
    if (strncasecmp(line, "PORT ", 5) == 0) {
        q = line + 5;
    } else if (strncmp(line, "227 ", 4) == 0) {
        q = strchr(line, '(');
        q = q ? q + 1 : NULL;
    }
    if (q != NULL && pt_text_uints(q, ',', h, 6) > 0) {
        for (int i = 0; i < 6; i++) {
            if (h[i] > 255) {
                return false;
            }
        }
        uint8_t ip[4] = {(uint8_t)h[0], (uint8_t)h[1], (uint8_t)h[2], (uint8_t)h[3]};
        pt_addr_from_v4(a, ip);
        *port = (uint16_t)(h[4] << 8 | h[5]);
        return true;
    }
    if (strncasecmp(line, "EPRT ", 5) == 0 && line[5] != '\0') {
        /* EPRT <d>proto<d>address<d>port<d> (RFC 2428 §2) */
        char d = line[5];
        char *f1 = line + 6, *f2 = strchr(f1, d);
        char *f3 = f2 ? strchr(f2 + 1, d) : NULL;
        if (f2 != NULL && f3 != NULL) {
            *f3 = '\0';
            long pn = strtol(f3 + 1, NULL, 10);
            if (pn > 0 && pn < 65536 && pt_addr_parse(f2 + 1, a)) {
                *port = (uint16_t)pn;
                return true;
            }
        }
    }
    if (strncmp(line, "229 ", 4) == 0) {
        const char *o = strchr(line, '(');
        unsigned pn = 0;
        if (o != NULL && o[1] != '\0' && o[2] == o[1] && o[3] == o[1] &&
            pt_text_uints(o + 4, 0, &pn, 1) > 0 && pn > 0 && pn < 65536) {
            *a = v->src; /* EPSV: the replying server's address */
            *port = (uint16_t)pn;
            return true;
        }
    }
    return false;
}

static unsigned route(struct router *r, const struct pt_view *v, const struct pt_frame *f,
                      uint64_t h, unsigned n_workers)
{
    unsigned w = (unsigned)(h % n_workers);
    if (v->proto != 6 || !v->has_ports || n_workers == 1) {
        return w;
    }
    bool routed = false;
    if (r->n_f > 0) {
        for (unsigned i = 0; i < ROUTE_PROBE; i++) {
            unsigned at = (unsigned)((h + i) % ROUTE_FLOWS);
            if (r->f[at].used && r->f[at].hash == h) {
                w = r->f[at].worker;
                r->f[at].last = f->ts_us;
                routed = true;
                break;
            }
        }
    }
    if (!routed && r->n_e > 0) {
        for (unsigned i = 0; i < ROUTE_EXPECT; i++) {
            if (r->e[i].expires < f->ts_us) {
                continue;
            }
            bool dst = r->e[i].port == v->dport && pt_addr_cmp(&r->e[i].addr, &v->dst) == 0;
            bool src = r->e[i].port == v->sport && pt_addr_cmp(&r->e[i].addr, &v->src) == 0;
            if (!dst && !src) {
                continue;
            }
            w = r->e[i].worker;
            unsigned best = (unsigned)(h % ROUTE_FLOWS);
            for (unsigned k = 0; k < ROUTE_PROBE; k++) { /* a free slot, else the oldest */
                unsigned at = (unsigned)((h + k) % ROUTE_FLOWS);
                if (!r->f[at].used) {
                    best = at;
                    break;
                }
                if (r->f[at].last < r->f[best].last) {
                    best = at;
                }
            }
            r->n_f += !r->f[best].used;
            r->f[best].used = true;
            r->f[best].hash = h;
            r->f[best].worker = w;
            r->f[best].last = f->ts_us;
            break;
        }
    }
    struct pt_addr a;
    uint16_t port;
    if (v->payload_len >= 8 && announce(v, &a, &port)) {
        r->e[r->next_e].addr = a;
        r->e[r->next_e].port = port;
        r->e[r->next_e].worker = w; /* the control connection's worker */
        r->e[r->next_e].expires = f->ts_us + (int64_t)PT_FTP_EXPECT_S * 1000000;
        r->next_e = (r->next_e + 1) % ROUTE_EXPECT;
        r->n_e += r->n_e < ROUTE_EXPECT;
    }
    return w;
}

static void dispatch_view(struct router *rt, struct worker *workers, unsigned n_workers,
                          const struct pt_frame *f, const struct pt_view *v, uint8_t idx)
{
    struct worker *wk = &workers[route(rt, v, f, pt_flow_hash(v), n_workers)];
    struct batch *b = wk->cur;
    uint32_t plen = v->payload_len;
    if (b->n == PT_BATCH_PKTS || plen > PT_BATCH_BYTES - b->used) {
        worker_ship(wk, false, 0);
        b = wk->cur;
    }
    struct pkt_entry *e = &b->e[b->n++];
    e->v = *v;
    e->v.payload = NULL;
    e->payload_off = b->used;
    if (plen > 0 && v->payload != NULL) {
        memcpy(b->data + b->used, v->payload, plen);
        b->used += plen;
    }
    e->item = f->item;
    e->frame = f->num;
    e->ts_us = f->ts_us;
    e->wire_len = f->wire_len;
    e->view_idx = idx;
}

/* ---- progress ------------------------------------------------------------------------------ */

struct progress {
    _Atomic uint64_t done;
    uint64_t total;
    _Atomic bool stop;
    bool enabled;
    pthread_t th;
    struct timespec start;
    bool json;               /* --progress=json: one JSON object a line (progress_json) */
    _Atomic uint64_t inputs; /* inputs read, of n_inputs */
    uint64_t n_inputs;
    double last;             /* elapsed at the last JSON line */
};

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void human(double bytes, char *out, size_t len)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (bytes >= 1000 && i < 4) {
        bytes /= 1000;
        i++;
    }
    snprintf(out, len, i ? "%.1f %s" : "%.0f %s", bytes, u[i]);
}

/* --progress=json (README "Progress for pipelines"): {"stage","done","total","bytes",
 * "bytes_total","elapsed"}; done and total count inputs while reading, then each later stage
 * is one line as it starts (0 of 1), and "done" ends the run with its "status". */
static void progress_json(struct progress *p, const char *stage, uint64_t done, uint64_t total,
                          const char *status)
{
    if (!p->json) {
        return;
    }
    p->last = since(&p->start);
    fprintf(stderr, "{\"stage\":\"%s\",\"done\":%llu,\"total\":%llu,\"bytes\":%llu,"
            "\"bytes_total\":%llu,\"elapsed\":%.3f%s%s%s}\n", stage, (unsigned long long)done,
            (unsigned long long)total, (unsigned long long)atomic_load(&p->done),
            (unsigned long long)p->total, p->last, status ? ",\"status\":\"" : "",
            status ? status : "", status ? "\"" : "");
    fflush(stderr);
}

static void progress_draw(struct progress *p, bool final)
{
    uint64_t done = atomic_load(&p->done);
    double el = since(&p->start);
    if (p->json) { /* the first line, one a second, and the last */
        if (final || p->last == 0.0 || el - p->last >= 1.0) {
            progress_json(p, "read", atomic_load(&p->inputs), p->n_inputs, NULL);
        }
        return;
    }
    double frac = p->total ? (double)done / (double)p->total : 1.0;
    if (frac > 1) {
        frac = 1;
    }
    char d[32], t[32], r[32];
    human((double)done, d, sizeof d);
    human((double)p->total, t, sizeof t);
    human(el > 0 ? (double)done / el : 0, r, sizeof r);
    int bars = (int)(frac * 30);
    char bar[31];
    memset(bar, '#', (size_t)bars);
    memset(bar + bars, '.', (size_t)(30 - bars));
    bar[30] = '\0';
    double eta = frac > 0 && frac < 1 ? el / frac - el : 0;
    fprintf(stderr, "\r[%s] %3.0f%% %s / %s  %s/s  ETA %d:%02d ", bar, frac * 100, d, t, r,
            (int)eta / 60, (int)eta % 60);
    if (final) {
        fputc('\n', stderr);
    }
    fflush(stderr);
}

static void *progress_main(void *arg)
{
    struct progress *p = arg;
    while (!atomic_load(&p->stop)) {
        progress_draw(p, false);
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* ---- capture reading ------------------------------------------------------------------------- */

struct run {
    const struct pt_options *opt;
    struct pt_writer w;
    struct worker *workers;
    unsigned n_workers;
    struct pt_decoder *dec;
    struct anomaly_sink anoms;
    struct progress prog;
    struct pt_run_result res;
    int64_t max_ts;       /* latest packet time over all inputs */
    struct router router; /* FTP data connections to their control's worker */
    struct worker files;  /* the reader's object store for files at rest (not a thread) */
    struct pt_yara *yara; /* compiled rules, shared read-only by the scanning threads */
    struct pt_unpack_run *unpack; /* archives unpacked, shared by the workers */
    struct pt_memcap memcap;      /* per-flow decoder state of all workers (--memcap) */
    struct logsink *logs;         /* logs read as records (made on the first log) */
    bool image;                   /* the file at rest just read is a disk image (by content) */
};

/* ---- logs read as records (ingest/logparse.h): rows to the writer as they are read ---- */

struct logsink {
    struct pt_logparse parse;
    struct run *r;
    struct pt_rowbuf rb[PT_LOGREC_COUNT]; /* by enum pt_logrec_kind */
};

static void log_row(void *arg, enum pt_logrec_kind kind, const void *rec)
{
    struct logsink *ls = arg;
    if (!pt_rowbuf_add(&ls->r->w, &ls->rb[kind], rec)) {
        ls->r->res.objects_lost++; /* counted like a lost object: the case is incomplete */
    }
}

static void log_anomaly(void *arg, uint64_t offset, enum pt_anom kind, const char *detail)
{
    struct logsink *ls = arg;
    anomaly_push(&ls->r->anoms, ls->parse.item, 0, offset, kind, detail);
}

/* Start reading the file as a log of format `fmt`; NULL when it is not read as records. */
static struct pt_logparse *log_begin(struct run *r, enum pt_logfmt fmt, uint32_t item,
                                     int64_t mtime_us)
{
    if (fmt == PT_LOGFMT_NONE) {
        return NULL;
    }
    if (r->logs == NULL && (r->logs = calloc(1, sizeof *r->logs)) != NULL) {
        static const enum pt_writer_kind k[PT_LOGREC_COUNT] = {PT_W_LOG_CONN, PT_W_LOG_DNS,
                                                               PT_W_LOG_HTTP, PT_W_LOG_XFER};
        for (size_t i = 0; i < PT_LOGREC_COUNT; i++) {
            r->logs->rb[i] = (struct pt_rowbuf){.kind = k[i], .cap = 512};
        }
        r->logs->r = r;
    }
    if (r->logs == NULL) {
        return NULL;
    }
    pt_logparse_init(&r->logs->parse, fmt, item, mtime_us, log_row, log_anomaly, r->logs);
    return &r->logs->parse;
}

static void log_end(struct run *r, const char *path)
{
    struct logsink *ls = r->logs;
    pt_logparse_end(&ls->parse);
    struct pt_logsource_rec src = {.item = ls->parse.item, .format = pt_logfmt_name(ls->parse.fmt),
                                   .st = ls->parse.st};
    snprintf(src.path, sizeof src.path, "%s", path);
    struct pt_rowbuf one = {.kind = PT_W_LOG_SOURCE, .cap = 1};
    for (size_t i = 0; i < PT_LOGREC_COUNT; i++) {
        pt_rowbuf_flush(&r->w, &ls->rb[i]);
    }
    pt_rowbuf_add(&r->w, &one, &src);
}

/* The span of a log's line times into its item (several segments widen it), and what was
 * assumed to read them. */
static void log_window(struct run *r, struct pt_item_rec *it, const struct pt_logtime *lt,
                       const char *path)
{
    if (lt->stamped == 0) {
        return;
    }
    if (it->time_source == NULL || lt->first < it->first_ts) {
        it->first_ts = lt->first;
    }
    if (it->time_source == NULL || lt->last > it->last_ts) {
        it->last_ts = lt->last;
    }
    it->time_source = "log lines";
    if (lt->year_assumed || lt->zone_assumed) {
        char note[600];
        snprintf(note, sizeof note, "%s: %llu of %llu lines carry a time; %s%s%s", path,
                 (unsigned long long)lt->stamped, (unsigned long long)lt->lines,
                 lt->year_assumed ? "syslog lines carry no year: taken from the file's "
                                    "modification time" : "",
                 lt->year_assumed && lt->zone_assumed ? "; " : "",
                 lt->zone_assumed ? "times without a UTC offset were read as UTC" : "");
        anomaly_push(&r->anoms, it->id, 0, 0, PT_ANOM_INPUT_TIME_ASSUMED, note);
    }
}

/* What a file at rest is read as besides an object: a text log gives the window of time the
 * evidence covers (logtime.h) and, in the formats logparse.h reads, records. A gzip file
 * (a rotated log) is inflated on the way, so conn.log.gz is read as conn.log; what it
 * inflates to is bounded by deflate's own ratio, past which the log is not read further. */
struct logfeed {
    bool first, is_log, gz, gz_stop, gz_member_end;
    bool nfcapd; /* read after the file, through nfdump (ingest/nfdump.h) */
    z_stream z;
    uint64_t raw_in, text_out;
    struct pt_logparse *lp;
    struct pt_logtime lt;
    int64_t mtime;
    uint32_t item;
};

static void logfeed_begin(struct logfeed *f, uint32_t item, int64_t mtime)
{
    memset(f, 0, sizeof *f);
    f->first = true;
    f->item = item;
    f->mtime = mtime;
}

static void logfeed_text(struct run *r, struct logfeed *f, const uint8_t *b, size_t n)
{
    if (f->first) {
        const char *ev = pt_sniff_evidence(b, n);
        f->is_log = ev != NULL && strncmp(ev, "log:", 4) == 0 && strcmp(ev, "log:evtx") != 0 &&
                    strcmp(ev, "log:nfcapd") != 0;
        f->nfcapd = !f->gz && ev != NULL && strcmp(ev, "log:nfcapd") == 0;
        pt_logtime_init(&f->lt, f->mtime);
        f->lp = log_begin(r, pt_logfmt_of(ev), f->item, f->mtime);
        f->first = false;
    }
    if (f->is_log) {
        pt_logtime_feed(&f->lt, b, n);
    }
    if (f->lp != NULL) {
        pt_logparse_feed(f->lp, b, n);
    }
}

static void logfeed_stop(struct run *r, struct logfeed *f, enum pt_anom kind, const char *why)
{
    f->gz_stop = true;
    if (f->is_log) {
        anomaly_push(&r->anoms, f->item, 0, f->raw_in, kind, why);
    }
}

static void logfeed_raw(struct run *r, struct logfeed *f, const uint8_t *b, size_t n)
{
    if (f->first && !f->gz && n >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        f->gz = inflateInit2(&f->z, 16 + MAX_WBITS) == Z_OK;
        f->gz_stop = !f->gz;
    }
    if (!f->gz) {
        logfeed_text(r, f, b, n);
        return;
    }
    static uint8_t out[1 << 16];
    f->z.next_in = (Bytef *)b;
    f->z.avail_in = (uInt)n;
    f->raw_in += n;
    while (!f->gz_stop && f->z.avail_in > 0) {
        if (f->gz_member_end) { /* gzip files may hold several members, one after another */
            inflateReset(&f->z);
            f->gz_member_end = false;
        }
        f->z.next_out = out;
        f->z.avail_out = sizeof out;
        int rc = inflate(&f->z, Z_NO_FLUSH);
        size_t made = sizeof out - f->z.avail_out;
        f->text_out += made;
        if (made > 0) {
            logfeed_text(r, f, out, made);
        }
        if (f->first) { /* not text: nothing to read as a log */
            f->gz_stop = true;
        } else if (rc == Z_STREAM_END) {
            f->gz_member_end = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            logfeed_stop(r, f, PT_ANOM_LOG_GZIP_DAMAGED, "the gzip stream of this log is damaged: "
                                                   "its lines after that point were not read");
        } else if (f->text_out > 1100 * f->raw_in + (1u << 20)) {
            logfeed_stop(r, f, PT_ANOM_LOG_GZIP_RATIO, "this gzip log inflates beyond deflate's own "
                                                 "ratio: the rest was not read as lines");
        }
    }
}

/* nfdump's CSV of an nfcapd file: its lines to the flow CSV reader and the time window. */
struct nfcsv {
    struct pt_logparse *lp;
    struct pt_logtime lt;
};

static void nfcsv_feed(void *arg, const uint8_t *b, size_t n)
{
    struct nfcsv *c = arg;
    pt_logtime_feed(&c->lt, b, n);
    if (c->lp != NULL) {
        pt_logparse_feed(c->lp, b, n);
    }
}

static void nfcapd_read(struct run *r, struct logfeed *f, struct pt_item_rec *it, const char *path)
{
    static struct nfcsv c;
    pt_logtime_init(&c.lt, f->mtime);
    c.lp = log_begin(r, PT_LOGFMT_NFCAPD, f->item, f->mtime);
    char why[300];
    static const enum pt_anom kind[] = {
        [PT_NFDUMP_MISSING] = PT_ANOM_LOG_NFDUMP_MISSING,
        [PT_NFDUMP_FAILED] = PT_ANOM_LOG_NFDUMP_FAILED,
        [PT_NFDUMP_KILLED] = PT_ANOM_LOG_NFDUMP_KILLED,
    };
    enum pt_nfdump_status st = pt_nfdump_csv(path, nfcsv_feed, &c, why, sizeof why);
    if (st != PT_NFDUMP_OK) {
        anomaly_push(&r->anoms, f->item, 0, 0, kind[st], why);
    }
    pt_logtime_end(&c.lt);
    log_window(r, it, &c.lt, path);
    if (c.lp != NULL && (st == PT_NFDUMP_OK || c.lp->st.lines > 0)) {
        log_end(r, path);
    }
}

static void logfeed_end(struct run *r, struct logfeed *f, struct pt_item_rec *it, const char *path)
{
    if (f->nfcapd) {
        nfcapd_read(r, f, it, path);
    }
    if (f->gz) {
        inflateEnd(&f->z);
    }
    if (f->is_log) {
        pt_logtime_end(&f->lt);
        log_window(r, it, &f->lt, path);
    }
    if (f->lp != NULL) {
        log_end(r, path);
    }
}

/* A file at rest (not a capture): its bytes become an object, unpacked like any other. They
 * are read through the source that hashes them (one descriptor, one pass), so the object is
 * exactly the bytes the item's SHA-256 covers even when the file changes meanwhile. */
static void ingest_file(struct run *r, struct pt_source *src, const char *path,
                        struct pt_item_rec *it)
{
    struct pt_object_rec meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.protocol, sizeof meta.protocol, "file");
    snprintf(meta.direction, sizeof meta.direction, "at-rest");
    snprintf(meta.name, sizeof meta.name, "%s", path);
    meta.item = it->id;
    meta.complete = true;
    /* by reference (a link to the evidence) unless copies were asked for: a 500 GB image
     * must not need another 500 GB in the case */
    char target[PATH_MAX];
    struct pt_obj *o = !r->opt->copy_inputs && realpath(path, target) != NULL
                           ? pt_obj_open_link(r->files.app.store, &meta, target)
                           : pt_obj_open(r->files.app.store, &meta);
    if (o == NULL) {
        it->status = "error";
        snprintf(it->error, sizeof it->error, "cannot create the object file in the case");
        return;
    }
    static uint8_t buf[1 << 16];
    static struct logfeed lf;
    ssize_t got;
    bool first = true;
    logfeed_begin(&lf, it->id, pt_source_mtime_us(src));
    while ((got = pt_source_raw(src, buf, sizeof buf)) > 0) {
        if (first) { /* a disk image (by content) is read through libtsk afterwards */
            const char *ev = pt_sniff_evidence(buf, (size_t)got);
            r->image = r->image || (ev != NULL && strncmp(ev, "image:", 6) == 0);
            first = false;
        }
        logfeed_raw(r, &lf, buf, (size_t)got);
        pt_obj_write(o, buf, (size_t)got);
    }
    bool ok = got == 0;
    int read_errno = errno;
    logfeed_end(r, &lf, it, path);
    struct pt_object_rec rec;
    if (!pt_obj_close(o, ok, &rec)) {
        it->status = "error";
        snprintf(it->error, sizeof it->error, "cannot store the object file in the case");
        anomaly_flush(&r->files.anoms);
        return;
    }
    if (!ok) {
        it->status = "damaged";
        snprintf(it->error, sizeof it->error, "read error: %s", strerror(read_errno));
    }
    it->kind = "file";
    snprintf(it->format, sizeof it->format, "%.31s", rec.mime);
    r->files.app.object(r->files.app.arg, &rec);
    pt_rowbuf_flush(r->files.w, &r->files.objs);
    anomaly_flush(&r->files.anoms);
}

/* A capture through `src`'s stream, or (src NULL) through `fp`, a byte range of one
 * (scale/split.c) whose frames are numbered from `base` + 1. */
static void read_capture(struct run *r, struct pt_source *src, FILE *fp, uint64_t base,
                         struct pt_item_rec *it)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    fp = src != NULL ? pt_source_stream(src) : fp;
    if (fp == NULL) {
        it->status = "error";
        snprintf(it->error, sizeof it->error, "cannot create a stream over the input");
        return;
    }
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (p == NULL) {
        if (src != NULL) {
            pt_source_stream_closed(src);
        }
        fclose(fp);
        it->status = "error";
        snprintf(it->error, sizeof it->error, "libpcap cannot read it: %s", errbuf);
        anomaly_push(&r->anoms, it->id, 0, 0, PT_ANOM_CAPTURE_UNREADABLE, it->error);
        return;
    }
    if (src != NULL) {
        pt_source_stream_closed(src); /* pcap_close closes fp */
    }
    int dlt = pcap_datalink(p);
    it->linktype = dlt;
    it->linktype_name = pt_linktype_name(dlt);
    if (it->linktype_name == NULL) {
        it->linktype_name = pcap_datalink_val_to_name(dlt);
        it->status = "skipped";
        snprintf(it->error, sizeof it->error, "link type %s (%d) is not decoded by this version",
                 it->linktype_name ? it->linktype_name : "unknown", dlt);
        anomaly_push(&r->anoms, it->id, 0, 0, PT_ANOM_CAPTURE_UNSUPPORTED_LINKTYPE, it->error);
        pcap_close(p);
        return;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    uint64_t num = base, snap_cut = 0, first_cut = 0;
    uint32_t snap_max = 0;
    struct pt_decoded dec;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        num++;
        struct pt_frame f = {.item = it->id, .num = num, .wire_len = h->len,
                             .cap_len = h->caplen, .linktype = dlt, .data = data};
        f.ts_us = (int64_t)h->ts.tv_sec * 1000000 + (int64_t)h->ts.tv_usec / 1000;
        if (h->caplen < h->len) {
            first_cut = snap_cut++ == 0 ? num : first_cut;
            snap_max = h->caplen > snap_max ? h->caplen : snap_max;
        }
        if (h->caplen > h->len) {
            anomaly_push(&r->anoms, it->id, num, 0, PT_ANOM_CAPTURE_CAPLEN_EXCEEDS_LEN,
                         "captured length larger than the original length");
            f.wire_len = h->caplen;
        }
        if (num == base + 1 || f.ts_us < it->first_ts) {
            it->first_ts = f.ts_us;
        }
        if (num == base + 1 || f.ts_us > it->last_ts) {
            it->last_ts = f.ts_us;
        }
        if (f.ts_us > r->max_ts) {
            r->max_ts = f.ts_us;
        }
        pt_decode_frame(r->dec, &f, &dec);
        for (unsigned i = 0; i < dec.n; i++) {
            if (r->opt->keep_view == NULL || r->opt->keep_view(r->opt->keep_arg, &dec.v[i])) {
                dispatch_view(&r->router, r->workers, r->n_workers, &f, &dec.v[i], (uint8_t)i);
            }
        }
    }
    it->packets = num - base;
    it->time_source = num > base ? "packets" : NULL;
    r->res.packets += num - base;
    char note[200];
    if (snap_cut > 0) {
        /* One row per item, not per frame: a snap length is a property of the capture. */
        snprintf(note, sizeof note,
                 "%llu frame(s) cut by the capture's snap length (at most %u bytes kept); bytes "
                 "past the cut are missing from the evidence",
                 (unsigned long long)snap_cut, snap_max);
        anomaly_push(&r->anoms, it->id, first_cut, 0, PT_ANOM_CAPTURE_SNAPLEN, note);
    }
    if (num == base && rc != PCAP_ERROR) {
        anomaly_push(&r->anoms, it->id, 0, 0, PT_ANOM_CAPTURE_EMPTY, "the capture holds no packet");
    }
    if (rc == PCAP_ERROR) {
        const char *msg = pcap_geterr(p);
        const char *gzwhy = NULL;
        bool gz = src != NULL && pt_source_gzip_error(src, &gzwhy);
        bool trunc = strstr(msg, "truncated") != NULL || gz;
        it->status = trunc ? "truncated" : "damaged";
        snprintf(it->error, sizeof it->error, "reading stopped after frame %llu: %s%s%s",
                 (unsigned long long)num, msg, gz ? "; gzip: " : "", gz ? gzwhy : "");
        anomaly_push(&r->anoms, it->id, num + 1, 0,
                     trunc ? PT_ANOM_CAPTURE_TRUNCATED : PT_ANOM_CAPTURE_DAMAGED, it->error);
    }
    pcap_close(p);
    pt_decoder_flush(r->dec, it->id);
}

static void ingest_image(struct run *r, const char *const *paths, size_t n,
                         struct pt_item_rec *it);

/* The segments of a split image: one item whose SHA-256 and size are over all of them in
 * order, one evidence_segment row (and audit row) per file with its own hash, and one object
 * per file, read in place like any file at rest (a record cut at a segment's end is read in
 * two pieces). */
static void ingest_segments(struct run *r, const struct pt_input *in, struct pt_item_rec *it)
{
    struct pt_sha256 *whole = pt_sha256_new();
    if (whole == NULL) {
        it->status = "error";
        snprintf(it->error, sizeof it->error, "out of memory");
        return;
    }
    it->segments = (uint32_t)in->n_seg;
    it->kind = "file";
    it->status = "reading"; /* the row exists before its anomalies reference it */
    pt_writer_item(&r->w, it);
    it->status = "ok";
    char detail[4400], format[sizeof it->format] = "";
    uint64_t total = 0;
    bool hashed = true;
    for (size_t k = 0; k < in->n_seg; k++) {
        struct pt_segment_rec seg = {.item = it->id, .seq = (uint32_t)(k + 1)};
        snprintf(seg.path, sizeof seg.path, "%s", in->seg[k]);
        struct pt_source *src = NULL;
        char err[256] = "";
        if (pt_source_open_hashing(in->seg[k], &r->prog.done, whole, &src, err, sizeof err) !=
            PT_OK) {
            it->status = "error";
            snprintf(it->error, sizeof it->error, "segment %zu (%s): %s", k + 1, in->seg[k], err);
            hashed = false;
            break;
        }
        snprintf(detail, sizeof detail, "path=%s size=%llu segment=%zu", in->seg[k],
                 (unsigned long long)in->seg_size[k], k + 1);
        pt_writer_audit(&r->w, "input_opened", detail);
        seg.mtime = pt_source_mtime_us(src);
        it->mtime = k == 0 ? seg.mtime : it->mtime;
        if (r->opt->flows_only) {
            it->status = "skipped";
            snprintf(it->error, sizeof it->error,
                     "not a packet capture; files at rest are not analyzed with --flows-only");
        } else {
            ingest_file(r, src, in->seg[k], it);
        }
        if (k == 0) {
            memcpy(format, it->format, sizeof format);
        }
        char why[300];
        if (pt_source_changed(src, why, sizeof why)) {
            anomaly_push(&r->anoms, it->id, 0, 0, PT_ANOM_INPUT_CHANGED_DURING_RUN, why);
        }
        uint64_t unread = 0;
        if (pt_source_close(src, seg.sha256, &seg.size, &unread) != PT_OK) {
            it->status = "error";
            snprintf(it->error, sizeof it->error, "segment %zu: read error while hashing", k + 1);
            hashed = false;
            break;
        }
        total += seg.size;
        snprintf(detail, sizeof detail, "item=%u segment=%u size=%llu sha256=%s path=%s", it->id,
                 seg.seq, (unsigned long long)seg.size, seg.sha256, seg.path);
        pt_writer_audit(&r->w, "segment_hashed", detail);
        pt_writer_row(&r->w, PT_W_SEGMENT, &seg, sizeof seg);
    }
    memcpy(it->format, format, sizeof format);
    it->size = total;
    if (r->image && hashed) {
        ingest_image(r, (const char *const *)in->seg, in->n_seg, it);
    }
    if (hashed) {
        uint8_t dig[PT_SHA256_LEN];
        pt_sha256_final(whole, dig);
        pt_hex(dig, sizeof dig, it->sha256);
    }
    pt_sha256_free(whole);
    if (in->seg_hole) {
        char note[600];
        snprintf(note, sizeof note, "the numbering of %s's segments has a gap after segment %zu: "
                 "the image ends there and later files are read as separate items; the image "
                 "is incomplete", in->path, in->n_seg);
        anomaly_push(&r->anoms, it->id, 0, 0, PT_ANOM_INPUT_SEGMENT_MISSING, note);
    }
}

/* ---- disk images (issue 15): their files, read by libtsk in a child process ------------------ */

struct img_ctx {
    struct run *r;
    struct pt_item_rec *it;
    struct pt_obj *o;             /* the open file's content, or NULL */
    struct pt_disk_file_rec f;
};

/* the child names its notes by kind string; each maps onto its vocabulary entry */
static enum pt_anom img_kind(const char *k)
{
    static const enum pt_anom known[] = {
        PT_ANOM_IMAGE_UNREADABLE, PT_ANOM_IMAGE_NO_FILESYSTEM, PT_ANOM_IMAGE_WALK_INCOMPLETE,
        PT_ANOM_IMAGE_READER_TIMEOUT, PT_ANOM_IMAGE_READER_CRASHED, PT_ANOM_IMAGE_READER_GARBAGE,
        PT_ANOM_IMAGE_READER_MISSING, PT_ANOM_IMAGE_UNALLOCATED_INCOMPLETE};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(k, pt_anom_kind(known[i])) == 0) {
            return known[i];
        }
    }
    return PT_ANOM_IMAGE_NOTE;
}

static void img_file_row(struct img_ctx *x, const struct pt_img_rec *rec)
{
    struct pt_disk_file_rec *f = &x->f;
    memset(f, 0, sizeof *f);
    f->item = x->it->id;
    f->vol_offset = rec->offset;
    snprintf(f->path, sizeof f->path, "%s", rec->path);
    f->inode = rec->inode;
    snprintf(f->attr, sizeof f->attr, "%s", rec->attr);
    f->attr_type = rec->attr_type;
    f->attr_id = rec->attr_id;
    f->kind = rec->kind;
    f->state = rec->flags & PT_IMG_F_CARVED        ? "carved"
               : rec->flags & PT_IMG_F_SLACK       ? "slack"
               : rec->flags & PT_IMG_F_REALLOC     ? "reallocated"
               : rec->flags & PT_IMG_F_ORPHAN      ? "orphan"
               : rec->flags & PT_IMG_F_NAME_UNALLOC ? "deleted"
                                                    : "allocated";
    f->meta_free = (rec->flags & PT_IMG_F_META_UNALLOC) != 0;
    f->mtime = rec->mtime;
    f->atime = rec->atime;
    f->ctime = rec->ctime;
    f->crtime = rec->crtime;
    f->size = rec->size;
    f->image_offset = rec->image_off;
    f->complete = true;
}

/* An EWF image's stored hashes against its media's: a mismatch is an anomaly (and a
 * limitation), the result an audit row. */
static void img_hashes(struct img_ctx *x, const struct pt_img_rec *rec)
{
    struct pt_disk_image_rec m = {.item = x->it->id, .media_size = rec->size};
    snprintf(m.stored_md5, sizeof m.stored_md5, "%s", rec->stored_md5);
    snprintf(m.stored_sha1, sizeof m.stored_sha1, "%s", rec->stored_sha1);
    snprintf(m.md5, sizeof m.md5, "%s", rec->md5);
    snprintf(m.sha1, sizeof m.sha1, "%s", rec->sha1);
    snprintf(m.sha256, sizeof m.sha256, "%s", rec->sha256);
    snprintf(m.note, sizeof m.note, "%s", rec->note);
    bool md5_bad = m.stored_md5[0] != '\0' && strcmp(m.stored_md5, m.md5) != 0;
    bool sha1_bad = m.stored_sha1[0] != '\0' && strcmp(m.stored_sha1, m.sha1) != 0;
    m.verified = !rec->ok                                        ? "unreadable"
                 : md5_bad || sha1_bad                           ? "mismatch"
                 : m.stored_md5[0] == 0 && m.stored_sha1[0] == 0 ? "no stored hash"
                                                                 : "match";
    pt_writer_row(&x->r->w, PT_W_DISK_IMAGE, &m, sizeof m);
    char detail[700];
    snprintf(detail, sizeof detail, "item=%u media_size=%llu verified=%s stored_md5=%s md5=%s "
             "stored_sha1=%s sha1=%s media_sha256=%s", m.item, (unsigned long long)m.media_size,
             m.verified, m.stored_md5, m.md5, m.stored_sha1, m.sha1, m.sha256);
    pt_writer_audit(&x->r->w, "image_hashes", detail);
    if (strcmp(m.verified, "mismatch") == 0 || strcmp(m.verified, "unreadable") == 0) {
        snprintf(detail, sizeof detail, "the EWF image's media %s: stored MD5 %s, read %s; "
                 "stored SHA-1 %s, read %s%s%.200s", strcmp(m.verified, "mismatch") == 0 ?
                 "does not match the hashes stored at acquisition" : "could not be read whole",
                 m.stored_md5[0] ? m.stored_md5 : "none", m.md5[0] ? m.md5 : "none",
                 m.stored_sha1[0] ? m.stored_sha1 : "none", m.sha1[0] ? m.sha1 : "none",
                 m.note[0] ? "; " : "", m.note);
        anomaly_push(&x->r->anoms, x->it->id, 0, 0, PT_ANOM_INPUT_EWF_HASH_MISMATCH, detail);
    }
}

static void img_rec(void *arg, const struct pt_img_rec *rec)
{
    struct img_ctx *x = arg;
    struct run *r = x->r;
    if (rec->type == PT_IMG_VOL) {
        struct pt_disk_volume_rec v = {.item = x->it->id, .offset = rec->offset,
                                       .block_size = rec->block_size, .blocks = rec->blocks,
                                       .read = rec->ok};
        snprintf(v.fs, sizeof v.fs, "%s", rec->fs);
        snprintf(v.note, sizeof v.note, "%s", rec->note);
        pt_writer_row(&r->w, PT_W_DISK_VOLUME, &v, sizeof v);
        if (!rec->ok) {
            anomaly_push(&r->anoms, x->it->id, 0, rec->offset, PT_ANOM_IMAGE_VOLUME_UNREADABLE,
                         rec->note);
        }
    } else if (rec->type == PT_IMG_FILE) {
        img_file_row(x, rec);
        if (!(rec->flags & PT_IMG_F_CONTENT)) {
            pt_writer_row(&r->w, PT_W_DISK_FILE, &x->f, sizeof x->f);
            return;
        }
        struct pt_object_rec meta;
        memset(&meta, 0, sizeof meta);
        snprintf(meta.protocol, sizeof meta.protocol, "file");
        snprintf(meta.direction, sizeof meta.direction, "at-rest");
        snprintf(meta.name, sizeof meta.name, "/%.254s", rec->path);
        meta.item = x->it->id;
        meta.complete = true;
        x->o = pt_obj_open(r->files.app.store, &meta);
    } else if (rec->type == PT_IMG_DATA) {
        if (x->o != NULL) {
            pt_obj_write(x->o, rec->data, rec->n);
        }
        x->f.read_bytes += rec->n;
    } else if (rec->type == PT_IMG_END) {
        x->f.complete = rec->ok;
        if (strcmp(x->f.state, "carved") == 0) {
            x->f.size = x->f.read_bytes;
        }
        snprintf(x->f.note, sizeof x->f.note, "%s", rec->note);
        struct pt_object_rec orec;
        if (x->o != NULL && pt_obj_close(x->o, rec->ok, &orec)) {
            memcpy(x->f.sha256, orec.sha256, sizeof x->f.sha256);
            r->files.app.object(r->files.app.arg, &orec);
            pt_rowbuf_flush(r->files.w, &r->files.objs);
        }
        x->o = NULL;
        pt_writer_row(&r->w, PT_W_DISK_FILE, &x->f, sizeof x->f);
    } else if (rec->type == PT_IMG_NOTE) {
        anomaly_push(&r->anoms, x->it->id, 0, 0, img_kind(rec->note_kind), rec->note);
    } else if (rec->type == PT_IMG_HASH) {
        img_hashes(x, rec);
    }
}

/* The files of a disk image (its segments in order), after its bytes were hashed and read as
 * one object: each becomes an object of the image's item, scanned like any file at rest. */
static void ingest_image(struct run *r, const char *const *paths, size_t n,
                         struct pt_item_rec *it)
{
    char self[PATH_MAX];
    if (!pt_image_reader_path(self, sizeof self)) {
        anomaly_push(&r->anoms, it->id, 0, 0, PT_ANOM_IMAGE_READER_MISSING,
                     "the image reader could not be started (no /proc/self/exe)");
        return;
    }
    struct img_ctx *x = calloc(1, sizeof *x);
    if (x == NULL) {
        return;
    }
    x->r = r;
    x->it = it;
    struct pt_image_limits lim;
    pt_image_limits_default(&lim, it->size);
    struct pt_image_stats st;
    if (pt_image_read(self, paths, n, &lim, img_rec, x, &st) != PT_OK) {
        anomaly_push(&r->anoms, it->id, 0, 0, PT_ANOM_IMAGE_READER_MISSING,
                     "the image reader could not be started (fork or pipe failed)");
    }
    if (x->o != NULL) {
        pt_obj_discard(x->o);
    }
    char detail[200];
    snprintf(detail, sizeof detail, "item=%u volumes=%llu files=%llu content_bytes=%llu "
             "finished=%d", it->id, (unsigned long long)st.volumes,
             (unsigned long long)st.files, (unsigned long long)st.content_bytes, st.finished);
    pt_writer_audit(&r->w, "image_read", detail);
    anomaly_flush(&r->anoms);
    free(x);
}

static int cmp_item_id(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Scale-out: bytes [offset, end) of a capture (scale/split.c), hashed as a range: its
 * item row holds the range's size and SHA-256 and its audit row is "range_hashed"; the merge
 * checks each against the plan and makes the whole item (merge.c). */
static void ingest_range(struct run *r, const struct pt_byte_range *rg, struct pt_item_rec *it)
{
    struct pt_split_reader *rd = NULL;
    FILE *fp = pt_split_open(rg, it->path, &r->prog.done, &rd);
    char detail[4400];
    it->kind = "capture";
    it->status = "reading"; /* the row exists before its anomalies reference it */
    pt_writer_item(&r->w, it);
    it->status = "ok";
    it->kind = "capture";
    const char *fmt = pt_split_describe(it->path, &it->mtime);
    snprintf(it->format, sizeof it->format, "%s", fmt ? fmt : "");
    if (fp == NULL) {
        it->status = "error";
        snprintf(it->error, sizeof it->error, "cannot open its byte range: %s", strerror(errno));
        return;
    }
    read_capture(r, NULL, fp, rg->frames, it);
    if (!pt_split_reader_done(rd, it->sha256, &it->size)) {
        it->status = "error";
        snprintf(it->error, sizeof it->error, "its byte range could not be read whole");
    }
    snprintf(detail, sizeof detail, "item=%u offset=%llu end=%llu frames=%llu size=%llu "
             "sha256=%s status=%s path=%s", it->id, (unsigned long long)rg->offset,
             (unsigned long long)rg->end, (unsigned long long)rg->frames,
             (unsigned long long)it->size, it->sha256, it->status, it->path);
    pt_writer_audit(&r->w, "range_hashed", detail);
}

static int cmp_range_item(const void *key, const void *elem)
{
    uint32_t k = *(const uint32_t *)key, e = ((const struct pt_byte_range *)elem)->item;
    return k < e ? -1 : k > e;
}

static void ingest_one(struct run *r, const struct pt_input *in, uint32_t id)
{
    struct pt_item_rec *it = calloc(1, sizeof *it);
    if (it == NULL) {
        return;
    }
    it->id = id;
    it->linktype = -1;
    r->image = false;
    snprintf(it->path, sizeof it->path, "%s", in->path);
    it->kind = "unknown";
    it->status = "ok";
    char detail[4300];
    if (in->skip != NULL) {
        it->status = "skipped";
        snprintf(it->error, sizeof it->error, "%s", in->skip);
        goto done;
    }
    const struct pt_byte_range *rg =
        r->opt->ranges == NULL ? NULL
                               : bsearch(&id, r->opt->ranges, r->opt->n_ranges,
                                         sizeof *r->opt->ranges, cmp_range_item);
    if (rg != NULL) {
        ingest_range(r, rg, it);
        goto done;
    }
    if (in->n_seg > 1) {
        ingest_segments(r, in, it);
        snprintf(detail, sizeof detail, "item=%u size=%llu sha256=%s status=%s path=%s "
                 "segments=%zu", id, (unsigned long long)it->size, it->sha256, it->status,
                 in->path, in->n_seg);
        pt_writer_audit(&r->w, "input_hashed", detail);
        goto done;
    }
    struct pt_source *src = NULL;
    char err[256] = "";
    if (pt_source_open(in->path, &r->prog.done, &src, err, sizeof err) != PT_OK) {
        it->status = "error";
        snprintf(it->error, sizeof it->error, "%s", err);
        goto done;
    }
    snprintf(detail, sizeof detail, "path=%s size=%llu", in->path, (unsigned long long)in->size);
    pt_writer_audit(&r->w, "input_opened", detail);
    enum pt_input_kind kind = pt_source_kind(src);
    bool gz = pt_source_gzip(src);
    it->mtime = pt_source_mtime_us(src);
    it->status = "reading"; /* the row exists before its anomalies reference it */
    pt_writer_item(&r->w, it);
    it->status = "ok";
    if (kind != PT_KIND_UNKNOWN) {
        static const char *const names[] = {
            [PT_KIND_PCAP] = "pcap", [PT_KIND_PCAP_NS] = "pcap-ns", [PT_KIND_PCAPNG] = "pcapng"};
        it->kind = "capture";
        snprintf(it->format, sizeof it->format, "%s%s", names[kind], gz ? "+gzip" : "");
        read_capture(r, src, NULL, 0, it);
    } else if (r->opt->flows_only) {
        it->status = "skipped";
        snprintf(it->format, sizeof it->format, "%s", gz ? "gzip" : "");
        snprintf(it->error, sizeof it->error,
                 "not a packet capture; files at rest are not analyzed with --flows-only");
    } else {
        ingest_file(r, src, in->path, it);
    }
    char why[300];
    if (pt_source_changed(src, why, sizeof why)) {
        /* what was hashed is what was analyzed (one descriptor), but it is not the file as it
         * is now: say so, so nobody reads the item's hash as the file's */
        anomaly_push(&r->anoms, it->id, 0, 0, PT_ANOM_INPUT_CHANGED_DURING_RUN, why);
    }
    uint64_t size = 0, unread = 0;
    if (pt_source_close(src, it->sha256, &size, &unread) != PT_OK) {
        it->status = "error";
        snprintf(it->error, sizeof it->error, "read error while hashing");
    }
    it->size = size;
    if (r->image && strcmp(it->status, "ok") == 0) {
        const char *one[1] = {in->path};
        ingest_image(r, one, 1, it);
    }
    snprintf(detail, sizeof detail, "item=%u size=%llu sha256=%s status=%s path=%s", id,
             (unsigned long long)size, it->sha256, it->status, in->path);
    pt_writer_audit(&r->w, "input_hashed", detail);
done:
    if (strcmp(it->status, "ok") != 0 && strcmp(it->status, "skipped") != 0) {
        r->res.items_failed++;
    }
    anomaly_flush(&r->anoms);
    pt_writer_item(&r->w, it);
    free(it);
}

/* ---- manifest -------------------------------------------------------------------------------- */

bool pt_signatures_dir(const char *given, char *out, size_t len)
{
    struct stat st;
    if (given != NULL) {
        snprintf(out, len, "%s", given);
        return stat(out, &st) == 0 && S_ISDIR(st.st_mode);
    }
    const char *env = getenv("PHITRACE_SIGNATURES");
    if (env != NULL && env[0] != '\0') {
        snprintf(out, len, "%s", env);
        return stat(out, &st) == 0 && S_ISDIR(st.st_mode);
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
        }
        static const char *const rel[] = {"signatures", "../../signatures", "../share/phitrace/signatures"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            snprintf(out, len, "%s/%s/icd10cm.txt", exe, rel[i]);
            if (stat(out, &st) == 0) {
                snprintf(out, len, "%s/%s", exe, rel[i]);
                return true;
            }
        }
    }
    snprintf(out, len, "%s/signatures", PT_DATADIR);
    return stat(out, &st) == 0 && S_ISDIR(st.st_mode);
}

void pt_print_versions(void)
{
    printf("phitrace %s (commit %s)\n", PT_VERSION, PT_GIT_COMMIT);
    printf("  %s\n", pcap_lib_version());
    printf("  SQLite %s\n", sqlite3_libversion());
    printf("  libmagic %d.%02d\n", magic_version() / 100, magic_version() % 100);
    printf("  libyara %s\n", YR_VERSION);
    printf("  zlib %s\n", zlibVersion());
    printf("  %s\n", OPENSSL_VERSION_TEXT);
}

static void write_manifest(struct run *r, const char *home, const char *start)
{
    const struct pt_options *o = r->opt;
    char buf[1024];
    pt_writer_manifest(&r->w, "tool", "phitrace");
    pt_writer_manifest(&r->w, "tool_version", PT_VERSION);
    pt_writer_manifest(&r->w, "git_commit", PT_GIT_COMMIT);
    pt_writer_manifest(&r->w, "libpcap", pcap_lib_version());
    pt_writer_manifest(&r->w, "sqlite", sqlite3_libversion());
    snprintf(buf, sizeof buf, "%d.%02d", magic_version() / 100, magic_version() % 100);
    pt_writer_manifest(&r->w, "libmagic", buf);
    pt_writer_manifest(&r->w, "libyara", YR_VERSION);
    pt_writer_manifest(&r->w, "zlib", zlibVersion());
    pt_writer_manifest(&r->w, "openssl", OPENSSL_VERSION_TEXT);
    snprintf(buf, sizeof buf, "%d", PT_DB_SCHEMA_VERSION);
    pt_writer_manifest(&r->w, "schema_version", buf);
    pt_writer_manifest(&r->w, "home_net", home);
    pt_writer_manifest(&r->w, "mode", o->flows_only ? "flows-only" : "full");
    snprintf(buf, sizeof buf, "%u", r->n_workers);
    pt_writer_manifest(&r->w, "threads", buf);
    pt_writer_manifest(&r->w, "start_utc", start);
    static const char *const who[] = {"case_id", "examiner", "organisation"};
    const char *const val[] = {o->case_id, o->examiner, o->org};
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        if (val[i] != NULL && val[i][0] != '\0') {
            pt_writer_manifest(&r->w, who[i], val[i]);
        }
    }
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(buf, sizeof buf, "%s %s %s %s", u.nodename, u.sysname, u.release, u.machine);
        pt_writer_manifest(&r->w, "host", buf);
    }
    size_t len = 1;
    for (int i = 0; i < o->argc; i++) {
        len += strlen(o->argv[i]) + 3;
    }
    char *args = malloc(len);
    if (args != NULL) {
        size_t w = 0;
        args[0] = '\0';
        for (int i = 0; i < o->argc; i++) {
            w += (size_t)snprintf(args + w, len - w, "%s'%s'", i ? " " : "", o->argv[i]);
        }
        pt_writer_manifest(&r->w, "arguments", args);
        free(args);
    }
}

/* ---- the run ----------------------------------------------------------------------------- */

/* The case directory. A new one is created 0700 and built in place; an existing one is
 * tightened to 0700 (with a warning) when group or others could enter it. With --force over
 * an existing case, the run builds a sibling, CASE.partial-XXXXXX, and publish_case swaps it
 * in at the end, so the old case stays whole until the new one is (and stays if the run
 * fails). `build` receives the directory the run writes into. */
static pt_status make_case_dir(const struct pt_options *o, char *build, size_t len)
{
    snprintf(build, len, "%s", o->case_dir);
    if (mkdir(o->case_dir, 0700) == 0) {
        return PT_OK;
    }
    struct stat st;
    if (errno != EEXIST || stat(o->case_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        pt_error("cannot create case directory %s: %s", o->case_dir,
                 errno == EEXIST ? "it exists and is not a directory" : strerror(errno));
        return PT_EIO;
    }
    if ((st.st_mode & 077) != 0) {
        if (chmod(o->case_dir, 0700) != 0) {
            pt_error("cannot make case directory %s private (chmod 0700): %s", o->case_dir,
                     strerror(errno));
            return PT_EIO;
        }
        pt_warn("case directory %s was mode %03o; tightened to 0700 (a case holds patient "
                "data)", o->case_dir, (unsigned)(st.st_mode & 0777));
    }
    char dbpath[4300];
    snprintf(dbpath, sizeof dbpath, "%s/evidence.db", o->case_dir);
    if (access(dbpath, F_OK) != 0) {
        if (access(o->case_dir, W_OK) != 0) {
            pt_error("cannot write in case directory %s: %s", o->case_dir, strerror(errno));
            return PT_EIO;
        }
        return PT_OK;
    }
    if (!o->force) {
        pt_error("%s already holds an evidence database; choose a new case directory or "
                 "pass --force to replace it",
                 o->case_dir);
        return PT_EUSAGE;
    }
    size_t n = strlen(o->case_dir);
    while (n > 1 && o->case_dir[n - 1] == '/') {
        n--;
    }
    int w = snprintf(build, len, "%.*s.partial-XXXXXX", (int)n, o->case_dir);
    if (w < 0 || (size_t)w >= len || mkdtemp(build) == NULL) {
        pt_error("cannot create a directory beside %s to build the new case in: %s",
                 o->case_dir, strerror(errno));
        return PT_EIO;
    }
    return PT_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* --force: the case built beside the old one takes its place in one rename (an exchange, so
 * no moment lacks a case), then the old one is removed. */
static pt_status publish_case(const char *build, const char *case_dir)
{
    char old[4300];
    if (renameat2(AT_FDCWD, build, AT_FDCWD, case_dir, RENAME_EXCHANGE) == 0) {
        snprintf(old, sizeof old, "%s", build); /* the exchange left the old case there */
    } else {
        /* a file system without RENAME_EXCHANGE: two renames */
        snprintf(old, sizeof old, "%s.old", build);
        if (rename(case_dir, old) != 0 || rename(build, case_dir) != 0) {
            pt_error("cannot move the new case %s to %s: %s; the new case is left in %s",
                     build, case_dir, strerror(errno), build);
            return PT_EIO;
        }
    }
    if (nftw(old, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        pt_warn("the previous case was replaced, but removing its copy %s failed: %s", old,
                strerror(errno));
    }
    return PT_OK;
}

/* An object the store could not write (disk full, EIO): an anomaly naming it, on the thread
 * that owns the store. The run then ends with the case sealed incomplete (exit 2). */
static void store_failed(void *arg, const struct pt_object_rec *rec)
{
    struct worker *wk = arg;
    char d[200];
    snprintf(d, sizeof d, "%s object '%.100s' (%llu bytes, sha256 %.16s...) could not be written "
             "to the case: %s", rec->protocol[0] ? rec->protocol : "?", rec->name,
             (unsigned long long)rec->size, rec->sha256, strerror(errno));
    anomaly_push(&wk->anoms, rec->item, rec->frame, 0, PT_ANOM_STORE_FAILED, d);
}

/* The completion record, written last: a digest of every table's rows and the SHA-256 of each
 * staged report, sealed into the audit chain; then the reports are moved into place. A case
 * without this row did not finish, and `verify` recomputes both. */
static pt_status seal_case(struct pt_db *db, const char *dir, unsigned reports,
                           const char *incomplete)
{
    char digest[PT_SHA256_HEX], err[512] = "";
    uint64_t rows = 0;
    pt_status rc = pt_db_digest(db, digest, &rows, err, sizeof err);
    if (rc != PT_OK) {
        pt_error("%s", err);
        return rc;
    }
    char detail[1400];
    size_t used = (size_t)snprintf(detail, sizeof detail, "status=%s rows=%llu tables_sha256=%s",
                                   incomplete ? "incomplete" : "complete",
                                   (unsigned long long)rows, digest);
    for (unsigned bit = 1; bit <= PT_REPORT_TXT; bit <<= 1) {
        char path[4400], sha[PT_SHA256_HEX];
        if ((reports & bit) == 0) {
            continue;
        }
        if (!pt_report_staged_path(dir, bit, path, sizeof path) ||
            pt_sha256_file(path, sha, NULL) != PT_OK) {
            pt_error("cannot read back the report %s", path);
            return PT_EIO;
        }
        used += (size_t)snprintf(detail + used, sizeof detail - used, " %s=%s",
                                 pt_report_name(bit), sha);
    }
    if (incomplete != NULL) {
        snprintf(detail + used, sizeof detail - used, " reason=%s", incomplete);
    }
    PT_TRY(pt_db_audit(db, "phitrace " PT_VERSION, "case_sealed", detail));
    rc = pt_report_publish(dir, reports, err, sizeof err);
    if (rc != PT_OK) {
        pt_error("%s", err);
    }
    return rc;
}

static pt_status write_summary(const char *dir, const char *text, size_t len)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/summary.txt", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        pt_error("cannot write %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    size_t w = len ? fwrite(text, 1, len, f) : 0;
    if (fclose(f) != 0 || w != len) {
        pt_error("cannot write %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    return PT_OK;
}

/* After every object is stored and before the PHI stage: the archive password phase. */
static pt_status archive_passwords(struct run *r, const struct pt_options *opt)
{
    struct pt_archive_pw_opts po = {.case_dir = opt->case_dir, .store_id = r->n_workers + 2,
                                    .wordlist = opt->passwords};
    struct pt_archive_pw_result pr;
    char perr[512] = "", note[160];
    pt_status rc = pt_archive_pw_phase(r->w.db, &po, &pr, perr, sizeof perr);
    if (rc != PT_OK) {
        pt_error("%s", perr[0] ? perr : pt_status_str(rc));
    } else if (pr.archives > 0) {
        snprintf(note, sizeof note, "candidates=%u archives=%u opened=%u", pr.candidates,
                 pr.archives, pr.opened);
        pt_db_audit(r->w.db, "phitrace " PT_VERSION, "archive_passwords", note);
    }
    return rc;
}

pt_status pt_analyze(const struct pt_options *user_opt, struct pt_run_result *res)
{
    struct run *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return PT_ENOMEM;
    }
    /* Every file and directory of a case is private whatever the caller's umask: the case
     * holds copies of patient data (objects/), the PHI key and the reports. */
    mode_t saved_umask = umask(077);
    struct pt_options o = *user_opt; /* o.case_dir: where this run builds (see make_case_dir) */
    const struct pt_options *opt = &o;
    r->opt = opt;
    pt_status rc = PT_OK;
    struct pt_cidr_set home = {0};
    struct pt_input_list inputs = {0};
    char err[512] = "", dbpath[4400], start[32], homes[512], build[4200], final_abs[4200];
    char incomplete[300] = "";
    bool writer_started = false, progress_started = false, sealed = false;
    unsigned started_workers = 0;
    build[0] = '\0';

    const char *home_text = opt->home_net ? opt->home_net : PT_HOME_NET_DEFAULT;
    if (pt_cidr_set_parse(home_text, &home, err, sizeof err) != PT_OK) {
        pt_error("--home-net: %s", err);
        rc = PT_EUSAGE;
        goto out;
    }
    pt_cidr_set_str(&home, homes, sizeof homes);
    rc = opt->merge != NULL ? PT_OK
                            : pt_inputs_expand(opt->inputs, opt->n_inputs, opt->case_dir, &inputs,
                                               err, sizeof err);
    if (rc != PT_OK) {
        pt_error("%s", err[0] ? err : "cannot list the inputs");
        goto out;
    }
    PT_TRY_OUT(make_case_dir(user_opt, build, sizeof build));
    if (realpath(user_opt->case_dir, final_abs) == NULL) {
        snprintf(final_abs, sizeof final_abs, "%s", user_opt->case_dir);
    }
    o.case_dir = build;
    if (opt->prepare != NULL) {
        PT_TRY_OUT(opt->prepare(opt->prepare_arg, build));
    }
    snprintf(dbpath, sizeof dbpath, "%s/evidence.db", build);
    rc = pt_db_create(dbpath, &r->w.db, err, sizeof err);
    if (rc != PT_OK) {
        pt_error("%s", err);
        goto out;
    }
    pt_utc_now(start);

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    r->n_workers = opt->threads ? opt->threads : (cores > 0 ? (unsigned)cores : 1);
    PT_TRY_OUT(pt_queue_init(&r->w.q, 256));
    if (pthread_create(&r->w.th, NULL, pt_writer_main, &r->w) != 0) {
        rc = PT_EINTERNAL;
        goto out;
    }
    writer_started = true;
    snprintf(err, sizeof err, "case=%.400s inputs=%zu", final_abs, inputs.n);
    pt_writer_audit(&r->w, "analysis_started", err);
    write_manifest(r, homes, start);
    pt_writer_manifest(&r->w, "case_dir", final_abs);
    for (size_t i = 0; opt->manifest != NULL && opt->manifest[i] != NULL; i += 2) {
        pt_writer_manifest(&r->w, opt->manifest[i], opt->manifest[i + 1]);
    }
    if (!opt->flows_only && !opt->no_phi) {
        char sig[4096];
        struct pt_phi_config_file files[8];
        size_t nf = 0;
        if (!pt_signatures_dir(opt->signatures, sig, sizeof sig)) {
            pt_error("no signatures directory found; give one with --signatures DIR (the "
                     "signatures/ folder of phitrace)");
            rc = PT_EUSAGE;
            goto out;
        }
        if (pt_phi_config_load(sig, files, 8, &nf, err, sizeof err) != PT_OK) {
            pt_error("%s", err);
            rc = PT_EUSAGE;
            goto out;
        }
        pt_writer_manifest(&r->w, "signatures_dir", sig);
        for (size_t i = 0; i < nf; i++) {
            char k[96];
            snprintf(k, sizeof k, "signature_sha256:%.63s", files[i].name);
            pt_writer_manifest(&r->w, k, files[i].sha256);
        }
        pt_writer_manifest(&r->w, "keep_phi", opt->keep_phi ? "yes" : "no");
        const char *dirs[2] = {sig, opt->rules};
        struct pt_yara_file yf[64];
        size_t ny = 0;
        if (pt_yara_load(dirs, 2, opt->quiet ? NULL : stderr, yf, 64, &ny, &r->yara, err,
                         sizeof err) != PT_OK) {
            pt_error("YARA rules: %s (check them with: phitrace rules check DIR)", err);
            rc = PT_EUSAGE;
            goto out;
        }
        for (size_t i = 0; i < ny; i++) {
            /* shipped rules by file name (the install path is not evidence), --rules by path */
            char k[600];
            size_t sl = strlen(sig);
            const char *name = strncmp(yf[i].path, sig, sl) == 0 && yf[i].path[sl] == '/'
                                   ? yf[i].path + sl + 1
                                   : yf[i].path;
            snprintf(k, sizeof k, "rules_sha256:%.500s", name);
            pt_writer_manifest(&r->w, k, yf[i].sha256);
        }
        snprintf(err, sizeof err, "%u", pt_yara_rule_count(r->yara));
        pt_writer_manifest(&r->w, "yara_rules", err);
        err[0] = '\0';
    }

    anomaly_sink_init(&r->anoms, &r->w);
    pt_memcap_init(&r->memcap, opt->memcap ? opt->memcap : PT_MEMCAP_DEFAULT);
    r->dec = pt_decoder_new(decode_anomaly, &r->anoms);
    r->workers = calloc(r->n_workers, sizeof *r->workers);
    if (r->dec == NULL || r->workers == NULL ||
        pt_unpack_run_new(PT_UNPACK_BUDGET_TOP, PT_UNPACK_BUDGET_CASE, &r->unpack) != PT_OK) {
        rc = PT_ENOMEM;
        goto out;
    }
    for (unsigned i = 0; i < r->n_workers; i++) {
        struct worker *wk = &r->workers[i];
        wk->idx = i;
        wk->w = &r->w;
        anomaly_sink_init(&wk->anoms, &r->w);
        wk->out = (struct pt_rowbuf){.kind = PT_W_FLOWS, .cap = 1024};
        wk->sev = (struct pt_rowbuf){.kind = PT_W_STREAM_EVENTS, .cap = 256};
        wk->objs = (struct pt_rowbuf){.kind = PT_W_OBJECTS, .cap = 256};
        static const size_t rec_batch[PT_REC_COUNT] = {
#define PT_RECORD(name, NAME, table, batch) [PT_REC_##NAME] = batch,
#include "analyze/records.def"
#undef PT_RECORD
        };
        for (int k = 0; k < PT_REC_COUNT; k++) {
            wk->rec[k] = (struct pt_rowbuf){.kind = (enum pt_writer_kind)(PT_W_REC + k),
                                            .cap = rec_batch[k]};
        }
        wk->app = (struct pt_app_ctx){.arg = wk, .object = worker_object, .emit = worker_record,
                                      .unpack = r->unpack, .anomaly = worker_app_anomaly};
        if (pt_objstore_new(opt->case_dir, i, &wk->app.store) != PT_OK) {
            pt_error("cannot create the object store under %s/objects", opt->case_dir);
            rc = PT_EIO;
            goto out;
        }
        pt_objstore_on_fail(wk->app.store, store_failed, wk);
        wk->flows = pt_flow_table_new(&home, opt->max_flows, worker_emit, worker_anomaly, wk);
        if (wk->flows != NULL && opt->flows_only) {
            pt_flow_set_flows_only(wk->flows);
        } else if (wk->flows != NULL) {
            pt_flow_set_stream_events(wk->flows, worker_stream_event);
            pt_flow_set_stream_ops(wk->flows, &pt_app_stream_ops, &wk->app);
        }
        if (wk->flows != NULL) {
            pt_flow_set_memcap(wk->flows, &r->memcap);
        }
        if (wk->flows == NULL || pt_queue_init(&wk->full, PT_RING_SLOTS) != PT_OK ||
            pt_queue_init(&wk->free, PT_RING_SLOTS) != PT_OK) {
            rc = PT_ENOMEM;
            goto out;
        }
        for (unsigned k = 0; k < PT_RING_SLOTS; k++) {
            struct batch *b = calloc(1, sizeof *b);
            if (b == NULL) {
                rc = PT_ENOMEM;
                goto out;
            }
            pt_queue_push(&wk->free, b);
        }
        wk->cur = pt_queue_pop(&wk->free);
        if (pthread_create(&wk->th, NULL, worker_main, wk) != 0) {
            rc = PT_EINTERNAL;
            goto out;
        }
        started_workers++;
    }

    r->files.idx = r->n_workers;
    r->files.w = &r->w;
    anomaly_sink_init(&r->files.anoms, &r->w);
    r->files.objs = (struct pt_rowbuf){.kind = PT_W_OBJECTS, .cap = 64};
    r->files.app = (struct pt_app_ctx){.arg = &r->files, .object = worker_object,
                                       .unpack = r->unpack, .anomaly = worker_app_anomaly};
    if (pt_objstore_new(opt->case_dir, r->n_workers, &r->files.app.store) != PT_OK) {
        pt_error("cannot create the object store under %s/objects", opt->case_dir);
        rc = PT_EIO;
        goto out;
    }
    pt_objstore_on_fail(r->files.app.store, store_failed, &r->files);
    r->prog.total = inputs.total_bytes;
    r->prog.enabled = (opt->progress && !opt->quiet) || opt->progress_json;
    r->prog.json = opt->progress_json;
    r->prog.n_inputs = inputs.n;
    clock_gettime(CLOCK_MONOTONIC, &r->prog.start);
    if (r->prog.enabled && pthread_create(&r->prog.th, NULL, progress_main, &r->prog) == 0) {
        progress_started = true;
    }
    for (size_t i = 0; i < inputs.n; i++) {
        if (atomic_load(&r->w.failed) != PT_OK) {
            break;
        }
        uint32_t id = (uint32_t)(i + 1);
        if (opt->only_items != NULL &&
            bsearch(&id, opt->only_items, opt->n_only, sizeof id, cmp_item_id) == NULL) {
            continue; /* another shard's */
        }
        ingest_one(r, &inputs.v[i], id);
        r->res.items++;
        atomic_store(&r->prog.inputs, r->res.items);
    }
    pt_decoder_flush(r->dec, 0);
    anomaly_flush(&r->anoms);

out:
    for (unsigned i = 0; i < started_workers; i++) {
        /* a shard ends its open flows "eof" whatever their age: whether the whole run would
         * have timed them out depends on the other shards' packets, so the merge decides */
        worker_ship(&r->workers[i], true, opt->shard ? 0 : r->max_ts);
    }
    for (unsigned i = 0; i < started_workers; i++) {
        pthread_join(r->workers[i].th, NULL);
    }
    for (unsigned i = 0; r->workers != NULL && i < r->n_workers; i++) {
        r->res.objects_lost += pt_objstore_failures(r->workers[i].app.store);
    }
    r->res.objects_lost += pt_objstore_failures(r->files.app.store);
    if (r->memcap.evicted_flows > 0) {
        pt_warn("memory cap of %llu MiB over per-flow state reached: %llu flow(s) ended early in "
                "%llu burst(s) (limit.memcap anomalies); the state peaked at %llu MiB",
                (unsigned long long)(r->memcap.max >> 20),
                (unsigned long long)r->memcap.evicted_flows,
                (unsigned long long)r->memcap.bursts,
                (unsigned long long)(r->memcap.peak >> 20));
    }
    if (r->res.objects_lost > 0) {
        snprintf(incomplete, sizeof incomplete,
                 "%llu object(s) could not be written to the case (disk full or I/O error; see "
                 "the store.failed anomalies), so their content was not analyzed",
                 (unsigned long long)r->res.objects_lost);
    }
    if (progress_started) {
        atomic_store(&r->prog.stop, true);
        pthread_join(r->prog.th, NULL);
        progress_draw(&r->prog, true);
    }
    if (writer_started) {
        pt_queue_close(&r->w.q);
        pthread_join(r->w.th, NULL);
        if (atomic_load(&r->w.failed) != PT_OK && rc == PT_OK) {
            rc = (pt_status)atomic_load(&r->w.failed);
            pt_error("evidence database: %s", r->w.err);
        }
        r->res.flows = r->w.flows;
        r->res.anomalies = r->w.anomalies;
        if (rc == PT_OK && opt->merge != NULL) {
            rc = opt->merge(opt->merge_arg, r->w.db, opt->case_dir, &r->res);
        }
        if (rc == PT_OK && opt->shard) {
            /* the merge ends the flows still open here as the whole run would (idle or eof) */
            snprintf(err, sizeof err, "%lld", (long long)r->max_ts);
            pt_db_manifest_set(r->w.db, "shard_max_ts", err);
        }
        /* stage times go to the manifest, so `make bench` can show what each costs */
        struct timespec t0, t1, t2, t3;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        progress_json(&r->prog, "content", 0, 1, NULL);
        /* connections read from logs become flows (or join the captured ones) before the
         * heuristics read the flows */
        const bool whole = !opt->shard; /* a shard stops here (scale/scale.h) */
        if (rc == PT_OK && whole) {
            struct pt_logflow_stats lf;
            char lerr[256] = "";
            rc = pt_db_log_flows(r->w.db, &home, &lf, lerr, sizeof lerr);
            if (rc != PT_OK) {
                pt_error("logs to flows: %s", lerr[0] ? lerr : pt_status_str(rc));
            } else if (lf.logs > 0) {
                snprintf(err, sizeof err, "logs=%llu matched=%llu created=%llu blocked=%llu "
                         "untimed=%llu", (unsigned long long)lf.logs,
                         (unsigned long long)lf.matched, (unsigned long long)lf.created,
                         (unsigned long long)lf.blocked, (unsigned long long)lf.untimed);
                pt_db_audit(r->w.db, "phitrace " PT_VERSION, "log_flows", err);
            }
        }
        /* DNS tunnel payloads become objects before the PHI stage reads them all */
        if (rc == PT_OK && whole && !opt->flows_only) {
            unsigned tun = 0;
            char terr[256] = "";
            rc = pt_tunnel_phase(r->w.db, opt->case_dir, r->n_workers + 1, &tun, terr,
                                 sizeof terr);
            if (rc != PT_OK) {
                pt_error("%s", terr[0] ? terr : pt_status_str(rc));
            }
        }
        /* encrypted archives retried with the passwords the evidence holds (archive_pw.h) */
        if (rc == PT_OK && whole && !opt->flows_only) {
            rc = archive_passwords(r, opt);
        }
        rc = rc == PT_OK && whole && !opt->flows_only ? pt_diskart_run(r->w.db, opt->case_dir) : rc;
        /* the PHI stage reads the objects the writer stored */
        if (rc == PT_OK && whole && !opt->flows_only && !opt->no_phi) {
            struct pt_phi_options po = {.case_dir = opt->case_dir, .threads = r->n_workers,
                                        .keep_phi = opt->keep_phi, .quiet = opt->quiet,
                                        .yara = r->yara};
            struct pt_phi_result pr;
            char perr[512] = "";
            rc = pt_phi_phase(r->w.db, &po, &pr, perr, sizeof perr);
            if (rc != PT_OK) {
                pt_error("PHI stage: %s", perr[0] ? perr : pt_status_str(rc));
            } else {
                r->res.phi_hits = pr.hits;
                r->res.individuals = pr.individuals;
                r->res.individuals_outbound = pr.individuals_outbound;
                r->res.yara_matches = pr.yara_matches;
                snprintf(err, sizeof err, "objects=%llu records=%llu hits=%llu individuals=%llu",
                         (unsigned long long)pr.objects, (unsigned long long)pr.records,
                         (unsigned long long)pr.hits, (unsigned long long)pr.individuals);
                pt_db_audit(r->w.db, "phitrace " PT_VERSION, "phi_scanned", err);
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        progress_json(&r->prog, "verdict", 0, 1, NULL);
        if (rc == PT_OK && whole) {
            char sig[4096], verr[512] = "";
            struct pt_verdict_result vr;
            if (!pt_signatures_dir(opt->signatures, sig, sizeof sig)) {
                pt_error("no signatures directory found (heuristics.conf); give one with "
                         "--signatures DIR");
                rc = PT_EUSAGE;
            } else if ((rc = pt_verdict_run(r->w.db, sig, &vr, verr, sizeof verr)) != PT_OK) {
                pt_error("verdict stage: %s", verr[0] ? verr : pt_status_str(rc));
            } else {
                r->res.verdict = (int)vr.overall;
                snprintf(err, sizeof err, "verdict=%s findings=%u events=%u",
                         pt_verdict_name(vr.overall), vr.findings, vr.events);
                pt_db_audit(r->w.db, "phitrace " PT_VERSION, "verdict", err);
            }
        }
        if (rc == PT_OK && whole && opt->geoip != NULL) {
            char gerr[600] = "";
            unsigned answers = 0;
            rc = pt_geoip_annotate(r->w.db, opt->geoip, &answers, gerr, sizeof gerr);
            if (rc != PT_OK) {
                pt_error("%s", gerr);
            } else {
                snprintf(err, sizeof err, "answers=%u file=%.400s", answers, opt->geoip);
                pt_db_audit(r->w.db, "phitrace " PT_VERSION, "geoip", err);
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &t2);
        progress_json(&r->prog, "report", 0, 1, NULL);
        char end[32];
        pt_utc_now(end);
        pt_db_manifest_set(r->w.db, "end_utc", end);
        snprintf(err, sizeof err, "%.3f", (double)(t0.tv_sec - r->prog.start.tv_sec) +
                                             (double)(t0.tv_nsec - r->prog.start.tv_nsec) / 1e9);
        pt_db_manifest_set(r->w.db, "stage_seconds:capture", err);
        snprintf(err, sizeof err, "%.3f", (double)(t1.tv_sec - t0.tv_sec) +
                                             (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        pt_db_manifest_set(r->w.db, "stage_seconds:content", err);
        snprintf(err, sizeof err, "%.3f", (double)(t2.tv_sec - t1.tv_sec) +
                                             (double)(t2.tv_nsec - t1.tv_nsec) / 1e9);
        pt_db_manifest_set(r->w.db, "stage_seconds:verdict", err);
        snprintf(err, sizeof err, "items=%llu packets=%llu status=%s",
                 (unsigned long long)r->res.items, (unsigned long long)r->res.packets,
                 rc != PT_OK ? pt_status_str(rc) : incomplete[0] ? "incomplete" : "completed");
        pt_db_audit(r->w.db, "phitrace " PT_VERSION, "analysis_finished", err);
        if (rc == PT_OK) {
            char rerr[512] = "";
            const unsigned all = whole ? PT_REPORT_JSON | PT_REPORT_HTML | PT_REPORT_TXT : 0;
            rc = pt_report_stage(r->w.db, opt->case_dir, all, incomplete[0] ? incomplete : NULL,
                                 rerr, sizeof rerr);
            if (rc != PT_OK) {
                pt_error("%s", rerr);
            }
            clock_gettime(CLOCK_MONOTONIC, &t3);
            r->res.report_seconds = (double)(t3.tv_sec - t2.tv_sec) +
                                    (double)(t3.tv_nsec - t2.tv_nsec) / 1e9;
            if (rc == PT_OK) {
                rc = seal_case(r->w.db, opt->case_dir, all, incomplete[0] ? incomplete : NULL);
                sealed = rc == PT_OK;
            }
        }
    }
    if (r->workers != NULL) {
        for (unsigned i = 0; i < r->n_workers; i++) {
            struct worker *wk = &r->workers[i];
            pt_flow_table_free(wk->flows);
            if (wk->full.slots != NULL) {
                struct batch *b;
                pt_queue_close(&wk->free);
                while ((b = pt_queue_pop(&wk->free)) != NULL) {
                    free(b);
                }
                pt_queue_close(&wk->full);
                while ((b = pt_queue_pop(&wk->full)) != NULL) {
                    free(b);
                }
            }
            free(wk->cur);
            free(wk->out.rows);
            free(wk->sev.rows);
            free(wk->objs.rows);
            for (int k = 0; k < PT_REC_COUNT; k++) {
                free(wk->rec[k].rows);
            }
            pt_ftp_table_free(wk->app.ftp);
            pt_objstore_free(wk->app.store);
            free(wk->anoms.rb.rows);
            pt_queue_fini(&wk->full);
            pt_queue_fini(&wk->free);
        }
        free(r->workers);
    }
    free(r->anoms.rb.rows);
    free(r->files.objs.rows);
    free(r->logs);
    free(r->files.anoms.rb.rows);
    pt_objstore_free(r->files.app.store);
    pt_unpack_run_free(r->unpack);
    pt_phi_config_free();
    pt_yara_free(r->yara);
    /* summary.txt names the completion record as the chain head: it is the run's last
     * write, after the database is checkpointed and closed, so a case whose summary.txt is
     * there is whole (rendered first, while the database is open). */
    char *summary = NULL;
    size_t summary_len = 0;
    if (r->w.db != NULL && rc == PT_OK) {
        FILE *m = open_memstream(&summary, &summary_len);
        rc = m == NULL ? PT_ENOMEM : pt_summary_render(r->w.db, m);
        if (m != NULL && fclose(m) != 0 && rc == PT_OK) {
            rc = PT_ENOMEM;
        }
    }
    pt_db_close(r->w.db);
    if (rc == PT_OK) {
        rc = write_summary(opt->case_dir, summary, summary_len);
    }
    free(summary);
    if (rc == PT_OK && sealed && strcmp(build, user_opt->case_dir) != 0) {
        if (incomplete[0] != '\0') {
            pt_error("the new case is incomplete, so it does not replace %s; it is in %s",
                     user_opt->case_dir, build);
        } else {
            rc = publish_case(build, user_opt->case_dir);
        }
    } else if (rc != PT_OK && build[0] != '\0' && user_opt->case_dir != NULL &&
               strcmp(build, user_opt->case_dir) != 0) {
        pt_error("the run failed; %s is unchanged (the partial new case is in %s)",
                 user_opt->case_dir, build);
    }
    r->res.incomplete = incomplete[0] != '\0';
    progress_json(&r->prog, "done", 1, 1, rc != PT_OK ? "failed" : r->res.incomplete ? "incomplete"
                                                                                    : "completed");
    umask(saved_umask);
    pt_queue_fini(&r->w.q);
    pt_decoder_free(r->dec);
    pt_inputs_fini(&inputs);
    pt_cidr_set_fini(&home);
    if (res != NULL) {
        *res = r->res;
    }
    free(r);
    return rc;
}
