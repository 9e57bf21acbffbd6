/*
 * smb.c - SMB2 and SMB3 file access ([MS-SMB2]) over direct TCP or NetBIOS session service.
 *
 * Framing ([MS-SMB2] §2.1): a 4-byte header (type 0x00, 24-bit big-endian length), then
 * one SMB2 message or a compound chain of them (NextCommand offsets, 8-byte aligned). Each
 * message starts with the 64-byte SMB2 header: "\xfeSMB", structure size 64, credit
 * charge, status, command, credits, flags (bit 0: response, bit 1: async, bit 2: related),
 * next command, message id, then tree id (sync) or async id, session id, signature.
 *
 * Requests are remembered by message id until their response: TREE_CONNECT gives the share
 * path, CREATE the file name (its response the file id, size and times), READ the file id
 * and offset its response's data belongs to. WRITE request data and READ response data are
 * streamed into one object per file handle and direction (written data is an upload from
 * the client, read data a download), in file-offset order; a file offset that goes back is
 * an anomaly and leaves the object partial. CLOSE (or the end of the flow) ends the handle:
 * one smb_file row with share, name, size, bytes read and written and the objects' hashes.
 * SESSION_SETUP's NTLMSSP AUTHENTICATE message gives the user name.
 *
 * SMB1 ("\xffSMB") is counted (negotiation usually moves to SMB2); SMB3 encrypted
 * ("\xfdSMB") and compressed ("\xfcSMB") messages are recorded as an anomaly each: their
 * content cannot be read from the capture.
 *
 * Trust boundary: both streams are untrusted. A message is buffered up to PT_SMB_MSG_BUFFER;
 * beyond that only the data of a leading WRITE request or READ response is followed (to its
 * object, never to memory). Requests waiting for a response, open handles and shares per flow
 * are capped (PT_SMB_MAX_PENDING, PT_SMB_MAX_FILES, PT_SMB_MAX_TREES).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/cursor.h"
#include "../core/sha256.h"
#include "../core/limits.h"
#include "../core/memcap.h"
#include "app.h"

enum {
    SMB2_SESSION_SETUP = 0x01,
    SMB2_TREE_CONNECT = 0x03,
    SMB2_CREATE = 0x05,
    SMB2_CLOSE = 0x06,
    SMB2_READ = 0x08,
    SMB2_WRITE = 0x09,
};

#define SMB2_FLAG_RESPONSE 0x1u
#define SMB2_FLAG_ASYNC 0x2u
#define SMB2_STATUS_PENDING 0x00000103u
#define SMB2_HDR 64

/* A related compound request names "the file of the previous command" with this id. */
static const uint8_t all_ff[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* One open file handle and what went through it. io[0]: written (client to server),
 * io[1]: read (server to client), matching the stream direction of the data. */
struct smb_io {
    struct pt_obj *obj;
    uint64_t next;          /* file offset the object continues at */
    uint64_t bytes;         /* data bytes seen, duplicates included */
    bool disorder;          /* data arrived for an offset already passed */
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
    char sha256[PT_SHA256_HEX];
    bool complete;
    bool done;
};

struct smb_file {
    uint8_t fid[16];
    struct pt_smb_rec rec;
    struct smb_io io[2];
};

struct smb_pending {
    uint64_t msg_id;
    bool used;
    uint16_t cmd;
    uint32_t tree;
    uint8_t fid[16];
    uint64_t offset;
    char *name;             /* CREATE file name or TREE_CONNECT path (owned) */
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
};

struct smb_tree {
    uint32_t id;
    char *path;
};

enum smb_state { SS_NB, SS_MSG, SS_STREAM, SS_SKIP, SS_DEAD };

struct smb_dir {
    enum smb_state st;
    uint8_t nb[4];
    size_t nb_len;
    uint32_t msg_left;      /* bytes of the current message still to come */
    uint8_t *buf;           /* buffered message head (grown as it arrives) */
    size_t buf_len, buf_want, buf_cap;
    /* SS_STREAM: data bytes still to go to `sink` at file offset `sink_off` */
    struct smb_file *sink;
    int sink_io;
    uint64_t sink_off;
    uint32_t sink_left;
};

struct smb_flow {
    struct pt_app_ctx *ctx;
    struct pt_flow_rec rec;
    struct smb_dir d[2];
    struct smb_pending *pend;          /* PT_SMB_MAX_PENDING slots, by message id */
    struct smb_file **files;
    size_t n_files;
    struct smb_tree trees[PT_SMB_MAX_TREES];
    size_t n_trees;
    char user[128];
    bool said_encrypted, said_compressed, said_files, said_pending;
    uint8_t last_fid[16];              /* file id of the last CREATE in a compound chain */
    const struct pt_flow_pkt *pkt;
};

static bool smb_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                      uint16_t sport)
{
    (void)dir;
    (void)cport;
    (void)sport;
    if (transport != 6 || n < 8 || p[0] != 0x00) {
        return false;
    }
    return (p[4] == 0xfe || p[4] == 0xff || p[4] == 0xfd || p[4] == 0xfc) &&
           memcmp(p + 5, "SMB", 3) == 0;
}

static void *smb_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct smb_flow *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return NULL;
    }
    f->ctx = ctx;
    f->rec = *rec;
    return f;
}

static void anomaly(struct smb_flow *f, enum pt_anom kind, const char *detail)
{
    pt_app_anomaly(f->ctx, f->pkt, 0, kind, detail);
}

/* UTF-16LE to UTF-8; control characters and unpaired surrogates become '?'. */
static void utf16(const uint8_t *p, size_t n, char *out, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        uint32_t c = (uint32_t)p[i] | ((uint32_t)p[i + 1] << 8);
        if (c >= 0xd800 && c < 0xdc00 && i + 3 < n) {
            uint32_t lo = (uint32_t)p[i + 2] | ((uint32_t)p[i + 3] << 8);
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i += 2;
            } else {
                c = '?';
            }
        } else if ((c >= 0xd800 && c < 0xe000) || c < 0x20 || c == 0x7f) {
            c = '?';
        }
        uint8_t u[4];
        size_t m;
        if (c < 0x80) {
            u[0] = (uint8_t)c;
            m = 1;
        } else if (c < 0x800) {
            u[0] = (uint8_t)(0xc0 | (c >> 6));
            u[1] = (uint8_t)(0x80 | (c & 0x3f));
            m = 2;
        } else if (c < 0x10000) {
            u[0] = (uint8_t)(0xe0 | (c >> 12));
            u[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
            u[2] = (uint8_t)(0x80 | (c & 0x3f));
            m = 3;
        } else {
            u[0] = (uint8_t)(0xf0 | (c >> 18));
            u[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
            u[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
            u[3] = (uint8_t)(0x80 | (c & 0x3f));
            m = 4;
        }
        if (k + m + 1 > len) {
            break;
        }
        memcpy(out + k, u, m);
        k += m;
    }
    out[k] = '\0';
}

/* A UTF-16 string at `off` (from the SMB2 header start) of `n` bytes inside the message
 * view `msg`; empty when it lies outside. */
static void utf16_at(const struct pt_cur *msg, size_t off, size_t n, char *out, size_t len)
{
    struct pt_cur c = *msg;
    const uint8_t *s = NULL;
    c.off = 0;
    out[0] = '\0';
    if (pt_cur_skip(&c, off) && pt_cur_bytes(&c, n, &s)) {
        utf16(s, n, out, len);
    }
}

/* FILETIME (100 ns since 1601) to Unix microseconds; 0 stays 0. */
static int64_t filetime_us(uint64_t ft)
{
    if (ft == 0) {
        return 0;
    }
    return (int64_t)(ft / 10) - INT64_C(11644473600000000);
}

static const char *tree_path(const struct smb_flow *f, uint32_t id)
{
    for (size_t i = 0; i < f->n_trees; i++) {
        if (f->trees[i].id == id) {
            return f->trees[i].path;
        }
    }
    return "";
}

/* Handles on the IPC$ share are named pipes (DCE/RPC, PsExec's stdin and stdout). */
static bool is_ipc(const char *share)
{
    size_t n = strlen(share);
    return n >= 5 && strcasecmp(share + n - 5, "\\IPC$") == 0;
}

static void tree_add(struct smb_flow *f, uint32_t id, char *path)
{
    for (size_t i = 0; i < f->n_trees; i++) {
        if (f->trees[i].id == id) {
            free(f->trees[i].path);
            f->trees[i].path = path;
            return;
        }
    }
    if (f->n_trees == PT_SMB_MAX_TREES) {
        anomaly(f, PT_ANOM_LIMIT_SMB_TREES, "more shares connected in one flow than the limit");
        free(path);
        return;
    }
    f->trees[f->n_trees].id = id;
    f->trees[f->n_trees++].path = path;
}

static struct smb_pending *pending_slot(struct smb_flow *f, uint64_t msg_id)
{
    if (f->pend == NULL) {
        f->pend = calloc(PT_SMB_MAX_PENDING, sizeof *f->pend);
        if (f->pend == NULL) {
            return NULL;
        }
    }
    return &f->pend[msg_id % PT_SMB_MAX_PENDING];
}

static void pending_clear(struct smb_pending *p)
{
    free(p->name);
    memset(p, 0, sizeof *p);
}

/* Remember a request; an older request still waiting in the slot is dropped. */
static struct smb_pending *pending_put(struct smb_flow *f, uint64_t msg_id, uint16_t cmd,
                                       uint32_t tree)
{
    struct smb_pending *p = pending_slot(f, msg_id);
    if (p == NULL) {
        return NULL;
    }
    if (p->used && p->msg_id != msg_id && !f->said_pending) {
        f->said_pending = true;
        anomaly(f, PT_ANOM_LIMIT_SMB_PENDING,
                "more requests waiting for a response than the limit");
    }
    pending_clear(p);
    p->used = true;
    p->msg_id = msg_id;
    p->cmd = cmd;
    p->tree = tree;
    if (f->pkt != NULL) {
        p->item = f->pkt->item;
        p->frame = f->pkt->frame;
        p->ts_us = f->pkt->ts_us;
    }
    return p;
}

static struct smb_pending *pending_get(struct smb_flow *f, uint64_t msg_id, uint16_t cmd)
{
    if (f->pend == NULL) {
        return NULL;
    }
    struct smb_pending *p = &f->pend[msg_id % PT_SMB_MAX_PENDING];
    return p->used && p->msg_id == msg_id && p->cmd == cmd ? p : NULL;
}

static struct smb_file *file_find(struct smb_flow *f, const uint8_t fid[16])
{
    for (size_t i = f->n_files; i-- > 0;) {
        if (memcmp(f->files[i]->fid, fid, 16) == 0) {
            return f->files[i];
        }
    }
    return NULL;
}

static struct smb_file *file_new(struct smb_flow *f, const uint8_t fid[16], uint32_t item,
                                 uint64_t frame, int64_t ts_us)
{
    if (f->n_files == PT_SMB_MAX_FILES) {
        if (!f->said_files) {
            f->said_files = true;
            anomaly(f, PT_ANOM_LIMIT_SMB_FILES, "more open files in one flow than the limit");
        }
        return NULL;
    }
    if (f->files == NULL) {
        f->files = calloc(PT_SMB_MAX_FILES, sizeof *f->files);
    }
    struct smb_file *h = f->files != NULL ? calloc(1, sizeof *h) : NULL;
    if (h == NULL) {
        return NULL;
    }
    memcpy(h->fid, fid, 16);
    h->rec.flow_id = f->rec.id;
    h->rec.item = item;
    h->rec.frame = frame;
    h->rec.ts_us = ts_us;
    f->files[f->n_files++] = h;
    return h;
}

/* The file a READ or WRITE names; one seen without its CREATE is named by its id. */
static struct smb_file *file_for_io(struct smb_flow *f, const uint8_t fid[16], uint32_t tree)
{
    struct smb_file *h = file_find(f, fid);
    if (h == NULL) {
        const struct pt_flow_pkt *k = f->pkt;
        h = file_new(f, fid, k ? k->item : 0, k ? k->frame : 0, k ? k->ts_us : 0);
        if (h != NULL) {
            snprintf(h->rec.share, sizeof h->rec.share, "%s", tree_path(f, tree));
            h->rec.is_pipe = is_ipc(h->rec.share);
            char hex[17];
            pt_hex(fid, 8, hex);
            snprintf(h->rec.name, sizeof h->rec.name, "<file id %s>", hex);
        }
    }
    return h;
}

/* `n` data bytes (p NULL: missing from the capture) for file offset `off` of one handle's
 * read or written data. */
static void io_data(struct smb_flow *f, struct smb_file *h, int io, uint64_t off,
                    const uint8_t *p, size_t n)
{
    struct smb_io *x = &h->io[io];
    if (n == 0) {
        return;
    }
    if (h->rec.is_pipe) {
        x->bytes += n; /* named-pipe traffic is RPC, not a file: counted, not stored */
        return;
    }
    if (x->obj == NULL && !x->done) {
        uint32_t item = f->pkt ? f->pkt->item : h->rec.item;
        uint64_t frame = f->pkt ? f->pkt->frame : 0;
        int64_t ts = f->pkt ? f->pkt->ts_us : h->rec.ts_us;
        struct pt_object_rec meta;
        pt_app_object_meta(&meta, &f->rec, io, "smb", off, item, frame, ts);
        if (h->rec.share[0] != '\0') {
            snprintf(meta.name, sizeof meta.name, "%.100s%s%.150s", h->rec.share,
                     h->rec.name[0] == '\\' ? "" : "\\", h->rec.name);
        } else {
            snprintf(meta.name, sizeof meta.name, "%.255s", h->rec.name);
        }
        x->obj = pt_obj_open(f->ctx->store, &meta);
        x->done = true; /* one object per handle and direction, even if it cannot be made */
        x->item = item;
        x->frame = frame;
        x->ts_us = ts;
        if (x->obj == NULL) {
            anomaly(f, PT_ANOM_OBJECT_STORE_FAILED, "cannot create the object file");
        } else if (off > 0) {
            pt_obj_gap(x->obj, off); /* the capture shows no data before this offset */
        }
        x->next = off;
    }
    x->bytes += n;
    if (x->obj == NULL) {
        return;
    }
    if (off + n <= x->next && off < x->next) {
        if (!x->disorder && off + n < x->next) {
            anomaly(f, PT_ANOM_SMB_OFFSET_BACK, "file data for an offset already passed");
        }
        x->disorder = x->disorder || off + n < x->next;
        return; /* the same bytes again (a re-read, or a repeated write) */
    }
    if (off < x->next) { /* overlaps the end of what was kept: keep the new tail */
        size_t skip = (size_t)(x->next - off);
        if (p != NULL) {
            p += skip;
        }
        n -= skip;
        off = x->next;
    }
    if (off > x->next) {
        pt_obj_gap(x->obj, off - x->next);
    }
    if (p != NULL) {
        pt_obj_write(x->obj, p, n);
    } else {
        pt_obj_gap(x->obj, n);
    }
    x->next = off + n;
}

static void io_end(struct smb_flow *f, struct smb_file *h, int io)
{
    struct smb_io *x = &h->io[io];
    if (x->obj == NULL) {
        return;
    }
    uint64_t stored = pt_obj_size(x->obj);
    bool complete = !x->disorder && stored == x->next &&
                    (io == 0 || !h->rec.size_known || x->next == h->rec.size);
    struct pt_object_rec o;
    if (pt_obj_close(x->obj, complete, &o)) {
        snprintf(x->sha256, sizeof x->sha256, "%s", o.sha256);
        x->complete = o.complete;
        if (f->ctx->object != NULL) {
            f->ctx->object(f->ctx->arg, &o);
        }
    } else {
        anomaly(f, PT_ANOM_OBJECT_STORE_FAILED, "cannot write the object file");
    }
    x->obj = NULL;
}

/* The handle is closed (or the flow ended): store its objects and its row. */
static void file_end(struct smb_flow *f, struct smb_file *h)
{
    io_end(f, h, 0);
    io_end(f, h, 1);
    struct pt_smb_rec *r = &h->rec;
    r->bytes_written = h->io[0].bytes;
    r->bytes_read = h->io[1].bytes;
    snprintf(r->write_sha256, sizeof r->write_sha256, "%s", h->io[0].sha256);
    snprintf(r->read_sha256, sizeof r->read_sha256, "%s", h->io[1].sha256);
    r->write_complete = h->io[0].complete;
    r->read_complete = h->io[1].complete;
    snprintf(r->user, sizeof r->user, "%s", f->user);
    pt_emit_smb(f->ctx, r);
    for (size_t i = 0; i < f->n_files; i++) {
        if (f->files[i] == h) {
            f->files[i] = f->files[--f->n_files];
            break;
        }
    }
    /* a data stream still pointing at this handle must not outlive it */
    for (int dir = 0; dir < 2; dir++) {
        if (f->d[dir].sink == h) {
            f->d[dir].sink = NULL;
        }
    }
    free(h);
}

/* NTLMSSP AUTHENTICATE (message type 3) inside a SESSION_SETUP security buffer:
 * domain at offset 28, user at 36, each (length 2, max length 2, offset 4) from the
 * NTLMSSP signature ([MS-NLMP] §2.2.1.3). */
static void ntlmssp_user(struct smb_flow *f, const uint8_t *sec, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i++) {
        if (memcmp(sec + i, "NTLMSSP\0", 8) != 0) {
            continue;
        }
        struct pt_cur c = pt_cur_make(sec + i, n - i);
        pt_cur_skip(&c, 8);
        uint32_t type = pt_cur_le32(&c);
        pt_cur_skip(&c, 28 - 12);
        uint16_t dlen = pt_cur_le16(&c);
        pt_cur_skip(&c, 2);
        uint32_t doff = pt_cur_le32(&c);
        uint16_t ulen = pt_cur_le16(&c);
        pt_cur_skip(&c, 2);
        uint32_t uoff = pt_cur_le32(&c);
        if (!pt_cur_ok(&c) || type != 3) {
            return;
        }
        char dom[64], usr[64];
        utf16_at(&c, doff, dlen, dom, sizeof dom);
        utf16_at(&c, uoff, ulen, usr, sizeof usr);
        if (usr[0] != '\0') {
            snprintf(f->user, sizeof f->user, "%s%s%s", dom, dom[0] ? "\\" : "", usr);
        }
        return;
    }
}

/* Start following the data of a WRITE request or READ response: `have` of its `len` bytes
 * are in the buffer at `p`; the rest will stream in (SS_STREAM). */
static void data_begin(struct smb_flow *f, int dir, struct smb_file *h, int io, uint64_t off,
                       const uint8_t *p, size_t have, uint32_t len, bool more)
{
    struct smb_dir *d = &f->d[dir];
    if (h != NULL) {
        io_data(f, h, io, off, p, have);
    }
    if (more && len > have) {
        d->sink = h;
        d->sink_io = io;
        d->sink_off = off + have;
        d->sink_left = len - (uint32_t)have;
    }
}

/* An SMB2 header ([MS-SMB2] §2.2.1): the fields the decoder follows. */
struct smb2_hdr {
    uint32_t status;
    uint16_t cmd;
    uint32_t flags;
    uint64_t msg_id;
    uint32_t tree; /* 0 for an async message */
};

/* A request: SESSION_SETUP gives the user; TREE_CONNECT, CREATE, READ and CLOSE wait for
 * their response; a WRITE's data is followed at once. `c` is past the header. */
static void request(struct smb_flow *f, int dir, struct pt_cur msg, struct pt_cur *c,
                    const struct smb2_hdr *hd, bool more)
{
    uint16_t cmd = hd->cmd;
    uint32_t flags = hd->flags, tree = hd->tree;
    uint64_t msg_id = hd->msg_id;
    switch (cmd) {
        case SMB2_SESSION_SETUP: {
            pt_cur_skip(c, 12);
            uint16_t off = pt_cur_le16(c);
            uint16_t len = pt_cur_le16(c);
            struct pt_cur s = msg;
            const uint8_t *sec = NULL;
            if (pt_cur_skip(&s, off) && pt_cur_bytes(&s, len, &sec)) {
                ntlmssp_user(f, sec, len);
            }
            return;
        }
        case SMB2_TREE_CONNECT: {
            pt_cur_skip(c, 4);
            uint16_t off = pt_cur_le16(c);
            uint16_t len = pt_cur_le16(c);
            char path[256];
            utf16_at(&msg, off, len, path, sizeof path);
            struct smb_pending *p = pending_put(f, msg_id, cmd, tree);
            if (p != NULL) {
                p->name = strdup(path);
            }
            return;
        }
        case SMB2_CREATE: {
            pt_cur_skip(c, 44);
            uint16_t off = pt_cur_le16(c);
            uint16_t len = pt_cur_le16(c);
            char name[512];
            utf16_at(&msg, off, len, name, sizeof name);
            struct smb_pending *p = pending_put(f, msg_id, cmd, tree);
            if (p != NULL) {
                p->name = strdup(name[0] ? name : "<share root>");
            }
            return;
        }
        case SMB2_READ: {
            pt_cur_skip(c, 8);
            uint64_t off = pt_cur_le64(c);
            uint8_t fid[16];
            pt_cur_copy(c, fid, 16);
            if (!pt_cur_ok(c)) {
                anomaly(f, PT_ANOM_SMB_SHORT_COMMAND,
                        "READ request shorter than its structure");
                return;
            }
            if ((flags & 0x4u) && memcmp(fid, all_ff, 16) == 0) {
                memcpy(fid, f->last_fid, 16);
            }
            struct smb_pending *p = pending_put(f, msg_id, cmd, tree);
            if (p != NULL) {
                memcpy(p->fid, fid, 16);
                p->offset = off;
            }
            return;
        }
        case SMB2_WRITE: {
            pt_cur_skip(c, 2);
            uint16_t doff = pt_cur_le16(c);
            uint32_t len = pt_cur_le32(c);
            uint64_t off = pt_cur_le64(c);
            uint8_t fid[16];
            pt_cur_copy(c, fid, 16);
            if (!pt_cur_ok(c) || doff < SMB2_HDR) {
                anomaly(f, PT_ANOM_SMB_SHORT_COMMAND,
                        "WRITE request shorter than its structure");
                return;
            }
            if ((flags & 0x4u) && memcmp(fid, all_ff, 16) == 0) {
                memcpy(fid, f->last_fid, 16);
            }
            struct smb_file *h = file_for_io(f, fid, tree);
            size_t have = msg.len > doff ? msg.len - doff : 0;
            if (have > len) {
                have = len;
            }
            data_begin(f, dir, h, 0, off, have ? msg.base + doff : NULL, have, len, more);
            return;
        }
        case SMB2_CLOSE: {
            pt_cur_skip(c, 8);
            uint8_t fid[16];
            pt_cur_copy(c, fid, 16);
            struct smb_pending *p = pending_put(f, msg_id, cmd, tree);
            if (p != NULL && pt_cur_ok(c)) {
                memcpy(p->fid, fid, 16);
                if ((flags & 0x4u) && memcmp(fid, all_ff, 16) == 0) {
                    memcpy(p->fid, f->last_fid, 16);
                }
            }
            return;
        }
        default: return;
    }
}

/* A CREATE response: a new handle with its share, name, action, times and size. */
static void create_response(struct smb_flow *f, struct pt_cur msg, struct pt_cur *c,
                            struct smb_pending *p, bool ok)
{
    pt_cur_skip(c, 4);
    uint32_t action = pt_cur_le32(c);
    uint64_t created = pt_cur_le64(c);
    pt_cur_skip(c, 16);
    uint64_t changed = pt_cur_le64(c);
    (void)changed;
    pt_cur_skip(c, 8);
    uint64_t eof = pt_cur_le64(c);
    uint32_t attrs = pt_cur_le32(c);
    pt_cur_skip(c, 4);
    uint8_t fid[16];
    pt_cur_copy(c, fid, 16);
    if (!ok || !pt_cur_ok(c)) {
        return;
    }
    struct pt_cur t = msg;
    pt_cur_skip(&t, SMB2_HDR + 24);
    uint64_t modified = pt_cur_le64(&t);
    memcpy(f->last_fid, fid, 16);
    struct smb_file *h = file_find(f, fid);
    if (h != NULL) {
        file_end(f, h); /* the id was reused: the old handle is over */
    }
    h = file_new(f, fid, p->item, p->frame, p->ts_us);
    if (h == NULL) {
        return;
    }
    snprintf(h->rec.share, sizeof h->rec.share, "%s", tree_path(f, p->tree));
    h->rec.is_pipe = is_ipc(h->rec.share);
    snprintf(h->rec.name, sizeof h->rec.name, "%s", p->name ? p->name : "");
    static const char *const actions[] = {"superseded", "opened", "created",
                                          "overwritten"};
    snprintf(h->rec.action, sizeof h->rec.action, "%s",
             action < 4 ? actions[action] : "other");
    h->rec.is_dir = (attrs & 0x10u) != 0;
    h->rec.size = eof;
    h->rec.size_known = true;
    h->rec.created_us = filetime_us(created);
    h->rec.modified_us = pt_cur_ok(&t) ? filetime_us(modified) : 0;
}

/* A response: completes the request waiting under its message id. */
static void response(struct smb_flow *f, int dir, struct pt_cur msg, struct pt_cur *c,
                     const struct smb2_hdr *hd, bool more)
{
    uint16_t cmd = hd->cmd;
    uint32_t status = hd->status, tree = hd->tree;
    uint64_t msg_id = hd->msg_id;
    if (status == SMB2_STATUS_PENDING) {
        return; /* interim response: the final one comes later with the same message id */
    }
    struct smb_pending *p = pending_get(f, msg_id, cmd);
    if (p == NULL) {
        return;
    }
    bool ok = status == 0 || (cmd == SMB2_READ && status == 0x80000005u); /* buffer overflow */
    switch (cmd) {
        case SMB2_TREE_CONNECT:
            if (ok && p->name != NULL) {
                tree_add(f, tree, p->name);
                p->name = NULL;
            }
            break;
        case SMB2_CREATE:
            create_response(f, msg, c, p, ok);
            break;
        case SMB2_READ: {
            pt_cur_skip(c, 2);
            uint8_t doff = pt_cur_u8(c);
            pt_cur_skip(c, 1);
            uint32_t len = pt_cur_le32(c);
            if (!ok || !pt_cur_ok(c)) {
                break;
            }
            if (doff < SMB2_HDR && len > 0) {
                anomaly(f, PT_ANOM_SMB_SHORT_COMMAND,
                        "READ response data offset inside the header");
                break;
            }
            struct smb_file *h = file_for_io(f, p->fid, p->tree);
            size_t have = msg.len > doff ? msg.len - doff : 0;
            if (have > len) {
                have = len;
            }
            data_begin(f, dir, h, 1, p->offset, have ? msg.base + doff : NULL, have, len, more);
            break;
        }
        case SMB2_CLOSE: {
            pt_cur_skip(c, 2);
            uint16_t cflags = pt_cur_le16(c);
            pt_cur_skip(c, 4 + 8 + 8);
            uint64_t modified = pt_cur_le64(c);
            pt_cur_skip(c, 8 + 8);
            uint64_t eof = pt_cur_le64(c);
            struct smb_file *h = file_find(f, p->fid);
            if (h == NULL) {
                break;
            }
            if (ok && pt_cur_ok(c) && (cflags & 1u)) { /* SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB */
                h->rec.size = eof;
                h->rec.size_known = true;
                h->rec.modified_us = filetime_us(modified);
            } else if (h->io[0].next > 0) {
                h->rec.size_known = false; /* written to: the size at open no longer holds */
            }
            file_end(f, h);
            break;
        }
        default: break;
    }
    pending_clear(p);
}

/* One SMB2 message of a chain: `msg` views it from its header to the end of the buffered
 * bytes; `more` says the message continues past the buffer (only its data can follow). */
static void command(struct smb_flow *f, int dir, struct pt_cur msg, bool more)
{
    struct pt_cur c = msg;
    struct smb2_hdr hd;
    pt_cur_skip(&c, 8);
    hd.status = pt_cur_le32(&c);
    hd.cmd = pt_cur_le16(&c);
    pt_cur_skip(&c, 2);
    hd.flags = pt_cur_le32(&c);
    pt_cur_skip(&c, 4);
    hd.msg_id = pt_cur_le64(&c);
    pt_cur_skip(&c, 4);
    hd.tree = pt_cur_le32(&c);
    pt_cur_skip(&c, 8 + 16);
    if (!pt_cur_ok(&c)) {
        anomaly(f, PT_ANOM_SMB_SHORT_HEADER, "SMB2 message shorter than its header");
        return;
    }
    bool is_response = (hd.flags & SMB2_FLAG_RESPONSE) != 0;
    if (hd.flags & SMB2_FLAG_ASYNC) {
        hd.tree = 0;
    }
    if (is_response != (dir == 1)) {
        anomaly(f, PT_ANOM_SMB_WRONG_DIRECTION,
                "SMB2 request from the server or response from the client");
        return;
    }
    if (is_response) {
        response(f, dir, msg, &c, &hd, more);
    } else {
        request(f, dir, msg, &c, &hd, more);
    }
}

/* SMB1 ([MS-CIFS] §2.2.3.1): header of 32 bytes ("\xffSMB", command @4, status @5, flags @9
 * (0x80 reply), flags2 @10 (0x8000 Unicode), TID @24, PID @26, UID @28, MID @30), then
 * WordCount, words, ByteCount, bytes. AndX commands chain through their first four bytes.
 * Followed: TREE_CONNECT_ANDX, NT_CREATE_ANDX, READ_ANDX, WRITE_ANDX, CLOSE and the NTLMSSP
 * user of SESSION_SETUP_ANDX; file ids go into the same handle table as SMB2's (marked). */
enum {
    SMB1_CLOSE = 0x04,
    SMB1_READ_ANDX = 0x2e,
    SMB1_WRITE_ANDX = 0x2f,
    SMB1_SESSION_SETUP_ANDX = 0x73,
    SMB1_TREE_CONNECT_ANDX = 0x75,
    SMB1_NT_CREATE_ANDX = 0xa2,
};

static void smb1_fid(uint16_t fid, uint8_t out[16])
{
    memset(out, 0, 16);
    out[0] = (uint8_t)fid;
    out[1] = (uint8_t)(fid >> 8);
    out[15] = 0x01; /* not an SMB2 id */
}

/* A string in an SMB1 byte block at message offset `off`: UTF-16LE (aligned to an even
 * offset from the header) or ASCII, up to its terminator or the end of `lim`. */
static void smb1_string(const struct pt_cur *msg, size_t off, size_t lim, bool unicode, char *out,
                        size_t len)
{
    out[0] = '\0';
    if (unicode && (off & 1)) {
        off++;
    }
    if (off >= lim || lim > msg->len) {
        return;
    }
    const uint8_t *s = msg->base + off;
    size_t n = lim - off, k = 0;
    if (unicode) {
        while (k + 1 < n && (s[k] | s[k + 1]) != 0) {
            k += 2;
        }
        utf16(s, k, out, len);
        return;
    }
    while (k < n && s[k] != 0) {
        k++;
    }
    size_t j = 0;
    for (size_t i = 0; i < k && j + 1 < len; i++) {
        out[j++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    }
    out[j] = '\0';
}

/* One command of an SMB1 AndX chain. */
struct smb1_cmd {
    uint8_t cmd, wc;
    struct pt_cur w;            /* its parameter words */
    size_t bytes_at, bytes_end; /* its byte block in the message */
    uint64_t key;               /* the message id keys requests; chained commands get their
                                 * own slot number */
    uint16_t tid;
    uint32_t status;
    bool unicode;
};

/* A request; true when the chain stops here (a WRITE_ANDX's data follows). */
static bool smb1_request(struct smb_flow *f, int dir, struct pt_cur msg, const struct smb1_cmd *x,
                         bool more)
{
    uint8_t cmd = x->cmd, wc = x->wc;
    struct pt_cur w = x->w;
    size_t bytes_at = x->bytes_at, bytes_end = x->bytes_end;
    uint64_t key = x->key;
    uint16_t tid = x->tid;
    bool unicode = x->unicode;
    switch (cmd) {
        case SMB1_SESSION_SETUP_ANDX:
            if (bytes_end > bytes_at) {
                ntlmssp_user(f, msg.base + bytes_at, bytes_end - bytes_at);
            }
            break;
        case SMB1_TREE_CONNECT_ANDX: {
            struct pt_cur a = w;
            pt_cur_skip(&a, 6);
            uint16_t pwlen = pt_cur_le16(&a);
            char path[256];
            smb1_string(&msg, bytes_at + pwlen, bytes_end, unicode, path, sizeof path);
            struct smb_pending *p = pending_put(f, key, 0x100u | cmd, tid);
            if (p != NULL) {
                p->name = strdup(path);
            }
            break;
        }
        case SMB1_NT_CREATE_ANDX: {
            char name[512];
            smb1_string(&msg, bytes_at, bytes_end, unicode, name, sizeof name);
            struct smb_pending *p = pending_put(f, key, 0x100u | cmd, tid);
            if (p != NULL) {
                p->name = strdup(name[0] ? name : "<share root>");
            }
            break;
        }
        case SMB1_READ_ANDX: {
            struct pt_cur a = w;
            pt_cur_skip(&a, 4);
            uint16_t fid = pt_cur_le16(&a);
            uint64_t off = pt_cur_le32(&a);
            if (wc >= 12) {
                pt_cur_skip(&a, 10);
                off |= (uint64_t)pt_cur_le32(&a) << 32;
            }
            struct smb_pending *p = pending_put(f, key, 0x100u | cmd, tid);
            if (p != NULL) {
                smb1_fid(fid, p->fid);
                p->offset = off;
            }
            break;
        }
        case SMB1_WRITE_ANDX: {
            struct pt_cur a = w;
            pt_cur_skip(&a, 4);
            uint16_t fid = pt_cur_le16(&a);
            uint64_t off = pt_cur_le32(&a);
            pt_cur_skip(&a, 8);
            uint32_t len = (uint32_t)pt_cur_le16(&a) << 16; /* DataLengthHigh */
            len |= pt_cur_le16(&a);
            uint16_t doff = pt_cur_le16(&a);
            if (wc >= 14) {
                off |= (uint64_t)pt_cur_le32(&a) << 32;
            }
            if (!pt_cur_ok(&a) || doff < 32) {
                anomaly(f, PT_ANOM_SMB_SHORT_COMMAND,
                        "WRITE_ANDX shorter than its structure");
                return true;
            }
            uint8_t id[16];
            smb1_fid(fid, id);
            struct smb_file *hf = file_for_io(f, id, tid);
            size_t have = msg.len > doff ? msg.len - doff : 0;
            if (have > len) {
                have = len;
            }
            data_begin(f, dir, hf, 0, off, have ? msg.base + doff : NULL, have, len, more);
            return true; /* data follows: nothing chains after it here */
        }
        case SMB1_CLOSE: {
            struct pt_cur a = w;
            uint16_t fid = pt_cur_le16(&a);
            struct smb_pending *p = pending_put(f, key, 0x100u | cmd, tid);
            if (p != NULL && pt_cur_ok(&a)) {
                smb1_fid(fid, p->fid);
            }
            break;
        }
        default: break;
    }
    return false;
}

/* An NT_CREATE_ANDX response: a new handle with its share, name, action, times and size. */
static void smb1_create_response(struct smb_flow *f, const struct smb1_cmd *x,
                                 struct smb_pending *p, bool ok)
{
    struct pt_cur a = x->w;
    pt_cur_skip(&a, 5);
    uint16_t fid = pt_cur_le16(&a);
    uint32_t action = pt_cur_le32(&a);
    uint64_t created = pt_cur_le64(&a);
    pt_cur_skip(&a, 8);
    uint64_t modified = pt_cur_le64(&a);
    pt_cur_skip(&a, 8 + 4 + 8);
    uint64_t eof = pt_cur_le64(&a);
    pt_cur_skip(&a, 4);
    uint8_t is_dir = pt_cur_u8(&a);
    if (!ok || !pt_cur_ok(&a)) {
        return;
    }
    uint8_t id[16];
    smb1_fid(fid, id);
    struct smb_file *old = file_find(f, id);
    if (old != NULL) {
        file_end(f, old);
    }
    struct smb_file *hf = file_new(f, id, p->item, p->frame, p->ts_us);
    if (hf == NULL) {
        return;
    }
    snprintf(hf->rec.share, sizeof hf->rec.share, "%s", tree_path(f, p->tree));
    hf->rec.is_pipe = is_ipc(hf->rec.share);
    snprintf(hf->rec.name, sizeof hf->rec.name, "%s", p->name ? p->name : "");
    static const char *const actions[] = {"superseded", "opened", "created",
                                          "overwritten"};
    snprintf(hf->rec.action, sizeof hf->rec.action, "%s",
             action < 4 ? actions[action] : "other");
    hf->rec.is_dir = is_dir != 0;
    hf->rec.size = eof;
    hf->rec.size_known = true;
    hf->rec.created_us = filetime_us(created);
    hf->rec.modified_us = filetime_us(modified);
}

/* A response, completing the request waiting under its key; true when the chain stops here
 * (a READ_ANDX's data follows). */
static bool smb1_response(struct smb_flow *f, int dir, struct pt_cur msg, const struct smb1_cmd *x,
                          bool more)
{
    uint8_t cmd = x->cmd;
    struct pt_cur w = x->w;
    uint16_t tid = x->tid;
    struct smb_pending *p = pending_get(f, x->key, 0x100u | cmd);
    if (p == NULL) {
        return false;
    }
    bool ok = x->status == 0 || (cmd == SMB1_READ_ANDX && x->status == 0x80000005u);
    switch (cmd) {
        case SMB1_TREE_CONNECT_ANDX:
            if (ok && p->name != NULL) {
                tree_add(f, tid, p->name);
                p->name = NULL;
            }
            break;
        case SMB1_NT_CREATE_ANDX:
            smb1_create_response(f, x, p, ok);
            break;
        case SMB1_READ_ANDX: {
            struct pt_cur a = w;
            pt_cur_skip(&a, 10);
            uint32_t len = pt_cur_le16(&a);
            uint16_t doff = pt_cur_le16(&a);
            len |= (uint32_t)pt_cur_le16(&a) << 16;
            if (!ok || !pt_cur_ok(&a)) {
                break;
            }
            if (doff < 32 && len > 0) {
                anomaly(f, PT_ANOM_SMB_SHORT_COMMAND,
                        "READ_ANDX data offset inside the header");
                break;
            }
            struct smb_file *hf = file_for_io(f, p->fid, p->tree);
            size_t have = msg.len > doff ? msg.len - doff : 0;
            if (have > len) {
                have = len;
            }
            data_begin(f, dir, hf, 1, p->offset, have ? msg.base + doff : NULL, have,
                       len, more);
            pending_clear(p);
            return true;
        }
        case SMB1_CLOSE: {
            struct smb_file *hf = file_find(f, p->fid);
            if (hf != NULL) {
                if (hf->io[0].next > 0) {
                    hf->rec.size_known = false;
                }
                file_end(f, hf);
            }
            break;
        }
        default: break;
    }
    pending_clear(p);
    return false;
}

static void smb1_message(struct smb_flow *f, int dir, struct pt_cur msg, bool more)
{
    struct pt_cur h = msg;
    struct smb1_cmd x;
    memset(&x, 0, sizeof x);
    pt_cur_skip(&h, 4);
    x.cmd = pt_cur_u8(&h);
    x.status = pt_cur_le32(&h);
    uint8_t flags = pt_cur_u8(&h);
    uint16_t flags2 = pt_cur_le16(&h);
    pt_cur_skip(&h, 12);
    x.tid = pt_cur_le16(&h);
    pt_cur_skip(&h, 4);
    uint16_t mid = pt_cur_le16(&h);
    if (!pt_cur_ok(&h)) {
        anomaly(f, PT_ANOM_SMB_SHORT_HEADER, "SMB1 message shorter than its header");
        return;
    }
    bool response = (flags & 0x80u) != 0;
    x.unicode = (flags2 & 0x8000u) != 0;
    if (response != (dir == 1)) {
        anomaly(f, PT_ANOM_SMB_WRONG_DIRECTION,
                "SMB request from the server or response from the client");
        return;
    }
    size_t at = 32;
    for (unsigned k = 0; k < 8; k++) {
        struct pt_cur c = msg;
        pt_cur_skip(&c, at);
        x.wc = pt_cur_u8(&c);
        pt_cur_sub(&c, (size_t)x.wc * 2, &x.w);
        uint16_t bc = pt_cur_le16(&c);
        x.bytes_at = c.off;
        x.bytes_end = x.bytes_at + bc <= msg.len ? x.bytes_at + bc : msg.len;
        if (!pt_cur_ok(&x.w)) {
            if (!more) {
                anomaly(f, PT_ANOM_SMB_SHORT_COMMAND, "SMB1 parameter words past the message end");
            }
            return;
        }
        uint8_t cmd = x.cmd;
        bool andx = cmd == SMB1_READ_ANDX || cmd == SMB1_WRITE_ANDX ||
                    cmd == SMB1_SESSION_SETUP_ANDX || cmd == SMB1_TREE_CONNECT_ANDX ||
                    cmd == SMB1_NT_CREATE_ANDX;
        uint8_t next_cmd = 0xff;
        uint16_t next_off = 0;
        if (andx && x.wc >= 2) {
            struct pt_cur a = x.w;
            next_cmd = pt_cur_u8(&a);
            pt_cur_skip(&a, 1);
            next_off = pt_cur_le16(&a);
        }
        x.key = ((uint64_t)mid << 4) | k;
        if (response ? smb1_response(f, dir, msg, &x, more) : smb1_request(f, dir, msg, &x, more)) {
            return;
        }
        if (!andx || next_cmd == 0xff || next_off <= at || next_off >= msg.len) {
            return;
        }
        x.cmd = next_cmd;
        at = next_off;
    }
}

/* A buffered message (or the head of one that goes on, `more`). */
static void message(struct smb_flow *f, int dir, const uint8_t *p, size_t n, bool more)
{
    if (n < 4) {
        anomaly(f, PT_ANOM_SMB_SHORT_MESSAGE, "NetBIOS message too short for SMB");
        return;
    }
    if (p[0] == 0xfd && memcmp(p + 1, "SMB", 3) == 0) {
        if (!f->said_encrypted) {
            f->said_encrypted = true;
            anomaly(f, PT_ANOM_SMB_ENCRYPTED,
                    "SMB3 encrypted messages: file names and content unreadable");
        }
        return;
    }
    if (p[0] == 0xfc && memcmp(p + 1, "SMB", 3) == 0) {
        if (!f->said_compressed) {
            f->said_compressed = true;
            anomaly(f, PT_ANOM_SMB_COMPRESSED, "SMB3 compressed messages are not decompressed");
        }
        return;
    }
    if (p[0] == 0xff && memcmp(p + 1, "SMB", 3) == 0) {
        smb1_message(f, dir, pt_cur_make(p, n), more);
        return;
    }
    if (p[0] != 0xfe || memcmp(p + 1, "SMB", 3) != 0) {
        anomaly(f, PT_ANOM_SMB_BAD_MAGIC, "NetBIOS message that is not SMB");
        return;
    }
    memset(f->last_fid, 0xff, 16);
    size_t at = 0;
    for (unsigned k = 0; k < 256; k++) {
        struct pt_cur c = pt_cur_make(p + at, n - at);
        pt_cur_skip(&c, 20);
        uint32_t next = pt_cur_le32(&c);
        if (!pt_cur_ok(&c) || memcmp(p + at, "\xfeSMB", 4) != 0) {
            anomaly(f, PT_ANOM_SMB_BAD_CHAIN, "compound SMB2 message with a broken chain");
            return;
        }
        size_t len = next != 0 && next <= n - at ? next : n - at;
        command(f, dir, pt_cur_make(p + at, len), more && next == 0);
        if (next == 0) {
            return;
        }
        if (next < SMB2_HDR || next > n - at || (next & 7) != 0) {
            if (!more || next < SMB2_HDR) {
                anomaly(f, PT_ANOM_SMB_BAD_CHAIN, "compound SMB2 NextCommand outside the message");
            }
            return;
        }
        at += next;
    }
}

static void smb_data(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                     const struct pt_flow_pkt *pkt)
{
    (void)off;
    struct smb_flow *f = st;
    struct smb_dir *d = &f->d[dir];
    f->pkt = pkt;
    while (n > 0) {
        switch (d->st) {
            case SS_DEAD:
                return;
            case SS_NB: {
                size_t k = 4 - d->nb_len < n ? 4 - d->nb_len : n;
                memcpy(d->nb + d->nb_len, p, k);
                d->nb_len += k;
                p += k;
                n -= k;
                if (d->nb_len < 4) {
                    return;
                }
                d->nb_len = 0;
                uint32_t len = ((uint32_t)d->nb[1] << 16) | ((uint32_t)d->nb[2] << 8) | d->nb[3];
                if (d->nb[0] != 0x00) {
                    /* NetBIOS session request/response/keepalive (RFC 1002 §4.3) */
                    if (d->nb[0] == 0x81 || d->nb[0] == 0x82 || d->nb[0] == 0x83 ||
                        d->nb[0] == 0x84 || d->nb[0] == 0x85) {
                        d->msg_left = len;
                        d->st = len > 0 ? SS_SKIP : SS_NB;
                        continue;
                    }
                    anomaly(f, PT_ANOM_SMB_BAD_FRAMING,
                            "unknown NetBIOS session packet; decoding stops");
                    d->st = SS_DEAD;
                    return;
                }
                if (len == 0) {
                    continue;
                }
                d->msg_left = len;
                d->buf_len = 0;
                d->buf_want = len < PT_SMB_MSG_BUFFER ? len : PT_SMB_MSG_BUFFER;
                d->sink_left = 0;
                d->st = SS_MSG;
                continue;
            }
            case SS_MSG: {
                size_t k = d->buf_want - d->buf_len < n ? d->buf_want - d->buf_len : n;
                if (!pt_buf_reserve(&d->buf, &d->buf_cap, d->buf_len + k, PT_SMB_MSG_BUFFER)) {
                    d->st = SS_DEAD;
                    return;
                }
                memcpy(d->buf + d->buf_len, p, k);
                d->buf_len += k;
                d->msg_left -= (uint32_t)k;
                p += k;
                n -= k;
                if (d->buf_len < d->buf_want) {
                    return;
                }
                message(f, dir, d->buf, d->buf_len, d->msg_left > 0);
                if (d->msg_left == 0) {
                    d->st = SS_NB;
                } else {
                    d->st = d->sink_left > 0 ? SS_STREAM : SS_SKIP;
                }
                continue;
            }
            case SS_STREAM: {
                size_t k = d->sink_left < n ? d->sink_left : n;
                if (d->sink != NULL) {
                    io_data(f, d->sink, d->sink_io, d->sink_off, p, k);
                }
                d->sink_off += k;
                d->sink_left -= (uint32_t)k;
                d->msg_left -= (uint32_t)k;
                p += k;
                n -= k;
                if (d->sink_left == 0) {
                    d->st = d->msg_left > 0 ? SS_SKIP : SS_NB;
                }
                continue;
            }
            case SS_SKIP: {
                size_t k = d->msg_left < n ? d->msg_left : n;
                d->msg_left -= (uint32_t)k;
                p += k;
                n -= k;
                if (d->msg_left == 0) {
                    d->st = SS_NB;
                }
                continue;
            }
        }
    }
}

static void smb_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    (void)off;
    struct smb_flow *f = st;
    struct smb_dir *d = &f->d[dir];
    f->pkt = NULL;
    if (d->st == SS_STREAM && n <= d->sink_left) {
        /* a hole inside file data: the object is partial, framing survives */
        if (d->sink != NULL) {
            io_data(f, d->sink, d->sink_io, d->sink_off, NULL, (size_t)n);
        }
        d->sink_off += n;
        d->sink_left -= (uint32_t)n;
        d->msg_left -= (uint32_t)n;
        if (d->sink_left == 0) {
            d->st = d->msg_left > 0 ? SS_SKIP : SS_NB;
        }
        return;
    }
    if ((d->st == SS_SKIP || d->st == SS_MSG) && n <= d->msg_left) {
        if (d->st == SS_MSG) {
            anomaly(f, PT_ANOM_SMB_GAP_IN_MESSAGE, "a capture gap hid an SMB2 message header");
        }
        d->msg_left -= (uint32_t)n;
        d->st = d->msg_left > 0 ? SS_SKIP : SS_NB;
        return;
    }
    if (d->st != SS_DEAD) {
        anomaly(f, PT_ANOM_SMB_GAP_LOST_FRAMING, "a capture gap broke the NetBIOS framing");
    }
    d->st = SS_DEAD;
}

static void smb_close(void *st)
{
    struct smb_flow *f = st;
    f->pkt = NULL;
    while (f->n_files > 0) {
        file_end(f, f->files[f->n_files - 1]);
    }
    free(f->files);
    if (f->pend != NULL) {
        for (size_t i = 0; i < PT_SMB_MAX_PENDING; i++) {
            free(f->pend[i].name);
        }
        free(f->pend);
    }
    for (size_t i = 0; i < f->n_trees; i++) {
        free(f->trees[i].path);
    }
    for (int dir = 0; dir < 2; dir++) {
        free(f->d[dir].buf);
    }
    free(f);
}

/* The buffers, the pending-request slots and the handle table (names and paths aside). */
static size_t smb_mem(const void *st)
{
    const struct smb_flow *f = st;
    size_t n = f->d[0].buf_cap + f->d[1].buf_cap;
    if (f->pend != NULL) {
        n += PT_SMB_MAX_PENDING * sizeof *f->pend;
    }
    if (f->files != NULL) {
        n += PT_SMB_MAX_FILES * sizeof *f->files + f->n_files * sizeof(struct smb_file);
    }
    return n;
}

const struct pt_app_proto pt_app_smb = {
    .name = "smb",
    .probe = smb_probe,
    .open = smb_open,
    .data = smb_data,
    .gap = smb_gap,
    .close = smb_close,
    .datagram = NULL,
    .state_size = sizeof(struct smb_flow),
    .mem = smb_mem,
};
