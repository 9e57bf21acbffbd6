#!/usr/bin/env python3
"""regfgen.py - a Windows registry hive (regf) writer for the tests of analyze/regf.c and
hostinfer.c: e2e_disk_host.py puts a SYSTEM hive on a generated image, and
`python3 tests/e2e/regfgen.py tests/fuzz/corpus/regf/system.hive` writes the seed that
fuzz_regf and tests/unit/test_hostinfer.c read (its expected values are in that test)."""
import struct
import sys


def regf(keys, lists=None):
    """A registry hive (regf 1.5) holding `keys`: {"A\\\\B": {"Value": (type, data)}} (data:
    bytes, an int for REG_DWORD, a str for REG_SZ, a list of str for REG_MULTI_SZ).
    `lists`: {key path: "lf" | "lh" | "li" | "ri"}, the form of that key's subkey list (lh
    by default; "ri" splits it into an lf and an li). Written here from the format's
    description, and checked with hivexget when it is installed."""
    tree = {"": {}}
    for path in keys:
        parts = path.split("\\")
        for k in range(1, len(parts) + 1):
            tree.setdefault("\\".join(parts[:k]), {})
    cells = bytearray()

    def cell(data):
        size = (len(data) + 4 + 7) & ~7
        off = len(cells) + 0x20  # after the bin header
        cells.extend(struct.pack("<i", -size) + data + b"\0" * (size - 4 - len(data)))
        return off

    def value(name, typ, data):
        if typ == 4:
            data = struct.pack("<I", data)
        elif typ in (1, 2):
            data = (data + "\0").encode("utf-16-le")
        elif typ == 7:
            data = "".join(s + "\0" for s in data + [""]).encode("utf-16-le")
        nm = name.encode("ascii")
        if len(data) <= 4:
            size, doff = len(data) | 0x80000000, struct.unpack("<I", data.ljust(4, b"\0"))[0]
        else:
            size, doff = len(data), cell(data)
        return cell(b"vk" + struct.pack("<HIIIHH", len(nm), size, doff, typ, 1, 0) + nm)

    def key(path, parent):
        name = path.split("\\")[-1] if path else "ROOT"
        kids = sorted((p for p in tree if p and "\\".join(p.split("\\")[:-1]) == path),
                      key=lambda p: p.split("\\")[-1].upper())
        vals = keys.get(path, {})
        nm = name.encode("ascii")
        # the key cell first (its offset is the children's parent), filled in after
        head = b"nk" + struct.pack("<H", 0x20 | (0x2c if not path else 0)) + b"\0" * 8
        me = cell(head + b"\0" * (0x4C - len(head)) + nm)
        offs = [key(k, me) for k in kids]
        form = (lists or {}).get(path, "lh")

        def one(form, part):
            if form == "li":
                return cell(b"li" + struct.pack("<H", len(part)) +
                            b"".join(struct.pack("<I", o) for o, _ in part))
            return cell(form.encode() + struct.pack("<H", len(part)) + b"".join(
                struct.pack("<I", o) + n.split("\\")[-1].upper().encode()[:4].ljust(4, b"\0")
                for o, n in part))
        pairs = list(zip(offs, kids))
        if not pairs:
            sub = 0xffffffff
        elif form == "ri":
            half = (len(pairs) + 1) // 2
            sub = cell(b"ri" + struct.pack("<HII", 2, one("lf", pairs[:half]),
                                           one("li", pairs[half:])))
        else:
            sub = one(form, pairs)
        voffs = [value(n, t, d) for n, (t, d) in sorted(vals.items())]
        vlist = cell(b"".join(struct.pack("<I", o) for o in voffs)) if voffs else 0xffffffff
        body = (b"nk" + struct.pack("<H", 0x20 | (0x2c if not path else 0)) +
                struct.pack("<Q", 132000000000000000) + struct.pack("<I", 0) +
                struct.pack("<I", parent if path else 0xffffffff) +
                struct.pack("<IIIIII", len(kids), 0, sub, 0xffffffff, len(voffs), vlist) +
                struct.pack("<II", 0xffffffff, 0xffffffff) +
                struct.pack("<IIIII", 64, 0, 64, 256, 0) + struct.pack("<HH", len(nm), 0) + nm)
        at = me - 0x20 + 4
        cells[at:at + len(body)] = body
        return me

    root = key("", 0)
    size = (len(cells) + 0x20 + 8 + 4095) & ~4095
    free = size - 0x20 - len(cells)
    cells.extend(struct.pack("<i", free) + b"\0" * (free - 4))
    hbin = b"hbin" + struct.pack("<III", 0, size, 0) + b"\0" * 16 + bytes(cells)
    base = bytearray(4096)
    base[0:4] = b"regf"
    struct.pack_into("<IIQIIIIIII", base, 4, 1, 1, 0, 1, 5, 0, 1, root, size, 1)
    csum = 0
    for i in range(0, 0x1fc, 4):
        csum ^= struct.unpack_from("<I", base, i)[0]
    struct.pack_into("<I", base, 0x1fc, csum)
    return bytes(base) + hbin


CS = "ControlSet002\\Services\\Tcpip\\Parameters"
SYSTEM_KEYS = {
    "Select": {"Current": (4, 2), "Default": (4, 2), "LastKnownGood": (4, 1)},
    # the control set not in use: an old name and address that must not be read
    "ControlSet001\\Control\\ComputerName\\ComputerName": {"ComputerName": (1, "OLDNAME")},
    "ControlSet001\\Services\\Tcpip\\Parameters\\Interfaces\\{0LD}": {
        "IPAddress": (7, ["10.30.0.99"])},
    "ControlSet002\\Control\\ComputerName\\ComputerName": {"ComputerName": (1, "WS21")},
    "ControlSet002\\Control\\Other": {"Noise": (1, "10.30.0.98")},
    CS: {"Hostname": (1, "ws21"), "Domain": (1, "clinic.example")},
    CS + "\\Interfaces\\{AAAA-1}": {"EnableDHCP": (4, 0),
                                        "IPAddress": (7, ["10.30.0.21", "10.30.0.22"]),
                                        "SubnetMask": (7, ["255.255.255.0"])},
    CS + "\\Interfaces\\{BBBB-2}": {"EnableDHCP": (4, 1), "IPAddress": (7, ["0.0.0.0"]),
                                        "DhcpIPAddress": (1, "10.30.0.23")},
    CS + "\\Interfaces\\{CCCC-3}": {"DhcpIPAddress": (1, "0.0.0.0")},
    CS + "\\Interfaces\\{DDDD-4}": {"IPAddress": (7, ["fe80::1", "2001:db8:30::24"])},
}
SYSTEM_LISTS = {"": "ri", "ControlSet002": "lf", CS + "\\Interfaces": "li"}


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as fh:
        fh.write(regf(SYSTEM_KEYS, SYSTEM_LISTS))
