/* test_reasm.c - TCP reassembly: first data wins, conflicts, gaps, wraparound, caps. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "reassemble/tcp_reasm.h"

struct rec {
    uint8_t out[1 << 20];
    size_t n;
    uint64_t gaps[16][2];
    int n_gaps;
    int conflicts;
    uint64_t conflict_off, conflict_len;
    int limits;
};

static void on_data(void *arg, int dir, uint64_t off, const uint8_t *p, size_t n)
{
    (void)dir;
    struct rec *r = arg;
    assert_int_equal(off, r->n); /* delivered in order, without holes except gaps */
    if (r->n + n <= sizeof r->out) {
        memcpy(r->out + r->n, p, n);
    }
    r->n += n;
}

static void on_gap(void *arg, int dir, uint64_t off, uint64_t n)
{
    (void)dir;
    struct rec *r = arg;
    if (r->n_gaps < 16) {
        r->gaps[r->n_gaps][0] = off;
        r->gaps[r->n_gaps][1] = n;
    }
    r->n_gaps++;
    if (r->n + n <= sizeof r->out) {
        memset(r->out + r->n, '?', n); /* the test marks gaps itself; the engine never fills */
    }
    r->n += n;
}

static void on_conflict(void *arg, int dir, uint64_t off, uint64_t n, const uint8_t *k,
                        const uint8_t *o)
{
    (void)dir;
    struct rec *r = arg;
    assert_memory_not_equal(k, o, PT_SHA256_LEN);
    r->conflicts++;
    r->conflict_off = off;
    r->conflict_len = n;
}

static void on_limit(void *arg, int dir, enum pt_anom kind)
{
    (void)dir;
    (void)kind;
    ((struct rec *)arg)->limits++;
}

static struct rec *r;
static struct pt_reasm_sink sink;
static struct pt_reasm_budget budget;

static int setup(void **state)
{
    (void)state;
    r = calloc(1, sizeof *r);
    sink = (struct pt_reasm_sink){r, on_data, on_gap, on_conflict, on_limit};
    budget = (struct pt_reasm_budget){0, PT_REASM_WORKER_MAX_DEFAULT};
    return r == NULL;
}

static int teardown(void **state)
{
    (void)state;
    free(r);
    assert_int_equal(budget.used, 0); /* every byte charged was given back */
    return 0;
}

static void seg(struct pt_reasm_dir *d, uint32_t seq, const char *s)
{
    pt_reasm_segment(d, 0, seq, (const uint8_t *)s, strlen(s), strlen(s), &budget, &sink);
}

/* The crafted flow of the issue: "0123456789"@10, "AAAAAAAAAA"@0, "XXXXXXXXXX"@5, then
 * "AAAAAAAAAA"@0 again must give AAAAAAAAAA0123456789 and exactly one conflict. */
static void first_data_wins_with_one_conflict(void **state)
{
    (void)state;
    struct pt_reasm_dir d = {0};
    uint32_t isn = 1000;
    pt_reasm_start(&d, isn + 1);
    seg(&d, isn + 1 + 10, "0123456789");
    assert_int_equal(r->n, 0);
    seg(&d, isn + 1 + 0, "AAAAAAAAAA");
    seg(&d, isn + 1 + 5, "XXXXXXXXXX");
    seg(&d, isn + 1 + 0, "AAAAAAAAAA");
    pt_reasm_finish(&d, 0, &budget, &sink);
    assert_int_equal(r->n, 20);
    assert_memory_equal(r->out, "AAAAAAAAAA0123456789", 20);
    assert_int_equal(r->conflicts, 1);
    assert_int_equal(r->conflict_off, 5);
    assert_int_equal(r->conflict_len, 10);
    assert_int_equal(d.conflicts, 1);
    assert_int_equal(r->n_gaps, 0);
}

static void overlap_with_buffered_segment(void **state)
{
    (void)state;
    struct pt_reasm_dir d = {0};
    pt_reasm_start(&d, 0);
    seg(&d, 10, "BBBB");         /* buffered: 10..13 */
    seg(&d, 6, "cccccccccccc");  /* 6..17: 10..13 differ from the kept Bs */
    seg(&d, 0, "aaaaaa");        /* fills 0..5, everything drains */
    pt_reasm_finish(&d, 0, &budget, &sink);
    assert_int_equal(r->n, 18);
    assert_memory_equal(r->out, "aaaaaaccccBBBBcccc", 18);
    assert_int_equal(r->conflicts, 1);
    assert_int_equal(r->conflict_off, 10);
    assert_int_equal(r->conflict_len, 4);
}

static void gaps_are_ranges_never_zero_fills(void **state)
{
    (void)state;
    struct pt_reasm_dir d = {0};
    pt_reasm_start(&d, 500);
    seg(&d, 500, "0123456789");
    seg(&d, 520, "KLMNOPQRST");        /* 510..519 never captured */
    assert_int_equal(r->n, 10);
    pt_reasm_finish(&d, 0, &budget, &sink);
    assert_int_equal(r->n_gaps, 1);
    assert_int_equal(r->gaps[0][0], 10);
    assert_int_equal(r->gaps[0][1], 10);
    assert_memory_equal(r->out, "0123456789??????????KLMNOPQRST", 30);
    assert_int_equal(d.gap_bytes, 10);
    assert_int_equal(d.delivered, 20);
}

static void ack_beyond_hole_is_a_gap(void **state)
{
    (void)state;
    struct pt_reasm_dir d = {0};
    pt_reasm_start(&d, 0);
    seg(&d, 0, "abc");
    pt_reasm_ack(&d, 0, 8, &budget, &sink); /* receiver got 3..7, we did not */
    assert_int_equal(r->n_gaps, 1);
    assert_int_equal(r->gaps[0][1], 5);
    seg(&d, 8, "ijk");
    assert_int_equal(r->n, 11);
    pt_reasm_ack(&d, 0, 5, &budget, &sink); /* old ack: nothing */
    assert_int_equal(r->n_gaps, 1);
    pt_reasm_finish(&d, 0, &budget, &sink);
}

static void sequence_wraparound(void **state)
{
    (void)state;
    struct pt_reasm_dir d = {0};
    pt_reasm_start(&d, 0xfffffffau);
    seg(&d, 0x00000004u, "EFGH");  /* after the wrap, out of order */
    seg(&d, 0xfffffffau, "0123456789");
    pt_reasm_finish(&d, 0, &budget, &sink);
    assert_int_equal(r->n, 14);
    assert_memory_equal(r->out, "0123456789EFGH", 14);
    assert_int_equal(r->conflicts, 0);
}

static void data_before_stream_start_is_ignored(void **state)
{
    (void)state;
    struct pt_reasm_dir d = {0};
    seg(&d, 100, "mid");           /* mid-stream pickup: starts the stream at 100 */
    seg(&d, 95, "xxxxxmid+");      /* 95..99 precede the stream; "mid" matches; "+" is new */
    pt_reasm_finish(&d, 0, &budget, &sink);
    assert_int_equal(r->n, 4);
    assert_memory_equal(r->out, "mid+", 4);
    assert_int_equal(r->conflicts, 0);
}

static void shuffled_duplicated_segments_rebuild_the_stream(void **state)
{
    (void)state;
    enum { N = 200000 };
    uint8_t *src = malloc(N);
    srand(7);
    for (int i = 0; i < N; i++) {
        src[i] = (uint8_t)rand();
    }
    struct {
        uint32_t off, n;
    } segs[4000];
    int ns = 0;
    for (uint32_t off = 0; off < N;) {
        uint32_t n = 1 + (uint32_t)(rand() % 1460);
        if (off + n > N) {
            n = N - off;
        }
        segs[ns].off = off;
        segs[ns].n = n;
        ns++;
        off += n;
    }
    /* shuffle locally (within 32 positions) and duplicate some */
    for (int i = 0; i < ns; i++) {
        int j = i + rand() % 32;
        if (j < ns) {
            __typeof__(segs[0]) t = segs[i];
            segs[i] = segs[j];
            segs[j] = t;
        }
    }
    struct pt_reasm_dir d = {0};
    uint32_t isn = 0xffff0000u;
    pt_reasm_start(&d, isn);
    for (int i = 0; i < ns; i++) {
        pt_reasm_segment(&d, 0, isn + segs[i].off, src + segs[i].off, segs[i].n, segs[i].n,
                         &budget, &sink);
        if (i % 5 == 0) { /* retransmission of the same bytes */
            pt_reasm_segment(&d, 0, isn + segs[i].off, src + segs[i].off, segs[i].n, segs[i].n,
                             &budget, &sink);
        }
    }
    pt_reasm_finish(&d, 0, &budget, &sink);
    assert_int_equal(r->n, N);
    assert_memory_equal(r->out, src, N);
    assert_int_equal(r->conflicts, 0);
    assert_int_equal(r->n_gaps, 0);
    free(src);
}

/* The history ring grows (256 bytes, doubling to PT_REASM_HISTORY) as the stream goes and
 * wraps on the way: a retransmission of any byte it still holds is compared with what was
 * delivered (the same bytes: no conflict; one byte changed: one conflict, of that segment). */
static void history_survives_growth_and_wrap(void **state)
{
    (void)state;
    enum { N = PT_REASM_HISTORY + 5000 };
    uint8_t *b = malloc(N);
    assert_non_null(b);
    for (size_t i = 0; i < N; i++) {
        b[i] = (uint8_t)(i * 131u + (i >> 8));
    }
    struct pt_reasm_dir d = {0};
    pt_reasm_start(&d, 0);
    static const size_t steps[] = {100, 300, 1, 700, 1500, 4000, 9000, 1460};
    size_t off = 0;
    for (unsigned k = 0; off < N; k++) {
        size_t len = steps[k % 8] < N - off ? steps[k % 8] : N - off;
        pt_reasm_segment(&d, 0, (uint32_t)off, b + off, len, len, &budget, &sink);
        off += len;
        /* everything delivered so far and still in the ring reads back the same */
        size_t back = off < 3000 ? off : 3000;
        pt_reasm_segment(&d, 0, (uint32_t)(off - back), b + off - back, back, back, &budget,
                         &sink);
        assert_int_equal(r->conflicts, 0);
    }
    uint8_t x[64];
    size_t at = N - PT_REASM_HISTORY + 10; /* the oldest bytes the full ring holds */
    memcpy(x, b + at, sizeof x);
    x[17] ^= 0x55;
    pt_reasm_segment(&d, 0, (uint32_t)at, x, sizeof x, sizeof x, &budget, &sink);
    pt_reasm_finish(&d, 0, &budget, &sink);
    assert_int_equal(r->n, N);
    assert_memory_equal(r->out, b, N);
    assert_int_equal(r->conflicts, 1);
    assert_int_equal(r->conflict_off, at);
    assert_int_equal(r->conflict_len, sizeof x);
    free(b);
}

static void flow_cap_skips_ahead(void **state)
{
    (void)state;
    struct pt_reasm_dir d = {0};
    pt_reasm_start(&d, 0);
    static uint8_t chunk[65536];
    memset(chunk, 'z', sizeof chunk);
    /* never send offset 0..99: buffer beyond the per-flow cap */
    uint64_t off = 100;
    while (r->limits == 0 && off < 2ull * PT_REASM_FLOW_MAX) {
        pt_reasm_segment(&d, 0, (uint32_t)off, chunk, sizeof chunk, sizeof chunk, &budget, &sink);
        off += sizeof chunk;
    }
    assert_int_equal(r->limits, 1);
    assert_int_equal(r->n_gaps, 1);
    assert_int_equal(r->gaps[0][0], 0);
    assert_int_equal(r->gaps[0][1], 100);
    assert_int_equal(d.ooo_bytes, 0);
    pt_reasm_finish(&d, 0, &budget, &sink);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(first_data_wins_with_one_conflict),
        T(overlap_with_buffered_segment),
        T(gaps_are_ranges_never_zero_fills),
        T(ack_beyond_hole_is_a_gap),
        T(sequence_wraparound),
        T(data_before_stream_start_is_ignored),
        T(shuffled_duplicated_segments_rebuild_the_stream),
        T(history_survives_growth_and_wrap),
        T(flow_cap_skips_ahead),
    };
    return cmocka_run_group_tests_name("reasm", tests, NULL, NULL);
}
