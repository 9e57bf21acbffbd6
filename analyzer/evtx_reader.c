/*
 * evtx_reader.c - phitrace-evtx, the EVTX reader's program (`phitrace-evtx FILE`, started by
 * ingest/evtx_run.c only): libevtx opens the file and every record, and those it recovers
 * from the chunks' free space, are written to stdout as the lines of ingest/evtx.h. A record
 * libevtx cannot read is an F line, and the reading goes on with the next.
 *
 * A program of its own, linked with libevtx alone: libevtx, libewf and libvmdk each carry
 * their own copy of the libyal helper libraries (libfvalue ...) under the same exported
 * names, and in one process libewf's older libfvalue is the one libevtx's calls reach (it
 * then rejects FILETIME values: "unsupported type 0x14").
 */
#include <libevtx.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdbool.h>
#include <stdint.h>

/* libevtx's error as one line of text (tabs and line ends made spaces). */
static void errtext(libevtx_error_t *e, char *out, size_t cap)
{
    out[0] = '\0';
    if (e != NULL) {
        libevtx_error_backtrace_sprint(e, out, cap);
        libevtx_error_free(&e);
    }
    for (char *c = out; *c != '\0'; c++) {
        *c = *c == '\t' || *c == '\n' || *c == '\r' ? ' ' : *c;
    }
    if (out[0] == '\0') {
        snprintf(out, cap, "no reason given");
    }
}

/* The XML rendering on one line: line ends and tabs as character references. */
static void put_xml(const uint8_t *x, size_t n)
{
    for (size_t i = 0; i < n && x[i] != '\0'; i++) {
        if (x[i] == '\n') {
            fputs("&#10;", stdout);
        } else if (x[i] == '\r') {
            fputs("&#13;", stdout);
        } else if (x[i] == '\t') {
            fputs("&#9;", stdout);
        } else {
            putchar(x[i]);
        }
    }
}

/* Where each record lies in the file (libevtx 20181227 gives 0 for every record's offset):
 * record identifier and byte offset, from the records' own headers inside each chunk. */
struct where {
    uint64_t id, off;
};
static struct where *where;
static size_t n_where, cap_where;

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The records of one chunk (its bytes c[0..65536)) by their headers, up to its free space. */
static void chunk_records(const uint8_t *c, long long base)
{
    uint32_t free_off = le32(c + 48), pos = 512;
    free_off = free_off > 65536 ? 65536 : free_off;
    while (pos + 24 <= free_off && memcmp(c + pos, "**\0\0", 4) == 0) {
        uint32_t size = le32(c + pos + 4);
        if (size < 28 || size > 65536 - pos) {
            break;
        }
        if (n_where == cap_where) {
            size_t cap = cap_where ? 2 * cap_where : 1024;
            struct where *w = realloc(where, cap * sizeof *w);
            if (w == NULL) {
                return;
            }
            where = w;
            cap_where = cap;
        }
        where[n_where++] = (struct where){le64(c + pos + 8), (uint64_t)(base + pos)};
        pos += size;
    }
}

static int cmp_where(const void *a, const void *b)
{
    uint64_t x = ((const struct where *)a)->id, y = ((const struct where *)b)->id;
    return x < y ? -1 : x > y;
}

static uint64_t offset_of(uint64_t id)
{
    struct where key = {id, 0};
    const struct where *w = n_where ? bsearch(&key, where, n_where, sizeof *where, cmp_where)
                                    : NULL;
    return w != NULL ? w->off : 0;
}

/* The records the chunk headers declare (first to last identifier, each chunk read in 64 KiB
 * steps after the 4 KiB file header while its signature holds), so that records libevtx
 * passes over without an error are still counted as not read; and where each record is. */
static unsigned long long declared_records(const char *path, unsigned *chunks)
{
    FILE *fp = fopen(path, "rb");
    unsigned long long n = 0;
    *chunks = 0;
    static uint8_t c[65536];
    if (fp == NULL) {
        return 0;
    }
    for (long long off = 4096; fseeko(fp, off, SEEK_SET) == 0; off += 65536) {
        size_t got = fread(c, 1, sizeof c, fp);
        if (got < 40 || memcmp(c, "ElfChnk", 8) != 0) {
            break;
        }
        uint64_t first = le64(c + 24), last = le64(c + 32);
        if (last >= first && last - first < 65536) {
            n += last - first + 1;
        }
        if (got == sizeof c) {
            chunk_records(c, off);
        }
        (*chunks)++;
    }
    fclose(fp);
    if (n_where > 1) {
        qsort(where, n_where, sizeof *where, cmp_where);
    }
    return n;
}

static bool one_record(libevtx_file_t *f, int i, bool recovered)
{
    libevtx_record_t *r = NULL;
    libevtx_error_t *e = NULL;
    char why[512];
    int ok = recovered ? libevtx_file_get_recovered_record_by_index(f, i, &r, &e)
                       : libevtx_file_get_record_by_index(f, i, &r, &e);
    off64_t off = 0;
    uint64_t rid = 0, ft = 0;
    uint32_t id = 0;
    size_t xn = 0;
    uint8_t *xml = NULL;
    if (ok == 1 && libevtx_record_get_offset(r, &off, &e) == 1 &&
        libevtx_record_get_identifier(r, &rid, &e) == 1 &&
        libevtx_record_get_written_time(r, &ft, &e) == 1 &&
        libevtx_record_get_event_identifier(r, &id, &e) == 1 &&
        libevtx_record_get_utf8_xml_string_size(r, &xn, &e) == 1 && xn > 0 &&
        xn < (64u << 20) && (xml = malloc(xn)) != NULL &&
        libevtx_record_get_utf8_xml_string(r, xml, xn, &e) == 1) {
        if (off <= 0 && !recovered) {
            off = (off64_t)offset_of(rid);
        }
        printf("%c\t%d\t%lld\t%llu\t%llu\t%u\t", recovered ? 'X' : 'R', i, (long long)off,
               (unsigned long long)rid, (unsigned long long)ft, id);
        put_xml(xml, xn);
        putchar('\n');
    } else {
        errtext(e, why, sizeof why);
        e = NULL;
        printf("F\t%d\t%d\t%s\n", i, recovered, why);
        ok = 0;
    }
    free(xml);
    if (r != NULL) {
        libevtx_record_free(&r, NULL);
    }
    if (e != NULL) {
        libevtx_error_free(&e);
    }
    return ok == 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: phitrace-evtx FILE\n");
        return 2;
    }
    argv++;
    libevtx_file_t *f = NULL;
    libevtx_error_t *e = NULL;
    char why[512];
    if (libevtx_file_initialize(&f, &e) != 1 ||
        libevtx_file_open(f, argv[0], libevtx_get_access_flags_read(), &e) != 1) {
        errtext(e, why, sizeof why);
        printf("C\t%s\nZ\t0\t0\n", why);
        libevtx_file_free(&f, NULL);
        return 0;
    }
    int n = 0, nrec = 0;
    uint16_t major = 0, minor = 0;
    libevtx_file_get_format_version(f, &major, &minor, NULL);
    libevtx_file_get_number_of_records(f, &n, NULL);
    libevtx_file_get_number_of_recovered_records(f, &nrec, NULL);
    int corrupt = libevtx_file_is_corrupted(f, NULL);
    printf("H\t%u.%u\t%d\t%d\t%d\n", major, minor, n, nrec, corrupt == 1);
    unsigned chunks = 0;
    unsigned long long declared = declared_records(argv[0], &chunks);
    printf("D\t%llu\t%u\n", declared, chunks);
    unsigned long long read = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        one_record(f, i, false) ? read++ : failed++;
    }
    for (int i = 0; i < nrec; i++) {
        one_record(f, i, true) ? read++ : failed++;
    }
    printf("Z\t%llu\t%llu\n", read, failed);
    free(where);
    libevtx_file_close(f, NULL);
    libevtx_file_free(&f, NULL);
    return fflush(stdout) == 0 ? 0 : 1;
}
