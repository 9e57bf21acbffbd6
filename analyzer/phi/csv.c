/*
 * csv.c - PHI in delimited exports (RFC 4180 CSV; TSV, ';' and '|' too): the header row
 * names the columns, and a column name is the context of its values (the way Macie treats
 * a CSV column name as the keyword, research/phi-disk-compliance.md §2.2).
 *
 * The delimiter is the one of ',', '\t', ';', '|' that splits the first line most; quoted
 * fields with doubled quotes and embedded line breaks are read. A file is taken as a
 * patient table when at least two header cells name patient columns; each row is then a
 * record. Values of mapped columns are validated by type (SSN rules, dates, digits); long
 * free-text cells of other columns go to the free-text scanner.
 *
 * Trust boundary: the bytes are untrusted; columns per row and cell sizes are capped.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "phi.h"

#define MAX_COLS 256
#define CELL_MAX 2048

enum col {
    COL_NONE, COL_NAME, COL_FIRST, COL_LAST, COL_MRN, COL_SSN, COL_DOB, COL_ADDRESS,
    COL_CITY, COL_STATE, COL_ZIP, COL_PHONE, COL_EMAIL, COL_NPI, COL_MBI, COL_PLAN,
    COL_DIAG, COL_HEALTH, COL_TEXT,
};

static const struct {
    const char *name; /* lower case, letters and digits only */
    enum col col;
} headers[] = {
    {"ssn", COL_SSN}, {"socialsecurity", COL_SSN}, {"socialsecuritynumber", COL_SSN},
    {"ss", COL_SSN}, {"mrn", COL_MRN}, {"medicalrecordnumber", COL_MRN},
    {"medicalrecord", COL_MRN}, {"patientid", COL_MRN}, {"patientnumber", COL_MRN},
    {"chartnumber", COL_MRN}, {"recordnumber", COL_MRN}, {"name", COL_NAME},
    {"patientname", COL_NAME}, {"fullname", COL_NAME}, {"patient", COL_NAME},
    {"firstname", COL_FIRST}, {"first", COL_FIRST}, {"givenname", COL_FIRST},
    {"given", COL_FIRST}, {"fname", COL_FIRST}, {"lastname", COL_LAST}, {"last", COL_LAST},
    {"surname", COL_LAST}, {"familyname", COL_LAST}, {"family", COL_LAST}, {"lname", COL_LAST},
    {"dob", COL_DOB}, {"birthdate", COL_DOB}, {"dateofbirth", COL_DOB}, {"birth", COL_DOB},
    {"bdate", COL_DOB}, {"birthdt", COL_DOB}, {"mi", COL_NONE}, {"middle", COL_NONE},
    {"address", COL_ADDRESS}, {"street", COL_ADDRESS}, {"streetaddress", COL_ADDRESS},
    {"address1", COL_ADDRESS}, {"addressline1", COL_ADDRESS}, {"addr", COL_ADDRESS},
    {"addrline1", COL_ADDRESS}, {"city", COL_CITY},
    {"state", COL_STATE}, {"zip", COL_ZIP}, {"zipcode", COL_ZIP}, {"postalcode", COL_ZIP},
    {"postcode", COL_ZIP}, {"phone", COL_PHONE}, {"telephone", COL_PHONE},
    {"phonenumber", COL_PHONE}, {"mobile", COL_PHONE}, {"cell", COL_PHONE},
    {"homephone", COL_PHONE}, {"email", COL_EMAIL}, {"emailaddress", COL_EMAIL},
    {"npi", COL_NPI}, {"mbi", COL_MBI}, {"medicareid", COL_MBI}, {"medicare", COL_MBI},
    {"memberid", COL_PLAN}, {"insuranceid", COL_PLAN}, {"policynumber", COL_PLAN},
    {"subscriberid", COL_PLAN}, {"diagnosis", COL_DIAG}, {"diagnosiscode", COL_DIAG},
    {"icd", COL_DIAG}, {"icd10", COL_DIAG}, {"icd10code", COL_DIAG}, {"dx", COL_DIAG},
    {"dxcode", COL_DIAG}, {"condition", COL_HEALTH}, {"medication", COL_HEALTH},
    {"medications", COL_HEALTH}, {"procedure", COL_HEALTH}, {"allergies", COL_HEALTH},
    {"allergy", COL_HEALTH}, {"result", COL_HEALTH}, {"labresult", COL_HEALTH},
    {"treatment", COL_HEALTH}, {"vaccine", COL_HEALTH}, {"vaccination", COL_HEALTH},
    {"immunization", COL_HEALTH}, {"exam", COL_HEALTH}, {"specimen", COL_HEALTH},
    {"test", COL_HEALTH}, {"testname", COL_HEALTH}, {"reason", COL_HEALTH},
    {"reasonforvisit", COL_HEALTH}, {"chiefcomplaint", COL_HEALTH}, {"problem", COL_HEALTH},
    {"notes", COL_TEXT}, {"note", COL_TEXT}, {"comments", COL_TEXT},
    {"comment", COL_TEXT}, {"description", COL_TEXT},
};

struct cell {
    char v[CELL_MAX];
    size_t off;
};

static enum col map_exact(const char *k)
{
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        if (strcmp(k, headers[i].name) == 0) {
            return headers[i].col;
        }
    }
    return COL_NONE;
}

static bool starts(const char *k, const char *w)
{
    return strncmp(k, w, strlen(w)) == 0;
}

static bool ends(const char *k, const char *w)
{
    size_t a = strlen(k), b = strlen(w);
    return a >= b && strcmp(k + a - b, w) == 0;
}

/* A column name to its meaning: exact names first ("dob", "patient name"), then system
 * export names with a subject prefix ("PAT_MRN", "PT_LAST", "MBR_DOB", "HOME_PHONE") or a
 * telling suffix ("PATIENT_SSN", "LAST_DX"). Columns about other people ("PCP_NPI",
 * "GUARANTOR_NAME", "NOK_PHONE", "REFERRING") are not the patient's. */
static enum col map_header(const char *h)
{
    char k[64];
    size_t n = 0;
    for (size_t i = 0; h[i] != '\0' && n + 1 < sizeof k; i++) {
        if (isalnum((unsigned char)h[i])) {
            k[n++] = (char)tolower((unsigned char)h[i]);
        }
    }
    k[n] = '\0';
    enum col c = map_exact(k);
    if (c != COL_NONE || n == 0) {
        return c;
    }
    static const char *const others[] = {"pcp", "provider", "attending", "referring", "ordering",
                                         "physician", "doctor", "dr", "staff", "nurse",
                                         "guarantor", "nok", "kin", "emergency", "employer",
                                         "facility", "clinic", "hospital", "insurer", "payer",
                                         "rendering", "billing", "tech", "user", NULL};
    for (const char *const *o = others; *o != NULL; o++) {
        if (starts(k, *o)) {
            return COL_NONE;
        }
    }
    static const char *const prefixes[] = {"patient", "pat", "pt", "member", "mbr", "subscriber",
                                           "sub", "person", "home", "primary", "client", NULL};
    for (const char *const *pre = prefixes; *pre != NULL; pre++) {
        if (starts(k, *pre) && k[strlen(*pre)] != '\0') {
            c = map_exact(k + strlen(*pre));
            if (c != COL_NONE) {
                return c;
            }
        }
    }
    static const struct {
        const char *suffix;
        enum col col;
    } tails[] = {{"mrn", COL_MRN}, {"ssn", COL_SSN}, {"dob", COL_DOB}, {"birthdate", COL_DOB},
                 {"dateofbirth", COL_DOB}, {"dx", COL_DIAG}, {"diagnosis", COL_DIAG},
                 {"icd10", COL_DIAG}, {"phone", COL_PHONE}, {"email", COL_EMAIL},
                 {"zip", COL_ZIP}, {"zipcode", COL_ZIP}, {"addrline1", COL_ADDRESS},
                 {"address1", COL_ADDRESS}, {"lastname", COL_LAST}, {"firstname", COL_FIRST},
                 {"memberid", COL_PLAN}};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        if (ends(k, tails[i].suffix)) {
            return tails[i].col;
        }
    }
    return COL_NONE;
}

static char pick_delim(const uint8_t *p, size_t n)
{
    static const char cand[] = {',', '\t', ';', '|'};
    size_t best = 0;
    char d = 0;
    for (size_t c = 0; c < sizeof cand; c++) {
        size_t k = 0;
        bool q = false;
        for (size_t i = 0; i < n && p[i] != '\n'; i++) {
            if (p[i] == '"') {
                q = !q;
            } else if (!q && p[i] == (uint8_t)cand[c]) {
                k++;
            }
        }
        if (k > best) {
            best = k;
            d = cand[c];
        }
    }
    return d;
}

/* One row from *pos: cells into `cells`; returns the number of cells (0 at the end). */
static size_t row(const uint8_t *p, size_t n, size_t *pos, char delim, struct cell *cells,
                  size_t max)
{
    size_t i = *pos, nc = 0;
    if (i >= n) {
        return 0;
    }
    while (i <= n && nc < max) {
        struct cell *c = &cells[nc];
        size_t k = 0;
        while (i < n && p[i] == ' ' && (uint8_t)delim != ' ') {
            i++; /* "a, b": spaces after a delimiter are not part of the value */
        }
        c->off = i;
        bool quoted = i < n && p[i] == '"';
        if (quoted) {
            i++;
            while (i < n) {
                if (p[i] == '"') {
                    if (i + 1 < n && p[i + 1] == '"') {
                        i++;
                    } else {
                        i++;
                        break;
                    }
                }
                if (k + 1 < CELL_MAX) {
                    c->v[k++] = (char)p[i];
                }
                i++;
            }
        }
        while (i < n && p[i] != (uint8_t)delim && p[i] != '\n') {
            if (k + 1 < CELL_MAX && p[i] != '\r') {
                c->v[k++] = (char)p[i];
            }
            i++;
        }
        while (k > 0 && (c->v[k - 1] == ' ' || c->v[k - 1] == '\r')) {
            k--;
        }
        c->v[k] = '\0';
        nc++;
        if (i >= n || p[i] == '\n') {
            i++;
            break;
        }
        i++; /* the delimiter */
    }
    while (nc == max && i < n && p[i - 1] != '\n') { /* too many columns: skip the rest */
        i++;
    }
    *pos = i;
    return nc;
}

/* Three numbers of 1 to wa, wb and wc digits separated by single characters ("1961-04-12",
 * "4/12/1961"); each field as scanf's %4d, %2d would read it, without the scanf family. */
static bool date_parts(const char *v, int wa, int wb, int wc, int *a, char *s1, int *b,
                       char *s2, int *c)
{
    const int width[3] = {wa, wb, wc};
    int *out[3] = {a, b, c};
    char *sep[2] = {s1, s2};
    for (int f = 0; f < 3; f++) {
        int n = 0, x = 0;
        while (n < width[f] && v[n] >= '0' && v[n] <= '9') {
            x = x * 10 + (v[n] - '0');
            n++;
        }
        if (n == 0) {
            return false;
        }
        *out[f] = x;
        v += n;
        if (f < 2) {
            if (*v == '\0') {
                return false;
            }
            *sep[f] = *v++;
        }
    }
    return true;
}

/* "1961-04-12", "04/12/1961", "19610412", "4/12/1961" to YYYYMMDD. */
static bool date_norm(const char *v, char ymd[9])
{
    int a = 0, b = 0, c = 0;
    char s1 = 0, s2 = 0;
    char t[32];
    if (date_parts(v, 4, 2, 2, &a, &s1, &b, &s2, &c) && a > 1000 && a < 10000 &&
        s1 == s2 && (s1 == '-' || s1 == '/' || s1 == '.') && b >= 0 && b < 100 && c >= 0 &&
        c < 100) {
        snprintf(t, sizeof t, "%04d%02d%02d", a, b, c);
        memcpy(ymd, t, 9);
    } else if (date_parts(v, 2, 2, 4, &a, &s1, &b, &s2, &c) && c > 1000 && c < 10000 &&
               s1 == s2 && (s1 == '/' || s1 == '-' || s1 == '.') && a >= 0 && a < 100 &&
               b >= 0 && b < 100) {
        /* 04/12/1961 and 04-12-1961 month first (US); 12.04.1961 day first (Europe) */
        snprintf(t, sizeof t, "%04d%02d%02d", c, s1 == '.' ? b : a, s1 == '.' ? a : b);
        memcpy(ymd, t, 9);
    } else {
        char d[16];
        pt_phi_digits(v, d, sizeof d);
        if (strlen(d) != 8 || strlen(v) != 8) {
            return false;
        }
        memcpy(ymd, d, 9);
    }
    return pt_phi_date_valid(ymd);
}

/* Copy v into out, upper or lower case. */
static void recase(char *out, size_t len, const char *v, bool upper)
{
    size_t k = 0;
    for (; v[k] != '\0' && k + 1 < len; k++) {
        out[k] = (char)(upper ? toupper((unsigned char)v[k]) : tolower((unsigned char)v[k]));
    }
    out[k] = '\0';
}

/* A name cell holds letters (any script), spaces and name punctuation, a few words, no
 * digits: "Cook, Ronald", "O'Neil^Mary-Kate"; not a date or a sentence in a name column. */
static bool name_like(const char *v)
{
    unsigned words = 0;
    bool in = false;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++, n++) {
        if (isdigit(*p) || *p == ':' || *p == '(' || *p == '@' || *p == '/') {
            return false;
        }
        bool sep = *p == ' ' || *p == ',' || *p == '^';
        words += !sep && !in;
        in = !sep;
    }
    return n > 0 && n <= 80 && words <= 6;
}

static void emit(const struct pt_phi_sink *s, enum pt_phi_type t, const char *v, uint64_t off,
                 const char *header, const char *state)
{
    char field[96], why[128];
    snprintf(field, sizeof field, "column %.80s", header);
    snprintf(why, sizeof why, "value of column \"%.80s\"", header);
    struct pt_phi_hit h = {.type = t, .value = v, .field = field, .detector = "csv",
                           .offset = off, .confidence = 0.95, .reason = why,
                           .state = state ? state : "", .issuer = "", .subject = true};
    if (v[0] != '\0' && s->hit != NULL) {
        s->hit(s->arg, &h);
    }
}

/* Delimiters on the line at p[a] outside quotes. */
static size_t delims_on_line(const uint8_t *p, size_t n, size_t a, char d)
{
    size_t k = 0;
    bool q = false;
    for (size_t i = a; i < n && p[i] != '\n'; i++) {
        if (p[i] == '"') {
            q = !q;
        } else if (!q && p[i] == (uint8_t)d) {
            k++;
        }
    }
    return k;
}

/* True for a Zeek log's header line other than "#fields" ("#separator", "#types time string
 * addr port ...", "#path", "#open"): Zeek names its columns in "#fields" only, and the
 * "addr" cells of "#types" are value types, not address columns. */
static bool zeek_directive(const uint8_t *p, size_t n)
{
    static const char *const words[] = {"#separator", "#set_separator", "#empty_field",
                                        "#unset_field", "#path", "#open", "#close", "#types",
                                        NULL};
    for (const char *const *w = words; *w != NULL; w++) {
        size_t k = strlen(*w);
        if (n > k && memcmp(p, *w, k) == 0 && (p[k] == '\t' || p[k] == ' ')) {
            return true;
        }
    }
    return false;
}

/* Where the header row starts: the first line, or after comment lines that start with '#'
 * (the header itself may carry a leading '#': "#mrn|last|first"), or after a few lines of a
 * title or junk when the row below the header has as many delimiters as the header; *delim
 * is its delimiter. SIZE_MAX when no line there names at least two patient columns. */
static size_t header_at(const uint8_t *p, size_t n, char *delim)
{
    size_t a = 0;
    bool comments_only = true;
    for (unsigned line = 0; line < 16 && a < n && a < 8192; line++) {
        size_t h = a;
        while (h < n && (p[h] == '#' || p[h] == ' ')) {
            h++;
        }
        size_t m = n - h < 4096 ? n - h : 4096;
        char d = zeek_directive(p + a, n - a) ? 0 : pick_delim(p + h, m);
        if (d != 0) {
            struct cell hdr[32];
            size_t pos = 0;
            size_t nc = row(p + h, m, &pos, d, hdr, 32);
            unsigned mapped = 0;
            for (size_t i = 0; i < nc; i++) {
                enum col c = map_header(hdr[i].v);
                mapped += c != COL_NONE && c != COL_TEXT && c != COL_HEALTH;
            }
            if (mapped >= 2) {
                const uint8_t *nl = memchr(p + h, '\n', n - h);
                size_t own = delims_on_line(p, n, h, d);
                if (comments_only ||
                    (nl != NULL && own >= 2 && delims_on_line(p, n, (size_t)(nl - p) + 1, d) == own)) {
                    *delim = d;
                    return h;
                }
            }
        }
        comments_only = comments_only && p[a] == '#';
        if (line >= 8 && !comments_only) {
            return SIZE_MAX; /* a title of a few lines at most */
        }
        const uint8_t *nl = memchr(p + a, '\n', n - a);
        if (nl == NULL) {
            return SIZE_MAX;
        }
        a = (size_t)(nl - p) + 1;
    }
    return SIZE_MAX;
}

/* True when p starts with a header naming at least two patient columns. */
bool pt_phi_csv_header(const uint8_t *p, size_t n)
{
    char delim;
    return header_at(p, n, &delim) != SIZE_MAX;
}

/* The hits of one row: cells[i] holds the value of the column the header's cell i names. */
static void row_hits(const struct pt_phi_sink *s, const enum col *map, const struct cell *hdr,
                     size_t nh, const struct cell *cells, size_t nc)
{
    char first[256] = "", last[256] = "", state[3] = "";
    size_t name_off = 0;
    bool health = false;
    for (size_t i = 0; i < nc && i < nh; i++) {
        if (map[i] == COL_STATE && strlen(cells[i].v) == 2) {
            state[0] = (char)toupper((unsigned char)cells[i].v[0]);
            state[1] = (char)toupper((unsigned char)cells[i].v[1]);
            state[2] = '\0';
            if (!pt_phi_state_valid(state)) {
                state[0] = '\0';
            }
        }
    }
    for (size_t i = 0; i < nc && i < nh; i++) {
        const char *v = cells[i].v;
        uint64_t off = cells[i].off;
        char buf[CELL_MAX], ymd[9];
        if (v[0] == '\0') {
            continue;
        }
        switch (map[i]) {
            case COL_NAME:
                if (name_like(v) &&
                    pt_phi_name_norm(v, strlen(v), strchr(v, '^') == NULL, buf, sizeof buf)) {
                    emit(s, PT_PHI_NAME, buf, off, hdr[i].v, "");
                }
                break;
            case COL_FIRST:
                if (!name_like(v)) {
                    break; /* "Given" may be the date a vaccine was given, not a name */
                }
                snprintf(first, sizeof first, "%s", v);
                name_off = name_off ? name_off : off;
                break;
            case COL_LAST:
                if (!name_like(v)) {
                    break;
                }
                snprintf(last, sizeof last, "%s", v);
                name_off = name_off ? name_off : off;
                break;
            case COL_MRN: emit(s, PT_PHI_MRN, v, off, hdr[i].v, ""); break;
            case COL_SSN:
                pt_phi_digits(v, buf, sizeof buf);
                if (strlen(buf) == 9 && pt_phi_ssn_valid(buf) && !pt_phi_ssn_denied(buf)) {
                    emit(s, PT_PHI_SSN, buf, off, hdr[i].v, "");
                }
                break;
            case COL_DOB:
                if (date_norm(v, ymd)) {
                    emit(s, PT_PHI_DOB, ymd, off, hdr[i].v, "");
                }
                break;
            case COL_ADDRESS:
                recase(buf, sizeof buf, v, true);
                emit(s, PT_PHI_ADDRESS, buf, off, hdr[i].v, state);
                break;
            case COL_ZIP:
                pt_phi_digits(v, buf, sizeof buf);
                if (strlen(buf) >= 5) {
                    buf[5] = '\0';
                    emit(s, PT_PHI_ZIP, buf, off, hdr[i].v,
                         state[0] ? state : pt_phi_zip_state(buf));
                }
                break;
            case COL_PHONE:
                pt_phi_digits(v, buf, sizeof buf);
                if (strlen(buf) == 11 && buf[0] == '1') {
                    memmove(buf, buf + 1, 11);
                }
                if (strlen(buf) == 10) {
                    emit(s, PT_PHI_PHONE, buf, off, hdr[i].v, "");
                }
                break;
            case COL_EMAIL:
                if (strchr(v, '@') != NULL) {
                    recase(buf, sizeof buf, v, false);
                    emit(s, PT_PHI_EMAIL, buf, off, hdr[i].v, "");
                }
                break;
            case COL_NPI:
                pt_phi_digits(v, buf, sizeof buf);
                if (strlen(buf) == 10 && pt_phi_npi_valid(buf)) {
                    emit(s, PT_PHI_NPI, buf, off, hdr[i].v, "");
                }
                break;
            case COL_MBI: {
                size_t k = 0;
                for (size_t q = 0; v[q] != '\0' && k < 11; q++) {
                    if (v[q] != '-') {
                        buf[k++] = (char)toupper((unsigned char)v[q]);
                    }
                }
                buf[k] = '\0';
                if (k == 11 && pt_phi_mbi_valid(buf)) {
                    emit(s, PT_PHI_MBI, buf, off, hdr[i].v, "");
                }
                break;
            }
            case COL_PLAN: emit(s, PT_PHI_PLAN_ID, v, off, hdr[i].v, ""); break;
            case COL_DIAG:
                emit(s, PT_PHI_DIAGNOSIS, v, off, hdr[i].v, "");
                health = true;
                break;
            case COL_HEALTH: health = true; break;
            case COL_TEXT:
            case COL_NONE:
                if (strlen(v) >= 16) {
                    pt_phi_text_record((const uint8_t *)v, strlen(v), off, s);
                }
                break;
            case COL_CITY:
            case COL_STATE: break;
        }
    }
    if (first[0] != '\0' || last[0] != '\0') {
        char raw[600], norm[600];
        snprintf(raw, sizeof raw, "%s^%s", last, first);
        if (pt_phi_name_norm(raw, strlen(raw), false, norm, sizeof norm)) {
            emit(s, PT_PHI_NAME, norm, name_off, "first/last name", "");
        }
    }
    if (health && s->health != NULL) {
        s->health(s->arg, "health column in a patient table");
    }
}

void pt_phi_csv(const uint8_t *p, size_t n, const struct pt_phi_sink *s)
{
    char delim;
    size_t pos = header_at(p, n, &delim);
    if (pos == SIZE_MAX) {
        return;
    }
    if (pos > 0) {
        pt_phi_text(p, pos, 0, s); /* the title or comments above the header */
    }
    static _Thread_local struct cell hdr[MAX_COLS];
    static _Thread_local struct cell cells[MAX_COLS];
    size_t nh = row(p, n, &pos, delim, hdr, MAX_COLS);
    enum col map[MAX_COLS];
    for (size_t i = 0; i < nh; i++) {
        map[i] = map_header(hdr[i].v);
    }
    size_t nc;
    while ((nc = row(p, n, &pos, delim, cells, MAX_COLS)) > 0) {
        if (nc == 1 && cells[0].v[0] == '\0') {
            continue; /* blank line */
        }
        if (nc == 1 && nh >= 3) {
            /* one cell under a table of three columns or more: a footer or a note, text */
            size_t e = cells[0].off;
            while (e < n && p[e] != '\n') {
                e++;
            }
            pt_phi_text(p + cells[0].off, e - cells[0].off, cells[0].off, s);
            continue;
        }
        if (s->record != NULL) {
            s->record(s->arg, "csv row", cells[0].off);
        }
        row_hits(s, map, hdr, nh, cells, nc);
    }
}

/* ---- fixed-width reports ------------------------------------------------------------------ */

/* Byte offsets of the character positions of the line [a, e): pos[c] for c < *nchars, counted
 * in UTF-8 characters (report columns are aligned by characters, not bytes). */
static size_t char_offsets(const uint8_t *p, size_t a, size_t e, size_t *pos, size_t max)
{
    size_t c = 0;
    for (size_t i = a; i < e && c < max; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            pos[c++] = i;
        }
    }
    return c;
}

static size_t line_end(const uint8_t *p, size_t n, size_t a)
{
    const uint8_t *nl = memchr(p + a, '\n', n - a);
    size_t e = nl ? (size_t)(nl - p) : n;
    return e;
}

/* Column starts (in characters) from a rule line of dash groups ("-----  ------  ---"). */
static size_t rule_columns(const uint8_t *p, size_t a, size_t e, size_t *starts, size_t max)
{
    size_t k = 0, c = 0;
    bool in = false;
    for (size_t i = a; i < e; i++) {
        uint8_t ch = p[i];
        if (ch == '\r') {
            continue;
        }
        if (ch == '-' || ch == '=') {
            if (!in && k < max) {
                starts[k++] = c;
            }
            in = true;
        } else if (ch == ' ') {
            in = false;
        } else {
            return 0;
        }
        c++;
    }
    return k;
}

/* The text of the characters [from, to) of the line, trimmed, into c. */
static void cut_cell(const uint8_t *p, const size_t *pos, size_t nchars, size_t e, size_t from,
                     size_t to, struct cell *c)
{
    c->v[0] = '\0';
    c->off = from < nchars ? pos[from] : e;
    if (from >= nchars) {
        return;
    }
    size_t bs = pos[from], be = to < nchars ? pos[to] : e;
    while (bs < be && (p[bs] == ' ' || p[bs] == '\t')) {
        bs++;
    }
    while (be > bs && (p[be - 1] == ' ' || p[be - 1] == '\r' || p[be - 1] == '\t')) {
        be--;
    }
    size_t k = be - bs < CELL_MAX - 1 ? be - bs : CELL_MAX - 1;
    memcpy(c->v, p + bs, k);
    c->v[k] = '\0';
    c->off = bs;
}

size_t pt_phi_fixed_table(const uint8_t *p, size_t n, size_t a, const struct pt_phi_sink *s)
{
    enum { MAXC = 64, MAXW = 1024 };
    size_t he = line_end(p, n, a);
    if (he >= n) {
        return a;
    }
    size_t ra = he + 1, re = line_end(p, n, ra);
    size_t starts[MAXC];
    size_t ncol = rule_columns(p, ra, re, starts, MAXC);
    if (ncol < 2) {
        return a;
    }
    static _Thread_local struct cell hdr[MAXC];
    static _Thread_local struct cell cells[MAXC];
    static _Thread_local size_t pos[MAXW];
    size_t nchars = char_offsets(p, a, he, pos, MAXW);
    enum col map[MAXC];
    unsigned mapped = 0;
    for (size_t k = 0; k < ncol; k++) {
        cut_cell(p, pos, nchars, he, starts[k], k + 1 < ncol ? starts[k + 1] : MAXW, &hdr[k]);
        map[k] = map_header(hdr[k].v);
        mapped += map[k] != COL_NONE && map[k] != COL_TEXT && map[k] != COL_HEALTH;
    }
    if (mapped < 2) {
        return a;
    }
    size_t i = re < n ? re + 1 : n;
    while (i < n) {
        size_t e = line_end(p, n, i);
        nchars = char_offsets(p, i, e, pos, MAXW);
        bool blank = true;
        for (size_t q = i; q < e && blank; q++) {
            blank = p[q] == ' ' || p[q] == '\t' || p[q] == '\r';
        }
        /* a row has spaces where the columns meet; anything else ends the table */
        bool fits = !blank && memchr(p + i, '\f', e - i) == NULL;
        for (size_t k = 1; k < ncol && fits; k++) {
            size_t gap = starts[k] - 1;
            fits = gap >= nchars || p[pos[gap]] == ' ';
        }
        if (!fits) {
            break;
        }
        for (size_t k = 0; k < ncol; k++) {
            cut_cell(p, pos, nchars, e, starts[k], k + 1 < ncol ? starts[k + 1] : MAXW, &cells[k]);
        }
        if (s->record != NULL) {
            s->record(s->arg, "report row", i);
        }
        row_hits(s, map, hdr, ncol, cells, ncol);
        i = e < n ? e + 1 : n;
    }
    return i;
}
