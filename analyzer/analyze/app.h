/*
 * app.h - the application layer: finds the protocol of a TCP stream by its content and
 * feeds the stream to that protocol's decoder. Decoders are listed in protocols.def.
 *
 * One context per worker; everything a decoder produces leaves through the callbacks.
 */
#ifndef PT_APP_H
#define PT_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../flow/flow.h"
#include "../ingest/logparse.h"
#include "objstore.h"

struct pt_unpack_run;

struct pt_http_rec {
    int64_t flow_id;
    uint32_t seq;             /* transaction index within the flow */
    uint32_t item;
    uint64_t frame;           /* frame carrying the request line */
    int64_t ts_us;
    char method[16];
    char uri[1024];
    char host[256];
    char user_agent[256];
    char req_ctype[128];
    uint64_t req_body;        /* decoded request body bytes stored */
    char req_sha256[PT_SHA256_HEX];
    int status;               /* 0 when no response was seen */
    char resp_ctype[128];
    uint64_t resp_body;
    char resp_sha256[PT_SHA256_HEX];
};

struct pt_dns_rec {
    int64_t flow_id;
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
    uint8_t dir;              /* 0 client to server */
    uint8_t transport;        /* 6 or 17 */
    uint16_t id;
    bool response;
    uint8_t opcode, rcode;
    char qname[1024];         /* presentation form, non-printable bytes as \DDD (255 x 4) */
    uint16_t qtype, qclass;
    uint16_t n_answers;
    uint32_t size;            /* message bytes */
    uint32_t answer_bytes;    /* RDATA bytes in the answer section */
    char answers[512];        /* "A 1.2.3.4; CNAME x.example; TXT[20]" (first ones) */
    bool malformed;
};

/* One resource record of a DNS answer section (at most PT_DNS_MAX_RRS per message). */
struct pt_dns_answer_rec {
    int64_t flow_id;
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
    uint16_t msg_id, index;   /* the message's id; the record's place in its answers */
    char name[1024];          /* owner, presentation form */
    uint16_t type, rclass;
    uint32_t ttl;
    uint16_t rdlength;
    bool decoded;             /* data is the type's text; false: the RDATA in hex */
    char data[4100];          /* "1.2.3.4", "10 mail.example", "\"text\"", ...; RDATA past
                               * 2 KiB (hex) or 4 KiB of text is cut */
};

struct pt_tls_rec {
    int64_t flow_id;
    uint32_t item;
    uint64_t frame;           /* first frame of the handshake */
    int64_t ts_us;
    uint16_t client_version;  /* ClientHello legacy_version */
    uint16_t max_version;     /* highest supported_versions entry, 0 when absent */
    uint16_t server_version;  /* chosen by the server, 0 when no ServerHello */
    uint16_t cipher;
    char sni[256];
    char alpn[128];           /* "h2,http/1.1" */
    char ja3[2048];           /* the JA3 string */
    char ja3_md5[33];
    char ja4[40];
    char cert_subject[256];   /* first server certificate, when in clear (TLS <= 1.2) */
    char cert_issuer[256];
};

struct pt_hl7_rec {
    int64_t flow_id;
    uint32_t seq;             /* message index within the flow */
    uint8_t dir;
    uint32_t item;
    uint64_t frame;           /* frame carrying the start of the message */
    int64_t ts_us;
    char sending_app[64], sending_facility[64], receiving_app[64], receiving_facility[64];
    char msg_time[32];        /* MSH-7 as sent */
    char msg_type[32];        /* MSH-9, e.g. ORU^R01 */
    char control_id[64];      /* MSH-10 */
    char version[16];         /* MSH-12 */
    uint32_t segments, pid_segments;
    uint64_t size;
    bool complete;
    char sha256[PT_SHA256_HEX]; /* the stored message */
};

/* One DIMSE message (command, and its data set when it has one). */
struct pt_dicom_rec {
    int64_t flow_id;
    uint32_t seq;
    uint8_t dir;
    uint8_t pc_id;
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
    char command[16];         /* C-STORE-RQ, ... or 0xNNNN */
    uint16_t message_id;
    char sop_class[65];
    char sop_instance[65];
    char move_destination[17];
    uint16_t status;
    bool has_status;
    uint64_t dataset_size;    /* data set bytes (gaps included) */
    bool complete;
    char sha256[PT_SHA256_HEX]; /* the stored Part 10 file, "" when no data set */
};

struct pt_dicom_assoc_rec {
    int64_t flow_id;
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
    char calling_ae[17], called_ae[17];
    char app_context[65];
    char result[16];          /* accepted | rejected | aborted | no answer */
    char reject[48];
    bool released;
    char contexts[16384];     /* JSON list of presentation contexts */
};

struct pt_ftp_rec {
    int64_t ctl_flow, data_flow;
    uint32_t item;
    uint64_t frame;            /* first data byte */
    int64_t ts_us;
    char command[8];           /* STOR, RETR, APPE, STOU, LIST, NLST, MLSD */
    char name[256];            /* the command's argument (file name or path) */
    char user[64];
    char banner[128];          /* the server's 220 greeting (its software, often its name) */
    char direction[10];        /* upload | download | internal | external */
    uint64_t size;             /* bytes (gaps included) */
    bool complete;
    char sha256[PT_SHA256_HEX];
};

struct pt_ftp_table;

struct pt_smtp_rec {
    int64_t flow_id;
    uint32_t seq;
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
    char helo[128];
    char mail_from[256];
    char rcpt_to[512];        /* comma separated */
    char from[256], to[512], subject[512], date[64], msg_id[256];
    uint64_t size;            /* message bytes (dot-unstuffed; gaps included) */
    unsigned attachments;     /* MIME leaves with a file name */
    bool complete;
    bool starttls;            /* the session switched to TLS */
    char sha256[PT_SHA256_HEX];
};

struct pt_icmp_rec {
    int64_t flow_id;
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
    uint64_t messages;
    uint64_t echo_requests, echo_replies, other;
    uint64_t payload_bytes[2];  /* client to server, server to client */
    uint32_t max_payload;
    double entropy;             /* bits per byte over all payload bytes */
    uint64_t mismatched_replies;/* echo replies that did not return the request's payload */
    uint64_t unanswered;
    uint64_t dir_messages[2];   /* client to server, server to client */
    uint32_t dir_max_payload[2];
};

/* One SSH connection: the version strings of both ends (RFC 4253 §4.2). */
struct pt_ssh_rec {
    int64_t flow_id;
    uint32_t item;
    uint64_t frame;
    int64_t ts_us;
    char client[1024], server[1024]; /* "" when that side's was not seen; \xNN escapes */
};

/* One SMB2 file handle: opened, read and written, closed. */
struct pt_smb_rec {
    int64_t flow_id;
    uint32_t item;
    uint64_t frame;           /* the CREATE request (or the first READ/WRITE seen) */
    int64_t ts_us;
    char share[256];          /* TREE_CONNECT path, "\\server\share" */
    char name[512];           /* path within the share */
    char action[16];          /* CREATE result: opened, created, overwritten, superseded */
    char user[128];           /* NTLMSSP user of the session, "DOMAIN\user" */
    bool is_dir;
    bool is_pipe;             /* a named pipe on IPC$: bytes counted, no object */
    uint64_t size;            /* end of file from CREATE or CLOSE */
    bool size_known;
    int64_t created_us, modified_us;
    uint64_t bytes_read, bytes_written;   /* data bytes seen, repeats included */
    char read_sha256[PT_SHA256_HEX], write_sha256[PT_SHA256_HEX];
    bool read_complete, write_complete;
};

/* A flow an exporter described in a NetFlow v5/v9 or IPFIX packet of a capture (netflow.c),
 * stored as a log_conn row like an nfcapd file's: conn.p.line is the frame of the export
 * packet, conn.p.offset the record's byte offset in its UDP payload, conn.p.length its size;
 * conn.p.source is set from `source` when the row is written. */
struct pt_netflow_rec {
    struct pt_logconn_rec conn;
    char source[64];          /* "netflow:v9@192.0.2.1": version and exporter address */
};

/* The record kinds of records.def. */
enum pt_rec_kind {
#define PT_RECORD(name, NAME, table, batch) PT_REC_##NAME,
#include "records.def"
#undef PT_RECORD
    PT_REC_COUNT
};

struct pt_app_ctx {
    struct pt_objstore *store;
    void *arg;
    void (*object)(void *arg, const struct pt_object_rec *r);
    /* a decoder's record (records.def): kind says which struct rec points to */
    void (*emit)(void *arg, enum pt_rec_kind kind, const void *rec);
    struct pt_ftp_table *ftp;  /* FTP data channels announced in this worker (owned) */
    struct pt_unpack_run *unpack; /* archives unpacked in this run, shared by all workers
                                     (borrowed; NULL: nothing shared, see unpack.h) */
    void (*anomaly)(void *arg, uint32_t item, uint64_t frame, enum pt_anom kind,
                    const char *detail);
};

/* pt_emit_http(ctx, &rec) and so on: hand a finished record to the pipeline (typed). */
#define PT_RECORD(name, NAME, table, batch)                                                        \
    static inline void pt_emit_##name(const struct pt_app_ctx *ctx,                                \
                                      const struct pt_##name##_rec *rec)                           \
    {                                                                                              \
        if (ctx->emit != NULL) {                                                                   \
            ctx->emit(ctx->arg, PT_REC_##NAME, rec);                                               \
        }                                                                                          \
    }
#include "records.def"
#undef PT_RECORD

/* Returned by upgraded(): the tunnel's content decides its protocol (HTTP CONNECT). */
extern const struct pt_app_proto pt_app_reprobe;

/* Stream operations for pt_flow_set_stream_ops(); their arg is a struct pt_app_ctx. */
extern const struct pt_stream_ops pt_app_stream_ops;

/* A data connection announced by an FTP control connection of this worker, or NULL. */
void *pt_ftp_claim(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec, int64_t now_us);
void pt_ftp_table_free(struct pt_ftp_table *t);

/* Record an anomaly found by a decoder, at the packet that delivered the bytes (pkt may be
 * NULL: bytes released at the end of a flow are then tied to `item` without a frame). */
void pt_app_anomaly(const struct pt_app_ctx *ctx, const struct pt_flow_pkt *pkt, uint32_t item,
                    enum pt_anom kind, const char *detail);

/* Start an object description for bytes sent in `dir` of flow `rec` at stream offset `off`,
 * first seen in (item, frame, ts); the caller adds name, encoding and part. */
void pt_app_object_meta(struct pt_object_rec *meta, const struct pt_flow_rec *rec, int dir,
                        const char *protocol, uint64_t off, uint32_t item, uint64_t frame,
                        int64_t ts_us);

/* "upload", "download", "internal" or "external" for bytes sent in `dir` of a flow. */
const char *pt_app_direction(const struct pt_flow_rec *rec, int dir);

/* For probes: does `word` (ASCII) occur in p[0..n), ignoring case? */
bool pt_app_has_word(const uint8_t *p, size_t n, const char *word);
/* A `refuted` member for protocols whose server replies start with three digits (FTP, RFC 959
 * §4.2; SMTP, RFC 5321 §4.2): true when the server's first bytes do not. */
bool pt_app_not_digit_reply(int dir, const uint8_t *p, size_t n);

/* `data` and `gap` members of a protocol that only decodes datagrams (ICMP, NetFlow). */
void pt_app_no_stream(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                      const struct pt_flow_pkt *pkt);
void pt_app_no_gap(void *st, int dir, uint64_t off, uint64_t n);

/* Protocol decoder descriptor (one per line of protocols.def). */
struct pt_app_proto {
    const char *name;
    /* Does a stream (transport 6) or datagram (17) that starts with p[0..n) in direction dir
     * look like this protocol? The ports are hints only. */
    bool (*probe)(int transport, int dir, const uint8_t *p, size_t n, uint16_t cport,
                  uint16_t sport);
    /* Do the other direction's first bytes rule the protocol out, whatever this direction's
     * probe said? NULL member when nothing can. (An FTP or SMTP server's every reply starts
     * with three digits: a server that greets "+OK" is POP3, whose client may open with
     * USER as an FTP client does.) */
    bool (*refuted)(int dir, const uint8_t *p, size_t n);
    void *(*open)(struct pt_app_ctx *ctx, const struct pt_flow_rec *rec);
    void (*data)(void *st, int dir, uint64_t off, const uint8_t *p, size_t n,
                 const struct pt_flow_pkt *pkt);
    void (*gap)(void *st, int dir, uint64_t off, uint64_t n);
    void (*close)(void *st);
    /* For datagram protocols (NULL otherwise): one UDP payload. */
    void (*datagram)(void *st, int dir, const uint8_t *p, size_t n, const struct pt_flow_pkt *pkt);
    /* Once the session switched protocol (STARTTLS, HTTP CONNECT or Upgrade): what decodes
     * the rest, or &pt_app_reprobe to decide by content again; NULL while it has not.
     * NULL member when the protocol cannot switch. */
    const struct pt_app_proto *(*upgraded)(void *st);
    /* Bytes the decoder received after the switch in `dir`, for the next decoder, and their
     * stream offset in that direction (*off); NULL member when there are none. */
    size_t (*tail)(void *st, int dir, const uint8_t **p, uint64_t *off);
    /* For the memory cap (core/memcap.h): the size of the per-flow state `open` allocates,
     * and (NULL member when it has none) what its buffers hold now beyond that. */
    size_t state_size;
    size_t (*mem)(const void *st);
};

#endif
