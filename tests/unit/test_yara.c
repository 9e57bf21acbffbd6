/* test_yara.c - YARA windows (a match across a window edge is found once, at its absolute
 * offset), external variables, compile errors and slow-rule warnings, the shipped rules. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phi/yara_scan.h"

struct got {
    char rules[1024];
    uint64_t offsets[16];
    unsigned strings[16];
    unsigned n;
    unsigned anomalies;
};

static void on_match(void *arg, const struct pt_yara_match *m)
{
    struct got *g = arg;
    size_t l = strlen(g->rules);
    snprintf(g->rules + l, sizeof g->rules - l, "%s;", m->rule);
    if (g->n < 16) {
        g->strings[g->n] = m->strings;
        g->offsets[g->n++] = m->offset;
    }
}

static void on_anomaly(void *arg, uint64_t off, enum pt_anom kind, const char *detail)
{
    (void)off, (void)kind, (void)detail;
    ((struct got *)arg)->anomalies++;
}

static char dir[64];

static void write_rules(const char *text)
{
    snprintf(dir, sizeof dir, "/tmp/pt-yara-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/t.yar", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_rules(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/t.yar", dir);
    unlink(path);
    rmdir(dir);
}

static const char rules_text[] =
    "rule Edge { strings: $a = \"PATIENT-EXPORT-MARKER\" condition: $a }\n"
    "rule OnlyHttp { strings: $b = \"upload\" condition: $b and protocol == \"http\" }\n";

static void match_across_window_edge(void **state)
{
    (void)state;
    write_rules(rules_text);
    const char *dirs[1] = {dir};
    struct pt_yara *y = NULL;
    struct pt_yara_file files[4];
    size_t nf = 0;
    char err[256] = "";
    assert_int_equal(pt_yara_load(dirs, 1, NULL, files, 4, &nf, &y, err, sizeof err), PT_OK);
    assert_int_equal(nf, 1);
    assert_int_equal(pt_yara_rule_count(y), 2);
    /* windows of 4096 bytes overlapping by 1024: starts at 0, 3072, 6144, ... */
    struct pt_yara_scanner *s = pt_yara_scanner_new(y, 4096, 1024);
    assert_non_null(s);
    size_t n = 20000;
    uint8_t *buf = calloc(1, n);
    static const size_t where[] = {4085, 3500, 19990 - 21};
    for (size_t k = 0; k < sizeof where / sizeof where[0]; k++) {
        memset(buf, '.', n);
        memcpy(buf + where[k], "PATIENT-EXPORT-MARKER", 21);
        struct got g;
        memset(&g, 0, sizeof g);
        struct pt_yara_ext ext = {"f", "ftp", "upload", "text/plain"};
        pt_yara_scan(s, buf, n, &ext, on_match, on_anomaly, &g);
        assert_string_equal(g.rules, "Edge;");
        assert_int_equal(g.n, 1);
        assert_int_equal(g.offsets[0], where[k]);
    }
    /* the same marker twice, one in an overlap: one rule match, the first offset */
    memset(buf, '.', n);
    memcpy(buf + 100, "PATIENT-EXPORT-MARKER", 21);
    memcpy(buf + 3100, "PATIENT-EXPORT-MARKER upload", 28);
    struct got g;
    memset(&g, 0, sizeof g);
    struct pt_yara_ext http = {"f", "http", "upload", "text/plain"};
    pt_yara_scan(s, buf, n, &http, on_match, on_anomaly, &g);
    assert_string_equal(g.rules, "Edge;OnlyHttp;");
    assert_int_equal(g.offsets[0], 100);
    assert_int_equal(g.offsets[1], 3122);
    free(buf);
    pt_yara_scanner_free(s);
    pt_yara_free(y);
    remove_rules();
}

/* Windows after the first that are all zero bytes are skipped only when no string of the
 * rules can match in zeros: the answers are those of scanning every window. */
static void zero_windows(void **state)
{
    (void)state;
    static const char *const texts[2] = {
        "rule Mark { strings: $a = \"MARK-IN-DATA\" condition: $a }\n"
        "rule Size { condition: filesize > 10 }\n",
        "rule Mark { strings: $a = \"MARK-IN-DATA\" condition: $a }\n"
        "rule Zeros { strings: $z = { 00 00 00 00 } condition: $z }\n"};
    size_t n = 40000;
    uint8_t *buf = calloc(1, n);
    assert_non_null(buf);
    memcpy(buf + 30000, "MARK-IN-DATA", 12);  /* after 8 all-zero windows */
    memcpy(buf + 39990, "MARK-IN-DATA"+2, 10); /* cut: not a match */
    for (int t = 0; t < 2; t++) {
        write_rules(texts[t]);
        const char *dirs[1] = {dir};
        struct pt_yara *y = NULL;
        struct pt_yara_file files[4];
        size_t nf = 0;
        char err[256] = "";
        assert_int_equal(pt_yara_load(dirs, 1, NULL, files, 4, &nf, &y, err, sizeof err), PT_OK);
        struct pt_yara_scanner *s = pt_yara_scanner_new(y, 4096, 1024);
        assert_non_null(s);
        struct got g;
        memset(&g, 0, sizeof g);
        struct pt_yara_ext ext = {"f", "file", "at-rest", "application/octet-stream"};
        pt_yara_scan(s, buf, n, &ext, on_match, on_anomaly, &g);
        if (t == 0) { /* nothing matches zeros: the zero windows were skipped, same answer */
            assert_string_equal(g.rules, "Size;Mark;");
            assert_int_equal(g.offsets[1], 30000);
            assert_int_equal(g.strings[1], 1);
        } else { /* four zero bytes match at every offset not touching the markers: every
                  * window was scanned, each offset counted once */
            assert_string_equal(g.rules, "Zeros;Mark;"); /* by first offset */
            assert_int_equal(g.offsets[1], 30000);
            size_t zeros = 0;
            for (size_t i = 0; i + 4 <= n; i++) {
                zeros += memcmp(buf + i, "\0\0\0\0", 4) == 0;
            }
            assert_int_equal(g.strings[0], zeros);
        }
        pt_yara_scanner_free(s);
        pt_yara_free(y);
        remove_rules();
    }
    free(buf);
}

static void check_reports_errors_and_warnings(void **state)
{
    (void)state;
    write_rules("rule Bad { condition: $nope }\n");
    FILE *out = tmpfile();
    assert_int_not_equal(pt_yara_check(dir, false, out), PT_OK);
    fclose(out);
    remove_rules();
    write_rules("rule Slow { strings: $a = /[0-9]{3}-[0-9]{2}-[0-9]{4}/ condition: $a }\n");
    out = tmpfile();
    assert_int_equal(pt_yara_check(dir, false, out), PT_OK);
    assert_int_not_equal(pt_yara_check(dir, true, out), PT_OK); /* strict: the warning fails */
    rewind(out);
    char text[2048] = "";
    size_t got = fread(text, 1, sizeof text - 1, out);
    text[got] = '\0';
    assert_non_null(strstr(text, "may slow down scanning"));
    fclose(out);
    remove_rules();
}

static void shipped_rules_compile_without_warnings(void **state)
{
    (void)state;
    FILE *out = tmpfile();
    assert_int_equal(pt_yara_check(SIGNATURES_DIR, true, out), PT_OK);
    fclose(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(match_across_window_edge), cmocka_unit_test(zero_windows),
        cmocka_unit_test(check_reports_errors_and_warnings),
        cmocka_unit_test(shipped_rules_compile_without_warnings),
    };
    return cmocka_run_group_tests_name("yara", tests, NULL, NULL);
}
