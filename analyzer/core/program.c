/*
 * program.c - the helper programs phitrace may run (see program.h).
 */
#include "program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pt_find_program(const char *env, const char *const *names, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    const char *set = getenv(env);
    if (set != NULL && set[0] != '\0') {
        if (strcmp(set, "none") != 0 && access(set, X_OK) == 0) {
            snprintf(out, cap, "%s", set);
        }
        return;
    }
    const char *path = getenv("PATH");
    for (size_t k = 0; k < n && out[0] == '\0'; k++) {
        const char *p = path != NULL ? path : "/usr/bin:/bin";
        while (*p != '\0' && out[0] == '\0') {
            size_t l = strcspn(p, ":");
            char cand[4096];
            int w = snprintf(cand, sizeof cand, "%.*s/%s", (int)(l < 4000 ? l : 4000), p,
                             names[k]);
            if (l > 0 && w > 0 && access(cand, X_OK) == 0) {
                snprintf(out, cap, "%s", cand);
            }
            p += l + (p[l] == ':');
        }
    }
}
