/*
 * tunnel.h - DNS tunnel names grouped by their tunnel domain, and tunnel payloads decoded
 * (hex, base32, base64, base64url, dnscat2's framing, iodine's upstream data) into the bytes
 * that were carried. Pure functions over strings and bytes: the verdict groups names with
 * them, and tunnel_phase.c turns decoded payloads into objects.
 */
#ifndef PT_TUNNEL_H
#define PT_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

/* One distinct query name of one inside client. `name` is borrowed: the presentation form
 * of dns.c (non-printable bytes as \DDD, dots inside labels as \.), without the trailing
 * dot. pt_tun_group fills the rest. */
struct pt_tun_name {
    const char *name;
    char key[256];      /* the tunnel domain: a suffix of the name, or a tag such as
                         * "dnscat.*" or "*" when the name has no registered domain */
    size_t data_len;    /* suffix keys: the data part is name[0, data_len) ("" when 0) */
    bool tagged;        /* tag keys: the data labels are those that look encoded */
};

/* Group names by their longest shared suffix: from the registered domain (public-suffix
 * aware for common second-level suffixes) the key grows one label to the left while that
 * longer suffix still holds at least two names and a quarter of the names of the shorter
 * one, or PT_TUN_MIN_NAMES names and a new label that does not look encoded (so a small
 * tunnel beside a larger one under the same parent is not merged into the parent), so `<data>.t.example.com` groups under t.example.com while www.example.com and
 * mail.example.com stay under example.com. A name whose last label is not a plausible TLD
 * (a dnscat2 `dnscat.<hex>` name, `<hex>.<hex>`) has no registered domain: its key is its
 * non-encoded labels followed by "*". Case-insensitive. Returns PT_ENOMEM only. */
pt_status pt_tun_group(struct pt_tun_name *names, size_t n);

/* One client's query names `q` (borrowed, time order, repeats allowed) as distinct names
 * (case ignored, the first occurrence kept), grouped with pt_tun_group. Each array has
 * room for n: names (m of them, in time order), first[k] the query of name k's first
 * occurrence, which[i] (when not NULL) the name of query i, order the names by key and then
 * time, so each group is one run. Returns PT_ENOMEM only. */
pt_status pt_tun_distinct(const char *const *q, size_t n, struct pt_tun_name *names, size_t *m,
                          size_t *first, size_t *which, size_t *order);

/* The data part of a grouped name into out (its encoded labels with their dots); returns
 * its length. */
size_t pt_tun_data_part(const struct pt_tun_name *nm, char *out, size_t len);

/* The data an answer record carries downstream, as a data part for pt_tun_decode (into out,
 * NUL-terminated; returns its length, 0 when the record carries none): a TXT record's
 * character-strings joined, without their quotes (dns.c's \DDD escapes kept); a CNAME, NS,
 * PTR or MX (after its preference) target's data part below the tunnel domain `key` (for a
 * tag key such as "dnscat.*", its encoded-looking labels). `type` is the record's, `decoded`
 * and `data` dns_answer's columns. Other types (NULL, whose RDATA is kept in hex, and A,
 * AAAA) give 0: not decoded. */
size_t pt_tun_answer_part(unsigned type, bool decoded, const char *data, const char *key,
                          char *out, size_t len);

/* Decoded tunnel payloads of a case become objects: reads the dns_query rows of `db`,
 * groups each inside client's names, decodes every group of at least PT_TUN_MIN_NAMES names
 * and PT_TUN_MIN_DATA data characters that fits an encoding, and stores the bytes as an
 * object (protocol "dns-tunnel", named by the tunnel domain, direction upload, partial
 * with its gaps) in a store of its own under `case_dir`, with its row. Runs after the
 * packet stage and before the PHI stage, which then scans these objects like any other. */
struct pt_db;
pt_status pt_tunnel_phase(struct pt_db *db, const char *case_dir, unsigned store_id,
                          unsigned *objects, char *err, size_t errlen);

/* Does a label look like encoded data (long, or mixing letters and digits)? */
bool pt_tun_label_encoded(const char *label, size_t len);

/* Does a data part (labels with their dots) hold an encoded-looking label? */
bool pt_tun_part_encoded(const char *part);

/* Character sets a label's bytes all belong to (bits), for the per-label tests. */
enum {
    PT_TUN_CS_HEX = 1,
    PT_TUN_CS_B32 = 2,
    PT_TUN_CS_B64 = 4,
    PT_TUN_CS_B64URL = 8,
};
unsigned pt_tun_label_charset(const char *label, size_t len);

/* The encodings a decoded payload was found in. */
enum pt_tun_enc {
    PT_TUN_ENC_NONE,
    PT_TUN_ENC_HEX,
    PT_TUN_ENC_BASE32,
    PT_TUN_ENC_BASE64,
    PT_TUN_ENC_BASE64URL,
    PT_TUN_ENC_DNSCAT2,
    PT_TUN_ENC_IODINE,
    PT_TUN_ENC_RAW,         /* ICMP echo payloads, stored as sent */
};
const char *pt_tun_enc_name(enum pt_tun_enc e);

struct pt_tun_gap {
    uint64_t at;        /* offset in the reassembled bytes where the gap sits */
    uint64_t len;       /* bytes missing there (an estimate where the scheme has no offsets) */
};

/* A reassembled payload: owned bytes, gaps between them. */
struct pt_tun_payload {
    enum pt_tun_enc enc;
    uint8_t *data;
    size_t len, cap;
    struct pt_tun_gap *gaps;
    size_t n_gaps, cap_gaps;
    uint64_t gap_bytes;
    unsigned pieces;    /* query names (or packets) that carried data */
    unsigned dropped;   /* retransmissions dropped */
    bool capped;        /* cut at PT_TUN_MAX_BYTES */
};

void pt_tun_payload_free(struct pt_tun_payload *p);

/* Decode the data parts of one tunnel's distinct queries, in time order. `parts[i]` is the
 * data part of query i in presentation form with its label dots (borrowed), `tag` the
 * group's key. Retransmissions are dropped (identical parts; the same sequence number where
 * the scheme has one). On PT_OK, out->enc is PT_TUN_ENC_NONE when no encoding fits. */
pt_status pt_tun_decode(const char *const *parts, size_t n, const char *tag,
                        struct pt_tun_payload *out);

/* iodine's downstream (doc/proto_00000502.txt): the RDATA of the NULL answers to its data
 * and ping queries (rd[i], len[i] bytes; borrowed), in time order, each a 2-byte header
 * (compression flag, the upstream packet acknowledged, downstream packet sequence number,
 * fragment number, last-fragment flag) and a raw fragment; fragments are joined per packet
 * as upstream (a fragment sent again dropped, an incomplete packet a gap) and each packet
 * inflated. out->enc is PT_TUN_ENC_IODINE when a fragment carried data. PT_ENOMEM only. */
pt_status pt_tun_iodine_down(const uint8_t *const *rd, const size_t *len, size_t n,
                             struct pt_tun_payload *out);

#endif
