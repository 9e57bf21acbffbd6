/*
 * beacon.c - RITA v5 beacon score, exactly as research/network-anchors.md §6 specifies
 * (activecm/rita analysis/beacons.go; statistics of montanaflynn/stats).
 */
#include "beacon.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double round3(double v)
{
    return round(v * 1000.0) / 1000.0;
}

static double ceil3(double v)
{
    return ceil(v * 1000.0 - 1e-9) / 1000.0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_i(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

double pt_beacon_median(const double *x, size_t n)
{
    if (n == 0) {
        return 0;
    }
    return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2.0;
}

double pt_beacon_stat_score(const double *x, size_t n, double mad_default)
{
    if (n == 0) {
        return 0;
    }
    double q2 = pt_beacon_median(x, n);
    size_t half = n / 2;
    double q1 = pt_beacon_median(x, half);
    double q3 = pt_beacon_median(x + (n % 2 ? half + 1 : half), half);
    double skew = 0;
    if (q3 - q1 >= 10 && q2 != q1 && q2 != q3) {
        skew = (q1 + q3 - 2 * q2) / (q3 - q1);
    }
    double skew_score = 1.0 - fabs(skew);
    double *dev = malloc(n * sizeof *dev);
    if (dev == NULL) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        dev[i] = fabs(x[i] - q2);
    }
    qsort(dev, n, sizeof *dev, cmp_d);
    double mad = pt_beacon_median(dev, n);
    free(dev);
    double mad_score = q2 >= 1 ? (q2 - mad) / q2 : mad_default;
    if (isnan(mad_score) || mad_score < 0) {
        mad_score = 0;
    }
    return round3((skew_score + mad_score) / 2.0);
}

double pt_beacon_hist_score(const int64_t *ts, size_t n, int64_t start, int64_t end,
                            unsigned *longest_run, unsigned *bars)
{
    double h[24] = {0};
    double width = (double)(end - start) / 24.0;
    for (size_t i = 0; i < n; i++) {
        int b = width > 0 ? (int)floor((double)(ts[i] - start) / width) : 0;
        if (b >= 24 || ts[i] >= end) {
            b = 23;
        }
        if (b < 0) {
            b = 0;
        }
        h[b]++;
    }
    double sum = 0, largest = 0;
    unsigned total = 0;
    for (int i = 0; i < 24; i++) {
        sum += h[i];
        largest = h[i] > largest ? h[i] : largest;
        total += h[i] > 0;
    }
    double mean = sum / 24.0, var = 0;
    for (int i = 0; i < 24; i++) {
        var += (h[i] - mean) * (h[i] - mean);
    }
    double sd = sqrt(var / 24.0);
    double cv = mean > 0 ? sd / mean : 0;
    double cv_score = mean == 0 || cv > 1 ? 0 : round3(1.0 - cv);
    double bimodal = 0;
    if (total >= 11) {
        double bin = ceil(largest * 0.05);
        if (bin < 1) {
            bin = 1;
        }
        /* bars per bucket value; values are at most `largest`, so index by bucket number */
        unsigned counts[64] = {0};
        unsigned first = 0, second = 0;
        for (int i = 0; i < 24; i++) {
            if (h[i] > 0) {
                size_t k = (size_t)floor(h[i] / bin);
                counts[k < 63 ? k : 63]++;
            }
        }
        for (int k = 0; k < 64; k++) {
            if (counts[k] > first) {
                second = first;
                first = counts[k];
            } else if (counts[k] > second) {
                second = counts[k];
            }
        }
        double fit = (double)(first + second) / (double)(total > 1 ? total - 1 : 1);
        bimodal = fmin(1.0, round3(fit));
    }
    /* longest run of non-zero bins, circular */
    unsigned best = 0, run = 0;
    for (int i = 0; i < 48; i++) {
        if (h[i % 24] > 0) {
            run++;
            best = run > best ? run : best;
        } else {
            run = 0;
        }
    }
    *longest_run = best > 24 ? 24 : best;
    *bars = total;
    return fmax(cv_score, bimodal);
}

double pt_beacon_bucket(double v, double base, double low, double medium, double high)
{
    if (v < base) {
        return 0;
    }
    if (v < low) {
        return 0.2 + 0.2 * (v - base) / (low - base);
    }
    if (v < medium) {
        return 0.4 + 0.2 * (v - low) / (medium - low);
    }
    return 0.6 + 0.2 * (fmin(v, high) - medium) / (high - medium);
}

/* The most frequent value of a sorted array (the smallest on ties). */
static int64_t mode(const int64_t *x, size_t n)
{
    int64_t best = n ? x[0] : 0;
    size_t best_n = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && x[j] == x[i]) {
            j++;
        }
        if (j - i > best_n) {
            best_n = j - i;
            best = x[i];
        }
        i = j;
    }
    return best;
}

int pt_beacon_score(const int64_t *ts_in, const int64_t *bytes_in, size_t n, int64_t start,
                    int64_t end, struct pt_beacon *out)
{
    memset(out, 0, sizeof *out);
    out->connections = (unsigned)n;
    if (n >= 86400) {
        out->strobe = 1;
        out->bucketed = 0.8;
        return 1;
    }
    int64_t *ts = malloc((n ? n : 1) * sizeof *ts);
    int64_t *by = malloc((n ? n : 1) * sizeof *by);
    double *d = malloc((n ? n : 1) * sizeof *d);
    int64_t *di = malloc((n ? n : 1) * sizeof *di);
    if (ts == NULL || by == NULL || d == NULL || di == NULL) {
        free(ts);
        free(by);
        free(d);
        free(di);
        return 0;
    }
    memcpy(ts, ts_in, n * sizeof *ts);
    memcpy(by, bytes_in, n * sizeof *by);
    qsort(ts, n, sizeof *ts, cmp_i);
    qsort(by, n, sizeof *by, cmp_i);
    unsigned uniq = 0;
    for (size_t i = 0; i < n; i++) {
        uniq += i == 0 || ts[i] != ts[i - 1];
    }
    out->unique_ts = uniq;
    int ok = 0;
    if (uniq >= 4) {
        ok = 1;
        /* timestamps: non-zero deltas */
        size_t nd = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            int64_t delta = ts[i + 1] - ts[i];
            if (delta != 0) {
                di[nd] = delta;
                d[nd++] = (double)delta;
            }
        }
        if (nd >= 3) {
            qsort(d, nd, sizeof *d, cmp_d);
            qsort(di, nd, sizeof *di, cmp_i);
            out->ts = pt_beacon_stat_score(d, nd, 1.0);
            out->top_interval = mode(di, nd);
        }
        /* data sizes */
        if (n >= 3) {
            for (size_t i = 0; i < n; i++) {
                d[i] = (double)by[i];
            }
            out->ds = pt_beacon_stat_score(d, n, 0.0);
            out->top_size = mode(by, n);
        }
        unsigned longest = 0, bars = 0;
        out->hist = pt_beacon_hist_score(ts, n, start, end, &longest, &bars);
        if (bars >= 6 && end > start) {
            double coverage = fmin(1.0, ceil3((double)(ts[n - 1] - ts[0]) / (double)(end - start)));
            double consistency = fmin(1.0, ceil3((double)longest / 12.0));
            out->dur = fmax(coverage, consistency);
        }
        out->score = round3(0.25 * out->ts + 0.25 * out->ds + 0.25 * out->dur + 0.25 * out->hist);
        out->bucketed = pt_beacon_bucket(100.0 * out->score, 50, 70, 90, 100);
    }
    free(ts);
    free(by);
    free(d);
    free(di);
    return ok;
}
