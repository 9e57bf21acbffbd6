/*
 * main.c - the command line. The only file that calls exit() or writes
 * results to stdout.
 *
 * Exit codes: 0 analysis completed; 1 usage error; 2 an input or engine
 * failure stopped the run (or verification failed); 3 the verdict
 * reached --fail-on.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/image_child.h"
#include "core/addr.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/version.h"
#include "phi/yara_scan.h"
#include "verdict/verdict.h"
#include "report/export.h"
#include "report/notify.h"
#include "verdict/geoip.h"
#include "report/report.h"
#include "store/db.h"
#include "pipeline.h"
#include "store/objkeep.h"
#include "scale/scale.h"

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_FAILED = 2, EXIT_FAIL_ON = 3 };

static void usage(FILE *out)
{
    fputs(
        "phitrace " PT_VERSION " - did patient data leave the network?\n"
        "\n"
        "Usage:\n"
        "  phitrace analyze [options] INPUT... -o CASE   analyze evidence into a case directory\n"
        "  phitrace plan [settings] INPUT... --shards N -o PLAN\n"
        "                                                split the inputs over N shards\n"
        "  phitrace analyze --plan PLAN --shard I -o SHARD  analyze shard I of a plan\n"
        "  phitrace merge [--allow-missing] -o CASE SHARD...  shard cases into one case\n"
        "  phitrace verify CASE                          re-hash the inputs, check the audit chain\n"
        "  phitrace report CASE [--format html,json,txt] rebuild the reports from evidence.db\n"
        "  phitrace notify-list CASE -o FILE.csv         the individuals to notify with full name,\n"
        "                                                address, state and events (a case analyzed\n"
        "                                                with --keep-phi; FILE created 0600, its\n"
        "                                                creation recorded in the audit chain)\n"
        "  phitrace export-object CASE SHA256 [-o FILE]  write one stored object's bytes (from\n"
        "                                                its file or its pack) to FILE or stdout\n"
        "  phitrace export CASE --format F [--what W] [-o FILE|DIR]\n"
        "                                                events, findings, objects, flows,\n"
        "                                                individuals, timeline for pipelines:\n"
        "                                                F ndjson, csv, timesketch or l2tcsv\n"
        "  phitrace rules check DIR [--strict]           compile YARA rules: errors and slow-rule\n"
        "                                                warnings (--strict: warnings fail too)\n"
        "  phitrace --version                            versions of phitrace and its libraries\n"
        "  phitrace --help                               this text\n"
        "\n"
        "INPUT is a file or a directory (walked recursively, in name order). The kind of each\n"
        "file is found from its content, not its name: pcap (micro- or nanosecond), pcapng, and\n"
        "either of them gzip-compressed, are packet captures; disk images (raw, split, E01,\n"
        "QCOW2) are read through libtsk in a child process; logs (Zeek, Suricata EVE, NetFlow,\n"
        "firewalls, DNS, web and proxy, FTP transfer logs, Windows .evtx, IHE ATNA audit\n"
        "messages) become flows, DNS queries, requests and events; any other file is evidence\n"
        "at rest (a DICOM study, an HL7 or FHIR export, a CSV, a zip) and is stored and scanned\n"
        "like a file carried over the network. Inputs are opened read-only and never modified.\n"
        "\n"
        "Every object (file, message, data set) is scanned for PHI: DICOM, HL7 v2, FHIR JSON and\n"
        "XML, CDA, X12 and patient CSVs are parsed; other text is searched for validated\n"
        "identifiers (SSN, MRN, NPI, DEA, MBI, cards, birth dates, phones, emails, addresses).\n"
        "Values are stored masked with a keyed hash (key in CASE/phi.key, mode 0600).\n"
        "\n"
        "analyze options:\n"
        "  -o, --case DIR        case directory (mode 0700, files 0600): evidence.db,\n"
        "                        summary.txt, reports, objects/ (full copies of the\n"
        "                        transferred files --keep-objects keeps: raw PHI), phi.key\n"
        "      --home-net CIDRS  internal networks, comma separated\n"
        "                        (default: RFC 1918, 100.64.0.0/10, fc00::/7, loopback and\n"
        "                        link-local); decides which flows are outbound\n"
        "  -j, --threads N       flow worker threads (default: number of cores)\n"
        "      --max-flows N     flows kept in memory per worker before the least recently\n"
        "                        seen is ended early (default 1048576; an anomaly says so)\n"
        "      --memcap SIZE     memory for per-flow decoder state of all workers together\n"
        "                        (flows, reassembly, protocol decoders; bytes, or with K, M or\n"
        "                        G; default 384M, at least 1M); past it the oldest idle flows\n"
        "                        are ended early, with a limit.memcap anomaly and a limitation\n"
        "      --progress        progress bar on stderr (default: when stderr is a terminal)\n"
        "      --progress=json   progress as JSON lines on stderr, for pipelines (also with -q):\n"
        "                        {\"stage\",\"done\",\"total\",\"bytes\",\"bytes_total\",\"elapsed\"}\n"
        "  -q, --quiet           no progress bar and no summary on stdout\n"
        "      --force           replace an existing case: the new one is built beside it and\n"
        "                        swapped in when complete (the old one stays if the run fails)\n"
        "      --flows-only      triage pass: decode and flows only (no reassembly, protocols,\n"
        "                        objects); about twice as fast\n"
        "      --keep-phi        also store full PHI values (table phi_value); without it the\n"
        "                        database holds masked values and keyed hashes only\n"
        "      --no-phi          skip PHI detection\n"
        "      --copy-inputs     copy files at rest into CASE/objects/ (default: the case links\n"
        "                        to them by absolute path and SHA-256; captures are never copied)\n"
        "      --keep-objects=P  which object bytes the case keeps (README \"Object bytes\"):\n"
        "                        evidence (default: what left the home network, files at rest,\n"
        "                        DNS tunnel payloads, what a finding or a YARA rule above info\n"
        "                        names, and their archives), all, or none; compressed. Others\n"
        "                        stay rows (hash, size, flow, offset) and a limitation\n"
        "      --signatures DIR  signatures directory (YARA rules, ICD-10-CM table, phi.conf;\n"
        "                        default: the signatures/ shipped with phitrace)\n"
        "      --fail-on LEVEL   exit 3 when the overall verdict is LEVEL or worse: confirmed,\n"
        "                        likely or possible (for pipelines)\n"
        "      --rules DIR       more YARA rules (*.yar, *.yara), run on every object besides\n"
        "                        the shipped ones; externals: filename, protocol, direction, mime\n"
        "      --passwords FILE  candidate passwords for encrypted archives, one a line, tried\n"
        "                        after those found in the evidence's command lines\n"
        "      --image-host IMAGE=ADDR  the disk image IMAGE (an input, by path or file name)\n"
        "                        is of the host at ADDR: what is staged on it is weighed with\n"
        "                        that host's outbound volume; a Windows .evtx named so is of\n"
        "                        that host too (repeatable)\n"
        "      --case-id ID      case identifier   } stored in the run manifest and\n"
        "      --examiner NAME   the examiner      } shown in the header of every\n"
        "      --org NAME        the organisation  } report\n"
        "      --geoip FILE.mmdb country and network (ASN) of each outside destination from a\n"
        "                        MaxMind-format database you supply; recorded in the manifest\n"
        "      --plan PLAN       with --shard I: analyze shard I of a plan instead of INPUTs\n"
        "      --shard I         (see Scale-out below)\n"
        "\n"
        "Scale-out (README \"Scale-out\"): `plan` takes analyze's settings (--home-net,\n"
        "--memcap, --max-flows, --flows-only, --keep-phi, --no-phi, --copy-inputs, --signatures,\n"
        "--rules, --passwords, --image-host), hashes the inputs (--no-hash: sizes only) and writes\n"
        "them, the settings and a new case key to PLAN (0600). `analyze --plan` runs the capture and file stages over the shard's\n"
        "inputs (only -o, -j, -q, --progress; rerunning replaces the shard). `merge` joins\n"
        "every shard of one plan (--allow-missing: record the absent ones instead of refusing;\n"
        "--image-host: links besides the plan's),\n"
        "then runs logs, tunnels, PHI, individuals, heuristics, verdict and reports once.\n"
        "Scripts for GNU parallel and Slurm: tools/scale/.\n"
        "\n"
        "Exit codes: 0 the analysis completed (problems with single inputs are recorded in the\n"
        "case as anomalies and do not fail the run); 1 usage error; 2 the case is incomplete\n"
        "(case directory or database failure, an object that could not be stored, an\n"
        "interrupted run), `verify` found a mismatch, or `report` was given an incomplete case;\n"
        "3 the verdict reached --fail-on.\n"
        "\n"
        "Example:\n"
        "  phitrace analyze --home-net 10.20.0.0/16 /evidence/pcaps -o case1\n"
        "  phitrace verify case1\n",
        out);
}

/* "536870912", "512M", "2G": bytes, below 2^50. */
static int parse_size(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    switch (*end) {
        case 'K': case 'k': shift = 10; end++; break;
        case 'M': case 'm': shift = 20; end++; break;
        case 'G': case 'g': shift = 30; end++; break;
        default: break;
    }
    if (end == s || *end != '\0' || v >= (1ull << (50 - shift))) {
        return -1;
    }
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end != '\0' || v > max || s[0] == '-') {
        return -1;
    }
    *out = v;
    return 0;
}

/* --geoip FILE: 0 when libmaxminddb opens it, else -1 with the reason on stderr. */
static int geoip_usable(const char *path)
{
    char err[600];
    if (pt_geoip_check(path, err, sizeof err) != PT_OK) {
        fprintf(stderr, "phitrace: error: %s\n", err);
        return -1;
    }
    return 0;
}

/* Options of analyze, plan and merge (one parser: the plan takes analyze's settings). */
struct run_args {
    struct pt_options o;
    const char *plan;  /* analyze --plan */
    unsigned shard, shards;
    bool shard_given, allow_missing, no_hash;
    bool keep_given;   /* --keep-objects: analyze and merge only (shards keep every object) */
    bool setting;      /* a setting the plan fixes was given (all but -o, -j, -q, --progress,
                        * --force, --fail-on) */
};

/* -1 when the options are fine, else the exit code. */
static int parse_run_args(int argc, char **argv, struct run_args *sa)
{
    static const struct option opts[] = {
        {"case", required_argument, NULL, 'o'},
        {"home-net", required_argument, NULL, 'H'},
        {"threads", required_argument, NULL, 'j'},
        {"max-flows", required_argument, NULL, 'M'},
        {"memcap", required_argument, NULL, 'm'},
        {"progress", optional_argument, NULL, 'P'},
        {"quiet", no_argument, NULL, 'q'},
        {"force", no_argument, NULL, 'F'},
        {"flows-only", no_argument, NULL, 'O'},
        {"keep-phi", no_argument, NULL, 'K'},
        {"no-phi", no_argument, NULL, 'N'},
        {"copy-inputs", no_argument, NULL, 'C'},
        {"signatures", required_argument, NULL, 'S'},
        {"rules", required_argument, NULL, 'R'},
        {"passwords", required_argument, NULL, 'W'},
        {"image-host", required_argument, NULL, 'i'},
        {"fail-on", required_argument, NULL, 'f'},
        {"case-id", required_argument, NULL, 'k'},
        {"examiner", required_argument, NULL, 'E'},
        {"org", required_argument, NULL, 'G'},
        {"geoip", required_argument, NULL, 'Y'},
        {"plan", required_argument, NULL, 'p'},
        {"shard", required_argument, NULL, 'I'},
        {"shards", required_argument, NULL, 'n'},
        {"allow-missing", no_argument, NULL, 'A'},
        {"no-hash", no_argument, NULL, 'X'},
        {"keep-objects", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct pt_options *o = &sa->o;
    int c;
    unsigned long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:j:qh", opts, NULL)) != -1) {
        sa->setting |= strchr("HMmOKNCSRW", c) != NULL ? 1 : 0;
        switch (c) {
            case 'o': o->case_dir = optarg; break;
            case 'H': o->home_net = optarg; break;
            case 'j':
                if (parse_uint(optarg, 256, &v) != 0 || v == 0) {
                    fprintf(stderr, "phitrace: error: --threads takes a number from 1 to 256\n");
                    return EXIT_USAGE;
                }
                o->threads = (unsigned)v;
                break;
            case 'M':
                if (parse_uint(optarg, 1ul << 30, &v) != 0 || v < 16) {
                    fprintf(stderr, "phitrace: error: --max-flows takes a number from 16 to "
                                    "1073741824\n");
                    return EXIT_USAGE;
                }
                o->max_flows = (uint32_t)v;
                break;
            case 'm':
                if (parse_size(optarg, &o->memcap) != 0 || o->memcap < PT_MEMCAP_MIN) {
                    fprintf(stderr, "phitrace: error: --memcap takes a size of at least 1M "
                                    "(bytes, or a number with K, M or G)\n");
                    return EXIT_USAGE;
                }
                break;
            case 'P':
                if (optarg != NULL && strcmp(optarg, "json") != 0) {
                    fprintf(stderr, "phitrace: error: --progress takes no value or =json\n");
                    return EXIT_USAGE;
                }
                o->progress = optarg == NULL;
                o->progress_json = optarg != NULL;
                break;
            case 'q': o->quiet = true; break;
            case 'F': o->force = true; break;
            case 'O': o->flows_only = true; break;
            case 'K': o->keep_phi = true; break;
            case 'N': o->no_phi = true; break;
            case 'C': o->copy_inputs = true; break;
            case 'S': o->signatures = optarg; break;
            case 'R': o->rules = optarg; break;
            case 'W':
                if (access(optarg, R_OK) != 0) {
                    fprintf(stderr, "phitrace: error: --passwords %s: cannot be read\n", optarg);
                    return EXIT_USAGE;
                }
                o->passwords = optarg;
                break;
            case 'i': {
                const char *eq = strrchr(optarg, '=');
                struct pt_addr a;
                if (eq == NULL || eq == optarg || !pt_addr_parse(eq + 1, &a) ||
                    o->n_image_hosts >= PT_MAX_IMAGE_HOSTS) {
                    fprintf(stderr, "phitrace: error: --image-host takes IMAGE=ADDR (an IPv4 or "
                                    "IPv6 address; at most %d)\n", PT_MAX_IMAGE_HOSTS);
                    return EXIT_USAGE;
                }
                o->image_hosts[o->n_image_hosts++] = optarg;
                break;
            }
            case 'f':
                o->fail_on = pt_verdict_parse(optarg);
                if (o->fail_on <= 0) {
                    fprintf(stderr, "phitrace: error: --fail-on takes confirmed, likely or "
                                    "possible\n");
                    return EXIT_USAGE;
                }
                break;
            case 'k': o->case_id = optarg; break;
            case 'E': o->examiner = optarg; break;
            case 'G': o->org = optarg; break;
            case 'Y':
                if (geoip_usable(optarg) != 0) {
                    return EXIT_USAGE;
                }
                o->geoip = optarg;
                break;
            case 'p': sa->plan = optarg; break;
            case 'I': case 'n':
                if (parse_uint(optarg, PT_PLAN_MAX_SHARDS, &v) != 0 || (c == 'n' && v == 0)) {
                    fprintf(stderr, "phitrace: error: --%s takes a number below %d\n",
                            c == 'n' ? "shards" : "shard", PT_PLAN_MAX_SHARDS);
                    return EXIT_USAGE;
                }
                *(c == 'n' ? &sa->shards : &sa->shard) = (unsigned)v;
                sa->shard_given |= c == 'I';
                break;
            case 'B': {
                int k = pt_keep_objects_parse(optarg);
                if (k < 0) {
                    fprintf(stderr, "phitrace: error: --keep-objects takes all, evidence or "
                                    "none\n");
                    return EXIT_USAGE;
                }
                o->keep_objects = k;
                sa->keep_given = true;
                break;
            }
            case 'A': sa->allow_missing = true; break;
            case 'X': sa->no_hash = true; break;
            case 'h': usage(stdout); return EXIT_OK;
            default:
                fprintf(stderr, "Run 'phitrace --help' for the options.\n");
                return EXIT_USAGE;
        }
    }
    return -1;
}

/* The exit code of an analyze or merge run, its summary on stdout. */
static int run_outcome(const struct pt_options *o, pt_status st, const struct pt_run_result *res)
{
    if (st == PT_EUSAGE) {
        return EXIT_USAGE;
    }
    if (st != PT_OK) {
        fprintf(stderr, "phitrace: error: the run stopped: %s\n", pt_status_str(st));
        return EXIT_FAILED;
    }
    if (res->incomplete) {
        fprintf(stderr, "phitrace: error: the case is incomplete: %llu object(s) could not be "
                        "written (see the store.failed anomalies); its reports say so\n",
                (unsigned long long)res->objects_lost);
    }
    if (!o->quiet && !o->shard) {
        char path[4200];
        snprintf(path, sizeof path, "%s/summary.txt", o->case_dir);
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            char buf[4096];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
                fwrite(buf, 1, n, stdout);
            }
            fclose(f);
        }
        printf("\nCase: %s (evidence.db, report.html, report.json, report.txt, objects/)\n",
               o->case_dir);
    }
    if (res->incomplete) {
        return EXIT_FAILED;
    }
    if (o->fail_on > 0 && res->verdict >= o->fail_on) {
        if (!o->quiet) {
            fprintf(stderr, "phitrace: verdict %s reaches --fail-on %s: exit 3\n",
                    pt_verdict_name((enum pt_verdict_level)res->verdict),
                    pt_verdict_name((enum pt_verdict_level)o->fail_on));
        }
        return EXIT_FAIL_ON;
    }
    return EXIT_OK;
}

/* analyze --plan PLAN --shard I -o SHARD: the settings are the plan's. */
static int cmd_shard(struct run_args *sa, int argc)
{
    if (!sa->shard_given || sa->o.case_dir == NULL || optind < argc || sa->setting ||
        sa->o.n_image_hosts > 0 || sa->shards != 0 || sa->allow_missing || sa->no_hash ||
        sa->o.fail_on > 0 || sa->keep_given) {
        fprintf(stderr, "phitrace: error: usage: phitrace analyze --plan PLAN --shard I -o SHARD "
                        "[-j N] [-q] [--progress] [--force] (no INPUT: the plan names them; no setting: "
                        "the plan fixes them)\n");
        return EXIT_USAGE;
    }
    sa->o.shard = true; /* no summary on stdout: the shard has no verdict */
    struct pt_run_result res;
    pt_status st = pt_scale_shard(sa->plan, sa->shard, &sa->o, &res);
    int rc = run_outcome(&sa->o, st, &res);
    if (rc == EXIT_OK && !sa->o.quiet) {
        printf("Shard %u: %s (%llu items, %llu packets, %llu flows)\n", sa->shard,
               sa->o.case_dir, (unsigned long long)res.items, (unsigned long long)res.packets,
               (unsigned long long)res.flows);
    }
    return rc;
}

static int cmd_analyze(int argc, char **argv, int full_argc, char **full_argv)
{
    struct run_args sa = {.o = {.argc = full_argc, .argv = full_argv, .fail_on = -1}};
    sa.o.progress = isatty(STDERR_FILENO);
    int pr = parse_run_args(argc, argv, &sa);
    if (pr >= 0) {
        return pr;
    }
    if (sa.plan != NULL) {
        return cmd_shard(&sa, argc);
    }
    struct pt_options o = sa.o;
    if (o.case_dir == NULL) {
        fprintf(stderr, "phitrace: error: no case directory; add -o CASE (for example -o case1)\n");
        return EXIT_USAGE;
    }
    if (optind >= argc) {
        fprintf(stderr, "phitrace: error: no input; name capture files or directories, for "
                        "example: phitrace analyze capture.pcap -o case1\n");
        return EXIT_USAGE;
    }
    if (sa.shard_given || sa.shards != 0 || sa.allow_missing || sa.no_hash) {
        fprintf(stderr, "phitrace: error: --shard goes with --plan; --shards and --no-hash with "
                        "`phitrace plan`; --allow-missing with `phitrace merge`\n");
        return EXIT_USAGE;
    }
    o.inputs = argv + optind;
    o.n_inputs = (size_t)(argc - optind);
    struct pt_run_result res;
    pt_status st = pt_analyze(&o, &res);
    return run_outcome(&o, st, &res);
}

/* plan [settings] INPUT... --shards N -o PLAN */
static int cmd_plan(int argc, char **argv, int full_argc, char **full_argv)
{
    struct run_args sa = {.o = {.argc = full_argc, .argv = full_argv, .fail_on = -1}};
    int pr = parse_run_args(argc, argv, &sa);
    if (pr >= 0) {
        return pr;
    }
    if (sa.shards == 0 || sa.o.case_dir == NULL || optind >= argc || sa.plan != NULL ||
        sa.shard_given || sa.o.fail_on > 0 || sa.allow_missing || sa.keep_given) {
        fprintf(stderr, "phitrace: error: usage: phitrace plan [analyze settings] [--no-hash] "
                        "INPUT... --shards N -o PLAN (--keep-objects is merge's)\n");
        return EXIT_USAGE;
    }
    sa.o.inputs = argv + optind;
    sa.o.n_inputs = (size_t)(argc - optind);
    pt_status st = pt_plan_create(&sa.o, sa.shards, sa.o.case_dir, !sa.no_hash, sa.o.quiet);
    if (st != PT_OK) {
        return st == PT_EUSAGE ? EXIT_USAGE : EXIT_FAILED;
    }
    if (!sa.o.quiet) {
        printf("Plan: %s (%u shards; holds the case key: keep it private)\n", sa.o.case_dir,
               sa.shards);
    }
    return EXIT_OK;
}

/* merge -o CASE [--allow-missing] [-j N] [--force] [--fail-on L] SHARD... */
static int cmd_merge(int argc, char **argv, int full_argc, char **full_argv)
{
    struct run_args sa = {.o = {.argc = full_argc, .argv = full_argv, .fail_on = -1}};
    sa.o.progress = isatty(STDERR_FILENO);
    int pr = parse_run_args(argc, argv, &sa);
    if (pr >= 0) {
        return pr;
    }
    if (sa.o.case_dir == NULL || optind >= argc || sa.plan != NULL || sa.shard_given ||
        sa.shards != 0 || sa.setting || sa.no_hash) {
        fprintf(stderr, "phitrace: error: usage: phitrace merge -o CASE [--allow-missing] "
                        "[--force] [--fail-on LEVEL] [--keep-objects P] [-j N] [-q] SHARD... (the "
                        "settings are "
                        "the plan's)\n");
        return EXIT_USAGE;
    }
    struct pt_run_result res;
    pt_status st = pt_scale_merge(argv + optind, (size_t)(argc - optind), sa.allow_missing,
                                  &sa.o, &res);
    return run_outcome(&sa.o, st, &res);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    pt_db_global_init();
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        pt_print_versions();
        return EXIT_OK;
    }
    if (strcmp(cmd, "image-child") == 0) { /* internal: the disk-image reader (ingest/image.c) */
        return pt_image_child_main(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "analyze") == 0) {
        return cmd_analyze(argc - 1, argv + 1, argc, argv);
    }
    if (strcmp(cmd, "plan") == 0) {
        return cmd_plan(argc - 1, argv + 1, argc, argv);
    }
    if (strcmp(cmd, "merge") == 0) {
        return cmd_merge(argc - 1, argv + 1, argc, argv);
    }
    if (strcmp(cmd, "verify") == 0) {
        if (argc != 3) {
            fprintf(stderr, "phitrace: error: usage: phitrace verify CASE\n");
            return EXIT_USAGE;
        }
        return pt_verify(argv[2]) == PT_OK ? EXIT_OK : EXIT_FAILED;
    }
    if (strcmp(cmd, "report") == 0) {
        const char *formats = "html,json,txt";
        if (argc == 5 && strcmp(argv[3], "--format") == 0) {
            formats = argv[4];
        } else if (argc != 3) {
            fprintf(stderr, "phitrace: error: usage: phitrace report CASE [--format html,json,txt]\n");
            return EXIT_USAGE;
        }
        unsigned mask = pt_report_formats(formats);
        if (mask == 0) {
            fprintf(stderr, "phitrace: error: --format takes html, json and txt, comma separated\n");
            return EXIT_USAGE;
        }
        char path[4200], err[512] = "";
        snprintf(path, sizeof path, "%s/evidence.db", argv[2]);
        struct pt_db *db = NULL;
        if (pt_db_open_ro(path, &db, err, sizeof err) != PT_OK) {
            fprintf(stderr, "phitrace: error: %s\n", err);
            return EXIT_FAILED;
        }
        /* An incomplete case still gets its reports, each saying INCOMPLETE CASE first,
         * and the command fails: nobody should read a verdict from it. */
        char why[600];
        bool incomplete = pt_case_incomplete(db, argv[2], why, sizeof why);
        pt_status st = pt_report_write(db, argv[2], mask, incomplete ? why : NULL, err, sizeof err);
        pt_db_close(db);
        if (st != PT_OK) {
            fprintf(stderr, "phitrace: error: %s\n", err);
            return EXIT_FAILED;
        }
        if (incomplete) {
            fprintf(stderr, "phitrace: error: %s is an incomplete case: %s; the reports written "
                            "are marked INCOMPLETE CASE and must not be relied on\n",
                    argv[2], why);
            return EXIT_FAILED;
        }
        printf("%s%s%s written in %s\n", mask & PT_REPORT_HTML ? "report.html " : "",
               mask & PT_REPORT_JSON ? "report.json " : "", mask & PT_REPORT_TXT ? "report.txt" : "",
               argv[2]);
        return EXIT_OK;
    }
    if (strcmp(cmd, "notify-list") == 0) {
        if (argc != 5 || strcmp(argv[3], "-o") != 0) {
            fprintf(stderr, "phitrace: error: usage: phitrace notify-list CASE -o FILE.csv\n");
            return EXIT_USAGE;
        }
        char err[1200] = "";
        long long rows = 0;
        pt_status st = pt_notify_list(argv[2], argv[4], &rows, err, sizeof err);
        if (st != PT_OK) {
            fprintf(stderr, "phitrace: error: %s\n", err);
            return st == PT_EUSAGE ? EXIT_USAGE : EXIT_FAILED;
        }
        printf("%s: %lld individual(s) to notify (mode 0600; recorded in the audit chain of %s)\n",
               argv[4], rows, argv[2]);
        return EXIT_OK;
    }
    if (strcmp(cmd, "export-object") == 0) {
        if (argc != 4 && !(argc == 6 && strcmp(argv[4], "-o") == 0)) {
            fprintf(stderr, "phitrace: error: usage: phitrace export-object CASE SHA256 "
                            "[-o FILE]\n");
            return EXIT_USAGE;
        }
        pt_status st = pt_export_object(argv[2], argv[3], argc == 6 ? argv[5] : NULL);
        return st == PT_OK ? EXIT_OK : st == PT_EUSAGE ? EXIT_USAGE : EXIT_FAILED;
    }
    if (strcmp(cmd, "export") == 0) {
        pt_status st = pt_export_cmd(argc - 1, argv + 1, pt_case_incomplete);
        return st == PT_OK ? EXIT_OK : st == PT_EUSAGE ? EXIT_USAGE : EXIT_FAILED;
    }
    if (strcmp(cmd, "rules") == 0) {
        bool strict = argc == 5 && strcmp(argv[4], "--strict") == 0;
        if (argc < 4 || strcmp(argv[2], "check") != 0 || (argc == 5 && !strict) || argc > 5) {
            fprintf(stderr, "phitrace: error: usage: phitrace rules check DIR [--strict]\n");
            return EXIT_USAGE;
        }
        pt_status st = pt_yara_check(argv[3], strict, stdout);
        return st == PT_OK ? EXIT_OK : st == PT_EUSAGE ? EXIT_FAILED : EXIT_FAILED;
    }
    fprintf(stderr, "phitrace: error: unknown command '%s'. Run 'phitrace --help'.\n", cmd);
    return EXIT_USAGE;
}
