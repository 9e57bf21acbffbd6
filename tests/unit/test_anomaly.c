/* test_anomaly.c - the anomaly vocabulary (core/anomalies.def): every kind once, the limit.*
 * kinds are caps the limitations list, and the doc.<format>.<what> kinds follow the
 * document kinds of doctext.h. */
#include "cm.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "analyze/doctext.h"
#include "core/anomaly.h"

static void every_kind_once_and_well_formed(void **state)
{
    (void)state;
    for (int a = 0; a < PT_ANOM_COUNT; a++) {
        const struct pt_anom_info *i = pt_anom_info((enum pt_anom)a);
        assert_non_null(i);
        assert_non_null(i->kind);
        assert_non_null(strchr(i->kind, '.'));
        assert_true(strlen(i->kind) < 48);
        assert_true((i->limitation == PT_LIM_COUNTED) == (i->row != NULL && i->sentence != NULL));
        for (int b = 0; b < a; b++) {
            assert_string_not_equal(i->kind, pt_anom_kind((enum pt_anom)b));
        }
    }
    assert_null(pt_anom_info(PT_ANOM_COUNT));
    assert_string_equal(pt_anom_kind(PT_ANOM_COUNT), "");
}

static void caps_are_limitations(void **state)
{
    (void)state;
    for (int a = 0; a < PT_ANOM_COUNT; a++) {
        const struct pt_anom_info *i = pt_anom_info((enum pt_anom)a);
        bool cap = i->limitation == PT_LIM_CAP || i->limitation == PT_LIM_EVICT;
        assert_int_equal(strncmp(i->kind, "limit.", 6) == 0, cap);
        if (cap) {
            assert_int_equal(i->severity, PT_SEV_LIMIT);
        }
    }
    assert_int_equal(pt_anom_info(PT_ANOM_LIMIT_MEMCAP)->limitation, PT_LIM_EVICT);
    assert_string_equal(pt_anom_info(PT_ANOM_SMB_ENCRYPTED)->row, "smb_encrypted");
}

static void document_kinds_follow_doctext(void **state)
{
    (void)state;
    for (int k = PT_DOC_DOCX; k <= PT_DOC_PDF; k++) {
        char want[64];
        snprintf(want, sizeof want, "doc.%s.bad_xml", pt_doc_kind_name((enum pt_doc_kind)k));
        assert_string_equal(pt_anom_kind(PT_ANOM_DOC_BAD_XML + (k - PT_DOC_DOCX)), want);
        snprintf(want, sizeof want, "doc.%s.no_text", pt_doc_kind_name((enum pt_doc_kind)k));
        assert_string_equal(pt_anom_kind(PT_ANOM_DOC_NO_TEXT + (k - PT_DOC_DOCX)), want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_kind_once_and_well_formed),
        cmocka_unit_test(caps_are_limitations),
        cmocka_unit_test(document_kinds_follow_doctext),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
