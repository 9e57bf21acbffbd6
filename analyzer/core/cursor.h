/*
 * cursor.h - the bounds-checked cursor: the only way parsers read evidence.
 *
 * Trust boundary: `base[0..len)` is untrusted. Every read checks, with integer
 * arithmetic (`n > len - off`, never pointer comparison), that the bytes exist.
 * A failed read sets the sticky `err`, returns 0 and leaves `off` unchanged;
 * every later read fails too, so a decoder may read a fixed header field by
 * field and test pt_cur_ok() once before acting on the values.
 *
 * The cursor borrows its bytes: it never outlives the buffer it views.
 */
#ifndef PT_CURSOR_H
#define PT_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pt_cur {
    const uint8_t *base; /* borrowed view, may be NULL when len is 0 */
    size_t len;          /* bytes in the view */
    size_t off;          /* next byte to read, 0..len */
    bool err;            /* sticky: a read went past the end */
};

static inline struct pt_cur pt_cur_make(const uint8_t *base, size_t len)
{
    struct pt_cur c = {base, len, 0, false};
    return c;
}

static inline bool pt_cur_ok(const struct pt_cur *c)
{
    return !c->err;
}

static inline size_t pt_cur_left(const struct pt_cur *c)
{
    return c->err ? 0 : c->len - c->off;
}

/* True when n more bytes can be read; otherwise marks the cursor failed. */
static inline bool pt_cur_need(struct pt_cur *c, size_t n)
{
    if (c->err || n > c->len - c->off) {
        c->err = true;
        return false;
    }
    return true;
}

/* True when n more bytes exist; never marks the cursor failed. */
static inline bool pt_cur_has(const struct pt_cur *c, size_t n)
{
    return !c->err && n <= c->len - c->off;
}

static inline uint8_t pt_cur_u8(struct pt_cur *c)
{
    if (!pt_cur_need(c, 1)) {
        return 0;
    }
    return c->base[c->off++];
}

static inline uint16_t pt_cur_be16(struct pt_cur *c)
{
    if (!pt_cur_need(c, 2)) {
        return 0;
    }
    const uint8_t *p = c->base + c->off;
    c->off += 2;
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint16_t pt_cur_le16(struct pt_cur *c)
{
    if (!pt_cur_need(c, 2)) {
        return 0;
    }
    const uint8_t *p = c->base + c->off;
    c->off += 2;
    return (uint16_t)((p[1] << 8) | p[0]);
}

static inline uint32_t pt_cur_be32(struct pt_cur *c)
{
    if (!pt_cur_need(c, 4)) {
        return 0;
    }
    const uint8_t *p = c->base + c->off;
    c->off += 4;
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint32_t pt_cur_le32(struct pt_cur *c)
{
    if (!pt_cur_need(c, 4)) {
        return 0;
    }
    const uint8_t *p = c->base + c->off;
    c->off += 4;
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static inline uint64_t pt_cur_be64(struct pt_cur *c)
{
    uint64_t hi = pt_cur_be32(c);
    uint64_t lo = pt_cur_be32(c);
    return c->err ? 0 : (hi << 32) | lo;
}

static inline uint64_t pt_cur_le64(struct pt_cur *c)
{
    uint64_t lo = pt_cur_le32(c);
    uint64_t hi = pt_cur_le32(c);
    return c->err ? 0 : (hi << 32) | lo;
}

/* Peek without consuming; returns 0 (and leaves err clear) when absent. */
static inline uint8_t pt_cur_peek_u8(const struct pt_cur *c, size_t ahead)
{
    if (c->err || ahead >= c->len - c->off) {
        return 0;
    }
    return c->base[c->off + ahead];
}

static inline bool pt_cur_skip(struct pt_cur *c, size_t n)
{
    if (!pt_cur_need(c, n)) {
        return false;
    }
    c->off += n;
    return true;
}

/* Copy n bytes out; on failure `dst` is zeroed. */
bool pt_cur_copy(struct pt_cur *c, void *dst, size_t n);

/* Borrow a view of the next n bytes and advance; *out is NULL on failure. */
bool pt_cur_bytes(struct pt_cur *c, size_t n, const uint8_t **out);

/*
 * Carve a child cursor over the next n bytes and advance the parent past
 * them, so a length field can never let the child read its sibling's bytes.
 * On failure the child is an empty, failed cursor.
 */
bool pt_cur_sub(struct pt_cur *c, size_t n, struct pt_cur *child);

/* The rest of the view as a child; the parent ends up at its end. */
struct pt_cur pt_cur_rest(struct pt_cur *c);

/*
 * Text lines that arrive in stream pieces (HTTP, FTP, SMTP, MIME headers): take bytes up to
 * and including the next LF from c into buf, after the *held bytes kept from earlier pieces.
 *   PT_LINE_MORE  c is used up without an LF; the bytes are held, call again with more.
 *   PT_LINE_DONE  buf holds the line, its LF or CR LF removed, NUL-terminated; *len is its
 *                 length and *raw the bytes it took on the wire (LF included); *held is 0.
 *   PT_LINE_LONG  the line would not fit buf (cap - 1 bytes); nothing more is taken.
 * raw may be NULL. The line may contain NUL bytes: callers that treat it as a C string
 * check memchr(buf, 0, *len).
 */
enum pt_line_rc { PT_LINE_MORE, PT_LINE_DONE, PT_LINE_LONG, PT_LINE_CUT };
enum pt_line_rc pt_cur_line(struct pt_cur *c, char *buf, size_t cap, size_t *held, size_t *len,
                            size_t *raw);

/*
 * The same, resynchronising after an over-long line as Zeek and Suricata do: the line is kept
 * up to cap - 1 bytes, the rest of it up to its LF is skipped (over as many pieces as it
 * takes, *skipping says so between calls), and it is returned as
 *   PT_LINE_CUT   buf holds the line's first cap - 1 bytes, NUL-terminated, *len their count;
 *                 the caller records an anomaly and parses on from the next line.
 * PT_LINE_LONG is never returned.
 */
enum pt_line_rc pt_cur_line_resync(struct pt_cur *c, char *buf, size_t cap, size_t *held,
                                   bool *skipping, size_t *len, size_t *raw);

/* `n` decimal numbers separated by `sep` at the start of the C string `s` ("10,1,2,3,4,5"
 * of an FTP PORT command), each of 1 to 9 digits, into v; the count of characters read,
 * or 0 when the text does not start so. What the line protocols use instead of sscanf. */
size_t pt_text_uints(const char *s, char sep, unsigned *v, size_t n);

/* Pointer to the next unread byte (a borrowed view of pt_cur_left() bytes). */
static inline const uint8_t *pt_cur_ptr(const struct pt_cur *c)
{
    return c->err || c->base == NULL ? NULL : c->base + c->off;
}

#endif
