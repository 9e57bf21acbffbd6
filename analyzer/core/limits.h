/*
 * limits.h - every limit of phitrace in one place, each with its reason.
 *
 * A limit that is reached on real evidence is recorded as an anomaly (kind
 * "limit.<name>"), never silently.
 */
#ifndef PT_LIMITS_H
#define PT_LIMITS_H

/* Encapsulation: VLAN tags walked before giving up (QinQinQ seen in the wild; 8 is generous). */
#define PT_MAX_VLAN 8
/* MPLS labels walked before giving up (RFC 3032 sets no bound; real stacks are < 6). */
#define PT_MAX_MPLS 16
/* Tunnel nesting (IP-in-IP, GRE, VXLAN, Teredo) decoded; deeper input is an anomaly. */
#define PT_MAX_TUNNEL_DEPTH 4
/* IPv6 extension headers walked; more is either an attack or garbage (RFC 8200 §4.1 order). */
#define PT_MAX_IPV6_EXT 16
/* Network-layer views one frame can produce (outer and inner flows of tunnels). */
#define PT_MAX_VIEWS (PT_MAX_TUNNEL_DEPTH + 1)

/* IP defragmentation: datagrams in progress per reader and their bytes. */
#define PT_DEFRAG_MAX_DATAGRAMS 8192
#define PT_DEFRAG_MAX_BYTES (64u * 1024 * 1024)
/* A datagram cannot exceed 65535 bytes of payload (RFC 791 total length; RFC 8200 payload). */
#define PT_DEFRAG_MAX_DGRAM 65535
/* Fragments per datagram: 65535/8 would be the absolute maximum; 1024 caps overlap storms. */
#define PT_DEFRAG_MAX_FRAGS 1024
/* Seconds an incomplete datagram is kept (Linux ipfrag_time is 30 s). */
#define PT_DEFRAG_TIMEOUT_S 30

/* Flow table: flows live per worker; beyond this the least recently seen flow is evicted. */
#define PT_FLOW_MAX_PER_WORKER_DEFAULT (1u << 20)
/* Idle timeouts in seconds of capture time (Zeek: tcp 5 min, udp 1 min; we keep TCP longer
 * because a forensic record should not split a slow exfiltration into many rows). */
#define PT_FLOW_TCP_IDLE_S 3600
#define PT_FLOW_TCP_CLOSED_S 120
#define PT_FLOW_UDP_IDLE_S 600
#define PT_FLOW_OTHER_IDLE_S 600

/* Memory cap over all per-flow decoder state of a run (core/memcap.h; `--memcap`): flows,
 * reassembly, detection look-ahead, decoder structs and buffers, counted as allocated. 200k
 * half-open DICOM flows took 3.7 GB before the cap. 384 MiB of state keeps the whole process
 * under 512 MiB of peak RSS on the 200k half-open flows (state plus allocator slack
 * plus the 35 MB of libmagic, YARA and SQLite) while holding ~80k concurrent flows of typical
 * state; a 2 GB machine stays safe. Past it the oldest idle flows are ended
 * early (`limit.memcap`) until the state is at PT_MEMCAP_LOW_PERCENT of the cap, so an eviction
 * comes in bursts (one anomaly each) instead of one per packet; a worker evicts only while it
 * holds more than its share of that (its arena would otherwise grow to the whole cap while
 * another worker gives everything up), and a burst stops once it released
 * PT_MEMCAP_BURST_PERCENT of the cap.
 * Decoder buffers start at PT_MEMCAP_BUF_MIN and double up to their own limit. */
#define PT_MEMCAP_DEFAULT (384ull * 1024 * 1024)
#define PT_MEMCAP_MIN (1ull * 1024 * 1024)
#define PT_MEMCAP_LOW_PERCENT 90
#define PT_MEMCAP_BURST_PERCENT 10
#define PT_MEMCAP_BUF_MIN 256

/* TCP reassembly: out-of-order bytes held per stream direction and per worker. Past either,
 * the stream skips ahead and records a gap (Suricata's stream.reassembly.memcap idea). */
#define PT_REASM_FLOW_MAX (8u * 1024 * 1024)
#define PT_REASM_WORKER_MAX_DEFAULT (128ull * 1024 * 1024)
/* Delivered bytes remembered per direction so retransmissions can be compared with what was
 * kept (Zeek keeps none by default and misses late conflicts; 64 KiB covers a TCP window). */
#define PT_REASM_HISTORY (64u * 1024)
/* An acknowledgement proves missing bytes only this far beyond the highest sequence number
 * seen in that direction (a TCP window is at most 1 GiB; real flights are far below 64 MiB). */
#define PT_REASM_ACK_REACH (64u * 1024 * 1024)
/* Out-of-order segments held per direction (Arkime: 256; we count bytes, and segments). */
#define PT_REASM_MAX_SEGS 4096

/* HTTP: longest start or header line (Apache's LimitRequestFieldSize is 8190), header lines
 * per message (Apache: 100), requests waiting for their responses (pipelining depth). */
#define PT_HTTP_MAX_LINE 8192
#define PT_HTTP_MAX_HEADERS 256
#define PT_HTTP_MAX_PIPELINE 64
/* Bytes a client sends after CONNECT before the proxy's answer (or that arrive in one piece
 * with the switch), kept for the tunnel's decoder; past it, limit.http_tunnel_early. */
#define PT_HTTP_MAX_TAIL (1024 * 1024)
/* Decompression: output may exceed input by this ratio and this size before it is a bomb.
 * Deflate's own maximum is about 1032:1 and only runs of one byte reach it; patient exports,
 * logs and documents stay far below 100:1 (repetitive CSV about 10-20:1), so 250:1 stops a
 * bomb at a quarter of what deflate can do while no real document is cut. */
#define PT_DECODE_MAX_RATIO 250
#define PT_DECODE_MAX_BYTES (1ull << 32)

/* FTP: control line length (RFC 959 sets none; 2 kB holds any real path) and how long an
 * announced data connection stays expected. */
#define PT_FTP_MAX_LINE 2048
#define PT_FTP_EXPECT_S 300
/* Connections announced by another flow (analyze/expect.h) remembered per worker; the reader
 * remembers as many announced endpoints, and PT_EXPECT_ROUTES connections it routed by one. */
#define PT_EXPECT_MAX 256
#define PT_EXPECT_ROUTES 4096

/* SMTP: command line length (RFC 5321 §4.5.3.1.4: 512; we allow extensions) and the message
 * head kept for the header fields. */
#define PT_SMTP_MAX_LINE 4096
#define PT_SMTP_HEADER_BYTES (64u * 1024)

/* MIME header values (mimehdr.c): RFC 2231 sections of one parameter, and encoded words joined
 * in one run (the RFCs set no bound; mailers cut at 78 columns, so 64 hold about 4 kB), and
 * the bytes one parameter or one run of encoded words decodes to (names are kept in 256). */
#define PT_MIME_MAX_PARAM_SECTIONS 64
#define PT_MIME_MAX_VALUE 4096

/* ICMP: echo requests remembered per flow to match their replies. */
#define PT_ICMP_PENDING 64

/* DICOM: association PDUs are small (a few kB for hundreds of presentation contexts);
 * command sets are a few hundred bytes. Data sets are streamed and have no limit. */
#define PT_DICOM_MAX_ASSOC_PDU (256u * 1024)
#define PT_DICOM_MAX_COMMAND (64u * 1024)

/* HL7 over MLLP: header bytes kept to read MSH, and the longest message stored whole
 * (large ORU results with embedded PDFs run to megabytes). */
#define PT_HL7_HEADER_BYTES 4096
#define PT_HL7_MAX_MESSAGE (64u * 1024 * 1024)

/* SMB2: a message head buffered to parse it (a CREATE name is at most 64 KiB of UTF-16;
 * larger messages are READ or WRITE data, which streams to its object); requests awaiting
 * a response (slots by message id; clients keep far fewer outstanding), open handles and
 * connected shares per flow. */
#define PT_SMB_MSG_BUFFER (68u * 1024)
#define PT_SMB_MAX_PENDING 1024
#define PT_SMB_MAX_FILES 4096
#define PT_SMB_MAX_TREES 64

/* TLS: handshake bytes gathered per direction (a ClientHello with post-quantum key shares and
 * a certificate chain fit comfortably). */
#define PT_TLS_MAX_HANDSHAKE (64u * 1024)

/* DNS: compression pointers followed per name, and answers summarised per message. */
#define PT_DNS_MAX_JUMPS 64
#define PT_DNS_MAX_RRS 32

/* Archives inside objects: nesting decoded, entries per archive, and what a member may expand
 * to: 1 GiB, and 250 times the compressed bytes it was read from once past 1 MiB (real
 * documents stay far below; an all-zero bomb layer reaches zlib's ~1030). */
#define PT_UNPACK_MAX_DEPTH 4
#define PT_UNPACK_MAX_ENTRIES 10000
#define PT_UNPACK_MAX_RATIO 250
#define PT_UNPACK_RATIO_FLOOR (1u << 20)
#define PT_UNPACK_MAX_MEMBER (1ull << 30)
/* Expansion budgets (issue 17): all members under one top-level object, nested ones included,
 * and all members of a run. Stored and encrypted members count: the budgets bound bytes
 * written, whatever their method. Members per top-level tree bound the rows a tree of small
 * archives can make. */
#define PT_UNPACK_BUDGET_TOP (4ull << 30)
#define PT_UNPACK_BUDGET_CASE (64ull << 30)
#define PT_UNPACK_MAX_TREE_MEMBERS 100000
/* Each archive hash is unpacked once per run; its members are remembered (up to this many
 * bytes of records, ~1 KiB each) so a later copy lists them again without decompressing. A
 * worker waits this long for another that is unpacking the same hash. */
#define PT_UNPACK_MEMO_BYTES (64u * 1024 * 1024)
#define PT_UNPACK_WAIT_S 120
/* Bytes libarchive is handed, and a member is copied, at a time. */
#define PT_UNPACK_CHUNK (64u * 1024)

/* Documents (analyze/doctext.h): a document larger than PT_DOC_MAX_INPUT is not read (its
 * size is an anomaly); the derived text stops at PT_DOC_MAX_TEXT (64 MiB is millions of
 * patient rows; the PHI stage reads text at ~1 GB/s). A package member or PDF stream inflates
 * to at most PT_DOC_MAX_MEMBER and PT_DOC_MAX_RATIO times its compressed size (XML of a
 * sheet compresses ~20:1; a zip bomb layer ~1030:1) and a document's inflated bytes together
 * to PT_DOC_MAX_INFLATED. XML nests at most PT_DOC_MAX_XML_DEPTH (Word tables in tables stay
 * far below); RTF groups PT_DOC_RTF_DEPTH. A spreadsheet row keeps PT_DOC_MAX_COLUMNS cells
 * (Excel's own 16384) and at most PT_DOC_MAX_EMPTY_ROWS repeated empty rows; packages list at
 * most PT_DOC_MAX_PARTS sheets or slides. PDF: objects indexed PT_DOC_PDF_MAX_OBJECTS, nesting
 * of values, page tree and form XObjects PT_DOC_PDF_DEPTH, pages PT_DOC_PDF_MAX_PAGES,
 * ToUnicode entries per font PT_DOC_PDF_MAX_CMAP, fonts per document PT_DOC_PDF_MAX_FONTS. At
 * most PT_DOC_MAX_ANOMALIES anomalies per document (a broken file repeats one fault). */
#define PT_DOC_MAX_INPUT (1ull << 30)
#define PT_DOC_MAX_TEXT (64u * 1024 * 1024)
#define PT_DOC_MAX_MEMBER (256u * 1024 * 1024)
#define PT_DOC_MAX_RATIO 250
#define PT_DOC_MAX_INFLATED (1ull << 30)
#define PT_DOC_MAX_XML_DEPTH 256
#define PT_DOC_RTF_DEPTH 256
#define PT_DOC_MAX_COLUMNS 16384
#define PT_DOC_MAX_EMPTY_ROWS 1024
#define PT_DOC_MAX_PARTS 4096
#define PT_DOC_PDF_MAX_OBJECTS 1000000
#define PT_DOC_PDF_DEPTH 64
#define PT_DOC_PDF_MAX_PAGES 100000
#define PT_DOC_PDF_MAX_CMAP 65536
#define PT_DOC_PDF_MAX_FONTS 256
/* Memory for a PDF's parsed objects (values, decoded strings, object streams kept). */
#define PT_DOC_PDF_MAX_MEMORY (512u * 1024 * 1024)
#define PT_DOC_MAX_ANOMALIES 32

/* PHI: a free-text record (paragraph) is cut at this many bytes on a line end; DICOM
 * sequences nest at most PT_PHI_DICOM_DEPTH deep and a data set holds at most
 * PT_PHI_DICOM_ELEMENTS elements; a deflated data set inflates to at most PT_PHI_INFLATE_MAX;
 * JSON nests at most PT_PHI_JSON_DEPTH deep; hits per object are capped. */
#define PT_PHI_TEXT_RECORD (16u * 1024)
#define PT_PHI_DICOM_DEPTH 16
#define PT_PHI_DICOM_ELEMENTS 200000
#define PT_PHI_INFLATE_MAX (256u * 1024 * 1024)
#define PT_PHI_JSON_DEPTH 64
#define PT_PHI_MAX_HITS_PER_OBJECT 1000000
/* Protocol detection holds at most PT_APP_LOOKAHEAD bytes in PT_APP_LOOK_CHUNKS pieces per
 * flow while no decoder recognises the stream (a request line cut over segments, a server
 * greeting before the client speaks), then decides on all of them and replays them. */
#define PT_APP_LOOKAHEAD 2048
#define PT_APP_LOOK_CHUNKS 16
/* An individual joined from records with more different names than this is implausible:
 * a warning and a limitation (the joins themselves stand). */
#define PT_PHI_ENTITY_MAX_NAMES 3
/* Binary content no parser opened is read in printable runs of at least PT_PHI_STRINGS_MIN
 * characters (ASCII/UTF-8 and UTF-16LE); a run is read in pieces of PT_PHI_STRINGS_RUN. */
#define PT_PHI_STRINGS_MIN 6
#define PT_PHI_STRINGS_RUN (1u << 20)
/* An object at least this large (a disk image) is scanned by YARA in a thread of its own
 * while its printable runs are read (analyzer/phi/phase.c). */
#define PT_PHI_YARA_BESIDE ((size_t)64 << 20)
/* A file-mapped object at least this large (a log, a file at rest read in place) has its pages
 * dropped from the mapping every PT_PHI_MAP_TRIM_MS while it is scanned, so that the peak
 * memory does not grow with it (analyzer/phi/phase.c). */
#define PT_PHI_MAP_TRIM ((size_t)8 << 20)
#define PT_PHI_MAP_TRIM_MS 10

/* YARA: objects larger than the window are scanned in windows overlapping by
 * PT_YARA_OVERLAP (about 2 x YR_RE_SCAN_LIMIT, c-deps-guide §4); a scan of one window stops
 * after PT_YARA_TIMEOUT_S seconds (an anomaly says so). */
#define PT_YARA_WINDOW (64u * 1024 * 1024)
#define PT_YARA_OVERLAP (16u * 1024)
#define PT_YARA_TIMEOUT_S 60

/* A TCP stream no decoder recognises is stored per direction up to this many bytes. */
#define PT_RAW_MAX_BYTES (1ull << 30)

/* DNS and ICMP tunnel payloads (analyze/tunnel.c): distinct query names read per inside
 * client (the rest are counted in a limit.tunnel_names anomaly), tunnels decoded per case,
 * the least a group needs to be decoded at all, and the bytes one reassembled tunnel object
 * may hold (past it the object is cut and partial, with a limit.tunnel_bytes anomaly). ICMP
 * echo payloads of one flow are kept as an object up to PT_TUN_MAX_BYTES too. */
#define PT_TUN_MAX_NAMES (1u << 18)
#define PT_TUN_MAX_TUNNELS 256
#define PT_TUN_MIN_NAMES 8
#define PT_TUN_MIN_DATA 64
#define PT_TUN_MAX_BYTES (64u * 1024 * 1024)
/* ICMP echo payloads become an object only past this many bytes with at least two
 * different payloads (ping's fill pattern repeats; a tunnel's data does not). */
#define PT_ICMP_OBJECT_MIN 1000

/* Anomaly rows of one kind per evidence item; past this one "limit.anomalies" row says so. */
#define PT_ANOMALY_MAX_PER_KIND 10000

/* libpcap's own sanity bound on a record (MAXIMUM_SNAPLEN). */
#define PT_MAX_FRAME 262144

/* Reader to worker hand-off: packets per batch, payload bytes per batch, batches in flight. */
#define PT_BATCH_PKTS 512
#define PT_BATCH_BYTES (512u * 1024)
#define PT_RING_SLOTS 16

/* Records per SQLite transaction (c-deps-guide §8: ~10k rows is where batching saturates). */
#define PT_DB_BATCH_ROWS 10000

/* Top talkers listed in the summary. */
#define PT_SUMMARY_TOP 10

/* Directory recursion depth for inputs, against symlink loops and pathological trees. */
#define PT_MAX_DIR_DEPTH 64

/* Archive passwords (analyze/archive_pw.c): candidates kept per case (the rest are a
 * limit.passwords anomaly), text objects read for them up to this size, encrypted archives
 * retried per case, and the wall time of one run of the 7z program (killed past it). */
#define PT_PW_MAX_CANDIDATES 4096
#define PT_PW_MAX_TEXT (16u * 1024 * 1024)
#define PT_PW_MAX_ARCHIVES 256
#define PT_PW_7Z_SECONDS 60

/* nfcapd files through the nfdump program (ingest/nfdump.c): its wall time and the CSV it may
 * write (about 200 bytes a flow: 20 million flows) before it is killed and the rest of the
 * file is a limitation. */
#define PT_NFDUMP_SECONDS 900
#define PT_NFDUMP_MAX_OUT (4ull << 30)

#endif
