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

#include "../core/addr.h"
#include "../core/log.h"
#include "../core/sha256.h"
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

/* Consecutive units (whole items, or byte ranges of one capture) to each shard, about
 * total/N bytes each, every shard at least one unit while there are enough. Consecutive, not
 * the tightest packing: rotated captures are named in time order, and a connection that
 * crosses from one file (or range) to the next is cut only where the two went to different
 * shards (scale.h), so N shards make at most N-1 such places. The same inputs give the same
 * plan. */
static void balance(const uint64_t *sizes, unsigned *shard, size_t n, unsigned shards)
{
    uint64_t total = 0, done = 0;
    for (size_t i = 0; i < n; i++) {
        total += sizes[i] ? sizes[i] : 1;
    }
    size_t i = 0;
    for (unsigned s = 0; s < shards; s++) {
        unsigned left = shards - s; /* shards still to fill, this one included */
        uint64_t want = done + (total - done) / left;
        size_t took = 0;
        while (i < n && (left == 1 || n - i > left - 1 || took == 0)) {
            uint64_t sz = sizes[i] ? sizes[i] : 1;
            if (took > 0 && left > 1 && (done + sz / 2 > want || n - i <= left - 1)) {
                break;
            }
            shard[i++] = s;
            done += sz;
            took++;
        }
    }
}

/* How many byte ranges a capture of `size` bytes is worth cutting into: one per share of
 * total/N it holds (rounded), at least 2 when there are fewer inputs than shards or it is
 * more than 1.5 shares; 1 (read whole) otherwise. */
static unsigned pieces_for(uint64_t size, uint64_t total, size_t n_items, unsigned shards)
{
    if (shards < 2 || total == 0 || size < 4096) {
        return 1;
    }
    long double share = (long double)total / shards;
    unsigned k = (unsigned)((long double)size / share + 0.5L);
    if (n_items < shards && k < 2) {
        k = 2;
    }
    if ((long double)size <= share * 1.5L && n_items >= shards) {
        return 1;
    }
    return k < 2 ? 2 : k > shards ? shards : k;
}

/* Cut item `it` at the places where its units (k equal pieces) change shard, and hash it and
 * its ranges in one read; the whole file hashed, and read whole, when it cannot be cut. */
static pt_status cut_item(struct pt_plan *p, struct pt_plan_item *it, const struct pt_input *in,
                          const unsigned *sh, unsigned k, size_t *cap)
{
    uint64_t want[PT_PLAN_MAX_SHARDS];
    unsigned gs[PT_PLAN_MAX_SHARDS], m = 0;
    gs[m++] = sh[0];
    for (unsigned j = 1; j < k; j++) {
        if (sh[j] != gs[m - 1]) {
            want[m - 1] = it->size / k * j;
            gs[m++] = sh[j];
        }
    }
    it->shard = sh[0];
    struct pt_split sp = {0};
    if (m < 2 || pt_split_capture(it->path, want, m - 1, &sp) == 0) {
        pt_split_fini(&sp);
        return hash_input(in, it->sha256, &it->size);
    }
    if (p->n_ranges + sp.n + 1 > *cap) {
        size_t nc = (p->n_ranges + sp.n + 1) * 2;
        struct pt_plan_range *nr = realloc(p->ranges, nc * sizeof *nr);
        if (nr == NULL) {
            pt_split_fini(&sp);
            return PT_ENOMEM;
        }
        p->ranges = nr;
        *cap = nc;
    }
    char(*hex)[PT_SHA256_HEX] = calloc(sp.n + 1, sizeof *hex);
    pt_status rc = hex == NULL ? PT_ENOMEM
                               : pt_split_hash(it->path, &sp, it->sha256, hex, &it->size);
    if (rc == PT_OK && it->size != sp.size) {
        rc = PT_EIO; /* changed while read */
    }
    for (unsigned j = 0; rc == PT_OK && j <= sp.n; j++) {
        struct pt_plan_range *r = &p->ranges[p->n_ranges + j];
        memset(r, 0, sizeof *r);
        r->r = (struct pt_byte_range){.item = it->id, .head = sp.head,
                                      .offset = j ? sp.cuts[j - 1].offset : 0,
                                      .end = j < sp.n ? sp.cuts[j].offset : sp.size,
                                      .frames = j ? sp.cuts[j - 1].frames : 0};
        r->shard = gs[j];
        memcpy(r->sha256, hex[j], PT_SHA256_HEX);
    }
    if (rc == PT_OK) {
        it->first_range = p->n_ranges;
        it->n_ranges = sp.n + 1;
        p->n_ranges += sp.n + 1;
    }
    free(hex);
    pt_split_fini(&sp);
    return rc;
}

/* Every input hashed (unless --no-hash), the captures worth it cut into byte ranges, and every
 * unit (item or range) given its shard. A capture is cut only when hashed: the merge checks
 * each range's SHA-256 and makes the item's whole one from the plan's. */
static pt_status split_and_balance(struct pt_plan *p, const struct pt_input_list *in,
                                   unsigned shards, bool hash, bool quiet)
{
    uint64_t total = 0;
    size_t n_units = 0, cap = 0;
    for (size_t i = 0; i < in->n; i++) {
        total += in->v[i].size;
    }
    unsigned *k = calloc(in->n + 1, sizeof *k);
    for (size_t i = 0; k != NULL && i < in->n; i++) {
        int64_t mtime;
        k[i] = hash && in->v[i].skip == NULL && in->v[i].n_seg < 2
                   ? pieces_for(in->v[i].size, total, in->n, shards)
                   : 1;
        k[i] = k[i] > 1 && pt_split_describe(in->v[i].path, &mtime) != NULL ? k[i] : 1;
        n_units += k[i];
    }
    uint64_t *sizes = calloc(n_units + 1, sizeof *sizes);
    unsigned *sh = calloc(n_units + 1, sizeof *sh);
    pt_status rc = k == NULL || sizes == NULL || sh == NULL ? PT_ENOMEM : PT_OK;
    for (size_t i = 0, u = 0; rc == PT_OK && i < in->n; i++) {
        for (unsigned j = 0; j < k[i]; j++) {
            sizes[u++] = in->v[i].size / k[i];
        }
    }
    if (rc == PT_OK) {
        balance(sizes, sh, n_units, shards);
    }
    for (size_t i = 0, u = 0; rc == PT_OK && i < in->n; u += k[i], i++) {
        struct pt_plan_item *it = &p->items[i];
        pt_status hr = PT_OK;
        if (k[i] > 1) {
            hr = cut_item(p, it, &in->v[i], sh + u, k[i], &cap);
        } else {
            it->shard = sh[u];
            hr = hash && in->v[i].skip == NULL ? hash_input(&in->v[i], it->sha256, &it->size)
                                                : PT_OK;
        }
        if (hr == PT_ENOMEM) {
            rc = hr;
        } else if (hr != PT_OK) {
            pt_warn("%s: cannot be read (%s); the shard that gets it records the error",
                    in->v[i].path, strerror(errno));
            it->sha256[0] = '\0';
        }
        if (hash && !quiet && isatty(STDERR_FILENO)) {
            fprintf(stderr, "\rhashed %zu of %zu inputs", i + 1, in->n);
        }
    }
    if (hash && !quiet && isatty(STDERR_FILENO)) {
        fputc('\n', stderr);
    }
    free(k);
    free(sizes);
    free(sh);
    return rc;
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

/* --image-host IMAGE=ADDR as the plan keeps it: an IMAGE with a '/' made absolute, as the
 * plan's inputs are (the shards' items have absolute paths); a file name as given. NULL: no
 * memory. */
static char *image_host_value(const char *arg)
{
    const char *eq = strrchr(arg, '=');
    if (eq == NULL || memchr(arg, '/', (size_t)(eq - arg)) == NULL) {
        return strdup(arg);
    }
    char image[4096];
    snprintf(image, sizeof image, "%.*s", (int)(eq - arg), arg);
    char *a = absolute(image);
    size_t n = a != NULL ? strlen(a) + strlen(eq) + 1 : 0;
    char *out = a != NULL ? malloc(n) : NULL;
    if (out != NULL) {
        snprintf(out, n, "%s%s", a, eq);
    }
    free(a);
    return out;
}

static void write_plan(FILE *f, const struct pt_options *o, unsigned shards, const uint8_t key[32],
                       char **abs, const struct pt_plan *pl)
{
    const struct pt_plan_item *items = pl->items;
    size_t n = pl->n_items;
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
    for (size_t i = 0; i < o->n_image_hosts; i++) {
        char *v = image_host_value(o->image_hosts[i]);
        fputs("image-host ", f);
        put_path(f, v != NULL ? v : o->image_hosts[i]);
        fputc('\n', f);
        free(v);
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
        for (size_t j = 0; j < items[i].n_ranges; j++) {
            const struct pt_plan_range *r = &pl->ranges[items[i].first_range + j];
            fprintf(f, "range %u %u %llu %llu %llu %llu %s\n", r->r.item, r->shard,
                    (unsigned long long)r->r.offset, (unsigned long long)r->r.end,
                    (unsigned long long)r->r.frames, (unsigned long long)r->r.head, r->sha256);
        }
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
    struct pt_plan pl = {.items = items, .n_items = in.n};
    for (size_t i = 0; i < in.n && rc == PT_OK; i++) {
        items[i].id = (uint32_t)(i + 1);
        items[i].path = in.v[i].path;
        items[i].size = in.v[i].size;
    }
    if (rc == PT_OK) {
        rc = split_and_balance(&pl, &in, shards, hash, quiet);
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
            write_plan(f, o, shards, key, abs, &pl);
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
    free(pl.ranges);
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
    for (size_t i = 0; i < p->n_image_hosts; i++) {
        free(p->image_hosts[i]);
    }
    for (size_t i = 0; i < p->n_inputs; i++) {
        free(p->inputs[i]);
    }
    free(p->inputs);
    for (size_t i = 0; i < p->n_items; i++) {
        free(p->items[i].path);
    }
    free(p->items);
    free(p->ranges);
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
    return s != NULL && strlen(s) == 64 && pt_unhex(s, 64, key);
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

/* "range ID SHARD OFFSET END FRAMES HEAD SHA256" (after "range "): a range of the last item,
 * starting where the one before it ended (at 0 for its first). */
static bool parse_range(struct pt_plan *p, char *rest, size_t *cap)
{
    char *f[7];
    for (int i = 0; i < 7; i++) {
        f[i] = rest;
        rest = i < 6 ? strchr(rest, ' ') : NULL;
        if (i < 6 && rest == NULL) {
            return false;
        }
        if (rest != NULL) {
            *rest++ = '\0';
        }
    }
    uint64_t v[6];
    for (int i = 0; i < 6; i++) {
        if (!parse_u64(f[i], i == 0 ? UINT32_MAX : i == 1 ? PT_PLAN_MAX_SHARDS - 1 : UINT64_MAX,
                       &v[i])) {
            return false;
        }
    }
    if (p->n_items == 0 || v[0] != p->n_items) {
        return false;
    }
    struct pt_plan_item *it = &p->items[p->n_items - 1];
    const struct pt_plan_range *prev = it->n_ranges ? &p->ranges[p->n_ranges - 1] : NULL;
    if (v[3] <= v[2] || v[2] != (prev ? prev->r.end : 0) || v[5] == 0 || v[5] > v[3] ||
        (prev != NULL && (v[1] <= prev->shard || v[4] <= prev->r.frames ||
                          v[5] != prev->r.head)) ||
        (prev == NULL && v[4] != 0)) {
        return false; /* not contiguous, shards not ascending, frames not growing */
    }
    if (p->n_ranges == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct pt_plan_range *n = realloc(p->ranges, nc * sizeof *n);
        if (n == NULL) {
            return false;
        }
        p->ranges = n;
        *cap = nc;
    }
    struct pt_plan_range *r = &p->ranges[p->n_ranges];
    memset(r, 0, sizeof *r);
    if (!parse_sha(f[6], r->sha256) || r->sha256[0] == '\0') {
        return false;
    }
    r->r = (struct pt_byte_range){.item = (uint32_t)v[0], .offset = v[2], .end = v[3],
                                  .frames = v[4], .head = v[5]};
    r->shard = (unsigned)v[1];
    if (it->n_ranges++ == 0) {
        it->first_range = p->n_ranges;
    }
    p->n_ranges++;
    return true;
}

/* The ranges of every item cover it whole, the first one in the item's shard. */
static bool ranges_whole(const struct pt_plan *p)
{
    for (size_t i = 0; i < p->n_items; i++) {
        const struct pt_plan_item *it = &p->items[i];
        if (it->n_ranges == 0) {
            continue;
        }
        const struct pt_plan_range *a = &p->ranges[it->first_range],
                                   *z = &p->ranges[it->first_range + it->n_ranges - 1];
        if (it->n_ranges < 2 || a->shard != it->shard || z->r.end != it->size ||
            it->sha256[0] == '\0' || z->shard >= p->shards) {
            return false;
        }
    }
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
static bool parse_line(struct pt_plan *p, const char *k, char *v, size_t cap[3], bool *ended)
{
    size_t *in_cap = &cap[1];
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
    if (strcmp(k, "image-host") == 0) {
        const char *s = get_path(v), *eq = s != NULL ? strrchr(s, '=') : NULL;
        struct pt_addr a;
        return eq != NULL && eq != s && pt_addr_parse(eq + 1, &a) &&
               p->n_image_hosts < PT_MAX_IMAGE_HOSTS &&
               (p->image_hosts[p->n_image_hosts] = strdup(s)) != NULL && ++p->n_image_hosts;
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
        return parse_item(p, v, &cap[0]);
    }
    if (strcmp(k, "range") == 0) {
        return parse_range(p, v, &cap[2]);
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
    size_t lcap = 0, cap[3] = {0, 0, 0}, lineno = 0;
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
        } else if (ended || v == NULL || !parse_line(p, line, v, cap, &ended)) {
            rc = PT_EMALFORMED;
        }
        key = key || strcmp(line, "key") == 0;
    }
    free(line);
    fclose(f);
    for (size_t i = 0; rc == PT_OK && i < p->n_items; i++) {
        rc = p->items[i].shard < p->shards ? PT_OK : PT_EMALFORMED;
    }
    if (rc == PT_OK && !ranges_whole(p)) {
        rc = PT_EMALFORMED;
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
