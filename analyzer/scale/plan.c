/*
 * plan.c - the shard plan: write it (inputs expanded, hashed, split by size) and read it
 * back (format in scale.h).
 *
 * Trust: a plan is written by phitrace, but it travels (shared file systems, job scripts),
 * so reading it checks every line: known records only, numbers in range, item ids 1..n in
 * order, every shard index below the shard count, the item count of the last line.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/log.h"
#include "../ingest/inputs.h"
#include "../pipeline.h"
#include "scale.h"

/* ---- path fields ------------------------------------------------------------------------- */

static void put_path(FILE *f, const char *p)
{
    if (p == NULL) {
        fputc('-', f);
        return;
    }
    if (p[0] == '-' && p[1] == '\0') {
        fputs("%2D", f); /* a path named "-" is not "unset" */
        return;
    }
    for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
        if (*c < 0x21 || *c == 0x7f || *c == '%') {
            fprintf(f, "%%%02X", *c);
        } else {
            fputc(*c, f);
        }
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decode a path field in place; NULL for a bad escape or an empty field ("-", unset, is the
 * caller's to test first). */
static char *get_path(char *s)
{
    if (s[0] == '\0') {
        return NULL;
    }
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r == '%') {
            int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
            if (lo < 0 || (hi == 0 && lo == 0)) {
                return NULL;
            }
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return s;
}

/* ---- writing ----------------------------------------------------------------------------- */

/* SHA-256 of an expanded input: of its file, or of its segments in order. */
static pt_status hash_input(const struct pt_input *in, char hex[PT_SHA256_HEX], uint64_t *size)
{
    if (in->n_seg < 2) {
        return pt_sha256_file(in->path, hex, size);
    }
    struct pt_sha256 *h = pt_sha256_new();
    uint8_t *buf = malloc(1 << 20);
    pt_status rc = h == NULL || buf == NULL ? PT_ENOMEM : PT_OK;
    *size = 0;
    for (size_t s = 0; s < in->n_seg && rc == PT_OK; s++) {
        FILE *f = fopen(in->seg[s], "rb");
        if (f == NULL) {
            rc = PT_EIO;
            break;
        }
        size_t n;
        while ((n = fread(buf, 1, 1 << 20, f)) > 0) {
            pt_sha256_update(h, buf, n);
            *size += n;
        }
        rc = ferror(f) ? PT_EIO : PT_OK;
        fclose(f);
    }
    if (rc == PT_OK) {
        uint8_t d[PT_SHA256_LEN];
        pt_sha256_final(h, d);
        pt_hex(d, sizeof d, hex);
    }
    pt_sha256_free(h);
    free(buf);
    return rc;
}

/* Consecutive items to each shard, about total/N bytes each, every shard at least one item
 * while there are enough. Consecutive, not the tightest packing: rotated captures are named
 * in time order, and a connection that crosses from one file to the next is cut only where
 * the two files went to different shards (scale.h), so N shards make at most N-1 such
 * places. The same inputs give the same plan. */
static void balance(struct pt_plan_item *items, size_t n, unsigned shards)
{
    uint64_t total = 0, done = 0;
    for (size_t i = 0; i < n; i++) {
        total += items[i].size ? items[i].size : 1;
    }
    size_t i = 0;
    for (unsigned s = 0; s < shards; s++) {
        unsigned left = shards - s; /* shards still to fill, this one included */
        uint64_t want = done + (total - done) / left;
        size_t took = 0;
        while (i < n && (left == 1 || n - i > left - 1 || took == 0)) {
            uint64_t sz = items[i].size ? items[i].size : 1;
            if (took > 0 && left > 1 && (done + sz / 2 > want || n - i <= left - 1)) {
                break;
            }
            items[i++].shard = s;
            done += sz;
            took++;
        }
    }
}

static char *absolute(const char *p)
{
    if (p[0] == '/') {
        return strdup(p);
    }
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) == NULL) {
        return NULL;
    }
    size_t n = strlen(cwd) + strlen(p) + 2;
    char *out = malloc(n);
    if (out != NULL) {
        snprintf(out, n, "%s/%s", cwd, p);
    }
    return out;
}

static void write_plan(FILE *f, const struct pt_options *o, unsigned shards, const uint8_t key[32],
                       char **abs, const struct pt_plan_item *items, size_t n)
{
    char hex[65];
    pt_hex(key, 32, hex);
    fprintf(f, "phitrace-plan 1\n# written by phitrace plan; holds the case key: keep it "
               "private (0600)\nshards %u\nkey %s\nhome-net %s\nmemcap %llu\nmax-flows %u\n"
               "flows-only %d\nkeep-phi %d\nno-phi %d\ncopy-inputs %d\n",
            shards, hex, o->home_net ? o->home_net : "-", (unsigned long long)o->memcap,
            (unsigned)o->max_flows, o->flows_only, o->keep_phi, o->no_phi, o->copy_inputs);
    OPENSSL_cleanse(hex, sizeof hex);
    const char *const names[3] = {"signatures", "rules", "passwords"};
    const char *const vals[3] = {o->signatures, o->rules, o->passwords};
    for (int i = 0; i < 3; i++) {
        char *a = vals[i] ? absolute(vals[i]) : NULL;
        fprintf(f, "%s ", names[i]);
        put_path(f, a);
        fputc('\n', f);
        free(a);
    }
    for (size_t i = 0; i < o->n_inputs; i++) {
        fputs("input ", f);
        put_path(f, abs[i]);
        fputc('\n', f);
    }
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "item %u %u %llu %s ", items[i].id, items[i].shard,
                (unsigned long long)items[i].size, items[i].sha256[0] ? items[i].sha256 : "-");
        put_path(f, items[i].path);
        fputc('\n', f);
    }
    fprintf(f, "end %zu\n", n);
}

pt_status pt_plan_create(const struct pt_options *o, unsigned shards, const char *out, bool hash,
                         bool quiet)
{
    char err[512] = "";
    char **abs = calloc(o->n_inputs ? o->n_inputs : 1, sizeof *abs);
    struct pt_input_list in = {0};
    struct pt_plan_item *items = NULL;
    pt_status rc = abs == NULL ? PT_ENOMEM : PT_OK;
    for (size_t i = 0; i < o->n_inputs && rc == PT_OK; i++) {
        rc = (abs[i] = absolute(o->inputs[i])) == NULL ? PT_ENOMEM : PT_OK;
    }
    if (rc == PT_OK) {
        rc = pt_inputs_expand(abs, o->n_inputs, NULL, &in, err, sizeof err);
        if (rc != PT_OK) {
            pt_error("%s", err[0] ? err : "cannot list the inputs");
        }
    }
    if (rc == PT_OK && (items = calloc(in.n ? in.n : 1, sizeof *items)) == NULL) {
        rc = PT_ENOMEM;
    }
    for (size_t i = 0; i < in.n && rc == PT_OK; i++) {
        items[i].id = (uint32_t)(i + 1);
        items[i].path = in.v[i].path;
        items[i].size = in.v[i].size;
        if (hash && in.v[i].skip == NULL &&
            hash_input(&in.v[i], items[i].sha256, &items[i].size) != PT_OK) {
            pt_warn("%s: cannot be read (%s); the shard that gets it records the error",
                    in.v[i].path, strerror(errno));
            items[i].sha256[0] = '\0';
        }
        if (hash && !quiet && isatty(STDERR_FILENO)) {
            fprintf(stderr, "\rhashed %zu of %zu inputs", i + 1, in.n);
        }
    }
    if (hash && !quiet && isatty(STDERR_FILENO)) {
        fputc('\n', stderr);
    }
    if (rc == PT_OK) {
        balance(items, in.n, shards);
    }
    uint8_t key[32];
    if (rc == PT_OK && RAND_bytes(key, sizeof key) != 1) {
        pt_error("no random bytes for the case key");
        rc = PT_EINTERNAL;
    }
    if (rc == PT_OK) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
        if (f == NULL) {
            pt_error("cannot write %s: %s", tmp, strerror(errno));
            rc = PT_EIO;
            if (fd >= 0) {
                close(fd);
            }
        } else {
            write_plan(f, o, shards, key, abs, items, in.n);
            bool bad = ferror(f) != 0 || fflush(f) != 0 || fsync(fileno(f)) != 0;
            if (fclose(f) != 0 || bad || rename(tmp, out) != 0) {
                pt_error("cannot write %s: %s", out, strerror(errno));
                unlink(tmp);
                rc = PT_EIO;
            }
        }
    }
    OPENSSL_cleanse(key, sizeof key);
    for (size_t i = 0; abs != NULL && i < o->n_inputs; i++) {
        free(abs[i]);
    }
    free(abs);
    free(items);
    pt_inputs_fini(&in);
    return rc;
}

/* ---- reading ----------------------------------------------------------------------------- */

void pt_plan_fini(struct pt_plan *p)
{
    free(p->home_net);
    free(p->signatures);
    free(p->rules);
    free(p->passwords);
    for (size_t i = 0; i < p->n_inputs; i++) {
        free(p->inputs[i]);
    }
    free(p->inputs);
    for (size_t i = 0; i < p->n_items; i++) {
        free(p->items[i].path);
    }
    free(p->items);
    OPENSSL_cleanse(p->key, sizeof p->key);
    memset(p, 0, sizeof *p);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return false;
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_key(const char *s, uint8_t key[32])
{
    if (s == NULL || strlen(s) != 64) {
        return false;
    }
    for (int i = 0; i < 32; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        key[i] = (uint8_t)(hi * 16 + lo);
    }
    return true;
}

static bool parse_sha(const char *s, char out[PT_SHA256_HEX])
{
    out[0] = '\0';
    if (strcmp(s, "-") == 0) {
        return true;
    }
    if (strlen(s) != 64) {
        return false;
    }
    for (int i = 0; i < 64; i++) {
        if (hexval(s[i]) < 0 || (s[i] >= 'A' && s[i] <= 'F')) {
            return false;
        }
    }
    memcpy(out, s, PT_SHA256_HEX);
    return true;
}

/* "item ID SHARD SIZE SHA PATH" (after "item "). */
static bool parse_item(struct pt_plan *p, char *rest, size_t *cap)
{
    char *f[4];
    for (int i = 0; i < 4; i++) {
        f[i] = rest;
        rest = strchr(rest, ' ');
        if (rest == NULL) {
            return false;
        }
        *rest++ = '\0';
    }
    uint64_t id, shard, size;
    if (!parse_u64(f[0], UINT32_MAX, &id) || id != p->n_items + 1 ||
        !parse_u64(f[1], PT_PLAN_MAX_SHARDS, &shard) || !parse_u64(f[2], UINT64_MAX, &size)) {
        return false;
    }
    if (p->n_items == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct pt_plan_item *n = realloc(p->items, nc * sizeof *n);
        if (n == NULL) {
            return false;
        }
        p->items = n;
        *cap = nc;
    }
    struct pt_plan_item *it = &p->items[p->n_items];
    memset(it, 0, sizeof *it);
    const char *path = get_path(rest);
    if (!parse_sha(f[3], it->sha256) || path == NULL || (it->path = strdup(path)) == NULL) {
        return false;
    }
    it->id = (uint32_t)id;
    it->shard = (unsigned)shard;
    it->size = size;
    p->n_items++;
    return true;
}

static bool set_str(char **dst, char *v)
{
    free(*dst);
    *dst = NULL;
    if (strcmp(v, "-") == 0) {
        return true;
    }
    const char *s = get_path(v);
    return s != NULL && (*dst = strdup(s)) != NULL;
}

static bool parse_flag(const char *v, bool *out)
{
    if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
        return false;
    }
    *out = v[0] == '1';
    return true;
}

/* One line of a plan, its record name split off (`v` the rest). */
static bool parse_line(struct pt_plan *p, const char *k, char *v, size_t *cap, size_t *in_cap,
                       bool *ended)
{
    uint64_t n;
    if (strcmp(k, "shards") == 0) {
        return parse_u64(v, PT_PLAN_MAX_SHARDS, &n) && n > 0 && (p->shards = (unsigned)n);
    }
    if (strcmp(k, "key") == 0) {
        return parse_key(v, p->key);
    }
    if (strcmp(k, "home-net") == 0) {
        return strcmp(v, "-") == 0 || (free(p->home_net), (p->home_net = strdup(v)) != NULL);
    }
    if (strcmp(k, "memcap") == 0) {
        return parse_u64(v, 1ull << 50, &p->memcap);
    }
    if (strcmp(k, "max-flows") == 0) {
        return parse_u64(v, 1u << 30, &n) && ((p->max_flows = (uint32_t)n), true);
    }
    if (strcmp(k, "flows-only") == 0 || strcmp(k, "keep-phi") == 0 ||
        strcmp(k, "no-phi") == 0 || strcmp(k, "copy-inputs") == 0) {
        bool *f = k[0] == 'f' ? &p->flows_only : k[0] == 'k' ? &p->keep_phi
                  : k[0] == 'n' ? &p->no_phi : &p->copy_inputs;
        return parse_flag(v, f);
    }
    if (strcmp(k, "signatures") == 0 || strcmp(k, "rules") == 0 || strcmp(k, "passwords") == 0) {
        return set_str(k[0] == 's' ? &p->signatures : k[0] == 'r' ? &p->rules : &p->passwords, v);
    }
    if (strcmp(k, "input") == 0) {
        if (p->n_inputs == *in_cap) {
            size_t nc = *in_cap ? *in_cap * 2 : 8;
            char **ni = realloc(p->inputs, nc * sizeof *ni);
            if (ni == NULL) {
                return false;
            }
            p->inputs = ni;
            *in_cap = nc;
        }
        const char *s = get_path(v);
        return s != NULL && (p->inputs[p->n_inputs] = strdup(s)) != NULL && ++p->n_inputs;
    }
    if (strcmp(k, "item") == 0) {
        return parse_item(p, v, cap);
    }
    if (strcmp(k, "end") == 0) {
        *ended = parse_u64(v, UINT32_MAX, &n) && n == p->n_items;
        return *ended;
    }
    return false;
}

pt_status pt_plan_load(const char *path, struct pt_plan *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (pt_sha256_file(path, p->sha256, NULL) != PT_OK) {
        snprintf(err, errlen, "cannot read the plan %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read the plan %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    char *line = NULL;
    size_t lcap = 0, cap = 0, in_cap = 0, lineno = 0;
    ssize_t len;
    bool ended = false, header = false, key = false;
    pt_status rc = PT_OK;
    while (rc == PT_OK && (len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = '\0';
        }
        if (line[0] == '#' || len == 0) {
            continue;
        }
        char *v = strchr(line, ' ');
        if (v != NULL) {
            *v++ = '\0';
        }
        if (!header) {
            header = strcmp(line, "phitrace-plan") == 0 && v != NULL && strcmp(v, "1") == 0;
            rc = header ? PT_OK : PT_EMALFORMED;
        } else if (ended || v == NULL || !parse_line(p, line, v, &cap, &in_cap, &ended)) {
            rc = PT_EMALFORMED;
        }
        key = key || strcmp(line, "key") == 0;
    }
    free(line);
    fclose(f);
    for (size_t i = 0; rc == PT_OK && i < p->n_items; i++) {
        rc = p->items[i].shard < p->shards ? PT_OK : PT_EMALFORMED;
    }
    if (rc == PT_OK && (!ended || !key || p->shards == 0 || p->n_inputs == 0)) {
        snprintf(err, errlen, "the plan %s is incomplete (no shards, key, input or end line)",
                 path);
        rc = PT_EMALFORMED;
    } else if (rc != PT_OK) {
        snprintf(err, errlen, "the plan %s is not a phitrace plan or is damaged (line %zu)", path,
                 lineno);
    }
    if (rc != PT_OK) {
        pt_plan_fini(p);
    }
    return rc;
}
