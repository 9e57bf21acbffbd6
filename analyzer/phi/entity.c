/*
 * entity.c - joining PHI records into individuals (see entity.h).
 */
#include "entity.h"

#include <stdlib.h>
#include <string.h>

/* ---- union-find
 * ------------------------------------------------------------------------------------ */

uint32_t pt_uf_find(struct uf *u, uint32_t x)
{
    while (u->parent[x] != x) {
        u->parent[x] = u->parent[u->parent[x]];
        x = u->parent[x];
    }
    return x;
}

static bool attrs_conflict(const struct attrs *a, const struct attrs *b)
{
    for (uint32_t i = 0; i < a->n; i++) {
        for (uint32_t j = 0; j < b->n; j++) {
            if (a->v[i].cls == b->v[j].cls && a->v[i].val != b->v[j].val) {
                return true;
            }
        }
    }
    return false;
}

bool pt_uf_attrs_add(struct attrs *a, uint64_t cls, uint64_t val)
{
    for (uint32_t i = 0; i < a->n; i++) {
        if (a->v[i].cls == cls) {
            return a->v[i].val == val;
        }
    }
    if (a->n == a->cap) {
        uint32_t nc = a->cap ? a->cap * 2 : 4;
        struct attr *nv = realloc(a->v, nc * sizeof *nv);
        if (nv == NULL) {
            return true; /* no memory: the value is not kept, the join still happens */
        }
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = (struct attr){cls, val};
    return true;
}

/* Join the components of a and b unless their strong identifiers conflict. */
void pt_uf_union(struct uf *u, uint32_t a, uint32_t b)
{
    a = pt_uf_find(u, a);
    b = pt_uf_find(u, b);
    if (a == b) {
        return;
    }
    if (attrs_conflict(&u->at[a], &u->at[b])) {
        u->refused++;
        return;
    }
    if (u->size[a] < u->size[b]) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    u->parent[b] = a;
    u->size[a] += u->size[b];
    for (uint32_t i = 0; i < u->at[b].n; i++) {
        pt_uf_attrs_add(&u->at[a], u->at[b].v[i].cls, u->at[b].v[i].val);
    }
    free(u->at[b].v);
    u->at[b] = (struct attrs){0};
}

bool pt_uf_add(struct uf *u)
{
    if (u->n == u->cap) {
        size_t nc = u->cap ? u->cap * 2 : 1024;
        uint32_t *np = realloc(u->parent, nc * sizeof *np);
        if (np == NULL) {
            return false;
        }
        u->parent = np;
        uint32_t *ns = realloc(u->size, nc * sizeof *ns);
        if (ns == NULL) {
            return false;
        }
        u->size = ns;
        struct attrs *na = realloc(u->at, nc * sizeof *na);
        if (na == NULL) {
            return false;
        }
        u->at = na;
        u->cap = nc;
    }
    u->parent[u->n] = (uint32_t)u->n;
    u->size[u->n] = 1;
    u->at[u->n] = (struct attrs){0};
    u->n++;
    return true;
}

/* Join record r with the first record that had `key`. */
bool pt_uf_key(struct uf *u, uint64_t key, uint32_t r)
{
    if (key == 0) {
        key = 1;
    }
    if (u->kn * 2 >= u->kcap) {
        size_t nc = u->kcap ? u->kcap * 2 : 4096;
        uint64_t *nk = calloc(nc, sizeof *nk);
        uint32_t *nv = calloc(nc, sizeof *nv);
        if (nk == NULL || nv == NULL) {
            free(nk);
            free(nv);
            return false;
        }
        for (size_t i = 0; i < u->kcap; i++) {
            if (u->keys[i] != 0) {
                size_t h = (size_t)(u->keys[i] & (nc - 1));
                while (nk[h] != 0) {
                    h = (h + 1) & (nc - 1);
                }
                nk[h] = u->keys[i];
                nv[h] = u->vals[i];
            }
        }
        free(u->keys);
        free(u->vals);
        u->keys = nk;
        u->vals = nv;
        u->kcap = nc;
    }
    size_t h = (size_t)(key & (u->kcap - 1));
    while (u->keys[h] != 0) {
        if (u->keys[h] == key) {
            pt_uf_union(u, u->vals[h], r);
            return true;
        }
        h = (h + 1) & (u->kcap - 1);
    }
    u->keys[h] = key;
    u->vals[h] = r;
    u->kn++;
    return true;
}

void pt_uf_free(struct uf *u)
{
    for (size_t i = 0; i < u->n; i++) {
        free(u->at[i].v);
    }
    free(u->at);
    free(u->size);
    free(u->parent);
    free(u->keys);
    free(u->vals);
}

bool pt_uf_has(const struct uf *u, uint64_t key)
{
    if (key == 0) {
        key = 1;
    }
    if (u->kcap == 0) {
        return false;
    }
    size_t h = (size_t)(key & (u->kcap - 1));
    while (u->keys[h] != 0) {
        if (u->keys[h] == key) {
            return true;
        }
        h = (h + 1) & (u->kcap - 1);
    }
    return false;
}

/* The part of a folded name that identifies: FAMILY^GIVEN with the given name's first word
 * only, so "PARKER^SANDRA S", "PARKER^SANDRA^S" and "PARKER^SANDRA" are one key. */
void pt_entity_name_key(char *f)
{
    char *caret = strchr(f, '^');
    if (caret == NULL) {
        return;
    }
    char *g = caret + 1;
    while (*g == ' ') {
        g++;
    }
    size_t k = 0;
    while (g[k] != '\0' && g[k] != ' ' && g[k] != '^') {
        k++;
    }
    memmove(caret + 1, g, k);
    caret[1 + k] = '\0';
}

/* Names that are no person: scanner QA and calibration objects, test patients. */
bool pt_entity_not_a_person(const char *folded)
{
    static const char *const words[] = {"PHANTOM", "QA",        "QC",         "CALIBRATION",
                                        "CALIB",   "WATER",     "TEST",       "TESTPATIENT",
                                        "DUMMY",   "ANONYMOUS", "ANONYMIZED", NULL};
    const char *p = folded;
    while (*p != '\0') {
        size_t k = 0;
        while (p[k] != '\0' && p[k] != '^' && p[k] != ' ') {
            k++;
        }
        for (const char *const *w = words; *w != NULL; w++) {
            if (strlen(*w) == k && strncmp(p, *w, k) == 0) {
                return true;
            }
        }
        p += k;
        while (*p == '^' || *p == ' ') {
            p++;
        }
    }
    return false;
}

/* The numbering system of a record number without an assigning authority: its shape
 * (letters kept, digits as '9'): "RAD0012345" -> "RAD9999999". */
void pt_entity_mrn_shape(const char *v, char *out, size_t len)
{
    size_t k = 0;
    for (; v[k] != '\0' && k + 1 < len; k++) {
        out[k] = v[k] >= '0' && v[k] <= '9' ? '9' : v[k];
    }
    out[k] = '\0';
}

void pt_js_key(struct joinset *j, unsigned which, uint64_t key, uint64_t cls, uint64_t val)
{
    if (j->nk < 32) {
        j->k[j->nk++] = (struct jkey){key, cls, val, which};
    }
}

void pt_js_attr(struct joinset *j, uint64_t cls, uint64_t val)
{
    for (unsigned i = 0; i < j->nat; i++) {
        if (j->at[i].cls == cls && j->at[i].val == val) {
            return;
        }
    }
    if (j->nat < 24) {
        j->at[j->nat++] = (struct attr){cls, val};
    }
}

/* The class with the most distinct values in the record (its people), and that count. */
unsigned pt_js_people(const struct joinset *j, uint64_t *cls)
{
    unsigned best = 1;
    *cls = 0;
    for (unsigned i = 0; i < j->nat; i++) {
        unsigned n = 0;
        for (unsigned k = 0; k < j->nat; k++) {
            n += j->at[k].cls == j->at[i].cls;
        }
        if (n > best) {
            best = n;
            *cls = j->at[i].cls;
        }
    }
    return best;
}

const char *pt_entity_join_group(enum pt_phi_type t)
{
    return t == PT_PHI_SSN         ? "ssn"
           : t == PT_PHI_MRN       ? "mrn"
           : t == PT_PHI_RECORD_ID ? "rec"
                                   : "plan";
}
