/*
 * atna.h - IHE ATNA / DICOM PS3.15 audit messages (issue 14): the DICOM audit message XML
 * (PS3.15 Annex A.5, the RFC 3881 elements) that an imaging or record system sends, usually
 * over syslog (RFC 5424, RFC 5425/5426), when patient data is exported, queried, imported or
 * transferred. One AuditMessage per line (the syslog transport) or many lines; element
 * names may carry a namespace prefix (<ns1:AuditMessage>, <atna:EventIdentification>);
 * element text may hold CDATA sections (xmltag.h). The syslog header before a message
 * (pt_atna_syslog_head) gives its time and host when the XML does not (atna_stream.c).
 *
 * Read: EventIdentification (EventActionCode, EventDateTime, EventOutcomeIndicator, EventID),
 * the requesting ActiveParticipant (UserIsRequestor: its UserID and NetworkAccessPointID),
 * the addresses of the participants in the Source (110153) and Destination (110152) roles, and
 * the ParticipantObjectIdentification elements counted: patients (TypeCodeRole 1, or
 * IDTypeCode 2 "Patient Number") and studies (IDTypeCode 110180). No patient identifier is
 * kept: only counts.
 *
 * Trust boundary: the bytes are untrusted; reads stay inside [p, p + n) (xmltag.h).
 */
#ifndef PT_ATNA_H
#define PT_ATNA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/addr.h"

struct pt_atna_msg {
    char event[16];         /* EventID code: 110106 Export, 110112 Query, ... */
    char event_name[48];    /* originalText / displayName, else the name of a known code */
    char action[4];         /* C R U D E, "" when not given */
    int32_t outcome;        /* EventOutcomeIndicator: 0 success, 4, 8, 12; -1 not given */
    char when[40];          /* EventDateTime as written */
    char user[128];         /* the requestor's UserID */
    char user_addr[PT_ADDR_STRLEN];   /* the requestor's NetworkAccessPointID */
    char src_addr[PT_ADDR_STRLEN];    /* of the participant in the Source role (110153) */
    char dst_addr[PT_ADDR_STRLEN];    /* ... Destination role (110152) */
    int32_t patients;       /* patient participant objects */
    int32_t studies;        /* study participant objects (110180) */
    int32_t objects;        /* all participant objects */
};

/* A message's patient identifiers, one call per patient participant object, as the key
 * pt_atna_patient_key gives (the caller hashes it; it is never stored as such). */
#define PT_ATNA_ID_MAX 256
typedef void (*pt_atna_patient_fn)(void *arg, const char *key);

/* Where the element `local` starts in p[0..n): "<local" or "<prefix:local" (a namespace
 * prefix of at most PT_ATNA_PREFIX_MAX name characters) followed by white space, '>' or '/'
 * (or the end), or NULL. */
#define PT_ATNA_PREFIX_MAX 32
const uint8_t *pt_atna_find_tag(const uint8_t *p, size_t n, const char *local);
/* Where "<AuditMessage" (or "<prefix:AuditMessage") starts in p[0..n), or NULL. */
const uint8_t *pt_atna_find(const uint8_t *p, size_t n);

/* The syslog header before a message on its line: RFC 5424 ("<PRI>1 TIMESTAMP HOSTNAME
 * ...", NILVALUE "-" none) or RFC 3164 ("<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: ...", or an RFC
 * 3339 time in its place), after an RFC 6587 octet count or not. `when` is the time as
 * written, `host` the HOSTNAME ("" when none, or longer than PT_ADDR_STRLEN - 1); false
 * when p[0..n) is no such header. */
struct pt_atna_head {
    bool rfc5424;
    char when[40];
    char host[PT_ADDR_STRLEN];
};
bool pt_atna_syslog_head(const uint8_t *p, size_t n, struct pt_atna_head *h);
/* Read one AuditMessage from p[0..n) (starting at "<AuditMessage"); false, with `why` set,
 * when it is cut or has no EventIdentification with an EventID. */
bool pt_atna_parse(const uint8_t *p, size_t n, struct pt_atna_msg *m, const char **why);
/* The patients of a message pt_atna_parse read (call it only then): fn for each patient
 * participant object (TypeCodeRole 1 or IDTypeCode 2) that has a ParticipantObjectID. */
void pt_atna_patients(const uint8_t *p, size_t n, pt_atna_patient_fn fn, void *arg);
/* The key of a patient identifier: an HL7 CX value's ID and assigning authority ("PID1^^^Site
 * A&1.2.40&ISO" gives "PID1^Site A&1.2.40&ISO", "P-1001" itself); false when it has no ID
 * or the key does not fit `cap`. Equal keys are one patient. */
bool pt_atna_patient_key(const char *id, char *out, size_t cap);

#endif
