/*
 * notify.c - `phitrace notify-list CASE -o FILE.csv`: the mailing list a notification vendor
 * needs (45 CFR 164.404: written notice to each individual at their last known address),
 * one row per individual of the roster (individual_roster) with their full name, address,
 * ZIP code, state, whether they died (next of kin are notified), the events that carried
 * their data, the destinations, and the categories that apply (left, staged, present:
 * store/q_disk.h).
 *
 * Full values exist only in a case analyzed with --keep-phi (table phi_value); without it
 * the command refuses and says how to get them. The file is created 0600 whatever the umask,
 * never over an existing file, and its creation (path, rows, SHA-256) is appended to the
 * case's audit chain, which `phitrace verify` accepts after the completion record.
 */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/grow.h"
#include "../core/sha256.h"
#include "../core/version.h"
#include "../pipeline.h"
#include "../store/db.h"

/* Per individual of the roster: the full name and address most often seen as the record's
 * own patient's (ties: the latest record), the ZIP code of the address's record. */
static const char list_sql[] =
    "WITH v AS (SELECT r.entity_id AS entity, r.id AS record, h.type, pv.value FROM phi_record r "
    "JOIN phi_hit h ON h.record_id = r.id JOIN phi_value pv ON pv.hmac = h.hmac WHERE h.subject "
    "AND h.type IN ('name', 'address', 'zip') AND r.entity_id IN (SELECT individual FROM "
    "individual_roster)), "
    "best AS (SELECT entity, type, value, record, row_number() OVER (PARTITION BY entity, type "
    "ORDER BY seen DESC, record DESC) AS k FROM (SELECT entity, type, value, count(*) AS seen, "
    "max(record) AS record FROM v WHERE type IN ('name', 'address') GROUP BY entity, type, "
    "value)) "
    "SELECT i.individual, coalesce(n.value, ''), coalesce(a.value, ''), coalesce((SELECT value "
    "FROM v WHERE v.entity = i.individual AND v.type = 'zip' AND v.record = a.record LIMIT 1), "
    "''), i.state, i.deceased, coalesce(i.events, ''), coalesce(i.destinations, ''), "
    "coalesce(strftime('%Y-%m-%dT%H:%M:%SZ', i.first_out / 1000000, 'unixepoch'), ''), "
    "i.categories FROM "
    "individual_roster i LEFT JOIN best n ON n.entity = i.individual AND n.type = 'name' AND "
    "n.k = 1 LEFT JOIN best a ON a.entity = i.individual AND a.type = 'address' AND a.k = 1 "
    "ORDER BY i.state, n.value, i.individual";

struct buf {
    char *p;
    size_t n, cap;
    int oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->oom || b->n + n + 1 > SIZE_MAX / 2) {
        b->oom = 1;
        return;
    }
    if (!pt_grow(&b->p, &b->cap, b->n + n + 1, 1, 4096)) {
        b->oom = 1;
        return;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* One CSV field (RFC 4180): quoted when it holds a comma, quote or line end; a value that a
 * spreadsheet would run as a formula (= + - @, tab, CR first) gets a leading apostrophe. */
static void field(struct buf *b, const char *s, bool last)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    bool formula = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';
    if (quote) {
        put(b, "\"", 1);
    }
    if (formula) {
        put(b, "'", 1);
    }
    for (const char *p = s; *p; p++) {
        put(b, p, 1);
        if (*p == '"') {
            put(b, "\"", 1);
        }
    }
    if (quote) {
        put(b, "\"", 1);
    }
    put(b, last ? "\r\n" : ",", last ? 2 : 1);
}

/* "FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX" (DICOM PN, HL7 XPN) as "PREFIX GIVEN MIDDLE FAMILY
 * SUFFIX"; a name without carets as it is. */
static void person_name(const char *v, char *out, size_t len)
{
    if (strchr(v, '^') == NULL) {
        snprintf(out, len, "%s", v);
        return;
    }
    char parts[5][128] = {{0}};
    const char *p = v;
    for (int i = 0; i < 5 && p != NULL; i++) {
        const char *e = strchr(p, '^');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(parts[i], sizeof parts[i], "%.*s", (int)(n < 127 ? n : 127), p);
        p = e ? e + 1 : NULL;
    }
    static const int order[] = {3, 1, 2, 0, 4};
    size_t k = 0;
    out[0] = '\0';
    for (int i = 0; i < 5 && k < len; i++) {
        if (parts[order[i]][0] != '\0') {
            k += (size_t)snprintf(out + k, len - k, "%s%s", k ? " " : "", parts[order[i]]);
        }
    }
}

/* The rows as CSV in b; their count in *rows. */
static pt_status build(sqlite3 *h, struct buf *b, long long *rows, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, list_sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the roster: %s", sqlite3_errmsg(h));
        return PT_EDB;
    }
    static const char header[] = "individual,name,address,zip,state,deceased,events,"
                                 "destinations,first_out,categories\r\n";
    put(b, header, sizeof header - 1);
    *rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char id[24], name[700];
        snprintf(id, sizeof id, "%lld", sqlite3_column_int64(st, 0));
        const unsigned char *raw = sqlite3_column_text(st, 1);
        person_name(raw ? (const char *)raw : "", name, sizeof name);
        field(b, id, false);
        field(b, name, false);
        for (int i = 2; i <= 9; i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            const char *s = t ? (const char *)t : "";
            field(b, i == 5 ? (sqlite3_column_int(st, i) ? "yes" : "no") : s, i == 9);
        }
        (*rows)++;
    }
    sqlite3_finalize(st);
    if (b->oom) {
        snprintf(err, errlen, "out of memory");
        return PT_ENOMEM;
    }
    return PT_OK;
}

static bool kept_phi(sqlite3 *h)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(h, "SELECT value = 'yes' FROM run_manifest WHERE key = 'keep_phi'", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        yes = sqlite3_column_int(st, 0) != 0;
    }
    sqlite3_finalize(st);
    return yes;
}

/* FILE created 0600 whatever the umask; never over an existing file or through a link. */
static pt_status write_new(const char *path, const struct buf *b, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s%s", path, strerror(errno),
                 errno == EEXIST ? " (the list is never written over a file: remove it or "
                                   "name another)" : "");
        return errno == EEXIST ? PT_EUSAGE : PT_EIO;
    }
    size_t done = 0;
    bool ok = fchmod(fd, 0600) == 0;
    while (ok && done < b->n) {
        ssize_t w = write(fd, b->p + done, b->n - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        ok = w > 0;
        done += ok ? (size_t)w : 0;
    }
    ok = fsync(fd) == 0 && ok;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(path);
        return PT_EIO;
    }
    return PT_OK;
}

/* Read the list from a read-only case; refuse a case without full values or not whole. */
static pt_status read_list(const char *dbpath, const char *case_dir, struct buf *b,
                           long long *rows, char *err, size_t errlen)
{
    struct pt_db *db = NULL;
    PT_TRY(pt_db_open_ro(dbpath, &db, err, errlen));
    sqlite3 *h = pt_db_handle(db);
    pt_status rc = PT_OK;
    char why[600];
    if (!kept_phi(h)) {
        snprintf(err, errlen, "%s was analyzed without --keep-phi: its database holds masked "
                              "identifiers only, no names or addresses to mail. Analyze the "
                              "evidence again with --keep-phi into a new case (phitrace analyze "
                              "--keep-phi INPUT... -o NEWCASE), then run phitrace notify-list "
                              "NEWCASE -o FILE.csv; the roster in its reports lists the same "
                              "individuals masked", case_dir);
        rc = PT_EUSAGE;
    } else if (pt_case_incomplete(db, case_dir, why, sizeof why)) {
        snprintf(err, errlen, "%s is an incomplete case (%s): no mailing list is made from it",
                 case_dir, why);
        rc = PT_EMALFORMED;
    } else {
        rc = build(h, b, rows, err, errlen);
    }
    pt_db_close(db);
    return rc;
}

pt_status pt_notify_list(const char *case_dir, const char *out_path, long long *rows, char *err,
                         size_t errlen)
{
    char dbpath[PATH_MAX + 16];
    snprintf(dbpath, sizeof dbpath, "%s/evidence.db", case_dir);
    struct buf b = {0};
    *rows = 0;
    pt_status rc = read_list(dbpath, case_dir, &b, rows, err, errlen);
    if (rc == PT_OK) {
        rc = write_new(out_path, &b, err, errlen);
    }
    free(b.p);
    if (rc != PT_OK) {
        return rc;
    }
    char sha[PT_SHA256_HEX], abs[PATH_MAX], detail[PATH_MAX + 200];
    if (pt_sha256_file(out_path, sha, NULL) != PT_OK || realpath(out_path, abs) == NULL) {
        snprintf(err, errlen, "cannot read back %s", out_path);
        unlink(out_path);
        return PT_EIO;
    }
    /* the custody record names what left the case: the file, its rows and its hash */
    snprintf(detail, sizeof detail, "rows=%lld sha256=%s mode=0600 path=%s", *rows, sha, abs);
    struct pt_db *db = NULL;
    rc = pt_db_open_rw(dbpath, &db, err, errlen);
    if (rc == PT_OK) {
        rc = pt_db_audit(db, "phitrace " PT_VERSION, "notify_list_written", detail);
        if (rc != PT_OK) {
            snprintf(err, errlen, "cannot record the list in the audit chain: %s",
                     pt_db_errmsg(db));
        }
        pt_db_close(db);
    }
    if (rc != PT_OK) {
        unlink(out_path); /* a list whose making the chain does not record is not left behind */
    }
    return rc;
}
