/*
 * dicom_ds.c - PHI in DICOM data sets (PS3.5 §7, PS3.10 §7; tags from PS3.6 and the
 * de-identification profile of PS3.15 Annex E; research/phi-disk-compliance.md §2.5.1).
 *
 * Input: a Part 10 file (128-byte preamble, "DICM", group 0002 in explicit VR little endian)
 * or a bare data set. The transfer syntax of (0002,0010) decides the encoding: implicit VR
 * little endian, explicit VR little or big endian, deflated explicit VR little endian
 * (inflated with zlib, bounded). A bare data set's encoding is guessed from its first
 * element. Sequences with defined or undefined length are walked recursively (items,
 * item and sequence delimiters); encapsulated pixel data is skipped item by item.
 *
 * Text values are converted to UTF-8 by (0008,0005) Specific Character Set, including the
 * ISO 2022 code extensions (escape sequences switch G0/G1; '^', '=' and '\' return to the
 * first character set when the active one is single-byte, PS3.5 §6.1.2.5.3), through
 * iconv. A Basic Directory (DICOMDIR) gives one record per directory record.
 *
 * Trust boundary: every byte is untrusted and read through pt_cur; lengths are checked
 * against the enclosing item before use; nesting, element count and inflation are capped
 * (limits.h). A cut or malformed data set gives an anomaly and the values read before it.
 */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../core/cursor.h"
#include "../core/limits.h"
#include "phi.h"

enum ts { TS_EXPLICIT_LE, TS_IMPLICIT_LE, TS_EXPLICIT_BE };

#define TAG(g, e) (((uint32_t)(g) << 16) | (e))

/* PHI-bearing attributes. `subject`: the value describes the record's own patient. */
static const struct {
    uint32_t tag;
    const char *field;
    enum pt_phi_type type;
    bool subject;
} phi_tags[] = {
    {TAG(0x0010, 0x0010), "(0010,0010) PatientName", PT_PHI_NAME, true},
    {TAG(0x0010, 0x0020), "(0010,0020) PatientID", PT_PHI_MRN, true},
    {TAG(0x0010, 0x0030), "(0010,0030) PatientBirthDate", PT_PHI_DOB, true},
    {TAG(0x0010, 0x1000), "(0010,1000) OtherPatientIDs", PT_PHI_MRN, true},
    {TAG(0x0010, 0x1001), "(0010,1001) OtherPatientNames", PT_PHI_NAME, false},
    {TAG(0x0010, 0x1005), "(0010,1005) PatientBirthName", PT_PHI_NAME, false},
    {TAG(0x0010, 0x1040), "(0010,1040) PatientAddress", PT_PHI_ADDRESS, true},
    {TAG(0x0010, 0x1060), "(0010,1060) PatientMotherBirthName", PT_PHI_NAME, false},
    {TAG(0x0010, 0x1090), "(0010,1090) MedicalRecordLocator", PT_PHI_MRN, true},
    {TAG(0x0010, 0x2154), "(0010,2154) PatientTelephoneNumbers", PT_PHI_PHONE, true},
    {TAG(0x0008, 0x0050), "(0008,0050) AccessionNumber", PT_PHI_ACCESSION, true},
    {TAG(0x0008, 0x0020), "(0008,0020) StudyDate", PT_PHI_DATE, true},
    {TAG(0x0020, 0x000D), "(0020,000D) StudyInstanceUID", PT_PHI_RECORD_ID, true},
    {TAG(0x0038, 0x0010), "(0038,0010) AdmissionID", PT_PHI_ACCOUNT, true},
    {TAG(0x0018, 0x1000), "(0018,1000) DeviceSerialNumber", PT_PHI_DEVICE, false},
};

struct dctx {
    const struct pt_phi_sink *s;
    enum ts ts;
    uint64_t base;            /* offset of `root` in the object */
    const uint8_t *root;      /* the buffer all cursors view */
    char charset[4][20];      /* (0008,0005) values; [0] is the first (default) set */
    unsigned n_charset;
    unsigned elements;
    bool truncated_said;
    char issuer[65];          /* (0010,0021) of the current record */
    bool in_record;
    const char *record_kind;
};

static void anomaly(struct dctx *d, uint64_t off, enum pt_anom kind, const char *detail)
{
    if (d->s->anomaly != NULL) {
        d->s->anomaly(d->s->arg, d->base + off, kind, detail);
    }
}

/* ---- character sets ------------------------------------------------------------------------ */

/* iconv name for a defined term of (0008,0005), "" for ASCII. */
static const char *iconv_name(const char *term)
{
    static const struct {
        const char *term, *name;
    } map[] = {
        {"ISO_IR 100", "ISO-8859-1"}, {"ISO_IR 101", "ISO-8859-2"}, {"ISO_IR 109", "ISO-8859-3"},
        {"ISO_IR 110", "ISO-8859-4"}, {"ISO_IR 144", "ISO-8859-5"}, {"ISO_IR 127", "ISO-8859-6"},
        {"ISO_IR 126", "ISO-8859-7"}, {"ISO_IR 138", "ISO-8859-8"}, {"ISO_IR 148", "ISO-8859-9"},
        {"ISO_IR 203", "ISO-8859-15"}, {"ISO_IR 13", "JIS_X0201"}, {"ISO_IR 166", "TIS-620"},
        {"ISO_IR 192", "UTF-8"},       {"GB18030", "GB18030"},     {"GBK", "GBK"},
        {"ISO 2022 IR 100", "ISO-8859-1"}, {"ISO 2022 IR 101", "ISO-8859-2"},
        {"ISO 2022 IR 109", "ISO-8859-3"}, {"ISO 2022 IR 110", "ISO-8859-4"},
        {"ISO 2022 IR 144", "ISO-8859-5"}, {"ISO 2022 IR 127", "ISO-8859-6"},
        {"ISO 2022 IR 126", "ISO-8859-7"}, {"ISO 2022 IR 138", "ISO-8859-8"},
        {"ISO 2022 IR 148", "ISO-8859-9"}, {"ISO 2022 IR 203", "ISO-8859-15"},
        {"ISO 2022 IR 13", "JIS_X0201"},   {"ISO 2022 IR 166", "TIS-620"},
        {"ISO 2022 IR 149", "EUC-KR"},     {"ISO 2022 IR 58", "GB2312"},
        {"ISO 2022 IR 87", "ISO-2022-JP"}, {"ISO 2022 IR 159", "ISO-2022-JP-2"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(term, map[i].term) == 0) {
            return map[i].name;
        }
    }
    return "";
}

/* Append `n` bytes in charset `cs` ("" = ASCII) as UTF-8; bytes iconv rejects become '?'. */
static void put_conv(const char *cs, const char *prefix, const uint8_t *p, size_t n, char *out,
                     size_t len, size_t *k)
{
    if (n == 0) {
        return;
    }
    if (cs[0] == '\0') {
        for (size_t i = 0; i < n && *k + 1 < len; i++) {
            out[(*k)++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
        }
        return;
    }
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1) {
        put_conv("", "", p, n, out, len, k);
        return;
    }
    char in[1024];
    size_t pl = strlen(prefix);
    size_t m = n + pl < sizeof in ? n : sizeof in - pl;
    memcpy(in, prefix, pl);
    memcpy(in + pl, p, m);
    char *ip = in, *op = out + *k;
    size_t il = m + pl, ol = len - 1 - *k;
    while (il > 0 && ol > 0) {
        if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
            if (ol == 0) {
                break;
            }
            *op++ = '?'; /* an invalid or incomplete sequence: skip one byte */
            ol--;
            ip++;
            il--;
        }
    }
    *k = (size_t)(op - out);
    iconv_close(cd);
}

/* An ISO 2022 escape sequence at p: its length and the charset it selects. */
static size_t escape(const uint8_t *p, size_t n, const char **cs, const char **prefix)
{
    static const struct {
        const char *seq, *cs, *prefix;
    } esc[] = {
        {"\x1b(B", "", ""},          {"\x1b(J", "", ""},
        {"\x1b)I", "JIS_X0201", ""}, {"\x1b$B", "ISO-2022-JP", "\x1b$B"},
        {"\x1b$(D", "ISO-2022-JP-2", "\x1b$(D"},
        {"\x1b$)C", "EUC-KR", ""},   {"\x1b$)A", "GB2312", ""},
        {"\x1b-A", "ISO-8859-1", ""}, {"\x1b-B", "ISO-8859-2", ""}, {"\x1b-C", "ISO-8859-3", ""},
        {"\x1b-D", "ISO-8859-4", ""}, {"\x1b-L", "ISO-8859-5", ""}, {"\x1b-G", "ISO-8859-6", ""},
        {"\x1b-F", "ISO-8859-7", ""}, {"\x1b-H", "ISO-8859-8", ""}, {"\x1b-M", "ISO-8859-9", ""},
        {"\x1b-b", "ISO-8859-15", ""}, {"\x1b-T", "TIS-620", ""},
    };
    for (size_t i = 0; i < sizeof esc / sizeof esc[0]; i++) {
        size_t l = strlen(esc[i].seq);
        if (n >= l && memcmp(p, esc[i].seq, l) == 0) {
            *cs = esc[i].cs;
            *prefix = esc[i].prefix;
            return l;
        }
    }
    return 0;
}

static bool two_byte(const char *cs)
{
    return strcmp(cs, "ISO-2022-JP") == 0 || strcmp(cs, "ISO-2022-JP-2") == 0;
}

/* A text value to UTF-8 under the data set's character sets. */
static void to_utf8(const struct dctx *d, const uint8_t *p, size_t n, char *out, size_t len)
{
    size_t k = 0;
    const char *first = d->n_charset > 0 ? iconv_name(d->charset[0]) : "";
    bool ext = d->n_charset > 1 || (d->n_charset == 1 && strncmp(d->charset[0], "ISO 2022", 8) == 0);
    if (!ext) {
        put_conv(first, "", p, n, out, len, &k);
        out[k] = '\0';
        return;
    }
    const char *cs = first, *prefix = "";
    if (two_byte(first)) {
        cs = "";
    }
    size_t seg = 0;
    for (size_t i = 0; i <= n; i++) {
        bool end = i == n;
        const char *ncs = NULL, *npre = NULL;
        size_t el = end ? 0 : (p[i] == 0x1b ? escape(p + i, n - i, &ncs, &npre) : 0);
        bool delim = !end && !two_byte(cs) && (p[i] == '^' || p[i] == '=' || p[i] == '\\');
        if (end || el > 0 || delim) {
            put_conv(cs, prefix, p + seg, i - seg, out, len, &k);
            if (el > 0) {
                cs = ncs;
                prefix = npre;
                i += el - 1;
                seg = i + 1;
            } else if (delim) {
                if (k + 1 < len) {
                    out[k++] = (char)p[i];
                }
                cs = two_byte(first) ? "" : first;
                prefix = "";
                seg = i + 1;
            }
        }
    }
    out[k] = '\0';
}

/* ---- values -------------------------------------------------------------------------------- */

static void value_text(const struct dctx *d, const uint8_t *p, size_t n, char *out, size_t len)
{
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\0')) {
        n--;
    }
    while (n > 0 && p[0] == ' ') {
        p++;
        n--;
    }
    to_utf8(d, p, n, out, len);
}

static void record_start(struct dctx *d, const char *kind, uint64_t off)
{
    if (d->s->record != NULL) {
        d->s->record(d->s->arg, kind, d->base + off);
    }
    d->in_record = true;
    d->issuer[0] = '\0';
    if (d->s->health != NULL) {
        d->s->health(d->s->arg, "DICOM data set (an imaging study of the patient)");
    }
}

static void emit(struct dctx *d, size_t k, const char *value, uint64_t off)
{
    char norm[512];
    const char *v = value;
    char why[96];
    snprintf(why, sizeof why, "DICOM attribute %s", phi_tags[k].field);
    if (phi_tags[k].type == PT_PHI_NAME) {
        if (!pt_phi_name_norm(value, strlen(value), false, norm, sizeof norm)) {
            return;
        }
        v = norm;
    } else if (phi_tags[k].type == PT_PHI_DOB || phi_tags[k].type == PT_PHI_DATE) {
        if (strlen(value) < 8) {
            return;
        }
    }
    if (v[0] == '\0') {
        return;
    }
    struct pt_phi_hit h = {.type = phi_tags[k].type, .value = v, .field = phi_tags[k].field,
                           .detector = "dicom", .offset = d->base + off,
                           .confidence = phi_tags[k].subject ? 1.0 : 0.9, .reason = why,
                           .state = "", .issuer = d->issuer, .subject = phi_tags[k].subject};
    if (d->s->hit != NULL) {
        d->s->hit(d->s->arg, &h);
    }
}

/* One element's value, at `off` in the view, of interest or not. */
static void element(struct dctx *d, uint32_t tag, const uint8_t *v, size_t n, uint64_t off,
                    unsigned depth, uint32_t parent)
{
    if (tag == TAG(0x0008, 0x0005) && depth == 0) {
        d->n_charset = 0;
        size_t s = 0;
        for (size_t i = 0; i <= n && d->n_charset < 4; i++) {
            if (i == n || v[i] == '\\') {
                size_t a = s, b = i;
                while (a < b && v[a] == ' ') {
                    a++;
                }
                while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\0')) {
                    b--;
                }
                snprintf(d->charset[d->n_charset++], sizeof d->charset[0], "%.*s",
                         (int)(b - a), (const char *)v + a);
                s = i + 1;
            }
        }
        return;
    }
    if (tag == TAG(0x0010, 0x0021)) {
        value_text(d, v, n, d->issuer, sizeof d->issuer);
        return;
    }
    /* Patient attributes are the record's at the top level, in OtherPatientIDsSequence,
     * and in each directory record of a DICOMDIR. */
    if (depth > 0 && parent != TAG(0x0010, 0x1002) && parent != TAG(0x0004, 0x1220)) {
        return;
    }
    for (size_t k = 0; k < sizeof phi_tags / sizeof phi_tags[0]; k++) {
        if (phi_tags[k].tag != tag) {
            continue;
        }
        if (!d->in_record) {
            record_start(d, d->record_kind, off);
        }
        char text[1024];
        value_text(d, v, n, text, sizeof text);
        /* multiple values are separated by '\' (PS3.5 §6.4) */
        char *save = NULL;
        for (char *one = strtok_r(text, "\\", &save); one != NULL; one = strtok_r(NULL, "\\", &save)) {
            emit(d, k, one, off);
        }
        return;
    }
}

/* ---- the element walk -------------------------------------------------------------------- */

static bool long_vr(const uint8_t vr[2])
{
    static const char *const l[] = {"OB", "OW", "OF", "OD", "OL", "OV", "SQ", "UT", "UC", "UR",
                                    "UN", "SV", "UV"};
    for (size_t i = 0; i < sizeof l / sizeof l[0]; i++) {
        if (vr[0] == l[i][0] && vr[1] == l[i][1]) {
            return true;
        }
    }
    return false;
}

static uint16_t rd16(struct pt_cur *c, bool be)
{
    return be ? pt_cur_be16(c) : pt_cur_le16(c);
}

static uint32_t rd32(struct pt_cur *c, bool be)
{
    return be ? pt_cur_be32(c) : pt_cur_le32(c);
}

static void walk(struct dctx *d, struct pt_cur *c, unsigned depth, uint32_t parent, bool until_delim);

/* Items of a sequence: each is a nested data set. */
/* Offset in `root` of position `at` of cursor `c` (cursors are views into root). */
static size_t abs_off(const struct dctx *d, const struct pt_cur *c, size_t at)
{
    return (size_t)(c->base - d->root) + at;
}

static void items(struct dctx *d, struct pt_cur *c, unsigned depth, uint32_t seq, bool undefined)
{
    bool be = d->ts == TS_EXPLICIT_BE;
    while (pt_cur_left(c) >= 8) {
        size_t at = abs_off(d, c, c->off);
        uint16_t g = rd16(c, be), e = rd16(c, be);
        uint32_t len = rd32(c, be);
        if (g != 0xFFFE) {
            anomaly(d, at, PT_ANOM_PHI_DICOM_BAD_ITEM, "sequence content that is not an item");
            return;
        }
        if (e == 0xE0DD) { /* sequence delimiter */
            return;
        }
        if (e != 0xE000) {
            continue; /* stray item delimiter */
        }
        if (seq == TAG(0x0004, 0x1220)) { /* a DICOMDIR directory record */
            d->in_record = false;
            d->record_kind = "dicomdir record";
        }
        if (len == 0xFFFFFFFFu) {
            walk(d, c, depth + 1, seq, true);
        } else {
            struct pt_cur item;
            if (!pt_cur_sub(c, len, &item)) {
                anomaly(d, at, PT_ANOM_PHI_DICOM_TRUNCATED, "item longer than what remains");
                return;
            }
            walk(d, &item, depth + 1, seq, false);
        }
        if (!undefined && pt_cur_left(c) == 0) {
            return;
        }
    }
}

/* Elements until the end of the view, or an item delimiter when `until_delim`. Offsets
 * are reported relative to the view start through `c->base` arithmetic of the parent. */
static void walk(struct dctx *d, struct pt_cur *c, unsigned depth, uint32_t parent, bool until_delim)
{
    if (depth > PT_PHI_DICOM_DEPTH) {
        anomaly(d, abs_off(d, c, c->off), PT_ANOM_LIMIT_DICOM_DEPTH,
                "sequences nested deeper than the limit");
        c->off = c->len;
        return;
    }
    bool be = d->ts == TS_EXPLICIT_BE;
    while (pt_cur_left(c) > 0) {
        if (++d->elements > PT_PHI_DICOM_ELEMENTS) {
            anomaly(d, abs_off(d, c, c->off), PT_ANOM_LIMIT_DICOM_ELEMENTS,
                    "more elements than the limit");
            c->off = c->len;
            return;
        }
        size_t start = c->off;
        size_t at = abs_off(d, c, start);
        if (pt_cur_left(c) < 8) {
            anomaly(d, at, PT_ANOM_PHI_DICOM_TRUNCATED, "data set ends inside an element header");
            c->off = c->len;
            return;
        }
        uint16_t g = rd16(c, be), e = rd16(c, be);
        uint32_t tag = TAG(g, e);
        if (g == 0xFFFE) {
            uint32_t l = rd32(c, be);
            (void)l;
            if (e == 0xE00D && until_delim) {
                return;
            }
            continue;
        }
        uint8_t vr[2] = {0, 0};
        uint32_t len;
        bool explicit_vr = d->ts != TS_IMPLICIT_LE;
        if (explicit_vr) {
            vr[0] = pt_cur_u8(c);
            vr[1] = pt_cur_u8(c);
            if (vr[0] < 'A' || vr[0] > 'Z' || vr[1] < 'A' || vr[1] > 'Z') {
                /* not a VR: read this element as implicit (some writers mix) */
                c->off = start + 4;
                explicit_vr = false;
            }
        }
        if (!explicit_vr) {
            len = rd32(c, be);
        } else if (long_vr(vr)) {
            pt_cur_skip(c, 2);
            len = rd32(c, be);
        } else {
            len = rd16(c, be);
        }
        if (!pt_cur_ok(c)) {
            anomaly(d, at, PT_ANOM_PHI_DICOM_TRUNCATED, "data set ends inside an element header");
            c->off = c->len;
            return;
        }
        bool sq = explicit_vr ? (vr[0] == 'S' && vr[1] == 'Q') : false;
        if (len == 0xFFFFFFFFu) {
            if (tag == TAG(0x7FE0, 0x0010) || (vr[0] == 'O' && vr[1] == 'B')) {
                items(d, c, depth, tag, true); /* encapsulated fragments */
            } else {
                items(d, c, depth, tag, true);
            }
            continue;
        }
        struct pt_cur val;
        if (!pt_cur_sub(c, len, &val)) {
            anomaly(d, at, PT_ANOM_PHI_DICOM_TRUNCATED, "element value longer than what remains");
            /* read what is there: a cut PatientName is still a name */
            size_t have = pt_cur_left(c);
            const uint8_t *v = pt_cur_ptr(c);
            if (have > 0 && have < 1024 && v != NULL) {
                element(d, tag, v, have, at, depth, parent);
            }
            c->off = c->len;
            return;
        }
        /* implicit VR (or UN): a value that starts with an item tag is a sequence */
        if (!sq && len >= 8 && (!explicit_vr || (vr[0] == 'U' && vr[1] == 'N'))) {
            const uint8_t *v = val.base;
            sq = be ? (v[0] == 0xFF && v[1] == 0xFE && v[2] == 0xE0 && v[3] == 0x00)
                    : (v[0] == 0xFE && v[1] == 0xFF && v[2] == 0x00 && v[3] == 0xE0);
        }
        if (sq) {
            items(d, &val, depth, tag, false);
            continue;
        }
        if (g == 0x0002 && depth == 0 && d->ts != TS_EXPLICIT_LE) {
            continue;
        }
        if (len > 0 && len <= 65536) {
            element(d, tag, val.base, len, at, depth, parent);
        }
    }
}

/* ---- entry ----------------------------------------------------------------------------- */

static enum ts guess_ts(const uint8_t *p, size_t n)
{
    if (n >= 6 && p[4] >= 'A' && p[4] <= 'Z' && p[5] >= 'A' && p[5] <= 'Z') {
        return p[0] == 0x00 && p[1] != 0x00 ? TS_EXPLICIT_BE : TS_EXPLICIT_LE;
    }
    return TS_IMPLICIT_LE;
}

/* Does a bare data set start here: a plausible first element of group 0002-0010? */
bool pt_phi_dicom_bare(const uint8_t *p, size_t n)
{
    if (n < 16) {
        return false;
    }
    uint16_t gle = (uint16_t)(p[0] | (p[1] << 8)), gbe = (uint16_t)((p[0] << 8) | p[1]);
    bool vr = p[4] >= 'A' && p[4] <= 'Z' && p[5] >= 'A' && p[5] <= 'Z';
    if (vr && ((gle >= 0x0002 && gle <= 0x0010) || (gbe >= 0x0002 && gbe <= 0x0010))) {
        return true;
    }
    /* implicit little endian: group 0008, a small even length */
    uint32_t len = (uint32_t)p[4] | ((uint32_t)p[5] << 8) | ((uint32_t)p[6] << 16) |
                   ((uint32_t)p[7] << 24);
    return (gle == 0x0008 || gle == 0x0002) && p[2] < 0x20 && p[3] == 0 && len < 256 &&
           (len & 1) == 0;
}

static void inflate_and_walk(struct dctx *d, const uint8_t *p, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
        return;
    }
    size_t cap = n * 4 + 4096, got = 0;
    uint8_t *out = malloc(cap);
    if (out == NULL) {
        anomaly(d, 0, PT_ANOM_LIMIT_DICOM_INFLATE, "out of memory for the deflated data set");
        inflateEnd(&z);
        return;
    }
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)(n > 0xffffffffu ? 0xffffffffu : n);
    int zr = Z_OK;
    while (zr == Z_OK) {
        if (got == cap) {
            if (cap >= PT_PHI_INFLATE_MAX) {
                anomaly(d, 0, PT_ANOM_LIMIT_DICOM_INFLATE,
                        "deflated data set larger than the limit");
                break;
            }
            size_t ncap = cap * 2 > PT_PHI_INFLATE_MAX ? PT_PHI_INFLATE_MAX : cap * 2;
            uint8_t *nb = realloc(out, ncap);
            if (nb == NULL) {
                break;
            }
            out = nb;
            cap = ncap;
        }
        z.next_out = out + got;
        z.avail_out = (uInt)(cap - got);
        zr = inflate(&z, Z_NO_FLUSH);
        got = cap - z.avail_out;
    }
    if (zr != Z_STREAM_END && zr != Z_OK) {
        anomaly(d, 0, PT_ANOM_PHI_DICOM_BAD_DEFLATE, "deflated data set does not inflate");
    }
    inflateEnd(&z);
    if (out != NULL) {
        struct pt_cur c = pt_cur_make(out, got);
        d->ts = TS_EXPLICIT_LE;
        d->root = out;
        walk(d, &c, 0, 0, false);
        free(out);
    }
}

void pt_phi_dicom(const uint8_t *p, size_t n, const struct pt_phi_sink *sink)
{
    struct dctx d;
    memset(&d, 0, sizeof d);
    d.s = sink;
    d.record_kind = "dicom data set";
    d.root = p;
    struct pt_cur c = pt_cur_make(p, n);
    char tsuid[65] = "";
    if (n >= 132 && memcmp(p + 128, "DICM", 4) == 0) {
        /* File Meta Information: explicit VR little endian, group 0002 */
        pt_cur_skip(&c, 132);
        while (pt_cur_left(&c) >= 8 && pt_cur_peek_u8(&c, 0) == 0x02 && pt_cur_peek_u8(&c, 1) == 0) {
            size_t at = c.off;
            pt_cur_skip(&c, 2);
            uint16_t e = pt_cur_le16(&c);
            uint8_t vr[2] = {pt_cur_u8(&c), pt_cur_u8(&c)};
            uint32_t len = long_vr(vr) ? (pt_cur_skip(&c, 2), pt_cur_le32(&c)) : pt_cur_le16(&c);
            struct pt_cur v;
            if (!pt_cur_ok(&c) || !pt_cur_sub(&c, len, &v)) {
                anomaly(&d, at, PT_ANOM_PHI_DICOM_TRUNCATED, "file meta information is cut");
                return;
            }
            if (e == 0x0010) {
                value_text(&d, v.base, v.len, tsuid, sizeof tsuid);
            }
        }
        d.ts = strcmp(tsuid, "1.2.840.10008.1.2") == 0     ? TS_IMPLICIT_LE
               : strcmp(tsuid, "1.2.840.10008.1.2.2") == 0 ? TS_EXPLICIT_BE
                                                          : TS_EXPLICIT_LE;
        if (tsuid[0] == '\0' && pt_cur_left(&c) >= 6) {
            d.ts = guess_ts(pt_cur_ptr(&c), pt_cur_left(&c));
        }
        if (strcmp(tsuid, "1.2.840.10008.1.2.1.99") == 0) {
            d.base = c.off; /* offsets inside are in the inflated data set */
            inflate_and_walk(&d, pt_cur_ptr(&c), pt_cur_left(&c));
            return;
        }
    } else {
        d.ts = guess_ts(p, n);
    }
    struct pt_cur rest = pt_cur_rest(&c);
    walk(&d, &rest, 0, 0, false);
}
