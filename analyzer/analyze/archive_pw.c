/* archive_pw.c - encrypted archives retried with harvested passwords (see archive_pw.h). */
#include "archive_pw.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/grow.h"
#include "../core/limits.h"
#include "../core/program.h"
#include "../store/db.h"
#include "../store/q_objects.h"
#include "doctext.h"
#include "objstore.h"
#include "passwords.h"
#include "unpack.h"

/* A candidate password and where it was first seen. */
struct cand {
    char *pw;
    size_t len;
    char src_sha[PT_SHA256_HEX]; /* "" for the wordlist */
    char *src_path;
    uint32_t line;
    enum pt_pw_form form;
};

struct phase {
    struct pt_db *db;
    const struct pt_archive_pw_opts *o;
    struct cand *c;
    size_t n, cap;
    bool capped;
    const char *cur_sha, *cur_path; /* the text being harvested */
    struct pt_objstore *store;
    struct pt_app_ctx app;
    unsigned members;               /* objects the archive being opened gave */
    char sevenzip[4096];            /* the 7z program, "" when there is none */
    pt_status rc;
};

static void anomaly(struct phase *ph, uint32_t item, uint64_t frame, enum pt_anom kind,
                    const char *detail)
{
    struct pt_anomaly_rec a = {.item = item, .frame = frame, .kind = kind};
    snprintf(a.detail, sizeof a.detail, "%.*s", (int)sizeof a.detail - 1, detail);
    if (pt_db_anomaly_put(ph->db, &a) != PT_OK) {
        ph->rc = PT_EDB;
    }
}

/* ---- candidates --------------------------------------------------------------------------- */

static void add(void *arg, const char *pw, size_t len, uint32_t line, enum pt_pw_form form)
{
    struct phase *ph = arg;
    for (size_t i = 0; i < ph->n; i++) {
        if (ph->c[i].len == len && memcmp(ph->c[i].pw, pw, len) == 0) {
            return; /* the first source is kept */
        }
    }
    if (ph->n >= PT_PW_MAX_CANDIDATES) {
        if (!ph->capped) {
            anomaly(ph, 0, 0, PT_ANOM_LIMIT_PASSWORDS,
                    "more candidate passwords than PT_PW_MAX_CANDIDATES; the rest are not tried");
        }
        ph->capped = true;
        return;
    }
    if (!pt_grow(&ph->c, &ph->cap, ph->n + 1, sizeof *ph->c, 64)) {
        ph->rc = PT_ENOMEM;
        return;
    }
    struct cand *c = &ph->c[ph->n];
    memset(c, 0, sizeof *c);
    c->pw = strndup(pw, len);
    c->src_path = strdup(ph->cur_path);
    if (c->pw == NULL || c->src_path == NULL) {
        free(c->pw);
        free(c->src_path);
        ph->rc = PT_ENOMEM;
        return;
    }
    c->len = len;
    snprintf(c->src_sha, sizeof c->src_sha, "%s", ph->cur_sha);
    c->line = line;
    c->form = form;
    ph->n++;
}

/* Every text object of the case, once per hash, in the order they were stored. */
static bool harvest_row(void *arg, const struct pt_q_text_object *o)
{
    struct phase *ph = arg;
    struct pt_objbytes ob;
    if (o->sha256 == NULL || !pt_object_load(ph->o->case_dir, o->sha256, o->pack, o->off,
                                             o->size, &ob)) {
        return true;
    }
    ph->cur_sha = o->sha256;
    ph->cur_path = o->name;
    pt_pw_harvest(ob.p, ob.n, add, ph);
    pt_object_release(&ob);
    return ph->rc == PT_OK;
}

static void harvest_objects(struct phase *ph)
{
    if (ph->rc == PT_OK && pt_q_text_objects(ph->db, PT_PW_MAX_TEXT, harvest_row, ph) != PT_OK) {
        ph->rc = PT_EDB;
    }
}

/* --passwords FILE: each line a candidate, as written (a CR before the LF removed). */
static void harvest_wordlist(struct phase *ph, char *err, size_t errlen)
{
    FILE *f = fopen(ph->o->wordlist, "r");
    if (f == NULL) {
        snprintf(err, errlen, "--passwords %s: %s", ph->o->wordlist, strerror(errno));
        ph->rc = PT_EUSAGE;
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    uint32_t no = 0;
    ph->cur_sha = "";
    ph->cur_path = ph->o->wordlist;
    while (ph->rc == PT_OK && (got = getline(&line, &cap, f)) >= 0) {
        no++;
        size_t len = (size_t)got;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            len--;
        }
        if (len > 0 && len <= PT_PW_MAX_LEN) {
            add(ph, line, len, no, PT_PW_WORDLIST);
        }
    }
    free(line);
    fclose(f);
}

/* ---- the 7z program ----------------------------------------------------------------------- */

/* PHITRACE_7Z, else 7z, 7zz or 7za on the PATH; "" when none (or PHITRACE_7Z=none). */
static void find_7z(char *out, size_t cap)
{
    static const char *const names[] = {"7z", "7zz", "7za"};
    pt_find_program("PHITRACE_7Z", names, sizeof names / sizeof *names, out, cap);
}

/* Run argv (no shell) with stdin, stdout and stderr on /dev/null, files it writes at most
 * PT_UNPACK_MAX_MEMBER, killed after PT_PW_7Z_SECONDS. Its exit status; -1 when it could not
 * run, -2 when it was killed (timeout or signal). */
static int run(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        close_range(3, ~0u, 0); /* the case database and the rest stay out of its reach */
        struct rlimit fs = {PT_UNPACK_MAX_MEMBER, PT_UNPACK_MAX_MEMBER};
        struct rlimit cpu = {PT_PW_7Z_SECONDS, PT_PW_7Z_SECONDS};
        setrlimit(RLIMIT_FSIZE, &fs);
        setrlimit(RLIMIT_CPU, &cpu);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    for (long waited = 0;; waited += 2) { /* 7z answers in tens of ms: poll finely */
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            break;
        }
        if (r < 0 && errno != EINTR) {
            return -1;
        }
        if (waited >= PT_PW_7Z_SECONDS * 1000L) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -2;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- members of an opened archive ----------------------------------------------------------- */

/* The phase's object sink: the row, then documents and nested archives as in the workers. */
static void ph_object(void *arg, const struct pt_object_rec *r)
{
    struct phase *ph = arg;
    if (pt_db_object_put(ph->db, r) != PT_OK) {
        ph->rc = PT_EDB;
        return;
    }
    ph->members++;
    if (!pt_doctext(&ph->app, r)) {
        pt_unpack(&ph->app, r);
    }
}

static void ph_anomaly(void *arg, uint32_t item, uint64_t frame, enum pt_anom kind,
                       const char *detail)
{
    anomaly(arg, item, frame, kind, detail);
}

/* The files 7z extracted, for emit_tree (nftw has no argument). */
static _Thread_local struct {
    struct phase *ph;
    const struct pt_object_rec *parent;
    size_t root;     /* length of the extraction directory's path */
    uint32_t part;
} walk;

static int emit_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F || !S_ISREG(st->st_mode) || walk.ph->rc != PT_OK) {
        return 0; /* links and devices carry no content of the archive */
    }
    struct phase *ph = walk.ph;
    char enc[32];
    const char *mime = walk.parent->mime;
    snprintf(enc, sizeof enc, "%s,decrypted",
             strstr(mime, "7z") ? "7z" : strstr(mime, "rar") ? "rar" : "zip");
    struct pt_object_rec meta;
    pt_obj_child_meta(&meta, walk.parent, path + walk.root + 1, enc, ++walk.part);
    struct pt_obj *o = pt_obj_open(ph->store, &meta);
    FILE *f = fopen(path, "rb");
    if (o == NULL || f == NULL) {
        if (f != NULL) {
            fclose(f);
        }
        pt_obj_discard(o);
        anomaly(ph, walk.parent->item, walk.parent->frame, PT_ANOM_UNPACK_STORE_FAILED,
                "a member 7z extracted could not be stored in the case");
        return 0;
    }
    static _Thread_local uint8_t buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        pt_obj_write(o, buf, got);
    }
    bool whole = !ferror(f) && st->st_size < (off_t)PT_UNPACK_MAX_MEMBER;
    fclose(f);
    struct pt_object_rec rec;
    if (pt_obj_close(o, whole, &rec)) {
        ph_object(ph, &rec);
    }
    return 0;
}

/* Try every candidate with the 7z program on the archive b[0..n); the index of the one that
 * opened it (its members emitted), or -1. `why` says what went wrong with the program. */
static long try_7z(struct phase *ph, const struct pt_object_rec *p, const uint8_t *b, size_t n,
                   char *why, size_t whylen)
{
    char dir[4400], file[4500], out[4500], oarg[4600];
    snprintf(dir, sizeof dir, "%s/objects/tmp/pw.XXXXXX", ph->o->case_dir);
    if (mkdtemp(dir) == NULL) {
        snprintf(why, whylen, "no private directory for 7z: %s", strerror(errno));
        return -1;
    }
    snprintf(file, sizeof file, "%s/archive", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(oarg, sizeof oarg, "-o%s", out);
    long found = -1;
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool wrote = fd >= 0 && write(fd, b, n) == (ssize_t)n;
    if (fd >= 0) {
        close(fd);
    }
    if (!wrote) {
        snprintf(why, whylen, "the archive could not be copied for 7z");
    }
    for (size_t i = 0; wrote && i < ph->n && found < 0; i++) {
        char parg[PT_PW_MAX_LEN + 3];
        snprintf(parg, sizeof parg, "-p%s", ph->c[i].pw);
        char *tv[] = {ph->sevenzip, "t", "-y", "-bd", parg, "--", file, NULL};
        int rc = run(tv);
        if (rc == -2 || rc == -1) {
            snprintf(why, whylen, "the 7z program %s", rc == -2 ? "was killed (time limit or "
                                                                  "signal)" : "could not run");
            break;
        }
        if (rc != 0) {
            continue; /* 2: a wrong password (or a damaged archive) */
        }
        char *xv[] = {ph->sevenzip, "x", "-y", "-bd", parg, oarg, "--", file, NULL};
        rc = run(xv);
        if (rc != 0) {
            snprintf(why, whylen, "7z tested the password but extracting failed (status %d)",
                     rc);
        }
        found = (long)i;
        walk.ph = ph;
        walk.parent = p;
        walk.root = strlen(out);
        walk.part = 0;
        nftw(out, emit_file, 16, FTW_PHYS);
    }
    remove_tree(dir);
    return found;
}

/* ---- archives ---------------------------------------------------------------------------- */

/* An encrypted archive to try: its first object row and where its bytes are. */
struct arch {
    struct pt_object_rec rec;
    char pack[64];
    uint64_t off;
    bool members_encrypted; /* else it gave no member at all */
};

/* A 7z or RAR that gave no member: are its headers encrypted, or is it merely damaged (not
 * this phase's business)? 7z: the AES coder (06 F1 07 01, 7zFormat.txt) named in the encoded
 * header's coder list; RAR 5: an archive encryption header (type 4) first; RAR 4: the main
 * header's MHD_PASSWORD flag (0x0080). */
static bool headers_encrypted(const char *mime, const uint8_t *b, size_t n)
{
    static const uint8_t rar5[] = {0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00};
    static const uint8_t rar4[] = {0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00};
    static const uint8_t aes[] = {0x06, 0xf1, 0x07, 0x01};
    if (strstr(mime, "7z") != NULL) {
        return memmem(b, n, aes, sizeof aes) != NULL;
    }
    if (n > 12 && memcmp(b, rar5, sizeof rar5) == 0) {
        return b[12] == 4;
    }
    return n > 11 && memcmp(b, rar4, sizeof rar4) == 0 && (b[10] & 0x80) != 0;
}

/* Zips with encrypted members; 7z and RAR with encrypted members or no member at all (their
 * headers may be encrypted: libarchive then gives none). */
struct archives {
    struct arch *v;
    size_t n, cap;
    pt_status rc;
};

static bool archive_row(void *arg, const struct pt_q_archive *q)
{
    struct archives *l = arg;
    if (!pt_grow(&l->v, &l->cap, l->n + 1, sizeof *l->v, 16)) {
        l->rc = PT_ENOMEM;
        return false;
    }
    struct arch *a = &l->v[l->n++];
    memset(a, 0, sizeof *a);
    struct pt_object_rec *r = &a->rec;
    snprintf(r->sha256, sizeof r->sha256, "%s", q->sha256);
    r->size = q->size;
    snprintf(r->mime, sizeof r->mime, "%s", q->mime);
    snprintf(r->name, sizeof r->name, "%s", q->name);
    snprintf(r->protocol, sizeof r->protocol, "%s", q->protocol);
    snprintf(r->direction, sizeof r->direction, "%s", q->direction);
    r->flow_id = q->flow_id;
    r->item = q->item;
    r->frame = q->frame;
    r->ts_us = q->ts;
    r->depth = q->depth;
    snprintf(a->pack, sizeof a->pack, "%s", q->pack);
    a->off = q->off;
    r->stream_off = q->stream_off;
    r->complete = true;
    a->members_encrypted = q->members_encrypted;
    return l->n < PT_PW_MAX_ARCHIVES;
}

static pt_status list_archives(struct phase *ph, struct arch **out, size_t *n)
{
    struct archives l = {NULL, 0, 0, PT_OK};
    pt_status rc = pt_q_encrypted_archives(ph->db, archive_row, &l);
    *out = l.v;
    *n = l.n;
    return rc != PT_OK ? rc : l.rc;
}

/* The archive_password row of one archive: opened with candidate `ci` (or closed, ci < 0). */
static void put_row(struct phase *ph, const struct arch *a, long ci, const char *method,
                    const char *note)
{
    const struct cand *c = ci >= 0 ? &ph->c[ci] : NULL;
    struct pt_q_archive_pw r = {.sha256 = a->rec.sha256, .name = a->rec.name,
                                .size = a->rec.size, .opened = c != NULL,
                                .candidates = ph->n, .members = ph->members, .note = note};
    if (c != NULL) {
        r.method = method;
        r.source_sha256 = c->src_sha;
        r.source_path = c->src_path;
        r.line = c->line;
        r.form = pt_pw_form_name(c->form);
    }
    if (pt_q_archive_pw_put(ph->db, &r) != PT_OK) {
        ph->rc = PT_EDB;
    }
}

enum tried { TRIED_NOT, TRIED_CLOSED, TRIED_OPENED };

/* One encrypted archive: libarchive with each candidate, then the 7z program. */
static enum tried try_archive(struct phase *ph, const struct arch *a)
{
    struct pt_objbytes ob;
    if (!pt_object_load(ph->o->case_dir, a->rec.sha256, a->pack, a->off, a->rec.size, &ob)) {
        put_row(ph, a, -1, NULL, "the stored archive could not be read");
        return TRIED_CLOSED;
    }
    if (!a->members_encrypted && !headers_encrypted(a->rec.mime, ob.p, ob.n)) {
        pt_object_release(&ob);
        return TRIED_NOT; /* damaged, not encrypted: its unpack anomalies say so */
    }
    ph->members = 0;
    long found = -1;
    const char *method = "libarchive";
    for (size_t i = 0; i < ph->n && found < 0; i++) {
        if (pt_unpack_try_passphrase(ob.p, ob.n, a->rec.mime, ph->c[i].pw)) {
            found = (long)i;
            pt_unpack_opened(&ph->app, &a->rec, ob.p, ob.n, ph->c[i].pw);
        }
    }
    char why[300] = "";
    if (found < 0 && ph->n > 0 && ph->sevenzip[0] != '\0') {
        method = "7z";
        found = try_7z(ph, &a->rec, ob.p, ob.n, why, sizeof why);
    } else if (found < 0 && ph->n > 0) {
        snprintf(why, sizeof why, "the 7z program is not installed (Debian: 7zip or "
                                  "p7zip-full), so 7z AES, header-encrypted 7z and RAR "
                                  "archives were tried through libarchive only");
    }
    pt_object_release(&ob);
    char d[700];
    if (found >= 0) {
        const struct cand *c = &ph->c[found];
        snprintf(d, sizeof d, "%.60s opened with a password from %.80s:%u (%s, through %s)",
                 a->rec.name, c->src_path, c->line, pt_pw_form_name(c->form), method);
        anomaly(ph, a->rec.item, a->rec.frame, PT_ANOM_UNPACK_ARCHIVE_OPENED, d);
    } else if (why[0] != '\0') {
        snprintf(d, sizeof d, "%.60s: %s", a->rec.name, why);
        anomaly(ph, a->rec.item, a->rec.frame, PT_ANOM_UNPACK_PASSWORD_TOOL, d);
    }
    if (found < 0 && why[0] == '\0') {
        snprintf(why, sizeof why, "none of the %zu candidate password(s) opened it", ph->n);
    }
    put_row(ph, a, found, method, found >= 0 ? NULL : why);
    return found >= 0 ? TRIED_OPENED : TRIED_CLOSED;
}

pt_status pt_archive_pw_phase(struct pt_db *db, const struct pt_archive_pw_opts *o,
                              struct pt_archive_pw_result *res, char *err, size_t errlen)
{
    struct phase ph = {.db = db, .o = o, .rc = PT_OK};
    memset(res, 0, sizeof *res);
    struct arch *as = NULL;
    size_t na = 0;
    if (pt_db_begin(db) != PT_OK) {
        snprintf(err, errlen, "archive passwords: cannot begin a transaction");
        return PT_EDB;
    }
    ph.rc = list_archives(&ph, &as, &na);
    if (ph.rc == PT_OK && na > 0) {
        harvest_objects(&ph);
    }
    if (ph.rc == PT_OK && na > 0 && o->wordlist != NULL) {
        harvest_wordlist(&ph, err, errlen);
    }
    if (ph.rc == PT_OK && na > 0 &&
        pt_objstore_new(o->case_dir, o->store_id, &ph.store) != PT_OK) {
        ph.rc = PT_EIO;
    }
    find_7z(ph.sevenzip, sizeof ph.sevenzip);
    ph.app = (struct pt_app_ctx){.arg = &ph, .object = ph_object, .anomaly = ph_anomaly,
                                 .store = ph.store};
    for (size_t i = 0; i < na && ph.rc == PT_OK; i++) {
        enum tried t = try_archive(&ph, &as[i]);
        res->archives += t != TRIED_NOT;
        res->opened += t == TRIED_OPENED;
    }
    res->candidates = (unsigned)ph.n;
    pt_status rc = ph.rc;
    if (pt_db_commit(db) != PT_OK && rc == PT_OK) {
        rc = PT_EDB;
    }
    if (rc != PT_OK && err[0] == '\0') {
        snprintf(err, errlen, "archive passwords: %s", pt_status_str(rc));
    }
    for (size_t i = 0; i < ph.n; i++) {
        explicit_bzero(ph.c[i].pw, ph.c[i].len);
        free(ph.c[i].pw);
        free(ph.c[i].src_path);
    }
    free(ph.c);
    free(as);
    pt_objstore_free(ph.store);
    return rc;
}
