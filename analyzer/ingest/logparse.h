/*
 * logparse.h - logs read as records (issue 14): connections, DNS queries and HTTP requests
 * from Zeek (TSV with #fields headers, and JSON), Suricata EVE JSON and web-server access logs
 * (common and combined), W3C extended logs (IIS, Windows Firewall) and syslog lines of
 * netfilter (iptables/nftables LOG), FortiGate, dnsmasq, BIND and Unbound, Squid's native
 * access log, NetFlow/IPFIX exports as CSV, AWS load balancer logs, Palo Alto PAN-OS traffic,
 * the Windows DNS server's debug log, and FTP servers' transfer logs (vsftpd, xferlog), each
 * row with its provenance (evidence item, line, byte offset, line length).
 *
 * Streaming: fed the file's bytes in pieces of any size; memory is one line
 * (PT_LOG_LINE_MAX) and one JSON table, whatever the file's size. The format is the sniffer's
 * (ingest/sniff.h, by content), refined per line where a file mixes record kinds (a Zeek JSON
 * file of any path, EVE's event types). Every line is accounted for: a header or comment, a
 * stored record, a recognised record of a kind not stored as a row (kept as text, PHI-scanned
 * like the rest of the file), a blank line, or malformed (one `log.malformed_line` anomaly per
 * line up to PT_LOG_ANOMALY_MAX per file, then one summary).
 */
#ifndef PT_LOGPARSE_H
#define PT_LOGPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/addr.h"
#include "../core/anomaly.h"
#include "atna.h"
#include "jsonflat.h"
#include "logtime.h"

#define PT_LOG_LINE_MAX 65536
#define PT_LOG_ANOMALY_MAX 100
#define PT_LOG_FIELDS 64
#define PT_LOG_ASA_IDS 4096        /* Cisco ASA connection ids whose direction is remembered */

enum pt_logfmt {
    PT_LOGFMT_NONE,        /* not a log this version reads as records */
    PT_LOGFMT_ZEEK,        /* TSV with #separator/#fields headers */
    PT_LOGFMT_ZEEK_JSON,
    PT_LOGFMT_EVE,
    PT_LOGFMT_WEB,         /* NCSA common / combined */
    PT_LOGFMT_W3C,         /* W3C extended (#Fields:): IIS, Windows Firewall pfirewall.log */
    PT_LOGFMT_SYSLOG,      /* netfilter LOG lines (iptables/nftables), FortiGate traffic,
                            * dnsmasq, BIND and Unbound queries */
    PT_LOGFMT_SQUID,       /* Squid's native access.log */
    PT_LOGFMT_FLOWCSV,     /* NetFlow/IPFIX exports as CSV (nfdump -o csv, SiLK rwcut) */
    PT_LOGFMT_ELB,         /* AWS load balancer access logs (ALB, Classic ELB) */
    PT_LOGFMT_VSFTPD,      /* vsftpd's own log (vsftpd.log: "OK UPLOAD: Client ...") */
    PT_LOGFMT_XFERLOG,     /* xferlog: wu-ftpd's format, vsftpd's and ProFTPD's TransferLog */
    PT_LOGFMT_PANOS,       /* Palo Alto PAN-OS traffic logs (CSV, bare or in syslog) */
    PT_LOGFMT_WINDNS,      /* Windows DNS server debug log (dns.log) */
    PT_LOGFMT_NFCAPD,      /* nfdump's CSV of an nfcapd file (ingest/nfdump.h): flow CSV */
    PT_LOGFMT_EVTX,        /* Windows .evtx: the lines of the libevtx reader (ingest/evtx.h) */
    PT_LOGFMT_ATNA,        /* IHE ATNA / DICOM audit messages, on one line or many
                            * (ingest/atna.h, atna_stream.c) */
};

/* Provenance and source of a log row. */
struct pt_logprov {
    uint32_t item;
    uint64_t line;         /* 1-based */
    uint64_t offset;       /* of the line's first byte in the file */
    int64_t ts_us;         /* -1: the line has no time */
    const char *source;    /* "zeek:conn", "eve:flow", "web-access", ... (static) */
    uint32_t length;       /* bytes of the line, without its line end */
};

/* A connection from a log: counts of -1 are not given by the source. Zeek counts payload
 * (orig_bytes) and IP bytes; EVE counts whole packets as captured (frame bytes). */
struct pt_logconn_rec {
    struct pt_logprov p;
    int64_t dur_us;
    char proto[8];
    char client[PT_ADDR_STRLEN], server[PT_ADDR_STRLEN];
    int32_t cport, sport;  /* -1: none */
    int64_t c_bytes, s_bytes, c_ip_bytes, s_ip_bytes, c_frame_bytes, s_frame_bytes;
    int64_t c_pkts, s_pkts;
    char state[24], service[32], uid[48];
    bool both_ways;        /* c_bytes counts both directions in one number (Cisco ASA) */
};

struct pt_logdns_rec {
    struct pt_logprov p;
    char proto[8];
    char client[PT_ADDR_STRLEN], server[PT_ADDR_STRLEN];
    int32_t cport, sport;
    char query[256], qtype[16], rcode[16];
    char answers[512];     /* comma-separated, truncated */
    char uid[48];
};

struct pt_loghttp_rec {
    struct pt_logprov p;
    char client[PT_ADDR_STRLEN], server[PT_ADDR_STRLEN];
    int32_t cport, sport;
    char method[16], host[256], uri[1024];
    int32_t status;        /* -1: none */
    int64_t req_bytes, resp_bytes;
    char user_agent[256], user[64], uid[48];
};

/* A file transfer an FTP server logged: who, which file, which way, how much. */
struct pt_logxfer_rec {
    struct pt_logprov p;
    char client[PT_ADDR_STRLEN];
    char user[64];
    char direction[12];    /* upload (to the server) | download (from it) | delete */
    char path[1024];
    int64_t bytes;         /* -1: not given */
    int64_t dur_us;        /* -1: not given */
    bool ok;               /* vsftpd "OK" (xferlog: completion status 'c') */
};

/* A Windows event (ingest/evtx.h): logons, object access, process creation, PowerShell
 * script blocks. p.line is the EVTX record identifier, p.offset the record's byte offset in
 * the file. Text members are "" where the event does not give them, numbers -1. */
struct pt_logwinevt_rec {
    struct pt_logprov p;
    int32_t event_id;
    char kind[16];          /* logon | logon_failed | explicit_logon | object_access |
                             * process | script_block */
    char channel[64], computer[128];
    char subject_user[160]; /* DOMAIN\user */
    char target_user[160];
    int32_t logon_type;
    char client[PT_ADDR_STRLEN];
    int32_t cport;
    char target_server[128]; /* 4648 */
    char workstation[128];  /* 4624/4625 WorkstationName: the client's NetBIOS name */
    char logon_id[24];      /* 4624 TargetLogonId, else SubjectLogonId ("0x3e7") */
    char auth_package[64];  /* 4624/4625 AuthenticationPackageName: NTLM, Kerberos, ... */
    char process[260];      /* the new process (4688) or the acting one */
    char parent[260];       /* 4688 */
    char object[520];       /* 4663 ObjectName; 4104 the script's Path */
    char access[64];        /* 4663 AccessMask; 4625 Status/SubStatus */
    char ticket_enc[24];    /* 4768/4769 TicketEncryptionType as 0x<hex> (0x17 RC4-HMAC) */
    char command[1024];     /* 4688 CommandLine */
    char script_id[48];     /* 4104 ScriptBlockId */
    int32_t part, parts;    /* 4104 MessageNumber of MessageTotal */
    int64_t script_chars;   /* 4104: characters of ScriptBlockText (its text is not stored) */
    bool recovered;         /* read by libevtx from a chunk's free space (a deleted record) */
};

/* An IHE ATNA / DICOM audit message (ingest/atna.h): counts of patients, no identifier. */
struct pt_logaudit_rec {
    struct pt_logprov p;
    struct pt_atna_msg m;
};

/* A patient an audit message names: the keyed hash (HMAC-SHA-256 under the case key) of its
 * identifier's key (pt_atna_patient_key); p is the message's provenance. `id` is the
 * identifier itself only when the parser was told to keep it (--keep-phi), else "". */
struct pt_logaudit_patient_rec {
    struct pt_logprov p;
    char hmac[65];
    char id[PT_ATNA_ID_MAX];
};

enum pt_logrec_kind { PT_LOGREC_CONN, PT_LOGREC_DNS, PT_LOGREC_HTTP, PT_LOGREC_XFER,
                      PT_LOGREC_WINEVT, PT_LOGREC_AUDIT, PT_LOGREC_AUDIT_PATIENT,
                      PT_LOGREC_COUNT };

struct pt_logparse;
typedef void (*pt_logrec_fn)(void *arg, enum pt_logrec_kind kind, const void *rec);
/* `offset`: of the line in the file (0 for the per-file summary) */
typedef void (*pt_loganom_fn)(void *arg, uint64_t offset, enum pt_anom kind, const char *detail);

/* Per file accounting (the log_source row). */
struct pt_logstats {
    uint64_t lines, records, other, headers, blank, malformed, bytes;
    uint64_t conn, dns, http, xfer, winevt, audit;
};

/* EVTX: the event identifiers read as *other*, counted (evtx.c) */
#define PT_EVTX_OTHER_IDS 32
struct pt_evtx_other {
    uint32_t id[PT_EVTX_OTHER_IDS];
    uint64_t n[PT_EVTX_OTHER_IDS];
    size_t used;
    uint64_t rest;                  /* of identifiers past the table */
    uint64_t recovered, failed;     /* records from free space; records (not recovered ones)
                                     * libevtx could not read */
    uint64_t read, declared;        /* records libevtx gave (not recovered); the chunks declare */
    uint64_t recovered_failed;      /* free-space candidates libevtx could not read */
};

/* IHE ATNA: the AuditMessage gathered across lines and pieces (ingest/atna_stream.c). A
 * message longer than PT_ATNA_MSG_MAX is not read (one anomaly); memory is this buffer. */
#define PT_ATNA_MSG_MAX (1u << 20)
struct pt_atna_stream {
    uint64_t pos;           /* bytes read */
    uint64_t line;          /* the physical line being read, 1-based */
    uint64_t line_start;    /* its first byte's offset */
    bool touched;           /* a message has bytes on this line */
    uint8_t first, second;  /* the line's first byte that is not white space and the next
                             * one, 0 while none */
    bool in_msg, head, oversize, nul;
    uint8_t quote;          /* in the message's opening tag: the open quote, 0 none */
    uint8_t last;           /* in the opening tag: its last byte that is not white space */
    /* the opening matcher: in a tag's name (0 no, 1 yes), bytes of "AuditMessage" matched
     * (0xFF: not it), a namespace prefix passed, and the tag's bytes ("<ns1:AuditMessage") */
    uint8_t ost, ok, ocolon, otn;
    uint8_t otag[PT_ATNA_PREFIX_MAX + 16];
    /* the closing matcher: 0 idle, 1 after '<', 2 in the name after "</", 3 after the name;
     * bytes of "AuditMessage" matched (0xFF: not it), a prefix passed, the name's length */
    uint8_t cst, ck, ccolon, cn;
    uint8_t cdm, cmm;       /* bytes matched of "<![CDATA[" and of "<!--" */
    uint8_t close_ch;       /* inside a CDATA section ']' or a comment '-' (no tag begins or
                             * ends there), else 0 */
    uint8_t cle;            /* bytes matched of its end, "]]>" or "-->" */
    uint8_t pre[256];       /* the line's bytes before a message (its syslog header) */
    size_t pre_len;
    uint64_t pre_total;
    bool hd_ok;             /* the message's line began with a syslog header: hd */
    struct pt_atna_head hd;
    bool lh_ok;             /* an earlier line, no message's, was a syslog header: lh (the
                             * next message's when its own line has none) */
    struct pt_atna_head lh;
    uint64_t msg_line, msg_off, msg_bytes;
    size_t len;
    uint8_t buf[PT_ATNA_MSG_MAX];
};

struct pt_hmac;

struct pt_logparse {
    enum pt_logfmt fmt;
    uint32_t item;
    pt_logrec_fn rec;
    pt_loganom_fn anom;
    void *arg;
    struct pt_logstats st;
    struct pt_logtime lt;           /* line times for web logs and ISO fields */
    /* Zeek TSV: the current header */
    char sep;
    char path[32];
    char fields[PT_LOG_FIELDS][32];
    size_t n_fields;
    bool tail;                      /* flow CSV: past nfdump's "Summary" line */
    int16_t zidx[32];               /* per field read (logparse.c's enum zf): its column, -1 */
    uint8_t asa_dir[PT_LOG_ASA_IDS]; /* by connection id modulo: 0 unknown, 1 inbound, 2 out */
    struct pt_evtx_other evtx;      /* EVTX: what was not stored as rows */
    struct pt_atna_stream atna;     /* ATNA: the message being read */
    struct pt_hmac *mac;            /* ATNA: keys patients' identifiers (the caller's; NULL:
                                     * no patient rows) */
    bool keep_ids;                  /* ATNA: patient rows also carry the identifier */
    /* the line being gathered */
    uint64_t line_off;
    size_t line_len;                /* of the line being parsed */
    bool overlong;
    size_t len;
    uint8_t line[PT_LOG_LINE_MAX];
    struct pt_jsonflat json;
};

/* The format for a sniffer's answer ("log:zeek" ...), PT_LOGFMT_NONE when not read. */
enum pt_logfmt pt_logfmt_of(const char *sniffed);
const char *pt_logfmt_name(enum pt_logfmt f);
/* `p` is large: allocate it (calloc); `mtime_us` dates syslog-style lines. */
void pt_logparse_init(struct pt_logparse *p, enum pt_logfmt fmt, uint32_t item, int64_t mtime_us,
                      pt_logrec_fn rec, pt_loganom_fn anom, void *arg);
void pt_logparse_feed(struct pt_logparse *p, const uint8_t *b, size_t n);
/* The last line when the file does not end with a newline, and the anomaly summary. */
void pt_logparse_end(struct pt_logparse *p);

/* One line (no newline) as the parser would read it; for the unit test and the fuzzer. */
void pt_logparse_line(struct pt_logparse *p, const uint8_t *b, size_t n);

/* ATNA (atna_stream.c): the bytes of the file, and its end; pt_logparse_feed and
 * pt_logparse_end call them for format atna. */
void pt_atna_feed(struct pt_logparse *p, const uint8_t *b, size_t n);
void pt_atna_end(struct pt_logparse *p);

#endif
