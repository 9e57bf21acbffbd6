"""evtxw.py - a small writer of Windows XML event log (.evtx) files for the tests.

Written from the libyal documentation of the format ("Windows XML Event Log (EVTX)",
libevtx's documentation/Windows XML Event Log (EVTX).asciidoc), not from phitrace's reader:
a file header (4096 bytes, CRC32 of its first 120 bytes), chunks of 64 KiB (a 512-byte
header whose CRC32 covers bytes 0-119 and 128-511, and the CRC32 of the event records'
bytes), and event records whose Binary XML is a template instance: the template's
definition inline at its first use in a chunk (a fragment: an Event element with its System
and EventData children, names inline, values as substitutions), referenced by offset after
that, then the substitution values (descriptors of size and type, then the data).

Each generated file is checked with independent readers (evtxexport of libevtx-utils,
python-evtx) by the tests before phitrace reads it.
"""
import struct
import zlib

CHUNK = 65536
FT_EPOCH = 116444736000000000  # 1601-01-01 to 1970-01-01 in 100 ns

# value types (libyal: "Value types")
T_NULL, T_STR, T_U16, T_U64, T_FILETIME = 0x00, 0x01, 0x06, 0x0A, 0x11


def filetime(us):
    return FT_EPOCH + us * 10


def _name_hash(name):
    h = 0
    for ch in name:
        h = (h * 65599 + ord(ch)) & 0xFFFFFFFF
    return h & 0xFFFF


class _Frag:
    """Binary XML being written at a known chunk offset (names are inline: their offset is
    the bytes that follow)."""

    def __init__(self, base):
        self.base = base  # chunk offset of self.b[0]
        self.b = bytearray()

    def pos(self):
        return self.base + len(self.b)

    def name(self, s):
        self.b += struct.pack("<I", self.pos() + 4)  # inline: points right after itself
        self.b += struct.pack("<IHH", 0, _name_hash(s), len(s))
        self.b += s.encode("utf-16-le") + b"\0\0"

    def element(self, tag, attrs, body):
        """attrs: [(name, ('sub', index, type) | ('text', str))]; body: callable or None."""
        start = len(self.b)
        self.b += bytes([0x41 if attrs else 0x01]) + struct.pack("<H", 0xFFFF)
        size_at = len(self.b)
        self.b += b"\0\0\0\0"
        self.name(tag)
        if attrs:
            alist_at = len(self.b)
            self.b += b"\0\0\0\0"
            for i, (an, av) in enumerate(attrs):
                self.b += bytes([0x46 if i + 1 < len(attrs) else 0x06])
                self.name(an)
                self.value(av)
            struct.pack_into("<I", self.b, alist_at, len(self.b) - alist_at - 4)
        if body is None:
            self.b += b"\x03"  # close empty element
        else:
            self.b += b"\x02"
            body()
            self.b += b"\x04"  # end element
        struct.pack_into("<I", self.b, size_at, len(self.b) - size_at - 4)
        return start

    def value(self, v):
        if v[0] == "sub":
            self.b += bytes([0x0E]) + struct.pack("<HB", v[1], v[2])  # optional substitution
        else:
            s = v[1]
            self.b += bytes([0x05, 0x01]) + struct.pack("<H", len(s)) + s.encode("utf-16-le")


def _template(base, data_names):
    """The definition of a template: System (Provider, EventID, TimeCreated, EventRecordID,
    Channel, Computer: substitutions 0-5) and EventData with one Data Name="..." per field
    (substitutions 6...). Returns its bytes placed at chunk offset `base`."""
    hdr = 4 + 16 + 4  # next offset, GUID, data size
    f = _Frag(base + hdr)
    f.b += b"\x0f\x01\x01\x00"  # fragment header

    def system():
        f.element("Provider", [("Name", ("sub", 0, T_STR))], None)
        f.element("EventID", [], lambda: f.value(("sub", 1, T_U16)))
        f.element("TimeCreated", [("SystemTime", ("sub", 2, T_FILETIME))], None)
        f.element("EventRecordID", [], lambda: f.value(("sub", 3, T_U64)))
        f.element("Channel", [], lambda: f.value(("sub", 4, T_STR)))
        f.element("Computer", [], lambda: f.value(("sub", 5, T_STR)))

    def data():
        for i, n in enumerate(data_names):
            f.element("Data", [("Name", ("text", n))], lambda i=i: f.value(("sub", 6 + i, T_STR)))

    def event():
        f.element("System", [], system)
        f.element("EventData", [], data)

    f.element("Event", [("xmlns", ("text",
                                   "http://schemas.microsoft.com/win/2004/08/events/event"))],
              event)
    f.b += b"\x00"  # end of fragment
    guid = struct.pack("<I", zlib.crc32("|".join(data_names).encode())) + b"\x11" * 12
    return struct.pack("<I", 0) + guid + struct.pack("<I", len(f.b)) + bytes(f.b)


def _values(ev):
    vals = [(T_STR, ev["provider"].encode("utf-16-le")),
            (T_U16, struct.pack("<H", ev["event_id"])),
            (T_FILETIME, struct.pack("<Q", filetime(ev["ts_us"]))),
            (T_U64, struct.pack("<Q", ev["record_id"])),
            (T_STR, ev["channel"].encode("utf-16-le")),
            (T_STR, ev["computer"].encode("utf-16-le"))]
    for _, v in ev["data"]:
        vals.append((T_STR, v.encode("utf-16-le")) if v is not None else (T_NULL, b""))
    out = struct.pack("<I", len(vals))
    for t, d in vals:
        out += struct.pack("<HBB", len(d), t, 0)
    for _, d in vals:
        out += d
    return out


class Writer:
    """Records in chunks; write() gives the file's bytes."""

    def __init__(self, slack=32):
        """slack: bytes a chunk keeps free at its end at least (libevtx 20181227 does not
        read a record that ends 2 bytes before its chunk's end; python-evtx does)."""
        self.slack = slack
        self.chunks = []  # finished chunk bytes
        self.offsets = {}  # record identifier -> byte offset in the file
        self._new_chunk()
        self.next_id = 1

    def _new_chunk(self):
        self.cur = bytearray(512)
        self.templates = {}  # field names -> chunk offset of its definition
        self.first_id = None
        self.last_id = None
        self.last_off = 0

    def _finish_chunk(self):
        if self.first_id is None:
            return
        c = self.cur
        free = len(c)
        c += bytes(CHUNK - len(c))
        # template pointer table (32 dwords at 384): the definitions, in order
        for i, off in enumerate(sorted(self.templates.values())[:32]):
            struct.pack_into("<I", c, 384 + 4 * i, off)
        n = len(self.chunks)
        struct.pack_into("<8sQQQQIII", c, 0, b"ElfChnk\0", self.first_id, self.last_id,
                         self.first_id, self.last_id, 128, self.last_off, free)
        struct.pack_into("<I", c, 52, zlib.crc32(bytes(c[512:free])))
        struct.pack_into("<I", c, 124, zlib.crc32(bytes(c[0:120]) + bytes(c[128:512])))
        del n
        self.chunks.append(bytes(c))
        self._new_chunk()

    def add(self, ev):
        """ev: provider, event_id, ts_us, channel, computer, data [(name, value)]; returns
        the record identifier given."""
        rid = ev.get("record_id") or self.next_id
        ev = dict(ev, record_id=rid)
        rec = self._record(ev, len(self.cur))
        if len(self.cur) + len(rec) > CHUNK - self.slack:
            self._finish_chunk()
            rec = self._record(ev, len(self.cur))
        self.last_off = len(self.cur)
        self.offsets[rid] = 4096 + CHUNK * len(self.chunks) + len(self.cur)
        self.cur += rec
        self.first_id = rid if self.first_id is None else self.first_id
        self.last_id = rid
        self.next_id = rid + 1
        return rid

    def _record(self, ev, at):
        names = tuple(n for n, _ in ev["data"])
        body = bytearray(b"\x0f\x01\x01\x00")  # fragment header
        inst_at = at + 24 + len(body)
        known = self.templates.get(names)
        if known is None:
            tdef_at = inst_at + 10
            tdef = _template(tdef_at, names)
            body += bytes([0x0C, 0x01]) + struct.pack("<II", zlib.crc32(repr(names).encode()),
                                                       tdef_at)
            body += tdef
            self.templates[names] = tdef_at
        else:
            body += bytes([0x0C, 0x01]) + struct.pack("<II", zlib.crc32(repr(names).encode()),
                                                       known)
        body += _values(ev)
        body += b"\x00"  # end of the record's fragment
        size = 24 + len(body) + 4
        hdr = struct.pack("<4sIQQ", b"**\0\0", size, ev["record_id"], filetime(ev["ts_us"]))
        return hdr + bytes(body) + struct.pack("<I", size)

    def write(self):
        self._finish_chunk()
        n = len(self.chunks)
        h = bytearray(4096)
        struct.pack_into("<8sQQQIHHHH", h, 0, b"ElfFile\0", 0, n - 1, self.next_id, 128, 1, 3,
                         4096, n)
        struct.pack_into("<I", h, 120, 0)  # flags: clean
        struct.pack_into("<I", h, 124, zlib.crc32(bytes(h[:120])))
        return bytes(h) + b"".join(self.chunks)
