/*
 * expect.h - connections announced by another flow (the idea of Suricata's app-layer
 * expectations): a decoder that reads where a later connection will go (FTP's PORT and EPRT
 * commands, its 227 and 229 replies) registers an expectation; the first later flow of the
 * same worker that uses that endpoint, on either side, before the expectation expires is
 * claimed by it before content detection: it gets the expectation's protocol and data.
 *
 * Threads. The table is per worker (struct pt_app_ctx), so no lock: the announcing flow and
 * the flow it announces must be decoded by the same worker, in capture order, for the claim
 * to see the registration. The reader makes sure of it before any worker has parsed the
 * announcement: it asks each protocol's `announces` member (app.h) about the start of every
 * TCP segment and sends a connection that then uses an announced endpoint to the worker of
 * the flow that announced it (worker.c), at any thread count.
 *
 * Limits: PT_EXPECT_MAX expectations per worker, the oldest replaced.
 */
#ifndef PT_EXPECT_H
#define PT_EXPECT_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/addr.h"

struct pt_app_ctx;
struct pt_app_proto;
struct pt_flow_rec;
struct pt_expect_table;

/* Expect a connection with endpoint a:port on either side until expires_us (capture time).
 * The flow that claims it is decoded by `proto`, its state made by proto->expected(ctx, rec,
 * data). Takes `data`: released with proto->expect_free when the expectation is replaced,
 * never claimed, or cannot be stored (out of memory). */
void pt_expect_add(struct pt_app_ctx *ctx, const struct pt_addr *a, uint16_t port,
                   int64_t expires_us, const struct pt_app_proto *proto, void *data);

/* For a flow's first bytes: the decoder state of flow `rec` when an expectation of this
 * worker claims it (*proto set), else NULL. */
void *pt_expect_claim(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec, int64_t now_us,
                      const struct pt_app_proto **proto);

/* NULL-safe; releases the data of every expectation still waiting. */
void pt_expect_table_free(struct pt_expect_table *t);

#endif
