/*
 * evtx_run.c - run the EVTX reader (the program phitrace-evtx, ../evtx_reader.c) as a child
 * process and hand its lines on (evtx.h). Isolation as for disk images (image.c): fork, then
 * in the child setrlimit (address space, CPU seconds, no core file), every descriptor but the
 * pipe and /dev/null closed, and exec of the reader, so libevtx never parses hostile bytes
 * inside the analyzer's threads and address space. The parent reads the pipe with
 * poll(): no byte for PT_EVTX_IDLE_SECONDS, or PT_EVTX_WALL_SECONDS in all, and the child is
 * killed (SIGKILL) and reaped.
 */
#include "evtx.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool reader_path(char *out, size_t len)
{
    return pt_child_program("PHITRACE_EVTX_READER", "phitrace-evtx", out, len);
}

/* Read the child's output until it ends or a limit stops it; the reason when stopped. */
static const char *pump(int fd, void (*feed)(void *arg, const uint8_t *b, size_t n), void *arg)
{
    static uint8_t buf[1 << 16];
    double start = now_s(), last = start;
    for (;;) {
        double t = now_s();
        double left_wall = PT_EVTX_WALL_SECONDS - (t - start);
        double left_idle = PT_EVTX_IDLE_SECONDS - (t - last);
        double left = left_wall < left_idle ? left_wall : left_idle;
        if (left <= 0) {
            return left_wall <= 0 ? "its time limit" : "the watchdog (no output)";
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (pr <= 0) {
            continue;
        }
        ssize_t got = read(fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return NULL;
        }
        last = now_s();
        feed(arg, buf, (size_t)got);
    }
}

enum pt_evtx_status pt_evtx_read(const char *path,
                                 void (*feed)(void *arg, const uint8_t *b, size_t n), void *arg,
                                 char *why, size_t whylen)
{
    char self[4096];
    if (!reader_path(self, sizeof self)) {
        snprintf(why, whylen, "the EVTX reader could not be started (no /proc/self/exe)");
        return PT_EVTX_FAILED;
    }
    if (access(self, X_OK) != 0) {
        snprintf(why, whylen, "no EVTX reader: %s is not there (build it: make phitrace-evtx; "
                 "it needs libevtx, Debian's libevtx-dev)", self);
        return PT_EVTX_MISSING;
    }
    char *argv[] = {self, (char *)path, NULL};
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(why, whylen, "the EVTX reader could not be started (pipe: %s)", strerror(errno));
        return PT_EVTX_FAILED;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        snprintf(why, whylen, "the EVTX reader could not be started (fork: %s)", strerror(errno));
        return PT_EVTX_FAILED;
    }
    if (pid == 0) {
        pt_child_exec(argv[0], argv, PT_EVTX_MEM_LIMIT, PT_EVTX_CPU_SECONDS, fds[1]);
    }
    close(fds[1]);
    const char *stopped = pump(fds[0], feed, arg);
    if (stopped != NULL) {
        kill(pid, SIGKILL);
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (stopped != NULL) {
        snprintf(why, whylen, "the EVTX reader (libevtx) was stopped by %s: the records after "
                 "those read were not", stopped);
        return PT_EVTX_KILLED;
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        snprintf(why, whylen, "the EVTX reader (libevtx) died of signal %d (%s)%s: the records "
                 "after those read were not", sig, strsignal(sig),
                 sig == SIGXCPU ? ", its CPU limit" : "");
        return PT_EVTX_FAILED;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, whylen, "the EVTX reader (libevtx) ended with status %d%s",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                 WIFEXITED(status) && WEXITSTATUS(status) == 127 ? " (it could not be started)"
                                                                 : ": the file was not read whole");
        return PT_EVTX_FAILED;
    }
    return PT_EVTX_OK;
}
