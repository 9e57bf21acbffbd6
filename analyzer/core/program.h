/*
 * program.h - the helper programs phitrace may run (7z for archives, nfdump for nfcapd
 * files): found once, the same way, with an environment variable to name or refuse one.
 */
#ifndef PT_PROGRAM_H
#define PT_PROGRAM_H

#include <stddef.h>

/* The program to run: $env when set (its path; "none": no program), else the first of
 * names[0..n) found executable on the PATH; "" in out when none. */
void pt_find_program(const char *env, const char *const *names, size_t n, char *out, size_t cap);

#endif
