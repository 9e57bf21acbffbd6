/* passwords.c - candidate archive passwords from command lines (see passwords.h). */
#include "passwords.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/cursor.h"

/* One line split into words: each word NUL-terminated in buf, its start in at[]. */
struct words {
    char buf[PT_PW_MAX_LINE + PT_PW_MAX_WORDS + 1];
    size_t used;
    size_t at[PT_PW_MAX_WORDS];
    size_t len[PT_PW_MAX_WORDS];
    size_t n;
    bool args; /* the line holds a task's <Arguments> element */
};

const char *pt_pw_form_name(enum pt_pw_form f)
{
    switch (f) {
    case PT_PW_7Z: return "7z -p";
    case PT_PW_RAR_HP: return "rar -hp";
    case PT_PW_ZIP: return "zip -P";
    case PT_PW_OPENSSL: return "openssl -k/-pass";
    case PT_PW_PS_PASSWORD: return "-Password";
    case PT_PW_PS_SECURE: return "ConvertTo-SecureString";
    case PT_PW_WORDLIST: return "wordlist";
    }
    return "?";
}

static bool is_sep(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '(' || c == ')' || c == ';' ||
           c == '|' || c == '&' || c == '<' || c == '>' || c == ',' || c == '{' || c == '}';
}

/* Split the line in c into w, as a shell would: quotes removed and joined to their word. */
static void split(struct pt_cur *c, struct words *w)
{
    w->n = w->used = 0;
    w->args = false;
    while (pt_cur_left(c) > 0 && w->n < PT_PW_MAX_WORDS) {
        uint8_t ch = pt_cur_u8(c);
        if (is_sep(ch)) {
            continue;
        }
        size_t start = w->used;
        uint8_t quote = 0;
        for (;;) {
            if (quote == 0 && (ch == '"' || ch == '\'')) {
                quote = ch;
            } else if (quote != 0 && ch == quote) {
                quote = 0;
            } else if (w->used < sizeof w->buf - 1) {
                w->buf[w->used++] = (char)ch;
            }
            if (pt_cur_left(c) == 0) {
                break;
            }
            ch = pt_cur_peek_u8(c, 0);
            if (quote == 0 && is_sep(ch)) {
                break;
            }
            pt_cur_u8(c);
        }
        w->at[w->n] = start;
        w->len[w->n] = w->used - start;
        w->buf[w->used++] = '\0';
        if (w->len[w->n] == 9 && strncasecmp(w->buf + start, "Arguments", 9) == 0) {
            w->args = true;
        }
        w->n++;
        if (w->used >= sizeof w->buf - 1) {
            break;
        }
    }
}

static const char *word(const struct words *w, size_t i)
{
    return w->buf + w->at[i];
}

/* The word names this program: its last path part, any case, ".exe" allowed. */
static bool names(const struct words *w, size_t i, const char *prog)
{
    const char *s = word(w, i), *b = s;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '/' || *p == '\\') {
            b = p + 1;
        }
    }
    size_t pl = strlen(prog), bl = strlen(b);
    return strncasecmp(b, prog, pl) == 0 && (bl == pl || strcasecmp(b + pl, ".exe") == 0);
}

static bool has_prog(const struct words *w, const char *const *progs)
{
    for (size_t i = 0; i < w->n; i++) {
        for (size_t k = 0; progs[k] != NULL; k++) {
            if (names(w, i, progs[k])) {
                return true;
            }
        }
    }
    return false;
}

struct out {
    pt_pw_fn fn;
    void *arg;
    uint32_t line;
    size_t count;
};

/* Report a value unless it is empty, too long, holds a NUL (no program's argument can) or
 * is a variable rather than a literal. */
static void emit(struct out *o, const char *v, size_t len, enum pt_pw_form form)
{
    if (len == 0 || len > PT_PW_MAX_LEN || memchr(v, 0, len) != NULL || v[0] == '$' ||
        v[0] == '%' ||
        strncasecmp(v, "env:", 4) == 0 || strncasecmp(v, "file:", 5) == 0 ||
        strncasecmp(v, "fd:", 3) == 0) {
        return;
    }
    o->fn(o->arg, v, len, o->line, form);
    o->count++;
}

/* The word after i, when there is one. */
static bool next_value(const struct words *w, size_t i, const char **v, size_t *len)
{
    if (i + 1 >= w->n) {
        return false;
    }
    *v = word(w, i + 1);
    *len = w->len[i + 1];
    return true;
}

static void line_forms(const struct words *w, struct out *o)
{
    static const char *const sevenzip[] = {"7z", "7za", "7zr", "7zz", "7zg", "rar", "winrar",
                                           NULL};
    static const char *const zip[] = {"zip", "zipcloak", NULL};
    static const char *const openssl[] = {"openssl", NULL};
    bool sz = w->args || has_prog(w, sevenzip), zp = has_prog(w, zip),
         os = has_prog(w, openssl);
    const char *v;
    size_t len;
    for (size_t i = 0; i < w->n; i++) {
        const char *s = word(w, i);
        size_t sl = w->len[i];
        if (sz && sl > 3 && strncasecmp(s, "-hp", 3) == 0) {
            emit(o, s + 3, sl - 3, PT_PW_RAR_HP);
        } else if (sz && sl > 2 && s[0] == '-' && s[1] == 'p') {
            emit(o, s + 2, sl - 2, PT_PW_7Z);
        } else if (zp && (strcmp(s, "-P") == 0 || strcmp(s, "--password") == 0) &&
                   next_value(w, i, &v, &len)) {
            emit(o, v, len, PT_PW_ZIP);
        } else if (zp && strncmp(s, "--password=", 11) == 0) {
            emit(o, s + 11, sl - 11, PT_PW_ZIP);
        } else if (os && strcmp(s, "-k") == 0 && next_value(w, i, &v, &len)) {
            emit(o, v, len, PT_PW_OPENSSL);
        } else if (os && (strcmp(s, "-pass") == 0 || strcmp(s, "-passin") == 0) &&
                   next_value(w, i, &v, &len) && len > 5 && strncmp(v, "pass:", 5) == 0) {
            emit(o, v + 5, len - 5, PT_PW_OPENSSL);
        } else if (strcasecmp(s, "-Password") == 0 && next_value(w, i, &v, &len) &&
                   v[0] != '-') {
            emit(o, v, len, PT_PW_PS_PASSWORD);
        } else if (strcasecmp(s, "ConvertTo-SecureString") == 0) {
            for (size_t k = i + 1; k < w->n; k++) {
                const char *a = word(w, k);
                if (strcasecmp(a, "-String") == 0) {
                    continue;
                }
                if (a[0] != '-') {
                    emit(o, a, w->len[k], PT_PW_PS_SECURE);
                }
                break;
            }
        }
    }
}

/* UTF-16LE text (after its BOM) as UTF-8, through the cursor: what Windows writes its
 * scheduled task files and some PowerShell output in. Unpaired surrogates become U+FFFD.
 * Returns an owned buffer of *out_n bytes, or NULL when out of memory. */
static uint8_t *utf16le_to_utf8(const uint8_t *b, size_t n, size_t *out_n)
{
    struct pt_cur c = pt_cur_make(b, n);
    pt_cur_skip(&c, 2);
    size_t cap = (n / 2) * 3 + 1, o = 0;
    uint8_t *u = malloc(cap);
    if (u == NULL) {
        return NULL;
    }
    while (pt_cur_left(&c) >= 2) {
        uint32_t cp = pt_cur_le16(&c);
        if (cp >= 0xd800 && cp < 0xdc00 && pt_cur_left(&c) >= 2 &&
            pt_cur_peek_u8(&c, 1) >= 0xdc && pt_cur_peek_u8(&c, 1) < 0xe0) {
            uint32_t lo = pt_cur_le16(&c);
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xd800 && cp < 0xe000) {
            cp = 0xfffd;
        }
        /* 4 bytes for a pair that took 4 input bytes, at most 3 for one unit of 2 */
        if (cp < 0x80) {
            u[o++] = (uint8_t)cp;
        } else if (cp < 0x800) {
            u[o++] = (uint8_t)(0xc0 | (cp >> 6));
            u[o++] = (uint8_t)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            u[o++] = (uint8_t)(0xe0 | (cp >> 12));
            u[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            u[o++] = (uint8_t)(0x80 | (cp & 0x3f));
        } else {
            u[o++] = (uint8_t)(0xf0 | (cp >> 18));
            u[o++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
            u[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            u[o++] = (uint8_t)(0x80 | (cp & 0x3f));
        }
    }
    *out_n = o;
    return u;
}

static size_t harvest_utf8(const uint8_t *b, size_t n, pt_pw_fn fn, void *arg);

size_t pt_pw_harvest(const uint8_t *b, size_t n, pt_pw_fn fn, void *arg)
{
    if (n >= 2 && b[0] == 0xff && b[1] == 0xfe) {
        size_t un = 0;
        uint8_t *u = utf16le_to_utf8(b, n, &un);
        size_t k = u != NULL ? harvest_utf8(u, un, fn, arg) : 0;
        free(u);
        return k;
    }
    return harvest_utf8(b, n, fn, arg);
}

static size_t harvest_utf8(const uint8_t *b, size_t n, pt_pw_fn fn, void *arg)
{
    static _Thread_local struct words w;
    struct out o = {.fn = fn, .arg = arg};
    struct pt_cur c = pt_cur_make(b, n);
    while (pt_cur_left(&c) > 0) {
        o.line++;
        /* the line, up to PT_PW_MAX_LINE bytes of it */
        size_t left = pt_cur_left(&c), len = 0;
        const uint8_t *p = pt_cur_ptr(&c);
        const uint8_t *lf = memchr(p, '\n', left);
        size_t whole = lf != NULL ? (size_t)(lf - p) : left;
        len = whole > PT_PW_MAX_LINE ? PT_PW_MAX_LINE : whole;
        struct pt_cur line;
        pt_cur_sub(&c, len, &line);
        pt_cur_skip(&c, whole - len);
        pt_cur_skip(&c, lf != NULL ? 1 : 0);
        split(&line, &w);
        line_forms(&w, &o);
    }
    return o.count;
}
