/*
 * pipeline.c - the analyze run (see pipeline.h), as a list of stages.
 *
 * The packet stage: the reader (this thread, reader.h) reads every input in order and
 * decodes; the workers (worker.h) own disjoint flow tables; the writer thread (writer.h) owns
 * the database. Then, on the database the writer filled: logs joined to flows, DNS tunnel
 * payloads, archive passwords, PHI, the verdict, GeoIP, the reports and the seal of the case
 * directory (casedir.h), and summary.txt last.
 */
#include "pipeline.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze/archive_pw.h"
#include "analyze/diskart.h"
#include "analyze/hostinfer.h"
#include "analyze/tunnel.h"
#include "analyze/unpack.h"
#include "casedir.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/version.h"
#include "phi/config.h"
#include "phi/phase.h"
#include "phi/yara_scan.h"
#include "progress.h"
#include "reader.h"
#include "store/q_links.h"
#include "store/q_staging.h"
#include "report/report.h"
#include "report/summary.h"
#include "store/objkeep.h"
#include "verdict/geoip.h"
#include "verdict/verdict.h"
#include "worker.h"
#include "writer.h"

struct run {
    const struct pt_options *user; /* as given: user->case_dir is the case to publish */
    struct pt_options o;           /* o.case_dir: where this run builds (pt_case_dir_make) */
    struct pt_writer w;
    bool writer_started, sealed;
    struct pt_worker *workers;
    unsigned n_workers;
    struct pt_reader rd;
    struct pt_progress prog;
    struct pt_run_result res;
    struct pt_cidr_set home;
    struct pt_input_list inputs;
    struct pt_yara *yara;         /* compiled rules, shared read-only by the scanning threads */
    struct pt_unpack_run *unpack; /* archives unpacked, shared by the workers */
    struct pt_memcap memcap;      /* per-flow decoder state of all workers (--memcap) */
    struct timespec t_content, t_verdict, t_report; /* when each later stage started */
    double cpu[4];                /* CPU seconds of the process (every thread, user + system)
                                   * as the capture, content, verdict and report stages start */
    char homes[512], start[32], build[4200], final_abs[4200];
    char incomplete[300];         /* why the case is sealed incomplete, or "" */
};

static void audit(struct run *r, const char *action, const char *detail)
{
    pt_db_audit(r->w.db, "phitrace " PT_VERSION, action, detail);
}

static double seconds(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* User and system seconds of every thread so far: on a shared machine the stage's wall time
 * holds waiting for the CPU, this does not. */
static double cpu_seconds(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0) {
        return 0;
    }
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* ---- setting up ---------------------------------------------------------------------------- */

/* The home network, the inputs, the case directory and its database. */
static pt_status run_open(struct run *r)
{
    const struct pt_options *opt = &r->o;
    char err[512] = "", dbpath[4400];
    const char *home_text = opt->home_net ? opt->home_net : PT_HOME_NET_DEFAULT;
    if (pt_cidr_set_parse(home_text, &r->home, err, sizeof err) != PT_OK) {
        pt_error("--home-net: %s", err);
        return PT_EUSAGE;
    }
    pt_cidr_set_str(&r->home, r->homes, sizeof r->homes);
    pt_status rc = opt->merge != NULL ? PT_OK
                                      : pt_inputs_expand(opt->inputs, opt->n_inputs,
                                                         opt->case_dir, &r->inputs, err,
                                                         sizeof err);
    if (rc != PT_OK) {
        pt_error("%s", err[0] ? err : "cannot list the inputs");
        return rc;
    }
    PT_TRY(pt_case_dir_make(r->user, r->build, sizeof r->build));
    if (realpath(r->user->case_dir, r->final_abs) == NULL) {
        snprintf(r->final_abs, sizeof r->final_abs, "%s", r->user->case_dir);
    }
    r->o.case_dir = r->build;
    if (opt->prepare != NULL) {
        PT_TRY(opt->prepare(opt->prepare_arg, r->build));
    }
    snprintf(dbpath, sizeof dbpath, "%s/evidence.db", r->build);
    rc = pt_db_create(dbpath, &r->w.db, err, sizeof err);
    if (rc != PT_OK) {
        pt_error("%s", err);
        return rc;
    }
    pt_utc_now(r->start);
    return PT_OK;
}

/* The writer thread, the first custody event and the manifest. */
static pt_status writer_start(struct run *r)
{
    const struct pt_options *opt = &r->o;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    r->n_workers = opt->threads ? opt->threads : (cores > 0 ? (unsigned)cores : 1);
    PT_TRY(pt_queue_init(&r->w.q, 256));
    if (pthread_create(&r->w.th, NULL, pt_writer_main, &r->w) != 0) {
        return PT_EINTERNAL;
    }
    r->writer_started = true;
    char detail[512];
    snprintf(detail, sizeof detail, "case=%.400s inputs=%zu", r->final_abs, r->inputs.n);
    pt_writer_audit(&r->w, "analysis_started", detail);
    pt_case_manifest(&r->w, opt, r->n_workers, r->homes, r->start);
    pt_writer_manifest(&r->w, "case_dir", r->final_abs);
    for (size_t i = 0; opt->manifest != NULL && opt->manifest[i] != NULL; i += 2) {
        pt_writer_manifest(&r->w, opt->manifest[i], opt->manifest[i + 1]);
    }
    return PT_OK;
}

/* The PHI signatures and YARA rules, each file's SHA-256 in the manifest. */
static pt_status load_rules(struct run *r)
{
    const struct pt_options *opt = &r->o;
    if (opt->flows_only || opt->no_phi) {
        return PT_OK;
    }
    char sig[4096], err[512] = "";
    struct pt_phi_config_file files[8];
    size_t nf = 0;
    if (!pt_signatures_dir(opt->signatures, sig, sizeof sig)) {
        pt_error("no signatures directory found; give one with --signatures DIR (the "
                 "signatures/ folder of phitrace)");
        return PT_EUSAGE;
    }
    if (pt_phi_config_load(sig, files, 8, &nf, err, sizeof err) != PT_OK) {
        pt_error("%s", err);
        return PT_EUSAGE;
    }
    pt_writer_manifest(&r->w, "signatures_dir", sig);
    for (size_t i = 0; i < nf; i++) {
        char k[96];
        snprintf(k, sizeof k, "signature_sha256:%.63s", files[i].name);
        pt_writer_manifest(&r->w, k, files[i].sha256);
    }
    pt_writer_manifest(&r->w, "keep_phi", opt->keep_phi ? "yes" : "no");
    const char *dirs[2] = {sig, opt->rules};
    struct pt_yara_file yf[64];
    size_t ny = 0;
    if (pt_yara_load(dirs, 2, opt->quiet ? NULL : stderr, yf, 64, &ny, &r->yara, err,
                     sizeof err) != PT_OK) {
        pt_error("YARA rules: %s (check them with: phitrace rules check DIR)", err);
        return PT_EUSAGE;
    }
    for (size_t i = 0; i < ny; i++) {
        /* shipped rules by file name (the install path is not evidence), --rules by path */
        char k[600];
        size_t sl = strlen(sig);
        const char *name = strncmp(yf[i].path, sig, sl) == 0 && yf[i].path[sl] == '/'
                               ? yf[i].path + sl + 1
                               : yf[i].path;
        snprintf(k, sizeof k, "rules_sha256:%.500s", name);
        pt_writer_manifest(&r->w, k, yf[i].sha256);
    }
    snprintf(err, sizeof err, "%u", pt_yara_rule_count(r->yara));
    pt_writer_manifest(&r->w, "yara_rules", err);
    return PT_OK;
}

static void decode_anomaly(void *arg, const struct pt_frame *f, uint64_t offset, enum pt_anom kind,
                           const char *detail)
{
    pt_anom_sink_push(arg, f->item, f->num, offset, kind, detail);
}

/* The decoder, the workers and the reader's own object store. */
static pt_status workers_start(struct run *r)
{
    const struct pt_options *opt = &r->o;
    struct pt_reader *rd = &r->rd;
    rd->opt = opt;
    rd->w = &r->w;
    rd->done = &r->prog.done;
    pt_anom_sink_init(&rd->anoms, &r->w);
    pt_memcap_init(&r->memcap, opt->memcap ? opt->memcap : PT_MEMCAP_DEFAULT);
    rd->dec = pt_decoder_new(decode_anomaly, &rd->anoms);
    r->workers = calloc(r->n_workers, sizeof *r->workers);
    if (rd->dec == NULL || r->workers == NULL ||
        pt_unpack_run_new(PT_UNPACK_BUDGET_TOP, PT_UNPACK_BUDGET_CASE, &r->unpack) != PT_OK ||
        pt_dispatch_new(r->workers, r->n_workers, &rd->dispatch) != PT_OK) {
        return PT_ENOMEM;
    }
    struct pt_worker_conf c = {.case_dir = opt->case_dir, .home = &r->home,
                               .max_flows = opt->max_flows, .flows_only = opt->flows_only,
                               .memcap = &r->memcap, .unpack = r->unpack};
    for (unsigned i = 0; i < r->n_workers; i++) {
        PT_TRY(pt_worker_start(&r->workers[i], i, &r->w, &c));
    }
    return pt_worker_files_init(&rd->files, r->n_workers, &r->w, &c);
}

/* ---- the packet stage ---------------------------------------------------------------------- */

static int cmp_item_id(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void read_inputs(struct run *r)
{
    const struct pt_options *opt = &r->o;
    pt_progress_start(&r->prog, opt->progress && !opt->quiet, opt->progress_json,
                      r->inputs.total_bytes, r->inputs.n);
    r->cpu[0] = cpu_seconds();
    for (size_t i = 0; i < r->inputs.n; i++) {
        if (atomic_load(&r->w.failed) != PT_OK) {
            break;
        }
        uint32_t id = (uint32_t)(i + 1);
        if (opt->only_items != NULL &&
            bsearch(&id, opt->only_items, opt->n_only, sizeof id, cmp_item_id) == NULL) {
            continue; /* another shard's */
        }
        pt_reader_item(&r->rd, &r->inputs.v[i], id);
        r->res.items++;
        atomic_store(&r->prog.inputs, r->res.items);
    }
    pt_decoder_flush(r->rd.dec, 0);
    pt_anom_sink_flush(&r->rd.anoms);
}

/* The workers' last batches and the writer's last transaction: the packet stage is over. */
static pt_status packet_stage_end(struct run *r, pt_status rc)
{
    for (unsigned i = 0; r->workers != NULL && i < r->n_workers; i++) {
        /* a shard ends its open flows "eof" whatever their age: whether the whole run would
         * have timed them out depends on the other shards' packets, so the merge decides */
        pt_worker_stop(&r->workers[i], r->o.shard ? 0 : r->rd.max_ts);
    }
    r->res.packets = r->rd.packets;
    r->res.items_failed = r->rd.items_failed;
    r->res.objects_lost = r->rd.objects_lost;
    for (unsigned i = 0; r->workers != NULL && i < r->n_workers; i++) {
        r->res.objects_lost += pt_worker_objects_lost(&r->workers[i]);
    }
    r->res.objects_lost += pt_worker_objects_lost(&r->rd.files);
    if (r->memcap.evicted_flows > 0) {
        pt_warn("memory cap of %llu MiB over per-flow state reached: %llu flow(s) ended early in "
                "%llu burst(s) (limit.memcap anomalies); the state peaked at %llu MiB",
                (unsigned long long)(r->memcap.max >> 20),
                (unsigned long long)r->memcap.evicted_flows,
                (unsigned long long)r->memcap.bursts,
                (unsigned long long)(r->memcap.peak >> 20));
    }
    if (r->res.objects_lost > 0) {
        snprintf(r->incomplete, sizeof r->incomplete,
                 "%llu object(s) could not be written to the case (disk full or I/O error; see "
                 "the store.failed anomalies), so their content was not analyzed",
                 (unsigned long long)r->res.objects_lost);
    }
    pt_progress_stop(&r->prog);
    if (!r->writer_started) {
        return rc;
    }
    pt_queue_close(&r->w.q);
    pthread_join(r->w.th, NULL);
    if (atomic_load(&r->w.failed) != PT_OK && rc == PT_OK) {
        rc = (pt_status)atomic_load(&r->w.failed);
        pt_error("evidence database: %s", r->w.err);
    }
    r->res.flows = r->w.flows;
    r->res.anomalies = r->w.anomalies;
    if (rc == PT_OK) { /* every object of the packet stage has its id: the rows' links */
        char lerr[256] = "";
        rc = pt_q_link_objects(r->w.db, lerr, sizeof lerr);
        if (rc != PT_OK) {
            pt_error("evidence database: linking rows to their objects: %s", lerr);
        }
    }
    if (rc == PT_OK && r->o.merge != NULL) {
        rc = r->o.merge(r->o.merge_arg, r->w.db, r->o.case_dir, &r->res);
    }
    if (rc == PT_OK && r->o.shard) {
        /* the merge ends the flows still open here as the whole run would (idle or eof) */
        char ts[32];
        snprintf(ts, sizeof ts, "%lld", (long long)r->rd.max_ts);
        pt_db_manifest_set(r->w.db, "shard_max_ts", ts);
    }
    return rc;
}

/* ---- the stages on the database ---------------------------------------------------------- */

/* Connections read from logs become flows (or join the captured ones) before the heuristics
 * read the flows. */
static pt_status log_flows(struct run *r)
{
    struct pt_logflow_stats lf;
    char lerr[256] = "", note[256];
    pt_status rc = pt_db_log_flows(r->w.db, &r->home, &lf, lerr, sizeof lerr);
    if (rc != PT_OK) {
        pt_error("logs to flows: %s", lerr[0] ? lerr : pt_status_str(rc));
    } else if (lf.logs > 0) {
        snprintf(note, sizeof note, "logs=%llu matched=%llu created=%llu blocked=%llu "
                 "untimed=%llu", (unsigned long long)lf.logs,
                 (unsigned long long)lf.matched, (unsigned long long)lf.created,
                 (unsigned long long)lf.blocked, (unsigned long long)lf.untimed);
        audit(r, "log_flows", note);
    }
    struct pt_logxfer_stats lx;
    rc = rc == PT_OK ? pt_db_log_xfers(r->w.db, &r->home, &lx, lerr, sizeof lerr) : rc;
    if (rc != PT_OK) {
        pt_error("file transfers to flows: %s", lerr[0] ? lerr : pt_status_str(rc));
    } else if (lx.transfers > 0) {
        snprintf(note, sizeof note, "transfers=%llu matched=%llu created=%llu unaddressed=%llu "
                 "untimed=%llu failed=%llu", (unsigned long long)lx.transfers,
                 (unsigned long long)lx.matched, (unsigned long long)lx.created,
                 (unsigned long long)lx.unaddressed, (unsigned long long)lx.untimed,
                 (unsigned long long)lx.failed);
        audit(r, "log_xfers", note);
    }
    return rc;
}

/* DNS tunnel payloads become objects before the PHI stage reads them all. */
static pt_status tunnels(struct run *r)
{
    unsigned tun = 0;
    char terr[256] = "";
    pt_status rc = pt_tunnel_phase(r->w.db, r->o.case_dir, r->n_workers + 1, &tun, terr,
                                   sizeof terr);
    if (rc != PT_OK) {
        pt_error("%s", terr[0] ? terr : pt_status_str(rc));
    }
    return rc;
}

/* After every object is stored and before the PHI stage: the archive password phase. */
static pt_status archive_passwords(struct run *r)
{
    const struct pt_options *opt = &r->o;
    struct pt_archive_pw_opts po = {.case_dir = opt->case_dir, .store_id = r->n_workers + 2,
                                    .wordlist = opt->passwords};
    struct pt_archive_pw_result pr;
    char perr[512] = "", note[160];
    pt_status rc = pt_archive_pw_phase(r->w.db, &po, &pr, perr, sizeof perr);
    if (rc != PT_OK) {
        pt_error("%s", perr[0] ? perr : pt_status_str(rc));
    } else if (pr.archives > 0) {
        snprintf(note, sizeof note, "candidates=%u archives=%u opened=%u", pr.candidates,
                 pr.archives, pr.opened);
        pt_db_audit(r->w.db, "phitrace " PT_VERSION, "archive_passwords", note);
    }
    return rc;
}


/* The PHI stage reads the objects the writer stored. */
static pt_status phi(struct run *r)
{
    const struct pt_options *opt = &r->o;
    struct pt_phi_options po = {.case_dir = opt->case_dir, .threads = r->n_workers,
                                .keep_phi = opt->keep_phi, .quiet = opt->quiet,
                                .yara = r->yara};
    struct pt_phi_result pr;
    char perr[512] = "", note[256];
    pt_status rc = pt_phi_phase(r->w.db, &po, &pr, perr, sizeof perr);
    if (rc != PT_OK) {
        pt_error("PHI stage: %s", perr[0] ? perr : pt_status_str(rc));
        return rc;
    }
    r->res.phi_hits = pr.hits;
    r->res.individuals = pr.individuals;
    r->res.individuals_outbound = pr.individuals_outbound;
    r->res.yara_matches = pr.yara_matches;
    snprintf(note, sizeof note, "objects=%llu records=%llu hits=%llu individuals=%llu",
             (unsigned long long)pr.objects, (unsigned long long)pr.records,
             (unsigned long long)pr.hits, (unsigned long long)pr.individuals);
    audit(r, "phi_scanned", note);
    return PT_OK;
}

/* --image-host IMAGE=ADDR: which host each disk image is of (image_host), before the verdict
 * weighs what is staged on it (verdict/heur_staging.c). An IMAGE naming no input is a
 * warning: the run goes on without that link. */
static pt_status link_image_hosts(struct run *r)
{
    for (size_t i = 0; i < r->o.n_image_hosts; i++) {
        char image[4096];
        const char *arg = r->o.image_hosts[i], *eq = strrchr(arg, '=');
        snprintf(image, sizeof image, "%.*s", (int)(eq - arg), arg);
        int matched = 0;
        if (pt_q_staging_link(r->w.db, image, eq + 1, &matched) != PT_OK) {
            pt_error("--image-host %s: the case database refused it", arg);
            return PT_EDB;
        }
        if (matched == 0) {
            pt_warn("--image-host %s: no input is named %s; the link was not made", arg, image);
        }
        char note[4200];
        snprintf(note, sizeof note, "image=%s addr=%s items=%d", image, eq + 1, matched);
        audit(r, "image_host", note);
    }
    return PT_OK;
}

static pt_status verdict(struct run *r)
{
    char sig[4096], verr[512] = "", note[256];
    struct pt_verdict_result vr;
    pt_status rc;
    if (!pt_signatures_dir(r->o.signatures, sig, sizeof sig)) {
        pt_error("no signatures directory found (heuristics.conf); give one with "
                 "--signatures DIR");
        return PT_EUSAGE;
    }
    if ((rc = link_image_hosts(r)) != PT_OK) {
        return rc;
    }
    /* the hosts the images' own files give, after the options (which win over them) */
    if (!r->o.flows_only && (rc = pt_hostinfer_run(r->w.db, r->o.case_dir)) != PT_OK) {
        return rc;
    }
    if ((rc = pt_verdict_run(r->w.db, sig, &vr, verr, sizeof verr)) != PT_OK) {
        pt_error("verdict stage: %s", verr[0] ? verr : pt_status_str(rc));
        return rc;
    }
    r->res.verdict = (int)vr.overall;
    snprintf(note, sizeof note, "verdict=%s findings=%u events=%u",
             pt_verdict_name(vr.overall), vr.findings, vr.events);
    audit(r, "verdict", note);
    return PT_OK;
}

/* After the verdict (every stage that reads object bytes is done) and before the reports
 * (the limitation it may add): which object bytes the case keeps (store/objkeep.h). */
static pt_status keep_objects(struct run *r)
{
    char kerr[512] = "", note[256];
    struct pt_objkeep_result k;
    pt_status rc = pt_objkeep_run(r->w.db, r->o.case_dir, (enum pt_keep_objects)r->o.keep_objects,
                                  &k, kerr, sizeof kerr);
    if (rc == PT_EIO || rc == PT_ENOMEM) {
        /* rolled back: every object stays as the capture stage stored it (nothing is lost,
         * the case is only larger), and the manifest says why */
        pt_warn("%s; every object is kept as stored", kerr[0] ? kerr : pt_status_str(rc));
        snprintf(note, sizeof note, "%.200s", kerr[0] ? kerr : pt_status_str(rc));
        pt_db_manifest_set(r->w.db, "keep_objects_failed", note);
        audit(r, "objects_kept", "policy=all (the keep stage failed; see keep_objects_failed)");
        return PT_OK;
    }
    if (rc != PT_OK) {
        pt_error("%s", kerr[0] ? kerr : pt_status_str(rc));
        return rc;
    }
    snprintf(note, sizeof note, "policy=%s kept=%llu bytes=%llu stored=%llu not_kept=%llu "
             "not_kept_bytes=%llu", pt_keep_objects_name((enum pt_keep_objects)r->o.keep_objects),
             (unsigned long long)k.kept, (unsigned long long)k.kept_bytes,
             (unsigned long long)k.stored_bytes, (unsigned long long)k.dropped,
             (unsigned long long)k.dropped_bytes);
    audit(r, "objects_kept", note);
    return PT_OK;
}

static pt_status geoip(struct run *r)
{
    char gerr[600] = "", note[512];
    unsigned answers = 0;
    pt_status rc = pt_geoip_annotate(r->w.db, r->o.geoip, &answers, gerr, sizeof gerr);
    if (rc != PT_OK) {
        pt_error("%s", gerr);
        return rc;
    }
    snprintf(note, sizeof note, "answers=%u file=%.400s", answers, r->o.geoip);
    audit(r, "geoip", note);
    return PT_OK;
}

/* The case made compact before its rows are sealed: the indexes rebuilt packed and the pages
 * they free returned (store/db.h; 7% of evidence.db on the hospital bench). A failure leaves
 * a larger case, not a wrong one. */
static pt_status compact(struct run *r)
{
    char cerr[256] = "";
    if (pt_db_compact(r->w.db, cerr, sizeof cerr) != PT_OK) {
        pt_warn("the database could not be compacted: %s", cerr);
    }
    return PT_OK;
}

/* End time, stage times (so `make bench` can show what each costs) and the last custody
 * event of the analysis. */
static void analysis_finished(struct run *r, pt_status rc)
{
    char buf[256], end[32];
    pt_utc_now(end);
    pt_db_manifest_set(r->w.db, "end_utc", end);
    snprintf(buf, sizeof buf, "%.3f", seconds(&r->prog.start, &r->t_content));
    pt_db_manifest_set(r->w.db, "stage_seconds:capture", buf);
    snprintf(buf, sizeof buf, "%.3f", seconds(&r->t_content, &r->t_verdict));
    pt_db_manifest_set(r->w.db, "stage_seconds:content", buf);
    snprintf(buf, sizeof buf, "%.3f", seconds(&r->t_verdict, &r->t_report));
    pt_db_manifest_set(r->w.db, "stage_seconds:verdict", buf);
    static const char *const cpu_keys[] = {"stage_seconds:capture_cpu",
                                           "stage_seconds:content_cpu",
                                           "stage_seconds:verdict_cpu"};
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, "%.3f", r->cpu[i + 1] - r->cpu[i]);
        pt_db_manifest_set(r->w.db, cpu_keys[i], buf);
    }
    snprintf(buf, sizeof buf, "items=%llu packets=%llu status=%s",
             (unsigned long long)r->res.items, (unsigned long long)r->res.packets,
             rc != PT_OK ? pt_status_str(rc) : r->incomplete[0] ? "incomplete" : "completed");
    audit(r, "analysis_finished", buf);
}

/* The reports, staged, then the completion record seals them into the case. */
static pt_status reports(struct run *r, bool whole)
{
    char rerr[512] = "";
    const char *why = r->incomplete[0] ? r->incomplete : NULL;
    const unsigned all = whole ? PT_REPORT_JSON | PT_REPORT_HTML | PT_REPORT_TXT : 0;
    /* the tables' digest on the second core while the reports are written (casedir.h) */
    struct pt_case_digest *d = calloc(1, sizeof *d);
    if (d != NULL) {
        pt_case_digest_start(d, r->o.case_dir);
    }
    pt_status rc = pt_report_stage(r->w.db, r->o.case_dir, all, why, rerr, sizeof rerr);
    if (rc != PT_OK) {
        pt_error("%s", rerr);
    }
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    r->res.report_seconds = seconds(&r->t_report, &t);
    if (rc == PT_OK) {
        rc = pt_case_seal(r->w.db, r->o.case_dir, all, why, d);
        r->sealed = rc == PT_OK;
    }
    if (d != NULL && d->started) {
        pthread_join(d->th, NULL);
    }
    free(d);
    return rc;
}

/* Every stage after the packet stage, on the database the writer filled; a shard stops
 * after the capture and file stages (scale/scale.h). */
static pt_status db_stages(struct run *r, pt_status rc)
{
    const struct pt_options *opt = &r->o;
    const bool whole = !opt->shard, content = whole && !opt->flows_only;
    clock_gettime(CLOCK_MONOTONIC, &r->t_content);
    r->cpu[1] = cpu_seconds();
    pt_progress_json(&r->prog, "content", 0, 1, NULL);
    rc = rc == PT_OK && whole ? log_flows(r) : rc;
    rc = rc == PT_OK && content ? tunnels(r) : rc;
    /* encrypted archives retried with the passwords the evidence holds (archive_pw.h) */
    rc = rc == PT_OK && content ? archive_passwords(r) : rc;
    /* browser download histories and recycle-bin records among the files (diskart.h) */
    rc = rc == PT_OK && content ? pt_diskart_run(r->w.db, opt->case_dir) : rc;
    rc = rc == PT_OK && content && !opt->no_phi ? phi(r) : rc;
    clock_gettime(CLOCK_MONOTONIC, &r->t_verdict);
    r->cpu[2] = cpu_seconds();
    pt_progress_json(&r->prog, "verdict", 0, 1, NULL);
    rc = rc == PT_OK && whole ? verdict(r) : rc;
    rc = rc == PT_OK && whole && opt->geoip != NULL ? geoip(r) : rc;
    rc = rc == PT_OK && whole ? keep_objects(r) : rc;
    rc = rc == PT_OK && whole ? compact(r) : rc;
    clock_gettime(CLOCK_MONOTONIC, &r->t_report);
    r->cpu[3] = cpu_seconds();
    pt_progress_json(&r->prog, "report", 0, 1, NULL);
    analysis_finished(r, rc);
    return rc == PT_OK ? reports(r, whole) : rc;
}

/* ---- closing ----------------------------------------------------------------------------- */

static void run_free(struct run *r)
{
    for (unsigned i = 0; r->workers != NULL && i < r->n_workers; i++) {
        pt_worker_fini(&r->workers[i]);
    }
    free(r->workers);
    pt_dispatch_free(r->rd.dispatch);
    free(r->rd.anoms.rb.rows);
    pt_worker_fini(&r->rd.files);
    pt_reader_fini(&r->rd);
    pt_unpack_run_free(r->unpack);
    pt_phi_config_free();
    pt_yara_free(r->yara);
}

/* summary.txt names the completion record as the chain head: it is the run's last write,
 * after the database is checkpointed and closed, so a case whose summary.txt is there is
 * whole (rendered first, while the database is open). */
static pt_status summary(struct run *r, pt_status rc)
{
    char *text = NULL;
    size_t len = 0;
    if (r->w.db != NULL && rc == PT_OK) {
        FILE *m = open_memstream(&text, &len);
        rc = m == NULL ? PT_ENOMEM : pt_summary_render(r->w.db, m);
        if (m != NULL && fclose(m) != 0 && rc == PT_OK) {
            rc = PT_ENOMEM;
        }
    }
    pt_db_close(r->w.db);
    r->w.db = NULL;
    if (rc == PT_OK) {
        rc = pt_case_write_summary(r->o.case_dir, text, len);
    }
    free(text);
    return rc;
}

/* With --force, the case built beside the old one replaces it when it is whole. */
static pt_status publish(struct run *r, pt_status rc)
{
    const char *case_dir = r->user->case_dir;
    if (r->build[0] == '\0' || case_dir == NULL || strcmp(r->build, case_dir) == 0) {
        return rc;
    }
    if (rc == PT_OK && r->sealed) {
        if (r->incomplete[0] != '\0') {
            pt_error("the new case is incomplete, so it does not replace %s; it is in %s",
                     case_dir, r->build);
            return rc;
        }
        return pt_case_publish(r->build, case_dir);
    }
    if (rc != PT_OK) {
        pt_error("the run failed; %s is unchanged (the partial new case is in %s)", case_dir,
                 r->build);
    }
    return rc;
}

pt_status pt_analyze(const struct pt_options *user_opt, struct pt_run_result *res)
{
    struct run *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return PT_ENOMEM;
    }
    /* Every file and directory of a case is private whatever the caller's umask: the case
     * holds copies of patient data (objects/), the PHI key and the reports. */
    mode_t saved_umask = umask(077);
    r->user = user_opt;
    r->o = *user_opt;
    pt_status rc = run_open(r);
    rc = rc == PT_OK ? writer_start(r) : rc;
    rc = rc == PT_OK ? load_rules(r) : rc;
    rc = rc == PT_OK ? workers_start(r) : rc;
    if (rc == PT_OK) {
        read_inputs(r);
    }
    rc = packet_stage_end(r, rc);
    if (r->writer_started) {
        rc = db_stages(r, rc);
    }
    run_free(r);
    rc = summary(r, rc);
    rc = publish(r, rc);
    r->res.incomplete = r->incomplete[0] != '\0';
    pt_progress_json(&r->prog, "done", 1, 1, rc != PT_OK ? "failed"
                                             : r->res.incomplete ? "incomplete" : "completed");
    umask(saved_umask);
    pt_queue_fini(&r->w.q);
    pt_decoder_free(r->rd.dec);
    pt_inputs_fini(&r->inputs);
    pt_cidr_set_fini(&r->home);
    if (res != NULL) {
        *res = r->res;
    }
    free(r);
    return rc;
}
