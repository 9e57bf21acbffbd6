/*
 * yara_scan.c - YARA over stored objects (see yara_scan.h).
 *
 * Trust boundary: the scanned bytes are untrusted and only ever handed to libyara as a
 * bounded buffer; rule files are the investigator's, compiled with errors reported, never
 * executed otherwise.
 */
#include "yara_scan.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <yara.h>

#include "../core/limits.h"

struct pt_yara {
    YR_RULES *rules;
    unsigned n_rules;
};

struct hit {
    const YR_RULE *rule;
    uint64_t offset;
    unsigned strings;
};

struct pt_yara_scanner {
    YR_SCANNER *sc;
    size_t window, overlap;
    /* the scan in progress */
    struct hit *hits;
    size_t n, cap;
    uint64_t win_start;
    size_t win_len;
    bool last;
    bool too_many;
    int zeros; /* -1 not probed; 1: some string of the rules matches in zero bytes */
    void (*anomaly)(void *arg, uint64_t off, enum pt_anom kind, const char *detail);
    void *arg;
};

static const char *const externals[] = {"filename", "protocol", "direction", "mime"};

struct cstate {
    FILE *warn;
    char *err;
    size_t errlen;
    unsigned errors, warnings;
};

static void compiler_cb(int level, const char *file, int line, const YR_RULE *rule,
                        const char *message, void *user)
{
    (void)rule;
    struct cstate *c = user;
    if (level == YARA_ERROR_LEVEL_ERROR) {
        if (c->errors++ == 0 && c->err != NULL) {
            snprintf(c->err, c->errlen, "%s:%d: %s", file ? file : "?", line, message);
        }
        if (c->warn != NULL) {
            fprintf(c->warn, "error: %s:%d: %s\n", file ? file : "?", line, message);
        }
    } else {
        c->warnings++;
        if (c->warn != NULL) {
            fprintf(c->warn, "warning: %s:%d: %s\n", file ? file : "?", line, message);
        }
    }
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rule files of a directory, sorted; returns the count (names owned by the caller). */
static size_t rule_files(const char *dir, char **names, size_t max)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL && n < max) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] != '.' && ((l > 4 && strcmp(e->d_name + l - 4, ".yar") == 0) ||
                                    (l > 5 && strcmp(e->d_name + l - 5, ".yara") == 0))) {
            names[n++] = strdup(e->d_name);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    qsort(names, n, sizeof *names, cmp_name);
    return n;
}

static pt_status compile(const char *const *dirs, size_t n_dirs, struct cstate *cs,
                         struct pt_yara_file *files, size_t max, size_t *nf, YR_RULES **out)
{
    YR_COMPILER *c = NULL;
    *out = NULL;
    if (yr_compiler_create(&c) != ERROR_SUCCESS) {
        return PT_ENOMEM;
    }
    yr_compiler_set_callback(c, compiler_cb, cs);
    for (size_t i = 0; i < sizeof externals / sizeof externals[0]; i++) {
        yr_compiler_define_string_variable(c, externals[i], "");
    }
    pt_status rc = PT_OK;
    for (size_t d = 0; d < n_dirs && rc == PT_OK; d++) {
        if (dirs[d] == NULL) {
            continue;
        }
        char *names[512];
        size_t n = rule_files(dirs[d], names, 512);
        for (size_t i = 0; i < n; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dirs[d], names[i]);
            FILE *f = fopen(path, "r");
            if (f == NULL) {
                snprintf(cs->err, cs->errlen, "cannot open %s", path);
                rc = PT_EIO;
            } else {
                if (yr_compiler_add_file(c, f, names[i], path) > 0) {
                    rc = PT_EUSAGE;
                }
                fclose(f);
            }
            if (nf != NULL && *nf < max) {
                snprintf(files[*nf].path, sizeof files[*nf].path, "%.511s", path);
                if (pt_sha256_file(path, files[*nf].sha256, NULL) == PT_OK) {
                    (*nf)++;
                }
            }
            free(names[i]);
            if (rc != PT_OK) { /* a compiler that reported errors cannot be used again */
                for (size_t k = i + 1; k < n; k++) {
                    free(names[k]);
                }
                break;
            }
        }
    }
    if (rc == PT_OK && yr_compiler_get_rules(c, out) != ERROR_SUCCESS) {
        rc = PT_ENOMEM;
    }
    yr_compiler_destroy(c);
    return rc;
}

pt_status pt_yara_load(const char *const *dirs, size_t n_dirs, FILE *warn,
                       struct pt_yara_file *files, size_t max, size_t *n, struct pt_yara **out,
                       char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (yr_initialize() != ERROR_SUCCESS) {
        snprintf(err, errlen, "libyara could not be initialised");
        return PT_EINTERNAL;
    }
    struct pt_yara *y = calloc(1, sizeof *y);
    if (y == NULL) {
        yr_finalize();
        return PT_ENOMEM;
    }
    struct cstate cs = {.warn = warn, .err = err, .errlen = errlen};
    pt_status rc = compile(dirs, n_dirs, &cs, files, max, n, &y->rules);
    if (rc != PT_OK) {
        free(y);
        yr_finalize();
        return rc;
    }
    const YR_RULE *r;
    yr_rules_foreach(y->rules, r)
    {
        y->n_rules++;
    }
    *out = y;
    return PT_OK;
}

void pt_yara_free(struct pt_yara *y)
{
    if (y == NULL) {
        return;
    }
    yr_rules_destroy(y->rules);
    free(y);
    yr_finalize();
}

unsigned pt_yara_rule_count(const struct pt_yara *y)
{
    return y ? y->n_rules : 0;
}

pt_status pt_yara_check(const char *dir, bool strict, FILE *out)
{
    if (yr_initialize() != ERROR_SUCCESS) {
        return PT_EINTERNAL;
    }
    char err[1024] = "";
    struct cstate cs = {.warn = out, .err = err, .errlen = sizeof err};
    struct pt_yara_file files[256];
    size_t nf = 0;
    YR_RULES *rules = NULL;
    const char *dirs[1] = {dir};
    pt_status rc = compile(dirs, 1, &cs, files, 256, &nf, &rules);
    unsigned n_rules = 0;
    if (rules != NULL) {
        const YR_RULE *r;
        yr_rules_foreach(rules, r)
        {
            n_rules++;
        }
        yr_rules_destroy(rules);
    }
    for (size_t i = 0; i < nf; i++) {
        fprintf(out, "file %s sha256 %s\n", files[i].path, files[i].sha256);
    }
    fprintf(out, "%zu file(s), %u rule(s), %u error(s), %u warning(s)%s\n", nf, n_rules,
            cs.errors, cs.warnings,
            cs.warnings && strict ? " (warnings are errors with --strict)" : "");
    yr_finalize();
    if (rc == PT_OK && nf == 0) {
        fprintf(out, "no .yar or .yara file in %s\n", dir);
        return PT_EUSAGE;
    }
    if (rc == PT_OK && strict && cs.warnings > 0) {
        return PT_EUSAGE;
    }
    return rc;
}

struct pt_yara_scanner *pt_yara_scanner_new(const struct pt_yara *y, size_t window, size_t overlap)
{
    struct pt_yara_scanner *s = calloc(1, sizeof *s);
    if (s == NULL || yr_scanner_create(y->rules, &s->sc) != ERROR_SUCCESS) {
        free(s);
        return NULL;
    }
    s->window = window ? window : PT_YARA_WINDOW;
    s->overlap = overlap ? overlap : PT_YARA_OVERLAP;
    if (s->overlap >= s->window) {
        s->overlap = s->window / 2;
    }
    yr_scanner_set_flags(s->sc, SCAN_FLAGS_NO_TRYCATCH | SCAN_FLAGS_REPORT_RULES_MATCHING);
    yr_scanner_set_timeout(s->sc, PT_YARA_TIMEOUT_S);
    s->zeros = -1;
    return s;
}

void pt_yara_scanner_free(struct pt_yara_scanner *s)
{
    if (s == NULL) {
        return;
    }
    yr_scanner_destroy(s->sc);
    free(s->hits);
    free(s);
}

static void add_hit(struct pt_yara_scanner *s, const YR_RULE *rule, uint64_t off, unsigned cnt)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->hits[i].rule == rule) {
            if (off < s->hits[i].offset) {
                s->hits[i].offset = off;
            }
            s->hits[i].strings += cnt;
            return;
        }
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        struct hit *nh = realloc(s->hits, nc * sizeof *nh);
        if (nh == NULL) {
            return;
        }
        s->hits = nh;
        s->cap = nc;
    }
    s->hits[s->n++] = (struct hit){rule, off, cnt};
}

static int scan_cb(YR_SCAN_CONTEXT *ctx, int message, void *data, void *user)
{
    struct pt_yara_scanner *s = user;
    if (message == CALLBACK_MSG_TOO_MANY_MATCHES) {
        if (!s->too_many && s->anomaly != NULL) {
            const YR_STRING *str = data;
            char d[160];
            snprintf(d, sizeof d, "string %s matched more than %d times; it is not followed "
                                  "further in this object", str->identifier, YR_MAX_STRING_MATCHES);
            s->anomaly(s->arg, s->win_start, PT_ANOM_YARA_TOO_MANY_MATCHES, d);
        }
        s->too_many = true;
        return CALLBACK_CONTINUE;
    }
    if (message != CALLBACK_MSG_RULE_MATCHING) {
        return CALLBACK_CONTINUE;
    }
    const YR_RULE *rule = data;
    /* a match belongs to this window when it starts before the overlap with the next one */
    uint64_t keep_end = s->last ? UINT64_MAX : s->win_start + (s->win_len - s->overlap);
    uint64_t best = UINT64_MAX;
    unsigned cnt = 0, any = 0;
    const YR_STRING *str;
    yr_rule_strings_foreach(rule, str)
    {
        /* libyara's match list lives in its own arena, not always aligned for YR_MATCH:
         * each node is copied out before it is read (yr_string_matches_foreach would not) */
        const YR_MATCH *m = ctx->matches[str->idx].head;
        while (m != NULL) {
            YR_MATCH mm;
            memcpy(&mm, m, sizeof mm);
            if (!mm.is_private) {
                any++;
                uint64_t abs = s->win_start + (uint64_t)(mm.base + mm.offset);
                if (abs < keep_end) {
                    cnt++;
                    if (abs < best) {
                        best = abs;
                    }
                }
            }
            m = mm.next;
        }
    }
    if (any == 0) {
        if (s->win_start == 0) { /* a condition-only rule: the first window decides */
            add_hit(s, rule, 0, 0);
        }
    } else if (cnt > 0) {
        add_hit(s, rule, best, cnt);
    }
    return CALLBACK_CONTINUE;
}

static const char *meta(const YR_RULE *rule, const char *name)
{
    const YR_META *m;
    yr_rule_metas_foreach(rule, m)
    {
        if (strcmp(m->identifier, name) == 0 && m->type == META_TYPE_STRING) {
            return m->string;
        }
    }
    return "";
}

static int cmp_hit(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    if (x->offset != y->offset) {
        return x->offset < y->offset ? -1 : 1;
    }
    return strcmp(x->rule->identifier, y->rule->identifier);
}

/* Whether any string of the rules (private ones too) matches anywhere in zero bytes: a
 * scan of 64 KiB of zeros (more than any match is long: YR_RE_SCAN_LIMIT, hex jumps are
 * bounded below it), every rule reported, matching or not. */
static int probe_cb(YR_SCAN_CONTEXT *ctx, int message, void *data, void *user)
{
    int *found = user;
    if (message == CALLBACK_MSG_RULE_MATCHING || message == CALLBACK_MSG_RULE_NOT_MATCHING) {
        const YR_RULE *rule = data;
        const YR_STRING *str;
        yr_rule_strings_foreach(rule, str)
        {
            *found |= ctx->matches[str->idx].head != NULL;
        }
    } else if (message == CALLBACK_MSG_TOO_MANY_MATCHES) {
        *found = 1;
    }
    return CALLBACK_CONTINUE;
}

static int zeros_match(struct pt_yara_scanner *s)
{
    static const size_t n = 64u * 1024;
    uint8_t *z = calloc(1, n);
    int found = 1; /* unknown counts as a match: nothing is skipped */
    if (z != NULL) {
        found = 0;
        yr_scanner_set_flags(s->sc, SCAN_FLAGS_NO_TRYCATCH | SCAN_FLAGS_REPORT_RULES_MATCHING |
                                        SCAN_FLAGS_REPORT_RULES_NOT_MATCHING);
        yr_scanner_set_callback(s->sc, probe_cb, &found);
        if (yr_scanner_scan_mem(s->sc, z, n) != ERROR_SUCCESS) {
            found = 1;
        }
        yr_scanner_set_flags(s->sc, SCAN_FLAGS_NO_TRYCATCH | SCAN_FLAGS_REPORT_RULES_MATCHING);
        free(z);
    }
    return found;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

void pt_yara_scan(struct pt_yara_scanner *s, const uint8_t *p, size_t n,
                  const struct pt_yara_ext *ext,
                  void (*match)(void *arg, const struct pt_yara_match *m),
                  void (*anomaly)(void *arg, uint64_t off, enum pt_anom kind, const char *detail),
                  void *arg)
{
    s->n = 0;
    s->too_many = false;
    s->anomaly = anomaly;
    s->arg = arg;
    const char *vals[4] = {ext->filename, ext->protocol, ext->direction, ext->mime};
    for (size_t i = 0; i < 4; i++) {
        yr_scanner_define_string_variable(s->sc, externals[i], vals[i] ? vals[i] : "");
    }
    if (s->zeros < 0 && n > s->window) {
        s->zeros = zeros_match(s); /* with the externals of this scan */
    }
    yr_scanner_set_callback(s->sc, scan_cb, s);
    size_t step = s->window - s->overlap;
    for (uint64_t start = 0;; start += step) {
        s->win_start = start;
        s->win_len = n - start < s->window ? n - (size_t)start : s->window;
        s->last = start + s->win_len >= n;
        /* A window after the first that is all zero bytes (a disk image's empty space) gives
         * nothing when no string matches in zeros: a rule counts in a later window only by a
         * string match in it (scan_cb; condition-only rules are decided by the first), and a
         * match cannot start in this window and end past it (the overlap is longer than any
         * match). Skipped, it costs a compare instead of the automaton's walk. */
        if (start > 0 && s->zeros == 0 && all_zero(p + start, s->win_len)) {
            if (s->last) {
                break;
            }
            continue;
        }
        int rc = yr_scanner_scan_mem(s->sc, p + start, s->win_len);
        if (rc == ERROR_SCAN_TIMEOUT && anomaly != NULL) {
            anomaly(arg, start, PT_ANOM_YARA_TIMEOUT, "rule scan timed out in this window");
        } else if (rc != ERROR_SUCCESS && anomaly != NULL) {
            char d[64];
            snprintf(d, sizeof d, "libyara error %d", rc);
            anomaly(arg, start, PT_ANOM_YARA_ERROR, d);
        }
        if (s->last) {
            break;
        }
    }
    if (s->n > 1) {
        qsort(s->hits, s->n, sizeof *s->hits, cmp_hit);
    }
    for (size_t i = 0; i < s->n; i++) {
        const YR_RULE *r = s->hits[i].rule;
        char tags[256] = "";
        const char *t;
        size_t k = 0;
        yr_rule_tags_foreach(r, t)
        {
            int w = snprintf(tags + k, sizeof tags - k, "%s%s", k ? " " : "", t);
            if (w > 0 && (size_t)w < sizeof tags - k) {
                k += (size_t)w;
            }
        }
        const char *category = meta(r, "category");
        struct pt_yara_match m = {.rule = r->identifier, .ns = r->ns->name, .tags = tags,
                                  .description = meta(r, "description"),
                                  .category = category[0] ? category : meta(r, "phi_class"),
                                  .severity = meta(r, "severity"),
                                  .reference = meta(r, "reference"),
                                  .offset = s->hits[i].offset, .strings = s->hits[i].strings};
        match(arg, &m);
    }
}
