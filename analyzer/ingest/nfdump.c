/*
 * nfdump.c - nfcapd files read through the nfdump program (see nfdump.h).
 */
#include "nfdump.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/limits.h"
#include "../core/program.h"

void pt_nfdump_find(char *out, size_t cap)
{
    static const char *const names[] = {"nfdump"};
    pt_find_program("PHITRACE_NFDUMP", names, 1, out, cap);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The child: stdin on /dev/null, stdout the pipe, stderr a memory file (nfdump says a file
 * is damaged there and still exits 0), nothing else of the run open. */
static void child(const char *prog, const char *path, int out, int err)
{
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err >= 0 ? err : null, 2) < 0) {
        _exit(127);
    }
    close_range(3, ~0u, 0);
    struct rlimit cpu = {PT_NFDUMP_SECONDS, PT_NFDUMP_SECONDS};
    struct rlimit fsize = {1u << 20, 1u << 20}; /* it writes no file; its stderr is one */
    setrlimit(RLIMIT_CPU, &cpu);
    setrlimit(RLIMIT_FSIZE, &fsize);
    char *const argv[] = {(char *)prog, "-r", (char *)path, "-o", "csv", NULL};
    execv(prog, argv);
    _exit(127);
}

enum pt_nfdump_status pt_nfdump_csv(const char *path,
                                    void (*feed)(void *arg, const uint8_t *b, size_t n),
                                    void *arg, char *why, size_t whylen)
{
    char prog[4096];
    pt_nfdump_find(prog, sizeof prog);
    if (prog[0] == '\0') {
        snprintf(why, whylen, "nfcapd file: the nfdump program is not installed (Debian package "
                              "nfdump), so its flows were not read");
        return PT_NFDUMP_MISSING;
    }
    int fd[2];
    if (pipe2(fd, O_CLOEXEC) != 0) {
        snprintf(why, whylen, "nfcapd file: nfdump could not be started (pipe: %s)",
                 strerror(errno));
        return PT_NFDUMP_FAILED;
    }
    int err = memfd_create("nfdump-stderr", MFD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        if (err >= 0) {
            close(err);
        }
        snprintf(why, whylen, "nfcapd file: nfdump could not be started (fork: %s)",
                 strerror(errno));
        return PT_NFDUMP_FAILED;
    }
    if (pid == 0) {
        child(prog, path, fd[1], err);
    }
    close(fd[1]);
    static uint8_t buf[1 << 16];
    uint64_t total = 0;
    double start = now_s();
    bool killed = false;
    for (;;) {
        struct pollfd pf = {.fd = fd[0], .events = POLLIN};
        int rem = (int)((PT_NFDUMP_SECONDS - (now_s() - start)) * 1000);
        if (rem <= 0 || total > PT_NFDUMP_MAX_OUT) {
            killed = true;
            break;
        }
        int r = poll(&pf, 1, rem < 1000 ? rem : 1000);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            continue; /* the deadline is checked above */
        }
        ssize_t n = read(fd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        total += (uint64_t)n;
        feed(arg, buf, (size_t)n);
    }
    close(fd[0]);
    if (killed) {
        kill(pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (killed) {
        if (err >= 0) {
            close(err);
        }
        snprintf(why, whylen, "nfcapd file: nfdump was stopped after %d s or %llu bytes of "
                              "output; the flows after that point were not read",
                 PT_NFDUMP_SECONDS, (unsigned long long)PT_NFDUMP_MAX_OUT);
        return PT_NFDUMP_KILLED;
    }
    char msg[200] = "";
    if (err >= 0) {
        ssize_t m = pread(err, msg, sizeof msg - 1, 0);
        msg[m > 0 ? m : 0] = '\0';
        close(err);
        for (char *c = msg; *c != '\0'; c++) {
            *c = *c == '\n' || *c == '\r' || *c == '\t' ? ' ' : (*c < 0x20 || *c == 0x7f ? '?' : *c);
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && strstr(msg, "error") != NULL) {
        snprintf(why, whylen, "nfcapd file: nfdump reported an error reading it (\"%.160s\"); "
                              "the flows it printed were read",
                 msg);
        return PT_NFDUMP_FAILED;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, whylen, "nfcapd file: nfdump %s %d (a damaged or unsupported file); the "
                              "flows it printed before were read",
                 WIFEXITED(status) ? "exited with status" : "was ended by signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return PT_NFDUMP_FAILED;
    }
    return PT_NFDUMP_OK;
}
