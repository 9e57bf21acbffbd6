/*
 * replay_main.c - runs a fuzz target over files and directories (one level of files each),
 * so `make test` replays every seed and every committed crash under the sanitizers without
 * needing libFuzzer.
 *
 * With -t, every file is also replayed cut at every offset (truncate-at-every-offset: each
 * prefix is a fresh heap copy, so a read past the cut is caught by AddressSanitizer); files
 * longer than TRUNC_CUTS bytes are cut at TRUNC_CUTS evenly spaced offsets instead.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TRUNC_CUTS 256

static int truncate_mode;
static unsigned long runs;

static void run_copy(const uint8_t *buf, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, buf, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    runs++;
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    size_t got = n > 0 ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    run_copy(buf, got);
    if (truncate_mode) {
        size_t step = got > TRUNC_CUTS ? got / TRUNC_CUTS : 1;
        for (size_t cut = 0; cut < got; cut += step) {
            run_copy(buf, cut);
        }
    }
    free(buf);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int count = 0;
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-t") == 0) {
        truncate_mode = 1;
        first = 2;
    }
    for (int i = first; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s is missing\n", argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            count += replay_file(argv[i]) == 0;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        char *names[4096];
        int n = 0;
        while (d != NULL && (e = readdir(d)) != NULL && n < 4096) {
            if (e->d_name[0] != '.') {
                names[n++] = strdup(e->d_name);
            }
        }
        if (d != NULL) {
            closedir(d);
        }
        qsort(names, (size_t)n, sizeof *names, cmp);
        for (int k = 0; k < n; k++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", argv[i], names[k]);
            count += replay_file(p) == 0;
            free(names[k]);
        }
    }
    printf("replayed %d input(s)%s, %lu run(s)\n", count,
           truncate_mode ? " cut at every offset" : "", runs);
    return count > 0 ? 0 : 1;
}
