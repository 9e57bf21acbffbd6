/*
 * human.h - a byte count in words for the reports and the findings' summaries.
 */
#ifndef PT_CORE_HUMAN_H
#define PT_CORE_HUMAN_H

#include <stddef.h>
#include <stdio.h>

/* b bytes in words: "512 bytes", "1.5 MiB". */
static inline void pt_human_bytes(double b, char *out, size_t len)
{
    const char *u[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    snprintf(out, len, i == 0 ? "%.0f %s" : "%.1f %s", b, u[i]);
}

#endif
