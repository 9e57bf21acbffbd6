# Independent PHI evaluation (issue 10, item 8); exec'd by run_e2e.py in its namespace.
# tests/phi_eval/gen_eval.py writes documents in 22 hospital layouts and ships them in every
# container phitrace opens; truth.json (written before phitrace runs) says which patients each
# document holds. One case per container holds every layout; the test prints the layout x
# container table and fails when any individuals count is off: per document
# (phi_object.individuals), per multi-file layout (distinct counted entities), and per union
# (estimate = linkable individuals, bounds containing the true and linkable counts).
# tests/phi_eval/run_eval.py prints the same table without asserting. LAYOUTS.md has the rules.


def _phi_eval_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "phi_eval_run", os.path.join(ROOT, "tests", "phi_eval", "run_eval.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@test
def phi_eval_individuals_per_layout_and_container():
    import time
    ev = _phi_eval_module()
    out = os.path.join(TMP, "phi-eval")
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.time()
    truth, msg = ev.generate(os.path.join(out, "set"))
    print("    " + msg)
    for what, why in truth["skipped"]:
        print("    SKIPPED %s: %s" % (what, why))
    results, bad = {}, []
    for c in truth["containers"]:
        cdir = case("phi-eval-" + c)
        cmd = ev.analyze_cmd(BIN, os.path.join(out, "set"), c, truth, cdir)
        run(*cmd[1:], check=0)
        con = db(cdir)
        results[c] = ev.evaluate(con, truth, c)
        results[c]["purity"] = ev.entity_purity(con, truth, results[c])
        con.close()
        bad += ev.check(truth, c, results[c])
    ev.table(truth, results)
    ev.purity(truth, results, limit=4)
    print("    phi_eval: %d containers in %.1f s" % (len(results), time.time() - t0))
    shutil.rmtree(out, ignore_errors=True)
    per, same = {}, {}
    for b in bad:
        cont, _, what = b.partition(": ")
        per[cont] = per.get(cont, 0) + 1
        same.setdefault(what, []).append(cont)  # one line for a failure in several containers
    lines = ["%s  [%s]" % (what, " ".join(conts)) for what, conts in same.items()]
    assert not bad, "%d individuals counts off (%s):\n%s" % (
        len(bad), ", ".join("%s %d" % kv for kv in sorted(per.items())), "\n".join(lines[:80]))
