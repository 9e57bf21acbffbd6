/*
 * fuzz_ftp.c - libFuzzer target for the FTP control decoder and data-channel claims. The
 * input is split at its first 0xff byte into the client's and the server's control
 * streams, each also shown to the reader's look at a segment (`announces`); then data
 * connections to every announced endpoint are offered for claiming (expect.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/app.h"
#include "analyze/expect.h"
#include "fuzz_store.h"

extern const struct pt_app_proto pt_app_ftp;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_app_ctx ctx = {.store = fuzz_store_get(), .object = fuzz_on_object};
    struct pt_flow_rec rec;
    memset(&rec, 0, sizeof rec);
    pt_addr_parse("10.0.0.1", &rec.cli);
    pt_addr_parse("10.0.0.2", &rec.srv);
    rec.cport = 40000;
    rec.sport = 21;
    const uint8_t *sep = memchr(data, 0xff, size);
    size_t n0 = sep ? (size_t)(sep - data) : size;
    uint8_t *a = malloc(size ? size : 1);
    if (a == NULL) {
        return 0;
    }
    memcpy(a, data, size);
    pt_app_ftp.probe(6, 0, a, n0, 40000, 21);
    struct pt_announce an;
    pt_app_ftp.announces(a, n0, &rec.cli, &an);
    if (sep != NULL) {
        pt_app_ftp.announces(a + n0 + 1, size - n0 - 1, &rec.srv, &an);
    }
    void *st = pt_app_ftp.open(&ctx, &rec);
    pt_app_ftp.data(st, 0, 0, a, n0, NULL);
    if (sep != NULL) {
        pt_app_ftp.data(st, 1, 0, a + n0 + 1, size - n0 - 1, NULL);
    }
    /* a data connection from the server to the client on every port the input names */
    struct pt_flow_rec drec = rec;
    drec.id = 2;
    for (uint32_t port = 1; port < 65536 && ctx.expect != NULL; port += 4099) {
        drec.sport = (uint16_t)port;
        const struct pt_app_proto *proto = NULL;
        void *d = pt_expect_claim(&ctx, &drec, 0, &proto);
        if (d != NULL) {
            proto->data(d, 1, 0, a, n0, NULL);
            proto->close(d);
        }
    }
    pt_app_ftp.close(st);
    pt_expect_table_free(ctx.expect);
    free(a);
    return 0;
}
