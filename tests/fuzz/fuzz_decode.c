/*
 * fuzz_decode.c - libFuzzer target for the packet path: decode (all link types, tunnels,
 * defragmentation) and the flow table.
 *
 * Input layout: byte 0 picks the link type; then frames, each a 2-byte big-endian length
 * followed by that many bytes (a short tail is taken as it is). Frames share one decoder
 * and one flow table so fragments and flows interact across frames.
 */
#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "decode/decode.h"
#include "analyze/app.h"
#include "analyze/expect.h"
#include "core/memcap.h"
#include "flow/flow.h"

static void sink(void *arg, const struct pt_frame *f, uint64_t off, enum pt_anom kind,
                 const char *detail)
{
    (void)arg;
    (void)f;
    (void)off;
    (void)kind;
    (void)detail;
}

static void emit(void *arg, const struct pt_flow_rec *r)
{
    *(uint64_t *)arg += r->c2s.pkts + r->s2c.pkts;
}

static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL,
                           DLT_LOOP,   DLT_PPP,       DLT_PPP_SERIAL, DLT_PPP_ETHER, DLT_C_HDLC,
                           DLT_IPV4,   DLT_IPV6};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    int dlt = dlts[data[0] % (sizeof dlts / sizeof dlts[0])];
    struct pt_cidr_set home;
    char err[64];
    if (pt_cidr_set_parse(PT_HOME_NET_DEFAULT, &home, err, sizeof err) != PT_OK) {
        return 0;
    }
    uint64_t counted = 0;
    struct pt_decoder *d = pt_decoder_new(sink, NULL);
    struct pt_flow_table *t = pt_flow_table_new(&home, 64, emit, NULL, &counted);
    struct pt_app_ctx app = {0}; /* no object store: decoders run, objects are not written */
    struct pt_memcap mc;
    pt_memcap_init(&mc, 64 * 1024); /* a few flows: evictions happen mid-input (issue 17) */
    if (t != NULL) {
        pt_flow_set_stream_ops(t, &pt_app_stream_ops, &app);
        pt_flow_set_memcap(t, &mc);
    }
    size_t off = 1;
    uint64_t num = 0;
    while (d != NULL && t != NULL && off < size) {
        size_t len = size - off;
        if (len >= 2) {
            size_t want = ((size_t)data[off] << 8) | data[off + 1];
            off += 2;
            len = size - off < want ? size - off : want;
        }
        /* exact-size copy so any overread is caught */
        uint8_t *frame = malloc(len ? len : 1);
        if (frame == NULL) {
            break;
        }
        memcpy(frame, data + off, len);
        off += len;
        num++;
        struct pt_frame f = {.item = 1, .num = num, .ts_us = (int64_t)num * 1000,
                             .wire_len = (uint32_t)len + (num & 1 ? 0 : 7),
                             .cap_len = (uint32_t)len, .linktype = dlt, .data = frame};
        struct pt_decoded out;
        pt_decode_frame(d, &f, &out);
        for (unsigned i = 0; i < out.n; i++) {
            struct pt_flow_pkt p = {.v = &out.v[i], .item = 1, .frame = num, .view_idx = (uint8_t)i,
                                    .ts_us = f.ts_us, .wire_len = f.wire_len};
            pt_flow_update(t, &p);
        }
        free(frame);
    }
    if (t != NULL) {
        pt_flow_flush(t, (int64_t)num * 1000);
    }
    if (d != NULL) {
        pt_decoder_flush(d, 0);
    }
    pt_flow_table_free(t);
    if (pt_memcap_used(&mc) != 0) {
        abort(); /* every byte a flow charged is released when it ends */
    }
    pt_expect_table_free(app.expect);
    pt_decoder_free(d);
    pt_cidr_set_fini(&home);
    return 0;
}
