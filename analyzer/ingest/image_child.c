/*
 * image_child.c - the disk-image reader, run in its own process (`phitrace image-child
 * SEGMENT...`, started by image.c): libtsk (and through it libewf, libvmdk, libvhdi) opens
 * the image, its volume system (DOS, GPT, ...) and every file system it knows (NTFS, FAT,
 * exFAT, ext2-4, HFS+, ISO 9660), walks every allocated, deleted and orphan name, and sends
 * each file's record and content on stdout as frames (image_frame.h).
 * Trust boundary: the image is hostile and libtsk has crashed and looped on such images;
 * that is why this is a process of its own under memory and CPU limits set by the parent,
 * which treats whatever it did not send as not read.
 * After the walk, the unallocated blocks of each file system are read for carving
 * (image_carve.h); a carved file is sent like a file, flagged PT_IMG_F_CARVED.
 * Limits: one file's content is sent up to PT_IMG_CONTENT_MAX bytes; at most
 * PT_CARVE_FILES carved files per file system.
 */
#include "image_child.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tsk/libtsk.h>

#include "image_carve.h"
#include "image_ewf.h"
#include "image_frame.h"
#include "image_qcow.h"

#define PT_IMG_CONTENT_MAX (1ull << 30)
#define CHUNK (64 * 1024)
#define PT_CARVE_FILES 100000
#define PT_CARVE_PAGE (1u << 20)   /* unallocated space is read in pages of 1 MiB ... */
#define PT_CARVE_OVERLAP 4096      /* ... each with this much of the next as lookahead */

struct child {
    uint8_t frame[PT_IMG_FRAME_HDR + PT_IMG_FRAME_MAX];
    uint8_t chunk[CHUNK];
    uint64_t files;
    bool ntfs;
    uint64_t vol_off;
    bool broken; /* stdout is gone: the parent stopped listening */
    /* the carved file being sent, if any */
    const char *carve_kind;
    uint64_t carve_bytes, carved;
    /* unallocated space, a page at a time: contiguous blocks from page_off (bytes into the
     * media), pages of page_size bytes counted from the volume's start, plus lookahead */
    uint8_t *page;
    size_t page_n, page_bs;
    uint64_t page_off, page_size;
    uint64_t walked; /* unallocated bytes read since the last sign of life */
};

static void emit(struct child *c, const struct pt_img_rec *r)
{
    size_t n = pt_img_rec_encode(r, c->frame, sizeof c->frame);
    if (n == 0 || c->broken) {
        return;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(STDOUT_FILENO, c->frame + off, n - off);
        if (w <= 0) {
            c->broken = true;
            return;
        }
        off += (size_t)w;
    }
}

/* A sign of life for the parent's idle watchdog during long silent work. */
static void ping(void *arg)
{
    struct child *c = arg;
    struct pt_img_rec r = {.type = PT_IMG_PING};
    emit(c, &r);
}

/* A limitation: `what` and libtsk's reason. */
static void note(struct child *c, const char *kind, const char *what)
{
    struct pt_img_rec r = {.type = PT_IMG_NOTE};
    snprintf(r.note_kind, sizeof r.note_kind, "%s", kind);
    const char *why = tsk_error_get();
    snprintf(r.note, sizeof r.note, "%.300s: %.200s", what, why != NULL ? why : "no reason given");
    for (char *p = r.note; *p != '\0'; p++) {
        *p = *p == '\n' || *p == '\r' ? ' ' : *p; /* libtsk's messages end in newlines */
    }
    tsk_error_reset();
    emit(c, &r);
}

static int64_t us(time_t s, uint32_t ns)
{
    return s == 0 ? 0 : (int64_t)s * 1000000 + ns / 1000;
}

/* The content of one attribute, in data frames, then its end frame. */
static void send_content(struct child *c, const TSK_FS_ATTR *a, uint64_t size)
{
    struct pt_img_rec end = {.type = PT_IMG_END, .ok = true};
    uint64_t want = size > PT_IMG_CONTENT_MAX ? PT_IMG_CONTENT_MAX : size;
    uint64_t off = 0;
    while (off < want && !c->broken) {
        size_t len = want - off < CHUNK ? (size_t)(want - off) : CHUNK;
        ssize_t got = tsk_fs_attr_read(a, (TSK_OFF_T)off, (char *)c->chunk, len,
                                       TSK_FS_FILE_READ_FLAG_NONE);
        if (got <= 0) {
            const char *why = tsk_error_get();
            end.ok = false;
            snprintf(end.note, sizeof end.note, "read stopped at byte %llu of %llu: %s",
                     (unsigned long long)off, (unsigned long long)size,
                     why != NULL ? why : "no data");
            tsk_error_reset();
            break;
        }
        struct pt_img_rec d = {.type = PT_IMG_DATA, .data = c->chunk, .n = (size_t)got};
        emit(c, &d);
        off += (uint64_t)got;
    }
    if (end.ok && want < size) {
        end.ok = false;
        snprintf(end.note, sizeof end.note, "only the first %llu bytes were read (limit)",
                 (unsigned long long)want);
    }
    end.size = off;
    emit(c, &end);
}

/* Where byte `off` of a non-resident attribute is in the media, 0 when no run holds it. */
static uint64_t attr_media_off(const TSK_FS_ATTR *a, uint64_t off)
{
    const TSK_FS_INFO *fs = a->fs_file->fs_info;
    uint64_t blk = off / fs->block_size;
    for (const TSK_FS_ATTR_RUN *run = a->nrd.run; run != NULL; run = run->next) {
        if ((run->flags & (TSK_FS_ATTR_RUN_FLAG_FILLER | TSK_FS_ATTR_RUN_FLAG_SPARSE)) == 0 &&
            blk >= run->offset && blk < run->offset + run->len) {
            return (uint64_t)fs->offset + (run->addr + blk - run->offset) * fs->block_size +
                   off % fs->block_size;
        }
    }
    return 0;
}

/* A file's slack: the bytes of its last cluster after its end (at most one chunk), sent as a
 * file "$Slack/<path>" when they are not all zeros. Only for a file whose name and inode are
 * allocated (a deleted file's clusters may be another's). */
static void send_slack(struct child *c, const TSK_FS_ATTR *a, const struct pt_img_rec *r)
{
    if ((r->flags & (PT_IMG_F_NAME_UNALLOC | PT_IMG_F_META_UNALLOC | PT_IMG_F_REALLOC |
                     PT_IMG_F_ORPHAN)) || !(a->flags & TSK_FS_ATTR_NONRES) || a->size <= 0 ||
        a->nrd.allocsize <= a->size || c->broken) {
        return;
    }
    uint64_t left = (uint64_t)(a->nrd.allocsize - a->size);
    size_t len = left < CHUNK ? (size_t)left : CHUNK;
    ssize_t got = tsk_fs_attr_read(a, a->size, (char *)c->chunk, len,
                                   TSK_FS_FILE_READ_FLAG_SLACK);
    size_t nz = 0;
    while (got > 0 && nz < (size_t)got && c->chunk[nz] == 0) {
        nz++;
    }
    if (got <= 0 || nz == (size_t)got) {
        tsk_error_reset();
        return;
    }
    static struct pt_img_rec s;
    s = *r;
    s.flags = PT_IMG_F_SLACK | PT_IMG_F_CONTENT;
    s.size = (uint64_t)got;
    s.image_off = attr_media_off(a, (uint64_t)a->size);
    snprintf(s.path, sizeof s.path, "$Slack/%.4080s", r->path);
    emit(c, &s);
    struct pt_img_rec d = {.type = PT_IMG_DATA, .data = c->chunk, .n = (size_t)got};
    emit(c, &d);
    struct pt_img_rec end = {.type = PT_IMG_END, .ok = true, .size = (uint64_t)got};
    emit(c, &end);
}

static void fill_file(struct pt_img_rec *r, TSK_FS_FILE *f, const char *dir)
{
    r->type = PT_IMG_FILE;
    snprintf(r->path, sizeof r->path, "%s%s", dir, f->name->name);
    r->inode = f->name->meta_addr;
    unsigned t = f->name->type < TSK_FS_NAME_TYPE_STR_MAX ? f->name->type : 0;
    r->kind = tsk_fs_name_type_str[t][0];
    if (f->name->flags & TSK_FS_NAME_FLAG_UNALLOC) {
        r->flags |= PT_IMG_F_NAME_UNALLOC;
    }
    if (strncmp(dir, "$OrphanFiles/", 13) == 0) {
        r->flags |= PT_IMG_F_ORPHAN;
    }
    TSK_FS_META *m = f->meta;
    if (m != NULL) {
        if (m->flags & TSK_FS_META_FLAG_UNALLOC) {
            r->flags |= PT_IMG_F_META_UNALLOC;
        }
        /* a deleted name whose inode is in use again: its content is another file's */
        if ((r->flags & PT_IMG_F_NAME_UNALLOC) && (m->flags & TSK_FS_META_FLAG_ALLOC)) {
            r->flags |= PT_IMG_F_REALLOC;
        }
        r->mtime = us(m->mtime, m->mtime_nano);
        r->atime = us(m->atime, m->atime_nano);
        r->ctime = us(m->ctime, m->ctime_nano);
        r->crtime = us(m->crtime, m->crtime_nano);
        r->size = m->size > 0 ? (uint64_t)m->size : 0;
    }
}

/* NTFS, as fls lists it: one row per $DATA attribute (the unnamed one and each alternate
 * data stream, resident ones included: libtsk reads them from the MFT entry) and per index
 * root other than $I30, named path:stream; the plain name when there is none. Content is
 * read for the $DATA attributes of a file whose entry is still its own. */
static void ntfs_streams(struct child *c, TSK_FS_FILE *f, const struct pt_img_rec *r)
{
    int na = f->meta != NULL ? tsk_fs_file_attr_getsize(f) : 0;
    bool sent = false;
    bool own = !(r->flags & PT_IMG_F_REALLOC);
    for (int i = 0; i < na && !c->broken; i++) {
        const TSK_FS_ATTR *a = tsk_fs_file_attr_get_idx(f, i);
        if (a == NULL || (a->type != TSK_FS_ATTR_TYPE_NTFS_DATA &&
                          a->type != TSK_FS_ATTR_TYPE_NTFS_IDXROOT)) {
            continue;
        }
        struct pt_img_rec ar = *r;
        ar.attr_type = a->type;
        ar.attr_id = (uint16_t)a->id;
        bool named = a->name != NULL && a->name[0] != '\0' &&
                     (a->type != TSK_FS_ATTR_TYPE_NTFS_IDXROOT || strcmp(a->name, "$I30") != 0);
        if (named) {
            snprintf(ar.attr, sizeof ar.attr, "%s", a->name);
            snprintf(ar.path, sizeof ar.path, "%.3800s:%.255s", r->path, a->name);
        }
        sent = true;
        if (a->type == TSK_FS_ATTR_TYPE_NTFS_DATA && own) {
            ar.flags |= PT_IMG_F_CONTENT;
            ar.size = a->size > 0 ? (uint64_t)a->size : 0;
            emit(c, &ar);
            send_content(c, a, ar.size);
            send_slack(c, a, &ar);
        } else {
            emit(c, &ar);
        }
    }
    tsk_error_reset();
    if (!sent) {
        emit(c, r);
    }
}

static TSK_WALK_RET_ENUM on_name(TSK_FS_FILE *f, const char *dir, void *arg)
{
    struct child *c = arg;
    if (c->broken) {
        return TSK_WALK_STOP;
    }
    if (f->name == NULL || TSK_FS_ISDOT(f->name->name)) {
        return TSK_WALK_CONT;
    }
    static struct pt_img_rec r;
    memset(&r, 0, sizeof r);
    r.offset = c->vol_off;
    fill_file(&r, f, dir);
    c->files++;
    if (c->ntfs) {
        ntfs_streams(c, f, &r);
        return TSK_WALK_CONT;
    }
    bool regular = f->meta != NULL && f->meta->type == TSK_FS_META_TYPE_REG &&
                   !(r.flags & PT_IMG_F_REALLOC);
    const TSK_FS_ATTR *a = regular ? tsk_fs_file_attr_get(f) : NULL;
    if (a == NULL) {
        tsk_error_reset();
        emit(c, &r);
        return TSK_WALK_CONT;
    }
    r.attr_type = a->type;
    r.attr_id = (uint16_t)a->id;
    r.flags |= PT_IMG_F_CONTENT;
    emit(c, &r);
    send_content(c, a, r.size);
    send_slack(c, a, &r);
    return TSK_WALK_CONT;
}

static void carve_end(struct child *c)
{
    if (c->carve_kind == NULL) {
        return;
    }
    struct pt_img_rec end = {.type = PT_IMG_END, .ok = true, .size = c->carve_bytes};
    emit(c, &end);
    c->carve_kind = NULL;
}

/* Bytes that continue the carved file being sent; how many belonged to it (fewer when it
 * ends inside them). */
static size_t carve_data(struct child *c, const uint8_t *p, size_t n)
{
    bool last = false;
    size_t take = pt_carve_take(c->carve_kind, p, n, &last);
    if (take > PT_CARVE_MAX - c->carve_bytes) {
        take = (size_t)(PT_CARVE_MAX - c->carve_bytes);
        last = true;
    }
    for (size_t off = 0; off < take; off += CHUNK) {
        size_t len = take - off < CHUNK ? take - off : CHUNK;
        struct pt_img_rec d = {.type = PT_IMG_DATA, .data = p + off, .n = len};
        emit(c, &d);
    }
    c->carve_bytes += take;
    if (last) {
        carve_end(c);
    }
    return last ? take : n;
}

static void carve_start(struct child *c, const char *kind, uint64_t image_off)
{
    carve_end(c);
    if (c->carved >= PT_CARVE_FILES) {
        return;
    }
    static struct pt_img_rec r;
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_FILE;
    r.offset = c->vol_off;
    r.image_off = image_off;
    r.kind = 'r';
    r.flags = PT_IMG_F_CARVED | PT_IMG_F_CONTENT;
    snprintf(r.path, sizeof r.path, "$CarvedFiles/%llu.%s", (unsigned long long)image_off,
             kind);
    emit(c, &r);
    c->carved++;
    c->carve_kind = kind;
    c->carve_bytes = 0;
}

/* Bytes [0, scan) of the page buffer (p[scan..have) its lookahead): a carved file goes on to
 * the next header at a block start (a CSV to its NUL); without one, headers are looked for at
 * every offset. A header is found only where it starts, so one straddling two pages is found
 * once. */
static void carve_page(struct child *c, const uint8_t *p, size_t scan, size_t have)
{
    size_t bs = c->page_bs, pos = 0;
    while (pos < scan && !c->broken) {
        if (c->carve_kind != NULL) {
            size_t stop = (pos + bs - 1) / bs * bs; /* the next block start */
            if (stop == pos && c->carve_bytes == 0) {
                stop += bs; /* the header this carved file starts with */
            }
            /* text goes on to its NUL: a line at a block start may read like a header */
            bool text = strcmp(c->carve_kind, "csv") == 0;
            while (stop < scan && (text || pt_carve_sniff(p + stop, have - stop) == NULL)) {
                stop += bs;
            }
            stop = stop < scan ? stop : scan;
            size_t used = carve_data(c, p + pos, stop - pos);
            pos += used;
            if (c->carve_kind != NULL && pos < scan) {
                carve_end(c); /* a header at a block start ends it */
            }
            continue;
        }
        const char *kind = NULL;
        size_t at = pt_carve_find(p, pos, scan, have, bs, &kind);
        if (kind == NULL) {
            break;
        }
        carve_start(c, kind, c->page_off + at);
        pos = at;
        if (c->carve_kind == NULL) {
            pos++; /* no more carved files are allowed: look no further at this one */
        }
    }
}

/* The pages buffered so far: all of them when the run of contiguous blocks ends (`flush`),
 * else those whose lookahead is complete. */
static void carve_pages(struct child *c, bool flush)
{
    for (;;) {
        uint64_t rel = c->page_off - c->vol_off;
        size_t scan = (size_t)(c->page_size - rel % c->page_size); /* to the page's end */
        if (!flush && c->page_n < scan + PT_CARVE_OVERLAP) {
            return;
        }
        if (scan > c->page_n) {
            scan = c->page_n;
        }
        carve_page(c, c->page, scan, c->page_n);
        memmove(c->page, c->page + scan, c->page_n - scan);
        c->page_n -= scan;
        c->page_off += scan;
        if (c->page_n == 0) {
            return;
        }
    }
}

static TSK_WALK_RET_ENUM on_block(const TSK_FS_BLOCK *b, void *arg)
{
    struct child *c = arg;
    if (c->broken) {
        return TSK_WALK_STOP;
    }
    TSK_FS_INFO *fs = b->fs_info;
    size_t n = fs->block_size;
    c->walked += n;
    if (c->walked >= (64u << 20)) {
        c->walked = 0;
        ping(c);
    }
    uint64_t off = (uint64_t)fs->offset + (uint64_t)b->addr * fs->block_size;
    if (c->page_n > 0 && off != c->page_off + c->page_n) {
        carve_pages(c, true); /* the run of contiguous unallocated blocks ended */
        carve_end(c);
    }
    if (c->page_n == 0) {
        c->page_off = off;
    }
    memcpy(c->page + c->page_n, b->buf, n);
    c->page_n += n;
    carve_pages(c, false);
    return TSK_WALK_CONT;
}

static void carve_fs(struct child *c, TSK_FS_INFO *fs)
{
    c->carve_kind = NULL;
    c->carved = 0;
    c->page_bs = fs->block_size > 0 ? fs->block_size : 512;
    c->page_size = (PT_CARVE_PAGE + c->page_bs - 1) / c->page_bs * c->page_bs;
    c->page_n = 0;
    free(c->page);
    c->page = malloc(c->page_size + PT_CARVE_OVERLAP + 2 * c->page_bs);
    if (c->page == NULL) {
        note(c, "image.unallocated_incomplete", "no memory for the unallocated page buffer");
        return;
    }
    if (tsk_fs_block_walk(fs, fs->first_block, fs->last_block_act,
                          TSK_FS_BLOCK_WALK_FLAG_UNALLOC | TSK_FS_BLOCK_WALK_FLAG_CONT,
                          on_block, c) != 0) {
        char what[128];
        snprintf(what, sizeof what, "unallocated space of the %s file system at byte %llu "
                 "was read in part", tsk_fs_type_toname(fs->ftype),
                 (unsigned long long)fs->offset);
        carve_pages(c, true);
        carve_end(c);
        note(c, "image.unallocated_incomplete", what);
    }
    carve_pages(c, true);
    carve_end(c);
    free(c->page);
    c->page = NULL;
}

static void walk_fs(struct child *c, TSK_FS_INFO *fs)
{
    struct pt_img_rec v = {.type = PT_IMG_VOL, .offset = (uint64_t)fs->offset,
                           .block_size = fs->block_size, .blocks = (uint64_t)fs->block_count,
                           .ok = true};
    snprintf(v.fs, sizeof v.fs, "%s", tsk_fs_type_toname(fs->ftype));
    c->ntfs = TSK_FS_TYPE_ISNTFS(fs->ftype);
    c->vol_off = (uint64_t)fs->offset;
    emit(c, &v);
    tsk_error_reset();
    if (tsk_fs_dir_walk(fs, fs->root_inum,
                        TSK_FS_DIR_WALK_FLAG_ALLOC | TSK_FS_DIR_WALK_FLAG_UNALLOC |
                            TSK_FS_DIR_WALK_FLAG_RECURSE,
                        on_name, c) != 0) {
        char what[128];
        snprintf(what, sizeof what, "the walk of the %s file system at byte %llu stopped early",
                 tsk_fs_type_toname(fs->ftype), (unsigned long long)fs->offset);
        note(c, "image.walk_incomplete", what);
    } else if (tsk_error_get() != NULL) {
        /* libtsk can swallow a failure (an allocation refused under the memory limit while
         * it hunts orphans) and still return success: its error is then left set */
        char what[128];
        snprintf(what, sizeof what, "the walk of the %s file system at byte %llu met an "
                 "error it passed over", tsk_fs_type_toname(fs->ftype),
                 (unsigned long long)fs->offset);
        note(c, "image.walk_incomplete", what);
    }
    carve_fs(c, fs);
}

int pt_image_child_main(int argc, char **argv)
{
    static struct child c;
    if (argc < 1) {
        return 2;
    }
    if (pt_ewf_is(argv[0])) {
        static struct pt_img_rec h;
        pt_ewf_hashes(argv, argc, &h, ping, &c);
        emit(&c, &h);
    }
    TSK_IMG_INFO *img = NULL;
    if (pt_qcow_is(argv[0])) {
        char why[400];
        img = pt_qcow_open(argv[0], why, sizeof why);
        if (img == NULL) {
            note(&c, "image.unreadable", why);
            return 0;
        }
    } else {
        img = tsk_img_open_utf8(argc, (const char *const *)argv, TSK_IMG_TYPE_DETECT, 0);
    }
    if (img == NULL) {
        note(&c, "image.unreadable", "libtsk cannot open it as a disk image");
        return 0;
    }
    TSK_VS_INFO *vs = tsk_vs_open(img, 0, TSK_VS_TYPE_DETECT);
    if (vs == NULL) {
        tsk_error_reset();
        TSK_FS_INFO *fs = tsk_fs_open_img(img, 0, TSK_FS_TYPE_DETECT);
        if (fs == NULL) {
            note(&c, "image.no_filesystem",
                 "neither a volume system nor a file system libtsk reads");
        } else {
            walk_fs(&c, fs);
            tsk_fs_close(fs);
        }
    } else {
        for (TSK_PNUM_T i = 0; i < vs->part_count && !c.broken; i++) {
            const TSK_VS_PART_INFO *p = tsk_vs_part_get(vs, i);
            if (p == NULL || !(p->flags & TSK_VS_PART_FLAG_ALLOC)) {
                continue;
            }
            TSK_FS_INFO *fs = tsk_fs_open_vol(p, TSK_FS_TYPE_DETECT);
            if (fs == NULL) {
                struct pt_img_rec v = {.type = PT_IMG_VOL,
                                       .offset = (uint64_t)p->start * vs->block_size,
                                       .block_size = vs->block_size, .blocks = p->len};
                const char *why = tsk_error_get();
                snprintf(v.note, sizeof v.note, "partition %u (%s): no file system libtsk "
                         "reads: %s", (unsigned)p->addr, p->desc != NULL ? p->desc : "",
                         why != NULL ? why : "");
                tsk_error_reset();
                emit(&c, &v);
                continue;
            }
            walk_fs(&c, fs);
            tsk_fs_close(fs);
        }
        tsk_vs_close(vs);
    }
    tsk_img_close(img);
    struct pt_img_rec done = {.type = PT_IMG_DONE, .size = c.files};
    emit(&c, &done);
    return 0;
}
