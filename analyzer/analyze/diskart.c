/*
 * diskart.c - recycle-bin records and browser downloads from the objects at rest
 * (diskart.h).
 */
#include "diskart.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/anomaly.h"
#include "../core/log.h"
#include "../core/version.h"
#include "../store/db.h"
#include "../store/q_disk.h"
#include "browser.h"
#include "objstore.h"
#include "recycle.h"

struct ctx {
    struct pt_db *db;
    const char *case_dir;
    struct pt_diskart_result *res;
    const struct pt_q_disk_candidate *cand;
    pt_status rc;
};

static void recycle(struct ctx *x, const struct pt_objbytes *b)
{
    static struct pt_recycle r;
    if (!pt_recycle_parse(b->p, b->n, &r)) {
        return; /* a name like $I... that is not a record: nothing to say */
    }
    struct pt_q_recycle_row row = {.item = x->cand->item, .sha256 = x->cand->sha256,
                                   .path = x->cand->path, .original_path = r.path,
                                   .version = r.version, .size = r.size,
                                   .deleted_us = r.deleted_us};
    if (x->rc == PT_OK) {
        x->rc = pt_q_disk_recycle_put(x->db, &row);
    }
    x->res->recycle++;
}

static void on_download(void *arg, const struct pt_download *d)
{
    struct ctx *x = arg;
    struct pt_q_download_row row = {.item = x->cand->item, .sha256 = x->cand->sha256,
                                    .source_path = x->cand->path, .browser = d->browser,
                                    .url = d->url, .target = d->target, .state = d->state,
                                    .start_us = d->start_us, .end_us = d->end_us,
                                    .received = d->received, .total = d->total};
    if (x->rc == PT_OK) {
        x->rc = pt_q_disk_download_put(x->db, &row);
    }
    x->res->downloads++;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* A browser database: a private copy, read, removed. */
static void browser(struct ctx *x, const struct pt_objbytes *b)
{
    if (b->n < 16 || memcmp(b->p, "SQLite format 3", 16) != 0) {
        return; /* not a SQLite database: a file that is only named History */
    }
    char dir[4096], path[4200], err[400] = "";
    if (snprintf(dir, sizeof dir, "%s/objects/tmp/dl.XXXXXX", x->case_dir) >= (int)sizeof dir) {
        return;
    }
    char parent[4096];
    snprintf(parent, sizeof parent, "%s/objects/tmp", x->case_dir);
    mkdir(parent, 0700);
    if (mkdtemp(dir) == NULL) {
        snprintf(err, sizeof err, "no private directory for its copy");
    } else {
        snprintf(path, sizeof path, "%s/db", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        bool ok = fd >= 0 && write_all(fd, b->p, b->n);
        if (fd >= 0 && close(fd) != 0) {
            ok = false;
        }
        if (!ok) {
            snprintf(err, sizeof err, "its copy could not be written");
        } else {
            pt_browser_downloads(path, on_download, x, err, sizeof err);
        }
        unlink(path);
        rmdir(dir);
    }
    if (err[0] != '\0' && x->rc == PT_OK) {
        char detail[1000];
        snprintf(detail, sizeof detail, "browser history %.300s (object %.16s): %.400s",
                 x->cand->path, x->cand->sha256, err);
        x->rc = pt_q_disk_anomaly(x->db, x->cand->item,
                                  pt_anom_kind(PT_ANOM_IMAGE_ARTIFACT_UNREADABLE), detail);
    }
}

static void on_candidate(void *arg, const struct pt_q_disk_candidate *c)
{
    struct ctx *x = arg;
    bool rec = pt_recycle_name(c->path), web = pt_browser_name(c->path);
    if ((!rec && !web) || (rec && c->size > 65536)) {
        return;
    }
    struct pt_objbytes b;
    if (!pt_object_load(x->case_dir, c->sha256, c->pack, c->pack_off, c->size, &b)) {
        return;
    }
    x->cand = c;
    if (rec) {
        recycle(x, &b);
    } else {
        browser(x, &b);
    }
    pt_object_release(&b);
}

pt_status pt_diskart_phase(struct pt_db *db, const char *case_dir, struct pt_diskart_result *res,
                           char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    struct ctx x = {.db = db, .case_dir = case_dir, .res = res, .rc = PT_OK};
    pt_status rc = pt_db_begin(db);
    if (rc == PT_OK) {
        rc = pt_q_disk_candidates(db, PT_DISKART_MAX_DB, on_candidate, &x);
        rc = rc != PT_OK ? rc : x.rc;
    }
    if (rc == PT_OK && (rc = pt_db_commit(db)) == PT_OK) {
        return PT_OK;
    }
    snprintf(err, errlen, "disk artifacts: %s", pt_db_errmsg(db));
    pt_db_rollback(db);
    return rc;
}

pt_status pt_diskart_run(struct pt_db *db, const char *case_dir)
{
    struct pt_diskart_result res;
    char err[512] = "", note[96];
    pt_status rc = pt_diskart_phase(db, case_dir, &res, err, sizeof err);
    if (rc != PT_OK) {
        pt_error("%s", err[0] ? err : pt_status_str(rc));
    } else if (res.recycle + res.downloads > 0) {
        snprintf(note, sizeof note, "recycle_records=%u browser_downloads=%u", res.recycle,
                 res.downloads);
        pt_db_audit(db, "phitrace " PT_VERSION, "disk_artifacts", note);
    }
    return rc;
}
