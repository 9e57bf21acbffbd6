-- phitrace evidence database. Its schema version (PRAGMA user_version) is derived from this
-- file's text at build time: any change here makes older cases refuse to open, clearly.
-- STRICT tables; timestamps are UTC microseconds since the epoch (INTEGER).
-- Ids of flows are deterministic (see analyzer/flow/flow.h); anomaly ids follow insertion.
-- A flow row is written when the flow ends, usually after the rows that point to it
-- (objects, transactions, stream events), so flow_id columns carry no FOREIGN KEY clause;
-- `phitrace verify` checks that every one of them finds its flow.
CREATE TABLE run_manifest (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE evidence_item (
    id            INTEGER PRIMARY KEY,
    path          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT,
    kind          TEXT NOT NULL,          -- capture | file | unknown
    format        TEXT,                   -- pcap | pcap-ns | pcapng, with +gzip when compressed
    linktype      INTEGER,
    linktype_name TEXT,
    packets       INTEGER NOT NULL DEFAULT 0,
    first_ts      INTEGER,                -- span of its packets, or of its log lines' times
    last_ts       INTEGER,
    status        TEXT NOT NULL,          -- ok | truncated | error | skipped
    error         TEXT,
    mtime         INTEGER,                -- file modification time when read (us, UTC)
    time_source   TEXT,                   -- what first_ts..last_ts come from: packets | log lines
    segments      INTEGER NOT NULL DEFAULT 1 -- files of a split image; see evidence_segment
) STRICT;

-- The files of a split image (NAME.001, NAME.002 ... or NAME.E01, NAME.E02 ...), one row
-- each; the item's sha256 and size are over their concatenation in this order.
CREATE TABLE evidence_segment (
    item_id       INTEGER NOT NULL REFERENCES evidence_item(id),
    seq           INTEGER NOT NULL,       -- 1 for the first file
    path          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT,
    mtime         INTEGER,
    PRIMARY KEY (item_id, seq)
) STRICT;

CREATE TABLE flow (
    id               INTEGER PRIMARY KEY,
    item_id          INTEGER NOT NULL REFERENCES evidence_item(id),
    first_frame      INTEGER NOT NULL,
    last_item_id     INTEGER NOT NULL REFERENCES evidence_item(id),
    last_frame       INTEGER NOT NULL,
    family           INTEGER NOT NULL,    -- 4 | 6
    proto            INTEGER NOT NULL,    -- IP protocol number
    client_addr      TEXT NOT NULL,
    client_port      INTEGER NOT NULL,
    server_addr      TEXT NOT NULL,
    server_port      INTEGER NOT NULL,
    vlan             TEXT,                -- outer VLAN ids of the first packet: "100" or "100,200"
    reply_vlan       TEXT,                -- VLAN ids of the other direction when they differ
    ports_known      INTEGER NOT NULL,    -- 1 when a TCP/UDP header was decoded
    tunnel           TEXT,                -- "vxlan:vni=42/depth=1", NULL when not tunnelled
    class            TEXT NOT NULL,       -- internal | outbound | inbound | external
    first_ts         INTEGER NOT NULL,
    last_ts          INTEGER NOT NULL,
    c_pkts           INTEGER NOT NULL,
    c_frame_bytes    INTEGER NOT NULL,
    c_ip_bytes       INTEGER NOT NULL,
    c_payload_bytes  INTEGER NOT NULL,
    c_captured_bytes INTEGER NOT NULL,
    c_seq_bytes      INTEGER NOT NULL,
    s_pkts           INTEGER NOT NULL,
    s_frame_bytes    INTEGER NOT NULL,
    s_ip_bytes       INTEGER NOT NULL,
    s_payload_bytes  INTEGER NOT NULL,
    s_captured_bytes INTEGER NOT NULL,
    s_seq_bytes      INTEGER NOT NULL,
    c_stream_bytes   INTEGER NOT NULL,    -- TCP: distinct bytes reassembled
    c_gap_bytes      INTEGER NOT NULL,    -- TCP: stream bytes missing from the capture
    c_conflicts      INTEGER NOT NULL,    -- TCP: retransmissions that disagreed (first kept)
    s_stream_bytes   INTEGER NOT NULL,
    s_gap_bytes      INTEGER NOT NULL,
    s_conflicts      INTEGER NOT NULL,
    c_tcp_flags      INTEGER NOT NULL,
    s_tcp_flags      INTEGER NOT NULL,
    history          TEXT,
    app              TEXT,                -- application protocol found by content ("http")
    end_reason       TEXT NOT NULL,       -- eof | fin | rst | idle | reuse | evicted | log
    source           TEXT NOT NULL        -- capture, or the log's format when only a log saw
                                          -- it ("zeek:conn", "flow-csv"): see flow_source
) STRICT;
CREATE INDEX flow_class ON flow(class);

-- Flows that cross home-net, with the words the verdict, the reports and the summary share:
-- the inside end (the client of an outbound flow, the server of an inbound one) and the
-- outside end, the bytes the inside end sent and received (sequence-implied where payload is
-- missing), and whether phitrace could not read the content (TLS, SSH, or TCP of no decoded
-- protocol, or a connection only a log saw). Simple views: SQLite inlines them into the
-- query, so the indexes of flow serve as if the expressions were spelled out.
CREATE VIEW crossing_flow AS SELECT f.*,
    CASE WHEN f.class = 'outbound' THEN f.client_addr ELSE f.server_addr END AS inside,
    CASE WHEN f.class = 'outbound' THEN f.server_addr ELSE f.client_addr END AS outside,
    CASE WHEN f.class = 'outbound' THEN max(f.c_payload_bytes, f.c_seq_bytes)
         ELSE max(f.s_payload_bytes, f.s_seq_bytes) END AS bytes_out,
    CASE WHEN f.class = 'outbound' THEN max(f.s_payload_bytes, f.s_seq_bytes)
         ELSE max(f.c_payload_bytes, f.c_seq_bytes) END AS bytes_in,
    (f.source != 'capture' OR f.app IN ('tls', 'ssh', 'tcp') OR f.app IS NULL AND f.proto = 6)
        AS unread             -- encrypted, undecoded, or a connection only a log saw (its
                              -- content never in evidence)
    FROM flow f WHERE f.class IN ('outbound', 'inbound');

-- The totals of each (inside, outside) pair: its flows, the bytes each way, the bytes out
-- that phitrace could not read (unread flows), its span, its protocols (app, else the IP
-- protocol number) and its first flow.
CREATE VIEW crossing_pair AS SELECT inside, outside, count(*) AS flows,
    sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in,
    sum(CASE WHEN unread THEN bytes_out ELSE 0 END) AS unread_bytes_out,
    min(first_ts) AS first_ts, max(last_ts) AS last_ts,
    group_concat(DISTINCT coalesce(app, proto)) AS apps, min(id) AS first_flow
    FROM crossing_flow GROUP BY inside, outside;

-- Objects that left as uploads, with where they went: from the inside end to the outside
-- end, and a decoded DNS tunnel payload from the client that queried to the tunnel domain
-- (its name), whichever resolver the queries passed.
CREATE VIEW upload_object AS SELECT o.*,
    CASE WHEN o.protocol = 'dns-tunnel' OR f.class = 'outbound' THEN f.client_addr
         ELSE f.server_addr END AS source,
    CASE WHEN o.protocol = 'dns-tunnel' THEN o.name WHEN f.class = 'outbound'
         THEN f.server_addr ELSE f.client_addr END AS destination
    FROM object o JOIN flow f ON f.id = o.flow_id WHERE o.direction = 'upload';

-- TCP stream ranges that are not in the capture (never zero-filled anywhere).
CREATE TABLE stream_gap (
    id        INTEGER PRIMARY KEY,
    flow_id   INTEGER NOT NULL,                    -- flow(id); see the note at the top
    direction TEXT NOT NULL,              -- c2s | s2c
    offset    INTEGER NOT NULL,           -- stream offset of the first missing byte
    length    INTEGER NOT NULL,
    item_id   INTEGER REFERENCES evidence_item(id),
    frame     INTEGER                     -- packet that revealed the gap; NULL at flow end
) STRICT;
CREATE INDEX stream_gap_flow ON stream_gap(flow_id);

-- Retransmissions whose bytes differ from the bytes kept (first data wins).
CREATE TABLE stream_conflict (
    id            INTEGER PRIMARY KEY,
    flow_id       INTEGER NOT NULL,                    -- flow(id); see the note at the top
    direction     TEXT NOT NULL,
    offset        INTEGER NOT NULL,
    length        INTEGER NOT NULL,
    kept_sha256   TEXT NOT NULL,
    other_sha256  TEXT NOT NULL,
    item_id       INTEGER REFERENCES evidence_item(id),
    frame         INTEGER
) STRICT;
CREATE INDEX stream_conflict_flow ON stream_conflict(flow_id);

-- Every transferred file or message, stored under objects/<sha256[0:2]>/<sha256>. Its rows
-- are object_row: the hashes as their 32 bytes, the strings that repeat (MIME type, libmagic
-- description, protocol, encoding, direction) as ids of object_str, each string once (the
-- rows took 2.9 MB of the 10.7 MB case of the 100 MB hospital bench, with the hash index;
-- issue 16). The view object gives them in the old shape, the hashes as lowercase hex: read
-- it, not object_row. A query that looks an object up by its hash compares object_row.sha
-- (indexed) with the 32 bytes: bound as a blob, or unhex(text), a function phitrace registers
-- on its connections (SQLite 3.41 has it built in).
CREATE TABLE object_str (
    id    INTEGER PRIMARY KEY,
    str   TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE object_row (
    id          INTEGER PRIMARY KEY,
    sha         BLOB NOT NULL,           -- SHA-256 (32 bytes)
    size        INTEGER NOT NULL,        -- bytes stored (decoded; gaps are not filled)
    mime        INTEGER REFERENCES object_str(id),          -- libmagic MIME type
    magic       INTEGER REFERENCES object_str(id),          -- libmagic description
    name        TEXT,                    -- file name, URI or path
    protocol    INTEGER NOT NULL REFERENCES object_str(id),
    encoding    INTEGER REFERENCES object_str(id),          -- encodings removed (chunked, gzip, ...)
    flow_id     INTEGER,                 -- flow(id) (see the note at the top); NULL for files
    direction   INTEGER NOT NULL REFERENCES object_str(id), -- upload | download | internal |
                                                            -- external | at-rest
    stream_dir  INTEGER,                 -- 0 c2s, 1 s2c; NULL for files
    stream_off  INTEGER NOT NULL,        -- where the object starts in its stream
    part        INTEGER NOT NULL,
    complete    INTEGER NOT NULL,        -- 1 complete, 0 partial
    encrypted   INTEGER NOT NULL,        -- an archive member that could not be decrypted
    parent      BLOB,                    -- SHA-256 of the archive (gzip, zip) it was unpacked from
    depth       INTEGER NOT NULL,        -- 0 on the wire, 1 inside an archive, ...
    gap_bytes   INTEGER NOT NULL,
    gap_map     TEXT,                    -- JSON [[offset,length],...] in object coordinates;
                                         -- NULL: none ('[]')
    item_id     INTEGER REFERENCES evidence_item(id),
    frame       INTEGER,
    ts          INTEGER
) STRICT;
CREATE INDEX object_sha ON object_row(sha);

CREATE VIEW object AS
SELECT o.id AS id, lower(hex(o.sha)) AS sha256, o.size AS size,
       (SELECT s.str FROM object_str s WHERE s.id = o.mime) AS mime,
       (SELECT s.str FROM object_str s WHERE s.id = o.magic) AS magic, o.name AS name,
       (SELECT s.str FROM object_str s WHERE s.id = o.protocol) AS protocol,
       (SELECT s.str FROM object_str s WHERE s.id = o.encoding) AS encoding,
       o.flow_id AS flow_id,
       (SELECT s.str FROM object_str s WHERE s.id = o.direction) AS direction,
       CASE o.stream_dir WHEN 0 THEN 'c2s' WHEN 1 THEN 's2c' END AS stream_dir,
       o.stream_off AS stream_off, o.part AS part, o.complete AS complete,
       o.encrypted AS encrypted, nullif(lower(hex(o.parent)), '') AS parent_sha256,
       o.depth AS depth, o.gap_bytes AS gap_bytes, coalesce(o.gap_map, '[]') AS gap_map,
       o.item_id AS item_id, o.frame AS frame, o.ts AS ts
FROM object_row o;

-- Where an object's bytes are when they are not the file objects/<xx>/<sha256>: a slice of a
-- pack (objects/packs/*.pack) that holds the objects small enough to stay in memory.
-- Encrypted archives (zip, 7z, RAR) retried with the passwords harvested from the evidence
-- (analyze/archive_pw.c): one row per archive. The password itself is never stored; its
-- source is: the text object (hash and name) or --passwords file, and the line it is on.
CREATE TABLE archive_password (
    id             INTEGER PRIMARY KEY,
    archive_sha256 TEXT NOT NULL,
    archive_name   TEXT,
    archive_size   INTEGER NOT NULL,
    opened         INTEGER NOT NULL,     -- 1 opened, 0 stayed closed
    method         TEXT,                 -- libarchive | 7z; NULL when closed
    source_sha256  TEXT,                 -- the text object the password came from (NULL: wordlist)
    source_path    TEXT,                 -- its name, or the --passwords file
    line           INTEGER,              -- 1-based line of the password in it
    form           TEXT,                 -- how it was written: "7z -p", "zip -P", ...
    candidates     INTEGER NOT NULL,     -- candidate passwords tried
    members        INTEGER NOT NULL,     -- objects it gave once opened
    note           TEXT                  -- why it stayed closed
) STRICT;

-- After the verdict the keep stage (store/objkeep.c, --keep-objects) rewrites the packs: the
-- objects kept are in "packs/<name>.zpk" (each entry its 4-byte length, then its bytes, zlib
-- compressed when that is smaller: `stored` bytes) or stay files (pack ''), and from then on
-- an object without a row here was not kept (its hash, size and provenance stay in object;
-- its bytes are in the inputs; run_manifest keep_objects says the stage ran).
CREATE TABLE object_blob (
    sha256      TEXT PRIMARY KEY,
    pack        TEXT NOT NULL,           -- "packs/<name>.pack" or ".zpk", under objects/; ''
                                         -- the file objects/<xx>/<sha256> (keep stage)
    offset      INTEGER NOT NULL,
    size        INTEGER NOT NULL,        -- the object's bytes
    stored      INTEGER                  -- bytes in a .zpk pack (compressed or equal to size)
) STRICT, WITHOUT ROWID;
CREATE INDEX object_flow ON object_row(flow_id);

-- HTTP transactions and HL7 messages point to their objects by object(id) (req_object,
-- resp_object, object_id), not by hash text (issue 16). A decoder emits the row before the
-- writer has given its object an id, so it records where the object starts in its stream
-- (*_off, = object.stream_off of the object of that flow, direction, depth 0 and part 0);
-- when the packet stage ends the ids are filled in (store/q_links.c), and a merge shifts them
-- with the objects it copies (store/q_scale.c). The hash is object.sha256.
--
-- A transaction's method, host, user agent, content types and status repeat from one to the
-- next: each combination is one row of http_header, which http_txn_row names by id, and the
-- view http_txn gives readers the transaction with them as before (issue 16; the writer adds
-- a combination when first written, a NULL equal to a NULL: store/records.c, records.def's
-- PT_LOOKUP; a merge maps the ids by the values, store/q_scale.c).
CREATE TABLE http_header (
    id             INTEGER PRIMARY KEY,
    method         TEXT,
    host           TEXT,
    user_agent     TEXT,
    req_ctype      TEXT,
    status         INTEGER,              -- NULL when no response was captured
    resp_ctype     TEXT,
    UNIQUE (method, host, user_agent, req_ctype, status, resp_ctype)
) STRICT;
CREATE TABLE http_txn_row (
    id             INTEGER PRIMARY KEY,
    flow_id        INTEGER NOT NULL,                    -- flow(id); see the note at the top
    seq            INTEGER NOT NULL,     -- transaction index in the flow
    ts             INTEGER,
    item_id        INTEGER REFERENCES evidence_item(id),
    frame          INTEGER,
    header_id      INTEGER NOT NULL REFERENCES http_header(id),
    uri            TEXT,
    req_body_len   INTEGER NOT NULL,
    req_body_off   INTEGER,              -- where the body's object starts in the c2s stream
    req_object     INTEGER,              -- object(id) of the body; NULL: none stored
    resp_body_len  INTEGER NOT NULL,
    resp_body_off  INTEGER,              -- the same in the s2c stream
    resp_object    INTEGER               -- object(id) of the response body
) STRICT;
CREATE INDEX http_txn_flow ON http_txn_row(flow_id);
CREATE VIEW http_txn AS
SELECT t.id AS id, t.flow_id AS flow_id, t.seq AS seq, t.ts AS ts, t.item_id AS item_id,
       t.frame AS frame, h.method AS method, t.uri AS uri, h.host AS host,
       h.user_agent AS user_agent, h.req_ctype AS req_ctype, t.req_body_len AS req_body_len,
       t.req_body_off AS req_body_off, t.req_object AS req_object, h.status AS status,
       h.resp_ctype AS resp_ctype, t.resp_body_len AS resp_body_len,
       t.resp_body_off AS resp_body_off, t.resp_object AS resp_object
FROM http_txn_row t JOIN http_header h ON h.id = t.header_id;

-- One row per DNS message (query or response), over UDP or TCP.
CREATE TABLE dns_query (
    id            INTEGER PRIMARY KEY,
    flow_id       INTEGER NOT NULL,                    -- flow(id); see the note at the top
    ts            INTEGER,
    item_id       INTEGER REFERENCES evidence_item(id),
    frame         INTEGER,
    direction     TEXT NOT NULL,          -- c2s | s2c
    transport     TEXT NOT NULL,          -- udp | tcp
    msg_id        INTEGER NOT NULL,
    response      INTEGER NOT NULL,
    opcode        INTEGER NOT NULL,
    rcode         INTEGER NOT NULL,       -- 3 = NXDOMAIN
    qname         TEXT,
    qtype         INTEGER,
    qclass        INTEGER,
    answers       INTEGER NOT NULL,       -- answer count announced
    answer_bytes  INTEGER NOT NULL,       -- RDATA bytes in the answers read
    answer_text   TEXT,                   -- summary of the first answers
    size          INTEGER NOT NULL,       -- message bytes
    malformed     INTEGER NOT NULL
) STRICT;
CREATE INDEX dns_query_qname ON dns_query(qname);

-- One row per resource record in the answer section of a DNS message (the first 32): the
-- RDATA as text for A, AAAA, CNAME, NS, PTR, MX ("preference exchange"), SRV ("priority
-- weight port target") and TXT (quoted strings, \DDD escapes); other types in hex (the
-- data a tunnel returns in NULL or private types); cut past 2 KiB of RDATA.
CREATE TABLE dns_answer (
    id            INTEGER PRIMARY KEY,
    flow_id       INTEGER NOT NULL,                    -- flow(id)
    ts            INTEGER,
    item_id       INTEGER REFERENCES evidence_item(id),
    frame         INTEGER,
    msg_id        INTEGER NOT NULL,       -- dns_query.msg_id of the response
    idx           INTEGER NOT NULL,       -- place in the answer section, from 0
    name          TEXT NOT NULL,          -- owner
    type          INTEGER NOT NULL,
    class         INTEGER NOT NULL,
    ttl           INTEGER NOT NULL,
    rdlength      INTEGER NOT NULL,
    decoded       INTEGER NOT NULL,       -- 1: data is the type's text; 0: RDATA in hex
    data          TEXT NOT NULL
) STRICT;
CREATE INDEX dns_answer_name ON dns_answer(name);

-- One row per TLS connection whose handshake was seen.
CREATE TABLE tls_session (
    id              INTEGER PRIMARY KEY,
    flow_id         INTEGER NOT NULL,                    -- flow(id); see the note at the top
    ts              INTEGER,
    item_id         INTEGER REFERENCES evidence_item(id),
    frame           INTEGER,
    client_version  INTEGER,              -- ClientHello legacy_version (0x0303 = TLS 1.2)
    max_version     INTEGER,              -- highest supported_versions entry
    server_version  INTEGER,              -- chosen by the server
    cipher          INTEGER,
    sni             TEXT,
    alpn            TEXT,
    ja3             TEXT,
    ja3_md5         TEXT,
    ja4             TEXT,
    cert_subject    TEXT,
    cert_issuer     TEXT
) STRICT;
CREATE INDEX tls_session_sni ON tls_session(sni);

-- One row per HL7 v2 message carried over MLLP; the message itself is an object. The MSH
-- fields that repeat from message to message (applications, facilities, type, version) are
-- one row of hl7_header for each combination, named by hl7_message_row's header_id; the view
-- hl7_message gives the message with them as before (issue 16; as http_header above).
CREATE TABLE hl7_header (
    id                  INTEGER PRIMARY KEY,
    sending_app         TEXT,             -- MSH-3
    sending_facility    TEXT,             -- MSH-4
    receiving_app       TEXT,             -- MSH-5
    receiving_facility  TEXT,             -- MSH-6
    msg_type            TEXT,             -- MSH-9
    version             TEXT,             -- MSH-12
    UNIQUE (sending_app, sending_facility, receiving_app, receiving_facility, msg_type, version)
) STRICT;
CREATE TABLE hl7_message_row (
    id                  INTEGER PRIMARY KEY,
    flow_id             INTEGER NOT NULL,                    -- flow(id); see the note at the top
    seq                 INTEGER NOT NULL,
    direction           TEXT NOT NULL,    -- c2s | s2c
    ts                  INTEGER,
    item_id             INTEGER REFERENCES evidence_item(id),
    frame               INTEGER,
    header_id           INTEGER NOT NULL REFERENCES hl7_header(id),
    msg_time            TEXT,             -- MSH-7
    control_id          TEXT,             -- MSH-10
    segments            INTEGER NOT NULL,
    pid_segments        INTEGER NOT NULL,
    size                INTEGER NOT NULL,
    complete            INTEGER NOT NULL,
    stream_off          INTEGER,          -- where the message's object starts in its stream
    object_id           INTEGER           -- object(id) of the message; NULL: none stored
) STRICT;
CREATE VIEW hl7_message AS
SELECT m.id AS id, m.flow_id AS flow_id, m.seq AS seq, m.direction AS direction, m.ts AS ts,
       m.item_id AS item_id, m.frame AS frame, h.sending_app AS sending_app,
       h.sending_facility AS sending_facility, h.receiving_app AS receiving_app,
       h.receiving_facility AS receiving_facility, m.msg_time AS msg_time,
       h.msg_type AS msg_type, m.control_id AS control_id, h.version AS version,
       m.segments AS segments, m.pid_segments AS pid_segments, m.size AS size,
       m.complete AS complete, m.stream_off AS stream_off, m.object_id AS object_id
FROM hl7_message_row m JOIN hl7_header h ON h.id = m.header_id;

-- FTP data transfers, each linking the control and the data connection.
CREATE TABLE ftp_transfer (
    id         INTEGER PRIMARY KEY,
    flow_id    INTEGER NOT NULL,             -- the data connection; flow(id)
    ctl_flow   INTEGER NOT NULL,             -- the control connection; flow(id)
    ts         INTEGER,
    item_id    INTEGER REFERENCES evidence_item(id),
    frame      INTEGER,
    command    TEXT,                         -- STOR, RETR, APPE, STOU, LIST, NLST, MLSD
    name       TEXT,
    user       TEXT,
    direction  TEXT NOT NULL,                -- upload | download | internal | external
    size       INTEGER NOT NULL,
    complete   INTEGER NOT NULL,
    sha256     TEXT,
    banner     TEXT                          -- the server's 220 greeting, after the code
) STRICT;

-- SMTP messages: the envelope and the header fields; the message and each MIME leaf are objects.
CREATE TABLE smtp_message (
    id           INTEGER PRIMARY KEY,
    flow_id      INTEGER NOT NULL,           -- flow(id)
    seq          INTEGER NOT NULL,
    ts           INTEGER,
    item_id      INTEGER REFERENCES evidence_item(id),
    frame        INTEGER,
    helo         TEXT,
    mail_from    TEXT,
    rcpt_to      TEXT,                       -- comma separated
    hdr_from     TEXT,
    hdr_to       TEXT,
    subject      TEXT,
    date         TEXT,
    msg_id       TEXT,
    size         INTEGER NOT NULL,
    attachments  INTEGER NOT NULL,
    complete     INTEGER NOT NULL,
    starttls     INTEGER NOT NULL,           -- the rest of the session was encrypted
    sha256       TEXT
) STRICT;

-- SSH connections: the software at both ends, from the version exchange (RFC 4253 §4.2).
-- The rest is encrypted: nothing is stored; the flow has the bytes.
CREATE TABLE ssh_session (
    id              INTEGER PRIMARY KEY,
    flow_id         INTEGER NOT NULL,        -- flow(id)
    ts              INTEGER,
    item_id         INTEGER REFERENCES evidence_item(id),
    frame           INTEGER,
    client_version  TEXT,                    -- "SSH-2.0-OpenSSH_9.2p1 Debian-2", NULL unseen
    server_version  TEXT
) STRICT;

-- ICMP flows: what their payloads look like (tunnel material for the heuristics).
CREATE TABLE icmp_summary (
    id                  INTEGER PRIMARY KEY,
    flow_id             INTEGER NOT NULL,    -- flow(id)
    ts                  INTEGER,
    item_id             INTEGER REFERENCES evidence_item(id),
    frame               INTEGER,
    messages            INTEGER NOT NULL,
    echo_requests       INTEGER NOT NULL,
    echo_replies        INTEGER NOT NULL,
    other               INTEGER NOT NULL,
    c_payload_bytes     INTEGER NOT NULL,
    s_payload_bytes     INTEGER NOT NULL,
    max_payload         INTEGER NOT NULL,
    entropy             REAL NOT NULL,       -- bits per byte
    mismatched_replies  INTEGER NOT NULL,    -- replies not echoing their request
    unanswered          INTEGER NOT NULL,
    -- per direction (client to server, server to client): messages and largest payload
    c_messages          INTEGER NOT NULL DEFAULT 0,
    s_messages          INTEGER NOT NULL DEFAULT 0,
    c_max_payload       INTEGER NOT NULL DEFAULT 0,
    s_max_payload       INTEGER NOT NULL DEFAULT 0
) STRICT;

-- SMB2 file handles: share, path, what was read and written through them; the data is an
-- object (protocol 'smb') per handle and direction.
CREATE TABLE smb_file (
    id              INTEGER PRIMARY KEY,
    flow_id         INTEGER NOT NULL,    -- flow(id)
    ts              INTEGER,
    item_id         INTEGER REFERENCES evidence_item(id),
    frame           INTEGER,
    share           TEXT,                -- \\server\share from TREE_CONNECT
    name            TEXT NOT NULL,       -- path within the share
    action          TEXT,                -- opened | created | overwritten | superseded
    user            TEXT,                -- NTLMSSP DOMAIN\user of the session
    kind            TEXT NOT NULL,       -- file | directory | pipe (IPC$: no object)
    size            INTEGER,             -- end of file (CREATE or CLOSE), NULL when unknown
    created         INTEGER,             -- file times, UTC microseconds
    modified        INTEGER,
    bytes_read      INTEGER NOT NULL,
    bytes_written   INTEGER NOT NULL,
    read_sha256     TEXT,
    read_complete   INTEGER NOT NULL,
    write_sha256    TEXT,
    write_complete  INTEGER NOT NULL
) STRICT;

-- DICOM associations: AE titles, presentation contexts, outcome.
CREATE TABLE dicom_assoc (
    id           INTEGER PRIMARY KEY,
    flow_id      INTEGER NOT NULL,                    -- flow(id); see the note at the top
    ts           INTEGER,
    item_id      INTEGER REFERENCES evidence_item(id),
    frame        INTEGER,
    calling_ae   TEXT,
    called_ae    TEXT,
    app_context  TEXT,
    result       TEXT NOT NULL,           -- accepted | rejected | aborted | no answer
    reject       TEXT,
    released     INTEGER NOT NULL,
    contexts     TEXT NOT NULL            -- JSON: [{"id","abstract","transfer","accepted"}]
) STRICT;

-- DIMSE messages; a data set is stored as a Part 10 file (object with protocol 'dicom').
CREATE TABLE dicom_message (
    id                INTEGER PRIMARY KEY,
    flow_id           INTEGER NOT NULL,                    -- flow(id); see the note at the top
    seq               INTEGER NOT NULL,
    direction         TEXT NOT NULL,
    ts                INTEGER,
    item_id           INTEGER REFERENCES evidence_item(id),
    frame             INTEGER,
    command           TEXT NOT NULL,      -- C-STORE-RQ, C-MOVE-RQ, ...
    message_id        INTEGER,
    pc_id             INTEGER NOT NULL,
    sop_class         TEXT,
    sop_instance      TEXT,
    move_destination  TEXT,
    status            INTEGER,
    dataset_size      INTEGER NOT NULL,
    complete          INTEGER NOT NULL,
    sha256            TEXT
) STRICT;

-- PHI (analyzer/phi/): records (one patient context each), hits (one identifier each,
-- masked, with a keyed hash), the individuals they resolve to, and per-object results.
-- Values are stored masked; phi_value holds full values only with --keep-phi.
-- phi_object_row names its object by object(id) (the first row of that hash), not by its
-- 64-character hash and a unique index on it (1.5 MB of the 100 MB bench's case, issue 16);
-- the view phi_object gives the hash. A query that finds an object's row by a hash joins on
-- both (PHI_OBJECT_OF in store/db_handle.h): p.object_id = (SELECT min(id) FROM object_row
-- WHERE sha = unhex(X)) is the indexed way in, p.object_sha256 = X the way out.
CREATE TABLE phi_object_row (
    id            INTEGER PRIMARY KEY,    -- objects in hash order (phi_object_type)
    object_id     INTEGER NOT NULL,       -- object(id): the first object of its hash
    format        TEXT NOT NULL,          -- dicom | hl7 | fhir-json | fhir-ndjson | xml | x12 | csv | text
                                          -- | binary-strings (no parser: printable runs read,
                                          -- records "carved ...") | container (its parts are
                                          -- objects: not read as records)
    records       INTEGER NOT NULL,
    hits          INTEGER NOT NULL,
    phi_hits      INTEGER NOT NULL,       -- hits in records with health information
    individuals   INTEGER NOT NULL,       -- distinct patient entities in this object
    read_bytes    INTEGER NOT NULL,       -- bytes read for PHI: all of a parsed object, the
                                          -- printable runs of a binary one, 0 for a container
    evidence_format TEXT,                 -- image:<fs or container> | log:<format> (by content,
                                          -- ingest/sniff.c); neither is parsed by this version
    first_record  INTEGER NOT NULL        -- phi_record_row id of its first record: its records
                                          -- are the `records` ids from there (no index needed)
) STRICT;
CREATE UNIQUE INDEX phi_object_object ON phi_object_row(object_id);

CREATE VIEW phi_object AS
SELECT p.id AS id,
       (SELECT lower(hex(o.sha)) FROM object_row o WHERE o.id = p.object_id) AS object_sha256,
       p.format AS format, p.records AS records, p.hits AS hits, p.phi_hits AS phi_hits,
       p.individuals AS individuals, p.read_bytes AS read_bytes,
       p.evidence_format AS evidence_format, p.first_record AS first_record,
       p.object_id AS object_id
FROM phi_object_row p;


-- Records name their object by phi_object.id (written with the object's row, after its
-- records, which are numbered in a row: phi_object.first_record); the view phi_record gives
-- its hash.
-- Each distinct kind of record with its health reason once (a few dozen: "csv row" with
-- "health column in a patient table", "fhir Patient" ...); records name theirs by id.
CREATE TABLE phi_record_kind (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,          -- hl7 message ORU^R01 | dicom data set | fhir Patient | csv row | text ...
    health_reason TEXT NOT NULL,          -- why it carries health information, '' when none
    UNIQUE (kind, health_reason)
) STRICT;

CREATE TABLE phi_record_row (
    id            INTEGER PRIMARY KEY,
    object_id     INTEGER NOT NULL,       -- phi_object(id)
    skipped       INTEGER NOT NULL,       -- records of the object before it without identifiers
                                          -- (not stored): its index in the object (phi_record's
                                          -- seq) is id - first_record + skipped; 0 but for them
    kind_id       INTEGER NOT NULL REFERENCES phi_record_kind(id),
    offset        INTEGER NOT NULL,
    health        INTEGER NOT NULL,       -- the record carries health information
    hit_widths    INTEGER NOT NULL,       -- the widths of the packed hits (phi_hit_row)
    hits          BLOB NOT NULL,          -- its hits, packed (store/phi_pack.h, phi_hit_row)
    entity_id     INTEGER                 -- patient_entity(id), NULL when no individual
) STRICT;

-- An object's records are found by their ids' range (phi_object.first_record), a record's
-- object by its id: both ways a b-tree search, with no index.
CREATE VIEW phi_record AS
SELECT r.id AS id,
       (SELECT lower(hex(x.sha)) FROM object_row x WHERE x.id = o.object_id) AS object_sha256,
       r.id - o.first_record + r.skipped AS seq, k.kind AS kind,
       r.offset AS offset, r.health AS health, nullif(k.health_reason, '') AS health_reason,
       r.entity_id AS entity_id, o.object_id AS object_id
FROM phi_record_row r JOIN phi_object_row o ON o.id = r.object_id AND r.id BETWEEN o.first_record
AND o.first_record + o.records - 1
JOIN phi_record_kind k ON k.id = r.kind_id;

-- PHI hits are stored compactly: each distinct identifier once (phi_ident: its type, masked
-- value and keyed hash), each distinct way of finding one once (phi_site: detector, field,
-- state, issuer, confidence, reason), and a record's hits packed into its row
-- (phi_record_row.hits, store/phi_pack.h: per hit its identifier, site and offset from the
-- record's, 4 to 6 bytes). The view phi_hit_row unpacks them into one row of integers per hit
-- and the view phi_hit into the shape of one row per hit, with any SQLite (3.38 or later: no
-- function of phitrace's). phi_object_type holds each object's hits per type, for the
-- reports' totals.
CREATE TABLE phi_ident (
    id            INTEGER PRIMARY KEY,
    type          TEXT NOT NULL,          -- name | ssn | mrn | birth_date | ...
    safe_harbor   TEXT NOT NULL,          -- 45 CFR 164.514(b)(2)(i) letter A-R, '' for health data
    masked        TEXT NOT NULL,          -- e.g. ***-**-6789, S****^J***
    hmac          BLOB NOT NULL           -- HMAC-SHA-256 of type and value under the case key
                                          -- (CASE/phi.key), its 32 bytes (the view phi_hit
                                          -- gives it in lower-case hex); one row each: the
                                          -- writer (store/q_phi.c) finds it in a table in
                                          -- memory of all of them, so no index (issue 16)
) STRICT;

CREATE TABLE phi_site (
    id            INTEGER PRIMARY KEY,
    detector      TEXT NOT NULL,          -- dicom | hl7 | fhir | cda | x12 | csv | text
    field         TEXT NOT NULL,          -- "(0010,0010) PatientName", "PID-3 (MR)", "column ssn", "text"
    subject       INTEGER NOT NULL,       -- identifies the record's own patient
    state         TEXT NOT NULL,          -- US state of an address or ZIP, '' when none
    issuer        TEXT NOT NULL,          -- '' when none
    confidence    REAL NOT NULL,
    reason        TEXT NOT NULL,
    UNIQUE (detector, field, subject, state, issuer, confidence, reason)
) STRICT;

-- A record's hits (phi_record_row.hits, hit_widths) as rows: the hit's number in its record,
-- its identifier, site and offset less the record's. Each integer is hit_widths' width of
-- bytes of 7 bits, little-endian, offsets plus an excess when one is negative
-- (store/phi_pack.h); json_each numbers the hits.
CREATE VIEW phi_hit_row AS
SELECT record_id, seq,
       ifnull(unicode(substr(hits, p, 1)), 0) + CASE WHEN wi > 1 THEN
       (ifnull(unicode(substr(hits, p + 1, 1)), 0) + CASE WHEN wi > 2 THEN
       (ifnull(unicode(substr(hits, p + 2, 1)), 0) + CASE WHEN wi > 3 THEN
       (ifnull(unicode(substr(hits, p + 3, 1)), 0) + CASE WHEN wi > 4 THEN
       (ifnull(unicode(substr(hits, p + 4, 1)), 0) + CASE WHEN wi > 5 THEN
       (ifnull(unicode(substr(hits, p + 5, 1)), 0) + CASE WHEN wi > 6 THEN
       (ifnull(unicode(substr(hits, p + 6, 1)), 0) + CASE WHEN wi > 7 THEN
       (ifnull(unicode(substr(hits, p + 7, 1)), 0)) << 7 ELSE 0 END) << 7 ELSE 0 END) << 7
       ELSE 0 END) << 7 ELSE 0 END) << 7 ELSE 0 END) << 7 ELSE 0 END) << 7 ELSE 0 END AS
       ident_id,
       ifnull(unicode(substr(hits, p + wi, 1)), 0) + CASE WHEN ws > 1 THEN
       (ifnull(unicode(substr(hits, p + wi + 1, 1)), 0) + CASE WHEN ws > 2 THEN
       (ifnull(unicode(substr(hits, p + wi + 2, 1)), 0) + CASE WHEN ws > 3 THEN
       (ifnull(unicode(substr(hits, p + wi + 3, 1)), 0) + CASE WHEN ws > 4 THEN
       (ifnull(unicode(substr(hits, p + wi + 4, 1)), 0) + CASE WHEN ws > 5 THEN
       (ifnull(unicode(substr(hits, p + wi + 5, 1)), 0) + CASE WHEN ws > 6 THEN
       (ifnull(unicode(substr(hits, p + wi + 6, 1)), 0) + CASE WHEN ws > 7 THEN
       (ifnull(unicode(substr(hits, p + wi + 7, 1)), 0)) << 7 ELSE 0 END) << 7 ELSE 0 END)
       << 7 ELSE 0 END) << 7 ELSE 0 END) << 7 ELSE 0 END) << 7 ELSE 0 END) << 7 ELSE 0 END
       AS site_id,
       ifnull(unicode(substr(hits, p + wi + ws, 1)), 0) + CASE WHEN wo > 1 THEN
       (ifnull(unicode(substr(hits, p + wi + ws + 1, 1)), 0) + CASE WHEN wo > 2 THEN
       (ifnull(unicode(substr(hits, p + wi + ws + 2, 1)), 0) + CASE WHEN wo > 3 THEN
       (ifnull(unicode(substr(hits, p + wi + ws + 3, 1)), 0) + CASE WHEN wo > 4 THEN
       (ifnull(unicode(substr(hits, p + wi + ws + 4, 1)), 0) + CASE WHEN wo > 5 THEN
       (ifnull(unicode(substr(hits, p + wi + ws + 5, 1)), 0) + CASE WHEN wo > 6 THEN
       (ifnull(unicode(substr(hits, p + wi + ws + 6, 1)), 0) + CASE WHEN wo > 7 THEN
       (ifnull(unicode(substr(hits, p + wi + ws + 7, 1)), 0)) << 7 ELSE 0 END) << 7 ELSE 0
       END) << 7 ELSE 0 END) << 7 ELSE 0 END) << 7 ELSE 0 END) << 7 ELSE 0 END) << 7 ELSE 0
       END - excess AS offset_delta
FROM (SELECT r.id AS record_id, j.key AS seq, r.hits AS hits,
             1 + j.key * ((r.hit_widths & 7) + (r.hit_widths >> 3 & 7) + (r.hit_widths >> 6 & 7)
                          + 3) AS p,
             (r.hit_widths & 7) + 1 AS wi, (r.hit_widths >> 3 & 7) + 1 AS ws,
             (r.hit_widths >> 6 & 7) + 1 AS wo,
             CASE WHEN r.hit_widths & 512 THEN 1 << (7 * (r.hit_widths >> 6 & 7) + 6) ELSE 0
             END AS excess
      FROM phi_record_row r JOIN json_each(CASE WHEN length(r.hits) > 0 THEN '[' ||
           replace(hex(zeroblob(length(r.hits) / ((r.hit_widths & 7) + (r.hit_widths >> 3 & 7)
           + (r.hit_widths >> 6 & 7) + 3) - 1)), '00', '0,') || '0]' ELSE '[]' END) j);

-- One identifier each: the hit's object and record, where and how it was found, masked, with
-- its keyed hash; phi_class PHI when its record carries health information, else PII. id is
-- the record's id times 2^32 plus the hit's number in it (unique, in the order written). The
-- identifier and site are left joins (every hit has both) so that a query reading neither
-- skips them.
CREATE VIEW phi_hit AS
SELECT (h.record_id << 32) + h.seq AS id, h.record_id AS record_id, o.object_sha256 AS object_sha256,
       r.offset + h.offset_delta AS offset, s.detector AS detector, s.field AS field,
       i.type AS type, i.safe_harbor AS safe_harbor,
       CASE WHEN r.health THEN 'PHI' ELSE 'PII' END AS phi_class, s.subject AS subject,
       i.masked AS masked, lower(hex(i.hmac)) AS hmac, nullif(s.state, '') AS state,
       nullif(s.issuer, '') AS issuer, s.confidence AS confidence, s.reason AS reason,
       o.object_id AS object_id
FROM phi_hit_row h JOIN phi_record_row r ON r.id = h.record_id JOIN phi_object o ON o.id =
r.object_id AND r.id BETWEEN o.first_record AND o.first_record + o.records - 1
LEFT JOIN phi_ident i ON i.id = h.ident_id LEFT JOIN phi_site s ON s.id = h.site_id;

-- Hits per object, identifier type and class (the reports' PHI-type tables): each (type,
-- Safe Harbor letter, class) once in phi_type_class, the counts as integers in
-- phi_object_type_row, the view phi_object_type in the old shape (issue 16).
CREATE TABLE phi_type_class (
    id            INTEGER PRIMARY KEY,
    type          TEXT NOT NULL,
    safe_harbor   TEXT NOT NULL,
    phi_class     TEXT NOT NULL,          -- PHI | PII
    UNIQUE (type, safe_harbor, phi_class)
) STRICT;
CREATE TABLE phi_object_type_row (
    object_id     INTEGER NOT NULL REFERENCES phi_object_row(id),
    type_class    INTEGER NOT NULL REFERENCES phi_type_class(id),
    hits          INTEGER NOT NULL,
    PRIMARY KEY (object_id, type_class)
) STRICT, WITHOUT ROWID;
CREATE VIEW phi_object_type AS
SELECT t.object_id AS object_id, c.type AS type, c.safe_harbor AS safe_harbor,
       c.phi_class AS phi_class, t.hits AS hits
FROM phi_object_type_row t JOIN phi_type_class c ON c.id = t.type_class;

CREATE TABLE phi_value (
    hmac  TEXT PRIMARY KEY,
    type  TEXT NOT NULL,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE patient_entity (
    id          INTEGER PRIMARY KEY,
    records     INTEGER NOT NULL,
    objects     INTEGER NOT NULL,
    identifiers TEXT NOT NULL,            -- identifier types seen, e.g. "mrn,name,birth_date"
    state       TEXT,                     -- most frequent state of the entity's addresses
    phi         INTEGER NOT NULL,         -- seen with health information
    outbound    INTEGER NOT NULL,         -- in an object that left home-net (direction upload)
    name_masked TEXT,
    deceased    INTEGER NOT NULL,         -- a date of death or deceased flag was seen
    names       INTEGER NOT NULL          -- distinct names (case and accents folded)
) STRICT;

-- YARA rules that matched a stored object (each rule once per object, at its first match):
-- each rule's words once (yara_rule), each match as integers (yara_hit: the object's
-- phi_object id, written with the object's row, after its matches); the view yara_match
-- reads them back in the shape of one row per match.
CREATE TABLE yara_rule (
    id            INTEGER PRIMARY KEY,
    rule          TEXT NOT NULL,
    namespace     TEXT NOT NULL,          -- the rule file
    tags          TEXT,
    description   TEXT,
    category      TEXT,                   -- meta category, or phi_class for healthcare formats
    severity      TEXT,
    reference     TEXT
) STRICT;
CREATE INDEX yara_rule_name ON yara_rule(namespace, rule);

CREATE TABLE yara_hit (
    id            INTEGER PRIMARY KEY,
    object_id     INTEGER NOT NULL,       -- phi_object(id)
    rule_id       INTEGER NOT NULL REFERENCES yara_rule(id),
    offset        INTEGER NOT NULL,       -- first matching string, 0 for condition-only rules
    strings       INTEGER NOT NULL        -- matching string occurrences
) STRICT;
CREATE INDEX yara_hit_object ON yara_hit(object_id);

CREATE VIEW yara_match AS
SELECT h.id AS id, o.object_sha256 AS object_sha256, r.rule AS rule, r.namespace AS namespace,
       r.tags AS tags, r.description AS description, r.category AS category,
       r.severity AS severity, r.reference AS reference, h.offset AS offset,
       h.strings AS strings
FROM yara_hit h JOIN phi_object o ON o.id = h.object_id JOIN yara_rule r ON r.id = h.rule_id;

-- Unique individuals: the estimate and its bounds, per scope ('all' objects analyzed,
-- 'outbound' objects that left home-net), with the method.
CREATE TABLE individuals (
    scope    TEXT PRIMARY KEY,
    estimate INTEGER NOT NULL,
    lower    INTEGER NOT NULL,
    upper    INTEGER NOT NULL,
    method   TEXT NOT NULL,
    deceased INTEGER NOT NULL             -- of the estimate, known to have died (45 CFR
                                          -- 164.404(d)(1)(ii): their next of kin are notified)
) STRICT;

-- What each input was examined as and how much of it was read (the verdict stage). Byte
-- counts: bytes = the input; parsed_bytes = read by a decoder of its format (a capture by
-- libpcap, a file by a PHI parser or unpacker); object_bytes = the objects it gave (distinct);
-- phi_bytes = of those, read for PHI (binary ones: their printable runs); yara_bytes =
-- scanned by YARA.
CREATE TABLE coverage (
    item_id      INTEGER PRIMARY KEY REFERENCES evidence_item(id),
    examined_as  TEXT NOT NULL,         -- capture | file:<format> | archive | document |
                                        -- image:<fs> | log:<format> | unreadable
    examined     INTEGER NOT NULL,      -- 1 when its format was decoded
    bytes        INTEGER NOT NULL,
    parsed_bytes INTEGER NOT NULL,
    object_bytes INTEGER NOT NULL,
    phi_bytes    INTEGER NOT NULL,
    yara_bytes   INTEGER NOT NULL,
    reason       TEXT                   -- why the rest was not examined
) STRICT;

-- The coverage in one sentence, stated before the verdict in every report (one row).
CREATE TABLE coverage_summary (
    sentence     TEXT NOT NULL,
    captures     INTEGER NOT NULL,      -- captures decoded
    examined     INTEGER NOT NULL,      -- inputs whose format was decoded
    not_examined INTEGER NOT NULL,      -- inputs that were not (images, logs, unreadable)
    first_ts     INTEGER,               -- the evidence window, NULL when none is known
    last_ts      INTEGER,
    window_from  TEXT NOT NULL,         -- captures | log lines | file times | none
    window_text  TEXT NOT NULL,         -- "in the 3 packet captures covering ... to ..."
    not_examined_text TEXT NOT NULL     -- "2 disk images, 5 log files were not examined" or ""
) STRICT;

-- How far the joining can be trusted (one row).
CREATE TABLE individuals_quality (
    refused_joins        INTEGER NOT NULL,  -- estimate: joins refused, strong identifiers differ
    multi_person_records INTEGER NOT NULL,  -- records with several people's identifiers, not joined
    bound_refused_joins  INTEGER NOT NULL,  -- the same refusals in the lower and upper bounds
    largest_entity       INTEGER NOT NULL,  -- records of the largest individual
    largest_entity_names INTEGER NOT NULL,  -- most distinct names in one individual
    implausible_entities INTEGER NOT NULL   -- individuals with more names than PT_PHI_ENTITY_MAX_NAMES
) STRICT;

CREATE TABLE individuals_by_state (
    scope       TEXT NOT NULL,
    state       TEXT NOT NULL,             -- two letters, or 'unknown'
    individuals INTEGER NOT NULL,
    PRIMARY KEY (scope, state)
) STRICT;

-- PHI access from web and proxy logs (verdict/heur_access.c): one row per request line that
-- named patients (PHI hits of the log file's own scan on that line's bytes). No value is
-- stored here; the hits are phi_hit rows of the log's object within the line's span.
-- Windows object access to PHI-bearing files (verdict/heur_file_access.c) are rows too:
-- source 'evtx', client the host, host its computer, method read|write, resp_bytes the
-- matched disk-image file's size (0 for a file-name rule).
CREATE TABLE phi_access (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES evidence_item(id),
    line        INTEGER NOT NULL,         -- log_http(item_id, line); evtx: the record identifier
    ts          INTEGER,
    client      TEXT NOT NULL,
    server      TEXT NOT NULL,            -- address, '' when the log does not give it
    host        TEXT NOT NULL,            -- Host header / virtual host / URL host, '' when none
    method      TEXT NOT NULL,
    status      INTEGER,
    resp_bytes  INTEGER NOT NULL,         -- what the response carried (0 when not logged)
    source      TEXT NOT NULL,            -- log_http.source: web-access, squid, zeek:http, ...
    phi_types   TEXT NOT NULL,            -- sorted, comma-separated
    hits        INTEGER NOT NULL,
    individuals INTEGER NOT NULL          -- distinct individuals named on the line
) STRICT;

-- The verdict stage (analyzer/verdict/): heuristic findings, exfiltration events with their
-- verdicts, verdicts per destination and overall, limitations, and the timeline.
CREATE TABLE finding (
    id          INTEGER PRIMARY KEY,
    heuristic   TEXT NOT NULL,            -- outbound_volume | upload_burst | upload_ratio | beacon |
                                          -- dns_tunnel | icmp_tunnel | long_connection |
                                          -- cloud_storage | dicom_outbound | phi_outbound |
                                          -- yara | after_hours | phi_access
    source      TEXT NOT NULL,            -- inside host ('' when several)
    destination TEXT NOT NULL,            -- outside address or domain
    protocol    TEXT NOT NULL,
    first_ts    INTEGER,
    last_ts     INTEGER,
    bytes_out   INTEGER NOT NULL,
    score       REAL NOT NULL,            -- 0..1 (RITA bucketing where it applies)
    severity    TEXT NOT NULL,            -- info | low | medium | high | critical
    summary     TEXT NOT NULL,            -- one sentence for the report
    detail      TEXT NOT NULL,            -- JSON: the measured values
    evidence    TEXT NOT NULL             -- JSON: flow ids, object hashes, queries
) STRICT;

CREATE TABLE exfil_event (
    id           INTEGER PRIMARY KEY,
    source       TEXT NOT NULL,
    destination  TEXT NOT NULL,
    protocols    TEXT,
    first_ts     INTEGER,
    last_ts      INTEGER,
    bytes_out    INTEGER NOT NULL,
    objects      INTEGER NOT NULL,        -- objects uploaded to the destination
    phi_objects  INTEGER NOT NULL,        -- of them, with PHI
    phi_types    TEXT,
    individuals  INTEGER NOT NULL,        -- patient entities in those objects
    verdict      TEXT NOT NULL,           -- confirmed | likely | possible
    reasons      TEXT NOT NULL            -- JSON: finding ids and the measures the rule used
) STRICT;

CREATE TABLE verdict (
    id        INTEGER PRIMARY KEY,
    scope     TEXT NOT NULL,              -- overall | destination
    subject   TEXT NOT NULL,              -- the destination, '' for overall
    verdict   TEXT NOT NULL,              -- confirmed | likely | possible | not observed
    bytes_out INTEGER NOT NULL,
    reasons   TEXT NOT NULL               -- JSON: exfil_event ids
) STRICT;

-- Encrypted (TLS, SSH) and undecoded TCP channels between inside and outside addresses, per
-- source, destination, protocol and what names the far end (SNI, SSH software): where PHI
-- may have left unseen. Written by the verdict stage; bytes are those sent from inside.
CREATE TABLE encrypted_channel (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    destination TEXT NOT NULL,
    protocol    TEXT NOT NULL,
    name        TEXT NOT NULL,            -- TLS SNI, "client <ssh version>, server <...>", ''
    connections INTEGER NOT NULL,
    bytes_out   INTEGER,
    first_ts    INTEGER,
    last_ts     INTEGER
) STRICT;

-- What the evidence names each outside destination by (the verdict stage, verdict/names.c),
-- from outbound flows to it: SMTP envelope recipients, HTTP Host, TLS SNI and certificate
-- subject, DICOM called AE title, FTP user and server greeting, and DNS names whose A or
-- AAAA answers in the evidence gave its address. One row per (destination, kind, name).
CREATE TABLE destination_name (
    destination TEXT NOT NULL,            -- an outside address, as exfil_event.destination
    kind        TEXT NOT NULL,            -- smtp_recipient | http_host | tls_sni |
                                          -- tls_certificate | dicom_called_ae | ftp_user |
                                          -- ftp_server | dns_name | geoip_country |
                                          -- geoip_asn (--geoip: "NZ New Zealand",
                                          -- "AS64500 Example"; seen 1, first_ts NULL)
    name        TEXT NOT NULL,
    seen        INTEGER NOT NULL,         -- flows (DNS: answers) that gave the name
    first_ts    INTEGER,
    PRIMARY KEY (destination, kind, name)
) STRICT;

-- The names of a destination as one line for the reports ("DICOM called AE EXTPACS; DNS
-- name pacs.example"): per kind the 8 seen most, then "and N more" (never cut silently).
CREATE VIEW destination_label AS
SELECT destination, group_concat(part, '; ') AS label FROM (
    SELECT destination, k, CASE kind WHEN 'smtp_recipient' THEN 'mail to '
        WHEN 'http_host' THEN 'HTTP Host ' WHEN 'tls_sni' THEN 'TLS server name '
        WHEN 'tls_certificate' THEN 'TLS certificate ' WHEN 'dicom_called_ae' THEN
        'DICOM called AE ' WHEN 'ftp_user' THEN 'FTP user ' WHEN 'ftp_server' THEN
        'FTP server greeting ' WHEN 'dns_name' THEN 'DNS name ' WHEN 'geoip_country' THEN
        'country ' WHEN 'geoip_asn' THEN 'network ' ELSE kind || ' ' END ||
        group_concat(name, ', ') || CASE WHEN max(n) > 8 THEN ' and ' || (max(n) - 8) ||
        ' more' ELSE '' END AS part
    FROM (SELECT destination, kind, name, CASE kind WHEN 'smtp_recipient' THEN 1 WHEN
            'dicom_called_ae' THEN 2 WHEN 'ftp_user' THEN 3 WHEN 'ftp_server' THEN 4 WHEN
            'http_host' THEN 5 WHEN 'tls_sni' THEN 6 WHEN 'tls_certificate' THEN 7 WHEN
            'dns_name' THEN 8 WHEN 'geoip_country' THEN 9 WHEN 'geoip_asn' THEN 10 ELSE 11 END
            AS k, row_number() OVER (PARTITION BY destination, kind ORDER BY seen DESC, name)
            AS r, count(*) OVER (PARTITION BY destination, kind) AS n
          FROM destination_name ORDER BY destination, k, r)
    WHERE r <= 8 GROUP BY destination, kind ORDER BY destination, k)
GROUP BY destination;

-- Which individuals (patient_entity) were in the data of which exfiltration event (the
-- verdict stage): through the records of the uploaded objects of the event's pair.
CREATE TABLE individual_event (
    entity_id   INTEGER NOT NULL,         -- patient_entity(id)
    event_id    INTEGER NOT NULL,         -- exfil_event(id)
    destination TEXT NOT NULL,
    objects     INTEGER NOT NULL,         -- uploaded objects of the event naming the individual
    first_ts    INTEGER,                  -- the first of them
    PRIMARY KEY (entity_id, event_id)
) STRICT;

-- The people to notify: every individual with health information in data that left or was
-- staged on a disk image's host (individual_category; `categories` says which apply), with
-- masked name, state, identifier types, deceased, the events and destinations, the first
-- time their data left, and a note on how far the count bounds reach them.
CREATE VIEW individual_roster AS
SELECT e.id AS individual, coalesce(e.name_masked, '') AS name_masked,
    coalesce(e.state, 'unknown') AS state, e.identifiers, e.deceased,
    (SELECT group_concat(event_id, ',') FROM (SELECT event_id FROM individual_event
        WHERE entity_id = e.id ORDER BY event_id)) AS events,
    (SELECT group_concat(destination, ',') FROM (SELECT DISTINCT destination FROM
        individual_event WHERE entity_id = e.id ORDER BY destination)) AS destinations,
    (SELECT min(first_ts) FROM individual_event WHERE entity_id = e.id) AS first_out,
    e.records, e.objects,
    CASE WHEN e.names > 1 THEN e.names || ' different names joined by a shared identifier: '
            || 'may be ' || e.names || ' people (the upper bound counts them apart)'
        WHEN e.names = 0 THEN 'no name seen: may be one of the others (the lower bound '
            || 'joins record numbers across systems)'
        ELSE '' END AS bounds_note,
    coalesce((SELECT group_concat(category, ',') FROM (SELECT category FROM individual_category
        WHERE entity_id = e.id ORDER BY CASE category WHEN 'left' THEN 0 WHEN 'staged' THEN 1
        ELSE 2 END)), '') AS categories
FROM patient_entity e WHERE e.phi = 1 AND (e.outbound = 1 OR e.id IN (SELECT entity_id FROM
    individual_category WHERE category = 'staged'));

CREATE TABLE limitation (
    id     INTEGER PRIMARY KEY,
    kind   TEXT NOT NULL,
    detail TEXT NOT NULL,
    value  REAL
) STRICT;

-- Chronology with plaso-compatible fields (timestamp in UTC microseconds): the evidence items'
-- first and last times, the findings, the objects that left or held PHI, the events, and from
-- disk images the MACB times of files with PHI and of deleted files, browser downloads and
-- recycle-bin deletions; `evidence` is table:key of the row it comes from, `id` its place in
-- time order. A view of those rows (issue 16: as a table it copied their text, 1.1 MB of the
-- 22 MB case of the 100 MB hospital bench); read it as a table.
CREATE VIEW timeline_event AS
SELECT row_number() OVER (ORDER BY t.ts, t.evidence, t.timestamp_desc) AS id, t.ts AS ts,
       t.timestamp_desc AS timestamp_desc, t.source AS source, t.source_long AS source_long,
       t.data_type AS data_type, t.message AS message, t.evidence AS evidence
FROM (
    SELECT first_ts AS ts, 'First Seen' AS timestamp_desc, 'EVIDENCE' AS source,
           'phitrace evidence item' AS source_long, 'phitrace:input' AS data_type,
           'capture ' || path || ' begins' AS message, 'evidence_item:' || id AS evidence
    FROM evidence_item WHERE first_ts IS NOT NULL
    UNION ALL
    SELECT last_ts, 'Last Seen', 'EVIDENCE', 'phitrace evidence item', 'phitrace:input',
           'capture ' || path || ' ends', 'evidence_item:' || id
    FROM evidence_item WHERE last_ts IS NOT NULL
    UNION ALL
    SELECT first_ts, 'Start Time', 'FINDING', 'phitrace heuristic ' || heuristic,
           'phitrace:finding:' || heuristic, summary, 'finding:' || id FROM finding
    UNION ALL
    SELECT o.ts, 'Transfer Time', 'FILE', 'phitrace object (' || o.protocol || ')',
           'phitrace:object', o.direction || ' ' || coalesce(o.name, '') || ' (' || o.size ||
           ' bytes, ' || coalesce(o.mime, '?') || ')' || CASE WHEN p.phi_hits > 0 THEN
           ' with PHI of ' || p.individuals || ' individual(s)' ELSE '' END,
           'object:' || o.sha256
    FROM object o LEFT JOIN phi_object p ON p.object_id = (SELECT min(x.id) FROM object_row x
         WHERE x.sha = (SELECT y.sha FROM object_row y WHERE y.id = o.id))
    WHERE o.ts IS NOT NULL AND o.depth = 0 AND (o.direction = 'upload' OR p.phi_hits > 0)
    UNION ALL
    SELECT first_ts, 'Start Time', 'EVENT', 'phitrace exfiltration event', 'phitrace:event',
           verdict || ': ' || source || ' -> ' || destination || ' (' || bytes_out ||
           ' bytes out)', 'exfil_event:' || id FROM exfil_event
    UNION ALL
    SELECT t.ts, t.descr, 'FILE', 'phitrace disk file', 'fs:stat', d.path || ' (' || d.state ||
           ', ' || d.size || ' bytes' || CASE WHEN p.phi_hits > 0 THEN ', PHI of ' ||
           p.individuals || ' individual(s)' ELSE '' END || ')', 'disk_file:' || d.rowid
    FROM disk_file d
    JOIN (SELECT rowid AS id, mtime AS ts, 'Content Modification Time' AS descr FROM disk_file
          UNION ALL SELECT rowid, atime, 'Last Access Time' FROM disk_file
          UNION ALL SELECT rowid, ctime, 'Metadata Modification Time' FROM disk_file
          UNION ALL SELECT rowid, crtime, 'Creation Time' FROM disk_file) t ON t.id = d.rowid
    LEFT JOIN (SELECT CAST(lower(hex(sha)) AS TEXT) AS sha256, min(id) AS id FROM object_row
               GROUP BY sha) x ON x.sha256 = d.sha256 -- TEXT: SQLite indexes it once a query
    LEFT JOIN phi_object p ON p.object_id = x.id
    WHERE t.ts IS NOT NULL AND d.kind = 'r' AND (p.phi_hits > 0 OR d.state IN ('deleted', 'orphan'))
    UNION ALL
    SELECT start_ts, 'File Downloaded', 'WEBHIST', 'phitrace browser download (' || browser ||
           ')', 'browser:file_downloaded', url || ' -> ' || target_path || ' (' ||
           coalesce(received_bytes, '?') || ' bytes, ' || state || ')', 'browser_download:' || id
    FROM browser_download WHERE start_ts IS NOT NULL
    UNION ALL
    SELECT deleted_ts, 'Content Deletion Time', 'RECBIN', 'phitrace recycle bin record',
           'windows:metadata:deleted_item', original_path || ' (' || size || ' bytes, ' || path ||
           ')', 'recycle_record:' || id FROM recycle_record WHERE deleted_ts IS NOT NULL
) t;

-- Logs read as records (ingest/logparse.c, issue 14). Every row's provenance is its evidence
-- item, the line (1-based) and the byte offset of that line in the file; `source` names the
-- format and record kind ("zeek:conn", "zeek-json:dns", "eve:flow", "web-access"). Counts are
-- NULL where the source does not give them: Zeek counts payload bytes (c_bytes) and IP bytes,
-- Suricata's EVE whole packets as captured (c_frame_bytes). Not yet joined with captured flows
-- nor read by the heuristics: see the limitation the coverage gives each log.
CREATE TABLE log_source (            -- one per file (a split item has several)
    item_id    INTEGER NOT NULL REFERENCES evidence_item(id),
    path       TEXT NOT NULL,
    format     TEXT NOT NULL,          -- zeek | zeek-json | suricata-eve | web-access
    bytes      INTEGER NOT NULL,       -- bytes read as lines
    lines      INTEGER NOT NULL,       -- = records + other + headers + blank + malformed
    records    INTEGER NOT NULL,       -- stored as log_conn / log_dns / log_http rows
    other      INTEGER NOT NULL,       -- well-formed records of kinds not stored as rows
    headers    INTEGER NOT NULL,       -- Zeek # lines
    blank      INTEGER NOT NULL,
    malformed  INTEGER NOT NULL,       -- each a log.malformed_line anomaly (the first 100)
    conn       INTEGER NOT NULL,
    dns        INTEGER NOT NULL,
    http       INTEGER NOT NULL,
    xfer       INTEGER NOT NULL,       -- log_xfer rows (FTP servers' transfer logs)
    winevent   INTEGER NOT NULL DEFAULT 0, -- log_winevent rows (Windows .evtx)
    audit      INTEGER NOT NULL DEFAULT 0, -- log_audit rows (IHE ATNA / DICOM audit messages)
    skew_us    INTEGER,                -- its clock's offset from the flows' (see flow_source)
    skew_agree INTEGER,                -- connections the offset is the median of (0: none)
    flows_matched INTEGER,             -- connections already known as flows
    flows_created INTEGER              -- connections that became flows of their own
) STRICT;

-- Which sources saw each flow (store/logflows.c): a log's connection is a captured flow seen
-- once more ('matched'), a flow of its own ('created'), a packet the firewall dropped or
-- rejected ('blocked', no flow) or a line without a time ('untimed', no flow). An FTP server's
-- file transfer (log_xfer, store/logxfer.c) is a data connection already known ('matched'), a
-- flow of its own ('created'), or no flow: no server address known ('unaddressed'), not
-- completed ('failed'), a deletion ('delete'), no time ('untimed'). skew_us is the
-- log clock's offset from the flows' (subtracted before matching). bytes_kind says what the
-- log counts: payload (Zeek), ip (NetFlow, firewalls), frame (Suricata EVE), total (both
-- directions in one count, Cisco ASA: put on the direction toward the home network) or none.
CREATE TABLE flow_source (
    id          INTEGER PRIMARY KEY,
    flow_id     INTEGER,                  -- flow(id); NULL for blocked and untimed lines
    item_id     INTEGER NOT NULL REFERENCES evidence_item(id),
    line        INTEGER NOT NULL,
    log_conn_id INTEGER,                  -- log_conn(id); NULL for a file transfer
    log_xfer_id INTEGER,                  -- log_xfer(id); NULL for a connection
    source      TEXT NOT NULL,
    role        TEXT NOT NULL,            -- matched | created | blocked | untimed | unaddressed
                                          -- (transfers also failed | delete)
    skew_us     INTEGER NOT NULL,
    bytes_kind  TEXT NOT NULL,
    c_bytes     INTEGER NOT NULL,         -- as the log counts them
    s_bytes     INTEGER NOT NULL
) STRICT;
CREATE INDEX flow_source_flow ON flow_source(flow_id);

CREATE TABLE log_conn (
    id            INTEGER PRIMARY KEY,
    item_id       INTEGER NOT NULL REFERENCES evidence_item(id),
    line          INTEGER NOT NULL,
    offset        INTEGER NOT NULL,
    ts            INTEGER,                -- microseconds UTC
    source        TEXT NOT NULL,
    duration_us   INTEGER,
    proto         TEXT,
    client_addr   TEXT,
    client_port   INTEGER,
    server_addr   TEXT,
    server_port   INTEGER,
    c_bytes       INTEGER,
    s_bytes       INTEGER,
    c_ip_bytes    INTEGER,
    s_ip_bytes    INTEGER,
    c_frame_bytes INTEGER,
    s_frame_bytes INTEGER,
    c_pkts        INTEGER,
    s_pkts        INTEGER,
    state         TEXT,
    service       TEXT,
    uid           TEXT,
    both_ways     INTEGER NOT NULL DEFAULT 0  -- 1: c_bytes is both directions in one count
) STRICT;

CREATE TABLE log_dns (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES evidence_item(id),
    line        INTEGER NOT NULL,
    offset      INTEGER NOT NULL,
    ts          INTEGER,
    source      TEXT NOT NULL,
    proto       TEXT,
    client_addr TEXT,
    client_port INTEGER,
    server_addr TEXT,
    server_port INTEGER,
    query       TEXT,
    qtype       TEXT,
    rcode       TEXT,
    answers     TEXT,
    uid         TEXT
) STRICT;

CREATE TABLE log_http (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES evidence_item(id),
    line        INTEGER NOT NULL,
    offset      INTEGER NOT NULL,
    ts          INTEGER,
    source      TEXT NOT NULL,
    client_addr TEXT,
    client_port INTEGER,
    server_addr TEXT,
    server_port INTEGER,
    method      TEXT,
    host        TEXT,
    uri         TEXT,
    status      INTEGER,
    req_bytes   INTEGER,
    resp_bytes  INTEGER,
    user_agent  TEXT,
    username    TEXT,
    uid         TEXT,
    length      INTEGER NOT NULL          -- bytes of the line from offset (its line end not counted)
) STRICT;
CREATE INDEX log_http_line ON log_http(item_id, offset);

-- File transfers FTP servers logged (vsftpd.log, xferlog): provenance as in log_http.
CREATE TABLE log_xfer (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES evidence_item(id),
    line        INTEGER NOT NULL,
    offset      INTEGER NOT NULL,
    ts          INTEGER,
    source      TEXT NOT NULL,            -- vsftpd | xferlog
    client_addr TEXT,                     -- address, or the host name the server logged
    username    TEXT,
    direction   TEXT NOT NULL,            -- upload (to the server) | download | delete
    path        TEXT NOT NULL,
    bytes       INTEGER,
    duration_us INTEGER,
    ok          INTEGER NOT NULL,         -- completed (vsftpd OK, xferlog status c)
    length      INTEGER NOT NULL
) STRICT;

-- Windows events read from .evtx files (ingest/evtx.c): logons (4624, 4625 failed, 4648
-- explicit credentials), object access (4663), process creation (4688), PowerShell script
-- blocks (4104). line is the EVTX record identifier, offset the record's byte offset in the
-- file. NULL where the event does not give a value ('-' in Windows' rendering).
CREATE TABLE log_winevent (
    id            INTEGER PRIMARY KEY,
    item_id       INTEGER NOT NULL REFERENCES evidence_item(id),
    line          INTEGER NOT NULL,         -- EventRecordID
    offset        INTEGER NOT NULL,
    ts            INTEGER,                  -- the record's written time, microseconds UTC
    source        TEXT NOT NULL,            -- evtx | evtx:recovered (from a chunk's free space)
    event_id      INTEGER NOT NULL,
    kind          TEXT NOT NULL,            -- logon | logon_failed | explicit_logon |
                                            -- object_access | process | script_block |
                                            -- kerberos_tgt (4768) | kerberos_tgs (4769) |
                                            -- kerberos_failed (4771 pre-authentication)
    channel       TEXT,
    computer      TEXT,
    subject_user  TEXT,                     -- DOMAIN\user (4104: the user's SID)
    target_user   TEXT,
    logon_type    INTEGER,
    client_addr   TEXT,                     -- IpAddress of a logon
    client_port   INTEGER,
    target_server TEXT,                     -- 4648; 4768/4769/4771 ServiceName
    workstation   TEXT,                     -- 4624/4625 WorkstationName (the client's name)
    logon_id      TEXT,                     -- 4624 TargetLogonId, else SubjectLogonId
    auth_package  TEXT,                     -- 4624/4625 AuthenticationPackageName
    process       TEXT,                     -- 4688 the new process, else the acting one
    parent        TEXT,                     -- 4688
    object        TEXT,                     -- 4663 ObjectName, 4104 the script's path
    access        TEXT,                     -- 4663 AccessMask, 4625 Status/SubStatus,
                                            -- 4768/4769/4771 Status as 0x<hex> (0x0 granted)
    command       TEXT,                     -- 4688 CommandLine
    script_id     TEXT,                     -- 4104 ScriptBlockId
    part          INTEGER,                  -- 4104 MessageNumber
    parts         INTEGER,                  -- 4104 MessageTotal
    script_chars  INTEGER,                  -- 4104 characters of the script (not stored)
    ticket_enc    TEXT,                     -- 4768/4769 TicketEncryptionType as 0x<hex>
    recovered     INTEGER NOT NULL
) STRICT;

-- IHE ATNA / DICOM PS3.15 audit messages (ingest/atna.c, atna_stream.c), one or many lines
-- each, line and offset those of "<AuditMessage", length its bytes: exports, queries,
-- imports and transfers of patient data a system recorded. No patient identifier is stored:
-- patients and studies are counts of the message's participant objects. NULL where the
-- message does not give a value.
CREATE TABLE log_audit (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES evidence_item(id),
    line        INTEGER NOT NULL,
    offset      INTEGER NOT NULL,
    ts          INTEGER,                  -- EventDateTime
    source      TEXT NOT NULL,            -- atna
    event_code  TEXT NOT NULL,            -- EventID: 110106 Export, 110112 Query, 110104 ...
    event       TEXT NOT NULL,            -- its text (originalText, displayName, or the code's)
    action      TEXT,                     -- EventActionCode C R U D E
    outcome     INTEGER,                  -- EventOutcomeIndicator: 0 success, 4, 8, 12 failures
    user_id     TEXT,                     -- the requestor's UserID (UserIsRequestor)
    user_addr   TEXT,                     -- the requestor's NetworkAccessPointID
    source_addr TEXT,                     -- NetworkAccessPointID of the Source role (110153)
    dest_addr   TEXT,                     -- ... of the Destination role (110152)
    patients    INTEGER NOT NULL,         -- patient participant objects
    studies     INTEGER NOT NULL,         -- study participant objects (110180)
    objects     INTEGER NOT NULL,         -- all participant objects
    length      INTEGER NOT NULL
) STRICT;

-- The patients each audit message names (ingest/atna_stream.c): per patient participant
-- object, the HMAC-SHA-256 under the case key (CASE/phi.key) of its identifier's key (an HL7
-- CX value's ID and assigning authority), so patients are counted distinct across messages
-- without their identifiers. patient_id is the key itself only with --keep-phi, else NULL.
-- (item_id, offset) is the message's log_audit row.
CREATE TABLE log_audit_patient (
    item_id     INTEGER NOT NULL REFERENCES evidence_item(id),
    offset      INTEGER NOT NULL,         -- log_audit.offset of the message
    line        INTEGER NOT NULL,         -- log_audit.line
    hmac        TEXT NOT NULL,
    patient_id  TEXT                      -- only with --keep-phi
) STRICT;

CREATE TABLE anomaly (
    id      INTEGER PRIMARY KEY,
    item_id INTEGER REFERENCES evidence_item(id),
    frame   INTEGER,
    offset  INTEGER,
    kind    TEXT NOT NULL,
    detail  TEXT
) STRICT;
CREATE INDEX anomaly_kind ON anomaly(kind);

-- Append-only custody log: row_hash = SHA-256(prev_hash | seq | ts_utc | actor | action | detail).
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    ts_utc    TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    row_hash  TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- An EnCase (EWF) image's integrity (ingest/image_ewf.c; issue 15): the hashes stored at
-- acquisition and those of the media as read now.
CREATE TABLE disk_image (
    item_id     INTEGER PRIMARY KEY REFERENCES evidence_item(id),
    media_size  INTEGER NOT NULL,
    stored_md5  TEXT,
    stored_sha1 TEXT,
    md5         TEXT,                   -- over the media; NULL when it could not be read whole
    sha1        TEXT,
    sha256      TEXT,
    verified    TEXT NOT NULL,          -- match | mismatch | no stored hash | unreadable
    note        TEXT
) STRICT;

-- Disk images read through libtsk (ingest/image.c; issue 15). One row per volume libtsk
-- was given: a partition of the volume system, or the whole image when it has none.
CREATE TABLE disk_volume (
    item_id    INTEGER NOT NULL REFERENCES evidence_item(id),
    offset     INTEGER NOT NULL,        -- bytes into the media
    fs         TEXT,                    -- libtsk's name (ext2, ntfs, fat16, iso9660, hfs...)
    block_size INTEGER NOT NULL,
    blocks     INTEGER NOT NULL,
    status     TEXT NOT NULL,           -- read | unreadable (no file system libtsk opens)
    note       TEXT
) STRICT;

-- Every name the file-system walk met (allocated, deleted, orphan), one row per NTFS data
-- stream; the content of regular files was read in place and scanned as an object (its
-- sha256 is object.sha256; the object's item is the image).
CREATE TABLE disk_file (
    item_id    INTEGER NOT NULL REFERENCES evidence_item(id),
    vol_offset INTEGER NOT NULL,        -- disk_volume.offset
    path       TEXT NOT NULL,           -- as `fls -r -p` prints it; ADS as path:stream
    inode      INTEGER NOT NULL,        -- inode / MFT entry (fls's address)
    attr       TEXT,                    -- NTFS alternate data stream name
    kind       TEXT NOT NULL,           -- fls's type letter: r d l V ...
    state      TEXT NOT NULL,           -- allocated | deleted | orphan | reallocated | carved
                                        -- (from unallocated space: no name, no inode) | slack
                                        -- ($Slack/<path>: after a file's end in its cluster)
    meta_free  INTEGER NOT NULL,        -- the inode / MFT entry is unallocated
    mtime INTEGER, atime INTEGER, ctime INTEGER, crtime INTEGER, -- microseconds (MACB)
    size       INTEGER NOT NULL,
    read_bytes INTEGER NOT NULL,        -- content bytes read from the image
    sha256     TEXT,                    -- of the bytes read; NULL when not read
    complete   INTEGER NOT NULL,
    note       TEXT,                    -- why the content was not read whole
    image_offset INTEGER,               -- carved: where its bytes start in the media
    attr_type  INTEGER,                 -- libtsk's attribute (icat's inode-type-id address)
    attr_id    INTEGER
) STRICT;
CREATE INDEX disk_file_item ON disk_file(item_id);

-- Data on disk by category (store/q_disk.c; issue 15 item 6), written by the PHI stage before
-- it counts individuals. One row per object at rest (files given as inputs, the files of disk
-- images, their archive members), by content (SHA-256); an image's own bytes are not a row
-- once a file system of it was read (its files carry the categories). `staged`: the object is
-- an archive holding PHI (zip, 7z, RAR, gzip, tar, bzip2, xz), a password-protected archive
-- (a YARA rule of category 'staging', an archive_password row, or encrypted members), a file
-- directly in a staging folder, or a member (at any depth) of one of these. A staging folder
-- is a folder of an image, other than a volume's root, $OrphanFiles and $CarvedFiles, that
-- directly holds such an archive or a file matching a YARA rule of category 'exfiltration
-- tool' (rclone, MEGA, WinSCP configurations, upload one-liners, scheduled tasks).
-- `present`: at rest and not staged.
CREATE TABLE object_category (
    sha256  TEXT PRIMARY KEY,
    staged  INTEGER NOT NULL,
    present INTEGER NOT NULL,
    reason  TEXT                      -- why it is staged: "archive with PHI", "in staging folder
                                      -- /export (password-protected archive)", ...
) STRICT;

-- Which categories each individual (patient_entity) is in: 'left' (in data that left:
-- patient_entity.outbound), 'staged', 'present' (a countable record in an object of that
-- category). A person in several is in each.
CREATE TABLE individual_category (
    entity_id INTEGER NOT NULL,
    category  TEXT NOT NULL,          -- left | staged | present
    PRIMARY KEY (entity_id, category)
) STRICT;

-- How many distinct individuals (with health information) each archive at rest and each
-- folder of a disk image holds, across its members or everything under it, at any depth.
CREATE TABLE disk_holding (
    kind        TEXT NOT NULL,        -- archive | folder
    item_id     INTEGER,              -- the evidence item (the image, or the file)
    vol_offset  INTEGER,              -- folder: disk_volume.offset
    path        TEXT NOT NULL,        -- folder: /dir/sub ('/' the root); archive: its path
    sha256      TEXT,                 -- archive: its content
    staged      INTEGER NOT NULL,     -- a staged archive, or a staging folder
    reason      TEXT,                 -- why it is staged
    individuals INTEGER NOT NULL,
    records     INTEGER NOT NULL,     -- PHI records with an individual
    objects     INTEGER NOT NULL      -- objects holding them
) STRICT;

-- Which host each disk image is of (issue 15 item 4; `analyze --image-host IMAGE=ADDR`, or
-- inferred from the image's files: analyze/hostinfer.c): what is staged on the image is
-- weighed against that address's outbound volume (verdict/heur_staging.c, store/q_staging.c).
CREATE TABLE image_host (
    item_id INTEGER NOT NULL REFERENCES evidence_item(id),
    addr    TEXT NOT NULL,            -- the host's address as flows spell it
    source  TEXT NOT NULL,            -- how the link was made: 'option' (--image-host) or
                                      -- 'inferred' (read from a file of the image)
    origin  TEXT,                     -- inferred: where ("etc/hosts: line 3", "SYSTEM: key\value")
    used    INTEGER NOT NULL DEFAULT 1, -- 0: inferred, but an option links this image
    PRIMARY KEY (item_id, addr, source)
) STRICT;

-- The host names an image's files give (hostinfer.c: the SYSTEM hive's ComputerName,
-- /etc/hostname), each with where it was read.
CREATE TABLE image_hostname (
    item_id INTEGER NOT NULL REFERENCES evidence_item(id),
    name    TEXT NOT NULL,
    origin  TEXT NOT NULL,
    PRIMARY KEY (item_id, name, origin)
) STRICT;

-- Browser downloads (analyze/browser.c; issue 15 item 4): the rows of a Chromium `History`
-- (Chrome, Edge) or Firefox `places.sqlite` found at rest, read from a private copy.
CREATE TABLE browser_download (
    id             INTEGER PRIMARY KEY,
    item_id        INTEGER,               -- the evidence item (the image) it is in
    object_sha256  TEXT NOT NULL,         -- the history database
    source_path    TEXT NOT NULL,         -- its path on the image (or its object name)
    browser        TEXT NOT NULL,         -- chromium | firefox
    url            TEXT NOT NULL,
    target_path    TEXT NOT NULL,         -- where it was saved
    start_ts       INTEGER,               -- UTC microseconds; NULL unknown
    end_ts         INTEGER,
    received_bytes INTEGER,               -- NULL unknown
    total_bytes    INTEGER,
    state          TEXT NOT NULL          -- complete | in progress | cancelled | interrupted | state N
) STRICT;

-- Windows recycle-bin `$I` records (analyze/recycle.c): what was deleted, from where, when.
CREATE TABLE recycle_record (
    id            INTEGER PRIMARY KEY,
    item_id       INTEGER,
    object_sha256 TEXT NOT NULL,          -- the $I file's content
    path          TEXT NOT NULL,          -- the $I file's path on the image
    version       INTEGER NOT NULL,       -- 1 (Vista-8) | 2 (10, 11)
    original_path TEXT NOT NULL,
    size          INTEGER NOT NULL,       -- of the deleted file
    deleted_ts    INTEGER                 -- UTC microseconds; NULL unknown
) STRICT;
