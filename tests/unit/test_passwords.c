/* test_passwords.c - candidate archive passwords from command lines (passwords.c): every
 * form, quoting styles, variables that are not literals, look-alikes that give nothing, and
 * every text cut at every offset (each prefix a fresh heap copy). */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/passwords.h"

struct got {
    char pw[16][PT_PW_MAX_LEN + 1];
    uint32_t line[16];
    enum pt_pw_form form[16];
    size_t n;
};

static void collect(void *arg, const char *pw, size_t len, uint32_t line, enum pt_pw_form form)
{
    struct got *g = arg;
    assert_true(len >= 1 && len <= PT_PW_MAX_LEN);
    assert_int_equal(strlen(pw), len);
    if (g->n < 16) {
        memcpy(g->pw[g->n], pw, len + 1);
        g->line[g->n] = line;
        g->form[g->n] = form;
        g->n++;
    }
}

static struct got harvest(const char *text)
{
    struct got g = {0};
    size_t n = pt_pw_harvest((const uint8_t *)text, strlen(text), collect, &g);
    assert_int_equal(n, g.n);
    return g;
}

/* text gives exactly one candidate, want, of that form */
static void one(const char *text, const char *want, enum pt_pw_form form)
{
    struct got g = harvest(text);
    if (g.n != 1 || strcmp(g.pw[0], want) != 0) {
        fprintf(stderr, "text: %s\ngot %zu: %s\n", text, g.n, g.n ? g.pw[0] : "");
    }
    assert_int_equal(g.n, 1);
    assert_string_equal(g.pw[0], want);
    assert_int_equal(g.form[0], form);
}

static void none(const char *text)
{
    struct got g = harvest(text);
    if (g.n != 0) {
        fprintf(stderr, "text: %s\nunexpected: %s\n", text, g.pw[0]);
    }
    assert_int_equal(g.n, 0);
}

/* Each text gives exactly this one candidate, of this form. */
static const struct {
    const char *text, *want;
    enum pt_pw_form form;
} forms[] = {
    {"7z a -pSECRET -mhe=on staged.7z C:\\export", "SECRET", PT_PW_7Z},
    {"& 'C:\\Program Files\\7-Zip\\7z.exe' a -p\"with space\" out.7z .", "with space",
     PT_PW_7Z},
    {"7za a '-pS3cret!' x.7z", "S3cret!", PT_PW_7Z},
    {"/usr/bin/7z x -p'a\"b' x.7z", "a\"b", PT_PW_7Z},
    {"7Z.EXE a -pX1 -mhe=on x.7z", "X1", PT_PW_7Z},
    {"rar a -hpHeaderPw x.rar dir", "HeaderPw", PT_PW_RAR_HP},
    {"WinRAR.exe a -pRarPw x.rar dir", "RarPw", PT_PW_7Z},
    {"  <Arguments>a -pTaskPw C:\\s\\x.7z C:\\export</Arguments>", "TaskPw", PT_PW_7Z},
    {"zip -P pw -r export.zip C:\\export", "pw", PT_PW_ZIP},
    {"zip -r -P \"two words\" export.zip dir", "two words", PT_PW_ZIP},
    {"zip --password 'q u o t e' x.zip f", "q u o t e", PT_PW_ZIP},
    {"/usr/bin/zip --password=eq x.zip f", "eq", PT_PW_ZIP},
    {"openssl enc -aes-256-cbc -k kpw -in a -out b", "kpw", PT_PW_OPENSSL},
    {"openssl enc -aes-256-cbc -pass pass:ppw -in a -out b", "ppw", PT_PW_OPENSSL},
    {"Compress-7Zip -Path C:\\export -ArchiveFileName s.7z -Password 'PsPw' -EncryptFilenames",
     "PsPw", PT_PW_PS_PASSWORD},
    {"Compress-7Zip -Path x -ArchiveFileName s.7z -password \"Ps Pw2\"", "Ps Pw2",
     PT_PW_PS_PASSWORD},
    {"Compress-7Zip -Path x -SecurePassword (ConvertTo-SecureString 'SecPw' -AsPlainText -Force)",
     "SecPw", PT_PW_PS_SECURE},
    {"$s = ConvertTo-SecureString -String \"SecPw2\" -AsPlainText -Force", "SecPw2",
     PT_PW_PS_SECURE},
};

/* Each text gives nothing: no password given (7z asks), a variable, another program's -p or
 * -P (cp, tar, unzip extracting, grep), a parameter named but not given. */
static const char *const look_alikes[] = {
    "7z a -mhe=on staged.7z C:\\export",
    "7z a -p staged.7z",
    "7z a -p$pw staged.7z",
    "7z a -p%PASS% staged.7z",
    "cp -pR src dst",
    "tar -cpf x.tar dir",
    "openssl enc -aes-256-cbc -pass env:PW -in a",
    "openssl enc -aes-256-cbc -pass file:/tmp/pw -in a",
    "unzip -P pw x.zip",
    "grep -P 'pattern' file",
    "zip -r x.zip -P",
    "Compress-7Zip -Path x -Password $pw",
    "Compress-7Zip -Path x -SecurePassword $sec",
    "ConvertTo-SecureString $plain -AsPlainText -Force",
    "Get-Help Compress-7Zip -Parameter Password",
};

static void every_form(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        one(forms[i].text, forms[i].want, forms[i].form);
    }
}

static void look_alikes_give_nothing(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof look_alikes / sizeof *look_alikes; i++) {
        none(look_alikes[i]);
    }
}

static void lines_and_limits(void **state)
{
    (void)state;
    struct got g = harvest("cd x\r\n7z a -pOne a.7z\nzip -P Two b.zip\n\n7z a -pOne c.7z");
    assert_int_equal(g.n, 3); /* each line; the phase removes repeats */
    assert_string_equal(g.pw[0], "One");
    assert_int_equal(g.line[0], 2);
    assert_string_equal(g.pw[1], "Two");
    assert_int_equal(g.line[1], 3);
    assert_int_equal(g.line[2], 5);
    /* CR is a blank: no password ends in it */
    g = harvest("7z a -pCRLF x.7z\r\n");
    assert_int_equal(g.n, 1);
    assert_string_equal(g.pw[0], "CRLF");
    /* too long a value gives nothing */
    char longpw[400];
    int k = snprintf(longpw, sizeof longpw, "7z a -p");
    memset(longpw + k, 'x', PT_PW_MAX_LEN + 1);
    longpw[k + PT_PW_MAX_LEN + 1] = '\0';
    none(longpw);
    /* a line longer than PT_PW_MAX_LINE: its rest is skipped, the next line read */
    size_t big = PT_PW_MAX_LINE + 100;
    char *t = malloc(big + 64);
    assert_non_null(t);
    memset(t, 'a', big);
    t[0] = '#';
    snprintf(t + big, 64, " -pHidden\n7z a -pNext x.7z");
    g = harvest(t);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.pw[0], "Next");
    assert_int_equal(g.line[0], 2);
    free(t);
    /* unbalanced quote: the word runs to the end of the line */
    one("7z a -p\"open x.7z", "open x.7z", PT_PW_7Z);
    /* NUL bytes are data, not ends */
    static const uint8_t nul[] = "7z a -pA\0B x.7z";
    g = (struct got){0};
    pt_pw_harvest(nul, sizeof nul - 1, collect, &g);
    assert_int_equal(g.n, 0); /* strlen(pw) != len: a NUL in a value is not reported */
}

/* A scheduled task as Windows writes it: UTF-16LE with a byte order mark, one non-ASCII
 * character (U+00E9) and one outside the BMP (U+1F511, a surrogate pair) in the password. */
static void utf16_task(void **state)
{
    (void)state;
    static const char *const lines[] = {"<Exec>\r\n", "<Command>7z.exe</Command>\r\n",
                                        "<Arguments>a -pK\xc3\xa9y\xf0\x9f\x94\x91 x.7z C:\\e"
                                        "</Arguments>\r\n"};
    uint8_t buf[512];
    size_t n = 0;
    buf[n++] = 0xff;
    buf[n++] = 0xfe;
    for (size_t l = 0; l < 3; l++) {
        const uint8_t *p = (const uint8_t *)lines[l];
        while (*p != 0) {
            uint32_t cp = *p++;
            if (cp >= 0xf0) {
                cp = ((cp & 7u) << 18) | ((p[0] & 0x3fu) << 12) | ((p[1] & 0x3fu) << 6) |
                     (p[2] & 0x3fu);
                p += 3;
            } else if (cp >= 0xc0) {
                cp = ((cp & 0x1fu) << 6) | (p[0] & 0x3fu);
                p += 1;
            }
            uint32_t units[2] = {cp, 0};
            size_t nu = 1;
            if (cp >= 0x10000) {
                units[0] = 0xd800 + ((cp - 0x10000) >> 10);
                units[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
                nu = 2;
            }
            for (size_t k = 0; k < nu; k++) {
                buf[n++] = (uint8_t)(units[k] & 0xff);
                buf[n++] = (uint8_t)(units[k] >> 8);
            }
        }
    }
    struct got g = {0};
    pt_pw_harvest(buf, n, collect, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.pw[0], "K\xc3\xa9y\xf0\x9f\x94\x91");
    assert_int_equal(g.line[0], 3);
    /* every prefix, a lone surrogate at the cut included */
    for (size_t cut = 0; cut <= n; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        assert_non_null(p);
        memcpy(p, buf, cut);
        g = (struct got){0};
        pt_pw_harvest(p, cut, collect, &g);
        free(p);
    }
}

/* Every prefix of text, as its own heap copy (a read past the cut trips ASan). */
static void each_prefix(const char *text)
{
    size_t n = strlen(text);
    for (size_t cut = 0; cut <= n; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        assert_non_null(p);
        memcpy(p, text, cut);
        struct got g = {0};
        pt_pw_harvest(p, cut, collect, &g);
        free(p);
    }
}

static void cut_at_every_offset(void **state)
{
    (void)state;
    each_prefix("7z a -p\"with space\" -mhe=on s.7z C:\\export\r\nzip -P 'q' x.zip\n");
    each_prefix("rar a -hpHP x.rar\nopenssl enc -pass pass:ppw -k k\n");
    each_prefix("Compress-7Zip -Password x -SecurePassword (ConvertTo-SecureString -String "
                "'y' -AsPlainText)\n<Arguments>a -pZ x.7z</Arguments>");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_form),       cmocka_unit_test(look_alikes_give_nothing),
        cmocka_unit_test(lines_and_limits), cmocka_unit_test(utf16_task),
        cmocka_unit_test(cut_at_every_offset),
    };
    return cmocka_run_group_tests_name("passwords", tests, NULL, NULL);
}
