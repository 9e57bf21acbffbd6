/*
 * fhir.c - PHI in FHIR JSON (R4, https://hl7.org/fhir/R4/json.html): single resources,
 * Bundles (entry[].resource) and NDJSON bulk exports (one resource per line, FHIR Bulk
 * Data Access); research/phi-disk-compliance.md §2.5.4.
 *
 * A small JSON tokenizer (RFC 8259; strings, numbers, literals, objects, arrays) builds a
 * token array per document; every object with a string "resourceType" is a resource and a
 * record. Patient: id, identifier[] (system us-ssn is an SSN, us-mbi a Medicare number,
 * type code MR or a medical-record system an MRN, DL/PPN/MB... by type), name[] (family,
 * given), birthDate, address[] (line, city, state, postalCode), telecom[] (phone, email).
 * Other resources: subject/patient/beneficiary references ("Patient/<id>", "urn:uuid:<id>")
 * join them to their patient; clinical resources carry health information.
 *
 * Trust boundary: the bytes are untrusted; the tokenizer checks every index against the
 * document end, nesting is capped at PT_PHI_JSON_DEPTH and tokens at a per-document limit.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/limits.h"
#include "phi.h"

enum jt { J_OBJ, J_ARR, J_STR, J_PRIM };

struct tok {
    enum jt type;
    size_t start, end;    /* for strings: without the quotes */
    int parent;
    int size;             /* children: members (keys and values both count) or elements */
};

struct jdoc {
    const uint8_t *p;
    size_t n;
    struct tok *t;
    int nt, cap;
};

#define MAX_TOKENS (1 << 22)

static int add(struct jdoc *d, enum jt type, size_t start, int parent)
{
    if (d->nt == d->cap) {
        if (d->cap >= MAX_TOKENS) {
            return -1;
        }
        int ncap = d->cap ? d->cap * 2 : 256;
        struct tok *nt = realloc(d->t, (size_t)ncap * sizeof *nt);
        if (nt == NULL) {
            return -1;
        }
        d->t = nt;
        d->cap = ncap;
    }
    d->t[d->nt] = (struct tok){type, start, start, parent, 0};
    if (parent >= 0) {
        d->t[parent].size++;
    }
    return d->nt++;
}

/* Tokenize p[0..n); returns false on malformed input or a limit (tokens so far are kept). */
static bool tokenize(struct jdoc *d)
{
    int parent = -1, depth = 0;
    for (size_t i = 0; i < d->n; i++) {
        uint8_t c = d->p[i];
        switch (c) {
            case '{':
            case '[': {
                if (++depth > PT_PHI_JSON_DEPTH) {
                    return false;
                }
                int k = add(d, c == '{' ? J_OBJ : J_ARR, i, parent);
                if (k < 0) {
                    return false;
                }
                parent = k;
                break;
            }
            case '}':
            case ']':
                if (parent < 0 || d->t[parent].type != (c == '}' ? J_OBJ : J_ARR)) {
                    return false;
                }
                d->t[parent].end = i + 1;
                parent = d->t[parent].parent;
                depth--;
                break;
            case '"': {
                int k = add(d, J_STR, i + 1, parent);
                if (k < 0) {
                    return false;
                }
                size_t j = i + 1;
                /* the closing quote by memchr when no backslash comes before it */
                const uint8_t *q = memchr(d->p + j, '"', d->n - j);
                if (q != NULL && memchr(d->p + j, '\\', (size_t)(q - (d->p + j))) == NULL) {
                    j = (size_t)(q - d->p);
                }
                while (j < d->n && d->p[j] != '"') {
                    j += d->p[j] == '\\' ? 2 : 1;
                }
                if (j >= d->n) {
                    return false;
                }
                d->t[k].end = j;
                i = j;
                break;
            }
            case ' ': case '\t': case '\r': case '\n': case ':': case ',':
                break;
            default: {
                if (!(c == '-' || isdigit(c) || c == 't' || c == 'f' || c == 'n')) {
                    return false;
                }
                int k = add(d, J_PRIM, i, parent);
                if (k < 0) {
                    return false;
                }
                size_t j = i;
                while (j < d->n && !strchr(" \t\r\n,]}:", d->p[j])) {
                    j++;
                }
                d->t[k].end = j;
                i = j - 1;
                break;
            }
        }
    }
    return parent == -1;
}

static unsigned hex4(const uint8_t *h)
{
    unsigned v = 0;
    for (int q = 0; q < 4; q++) {
        uint8_t c = h[q];
        unsigned d = isdigit(c) ? (unsigned)(c - '0')
                   : isxdigit(c) ? (unsigned)(tolower(c) - 'a' + 10) : 0x110000u;
        v = v * 16 + d;
    }
    return v;
}

/* The string value of token k, unescaped: \uXXXX (with surrogate pairs) as UTF-8, control
 * escapes as a space, an invalid escape as U+FFFD. */
static void str(const struct jdoc *d, int k, char *out, size_t len)
{
    size_t o = 0;
    if (k < 0 || d->t[k].type == J_OBJ || d->t[k].type == J_ARR) {
        out[0] = '\0';
        return;
    }
    size_t end = d->t[k].end;
    for (size_t i = d->t[k].start; i < end && o + 5 < len; i++) {
        uint8_t c = d->p[i];
        if (c != '\\' || i + 1 >= end) {
            out[o++] = (char)c;
            continue;
        }
        uint8_t e = d->p[++i];
        if (e != 'u') {
            out[o++] = e == 'n' || e == 't' || e == 'r' || e == 'b' || e == 'f' ? ' ' : (char)e;
            continue;
        }
        uint32_t v = i + 4 < end ? hex4(d->p + i + 1) : 0x110000u;
        i += i + 4 < end ? 4 : end - 1 - i;
        if (v >= 0xd800 && v <= 0xdbff && i + 6 < end && d->p[i + 1] == '\\' &&
            d->p[i + 2] == 'u') {
            uint32_t lo = hex4(d->p + i + 3);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            }
        }
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) || v < 0x20) {
            v = v < 0x20 ? ' ' : 0xfffd;
        }
        o += pt_phi_utf8_put(v, out + o, len - o - 1);
    }
    out[o] = '\0';
}

/* Next token after the subtree of k: tokens are in document order, so it is the first
 * token that starts at or after k's end (binary search). */
static int skip(const struct jdoc *d, int k)
{
    if (d->t[k].type == J_STR || d->t[k].type == J_PRIM) {
        return k + 1;
    }
    size_t end = d->t[k].end;
    if (end <= d->t[k].start) { /* never closed (malformed): the rest of the document */
        return d->nt;
    }
    int lo = k + 1, hi = d->nt;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (d->t[mid].start < end) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Member `key` of object k, or -1. */
static int get(const struct jdoc *d, int k, const char *key)
{
    if (k < 0 || d->t[k].type != J_OBJ) {
        return -1;
    }
    size_t kl = strlen(key);
    for (int j = k + 1; j < d->nt && d->t[j].parent == k;) {
        int v = skip(d, j);
        if (v >= d->nt || d->t[v].parent != k) {
            return -1;
        }
        if (d->t[j].type == J_STR && d->t[j].end - d->t[j].start == kl &&
            memcmp(d->p + d->t[j].start, key, kl) == 0) {
            return v;
        }
        j = skip(d, v);
    }
    return -1;
}

/* Elements of array k (or k itself when it is not an array), through a callback index. */
static int elem(const struct jdoc *d, int k, int i)
{
    if (k < 0) {
        return -1;
    }
    if (d->t[k].type != J_ARR) {
        return i == 0 ? k : -1;
    }
    int j = k + 1;
    for (int n = 0; j < d->nt && d->t[j].parent == k; n++) {
        if (n == i) {
            return j;
        }
        j = skip(d, j);
    }
    return -1;
}

struct fctx {
    const struct pt_phi_sink *s;
    const struct jdoc *d;
    uint64_t base;
};

static void emit(struct fctx *f, enum pt_phi_type type, const char *value, int at,
                 const char *field, const char *state, const char *issuer, bool subject)
{
    if (value[0] == '\0') {
        return;
    }
    char why[96];
    snprintf(why, sizeof why, "FHIR element %s", field);
    struct pt_phi_hit h = {.type = type, .value = value, .field = field, .detector = "fhir",
                           .offset = f->base + (at >= 0 ? f->d->t[at].start : 0),
                           .confidence = 1.0, .reason = why, .state = state ? state : "",
                           .issuer = issuer ? issuer : "", .subject = subject};
    if (f->s->hit != NULL) {
        f->s->hit(f->s->arg, &h);
    }
}

/* "Patient/123", "urn:uuid:abc", ".../Patient/123/_history/2" to "123". */
static void ref_id(const char *ref, char *out, size_t len)
{
    const char *p = strstr(ref, "Patient/");
    if (p != NULL) {
        p += 8;
    } else if (strncmp(ref, "urn:uuid:", 9) == 0) {
        p = ref + 9;
    } else {
        p = ref;
    }
    size_t k = 0;
    while (p[k] != '\0' && p[k] != '/' && k + 1 < len) {
        out[k] = p[k];
        k++;
    }
    out[k] = '\0';
}

static void patient(struct fctx *f, int r)
{
    const struct jdoc *d = f->d;
    char v[512], sys[256], code[64], norm[512];
    int ids = get(d, r, "identifier");
    for (int i = 0, e; (e = elem(d, ids, i)) >= 0; i++) {
        int val = get(d, e, "value");
        str(d, val, v, sizeof v);
        str(d, get(d, e, "system"), sys, sizeof sys);
        code[0] = '\0';
        int codings = get(d, get(d, e, "type"), "coding");
        str(d, get(d, elem(d, codings, 0), "code"), code, sizeof code);
        if (v[0] == '\0') {
            continue;
        }
        if (strstr(sys, "us-ssn") != NULL || strcmp(code, "SS") == 0 ||
            strstr(sys, "2.16.840.1.113883.4.1") != NULL) {
            char dd[32];
            pt_phi_digits(v, dd, sizeof dd);
            if (strlen(dd) == 9 && pt_phi_ssn_valid(dd)) {
                emit(f, PT_PHI_SSN, dd, val, "Patient.identifier (SSN)", "", sys, true);
            }
        } else if (strstr(sys, "us-mbi") != NULL || strcmp(code, "MC") == 0) {
            emit(f, PT_PHI_MBI, v, val, "Patient.identifier (Medicare)", "", sys, true);
        } else if (strcmp(code, "DL") == 0 || strcmp(code, "PPN") == 0 ||
                   strstr(sys, "driver") != NULL || strstr(sys, "passport") != NULL) {
            emit(f, PT_PHI_ACCOUNT, v, val, "Patient.identifier (licence/passport)", "", sys,
                 true);
        } else if (strcmp(code, "MB") == 0 || strcmp(code, "SN") == 0) {
            emit(f, PT_PHI_PLAN_ID, v, val, "Patient.identifier (member)", "", sys, true);
        } else {
            emit(f, PT_PHI_MRN, v, val, "Patient.identifier (MR)", "", sys, true);
        }
    }
    int names = get(d, r, "name");
    for (int i = 0, e; (e = elem(d, names, i)) >= 0; i++) {
        char fam[256], giv[256] = "", mid[256] = "";
        str(d, get(d, e, "family"), fam, sizeof fam);
        int given = get(d, e, "given");
        str(d, elem(d, given, 0), giv, sizeof giv);
        str(d, elem(d, given, 1), mid, sizeof mid);
        char raw[800];
        snprintf(raw, sizeof raw, "%s^%s^%s", fam, giv, mid);
        if (pt_phi_name_norm(raw, strlen(raw), false, norm, sizeof norm)) {
            emit(f, PT_PHI_NAME, norm, e, "Patient.name", "", "", i == 0);
        }
    }
    int bd = get(d, r, "birthDate");
    str(d, bd, v, sizeof v);
    char ymd[16];
    pt_phi_digits(v, ymd, sizeof ymd);
    if (strlen(ymd) == 8 && pt_phi_date_valid(ymd)) {
        emit(f, PT_PHI_DOB, ymd, bd, "Patient.birthDate", "", "", true);
    }
    int dth = get(d, r, "deceasedDateTime");
    str(d, dth, v, sizeof v);
    pt_phi_digits(v, ymd, sizeof ymd);
    if (strlen(ymd) >= 8) {
        ymd[8] = '\0';
        emit(f, PT_PHI_DEATH, ymd, dth, "Patient.deceasedDateTime", "", "", true);
    } else if ((dth = get(d, r, "deceasedBoolean")) >= 0 && d->t[dth].type == J_PRIM &&
               d->p[d->t[dth].start] == 't') {
        emit(f, PT_PHI_DEATH, "deceased", dth, "Patient.deceasedBoolean", "", "", true);
    }
    int addrs = get(d, r, "address");
    for (int i = 0, e; (e = elem(d, addrs, i)) >= 0; i++) {
        char line[256] = "", city[128], state[32], zip[32], full[512];
        str(d, elem(d, get(d, e, "line"), 0), line, sizeof line);
        str(d, get(d, e, "city"), city, sizeof city);
        str(d, get(d, e, "state"), state, sizeof state);
        str(d, get(d, e, "postalCode"), zip, sizeof zip);
        for (char *q = state; *q; q++) {
            *q = (char)toupper((unsigned char)*q);
        }
        char st[3] = "";
        if (strlen(state) == 2 && pt_phi_state_valid(state)) {
            memcpy(st, state, 3);
        }
        if (strlen(zip) >= 5 && st[0] == '\0') {
            snprintf(st, sizeof st, "%s", pt_phi_zip_state(zip));
        }
        if (line[0] != '\0' || city[0] != '\0') {
            snprintf(full, sizeof full, "%s, %s", line, city);
            for (char *q = full; *q; q++) {
                *q = (char)toupper((unsigned char)*q);
            }
            emit(f, PT_PHI_ADDRESS, full, e, "Patient.address", st, "", true);
        }
        if (strlen(zip) >= 5 && isdigit((unsigned char)zip[0])) {
            zip[5] = '\0';
            emit(f, PT_PHI_ZIP, zip, e, "Patient.address.postalCode", st, "", true);
        }
    }
    int tel = get(d, r, "telecom");
    for (int i = 0, e; (e = elem(d, tel, i)) >= 0; i++) {
        char system[32];
        str(d, get(d, e, "system"), system, sizeof system);
        int val = get(d, e, "value");
        str(d, val, v, sizeof v);
        if (strcmp(system, "email") == 0) {
            for (char *q = v; *q; q++) {
                *q = (char)tolower((unsigned char)*q);
            }
            emit(f, PT_PHI_EMAIL, v, val, "Patient.telecom (email)", "", "", true);
        } else if (strcmp(system, "phone") == 0 || strcmp(system, "fax") == 0 ||
                   strcmp(system, "sms") == 0) {
            char dd[32];
            pt_phi_digits(v, dd, sizeof dd);
            if (strlen(dd) == 11 && dd[0] == '1') {
                memmove(dd, dd + 1, 11);
            }
            if (strlen(dd) >= 7) {
                emit(f, PT_PHI_PHONE, dd, val, "Patient.telecom (phone)", "", "", true);
            }
        }
    }
}

static bool is_clinical(const char *type)
{
    static const char *const nonclinical[] = {"Bundle", "Organization", "Practitioner",
                                              "PractitionerRole", "Location", "Device",
                                              "CapabilityStatement", "OperationOutcome",
                                              "ValueSet", "CodeSystem", "StructureDefinition",
                                              "Endpoint", "HealthcareService", "Medication",
                                              "Parameters", "SearchParameter", NULL};
    for (const char *const *n = nonclinical; *n != NULL; n++) {
        if (strcmp(type, *n) == 0) {
            return false;
        }
    }
    return true;
}

/* A resource: one record. Its nested resources (Bundle entries, contained) follow. */
static void resource(struct fctx *f, int r, const char *type)
{
    const struct jdoc *d = f->d;
    if (strcmp(type, "Bundle") == 0 || !is_clinical(type)) {
        return;
    }
    char kind[80], id[256], key[280];
    snprintf(kind, sizeof kind, "fhir %s", type);
    if (f->s->record != NULL) {
        f->s->record(f->s->arg, kind, f->base + d->t[r].start);
    }
    if (f->s->health != NULL) {
        char what[96];
        snprintf(what, sizeof what, "FHIR %s resource", type);
        f->s->health(f->s->arg, what);
    }
    if (strcmp(type, "Patient") == 0) {
        int idt = get(d, r, "id");
        str(d, idt, id, sizeof id);
        if (id[0] != '\0') {
            snprintf(key, sizeof key, "Patient/%s", id);
            emit(f, PT_PHI_RECORD_ID, key, idt, "Patient.id", "", "", true);
        }
        patient(f, r);
        return;
    }
    static const char *const refs[] = {"subject", "patient", "beneficiary", NULL};
    for (const char *const *rf = refs; *rf != NULL; rf++) {
        int o = get(d, r, *rf);
        int rt = get(d, o, "reference");
        char ref[300];
        str(d, rt, ref, sizeof ref);
        if (ref[0] != '\0' && (strstr(ref, "Patient/") != NULL || strncmp(ref, "urn:uuid:", 9) == 0)) {
            ref_id(ref, id, sizeof id);
            snprintf(key, sizeof key, "Patient/%s", id);
            char field[48];
            snprintf(field, sizeof field, "%s.%s.reference", type, *rf);
            emit(f, PT_PHI_RECORD_ID, key, rt, field, "", "", true);
            return;
        }
    }
}

static void walk_resources(struct fctx *f)
{
    const struct jdoc *d = f->d;
    for (int k = 0; k < d->nt; k++) {
        if (d->t[k].type != J_OBJ) {
            continue;
        }
        int rt = get(d, k, "resourceType");
        if (rt >= 0 && d->t[rt].type == J_STR) {
            char type[64];
            str(d, rt, type, sizeof type);
            resource(f, k, type);
        }
    }
}

static void document(const uint8_t *p, size_t n, uint64_t base, const struct pt_phi_sink *s)
{
    struct jdoc d = {.p = p, .n = n};
    if (!tokenize(&d)) {
        if (s->anomaly != NULL) {
            s->anomaly(s->arg, base, PT_ANOM_PHI_JSON_MALFORMED,
                       "JSON that does not parse (or exceeds the nesting/token limits)");
        }
    }
    struct fctx f = {.s = s, .d = &d, .base = base};
    walk_resources(&f);
    free(d.t);
}

void pt_phi_json(const uint8_t *p, size_t n, bool ndjson, const struct pt_phi_sink *sink)
{
    if (!ndjson) {
        document(p, n, 0, sink);
        return;
    }
    size_t a = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '\n') {
            size_t b = i;
            while (b > a && (p[b - 1] == '\r' || p[b - 1] == ' ')) {
                b--;
            }
            if (b > a) {
                document(p + a, b - a, a, sink);
            }
            a = i + 1;
        }
    }
}
