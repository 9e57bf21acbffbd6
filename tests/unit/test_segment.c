/* test_segment.c - free text cut into one record per person (analyzer/phi/text.c, "records"):
 * one test per layout rule, names after labels, name folding, JSON escapes and commented
 * CSV headers. Each record shows as '|' followed by its hits, so a test states the exact
 * grouping of identifiers into records. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            free(p);
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
        cmocka_unit_test(markup_rows),      cmocka_unit_test(truncated_layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
