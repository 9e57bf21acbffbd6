/*
 * doc_zip.c - members of a document package (OOXML, OpenDocument), read from memory.
 *
 * PKWARE APPNOTE 6.3.x. From the end: the end of central directory record (§4.3.16)
 *   sig 0x06054b50 | disk(2) | cd disk(2) | entries here(2) | entries(2) | cd size(4) |
 *   cd offset(4) | comment length(2) | comment
 * with its Zip64 locator (§4.3.15, sig 0x07064b50, 20 bytes before it) pointing to the
 * Zip64 record (§4.3.14, sig 0x06064b50: entries(8) at +32, cd offset(8) at +48) when a field
 * is saturated. Central header (§4.3.12) sig 0x02014b50; local header (§4.3.7)
 *   sig 0x04034b50 | version(2) | flags(2) | method(2) | time(4) | crc(4) | csize(4) |
 *   usize(4) | name length(2) | extra length(2) | name | extra | data
 * A package cut before its central directory (a truncated transfer) is listed by scanning
 * local headers; a member whose size is deferred to a data descriptor (flag bit 3) then runs
 * to the end of the document, and inflating stops at the end of its deflate stream.
 * Untrusted: every offset and size is checked through the cursor; methods 0 and 8 only.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/limits.h"
#include "doc_int.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_Z64_LOC 0x07064b50u
#define SIG_Z64_EOCD 0x06064b50u

bool doc_zip_like(const uint8_t *b, size_t n)
{
    return n >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
}

static pt_status add(struct doc_zip *z, size_t *cap, const struct doc_zip_entry *e)
{
    if (z->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct doc_zip_entry *ne = realloc(z->e, nc * sizeof *ne);
        if (ne == NULL) {
            return PT_ENOMEM;
        }
        z->e = ne;
        *cap = nc;
    }
    z->e[z->n++] = *e;
    return PT_OK;
}

static void copy_name(char *dst, size_t cap, const uint8_t *s, size_t n)
{
    size_t k = n < cap - 1 ? n : cap - 1;
    for (size_t i = 0; i < k; i++) {
        dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    }
    dst[k] = '\0';
}

/* Where the member's data starts, from its local header at `loff`; SIZE_MAX when absent. */
static size_t local_data(const struct doc *d, uint64_t loff)
{
    if (loff >= d->n) {
        return SIZE_MAX;
    }
    struct pt_cur c = pt_cur_make(d->b, d->n);
    pt_cur_skip(&c, (size_t)loff);
    uint32_t sig = pt_cur_le32(&c);
    pt_cur_skip(&c, 22);
    uint16_t nl = pt_cur_le16(&c), xl = pt_cur_le16(&c);
    pt_cur_skip(&c, (size_t)nl + xl);
    if (!pt_cur_ok(&c) || sig != SIG_LOCAL) {
        return SIZE_MAX;
    }
    return c.off;
}

static size_t find_eocd(const struct doc *d)
{
    if (d->n < 22) {
        return SIZE_MAX;
    }
    size_t lo = d->n > 65535 + 22 ? d->n - 65535 - 22 : 0;
    for (size_t i = d->n - 22 + 1; i-- > lo;) {
        const uint8_t *p = d->b + i;
        if (p[0] == 0x50 && p[1] == 0x4b && p[2] == 0x05 && p[3] == 0x06) {
            return i;
        }
    }
    return SIZE_MAX;
}

static pt_status from_central(struct doc *d, struct doc_zip *z, size_t eocd, size_t *cap)
{
    struct pt_cur e = pt_cur_make(d->b, d->n);
    pt_cur_skip(&e, eocd + 10);
    uint64_t entries = pt_cur_le16(&e);
    pt_cur_le32(&e);
    uint64_t cd_off = pt_cur_le32(&e);
    if ((entries == 0xffff || cd_off == 0xffffffffu) && eocd >= 20) {
        struct pt_cur l = pt_cur_make(d->b, d->n);
        pt_cur_skip(&l, eocd - 20);
        uint32_t sig = pt_cur_le32(&l);
        pt_cur_skip(&l, 4);
        uint64_t z64 = pt_cur_le64(&l);
        if (pt_cur_ok(&l) && sig == SIG_Z64_LOC && z64 < d->n) {
            struct pt_cur r = pt_cur_make(d->b, d->n);
            pt_cur_skip(&r, (size_t)z64);
            uint32_t sig64 = pt_cur_le32(&r);
            pt_cur_skip(&r, 28);
            uint64_t ent64 = pt_cur_le64(&r);
            pt_cur_skip(&r, 8);
            uint64_t off64 = pt_cur_le64(&r);
            if (pt_cur_ok(&r) && sig64 == SIG_Z64_EOCD) {
                entries = ent64;
                cd_off = off64;
            }
        }
    }
    if (!pt_cur_ok(&e) || cd_off >= d->n) {
        return PT_EMALFORMED;
    }
    struct pt_cur cd = pt_cur_make(d->b, d->n);
    pt_cur_skip(&cd, (size_t)cd_off);
    for (uint64_t i = 0; i < entries; i++) {
        if (i >= PT_UNPACK_MAX_ENTRIES) {
            doc_anomaly_kind(d, PT_ANOM_LIMIT_ZIP_ENTRIES,
                             "more entries than PT_UNPACK_MAX_ENTRIES");
            break;
        }
        uint32_t sig = pt_cur_le32(&cd);
        pt_cur_skip(&cd, 4);
        uint16_t flags = pt_cur_le16(&cd);
        uint16_t method = pt_cur_le16(&cd);
        pt_cur_skip(&cd, 8);
        uint64_t csize = pt_cur_le32(&cd);
        pt_cur_le32(&cd);
        uint16_t nlen = pt_cur_le16(&cd), xlen = pt_cur_le16(&cd), clen = pt_cur_le16(&cd);
        pt_cur_skip(&cd, 8);
        uint64_t loff = pt_cur_le32(&cd);
        const uint8_t *nm = NULL;
        pt_cur_bytes(&cd, nlen, &nm);
        struct pt_cur extra;
        pt_cur_sub(&cd, xlen, &extra);
        pt_cur_skip(&cd, clen);
        if (!pt_cur_ok(&cd) || sig != SIG_CENTRAL) {
            doc_anomaly(d, PT_ANOM_DOC_ZIP_BAD_ENTRY, "a central directory entry is malformed");
            return z->n > 0 ? PT_OK : PT_EMALFORMED;
        }
        /* Zip64 extended information (§4.5.3): usize, csize, local offset, when saturated */
        while (pt_cur_left(&extra) >= 4) {
            uint16_t id = pt_cur_le16(&extra), sz = pt_cur_le16(&extra);
            struct pt_cur f;
            if (!pt_cur_sub(&extra, sz, &f)) {
                break;
            }
            if (id == 1) {
                if (pt_cur_left(&f) >= 8) {
                    pt_cur_le64(&f); /* usize is not needed: inflating is bounded by limits */
                }
                if (csize == 0xffffffffu && pt_cur_left(&f) >= 8) {
                    csize = pt_cur_le64(&f);
                }
                if (loff == 0xffffffffu && pt_cur_left(&f) >= 8) {
                    loff = pt_cur_le64(&f);
                }
            }
        }
        struct doc_zip_entry ent = {.method = method, .encrypted = (flags & 1) != 0};
        copy_name(ent.name, sizeof ent.name, nm, nlen);
        size_t data = local_data(d, loff);
        if (data == SIZE_MAX || csize > d->n - data) {
            doc_anomaly(d, PT_ANOM_DOC_ZIP_BAD_ENTRY, "a member's data lies outside the package");
            continue;
        }
        ent.data_off = data;
        ent.csize = (size_t)csize;
        PT_TRY(add(z, cap, &ent));
    }
    return PT_OK;
}

/* No central directory: walk the local headers in order (the package was cut). */
static pt_status from_local(struct doc *d, struct doc_zip *z, size_t *cap)
{
    size_t off = 0;
    while (off + 30 <= d->n) {
        const uint8_t *hit = memmem(d->b + off, d->n - off, "PK\003\004", 4);
        if (hit == NULL || z->n >= PT_UNPACK_MAX_ENTRIES) {
            break;
        }
        size_t at = (size_t)(hit - d->b);
        struct pt_cur c = pt_cur_make(d->b, d->n);
        pt_cur_skip(&c, at + 6);
        uint16_t flags = pt_cur_le16(&c);
        uint16_t method = pt_cur_le16(&c);
        pt_cur_skip(&c, 8);
        uint64_t csize = pt_cur_le32(&c);
        pt_cur_le32(&c);
        uint16_t nl = pt_cur_le16(&c), xl = pt_cur_le16(&c);
        const uint8_t *nm = NULL;
        pt_cur_bytes(&c, nl, &nm);
        pt_cur_skip(&c, xl);
        if (!pt_cur_ok(&c)) {
            break;
        }
        struct doc_zip_entry ent = {.method = method, .encrypted = (flags & 1) != 0,
                                    .data_off = c.off};
        copy_name(ent.name, sizeof ent.name, nm, nl);
        bool deferred = (flags & 8) != 0 || csize == 0xffffffffu;
        ent.csize = deferred || csize > d->n - c.off ? d->n - c.off : (size_t)csize;
        PT_TRY(add(z, cap, &ent));
        off = deferred || csize > d->n - c.off ? c.off + 1 : c.off + (size_t)csize;
    }
    return z->n > 0 ? PT_OK : PT_EMALFORMED;
}

pt_status doc_zip_open(struct doc *d, struct doc_zip *z)
{
    size_t cap = 0;
    z->e = NULL;
    z->n = 0;
    size_t eocd = find_eocd(d);
    pt_status st = PT_EMALFORMED;
    if (eocd != SIZE_MAX) {
        st = from_central(d, z, eocd, &cap);
    }
    if (st == PT_EMALFORMED) {
        doc_anomaly(d, PT_ANOM_DOC_ZIP_NO_DIRECTORY,
                    "no usable central directory (a cut package?); members found by their "
                    "local headers");
        st = from_local(d, z, &cap);
    }
    if (st == PT_EMALFORMED) {
        doc_anomaly(d, PT_ANOM_DOC_ZIP_UNREADABLE, "no member of the package could be found");
    }
    return st;
}

void doc_zip_close(struct doc_zip *z)
{
    free(z->e);
    z->e = NULL;
    z->n = 0;
}

const struct doc_zip_entry *doc_zip_find(const struct doc_zip *z, const char *name)
{
    /* a later entry of the same name wins, as in unzip's overwrite order */
    for (size_t i = z->n; i-- > 0;) {
        if (strcmp(z->e[i].name, name) == 0) {
            return &z->e[i];
        }
    }
    return NULL;
}

pt_status doc_zip_read(struct doc *d, const struct doc_zip *z, const char *name, uint8_t **out,
                       size_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    const struct doc_zip_entry *e = doc_zip_find(z, name);
    if (e == NULL) {
        return PT_EUNSUPPORTED;
    }
    if (e->encrypted) {
        doc_anomaly(d, PT_ANOM_DOC_ZIP_ENCRYPTED, "a package member is encrypted; not read");
        return PT_EUNSUPPORTED;
    }
    struct pt_cur c = pt_cur_make(d->b, d->n);
    const uint8_t *data = NULL;
    if (!pt_cur_skip(&c, e->data_off) || !pt_cur_bytes(&c, e->csize, &data)) {
        return PT_EUNSUPPORTED;
    }
    if (e->method == 0) {
        size_t m = e->csize < PT_DOC_MAX_MEMBER ? e->csize : PT_DOC_MAX_MEMBER;
        if (d->inflated + m > PT_DOC_MAX_INFLATED) {
            doc_anomaly_kind(d, PT_ANOM_LIMIT_DOC_INFLATE,
                             "the members read exceed "
                             "PT_DOC_MAX_INFLATED; the rest is not read");
            return PT_EUNSUPPORTED;
        }
        d->inflated += m; /* stored members count too: one member named by many sheets */
        uint8_t *p = malloc(m ? m : 1);
        if (p == NULL) {
            return PT_ENOMEM;
        }
        memcpy(p, data, m);
        *out = p;
        *out_n = m;
        return PT_OK;
    }
    if (e->method != 8) {
        doc_anomaly(d, PT_ANOM_DOC_ZIP_METHOD,
                    "a package member uses a compression method not decoded");
        return PT_EUNSUPPORTED;
    }
    bool complete = false;
    pt_status st = doc_inflate(d, data, e->csize, true, PT_DOC_MAX_MEMBER, out, out_n, &complete);
    if (st == PT_ENOMEM) {
        return st;
    }
    if (*out == NULL) {
        return PT_EUNSUPPORTED; /* the budget was spent before this member */
    }
    if (st == PT_OK && !complete) {
        doc_anomaly(d, PT_ANOM_DOC_ZIP_MEMBER_CUT,
                    "a package member ends early or is corrupt; read so far");
    }
    return PT_OK;
}
