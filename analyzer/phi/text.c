/*
 * text.c - free-text PHI candidates: candidate, validator, deny-list, context, record
 * (research/phi-disk-compliance.md §2.2-2.4).
 *
 * One pass over the bytes; a byte-class table sends only digits, '@' and capital letters at a
 * word start to the candidate readers, so prose costs a table lookup per byte. Candidates:
 *   SSN        ddd-dd-dddd / ddd dd dddd (area, group, serial rules; deny-list); 9 bare
 *              digits only after a context word ("ssn", "social security", ...)
 *   phone      (ddd) ddd-dddd, ddd-ddd-dddd, ddd.ddd.dddd, +1 forms (NANP: area and exchange
 *              start 2-9; 555-01xx is fictional); 10 bare digits after "phone"/"tel"/...
 *   birth date YYYY-MM-DD, MM/DD/YYYY, YYYYMMDD, only after "DOB"/"birth"/"born"
 *   NPI        10 digits, Luhn with the 80840 prefix, after "NPI"/"provider"
 *   DEA        two letters and seven digits with the DEA checksum, after "DEA"
 *   MBI        the CMS 11-character format (dashes 4-3-4 allowed); stronger after "Medicare"
 *   card       13-19 digits (grouped by 4, or bare after "card"/"visa"/...), Luhn, IIN 3-6,
 *              test numbers denied
 *   MRN        after "MRN"/"medical record"/"patient id"/"chart": a 5-15 character token with
 *              at least 4 digits; or a token matching an institution mask from phi.conf
 *   ZIP        5 or 5+4 digits after a state abbreviation ("CA 94110") or "zip"
 *   address    house number, street words and a street suffix ("12 Elm Street")
 *   email      local@domain.tld
 *   ICD-10-CM  letter, digit, digit/A/B, optional .1-4 characters, after "ICD"/"diagnosis"/
 *              "Dx", checked against signatures/icd10cm.txt
 * Bare dates, bare 9-digit numbers and bare long numbers are not reported: the measured
 * false-positive rate of context-free modes is what makes DLP noise (§2.4).
 *
 * Records: a paragraph (text between blank lines), cut at PT_PHI_TEXT_RECORD bytes. A record
 * carries health information when a health term or a diagnosis code appears in it.
 *
 * Trust boundary: every byte is untrusted; indexes are checked against the span end.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/limits.h"
#include "config.h"
#include "phi.h"

enum { C_DIGIT = 1, C_UPPER = 2, C_AT = 4, C_ALNUM = 8 };

static unsigned char cls[256];
static unsigned char lower[256];

static void cls_fill(void)
{
    for (int c = 0; c < 256; c++) {
        lower[c] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        unsigned char v = 0;
        if (c >= '0' && c <= '9') {
            v |= C_DIGIT | C_ALNUM;
        }
        if (c >= 'A' && c <= 'Z') {
            v |= C_UPPER | C_ALNUM;
        }
        if (c >= 'a' && c <= 'z') {
            v |= C_ALNUM;
        }
        if (c == '@') {
            v |= C_AT;
        }
        cls[c] = v;
    }
}

/* The tables are filled once, whichever scanning thread comes first. */
static void cls_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, cls_fill);
}

struct span {
    const uint8_t *p;
    size_t a, b;          /* the record [a, b) */
    uint64_t base;
    const struct pt_phi_sink *s;
    bool health;
    unsigned hits;
    /* the lower-cased bytes before the current candidate (see context()) */
    char win[48];
    size_t win_n, win_at, win_lo;
    uint32_t win_present;
    bool win_ready;
    uint64_t win_bigrams[11];  /* letter pairs present in the window (26 x 26 bits) */
};

static bool alnum_at(const struct span *t, size_t i)
{
    return i >= t->a && i < t->b && (cls[t->p[i]] & C_ALNUM);
}

/* A context word (lower case) in the `window` bytes before `i`, case-insensitively. The
 * 48 bytes before `i` are lower-cased once per candidate (cached in the span); a word is
 * looked for only when its first letter occurs there. */
static const char *context(struct span *t, size_t i, const char *const *words, size_t window)
{
    if (!t->win_ready || t->win_at != i || (t->win_n < window && t->win_lo > t->a)) {
        size_t want = window < sizeof t->win ? window : sizeof t->win;
        size_t lo = i > t->a + want ? i - want : t->a;
        t->win_n = i - lo;
        t->win_lo = lo;
        t->win_present = 0;
        memset(t->win_bigrams, 0, sizeof t->win_bigrams);
        unsigned prev = 26;
        for (size_t k = 0; k < t->win_n; k++) {
            unsigned char c = lower[t->p[lo + k]];
            t->win[k] = (char)c;
            unsigned l = c >= 'a' && c <= 'z' ? (unsigned)(c - 'a') : 26;
            if (l < 26) {
                t->win_present |= 1u << l;
                if (prev < 26) {
                    unsigned bit = prev * 26 + l;
                    t->win_bigrams[bit >> 6] |= 1ull << (bit & 63);
                }
            }
            prev = l;
        }
        t->win_at = i;
        t->win_ready = true;
    }
    size_t n = window < t->win_n ? window : t->win_n;
    const char *buf = t->win + (t->win_n - n);
    size_t lo = i - n;
    for (const char *const *w = words; *w != NULL; w++) {
        unsigned char f = (unsigned char)(*w)[0], g = (unsigned char)(*w)[1];
        if (f >= 'a' && f <= 'z' && !(t->win_present & (1u << (f - 'a')))) {
            continue;
        }
        if (f >= 'a' && f <= 'z' && g >= 'a' && g <= 'z') {
            unsigned bit = (unsigned)(f - 'a') * 26 + (unsigned)(g - 'a');
            if (!(t->win_bigrams[bit >> 6] & (1ull << (bit & 63)))) {
                continue;
            }
        }
        /* the window is at most 48 bytes: a plain search beats memmem's set-up */
        const char *word = *w;
        for (size_t k = 0; k < n; k++) {
            if (buf[k] != word[0]) {
                continue;
            }
            size_t m = 1;
            while (word[m] != '\0' && k + m < n && buf[k + m] == word[m]) {
                m++;
            }
            if (word[m] != '\0') {
                continue;
            }
            size_t abs = lo + k;
            /* short words must start a word ("dx", not "index") */
            if (m > 4 || abs == t->a || !(cls[t->p[abs - 1]] & C_ALNUM)) {
                return word;
            }
        }
    }
    return NULL;
}

static const char *const ssn_words[] = {"ssn", "social security", "ss#", "soc sec", "ss no",
                                        "social sec", NULL};
static const char *const phone_words[] = {"phone", "tel", "cell", "mobile", "fax", "contact",
                                          "call", NULL};
static const char *const dob_words[] = {"dob", "d.o.b", "birth", "born", "bday", NULL};
static const char *const npi_words[] = {"npi", "provider", NULL};
static const char *const dea_words[] = {"dea", NULL};
static const char *const mbi_words[] = {"medicare", "mbi", "beneficiary", "hicn", NULL};
static const char *const card_words[] = {"card", "visa", "mastercard", "amex", "discover",
                                         "credit", "payment", NULL};
static const char *const mrn_words[] = {"mrn", "medical record", "med rec", "med. rec",
                                        "patient id", "patient #", "patient no", "chart",
                                        "record no", "record #", "patientid", "patient_id",
                                        "patient-id", NULL};
static const char *const zip_words[] = {"zip", "postal", NULL};
static const char *const plan_words[] = {"member id", "member #", "member no", "subscriber id",
                                         "policy", "insurance id", "plan id", "medicaid id",
                                         "id card", NULL};
static const char *const icd_words[] = {"icd", "diagnos", "dx", "diag", NULL};
static const char *const health_words[] = {
    "diagnos", "patient", "medical", "treatment", "prescri", "medication", "clinical",
    "hospital", "radiolog", "admission", "admitted", "discharge", "allerg", "procedure",
    "insurance", "health", "physician", "symptom", "therapy", "surgery", "oncolog", "biopsy",
    "lab result", "dx", "mrn", "icd", "imaging", "mri", "ct scan", "x-ray", "pathology",
    "prognosis", "chemotherapy", "dialysis", "pregnan", "hiv", "diabetes", "cancer", "vaccin",
    "immuniz", NULL};

static void emit(struct span *t, enum pt_phi_type type, const char *value, size_t at,
                 double conf, const char *reason, const char *state)
{
    struct pt_phi_hit h = {.type = type, .value = value, .field = "text", .detector = "text",
                           .offset = t->base + at, .confidence = conf, .reason = reason,
                           .state = state ? state : "", .issuer = "", .subject = true};
    t->hits++;
    if (t->s->hit != NULL) {
        t->s->hit(t->s->arg, &h);
    }
}

static void reason_ctx(char *out, size_t len, const char *what, const char *word)
{
    if (word != NULL) {
        snprintf(out, len, "%s; context \"%s\"", what, word);
    } else {
        snprintf(out, len, "%s", what);
    }
}

/* ---- numbers ------------------------------------------------------------------------------- */

struct numtok {
    char d[24];             /* digits */
    size_t nd;
    unsigned groups[8];     /* digit counts per group */
    char seps[8];           /* separator after each group */
    unsigned ng;
    size_t end;             /* index after the token */
};

/* Digits with single separators between groups, as long as it stays a number. */
static void read_number(const struct span *t, size_t i, struct numtok *k)
{
    memset(k, 0, sizeof *k);
    size_t j = i;
    unsigned cur = 0;
    while (j < t->b && k->nd < sizeof k->d - 1) {
        uint8_t c = t->p[j];
        if (c >= '0' && c <= '9') {
            k->d[k->nd++] = (char)c;
            cur++;
            j++;
            continue;
        }
        bool sep = c == '-' || c == ' ' || c == '.' || c == '/';
        if (sep && cur > 0 && j + 1 < t->b && (cls[t->p[j + 1]] & C_DIGIT) && k->ng < 7) {
            k->groups[k->ng] = cur;
            k->seps[k->ng++] = (char)c;
            cur = 0;
            j++;
            continue;
        }
        break;
    }
    if (cur > 0 && k->ng < 8) {
        k->groups[k->ng] = cur;
        k->seps[k->ng++] = 0;
    }
    k->end = j;
}

static bool groups_are(const struct numtok *k, unsigned n, const unsigned *g, const char *seps)
{
    if (k->ng != n) {
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        if (k->groups[i] != g[i]) {
            return false;
        }
        if (i + 1 < n && strchr(seps, k->seps[i]) == NULL) {
            return false;
        }
    }
    for (unsigned i = 1; i + 1 < n; i++) { /* one separator kind throughout */
        if (k->seps[i] != k->seps[0] && k->seps[0] != ')') {
            return false;
        }
    }
    return true;
}

static bool nanp(const char *d)
{
    if (d[0] < '2' || d[3] < '2') {
        return false;
    }
    /* 555-0100 to 555-0199 are reserved for fiction */
    return !(memcmp(d + 3, "555", 3) == 0 && d[6] == '0' && d[7] == '1');
}

/* A house number followed by words and a street suffix within a few words. */
/* The value of a hit, cut to fit, in one case: addresses upper, e-mail addresses lower. */
static void copy_case(char *out, size_t cap, const uint8_t *p, size_t n, bool upper)
{
    n = n < cap - 1 ? n : cap - 1;
    for (size_t q = 0; q < n; q++) {
        out[q] = (char)(upper ? toupper(p[q]) : tolower(p[q]));
    }
    out[n] = '\0';
}

static bool street_address(struct span *t, size_t i, const struct numtok *k)
{
    static const char *const suffix[] = {"street", "st", "avenue", "ave", "road", "rd",
                                         "boulevard", "blvd", "drive", "dr", "lane", "ln",
                                         "way", "court", "ct", "place", "pl", "terrace",
                                         "circle", "cir", "parkway", "pkwy", "highway", "hwy",
                                         NULL};
    /* street names are written with a capital or a number ("12 Elm St", "5 3rd Ave") */
    if (k->ng != 1 || k->nd > 6 || k->end + 1 >= t->b || t->p[k->end] != ' ' ||
        !(cls[t->p[k->end + 1]] & (C_UPPER | C_DIGIT))) {
        return false;
    }
    size_t j = k->end + 1;
    for (unsigned w = 0; w < 5 && j < t->b; w++) {
        size_t s = j;
        while (j < t->b && ((cls[t->p[j]] & C_ALNUM) || t->p[j] == '\'')) {
            j++;
        }
        size_t wl = j - s;
        if (wl == 0) {
            return false;
        }
        if (w > 0 && wl <= 9) {
            unsigned char f = (unsigned char)tolower(t->p[s]);
            for (const char *const *x = suffix; *x != NULL; x++) {
                if ((unsigned char)(*x)[0] == f && strlen(*x) == wl &&
                    strncasecmp((const char *)t->p + s, *x, wl) == 0 &&
                    (j >= t->b || !(cls[t->p[j]] & C_ALNUM))) {
                    char v[128];
                    copy_case(v, sizeof v, t->p + i, j - i, true);
                    emit(t, PT_PHI_ADDRESS, v, i, 0.75, "house number, street and suffix", "");
                    return true;
                }
            }
        }
        if (j < t->b && t->p[j] == '.') {
            j++;
        }
        if (j >= t->b || t->p[j] != ' ') {
            return false;
        }
        j++;
    }
    return false;
}

/* ZIP after a state abbreviation ("Boston, MA 02118") or a "zip" context word. */
static bool zip_code(struct span *t, size_t i, const struct numtok *k)
{
    bool zip5 = k->ng == 1 && k->nd == 5;
    bool zip9 = k->ng == 2 && k->groups[0] == 5 && k->groups[1] == 4 && k->seps[0] == '-';
    if (!zip5 && !zip9) {
        return false;
    }
    char st[3] = "";
    if (i >= t->a + 3 && t->p[i - 1] == ' ' && isupper(t->p[i - 2]) && isupper(t->p[i - 3]) &&
        (i < t->a + 4 || !(cls[t->p[i - 4]] & C_ALNUM))) {
        st[0] = (char)t->p[i - 3];
        st[1] = (char)t->p[i - 2];
    }
    const char *w = context(t, i, zip_words, 16);
    if (st[0] != '\0' && !pt_phi_state_valid(st)) {
        st[0] = '\0';
    }
    if (st[0] == '\0' && w == NULL) {
        return false;
    }
    char z[6];
    memcpy(z, k->d, 5);
    z[5] = '\0';
    const char *zs = pt_phi_zip_state(z);
    emit(t, PT_PHI_ZIP, z, i, st[0] ? 0.85 : 0.7, st[0] ? "ZIP after a state abbreviation"
                                                       : "ZIP after a context word",
         st[0] ? st : zs);
    return true;
}

static bool date_of(const struct numtok *k, char ymd[9])
{
    static const unsigned iso[] = {4, 2, 2}, us[] = {2, 2, 4};
    if (groups_are(k, 3, iso, "-/.")) {
        memcpy(ymd, k->d, 8);
    } else if (k->ng == 3 && k->groups[2] == 4 && k->groups[0] <= 2 && k->groups[1] <= 2 &&
               k->seps[0] == '/' && k->seps[1] == '/') {
        char m[3] = "00", d[3] = "00";
        memcpy(m + 2 - k->groups[0], k->d, k->groups[0]);
        memcpy(d + 2 - k->groups[1], k->d + k->groups[0], k->groups[1]);
        memcpy(ymd, k->d + k->groups[0] + k->groups[1], 4);
        memcpy(ymd + 4, m, 2);
        memcpy(ymd + 6, d, 2);
    } else if (groups_are(k, 3, us, "-")) {
        memcpy(ymd, k->d + 4, 4);
        memcpy(ymd + 4, k->d, 4);
    } else if (k->ng == 1 && k->nd == 8) {
        memcpy(ymd, k->d, 8);
    } else {
        return false;
    }
    ymd[8] = '\0';
    return pt_phi_date_valid(ymd);
}

/* "(617) 555-2368": the parenthesis was just before `i`. Returns the end, or i. */
static size_t paren_phone(struct span *t, size_t i)
{
    char d[11];
    size_t nd = 0, j = i;
    unsigned cur = 0;
    while (j < t->b && nd < 10) {
        uint8_t c = t->p[j];
        if (c >= '0' && c <= '9') {
            d[nd++] = (char)c;
            cur++;
            j++;
        } else if (c == ')' && nd == 3) {
            j++;
            if (j < t->b && t->p[j] == ' ') {
                j++;
            }
            cur = 0;
        } else if (c == '-' && nd == 6 && cur == 3) {
            j++;
            cur = 0;
        } else {
            break;
        }
    }
    if (nd != 10 || cur != 4 || alnum_at(t, j) || !nanp(d)) {
        return i;
    }
    d[10] = '\0';
    const char *w = context(t, i, phone_words, 32);
    char why[96];
    reason_ctx(why, sizeof why, "NANP number (ddd) ddd-dddd", w);
    emit(t, PT_PHI_PHONE, d, i - 1, w ? 0.9 : 0.7, why, "");
    return j;
}

/* A health plan member id (letters and digits, 4 digits or more) after a plan label. */
static bool plan_id(struct span *t, size_t i, const char *v, size_t n)
{
    unsigned digits = 0;
    for (size_t q = 0; q < n; q++) {
        digits += v[q] >= '0' && v[q] <= '9';
    }
    const char *w = digits >= 4 ? context(t, i, plan_words, 24) : NULL;
    if (w == NULL) {
        return false;
    }
    char val[20], why[96];
    snprintf(val, sizeof val, "%.*s", (int)n, v);
    reason_ctx(why, sizeof why, "member id after a health plan label", w);
    emit(t, PT_PHI_PLAN_ID, val, i, 0.85, why, "");
    return true;
}

static size_t try_number(struct span *t, size_t i)
{
    struct numtok k;
    if (i > t->a && t->p[i - 1] == '(') {
        size_t j = paren_phone(t, i);
        if (j > i) {
            return j;
        }
    }
    read_number(t, i, &k);
    if (k.ng == 1 && k.nd <= 4 && !alnum_at(t, k.end)) {
        /* a short bare number can only start a street address */
        street_address(t, i, &k);
        return k.end;
    }
    if (alnum_at(t, k.end) && !(k.end < t->b && t->p[k.end] == ' ')) {
        /* glued to letters ("12ab"): an MBI starts with a digit and a letter */
        if (k.nd == 1 && k.end + 10 <= t->b) {
            char m[12];
            size_t j = i, q = 0;
            while (j < t->b && q < 11 && ((cls[t->p[j]] & (C_DIGIT | C_UPPER)) ||
                                          (t->p[j] == '-' && (q == 4 || q == 7)))) {
                if (t->p[j] != '-') {
                    m[q++] = (char)t->p[j];
                }
                j++;
            }
            if (q == 11 && !alnum_at(t, j) && pt_phi_mbi_valid(m)) {
                m[11] = '\0';
                const char *w = context(t, i, mbi_words, 48);
                char why[96];
                reason_ctx(why, sizeof why, "Medicare MBI format", w);
                emit(t, PT_PHI_MBI, m, i, w ? 0.95 : 0.7, why, "");
                return j;
            }
        }
        size_t j = k.end;
        while (j < t->b && (cls[t->p[j]] & C_ALNUM)) {
            j++;
        }
        return j;
    }
    char why[128];
    static const unsigned ssn_g[] = {3, 2, 4}, ph_g[] = {3, 3, 4}, card4[] = {4, 4, 4, 4};
    if (groups_are(&k, 3, ssn_g, "- ")) {
        const char *w = context(t, i, ssn_words, 32);
        if (pt_phi_ssn_valid(k.d) && !pt_phi_ssn_denied(k.d)) {
            char v[10];
            memcpy(v, k.d, 9);
            v[9] = '\0';
            reason_ctx(why, sizeof why, "SSN ddd-dd-dddd, SSA rules", w);
            emit(t, PT_PHI_SSN, v, i, w ? 0.95 : 0.8, why, "");
        }
        return k.end;
    }
    if (k.ng == 1 && k.nd == 9) {
        const char *w = context(t, i, ssn_words, 24);
        if (w != NULL && pt_phi_ssn_valid(k.d) && !pt_phi_ssn_denied(k.d)) {
            char v[10];
            memcpy(v, k.d, 9);
            v[9] = '\0';
            reason_ctx(why, sizeof why, "9 digits, SSA rules", w);
            emit(t, PT_PHI_SSN, v, i, 0.9, why, "");
            return k.end;
        }
    }
    if (groups_are(&k, 3, ph_g, "-.") || (k.ng == 1 && k.nd == 10) ||
        (k.ng == 4 && k.groups[0] == 1 && k.d[0] == '1' && k.groups[1] == 3 && k.groups[2] == 3 &&
         k.groups[3] == 4 && i > t->a && t->p[i - 1] == '+')) {
        const char *digits = k.nd == 11 ? k.d + 1 : k.d;
        const char *w = context(t, i, phone_words, 32);
        if (k.ng == 1) {
            const char *nw = context(t, i, npi_words, 24);
            if (nw != NULL && pt_phi_npi_valid(k.d)) {
                char v[11];
                memcpy(v, k.d, 10);
                v[10] = '\0';
                reason_ctx(why, sizeof why, "NPI Luhn (80840 prefix)", nw);
                emit(t, PT_PHI_NPI, v, i, 0.95, why, "");
                return k.end;
            }
            const char *mw = context(t, i, mrn_words, 24);
            if (w == NULL && mw != NULL) {
                goto mrn;
            }
        }
        if ((k.ng > 1 || w != NULL) && nanp(digits)) {
            char v[11];
            memcpy(v, digits, 10);
            v[10] = '\0';
            reason_ctx(why, sizeof why, "NANP number", w);
            emit(t, PT_PHI_PHONE, v, k.ng == 4 ? i - 1 : i, w ? 0.9 : 0.7, why, "");
            return k.end;
        }
    }
    {
        char ymd[9];
        if (date_of(&k, ymd)) {
            const char *w = context(t, i, dob_words, 24);
            if (w != NULL) {
                reason_ctx(why, sizeof why, "calendar date", w);
                emit(t, PT_PHI_DOB, ymd, i, 0.9, why, "");
            }
            return k.end;
        }
    }
    if (k.nd >= 13 && k.nd <= 19 && k.d[0] >= '3' && k.d[0] <= '6' &&
        (groups_are(&k, 4, card4, "- ") || k.ng == 1) && pt_phi_luhn_valid(k.d, k.nd) &&
        !pt_phi_card_denied(k.d, k.nd)) {
        const char *w = context(t, i, card_words, 32);
        if (k.ng > 1 || w != NULL) {
            reason_ctx(why, sizeof why, "card number, Luhn", w);
            emit(t, PT_PHI_CARD, k.d, i, w ? 0.95 : 0.75, why, "");
        }
        return k.end;
    }
    if (zip_code(t, i, &k) || street_address(t, i, &k)) {
        return k.end;
    }
mrn:
    if (k.ng == 1 && k.nd >= 6 && k.nd <= 16 &&
        plan_id(t, i, (const char *)t->p + i, k.end - i)) {
        return k.end;
    }
    if (k.ng == 1 && k.nd >= 5 && k.nd <= 15) {
        const char *w = context(t, i, mrn_words, 24);
        if (w != NULL) {
            reason_ctx(why, sizeof why, "number after a record-number word", w);
            emit(t, PT_PHI_MRN, k.d, i, 0.9, why, "");
        } else if (pt_phi_config_mrn_mask((const char *)t->p + i, k.end - i)) {
            char v[24];
            snprintf(v, sizeof v, "%.*s", (int)(k.end - i), (const char *)t->p + i);
            emit(t, PT_PHI_MRN, v, i, 0.8, "institution MRN format (phi.conf)", "");
        }
    }
    return k.end;
}

/* ---- tokens starting with a capital letter ------------------------------------------------- */

static size_t try_upper(struct span *t, size_t i)
{
    size_t j = i;
    while (j < t->b && (cls[t->p[j]] & C_ALNUM) && j - i < 16) {
        j++;
    }
    size_t n = j - i;
    if (j < t->b && (cls[t->p[j]] & C_ALNUM)) {
        while (j < t->b && (cls[t->p[j]] & C_ALNUM)) {
            j++;
        }
        return j;
    }
    /* every identifier read here holds a digit, unless an institution mask says otherwise */
    bool digit = false;
    for (size_t q = i + 1; q < j && !digit; q++) {
        digit = (cls[t->p[q]] & C_DIGIT) != 0;
    }
    if (!digit && !pt_phi_config_has_masks()) {
        return j;
    }
    const char *s = (const char *)t->p + i;
    char why[96];
    /* DEA: two letters, seven digits */
    if (n == 9 && (cls[(uint8_t)s[1]] & C_UPPER || s[1] == '9') && isdigit((uint8_t)s[2])) {
        const char *w = context(t, i, dea_words, 24);
        if (w != NULL && pt_phi_dea_valid(s)) {
            char v[10];
            memcpy(v, s, 9);
            v[9] = '\0';
            reason_ctx(why, sizeof why, "DEA checksum", w);
            emit(t, PT_PHI_DEA, v, i, 0.95, why, "");
            return j;
        }
    }
    /* ICD-10-CM: A00, A00.0, S72.001A (the point may be missing) */
    if (n >= 3 && n <= 7 && isdigit((uint8_t)s[1]) &&
        (isdigit((uint8_t)s[2]) || s[2] == 'A' || s[2] == 'B')) {
        size_t e = j;
        char code[9];
        memcpy(code, s, 3);
        size_t cn = 3;
        if (n == 3 && e + 1 < t->b && t->p[e] == '.' && (cls[t->p[e + 1]] & C_ALNUM)) {
            code[cn++] = '.';
            e++;
            while (e < t->b && (cls[t->p[e]] & C_ALNUM) && cn < 8) {
                code[cn++] = (char)toupper(t->p[e]);
                e++;
            }
        } else if (n > 3) {
            code[cn++] = '.';
            for (size_t q = 3; q < n && cn < 8; q++) {
                code[cn++] = s[q];
            }
        }
        code[cn] = '\0';
        const char *w = context(t, i, icd_words, 40);
        if (w != NULL && !(e < t->b && (cls[t->p[e]] & C_ALNUM)) && pt_phi_config_icd10(code)) {
            reason_ctx(why, sizeof why, "ICD-10-CM code table", w);
            emit(t, PT_PHI_DIAGNOSIS, code, i, 0.9, why, "");
            t->health = true;
            if (t->s->health != NULL) {
                t->s->health(t->s->arg, "ICD-10-CM diagnosis code");
            }
            return e;
        }
    }
    /* institution MRN masks ("RAD0012345") */
    if (n >= 4 && pt_phi_config_mrn_mask(s, n)) {
        const char *w = context(t, i, mrn_words, 24);
        char v[20];
        memcpy(v, s, n);
        v[n] = '\0';
        emit(t, PT_PHI_MRN, v, i, w ? 0.95 : 0.8,
             w ? "institution MRN format (phi.conf) and context" : "institution MRN format (phi.conf)",
             "");
        return j;
    }
    /* health plan member ids after a plan label ("Member ID: HPH013473582") */
    if (n >= 6 && n <= 16 && plan_id(t, i, s, n)) {
        return j;
    }
    /* MRN with context: a token of letters and digits with 4 digits or more */
    if (n >= 5 && n <= 15) {
        unsigned digits = 0;
        for (size_t q = 0; q < n; q++) {
            digits += isdigit((uint8_t)s[q]) != 0;
        }
        if (digits >= 4) {
            const char *w = context(t, i, mrn_words, 24);
            if (w != NULL) {
                char v[20];
                memcpy(v, s, n);
                v[n] = '\0';
                reason_ctx(why, sizeof why, "identifier after a record-number word", w);
                emit(t, PT_PHI_MRN, v, i, 0.85, why, "");
            }
        }
    }
    return j;
}

/* ---- names after a label -------------------------------------------------------------------- */

/* Labels that introduce the record's own patient's name, as a whole field label (from the
 * line start or a field separator to the colon), lower case with single spaces. Staff and
 * other people ("Provider Name:", "Guarantor:") are not in the list. */
static const char *const name_labels[] = {
    "patient", "patient name", "pt name", "pt", "name", "patient full name", "full name",
    "member name", "member", "subscriber name", "resident", "resident name", "client name",
    "patient's name", "name of patient", "patient (last, first)", "name (last, first)", NULL};

/* A cheap first test at the ':' at i: the label before it ends like one of name_labels
 * ("...ient", "...name", "pt", "...mber", "...dent", "...rst)"). */
__attribute__((noinline)) static bool label_tail(const struct span *t, size_t i)
{
    static const char *const tails[] = {"ient", "name", "mber", "dent", "rst)", NULL};
    if (i < t->a + 2) {
        return false;
    }
    char w[4] = {0, 0, 0, 0};
    size_t k = i - t->a < 4 ? i - t->a : 4;
    for (size_t q = 0; q < k; q++) {
        w[4 - k + q] = (char)lower[t->p[i - k + q]];
    }
    if (w[2] == 'p' && w[3] == 't' && (k < 3 || !(cls[(uint8_t)w[1]] & C_ALNUM))) {
        return true; /* "pt" */
    }
    if (k < 4) {
        return false;
    }
    for (const char *const *x = tails; *x != NULL; x++) {
        if (memcmp(w, *x, 4) == 0) {
            return true;
        }
    }
    return false;
}

/* Is the capital at i the first letter after "<label>:" where the label is a field of its
 * own (it starts a line, or follows a tab, '|' or two spaces)? */
__attribute__((noinline)) static bool after_name_label(const struct span *t, size_t i)
{
    size_t j = i;
    while (j > t->a && (t->p[j - 1] == ' ' || t->p[j - 1] == '\t') && i - j < 4) {
        j--;
    }
    if (j == t->a || t->p[j - 1] != ':') {
        return false;
    }
    size_t colon = j - 1, s = colon;
    while (s > t->a && colon - s < 32) {
        uint8_t c = t->p[s - 1];
        if (c == '\n' || c == '\r' || c == '\t' || c == '|' || c == '\f' ||
            (c == ' ' && s >= t->a + 2 && t->p[s - 2] == ' ')) {
            break;
        }
        s--;
    }
    if (s > t->a && colon - s >= 32) {
        return false;
    }
    char label[40];
    size_t k = 0;
    for (size_t q = s; q < colon && k + 1 < sizeof label; q++) {
        uint8_t c = lower[t->p[q]];
        if (c == ' ' && (k == 0 || label[k - 1] == ' ')) {
            continue;
        }
        label[k++] = (char)c;
    }
    while (k > 0 && label[k - 1] == ' ') {
        k--;
    }
    label[k] = '\0';
    for (const char *const *w = name_labels; *w != NULL; w++) {
        if (strcmp(label, *w) == 0) {
            return true;
        }
    }
    return false;
}

/* A personal name after a name label: two to five words of letters (UTF-8 letters too),
 * apostrophes, hyphens and periods, "LAST, FIRST M" or "First Last", ending at the line end,
 * a tab, '|', two spaces or a digit. Returns the end, or i when it is not a name. */
__attribute__((noinline)) static size_t try_name(struct span *t, size_t i)
{
    size_t j = i, words = 0, commas = 0, end = i, prev_end = i;
    bool in_word = false;
    while (j < t->b && j - i < 96) {
        uint8_t c = t->p[j];
        bool letter = (cls[c] & C_ALNUM && !(cls[c] & C_DIGIT)) || c >= 0x80;
        if (letter || ((c == '\'' || c == '-' || c == '.') && in_word)) {
            if (!in_word) {
                words++;
                prev_end = end;
            }
            in_word = true;
            j++;
            end = j;
            continue;
        }
        if (c == ',' && in_word && commas == 0) {
            commas++;
            in_word = false;
            j++;
            continue;
        }
        if (c == ' ' && !(j + 1 < t->b && t->p[j + 1] == ' ')) {
            in_word = false;
            j++;
            continue;
        }
        break;
    }
    if (j < t->b && t->p[j] == ':' && in_word) {
        end = prev_end; /* "Jane Doe, DOB: ...": the last word is the next label */
        words--;
        while (end > i && (t->p[end - 1] == ',' || t->p[end - 1] == ' ')) {
            end--;
        }
    } else if (j < t->b && (cls[t->p[j]] & C_DIGIT)) {
        return i; /* "Name: Room 12": not a name */
    }
    if (words < 2 || words > 5) {
        return i;
    }
    char norm[160];
    if (!pt_phi_name_norm((const char *)t->p + i, end - i, true, norm, sizeof norm)) {
        return i;
    }
    emit(t, PT_PHI_NAME, norm, i, 0.85, "personal name after a patient-name label", "");
    return end;
}

/* ---- names in JSON that is not FHIR ---------------------------------------------------------- */

/* The JSON string key ending just before the ':' at i (lower case, '_' and '-' dropped). */
static bool json_key(const struct span *t, size_t i, char *out, size_t len)
{
    size_t e = i - 1, s = e; /* t->p[e] is the closing quote */
    while (s > t->a && t->p[s - 1] != '"' && e - s < 40) {
        s--;
    }
    if (s == t->a || t->p[s - 1] != '"' || e - s >= 40) {
        return false;
    }
    size_t k = 0;
    for (size_t q = s; q < e && k + 1 < len; q++) {
        if (t->p[q] != '_' && t->p[q] != '-') {
            out[k++] = (char)lower[t->p[q]];
        }
    }
    out[k] = '\0';
    return true;
}

/* The string value after the ':' at i: [*vs, *ve) without quotes; false for other values. */
static bool json_string(const struct span *t, size_t i, size_t *vs, size_t *ve)
{
    size_t j = i + 1;
    while (j < t->b && (t->p[j] == ' ' || t->p[j] == '\t')) {
        j++;
    }
    if (j >= t->b || t->p[j] != '"') {
        return false;
    }
    size_t e = j + 1;
    while (e < t->b && t->p[e] != '"' && t->p[e] != '\\' && e - j < 96) {
        e++;
    }
    if (e >= t->b || t->p[e] != '"') {
        return false;
    }
    *vs = j + 1;
    *ve = e;
    return *ve > *vs;
}

static bool key_in(const char *k, const char *const *list)
{
    for (; *list != NULL; list++) {
        if (strcmp(k, *list) == 0) {
            return true;
        }
    }
    return false;
}

/* "name": "Ashley Taylor", or "family": "Taylor" with "given": "Ashley" in the same object:
 * a personal name of the record's subject (keys of other people are not in the lists). */
__attribute__((noinline)) static size_t json_name(struct span *t, size_t i)
{
    static const char *const whole[] = {"name", "patientname", "fullname", "ptname", NULL};
    static const char *const fam[] = {"family", "familyname", "last", "lastname", "surname",
                                      NULL};
    static const char *const giv[] = {"given", "givenname", "first", "firstname", NULL};
    char k[48];
    size_t vs, ve;
    if (!json_key(t, i, k, sizeof k) || !json_string(t, i, &vs, &ve)) {
        return i;
    }
    char norm[200];
    if (key_in(k, whole)) {
        if (pt_phi_name_norm((const char *)t->p + vs, ve - vs, true, norm, sizeof norm) &&
            strchr(norm, '^') != NULL) {
            emit(t, PT_PHI_NAME, norm, vs, 0.85, "personal name in a JSON name member", "");
        }
        return ve + 1;
    }
    if (!key_in(k, fam)) {
        return i;
    }
    /* the given name in the same object, within a short distance */
    for (size_t q = ve + 1; q < t->b && q < ve + 160 && t->p[q] != '}' && t->p[q] != '{'; q++) {
        size_t gs, ge;
        char gk[48];
        if (t->p[q] == ':' && t->p[q - 1] == '"' && json_key(t, q, gk, sizeof gk) &&
            key_in(gk, giv) && json_string(t, q, &gs, &ge)) {
            char raw[200];
            snprintf(raw, sizeof raw, "%.*s^%.*s", (int)(ve - vs), (const char *)t->p + vs,
                     (int)(ge - gs), (const char *)t->p + gs);
            if (pt_phi_name_norm(raw, strlen(raw), false, norm, sizeof norm)) {
                emit(t, PT_PHI_NAME, norm, vs, 0.85, "family and given names in a JSON object",
                     "");
            }
            return ge + 1;
        }
    }
    return ve + 1;
}

/* ---- email ----------------------------------------------------------------------------------- */

static bool local_char(uint8_t c)
{
    return (cls[c] & C_ALNUM) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* Last labels that are file name extensions and no top-level domain (none is delegated in the
 * IANA root zone): "logo@2x.png" and "WC3A...@LTe9...AABM.png" in a URL are file names, not
 * addresses. Extensions that are also TLDs (.zip, .mov, .app) are not listed. */
static const char *const file_exts[] = {
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "css", "js",
    "ttf", "eot", "json", "xml", "htm", "html", "php", "asp", "aspx", "jsp", "txt", "pdf", NULL,
};

static bool file_ext(const uint8_t *p, size_t n)
{
    for (const char *const *x = file_exts; *x != NULL; x++) {
        if (strlen(*x) == n && strncasecmp((const char *)p, *x, n) == 0) {
            return true;
        }
    }
    return false;
}

static size_t try_email(struct span *t, size_t at)
{
    size_t s = at;
    while (s > t->a && local_char(t->p[s - 1]) && at - s < 64) {
        s--;
    }
    if (s == at || t->p[s] == '.') {
        return at + 1;
    }
    size_t e = at + 1, dots = 0, last_dot = 0;
    while (e < t->b && ((cls[t->p[e]] & C_ALNUM) || t->p[e] == '-' || t->p[e] == '.') &&
           e - at < 255) {
        if (t->p[e] == '.') {
            dots++;
            last_dot = e;
        }
        e++;
    }
    while (e > at + 1 && t->p[e - 1] == '.') { /* sentence end */
        e--;
        dots--;
    }
    while (last_dot > at && (last_dot >= e || t->p[last_dot] != '.')) {
        last_dot--;
    }
    if (dots == 0 || last_dot + 3 > e) {
        return at + 1;
    }
    for (size_t q = last_dot + 1; q < e; q++) {
        if (!isalpha(t->p[q])) {
            return e;
        }
    }
    if (file_ext(t->p + last_dot + 1, e - last_dot - 1)) {
        return e;
    }
    char v[320];
    copy_case(v, sizeof v, t->p + s, e - s, false);
    emit(t, PT_PHI_EMAIL, v, s, 0.9, "address syntax", "");
    return e;
}

/* ---- records ---------------------------------------------------------------------------------- */

static void health_terms(struct span *t)
{
    if (t->health || t->s->health == NULL) {
        return;
    }
    for (size_t i = t->a; i < t->b; i++) {
        uint8_t c = (uint8_t)tolower(t->p[i]);
        if (c < 'a' || c > 'z' || (i > t->a && (cls[t->p[i - 1]] & C_ALNUM))) {
            continue;
        }
        for (const char *const *w = health_words; *w != NULL; w++) {
            size_t wl = strlen(*w);
            if ((*w)[0] == c && i + wl <= t->b &&
                strncasecmp((const char *)t->p + i, *w, wl) == 0 &&
                (wl > 3 || !alnum_at(t, i + wl))) {
                char what[64];
                snprintf(what, sizeof what, "health term \"%s\"", *w);
                t->s->health(t->s->arg, what);
                t->health = true;
                return;
            }
        }
    }
}

/* SWAR test (Bit Twiddling Hacks, "determine if a word has a byte between m and n"): does
 * any of the 8 bytes lie in 0x30..0x5A (digits, '@', capitals and a few signs)? Bytes with
 * the top bit set never count, as the scanner never starts on them. */
static inline bool any_interesting(uint64_t x)
{
    const uint64_t ones = ~0ull / 255, m = 0x2f, n = 0x5b;
    return ((ones * (127 + n) - (x & ones * 127)) & ~x & ((x & ones * 127) + ones * (127 - m)) &
            ones * 128) != 0;
}

static void scan_span(struct span *t)
{
    size_t i = t->a;
    while (i < t->b) {
        if (i + 8 <= t->b) {
            uint64_t w;
            memcpy(&w, t->p + i, 8);
            if (!any_interesting(w)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = t->p[i];
        unsigned k = cls[c];
        if (c == ':' && i > t->a && t->p[i - 1] == '"') {
            size_t e = json_name(t, i);
            i = e > i ? e : i + 1;
            continue;
        }
        if (c == ':') {
            /* "Name: Ñúñez, María": a name after a patient-name label, whatever its letters.
             * Every label in name_labels ends in 't', 'e', 'r' or ')': a cheap first test. */
            if (!label_tail(t, i)) {
                i++;
                continue;
            }
            size_t j = i + 1;
            while (j < t->b && (t->p[j] == ' ' || t->p[j] == '\t') && j - i < 4) {
                j++;
            }
            if (j < t->b && ((cls[t->p[j]] & C_ALNUM && !(cls[t->p[j]] & C_DIGIT)) ||
                             t->p[j] >= 0xc0) &&
                after_name_label(t, j)) {
                size_t e = try_name(t, j);
                if (e > j) {
                    i = e;
                    continue;
                }
            }
            i++;
            continue;
        }
        if (k == 0 || !(k & (C_DIGIT | C_UPPER | C_AT))) {
            i++;
            continue;
        }
        if (k & C_AT) {
            i = try_email(t, i);
            continue;
        }
        if (i > t->a && (cls[t->p[i - 1]] & C_ALNUM)) {
            i++;
            continue;
        }
        if ((k & C_DIGIT) && i >= t->a + 2 && t->p[i - 1] == ':' &&
            (cls[t->p[i - 2]] & C_DIGIT) && i + 2 <= t->b && (cls[t->p[i + 1]] & C_DIGIT) &&
            (i + 2 == t->b || !(cls[t->p[i + 2]] & C_DIGIT))) {
            i += 2; /* minutes or seconds of a time of day ("12:58:03"): not an identifier */
            continue;
        }

        size_t next = (k & C_DIGIT) ? try_number(t, i) : try_upper(t, i);
        i = next > i ? next : i + 1;
    }
}

void pt_phi_text_record(const uint8_t *p, size_t n, uint64_t base, const struct pt_phi_sink *s)
{
    cls_init();
    struct span t = {.p = p, .a = 0, .b = n, .base = base, .s = s};
    scan_span(&t);
    if (t.hits > 0) {
        health_terms(&t);
    }
}

/* ---- records: segmenting text by its layout -------------------------------------------------- */
/*
 * A record is the smallest span that describes one person; the rules, in order:
 *  1. line records: when most lines of the text's head are log lines (they start with a
 *     date or time), JSON objects (JSON Lines), or rows of a delimited table without a header
 *     (the same count, two or more, of one of , TAB ; | on most lines), every line is a record;
 *  2. otherwise blocks end at blank lines, rule lines (----, ====, ****, ____, ####), form
 *     feeds, and at PT_PHI_TEXT_RECORD bytes on a line end;
 *  3. in a block, a repeated leading label starts a record at each line that begins with it
 *     ("PATIENT:", "Name:", "MRN:"): a patient label if one repeats, else the block's first
 *     label when it repeats;
 *  4. a record that still holds several distinct values of one subject identifier (SSN, MRN,
 *     Medicare id, plan id, a labelled name) is split at the start of each line where a new
 *     value of the most frequent such type first appears (fixed-width report rows, lists).
 * Hits of a block are collected first (rules 3 and 4 need them), then replayed per record.
 */

struct bufhit {
    bool health;             /* a health event rather than a hit */
    struct pt_phi_hit h;
    char value[328], reason[128], state[4];
};

struct hitbuf {
    struct bufhit *v;
    size_t n, cap;
    bool overflow;
};

static void copy_str(char *out, size_t cap, const char *in)
{
    size_t n = in != NULL ? strnlen(in, cap - 1) : 0;
    memcpy(out, in != NULL ? in : "", n);
    out[n] = '\0';
}

static void buf_hit(void *arg, const struct pt_phi_hit *h)
{
    struct hitbuf *b = arg;
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        struct bufhit *nv = nc <= PT_PHI_MAX_HITS_PER_OBJECT ? realloc(b->v, nc * sizeof *nv) : NULL;
        if (nv == NULL) {
            b->overflow = true;
            return;
        }
        b->v = nv;
        b->cap = nc;
    }
    struct bufhit *x = &b->v[b->n++];
    x->health = false;
    x->h = *h;
    copy_str(x->value, sizeof x->value, h->value);
    copy_str(x->reason, sizeof x->reason, h->reason);
    copy_str(x->state, sizeof x->state, h->state);
}

static void buf_health(void *arg, const char *what)
{
    struct pt_phi_hit h = {.value = "", .reason = what, .state = "", .offset = 0};
    struct hitbuf *b = arg;
    size_t before = b->n;
    buf_hit(arg, &h);
    if (b->n > before) {
        b->v[b->n - 1].health = true;
        b->v[b->n - 1].h.offset = b->n > 1 ? b->v[b->n - 2].h.offset : 0;
    }
}

static bool rule_line(const uint8_t *p, size_t a, size_t e)
{
    size_t k = 0;
    uint8_t r = 0;
    for (size_t i = a; i < e; i++) {
        uint8_t c = p[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '+' || c == '|') {
            continue;
        }
        if (c != '-' && c != '=' && c != '*' && c != '_' && c != '#' && c != '~') {
            return false;
        }
        if (r != 0 && c != r) {
            return false;
        }
        r = c;
        k++;
    }
    return k >= 3;
}

static bool blank_line(const uint8_t *p, size_t a, size_t e)
{
    for (size_t i = a; i < e; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
            return false;
        }
    }
    return true;
}

/* The leading label of a line ("patient name" for "Patient Name: ..."), lower case, or "". */
static void line_label(const uint8_t *p, size_t a, size_t e, char *out, size_t len)
{
    size_t i = a, k = 0;
    out[0] = '\0';
    while (i < e && (p[i] == ' ' || p[i] == '\t')) {
        i++;
    }
    if (i >= e || !isalpha(p[i])) {
        return;
    }
    for (; i < e && i - a < 40; i++) {
        uint8_t c = p[i];
        if (c == ':') {
            while (k > 0 && out[k - 1] == ' ') {
                k--;
            }
            out[k] = '\0';
            return;
        }
        if (!(isalnum(c) || c == ' ' || c == '#' || c == '.' || c == '\'' || c == '/') ||
            k + 1 >= len) {
            break;
        }
        out[k++] = (char)lower[c];
    }
    out[0] = '\0';
}

static bool patient_label(const char *l)
{
    static const char *const keys[] = {"patient", "patient name", "pt name", "pt", "name",
                                       "mrn", "medical record number", "medical record",
                                       "patient id", "member", "member name", "subscriber",
                                       "resident", "client", "account", "acct", NULL};
    for (const char *const *k = keys; *k != NULL; k++) {
        if (strcmp(l, *k) == 0) {
            return true;
        }
    }
    return false;
}

static bool starts_with_time(const uint8_t *p, size_t a, size_t e)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                         "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (a < e && p[a] == '[') {
        a++;
    }
    size_t d = 0;
    while (a + d < e && d < 4 && isdigit(p[a + d])) {
        d++;
    }
    if (d == 4 && a + 7 < e && (p[a + 4] == '-' || p[a + 4] == '/') && isdigit(p[a + 5])) {
        return true; /* 2024-01-05... */
    }
    if (d == 2 && a + 5 < e && (p[a + 2] == '/' || p[a + 2] == ':' || p[a + 2] == '-') &&
        isdigit(p[a + 3])) {
        return true; /* 01/05/2024 ..., 12:00:01 ... */
    }
    if (a + 4 < e && p[a + 3] == ' ') {
        for (int m = 0; m < 12; m++) {
            if (memcmp(p + a, months[m], 3) == 0) {
                return true; /* syslog "Jan  5 12:00:01" */
            }
        }
    }
    return false;
}

/* ---- headerless clinical tables: the patient identifier column ---------------------------- */

/* Lab analytes and units: a table whose rows name them is clinical. */
static const char *const clinical_words[] = {
    "mg/dl", "mmol/l", "g/dl", "k/ul", "u/l", "meq/l", "uiu/ml", "ng/ml", "glucose",
    "hemoglobin", "creatinine", "sodium", "potassium", "wbc", "platelet", "tsh", "a1c",
    "troponin", "inr", "bun", "culture", "specimen", NULL};

/* Does line [a, b) hold a clinical word (any case)? One pass over the line: the words that
 * can start at a byte are those whose first two letters match it and the next (a mask per
 * letter, both cases), so most bytes cost two table loads and no compare. */
static bool clinical_line(const uint8_t *p, size_t a, size_t b)
{
    enum { NW = sizeof clinical_words / sizeof clinical_words[0] - 1 };
    _Static_assert(NW <= 32, "one bit per word");
    static _Thread_local uint32_t at0[256], at1[256];
    static _Thread_local size_t wlen[NW];
    static _Thread_local bool ready;
    if (!ready) {
        for (size_t w = 0; w < NW; w++) {
            const uint8_t *x = (const uint8_t *)clinical_words[w];
            at0[x[0]] |= 1u << w;
            at0[toupper(x[0])] |= 1u << w;
            at1[x[1]] |= 1u << w;
            at1[toupper(x[1])] |= 1u << w;
            wlen[w] = strlen(clinical_words[w]);
        }
        ready = true;
    }
    for (size_t q = a; q + 1 < b; q++) {
        uint32_t m = at0[p[q]] & at1[p[q + 1]];
        while (m != 0) {
            unsigned w = (unsigned)__builtin_ctz(m);
            m &= m - 1;
            if (q + wlen[w] <= b &&
                strncasecmp((const char *)p + q, clinical_words[w], wlen[w]) == 0) {
                return true;
            }
        }
    }
    return false;
}

struct idcol {
    int col;            /* the column holding patient record numbers, -1 when none */
    char delim;
    size_t len;         /* their length (all digits) */
};

/* The i-th cell [*cs, *ce) of the line [a, b) split at delim. */
static bool cell_of(const uint8_t *p, size_t a, size_t b, char delim, int col, size_t *cs,
                    size_t *ce)
{
    int c = 0;
    size_t s = a;
    for (size_t i = a; i <= b; i++) {
        if (i == b || p[i] == (uint8_t)delim || p[i] == '\n' || p[i] == '\r') {
            if (c == col) {
                *cs = s;
                *ce = i;
                return true;
            }
            if (i == b || p[i] != (uint8_t)delim) {
                return false;
            }
            c++;
            s = i + 1;
        }
    }
    return false;
}

/* In a table without a header (rule 1), a column of all-digit values of one length (6 to 12)
 * in nine rows of ten, where values recur (a patient on several rows), in a table whose rows
 * name lab analytes or units, holds patient record numbers. Looks at the first 64 KiB. */
static void id_column(const uint8_t *p, size_t n, struct idcol *ic)
{
    enum { COLS = 16, ROWS = 400 };
    ic->col = -1;
    ic->delim = 0;
    ic->len = 0;
    static const char delims[] = {'\t', ',', ';', '|'};
    size_t m = n < 65536 ? n : 65536;
    for (int d = 0; d < 4 && ic->col < 0; d++) {
        static _Thread_local uint64_t vals[COLS][ROWS];
        unsigned good[COLS] = {0}, lens[COLS] = {0}, rows = 0, clinical = 0;
        size_t a = 0;
        while (a < m && rows < ROWS) {
            const uint8_t *nl = memchr(p + a, '\n', m - a);
            size_t b = nl ? (size_t)(nl - p) : m;
            if (memchr(p + a, delims[d], b - a) == NULL) {
                a = b + 1;
                continue;
            }
            for (int c = 0; c < COLS; c++) {
                size_t cs, ce;
                vals[c][rows] = 0;
                if (!cell_of(p, a, b, delims[d], c, &cs, &ce)) {
                    break;
                }
                size_t l = ce - cs;
                bool digits = l >= 6 && l <= 12;
                uint64_t v = 0;
                for (size_t q = cs; q < ce && digits; q++) {
                    digits = isdigit(p[q]) != 0;
                    v = v * 10 + (uint64_t)(p[q] - '0');
                }
                if (digits && (lens[c] == 0 || lens[c] == l)) {
                    lens[c] = (unsigned)l;
                    good[c]++;
                    vals[c][rows] = v + 1;
                }
            }
            clinical += clinical_line(p, a, b);
            rows++;
            a = b + 1;
        }
        if (rows < 3 || clinical * 10 < rows * 3) {
            continue;
        }
        for (int c = 0; c < COLS && ic->col < 0; c++) {
            if (good[c] * 10 < rows * 9) {
                continue;
            }
            unsigned repeats = 0;
            for (unsigned r = 1; r < rows; r++) {
                for (unsigned q = 0; q < r && vals[c][r] != 0; q++) {
                    if (vals[c][q] == vals[c][r]) {
                        repeats++;
                        break;
                    }
                }
            }
            if (repeats * 5 >= rows) {
                ic->col = c;
                ic->delim = delims[d];
                ic->len = lens[c];
            }
        }
    }
}

/* The record number of line [a, b) in the identifier column, as a hit. */
static void id_cell(const uint8_t *p, size_t a, size_t b, uint64_t base, const struct idcol *ic,
                    const struct pt_phi_sink *s)
{
    size_t cs, ce;
    if (!cell_of(p, a, b, ic->delim, ic->col, &cs, &ce) || ce - cs != ic->len) {
        return;
    }
    char v[16];
    for (size_t q = cs; q < ce; q++) {
        if (!isdigit(p[q])) {
            return;
        }
        v[q - cs] = (char)p[q];
    }
    v[ce - cs] = '\0';
    char why[96];
    snprintf(why, sizeof why, "column %d of a headerless clinical table: recurring record numbers",
             ic->col + 1);
    struct pt_phi_hit h = {.type = PT_PHI_MRN, .value = v, .field = "table column",
                           .detector = "text", .offset = base + cs, .confidence = 0.7,
                           .reason = why, .state = "", .issuer = "", .subject = true};
    s->hit(s->arg, &h);
}

/* Rule 1: is this text a list of line records? Looks at the first 64 KiB. */
static bool line_records(const uint8_t *p, size_t n)
{
    size_t m = n < 65536 ? n : 65536, lines = 0, logl = 0, jsonl = 0;
    static const char delims[] = {',', '\t', ';', '|'};
    unsigned cnt[4][64];
    memset(cnt, 0, sizeof cnt);
    size_t a = 0;
    while (a < m && lines < 400) {
        const uint8_t *nl = memchr(p + a, '\n', m - a);
        size_t e = nl ? (size_t)(nl - p) : m;
        if (nl == NULL && m < n) {
            break; /* a cut line at the sample's end */
        }
        if (!blank_line(p, a, e)) {
            lines++;
            logl += starts_with_time(p, a, e);
            size_t x = e;
            while (x > a && (p[x - 1] == '\r' || p[x - 1] == ' ')) {
                x--;
            }
            jsonl += x > a && p[a] == '{' && p[x - 1] == '}';
            for (int d = 0; d < 4; d++) {
                unsigned c = 0;
                bool q = false;
                for (size_t i = a; i < e; i++) {
                    if (p[i] == '"') {
                        q = !q;
                    } else if (!q && p[i] == (uint8_t)delims[d]) {
                        c++;
                    }
                }
                cnt[d][c < 63 ? c : 63]++;
            }
        }
        a = e + 1;
    }
    if (lines < 3) {
        return false;
    }
    if (logl * 10 >= lines * 8 || jsonl * 10 >= lines * 8) {
        return true;
    }
    for (int d = 0; d < 4; d++) {
        for (int c = 2; c < 64; c++) {
            if (cnt[d][c] * 10 >= lines * 8) {
                return true;
            }
        }
    }
    return false;
}

struct segger {
    const uint8_t *p;
    size_t n;
    uint64_t base;
    const struct pt_phi_sink *s;
    struct hitbuf buf;
};

/* Emit one record [a, b) with the buffered entries whose offsets fall in it. */
static void emit_record(struct segger *g, const char *kind, size_t a, size_t b, size_t *next)
{
    const struct pt_phi_sink *s = g->s;
    if (s->record != NULL) {
        s->record(s->arg, kind, g->base + a);
    }
    bool any = false, health = false;
    while (*next < g->buf.n && g->buf.v[*next].h.offset < g->base + b) {
        struct bufhit *x = &g->buf.v[*next];
        if (x->health) {
            health = true;
            if (s->health != NULL) {
                s->health(s->arg, x->reason);
            }
        } else {
            any = true;
            /* the strings live in the entry; the buffer may have moved since it was filled */
            x->h.value = x->value;
            x->h.reason = x->reason;
            x->h.state = x->state;
            if (s->hit != NULL) {
                s->hit(s->arg, &x->h);
            }
        }
        (*next)++;
    }
    if (any) {
        struct span t = {.p = g->p, .a = a, .b = b, .base = g->base, .s = s, .health = health};
        health_terms(&t);
    }
}

static bool anchor_type(enum pt_phi_type t)
{
    return t == PT_PHI_SSN || t == PT_PHI_MRN || t == PT_PHI_MBI || t == PT_PHI_PLAN_ID ||
           t == PT_PHI_NAME;
}

static size_t line_start(const uint8_t *p, size_t lo, size_t i)
{
    while (i > lo && p[i - 1] != '\n') {
        i--;
    }
    return i;
}

static uint64_t fnv(enum pt_phi_type t, const char *v)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)t;
    for (; *v != '\0'; v++) {
        h = (h ^ (uint8_t)*v) * 1099511628211ull;
    }
    return h | 1; /* never 0: 0 marks an empty slot */
}

/* Insert h into the set (capacity a power of two, at most half full); true when new. */
static bool set_add(uint64_t *set, size_t cap, uint64_t h)
{
    size_t i = (size_t)(h & (cap - 1));
    while (set[i] != 0) {
        if (set[i] == h) {
            return false;
        }
        i = (i + 1) & (cap - 1);
    }
    set[i] = h;
    return true;
}

/* Rule 4 over the record [a, b): entries from *next up to b. */
static void emit_split(struct segger *g, const char *kind, size_t a, size_t b, size_t *next)
{
    size_t first = *next, last = first;
    while (last < g->buf.n && g->buf.v[last].h.offset < g->base + b) {
        last++;
    }
    size_t cap = 16;
    while (cap < 2 * (last - first)) {
        cap *= 2;
    }
    uint64_t *set = last - first >= 2 ? calloc(cap, sizeof *set) : NULL;
    if (set == NULL) {
        emit_record(g, kind, a, b, next);
        return;
    }
    /* the subject identifier type with the most distinct values */
    size_t distinct[PT_PHI_N_TYPES] = {0};
    for (size_t x = first; x < last; x++) {
        struct bufhit *h = &g->buf.v[x];
        if (!h->health && h->h.subject && anchor_type(h->h.type) &&
            set_add(set, cap, fnv(h->h.type, h->value))) {
            distinct[h->h.type]++;
        }
    }
    enum pt_phi_type best = PT_PHI_N_TYPES;
    size_t best_n = 1;
    for (int ty = 0; ty < PT_PHI_N_TYPES; ty++) {
        if (distinct[ty] > best_n) {
            best_n = distinct[ty];
            best = (enum pt_phi_type)ty;
        }
    }
    if (best == PT_PHI_N_TYPES) {
        free(set);
        emit_record(g, kind, a, b, next);
        return;
    }
    /* cut at the line of each anchor value's first appearance (the first stays with a) */
    memset(set, 0, cap * sizeof *set);
    size_t cur = a;
    bool first_anchor = true;
    for (size_t x = first; x < last; x++) {
        struct bufhit *h = &g->buf.v[x];
        if (h->health || h->h.type != best || !h->h.subject ||
            !set_add(set, cap, fnv(best, h->value))) {
            continue;
        }
        if (first_anchor) {
            first_anchor = false;
            continue;
        }
        size_t ls = line_start(g->p, a, (size_t)(h->h.offset - g->base));
        if (ls > cur) {
            emit_record(g, kind, cur, ls, next);
            cur = ls;
        }
    }
    free(set);
    emit_record(g, kind, cur, b, next);
}

/* Rules 3 and 4 over the block [a, b): its hits are scanned into the buffer first. */
static void block(struct segger *g, size_t a, size_t b)
{
    g->buf.n = 0;
    struct pt_phi_sink bs = {.arg = &g->buf, .hit = buf_hit, .health = buf_health};
    struct span t = {.p = g->p, .a = a, .b = b, .base = g->base, .s = &bs};
    scan_span(&t);
    size_t next = 0;
    if (g->buf.n == 0) {
        return; /* a record without identifiers is not stored */
    }
    /* rules 3 and 4 matter only when some subject identifier type has two different values
     * in the block (two people at least); most blocks have not, and skip them */
    const char *first_val[PT_PHI_N_TYPES] = {NULL};
    bool several = false;
    for (size_t x = 0; x < g->buf.n && !several; x++) {
        const struct bufhit *h = &g->buf.v[x];
        if (h->health || !h->h.subject || !anchor_type(h->h.type)) {
            continue;
        }
        if (first_val[h->h.type] == NULL) {
            first_val[h->h.type] = h->value;
        } else {
            several = strcmp(first_val[h->h.type], h->value) != 0;
        }
    }
    if (!several) {
        emit_record(g, "text", a, b, &next); /* one person at most: nothing to split */
        return;
    }
    /* rule 3: the repeated leading label */
    char chosen[40] = "";
    {
        char first_label[40] = "", l[40];
        unsigned first_count = 0, best_count = 0;
        char best[40] = "";
        size_t i = a;
        while (i < b) {
            const uint8_t *nl = memchr(g->p + i, '\n', b - i);
            size_t e = nl ? (size_t)(nl - g->p) : b;
            line_label(g->p, i, e, l, sizeof l);
            if (l[0] != '\0') {
                if (first_label[0] == '\0') {
                    snprintf(first_label, sizeof first_label, "%s", l);
                }
                if (strcmp(l, first_label) == 0) {
                    first_count++;
                }
                if (patient_label(l)) {
                    if (best[0] == '\0') {
                        snprintf(best, sizeof best, "%s", l);
                    }
                    best_count += strcmp(l, best) == 0;
                }
            }
            i = e + 1;
        }
        if (best_count >= 2) {
            snprintf(chosen, sizeof chosen, "%s", best);
        } else if (first_count >= 2) {
            snprintf(chosen, sizeof chosen, "%s", first_label);
        }
    }
    if (chosen[0] == '\0') {
        emit_split(g, "text", a, b, &next);
        return;
    }
    size_t cur = a, i = a;
    bool seen_label = false;
    char l[40];
    while (i < b) {
        const uint8_t *nl = memchr(g->p + i, '\n', b - i);
        size_t e = nl ? (size_t)(nl - g->p) : b;
        line_label(g->p, i, e, l, sizeof l);
        if (strcmp(l, chosen) == 0) {
            if (seen_label && i > cur) {
                emit_split(g, "text block", cur, i, &next);
                cur = i;
            }
            seen_label = true;
        }
        i = e + 1;
    }
    emit_split(g, "text block", cur, b, &next);
}

/* Offsets of a fixed-width table found inside text shifted by the text's base. */
struct shifted {
    const struct pt_phi_sink *s;
    uint64_t base;
};

static void sh_record(void *arg, const char *kind, uint64_t off)
{
    struct shifted *x = arg;
    if (x->s->record != NULL) {
        x->s->record(x->s->arg, kind, x->base + off);
    }
}

static void sh_hit(void *arg, const struct pt_phi_hit *h)
{
    struct shifted *x = arg;
    struct pt_phi_hit y = *h;
    y.offset += x->base;
    if (x->s->hit != NULL) {
        x->s->hit(x->s->arg, &y);
    }
}

static void sh_health(void *arg, const char *what)
{
    struct shifted *x = arg;
    if (x->s->health != NULL) {
        x->s->health(x->s->arg, what);
    }
}

/* A rule line of dash or equals groups starts at p[b] (after spaces): the line before it may
 * be a fixed-width table's header. */
static bool rule_start(const uint8_t *p, size_t n, size_t b)
{
    while (b < n && p[b] == ' ') {
        b++;
    }
    return b + 1 < n && (p[b] == '-' || p[b] == '=') && p[b + 1] == p[b];
}

/* The layout rules 1-4 over p[0, n) (offsets + base). */
static void segment(const uint8_t *p, size_t n, uint64_t base, const struct pt_phi_sink *s)
{
    struct segger g = {.p = p, .n = n, .base = base, .s = s};
    struct shifted sh = {s, base};
    struct pt_phi_sink ss = {&sh, sh_record, sh_hit, sh_health, NULL};
    if (line_records(p, n)) {
        struct idcol ic;
        id_column(p, n, &ic);
        /* a fixed-width table (a rule line under its header) needs the line-by-line path */
        bool tables = memmem(p, n, "\n--", 3) != NULL || memmem(p, n, "\n==", 3) != NULL ||
                      memmem(p, n, "\n --", 4) != NULL;
        if (ic.col < 0 && !tables) {
            /* scanned in large pieces cut at line ends (one scan per piece, not per line),
             * then each line with hits is a record */
            size_t a = 0;
            while (a < n) {
                size_t b = n - a > 262144 ? a + 262144 : n;
                if (b < n) {
                    const uint8_t *nl = memchr(p + b, '\n', n - b);
                    b = nl ? (size_t)(nl - p) + 1 : n;
                }
                g.buf.n = 0;
                struct pt_phi_sink bs = {.arg = &g.buf, .hit = buf_hit, .health = buf_health};
                struct span t = {.p = p, .a = a, .b = b, .base = base, .s = &bs};
                scan_span(&t);
                size_t next = 0;
                while (next < g.buf.n) {
                    size_t at = (size_t)(g.buf.v[next].h.offset - base), la = at;
                    while (la > a && p[la - 1] != '\n') {
                        la--;
                    }
                    const uint8_t *nl = memchr(p + at, '\n', b - at);
                    size_t lb = nl ? (size_t)(nl - p) + 1 : b;
                    emit_record(&g, "text line", la, lb, &next);
                }
                a = b;
            }
            free(g.buf.v);
            return;
        }
        size_t a = 0;
        while (a < n) {
            const uint8_t *nl = memchr(p + a, '\n', n - a);
            size_t b = nl ? (size_t)(nl - p) + 1 : n;
            if (b < n && rule_start(p, n, b)) {
                /* a fixed-width report table (header, rule line, rows) read by columns */
                size_t end = pt_phi_fixed_table(p, n, a, &ss);
                if (end > a) {
                    a = end;
                    continue;
                }
            }
            if (b - a > PT_PHI_TEXT_RECORD) {
                b = a + PT_PHI_TEXT_RECORD;
            }
            g.buf.n = 0;
            struct pt_phi_sink bs = {.arg = &g.buf, .hit = buf_hit, .health = buf_health};
            struct span t = {.p = p, .a = a, .b = b, .base = base, .s = &bs};
            scan_span(&t);
            if (ic.col >= 0) {
                id_cell(p, a, b, base, &ic, &bs);
            }
            size_t next = 0;
            if (g.buf.n > 0) {
                emit_record(&g, "text line", a, b, &next);
            }
            a = b;
        }
        free(g.buf.v);
        return;
    }
    size_t a = 0;
    while (a < n) {
        /* a block ends before a blank line, a rule line or a form feed, or at the record
         * limit on a line end */
        size_t b = a, next_a, prev = SIZE_MAX, table_end = 0;
        for (;;) {
            const uint8_t *nl = memchr(p + b, '\n', n - b);
            size_t e = nl ? (size_t)(nl - p) : n;
            if (prev != SIZE_MAX && rule_start(p, n, b)) {
                /* the line before is a fixed-width table's header: the block ends there */
                size_t end = pt_phi_fixed_table(p, n, prev, &ss);
                if (end > prev) {
                    b = prev;
                    table_end = end;
                    next_a = end;
                    break;
                }
            }
            prev = b;
            if (b > a && b < n && p[b] == '\f') { /* a page break starts a line */
                next_a = b; /* a form feed (new page) starts the next block */
                break;
            }
            bool sep = blank_line(p, b, e) || rule_line(p, b, e);
            if (sep && b > a) {
                next_a = b; /* the separator line starts the next round (and is skipped) */
                break;
            }
            if (sep) { /* a separator at the block's start: skip it */
                a = b = e < n ? e + 1 : n;
                if (b >= n) {
                    next_a = n;
                    break;
                }
                continue;
            }
            b = e < n ? e + 1 : n;
            if (b >= n || b - a >= PT_PHI_TEXT_RECORD) {
                next_a = b;
                break;
            }
        }
        if (b - a > 4 * PT_PHI_TEXT_RECORD) { /* no line end for a long way */
            b = a + 4 * PT_PHI_TEXT_RECORD;
            next_a = b;
        }
        if (b > a) {
            block(&g, a, b);
        }
        if (table_end > 0) {
            /* the table was read when it was found, so its rows came before this block's
             * records; records are whole either way */
            a = table_end;
            continue;
        }
        a = next_a > a ? next_a : a + 1;
    }
    free(g.buf.v);
}

/* Text: the layout rules (fixed-width report tables among them) over the whole of it. */
void pt_phi_text(const uint8_t *p, size_t n, uint64_t base, const struct pt_phi_sink *s)
{
    cls_init();
    segment(p, n, base, s);
}
