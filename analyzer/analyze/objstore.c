/* objstore.c - streaming, hashing, content-addressed object store (see objstore.h). */
#include "objstore.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../core/grow.h"
#include "typer.h"

#define TYPE_CACHE 1024

struct pt_objstore {
    char *dir;        /* CASE/objects */
    unsigned worker;
    uint64_t counter;
    char run_tag[40]; /* pid and start time: temporary names never repeat a crashed run's */
    uint64_t failed;  /* objects that could not be stored */
    pt_objstore_fail_fn on_fail;
    void *fail_arg;
    size_t mem_used;  /* bytes held by this store's open in-memory objects */
    magic_t magic;
    uint8_t subdirs[32]; /* bitmap: objects/<xx>/ known to exist */
    int pack_fd;         /* the store's pack, -1 until its first object */
    char pack[64];       /* its name under objects/ */
    uint64_t pack_off;   /* its length so far */
    struct packent {     /* what the pack holds, by SHA-256 (open addressing) */
        char sha[PT_SHA256_HEX];
        uint64_t off, len;
    } *idx;
    size_t idx_cap, idx_n;
    /* Types of content seen before, by SHA-256: the same bytes need not be typed twice. */
    struct {
        char sha[PT_SHA256_HEX];
        char mime[64];
        char magic[200];
    } cache[TYPE_CACHE];
};

struct pt_obj {
    struct pt_objstore *s;
    struct pt_object_rec rec;
    char tmp[4200];
    FILE *f;          /* NULL while the bytes fit in mem */
    uint8_t *mem;     /* the object so far, until it outgrows PT_OBJ_MEM_BYTES */
    size_t mem_len, mem_cap;
    struct pt_sha256 *sha;
    uint8_t *head;    /* first PT_OBJ_MAGIC_BYTES, for libmagic */
    size_t head_len;
    uint64_t gaps[PT_OBJ_MAP_GAPS][2]; /* (offset in stored bytes, length), adjacent merged */
    size_t n_gaps;    /* ranges, may exceed PT_OBJ_MAP_GAPS */
    bool io_error;
    char *link;       /* an input by reference: hashed and typed, stored as a link to it */
};

pt_status pt_objstore_new(const char *case_dir, unsigned worker, struct pt_objstore **out)
{
    *out = NULL;
    struct pt_objstore *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return PT_ENOMEM;
    }
    size_t len = strlen(case_dir) + 16;
    s->dir = malloc(len);
    if (s->dir == NULL) {
        free(s);
        return PT_ENOMEM;
    }
    snprintf(s->dir, len, "%s/objects", case_dir);
    s->pack_fd = -1;
    char tmp[4200], packs[4200];
    snprintf(tmp, sizeof tmp, "%s/tmp", s->dir);
    snprintf(packs, sizeof packs, "%s/packs", s->dir);
    if ((mkdir(s->dir, 0700) != 0 && errno != EEXIST) || (mkdir(tmp, 0700) != 0 && errno != EEXIST) ||
        (mkdir(packs, 0700) != 0 && errno != EEXIST)) {
        pt_objstore_free(s);
        return PT_EIO;
    }
    s->worker = worker;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(s->run_tag, sizeof s->run_tag, "%ld-%llx", (long)getpid(),
             (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec);
    s->magic = magic_open(MAGIC_NONE | MAGIC_ERROR);
    if (s->magic == NULL || magic_load(s->magic, NULL) != 0) {
        pt_objstore_free(s);
        return PT_EINTERNAL;
    }
    *out = s;
    return PT_OK;
}

void pt_objstore_free(struct pt_objstore *s)
{
    if (s == NULL) {
        return;
    }
    if (s->magic != NULL) {
        magic_close(s->magic);
    }
    if (s->pack_fd >= 0) {
        close(s->pack_fd);
    }
    free(s->idx);
    free(s->dir);
    free(s);
}

/* ---- the pack --------------------------------------------------------------------------- */

static size_t pack_slot(const struct pt_objstore *s, const char *sha)
{
    uint64_t h = strtoull((char[17]){sha[0], sha[1], sha[2], sha[3], sha[4], sha[5], sha[6],
                                     sha[7], sha[8], sha[9], sha[10], sha[11], sha[12], sha[13],
                                     sha[14], sha[15], 0},
                          NULL, 16);
    size_t i = (size_t)(h & (s->idx_cap - 1));
    while (s->idx[i].sha[0] != '\0' && strcmp(s->idx[i].sha, sha) != 0) {
        i = (i + 1) & (s->idx_cap - 1);
    }
    return i;
}

static const struct packent *pack_find(const struct pt_objstore *s, const char *sha)
{
    if (s->idx_n == 0) {
        return NULL;
    }
    const struct packent *e = &s->idx[pack_slot(s, sha)];
    return e->sha[0] != '\0' ? e : NULL;
}

static bool pack_index(struct pt_objstore *s, const char *sha, uint64_t off, uint64_t len)
{
    if (2 * (s->idx_n + 1) > s->idx_cap) {
        size_t cap = s->idx_cap ? s->idx_cap * 2 : 1024;
        struct packent *old = s->idx;
        size_t old_cap = s->idx_cap;
        s->idx = calloc(cap, sizeof *s->idx);
        if (s->idx == NULL) {
            s->idx = old;
            return false;
        }
        s->idx_cap = cap;
        for (size_t i = 0; i < old_cap; i++) {
            if (old[i].sha[0] != '\0') {
                s->idx[pack_slot(s, old[i].sha)] = old[i];
            }
        }
        free(old);
    }
    struct packent *e = &s->idx[pack_slot(s, sha)];
    memcpy(e->sha, sha, sizeof e->sha);
    e->off = off;
    e->len = len;
    s->idx_n++;
    return true;
}

/* An object held in memory, appended to the pack (once per content); false on an I/O
 * failure (the pack's length is not advanced, so the next object overwrites the torn tail). */
static bool pack_put(struct pt_objstore *s, struct pt_obj *o)
{
    const struct packent *e = pack_find(s, o->rec.sha256);
    if (e == NULL) {
        if (s->pack_fd < 0) {
            char path[4400];
            snprintf(s->pack, sizeof s->pack, "packs/p%u-%s.pack", s->worker, s->run_tag);
            snprintf(path, sizeof path, "%s/%s", s->dir, s->pack);
            s->pack_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (s->pack_fd < 0) {
                return false;
            }
        }
        for (size_t done = 0; done < o->mem_len;) {
            ssize_t w = pwrite(s->pack_fd, o->mem + done, o->mem_len - done,
                               (off_t)(s->pack_off + done));
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                return false;
            }
            done += (size_t)w;
        }
        if (!pack_index(s, o->rec.sha256, s->pack_off, o->mem_len)) {
            return false;
        }
        s->pack_off += o->mem_len;
        e = pack_find(s, o->rec.sha256);
    }
    snprintf(o->rec.pack, sizeof o->rec.pack, "%s", s->pack);
    o->rec.pack_off = e->off;
    return true;
}

/* ---- reading stored objects ------------------------------------------------------------- */

/* len bytes at off into a buffer of their own (b->owned), or into `reuse` (grown as
 * needed, kept by the caller across loads: no allocation, and no fresh pages to fault in,
 * per object) when it is not NULL. */
static bool load_slice_into(int fd, uint64_t off, uint64_t len, struct pt_objbytes *b,
                            struct pt_packfd *reuse, uint64_t max)
{
    memset(b, 0, sizeof *b);
    if (len > max) {
        return false; /* packs hold only objects up to this size: a corrupt location */
    }
    uint8_t *buf;
    if (reuse != NULL) {
        if (!pt_grow(&reuse->buf, &reuse->cap, len ? len : 1, 1, 65536)) {
            return false;
        }
        buf = reuse->buf;
    } else if ((buf = b->owned = malloc(len ? len : 1)) == NULL) {
        return false;
    }
    for (size_t done = 0; done < len;) {
        ssize_t r = pread(fd, buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            free(b->owned);
            b->owned = NULL;
            return false;
        }
        done += (size_t)r;
    }
    b->p = buf;
    b->n = len;
    return true;
}

static bool load_slice(int fd, uint64_t off, uint64_t len, struct pt_objbytes *b)
{
    return load_slice_into(fd, off, len, b, NULL, PT_OBJ_MEM_BYTES);
}

static bool load_file(const char *path, struct pt_objbytes *b)
{
    memset(b, 0, sizeof *b);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 0) {
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    b->n = (size_t)st.st_size;
    if (b->n > 0) {
        b->map = mmap(NULL, b->n, PROT_READ, MAP_PRIVATE, fd, 0);
        if (b->map == MAP_FAILED) {
            b->map = NULL;
            close(fd);
            return false;
        }
    }
    close(fd);
    b->p = b->map != NULL ? b->map : (const uint8_t *)"";
    return true;
}

bool pt_objstore_load(const struct pt_objstore *s, const char *sha256, struct pt_objbytes *b)
{
    const struct packent *e = pack_find(s, sha256);
    if (e != NULL) {
        return load_slice(s->pack_fd, e->off, e->len, b);
    }
    char path[4400];
    return pt_objstore_path(s, sha256, path, sizeof path) && load_file(path, b);
}

size_t pt_objstore_head(const struct pt_objstore *s, const char *sha256, uint8_t *buf,
                        size_t max)
{
    const struct packent *e = pack_find(s, sha256);
    char path[4400];
    int fd = e != NULL ? s->pack_fd : -1;
    if (e == NULL && pt_objstore_path(s, sha256, path, sizeof path)) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        return 0;
    }
    uint64_t off = e != NULL ? e->off : 0;
    size_t want = e != NULL && e->len < max ? (size_t)e->len : max, done = 0;
    while (done < want) {
        ssize_t r = pread(fd, buf + done, want - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        done += (size_t)r;
    }
    if (e == NULL) {
        close(fd);
    }
    return done;
}

bool pt_object_kept_pack(const char *pack)
{
    size_t n = pack != NULL ? strlen(pack) : 0;
    return n > 4 && strcmp(pack + n - 4, ".zpk") == 0;
}

/* An entry of a kept pack (objkeep.h): a 4-byte little-endian length before `off`, then that
 * many bytes: the object itself when the length is its size, else its zlib stream, which
 * must inflate to exactly `size` bytes and end where the entry ends. */
static bool load_kept(int fd, uint64_t off, uint64_t size, struct pt_objbytes *b)
{
    uint8_t h[4];
    memset(b, 0, sizeof *b);
    if (off < 4 || size > PT_OBJ_KEEP_PACK_MAX || pread(fd, h, 4, (off_t)(off - 4)) != 4) {
        return false;
    }
    uint64_t stored = (uint64_t)h[0] | (uint64_t)h[1] << 8 | (uint64_t)h[2] << 16 |
                      (uint64_t)h[3] << 24;
    if (stored == size) {
        return load_slice_into(fd, off, size, b, NULL, PT_OBJ_KEEP_PACK_MAX);
    }
    struct pt_objbytes z;
    if (stored > size || !load_slice_into(fd, off, stored, &z, NULL, PT_OBJ_KEEP_PACK_MAX)) {
        return false;
    }
    b->owned = malloc(size ? size : 1);
    uLongf out = (uLongf)size;
    uLong in = (uLong)stored;
    bool ok = b->owned != NULL && uncompress2(b->owned, &out, z.p, &in) == Z_OK &&
              out == size && in == stored;
    pt_object_release(&z);
    if (!ok) {
        free(b->owned);
        b->owned = NULL;
        return false;
    }
    b->p = b->owned;
    b->n = (size_t)size;
    return true;
}

/* The path of a pack named by the database (packs/<name>, nothing else), or false. */
static bool pack_path(const char *case_dir, const char *pack, char *path, size_t len)
{
    if (strncmp(pack, "packs/", 6) != 0 || strchr(pack + 6, '/') != NULL ||
        strstr(pack, "..") != NULL) {
        return false;
    }
    return (size_t)snprintf(path, len, "%s/objects/%s", case_dir, pack) < len;
}

/* The open pack of `c` named `pack`, opening it (and closing the oldest) when it is not; -1
 * when it cannot be opened. *keep: the descriptor stays in `c` (else the caller closes it). */
static int pack_fd(struct pt_packfd *c, const char *case_dir, const char *pack, bool *keep)
{
    char path[4400];
    *keep = false;
    for (unsigned i = 0; c != NULL && i < PT_PACKFD_MAX; i++) {
        if (c->fd[i] >= 0 && strcmp(c->pack[i], pack) == 0) {
            *keep = true;
            return c->fd[i];
        }
    }
    if (!pack_path(case_dir, pack, path, sizeof path)) {
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && c != NULL && strlen(pack) < sizeof c->pack[0]) {
        unsigned i = c->next++ % PT_PACKFD_MAX;
        if (c->fd[i] >= 0) {
            close(c->fd[i]);
        }
        c->fd[i] = fd;
        snprintf(c->pack[i], sizeof c->pack[i], "%s", pack);
        *keep = true;
    }
    return fd;
}

bool pt_object_load_from(struct pt_packfd *c, const char *case_dir, const char *sha256,
                         const char *pack, uint64_t off, uint64_t size, struct pt_objbytes *b)
{
    memset(b, 0, sizeof *b);
    if (pack != NULL && strcmp(pack, PT_OBJ_NOT_KEPT) == 0) {
        return false; /* not kept in the case (--keep-objects): its bytes are in the inputs */
    }
    if (pack != NULL && pack[0] != '\0') {
        bool keep;
        int fd = pack_fd(c, case_dir, pack, &keep);
        if (fd < 0) {
            return false;
        }
        bool ok = pt_object_kept_pack(pack) ? load_kept(fd, off, size, b)
                                             : load_slice_into(fd, off, size, b, c,
                                                               PT_OBJ_MEM_BYTES);
        if (!keep) {
            close(fd);
        }
        return ok;
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", case_dir, sha256, sha256);
    return load_file(path, b);
}

bool pt_object_load(const char *case_dir, const char *sha256, const char *pack, uint64_t off,
                    uint64_t size, struct pt_objbytes *b)
{
    return pt_object_load_from(NULL, case_dir, sha256, pack, off, size, b);
}

void pt_packfd_init(struct pt_packfd *c)
{
    memset(c, 0, sizeof *c);
    for (unsigned i = 0; i < PT_PACKFD_MAX; i++) {
        c->fd[i] = -1;
    }
}

void pt_packfd_close(struct pt_packfd *c)
{
    for (unsigned i = 0; i < PT_PACKFD_MAX; i++) {
        if (c->fd[i] >= 0) {
            close(c->fd[i]);
        }
    }
    free(c->buf);
    pt_packfd_init(c);
}

void pt_object_release(struct pt_objbytes *b)
{
    if (b->map != NULL) {
        munmap(b->map, b->n);
    }
    free(b->owned);
    memset(b, 0, sizeof *b);
}

struct pt_obj *pt_obj_open(struct pt_objstore *s, const struct pt_object_rec *meta)
{
    if (s == NULL) {
        return NULL; /* no store (a fuzzer, a dry run): decoders go on without objects */
    }
    struct pt_obj *o = calloc(1, sizeof *o);
    if (o == NULL) {
        return NULL;
    }
    o->s = s;
    o->rec = *meta;
    o->sha = pt_sha256_new();
    o->head = malloc(PT_OBJ_MAGIC_BYTES);
    if (o->sha == NULL || o->head == NULL) {
        pt_obj_discard(o);
        return NULL;
    }
    return o;
}

struct pt_obj *pt_obj_open_link(struct pt_objstore *s, const struct pt_object_rec *meta,
                                const char *target)
{
    struct pt_obj *o = pt_obj_open(s, meta);
    if (o != NULL && (o->link = strdup(target)) == NULL) {
        pt_obj_discard(o);
        return NULL;
    }
    return o;
}

void pt_objstore_on_fail(struct pt_objstore *s, pt_objstore_fail_fn fn, void *arg)
{
    if (s != NULL) {
        s->on_fail = fn;
        s->fail_arg = arg;
    }
}

uint64_t pt_objstore_failures(const struct pt_objstore *s)
{
    return s == NULL ? 0 : s->failed;
}

/* A temporary file under objects/tmp/, opened for writing; false when it cannot be made.
 * Names carry the run's tag, and a name that exists anyway (a stale file) is skipped. */
static bool open_tmp(struct pt_obj *o)
{
    int fd = -1;
    for (int tries = 0; tries < 8 && fd < 0; tries++) {
        snprintf(o->tmp, sizeof o->tmp, "%s/tmp/w%u-%s-%llu", o->s->dir, o->s->worker,
                 o->s->run_tag, (unsigned long long)o->s->counter++);
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) {
            break;
        }
    }
    o->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (o->f == NULL) {
        if (fd >= 0) {
            close(fd);
        }
        if (fd >= 0) {
            unlink(o->tmp);
        }
        o->tmp[0] = '\0';
        return false;
    }
    setvbuf(o->f, NULL, _IOFBF, 64 * 1024);
    return true;
}

/* The object outgrew memory: its bytes so far go to a temporary file, the rest follows. */
static void spill(struct pt_obj *o)
{
    if (!open_tmp(o)) {
        o->io_error = true;
    } else if (o->mem_len > 0 && fwrite(o->mem, 1, o->mem_len, o->f) != o->mem_len) {
        o->io_error = true;
    }
    o->s->mem_used -= o->mem_cap;
    free(o->mem);
    o->mem = NULL;
    o->mem_len = o->mem_cap = 0;
}
struct pt_obj *pt_obj_open_link_prehashed(struct pt_objstore *s,
                                          const struct pt_object_rec *meta, const char *target)
{
    struct pt_obj *o = pt_obj_open_link(s, meta, target);
    if (o != NULL) {
        pt_sha256_free(o->sha);
        o->sha = NULL;
    }
    return o;
}

bool pt_obj_close_digest(struct pt_obj *o, bool complete, const char *hex,
                         struct pt_object_rec *rec)
{
    if (hex == NULL || strlen(hex) != PT_SHA256_HEX - 1) {
        o->io_error = true; /* no digest: nothing to name it by */
        memset(o->rec.sha256, '0', PT_SHA256_HEX - 1);
        o->rec.sha256[PT_SHA256_HEX - 1] = '\0';
    } else {
        memcpy(o->rec.sha256, hex, PT_SHA256_HEX);
    }
    return pt_obj_close(o, complete, rec);
}

void pt_obj_write(struct pt_obj *o, const uint8_t *p, size_t n)
{
    if (o == NULL || n == 0) {
        return;
    }
    if (o->head_len < PT_OBJ_MAGIC_BYTES) {
        size_t k = PT_OBJ_MAGIC_BYTES - o->head_len < n ? PT_OBJ_MAGIC_BYTES - o->head_len : n;
        memcpy(o->head + o->head_len, p, k);
        o->head_len += k;
    }
    if (o->sha != NULL) { /* NULL: prehashed, the digest comes at close */
        pt_sha256_update(o->sha, p, n);
    }
    o->rec.size += n;
    if (o->io_error || o->link != NULL) {
        return; /* hashed and counted; the stored copy is already lost */
    }
    /* Small objects stay in memory until closed: a duplicate (same SHA-256) then costs no
     * file at all, and no temporary file is created and deleted for it. */
    if (o->f == NULL && o->mem_len + n <= PT_OBJ_MEM_BYTES) {
        if (o->mem_len + n > o->mem_cap) {
            size_t cap = o->mem_cap ? o->mem_cap * 2 : 4096;
            while (cap < o->mem_len + n) {
                cap *= 2;
            }
            cap = cap < PT_OBJ_MEM_BYTES ? cap : PT_OBJ_MEM_BYTES;
            uint8_t *m = NULL;
            if (o->s->mem_used + (cap - o->mem_cap) <= PT_OBJ_MEM_BUDGET) {
                m = realloc(o->mem, cap); /* over the budget: this one goes to a file */
            }
            if (m == NULL) {
                spill(o);
                goto to_file;
            }
            o->s->mem_used += cap - o->mem_cap;
            o->mem = m;
            o->mem_cap = cap;
        }
        memcpy(o->mem + o->mem_len, p, n);
        o->mem_len += n;
        return;
    }
    if (o->f == NULL) {
        spill(o);
    }
to_file:
    if (!o->io_error && fwrite(p, 1, n, o->f) != n) {
        o->io_error = true;
    }
}

void pt_obj_gap(struct pt_obj *o, uint64_t n)
{
    if (o == NULL || n == 0) {
        return;
    }
    o->rec.gap_bytes += n;
    size_t last = o->n_gaps < PT_OBJ_MAP_GAPS ? o->n_gaps : PT_OBJ_MAP_GAPS;
    if (last > 0 && o->n_gaps <= PT_OBJ_MAP_GAPS && o->gaps[last - 1][0] == o->rec.size) {
        o->gaps[last - 1][1] += n; /* no byte stored since the previous hole: one range */
        return;
    }
    if (o->n_gaps < PT_OBJ_MAP_GAPS) {
        o->gaps[o->n_gaps][0] = o->rec.size;
        o->gaps[o->n_gaps][1] = n;
    }
    o->n_gaps++;
}

/* The gap map as JSON: [[offset,length],...], with "more" when ranges were left out. */
static void render_gaps(struct pt_obj *o)
{
    char *m = o->rec.gap_map;
    size_t cap = sizeof o->rec.gap_map, used = 0;
    used += (size_t)snprintf(m, cap, "[");
    size_t shown = o->n_gaps < PT_OBJ_MAP_GAPS ? o->n_gaps : PT_OBJ_MAP_GAPS;
    size_t i = 0;
    for (; i < shown; i++) {
        char item[48];
        int w = snprintf(item, sizeof item, "%s[%llu,%llu]", i ? "," : "",
                         (unsigned long long)o->gaps[i][0], (unsigned long long)o->gaps[i][1]);
        if (used + (size_t)w + 16 >= cap) {
            break;
        }
        memcpy(m + used, item, (size_t)w + 1);
        used += (size_t)w;
    }
    if (i < o->n_gaps) {
        snprintf(m + used, cap - used, "%s\"%zu more\"]", i ? "," : "", o->n_gaps - i);
    } else {
        snprintf(m + used, cap - used, "]");
    }
}

uint64_t pt_obj_size(const struct pt_obj *o)
{
    return o == NULL ? 0 : o->rec.size;
}

bool pt_obj_close(struct pt_obj *o, bool complete, struct pt_object_rec *rec)
{
    bool ok = false;
    uint8_t dig[PT_SHA256_LEN];
    if (o->sha != NULL) {
        pt_sha256_final(o->sha, dig);
        pt_hex(dig, sizeof dig, o->rec.sha256);
    }
    o->rec.complete = complete && o->rec.gap_bytes == 0;
    render_gaps(o);
    if (o->f != NULL && fclose(o->f) != 0) {
        o->io_error = true;
    }
    o->f = NULL;
    struct pt_objstore *st = o->s;
    unsigned slot = (unsigned)strtoul((char[5]){o->rec.sha256[0], o->rec.sha256[1],
                                               o->rec.sha256[2], 0, 0},
                                      NULL, 16) % TYPE_CACHE;
    if (strcmp(st->cache[slot].sha, o->rec.sha256) == 0) {
        memcpy(o->rec.magic, st->cache[slot].magic, sizeof o->rec.magic);
        memcpy(o->rec.mime, st->cache[slot].mime, sizeof o->rec.mime);
    } else if (pt_type_sniff(o->head, o->head_len, o->rec.mime, sizeof o->rec.mime,
                             o->rec.magic, sizeof o->rec.magic)) {
        /* a format phitrace names itself (typer.h): no libmagic call */
    } else {
        const char *desc = magic_buffer(st->magic, o->head, o->head_len);
        snprintf(o->rec.magic, sizeof o->rec.magic, "%s", desc ? desc : "unknown");
        const char *implied = desc != NULL ? pt_type_mime_of(desc) : NULL;
        if (implied != NULL) {
            /* the description settles the MIME type: the second pass (as costly as the
             * first) would say the same (typer.h; checked in test_typer) */
            snprintf(o->rec.mime, sizeof o->rec.mime, "%s", implied);
        } else {
            magic_setflags(st->magic, MAGIC_MIME_TYPE | MAGIC_ERROR);
            const char *mime = magic_buffer(st->magic, o->head, o->head_len);
            snprintf(o->rec.mime, sizeof o->rec.mime, "%s",
                     mime ? mime : "application/octet-stream");
            magic_setflags(st->magic, MAGIC_NONE | MAGIC_ERROR);
        }
        memcpy(st->cache[slot].sha, o->rec.sha256, sizeof st->cache[slot].sha);
        memcpy(st->cache[slot].magic, o->rec.magic, sizeof st->cache[slot].magic);
        memcpy(st->cache[slot].mime, o->rec.mime, sizeof st->cache[slot].mime);
    }
    if (!o->io_error && o->link == NULL && o->tmp[0] == '\0') {
        ok = pack_put(st, o); /* it stayed in memory: into the pack */
    } else if (!o->io_error) {
        char sub[4300], final[4400];
        snprintf(sub, sizeof sub, "%s/%.2s", st->dir, o->rec.sha256);
        snprintf(final, sizeof final, "%s/%s", sub, o->rec.sha256);
        unsigned idx = (unsigned)strtoul((char[3]){o->rec.sha256[0], o->rec.sha256[1], 0}, NULL, 16);
        bool have = (st->subdirs[idx / 8] >> (idx % 8)) & 1;
        if (have || mkdir(sub, 0700) == 0 || errno == EEXIST) {
            st->subdirs[idx / 8] |= (uint8_t)(1u << (idx % 8));
            /* Content addressing: an identical object is already there when the name exists.
             * An object still in memory is written (to a temporary name, then renamed, so a
             * name under objects/ is always a whole object) only when it is new. */
            bool renamed = false;
            struct stat lst;
            if (lstat(final, &lst) == 0) {
                ok = true; /* a spilled duplicate's temporary file is removed below */
            } else if (o->link != NULL) {
                /* an input by reference: a link to it, not a copy (the case stays small) */
                ok = symlink(o->link, final) == 0 || errno == EEXIST;
            } else {
                ok = renamed = rename(o->tmp, final) == 0;
            }
            if (renamed) {
                o->tmp[0] = '\0';
            }
        }
    }
    *rec = o->rec;
    if (!ok) {
        st->failed++;
        if (st->on_fail != NULL) {
            st->on_fail(st->fail_arg, rec);
        }
    }
    pt_obj_discard(o); /* removes a temporary file left behind */
    return ok;
}

void pt_obj_discard(struct pt_obj *o)
{
    if (o == NULL) {
        return;
    }
    if (o->f != NULL) {
        fclose(o->f);
    }
    if (o->tmp[0] != '\0') {
        unlink(o->tmp);
    }
    pt_sha256_free(o->sha);
    free(o->link);
    o->s->mem_used -= o->mem_cap;
    free(o->mem);
    free(o->head);
    free(o);
}

bool pt_objstore_path(const struct pt_objstore *s, const char *sha256, char *out, size_t len)
{
    int w = snprintf(out, len, "%s/%.2s/%s", s->dir, sha256, sha256);
    return w > 0 && (size_t)w < len;
}

void pt_obj_child_meta(struct pt_object_rec *meta, const struct pt_object_rec *parent,
                       const char *name, const char *encoding, uint32_t part)
{
    *meta = *parent;
    memset(meta->sha256, 0, sizeof meta->sha256);
    meta->size = 0;
    meta->gap_bytes = 0;
    meta->gap_map[0] = '\0';
    meta->mime[0] = meta->magic[0] = '\0';
    meta->complete = false;
    meta->encrypted = false;
    snprintf(meta->name, sizeof meta->name, "%s", name);
    snprintf(meta->encoding, sizeof meta->encoding, "%s", encoding);
    snprintf(meta->parent_sha256, sizeof meta->parent_sha256, "%s", parent->sha256);
    meta->depth = parent->depth + 1;
    meta->part = part;
}
