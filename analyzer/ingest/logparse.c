/*
 * logparse.c - line logs (Zeek TSV and JSON, Suricata EVE, web access, W3C, syslog with its
 * firewall, DNS server and proxy lines, Squid, flow CSV, AWS ELB, FTP servers, PAN-OS,
 * Windows DNS) into connection, DNS, HTTP and transfer rows (logparse.h). One line at a time,
 * as a view (struct pt_cur) read only through the bounds-checked cursor and its text readers
 * (core/textspan.h): a Zeek TSV line is split into views of its fields, a JSON line becomes
 * a flat table of leaves; both are then read through one field accessor, get(), so a Zeek
 * field means the same whichever way the log was written. Trust boundary: the line; no
 * reader writes into it or reads past it.
 */
#include "logparse.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../core/cursor.h"
#include "../core/textspan.h"
#include "evtx.h"

/* The Zeek fields read (names as in the logs; JSON logs use the same dotted names). */
enum zf {
    F_TS, F_UID, F_ORIG_H, F_ORIG_P, F_RESP_H, F_RESP_P, F_PROTO, F_SERVICE, F_DURATION,
    F_ORIG_BYTES, F_RESP_BYTES, F_CONN_STATE, F_ORIG_PKTS, F_ORIG_IP_BYTES, F_RESP_PKTS,
    F_RESP_IP_BYTES, F_QUERY, F_QTYPE_NAME, F_RCODE_NAME, F_ANSWERS, F_METHOD, F_HOST, F_URI,
    F_STATUS_CODE, F_REQ_LEN, F_RESP_LEN, F_USER_AGENT, F_USERNAME, F_PATH, F_COUNT
};

_Static_assert(F_COUNT <= 32, "struct pt_logparse's zidx holds every field read");

static const char *const zname[F_COUNT] = {
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service",
    "duration", "orig_bytes", "resp_bytes", "conn_state", "orig_pkts", "orig_ip_bytes",
    "resp_pkts", "resp_ip_bytes", "query", "qtype_name", "rcode_name", "answers", "method",
    "host", "uri", "status_code", "request_body_len", "response_body_len", "user_agent",
    "username", "_path",
};

/* One record's fields, from a TSV line or a JSON table. */
struct row {
    struct pt_logparse *p;
    bool json;
    struct pt_cur tsv[PT_LOG_FIELDS]; /* views of the line */
    size_t n;
};

enum pt_logfmt pt_logfmt_of(const char *s)
{
    if (s == NULL) {
        return PT_LOGFMT_NONE;
    }
    if (strcmp(s, "log:zeek") == 0) {
        return PT_LOGFMT_ZEEK;
    }
    if (strcmp(s, "log:zeek-json") == 0) {
        return PT_LOGFMT_ZEEK_JSON;
    }
    if (strcmp(s, "log:suricata-eve") == 0) {
        return PT_LOGFMT_EVE;
    }
    if (strcmp(s, "log:web-access") == 0) {
        return PT_LOGFMT_WEB;
    }
    if (strcmp(s, "log:w3c") == 0) {
        return PT_LOGFMT_W3C;
    }
    if (strcmp(s, "log:syslog") == 0) {
        return PT_LOGFMT_SYSLOG;
    }
    if (strcmp(s, "log:squid") == 0) {
        return PT_LOGFMT_SQUID;
    }
    if (strcmp(s, "log:flow-csv") == 0) {
        return PT_LOGFMT_FLOWCSV;
    }
    if (strcmp(s, "log:elb") == 0) {
        return PT_LOGFMT_ELB;
    }
    if (strcmp(s, "log:vsftpd") == 0) {
        return PT_LOGFMT_VSFTPD;
    }
    if (strcmp(s, "log:xferlog") == 0) {
        return PT_LOGFMT_XFERLOG;
    }
    if (strcmp(s, "log:panos") == 0) {
        return PT_LOGFMT_PANOS;
    }
    if (strcmp(s, "log:windns") == 0) {
        return PT_LOGFMT_WINDNS;
    }
    if (strcmp(s, "log:atna") == 0) {
        return PT_LOGFMT_ATNA;
    }
    return PT_LOGFMT_NONE;
}

const char *pt_logfmt_name(enum pt_logfmt f)
{
    switch (f) {
        case PT_LOGFMT_ZEEK: return "zeek";
        case PT_LOGFMT_ZEEK_JSON: return "zeek-json";
        case PT_LOGFMT_EVE: return "suricata-eve";
        case PT_LOGFMT_WEB: return "web-access";
        case PT_LOGFMT_W3C: return "w3c";
        case PT_LOGFMT_SYSLOG: return "syslog";
        case PT_LOGFMT_SQUID: return "squid";
        case PT_LOGFMT_FLOWCSV: return "flow-csv";
        case PT_LOGFMT_ELB: return "elb";
        case PT_LOGFMT_VSFTPD: return "vsftpd";
        case PT_LOGFMT_XFERLOG: return "xferlog";
        case PT_LOGFMT_PANOS: return "panos";
        case PT_LOGFMT_WINDNS: return "windns";
        case PT_LOGFMT_NFCAPD: return "nfcapd";
        case PT_LOGFMT_EVTX: return "evtx";
        case PT_LOGFMT_ATNA: return "atna";
        case PT_LOGFMT_NONE: break;
    }
    return "none";
}

void pt_logparse_init(struct pt_logparse *p, enum pt_logfmt fmt, uint32_t item, int64_t mtime_us,
                      pt_logrec_fn rec, pt_loganom_fn anom, void *arg)
{
    memset(&p->st, 0, sizeof p->st);
    p->fmt = fmt;
    p->item = item;
    p->rec = rec;
    p->anom = anom;
    p->arg = arg;
    p->sep = '\t';
    p->path[0] = '\0';
    p->n_fields = 0;
    p->line_off = 0;
    p->overlong = false;
    p->tail = false;
    p->len = 0;
    memset(p->asa_dir, 0, sizeof p->asa_dir);
    memset(&p->evtx, 0, sizeof p->evtx);
    memset(&p->atna, 0, offsetof(struct pt_atna_stream, buf)); /* not its buffer */
    p->atna.line = 1;
    p->mac = NULL;
    p->keep_ids = false;
    pt_logtime_init(&p->lt, mtime_us);
}

static void malformed(struct pt_logparse *p, const char *why)
{
    p->st.malformed++;
    if (p->st.malformed <= PT_LOG_ANOMALY_MAX && p->anom != NULL) {
        char d[160];
        snprintf(d, sizeof d, "%s line %llu (byte %llu): %s", pt_logfmt_name(p->fmt),
                 (unsigned long long)p->st.lines, (unsigned long long)p->line_off, why);
        p->anom(p->arg, p->line_off, PT_ANOM_LOG_MALFORMED_LINE, d);
    }
}

/* One row to the caller, counted by its kind, its provenance completed with the line's
 * length (so a PHI hit in the log's bytes can be tied to the row of the line it is on). */
static void emit(struct pt_logparse *p, enum pt_logrec_kind kind, void *rec, struct pt_logprov *pv)
{
    uint64_t *n = kind == PT_LOGREC_CONN ? &p->st.conn : kind == PT_LOGREC_DNS ? &p->st.dns
                : kind == PT_LOGREC_HTTP ? &p->st.http : &p->st.xfer;
    (*n)++;
    pv->length = (uint32_t)p->line_len;
    p->rec(p->arg, kind, rec);
}

/* ---- values ------------------------------------------------------------------------------ */

/* The time a line (or a field) gives, as pt_logtime reads it; -1 when none. */
static int64_t line_time(struct pt_logparse *p, struct pt_cur v)
{
    return pt_logtime_line(&p->lt, pt_cur_ptr(&v), pt_cur_left(&v));
}

/* The provenance of a row of the line being read: its time as the line gives it. */
static struct pt_logprov line_prov(struct pt_logparse *p, struct pt_cur line, const char *source)
{
    struct pt_logprov pv = {p->item, p->st.lines, p->line_off, line_time(p, line), source, 0};
    return pv;
}

/* A field of the line, or a JSON leaf (C strings of the JSON reader's table), as a view: the
 * parsers below read values only through these span readers. */
static struct pt_cur span(const char *s)
{
    return pt_cur_make((const uint8_t *)s, s != NULL ? strlen(s) : 0);
}

/* The byte at i of the view (0 past its end). */
static uint8_t sp_at(const struct pt_cur *v, size_t i)
{
    return pt_cur_peek_u8(v, i);
}

/* The view from its i-th unread byte on (empty past its end). */
static struct pt_cur sp_from(struct pt_cur v, size_t i)
{
    if (!pt_cur_skip(&v, i)) {
        return pt_cur_make(NULL, 0);
    }
    return pt_cur_rest(&v);
}

/* Where the last `ch` of the view is; SIZE_MAX when it has none. */
static size_t sp_rfind(struct pt_cur v, uint8_t ch)
{
    size_t at = SIZE_MAX;
    for (size_t k = 0; k < pt_cur_left(&v); k++) {
        at = sp_at(&v, k) == ch ? k : at;
    }
    return at;
}

/* True when the view is exactly `lit` (its length first: the literals are constants, so
 * this compiles to a compare or two on every field a row reads). */
static inline bool sp_is(struct pt_cur v, const char *lit)
{
    size_t n = strlen(lit);
    return pt_cur_left(&v) == n && (n == 0 || memcmp(pt_cur_ptr(&v), lit, n) == 0);
}

static bool has(const struct pt_cur *c, const char *lit)
{
    return pt_text_find(c, lit) != SIZE_MAX;
}

/* The view's bytes, at most cap - 1 of them, NUL-terminated into dst. */
static void sp_cpy(char *dst, size_t cap, struct pt_cur v)
{
    size_t n = pt_cur_left(&v);
    n = n < cap - 1 ? n : cap - 1;
    if (n > 0) {
        memcpy(dst, pt_cur_ptr(&v), n); /* n <= pt_cur_left(&v): in the view */
    }
    dst[n] = '\0';
}

static void cpy(char *dst, size_t cap, const char *s)
{
    sp_cpy(dst, cap, pt_cur_make((const uint8_t *)s, s != NULL ? strnlen(s, cap - 1) : 0));
}

/* A protocol name as the flow tables write it: "TCP" -> "tcp". */
static void sp_cpy_lower(char *dst, size_t cap, struct pt_cur v)
{
    sp_cpy(dst, cap, v);
    for (char *q = dst; *q != '\0'; q++) {
        *q = (char)(*q >= 'A' && *q <= 'Z' ? *q - 'A' + 'a' : *q);
    }
}

static void cpy_lower(char *dst, size_t cap, const char *s)
{
    sp_cpy_lower(dst, cap, pt_cur_make((const uint8_t *)s, s != NULL ? strnlen(s, cap - 1) : 0));
}

/* A decimal count; -1 when the view is empty. False when the text is not one. */
static bool sp_count(struct pt_cur v, int64_t *x)
{
    uint64_t u;
    *x = -1;
    if (pt_cur_left(&v) == 0) {
        return true;
    }
    if (!pt_text_u64(&v, INT64_MAX, &u) || pt_cur_left(&v) != 0) {
        return false;
    }
    *x = (int64_t)u;
    return true;
}

static bool sp_port(struct pt_cur v, int32_t *pt)
{
    int64_t x;
    if (!sp_count(v, &x) || x > 65535) {
        return false;
    }
    *pt = (int32_t)x;
    return true;
}

/* Seconds with up to 9 decimals ("1672843056.913119", "0.084044") in microseconds; -1 when
 * unset. */
static bool sp_seconds(struct pt_cur c, int64_t *us)
{
    *us = -1;
    if (pt_cur_left(&c) == 0) {
        return true;
    }
    int64_t v;
    if (!pt_text_seconds_us(&c, &v) || pt_cur_left(&c) != 0) {
        return false;
    }
    *us = v;
    return true;
}

/* An address in its canonical text ("::ffff:10.0.0.1" is written "10.0.0.1"); an empty view
 * is none (true, out ""). inet_pton reads a C string: the view is copied, and one longer than
 * any address text is not one. */
static bool sp_address(struct pt_cur v, char out[PT_ADDR_STRLEN])
{
    char buf[64];
    struct pt_addr a;
    size_t n = pt_cur_left(&v);
    out[0] = '\0';
    if (n >= sizeof buf) {
        return false;
    }
    sp_cpy(buf, sizeof buf, v);
    if (!pt_addr_parse(buf, &a)) {
        return n == 0;
    }
    if (memchr(buf, ':', n) == NULL) { /* our copy */
        memcpy(out, buf, n + 1); /* dotted quad: inet_pton took it, so it is canonical */
    } else {
        pt_addr_str(&a, out);
    }
    return true;
}

/* ---- one field accessor over both layouts -------------------------------------------------- */

/* A field's value is a view; an unset one ("-", absent) has no bytes at all (set() is false),
 * which every reader takes as empty. */
static bool set(struct pt_cur v)
{
    return v.base != NULL;
}

static struct pt_cur tsv_value(const struct row *r, int16_t i)
{
    if (i < 0 || (size_t)i >= r->n || sp_is(r->tsv[i], "-")) {
        return pt_cur_make(NULL, 0);
    }
    return sp_is(r->tsv[i], "(empty)") ? span("") : r->tsv[i];
}

static struct pt_cur get(const struct row *r, enum zf f)
{
    if (r->json) {
        return span(pt_jsonflat_get(&r->p->json, zname[f], NULL));
    }
    return tsv_value(r, r->p->zidx[f]);
}

/* The elements at `path` ("answers[]") joined by commas into out (truncated); its length. */
static size_t join(const struct pt_jsonflat *j, const char *path, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    const char *v;
    for (size_t i = 0; len + 1 < cap && (v = pt_jsonflat_nth(j, path, i)) != NULL; i++) {
        int w = snprintf(out + len, cap - len, "%s%s", i ? "," : "", v);
        len = w < 0 || len + (size_t)w >= cap ? cap - 1 : len + (size_t)w;
    }
    return len;
}

/* The values of a set/vector field ("a,b" in TSV, an array in JSON) joined by commas. */
static void list(const struct row *r, enum zf f, char *out, size_t cap)
{
    out[0] = '\0';
    if (!r->json) {
        sp_cpy(out, cap, get(r, f));
        return;
    }
    char path[48];
    snprintf(path, sizeof path, "%s[]", zname[f]);
    size_t len = join(&r->p->json, path, out, cap);
    if (len == 0) {
        sp_cpy(out, cap, get(r, f)); /* a single value written as a string */
    }
}

/* Zeek's ts: epoch seconds, or an ISO 8601 string when the log was written so. */
static int64_t zeek_ts(struct row *r)
{
    struct pt_cur s = get(r, F_TS);
    int64_t us;
    if (!set(s)) {
        return -1;
    }
    if (sp_seconds(s, &us)) {
        return us;
    }
    return line_time(r->p, s);
}

/* ---- Zeek ----------------------------------------------------------------------------------- */

/* Which record a Zeek log holds: its #path / _path, else guessed from its fields. */
static struct pt_cur zeek_kind(const struct row *r)
{
    struct pt_cur path = r->json ? get(r, F_PATH) : span(r->p->path);
    if (pt_cur_left(&path) > 0) {
        return path;
    }
    if (set(get(r, F_CONN_STATE)) || set(get(r, F_ORIG_IP_BYTES))) {
        return span("conn");
    }
    if (set(get(r, F_QTYPE_NAME)) || set(get(r, F_QUERY))) {
        return span("dns");
    }
    if (set(get(r, F_METHOD)) && set(get(r, F_URI))) {
        return span("http");
    }
    return span("other");
}

static bool endpoints(const struct row *r, char *cli, int32_t *cp, char *srv, int32_t *sp)
{
    return sp_address(get(r, F_ORIG_H), cli) && sp_address(get(r, F_RESP_H), srv) &&
           sp_port(get(r, F_ORIG_P), cp) && sp_port(get(r, F_RESP_P), sp);
}

static bool zeek_conn(struct row *r, struct pt_logprov *pv)
{
    struct pt_logconn_rec c;
    memset(&c, 0, sizeof c);
    c.p = *pv;
    c.p.source = r->json ? "zeek-json:conn" : "zeek:conn";
    c.c_frame_bytes = c.s_frame_bytes = -1;
    if (!endpoints(r, c.client, &c.cport, c.server, &c.sport) ||
        !sp_seconds(get(r, F_DURATION), &c.dur_us) || !sp_count(get(r, F_ORIG_BYTES), &c.c_bytes) ||
        !sp_count(get(r, F_RESP_BYTES), &c.s_bytes) || !sp_count(get(r, F_ORIG_PKTS), &c.c_pkts) ||
        !sp_count(get(r, F_RESP_PKTS), &c.s_pkts) || !sp_count(get(r, F_ORIG_IP_BYTES), &c.c_ip_bytes) ||
        !sp_count(get(r, F_RESP_IP_BYTES), &c.s_ip_bytes)) {
        return false;
    }
    sp_cpy(c.proto, sizeof c.proto, get(r, F_PROTO));
    list(r, F_SERVICE, c.service, sizeof c.service);
    sp_cpy(c.state, sizeof c.state, get(r, F_CONN_STATE));
    sp_cpy(c.uid, sizeof c.uid, get(r, F_UID));
    emit(r->p, PT_LOGREC_CONN, &c, &c.p);
    return true;
}

static bool zeek_dns(struct row *r, struct pt_logprov *pv)
{
    struct pt_logdns_rec d;
    memset(&d, 0, sizeof d);
    d.p = *pv;
    d.p.source = r->json ? "zeek-json:dns" : "zeek:dns";
    if (!endpoints(r, d.client, &d.cport, d.server, &d.sport)) {
        return false;
    }
    sp_cpy(d.proto, sizeof d.proto, get(r, F_PROTO));
    sp_cpy(d.query, sizeof d.query, get(r, F_QUERY));
    sp_cpy(d.qtype, sizeof d.qtype, get(r, F_QTYPE_NAME));
    sp_cpy(d.rcode, sizeof d.rcode, get(r, F_RCODE_NAME));
    list(r, F_ANSWERS, d.answers, sizeof d.answers);
    sp_cpy(d.uid, sizeof d.uid, get(r, F_UID));
    emit(r->p, PT_LOGREC_DNS, &d, &d.p);
    return true;
}

static bool zeek_http(struct row *r, struct pt_logprov *pv)
{
    struct pt_loghttp_rec h;
    memset(&h, 0, sizeof h);
    h.p = *pv;
    h.p.source = r->json ? "zeek-json:http" : "zeek:http";
    int64_t status;
    if (!endpoints(r, h.client, &h.cport, h.server, &h.sport) ||
        !sp_count(get(r, F_STATUS_CODE), &status) || status > 999 ||
        !sp_count(get(r, F_REQ_LEN), &h.req_bytes) || !sp_count(get(r, F_RESP_LEN), &h.resp_bytes)) {
        return false;
    }
    h.status = (int32_t)status;
    sp_cpy(h.method, sizeof h.method, get(r, F_METHOD));
    sp_cpy(h.host, sizeof h.host, get(r, F_HOST));
    sp_cpy(h.uri, sizeof h.uri, get(r, F_URI));
    sp_cpy(h.user_agent, sizeof h.user_agent, get(r, F_USER_AGENT));
    sp_cpy(h.user, sizeof h.user, get(r, F_USERNAME));
    sp_cpy(h.uid, sizeof h.uid, get(r, F_UID));
    emit(r->p, PT_LOGREC_HTTP, &h, &h.p);
    return true;
}

static void zeek_record(struct row *r)
{
    struct pt_logprov pv = {r->p->item, r->p->st.lines, r->p->line_off, zeek_ts(r), NULL, 0};
    struct pt_cur kind = zeek_kind(r);
    bool ok = true;
    if (sp_is(kind, "conn")) {
        ok = zeek_conn(r, &pv);
    } else if (sp_is(kind, "dns")) {
        ok = zeek_dns(r, &pv);
    } else if (sp_is(kind, "http")) {
        ok = zeek_http(r, &pv);
    } else {
        r->p->st.other++;
        return;
    }
    if (ok) {
        r->p->st.records++;
    } else {
        malformed(r->p, "a field does not hold what its name says (address, port or count)");
    }
}

/* The line's fields between `sep`s as views; false when there are more than PT_LOG_FIELDS. */
static bool split(struct pt_cur c, uint8_t sep, struct pt_cur *out, size_t *n)
{
    for (*n = 0; *n < PT_LOG_FIELDS;) {
        if (!pt_text_field(&c, sep, &out[(*n)++])) {
            return true; /* the last field ends where the line does */
        }
    }
    return false;
}

static int hexdig(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A Zeek header line: #separator, #fields and #path matter, the others are counted. */
static void zeek_header(struct pt_logparse *p, struct pt_cur s)
{
    p->st.headers++;
    if (pt_text_lit(&s, "#separator ")) {
        size_t len = pt_cur_left(&s);
        int hi = len == 4 && sp_at(&s, 0) == '\\' && sp_at(&s, 1) == 'x' ? hexdig(sp_at(&s, 2))
                                                                          : -1;
        int lo = hi >= 0 ? hexdig(sp_at(&s, 3)) : -1;
        if (lo >= 0) {
            p->sep = (char)(hi * 16 + lo);
        } else if (len == 1) {
            p->sep = (char)sp_at(&s, 0);
        }
        if (p->sep == '\0') {
            p->sep = '\t';
        }
        return;
    }
    struct pt_cur f[PT_LOG_FIELDS], name;
    size_t n;
    if (!pt_text_field(&s, (uint8_t)p->sep, &name)) {
        return;
    }
    if (sp_is(name, "#path")) {
        sp_cpy(p->path, sizeof p->path, s);
    } else if (sp_is(name, "#fields")) {
        if (!split(s, (uint8_t)p->sep, f, &n)) {
            p->st.headers--;
            malformed(p, "a #fields header with more fields than this version reads");
            p->n_fields = 0;
            return;
        }
        for (size_t i = 0; i < n; i++) {
            sp_cpy(p->fields[i], sizeof p->fields[i], f[i]);
        }
        p->n_fields = n;
        for (size_t k = 0; k < F_COUNT; k++) {
            p->zidx[k] = -1;
            for (size_t i = 0; i < n; i++) {
                if (strcmp(p->fields[i], zname[k]) == 0) {
                    p->zidx[k] = (int16_t)i;
                }
            }
        }
    }
}

static void zeek_line(struct pt_logparse *p, struct pt_cur line)
{
    if (sp_at(&line, 0) == '#') {
        zeek_header(p, line);
        return;
    }
    struct row r; /* split() fills tsv[0..n): 64 views are not cleared for every line */
    r.p = p;
    r.json = false;
    if (p->n_fields == 0) {
        malformed(p, "a record before any #fields header");
        return;
    }
    if (!split(line, (uint8_t)p->sep, r.tsv, &r.n) || r.n != p->n_fields) {
        malformed(p, "its number of fields differs from the #fields header (truncated or cut)");
        return;
    }
    zeek_record(&r);
}

static void zeek_json_line(struct pt_logparse *p, struct pt_cur line)
{
    if (!pt_jsonflat_parse(&p->json, pt_cur_ptr(&line), pt_cur_left(&line))) {
        malformed(p, "not one complete JSON object (cut, or nested beyond what is read)");
        return;
    }
    struct row r; /* a JSON row has no views */
    r.p = p;
    r.json = true;
    r.n = 0;
    zeek_record(&r);
}

/* ---- Suricata EVE ---------------------------------------------------------------------------- */

/* A JSON leaf's value as a view; unset (set() false) when absent. */
static struct pt_cur jget(struct pt_logparse *p, const char *path)
{
    return span(pt_jsonflat_get(&p->json, path, NULL));
}

static bool eve_endpoints(struct pt_logparse *p, char *cli, int32_t *cp, char *srv, int32_t *sp)
{
    *cp = *sp = -1;
    return sp_address(jget(p, "src_ip"), cli) && sp_address(jget(p, "dest_ip"), srv) &&
           sp_port(jget(p, "src_port"), cp) && sp_port(jget(p, "dest_port"), sp);
}

static bool eve_flow(struct pt_logparse *p, struct pt_logprov *pv, bool netflow)
{
    struct pt_logconn_rec c;
    memset(&c, 0, sizeof c);
    c.p = *pv;
    c.p.source = netflow ? "eve:netflow" : "eve:flow";
    c.c_bytes = c.s_bytes = c.c_ip_bytes = c.s_ip_bytes = -1;
    c.s_pkts = c.s_frame_bytes = -1;
    const char *o = netflow ? "netflow" : "flow";
    char k[48];
    if (!eve_endpoints(p, c.client, &c.cport, c.server, &c.sport)) {
        return false;
    }
    snprintf(k, sizeof k, "%s.%s", o, netflow ? "pkts" : "pkts_toserver");
    bool ok = sp_count(jget(p, k), &c.c_pkts);
    snprintf(k, sizeof k, "%s.%s", o, netflow ? "bytes" : "bytes_toserver");
    ok = ok && sp_count(jget(p, k), &c.c_frame_bytes);
    if (!netflow) {
        ok = ok && sp_count(jget(p, "flow.pkts_toclient"), &c.s_pkts) &&
             sp_count(jget(p, "flow.bytes_toclient"), &c.s_frame_bytes);
    }
    snprintf(k, sizeof k, "%s.start", o);
    struct pt_cur start = jget(p, k);
    snprintf(k, sizeof k, "%s.end", o);
    struct pt_cur end = jget(p, k);
    if (set(start) && set(end)) {
        int64_t a = line_time(p, start);
        int64_t b = line_time(p, end);
        c.dur_us = a >= 0 && b >= a ? b - a : -1;
        c.p.ts_us = a >= 0 ? a : c.p.ts_us;
    } else {
        c.dur_us = -1;
    }
    sp_cpy_lower(c.proto, sizeof c.proto, jget(p, "proto"));
    sp_cpy(c.service, sizeof c.service, jget(p, "app_proto"));
    snprintf(k, sizeof k, "%s.state", o);
    sp_cpy(c.state, sizeof c.state, jget(p, k));
    sp_cpy(c.uid, sizeof c.uid, jget(p, "flow_id"));
    if (!ok) {
        return false;
    }
    emit(p, PT_LOGREC_CONN, &c, &c.p);
    return true;
}

static bool eve_dns(struct pt_logparse *p, struct pt_logprov *pv)
{
    struct pt_logdns_rec d;
    memset(&d, 0, sizeof d);
    d.p = *pv;
    d.p.source = "eve:dns";
    if (!eve_endpoints(p, d.client, &d.cport, d.server, &d.sport)) {
        return false;
    }
    sp_cpy_lower(d.proto, sizeof d.proto, jget(p, "proto"));
    struct pt_cur name = jget(p, "dns.rrname");
    sp_cpy(d.query, sizeof d.query, set(name) ? name : jget(p, "dns.queries[].rrname"));
    struct pt_cur t = jget(p, "dns.rrtype");
    sp_cpy(d.qtype, sizeof d.qtype, set(t) ? t : jget(p, "dns.queries[].rrtype"));
    sp_cpy(d.rcode, sizeof d.rcode, jget(p, "dns.rcode"));
    struct pt_cur v = jget(p, "dns.rdata"); /* version 1: one answer per event */
    if (set(v)) {
        sp_cpy(d.answers, sizeof d.answers, v);
    } else {
        join(&p->json, "dns.answers[].rdata", d.answers, sizeof d.answers);
    }
    sp_cpy(d.uid, sizeof d.uid, jget(p, "flow_id"));
    emit(p, PT_LOGREC_DNS, &d, &d.p);
    return true;
}

static bool eve_http(struct pt_logparse *p, struct pt_logprov *pv)
{
    struct pt_loghttp_rec h;
    memset(&h, 0, sizeof h);
    h.p = *pv;
    h.p.source = "eve:http";
    int64_t status;
    h.req_bytes = -1;
    if (!eve_endpoints(p, h.client, &h.cport, h.server, &h.sport) ||
        !sp_count(jget(p, "http.status"), &status) || status > 999 ||
        !sp_count(jget(p, "http.length"), &h.resp_bytes)) {
        return false;
    }
    h.status = (int32_t)status;
    sp_cpy(h.method, sizeof h.method, jget(p, "http.http_method"));
    sp_cpy(h.host, sizeof h.host, jget(p, "http.hostname"));
    sp_cpy(h.uri, sizeof h.uri, jget(p, "http.url"));
    sp_cpy(h.user_agent, sizeof h.user_agent, jget(p, "http.http_user_agent"));
    sp_cpy(h.uid, sizeof h.uid, jget(p, "flow_id"));
    emit(p, PT_LOGREC_HTTP, &h, &h.p);
    return true;
}

static void eve_line(struct pt_logparse *p, struct pt_cur line)
{
    if (!pt_jsonflat_parse(&p->json, pt_cur_ptr(&line), pt_cur_left(&line))) {
        malformed(p, "not one complete JSON object (cut, or nested beyond what is read)");
        return;
    }
    struct pt_cur ev = jget(p, "event_type"), ts = jget(p, "timestamp");
    struct pt_logprov pv = {p->item, p->st.lines, p->line_off,
                            set(ts) ? line_time(p, ts)
                                    : -1, NULL, 0};
    bool ok;
    if (!set(ev)) {
        malformed(p, "a JSON object without event_type");
        return;
    }
    if (sp_is(ev, "flow") || sp_is(ev, "netflow")) {
        ok = eve_flow(p, &pv, sp_at(&ev, 0) == 'n');
    } else if (sp_is(ev, "dns")) {
        ok = eve_dns(p, &pv);
    } else if (sp_is(ev, "http")) {
        ok = eve_http(p, &pv);
    } else {
        p->st.other++;
        return;
    }
    if (ok) {
        p->st.records++;
    } else {
        malformed(p, "a field does not hold what its name says (address, port or count)");
    }
}

/* ---- web access logs (NCSA common and combined) ----------------------------------------------- */

/* The next space-separated token, or a quoted one (backslash escapes kept), or a [bracketed]
 * one without its quotes or brackets, as a view into *out; false (nothing read) when there is
 * none or its quote or bracket does not close. */
static bool tok(struct pt_cur *t, struct pt_cur *out, char *kind)
{
    struct pt_cur c = *t;
    pt_text_skip(&c, ' ');
    if (!pt_cur_has(&c, 1)) {
        return false;
    }
    uint8_t open = pt_cur_peek_u8(&c, 0);
    *kind = open == '"' || open == '[' ? (char)open : ' ';
    if (*kind == ' ') {
        pt_text_field(&c, ' ', out);
        *t = c;
        return true;
    }
    uint8_t close = open == '"' ? '"' : ']';
    pt_cur_skip(&c, 1);
    size_t k = 0, left = pt_cur_left(&c);
    const uint8_t *at = pt_cur_ptr(&c); /* a borrowed view of `left` bytes */
    while (k < left && at[k] != close) {
        k += at[k] == '\\' && k + 1 < left ? 2 : 1;
    }
    if (k >= left) {
        return false;
    }
    *out = pt_text_head(&c, k);
    pt_cur_skip(&c, k + 1);
    *t = c;
    return true;
}

/* True when the view at c continues with one or more spaces, three digits and a space. */
static bool status_follows(struct pt_cur c)
{
    if (pt_text_skip(&c, ' ') == 0) {
        return false;
    }
    for (size_t i = 0; i < 3; i++) {
        uint8_t d = pt_cur_peek_u8(&c, i);
        if (d < '0' || d > '9') {
            return false;
        }
    }
    return pt_cur_has(&c, 4) && pt_cur_peek_u8(&c, 3) == ' ';
}

/* The quoted request line. Some servers log quotes inside it unescaped ("GET /?q="x" HTTP/1.0"),
 * so it ends at the first quote followed by a three-digit status. */
static bool request(struct pt_cur *t, struct pt_cur *out)
{
    struct pt_cur c = *t, rest;
    char kind;
    pt_text_skip(&c, ' ');
    if (!pt_text_lit(&c, "\"")) {
        return tok(t, out, &kind);
    }
    size_t i = 0, k;
    for (rest = c; (k = pt_text_find(&rest, "\"")) != SIZE_MAX; rest = sp_from(c, ++i)) {
        i += k; /* a quote, in the view */
        struct pt_cur q = c;
        pt_cur_skip(&q, i + 1);
        if (status_follows(q)) {
            *out = pt_text_head(&c, i);
            *t = q;
            return true;
        }
    }
    return tok(t, out, &kind);
}

/* The method and URI of a request line ("GET /x HTTP/1.1"); one token is the URI. */
static void request_parts(struct pt_cur rq, char *method, size_t mcap, char *uri, size_t ucap)
{
    struct pt_cur m = pt_cur_make(NULL, 0), u = m;
    char kind;
    bool has_m = tok(&rq, &m, &kind), has_u = has_m && tok(&rq, &u, &kind);
    sp_cpy(method, mcap, has_u ? m : pt_cur_make(NULL, 0));
    sp_cpy(uri, ucap, has_u ? u : m);
}

static void web_line(struct pt_logparse *p, struct pt_cur line)
{
    struct pt_loghttp_rec h;
    memset(&h, 0, sizeof h);
    h.p = line_prov(p, line, "web-access");
    h.cport = h.sport = -1;
    h.req_bytes = -1;
    /* host ident user [time]: before them a virtual host ("site:443", Apache's
     * vhost_combined) or a forwarded-for list ("10.0.0.2, 10.0.0.1,") may come first; the
     * client is the address the server saw, the one just before ident and user */
    struct pt_cur ts = line, pre[8], t, req, status, bytes, ref, ua;
    bool when = false;
    char kind = ' ';
    size_t n_pre = 0;
    for (; n_pre < 8 && tok(&ts, &t, &kind); n_pre++) {
        if (kind == '[') {
            when = true;
            break;
        }
        pre[n_pre] = t;
    }
    /* once one is missing so are the ones after it */
    bool got = request(&ts, &req) && tok(&ts, &status, &kind) && tok(&ts, &bytes, &kind);
    bool got_ua = got && tok(&ts, &ref, &kind) && tok(&ts, &ua, &kind);
    int64_t st;
    if (!when || n_pre < 3 || !got || !sp_count(status, &st) || st > 999 ||
        !(sp_is(bytes, "-") ? (h.resp_bytes = -1, true) : sp_count(bytes, &h.resp_bytes))) {
        malformed(p, "not a common or combined access-log line");
        return;
    }
    struct pt_cur host = pre[n_pre - 3], user = pre[n_pre - 1];
    if (n_pre == 4 && !has(&pre[0], ",")) {
        sp_cpy(h.host, sizeof h.host, pre[0]); /* the virtual host */
    }
    h.status = (int32_t)st;
    if (!sp_address(host, h.client)) {
        sp_cpy(h.client, sizeof h.client, host); /* a host name (HostnameLookups on) */
    }
    if (!sp_is(user, "-")) {
        sp_cpy(h.user, sizeof h.user, user);
    }
    request_parts(req, h.method, sizeof h.method, h.uri, sizeof h.uri);
    if (got_ua && !sp_is(ua, "-")) {
        sp_cpy(h.user_agent, sizeof h.user_agent, ua);
    }
    p->st.records++;
    emit(p, PT_LOGREC_HTTP, &h, &h.p);
}

/* ---- W3C extended (IIS, Windows Firewall) ------------------------------------------------------- */

/* The W3C fields read; their columns come from the #Fields: directive. */
enum wf {
    W_DATE, W_TIME, W_SRC_IP, W_DST_IP, W_SRC_PORT, W_DST_PORT, W_PROTOCOL, W_SIZE, W_ACTION,
    W_S_IP, W_C_IP, W_S_PORT, W_METHOD, W_STEM, W_QUERY, W_STATUS, W_SC_BYTES, W_CS_BYTES,
    W_UA, W_HOST, W_USER, W_COUNT
};

_Static_assert(W_COUNT <= 32, "struct pt_logparse's zidx holds every W3C field read");

static const char *const wname[W_COUNT] = {
    "date", "time", "src-ip", "dst-ip", "src-port", "dst-port", "protocol", "size", "action",
    "s-ip", "c-ip", "s-port", "cs-method", "cs-uri-stem", "cs-uri-query", "sc-status",
    "sc-bytes", "cs-bytes", "cs(User-Agent)", "cs-host", "cs-username",
};

static struct pt_cur wget(const struct row *r, enum wf f)
{
    return tsv_value(r, r->p->zidx[f]);
}

/* The view without the blanks at its end. */
static struct pt_cur sp_rtrim(struct pt_cur v)
{
    size_t len = pt_cur_left(&v);
    while (len > 0 && sp_at(&v, len - 1) == ' ') {
        len--;
    }
    return pt_text_head(&v, len);
}

/* v appended to the NUL-terminated dst of *len bytes, truncated to cap - 1 in all. */
static void sp_cat(char *dst, size_t cap, size_t *len, struct pt_cur v)
{
    sp_cpy(dst + *len, cap - *len, v);
    *len += strlen(dst + *len);
}

static void w3c_fields(struct pt_logparse *p, struct pt_cur list)
{
    struct pt_cur f[PT_LOG_FIELDS];
    size_t n;
    pt_text_skip(&list, ' ');
    list = sp_rtrim(list); /* IIS 6 ends the directive with a space */
    if (!split(list, ' ', f, &n)) {
        malformed(p, "a #Fields: directive with more fields than this version reads");
        p->n_fields = 0;
        return;
    }
    p->st.headers++;
    p->n_fields = n;
    for (size_t k = 0; k < W_COUNT; k++) {
        p->zidx[k] = -1;
        for (size_t i = 0; i < n; i++) {
            if (sp_is(f[i], wname[k])) {
                p->zidx[k] = (int16_t)i;
            }
        }
    }
}

static bool w3c_conn(struct row *r, struct pt_logprov *pv)
{
    struct pt_logconn_rec c;
    memset(&c, 0, sizeof c);
    c.p = *pv;
    c.p.source = "w3c:firewall";
    c.dur_us = c.c_bytes = c.s_bytes = c.s_ip_bytes = c.c_frame_bytes = c.s_frame_bytes = -1;
    c.s_pkts = -1;
    c.c_pkts = 1; /* a firewall log line is one packet or one connection attempt */
    if (!sp_address(wget(r, W_SRC_IP), c.client) || !sp_address(wget(r, W_DST_IP), c.server) ||
        !sp_port(wget(r, W_SRC_PORT), &c.cport) || !sp_port(wget(r, W_DST_PORT), &c.sport) ||
        !sp_count(wget(r, W_SIZE), &c.c_ip_bytes)) {
        return false;
    }
    sp_cpy_lower(c.proto, sizeof c.proto, wget(r, W_PROTOCOL));
    sp_cpy(c.state, sizeof c.state, wget(r, W_ACTION));
    emit(r->p, PT_LOGREC_CONN, &c, &c.p);
    return true;
}

static bool w3c_http(struct row *r, struct pt_logprov *pv)
{
    struct pt_loghttp_rec h;
    memset(&h, 0, sizeof h);
    h.p = *pv;
    h.p.source = "w3c:iis";
    h.cport = -1;
    int64_t status;
    if (!sp_address(wget(r, W_C_IP), h.client) || !sp_address(wget(r, W_S_IP), h.server) ||
        !sp_port(wget(r, W_S_PORT), &h.sport) || !sp_count(wget(r, W_STATUS), &status) ||
        status > 999 || !sp_count(wget(r, W_SC_BYTES), &h.resp_bytes) ||
        !sp_count(wget(r, W_CS_BYTES), &h.req_bytes)) {
        return false;
    }
    h.status = (int32_t)status;
    sp_cpy(h.method, sizeof h.method, wget(r, W_METHOD));
    struct pt_cur q = wget(r, W_QUERY);
    size_t len = 0;
    sp_cat(h.uri, sizeof h.uri, &len, wget(r, W_STEM));
    sp_cat(h.uri, sizeof h.uri, &len, span(set(q) ? "?" : ""));
    sp_cat(h.uri, sizeof h.uri, &len, q);
    sp_cpy(h.host, sizeof h.host, wget(r, W_HOST));
    sp_cpy(h.user, sizeof h.user, wget(r, W_USER));
    sp_cpy(h.user_agent, sizeof h.user_agent, wget(r, W_UA));
    for (char *c = h.user_agent; *c != '\0'; c++) {
        *c = *c == '+' ? ' ' : *c; /* W3C writes the spaces of a value as '+' */
    }
    emit(r->p, PT_LOGREC_HTTP, &h, &h.p);
    return true;
}

static void w3c_line(struct pt_logparse *p, struct pt_cur line)
{
    if (sp_at(&line, 0) == '#') {
        if (pt_text_lit(&line, "#Fields:")) {
            w3c_fields(p, line);
        } else {
            p->st.headers++;
        }
        return;
    }
    struct row r; /* split() fills tsv[0..n): 64 views are not cleared for every line */
    r.p = p;
    r.json = false;
    if (p->n_fields == 0) {
        malformed(p, "a record before any #Fields: directive");
        return;
    }
    if (!split(sp_rtrim(line), ' ', r.tsv, &r.n) || r.n != p->n_fields) {
        malformed(p, "its number of fields differs from the #Fields: directive");
        return;
    }
    char when[64];
    size_t len = 0;
    sp_cat(when, sizeof when, &len, wget(&r, W_DATE));
    sp_cat(when, sizeof when, &len, span(" "));
    sp_cat(when, sizeof when, &len, wget(&r, W_TIME));
    struct pt_logprov pv = {p->item, p->st.lines, p->line_off,
                            line_time(p, span(when)), NULL, 0};
    bool ok;
    if (p->zidx[W_SRC_IP] >= 0 && p->zidx[W_DST_IP] >= 0) {
        ok = w3c_conn(&r, &pv);
    } else if (p->zidx[W_METHOD] >= 0 || p->zidx[W_STEM] >= 0) {
        ok = w3c_http(&r, &pv);
    } else {
        p->st.other++;
        return;
    }
    if (ok) {
        p->st.records++;
    } else {
        malformed(p, "a field does not hold what its name says (address, port or count)");
    }
}

/* ---- Palo Alto PAN-OS traffic logs --------------------------------------------------------- */

/* The documented order of a TRAFFIC line's fields (PAN-OS 8 to 11; later fields appended). */
enum { PAN_TYPE = 3, PAN_SUBTYPE = 4, PAN_SRC = 7, PAN_DST = 8, PAN_RULE = 11, PAN_APP = 14,
       PAN_SESSION = 22, PAN_SPORT = 24, PAN_DPORT = 25, PAN_PROTO = 29, PAN_ACTION = 30,
       PAN_SENT = 32, PAN_RCVD = 33, PAN_START = 35, PAN_ELAPSED = 36, PAN_PKTS_SENT = 44, PAN_PKTS_RCVD = 45,
       PAN_FIELDS = 64 };

/* Comma-separated fields as views, a quoted field's commas kept (its quotes dropped). */
static size_t pan_split(struct pt_cur c, struct pt_cur *f, size_t max)
{
    size_t n = 0;
    while (n < max) {
        if (sp_at(&c, 0) != '"') {
            if (!pt_text_field(&c, ',', &f[n++])) {
                break;
            }
            continue;
        }
        pt_cur_skip(&c, 1);
        size_t k = 0, left = pt_cur_left(&c);
        while (k < left && !(sp_at(&c, k) == '"' && (k + 1 == left || sp_at(&c, k + 1) == ','))) {
            k++; /* a quote inside the field is kept */
        }
        f[n++] = pt_text_head(&c, k);
        pt_cur_skip(&c, k < left ? k + 1 : k); /* and the closing quote */
        if (!pt_text_lit(&c, ",")) {
            break;
        }
    }
    return n;
}

/* A TRAFFIC line, with or without a syslog header before its first field ("1,"), whose
 * "end" (or "drop"/"deny") subtype carries the session's bytes each way. */
static bool panos(struct pt_logparse *p, struct pt_cur s, struct pt_logprov *pv)
{
    size_t start = pt_text_find(&s, ",TRAFFIC,");
    if (start == SIZE_MAX) {
        return false;
    }
    /* back over the serial number and receive time to the first field */
    for (int commas = 0; start > 0 && commas < 3; start--) {
        commas += sp_at(&s, start - 1) == ',';
        if (commas == 3) {
            break;
        }
    }
    while (start > 0 && sp_at(&s, start - 1) != ' ' && sp_at(&s, start - 1) != ',') {
        start--;
    }
    struct pt_cur f[PAN_FIELDS];
    size_t n = pan_split(sp_from(s, start), f, PAN_FIELDS);
    if (n <= PAN_ELAPSED || !sp_is(f[PAN_TYPE], "TRAFFIC")) {
        return false;
    }
    struct pt_logconn_rec c;
    memset(&c, 0, sizeof c);
    c.p = *pv;
    c.p.source = "panos";
    c.c_bytes = c.s_bytes = c.c_frame_bytes = c.s_frame_bytes = c.c_pkts = c.s_pkts = -1;
    int64_t secs;
    if (!sp_address(f[PAN_SRC], c.client) || !sp_address(f[PAN_DST], c.server) ||
        !sp_port(f[PAN_SPORT], &c.cport) || !sp_port(f[PAN_DPORT], &c.sport) ||
        !sp_count(f[PAN_SENT], &c.c_ip_bytes) || !sp_count(f[PAN_RCVD], &c.s_ip_bytes) ||
        !sp_count(f[PAN_ELAPSED], &secs)) {
        return false;
    }
    c.dur_us = secs >= 0 ? secs * 1000000 : -1;
    /* the session's start time, when it reads; else the line's */
    int64_t start_us =
        line_time(p, f[PAN_START]);
    if (start_us >= 0) {
        c.p.ts_us = start_us;
    }
    if (n > PAN_PKTS_RCVD && (!sp_count(f[PAN_PKTS_SENT], &c.c_pkts) ||
                              !sp_count(f[PAN_PKTS_RCVD], &c.s_pkts))) {
        c.c_pkts = c.s_pkts = -1;
    }
    sp_cpy_lower(c.proto, sizeof c.proto, f[PAN_PROTO]);
    size_t len = 0; /* "end allow": the subtype and the action, 11 bytes of each at most */
    sp_cat(c.state, sizeof c.state, &len, pt_text_head(&f[PAN_SUBTYPE], 11));
    sp_cat(c.state, sizeof c.state, &len, span(" "));
    sp_cat(c.state, sizeof c.state, &len, pt_text_head(&f[PAN_ACTION], 11));
    sp_cpy(c.service, sizeof c.service, f[PAN_APP]);
    sp_cpy(c.uid, sizeof c.uid, f[PAN_SESSION]);
    emit(p, PT_LOGREC_CONN, &c, &c.p);
    return true;
}

/* A file of PAN-OS lines: TRAFFIC ones are connections, THREAT, SYSTEM, CONFIG ... other. */
static void panos_line(struct pt_logparse *p, struct pt_cur line)
{
    struct pt_logprov pv = line_prov(p, line, NULL);
    struct pt_cur l = line;
    if (!has(&l, ",TRAFFIC,")) {
        if (has(&l, ",THREAT,") || has(&l, ",SYSTEM,") || has(&l, ",CONFIG,") || has(&l, ",URL,")) {
            p->st.other++;
        } else {
            malformed(p, "not a PAN-OS log line");
        }
        return;
    }
    if (panos(p, l, &pv)) {
        p->st.records++;
    } else {
        malformed(p, "a PAN-OS TRAFFIC line whose addresses, ports or byte counts do not read");
    }
}

/* ---- syslog: netfilter LOG lines and dnsmasq queries -------------------------------------------- */

/* The value of KEY= in a key=value line, up to the next space (FortiGate quotes values
 * holding spaces: action="accept"), of the first KEY= at the view's start or after a space;
 * at most cap - 1 bytes of it, as the caller stores it. False (*v empty) when absent. */
static bool kv(struct pt_cur s, const char *key, size_t cap, struct pt_cur *v)
{
    size_t kl = strlen(key), from = 0, k;
    struct pt_cur rest = s;
    while ((k = pt_text_find(&rest, key)) != SIZE_MAX) {
        size_t at = from + k; /* of the key in s */
        struct pt_cur t = sp_from(s, at + kl);
        if ((at == 0 || sp_at(&s, at - 1) == ' ') && pt_text_lit(&t, "=")) {
            pt_text_field(&t, pt_text_lit(&t, "\"") ? '"' : ' ', v);
            *v = pt_text_head(v, cap - 1);
            return true;
        }
        from = at + kl;
        rest = sp_from(s, from);
    }
    *v = pt_cur_make(NULL, 0);
    return false;
}

static bool netfilter(struct pt_logparse *p, struct pt_cur s, struct pt_logprov *pv)
{
    struct pt_logconn_rec c;
    struct pt_cur src, dst, v;
    memset(&c, 0, sizeof c);
    c.p = *pv;
    c.p.source = "netfilter";
    c.dur_us = c.c_bytes = c.s_bytes = c.s_ip_bytes = c.c_frame_bytes = c.s_frame_bytes = -1;
    c.s_pkts = -1;
    c.c_pkts = 1;
    c.cport = c.sport = -1;
    size_t bracket = pt_text_find(&s, "[SRC="); /* an ICMP error's quoted packet */
    struct pt_cur head = pt_text_head(&s, bracket < 1023 ? bracket : 1023);
    if (!kv(head, "SRC", 64, &src) || !kv(head, "DST", 64, &dst) ||
        !sp_address(src, c.client) || !sp_address(dst, c.server) || c.client[0] == '\0' ||
        c.server[0] == '\0') {
        return false;
    }
    if ((kv(head, "SPT", 32, &v) && !sp_port(v, &c.cport)) ||
        (kv(head, "DPT", 32, &v) && !sp_port(v, &c.sport)) ||
        (kv(head, "LEN", 32, &v) && !sp_count(v, &c.c_ip_bytes))) {
        return false;
    }
    kv(head, "PROTO", sizeof c.proto, &v);
    sp_cpy_lower(c.proto, sizeof c.proto, v);
    /* the prefix the rule logged with ("DROP_INPUT:", "DENY:") says what happened */
    size_t in = pt_text_find(&head, " IN=");
    if (in != SIZE_MAX) {
        size_t b = in, a;
        while (b > 0 && sp_at(&head, b - 1) == ' ') {
            b--;
        }
        for (a = b; a > 0 && sp_at(&head, a - 1) != ' '; a--) {
        }
        struct pt_cur w = sp_from(head, a);
        sp_cpy(c.state, sizeof c.state, pt_text_head(&w, b - a));
    }
    emit(p, PT_LOGREC_CONN, &c, &c.p);
    return true;
}

/* dnsmasq[pid]: query[A] name from 10.0.0.5 (q: the view after "query[") */
static bool dnsmasq(struct pt_logparse *p, struct pt_cur q, struct pt_logprov *pv)
{
    struct pt_logdns_rec d;
    memset(&d, 0, sizeof d);
    d.p = *pv;
    d.p.source = "dnsmasq";
    d.cport = d.sport = -1;
    struct pt_cur type, from;
    if (!pt_text_field(&q, ']', &type) || !pt_text_lit(&q, " ") ||
        !pt_text_after(&q, " from ", &from)) {
        return false;
    }
    sp_cpy(d.qtype, sizeof d.qtype, type);
    sp_cpy(d.query, sizeof d.query, pt_text_head(&q, pt_text_find(&q, " from ")));
    if (!sp_address(from, d.client) || d.client[0] == '\0') {
        return false;
    }
    cpy(d.proto, sizeof d.proto, "udp");
    emit(p, PT_LOGREC_DNS, &d, &d.p);
    return true;
}

/* FortiGate traffic logs: key=value pairs, values quoted when they hold spaces. */
static bool fortigate(struct pt_logparse *p, struct pt_cur s, struct pt_logprov *pv)
{
    struct pt_logconn_rec c;
    struct pt_cur v;
    memset(&c, 0, sizeof c);
    c.p = *pv;
    c.p.source = "fortigate";
    c.c_bytes = c.s_bytes = c.c_ip_bytes = c.s_ip_bytes = -1;
    c.c_frame_bytes = c.s_frame_bytes = c.c_pkts = c.s_pkts = c.dur_us = -1;
    c.cport = c.sport = -1;
    struct pt_cur src, dst;
    if (!kv(s, "srcip", 64, &src) || !kv(s, "dstip", 64, &dst) || !sp_address(src, c.client) ||
        !sp_address(dst, c.server)) {
        return false;
    }
    static const struct {
        const char *key;
        size_t off;
    } counts[] = {
        {"sentbyte", offsetof(struct pt_logconn_rec, c_ip_bytes)},
        {"rcvdbyte", offsetof(struct pt_logconn_rec, s_ip_bytes)},
        {"sentpkt", offsetof(struct pt_logconn_rec, c_pkts)},
        {"rcvdpkt", offsetof(struct pt_logconn_rec, s_pkts)},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        int64_t x;
        if (kv(s, counts[i].key, 64, &v)) {
            if (!sp_count(v, &x)) {
                return false;
            }
            memcpy((char *)&c + counts[i].off, &x, sizeof x);
        }
    }
    if ((kv(s, "srcport", 64, &v) && !sp_port(v, &c.cport)) ||
        (kv(s, "dstport", 64, &v) && !sp_port(v, &c.sport))) {
        return false;
    }
    int64_t d;
    if (kv(s, "duration", 64, &v) && sp_count(v, &d) && d >= 0) {
        c.dur_us = d * 1000000;
    }
    int64_t proto;
    if (kv(s, "proto", 64, &v) && sp_count(v, &proto)) {
        const char *name = proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 1 ? "icmp" : NULL;
        sp_cpy(c.proto, sizeof c.proto, name != NULL ? span(name) : v);
    }
    kv(s, "action", sizeof c.state, &v);
    sp_cpy(c.state, sizeof c.state, v);
    kv(s, "service", sizeof c.service, &v);
    sp_cpy(c.service, sizeof c.service, v);
    kv(s, "sessionid", sizeof c.uid, &v);
    sp_cpy(c.uid, sizeof c.uid, v);
    emit(p, PT_LOGREC_CONN, &c, &c.p);
    return true;
}

/* A DNS query line: BIND's "client @0x.. 10.0.0.5#5353 (name): query: name IN A +E(0)K
 * (10.0.0.1)" or Unbound's "info: 10.0.0.5 name. A IN". */
/* Up to 8 tokens of the first 511 bytes of v (the longest a query line's part is read) into w;
 * how many. */
static size_t words8(struct pt_cur v, struct pt_cur w[8])
{
    struct pt_cur t = pt_text_head(&v, 511);
    size_t n = 0;
    char kind;
    while (n < 8 && tok(&t, &w[n], &kind)) {
        n++;
    }
    return n;
}

static bool dns_query_line(struct pt_logparse *p, struct pt_cur s, bool bind,
                           struct pt_logprov *pv)
{
    struct pt_logdns_rec d;
    memset(&d, 0, sizeof d);
    d.p = *pv;
    d.cport = d.sport = -1;
    struct pt_cur w[8], rest;
    size_t n;
    if (bind) {
        d.p.source = "bind";
        size_t c = pt_text_find(&s, "client "), q = pt_text_find(&s, " query: ");
        if (c == SIZE_MAX || q == SIZE_MAX || q < c) {
            return false;
        }
        n = words8(sp_from(s, c + 7), w);
        size_t a = n > 0 && sp_at(&w[0], 0) == '@' ? 1 : 0; /* BIND 9.11+: the client's handle */
        size_t hash = a < n ? pt_text_find(&w[a], "#") : SIZE_MAX;
        if (hash == SIZE_MAX) {
            return false;
        }
        struct pt_cur pt = sp_from(w[a], hash + 1);
        size_t pl = pt_cur_left(&pt);
        if (pl > 0 && sp_at(&pt, pl - 1) == ':') {
            pt = pt_text_head(&pt, pl - 1); /* "10.0.0.5#53001:" when no view name follows */
        }
        if (!sp_address(pt_text_head(&w[a], hash), d.client) || !sp_port(pt, &d.cport)) {
            return false;
        }
        n = words8(sp_from(s, q + 8), w);
        if (n < 3) {
            return false;
        }
        sp_cpy(d.query, sizeof d.query, w[0]);
        sp_cpy(d.qtype, sizeof d.qtype, w[2]);
        struct pt_cur srv = n > 4 ? w[n - 1] : pt_cur_make(NULL, 0);
        size_t l = pt_cur_left(&srv);
        if (pt_text_lit(&srv, "(") && l > 2 && sp_at(&srv, l - 2) == ')') {
            sp_address(pt_text_head(&srv, l - 2), d.server); /* the server it came to */
        }
    } else {
        d.p.source = "unbound";
        pt_text_after(&s, " info: ", &rest);
        n = words8(rest, w);
        if (n != 4 || !sp_address(w[0], d.client) || d.client[0] == '\0') {
            return false;
        }
        size_t l = pt_cur_left(&w[1]);
        sp_cpy(d.query, sizeof d.query,
               pt_text_head(&w[1], l > 1 && sp_at(&w[1], l - 1) == '.' ? l - 1 : l));
        sp_cpy(d.qtype, sizeof d.qtype, w[2]);
    }
    cpy(d.proto, sizeof d.proto, "udp");
    emit(p, PT_LOGREC_DNS, &d, &d.p);
    return true;
}

/* ---- Cisco ASA / FTD connection messages (Cisco, "ASA Syslog Messages"; TAC document 116149) --
 *   302013/302015  Built {inbound|outbound} {TCP|UDP} connection ID for IF:ADDR/PORT (MAPPED)
 *                  [(user)] to IF:ADDR/PORT (MAPPED) ...
 *   302014/302016  Teardown {TCP|UDP} connection ID for IF:ADDR/PORT [(user)] to IF:ADDR/PORT
 *                  [(user)] duration H:MM:SS bytes N [reason]
 *   106023         Deny PROTO src IF:ADDR[/PORT] dst IF:ADDR[/PORT] ... by access-group ...
 *   106100         access-list ACL {permitted|denied|est-allowed} PROTO IF/ADDR(PORT) ->
 *                  IF/ADDR(PORT) hit-cnt ...
 * "inbound" means the connection was initiated from the `for` side, "outbound" from the `to`
 * side; a teardown has no word for it, so the direction of its Built message is remembered by
 * connection id (PT_LOG_ASA_IDS of them); without it the end with the lower port is taken as
 * the server. A teardown's bytes are both directions in one number (both_ways). */

/* "IF:ADDR/PORT" (an IPv6 address holds colons: the interface ends at the first one) or
 * "IF/ADDR(PORT)" (106100); the port is -1 when absent. */
static bool asa_end(struct pt_cur tok, bool paren, char addr[PT_ADDR_STRLEN], int32_t *pt)
{
    struct pt_cur iface, a, num = pt_cur_make(NULL, 0);
    if (!pt_text_field(&tok, paren ? '/' : ':', &iface)) {
        return false;
    }
    if (pt_text_field(&tok, paren ? '(' : '/', &a)) {
        pt_text_field(&tok, ')', &num);
        num = pt_text_head(&num, 7);
    }
    *pt = -1;
    return sp_address(a, addr) && addr[0] != '\0' && (pt_cur_left(&num) == 0 || sp_port(num, pt));
}

static uint8_t *asa_slot(struct pt_logparse *p, uint64_t id)
{
    return &p->asa_dir[id % PT_LOG_ASA_IDS];
}

/* The word after the first `key` in s (at most cap - 1 bytes of it); false when absent or
 * empty. */
static bool word_after(struct pt_cur s, const char *key, size_t cap, struct pt_cur *w)
{
    struct pt_cur r;
    *w = pt_cur_make(NULL, 0);
    if (!pt_text_after(&s, key, &r)) {
        return false;
    }
    pt_text_field(&r, ' ', w);
    bool some = pt_cur_left(w) > 0;
    *w = pt_text_head(w, cap - 1);
    return some;
}

/* n decimal numbers of 1 to 9 digits separated by sep ("0:01:02") at the view's start; false
 * when it does not start so. */
static bool sp_uints(struct pt_cur c, uint8_t sep, unsigned *v, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        uint64_t x;
        size_t at = c.off;
        if ((k > 0 && (sp_at(&c, 0) != sep || !pt_cur_skip(&c, 1))) ||
            !pt_text_u64(&c, UINT32_MAX, &x) || c.off - at - (k > 0) > 9) {
            return false;
        }
        v[k] = (unsigned)x;
    }
    return true;
}

static bool asa_conn(struct pt_logparse *p, struct pt_cur m, bool built, struct pt_logprov *pv)
{
    struct pt_cur fort, to, id, dur, bytes, b = m;
    bool outbound = pt_text_lit(&b, "Built outbound");
    if (!word_after(m, "connection ", 24, &id) || !word_after(m, " for ", 80, &fort) ||
        !word_after(m, " to ", 80, &to)) {
        return false;
    }
    int64_t cid;
    if (!sp_count(id, &cid) || cid < 0) {
        return false;
    }
    struct pt_logconn_rec c;
    memset(&c, 0, sizeof c);
    if (!asa_end(fort, false, c.server, &c.sport) || !asa_end(to, false, c.client, &c.cport)) {
        return false;
    }
    if (built) { /* the connection's bytes come with its teardown */
        *asa_slot(p, (uint64_t)cid) = (uint8_t)(outbound ? 2 : 1);
        return true;
    }
    int64_t total;
    unsigned hms[3];
    if (!word_after(m, " bytes ", 24, &bytes) || !sp_count(bytes, &total) ||
        !word_after(m, " duration ", 16, &dur) || !sp_uints(dur, ':', hms, 3)) {
        return false;
    }
    uint8_t *dir = asa_slot(p, (uint64_t)cid);
    bool swap = *dir == 1 || (*dir == 0 && c.sport >= 0 && c.cport >= 0 && c.cport < c.sport);
    if (swap) { /* inbound: the `for` side began it */
        struct pt_logconn_rec t = c;
        memcpy(c.client, t.server, sizeof c.client);
        memcpy(c.server, t.client, sizeof c.server);
        c.cport = t.sport;
        c.sport = t.cport;
    }
    *dir = 0;
    c.p = *pv;
    c.p.source = "asa";
    c.dur_us = ((int64_t)hms[0] * 3600 + hms[1] * 60 + hms[2]) * 1000000;
    c.p.ts_us = pv->ts_us >= 0 ? pv->ts_us - c.dur_us : -1; /* logged at its end */
    c.c_bytes = total;
    c.both_ways = true;
    c.s_bytes = c.c_ip_bytes = c.s_ip_bytes = c.c_frame_bytes = c.s_frame_bytes = -1;
    c.c_pkts = c.s_pkts = -1;
    cpy(c.proto, sizeof c.proto, pt_text_find(&m, " TCP ") != SIZE_MAX ? "tcp" : "udp");
    cpy(c.state, sizeof c.state, "teardown");
    sp_cpy(c.uid, sizeof c.uid, id);
    emit(p, PT_LOGREC_CONN, &c, &c.p);
    return true;
}

/* 106023 and 106100 "denied": a packet the ACL refused (a blocked row, not a flow). */
static bool asa_deny(struct pt_logparse *p, struct pt_cur m, bool acl, struct pt_logprov *pv)
{
    struct pt_cur k, proto, src, dst;
    struct pt_logconn_rec c;
    memset(&c, 0, sizeof c);
    /* 106100: "denied PROTO SRC -> DST"; 106023: "Deny PROTO src SRC dst DST" */
    bool ok = pt_text_after(&m, acl ? " denied " : "Deny ", &k);
    if (ok && acl) { /* the source right after "PROTO ", the destination after " -> " */
        ok = pt_text_field(&k, ' ', &proto) && pt_cur_left(&proto) > 0 &&
             pt_cur_left(&proto) < 16;
        struct pt_cur at = k;
        pt_text_field(&k, ' ', &src);
        ok = ok && pt_cur_left(&src) > 0 &&
             word_after(sp_from(at, pt_cur_left(&src)), " -> ", 80, &dst);
        src = pt_text_head(&src, 79);
    } else if (ok) {
        pt_text_field(&k, ' ', &proto);
        ok = pt_cur_left(&proto) > 0 && word_after(m, " src ", 80, &src) &&
             word_after(m, " dst ", 80, &dst);
        proto = pt_text_head(&proto, 15);
    }
    if (!ok || !asa_end(src, acl, c.client, &c.cport) || !asa_end(dst, acl, c.server, &c.sport)) {
        return false;
    }
    c.p = *pv;
    c.p.source = "asa";
    c.dur_us = c.c_bytes = c.s_bytes = c.c_ip_bytes = c.s_ip_bytes = -1;
    c.c_frame_bytes = c.s_frame_bytes = c.s_pkts = -1;
    c.c_pkts = 1;
    sp_cpy_lower(c.proto, sizeof c.proto, proto);
    cpy(c.state, sizeof c.state, "deny");
    emit(p, PT_LOGREC_CONN, &c, &c.p);
    return true;
}

/* A %ASA- or %FTD- message (s: the line): true when it is one of the kinds read (ok: it
 * read). "%ASA-6-302014: " is the tag, its level and a 6-digit message id. */
static bool asa(struct pt_logparse *p, struct pt_cur s, struct pt_logprov *pv, bool *ok)
{
    struct pt_cur t = s, m;
    size_t at = pt_text_find(&s, "%ASA-");
    at = at != SIZE_MAX ? at : pt_text_find(&s, "%FTD-");
    uint64_t id = 0;
    if (at == SIZE_MAX || !pt_cur_skip(&t, at) || !pt_cur_has(&t, 16) || sp_at(&t, 6) != '-' ||
        !pt_cur_skip(&t, 7) || !pt_text_u64(&t, UINT64_MAX, &id) || t.off != at + 13) {
        return false;
    }
    m = sp_from(s, at + 14);
    pt_text_skip(&m, ' ');
    switch (id) {
        case 302013: case 302015: /* remembered; the line is counted as other */
            *ok = asa_conn(p, m, true, pv);
            return !*ok;
        case 302014: case 302016:
            *ok = asa_conn(p, m, false, pv);
            return true;
        case 106023:
            *ok = asa_deny(p, m, false, pv);
            return true;
        case 106100:
            if (pt_text_find(&m, " denied ") == SIZE_MAX) {
                return false; /* permitted: an ACL hit, not a connection's record */
            }
            *ok = asa_deny(p, m, true, pv);
            return true;
        default:
            return false;
    }
}

/* ---- HAProxy (configuration manual, 8.2.2 "TCP log format", 8.2.3 "HTTP log format") --------
 *   tcplog:  client:port [accept_date] frontend backend/server Tw/Tc/Tt bytes_read
 *            termination_state actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue
 *   httplog: client:port [accept_date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes_read
 *            req_cookie resp_cookie termination_state actconn/... srv_queue/backend_queue
 *            [{captured request headers}] [{captured response headers}] "request"
 * The timers' count tells the two apart. bytes_read is what went from the server to the
 * client. HAProxy names the server, not its address: an HTTP request is a log_http row
 * (server address unset, `uid` "backend/server", the host from the first captured request
 * header when it reads as one), a TCP session a log_conn row without a server address (it
 * cannot be placed as a flow: store/logflows.c says so). */

/* "a:b:c" timers in milliseconds (HAProxy writes -1 for a phase not reached, '+' with
 * logasap); how many there were, the last in *last_ms (-1 when unknown). */
static size_t ha_timers(struct pt_cur t, int64_t *last_ms)
{
    size_t n = 0;
    *last_ms = -1;
    for (; pt_cur_left(&t) > 0; n++) {
        pt_text_lit(&t, "+");
        bool neg = pt_text_lit(&t, "-");
        uint64_t v;
        if (!pt_text_u64(&t, (INT64_MAX / 10 - 9) * 10 - 1, &v) ||
            (pt_cur_left(&t) > 0 && !pt_text_lit(&t, "/"))) {
            return 0;
        }
        *last_ms = neg ? -1 : (int64_t)v;
    }
    return n;
}

/* "10.0.1.2:33313" or an IPv6 address with its port after the last colon */
static bool ha_client(struct pt_cur t, char addr[PT_ADDR_STRLEN], int32_t *pt)
{
    size_t colon = sp_rfind(t, ':');
    if (colon == SIZE_MAX) {
        return false;
    }
    return sp_address(pt_text_head(&t, colon), addr) && addr[0] != '\0' &&
           sp_port(sp_from(t, colon + 1), pt);
}

/* A session's line starts "client:port [": HAProxy's other messages (a proxy started, a
 * server down) are other lines. */
static bool ha_session(struct pt_cur m)
{
    struct pt_cur w;
    return pt_text_field(&m, ' ', &w) && pt_cur_left(&w) > 2 && has(&w, ":") &&
           sp_at(&m, 0) == '[';
}

/* The first captured request header ("{www.example.org|...}") when it reads as a host. */
static void ha_host(struct pt_cur f, char *host, size_t cap)
{
    if (!pt_text_lit(&f, "{") || !has(&f, ".")) {
        return;
    }
    size_t bar = pt_text_find(&f, "|"), brace = pt_text_find(&f, "}");
    sp_cpy(host, cap, pt_text_head(&f, bar < brace ? bar : brace));
}

static bool haproxy(struct pt_logparse *p, struct pt_cur s, struct pt_logprov *pv)
{
    /* the accept date: when the session began */
    int64_t at = line_time(p, s);
    struct pt_cur f[13], req = pt_cur_make(NULL, 0), t;
    bool quoted = false;
    char kind;
    size_t n = 0;
    for (; n < 13 && tok(&s, &f[n], &kind); n++) {
        req = kind == '"' ? f[n] : req;
        quoted |= kind == '"';
    }
    int64_t ms, st, bytes;
    size_t timers = n >= 9 ? ha_timers(f[4], &ms) : 0;
    char cli[PT_ADDR_STRLEN];
    int32_t cport;
    if ((timers != 3 && timers != 5) || !ha_client(f[0], cli, &cport) ||
        !sp_count(f[timers == 5 ? 6 : 5], &bytes)) {
        return false;
    }
    pv->ts_us = at >= 0 ? at : pv->ts_us;
    pv->source = "haproxy";
    if (timers == 3) {
        struct pt_logconn_rec c;
        memset(&c, 0, sizeof c);
        c.p = *pv;
        cpy(c.client, sizeof c.client, cli);
        c.cport = cport;
        c.sport = -1;
        c.dur_us = ms >= 0 ? ms * 1000 : -1;
        c.s_bytes = bytes;
        c.c_bytes = c.c_ip_bytes = c.s_ip_bytes = c.c_frame_bytes = c.s_frame_bytes = -1;
        c.c_pkts = c.s_pkts = -1;
        cpy(c.proto, sizeof c.proto, "tcp");
        sp_cpy(c.state, sizeof c.state, f[6]);
        sp_cpy(c.uid, sizeof c.uid, f[3]);
        emit(p, PT_LOGREC_CONN, &c, &c.p);
        return true;
    }
    /* the request is the quoted token after the captured header blocks */
    while (tok(&s, &t, &kind)) {
        req = kind == '"' ? t : req;
        quoted |= kind == '"';
    }
    if (!quoted || !sp_count(f[5], &st) || st > 999) {
        return false;
    }
    struct pt_loghttp_rec h;
    memset(&h, 0, sizeof h);
    h.p = *pv;
    cpy(h.client, sizeof h.client, cli);
    h.cport = cport;
    h.sport = -1;
    h.status = st < 0 ? -1 : (int32_t)st;
    h.resp_bytes = bytes;
    h.req_bytes = -1;
    sp_cpy(h.uid, sizeof h.uid, f[3]);
    if (n > 12) {
        ha_host(f[12], h.host, sizeof h.host);
    }
    request_parts(req, h.method, sizeof h.method, h.uri, sizeof h.uri);
    emit(p, PT_LOGREC_HTTP, &h, &h.p);
    return true;
}

static void syslog_line(struct pt_logparse *p, struct pt_cur line)
{
    struct pt_logprov pv = line_prov(p, line, NULL);
    struct pt_cur l = line, q;
    bool ok = true, rec = true;
    if (has(&l, "%ASA-") || has(&l, "%FTD-")) {
        rec = asa(p, l, &pv, &ok);
    } else if (pt_text_after(&l, "haproxy[", &q) && pt_text_after(&q, "]: ", &q) &&
               ha_session(q)) {
        ok = haproxy(p, q, &pv);
    } else if (has(&l, " SRC=") && has(&l, " DST=")) {
        ok = netfilter(p, l, &pv);
    } else if (has(&l, "dnsmasq") && pt_text_after(&l, " query[", &q)) {
        ok = dnsmasq(p, q, &pv);
    } else if (has(&l, " srcip=") && has(&l, " dstip=") && has(&l, "type=\"traffic\"")) {
        ok = fortigate(p, l, &pv);
    } else if (has(&l, ",TRAFFIC,")) {
        ok = panos(p, l, &pv);
    } else if (has(&l, " query: ") && has(&l, "client ")) {
        ok = dns_query_line(p, l, true, &pv);
    } else if (has(&l, "unbound") && has(&l, " info: ") && has(&l, " IN")) {
        ok = dns_query_line(p, l, false, &pv);
    } else {
        rec = false;
    }
    if (!rec) {
        p->st.other++; /* a syslog line of another program: kept as text */
    } else if (ok) {
        p->st.records++;
    } else {
        malformed(p, "a firewall or DNS server line whose addresses or ports do not read");
    }
}

/* ---- Squid native access.log ------------------------------------------------------------------ */

/* time elapsed client code/status bytes method URL rfc931 peerstatus/peerhost type */
static void squid_line(struct pt_logparse *p, struct pt_cur line)
{
    struct pt_loghttp_rec h;
    memset(&h, 0, sizeof h);
    struct pt_cur w[10], status, peer, host;
    size_t n = 0;
    char kind;
    while (n < 10 && tok(&line, &w[n], &kind)) {
        n++;
    }
    int64_t ts, elapsed, st = -1;
    if (n < 7 || !pt_text_after(&w[3], "/", &status) || !sp_seconds(w[0], &ts) ||
        !sp_count(w[1], &elapsed) || !sp_count(status, &st) || st > 999 ||
        !sp_count(w[4], &h.resp_bytes) || !sp_address(w[2], h.client)) {
        malformed(p, "not a Squid native access-log line");
        return;
    }
    h.p = (struct pt_logprov){p->item, p->st.lines, p->line_off, ts, "squid", 0};
    h.cport = h.sport = -1;
    h.req_bytes = -1;
    h.status = (int32_t)st;
    sp_cpy(h.method, sizeof h.method, w[5]);
    sp_cpy(h.uri, sizeof h.uri, w[6]);
    /* the host: of the URL ("http://host:port/..."), or CONNECT's "host:443" */
    if (!pt_text_after(&w[6], "://", &host)) {
        host = w[6];
    }
    size_t slash = pt_text_find(&host, "/"), query = pt_text_find(&host, "?");
    sp_cpy(h.host, sizeof h.host, pt_text_head(&host, slash < query ? slash : query));
    if (n > 7 && !sp_is(w[7], "-")) {
        sp_cpy(h.user, sizeof h.user, w[7]);
    }
    /* "DIRECT/72.14.235.147": the server */
    if (n > 8 && pt_text_after(&w[8], "/", &peer) && !sp_address(peer, h.server)) {
        h.server[0] = '\0';
    }
    p->st.records++;
    emit(p, PT_LOGREC_HTTP, &h, &h.p);
}

/* ---- AWS load balancer access logs (ALB, Classic ELB) ---------------------------------------- */

/* "ip:port", "[v6]:port" or "-" (none): the address and port; false when neither reads. */
static bool addr_port(struct pt_cur s, char out[PT_ADDR_STRLEN], int32_t *pt)
{
    *pt = -1;
    out[0] = '\0';
    if (sp_is(s, "-")) {
        return true;
    }
    struct pt_cur a, port_of = pt_cur_make(NULL, 0);
    bool with_port;
    if (pt_text_lit(&s, "[")) {
        if (!pt_text_field(&s, ']', &a)) {
            return false;
        }
        with_port = pt_text_lit(&s, ":");
        port_of = s;
    } else {
        size_t colon = sp_rfind(s, ':');
        with_port = colon != SIZE_MAX;
        a = pt_text_head(&s, colon);
        port_of = with_port ? sp_from(s, colon + 1) : port_of;
    }
    if (pt_cur_left(&a) >= PT_ADDR_STRLEN + 8) {
        return false;
    }
    return sp_address(a, out) && (!with_port || sp_port(port_of, pt));
}

/* A count, or "-" / "-1" for none (-1). */
static bool count_or_none(struct pt_cur s, int64_t *v)
{
    if (sp_is(s, "-") || sp_is(s, "-1")) {
        *v = -1;
        return true;
    }
    return sp_count(s, v) && *v >= 0;
}

/* A URL's host (without its port) and its path and query; a bare path is kept as it is. */
static void url_parts(struct pt_cur url, char *host, size_t hcap, char *uri, size_t ucap)
{
    struct pt_cur u;
    host[0] = '\0';
    if (!pt_text_after(&url, "://", &u)) {
        sp_cpy(uri, ucap, url);
        return;
    }
    size_t slash = pt_text_find(&u, "/"), query = pt_text_find(&u, "?");
    size_t hl = slash < query ? slash : query;
    hl = hl < pt_cur_left(&u) ? hl : pt_cur_left(&u);
    struct pt_cur rest = sp_from(u, hl), name = pt_text_head(&u, hl);
    if (hl > 0 && sp_at(&u, 0) != '[') { /* drop ":443"; an IPv6 literal keeps its brackets */
        name = pt_text_head(&name, pt_text_find(&name, ":"));
    }
    sp_cpy(host, hcap, name);
    sp_cpy(uri, ucap, pt_cur_left(&rest) > 0 ? rest : span("/"));
}

/* A TCP or TLS connection a balancer logged (Classic ELB TCP listeners, NLB TLS listeners):
 * the client's bytes received and the bytes sent back, as the balancer counts payload.
 * w: the client, server, received and sent fields. */
static void elb_conn(struct pt_logparse *p, const struct pt_logprov *pv, const struct pt_cur *w,
                     int64_t dur_us)
{
    struct pt_logconn_rec c;
    memset(&c, 0, sizeof c);
    c.p = *pv;
    c.c_ip_bytes = c.s_ip_bytes = c.c_frame_bytes = c.s_frame_bytes = c.c_pkts = c.s_pkts = -1;
    c.dur_us = dur_us;
    if (!addr_port(w[0], c.client, &c.cport) || c.client[0] == '\0' ||
        !addr_port(w[1], c.server, &c.sport) || c.server[0] == '\0' ||
        !count_or_none(w[2], &c.c_bytes) || !count_or_none(w[3], &c.s_bytes)) {
        malformed(p, "an AWS load balancer connection line whose addresses or counts do not read");
        return;
    }
    cpy(c.proto, sizeof c.proto, "tcp");
    p->st.records++;
    emit(p, PT_LOGREC_CONN, &c, &c.p);
}

/* ALB: type time elb client:port target:port request_t target_t response_t elb_status
 * target_status received sent "request" "user_agent" ...; Classic ELB: the same from time
 * (a TCP listener's line has "-" for the statuses and is a connection); NLB TLS: "tls 2.0
 * time elb listener client:port destination:port connection_ms handshake_ms received sent". */
static void elb_line(struct pt_logparse *p, struct pt_cur line)
{
    struct pt_loghttp_rec h;
    memset(&h, 0, sizeof h);
    h.p = line_prov(p, line, "elb");
    struct pt_cur ts = line, w[14];
    size_t k = 0;
    char kind;
    while (k < 14 && tok(&ts, &w[k], &kind)) {
        k++;
    }
    int64_t st, target_st, ms;
    if (k >= 11 && sp_is(w[0], "tls")) {
        if (!sp_count(w[7], &ms) || ms < 0) {
            malformed(p, "an NLB TLS line whose connection time does not read");
            return;
        }
        struct pt_cur cw[4] = {w[5], w[6], w[9], w[10]};
        elb_conn(p, &h.p, cw, ms * 1000);
        return;
    }
    size_t b = k > 0 && (sp_at(&w[0], 0) < '0' || sp_at(&w[0], 0) > '9') ? 1 : 0;
    if (k >= b + 11 && sp_is(w[b + 7], "-") && sp_is(w[b + 8], "-")) {
        struct pt_cur cw[4] = {w[b + 2], w[b + 3], w[b + 9], w[b + 10]};
        elb_conn(p, &h.p, cw, -1);
        return;
    }
    if (k < b + 13 || !addr_port(w[b + 2], h.client, &h.cport) || h.client[0] == '\0' ||
        !addr_port(w[b + 3], h.server, &h.sport) || !sp_count(w[b + 7], &st) || st < 0 ||
        st > 999 || !count_or_none(w[b + 8], &target_st) ||
        !count_or_none(w[b + 9], &h.req_bytes) || !count_or_none(w[b + 10], &h.resp_bytes)) {
        malformed(p, "not an AWS load balancer access-log line");
        return;
    }
    h.status = (int32_t)st;
    struct pt_cur rq = w[b + 11], m = pt_cur_make(NULL, 0), url = m;
    if (tok(&rq, &m, &kind)) {
        tok(&rq, &url, &kind);
    }
    sp_cpy(h.method, sizeof h.method, sp_is(m, "-") ? span("") : m);
    url_parts(url, h.host, sizeof h.host, h.uri, sizeof h.uri);
    sp_cpy(h.user_agent, sizeof h.user_agent, sp_is(w[b + 12], "-") ? span("") : w[b + 12]);
    p->st.records++;
    emit(p, PT_LOGREC_HTTP, &h, &h.p);
}

/* ---- FTP servers' transfer logs (vsftpd.log, xferlog) ----------------------------------------- */

/* The ctime() prefix "Mon Jun  6 18:43:28 2016" is 24 characters; the time itself is
 * pt_logtime's. */
#define CTIME_LEN 24

/* vsftpd.log: "<time> [pid N] [user] OK UPLOAD: Client "addr", "path", N bytes, R" */
static void vsftpd_line(struct pt_logparse *p, struct pt_cur line)
{
    struct pt_logxfer_rec x;
    memset(&x, 0, sizeof x);
    x.p = line_prov(p, line, "vsftpd");
    x.bytes = x.dur_us = -1;
    struct pt_cur c = line, u, v, a, path, bytes, unit;
    if (pt_cur_left(&line) < CTIME_LEN + 7 || x.p.ts_us < 0 || !pt_cur_skip(&c, CTIME_LEN) ||
        !pt_text_lit(&c, " [pid ")) {
        malformed(p, "not a vsftpd log line");
        return;
    }
    bool pid = pt_text_field(&c, ']', &v);
    u = c;
    if (pid && pt_text_lit(&u, " [") && pt_text_field(&u, ']', &v)) { /* the user, after login */
        sp_cpy(x.user, sizeof x.user, v);
        c = u;
    }
    bool verb = false;
    if (pid && pt_text_lit(&c, " OK ")) {
        x.ok = verb = true;
    } else if (pid && pt_text_lit(&c, " FAIL ")) {
        verb = true;
    }
    static const char *const dirs[3][2] = {
        {"UPLOAD: ", "upload"}, {"DOWNLOAD: ", "download"}, {"DELETE: ", "delete"}};
    int d = -1;
    for (int i = 0; verb && d < 0 && i < 3; i++) {
        d = pt_text_lit(&c, dirs[i][0]) ? i : d;
    }
    if (d < 0) {
        p->st.other++; /* CONNECT, LOGIN, MKDIR, FTP command/response lines... */
        return;
    }
    /* Client "addr", "path"[, N bytes, R Kbyte/sec] */
    char kind;
    if (!pt_text_lit(&c, "Client ")) {
        malformed(p, "a vsftpd transfer line without its client");
        return;
    }
    if (!tok(&c, &a, &kind) || kind != '"' || !pt_text_lit(&c, ",") || !tok(&c, &path, &kind) ||
        kind != '"') {
        malformed(p, "a vsftpd transfer line whose client or file does not read");
        return;
    }
    if (!sp_address(a, x.client)) {
        sp_cpy(x.client, sizeof x.client, a);
    }
    sp_cpy(x.path, sizeof x.path, path);
    cpy(x.direction, sizeof x.direction, dirs[d][1]);
    if (pt_text_lit(&c, ",") && tok(&c, &bytes, &kind) && tok(&c, &unit, &kind) &&
        pt_text_lit(&unit, "bytes") && !sp_count(bytes, &x.bytes)) {
        x.bytes = -1;
    }
    p->st.records++;
    emit(p, PT_LOGREC_XFER, &x, &x.p);
}

/* xferlog: "<time> secs host size file... type action direction mode user service auth
 * authuser status" (the file name may hold spaces: the nine fields after it are fixed). */
static void xferlog_line(struct pt_logparse *p, struct pt_cur line)
{
    struct pt_logxfer_rec x;
    memset(&x, 0, sizeof x);
    x.p = line_prov(p, line, "xferlog");
    struct pt_cur w[64], rest = sp_from(line, CTIME_LEN);
    size_t k = 0;
    char kind;
    while (k < 64 && tok(&rest, &w[k], &kind)) {
        k++;
    }
    int64_t secs;
    /* the direction (o, i or d) and the completion status (c or i), one letter each */
    uint8_t dir = k >= 13 && pt_cur_left(&w[k - 7]) == 1 ? sp_at(&w[k - 7], 0) : 0;
    uint8_t done = k >= 13 && pt_cur_left(&w[k - 1]) == 1 ? sp_at(&w[k - 1], 0) : 0;
    if (x.p.ts_us < 0 || k < 13 || k == 64 || !sp_count(w[0], &secs) ||
        !sp_count(w[2], &x.bytes) || (dir != 'o' && dir != 'i' && dir != 'd') ||
        (done != 'c' && done != 'i')) {
        malformed(p, "not an xferlog line");
        return;
    }
    x.dur_us = secs * 1000000;
    if (!sp_address(w[1], x.client)) {
        sp_cpy(x.client, sizeof x.client, w[1]);
    }
    size_t at = 0; /* the file name: the tokens between the size and the transfer type */
    for (size_t i = 3; i + 9 <= k - 1 && at < sizeof x.path - 1; i++) {
        sp_cat(x.path, sizeof x.path, &at, span(i > 3 ? " " : ""));
        sp_cat(x.path, sizeof x.path, &at, w[i]);
    }
    cpy(x.direction, sizeof x.direction, dir == 'i' ? "upload" : dir == 'o' ? "download" : "delete");
    sp_cpy(x.user, sizeof x.user, w[k - 5]);
    x.ok = done == 'c';
    p->st.records++;
    emit(p, PT_LOGREC_XFER, &x, &x.p);
}

/* ---- Windows DNS server debug log ------------------------------------------------------------ */

/* "5/4/2020 10:00:01 AM 0A4C PACKET  000000C9B5F2B5A0 UDP Rcv 10.0.0.5      a1b2   Q
 * [0001   D   NOERROR] A      (3)www(7)example(3)com(0)": a query the server received (not
 * a response, not one it sent to a forwarder) from a client. The name's labels are written
 * with their lengths in parentheses. */
static void windns_line(struct pt_logparse *p, struct pt_cur line)
{
    struct pt_logdns_rec d;
    memset(&d, 0, sizeof d);
    d.p = line_prov(p, line, "windns");
    d.cport = d.sport = -1;
    struct pt_cur rest, f[6], skipped, type, name;
    if (!pt_text_after(&line, " PACKET ", &rest)) {
        p->st.other++; /* the header, the field key, notes and non-packet events */
        return;
    }
    /* context, protocol, direction, address, transaction id, R (a response) or Q */
    char kind;
    size_t got = 0;
    while (got < 6 && tok(&rest, &f[got], &kind)) {
        got++;
    }
    if (got == 6 && sp_is(f[5], "R")) { /* "R Q": a response */
        p->st.other++;
        return;
    }
    bool flags = pt_text_field(&rest, ']', &skipped); /* past the flags' "]" */
    if (got < 6 || !flags || !tok(&rest, &type, &kind) || !tok(&rest, &name, &kind) ||
        !sp_is(f[5], "Q") || !sp_address(f[3], d.client) ||
        (!sp_is(f[1], "UDP") && !sp_is(f[1], "TCP"))) {
        malformed(p, "a Windows DNS packet line whose fields do not read");
        return;
    }
    if (!sp_is(f[2], "Rcv")) {
        p->st.other++; /* a query the server sent on (to a forwarder or root) */
        return;
    }
    /* (3)www(7)example(3)com(0) -> www.example.com */
    size_t k = 0, len = pt_cur_left(&name);
    for (size_t i = 0; i < len && k < sizeof d.query - 1;) {
        if (sp_at(&name, i) == '(') {
            struct pt_cur from = sp_from(name, i);
            size_t e = pt_text_find(&from, ")");
            if (e == SIZE_MAX) {
                break;
            }
            i += e + 1;
            if (k > 0 && i < len) {
                d.query[k++] = '.';
            }
        } else {
            d.query[k++] = (char)sp_at(&name, i++);
        }
    }
    d.query[k] = '\0';
    sp_cpy_lower(d.proto, sizeof d.proto, f[1]);
    sp_cpy(d.qtype, sizeof d.qtype, type);
    p->st.records++;
    emit(p, PT_LOGREC_DNS, &d, &d.p);
}

/* ---- NetFlow / IPFIX exported as CSV (nfdump -o csv, SiLK rwcut --delimited=,) ------------------- */

enum ff { X_START, X_END, X_SRC, X_DST, X_SPORT, X_DPORT, X_PROTO, X_BYTES, X_PKTS, X_OBYTES,
          X_OPKTS, X_COUNT };

static const char *const falias[X_COUNT][8] = {
    [X_START] = {"ts", "stime", "start", "first", "time_start", "sTime", "start_time"},
    [X_END] = {"te", "etime", "end", "last", "time_end", "eTime", "end_time"},
    [X_SRC] = {"sa", "sip", "srcaddr", "src_ip", "srcip", "src_addr", "source address"},
    [X_DST] = {"da", "dip", "dstaddr", "dst_ip", "dstip", "dst_addr", "destination address"},
    [X_SPORT] = {"sp", "sport", "srcport", "src_port", "source port"},
    [X_DPORT] = {"dp", "dport", "dstport", "dst_port", "destination port"},
    [X_PROTO] = {"pr", "protocol", "proto"},
    [X_BYTES] = {"ibyt", "bytes", "in_bytes", "octets", "doctets", "byt"},
    [X_PKTS] = {"ipkt", "packets", "in_pkts", "pkts", "dpkts", "pkt"},
    [X_OBYTES] = {"obyt", "out_bytes"},
    [X_OPKTS] = {"opkt", "out_pkts"},
};

_Static_assert(X_COUNT <= 32, "struct pt_logparse's zidx holds every flow CSV field read");

static bool flowcsv_header(struct pt_logparse *p, struct pt_cur s)
{
    struct pt_cur f[PT_LOG_FIELDS];
    size_t n;
    if (!split(s, ',', f, &n)) {
        return false;
    }
    char name[PT_LOG_FIELDS][40], al[8][40]; /* each lowered once, not once per pair */
    for (size_t i = 0; i < n; i++) {
        sp_cpy_lower(name[i], sizeof name[i], f[i]);
    }
    for (size_t k = 0; k < X_COUNT; k++) {
        size_t na = 0;
        for (; na < 8 && falias[k][na] != NULL; na++) {
            cpy_lower(al[na], sizeof al[na], falias[k][na]);
        }
        p->zidx[k] = -1;
        for (size_t i = 0; i < n && p->zidx[k] < 0; i++) {
            for (size_t a = 0; a < na; a++) {
                if (strcmp(name[i], al[a]) == 0) {
                    p->zidx[k] = (int16_t)i;
                }
            }
        }
    }
    if (p->zidx[X_SRC] < 0 || p->zidx[X_DST] < 0 || p->zidx[X_BYTES] < 0) {
        return false;
    }
    p->n_fields = n;
    p->st.headers++;
    return true;
}

static struct pt_cur fget(const struct row *r, enum ff f)
{
    struct pt_cur v = tsv_value(r, r->p->zidx[f]);
    pt_text_skip(&v, ' '); /* nfdump pads */
    return pt_cur_rest(&v);
}

static void flowcsv_line(struct pt_logparse *p, struct pt_cur line)
{
    struct pt_cur rest = line;
    if (p->n_fields == 0) {
        if (!flowcsv_header(p, line)) {
            malformed(p, "a flow export without a header naming addresses and bytes");
        }
        return;
    }
    struct row r; /* split() fills tsv[0..n): 64 views are not cleared for every line */
    r.p = p;
    r.json = false;
    if (p->tail || pt_text_lit(&rest, "Summary")) {
        p->tail = true; /* nfdump's summary after the flows: its own header and totals */
        p->st.other++;
        return;
    }
    if (sp_is(line, "No matching flows")) { /* nfdump on a file without flows */
        p->st.other++;
        return;
    }
    if (!split(line, ',', r.tsv, &r.n) || r.n < p->n_fields) {
        malformed(p, "its number of fields differs from the header");
        return;
    }
    struct pt_logconn_rec c;
    memset(&c, 0, sizeof c);
    c.p = (struct pt_logprov){p->item, p->st.lines, p->line_off, -1,
                              p->fmt == PT_LOGFMT_NFCAPD ? "nfcapd" : "flow-csv", 0};
    c.c_bytes = c.s_bytes = c.c_frame_bytes = c.s_frame_bytes = c.dur_us = -1;
    c.s_ip_bytes = c.s_pkts = -1;
    struct pt_cur start = fget(&r, X_START), end = fget(&r, X_END), pr = fget(&r, X_PROTO);
    if (set(start)) {
        c.p.ts_us = line_time(p, start);
        if (c.p.ts_us < 0 && !sp_seconds(start, &c.p.ts_us)) {
            c.p.ts_us = -1;
        }
    }
    if (set(end) && c.p.ts_us >= 0) {
        int64_t e = line_time(p, end);
        if (e < 0 && !sp_seconds(end, &e)) {
            e = -1;
        }
        c.dur_us = e >= c.p.ts_us ? e - c.p.ts_us : -1;
    }
    if (!sp_address(fget(&r, X_SRC), c.client) || !sp_address(fget(&r, X_DST), c.server) ||
        c.client[0] == '\0' || !sp_port(fget(&r, X_SPORT), &c.cport) ||
        !sp_port(fget(&r, X_DPORT), &c.sport) || !sp_count(fget(&r, X_BYTES), &c.c_ip_bytes) ||
        !sp_count(fget(&r, X_PKTS), &c.c_pkts) || !sp_count(fget(&r, X_OBYTES), &c.s_ip_bytes) ||
        !sp_count(fget(&r, X_OPKTS), &c.s_pkts)) {
        malformed(p, "a field does not hold what its name says (address, port or count)");
        return;
    }
    int64_t proto;
    if (set(pr) && sp_count(pr, &proto)) {
        const char *name = proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 1 ? "icmp" : NULL;
        sp_cpy(c.proto, sizeof c.proto, name != NULL ? span(name) : pr);
    } else {
        sp_cpy_lower(c.proto, sizeof c.proto, pr);
    }
    p->st.records++;
    emit(p, PT_LOGREC_CONN, &c, &c.p);
}

/* ---- lines ---------------------------------------------------------------------------------- */

/* EVTX: the lines of the libevtx reader (evtx.c), which reads them as a C string: the line
 * buffer is NUL-terminated after the view. */
static void evtx_line(struct pt_logparse *p, struct pt_cur line)
{
    pt_evtx_line(p, (char *)p->line, pt_cur_left(&line));
}

/* The line reader of each format. */
static void (*const readers[])(struct pt_logparse *p, struct pt_cur line) = {
    [PT_LOGFMT_ZEEK] = zeek_line,       [PT_LOGFMT_ZEEK_JSON] = zeek_json_line,
    [PT_LOGFMT_EVE] = eve_line,         [PT_LOGFMT_WEB] = web_line,
    [PT_LOGFMT_W3C] = w3c_line,         [PT_LOGFMT_SYSLOG] = syslog_line,
    [PT_LOGFMT_SQUID] = squid_line,     [PT_LOGFMT_FLOWCSV] = flowcsv_line,
    [PT_LOGFMT_NFCAPD] = flowcsv_line,  [PT_LOGFMT_ELB] = elb_line,
    [PT_LOGFMT_VSFTPD] = vsftpd_line,   [PT_LOGFMT_XFERLOG] = xferlog_line,
    [PT_LOGFMT_PANOS] = panos_line,     [PT_LOGFMT_WINDNS] = windns_line,
    [PT_LOGFMT_EVTX] = evtx_line,
};

void pt_logparse_line(struct pt_logparse *p, const uint8_t *b, size_t n)
{
    if (p->fmt == PT_LOGFMT_ATNA) { /* the line as a piece of the stream (atna_stream.c) */
        pt_atna_feed(p, b, n);
        pt_atna_feed(p, (const uint8_t *)"\n", 1);
        return;
    }
    p->st.lines++;
    p->line_len = n;
    if (n > 0 && b[n - 1] == '\r') {
        n--;
    }
    size_t i = 0;
    while (i < n && (b[i] == ' ' || b[i] == '\t')) {
        i++;
    }
    if (i == n) {
        p->st.blank++;
        return;
    }
    if (memchr(b, '\0', n) != NULL) {
        malformed(p, "a NUL byte inside the line");
        return;
    }
    /* the text, NUL-terminated, in the line buffer (the caller's bytes may be it) */
    if (b != p->line) {
        memmove(p->line, b, n < sizeof p->line - 1 ? n : sizeof p->line - 1);
    }
    n = n < sizeof p->line - 1 ? n : sizeof p->line - 1;
    p->line[n] = '\0';
    if ((size_t)p->fmt < sizeof readers / sizeof readers[0] && readers[p->fmt] != NULL) {
        readers[p->fmt](p, pt_cur_make(p->line, n));
    } else {
        p->st.other++; /* PT_LOGFMT_NONE; ATNA is read by pt_atna_feed, before */
    }
}

void pt_logparse_feed(struct pt_logparse *p, const uint8_t *b, size_t n)
{
    if (p->fmt == PT_LOGFMT_ATNA) { /* messages span lines: atna_stream.c */
        pt_atna_feed(p, b, n);
        return;
    }
    struct pt_cur c = pt_cur_make(b, n);
    while (pt_cur_left(&c) > 0) {
        const uint8_t *at = pt_cur_ptr(&c);
        size_t left = pt_cur_left(&c);
        const uint8_t *nl = memchr(at, '\n', left);
        size_t take = nl != NULL ? (size_t)(nl - at) : left;
        if (!p->overlong && take <= sizeof p->line - 1 - p->len) {
            memcpy(p->line + p->len, at, take);
            p->len += take;
        } else {
            p->overlong = true;
        }
        pt_cur_skip(&c, take);
        p->st.bytes += take;
        if (nl == NULL) {
            break;
        }
        pt_cur_skip(&c, 1);
        p->st.bytes++;
        if (p->overlong) {
            p->st.lines++;
            malformed(p, "a line longer than 64 KiB");
        } else {
            pt_logparse_line(p, p->line, p->len);
        }
        p->line_off = p->st.bytes;
        p->len = 0;
        p->overlong = false;
    }
}

void pt_logparse_end(struct pt_logparse *p)
{
    if (p->fmt == PT_LOGFMT_ATNA) {
        pt_atna_end(p);
    }
    if (p->len > 0 || p->overlong) {
        if (p->overlong) {
            p->st.lines++;
            malformed(p, "a line longer than 64 KiB");
        } else {
            pt_logparse_line(p, p->line, p->len);
        }
        p->len = 0;
        p->overlong = false;
    }
    if (p->st.malformed > PT_LOG_ANOMALY_MAX && p->anom != NULL) {
        char d[160];
        snprintf(d, sizeof d, "%s: %llu malformed lines in all; the first %d have an anomaly each",
                 pt_logfmt_name(p->fmt), (unsigned long long)p->st.malformed, PT_LOG_ANOMALY_MAX);
        p->anom(p->arg, 0, PT_ANOM_LOG_MALFORMED_LINES, d);
    }
}
