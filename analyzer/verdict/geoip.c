/*
 * geoip.c - `--geoip FILE.mmdb`: the country and the network (ASN) of each outside
 * destination, from a MaxMind-format database the user supplies (GeoLite2/GeoIP2 Country,
 * City or ASN, DB-IP, IPinfo's mmdb...), read with libmaxminddb. They become
 * destination_name rows of kinds geoip_country and geoip_asn, so every place that names a
 * destination shows them; the manifest records the file, its SHA-256, its type and build
 * time, because the answer depends on the database's date.
 *
 * The database is input from outside the evidence: libmaxminddb validates its metadata and
 * bounds its reads (MMDB_open, MMDB_get_value); strings are copied with their lengths.
 */
#include "geoip.h"

#include <limits.h>
#include <maxminddb.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/sha256.h"
#include "../store/db.h"
#include "../store/db_handle.h"

/* A UTF-8 string at `path` in the entry (NULL-terminated path), or "" when absent. */
static void entry_string(MMDB_entry_s *e, char *out, size_t len, const char *const *path)
{
    MMDB_entry_data_s d;
    out[0] = '\0';
    if (MMDB_aget_value(e, &d, path) == MMDB_SUCCESS && d.has_data &&
        d.type == MMDB_DATA_TYPE_UTF8_STRING) {
        snprintf(out, len, "%.*s", (int)(d.data_size < len ? d.data_size : len - 1), d.utf8_string);
    }
}

static unsigned entry_uint(MMDB_entry_s *e, const char *const *path)
{
    MMDB_entry_data_s d;
    if (MMDB_aget_value(e, &d, path) == MMDB_SUCCESS && d.has_data) {
        if (d.type == MMDB_DATA_TYPE_UINT32) {
            return d.uint32;
        }
        if (d.type == MMDB_DATA_TYPE_UINT16) {
            return d.uint16;
        }
    }
    return 0;
}

static pt_status put_name(sqlite3_stmt *ins, const char *dest, const char *kind, const char *name)
{
    sqlite3_bind_text(ins, 1, dest, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

/* One destination: its country ("NZ New Zealand") and network ("AS64500 Example"). */
static pt_status annotate(MMDB_s *mm, sqlite3_stmt *ins, const char *dest, unsigned *found)
{
    int gai = 0, mmerr = 0;
    MMDB_lookup_result_s r = MMDB_lookup_string(mm, dest, &gai, &mmerr);
    if (gai != 0 || mmerr != MMDB_SUCCESS || !r.found_entry) {
        return PT_OK; /* not an address (a DNS tunnel's domain) or not in the database */
    }
    static const char *const iso[] = {"country", "iso_code", NULL};
    static const char *const en[] = {"country", "names", "en", NULL};
    static const char *const asn[] = {"autonomous_system_number", NULL};
    static const char *const org[] = {"autonomous_system_organization", NULL};
    char code[16], cname[128], oname[256], text[420];
    entry_string(&r.entry, code, sizeof code, iso);
    entry_string(&r.entry, cname, sizeof cname, en);
    if (code[0] != '\0' || cname[0] != '\0') {
        snprintf(text, sizeof text, "%s%s%s", code, code[0] && cname[0] ? " " : "", cname);
        PT_TRY(put_name(ins, dest, "geoip_country", text));
        (*found)++;
    }
    unsigned n = entry_uint(&r.entry, asn);
    entry_string(&r.entry, oname, sizeof oname, org);
    if (n != 0 || oname[0] != '\0') {
        snprintf(text, sizeof text, n ? "AS%u%s%s" : "%.0u%s%s", n, n && oname[0] ? " " : "",
                 oname);
        PT_TRY(put_name(ins, dest, "geoip_asn", text));
        (*found)++;
    }
    return PT_OK;
}

/* The manifest rows that say which database answered. */
static void manifest(struct pt_db *db, const MMDB_s *mm, const char *path)
{
    char sha[PT_SHA256_HEX], buf[64], abs[PATH_MAX];
    pt_db_manifest_set(db, "geoip_file", realpath(path, abs) != NULL ? abs : path);
    if (pt_sha256_file(path, sha, NULL) == PT_OK) {
        pt_db_manifest_set(db, "geoip_sha256", sha);
    }
    pt_db_manifest_set(db, "geoip_database_type",
                       mm->metadata.database_type ? mm->metadata.database_type : "");
    time_t t = (time_t)mm->metadata.build_epoch;
    struct tm tm;
    if (gmtime_r(&t, &tm) != NULL) {
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        pt_db_manifest_set(db, "geoip_build_utc", buf);
    }
}

pt_status pt_geoip_check(const char *path, char *err, size_t errlen)
{
    MMDB_s mm;
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &mm);
    if (rc != MMDB_SUCCESS) {
        snprintf(err, errlen, "--geoip %s: %s", path, MMDB_strerror(rc));
        return PT_EUSAGE;
    }
    MMDB_close(&mm);
    return PT_OK;
}

pt_status pt_geoip_annotate(struct pt_db *db, const char *path, unsigned *found, char *err,
                            size_t errlen)
{
    MMDB_s mm;
    *found = 0;
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &mm);
    if (rc != MMDB_SUCCESS) {
        snprintf(err, errlen, "--geoip %s: %s", path, MMDB_strerror(rc));
        return PT_EUSAGE;
    }
    sqlite3 *h = pt_db_handle(db);
    sqlite3_stmt *q = NULL, *ins = NULL;
    pt_status st = PT_EDB;
    if (sqlite3_prepare_v2(h, "SELECT DISTINCT subject FROM verdict WHERE scope = 'destination' "
                              "UNION SELECT DISTINCT destination FROM encrypted_channel ORDER BY 1",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "INSERT OR IGNORE INTO destination_name(destination, kind, name, "
                              "seen, first_ts) VALUES (?1, ?2, ?3, 1, NULL)", -1, &ins,
                           NULL) == SQLITE_OK) {
        st = pt_db_begin(db);
        while (st == PT_OK && sqlite3_step(q) == SQLITE_ROW) {
            const unsigned char *d = sqlite3_column_text(q, 0);
            st = annotate(&mm, ins, d ? (const char *)d : "", found);
        }
        if (st == PT_OK) {
            manifest(db, &mm, path);
            st = pt_db_commit(db);
        }
    }
    if (st != PT_OK) {
        snprintf(err, errlen, "--geoip: cannot record the answers: %s", sqlite3_errmsg(h));
    }
    sqlite3_finalize(q);
    sqlite3_finalize(ins);
    MMDB_close(&mm);
    return st;
}
