/*
 * fuzz_mimehdr.c - libFuzzer target for MIME header values (mimehdr.c): RFC 2231 parameters
 * and RFC 2047 encoded words. Byte 0 sets the output room (1..256); the rest is one header
 * field value, given as the NUL-terminated string the MIME walker hands over. Every output
 * must be NUL-terminated within its room.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/mimehdr.h"

static void check(const char *out, size_t room)
{
    if (strnlen(out, room) >= room) {
        abort(); /* not terminated within the room */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t room = 1 + data[0];
    char *text = malloc(size);
    char *out = malloc(room);
    if (text == NULL || out == NULL) {
        free(text);
        free(out);
        return 0;
    }
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0'; /* a NUL inside ends the value early, as in the walker */
    static const char *const names[] = {"filename", "name", "boundary"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        pt_mime_param(text, names[i], out, room);
        check(out, room);
    }
    pt_mime_words(text, out, room);
    check(out, room);
    free(text);
    free(out);
    return 0;
}
