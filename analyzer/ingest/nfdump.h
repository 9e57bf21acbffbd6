/*
 * nfdump.h - nfcapd files (NetFlow v5/v9 and IPFIX as nfdump's collector stores them) read
 * through the nfdump program: `nfdump -r FILE -o csv`, whose CSV the flow CSV reader of
 * logparse.h turns into connections. The file format is nfdump's own (compressed blocks,
 * versioned layouts); its reference reader is the program, so phitrace runs it, without a
 * shell, with no descriptor of the run and bounded in time and output, instead of
 * re-implementing it. Without nfdump the file is a limitation that names it.
 */
#ifndef PT_NFDUMP_H
#define PT_NFDUMP_H

#include <stddef.h>
#include <stdint.h>

enum pt_nfdump_status {
    PT_NFDUMP_OK,       /* nfdump ran and exited 0 */
    PT_NFDUMP_MISSING,  /* no nfdump program (PATH, or PHITRACE_NFDUMP) */
    PT_NFDUMP_FAILED,   /* it could not start, or exited non-zero (a damaged file) */
    PT_NFDUMP_KILLED,   /* it ran past PT_NFDUMP_SECONDS or wrote past PT_NFDUMP_MAX_OUT */
};

/* The program: PHITRACE_NFDUMP when set ("none": no program), else nfdump on the PATH; ""
 * when none. */
void pt_nfdump_find(char *out, size_t cap);

/* Run nfdump on `path` and hand its standard output to feed() as it comes. `why` gets a
 * sentence when the status is not PT_NFDUMP_OK. */
enum pt_nfdump_status pt_nfdump_csv(const char *path,
                                    void (*feed)(void *arg, const uint8_t *b, size_t n),
                                    void *arg, char *why, size_t whylen);

#endif
