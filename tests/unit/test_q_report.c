/* test_q_report.c - the report modules' named queries (store/q_report.def) and the export
 * descriptors (store/q_export.h): each one runs on a new case, and rows read back with their
 * column names and types. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CASEDB_PREFIX "pt-test-qr"
#include "casedb.h"
#include "store/q_export.h"
#include "store/q_report.h"

/* Every named query prepares against the schema and reads to its end on a new case. */
static void every_named_query_runs_on_a_new_case(void **state)
{
    (void)state;
    for (int name = 0; name < PT_Q_COUNT; name++) {
        struct pt_q *q = NULL;
        assert_int_equal(pt_q_open(db, (enum pt_query)name, &q), PT_OK);
        assert_true(pt_q_columns(q) > 0);
        (void)pt_q_bind_int(q, 1, 10); /* the queries with a parameter (LIMIT ?, key = ?) */
        while (pt_q_step(q)) {
        }
        if (pt_q_done(q) != PT_OK) {
            fail_msg("query %d: %s", name, pt_q_errmsg(q));
        }
        pt_q_free(q);
    }
    struct pt_q *q = NULL;
    assert_int_equal(pt_q_open(db, PT_Q_COUNT, &q), PT_EINTERNAL);
    assert_null(q);
}

/* Rows come back with the query's column names and their types (a REAL column holding NULL
 * is NULL); a bound parameter selects the row. */
static void rows_keep_names_types_and_parameters(void **state)
{
    (void)state;
    exec("INSERT INTO limitation(kind, detail, value) VALUES ('capture_hole', 'a gap', 0.25), "
         "('memcap_evictions', 'b', NULL)");
    exec("INSERT INTO run_manifest(key, value) VALUES ('examiner', 'J. Doe'), ('org', 'x')");
    struct pt_q *q = NULL;
    assert_int_equal(pt_q_open(db, PT_Q_REPORT_LIMITATIONS, &q), PT_OK);
    assert_int_equal(pt_q_columns(q), 3);
    assert_string_equal(pt_q_name(q, 0), "kind");
    assert_string_equal(pt_q_name(q, 2), "value");
    assert_true(pt_q_step(q));
    assert_int_equal(pt_q_type(q, 0), PT_Q_TEXT);
    assert_string_equal(pt_q_text(q, 1), "a gap");
    assert_int_equal(pt_q_type(q, 2), PT_Q_REAL);
    assert_true(pt_q_real(q, 2) > 0.24 && pt_q_real(q, 2) < 0.26);
    assert_true(pt_q_step(q));
    assert_int_equal(pt_q_type(q, 2), PT_Q_NULL);
    assert_true(pt_q_is_null(q, 2));
    assert_string_equal(pt_q_text(q, 2), "");
    assert_false(pt_q_step(q));
    assert_int_equal(pt_q_done(q), PT_OK);
    pt_q_free(q);

    assert_int_equal(pt_q_open(db, PT_Q_REPORT_MANIFEST, &q), PT_OK);
    assert_int_equal(pt_q_bind_text(q, 1, "examiner"), PT_OK);
    assert_true(pt_q_step(q));
    assert_string_equal(pt_q_text(q, 0), "J. Doe");
    assert_false(pt_q_step(q));
    pt_q_free(q);
    exec("DELETE FROM limitation; DELETE FROM run_manifest WHERE key IN ('examiner', 'org')");
}

/* Every export kind, plain and as a timeline: hidden timeline columns first, the Community ID
 * inputs last for kinds with a flow, and the kinds without a time have no timeline. */
static void every_export_kind_runs_plain_and_timed(void **state)
{
    (void)state;
    static const char *const names[PT_QX_KINDS] = {"events", "findings", "objects", "flows",
                                                   "individuals", "timeline"};
    int timed = 0;
    for (int k = 0; k < PT_QX_KINDS; k++) {
        assert_string_equal(pt_qx_name((enum pt_qx_kind)k), names[k]);
        for (int timeline = 0; timeline < 2; timeline++) {
            if (timeline && !pt_qx_timed((enum pt_qx_kind)k)) {
                continue;
            }
            struct pt_q *q = NULL;
            assert_int_equal(pt_qx_open(db, (enum pt_qx_kind)k, timeline, &q), PT_OK);
            int n = pt_q_columns(q);
            assert_true(n > (timeline ? PT_QX_T_NCOLS : 0) +
                                (pt_qx_flow((enum pt_qx_kind)k) ? PT_QX_CID_NCOLS : 0));
            if (timeline) {
                assert_string_equal(pt_q_name(q, PT_QX_T_TIME), "_t");
                assert_string_equal(pt_q_name(q, PT_QX_T_NOTES), "_notes");
                timed++;
            }
            if (pt_qx_flow((enum pt_qx_kind)k)) {
                assert_string_equal(pt_q_name(q, n - PT_QX_CID_NCOLS), "_proto");
                assert_string_equal(pt_q_name(q, n - 1), "_msgs");
            }
            while (pt_q_step(q)) {
            }
            assert_int_equal(pt_q_done(q), PT_OK);
            pt_q_free(q);
        }
    }
    assert_false(pt_qx_timed(PT_QX_INDIVIDUALS));
    assert_int_equal(timed, PT_QX_KINDS - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_named_query_runs_on_a_new_case),
        cmocka_unit_test(rows_keep_names_types_and_parameters),
        cmocka_unit_test(every_export_kind_runs_plain_and_timed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
