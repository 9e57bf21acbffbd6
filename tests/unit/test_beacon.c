/* test_beacon.c - RITA v5 sub-scores on hand-computed examples
 * (research/network-anchors.md §6.2-6.7). */
#include "cm.h"

#include <math.h>
#include <string.h>

#include "verdict/beacon.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void statistics(void **state)
{
    (void)state;
    /* x = 10 20 30 40 100: Q2 = 30, Q1 = median(10,20) = 15, Q3 = median(40,100) = 70;
     * Q3 - Q1 = 55 >= 10: skew = (15 + 70 - 60) / 55 = 0.4545..., skewScore = 0.5454...;
     * |x - 30| = 20 10 0 10 70 -> sorted 0 10 10 20 70, MAD = 10, madScore = 20/30 = 0.666...;
     * score = round3((0.54545 + 0.66667) / 2) = round3(0.60606) = 0.606 */
    double x[] = {10, 20, 30, 40, 100};
    NEAR(pt_beacon_median(x, 5), 30);
    NEAR(pt_beacon_stat_score(x, 5, 1.0), 0.606);
    /* a perfectly regular series: no skew, MAD 0: score 1 */
    double y[] = {60, 60, 60, 60};
    NEAR(pt_beacon_stat_score(y, 4, 1.0), 1.0);
    /* Q3 - Q1 below 10: skew is taken as 0 */
    double z[] = {1, 2, 3, 4, 5, 6};
    /* Q2 = 3.5, Q1 = 2, Q3 = 5 -> skew 0; |x-3.5| = 2.5 1.5 .5 .5 1.5 2.5 -> MAD 1.5;
     * madScore = (3.5 - 1.5) / 3.5 = 0.5714; score = round3((1 + 0.5714) / 2) = 0.786 */
    NEAR(pt_beacon_stat_score(z, 6, 1.0), 0.786);
    /* median below 1 takes the default (timestamps 1, sizes 0) */
    double w[] = {0, 0, 0};
    NEAR(pt_beacon_stat_score(w, 3, 1.0), 1.0);
    NEAR(pt_beacon_stat_score(w, 3, 0.0), 0.5);
}

static void bucketing(void **state)
{
    (void)state;
    NEAR(pt_beacon_bucket(49.9, 50, 70, 90, 100), 0);
    NEAR(pt_beacon_bucket(50, 50, 70, 90, 100), 0.2);
    NEAR(pt_beacon_bucket(75, 50, 70, 90, 100), 0.45);
    NEAR(pt_beacon_bucket(95, 50, 70, 90, 100), 0.7);
    NEAR(pt_beacon_bucket(120, 50, 70, 90, 100), 0.8);
}

static void histogram(void **state)
{
    (void)state;
    /* one connection in each of the 24 hours: CV 0 -> 1; every bar the same -> bimodal 1 */
    int64_t ts[24];
    for (int i = 0; i < 24; i++) {
        ts[i] = i * 3600 + 10;
    }
    unsigned run = 0, bars = 0;
    NEAR(pt_beacon_hist_score(ts, 24, 0, 86400, &run, &bars), 1.0);
    assert_int_equal(run, 24);
    assert_int_equal(bars, 24);
    /* ten connections an hour apart in a 9-hour window of 24 bins: 10 bars of 1 -> CV 1.183
     * (> 1, cvScore 0); fewer than 11 bars -> no bimodal score */
    int64_t t2[10];
    for (int i = 0; i < 10; i++) {
        t2[i] = i * 3600;
    }
    NEAR(pt_beacon_hist_score(t2, 10, 0, 32400, &run, &bars), 0.0);
    assert_int_equal(bars, 10);
}

static void hourly_beacon(void **state)
{
    (void)state;
    /* zeek's ticks-dns-1hr shape: 10 queries every 3600 s, equal sizes. TS = 1 (regular),
     * DS = 1 (constant), HS = 0 (see above), DUR = coverage (32400 / 32400) = 1;
     * beacon = round3((1 + 1 + 0 + 1) / 4) = 0.75 -> bucketed 0.4 + 0.2 * 5 / 20 = 0.45 */
    int64_t ts[10], by[10];
    for (int i = 0; i < 10; i++) {
        ts[i] = 1000000 + i * 3600;
        by[i] = 73;
    }
    struct pt_beacon b;
    assert_int_equal(pt_beacon_score(ts, by, 10, 1000000, 1000000 + 32400, &b), 1);
    NEAR(b.ts, 1.0);
    NEAR(b.ds, 1.0);
    NEAR(b.hist, 0.0);
    NEAR(b.dur, 1.0);
    NEAR(b.score, 0.75);
    NEAR(b.bucketed, 0.45);
    assert_int_equal(b.top_interval, 3600);
    assert_int_equal(b.top_size, 73);
    /* fewer than four unique timestamps: not scored */
    int64_t few[3] = {1, 2, 3}, fb[3] = {1, 1, 1};
    assert_int_equal(pt_beacon_score(few, fb, 3, 0, 10, &b), 0);
    NEAR(b.score, 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(statistics),
        cmocka_unit_test(bucketing),
        cmocka_unit_test(histogram),
        cmocka_unit_test(hourly_beacon),
    };
    return cmocka_run_group_tests_name("beacon", tests, NULL, NULL);
}
