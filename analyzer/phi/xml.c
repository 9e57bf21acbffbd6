/*
 * xml.c - PHI in FHIR XML (https://hl7.org/fhir/R4/xml.html: values in value="..."
 * attributes) and HL7 CDA / C-CDA headers (recordTarget/patientRole: id root+extension,
 * addr, telecom, patient/name, birthTime; research/phi-disk-compliance.md §2.5.4).
 *
 * A tag scanner, not a full XML parser: elements are matched by local name (namespace
 * prefixes dropped), with a stack of open element names; attribute values and text content
 * are read with the five predefined entities decoded. A FHIR <Patient> or a CDA
 * <recordTarget> is a record; anything else is passed to the free-text scanner.
 *
 * Trust boundary: the bytes are untrusted; nesting is capped at 64 and names at 63 bytes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phi.h"

#define DEPTH 64

struct xctx {
    const uint8_t *p;
    size_t n;
    const struct pt_phi_sink *s;
    char stack[DEPTH][64];
    int depth;
    int rec_depth;        /* depth of the open record element, -1 when none */
    bool cda;
    char given[128], family[128], given2[128];
    size_t name_off;
};

static bool in(const struct xctx *x, const char *name)
{
    for (int i = x->rec_depth; i < x->depth; i++) {
        if (i >= 0 && strcmp(x->stack[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* The value of attribute `attr` in the tag text t[0..n), entities decoded. */
static bool attr(const uint8_t *t, size_t n, const char *name, char *out, size_t len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i + nl + 2 < n; i++) {
        if ((i == 0 || t[i - 1] == ' ' || t[i - 1] == '\t' || t[i - 1] == '\n') &&
            memcmp(t + i, name, nl) == 0 && t[i + nl] == '=' &&
            (t[i + nl + 1] == '"' || t[i + nl + 1] == '\'')) {
            uint8_t q = t[i + nl + 1];
            size_t k = 0;
            for (size_t j = i + nl + 2; j < n && t[j] != q && k + 1 < len; j++) {
                if (t[j] == '&') {
                    static const char *const ent[][2] = {{"&lt;", "<"}, {"&gt;", ">"},
                                                         {"&amp;", "&"}, {"&quot;", "\""},
                                                         {"&apos;", "'"}};
                    bool done = false;
                    for (size_t e = 0; e < 5 && !done; e++) {
                        size_t el = strlen(ent[e][0]);
                        if (j + el <= n && memcmp(t + j, ent[e][0], el) == 0) {
                            out[k++] = ent[e][1][0];
                            j += el - 1;
                            done = true;
                        }
                    }
                    if (done) {
                        continue;
                    }
                }
                out[k++] = (char)t[j];
            }
            out[k] = '\0';
            return true;
        }
    }
    out[0] = '\0';
    return false;
}

static void emit(struct xctx *x, enum pt_phi_type t, const char *v, size_t off,
                 const char *field, const char *state)
{
    char why[96];
    snprintf(why, sizeof why, "%s element %s", x->cda ? "CDA" : "FHIR XML", field);
    struct pt_phi_hit h = {.type = t, .value = v, .field = field,
                           .detector = x->cda ? "cda" : "fhir", .offset = off,
                           .confidence = 1.0, .reason = why, .state = state ? state : "",
                           .issuer = "", .subject = true};
    if (v[0] != '\0' && x->s->hit != NULL) {
        x->s->hit(x->s->arg, &h);
    }
}

static void name_done(struct xctx *x)
{
    if (x->family[0] == '\0' && x->given[0] == '\0') {
        return;
    }
    char raw[400], norm[400];
    snprintf(raw, sizeof raw, "%s^%s^%s", x->family, x->given, x->given2);
    if (pt_phi_name_norm(raw, strlen(raw), false, norm, sizeof norm)) {
        emit(x, PT_PHI_NAME, norm, x->name_off, x->cda ? "patient/name" : "Patient.name", "");
    }
    x->family[0] = x->given[0] = x->given2[0] = '\0';
}

/* Text content after the tag ending at `i`, up to the next '<'. */
static void content(const struct xctx *x, size_t i, char *out, size_t len)
{
    size_t k = 0;
    for (size_t j = i; j < x->n && x->p[j] != '<' && k + 1 < len; j++) {
        out[k++] = (char)x->p[j];
    }
    while (k > 0 && isspace((unsigned char)out[k - 1])) {
        k--;
    }
    out[k] = '\0';
    size_t s = 0;
    while (isspace((unsigned char)out[s])) {
        s++;
    }
    memmove(out, out + s, k - s + 1);
}

/* An element opened at t (tag text without '<' '>'), content starting at `after`. */
static void element(struct xctx *x, const char *name, const uint8_t *t, size_t tn, size_t off,
                    size_t after)
{
    char v[512], w[512];
    bool fhir_value = attr(t, tn, "value", v, sizeof v);
    if (x->rec_depth < 0) {
        if ((x->cda && strcmp(name, "recordTarget") == 0) ||
            (!x->cda && strcmp(name, "Patient") == 0)) {
            x->rec_depth = x->depth - 1;
            if (x->s->record != NULL) {
                x->s->record(x->s->arg, x->cda ? "cda recordTarget" : "fhir Patient", off);
            }
            if (x->s->health != NULL) {
                x->s->health(x->s->arg, x->cda ? "CDA clinical document" : "FHIR Patient resource");
            }
        }
        return;
    }
    if (x->cda) {
        if (strcmp(name, "id") == 0 && in(x, "patientRole") && !in(x, "patient") &&
            !in(x, "providerOrganization")) {
            attr(t, tn, "extension", v, sizeof v);
            attr(t, tn, "root", w, sizeof w);
            if (strcmp(w, "2.16.840.1.113883.4.1") == 0) {
                char d[32];
                pt_phi_digits(v, d, sizeof d);
                if (strlen(d) == 9 && pt_phi_ssn_valid(d)) {
                    emit(x, PT_PHI_SSN, d, off, "patientRole/id (SSN)", "");
                }
            } else if (v[0] != '\0') {
                emit(x, PT_PHI_MRN, v, off, "patientRole/id", "");
            }
        } else if (strcmp(name, "given") == 0 && in(x, "patient") && in(x, "name")) {
            content(x, after, x->given[0] ? x->given2 : x->given, sizeof x->given);
            x->name_off = x->name_off ? x->name_off : off;
        } else if (strcmp(name, "family") == 0 && in(x, "patient") && in(x, "name")) {
            content(x, after, x->family, sizeof x->family);
            x->name_off = x->name_off ? x->name_off : off;
        } else if (strcmp(name, "birthTime") == 0 && attr(t, tn, "value", v, sizeof v)) {
            v[8] = '\0';
            if (strlen(v) == 8 && pt_phi_date_valid(v)) {
                emit(x, PT_PHI_DOB, v, off, "patient/birthTime", "");
            }
        } else if (strcmp(name, "streetAddressLine") == 0 && in(x, "addr")) {
            content(x, after, v, sizeof v);
            for (char *q = v; *q; q++) {
                *q = (char)toupper((unsigned char)*q);
            }
            emit(x, PT_PHI_ADDRESS, v, off, "addr/streetAddressLine", "");
        } else if (strcmp(name, "postalCode") == 0 && in(x, "addr")) {
            content(x, after, v, sizeof v);
            if (strlen(v) >= 5) {
                v[5] = '\0';
                emit(x, PT_PHI_ZIP, v, off, "addr/postalCode", pt_phi_zip_state(v));
            }
        } else if (strcmp(name, "telecom") == 0 && attr(t, tn, "value", v, sizeof v)) {
            if (strncmp(v, "tel:", 4) == 0) {
                char d[32];
                pt_phi_digits(v, d, sizeof d);
                if (strlen(d) == 11 && d[0] == '1') {
                    memmove(d, d + 1, 11);
                }
                emit(x, PT_PHI_PHONE, d, off, "telecom", "");
            } else if (strncmp(v, "mailto:", 7) == 0) {
                emit(x, PT_PHI_EMAIL, v + 7, off, "telecom", "");
            }
        }
        return;
    }
    /* FHIR XML: values in value attributes */
    if (!fhir_value) {
        return;
    }
    if (strcmp(name, "family") == 0 && in(x, "name")) {
        snprintf(x->family, sizeof x->family, "%.127s", v);
        x->name_off = x->name_off ? x->name_off : off;
    } else if (strcmp(name, "given") == 0 && in(x, "name")) {
        snprintf(x->given[0] ? x->given2 : x->given, sizeof x->given, "%.127s", v);
        x->name_off = x->name_off ? x->name_off : off;
    } else if (strcmp(name, "birthDate") == 0) {
        char d[16];
        pt_phi_digits(v, d, sizeof d);
        if (strlen(d) == 8 && pt_phi_date_valid(d)) {
            emit(x, PT_PHI_DOB, d, off, "Patient.birthDate", "");
        }
    } else if (strcmp(name, "value") == 0 && in(x, "identifier")) {
        emit(x, PT_PHI_MRN, v, off, "Patient.identifier", "");
    } else if (strcmp(name, "line") == 0 && in(x, "address")) {
        for (char *q = v; *q; q++) {
            *q = (char)toupper((unsigned char)*q);
        }
        emit(x, PT_PHI_ADDRESS, v, off, "Patient.address.line", "");
    } else if (strcmp(name, "postalCode") == 0 && strlen(v) >= 5) {
        v[5] = '\0';
        emit(x, PT_PHI_ZIP, v, off, "Patient.address.postalCode", pt_phi_zip_state(v));
    } else if (strcmp(name, "id") == 0 && x->depth - 1 == x->rec_depth + 1) {
        snprintf(w, sizeof w, "Patient/%.500s", v);
        emit(x, PT_PHI_RECORD_ID, w, off, "Patient.id", "");
    }
}

static void close_element(struct xctx *x, const char *name)
{
    while (x->depth > 0) {
        x->depth--;
        bool match = strcmp(x->stack[x->depth], name) == 0;
        if (strcmp(x->stack[x->depth], "name") == 0) {
            name_done(x);
        }
        if (x->depth == x->rec_depth) {
            x->rec_depth = -1;
            x->name_off = 0;
        }
        if (match) {
            return;
        }
    }
}

/* ---- other XML and HTML: rendered in place as text, one record per row element ------------- */

/* The tag at p[i] ('<'): its name (namespace prefix dropped, lower case), whether it closes,
 * and its end ('>' or n). */
static size_t tag_at(const uint8_t *p, size_t n, size_t i, char *name, size_t len, bool *closing)
{
    size_t j = i + 1;
    *closing = j < n && p[j] == '/';
    if (*closing) {
        j++;
    }
    size_t s = j, k = 0;
    while (j < n && !isspace(p[j]) && p[j] != '>' && p[j] != '/') {
        if (p[j] == ':') {
            s = j + 1;
        }
        j++;
    }
    for (size_t q = s; q < j && k + 1 < len; q++) {
        name[k++] = (char)tolower(p[q]);
    }
    name[k] = '\0';
    const uint8_t *e = memchr(p + j, '>', n - j);
    return e ? (size_t)(e - p) : n;
}

/* The element that holds one row or one person: <tr> in HTML tables, else the element with
 * child elements that closes most often (two times at least). "" when none. */
static void row_element(const uint8_t *p, size_t n, char *row, size_t len)
{
    enum { NAMES = 64, STACK = 64 };
    char names[NAMES][32], stack[STACK][32];
    unsigned counts[NAMES] = {0}, nn = 0;
    bool child[STACK] = {false};
    int depth = 0;
    row[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '<' || i + 1 >= n || p[i + 1] == '!' || p[i + 1] == '?') {
            continue;
        }
        char name[32];
        bool closing;
        size_t end = tag_at(p, n, i, name, sizeof name, &closing);
        if (strcmp(name, "tr") == 0) {
            snprintf(row, len, "tr");
            return;
        }
        bool empty = end < n && end > i && p[end - 1] == '/';
        if (!closing) {
            if (depth > 0 && depth <= STACK) {
                child[depth - 1] = true;
            }
            if (!empty && depth < STACK) {
                snprintf(stack[depth], sizeof stack[0], "%s", name);
                child[depth] = false;
            }
            depth += !empty;
        } else {
            while (depth > 0) {
                depth--;
                if (depth >= STACK) {
                    continue;
                }
                bool match = strcmp(stack[depth], name) == 0;
                if (match && child[depth]) {
                    unsigned k = 0;
                    while (k < nn && strcmp(names[k], name) != 0) {
                        k++;
                    }
                    if (k == nn && nn < NAMES) {
                        snprintf(names[nn++], sizeof names[0], "%s", name);
                    }
                    if (k < NAMES) {
                        counts[k]++;
                    }
                }
                if (match) {
                    break;
                }
            }
        }
        i = end;
    }
    unsigned best = 1;
    for (unsigned k = 0; k < nn; k++) {
        if (counts[k] > best) {
            best = counts[k];
            snprintf(row, len, "%.31s", names[k]);
        }
    }
}

/* A character reference or a Latin-1 named entity at p[i] ('&'): its code point and length,
 * 0 when it is none. Named letters are built from their base letter and accent
 * ("&eacute;", "&Ouml;", "&ntilde;", "&szlig;", "&oslash;"). */
static size_t entity(const uint8_t *p, size_t n, size_t i, uint32_t *cp)
{
    size_t e = i + 1;
    while (e < n && e - i < 12 && p[e] != ';') {
        e++;
    }
    if (e >= n || p[e] != ';' || e == i + 1) {
        return 0;
    }
    char name[12];
    size_t k = e - i - 1;
    memcpy(name, p + i + 1, k);
    name[k] = '\0';
    if (name[0] == '#') {
        char *end = NULL;
        unsigned long v = name[1] == 'x' || name[1] == 'X' ? strtoul(name + 2, &end, 16)
                                                           : strtoul(name + 1, &end, 10);
        if (end == NULL || *end != '\0' || v == 0 || v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) {
            return 0;
        }
        *cp = (uint32_t)v;
        return e - i + 1;
    }
    static const struct {
        const char *name;
        uint32_t cp;
    } fixed[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''},
                 {"nbsp", ' '}, {"szlig", 0xdf}, {"AElig", 0xc6}, {"aelig", 0xe6},
                 {"Oslash", 0xd8}, {"oslash", 0xf8}, {"ETH", 0xd0}, {"eth", 0xf0},
                 {"THORN", 0xde}, {"thorn", 0xfe}, {"mdash", 0x2014}, {"ndash", 0x2013}};
    for (size_t f = 0; f < sizeof fixed / sizeof fixed[0]; f++) {
        if (strcmp(name, fixed[f].name) == 0) {
            *cp = fixed[f].cp;
            return e - i + 1;
        }
    }
    /* letter + accent: the Latin-1 block is laid out by base letter and accent */
    static const char *const accents[] = {"grave", "acute", "circ", "tilde", "uml", "ring",
                                          "cedil"};
    static const char bases[] = "AEIOUYNC";
    /* code points of upper-case letter/accent pairs in Latin-1 (0 = none) */
    static const uint16_t table[8][7] = {
        {0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0}, {0xc8, 0xc9, 0xca, 0, 0xcb, 0, 0},
        {0xcc, 0xcd, 0xce, 0, 0xcf, 0, 0},       {0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0, 0},
        {0xd9, 0xda, 0xdb, 0, 0xdc, 0, 0},       {0, 0xdd, 0, 0, 0x178, 0, 0},
        {0, 0, 0, 0xd1, 0, 0, 0},                {0, 0, 0, 0, 0, 0, 0xc7}};
    const char *b = strchr(bases, toupper((unsigned char)name[0]));
    if (b == NULL || name[0] == '\0') {
        return 0;
    }
    for (size_t a = 0; a < sizeof accents / sizeof accents[0]; a++) {
        if (strcmp(name + 1, accents[a]) == 0) {
            uint32_t v = table[b - bases][a];
            if (v == 0) {
                return 0;
            }
            if (islower((unsigned char)name[0])) {
                v = v == 0x178 ? 0xff : v + 0x20;
            }
            *cp = v;
            return e - i + 1;
        }
    }
    return 0;
}

/* Decode the entities of the text t[a, b) in place, moving the rest left, and pad the end
 * with spaces (the text stays the same length; a value's offset moves by a few bytes). */
static void decode_entities(uint8_t *t, size_t a, size_t b)
{
    size_t w = a;
    for (size_t r = a; r < b;) {
        uint32_t cp;
        size_t l = t[r] == '&' ? entity(t, b, r, &cp) : 0;
        if (l == 0) {
            t[w++] = t[r++];
            continue;
        }
        char u[4];
        size_t ul = pt_phi_utf8_put(cp, u, sizeof u);
        if (ul == 0 || ul > l) { /* never longer than the reference ("&#1;" is 4 bytes) */
            t[w++] = t[r++];
            continue;
        }
        memcpy(t + w, u, ul);
        w += ul;
        r += l;
    }
    memset(t + w, ' ', b - w);
}

/* Render markup as text of the same length, so offsets stay the object's: tags become
 * spaces, except that an opening tag of a leaf becomes its name as a label (" mrn:"), table
 * cells a TAB, line-level HTML elements a line end, and the row element's end a blank line;
 * whitespace between tags becomes spaces. Then the text is read as a table (a header row of
 * patient columns) or as free text. */
static void markup(const uint8_t *p, size_t n, const struct pt_phi_sink *sink)
{
    static const char *const lines[] = {"p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5",
                                        "h6", "dt", "dd", "hr", "table", "section", NULL};
    uint8_t *t = malloc(n ? n : 1);
    if (t == NULL) {
        pt_phi_text(p, n, 0, sink);
        return;
    }
    memcpy(t, p, n);
    char row[32];
    row_element(p, n, row, sizeof row);
    bool html = strcmp(row, "tr") == 0;
    bool in_row_cells = false;
    size_t text_start = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '<') {
            continue;
        }
        /* the text since the last tag: whitespace only becomes spaces */
        bool blank = true;
        for (size_t q = text_start; q < i && blank; q++) {
            blank = isspace(p[q]) != 0;
        }
        if (blank) {
            memset(t + text_start, ' ', i - text_start);
        } else {
            decode_entities(t, text_start, i);
        }
        char name[32];
        bool closing;
        size_t end = tag_at(p, n, i, name, sizeof name, &closing);
        size_t tl = (end < n ? end + 1 : n) - i;
        memset(t + i, ' ', tl);
        bool is_line = false;
        for (const char *const *l = lines; *l != NULL && !is_line; l++) {
            is_line = strcmp(name, *l) == 0;
        }
        if (row[0] != '\0' && closing && strcmp(name, row) == 0 && tl >= 3) {
            t[i] = '\n';
            t[i + 1] = '\n';
            in_row_cells = false;
        } else if (html && !closing && (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)) {
            if (in_row_cells) {
                t[i] = '\t';
            }
            in_row_cells = true;
        } else if (is_line && (closing || strcmp(name, "br") == 0 || strcmp(name, "hr") == 0)) {
            t[i] = '\n';
        } else if (!html && !closing && i + 1 < n && p[i + 1] != '!' && p[i + 1] != '?' && name[0] != '\0' &&
                   strlen(name) + 2 <= tl && end < n) {
            /* a leaf's name as its label: "<mrn>" -> " mrn:" */
            size_t nl = strlen(name);
            size_t after = end + 1;
            while (after < n && isspace(p[after])) {
                after++;
            }
            if (after < n && p[after] != '<') {
                memcpy(t + i + 1, name, nl);
                t[i + 1 + nl] = ':';
            }
        }
        text_start = end < n ? end + 1 : n;
        i = end < n ? end : n;
    }
    bool blank = true;
    for (size_t q = text_start; q < n && blank; q++) {
        blank = isspace(p[q]) != 0;
    }
    if (blank && text_start < n) {
        memset(t + text_start, ' ', n - text_start);
    }
    size_t pre = 0; /* HTML before the table: read as text, then blanked for the table */
    while (html && pre < n && !(p[pre] == '<' && pre + 3 < n && tolower(p[pre + 1]) == 't' &&
                                tolower(p[pre + 2]) == 'r' && !isalnum(p[pre + 3]))) {
        pre++;
    }
    if (html && pre < n && pt_phi_csv_header(t + pre, n - pre)) {
        pt_phi_text(t, pre, 0, sink);
        memset(t, ' ', pre);
        pt_phi_csv(t, n, sink);
    } else {
        pt_phi_text(t, n, 0, sink);
    }
    free(t);
}

void pt_phi_xml(const uint8_t *p, size_t n, const struct pt_phi_sink *sink)
{
    struct xctx x;
    memset(&x, 0, sizeof x);
    x.p = p;
    x.n = n;
    x.s = sink;
    x.rec_depth = -1;
    size_t head = n < 4096 ? n : 4096;
    x.cda = memmem(p, head, "ClinicalDocument", 16) != NULL;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '<' || i + 1 >= n) {
            continue;
        }
        size_t j = i + 1;
        if (p[j] == '?' || p[j] == '!') {
            const uint8_t *e = memchr(p + j, '>', n - j);
            i = e ? (size_t)(e - p) : n;
            continue;
        }
        bool closing = p[j] == '/';
        if (closing) {
            j++;
        }
        size_t ns = j;
        while (j < n && !isspace(p[j]) && p[j] != '>' && p[j] != '/') {
            j++;
        }
        char name[64];
        size_t s = ns;
        for (size_t q = ns; q < j; q++) {
            if (p[q] == ':') {
                s = q + 1; /* drop the namespace prefix */
            }
        }
        size_t nl = j - s < sizeof name - 1 ? j - s : sizeof name - 1;
        memcpy(name, p + s, nl);
        name[nl] = '\0';
        const uint8_t *e = memchr(p + j, '>', n - j);
        size_t end = e ? (size_t)(e - p) : n;
        bool empty = end > 0 && end < n && p[end - 1] == '/';
        if (closing) {
            close_element(&x, name);
        } else {
            if (x.depth < DEPTH) {
                snprintf(x.stack[x.depth++], sizeof x.stack[0], "%s", name);
            }
            element(&x, name, p + j, end - j, i, end + 1);
            any = any || x.rec_depth >= 0;
            if (empty) {
                close_element(&x, name);
            }
        }
        i = end;
    }
    if (!any) {
        markup(p, n, sink); /* XML or HTML that is neither FHIR nor CDA */
    }
}
