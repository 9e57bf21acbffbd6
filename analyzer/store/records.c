/*
 * records.c - the decoders' records as rows: a column table per record kind, generated
 * from analyze/records.def (name, where the value lies in the struct, how it is bound),
 * the INSERT built from it and one binder that walks it; a record's lookup (PT_LOOKUP) found
 * or added the same way.
 */
#include "records.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "db.h"
#include "db_handle.h"

enum bind { B_INT, B_NZ, B_REAL, B_TEXT, B_STR, B_DIR, B_FN, B_LOOKUP };

struct col {
    const char *name;
    enum bind bind;
    uint32_t off, size;             /* the member (or its part) in the struct */
    bool sign;                      /* an integer member's type is signed */
    bool when;                      /* NULL unless the member at when_off is nonzero */
    uint32_t when_off, when_size;
    const char *(*fn)(const void *rec); /* B_FN: the column's text */
    bool look;                      /* a column of the record's lookup table */
    const char *lookup;             /* B_LOOKUP: that table; the row's column holds its id */
};

/* The derived columns of records.def. */
static const char *pt_rec_dns_transport(const void *rec)
{
    return ((const struct pt_dns_rec *)rec)->transport == 6 ? "tcp" : "udp";
}

static const char *pt_rec_smb_kind(const void *rec)
{
    const struct pt_smb_rec *r = rec;
    return r->is_pipe ? "pipe" : r->is_dir ? "directory" : "file";
}

#define REC_T(rec) struct pt_##rec##_rec
#define MSIZE(rec, expr) ((uint32_t)sizeof(((REC_T(rec) *)0)->expr))
#define SIGNED(ctype) ((ctype)-1 < (ctype)1)
#define COL_LOOK(rec, ctype, expr, column, bind, look)                                             \
    {#column, B_##bind, (uint32_t)offsetof(REC_T(rec), expr), MSIZE(rec, expr), SIGNED(ctype),    \
     false, 0, 0, NULL, look, NULL},
#define COL(rec, ctype, expr, column, bind) COL_LOOK(rec, ctype, expr, column, bind, false)
#define COL_IF(rec, ctype, expr, column, bind, w)                                                  \
    {#column, B_##bind, (uint32_t)offsetof(REC_T(rec), expr), MSIZE(rec, expr), SIGNED(ctype),    \
     true, (uint32_t)offsetof(REC_T(rec), w), MSIZE(rec, w), NULL, false, NULL},

#define PT_RECORD(name, NAME, table, batch) static const struct col cols_##name[] = {
/* a record with its own put function: no column, only this placeholder (checked below) */
#define PT_RECORD_PUT(name, NAME, put, batch)                                                      \
    static const struct col cols_##name[] = {                                                      \
        {NULL, B_INT, 0, 0, false, false, 0, 0, NULL, false, NULL},
#define PT_FIELD(rec, ctype, member, dim, column, bind) COL(rec, ctype, member, column, bind)
#define PT_FIELD_IF(rec, ctype, member, dim, column, bind, w)                                      \
    COL_IF(rec, ctype, member, column, bind, w)
#define PT_COLUMN(rec, ctype, expr, column, bind) COL(rec, ctype, expr, column, bind)
#define PT_DERIVED(rec, column, f) {#column, B_FN, 0, 0, false, false, 0, 0, f, false, NULL},
#define PT_LOOKUP(rec, table, column)                                                              \
    {#column, B_LOOKUP, 0, 0, false, false, 0, 0, NULL, false, #table},
#define PT_LOOKUP_FIELD(rec, ctype, member, dim, column, bind)                                     \
    COL_LOOK(rec, ctype, member, column, bind, true)
#define PT_END(rec) };
#include "../analyze/records.def"
#undef PT_RECORD
#undef PT_RECORD_PUT
#undef PT_FIELD
#undef PT_FIELD_IF
#undef PT_COLUMN
#undef PT_DERIVED
#undef PT_LOOKUP
#undef PT_LOOKUP_FIELD
#undef PT_END

/* A record with its own put function: its columns are that function's, none listed here;
 * the function is called through a wrapper of one type for all. */
#define PT_RECORD_PUT(name, NAME, put, batch)                                                      \
    _Static_assert(sizeof cols_##name == sizeof(struct col),                                       \
                   #name ": a record with its own put function lists members, not columns");      \
    static pt_status put_##name(struct pt_db *db, const void *rec)                                 \
    {                                                                                              \
        return put(db, rec);                                                                       \
    }
#include "../analyze/records.def"
#undef PT_RECORD_PUT

static const struct {
    const char *table; /* NULL: the record has its own put function */
    const struct col *cols;
    size_t n;
    pt_rec_put_fn put;
} recs[PT_REC_COUNT] = {
#define PT_RECORD(name, NAME, table, batch)                                                        \
    [PT_REC_##NAME] = {#table, cols_##name, sizeof cols_##name / sizeof cols_##name[0], NULL},
#define PT_RECORD_PUT(name, NAME, put, batch) [PT_REC_##NAME] = {NULL, cols_##name, 0, put_##name},
#include "../analyze/records.def"
#undef PT_RECORD
#undef PT_RECORD_PUT
};

const char *pt_rec_table(enum pt_rec_kind kind)
{
    return recs[kind].table;
}

pt_rec_put_fn pt_rec_put(enum pt_rec_kind kind)
{
    return recs[kind].put;
}

/* The lookup table of a kind, NULL when it has none. */
static const char *lookup_table(enum pt_rec_kind kind)
{
    for (size_t i = 0; i < recs[kind].n; i++) {
        if (recs[kind].cols[i].bind == B_LOOKUP) {
            return recs[kind].cols[i].lookup;
        }
    }
    return NULL;
}

char *pt_rec_insert_sql(enum pt_rec_kind kind)
{
    if (recs[kind].table == NULL) {
        return NULL;
    }
    sqlite3_str *s = sqlite3_str_new(NULL);
    sqlite3_str_appendf(s, "INSERT INTO %s(", recs[kind].table);
    int n = 0;
    for (size_t i = 0; i < recs[kind].n; i++) {
        if (!recs[kind].cols[i].look) {
            sqlite3_str_appendf(s, "%s%s", n++ ? ", " : "", recs[kind].cols[i].name);
        }
    }
    sqlite3_str_appendall(s, ") VALUES (");
    for (int i = 0; i < n; i++) {
        sqlite3_str_appendf(s, "%s?%d", i ? "," : "", i + 1);
    }
    sqlite3_str_appendall(s, ")");
    return sqlite3_str_finish(s);
}

char *pt_rec_lookup_sql(enum pt_rec_kind kind, bool add)
{
    const char *table = lookup_table(kind);
    if (table == NULL) {
        return NULL;
    }
    sqlite3_str *s = sqlite3_str_new(NULL);
    sqlite3_str_appendf(s, add ? "INSERT INTO %s(" : "SELECT id FROM %s WHERE ", table);
    int n = 0;
    for (size_t i = 0; i < recs[kind].n; i++) {
        if (recs[kind].cols[i].look) {
            n++;
            sqlite3_str_appendf(s, add ? "%s%s" : "%s%s IS ?%d", n > 1 ? (add ? ", " : " AND ")
                                : "", recs[kind].cols[i].name, n);
        }
    }
    if (add) {
        sqlite3_str_appendall(s, ") VALUES (");
        for (int i = 0; i < n; i++) {
            sqlite3_str_appendf(s, "%s?%d", i ? "," : "", i + 1);
        }
        sqlite3_str_appendall(s, ")");
    }
    return sqlite3_str_finish(s);
}

/* An integer member of 1, 2, 4 or 8 bytes. */
static int64_t read_int(const uint8_t *p, uint32_t size, bool sign)
{
    switch (size) {
    case 1: {
        uint8_t v;
        memcpy(&v, p, 1);
        return sign ? (int64_t)(int8_t)v : (int64_t)v;
    }
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return sign ? (int64_t)(int16_t)v : (int64_t)v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return sign ? (int64_t)(int32_t)v : (int64_t)v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return (int64_t)v;
    }
    }
}

/* Is the `when` member set: a text member (an array past 8 bytes) not empty, an integer not
 * zero? */
static bool when_set(const uint8_t *rec, const struct col *c)
{
    if (c->when_size > 8) {
        return rec[c->when_off] != '\0';
    }
    return read_int(rec + c->when_off, c->when_size, false) != 0;
}

/* One column's value as its bind kind says, to parameter `at` (left NULL when it says so). */
static void bind_col(sqlite3_stmt *st, int at, const struct col *c, const void *rec)
{
    const uint8_t *base = rec;
    const uint8_t *p = base + c->off;
    if (c->when && !when_set(base, c)) {
        return; /* NULL */
    }
    if (c->bind == B_INT || c->bind == B_NZ || c->bind == B_DIR) {
        int64_t v = read_int(p, c->size, c->sign);
        if (c->bind == B_DIR) {
            sqlite3_bind_text(st, at, v == 0 ? "c2s" : "s2c", -1, SQLITE_STATIC);
        } else if (c->bind == B_INT || v != 0) {
            sqlite3_bind_int64(st, at, v);
        }
    } else if (c->bind == B_REAL) {
        double d;
        memcpy(&d, p, sizeof d);
        sqlite3_bind_double(st, at, d);
    } else if (c->bind == B_FN) {
        sqlite3_bind_text(st, at, c->fn(rec), -1, SQLITE_STATIC);
    } else {
        size_t n = strnlen((const char *)p, c->size);
        if (n > 0 || c->bind == B_STR) {
            sqlite3_bind_text(st, at, (const char *)p, (int)n, SQLITE_TRANSIENT);
        }
    }
}

void pt_rec_bind(sqlite3_stmt *st, enum pt_rec_kind kind, const void *rec, int64_t lookup_id)
{
    int at = 0;
    for (size_t i = 0; i < recs[kind].n; i++) {
        const struct col *c = &recs[kind].cols[i];
        if (c->look) {
            continue;
        }
        at++;
        if (c->bind == B_LOOKUP) {
            sqlite3_bind_int64(st, at, lookup_id);
        } else {
            bind_col(st, at, c, rec);
        }
    }
}

void pt_rec_bind_lookup(sqlite3_stmt *st, enum pt_rec_kind kind, const void *rec)
{
    int at = 0;
    for (size_t i = 0; i < recs[kind].n; i++) {
        if (recs[kind].cols[i].look) {
            bind_col(st, ++at, &recs[kind].cols[i], rec);
        }
    }
}
