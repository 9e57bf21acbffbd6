/*
 * split.c - one capture cut into byte ranges at packet boundaries (scale.h, "range" lines).
 *
 * The cuts are never guessed: pt_split_capture walks every record header from the file's
 * first byte (pcap: 16-byte record headers, either byte order, micro- or nanosecond;
 * pcapng: block type and length, both copies of the length compared, either byte order) and
 * records, for each wanted place, the offset of the first packet record at or after it and
 * the number of packets before it, so a shard numbers its frames as the whole run does and
 * flow ids (item, frame) stay the whole run's. The walk stops at the first record it cannot
 * vouch for (a length past the end, a caplen over PT_SPLIT_MAX_CAPLEN, pcapng lengths that
 * disagree, a second section header or an interface description after the first packet,
 * which a range's header copy would not carry): no cut is made past that point, so what
 * follows stays whole in the range before it.
 *
 * A range's reader (pt_split_open) sees the file's header (pcap: 24 bytes; pcapng: the
 * section header and interface descriptions before the first other block) and then the
 * range's bytes, through one descriptor, hashing the range's bytes as it goes.
 *
 * Trust: the capture is evidence. Every length is checked against the file's size before it
 * is used, and a shard reads through the same checks (libpcap's) as any run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/sha256.h"
#include "scale.h"

static uint32_t rd32(const uint8_t *p, bool be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* pread all of `n` bytes at `off`; false on a short read. */
static bool pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r <= 0) {
            return false;
        }
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return true;
}

/* Buffered reader of record headers: small reads at increasing offsets. */
struct walk {
    int fd;
    uint64_t size, base; /* the buffer holds [base, base + len) */
    uint8_t buf[1 << 16];
    size_t len;
};

static bool walk_get(struct walk *w, uint64_t off, void *out, size_t n)
{
    if (off + n > w->size || off + n < off) {
        return false;
    }
    if (off < w->base || off + n > w->base + w->len) {
        size_t want = sizeof w->buf;
        if (w->size - off < want) {
            want = (size_t)(w->size - off);
        }
        if (!pread_all(w->fd, w->buf, want, off)) {
            return false;
        }
        w->base = off;
        w->len = want;
    }
    memcpy(out, w->buf + (off - w->base), n);
    return true;
}

/* Fill cuts[] (wanted offsets in, ascending) with packet boundaries; returns how many were
 * found (a prefix of the wanted ones). */
struct cutter {
    const uint64_t *want;
    struct pt_split_cut *cuts;
    unsigned n_want, n;
};

static bool at_packet(struct cutter *c, uint64_t off, uint64_t frames, uint64_t size)
{
    while (c->n < c->n_want && off >= c->want[c->n]) {
        if (off < size && (c->n == 0 || c->cuts[c->n - 1].offset < off)) {
            c->cuts[c->n].offset = off;
            c->cuts[c->n].frames = frames;
            c->n++;
        } else {
            c->n_want = c->n; /* two cuts at one place, or none left: stop here */
        }
    }
    return c->n < c->n_want;
}

static void walk_pcap(struct walk *w, bool be, struct cutter *c)
{
    uint64_t off = 24, frames = 0;
    uint8_t h[16];
    while (walk_get(w, off, h, sizeof h)) {
        uint32_t caplen = rd32(h + 8, be);
        if (caplen > PT_SPLIT_MAX_CAPLEN || off + 16 + caplen > w->size) {
            return;
        }
        if (!at_packet(c, off, frames, w->size)) {
            return;
        }
        off += 16 + (uint64_t)caplen;
        frames++;
    }
}

static void walk_pcapng(struct walk *w, uint64_t head, bool be, struct cutter *c)
{
    uint64_t off = head, frames = 0;
    uint8_t h[8], t[4];
    while (walk_get(w, off, h, sizeof h)) {
        uint32_t type = rd32(h, be), len = rd32(h + 4, be);
        if (len < 12 || len % 4 != 0 || off + len > w->size || !walk_get(w, off + len - 4, t, 4) ||
            rd32(t, be) != len || type == 0x0A0D0D0A || type == 1) {
            return;
        }
        bool packet = type == 6 || type == 3 || type == 2; /* EPB, SPB, obsolete PB */
        if (packet && !at_packet(c, off, frames, w->size)) {
            return;
        }
        frames += packet;
        off += len;
    }
}

/* The header a range must be read after: pcap's 24 bytes, or pcapng's section header and the
 * interface descriptions right after it. 0 when this is not a capture we split. */
static uint64_t header_of(struct walk *w, int *fmt, bool *be)
{
    uint8_t m[12];
    if (!walk_get(w, 0, m, sizeof m)) {
        return 0;
    }
    uint32_t le = rd32(m, false);
    if (le == 0xa1b2c3d4 || le == 0xa1b23c4d || le == 0xd4c3b2a1 || le == 0x4d3cb2a1) {
        *be = le == 0xd4c3b2a1 || le == 0x4d3cb2a1;
        *fmt = le == 0xa1b23c4d || le == 0x4d3cb2a1 ? PT_SPLIT_PCAP_NS : PT_SPLIT_PCAP;
        return w->size > 24 ? 24 : 0;
    }
    if (le != 0x0A0D0D0A) {
        return 0;
    }
    uint32_t bom = rd32(m + 8, false);
    if (bom != 0x1A2B3C4D && bom != 0x4D3C2B1A) {
        return 0;
    }
    *be = bom == 0x4D3C2B1A;
    *fmt = PT_SPLIT_PCAPNG;
    uint64_t off = 0;
    uint8_t h[8], t[4];
    for (int blocks = 0; walk_get(w, off, h, sizeof h); blocks++) {
        uint32_t type = rd32(h, *be), len = rd32(h + 4, *be);
        if ((blocks == 0) != (type == 0x0A0D0D0A) || (blocks > 0 && type != 1)) {
            break;
        }
        if (len < 12 || len % 4 != 0 || off + len > w->size ||
            !walk_get(w, off + len - 4, t, 4) || rd32(t, *be) != len) {
            return 0;
        }
        off += len;
    }
    return off < w->size ? off : 0;
}

unsigned pt_split_capture(const char *path, const uint64_t *want, unsigned n_want,
                          struct pt_split *out)
{
    memset(out, 0, sizeof *out);
    if (n_want < 1 || n_want >= PT_PLAN_MAX_SHARDS) {
        return 0;
    }
    struct walk *w = malloc(sizeof *w);
    uint64_t *at = calloc(n_want, sizeof *at);
    out->cuts = calloc(n_want, sizeof *out->cuts);
    if (w == NULL || at == NULL || out->cuts == NULL ||
        (w->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        free(w);
        free(at);
        free(out->cuts);
        out->cuts = NULL;
        return 0;
    }
    struct stat st;
    w->len = 0;
    w->base = 0;
    w->size = fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    bool be = false;
    uint64_t head = header_of(w, &out->format, &be);
    if (head > 0) {
        for (unsigned j = 0; j < n_want; j++) { /* past the first packet: no empty range */
            at[j] = want[j] > head ? want[j] : head + 1;
        }
        struct cutter c = {at, out->cuts, n_want, 0};
        if (out->format == PT_SPLIT_PCAPNG) {
            walk_pcapng(w, head, be, &c);
        } else {
            walk_pcap(w, be, &c);
        }
        out->n = c.n;
        out->head = head;
        out->size = w->size;
    }
    close(w->fd);
    free(w);
    free(at);
    if (out->n == 0) {
        free(out->cuts);
        out->cuts = NULL;
    }
    return out->n;
}

void pt_split_fini(struct pt_split *s)
{
    free(s->cuts);
    memset(s, 0, sizeof *s);
}

/* SHA-256 of the whole file and of each range [0, cut0), [cut0, cut1) ... [cutN-1, size) in
 * one read. `range_hex` has n_cuts + 1 entries. */
pt_status pt_split_hash(const char *path, const struct pt_split *s,
                        char whole_hex[PT_SHA256_HEX], char (*range_hex)[PT_SHA256_HEX],
                        uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct pt_sha256 *whole = pt_sha256_new(), *part = pt_sha256_new();
    uint8_t *buf = malloc(1 << 20);
    pt_status rc = fd < 0 ? PT_EIO : whole == NULL || part == NULL || buf == NULL ? PT_ENOMEM
                                                                                   : PT_OK;
    uint64_t off = 0;
    unsigned k = 0;
    uint8_t d[PT_SHA256_LEN];
    while (rc == PT_OK) {
        uint64_t stop = k < s->n ? s->cuts[k].offset : UINT64_MAX;
        size_t want = 1 << 20;
        if (stop - off < want) {
            want = (size_t)(stop - off);
        }
        ssize_t r = want == 0 ? 0 : read(fd, buf, want);
        if (r < 0) {
            rc = PT_EIO;
            break;
        }
        pt_sha256_update(whole, buf, (size_t)r);
        pt_sha256_update(part, buf, (size_t)r);
        off += (uint64_t)r;
        if (off == stop || r == 0) {
            pt_sha256_final(part, d);
            pt_hex(d, sizeof d, range_hex[k]);
            if (r == 0 && off != stop) {
                rc = k == s->n ? PT_OK : PT_EIO; /* the file got shorter than the walk saw */
                break;
            }
            pt_sha256_free(part);
            if (++k > s->n || (part = pt_sha256_new()) == NULL) {
                rc = k > s->n ? PT_EIO : PT_ENOMEM;
                part = NULL;
            }
        }
    }
    if (rc == PT_OK) {
        pt_sha256_final(whole, d);
        pt_hex(d, sizeof d, whole_hex);
        *size = off;
    }
    pt_sha256_free(whole);
    pt_sha256_free(part);
    free(buf);
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

/* ---- a range's reader ----------------------------------------------------------------------- */

struct range_rd {
    int fd;
    uint64_t head, start, pos, end; /* header bytes [0, head) first, then [pos, end) */
    uint64_t head_done;
    struct pt_sha256 *h;
    _Atomic uint64_t *progress;
    char hex[PT_SHA256_HEX];
    bool err;
};

static ssize_t range_read(void *cookie, char *buf, size_t n)
{
    struct range_rd *r = cookie;
    uint64_t off, left;
    bool in_head = r->head_done < r->head;
    if (in_head) {
        off = r->head_done;
        left = r->head - r->head_done;
    } else {
        off = r->pos;
        left = r->end - r->pos;
    }
    if (left == 0) {
        return 0;
    }
    if (n > left) {
        n = (size_t)left;
    }
    ssize_t got = pread(r->fd, buf, n, (off_t)off);
    if (got < 0) {
        r->err = true;
        return -1;
    }
    if (got == 0) { /* the file is shorter than the plan says */
        r->err = true;
        return 0;
    }
    if (in_head) {
        r->head_done += (uint64_t)got;
    } else {
        r->pos += (uint64_t)got;
        pt_sha256_update(r->h, buf, (size_t)got);
        if (r->progress != NULL) {
            atomic_fetch_add(r->progress, (uint64_t)got);
        }
    }
    return got;
}

static int range_close(void *cookie)
{
    (void)cookie; /* the reader outlives its stream: pt_split_reader_done frees it */
    return 0;
}

/* The stream's close leaves the reader: pt_split_reader_done, after the stream is closed,
 * finishes the range's hash and frees it. */
FILE *pt_split_open(const struct pt_byte_range *rg, const char *path, _Atomic uint64_t *progress,
                    struct pt_split_reader **out)
{
    *out = NULL;
    struct range_rd *r = calloc(1, sizeof *r);
    if (r == NULL || (r->h = pt_sha256_new()) == NULL) {
        free(r);
        return NULL;
    }
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    r->head = rg->offset == 0 ? 0 : rg->head; /* the first range holds the header itself */
    r->start = r->pos = rg->offset;
    r->end = rg->end;
    r->progress = progress;
    cookie_io_functions_t io = {.read = range_read, .close = range_close};
    FILE *f = r->fd < 0 ? NULL : fopencookie(r, "r", io);
    if (f == NULL) {
        if (r->fd >= 0) {
            close(r->fd);
        }
        pt_sha256_free(r->h);
        free(r);
        return NULL;
    }
    *out = (struct pt_split_reader *)r;
    return f;
}

bool pt_split_reader_done(struct pt_split_reader *rd, char hex[PT_SHA256_HEX], uint64_t *bytes)
{
    struct range_rd *r = (struct range_rd *)rd;
    /* what libpcap left unread (a damaged tail) is hashed too: the hash is the range's */
    uint8_t buf[1 << 14];
    while (!r->err && r->pos < r->end) {
        if (range_read(r, (char *)buf, sizeof buf) <= 0) {
            break;
        }
    }
    uint8_t d[PT_SHA256_LEN];
    pt_sha256_final(r->h, d);
    pt_hex(d, sizeof d, hex);
    *bytes = r->pos - r->start;
    bool whole = !r->err && r->pos == r->end;
    close(r->fd);
    pt_sha256_free(r->h);
    free(r);
    return whole;
}

const char *pt_split_describe(const char *path, int64_t *mtime_us)
{
    static const char *const names[] = {[PT_SPLIT_PCAP] = "pcap", [PT_SPLIT_PCAP_NS] = "pcap-ns",
                                        [PT_SPLIT_PCAPNG] = "pcapng"};
    struct walk *w = malloc(sizeof *w);
    struct stat st;
    const char *name = NULL;
    *mtime_us = 0;
    if (w == NULL || (w->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        free(w);
        return NULL;
    }
    if (fstat(w->fd, &st) == 0) {
        w->size = (uint64_t)st.st_size;
        w->base = 0;
        w->len = 0;
        *mtime_us = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
        int fmt = 0;
        bool be;
        name = header_of(w, &fmt, &be) > 0 ? names[fmt] : NULL;
    }
    close(w->fd);
    free(w);
    return name;
}
