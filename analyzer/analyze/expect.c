/*
 * expect.c - connections announced by another flow (see expect.h).
 */
#include "expect.h"

#include <stdlib.h>

#include "../core/limits.h"
#include "app.h"

struct expectation {
    struct pt_addr addr;
    uint16_t port;
    int64_t expires_us;
    const struct pt_app_proto *proto; /* NULL: free slot */
    void *data;                       /* owned until claimed */
};

struct pt_expect_table {
    struct expectation e[PT_EXPECT_MAX];
    unsigned next; /* slot to (re)use next */
};

static void release(struct expectation *e)
{
    if (e->proto != NULL && e->proto->expect_free != NULL) {
        e->proto->expect_free(e->data);
    }
    e->proto = NULL;
    e->data = NULL;
}

void pt_expect_add(struct pt_app_ctx *ctx, const struct pt_addr *a, uint16_t port,
                   int64_t expires_us, const struct pt_app_proto *proto, void *data)
{
    if (ctx->expect == NULL) {
        ctx->expect = calloc(1, sizeof *ctx->expect);
    }
    struct pt_expect_table *t = ctx->expect;
    if (t == NULL) {
        struct expectation lost = {.proto = proto, .data = data};
        release(&lost);
        return;
    }
    struct expectation *e = &t->e[t->next];
    t->next = (t->next + 1) % PT_EXPECT_MAX;
    release(e);
    *e = (struct expectation){.addr = *a, .port = port, .expires_us = expires_us,
                              .proto = proto, .data = data};
}

void *pt_expect_claim(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec, int64_t now_us,
                      const struct pt_app_proto **proto)
{
    struct pt_expect_table *t = ctx->expect;
    if (t == NULL) {
        return NULL;
    }
    for (unsigned i = 0; i < PT_EXPECT_MAX; i++) {
        struct expectation *e = &t->e[i];
        if (e->proto == NULL || now_us > e->expires_us) {
            continue;
        }
        bool srv = e->port == rec->sport && pt_addr_cmp(&e->addr, &rec->srv) == 0;
        bool cli = e->port == rec->cport && pt_addr_cmp(&e->addr, &rec->cli) == 0;
        if (!srv && !cli) {
            continue;
        }
        void *st = e->proto->expected(ctx, rec, e->data);
        if (st == NULL) {
            return NULL; /* out of memory: the expectation (and its data) stays */
        }
        *proto = e->proto;
        e->proto = NULL; /* the data moved to the claiming flow's state */
        e->data = NULL;
        return st;
    }
    return NULL;
}

void pt_expect_table_free(struct pt_expect_table *t)
{
    if (t == NULL) {
        return;
    }
    for (unsigned i = 0; i < PT_EXPECT_MAX; i++) {
        release(&t->e[i]);
    }
    free(t);
}
