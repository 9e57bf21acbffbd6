/*
 * validate.c - validators for identifier candidates (research/phi-disk-compliance.md §2.3):
 * SSN area/group/serial rules and sample deny-list; NPI Luhn with the 80840 prefix; DEA
 * registration checksum; payment card Luhn and test numbers; Medicare MBI format; calendar
 * dates; US state abbreviations and ZIP prefixes; personal-name normalisation.
 *
 * Trust boundary: inputs are candidate strings of the stated length cut from evidence.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "phi.h"

static const struct {
    const char *name;
    char letter;
    bool joins;
} types[] = {
#define PT_PHI_TYPE(id, name, letter, joins) {name, letter, joins},
#include "phi_types.def"
#undef PT_PHI_TYPE
};

const char *pt_phi_type_name(enum pt_phi_type t)
{
    return t < PT_PHI_N_TYPES ? types[t].name : "?";
}

char pt_phi_type_letter(enum pt_phi_type t)
{
    return t < PT_PHI_N_TYPES ? types[t].letter : ' ';
}

bool pt_phi_type_joins(enum pt_phi_type t)
{
    return t < PT_PHI_N_TYPES && types[t].joins;
}

/* SSA: area 000, 666 and 900-999 are never issued, group 00 and serial 0000 neither. */
bool pt_phi_ssn_valid(const char d[9])
{
    for (int i = 0; i < 9; i++) {
        if (!isdigit((unsigned char)d[i])) {
            return false;
        }
    }
    int area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    if (area == 0 || area == 666 || area >= 900) {
        return false;
    }
    if (d[3] == '0' && d[4] == '0') {
        return false;
    }
    return !(d[5] == '0' && d[6] == '0' && d[7] == '0' && d[8] == '0');
}

/* Numbers printed in advertising and documentation (078-05-1120 from a 1938 wallet insert,
 * 219-09-9999 from an SSA pamphlet, 123-45-6789 everywhere) and one-digit runs. */
bool pt_phi_ssn_denied(const char d[9])
{
    static const char *const deny[] = {"078051120", "219099999", "123456789", "987654320",
                                       "987654321", "987654322", "987654323", "987654324",
                                       "987654325", "987654326", "987654327", "987654328",
                                       "987654329", "111223333"};
    for (size_t i = 0; i < sizeof deny / sizeof deny[0]; i++) {
        if (memcmp(d, deny[i], 9) == 0) {
            return true;
        }
    }
    bool same = true;
    for (int i = 1; i < 9; i++) {
        same = same && d[i] == d[0];
    }
    return same;
}

void pt_phi_digits(const char *in, char *out, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; in[i] != '\0' && k + 1 < len; i++) {
        if (isdigit((unsigned char)in[i])) {
            out[k++] = in[i];
        }
    }
    out[k] = '\0';
}

bool pt_phi_luhn_valid(const char *d, size_t n)
{
    if (n < 2) {
        return false;
    }
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)d[n - 1 - i])) {
            return false;
        }
        unsigned v = (unsigned)(d[n - 1 - i] - '0');
        if (i & 1) {
            v *= 2;
            if (v > 9) {
                v -= 9;
            }
        }
        sum += v;
    }
    return sum % 10 == 0;
}

/* CMS NPI standard: the Luhn check digit of "80840" followed by the first nine digits; the
 * prefix adds a constant 24 to the doubled-digit sum. First digit 1 or 2. */
bool pt_phi_npi_valid(const char d[10])
{
    if (d[0] != '1' && d[0] != '2') {
        return false;
    }
    char full[15];
    memcpy(full, "80840", 5);
    memcpy(full + 5, d, 10);
    bool same = true;
    for (int i = 1; i < 10; i++) {
        same = same && d[i] == d[0];
    }
    return !same && pt_phi_luhn_valid(full, 15);
}

/* DEA: registrant type letter, surname initial (or 9), seven digits; (d1+d3+d5) +
 * 2*(d2+d4+d6) ends in d7. */
bool pt_phi_dea_valid(const char s[9])
{
    if (strchr("ABCDEFGHJKLMPRSTUX", s[0]) == NULL || s[0] == '\0') {
        return false;
    }
    if (!isupper((unsigned char)s[1]) && s[1] != '9') {
        return false;
    }
    int d[7];
    for (int i = 0; i < 7; i++) {
        if (!isdigit((unsigned char)s[2 + i])) {
            return false;
        }
        d[i] = s[2 + i] - '0';
    }
    int sum = d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5]);
    return sum % 10 == d[6];
}

/* Published test numbers of the card networks. */
bool pt_phi_card_denied(const char *d, size_t n)
{
    static const char *const deny[] = {"4111111111111111", "4012888888881881", "4222222222222",
                                       "5555555555554444", "5105105105105100", "378282246310005",
                                       "371449635398431", "6011111111111117", "6011000990139424",
                                       "3530111333300000", "4242424242424242", "30569309025904"};
    for (size_t i = 0; i < sizeof deny / sizeof deny[0]; i++) {
        if (strlen(deny[i]) == n && memcmp(d, deny[i], n) == 0) {
            return true;
        }
    }
    return false;
}

/* CMS MBI: C A AN N A AN N A A N N (C: 1-9; A: letters without S L O I B Z). */
bool pt_phi_mbi_valid(const char s[11])
{
    static const char pattern[] = "CAxNAxNAANN";
    for (int i = 0; i < 11; i++) {
        unsigned char c = (unsigned char)s[i];
        bool letter = isupper(c) && strchr("SLOIBZ", c) == NULL;
        switch (pattern[i]) {
            case 'C':
                if (c < '1' || c > '9') {
                    return false;
                }
                break;
            case 'N':
                if (!isdigit(c)) {
                    return false;
                }
                break;
            case 'A':
                if (!letter) {
                    return false;
                }
                break;
            default:
                if (!letter && !isdigit(c)) {
                    return false;
                }
                break;
        }
    }
    return true;
}

bool pt_phi_date_valid(const char s[8])
{
    int v[8];
    for (int i = 0; i < 8; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return false;
        }
        v[i] = s[i] - '0';
    }
    int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    int m = v[4] * 10 + v[5];
    int d = v[6] * 10 + v[7];
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1850 || y > 2100 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) {
        return false;
    }
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

static const char states[] = "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI "
                             "MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT "
                             "VT VA WA WV WI WY DC PR VI GU AS MP AA AE AP";

bool pt_phi_state_valid(const char s[2])
{
    for (size_t i = 0; i + 1 < sizeof states; i += 3) {
        if (states[i] == s[0] && states[i + 1] == s[1]) {
            return true;
        }
    }
    return false;
}

/* USPS 3-digit ZIP prefixes by state (ranges; a few prefixes are shared or unassigned). */
const char *pt_phi_zip_state(const char zip[5])
{
    static const struct {
        int lo, hi;
        const char *st;
    } r[] = {
        {5, 5, "NY"},     {6, 9, "PR"},     {10, 27, "MA"},   {28, 29, "RI"},   {30, 38, "NH"},
        {39, 49, "ME"},   {50, 59, "VT"},   {60, 69, "CT"},   {70, 89, "NJ"},   {90, 99, "AE"},
        {100, 149, "NY"}, {150, 196, "PA"}, {197, 199, "DE"}, {200, 200, "DC"}, {201, 201, "VA"},
        {202, 205, "DC"}, {206, 219, "MD"}, {220, 246, "VA"}, {247, 268, "WV"}, {270, 289, "NC"},
        {290, 299, "SC"}, {300, 319, "GA"}, {320, 339, "FL"}, {340, 340, "AA"}, {341, 349, "FL"},
        {350, 369, "AL"}, {370, 385, "TN"}, {386, 397, "MS"}, {398, 399, "GA"}, {400, 427, "KY"},
        {430, 459, "OH"}, {460, 479, "IN"}, {480, 499, "MI"}, {500, 528, "IA"}, {530, 549, "WI"},
        {550, 567, "MN"}, {569, 569, "DC"}, {570, 577, "SD"}, {580, 588, "ND"}, {590, 599, "MT"},
        {600, 629, "IL"}, {630, 658, "MO"}, {660, 679, "KS"}, {680, 693, "NE"}, {700, 714, "LA"},
        {716, 729, "AR"}, {730, 749, "OK"}, {750, 799, "TX"}, {800, 816, "CO"}, {820, 831, "WY"},
        {832, 838, "ID"}, {840, 847, "UT"}, {850, 865, "AZ"}, {870, 884, "NM"}, {885, 885, "TX"},
        {889, 898, "NV"}, {900, 961, "CA"}, {962, 966, "AP"}, {967, 968, "HI"}, {969, 969, "GU"},
        {970, 979, "OR"}, {980, 994, "WA"}, {995, 999, "AK"},
    };
    for (int i = 0; i < 5; i++) {
        if (!isdigit((unsigned char)zip[i])) {
            return "";
        }
    }
    int p = (zip[0] - '0') * 100 + (zip[1] - '0') * 10 + (zip[2] - '0');
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        if (p >= r[i].lo && p <= r[i].hi) {
            return r[i].st;
        }
    }
    return "";
}

/* ---- names: Unicode case and accents ------------------------------------------------------- */

/* One UTF-8 sequence at s[0..n): its length, and the code point in *cp (an invalid byte is
 * returned alone as itself with *cp = 0xFFFFFFFF, so Latin-1 text passes through). */
static size_t utf8_get(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                                                   : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || len > n) {
        *cp = 0xFFFFFFFFu;
        return 1;
    }
    uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = 0xFFFFFFFFu;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3fu);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
        *cp = 0xFFFFFFFFu;
        return 1;
    }
    *cp = v;
    return len;
}

size_t pt_phi_utf8_put(uint32_t v, char *out, size_t room)
{
    if (v < 0x80 && room >= 1) {
        out[0] = (char)v;
        return 1;
    }
    if (v < 0x800 && room >= 2) {
        out[0] = (char)(0xc0 | (v >> 6));
        out[1] = (char)(0x80 | (v & 0x3f));
        return 2;
    }
    if (v < 0x10000 && room >= 3) {
        out[0] = (char)(0xe0 | (v >> 12));
        out[1] = (char)(0x80 | ((v >> 6) & 0x3f));
        out[2] = (char)(0x80 | (v & 0x3f));
        return 3;
    }
    if (v >= 0x10000 && room >= 4) {
        out[0] = (char)(0xf0 | (v >> 18));
        out[1] = (char)(0x80 | ((v >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((v >> 6) & 0x3f));
        out[3] = (char)(0x80 | (v & 0x3f));
        return 4;
    }
    return 0;
}

/* Simple upper-case mapping (Unicode's one-to-one mappings) for Latin-1, Latin Extended-A,
 * Greek and Cyrillic, the scripts of the names DICOM's and HL7's character sets carry. */
static uint32_t upper_cp(uint32_t v)
{
    if (v >= 'a' && v <= 'z') {
        return v - 32;
    }
    if ((v >= 0xe0 && v <= 0xfe && v != 0xf7)) {
        return v - 32;
    }
    if (v == 0xff) {
        return 0x178;
    }
    if (v >= 0x100 && v <= 0x17f) {
        bool odd_upper = (v >= 0x139 && v <= 0x148) || (v >= 0x179 && v <= 0x17e);
        if (v == 0x131 || v == 0x138 || v == 0x149 || v == 0x17f) {
            return v; /* dotless i, kra, 'n, long s: no simple pair */
        }
        if (odd_upper) {
            return (v & 1) ? v : v - 1;
        }
        return (v & 1) ? v - 1 : v;
    }
    if (v >= 0x3b1 && v <= 0x3c9) {
        return v == 0x3c2 ? 0x3a3 : v - 32; /* final sigma */
    }
    if (v >= 0x430 && v <= 0x44f) {
        return v - 32;
    }
    if (v >= 0x450 && v <= 0x45f) {
        return v - 80;
    }
    return v;
}

/* Base letters of U+00C0..U+017F, for accent-insensitive comparison ('*': not a letter). */
static const char latin1_base[] = "AAAAAAACEEEEIIIIDNOOOOO*OUUUUYTS"
                                  "AAAAAAACEEEEIIIIDNOOOOO*OUUUUYTY";
static const char latin_a_base[] = "AAAAAACCCCCCCCDDDDEEEEEEEEEEGGGGGGGGHHHHIIIIIIIIIIIIJJKKK"
                                   "LLLLLLLLLLNNNNNNNNNOOOOOOOORRRRRRSSSSSSSSTTTTTTUUUUUUUUUUUU"
                                   "WWYYYZZZZZZS";

size_t pt_phi_name_fold(const char *in, char *out, size_t len)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t n = strlen(in), k = 0;
    if (len == 0) {
        return 0;
    }
    for (size_t i = 0; i < n && k + 4 < len;) {
        uint32_t v;
        size_t l = utf8_get(s + i, n - i, &v);
        if (v == 0xFFFFFFFFu) { /* not UTF-8: the byte as it is */
            out[k++] = (char)s[i];
            i += l;
            continue;
        }
        i += l;
        if (v >= 0x300 && v <= 0x36f) {
            continue; /* combining accents (decomposed text) */
        }
        if (v == '\'' || v == 0x2019 || v == '`' || v == 0xb4) {
            continue; /* O'Brien = OBrien */
        }
        if (v == '-') {
            v = ' ';
        }
        const char *two = v == 0xdf ? "SS" : (v == 0xc6 || v == 0xe6) ? "AE"
                        : (v == 0x152 || v == 0x153) ? "OE" : NULL;
        if (two != NULL) {
            out[k++] = two[0];
            out[k++] = two[1];
            continue;
        }
        if (v >= 0xc0 && v <= 0xff && latin1_base[v - 0xc0] != '*') {
            out[k++] = latin1_base[v - 0xc0];
            continue;
        }
        if (v >= 0x100 && v <= 0x17f) {
            out[k++] = latin_a_base[v - 0x100];
            continue;
        }
        k += pt_phi_utf8_put(upper_cp(v), out + k, len - k - 1);
    }
    out[k] = '\0';
    return k;
}

/* Upper case (Unicode simple mappings, see upper_cp), collapse spaces, drop surrounding
 * punctuation of each component; the letters themselves (accents) are kept. */
static size_t put_component(const char *s, size_t n, char *out, size_t len, size_t k)
{
    bool space = false;
    for (size_t i = 0; i < n && k + 5 < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == ',' || c == '.') {
            space = k > 0 && out[k - 1] != '^';
            i++;
            continue;
        }
        if (space) {
            out[k++] = ' ';
            space = false;
        }
        if (c < 0x80) {
            out[k++] = (char)toupper(c);
            i++;
            continue;
        }
        uint32_t v;
        size_t l = utf8_get((const unsigned char *)s + i, n - i, &v);
        if (v == 0xFFFFFFFFu) {
            out[k++] = (char)c;
        } else {
            k += pt_phi_utf8_put(upper_cp(v), out + k, len - k - 1);
        }
        i += l;
    }
    return k;
}

bool pt_phi_name_norm(const char *in, size_t n, bool natural, char *out, size_t len)
{
    size_t k = 0;
    if (len < 4) {
        return false;
    }
    if (natural) {
        /* "Given Middle Family" or "Family, Given" */
        const char *comma = memchr(in, ',', n);
        if (comma != NULL) {
            k = put_component(in, (size_t)(comma - in), out, len, 0);
            out[k++] = '^';
            k = put_component(comma + 1, n - (size_t)(comma + 1 - in), out, len, k);
        } else {
            size_t end = n;
            while (end > 0 && in[end - 1] == ' ') {
                end--;
            }
            size_t sp = end;
            while (sp > 0 && in[sp - 1] != ' ') {
                sp--;
            }
            k = put_component(in + sp, end - sp, out, len, 0);
            if (sp > 0) {
                out[k++] = '^';
                k = put_component(in, sp, out, len, k);
            }
        }
    } else {
        /* DICOM PN: the alphabetic group, then the ideographic and phonetic groups after
         * '=' as they are; HL7 XPN: family^given^middle */
        size_t m = 0;
        while (m < n && in[m] != '=') {
            m++;
        }
        size_t start = 0;
        for (size_t i = 0; i <= m; i++) {
            if (i == m || in[i] == '^') {
                k = put_component(in + start, i - start, out, len, k);
                if (i < m && k + 2 < len) {
                    out[k++] = '^';
                }
                start = i + 1;
            }
        }
    }
    while (k > 0 && (out[k - 1] == '^' || out[k - 1] == ' ')) {
        k--;
    }
    if (!natural) {
        const char *eq = memchr(in, '=', n);
        size_t rest = eq ? n - (size_t)(eq - in) : 0;
        while (rest > 0 && (eq[rest - 1] == '=' || eq[rest - 1] == ' ' || eq[rest - 1] == '^')) {
            rest--;
        }
        if (rest > 1 && k + rest + 1 < len) {
            memcpy(out + k, eq, rest);
            k += rest;
        }
    }
    out[k] = '\0';
    for (size_t i = 0; i < k; i++) {
        if (out[i] != '^' && out[i] != ' ') {
            return true;
        }
    }
    return false;
}
