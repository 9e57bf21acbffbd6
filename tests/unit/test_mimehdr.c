/* test_mimehdr.c - MIME parameters (RFC 2045, RFC 2231) and encoded words (RFC 2047) to
 * UTF-8: every form, charsets through iconv, what does not decode kept as sent, and every
 * input cut at every offset. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/mimehdr.h"

static void param_is(const char *value, const char *name, const char *want)
{
    char out[256];
    bool found = pt_mime_param(value, name, out, sizeof out);
    if (want == NULL) {
        assert_false(found);
        assert_string_equal(out, "");
        return;
    }
    assert_true(found);
    assert_string_equal(out, want);
}

static void words_are(const char *text, const char *want)
{
    char out[256];
    pt_mime_words(text, out, sizeof out);
    assert_string_equal(out, want);
}

static void plain_parameters(void **state)
{
    (void)state;
    param_is("attachment; filename=\"patients.csv\"", "filename", "patients.csv");
    param_is("attachment; filename=patients.csv; size=10", "filename", "patients.csv");
    param_is("attachment;filename=my export.csv ", "filename", "my export.csv"); /* lenient */
    param_is("form-data; name=\"up\"; filename=\"x.csv\"", "name", "up");
    param_is("form-data; name=\"up\"; filename=\"x.csv\"", "filename", "x.csv");
    param_is("text/csv; NAME=\"a;b.csv\"", "name", "a;b.csv"); /* quoted ';' and any case */
    param_is("attachment; filename=\"a\\\"b.csv\"", "filename", "a\"b.csv"); /* quoted-pair */
    param_is("attachment; filename=\"\"", "filename", "");
    param_is("attachment; xfilename=\"no.csv\"", "filename", NULL);
    param_is("attachment", "filename", NULL);
    param_is("", "filename", NULL);
    param_is("attachment; filename", "filename", NULL); /* no value */
}

static void rfc2231_parameters(void **state)
{
    (void)state;
    /* RFC 2231 §4: charset and language, percent-encoded */
    param_is("attachment; filename*=UTF-8''%e2%82%ac%20rates.csv", "filename", "\u20ac rates.csv");
    param_is("attachment; filename*=iso-8859-1'de'M%FCller.csv", "filename", "M\u00fcller.csv");
    /* §3 and §4.1: continuations, extended and literal sections mixed, any order */
    param_is("attachment; filename*0*=UTF-8''%C3%9Cbersicht%20; filename*1*=Patienten;\r\n"
             " filename*2=\".csv\"",
             "filename", "\u00dcbersicht Patienten.csv");
    param_is("attachment; filename*1=\"b.csv\"; filename*0=\"a\"", "filename", "ab.csv");
    param_is("attachment; filename*0=a; filename*2=c", "filename", "a"); /* up to a gap */
    param_is("attachment; filename*00=a; filename*0=b", "filename", "b"); /* no leading 0 */
    /* RFC 6266 §4.3: the extended form wins over the plain one, in either order */
    param_is("attachment; filename=\"fallback.csv\"; filename*=UTF-8''real.csv", "filename",
             "real.csv");
    param_is("attachment; filename*=UTF-8''real.csv; filename=\"fallback.csv\"", "filename",
             "real.csv");
    /* an RFC 2231 language suffix on the charset (§5) and an empty charset */
    param_is("attachment; filename*=utf-8*en''a%20b", "filename", "a b");
    param_is("attachment; filename*=''a%20b", "filename", "a b");
    /* not decodable: kept as sent */
    param_is("attachment; filename*=UTF-8''%FF%FE.csv", "filename", "UTF-8''%FF%FE.csv");
    param_is("attachment; filename*=x-no-such-charset''abc", "filename",
             "x-no-such-charset''abc");
    param_is("attachment; filename*=UTF-8''a%0Ab", "filename", "UTF-8''a%0Ab"); /* a LF */
    param_is("attachment; filename*=UTF-8''a%C2%85b", "filename", "UTF-8''a%C2%85b"); /* C1 */
    param_is("attachment; filename*=UTF-8''%C0%AF", "filename", "UTF-8''%C0%AF"); /* overlong */
    param_is("attachment; filename*=UTF-8''%ED%A0%80", "filename", "UTF-8''%ED%A0%80");
    param_is("attachment; filename*=UTF-8''50%", "filename", "50%"); /* stray '%' literal */
}

static void encoded_words(void **state)
{
    (void)state;
    words_are("=?UTF-8?B?QmVmdW5k?= =?UTF-8?B?ZQ==?=", "Befunde"); /* §6.2: space dropped */
    words_are("=?ISO-8859-1?Q?M=FCller_Hans?=", "M\u00fcller Hans");
    words_are("Re: =?utf-8?q?Befund?= from the lab", "Re: Befund from the lab");
    words_are("=?UTF-8?B?ww==?=\r\n =?UTF-8?B?nA==?=", "\u00dc"); /* a character split over two */
    words_are("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=", "\u30c6\u30b9\u30c8"); /* stateful charset */
    words_are("=?UTF-8*en?Q?a?=", "a");
    words_are("=?ISO-8859-1?Q?a?= =?UTF-8?Q?b?=", "ab"); /* two charsets, space still dropped */
    words_are("a =?UTF-8?Q?b?= c", "a b c");
    words_are("no words here", "no words here");
    words_are("", "");
    /* not decodable: kept as sent */
    words_are("=?UTF-8?B?//79?=", "=?UTF-8?B?//79?=");
    words_are("=?x-no-such-charset?Q?a?=", "=?x-no-such-charset?Q?a?=");
    words_are("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=");
    words_are("=?UTF-8?Q?a b?=", "=?UTF-8?Q?a b?="); /* no space inside a word */
    words_are("=?UTF-8?Q?a=0Db?=", "=?UTF-8?Q?a=0Db?="); /* a control character */
    words_are("=?UTF-8?B?QQ", "=?UTF-8?B?QQ");
    words_are("=??Q?a?=", "=??Q?a?=");
    /* encoded words in a plain parameter value (RFC 2047 §5 forbids them; mailers do it) */
    param_is("text/csv; name=\"=?UTF-8?B?w5xiZXJzaWNodC5jc3Y=?=\"", "name", "\u00dcbersicht.csv");
}

/* Valid UTF-8 without a cut sequence, whatever the room. */
static void small_buffers(void **state)
{
    (void)state;
    for (size_t cap = 1; cap < 16; cap++) {
        char out[16];
        memset(out, 'x', sizeof out);
        pt_mime_words("=?UTF-8?B?w5zDnMOcw5zDnMOcw5zDnA==?=", out, cap);
        size_t n = strlen(out);
        assert_true(n < cap);
        assert_true(n % 2 == 0); /* two-byte characters only, never half of one */
        memset(out, 'x', sizeof out);
        assert_true(pt_mime_param("a; filename*=UTF-8''%C3%9C%C3%9C%C3%9C%C3%9C%C3%9C%C3%9C",
                                  "filename", out, cap));
        assert_true(strlen(out) < cap && strlen(out) % 2 == 0);
    }
}

/* Every prefix of `text`, as a fresh heap copy: a read past the end trips ASan. */
static void each_prefix(const char *text)
{
    for (size_t cut = 0, n = strlen(text); cut <= n; cut++) {
        char *p = strndup(text, cut);
        assert_non_null(p);
        char out[64];
        pt_mime_param(p, "filename", out, sizeof out);
        assert_true(strlen(out) < sizeof out);
        pt_mime_words(p, out, sizeof out);
        assert_true(strlen(out) < sizeof out);
        free(p);
    }
}

static void cut_at_every_offset(void **state)
{
    (void)state;
    each_prefix("attachment; filename*0*=UTF-8''%C3%9Cbersicht%20; filename*1*=Patienten; "
                "filename*2=\".csv\"");
    each_prefix("attachment; filename=\"=?ISO-8859-1?Q?M=FCller?= =?UTF-8?B?w5w=?=\\\"x\"");
    each_prefix("=?UTF-8?B?QmVmdW5k?= =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= =?UTF-8?Q?a=C3=9C_b?=");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_parameters),  cmocka_unit_test(rfc2231_parameters),
        cmocka_unit_test(encoded_words),     cmocka_unit_test(small_buffers),
        cmocka_unit_test(cut_at_every_offset),
    };
    return cmocka_run_group_tests_name("mimehdr", tests, NULL, NULL);
}
