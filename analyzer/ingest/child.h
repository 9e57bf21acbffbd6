/*
 * child.h - the start of a reader that runs in a child process on hostile evidence (disk
 * images through libtsk/libewf, Windows event logs through libevtx): its limits and what it
 * inherits, set between fork and exec.
 */
#ifndef PT_INGEST_CHILD_H
#define PT_INGEST_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The reader program's path into out: the environment variable `env` when set (tests point
 * it elsewhere), else this program's own path (/proc/self/exe) or, with `name`, the program
 * of that name beside it. False when it does not fit or cannot be known. */
bool pt_child_program(const char *env, const char *name, char *out, size_t len);

/* In the child, after fork: address space `mem_bytes` (not under AddressSanitizer or
 * ThreadSanitizer, which reserve terabytes of shadow), CPU `cpu_seconds`, no core file;
 * standard output to `out_fd`, standard input and error to /dev/null, every other descriptor
 * closed (nothing of ours, the case database or other inputs, reaches a process that parses
 * hostile bytes); then exec `path`. Allocates nothing (another thread may hold malloc's
 * lock); never returns (exit status 127 when exec fails). */
_Noreturn void pt_child_exec(const char *path, char **argv, uint64_t mem_bytes,
                             uint64_t cpu_seconds, int out_fd);

#endif
