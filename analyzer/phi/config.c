/*
 * config.c - the PHI settings of the signatures directory (see config.h).
 *
 * Trust boundary: the files are the investigator's configuration, still parsed defensively:
 * lines are bounded, unknown keys are errors with the line number.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/conf.h"

#define MAX_BLOCKS 4096
#define MAX_CODES 131072
#define MAX_MASKS 64

static struct {
    char lo[4], hi[4];
} blocks[MAX_BLOCKS];
static size_t n_blocks;
static char (*codes)[8]; /* sorted, without the point */
static size_t n_codes;
static char masks[MAX_MASKS][32];
static size_t n_masks;

static int cmp_code(const void *a, const void *b)
{
    return strcmp(a, b);
}

void pt_phi_config_free(void)
{
    free(codes);
    codes = NULL;
    n_codes = n_blocks = n_masks = 0;
}

void pt_phi_config_add_mask(const char *mask)
{
    if (n_masks < MAX_MASKS && strlen(mask) < sizeof masks[0]) {
        snprintf(masks[n_masks++], sizeof masks[0], "%s", mask);
    }
}

static bool code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 8 || !isupper((unsigned char)s[0]) || !isdigit((unsigned char)s[1])) {
        return false;
    }
    for (size_t i = 2; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && !(s[i] == '.' && i == 3)) {
            return false;
        }
    }
    return true;
}

static pt_status load_icd(const char *path, char *err, size_t errlen)
{
    struct pt_conf cf;
    if (!pt_conf_open(&cf, path)) {
        snprintf(err, errlen, "cannot open %s (the ICD-10-CM table); use --signatures DIR", path);
        return PT_EIO;
    }
    if (codes == NULL && (codes = calloc(MAX_CODES, sizeof *codes)) == NULL) {
        pt_conf_close(&cf);
        return PT_ENOMEM;
    }
    pt_status rc = PT_OK;
    for (char *line; (line = pt_conf_next(&cf)) != NULL;) {
        char *sp = strpbrk(line, " \t"); /* CMS files: "A000    Cholera due to ..." */
        if (sp != NULL) {
            *sp = '\0';
        }
        char *dash = strchr(line, '-');
        if (dash != NULL && dash - line == 3 && strlen(dash + 1) == 3 && n_blocks < MAX_BLOCKS) {
            memcpy(blocks[n_blocks].lo, line, 3);
            memcpy(blocks[n_blocks].hi, dash + 1, 3);
            n_blocks++;
        } else if (code_ok(line) && n_codes < MAX_CODES) {
            size_t k = 0;
            for (size_t i = 0; line[i] != '\0' && k < 7; i++) {
                if (line[i] != '.') {
                    codes[n_codes][k++] = line[i];
                }
            }
            codes[n_codes++][k] = '\0';
        } else {
            snprintf(err, errlen, "%s:%u: not a code or block: %s", path, cf.ln, line);
            rc = PT_EUSAGE;
            break;
        }
    }
    pt_conf_close(&cf);
    qsort(codes, n_codes, sizeof *codes, cmp_code);
    return rc;
}

static pt_status load_conf(const char *path, char *err, size_t errlen)
{
    struct pt_conf cf;
    if (!pt_conf_open(&cf, path)) {
        return PT_OK; /* optional */
    }
    pt_status rc = PT_OK;
    for (char *line; (line = pt_conf_next(&cf)) != NULL;) {
        char *key = NULL, *val = NULL;
        if (!pt_conf_kv(line, &key, &val)) {
            snprintf(err, errlen, "%s:%u: expected key = value", path, cf.ln);
            rc = PT_EUSAGE;
            break;
        }
        if (strcmp(key, "mrn_mask") == 0 && val[0] != '\0' && strlen(val) < 32) {
            pt_phi_config_add_mask(val);
        } else {
            snprintf(err, errlen, "%s:%u: unknown setting \"%s\"", path, cf.ln, key);
            rc = PT_EUSAGE;
            break;
        }
    }
    pt_conf_close(&cf);
    return rc;
}

pt_status pt_phi_config_load(const char *dir, struct pt_phi_config_file *files, size_t max,
                             size_t *n_files, char *err, size_t errlen)
{
    static const char *const names[] = {"icd10cm.txt", "phi.conf"};
    *n_files = 0;
    for (size_t i = 0; i < 2; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        pt_status rc = i == 0 ? load_icd(path, err, errlen) : load_conf(path, err, errlen);
        if (rc != PT_OK) {
            return rc;
        }
        if (*n_files < max && pt_sha256_file(path, files[*n_files].sha256, NULL) == PT_OK) {
            snprintf(files[*n_files].name, sizeof files[*n_files].name, "%s", names[i]);
            (*n_files)++;
        }
    }
    return PT_OK;
}

bool pt_phi_config_icd10(const char *code)
{
    char c[8];
    size_t k = 0;
    for (size_t i = 0; code[i] != '\0' && k < 7; i++) {
        if (code[i] != '.') {
            c[k++] = (char)toupper((unsigned char)code[i]);
        }
    }
    c[k] = '\0';
    if (k < 3) {
        return false;
    }
    if (n_codes > 0 && bsearch(c, codes, n_codes, sizeof *codes, cmp_code) != NULL) {
        return true;
    }
    for (size_t i = 0; i < n_blocks; i++) {
        if (memcmp(c, blocks[i].lo, 3) >= 0 && memcmp(c, blocks[i].hi, 3) <= 0) {
            return true;
        }
    }
    return false;
}

bool pt_phi_config_has_masks(void)
{
    return n_masks > 0;
}

bool pt_phi_config_mrn_mask(const char *s, size_t n)
{
    for (size_t m = 0; m < n_masks; m++) {
        const char *k = masks[m];
        if (strlen(k) != n) {
            continue;
        }
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            unsigned char c = (unsigned char)s[i];
            switch (k[i]) {
                case 'A': ok = isupper(c) != 0; break;
                case '#': ok = isdigit(c) != 0; break;
                case '?': ok = isalnum(c) != 0; break;
                default: ok = c == (unsigned char)k[i]; break;
            }
        }
        if (ok) {
            return true;
        }
    }
    return false;
}
