/*
 * ssh.c - SSH (RFC 4253), known by its protocol version exchange: each side opens with
 * "SSH-protoversion-softwareversion [comments]" CR LF (§4.2); a server may send other lines
 * first. Everything after the exchange and the key exchange is encrypted, so the stream is
 * not stored: the version strings name the software at both ends (a scripted client such as
 * paramiko or AsyncSSH, an SFTP tool), the flow carries the bytes, and the verdict counts
 * them as encrypted. One ssh_session row per connection.
 *
 * Trust boundary: the first bytes of each direction, at most SSH_SCAN_BYTES of them, are
 * read; lines are gathered into a bounded buffer and stored with non-printable bytes
 * escaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cursor.h"
#include "app.h"

/* RFC 4253 §4.2: the version line is at most 255 bytes with CR LF; the lines a server may
 * send before it are not bounded there, so the search stops after this many bytes. */
#define SSH_LINE_MAX 255
#define SSH_SCAN_BYTES 4096

struct ssh_dir {
    char line[SSH_LINE_MAX + 1];
    size_t len;
    uint64_t seen;  /* bytes of this direction looked at */
    bool done;      /* version found, or the search gave up */
    bool found;
};

struct ssh_flow {
    struct pt_app_ctx *ctx;
    struct pt_ssh_rec rec;
    bool have_prov;
    struct ssh_dir d[2];
};

static bool ssh_probe(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                      uint16_t sport)
{
    (void)cport, (void)sport;
    if (transport != 6 || n < 4) {
        return false;
    }
    if (memcmp(p, "SSH-", 4) == 0) {
        return true;
    }
    /* a server may send lines before its version string (§4.2) */
    size_t scan = n < SSH_SCAN_BYTES ? n : SSH_SCAN_BYTES;
    return dir == 1 && memmem(p, scan, "\nSSH-", 5) != NULL;
}

static void *ssh_open(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec)
{
    struct ssh_flow *f = calloc(1, sizeof *f);
    if (f != NULL) {
        f->ctx = ctx;
        f->rec.flow_id = rec->id;
        f->rec.item = rec->item;
        f->rec.ts_us = rec->first_ts;
    }
    return f;
}

/* The line as text: printable ASCII kept, anything else as \xNN, cut to fit `out`. */
static void escape(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
            out[o++] = (char)ch;
        } else {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
        }
    }
    out[o] = '\0';
}

/* A complete line of direction `dir`: the version string, or a line to skip. */
static void ssh_line(struct ssh_flow *f, int dir, const struct pt_flow_pkt *pkt)
{
    struct ssh_dir *d = &f->d[dir];
    size_t n = d->len;
    while (n > 0 && (d->line[n - 1] == '\r' || d->line[n - 1] == '\n')) {
        n--;
    }
    if (n >= 4 && memcmp(d->line, "SSH-", 4) == 0) {
        d->done = d->found = true;
        escape(d->line, n, dir == 0 ? f->rec.client : f->rec.server, sizeof f->rec.client);
        if (!f->have_prov && pkt != NULL) {
            f->have_prov = true;
            f->rec.item = pkt->item;
            f->rec.frame = pkt->frame;
            f->rec.ts_us = pkt->ts_us;
        }
    } else if (dir == 0) {
        d->done = true; /* only a server may send lines before its version (§4.2) */
        pt_app_anomaly(f->ctx, pkt, f->rec.item, PT_ANOM_SSH_BAD_VERSION,
                       "the client's first line is not an SSH version string");
    }
    d->len = 0;
}

static void ssh_data(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                     const struct pt_flow_pkt *pkt)
{
    (void)off;
    struct ssh_flow *f = st;
    struct ssh_dir *d = &f->d[dir];
    struct pt_cur c = pt_cur_make(p, n);
    while (!d->done && pt_cur_left(&c) > 0) {
        if (d->seen++ >= SSH_SCAN_BYTES) {
            d->done = true;
            pt_app_anomaly(f->ctx, pkt, f->rec.item, PT_ANOM_SSH_BAD_VERSION,
                           "no SSH version string in the first 4096 bytes");
            break;
        }
        uint8_t ch = pt_cur_u8(&c);
        if (d->len < SSH_LINE_MAX) {
            d->line[d->len++] = (char)ch;
        } else if (ch != '\n') {
            continue; /* an over-long line: its head is kept, the rest skipped */
        }
        if (ch == '\n') {
            ssh_line(f, dir, pkt);
        }
    }
}

static void ssh_gap(void *st, int dir, uint64_t off, uint64_t n)
{
    (void)off, (void)n;
    struct ssh_flow *f = st;
    f->d[dir].done = true; /* a hole in the exchange: what follows cannot be placed */
}

static void ssh_close(void *st)
{
    struct ssh_flow *f = st;
    for (int dir = 0; dir < 2; dir++) {
        struct ssh_dir *d = &f->d[dir];
        if (!d->done && d->len >= 4 && memcmp(d->line, "SSH-", 4) == 0) {
            ssh_line(f, dir, NULL); /* the capture ends inside the version line */
        }
    }
    if (f->d[0].found || f->d[1].found) {
        pt_emit_ssh(f->ctx, &f->rec);
    }
    free(f);
}

const struct pt_app_proto pt_app_ssh = {
    .name = "ssh",
    .probe = ssh_probe,
    .open = ssh_open,
    .data = ssh_data,
    .gap = ssh_gap,
    .close = ssh_close,
    .datagram = NULL,
    .state_size = sizeof(struct ssh_flow),
};
