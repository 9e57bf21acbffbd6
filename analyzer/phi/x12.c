/*
 * x12.c - PHI in ASC X12 health care transactions (837 claims, 270/271 eligibility, 835
 * remittance, 834 enrolment; research/phi-disk-compliance.md §2.5.4).
 *
 * The ISA segment is fixed length: the element separator is its 4th byte, the component
 * separator ISA-16 (byte 104) and the segment terminator the byte after it (105). Each
 * subscriber or patient loop (NM1*IL, NM1*QC) starts a record: NM103 last name, NM104
 * first name, NM108 "MI"/"II" with NM109 member id; DMG*D8*CCYYMMDD birth date; N3
 * street; N4 city, state, ZIP; REF*SY an SSN; HI*ABK/ABF diagnosis codes (ICD-10-CM).
 *
 * Trust boundary: the bytes are untrusted; segments and elements are bounded views.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "phi.h"

#define MAX_EL 32

struct seg {
    const uint8_t *el[MAX_EL];
    size_t len[MAX_EL];
    size_t n;
};

static void copy(const struct seg *s, size_t i, char *out, size_t len)
{
    size_t k = 0;
    if (i < s->n) {
        for (size_t q = 0; q < s->len[i] && k + 1 < len; q++) {
            uint8_t c = s->el[i][q];
            out[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
    }
    while (k > 0 && out[k - 1] == ' ') {
        k--;
    }
    out[k] = '\0';
}

static bool is(const struct seg *s, size_t i, const char *v)
{
    return i < s->n && s->len[i] == strlen(v) && memcmp(s->el[i], v, s->len[i]) == 0;
}

static void emit(const struct pt_phi_sink *s, enum pt_phi_type t, const char *v, uint64_t off,
                 const char *field, const char *state)
{
    char why[96];
    snprintf(why, sizeof why, "X12 element %s", field);
    struct pt_phi_hit h = {.type = t, .value = v, .field = field, .detector = "x12",
                           .offset = off, .confidence = 1.0, .reason = why,
                           .state = state ? state : "", .issuer = "", .subject = true};
    if (v[0] != '\0' && s->hit != NULL) {
        s->hit(s->arg, &h);
    }
}

void pt_phi_x12(const uint8_t *p, size_t n, const struct pt_phi_sink *sink)
{
    if (n < 106 || memcmp(p, "ISA", 3) != 0) {
        return;
    }
    uint8_t es = p[3], cs = p[104], term = p[105];
    bool in_person = false;
    char state[3] = "";
    size_t a = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != term) {
            continue;
        }
        size_t b = i;
        while (a < b && (p[a] == '\r' || p[a] == '\n' || p[a] == ' ')) {
            a++;
        }
        struct seg s = {.n = 0};
        size_t st = a;
        for (size_t q = a; q <= b && s.n < MAX_EL; q++) {
            if (q == b || p[q] == es) {
                s.el[s.n] = p + st;
                s.len[s.n++] = q - st;
                st = q + 1;
            }
        }
        uint64_t off = a;
        char v[256], w[256];
        if (is(&s, 0, "NM1") && (is(&s, 1, "IL") || is(&s, 1, "QC"))) {
            if (sink->record != NULL) {
                sink->record(sink->arg, is(&s, 1, "IL") ? "x12 subscriber" : "x12 patient", off);
            }
            if (sink->health != NULL) {
                sink->health(sink->arg, "X12 health care transaction");
            }
            in_person = true;
            state[0] = '\0';
            copy(&s, 3, v, sizeof v);
            copy(&s, 4, w, sizeof w);
            char raw[600], norm[600];
            snprintf(raw, sizeof raw, "%s^%s", v, w);
            if (pt_phi_name_norm(raw, strlen(raw), false, norm, sizeof norm)) {
                emit(sink, PT_PHI_NAME, norm, off, "NM103/NM104", "");
            }
            if (is(&s, 8, "MI") || is(&s, 8, "II")) {
                copy(&s, 9, v, sizeof v);
                emit(sink, PT_PHI_PLAN_ID, v, off, "NM109 (member id)", "");
            }
        } else if (is(&s, 0, "NM1")) {
            in_person = false;
        } else if (in_person && is(&s, 0, "DMG") && is(&s, 1, "D8")) {
            copy(&s, 2, v, sizeof v);
            if (strlen(v) == 8 && pt_phi_date_valid(v)) {
                emit(sink, PT_PHI_DOB, v, off, "DMG02", "");
            }
        } else if (in_person && is(&s, 0, "N3")) {
            copy(&s, 1, v, sizeof v);
            for (char *q = v; *q; q++) {
                *q = (char)toupper((unsigned char)*q);
            }
            emit(sink, PT_PHI_ADDRESS, v, off, "N301", "");
        } else if (in_person && is(&s, 0, "N4")) {
            copy(&s, 2, w, sizeof w);
            if (strlen(w) == 2 && pt_phi_state_valid(w)) {
                memcpy(state, w, 3);
            }
            copy(&s, 3, v, sizeof v);
            if (strlen(v) >= 5 && isdigit((unsigned char)v[0])) {
                v[5] = '\0';
                emit(sink, PT_PHI_ZIP, v, off, "N403", state[0] ? state : pt_phi_zip_state(v));
            }
        } else if (in_person && is(&s, 0, "REF") && is(&s, 1, "SY")) {
            copy(&s, 2, v, sizeof v);
            if (strlen(v) == 9 && pt_phi_ssn_valid(v)) {
                emit(sink, PT_PHI_SSN, v, off, "REF*SY", "");
            }
        } else if (is(&s, 0, "HI")) {
            for (size_t e = 1; e < s.n; e++) {
                copy(&s, e, v, sizeof v);
                char *c = strchr(v, (char)cs);
                if (c != NULL && (strncmp(v, "ABK", 3) == 0 || strncmp(v, "ABF", 3) == 0 ||
                                  strncmp(v, "BK", 2) == 0 || strncmp(v, "BF", 2) == 0)) {
                    emit(sink, PT_PHI_DIAGNOSIS, c + 1, off, "HI (diagnosis)", "");
                    if (sink->health != NULL) {
                        sink->health(sink->arg, "X12 diagnosis");
                    }
                }
            }
        }
        a = i + 1;
    }
}
