/*
 * heur_command.c - a process started with an exfiltration command line (issue 14: Windows
 * event logs weighed). A Windows Security log's process creation (4688, log_winevent) whose
 * program and arguments upload, sync to a remote or pack a password-protected archive (the
 * tools of signatures/exfil_tools.yar: rclone, curl -T, BITS uploads, Invoke-WebRequest
 * -InFile, 7-Zip/RAR/zip with a password, WinSCP/PSCP/scp, MEGAcmd) is a finding on the host
 * that ran it. Its source is the host's address when a filtering-platform connection (5156,
 * log_conn) of the same program in the same log lies within two minutes, else the computer's
 * name; its destination is that connection's, else "". The command line is the evidence.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../store/q_verdict.h"
#include "verdict_int.h"

/* A program (the file name without ".exe", lower case) and the words of its arguments that
 * make the command an upload or an encrypted archive (any of them; NULL: the program alone). */
static const struct {
    const char *program, *args[5], *what;
} commands[] = {
    {"rclone", {" copy ", " sync ", " move ", " copyto ", NULL}, "rclone copy to a remote"},
    {"curl", {" -t ", "--upload-file", " -f ", "--data-binary @", NULL}, "curl upload"},
    {"wget", {"--post-file", "--body-file", NULL}, "wget upload"},
    {"bitsadmin", {"/upload", NULL}, "BITS upload job"},
    {"powershell", {"-infile", "-transfertype upload", NULL}, "PowerShell upload"},
    {"pwsh", {"-infile", "-transfertype upload", NULL}, "PowerShell upload"},
    {"7z", {" -p", NULL}, "password-protected 7-Zip archive"},
    {"7za", {" -p", NULL}, "password-protected 7-Zip archive"},
    {"7zr", {" -p", NULL}, "password-protected 7-Zip archive"},
    {"rar", {" -hp", " -p", NULL}, "password-protected RAR archive"},
    {"winrar", {" -hp", " -p", NULL}, "password-protected RAR archive"},
    {"zip", {" -p ", " -e ", NULL}, "password-protected zip archive"},
    {"winscp", {"put ", "/upload", "synchronize remote", NULL}, "WinSCP upload"},
    {"pscp", {NULL}, "PuTTY scp copy"},
    {"scp", {NULL}, "scp copy"},
    {"mega-put", {NULL}, "MEGAcmd upload"},
    {"megacmd", {" put ", NULL}, "MEGAcmd upload"},
};

/* The program's name from its path ("C:\Windows\System32\curl.exe" -> "curl"), lower case. */
static void program_of(const char *path, char *out, size_t cap)
{
    const char *b = path;
    for (const char *p = path; *p != '\0'; p++) {
        b = *p == '\\' || *p == '/' ? p + 1 : b;
    }
    size_t n = 0;
    for (; b[n] != '\0' && n + 1 < cap; n++) {
        out[n] = (char)tolower((unsigned char)b[n]);
    }
    out[n] = '\0';
    if (n > 4 && strcmp(out + n - 4, ".exe") == 0) {
        out[n - 4] = '\0';
    }
}

/* What the command does, or NULL when it is none of the above. */
static const char *exfil_command(const char *process, const char *command)
{
    char prog[64], args[2048];
    program_of(process, prog, sizeof prog);
    size_t n = 0; /* the arguments in lower case, with a space before them */
    args[n++] = ' ';
    for (const char *c = command; *c != '\0' && n + 2 < sizeof args; c++) {
        args[n++] = (char)tolower((unsigned char)*c);
    }
    args[n++] = ' ';
    args[n] = '\0';
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(prog, commands[i].program) != 0) {
            continue;
        }
        if (commands[i].args[0] == NULL) {
            return commands[i].what;
        }
        for (const char *const *a = commands[i].args; *a != NULL; a++) {
            if (strstr(args, *a) != NULL) {
                return commands[i].what;
            }
        }
    }
    return NULL;
}

void pt_heur_exfil_command(struct pt_verdict_ctx *x)
{
    struct pt_qv *st = NULL;
    if (pt_qv_open(x->db, PT_QV_COMMAND_PROCESSES, &st) != PT_OK) {
        x->rc = PT_EDB;
        return;
    }
    while (x->rc == PT_OK && pt_qv_step(st)) {
        const char *what = exfil_command(pt_qv_text(st, 4), pt_qv_text(st, 5));
        if (what == NULL) {
            continue;
        }
        int64_t id = pt_qv_int(st, 0), ts = pt_qv_int(st, 1);
        const char *addr = pt_qv_text(st, 6), *dst = pt_qv_text(st, 7);
        const char *src = addr[0] != '\0' ? addr : pt_qv_text(st, 2);
        char cmd[700], user[200], sum[1200], det[1600], ev[96];
        jesc(pt_qv_text(st, 5), cmd, sizeof cmd);
        jesc(pt_qv_text(st, 3), user, sizeof user);
        snprintf(sum, sizeof sum, "%s on %s by %s: %.500s", what, src,
                 pt_qv_text(st, 3)[0] != '\0' ? pt_qv_text(st, 3) : "an unknown user",
                 pt_qv_text(st, 5));
        snprintf(det, sizeof det, "{\"what\":\"%s\",\"computer\":\"%s\",\"user\":\"%s\","
                 "\"command\":\"%s\"}", what, pt_qv_text(st, 2), user, cmd);
        snprintf(ev, sizeof ev, "{\"log_winevent\":[%lld]}", (long long)id);
        pt_verdict_finding(x, PT_HEUR_EXFIL_COMMAND, src, dst, "", ts, ts, 0, 0.5, sum, det, ev);
    }
    pt_qv_free(st);
}
