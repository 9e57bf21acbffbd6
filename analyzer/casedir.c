/*
 * casedir.c - the case directory and its manifest (see casedir.h).
 */
#include "casedir.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <magic.h>
#include <openssl/opensslv.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <yara.h>
#include <zlib.h>

#include "core/log.h"
#include "core/sha256.h"
#include "core/version.h"
#include "report/report.h"

bool pt_signatures_dir(const char *given, char *out, size_t len)
{
    struct stat st;
    if (given != NULL) {
        snprintf(out, len, "%s", given);
        return stat(out, &st) == 0 && S_ISDIR(st.st_mode);
    }
    const char *env = getenv("PHITRACE_SIGNATURES");
    if (env != NULL && env[0] != '\0') {
        snprintf(out, len, "%s", env);
        return stat(out, &st) == 0 && S_ISDIR(st.st_mode);
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
        }
        static const char *const rel[] = {"signatures", "../../signatures", "../share/phitrace/signatures"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            snprintf(out, len, "%s/%s/icd10cm.txt", exe, rel[i]);
            if (stat(out, &st) == 0) {
                snprintf(out, len, "%s/%s", exe, rel[i]);
                return true;
            }
        }
    }
    snprintf(out, len, "%s/signatures", PT_DATADIR);
    return stat(out, &st) == 0 && S_ISDIR(st.st_mode);
}

void pt_print_versions(void)
{
    printf("phitrace %s (commit %s)\n", PT_VERSION, PT_GIT_COMMIT);
    printf("  %s\n", pcap_lib_version());
    printf("  SQLite %s\n", pt_db_sqlite_version());
    printf("  libmagic %d.%02d\n", magic_version() / 100, magic_version() % 100);
    printf("  libyara %s\n", YR_VERSION);
    printf("  zlib %s\n", zlibVersion());
    printf("  %s\n", OPENSSL_VERSION_TEXT);
}

void pt_case_manifest(struct pt_writer *wr, const struct pt_options *o, unsigned threads,
                      const char *home, const char *start)
{
    char buf[1024];
    pt_writer_manifest(wr, "tool", "phitrace");
    pt_writer_manifest(wr, "tool_version", PT_VERSION);
    pt_writer_manifest(wr, "git_commit", PT_GIT_COMMIT);
    pt_writer_manifest(wr, "libpcap", pcap_lib_version());
    pt_writer_manifest(wr, "sqlite", pt_db_sqlite_version());
    snprintf(buf, sizeof buf, "%d.%02d", magic_version() / 100, magic_version() % 100);
    pt_writer_manifest(wr, "libmagic", buf);
    pt_writer_manifest(wr, "libyara", YR_VERSION);
    pt_writer_manifest(wr, "zlib", zlibVersion());
    pt_writer_manifest(wr, "openssl", OPENSSL_VERSION_TEXT);
    snprintf(buf, sizeof buf, "%d", PT_DB_SCHEMA_VERSION);
    pt_writer_manifest(wr, "schema_version", buf);
    pt_writer_manifest(wr, "home_net", home);
    pt_writer_manifest(wr, "mode", o->flows_only ? "flows-only" : "full");
    snprintf(buf, sizeof buf, "%u", threads);
    pt_writer_manifest(wr, "threads", buf);
    pt_writer_manifest(wr, "start_utc", start);
    static const char *const who[] = {"case_id", "examiner", "organisation"};
    const char *const val[] = {o->case_id, o->examiner, o->org};
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        if (val[i] != NULL && val[i][0] != '\0') {
            pt_writer_manifest(wr, who[i], val[i]);
        }
    }
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(buf, sizeof buf, "%s %s %s %s", u.nodename, u.sysname, u.release, u.machine);
        pt_writer_manifest(wr, "host", buf);
    }
    size_t len = 1;
    for (int i = 0; i < o->argc; i++) {
        len += strlen(o->argv[i]) + 3;
    }
    char *args = malloc(len);
    if (args != NULL) {
        size_t w = 0;
        args[0] = '\0';
        for (int i = 0; i < o->argc; i++) {
            w += (size_t)snprintf(args + w, len - w, "%s'%s'", i ? " " : "", o->argv[i]);
        }
        pt_writer_manifest(wr, "arguments", args);
        free(args);
    }
}

/* The case directory. A new one is created 0700 and built in place; an existing one is
 * tightened to 0700 (with a warning) when group or others could enter it. With --force over
 * an existing case, the run builds a sibling, CASE.partial-XXXXXX, and pt_case_publish swaps it
 * in at the end, so the old case stays whole until the new one is (and stays if the run
 * fails). `build` receives the directory the run writes into. */
pt_status pt_case_dir_make(const struct pt_options *o, char *build, size_t len)
{
    snprintf(build, len, "%s", o->case_dir);
    if (mkdir(o->case_dir, 0700) == 0) {
        return PT_OK;
    }
    struct stat st;
    if (errno != EEXIST || stat(o->case_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        pt_error("cannot create case directory %s: %s", o->case_dir,
                 errno == EEXIST ? "it exists and is not a directory" : strerror(errno));
        return PT_EIO;
    }
    if ((st.st_mode & 077) != 0) {
        if (chmod(o->case_dir, 0700) != 0) {
            pt_error("cannot make case directory %s private (chmod 0700): %s", o->case_dir,
                     strerror(errno));
            return PT_EIO;
        }
        pt_warn("case directory %s was mode %03o; tightened to 0700 (a case holds patient "
                "data)", o->case_dir, (unsigned)(st.st_mode & 0777));
    }
    char dbpath[4300];
    snprintf(dbpath, sizeof dbpath, "%s/evidence.db", o->case_dir);
    if (access(dbpath, F_OK) != 0) {
        if (access(o->case_dir, W_OK) != 0) {
            pt_error("cannot write in case directory %s: %s", o->case_dir, strerror(errno));
            return PT_EIO;
        }
        return PT_OK;
    }
    if (!o->force) {
        pt_error("%s already holds an evidence database; choose a new case directory or "
                 "pass --force to replace it",
                 o->case_dir);
        return PT_EUSAGE;
    }
    size_t n = strlen(o->case_dir);
    while (n > 1 && o->case_dir[n - 1] == '/') {
        n--;
    }
    int w = snprintf(build, len, "%.*s.partial-XXXXXX", (int)n, o->case_dir);
    if (w < 0 || (size_t)w >= len || mkdtemp(build) == NULL) {
        pt_error("cannot create a directory beside %s to build the new case in: %s",
                 o->case_dir, strerror(errno));
        return PT_EIO;
    }
    return PT_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* --force: the case built beside the old one takes its place in one rename (an exchange, so
 * no moment lacks a case), then the old one is removed. */
pt_status pt_case_publish(const char *build, const char *case_dir)
{
    char old[4300];
    if (renameat2(AT_FDCWD, build, AT_FDCWD, case_dir, RENAME_EXCHANGE) == 0) {
        snprintf(old, sizeof old, "%s", build); /* the exchange left the old case there */
    } else {
        /* a file system without RENAME_EXCHANGE: two renames */
        snprintf(old, sizeof old, "%s.old", build);
        if (rename(case_dir, old) != 0 || rename(build, case_dir) != 0) {
            pt_error("cannot move the new case %s to %s: %s; the new case is left in %s",
                     build, case_dir, strerror(errno), build);
            return PT_EIO;
        }
    }
    if (nftw(old, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        pt_warn("the previous case was replaced, but removing its copy %s failed: %s", old,
                strerror(errno));
    }
    return PT_OK;
}

/* The completion record, written last: a digest of every table's rows and the SHA-256 of each
 * staged report, sealed into the audit chain; then the reports are moved into place. A case
 * without this row did not finish, and `verify` recomputes both. */
static void *digest_main(void *arg)
{
    struct pt_case_digest *d = arg;
    d->rc = pt_db_digest_file(d->path, d->hex, &d->rows, d->err, sizeof d->err);
    return NULL;
}

void pt_case_digest_start(struct pt_case_digest *d, const char *dir)
{
    memset(d, 0, sizeof *d);
    int n = snprintf(d->path, sizeof d->path, "%s/evidence.db", dir);
    d->started = n > 0 && (size_t)n < sizeof d->path &&
                 pthread_create(&d->th, NULL, digest_main, d) == 0;
}

/* " NAME=<SHA-256 of the staged file at path>" appended to the completion record's detail. */
static bool seal_file(const char *path, const char *name, char *detail, size_t len, size_t *used)
{
    char sha[PT_SHA256_HEX];
    if (pt_sha256_file(path, sha, NULL) != PT_OK) {
        pt_error("cannot read back the report %s", path);
        return false;
    }
    int n = snprintf(detail + *used, len - *used, " %s=%s", name, sha);
    *used += n > 0 && (size_t)n < len - *used ? (size_t)n : 0;
    return true;
}

pt_status pt_case_seal(struct pt_db *db, const char *dir, unsigned reports,
                      const char *incomplete, struct pt_case_digest *d)
{
    char digest[PT_SHA256_HEX], err[512] = "";
    uint64_t rows = 0;
    pt_status rc;
    if (d != NULL && d->started) {
        pthread_join(d->th, NULL);
        d->started = false;
        rc = d->rc;
        snprintf(err, sizeof err, "%s", d->err);
        memcpy(digest, d->hex, sizeof digest);
        rows = d->rows;
    } else {
        rc = pt_db_digest(db, digest, &rows, err, sizeof err);
    }
    if (rc != PT_OK) {
        pt_error("%s", err);
        return rc;
    }
    char detail[2000];
    size_t used = (size_t)snprintf(detail, sizeof detail, "status=%s rows=%llu tables_sha256=%s",
                                   incomplete ? "incomplete" : "complete",
                                   (unsigned long long)rows, digest);
    /* the reports, then the long lists report.json points to (report/<list>.jsonl.gz) */
    for (unsigned bit = 1; bit <= PT_REPORT_TXT; bit <<= 1) {
        char path[4400];
        if ((reports & bit) != 0 &&
            (!pt_report_staged_path(dir, bit, path, sizeof path) ||
             !seal_file(path, pt_report_name(bit), detail, sizeof detail, &used))) {
            return PT_EIO;
        }
    }
    for (size_t i = 0; (reports & PT_REPORT_JSON) && pt_report_list_name(i) != NULL; i++) {
        char path[4400];
        if (!pt_report_list_staged_path(dir, i, path, sizeof path) ||
            !seal_file(path, pt_report_list_name(i), detail, sizeof detail, &used)) {
            return PT_EIO;
        }
    }
    if (incomplete != NULL) {
        snprintf(detail + used, sizeof detail - used, " reason=%s", incomplete);
    }
    PT_TRY(pt_db_audit(db, "phitrace " PT_VERSION, "case_sealed", detail));
    rc = pt_report_publish(dir, reports, err, sizeof err);
    if (rc != PT_OK) {
        pt_error("%s", err);
    }
    return rc;
}

pt_status pt_case_write_summary(const char *dir, const char *text, size_t len)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/summary.txt", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        pt_error("cannot write %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    size_t w = len ? fwrite(text, 1, len, f) : 0;
    if (fclose(f) != 0 || w != len) {
        pt_error("cannot write %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    return PT_OK;
}
