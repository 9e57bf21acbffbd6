/* inputs.c - input expansion (see inputs.h). */
#include "inputs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/limits.h"

static pt_status add(struct pt_input_list *l, const char *path, uint64_t size, const char *skip)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        struct pt_input *nv = realloc(l->v, nc * sizeof *nv);
        if (nv == NULL) {
            return PT_ENOMEM;
        }
        l->v = nv;
        l->cap = nc;
    }
    char *p = strdup(path);
    if (p == NULL) {
        return PT_ENOMEM;
    }
    l->v[l->n++] = (struct pt_input){.path = p, .size = size, .skip = skip};
    l->total_bytes += size;
    return PT_OK;
}

/* A phitrace case: evidence.db beside objects/ (a finished case, or the CASE.partial-XXXXXX
 * of a killed --force run). Never evidence, even inside a directory given as input. */
static bool is_case(const char *dir)
{
    char p[PATH_MAX];
    struct stat st;
    snprintf(p, sizeof p, "%s/evidence.db", dir);
    if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
        return false;
    }
    snprintf(p, sizeof p, "%s/objects", dir);
    return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static pt_status walk(struct pt_input_list *l, const char *dir, const struct stat *excl,
                      unsigned depth)
{
    if (depth > PT_MAX_DIR_DEPTH) {
        return add(l, dir, 0, "directory nesting deeper than PT_MAX_DIR_DEPTH");
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        return add(l, dir, 0, "directory cannot be opened");
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    pt_status rc = PT_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof *nn);
            if (nn == NULL) {
                rc = PT_ENOMEM;
                break;
            }
            names = nn;
        }
        if ((names[n] = strdup(e->d_name)) == NULL) {
            rc = PT_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == PT_OK) {
        qsort(names, n, sizeof *names, cmp_names);
    }
    for (size_t i = 0; i < n && rc == PT_OK; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *p = malloc(len);
        if (p == NULL) {
            rc = PT_ENOMEM;
            break;
        }
        snprintf(p, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
        struct pt_input_list *ll = l;
        struct stat lst, st;
        if (lstat(p, &lst) != 0) {
            rc = add(ll, p, 0, "cannot be examined (lstat failed)");
        } else if (S_ISLNK(lst.st_mode)) {
            if (stat(p, &st) != 0) {
                rc = add(ll, p, 0, "dangling symbolic link");
            } else if (S_ISREG(st.st_mode)) {
                rc = add(ll, p, (uint64_t)st.st_size, NULL);
            } else {
                rc = add(ll, p, 0, "symbolic link to a directory or device is not followed");
            }
        } else if (S_ISDIR(lst.st_mode)) {
            bool self = excl != NULL && lst.st_dev == excl->st_dev && lst.st_ino == excl->st_ino;
            if (!self && is_case(p)) {
                rc = add(ll, p, 0, "a phitrace case directory (the output of a run, not "
                                   "evidence)");
            } else if (!self) {
                rc = walk(ll, p, excl, depth + 1);
            }
        } else if (S_ISREG(lst.st_mode)) {
            rc = add(ll, p, (uint64_t)lst.st_size, NULL);
        } else {
            rc = add(ll, p, 0, "not a regular file (device, socket or pipe)");
        }
        free(p);
    }
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    return rc;
}

/* `path` made absolute against the working directory (not resolved: a link stays a link), so
 * the case records where each input is whatever directory `verify` later runs in. Owned. */
static char *absolute(const char *path)
{
    if (path[0] == '/') {
        return strdup(path);
    }
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) == NULL) {
        return NULL;
    }
    while (path[0] == '.' && path[1] == '/') {
        path += 2;
        while (path[0] == '/') {
            path++;
        }
    }
    bool dot = strcmp(path, ".") == 0 || path[0] == '\0';
    size_t len = strlen(cwd) + strlen(path) + 2;
    char *p = malloc(len);
    if (p != NULL) {
        snprintf(p, len, "%s%s%s", cwd, dot || strcmp(cwd, "/") == 0 ? "" : "/", dot ? "" : path);
    }
    return p;
}

int pt_inputs_segment(const char *path, size_t *blen)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot == NULL || (slash != NULL && dot < slash) || dot == path || dot[-1] == '/') {
        return -1;
    }
    const char *d = dot + 1;
    size_t n = strlen(d);
    const char *num = NULL;
    if (n == 3 && isdigit((unsigned char)d[0])) {
        num = d; /* .001 */
    } else if (n == 3 && strchr("EeLlSs", d[0]) != NULL) {
        num = d + 1; /* .E01 */
    } else if (n == 4 && strchr("EeLl", d[0]) != NULL && (d[1] == 'x' || d[1] == 'X')) {
        num = d + 2; /* .Ex01 */
    }
    if (num == NULL) {
        return -1;
    }
    int v = 0;
    for (const char *c = num; *c != '\0'; c++) {
        if (!isdigit((unsigned char)*c)) {
            return -1;
        }
        v = v * 10 + (*c - '0');
    }
    if (num != d && v == 0) {
        return -1; /* .E00 is no segment */
    }
    *blen = (size_t)(num - path);
    return v;
}

/* A packet capture or gzip file (by its first bytes) is never a split image's first segment:
 * captures numbered .001, .002 are separate captures. */
static bool capture_or_gzip(const char *path)
{
    uint8_t m[4] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return false;
    }
    ssize_t n = read(fd, m, sizeof m);
    close(fd);
    uint32_t v = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    return n >= 2 && ((m[0] == 0x1f && m[1] == 0x8b) ||
                      (n == 4 && (v == 0xa1b2c3d4 || v == 0xd4c3b2a1 || v == 0xa1b23c4d ||
                                  v == 0x4d3cb2a1 || v == 0x0a0d0d0a)));
}

/* Fold consecutive segments of a split image into the first one's entry. */
static pt_status group_segments(struct pt_input_list *l)
{
    size_t out = 0;
    for (size_t i = 0; i < l->n;) {
        size_t blen = 0, b2 = 0, j = i + 1;
        int seq = l->v[i].skip ? -1 : pt_inputs_segment(l->v[i].path, &blen);
        bool digits = seq >= 0 && isdigit((unsigned char)l->v[i].path[blen]);
        if ((seq == 1 || (seq == 0 && digits)) && !capture_or_gzip(l->v[i].path)) {
            int want = seq + 1;
            while (j < l->n && l->v[j].skip == NULL &&
                   pt_inputs_segment(l->v[j].path, &b2) == want && b2 == blen &&
                   memcmp(l->v[j].path, l->v[i].path, blen) == 0) {
                j++, want++;
            }
        }
        struct pt_input in = l->v[i];
        if (j - i >= 2) {
            size_t k = j - i;
            in.seg = malloc(k * sizeof *in.seg);
            in.seg_size = malloc(k * sizeof *in.seg_size);
            if (in.seg == NULL || in.seg_size == NULL) {
                free(in.seg);
                free(in.seg_size);
                return PT_ENOMEM;
            }
            in.n_seg = k;
            in.size = 0;
            for (size_t m = 0; m < k; m++) {
                in.seg[m] = l->v[i + m].path;
                in.seg_size[m] = l->v[i + m].size;
                in.size += l->v[i + m].size;
            }
            in.path = strdup(in.seg[0]);
            if (in.path == NULL) {
                free(in.seg);
                free(in.seg_size);
                return PT_ENOMEM;
            }
            int last = pt_inputs_segment(in.seg[k - 1], &b2);
            for (size_t m = j; m < l->n; m++) {
                int s2 = pt_inputs_segment(l->v[m].path, &b2);
                if (s2 > last && b2 == blen && memcmp(l->v[m].path, in.path, blen) == 0) {
                    in.seg_hole = true;
                }
            }
        }
        l->v[out++] = in;
        i = j;
    }
    l->n = out;
    return PT_OK;
}

pt_status pt_inputs_expand(char *const *paths, size_t n_paths, const char *exclude,
                           struct pt_input_list *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct stat excl_st;
    const struct stat *excl = NULL;
    if (exclude != NULL && stat(exclude, &excl_st) == 0) {
        excl = &excl_st;
    }
    for (size_t i = 0; i < n_paths; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            snprintf(err, errlen, "input %s: %s", paths[i], strerror(errno));
            pt_inputs_fini(out);
            return PT_EUSAGE;
        }
        pt_status rc;
        char *abs = absolute(paths[i]);
        if (abs == NULL) {
            rc = PT_ENOMEM;
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(out, abs, excl, 0);
        } else if (S_ISREG(st.st_mode)) {
            rc = add(out, abs, (uint64_t)st.st_size, NULL);
        } else {
            rc = add(out, abs, 0, "not a regular file (device, socket or pipe)");
        }
        free(abs);
        if (rc != PT_OK) {
            pt_inputs_fini(out);
            return rc;
        }
    }
    pt_status rc = group_segments(out);
    if (rc != PT_OK) {
        pt_inputs_fini(out);
    }
    return rc;
}

void pt_inputs_fini(struct pt_input_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        for (size_t k = 0; k < l->v[i].n_seg; k++) {
            free(l->v[i].seg[k]);
        }
        free(l->v[i].seg);
        free(l->v[i].seg_size);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}
