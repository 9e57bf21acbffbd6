/*
 * regf.h - a small reader of Windows registry hive files (regf), enough to read named values
 * of known keys (hostinfer.c: the SYSTEM hive's computer name and interface addresses).
 *
 * Trust boundary: the hive is evidence. Every cell is reached through the bounds-checked
 * cursor (core/cursor.h) from an offset that is checked against the hive's size; a cell
 * must be allocated (negative size) and hold what it is read as; subkey lists are lf, lh,
 * li and one level of ri; data over 16344 bytes (big data, "db") is not read. Nothing
 * recurses on the hive's contents: a key path is walked one name at a time, so a hive
 * whose lists point back to themselves costs at most their (bounded) lengths.
 */
#ifndef PT_REGF_H
#define PT_REGF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_REGF_SZ 1u
#define PT_REGF_EXPAND_SZ 2u
#define PT_REGF_DWORD 4u
#define PT_REGF_MULTI_SZ 7u
#define PT_REGF_NAME_MAX 256 /* key and value names are cut at 255 bytes (UTF-8) */

struct pt_regf {
    const uint8_t *p;
    size_t n;
    uint32_t root; /* the root key's cell offset (from the first hive bin) */
};

/* A hive: "regf" at 0, a root key cell that is a key. False when it is not one. */
bool pt_regf_open(struct pt_regf *h, const uint8_t *p, size_t n);
/* The key at `path` (names separated by '\', compared without ASCII case) under the key
 * `from` (h->root for the root); 0 when there is none. */
uint32_t pt_regf_key(const struct pt_regf *h, uint32_t from, const char *path);
/* The subkeys of `key`: fn(name, cell) for each, at most `max`; their number. */
size_t pt_regf_subkeys(const struct pt_regf *h, uint32_t key, size_t max,
                       void (*fn)(void *, const char *name, uint32_t cell), void *arg);
/* The value `name` of `key`: its type and data (within the hive). False when absent or
 * unreadable. */
bool pt_regf_value(const struct pt_regf *h, uint32_t key, const char *name, uint32_t *type,
                   const uint8_t **data, uint32_t *len);
/* A REG_SZ / REG_MULTI_SZ's `index`-th string (0 for REG_SZ) as UTF-8 (non-ASCII code
 * units as '?'), cut at `cap` - 1 bytes; false past the last one. */
bool pt_regf_string(const uint8_t *data, uint32_t len, unsigned index, char *out, size_t cap);

#endif
