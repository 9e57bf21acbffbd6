/*
 * q_phi.c - the PHI stage's rows (see q_phi.h).
 */
#include "q_phi.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_handle.h"
#include "phi_pack.h"

/* Containers are scanned once: the parts of a multipart body or a MIME message are linked
 * to the body or message they came out of (archives, documents and encodings were linked
 * when unpacked), and an object with parts is not read as records itself. Parts share the
 * flow, direction and stream offset with the body or message they were cut from. */
static const char link_parts_sql[] =
    "CREATE TEMP TABLE part_enc AS SELECT id FROM object_str WHERE str LIKE 'multipart%' OR str "
    "LIKE 'mime%';"
    "UPDATE object_row AS o SET parent = (SELECT c.sha FROM object_row c WHERE c.flow_id = "
    "o.flow_id AND c.stream_dir IS o.stream_dir AND c.stream_off = o.stream_off AND c.protocol "
    "= o.protocol AND c.depth = o.depth AND c.id <> o.id AND coalesce(c.encoding, 0) NOT IN "
    "(SELECT id FROM temp.part_enc) ORDER BY c.id LIMIT 1) WHERE flow_id IS NOT NULL AND parent "
    "IS NULL AND encoding IN (SELECT id FROM temp.part_enc);"
    "DROP TABLE temp.part_enc;";

static const char *text(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? (const char *)t : "";
}

pt_status pt_q_phi_objects(struct pt_db *db, bool (*fn)(void *arg, const struct pt_q_phi_object *o),
                           void *arg, char *err, size_t errlen)
{
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *q = NULL;
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
    while (rc == PT_OK && sqlite3_step(q) == SQLITE_ROW) {
        struct pt_q_phi_object o = {
            .sha256 = text(q, 0),
            .size = (uint64_t)sqlite3_column_int64(q, 1),
            .item = (uint32_t)sqlite3_column_int64(q, 2),
            .upload = sqlite3_column_int(q, 3) != 0,
            .name = text(q, 4),
            .protocol = text(q, 5),
            .direction = text(q, 6),
            .mime = text(q, 7),
            .container = sqlite3_column_int(q, 8) != 0,
            .pack = sqlite3_column_type(q, 9) == SQLITE_NULL ? NULL : text(q, 9),
            .pack_off = (uint64_t)sqlite3_column_int64(q, 10),
        };
        rc = fn(arg, &o) ? PT_OK : PT_ENOMEM;
    }
    sqlite3_finalize(q);
    return rc;
}

enum { Q_OBJECT, Q_RECORD, Q_VALUE, Q_YARA, Q_RECORD_ENTITY, Q_ENTITY, Q_IDENT_ALL,
       Q_IDENT_ADD, Q_SITE_FIND, Q_SITE_ADD, Q_OBJECT_TYPE, Q_RULE_FIND, Q_RULE_ADD,
       Q_KIND_FIND, Q_KIND_ADD, Q_TC_FIND, Q_TC_ADD, Q_N };

static const char *const q_sql[Q_N] = {
    [Q_OBJECT] = "INSERT INTO phi_object_row VALUES (?1,(SELECT min(id) FROM object_row WHERE "
                 "sha = ?2),?3,?4,?5,?6,?7,?8,?9,?10)",
    [Q_RECORD] = "INSERT INTO phi_record_row(id, object_id, skipped, kind_id, offset, health, "
                 "hit_widths, hits) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
    [Q_VALUE] = "INSERT OR IGNORE INTO phi_value VALUES (?1,?2,?3)",
    [Q_YARA] = "INSERT INTO yara_hit(object_id, rule_id, offset, strings) VALUES (?1,?2,?3,?4)",
    [Q_RECORD_ENTITY] = "UPDATE phi_record_row SET entity_id = ?1 WHERE id = ?2",
    [Q_ENTITY] = "INSERT INTO patient_entity VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
    [Q_IDENT_ALL] = "SELECT id, hmac FROM phi_ident",
    [Q_IDENT_ADD] = "INSERT INTO phi_ident(type, safe_harbor, masked, hmac) VALUES (?1,?2,?3,?4)",
    [Q_SITE_FIND] = "SELECT id FROM phi_site WHERE detector = ?1 AND field = ?2 AND subject = ?3 "
                    "AND state = ?4 AND issuer = ?5 AND confidence = ?6 AND reason = ?7",
    [Q_SITE_ADD] = "INSERT INTO phi_site(detector, field, subject, state, issuer, confidence, "
                   "reason) VALUES (?1,?2,?3,?4,?5,?6,?7)",
    [Q_OBJECT_TYPE] = "INSERT INTO phi_object_type_row VALUES (?1,?2,?3)",
    [Q_RULE_FIND] = "SELECT id FROM yara_rule WHERE namespace = ?2 AND rule = ?1 AND tags IS ?3 "
                    "AND description IS ?4 AND category IS ?5 AND severity IS ?6 AND reference "
                    "IS ?7",
    [Q_RULE_ADD] = "INSERT INTO yara_rule(rule, namespace, tags, description, category, "
                   "severity, reference) VALUES (?1,?2,?3,?4,?5,?6,?7)",
    [Q_KIND_FIND] = "SELECT id FROM phi_record_kind WHERE kind = ?1 AND health_reason = ?2",
    [Q_KIND_ADD] = "INSERT INTO phi_record_kind(kind, health_reason) VALUES (?1, ?2)",
    [Q_TC_FIND] = "SELECT id FROM phi_type_class WHERE type = ?1 AND safe_harbor = ?2 AND "
                  "phi_class = ?3",
    [Q_TC_ADD] = "INSERT INTO phi_type_class(type, safe_harbor, phi_class) VALUES (?1, ?2, ?3)",
};

/* Identifiers (by keyed hash) and sites (how a hit was found) are rows of their own, each
 * once; a direct-mapped cache of the ones last used saves most look-ups, the rest go to the
 * table's unique index (so crafted collisions cost a look-up, never a wrong id). */
struct dict_ent {
    char *key;              /* klen bytes, not terminated */
    size_t klen;
    uint32_t id;
};
/* Every identifier of the case by its keyed hash, in an open-addressed table kept at most
 * half full (phi_ident has no index on the hash: issue 16). A slot holds the hash itself:
 * one cache line to compare, no pointer. */
struct ident_ent {
    uint8_t hmac[32];
    uint32_t id;            /* 0: empty */
};
#define IDENTS_MIN (1u << 12)
#define DICT_SITES (1u << 10)
#define DICT_RULES (1u << 8)
#define DICT_KINDS (1u << 8)
#define DICT_TCS (1u << 7)

/* Hits of the current object per identifier type: [0] in records without health
 * information (PII), [1] with (PHI). */
struct type_count {
    char type[32], safe_harbor[2];
    uint64_t hits[2];
};
#define TYPE_COUNTS 64

/* The record last put, whose row waits for its hits: they go into it packed
 * (phi_pack.h), one row a record. */
struct record_row {
    sqlite3_int64 id, object, skipped, offset;
    uint32_t kind;
    bool health, pending;
};

struct pt_q_phi {
    sqlite3 *h;
    sqlite3_stmt *st[Q_N];
    struct ident_ent *idents;       /* nident of cap_idents slots (a power of two) */
    size_t nident, cap_idents;
    struct dict_ent sites[DICT_SITES], rules[DICT_RULES], kinds[DICT_KINDS], tcs[DICT_TCS];
    struct record_row rec;
    struct pt_phi_packed_hit *hits; /* the record's hits so far */
    size_t nhits, caphits;
    uint8_t *blob;                  /* their BLOB */
    size_t capblob;
    uint32_t record_id, objects;
    uint32_t obj_first, obj_records; /* the records of the object whose row comes next */
    uint64_t record_off;
    bool record_health;
    struct type_count tc[TYPE_COUNTS];
    size_t ntc;
};

static void bind_s(sqlite3_stmt *st, int i, const char *v)
{
    if (v != NULL && v[0] != '\0') {
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, i);
    }
}

/* Every statement has all its parameters bound before each step, so the bindings are left
 * for the next bind to replace (clearing them cost a pass over them per row). */
static pt_status step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

static pt_status flush_record(struct pt_q_phi *w);
static pt_status idents_load(struct pt_q_phi *w);

static void q_free(struct pt_q_phi *w)
{
    for (int i = 0; i < Q_N; i++) {
        sqlite3_finalize(w->st[i]);
    }
    free(w->hits);
    free(w->blob);
    for (size_t i = 0; i < DICT_SITES; i++) {
        free(w->sites[i].key);
    }
    for (size_t i = 0; i < DICT_RULES; i++) {
        free(w->rules[i].key);
    }
    for (size_t i = 0; i < DICT_KINDS; i++) {
        free(w->kinds[i].key);
    }
    for (size_t i = 0; i < DICT_TCS; i++) {
        free(w->tcs[i].key);
    }
    free(w->idents);
    free(w);
}

pt_status pt_q_phi_begin(struct pt_db *db, struct pt_q_phi **out, char *err, size_t errlen)
{
    *out = NULL;
    struct pt_q_phi *w = calloc(1, sizeof *w);
    if (w == NULL) {
        return PT_ENOMEM;
    }
    w->h = pt_db_handle(db);
    for (int i = 0; i < Q_N; i++) {
        if (sqlite3_prepare_v2(w->h, q_sql[i], -1, &w->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s", sqlite3_errmsg(w->h));
            q_free(w);
            return PT_EDB;
        }
    }
    pt_status lr = idents_load(w);
    if (lr != PT_OK) {
        snprintf(err, errlen, "reading the case's identifiers (phi_ident): %s",
                 lr == PT_EMALFORMED ? "not one 32-byte hash each" : sqlite3_errmsg(w->h));
        q_free(w);
        return lr;
    }
    /* The rows' references are ids this writer has just read or made (the dictionaries,
     * the record before its hits), so SQLite's foreign-key look-ups (three b-tree searches
     * per hit) are left out of the stage's transaction; the pragma is a no-op inside one,
     * hence before BEGIN, and pt_q_phi_end turns them back on. */
    pt_status rc = pt_db_exec(w->h, "PRAGMA foreign_keys=OFF; BEGIN", err, errlen);
    if (rc != PT_OK) {
        char ignored[256];
        pt_db_exec(w->h, "PRAGMA foreign_keys=ON", ignored, sizeof ignored);
        q_free(w);
        return rc;
    }
    *out = w;
    return PT_OK;
}

pt_status pt_q_phi_end(struct pt_q_phi *w, bool ok, char *err, size_t errlen)
{
    pt_status rc = PT_OK;
    if (ok && flush_record(w) != PT_OK) {
        snprintf(err, errlen, "writing PHI results: %s", sqlite3_errmsg(w->h));
        rc = PT_EDB;
        ok = false;
    }
    if (ok) {
        rc = pt_db_exec(w->h, "COMMIT", err, errlen);
    } else {
        char ignored[256];
        pt_db_exec(w->h, "ROLLBACK", ignored, sizeof ignored);
    }
    char ignored[256];
    pt_status fk = pt_db_exec(w->h, "PRAGMA foreign_keys=ON", ok && rc == PT_OK ? err : ignored,
                              ok && rc == PT_OK ? errlen : sizeof ignored);
    rc = rc == PT_OK && ok ? fk : rc;
    q_free(w);
    return rc;
}

const char *pt_q_phi_errmsg(struct pt_q_phi *w)
{
    return sqlite3_errmsg(w->h);
}

static pt_status type_class_id(struct pt_q_phi *w, const struct type_count *t, int c,
                               uint32_t *id);

/* The phi_object_type rows of object `id`: its hits per type and class, counted by
 * pt_q_phi_hit_put since the last object. */
static pt_status object_types(struct pt_q_phi *w, uint32_t id)
{
    sqlite3_stmt *st = w->st[Q_OBJECT_TYPE];
    pt_status rc = PT_OK;
    for (size_t i = 0; i < w->ntc && rc == PT_OK; i++) {
        for (int c = 0; c < 2 && rc == PT_OK; c++) {
            uint32_t tc = 0;
            if (w->tc[i].hits[c] == 0 || (rc = type_class_id(w, &w->tc[i], c, &tc)) != PT_OK) {
                continue;
            }
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, tc);
            sqlite3_bind_int64(st, 3, (sqlite3_int64)w->tc[i].hits[c]);
            rc = step_reset(st);
        }
    }
    w->ntc = 0;
    return rc;
}

pt_status pt_q_phi_object_put(struct pt_q_phi *w, const char *sha, const char *format,
                              uint64_t records, uint64_t hits, uint64_t phi_hits,
                              uint64_t individuals, uint64_t read_bytes, const char *evidence)
{
    PT_TRY(flush_record(w)); /* the object's last record */
    if (records != w->obj_records) {
        return PT_EINTERNAL; /* phi_record reads them by the range from first_record */
    }
    sqlite3_stmt *st = w->st[Q_OBJECT];
    uint32_t id = ++w->objects;
    sqlite3_bind_int64(st, 1, id);
    pt_db_bind_sha(st, 2, sha);
    bind_s(st, 3, format);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)records);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)hits);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)phi_hits);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)individuals);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)read_bytes);
    bind_s(st, 9, evidence);
    sqlite3_bind_int64(st, 10, w->obj_records ? w->obj_first : w->record_id + 1);
    w->obj_records = 0;
    pt_status rc = step_reset(st);
    return rc == PT_OK ? object_types(w, id) : rc;
}

static const char *nz(const char *s)
{
    return s != NULL ? s : "";
}

/* The id of `key` (klen bytes) through the cache slot `e`, else through `find`, else a new
 * row by `add`; `bind` binds `arg` to both statements (k 0: find, 1: add), and is called
 * only when the cache misses (a hit costs a compare, no statement). A klen of 0 is never
 * cached. *id is 0 on an error. */
static pt_status dict_id(struct pt_q_phi *w, struct dict_ent *e, const void *key, size_t klen,
                         sqlite3_stmt *find, sqlite3_stmt *add,
                         void (*bind)(sqlite3_stmt *st, const void *arg, int k), const void *arg,
                         uint32_t *id)
{
    *id = 0;
    if (e->key != NULL && e->klen == klen && memcmp(e->key, key, klen) == 0) {
        *id = e->id;
        return PT_OK;
    }
    bind(find, arg, 0);
    int rc = sqlite3_step(find);
    pt_status st = PT_OK;
    if (rc == SQLITE_ROW) {
        *id = (uint32_t)sqlite3_column_int64(find, 0);
    } else if (rc == SQLITE_DONE) {
        bind(add, arg, 1);
        st = step_reset(add);
        *id = st == PT_OK ? (uint32_t)sqlite3_last_insert_rowid(w->h) : 0;
    } else {
        st = PT_EDB;
    }
    sqlite3_reset(find);
    if (st == PT_OK && klen > 0) {
        char *k = malloc(klen);
        if (k == NULL) {
            return PT_ENOMEM;
        }
        memcpy(k, key, klen);
        free(e->key);
        e->key = k;
        e->klen = klen;
        e->id = *id;
    }
    return st;
}

/* An HMAC in hex (64 lower-case digits) as its 32 bytes; false when it is not one. */
static bool hmac_bytes(const char *hex, uint8_t out[32])
{
    /* a digit's value plus one; 0 for anything else (the string's end included) */
    static const uint8_t val[256] = {
        ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7,
        ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14,
        ['e'] = 15, ['f'] = 16,
    };
    const unsigned char *u = (const unsigned char *)hex;
    for (size_t i = 0; i < 32; i++) {
        uint8_t hi = val[u[2 * i]], lo = hi ? val[u[2 * i + 1]] : 0;
        if (hi == 0 || lo == 0) {
            return false; /* stops at the end of a short string */
        }
        out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
    }
    return u[64] == '\0';
}

/* The slot of `hmac` in the table of identifiers, or the empty one where it goes (the keyed
 * hash is its own hash: its first bytes pick the slot; linear probing). */
static struct ident_ent *ident_slot(struct ident_ent *t, size_t cap, const uint8_t hmac[32])
{
    uint64_t k;
    memcpy(&k, hmac, sizeof k);
    for (size_t i = (size_t)k & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (t[i].id == 0 || memcmp(t[i].hmac, hmac, 32) == 0) {
            return &t[i];
        }
    }
}

/* Room for one identifier more, the table kept at most half full. */
static pt_status idents_room(struct pt_q_phi *w)
{
    if (2 * (w->nident + 1) <= w->cap_idents) {
        return PT_OK;
    }
    size_t cap = w->cap_idents ? 2 * w->cap_idents : IDENTS_MIN;
    struct ident_ent *t = calloc(cap, sizeof *t);
    if (t == NULL) {
        return PT_ENOMEM;
    }
    for (size_t i = 0; i < w->cap_idents; i++) {
        if (w->idents[i].id != 0) {
            *ident_slot(t, cap, w->idents[i].hmac) = w->idents[i];
        }
    }
    free(w->idents);
    w->idents = t;
    w->cap_idents = cap;
    return PT_OK;
}

/* The identifiers already in the case (none but when the stage runs again over it). */
static pt_status idents_load(struct pt_q_phi *w)
{
    sqlite3_stmt *st = w->st[Q_IDENT_ALL];
    pt_status rc = PT_OK;
    int r;
    while (rc == PT_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 1) != 32 || (rc = idents_room(w)) != PT_OK) {
            rc = rc != PT_OK ? rc : PT_EMALFORMED; /* an edited case: not a hash */
            break;
        }
        struct ident_ent *e = ident_slot(w->idents, w->cap_idents, sqlite3_column_blob(st, 1));
        if (e->id != 0) {
            rc = PT_EMALFORMED; /* the same identifier twice */
            break;
        }
        memcpy(e->hmac, sqlite3_column_blob(st, 1), 32);
        e->id = (uint32_t)sqlite3_column_int64(st, 0);
        w->nident++;
    }
    sqlite3_reset(st);
    return rc;
}

static pt_status ident_id(struct pt_q_phi *w, const struct pt_q_phi_hit *h, uint32_t *id)
{
    uint8_t raw[32];
    *id = 0;
    if (h->hmac == NULL || !hmac_bytes(h->hmac, raw)) {
        return PT_EINTERNAL; /* the PHI stage gives HMAC-SHA-256 in hex, nothing else */
    }
    PT_TRY(idents_room(w));
    struct ident_ent *e = ident_slot(w->idents, w->cap_idents, raw);
    if (e->id != 0) {
        *id = e->id;
        return PT_OK;
    }
    sqlite3_stmt *st = w->st[Q_IDENT_ADD];
    bind_s(st, 1, h->type);
    sqlite3_bind_text(st, 2, h->safe_harbor, -1, SQLITE_STATIC);
    bind_s(st, 3, h->masked);
    sqlite3_bind_blob(st, 4, raw, 32, SQLITE_STATIC);
    PT_TRY(step_reset(st));
    memcpy(e->hmac, raw, sizeof raw);
    e->id = *id = (uint32_t)sqlite3_last_insert_rowid(w->h);
    w->nident++;
    return PT_OK;
}

static void bind_site(sqlite3_stmt *st, const void *arg, int k)
{
    const struct pt_q_phi_hit *h = arg;
    (void)k;
    bind_s(st, 1, h->detector);
    bind_s(st, 2, h->field);
    sqlite3_bind_int(st, 3, h->subject);
    sqlite3_bind_text(st, 4, nz(h->state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, nz(h->issuer), -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 6, h->confidence);
    bind_s(st, 7, h->reason);
}

/* Append text `s` with its length first to the key, so no two sites share one. */
static bool key_put(char *key, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);
    if (*n + sizeof len + len > cap) {
        return false;
    }
    memcpy(key + *n, &len, sizeof len);
    memcpy(key + *n + sizeof len, s, len);
    *n += sizeof len + len;
    return true;
}

/* A cache slot's hash of a key: eight bytes a step (a site's key is about 100 bytes, hashed
 * on every hit; FNV-1a's byte a step was 1% of a full analysis). Only picks the slot: the
 * whole key is compared. */
static uint64_t key_hash(const char *key, size_t n)
{
    uint64_t hash = 14695981039346656037ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, key + i, sizeof v);
        hash = (hash ^ v) * 0x9e3779b97f4a7c15ull;
        hash ^= hash >> 29;
    }
    for (; i < n; i++) {
        hash = (hash ^ (unsigned char)key[i]) * 1099511628211ull;
    }
    return hash ^ hash >> 32;
}

static pt_status site_id(struct pt_q_phi *w, const struct pt_q_phi_hit *h, uint32_t *id)
{
    char key[2048];
    size_t n = 0;
    bool fits = key_put(key, sizeof key, &n, nz(h->detector)) &&
                key_put(key, sizeof key, &n, nz(h->field)) &&
                key_put(key, sizeof key, &n, nz(h->state)) &&
                key_put(key, sizeof key, &n, nz(h->issuer)) &&
                key_put(key, sizeof key, &n, nz(h->reason)) &&
                n + sizeof h->confidence + 1 <= sizeof key;
    if (fits) {
        memcpy(key + n, &h->confidence, sizeof h->confidence);
        n += sizeof h->confidence;
        key[n++] = h->subject ? '1' : '0';
    }
    uint64_t hash = fits ? key_hash(key, n) : 0;
    sqlite3_stmt *find = w->st[Q_SITE_FIND], *add = w->st[Q_SITE_ADD];
    if (!fits) {
        /* too long to cache: the table decides */
        struct dict_ent none = {0};
        return dict_id(w, &none, key, 0, find, add, bind_site, h, id);
    }
    return dict_id(w, &w->sites[hash & (DICT_SITES - 1)], key, n, find, add, bind_site, h, id);
}

/* Count the hit for its object's phi_object_type rows. */
static pt_status count_type(struct pt_q_phi *w, const struct pt_q_phi_hit *h)
{
    size_t i = 0;
    while (i < w->ntc && strcmp(w->tc[i].type, h->type) != 0) {
        i++;
    }
    if (i == w->ntc) {
        if (w->ntc == TYPE_COUNTS || strlen(h->type) >= sizeof w->tc[i].type) {
            return PT_ELIMIT;
        }
        memset(&w->tc[i], 0, sizeof w->tc[i]);
        snprintf(w->tc[i].type, sizeof w->tc[i].type, "%s", h->type);
        snprintf(w->tc[i].safe_harbor, sizeof w->tc[i].safe_harbor, "%s", h->safe_harbor);
        w->ntc++;
    }
    w->tc[i].hits[w->record_health]++;
    return PT_OK;
}

/* The row of the record last put, with its hits packed, if not yet written. */
static pt_status flush_record(struct pt_q_phi *w)
{
    if (!w->rec.pending) {
        return PT_OK;
    }
    unsigned widths = 0;
    size_t len = 0;
    PT_TRY(pt_phi_pack_size(w->hits, w->nhits, &widths, &len));
    if (len > INT_MAX) {
        return PT_ELIMIT; /* SQLite's bind takes an int (the hits of one object are capped
                           * far below: PT_PHI_MAX_HITS_PER_OBJECT) */
    }
    if (len > w->capblob) {
        uint8_t *nb = realloc(w->blob, len);
        if (nb == NULL) {
            return PT_ENOMEM;
        }
        w->blob = nb;
        w->capblob = len;
    }
    pt_phi_pack(w->hits, w->nhits, widths, w->blob);
    sqlite3_stmt *st = w->st[Q_RECORD];
    sqlite3_bind_int64(st, 1, w->rec.id);
    sqlite3_bind_int64(st, 2, w->rec.object);
    sqlite3_bind_int64(st, 3, w->rec.skipped);
    sqlite3_bind_int64(st, 4, w->rec.kind);
    sqlite3_bind_int64(st, 5, w->rec.offset);
    sqlite3_bind_int(st, 6, w->rec.health);
    sqlite3_bind_int(st, 7, (int)widths);
    /* a zero-length BLOB, not NULL, for a record without hits */
    sqlite3_bind_blob(st, 8, len > 0 ? (const void *)w->blob : "", (int)len, SQLITE_STATIC);
    w->rec.pending = false;
    w->nhits = 0;
    return step_reset(st);
}

pt_status pt_q_phi_hit_put(struct pt_q_phi *w, const struct pt_q_phi_hit *h)
{
    if (h->record_id != w->record_id || !w->rec.pending) {
        return PT_EINTERNAL; /* hits follow their record (pt_q_phi_record_put) */
    }
    uint32_t ident = 0, site = 0;
    PT_TRY(ident_id(w, h, &ident));
    PT_TRY(site_id(w, h, &site));
    PT_TRY(count_type(w, h));
    if (w->nhits == w->caphits) {
        size_t nc = w->caphits ? 2 * w->caphits : 64;
        struct pt_phi_packed_hit *nh = realloc(w->hits, nc * sizeof *nh);
        if (nh == NULL) {
            return PT_ENOMEM;
        }
        w->hits = nh;
        w->caphits = nc;
    }
    w->hits[w->nhits++] =
        (struct pt_phi_packed_hit){ident, site, (int64_t)(h->offset - w->record_off)};
    return PT_OK;
}

pt_status pt_q_phi_value_put(struct pt_q_phi *w, const char *hmac, const char *type,
                             const char *value)
{
    sqlite3_stmt *st = w->st[Q_VALUE];
    bind_s(st, 1, hmac);
    bind_s(st, 2, type);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_TRANSIENT);
    return step_reset(st);
}

/* A record's kind and health reason (phi_record_kind) once, through the kinds' cache. */
struct kind_arg {
    const char *kind, *reason;
};

static void bind_kind(sqlite3_stmt *st, const void *arg, int k)
{
    const struct kind_arg *a = arg;
    (void)k;
    sqlite3_bind_text(st, 1, a->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->reason, -1, SQLITE_STATIC);
}

static pt_status kind_id(struct pt_q_phi *w, const char *kind, const char *reason, uint32_t *id)
{
    struct kind_arg a = {nz(kind), nz(reason)};
    char key[1024];
    size_t n = 0;
    sqlite3_stmt *find = w->st[Q_KIND_FIND], *add = w->st[Q_KIND_ADD];
    if (!key_put(key, sizeof key, &n, a.kind) || !key_put(key, sizeof key, &n, a.reason)) {
        struct dict_ent none = {0}; /* too long to cache: the table decides */
        return dict_id(w, &none, key, 0, find, add, bind_kind, &a, id);
    }
    return dict_id(w, &w->kinds[key_hash(key, n) & (DICT_KINDS - 1)], key, n, find, add, bind_kind,
                   &a, id);
}

pt_status pt_q_phi_record_put(struct pt_q_phi *w, uint32_t id, uint64_t seq, const char *kind,
                              uint64_t offset, bool health, const char *reason)
{
    uint32_t kid = 0;
    PT_TRY(flush_record(w)); /* the record before, with its hits */
    PT_TRY(kind_id(w, kind, reason, &kid));
    if ((w->obj_records > 0 && id != w->obj_first + w->obj_records) || seq < w->obj_records) {
        return PT_EINTERNAL; /* an object's records are numbered in a row */
    }
    /* seq is the record's place among all of the object's, those without identifiers (not
     * stored) counted: stored as how many were skipped before it, 0 but for them */
    sqlite3_int64 skipped = (sqlite3_int64)(seq - w->obj_records);
    if (w->obj_records++ == 0) {
        w->obj_first = id;
    }
    /* the object's row comes after its records, numbered next */
    w->rec = (struct record_row){id, w->objects + 1, skipped, (sqlite3_int64)offset, kid, health,
                                 true};
    w->record_id = id;
    w->record_off = offset;
    w->record_health = health;
    return PT_OK;
}

/* A type, Safe Harbor letter and class (phi_type_class) once, through their cache. */
struct tc_arg {
    const struct type_count *t;
    const char *cls;
};

static void bind_tc(sqlite3_stmt *st, const void *arg, int k)
{
    const struct tc_arg *a = arg;
    (void)k;
    sqlite3_bind_text(st, 1, a->t->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->t->safe_harbor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->cls, -1, SQLITE_STATIC);
}

static pt_status type_class_id(struct pt_q_phi *w, const struct type_count *t, int c,
                               uint32_t *id)
{
    static const char *const cls[2] = {"PII", "PHI"};
    struct tc_arg a = {t, cls[c]};
    char key[64];
    size_t n = 0;
    sqlite3_stmt *find = w->st[Q_TC_FIND], *add = w->st[Q_TC_ADD];
    if (!key_put(key, sizeof key, &n, t->type) || !key_put(key, sizeof key, &n, t->safe_harbor) ||
        !key_put(key, sizeof key, &n, a.cls)) {
        struct dict_ent none = {0}; /* too long to cache: the table decides */
        return dict_id(w, &none, key, 0, find, add, bind_tc, &a, id);
    }
    return dict_id(w, &w->tcs[key_hash(key, n) & (DICT_TCS - 1)], key, n, find, add, bind_tc, &a,
                   id);
}

/* A rule's words (yara_rule) once, through the rules' cache. */
static void bind_rule(sqlite3_stmt *st, const void *arg, int k)
{
    const char *const *v = arg;
    (void)k;
    for (int i = 0; i < 7; i++) {
        bind_s(st, i + 1, v[i]);
    }
}

static pt_status rule_id(struct pt_q_phi *w, const struct pt_q_yara_match *m, uint32_t *id)
{
    const char *v[7] = {nz(m->rule), nz(m->ns), nz(m->tags), nz(m->description),
                        nz(m->category), nz(m->severity), nz(m->reference)};
    char key[4096];
    size_t n = 0;
    bool fits = true;
    for (int i = 0; i < 7 && fits; i++) {
        fits = key_put(key, sizeof key, &n, v[i]); /* each with its length: no two share one */
    }
    sqlite3_stmt *find = w->st[Q_RULE_FIND], *add = w->st[Q_RULE_ADD];
    if (!fits) {
        struct dict_ent none = {0}; /* too long to cache: the table decides */
        return dict_id(w, &none, key, 0, find, add, bind_rule, v, id);
    }
    return dict_id(w, &w->rules[key_hash(key, n) & (DICT_RULES - 1)], key, n, find, add, bind_rule,
                   v, id);
}

pt_status pt_q_phi_yara_put(struct pt_q_phi *w, const struct pt_q_yara_match *m)
{
    uint32_t rule = 0;
    pt_status rc = rule_id(w, m, &rule);
    if (rc != PT_OK) {
        return rc;
    }
    sqlite3_stmt *st = w->st[Q_YARA];
    /* the object's row comes after its matches, numbered next (as its records) */
    sqlite3_bind_int64(st, 1, w->objects + 1);
    sqlite3_bind_int64(st, 2, rule);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)m->offset);
    sqlite3_bind_int64(st, 4, m->strings);
    return step_reset(st);
}

pt_status pt_q_phi_record_entity(struct pt_q_phi *w, uint32_t record, uint32_t entity)
{
    PT_TRY(flush_record(w)); /* the last record's row, if its object's has not come yet */
    sqlite3_stmt *st = w->st[Q_RECORD_ENTITY];
    sqlite3_bind_int64(st, 1, entity);
    sqlite3_bind_int64(st, 2, record);
    return step_reset(st);
}

pt_status pt_q_phi_entity_put(struct pt_q_phi *w, const struct pt_q_entity *e)
{
    sqlite3_stmt *st = w->st[Q_ENTITY];
    sqlite3_bind_int64(st, 1, e->id);
    sqlite3_bind_int64(st, 2, e->records);
    sqlite3_bind_int64(st, 3, e->objects);
    sqlite3_bind_text(st, 4, e->types, -1, SQLITE_TRANSIENT);
    bind_s(st, 5, e->state);
    sqlite3_bind_int(st, 6, e->phi);
    sqlite3_bind_int(st, 7, e->outbound);
    bind_s(st, 8, e->name);
    sqlite3_bind_int(st, 9, e->deceased);
    sqlite3_bind_int64(st, 10, e->names);
    return step_reset(st);
}

pt_status pt_q_phi_individuals(struct pt_q_phi *w, const char *scope, const uint64_t cnt[3],
                               char *err, size_t errlen)
{
    /* the deceased among the scope's individuals */
    const char *dead = strcmp(scope, "outbound") == 0 ? " AND outbound = 1"
                       : strcmp(scope, "staged") == 0
                           ? " AND id IN (SELECT entity_id FROM individual_category WHERE "
                             "category = 'staged')"
                       : strcmp(scope, "present") == 0
                           ? " AND id IN (SELECT entity_id FROM individual_category WHERE "
                             "category = 'present')"
                           : "";
    char sqlq[1600];
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
             scope, (unsigned long long)cnt[0], (unsigned long long)cnt[1],
             (unsigned long long)cnt[2], dead);
    return pt_db_exec(w->h, sqlq, err, errlen);
}

pt_status pt_q_phi_by_state(struct pt_q_phi *w, char *err, size_t errlen)
{
    return pt_db_exec(w->h,
                      "INSERT INTO individuals_by_state SELECT 'all', coalesce(state, "
                      "'unknown'), count(*) FROM patient_entity WHERE phi = 1 GROUP BY 2;"
                      "INSERT INTO individuals_by_state SELECT 'outbound', coalesce(state, "
                      "'unknown'), count(*) FROM patient_entity WHERE phi = 1 AND outbound = 1 "
                      "GROUP BY 2;",
                      err, errlen);
}

pt_status pt_q_phi_quality(struct pt_q_phi *w, uint64_t refused, uint64_t multi_person,
                           uint64_t bound_refused, unsigned largest, unsigned largest_names,
                           unsigned implausible, char *err, size_t errlen)
{
    char sqlq[600];
    snprintf(sqlq, sizeof sqlq, "INSERT INTO individuals_quality VALUES (%llu, %llu, %llu, %u, "
             "%u, %u)", (unsigned long long)refused, (unsigned long long)multi_person,
             (unsigned long long)bound_refused, largest, largest_names, implausible);
    return pt_db_exec(w->h, sqlq, err, errlen);
}
