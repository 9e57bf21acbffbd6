/*
 * export.c - `phitrace export` (see export.h).
 *
 * One descriptor per export (store/q_export.h: its columns and tables, what the timeline
 * formats say of a row). A plain export (NDJSON, CSV) is one query per kind in row-id order;
 * the timeline formats merge the kinds that have a time, each query ordered by time, into one
 * stream (a k-way merge: nothing is held in memory but one row per kind). A column whose name
 * ends in "_json" is JSON text SQLite validated: embedded as JSON in NDJSON, a string
 * elsewhere.
 *
 * Text from the evidence is untrusted: JSON strings are RFC 8259 with every control, C1
 * control, U+2028 and U+2029 escaped and bytes that are not UTF-8 as U+FFFD (NDJSON and
 * Timesketch then also give the bytes in hex in "<field>_hex"); CSV quotes every text field
 * (RFC 4180, quotes doubled) and shows C0 controls but TAB, CR, LF as Unicode control
 * pictures (U+2400 block); l2t_csv, which readers split by line and comma, also pictures
 * TAB, CR and LF, turns commas into spaces (as plaso does) and double quotes into single
 * ones. CSV and l2t_csv prefix "'" to text that starts with = + - @ TAB or CR (OWASP,
 * CSV injection), so no spreadsheet runs a formula from the evidence.
 */
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/communityid.h"
#include "../core/utf8.h"
#include "../store/db.h"
#include "../store/q_export.h"

enum fmt { FMT_NDJSON, FMT_CSV, FMT_TIMESKETCH, FMT_L2TCSV };

static const char *const fmt_names[] = {"ndjson", "csv", "timesketch", "l2tcsv"};
/* file names in an output directory: <what>.<ext>, or one file for a timeline format */
static const char *const fmt_ext[] = {"ndjson", "csv", "timesketch.jsonl", "l2t.csv"};

/* ---- text ------------------------------------------------------------------------------------ */

enum tx { TX_JSON, TX_CSV, TX_L2T };

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD, for each byte that is not UTF-8 */

/* CSV injection: text a spreadsheet would take for a formula */
static bool formula(const unsigned char *p)
{
    return p[0] != '\0' && p[1] != '\0' && strchr("=+-@\t\r", p[0]) != NULL;
}

/* Unicode control pictures: U+2400 + c for C0, U+2421 for DEL */
static void picture(FILE *f, unsigned c)
{
    unsigned char b[3] = {0xe2, 0x90, (unsigned char)(c == 0x7f ? 0xa1 : 0x80 + c)};
    fwrite(b, 1, 3, f);
}

/* A multi-byte character JSON escapes: C1 controls, U+2028 and U+2029 (line breaks to some
 * readers); its code point, or 0. */
static unsigned json_escaped(const unsigned char *p, size_t n)
{
    if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
        return p[1];
    }
    if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
        return 0x2000u + (p[2] - 0x80u);
    }
    return 0;
}

/* One ASCII byte that is not plain in `mode`; false when it is plain. */
static bool special_ascii(FILE *f, unsigned c, enum tx mode)
{
    bool ctl = c < 0x20 || c == 0x7f;
    switch (mode) {
        case TX_JSON:
            if (ctl) {
                fprintf(f, "\\u%04x", c);
            } else if (c == '"' || c == '\\') {
                fputc('\\', f);
                fputc((int)c, f);
            } else {
                return false;
            }
            return true;
        case TX_CSV:
            if (c == '"') {
                fputs("\"\"", f);
            } else if (ctl && c != '\t' && c != '\r' && c != '\n') {
                picture(f, c);
            } else {
                return false;
            }
            return true;
        case TX_L2T:
            if (ctl) {
                picture(f, c);
            } else if (c == ',' || c == '"') {
                fputc(c == ',' ? ' ' : '\'', f);
            } else {
                return false;
            }
            return true;
    }
    return false;
}

/* Text from the evidence, escaped for `mode` (without the surrounding quotes). */
static void put_text(FILE *f, const char *s, enum tx mode)
{
    const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;
    if (mode != TX_JSON && formula(p)) {
        fputc('\'', f);
    }
    while (*p) { /* runs of plain bytes are written at once */
        size_t n = pt_utf8_len(p);
        unsigned cp = n > 1 && mode == TX_JSON ? json_escaped(p, n) : 0;
        if (n > 1 && cp == 0) {
            p += n;
            continue;
        }
        fwrite(run, 1, (size_t)(p - run), f);
        if (n == 0) {
            fputs(REPLACEMENT, f);
            n = 1;
        } else if (cp != 0) {
            fprintf(f, "\\u%04x", cp);
        } else if (!special_ascii(f, *p, mode)) {
            fputc(*p, f);
        }
        p += n;
        run = p;
    }
    fwrite(run, 1, (size_t)(p - run), f);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    put_text(f, s, TX_JSON);
    fputc('"', f);
}

/* JSON SQLite produced, embedded as is but for bytes that are not UTF-8 (evidence strings
 * inside it may carry them): valid JSON has them only inside strings, where U+FFFD fits. */
static void json_raw(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = pt_utf8_len(p);
        if (n == 0) {
            fputs(REPLACEMENT, f);
            p++;
        } else {
            fwrite(p, 1, n, f);
            p += n;
        }
    }
}

/* The shortest decimal that reads back as the same double, always with a point or an
 * exponent ("1.0", not "1": a search index maps a field by the first value it sees, and an
 * integer there would truncate the later fractions); JSON has no inf or nan. */
static void fmt_double(double v, char *out, size_t len)
{
    if (!isfinite(v)) {
        snprintf(out, len, "null");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, len, "%.*g", prec, v);
        if (strtod(out, NULL) == v) {
            break;
        }
    }
    if (strpbrk(out, ".e") == NULL && strlen(out) + 3 <= len) {
        memcpy(out + strlen(out), ".0", 3);
    }
}

/* UTC microseconds as "2024-03-05T14:02:11.123456" + zone; false when out of range. */
static bool iso_us(int64_t us, const char *zone, char *out, size_t len)
{
    int64_t s = us / 1000000, r = us % 1000000;
    if (r < 0) {
        r += 1000000;
        s--;
    }
    time_t t = (time_t)s;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        return false;
    }
    snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld%s", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)r, zone);
    return true;
}

/* ---- queries --------------------------------------------------------------------------------- */

struct q {
    enum pt_qx_kind k;
    struct pt_q *st;
    int lead, end; /* exported columns: [lead, end) */
    int cid;       /* first Community ID input, or -1 */
    bool row;      /* a row is ready */
};

static const char *col(struct pt_q *st, int i)
{
    return pt_q_text(st, i);
}

static bool is_json(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, "_json") == 0;
}

/* A time column (UTC microseconds): "ts" or "*_ts"; it gets a "<name>_iso" sibling. */
static bool is_time(const char *name)
{
    size_t n = strlen(name);
    return strcmp(name, "ts") == 0 || (n > 3 && strcmp(name + n - 3, "_ts") == 0);
}

/* The output name of column i: its SQL name without "_json". */
static const char *out_name(struct pt_q *st, int i, char *buf, size_t len)
{
    const char *name = pt_q_name(st, i);
    if (!is_json(name)) {
        return name;
    }
    snprintf(buf, len, "%.*s", (int)(strlen(name) - 5), name);
    return buf;
}

static pt_status q_open(struct pt_db *db, enum pt_qx_kind k, bool timeline, struct q *q)
{
    *q = (struct q){.k = k, .cid = -1};
    if (pt_qx_open(db, k, timeline, &q->st) != PT_OK) {
        fprintf(stderr, "phitrace: error: the case cannot be read for the %s export: %s\n",
                pt_qx_name(k), pt_db_errmsg(db));
        return PT_EDB;
    }
    int ncol = pt_q_columns(q->st);
    q->lead = timeline ? PT_QX_T_NCOLS : 0;
    q->end = pt_qx_flow(k) ? ncol - PT_QX_CID_NCOLS : ncol;
    q->cid = pt_qx_flow(k) ? q->end : -1;
    return PT_OK;
}

static void q_step(struct q *q)
{
    q->row = pt_q_step(q->st);
}

/* The Community ID of the row's flow. Flows read from logs carry their ports (ICMP: type and
 * code, as Zeek logs them). A captured ICMP flow holds every message between two hosts, so
 * it has one identifier only when all its messages are echoes: the echo pair, the client
 * (first sender) as the requester when it sent any request. Otherwise none (null). */
static bool row_cid(struct pt_q *st, int c0, uint16_t seed, char out[PT_COMMUNITYID_LEN])
{
    if (pt_q_type(st, c0) == PT_Q_NULL) {
        return false; /* an object of no flow */
    }
    int proto = (int)pt_q_int(st, c0);
    int sp = -1, dp = -1;
    if (proto < 0 || proto > 255) {
        return false;
    }
    if ((int)pt_q_int(st, c0 + 5)) {
        sp = (int)pt_q_int(st, c0 + 2);
        dp = (int)pt_q_int(st, c0 + 4);
    } else if (proto == 1 || proto == 58) {
        int64_t req = pt_q_int(st, c0 + 6), rep = pt_q_int(st, c0 + 7);
        int64_t msgs = pt_q_int(st, c0 + 8);
        if (msgs > 0 && req + rep == msgs) {
            sp = proto == 1 ? (req > 0 ? 8 : 0) : (req > 0 ? 128 : 129);
            dp = 0;
        }
    }
    return pt_communityid(seed, col(st, c0 + 1), col(st, c0 + 3), (uint8_t)proto, sp, dp, out);
}

/* ---- rows ------------------------------------------------------------------------------------ */

static void json_key(FILE *f, bool *first, const char *name)
{
    fputs(*first ? "\"" : ",\"", f);
    *first = false;
    put_text(f, name, TX_JSON);
    fputs("\":", f);
}

/* Fields Timesketch gives a meaning: the row's own columns of these names are not repeated. */
static bool ts_reserved(const char *name)
{
    static const char *const r[] = {"message", "datetime", "timestamp", "timestamp_desc",
                                    "data_type"};
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        if (strcmp(name, r[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* One column as a JSON value (and its _hex and _iso siblings). */
static void json_col(FILE *f, bool *first, struct pt_q *st, int i, bool timesketch)
{
    char nb[64], num[40];
    const char *name = out_name(st, i, nb, sizeof nb);
    if (timesketch && ts_reserved(name)) {
        return;
    }
    json_key(f, first, name);
    switch (pt_q_type(st, i)) {
        case PT_Q_NULL: fputs("null", f); break;
        case PT_Q_INT: fprintf(f, "%lld", (long long)pt_q_int(st, i)); break;
        case PT_Q_REAL:
            fmt_double(pt_q_real(st, i), num, sizeof num);
            fputs(num, f);
            break;
        default:
            if (is_json(pt_q_name(st, i)) && !timesketch) {
                json_raw(f, col(st, i));
            } else {
                json_str(f, col(st, i));
                if (!is_json(pt_q_name(st, i)) && !pt_utf8_valid(col(st, i))) {
                    char hk[80];
                    snprintf(hk, sizeof hk, "%s_hex", name);
                    json_key(f, first, hk);
                    fputc('"', f);
                    for (const unsigned char *p = (const unsigned char *)col(st, i); *p; p++) {
                        fprintf(f, "%02x", *p);
                    }
                    fputc('"', f);
                }
            }
    }
    if (is_time(name)) {
        char k[80], iso[48];
        snprintf(k, sizeof k, "%s_iso", name);
        json_key(f, first, k);
        bool ok = pt_q_type(st, i) == PT_Q_INT &&
                  iso_us(pt_q_int(st, i), "Z", iso, sizeof iso);
        if (ok) {
            json_str(f, iso);
        } else {
            fputs("null", f);
        }
    }
}

/* NDJSON, or a Timesketch line: message, datetime, timestamp, timestamp_desc, data_type first. */
static void row_json(FILE *f, const struct q *q, uint16_t seed, bool timesketch)
{
    struct pt_q *st = q->st;
    bool first = true;
    fputc('{', f);
    if (timesketch) {
        char iso[48];
        int64_t t = pt_q_int(st, PT_QX_T_TIME);
        json_key(f, &first, "message");
        json_str(f, col(st, PT_QX_T_MSG));
        json_key(f, &first, "datetime");
        json_str(f, iso_us(t, "+00:00", iso, sizeof iso) ? iso : "");
        json_key(f, &first, "timestamp");
        fprintf(f, "%lld", (long long)t);
        json_key(f, &first, "timestamp_desc");
        json_str(f, col(st, PT_QX_T_DESC));
        json_key(f, &first, "data_type");
        json_str(f, col(st, PT_QX_T_DTYPE));
    }
    for (int i = q->lead; i < q->end; i++) {
        json_col(f, &first, st, i, timesketch);
    }
    if (q->cid >= 0) {
        char cid[PT_COMMUNITYID_LEN];
        json_key(f, &first, "community_id");
        if (row_cid(st, q->cid, seed, cid)) {
            json_str(f, cid);
        } else {
            fputs("null", f);
        }
    }
    fputs("}\n", f);
}

/* CSV (RFC 4180): every text field quoted, NULL empty, CRLF line ends. */
static void csv_field(FILE *f, bool *first, const char *text, bool quote)
{
    if (!*first) {
        fputc(',', f);
    }
    *first = false;
    if (text == NULL) {
        return;
    }
    if (quote) {
        fputc('"', f);
        put_text(f, text, TX_CSV);
        fputc('"', f);
    } else {
        fputs(text, f);
    }
}

static void csv_header(FILE *f, const struct q *q)
{
    bool first = true;
    char nb[64], k[80];
    for (int i = q->lead; i < q->end; i++) {
        const char *name = out_name(q->st, i, nb, sizeof nb);
        csv_field(f, &first, name, false);
        if (is_time(name)) {
            snprintf(k, sizeof k, "%s_iso", name);
            csv_field(f, &first, k, false);
        }
    }
    if (q->cid >= 0) {
        csv_field(f, &first, "community_id", false);
    }
    fputs("\r\n", f);
}

/* Column i as text for CSV and l2t_csv: NULL when NULL; `quote` says it is text. */
static const char *col_text(struct pt_q *st, int i, char *num, size_t len, bool *quote)
{
    *quote = false;
    switch (pt_q_type(st, i)) {
        case PT_Q_NULL: return NULL;
        case PT_Q_INT:
            snprintf(num, len, "%lld", (long long)pt_q_int(st, i));
            return num;
        case PT_Q_REAL: fmt_double(pt_q_real(st, i), num, len); return num;
        default: *quote = true; return col(st, i);
    }
}

static void row_csv(FILE *f, const struct q *q, uint16_t seed)
{
    struct pt_q *st = q->st;
    bool first = true, quote;
    char num[40], nb[64], iso[48];
    for (int i = q->lead; i < q->end; i++) {
        const char *text = col_text(st, i, num, sizeof num, &quote);
        csv_field(f, &first, text, quote);
        if (is_time(out_name(st, i, nb, sizeof nb))) {
            bool ok = pt_q_type(st, i) == PT_Q_INT &&
                      iso_us(pt_q_int(st, i), "Z", iso, sizeof iso);
            csv_field(f, &first, ok ? iso : NULL, false);
        }
    }
    if (q->cid >= 0) {
        char cid[PT_COMMUNITYID_LEN];
        csv_field(f, &first, row_cid(st, q->cid, seed, cid) ? cid : NULL, false);
    }
    fputs("\r\n", f);
}

/* ---- l2t_csv --------------------------------------------------------------------------------- */

/* plaso's 17 fields (plaso/output/l2t_csv.py), in this order */
static const char l2t_header[] = "date,time,timezone,MACB,source,sourcetype,type,user,host,short,"
                                 "desc,version,filename,inode,notes,format,extra\n";

struct attr {
    char name[80];
    char *value; /* owned */
};

static int attr_cmp(const void *a, const void *b)
{
    return strcmp(((const struct attr *)a)->name, ((const struct attr *)b)->name);
}

static void attr_add(struct attr *v, size_t *n, size_t cap, const char *name, const char *value)
{
    if (*n < cap && value != NULL) {
        snprintf(v[*n].name, sizeof v[*n].name, "%s", name);
        v[*n].value = strdup(value);
        if (v[*n].value != NULL) {
            (*n)++;
        }
    }
}

/* plaso's extra field: "name: value" of every column that has a value, by name, "; " apart. */
static void l2t_extra(FILE *f, const struct q *q, uint16_t seed)
{
    struct attr v[96];
    size_t n = 0;
    char num[40], nb[64], k[80], iso[48];
    bool quote;
    struct pt_q *st = q->st;
    for (int i = q->lead; i < q->end; i++) {
        const char *name = out_name(st, i, nb, sizeof nb);
        const char *text = col_text(st, i, num, sizeof num, &quote);
        attr_add(v, &n, 96, name, text);
        if (is_time(name) && pt_q_type(st, i) == PT_Q_INT &&
            iso_us(pt_q_int(st, i), "Z", iso, sizeof iso)) {
            snprintf(k, sizeof k, "%s_iso", name);
            attr_add(v, &n, 96, k, iso);
        }
    }
    char cid[PT_COMMUNITYID_LEN];
    if (q->cid >= 0 && row_cid(st, q->cid, seed, cid)) {
        attr_add(v, &n, 96, "community_id", cid);
    }
    qsort(v, n, sizeof v[0], attr_cmp);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    for (size_t i = 0; m != NULL && i < n; i++) {
        fprintf(m, "%s%s: %s", i ? "; " : "", v[i].name, v[i].value);
    }
    if (m != NULL && fclose(m) == 0) {
        put_text(f, text, TX_L2T);
    }
    free(text);
    for (size_t i = 0; i < n; i++) {
        free(v[i].value);
    }
}

/* A field of free text: '-' when empty, as plaso writes it. */
static void l2t_text(FILE *f, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        fputc('-', f);
    } else {
        put_text(f, s, TX_L2T);
    }
    fputc(',', f);
}

/* The message cut to 80 characters (the "short" field). */
static void l2t_short(FILE *f, const char *msg)
{
    const unsigned char *p = (const unsigned char *)msg;
    size_t chars = 0, n;
    while (p[0] != '\0' && chars < 80) {
        n = pt_utf8_len(p);
        p += n ? n : 1;
        chars++;
    }
    char *cut = strndup(msg, (size_t)(p - (const unsigned char *)msg));
    l2t_text(f, cut ? cut : "");
    free(cut);
}

static void row_l2t(FILE *f, const struct q *q, uint16_t seed)
{
    struct pt_q *st = q->st;
    char iso[48];
    if (!iso_us(pt_q_int(st, PT_QX_T_TIME), "", iso, sizeof iso)) {
        snprintf(iso, sizeof iso, "0000-00-00T00:00:00");
    }
    /* date MM/DD/YYYY, time HH:MM:SS, in UTC */
    fprintf(f, "%.2s/%.2s/%.4s,%.8s,UTC,....,", iso + 5, iso + 8, iso, iso + 11);
    l2t_text(f, col(st, PT_QX_T_SRC));
    l2t_text(f, col(st, PT_QX_T_SRCTYPE));
    l2t_text(f, col(st, PT_QX_T_DESC));
    l2t_text(f, NULL); /* user */
    l2t_text(f, col(st, PT_QX_T_HOST));
    l2t_short(f, col(st, PT_QX_T_MSG));
    l2t_text(f, col(st, PT_QX_T_MSG));
    fputs("2,", f); /* version */
    l2t_text(f, col(st, PT_QX_T_FILE));
    l2t_text(f, NULL); /* inode */
    l2t_text(f, col(st, PT_QX_T_NOTES));
    fprintf(f, "phitrace/%s,", pt_qx_name(q->k));
    l2t_extra(f, q, seed);
    fputc('\n', f);
}

/* ---- output files ---------------------------------------------------------------------------- */

struct out {
    FILE *f;
    char path[4300], tmp[4350];
};

/* stdout for NULL or "-"; else a private temporary beside `path`, renamed in out_close. */
static pt_status out_open(struct out *o, const char *path)
{
    *o = (struct out){0};
    if (path == NULL || strcmp(path, "-") == 0) {
        o->f = stdout;
        return PT_OK;
    }
    snprintf(o->path, sizeof o->path, "%s", path);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0 || fchmod(fd, 0600) != 0 || (o->f = fdopen(fd, "w")) == NULL) {
        fprintf(stderr, "phitrace: error: cannot create %s: %s\n", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(o->tmp);
        }
        return PT_EIO;
    }
    return PT_OK;
}

static pt_status out_close(struct out *o, pt_status rc)
{
    if (o->f == stdout) {
        return fflush(stdout) != 0 || ferror(stdout) ? PT_EIO : rc;
    }
    bool bad = ferror(o->f) != 0;
    bad |= fflush(o->f) != 0 || fsync(fileno(o->f)) != 0;
    bad |= fclose(o->f) != 0;
    if (rc == PT_OK && !bad && rename(o->tmp, o->path) == 0) {
        return PT_OK;
    }
    if (rc == PT_OK) {
        fprintf(stderr, "phitrace: error: writing %s: %s\n", o->path, strerror(errno));
    }
    unlink(o->tmp);
    return rc == PT_OK ? PT_EIO : rc;
}

/* ---- the exports ----------------------------------------------------------------------------- */

static pt_status q_done(struct q *q)
{
    pt_status rc = pt_q_done(q->st);
    if (rc != PT_OK) {
        fprintf(stderr, "phitrace: error: reading the case for the %s export: %s\n",
                pt_qx_name(q->k), pt_q_errmsg(q->st));
    }
    pt_q_free(q->st);
    q->st = NULL;
    return rc;
}

/* One kind as NDJSON or CSV. */
static pt_status export_plain(struct pt_db *db, enum pt_qx_kind k, enum fmt fmt,
                              const char *path, uint16_t seed)
{
    struct q q;
    struct out o;
    PT_TRY(q_open(db, k, false, &q));
    pt_status rc = out_open(&o, path);
    uint64_t rows = 0;
    if (rc == PT_OK) {
        if (fmt == FMT_CSV) {
            csv_header(o.f, &q);
        }
        for (q_step(&q); q.row; q_step(&q), rows++) {
            if (fmt == FMT_CSV) {
                row_csv(o.f, &q, seed);
            } else {
                row_json(o.f, &q, seed, false);
            }
        }
        rc = q_done(&q);
        rc = out_close(&o, rc);
    }
    pt_q_free(q.st);
    if (rc == PT_OK) {
        fprintf(stderr, "phitrace: %s: %llu row(s) to %s\n", pt_qx_name(k), (unsigned long long)rows,
                path && strcmp(path, "-") != 0 ? path : "stdout");
    }
    return rc;
}

/* The kinds of `mask` with a time, merged in time order (ties: kind order, then row id). */
static pt_status export_timeline(struct pt_db *db, unsigned mask, enum fmt fmt, const char *path,
                                 uint16_t seed)
{
    struct q qs[PT_QX_KINDS];
    size_t nq = 0;
    uint64_t rows[PT_QX_KINDS] = {0};
    pt_status rc = PT_OK;
    for (size_t i = 0; i < PT_QX_KINDS && rc == PT_OK; i++) {
        if ((mask & (1u << i)) && pt_qx_timed((enum pt_qx_kind)i)) {
            rc = q_open(db, (enum pt_qx_kind)i, true, &qs[nq]);
            nq += rc == PT_OK;
        }
    }
    struct out o = {0};
    if (rc == PT_OK) {
        rc = out_open(&o, path);
    }
    if (rc == PT_OK) {
        if (fmt == FMT_L2TCSV) {
            fputs(l2t_header, o.f);
        }
        for (size_t i = 0; i < nq; i++) {
            q_step(&qs[i]);
        }
        for (;;) {
            size_t best = nq;
            for (size_t i = 0; i < nq; i++) {
                if (qs[i].row && (best == nq || pt_q_int(qs[i].st, PT_QX_T_TIME) <
                                                    pt_q_int(qs[best].st, PT_QX_T_TIME))) {
                    best = i;
                }
            }
            if (best == nq) {
                break;
            }
            if (fmt == FMT_L2TCSV) {
                row_l2t(o.f, &qs[best], seed);
            } else {
                row_json(o.f, &qs[best], seed, true);
            }
            rows[best]++;
            q_step(&qs[best]);
        }
        for (size_t i = 0; i < nq; i++) {
            pt_status r = q_done(&qs[i]);
            rc = rc == PT_OK ? r : rc;
        }
        rc = out_close(&o, rc);
    }
    for (size_t i = 0; i < nq; i++) {
        pt_q_free(qs[i].st);
        if (rc == PT_OK) {
            fprintf(stderr, "phitrace: %s: %llu row(s) with a time to %s\n", pt_qx_name(qs[i].k),
                    (unsigned long long)rows[i],
                    path && strcmp(path, "-") != 0 ? path : "stdout");
        }
    }
    return rc;
}

/* ---- the command ----------------------------------------------------------------------------- */

struct args {
    const char *case_dir, *out;
    int fmt;          /* -1 until given */
    unsigned what;    /* bit i: kind i (q_export.h); 0 until given */
    unsigned long seed;
};

static int parse_what(const char *list, unsigned *mask)
{
    char buf[256];
    if (strlen(list) >= sizeof buf) {
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", list);
    *mask = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < PT_QX_KINDS && strcmp(w, pt_qx_name((enum pt_qx_kind)i)) != 0) {
            i++;
        }
        if (i == PT_QX_KINDS) {
            return -1;
        }
        *mask |= 1u << i;
    }
    return *mask ? 0 : -1;
}

static void export_usage(void)
{
    fprintf(stderr, "phitrace: error: usage: phitrace export CASE --format ndjson|csv|timesketch|"
                    "l2tcsv [--what events,findings,objects,flows,individuals,timeline] "
                    "[-o FILE|DIR] [--community-id-seed N]\n");
}

static pt_status parse_args(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"what", required_argument, NULL, 'w'},
        {"output", required_argument, NULL, 'o'},
        {"community-id-seed", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    *a = (struct args){.fmt = -1};
    int c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
            case 'f':
                for (int i = 0; i < 4; i++) {
                    a->fmt = strcmp(optarg, fmt_names[i]) == 0 ? i : a->fmt;
                }
                if (a->fmt < 0) {
                    fprintf(stderr, "phitrace: error: --format takes ndjson, csv, timesketch or "
                                    "l2tcsv\n");
                    return PT_EUSAGE;
                }
                break;
            case 'w':
                if (parse_what(optarg, &a->what) != 0) {
                    fprintf(stderr, "phitrace: error: --what takes events, findings, objects, "
                                    "flows, individuals and timeline, comma separated\n");
                    return PT_EUSAGE;
                }
                break;
            case 'o': a->out = optarg; break;
            case 's':
                errno = 0;
                a->seed = strtoul(optarg, &end, 10);
                if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || a->seed > 65535) {
                    fprintf(stderr, "phitrace: error: --community-id-seed takes 0 to 65535\n");
                    return PT_EUSAGE;
                }
                break;
            default: export_usage(); return PT_EUSAGE;
        }
    }
    if (optind != argc - 1 || a->fmt < 0) {
        export_usage();
        return PT_EUSAGE;
    }
    a->case_dir = argv[optind];
    return PT_OK;
}

/* Which kinds, and where: several plain exports (or -o naming a directory) go to DIR/<what>.<ext>
 * (DIR made 0700 when missing); a timeline format is one file of every timed kind. */
static pt_status check_args(struct args *a, bool *to_dir)
{
    bool timeline = a->fmt == FMT_TIMESKETCH || a->fmt == FMT_L2TCSV;
    unsigned timed = 0, all = (1u << PT_QX_KINDS) - 1;
    for (size_t i = 0; i < PT_QX_KINDS; i++) {
        timed |= pt_qx_timed((enum pt_qx_kind)i) ? 1u << i : 0;
    }
    if (timeline && (a->what & ~timed) != 0) {
        fprintf(stderr, "phitrace: error: individuals have no time, so they are not in a "
                        "timeline; export them as ndjson or csv\n");
        return PT_EUSAGE;
    }
    a->what = a->what ? a->what : timeline ? timed : all;
    struct stat sb;
    bool stdout_out = a->out == NULL || strcmp(a->out, "-") == 0;
    *to_dir = !stdout_out && stat(a->out, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (!timeline && (a->what & (a->what - 1)) != 0 && !*to_dir) {
        if (stdout_out) {
            fprintf(stderr, "phitrace: error: several exports go to a directory: add -o DIR "
                            "(or choose one with --what)\n");
            return PT_EUSAGE;
        }
        if (mkdir(a->out, 0700) != 0) {
            fprintf(stderr, "phitrace: error: cannot create %s: %s\n", a->out, strerror(errno));
            return PT_EIO;
        }
        *to_dir = true;
    }
    return PT_OK;
}

static pt_status run_exports(struct pt_db *db, const struct args *a, bool to_dir)
{
    char path[4300];
    uint16_t seed = (uint16_t)a->seed;
    if (a->fmt == FMT_TIMESKETCH || a->fmt == FMT_L2TCSV) {
        if (to_dir) {
            snprintf(path, sizeof path, "%s/%s", a->out, fmt_ext[a->fmt]);
        }
        return export_timeline(db, a->what, (enum fmt)a->fmt, to_dir ? path : a->out, seed);
    }
    for (size_t i = 0; i < PT_QX_KINDS; i++) {
        if (a->what & (1u << i)) {
            if (to_dir) {
                snprintf(path, sizeof path, "%s/%s.%s", a->out, pt_qx_name((enum pt_qx_kind)i), fmt_ext[a->fmt]);
            }
            PT_TRY(export_plain(db, (enum pt_qx_kind)i, (enum fmt)a->fmt, to_dir ? path : a->out, seed));
        }
    }
    return PT_OK;
}

pt_status pt_export_cmd(int argc, char **argv, pt_export_incomplete_fn incomplete)
{
    struct args a;
    bool to_dir = false;
    PT_TRY(parse_args(argc, argv, &a));
    PT_TRY(check_args(&a, &to_dir));
    char path[4200], err[512] = "", why[600];
    snprintf(path, sizeof path, "%s/evidence.db", a.case_dir);
    struct pt_db *db = NULL;
    if (pt_db_open_ro(path, &db, err, sizeof err) != PT_OK) {
        fprintf(stderr, "phitrace: error: %s\n", err);
        return PT_EIO;
    }
    /* a pipeline must not take rows from a case that is not whole */
    if (incomplete(db, a.case_dir, why, sizeof why)) {
        fprintf(stderr, "phitrace: error: %s is an incomplete case: %s; nothing exported\n",
                a.case_dir, why);
        pt_db_close(db);
        return PT_EMALFORMED;
    }
    pt_status rc = run_exports(db, &a, to_dir);
    pt_db_close(db);
    return rc;
}
