/* test_atna.c - IHE ATNA / DICOM PS3.15 audit messages (ingest/atna.c) read as log rows
 * (ingest/logparse.c): the fields of a DICOM-format message (csd-code, originalText) and of
 * an RFC 3881 one (code, displayName), in RFC 5424 syslog lines and behind an RFC 6587 octet
 * count, every line accounted for, cut and event-less messages malformed, the sniffer's
 * answer, and every message cut at every offset. Messages written after the structure of
 * PS3.15 Annex A.5 (A.5.3 Export, Query); expected values written by hand. */
#include "cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/atna.h"
#include "ingest/logparse.h"
#include "ingest/sniff.h"

#define EXPORT_MSG                                                                                  \
    "<AuditMessage><EventIdentification EventActionCode=\"R\" EventDateTime=\"2026-11-02T14:02:1"  \
    "1.000+01:00\" EventOutcomeIndicator=\"0\"><EventID csd-code=\"110106\" codeSystemName=\"DCM\"" \
    " originalText=\"Export\"/></EventIdentification><ActiveParticipant UserID=\"jdoe\" UserIsReq" \
    "uestor=\"true\" NetworkAccessPointID=\"10.1.2.30\" NetworkAccessPointTypeCode=\"2\"/><Active" \
    "Participant UserID=\"PACS1\" AlternativeUserID=\"AETITLE=PACS1\" UserIsRequestor=\"false\" N" \
    "etworkAccessPointID=\"10.1.2.5\" NetworkAccessPointTypeCode=\"2\"><RoleIDCode csd-code=\"110" \
    "153\" codeSystemName=\"DCM\" originalText=\"Source Role ID\"/></ActiveParticipant><ActivePar" \
    "ticipant UserID=\"/media/usb0\" UserIsRequestor=\"false\" NetworkAccessPointID=\"10.1.2.31\"" \
    " NetworkAccessPointTypeCode=\"2\"><RoleIDCode csd-code=\"110152\" codeSystemName=\"DCM\" ori" \
    "ginalText=\"Destination Role ID\"/><MediaType csd-code=\"110030\" codeSystemName=\"DCM\" ori" \
    "ginalText=\"USB Disk Emulation\"/></ActiveParticipant><AuditSourceIdentification AuditSource" \
    "ID=\"PACS1\"><AuditSourceTypeCode csd-code=\"4\"/></AuditSourceIdentification><ParticipantOb" \
    "jectIdentification ParticipantObjectID=\"1.2.840.99999.1.7.42\" ParticipantObjectTypeCode=\"" \
    "2\" ParticipantObjectTypeCodeRole=\"3\"><ParticipantObjectIDTypeCode csd-code=\"110180\" cod" \
    "eSystemName=\"DCM\" originalText=\"Study Instance UID\"/><ParticipantObjectDescription><SOPC" \
    "lass UID=\"1.2.840.10008.5.1.4.1.1.2\" NumberOfInstances=\"212\"/></ParticipantObjectDescrip" \
    "tion></ParticipantObjectIdentification><ParticipantObjectIdentification ParticipantObjectID=" \
    "\"MRN4471^^^&amp;1.2.3&amp;ISO\" ParticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRo" \
    "le=\"1\"><ParticipantObjectIDTypeCode csd-code=\"2\" codeSystemName=\"RFC-3881\" originalTex" \
    "t=\"Patient Number\"/><ParticipantObjectName>DOE^JANE</ParticipantObjectName></ParticipantOb" \
    "jectIdentification></AuditMessage>"

#define QUERY_MSG                                                                                   \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><AuditMessage xmlns:xsi=\"http://www.w3.org/2001/X" \
    "MLSchema-instance\"><EventIdentification EventActionCode=\"E\" EventDateTime=\"2026-11-02T13" \
    ":05:00Z\" EventOutcomeIndicator=\"0\"><EventID code=\"110112\" codeSystemName=\"DCM\" displa" \
    "yName=\"Query\"/><EventTypeCode code=\"ITI-21\" displayName=\"Patient Demographics Query\"/>" \
    "</EventIdentification><ActiveParticipant UserID=\"app|pdq\" UserIsRequestor=\"true\" Network" \
    "AccessPointID=\"10.1.2.31\"><RoleIDCode code=\"110153\"/></ActiveParticipant><ActiveParticip" \
    "ant UserID=\"mpi\" UserIsRequestor=\"false\" NetworkAccessPointID=\"10.1.2.7\"><RoleIDCode c" \
    "ode=\"110152\"/></ActiveParticipant><AuditSourceIdentification AuditSourceID=\"mpi\"/><Parti" \
    "cipantObjectIdentification ParticipantObjectID=\"P-1001\" ParticipantObjectTypeCode=\"1\" Pa" \
    "rticipantObjectTypeCodeRole=\"1\"><ParticipantObjectIDTypeCode code=\"2\"/></ParticipantObje" \
    "ctIdentification><ParticipantObjectIdentification ParticipantObjectID=\"P-1002\" Participant" \
    "ObjectTypeCode=\"1\"><ParticipantObjectIDTypeCode code=\"2\"/></ParticipantObjectIdentificat" \
    "ion><ParticipantObjectIdentification ParticipantObjectTypeCode=\"2\" ParticipantObjectTypeCo" \
    "deRole=\"24\"><ParticipantObjectIDTypeCode code=\"ITI-21\"/><ParticipantObjectQuery>TVNIfF5+" \
    "XCZ8</ParticipantObjectQuery></ParticipantObjectIdentification></AuditMessage>"

static void export_message_fields(void **state)
{
    (void)state;
    struct pt_atna_msg m;
    const char *why = NULL;
    const char *t = EXPORT_MSG;
    assert_true(pt_atna_parse((const uint8_t *)t, strlen(t), &m, &why));
    assert_string_equal(m.event, "110106");
    assert_string_equal(m.event_name, "Export");
    assert_string_equal(m.action, "R");
    assert_int_equal(m.outcome, 0);
    assert_string_equal(m.when, "2026-11-02T14:02:11.000+01:00");
    assert_string_equal(m.user, "jdoe");
    assert_string_equal(m.user_addr, "10.1.2.30");
    assert_string_equal(m.src_addr, "10.1.2.5");
    assert_string_equal(m.dst_addr, "10.1.2.31");
    assert_int_equal(m.patients, 1);
    assert_int_equal(m.studies, 1);
    assert_int_equal(m.objects, 2);
}

static void rfc3881_query_fields(void **state)
{
    (void)state;
    struct pt_atna_msg m;
    const char *why = NULL;
    const char *t = QUERY_MSG;
    const uint8_t *at = pt_atna_find((const uint8_t *)t, strlen(t));
    assert_non_null(at);
    assert_true(pt_atna_parse(at, strlen(t) - (size_t)(at - (const uint8_t *)t), &m, &why));
    assert_string_equal(m.event, "110112");
    assert_string_equal(m.event_name, "Query");
    assert_string_equal(m.action, "E");
    assert_string_equal(m.user, "app|pdq");
    assert_string_equal(m.user_addr, "10.1.2.31");
    assert_string_equal(m.src_addr, "10.1.2.31");
    assert_string_equal(m.dst_addr, "10.1.2.7");
    assert_int_equal(m.patients, 2); /* one by its role, one by its ID type (Patient Number) */
    assert_int_equal(m.studies, 0);
    assert_int_equal(m.objects, 3);
    /* a known code without text of its own is named */
    const char *bare = "<AuditMessage><EventIdentification EventActionCode=\"R\"><EventID "
                       "csd-code=\"110104\"/></EventIdentification></AuditMessage>";
    assert_true(pt_atna_parse((const uint8_t *)bare, strlen(bare), &m, &why));
    assert_string_equal(m.event_name, "DICOM Instances Transferred");
    assert_int_equal(m.outcome, -1);
    assert_string_equal(m.user, "");
}

/* ---- as log lines ---- */

#define MAXREC 8

struct sink {
    size_t n, n_anom;
    struct pt_logaudit_rec r[MAXREC];
    char last_anom[200];
};

static void on_rec(void *arg, enum pt_logrec_kind k, const void *rec)
{
    struct sink *s = arg;
    assert_int_equal(k, PT_LOGREC_AUDIT);
    if (s->n < MAXREC) {
        s->r[s->n++] = *(const struct pt_logaudit_rec *)rec;
    }
}

static void on_anom(void *arg, uint64_t off, enum pt_anom kind, const char *detail)
{
    struct sink *s = arg;
    (void)off;
    assert_int_equal(kind, PT_ANOM_LOG_MALFORMED_LINE);
    s->n_anom++;
    snprintf(s->last_anom, sizeof s->last_anom, "%s", detail);
}

static const char LOG[] =
    "<85>1 2026-11-02T13:02:11.000Z pacs1 PACS 2211 IHE+RFC-3881 - " EXPORT_MSG "\n"
    "1599 <85>1 2026-11-02T13:05:00.000Z mpi MPI 90 IHE+RFC-3881 - " QUERY_MSG "\n"
    "\n"
    "<86>1 2026-11-02T13:06:00.000Z pacs1 PACS 2211 - - service restarted\n"
    "<85>1 2026-11-02T13:07:00.000Z pacs1 PACS 2211 IHE+RFC-3881 - <AuditMessage><EventIdent"
    "ification EventActionCode=\"R\"><EventID csd-code=\"110106\"/></EventIdentification><Act\n"
    "<85>1 2026-11-02T13:08:00.000Z pacs1 PACS 2211 - - <AuditMessage><ActiveParticipant "
    "UserID=\"x\" UserIsRequestor=\"true\"/></AuditMessage>";

static struct pt_logparse *parse_in(size_t piece, struct sink *s)
{
    struct pt_logparse *p = calloc(1, sizeof *p);
    assert_non_null(p);
    memset(s, 0, sizeof *s);
    pt_logparse_init(p, PT_LOGFMT_ATNA, 3, 0, on_rec, on_anom, s);
    size_t n = strlen(LOG);
    for (size_t at = 0; at < n; at += piece) {
        pt_logparse_feed(p, (const uint8_t *)LOG + at, n - at < piece ? n - at : piece);
    }
    pt_logparse_end(p);
    return p;
}

static void log_lines_accounted_in_any_pieces(void **state)
{
    (void)state;
    static const size_t pieces[] = {1, 7, 100, 65536};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        struct sink s;
        struct pt_logparse *p = parse_in(pieces[k], &s);
        const struct pt_logstats *st = &p->st;
        assert_int_equal(st->lines, 6);
        assert_int_equal(st->records, 2);
        assert_int_equal(st->audit, 2);
        assert_int_equal(st->other, 1);
        assert_int_equal(st->blank, 1);
        assert_int_equal(st->malformed, 2);
        assert_int_equal(s.n_anom, 2);
        assert_non_null(strstr(s.last_anom, "atna line 6"));
        assert_non_null(strstr(s.last_anom, "without an EventIdentification/EventID"));
        assert_int_equal(s.n, 2);
        assert_int_equal(s.r[0].p.line, 1);
        assert_int_equal(s.r[0].p.offset, 0);
        assert_int_equal(s.r[0].p.item, 3);
        assert_string_equal(s.r[0].p.source, "atna");
        /* 2026-11-02T14:02:11+01:00 = 13:02:11Z */
        assert_int_equal(s.r[0].p.ts_us, 1793624531000000LL);
        assert_int_equal(s.r[0].p.length, strchr(LOG, '\n') - LOG);
        assert_string_equal(s.r[0].m.event, "110106");
        assert_string_equal(s.r[1].m.event, "110112");
        assert_int_equal(s.r[1].p.line, 2);
        assert_int_equal(s.r[1].m.patients, 2);
        assert_int_equal(s.r[1].p.ts_us, 1793624700000000LL);
        free(p);
    }
}

static void sniffed_as_atna(void **state)
{
    (void)state;
    assert_string_equal(pt_sniff_evidence((const uint8_t *)LOG, strlen(LOG)), "log:atna");
    assert_int_equal(pt_logfmt_of("log:atna"), PT_LOGFMT_ATNA);
    assert_string_equal(pt_logfmt_name(PT_LOGFMT_ATNA), "atna");
}

/* Every prefix of a message: never read past it; a cut message is never a record. */
static void every_cut_is_malformed_never_read_past(void **state)
{
    (void)state;
    const char *t = EXPORT_MSG;
    size_t n = strlen(t);
    for (size_t k = 0; k < n; k++) {
        uint8_t *b = malloc(k + 1);
        assert_non_null(b);
        memcpy(b, t, k);
        struct pt_atna_msg m;
        const char *why = NULL;
        assert_false(pt_atna_parse(b, k, &m, &why));
        assert_non_null(why);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(export_message_fields),
        cmocka_unit_test(rfc3881_query_fields),
        cmocka_unit_test(log_lines_accounted_in_any_pieces),
        cmocka_unit_test(sniffed_as_atna),
        cmocka_unit_test(every_cut_is_malformed_never_read_past),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
