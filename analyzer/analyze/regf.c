/*
 * regf.c - registry hive reader (regf.h). Layout: a 4096-byte base block ("regf", the root
 * cell's offset at 0x24), then hive bins; a cell offset counts from the first bin (file
 * offset 4096), a cell is a signed 32-bit size (negative: allocated) and its data.
 */
#include "regf.h"

#include <string.h>

#include "../core/cursor.h"

#define BASE 4096u
#define NK_MIN 0x4C /* a key cell's fixed part, before its name */
#define VK_MIN 0x14
#define MAX_LIST 65536u /* entries of one subkey or value list read at most */

/* The data of the allocated cell at `off` as a cursor; err set when there is none. */
static struct pt_cur cell(const struct pt_regf *h, uint32_t off)
{
    struct pt_cur bad = pt_cur_make(NULL, 0);
    bad.err = true;
    if (off == 0xffffffffu || (uint64_t)BASE + off + 4 > h->n) {
        return bad;
    }
    struct pt_cur c = pt_cur_make(h->p + BASE + off, h->n - BASE - off);
    int32_t size = (int32_t)pt_cur_le32(&c);
    if (size >= 0 || size == INT32_MIN || (uint32_t)-size < 8) {
        return bad;
    }
    struct pt_cur d;
    if (!pt_cur_sub(&c, (size_t)(uint32_t)-size - 4, &d)) {
        return bad;
    }
    return d;
}

static bool sig(struct pt_cur *c, const char *s)
{
    const uint8_t *b;
    return pt_cur_bytes(c, 2, &b) && b[0] == (uint8_t)s[0] && b[1] == (uint8_t)s[1];
}

/* A name of `len` bytes at the cursor, ASCII/Latin-1 (`ascii`) or UTF-16LE, into out. */
static bool name_of(struct pt_cur *c, size_t len, bool ascii, char out[PT_REGF_NAME_MAX])
{
    const uint8_t *b;
    if (!pt_cur_bytes(c, len, &b)) {
        return false;
    }
    size_t o = 0, step = ascii ? 1 : 2;
    for (size_t i = 0; i + step <= len && o < PT_REGF_NAME_MAX - 1; i += step) {
        unsigned u = ascii ? b[i] : (unsigned)(b[i] | b[i + 1] << 8);
        out[o++] = u >= 0x20 && u < 0x7f ? (char)u : '?';
    }
    out[o] = '\0';
    return true;
}

/* A key cell: its name and the fields we use. */
struct nk {
    uint32_t subkeys, subkey_list, values, value_list;
    char name[PT_REGF_NAME_MAX];
};

static bool key_at(const struct pt_regf *h, uint32_t off, struct nk *k)
{
    struct pt_cur c = cell(h, off);
    if (!sig(&c, "nk")) {
        return false;
    }
    uint16_t flags = pt_cur_le16(&c);
    pt_cur_skip(&c, 0x14 - 4);
    k->subkeys = pt_cur_le32(&c);
    pt_cur_skip(&c, 4);
    k->subkey_list = pt_cur_le32(&c);
    pt_cur_skip(&c, 4);
    k->values = pt_cur_le32(&c);
    k->value_list = pt_cur_le32(&c);
    pt_cur_skip(&c, 0x48 - 0x2C);
    uint16_t nlen = pt_cur_le16(&c);
    pt_cur_skip(&c, 2);
    return pt_cur_ok(&c) && name_of(&c, nlen, (flags & 0x20) != 0, k->name);
}

bool pt_regf_open(struct pt_regf *h, const uint8_t *p, size_t n)
{
    memset(h, 0, sizeof *h);
    if (n < BASE + 8 || memcmp(p, "regf", 4) != 0) {
        return false;
    }
    struct pt_cur c = pt_cur_make(p, n);
    pt_cur_skip(&c, 0x24);
    uint32_t root = pt_cur_le32(&c);
    h->p = p;
    h->n = n;
    struct nk k;
    if (!pt_cur_ok(&c) || !key_at(h, root, &k)) {
        h->p = NULL;
        h->n = 0;
        return false;
    }
    h->root = root;
    return true;
}

static int name_cmp(const char *a, const char *b, size_t blen)
{
    size_t i = 0;
    for (; i < blen && a[i] != '\0'; i++) {
        char x = a[i], y = b[i];
        x = x >= 'A' && x <= 'Z' ? (char)(x + 32) : x;
        y = y >= 'A' && y <= 'Z' ? (char)(y + 32) : y;
        if (x != y) {
            return 1;
        }
    }
    return i == blen && a[i] == '\0' ? 0 : 1;
}

/* Each subkey cell offset of one list cell (lf, lh, li), `depth` 0 allowing one ri. */
static size_t walk_list(const struct pt_regf *h, uint32_t off, int depth, size_t max,
                        size_t *seen, void (*fn)(void *, uint32_t), void *arg)
{
    struct pt_cur c = cell(h, off);
    const uint8_t *s;
    if (!pt_cur_bytes(&c, 2, &s)) {
        return 0;
    }
    uint16_t n = pt_cur_le16(&c);
    bool pairs = (s[0] == 'l' && (s[1] == 'f' || s[1] == 'h'));
    bool li = s[0] == 'l' && s[1] == 'i', ri = s[0] == 'r' && s[1] == 'i';
    if (!pairs && !li && !(ri && depth == 0)) {
        return 0;
    }
    size_t got = 0;
    for (uint16_t i = 0; i < n && *seen < max && pt_cur_ok(&c); i++) {
        uint32_t o = pt_cur_le32(&c);
        if (pairs) {
            pt_cur_skip(&c, 4);
        }
        if (!pt_cur_ok(&c)) {
            break;
        }
        if (ri) {
            got += walk_list(h, o, 1, max, seen, fn, arg);
        } else {
            (*seen)++;
            got++;
            fn(arg, o);
        }
    }
    return got;
}

struct find {
    const struct pt_regf *h;
    const char *name;
    size_t len;
    uint32_t found;
    void (*user)(void *, const char *, uint32_t);
    void *arg;
};

static void on_find(void *arg, uint32_t off)
{
    struct find *f = arg;
    struct nk k;
    if (f->found == 0 && key_at(f->h, off, &k) && name_cmp(k.name, f->name, f->len) == 0) {
        f->found = off;
    }
}

uint32_t pt_regf_key(const struct pt_regf *h, uint32_t from, const char *path)
{
    uint32_t at = from;
    while (at != 0 && *path != '\0') {
        const char *end = strchr(path, '\\');
        size_t len = end != NULL ? (size_t)(end - path) : strlen(path);
        struct nk k;
        if (!key_at(h, at, &k)) {
            return 0;
        }
        struct find f = {.h = h, .name = path, .len = len};
        size_t seen = 0;
        walk_list(h, k.subkey_list, 0, MAX_LIST, &seen, on_find, &f);
        at = f.found;
        path = end != NULL ? end + 1 : path + len;
    }
    return at;
}

static void on_subkey(void *arg, uint32_t off)
{
    struct find *f = arg;
    struct nk k;
    if (key_at(f->h, off, &k)) {
        f->user(f->arg, k.name, off);
    }
}

size_t pt_regf_subkeys(const struct pt_regf *h, uint32_t key, size_t max,
                       void (*fn)(void *, const char *name, uint32_t cell), void *arg)
{
    struct nk k;
    if (!key_at(h, key, &k)) {
        return 0;
    }
    struct find f = {.h = h, .user = fn, .arg = arg};
    size_t seen = 0;
    return walk_list(h, k.subkey_list, 0, max < MAX_LIST ? max : MAX_LIST, &seen, on_subkey,
                     &f);
}

/* One value cell: its name, type and data. */
static bool value_at(const struct pt_regf *h, uint32_t off, char name[PT_REGF_NAME_MAX],
                     uint32_t *type, const uint8_t **data, uint32_t *len)
{
    struct pt_cur c = cell(h, off);
    if (!sig(&c, "vk")) {
        return false;
    }
    const uint8_t *at = pt_cur_ptr(&c) + 6; /* cell offset 8: where resident data is */
    uint16_t nlen = pt_cur_le16(&c);
    uint32_t size = pt_cur_le32(&c), doff = pt_cur_le32(&c);
    *type = pt_cur_le32(&c);
    uint16_t flags = pt_cur_le16(&c);
    pt_cur_skip(&c, 2);
    if (!pt_cur_ok(&c) || !name_of(&c, nlen, (flags & 1) != 0, name)) {
        return false;
    }
    if (size & 0x80000000u) { /* resident: up to 4 bytes in the offset field */
        *len = size & 0x7fffffffu;
        *data = at;
        return *len <= 4;
    }
    if (size > 16344) {
        return false; /* big data ("db"): not read */
    }
    struct pt_cur d = cell(h, doff);
    *len = size;
    return pt_cur_bytes(&d, size, data);
}

bool pt_regf_value(const struct pt_regf *h, uint32_t key, const char *name, uint32_t *type,
                   const uint8_t **data, uint32_t *len)
{
    struct nk k;
    if (!key_at(h, key, &k)) {
        return false;
    }
    struct pt_cur list = cell(h, k.value_list);
    for (uint32_t i = 0; i < k.values && i < MAX_LIST && pt_cur_ok(&list); i++) {
        uint32_t off = pt_cur_le32(&list);
        char vname[PT_REGF_NAME_MAX];
        if (pt_cur_ok(&list) && value_at(h, off, vname, type, data, len) &&
            name_cmp(vname, name, strlen(name)) == 0) {
            return true;
        }
    }
    return false;
}

bool pt_regf_string(const uint8_t *data, uint32_t len, unsigned index, char *out, size_t cap)
{
    uint32_t i = 0;
    for (unsigned k = 0;; k++) {
        size_t o = 0;
        uint32_t start = i;
        for (; i + 1 < len; i += 2) {
            unsigned u = (unsigned)(data[i] | data[i + 1] << 8);
            if (u == 0) {
                break;
            }
            if (o + 1 < cap) {
                out[o++] = u >= 0x20 && u < 0x7f ? (char)u : '?';
            }
        }
        if (cap > 0) {
            out[o] = '\0';
        }
        if (k == index) {
            return i > start;
        }
        if (i + 1 >= len) {
            return false;
        }
        i += 2; /* past the NUL */
    }
}
