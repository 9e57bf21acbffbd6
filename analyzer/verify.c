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
#include "store/db.h"
#include "store/db_handle.h"

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

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

/* The completion record: its seq and detail; false when there is none. */
static bool seal_row(sqlite3 *h, long long *seq, char *detail, size_t len)
{
    sqlite3_stmt *st = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(h, "SELECT seq, detail FROM audit_log WHERE action = 'case_sealed' "
                              "ORDER BY seq DESC LIMIT 1", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        snprintf(detail, len, "%s", col(st, 1));
        found = true;
    }
    sqlite3_finalize(st);
    return found;
}

bool pt_case_incomplete(struct pt_db *db, const char *case_dir, char *why, size_t len)
{
    sqlite3 *h = pt_db_handle(db);
    char detail[1600], head[PT_SHA256_HEX];
    long long seq = 0, head_seq = 0;
    if (!seal_row(h, &seq, detail, sizeof detail)) {
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
    sqlite3_stmt *st = NULL;
    long long unhashed = 0;
    if (sqlite3_prepare_v2(h, "SELECT count(*) FROM evidence_item WHERE sha256 IS NULL AND "
                              "status NOT IN ('skipped', 'error')", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        unhashed = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (unhashed > 0) {
        snprintf(why, len, "%lld evidence item(s) were never hashed", unhashed);
        return true;
    }
    return false;
}

/* A split image: each segment against its evidence_segment row (and the audit log's
 * segment_hashed row), and their concatenation against the item's hash. Fills got/gsize with
 * the whole; false when a segment cannot be read. */
static bool hash_segments(sqlite3 *h, long long item, char got[PT_SHA256_HEX], uint64_t *gsize,
                          int *bad)
{
    struct pt_sha256 *whole = pt_sha256_new();
    sqlite3_stmt *st = NULL;
    bool ok = whole != NULL;
    *gsize = 0;
    sqlite3_prepare_v2(h, "SELECT s.seq, s.path, s.size, coalesce(s.sha256, ''), (SELECT "
                          "group_concat(detail, '\n') FROM audit_log a WHERE a.action = "
                          "'segment_hashed' AND a.detail LIKE 'item=' || s.item_id || ' segment="
                          "' || s.seq || ' %') FROM evidence_segment s WHERE s.item_id = ?1 "
                          "ORDER BY s.seq", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, item);
    while (ok && st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        const char *path = col(st, 1), *want = col(st, 3), *audit = col(st, 4);
        long long seq = sqlite3_column_int64(st, 0), size = sqlite3_column_int64(st, 2);
        char asha[80];
        field(audit, "sha256", asha, sizeof asha);
        if (strcmp(asha, want) != 0 || strchr(audit, '\n') != NULL) {
            printf("MISMATCH    segment %lld of item %lld (%s): the audit log recorded sha256 "
                   "%s, evidence_segment says %s\n", seq, item, path, asha[0] ? asha : "(none)",
                   want);
            (*bad)++;
        }
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            printf("MISSING     segment %lld of item %lld: %s cannot be read now\n", seq, item,
                   path);
            ok = false;
            break;
        }
        struct pt_sha256 *one = pt_sha256_new();
        static unsigned char buf[1 << 16];
        size_t n;
        uint64_t sz = 0;
        while (one != NULL && (n = fread(buf, 1, sizeof buf, f)) > 0) {
            pt_sha256_update(one, buf, n);
            pt_sha256_update(whole, buf, n);
            sz += n;
        }
        ok = one != NULL && !ferror(f);
        fclose(f);
        if (ok) {
            uint8_t dig[PT_SHA256_LEN];
            char hex[PT_SHA256_HEX];
            pt_sha256_final(one, dig);
            pt_hex(dig, sizeof dig, hex);
            if (strcmp(hex, want) != 0 || (long long)sz != size) {
                printf("MISMATCH    segment %lld of item %lld (%s): sha256 %s, size %llu; "
                       "recorded %s, size %lld\n", seq, item, path, hex,
                       (unsigned long long)sz, want, size);
                (*bad)++;
            } else {
                printf("OK          %s %s (segment %lld)\n", want, path, seq);
            }
        }
        pt_sha256_free(one);
        *gsize += sz;
    }
    sqlite3_finalize(st);
    if (ok) {
        uint8_t dig[PT_SHA256_LEN];
        pt_sha256_final(whole, dig);
        pt_hex(dig, sizeof dig, got);
    }
    pt_sha256_free(whole);
    return ok;
}

/* Inputs: re-hash each, and compare with the audit log's record of its hash. */
static void check_inputs(sqlite3 *h, int *bad, int *checked)
{
    sqlite3_stmt *st = NULL;
    int items = 0;
    sqlite3_prepare_v2(h, "SELECT id, path, size, sha256, status, segments FROM evidence_item "
                          "ORDER BY id", -1, &st, NULL);
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        const char *path = col(st, 1);
        const char *want = col(st, 3);
        const char *status = col(st, 4);
        long long size = sqlite3_column_int64(st, 2);
        items++;
        if (want[0] == '\0') {
            bool legit = strcmp(status, "skipped") == 0 || strcmp(status, "error") == 0;
            printf("NOT HASHED  %s (status %s at analysis)%s\n", path, status,
                   legit ? "" : ": the run never finished reading it");
            *bad += !legit;
            continue;
        }
        char got[PT_SHA256_HEX];
        uint64_t gsize = 0;
        (*checked)++;
        long long segs = sqlite3_column_int64(st, 5);
        char q[120];
        snprintf(q, sizeof q, "SELECT count(*) FROM evidence_segment WHERE item_id = %lld",
                 sqlite3_column_int64(st, 0));
        if (segs > 1 && pt_db_int(h, q) != segs) {
            printf("MISSING     %s: the item has %lld segments, not as many evidence_segment "
                   "rows\n", path, segs);
            (*bad)++;
        } else if (segs > 1 && !hash_segments(h, sqlite3_column_int64(st, 0), got, &gsize,
                                              bad)) {
            (*bad)++;
        } else if (segs <= 1 && pt_sha256_file(path, got, &gsize) != PT_OK) {
            printf("MISSING     %s: cannot be read now\n", path);
            (*bad)++;
        } else if (strcmp(got, want) != 0 || (long long)gsize != size) {
            printf("MISMATCH    %s: sha256 %s, size %llu; recorded %s, size %lld\n", path, got,
                   (unsigned long long)gsize, want, size);
            (*bad)++;
        } else {
            printf("OK          %s %s%s\n", want, path, segs > 1 ? " (whole split image)" : "");
        }
    }
    sqlite3_finalize(st);
    if (items == 0) {
        printf("NO INPUTS   the case records no evidence item: nothing was verified\n");
        (*bad)++;
    }
    /* The audit chain's input_hashed rows, written as each input was finished, must agree
     * with evidence_item (a row edited later would not), and every hashed item needs one. */
    st = NULL;
    sqlite3_prepare_v2(h, "SELECT i.id, i.sha256, i.size, (SELECT group_concat(detail, '\n') "
                          "FROM audit_log a WHERE a.action = 'input_hashed' AND a.detail LIKE "
                          "'item=' || i.id || ' %') FROM evidence_item i ORDER BY i.id",
                       -1, &st, NULL);
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        const char *sha = col(st, 1), *audit = col(st, 3);
        char asha[80], asize[32], size[32];
        snprintf(size, sizeof size, "%lld", sqlite3_column_int64(st, 2));
        if (audit[0] == '\0') {
            if (sha[0] != '\0') {
                printf("UNAUDITED   item %lld has a hash but no input_hashed row in the audit "
                       "log\n", id);
                (*bad)++;
            }
            continue;
        }
        if (strchr(audit, '\n') != NULL) {
            printf("AUDIT       item %lld has more than one input_hashed row\n", id);
            (*bad)++;
            continue;
        }
        field(audit, "sha256", asha, sizeof asha);
        field(audit, "size", asize, sizeof asize);
        if (strcmp(asha, sha) != 0 || strcmp(asize, size) != 0) {
            printf("MISMATCH    item %lld: evidence_item says sha256 %s size %s, the audit log "
                   "recorded sha256 %s size %s\n", id, sha[0] ? sha : "(none)", size,
                   asha[0] ? asha : "(none)", asize);
            (*bad)++;
        }
    }
    sqlite3_finalize(st);
}

/* Rows that point to a flow must find it (no FOREIGN KEY: flows are written last). */
static void check_orphans(sqlite3 *h, int *bad)
{
    static const char *const children[] = {"stream_gap", "stream_conflict", "object",
#define PT_RECORD(name, NAME, table, batch) #table,
#include "analyze/records.def"
#undef PT_RECORD
    };
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        char sql[200];
        sqlite3_stmt *st = NULL;
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM %s WHERE flow_id IS NOT NULL AND flow_id NOT IN (SELECT id "
                 "FROM flow)", children[i]);
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0) {
            printf("ORPHANS     %lld row(s) of %s point to no flow\n",
                   sqlite3_column_int64(st, 0), children[i]);
            (*bad)++;
        }
        sqlite3_finalize(st);
    }
}

/* Every stored object file must still hash to its name. */
static void check_objects(sqlite3 *h, const char *case_dir, int *bad)
{
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(h, "SELECT DISTINCT o.sha256, b.pack, b.offset, b.size FROM object o "
                          "LEFT JOIN object_blob b ON b.sha256 = o.sha256 ORDER BY o.sha256",
                       -1, &st, NULL);
    int objects = 0, before = *bad;
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        const char *want = col(st, 0);
        char got[PT_SHA256_HEX];
        struct pt_objbytes ob;
        bool read = pt_object_load(case_dir, want, col(st, 1),
                                   (uint64_t)sqlite3_column_int64(st, 2),
                                   (uint64_t)sqlite3_column_int64(st, 3), &ob);
        if (read) {
            uint8_t dig[PT_SHA256_LEN];
            pt_sha256_buf(ob.p, ob.n, dig);
            pt_hex(dig, sizeof dig, got);
            pt_object_release(&ob);
        }
        if (!read) {
            printf("MISSING     object %s\n", want);
            (*bad)++;
        } else if (strcmp(got, want) != 0) {
            printf("MISMATCH    object %s now hashes to %s\n", want, got);
            (*bad)++;
        }
        objects++;
    }
    sqlite3_finalize(st);
    printf("%s          %d stored object(s) checked\n", *bad > before ? "  " : "OK", objects);
}

/* Custody records a command may append to a sealed case (the chain still links them): the
 * files it wrote that carry the case's data out of it. */
static const char *const after_seal[] = {"notify_list_written"};

/* Rows after `seq`: how many, and how many of them are not custody records of after_seal. */
static void post_seal(sqlite3 *h, long long seq, long long *later, long long *foreign)
{
    sqlite3_stmt *st = NULL;
    *later = *foreign = 0;
    if (sqlite3_prepare_v2(h, "SELECT action FROM audit_log WHERE seq > ?1", -1, &st, NULL) !=
        SQLITE_OK) {
        *foreign = 1;
        return;
    }
    sqlite3_bind_int64(st, 1, seq);
    while (sqlite3_step(st) == SQLITE_ROW) {
        bool known = false;
        for (size_t i = 0; i < sizeof after_seal / sizeof after_seal[0]; i++) {
            known = known || strcmp(col(st, 0), after_seal[i]) == 0;
        }
        (*later)++;
        *foreign += !known;
    }
    sqlite3_finalize(st);
}

/* Row `seq` has the hash summary.txt recorded (and is the completion record). */
static bool head_matches(sqlite3 *h, long long seq, const char *hash)
{
    sqlite3_stmt *st = NULL;
    bool ok = false;
    if (sqlite3_prepare_v2(h, "SELECT row_hash = ?2 AND action = 'case_sealed' FROM audit_log "
                              "WHERE seq = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
        ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    }
    sqlite3_finalize(st);
    return ok;
}

/* The chain, its head against summary.txt, and the sealed digest of rows and reports. */
static void check_chain_and_seal(struct pt_db *db, const char *case_dir, int *bad)
{
    sqlite3 *h = pt_db_handle(db);
    char err[512];
    uint64_t rows = 0;
    if (pt_db_audit_verify(db, &rows, err, sizeof err) != PT_OK) {
        printf("AUDIT BROKEN %s\n", err);
        (*bad)++;
        return;
    }
    sqlite3_stmt *st = NULL;
    long long last = 0, seq = 0, seal = 0;
    char last_hash[PT_SHA256_HEX] = "", head[PT_SHA256_HEX] = "";
    sqlite3_prepare_v2(h, "SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1", -1,
                       &st, NULL);
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        last = sqlite3_column_int64(st, 0);
        snprintf(last_hash, sizeof last_hash, "%s", col(st, 1));
    }
    sqlite3_finalize(st);
    long long later = 0, foreign = 0;
    bool head_ok = summary_head(case_dir, &seq, head);
    if (head_ok) {
        post_seal(h, seq, &later, &foreign);
    }
    if (!head_ok) {
        printf("AUDIT       summary.txt is missing or names no chain head: a truncated chain "
               "cannot be ruled out\n");
        (*bad)++;
    } else if (later > 0 && foreign == 0 && head_matches(h, seq, head)) {
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
    char detail[1600];
    if (!seal_row(h, &seal, detail, sizeof detail)) {
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
    static const char *const reports[] = {"report.json", "report.html", "report.txt"};
    for (size_t i = 0; i < sizeof reports / sizeof reports[0]; i++) {
        char path[4300], got[PT_SHA256_HEX];
        field(detail, reports[i], want, sizeof want);
        if (want[0] == '\0') {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", case_dir, reports[i]);
        if (pt_sha256_file(path, got, NULL) != PT_OK) {
            printf("MISSING     %s\n", reports[i]);
            (*bad)++;
        } else if (strcmp(got, want) != 0) {
            printf("MISMATCH    %s: sha256 %s, sealed %s\n", reports[i], got, want);
            (*bad)++;
        } else {
            printf("OK          %s matches its sealed SHA-256\n", reports[i]);
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
    check_inputs(pt_db_handle(db), &bad, &checked);
    check_orphans(pt_db_handle(db), &bad);
    check_objects(pt_db_handle(db), case_dir, &bad);
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
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(h, "SELECT (SELECT count(*) FROM object WHERE sha256 = ?1), b.pack, "
                          "b.offset, b.size FROM (SELECT 1) LEFT JOIN object_blob b ON "
                          "b.sha256 = ?1", -1, &st, NULL);
    sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
    pt_status rc = PT_OK;
    struct pt_objbytes ob = {0};
    if (st == NULL || sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) == 0) {
        fprintf(stderr, "phitrace: error: the case holds no object %s\n", sha256);
        rc = PT_EUSAGE;
    } else if (!pt_object_load(case_dir, sha256, col(st, 1), (uint64_t)sqlite3_column_int64(st, 2),
                               (uint64_t)sqlite3_column_int64(st, 3), &ob)) {
        fprintf(stderr, "phitrace: error: object %s cannot be read from %s/objects\n", sha256,
                case_dir);
        rc = PT_EIO;
    }
    sqlite3_finalize(st);
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
