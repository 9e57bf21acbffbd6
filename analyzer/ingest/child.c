/*
 * child.c - the start of a reader child process (child.h).
 */
#include "child.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* AddressSanitizer and ThreadSanitizer reserve terabytes of shadow address space: no address
 * space limit under them (the `make test` and `make tsan` builds). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PT_CHILD_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define PT_CHILD_SANITIZED 1
#endif
#endif

_Noreturn void pt_child_exec(const char *path, char **argv, uint64_t mem_bytes,
                             uint64_t cpu_seconds, int out_fd)
{
    struct rlimit rl;
#ifndef PT_CHILD_SANITIZED
    rl.rlim_cur = rl.rlim_max = (rlim_t)mem_bytes;
    setrlimit(RLIMIT_AS, &rl);
#else
    (void)mem_bytes;
#endif
    rl.rlim_cur = rl.rlim_max = (rlim_t)cpu_seconds;
    setrlimit(RLIMIT_CPU, &rl);
    rl.rlim_cur = rl.rlim_max = 0;
    setrlimit(RLIMIT_CORE, &rl);
    if (dup2(out_fd, STDOUT_FILENO) < 0) {
        _exit(127);
    }
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDERR_FILENO);
    }
    close_range(3, ~0u, 0);
    execv(path, argv);
    _exit(127);
}

bool pt_child_program(const char *env, const char *name, char *out, size_t len)
{
    const char *set = getenv(env);
    if (set != NULL && set[0] != '\0') {
        return (size_t)snprintf(out, len, "%s", set) < len;
    }
    ssize_t n = readlink("/proc/self/exe", out, len - 1);
    if (n <= 0) {
        return false;
    }
    out[n] = '\0';
    if (name == NULL) {
        return true;
    }
    char *slash = strrchr(out, '/');
    size_t dir = slash != NULL ? (size_t)(slash - out) + 1 : 0;
    return (size_t)snprintf(out + dir, len - dir, "%s", name) < len - dir;
}
