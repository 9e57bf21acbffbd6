/*
 * fuzz_netflow.c - libFuzzer target for the NetFlow v5/v9 and IPFIX decoder: the input is a
 * sequence of datagrams, each a 2-byte length (big endian) and its bytes, all from one
 * exporter, so templates of one datagram describe the data of the next.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/app.h"

extern const struct pt_app_proto pt_app_netflow;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_app_ctx ctx = {0};
    struct pt_flow_rec rec;
    memset(&rec, 0, sizeof rec);
    void *st = pt_app_netflow.open(&ctx, &rec);
    if (st == NULL) {
        return 0;
    }
    for (size_t i = 0; i + 2 <= size;) {
        size_t len = (size_t)data[i] << 8 | data[i + 1];
        i += 2;
        if (len > size - i) {
            len = size - i;
        }
        /* a private copy, so reads past a datagram show up under ASan */
        uint8_t *copy = malloc(len ? len : 1);
        if (copy == NULL) {
            break;
        }
        memcpy(copy, data + i, len);
        pt_app_netflow.probe(17, 0, copy, len, 40000, 2055);
        pt_app_netflow.datagram(st, 0, copy, len, NULL);
        free(copy);
        i += len;
    }
    pt_app_netflow.close(st);
    return 0;
}
