/*
 * hostinfer.c - an image's host names and addresses from its own files (hostinfer.h).
 */
#include "hostinfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/addr.h"
#include "../core/anomaly.h"
#include "../core/cursor.h"
#include "../core/textspan.h"
#include "../core/log.h"
#include "../core/version.h"
#include "../store/db.h"
#include "../store/q_disk.h"
#include "../store/q_staging.h"
#include "objstore.h"
#include "regf.h"

#define HIVE_PATH "windows/system32/config/system"

typedef void (*found_fn)(void *, enum pt_hostinfer_kind, const char *, const char *);

static bool has_prefix(const char *s, const char *pre)
{
    return strncmp(s, pre, strlen(pre)) == 0;
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* A file directly in `dir` (no further '/'). */
static bool in_dir(const char *path, const char *dir)
{
    return has_prefix(path, dir) && path[strlen(dir)] != '\0' &&
           strchr(path + strlen(dir), '/') == NULL;
}

int pt_hostinfer_wanted(const char *path)
{
    if (strcasecmp(path, HIVE_PATH) == 0 || strcmp(path, "etc/hostname") == 0) {
        return 1;
    }
    if (strcmp(path, "etc/hosts") == 0 || strcmp(path, "etc/network/interfaces") == 0 ||
        in_dir(path, "etc/network/interfaces.d/") ||
        in_dir(path, "etc/NetworkManager/system-connections/") ||
        (in_dir(path, "etc/systemd/network/") && has_suffix(path, ".network")) ||
        (in_dir(path, "etc/netplan/") && (has_suffix(path, ".yaml") ||
                                          has_suffix(path, ".yml")))) {
        return 2;
    }
    if ((in_dir(path, "var/lib/dhcp/") || in_dir(path, "var/lib/dhclient/") ||
         in_dir(path, "var/lib/NetworkManager/")) &&
        (has_suffix(path, ".lease") || has_suffix(path, ".leases"))) {
        return 2;
    }
    return 0;
}

/* A host's own address, as flows spell it, from `text` up to a '/' (a prefix length). */
static bool own_addr(const char *text, size_t len, char out[PT_ADDR_STRLEN])
{
    char buf[64];
    if (len == 0 || len >= sizeof buf) {
        return false;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    struct pt_addr a;
    if (!pt_addr_parse(buf, &a)) {
        return false;
    }
    const uint8_t *b = a.b;
    if (pt_addr_is_v4(&a)) {
        b += 12;
        if (b[0] == 0 || b[0] == 127 || b[0] >= 224 || (b[0] == 169 && b[1] == 254)) {
            return false;
        }
    } else {
        static const uint8_t zero[15];
        bool low = memcmp(b, zero, 15) == 0; /* :: and ::1 */
        if (low || b[0] == 0xff || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)) {
            return false;
        }
    }
    pt_addr_str(&a, out);
    return true;
}

struct emit {
    const char *path;
    struct pt_hostinfer_names *names;
    found_fn fn;
    void *arg;
};

static void addr_found(const struct emit *e, const char *text, size_t len, const char *where)
{
    char a[PT_ADDR_STRLEN], origin[600];
    if (own_addr(text, len, a)) {
        snprintf(origin, sizeof origin, "%.300s: %s", e->path, where);
        e->fn(e->arg, PT_HOSTINFER_ADDR, a, origin);
    }
}

static void name_found(const struct emit *e, const char *name, const char *where)
{
    char origin[600];
    if (name[0] == '\0') {
        return;
    }
    snprintf(origin, sizeof origin, "%.300s: %s", e->path, where);
    e->fn(e->arg, PT_HOSTINFER_NAME, name, origin);
    struct pt_hostinfer_names *n = e->names;
    for (size_t i = 0; i < n->n; i++) {
        if (strcasecmp(n->v[i], name) == 0) {
            return;
        }
    }
    if (n->n < PT_HOSTINFER_MAX_NAMES) {
        snprintf(n->v[n->n++], sizeof n->v[0], "%s", name);
    }
}

/* ---- Windows: the SYSTEM hive ------------------------------------------------------------ */

struct ifaces {
    const struct emit *e;
    const struct pt_regf *h;
    const char *set;
};

static void hive_string(const struct emit *e, const struct pt_regf *h, uint32_t key,
                        const char *keypath, const char *value, enum pt_hostinfer_kind kind)
{
    uint32_t type, len;
    const uint8_t *data;
    if (!pt_regf_value(h, key, value, &type, &data, &len) ||
        (type != PT_REGF_SZ && type != PT_REGF_EXPAND_SZ && type != PT_REGF_MULTI_SZ)) {
        return;
    }
    char s[256], where[700];
    snprintf(where, sizeof where, "%.500s\\%s", keypath, value);
    for (unsigned i = 0; i < 64 && pt_regf_string(data, len, i, s, sizeof s); i++) {
        if (kind == PT_HOSTINFER_NAME) {
            name_found(e, s, where);
        } else {
            addr_found(e, s, strlen(s), where);
        }
    }
}

static void on_iface(void *arg, const char *name, uint32_t cell)
{
    struct ifaces *x = arg;
    char kp[600];
    snprintf(kp, sizeof kp, "%s\\Services\\Tcpip\\Parameters\\Interfaces\\%.200s", x->set,
             name);
    hive_string(x->e, x->h, cell, kp, "IPAddress", PT_HOSTINFER_ADDR);
    hive_string(x->e, x->h, cell, kp, "DhcpIPAddress", PT_HOSTINFER_ADDR);
}

static void read_hive(const struct emit *e, const uint8_t *p, size_t n)
{
    struct pt_regf h;
    if (!pt_regf_open(&h, p, n)) {
        return;
    }
    uint32_t type, len, current = 1;
    const uint8_t *data;
    uint32_t sel = pt_regf_key(&h, h.root, "Select");
    if (sel != 0 && pt_regf_value(&h, sel, "Current", &type, &data, &len) &&
        type == PT_REGF_DWORD && len == 4) {
        current = (uint32_t)(data[0] | data[1] << 8 | data[2] << 16 | (uint32_t)data[3] << 24);
    }
    char set[32], kp[128];
    snprintf(set, sizeof set, "ControlSet%03u", current % 1000);
    uint32_t cs = pt_regf_key(&h, h.root, set);
    if (cs == 0) {
        return;
    }
    snprintf(kp, sizeof kp, "%s\\Control\\ComputerName\\ComputerName", set);
    uint32_t k = pt_regf_key(&h, cs, "Control\\ComputerName\\ComputerName");
    if (k != 0) {
        hive_string(e, &h, k, kp, "ComputerName", PT_HOSTINFER_NAME);
    }
    snprintf(kp, sizeof kp, "%s\\Services\\Tcpip\\Parameters", set);
    if ((k = pt_regf_key(&h, cs, "Services\\Tcpip\\Parameters")) != 0) {
        hive_string(e, &h, k, kp, "Hostname", PT_HOSTINFER_NAME);
        uint32_t ifs = pt_regf_key(&h, k, "Interfaces");
        struct ifaces x = {.e = e, .h = &h, .set = set};
        if (ifs != 0) {
            pt_regf_subkeys(&h, ifs, 256, on_iface, &x);
        }
    }
}

/* ---- Linux: text files -------------------------------------------------------------------- */

/* The next token of the line view *c: blanks (and `stop` characters) skipped, then a run up to
 * the next blank or `stop` character, as a child view (empty at the line's end). The files
 * hold no NUL (pt_hostinfer_file), so a stop set is a C string. */
static bool is_sep(uint8_t ch, const char *stop)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || (ch != 0 && strchr(stop, ch) != NULL);
}

static struct pt_cur token(struct pt_cur *c, const char *stop)
{
    while (pt_cur_left(c) > 0 && is_sep(pt_cur_peek_u8(c, 0), stop)) {
        pt_cur_skip(c, 1);
    }
    size_t k = 0, left = pt_cur_left(c);
    while (k < left && !is_sep(pt_cur_peek_u8(c, k), stop)) {
        k++;
    }
    struct pt_cur t = pt_cur_make(pt_cur_ptr(c), k);
    pt_cur_skip(c, k);
    return t;
}

static const char *tok_text(const struct pt_cur *t)
{
    return (const char *)pt_cur_ptr(t);
}

/* The token is exactly w (is_word) or starts with w and goes on (after). */
static bool is_word(const struct pt_cur *t, const char *w)
{
    size_t n = strlen(w);
    return pt_cur_left(t) == n && memcmp(pt_cur_ptr(t), w, n) == 0;
}

static bool after(const struct pt_cur *t, const char *w)
{
    size_t n = strlen(w);
    return pt_cur_left(t) > n && memcmp(pt_cur_ptr(t), w, n) == 0;
}

static bool known_name(const struct pt_hostinfer_names *names, const struct pt_cur *tok)
{
    const char *t = tok_text(tok);
    size_t n = pt_cur_left(tok);
    for (size_t i = 0; i < names->n; i++) {
        const char *v = names->v[i], *dot = strchr(v, '.');
        size_t short_len = dot != NULL ? (size_t)(dot - v) : strlen(v);
        if ((n == strlen(v) && strncasecmp(t, v, n) == 0) ||
            (n == short_len && strncasecmp(t, v, n) == 0) ||
            (n > short_len && t[short_len] == '.' && strncasecmp(t, v, short_len) == 0)) {
            return true;
        }
    }
    return false;
}

static void addr_tok(const struct emit *e, const struct pt_cur *t, const char *where)
{
    addr_found(e, tok_text(t), pt_cur_left(t), where);
}

/* The token after the first '=' of the word w (NetworkManager "address1=10.0.0.5/24,10.0.0.1",
 * systemd-networkd "Address=10.0.0.5/24", "ADDRESS=" of a networkd lease): from there to a
 * blank or one of `stop`, `rest` (the line after w) included. */
static void addr_after_eq(const struct emit *e, const struct pt_cur *w, const struct pt_cur *rest,
                          const char *stop, const char *where)
{
    struct pt_cur v = *w, key;
    if (pt_text_field(&v, '=', &key)) {
        struct pt_cur line = pt_cur_make(pt_cur_ptr(&v), pt_cur_left(&v) + pt_cur_left(rest));
        struct pt_cur a = token(&line, stop);
        addr_tok(e, &a, where);
    }
}

enum text_kind { T_HOSTNAME, T_HOSTS, T_IFACES, T_NETPLAN, T_NM, T_NETWORKD, T_LEASE };

/* netplan: "addresses: [10.0.0.5/24, ...]" inline, or "addresses:" then "- 10.0.0.5/24"
 * items indented at least as deep; `list` is the indentation of an open list, else -1. */
static void netplan_line(const struct emit *e, const struct pt_cur *w, int indent,
                         struct pt_cur *rest, int *list, const char *where)
{
    if (*list >= 0 && (indent < *list || pt_cur_peek_u8(w, 0) != '-')) {
        *list = -1;
    }
    if (*list >= 0) { /* "- 10.0.0.5/24" */
        struct pt_cur v = pt_cur_make(pt_cur_ptr(w) + 1, pt_cur_left(w) - 1 + pt_cur_left(rest));
        struct pt_cur a = token(&v, "\"'");
        addr_tok(e, &a, where);
    } else if (pt_cur_left(w) >= 10 && memcmp(pt_cur_ptr(w), "addresses:", 10) == 0) {
        struct pt_cur v = pt_cur_make(pt_cur_ptr(w) + 10, pt_cur_left(w) - 10 + pt_cur_left(rest));
        bool inline_list = false;
        for (struct pt_cur a = token(&v, "[],\"'"); pt_cur_left(&a) > 0;
             a = token(&v, "[],\"'")) {
            addr_tok(e, &a, where);
            inline_list = true;
        }
        *list = inline_list ? -1 : indent;
    }
}

/* One line of a text file (its view, without the newline). */
static void text_line(const struct emit *e, enum text_kind k, struct pt_cur line,
                      unsigned lineno, int *list)
{
    char where[64];
    snprintf(where, sizeof where, "line %u", lineno);
    struct pt_cur body, rest;
    pt_text_field(&line, '#', &body); /* a comment to the line's end */
    const uint8_t *start = pt_cur_ptr(&body);
    struct pt_cur w = token(&body, "");
    if (pt_cur_left(&w) == 0) {
        return;
    }
    rest = body;
    if (k == T_HOSTNAME) {
        char name[256];
        size_t n = pt_cur_left(&w);
        snprintf(name, sizeof name, "%.*s", (int)(n < 255 ? n : 255), tok_text(&w));
        name_found(e, name, where);
    } else if (k == T_HOSTS) {
        for (struct pt_cur t = token(&rest, ""); pt_cur_left(&t) > 0; t = token(&rest, "")) {
            if (known_name(e->names, &t)) {
                addr_tok(e, &w, where);
                return;
            }
        }
    } else if (k == T_IFACES && is_word(&w, "address")) {
        struct pt_cur a = token(&rest, "");
        addr_tok(e, &a, where);
    } else if ((k == T_NM && after(&w, "address")) || (k == T_NETWORKD && after(&w, "Address="))) {
        addr_after_eq(e, &w, &rest, ",;", where);
    } else if (k == T_LEASE && after(&w, "ADDRESS=")) {
        addr_after_eq(e, &w, &rest, ";", where);
    } else if (k == T_LEASE && is_word(&w, "fixed-address")) {
        struct pt_cur a = token(&rest, ";");
        addr_tok(e, &a, where);
    } else if (k == T_NETPLAN) {
        netplan_line(e, &w, (int)(pt_cur_ptr(&w) - start), &rest, list, where);
    }
}

static void read_text(const struct emit *e, enum text_kind k, const uint8_t *p, size_t n)
{
    struct pt_cur c = pt_cur_make(p, n), line;
    int list = -1;
    for (unsigned lineno = 1; pt_cur_left(&c) > 0 && lineno <= 100000; lineno++) {
        pt_text_field(&c, '\n', &line);
        text_line(e, k, line, lineno, &list);
        if (k == T_HOSTNAME) {
            break; /* the first line is the name */
        }
    }
}

void pt_hostinfer_file(const char *path, const uint8_t *p, size_t n,
                       struct pt_hostinfer_names *names, found_fn fn, void *arg)
{
    struct emit e = {.path = path, .names = names, .fn = fn, .arg = arg};
    if (strcasecmp(path, HIVE_PATH) == 0) {
        read_hive(&e, p, n);
        return;
    }
    if (memchr(p, '\0', n) != NULL) {
        return; /* configuration files are text */
    }
    enum text_kind k = strcmp(path, "etc/hostname") == 0 ? T_HOSTNAME
                       : strcmp(path, "etc/hosts") == 0  ? T_HOSTS
                       : has_prefix(path, "etc/network/") ? T_IFACES
                       : has_prefix(path, "etc/netplan/") ? T_NETPLAN
                       : has_prefix(path, "etc/NetworkManager/") ? T_NM
                       : has_prefix(path, "etc/systemd/") ? T_NETWORKD
                                                          : T_LEASE;
    read_text(&e, k, p, n);
}

/* ---- the phase ---------------------------------------------------------------------------- */

#define MAX_FILES 4096
#define MAX_FILE_BYTES (256ull << 20)

struct cand {
    uint32_t item;
    int rank;
    char *path, *sha256, *pack;
    uint64_t size, pack_off;
};

struct phase {
    struct pt_db *db;
    struct cand *v;
    size_t n;
    uint32_t item;
    pt_status rc;
};

static void on_file(void *arg, const struct pt_q_host_file *f)
{
    struct phase *x = arg;
    int rank = pt_hostinfer_wanted(f->path);
    if (rank == 0 || x->n >= MAX_FILES || x->rc != PT_OK) {
        return;
    }
    struct cand *c = &x->v[x->n];
    *c = (struct cand){.item = f->item, .rank = rank, .path = strdup(f->path),
                       .sha256 = strdup(f->sha256), .pack = strdup(f->pack), .size = f->size,
                       .pack_off = f->pack_off};
    x->n++;
    if (c->path == NULL || c->sha256 == NULL || c->pack == NULL) {
        x->rc = PT_ENOMEM;
    }
}

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->item != y->item) {
        return x->item < y->item ? -1 : 1;
    }
    if (x->rank != y->rank) {
        return x->rank - y->rank;
    }
    return strcmp(x->path, y->path);
}

static void on_found(void *arg, enum pt_hostinfer_kind kind, const char *value,
                     const char *origin)
{
    struct phase *x = arg;
    if (x->rc == PT_OK) {
        x->rc = kind == PT_HOSTINFER_ADDR ? pt_q_staging_inferred(x->db, x->item, value, origin)
                                          : pt_q_staging_hostname(x->db, x->item, value, origin);
    }
}

/* The image.host_inferred anomaly and audit row of one image. */
static pt_status note_item(struct pt_db *db, uint32_t item)
{
    char note[4000];
    pt_status rc = pt_q_staging_inferred_note(db, item, note, sizeof note);
    if (rc != PT_OK || note[0] == '\0') {
        return rc;
    }
    rc = pt_q_disk_anomaly(db, item, pt_anom_kind(PT_ANOM_IMAGE_HOST_INFERRED), note);
    char audit[4100];
    snprintf(audit, sizeof audit, "item=%u %s", item, note);
    return rc == PT_OK ? pt_db_audit(db, "phitrace " PT_VERSION, "image_host_inferred", audit)
                       : rc;
}

static pt_status infer_all(struct phase *x, const char *case_dir)
{
    pt_status rc = pt_q_staging_host_files(x->db, MAX_FILE_BYTES, on_file, x);
    rc = rc != PT_OK ? rc : x->rc;
    qsort(x->v, x->n, sizeof *x->v, cand_cmp);
    struct pt_hostinfer_names names = {.n = 0};
    for (size_t i = 0; i < x->n && rc == PT_OK; i++) {
        const struct cand *c = &x->v[i];
        if (i == 0 || c->item != x->v[i - 1].item) {
            names.n = 0;
            x->item = c->item;
        }
        struct pt_objbytes b;
        if (pt_object_load(case_dir, c->sha256, c->pack, c->pack_off, c->size, &b)) {
            pt_hostinfer_file(c->path, b.p, b.n, &names, on_found, x);
            pt_object_release(&b);
        }
        rc = x->rc;
        if (rc == PT_OK && (i + 1 == x->n || x->v[i + 1].item != c->item)) {
            rc = note_item(x->db, c->item);
        }
    }
    return rc;
}

pt_status pt_hostinfer_run(struct pt_db *db, const char *case_dir)
{
    struct phase x = {.db = db, .rc = PT_OK};
    if ((x.v = calloc(MAX_FILES, sizeof *x.v)) == NULL) {
        return PT_ENOMEM;
    }
    pt_status rc = pt_db_begin(db);
    if (rc == PT_OK) {
        rc = infer_all(&x, case_dir);
    }
    if (rc == PT_OK) {
        rc = pt_db_commit(db);
    }
    if (rc != PT_OK) {
        pt_error("host inference from disk images: %s", pt_db_errmsg(db));
        pt_db_rollback(db);
    }
    for (size_t i = 0; i < x.n; i++) {
        free(x.v[i].path);
        free(x.v[i].sha256);
        free(x.v[i].pack);
    }
    free(x.v);
    return rc;
}
