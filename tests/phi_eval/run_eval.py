#!/usr/bin/env python3
"""Run phitrace over the independent PHI evaluation set and print, per layout and container,
the individuals expected and found and the identifier precision and recall.

    python3 tests/phi_eval/run_eval.py [--phitrace BIN] [--out DIR] [--containers a,b]

Prints the tables and never fails on the numbers (tests/e2e/e2e_phi_eval.py asserts them).
The set is generated first by gen_eval.py, whose truth.json is written before phitrace runs.
LAYOUTS.md defines the layouts, the containers and what "expected" means.
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GEN = os.path.join(HERE, "gen_eval.py")
sys.path.insert(0, HERE)
import gen_eval  # noqa: E402  (the truth's linker; the module imports only the stdlib)

# identifier types whose precision and recall are measured (phi_hit.type values, README)
EVAL_TYPES = ("name", "ssn", "mrn", "birth_date", "phone", "address", "zip", "email",
              "health_plan_id")


def generate(out):
    """Runs the generator (its own interpreter: it needs Debian's python3 packages)."""
    p = subprocess.run([sys.executable, GEN, out], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError("gen_eval.py failed:\n" + p.stdout + p.stderr)
    with open(os.path.join(out, "truth.json")) as fh:
        return json.load(fh), p.stdout.strip()


def analyze_cmd(binary, truth_dir, container, truth, case_dir):
    inp = os.path.join(truth_dir, truth["containers"][container]["input"])
    return [binary, "analyze", "-q", "--keep-phi", "--home-net", truth["home_net"], inp,
            "-o", case_dir]


# ---- comparison normal form -------------------------------------------------------------------
# Planted values are stored in the README's normal forms; phitrace's values are compared after
# both sides are put in one tolerant form (letter case of non-ASCII letters, punctuation and
# spacing do not matter; a middle name after FAMILY^GIVEN does not matter).

def cmp_form(typ, v):
    v = unicodedata.normalize("NFC", v or "").upper()
    if typ in ("ssn", "birth_date"):
        return "".join(c for c in v if c.isdigit())
    if typ == "phone":
        d = "".join(c for c in v if c.isdigit())
        return d[1:] if len(d) == 11 and d[0] == "1" else d
    if typ == "zip":
        return "".join(c for c in v if c.isdigit())[:5]
    if typ == "name":
        comps = v.split("^")[:2]
        if len(comps) == 2:  # the given name's first word: a middle name or initial is not
            comps[1] = (comps[1].split() or [""])[0]  # compared ("COOK^RONALD J")
        return "^".join("".join(c for c in x if c.isalnum()) for x in comps)
    if typ == "email":
        return v.lower()
    return "".join(c for c in v if c.isalnum())


def _match(typ, got, planted):
    """got in cmp form; planted: set of cmp-form values of this type. Addresses match when the
    found value starts with the planted street line (a found address may carry city and ZIP)."""
    if got in planted:
        return got
    if typ == "address":
        for p in planted:
            if p and got.startswith(p):
                return p
    return None


class DocResult:
    def __init__(self, name, layout):
        self.name, self.layout = name, layout
        self.extracted = False
        self.scanned = False
        self.expected = 0
        self.found = None      # phi_object.individuals (0 when not scanned or not extracted)
        self.tp, self.fp, self.fn = set(), set(), set()
        self.neutral = 0       # hits on planted staff / next-of-kin values marked not-subject


def evaluate(con, truth, container):
    """Compares one case database with truth.json. Returns a dict:
    docs: {name: DocResult}, layouts: {layout: row dict}, union: {...}."""
    shas = {r[0] for r in con.execute("SELECT DISTINCT sha256 FROM object")}
    scanned = {r[0] for r in con.execute("SELECT object_sha256 FROM phi_object")}
    # a document's content may be read through objects derived from it (the text of a DOCX
    # or PDF, the parts of a container): its individuals and hits are those of the document
    # and its descendants (object.parent_sha256)
    children = {}
    for sha, parent in con.execute("SELECT DISTINCT sha256, parent_sha256 FROM object WHERE "
                                   "parent_sha256 IS NOT NULL AND parent_sha256 <> ''"):
        children.setdefault(parent, set()).add(sha)

    def family(sha):
        seen, todo = set(), [sha]
        while todo:
            x = todo.pop()
            if x not in seen:
                seen.add(x)
                todo.extend(children.get(x, ()))
        return seen
    entities = {}
    for sha, eid in con.execute("SELECT r.object_sha256, r.entity_id FROM phi_record r JOIN "
                                "patient_entity e ON e.id = r.entity_id WHERE e.phi = 1"):
        entities.setdefault(sha, set()).add(eid)
    hits = {}
    # a hit is "attributed to a patient" when it describes its record's subject and that
    # record belongs to a counted individual
    for sha, typ, val, attributed in con.execute(
            "SELECT h.object_sha256, h.type, v.value,"
            " h.subject AND coalesce(e.phi, 0) FROM phi_hit h"
            " LEFT JOIN phi_value v ON v.hmac = h.hmac"
            " LEFT JOIN phi_record r ON r.id = h.record_id"
            " LEFT JOIN patient_entity e ON e.id = r.entity_id"):
        hits.setdefault(sha, []).append((typ, val, attributed))
    docs = {}
    for name, d in sorted(truth["documents"].items()):
        r = DocResult(name, d["layout"])
        r.expected = d["individuals"]
        sha = d["sha256"]
        fam = family(sha)
        r.extracted = sha in shas
        r.scanned = sha in scanned
        r.found = len(set().union(*(entities.get(x, set()) for x in fam)))
        planted = {}
        for typ, val, pid in d["identifiers"]:
            planted.setdefault(typ, set()).add(cmp_form(typ, val))
        others = {}
        for typ, val, role in d["others"]:
            others.setdefault(typ, set()).add(cmp_form(typ, val))
        for typ, val, attributed in (h for x in sorted(fam) for h in hits.get(x, [])):
            if typ not in EVAL_TYPES:
                continue
            g = cmp_form(typ, val)
            m = _match(typ, g, planted.get(typ, set()))
            if m is not None:
                r.tp.add((typ, m))
            elif _match(typ, g, others.get(typ, set())) is not None and not attributed:
                # a staff, clinic or next-of-kin value found as what it is, and not given
                # to a patient: neither right nor wrong for patient identifiers
                r.neutral += 1
            else:
                r.fp.add((typ, g))
        for typ, vals in planted.items():
            for v in vals:
                if (typ, v) not in r.tp:
                    r.fn.add((typ, v))
        docs[name] = r
    layouts = {}
    for lay, info in truth["layouts"].items():
        rs = [docs[f] for f in info["files"]]
        row = {"expected": info["individuals"], "files": len(rs),
               "extracted": sum(r.extracted for r in rs),
               "tp": sum(len(r.tp) for r in rs), "fp": sum(len(r.fp) for r in rs),
               "fn": sum(len(r.fn) for r in rs), "neutral": sum(r.neutral for r in rs)}
        if len(rs) == 1:
            row["found"] = rs[0].found
        else:
            q = ",".join("?" * len(rs))
            row["found"] = con.execute(
                "SELECT count(DISTINCT r.entity_id) FROM phi_record r JOIN patient_entity e"
                " ON e.id = r.entity_id WHERE e.phi = 1 AND r.object_sha256 IN (%s)" % q,
                [truth["documents"][f]["sha256"] for f in info["files"]]).fetchone()[0]
        tp, fp, fn = row["tp"], row["fp"], row["fn"]
        row["precision"] = tp / (tp + fp) if tp + fp else None
        row["recall"] = tp / (tp + fn) if tp + fn else None
        layouts[lay] = row
    union = {}
    for scope in ("all", "outbound"):
        r = con.execute("SELECT estimate, lower, upper FROM individuals WHERE scope = ?",
                        (scope,)).fetchone()
        union[scope] = tuple(r) if r else None
    return {"docs": docs, "layouts": layouts, "union": union}


def entity_purity(con, truth, res):
    """Which patients each counted entity holds, from the strong identifiers (SSN, MRN, member
    id, e-mail) its records' hits carry. Returns (merged, split): entities holding several
    patients ({entity: [pids]}), and patients in more entities than linking the identifiers
    phitrace found allows ({pid: n}): join failures, not detection misses."""
    sha_doc = {d["sha256"]: name for name, d in truth["documents"].items()}
    owner = {}
    for name, d in truth["documents"].items():
        for typ, val, pid in d["identifiers"]:
            if typ in ("ssn", "mrn", "health_plan_id", "email"):
                owner.setdefault((name, typ, cmp_form(typ, val)), set()).add(pid)
    ent = {}
    for sha, typ, val, eid in con.execute(
            "SELECT h.object_sha256, h.type, v.value, r.entity_id FROM phi_hit h"
            " JOIN phi_value v ON v.hmac = h.hmac JOIN phi_record r ON r.id = h.record_id"
            " JOIN patient_entity e ON e.id = r.entity_id WHERE e.phi = 1 AND h.subject = 1"):
        doc = sha_doc.get(sha)
        pids = owner.get((doc, typ, cmp_form(typ, val))) if doc else None
        if pids and len(pids) == 1:
            ent.setdefault(eid, set()).update(pids)
    merged = {e: sorted(p) for e, p in ent.items() if len(p) > 1}
    per = {}
    for e, ps in ent.items():
        for p in ps:
            per[p] = per.get(p, 0) + 1
    # how many individuals each patient may be, linking only the identifiers phitrace found
    # (an identifier it missed cannot be the link)
    records = []
    for name, d in truth["documents"].items():
        found = res["docs"][name].tp
        by = {}
        for typ, val, pid in d["identifiers"]:
            if (typ, cmp_form(typ, val)) in found:
                by.setdefault(pid, set()).add((typ, val))
        for pid, ids in by.items():
            types = {t for t, _ in ids}
            if types & {"ssn", "mrn", "health_plan_id"} or {"name", "birth_date"} <= types:
                records.append((name + "#" + pid, pid, ids))  # a record that can be joined
    allowed = {}
    for comp in gen_eval.components(records, "estimate").values():
        for pid in comp:
            allowed[pid] = allowed.get(pid, 0) + 1
    split = {p: n for p, n in per.items() if n > allowed.get(p, 1)}
    return merged, split


def check(truth, container, res):
    """The assertions of the e2e test, as a list of failure strings."""
    bad = []
    docs = res["docs"]
    if docs and not any(r.extracted for r in docs.values()):
        bad.append("%s: none of the %d documents was extracted from the container" % (
            container, len(docs)))
        docs = {}
    for name, r in sorted(docs.items()):
        if r.found != r.expected:
            why = "" if r.extracted else " (not extracted)"
            if r.extracted and not r.scanned:
                why = " (not scanned)"
            bad.append("%s: %s: individuals %d, expected %d%s" % (container, name, r.found,
                                                                   r.expected, why))
    for lay, row in sorted(res["layouts"].items()):
        if docs and row["files"] > 1 and row["found"] != row["expected"]:
            bad.append("%s: layout %s (%d files): individuals %d, expected %d" % (
                container, lay, row["files"], row["found"], row["expected"]))
    u = truth["union"]
    scopes = ["all"] + (["outbound"] if container in ("http", "smtp", "ftp", "smb2") else [])
    for scope in scopes:
        got = res["union"].get(scope)
        if got is None:
            bad.append("%s: no individuals row for scope %s" % (container, scope))
            continue
        est, lo, up = got
        if est != u["linkable_individuals"]:
            bad.append("%s: union (%s) estimate %d, linkable %d (true %d)" % (
                container, scope, est, u["linkable_individuals"], u["true_individuals"]))
        if not lo <= u["true_individuals"] or not u["linkable_individuals"] <= up:
            bad.append("%s: union (%s) bounds %d-%d do not contain true %d / linkable %d" % (
                container, scope, lo, up, u["true_individuals"], u["linkable_individuals"]))
    return bad


def _pr(x):
    return "  - " if x is None else ("%.2f" % x).lstrip("0") if x < 1 else "1.0"


def table(truth, results, out=sys.stdout):
    """results: {container: evaluate() result}. Prints the two matrices and the union."""
    conts = [c for c in results]
    lays = list(truth["layouts"])
    w = max(len(x) for x in lays) + 1
    print("individuals found/expected per layout (X = document not extracted from the "
          "container):", file=out)
    print("%-*s %s" % (w, "layout", " ".join("%9s" % c for c in conts)), file=out)
    for lay in lays:
        cells = []
        for c in conts:
            row = results[c]["layouts"][lay]
            cell = "%d/%d" % (row["found"], row["expected"])
            if row["extracted"] < row["files"]:
                cell = "X" + cell
            elif row["found"] != row["expected"]:
                cell = "*" + cell
            cells.append("%9s" % cell)
        print("%-*s %s" % (w, lay, " ".join(cells)), file=out)
    print("", file=out)
    print("identifier precision/recall per layout (types %s):" % ",".join(EVAL_TYPES), file=out)
    print("%-*s %s" % (w, "layout", " ".join("%9s" % c for c in conts)), file=out)
    for lay in lays:
        cells = []
        for c in conts:
            row = results[c]["layouts"][lay]
            cells.append("%9s" % ("%s/%s" % (_pr(row["precision"]), _pr(row["recall"]))
                                  if row["tp"] + row["fp"] + row["fn"] else "-"))
        print("%-*s %s" % (w, lay, " ".join(cells)), file=out)
    tot = []
    for c in conts:
        tp = sum(r["tp"] for r in results[c]["layouts"].values())
        fp = sum(r["fp"] for r in results[c]["layouts"].values())
        fn = sum(r["fn"] for r in results[c]["layouts"].values())
        tot.append("%9s" % ("%s/%s" % (_pr(tp / (tp + fp) if tp + fp else None),
                                       _pr(tp / (tp + fn) if tp + fn else None))))
    print("%-*s %s" % (w, "ALL", " ".join(tot)), file=out)
    print("", file=out)
    u = truth["union"]
    print("union of all documents: true %d, linkable %d (lower %d, upper %d by the README's "
          "joins)" % (u["true_individuals"], u["linkable_individuals"], u["linkable_lower"],
                      u["linkable_upper"]), file=out)
    for c in conts:
        a = results[c]["union"]["all"]
        o = results[c]["union"]["outbound"]
        exact = sum(1 for r in results[c]["docs"].values()
                    if r.extracted and r.found == r.expected)
        print("  %-6s all: %-16s outbound: %-16s documents exact %d/%d" % (
            c, "%d (%d-%d)" % a if a else "-", "%d (%d-%d)" % o if o else "-", exact,
            len(results[c]["docs"])), file=out)


def details(truth, results, out=sys.stdout, limit=4):
    """A few false positives and misses per layout, to say why a cell is low."""
    for c, res in results.items():
        for lay in truth["layouts"]:
            fps, fns = [], []
            for f in truth["layouts"][lay]["files"]:
                r = res["docs"][f]
                fps += sorted(r.fp)
                fns += sorted(r.fn)
            if fps or fns:
                types_fn = {}
                for t, _ in fns:
                    types_fn[t] = types_fn.get(t, 0) + 1
                types_fp = {}
                for t, _ in fps:
                    types_fp[t] = types_fp.get(t, 0) + 1
                print("  %s/%s: missed %s; false %s; e.g. %s" % (
                    c, lay, types_fn or "-", types_fp or "-",
                    [x[0] + "=" + x[1][:24] for x in fps[:limit]]), file=out)


def purity(truth, results, out=sys.stdout, limit=12):
    """Entities holding several patients, and patients split beyond what linking allows."""
    pats = truth["patients"]

    def who(pid):
        p = pats[pid]
        return "%s %s %s" % (pid, p["family"], p["birth_date"])
    for c, res in results.items():
        if "purity" not in res:
            continue
        merged, split = res["purity"]
        if not merged and not split:
            continue
        print("  %s: %d entities hold several patients, %d patients in more entities than"
              " linking the identifiers found allows" % (
            c, len(merged), len(split)), file=out)
        for e, ps in sorted(merged.items(), key=lambda kv: -len(kv[1]))[:limit]:
            print("    entity %d: %s" % (e, "; ".join(who(p) for p in ps[:6]) +
                                         (" ..." if len(ps) > 6 else "")), file=out)
        if split:
            print("    split: %s" % ", ".join("%s x%d" % (p, n) for p, n in
                                              sorted(split.items())[:limit]), file=out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phitrace", default=os.path.join(ROOT, "phitrace"))
    ap.add_argument("--out", help="keep the set and the cases here (default: a temp dir)")
    ap.add_argument("--containers", help="comma-separated subset")
    ap.add_argument("--details", action="store_true", help="print misses and false positives")
    ap.add_argument("--json", help="write the numbers as JSON here")
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="phi-eval-")
    t0 = time.time()
    truth, msg = generate(os.path.join(out, "set"))
    print(msg)
    results, times = {}, {}
    for c in truth["containers"]:
        if a.containers and c not in a.containers.split(","):
            continue
        case_dir = os.path.join(out, "case-" + c)
        shutil.rmtree(case_dir, ignore_errors=True)
        t = time.time()
        p = subprocess.run(analyze_cmd(a.phitrace, os.path.join(out, "set"), c, truth, case_dir),
                           capture_output=True, text=True, timeout=900,
                           env=dict(os.environ, TZ="UTC"))
        times[c] = time.time() - t
        if p.returncode != 0:
            print("%s: phitrace exit %d: %s" % (c, p.returncode, p.stderr[-500:]))
            continue
        con = sqlite3.connect(os.path.join(case_dir, "evidence.db"))
        results[c] = evaluate(con, truth, c)
        results[c]["purity"] = entity_purity(con, truth, results[c])
        con.close()
    print("")
    table(truth, results)
    if a.details:
        print("")
        details(truth, results)
        print("")
        purity(truth, results)
    print("")
    print("phitrace time per container: %s; total %.1f s" % (
        ", ".join("%s %.1fs" % (c, t) for c, t in times.items()), time.time() - t0))
    if a.json:
        js = {c: {"layouts": r["layouts"], "union": r["union"]} for c, r in results.items()}
        with open(a.json, "w") as fh:
            json.dump({"truth_union": truth["union"], "results": js}, fh, indent=1)
    if not a.out:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
