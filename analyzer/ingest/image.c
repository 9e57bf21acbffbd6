/*
 * image.c - run the disk-image reader (image_child.c) as a child process and read its frames.
 *
 * Isolation: fork, then in the child setrlimit (address space, CPU seconds, no core file),
 * every descriptor but the pipe and /dev/null closed, and exec of our own executable with
 * `image-child`, so libtsk never runs inside the
 * analyzer's threads and address space. The parent reads the pipe with poll(): no byte for
 * idle_seconds, or wall_seconds in all, and the child is killed (SIGKILL) and reaped.
 * Trust boundary: the frames are untrusted (image_frame.c reads them through the cursor).
 */
#include "image.h"

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

#define BUF_CAP (2 * (PT_IMG_FRAME_HDR + PT_IMG_FRAME_MAX))

static void make_note(pt_image_fn fn, void *arg, const char *kind, const char *text)
{
    static struct pt_img_rec r;
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_NOTE;
    snprintf(r.note_kind, sizeof r.note_kind, "%s", kind);
    snprintf(r.note, sizeof r.note, "%s", text);
    fn(arg, &r);
}

size_t pt_image_feed(const uint8_t *p, size_t n, pt_image_fn fn, void *arg,
                     struct pt_image_stats *st, bool *in_file, bool *bad)
{
    static struct pt_img_rec rec;
    size_t off = 0;
    while (off < n && !*bad) {
        uint8_t type;
        const uint8_t *payload;
        size_t plen, used;
        pt_status s = pt_img_frame_split(p + off, n - off, &type, &payload, &plen, &used);
        if (s == PT_ETRUNC) {
            break;
        }
        if (s != PT_OK || pt_img_rec_parse(type, payload, plen, &rec) != PT_OK) {
            *bad = true;
            break;
        }
        off += used;
        /* the order the child keeps: data and end only inside a file with content (a sign
         * of life may come anywhere) */
        bool inside = *in_file;
        if (type != PT_IMG_PING && (type == PT_IMG_DATA || type == PT_IMG_END) != inside) {
            *bad = true;
            break;
        }
        switch (type) {
        case PT_IMG_VOL:
            st->volumes++;
            break;
        case PT_IMG_FILE:
            st->files++;
            *in_file = (rec.flags & PT_IMG_F_CONTENT) != 0;
            break;
        case PT_IMG_DATA:
            st->content_bytes += rec.n;
            break;
        case PT_IMG_END:
            *in_file = false;
            break;
        case PT_IMG_DONE:
            st->finished = true;
            break;
        default:
            break;
        }
        if (type != PT_IMG_PING) {
            fn(arg, &rec);
        }
    }
    return off;
}

static unsigned env_seconds(const char *name, unsigned dflt)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') {
        return dflt;
    }
    char *end = NULL;
    unsigned long n = strtoul(v, &end, 10);
    return end != NULL && *end == '\0' && n > 0 && n < 1000000 ? (unsigned)n : dflt;
}

void pt_image_limits_default(struct pt_image_limits *lim, uint64_t bytes)
{
    uint64_t cpu = bytes / PT_IMG_CPU_BYTES_PER_S, wall = bytes / PT_IMG_WALL_BYTES_PER_S;
    cpu = cpu < PT_IMG_CPU_SECONDS ? PT_IMG_CPU_SECONDS : cpu > 1000000 ? 1000000 : cpu;
    wall = wall < PT_IMG_WALL_SECONDS ? PT_IMG_WALL_SECONDS : wall > 1000000 ? 1000000 : wall;
    lim->mem_bytes = PT_IMG_MEM_LIMIT;
    lim->cpu_seconds = env_seconds("PHITRACE_IMAGE_CPU_SECONDS", (unsigned)cpu);
    lim->wall_seconds = env_seconds("PHITRACE_IMAGE_WALL_SECONDS", (unsigned)wall);
    lim->idle_seconds = env_seconds("PHITRACE_IMAGE_IDLE_SECONDS", PT_IMG_IDLE_SECONDS);
}

bool pt_image_reader_path(char *out, size_t len)
{
    return pt_child_program("PHITRACE_IMAGE_READER", NULL, out, len);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

pt_status pt_image_read(const char *self, const char *const *paths, size_t n,
                        const struct pt_image_limits *lim, pt_image_fn fn, void *arg,
                        struct pt_image_stats *st)
{
    memset(st, 0, sizeof *st);
    uint8_t *buf = malloc(BUF_CAP);
    char **argv = calloc(n + 3, sizeof *argv);
    if (buf == NULL || argv == NULL) {
        free(buf);
        free(argv);
        return PT_ENOMEM;
    }
    argv[0] = (char *)self;
    argv[1] = (char *)"image-child";
    for (size_t i = 0; i < n; i++) {
        argv[i + 2] = (char *)paths[i];
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        free(buf);
        free(argv);
        return PT_EIO;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        free(buf);
        free(argv);
        return PT_EIO;
    }
    if (pid == 0) {
        pt_child_exec(self, argv, lim->mem_bytes, lim->cpu_seconds, fds[1]);
    }
    free(argv);
    close(fds[1]);
    size_t have = 0;
    bool in_file = false, bad = false, killed = false;
    const char *why_killed = NULL;
    double start = now_s(), last = start;
    for (;;) {
        double t = now_s();
        double left_wall = lim->wall_seconds - (t - start);
        double left_idle = lim->idle_seconds - (t - last);
        double left = left_wall < left_idle ? left_wall : left_idle;
        if (left <= 0) {
            why_killed = left_wall <= 0 ? "its time limit" : "the watchdog (no progress)";
            break;
        }
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR) {
            continue;
        }
        if (pr == 0) {
            continue;
        }
        ssize_t got = read(fds[0], buf + have, BUF_CAP - have);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        last = now_s();
        have += (size_t)got;
        size_t used = pt_image_feed(buf, have, fn, arg, st, &in_file, &bad);
        memmove(buf, buf + used, have - used);
        have -= used;
        if (bad) {
            why_killed = "garbage in its output";
            break;
        }
    }
    if (why_killed != NULL) {
        kill(pid, SIGKILL);
        killed = true;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    char text[PT_IMG_NOTE_MAX];
    if (in_file) {
        static struct pt_img_rec end;
        memset(&end, 0, sizeof end);
        end.type = PT_IMG_END;
        snprintf(end.note, sizeof end.note, "the image reader stopped inside this file");
        fn(arg, &end);
    }
    if (killed) {
        snprintf(text, sizeof text, "the image reader was stopped by %s after %llu file "
                 "record(s): the rest of the image was not read", why_killed,
                 (unsigned long long)st->files);
        make_note(fn, arg, bad ? "image.reader_garbage" : "image.reader_timeout", text);
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        snprintf(text, sizeof text, "the image reader (libtsk) died of signal %d (%s)%s after "
                 "%llu file record(s): the rest of the image was not read", sig, strsignal(sig),
                 sig == SIGXCPU ? ", its CPU limit" : "", (unsigned long long)st->files);
        make_note(fn, arg, "image.reader_crashed", text);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        make_note(fn, arg, "image.reader_missing", "the image reader could not be started");
    } else if (!st->finished) {
        snprintf(text, sizeof text, "the image reader ended (status %d) without finishing, "
                 "after %llu file record(s): the rest of the image was not read",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, (unsigned long long)st->files);
        make_note(fn, arg, "image.reader_crashed", text);
    }
    free(buf);
    return PT_OK;
}
