/*
 * verify.c - `phitrace verify CASE`: re-hash every input recorded in the case
 * and recompute the audit chain. Any difference fails loudly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "pipeline.h"
#include "store/db.h"

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
        if (sscanf(line, "Audit chain head: row %lld, %64s", seq, hash) == 2) {
            found = true;
        }
    }
    fclose(f);
    return found;
}

pt_status pt_verify(const char *case_dir)
{
    char dbpath[4200], err[512];
    snprintf(dbpath, sizeof dbpath, "%s/evidence.db", case_dir);
    struct pt_db *db = NULL;
    if (pt_db_open_ro(dbpath, &db, err, sizeof err) != PT_OK) {
        fprintf(stderr, "phitrace: error: %s\n", err);
        return PT_EIO;
    }
    int bad = 0, checked = 0;
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(pt_db_handle(db),
                       "SELECT id, path, size, sha256, status FROM evidence_item ORDER BY id", -1,
                       &st, NULL);
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        const char *path = col(st, 1);
        const char *want = col(st, 3);
        long long size = sqlite3_column_int64(st, 2);
        if (want[0] == '\0') {
            printf("NOT HASHED  %s (status %s at analysis)\n", path, col(st, 4));
            continue;
        }
        char got[PT_SHA256_HEX];
        uint64_t gsize = 0;
        checked++;
        if (pt_sha256_file(path, got, &gsize) != PT_OK) {
            printf("MISSING     %s: cannot be read now\n", path);
            bad++;
        } else if (strcmp(got, want) != 0 || (long long)gsize != size) {
            printf("MISMATCH    %s: sha256 %s, size %llu; recorded %s, size %lld\n", path, got,
                   (unsigned long long)gsize, want, size);
            bad++;
        } else {
            printf("OK          %s %s\n", want, path);
        }
    }
    sqlite3_finalize(st);
    /* Rows that point to a flow must find it (no FOREIGN KEY: flows are written last). */
    static const char *const children[] = {"stream_gap", "stream_conflict", "object",
#define PT_RECORD(name, NAME, table, batch) #table,
#include "analyze/records.def"
#undef PT_RECORD
    };
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM %s WHERE flow_id NOT IN (SELECT id FROM flow)", children[i]);
        if (sqlite3_prepare_v2(pt_db_handle(db), sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0) {
            printf("ORPHANS     %lld row(s) of %s point to no flow\n",
                   sqlite3_column_int64(st, 0), children[i]);
            bad++;
        }
        sqlite3_finalize(st);
    }
    /* Every stored object file must still hash to its name. */
    sqlite3_prepare_v2(pt_db_handle(db), "SELECT DISTINCT sha256 FROM object ORDER BY sha256", -1,
                       &st, NULL);
    int objects = 0;
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        const char *want = col(st, 0);
        char path[4400], got[PT_SHA256_HEX];
        snprintf(path, sizeof path, "%s/objects/%.2s/%s", case_dir, want, want);
        if (pt_sha256_file(path, got, NULL) != PT_OK) {
            printf("MISSING     object %s\n", want);
            bad++;
        } else if (strcmp(got, want) != 0) {
            printf("MISMATCH    object %s now hashes to %s\n", want, got);
            bad++;
        }
        objects++;
    }
    sqlite3_finalize(st);
    printf("%s          %d stored object(s) checked\n", bad ? "  " : "OK", objects);
    uint64_t rows = 0;
    pt_status rc = pt_db_audit_verify(db, &rows, err, sizeof err);
    if (rc != PT_OK) {
        printf("AUDIT BROKEN %s\n", err);
        bad++;
    } else {
        long long seq = 0;
        char head[PT_SHA256_HEX] = "";
        sqlite3_prepare_v2(pt_db_handle(db),
                           "SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1", -1, &st,
                           NULL);
        long long last = 0;
        char last_hash[PT_SHA256_HEX] = "";
        if (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
            last = sqlite3_column_int64(st, 0);
            snprintf(last_hash, sizeof last_hash, "%s", col(st, 1));
        }
        sqlite3_finalize(st);
        if (summary_head(case_dir, &seq, head) && (seq != last || strcmp(head, last_hash) != 0)) {
            printf("AUDIT BROKEN chain head is row %lld %s but summary.txt recorded row %lld %s\n",
                   last, last_hash, seq, head);
            bad++;
        } else {
            printf("OK          audit chain intact, %llu rows, head %s\n", (unsigned long long)rows,
                   last_hash);
        }
    }
    pt_db_close(db);
    if (bad > 0) {
        printf("VERIFICATION FAILED: %d problem(s) among %d input(s) and the audit chain\n", bad,
               checked);
        return PT_EMALFORMED;
    }
    printf("verified: %d input(s) match their recorded SHA-256; audit chain intact\n", checked);
    return PT_OK;
}
