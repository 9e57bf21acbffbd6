/* test_image.c - the disk-image reader's frames (analyzer/ingest/image_frame.c, image.c's
 * pt_image_feed): records round-trip, split frames wait for more bytes, and a child's
 * garbage (unknown type, huge length, fields past the payload, data outside a file) is
 * refused rather than read. Disk artifacts: recycle-bin $I records of both versions built
 * here byte by byte (analyze/recycle.c), and browser download histories created here with
 * the real schemas' tables and columns (analyze/browser.c). */
#include "cm.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "analyze/browser.h"
#include "analyze/recycle.h"
#include "ingest/image_carve.h"
#include "ingest/image.h"

struct seen {
    char log[1024];
    size_t n;
};

static void on_rec(void *arg, const struct pt_img_rec *r)
{
    struct seen *s = arg;
    char b[300];
    int k = r->type == PT_IMG_FILE ? snprintf(b, sizeof b, "F(%s,%llu,%c,%u);", r->path,
                                              (unsigned long long)r->inode, r->kind, r->flags)
            : r->type == PT_IMG_DATA ? snprintf(b, sizeof b, "D%zu;", r->n)
            : r->type == PT_IMG_END  ? snprintf(b, sizeof b, "E(%d,%llu);", r->ok,
                                                (unsigned long long)r->size)
            : r->type == PT_IMG_VOL  ? snprintf(b, sizeof b, "V(%s,%llu);", r->fs,
                                                (unsigned long long)r->offset)
                                     : snprintf(b, sizeof b, "%c;", r->type);
    if (k > 0 && (size_t)k < sizeof s->log - s->n) {
        memcpy(s->log + s->n, b, (size_t)k + 1);
        s->n += (size_t)k;
    }
}

static size_t enc(uint8_t *buf, size_t cap, const struct pt_img_rec *r)
{
    size_t n = pt_img_rec_encode(r, buf, cap);
    assert_true(n > 0);
    return n;
}

static size_t stream(uint8_t *buf, size_t cap)
{
    static struct pt_img_rec r;
    size_t n = 0;
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_VOL;
    r.offset = 1048576;
    r.ok = true;
    snprintf(r.fs, sizeof r.fs, "ntfs");
    n += enc(buf + n, cap - n, &r);
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_FILE;
    r.inode = 64;
    r.kind = 'r';
    r.flags = PT_IMG_F_CONTENT | PT_IMG_F_NAME_UNALLOC;
    snprintf(r.path, sizeof r.path, "Users/x/roster.csv:hidden");
    n += enc(buf + n, cap - n, &r);
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_PING; /* a sign of life inside a file is allowed and not handed on */
    n += enc(buf + n, cap - n, &r);
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_DATA;
    r.data = (const uint8_t *)"abc";
    r.n = 3;
    n += enc(buf + n, cap - n, &r);
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_END;
    r.ok = true;
    r.size = 3;
    n += enc(buf + n, cap - n, &r);
    memset(&r, 0, sizeof r);
    r.type = PT_IMG_DONE;
    r.size = 1;
    n += enc(buf + n, cap - n, &r);
    return n;
}

static void records_round_trip(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t n = stream(buf, sizeof buf);
    struct seen s = {.n = 0};
    struct pt_image_stats st = {0};
    bool in_file = false, bad = false;
    assert_int_equal(pt_image_feed(buf, n, on_rec, &s, &st, &in_file, &bad), n);
    assert_false(bad);
    assert_false(in_file);
    assert_true(st.finished);
    assert_string_equal(s.log, "V(ntfs,1048576);F(Users/x/roster.csv:hidden,64,r,17);D3;"
                               "E(1,3);Z;");
}

static void frames_cut_anywhere_wait_for_more(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t n = stream(buf, sizeof buf);
    for (size_t cut = 0; cut < n; cut++) {
        struct seen s = {.n = 0};
        struct pt_image_stats st = {0};
        bool in_file = false, bad = false;
        size_t used = pt_image_feed(buf, cut, on_rec, &s, &st, &in_file, &bad);
        assert_false(bad);
        assert_true(used <= cut);
        used += pt_image_feed(buf + used, n - used, on_rec, &s, &st, &in_file, &bad);
        assert_int_equal(used, n);
        assert_string_equal(s.log, "V(ntfs,1048576);F(Users/x/roster.csv:hidden,64,r,17);D3;"
                                   "E(1,3);Z;");
    }
}

static void garbage_is_refused(void **state)
{
    (void)state;
    struct pt_image_stats st = {0};
    struct seen s = {.n = 0};
    bool in_file = false, bad = false;
    const uint8_t unknown[] = {'Q', 0, 0, 0, 0};
    pt_image_feed(unknown, sizeof unknown, on_rec, &s, &st, &in_file, &bad);
    assert_true(bad);
    bad = false;
    const uint8_t huge[] = {'D', 0xff, 0xff, 0xff, 0x7f};
    pt_image_feed(huge, sizeof huge, on_rec, &s, &st, &in_file, &bad);
    assert_true(bad);
    bad = false;
    const uint8_t data_outside[] = {'D', 1, 0, 0, 0, 'x'};
    pt_image_feed(data_outside, sizeof data_outside, on_rec, &s, &st, &in_file, &bad);
    assert_true(bad);
    bad = false;
    /* a volume whose fs string claims more bytes than the frame holds */
    const uint8_t short_vol[] = {'V', 23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                 0, 0, 0, 0, 0, 0, 0, 0, 1, 9, 0};
    pt_image_feed(short_vol, sizeof short_vol, on_rec, &s, &st, &in_file, &bad);
    assert_true(bad);
    assert_int_equal(s.n, 0);
}


/* ---- recycle-bin $I records -------------------------------------------------------------- */

static size_t put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
    return 8;
}

static size_t put_u16s(uint8_t *p, const char *ascii)
{
    size_t k = 0;
    for (; *ascii; ascii++) {
        p[k++] = (uint8_t)*ascii;
        p[k++] = 0;
    }
    return k;
}

/* 2024-03-01T12:00:00Z as a FILETIME: (1709294400 + 11644473600) * 10^7 */
#define FT_2024 ((1709294400ull + 11644473600ull) * 10000000ull)

static void recycle_v1_and_v2(void **state)
{
    (void)state;
    static struct pt_recycle r;
    uint8_t v1[544] = {0};
    size_t k = put_le64(v1, 1);
    k += put_le64(v1 + k, 48213);
    k += put_le64(v1 + k, FT_2024);
    put_u16s(v1 + k, "C:\\export\\patients.7z");
    assert_true(pt_recycle_parse(v1, sizeof v1, &r));
    assert_int_equal(r.version, 1);
    assert_int_equal(r.size, 48213);
    assert_int_equal(r.deleted_us, 1709294400000000LL);
    assert_string_equal(r.path, "C:\\export\\patients.7z");
    assert_false(pt_recycle_parse(v1, sizeof v1 - 1, &r)); /* version 1 is 544 bytes */

    const char *name = "D:\\staging\\roster.csv";
    uint8_t v2[128] = {0};
    k = put_le64(v2, 2);
    k += put_le64(v2 + k, 7);
    k += put_le64(v2 + k, FT_2024 + 10);
    uint32_t chars = (uint32_t)strlen(name) + 1;
    memcpy(v2 + k, &chars, 4); /* little-endian host (x86, arm64 Debian) */
    k += 4;
    k += put_u16s(v2 + k, name) + 2;
    assert_true(pt_recycle_parse(v2, k, &r));
    assert_int_equal(r.version, 2);
    assert_int_equal(r.size, 7);
    assert_int_equal(r.deleted_us, 1709294400000001LL);
    assert_string_equal(r.path, name);
    /* one byte more or less than the length says, another version, no NUL: not records */
    assert_false(pt_recycle_parse(v2, k + 1, &r));
    assert_false(pt_recycle_parse(v2, k - 1, &r));
    v2[0] = 3;
    assert_false(pt_recycle_parse(v2, k, &r));
    v2[0] = 2;
    v2[k - 2] = 'x';
    assert_false(pt_recycle_parse(v2, k, &r));
    /* a surrogate pair becomes one UTF-8 character; a lone surrogate U+FFFD */
    uint8_t v3[64] = {0};
    k = put_le64(v3, 2) + 16;
    chars = 4;
    memcpy(v3 + k, &chars, 4);
    k += 4;
    const uint8_t pair[] = {'A', 0, 0x3d, 0xd8, 0x00, 0xde, 0, 0};
    memcpy(v3 + k, pair, sizeof pair);
    assert_true(pt_recycle_parse(v3, k + sizeof pair, &r));
    assert_string_equal(r.path, "A\xf0\x9f\x98\x80");
    v3[k + 4] = 'B';
    v3[k + 5] = 0;
    assert_true(pt_recycle_parse(v3, k + sizeof pair, &r));
    assert_string_equal(r.path, "A\xef\xbf\xbd" "B");
    assert_true(pt_recycle_name("$Recycle.Bin/S-1-5-21-1/$IAB12CD.7z"));
    assert_true(pt_recycle_name("$ix"));
    assert_false(pt_recycle_name("$Recycle.Bin/S-1-5-21-1/$RAB12CD.7z"));
    assert_false(pt_recycle_name("dir/$I"));
}

/* ---- browser downloads ------------------------------------------------------------------- */

struct dl_seen {
    char log[2048];
    size_t n;
};

static void on_dl(void *arg, const struct pt_download *d)
{
    struct dl_seen *s = arg;
    int k = snprintf(s->log + s->n, sizeof s->log - s->n, "%s|%s|%s|%lld|%lld|%lld|%lld|%s;",
                     d->browser, d->url, d->target, (long long)d->start_us,
                     (long long)d->end_us, (long long)d->received, (long long)d->total,
                     d->state);
    if (k > 0 && (size_t)k < sizeof s->log - s->n) {
        s->n += (size_t)k;
    }
}

static void make_db(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    unlink(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Chrome's History tables as Chrome 120 creates them (every column, in order). */
static const char chrome_sql[] =
    "CREATE TABLE downloads (id INTEGER PRIMARY KEY,guid VARCHAR NOT NULL,current_path "
    "LONGVARCHAR NOT NULL,target_path LONGVARCHAR NOT NULL,start_time INTEGER NOT NULL,"
    "received_bytes INTEGER NOT NULL,total_bytes INTEGER NOT NULL,state INTEGER NOT NULL,"
    "danger_type INTEGER NOT NULL,interrupt_reason INTEGER NOT NULL,hash BLOB NOT NULL,"
    "end_time INTEGER NOT NULL,opened INTEGER NOT NULL,last_access_time INTEGER NOT NULL,"
    "transient INTEGER NOT NULL,referrer VARCHAR NOT NULL,site_url VARCHAR NOT NULL,"
    "embedder_download_data VARCHAR NOT NULL,tab_url VARCHAR NOT NULL,tab_referrer_url "
    "VARCHAR NOT NULL,http_method VARCHAR NOT NULL,by_ext_id VARCHAR NOT NULL,by_ext_name "
    "VARCHAR NOT NULL,by_web_app_id VARCHAR NOT NULL,etag VARCHAR NOT NULL,last_modified "
    "VARCHAR NOT NULL,mime_type VARCHAR(255) NOT NULL,original_mime_type VARCHAR(255) NOT "
    "NULL);"
    "CREATE TABLE downloads_url_chains (id INTEGER NOT NULL,chain_index INTEGER NOT NULL,url "
    "LONGVARCHAR NOT NULL, PRIMARY KEY (id, chain_index));"
    /* 13351768000000000 = 2024-02-29T... in WebKit microseconds since 1601 */
    "INSERT INTO downloads VALUES (1,'g1','C:\\Users\\bob\\Downloads\\rclone.zip.crdownload',"
    "'C:\\Users\\bob\\Downloads\\rclone.zip',13351768000000000,2048,4096,1,0,0,x'',"
    "13351768005000000,0,0,0,'','','','','','GET','','','','','','application/zip','');"
    "INSERT INTO downloads_url_chains VALUES (1,0,'https://rclone.org/dl'),(1,1,"
    "'https://downloads.rclone.org/rclone.zip');"
    "INSERT INTO downloads VALUES (2,'g2','','C:\\tmp\\x.exe',0,0,-1,2,0,0,x'',0,0,0,0,'','',"
    "'','','','GET','','','','','','','');"
    "INSERT INTO downloads_url_chains VALUES (2,0,'https://example.org/x.exe');";

/* Firefox's places.sqlite tables (moz_places, moz_anno_attributes, moz_annos). */
static const char firefox_sql[] =
    "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR, "
    "rev_host LONGVARCHAR, visit_count INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0 NOT NULL, "
    "typed INTEGER DEFAULT 0 NOT NULL, frecency INTEGER DEFAULT -1 NOT NULL, last_visit_date "
    "INTEGER , guid TEXT, foreign_count INTEGER DEFAULT 0 NOT NULL, url_hash INTEGER DEFAULT 0 "
    "NOT NULL , description TEXT, preview_image_url TEXT, site_name TEXT, origin_id INTEGER, "
    "recalc_frecency INTEGER NOT NULL DEFAULT 0, alt_frecency INTEGER, recalc_alt_frecency "
    "INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE moz_anno_attributes (id INTEGER PRIMARY KEY, name VARCHAR(32) UNIQUE NOT "
    "NULL);"
    "CREATE TABLE moz_annos (id INTEGER PRIMARY KEY, place_id INTEGER NOT NULL, "
    "anno_attribute_id INTEGER, content LONGVARCHAR, flags INTEGER DEFAULT 0, expiration "
    "INTEGER DEFAULT 0, type INTEGER DEFAULT 0, dateAdded INTEGER DEFAULT 0, lastModified "
    "INTEGER DEFAULT 0);"
    "INSERT INTO moz_places(id, url) VALUES (7, 'https://mega.nz/MEGAsyncSetup64.exe');"
    "INSERT INTO moz_anno_attributes VALUES (1, 'downloads/destinationFileURI'), "
    "(2, 'downloads/metaData');"
    "INSERT INTO moz_annos(id, place_id, anno_attribute_id, content, dateAdded) VALUES "
    "(1, 7, 1, 'file:///C:/Users/bob/Downloads/MEGA%20Setup.exe', 1709294400000000), "
    "(2, 7, 2, '{\"state\":1,\"endTime\":1709294405000,\"fileSize\":5000}', 1709294405000000);";

/* Firefox 3.6 to 25's downloads.sqlite: moz_downloads as nsDownloadManager.cpp creates it
 * (schema 8; the guid column of schema 9 added by ALTER TABLE, as the migration does). */
static const char firefox_legacy_sql[] =
    "CREATE TABLE moz_downloads (id INTEGER PRIMARY KEY, name TEXT, source TEXT, target TEXT, "
    "tempPath TEXT, startTime INTEGER, endTime INTEGER, state INTEGER, referrer TEXT, entityID "
    "TEXT, currBytes INTEGER NOT NULL DEFAULT 0, maxBytes INTEGER NOT NULL DEFAULT -1, "
    "mimeType TEXT, preferredApplication TEXT, preferredAction INTEGER NOT NULL DEFAULT 0, "
    "autoResume INTEGER NOT NULL DEFAULT 0);"
    "ALTER TABLE moz_downloads ADD COLUMN guid TEXT;"
    "CREATE INDEX moz_downloads_source ON moz_downloads(source);"
    "INSERT INTO moz_downloads VALUES (1, 'WinSCP-5.1.7-Setup.exe', "
    "'https://winscp.net/download/WinSCP-5.1.7-Setup.exe', "
    "'file:///C:/Users/bob/Downloads/WinSCP-5.1.7-Setup.exe', '', 1367366400000000, "
    "1367366412000000, 1, 'https://winscp.net/', NULL, 6200000, 6200000, "
    "'application/x-msdownload', NULL, 0, 0, 'gA1');"
    "INSERT INTO moz_downloads VALUES (2, 'rclone.zip', 'https://downloads.rclone.org/r.zip', "
    "'file:///home/bob/T%C3%A9l%C3%A9chargements/rclone.zip', '/tmp/rclone.zip.part', "
    "1367366500000000, 0, 3, NULL, NULL, 1024, 9000000, 'application/zip', NULL, 0, 0, "
    "'gA2');"
    "INSERT INTO moz_downloads VALUES (3, 'x', 'https://example.org/x', 'file:///tmp/x', NULL, "
    "1367366600000000, 1367366601000000, 9, NULL, NULL, 0, -1, NULL, NULL, 0, 0, 'gA3');";

static void browser_downloads(void **state)
{
    (void)state;
    char dir[] = "/tmp/pt-test-dl.XXXXXX", path[64], err[300];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/History", dir);
    make_db(path, chrome_sql);
    struct dl_seen s = {.n = 0};
    assert_int_equal(pt_browser_downloads(path, on_dl, &s, err, sizeof err), 2);
    assert_string_equal(s.log,
                        "chromium|https://downloads.rclone.org/rclone.zip|C:\\Users\\bob\\"
                        "Downloads\\rclone.zip|1707294400000000|1707294405000000|2048|4096|"
                        "complete;chromium|https://example.org/x.exe|C:\\tmp\\x.exe|0|0|0|-1|"
                        "cancelled;");
    snprintf(path, sizeof path, "%s/places.sqlite", dir);
    make_db(path, firefox_sql);
    s.n = 0;
    s.log[0] = '\0';
    assert_int_equal(pt_browser_downloads(path, on_dl, &s, err, sizeof err), 1);
    assert_string_equal(s.log, "firefox|https://mega.nz/MEGAsyncSetup64.exe|C:/Users/bob/"
                               "Downloads/MEGA Setup.exe|1709294400000000|1709294405000000|"
                               "5000|5000|complete;");
    snprintf(path, sizeof path, "%s/downloads.sqlite", dir);
    make_db(path, firefox_legacy_sql);
    s.n = 0;
    s.log[0] = '\0';
    assert_int_equal(pt_browser_downloads(path, on_dl, &s, err, sizeof err), 3);
    assert_string_equal(s.log,
                        "firefox|https://winscp.net/download/WinSCP-5.1.7-Setup.exe|C:/Users/"
                        "bob/Downloads/WinSCP-5.1.7-Setup.exe|1367366400000000|"
                        "1367366412000000|6200000|6200000|complete;"
                        "firefox|https://downloads.rclone.org/r.zip|/home/bob/T\xc3\xa9l"
                        "\xc3\xa9" "chargements/rclone.zip|1367366500000000|0|1024|9000000|"
                        "cancelled;"
                        "firefox|https://example.org/x|/tmp/x|1367366600000000|"
                        "1367366601000000|0|-1|state 9;");
    unlink(path);
    assert_true(pt_browser_name("Mozilla/Firefox/Profiles/x.default/downloads.sqlite"));
    snprintf(path, sizeof path, "%s/places.sqlite", dir);
    /* a SQLite database of something else, and a file that is not one */
    make_db(path, "CREATE TABLE t(x)");
    assert_int_equal(pt_browser_downloads(path, on_dl, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "no download table"));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("not a database at all, just text long enough to be read as a header.......", f);
    fclose(f);
    assert_int_equal(pt_browser_downloads(path, on_dl, &s, err, sizeof err), -1);
    unlink(path);
    snprintf(path, sizeof path, "%s/History", dir);
    unlink(path);
    rmdir(dir);
    assert_true(pt_browser_name("Users/bob/AppData/Local/Google/Chrome/User Data/Default/History"));
    assert_true(pt_browser_name("x/PLACES.SQLITE"));
    assert_false(pt_browser_name("x/History.bak"));
}

/* ---- unallocated pages: headers anywhere, the lookahead past a page's end -------------- */

static void carve_find_in_pages(void **state)
{
    (void)state;
    static uint8_t buf[8192];
    memset(buf, 0, sizeof buf);
    const char csv[] = "mrn,last_name,first_name,dob,ssn\n4100001,DOE,JANE,1961-04-12,"
                       "536-22-5401\n";
    memcpy(buf + 4090, csv, sizeof csv - 1); /* 6 bytes before the page's end */
    const char *kind = NULL;
    /* the first page (4096 bytes, blocks of 2048) with its lookahead finds it where it
     * starts; without the lookahead its first line is cut and it is not found */
    assert_int_equal(pt_carve_find(buf, 0, 4096, sizeof buf, 2048, &kind), 4090);
    assert_string_equal(kind, "csv");
    assert_int_equal(pt_carve_find(buf, 0, 4096, 4096, 2048, &kind), 4096);
    assert_null(kind);
    /* binary signatures are found at any offset, text only at a line start */
    memset(buf, 'x', sizeof buf);
    memcpy(buf + 1001, "PK\x03\x04", 4);
    assert_int_equal(pt_carve_find(buf, 0, 4096, sizeof buf, 2048, &kind), 1001);
    assert_string_equal(kind, "zip");
    assert_int_equal(pt_carve_find(buf, 1002, 4096, sizeof buf, 2048, &kind), 4096);
    memcpy(buf + 3500, csv, sizeof csv - 1); /* its line from the block start is too long */
    assert_int_equal(pt_carve_find(buf, 1002, 4096, sizeof buf, 2048, &kind), 4096);
    buf[3499] = '\n';
    assert_int_equal(pt_carve_find(buf, 1002, 4096, sizeof buf, 2048, &kind), 3500);
    /* gzip needs its reserved flag bits clear, a known XFL and OS */
    memset(buf, 0, sizeof buf);
    memcpy(buf + 10, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
    assert_int_equal(pt_carve_find(buf, 0, 4096, sizeof buf, 0, &kind), 10);
    assert_string_equal(kind, "gz");
    buf[13] = 0xe0;
    assert_int_equal(pt_carve_find(buf, 0, 4096, sizeof buf, 0, &kind), 4096);
}

/* The byte loop pt_carve_find had before it tested 16 bytes at a time, as the reference. */
static size_t ref_carve_find(const uint8_t *p, size_t from, size_t scan, size_t have, size_t bs,
                             const char **kind)
{
    static const uint8_t lead[256] = {['P'] = 1, [0x1f] = 1, ['%'] = 1};
    *kind = NULL;
    scan = scan < have ? scan : have;
    size_t next_block = bs != 0 ? (from + bs - 1) / bs * bs : (size_t)-1;
    for (size_t i = from; i < scan; i++) {
        uint8_t b = p[i];
        bool line = i == 0 || p[i - 1] == '\n' || p[i - 1] == 0 || i == next_block;
        if (i == next_block) {
            next_block += bs;
        }
        bool text = line && b >= 0x20 && b < 0x7f;
        if (!lead[b] && !text && !(i + 132 <= have && p[i + 128] == 'D')) {
            continue;
        }
        const char *k = pt_carve_sniff(p + i, have - i);
        if (k != NULL && (strcmp(k, "csv") != 0 || line)) {
            *kind = k;
            return i;
        }
    }
    return scan;
}

/* Pages of bytes drawn to make headers (zip, gzip, PDF, DICOM, patient CSV at line and block
 * starts) at random offsets: the same offset and kind as the reference, for every start,
 * page end, lookahead and block size tried. */
static void carve_find_matches_reference(void **state)
{
    (void)state;
    static uint8_t buf[3000];
    static const char *const heads[] = {"PK\x03\x04", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
                                        "%PDF-1.4\n", "mrn,last_name,first_name,dob,ssn\n1,A,B,"
                                        "1961-04-12,536-22-5401\n", "DICM"};
    uint32_t x = 99;
    for (unsigned round = 0; round < 400; round++) {
        for (size_t k = 0; k < sizeof buf; k++) {
            x = x * 1103515245u + 12345u;
            uint8_t r = (uint8_t)(x >> 16);
            buf[k] = round % 3 == 0 ? r : (r % 7 == 0 ? '\n' : r % 11 == 0 ? 0 : 'a' + r % 26);
        }
        for (unsigned h = 0; h < 3; h++) {
            x = x * 1103515245u + 12345u;
            const char *hd = heads[(x >> 8) % 5];
            size_t at = (x >> 12) % (sizeof buf - 200), len = strlen(hd);
            if (hd[0] == '\x1f') {
                len = 10;
            }
            memcpy(buf + at + (hd[0] == 'D' ? 128 : 0), hd, len);
        }
        size_t from = round % 50, scan = 1000 + round % 1500, have = scan + (round % 4) * 300;
        size_t bs = (size_t[]){0, 512, 2048, 64}[round % 4];
        have = have > sizeof buf ? sizeof buf : have;
        const char *k1 = NULL, *k2 = NULL;
        size_t a = pt_carve_find(buf, from, scan, have, bs, &k1);
        size_t b = ref_carve_find(buf, from, scan, have, bs, &k2);
        assert_int_equal(a, b);
        assert_true(k1 == k2 || (k1 != NULL && k2 != NULL && strcmp(k1, k2) == 0));
        if (b < scan) { /* and from just after what was found */
            a = pt_carve_find(buf, b + 1, scan, have, bs, &k1);
            assert_int_equal(a, ref_carve_find(buf, b + 1, scan, have, bs, &k2));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(carve_find_matches_reference),
        cmocka_unit_test(records_round_trip),
        cmocka_unit_test(frames_cut_anywhere_wait_for_more),
        cmocka_unit_test(garbage_is_refused),
        cmocka_unit_test(recycle_v1_and_v2),
        cmocka_unit_test(browser_downloads),
        cmocka_unit_test(carve_find_in_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
