/*
 * multipart.c - streaming multipart splitter (see multipart.h).
 *
 * The delimiter is CRLF "--" boundary (RFC 2046 §5.1.1); the first one may stand at the very
 * start of the body without the CRLF. After a delimiter, "--" closes the body; otherwise the
 * rest of the line is ignored and part headers follow until an empty line.
 */
#include "multipart.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/cursor.h"
#include "mimehdr.h"

enum mp_state {
    MP_PREAMBLE,    /* before the first delimiter: ignored */
    MP_AFTER_DELIM, /* the rest of a delimiter line: "--" closes the body */
    MP_HEADERS,
    MP_BODY,
    MP_EPILOGUE,    /* after the closing delimiter: ignored */
    MP_DEAD,
};

struct pt_multipart {
    const struct pt_multipart_ops *ops;
    void *arg;
    enum mp_state st;
    char delim[PT_MULTIPART_MAX_BOUNDARY + 5]; /* CR LF "--" boundary */
    size_t dlen;
    size_t fail[PT_MULTIPART_MAX_BOUNDARY + 6]; /* KMP failure function of delim */
    size_t match;  /* delimiter bytes matched so far; they are withheld from the part */
    char line[PT_MULTIPART_MAX_LINE];
    size_t line_len;
    bool skipping;  /* the rest of an over-long line is being skipped */
    unsigned parts;
    bool open;     /* a part is open: begin sent, end not yet */
    bool raw;      /* parts go out with their headers */
    char name[256], ctype[128];
};

bool pt_multipart_boundary(const char *ct, char *out, size_t len)
{
    if (strncasecmp(ct, "multipart/", 10) != 0) {
        return false;
    }
    const char *b = strcasestr(ct, "boundary=");
    if (b == NULL) {
        return false;
    }
    b += 9;
    bool quoted = *b == '"';
    b += quoted;
    size_t i = 0;
    while (b[i] != '\0' && (quoted ? b[i] != '"' : (b[i] != ';' && b[i] != ' '))) {
        if (i + 1 >= len || i >= PT_MULTIPART_MAX_BOUNDARY) {
            return false;
        }
        out[i] = b[i];
        i++;
    }
    out[i] = '\0';
    return i > 0;
}

struct pt_multipart *pt_multipart_new(const char *boundary, const struct pt_multipart_ops *ops,
                                      void *arg, bool raw_parts)
{
    size_t bl = strlen(boundary);
    if (bl == 0 || bl > PT_MULTIPART_MAX_BOUNDARY) {
        return NULL;
    }
    struct pt_multipart *m = calloc(1, sizeof *m);
    if (m == NULL) {
        return NULL;
    }
    m->ops = ops;
    m->arg = arg;
    m->raw = raw_parts;
    m->dlen = (size_t)snprintf(m->delim, sizeof m->delim, "\r\n--%s", boundary);
    /* KMP: fail[k] is the longest proper prefix of delim[0..k) that is also its suffix. */
    m->fail[0] = m->fail[1] = 0;
    for (size_t k = 1, f = 0; k < m->dlen; k++) {
        while (f > 0 && m->delim[k] != m->delim[f]) {
            f = m->fail[f];
        }
        if (m->delim[k] == m->delim[f]) {
            f++;
        }
        m->fail[k + 1] = f;
    }
    /* The body may open with "--boundary" directly: act as if its CR LF had been seen. */
    m->match = 2;
    return m;
}

static void part_end(struct pt_multipart *m, bool complete)
{
    if (m->open) {
        m->ops->end(m->arg, complete);
        m->open = false;
    }
}

static void emit(struct pt_multipart *m, const uint8_t *p, size_t n)
{
    if (m->st == MP_BODY && m->open && n > 0) {
        m->ops->data(m->arg, p, n);
    }
}

/* Scan body (or preamble) bytes for the delimiter. Returns bytes consumed; *found tells
 * whether the scan stopped right after a whole delimiter. */
static size_t scan(struct pt_multipart *m, const uint8_t *p, size_t n, bool *found)
{
    *found = false;
    size_t run = 0; /* start of the data run not yet emitted (valid while match == 0) */
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        while (m->match > 0 && (uint8_t)m->delim[m->match] != c) {
            size_t f = m->fail[m->match];
            emit(m, (const uint8_t *)m->delim, m->match - f); /* withheld bytes were data */
            m->match = f;
            if (m->match == 0) {
                run = i;
            }
        }
        if ((uint8_t)m->delim[m->match] == c) {
            if (m->match == 0) {
                emit(m, p + run, i - run);
            }
            m->match++;
            run = i + 1;
            if (m->match == m->dlen) {
                m->match = 0;
                *found = true;
                return i + 1;
            }
        }
    }
    if (m->match == 0) {
        emit(m, p + run, n - run);
    }
    return n;
}

static void header_line(struct pt_multipart *m, char *line)
{
    char *colon = strchr(line, ':');
    if (colon == NULL) {
        return;
    }
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    if (strcasecmp(line, "Content-Type") == 0) {
        snprintf(m->ctype, sizeof m->ctype, "%s", v);
        return;
    }
    if (strcasecmp(line, "Content-Disposition") != 0) {
        return;
    }
    /* RFC 7578 §4.2: filename= names the file; name= the form field. Prefer the file name
     * (RFC 2231 and RFC 2047 forms decoded: browsers send raw UTF-8, other clients do not). */
    if (!pt_mime_param(v, "filename", m->name, sizeof m->name)) {
        pt_mime_param(v, "name", m->name, sizeof m->name);
    }
}

/* Gather a line from c; sets *done when the line ended (LF seen). An over-long header line
 * is kept up to the limit and parsing goes on after it (resynchronisation), with an anomaly. */
static void gather(struct pt_multipart *m, struct pt_cur *c, bool *done)
{
    size_t len = 0;
    enum pt_line_rc rc =
        pt_cur_line_resync(c, m->line, sizeof m->line, &m->line_len, &m->skipping, &len, NULL);
    *done = rc == PT_LINE_DONE || rc == PT_LINE_CUT;
    if (rc == PT_LINE_CUT && m->ops->anomaly != NULL) {
        m->ops->anomaly(m->arg, PT_ANOM_LIMIT_MULTIPART_LINE,
                        "a part header line longer than PT_MULTIPART_MAX_LINE was cut there; "
                        "parsing went on after its end");
    }
}

void pt_multipart_feed(struct pt_multipart *m, const uint8_t *p, size_t n)
{
    struct pt_cur c = pt_cur_make(p, n);
    while (m != NULL && pt_cur_left(&c) > 0) {
        bool done = false;
        switch (m->st) {
            case MP_DEAD:
            case MP_EPILOGUE:
                return;
            case MP_PREAMBLE:
            case MP_BODY:
                pt_cur_skip(&c, scan(m, pt_cur_ptr(&c), pt_cur_left(&c), &done));
                if (done) {
                    part_end(m, true);
                    m->st = MP_AFTER_DELIM;
                }
                break;
            case MP_AFTER_DELIM:
                gather(m, &c, &done);
                if (done && m->st != MP_DEAD) {
                    m->st = strncmp(m->line, "--", 2) == 0 ? MP_EPILOGUE : MP_HEADERS;
                    m->name[0] = m->ctype[0] = '\0';
                    if (m->st == MP_HEADERS && m->raw) {
                        if (++m->parts > PT_MULTIPART_MAX_PARTS) {
                            m->st = MP_DEAD;
                        } else {
                            m->ops->begin(m->arg, m->parts, "", "");
                            m->open = true;
                            m->st = MP_BODY;
                        }
                    }
                } else if (!done && m->line_len >= 2 && memcmp(m->line, "--", 2) == 0) {
                    m->st = MP_EPILOGUE; /* closing delimiter, whatever follows */
                }
                break;
            case MP_HEADERS:
                gather(m, &c, &done);
                if (done && m->st != MP_DEAD) {
                    if (m->line[0] != '\0') {
                        header_line(m, m->line);
                    } else if (++m->parts > PT_MULTIPART_MAX_PARTS) {
                        m->st = MP_DEAD;
                    } else {
                        m->ops->begin(m->arg, m->parts, m->name, m->ctype);
                        m->open = true;
                        m->st = MP_BODY;
                    }
                }
                break;
        }
    }
}

void pt_multipart_gap(struct pt_multipart *m, uint64_t n)
{
    if (m == NULL) {
        return;
    }
    if (m->st == MP_BODY && m->open) {
        emit(m, (const uint8_t *)m->delim, m->match); /* a delimiter prefix was only data */
        m->match = 0;
        m->ops->gap(m->arg, n);
    } else if (m->st != MP_EPILOGUE) {
        part_end(m, false);
        m->st = MP_DEAD; /* headers or a delimiter fell into the hole: framing is lost */
    }
}

void pt_multipart_free(struct pt_multipart *m)
{
    if (m == NULL) {
        return;
    }
    if (m->st == MP_BODY) {
        emit(m, (const uint8_t *)m->delim, m->match);
    }
    part_end(m, false);
    free(m);
}
