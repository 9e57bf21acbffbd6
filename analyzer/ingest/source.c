/*
 * source.c - hashing, optionally inflating, read-only file source (see source.h).
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>
#include <zlib.h>

#include "../core/queue.h"

#define RAW_CHUNK (1u << 20)
/* Raw buffers in flight: the reader decodes one while the hasher thread digests others, so
 * SHA-256 (about half the cost of a plain decode pass) runs on the other core. */
#define RAW_BUFS 4

struct rawbuf {
    uint8_t *data;
    size_t n;
};

struct pt_source {
    int fd;
    struct pt_sha256 *sha;     /* owned by the hasher thread while it runs */
    struct pt_sha256 *whole;   /* not owned: also fed every raw byte, or NULL */
    struct rawbuf bufs[RAW_BUFS];
    struct pt_queue free_q;    /* buffers the reader may fill */
    struct pt_queue hash_q;    /* buffers filled, waiting for the hasher */
    pthread_t hasher;
    bool hasher_started;
    bool digested;            /* pt_source_digest finished the hash into digest_hex */
    char digest_hex[PT_SHA256_HEX];
    _Atomic uint64_t *progress;
    uint64_t raw_total;       /* raw bytes read and hashed */
    uint8_t *raw;             /* data of the buffer being consumed (borrowed from bufs) */
    size_t raw_len, raw_off;  /* unconsumed raw bytes raw[raw_off..raw_len) */
    bool raw_eof;
    bool gzip;
    z_stream z;
    bool z_init, z_end, z_err;
    const char *z_why;
    uint8_t head[8];          /* first content bytes, for the kind */
    size_t head_len;
    uint8_t *pend;            /* inflated bytes produced while peeking */
    size_t pend_len, pend_off;
    FILE *stream;
    bool stream_open;
    uint64_t delivered;       /* bytes handed to the consumer */
    uint8_t *first;           /* the first raw chunk (borrowed from bufs), for pt_source_raw */
    size_t first_len;
    bool raw_mode;            /* pt_source_raw has started: first chunk served from offset 0 */
    struct stat at_open;      /* size and mtime when opened, to see a file changed meanwhile */
};

static void *hasher_main(void *arg)
{
    struct pt_source *s = arg;
    struct rawbuf *b;
    while ((b = pt_queue_pop(&s->hash_q)) != NULL) {
        pt_sha256_update(s->sha, b->data, b->n);
        if (s->whole != NULL) {
            pt_sha256_update(s->whole, b->data, b->n);
        }
        pt_queue_push(&s->free_q, b);
    }
    return NULL;
}

/* Read the next raw chunk into a free buffer and hand it to the hasher at once; the reader
 * keeps consuming it (both only read it) until it asks for the next chunk. */
static ssize_t raw_fill(struct pt_source *s)
{
    if (s->raw_eof) {
        return 0;
    }
    struct rawbuf *b = pt_queue_pop(&s->free_q);
    if (b == NULL) {
        return -1;
    }
    ssize_t n;
    do {
        n = read(s->fd, b->data, RAW_CHUNK);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        pt_queue_push(&s->free_q, b);
        if (n == 0) {
            s->raw_eof = true;
            s->raw_len = s->raw_off = 0;
        }
        return n < 0 ? -1 : 0;
    }
    b->n = (size_t)n;
    s->raw = b->data;
    pt_queue_push(&s->hash_q, b);
    s->raw_total += (uint64_t)n;
    if (s->progress != NULL) {
        atomic_fetch_add_explicit(s->progress, (uint64_t)n, memory_order_relaxed);
    }
    s->raw_len = (size_t)n;
    s->raw_off = 0;
    return n;
}

/* Inflate into out[0..cap); returns bytes produced, 0 at end or error (z_err set). */
static size_t inflate_some(struct pt_source *s, uint8_t *out, size_t cap)
{
    size_t produced = 0;
    while (produced < cap && !s->z_end && !s->z_err) {
        if (s->raw_off == s->raw_len) {
            ssize_t n = raw_fill(s);
            if (n < 0) {
                s->z_err = true;
                s->z_why = "read error";
                break;
            }
            if (n == 0) {
                s->z_err = true;
                s->z_why = "compressed stream ends early (truncated .gz)";
                break;
            }
        }
        s->z.next_in = s->raw + s->raw_off;
        s->z.avail_in = (uInt)(s->raw_len - s->raw_off);
        s->z.next_out = out + produced;
        s->z.avail_out = (uInt)(cap - produced);
        int r = inflate(&s->z, Z_NO_FLUSH);
        size_t used = (s->raw_len - s->raw_off) - s->z.avail_in;
        s->raw_off += used;
        produced = cap - s->z.avail_out;
        if (r == Z_STREAM_END) {
            /* Concatenated members (RFC 1952 §2.2): continue when more gzip follows. */
            if (s->raw_off == s->raw_len && raw_fill(s) <= 0) {
                s->z_end = true;
            } else if (s->raw_len - s->raw_off >= 2 && s->raw[s->raw_off] == 0x1f &&
                       s->raw[s->raw_off + 1] == 0x8b) {
                inflateReset(&s->z);
            } else {
                s->z_end = true; /* trailing garbage after the last member is left unread */
            }
        } else if (r != Z_OK && r != Z_BUF_ERROR) {
            s->z_err = true;
            s->z_why = s->z.msg ? s->z.msg : "corrupt compressed data";
        } else if (r == Z_BUF_ERROR && used == 0 && produced < cap && s->raw_eof) {
            s->z_err = true;
            s->z_why = "compressed stream ends early (truncated .gz)";
        }
    }
    return produced;
}

static ssize_t cookie_read(void *cookie, char *buf, size_t size)
{
    struct pt_source *s = cookie;
    size_t got = 0;
    if (s->pend_off < s->pend_len) {
        size_t n = s->pend_len - s->pend_off;
        if (n > size) {
            n = size;
        }
        memcpy(buf, s->pend + s->pend_off, n);
        s->pend_off += n;
        got = n;
    }
    if (s->gzip) {
        got += inflate_some(s, (uint8_t *)buf + got, size - got);
    } else {
        if (got < size && s->raw_off < s->raw_len) {
            size_t n = s->raw_len - s->raw_off;
            if (n > size - got) {
                n = size - got;
            }
            memcpy(buf + got, s->raw + s->raw_off, n);
            s->raw_off += n;
            got += n;
        }
        while (got == 0 && !s->raw_eof) {
            ssize_t n = raw_fill(s);
            if (n < 0) {
                return -1;
            }
            if (n == 0) {
                break;
            }
            size_t take = (size_t)n < size ? (size_t)n : size;
            memcpy(buf, s->raw, take);
            s->raw_off = take;
            got = take;
        }
    }
    s->delivered += got;
    return (ssize_t)got;
}

static int cookie_close(void *cookie)
{
    struct pt_source *s = cookie;
    s->stream_open = false;
    return 0;
}

pt_status pt_source_open(const char *path, _Atomic uint64_t *progress, struct pt_source **out,
                         char *err, size_t errlen)
{
    return pt_source_open_hashing(path, progress, NULL, out, err, errlen);
}

int64_t pt_source_mtime_us(const struct pt_source *s)
{
    return (int64_t)s->at_open.st_mtim.tv_sec * 1000000 + s->at_open.st_mtim.tv_nsec / 1000;
}

pt_status pt_source_open_hashing(const char *path, _Atomic uint64_t *progress,
                                 struct pt_sha256 *whole, struct pt_source **out, char *err,
                                 size_t errlen)
{
    *out = NULL;
    struct pt_source *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return PT_ENOMEM;
    }
    s->whole = whole;
    s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (s->fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        free(s);
        return PT_EIO;
    }
    if (fstat(s->fd, &s->at_open) != 0) {
        memset(&s->at_open, 0, sizeof s->at_open);
    }
    s->progress = progress;
    s->sha = pt_sha256_new();
    bool ok = s->sha != NULL && pt_queue_init(&s->free_q, RAW_BUFS + 1) == PT_OK &&
              pt_queue_init(&s->hash_q, RAW_BUFS + 1) == PT_OK;
    for (int i = 0; ok && i < RAW_BUFS; i++) {
        s->bufs[i].data = malloc(RAW_CHUNK);
        ok = s->bufs[i].data != NULL;
        if (ok) {
            pt_queue_push(&s->free_q, &s->bufs[i]);
        }
    }
    if (ok) {
        ok = pthread_create(&s->hasher, NULL, hasher_main, s) == 0;
        s->hasher_started = ok;
    }
    if (!ok) {
        pt_source_close(s, NULL, NULL, NULL);
        return PT_ENOMEM;
    }
    if (raw_fill(s) < 0) {
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        pt_source_close(s, NULL, NULL, NULL);
        return PT_EIO;
    }
    s->first = s->raw;
    s->first_len = s->raw_len;
    if (s->raw_len >= 2 && s->raw[0] == 0x1f && s->raw[1] == 0x8b) {
        s->gzip = true;
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
            pt_source_close(s, NULL, NULL, NULL);
            return PT_ENOMEM;
        }
        s->z_init = true;
        s->pend = malloc(64 * 1024);
        if (s->pend == NULL) {
            pt_source_close(s, NULL, NULL, NULL);
            return PT_ENOMEM;
        }
        s->pend_len = inflate_some(s, s->pend, 64 * 1024);
        s->head_len = s->pend_len < sizeof s->head ? s->pend_len : sizeof s->head;
        memcpy(s->head, s->pend, s->head_len);
    } else {
        s->head_len = s->raw_len < sizeof s->head ? s->raw_len : sizeof s->head;
        if (s->head_len > 0) { /* an empty file has no buffer yet */
            memcpy(s->head, s->raw, s->head_len);
        }
    }
    *out = s;
    return PT_OK;
}

bool pt_source_gzip(const struct pt_source *s)
{
    return s->gzip;
}

bool pt_source_gzip_error(const struct pt_source *s, const char **why)
{
    if (why != NULL) {
        *why = s->z_why;
    }
    return s->z_err;
}

enum pt_input_kind pt_source_kind(const struct pt_source *s)
{
    if (s->head_len < 4) {
        return PT_KIND_UNKNOWN;
    }
    uint32_t le = (uint32_t)s->head[0] | ((uint32_t)s->head[1] << 8) |
                  ((uint32_t)s->head[2] << 16) | ((uint32_t)s->head[3] << 24);
    switch (le) {
        case 0xa1b2c3d4u: /* pcap, microseconds, either byte order */
        case 0xd4c3b2a1u:
            return PT_KIND_PCAP;
        case 0xa1b23c4du: /* pcap, nanoseconds */
        case 0x4d3cb2a1u:
            return PT_KIND_PCAP_NS;
        case 0x0a0d0d0au: /* pcapng section header block */
            return PT_KIND_PCAPNG;
        default:
            return PT_KIND_UNKNOWN;
    }
}

FILE *pt_source_stream(struct pt_source *s)
{
    if (s->stream == NULL) {
        cookie_io_functions_t io = {.read = cookie_read, .close = cookie_close};
        s->stream = fopencookie(s, "r", io);
        if (s->stream != NULL) {
            s->stream_open = true;
            setvbuf(s->stream, NULL, _IOFBF, 1u << 20);
        }
    }
    return s->stream;
}

ssize_t pt_source_raw(struct pt_source *s, uint8_t *buf, size_t cap)
{
    if (!s->raw_mode) {
        /* The kind was found from the first chunk; a gzip peek may have read past it, and
         * then those bytes are gone from the buffers (never the case below 64 KiB of
         * content per MiB of input, which deflate cannot undercut). */
        if (s->stream_open || s->raw_total != s->first_len) {
            errno = EINVAL;
            return -1;
        }
        s->raw_mode = true;
        s->raw = s->first;
        s->raw_len = s->first_len;
        s->raw_off = 0;
    }
    if (s->raw_off == s->raw_len) {
        ssize_t n = raw_fill(s);
        if (n <= 0) {
            return n;
        }
    }
    size_t n = s->raw_len - s->raw_off < cap ? s->raw_len - s->raw_off : cap;
    memcpy(buf, s->raw + s->raw_off, n);
    s->raw_off += n;
    return (ssize_t)n;
}

bool pt_source_changed(const struct pt_source *s, char *why, size_t len)
{
    struct stat now;
    if (s->fd < 0 || fstat(s->fd, &now) != 0) {
        return false;
    }
    if (now.st_size != s->at_open.st_size || now.st_mtim.tv_sec != s->at_open.st_mtim.tv_sec ||
        now.st_mtim.tv_nsec != s->at_open.st_mtim.tv_nsec) {
        snprintf(why, len, "size %lld and mtime %lld.%09ld when opened, size %lld and mtime "
                 "%lld.%09ld after reading %llu bytes",
                 (long long)s->at_open.st_size, (long long)s->at_open.st_mtim.tv_sec,
                 s->at_open.st_mtim.tv_nsec, (long long)now.st_size, (long long)now.st_mtim.tv_sec,
                 now.st_mtim.tv_nsec, (unsigned long long)s->raw_total);
        return true;
    }
    return false;
}

void pt_source_stream_closed(struct pt_source *s)
{
    s->stream = NULL;
    s->stream_open = false;
}

bool pt_source_digest(struct pt_source *s, char hex[PT_SHA256_HEX])
{
    if (!s->raw_eof || !s->hasher_started || !s->raw_mode || s->raw_off != s->raw_len) {
        return false;
    }
    if (!s->digested) {
        pt_queue_close(&s->hash_q); /* the hasher drains what is queued, then stops */
        pthread_join(s->hasher, NULL);
        s->hasher_started = false;
        uint8_t dig[PT_SHA256_LEN];
        pt_sha256_final(s->sha, dig);
        pt_hex(dig, sizeof dig, s->digest_hex);
        s->digested = true;
    }
    memcpy(hex, s->digest_hex, PT_SHA256_HEX);
    return true;
}

pt_status pt_source_close(struct pt_source *s, char hex[PT_SHA256_HEX], uint64_t *size,
                          uint64_t *unread)
{
    if (s == NULL) {
        return PT_OK;
    }
    pt_status rc = PT_OK;
    if (s->stream != NULL && s->stream_open) {
        fclose(s->stream);
    }
    uint64_t before = s->raw_total - (s->raw_len - s->raw_off);
    if (s->fd >= 0 && s->hasher_started && hex != NULL) {
        for (;;) {
            ssize_t n = raw_fill(s);
            if (n < 0) {
                rc = PT_EIO;
                break;
            }
            if (n == 0) {
                break;
            }
        }
    }
    if (s->hasher_started) {
        pt_queue_close(&s->hash_q); /* the hasher drains what is queued, then stops */
        pthread_join(s->hasher, NULL);
    }
    if (s->digested && hex != NULL) {
        memcpy(hex, s->digest_hex, PT_SHA256_HEX);
    } else if (s->hasher_started && hex != NULL) {
        uint8_t dig[PT_SHA256_LEN];
        pt_sha256_final(s->sha, dig);
        pt_hex(dig, sizeof dig, hex);
    }
    if (size != NULL) {
        *size = s->raw_total;
    }
    if (unread != NULL) {
        /* Raw bytes never consumed by the decoder (gzip: compressed bytes). */
        *unread = s->raw_total - before;
    }
    if (s->z_init) {
        inflateEnd(&s->z);
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    pt_sha256_free(s->sha);
    for (int i = 0; i < RAW_BUFS; i++) {
        free(s->bufs[i].data);
    }
    pt_queue_fini(&s->free_q);
    pt_queue_fini(&s->hash_q);
    free(s->pend);
    free(s);
    return rc;
}
