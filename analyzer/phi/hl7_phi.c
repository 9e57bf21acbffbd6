/*
 * hl7_phi.c - PHI in HL7 version 2 messages (HL7 v2.5.1 ch. 2 encoding, ch. 3 PID/NK1/PV1,
 * ch. 6 IN1/GT1/DG1, ch. 7 OBX; research/phi-disk-compliance.md §2.5.3).
 *
 * Input: one or more messages, bare, one per line, or in MLLP frames (VT ... FS CR).
 * Each MSH starts a record; its separators (MSH-1, MSH-2) are read, never assumed.
 * Segments end at CR, LF or CRLF. Fields, repetitions, components and subcomponents are
 * split with the message's own separators; escape sequences \F\ \S\ \T\ \R\ \E\ are
 * decoded in values.
 *
 *   PID-2, PID-3 (CX: id ^ ^ ^ assigning authority ^ type code), PID-4: identifiers; type
 *   SS is an SSN, MB/MC/MA/SN a health plan id, AN an account, the rest (MR, PI, PT, ...)
 *   record numbers. PID-5 name (XPN), PID-6 mother's maiden name, PID-7 birth date, PID-11
 *   address (XAD: street ^ other ^ city ^ state ^ ZIP), PID-13/14 phones (XTN), PID-18
 *   account, PID-19 SSN. NK1 and GT1 (relatives, guarantor: names, addresses, phones,
 *   SSN) are PHI of other people and do not identify the patient. IN1-36 policy number,
 *   IN1-49 insured id. PV1-19 visit number. DG1-3 diagnosis codes. OBX-5 and NTE-3 text
 *   is scanned as free text.
 *
 * Trust boundary: the bytes are untrusted; every field is read through a bounded view;
 * fields per segment, repetitions and value lengths are capped.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../core/cursor.h"
#include "phi.h"

#define MAX_FIELDS 64
#define MAX_REPS 16
#define MAX_COMPS 16

struct view {
    const uint8_t *p;
    size_t n;
};

struct hctx {
    const struct pt_phi_sink *s;
    const uint8_t *root;
    char fs, cs, rs, es, ss;   /* field, component, repetition, escape, subcomponent */
    bool in_msg;
    char msg_type[32];
};

static size_t split(struct view v, char sep, struct view *out, size_t max)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= v.n && k < max; i++) {
        if (i == v.n || v.p[i] == (uint8_t)sep) {
            out[k].p = v.p + start;
            out[k].n = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

/* Component `c` (1-based) of a value, first subcomponent only when `first_sub`. */
static struct view comp(const struct hctx *h, struct view v, size_t c, bool first_sub)
{
    struct view parts[MAX_COMPS];
    size_t n = split(v, h->cs, parts, MAX_COMPS);
    if (c == 0 || c > n) {
        return (struct view){NULL, 0};
    }
    struct view r = parts[c - 1];
    if (first_sub) {
        struct view subs[4];
        if (split(r, h->ss, subs, 4) > 0) {
            r = subs[0];
        }
    }
    return r;
}

/* Decoded text of a value: escape sequences resolved, non-printables dropped. */
static void text(const struct hctx *h, struct view v, char *out, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < v.n && k + 1 < len; i++) {
        uint8_t c = v.p[i];
        if (c == (uint8_t)h->es && i + 2 < v.n && v.p[i + 2] == (uint8_t)h->es) {
            char e = (char)v.p[i + 1];
            char r = e == 'F' ? h->fs : e == 'S' ? h->cs : e == 'T' ? h->ss : e == 'R' ? h->rs
                   : e == 'E' ? h->es : 0;
            if (r != 0) {
                out[k++] = r;
                i += 2;
                continue;
            }
        }
        if (c >= 0x20 && c != 0x7f) {
            out[k++] = (char)c;
        }
    }
    while (k > 0 && out[k - 1] == ' ') {
        k--;
    }
    out[k] = '\0';
}

static void emit(struct hctx *h, enum pt_phi_type type, const char *value, struct view at,
                 const char *field, double conf, const char *state, const char *issuer,
                 bool subject)
{
    if (value[0] == '\0') {
        return;
    }
    char why[96];
    snprintf(why, sizeof why, "HL7 field %s", field);
    struct pt_phi_hit hit = {.type = type, .value = value, .field = field, .detector = "hl7",
                             .offset = (uint64_t)(at.p - h->root), .confidence = conf,
                             .reason = why, .state = state ? state : "",
                             .issuer = issuer ? issuer : "", .subject = subject};
    if (h->s->hit != NULL) {
        h->s->hit(h->s->arg, &hit);
    }
}

static void name(struct hctx *h, struct view v, const char *field, bool subject)
{
    struct view reps[MAX_REPS];
    size_t nr = split(v, h->rs, reps, MAX_REPS);
    for (size_t r = 0; r < nr; r++) {
        char fam[128], giv[128], mid[128], raw[400], norm[400];
        text(h, comp(h, reps[r], 1, true), fam, sizeof fam);
        text(h, comp(h, reps[r], 2, false), giv, sizeof giv);
        text(h, comp(h, reps[r], 3, false), mid, sizeof mid);
        if (fam[0] == '\0' && giv[0] == '\0') {
            continue;
        }
        snprintf(raw, sizeof raw, "%s^%s^%s", fam, giv, mid);
        if (pt_phi_name_norm(raw, strlen(raw), false, norm, sizeof norm)) {
            emit(h, PT_PHI_NAME, norm, reps[r], field, subject ? 1.0 : 0.9, "", "",
                 subject && r == 0);
        }
    }
}

static void address(struct hctx *h, struct view v, const char *field, bool subject)
{
    struct view reps[MAX_REPS];
    size_t nr = split(v, h->rs, reps, MAX_REPS);
    for (size_t r = 0; r < nr; r++) {
        char street[200], city[100], state[32], zip[32], full[400];
        text(h, comp(h, reps[r], 1, true), street, sizeof street);
        text(h, comp(h, reps[r], 3, false), city, sizeof city);
        text(h, comp(h, reps[r], 4, false), state, sizeof state);
        text(h, comp(h, reps[r], 5, false), zip, sizeof zip);
        for (char *q = state; *q; q++) {
            *q = (char)toupper((unsigned char)*q);
        }
        char st[3] = "";
        if (strlen(state) == 2 && pt_phi_state_valid(state)) {
            memcpy(st, state, 3);
        }
        char z5[6] = "";
        if (strlen(zip) >= 5 && isdigit((unsigned char)zip[0])) {
            memcpy(z5, zip, 5);
            z5[5] = '\0';
            if (st[0] == '\0') {
                snprintf(st, sizeof st, "%s", pt_phi_zip_state(z5));
            }
        }
        if (street[0] != '\0' || city[0] != '\0') {
            snprintf(full, sizeof full, "%s, %s", street, city);
            for (char *q = full; *q; q++) {
                *q = (char)toupper((unsigned char)*q);
            }
            emit(h, PT_PHI_ADDRESS, full, reps[r], field, 1.0, st, "", subject);
        }
        if (z5[0] != '\0') {
            char zf[48];
            snprintf(zf, sizeof zf, "%s.5", field);
            emit(h, PT_PHI_ZIP, z5, reps[r], zf, 1.0, st, "", subject);
        }
    }
}

static void phones(struct hctx *h, struct view v, const char *field, bool subject)
{
    struct view reps[MAX_REPS];
    size_t nr = split(v, h->rs, reps, MAX_REPS);
    for (size_t r = 0; r < nr; r++) {
        char a[64], b[16], c[32], d[64];
        text(h, comp(h, reps[r], 1, false), a, sizeof a);
        text(h, comp(h, reps[r], 6, false), b, sizeof b);
        text(h, comp(h, reps[r], 7, false), c, sizeof c);
        char raw[128];
        snprintf(raw, sizeof raw, "%s", a[0] ? a : "");
        if (raw[0] == '\0' && c[0] != '\0') {
            snprintf(raw, sizeof raw, "%s%s", b, c);
        }
        pt_phi_digits(raw, d, sizeof d);
        if (strlen(d) == 11 && d[0] == '1') {
            memmove(d, d + 1, 11);
        }
        if (strlen(d) >= 7) {
            emit(h, PT_PHI_PHONE, d, reps[r], field, 0.95, "", "", subject);
        }
    }
}

static void ssn(struct hctx *h, struct view v, const char *field, bool subject)
{
    char t[64], d[64];
    text(h, comp(h, v, 1, true), t, sizeof t);
    pt_phi_digits(t, d, sizeof d);
    if (strlen(d) == 9 && pt_phi_ssn_valid(d)) {
        emit(h, PT_PHI_SSN, d, v, field, pt_phi_ssn_denied(d) ? 0.5 : 1.0, "", "", subject);
    }
}

/* CX identifiers: PID-2/3/4, IN1-49. */
static void identifiers(struct hctx *h, struct view v, const char *field)
{
    struct view reps[MAX_REPS];
    size_t nr = split(v, h->rs, reps, MAX_REPS);
    for (size_t r = 0; r < nr; r++) {
        char id[128], auth[128], type[16], f[48];
        text(h, comp(h, reps[r], 1, true), id, sizeof id);
        text(h, comp(h, reps[r], 4, true), auth, sizeof auth);
        text(h, comp(h, reps[r], 5, true), type, sizeof type);
        if (id[0] == '\0') {
            continue;
        }
        snprintf(f, sizeof f, "%s%s%s%s", field, type[0] ? " (" : "", type, type[0] ? ")" : "");
        if (strcmp(type, "SS") == 0) {
            char d[64];
            pt_phi_digits(id, d, sizeof d);
            if (strlen(d) == 9 && pt_phi_ssn_valid(d)) {
                emit(h, PT_PHI_SSN, d, reps[r], f, 1.0, "", auth, true);
            }
        } else if (strcmp(type, "MB") == 0 || strcmp(type, "MC") == 0 ||
                   strcmp(type, "MA") == 0 || strcmp(type, "SN") == 0 ||
                   strcmp(type, "MI") == 0) {
            emit(h, strlen(id) == 11 && pt_phi_mbi_valid(id) ? PT_PHI_MBI : PT_PHI_PLAN_ID, id,
                 reps[r], f, 1.0, "", auth, true);
        } else if (strcmp(type, "AN") == 0 || strcmp(type, "VN") == 0) {
            emit(h, PT_PHI_ACCOUNT, id, reps[r], f, 1.0, "", auth, true);
        } else if (strcmp(type, "DL") == 0 || strcmp(type, "PPN") == 0) {
            emit(h, PT_PHI_ACCOUNT, id, reps[r], f, 0.9, "", auth, true);
        } else {
            emit(h, PT_PHI_MRN, id, reps[r], f, 1.0, "", auth, true);
        }
    }
}

static void record_health(struct hctx *h, const char *what)
{
    if (h->s->health != NULL) {
        h->s->health(h->s->arg, what);
    }
}

static void segment(struct hctx *h, struct view seg)
{
    if (seg.n >= 3 && seg.p[0] == 0xef && seg.p[1] == 0xbb && seg.p[2] == 0xbf) {
        seg.p += 3; /* UTF-8 byte order mark */
        seg.n -= 3;
    }
    while (seg.n > 0 && (seg.p[0] == ' ' || seg.p[0] == '\t')) {
        seg.p++;
        seg.n--;
    }
    if (seg.n < 3) {
        return;
    }
    if (memcmp(seg.p, "MSH", 3) == 0 && seg.n >= 8) {
        h->fs = (char)seg.p[3];
        h->cs = (char)seg.p[4];
        h->rs = (char)seg.p[5];
        h->es = (char)seg.p[6];
        h->ss = (char)seg.p[7];
        if (h->ss == h->fs) { /* only three encoding characters */
            h->ss = '&';
        }
        struct view f[MAX_FIELDS];
        size_t nf = split(seg, h->fs, f, MAX_FIELDS);
        h->msg_type[0] = '\0';
        if (nf > 8) { /* f[8] is MSH-9 (MSH-1 is the separator itself) */
            text(h, f[8], h->msg_type, sizeof h->msg_type);
        }
        char kind[64];
        snprintf(kind, sizeof kind, "hl7 message %s", h->msg_type);
        if (h->s->record != NULL) {
            h->s->record(h->s->arg, kind, (uint64_t)(seg.p - h->root));
        }
        h->in_msg = true;
        return;
    }
    if (!h->in_msg || h->fs == 0) {
        return;
    }
    struct view f[MAX_FIELDS];
    size_t nf = split(seg, h->fs, f, MAX_FIELDS);
    char id[4] = {(char)seg.p[0], (char)seg.p[1], (char)seg.p[2], 0};
#define FIELD(n) ((n) < nf ? f[n] : (struct view){NULL, 0})
    if (strcmp(id, "PID") == 0) {
        char what[64];
        snprintf(what, sizeof what, "HL7 %s patient message", h->msg_type);
        record_health(h, what);
        identifiers(h, FIELD(2), "PID-2");
        identifiers(h, FIELD(3), "PID-3");
        identifiers(h, FIELD(4), "PID-4");
        name(h, FIELD(5), "PID-5", true);
        name(h, FIELD(6), "PID-6", false);
        char dob[32];
        text(h, comp(h, FIELD(7), 1, false), dob, sizeof dob);
        if (strlen(dob) >= 8) {
            dob[8] = '\0';
            if (pt_phi_date_valid(dob)) {
                emit(h, PT_PHI_DOB, dob, FIELD(7), "PID-7", 1.0, "", "", true);
            }
        }
        address(h, FIELD(11), "PID-11", true);
        phones(h, FIELD(13), "PID-13", true);
        phones(h, FIELD(14), "PID-14", true);
        char acct[128];
        text(h, comp(h, FIELD(18), 1, true), acct, sizeof acct);
        emit(h, PT_PHI_ACCOUNT, acct, FIELD(18), "PID-18", 1.0, "", "", true);
        ssn(h, FIELD(19), "PID-19", true);
        char death[32], flag[8];
        text(h, comp(h, FIELD(29), 1, false), death, sizeof death);
        text(h, comp(h, FIELD(30), 1, false), flag, sizeof flag);
        if (strlen(death) >= 8) {
            death[8] = '\0';
            emit(h, PT_PHI_DEATH, death, FIELD(29), "PID-29", 1.0, "", "", true);
        } else if (strcmp(flag, "Y") == 0) {
            emit(h, PT_PHI_DEATH, "deceased", FIELD(30), "PID-30", 1.0, "", "", true);
        }
    } else if (strcmp(id, "NK1") == 0 || strcmp(id, "GT1") == 0) {
        bool nk = id[0] == 'N';
        name(h, FIELD(nk ? 2 : 3), nk ? "NK1-2" : "GT1-3", false);
        address(h, FIELD(nk ? 4 : 5), nk ? "NK1-4" : "GT1-5", false);
        phones(h, FIELD(nk ? 5 : 6), nk ? "NK1-5" : "GT1-6", false);
        if (!nk) {
            ssn(h, FIELD(12), "GT1-12", false);
        }
    } else if (strcmp(id, "IN1") == 0) {
        char pol[128];
        text(h, comp(h, FIELD(36), 1, true), pol, sizeof pol);
        emit(h, PT_PHI_PLAN_ID, pol, FIELD(36), "IN1-36", 1.0, "", "", true);
        identifiers(h, FIELD(49), "IN1-49");
        name(h, FIELD(16), "IN1-16", false);
        record_health(h, "HL7 insurance segment");
    } else if (strcmp(id, "PV1") == 0) {
        char vn[128];
        text(h, comp(h, FIELD(19), 1, true), vn, sizeof vn);
        emit(h, PT_PHI_ACCOUNT, vn, FIELD(19), "PV1-19", 0.9, "", "", true);
        record_health(h, "HL7 patient visit");
    } else if (strcmp(id, "DG1") == 0) {
        char code[32];
        text(h, comp(h, FIELD(3), 1, false), code, sizeof code);
        if (code[0] != '\0') {
            emit(h, PT_PHI_DIAGNOSIS, code, FIELD(3), "DG1-3", 1.0, "", "", true);
        }
        record_health(h, "HL7 diagnosis");
    } else if (strcmp(id, "OBX") == 0 || strcmp(id, "NTE") == 0 || strcmp(id, "OBR") == 0) {
        record_health(h, id[0] == 'O' ? "HL7 observation or order" : "HL7 note");
        struct view v = FIELD(id[0] == 'N' ? 3 : 5);
        if (v.n > 0 && id[1] == 'B' && id[2] == 'X') {
            pt_phi_text_record(v.p, v.n, (uint64_t)(v.p - h->root), h->s);
        } else if (v.n > 0 && id[0] == 'N') {
            pt_phi_text_record(v.p, v.n, (uint64_t)(v.p - h->root), h->s);
        }
    }
#undef FIELD
}

void pt_phi_hl7(const uint8_t *p, size_t n, const struct pt_phi_sink *sink)
{
    struct hctx h;
    memset(&h, 0, sizeof h);
    h.s = sink;
    h.root = p;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        bool end = i == n || p[i] == '\r' || p[i] == '\n' || p[i] == 0x0b || p[i] == 0x1c;
        if (!end) {
            continue;
        }
        if (i > start) {
            segment(&h, (struct view){p + start, i - start});
        }
        start = i + 1;
    }
}
