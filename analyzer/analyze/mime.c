/* mime.c - streaming MIME entity walker (see mime.h). */
#include "mime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/cursor.h"
#include "mimehdr.h"
#include "multipart.h"

enum mstate { M_HEADERS, M_BODY, M_DEAD };
enum cte { CTE_IDENTITY, CTE_BASE64, CTE_QP };

struct shared {
    const struct pt_mime_ops *ops;
    void *arg;
    unsigned leaves;
};

struct entity {
    struct shared *sh;
    unsigned depth;
    enum mstate st;
    char hdr[PT_MIME_MAX_HEADER]; /* the header being unfolded */
    size_t hdr_len;
    char line[PT_MIME_MAX_HEADER];
    size_t line_len;
    bool skipping;           /* the rest of an over-long header line is being skipped */
    struct pt_mime_leaf leaf;
    char boundary[PT_MULTIPART_MAX_BOUNDARY + 1];
    enum cte cte;
    struct pt_multipart *mp; /* multipart body: parts become child entities */
    struct entity *child;    /* the part being fed */
    void *h;                 /* leaf handle from begin */
    bool leaf_open;
    uint32_t quad;           /* base64: bits gathered */
    unsigned qn;
    bool b64_done;
    int qp_state;            /* 0 normal, 1 after '=', 2 after '=' and one hex digit, 3 '=' CR */
    int qp_hi;
};

struct pt_mime {
    struct shared sh;
    struct entity *root;
};

static struct entity *entity_new(struct shared *sh, unsigned depth)
{
    struct entity *e = calloc(1, sizeof *e);
    if (e != NULL) {
        e->sh = sh;
        e->depth = depth;
        snprintf(e->leaf.ctype, sizeof e->leaf.ctype, "text/plain"); /* RFC 2045 §5.2 */
    }
    return e;
}

static void entity_free(struct entity *e, bool complete);

/* value of parameter `key` (e.g. "boundary=") within a header value, as written: boundaries
 * are compared byte for byte, never decoded (names go through pt_mime_param) */
static void param(const char *v, const char *key, char *out, size_t len)
{
    for (const char *q = strcasestr(v, key); q != NULL; q = strcasestr(q + 1, key)) {
        if (q != v && !(q[-1] == ' ' || q[-1] == ';' || q[-1] == '\t')) {
            continue; /* "filename=" must not match inside another word */
        }
        q += strlen(key);
        char end = *q == '"' ? '"' : ';';
        q += *q == '"';
        size_t i = 0;
        while (q[i] != '\0' && q[i] != end && i + 1 < len) {
            out[i] = q[i];
            i++;
        }
        while (i > 0 && end == ';' && (out[i - 1] == ' ' || out[i - 1] == '\t')) {
            i--;
        }
        out[i] = '\0';
        return;
    }
}

static void header_done(struct entity *e)
{
    e->hdr[e->hdr_len] = '\0';
    char *colon = strchr(e->hdr, ':');
    e->hdr_len = 0;
    if (colon == NULL) {
        return;
    }
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    if (strcasecmp(e->hdr, "Content-Type") == 0) {
        size_t i = 0;
        while (v[i] != '\0' && v[i] != ';' && v[i] != ' ' && i + 1 < sizeof e->leaf.ctype) {
            e->leaf.ctype[i] = (char)tolower((unsigned char)v[i]);
            i++;
        }
        e->leaf.ctype[i] = '\0';
        char b[PT_MULTIPART_MAX_BOUNDARY + 2] = "";
        param(v, "boundary=", b, sizeof b);
        size_t bl = strlen(b);
        if (bl <= PT_MULTIPART_MAX_BOUNDARY) { /* a longer one is not valid (RFC 2046) */
            memcpy(e->boundary, b, bl + 1);
        }
        if (e->leaf.name[0] == '\0') {
            pt_mime_param(v, "name", e->leaf.name, sizeof e->leaf.name);
        }
    } else if (strcasecmp(e->hdr, "Content-Disposition") == 0) {
        char fn[sizeof e->leaf.name];
        if (pt_mime_param(v, "filename", fn, sizeof fn) && fn[0] != '\0') {
            snprintf(e->leaf.name, sizeof e->leaf.name, "%s", fn);
        }
    } else if (strcasecmp(e->hdr, "Content-Transfer-Encoding") == 0) {
        size_t i = 0;
        while (v[i] != '\0' && v[i] != ' ' && v[i] != ';' && i + 1 < sizeof e->leaf.cte) {
            e->leaf.cte[i] = (char)tolower((unsigned char)v[i]);
            i++;
        }
        e->leaf.cte[i] = '\0';
        e->cte = strcmp(e->leaf.cte, "base64") == 0             ? CTE_BASE64
                 : strcmp(e->leaf.cte, "quoted-printable") == 0 ? CTE_QP
                                                                 : CTE_IDENTITY;
    }
}

/* ---- multipart children ---------------------------------------------------------------- */

static void part_begin(void *arg, unsigned index, const char *name, const char *ctype)
{
    (void)index;
    (void)name;
    (void)ctype;
    struct entity *e = arg;
    e->child = entity_new(e->sh, e->depth + 1);
}

static void part_data(void *arg, const uint8_t *p, size_t n)
{
    struct entity *e = arg;
    if (e->child != NULL) {
        pt_mime_feed((struct pt_mime *)(void *)e->child, p, n);
    }
}

static void part_gap(void *arg, uint64_t n)
{
    struct entity *e = arg;
    if (e->child != NULL) {
        pt_mime_gap((struct pt_mime *)(void *)e->child, n);
    }
}

static void part_end(void *arg, bool complete)
{
    struct entity *e = arg;
    entity_free(e->child, complete);
    e->child = NULL;
}

static void part_anomaly(void *arg, enum pt_anom kind, const char *detail)
{
    struct entity *e = arg;
    if (e->sh->ops->anomaly != NULL) {
        e->sh->ops->anomaly(e->sh->arg, kind, detail);
    }
}

static const struct pt_multipart_ops part_ops = {part_begin, part_data, part_gap, part_end,
                                                 part_anomaly};

/* ---- leaves -------------------------------------------------------------------------------- */

static void out(struct entity *e, const uint8_t *p, size_t n)
{
    if (e->leaf_open && n > 0) {
        e->sh->ops->data(e->sh->arg, e->h, p, n);
    }
}

static int b64(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static int hexval(uint8_t c)
{
    return isdigit(c) ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                               : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                                        : -1;
}

static void decode(struct entity *e, const uint8_t *p, size_t n)
{
    uint8_t buf[4096];
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w + 3 > sizeof buf) {
            out(e, buf, w);
            w = 0;
        }
        uint8_t c = p[i];
        if (e->cte == CTE_IDENTITY) {
            buf[w++] = c;
        } else if (e->cte == CTE_BASE64) {
            if (e->b64_done) {
                continue;
            }
            if (c == '=') { /* padding: flush what the quad holds (RFC 2045 §6.8) */
                if (e->qn == 2) {
                    buf[w++] = (uint8_t)(e->quad >> 4);
                } else if (e->qn == 3) {
                    buf[w++] = (uint8_t)(e->quad >> 10);
                    buf[w++] = (uint8_t)(e->quad >> 2);
                }
                e->qn = 0;
                e->quad = 0;
                e->b64_done = true;
                continue;
            }
            int v = b64(c);
            if (v < 0) {
                continue; /* line breaks and other characters are ignored */
            }
            e->quad = (e->quad << 6) | (uint32_t)v;
            if (++e->qn == 4) {
                buf[w++] = (uint8_t)(e->quad >> 16);
                buf[w++] = (uint8_t)(e->quad >> 8);
                buf[w++] = (uint8_t)e->quad;
                e->qn = 0;
                e->quad = 0;
            }
        } else { /* quoted-printable (RFC 2045 §6.7) */
            if (e->qp_state == 0) {
                if (c == '=') {
                    e->qp_state = 1;
                } else {
                    buf[w++] = c;
                }
            } else if (e->qp_state == 1) {
                if (c == '\r') {
                    e->qp_state = 3;
                } else if (c == '\n') {
                    e->qp_state = 0; /* soft line break */
                } else if (hexval(c) >= 0) {
                    e->qp_hi = hexval(c);
                    e->qp_state = 2;
                } else {
                    buf[w++] = '=';
                    buf[w++] = c;
                    e->qp_state = 0;
                }
            } else if (e->qp_state == 2) {
                if (hexval(c) >= 0) {
                    buf[w++] = (uint8_t)(e->qp_hi << 4 | hexval(c));
                } else {
                    buf[w++] = '=';
                    buf[w++] = c; /* malformed escape: keep it as sent (the hex digit is lost) */
                }
                e->qp_state = 0;
            } else {
                e->qp_state = 0; /* "=\r\n" is a soft break; after a stray "=\r" keep c */
                if (c != '\n') {
                    buf[w++] = c;
                }
            }
        }
    }
    out(e, buf, w);
}

static void body_begin(struct entity *e)
{
    if (strncmp(e->leaf.ctype, "multipart/", 10) == 0 && e->boundary[0] != '\0' &&
        e->depth + 1 < PT_MIME_MAX_DEPTH) {
        e->mp = pt_multipart_new(e->boundary, &part_ops, e, true);
        if (e->mp != NULL) {
            return;
        }
    }
    e->leaf.depth = e->depth;
    e->leaf.index = ++e->sh->leaves;
    e->h = e->sh->ops->begin(e->sh->arg, &e->leaf);
    e->leaf_open = true;
}

/* ---- entity --------------------------------------------------------------------------------- */

void pt_mime_feed(struct pt_mime *m, const uint8_t *p, size_t n)
{
    struct entity *e = (struct entity *)(void *)m;
    if (e == NULL) {
        return;
    }
    struct pt_cur c = pt_cur_make(p, n);
    while (pt_cur_left(&c) > 0) {
        if (e->st == M_DEAD) {
            return;
        }
        if (e->st == M_BODY) {
            if (e->mp != NULL) {
                pt_multipart_feed(e->mp, pt_cur_ptr(&c), pt_cur_left(&c));
            } else {
                decode(e, pt_cur_ptr(&c), pt_cur_left(&c));
            }
            return;
        }
        /* headers: lines, unfolded (RFC 5322 §2.2.3) */
        size_t len = 0;
        enum pt_line_rc rc = pt_cur_line_resync(&c, e->line, sizeof e->line, &e->line_len,
                                                &e->skipping, &len, NULL);
        if (rc == PT_LINE_MORE) {
            return;
        }
        if (rc == PT_LINE_CUT && e->sh->ops->anomaly != NULL) {
            /* kept up to the limit; the entity's other headers and its body are still read */
            e->sh->ops->anomaly(e->sh->arg, PT_ANOM_LIMIT_MIME_HEADER,
                                "a MIME header line longer than PT_MIME_MAX_HEADER was cut there; "
                                "parsing went on after its end");
        }
        if (len > 0 && (e->line[0] == ' ' || e->line[0] == '\t')) {
            if (e->hdr_len + len + 1 < sizeof e->hdr) { /* continuation of the header */
                memcpy(e->hdr + e->hdr_len, e->line, len);
                e->hdr_len += len;
            }
            continue;
        }
        if (e->hdr_len > 0) {
            header_done(e);
        }
        if (len == 0) {
            e->st = M_BODY;
            body_begin(e);
            continue;
        }
        memcpy(e->hdr, e->line, len);
        e->hdr_len = len;
    }
}

void pt_mime_gap(struct pt_mime *m, uint64_t n)
{
    struct entity *e = (struct entity *)(void *)m;
    if (e == NULL) {
        return;
    }
    if (e->st == M_BODY && e->mp != NULL) {
        pt_multipart_gap(e->mp, n);
    } else if (e->st == M_BODY && e->leaf_open && e->cte == CTE_IDENTITY) {
        e->sh->ops->gap(e->sh->arg, e->h, n);
    } else if (e->st == M_BODY && e->leaf_open) {
        e->sh->ops->gap(e->sh->arg, e->h, n * 3 / 4); /* encoded bytes lost: about this many */
    } else {
        e->st = M_DEAD; /* headers fell into the hole */
    }
}

static void entity_free(struct entity *e, bool complete)
{
    if (e == NULL) {
        return;
    }
    if (e->st == M_HEADERS && e->depth > 0 && (e->hdr_len > 0 || e->line_len > 0)) {
        /* a part that ended inside its headers */
    }
    if (e->mp != NULL) {
        pt_multipart_free(e->mp); /* ends the open child as incomplete */
    }
    if (e->child != NULL) {
        entity_free(e->child, complete);
    }
    if (e->leaf_open) {
        e->sh->ops->end(e->sh->arg, e->h, complete);
    }
    free(e);
}

struct pt_mime *pt_mime_new(const struct pt_mime_ops *ops, void *arg)
{
    /* The shared state lives in front of the root entity: one allocation, one owner. */
    struct {
        struct entity e;
        struct shared sh;
    } *both = calloc(1, sizeof *both);
    if (both == NULL) {
        return NULL;
    }
    both->sh.ops = ops;
    both->sh.arg = arg;
    both->e.sh = &both->sh;
    snprintf(both->e.leaf.ctype, sizeof both->e.leaf.ctype, "text/plain");
    return (struct pt_mime *)(void *)&both->e;
}

void pt_mime_free(struct pt_mime *m, bool complete)
{
    entity_free((struct entity *)(void *)m, complete); /* the root's block holds the shared */
}
