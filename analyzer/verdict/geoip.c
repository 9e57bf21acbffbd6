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
#include "../store/q_names.h"

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

/* One destination: its country ("NZ New Zealand") and network ("AS64500 Example"). */
struct annotate_ctx {
    MMDB_s *mm;
    struct pt_q_dname *ins;
    unsigned *found;
};

static pt_status annotate(void *arg, const char *dest)
{
    const struct annotate_ctx *x = arg;
    MMDB_s *mm = x->mm;
    struct pt_q_dname *ins = x->ins;
    unsigned *found = x->found;
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
        PT_TRY(pt_q_dname_put(ins, dest, "geoip_country", text));
        (*found)++;
    }
    unsigned n = entry_uint(&r.entry, asn);
    entry_string(&r.entry, oname, sizeof oname, org);
    if (n != 0 || oname[0] != '\0') {
        snprintf(text, sizeof text, n ? "AS%u%s%s" : "%.0u%s%s", n, n && oname[0] ? " " : "",
                 oname);
        PT_TRY(pt_q_dname_put(ins, dest, "geoip_asn", text));
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
    struct pt_q_dname *ins = NULL;
    pt_status st = pt_q_dname_open(db, &ins);
    if (st == PT_OK) {
        st = pt_db_begin(db);
        struct annotate_ctx x = {&mm, ins, found};
        if (st == PT_OK) {
            st = pt_q_destinations(db, annotate, &x);
        }
        if (st == PT_OK) {
            manifest(db, &mm, path);
            st = pt_db_commit(db);
        }
    }
    if (st != PT_OK) {
        snprintf(err, errlen, "--geoip: cannot record the answers: %s", pt_db_errmsg(db));
    }
    pt_q_dname_close(ins);
    MMDB_close(&mm);
    return st;
}
