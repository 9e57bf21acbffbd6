/* test_multipart.c - streaming multipart splitter: parts, names, splits at every offset. */
#include "cm.h"

#include <stdio.h>
#include <string.h>

#include "analyze/multipart.h"

struct got {
    char out[4096];
    size_t n;
    char names[8][64];
    int parts, complete, incomplete;
    uint64_t gaps;
};

static void begin(void *arg, unsigned index, const char *name, const char *ctype)
{
    (void)ctype;
    struct got *g = arg;
    snprintf(g->names[(index - 1) % 8], sizeof g->names[0], "%s", name);
    g->parts++;
    g->n += (size_t)snprintf(g->out + g->n, sizeof g->out - g->n, "<%u>", index);
}

static void data(void *arg, const uint8_t *p, size_t n)
{
    struct got *g = arg;
    memcpy(g->out + g->n, p, n);
    g->n += n;
}

static void gap(void *arg, uint64_t n)
{
    ((struct got *)arg)->gaps += n;
}

static void end(void *arg, bool complete)
{
    struct got *g = arg;
    if (complete) {
        g->complete++;
    } else {
        g->incomplete++;
    }
    g->n += (size_t)snprintf(g->out + g->n, sizeof g->out - g->n, "</>");
}

static const struct pt_multipart_ops ops = {begin, data, gap, end, NULL};

/* Two parts; the second holds text that nearly matches the delimiter. */
static const char body[] = "preamble\r\n"
                           "--XyZ\r\n"
                           "Content-Disposition: form-data; name=\"field\"\r\n"
                           "\r\n"
                           "value one\r\n"
                           "--XyZ  \r\n"
                           "Content-Disposition: form-data; name=\"up\"; filename=\"r.hl7\"\r\n"
                           "Content-Type: text/plain\r\n"
                           "\r\n"
                           "a\r\n--XyQ\r\n-\r\r\n--Xy\r\n"
                           "--XyZ--\r\n"
                           "epilogue";

static const char expect[] = "<1>value one</><2>a\r\n--XyQ\r\n-\r\r\n--Xy</>";

static void whole_body(void **state)
{
    (void)state;
    struct got g = {0};
    struct pt_multipart *m = pt_multipart_new("XyZ", &ops, &g, false);
    pt_multipart_feed(m, (const uint8_t *)body, strlen(body));
    pt_multipart_free(m);
    assert_int_equal(g.n, strlen(expect));
    assert_memory_equal(g.out, expect, g.n);
    assert_string_equal(g.names[0], "field");
    assert_string_equal(g.names[1], "r.hl7");
    assert_int_equal(g.complete, 2);
    assert_int_equal(g.incomplete, 0);
}

static void split_at_every_offset_and_bytewise(void **state)
{
    (void)state;
    size_t len = strlen(body);
    for (size_t cut = 0; cut <= len; cut++) {
        struct got g = {0};
        struct pt_multipart *m = pt_multipart_new("XyZ", &ops, &g, false);
        pt_multipart_feed(m, (const uint8_t *)body, cut);
        pt_multipart_feed(m, (const uint8_t *)body + cut, len - cut);
        pt_multipart_free(m);
        assert_int_equal(g.n, strlen(expect));
        assert_memory_equal(g.out, expect, g.n);
    }
    struct got g = {0};
    struct pt_multipart *m = pt_multipart_new("XyZ", &ops, &g, false);
    for (size_t i = 0; i < len; i++) {
        pt_multipart_feed(m, (const uint8_t *)body + i, 1);
    }
    pt_multipart_free(m);
    assert_memory_equal(g.out, expect, strlen(expect));
}

static void truncated_and_gapped(void **state)
{
    (void)state;
    size_t len = strlen(body);
    for (size_t cut = 0; cut < len; cut++) { /* every truncation ends cleanly */
        struct got g = {0};
        struct pt_multipart *m = pt_multipart_new("XyZ", &ops, &g, false);
        pt_multipart_feed(m, (const uint8_t *)body, cut);
        pt_multipart_free(m);
        assert_true(g.complete + g.incomplete == g.parts);
    }
    struct got g = {0};
    struct pt_multipart *m = pt_multipart_new("XyZ", &ops, &g, false);
    const char *p2 = strstr(body, "a\r\n--XyQ");
    pt_multipart_feed(m, (const uint8_t *)body, (size_t)(p2 - body) + 1);
    pt_multipart_gap(m, 100); /* a hole inside the second part's data */
    pt_multipart_feed(m, (const uint8_t *)p2 + 1, strlen(p2 + 1));
    pt_multipart_free(m);
    assert_int_equal(g.gaps, 100);
    assert_int_equal(g.parts, 2);
}

static void boundaries_from_content_type(void **state)
{
    (void)state;
    char b[80];
    assert_true(pt_multipart_boundary("multipart/form-data; boundary=----abc", b, sizeof b));
    assert_string_equal(b, "----abc");
    assert_true(pt_multipart_boundary("Multipart/Mixed; boundary=\"a b;c\"; x=1", b, sizeof b));
    assert_string_equal(b, "a b;c");
    assert_false(pt_multipart_boundary("text/plain; boundary=x", b, sizeof b));
    assert_false(pt_multipart_boundary("multipart/form-data", b, sizeof b));
    char longb[200] = "multipart/mixed; boundary=";
    memset(longb + strlen(longb), 'x', 100);
    assert_false(pt_multipart_boundary(longb, b, sizeof b)); /* RFC 2046: at most 70 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_body),
        cmocka_unit_test(split_at_every_offset_and_bytewise),
        cmocka_unit_test(truncated_and_gapped),
        cmocka_unit_test(boundaries_from_content_type),
    };
    return cmocka_run_group_tests_name("multipart", tests, NULL, NULL);
}
