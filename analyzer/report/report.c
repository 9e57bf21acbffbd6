/*
 * report.c - report.json, report.html and report.txt from the evidence database alone
 * (see report.h). Sections follow research/phi-disk-compliance.md §3.4: executive summary,
 * evidence inventory with SHA-256, chain of custody, methodology, findings with evidence,
 * timeline, HIPAA four-factor risk assessment support (45 CFR 164.402(2)), OCR breach
 * portal field suggestions, individuals per state, limitations, appendices.
 *
 * The report never says "no breach": it states what was observed, in which window, with
 * what coverage. Text from the evidence (names, paths, hostnames) is escaped for HTML and
 * JSON; the HTML carries no script and loads nothing.
 *
 * Every row comes from a named query of the store (store/q_report.def); the many tables of
 * the reports are rendered from their columns alone (json_rows, html_table: a column's name
 * is its JSON key and header, its suffix says how to show it), so a table is one line here.
 * Each report is written as it is rendered, through a buffer to its file: memory does not
 * grow with the findings.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../core/human.h"
#include "../core/utf8.h"
#include "../core/version.h"
#include "../store/db.h"
#include "../store/q_report.h"
#include "words.h"

/* ---- the writer: a buffer in front of the report's file ----------------------------------------- */

struct sb {
    FILE *f;
    gzFile gz;  /* instead of f: a list file of the case (report/<list>.jsonl.gz) */
    int oom;
    bool io;    /* a write to gz failed (f: ferror, at the close) */
    size_t n;
    char buf[1 << 16];
};

static void sb_write(struct sb *b, const char *s, size_t n)
{
    if (b->gz != NULL) {
        b->io |= gzwrite(b->gz, s, (unsigned)n) != (int)n;
    } else {
        fwrite(s, 1, n, b->f); /* errors: ferror, at the close */
    }
}

static void sb_flush(struct sb *b)
{
    if (b->n > 0) {
        sb_write(b, b->buf, b->n);
        b->n = 0;
    }
}

static void sb_put(struct sb *b, const char *s, size_t n)
{
    if (b->n + n > sizeof b->buf) {
        sb_flush(b);
        if (n > sizeof b->buf) {
            sb_write(b, s, n);
            return;
        }
    }
    memcpy(b->buf + b->n, s, n);
    b->n += n;
}

static void sb_s(struct sb *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void sb_f(struct sb *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0) {
        sb_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
    }
}

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD, for each byte that is not UTF-8 */

/* Text from the evidence as a JSON string: valid UTF-8 whatever the bytes (RFC 8259 §8.1). */
static void sb_json(struct sb *b, const char *s)
{
    sb_s(b, "\"");
    const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;
    while (*p) { /* runs of plain bytes are copied at once */
        size_t n = pt_utf8_len(p);
        if (n > 0 && *p != '"' && *p != '\\' && *p >= 0x20 && *p != 0x7f) {
            p += n;
            continue;
        }
        sb_put(b, (const char *)run, (size_t)(p - run));
        if (n == 0) {
            sb_s(b, REPLACEMENT);
        } else if (*p < 0x20 || *p == 0x7f) {
            sb_f(b, "\\u%04x", *p);
        } else {
            char e[2] = {'\\', (char)*p};
            sb_put(b, e, 2);
        }
        run = ++p;
    }
    sb_put(b, (const char *)run, (size_t)(p - run));
    sb_s(b, "\"");
}

/* JSON we generated ourselves (a finding's detail), embedded as is but for bytes that are not
 * UTF-8, which evidence strings inside it may carry. */
static void sb_json_raw(struct sb *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *run = p;
    while (*p) {
        size_t n = pt_utf8_len(p);
        if (n > 0) {
            p += n;
            continue;
        }
        sb_put(b, (const char *)run, (size_t)(p - run));
        sb_s(b, REPLACEMENT);
        run = ++p;
    }
    sb_put(b, (const char *)run, (size_t)(p - run));
}

/* Text from the evidence as HTML: markup characters as entities, C0 controls and DEL as their
 * visible Control Pictures (U+2400 block; raw they are parse errors), bytes that are not UTF-8
 * as U+FFFD. */
static void sb_html(struct sb *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;
    while (*p) {
        size_t n = pt_utf8_len(p);
        const char *ent = n == 0       ? REPLACEMENT
                          : *p == '<'  ? "&lt;"
                          : *p == '>'  ? "&gt;"
                          : *p == '&'  ? "&amp;"
                          : *p == '"'  ? "&quot;"
                          : *p == '\'' ? "&#39;"
                                       : NULL;
        if (ent == NULL && (*p < 0x20 || *p == 0x7f) && *p != '\n' && *p != '\t') {
            char pic[4] = {(char)0xe2, (char)0x90, (char)(*p == 0x7f ? 0xa1 : 0x80 + *p), 0};
            sb_put(b, (const char *)run, (size_t)(p - run));
            sb_s(b, pic);
            run = ++p;
            continue;
        }
        if (ent != NULL) {
            sb_put(b, (const char *)run, (size_t)(p - run));
            sb_s(b, ent);
            run = ++p;
            continue;
        }
        p += n;
    }
    sb_put(b, (const char *)run, (size_t)(p - run));
}

/* Text from the evidence for report.txt: bytes that are not UTF-8, C0 controls (line ends and
 * tabs too, so a field never starts a line of its own) and DEL as \xNN, lower-case hex as in
 * the SSH records; everything else as is. */
static void sb_txt(struct sb *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
    while (p < end) {
        size_t n = *p ? pt_utf8_len(p) : 0;
        if (n > 0 && (size_t)(end - p) >= n && *p >= 0x20 && *p != 0x7f) {
            p += n;
            continue;
        }
        sb_put(b, (const char *)run, (size_t)(p - run));
        sb_f(b, "\\x%02x", *p);
        run = ++p;
    }
    sb_put(b, (const char *)run, (size_t)(p - run));
}

/* One line of report.txt: the format's own text is ASCII, so the whole formatted line is
 * escaped as evidence text (sb_txt) and then ended; a line is never cut. */
__attribute__((format(printf, 2, 3))) static void txt_line(struct sb *b, const char *fmt, ...)
{
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *tmp = k >= 0 ? malloc((size_t)k + 1) : NULL;
    if (tmp == NULL) {
        b->oom = 1;
    } else {
        vsnprintf(tmp, (size_t)k + 1, fmt, aq);
        sb_txt(b, tmp, (size_t)k);
        free(tmp);
    }
    va_end(aq);
    sb_s(b, "\n");
}

/* ---- queries ------------------------------------------------------------------------------------- */

/* Query `name` (its ?1 bound to `key` unless NULL) with its first row read, or NULL when it
 * has none; pt_q_free it. */
static struct pt_q *first_row(struct pt_db *db, enum pt_query name, const char *key)
{
    struct pt_q *q = NULL;
    if (pt_q_open(db, name, &q) != PT_OK || (key && pt_q_bind_text(q, 1, key) != PT_OK) ||
        !pt_q_step(q)) {
        pt_q_free(q);
        return NULL;
    }
    return q;
}

/* Column `c` of a first row as text ("" without a row) and as a number (0 without one). */
static void row_text(const struct pt_q *q, int c, char *out, size_t len)
{
    snprintf(out, len, "%s", q ? pt_q_text(q, c) : "");
}

static int64_t row_int(const struct pt_q *q, int c)
{
    return q ? pt_q_int(q, c) : 0;
}

/* The first row's column 0 of `name` as text. */
static void one_text(struct pt_db *db, enum pt_query name, const char *key, char *out, size_t len)
{
    struct pt_q *q = first_row(db, name, key);
    row_text(q, 0, out, len);
    pt_q_free(q);
}

static void iso(int64_t us, char *out, size_t len)
{
    if (us == 0) {
        snprintf(out, len, "-");
        return;
    }
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}


struct facts {
    char verdict[32];
    int64_t bytes_out;
    int64_t first, last;           /* capture window */
    long long ind[2][4];           /* [all, outbound][estimate, lower, upper, deceased] */
    char method[1024];
    long long events, findings, phi_objects_out, objects;
    char phi_types_out[512];       /* machine keys, comma separated (report.json) */
    char phi_words_out[1024];      /* the same in words (html, txt) */
    char top_dest[3072];           /* the first destinations with their names, "and N more" */
    char statement[8192];
    char case_id[256], examiner[256], org[256];
    char generated[40];            /* when the analysis completed (manifest end_utc) */
    char breach_first[40], breach_last[40];
    const char *breach_basis;      /* what the breach dates are the times of */
    char coverage[1100];           /* the coverage sentence (coverage_summary) */
    char window[640];              /* "in the 2 packet captures covering ... to ..." */
    char not_examined[420];        /* "1 disk image, 5 log files were not examined", or "" */
    char incomplete[512];          /* why the case is incomplete; "" when it is complete */
    char directory[4200];          /* the case as the run named it (manifest case_dir) */
    const char *case_path;         /* where the case is now (the long lists' files go there) */
};

/* Destinations by verdict, with what the evidence names them by: the first `max`, then
 * "and N more destination(s)" (the tables list them all). */
static void destinations_text(struct pt_db *db, char *out, size_t len, int max)
{
    struct pt_q *st = NULL;
    size_t k = 0;
    int n = 0, total = 0;
    out[0] = '\0';
    if (pt_q_open(db, PT_Q_REPORT_DESTINATIONS_TEXT, &st) != PT_OK) {
        return;
    }
    while (pt_q_step(st)) {
        total++;
        size_t room = len - k; /* k < len always; 96 bytes are kept for "and N more" */
        if (n >= max || room <= 96) {
            continue;
        }
        const char *label = pt_q_text(st, 2);
        int w = snprintf(out + k, room - 96, "%s%s (%s%s%s)", n ? ", " : "", pt_q_text(st, 0),
                         label, label[0] ? "; " : "", pt_q_text(st, 1));
        if (w < 0 || (size_t)w >= room - 96) { /* too long for what is left: counted below */
            out[k] = '\0';
            continue;
        }
        k += (size_t)w;
        n++;
    }
    pt_q_free(st);
    if (total > n) {
        snprintf(out + k, len - k, "%sand %d more destination(s) (listed in the destinations "
                 "table)", n ? " " : "", total - n);
    }
}

/* The PHI types of a comma-separated list in words, comma separated. */
static void types_words(const char *keys, char *out, size_t len)
{
    size_t k = 0;
    out[0] = '\0';
    for (const char *p = keys; *p && k < len;) {
        size_t n = strcspn(p, ",");
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(n < sizeof key ? n : sizeof key - 1), p);
        k += (size_t)snprintf(out + k, len - k, "%s%s", k ? ", " : "", pt_words(key));
        p += n;
        p += *p == ',';
    }
}

/* The case's identity (--case-id, --examiner, --org), the completion time, and the breach
 * dates: the first and last transfer of PHI out, else the likely events' window. */
static void gather_case(struct pt_db *db, struct facts *f)
{
    one_text(db, PT_Q_REPORT_MANIFEST, "case_id", f->case_id, sizeof f->case_id);
    one_text(db, PT_Q_REPORT_MANIFEST, "examiner", f->examiner, sizeof f->examiner);
    one_text(db, PT_Q_REPORT_MANIFEST, "organisation", f->org, sizeof f->org);
    one_text(db, PT_Q_REPORT_GENERATED, NULL, f->generated, sizeof f->generated);
    struct pt_q *q = first_row(db, PT_Q_REPORT_BREACH_OUT, NULL);
    row_text(q, 0, f->breach_first, sizeof f->breach_first);
    row_text(q, 1, f->breach_last, sizeof f->breach_last);
    pt_q_free(q);
    f->breach_basis = "the first and last transfer of PHI out of the network";
    if (f->breach_first[0] == '\0') {
        q = first_row(db, PT_Q_REPORT_BREACH_LIKELY, NULL);
        row_text(q, 0, f->breach_first, sizeof f->breach_first);
        row_text(q, 1, f->breach_last, sizeof f->breach_last);
        pt_q_free(q);
        f->breach_basis = f->breach_first[0] ? "the window of the likely events (their content "
                                               "could not be read)" : "no PHI transfer observed";
    }
}

/* The overall verdict, the window, the individuals and the counts the summaries quote. */
static void gather_figures(struct pt_db *db, struct facts *f)
{
    struct pt_q *q = first_row(db, PT_Q_REPORT_OVERALL, NULL);
    row_text(q, 0, f->verdict, sizeof f->verdict);
    f->bytes_out = row_int(q, 1);
    pt_q_free(q);
    if (f->verdict[0] == '\0') {
        snprintf(f->verdict, sizeof f->verdict, "not assessed");
    }
    q = first_row(db, PT_Q_REPORT_WINDOW, NULL);
    f->first = row_int(q, 0);
    f->last = row_int(q, 1);
    pt_q_free(q);
    if (pt_q_open(db, PT_Q_REPORT_INDIVIDUALS, &q) == PT_OK) {
        while (pt_q_step(q)) {
            int k = strcmp(pt_q_text(q, 0), "outbound") == 0;
            if (!k && strcmp(pt_q_text(q, 0), "all") != 0) {
                continue; /* staged, present: REPORT_CATEGORIES */
            }
            for (int i = 0; i < 4; i++) {
                f->ind[k][i] = pt_q_int(q, i + 1);
            }
            snprintf(f->method, sizeof f->method, "%s", pt_q_text(q, 5));
        }
    }
    pt_q_free(q);
    q = first_row(db, PT_Q_REPORT_COUNTS, NULL);
    f->events = row_int(q, 0);
    f->findings = row_int(q, 1);
    f->objects = row_int(q, 2);
    f->phi_objects_out = row_int(q, 3);
    pt_q_free(q);
    one_text(db, PT_Q_REPORT_PHI_TYPES_OUT, NULL, f->phi_types_out, sizeof f->phi_types_out);
    types_words(f->phi_types_out, f->phi_words_out, sizeof f->phi_words_out);
    destinations_text(db, f->top_dest, sizeof f->top_dest, 5);
    q = first_row(db, PT_Q_REPORT_COVERAGE_SUMMARY, NULL);
    row_text(q, 0, f->coverage, sizeof f->coverage);
    row_text(q, 1, f->window, sizeof f->window);
    row_text(q, 2, f->not_examined, sizeof f->not_examined);
    pt_q_free(q);
}

static void gather(struct pt_db *db, struct facts *f, const char *incomplete, const char *case_dir)
{
    memset(f, 0, sizeof *f);
    snprintf(f->incomplete, sizeof f->incomplete, "%s", incomplete ? incomplete : "");
    f->case_path = case_dir;
    one_text(db, PT_Q_REPORT_MANIFEST, "case_dir", f->directory, sizeof f->directory);
    if (f->directory[0] == '\0') {
        snprintf(f->directory, sizeof f->directory, "%s", case_dir);
    }
    gather_figures(db, f);
    gather_case(db, f);
    char a[32], b[32], hb[32];
    iso(f->first, a, sizeof a);
    iso(f->last, b, sizeof b);
    pt_human_bytes((double)f->bytes_out, hb, sizeof hb);
    if (f->window[0] == '\0') { /* a case from before coverage was recorded */
        snprintf(f->window, sizeof f->window, "in the evidence covering %s to %s", a, b);
    }
    char also[460] = "";
    if (f->not_examined[0] != '\0') {
        snprintf(also, sizeof also, "; %s", f->not_examined);
    }
    if (strcmp(f->verdict, "confirmed") == 0) {
        snprintf(f->statement, sizeof f->statement,
                 "Patient data was observed leaving the network: %lld object(s) carrying PHI "
                 "(%s) of an estimated %lld individual(s) (between %lld and %lld) were sent to "
                 "%s, %s%s.",
                 f->phi_objects_out, f->phi_words_out, f->ind[1][0], f->ind[1][1], f->ind[1][2],
                 f->top_dest, f->window, also);
    } else if (strcmp(f->verdict, "likely") == 0) {
        snprintf(f->statement, sizeof f->statement,
                 "Patient data was likely taken: PHI was held by the sending host inside the "
                 "network and then %s left in encrypted or tunnelled traffic to unusual "
                 "destinations (%s), %s%s. The content of that traffic could not be read.",
                 hb, f->top_dest, f->window, also);
    } else if (strcmp(f->verdict, "possible") == 0) {
        snprintf(f->statement, sizeof f->statement,
                 "Exfiltration-shaped activity was observed (%s; %s out) but no patient data was "
                 "seen leaving in the traffic that could be decoded, %s%s. See the limitations "
                 "before concluding anything about data that was not captured or was encrypted.",
                 f->top_dest, hb, f->window, also);
    } else {
        snprintf(f->statement, sizeof f->statement,
                 "No transfer of patient data and no exfiltration-shaped activity was observed "
                 "%s%s, within the coverage and limitations listed below. This is a statement "
                 "about this evidence, not a finding that no breach occurred.",
                 f->window, also);
    }
    if (f->incomplete[0] != '\0') {
        /* said first, in every output: what follows rests on a case that is not whole */
        char done[sizeof f->statement];
        memcpy(done, f->statement, sizeof done);
        snprintf(f->statement, sizeof f->statement,
                 "INCOMPLETE CASE: %.500s. The analysis below covers only what was recorded "
                 "and must not be relied on; re-run the analysis. %.7000s",
                 f->incomplete, done);
    }
}

/* ---- JSON ------------------------------------------------------------------------------------- */

/* Columns whose text names a thing from the evidence (a file, a path, a URI, a host, a user):
 * when their bytes are not UTF-8, the JSON shows them with U+FFFD and also gives the original
 * bytes in hex in a sibling "<column>_hex", so the thing can still be found byte for byte. */
static bool identifies(const char *column)
{
    static const char *const names[] = {"name", "path", "source", "destination", "uri", "host",
                                        "user", "filename", "sni"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(column, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* ,"<column>_hex":"<lower-case hex of the bytes>" */
static void sb_json_hex(struct sb *b, const char *column, const char *s)
{
    sb_f(b, ",\"%s_hex\":\"", column);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        sb_f(b, "%02x", *p);
    }
    sb_s(b, "\"");
}

/* A comma-separated list the database keeps (protocols, PHI types, identifier types) as a
 * JSON array of strings; "" is []. */
static void json_list(struct sb *b, const char *s)
{
    sb_s(b, "[");
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, ",");
        char item[512];
        snprintf(item, sizeof item, "%.*s", (int)(n < sizeof item ? n : sizeof item - 1), p);
        sb_s(b, p == s ? "" : ",");
        sb_json(b, item);
        p += n;
        p += *p == ',';
    }
    sb_s(b, "]");
}

/* Column i of the row as `"name":value` (after a comma unless it is the first). */
static void json_cell(struct sb *b, const struct pt_q *st, int i)
{
    const char *name = pt_q_name(st, i);
    size_t nl = strlen(name);
    bool raw = nl > 5 && strcmp(name + nl - 5, "_json") == 0;
    bool list = nl > 5 && strcmp(name + nl - 5, "_list") == 0;
    if (i) {
        sb_s(b, ",");
    }
    if (raw || list) {
        char k[64];
        snprintf(k, sizeof k, "%.*s", (int)(nl - 5), name);
        sb_json(b, k);
    } else {
        sb_json(b, name);
    }
    sb_s(b, ":");
    if (list) {
        json_list(b, pt_q_text(st, i));
        return;
    }
    switch (pt_q_type(st, i)) {
        case PT_Q_INT: sb_f(b, "%lld", (long long)pt_q_int(st, i)); break;
        case PT_Q_REAL: sb_f(b, "%.6g", pt_q_real(st, i)); break;
        case PT_Q_NULL: sb_s(b, "null"); break;
        default:
            if (raw && pt_q_text(st, i)[0] != '\0') {
                sb_json_raw(b, pt_q_text(st, i));
            } else {
                sb_json(b, pt_q_text(st, i));
                if (identifies(name) && !pt_utf8_valid(pt_q_text(st, i))) {
                    sb_json_hex(b, name, pt_q_text(st, i));
                }
            }
    }
}

/* Rows of query `name` as an array of objects; columns named by the query; integer, real and
 * text kept as such; columns whose name ends in "_json" are embedded as JSON, those ending in
 * "_list" (comma-separated) as arrays of strings, each under the name without the suffix. */
static void json_object(struct sb *b, const struct pt_q *st)
{
    sb_s(b, "{");
    for (int i = 0; i < pt_q_columns(st); i++) {
        json_cell(b, st, i);
    }
    sb_s(b, "}");
}

static void json_rows(struct sb *b, struct pt_db *db, enum pt_query name)
{
    struct pt_q *st = NULL;
    sb_s(b, "[");
    if (pt_q_open(db, name, &st) != PT_OK) {
        sb_s(b, "]");
        return;
    }
    int n = 0;
    while (pt_q_step(st)) {
        sb_s(b, n++ ? "," : "");
        json_object(b, st);
    }
    pt_q_free(st);
    sb_s(b, "]");
}

/* ---- the long lists ------------------------------------------------------------------------- */

/* Lists that grow with the evidence (a row per person to notify, object with PHI, rule match,
 * timeline entry, destination, exfiltration event, heuristic finding): report.json holds the
 * first PAGE rows of each with the total, report.html and report.txt the same first rows, and
 * the whole list is a file of the case written with report.json: JSON Lines (each line one
 * row of report.json's shape), gzip-compressed. */
#define PAGE 100

static const struct paged {
    const char *key, *file;
    enum pt_query json, html;
} lists[] = {
    {"roster", "report/roster.jsonl.gz", PT_Q_JSON_ROSTER, PT_Q_HTML_ROSTER},
    {"objects_with_phi", "report/objects_with_phi.jsonl.gz", PT_Q_JSON_OBJECTS_WITH_PHI,
     PT_Q_HTML_OBJECTS_WITH_PHI},
    {"yara_matches", "report/yara_matches.jsonl.gz", PT_Q_JSON_YARA, PT_Q_HTML_YARA},
    {"timeline", "report/timeline.jsonl.gz", PT_Q_JSON_TIMELINE, PT_Q_HTML_TIMELINE},
    /* confirmed, then likely, then possible, most bytes first: the page holds the strongest */
    {"destinations", "report/destinations.jsonl.gz", PT_Q_JSON_DESTINATIONS,
     PT_Q_HTML_DESTINATIONS},
    /* confirmed, then likely, then possible (EVENT_ORDER): the page holds the strongest */
    {"events", "report/events.jsonl.gz", PT_Q_JSON_EVENTS, PT_Q_HTML_EVENTS},
    /* by id: an event's reasons.findings names findings by id, each a line of this file
     * whether or not it is on the page */
    {"findings", "report/findings.jsonl.gz", PT_Q_JSON_FINDINGS, PT_Q_HTML_FINDINGS},
};

#define N_LISTS (sizeof lists / sizeof lists[0])
#define STAGED ".staged"

const char *pt_report_list_name(size_t i)
{
    return i < N_LISTS ? lists[i].file : NULL;
}

bool pt_report_list_staged_path(const char *case_dir, size_t i, char *out, size_t len)
{
    int n = i < N_LISTS ? snprintf(out, len, "%s/%s" STAGED, case_dir, lists[i].file) : -1;
    return n > 0 && (size_t)n < len;
}

/* The list whose JSON (html false) or HTML query is `q`, or NULL. */
static const struct paged *paged_of(enum pt_query q, bool html)
{
    for (size_t i = 0; i < N_LISTS; i++) {
        if ((html ? lists[i].html : lists[i].json) == q) {
            return &lists[i];
        }
    }
    return NULL;
}

/* CASE/report/<key>.jsonl.gz.staged, 0600 in a 0700 directory, as a gzip stream; NULL when it
 * cannot be made. */
static gzFile list_open(const char *case_dir, const struct paged *l)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/report", case_dir);
    if ((mkdir(path, 0700) != 0 && errno != EEXIST) || chmod(path, 0700) != 0 ||
        !pt_report_list_staged_path(case_dir, (size_t)(l - lists), path, sizeof path)) {
        return NULL;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return NULL;
    }
    gzFile gz = fchmod(fd, 0600) == 0 ? gzdopen(fd, "wb6") : NULL;
    if (gz == NULL) {
        close(fd);
    }
    return gz;
}

/* A long list in report.json: {"items":[the first PAGE rows],"total":N,"file":"report/..."},
 * every row also a line of the list's file. */
static void json_paged(struct sb *b, struct pt_db *db, const char *case_dir, const struct paged *l)
{
    struct sb *w = malloc(sizeof *w);
    if (w == NULL) {
        b->oom = 1;
        return;
    }
    w->f = NULL;
    w->n = 0;
    w->oom = 0;
    w->io = false;
    w->gz = list_open(case_dir, l);
    b->io |= w->gz == NULL;
    struct pt_q *st = NULL;
    long long n = 0;
    sb_s(b, "{\"items\":[");
    if (pt_q_open(db, l->json, &st) == PT_OK) {
        while (pt_q_step(st)) {
            if (w->gz != NULL) {
                json_object(w, st);
                sb_s(w, "\n");
            }
            if (n++ < PAGE) {
                sb_s(b, n > 1 ? "," : "");
                json_object(b, st);
            }
        }
    }
    pt_q_free(st);
    sb_f(b, "],\"total\":%lld,\"file\":\"%s\"}", n, l->file);
    if (w->gz != NULL) {
        sb_flush(w);
        b->io |= w->io | (gzclose(w->gz) != Z_OK);
    }
    b->oom |= w->oom;
    free(w);
}

/* report.json: the HIPAA four-factor support and the OCR portal fields. */
static void json_assessment(struct sb *b, struct pt_db *db, const struct facts *f)
{
    sb_s(b, ",\"hipaa_risk_assessment\":{\"nature_and_extent\":");
    char t[2048];
    snprintf(t, sizeof t, "PHI types seen leaving: %s. Individuals in data that left: %lld "
                          "(bounds %lld-%lld). PHI types seen anywhere in the evidence: see phi_types.",
             f->phi_words_out[0] ? f->phi_words_out : "none observed", f->ind[1][0], f->ind[1][1],
             f->ind[1][2]);
    sb_json(b, t);
    sb_s(b, ",\"unauthorized_recipient\":");
    static const char lead[] = "Destinations outside the home network, as the evidence names "
                               "them: ";
    char all[8192];
    memcpy(all, lead, sizeof lead - 1);
    destinations_text(db, all + sizeof lead - 1, sizeof all - sizeof lead, 1000);
    sb_json(b, all[sizeof lead - 1] ? all : "Destinations outside the home network: none observed.");
    sb_s(b, ",\"recipients\":");
    json_rows(b, db, PT_Q_REPORT_RECIPIENTS);
    sb_s(b, ",\"acquired_or_viewed\":");
    snprintf(t, sizeof t, "Overall verdict %s: %s", f->verdict,
             strcmp(f->verdict, "confirmed") == 0
                 ? "PHI content was transferred to the destinations (acquired)."
                 : strcmp(f->verdict, "likely") == 0
                       ? "encrypted or tunnelled volume comparable to staged PHI left; content unreadable."
                       : "no PHI content was seen leaving in decoded traffic.");
    sb_json(b, t);
    sb_s(b, ",\"mitigation\":");
    sb_json(b, "Not determinable from network evidence: record recovery of data, assurances from "
               "recipients, and blocking of the destinations here.");
    sb_s(b, "},\"ocr_portal\":{\"breach_start_date\":");
    sb_json(b, f->breach_first);
    sb_s(b, ",\"breach_end_date\":");
    sb_json(b, f->breach_last);
    sb_s(b, ",\"breach_dates_basis\":");
    sb_json(b, f->breach_basis);
    sb_s(b, ",\"recipients\":");
    json_rows(b, db, PT_Q_REPORT_RECIPIENTS);
    sb_f(b, ",\"approximate_individuals_affected\":%lld,\"type_of_breach\":\"Hacking/IT Incident\","
            "\"location_of_breached_information\":\"Network Server\",\"type_of_phi\":",
         f->ind[1][0] > 0 ? f->ind[1][0] : f->ind[0][0]);
    json_rows(b, db, PT_Q_JSON_TYPE_OF_PHI);
}

/* Keys of report.json whose value is a query's rows, in the order written. */
struct json_table {
    const char *key;
    enum pt_query q;
};

static void json_tables(struct sb *b, struct pt_db *db, const struct facts *f,
                        const struct json_table *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sb_f(b, ",\"%s\":", t[i].key);
        const struct paged *l = paged_of(t[i].q, false);
        if (l != NULL) {
            json_paged(b, db, f->case_path, l);
        } else {
            json_rows(b, db, t[i].q);
        }
    }
}

static const struct json_table json_individuals[] = {
    {"by_state", PT_Q_REPORT_BY_STATE},   {"by_category", PT_Q_REPORT_CATEGORIES},
    {"holdings", PT_Q_REPORT_HOLDINGS},   {"roster", PT_Q_JSON_ROSTER},
};

static const struct json_table json_evidence[] = {
    {"phi_types", PT_Q_JSON_PHI_TYPES},
    {"events", PT_Q_JSON_EVENTS},
    {"findings", PT_Q_JSON_FINDINGS},
    {"objects_with_phi", PT_Q_JSON_OBJECTS_WITH_PHI},
    {"yara_rules", PT_Q_JSON_YARA_RULES},
    {"yara_matches", PT_Q_JSON_YARA},
    {"browser_downloads", PT_Q_REPORT_DOWNLOADS},
    {"recycle_records", PT_Q_REPORT_RECYCLE},
    {"coverage", PT_Q_JSON_COVERAGE},
    {"evidence_items", PT_Q_JSON_EVIDENCE},
    {"chain_of_custody", PT_Q_JSON_CUSTODY},
    {"methodology", PT_Q_REPORT_METHODOLOGY},
    {"limitations", PT_Q_REPORT_LIMITATIONS},
    {"encrypted_channels", PT_Q_REPORT_CHANNELS},
    {"timeline", PT_Q_JSON_TIMELINE},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void render_json(struct sb *b, struct pt_db *db, const struct facts *f)
{
    char a[32], z[32];
    iso(f->first, a, sizeof a);
    iso(f->last, z, sizeof z);
    sb_s(b, "{\"schema\":\"phitrace-report\",\"schema_version\":3,\"generated_by\":{\"tool\":"
            "\"phitrace\",\"version\":");
    sb_json(b, PT_VERSION);
    sb_s(b, ",\"git_commit\":");
    sb_json(b, PT_GIT_COMMIT);
    sb_s(b, "},\"case\":{\"directory\":");
    sb_json(b, f->directory);
    static const char *const who[] = {"case_id", "examiner", "organisation", "generated"};
    const char *const val[] = {f->case_id, f->examiner, f->org, f->generated};
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        sb_f(b, ",\"%s\":", who[i]);
        if (val[i][0] != '\0') {
            sb_json(b, val[i]);
        } else {
            sb_s(b, "null");
        }
    }
    sb_s(b, ",\"status\":");
    sb_json(b, f->incomplete[0] ? "incomplete" : "complete");
    if (f->incomplete[0]) {
        sb_s(b, ",\"incomplete_reason\":");
        sb_json(b, f->incomplete);
    }
    sb_s(b, "},\"verdict\":{\"overall\":");
    sb_json(b, f->verdict);
    sb_s(b, ",\"statement\":");
    sb_json(b, f->statement);
    sb_s(b, ",\"coverage\":");
    sb_json(b, f->coverage);
    sb_f(b, ",\"bytes_out\":%lld,\"destinations\":", (long long)f->bytes_out);
    json_paged(b, db, f->case_path, paged_of(PT_Q_JSON_DESTINATIONS, false));
    sb_s(b, "},\"time_window\":{\"first\":");
    sb_json(b, a);
    sb_s(b, ",\"last\":");
    sb_json(b, z);
    sb_s(b, "},\"individuals\":{");
    static const char *const scope[] = {"all", "outbound"};
    for (int k = 0; k < 2; k++) {
        sb_f(b, "%s\"%s\":{\"estimate\":%lld,\"lower\":%lld,\"upper\":%lld,\"deceased\":%lld}",
             k ? "," : "", scope[k], f->ind[k][0], f->ind[k][1], f->ind[k][2], f->ind[k][3]);
    }
    sb_s(b, ",\"method\":");
    sb_json(b, f->method);
    json_tables(b, db, f, json_individuals, COUNT(json_individuals));
    sb_s(b, "}");
    json_tables(b, db, f, json_evidence, COUNT(json_evidence));
    json_assessment(b, db, f);
    sb_s(b, "}}\n");
}

/* ---- HTML ------------------------------------------------------------------------------------ */

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330;"
    "margin:0;background:#f6f7f9}main{max-width:1080px;margin:0 auto;padding:24px 32px;"
    "background:#fff}h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;"
    "border-bottom:2px solid #e3e6ec;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}"
    ".muted{color:#5b6475}.verdict{display:inline-block;padding:4px 12px;border-radius:4px;"
    "font-weight:700;text-transform:uppercase;letter-spacing:.04em}.v-confirmed{background:"
    "#b3261e;color:#fff}.v-likely{background:#e46c0a;color:#fff}.v-possible{background:#f2c94c;"
    "color:#1d2330}.v-not{background:#2e7d32;color:#fff}.statement{font-size:16px;margin:12px 0}"
    ".kpis{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}.kpi{border:1px solid #e3e6ec;"
    "border-radius:6px;padding:8px 14px;min-width:150px}.kpi b{display:block;font-size:20px}"
    "table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:12.5px;table-layout:"
    "auto}th,td{border:1px solid #e3e6ec;padding:4px 6px;text-align:left;vertical-align:top;"
    "overflow-wrap:break-word}th{background:#f0f2f5}thead{display:table-header-group}tr{break-"
    "inside:avoid}td.num{text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:normal}"
    "ul.list{margin:0;padding-left:1.1em}ul.list li{margin:0}code,.mono{font-family:ui-monospace,"
    "'DejaVu Sans Mono',monospace;font-size:11px;word-break:break-all}svg{max-width:100%;"
    "height:auto}.sev-critical,.sev-high{color:#b3261e;font-weight:600}.sev-medium{color:#e46c0a}"
    ".sev-info{color:#5b6475}dl.case{display:grid;grid-template-columns:max-content 1fr;gap:2px "
    "14px;margin:8px 0}dl.case dt{color:#5b6475}dl.case dd{margin:0}"
    "footer{margin-top:32px;font-size:12px;color:#5b6475}"
    "@media screen and (max-width:1100px){main{padding:12px}table{font-size:10.5px}th,"
    "td{padding:3px}}@media print{ul.list li{white-space:nowrap}body{background:#fff;font-size:11px}main{max-width:none;padding:0}table{font-"
    "size:9.5px}h2,h3{break-after:avoid}svg{break-inside:avoid}a{color:inherit;text-decoration:"
    "none}.verdict{-webkit-print-color-adjust:exact;print-color-adjust:exact}}"
    "@page{size:A4;margin:18mm 12mm 16mm;@bottom-right{content:\"Page \" counter(page) \" of "
    "\" counter(pages);font-size:8px;color:#5b6475}@bottom-left{content:\"Confidential: may "
    "describe protected health information\";font-size:8px;color:#5b6475}}";

/* Text as the inside of a CSS string: ASCII other than letters, digits, space and a few
 * marks as a CSS escape (so no quote, backslash or "</style>" can end it), UTF-8 sequences as
 * they are, other bytes as U+FFFD. */
static void sb_css(struct sb *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = pt_utf8_len(p);
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            (*p < 0x80 && strchr(" .,:-_/#()", *p) != NULL) || (*p >= 0x80 && n > 0)) {
            sb_put(b, (const char *)p, n);
            p += n;
        } else {
            sb_f(b, "\\%x ", n == 0 ? 0xfffdu : *p);
            p++;
        }
    }
}

/* The running header of printed pages: the report and the case. */
static void css_running(struct sb *b, const struct facts *f)
{
    sb_s(b, "@page{@top-left{content:\"phitrace breach analysis report");
    if (f->case_id[0]) {
        sb_s(b, " - case ");
        sb_css(b, f->case_id);
    }
    sb_s(b, "\";font-size:8px;color:#5b6475}@top-right{content:\"");
    sb_css(b, f->org);
    sb_s(b, "\";font-size:8px;color:#5b6475}}");
}

/* A column name in words: its "_list" suffix dropped, the words of words.c, else the key
 * with spaces for underscores. */
static void col_words(const char *name, char *out, size_t len)
{
    size_t nl = strlen(name);
    char key[64];
    snprintf(key, sizeof key, "%.*s",
             (int)(nl > 5 && strcmp(name + nl - 5, "_list") == 0 ? nl - 5 : nl), name);
    snprintf(out, len, "%s", pt_words(key));
    for (char *p = out; *p; p++) {
        *p = *p == '_' ? ' ' : *p;
    }
}

/* A comma-separated list as an HTML list, each item in words: a table cell that wraps. */
static void html_list(struct sb *b, const char *s)
{
    if (*s == '\0') {
        return;
    }
    sb_s(b, "<ul class=\"list\">");
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, ",");
        char item[512];
        snprintf(item, sizeof item, "%.*s", (int)(n < sizeof item ? n : sizeof item - 1), p);
        sb_s(b, "<li>");
        sb_html(b, pt_words(item));
        sb_s(b, "</li>");
        p += n;
        p += *p == ',';
    }
    sb_s(b, "</ul>");
}

/* Column i of the row as a table cell: numbers right-aligned, hashes in monospace, "_list"
 * columns as lists, severities, heuristics and kinds in words. */
static void html_cell(struct sb *b, const struct pt_q *st, int i)
{
    enum pt_q_type t = pt_q_type(st, i);
    const char *name = pt_q_name(st, i);
    bool mono = strstr(name, "sha256") != NULL || strstr(name, "hash") != NULL;
    sb_s(b, t == PT_Q_INT || t == PT_Q_REAL ? "<td class=\"num\">"
            : mono ? "<td class=\"mono\">" : "<td>");
    size_t nl = strlen(name);
    if (strcmp(name, "severity") == 0) {
        sb_s(b, "<span class=\"sev-");
        sb_html(b, pt_q_text(st, i));
        sb_s(b, "\">");
        sb_html(b, pt_words(pt_q_text(st, i)));
        sb_s(b, "</span>");
    } else if (nl > 5 && strcmp(name + nl - 5, "_list") == 0) {
        html_list(b, pt_q_text(st, i));
    } else if (strcmp(name, "kind") == 0 || strcmp(name, "heuristic") == 0) {
        char w[256]; /* a key of ours: in words, or with spaces for underscores */
        col_words(pt_q_text(st, i), w, sizeof w);
        sb_html(b, w);
    } else if (t == PT_Q_REAL) {
        sb_f(b, "%.3f", pt_q_real(st, i));
    } else {
        sb_html(b, pt_q_text(st, i));
    }
    sb_s(b, "</td>");
}

/* An HTML table of query `name`'s rows, the header from the column names in words; `empty`
 * when it has none. */
static void html_table(struct sb *b, struct pt_db *db, enum pt_query name, const char *empty)
{
    struct pt_q *st = NULL;
    if (pt_q_open(db, name, &st) != PT_OK) {
        sb_s(b, "<p class=\"muted\">(query failed)</p>");
        return;
    }
    const struct paged *l = paged_of(name, true);
    long long rows = 0;
    while (pt_q_step(st)) {
        if (l != NULL && rows >= PAGE) { /* a long list: its first rows, then counted */
            rows++;
            continue;
        }
        if (rows++ == 0) {
            sb_s(b, "<table><thead><tr>");
            for (int i = 0; i < pt_q_columns(st); i++) {
                char w[128];
                col_words(pt_q_name(st, i), w, sizeof w);
                sb_s(b, "<th>");
                sb_html(b, w);
                sb_s(b, "</th>");
            }
            sb_s(b, "</tr></thead><tbody>");
        }
        sb_s(b, "<tr>");
        for (int i = 0; i < pt_q_columns(st); i++) {
            html_cell(b, st, i);
        }
        sb_s(b, "</tr>");
    }
    pt_q_free(st);
    if (rows == 0) {
        sb_s(b, "<p class=\"muted\">");
        sb_html(b, empty);
        sb_s(b, "</p>");
    } else {
        sb_s(b, "</tbody></table>");
    }
    if (l != NULL && rows > PAGE) {
        sb_f(b, "<p class=\"muted\">The first %d of %lld rows. All of them are in <a href=\"%s\">"
                "<code>%s</code></a> (JSON Lines, gzip-compressed, written with report.json; "
                "each line one entry of its <code>%s</code> list).</p>", PAGE, rows, l->file,
             l->file, l->key);
    }
}

/* A run of report.html: HTML of ours, then a query's table (`empty` when it has no row). */
struct html_section {
    const char *before;
    enum pt_query q;
    const char *empty;
};

static void html_sections(struct sb *b, struct pt_db *db, const struct html_section *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sb_s(b, s[i].before);
        html_table(b, db, s[i].q, s[i].empty);
    }
}

/* Horizontal bar chart of (label, value) rows, inline SVG. */
static void svg_bars(struct sb *b, struct pt_db *db, enum pt_query name, const char *title,
                     bool bytes)
{
    struct pt_q *st = NULL;
    char label[24][96];
    double val[24];
    int n = 0;
    double max = 0;
    if (pt_q_open(db, name, &st) == PT_OK) {
        while (n < 24 && pt_q_step(st)) {
            const char *l = pt_q_text(st, 0);
            snprintf(label[n], sizeof label[0], "%s", bytes ? l : pt_words(l));
            val[n] = pt_q_real(st, 1);
            max = val[n] > max ? val[n] : max;
            n++;
        }
    }
    pt_q_free(st);
    if (n == 0) {
        return;
    }
    int w = 760, row = 22, left = 230, height = 30 + n * row;
    sb_f(b, "<svg role=\"img\" aria-label=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
            "xmlns=\"http://www.w3.org/2000/svg\"><title>", title, w, height, w, height);
    sb_html(b, title);
    sb_s(b, "</title>");
    sb_f(b, "<text x=\"0\" y=\"16\" font-size=\"13\" font-weight=\"600\">%s</text>", title);
    for (int i = 0; i < n; i++) {
        double bw = max > 0 ? (w - left - 110) * val[i] / max : 0;
        int y = 28 + i * row;
        char v[32];
        if (bytes) {
            pt_human_bytes(val[i], v, sizeof v);
        } else {
            snprintf(v, sizeof v, "%.0f", val[i]);
        }
        sb_f(b, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">", left - 6, y + 13);
        sb_html(b, label[i]);
        sb_f(b, "</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#3f6fb5\"/>"
                "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">%s</text>",
             left, y + 2, bw, row - 6, left + bw + 4, y + 13, v);
    }
    sb_s(b, "</svg>");
}

/* Timeline chart: findings (by severity), events (by verdict) and PHI objects (uploaded or
 * not) on a time axis with ticks, and a legend of the colours. */
static void svg_legend(struct sb *b, int y)
{
    static const struct {
        const char *colour, *label;
    } keys[] = {{"#b3261e", "confirmed event, high finding, PHI uploaded"},
                {"#e46c0a", "likely event, medium finding"},
                {"#c9a227", "possible event"},
                {"#8a94a6", "low or information finding"},
                {"#3f6fb5", "PHI object not uploaded"}};
    int x = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int w = 26 + (int)strlen(keys[i].label) * 6;
        if (x + w > 760) {
            x = 0;
            y += 16;
        }
        sb_f(b, "<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" "
                "font-size=\"10\">%s</text>", x + 6, y - 4, keys[i].colour, x + 15, y, keys[i].label);
        x += w;
    }
}

/* Tick marks and their times: 6 ticks over the window, HH:MM:SS on one day, else dates. */
static void svg_ticks(struct sb *b, const struct facts *f, int left, int right, int y)
{
    double span = (double)(f->last - f->first);
    bool one_day = span < 86400e6;
    for (int i = 0; i <= 5; i++) {
        double x = left + (right - left) * i / 5.0;
        time_t t = (time_t)((f->first + (int64_t)(span * i / 5.0)) / 1000000);
        struct tm tm;
        char label[32];
        gmtime_r(&t, &tm);
        strftime(label, sizeof label, one_day ? "%H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
        sb_f(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#8a94a6\"/>"
                "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"%s\">%s</text>", x, y,
             x, y + 5, x, y + 16, i == 0 ? "start" : i == 5 ? "end" : "middle", label);
    }
}

static void svg_timeline(struct sb *b, struct pt_db *db, const struct facts *f)
{
    if (f->last <= f->first) {
        return;
    }
    int w = 760, top = 24, lane = 26, left = 110, right = w - 10;
    const char *lanes[] = {"findings", "events", "PHI objects"};
    int axis = top + 3 * lane, height = axis + 58;
    sb_f(b, "<svg role=\"img\" aria-label=\"timeline\" viewBox=\"0 0 %d %d\" width=\"%d\" "
            "height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\"><title>Timeline</title>",
         w, height, w, height);
    sb_s(b, "<text x=\"0\" y=\"14\" font-size=\"13\" font-weight=\"600\">Timeline (UTC)</text>");
    for (int i = 0; i < 3; i++) {
        int y = top + i * lane;
        sb_f(b, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%s</text>"
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#d0d5dd\"/>",
             left - 6, y + 14, lanes[i], left, y + 10, right, y + 10);
    }
    sb_f(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#8a94a6\"/>", left, axis,
         right, axis);
    double span = (double)(f->last - f->first);
    static const enum pt_query lane_q[] = {PT_Q_HTML_LANE_FINDINGS, PT_Q_HTML_LANE_EVENTS,
                                           PT_Q_HTML_LANE_OBJECTS};
    for (int i = 0; i < 3; i++) {
        struct pt_q *st = NULL;
        if (pt_q_open(db, lane_q[i], &st) != PT_OK) {
            continue;
        }
        int shown = 0;
        while (pt_q_step(st) && shown++ < 2000) {
            double x = left + (right - left) * (double)(pt_q_int(st, 0) - f->first) / span;
            x = x < left ? left : x > right ? right : x;
            sb_f(b, "<circle cx=\"%.1f\" cy=\"%d\" r=\"5\" fill=\"%s\" fill-opacity=\"0.8\"/>", x,
                 top + i * lane + 10, pt_q_text(st, 1));
        }
        pt_q_free(st);
    }
    svg_ticks(b, f, left, right, axis);
    svg_legend(b, axis + 34);
    sb_s(b, "</svg>");
}

/* One row of the case identity list, when it has a value. */
static void html_case_row(struct sb *b, const char *label, const char *value)
{
    if (value[0] == '\0') {
        return;
    }
    sb_f(b, "<dt>%s</dt><dd>", label);
    sb_html(b, value);
    sb_s(b, "</dd>");
}

/* Head, title, the case's identity and the running header text. */
static void html_head(struct sb *b, const struct facts *f)
{
    char a[32], z[32];
    iso(f->first, a, sizeof a);
    iso(f->last, z, sizeof z);
    sb_s(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            "content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"Content-Security-"
            "Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
            "<title>");
    sb_html(b, f->case_id[0] ? f->case_id : "phitrace report");
    sb_s(b, " - breach analysis report</title><style>");
    sb_s(b, css);
    css_running(b, f);
    sb_s(b, "</style></head><body><main>");
    sb_s(b, "<h1>Breach analysis report</h1><p class=\"runhead muted\">");
    sb_html(b, f->case_id[0] ? f->case_id : "no case id");
    if (f->org[0]) {
        sb_s(b, " &middot; ");
        sb_html(b, f->org);
    }
    sb_s(b, "</p><dl class=\"case\">");
    html_case_row(b, "Case", f->case_id);
    html_case_row(b, "Examiner", f->examiner);
    html_case_row(b, "Organisation", f->org);
    html_case_row(b, "Generated", f->generated[0] ? f->generated : "analysis did not finish");
    sb_f(b, "<dt>Evidence window</dt><dd>%s to %s</dd><dt>Tool</dt><dd>phitrace " PT_VERSION
            "</dd></dl>", a, z);
}

static const struct html_section summary_tables[] = {
    {".</p><h3>Destinations</h3>", PT_Q_HTML_DESTINATIONS,
     "No destination outside the home network showed exfiltration-shaped activity."},
    {"<h3>Key limitations</h3>", PT_Q_HTML_KEY_LIMITATIONS, "None recorded."},
};

/* Section 1: the coverage, the verdict and its statement, figures, destinations. */
static void html_summary(struct sb *b, struct pt_db *db, const struct facts *f)
{
    char hb[32];
    pt_human_bytes((double)f->bytes_out, hb, sizeof hb);
    const char *vc = strcmp(f->verdict, "confirmed") == 0 ? "v-confirmed"
                     : strcmp(f->verdict, "likely") == 0 ? "v-likely"
                     : strcmp(f->verdict, "possible") == 0 ? "v-possible" : "v-not";
    if (f->incomplete[0] != '\0') {
        sb_s(b, "<p class=\"verdict v-confirmed\">Incomplete case: ");
        sb_html(b, f->incomplete);
        sb_s(b, "</p>");
    }
    sb_s(b, "<h2>1. Executive summary</h2>");
    if (f->coverage[0] != '\0') {
        sb_s(b, "<p class=\"coverage\"><b>Coverage:</b> ");
        sb_html(b, f->coverage);
        sb_s(b, "</p>");
    }
    sb_f(b, "<p>Overall verdict: <span class=\"verdict %s\">", vc);
    sb_html(b, f->verdict);
    sb_s(b, "</span></p><p class=\"statement\">");
    sb_html(b, f->statement);
    sb_s(b, "</p><div class=\"kpis\">");
    sb_f(b, "<div class=\"kpi\">individuals in data that left<b>%lld</b>bounds %lld&ndash;%lld"
            "</div>", f->ind[1][0], f->ind[1][1], f->ind[1][2]);
    sb_f(b, "<div class=\"kpi\">individuals in all evidence<b>%lld</b>bounds %lld&ndash;%lld, "
            "%lld deceased</div>", f->ind[0][0], f->ind[0][1], f->ind[0][2], f->ind[0][3]);
    sb_f(b, "<div class=\"kpi\">bytes out in events<b>%s</b>%lld event(s)</div>", hb, f->events);
    sb_f(b, "<div class=\"kpi\">PHI objects that left<b>%lld</b>of %lld objects</div></div>",
         f->phi_objects_out, f->objects);
    sb_s(b, "<p>PHI types seen leaving: ");
    sb_html(b, f->phi_words_out[0] ? f->phi_words_out : "none observed");
    html_sections(b, db, summary_tables, COUNT(summary_tables));
    svg_timeline(b, db, f);
    svg_bars(b, db, PT_Q_HTML_BARS_DESTINATIONS, "Bytes out per destination (the 12 largest)", true);
    svg_bars(b, db, PT_Q_HTML_BARS_PHI_TYPES, "PHI identifiers by type", false);
}

static const struct html_section findings_tables[] = {
    {"<h2>2. Findings and events</h2><h3>Exfiltration events</h3>", PT_Q_HTML_EVENTS,
     "No exfiltration event."},
    {"<h3>Heuristic findings</h3>", PT_Q_HTML_FINDINGS, "No heuristic fired."},
    {"<h3>Objects with PHI</h3>", PT_Q_HTML_OBJECTS_WITH_PHI, "No object carried PHI."},
    {"<h3>YARA matches</h3><p class=\"muted\">Rules of severity information identify a file "
     "format (DICOM, HL7, FHIR...): they say what a file is, not that anything is wrong.</p>",
     PT_Q_HTML_YARA, "No rule matched."},
};

static const struct html_section individuals_tables[] = {
    {"", PT_Q_HTML_INDIVIDUALS, "No individual identified."},
    {"<h3>Individuals per category</h3><p>A person in several categories is counted in each; "
     "the bounds are those of the counts above.</p>",
     PT_Q_REPORT_CATEGORIES, "No individual identified."},
    {"<h3>Staging: archives and folders holding individuals (largest first)</h3>",
     PT_Q_REPORT_HOLDINGS, "No archive or disk-image folder held PHI."},
    {"<h3>Browser downloads (disk images)</h3>", PT_Q_REPORT_DOWNLOADS,
     "No browser download history was found."},
    {"<h3>Recycle-bin records (disk images)</h3>", PT_Q_REPORT_RECYCLE,
     "No recycle-bin record was found."},
    {"<h3>Individuals per state (where an address or ZIP is known)</h3>", PT_Q_REPORT_BY_STATE,
     "No state could be determined."},
};

/* Sections 2 and 3: events, findings, objects, rules; the individuals and the roster. */
static void html_findings(struct sb *b, struct pt_db *db, const struct facts *f)
{
    html_sections(b, db, findings_tables, COUNT(findings_tables));
    sb_s(b, "<h2>3. Individuals</h2><p>");
    sb_html(b, f->method);
    sb_s(b, "</p>");
    html_sections(b, db, individuals_tables, COUNT(individuals_tables));
    sb_f(b, "<h3>The people to notify</h3><p>Each individual of the estimate (%lld, bounds "
            "%lld&ndash;%lld) whose data with health information left the network, with the "
            "events and destinations that carried it, and each one whose data was staged on a "
            "host (the categories column says which apply). Names are masked; with a case analyzed "
            "with --keep-phi, <code>phitrace notify-list CASE -o FILE.csv</code> writes the "
            "mailing list (full names and addresses).</p>", f->ind[1][0], f->ind[1][1],
         f->ind[1][2]);
    html_table(b, db, PT_Q_HTML_ROSTER, "No individual's data was seen leaving.");
    sb_s(b, "<h3>PHI types (HIPAA Safe Harbor identifiers)</h3>");
    html_table(b, db, PT_Q_HTML_PHI_TYPES, "No PHI identifier.");
}

/* A list of every destination that received PHI or likely did, with its names. */
static void html_recipients(struct sb *b, struct pt_db *db, const char *none)
{
    struct pt_q *st = NULL;
    int n = 0;
    if (pt_q_open(db, PT_Q_REPORT_RECIPIENTS, &st) == PT_OK) {
        while (pt_q_step(st)) {
            sb_s(b, n++ ? "<li>" : "<ul class=\"list\"><li>");
            sb_html(b, pt_q_text(st, 0));
            sb_s(b, " (");
            sb_html(b, pt_q_text(st, 1));
            sb_s(b, pt_q_text(st, 2)[0] ? "): " : ")");
            sb_html(b, pt_q_text(st, 2));
            sb_s(b, "</li>");
        }
    }
    pt_q_free(st);
    sb_s(b, n ? "</ul>" : "");
    if (n == 0) {
        sb_html(b, none);
    }
}

/* Sections 4 and 5: HIPAA four-factor support and the OCR portal fields. */
static void html_hipaa(struct sb *b, struct pt_db *db, const struct facts *f)
{
    sb_s(b, "<h2>4. HIPAA risk assessment support (45 CFR 164.402(2))</h2><table><tbody>");
    char t[2048];
    snprintf(t, sizeof t, "PHI types seen leaving: %s; individuals in data that left: %lld "
                          "(bounds %lld-%lld); in all evidence: %lld.",
             f->phi_words_out[0] ? f->phi_words_out : "none observed", f->ind[1][0], f->ind[1][1],
             f->ind[1][2], f->ind[0][0]);
    sb_s(b, "<tr><th>1. Nature and extent of the PHI</th><td>");
    sb_html(b, t);
    sb_s(b, "</td></tr><tr><th>2. Unauthorized person who received it</th><td>");
    html_recipients(b, db, "No outside destination received PHI or likely did.");
    sb_s(b, "</td></tr><tr><th>3. Whether PHI was acquired or viewed</th><td>");
    sb_html(b, strcmp(f->verdict, "confirmed") == 0
                   ? "Acquired: PHI content was transferred to the destinations above."
                   : strcmp(f->verdict, "likely") == 0
                         ? "Likely acquired: encrypted or tunnelled volume comparable to staged PHI "
                           "left; its content could not be read."
                         : "No PHI content was seen leaving in the decoded traffic.");
    sb_s(b, "</td></tr><tr><th>4. Extent to which the risk was mitigated</th><td>Not determinable "
            "from network evidence: record here recovery, assurances and blocking.</td></tr>"
            "</tbody></table>");
    sb_s(b, "<h2>5. OCR breach portal field suggestions</h2><table><tbody>");
    sb_s(b, "<tr><th>Breach start / end</th><td>");
    sb_html(b, f->breach_first[0] ? f->breach_first : "not determined");
    sb_s(b, " / ");
    sb_html(b, f->breach_last[0] ? f->breach_last : "not determined");
    sb_s(b, " <span class=\"muted\">(");
    sb_html(b, f->breach_basis);
    sb_f(b, ")</span></td></tr><tr><th>Approximate number of individuals affected</th><td>%lld "
            "(bounds %lld&ndash;%lld)</td></tr>",
         f->ind[1][0] > 0 ? f->ind[1][0] : f->ind[0][0], f->ind[1][0] > 0 ? f->ind[1][1] : f->ind[0][1],
         f->ind[1][0] > 0 ? f->ind[1][2] : f->ind[0][2]);
    sb_s(b, "<tr><th>Recipients (as the evidence names them)</th><td>");
    html_recipients(b, db, "none observed");
    sb_s(b, "</td></tr><tr><th>Type of breach</th><td>Hacking/IT Incident</td></tr><tr><th>"
            "Location of breached information</th><td>Network Server</td></tr></tbody></table>");
}

static const struct html_section closing_tables[] = {
    {"<h2>6. Timeline</h2>", PT_Q_HTML_TIMELINE, "No timeline event."},
    {"<h2>7. Coverage and limitations</h2>", PT_Q_REPORT_LIMITATIONS, "None recorded."},
    {"<h3>Encrypted and undecoded channels to outside addresses</h3><p class=\"muted\">TLS, SSH "
     "and TCP streams of no known protocol: their content could not be read, so PHI in them "
     "cannot be confirmed or ruled out. Bytes are those sent from inside.</p>",
     PT_Q_REPORT_CHANNELS, "None."},
    {"<h2>8. Evidence inventory</h2>", PT_Q_HTML_EVIDENCE, "No input."},
    {"<p>How each input was examined: bytes parsed by a decoder of its format, bytes of the "
     "objects it gave, of those read for PHI and scanned by YARA, and why the rest was not "
     "examined.</p>",
     PT_Q_HTML_COVERAGE, "No coverage recorded."},
    {"<h2>9. Chain of custody</h2>", PT_Q_HTML_CUSTODY, "No custody record."},
    {"<h2>10. Methodology</h2><p>Versions, rule and table hashes and thresholds as recorded in "
     "the run manifest. Heuristic thresholds come from signatures/heuristics.conf.</p>",
     PT_Q_REPORT_METHODOLOGY, "No manifest."},
};

static void render_html(struct sb *b, struct pt_db *db, const struct facts *f)
{
    html_head(b, f);
    html_summary(b, db, f);
    html_findings(b, db, f);
    html_hipaa(b, db, f);
    html_sections(b, db, closing_tables, COUNT(closing_tables));
    sb_s(b, "<footer>Generated by phitrace from the case database alone. Values of identifiers "
            "are masked; the case key (phi.key) links equal values without revealing them."
            "</footer></main></body></html>\n");
}

/* ---- text -------------------------------------------------------------------------------------- */

/* report.txt: individuals per category, and the archives and folders holding them. */
static void txt_categories(struct sb *b, struct pt_db *db)
{
    struct pt_q *st = NULL;
    sb_s(b, "Individuals per category (a person in several is counted in each):\n");
    if (pt_q_open(db, PT_Q_REPORT_CATEGORIES, &st) == PT_OK) {
        while (pt_q_step(st)) {
            txt_line(b, "  %-8s %lld (bounds %lld-%lld, %lld deceased): %s", pt_q_text(st, 0),
                     (long long)pt_q_int(st, 2), (long long)pt_q_int(st, 3),
                     (long long)pt_q_int(st, 4), (long long)pt_q_int(st, 5), pt_q_text(st, 1));
        }
    }
    pt_q_free(st);
    st = NULL;
    int n = 0;
    if (pt_q_open(db, PT_Q_REPORT_HOLDINGS, &st) == PT_OK) {
        while (pt_q_step(st)) {
            if (n++ == 0) {
                sb_s(b, "Staging: archives and folders holding individuals (largest first):\n");
            }
            bool staged = strcmp(pt_q_text(st, 2), "yes") == 0;
            txt_line(b, "  %-7s %s  %lld individual(s)%s%s", pt_q_text(st, 0), pt_q_text(st, 1),
                     (long long)pt_q_int(st, 4), staged ? "  STAGED: " : "",
                     staged ? pt_q_text(st, 3) : "");
        }
    }
    pt_q_free(st);
}

/* report.txt: after the first PAGE rows of a long list (`n` in all), where the rest are. */
static void txt_more(struct sb *b, long long n, enum pt_query json)
{
    if (n > PAGE) {
        txt_line(b, "  and %lld more (%lld in all; every one is in %s)", n - PAGE, n,
                 paged_of(json, false)->file);
    }
}

/* report.txt: the people to notify, one line each (masked). */
static void txt_roster(struct sb *b, struct pt_db *db)
{
    struct pt_q *st = NULL;
    int n = 0;
    sb_s(b, "\nPeople to notify (individuals whose data with health information left or was "
            "staged; masked name, state, identifier types, events, destinations, first time "
            "out, categories):\n");
    if (pt_q_open(db, PT_Q_TXT_ROSTER, &st) == PT_OK) {
        while (pt_q_step(st)) {
            if (n >= PAGE) { /* the rest are counted: the list's file has them all */
                n++;
                continue;
            }
            char words[1024];
            types_words(pt_q_text(st, 3), words, sizeof words);
            const char *name = pt_q_text(st, 1), *note = pt_q_text(st, 8);
            txt_line(b, "  #%lld %s  %s  [%s]%s  events %s  to %s  first out %s  (%s)%s%s",
                     (long long)pt_q_int(st, 0), name[0] ? name : "(no name)", pt_q_text(st, 2),
                     words, pt_q_int(st, 4) ? "  DECEASED" : "", pt_q_text(st, 5),
                     pt_q_text(st, 6), pt_q_text(st, 7), pt_q_text(st, 9),
                     note[0] ? "  note: " : "", note);
            n++;
        }
    }
    pt_q_free(st);
    txt_more(b, n, PT_Q_JSON_ROSTER);
    if (n == 0) {
        sb_s(b, "  none\n");
    } else {
        sb_s(b, "  (with a case analyzed with --keep-phi, `phitrace notify-list CASE -o FILE.csv` "
                "writes their names and addresses)\n");
    }
}

/* report.txt: events by verdict then time, each destination with its names. */
static void txt_events(struct sb *b, struct pt_db *db)
{
    struct pt_q *st = NULL;
    int n = 0;
    sb_s(b, "Events (verdict, source -> destination, bytes out, PHI objects, individuals, "
            "protocols; then what the evidence names the destination by):\n");
    if (pt_q_open(db, PT_Q_TXT_EVENTS, &st) == PT_OK) {
        while (pt_q_step(st)) {
            if (n++ >= PAGE) { /* the rest are counted: the list's file has them all */
                continue;
            }
            const char *source = pt_q_text(st, 1);
            txt_line(b, "  %-10s %s  %s -> %s  %lld bytes  %d PHI object(s)  %d individual(s)  "
                     "[%s]", pt_q_text(st, 0), pt_q_text(st, 8), source[0] ? source : "(several)",
                     pt_q_text(st, 2), (long long)pt_q_int(st, 3), (int)pt_q_int(st, 4),
                     (int)pt_q_int(st, 5), pt_q_text(st, 6));
            if (pt_q_text(st, 7)[0]) {
                txt_line(b, "             named by: %s", pt_q_text(st, 7));
            }
        }
    }
    pt_q_free(st);
    txt_more(b, n, PT_Q_JSON_EVENTS);
    if (n == 0) {
        sb_s(b, "  none\n");
    }
}

/* report.txt: the limitations, and the 10 largest encrypted or undecoded channels. */
static void txt_limitations(struct sb *b, struct pt_db *db)
{
    struct pt_q *st = NULL;
    sb_s(b, "\nLimitations:\n");
    if (pt_q_open(db, PT_Q_REPORT_LIMITATIONS, &st) == PT_OK) {
        while (pt_q_step(st)) {
            txt_line(b, "  - %s: %s", pt_q_text(st, 0), pt_q_text(st, 1));
        }
    }
    pt_q_free(st);
    st = NULL;
    sb_s(b, "\nEncrypted and undecoded channels to outside addresses (content unread; the 10 "
            "largest by bytes out, all of them in report.html and report.json):\n");
    int n = 0, total = 0;
    if (pt_q_open(db, PT_Q_REPORT_CHANNELS, &st) == PT_OK) {
        while (pt_q_step(st)) {
            if (++total > 10) {
                continue;
            }
            n++;
            const char *name = pt_q_text(st, 3);
            txt_line(b, "  %s -> %s  %s  %lld bytes in %d connection(s)%s%s", pt_q_text(st, 0),
                     pt_q_text(st, 1), pt_q_text(st, 2), (long long)pt_q_int(st, 5),
                     (int)pt_q_int(st, 4), name[0] ? "  " : "", name);
        }
    }
    pt_q_free(st);
    if (total > n) {
        txt_line(b, "  and %d more", total - n);
    }
    if (n == 0) {
        sb_s(b, "  none\n");
    }
}

static void render_txt(struct sb *b, struct pt_db *db, const struct facts *f)
{
    char a[32], z[32];
    iso(f->first, a, sizeof a);
    iso(f->last, z, sizeof z);
    if (f->incomplete[0] != '\0') {
        txt_line(b, "*** INCOMPLETE CASE: %s ***", f->incomplete);
        sb_s(b, "\n");
    }
    txt_line(b, "phitrace %s breach analysis", PT_VERSION);
    if (f->case_id[0] || f->examiner[0] || f->org[0]) {
        txt_line(b, "Case: %s  Examiner: %s  Organisation: %s", f->case_id[0] ? f->case_id : "-",
                 f->examiner[0] ? f->examiner : "-", f->org[0] ? f->org : "-");
    }
    txt_line(b, "Generated: %s", f->generated[0] ? f->generated : "analysis did not finish");
    txt_line(b, "Evidence window: %s to %s", a, z);
    sb_s(b, "\n");
    txt_line(b, "COVERAGE: %s", f->coverage);
    sb_s(b, "\n");
    txt_line(b, "VERDICT: %s", f->verdict);
    txt_line(b, "%s", f->statement);
    sb_s(b, "\n");
    txt_line(b, "Individuals in data that left: %lld (bounds %lld-%lld)", f->ind[1][0],
             f->ind[1][1], f->ind[1][2]);
    txt_line(b, "Individuals in all evidence:   %lld (bounds %lld-%lld, %lld deceased)",
             f->ind[0][0], f->ind[0][1], f->ind[0][2], f->ind[0][3]);
    txt_categories(b, db);
    txt_line(b, "Breach dates: %s to %s (%s)", f->breach_first[0] ? f->breach_first : "-",
             f->breach_last[0] ? f->breach_last : "-", f->breach_basis);
    sb_s(b, "\n");
    txt_events(b, db);
    txt_line(b, "Heuristic findings: %lld (report.json holds the first %d; every one is in %s)",
             f->findings, PAGE, paged_of(PT_Q_JSON_FINDINGS, false)->file);
    txt_roster(b, db);
    txt_limitations(b, db);
}

unsigned pt_report_formats(const char *list)
{
    unsigned m = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "json") == 0) {
            m |= PT_REPORT_JSON;
        } else if (strcmp(t, "html") == 0) {
            m |= PT_REPORT_HTML;
        } else if (strcmp(t, "txt") == 0 || strcmp(t, "text") == 0) {
            m |= PT_REPORT_TXT;
        } else {
            return 0;
        }
    }
    return m;
}

static const struct {
    unsigned bit;
    const char *name;
    void (*render)(struct sb *, struct pt_db *, const struct facts *);
} outputs[] = {{PT_REPORT_JSON, "report.json", render_json},
               {PT_REPORT_HTML, "report.html", render_html},
               {PT_REPORT_TXT, "report.txt", render_txt}};

/* Render output `i` into CASE/<name>.staged, created 0600 whatever the umask (the reports
 * name patients' data), as it goes: the buffer of `b` is all it holds. */
static pt_status write_output(struct pt_db *db, const struct facts *f, const char *case_dir,
                              size_t i, struct sb *b)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s" STAGED, case_dir, outputs[i].name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return PT_EIO;
    }
    b->f = fchmod(fd, 0600) == 0 ? fdopen(fd, "w") : NULL;
    if (b->f == NULL) {
        close(fd);
        return PT_EIO;
    }
    b->n = 0;
    b->oom = 0;
    b->io = false;
    b->gz = NULL;
    outputs[i].render(b, db, f);
    sb_flush(b);
    bool bad = ferror(b->f) != 0 || b->io;
    bad |= fclose(b->f) != 0;
    return b->oom ? PT_ENOMEM : bad ? PT_EIO : PT_OK;
}

const char *pt_report_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        if (outputs[i].bit == bit) {
            return outputs[i].name;
        }
    }
    return NULL;
}

/* report.json, the largest, rendered on a second thread through a read-only connection of
 * its own (small cache, no map) while this one renders the others: the reports only read,
 * and every row they read is committed. */
struct json_job {
    pthread_t th;
    const struct facts *f;
    const char *case_dir;
    pt_status rc;
};

static void *json_main(void *arg)
{
    struct json_job *j = arg;
    char path[4400], err[512];
    struct pt_db *ro = NULL;
    struct sb *b = malloc(sizeof *b);
    snprintf(path, sizeof path, "%s/evidence.db", j->case_dir);
    j->rc = b == NULL ? PT_ENOMEM : pt_db_open_ro(path, &ro, err, sizeof err);
    if (j->rc == PT_OK) {
        pt_db_lean(ro);
        j->rc = write_output(ro, j->f, j->case_dir, 0, b);
    }
    pt_db_close(ro);
    free(b);
    return NULL;
}

pt_status pt_report_stage(struct pt_db *db, const char *case_dir, unsigned mask,
                          const char *incomplete, char *err, size_t errlen)
{
    struct facts *f = malloc(sizeof *f);
    struct sb *b = malloc(sizeof *b);
    struct json_job j = {.case_dir = case_dir, .rc = PT_OK};
    if (f == NULL || b == NULL) {
        free(f);
        free(b);
        return PT_ENOMEM;
    }
    gather(db, f, incomplete, case_dir);
    j.f = f;
    bool threaded = outputs[0].bit == PT_REPORT_JSON && (mask & PT_REPORT_JSON) &&
                    (mask & ~PT_REPORT_JSON) && pthread_create(&j.th, NULL, json_main, &j) == 0;
    pt_status rc = PT_OK;
    for (size_t i = threaded ? 1 : 0; i < sizeof outputs / sizeof outputs[0] && rc == PT_OK; i++) {
        if (mask & outputs[i].bit) {
            rc = write_output(db, f, case_dir, i, b);
        }
    }
    if (threaded) {
        pthread_join(j.th, NULL);
        rc = rc == PT_OK ? j.rc : rc;
    }
    free(b);
    free(f);
    if (rc != PT_OK) {
        snprintf(err, errlen, "cannot write the reports in %s: %s", case_dir,
                 rc == PT_ENOMEM ? "out of memory" : strerror(errno));
    }
    return rc;
}

bool pt_report_staged_path(const char *case_dir, unsigned bit, char *out, size_t len)
{
    const char *name = pt_report_name(bit);
    int n = name ? snprintf(out, len, "%s/%s" STAGED, case_dir, name) : -1;
    return n > 0 && (size_t)n < len;
}

static pt_status publish_one(const char *case_dir, const char *name, char *err, size_t errlen)
{
    char from[4400], to[4400];
    snprintf(from, sizeof from, "%s/%s" STAGED, case_dir, name);
    snprintf(to, sizeof to, "%s/%s", case_dir, name);
    if (rename(from, to) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", from, to, strerror(errno));
        return PT_EIO;
    }
    return PT_OK;
}

pt_status pt_report_publish(const char *case_dir, unsigned mask, char *err, size_t errlen)
{
    /* the long lists first: a report.json in place names files that are there */
    for (size_t i = 0; i < N_LISTS && (mask & PT_REPORT_JSON); i++) {
        PT_TRY(publish_one(case_dir, lists[i].file, err, errlen));
    }
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        if (mask & outputs[i].bit) {
            PT_TRY(publish_one(case_dir, outputs[i].name, err, errlen));
        }
    }
    return PT_OK;
}

pt_status pt_report_write(struct pt_db *db, const char *case_dir, unsigned mask,
                          const char *incomplete, char *err, size_t errlen)
{
    PT_TRY(pt_report_stage(db, case_dir, mask, incomplete, err, errlen));
    return pt_report_publish(case_dir, mask, err, errlen);
}
