/*
 * verify.c - `phitrace verify CASE`: is the case whole, and is it still what the run wrote?
 *
 * Checks, each printed on its own line, any failure making the result "VERIFICATION FAILED":
 * the completion record (the run's last audit row, `case_sealed`) exists and says complete;
 * every evidence item was hashed, and there is at least one; every input re-hashes to its
 * recorded size and SHA-256, and the audit log's `input_hashed` rows agree with the items;
 * every row pointing to a flow finds it; every stored object hashes to its name; the audit
 * chain recomputes, its head is the completion record and equals summary.txt's; the digest of
 * every table's rows and the reports' SHA-256 equal what the completion record sealed.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/objstore.h"
#include "core/sha256.h"
#include "pipeline.h"
#include "report/report.h"
#include "store/db.h"
#include "store/q_case.h"
#include "store/q_links.h"

/* The chain head printed in summary.txt at the end of the run, if present. */
static bool summary_head(const char *case_dir, long long *seq, char hash[PT_SHA256_HEX])
{
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.txt", case_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    char line[512];
    bool found = false;
    while (fgets(line, sizeof line, f) != NULL) {
        static const char head[] = "Audit chain head: row ";
        if (strncmp(line, head, sizeof head - 1) != 0) {
            continue;
        }
        char *end = NULL;
        long long v = strtoll(line + sizeof head - 1, &end, 10);
        if (end == line + sizeof head - 1 || end[0] != ',' || end[1] != ' ') {
            continue;
        }
        size_t k = strspn(end + 2, "0123456789abcdef");
        if (k == 0 || k >= PT_SHA256_HEX) {
            continue;
        }
        *seq = v;
        memcpy(hash, end + 2, k);
        hash[k] = '\0';
        found = true;
    }
    fclose(f);
    return found;
}

/* The value of `key=` in a space-separated audit detail (values without spaces), or "". */
static void field(const char *detail, const char *key, char *out, size_t len)
{
    size_t kl = strlen(key);
    out[0] = '\0';
    for (const char *p = detail; p != NULL && *p; p = strchr(p, ' '), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t n = strcspn(p + kl + 1, " ");
            snprintf(out, len, "%.*s", (int)n, p + kl + 1);
            return;
        }
    }
}

bool pt_case_incomplete(struct pt_db *db, const char *case_dir, char *why, size_t len)
{
    char detail[2000], head[PT_SHA256_HEX];
    long long seq = 0, head_seq = 0;
    if (!pt_q_seal_row(db, &seq, detail, sizeof detail)) {
        snprintf(why, len, "the run did not finish (no completion record; it was interrupted "
                           "or failed)");
        return true;
    }
    if (!summary_head(case_dir, &head_seq, head) || head_seq < seq) {
        /* summary.txt is written after the completion record, as the run's last step */
        snprintf(why, len, "the run did not finish (summary.txt does not name the completion "
                           "record as the audit chain head)");
        return true;
    }
    char status[32];
    field(detail, "status", status, sizeof status);
    if (strcmp(status, "complete") != 0) {
        const char *reason = strstr(detail, " reason=");
        snprintf(why, len, "%s", reason ? reason + 8 : "the run recorded the case as incomplete");
        return true;
    }
    long long unhashed = pt_q_unhashed_items(db);
    if (unhashed > 0) {
        snprintf(why, len, "%lld evidence item(s) were never hashed", unhashed);
        return true;
    }
    return false;
}

struct segs {
    long long item;
    struct pt_sha256 *whole;
    uint64_t *gsize;
    int *bad;
    bool ok;
};

static bool one_segment(void *arg, const struct pt_q_segment *s)
{
    struct segs *x = arg;
    long long item = x->item, seq = s->seq, size = s->size;
    const char *path = s->path, *want = s->sha256, *audit = s->audit;
    char asha[80];
    field(audit, "sha256", asha, sizeof asha);
    if (strcmp(asha, want) != 0 || strchr(audit, '\n') != NULL) {
        printf("MISMATCH    segment %lld of item %lld (%s): the audit log recorded sha256 "
               "%s, evidence_segment says %s\n", seq, item, path, asha[0] ? asha : "(none)",
               want);
        (*x->bad)++;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        printf("MISSING     segment %lld of item %lld: %s cannot be read now\n", seq, item,
               path);
        x->ok = false;
        return false;
    }
    struct pt_sha256 *one = pt_sha256_new();
    static unsigned char buf[1 << 16];
    size_t n;
    uint64_t sz = 0;
    while (one != NULL && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        pt_sha256_update(one, buf, n);
        pt_sha256_update(x->whole, buf, n);
        sz += n;
    }
    x->ok = one != NULL && !ferror(f);
    fclose(f);
    if (x->ok) {
        uint8_t dig[PT_SHA256_LEN];
        char hex[PT_SHA256_HEX];
        pt_sha256_final(one, dig);
        pt_hex(dig, sizeof dig, hex);
        if (strcmp(hex, want) != 0 || (long long)sz != size) {
            printf("MISMATCH    segment %lld of item %lld (%s): sha256 %s, size %llu; "
                   "recorded %s, size %lld\n", seq, item, path, hex,
                   (unsigned long long)sz, want, size);
            (*x->bad)++;
        } else {
            printf("OK          %s %s (segment %lld)\n", want, path, seq);
        }
    }
    pt_sha256_free(one);
    *x->gsize += sz;
    return x->ok;
}

/* A split image: each segment against its evidence_segment row (and the audit log's
 * segment_hashed row), and their concatenation against the item's hash. Fills got/gsize with
 * the whole; false when a segment cannot be read. */
static bool hash_segments(struct pt_db *db, long long item, char got[PT_SHA256_HEX],
                          uint64_t *gsize, int *bad)
{
    struct segs x = {item, pt_sha256_new(), gsize, bad, true};
    x.ok = x.whole != NULL;
    *gsize = 0;
    if (x.ok) {
        pt_q_segments(db, item, one_segment, &x);
    }
    if (x.ok) {
        uint8_t dig[PT_SHA256_LEN];
        pt_sha256_final(x.whole, dig);
        pt_hex(dig, sizeof dig, got);
    }
    pt_sha256_free(x.whole);
    return x.ok;
}

/* Bytes [offset, end) of the file: a shard's byte range of a capture (scale/split.c), whose
 * item holds the range's SHA-256 and size. */
static pt_status hash_range(const char *path, const char *detail, char got[PT_SHA256_HEX],
                            uint64_t *gsize)
{
    char a[32], b[32];
    field(detail, "offset", a, sizeof a);
    field(detail, "end", b, sizeof b);
    char *e1 = NULL, *e2 = NULL;
    unsigned long long off = strtoull(a, &e1, 10), end = strtoull(b, &e2, 10);
    if (a[0] == '\0' || b[0] == '\0' || *e1 != '\0' || *e2 != '\0' || end < off) {
        return PT_EMALFORMED; /* the audit row does not say which bytes */
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct pt_sha256 *h = fd < 0 ? NULL : pt_sha256_new();
    pt_status rc = h == NULL ? PT_EIO : PT_OK;
    static uint8_t buf[1 << 16];
    *gsize = 0;
    for (uint64_t at = off; rc == PT_OK && at < end;) {
        size_t want = end - at < sizeof buf ? (size_t)(end - at) : sizeof buf;
        ssize_t n = pread(fd, buf, want, (off_t)at);
        if (n <= 0) {
            rc = PT_EIO; /* an error, or the file is shorter than the range */
            break;
        }
        pt_sha256_update(h, buf, (size_t)n);
        at += (uint64_t)n;
        *gsize += (uint64_t)n;
    }
    if (h != NULL) {
        uint8_t dig[PT_SHA256_LEN];
        pt_sha256_final(h, dig);
        pt_hex(dig, sizeof dig, got);
        pt_sha256_free(h);
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

struct inputs {
    struct pt_db *db;
    int *bad, *checked, items;
};

static bool one_input(void *arg, const struct pt_q_item *it)
{
    struct inputs *x = arg;
    const char *path = it->path, *want = it->sha256, *status = it->status;
    long long size = it->size, segs = it->segments;
    x->items++;
    if (want[0] == '\0') {
        bool legit = strcmp(status, "skipped") == 0 || strcmp(status, "error") == 0;
        printf("NOT HASHED  %s (status %s at analysis)%s\n", path, status,
               legit ? "" : ": the run never finished reading it");
        *x->bad += !legit;
        return true;
    }
    char got[PT_SHA256_HEX];
    uint64_t gsize = 0;
    (*x->checked)++;
    if (segs > 1 && pt_q_segment_count(x->db, it->id) != segs) {
        printf("MISSING     %s: the item has %lld segments, not as many evidence_segment "
               "rows\n", path, segs);
        (*x->bad)++;
    } else if (segs > 1 && !hash_segments(x->db, it->id, got, &gsize, x->bad)) {
        (*x->bad)++;
    } else if (segs <= 1 && it->range[0] != '\0' &&
               hash_range(path, it->range, got, &gsize) != PT_OK) {
        printf("MISSING     %s: its byte range cannot be read now\n", path);
        (*x->bad)++;
    } else if (segs <= 1 && it->range[0] == '\0' && pt_sha256_file(path, got, &gsize) != PT_OK) {
        printf("MISSING     %s: cannot be read now\n", path);
        (*x->bad)++;
    } else if (strcmp(got, want) != 0 || (long long)gsize != size) {
        printf("MISMATCH    %s: sha256 %s, size %llu; recorded %s, size %lld\n", path, got,
               (unsigned long long)gsize, want, size);
        (*x->bad)++;
    } else {
        printf("OK          %s %s%s\n", want, path,
               segs > 1 ? " (whole split image)"
               : it->range[0] != '\0' ? " (the shard's byte range of it)" : "");
    }
    return true;
}

/* The audit chain's input_hashed rows, written as each input was finished, must agree with
 * evidence_item (a row edited later would not), and every hashed item needs one. */
static bool one_input_audit(void *arg, long long id, const char *sha, long long isize,
                            const char *audit)
{
    int *bad = arg;
    char asha[80], asize[32], size[32];
    snprintf(size, sizeof size, "%lld", isize);
    if (audit[0] == '\0') {
        if (sha[0] != '\0') {
            printf("UNAUDITED   item %lld has a hash but no input_hashed row in the audit "
                   "log\n", id);
            (*bad)++;
        }
        return true;
    }
    if (strchr(audit, '\n') != NULL) {
        printf("AUDIT       item %lld has more than one input_hashed row\n", id);
        (*bad)++;
        return true;
    }
    field(audit, "sha256", asha, sizeof asha);
    field(audit, "size", asize, sizeof asize);
    if (strcmp(asha, sha) != 0 || strcmp(asize, size) != 0) {
        printf("MISMATCH    item %lld: evidence_item says sha256 %s size %s, the audit log "
               "recorded sha256 %s size %s\n", id, sha[0] ? sha : "(none)", size,
               asha[0] ? asha : "(none)", asize);
        (*bad)++;
    }
    return true;
}

/* Inputs: re-hash each, and compare with the audit log's record of its hash. */
static void check_inputs(struct pt_db *db, int *bad, int *checked)
{
    struct inputs x = {db, bad, checked, 0};
    pt_q_items(db, one_input, &x);
    if (x.items == 0) {
        printf("NO INPUTS   the case records no evidence item: nothing was verified\n");
        (*bad)++;
    }
    pt_q_item_audits(db, one_input_audit, bad);
}

/* Rows that point to a flow must find it. */
static void orphans(void *arg, const char *table, long long rows)
{
    printf("ORPHANS     %lld row(s) of %s point to no flow\n", rows, table);
    (*(int *)arg)++;
}

/* Rows that point to an object by its id must find it. */
static void link_orphans(void *arg, const char *table, const char *column, long long rows)
{
    printf("ORPHANS     %lld row(s) of %s point to no object (%s)\n", rows, table, column);
    (*(int *)arg)++;
}

struct objects {
    const char *case_dir;
    int *bad, objects, not_kept;
};

static bool one_object(void *arg, const char *want, const char *pack, uint64_t off,
                       uint64_t size)
{
    struct objects *x = arg;
    char got[PT_SHA256_HEX], path[4400];
    struct pt_objbytes ob;
    if (pack != NULL && strcmp(pack, PT_OBJ_NOT_KEPT) == 0) {
        x->not_kept++; /* --keep-objects: recorded, its bytes are in the inputs */
        return true;
    }
    bool read = pt_object_load(x->case_dir, want, pack, off, size, &ob);
    if (read) {
        uint8_t dig[PT_SHA256_LEN];
        pt_sha256_buf(ob.p, ob.n, dig);
        pt_hex(dig, sizeof dig, got);
        pt_object_release(&ob);
    }
    snprintf(path, sizeof path, "%s/objects/%s", x->case_dir, pack != NULL ? pack : "");
    if (!read && pt_object_kept_pack(pack) && access(path, R_OK) == 0) {
        printf("MISMATCH    object %s: its entry in %s no longer decompresses to it\n", want,
               pack);
        (*x->bad)++;
    } else if (!read) {
        printf("MISSING     object %s\n", want);
        (*x->bad)++;
    } else if (strcmp(got, want) != 0) {
        printf("MISMATCH    object %s now hashes to %s\n", want, got);
        (*x->bad)++;
    }
    x->objects++;
    return true;
}

/* Every stored object file must still hash to its name. */
static void check_objects(struct pt_db *db, const char *case_dir, int *bad)
{
    struct objects x = {case_dir, bad, 0, 0};
    int before = *bad;
    pt_q_stored_objects(db, one_object, &x);
    printf("%s          %d stored object(s) checked\n", *bad > before ? "  " : "OK", x.objects);
    if (x.not_kept > 0) {
        printf("NOTE        %d object(s) recorded but not kept in the case (--keep-objects): "
               "their bytes are in the inputs\n", x.not_kept);
    }
}

/* Custody records a command may append to a sealed case (the chain still links them): the
 * files it wrote that carry the case's data out of it. */
static const char *const after_seal[] = {"notify_list_written"};

struct later {
    long long later, foreign;
};

static bool one_later(void *arg, const char *action)
{
    struct later *x = arg;
    bool known = false;
    for (size_t i = 0; i < sizeof after_seal / sizeof after_seal[0]; i++) {
        known = known || strcmp(action, after_seal[i]) == 0;
    }
    x->later++;
    x->foreign += !known;
    return true;
}

/* Rows after `seq`: how many, and how many of them are not custody records of after_seal. */
static void post_seal(struct pt_db *db, long long seq, long long *later, long long *foreign)
{
    struct later x = {0, 0};
    if (pt_q_audit_after(db, seq, one_later, &x) != PT_OK) {
        *later = 0;
        *foreign = 1;
        return;
    }
    *later = x.later;
    *foreign = x.foreign;
}

/* The chain, its head against summary.txt, and the sealed digest of rows and reports. */
static void check_chain_and_seal(struct pt_db *db, const char *case_dir, int *bad)
{
    char err[512];
    uint64_t rows = 0;
    if (pt_db_audit_verify(db, &rows, err, sizeof err) != PT_OK) {
        printf("AUDIT BROKEN %s\n", err);
        (*bad)++;
        return;
    }
    long long last = 0, seq = 0, seal = 0;
    char last_hash[PT_SHA256_HEX] = "", head[PT_SHA256_HEX] = "";
    pt_q_audit_last(db, &last, last_hash);
    long long later = 0, foreign = 0;
    bool head_ok = summary_head(case_dir, &seq, head);
    if (head_ok) {
        post_seal(db, seq, &later, &foreign);
    }
    if (!head_ok) {
        printf("AUDIT       summary.txt is missing or names no chain head: a truncated chain "
               "cannot be ruled out\n");
        (*bad)++;
    } else if (later > 0 && foreign == 0 && pt_q_audit_head_is(db, seq, head)) {
        printf("OK          audit chain intact, %llu rows, head %s; %lld custody record(s) "
               "after the run (notify-list files written)\n", (unsigned long long)rows,
               last_hash, later);
    } else if (seq != last || strcmp(head, last_hash) != 0) {
        printf("AUDIT BROKEN chain head is row %lld %s but summary.txt recorded row %lld %s\n",
               last, last_hash, seq, head);
        (*bad)++;
    } else {
        printf("OK          audit chain intact, %llu rows, head %s\n", (unsigned long long)rows,
               last_hash);
    }
    char detail[2000];
    if (!pt_q_seal_row(db, &seal, detail, sizeof detail)) {
        return; /* reported as INCOMPLETE already */
    }
    if (seal != last && !(seal == seq && later == last - seal && foreign == 0)) {
        printf("AUDIT       %lld row(s) follow the completion record\n", last - seal);
        (*bad)++;
    }
    char want[80], digest[PT_SHA256_HEX];
    uint64_t nrows = 0;
    field(detail, "tables_sha256", want, sizeof want);
    if (pt_db_digest(db, digest, &nrows, err, sizeof err) != PT_OK) {
        printf("DATABASE    %s\n", err);
        (*bad)++;
    } else if (strcmp(digest, want) != 0) {
        printf("MISMATCH    database rows: digest %s over %llu row(s), sealed %s: a row was "
               "edited, added or removed after the run\n", digest, (unsigned long long)nrows,
               want);
        (*bad)++;
    } else {
        printf("OK          %llu database row(s) match the sealed digest\n",
               (unsigned long long)nrows);
    }
    /* the reports, then the long lists report.json points to (report/NAME.jsonl.gz) */
    static const char *const reports[] = {"report.json", "report.html", "report.txt"};
    const size_t n_reports = sizeof reports / sizeof reports[0];
    for (size_t i = 0; i < n_reports || pt_report_list_name(i - n_reports) != NULL; i++) {
        const char *name = i < n_reports ? reports[i] : pt_report_list_name(i - n_reports);
        char path[4400], got[PT_SHA256_HEX];
        field(detail, name, want, sizeof want);
        if (want[0] == '\0') {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", case_dir, name);
        if (pt_sha256_file(path, got, NULL) != PT_OK) {
            printf("MISSING     %s\n", name);
            (*bad)++;
        } else if (strcmp(got, want) != 0) {
            printf("MISMATCH    %s: sha256 %s, sealed %s\n", name, got, want);
            (*bad)++;
        } else {
            printf("OK          %s matches its sealed SHA-256\n", name);
        }
    }
}

pt_status pt_verify(const char *case_dir)
{
    char dbpath[4200], err[512];
    snprintf(dbpath, sizeof dbpath, "%s/evidence.db", case_dir);
    struct pt_db *db = NULL;
    if (pt_db_open_ro(dbpath, &db, err, sizeof err) != PT_OK) {
        fprintf(stderr, "phitrace: error: %s\n", err);
        printf("VERIFICATION FAILED: the case database cannot be read\n");
        return PT_EIO;
    }
    int bad = 0, checked = 0;
    char why[600];
    bool incomplete = pt_case_incomplete(db, case_dir, why, sizeof why);
    if (incomplete) {
        printf("INCOMPLETE  %s\n", why);
        bad++;
    }
    check_inputs(db, &bad, &checked);
    pt_q_orphans(db, orphans, &bad);
    pt_q_link_orphans(db, link_orphans, &bad);
    check_objects(db, case_dir, &bad);
    check_chain_and_seal(db, case_dir, &bad);
    pt_db_close(db);
    if (bad > 0) {
        printf("VERIFICATION FAILED: %d problem(s)%s\n", bad,
               incomplete ? "; the case is incomplete and must not be relied on" : "");
        if (incomplete) {
            fprintf(stderr, "phitrace: error: %s is an incomplete case: %s\n", case_dir, why);
        }
        return PT_EMALFORMED;
    }
    printf("verified: %d input(s) match their recorded SHA-256; audit chain intact; database "
           "rows and reports match the completion record\n", checked);
    return PT_OK;
}

/* export-object of an object the case recorded but did not keep: where its bytes are. */
static void not_kept(struct pt_db *db, const char *sha256)
{
    struct pt_q_origin o;
    char policy[32];
    fprintf(stderr, "phitrace: error: object %s was not kept in this case (--keep-objects=%s); "
                    "its hash, size and provenance are recorded", sha256,
            pt_q_manifest_value(db, "keep_objects", policy, sizeof policy) ? policy : "?");
    if (pt_q_object_origin(db, sha256, &o)) {
        if (o.parent[0] != '\0') {
            fprintf(stderr, "; it was unpacked (depth %u) from object %s", o.depth, o.parent);
        }
        if (o.flow_id != 0) {
            fprintf(stderr, "; it is in evidence item %u (%s, SHA-256 %s), flow %lld, %s stream "
                            "from byte %llu, first frame %llu", o.item, o.path, o.item_sha256,
                    (long long)o.flow_id, o.stream_dir, (unsigned long long)o.stream_off,
                    (unsigned long long)o.frame);
        } else {
            fprintf(stderr, "; it is in evidence item %u (%s, SHA-256 %s)", o.item, o.path,
                    o.item_sha256);
        }
    }
    fprintf(stderr, ". To get its bytes, analyze the same inputs with --keep-objects=all and "
                    "export it from that case (the same SHA-256 checks it).\n");
}

pt_status pt_export_object(const char *case_dir, const char *sha256, const char *out_path)
{
    char path[4300], err[512] = "";
    size_t k = strspn(sha256, "0123456789abcdef");
    if (k != PT_SHA256_HEX - 1 || sha256[k] != '\0') {
        fprintf(stderr, "phitrace: error: %s is not a SHA-256 (64 lower-case hex digits)\n",
                sha256);
        return PT_EUSAGE;
    }
    snprintf(path, sizeof path, "%s/evidence.db", case_dir);
    struct pt_db *db = NULL;
    if (pt_db_open_ro(path, &db, err, sizeof err) != PT_OK) {
        fprintf(stderr, "phitrace: error: %s\n", err);
        return PT_EIO;
    }
    pt_status rc = PT_OK;
    struct pt_objbytes ob = {0};
    char pack[256];
    uint64_t off = 0, size = 0;
    if (!pt_q_object_place(db, sha256, pack, sizeof pack, &off, &size)) {
        fprintf(stderr, "phitrace: error: the case holds no object %s\n", sha256);
        rc = PT_EUSAGE;
    } else if (strcmp(pack, PT_OBJ_NOT_KEPT) == 0) {
        not_kept(db, sha256);
        rc = PT_EUSAGE;
    } else if (!pt_object_load(case_dir, sha256, pack, off, size, &ob)) {
        fprintf(stderr, "phitrace: error: object %s cannot be read from %s/objects\n", sha256,
                case_dir);
        rc = PT_EIO;
    }
    pt_db_close(db);
    if (rc != PT_OK) {
        return rc;
    }
    uint8_t dig[PT_SHA256_LEN];
    char got[PT_SHA256_HEX];
    pt_sha256_buf(ob.p, ob.n, dig);
    pt_hex(dig, sizeof dig, got);
    if (strcmp(got, sha256) != 0) {
        fprintf(stderr, "phitrace: error: object %s now hashes to %s: the case was altered "
                        "(run phitrace verify)\n", sha256, got);
        pt_object_release(&ob);
        return PT_EIO;
    }
    bool to_stdout = out_path == NULL || strcmp(out_path, "-") == 0;
    int fd = to_stdout ? STDOUT_FILENO
                       : open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "phitrace: error: cannot create %s: %s\n", out_path, strerror(errno));
        pt_object_release(&ob);
        return PT_EIO;
    }
    for (size_t done = 0; done < ob.n;) {
        ssize_t w = write(fd, ob.p + done, ob.n - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            fprintf(stderr, "phitrace: error: writing the object: %s\n", strerror(errno));
            rc = PT_EIO;
            break;
        }
        done += (size_t)w;
    }
    if (!to_stdout && close(fd) != 0) {
        rc = PT_EIO;
    }
    pt_object_release(&ob);
    return rc;
}
