/* test_evtx.c - the EVTX reader's lines into rows (ingest/evtx.c) and the bounded XML tag
 * scanner under them (ingest/xmltag.c): fields read by name whatever their order, entities
 * decoded, a 5156's direction deciding which end is the client, the script text counted and
 * not kept, every line accounted for, and a line that is none of the reader's kinds
 * malformed. The lines are written as libevtx renders a record (evtxexport -f xml's form). */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/evtx.h"
#include "ingest/xmltag.h"

#define MAXREC 8

struct sink {
    size_t n_win, n_conn, n_anom;
    struct pt_logwinevt_rec win[MAXREC];
    struct pt_logconn_rec conn[MAXREC];
    enum pt_anom last_kind;
    char last_anom[400];
};

static void on_rec(void *arg, enum pt_logrec_kind k, const void *rec)
{
    struct sink *s = arg;
    if (k == PT_LOGREC_WINEVT && s->n_win < MAXREC) {
        s->win[s->n_win++] = *(const struct pt_logwinevt_rec *)rec;
    } else if (k == PT_LOGREC_CONN && s->n_conn < MAXREC) {
        s->conn[s->n_conn++] = *(const struct pt_logconn_rec *)rec;
    }
}

static void on_anom(void *arg, uint64_t off, enum pt_anom kind, const char *detail)
{
    struct sink *s = arg;
    (void)off;
    s->n_anom++;
    s->last_kind = kind;
    snprintf(s->last_anom, sizeof s->last_anom, "%s", detail);
}

static struct pt_logparse *parse(const char *text, struct sink *s)
{
    struct pt_logparse *p = calloc(1, sizeof *p);
    assert_non_null(p);
    memset(s, 0, sizeof *s);
    pt_logparse_init(p, PT_LOGFMT_EVTX, 3, 0, on_rec, on_anom, s);
    pt_logparse_feed(p, (const uint8_t *)text, strlen(text));
    pt_logparse_end(p);
    pt_evtx_end(p);
    const struct pt_logstats *t = &p->st;
    assert_int_equal(t->lines, t->records + t->other + t->headers + t->blank + t->malformed);
    return p;
}

#define EV_HEAD "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">&#10;" \
                "  <System>&#10;    <Provider Name=\"Microsoft-Windows-Security-Auditing\"/>" \
                "&#10;    <Channel>Security</Channel>&#10;    <Computer>WS1</Computer>&#10;" \
                "  </System>&#10;  <EventData>&#10;"
#define EV_TAIL "  </EventData>&#10;</Event>"

static void logon_fields_by_name(void **state)
{
    (void)state;
    struct sink s;
    /* fields in another order than Windows writes them; an IPv4-mapped address */
    const char *text =
        "H\t3.1\t1\t0\t0\nD\t1\t1\n"
        "R\t0\t4096\t77\t133491312000000000\t4624\t" EV_HEAD
        "<Data Name=\"IpPort\">50211</Data><Data Name=\"LogonType\">3</Data>"
        "<Data Name=\"TargetDomainName\">HOSP</Data><Data Name=\"TargetUserName\">j&amp;doe"
        "</Data><Data Name=\"IpAddress\">::ffff:10.2.0.9</Data>"
        "<Data Name=\"SubjectUserName\">-</Data>" EV_TAIL "\nZ\t1\t0\n";
    struct pt_logparse *p = parse(text, &s);
    assert_int_equal(s.n_win, 1);
    const struct pt_logwinevt_rec *w = &s.win[0];
    assert_string_equal(w->kind, "logon");
    assert_int_equal(w->p.line, 77);
    assert_int_equal(w->p.offset, 4096);
    assert_int_equal(w->p.ts_us, (133491312000000000LL - 116444736000000000LL) / 10);
    assert_string_equal(w->target_user, "HOSP\\j&doe");
    assert_string_equal(w->subject_user, "");
    assert_string_equal(w->client, "10.2.0.9");
    assert_int_equal(w->cport, 50211);
    assert_int_equal(w->logon_type, 3);
    assert_string_equal(w->channel, "Security");
    assert_string_equal(w->computer, "WS1");
    assert_int_equal(p->st.headers, 3);
    assert_int_equal(s.n_anom, 0);
    free(p);
}

/* The logon fields the logon heuristics weigh (issue 14): workstation, logon id (the new
 * session's for 4624, the actor's for the others), authentication package; "-" is none; a
 * 4648's IpAddress is its target's address. */
static void logon_session_fields(void **state)
{
    (void)state;
    struct sink s;
    const char *text =
        "R\t0\t4096\t20\t133491312000000000\t4624\t" EV_HEAD
        "<Data Name=\"SubjectLogonId\">0x3e7</Data><Data Name=\"TargetUserName\">admin</Data>"
        "<Data Name=\"TargetDomainName\">HOSP</Data><Data Name=\"TargetLogonId\">0x8d2f1a</Data>"
        "<Data Name=\"LogonType\">10</Data><Data Name=\"LogonProcessName\">User32 </Data>"
        "<Data Name=\"AuthenticationPackageName\">Negotiate</Data>"
        "<Data Name=\"WorkstationName\">KALI</Data><Data Name=\"IpAddress\">203.0.113.9</Data>"
        "<Data Name=\"IpPort\">0</Data>" EV_TAIL "\n"
        "R\t1\t4600\t21\t133491312000000000\t4625\t" EV_HEAD
        "<Data Name=\"TargetUserName\">admin</Data><Data Name=\"LogonType\">3</Data>"
        "<Data Name=\"AuthenticationPackageName\">NTLM</Data>"
        "<Data Name=\"WorkstationName\">-</Data><Data Name=\"IpAddress\">-</Data>"
        "<Data Name=\"IpPort\">-</Data>" EV_TAIL "\n"
        "R\t2\t5000\t22\t133491312000000000\t4648\t" EV_HEAD
        "<Data Name=\"SubjectUserName\">jdoe</Data><Data Name=\"SubjectDomainName\">HOSP</Data>"
        "<Data Name=\"SubjectLogonId\">0x1c3f</Data><Data Name=\"TargetUserName\">svc</Data>"
        "<Data Name=\"TargetServerName\">fs01</Data><Data Name=\"IpAddress\">10.2.0.20</Data>"
        "<Data Name=\"IpPort\">445</Data>" EV_TAIL "\n"
        "R\t3\t5400\t23\t133491312000000000\t4663\t" EV_HEAD
        "<Data Name=\"SubjectUserName\">jdoe</Data><Data Name=\"SubjectLogonId\">0x1c3f</Data>"
        "<Data Name=\"ObjectName\">C:\\Exports\\patients_export.csv</Data>"
        "<Data Name=\"AccessMask\">0x1</Data>"
        "<Data Name=\"ProcessName\">C:\\Windows\\explorer.exe</Data>" EV_TAIL "\n";
    struct pt_logparse *p = parse(text, &s);
    assert_int_equal(s.n_win, 4);
    const struct pt_logwinevt_rec *w = s.win;
    assert_string_equal(w[0].target_user, "HOSP\\admin");
    assert_int_equal(w[0].logon_type, 10);
    assert_string_equal(w[0].workstation, "KALI");
    assert_string_equal(w[0].logon_id, "0x8d2f1a"); /* the new session, not the subject's */
    assert_string_equal(w[0].auth_package, "Negotiate");
    assert_string_equal(w[0].client, "203.0.113.9");
    assert_int_equal(w[0].cport, -1); /* port 0: none */
    assert_string_equal(w[1].kind, "logon_failed");
    assert_string_equal(w[1].workstation, "");
    assert_string_equal(w[1].client, "");
    assert_string_equal(w[1].logon_id, "");
    assert_string_equal(w[1].auth_package, "NTLM");
    assert_string_equal(w[2].kind, "explicit_logon");
    assert_string_equal(w[2].subject_user, "HOSP\\jdoe");
    assert_string_equal(w[2].target_server, "fs01");
    assert_string_equal(w[2].client, "10.2.0.20");
    assert_int_equal(w[2].cport, 445);
    assert_string_equal(w[2].logon_id, "0x1c3f");
    assert_string_equal(w[3].object, "C:\\Exports\\patients_export.csv");
    assert_string_equal(w[3].access, "0x1");
    assert_string_equal(w[3].process, "C:\\Windows\\explorer.exe");
    assert_string_equal(w[3].logon_id, "0x1c3f");
    assert_int_equal(w[3].p.line, 23);
    assert_int_equal(s.n_anom, 0);
    free(p);
}

/* Kerberos on a domain controller (Microsoft's event documentation, fields as its XML gives
 * them): 4771 pre-authentication failed (TargetUserName without a domain, ServiceName,
 * IpAddress IPv4-mapped, IpPort, Status 0x18 bad password), 4768 a TGT request (Status 0x0
 * granted; a failure 0x6 unknown name written with leading zeros), 4769 a service ticket
 * (TargetUserName already user@REALM: no domain put before it). */
static void kerberos_events(void **state)
{
    (void)state;
    struct sink s;
    const char *text =
        "R\t0\t4096\t30\t133491312000000000\t4771\t" EV_HEAD
        "<Data Name=\"TargetUserName\">dadmin</Data><Data Name=\"TargetSid\">S-1-5-21-1-2-3-1104"
        "</Data><Data Name=\"ServiceName\">krbtgt/CONTOSO.LOCAL</Data>"
        "<Data Name=\"TicketOptions\">0x40810010</Data><Data Name=\"Status\">0x18</Data>"
        "<Data Name=\"PreAuthType\">2</Data><Data Name=\"IpAddress\">::ffff:10.0.0.12</Data>"
        "<Data Name=\"IpPort\">49254</Data><Data Name=\"CertIssuerName\"/>" EV_TAIL "\n"
        "R\t1\t4600\t31\t133491312000000000\t4768\t" EV_HEAD
        "<Data Name=\"TargetUserName\">dadmin</Data><Data Name=\"TargetDomainName\">CONTOSO.LOCAL"
        "</Data><Data Name=\"ServiceName\">krbtgt</Data><Data Name=\"Status\">0x0</Data>"
        "<Data Name=\"TicketEncryptionType\">0x12</Data><Data Name=\"IpAddress\">::ffff:10.0.0.12"
        "</Data><Data Name=\"IpPort\">49273</Data>" EV_TAIL "\n"
        "R\t2\t5000\t32\t133491312000000000\t4768\t" EV_HEAD
        "<Data Name=\"TargetUserName\">nobody</Data><Data Name=\"TargetDomainName\">CONTOSO"
        "</Data><Data Name=\"ServiceName\">krbtgt/CONTOSO</Data><Data Name=\"Status\">0X00000006"
        "</Data><Data Name=\"IpAddress\">10.0.0.13</Data><Data Name=\"IpPort\">0</Data>" EV_TAIL
        "\n"
        "R\t3\t5400\t33\t133491312000000000\t4769\t" EV_HEAD
        "<Data Name=\"TargetUserName\">dadmin@CONTOSO.LOCAL</Data>"
        "<Data Name=\"TargetDomainName\">CONTOSO.LOCAL</Data><Data Name=\"ServiceName\">WIN2008R2$"
        "</Data><Data Name=\"Status\">0x0</Data><Data Name=\"IpAddress\">::1</Data>"
        "<Data Name=\"IpPort\">0</Data>" EV_TAIL "\n";
    struct pt_logparse *p = parse(text, &s);
    assert_int_equal(s.n_win, 4);
    assert_int_equal(s.n_anom, 0);
    assert_int_equal(p->st.other, 0);
    const struct pt_logwinevt_rec *w = s.win;
    assert_string_equal(w[0].kind, "kerberos_failed");
    assert_int_equal(w[0].event_id, 4771);
    assert_string_equal(w[0].target_user, "dadmin");
    assert_string_equal(w[0].target_server, "krbtgt/CONTOSO.LOCAL");
    assert_string_equal(w[0].client, "10.0.0.12");
    assert_int_equal(w[0].cport, 49254);
    assert_string_equal(w[0].access, "0x18");
    assert_string_equal(w[1].kind, "kerberos_tgt");
    assert_string_equal(w[1].target_user, "CONTOSO.LOCAL\\dadmin");
    assert_string_equal(w[1].access, "0x0");
    assert_string_equal(w[1].target_server, "krbtgt");
    assert_string_equal(w[2].access, "0x6");
    assert_string_equal(w[2].client, "10.0.0.13");
    assert_int_equal(w[2].cport, -1);
    assert_string_equal(w[3].kind, "kerberos_tgs");
    assert_string_equal(w[3].target_user, "dadmin@CONTOSO.LOCAL");
    assert_string_equal(w[3].target_server, "WIN2008R2$");
    assert_string_equal(w[3].client, "::1");
    free(p);
}

/* TicketEncryptionType of 4768 and 4769 (Microsoft's event documentation: 0x1 DES-CBC-CRC,
 * 0x3 DES-CBC-MD5, 0x11/0x12 AES, 0x17 RC4-HMAC, 0xFFFFFFFF a failure's) read by name,
 * written as Status is (0x, lower-case hex, no leading zeros); "-" is none; a 4771 has no
 * ticket, so a field of that name there is not kept. */
static void kerberos_ticket_encryption(void **state)
{
    (void)state;
    struct sink s;
#define TGS(rid, enc)                                                                          \
    "R\t0\t4096\t" rid "\t133491312000000000\t4769\t" EV_HEAD                                \
    "<Data Name=\"TargetUserName\">jdoe@HOSP.LOCAL</Data><Data Name=\"ServiceName\">svc_sql"  \
    "</Data><Data Name=\"TicketOptions\">0x40810000</Data><Data Name=\"TicketEncryptionType\">" \
    enc "</Data><Data Name=\"IpAddress\">::ffff:10.2.0.9</Data><Data Name=\"Status\">0x0"     \
    "</Data>" EV_TAIL "\n"
    const char *text =
        TGS("40", "0x17") TGS("41", "0x00000012") TGS("42", "0X3") TGS("43", "-")
        TGS("44", "0xFFFFFFFF")
        "R\t5\t4600\t45\t133491312000000000\t4768\t" EV_HEAD
        "<Data Name=\"TargetUserName\">jdoe</Data><Data Name=\"TicketEncryptionType\">0x1"
        "</Data><Data Name=\"Status\">0x0</Data>" EV_TAIL "\n"
        "R\t6\t5000\t46\t133491312000000000\t4771\t" EV_HEAD
        "<Data Name=\"TargetUserName\">jdoe</Data><Data Name=\"TicketEncryptionType\">0x17"
        "</Data><Data Name=\"Status\">0x18</Data>" EV_TAIL "\n";
#undef TGS
    struct pt_logparse *p = parse(text, &s);
    assert_int_equal(s.n_win, 7);
    assert_int_equal(s.n_anom, 0);
    const struct pt_logwinevt_rec *w = s.win;
    assert_string_equal(w[0].ticket_enc, "0x17");
    assert_string_equal(w[0].target_server, "svc_sql");
    assert_string_equal(w[1].ticket_enc, "0x12");
    assert_string_equal(w[2].ticket_enc, "0x3");
    assert_string_equal(w[3].ticket_enc, "");
    assert_string_equal(w[4].ticket_enc, "0xffffffff");
    assert_string_equal(w[5].kind, "kerberos_tgt");
    assert_string_equal(w[5].ticket_enc, "0x1");
    assert_string_equal(w[6].kind, "kerberos_failed");
    assert_string_equal(w[6].ticket_enc, "");
    free(p);
}

static void wfp_direction_decides_the_client(void **state)
{
    (void)state;
    struct sink s;
    const char *text =
        "R\t0\t0\t1\t133491312000000000\t5156\t" EV_HEAD
        "<Data Name=\"Direction\">%%14592</Data><Data Name=\"SourceAddress\">10.0.0.7</Data>"
        "<Data Name=\"SourcePort\">3389</Data><Data Name=\"DestAddress\">198.51.100.4</Data>"
        "<Data Name=\"DestPort\">50123</Data><Data Name=\"Protocol\">17</Data>"
        "<Data Name=\"Application\">\\device\\x\\svchost.exe</Data>" EV_TAIL "\n"
        "R\t1\t0\t2\t133491312000000000\t5157\t" EV_HEAD
        "<Data Name=\"Direction\">%%14593</Data><Data Name=\"SourceAddress\">10.0.0.7</Data>"
        "<Data Name=\"SourcePort\">51001</Data><Data Name=\"DestAddress\">198.51.100.20</Data>"
        "<Data Name=\"DestPort\">22</Data><Data Name=\"Protocol\">6</Data>" EV_TAIL "\n"
        "R\t2\t0\t3\t133491312000000000\t5156\t" EV_HEAD
        "<Data Name=\"SourceAddress\">10.0.0.7</Data>" EV_TAIL "\n";
    struct pt_logparse *p = parse(text, &s);
    assert_int_equal(s.n_conn, 2);
    assert_string_equal(s.conn[0].client, "198.51.100.4");
    assert_int_equal(s.conn[0].cport, 50123);
    assert_string_equal(s.conn[0].server, "10.0.0.7");
    assert_int_equal(s.conn[0].sport, 3389);
    assert_string_equal(s.conn[0].proto, "udp");
    assert_string_equal(s.conn[0].state, "allowed");
    assert_string_equal(s.conn[0].service, "svchost.exe");
    assert_int_equal(s.conn[0].c_bytes, -1);
    assert_string_equal(s.conn[1].client, "10.0.0.7");
    assert_string_equal(s.conn[1].state, "blocked");
    /* the third has no direction: malformed, said */
    assert_int_equal(p->st.malformed, 1);
    assert_int_equal(s.last_kind, PT_ANOM_LOG_EVTX_RECORD);
    assert_non_null(strstr(s.last_anom, "record 3 (event 5156)"));
    free(p);
}

static void script_block_counted_not_kept_and_others_counted(void **state)
{
    (void)state;
    struct sink s;
    const char *text =
        "R\t0\t0\t9\t133491312000000000\t4104\t<Event><System><Security UserID=\"S-1-5-21-9\"/>"
        "<Channel>Microsoft-Windows-PowerShell/Operational</Channel></System><EventData>"
        "<Data Name=\"MessageNumber\">2</Data><Data Name=\"MessageTotal\">3</Data>"
        "<Data Name=\"ScriptBlockText\">&#10;  \xc3\xa9t&lt;\xc3\xa9&#10;  </Data>"
        "<Data Name=\"ScriptBlockId\">abc</Data><Data Name=\"Path\"></Data>"
        "</EventData></Event>\n"
        "X\t0\t0\t10\t133491312000000000\t4672\t<Event/>\n"
        "R\t1\t0\t11\t133491312000000000\t4672\t<Event/>\n"
        "R\t2\t0\t12\t133491312000000000\t4634\t<Event/>\n"
        "F\t3\t0\tbad chunk\n"
        "F\t1\t1\tnot a record\n"
        "Q\tnot a kind\n"
        "R\t4\tx\t13\t1\t1\t<Event/>\n";
    struct pt_logparse *p = parse(text, &s);
    assert_int_equal(s.n_win, 1);
    assert_string_equal(s.win[0].kind, "script_block");
    assert_int_equal(s.win[0].script_chars, 10); /* "\n  ét<é\n  ": characters, not bytes */
    assert_int_equal(s.win[0].part, 2);
    assert_int_equal(s.win[0].parts, 3);
    assert_string_equal(s.win[0].subject_user, "S-1-5-21-9");
    assert_string_equal(s.win[0].script_id, "abc");
    assert_string_equal(s.win[0].object, "");
    assert_int_equal(p->st.other, 3);
    assert_int_equal(p->evtx.recovered, 1);
    assert_int_equal(p->st.malformed, 4);
    assert_int_equal(p->evtx.recovered_failed, 1);
    assert_int_equal(s.n_anom, 5); /* 3 lines, the free-space note, the other identifiers */
    assert_string_equal(s.last_anom, "evtx: 3 record(s) of event identifiers not read as rows, "
                                     "counted: 4672 x2 4634 x1");
    free(p);
}

static void xml_scanner_stays_in_bounds(void **state)
{
    (void)state;
    const char *x = "<?xml version=\"1.0\"?><!-- <a> --><ns:A b = 'x&quot;y' c=\"&#x41;&#66;"
                    "&bogus;\"/><![CDATA[<z>]]><B>t&amp;</B><C attr=\"unterminated";
    struct pt_xmlscan sc;
    struct pt_xmltag t;
    char v[16];
    pt_xmlscan_init(&sc, (const uint8_t *)x, strlen(x));
    assert_true(pt_xmlscan_next(&sc, &t));
    assert_string_equal(t.name, "A");
    assert_true(t.empty);
    assert_true(pt_xmltag_attr(&t, "b", v, sizeof v));
    assert_string_equal(v, "x\"y");
    assert_true(pt_xmltag_attr(&t, "c", v, sizeof v));
    assert_string_equal(v, "AB&bogus;");
    assert_false(pt_xmltag_attr(&t, "d", v, sizeof v));
    assert_true(pt_xmlscan_next(&sc, &t));
    assert_string_equal(t.name, "B");
    assert_int_equal(pt_xmltag_text(&t, v, 3), 2);
    assert_string_equal(v, "t&");
    assert_true(pt_xmlscan_next(&sc, &t));
    assert_true(t.closing);
    assert_false(pt_xmlscan_next(&sc, &t)); /* <C cut by the end */
    /* every prefix of the input */
    for (size_t n = 0; n <= strlen(x); n++) {
        pt_xmlscan_init(&sc, (const uint8_t *)x, n);
        while (pt_xmlscan_next(&sc, &t)) {
            pt_xmltag_attr(&t, "c", v, sizeof v);
            pt_xmltag_text(&t, v, sizeof v);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(logon_fields_by_name),
        cmocka_unit_test(logon_session_fields),
        cmocka_unit_test(kerberos_events),
        cmocka_unit_test(kerberos_ticket_encryption),
        cmocka_unit_test(wfp_direction_decides_the_client),
        cmocka_unit_test(script_block_counted_not_kept_and_others_counted),
        cmocka_unit_test(xml_scanner_stays_in_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
