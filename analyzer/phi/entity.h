/*
 * entity.h - joining PHI records into individuals (private to phi/): a union-find over
 * records whose keys are the identifiers that name one person (the "joins" column of
 * phi_types.def; a name only with a birth date), which refuses to join two components
 * whose strong identifiers (SSN, birth date, Medicare id, record number of one system)
 * differ. phase.c runs three of them: the estimate and its lower and upper bounds.
 */
#ifndef PT_PHI_ENTITY_H
#define PT_PHI_ENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phi.h"

/* A component's strong identifiers: at most one value per class (an SSN, a birth date, a
 * Medicare id, a record number of one numbering system), so two components whose values of a
 * class differ are two people and are never joined. */
struct attr {
    uint64_t cls, val;
};
struct attrs {
    struct attr *v;
    uint32_t n, cap;
};
struct uf {
    uint32_t *parent;
    uint32_t *size;
    struct attrs *at; /* per root */
    size_t n, cap;
    /* key -> first record, open addressing */
    uint64_t *keys;
    uint32_t *vals;
    size_t kcap, kn;
    uint64_t refused; /* joins refused because strong identifiers conflict */
};
/* One record's joins, gathered before any is made. Each key says which structures use it
 * (estimate, lower, upper) and the strong identifier it stands for (class and value; 0 for
 * names), so that a record of several people can keep the keys of one of them. */
enum { J_EST = 1, J_LOWER = 2, J_UPPER = 4 };
struct jkey {
    uint64_t key, cls, val;
    unsigned which;
};
struct joinset {
    struct jkey k[32];
    unsigned nk;
    struct attr at[24];
    unsigned nat;
};

/* The component of record x (path halving). */
uint32_t pt_uf_find(struct uf *u, uint32_t x);
/* Join the components of a and b unless their strong identifiers conflict (then counted in
 * u->refused). */
void pt_uf_union(struct uf *u, uint32_t a, uint32_t b);
/* A new record, its own component; false when memory ran out. */
bool pt_uf_add(struct uf *u);
/* Join record r with the first record that had `key`; false when memory ran out. */
bool pt_uf_key(struct uf *u, uint64_t key, uint32_t r);
/* Was `key` seen? */
bool pt_uf_has(const struct uf *u, uint64_t key);
/* Add a strong identifier to a component; false when memory ran out. */
bool pt_uf_attrs_add(struct attrs *a, uint64_t cls, uint64_t val);
void pt_uf_free(struct uf *u);

/* Names: the identifying part of a folded name (in place), and names that are no person. */
void pt_entity_name_key(char *f);
bool pt_entity_not_a_person(const char *folded);
/* The numbering system of a record number: its shape, digits as '9'. */
void pt_entity_mrn_shape(const char *v, char *out, size_t len);
/* The key group of a joining type ("ssn", "mrn", "rec", "plan"). */
const char *pt_entity_join_group(enum pt_phi_type t);

/* A record's joins, gathered before any is made. */
void pt_js_key(struct joinset *j, unsigned which, uint64_t key, uint64_t cls, uint64_t val);
void pt_js_attr(struct joinset *j, uint64_t cls, uint64_t val);
unsigned pt_js_people(const struct joinset *j, uint64_t *cls);

#endif
