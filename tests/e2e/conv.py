"""Compare phitrace's TCP/UDP flows with tshark's conversation tables.

tshark (`-q -z conv,tcp -z conv,udp`) counts frames and frame bytes per
conversation and direction. phitrace keys flows also by VLAN/tunnel context
and splits UDP flows on idle timeouts, so both sides are summed per endpoint
pair before comparing (the principled differences, see README). The number
of TCP conversations per endpoint pair must match too: both split a reused
5-tuple on a SYN with a new initial sequence number.

tshark prints byte counts of 10000 and more in SI units, truncated
(wsutil format_size); those are compared after formatting phitrace's exact
count the same way.
"""
import collections
import re
import sqlite3
import subprocess

LINE = re.compile(
    r"^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\w+)"
)


def fmt_size(v):
    for thr, div, unit in ((10**16, 10**15, "PB"), (10**13, 10**12, "TB"), (10**10, 10**9, "GB"),
                           (10**7, 10**6, "MB"), (10**4, 10**3, "kB")):
        if v >= thr:
            return "%d %s" % (v // div, unit)
    return "%d bytes" % v


def split_ep(ep):
    addr, port = ep.rsplit(":", 1)
    return addr, int(port)


def tshark_convs(path):
    """{(proto, ep_lo, ep_hi): {'n': conversations, ep: (frames, bytes_text) sent by ep}}"""
    p = subprocess.run(["tshark", "-n", "-r", path, "-q", "-z", "conv,tcp", "-z", "conv,udp"],
                       capture_output=True, text=True, timeout=600)
    out = collections.OrderedDict()
    proto = None
    saw_table = False
    for line in p.stdout.splitlines():
        if line.startswith("TCP Conversations"):
            proto, saw_table = 6, True
        elif line.startswith("UDP Conversations"):
            proto, saw_table = 17, True
        m = LINE.match(line)
        if not m or proto is None:
            continue
        a, b = split_ep(m.group(1)), split_ep(m.group(2))
        # "<-" columns: frames/bytes B sent to A; "->": A sent to B.
        to_a = (int(m.group(3)), int(m.group(4)), m.group(5))
        to_b = (int(m.group(6)), int(m.group(7)), m.group(8))
        key = (proto,) + tuple(sorted([a, b]))
        e = out.setdefault(key, {"n": 0, a: [0, []], b: [0, []]})
        e["n"] += 1
        e[b][0] += to_a[0]
        e[b][1].append((to_a[1], to_a[2]))
        e[a][0] += to_b[0]
        e[a][1].append((to_b[1], to_b[2]))
    return (out if saw_table else None), p.returncode, p.stderr


def phitrace_convs(db):
    con = sqlite3.connect(db)
    out = {}
    rows = con.execute(
        "SELECT proto, client_addr, client_port, server_addr, server_port, c_pkts, c_frame_bytes,"
        " s_pkts, s_frame_bytes, coalesce(vlan, '') || '/' || coalesce(tunnel, '') FROM flow"
        " WHERE proto IN (6, 17) AND ports_known = 1 ORDER BY id")
    for proto, ca, cp, sa, sp, cpk, cb, spk, sb, ctx in rows:
        c, s = (ca, cp), (sa, sp)
        key = (proto,) + tuple(sorted([c, s]))
        e = out.setdefault(key, {"ctx": collections.Counter(), c: [0, 0], s: [0, 0]})
        e["ctx"][ctx] += 1
        # tshark ignores VLAN ids; connections are counted within one VLAN/tunnel context.
        e["nflows"] = max(e["ctx"].values())
        e[c][0] += cpk
        e[c][1] += cb
        e[s][0] += spk
        e[s][1] += sb
    con.close()
    return out


def bytes_match(exact_total, texts):
    """tshark may list several conversations per pair; each byte text was formatted alone."""
    if all(u == "bytes" for _, u in texts):
        return sum(v for v, _ in texts) == exact_total
    if len(texts) == 1:
        return "%d %s" % texts[0] == fmt_size(exact_total)
    # Several rows with rounded units: the exact sum must lie within the rounding window.
    lo = hi = 0
    for v, u in texts:
        mult = {"bytes": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}[u]
        lo += v * mult
        hi += v * mult + (mult - 1 if mult > 1 else 0)
    return lo <= exact_total <= hi


def compare(tsh, pht):
    """Return a list of human-readable differences (empty when equal)."""
    diffs = []
    for key, e in tsh.items():
        proto, a, b = key
        mine = pht.get(key)
        name = "%s %s:%d <-> %s:%d" % ("tcp" if proto == 6 else "udp", a[0], a[1], b[0], b[1])
        if mine is None:
            diffs.append("%s: missing in phitrace" % name)
            continue
        for ep in (a, b):
            frames, texts = e[ep]
            mf, mb = mine[ep]
            if frames != mf or not bytes_match(mb, texts):
                diffs.append("%s: from %s:%d tshark %d frames %s, phitrace %d frames %d bytes" % (
                    name, ep[0], ep[1], frames, "+".join("%d %s" % t for t in texts), mf, mb))
        if proto == 6 and e["n"] != mine["nflows"]:
            diffs.append("%s: tshark %d conversations, phitrace %d flows" % (name, e["n"],
                                                                           mine["nflows"]))
    for key, e in pht.items():
        # tshark takes UDP as Teredo on port 3544 only; a relay's data path uses other ports
        # (zeek decodes it by content, as phitrace does): those inner flows are phitrace's alone
        if key not in tsh and not all("teredo" in ctx for ctx in e["ctx"]):
            proto, a, b = key
            diffs.append("%s %s:%d <-> %s:%d: only in phitrace" % (
                "tcp" if proto == 6 else "udp", a[0], a[1], b[0], b[1]))
    return diffs


# Columns holding object(id)s: compared as the object they name, since ids differ between
# runs that store objects in another order.
OBJECT_ID_COLUMNS = {("hl7_message_row", "object_id"), ("http_txn_row", "req_object"),
                     ("http_txn_row", "resp_object")}

# Columns holding the id of a lookup row (records.def's PT_LOOKUP): compared as the values of
# that row, since its id is the order in which the combinations were first written.
LOOKUP_COLUMNS = {
    ("hl7_message_row", "header_id"): ("hl7_header", "sending_app, sending_facility, "
                                       "receiving_app, receiving_facility, msg_type, version"),
    ("http_txn_row", "header_id"): ("http_header", "method, host, user_agent, req_ctype, "
                                    "status, resp_ctype"),
}


# object ids that name the first object of a hash (its PHI scan): compared as that hash, since
# which of equal objects the capture threads numbered first may differ between runs
OBJECT_HASH_COLUMNS = {("phi_object_row", "object_id")}


# object_str ids (the strings object rows repeat): compared as the string, numbered in the
# order the capture threads met them
OBJECT_STR_COLUMNS = {("object_row", c) for c in ("mime", "magic", "protocol", "encoding",
                                                  "direction")}


def select_columns(table, cols):
    """SELECT list of `cols` of `table` (aliased x), object ids as the object they name."""
    def one(c):
        if (table, c) in OBJECT_ID_COLUMNS:
            return ('(SELECT json_array(o.sha256, o.flow_id, o.stream_dir, o.stream_off, o.part, '
                    'o.depth) FROM object o WHERE o.id = x."%s")' % c)
        if (table, c) in OBJECT_HASH_COLUMNS:
            return '(SELECT o.sha256 FROM object o WHERE o.id = x."%s")' % c
        if (table, c) in LOOKUP_COLUMNS:
            look, values = LOOKUP_COLUMNS[(table, c)]
            return '(SELECT json_array(%s) FROM %s l WHERE l.id = x."%s")' % (values, look, c)
        if (table, c) in OBJECT_STR_COLUMNS:
            return '(SELECT s.str FROM object_str s WHERE s.id = x."%s")' % c
        return 'x."%s"' % c
    return ", ".join(one(c) for c in cols)
