/* fuzz_records.h - the shared driver of the application decoders' fuzzers. The input is
 * byte 0, which sets the piece size each record is fed in (bit 7: a 10-byte gap before the
 * middle record), then records of direction (1 byte, bit 0), length (2 bytes, little endian)
 * and that many bytes, so requests and responses interleave as on the wire. fuzz_records()
 * feeds them to a stream decoder; fuzz_datagrams() gives each record as one datagram to a
 * datagram decoder; both are fuzz_drive(). */
#ifndef PT_FUZZ_RECORDS_H
#define PT_FUZZ_RECORDS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/app.h"
#include "fuzz_store.h"

/* The one driver: transport 6 feeds each record to a stream decoder in pieces (and the gap),
 * 17 gives each as one datagram. Each record is a private copy, so reads past it show up
 * under ASan. */
static inline void fuzz_drive(const struct pt_app_proto *proto, int transport,
                              const uint8_t *data, size_t size, uint16_t sport)
{
    if (size < 1) {
        return;
    }
    struct pt_app_ctx ctx = {.store = fuzz_store_get(), .object = fuzz_on_object};
    struct pt_flow_rec rec;
    memset(&rec, 0, sizeof rec);
    size_t step = 1 + (size_t)(data[0] & 0x7f) * 16;
    size_t records = 0;
    for (size_t i = 1; i + 3 <= size;) { /* count records to find the middle one */
        size_t len = data[i + 1] | ((size_t)data[i + 2] << 8);
        i += 3 + len;
        records++;
    }
    void *st = NULL;
    uint64_t off[2] = {0, 0};
    size_t r = 0;
    for (size_t i = 1; i + 3 <= size; r++) {
        int dir = data[i] & 1;
        size_t len = data[i + 1] | ((size_t)data[i + 2] << 8);
        i += 3;
        if (len > size - i) {
            len = size - i;
        }
        uint8_t *copy = malloc(len ? len : 1);
        if (copy == NULL) {
            break;
        }
        memcpy(copy, data + i, len);
        if (st == NULL) {
            proto->probe(transport, dir, copy, len, 40000, sport);
            st = proto->open(&ctx, &rec);
        }
        if (transport == 17) {
            proto->datagram(st, dir, copy, len, NULL);
        } else {
            if ((data[0] & 0x80) && r == records / 2) {
                proto->gap(st, dir, off[dir], 10);
                off[dir] += 10;
            }
            for (size_t k = 0; k < len; k += step) {
                size_t m = len - k < step ? len - k : step;
                proto->data(st, dir, off[dir], copy + k, m, NULL);
                off[dir] += m;
            }
        }
        free(copy);
        i += len;
    }
    if (st != NULL) {
        proto->close(st);
    }
}

static inline void fuzz_records(const struct pt_app_proto *proto, const uint8_t *data,
                                size_t size, uint16_t sport)
{
    fuzz_drive(proto, 6, data, size, sport);
}

static inline void fuzz_datagrams(const struct pt_app_proto *proto, const uint8_t *data,
                                  size_t size, uint16_t sport)
{
    fuzz_drive(proto, 17, data, size, sport);
}

#endif
