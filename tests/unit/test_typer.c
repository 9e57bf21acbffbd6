/* test_typer.c - the built-in typer against libmagic: on every file of ../shared/corpus
 * (files other programs made), the fuzz seeds and crafted cases, whatever the typer names
 * must get the MIME type libmagic gives it, and a description's implied MIME type must be
 * libmagic's own. Prints the agreement per format. */
#include "cm.h"

#include <ftw.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyze/objstore.h"
#include "analyze/typer.h"

static magic_t mg;

struct tally {
    char name[64];
    unsigned seen, agree;
};

static struct tally sniffed[32], implied[32];
static unsigned files, disagreements;

static void count(struct tally *t, const char *name, bool ok)
{
    size_t i = 0;
    while (i < 31 && t[i].name[0] != '\0' && strcmp(t[i].name, name) != 0) {
        i++;
    }
    snprintf(t[i].name, sizeof t[i].name, "%s", name);
    t[i].seen++;
    t[i].agree += ok;
}

/* One buffer through both paths, compared with libmagic's two answers. */
static void check(const uint8_t *p, size_t n, const char *what)
{
    char desc[256], mime[128], smime[64], sdesc[200];
    const char *d = magic_buffer(mg, p, n);
    snprintf(desc, sizeof desc, "%s", d ? d : "");
    magic_setflags(mg, MAGIC_MIME_TYPE | MAGIC_ERROR);
    const char *m = magic_buffer(mg, p, n);
    snprintf(mime, sizeof mime, "%s", m ? m : "");
    magic_setflags(mg, MAGIC_NONE | MAGIC_ERROR);
    files++;
    if (pt_type_sniff(p, n, smime, sizeof smime, sdesc, sizeof sdesc)) {
        /* a description in libmagic's own words must be libmagic's, word for word */
        bool ok = strcmp(smime, mime) == 0 &&
                  (strncmp(sdesc, "ASCII text", 10) != 0 || strcmp(sdesc, desc) == 0);
        count(sniffed, strncmp(sdesc, "ASCII text", 10) == 0 ? "FHIR JSON cut (libmagic's text words)" : sdesc,
              ok);
        if (!ok) {
            disagreements++;
            printf("DISAGREE sniff %s: typer %s (%s), libmagic %s (%s)\n", what, smime, sdesc, mime,
                   desc);
        }
    }
    const char *im = pt_type_mime_of(desc);
    if (im != NULL) {
        bool ok = strcmp(im, mime) == 0;
        count(implied, im, ok);
        if (!ok) {
            disagreements++;
            printf("DISAGREE implied %s: %s from \"%s\", libmagic %s\n", what, im, desc, mime);
        }
    }
}

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F || !S_ISREG(st->st_mode) || files >= 4000) {
        return 0;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return 0;
    }
    static uint8_t buf[PT_OBJ_MAGIC_BYTES];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    check(buf, n, path);
    return 0;
}

static void report(const char *title, const struct tally *t)
{
    printf("%s\n", title);
    for (size_t i = 0; i < 32 && t[i].name[0] != '\0'; i++) {
        printf("  %-40s %5u of %5u agree with libmagic\n", t[i].name, t[i].agree, t[i].seen);
    }
}

static void crafted(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "MSH|^~\\&|LAB|HOSP|EHR|HOSP|20240101||ORU^R01|123|P|2.5\rPID|1||4200001^^^HOSP^MR||"
        "DOE^JANE||19610412|F\r",
        "MSH|^~\\&|LAB|HOSP\r\nPID|1||42^^^H^MR||M\xc3\x9cLLER^J\xc3\x9cRGEN\r\n",
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*0"
        "0501*000000001*0*P*:~GS*HC*S*R*20240101*1200*1*X*005010X222A1~",
        "mrn,last,first,dob\n1,A,B,2000-01-01\n2,C,D,2001-01-01\n3,E,F,2002-01-01\n",
        "{\"resourceType\": \"Patient\", \"id\": \"p1\"}",
        "<?xml version=\"1.0\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>\n",
        "<html><body>hello</body></html>\n",
        "plain words, nothing else\n",
        "",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        check((const uint8_t *)texts[i], strlen(texts[i]), "crafted text");
    }
    uint8_t dcm[300] = {0};
    memcpy(dcm + 128, "DICM\x02\x00\x00\x00UL\x04\x00", 12);
    check(dcm, sizeof dcm, "crafted DICOM");
    static const uint8_t gz[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    check(gz, sizeof gz, "crafted gzip");
    memcpy(dcm, "II*\0", 4); /* a TIFF header in the preamble: TIFF to libmagic */
    check(dcm, sizeof dcm, "crafted DICOM with a TIFF preamble");
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I',
                                  'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90,
                                  0x77, 0x53, 0xde};
    check(png, sizeof png, "crafted PNG");
    static const uint8_t jpg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0,
                                  0, 1, 0, 1, 0, 0, 0xff, 0xd9};
    check(jpg, sizeof jpg, "crafted JPEG");
    static const char gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00";
    check((const uint8_t *)gif, sizeof gif - 1, "crafted GIF");
    static const char pdf[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n";
    check((const uint8_t *)pdf, sizeof pdf - 1, "crafted PDF");
    static const uint8_t bin[] = {0, 1, 2, 3, 0xff, 0xfe, 7, 9, 'M', 'S', 'H', '|'};
    check(bin, sizeof bin, "crafted binary");
    /* HL7 with a NUL is not text: the typer must not name it */
    char smime[64], sdesc[200];
    assert_false(pt_type_sniff((const uint8_t *)"MSH|^~\\&|A\0B\r", 13, smime, sizeof smime,
                               sdesc, sizeof sdesc));
    assert_false(pt_type_sniff((const uint8_t *)"MSH|^~\\&|\xff\xfe", 11, smime, sizeof smime,
                               sdesc, sizeof sdesc));
    assert_int_equal(disagreements, 0);
}

/* FHIR JSON on one line, as servers send it: cut by the head (libmagic: text, named by the
 * typer in libmagic's words), whole (libmagic: JSON; left to it), and shapes the typer must
 * leave to libmagic (markup, line breaks, non-ASCII). */
static void fhir_heads(void **state)
{
    (void)state;
    static char doc[3 * PT_OBJ_MAGIC_BYTES];
    size_t n = (size_t)snprintf(doc, sizeof doc, "{\"resourceType\":\"Bundle\",\"type\":"
                                                 "\"searchset\",\"entry\":[");
    for (unsigned i = 0; n + 400 < sizeof doc; i++) {
        n += (size_t)snprintf(doc + n, sizeof doc - n,
                              "%s{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p%u\","
                              "\"name\":[{\"family\":\"Doe\\\"s\",\"given\":[\"Jane\"]}],"
                              "\"birthDate\":\"19%02u-04-12\",\"identifier\":[{\"system\":"
                              "\"urn:oid:2.16.840.1.113883.4.1\",\"value\":\"%09u\"}]}}",
                              i ? "," : "", i, i % 100, 100000000u + i * 7919u);
    }
    char smime[64], sdesc[200];
    const size_t cuts[] = {40, 299, 300, 301, 302, 1000, 4096, 9999, PT_OBJ_MAGIC_BYTES};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        check((const uint8_t *)doc, cuts[i], "FHIR bundle cut by the head");
        assert_true(pt_type_sniff((const uint8_t *)doc, cuts[i], smime, sizeof smime, sdesc,
                                  sizeof sdesc));
    }
    static const char *const whole[] = {
        "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"birthDate\":\"1961-04-12\"}",
        "{\"resourceType\":\"Patient\",\"id\":\"p1\"} trailing",
        "{\"resourceType\":\"Patient\",\"text\":{\"div\":\"<div>Jane Doe</div>\"},\"id\":",
        "{\"resourceType\":\"Patient\",\n\"id\":\"p1\",\"gender\":\"female\",",
        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"M\xc3\xbcller\"}],",
        "{\"resourceType\":\"Patient\",\"id\":\"a\tb\",",
    };
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        check((const uint8_t *)whole[i], strlen(whole[i]), "FHIR JSON the typer leaves");
        assert_false(pt_type_sniff((const uint8_t *)whole[i], strlen(whole[i]), smime,
                                   sizeof smime, sdesc, sizeof sdesc));
    }
    assert_int_equal(disagreements, 0);
}

static void corpus_and_seeds(void **state)
{
    (void)state;
    nftw("tests/fuzz/corpus", visit, 16, FTW_PHYS);
    nftw("samples", visit, 16, FTW_PHYS);
    struct stat st;
    char corpus[4096];
    const char *shared = getenv("PHITRACE_SHARED"); /* as tests/e2e/run_e2e.py */
    snprintf(corpus, sizeof corpus, "%s/corpus", shared && shared[0] ? shared : "../shared");
    if (stat(corpus, &st) == 0) {
        nftw(corpus, visit, 16, FTW_PHYS);
    } else {
        printf("typer: %s is absent; compared on the fuzz seeds and samples only\n", corpus);
    }
    printf("typer: %u files and buffers compared with libmagic\n", files);
    report("named by the typer (no libmagic call):", sniffed);
    report("MIME type implied by libmagic's description (one call instead of two):", implied);
    assert_int_equal(disagreements, 0);
    assert_true(files > 50);
}

int main(void)
{
    mg = magic_open(MAGIC_NONE | MAGIC_ERROR);
    if (mg == NULL || magic_load(mg, NULL) != 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crafted),
        cmocka_unit_test(fhir_heads),
        cmocka_unit_test(corpus_and_seeds),
    };
    int rc = cmocka_run_group_tests_name("typer", tests, NULL, NULL);
    magic_close(mg);
    return rc;
}
