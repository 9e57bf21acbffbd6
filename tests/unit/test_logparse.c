/* test_logparse.c - logs read as records (ingest/logparse.c) and the flat JSON reader
 * (ingest/jsonflat.c): each format's records and fields, every line accounted for, the same
 * rows whatever the pieces the file arrives in, and every line cut at every offset. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/jsonflat.h"
#include "ingest/logparse.h"
#include "ingest/sniff.h"

/* ---- a recording sink ---- */

#define MAXREC 64

struct sink {
    size_t n_conn, n_dns, n_http, n_xfer, n_anom;
    struct pt_logconn_rec conn[MAXREC];
    struct pt_logxfer_rec xfer[MAXREC];
    struct pt_logdns_rec dns[MAXREC];
    struct pt_loghttp_rec http[MAXREC];
    char last_anom[200];
};

static void on_rec(void *arg, enum pt_logrec_kind k, const void *rec)
{
    struct sink *s = arg;
    if (k == PT_LOGREC_CONN && s->n_conn < MAXREC) {
        s->conn[s->n_conn++] = *(const struct pt_logconn_rec *)rec;
    } else if (k == PT_LOGREC_DNS && s->n_dns < MAXREC) {
        s->dns[s->n_dns++] = *(const struct pt_logdns_rec *)rec;
    } else if (k == PT_LOGREC_HTTP && s->n_http < MAXREC) {
        s->http[s->n_http++] = *(const struct pt_loghttp_rec *)rec;
    } else if (k == PT_LOGREC_XFER && s->n_xfer < MAXREC) {
        s->xfer[s->n_xfer++] = *(const struct pt_logxfer_rec *)rec;
    }
}

static void on_anom(void *arg, uint64_t off, enum pt_anom kind, const char *detail)
{
    struct sink *s = arg;
    (void)off;
    (void)kind;
    s->n_anom++;
    snprintf(s->last_anom, sizeof s->last_anom, "%s", detail);
}

static struct pt_logparse *parse_in(enum pt_logfmt fmt, const char *text, size_t piece,
                                    struct sink *s)
{
    struct pt_logparse *p = calloc(1, sizeof *p);
    assert_non_null(p);
    memset(s, 0, sizeof *s);
    pt_logparse_init(p, fmt, 7, 0, on_rec, on_anom, s);
    size_t n = strlen(text);
    for (size_t at = 0; at < n; at += piece) {
        pt_logparse_feed(p, (const uint8_t *)text + at, n - at < piece ? n - at : piece);
    }
    pt_logparse_end(p);
    const struct pt_logstats *st = &p->st;
    /* every line accounted for, once */
    assert_int_equal(st->lines, st->records + st->other + st->headers + st->blank + st->malformed);
    assert_int_equal(st->records, st->conn + st->dns + st->http + st->xfer);
    assert_int_equal(st->bytes, n);
    return p;
}

/* ---- the flat JSON reader ---- */

static void json_paths_escapes_and_arrays(void **state)
{
    (void)state;
    static struct pt_jsonflat j;
    const char *t = "{\"a\": {\"b\": 12, \"c\": [\"x\", \"y\\u00e9\"], \"d\": null},"
                    " \"e\": \"q\\\"\\\\\\n\", \"s\": \"\\ud83d\\ude00\", \"lone\": \"\\udc00\","
                    " \"t\": true, \"f\": -1.5e3, \"o\": [{\"r\": 1}, {\"r\": 2}], \"z\": {}}";
    assert_true(pt_jsonflat_parse(&j, (const uint8_t *)t, strlen(t)));
    enum pt_json_type ty;
    assert_string_equal(pt_jsonflat_get(&j, "a.b", &ty), "12");
    assert_int_equal(ty, PT_JSON_NUM);
    assert_string_equal(pt_jsonflat_nth(&j, "a.c[]", 0), "x");
    assert_string_equal(pt_jsonflat_nth(&j, "a.c[]", 1), "y\xc3\xa9");
    assert_null(pt_jsonflat_nth(&j, "a.c[]", 2));
    assert_non_null(pt_jsonflat_get(&j, "a.d", &ty));
    assert_int_equal(ty, PT_JSON_NULL);
    assert_string_equal(pt_jsonflat_get(&j, "e", NULL), "q\"\\\n");
    assert_string_equal(pt_jsonflat_get(&j, "s", NULL), "\xf0\x9f\x98\x80");
    assert_string_equal(pt_jsonflat_get(&j, "lone", NULL), "\xef\xbf\xbd");
    assert_string_equal(pt_jsonflat_get(&j, "f", NULL), "-1.5e3");
    assert_string_equal(pt_jsonflat_nth(&j, "o[].r", 1), "2");
    assert_null(pt_jsonflat_get(&j, "z", NULL));
    assert_null(pt_jsonflat_get(&j, "missing", NULL));
}

static void json_rejects_what_is_not_one_object(void **state)
{
    (void)state;
    static struct pt_jsonflat j;
    const char *bad[] = {"", "[1]", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x", "{\"a\":tru}",
                         "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}", "{a:1}", "{\"a\":1}}",
                         "{\"a\":[[[[[[[[[[1]]]]]]]]]]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(pt_jsonflat_parse(&j, (const uint8_t *)bad[i], strlen(bad[i])));
        assert_int_equal(j.n, 0);
    }
    /* more leaves than are kept: still read, the rest counted as dropped */
    char big[PT_JSONFLAT_MAX * 12 + 64];
    size_t len = 0;
    len += (size_t)snprintf(big + len, sizeof big - len, "{");
    for (int i = 0; i < PT_JSONFLAT_MAX + 10; i++) {
        len += (size_t)snprintf(big + len, sizeof big - len, "%s\"k%d\":%d", i ? "," : "", i, i);
    }
    len += (size_t)snprintf(big + len, sizeof big - len, "}");
    assert_true(pt_jsonflat_parse(&j, (const uint8_t *)big, len));
    assert_int_equal(j.n, PT_JSONFLAT_MAX);
    assert_int_equal(j.dropped, 10);
}

static void json_cut_at_every_offset(void **state)
{
    (void)state;
    static struct pt_jsonflat j;
    const char *t = "{\"ts\":\"2024-01-02T03:04:05.5+0100\",\"a\":[1,{\"b\":\"\\u00e9\\ud83d\\ude00\"}],"
                    "\"c\":{\"d\":{\"e\":null}},\"f\":false}";
    size_t n = strlen(t);
    assert_true(pt_jsonflat_parse(&j, (const uint8_t *)t, n));
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, t, cut);
        assert_false(pt_jsonflat_parse(&j, copy, cut));
        free(copy);
    }
}

/* ---- Zeek ---- */

static const char *zeek_conn =
    "#separator \\x09\n"
    "#set_separator\t,\n"
    "#empty_field\t(empty)\n"
    "#unset_field\t-\n"
    "#path\tconn\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
    "orig_bytes\tresp_bytes\tconn_state\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\t"
    "count\tcount\tcount\tcount\n"
    "1672843056.913119\tCXHB1\t10.136.0.18\t55548\t203.0.113.9\t443\ttcp\thttp,ssl\t0.084044\t"
    "1030\t20275\tSF\t18\t1974\t14\t21011\n"
    "1672844485.675033\tCr4U3\tfe80::7809:d6ff:fee3:ff67\t133\tff02::2\t134\ticmp\t-\t-\t-\t-\t"
    "OTH\t1\t56\t0\t0\n"
    "\n"
    "1672845160.5\tCQvy4\t10.136.0.18\t42024\t10.136.0.16\t3128\ttcp\t(empty)\t0.05\t677\n"
    "1672845160.5\tCQvy5\t10.136.0.18\t99999\t10.136.0.16\t3128\ttcp\t-\t0.05\t677\t1\tSF\t1\t1\t1\t1\n"
    "#close\t2023-01-05-18-51-06\n";

static void zeek_tsv_conn_fields_and_accounting(void **state)
{
    (void)state;
    static struct sink s;
    struct pt_logparse *p = parse_in(PT_LOGFMT_ZEEK, zeek_conn, 1 << 20, &s);
    assert_int_equal(p->st.lines, 13);
    assert_int_equal(p->st.headers, 8);
    assert_int_equal(p->st.blank, 1);
    assert_int_equal(p->st.conn, 2);
    assert_int_equal(p->st.malformed, 2); /* a cut line; a port of 99999 */
    assert_int_equal(s.n_anom, 2);
    const struct pt_logconn_rec *c = &s.conn[0];
    assert_int_equal(c->p.item, 7);
    assert_int_equal(c->p.line, 8);
    assert_int_equal(c->p.ts_us, 1672843056913119LL);
    assert_string_equal(c->p.source, "zeek:conn");
    assert_string_equal(c->client, "10.136.0.18");
    assert_int_equal(c->cport, 55548);
    assert_string_equal(c->server, "203.0.113.9");
    assert_int_equal(c->sport, 443);
    assert_string_equal(c->service, "http,ssl");
    assert_int_equal(c->dur_us, 84044);
    assert_int_equal(c->c_bytes, 1030);
    assert_int_equal(c->s_bytes, 20275);
    assert_int_equal(c->c_ip_bytes, 1974);
    assert_int_equal(c->s_ip_bytes, 21011);
    assert_int_equal(c->c_pkts, 18);
    assert_int_equal(c->c_frame_bytes, -1);
    assert_string_equal(c->uid, "CXHB1");
    /* unset fields stay unknown, the IPv6 address is canonical */
    c = &s.conn[1];
    assert_string_equal(c->client, "fe80::7809:d6ff:fee3:ff67");
    assert_int_equal(c->c_bytes, -1);
    assert_int_equal(c->dur_us, -1);
    assert_string_equal(c->service, "");
    /* the offset of a line is where it starts in the file */
    const char *l9 = strstr(zeek_conn, "1672843056.913119");
    assert_int_equal(s.conn[0].p.offset, (uint64_t)(l9 - zeek_conn));
    /* and its length is the line's, without the line end (a PHI hit is tied to its line) */
    assert_int_equal(s.conn[0].p.length, (uint64_t)(strchr(l9, '\n') - l9));
    free(p);
}

static void zeek_same_rows_in_any_pieces(void **state)
{
    (void)state;
    static struct sink whole, cut;
    struct pt_logparse *p = parse_in(PT_LOGFMT_ZEEK, zeek_conn, 1 << 20, &whole);
    free(p);
    for (size_t piece = 1; piece < 40; piece++) {
        p = parse_in(PT_LOGFMT_ZEEK, zeek_conn, piece, &cut);
        assert_int_equal(cut.n_conn, whole.n_conn);
        for (size_t i = 0; i < whole.n_conn; i++) { /* field by field: padding differs */
            const struct pt_logconn_rec *a = &cut.conn[i], *b = &whole.conn[i];
            assert_int_equal(a->p.line, b->p.line);
            assert_int_equal(a->p.offset, b->p.offset);
            assert_int_equal(a->p.length, b->p.length);
            assert_int_equal(a->p.ts_us, b->p.ts_us);
            assert_string_equal(a->client, b->client);
            assert_string_equal(a->server, b->server);
            assert_string_equal(a->uid, b->uid);
            assert_string_equal(a->service, b->service);
            assert_int_equal(a->c_bytes, b->c_bytes);
            assert_int_equal(a->s_ip_bytes, b->s_ip_bytes);
            assert_int_equal(a->dur_us, b->dur_us);
        }
        assert_int_equal(cut.n_anom, whole.n_anom);
        free(p);
    }
}

static void zeek_dns_http_and_other_paths(void **state)
{
    (void)state;
    static struct sink s;
    const char *t =
        "#separator \\x09\n#path\tdns\n"
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\t"
        "rcode_name\tanswers\n"
        "1.5\tC1\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\taaaa.tunnel.example\tTXT\tNOERROR\tx,y\n"
        "#path\thttp\n"
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\thost\turi\t"
        "status_code\trequest_body_len\tresponse_body_len\tuser_agent\n"
        "2\tC2\t10.0.0.5\t40000\t198.51.100.7\t80\tPOST\tup.example\t/u?mrn=1\t200\t52000\t12\tcurl/8\n"
        "#path\tssl\n#fields\tts\tuid\tserver_name\n3\tC3\tx.example\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_ZEEK, t, 7, &s);
    assert_int_equal(s.n_dns, 1);
    assert_string_equal(s.dns[0].query, "aaaa.tunnel.example");
    assert_string_equal(s.dns[0].qtype, "TXT");
    assert_string_equal(s.dns[0].answers, "x,y");
    assert_int_equal(s.dns[0].p.ts_us, 1500000);
    assert_int_equal(s.n_http, 1);
    assert_string_equal(s.http[0].method, "POST");
    assert_string_equal(s.http[0].uri, "/u?mrn=1");
    assert_int_equal(s.http[0].status, 200);
    assert_int_equal(s.http[0].req_bytes, 52000);
    assert_int_equal(p->st.other, 1);
    assert_int_equal(p->st.malformed, 0);
    free(p);
    /* a record before any #fields header */
    p = parse_in(PT_LOGFMT_ZEEK, "1\t2\t3\n", 100, &s);
    assert_int_equal(p->st.malformed, 1);
    assert_non_null(strstr(s.last_anom, "before any #fields"));
    free(p);
}

static void zeek_json_kinds_by_path_or_fields(void **state)
{
    (void)state;
    static struct sink s;
    const char *t =
        "{\"ts\": 1517422326.539915, \"uid\": \"Cx\", \"id.orig_h\": \"10.55.100.100\", "
        "\"id.orig_p\": 61843, \"id.resp_h\": \"205.204.101.182\", \"id.resp_p\": 80, \"proto\": "
        "\"tcp\", \"service\": \"http\", \"duration\": 108.985496, \"orig_bytes\": 719, "
        "\"resp_bytes\": 336, \"conn_state\": \"SF\", \"orig_pkts\": 10, \"orig_ip_bytes\": 1131, "
        "\"resp_pkts\": 4, \"resp_ip_bytes\": 508}\n"
        "{\"_path\":\"dns\",\"ts\":\"2024-01-02T03:04:05.250000Z\",\"id.orig_h\":\"10.0.0.9\","
        "\"id.orig_p\":1,\"id.resp_h\":\"10.0.0.1\",\"id.resp_p\":53,\"query\":\"a.example\","
        "\"answers\":[\"1.2.3.4\",\"5.6.7.8\"]}\n"
        "{\"ts\":1,\"id\":{\"orig_h\":\"10.0.0.9\",\"orig_p\":2,\"resp_h\":\"10.0.0.2\","
        "\"resp_p\":80},\"method\":\"GET\",\"uri\":\"/\",\"status_code\":404}\n"
        "{\"ts\":1,\"server_name\":\"x\"}\n"
        "{\"ts\":1,\"uid\":\"cut\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_ZEEK_JSON, t, 5, &s);
    assert_int_equal(s.n_conn, 1);
    assert_int_equal(s.conn[0].dur_us, 108985496);
    assert_int_equal(s.conn[0].c_ip_bytes, 1131);
    assert_string_equal(s.conn[0].p.source, "zeek-json:conn");
    assert_int_equal(s.n_dns, 1);
    assert_int_equal(s.dns[0].p.ts_us, 1704164645250000LL);
    assert_string_equal(s.dns[0].answers, "1.2.3.4,5.6.7.8");
    assert_int_equal(s.n_http, 1); /* nested "id" object: the same dotted names */
    assert_string_equal(s.http[0].server, "10.0.0.2");
    assert_int_equal(s.http[0].status, 404);
    assert_int_equal(p->st.other, 1);
    assert_int_equal(p->st.malformed, 1);
    free(p);
}

/* ---- Suricata EVE ---- */

static void eve_flow_netflow_dns_http(void **state)
{
    (void)state;
    static struct sink s;
    const char *t =
        "{\"timestamp\":\"2009-11-24T21:27:09.534255+0100\",\"flow_id\":8,\"event_type\":\"flow\","
        "\"src_ip\":\"192.168.2.7\",\"src_port\":1041,\"dest_ip\":\"x.y\",\"dest_port\":80}\n"
        "{\"timestamp\":\"2009-11-24T21:27:09.534255+0100\",\"flow_id\":9,\"event_type\":\"flow\","
        "\"src_ip\":\"192.168.2.7\",\"src_port\":1041,\"dest_ip\":\"2001:db8::1\",\"dest_port\":80,"
        "\"proto\":\"TCP\",\"app_proto\":\"http\",\"flow\":{\"pkts_toserver\":3,\"pkts_toclient\":2,"
        "\"bytes_toserver\":300,\"bytes_toclient\":5000,\"start\":\"2009-11-24T21:27:09.000000+0100\","
        "\"end\":\"2009-11-24T21:27:11.500000+0100\",\"state\":\"closed\"}}\n"
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"netflow\",\"src_ip\":\"10.0.0.1\","
        "\"src_port\":5,\"dest_ip\":\"10.0.0.2\",\"dest_port\":6,\"proto\":\"UDP\",\"netflow\":"
        "{\"pkts\":4,\"bytes\":400}}\n"
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"dns\",\"src_ip\":\"10.0.0.1\","
        "\"src_port\":5,\"dest_ip\":\"10.0.0.2\",\"dest_port\":53,\"proto\":\"UDP\",\"dns\":{\"version\":2,"
        "\"type\":\"answer\",\"rrname\":\"q.example\",\"rrtype\":\"A\",\"rcode\":\"NOERROR\","
        "\"answers\":[{\"rdata\":\"1.1.1.1\"},{\"rdata\":\"2.2.2.2\"}]}}\n"
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"http\",\"src_ip\":\"10.0.0.1\","
        "\"src_port\":5,\"dest_ip\":\"10.0.0.2\",\"dest_port\":80,\"http\":{\"hostname\":\"h\","
        "\"url\":\"/x\",\"http_method\":\"PUT\",\"status\":201,\"length\":17}}\n"
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"alert\",\"alert\":{\"sid\":1}}\n"
        "{\"timestamp\":\"2024-01-01T00:00:00Z\"}\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_EVE, t, 3, &s);
    assert_int_equal(p->st.malformed, 2); /* "x.y" is no address; no event_type */
    assert_int_equal(s.n_conn, 2);
    const struct pt_logconn_rec *c = &s.conn[0];
    assert_string_equal(c->proto, "tcp");
    assert_string_equal(c->server, "2001:db8::1");
    assert_int_equal(c->c_frame_bytes, 300);
    assert_int_equal(c->s_frame_bytes, 5000);
    assert_int_equal(c->c_bytes, -1);
    assert_int_equal(c->dur_us, 2500000);
    assert_int_equal(c->p.ts_us, 1259094429000000LL); /* the flow's start, in UTC */
    assert_string_equal(c->uid, "9");
    assert_string_equal(s.conn[1].p.source, "eve:netflow");
    assert_int_equal(s.conn[1].c_frame_bytes, 400);
    assert_int_equal(s.conn[1].s_pkts, -1);
    assert_string_equal(s.dns[0].answers, "1.1.1.1,2.2.2.2");
    assert_string_equal(s.http[0].method, "PUT");
    assert_int_equal(s.http[0].resp_bytes, 17);
    assert_int_equal(p->st.other, 1);
    free(p);
}

/* ---- web access logs ---- */

static void web_common_combined_vhost_and_forwarded(void **state)
{
    (void)state;
    static struct sink s;
    const char *t =
        "10.0.0.1 - - [13/Jan/2016:19:31:16 +0000] \"GET /a?mrn=123 HTTP/1.1\" 200 494\n"
        "site.example:443 192.168.0.2 - bob [13/Jan/2018:19:31:17 +0100] \"POST /up HTTP/1.1\" 201 - "
        "\"-\" \"curl/8.0\"\n"
        "10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] \"GET /o HTTP/1.1\" 200 571 "
        "\"-\" \"UA \\\"quoted\\\"\"\n"
        "1.2.3.4 - - [25/Apr/2021:06:15:33 +0000] \"GET /x?t=<a%20href=\"y\"> HTTP/1.0\" 404 1164\n"
        "127.0.0.1 - - [12/Apr/2018:09:48:40 +0200] \"\" 400 0 \"-\" \"-\"\n"
        "garbage line\n"
        "10.0.0.1 - - [13/Jan/2016:19:31:16 +0000] \"GET / HTTP/1.1\" 2000 1\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_WEB, t, 11, &s);
    assert_int_equal(s.n_http, 5);
    assert_int_equal(p->st.malformed, 2);
    assert_string_equal(s.http[0].client, "10.0.0.1");
    assert_string_equal(s.http[0].uri, "/a?mrn=123");
    assert_int_equal(s.http[0].resp_bytes, 494);
    assert_int_equal(s.http[0].p.ts_us, 1452713476000000LL);
    assert_string_equal(s.http[1].host, "site.example:443");
    assert_string_equal(s.http[1].client, "192.168.0.2");
    assert_string_equal(s.http[1].user, "bob");
    assert_int_equal(s.http[1].resp_bytes, -1);
    assert_string_equal(s.http[1].user_agent, "curl/8.0");
    assert_int_equal(s.http[1].p.ts_us, 1515868277000000LL);
    assert_string_equal(s.http[2].client, "127.0.0.1");
    assert_string_equal(s.http[2].host, "");
    assert_string_equal(s.http[3].uri, "/x?t=<a%20href=\"y\">");
    assert_int_equal(s.http[3].status, 404);
    assert_string_equal(s.http[4].method, "");
    assert_int_equal(s.http[4].status, 400);
    free(p);
}

/* ---- W3C extended and syslog ---- */

static void w3c_iis_and_windows_firewall(void **state)
{
    (void)state;
    static struct sink s;
    const char *iis =
        "#Software: Microsoft Internet Information Services 6.0\n#Version: 1.0\n"
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
        "cs(User-Agent) sc-status sc-bytes cs-bytes \n"
        "2013-07-30 00:00:01 10.10.10.100 POST /ehr/export.aspx mrn=100200300 443 DOM\\bob "
        "10.10.10.7 Mozilla/4.0+(compatible) 200 52000 310 \n"
        "2013-07-30 00:00:02 10.10.10.100 GET /x - 80 - 10.10.10.8 - 404 0 0\n"
        "2013-07-30 00:00:03 10.10.10.100 GET /x - 80\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_W3C, iis, 9, &s);
    assert_int_equal(s.n_http, 2);
    assert_int_equal(p->st.headers, 3);
    assert_int_equal(p->st.malformed, 1);
    assert_string_equal(s.http[0].uri, "/ehr/export.aspx?mrn=100200300");
    assert_string_equal(s.http[0].client, "10.10.10.7");
    assert_string_equal(s.http[0].server, "10.10.10.100");
    assert_int_equal(s.http[0].sport, 443);
    assert_string_equal(s.http[0].user, "DOM\\bob");
    assert_string_equal(s.http[0].user_agent, "Mozilla/4.0 (compatible)");
    assert_int_equal(s.http[0].resp_bytes, 52000);
    assert_int_equal(s.http[0].req_bytes, 310);
    assert_int_equal(s.http[0].p.ts_us, 1375142401000000LL);
    assert_string_equal(s.http[1].uri, "/x");
    free(p);
    const char *fw =
        "#Version: 1.5\n#Software: Microsoft Windows Firewall\n#Time Format: Local\n"
        "#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn "
        "tcpack tcpwin icmptype icmpcode info path\n"
        "2005-04-11 08:05:57 DROP UDP 123.45.78.90 123.156.78.255 137 137 78 - - - - - - - RECEIVE\n"
        "2005-04-11 08:05:58 OPEN TCP 10.0.0.5 203.0.113.9 50000 443 - - - - - - - - SEND\n";
    p = parse_in(PT_LOGFMT_W3C, fw, 4, &s);
    assert_int_equal(s.n_conn, 2);
    assert_string_equal(s.conn[0].p.source, "w3c:firewall");
    assert_string_equal(s.conn[0].proto, "udp");
    assert_string_equal(s.conn[0].state, "DROP");
    assert_int_equal(s.conn[0].c_ip_bytes, 78);
    assert_int_equal(s.conn[1].c_ip_bytes, -1);
    assert_int_equal(s.conn[1].sport, 443);
    free(p);
}

static void syslog_netfilter_and_dnsmasq(void **state)
{
    (void)state;
    static struct sink s;
    const char *t =
        "Jan  8 03:37:09 host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10 SRC=203.0.113.36 "
        "DST=172.16.54.114 LEN=52 TOS=0x00 TTL=115 ID=15743 DF PROTO=TCP SPT=17805 DPT=445 SYN\n"
        "Jan  8 03:37:10 fw [RULE-1] IN=a OUT=b SRC=10.251.1.1 DST=10.251.1.2 LEN=32 PROTO=UDP "
        "SPT=9000 DPT=53 LEN=12 MARK=0\n"
        "Jan  8 03:37:11 fw DENY: IN=eth0 OUT= SRC=192.0.2.71 DST=192.0.2.83 LEN=88 PROTO=ICMP "
        "TYPE=3 CODE=3 [SRC=192.0.2.83 DST=192.168.173.191 LEN=60 PROTO=TCP SPT=1 DPT=2 ]\n"
        "Jan  8 03:37:12 gw dnsmasq[812]: query[TXT] mzxw6ytb.t.example.net from 10.2.0.5\n"
        "Jan  8 03:37:13 gw dnsmasq[812]: forwarded mzxw6ytb.t.example.net to 8.8.8.8\n"
        "Jan  8 03:37:14 host sshd[1]: Accepted publickey for root\n"
        "Jan  8 03:37:15 fw X: SRC=999.1.1.1 DST=10.0.0.1 LEN=1\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_SYSLOG, t, 13, &s);
    assert_int_equal(s.n_conn, 3);
    assert_int_equal(s.n_dns, 1);
    assert_int_equal(p->st.other, 2);
    assert_int_equal(p->st.malformed, 1);
    assert_string_equal(s.conn[0].client, "203.0.113.36");
    assert_int_equal(s.conn[0].sport, 445);
    assert_int_equal(s.conn[0].c_ip_bytes, 52);
    assert_string_equal(s.conn[0].proto, "tcp");
    assert_string_equal(s.conn[0].state, "DROP_INPUT:");
    assert_int_equal(s.conn[1].c_ip_bytes, 32); /* the IP length, not the UDP one after it */
    assert_string_equal(s.conn[1].state, "[RULE-1]");
    assert_string_equal(s.conn[2].server, "192.0.2.83"); /* not the quoted packet's */
    assert_int_equal(s.conn[2].sport, -1);
    assert_string_equal(s.dns[0].query, "mzxw6ytb.t.example.net");
    assert_string_equal(s.dns[0].qtype, "TXT");
    assert_string_equal(s.dns[0].client, "10.2.0.5");
    free(p);
}

static void syslog_fortigate_bind_unbound(void **state)
{
    (void)state;
    static struct sink s;
    const char *t =
        "Jan  5 10:00:00 fw1 date=2024-01-05 time=10:00:00 devname=\"FG100\" type=\"traffic\" "
        "subtype=\"forward\" srcip=10.1.2.3 srcport=51000 srcintf=\"lan\" dstip=198.51.100.20 "
        "dstport=443 proto=6 action=\"close\" service=\"HTTPS\" sessionid=4711 duration=120 "
        "sentbyte=52428800 rcvdbyte=20480 sentpkt=36000 rcvdpkt=9000\n"
        "Jan  5 10:00:01 ns1 named[811]: client @0x7f1c2c0a8 10.1.2.3#53000 (x.example.org): "
        "query: x.example.org IN TXT +E(0)K (10.1.0.53)\n"
        "Jan  5 10:00:02 ns1 named[811]: client 10.1.2.4#53001: query: y.example.org IN A + "
        "(10.1.0.53)\n"
        "Jan  5 10:00:03 r1 unbound: [1234:0] info: 10.1.2.5 z.example.net. AAAA IN\n"
        "Jan  5 10:00:04 fw1 type=\"traffic\" srcip=10.1.2.3 dstip=1.2.3.4 sentbyte=x1\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_SYSLOG, t, 17, &s);
    assert_int_equal(p->st.malformed, 1);
    assert_int_equal(s.n_conn, 1);
    const struct pt_logconn_rec *c = &s.conn[0];
    assert_string_equal(c->p.source, "fortigate");
    assert_string_equal(c->client, "10.1.2.3");
    assert_int_equal(c->cport, 51000);
    assert_string_equal(c->server, "198.51.100.20");
    assert_int_equal(c->sport, 443);
    assert_string_equal(c->proto, "tcp");
    assert_int_equal(c->c_ip_bytes, 52428800);
    assert_int_equal(c->s_ip_bytes, 20480);
    assert_int_equal(c->c_pkts, 36000);
    assert_int_equal(c->dur_us, 120000000);
    assert_string_equal(c->state, "close");
    assert_string_equal(c->service, "HTTPS");
    assert_string_equal(c->uid, "4711");
    assert_int_equal(s.n_dns, 3);
    assert_string_equal(s.dns[0].p.source, "bind");
    assert_string_equal(s.dns[0].client, "10.1.2.3");
    assert_int_equal(s.dns[0].cport, 53000);
    assert_string_equal(s.dns[0].query, "x.example.org");
    assert_string_equal(s.dns[0].qtype, "TXT");
    assert_string_equal(s.dns[0].server, "10.1.0.53");
    assert_string_equal(s.dns[1].client, "10.1.2.4");
    assert_string_equal(s.dns[1].qtype, "A");
    assert_string_equal(s.dns[2].p.source, "unbound");
    assert_string_equal(s.dns[2].client, "10.1.2.5");
    assert_string_equal(s.dns[2].query, "z.example.net");
    assert_string_equal(s.dns[2].qtype, "AAAA");
    free(p);
}

/* Cisco ASA: teardowns become connections with both directions in one count, oriented by their
 * Built message (or by port without one); denials are rows whose state says so; Built lines
 * and other message ids are other. */
static void syslog_cisco_asa(void **state)
{
    (void)state;
    static struct sink s;
    const char *t =
        "Jan  5 10:00:00 asa01 : %ASA-6-302013: Built outbound TCP connection 9 for "
        "outside:203.0.113.50/443 (203.0.113.50/443) to inside:10.2.0.5/53496 "
        "(198.51.100.1/53496)\n"
        "2024-01-05T10:05:00+00:00 asa01 : %ASA-6-302014: Teardown TCP connection 9 for "
        "outside:203.0.113.50/443 to inside:10.2.0.5/53496 duration 0:05:00 bytes 62914560 TCP "
        "FINs\n"
        "Jan  5 10:06:00 asa01 : %ASA-6-302013: Built inbound TCP connection 11 for "
        "outside:198.51.100.20/21647 (198.51.100.20/21647) to inside:10.2.0.9/22 "
        "(203.0.113.5/22)\n"
        "Jan  5 10:06:30 asa01 : %ASA-6-302014: Teardown TCP connection 11 for "
        "outside:198.51.100.20/21647 to inside:10.2.0.9/22 duration 0:00:30 bytes 968 TCP "
        "Reset-O\n"
        "Jan  5 10:07:01 asa01 : %FTD-6-302016: Teardown UDP connection 414128851 for "
        "outside:2001:db8::53/53 to inside:10.2.0.5/5353 duration 1:00:01 bytes 120\n"
        "Jan  5 10:08:00 asa01 : %ASA-4-106023: Deny tcp src outside:192.0.2.1/4444 dst "
        "inside:10.2.0.5/22 by access-group \"outside_access_in\" [0x0, 0x0]\n"
        "Jan  5 10:09:00 asa01 : %ASA-6-106100: access-list tcp_in denied tcp "
        "inside/10.2.0.7(51515) -> outside/203.0.113.9(443) hit-cnt 1 first hit [0x1, 0x0]\n"
        "Jan  5 10:09:01 asa01 : %ASA-6-106100: access-list inside_in permitted tcp "
        "inside/10.2.0.7(51516) -> outside/203.0.113.9(443) hit-cnt 1 first hit [0x1, 0x0]\n"
        "Jan  5 10:10:00 asa01 : %ASA-6-302014: Teardown TCP connection 78 for "
        "outside:203.0.113.60/443 to inside:10.2.0.6/50000 duration x bytes 1000 TCP FINs\n"
        "Jan  5 10:11:00 asa01 : %ASA-6-305011: Built dynamic TCP translation from "
        "inside:10.2.0.5/53496 to outside:198.51.100.1/53496\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_SYSLOG, t, 13, &s);
    assert_int_equal(p->st.lines, 10);
    assert_int_equal(p->st.malformed, 1);
    assert_int_equal(p->st.other, 4); /* two Built, a permit, a translation */
    assert_int_equal(s.n_conn, 5);
    const struct pt_logconn_rec *c = &s.conn[0];
    assert_string_equal(c->p.source, "asa");
    assert_string_equal(c->client, "10.2.0.5"); /* outbound: the `to` side began it */
    assert_int_equal(c->cport, 53496);
    assert_string_equal(c->server, "203.0.113.50");
    assert_int_equal(c->sport, 443);
    assert_string_equal(c->proto, "tcp");
    assert_int_equal(c->c_bytes, 62914560);
    assert_true(c->both_ways);
    assert_int_equal(c->s_bytes, -1);
    assert_int_equal(c->dur_us, 300000000);
    assert_int_equal(c->p.ts_us, 1704448800000000LL); /* logged at 10:05:00, 5 min long */
    assert_string_equal(c->uid, "9");
    assert_string_equal(c->state, "teardown");
    c = &s.conn[1];
    assert_string_equal(c->client, "198.51.100.20"); /* inbound: the `for` side */
    assert_int_equal(c->sport, 22);
    c = &s.conn[2]; /* no Built line: the lower port is the server's */
    assert_string_equal(c->proto, "udp");
    assert_string_equal(c->client, "10.2.0.5");
    assert_string_equal(c->server, "2001:db8::53");
    assert_int_equal(c->dur_us, 3601000000LL);
    c = &s.conn[3];
    assert_string_equal(c->client, "192.0.2.1");
    assert_int_equal(c->cport, 4444);
    assert_string_equal(c->server, "10.2.0.5");
    assert_string_equal(c->state, "deny");
    assert_false(c->both_ways);
    c = &s.conn[4];
    assert_string_equal(c->client, "10.2.0.7");
    assert_int_equal(c->cport, 51515);
    assert_string_equal(c->server, "203.0.113.9");
    assert_int_equal(c->sport, 443);
    assert_string_equal(c->state, "deny");
    free(p);
}

/* HAProxy's tcplog and httplog lines (the configuration manual's own examples), told apart by
 * their timers; its other messages are other lines. */
static void syslog_haproxy_tcp_and_http(void **state)
{
    (void)state;
    static struct sink s;
    const char *t =
        "Feb  6 12:12:56 localhost haproxy[14387]: 10.0.1.2:33313 [06/Feb/2009:12:12:51.443] "
        "fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0\n"
        "Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] "
        "http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "
        "\"GET /index.html?mrn=12345678 HTTP/1.1\"\n"
        "Feb  6 12:14:15 localhost haproxy[14389]: 2001:db8::7:33318 [06/Feb/2009:12:14:15.000] "
        "http-in~ static/srv2 10/0/30/-1/+109 404 120 - - ---- 1/1/1/1/0 0/0 \"GET /missing "
        "HTTP/1.1\"\n"
        "Feb  6 12:14:16 localhost haproxy[14389]: Proxy http-in started.\n"
        "Feb  6 12:14:17 localhost haproxy[14389]: 10.0.1.4:1 [06/Feb/2009:12:14:17.000] "
        "http-in static/srv2 x/0/30/69/109 200 1 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_SYSLOG, t, 11, &s);
    assert_int_equal(p->st.malformed, 1);
    assert_int_equal(p->st.other, 1);
    assert_int_equal(s.n_conn, 1);
    const struct pt_logconn_rec *c = &s.conn[0];
    assert_string_equal(c->p.source, "haproxy");
    assert_string_equal(c->client, "10.0.1.2");
    assert_int_equal(c->cport, 33313);
    assert_string_equal(c->server, "");
    assert_int_equal(c->s_bytes, 212);
    assert_int_equal(c->c_bytes, -1);
    assert_int_equal(c->dur_us, 5007000);
    assert_int_equal(c->p.ts_us, 1233922371443000LL); /* the accept date, not the syslog time */
    assert_string_equal(c->uid, "bck/srv1");
    assert_string_equal(c->state, "--");
    assert_int_equal(s.n_http, 2);
    const struct pt_loghttp_rec *h = &s.http[0];
    assert_string_equal(h->p.source, "haproxy");
    assert_string_equal(h->client, "10.0.1.2");
    assert_int_equal(h->cport, 33317);
    assert_string_equal(h->method, "GET");
    assert_string_equal(h->uri, "/index.html?mrn=12345678");
    assert_string_equal(h->host, "1wt.eu");
    assert_int_equal(h->status, 200);
    assert_int_equal(h->resp_bytes, 2750);
    assert_string_equal(h->uid, "static/srv1");
    assert_int_equal(h->p.ts_us, 1233922454655000LL);
    h = &s.http[1];
    assert_string_equal(h->client, "2001:db8::7");
    assert_int_equal(h->cport, 33318);
    assert_int_equal(h->status, 404);
    assert_string_equal(h->host, "");
    free(p);
}

static void squid_native_access_log(void **state)
{
    (void)state;
    static struct sink s;
    const char *t =
        "1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://www.google.com/x?y=1 - "
        "DIRECT/72.14.235.147 text/html\n"
        "1286536309.001  60000 192.168.0.224 TCP_TUNNEL/200 52428800 CONNECT mega.nz:443 alice "
        "HIER_DIRECT/31.216.145.5 -\n"
        "1286536309.5 12 192.168.0.224 NONE/400 0 GET error:invalid-request - HIER_NONE/- -\n"
        "not squid\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_SQUID, t, 5, &s);
    assert_int_equal(s.n_http, 3);
    assert_int_equal(p->st.malformed, 1);
    assert_int_equal(s.http[0].p.ts_us, 1286536308779000LL);
    assert_string_equal(s.http[0].client, "192.168.0.224");
    assert_string_equal(s.http[0].server, "72.14.235.147");
    assert_string_equal(s.http[0].host, "www.google.com");
    assert_string_equal(s.http[0].uri, "http://www.google.com/x?y=1");
    assert_int_equal(s.http[0].status, 200);
    assert_int_equal(s.http[0].resp_bytes, 411);
    assert_string_equal(s.http[1].method, "CONNECT");
    assert_string_equal(s.http[1].host, "mega.nz:443");
    assert_string_equal(s.http[1].user, "alice");
    assert_string_equal(s.http[1].server, "31.216.145.5");
    assert_string_equal(s.http[2].server, "");
    free(p);
}

static void elb_alb_classic_and_nlb(void **state)
{
    (void)state;
    static struct sink s;
    const char *t =
        "https 2020-01-11T16:55:20.356586Z app/production-web/jf29 192.168.1.10:44325 "
        "192.168.1.123:32869 0.013 0.164 0.000 200 200 391 107999 \"GET "
        "https://www.domain.name:443/chart?mrn=1234567 HTTP/1.1\" \"Mozilla/5.0 (X)\" "
        "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:x \"Root=1\" \"www.domain.name\"\n"
        "2015-05-13T23:39:43.945958Z my-lb 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 "
        "0.000057 200 200 0 29 \"GET http://www.example.com:80/ HTTP/1.1\" \"curl/7.38.0\" - -\n"
        "2021-05-13T23:39:45.945958Z my-lb 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 "
        "0.000041 - - 82 305 \"- - - \" \"-\" - -\n"
        "tls 2.0 2022-04-01T08:51:42 net/my-nlb/c6e7 g3d4 72.21.218.154:51341 "
        "172.100.100.185:443 5 2 98 246 - arn:aws:acm:x - ECDHE-RSA-AES128-SHA tlsv12 - x\n"
        "https 2020-01-11T16:55:20Z app/x/y notanaddress 1.2.3.4:1 0 0 0 200 200 1 2 \"GET / "
        "HTTP/1.1\" \"-\"\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_ELB, t, 9, &s);
    assert_int_equal(s.n_http, 2);
    assert_int_equal(s.n_conn, 2);
    assert_int_equal(p->st.malformed, 1);
    const struct pt_loghttp_rec *h = &s.http[0];
    assert_string_equal(h->client, "192.168.1.10");
    assert_int_equal(h->cport, 44325);
    assert_string_equal(h->server, "192.168.1.123");
    assert_int_equal(h->sport, 32869);
    assert_string_equal(h->method, "GET");
    assert_string_equal(h->host, "www.domain.name");
    assert_string_equal(h->uri, "/chart?mrn=1234567");
    assert_int_equal(h->status, 200);
    assert_int_equal(h->req_bytes, 391);
    assert_int_equal(h->resp_bytes, 107999);
    assert_string_equal(h->user_agent, "Mozilla/5.0 (X)");
    assert_int_equal(h->p.ts_us, 1578761720356586LL);
    assert_string_equal(s.http[1].host, "www.example.com"); /* Classic ELB: no type field */
    assert_int_equal(s.http[1].resp_bytes, 29);
    /* a Classic TCP listener's line and an NLB TLS line are connections */
    assert_string_equal(s.conn[0].client, "192.168.131.39");
    assert_string_equal(s.conn[0].server, "10.0.0.1");
    assert_int_equal(s.conn[0].c_bytes, 82);
    assert_int_equal(s.conn[0].s_bytes, 305);
    assert_int_equal(s.conn[1].sport, 443);
    assert_int_equal(s.conn[1].dur_us, 5000);
    assert_int_equal(s.conn[1].s_bytes, 246);
    free(p);
}

static void ftp_vsftpd_and_xferlog(void **state)
{
    (void)state;
    static struct sink s;
    const char *v =
        "Mon Jun  6 18:43:28 2016 [pid 2] CONNECT: Client \"192.168.1.9\"\n"
        "Mon Jun  6 18:43:32 2016 [pid 1] [jean] OK LOGIN: Client \"192.168.1.9\"\n"
        "Mon Jun  6 18:43:59 2016 [pid 3] [jean] OK UPLOAD: Client \"192.168.1.9\", "
        "\"/home/jean/a b.png\", 1884648 bytes, 41264.44Kbyte/sec\n"
        "Mon Jun  6 18:44:19 2016 [pid 3] [jean] FAIL DOWNLOAD: Client \"192.168.1.9\", "
        "\"/home/jean/x*\", 0.00Kbyte/sec\n"
        "Fri Jun 10 14:28:50 2016 [pid 3] [ftp] OK DELETE: Client \"::ffff:192.168.1.5\", "
        "\"/photos/x.jpg\"\n"
        "Mon Jun  6 18:44:20 2016 [pid 3] [jean] OK DOWNLOAD: Client \"192.168.1.9\"\n"
        "no time here\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_VSFTPD, v, 7, &s);
    assert_int_equal(s.n_xfer, 3);
    assert_int_equal(p->st.other, 2);
    assert_int_equal(p->st.malformed, 2);
    assert_string_equal(s.xfer[0].client, "192.168.1.9");
    assert_string_equal(s.xfer[0].user, "jean");
    assert_string_equal(s.xfer[0].direction, "upload");
    assert_string_equal(s.xfer[0].path, "/home/jean/a b.png");
    assert_int_equal(s.xfer[0].bytes, 1884648);
    assert_true(s.xfer[0].ok);
    assert_int_equal(s.xfer[0].p.ts_us, 1465238639000000LL); /* ctime, read as UTC */
    assert_string_equal(s.xfer[1].direction, "download");
    assert_false(s.xfer[1].ok);
    assert_int_equal(s.xfer[1].bytes, -1);
    assert_string_equal(s.xfer[2].direction, "delete");
    free(p);
    const char *x =
        "Mon Jun  6 18:43:59 2016 1 192.168.1.9 1884648 /home/jean/my file.png b _ i r jean ftp "
        "0 * c\n"
        "Tue Jun  7 09:00:00 2016 12 host.example 5000 /pub/out.csv a _ o a anonymous ftp 0 * i\n"
        "Tue Jun  7 09:00:00 2016 12 host.example 5000 /pub/out.csv a _ x a anonymous ftp 0 * i\n";
    p = parse_in(PT_LOGFMT_XFERLOG, x, 11, &s);
    assert_int_equal(s.n_xfer, 2);
    assert_int_equal(p->st.malformed, 1);
    assert_string_equal(s.xfer[0].path, "/home/jean/my file.png");
    assert_string_equal(s.xfer[0].direction, "upload");
    assert_string_equal(s.xfer[0].user, "jean");
    assert_int_equal(s.xfer[0].dur_us, 1000000);
    assert_true(s.xfer[0].ok);
    assert_string_equal(s.xfer[1].client, "host.example");
    assert_string_equal(s.xfer[1].direction, "download");
    assert_false(s.xfer[1].ok);
    free(p);
}

static void panos_traffic_and_windows_dns(void **state)
{
    (void)state;
    static struct sink s;
    const char *pan =
        "Jan  5 10:00:00 pa-fw 1,2024/01/05 10:00:00,012801000001,TRAFFIC,end,2305,2024/01/05 "
        "10:00:00,10.2.0.5,203.0.113.50,198.51.100.7,203.0.113.50,\"allow, web\",,,ssl,vsys1,"
        "trust,untrust,ethernet1/2,ethernet1/1,fwd,2024/01/05 10:00:00,48213,1,51515,443,31515,"
        "443,0x400053,tcp,allow,52430000,52428800,1200,3500,2024/01/05 09:58:00,120,any,0,"
        "7000001,0x0,10.0.0.0-10.255.255.255,United States,0,2000,1500,tcp-fin\n"
        "1,2024/01/05 10:01:00,012801000001,THREAT,url,2305,2024/01/05 10:01:00,10.2.0.5\n"
        "1,2024/01/05 10:02:00,012801000001,TRAFFIC,end,2305,2024/01/05 10:02:00,10.2.0.9,"
        "not-an-address,0.0.0.0,0.0.0.0,r,,,x,vsys1,t,u,e1,e2,fwd,x,0,1,5,22,0,0,0x0,tcp,allow,"
        "1,1,0,1,2024/01/05 10:02:00,0,any\n"
        "something else\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_PANOS, pan, 13, &s);
    assert_int_equal(s.n_conn, 1);
    assert_int_equal(p->st.other, 1);
    assert_int_equal(p->st.malformed, 2);
    const struct pt_logconn_rec *c = &s.conn[0];
    assert_string_equal(c->client, "10.2.0.5");
    assert_string_equal(c->server, "203.0.113.50");
    assert_int_equal(c->cport, 51515);
    assert_int_equal(c->sport, 443);
    assert_int_equal(c->c_ip_bytes, 52428800);
    assert_int_equal(c->s_ip_bytes, 1200);
    assert_int_equal(c->c_pkts, 2000);
    assert_int_equal(c->s_pkts, 1500);
    assert_int_equal(c->dur_us, 120000000);
    assert_int_equal(c->p.ts_us, 1704448680000000LL); /* the session's start time */
    assert_string_equal(c->state, "end allow");
    assert_string_equal(c->service, "ssl");
    assert_string_equal(c->proto, "tcp");
    free(p);
    const char *dns =
        "DNS Server log file creation at 1/5/2024 9:59:58 AM\r\n"
        "\r\n"
        "1/5/2024 10:00:01 AM 0A4C PACKET  000000C9B5F2B5A0 UDP Rcv 10.2.0.5        a1b2   Q "
        "[0001   D   NOERROR] TXT    (5)abcde(1)x(7)example(3)net(0)\r\n"
        "1/5/2024 10:00:01 AM 0A4C PACKET  000000C9B5F2B5B0 UDP Snd 8.8.8.8         c3d4   Q "
        "[0001   D   NOERROR] TXT    (5)abcde(1)x(7)example(3)net(0)\r\n"
        "1/5/2024 10:00:01 AM 0A4C PACKET  000000C9B5F2B5A0 UDP Snd 10.2.0.5        a1b2 R Q "
        "[8081   DR  NOERROR] TXT    (5)abcde(1)x(7)example(3)net(0)\r\n"
        "1/5/2024 1:00:02 PM 0A4C PACKET  000000C9B5F2B5C0 TCP Rcv fe80::1         0001   Q "
        "[0001   D   NOERROR] A      (3)www(7)example(3)org(0)\r\n"
        "1/5/2024 1:00:03 PM 0A4C PACKET  000000C9B5F2B5C0 UDP Rcv nowhere         0001   Q "
        "[0001   D   NOERROR] A      (3)www(7)example(3)org(0)\r\n";
    p = parse_in(PT_LOGFMT_WINDNS, dns, 17, &s);
    assert_int_equal(s.n_dns, 2);
    assert_int_equal(p->st.other, 3);
    assert_int_equal(p->st.blank, 1);
    assert_int_equal(p->st.malformed, 1);
    assert_string_equal(s.dns[0].client, "10.2.0.5");
    assert_string_equal(s.dns[0].query, "abcde.x.example.net");
    assert_string_equal(s.dns[0].qtype, "TXT");
    assert_string_equal(s.dns[0].proto, "udp");
    assert_int_equal(s.dns[0].p.ts_us, 1704448801000000LL);
    assert_string_equal(s.dns[1].proto, "tcp");
    assert_string_equal(s.dns[1].query, "www.example.org");
    assert_int_equal(s.dns[1].p.ts_us, 1704459602000000LL); /* 1 PM is 13:00 */
    free(p);
}

static void flow_csv_nfdump_and_silk(void **state)
{
    (void)state;
    static struct sink s;
    const char *nf =
        "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out\n"
        "2024-01-05 10:00:00,2024-01-05 10:02:00,120.000,10.1.2.3,198.51.100.20,51000,443,TCP,"
        ".AP.SF,0,0,36000,52428800,0,0,1,2\n"
        "2024-01-05 10:00:05,2024-01-05 10:00:05,0.000,10.1.2.3,10.1.0.53,53000,53,UDP,......,0,0,"
        "1,70,0,0,1,2\n"
        "2024-01-05 10:00:06,2024-01-05 10:00:06,0.000,10.1.2.3,bad,1,2,TCP,......,0,0,1,70,0,0,1,2\n"
        "Summary\n"
        "flows,bytes,packets,avg_bps,avg_pps,avg_bpp\n"
        "3,52428940,36002,0,0,0\n";
    struct pt_logparse *p = parse_in(PT_LOGFMT_FLOWCSV, nf, 23, &s);
    assert_int_equal(s.n_conn, 2);
    assert_int_equal(p->st.malformed, 1);
    assert_int_equal(p->st.headers, 1);
    assert_int_equal(p->st.other, 3);
    const struct pt_logconn_rec *c = &s.conn[0];
    assert_string_equal(c->p.source, "flow-csv");
    assert_int_equal(c->c_ip_bytes, 52428800);
    assert_int_equal(c->c_pkts, 36000);
    assert_int_equal(c->s_ip_bytes, 0);
    assert_int_equal(c->dur_us, 120000000);
    assert_int_equal(c->p.ts_us, 1704448800000000LL);
    assert_string_equal(c->proto, "tcp");
    free(p);
    const char *silk =
        "sIP,dIP,sPort,dPort,protocol,packets,bytes,flags,sTime,eTime\n"
        "10.1.2.3,198.51.100.20,51000,443,6,36000,52428800,FSPA,1704448800.000,1704448920.000\n";
    p = parse_in(PT_LOGFMT_FLOWCSV, silk, 1000, &s);
    assert_int_equal(s.n_conn, 1);
    assert_int_equal(s.conn[0].c_ip_bytes, 52428800);
    assert_string_equal(s.conn[0].proto, "tcp");
    assert_int_equal(s.conn[0].s_ip_bytes, -1);
    assert_int_equal(s.conn[0].p.ts_us, 1704448800000000LL);
    assert_int_equal(s.conn[0].dur_us, 120000000);
    free(p);
    p = parse_in(PT_LOGFMT_FLOWCSV, "a,b,c\n1,2,3\n", 1000, &s);
    assert_int_equal(p->st.malformed, 2); /* no usable header: every line says so */
    free(p);
}

/* ---- limits ---- */

static void overlong_and_nul_lines_are_malformed(void **state)
{
    (void)state;
    static struct sink s;
    size_t n = PT_LOG_LINE_MAX + 100;
    char *t = malloc(n + 64);
    memset(t, 'a', n);
    memcpy(t + n, "\n\n", 3);
    struct pt_logparse *p = parse_in(PT_LOGFMT_WEB, t, 4096, &s);
    assert_int_equal(p->st.malformed, 1);
    assert_int_equal(p->st.blank, 1);
    assert_non_null(strstr(s.last_anom, "longer than 64 KiB"));
    free(p);
    /* a NUL inside a line */
    p = calloc(1, sizeof *p);
    pt_logparse_init(p, PT_LOGFMT_ZEEK, 1, 0, on_rec, on_anom, &s);
    pt_logparse_feed(p, (const uint8_t *)"#fields\ta\nx\0y\n", 14);
    pt_logparse_end(p);
    assert_int_equal(p->st.malformed, 1);
    free(p);
    free(t);
}

static void anomalies_are_capped_with_a_summary(void **state)
{
    (void)state;
    static struct sink s;
    char *t = malloc(300 * 4 + 1);
    for (int i = 0; i < 300; i++) {
        memcpy(t + 4 * i, "bad\n", 4);
    }
    t[300 * 4] = '\0';
    struct pt_logparse *p = parse_in(PT_LOGFMT_WEB, t, 1000, &s);
    assert_int_equal(p->st.malformed, 300);
    assert_int_equal(s.n_anom, PT_LOG_ANOMALY_MAX + 1);
    assert_non_null(strstr(s.last_anom, "300 malformed lines in all"));
    free(p);
    free(t);
}

static void every_format_every_line_cut_at_every_offset(void **state)
{
    (void)state;
    static struct sink s;
    const char *lines[] = {
        "1672843056.913119\tCXHB1\t10.136.0.18\t55548\t203.0.113.9\t443\ttcp\thttp,ssl\t0.084044\t"
        "1030\t20275\tSF\t18\t1974\t14\t21011",
        "{\"ts\": 1517422326.5, \"id.orig_h\": \"10.55.100.100\", \"id.orig_p\": 1, \"id.resp_h\": "
        "\"10.0.0.1\", \"id.resp_p\": 80, \"conn_state\": \"SF\", \"answers\": [\"a\"]}",
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"flow\",\"src_ip\":\"10.0.0.1\","
        "\"src_port\":5,\"dest_ip\":\"10.0.0.2\",\"dest_port\":6,\"flow\":{\"bytes_toserver\":1}}",
        "site:443 10.0.0.1 - - [13/Jan/2016:19:31:16 +0000] \"GET /a HTTP/1.1\" 200 494 \"-\" \"x\"",
        "2005-04-11 08:05:57 DROP UDP 123.45.78.90 123.156.78.255 137 137 78",
        "Jan  8 03:37:09 h kernel: X: IN=eth0 SRC=203.0.113.36 DST=172.16.54.114 LEN=52 PROTO=TCP "
        "SPT=17805 DPT=445",
        "1286536309.001  60000 192.168.0.224 TCP_TUNNEL/200 52428800 CONNECT mega.nz:443 alice "
        "HIER_DIRECT/31.216.145.5 -",
        "2024-01-05 10:00:00,2024-01-05 10:02:00,10.1.2.3,198.51.100.20,51000,443,6,52428800",
        "h2 2020-01-11T16:55:32.115600Z app/p/j 192.168.1.10:55753 192.168.1.123:32869 0.010 "
        "0.004 0.000 302 302 32 596 \"GET https://www.domain.name:443/b.png HTTP/2.0\" \"M\"",
        "Mon Jun  6 18:43:59 2016 [pid 3] [jean] OK UPLOAD: Client \"192.168.1.9\", "
        "\"/home/jean/t.png\", 1884648 bytes, 41264.44Kbyte/sec",
        "Mon Jun  6 18:43:59 2016 1 192.168.1.9 1884648 /home/jean/t.png b _ i r jean ftp 0 * c",
        "1,2024/01/05 10:00:00,0128,TRAFFIC,end,2305,2024/01/05 10:00:00,10.2.0.5,203.0.113.50,"
        "0.0.0.0,0.0.0.0,r,,,ssl,vsys1,t,u,e1,e2,fwd,x,48213,1,51515,443,0,0,0x0,tcp,allow,10,6,4,"
        "2,2024/01/05 09:58:00,120",
        "1/5/2024 10:00:01 AM 0A4C PACKET  000000C9B5F2B5A0 UDP Rcv 10.2.0.5        a1b2   Q "
        "[0001   D   NOERROR] TXT    (5)abcde(1)x(7)example(3)net(0)",
        "Jan  5 10:05:00 asa01 : %ASA-6-302014: Teardown TCP connection 9 for "
        "outside:203.0.113.50/443 to inside:10.2.0.5/53496 duration 0:05:00 bytes 62914560 TCP",
        "Jan  5 10:09:00 asa01 : %ASA-6-106100: access-list tcp_in denied tcp "
        "inside/10.2.0.7(51515) -> outside/203.0.113.9(443) hit-cnt 1 first hit [0x1, 0x0]",
        "Jan  5 10:08:00 asa01 : %ASA-4-106023: Deny icmp src outside:192.0.2.1 dst "
        "inside:10.2.0.5 (type 8, code 0) by access-group \"outside_access_in\" [0x0, 0x0]",
        "Feb  6 12:12:56 localhost haproxy[14387]: 10.0.1.2:33313 [06/Feb/2009:12:12:51.443] "
        "fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0",
        "Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] "
        "http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "
        "\"GET /index.html HTTP/1.1\"",
        "Nov 14 22:13:22 gw dnsmasq[812]: query[TXT] mzxw6ytb.t.example.net from 10.2.0.5",
        "Nov 14 22:13:24 fw1 date=2023-11-14 time=22:13:24 type=\"traffic\" srcip=10.2.0.3 "
        "srcport=51000 dstip=198.51.100.20 dstport=443 proto=6 action=\"close\" sentbyte=5 "
        "rcvdbyte=20480 duration=120",
        "Nov 14 22:13:25 ns1 named[811]: client @0x7f1c2c0a8 10.2.0.3#53000 (x.example.org): "
        "query: x.example.org IN TXT +E(0)K (10.2.0.53)",
        "Nov 14 22:13:26 r1 unbound: [1234:0] info: 10.2.0.5 z.example.net. AAAA IN"};
    const enum pt_logfmt fmts[] = {PT_LOGFMT_ZEEK, PT_LOGFMT_ZEEK_JSON, PT_LOGFMT_EVE,
                                   PT_LOGFMT_WEB, PT_LOGFMT_W3C, PT_LOGFMT_SYSLOG,
                                   PT_LOGFMT_SQUID, PT_LOGFMT_FLOWCSV, PT_LOGFMT_ELB,
                                   PT_LOGFMT_VSFTPD, PT_LOGFMT_XFERLOG, PT_LOGFMT_PANOS,
                                   PT_LOGFMT_WINDNS, PT_LOGFMT_SYSLOG, PT_LOGFMT_SYSLOG,
                                   PT_LOGFMT_SYSLOG, PT_LOGFMT_SYSLOG, PT_LOGFMT_SYSLOG,
                                   /* dnsmasq, FortiGate, BIND, Unbound */
                                   PT_LOGFMT_SYSLOG, PT_LOGFMT_SYSLOG, PT_LOGFMT_SYSLOG,
                                   PT_LOGFMT_SYSLOG};
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        size_t n = strlen(lines[k]);
        for (size_t cut = 0; cut <= n; cut++) {
            struct pt_logparse *p = calloc(1, sizeof *p);
            memset(&s, 0, sizeof s);
            pt_logparse_init(p, fmts[k], 1, 0, on_rec, on_anom, &s);
            if (k == 7) {
                const char *hdr = "ts,te,sa,da,sp,dp,pr,ibyt\n";
                pt_logparse_feed(p, (const uint8_t *)hdr, strlen(hdr));
            }
            if (k == 4) {
                const char *hdr = "#Fields: date time action protocol src-ip dst-ip src-port "
                                  "dst-port size\n";
                pt_logparse_feed(p, (const uint8_t *)hdr, strlen(hdr));
            }
            if (k == 0) {
                const char *hdr = "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t"
                                  "proto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\t"
                                  "orig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\n";
                pt_logparse_feed(p, (const uint8_t *)hdr, strlen(hdr));
            }
            uint8_t *copy = malloc(cut ? cut : 1); /* a read past the cut trips ASan */
            memcpy(copy, lines[k], cut);
            pt_logparse_feed(p, copy, cut);
            pt_logparse_end(p);
            const struct pt_logstats *st = &p->st;
            assert_int_equal(st->lines, st->records + st->other + st->headers + st->blank +
                                            st->malformed);
            if (cut == n) {
                assert_int_equal(st->records, 1);
            }
            free(copy);
            free(p);
        }
    }
}

static void formats_recognised_by_content(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"2024-01-05T10:05:00+00:00 asa01 : %ASA-6-302014: Teardown TCP connection 9 for "
         "outside:203.0.113.50/443 to inside:10.2.0.5/53496 duration 0:05:00 bytes 62914560\n",
         "log:syslog"},
        {"2024-01-05T10:05:00+00:00 app01 worker: job 9 done in 0:05:00\n", NULL},
        {"1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://x/ - DIRECT/1.2.3.4 -\n"
         "1286536309.001  60000 192.168.0.224 TCP_TUNNEL/200 5 CONNECT m:443 a HIER_DIRECT/1.2.3.5 -\n",
         "log:squid"},
        {"ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt\n2024-01-05 10:00:00,x\n", "log:flow-csv"},
        {"sIP,dIP,sPort,dPort,protocol,packets,bytes\n1,2,3\n", "log:flow-csv"},
        {"#separator \\x09\n#fields\tts\n", "log:zeek"},
        {"#Software: Microsoft Windows Firewall\n#Fields: date time\n", "log:w3c"},
        {"Jan  5 10:00:00 fw1 type=\"traffic\" srcip=1.2.3.4 dstip=5.6.7.8\n", "log:syslog"},
        {"10.0.0.1 - - [13/Jan/2016:19:31:16 +0000] \"GET / HTTP/1.1\" 200 4\n", "log:web-access"},
        {"https 2020-01-11T16:55:20.356586Z app/p/j 192.168.1.10:44325 1.2.3.4:80 0 0 0 200 200 "
         "1 2 \"GET / HTTP/1.1\" \"-\"\n", "log:elb"},
        {"tls 2.0 2022-04-01T08:51:42 net/n/c g3 72.21.218.154:51341 172.100.100.185:443 5 2 98 "
         "246 -\n", "log:elb"},
        {"Mon Jun  6 18:43:28 2016 [pid 2] CONNECT: Client \"192.168.1.9\"\n", "log:vsftpd"},
        {"Mon Jun  6 18:43:59 2016 1 192.168.1.9 1884648 /a.png b _ i r jean ftp 0 * c\n",
         "log:xferlog"},
        {"1,2024/01/05 10:00:00,012801000001,TRAFFIC,end,2305,2024/01/05 10:00:00,10.2.0.5\n",
         "log:panos"},
        {"DNS Server log file creation at 1/5/2024 9:59:58 AM\n\nMessage logging key\n",
         "log:windns"},
        {"1286536308 is a number, not a squid line\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = pt_sniff_evidence((const uint8_t *)cases[i].text, strlen(cases[i].text));
        if (cases[i].want == NULL) {
            assert_null(got);
        } else {
            assert_non_null(got);
            assert_string_equal(got, cases[i].want);
        }
    }
}

static void format_names(void **state)
{
    (void)state;
    assert_int_equal(pt_logfmt_of("log:zeek"), PT_LOGFMT_ZEEK);
    assert_int_equal(pt_logfmt_of("log:zeek-json"), PT_LOGFMT_ZEEK_JSON);
    assert_int_equal(pt_logfmt_of("log:suricata-eve"), PT_LOGFMT_EVE);
    assert_int_equal(pt_logfmt_of("log:web-access"), PT_LOGFMT_WEB);
    assert_int_equal(pt_logfmt_of("log:syslog"), PT_LOGFMT_SYSLOG);
    assert_int_equal(pt_logfmt_of("log:w3c"), PT_LOGFMT_W3C);
    assert_int_equal(pt_logfmt_of("log:squid"), PT_LOGFMT_SQUID);
    assert_int_equal(pt_logfmt_of("log:flow-csv"), PT_LOGFMT_FLOWCSV);
    assert_int_equal(pt_logfmt_of("log:elb"), PT_LOGFMT_ELB);
    assert_int_equal(pt_logfmt_of("log:vsftpd"), PT_LOGFMT_VSFTPD);
    assert_int_equal(pt_logfmt_of("log:xferlog"), PT_LOGFMT_XFERLOG);
    assert_string_equal(pt_logfmt_name(PT_LOGFMT_XFERLOG), "xferlog");
    assert_int_equal(pt_logfmt_of("log:panos"), PT_LOGFMT_PANOS);
    assert_int_equal(pt_logfmt_of("log:windns"), PT_LOGFMT_WINDNS);
    assert_int_equal(pt_logfmt_of("log:cef"), PT_LOGFMT_NONE);
    assert_int_equal(pt_logfmt_of(NULL), PT_LOGFMT_NONE);
    assert_string_equal(pt_logfmt_name(PT_LOGFMT_EVE), "suricata-eve");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_paths_escapes_and_arrays),
        cmocka_unit_test(json_rejects_what_is_not_one_object),
        cmocka_unit_test(json_cut_at_every_offset),
        cmocka_unit_test(zeek_tsv_conn_fields_and_accounting),
        cmocka_unit_test(zeek_same_rows_in_any_pieces),
        cmocka_unit_test(zeek_dns_http_and_other_paths),
        cmocka_unit_test(zeek_json_kinds_by_path_or_fields),
        cmocka_unit_test(eve_flow_netflow_dns_http),
        cmocka_unit_test(web_common_combined_vhost_and_forwarded),
        cmocka_unit_test(w3c_iis_and_windows_firewall),
        cmocka_unit_test(syslog_netfilter_and_dnsmasq),
        cmocka_unit_test(syslog_fortigate_bind_unbound),
        cmocka_unit_test(syslog_cisco_asa),
        cmocka_unit_test(syslog_haproxy_tcp_and_http),
        cmocka_unit_test(squid_native_access_log),
        cmocka_unit_test(elb_alb_classic_and_nlb),
        cmocka_unit_test(ftp_vsftpd_and_xferlog),
        cmocka_unit_test(panos_traffic_and_windows_dns),
        cmocka_unit_test(flow_csv_nfdump_and_silk),
        cmocka_unit_test(overlong_and_nul_lines_are_malformed),
        cmocka_unit_test(anomalies_are_capped_with_a_summary),
        cmocka_unit_test(every_format_every_line_cut_at_every_offset),
        cmocka_unit_test(formats_recognised_by_content),
        cmocka_unit_test(format_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
