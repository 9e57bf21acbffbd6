/*
 * fuzz_websocket.c - libFuzzer target for the WebSocket decoder and the streams it carries; the input is a sequence
 * of records in both directions (see fuzz_records.h).
 */
#include "fuzz_records.h"

extern const struct pt_app_proto pt_app_websocket;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_records(&pt_app_websocket, data, size, 80);
    return 0;
}
