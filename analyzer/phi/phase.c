/*
 * phase.c - the PHI stage (see phase.h).
 *
 * Threads take objects in hash order from a shared index and scan them into private result
 * buffers; the database thread writes results strictly in that order, and workers never run
 * more than WINDOW objects ahead of it, so memory stays bounded however many objects a case
 * holds. Each object file is mapped read-only.
 *
 * Individuals (union-find over records):
 *   estimate  records sharing an SSN, a record number (MRN, any issuer), a health plan or
 *             Medicare id, a FHIR Patient id, or the same name and birth date are one person;
 *   upper     only SSN, Medicare/plan id, FHIR id, and MRN together with its issuer when the
 *             issuer is known: nothing is joined on names or across numbering systems;
 *   lower     the estimate, and also records that share a name alone.
 * A record counts when it names its patient or carries a joining identifier; an individual
 * is a PHI individual when any of its records carries health information (a healthcare
 * format, a health term or code, or a record number or plan id).
 */
#include "phase.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../analyze/objstore.h"
#include "../core/arena.h"
#include "../core/grow.h"
#include "../core/limits.h"
#include "../core/log.h"
#include "../core/sha256.h"
#include "../ingest/sniff.h"
#include "../store/db.h"
#include "../store/q_disk.h"
#include "../store/q_phi.h"
#include "entity.h"
#include "phi.h"
#include "yara_scan.h"

#define WINDOW 64

/* ---- key and masking ------------------------------------------------------------------------ */

pt_status pt_phi_key(const char *case_dir, uint8_t key[32], char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/phi.key", case_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = read(fd, key, 32);
        close(fd);
        if (got == 32) {
            return PT_OK;
        }
        snprintf(err, errlen, "%s is not a 32-byte key", path);
        return PT_EIO;
    }
    if (RAND_bytes(key, 32) != 1) {
        snprintf(err, errlen, "no random bytes for the case key");
        return PT_EINTERNAL;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, key, 32) != 32) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return PT_EIO;
    }
    close(fd);
    return PT_OK;
}

static void stars(const char *v, size_t keep_head, size_t keep_tail, char *out, size_t len)
{
    size_t n = strlen(v), k = 0;
    for (size_t i = 0; i < n && k + 1 < len; i++) {
        bool keep = i < keep_head || i + keep_tail >= n;
        out[k++] = keep ? v[i] : '*';
    }
    out[k] = '\0';
}

void pt_phi_mask(const char *type, const char *v, char *out, size_t len)
{
    size_t n = strlen(v);
    if (strcmp(type, "ssn") == 0 && n == 9) {
        snprintf(out, len, "***-**-%.4s", v + 5);
    } else if (strcmp(type, "name") == 0 || strcmp(type, "address") == 0) {
        /* the first character of each word, the rest starred (per UTF-8 character) */
        size_t k = 0;
        bool start = true;
        for (size_t i = 0; i < n && k + 5 < len;) {
            unsigned char c = (unsigned char)v[i];
            size_t cl = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
            if (i + cl > n) {
                cl = n - i;
            }
            bool sep = c == '^' || c == ' ' || c == ',' || c == '-' || c == '=';
            if (sep || start) {
                memcpy(out + k, v + i, cl);
                k += cl;
            } else {
                out[k++] = '*';
            }
            start = sep;
            i += cl;
        }
        out[k] = '\0';
    } else if ((strcmp(type, "birth_date") == 0 || strcmp(type, "date") == 0) && n >= 8) {
        snprintf(out, len, "%.4s-**-**", v); /* Safe Harbor keeps the year */
    } else if (strcmp(type, "phone") == 0 && n >= 4) {
        snprintf(out, len, "***-***-%s", v + n - 4);
    } else if (strcmp(type, "email") == 0) {
        const char *at = strchr(v, '@');
        snprintf(out, len, "%c***%s", v[0], at ? at : "");
    } else if (strcmp(type, "zip") == 0 && n >= 3) {
        snprintf(out, len, "%.3s**", v); /* ZIP3 as Safe Harbor allows */
    } else if (strcmp(type, "diagnosis_code") == 0) {
        snprintf(out, len, "%s", v); /* a code is not an identifier */
    } else if (strcmp(type, "payment_card") == 0) {
        stars(v, 0, 4, out, len);
    } else {
        stars(v, 0, n > 6 ? 2 : 1, out, len);
    }
}

/* Append s to buf[0..*n), keeping *n <= lim (snprintf's truncation, without its cost). */
static void cat(char *buf, size_t *n, size_t lim, const char *s)
{
    size_t k = strlen(s);
    if (k > lim - *n) {
        k = lim - *n;
    }
    memcpy(buf + *n, s, k);
    *n += k;
}

/* The MAC of "type:value", as hex and/or its first 8 bytes. The message is what
 * snprintf(buf, 1200, "%s:%s", type, value) would make: cut at 1199 bytes. */
static void mac_of(struct pt_hmac *key, const char *type, const char *v1, const char *v2,
                   const char *v3, bool joined, char hex[65], uint64_t *key64)
{
    uint8_t mac[32];
    char buf[1200];
    size_t n = 0;
    cat(buf, &n, sizeof buf - 1, type);
    cat(buf, &n, sizeof buf - 1, ":");
    /* key64's value "a|b" (v1 v2 v3, joined) was itself cut at 899 bytes */
    size_t lim = joined && n + 899 < sizeof buf - 1 ? n + 899 : sizeof buf - 1;
    cat(buf, &n, lim, v1);
    cat(buf, &n, lim, v2);
    cat(buf, &n, lim, v3);
    pt_hmac_sha256(key, buf, n, NULL, 0, mac);
    if (hex != NULL) {
        pt_hex(mac, 32, hex);
    }
    if (key64 != NULL) {
        uint64_t k = 0;
        for (int i = 0; i < 8; i++) {
            k = (k << 8) | mac[i];
        }
        *key64 = k;
    }
}

static void hmac_hex(struct pt_hmac *key, const char *type, const char *value, char hex[65],
                     uint64_t *key64)
{
    mac_of(key, type, value, "", "", false, hex, key64);
}

/* ---- per-object results ------------------------------------------------------------------------ */

/* The strings of hits, records and anomalies live in the result's arena (one free per
 * object, not four per hit); YARA's in allocations of their own (the YARA thread beside
 * the scan adds them while the scan fills the arena). */
struct rhit {
    enum pt_phi_type type;
    const char *value, *field, *reason, *issuer;
    const char *detector;   /* static strings of the parsers */
    uint64_t offset;
    double conf;
    char state[3];
    bool subject;
    /* computed by the scanning thread after the scan (see hit_macs), so that the writer,
     * which is the content stage's one serial thread, does not: when macs is false the
     * writer computes them itself */
    bool macs;
    char hex[65];           /* HMAC of "type:value" */
    uint64_t k64;           /* its first 8 bytes */
    const char *masked;
    uint64_t jk[4];         /* the join keys of hit_keys: estimate, lower, upper, class */
};

struct rrec {
    const char *kind;
    uint64_t offset;
    bool health;
    const char *health_reason;
    size_t first, n;        /* hits */
};

struct ranom {
    uint64_t offset;
    enum pt_anom kind;
    const char *detail;
};

struct ymatch {
    char *rule, *ns, *tags, *description, *category, *severity, *reference;
    uint64_t offset;
    unsigned strings;
};

struct oresult {
    char sha[PT_SHA256_HEX];
    uint64_t size;
    uint32_t item;
    char *name, *protocol, *direction, *mime;
    char *pack;            /* object_blob's pack, NULL for an object file */
    uint64_t pack_off;
    struct ymatch *ym;
    size_t nym, capym;
    bool ym_oom;            /* a YARA match was dropped: memory ran out (on_yara's own flag,
                             * as it may run in the YARA thread beside the runs' scan) */
    enum pt_phi_format fmt;
    struct rrec *recs;
    size_t nrec, caprec;
    struct rhit *hits;
    size_t nhit, caphit;
    struct ranom *anoms;
    size_t nanom, capanom;
    struct pt_arena strs;   /* the strings of recs, hits and anoms */
    bool capped;
    bool oom;               /* a record, hit or anomaly was dropped: memory ran out */
    bool container;         /* its parts are objects of their own: not read as records */
    uint64_t read_bytes;    /* bytes read for PHI (binary: its printable runs) */
    const char *evidence;   /* "image:ntfs", "log:zeek", ... (ingest/sniff.h) or NULL */
    bool ready;
    const char *error;
};

static char *sdup(const char *s)
{
    return strdup(s ? s : "");
}

/* s (NULL as "") copied into the result's arena; "" and r->oom when memory ran out. */
static const char *adup(struct oresult *r, const char *s)
{
    const char *d = pt_arena_strdup(&r->strs, s ? s : "");
    if (d == NULL) {
        r->oom = true;
        return "";
    }
    return d;
}

static void sink_record(void *arg, const char *kind, uint64_t offset)
{
    struct oresult *r = arg;
    if (!pt_grow(&r->recs, &r->caprec, r->nrec + 1, sizeof *r->recs, 16)) {
        r->oom = true; /* said by a phi.no_memory anomaly when the object is written */
        return;
    }
    r->recs[r->nrec++] = (struct rrec){.kind = adup(r, kind), .offset = offset, .first = r->nhit};
}

static void sink_hit(void *arg, const struct pt_phi_hit *h)
{
    struct oresult *r = arg;
    if (r->nhit >= PT_PHI_MAX_HITS_PER_OBJECT) {
        r->capped = true;
        return;
    }
    if (r->nrec == 0) {
        sink_record(arg, "object", 0);
    }
    if (r->nrec == 0 || !pt_grow(&r->hits, &r->caphit, r->nhit + 1, sizeof *r->hits, 32)) {
        r->oom = true;
        return;
    }
    struct rhit *x = &r->hits[r->nhit++];
    *x = (struct rhit){.type = h->type, .value = adup(r, h->value), .field = adup(r, h->field),
                       .reason = adup(r, h->reason), .issuer = adup(r, h->issuer),
                       .detector = h->detector, .offset = h->offset, .conf = h->confidence,
                       .subject = h->subject};
    /* snprintf(x->state, 3, "%s", ...) without its cost: at most two characters */
    const char *st = h->state ? h->state : "";
    x->state[0] = st[0];
    x->state[1] = st[0] != '\0' ? st[1] : '\0';
    x->state[2] = '\0';
    r->recs[r->nrec - 1].n++;
}

static void sink_health(void *arg, const char *what)
{
    struct oresult *r = arg;
    if (r->nrec == 0) {
        sink_record(arg, "object", 0);
    }
    if (r->nrec == 0) {
        return; /* out of memory: r->oom says so */
    }
    struct rrec *c = &r->recs[r->nrec - 1];
    if (!c->health) {
        c->health = true;
        c->health_reason = adup(r, what);
    }
}

static void sink_anomaly(void *arg, uint64_t offset, enum pt_anom kind, const char *detail)
{
    struct oresult *r = arg;
    if (r->nanom >= 100) {
        return;
    }
    if (!pt_grow(&r->anoms, &r->capanom, r->nanom + 1, sizeof *r->anoms, 4)) {
        r->oom = true;
        return;
    }
    r->anoms[r->nanom++] = (struct ranom){offset, kind, adup(r, detail)};
}

static void result_free(struct oresult *r)
{
    pt_arena_free(&r->strs);
    for (size_t i = 0; i < r->nym; i++) {
        struct ymatch *y = &r->ym[i];
        free(y->rule);
        free(y->ns);
        free(y->tags);
        free(y->description);
        free(y->category);
        free(y->severity);
        free(y->reference);
    }
    free(r->ym);
    r->ym = NULL;
    r->nym = r->capym = 0;
    free(r->recs);
    free(r->hits);
    free(r->anoms);
    r->recs = NULL;
    r->hits = NULL;
    r->anoms = NULL;
    r->nrec = r->nhit = r->nanom = 0;
    r->caprec = r->caphit = r->capanom = 0;
}

static void on_yara(void *arg, const struct pt_yara_match *m)
{
    struct oresult *r = arg;
    if (!pt_grow(&r->ym, &r->capym, r->nym + 1, sizeof *r->ym, 4)) {
        r->ym_oom = true;
        return;
    }
    r->ym[r->nym++] = (struct ymatch){sdup(m->rule), sdup(m->ns), sdup(m->tags),
                                      sdup(m->description), sdup(m->category),
                                      sdup(m->severity), sdup(m->reference), m->offset,
                                      m->strings};
}

/* YARA over a large object in a thread of its own while this one reads its printable runs
 * (a disk image: both read every byte, and each takes seconds). Matches go to r->ym, which
 * the runs never touch; anomalies to a list of their own, appended after the runs'. */
struct yara_side {
    const struct pt_yara *yara;
    const uint8_t *p;
    size_t n;
    struct oresult *r;
    struct oresult anoms;   /* only its anomaly list is used */
    bool done;
};

static void side_anomaly(void *arg, uint64_t offset, enum pt_anom kind, const char *detail)
{
    struct yara_side *y = arg;
    sink_anomaly(&y->anoms, offset, kind, detail);
}

static void side_match(void *arg, const struct pt_yara_match *m)
{
    struct yara_side *y = arg;
    on_yara(y->r, m);
}

static void *yara_side_main(void *arg)
{
    struct yara_side *y = arg;
    struct pt_yara_scanner *ys = pt_yara_scanner_new(y->yara, 0, 0);
    if (ys != NULL) {
        struct oresult *r = y->r;
        struct pt_yara_ext ext = {r->name, r->protocol, r->direction, r->mime};
        pt_yara_scan(ys, y->p, y->n, &ext, side_match, side_anomaly, y);
        pt_yara_scanner_free(ys);
        y->done = true;
    }
    return NULL;
}

/* The scanners read a mapped object front to back (the PHI parsers, then or beside them YARA),
 * and every page they touched would stay counted in the process's memory until the scan ends:
 * the logs of a case, read in place, grew the peak RSS by their size (a 60 MB access log, 60
 * MB). While a large one is scanned, this thread drops the mapping's pages every
 * PT_PHI_MAP_TRIM_MS: on a private read-only file mapping MADV_DONTNEED only unmaps them, and
 * the next read faults the same bytes in again from the page cache, so what stays counted is
 * what the scanners touched since (a few MB). */
struct map_trim {
    void *map;
    size_t n;
    bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *map_trim_main(void *arg)
{
    struct map_trim *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += PT_PHI_MAP_TRIM_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&t->cv, &t->mu, &until);
        if (!t->stop) {
            madvise(t->map, t->n, MADV_DONTNEED);
        }
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

static void scan_object(const char *case_dir, struct pt_packfd *packs, struct oresult *r,
                        struct pt_yara_scanner *ys, const struct pt_yara *yara)
{
    struct pt_objbytes ob;
    if (!pt_object_load_from(packs, case_dir, r->sha, r->pack, r->pack_off, r->size, &ob)) {
        r->error = "object file missing or unreadable";
        return;
    }
    if (ob.n == 0) {
        pt_object_release(&ob);
        return;
    }
    const uint8_t *m = ob.p;
    struct map_trim trim = {.map = ob.map, .n = ob.n};
    pthread_t trimmer;
    bool trimming = ob.map != NULL && ob.n >= PT_PHI_MAP_TRIM &&
                    pthread_mutex_init(&trim.mu, NULL) == 0;
    if (trimming && (pthread_cond_init(&trim.cv, NULL) != 0 ||
                     pthread_create(&trimmer, NULL, map_trim_main, &trim) != 0)) {
        pthread_mutex_destroy(&trim.mu); /* the cv's init failing leaves nothing to destroy */
        trimming = false;
    }
    struct pt_phi_sink sink = {.arg = r, .record = sink_record, .hit = sink_hit,
                               .health = sink_health, .anomaly = sink_anomaly};
    struct yara_side side = {.yara = yara, .p = m, .n = ob.n, .r = r};
    pthread_t th;
    bool beside = ys != NULL && ob.n >= PT_PHI_YARA_BESIDE &&
                  pthread_create(&th, NULL, yara_side_main, &side) == 0;
    r->evidence = pt_sniff_evidence(m, ob.n);
    if (!r->container) {
        r->fmt = pt_phi_scan(m, ob.n, &sink);
        r->read_bytes = (uint64_t)ob.n;
        if (r->fmt == PT_PHI_FMT_NONE) {
            /* no parser opened it: its printable runs are read as carved text */
            r->read_bytes = pt_phi_strings(m, ob.n, &sink);
        }
    }
    if (beside) {
        pthread_join(th, NULL);
        for (size_t i = 0; i < side.anoms.nanom; i++) {
            struct ranom *a = &side.anoms.anoms[i];
            sink_anomaly(r, a->offset, a->kind, a->detail);
        }
        result_free(&side.anoms);
    }
    if (ys != NULL && !side.done) {
        struct pt_yara_ext ext = {r->name, r->protocol, r->direction, r->mime};
        pt_yara_scan(ys, m, ob.n, &ext, on_yara, sink_anomaly, r);
    }
    if (trimming) {
        pthread_mutex_lock(&trim.mu);
        trim.stop = true;
        pthread_cond_signal(&trim.cv);
        pthread_mutex_unlock(&trim.mu);
        pthread_join(trimmer, NULL);
        pthread_cond_destroy(&trim.cv);
        pthread_mutex_destroy(&trim.mu);
    }
    pt_object_release(&ob);
}

/* ---- the worker pool ------------------------------------------------------------------------------ */

struct pool {
    const char *case_dir;
    const struct pt_yara *yara;
    const uint8_t *key;     /* the case key: each scanning thread keys its own MAC with it */
    atomic_bool mac_failed; /* a scanning thread's MAC failed (as pt_hmac_failed) */
    struct oresult *res;
    size_t n;
    size_t next;            /* next object to take */
    size_t written;         /* objects the writer has finished */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void hit_macs(struct pt_hmac *mac, struct oresult *r);

static void *pool_main(void *arg)
{
    struct pool *p = arg;
    struct pt_yara_scanner *ys = p->yara ? pt_yara_scanner_new(p->yara, 0, 0) : NULL;
    struct pt_hmac *mac = p->key ? pt_hmac_new(p->key, 32) : NULL; /* NULL: the writer MACs */
    struct pt_packfd packs;
    pt_packfd_init(&packs);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->next < p->n && p->next >= p->written + WINDOW) {
            pthread_cond_wait(&p->cv, &p->mu);
        }
        if (p->next >= p->n) {
            pthread_mutex_unlock(&p->mu);
            pt_yara_scanner_free(ys);
            pt_packfd_close(&packs);
            if (mac != NULL && pt_hmac_failed(mac)) {
                atomic_store(&p->mac_failed, true);
            }
            pt_hmac_free(mac);
            return NULL;
        }
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        scan_object(p->case_dir, &packs, &p->res[i], ys, p->yara);
        if (mac != NULL) {
            hit_macs(mac, &p->res[i]);
        }
        pthread_mutex_lock(&p->mu);
        p->res[i].ready = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Per record, what the counting needs. */
struct recinfo {
    uint32_t object;        /* index into the object list */
    bool countable, health, outbound, deceased;
    uint8_t cats;           /* PT_Q_CAT_* of its object (store/q_disk.h) */
    char state[3];
    char name_masked[64];
    uint32_t types;         /* bit per identifier type */
    uint64_t name_key;      /* the folded name's key, 0 when the record names nobody */
};

/* Keys of the other people of a record of several people: each counts as one more person
 * unless some other record carries it. */
struct extra_key {
    uint32_t rec;
    uint64_t key;
    unsigned which;
};

static uint64_t key64(struct pt_hmac *key, const char *group, const char *a, const char *b)
{
    /* the MAC of "group:a|b" ("group:a" when b is empty), a|b cut at 899 bytes */
    uint64_t k;
    mac_of(key, group, a, b[0] ? "|" : "", b, true, NULL, &k);
    return k;
}

/* ---- the stage ------------------------------------------------------------------------------------ */

struct strset {
    char (*v)[PT_SHA256_HEX];
    size_t n;
};

static int cmp_sha(const void *a, const void *b)
{
    return strcmp(a, b);
}

struct ename_key {
    uint32_t e;
    uint64_t k;
};

static int cmp_ename(const void *a, const void *b)
{
    const struct ename_key *x = a, *y = b;
    if (x->e != y->e) {
        return x->e < y->e ? -1 : 1;
    }
    return x->k < y->k ? -1 : x->k > y->k;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* One run of the stage: the objects and their scanners, the records so far and the three
 * union-find structures over them. */
struct phase {
    struct pt_db *db;
    const struct pt_phi_options *o;
    struct pt_phi_result *res;
    uint8_t key[32];
    struct pt_hmac *mac; /* HMAC-SHA-256 under the case key */
    struct pool pool;
    struct strset outbound; /* objects that left, sorted (the object list is in hash order) */
    size_t cap;
    struct pt_q_phi *w;
    struct uf est, lower, upper;
    uint64_t multi_person;
    uint64_t dob_class;
    struct extra_key *extra;
    size_t nextra;
    struct recinfo *ri;
    size_t nri, capri;
    uint32_t record_id;
};

/* What one record's hits said about its person, for the joins. */
struct person {
    const char *name, *dob;
    unsigned state_votes;
    struct joinset js;
};

static bool take_object(void *arg, const struct pt_q_phi_object *o)
{
    struct phase *ph = arg;
    struct pool *pool = &ph->pool;
    if (pool->n == ph->cap) {
        size_t cap = ph->cap ? ph->cap * 2 : 256;
        struct oresult *nr = realloc(pool->res, cap * sizeof *nr);
        if (nr == NULL) {
            return false;
        }
        pool->res = nr;
        char(*no)[PT_SHA256_HEX] = realloc(ph->outbound.v, cap * sizeof *no);
        if (no == NULL) {
            return false;
        }
        ph->outbound.v = no;
        ph->cap = cap;
    }
    struct oresult *r = &pool->res[pool->n];
    memset(r, 0, sizeof *r);
    snprintf(r->sha, sizeof r->sha, "%s", o->sha256);
    r->size = o->size;
    r->item = o->item;
    if (o->upload) {
        memcpy(ph->outbound.v[ph->outbound.n++], r->sha, PT_SHA256_HEX);
    }
    r->name = sdup(o->name);
    r->protocol = sdup(o->protocol);
    r->direction = sdup(o->direction);
    r->mime = sdup(o->mime);
    r->container = o->container;
    r->pack = o->pack == NULL ? NULL : sdup(o->pack);
    r->pack_off = o->pack_off;
    pool->n++;
    return true;
}

static pt_status anomaly(struct phase *ph, uint32_t item, uint64_t offset, enum pt_anom kind,
                         const char *detail)
{
    return pt_db_anomaly_add(ph->db, item, 0, offset, kind, detail);
}

/* An object's anomalies and YARA matches. */
static pt_status write_extras(struct phase *ph, const struct oresult *r)
{
    pt_status rc = PT_OK;
    for (size_t a = 0; a < r->nanom; a++) {
        char det[400];
        snprintf(det, sizeof det, "object %.16s: %s", r->sha, r->anoms[a].detail);
        rc = rc == PT_OK ? anomaly(ph, r->item, r->anoms[a].offset, r->anoms[a].kind, det) : rc;
    }
    if (r->capped) {
        rc = rc == PT_OK ? anomaly(ph, r->item, 0, PT_ANOM_LIMIT_PHI_HITS,
                                   "more PHI hits in one object than the limit; the rest were "
                                   "not recorded")
                         : rc;
    }
    if (r->oom || r->ym_oom) {
        rc = rc == PT_OK ? anomaly(ph, r->item, 0, PT_ANOM_PHI_NO_MEMORY,
                                   "out of memory while scanning: PHI records, hits or YARA "
                                   "matches of this object were not recorded")
                         : rc;
    }
    for (size_t y = 0; y < r->nym && rc == PT_OK; y++) {
        const struct ymatch *m = &r->ym[y];
        struct pt_q_yara_match q = {r->sha, m->rule, m->ns, m->tags, m->description, m->category,
                                    m->severity, m->reference, m->offset, m->strings};
        rc = pt_q_phi_yara_put(ph->w, &q);
        ph->res->yara_matches++;
    }
    return rc;
}

/* The keyed values of a joining hit (the subject's): estimate, lower and upper key and the
 * class, as hit_keys uses them. */
static void join_macs(struct pt_hmac *mac, const char *sha, const struct rhit *hh,
                      uint64_t jk[4])
{
    char shape[64];
    const char *grp = pt_entity_join_group(hh->type);
    if (hh->type == PT_PHI_MRN) {
        /* estimate: the same number of the same shape (issuers are often missing on one
         * side); lower: the same number; upper: the same issuer, or else the same
         * object. Two numbers of one issuer (or, without one, of one shape) never
         * join. */
        pt_entity_mrn_shape(hh->value, shape, sizeof shape);
        jk[0] = key64(mac, "mrn", shape, hh->value);
        jk[1] = key64(mac, "mrn", "", hh->value);
        jk[2] = hh->issuer[0] != '\0' ? key64(mac, "mrn-issuer", hh->issuer, hh->value)
                                      : key64(mac, "mrn-object", sha, hh->value);
        if (hh->issuer[0] != '\0') {
            snprintf(shape, sizeof shape, "issuer %.50s", hh->issuer);
        }
        jk[3] = key64(mac, "class", "mrn", shape);
    } else {
        jk[0] = jk[1] = jk[2] = key64(mac, grp, hh->value, "");
        jk[3] = hh->type == PT_PHI_SSN || hh->type == PT_PHI_MBI ? key64(mac, "class", grp, "")
                                                                  : 0;
    }
}

/* On a scanning thread, after the scan: every hit's MAC and masked value, and a subject's
 * join keys, which the writer would otherwise compute one after the other. */
static void hit_macs(struct pt_hmac *mac, struct oresult *r)
{
    for (size_t i = 0; i < r->nhit; i++) {
        struct rhit *hh = &r->hits[i];
        const char *tn = pt_phi_type_name(hh->type);
        char masked[256];
        pt_phi_mask(tn, hh->value, masked, sizeof masked);
        if ((hh->masked = pt_arena_strdup(&r->strs, masked)) == NULL) {
            continue; /* out of memory: the writer computes this hit's as before */
        }
        hmac_hex(mac, tn, hh->value, hh->hex, &hh->k64);
        if (hh->subject && pt_phi_type_joins(hh->type)) {
            join_macs(mac, r->sha, hh, hh->jk);
        }
        hh->macs = true;
    }
}

/* The join keys of a hit that identifies the record's subject. */
static void hit_keys(struct phase *ph, const struct oresult *r, const struct rhit *hh,
                     uint64_t k64, struct joinset *js)
{
    if (pt_phi_type_joins(hh->type)) {
        uint64_t jk[4];
        if (hh->macs) {
            memcpy(jk, hh->jk, sizeof jk);
        } else {
            join_macs(ph->mac, r->sha, hh, jk);
        }
        if (hh->type == PT_PHI_MRN) {
            uint64_t ke = jk[0], kl = jk[1], ku = jk[2], cls = jk[3];
            pt_js_key(js, J_EST, ke, cls, ke);
            pt_js_key(js, J_LOWER, kl, cls, ke);
            pt_js_key(js, J_UPPER, ku, cls, ke);
            pt_js_attr(js, cls, ke);
        } else {
            uint64_t ke = jk[0], cls = jk[3];
            if (hh->type == PT_PHI_SSN || hh->type == PT_PHI_MBI) {
                pt_js_attr(js, cls, ke);
            }
            pt_js_key(js, J_EST | J_LOWER | J_UPPER, ke, cls, ke);
        }
    }
    if (hh->type == PT_PHI_DOB) {
        pt_js_attr(js, ph->dob_class, k64);
    }
}

/* One hit of record `record_id`: its row (masked and keyed; the value only with
 * --keep-phi), and what it says about the record's subject. */
static pt_status add_hit(struct phase *ph, const struct oresult *r, const struct rhit *hh,
                         struct recinfo *info, struct person *p)
{
    const char *tn = pt_phi_type_name(hh->type);
    char own_hex[65], own_masked[256];
    const char *hex = hh->hex, *masked = hh->masked;
    uint64_t k64 = hh->k64;
    if (!hh->macs) {
        hmac_hex(ph->mac, tn, hh->value, own_hex, &k64);
        pt_phi_mask(tn, hh->value, own_masked, sizeof own_masked);
        hex = own_hex;
        masked = own_masked;
    }
    char letter[2] = {pt_phi_type_letter(hh->type), 0};
    if (letter[0] == ' ') {
        letter[0] = '\0';
    }
    struct pt_q_phi_hit q = {.record_id = ph->record_id, .detector = hh->detector,
                             .field = hh->field, .type = tn, .safe_harbor = letter,
                             .offset = hh->offset, .subject = hh->subject, .masked = masked,
                             .hmac = hex,
                             .state = hh->state, .issuer = hh->issuer, .reason = hh->reason,
                             .confidence = hh->conf};
    pt_status rc = pt_q_phi_hit_put(ph->w, &q);
    if (ph->o->keep_phi && rc == PT_OK) {
        rc = pt_q_phi_value_put(ph->w, hex, tn, hh->value);
    }
    ph->res->hits++;
    if (!hh->subject) {
        return rc;
    }
    info->types |= 1u << hh->type;
    info->deceased = info->deceased || hh->type == PT_PHI_DEATH;
    if (hh->state[0] != '\0' && p->state_votes == 0) {
        memcpy(info->state, hh->state, 3);
        p->state_votes++;
    }
    if (hh->type == PT_PHI_NAME && p->name == NULL) {
        p->name = hh->value;
        snprintf(info->name_masked, sizeof info->name_masked, "%.63s", masked);
    }
    if (hh->type == PT_PHI_DOB && p->dob == NULL) {
        p->dob = hh->value;
    }
    if (pt_phi_type_joins(hh->type)) {
        info->countable = true;
    }
    hit_keys(ph, r, hh, k64, &p->js);
    return rc;
}

/* Join the record just added (its person's keys) into the three structures. */
static void join_record(struct phase *ph, const struct oresult *r, struct recinfo *info,
                        struct person *p)
{
    char folded[600] = "";
    if (p->name != NULL) {
        pt_phi_name_fold(p->name, folded, sizeof folded);
        pt_entity_name_key(folded);
    }
    if (p->name != NULL && pt_entity_not_a_person(folded)) {
        /* a QA phantom or test patient (DICOM "QA^PHANTOM"): nobody to count */
        info->countable = false;
        return;
    }
    struct joinset *js = &p->js;
    if (p->name != NULL) {
        info->countable = true;
        info->name_key = key64(ph->mac, "name-only", folded, "");
        pt_js_key(js, J_LOWER, info->name_key, 0, 0);
        if (p->dob != NULL) {
            pt_js_key(js, J_EST | J_LOWER, key64(ph->mac, "name-dob", folded, p->dob), 0, 0);
            char od[700];
            snprintf(od, sizeof od, "%s|%s", r->sha, folded);
            pt_js_key(js, J_UPPER, key64(ph->mac, "name-dob-object", od, p->dob), 0, 0);
        }
    }
    uint64_t anchor = 0;
    unsigned people = pt_js_people(js, &anchor);
    uint64_t keep = 0; /* with several people: the value of the one this record keeps */
    if (people > 1) {
        /* identifiers of several people in one record that no layout rule could split: the
         * record stands for the first value of the class with the most values, joins only
         * through it, and the other values count as people unless another record carries
         * them */
        ph->multi_person++;
        for (unsigned a = 0; a < js->nat && keep == 0; a++) {
            keep = js->at[a].cls == anchor ? js->at[a].val : 0;
        }
    }
    uint32_t rid = ph->record_id - 1;
    struct uf *us[3] = {&ph->est, &ph->lower, &ph->upper};
    static const unsigned bit[3] = {J_EST, J_LOWER, J_UPPER};
    for (unsigned a = 0; a < js->nat; a++) {
        if (people > 1 && (js->at[a].cls != anchor || js->at[a].val != keep)) {
            continue;
        }
        for (int m = 0; m < 3; m++) {
            if (m == 1 && js->at[a].cls == ph->dob_class) {
                continue; /* the lower bound allows a mistyped birth date */
            }
            pt_uf_attrs_add(&us[m]->at[rid], js->at[a].cls, js->at[a].val);
        }
    }
    for (unsigned a = 0; a < js->nk; a++) {
        struct jkey *jk = &js->k[a];
        if (people > 1 && jk->cls != anchor) {
            continue;
        }
        if (people > 1 && jk->val != keep) {
            if (ph->nextra < PT_PHI_MAX_HITS_PER_OBJECT) {
                struct extra_key *nx = realloc(ph->extra, (ph->nextra + 1) * sizeof *nx);
                if (nx != NULL) {
                    ph->extra = nx;
                    ph->extra[ph->nextra++] = (struct extra_key){rid, jk->key, jk->which};
                }
            }
            continue;
        }
        for (int m = 0; m < 3; m++) {
            if (jk->which & bit[m]) {
                pt_uf_key(us[m], jk->key, rid);
            }
        }
    }
}

/* Record k of object i: its row and hits, then its joins. Records without identifiers are
 * not stored. */
static pt_status add_record(struct phase *ph, size_t i, struct oresult *r, size_t k, bool out_obj,
                            uint64_t *phi_hits)
{
    struct rrec *rec = &r->recs[k];
    /* record numbers and plan ids imply a healthcare relationship */
    for (size_t x = rec->first; x < rec->first + rec->n; x++) {
        enum pt_phi_type t = r->hits[x].type;
        if (!rec->health && (t == PT_PHI_MRN || t == PT_PHI_PLAN_ID || t == PT_PHI_MBI ||
                             t == PT_PHI_DIAGNOSIS)) {
            rec->health = true;
            rec->health_reason = "record number, health plan id or diagnosis";
        }
    }
    if (rec->n == 0) {
        return PT_OK;
    }
    ph->record_id++;
    if (!pt_uf_add(&ph->est) || !pt_uf_add(&ph->lower) || !pt_uf_add(&ph->upper) ||
        !pt_grow(&ph->ri, &ph->capri, ph->nri + 1, sizeof *ph->ri, 1024)) {
        return PT_ENOMEM;
    }
    struct recinfo *info = &ph->ri[ph->nri++];
    memset(info, 0, sizeof *info);
    info->object = (uint32_t)i;
    info->health = rec->health;
    info->outbound = out_obj;
    pt_status rc = pt_q_phi_record_put(ph->w, ph->record_id, k, rec->kind, rec->offset,
                                       rec->health, rec->health_reason);
    struct person p;
    memset(&p, 0, sizeof p);
    for (size_t x = rec->first; x < rec->first + rec->n && rc == PT_OK; x++) {
        rc = add_hit(ph, r, &r->hits[x], info, &p);
        *phi_hits += rec->health;
    }
    if (rc == PT_OK) {
        join_record(ph, r, info, &p);
    }
    return rc;
}

/* Individuals in the object whose records start at first_ri: distinct estimate roots of its
 * records (so far: joins through later objects do not change who is in this one). */
static size_t object_individuals(struct phase *ph, size_t first_ri)
{
    size_t indiv = 0;
    if (ph->nri > first_ri) {
        uint32_t *roots = malloc((ph->nri - first_ri) * sizeof *roots);
        size_t nr = 0;
        for (size_t a = first_ri; roots != NULL && a < ph->nri; a++) {
            if (ph->ri[a].countable) {
                roots[nr++] = pt_uf_find(&ph->est, (uint32_t)a);
            }
        }
        if (roots != NULL) {
            qsort(roots, nr, sizeof *roots, cmp_u32);
            for (size_t a = 0; a < nr; a++) {
                indiv += a == 0 || roots[a] != roots[a - 1];
            }
            free(roots);
        }
    }
    return indiv;
}

/* Object i once its scanner is done: everything it found, then its phi_object row; its
 * buffers are freed and the scanners may take one more. */
static pt_status write_object(struct phase *ph, size_t i)
{
    struct pool *pool = &ph->pool;
    pthread_mutex_lock(&pool->mu);
    while (!pool->res[i].ready) {
        pthread_cond_wait(&pool->cv, &pool->mu);
    }
    pthread_mutex_unlock(&pool->mu);
    struct oresult *r = &pool->res[i];
    bool out_obj = bsearch(r->sha, ph->outbound.v, ph->outbound.n, sizeof *ph->outbound.v,
                           cmp_sha) != NULL;
    pt_status rc = write_extras(ph, r);
    uint64_t phi_hits = 0;
    size_t first_ri = ph->nri;
    for (size_t k = 0; k < r->nrec && rc == PT_OK; k++) {
        rc = add_record(ph, i, r, k, out_obj, &phi_hits);
    }
    size_t indiv = object_individuals(ph, first_ri);
    if (rc == PT_OK) {
        const char *fmt = r->container ? "container"
                          : r->fmt == PT_PHI_FMT_NONE ? "binary-strings"
                                                      : pt_phi_format_name(r->fmt);
        rc = pt_q_phi_object_put(ph->w, r->sha, fmt, ph->nri - first_ri, r->nhit, phi_hits,
                                 indiv, r->read_bytes, r->evidence);
    }
    ph->res->phi_hits += phi_hits;
    result_free(r);
    pthread_mutex_lock(&pool->mu);
    pool->written = i + 1;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    return rc;
}

/* Per patient entity (estimate component), what its records add up to. */
struct agg {
    uint32_t records, objects, last_object, types;
    bool phi, outbound, deceased;
    char state[3];
    char name[64];
    uint32_t names; /* distinct names (folded) */
};

/* Entity ids in order of first sight (eid[root], 1-based), each record's entity, and the
 * distinct names per entity. */
static pt_status assign_entities(struct phase *ph, uint32_t *eid, uint32_t *next_id,
                                 struct agg **out)
{
    pt_status rc = PT_OK;
    for (size_t a = 0; a < ph->nri && rc == PT_OK; a++) {
        if (!ph->ri[a].countable) {
            continue;
        }
        uint32_t root = pt_uf_find(&ph->est, (uint32_t)a);
        if (eid[root] == 0) {
            eid[root] = ++*next_id;
        }
        rc = pt_q_phi_record_entity(ph->w, (uint32_t)a + 1, eid[root]);
    }
    struct agg *ag = calloc(*next_id + 1, sizeof *ag);
    *out = ag;
    if (ag == NULL && rc == PT_OK) {
        rc = PT_ENOMEM;
    }
    /* distinct names per entity: (entity, name key) pairs sorted */
    struct ename_key *en = calloc(ph->nri ? ph->nri : 1, sizeof *en);
    size_t nen = 0;
    if (en == NULL && rc == PT_OK) {
        rc = PT_ENOMEM;
    }
    for (size_t a = 0; a < ph->nri && rc == PT_OK; a++) {
        if (ph->ri[a].countable && ph->ri[a].name_key != 0) {
            en[nen++] = (struct ename_key){eid[pt_uf_find(&ph->est, (uint32_t)a)],
                                           ph->ri[a].name_key};
        }
    }
    if (rc == PT_OK) {
        qsort(en, nen, sizeof *en, cmp_ename);
        for (size_t a = 0; a < nen; a++) {
            if (a == 0 || en[a].e != en[a - 1].e || en[a].k != en[a - 1].k) {
                ag[en[a].e].names++;
            }
        }
    }
    free(en);
    return rc;
}

struct entity_stats {
    uint32_t largest, largest_names, implausible;
};

/* The patient_entity rows. */
static pt_status write_entities(struct phase *ph, const uint32_t *eid, uint32_t next_id,
                                struct agg *ag, struct entity_stats *es)
{
    for (size_t a = 0; a < ph->nri; a++) {
        const struct recinfo *ri = &ph->ri[a];
        if (!ri->countable) {
            continue;
        }
        struct agg *g = &ag[eid[pt_uf_find(&ph->est, (uint32_t)a)]];
        g->records++;
        if (g->objects == 0 || g->last_object != ri->object + 1) {
            g->objects++;
            g->last_object = ri->object + 1;
        }
        g->types |= ri->types;
        g->phi = g->phi || ri->health;
        g->outbound = g->outbound || ri->outbound;
        g->deceased = g->deceased || ri->deceased;
        if (g->state[0] == '\0' && ri->state[0] != '\0') {
            memcpy(g->state, ri->state, 3);
        }
        if (g->name[0] == '\0' && ri->name_masked[0] != '\0') {
            memcpy(g->name, ri->name_masked, sizeof g->name);
        }
    }
    pt_status rc = PT_OK;
    for (uint32_t e = 1; e <= next_id && rc == PT_OK; e++) {
        char types[256] = "";
        for (int t = 0; t < PT_PHI_N_TYPES; t++) {
            if (ag[e].types & (1u << t)) {
                size_t l = strlen(types);
                snprintf(types + l, sizeof types - l, "%s%s", l ? "," : "",
                         pt_phi_type_name((enum pt_phi_type)t));
            }
        }
        struct pt_q_entity q = {.id = e, .records = ag[e].records, .objects = ag[e].objects,
                                .names = ag[e].names, .types = types, .state = ag[e].state,
                                .name = ag[e].name, .phi = ag[e].phi,
                                .outbound = ag[e].outbound, .deceased = ag[e].deceased};
        rc = pt_q_phi_entity_put(ph->w, &q);
        if (ag[e].records > es->largest) {
            es->largest = ag[e].records;
        }
        if (ag[e].names > es->largest_names) {
            es->largest_names = ag[e].names;
        }
        es->implausible += ag[e].names > PT_PHI_ENTITY_MAX_NAMES;
    }
    return rc;
}

/* Partial records: an individual known only by a record number (no name, birth date or other
 * identifier) may be one of those known only by name, whose record number the evidence
 * never shows; the lower bound counts such pairs once. How many to take off. */
static pt_status lower_overlap(struct phase *ph, struct uf *u, const uint8_t *mark,
                               uint64_t *less)
{
    uint32_t *tset = calloc(ph->nri ? ph->nri : 1, sizeof *tset);
    if (tset == NULL) {
        return PT_ENOMEM;
    }
    for (size_t a = 0; a < ph->nri; a++) {
        if (ph->ri[a].countable) {
            tset[pt_uf_find(u, (uint32_t)a)] |= ph->ri[a].types;
        }
    }
    const uint32_t strong = 1u << PT_PHI_SSN | 1u << PT_PHI_MBI | 1u << PT_PHI_PLAN_ID |
                            1u << PT_PHI_RECORD_ID;
    uint64_t only_number = 0, only_name = 0;
    for (size_t a = 0; a < ph->nri; a++) {
        uint32_t t = tset[a];
        if (!mark[a] || t == 0) {
            continue; /* not a counted root */
        }
        bool mrn = t & 1u << PT_PHI_MRN, name = t & 1u << PT_PHI_NAME;
        bool dob = t & 1u << PT_PHI_DOB;
        only_number += mrn && !name && !dob && !(t & strong);
        only_name += name && !mrn && !(t & strong);
    }
    *less = only_number < only_name ? only_number : only_name;
    free(tset);
    return PT_OK;
}

/* The categories of data on disk (staged, present: store/q_disk.c) of each record's object;
 * the objects are in hash order. */
struct cat_arg {
    const struct pool *pool;
    uint8_t *bits;
};

static void cat_one(void *arg, const char *sha, unsigned bits)
{
    struct cat_arg *c = arg;
    size_t lo = 0, hi = c->pool->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(sha, c->pool->res[mid].sha);
        if (d == 0) {
            c->bits[mid] = (uint8_t)bits;
            return;
        }
        if (d < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
}

static pt_status record_categories(struct phase *ph, char *err, size_t errlen)
{
    PT_TRY(pt_q_disk_categorize(ph->db, err, errlen));
    struct cat_arg c = {.pool = &ph->pool, .bits = calloc(ph->pool.n ? ph->pool.n : 1, 1)};
    if (c.bits == NULL) {
        return PT_ENOMEM;
    }
    pt_status rc = pt_q_disk_category_each(ph->db, cat_one, &c);
    for (size_t a = 0; a < ph->nri; a++) {
        ph->ri[a].cats = c.bits[ph->ri[a].object];
    }
    free(c.bits);
    return rc;
}

/* Scopes of the counts: all, outbound (left), staged, present. */
static bool in_scope(const struct recinfo *r, int sc)
{
    return sc == 0 || (sc == 1 && r->outbound) || (sc == 2 && (r->cats & PT_Q_CAT_STAGED)) ||
           (sc == 3 && (r->cats & PT_Q_CAT_PRESENT));
}

/* Components of structure m (0 estimate, 1 lower, 2 upper) with a countable PHI record in
 * scope sc (in_scope). */
static pt_status count_components(struct phase *ph, int m, int sc, uint64_t *cnt)
{
    struct uf *uu[3] = {&ph->est, &ph->lower, &ph->upper};
    uint8_t *mark = calloc(ph->nri ? ph->nri : 1, 1);
    uint8_t *phi_root = calloc(ph->nri ? ph->nri : 1, 1);
    pt_status rc = PT_OK;
    if (mark == NULL || phi_root == NULL) {
        rc = PT_ENOMEM;
        goto out;
    }
    for (size_t a = 0; a < ph->nri; a++) {
        if (ph->ri[a].countable && ph->ri[a].health) {
            phi_root[pt_uf_find(uu[m], (uint32_t)a)] = 1;
        }
    }
    for (size_t a = 0; a < ph->nri; a++) {
        uint32_t root = pt_uf_find(uu[m], (uint32_t)a);
        if (ph->ri[a].countable && phi_root[root] && in_scope(&ph->ri[a], sc) &&
            !mark[root]) {
            mark[root] = 1;
            (*cnt)++;
        }
    }
    if (m == 1) {
        uint64_t less = 0;
        rc = lower_overlap(ph, uu[m], mark, &less);
        *cnt -= less;
    }
out:
    free(mark);
    free(phi_root);
    return rc;
}

/* The individuals of scope sc: estimate, lower and upper bound. */
static pt_status count_scope(struct phase *ph, int sc, uint64_t cnt[3])
{
    struct uf *uu[3] = {&ph->est, &ph->lower, &ph->upper};
    for (int m = 0; m < 3; m++) {
        PT_TRY(count_components(ph, m, sc, &cnt[m]));
    }
    /* the other people of records of several people, once per value, when no other record
     * carries their identifier */
    for (int m = 0; m < 3; m++) {
        if (m == 1) {
            continue; /* the lower bound assumes they are seen elsewhere */
        }
        for (size_t x = 0; x < ph->nextra; x++) {
            const struct extra_key *ex = ph->extra;
            const struct recinfo *rx = &ph->ri[ex[x].rec];
            bool dup = false;
            for (size_t y = 0; y < x && !dup; y++) {
                dup = ex[y].key == ex[x].key && (ex[y].which & ex[x].which);
            }
            unsigned b = m == 0 ? J_EST : J_UPPER;
            if ((ex[x].which & b) && !dup && rx->countable && rx->health &&
                in_scope(rx, sc) && !pt_uf_has(uu[m], ex[x].key)) {
                cnt[m]++;
            }
        }
    }
    return PT_OK;
}

/* The individuals rows, by state, the quality of the joins and their warnings. */
static pt_status write_individuals(struct phase *ph, const struct entity_stats *es, char *err,
                                   size_t errlen)
{
    static const char *const scopes[] = {"all", "outbound", "staged", "present"};
    pt_status rc = record_categories(ph, err, errlen);
    for (int sc = 0; sc < 4 && rc == PT_OK; sc++) {
        uint64_t cnt[3] = {0, 0, 0};
        rc = count_scope(ph, sc, cnt);
        if (rc != PT_OK) {
            break;
        }
        rc = pt_q_phi_individuals(ph->w, scopes[sc], cnt, err, errlen);
        if (sc == 0) {
            ph->res->individuals = cnt[0];
        } else if (sc == 1) {
            ph->res->individuals_outbound = cnt[0];
        }
    }
    if (rc == PT_OK) {
        rc = pt_q_phi_by_state(ph->w, err, errlen);
    }
    if (rc == PT_OK) {
        rc = pt_q_phi_quality(ph->w, ph->est.refused, ph->multi_person,
                              ph->lower.refused + ph->upper.refused, es->largest,
                              es->largest_names, es->implausible, err, errlen);
    }
    const struct {
        uint64_t n;
        enum pt_anom kind;
        const char *what;
    } warn[] = {
        {ph->est.refused, PT_ANOM_PHI_JOIN_REFUSED,
         "joins refused: records that share an identifier but whose SSN, birth date, "
         "Medicare id or record number of one system differ were kept apart"},
        {ph->multi_person, PT_ANOM_PHI_MULTI_PERSON_RECORD,
         "records hold identifiers of several people (two SSNs, record numbers or birth "
         "dates) that could not be split; they were not joined and each counts its people"},
        {es->implausible, PT_ANOM_PHI_IMPLAUSIBLE_ENTITY,
         "individuals were joined from records with more different names than the limit "
         "(PT_PHI_ENTITY_MAX_NAMES); their count may be too low"},
    };
    for (size_t w = 0; w < sizeof warn / sizeof warn[0] && rc == PT_OK; w++) {
        if (warn[w].n == 0) {
            continue;
        }
        char det[400];
        snprintf(det, sizeof det, "%llu %s", (unsigned long long)warn[w].n, warn[w].what);
        rc = anomaly(ph, 0, 0, warn[w].kind, det);
    }
    return rc;
}

/* Entities of the estimate, then the counts. */
static pt_status individuals(struct phase *ph, char *err, size_t errlen)
{
    uint32_t *eid = calloc(ph->nri ? ph->nri : 1, sizeof *eid);
    uint32_t next_id = 0;
    struct agg *ag = NULL;
    struct entity_stats es = {0, 0, 0};
    pt_status rc = eid == NULL ? PT_EDB : assign_entities(ph, eid, &next_id, &ag);
    if (rc == PT_OK) {
        rc = write_entities(ph, eid, next_id, ag, &es);
    }
    if (rc == PT_OK) {
        rc = write_individuals(ph, &es, err, errlen);
    }
    free(ag);
    free(eid);
    return rc;
}

/* Start the scanning threads (*started of them); PT_EINTERNAL when none starts. */
static pt_status pool_start(struct pool *pool, unsigned threads, pthread_t th[64],
                            unsigned *started, char *err, size_t errlen)
{
    unsigned nth = threads ? threads : 1;
    *started = 0;
    for (unsigned i = 0; i < nth && i < 64; i++) {
        if (pthread_create(&th[i], NULL, pool_main, pool) == 0) {
            (*started)++;
        }
    }
    if (*started == 0) {
        snprintf(err, errlen, "cannot start the scanning threads");
        return PT_EINTERNAL;
    }
    return PT_OK;
}

/* Let the scanners finish (they stop taking work once everything is taken). */
static void pool_stop(struct pool *pool, pthread_t th[64], unsigned started)
{
    pthread_mutex_lock(&pool->mu);
    pool->written = pool->n;
    pool->next = pool->n;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
    }
}

static void phase_free(struct phase *ph)
{
    struct pool *pool = &ph->pool;
    for (size_t i = 0; i < pool->n; i++) {
        result_free(&pool->res[i]);
        free(pool->res[i].name);
        free(pool->res[i].protocol);
        free(pool->res[i].direction);
        free(pool->res[i].mime);
        free(pool->res[i].pack);
    }
    free(pool->res);
    free(ph->outbound.v);
    free(ph->extra);
    pt_uf_free(&ph->est);
    pt_uf_free(&ph->lower);
    pt_uf_free(&ph->upper);
    free(ph->ri);
    pt_hmac_free(ph->mac);
    OPENSSL_cleanse(ph->key, sizeof ph->key);
    free(ph);
}

/* Scan the objects on the pool's threads and write what they hold in hash order. */
static pt_status scan_and_write(struct phase *ph, char *err, size_t errlen)
{
    struct pool *pool = &ph->pool;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    pthread_t th[64];
    unsigned started = 0;
    pt_status rc = pool_start(pool, ph->o->threads, th, &started, err, errlen);
    if (rc == PT_OK) {
        ph->dob_class = key64(ph->mac, "class", "dob", "");
        for (size_t i = 0; i < pool->n && rc == PT_OK; i++) {
            rc = write_object(ph, i);
        }
        if (rc != PT_OK && err[0] == '\0') {
            snprintf(err, errlen, "writing PHI results: %s", pt_q_phi_errmsg(ph->w));
        }
        pool_stop(pool, th, started);
        ph->res->records = ph->nri;
        if (rc == PT_OK && (pt_hmac_failed(ph->mac) || atomic_load(&pool->mac_failed))) {
            /* a zeroed MAC would join unrelated people: the stage fails, the case is
             * incomplete (exit 2) */
            snprintf(err, errlen, "keyed hashes of PHI values could not be computed (out of "
                                  "memory)");
            rc = PT_ENOMEM;
        }
        if (rc == PT_OK) {
            rc = individuals(ph, err, errlen);
        }
    }
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    return rc;
}

pt_status pt_phi_phase(struct pt_db *db, const struct pt_phi_options *o, struct pt_phi_result *res,
                       char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    struct phase *ph = calloc(1, sizeof *ph);
    if (ph == NULL) {
        return PT_ENOMEM;
    }
    *ph = (struct phase){.db = db, .o = o, .res = res,
                         .pool = {.case_dir = o->case_dir, .yara = o->yara, .key = ph->key}};
    pt_status rc = pt_phi_key(o->case_dir, ph->key, err, errlen);
    if (rc == PT_OK && (ph->mac = pt_hmac_new(ph->key, sizeof ph->key)) == NULL) {
        rc = PT_ENOMEM;
    }
    /* the objects, in hash order, with their first evidence item; and those that left */
    if (rc == PT_OK) {
        rc = pt_q_phi_objects(db, take_object, ph, err, errlen);
    }
    res->objects = ph->pool.n;
    if (rc == PT_OK) {
        rc = pt_q_phi_begin(db, &ph->w, err, errlen);
    }
    if (rc == PT_OK) {
        rc = scan_and_write(ph, err, errlen);
        pt_status c = pt_q_phi_end(ph->w, rc == PT_OK, err, errlen);
        rc = rc == PT_OK ? c : rc;
    }
    phase_free(ph);
    return rc;
}
