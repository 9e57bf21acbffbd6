/*
 * config.c - the thresholds of the heuristics (signatures/heuristics.conf, one
 * key per PT_THRESHOLD line of heuristics.def) and the cloud endpoints.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/conf.h"
#include "verdict_int.h"

static const struct {
    const char *key;
    size_t off;
} conf_keys[] = {
#define PT_HEURISTIC_FAMILY(family)
#define PT_HEURISTIC(id, name, role, bytes, mark)
#define PT_THRESHOLD(key) {#key, offsetof(struct pt_heur_conf, key)},
#include "heuristics.def"
#undef PT_HEURISTIC_FAMILY
#undef PT_HEURISTIC
#undef PT_THRESHOLD
};

pt_status pt_heur_conf_load(const char *dir, struct pt_heur_conf *c, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/heuristics.conf", dir);
    struct pt_conf cf;
    if (!pt_conf_open(&cf, path)) {
        snprintf(err, errlen, "cannot open %s (heuristic thresholds)", path);
        return PT_EIO;
    }
    unsigned seen = 0;
    for (char *line; (line = pt_conf_next(&cf)) != NULL;) {
        char *k = NULL, *v = NULL;
        if (!pt_conf_kv(line, &k, &v)) {
            snprintf(err, errlen, "%s:%u: expected key = value", path, cf.ln);
            pt_conf_close(&cf);
            return PT_EUSAGE;
        }
        if (strcmp(k, "known_ae_titles") == 0) {
            snprintf(c->known_ae_titles, sizeof c->known_ae_titles, "%s", v);
            continue;
        }
        bool ok = false;
        for (size_t i = 0; i < sizeof conf_keys / sizeof conf_keys[0]; i++) {
            if (strcmp(k, conf_keys[i].key) == 0) {
                char *end = NULL;
                double d = strtod(v, &end);
                if (end == v || *end != '\0') {
                    break;
                }
                memcpy((char *)c + conf_keys[i].off, &d, sizeof d); /* a double field */
                ok = true;
                seen++;
            }
        }
        if (!ok) {
            snprintf(err, errlen, "%s:%u: unknown key or bad number: %s", path, cf.ln, k);
            pt_conf_close(&cf);
            return PT_EUSAGE;
        }
    }
    pt_conf_close(&cf);
    if (seen < sizeof conf_keys / sizeof conf_keys[0]) {
        snprintf(err, errlen, "%s: %u of %zu thresholds set; every key must be given", path, seen,
                 sizeof conf_keys / sizeof conf_keys[0]);
        return PT_EUSAGE;
    }
    snprintf(path, sizeof path, "%s/cloud_endpoints.txt", dir);
    if (pt_conf_open(&cf, path)) { /* optional */
        for (char *line; (line = pt_conf_next(&cf)) != NULL && c->n_cloud < 256;) {
            if (strlen(line) < sizeof c->cloud[0]) {
                snprintf(c->cloud[c->n_cloud++], sizeof c->cloud[0], "%s", line);
            }
        }
        pt_conf_close(&cf);
    }
    snprintf(path, sizeof path, "%s/phi_files.txt", dir);
    if (pt_conf_open(&cf, path)) { /* optional: heur_file_access.c */
        for (char *line; (line = pt_conf_next(&cf)) != NULL && c->n_phi_files < 128;) {
            if (strlen(line) < sizeof c->phi_files[0]) {
                snprintf(c->phi_files[c->n_phi_files++], sizeof c->phi_files[0], "%s", line);
            }
        }
        pt_conf_close(&cf);
    }
    return PT_OK;
}
