#!/usr/bin/env python3
"""Replace anomaly kind strings with their generated constants (analyzer/core/anomalies.def).

    tools/anom_constants.py FILE...

"http.bad_header" becomes PT_ANOM_HTTP_BAD_HEADER, and doc_anomaly(d, "bad_xml", ...)
becomes doc_anomaly(d, PT_ANOM_DOC_BAD_XML, ...). A kind missing from the .def is listed
on stderr: add its line to anomalies.def, then run this again. Re-run it after merging a
branch that still passes strings (the compiler refuses a string where an enum pt_anom is
expected, so nothing is missed)."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEF = ROOT / "analyzer/core/anomalies.def"


def vocabulary():
    text = DEF.read_text()
    kinds = dict(re.findall(r'PT_ANOMALY(?:_COUNTED)?\((\w+), "([^"]+)"', text))
    docs = dict(re.findall(r'PT_ANOMALY_DOC\((\w+), "([^"]+)"', text))
    return {v: k for k, v in kinds.items()}, {v: k for k, v in docs.items()}


def main(paths):
    kinds, docs = vocabulary()
    literal = re.compile(r'"([a-z0-9_]+\.[a-z0-9_.]+)"')
    doc_call = re.compile(r'(doc_anomaly\([^,]+,\s*)"([a-z_]+)"')
    unknown = set()
    for p in paths:
        src = pathlib.Path(p).read_text()

        def kind(m):
            name = kinds.get(m.group(1))
            return "PT_ANOM_" + name if name else m.group(0)

        def doc(m):
            name = docs.get(m.group(2))
            if name is None:
                unknown.add("doc.<format>." + m.group(2))
                return m.group(0)
            return m.group(1) + "PT_ANOM_" + name

        out = doc_call.sub(doc, literal.sub(kind, src))
        if out != src:
            pathlib.Path(p).write_text(out)
    for u in sorted(unknown):
        print("not in anomalies.def:", u, file=sys.stderr)
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
