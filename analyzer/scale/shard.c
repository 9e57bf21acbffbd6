/*
 * shard.c - `phitrace analyze --plan PLAN --shard I`: one shard of a plan (scale.h).
 *
 * The shard expands the plan's INPUT arguments exactly as a whole run would and refuses when
 * the list differs from the plan's (a file added, removed or renamed since the plan), so its
 * item ids are the whole run's; it then reads only its own items. Its case holds the plan's
 * key (phi.key) and a copy of the plan (plan.txt, checked against the plan's SHA-256), and
 * its manifest says which shard of which plan it is. A rerun builds the new case beside the
 * old one and swaps it in when whole (as --force does), so rerunning a failed shard replaces
 * it; a directory holding any other case is refused without --force.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "../core/log.h"
#include "../ingest/inputs.h"
#include "../pipeline.h"
#include "../store/db.h"
#include "../store/q_scale.h"
#include "scale.h"

static pt_status write_all(const char *path, const void *buf, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        pt_error("cannot write %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            pt_error("cannot write %s: %s", path, strerror(errno));
            close(fd);
            return PT_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        pt_error("cannot write %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    return PT_OK;
}

/* The whole of a small file (a plan). */
static pt_status slurp(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        pt_error("cannot read %s: %s", path, strerror(errno));
        return PT_EIO;
    }
    char *buf = NULL;
    size_t cap = 0, n;
    pt_status rc = PT_OK;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (nb == NULL) {
                rc = PT_ENOMEM;
                break;
            }
            buf = nb;
        }
        if ((n = fread(buf + *len, 1, cap - *len, f)) == 0) {
            rc = ferror(f) ? PT_EIO : PT_OK;
            break;
        }
        *len += n;
    }
    fclose(f);
    if (rc != PT_OK) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    return rc;
}

pt_status pt_scale_prepare(void *arg, const char *dir)
{
    const struct pt_scale_prep *pp = arg;
    char path[4300];
    snprintf(path, sizeof path, "%s/phi.key", dir);
    PT_TRY(write_all(path, pp->plan->key, sizeof pp->plan->key));
    char *buf = NULL;
    size_t len = 0;
    PT_TRY(slurp(pp->plan_path, &buf, &len));
    uint8_t d[PT_SHA256_LEN];
    char hex[PT_SHA256_HEX];
    pt_status rc = pt_sha256_buf(buf, len, d);
    pt_hex(d, sizeof d, hex);
    if (rc == PT_OK && strcmp(hex, pp->plan->sha256) != 0) {
        pt_error("the plan %s changed while the run started", pp->plan_path);
        rc = PT_EUSAGE;
    }
    snprintf(path, sizeof path, "%s/plan.txt", dir);
    rc = rc == PT_OK ? write_all(path, buf, len) : rc;
    free(buf);
    return rc;
}

/* The plan's settings onto a run's options (the caller's case directory and local ones stay). */
void pt_scale_plan_options(const struct pt_plan *p, struct pt_options *o)
{
    o->inputs = p->inputs;
    o->n_inputs = p->n_inputs;
    o->home_net = p->home_net;
    o->memcap = p->memcap;
    o->max_flows = p->max_flows;
    o->flows_only = p->flows_only;
    o->keep_phi = p->keep_phi;
    o->no_phi = p->no_phi;
    o->copy_inputs = p->copy_inputs;
    o->signatures = p->signatures;
    o->rules = p->rules;
    o->passwords = p->passwords;
    for (size_t i = 0; i < p->n_image_hosts && o->n_image_hosts < PT_MAX_IMAGE_HOSTS; i++) {
        o->image_hosts[o->n_image_hosts++] = p->image_hosts[i];
    }
}

/* The expansion the shard sees must be the plan's. */
static pt_status same_inputs(const struct pt_plan *p, const char *case_dir)
{
    struct pt_input_list in = {0};
    char err[512] = "";
    pt_status rc = pt_inputs_expand(p->inputs, p->n_inputs, case_dir, &in, err, sizeof err);
    if (rc != PT_OK) {
        pt_error("%s", err[0] ? err : "cannot list the inputs");
        return rc;
    }
    size_t first = 0; /* 1 + the index of the first input that differs, 0 for none */
    for (size_t i = 0; first == 0 && i < in.n && i < p->n_items; i++) {
        /* a size that changed is caught here, before hours of work; content by the merge */
        if (strcmp(in.v[i].path, p->items[i].path) != 0 ||
            (in.v[i].skip == NULL && in.v[i].size != p->items[i].size)) {
            first = i + 1;
        }
    }
    if (first > 0 || in.n != p->n_items) {
        pt_error("the inputs are not those of the plan (%zu expanded now, %zu in the plan%s%s); "
                 "make a new plan",
                 in.n, p->n_items, first ? "; first difference: " : "",
                 first ? p->items[first - 1].path : "");
        rc = PT_EUSAGE;
    }
    pt_inputs_fini(&in);
    return rc;
}

/* A case already at `dir` is replaced only when it is this shard of this plan (a rerun), or
 * with --force: a shard command must not silently take the place of another case. */
static pt_status may_replace(const char *dir, const struct pt_plan *p, unsigned shard, bool force)
{
    char path[4300], err[512] = "", role[16], sha[PT_SHA256_HEX + 1], idx[16], want[16];
    snprintf(path, sizeof path, "%s/evidence.db", dir);
    struct stat st;
    if (force || stat(path, &st) != 0) {
        return PT_OK;
    }
    struct pt_db *db = NULL;
    bool same = false;
    if (pt_db_open_ro(path, &db, err, sizeof err) == PT_OK) {
        snprintf(want, sizeof want, "%u", shard);
        same = pt_q_manifest_get(db, "scale_role", role, sizeof role) &&
               strcmp(role, "shard") == 0 &&
               pt_q_manifest_get(db, "plan_sha256", sha, sizeof sha) &&
               strcmp(sha, p->sha256) == 0 &&
               pt_q_manifest_get(db, "scale_shard", idx, sizeof idx) && strcmp(idx, want) == 0;
        pt_db_close(db);
    }
    if (!same) {
        pt_error("%s holds a case that is not shard %u of this plan; choose another directory "
                 "or pass --force to replace it", dir, shard);
        return PT_EUSAGE;
    }
    return PT_OK;
}

pt_status pt_scale_shard(const char *plan_path, unsigned shard, const struct pt_options *base,
                         struct pt_run_result *res)
{
    struct pt_plan p;
    char err[512] = "";
    if (pt_plan_load(plan_path, &p, err, sizeof err) != PT_OK) {
        pt_error("%s", err);
        return PT_EUSAGE;
    }
    pt_status rc = PT_OK;
    uint32_t *ids = NULL;
    struct pt_byte_range *ranges = NULL;
    if (shard >= p.shards) {
        pt_error("--shard %u: the plan has shards 0 to %u", shard, p.shards - 1);
        rc = PT_EUSAGE;
        goto out;
    }
    PT_TRY_OUT(may_replace(base->case_dir, &p, shard, base->force));
    PT_TRY_OUT(same_inputs(&p, base->case_dir));
    size_t n = 0;
    if ((ids = calloc(p.n_items ? p.n_items : 1, sizeof *ids)) == NULL) {
        rc = PT_ENOMEM;
        goto out;
    }
    size_t nr = 0;
    if ((ranges = calloc(p.n_ranges ? p.n_ranges : 1, sizeof *ranges)) == NULL) {
        rc = PT_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < p.n_items; i++) {
        const struct pt_plan_item *it = &p.items[i];
        bool mine = it->n_ranges == 0 && it->shard == shard;
        for (size_t j = 0; j < it->n_ranges; j++) {
            if (p.ranges[it->first_range + j].shard == shard) {
                ranges[nr++] = p.ranges[it->first_range + j].r; /* one per item and shard */
                mine = true;
            }
        }
        if (mine) {
            ids[n++] = it->id; /* ascending: items are in id order */
        }
    }
    char idx[16], count[16];
    snprintf(idx, sizeof idx, "%u", shard);
    snprintf(count, sizeof count, "%u", p.shards);
    const char *const manifest[] = {"scale_role", "shard", "scale_shard", idx, "scale_shards",
                                    count, "plan_sha256", p.sha256, NULL};
    struct pt_scale_prep pp = {&p, plan_path};
    struct pt_options o = *base;
    pt_scale_plan_options(&p, &o);
    o.only_items = ids;
    o.n_only = n;
    o.ranges = nr > 0 ? ranges : NULL;
    o.n_ranges = nr;
    o.shard = true;
    o.force = true;
    o.prepare = pt_scale_prepare;
    o.prepare_arg = &pp;
    o.manifest = manifest;
    rc = pt_analyze(&o, res);
out:
    free(ids);
    free(ranges);
    pt_plan_fini(&p);
    return rc;
}
