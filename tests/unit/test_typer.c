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

/* The class of a type, the level at which the typer must agree with libmagic: text
 * subtypes (source code, scripts: text/x-c, text/x-shellscript...) are all "text". */
static const char *klass(const char *mime, const char *desc)
{
    static const struct {
        const char *mime, *k;
    } map[] = {
        {"application/x-empty", "empty"},    {"text/csv", "csv"},
        {"application/json", "json"},        {"application/x-ndjson", "ndjson"},
        {"text/html", "html"},               {"text/xml", "xml"},
        {"application/xml", "xml"},          {"image/svg+xml", "xml"},
        {"message/rfc822", "mail"},          {"message/news", "mail"},
        {"application/dicom", "dicom"},      {"application/gzip", "gzip"},
        {"application/pdf", "pdf"},          {"application/zip", "zip"},
        {"image/png", "png"},                {"image/jpeg", "jpeg"},
        {"image/gif", "gif"},                {"application/octet-stream", "data"},
        {"text/rtf", "rtf"},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
        if (strcmp(mime, map[i].mime) == 0) {
            return map[i].k;
        }
    }
    if (strncmp(desc, "HL7 v2", 6) == 0) {
        return "hl7";
    }
    if (strncmp(desc, "ASC X12", 7) == 0) {
        return "x12";
    }
    if (strncmp(mime, "text/", 5) == 0 || strcmp(mime, "application/javascript") == 0) {
        return "text";
    }
    if (strstr(mime, "openxmlformats") != NULL || strstr(mime, "opendocument") != NULL) {
        return "office";
    }
    return "other";
}

struct tally {
    char name[32];
    unsigned seen, named, same_class, same_mime, same_desc;
};

static struct tally fmt[48], implied[32];
static unsigned files, disagreements, refined;
static bool quiet;
static unsigned max_files = 4000;

static struct tally *row(struct tally *t, size_t cap, const char *name)
{
    size_t i = 0;
    while (i < cap - 1 && t[i].name[0] != '\0' && strcmp(t[i].name, name) != 0) {
        i++;
    }
    snprintf(t[i].name, sizeof t[i].name, "%s", name);
    return &t[i];
}

/* One buffer through both paths, compared with libmagic's two answers. The typer's own
 * formats (HL7, X12: text/plain to libmagic) count as text. */
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
    const char *lk = klass(mime, desc);
    struct tally *t = row(fmt, sizeof fmt / sizeof *fmt, lk);
    t->seen++;
    if (pt_type_sniff(p, n, smime, sizeof smime, sdesc, sizeof sdesc)) {
        const char *sk = klass(smime, sdesc);
        bool own = strcmp(sk, "hl7") == 0 || strcmp(sk, "x12") == 0;
        bool same_class = strcmp(sk, lk) == 0 || (own && strcmp(lk, "text") == 0);
        bool same_mime = strcmp(smime, mime) == 0;
        t->named++;
        t->same_class += same_class;
        t->same_mime += same_mime;
        t->same_desc += strcmp(sdesc, desc) == 0;
        if (!same_class || (!same_mime && strcmp(sk, "text") != 0)) {
            disagreements++;
            printf("DISAGREE %s: typer %s (%s), libmagic %s (%s)\n", what, smime, sdesc, mime,
                   desc);
        } else if (!same_mime || (strcmp(sk, "text") == 0 && strcmp(sdesc, desc) != 0 &&
                                  strstr(desc, sdesc) != NULL)) {
            refined++; /* text that libmagic's text rules call source code or a script */
            if (!quiet) {
                printf("text subtype %s: typer %s, libmagic %s (%s)\n", what, smime, mime, desc);
            }
        } else if (strcmp(sdesc, desc) != 0 && !own && strcmp(sk, "dicom") != 0 &&
                   strcmp(sk, "gzip") != 0 && strcmp(sk, "pdf") != 0 &&
                   strcmp(sk, "png") != 0 && strcmp(sk, "jpeg") != 0 && strcmp(sk, "gif") != 0) {
            /* text, CSV and HTML are named in libmagic's words: they must be its words */
            disagreements++;
            printf("DISAGREE words %s: typer \"%s\", libmagic \"%s\"\n", what, sdesc, desc);
        }
    }
    else if (getenv("PHITRACE_TYPER_LEFT") != NULL) {
        printf("left to libmagic %s: %s (%s)\n", what, mime, desc);
    }
    const char *im = pt_type_mime_of(desc);
    if (im != NULL) {
        bool ok = strcmp(im, mime) == 0;
        struct tally *r = row(implied, sizeof implied / sizeof *implied, im);
        r->seen++;
        r->same_mime += ok;
        if (!ok) {
            disagreements++;
            printf("DISAGREE implied %s: %s from \"%s\", libmagic %s\n", what, im, desc, mime);
        }
    }
}

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F || !S_ISREG(st->st_mode) || files >= max_files) {
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

static void report(void)
{
    printf("per class (libmagic's): files, named by the typer, of those the same class, MIME "
           "type and description as libmagic\n");
    printf("  %-8s %6s %6s %6s %6s %6s\n", "class", "files", "typer", "class", "MIME", "words");
    for (size_t i = 0; i < sizeof fmt / sizeof *fmt && fmt[i].name[0] != '\0'; i++) {
        printf("  %-8s %6u %6u %6u %6u %6u\n", fmt[i].name, fmt[i].seen, fmt[i].named,
               fmt[i].same_class, fmt[i].same_mime, fmt[i].same_desc);
    }
    printf("MIME type implied by libmagic's description (one call instead of two):\n");
    for (size_t i = 0; i < sizeof implied / sizeof *implied && implied[i].name[0] != '\0'; i++) {
        printf("  %-26s %5u of %5u agree\n", implied[i].name, implied[i].same_mime,
               implied[i].seen);
    }
    printf("text named text/plain that libmagic's text rules call a subtype: %u\n", refined);
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
        "[{\"a\":1},\n{\"b\":2}]\n",
        "{\"a\":1}\n{\"b\":2}\n",
    };
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        check((const uint8_t *)whole[i], strlen(whole[i]), "FHIR JSON the typer leaves");
        assert_false(pt_type_sniff((const uint8_t *)whole[i], strlen(whole[i]), smime,
                                   sizeof smime, sdesc, sizeof sdesc));
    }
    assert_int_equal(disagreements, 0);
}

/* Text the typer names in libmagic's own words (check() compares them word for word): line
 * ends, long lines, UTF-8, a byte order mark, escapes, CSV, HTML, script and style text, and
 * JSON the head cuts open; and text it must leave to libmagic. */
static void text_shapes(void **state)
{
    (void)state;
    static char big[PT_OBJ_MAGIC_BYTES];
    size_t n = 0;
    for (unsigned i = 0; n + 200 < sizeof big; i++) {
        n += (size_t)snprintf(big + n, sizeof big - n,
                              "function f%x(a,b){var c=a.length;for(var i=0;i<c;i++){if(a[i]"
                              "===b)return i;}return -1;}%s", i * 2654435761u,
                              i % 7 == 3 ? "\r\n" : i % 5 == 1 ? "" : "\n");
    }
    static const char *const named[] = {
        "plain words, nothing else\n",
        "two lines\r\nwith CRLF\r\n",
        "old Mac\rline ends\r",
        "mixed\r\nends\nhere\rand\n",
        "no terminator at all",
        "caf\xc3\xa9 au lait\n",
        "\xef\xbb\xbfwith a byte order mark\n",
        "tint \x1b[31mred\x1b[0m\n",
        "mrn,last,first,dob\n1,A,B,2000-01-01\n2,C,D,2001-01-01\n3,E,F,2002-01-01\n",
        "<!DOCTYPE html>\n<html><head><title>t</title></head><body><p>x</p></body></html>\n",
        ".site-1f{margin:0 auto;padding:3px;color:#a0b1c2;font-size:12px}\n.b{margin:0}\n",
        "{\"resourceType\":\"Patient\",\n\"id\":\"p1\",\"gender\":\"female\",",
        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"M\xc3\xbcller\"}],",
        "{\"resourceType\":\"Patient\",\"id\":\"a\tb\",",
        "{\"resourceType\":\"Patient\",\"text\":{\"div\":\"<div>Jane Doe</div>\"},\"id\":",
    };
    char smime[64], sdesc[200];
    for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
        check((const uint8_t *)named[i], strlen(named[i]), named[i]);
        assert_true(pt_type_sniff((const uint8_t *)named[i], strlen(named[i]), smime,
                                  sizeof smime, sdesc, sizeof sdesc));
    }
    for (size_t cut = 100; cut <= n; cut = cut * 3 + 17) {
        check((const uint8_t *)big, cut, "script text");
        assert_true(pt_type_sniff((const uint8_t *)big, cut, smime, sizeof smime, sdesc,
                                  sizeof sdesc));
    }
    static const char *const left[] = {
        "#!/bin/sh\necho hi\n",
        "Received: from a by b\r\nSubject: x\r\n\r\nbody\r\n",
        "From alice Mon Jan  1 00:00:00 2024\nSubject: x\n\nbody\n",
        "<?xml version=\"1.0\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>\n",
        "{\\rtf1\\ansi hello}\n",
        "%!PS-Adobe-3.0\n",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "see <a href=\"x\">this</a>\n",
        "BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n",
        "MZ is how it starts\n",
        "back\bspace\n",
        "\\documentclass{article}\n",
        "latin1 \xe9t\xe9\n",
        "x",
    };
    for (size_t i = 0; i < sizeof left / sizeof *left; i++) {
        check((const uint8_t *)left[i], strlen(left[i]), left[i]);
        assert_false(pt_type_sniff((const uint8_t *)left[i], strlen(left[i]), smime,
                                   sizeof smime, sdesc, sizeof sdesc));
    }
    assert_int_equal(disagreements, 0);
}

static void corpus_and_seeds(void **state)
{
    (void)state;
    quiet = true;
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
    /* more directories to compare on (objects exported from a case, system files):
     * PHITRACE_TYPER_DIRS=dir:dir..., PHITRACE_TYPER_MAX files in all (default 4000) */
    unsigned base = disagreements;
    const char *more = getenv("PHITRACE_TYPER_DIRS");
    if (more != NULL && more[0] != '\0') {
        const char *mx = getenv("PHITRACE_TYPER_MAX");
        max_files = mx != NULL && mx[0] != '\0' ? (unsigned)strtoul(mx, NULL, 10) : 100000;
        char dirs[4096];
        snprintf(dirs, sizeof dirs, "%s", more);
        for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d != NULL;
             d = strtok_r(NULL, ":", &save)) {
            nftw(d, visit, 16, FTW_PHYS);
        }
    }
    printf("typer: %u files and buffers compared with libmagic\n", files);
    report();
    if (disagreements > base) {
        printf("typer: %u disagreements in PHITRACE_TYPER_DIRS (shown above; not a failure)\n",
               disagreements - base);
    }
    assert_int_equal(base, 0);
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
        cmocka_unit_test(text_shapes),
        cmocka_unit_test(corpus_and_seeds),
    };
    int rc = cmocka_run_group_tests_name("typer", tests, NULL, NULL);
    magic_close(mg);
    return rc;
}
