/* test_segment.c - free text cut into one record per person (analyzer/phi/text.c, "records"):
 * one test per layout rule, names after labels, name folding, JSON escapes and commented
 * CSV headers. Each record shows as '|' followed by its hits, so a test states the exact
 * grouping of identifiers into records. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "phi/phi.h"

struct seen {
    char text[16384];
    size_t n;
};

static void put(struct seen *g, const char *s)
{
    int k = snprintf(g->text + g->n, sizeof g->text - g->n, "%s", s);
    if (k > 0 && (size_t)k < sizeof g->text - g->n) {
        g->n += (size_t)k;
    }
}

static void on_record(void *arg, const char *kind, uint64_t off)
{
    (void)kind;
    (void)off;
    put(arg, "|");
}

static void on_hit(void *arg, const struct pt_phi_hit *h)
{
    char b[400];
    snprintf(b, sizeof b, "%s=%s;", pt_phi_type_name(h->type), h->value);
    put(arg, b);
}

static const char *segs(const char *text)
{
    static struct seen g;
    memset(&g, 0, sizeof g);
    struct pt_phi_sink s = {&g, on_record, on_hit, NULL, NULL};
    pt_phi_scan((const uint8_t *)text, strlen(text), &s);
    return g.text;
}

/* Rule 1: log lines, JSON Lines and headerless delimited rows are one record each. */
static void line_records(void **state)
{
    (void)state;
    assert_string_equal(segs("2024-01-05 10:00:01 viewer opened chart MRN: 4000123\n"
                             "2024-01-05 10:00:02 viewer opened chart MRN: 4000124\n"
                             "2024-01-05 10:00:03 export done\n"
                             "2024-01-05 10:00:04 viewer opened chart MRN: 4000125\n"),
                        "|mrn=4000123;|mrn=4000124;|mrn=4000125;");
    assert_string_equal(segs("{\"mrn\": \"4000123\", \"ssn\": \"536-22-5401\"}\n"
                             "{\"mrn\": \"4000124\", \"ssn\": \"536-22-5402\"}\n"
                             "{\"mrn\": \"4000125\", \"ssn\": \"536-22-5403\"}\n"),
                        "|mrn=4000123;ssn=536225401;|mrn=4000124;ssn=536225402;"
                        "|mrn=4000125;ssn=536225403;");
    assert_string_equal(segs("4000123\tDOE\tJANE\t536-22-5401\n"
                             "4000124\tROE\tJOHN\t536-22-5402\n"
                             "4000125\tPOE\tJUNE\t536-22-5403\n"),
                        "|ssn=536225401;|ssn=536225402;|ssn=536225403;");
}

/* Rule 2: blank lines, rule lines and form feeds end blocks. */
static void block_separators(void **state)
{
    (void)state;
    assert_string_equal(segs("Seen today, SSN 536-22-5401, stable.\n\n"
                             "Follow-up call, SSN 536-22-5402.\n"
                             "------------------------------\n"
                             "Referral sent, SSN 536-22-5403.\n"
                             "\fPage 2\nMRN: 4000126 discharged.\n"),
                        "|ssn=536225401;|ssn=536225402;|ssn=536225403;|mrn=4000126;");
}

/* Rule 3: a repeated leading label starts each record (key:value blocks, LIS printouts). */
static void repeated_labels(void **state)
{
    (void)state;
    assert_string_equal(segs("Name: Jane Doe\nDOB: 1961-04-12\nMRN: 4000123\n"
                             "Name: John Roe\nDOB: 1970-01-02\nMRN: 4000124\n"),
                        "|name=DOE^JANE;birth_date=19610412;mrn=4000123;"
                        "|name=ROE^JOHN;birth_date=19700102;mrn=4000124;");
    assert_string_equal(segs("GENERAL HOSPITAL LAB - RESULTS\n"
                             "PATIENT: DOE, JANE   MRN: 4000123   DOB: 04/12/1961\n"
                             "  GLUCOSE   95 mg/dL\n"
                             "PATIENT: ROE, JOHN   MRN: 4000124   DOB: 01/02/1970\n"
                             "  GLUCOSE   101 mg/dL\n"),
                        "|name=DOE^JANE;mrn=4000123;birth_date=19610412;"
                        "|name=ROE^JOHN;mrn=4000124;birth_date=19700102;");
}

/* Rule 4: several values of one subject identifier split at their lines (report rows). */
static void anchor_split(void **state)
{
    (void)state;
    assert_string_equal(segs("CENSUS  UNIT 4B\n"
                             "BED 01  MRN 4000123  SSN 536-22-5401  DOB 04/12/1961\n"
                             "BED 02  MRN 4000124  SSN 536-22-5402  DOB 01/02/1970\n"
                             "        (isolation)\n"
                             "BED 03  MRN 4000125  SSN 536-22-5403  DOB 03/03/1980\n"),
                        "|mrn=4000123;ssn=536225401;birth_date=19610412;"
                        "|mrn=4000124;ssn=536225402;birth_date=19700102;"
                        "|mrn=4000125;ssn=536225403;birth_date=19800303;");
    /* one patient mentioned twice stays one record */
    assert_string_equal(segs("Seen: SSN 536-22-5401 today.\nRecall SSN 536-22-5401 in May.\n"),
                        "|ssn=536225401;ssn=536225401;");
}

/* Names only after a patient-name label that is a field of its own. */
static void names_after_labels(void **state)
{
    (void)state;
    assert_string_equal(segs("Patient: Jane Doe, DOB: 04/12/1961\n"),
                        "|name=DOE^JANE;birth_date=19610412;");
    assert_string_equal(segs("Patient Name: O'Neil, Mary-Kate   MRN: 4000123\n"),
                        "|name=O'NEIL^MARY-KATE;mrn=4000123;");
    assert_string_equal(segs("Provider Name: Alan Grant  MRN: 4000123\n"), "|mrn=4000123;");
    assert_string_equal(segs("Name: Room 12  MRN: 4000123\n"), "|mrn=4000123;");
}

/* Names compare across case, accents and decomposition; the value keeps its letters. */
static void name_folding(void **state)
{
    (void)state;
    char a[128], b[128], f1[128], f2[128], f3[128];
    assert_true(pt_phi_name_norm("Müller^Jürgen", strlen("Müller^Jürgen"), false, a, sizeof a));
    assert_string_equal(a, "MÜLLER^JÜRGEN");
    assert_true(pt_phi_name_norm("ÄNEAS^RüDIGER", strlen("ÄNEAS^RüDIGER"), false, b, sizeof b));
    assert_string_equal(b, "ÄNEAS^RÜDIGER");
    pt_phi_name_fold(a, f1, sizeof f1);
    pt_phi_name_fold("Muller^Jurgen", f2, sizeof f2);
    pt_phi_name_fold("Mu\xcc\x88ller^Ju\xcc\x88rgen", f3, sizeof f3); /* decomposed */
    assert_string_equal(f1, "MULLER^JURGEN");
    assert_string_equal(f2, f1);
    assert_string_equal(f3, f1);
    pt_phi_name_fold("Weiß^Zoë", f1, sizeof f1);
    assert_string_equal(f1, "WEISS^ZOE");
    pt_phi_name_fold("O'Brien-Łukasz^Ñúñez", f1, sizeof f1);
    assert_string_equal(f1, "OBRIEN LUKASZ^NUNEZ");
    pt_phi_name_fold("Иванов^Пётр", f1, sizeof f1);
    assert_string_equal(f1, "ИВАНОВ^ПЁТР");
    pt_phi_name_fold("caf\xe9", f1, sizeof f1); /* Latin-1 byte: passes through */
    assert_string_equal(f1, "CAF\xe9");
}

/* FHIR JSON: \u escapes (and surrogate pairs) become UTF-8. */
static void json_escapes(void **state)
{
    (void)state;
    assert_string_equal(segs("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"name\":[{\"family\":"
                             "\"Garc\\u00eda\",\"given\":[\"Jos\\u00e9\"]}],"
                             "\"birthDate\":\"1961-04-12\"}"),
                        "|record_id=Patient/p1;name=GARCÍA^JOSÉ;birth_date=19610412;");
    assert_string_equal(segs("{\"resourceType\":\"Patient\",\"id\":\"p2\",\"name\":[{\"family\":"
                             "\"X\\ud83d\\ude00\",\"given\":[\"Bad\\uZZZZ\"]}]}"),
                        "|record_id=Patient/p2;name=X\xf0\x9f\x98\x80^BAD\xef\xbf\xbd;");
}

/* Delimited exports with comment lines and a '#' header are tables, one record a row. */
static void commented_header(void **state)
{
    (void)state;
    assert_string_equal(segs("# export 2024-01-01 by admin\n"
                             "#mrn|last|first|dob|ssn|dx\n"
                             "4000123|DOE|JANE|1961-04-12|536-22-5401|E11.9\n"
                             "4000124|ROE|JOHN|1970-01-02|536-22-5402|I10\n"),
                        "|mrn=4000123;birth_date=19610412;ssn=536225401;diagnosis_code=E11.9;"
                        "name=DOE^JANE;|mrn=4000124;birth_date=19700102;ssn=536225402;"
                        "diagnosis_code=I10;name=ROE^JOHN;");
}

/* XML and HTML that are neither FHIR nor CDA: one record per row element; leaf names are
 * the labels; an HTML table with a header row is read as a table. */
static void markup_rows(void **state)
{
    (void)state;
    assert_string_equal(segs("<?xml version=\"1.0\"?>\n<export>\n"
                             "  <patient><mrn>4000123</mrn><dob>1961-04-12</dob></patient>\n"
                             "  <patient>\n    <mrn>4000124</mrn>\n    <ssn>536-22-5402</ssn>\n"
                             "  </patient>\n</export>\n"),
                        "|mrn=4000123;birth_date=19610412;|mrn=4000124;ssn=536225402;");
    assert_string_equal(segs("<html><body><h1>Census</h1><table>\n"
                             "<tr><th>MRN</th><th>Last Name</th><th>First Name</th><th>DOB</th></tr>\n"
                             "<tr>\n <td>4000123</td>\n <td>DOE</td><td>JANE</td><td>1961-04-12</td>"
                             "</tr>\n<tr><td>4000124</td><td>ROE</td><td>JOHN</td>"
                             "<td>1970-01-02</td></tr></table></body></html>\n"),
                        "|mrn=4000123;birth_date=19610412;name=DOE^JANE;"
                        "|mrn=4000124;birth_date=19700102;name=ROE^JOHN;");
}

/* Fixed-width reports: a header over a rule line of dash groups; columns by characters. */
static void fixed_width(void **state)
{
    (void)state;
    assert_string_equal(segs("RIVERSIDE GENERAL  MIDNIGHT CENSUS\n"
                             "ROOM  PATIENT NAME        MRN       DOB\n"
                             "----  ------------------  --------  ----------\n"
                             "4W21  JENKINS, ELIZABETH  10999721  1961-04-12\n"
                             "4W38  DVO\xc5\x98\xc3\x81K, ANE\xc5\xbdKA      48708610  1970-01-02\n"
                             "UNIT TOTAL: 2\n"),
                        "|name=JENKINS^ELIZABETH;mrn=10999721;birth_date=19610412;"
                        "|name=DVO\xc5\x98\xc3\x81K^ANE\xc5\xbdKA;mrn=48708610;"
                        "birth_date=19700102;");
}

/* Export column names with prefixes, JSON names, plan ids, dotted dates, HTML entities and a
 * headerless clinical table's record-number column. */
static void more_layouts(void **state)
{
    (void)state;
    assert_string_equal(segs("PAT_MRN|PAT_LAST|PAT_FIRST|BIRTH_DATE|PCP_NPI|LAST_DX\n"
                             "26636549|WOOD|JESSICA|2015-06-03|2275372011|F32.9\n"),
                        "|mrn=26636549;birth_date=20150603;diagnosis_code=F32.9;"
                        "name=WOOD^JESSICA;");
    assert_string_equal(segs("{\"mrn\": \"40716583\", \"name\": {\"family\": \"Taylor\", "
                             "\"given\": \"Ashley\"}}\n{\"mrn\": \"40716584\", \"name\": "
                             "\"Sharon Baker\"}\n{\"mrn\": \"40716585\"}\n"),
                        "|mrn=40716583;name=TAYLOR^ASHLEY;|mrn=40716584;name=BAKER^SHARON;"
                        "|mrn=40716585;");
    assert_string_equal(segs("Name: Ronald Cook\nInsurance: Harvard Pilgrim  Member ID: "
                             "HPH013473582\n"),
                        "|name=COOK^RONALD;health_plan_id=HPH013473582;");
    assert_string_equal(segs("Surname;Given name;Date of birth\nPeterson;Joshua;03.06.1973\n"),
                        "|birth_date=19730603;name=PETERSON^JOSHUA;");
    assert_string_equal(segs("<table><tr><th>Patient</th><th>MRN</th></tr>\n"
                             "<tr><td>Garc&#237;a, Jos&eacute;</td><td>46836607</td></tr>"
                             "</table>"),
                        "|name=GARC\xc3\x8d" "A^JOS\xc3\x89;mrn=46836607;");
    assert_string_equal(segs("L26-4925427\t77300513\t2026-11-27 06:27\tGLUCOSE\t192\tmg/dL\n"
                             "L26-6616150\t77300513\t2026-11-27 04:02\tTSH\t7.0\tuIU/mL\n"
                             "L26-4254836\t42970701\t2026-11-27 08:40\tSODIUM\t129\tmmol/L\n"
                             "L26-5705856\t42970701\t2026-11-27 08:26\tCREATININE\t1.7\tmg/dL\n"),
                        "|mrn=77300513;|mrn=77300513;|mrn=42970701;|mrn=42970701;");
    /* the same numbers without anything clinical are not record numbers */
    assert_string_equal(segs("A-1\t77300513\tlogin\nA-2\t77300513\tlogout\n"
                             "A-3\t42970701\tlogin\nA-4\t42970701\tlogout\n"),
                        "");
}

/* Binary content: printable runs (ASCII and UTF-16LE) read as carved text, offsets the
 * object's. */
static struct seen carved_seen;
static uint64_t carved_off[8];
static unsigned carved_n;

static void carved_record(void *arg, const char *kind, uint64_t off)
{
    assert_memory_equal(kind, "carved ", 7);
    on_record(arg, kind, off);
}

static void carved_hit(void *arg, const struct pt_phi_hit *h)
{
    if (carved_n < 8) {
        carved_off[carved_n++] = h->offset;
    }
    on_hit(arg, h);
}

static void binary_strings(void **state)
{
    (void)state;
    uint8_t img[600];
    for (size_t i = 0; i < sizeof img; i++) {
        img[i] = (uint8_t)(i * 7 + 3) | 0x80; /* no printable byte */
    }
    const char *a = "MRN: 4000123 seen";
    memcpy(img + 100, a, strlen(a));
    const char *u = "SSN 536-22-5401";
    for (size_t k = 0; k < strlen(u); k++) {
        img[301 + 2 * k] = (uint8_t)u[k];
        img[302 + 2 * k] = 0;
    }
    memset(&carved_seen, 0, sizeof carved_seen);
    carved_n = 0;
    struct pt_phi_sink s = {&carved_seen, carved_record, carved_hit, NULL, NULL};
    uint64_t read = pt_phi_strings(img, sizeof img, &s);
    assert_string_equal(carved_seen.text, "|mrn=4000123;|ssn=536225401;");
    assert_int_equal(carved_n, 2);
    assert_int_equal(carved_off[0], 105);     /* "4000123" in the ASCII run */
    assert_int_equal(carved_off[1], 301 + 8); /* "536..." is the 5th UTF-16 character */
    assert_int_equal(read, strlen(a) + 2 * strlen(u));
}

/* Cut at every offset, no rule reads out of bounds (ASan) and records stay consistent. */
static void truncated_layouts(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "PATIENT: DOE, JANE   MRN: 4000123   DOB: 04/12/1961\n---\nPATIENT: ROE, JOHN  MRN: 4000124\n",
        "2024-01-05 10:00:01 MRN: 4000123\n2024-01-05 10:00:02 MRN: 4000124\n2024-01-05 x\n",
        "Name: Jane Doe\nDOB: 1961-04-12\nName: John Roe\n\fSSN 536-22-5401\n",
        "<x><p><mrn>4000123</mrn></p><p><mrn>4000124</mrn></p></x>",
        "<table><tr><th>MRN</th><th>DOB</th></tr><tr><td>4000123</td><td>1961-04-12</td></tr>",
        "PATIENT NAME   MRN\n-------------  --------\nDOE, JANE      40001234\n",
        "{\"name\": {\"family\": \"Taylor\", \"given\": \"Ashley\"}}",
        "<p>Jos&eacute; &#x4e2d; &#99999999; &amp</p>",
        "1\t40001234\tGLUCOSE\n2\t40001234\tWBC\n3\t40001235\tTSH\n",
    };
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        size_t n = strlen(docs[d]);
        for (size_t cut = 0; cut <= n; cut++) {
            uint8_t *p = malloc(cut ? cut : 1);
            assert_non_null(p);
            memcpy(p, docs[d], cut);
            struct seen g;
            memset(&g, 0, sizeof g);
            struct pt_phi_sink s = {&g, on_record, on_hit, NULL, NULL};
            pt_phi_text(p, cut, 0, &s);
            pt_phi_scan(p, cut, &s);
            pt_phi_strings(p, cut, &s);
            free(p);
        }
    }
}


/* ---- the run finder against the byte-at-a-time loop it replaced ---- */

struct runlist {
    size_t n;
    size_t off[4096], len[4096];
    bool wide[4096];
};

static void collect_run(void *arg, size_t off, size_t len, bool wide)
{
    struct runlist *l = arg;
    assert_true(l->n < 4096);
    l->off[l->n] = off;
    l->len[l->n] = len;
    l->wide[l->n++] = wide;
}

static bool ref_printable(uint8_t c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static size_t ref_at(const uint8_t *p, size_t n, size_t i)
{
    if (ref_printable(p[i])) {
        return 1;
    }
    return p[i] >= 0xc2 && p[i] <= 0xdf && i + 1 < n && (p[i + 1] & 0xc0) == 0x80 ? 2 : 0;
}

/* The loop of strings.c before word-at-a-time masks, as the reference. */
static void ref_runs(const uint8_t *p, size_t n, struct runlist *l)
{
    size_t i = 0, w;
    while (i < n) {
        while (i < n && ref_at(p, n, i) == 0) {
            i++;
        }
        size_t a = i;
        while (i < n && (w = ref_at(p, n, i)) > 0) {
            i += w;
        }
        if (i - a >= PT_PHI_STRINGS_MIN) {
            collect_run(l, a, i - a, false);
        }
    }
    for (size_t par = 0; par < 2; par++) {
        i = par;
        while (i + 1 < n) {
            while (i + 1 < n && !(p[i + 1] == 0 && (ref_printable(p[i]) || p[i] >= 0xa0))) {
                i += 2;
            }
            size_t a = i;
            while (i + 1 < n && p[i + 1] == 0 && (ref_printable(p[i]) || p[i] >= 0xa0)) {
                i += 2;
            }
            if ((i - a) / 2 >= PT_PHI_STRINGS_MIN) {
                collect_run(l, a, i - a, true);
            }
        }
    }
}

/* Random bytes drawn from alphabets that make many runs (printable, UTF-8 pairs, UTF-16),
 * at every length up to 700 and every start alignment: the same runs in the same order. */
static void runs_match_reference(void **state)
{
    (void)state;
    static const uint8_t alpha[] = {'a', 'Z', '0', ' ', '\n', '\t', 11, 0, 0, 0, 0xc3, 0xa9,
                                    0xdf, 0x80, 0xbf, 0xc1, 0xe0, 0xa0, 0xff, 0x7f, 0x1f, 0xc2};
    static uint8_t buf[800];
    static struct runlist got, want;
    uint32_t x = 12345;
    for (unsigned round = 0; round < 3000; round++) {
        size_t n = round % 700, off = round % 7;
        /* 0 random bytes, 1 alphabet, 2 mostly text, 3 UTF-16, 4 text islands in zeros (a
         * disk image's empty space: whole zero blocks are skipped) */
        unsigned mode = round % 5;
        for (size_t k = 0; k < n; k++) {
            x = x * 1103515245u + 12345u;
            uint8_t r = (uint8_t)(x >> 16);
            uint8_t c = mode == 0 ? r : alpha[r % sizeof alpha];
            if (mode == 2 && r % 16 != 0) {
                c = (uint8_t)('a' + r % 26);
            } else if (mode == 3) {
                c = (k & 1) ? (r % 8 ? 0 : r) : (uint8_t)(r % 5 ? 'a' + r % 26 : r);
            } else if (mode == 4) {
                c = (k / 50) % 3 != 0 ? 0 : r % 7 ? (uint8_t)('a' + r % 26) : r;
            }
            buf[off + k] = c;
        }
        got.n = want.n = 0;
        pt_phi_strings_runs(buf + off, n, collect_run, &got);
        ref_runs(buf + off, n, &want);
        assert_int_equal(got.n, want.n);
        for (size_t k = 0; k < got.n; k++) {
            assert_int_equal(got.off[k], want.off[k]);
            assert_int_equal(got.len[k], want.len[k]);
            assert_int_equal(got.wide[k], want.wide[k]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_records),     cmocka_unit_test(block_separators),
        cmocka_unit_test(repeated_labels),  cmocka_unit_test(anchor_split),
        cmocka_unit_test(names_after_labels), cmocka_unit_test(name_folding),
        cmocka_unit_test(json_escapes),     cmocka_unit_test(commented_header),
        cmocka_unit_test(markup_rows),      cmocka_unit_test(fixed_width),
        cmocka_unit_test(more_layouts),     cmocka_unit_test(binary_strings),
        cmocka_unit_test(truncated_layouts), cmocka_unit_test(runs_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
