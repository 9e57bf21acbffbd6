/*
 * reader.c - the reader thread's side of the packet stage (see reader.h).
 */
#include "reader.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include "core/limits.h"
#include "core/sha256.h"
#include "ingest/capture.h"
#include "scale/scale.h"
#include "ingest/evtx.h"
#include "ingest/image.h"
#include "ingest/logtime.h"
#include "ingest/nfdump.h"
#include "ingest/sniff.h"
#include "phi/phase.h"
#include "store/disk.h"

/* ---- logs read as records (ingest/logparse.h): rows to the writer as they are read ---- */

struct logsink {
    struct pt_logparse parse;
    struct pt_reader *r;
    struct pt_rowbuf rb[PT_LOGREC_COUNT]; /* by enum pt_logrec_kind */
};

static void log_row(void *arg, enum pt_logrec_kind kind, const void *rec)
{
    struct logsink *ls = arg;
    if (!pt_rowbuf_add(ls->r->w, &ls->rb[kind], rec)) {
        ls->r->objects_lost++; /* counted like a lost object: the case is incomplete */
    }
}

static void log_anomaly(void *arg, uint64_t offset, enum pt_anom kind, const char *detail)
{
    struct logsink *ls = arg;
    pt_anom_sink_push(&ls->r->anoms, ls->parse.item, 0, offset, kind, detail);
}

/* The case key (CASE/phi.key, made now when the PHI stage has not made it yet) as an HMAC
 * key, for the patients of IHE ATNA audit messages: made on the first audit log; NULL (with
 * an anomaly: the messages are read, their patients not counted) when the key cannot be had. */
static struct pt_hmac *patient_mac(struct pt_reader *r, uint32_t item)
{
    if (r->patient_mac == NULL && !r->patient_mac_failed) {
        uint8_t key[32];
        char err[300] = "";
        if (pt_phi_key(r->opt->case_dir, key, err, sizeof err) == PT_OK) {
            r->patient_mac = pt_hmac_new(key, sizeof key);
        }
        OPENSSL_cleanse(key, sizeof key);
        if (r->patient_mac == NULL) {
            char d[400];
            snprintf(d, sizeof d, "no case key for the patients of audit messages: %s",
                     err[0] != '\0' ? err : "out of memory");
            pt_anom_sink_push(&r->anoms, item, 0, 0, PT_ANOM_LOG_ATNA_NO_KEY, d);
            r->patient_mac_failed = true;
        }
    }
    return r->patient_mac;
}

/* Start reading the file as a log of format `fmt`; NULL when it is not read as records. */
static struct pt_logparse *log_begin(struct pt_reader *r, enum pt_logfmt fmt, uint32_t item,
                                     int64_t mtime_us)
{
    if (fmt == PT_LOGFMT_NONE) {
        return NULL;
    }
    if (r->logs == NULL && (r->logs = calloc(1, sizeof *r->logs)) != NULL) {
        static const enum pt_writer_kind k[PT_LOGREC_COUNT] = {
            PT_W_LOG_CONN, PT_W_LOG_DNS, PT_W_LOG_HTTP, PT_W_LOG_XFER, PT_W_LOG_WINEVT,
            PT_W_LOG_AUDIT, PT_W_LOG_AUDIT_PATIENT};
        /* batches of about 64 KiB, whatever a row's size (an HTTP row is 1.8 KB): the
         * writer's queue holds up to 256 of them while SQLite catches up */
        static const size_t size[PT_LOGREC_COUNT] = {
            sizeof(struct pt_logconn_rec), sizeof(struct pt_logdns_rec),
            sizeof(struct pt_loghttp_rec), sizeof(struct pt_logxfer_rec),
            sizeof(struct pt_logwinevt_rec), sizeof(struct pt_logaudit_rec),
            sizeof(struct pt_logaudit_patient_rec)};
        for (size_t i = 0; i < PT_LOGREC_COUNT; i++) {
            size_t cap = (64u << 10) / size[i];
            r->logs->rb[i] = (struct pt_rowbuf){.kind = k[i], .cap = cap < 16 ? 16 : cap};
        }
        r->logs->r = r;
    }
    if (r->logs == NULL) {
        return NULL;
    }
    pt_logparse_init(&r->logs->parse, fmt, item, mtime_us, log_row, log_anomaly, r->logs);
    if (fmt == PT_LOGFMT_ATNA) {
        r->logs->parse.mac = patient_mac(r, item);
        r->logs->parse.keep_ids = r->opt->keep_phi;
    }
    return &r->logs->parse;
}

static void log_end(struct pt_reader *r, const char *path)
{
    struct logsink *ls = r->logs;
    pt_logparse_end(&ls->parse);
    struct pt_logsource_rec src = {.item = ls->parse.item, .format = pt_logfmt_name(ls->parse.fmt),
                                   .st = ls->parse.st};
    snprintf(src.path, sizeof src.path, "%s", path);
    struct pt_rowbuf one = {.kind = PT_W_LOG_SOURCE, .cap = 1};
    for (size_t i = 0; i < PT_LOGREC_COUNT; i++) {
        pt_rowbuf_flush(r->w, &ls->rb[i]);
    }
    pt_rowbuf_add(r->w, &one, &src);
}

/* The span of a log's line times into its item (several segments widen it), and what was
 * assumed to read them. */
static void log_window(struct pt_reader *r, struct pt_item_rec *it, const struct pt_logtime *lt,
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
        pt_anom_sink_push(&r->anoms, it->id, 0, 0, PT_ANOM_INPUT_TIME_ASSUMED, note);
    }
}

/* What a file at rest is read as besides an object: a text log gives the window of time the
 * evidence covers (logtime.h) and, in the formats logparse.h reads, records. A gzip file
 * (a rotated log) is inflated on the way, so conn.log.gz is read as conn.log; what it
 * inflates to is bounded by deflate's own ratio, past which the log is not read further. */
struct logfeed {
    bool first, is_log, gz, gz_stop, gz_member_end;
    bool nfcapd; /* read after the file, through nfdump (ingest/nfdump.h) */
    bool evtx;   /* read after the file, through the libevtx reader (ingest/evtx.h) */
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

static void logfeed_text(struct pt_reader *r, struct logfeed *f, const uint8_t *b, size_t n)
{
    if (f->first) {
        const char *ev = pt_sniff_evidence(b, n);
        f->is_log = ev != NULL && strncmp(ev, "log:", 4) == 0 && strcmp(ev, "log:evtx") != 0 &&
                    strcmp(ev, "log:nfcapd") != 0;
        f->nfcapd = !f->gz && ev != NULL && strcmp(ev, "log:nfcapd") == 0;
        f->evtx = !f->gz && ev != NULL && strcmp(ev, "log:evtx") == 0;
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

static void logfeed_stop(struct pt_reader *r, struct logfeed *f, enum pt_anom kind, const char *why)
{
    f->gz_stop = true;
    if (f->is_log) {
        pt_anom_sink_push(&r->anoms, f->item, 0, f->raw_in, kind, why);
    }
}

static void logfeed_raw(struct pt_reader *r, struct logfeed *f, const uint8_t *b, size_t n)
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

static void nfcapd_read(struct pt_reader *r, struct logfeed *f, struct pt_item_rec *it, const char *path)
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
        pt_anom_sink_push(&r->anoms, f->item, 0, 0, kind[st], why);
    }
    pt_logtime_end(&c.lt);
    log_window(r, it, &c.lt, path);
    if (c.lp != NULL && (st == PT_NFDUMP_OK || c.lp->st.lines > 0)) {
        log_end(r, path);
    }
}

/* A Windows .evtx file: the libevtx reader's lines to the EVTX rows (ingest/evtx.h); what
 * was read before a crash or a limit is kept, and the stop is an anomaly. */
static void evtx_feed(void *arg, const uint8_t *b, size_t n)
{
    pt_logparse_feed(arg, b, n);
}

static void evtx_read(struct pt_reader *r, struct logfeed *f, struct pt_item_rec *it, const char *path)
{
    struct pt_logparse *lp = log_begin(r, PT_LOGFMT_EVTX, f->item, f->mtime);
    if (lp == NULL) {
        return;
    }
    char why[300];
    if (pt_evtx_read(path, evtx_feed, lp, why, sizeof why) != PT_EVTX_OK) {
        char d[500];
        snprintf(d, sizeof d, "%s (%llu record(s) read before)", why,
                 (unsigned long long)(lp->st.records + lp->st.other));
        pt_anom_sink_push(&r->anoms, f->item, 0, 0, PT_ANOM_LOG_EVTX_READER, d);
    }
    pt_evtx_end(lp);
    struct pt_logtime lt = lp->lt;
    log_window(r, it, &lt, path);
    log_end(r, path);
}

static void logfeed_end(struct pt_reader *r, struct logfeed *f, struct pt_item_rec *it, const char *path)
{
    if (f->nfcapd) {
        nfcapd_read(r, f, it, path);
    }
    if (f->evtx) {
        evtx_read(r, f, it, path);
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

/* SHA-256 of the first `size` bytes of `path` (an object cut by a read error, which the
 * input's digest does not cover). */
static bool prefix_sha256(const char *path, uint64_t size, char hex[PT_SHA256_HEX])
{
    FILE *f = fopen(path, "rb");
    struct pt_sha256 *h = f != NULL ? pt_sha256_new() : NULL;
    static uint8_t buf[1 << 16];
    uint64_t left = size;
    while (h != NULL && left > 0) {
        size_t got = fread(buf, 1, left < sizeof buf ? (size_t)left : sizeof buf, f);
        if (got == 0) {
            break;
        }
        pt_sha256_update(h, buf, got);
        left -= got;
    }
    bool ok = h != NULL && left == 0;
    if (ok) {
        uint8_t dig[PT_SHA256_LEN];
        pt_sha256_final(h, dig);
        pt_hex(dig, sizeof dig, hex);
    }
    pt_sha256_free(h);
    if (f != NULL) {
        fclose(f);
    }
    return ok;
}

/* A file at rest (not a capture): its bytes become an object, unpacked like any other. They
 * are read through the source that hashes them (one descriptor, one pass), so the object is
 * exactly the bytes the item's SHA-256 covers even when the file changes meanwhile. */
static void ingest_file(struct pt_reader *r, struct pt_source *src, const char *path,
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
    /* a link is hashed once: the object takes the input's SHA-256 (the same bytes, one
     * descriptor) rather than digesting them a second time */
    bool link = !r->opt->copy_inputs && realpath(path, target) != NULL;
    struct pt_obj *o = link ? pt_obj_open_link_prehashed(r->files.app.store, &meta, target)
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
    char hex[PT_SHA256_HEX] = "";
    bool stored = !link ? pt_obj_close(o, ok, &rec)
                        : pt_obj_close_digest(o, ok, (ok && pt_source_digest(src, hex)) ||
                                                         prefix_sha256(target, pt_obj_size(o), hex)
                                                     ? hex : NULL, &rec);
    if (!stored) {
        it->status = "error";
        snprintf(it->error, sizeof it->error, "cannot store the object file in the case");
        pt_anom_sink_flush(&r->files.anoms);
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
    pt_anom_sink_flush(&r->files.anoms);
}


/* A packet capture: its frames decoded and handed to the workers. */
static void capture_view(void *arg, const struct pt_frame *f, const struct pt_view *v, uint8_t idx)
{
    struct pt_reader *r = arg;
    if (r->opt->keep_view == NULL || r->opt->keep_view(r->opt->keep_arg, v)) {
        pt_dispatch_view(r->dispatch, f, v, idx);
    }
}

static void capture_anomaly(void *arg, uint32_t item, uint64_t frame, enum pt_anom kind,
                            const char *detail)
{
    struct pt_reader *r = arg;
    pt_anom_sink_push(&r->anoms, item, frame, 0, kind, detail);
}

/* A capture through `src`'s stream, or (src NULL) through `fp`, a byte range of one
 * (scale/split.c) whose frames are numbered from `base` + 1. */
static void read_capture(struct pt_reader *r, struct pt_source *src, FILE *fp, uint64_t base,
                         struct pt_item_rec *it)
{
    struct pt_capture_sink sink = {.view = capture_view, .anomaly = capture_anomaly, .arg = r};
    struct pt_capture_result cr;
    pt_capture_read(src, fp, base, it->id, r->dec, &sink, &cr);
    it->linktype = cr.linktype;
    it->linktype_name = cr.linktype_name;
    it->packets = cr.packets;
    if (cr.packets > 0) {
        it->first_ts = cr.first_ts;
        it->last_ts = cr.last_ts;
        it->time_source = "packets";
        r->max_ts = cr.last_ts > r->max_ts ? cr.last_ts : r->max_ts;
    }
    if (cr.status != NULL) {
        it->status = cr.status;
        memcpy(it->error, cr.error, sizeof it->error);
    }
    r->packets += cr.packets;
}

static void ingest_image(struct pt_reader *r, const char *const *paths, size_t n,
                         struct pt_item_rec *it);

/* The segments of a split image: one item whose SHA-256 and size are over all of them in
 * order, one evidence_segment row (and audit row) per file with its own hash, and one object
 * per file, read in place like any file at rest (a record cut at a segment's end is read in
 * two pieces). */
static void ingest_segments(struct pt_reader *r, const struct pt_input *in, struct pt_item_rec *it)
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
    pt_writer_item(r->w, it);
    it->status = "ok";
    char detail[4400], format[sizeof it->format] = "";
    uint64_t total = 0;
    bool hashed = true;
    for (size_t k = 0; k < in->n_seg; k++) {
        struct pt_segment_rec seg = {.item = it->id, .seq = (uint32_t)(k + 1)};
        snprintf(seg.path, sizeof seg.path, "%s", in->seg[k]);
        struct pt_source *src = NULL;
        char err[256] = "";
        if (pt_source_open_hashing(in->seg[k], r->done, whole, &src, err, sizeof err) !=
            PT_OK) {
            it->status = "error";
            snprintf(it->error, sizeof it->error, "segment %zu (%s): %s", k + 1, in->seg[k], err);
            hashed = false;
            break;
        }
        snprintf(detail, sizeof detail, "path=%s size=%llu segment=%zu", in->seg[k],
                 (unsigned long long)in->seg_size[k], k + 1);
        pt_writer_audit(r->w, "input_opened", detail);
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
            pt_anom_sink_push(&r->anoms, it->id, 0, 0, PT_ANOM_INPUT_CHANGED_DURING_RUN, why);
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
        pt_writer_audit(r->w, "segment_hashed", detail);
        pt_writer_row(r->w, PT_W_SEGMENT, &seg, sizeof seg);
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
        pt_anom_sink_push(&r->anoms, it->id, 0, 0, PT_ANOM_INPUT_SEGMENT_MISSING, note);
    }
}

/* ---- disk images (issue 15): their files, read by libtsk in a child process ------------------ */

struct img_ctx {
    struct pt_reader *r;
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
    pt_writer_row(x->r->w, PT_W_DISK_IMAGE, &m, sizeof m);
    char detail[700];
    snprintf(detail, sizeof detail, "item=%u media_size=%llu verified=%s stored_md5=%s md5=%s "
             "stored_sha1=%s sha1=%s media_sha256=%s", m.item, (unsigned long long)m.media_size,
             m.verified, m.stored_md5, m.md5, m.stored_sha1, m.sha1, m.sha256);
    pt_writer_audit(x->r->w, "image_hashes", detail);
    if (strcmp(m.verified, "mismatch") == 0 || strcmp(m.verified, "unreadable") == 0) {
        snprintf(detail, sizeof detail, "the EWF image's media %s: stored MD5 %s, read %s; "
                 "stored SHA-1 %s, read %s%s%.200s", strcmp(m.verified, "mismatch") == 0 ?
                 "does not match the hashes stored at acquisition" : "could not be read whole",
                 m.stored_md5[0] ? m.stored_md5 : "none", m.md5[0] ? m.md5 : "none",
                 m.stored_sha1[0] ? m.stored_sha1 : "none", m.sha1[0] ? m.sha1 : "none",
                 m.note[0] ? "; " : "", m.note);
        pt_anom_sink_push(&x->r->anoms, x->it->id, 0, 0, PT_ANOM_INPUT_EWF_HASH_MISMATCH, detail);
    }
}

static void img_rec(void *arg, const struct pt_img_rec *rec)
{
    struct img_ctx *x = arg;
    struct pt_reader *r = x->r;
    if (rec->type == PT_IMG_VOL) {
        struct pt_disk_volume_rec v = {.item = x->it->id, .offset = rec->offset,
                                       .block_size = rec->block_size, .blocks = rec->blocks,
                                       .read = rec->ok};
        snprintf(v.fs, sizeof v.fs, "%s", rec->fs);
        snprintf(v.note, sizeof v.note, "%s", rec->note);
        pt_writer_row(r->w, PT_W_DISK_VOLUME, &v, sizeof v);
        if (!rec->ok) {
            pt_anom_sink_push(&r->anoms, x->it->id, 0, rec->offset, PT_ANOM_IMAGE_VOLUME_UNREADABLE,
                         rec->note);
        }
    } else if (rec->type == PT_IMG_FILE) {
        img_file_row(x, rec);
        if (!(rec->flags & PT_IMG_F_CONTENT)) {
            pt_writer_row(r->w, PT_W_DISK_FILE, &x->f, sizeof x->f);
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
        pt_writer_row(r->w, PT_W_DISK_FILE, &x->f, sizeof x->f);
    } else if (rec->type == PT_IMG_NOTE) {
        pt_anom_sink_push(&r->anoms, x->it->id, 0, 0, img_kind(rec->note_kind), rec->note);
    } else if (rec->type == PT_IMG_HASH) {
        img_hashes(x, rec);
    }
}

/* The files of a disk image (its segments in order), after its bytes were hashed and read as
 * one object: each becomes an object of the image's item, scanned like any file at rest. */
static void ingest_image(struct pt_reader *r, const char *const *paths, size_t n,
                         struct pt_item_rec *it)
{
    char self[PATH_MAX];
    if (!pt_image_reader_path(self, sizeof self)) {
        pt_anom_sink_push(&r->anoms, it->id, 0, 0, PT_ANOM_IMAGE_READER_MISSING,
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
        pt_anom_sink_push(&r->anoms, it->id, 0, 0, PT_ANOM_IMAGE_READER_MISSING,
                     "the image reader could not be started (fork or pipe failed)");
    }
    if (x->o != NULL) {
        pt_obj_discard(x->o);
    }
    char detail[200];
    snprintf(detail, sizeof detail, "item=%u volumes=%llu files=%llu content_bytes=%llu "
             "finished=%d", it->id, (unsigned long long)st.volumes,
             (unsigned long long)st.files, (unsigned long long)st.content_bytes, st.finished);
    pt_writer_audit(r->w, "image_read", detail);
    pt_anom_sink_flush(&r->anoms);
    free(x);
}

/* Scale-out: bytes [offset, end) of a capture (scale/split.c), hashed as a range: its
 * item row holds the range's size and SHA-256 and its audit row is "range_hashed"; the merge
 * checks each against the plan and makes the whole item (merge.c). */
static void ingest_range(struct pt_reader *r, const struct pt_byte_range *rg,
                         struct pt_item_rec *it)
{
    struct pt_split_reader *rd = NULL;
    FILE *fp = pt_split_open(rg, it->path, r->done, &rd);
    char detail[4400];
    it->kind = "capture";
    it->status = "reading"; /* the row exists before its anomalies reference it */
    pt_writer_item(r->w, it);
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
    pt_writer_audit(r->w, "range_hashed", detail);
}

static int cmp_range_item(const void *key, const void *elem)
{
    uint32_t k = *(const uint32_t *)key, e = ((const struct pt_byte_range *)elem)->item;
    return k < e ? -1 : k > e;
}

void pt_reader_item(struct pt_reader *r, const struct pt_input *in, uint32_t id)
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
        pt_writer_audit(r->w, "input_hashed", detail);
        goto done;
    }
    struct pt_source *src = NULL;
    char err[256] = "";
    if (pt_source_open(in->path, r->done, &src, err, sizeof err) != PT_OK) {
        it->status = "error";
        snprintf(it->error, sizeof it->error, "%s", err);
        goto done;
    }
    snprintf(detail, sizeof detail, "path=%s size=%llu", in->path, (unsigned long long)in->size);
    pt_writer_audit(r->w, "input_opened", detail);
    enum pt_input_kind kind = pt_source_kind(src);
    bool gz = pt_source_gzip(src);
    it->mtime = pt_source_mtime_us(src);
    it->status = "reading"; /* the row exists before its anomalies reference it */
    pt_writer_item(r->w, it);
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
        pt_anom_sink_push(&r->anoms, it->id, 0, 0, PT_ANOM_INPUT_CHANGED_DURING_RUN, why);
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
    pt_writer_audit(r->w, "input_hashed", detail);
done:
    if (strcmp(it->status, "ok") != 0 && strcmp(it->status, "skipped") != 0) {
        r->items_failed++;
    }
    pt_anom_sink_flush(&r->anoms);
    pt_writer_item(r->w, it);
    free(it);
}

void pt_reader_fini(struct pt_reader *r)
{
    free(r->logs);
    r->logs = NULL;
    pt_hmac_free(r->patient_mac);
    r->patient_mac = NULL;
}
