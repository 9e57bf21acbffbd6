/* inputs.c - input expansion (see inputs.h). */
#include "inputs.h"

#include <dirent.h>
#include <errno.h>
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
    l->v[l->n++] = (struct pt_input){p, size, skip};
    l->total_bytes += size;
    return PT_OK;
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
            if (excl == NULL || lst.st_dev != excl->st_dev || lst.st_ino != excl->st_ino) {
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
    return PT_OK;
}

void pt_inputs_fini(struct pt_input_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}
