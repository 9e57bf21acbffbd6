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
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../analyze/objstore.h"
#include "../core/grow.h"
#include "../core/limits.h"
#include "../core/log.h"
#include "../core/sha256.h"
#include "../ingest/sniff.h"
#include "../store/db.h"
#include "../store/q_disk.h"
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

static void hmac_hex(struct pt_hmac *key, const char *type, const char *value, char hex[65],
                     uint64_t *key64)
{
    uint8_t mac[32];
    char buf[1200];
    int bl = snprintf(buf, sizeof buf, "%s:%s", type, value);
    if (bl < 0) {
        bl = 0;
    }
    pt_hmac_sha256(key, buf, (size_t)(bl < (int)sizeof buf ? bl : (int)sizeof buf - 1), NULL, 0,
                   mac);
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

/* ---- per-object results ------------------------------------------------------------------------ */

struct rhit {
    enum pt_phi_type type;
    char *value, *field, *reason, *issuer;
    const char *detector;   /* static strings of the parsers */
    uint64_t offset;
    double conf;
    char state[3];
    bool subject;
};

struct rrec {
    char *kind;
    uint64_t offset;
    bool health;
    char *health_reason;
    size_t first, n;        /* hits */
};

struct ranom {
    uint64_t offset;
    enum pt_anom kind;
    char *detail;
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
    enum pt_phi_format fmt;
    struct rrec *recs;
    size_t nrec, caprec;
    struct rhit *hits;
    size_t nhit, caphit;
    struct ranom *anoms;
    size_t nanom, capanom;
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

static void sink_record(void *arg, const char *kind, uint64_t offset)
{
    struct oresult *r = arg;
    if (!pt_grow(&r->recs, &r->caprec, r->nrec + 1, sizeof *r->recs, 16)) {
        r->oom = true; /* said by a phi.no_memory anomaly when the object is written */
        return;
    }
    r->recs[r->nrec++] = (struct rrec){.kind = sdup(kind), .offset = offset, .first = r->nhit};
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
    *x = (struct rhit){.type = h->type, .value = sdup(h->value), .field = sdup(h->field),
                       .reason = sdup(h->reason), .issuer = sdup(h->issuer),
                       .detector = h->detector, .offset = h->offset, .conf = h->confidence,
                       .subject = h->subject};
    snprintf(x->state, sizeof x->state, "%s", h->state ? h->state : "");
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
        c->health_reason = sdup(what);
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
    r->anoms[r->nanom++] = (struct ranom){offset, kind, sdup(detail)};
}

static void result_free(struct oresult *r)
{
    for (size_t i = 0; i < r->nrec; i++) {
        free(r->recs[i].kind);
        free(r->recs[i].health_reason);
    }
    for (size_t i = 0; i < r->nhit; i++) {
        free(r->hits[i].value);
        free(r->hits[i].field);
        free(r->hits[i].reason);
        free(r->hits[i].issuer);
    }
    for (size_t i = 0; i < r->nanom; i++) {
        free(r->anoms[i].detail);
    }
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
    if (r->nym == r->capym) {
        size_t nc = r->capym ? r->capym * 2 : 4;
        struct ymatch *ny = realloc(r->ym, nc * sizeof *ny);
        if (ny == NULL) {
            return;
        }
        r->ym = ny;
        r->capym = nc;
    }
    r->ym[r->nym++] = (struct ymatch){sdup(m->rule), sdup(m->ns), sdup(m->tags),
                                      sdup(m->description), sdup(m->category),
                                      sdup(m->severity), sdup(m->reference), m->offset,
                                      m->strings};
}

static void scan_object(const char *case_dir, struct oresult *r, struct pt_yara_scanner *ys)
{
    struct pt_objbytes ob;
    if (!pt_object_load(case_dir, r->sha, r->pack, r->pack_off, r->size, &ob)) {
        r->error = "object file missing or unreadable";
        return;
    }
    if (ob.n == 0) {
        pt_object_release(&ob);
        return;
    }
    const uint8_t *m = ob.p;
    struct pt_phi_sink sink = {.arg = r, .record = sink_record, .hit = sink_hit,
                               .health = sink_health, .anomaly = sink_anomaly};
    r->evidence = pt_sniff_evidence(m, ob.n);
    if (!r->container) {
        r->fmt = pt_phi_scan(m, ob.n, &sink);
        r->read_bytes = (uint64_t)ob.n;
        if (r->fmt == PT_PHI_FMT_NONE) {
            /* no parser opened it: its printable runs are read as carved text */
            r->read_bytes = pt_phi_strings(m, ob.n, &sink);
        }
    }
    if (ys != NULL) {
        struct pt_yara_ext ext = {r->name, r->protocol, r->direction, r->mime};
        pt_yara_scan(ys, m, ob.n, &ext, on_yara, sink_anomaly, r);
    }
    pt_object_release(&ob);
}

/* Multipart parts (HTTP) and MIME leaves (SMTP) share their flow, direction and stream
 * offset with the body or message they were cut from. */
static const char link_parts_sql[] =
    "UPDATE object SET parent_sha256 = (SELECT c.sha256 FROM object c WHERE c.flow_id = "
    "object.flow_id AND c.stream_dir IS object.stream_dir AND c.stream_off = object.stream_off "
    "AND c.protocol = object.protocol AND c.depth = object.depth AND c.id <> object.id AND "
    "coalesce(c.encoding, '') NOT LIKE 'multipart%' AND coalesce(c.encoding, '') NOT LIKE "
    "'mime%' ORDER BY c.id LIMIT 1) WHERE flow_id IS NOT NULL AND coalesce(parent_sha256, '') = "
    "'' AND (encoding LIKE 'multipart%' OR encoding LIKE 'mime%');";

/* ---- the worker pool ------------------------------------------------------------------------------ */

struct pool {
    const char *case_dir;
    const struct pt_yara *yara;
    struct oresult *res;
    size_t n;
    size_t next;            /* next object to take */
    size_t written;         /* objects the writer has finished */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *pool_main(void *arg)
{
    struct pool *p = arg;
    struct pt_yara_scanner *ys = p->yara ? pt_yara_scanner_new(p->yara, 0, 0) : NULL;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->next < p->n && p->next >= p->written + WINDOW) {
            pthread_cond_wait(&p->cv, &p->mu);
        }
        if (p->next >= p->n) {
            pthread_mutex_unlock(&p->mu);
            pt_yara_scanner_free(ys);
            return NULL;
        }
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        scan_object(p->case_dir, &p->res[i], ys);
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
    char buf[900];
    uint64_t k;
    snprintf(buf, sizeof buf, "%s%s%s", a, b[0] ? "|" : "", b);
    hmac_hex(key, group, buf, NULL, &k);
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

/* Every statement here is stepped (step_reset) right after its values are bound, while
 * they live: SQLite need not copy them. */
static void bind_s(sqlite3_stmt *st, int i, const char *v)
{
    if (v != NULL && v[0] != '\0') {
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, i);
    }
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

static pt_status record_categories(sqlite3 *h, const struct pool *p, struct recinfo *ri,
                                   size_t nri, char *err, size_t errlen)
{
    PT_TRY(pt_q_disk_categorize(h, err, errlen));
    struct cat_arg c = {.pool = p, .bits = calloc(p->n ? p->n : 1, 1)};
    if (c.bits == NULL) {
        return PT_ENOMEM;
    }
    pt_status rc = pt_q_disk_category_each(h, cat_one, &c);
    for (size_t a = 0; a < nri; a++) {
        ri[a].cats = c.bits[ri[a].object];
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

static pt_status step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

pt_status pt_phi_phase(struct pt_db *db, const struct pt_phi_options *o, struct pt_phi_result *res,
                       char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    sqlite3 *h = pt_db_handle(db);
    uint8_t key[32];
    PT_TRY(pt_phi_key(o->case_dir, key, err, errlen));

    /* the objects, in hash order, with their first evidence item; and those that left */
    struct pool pool = {.case_dir = o->case_dir, .yara = o->yara};
    struct strset outbound = {0};
    sqlite3_stmt *q = NULL;
    size_t cap = 0;
    /* Containers are scanned once: the parts of a multipart body or a MIME message are
     * linked to the body or message they came out of (archives, documents and encodings
     * were linked when unpacked), and an object with parts is not read as records itself. */
    PT_TRY(pt_db_exec(h, link_parts_sql, err, errlen));
    if (sqlite3_prepare_v2(h, "SELECT sha256, max(size), min(item_id), max(direction = 'upload'),"
                              " min(name), min(protocol), max(direction), min(mime),"
                              " sha256 IN (SELECT parent_sha256 FROM object WHERE parent_sha256"
                              " IS NOT NULL), (SELECT pack FROM object_blob b WHERE b.sha256 ="
                              " o.sha256), (SELECT offset FROM object_blob b WHERE b.sha256 ="
                              " o.sha256) FROM object o WHERE size > 0 GROUP BY sha256"
                              " ORDER BY sha256",
                           -1, &q, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(h));
        return PT_EDB;
    }
    pt_status rc = PT_OK;
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (pool.n == cap) {
            cap = cap ? cap * 2 : 256;
            struct oresult *nr = realloc(pool.res, cap * sizeof *nr);
            char(*no)[PT_SHA256_HEX] = realloc(outbound.v, cap * sizeof *no);
            if (nr == NULL || no == NULL) {
                free(nr ? nr : pool.res);
                free(no ? no : outbound.v);
                sqlite3_finalize(q);
                return PT_ENOMEM;
            }
            pool.res = nr;
            outbound.v = no;
        }
        struct oresult *r = &pool.res[pool.n];
        memset(r, 0, sizeof *r);
        snprintf(r->sha, sizeof r->sha, "%s", (const char *)sqlite3_column_text(q, 0));
        r->size = (uint64_t)sqlite3_column_int64(q, 1);
        r->item = (uint32_t)sqlite3_column_int64(q, 2);
        if (sqlite3_column_int(q, 3)) {
            memcpy(outbound.v[outbound.n++], r->sha, PT_SHA256_HEX);
        }
        r->name = sdup((const char *)sqlite3_column_text(q, 4));
        r->protocol = sdup((const char *)sqlite3_column_text(q, 5));
        r->direction = sdup((const char *)sqlite3_column_text(q, 6));
        r->mime = sdup((const char *)sqlite3_column_text(q, 7));
        r->container = sqlite3_column_int(q, 8) != 0;
        r->pack = sqlite3_column_type(q, 9) == SQLITE_NULL
                      ? NULL
                      : sdup((const char *)sqlite3_column_text(q, 9));
        r->pack_off = (uint64_t)sqlite3_column_int64(q, 10);
        pool.n++;
    }
    sqlite3_finalize(q);
    res->objects = pool.n;

    static const char *const sql[] = {
        "INSERT INTO phi_object VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
        "INSERT INTO phi_record(id, object_sha256, seq, kind, offset, health, health_reason) "
        "VALUES (?1,?2,?3,?4,?5,?6,?7)",
        "INSERT INTO phi_hit(record_id, object_sha256, offset, detector, field, type, safe_harbor, "
        "phi_class, subject, masked, hmac, state, issuer, confidence, reason) VALUES (?1,?2,?3,"
        "?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
        "INSERT OR IGNORE INTO phi_value VALUES (?1,?2,?3)",
        "INSERT INTO anomaly(item_id, frame, offset, kind, detail) VALUES (?1, NULL, ?2, ?3, ?4)",
        "INSERT INTO yara_match(object_sha256, rule, namespace, tags, description, category, "
        "severity, reference, offset, strings) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
    };
    sqlite3_stmt *st[6] = {NULL};
    struct pt_hmac *mac = NULL; /* HMAC-SHA-256 under the case key */
    for (int i = 0; i < 6; i++) {
        if (sqlite3_prepare_v2(h, sql[i], -1, &st[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s", sqlite3_errmsg(h));
            rc = PT_EDB;
            goto out;
        }
    }

    mac = pt_hmac_new(key, sizeof key);
    if (mac == NULL) {
        rc = PT_ENOMEM;
        goto out;
    }
    rc = pt_db_exec(h, "BEGIN", err, errlen);
    if (rc != PT_OK) {
        goto out;
    }
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.cv, NULL);
    unsigned nth = o->threads ? o->threads : 1;
    pthread_t th[64];
    unsigned started = 0;
    for (unsigned i = 0; i < nth && i < 64; i++) {
        if (pthread_create(&th[i], NULL, pool_main, &pool) == 0) {
            started++;
        }
    }
    if (started == 0) {
        snprintf(err, errlen, "cannot start the scanning threads");
        rc = PT_EINTERNAL;
        pt_db_exec(h, "ROLLBACK", NULL, 0);
        pthread_mutex_destroy(&pool.mu);
        pthread_cond_destroy(&pool.cv);
        goto out;
    }

    struct uf est = {0}, lower = {0}, upper = {0};
    uint64_t multi_person = 0;
    const uint64_t dob_class = key64(mac, "class", "dob", "");
    struct extra_key *extra = NULL;
    size_t nextra = 0;
    struct recinfo *ri = NULL;
    size_t nri = 0, capri = 0;
    uint32_t record_id = 0;
    for (size_t i = 0; i < pool.n && rc == PT_OK; i++) {
        pthread_mutex_lock(&pool.mu);
        while (!pool.res[i].ready) {
            pthread_cond_wait(&pool.cv, &pool.mu);
        }
        pthread_mutex_unlock(&pool.mu);
        struct oresult *r = &pool.res[i];
        bool out_obj = bsearch(r->sha, outbound.v, outbound.n, sizeof *outbound.v, cmp_sha) != NULL;
        for (size_t a = 0; a < r->nanom; a++) {
            sqlite3_bind_int64(st[4], 1, r->item);
            sqlite3_bind_int64(st[4], 2, (sqlite3_int64)r->anoms[a].offset);
            bind_s(st[4], 3, pt_anom_kind(r->anoms[a].kind));
            char det[400];
            snprintf(det, sizeof det, "object %.16s: %s", r->sha, r->anoms[a].detail);
            bind_s(st[4], 4, det);
            rc = rc == PT_OK ? step_reset(st[4]) : rc;
        }
        if (r->capped) {
            sqlite3_bind_int64(st[4], 1, r->item);
            sqlite3_bind_int64(st[4], 2, 0);
            bind_s(st[4], 3, pt_anom_kind(PT_ANOM_LIMIT_PHI_HITS));
            bind_s(st[4], 4, "more PHI hits in one object than the limit; the rest were not recorded");
            rc = rc == PT_OK ? step_reset(st[4]) : rc;
        }
        if (r->oom) {
            sqlite3_bind_int64(st[4], 1, r->item);
            sqlite3_bind_int64(st[4], 2, 0);
            bind_s(st[4], 3, pt_anom_kind(PT_ANOM_PHI_NO_MEMORY));
            bind_s(st[4], 4,
                   "out of memory while scanning: PHI records or hits of this object were "
                   "not recorded");
            rc = rc == PT_OK ? step_reset(st[4]) : rc;
        }
        for (size_t y = 0; y < r->nym && rc == PT_OK; y++) {
            struct ymatch *m = &r->ym[y];
            bind_s(st[5], 1, r->sha);
            bind_s(st[5], 2, m->rule);
            bind_s(st[5], 3, m->ns);
            bind_s(st[5], 4, m->tags);
            bind_s(st[5], 5, m->description);
            bind_s(st[5], 6, m->category);
            bind_s(st[5], 7, m->severity);
            bind_s(st[5], 8, m->reference);
            sqlite3_bind_int64(st[5], 9, (sqlite3_int64)m->offset);
            sqlite3_bind_int64(st[5], 10, m->strings);
            rc = step_reset(st[5]);
            res->yara_matches++;
        }
        uint64_t phi_hits = 0;
        size_t first_ri = nri;
        for (size_t k = 0; k < r->nrec && rc == PT_OK; k++) {
            struct rrec *rec = &r->recs[k];
            /* record numbers and plan ids imply a healthcare relationship */
            for (size_t x = rec->first; x < rec->first + rec->n; x++) {
                enum pt_phi_type t = r->hits[x].type;
                if (!rec->health && (t == PT_PHI_MRN || t == PT_PHI_PLAN_ID || t == PT_PHI_MBI ||
                                     t == PT_PHI_DIAGNOSIS)) {
                    rec->health = true;
                    rec->health_reason = sdup("record number, health plan id or diagnosis");
                }
            }
            if (rec->n == 0) {
                continue; /* a record without identifiers is not stored */
            }
            record_id++;
            if (!pt_uf_add(&est) || !pt_uf_add(&lower) || !pt_uf_add(&upper)) {
                rc = PT_ENOMEM;
                break;
            }
            if (nri == capri) {
                capri = capri ? capri * 2 : 1024;
                struct recinfo *nr2 = realloc(ri, capri * sizeof *nr2);
                if (nr2 == NULL) {
                    rc = PT_ENOMEM;
                    break;
                }
                ri = nr2;
            }
            struct recinfo *info = &ri[nri++];
            memset(info, 0, sizeof *info);
            info->object = (uint32_t)i;
            info->health = rec->health;
            info->outbound = out_obj;
            sqlite3_bind_int64(st[1], 1, record_id);
            bind_s(st[1], 2, r->sha);
            sqlite3_bind_int64(st[1], 3, (sqlite3_int64)k);
            bind_s(st[1], 4, rec->kind);
            sqlite3_bind_int64(st[1], 5, (sqlite3_int64)rec->offset);
            sqlite3_bind_int(st[1], 6, rec->health);
            bind_s(st[1], 7, rec->health_reason);
            rc = step_reset(st[1]);
            const char *name = NULL, *dob = NULL;
            unsigned state_votes = 0;
            struct joinset js;
            memset(&js, 0, sizeof js);
            for (size_t x = rec->first; x < rec->first + rec->n && rc == PT_OK; x++) {
                struct rhit *hh = &r->hits[x];
                const char *tn = pt_phi_type_name(hh->type);
                char hex[65], masked[256];
                uint64_t k64;
                hmac_hex(mac, tn, hh->value, hex, &k64);
                pt_phi_mask(tn, hh->value, masked, sizeof masked);
                char letter[2] = {pt_phi_type_letter(hh->type), 0};
                if (letter[0] == ' ') {
                    letter[0] = '\0';
                }
                sqlite3_bind_int64(st[2], 1, record_id);
                bind_s(st[2], 2, r->sha);
                sqlite3_bind_int64(st[2], 3, (sqlite3_int64)hh->offset);
                bind_s(st[2], 4, hh->detector);
                bind_s(st[2], 5, hh->field);
                bind_s(st[2], 6, tn);
                sqlite3_bind_text(st[2], 7, letter, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st[2], 8, rec->health ? "PHI" : "PII", -1, SQLITE_STATIC);
                sqlite3_bind_int(st[2], 9, hh->subject);
                bind_s(st[2], 10, masked);
                bind_s(st[2], 11, hex);
                bind_s(st[2], 12, hh->state);
                bind_s(st[2], 13, hh->issuer);
                sqlite3_bind_double(st[2], 14, hh->conf);
                bind_s(st[2], 15, hh->reason);
                rc = step_reset(st[2]);
                if (o->keep_phi && rc == PT_OK) {
                    bind_s(st[3], 1, hex);
                    bind_s(st[3], 2, tn);
                    sqlite3_bind_text(st[3], 3, hh->value, -1, SQLITE_TRANSIENT);
                    rc = step_reset(st[3]);
                }
                res->hits++;
                phi_hits += rec->health;
                if (!hh->subject) {
                    continue;
                }
                info->types |= 1u << hh->type;
                info->deceased = info->deceased || hh->type == PT_PHI_DEATH;
                if (hh->state[0] != '\0' && state_votes == 0) {
                    memcpy(info->state, hh->state, 3);
                    state_votes++;
                }
                if (hh->type == PT_PHI_NAME && name == NULL) {
                    name = hh->value;
                    snprintf(info->name_masked, sizeof info->name_masked, "%.63s", masked);
                }
                if (hh->type == PT_PHI_DOB && dob == NULL) {
                    dob = hh->value;
                }
                if (pt_phi_type_joins(hh->type)) {
                    char shape[64];
                    const char *grp = pt_entity_join_group(hh->type);
                    if (hh->type == PT_PHI_MRN) {
                        /* estimate: the same number of the same shape (issuers are often
                         * missing on one side); lower: the same number; upper: the same
                         * issuer, or else the same object. Two numbers of one issuer (or,
                         * without one, of one shape) never join. */
                        pt_entity_mrn_shape(hh->value, shape, sizeof shape);
                        uint64_t ke = key64(mac, "mrn", shape, hh->value);
                        uint64_t kl = key64(mac, "mrn", "", hh->value);
                        uint64_t ku = hh->issuer[0] != '\0'
                                          ? key64(mac, "mrn-issuer", hh->issuer, hh->value)
                                          : key64(mac, "mrn-object", r->sha, hh->value);
                        if (hh->issuer[0] != '\0') {
                            snprintf(shape, sizeof shape, "issuer %.50s", hh->issuer);
                        }
                        uint64_t cls = key64(mac, "class", "mrn", shape);
                        pt_js_key(&js, J_EST, ke, cls, ke);
                        pt_js_key(&js, J_LOWER, kl, cls, ke);
                        pt_js_key(&js, J_UPPER, ku, cls, ke);
                        pt_js_attr(&js, cls, ke);
                    } else {
                        uint64_t ke = key64(mac, grp, hh->value, "");
                        uint64_t cls = 0;
                        if (hh->type == PT_PHI_SSN || hh->type == PT_PHI_MBI) {
                            cls = key64(mac, "class", grp, "");
                            pt_js_attr(&js, cls, ke);
                        }
                        pt_js_key(&js, J_EST | J_LOWER | J_UPPER, ke, cls, ke);
                    }
                    info->countable = true;
                }
                if (hh->type == PT_PHI_DOB) {
                    pt_js_attr(&js, dob_class, k64);
                }
            }
            char folded[600] = "";
            if (name != NULL) {
                pt_phi_name_fold(name, folded, sizeof folded);
                pt_entity_name_key(folded);
            }
            if (name != NULL && pt_entity_not_a_person(folded)) {
                /* a QA phantom or test patient (DICOM "QA^PHANTOM"): nobody to count */
                info->countable = false;
                continue;
            }
            if (name != NULL) {
                info->countable = true;
                info->name_key = key64(mac, "name-only", folded, "");
                pt_js_key(&js, J_LOWER, info->name_key, 0, 0);
                if (dob != NULL) {
                    pt_js_key(&js, J_EST | J_LOWER, key64(mac, "name-dob", folded, dob), 0, 0);
                    char od[700];
                    snprintf(od, sizeof od, "%s|%s", r->sha, folded);
                    pt_js_key(&js, J_UPPER, key64(mac, "name-dob-object", od, dob), 0, 0);
                }
            }
            uint64_t anchor = 0;
            unsigned people = pt_js_people(&js, &anchor);
            uint64_t keep = 0; /* with several people: the value of the one this record keeps */
            if (people > 1) {
                /* identifiers of several people in one record that no layout rule could
                 * split: the record stands for the first value of the class with the most
                 * values, joins only through it, and the other values count as people
                 * unless another record carries them */
                multi_person++;
                for (unsigned a = 0; a < js.nat && keep == 0; a++) {
                    keep = js.at[a].cls == anchor ? js.at[a].val : 0;
                }
            }
            uint32_t rid = record_id - 1;
            struct uf *us[3] = {&est, &lower, &upper};
            static const unsigned bit[3] = {J_EST, J_LOWER, J_UPPER};
            for (unsigned a = 0; a < js.nat; a++) {
                if (people > 1 && (js.at[a].cls != anchor || js.at[a].val != keep)) {
                    continue;
                }
                for (int m = 0; m < 3; m++) {
                    if (m == 1 && js.at[a].cls == dob_class) {
                        continue; /* the lower bound allows a mistyped birth date */
                    }
                    pt_uf_attrs_add(&us[m]->at[rid], js.at[a].cls, js.at[a].val);
                }
            }
            for (unsigned a = 0; a < js.nk; a++) {
                struct jkey *jk = &js.k[a];
                if (people > 1 && jk->cls != anchor) {
                    continue;
                }
                if (people > 1 && jk->val != keep) {
                    if (nextra < PT_PHI_MAX_HITS_PER_OBJECT) {
                        struct extra_key *nx = realloc(extra, (nextra + 1) * sizeof *nx);
                        if (nx != NULL) {
                            extra = nx;
                            extra[nextra++] = (struct extra_key){rid, jk->key, jk->which};
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
        /* individuals in this object: distinct estimate roots of its records (so far: joins
         * through later objects do not change who is in this one) */
        size_t indiv = 0;
        if (nri > first_ri) {
            uint32_t *roots = malloc((nri - first_ri) * sizeof *roots);
            size_t nr = 0;
            for (size_t a = first_ri; roots != NULL && a < nri; a++) {
                if (ri[a].countable) {
                    roots[nr++] = pt_uf_find(&est, (uint32_t)a);
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
        if (rc == PT_OK) {
            bind_s(st[0], 1, r->sha);
            bind_s(st[0], 2, r->container ? "container"
                             : r->fmt == PT_PHI_FMT_NONE ? "binary-strings"
                                                         : pt_phi_format_name(r->fmt));
            sqlite3_bind_int64(st[0], 3, (sqlite3_int64)(nri - first_ri));
            sqlite3_bind_int64(st[0], 4, (sqlite3_int64)r->nhit);
            sqlite3_bind_int64(st[0], 5, (sqlite3_int64)phi_hits);
            sqlite3_bind_int64(st[0], 6, (sqlite3_int64)indiv);
            sqlite3_bind_int64(st[0], 7, (sqlite3_int64)r->read_bytes);
            bind_s(st[0], 8, r->evidence);
            rc = step_reset(st[0]);
        }
        res->phi_hits += phi_hits;
        result_free(r);
        pthread_mutex_lock(&pool.mu);
        pool.written = i + 1;
        pthread_cond_broadcast(&pool.cv);
        pthread_mutex_unlock(&pool.mu);
    }
    if (rc != PT_OK && err[0] == '\0') {
        snprintf(err, errlen, "writing PHI results: %s", sqlite3_errmsg(h));
    }
    /* let the scanners finish (they stop taking work once everything is taken) */
    pthread_mutex_lock(&pool.mu);
    pool.written = pool.n;
    pool.next = pool.n;
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
    }
    res->records = nri;

    /* entities of the estimate: ids in order of first sight */
    if (rc == PT_OK) {
        uint32_t *eid = calloc(nri ? nri : 1, sizeof *eid);
        uint32_t next_id = 0;
        sqlite3_stmt *ue = NULL, *ie = NULL;
        if (eid == NULL ||
            sqlite3_prepare_v2(h, "UPDATE phi_record SET entity_id = ?1 WHERE id = ?2", -1, &ue,
                               NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(h, "INSERT INTO patient_entity VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)", -1,
                               &ie, NULL) != SQLITE_OK) {
            rc = PT_EDB;
        }
        uint32_t largest = 0, largest_names = 0, implausible = 0;
        for (size_t a = 0; a < nri && rc == PT_OK; a++) {
            if (!ri[a].countable) {
                continue;
            }
            uint32_t root = pt_uf_find(&est, (uint32_t)a);
            if (eid[root] == 0) {
                eid[root] = ++next_id;
            }
            sqlite3_bind_int64(ue, 1, eid[root]);
            sqlite3_bind_int64(ue, 2, (sqlite3_int64)a + 1);
            rc = step_reset(ue);
        }
        /* aggregate per entity */
        struct agg {
            uint32_t records, objects, last_object, types;
            bool phi, outbound, deceased;
            char state[3];
            char name[64];
            uint32_t names;     /* distinct names (folded) */
        } *ag = calloc(next_id + 1, sizeof *ag);
        if (ag == NULL && rc == PT_OK) {
            rc = PT_ENOMEM;
        }
        /* distinct names per entity: (entity, name key) pairs sorted */
        struct ename_key *en = calloc(nri ? nri : 1, sizeof *en);
        size_t nen = 0;
        if (en == NULL && rc == PT_OK) {
            rc = PT_ENOMEM;
        }
        for (size_t a = 0; a < nri && rc == PT_OK; a++) {
            if (ri[a].countable && ri[a].name_key != 0) {
                en[nen++] = (struct ename_key){eid[pt_uf_find(&est, (uint32_t)a)], ri[a].name_key};
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
        for (size_t a = 0; a < nri && rc == PT_OK; a++) {
            if (!ri[a].countable) {
                continue;
            }
            struct agg *g = &ag[eid[pt_uf_find(&est, (uint32_t)a)]];
            g->records++;
            if (g->objects == 0 || g->last_object != ri[a].object + 1) {
                g->objects++;
                g->last_object = ri[a].object + 1;
            }
            g->types |= ri[a].types;
            g->phi = g->phi || ri[a].health;
            g->outbound = g->outbound || ri[a].outbound;
            g->deceased = g->deceased || ri[a].deceased;
            if (g->state[0] == '\0' && ri[a].state[0] != '\0') {
                memcpy(g->state, ri[a].state, 3);
            }
            if (g->name[0] == '\0' && ri[a].name_masked[0] != '\0') {
                memcpy(g->name, ri[a].name_masked, sizeof g->name);
            }
        }
        for (uint32_t e = 1; e <= next_id && rc == PT_OK; e++) {
            char types[256] = "";
            for (int t = 0; t < PT_PHI_N_TYPES; t++) {
                if (ag[e].types & (1u << t)) {
                    size_t l = strlen(types);
                    snprintf(types + l, sizeof types - l, "%s%s", l ? "," : "",
                             pt_phi_type_name((enum pt_phi_type)t));
                }
            }
            sqlite3_bind_int64(ie, 1, e);
            sqlite3_bind_int64(ie, 2, ag[e].records);
            sqlite3_bind_int64(ie, 3, ag[e].objects);
            sqlite3_bind_text(ie, 4, types, -1, SQLITE_TRANSIENT);
            bind_s(ie, 5, ag[e].state);
            sqlite3_bind_int(ie, 6, ag[e].phi);
            sqlite3_bind_int(ie, 7, ag[e].outbound);
            bind_s(ie, 8, ag[e].name);
            sqlite3_bind_int(ie, 9, ag[e].deceased);
            sqlite3_bind_int64(ie, 10, ag[e].names);
            rc = step_reset(ie);
            if (ag[e].records > largest) {
                largest = ag[e].records;
            }
            if (ag[e].names > largest_names) {
                largest_names = ag[e].names;
            }
            implausible += ag[e].names > PT_PHI_ENTITY_MAX_NAMES;
        }
        if (rc == PT_OK) {
            rc = record_categories(h, &pool, ri, nri, err, errlen);
        }
        /* counts: components of each structure among countable PHI records */
        static const char *const scopes[] = {"all", "outbound", "staged", "present"};
        static const char *const dead[] = {"", " AND outbound = 1",
            " AND id IN (SELECT entity_id FROM individual_category WHERE category = 'staged')",
            " AND id IN (SELECT entity_id FROM individual_category WHERE category = 'present')"};
        for (int sc = 0; sc < 4 && rc == PT_OK; sc++) {
            uint64_t cnt[3] = {0, 0, 0};
            struct uf *uu[3] = {&est, &lower, &upper};
            for (int m = 0; m < 3; m++) {
                /* a root counts when its component has a countable PHI record in scope */
                uint8_t *mark = calloc(nri ? nri : 1, 1);
                uint8_t *phi_root = calloc(nri ? nri : 1, 1);
                if (mark == NULL || phi_root == NULL) {
                    free(mark);
                    free(phi_root);
                    rc = PT_ENOMEM;
                    break;
                }
                for (size_t a = 0; a < nri; a++) {
                    if (ri[a].countable && ri[a].health) {
                        phi_root[pt_uf_find(uu[m], (uint32_t)a)] = 1;
                    }
                }
                for (size_t a = 0; a < nri; a++) {
                    uint32_t root = pt_uf_find(uu[m], (uint32_t)a);
                    if (ri[a].countable && phi_root[root] && in_scope(&ri[a], sc) &&
                        !mark[root]) {
                        mark[root] = 1;
                        cnt[m]++;
                    }
                }
                if (m == 1) {
                    /* partial records: an individual known only by a record number (no name,
                     * birth date or other identifier) may be one of those known only by
                     * name, whose record number the evidence never shows; the lower bound
                     * counts such pairs once */
                    uint32_t *tset = calloc(nri ? nri : 1, sizeof *tset);
                    if (tset == NULL) {
                        free(mark);
                        free(phi_root);
                        rc = PT_ENOMEM;
                        break;
                    }
                    for (size_t a = 0; a < nri; a++) {
                        if (ri[a].countable) {
                            tset[pt_uf_find(uu[m], (uint32_t)a)] |= ri[a].types;
                        }
                    }
                    const uint32_t strong = 1u << PT_PHI_SSN | 1u << PT_PHI_MBI |
                                            1u << PT_PHI_PLAN_ID | 1u << PT_PHI_RECORD_ID;
                    uint64_t only_number = 0, only_name = 0;
                    for (size_t a = 0; a < nri; a++) {
                        uint32_t t = tset[a];
                        if (!mark[a] || t == 0) {
                            continue; /* not a counted root */
                        }
                        bool mrn = t & 1u << PT_PHI_MRN, name = t & 1u << PT_PHI_NAME;
                        bool dob = t & 1u << PT_PHI_DOB;
                        only_number += mrn && !name && !dob && !(t & strong);
                        only_name += name && !mrn && !(t & strong);
                    }
                    cnt[m] -= only_number < only_name ? only_number : only_name;
                    free(tset);
                }
                free(mark);
                free(phi_root);
            }
            if (rc != PT_OK) {
                break;
            }
            /* the other people of records of several people, once per value, when no other
             * record carries their identifier */
            for (int m = 0; m < 3; m++) {
                if (m == 1) {
                    continue; /* the lower bound assumes they are seen elsewhere */
                }
                for (size_t x = 0; x < nextra; x++) {
                    const struct recinfo *rx = &ri[extra[x].rec];
                    bool dup = false;
                    for (size_t y = 0; y < x && !dup; y++) {
                        dup = extra[y].key == extra[x].key && (extra[y].which & extra[x].which);
                    }
                    unsigned b = m == 0 ? J_EST : J_UPPER;
                    if ((extra[x].which & b) && !dup && rx->countable && rx->health &&
                        in_scope(rx, sc) && !pt_uf_has(uu[m], extra[x].key)) {
                        cnt[m]++;
                    }
                }
            }
            char sqlq[1400];
            snprintf(sqlq, sizeof sqlq,
                     "INSERT INTO individuals VALUES ('%s', %llu, %llu, %llu, 'union-find over "
                     "records (HL7 message, DICOM data set, FHIR resource, CSV row, text line or "
                     "block): estimate joins SSN, record numbers of one numbering system, plan "
                     "and Medicare ids, FHIR Patient ids, and name with birth date; never two "
                     "components whose SSN, birth date, Medicare id or record number of one "
                     "system differ; lower bound also joins equal names and record numbers "
                     "across systems; upper bound joins record numbers without an issuer and "
                     "names with birth date only inside one object. Individuals with health "
                     "information only.', "
                     "(SELECT count(*) FROM patient_entity WHERE phi = 1 AND deceased = 1%s))",
                     scopes[sc], (unsigned long long)cnt[0], (unsigned long long)cnt[1],
                     (unsigned long long)cnt[2], dead[sc]);
            rc = pt_db_exec(h, sqlq, err, errlen);
            if (sc == 0) {
                res->individuals = cnt[0];
            } else if (sc == 1) {
                res->individuals_outbound = cnt[0];
            }
        }
        if (rc == PT_OK) {
            rc = pt_db_exec(h,
                          "INSERT INTO individuals_by_state SELECT 'all', coalesce(state, "
                          "'unknown'), count(*) FROM patient_entity WHERE phi = 1 GROUP BY 2;"
                          "INSERT INTO individuals_by_state SELECT 'outbound', coalesce(state, "
                          "'unknown'), count(*) FROM patient_entity WHERE phi = 1 AND outbound = 1 "
                          "GROUP BY 2;",
                          err, errlen);
        }
        if (rc == PT_OK) {
            char sqlq[600];
            snprintf(sqlq, sizeof sqlq,
                     "INSERT INTO individuals_quality VALUES (%llu, %llu, %llu, %u, %u, %u)",
                     (unsigned long long)est.refused, (unsigned long long)multi_person,
                     (unsigned long long)(lower.refused + upper.refused), largest, largest_names,
                     implausible);
            rc = pt_db_exec(h, sqlq, err, errlen);
        }
        const struct {
            uint64_t n;
            enum pt_anom kind;
            const char *what;
        } warn[] = {
            {est.refused, PT_ANOM_PHI_JOIN_REFUSED,
             "joins refused: records that share an identifier but whose SSN, birth date, "
             "Medicare id or record number of one system differ were kept apart"},
            {multi_person, PT_ANOM_PHI_MULTI_PERSON_RECORD,
             "records hold identifiers of several people (two SSNs, record numbers or birth "
             "dates) that could not be split; they were not joined and each counts its people"},
            {implausible, PT_ANOM_PHI_IMPLAUSIBLE_ENTITY,
             "individuals were joined from records with more different names than the limit "
             "(PT_PHI_ENTITY_MAX_NAMES); their count may be too low"},
        };
        for (size_t w = 0; w < sizeof warn / sizeof warn[0] && rc == PT_OK; w++) {
            if (warn[w].n == 0) {
                continue;
            }
            char det[400];
            snprintf(det, sizeof det, "%llu %s", (unsigned long long)warn[w].n, warn[w].what);
            sqlite3_bind_null(st[4], 1);
            sqlite3_bind_int64(st[4], 2, 0);
            bind_s(st[4], 3, pt_anom_kind(warn[w].kind));
            bind_s(st[4], 4, det);
            rc = step_reset(st[4]);
        }
        free(ag);
        free(eid);
        sqlite3_finalize(ue);
        sqlite3_finalize(ie);
    }
    if (rc == PT_OK) {
        rc = pt_db_exec(h, "COMMIT", err, errlen);
    } else {
        char ignored[256];
        pt_db_exec(h, "ROLLBACK", ignored, sizeof ignored);
    }
    free(extra);
    pt_uf_free(&est);
    pt_uf_free(&lower);
    pt_uf_free(&upper);
    free(ri);
    pthread_mutex_destroy(&pool.mu);
    pthread_cond_destroy(&pool.cv);
out:
    for (int i = 0; i < 6; i++) {
        sqlite3_finalize(st[i]);
    }
    for (size_t i = 0; i < pool.n; i++) {
        result_free(&pool.res[i]);
        free(pool.res[i].name);
        free(pool.res[i].protocol);
        free(pool.res[i].direction);
        free(pool.res[i].mime);
        free(pool.res[i].pack);
    }
    free(pool.res);
    free(outbound.v);
    pt_hmac_free(mac);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}
