#!/usr/bin/env python3
"""List the functions of C files longer than a limit (default 150 lines, body included).

    tools/funclen.py [--max N] [--top K] [--allow LIST] FILE...

A function starts at a line that begins without indentation, is not a preprocessor or
comment line, and is followed by a line that is exactly "{"; it ends at the next line that
is exactly "}" (the house style: clang-format, braces on their own line for functions).
Exits 1 when a function is over the limit, printing file:line name length for each. LIST
names functions still waiting to be split, one "path:function" a line ('#' comments): they
are reported, not failed, and a name in LIST that is no longer over the limit is an error
too, so the list only shrinks."""
import re
import sys


def functions(path):
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "{" and i > 0:
            j = i - 1  # the signature may span lines: find its first line
            while j > 0 and lines[j].startswith((" ", "\t")):
                j -= 1  # continuation lines of the signature are indented
            start = j
            k = i + 1
            while k < len(lines) and lines[k] != "}":
                k += 1
            m = re.search(r"(\w+)\s*\(", " ".join(lines[start:i]))
            if m and not lines[start].startswith(("#", "/", " ")):
                yield start + 1, m.group(1), k - start + 1
            i = k
        i += 1


def main(argv):
    limit, top, paths, allow = 150, 0, [], set()
    it = iter(argv)
    for a in it:
        if a == "--max":
            limit = int(next(it))
        elif a == "--top":
            top = int(next(it))
        elif a == "--allow":
            for ln in open(next(it)):
                ln = ln.split("#")[0].strip()
                if ln:
                    allow.add(ln)
        else:
            paths.append(a)
    found = []
    for p in paths:
        for line, name, n in functions(p):
            found.append((n, p, line, name))
    found.sort(reverse=True)
    over = [f for f in found if f[0] > limit]
    if top:
        for n, p, line, name in found[:top]:
            print(f"{p}:{line}: {name} {n} lines")
        return 0
    waiting = [f for f in over if f"{f[1]}:{f[3]}" in allow]
    failing = [f for f in over if f"{f[1]}:{f[3]}" not in allow]
    stale = allow - {f"{f[1]}:{f[3]}" for f in over}
    for n, p, line, name in waiting:
        print(f"{p}:{line}: {name} {n} lines (listed, to split)")
    for n, p, line, name in failing:
        print(f"{p}:{line}: {name} {n} lines: over {limit}")
    for s in sorted(stale):
        print(f"{s}: listed but no longer over {limit} lines: remove it from the list")
    if failing or stale:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
