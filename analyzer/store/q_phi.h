/*
 * q_phi.h - what the PHI stage (phi/phase.c) reads from and writes to the case database:
 * the objects to scan, and the phi_object, phi_record, phi_hit, phi_value, yara_match,
 * patient_entity and individuals* rows. Anomalies go through pt_db_anomaly_put (db.h).
 */
#ifndef PT_STORE_Q_PHI_H
#define PT_STORE_Q_PHI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_db;

/* One distinct stored object (by hash) to scan. Strings live until the callback returns. */
struct pt_q_phi_object {
    const char *sha256;
    uint64_t size;
    uint32_t item;          /* its first evidence item */
    bool upload;            /* some copy of it left as an upload */
    const char *name, *protocol, *direction, *mime; /* never NULL */
    bool container;         /* its parts are objects of their own */
    const char *pack;       /* object_blob's pack, NULL for an object file */
    uint64_t pack_off;
};

/* Link the parts of multipart bodies and MIME messages to the object they were cut from,
 * then call `fn` for every object of a non-zero size in hash order; `fn` returns false to
 * stop (the result is then PT_ENOMEM). */
pt_status pt_q_phi_objects(struct pt_db *db, bool (*fn)(void *arg, const struct pt_q_phi_object *o),
                           void *arg, char *err, size_t errlen);

/* The statements of one PHI stage run, inside one transaction (begin .. end). */
struct pt_q_phi;
pt_status pt_q_phi_begin(struct pt_db *db, struct pt_q_phi **out, char *err, size_t errlen);
/* Commit when ok, else roll back; frees w. */
pt_status pt_q_phi_end(struct pt_q_phi *w, bool ok, char *err, size_t errlen);
/* SQLite's last message, for "writing PHI results: ...". */
const char *pt_q_phi_errmsg(struct pt_q_phi *w);

pt_status pt_q_phi_object_put(struct pt_q_phi *w, const char *sha, const char *format,
                              uint64_t records, uint64_t hits, uint64_t phi_hits,
                              uint64_t individuals, uint64_t read_bytes, const char *evidence);
/* Record `id` of the object whose pt_q_phi_object_put comes next (its records first). */
pt_status pt_q_phi_record_put(struct pt_q_phi *w, uint32_t id, uint64_t seq, const char *kind,
                              uint64_t offset, bool health, const char *reason);

/* One hit of the record last put (pt_q_phi_record_put); its object and PHI or PII class are
 * the record's. The identifier (by hmac) and the site (detector .. reason) become rows of
 * phi_ident and phi_site once; the hit, naming them, is packed into its record's row
 * (store/phi_pack.h; the row is written with its last hit, at the next record, object or
 * the end), and counts for its object's phi_object_type rows (written by
 * pt_q_phi_object_put). An object's records are numbered in a row. */
struct pt_q_phi_hit {
    uint32_t record_id;
    const char *detector, *field, *type, *safe_harbor;
    uint64_t offset;
    bool subject;
    const char *masked, *hmac, *state, *issuer, *reason;
    double confidence;
};
pt_status pt_q_phi_hit_put(struct pt_q_phi *w, const struct pt_q_phi_hit *h);
/* The full value of a hit (--keep-phi only). */
pt_status pt_q_phi_value_put(struct pt_q_phi *w, const char *hmac, const char *type,
                             const char *value);

struct pt_q_yara_match {
    const char *sha, *rule, *ns, *tags, *description, *category, *severity, *reference;
    uint64_t offset;
    unsigned strings;
};
/* A match of the object whose pt_q_phi_object_put comes next (its matches first); `sha` is
 * that object's (the row names it by its phi_object id). */
pt_status pt_q_phi_yara_put(struct pt_q_phi *w, const struct pt_q_yara_match *m);

/* phi_record `record` (1-based) belongs to patient entity `entity`. */
pt_status pt_q_phi_record_entity(struct pt_q_phi *w, uint32_t record, uint32_t entity);

struct pt_q_entity {
    uint32_t id, records, objects, names;
    const char *types, *state, *name;
    bool phi, outbound, deceased;
};
pt_status pt_q_phi_entity_put(struct pt_q_phi *w, const struct pt_q_entity *e);

/* The individuals row of `scope` ("all" or "outbound"): estimate, lower and upper bound; the
 * deceased come from patient_entity. */
pt_status pt_q_phi_individuals(struct pt_q_phi *w, const char *scope, const uint64_t cnt[3],
                               char *err, size_t errlen);
/* individuals_by_state from patient_entity, for both scopes. */
pt_status pt_q_phi_by_state(struct pt_q_phi *w, char *err, size_t errlen);
pt_status pt_q_phi_quality(struct pt_q_phi *w, uint64_t refused, uint64_t multi_person,
                           uint64_t bound_refused, unsigned largest, unsigned largest_names,
                           unsigned implausible, char *err, size_t errlen);

#endif
