/*
 * phi_bench.c - throughput of the free-text PHI candidate scanner (analyzer/phi/text.c) on
 * one core: the file is read into memory, scanned three times, and the median rate printed
 * with the number of hits. Usage: phi_bench FILE SIGNATURES_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phi/config.h"
#include "phi/phi.h"

static unsigned long hits;

static void on_hit(void *arg, const struct pt_phi_hit *h)
{
    (void)arg;
    (void)h;
    hits++;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: phi_bench FILE SIGNATURES_DIR\n");
        return 1;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        return 1;
    }
    fclose(f);
    char err[256];
    struct pt_phi_config_file files[4];
    size_t nf;
    if (pt_phi_config_load(argv[2], files, 4, &nf, err, sizeof err) != PT_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct pt_phi_sink sink = {.hit = on_hit};
    double t[3];
    for (int r = 0; r < 3; r++) {
        hits = 0;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pt_phi_text(buf, (size_t)n, 0, &sink);
        clock_gettime(CLOCK_MONOTONIC, &b);
        t[r] = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    }
    qsort(t, 3, sizeof *t, cmp);
    printf("phi-text %.3f %.1f %lu\n", t[1], (double)n / t[1] / 1e6, hits);
    free(buf);
    pt_phi_config_free();
    return 0;
}
