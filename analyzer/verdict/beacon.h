/*
 * beacon.h - RITA v5 beacon score (research/network-anchors.md §6, from activecm/rita
 * analysis/beacons.go): timestamp, data-size, histogram and duration sub-scores, their
 * mean, and the bucketed threat score.
 *
 * Pure functions over arrays the caller owns; no I/O. Inputs are connection start times in
 * whole seconds and originator IP bytes per connection, plus the analysis window.
 */
#ifndef PT_BEACON_H
#define PT_BEACON_H

#include <stddef.h>
#include <stdint.h>

struct pt_beacon {
    double ts, ds, hist, dur;  /* sub-scores in [0, 1] */
    double score;              /* round3(mean of the four) */
    double bucketed;           /* RITA threat score, 0 when below 50 % */
    int64_t top_interval;      /* most frequent non-zero delta, seconds */
    int64_t top_size;          /* most frequent size */
    unsigned connections, unique_ts;
    int strobe;                /* 86 400 connections or more: strobe, score 0.8 */
};

/* Statistics of RITA (montanaflynn/stats conventions). `x` sorted ascending. */
double pt_beacon_median(const double *x, size_t n);
/* Bowley skewness and MAD combined: round3((1 - |skew| + madScore) / 2). */
double pt_beacon_stat_score(const double *sorted, size_t n, double mad_default);
/* 24-bin histogram score (max of CV and bimodal) and its longest circular run. */
double pt_beacon_hist_score(const int64_t *ts, size_t n, int64_t start, int64_t end,
                            unsigned *longest_run, unsigned *bars);
/* RITA's piecewise-linear bucketing of v (percent or seconds) with four thresholds. */
double pt_beacon_bucket(double v, double base, double low, double medium, double high);

/* The whole score. `ts` (seconds) and `bytes` need not be sorted; they are copied.
 * Returns 0 and a zero score when there are fewer than 4 unique timestamps. */
int pt_beacon_score(const int64_t *ts, const int64_t *bytes, size_t n, int64_t start,
                    int64_t end, struct pt_beacon *out);

#endif
