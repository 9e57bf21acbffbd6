/* unpack.c - archive and compressed-stream members as objects, through libarchive (see
 * unpack.h). */
#include "unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../core/cursor.h"
#include "../core/limits.h"
#include "unpack_zip.h"

/* ---- what is unpacked ------------------------------------------------------------------- */

enum kind {
    K_ZIP,     /* zip: our directory pass, then libarchive's seekable (or streaming) reader */
    K_ARCHIVE, /* an archive format read as is */
    K_STREAM,  /* a libarchive decompression filter over tar, cpio or one raw child */
    K_GZIP,    /* the same with zlib as the filter: it checks the CRC, libarchive does not */
    K_SFX      /* a Windows executable that may carry a zip, 7z or RAR (a self-extractor) */
};

/* One line per libmagic MIME type. `word` names the format or the compression in the
 * members' encoding ("tar,gzip", "zip,bzip2", "7z", "xz"). */
struct container {
    const char *mime;
    enum kind kind;
    const char *word;
    int (*support)(struct archive *);  /* the format (K_ARCHIVE) or filter (K_STREAM) */
    int (*support2)(struct archive *); /* a second format, or NULL */
};

static const struct container containers[] = {
    {"application/zip", K_ZIP, "zip", NULL, NULL},
    {"application/x-dosexec", K_SFX, "executable", archive_read_support_format_7zip,
     archive_read_support_format_rar},
    {"application/vnd.microsoft.portable-executable", K_SFX, "executable",
     archive_read_support_format_7zip, archive_read_support_format_rar},
    {"application/x-tar", K_ARCHIVE, "tar", archive_read_support_format_tar, NULL},
    {"application/x-cpio", K_ARCHIVE, "cpio", archive_read_support_format_cpio, NULL},
    {"application/x-7z-compressed", K_ARCHIVE, "7z", archive_read_support_format_7zip, NULL},
    {"application/x-rar", K_ARCHIVE, "rar", archive_read_support_format_rar,
     archive_read_support_format_rar5},
    {"application/vnd.rar", K_ARCHIVE, "rar", archive_read_support_format_rar,
     archive_read_support_format_rar5},
    {"application/gzip", K_GZIP, "gzip", NULL, NULL},
    {"application/x-gzip", K_GZIP, "gzip", NULL, NULL},
    {"application/x-bzip2", K_STREAM, "bzip2", archive_read_support_filter_bzip2, NULL},
    {"application/x-xz", K_STREAM, "xz", archive_read_support_filter_xz, NULL},
    {"application/x-lzma", K_STREAM, "lzma", archive_read_support_filter_lzma, NULL},
    {"application/x-lzip", K_STREAM, "lzip", archive_read_support_filter_lzip, NULL},
    {"application/zstd", K_STREAM, "zstd", archive_read_support_filter_zstd, NULL},
    {"application/x-zstd", K_STREAM, "zstd", archive_read_support_filter_zstd, NULL},
    {"application/x-lz4", K_STREAM, "lz4", archive_read_support_filter_lz4, NULL},
    {"application/x-compress", K_STREAM, "compress", archive_read_support_filter_compress, NULL},
};

/* File name endings a compressed file loses when its one child is named after it. */
static const char *const stream_suffixes[] = {".gz", ".gzip", ".z", ".bz2", ".xz", ".lzma",
                                              ".lz", ".zst", ".lz4", ".Z"};

static const struct container *container_of(const char *mime)
{
    for (size_t i = 0; i < sizeof containers / sizeof *containers; i++) {
        if (strcmp(mime, containers[i].mime) == 0) {
            return &containers[i];
        }
    }
    return NULL;
}

/* ---- SHA-256 keyed table ---------------------------------------------------------------- */

struct slot {
    uint8_t key[32];
    void *val; /* NULL: empty */
};

struct table {
    struct slot *v;
    size_t cap, n;
};

static void key_of(const char *hex, uint8_t key[32])
{
    for (int i = 0; i < 32; i++) {
        unsigned hi = (unsigned)hex[2 * i], lo = (unsigned)hex[2 * i + 1];
        hi = hi <= '9' ? hi - '0' : (hi | 0x20) - 'a' + 10;
        lo = lo <= '9' ? lo - '0' : (lo | 0x20) - 'a' + 10;
        key[i] = (uint8_t)((hi << 4) | (lo & 15));
    }
}

static size_t slot_of(const struct table *t, const uint8_t key[32])
{
    uint64_t h;
    memcpy(&h, key, sizeof h); /* the key is a hash already */
    return (size_t)(h & (t->cap - 1));
}

/* The value slot for `key`: present, or added empty when `add`. NULL when absent and not
 * added, or when growing failed. */
static void **table_at(struct table *t, const uint8_t key[32], bool add)
{
    if (add && (t->n + 1) * 2 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        struct slot *nv = calloc(nc, sizeof *nv);
        if (nv == NULL) {
            return NULL;
        }
        struct table grown = {nv, nc, t->n};
        for (size_t i = 0; i < t->cap; i++) {
            if (t->v[i].val != NULL) {
                size_t k = slot_of(&grown, t->v[i].key);
                while (nv[k].val != NULL) {
                    k = (k + 1) & (nc - 1);
                }
                nv[k] = t->v[i];
            }
        }
        free(t->v);
        *t = grown;
    }
    if (t->cap == 0) {
        return NULL;
    }
    size_t k = slot_of(t, key);
    while (t->v[k].val != NULL) {
        if (memcmp(t->v[k].key, key, 32) == 0) {
            return &t->v[k].val;
        }
        k = (k + 1) & (t->cap - 1);
    }
    if (!add) {
        return NULL;
    }
    memcpy(t->v[k].key, key, 32);
    t->n++;
    return &t->v[k].val;
}

/* ---- what a run shares ------------------------------------------------------------------ */

/* An anomaly an unpacked archive gave, kept to repeat. */
struct note {
    enum pt_anom kind;
    char detail[200];
};

/* The members and anomalies one unpacked hash gave, to repeat for later copies (so the case
 * is the same whichever copy a worker reached first). */
struct memo {
    bool done;                  /* false while a worker is still unpacking it */
    bool full;                  /* PT_UNPACK_MEMO_BYTES was reached while filling it */
    struct pt_object_rec *kids; /* as first emitted */
    size_t n, cap;
    struct note *notes;
    size_t nn, ncap;
};

struct pt_unpack_run {
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* a memo became done */
    struct table memos;         /* value: struct memo * */
    uint64_t top_budget;        /* each top-level object's tree may expand to this */
    uint64_t case_left;         /* the run's budget minus what the run expanded */
    uint64_t memo_bytes;        /* members remembered, against PT_UNPACK_MEMO_BYTES */
};

pt_status pt_unpack_run_new(uint64_t top_budget, uint64_t case_budget,
                            struct pt_unpack_run **out)
{
    struct pt_unpack_run *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return PT_ENOMEM;
    }
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r);
        return PT_ENOMEM;
    }
    if (pthread_cond_init(&r->cv, NULL) != 0) {
        pthread_mutex_destroy(&r->mu);
        free(r);
        return PT_ENOMEM;
    }
    r->top_budget = top_budget;
    r->case_left = case_budget;
    *out = r;
    return PT_OK;
}

void pt_unpack_run_free(struct pt_unpack_run *run)
{
    if (run == NULL) {
        return;
    }
    for (size_t i = 0; i < run->memos.cap; i++) {
        struct memo *m = run->memos.v[i].val;
        if (m != NULL) {
            free(m->kids);
            free(m->notes);
            free(m);
        }
    }
    free(run->memos.v);
    pthread_cond_destroy(&run->cv);
    pthread_mutex_destroy(&run->mu);
    free(run);
}

enum claim { CLAIM_OWN, CLAIM_DONE, CLAIM_BUSY, CLAIM_NOMEM };

/* Take `key` for unpacking (CLAIM_OWN: *m is new, to fill and finish), or find it unpacked
 * (CLAIM_DONE: *m to repeat). While another worker is unpacking it, wait up to
 * PT_UNPACK_WAIT_S for it (two archives that contain each other, read by two workers at
 * once, cannot hang both), then CLAIM_BUSY. */
static enum claim memo_claim(struct pt_unpack_run *run, const uint8_t key[32], struct memo **m)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += PT_UNPACK_WAIT_S;
    enum claim c = CLAIM_NOMEM;
    pthread_mutex_lock(&run->mu);
    void **v = table_at(&run->memos, key, true);
    if (v != NULL && *v == NULL) {
        *v = calloc(1, sizeof(struct memo));
        if (*v == NULL) {
            run->memos.n--; /* an empty slot (NULL) reads as never added */
        } else {
            *m = *v;
            c = CLAIM_OWN;
        }
    } else if (v != NULL) {
        *m = *v;
        while (!(*m)->done && pthread_cond_timedwait(&run->cv, &run->mu, &until) != ETIMEDOUT) {
        }
        c = (*m)->done ? CLAIM_DONE : CLAIM_BUSY;
    }
    pthread_mutex_unlock(&run->mu);
    return c;
}

/* Append one item of `size` bytes to v[*n..*cap); false when it does not fit. */
static bool append(void **v, size_t *n, size_t *cap, const void *item, size_t size)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        void *nv = realloc(*v, nc * size);
        if (nv == NULL) {
            return false;
        }
        *v = nv;
        *cap = nc;
    }
    memcpy((uint8_t *)*v + *n * size, item, size);
    (*n)++;
    return true;
}

/* Remember a member (r) or an anomaly (note) of the archive being unpacked; false once
 * PT_UNPACK_MEMO_BYTES are used (the memo is then marked full). */
static bool memo_add(struct pt_unpack_run *run, struct memo *m, const struct pt_object_rec *r,
                     const struct note *note)
{
    size_t size = r ? sizeof *r : sizeof *note;
    pthread_mutex_lock(&run->mu);
    bool ok = !m->full && run->memo_bytes + size <= PT_UNPACK_MEMO_BYTES &&
              (r ? append((void **)&m->kids, &m->n, &m->cap, r, size)
                 : append((void **)&m->notes, &m->nn, &m->ncap, note, size));
    if (ok) {
        run->memo_bytes += size;
    } else {
        m->full = true;
    }
    pthread_mutex_unlock(&run->mu);
    return ok;
}

static void memo_finish(struct pt_unpack_run *run, struct memo *m)
{
    pthread_mutex_lock(&run->mu);
    m->done = true;
    pthread_cond_broadcast(&run->cv);
    pthread_mutex_unlock(&run->mu);
}

/* Take n bytes from the run's budget; false when it is spent. */
static bool case_take(struct pt_unpack_run *run, uint64_t n)
{
    pthread_mutex_lock(&run->mu);
    bool ok = run->case_left >= n;
    run->case_left = ok ? run->case_left - n : 0;
    pthread_mutex_unlock(&run->mu);
    return ok;
}

/* ---- one top-level object's tree -------------------------------------------------------- */

/* The expansion budget of the top-level object being unpacked on this thread. Children are
 * unpacked by recursion through ctx->object, on the same thread and inside the outermost
 * pt_unpack call, which owns this frame; a thread-local pointer finds it from any depth
 * without widening the callback. */
struct top {
    uint64_t left;        /* bytes the tree may still expand to */
    uint64_t members;     /* members emitted (or repeated) in the tree */
    bool spent;           /* a budget ran out: the rest of the tree is not unpacked */
    struct table seen;    /* hashes unpacked or repeated in this tree (value: &seen) */
};

static _Thread_local struct top *active;

/* ---- one archive -------------------------------------------------------------------------- */

struct gz;

struct job {
    struct pt_app_ctx *ctx;
    const struct pt_object_rec *p;
    const struct container *c;
    const uint8_t *b;          /* the mapped object (borrowed) */
    size_t n;
    struct top *top;
    struct memo *memo;         /* NULL: members are not remembered */
    struct pt_zipdir zd;       /* K_ZIP read by the directory: its entries */
    bool by_directory;
    struct gz *gz;             /* K_GZIP: the zlib source */
    uint8_t *buf;              /* PT_UNPACK_CHUNK bytes (owned) */
    size_t unlisted;           /* zip entries libarchive gave that the directory pass had not */
    const char *pass;          /* a passphrase that opened the archive (pt_unpack_opened) */
};

static void memo_overflow(const struct job *j);

/* Record an anomaly of the archive being read, and remember it for later copies. */
static void anomaly(const struct job *j, enum pt_anom kind, const char *detail)
{
    if (j->ctx->anomaly != NULL) {
        j->ctx->anomaly(j->ctx->arg, j->p->item, j->p->frame, kind, detail);
    }
    if (j->memo != NULL && !j->memo->full) {
        struct note n = {.kind = kind};
        snprintf(n.detail, sizeof n.detail, "%s", detail);
        if (!memo_add(j->ctx->unpack, j->memo, NULL, &n)) {
            memo_overflow(j);
        }
    }
}

/* Said once per archive, when its memo fills up. */
static void memo_overflow(const struct job *j)
{
    if (j->ctx->anomaly != NULL) {
        j->ctx->anomaly(j->ctx->arg, j->p->item, j->p->frame, PT_ANOM_LIMIT_UNPACK_MEMO,
                        "members past PT_UNPACK_MEMO_BYTES are not remembered: later copies of "
                        "this archive list only those remembered before");
    }
}

/* The gzip source: zlib inflates b[0..n) member after member (RFC 1952 §2.2) and checks
 * each member's CRC-32 and length; libarchive reads the plain bytes from it. */
struct gz {
    z_stream z;
    const uint8_t *in;
    size_t n, fed;
    bool done, corrupt;
    char why[96];
    uint8_t out[PT_UNPACK_CHUNK];
};

static void gz_feed(struct gz *g)
{
    if (g->z.avail_in == 0 && g->fed < g->n) {
        size_t k = g->n - g->fed > (1u << 30) ? (1u << 30) : g->n - g->fed;
        g->z.next_in = (Bytef *)(uintptr_t)(g->in + g->fed);
        g->z.avail_in = (uInt)k;
        g->fed += k;
    }
}

static la_ssize_t gz_read(struct archive *a, void *arg, const void **buf)
{
    (void)a;
    struct gz *g = arg;
    *buf = g->out;
    if (g->done) {
        return 0;
    }
    g->z.next_out = g->out;
    g->z.avail_out = sizeof g->out;
    while (g->z.avail_out > 0 && !g->done) {
        gz_feed(g);
        int r = inflate(&g->z, Z_NO_FLUSH);
        if (r == Z_STREAM_END) {
            gz_feed(g);
            if (g->z.avail_in >= 2 && g->z.next_in[0] == 0x1f && g->z.next_in[1] == 0x8b) {
                inflateReset(&g->z); /* the next member */
                continue;
            }
            g->done = true;
        } else if (r == Z_BUF_ERROR) {
            /* no progress with output room left: the input ran out mid-stream */
            g->done = g->corrupt = true;
            snprintf(g->why, sizeof g->why, "the gzip data end before the stream does");
        } else if (r != Z_OK) {
            g->done = g->corrupt = true;
            snprintf(g->why, sizeof g->why, "%s", g->z.msg ? g->z.msg : "inflate failed");
        }
    }
    return (la_ssize_t)(sizeof g->out - g->z.avail_out);
}

/* Compressed bytes consumed so far, for the ratio limit. */
static uint64_t consumed(const struct job *j, struct archive *a)
{
    if (j->gz != NULL) {
        return (uint64_t)(j->gz->fed - j->gz->z.avail_in);
    }
    la_int64_t k = archive_filter_bytes(a, -1);
    return k > 0 ? (uint64_t)k : 0;
}

/* ---- members ------------------------------------------------------------------------------ */

static struct pt_obj *child_open(const struct job *j, const char *name, const char *encoding,
                                 uint32_t part)
{
    struct pt_object_rec meta = *j->p;
    memset(meta.sha256, 0, sizeof meta.sha256);
    meta.size = 0;
    meta.gap_bytes = 0;
    meta.gap_map[0] = '\0';
    meta.mime[0] = meta.magic[0] = '\0';
    meta.complete = false;
    meta.encrypted = false;
    snprintf(meta.name, sizeof meta.name, "%s", name);
    snprintf(meta.encoding, sizeof meta.encoding, "%s", encoding);
    snprintf(meta.parent_sha256, sizeof meta.parent_sha256, "%s", j->p->sha256);
    meta.depth = j->p->depth + 1;
    meta.part = part;
    struct pt_obj *o = pt_obj_open(j->ctx->store, &meta);
    if (o == NULL) {
        anomaly(j, PT_ANOM_UNPACK_STORE_FAILED, "a member could not be stored in the case");
    }
    return o;
}

/* Emit a finished member: to the pipeline, and to the memo for later copies. */
static void child_close(struct job *j, struct pt_obj *o, bool complete, bool encrypted)
{
    struct pt_object_rec rec;
    if (!pt_obj_close(o, complete, &rec)) {
        anomaly(j, PT_ANOM_UNPACK_STORE_FAILED, "a member could not be stored in the case");
        return;
    }
    rec.encrypted = encrypted;
    if (j->memo != NULL && !j->memo->full && !memo_add(j->ctx->unpack, j->memo, &rec, NULL)) {
        memo_overflow(j);
    }
    if (j->ctx->object != NULL) {
        j->ctx->object(j->ctx->arg, &rec);
    }
}

/* Count one member against the tree's member budget. */
static bool take_member(const struct job *j)
{
    if (j->top->spent) {
        return false;
    }
    if (++j->top->members > PT_UNPACK_MAX_TREE_MEMBERS) {
        j->top->spent = true;
        anomaly(j, PT_ANOM_LIMIT_EXPANSION_BUDGET,
                "the archives under one top-level object hold more than "
                "PT_UNPACK_MAX_TREE_MEMBERS members; the rest are not unpacked");
        return false;
    }
    return true;
}

/* Write n more bytes of a member that has `sofar` already, after `in` compressed bytes,
 * if every limit allows; otherwise record which one and return false (nothing written). */
static bool take_bytes(struct job *j, struct pt_obj *o, const uint8_t *p, size_t n,
                       uint64_t sofar, uint64_t in)
{
    uint64_t total = sofar + n;
    if (total > PT_UNPACK_MAX_MEMBER ||
        (total > PT_UNPACK_RATIO_FLOOR && total / (in ? in : 1) > PT_UNPACK_MAX_RATIO)) {
        anomaly(j, PT_ANOM_LIMIT_DECOMPRESSION_BOMB,
                "a member expands beyond PT_UNPACK_MAX_MEMBER or PT_UNPACK_MAX_RATIO times the "
                "bytes it was read from; cut there, partial");
        return false;
    }
    if (j->top->left < n) {
        j->top->left = 0;
        j->top->spent = true;
        anomaly(j, PT_ANOM_LIMIT_EXPANSION_BUDGET,
                "the members under one top-level object expand beyond its budget "
                "(PT_UNPACK_BUDGET_TOP); this member is cut there and the rest of the tree is "
                "not unpacked");
        return false;
    }
    if (j->ctx->unpack != NULL && !case_take(j->ctx->unpack, n)) {
        j->top->spent = true;
        anomaly(j, PT_ANOM_LIMIT_EXPANSION_BUDGET,
                "the archives of this run expand beyond its budget (PT_UNPACK_BUDGET_CASE); "
                "this member is cut there and no further archive is unpacked");
        return false;
    }
    j->top->left -= n;
    pt_obj_write(o, p, n);
    return true;
}

/* A member's data failed: CRC errors and others get their own kinds. */
static void member_failed(const struct job *j, struct archive *a, const char *name)
{
    const char *msg = archive_error_string(a);
    char d[400];
    snprintf(d, sizeof d, "%s: %s; partial", name, msg ? msg : "read error");
    enum pt_anom kind = PT_ANOM_UNPACK_MEMBER_CORRUPT;
    if (msg != NULL && (strstr(msg, "CRC") != NULL || strstr(msg, "hecksum") != NULL)) {
        kind = PT_ANOM_UNPACK_CRC_MISMATCH;
    } else if (msg != NULL && strstr(msg, "Unsupported ZIP compression method") != NULL) {
        kind = PT_ANOM_UNPACK_ZIP_METHOD; /* member() keeps such an entry as sent */
    }
    anomaly(j, kind, d);
}

/* Copy the current entry's data into o through the limits; true when all of it arrived. */
static bool copy_data(struct job *j, struct archive *a, struct pt_obj *o, const char *name)
{
    uint64_t start = consumed(j, a), total = 0;
    for (;;) {
        la_ssize_t got = archive_read_data(a, j->buf, PT_UNPACK_CHUNK);
        if (got == 0) {
            return j->gz == NULL || !j->gz->corrupt;
        }
        if (got < 0) {
            member_failed(j, a, name);
            return false;
        }
        /* libarchive may hold up to a chunk of input read before this member began */
        uint64_t in = consumed(j, a) - start + PT_UNPACK_CHUNK;
        if (!take_bytes(j, o, j->buf, (size_t)got, total, in)) {
            return false;
        }
        total += (uint64_t)got;
    }
}

enum charset { CS_BYTES, CS_UTF8, CS_LATIN1 };

/* A name as UTF-8, cut on a character: valid UTF-8 as is (CS_UTF8), ISO 8859-1 converted
 * (CS_LATIN1), any other byte and every control character as '?'. */
static void clean_name(char *out, size_t cap, const char *s, enum charset cs)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        size_t len = 1;
        if (cs == CS_LATIN1 && *p >= 0xa0) {
            if (o + 2 >= cap) {
                break;
            }
            out[o++] = (char)(0xc0 | (*p >> 6));
            out[o++] = (char)(0x80 | (*p & 0x3f));
            p++;
            continue;
        }
        if (cs == CS_UTF8 && *p >= 0xc2 && *p <= 0xf4) {
            len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
            for (size_t k = 1; k < len; k++) {
                if ((p[k] & 0xc0) != 0x80) {
                    len = 0;
                    break;
                }
            }
        } else if (*p < 0x20 || *p >= 0x7f) {
            len = 0;
        }
        if (o + (len ? len : 1) >= cap) {
            break;
        }
        if (len == 0) {
            out[o++] = '?';
            p++;
        } else {
            memcpy(out + o, p, len);
            o += len;
            p += len;
        }
    }
    out[o] = '\0';
}

/* The name of a compressed file's one child: gzip's FNAME (RFC 1952 §2.3.1), else the
 * parent's name without its compression suffix. */
static void stream_name(const struct job *j, char *out, size_t cap)
{
    out[0] = '\0';
    if (j->c->kind == K_GZIP) {
        struct pt_cur c = pt_cur_make(j->b, j->n);
        pt_cur_skip(&c, 3);
        uint8_t flg = pt_cur_u8(&c);
        pt_cur_skip(&c, 6);
        if (flg & 0x04) {
            uint16_t xl = pt_cur_le16(&c);
            pt_cur_skip(&c, xl);
        }
        const uint8_t *z = pt_cur_ptr(&c);
        if ((flg & 0x08) && z != NULL && memchr(z, 0, pt_cur_left(&c)) != NULL) {
            clean_name(out, cap, (const char *)z, CS_LATIN1); /* FNAME is ISO 8859-1 */
        }
    }
    if (out[0] == '\0') {
        snprintf(out, cap, "%s", j->p->name);
        size_t l = strlen(out);
        for (size_t i = 0; i < sizeof stream_suffixes / sizeof *stream_suffixes; i++) {
            size_t k = strlen(stream_suffixes[i]);
            if (l > k && strcmp(out + l - k, stream_suffixes[i]) == 0) {
                out[l - k] = '\0';
                break;
            }
        }
    }
}

/* libarchive's zip method names ("ZIP 2.0 (deflation)") in our words. */
static const char *zip_method(const char *format_name)
{
    static const char *const map[][2] = {
        {"(uncompressed)", ""},      {"(deflation)", "deflate"}, {"(bzip)", "bzip2"},
        {"(lzma)", "lzma"},          {"(xz)", "xz"},             {"(zstd)", "zstd"},
        {"(ppmd-1)", "ppmd"},
    };
    for (size_t i = 0; format_name != NULL && i < sizeof map / sizeof *map; i++) {
        if (strstr(format_name, map[i][0]) != NULL) {
            return map[i][1];
        }
    }
    return "";
}

/* "<format>[,<method or compression>][,encrypted]": the format first, then what it was
 * compressed with, as "zip,bzip2" or "tar,gzip"; a compressed file's one child: "xz". */
static void member_encoding(const struct job *j, struct archive *a, bool encrypted, char *out,
                            size_t cap)
{
    const char *fmt = NULL, *how = NULL;
    switch (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) {
    case ARCHIVE_FORMAT_TAR: fmt = "tar"; break;
    case ARCHIVE_FORMAT_CPIO: fmt = "cpio"; break;
    case ARCHIVE_FORMAT_7ZIP: fmt = "7z"; break;
    case ARCHIVE_FORMAT_RAR: fmt = "rar"; break;
    case ARCHIVE_FORMAT_RAR_V5: fmt = "rar"; break;
    case ARCHIVE_FORMAT_ZIP:
        fmt = "zip";
        how = zip_method(archive_format_name(a));
        break;
    default: break; /* raw: a compressed file's one child */
    }
    if (j->c->kind == K_GZIP || j->c->kind == K_STREAM) {
        how = j->c->word;
    }
    snprintf(out, cap, "%s%s%s%s", fmt ? fmt : "", fmt && how && *how ? "," : "",
             how ? how : "", encrypted ? ",encrypted" : "");
}

/* One regular entry. */
static void member(struct job *j, struct archive *a, struct archive_entry *e, uint32_t part)
{
    const struct pt_zip_entry *ze = NULL;
    if (j->by_directory) {
        /* the entry's data start where libarchive stands after its local header */
        ze = pt_zipdir_find(&j->zd, (uint64_t)archive_filter_bytes(a, 0));
        if (ze == NULL) {
            j->unlisted++;
            return;
        }
        if (!ze->keep) {
            return; /* overlapping: counted in the unpack.zip_overlap anomaly */
        }
    }
    if (!take_member(j)) {
        return;
    }
    char name[256];
    if ((archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_RAW) {
        stream_name(j, name, sizeof name);
    } else {
        /* libarchive calls exit() when a name conversion fails and errno happens to hold
         * ENOMEM from an earlier call (archive_entry.c: __archive_errx "No memory"); a name
         * that does not convert is not a reason to end the run. */
        errno = 0;
        const char *u = archive_entry_pathname_utf8(e);
        errno = 0;
        const char *raw = archive_entry_pathname(e);
        clean_name(name, sizeof name, u ? u : raw ? raw : "", u ? CS_UTF8 : CS_BYTES);
    }
    bool encrypted = archive_entry_is_data_encrypted(e) || (ze != NULL && (ze->flags & 1));
    char enc[32];
    member_encoding(j, a, encrypted, enc, sizeof enc);
    if (encrypted && j->pass != NULL) {
        /* opened with a harvested password: read like any member, named ",decrypted" */
        memcpy(enc + strlen(enc) - 9, "decrypted", 9); /* ",encrypted" ends enc */
        encrypted = false;
    }
    struct pt_obj *o = child_open(j, name, enc, ze ? ze->order + 1 : part);
    if (o == NULL) {
        return;
    }
    bool ok;
    if (encrypted) {
        /* the content cannot be read: a zip entry is kept as sent, others as nothing */
        char d[400];
        snprintf(d, sizeof d, "%s is encrypted; %s", name,
                 ze ? "kept as sent" : "its bytes are not separable, stored empty");
        anomaly(j, PT_ANOM_UNPACK_ENCRYPTED_MEMBER, d);
        ok = ze != NULL && take_bytes(j, o, j->b + ze->data, (size_t)(ze->end - ze->data), 0,
                                      ze->end - ze->data);
    } else {
        ok = copy_data(j, a, o, name);
        const char *msg = archive_error_string(a);
        if (!ok && ze != NULL && pt_obj_size(o) == 0 && msg != NULL &&
            strstr(msg, "Unsupported ZIP compression method") != NULL) {
            /* a method libarchive does not decode (deflate64, implode...): kept as sent */
            take_bytes(j, o, j->b + ze->data, (size_t)(ze->end - ze->data), 0,
                       ze->end - ze->data);
        }
    }
    child_close(j, o, ok, encrypted);
}

/* ---- archives ----------------------------------------------------------------------------- */

/* libarchive converts names through the thread's locale; in the C locale a UTF-8 name has
 * no form at all. C.UTF-8 for the duration of a read, per thread (uselocale), leaves the
 * process locale alone. */
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;
static locale_t utf8;

static void utf8_init(void)
{
    utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static locale_t utf8_locale(void)
{
    pthread_once(&utf8_once, utf8_init);
    return utf8 != (locale_t)0 ? utf8 : LC_GLOBAL_LOCALE;
}

enum mode {
    MODE_STREAM,    /* entries in the order they come */
    MODE_DIRECTORY, /* a zip by its central directory, entries matched to our pass */
    MODE_RAW        /* a compressed file as one child, even if it starts like a tar */
};

/* Enable exactly what the container needs. Every call must answer ARCHIVE_OK: ARCHIVE_WARN
 * means libarchive would run an external program for it, which phitrace never allows. */
static bool setup(const struct job *j, struct archive *a, enum mode mode)
{
    int r = ARCHIVE_OK;
    switch (j->c->kind) {
    case K_ZIP:
        r = mode == MODE_DIRECTORY ? archive_read_support_format_zip_seekable(a)
                                   : archive_read_support_format_zip_streamable(a);
        /* names without the UTF-8 flag are CP437 (APPNOTE appendix D); without iconv's CP437
         * they stay bytes, cleaned to '?' */
        if (r == ARCHIVE_OK) {
            archive_read_set_format_option(a, "zip", "hdrcharset", "CP437");
        }
        break;
    case K_ARCHIVE:
    case K_SFX:
        r = j->c->support(a);
        if (r == ARCHIVE_OK && j->c->support2 != NULL) {
            r = j->c->support2(a);
        }
        if (r == ARCHIVE_OK && j->c->kind == K_SFX) {
            r = archive_read_support_format_rar5(a);
        }
        break;
    case K_STREAM:
    case K_GZIP:
        /* a compressed file holds a tar, a cpio, or one child; zlib is gzip's filter */
        if (j->c->kind == K_STREAM) {
            r = j->c->support(a);
        }
        if (r == ARCHIVE_OK && mode != MODE_RAW) {
            r = archive_read_support_format_tar(a);
        }
        if (r == ARCHIVE_OK && mode != MODE_RAW) {
            r = archive_read_support_format_cpio(a);
        }
        if (r == ARCHIVE_OK) {
            r = archive_read_support_format_raw(a);
        }
        break;
    }
    if (r == ARCHIVE_OK && j->pass != NULL) {
        r = archive_read_add_passphrase(a, j->pass);
    }
    return r == ARCHIVE_OK;
}

/* The header of entry `index` gave libarchive's status r: a warning (the entry is still
 * read), a skipped entry, or the end of what can be read. */
static void archive_failed(const struct job *j, struct archive *a, uint32_t index, int r)
{
    const char *msg = archive_error_string(a);
    char d[400];
    snprintf(d, sizeof d, "%s %s: %s", j->c->word,
             r == ARCHIVE_WARN     ? "entry read with a warning"
             : r != ARCHIVE_FATAL  ? "entry skipped"
             : index == 0          ? "not readable"
                                   : "damaged after its first members",
             msg ? msg : "no reason given");
    bool enc = msg != NULL && (strstr(msg, "ncrypt") != NULL || strstr(msg, "assphrase") != NULL);
    anomaly(j,
            enc                 ? PT_ANOM_UNPACK_ENCRYPTED_ARCHIVE
            : r == ARCHIVE_WARN ? PT_ANOM_UNPACK_WARNING
                                : PT_ANOM_UNPACK_CORRUPT,
            d);
}

/* Read the archive; false when a compressed file's tar or cpio held no entry at all, which
 * is what zeros look like to the tar reader (an end-of-archive marker): read it again as one
 * child then, or a zero prefix would hide whatever follows it. */
static bool read_archive(struct job *j, enum mode mode)
{
    bool empty = false;
    locale_t was = uselocale(utf8_locale());
    struct archive *a = archive_read_new();
    if (a == NULL) {
        anomaly(j, PT_ANOM_UNPACK_CORRUPT, "libarchive could not start (out of memory)");
        uselocale(was);
        return true;
    }
    int r;
    uint32_t i = 0;
    if (!setup(j, a, mode)) {
        anomaly(j, PT_ANOM_UNPACK_UNSUPPORTED, "this libarchive needs an external program here");
        goto out;
    }
    if (j->gz != NULL) {
        r = archive_read_open(a, j->gz, NULL, gz_read, NULL);
    } else {
        r = archive_read_open_memory2(a, j->b, j->n, PT_UNPACK_CHUNK);
    }
    if (r != ARCHIVE_OK) {
        if (j->c->kind != K_SFX) {
            archive_failed(j, a, 0, ARCHIVE_FATAL);
        }
        goto out;
    }
    for (;; i++) {
        struct archive_entry *e;
        r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) {
            int f = archive_format(a) & ARCHIVE_FORMAT_BASE_MASK;
            empty = i == 0 && (f == ARCHIVE_FORMAT_TAR || f == ARCHIVE_FORMAT_CPIO) &&
                    (j->c->kind == K_STREAM || j->c->kind == K_GZIP);
            break;
        }
        if (r == ARCHIVE_FATAL) {
            if (i > 0 || j->c->kind != K_SFX) { /* most executables carry no archive */
                archive_failed(j, a, i, r);
            }
            break;
        }
        if (i >= PT_UNPACK_MAX_ENTRIES) {
            anomaly(j, PT_ANOM_LIMIT_UNPACK_ENTRIES,
                    "the archive has more entries than PT_UNPACK_MAX_ENTRIES; the rest are not "
                    "read");
            break;
        }
        if (j->top->spent) {
            break;
        }
        if (r != ARCHIVE_OK) {
            archive_failed(j, a, i, r); /* a warning or a skipped entry: the next may be fine */
            if (r != ARCHIVE_WARN) {
                continue;
            }
        }
        if ((archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_RAW &&
            j->gz == NULL && archive_filter_count(a) < 2) {
            /* libmagic saw a compressed file, no decompressor took it */
            anomaly(j, PT_ANOM_UNPACK_CORRUPT, "compressed data not recognised by its decoder");
            break;
        }
        /* files, and entries of no stated type (a hostile header may clear it; their bytes
         * are read all the same); directories, links and devices carry no content */
        unsigned type = archive_entry_filetype(e);
        bool link = archive_entry_hardlink(e) != NULL && archive_entry_size(e) == 0;
        if ((type == AE_IFREG || type == 0) && !link) {
            member(j, a, e, i + 1);
        }
    }
    if (j->unlisted > 0) {
        char d[160];
        snprintf(d, sizeof d, "%zu entries found by libarchive are not in the central directory "
                              "pass; not read", j->unlisted);
        anomaly(j, PT_ANOM_UNPACK_ZIP_UNLISTED, d);
    }
out:
    archive_read_free(a);
    uselocale(was);
    return !empty;
}

/* A zip: the directory pass decides how libarchive may read it. */
static void read_zip(struct job *j)
{
    enum pt_zipdir_rc rc;
    if (pt_zipdir_read(j->b, j->n, &j->zd, &rc) != PT_OK) {
        anomaly(j, PT_ANOM_UNPACK_CORRUPT, "out of memory reading the zip central directory");
        return;
    }
    char d[200];
    bool streaming = true;
    if (rc == PT_ZIPDIR_NONE) {
        anomaly(j, PT_ANOM_UNPACK_ZIP_NO_DIRECTORY,
                "no end of central directory record (cut or damaged): entries read in "
                "local-header order");
    } else if (rc == PT_ZIPDIR_TOO_MANY) {
        anomaly(j, PT_ANOM_LIMIT_UNPACK_ENTRIES,
                "the central directory lists more entries than PT_UNPACK_MAX_ENTRIES: the first "
                "ones are read in local-header order");
    } else if (rc == PT_ZIPDIR_BAD || j->zd.bad > 0) {
        snprintf(d, sizeof d, "the central directory is inconsistent (%zu entries outside the "
                              "archive): entries read in local-header order", j->zd.bad);
        anomaly(j, PT_ANOM_UNPACK_ZIP_BAD_DIRECTORY, d);
    } else {
        streaming = false;
        j->by_directory = true;
        if (j->zd.refused > 0) {
            snprintf(d, sizeof d, "%zu of %zu entries overlap the data of another (zip bomb by "
                                  "overlap): refused, the largest set without overlap read",
                     j->zd.refused, j->zd.listed);
            anomaly(j, PT_ANOM_UNPACK_ZIP_OVERLAP, d);
        }
    }
    /* Read in local-header order, each byte of the zip is read once, so overlapping entries
     * cannot multiply anything there either. */
    read_archive(j, streaming ? MODE_STREAM : MODE_DIRECTORY);
    pt_zipdir_fini(&j->zd);
}

/* A Windows executable may carry an archive after its stub (a self-extractor, a staging
 * tool's favourite): a zip found by its central directory is read as a zip; otherwise
 * libarchive looks for a 7z or RAR signature in it. An executable that carries none is not
 * an anomaly. */
static void read_sfx(struct job *j)
{
    enum pt_zipdir_rc rc;
    struct pt_zipdir zd;
    bool zip = pt_zipdir_read(j->b, j->n, &zd, &rc) == PT_OK && rc == PT_ZIPDIR_OK && zd.n > 0;
    pt_zipdir_fini(&zd);
    if (zip) {
        j->c = container_of("application/zip");
        read_zip(j);
    } else {
        read_archive(j, MODE_STREAM);
    }
}

static void read_gzip(struct job *j)
{
    struct gz *g = calloc(1, sizeof *g);
    if (g == NULL || inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK) {
        free(g);
        anomaly(j, PT_ANOM_UNPACK_CORRUPT, "zlib could not start (out of memory)");
        return;
    }
    g->in = j->b;
    g->n = j->n;
    j->gz = g;
    if (!read_archive(j, MODE_STREAM)) {
        inflateReset(&g->z);
        g->z.avail_in = 0;
        g->fed = 0;
        g->done = g->corrupt = false;
        read_archive(j, MODE_RAW);
    }
    size_t left = g->n - g->fed + g->z.avail_in;
    if (!g->corrupt && left > 0) {
        char d[120];
        snprintf(d, sizeof d, "%zu bytes after the last gzip member are not gzip; not read", left);
        anomaly(j, PT_ANOM_UNPACK_GZIP_TRAILING, d);
    }
    if (g->corrupt) {
        bool crc = strstr(g->why, "check") != NULL; /* "incorrect data/length check" */
        anomaly(j, crc ? PT_ANOM_UNPACK_CRC_MISMATCH : PT_ANOM_UNPACK_GZIP_CORRUPT, g->why);
    }
    inflateEnd(&g->z);
    free(g);
    j->gz = NULL;
}

/* ---- entry ------------------------------------------------------------------------------ */

/* A later copy of an archive unpacked before: its remembered members and anomalies again,
 * with this copy's flow, direction and place, so each copy shows what it carried. */
static void repeat(struct pt_app_ctx *ctx, const struct pt_object_rec *p, const struct memo *m)
{
    struct job j = {.ctx = ctx, .p = p, .top = active};
    for (size_t i = 0; i < m->nn; i++) {
        anomaly(&j, m->notes[i].kind, m->notes[i].detail);
    }
    for (size_t i = 0; i < m->n; i++) {
        if (!take_member(&j)) {
            return;
        }
        struct pt_object_rec r = m->kids[i];
        snprintf(r.protocol, sizeof r.protocol, "%s", p->protocol);
        snprintf(r.direction, sizeof r.direction, "%s", p->direction);
        r.flow_id = p->flow_id;
        r.dir = p->dir;
        r.stream_off = p->stream_off;
        r.item = p->item;
        r.frame = p->frame;
        r.ts_us = p->ts_us;
        r.depth = p->depth + 1;
        if (ctx->object != NULL) {
            ctx->object(ctx->arg, &r);
        }
    }
}

/* Read the archive b[0..n) (borrowed) of `p`, opening it with `pass` when not NULL. */
static void unpack_bytes(struct pt_app_ctx *ctx, const struct pt_object_rec *p,
                         const struct container *c, struct memo *m, const char *pass,
                         const uint8_t *b, size_t n)
{
    struct job j = {.ctx = ctx, .p = p, .c = c, .top = active, .memo = m, .pass = pass};
    j.n = n;
    j.buf = malloc(PT_UNPACK_CHUNK);
    if (j.buf == NULL) {
        anomaly(&j, PT_ANOM_UNPACK_UNREADABLE, "out of memory for the stored object");
        return;
    }
    j.b = b;
    if (c->kind == K_ZIP) {
        read_zip(&j);
    } else if (c->kind == K_SFX) {
        read_sfx(&j);
    } else if (c->kind == K_GZIP) {
        read_gzip(&j);
    } else if (!read_archive(&j, MODE_STREAM)) {
        read_archive(&j, MODE_RAW);
    }
    free(j.buf);
}

static void unpack_mapped(struct pt_app_ctx *ctx, const struct pt_object_rec *p,
                          const struct container *c, struct memo *m)
{
    struct pt_objbytes ob;
    if (!pt_objstore_load(ctx->store, p->sha256, &ob) || ob.n == 0) {
        struct job j = {.ctx = ctx, .p = p, .c = c, .top = active, .memo = m};
        anomaly(&j, PT_ANOM_UNPACK_UNREADABLE, "the stored object cannot be read");
    } else {
        unpack_bytes(ctx, p, c, m, NULL, ob.p, ob.n);
    }
    pt_object_release(&ob);
}

void pt_unpack(struct pt_app_ctx *ctx, const struct pt_object_rec *parent)
{
    const struct container *c = container_of(parent->mime);
    if (c == NULL || parent->encrypted || ctx->store == NULL || parent->size == 0) {
        return;
    }
    struct top own = {.left = ctx->unpack ? ctx->unpack->top_budget : PT_UNPACK_BUDGET_TOP};
    bool outer = active == NULL;
    if (outer) {
        active = &own;
    }
    struct job j = {.ctx = ctx, .p = parent, .c = c, .top = active};
    uint8_t key[32];
    key_of(parent->sha256, key);
    void **seen;
    if (active->spent) {
        /* the budget anomaly said so once; nothing more in this tree */
    } else if (parent->depth >= PT_UNPACK_MAX_DEPTH) {
        anomaly(&j, PT_ANOM_LIMIT_UNPACK_DEPTH, "archives nested deeper than PT_UNPACK_MAX_DEPTH");
    } else if ((seen = table_at(&active->seen, key, true)) == NULL) {
        anomaly(&j, PT_ANOM_UNPACK_CORRUPT, "out of memory tracking the archives of one object");
    } else if (*seen == NULL) {
        *seen = &active->seen; /* each hash once per tree: an archive that holds itself too */
        struct memo *m = NULL;
        enum claim cl = ctx->unpack ? memo_claim(ctx->unpack, key, &m) : CLAIM_OWN;
        if (cl == CLAIM_OWN) {
            unpack_mapped(ctx, parent, c, m);
            if (m != NULL) {
                memo_finish(ctx->unpack, m);
            }
        } else if (cl == CLAIM_DONE) {
            repeat(ctx, parent, m);
        } else {
            anomaly(&j, PT_ANOM_UNPACK_BUSY,
                    cl == CLAIM_BUSY ? "another worker was still unpacking the same archive "
                                       "after PT_UNPACK_WAIT_S; this copy's members are not "
                                       "listed"
                                     : "out of memory remembering unpacked archives");
        }
    }
    if (outer) {
        free(own.seen.v);
        active = NULL;
    }
}

/* ---- archives opened with a password ---------------------------------------------------- */

bool pt_unpack_try_passphrase(const uint8_t *b, size_t n, const char *mime, const char *pw)
{
    const struct container *c = container_of(mime);
    if (c == NULL || (c->kind != K_ZIP && c->kind != K_ARCHIVE) || n == 0) {
        return false;
    }
    struct job j = {.c = c, .pass = pw};
    struct archive *a = archive_read_new();
    uint8_t *buf = malloc(PT_UNPACK_CHUNK);
    bool ok = false, failed = false;
    if (a != NULL && buf != NULL && setup(&j, a, MODE_STREAM) &&
        archive_read_open_memory2(a, b, n, PT_UNPACK_CHUNK) == ARCHIVE_OK) {
        struct archive_entry *e;
        for (uint32_t i = 0; i < PT_UNPACK_MAX_ENTRIES && !failed; i++) {
            int r = archive_read_next_header(a, &e);
            if (r == ARCHIVE_EOF) {
                break;
            }
            if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                failed = true;
                break;
            }
            if (!archive_entry_is_data_encrypted(e)) {
                continue;
            }
            /* one encrypted member read whole proves the passphrase (zip's check byte
             * alone passes one wrong password in 256) */
            la_ssize_t got;
            while ((got = archive_read_data(a, buf, PT_UNPACK_CHUNK)) > 0) {
            }
            failed = got < 0;
            ok = !failed;
            break;
        }
    }
    free(buf);
    archive_read_free(a);
    return ok && !failed;
}

void pt_unpack_opened(struct pt_app_ctx *ctx, const struct pt_object_rec *parent,
                      const uint8_t *b, size_t n, const char *pw)
{
    const struct container *c = container_of(parent->mime);
    if (c == NULL || ctx->store == NULL || n == 0) {
        return;
    }
    struct top own = {.left = PT_UNPACK_BUDGET_TOP};
    bool outer = active == NULL;
    if (outer) {
        active = &own;
    }
    unpack_bytes(ctx, parent, c, NULL, pw, b, n);
    if (outer) {
        free(own.seen.v);
        active = NULL;
    }
}
