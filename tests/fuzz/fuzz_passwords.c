/*
 * fuzz_passwords.c - libFuzzer target for the archive password harvester (passwords.c): the
 * input is one text (histories, scripts, task XML). Every candidate reported must be 1 to
 * PT_PW_MAX_LEN bytes, NUL-terminated at its length, on a line the text has, and the count
 * returned must be the number of calls.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/passwords.h"

struct seen {
    size_t calls;
    uint32_t lines; /* lines in the text (an upper bound for a candidate's line) */
};

static void check(void *arg, const char *pw, size_t len, uint32_t line, enum pt_pw_form form)
{
    struct seen *s = arg;
    if (len == 0 || len > PT_PW_MAX_LEN || strlen(pw) != len || line == 0 ||
        line > s->lines || form > PT_PW_WORDLIST) {
        abort();
    }
    s->calls++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s = {0, size > 0 ? 1 : 0};
    for (size_t i = 0; i + 1 < size; i++) {
        s.lines += data[i] == '\n';
    }
    if (pt_pw_harvest(data, size, check, &s) != s.calls) {
        abort();
    }
    return 0;
}
