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

#include "core/sha256.h"
#include "ingest/atna.h"
#include "ingest/logparse.h"
#include "ingest/sniff.h"
#include "ingest/xmltag.h"

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
        assert_non_null(strstr(s.last_anom, "atna message at line 6"));
        assert_non_null(strstr(s.last_anom, "without an EventIdentification/EventID"));
        assert_int_equal(s.n, 2);
        assert_int_equal(s.r[0].p.line, 1);
        /* the message's own bytes: after its syslog header, to its end tag */
        assert_int_equal(s.r[0].p.offset, strstr(LOG, "<AuditMessage") - LOG);
        assert_int_equal(s.r[0].p.length, strlen(EXPORT_MSG));
        assert_int_equal(s.r[0].p.item, 3);
        assert_string_equal(s.r[0].p.source, "atna");
        /* 2026-11-02T14:02:11+01:00 = 13:02:11Z */
        assert_int_equal(s.r[0].p.ts_us, 1793624531000000LL);
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


/* ---- messages over many lines (atna_stream.c) ---- */

/* A file of pretty-printed messages as an archive writes them (the shape of dcm4chee-arc's
 * audit samples and of PS3.15 A.5.3: an XML declaration, blank lines between the elements, a
 * raw '&' in an HL7 CX value), then a wrapping element holding two RFC 3881 form messages,
 * one of them an empty element. Values made up. */
#define DOC_A                                                                                      \
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"                              \
    "\n"                                                                                           \
    "    <AuditMessage xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"               \
    "\n"                                                                                           \
    "        <EventIdentification EventActionCode=\"R\" EventDateTime=\"2026-11-02T10:00:00Z\""    \
    " EventOutcomeIndicator=\"0\">\n"                                                              \
    "            <EventID csd-code=\"110106\" codeSystemName=\"DCM\" originalText=\"Export\"/>\n"  \
    "        </EventIdentification>\n"                                                             \
    "        <ActiveParticipant UserID=\"rtech\" UserIsRequestor=\"true\"\n"                      \
    "            NetworkAccessPointID=\"10.1.2.40\" NetworkAccessPointTypeCode=\"2\">\n"           \
    "            <RoleIDCode csd-code=\"110152\" codeSystemName=\"DCM\" originalText=\"Destination\"/>\n" \
    "        </ActiveParticipant>\n"                                                               \
    "        <ParticipantObjectIdentification ParticipantObjectID=\"PID7^^^Site A&1.2.40.9&ISO\""  \
    " ParticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRole=\"1\">\n"                      \
    "            <ParticipantObjectIDTypeCode csd-code=\"2\" originalText=\"Patient Number\"/>\n"  \
    "            <ParticipantObjectName>ROE^ANN</ParticipantObjectName>\n"                         \
    "        </ParticipantObjectIdentification>\n"                                                 \
    "        <ParticipantObjectIdentification ParticipantObjectID=\"PID8^^^Site A&1.2.40.9&ISO\""  \
    " ParticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRole=\"1\">\n"                      \
    "            <ParticipantObjectIDTypeCode csd-code=\"2\" originalText=\"Patient Number\"/>\n"  \
    "        </ParticipantObjectIdentification>\n"                                                 \
    "    </AuditMessage>\n"
#define DOC_B                                                                                      \
    "<AuditMessages>\n"                                                                            \
    "<!-- two RFC 3881 messages -->\n"                                                             \
    "<AuditMessage><EventIdentification EventActionCode=\"E\" EventDateTime=\"2026-11-02T10:05:00Z\">\n" \
    "  <EventID code=\"110112\" displayName=\"Query\"/></EventIdentification>\n"                   \
    "  <ActiveParticipant UserID=\"pdq\" UserIsRequestor=\"true\" NetworkAccessPointID=\"10.1.2.40\"/>\n" \
    "  <ParticipantObjectIdentification ParticipantObjectID=\" PID7 ^^^Site A&1.2.40.9&ISO \" "    \
    "ParticipantObjectTypeCode=\"1\"><ParticipantObjectIDTypeCode code=\"2\"/>\n"                 \
    "  </ParticipantObjectIdentification>\n"                                                       \
    "  <ParticipantObjectIdentification ParticipantObjectID=\"PID9\" ParticipantObjectTypeCode=\"1\"" \
    " ParticipantObjectTypeCodeRole=\"1\"/>\n"                                                     \
    "</AuditMessage><AuditMessage/>\n"                                                             \
    "</AuditMessages>\n"

static const char DOC[] = DOC_A DOC_B;

#define MAXPAT 16

struct sink2 {
    size_t n, n_anom, n_pat, n_oversize;
    struct pt_logaudit_rec r[MAXREC];
    struct pt_logaudit_patient_rec pat[MAXPAT];
    char last_anom[200];
};

static void on_rec2(void *arg, enum pt_logrec_kind k, const void *rec)
{
    struct sink2 *s = arg;
    if (k == PT_LOGREC_AUDIT_PATIENT) {
        assert_true(s->n_pat < MAXPAT);
        s->pat[s->n_pat++] = *(const struct pt_logaudit_patient_rec *)rec;
        return;
    }
    assert_int_equal(k, PT_LOGREC_AUDIT);
    if (s->n < MAXREC) {
        s->r[s->n] = *(const struct pt_logaudit_rec *)rec;
    }
    s->n++;
}

static void on_anom2(void *arg, uint64_t off, enum pt_anom kind, const char *detail)
{
    struct sink2 *s = arg;
    (void)off;
    assert_true(kind == PT_ANOM_LOG_MALFORMED_LINE || kind == PT_ANOM_LOG_ATNA_OVERSIZE);
    s->n_oversize += kind == PT_ANOM_LOG_ATNA_OVERSIZE;
    s->n_anom++;
    snprintf(s->last_anom, sizeof s->last_anom, "%s", detail);
}

static const uint8_t KEY[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

/* Read text[0..n) in pieces of `piece` bytes; mac: key the patients (NULL: none). */
static struct pt_logparse *read2m(const char *text, size_t n, size_t piece, int64_t mtime_us,
                                  struct pt_hmac *mac, bool keep, struct sink2 *s)
{
    struct pt_logparse *p = calloc(1, sizeof *p);
    assert_non_null(p);
    memset(s, 0, sizeof *s);
    pt_logparse_init(p, PT_LOGFMT_ATNA, 2, mtime_us, on_rec2, on_anom2, s);
    p->mac = mac;
    p->keep_ids = keep;
    for (size_t at = 0; at < n; at += piece) {
        pt_logparse_feed(p, (const uint8_t *)text + at, n - at < piece ? n - at : piece);
    }
    pt_logparse_end(p);
    const struct pt_logstats *st = &p->st;
    assert_int_equal(st->lines, st->records + st->other + st->headers + st->blank +
                                    st->malformed);
    assert_int_equal(st->bytes, n);
    return p;
}

static struct pt_logparse *read2(const char *text, size_t n, size_t piece, struct pt_hmac *mac,
                                 bool keep, struct sink2 *s)
{
    return read2m(text, n, piece, 0, mac, keep, s);
}

static size_t line_of(const char *text, const char *at)
{
    size_t l = 1;
    for (const char *c = text; c < at; c++) {
        l += *c == '\n';
    }
    return l;
}

static void messages_over_many_lines(void **state)
{
    (void)state;
    static const size_t pieces[] = {1, 3, 64, sizeof DOC};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        struct sink2 s;
        struct pt_logparse *p = read2(DOC, strlen(DOC), pieces[k], NULL, false, &s);
        const struct pt_logstats *st = &p->st;
        /* units: message 1 (lines 3-19), message 2 (lines 22-28), the empty <AuditMessage/>
         * (malformed: no EventID, on line 28 too); lines 1, 20, 21, 29 markup (the XML
         * declaration, the wrapper's tags, the comment); line 2 blank */
        assert_int_equal(st->records, 2);
        assert_int_equal(st->audit, 2);
        assert_int_equal(st->malformed, 1);
        assert_int_equal(st->headers, 4);
        assert_int_equal(st->blank, 1);
        assert_int_equal(st->other, 0);
        assert_int_equal(st->lines, 8);
        assert_int_equal(s.n, 2);
        const char *m1 = strstr(DOC, "<AuditMessage ");
        const char *m2 = strstr(DOC, "<AuditMessage><Event");
        assert_int_equal(s.r[0].p.line, 3);
        assert_int_equal(s.r[0].p.offset, m1 - DOC);
        assert_int_equal(s.r[0].p.length,
                         strstr(DOC, "</AuditMessage>") + strlen("</AuditMessage>") - m1);
        assert_string_equal(s.r[0].m.event, "110106");
        assert_string_equal(s.r[0].m.user, "rtech");
        assert_string_equal(s.r[0].m.user_addr, "10.1.2.40");
        assert_string_equal(s.r[0].m.dst_addr, "10.1.2.40");
        assert_int_equal(s.r[0].m.patients, 2);
        assert_int_equal(s.r[0].p.ts_us, 1793613600000000LL); /* 2026-11-02T10:00:00Z */
        assert_int_equal(s.r[1].p.line, 22);
        assert_int_equal(line_of(DOC, m2), 22);
        assert_int_equal(s.r[1].p.offset, m2 - DOC);
        assert_string_equal(s.r[1].m.event, "110112");
        assert_string_equal(s.r[1].m.event_name, "Query");
        assert_int_equal(s.r[1].m.patients, 2);
        assert_int_equal(s.n_anom, 1);
        assert_non_null(strstr(s.last_anom, "without an EventIdentification/EventID"));
        free(p);
    }
}

/* RFC 5424 frames whose MSG runs over lines, octet-counted (RFC 6587) or not, between
 * single-line frames of another kind. */
static void syslog_frames_over_many_lines(void **state)
{
    (void)state;
    char text[8192];
    const char *msg = strstr(DOC_A, "<AuditMessage");
    int n = snprintf(text, sizeof text,
                     "<86>1 2026-11-02T10:00:00Z pacs1 PACS 1 - - started\n"
                     "%zu <85>1 2026-11-02T10:00:01Z pacs1 PACS 1 IHE+RFC-3881 - %s"
                     "<85>1 2026-11-02T10:00:02Z pacs1 PACS 1 IHE+RFC-3881 - %s\n",
                     strlen(msg) + 52, msg, QUERY_MSG);
    assert_true(n > 0 && (size_t)n < sizeof text);
    struct sink2 s;
    struct pt_logparse *p = read2(text, (size_t)n, 5, NULL, false, &s);
    assert_int_equal(p->st.records, 2);
    assert_int_equal(p->st.other, 1);
    assert_int_equal(p->st.malformed, 0);
    assert_int_equal(p->st.lines, 3);
    assert_int_equal(s.r[0].p.line, 2);
    assert_int_equal(s.r[1].p.line, line_of(text, strstr(text, "<85>1 2026-11-02T10:00:02Z")));
    assert_string_equal(s.r[1].m.event, "110112");
    free(p);
}

/* The patients of the messages, keyed: PID7 of Site A in two messages (once with spaces
 * around it) is one patient, PID8 and PID9 two more: 3 distinct of 4 patient objects; no
 * identifier in a row unless kept. */
static void patients_keyed_distinct(void **state)
{
    (void)state;
    char key[64];
    assert_true(pt_atna_patient_key("PID1^^^Site A&1.2.40&ISO", key, sizeof key));
    assert_string_equal(key, "PID1^Site A&1.2.40&ISO");
    assert_true(pt_atna_patient_key(" P-1001 ", key, sizeof key));
    assert_string_equal(key, "P-1001");
    assert_true(pt_atna_patient_key("X9^5^M11", key, sizeof key));
    assert_string_equal(key, "X9");
    assert_false(pt_atna_patient_key("^^^Site A", key, sizeof key));
    assert_false(pt_atna_patient_key("", key, sizeof key));
    struct pt_hmac *mac = pt_hmac_new(KEY, sizeof KEY);
    assert_non_null(mac);
    for (int keep = 0; keep < 2; keep++) {
        struct sink2 s;
        struct pt_logparse *p = read2(DOC, strlen(DOC), 7, mac, keep == 1, &s);
        assert_int_equal(s.n_pat, 4);
        size_t distinct = 0;
        for (size_t i = 0; i < s.n_pat; i++) {
            assert_int_equal(strlen(s.pat[i].hmac), 64);
            bool seen = false;
            for (size_t j = 0; j < i; j++) {
                seen |= strcmp(s.pat[i].hmac, s.pat[j].hmac) == 0;
            }
            distinct += !seen;
            assert_string_equal(s.pat[i].id, keep ? (i == 0 || i == 2 ? "PID7^Site A&1.2.40.9&ISO"
                                                     : i == 1 ? "PID8^Site A&1.2.40.9&ISO"
                                                              : "PID9")
                                                  : "");
        }
        assert_int_equal(distinct, 3);
        assert_int_equal(s.pat[0].p.offset, s.r[0].p.offset);
        assert_int_equal(s.pat[3].p.offset, s.r[1].p.offset);
        free(p);
    }
    pt_hmac_free(mac);
}

/* Every prefix of the file: each message whose end tag is inside it is a record, a message
 * begun and not ended is one malformed unit, nothing else; every unit accounted for (read2). */
static void every_prefix_accounts_for_every_message(void **state)
{
    (void)state;
    size_t n = strlen(DOC);
    const char *ends[3], *starts[3];
    starts[0] = strstr(DOC, "<AuditMessage ");
    starts[1] = strstr(DOC, "<AuditMessage><Event");
    starts[2] = strstr(DOC, "<AuditMessage/>");
    ends[0] = strstr(DOC, "</AuditMessage>") + strlen("</AuditMessage>");
    ends[1] = strstr(ends[0], "</AuditMessage>") + strlen("</AuditMessage>");
    ends[2] = starts[2] + strlen("<AuditMessage/>");
    for (size_t k = 0; k <= n; k++) {
        char *b = malloc(k + 1);
        assert_non_null(b);
        memcpy(b, DOC, k);
        struct sink2 s;
        struct pt_logparse *p = read2(b, k, 1 + k % 17, NULL, false, &s);
        uint64_t rec = 0, bad = 0;
        for (int i = 0; i < 3; i++) {
            bool started = (size_t)(starts[i] - DOC) + strlen("<AuditMessage") < k;
            bool ended = (size_t)(ends[i] - DOC) <= k;
            rec += ended && i < 2;
            bad += started && (!ended || i == 2);
        }
        assert_int_equal(p->st.records, rec);
        assert_int_equal(p->st.malformed, bad);
        free(p);
        free(b);
    }
}

/* A message over the limit is passed over to its end (one log.atna_oversize anomaly); the
 * messages around it are read. */
static void oversize_message_is_passed_over(void **state)
{
    (void)state;
    size_t pad = PT_ATNA_MSG_MAX + 1000;
    const char *head = "<AuditMessage><EventIdentification><EventID csd-code=\"110112\"/>"
                       "</EventIdentification><ParticipantObjectIdentification><"
                       "ParticipantObjectQuery>";
    const char *tail = "</ParticipantObjectQuery></ParticipantObjectIdentification>"
                       "</AuditMessage>\n";
    size_t n = strlen(EXPORT_MSG) + 1 + strlen(head) + pad + strlen(tail) + strlen(QUERY_MSG);
    char *t = malloc(n + 1);
    assert_non_null(t);
    size_t o = (size_t)sprintf(t, "%s\n%s", EXPORT_MSG, head);
    memset(t + o, 'Q', pad);
    o += pad;
    o += (size_t)sprintf(t + o, "%s%s", tail, QUERY_MSG);
    assert_int_equal(o, n);
    static const size_t pieces[] = {4096, 65536 + 3, 1 << 22};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        struct sink2 s;
        struct pt_logparse *p = read2(t, n, pieces[k], NULL, false, &s);
        assert_int_equal(p->st.records, 2);
        assert_int_equal(p->st.malformed, 1);
        assert_int_equal(s.n_oversize, 1);
        assert_non_null(strstr(s.last_anom, "atna message at line 2"));
        assert_string_equal(s.r[0].m.event, "110106");
        assert_string_equal(s.r[1].m.event, "110112");
        assert_int_equal(s.r[1].p.line, 3);
        free(p);
    }
    free(t);
}

/* The tag scanner's views stay inside the input: a "</>" tag has no attributes (its span
 * once wrapped around below zero), a tag cut by the end is no tag; entities decoded. */
/* A message without EventDateTime and without the requestor's or the Destination's address
 * takes its time and host from the syslog header of its line: RFC 5424 (behind an RFC 6587
 * octet count), RFC 3164 (its year from the file's time); a message that gives them keeps
 * its own; a Destination address keeps the requestor's empty (the client is the
 * Destination's, not the sender's). */
#define NO_TIME_MSG(role)                                                                         \
    "<AuditMessage><EventIdentification EventActionCode=\"R\" EventOutcomeIndicator=\"0\"><Even" \
    "tID csd-code=\"110106\"/></EventIdentification><ActiveParticipant UserID=\"jdoe\" UserIsRe" \
    "questor=\"true\"/>" role "<ParticipantObjectIdentification ParticipantObjectID=\"P-9\" Par" \
    "ticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRole=\"1\"/></AuditMessage>"
#define DEST_ROLE                                                                                 \
    "<ActiveParticipant UserID=\"usb\" UserIsRequestor=\"false\" NetworkAccessPointID=\"10.1.2." \
    "50\"><RoleIDCode csd-code=\"110152\"/></ActiveParticipant>"

static void syslog_header_gives_time_and_host(void **state)
{
    (void)state;
    static const char text[] =
        "812 <85>1 2026-11-02T13:10:00.000Z pacs2.hosp.local PACS 77 IHE+RFC-3881 - "
        NO_TIME_MSG("") "\n"
        "<85>Nov  2 13:11:00 10.1.2.9 atna: " NO_TIME_MSG("") "\n"
        "<85>1 - - PACS 77 - - " NO_TIME_MSG("") "\n"
        "<85>1 2026-11-02T13:12:00Z pacs2 PACS 77 - - " NO_TIME_MSG(DEST_ROLE) "\n"
        "<85>1 2026-11-02T13:13:00Z pacs2 PACS 77 - - " EXPORT_MSG "\n"
        "  " NO_TIME_MSG("") "\n";
    struct sink2 s;
    /* the file's time: 2026-11-03T00:00:00Z (the RFC 3164 line's year) */
    struct pt_logparse *p = read2m(text, strlen(text), 7, 1794096000000000LL, NULL, false, &s);
    assert_int_equal(p->st.records, 6);
    assert_int_equal(p->st.malformed, 0);
    assert_int_equal(s.r[0].p.ts_us, 1793625000000000LL); /* 2026-11-02T13:10:00Z */
    assert_string_equal(s.r[0].m.user_addr, "pacs2.hosp.local");
    assert_int_equal(s.r[1].p.ts_us, 1793625060000000LL); /* 13:11:00, year 2026 */
    assert_string_equal(s.r[1].m.user_addr, "10.1.2.9");
    assert_int_equal(s.r[2].p.ts_us, -1); /* NILVALUE time and host */
    assert_string_equal(s.r[2].m.user_addr, "");
    assert_int_equal(s.r[3].p.ts_us, 1793625120000000LL);
    assert_string_equal(s.r[3].m.user_addr, "");
    assert_string_equal(s.r[3].m.dst_addr, "10.1.2.50");
    assert_int_equal(s.r[4].p.ts_us, 1793624531000000LL); /* its own EventDateTime */
    assert_string_equal(s.r[4].m.user_addr, "10.1.2.30");
    assert_int_equal(s.r[5].p.ts_us, -1); /* no header: nothing taken */
    assert_string_equal(s.r[5].m.user_addr, "");
    free(p);
    struct pt_atna_head h;
    static const char tag_only[] = "<85>Nov 12 13:11:00 atna: ";
    assert_true(pt_atna_syslog_head((const uint8_t *)tag_only, strlen(tag_only), &h));
    assert_false(h.rfc5424);
    assert_string_equal(h.when, "Nov 12 13:11:00");
    assert_string_equal(h.host, "");
    static const char iso3164[] = "<13>2026-11-02T13:11:00+01:00 ws7 atna[3]: ";
    assert_true(pt_atna_syslog_head((const uint8_t *)iso3164, strlen(iso3164), &h));
    assert_string_equal(h.when, "2026-11-02T13:11:00+01:00");
    assert_string_equal(h.host, "ws7");
    static const char *const not_headers[] = {"", "hello ", "<85 1 x y ", "<1234>1 x y ",
                                              "<85>1 2026-11-02T13:10:00Z", "<85>Nov  2 13:1"};
    for (size_t i = 0; i < sizeof not_headers / sizeof not_headers[0]; i++) {
        assert_false(pt_atna_syslog_head((const uint8_t *)not_headers[i], strlen(not_headers[i]),
                                         &h));
    }
}

/* Element names with a namespace prefix: one message a line and one over many lines, read
 * as without; the sniffer knows both; a longer name is no message. */
#define NS_MSG                                                                                    \
    "<ns1:AuditMessage xmlns:ns1=\"http://www.dcm4che.org/audit\"><ns1:EventIdentification Even" \
    "tActionCode=\"R\" EventDateTime=\"2026-11-02T13:14:00Z\" EventOutcomeIndicator=\"0\"><ns1:" \
    "EventID csd-code=\"110106\" originalText=\"Export\"/></ns1:EventIdentification><ns1:Active" \
    "Participant UserID=\"jdoe\" UserIsRequestor=\"true\" NetworkAccessPointID=\"10.1.2.30\"/><" \
    "ns1:ParticipantObjectIdentification ParticipantObjectID=\"P-1\" ParticipantObjectTypeCode=" \
    "\"1\" ParticipantObjectTypeCodeRole=\"1\"/><ns1:ParticipantObjectIdentification Participan" \
    "tObjectID=\"P-2\" ParticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRole=\"1\"></ns" \
    "1:ParticipantObjectIdentification></ns1:AuditMessage >"

static void namespace_prefixed_names(void **state)
{
    (void)state;
    static const char text[] =
        "<85>1 2026-11-02T13:14:00Z pacs1 PACS 1 - - " NS_MSG "\n"
        "<85>1 2026-11-02T13:14:01Z pacs1 PACS 1 - - <ns1:AuditMessageX/>\n"
        "<atna:AuditMessage xmlns:atna=\"urn:x\">\n"
        "  <atna:EventIdentification EventActionCode=\"E\"\n"
        "      EventDateTime=\"2026-11-02T13:15:00Z\">\n"
        "    <atna:EventID code=\"110112\"/>\n"
        "  </atna:EventIdentification>\n"
        "  <atna:ParticipantObjectIdentification ParticipantObjectID=\"P-3\"\n"
        "      ParticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRole=\"1\"/>\n"
        "</atna:AuditMessage>\n";
    static const size_t pieces[] = {1, 5, sizeof text};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        struct sink2 s;
        struct pt_logparse *p = read2(text, strlen(text), pieces[k], NULL, false, &s);
        assert_int_equal(p->st.records, 2);
        assert_int_equal(p->st.malformed, 0);
        assert_int_equal(p->st.other, 1); /* the syslog line whose tag is not a message */
        assert_int_equal(s.r[0].p.offset, strstr(text, "<ns1:AuditMessage ") - text);
        assert_int_equal(s.r[0].p.length, strlen(NS_MSG));
        assert_string_equal(s.r[0].m.event, "110106");
        assert_string_equal(s.r[0].m.user_addr, "10.1.2.30");
        assert_int_equal(s.r[0].m.patients, 2);
        assert_int_equal(s.r[0].p.ts_us, 1793625240000000LL);
        assert_int_equal(s.r[1].p.line, 3);
        assert_string_equal(s.r[1].m.event, "110112");
        assert_int_equal(s.r[1].m.patients, 1);
        free(p);
    }
    assert_string_equal(pt_sniff_evidence((const uint8_t *)text, strlen(text)), "log:atna");
    const char *doc = strstr(text, "<atna:");
    assert_string_equal(pt_sniff_evidence((const uint8_t *)doc, strlen(doc)), "log:atna");
    assert_null(pt_atna_find((const uint8_t *)"<a:b:AuditMessage>", 18));
    assert_null(pt_atna_find((const uint8_t *)"<AuditMessages>", 15));
}

/* CDATA in values: a query whose text holds "</AuditMessage>" and a participant object's
 * tag ends neither the message nor adds an object; element text reads a section's
 * characters as they are. */
#define CDATA_MSG                                                                                 \
    "<AuditMessage><EventIdentification EventActionCode=\"E\" EventDateTime=\"2026-11-02T13:16:" \
    "00Z\"><EventID code=\"110112\"/></EventIdentification><ActiveParticipant UserIsRequestor=" \
    "\"true\" NetworkAccessPointID=\"10.1.2.31\"/><ParticipantObjectIdentification Participant" \
    "ObjectID=\"P-1\" ParticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRole=\"1\"><Part" \
    "icipantObjectQuery><![CDATA[<q></AuditMessage><ParticipantObjectIdentification Participant" \
    "ObjectTypeCodeRole=\"1\"/>]]]></ParticipantObjectQuery></ParticipantObjectIdentification><" \
    "/AuditMessage>"

static void cdata_sections_in_values(void **state)
{
    (void)state;
    static const char text[] = "<85>1 2026-11-02T13:16:00Z mpi MPI 1 - - " CDATA_MSG "\n";
    static const size_t pieces[] = {1, 4, sizeof text};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        struct sink2 s;
        struct pt_logparse *p = read2(text, strlen(text), pieces[k], NULL, false, &s);
        assert_int_equal(p->st.records, 1);
        assert_int_equal(p->st.malformed, 0);
        assert_int_equal(s.r[0].p.length, strlen(CDATA_MSG));
        assert_int_equal(s.r[0].m.objects, 1);
        assert_int_equal(s.r[0].m.patients, 1);
        free(p);
    }
    static const char x[] = "<Data Name=\"a\"> x&amp;<![CDATA[ <b> &amp; ]]]>y </Data><Next/>";
    struct pt_xmlscan sc;
    struct pt_xmltag t;
    char out[64];
    pt_xmlscan_init(&sc, (const uint8_t *)x, strlen(x));
    assert_true(pt_xmlscan_next(&sc, &t));
    assert_int_equal(pt_xmltag_text(&t, out, sizeof out), 15);
    assert_string_equal(out, "x& <b> &amp; ]y");
    assert_true(pt_xmlscan_next(&sc, &t));
    assert_string_equal(t.name, "Data");
    assert_true(t.closing);
    assert_true(pt_xmlscan_next(&sc, &t));
    assert_string_equal(t.name, "Next");
    assert_false(pt_xmlscan_next(&sc, &t));
}

/* Every prefix of text: a message from `start` ("<AuditMessage") to `end` (the byte after its
 * end tag) is a record when the prefix holds its end, one malformed unit when the prefix
 * holds its name and the byte after it but not its end, nothing else (read2 checks every
 * unit is accounted for). */
static void every_prefix_one_message(const char *text, size_t start, size_t end)
{
    size_t n = strlen(text);
    for (size_t k = 0; k <= n; k++) {
        char *b = malloc(k + 1);
        assert_non_null(b);
        memcpy(b, text, k);
        struct sink2 s;
        struct pt_logparse *p = read2(b, k, 1 + k % 13, NULL, false, &s);
        bool started = start + strlen("<AuditMessage") < k;
        assert_int_equal(p->st.records, k >= end);
        assert_int_equal(p->st.malformed, started && k < end);
        free(p);
        free(b);
    }
}

/* Comments inside a message are passed over like CDATA: one holding "</AuditMessage>", a new
 * "<AuditMessage>" and a participant object's tag ends nothing, begins nothing, adds no
 * object; "--->" ends one, "<!-->" does not; a "<!--" split over pieces is one. */
#define COMMENT_MSG                                                                               \
    "<AuditMessage><!-- </AuditMessage> <AuditMessage> -->\n"                                    \
    "  <EventIdentification EventActionCode=\"E\" EventDateTime=\"2026-11-02T13:17:00Z\">\n"      \
    "    <EventID code=\"110112\"/></EventIdentification>\n"                                      \
    "  <!-- <ParticipantObjectIdentification ParticipantObjectTypeCodeRole=\"1\"/> --->\n"        \
    "  <!--> </AuditMessage> still a comment -- -->\n"                                           \
    "  <ParticipantObjectIdentification ParticipantObjectID=\"P-1\" ParticipantObjectTypeCode=" \
    "\"1\" ParticipantObjectTypeCodeRole=\"1\"/>\n"                                               \
    "</AuditMessage>"

static void comments_in_messages(void **state)
{
    (void)state;
    static const char text[] = "<!-- a comment between messages -->\n" COMMENT_MSG "\n";
    static const size_t pieces[] = {1, 3, 7, sizeof text};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        struct sink2 s;
        struct pt_logparse *p = read2(text, strlen(text), pieces[k], NULL, false, &s);
        assert_int_equal(p->st.records, 1);
        assert_int_equal(p->st.malformed, 0);
        assert_int_equal(p->st.headers, 1);
        assert_int_equal(s.r[0].p.line, 2);
        assert_int_equal(s.r[0].p.length, strlen(COMMENT_MSG));
        assert_string_equal(s.r[0].m.event, "110112");
        assert_int_equal(s.r[0].m.objects, 1);
        assert_int_equal(s.r[0].m.patients, 1);
        free(p);
    }
    const char *m = strstr(text, "<AuditMessage>");
    every_prefix_one_message(text, (size_t)(m - text), (size_t)(m - text) + strlen(COMMENT_MSG));
}

/* A syslog header on a line of its own, then the message over the next lines (an XML
 * declaration or blank lines between): the message takes its time and host as from a header
 * on its own line; one header, one message; other text between ends it. */
#define PRETTY_NO_TIME                                                                            \
    "<AuditMessage>\n"                                                                            \
    "  <EventIdentification EventActionCode=\"R\" EventOutcomeIndicator=\"0\">\n"                 \
    "    <EventID csd-code=\"110106\"/>\n"                                                        \
    "  </EventIdentification>\n"                                                                  \
    "  <ParticipantObjectIdentification ParticipantObjectID=\"P-9\" ParticipantObjectTypeCode=" \
    "\"1\" ParticipantObjectTypeCodeRole=\"1\"/>\n"                                               \
    "</AuditMessage>"
#define HEAD_LINE "<85>1 2026-11-02T13:20:00Z pacs3.hosp.local PACS 9 IHE+RFC-3881 -\r\n"

static void syslog_header_on_an_earlier_line(void **state)
{
    (void)state;
    static const char text[] =
        HEAD_LINE
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" PRETTY_NO_TIME "\n"
        "<85>Nov  2 13:21:00 10.1.2.9 atna:\n"
        "\n" NO_TIME_MSG("") "\n" NO_TIME_MSG("") "\n"
        "<85>1 2026-11-02T13:22:00Z pacs4 PACS 9 - -\n"
        "not a header\n" NO_TIME_MSG("") "\n"
        "<85>1 2026-11-02T13:23:00Z pacs4 PACS 9 - -\n"
        "<85>1 2026-11-02T13:24:00Z pacs5 PACS 9 - -\n" NO_TIME_MSG(DEST_ROLE) "\n";
    static const size_t pieces[] = {1, 6, sizeof text};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        struct sink2 s;
        /* the file's time: 2026-11-03T00:00:00Z (the RFC 3164 line's year) */
        struct pt_logparse *p = read2m(text, strlen(text), pieces[k], 1794096000000000LL, NULL,
                                       false, &s);
        assert_int_equal(p->st.records, 5);
        assert_int_equal(p->st.malformed, 0);
        assert_int_equal(p->st.other, 6); /* the header lines and the text stay units */
        assert_int_equal(s.r[0].p.line, 3);
        assert_int_equal(s.r[0].p.ts_us, 1793625600000000LL); /* 2026-11-02T13:20:00Z */
        assert_string_equal(s.r[0].m.user_addr, "pacs3.hosp.local");
        assert_int_equal(s.r[1].p.ts_us, 1793625660000000LL); /* 13:21:00, year 2026 */
        assert_string_equal(s.r[1].m.user_addr, "10.1.2.9");
        assert_int_equal(s.r[2].p.ts_us, -1); /* the header was the message before's */
        assert_string_equal(s.r[2].m.user_addr, "");
        assert_int_equal(s.r[3].p.ts_us, -1); /* text came between */
        assert_int_equal(s.r[4].p.ts_us, 1793625840000000LL); /* the last header: 13:24 */
        assert_string_equal(s.r[4].m.user_addr, ""); /* a Destination's address is known */
        assert_string_equal(s.r[4].m.dst_addr, "10.1.2.50");
        free(p);
    }
    static const char one[] = HEAD_LINE "\n" PRETTY_NO_TIME "\n";
    const char *m = strstr(one, "<AuditMessage>");
    every_prefix_one_message(one, (size_t)(m - one), (size_t)(m - one) + strlen(PRETTY_NO_TIME));
}

static void xmltag_views_stay_inside(void **state)
{
    (void)state;
    const char *t = "</><a x='1>2' y=\"&amp;&#x41;\"/><b";
    struct pt_xmlscan sc;
    struct pt_xmltag tag;
    char v[16];
    pt_xmlscan_init(&sc, (const uint8_t *)t, strlen(t));
    assert_true(pt_xmlscan_next(&sc, &tag));
    assert_true(tag.closing);
    assert_string_equal(tag.name, "");
    assert_int_equal(tag.attrs_len, 0);
    assert_false(pt_xmltag_attr(&tag, "x", v, sizeof v));
    assert_true(pt_xmlscan_next(&sc, &tag));
    assert_string_equal(tag.name, "a");
    /* a tag ends at its first '>' (quotes are not weighed): "2' y=..." is its text */
    assert_int_equal(tag.text_len, strlen("2' y=\"&amp;&#x41;\"/>"));
    assert_false(pt_xmlscan_next(&sc, &tag)); /* "<b" is cut */
    const char *u = "<a x='1' y=\"&amp;&#x41;\"/>";
    pt_xmlscan_init(&sc, (const uint8_t *)u, strlen(u));
    assert_true(pt_xmlscan_next(&sc, &tag));
    assert_true(tag.empty);
    assert_true(pt_xmltag_attr(&tag, "y", v, sizeof v));
    assert_string_equal(v, "&A");
    assert_true(pt_xmltag_attr(&tag, "x", v, sizeof v));
    assert_string_equal(v, "1");
}

static void pretty_printed_sniffed_as_atna(void **state)
{
    (void)state;
    assert_string_equal(pt_sniff_evidence((const uint8_t *)DOC, strlen(DOC)), "log:atna");
    const char *plain = "<?xml version=\"1.0\"?>\n<AuditMessage>\n<Other/>\n</AuditMessage>\n";
    assert_null(pt_sniff_evidence((const uint8_t *)plain, strlen(plain)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(export_message_fields),
        cmocka_unit_test(rfc3881_query_fields),
        cmocka_unit_test(log_lines_accounted_in_any_pieces),
        cmocka_unit_test(sniffed_as_atna),
        cmocka_unit_test(every_cut_is_malformed_never_read_past),
        cmocka_unit_test(messages_over_many_lines),
        cmocka_unit_test(syslog_frames_over_many_lines),
        cmocka_unit_test(patients_keyed_distinct),
        cmocka_unit_test(every_prefix_accounts_for_every_message),
        cmocka_unit_test(oversize_message_is_passed_over),
        cmocka_unit_test(pretty_printed_sniffed_as_atna),
        cmocka_unit_test(xmltag_views_stay_inside),
        cmocka_unit_test(syslog_header_gives_time_and_host),
        cmocka_unit_test(namespace_prefixed_names),
        cmocka_unit_test(cdata_sections_in_values),
        cmocka_unit_test(comments_in_messages),
        cmocka_unit_test(syslog_header_on_an_earlier_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
