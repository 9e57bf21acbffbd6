/* test_phi.c - PHI validators (research vectors), masking, free text, structured parsers,
 * and every parser cut at every offset of a sample. */
#include "cm.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/sha256.h"
#include "phi/config.h"
#include "phi/phase.h"
#include "phi/phi.h"

/* ---- validators: research/phi-disk-compliance.md §2.3 vectors ------------------------------ */

static void ssn_rules(void **state)
{
    (void)state;
    assert_true(pt_phi_ssn_valid("536225401"));
    assert_false(pt_phi_ssn_valid("000123456")); /* area 000 */
    assert_false(pt_phi_ssn_valid("666123456")); /* area 666 */
    assert_false(pt_phi_ssn_valid("900123456")); /* 9xx: ITIN, never an SSN */
    assert_false(pt_phi_ssn_valid("536005401")); /* group 00 */
    assert_false(pt_phi_ssn_valid("536220000")); /* serial 0000 */
    assert_false(pt_phi_ssn_valid("53622540a"));
    assert_true(pt_phi_ssn_denied("078051120")); /* the Woolworth wallet card */
    assert_true(pt_phi_ssn_denied("123456789"));
    assert_true(pt_phi_ssn_denied("555555555"));
    assert_false(pt_phi_ssn_denied("536225401"));
}

static void npi_dea_luhn_mbi(void **state)
{
    (void)state;
    assert_true(pt_phi_npi_valid("1234567893"));
    assert_false(pt_phi_npi_valid("1234567890"));
    assert_false(pt_phi_npi_valid("3234567893")); /* first digit 1 or 2 */
    assert_true(pt_phi_dea_valid("AB1234563"));
    assert_false(pt_phi_dea_valid("AB1234564"));
    assert_false(pt_phi_dea_valid("IB1234563")); /* I is not a registrant type */
    assert_true(pt_phi_luhn_valid("4111111111111111", 16));
    assert_false(pt_phi_luhn_valid("4111111111111112", 16));
    assert_true(pt_phi_card_denied("4111111111111111", 16));
    assert_true(pt_phi_mbi_valid("1EG4TE5MK73")); /* CMS example, dashes removed */
    assert_false(pt_phi_mbi_valid("1EG4TE5MK7S"));
    assert_false(pt_phi_mbi_valid("0EG4TE5MK73"));
    assert_false(pt_phi_mbi_valid("1SG4TE5MK73")); /* S is excluded */
}

static void dates_states_zips(void **state)
{
    (void)state;
    assert_true(pt_phi_date_valid("19610412"));
    assert_true(pt_phi_date_valid("20000229"));
    assert_false(pt_phi_date_valid("19000229"));
    assert_false(pt_phi_date_valid("19611312"));
    assert_false(pt_phi_date_valid("18000101"));
    assert_true(pt_phi_state_valid("MA"));
    assert_false(pt_phi_state_valid("XX"));
    assert_string_equal(pt_phi_zip_state("02115"), "MA");
    assert_string_equal(pt_phi_zip_state("94110"), "CA");
    assert_string_equal(pt_phi_zip_state("77030"), "TX");
    assert_string_equal(pt_phi_zip_state("9411a"), "");
}

static void icd10_table(void **state)
{
    (void)state;
    pt_phi_config_free();
    char err[256] = "";
    struct pt_phi_config_file files[4];
    size_t n = 0;
    assert_int_equal(pt_phi_config_load(SIGNATURES_DIR, files, 4, &n, err, sizeof err), PT_OK);
    assert_true(n >= 1);
    assert_true(pt_phi_config_icd10("U07.1"));
    assert_true(pt_phi_config_icd10("E11.9"));
    assert_true(pt_phi_config_icd10("S72001A"));
    assert_false(pt_phi_config_icd10("U99.9"));
    assert_false(pt_phi_config_icd10("A1B"));
    pt_phi_config_add_mask("RAD######");
    assert_true(pt_phi_config_mrn_mask("RAD001234", 9));
    assert_false(pt_phi_config_mrn_mask("RAD00123X", 9));
}

/* The signatures files' reader: comment lines, blanks, key = value with '#' kept inside a
 * value (an MRN mask), over-long lines; a bad setting in phi.conf is an error that names
 * the file and line. */
static void signature_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/pt-sig-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/phi.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "# comment\n\n  mrn_mask = RAD######   \n   # indented comment\n");
    for (int i = 0; i < 1500; i++) {
        fputc('x', f);
    }
    fprintf(f, "\nlast=1");
    fclose(f);
    struct pt_conf c;
    assert_true(pt_conf_open(&c, path));
    char *line = pt_conf_next(&c), *k = NULL, *v = NULL;
    assert_non_null(line);
    assert_int_equal(c.ln, 3);
    assert_true(pt_conf_kv(line, &k, &v));
    assert_string_equal(k, "mrn_mask");
    assert_string_equal(v, "RAD######");
    line = pt_conf_next(&c);
    assert_non_null(line);
    assert_true(c.too_long);
    assert_int_equal(strlen(line), sizeof c.line - 1);
    line = pt_conf_next(&c); /* the over-long line's rest was skipped, not taken as a line */
    assert_non_null(line);
    assert_int_equal(c.ln, 6);
    assert_string_equal(line, "last=1");
    assert_null(pt_conf_next(&c));
    pt_conf_close(&c);
    assert_false(pt_conf_open(&c, "/nonexistent/phi.conf"));

    /* a copy of the shipped table and a phi.conf with an unknown key on line 2 */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp %s/icd10cm.txt %s/ && printf 'mrn_mask = A#####\\nbogus = 1\\n' "
             "> %s/phi.conf", SIGNATURES_DIR, dir, dir);
    assert_int_equal(system(cmd), 0);
    pt_phi_config_free();
    char err[256] = "";
    struct pt_phi_config_file files[4];
    size_t n = 0;
    assert_int_equal(pt_phi_config_load(dir, files, 4, &n, err, sizeof err), PT_EUSAGE);
    assert_non_null(strstr(err, "phi.conf:2: unknown setting \"bogus\""));
    pt_phi_config_free();
    /* the mask as the file gives it, '#' digits included */
    snprintf(cmd, sizeof cmd, "printf '# masks\\nmrn_mask = RAD######\\n' > %s/phi.conf", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(pt_phi_config_load(dir, files, 4, &n, err, sizeof err), PT_OK);
    assert_true(pt_phi_config_mrn_mask("RAD123456", 9));
    assert_false(pt_phi_config_mrn_mask("RAD", 3));
    pt_phi_config_free();
    /* the tests that follow use the shipped tables */
    assert_int_equal(pt_phi_config_load(SIGNATURES_DIR, files, 4, &n, err, sizeof err), PT_OK);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void names_and_masks(void **state)
{
    (void)state;
    char out[128];
    assert_true(pt_phi_name_norm("Doe^John^Q^^", 12, false, out, sizeof out));
    assert_string_equal(out, "DOE^JOHN^Q");
    assert_true(pt_phi_name_norm("John  Doe", 9, true, out, sizeof out));
    assert_string_equal(out, "DOE^JOHN");
    assert_true(pt_phi_name_norm("Doe, John", 9, true, out, sizeof out));
    assert_string_equal(out, "DOE^JOHN");
    assert_false(pt_phi_name_norm("^^", 2, false, out, sizeof out));
    pt_phi_mask("ssn", "536225401", out, sizeof out);
    assert_string_equal(out, "***-**-5401");
    pt_phi_mask("name", "DOE^JOHN", out, sizeof out);
    assert_string_equal(out, "D**^J***");
    pt_phi_mask("birth_date", "19610412", out, sizeof out);
    assert_string_equal(out, "1961-**-**");
    pt_phi_mask("zip", "02115", out, sizeof out);
    assert_string_equal(out, "021**");
    pt_phi_mask("phone", "6175552368", out, sizeof out);
    assert_string_equal(out, "***-***-2368");
    pt_phi_mask("mrn", "4000123", out, sizeof out);
    assert_string_equal(out, "*****23");
}

/* ---- a sink that records "type=value" lines ------------------------------------------------------ */

struct got {
    char text[8192];
    size_t n;
    unsigned records, health, anomalies;
};

static void on_record(void *arg, const char *kind, uint64_t off)
{
    (void)kind;
    (void)off;
    ((struct got *)arg)->records++;
}

static void on_hit(void *arg, const struct pt_phi_hit *h)
{
    struct got *g = arg;
    int k = snprintf(g->text + g->n, sizeof g->text - g->n, "%s=%s;", pt_phi_type_name(h->type),
                     h->value);
    if (k > 0 && (size_t)k < sizeof g->text - g->n) {
        g->n += (size_t)k;
    }
}

static void on_health(void *arg, const char *what)
{
    (void)what;
    ((struct got *)arg)->health++;
}

static void on_anomaly(void *arg, uint64_t off, enum pt_anom kind, const char *detail)
{
    (void)off;
    (void)kind;
    (void)detail;
    ((struct got *)arg)->anomalies++;
}

static struct pt_phi_sink sink_of(struct got *g)
{
    memset(g, 0, sizeof *g);
    return (struct pt_phi_sink){g, on_record, on_hit, on_health, on_anomaly};
}

static void free_text(void **state)
{
    (void)state;
    struct got g;
    struct pt_phi_sink s = sink_of(&g);
    const char *t = "Patient seen today. MRN: 4000123, DOB: 04/12/1961, SSN 536-22-5401.\n"
                    "Phone (617) 645-2368, mail jo.doe@mail.example.org. Dx: E11.9.\n\n"
                    "Order 123456789 on 2021-03-04; invoice 000-12-3456; sample 123-45-6789;\n"
                    "line (617) 555-0123; card 4111 1111 1111 1111; NPI 1234567890.\n";
    pt_phi_text((const uint8_t *)t, strlen(t), 0, &s);
    assert_string_equal(g.text, "mrn=4000123;birth_date=19610412;ssn=536225401;"
                                "phone=6176452368;email=jo.doe@mail.example.org;"
                                "diagnosis_code=E11.9;");
    assert_int_equal(g.records, 1); /* the second paragraph names nobody: no record */
    assert_true(g.health >= 1);
    /* times of day are skipped, a value glued to its label after a colon is not */
    s = sink_of(&g);
    t = "12:58:03 login; at 09:15 MRN:4000123 SSN:536-22-5401 phone 617-645-2368 at 10:30\n";
    pt_phi_text((const uint8_t *)t, strlen(t), 0, &s);
    assert_string_equal(g.text, "mrn=4000123;ssn=536225401;phone=6176452368;");
    /* file names with an '@' in URLs (RITA's Zeek http logs) are no addresses; a real
     * address beside them still is */
    s = sink_of(&g);
    t = "GET /i/espn_app_72@2x.png /p/WC3ATCVDvh2@LTe9i9rxYAAAABM.PNG from ann@clinic.example.com\n";
    pt_phi_text((const uint8_t *)t, strlen(t), 0, &s);
    assert_string_equal(g.text, "email=ann@clinic.example.com;");
}

static const char hl7_msg[] =
    "MSH|^~\\&|RIS|RAD|EHR|HOSP|20240101||ADT^A01|1|P|2.5.1\r"
    "PID|1||4000123^^^HOSP^MR~536225401^^^SSA^SS||DOE^JOHN^Q||19610412|M|||1 Elm St^^Boston^MA^"
    "02115||(617)645-2368||||||536225401\r"
    "NK1|1|DOE^JANE|SPO\r"
    "DG1|1||E11.9^Diabetes^I10\r";

static void hl7_fields(void **state)
{
    (void)state;
    struct got g;
    struct pt_phi_sink s = sink_of(&g);
    pt_phi_hl7((const uint8_t *)hl7_msg, strlen(hl7_msg), &s);
    assert_string_equal(g.text, "mrn=4000123;ssn=536225401;name=DOE^JOHN^Q;birth_date=19610412;"
                                "address=1 ELM ST, BOSTON;zip=02115;phone=6176452368;"
                                "ssn=536225401;name=DOE^JANE;diagnosis_code=E11.9;");
    assert_int_equal(g.records, 1);
}

static const char fhir_doc[] =
    "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Patient\","
    "\"id\":\"p1\",\"identifier\":[{\"type\":{\"coding\":[{\"code\":\"MR\"}]},\"value\":\"4000123\"},"
    "{\"system\":\"http://hl7.org/fhir/sid/us-ssn\",\"value\":\"536-22-5401\"}],"
    "\"name\":[{\"family\":\"Doe\",\"given\":[\"John\"]}],\"birthDate\":\"1961-04-12\","
    "\"address\":[{\"line\":[\"1 Elm St\"],\"city\":\"Boston\",\"state\":\"MA\",\"postalCode\":"
    "\"02115\"}]}},{\"resource\":{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
    "\"Patient/p1\"}}}]}";

static void fhir_patient_and_reference(void **state)
{
    (void)state;
    struct got g;
    struct pt_phi_sink s = sink_of(&g);
    pt_phi_json((const uint8_t *)fhir_doc, strlen(fhir_doc), false, &s);
    assert_string_equal(g.text, "record_id=Patient/p1;mrn=4000123;ssn=536225401;name=DOE^JOHN;"
                                "birth_date=19610412;address=1 ELM ST, BOSTON;zip=02115;"
                                "record_id=Patient/p1;");
    assert_int_equal(g.records, 2);
}

static const char csv_doc[] = "MRN,First Name,Last Name,DOB,SSN,Zip,State\r\n"
                              "4000123,John,Doe,1961-04-12,536-22-5401,02115,MA\r\n"
                              "\"4000124\",\"Ann, Jr\",Roe,04/13/1962,,94110,CA\r\n";

static void csv_columns(void **state)
{
    (void)state;
    struct got g;
    struct pt_phi_sink s = sink_of(&g);
    assert_true(pt_phi_csv_header((const uint8_t *)csv_doc, strlen(csv_doc)));
    pt_phi_csv((const uint8_t *)csv_doc, strlen(csv_doc), &s);
    assert_string_equal(g.text, "mrn=4000123;birth_date=19610412;ssn=536225401;zip=02115;"
                                "name=DOE^JOHN;mrn=4000124;birth_date=19620413;zip=94110;"
                                "name=ROE^ANN JR;");
    assert_int_equal(g.records, 2);
}

/* A Zeek conn log: its "#types" line ("addr port addr port") is not a header naming address
 * columns, and its "#fields" columns (ts, uid, id.orig_h ...) name nothing of a patient. */
static const char zeek_conn[] =
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
    "#path\tconn\n#open\t2026-01-02-03-04-05\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
    "duration\torig_bytes\tresp_bytes\tconn_state\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\t"
    "count\tstring\n"
    "1700000000.000001\tCa1\t10.0.0.5\t41000\t198.51.100.7\t443\ttcp\tssl\t1.5\t300\t"
    "5000\tSF\n"
    "1700000001.000001\tCa2\t10.0.0.6\t41001\t203.0.113.9\t80\ttcp\thttp\t0.5\t200\t"
    "900\tSF\n";

static void csv_zeek_types_line_is_not_a_header(void **state)
{
    (void)state;
    struct got g;
    struct pt_phi_sink s = sink_of(&g);
    assert_false(pt_phi_csv_header((const uint8_t *)zeek_conn, strlen(zeek_conn)));
    pt_phi_csv((const uint8_t *)zeek_conn, strlen(zeek_conn), &s);
    assert_string_equal(g.text, "");
    /* the same "#types" words as a plain first line still make a header */
    static const char addr_doc[] = "#name\taddr\tzip\nJohn Doe\t1 Elm St\t02115\n";
    assert_true(pt_phi_csv_header((const uint8_t *)addr_doc, strlen(addr_doc)));
}

/* A minimal Part 10 file: explicit VR little endian, PatientName/ID/BirthDate. */
static size_t dicom_file(uint8_t *b)
{
    static const uint8_t ds[] = {
        0x02, 0x00, 0x10, 0x00, 'U', 'I', 20, 0, '1', '.', '2', '.', '8', '4', '0', '.', '1',
        '0', '0', '0', '8', '.', '1', '.', '2', '.', '1', 0,
        0x10, 0x00, 0x10, 0x00, 'P', 'N', 8, 0, 'D', 'o', 'e', '^', 'J', 'o', 'h', 'n',
        0x10, 0x00, 0x20, 0x00, 'L', 'O', 8, 0, '4', '0', '0', '0', '1', '2', '3', ' ',
        0x10, 0x00, 0x30, 0x00, 'D', 'A', 8, 0, '1', '9', '6', '1', '0', '4', '1', '2',
    };
    memset(b, 0, 128);
    memcpy(b + 128, "DICM", 4);
    memcpy(b + 132, ds, sizeof ds);
    return 132 + sizeof ds;
}

static void dicom_part10(void **state)
{
    (void)state;
    uint8_t b[512];
    size_t n = dicom_file(b);
    struct got g;
    struct pt_phi_sink s = sink_of(&g);
    pt_phi_dicom(b, n, &s);
    assert_string_equal(g.text, "name=DOE^JOHN;mrn=4000123;birth_date=19610412;");
    assert_int_equal(g.anomalies, 0);
    assert_int_equal(pt_phi_sniff(b, n), PT_PHI_FMT_DICOM);
}

/* Every parser on every prefix of its sample: no crash, no read past the cut (ASan), and a
 * cut DICOM file says so. */
static void truncate_at_every_offset(void **state)
{
    (void)state;
    uint8_t dcm[512];
    size_t dn = dicom_file(dcm);
    struct {
        const uint8_t *p;
        size_t n;
        void (*fn)(const uint8_t *, size_t, const struct pt_phi_sink *);
    } cases[] = {
        {(const uint8_t *)hl7_msg, sizeof hl7_msg - 1, pt_phi_hl7},
        {(const uint8_t *)csv_doc, sizeof csv_doc - 1, pt_phi_csv},
        {dcm, dn, pt_phi_dicom},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t cut = 0; cut <= cases[c].n; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, cases[c].p, cut);
            struct got g;
            struct pt_phi_sink s = sink_of(&g);
            cases[c].fn(copy, cut, &s);
            /* a cut between elements is a shorter data set; inside one it is an anomaly */
            if (cases[c].fn == pt_phi_dicom && cut > 132 && cut < dn && cut != 160 &&
                cut != 176 && cut != 192) {
                assert_true(g.anomalies > 0);
            }
            pt_phi_scan(copy, cut, &s);
            free(copy);
        }
    }
    for (size_t cut = 0; cut <= sizeof fhir_doc - 1; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, fhir_doc, cut);
        struct got g;
        struct pt_phi_sink s = sink_of(&g);
        pt_phi_json(copy, cut, false, &s);
        pt_phi_json(copy, cut, true, &s);
        free(copy);
    }
}

/* The keyed hash of PHI values (phase.c) is pt_hmac: it must equal libcrypto's HMAC() for
 * every key length and message length around the block boundaries, split or not. */
static void hmac_equals_openssl(void **state)
{
    (void)state;
    uint8_t key[64], msg[300], want[32], got[32];
    for (size_t i = 0; i < sizeof key; i++) {
        key[i] = (uint8_t)(i * 37 + 11);
    }
    for (size_t i = 0; i < sizeof msg; i++) {
        msg[i] = (uint8_t)(i * 13 + 7);
    }
    const size_t keylens[] = {1, 16, 32, 63, 64};
    for (size_t k = 0; k < sizeof keylens / sizeof keylens[0]; k++) {
        struct pt_hmac *h = pt_hmac_new(key, keylens[k]);
        assert_non_null(h);
        for (size_t n = 0; n < sizeof msg; n += n < 130 ? 1 : 17) {
            unsigned ml = 0;
            HMAC(EVP_sha256(), key, (int)keylens[k], msg, n, want, &ml);
            assert_true(pt_hmac_sha256(h, msg, n, NULL, 0, got));
            assert_memory_equal(want, got, 32);
            assert_true(pt_hmac_sha256(h, msg, n / 3, msg + n / 3, n - n / 3, got));
            assert_memory_equal(want, got, 32);
        }
        assert_false(pt_hmac_failed(h)); /* no MAC failed: the PHI stage goes on */
        pt_hmac_free(h);
    }
    uint8_t big[65] = {0};
    assert_null(pt_hmac_new(big, sizeof big));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ssn_rules),
        cmocka_unit_test(npi_dea_luhn_mbi),
        cmocka_unit_test(dates_states_zips),
        cmocka_unit_test(icd10_table),
        cmocka_unit_test(signature_files),
        cmocka_unit_test(names_and_masks),
        cmocka_unit_test(free_text),
        cmocka_unit_test(hl7_fields),
        cmocka_unit_test(fhir_patient_and_reference),
        cmocka_unit_test(csv_columns),
        cmocka_unit_test(csv_zeek_types_line_is_not_a_header),
        cmocka_unit_test(dicom_part10),
        cmocka_unit_test(truncate_at_every_offset),
        cmocka_unit_test(hmac_equals_openssl),
    };
    int rc = cmocka_run_group_tests_name("phi", tests, NULL, NULL);
    pt_phi_config_free();
    return rc;
}
