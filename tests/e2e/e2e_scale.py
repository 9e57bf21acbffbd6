# e2e_scale.py - scale-out (issue 19): `phitrace plan`, `analyze --plan --shard`, `merge`.
# Run inside run_e2e.py's namespace (@test, run, case, db, SAMPLES, TMP).
#
# The equality the merge promises: the merged case of N shards equals the case of one run over
# the same inputs, table by table. What "equal" means here (scale_differences):
#   - every table but audit_log (times; the merged chain also holds the shards' rows),
#     compared as multisets of rows; run_manifest without the rows that name the run rather
#     than the evidence (_RUN_KEYS: times, arguments, the case directory, stage timings, host,
#     worker count, the scale-out rows), so settings, versions and signature hashes are
#     compared;
#   - row ids are left out where they are insertion order (object_row, object_str, anomaly,
#     record tables, findings...), kept where they are meaningful: evidence_item.id (the plan
#     keeps the whole run's item ids) and flow.id (made from item and frame, flow.h), so every
#     flow_id and item_id column is compared as is;
#   - object_blob by (sha256, size): which pack holds the bytes and where differ by design;
#   - a column holding an object's id (hl7_message.object_id, http_txn.req_object and
#     resp_object) as the object it points to (hash, flow, direction, offset, part, depth):
#     object ids are insertion order too;
#   - object_row's string ids (mime, magic, protocol, encoding, direction) as the string they
#     name in object_str: numbered in the order each case met them;
#   - phi_ident.hmac and phi_value.hmac are keyed with each case's own key (the single run has
#     its own): instead of the values, the partition they make is compared (which hits carry
#     equal HMACs), which is what the keyed hash is for.
# Nothing else is excused: paths are equal because both runs name the inputs by one absolute
# path.
import collections
import hashlib
import json
import struct

_KEEP_ID = ("evidence_item", "flow")
_SKIP = ("audit_log",)
_RUN_KEYS = ("arguments", "case_dir", "start_utc", "end_utc", "host", "threads", "plan_sha256",
             "scale_merged", "scale_role", "scale_shards")


sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))
from rotate_pcap import flow_key as _flow_key, pcap_packets as _pcap_packets  # noqa: E402
from rotate_pcap import rotate as scale_split  # noqa: E402


def _hmac_partition(con, table, cols):
    """Rows of `table` grouped by their hmac: a set of frozensets of the other columns."""
    other = [c for c in cols if c != "hmac"]
    groups = collections.defaultdict(list)
    q = "SELECT hmac, %s FROM %s" % (", ".join('"%s"' % c for c in other), table)
    for row in con.execute(q):
        groups[row[0]].append(row[1:])
    return collections.Counter(frozenset(collections.Counter(v).items())
                               for v in groups.values())


def scale_differences(a_dir, b_dir):
    """The differences between two cases, table by table, as defined at the top; [] when
    they are equal."""
    a, b = db(a_dir), db(b_dir)
    tables = [r[0] for r in a.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "ORDER BY name")]
    tb = [r[0] for r in b.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                  "ORDER BY name")]
    diffs = [] if tables == tb else ["table lists differ"]
    for t in tables:
        if t in _SKIP:
            continue
        cols = [r[1] for r in a.execute('PRAGMA table_info("%s")' % t)]
        keep = [c for c in cols if c != "id" or t in _KEEP_ID]
        if t == "object_blob":
            keep = ["sha256", "size"]
        if "hmac" in keep:
            if _hmac_partition(a, t, keep) != _hmac_partition(b, t, keep):
                diffs.append("%s: rows grouped by hmac differ" % t)
            keep = [c for c in keep if c != "hmac"]
        q = "SELECT %s FROM \"%s\" x" % (select_columns(t, keep), t)  # object ids as objects
        if t == "run_manifest":
            q += " WHERE key NOT IN (%s) AND key NOT LIKE 'stage_seconds:%%'" % ", ".join(
                "'%s'" % k for k in _RUN_KEYS)
        ra = collections.Counter(a.execute(q).fetchall())
        rb = collections.Counter(b.execute(q).fetchall())
        if ra != rb:
            only_a = list((ra - rb).elements())[:2]
            only_b = list((rb - ra).elements())[:2]
            diffs.append("%s: %d vs %d rows; only in %s: %r; only in %s: %r" % (
                t, sum(ra.values()), sum(rb.values()), a_dir, only_a, b_dir, only_b))
    return diffs


def _scale_run(inputs, n, tag, leave_out=None):
    """plan, the N shards (in reverse order: order must not matter), merge; the merged case."""
    plan = os.path.join(TMP, tag + ".plan")
    run("plan", "-q", *inputs, "--shards", str(n), "-o", plan, check=0)
    assert oct(os.stat(plan).st_mode & 0o777) == "0o600"
    shards = []
    for i in reversed(range(n)):
        s = case("%s-shard%d" % (tag, i))
        run("analyze", "-q", "--plan", plan, "--shard", str(i), "-o", s, check=0)
        if i != leave_out:
            shards.append(s)
    merged = case(tag + "-merged")
    extra = ["--allow-missing"] if leave_out is not None else []
    run("merge", "-q", *extra, "-o", merged, *shards, check=0)
    return plan, shards, merged


def _single(inputs, tag):
    c = case(tag + "-single")
    run("analyze", "-q", *inputs, "-o", c, check=0)
    return c


def _scale_inputs():
    d = os.path.join(TMP, "scale-in")
    if not os.path.isdir(d):
        scale_split(os.path.join(SAMPLES, "radiology-breach.pcap"), d, 8)
    return [d]


@test
def scale_merge_equals_single_run_1_2_4_7_shards():
    inputs = _scale_inputs()
    single = _single(inputs, "scale")
    con = db(single)
    # the split puts the DNS tunnel's queries and the beacon's connections in several files,
    # so with several shards the whole-case stages must join them across shards
    assert con.execute("SELECT count(*) FROM evidence_item").fetchone()[0] == 8
    assert con.execute("SELECT count(DISTINCT f.item_id) FROM flow f JOIN dns_query q ON "
                       "q.flow_id = f.id WHERE q.qname LIKE '%.t.exfil.example'"
                       ).fetchone()[0] >= 3
    assert con.execute("SELECT count(*) FROM finding").fetchone()[0] > 0
    for n in (1, 2, 4, 7):
        plan, shards, merged = _scale_run(inputs, n, "scale%d" % n)
        if n == 7:
            used = {ln.split()[2] for ln in open(plan) if ln.startswith(("item ", "range "))}
            assert len(used) == 7, used  # 8 files (a big one in ranges) over 7: none empty
        d = scale_differences(single, merged)
        assert d == [], "N=%d:\n  %s" % (n, "\n  ".join(d))
        run("verify", merged, check=0)
        m = db(merged)
        assert m.execute("SELECT count(*) FROM audit_log WHERE action = 'shard_merged'"
                         ).fetchone()[0] == n
        # every shard's chain is in the merged one, row by row
        want = sum(db(s).execute("SELECT count(*) FROM audit_log").fetchone()[0] for s in shards)
        got = m.execute("SELECT count(*) FROM audit_log WHERE actor LIKE '%[shard %'"
                        ).fetchone()[0]
        assert got == want, (got, want)
        key = open(os.path.join(merged, "phi.key"), "rb").read()
        assert all(open(os.path.join(s, "phi.key"), "rb").read() == key for s in shards)
        assert oct(os.stat(os.path.join(merged, "phi.key")).st_mode & 0o777) == "0o600"


@test
def scale_merge_equals_single_run_on_the_sample_in_byte_ranges():
    # one capture, three shards: the plan cuts it into three byte ranges (none empty), and
    # the connections open across the cuts are re-read whole at the merge
    inputs = [SAMPLES]
    single = _single(inputs, "scale-sample")
    plan, shards, merged = _scale_run(inputs, 3, "scale-sample3")
    assert len(_plan_ranges(plan)) == 3, open(plan).read()
    for s in shards:
        assert db(s).execute("SELECT count(*) FROM evidence_item").fetchone()[0] == 1, s
        # a shard case verifies too: its item is the range, re-hashed from the file's bytes
        v = run("verify", s, check=0)
        assert "(the shard's byte range of it)" in v.stdout, v.stdout
    d = scale_differences(single, merged)
    assert d == [], "\n  ".join(d)
    assert db(merged).execute("SELECT count(*) FROM anomaly WHERE kind = 'scale.flow_cut'"
                              ).fetchone()[0] == 0


@test
def scale_comparison_fails_when_a_shard_is_left_out():
    inputs = _scale_inputs()
    single = _single(inputs, "scale-miss")
    plan = os.path.join(TMP, "scale-miss.plan")
    run("plan", "-q", *inputs, "--shards", "4", "-o", plan, check=0)
    shards = [case("scale-miss-shard%d" % i) for i in range(4)]
    for i, s in enumerate(shards):
        run("analyze", "-q", "--plan", plan, "--shard", str(i), "-o", s, check=0)
    # refused without --allow-missing, with the missing shard named
    p = run("merge", "-q", "-o", case("scale-miss-refused"), *shards[:2], shards[3], check=1)
    assert "shard 2" in p.stderr, p.stderr
    merged = case("scale-miss-merged")
    run("merge", "-q", "--allow-missing", "-o", merged, *shards[:2], shards[3], check=0)
    d = scale_differences(single, merged)
    tables = {x.split(":")[0] for x in d}
    assert {"evidence_item", "flow", "anomaly"} <= tables, d
    row = db(merged).execute("SELECT detail FROM anomaly WHERE kind = 'scale.shard_missing'"
                             ).fetchone()
    assert row and row[0].startswith("1 of the plan's 4 shards") and "shard 2" in row[0], row
    # the same shard twice, and a shard of another plan, are refused
    run("merge", "-q", "-o", case("scale-miss-twice"), *shards, shards[1], check=1)
    other = os.path.join(TMP, "scale-other.plan")
    run("plan", "-q", *inputs, "--shards", "4", "-o", other, check=0)
    o0 = case("scale-other-shard0")
    run("analyze", "-q", "--plan", other, "--shard", "0", "-o", o0, check=0)
    p = run("merge", "-q", "-o", case("scale-miss-mixed"), o0, *shards[1:], check=1)
    assert "different plans" in p.stderr, p.stderr


@test
def scale_shard_rerun_replaces_it_and_changed_inputs_are_refused():
    src = os.path.join(TMP, "scale-rerun-in")
    scale_split(os.path.join(SAMPLES, "radiology-breach.pcap"), src, 4)
    single = _single([src], "scale-rerun")
    plan = os.path.join(TMP, "scale-rerun.plan")
    run("plan", "-q", src, "--shards", "2", "-o", plan, check=0)
    shards = [case("scale-rerun-shard%d" % i) for i in range(2)]
    for i, s in enumerate(shards):
        run("analyze", "-q", "--plan", plan, "--shard", str(i), "-o", s, check=0)
    # rerunning shard 1 (a failed node) replaces it whole; the merge is unchanged
    run("analyze", "-q", "--plan", plan, "--shard", "1", "-o", shards[1], check=0)
    merged = case("scale-rerun-merged")
    run("merge", "-q", "-o", merged, *shards, check=0)
    assert scale_differences(single, merged) == []
    # a shard that did not finish (no summary.txt: killed before its last write) is refused
    # by the merge until it is rerun
    os.unlink(os.path.join(shards[0], "summary.txt"))
    p = run("merge", "-q", "-o", case("scale-rerun-inc"), *shards, check=1)
    assert "is incomplete" in p.stderr and "rerun it" in p.stderr, p.stderr
    run("analyze", "-q", "--plan", plan, "--shard", "0", "-o", shards[0], check=0)
    run("merge", "-q", "-o", case("scale-rerun-inc"), *shards, check=0)
    # a shard never takes the place of another case (another shard, a whole run) unasked
    p = run("analyze", "-q", "--plan", plan, "--shard", "0", "-o", shards[1], check=1)
    assert "not shard 0 of this plan" in p.stderr, p.stderr
    run("analyze", "-q", "--plan", plan, "--shard", "0", "-o", single, check=1)
    assert db(single).execute("SELECT count(*) FROM verdict").fetchone()[0] > 0
    # settings belong to the plan, not to a shard
    run("analyze", "-q", "--plan", plan, "--shard", "0", "--home-net", "10.0.0.0/8", "-o",
        case("scale-rerun-x"), check=1)
    run("analyze", "-q", "--plan", plan, "--shard", "2", "-o", case("scale-rerun-y"), check=1)
    # an input changed after the plan, its size kept: its shard records the new hash, the
    # merge refuses
    victim = sorted(os.listdir(src))[0]
    owner = [ln.split()[2] for ln in open(plan) if ln.startswith("item 1 ")][0]
    with open(os.path.join(src, victim), "r+b") as f:
        f.seek(-16, os.SEEK_END)
        f.write(b"\0" * 16)
    run("analyze", "-q", "--plan", plan, "--shard", owner, "-o", shards[int(owner)], check=0)
    p = run("merge", "-q", "-o", case("scale-rerun-changed"), *shards, check=2)
    assert "changed between the plan and its shard" in p.stderr, p.stderr
    # a file added after the plan: the shard refuses (its item ids would not be the plan's)
    with open(os.path.join(src, "zz-late.pcap"), "wb") as f:
        f.write(open(os.path.join(src, victim), "rb").read())
    p = run("analyze", "-q", "--plan", plan, "--shard", "0", "-o", shards[0], check=1)
    assert "not those of the plan" in p.stderr, p.stderr


@test
def scale_connection_cut_between_shards_is_stitched():
    # A connection that goes on from one rotated file into the next, the two files in
    # different shards: the merge re-reads the two files for its endpoints and the merged
    # case has the single run's one flow (bytes, packets, objects whole). When the re-read is
    # impossible (the input gone from the merging host), the cut is reported instead: one
    # scale.flow_cut anomaly naming both halves, and a limitation in the reports.
    hdr, pk = _pcap_packets(os.path.join(SAMPLES, "radiology-breach.pcap"))
    span = {}
    for i, r in enumerate(pk):
        k = _flow_key(r)
        span[k] = (span[k][0] if k in span else i, i, span.get(k, (0, 0, 0))[2] + 1)
    # cut where half of the bytes are behind (two files of equal size: the plan reads each
    # whole), inside the longest TCP connection open there
    total, cut = sum(len(r) for r in pk), 0
    while sum(len(r) for r in pk[:cut]) < total // 2:
        cut += 1
    key, (first, last, n) = max(((k, v) for k, v in span.items()
                                 if k[0] == 6 and v[0] < cut <= v[1]), key=lambda kv: kv[1][2])
    d = os.path.join(TMP, "scale-cut-in")
    os.makedirs(d, exist_ok=True)
    for j, (a, b) in enumerate(((0, cut), (cut, len(pk)))):
        with open(os.path.join(d, "cap-%d.pcap" % j), "wb") as f:
            f.write(hdr + b"".join(pk[a:b]))
    single = _single([d], "scale-cut")
    plan, shards, merged = _scale_run([d], 2, "scale-cut2")
    assert _plan_ranges(plan) == [], open(plan).read()
    assert scale_differences(single, merged) == []
    m, s = db(merged), db(single)
    assert m.execute("SELECT count(*) FROM anomaly WHERE kind = 'scale.flow_cut'"
                     ).fetchone()[0] == 0
    whole = s.execute("SELECT id, c_pkts + s_pkts FROM flow WHERE item_id = 1 AND "
                      "last_item_id = 2").fetchall()
    assert len(whole) == 1 and whole[0][1] == n, (whole, n)
    # each shard saw a part; the merged case has the whole one
    parts = [db(x).execute("SELECT c_pkts + s_pkts FROM flow WHERE (client_port = ? AND "
                           "server_port = ?) OR (client_port = ? AND server_port = ?)",
                           (key[1][1], key[2][1], key[2][1], key[1][1])).fetchall()
             for x in shards]
    assert sorted(len(p) for p in parts) == [1, 1] and sum(p[0][0] for p in parts) == n, parts
    assert m.execute("SELECT c_pkts + s_pkts FROM flow WHERE id = ?", (whole[0][0],)
                     ).fetchone()[0] == n
    # the re-read impossible: the cut reported, the two halves kept
    moved = d + "-moved"
    shutil.rmtree(moved, ignore_errors=True)
    os.rename(d, moved)
    try:
        merged2 = case("scale-cut2-nofile")
        p = run("merge", "-q", "-o", merged2, *shards, check=0)
        assert "stay cut" in p.stderr, p.stderr
    finally:
        os.rename(moved, d)
    m2 = db(merged2)
    cuts = m2.execute("SELECT item_id, detail FROM anomaly WHERE kind = 'scale.flow_cut'"
                      ).fetchall()
    assert len(cuts) == 1 and cuts[0][0] == 2, cuts
    ids = [int(w) for w in cuts[0][1].split() if w.isdigit()][:2]
    halves = m2.execute("SELECT sum(c_pkts + s_pkts) FROM flow WHERE id IN (?, ?)", ids
                        ).fetchone()[0]
    assert halves == n and ids[0] == whole[0][0], (halves, n, ids)
    assert m2.execute("SELECT count(*) FROM limitation WHERE kind = 'scale_flow_cut'"
                      ).fetchone()[0] == 1
    # no cut without a connection across the boundary
    assert db(_scale_run(_scale_inputs(), 2, "scale-nocut")[2]).execute(
        "SELECT count(*) FROM anomaly WHERE kind = 'scale.flow_cut'").fetchone()[0] == 0


def _plan_ranges(plan):
    """The plan's range lines: (item, shard, offset, end, frames, head)."""
    return [tuple(int(x) for x in ln.split()[1:7]) for ln in open(plan)
            if ln.startswith("range ")]


_FAKE_SBATCH = r'''#!/usr/bin/env python3
# A stand-in for sbatch: runs the job script now (each array task in turn, with
# SLURM_ARRAY_TASK_ID), refuses an afterok dependency on a job that did not succeed, and
# logs its arguments. Enough to check the script's jobs, not Slurm itself.
import json, os, subprocess, sys
state = os.environ["FAKE_SBATCH_STATE"]
jobs = json.load(open(state)) if os.path.exists(state) else []
args = sys.argv[1:]
script = args[-1]
jid = str(1000 + len(jobs))
tasks, ok = [None], True
for a in args[:-1]:
    if a.startswith("--array="):
        lo, hi = a.split("=")[1].split("-")
        tasks = list(range(int(lo), int(hi) + 1))
    if a.startswith("--dependency=afterok:"):
        dep = a.split(":")[1]
        if not any(j["id"] == dep and j["ok"] for j in jobs):
            sys.exit("dependency never satisfied")
for t in tasks:
    env = dict(os.environ)
    if t is not None:
        env["SLURM_ARRAY_TASK_ID"] = str(t)
    ok = subprocess.run(["sh", script], env=env).returncode == 0 and ok
jobs.append({"id": jid, "args": args, "ok": ok})
json.dump(jobs, open(state, "w"))
print(jid + ";cluster")
'''


@test
def scale_slurm_script_runs_array_then_dependent_merge():
    # Slurm itself is not installed here: a stand-in sbatch runs the job scripts the script
    # writes, so the array indices, the dependency and the commands are what is tested.
    inputs = _scale_inputs()
    fake = os.path.join(TMP, "fake-sbatch")
    with open(fake, "w") as f:
        f.write(_FAKE_SBATCH)
    os.chmod(fake, 0o755)
    state = os.path.join(TMP, "fake-sbatch.json")
    c = case("scale-slurm")
    env = dict(ENV, SBATCH=fake, FAKE_SBATCH_STATE=state)
    p = subprocess.run([os.path.join(ROOT, "tools", "scale", "phitrace-slurm.sh"), "-n", "4",
                        "-o", c, "-b", BIN, "-c", "1", "--", *inputs], capture_output=True,
                       text=True, env=env, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    jobs = json.load(open(state))
    assert [j["args"][:-1] for j in jobs] == [
        ["--parsable", "--array=0-3"], ["--parsable", "--dependency=afterok:1000"]], jobs
    assert all(j["ok"] for j in jobs), jobs
    assert "job array 1000" in p.stdout and "merge: job 1001" in p.stdout, p.stdout
    d = scale_differences(_single(inputs, "scale-slurm"), c)
    assert d == [], d


@test
def scale_gnu_parallel_script_and_resume():
    if shutil.which("parallel") is None:
        raise Skip("GNU parallel is not installed (make deps)")
    inputs = _scale_inputs()
    c = case("scale-par")
    script = os.path.join(ROOT, "tools", "scale", "phitrace-parallel.sh")
    p = subprocess.run([script, "-n", "3", "-j", "2", "-o", c, "-b", BIN, "--", *inputs],
                       capture_output=True, text=True, env=ENV, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    assert scale_differences(_single(inputs, "scale-par"), c) == []
    log = open(c + ".work/joblog").read().splitlines()
    assert len(log) == 4 and all(ln.split("\t")[6] == "0" for ln in log[1:]), log
    # a second run reruns no shard (all succeeded) and merges again into the same answer
    p = subprocess.run([script, "-n", "3", "-j", "2", "-o", c, "-b", BIN, "--", *inputs],
                       capture_output=True, text=True, env=ENV, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(open(c + ".work/joblog").read().splitlines()) == 4
    assert scale_differences(_single(inputs, "scale-par2"), c) == []


@test
def scale_settings_of_the_plan_reach_shards_and_merge():
    # --home-net and --keep-phi set once in the plan: the merged case equals a single run
    # with the same settings (phi_value holds the raw values, keyed like phi_hit)
    inputs = _scale_inputs()
    settings = ["--home-net", "10.1.0.0/16", "--keep-phi"]
    c = case("scale-set-single")
    run("analyze", "-q", *settings, *inputs, "-o", c, check=0)
    plan = os.path.join(TMP, "scale-set.plan")
    run("plan", "-q", *settings, *inputs, "--shards", "2", "-o", plan, check=0)
    shards = [case("scale-set-shard%d" % i) for i in range(2)]
    for i, s in enumerate(shards):
        run("analyze", "-q", "--plan", plan, "--shard", str(i), "-o", s, check=0)
    merged = case("scale-set-merged")
    run("merge", "-q", "-o", merged, *shards, check=0)
    assert scale_differences(c, merged) == []
    m = db(merged)
    assert m.execute("SELECT count(*) FROM phi_value").fetchone()[0] > 0
    assert m.execute("SELECT value FROM run_manifest WHERE key = 'home_net'").fetchone()[0] \
        == db(c).execute("SELECT value FROM run_manifest WHERE key = 'home_net'").fetchone()[0]
    # the single run over the default home-net is a different case: the comparison says so
    assert scale_differences(_single(inputs, "scale-set-default"), merged) != []
    # the merge takes no setting: they are the plan's
    run("merge", "-q", "--keep-phi", "-o", case("scale-set-x"), *shards, check=1)


@test
def scale_hospital_capture_rotated_merges_to_the_single_answer():
    # the hospital bench's capture (HL7, DICOM, FHIR, CSV, zip, mail, an exfiltration host:
    # e2e_bench_hospital.py's generator) rotated into 12 files, 4 shards: the same flows,
    # objects, individuals with their bounds, findings, events and verdict
    d = os.path.join(TMP, "scale-hosp")
    os.makedirs(d, exist_ok=True)
    truth = _gen_hospital(os.path.join(d, "hospital.pcap"), mb=1.5, seed=11)
    rot = os.path.join(TMP, "scale-hosp-in")
    scale_split(os.path.join(d, "hospital.pcap"), rot, 12)
    single = _single([rot], "scale-hosp")
    _, _, merged = _scale_run([rot], 4, "scale-hosp4")
    assert scale_differences(single, merged) == []
    got = dict(db(merged).execute("SELECT scope, estimate FROM individuals WHERE scope IN "
                                  "('all', 'outbound')"))
    assert got == {"all": truth["patients"]["all"], "outbound": truth["patients"]["outbound"]}, \
        (got, truth["patients"])


@test
def scale_mixed_evidence_logs_join_flows_of_other_shards():
    # captures, a Zeek conn.log and a patient CSV at rest, in different shards: the log's
    # connections join the captured flows (a whole-case stage, at the merge) exactly as in
    # one run, its extra connection becomes a flow, the CSV is an object by reference
    src = os.path.join(TMP, "scale-mixed-in")
    scale_split(os.path.join(SAMPLES, "radiology-breach.pcap"), src, 6)
    first = _single([src], "scale-mixed-caponly")
    flows = db(first).execute("SELECT client_addr, client_port, server_addr, server_port, "
                              "first_ts FROM flow WHERE proto = 6 ORDER BY id LIMIT 5").fetchall()
    assert len(flows) == 5
    zeek = [b"#separator \\x09", b"#path\tconn",
            b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
            b"duration\torig_bytes\tresp_bytes"]
    for i, (ca, cp, sa, sp, ts) in enumerate(flows):
        zeek.append(b"%d.%06d\tC%d\t%s\t%d\t%s\t%d\ttcp\t-\t0.5\t100\t100" % (
            ts // 1000000, ts % 1000000, i, ca.encode(), cp, sa.encode(), sp))
    zeek.append(b"%d.000000\tCx\t10.1.1.50\t41000\t198.51.100.20\t443\ttcp\tssl\t120.0\t"
                b"52428800\t20480" % (flows[0][4] // 1000000 + 300))
    with open(os.path.join(src, "zz-conn.log"), "wb") as f:
        f.write(b"\n".join(zeek) + b"\n")
    with open(os.path.join(src, "zz-patients.csv"), "w") as f:
        f.write("mrn,name,dob,ssn\n")
        for i in range(6):
            f.write("MRN%07d,DOE^JANE%s,1970-01-%02d,%03d-%02d-%04d\n" % (
                5100000 + i, "ABCDEF"[i], i + 1, 123 + i, 45, 6789 + i))
    single = _single([src], "scale-mixed")
    con = db(single)
    assert con.execute("SELECT count(*) FROM flow_source WHERE role = 'matched'"
                       ).fetchone()[0] == 5
    for n in (2, 3):
        plan, _, merged = _scale_run([src], n, "scale-mixed%d" % n)
        shard_of = {ln.split()[-1].rsplit("/", 1)[-1]: ln.split()[2]
                    for ln in open(plan) if ln.startswith("item ")}
        assert shard_of["zz-conn.log"] != shard_of["cap-00.pcap"], shard_of
        d = scale_differences(single, merged)
        assert d == [], "N=%d:\n  %s" % (n, "\n  ".join(d))


@test
def scale_plan_without_hashes_sizes_still_checked():
    # --no-hash: the planning host does not read every input (terabytes); the shards hash
    # them as they read them, and a size changed since the plan stops the shard at its start
    src = os.path.join(TMP, "scale-nohash-in")
    scale_split(os.path.join(SAMPLES, "radiology-breach.pcap"), src, 4)
    single = _single([src], "scale-nohash")
    plan = os.path.join(TMP, "scale-nohash.plan")
    run("plan", "-q", "--no-hash", src, "--shards", "2", "-o", plan, check=0)
    items = [ln.split() for ln in open(plan) if ln.startswith("item ")]
    assert len(items) == 4 and all(it[4] == "-" for it in items), items
    shards = [case("scale-nohash-shard%d" % i) for i in range(2)]
    for i, s in enumerate(shards):
        run("analyze", "-q", "--plan", plan, "--shard", str(i), "-o", s, check=0)
    merged = case("scale-nohash-merged")
    run("merge", "-q", "-o", merged, *shards, check=0)
    assert scale_differences(single, merged) == []
    run("verify", merged, check=0)  # the shards' hashes, checked against the inputs
    with open(os.path.join(src, "cap-01.pcap"), "ab") as f:
        f.write(b"\0" * 8)
    p = run("analyze", "-q", "--plan", plan, "--shard", "0", "-o", shards[0], check=1)
    assert "not those of the plan" in p.stderr and "cap-01.pcap" in p.stderr, p.stderr
    run("analyze", "-q", "--no-hash", src, "-o", case("scale-nohash-x"), check=1)


# ---- one capture cut in byte ranges, in the middle of long connections -------------------

def _frames(cap):
    """The frames of a pcapw.Capture, without their times."""
    raw, out, off = cap.bytes()[24:], [], 0
    while off < len(raw):
        n = struct.unpack("<I", raw[off + 8:off + 12])[0]
        out.append(raw[off + 16:off + 16 + n])
        off += 16 + n
    return out


def _dns_query(src, dst, sport, qid, qname, response=False):
    """Ethernet, IPv4, UDP, one DNS question (A); with response, the NXDOMAIN answer."""
    import pcapw
    q = b"".join(bytes([len(lb)]) + lb.encode() for lb in qname.split(".")) + b"\0"
    dns = struct.pack("!HHHHHH", qid, 0x8183 if response else 0x0100, 1, 0, 0, 0) + q + \
        struct.pack("!HH", 1, 1)
    a, b, sp, dp = (dst, src, 53, sport) if response else (src, dst, sport, 53)
    udp = struct.pack("!HHHH", sp, dp, 8 + len(dns), 0) + dns
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), qid, 0, 64, 17, 0,
                     bytes(int(x) for x in a.split(".")), bytes(int(x) for x in b.split(".")))
    ip = ip[:10] + struct.pack("!H", pcapw._csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip + udp


def _long_capture():
    """The sample's packets interleaved in time, over its 15 minutes, with three things that
    last the whole capture: an HTTP upload of a 600 KB patient CSV (one connection), a DNS
    tunnel (60 queries of 52-character base32 labels under t2.exfil.example, answered, one
    every 15 s) and a beacon (16 connections, 200 bytes each, every 55 s, to 203.0.113.99).
    The upload's bytes make most of the file and are spread evenly in time, so every
    byte-range cut falls in the middle of the upload, between tunnel queries and between
    beacon connections. Returns (header, records, body)."""
    import base64
    import pcapw
    hdr, pk = _pcap_packets(os.path.join(SAMPLES, "radiology-breach.pcap"))
    ts = [struct.unpack("<II", r[:8]) for r in pk]
    t0, t1 = ts[0][0] + ts[0][1] / 1e6, ts[-1][0] + ts[-1][1] / 1e6
    rows = ["mrn,name,dob,diagnosis"] + ["MRN%07d,Patient %d,19%02d-0%d-1%d,R07.9" % (
        1000 + i, i, 40 + i % 50, 1 + i % 9, i % 10) for i in range(16000)]
    body = ("\r\n".join(rows) + "\r\n").encode()
    cap = pcapw.Capture(start=t0)
    up = cap.tcp("10.1.1.77", "198.51.100.250", 41000, 80)
    up.c(b"POST /upload/export.csv HTTP/1.1\r\nHost: files.example\r\nContent-Type: text/csv"
         b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    up.s(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    up.close()
    ups = _frames(cap)
    timed = [(t0 + 0.5 + (t1 - t0 - 1.0) * i / (len(ups) - 1), f) for i, f in enumerate(ups)]
    for k in range(60):
        label = base64.b32encode(hashlib.sha256(b"chunk%d" % k).digest()).decode().rstrip(
            "=").lower()[:52]
        name = "%s.%d.t2.exfil.example" % (label, k)
        t = t0 + 3 + 15.0 * k
        timed.append((t, _dns_query("10.1.1.78", "198.51.100.53", 30000 + k, 7000 + k, name)))
        timed.append((t + 0.02, _dns_query("10.1.1.78", "198.51.100.53", 30000 + k, 7000 + k,
                                           name, response=True)))
    for k in range(16):
        c = pcapw.Capture(start=0)
        b = c.tcp("10.1.1.79", "203.0.113.99", 42000 + k, 8443)
        b.c(b"B" * 200)
        b.s(b"ok")
        b.close()
        for j, f in enumerate(_frames(c)):
            timed.append((t0 + 10 + 55.0 * k + 0.001 * j, f))
    recs = []
    for i, (t, frame) in enumerate(timed):
        sec, us = int(t), int(round((t % 1) * 1e6)) % 1000000
        recs.append((sec, us, 1, i, struct.pack("<IIII", sec, us, len(frame), len(frame)) + frame))
    for i, r in enumerate(pk):
        recs.append((ts[i][0], ts[i][1], 0, i, r))
    recs.sort(key=lambda x: x[:4])
    return hdr, [r[4] for r in recs], body


def _records(recs):
    """(sec, usec, frame) of little-endian microsecond pcap records."""
    out = []
    for r in recs:
        sec, us, n, _ = struct.unpack("<IIII", r[:16])
        out.append((sec, us, r[16:16 + n]))
    return out


def _write_pcap(path, recs, big=False, nano=False):
    e = ">" if big else "<"
    with open(path, "wb") as f:
        f.write(struct.pack(e + "IHHiIII", 0xa1b23c4d if nano else 0xa1b2c3d4, 2, 4, 0, 0,
                            262144, 1))
        for sec, us, fr in recs:
            f.write(struct.pack(e + "IIII", sec, us * 1000 if nano else us, len(fr), len(fr)))
            f.write(fr)


def _write_pcapng(path, recs, big=False):
    e = ">" if big else "<"

    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)

    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack(e + "HHI", 1, 0, 262144)))
        for sec, us, fr in recs:
            t = sec * 1000000 + us
            f.write(block(6, struct.pack(e + "IIIII", 0, t >> 32, t & 0xffffffff, len(fr),
                                         len(fr)) + fr))


def _walk_frames(path):
    """Offset -> packets before it, for every packet record of a capture, walked here
    independently of phitrace (pcap either byte order; pcapng blocks)."""
    b = open(path, "rb").read()
    out = {}
    if b[:4] == b"\x0a\x0d\x0d\x0a":
        e = "<" if b[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        off, n = 0, 0
        while off + 12 <= len(b):
            t, ln = struct.unpack(e + "II", b[off:off + 8])
            if t == 6:
                out[off] = n
                n += 1
            off += ln
        return out
    e = "<" if b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off, n = 24, 0
    while off + 16 <= len(b):
        out[off] = n
        n += 1
        off += 16 + struct.unpack(e + "I", b[off + 8:off + 12])[0]
    return out


def _check_plan_cuts(plan, path):
    """Every range starts on a packet record, with the packets before it as its frame base;
    the ranges cover the file without gap; each range's SHA-256 is its bytes'."""
    rs = _plan_ranges(plan)
    frames = _walk_frames(path)
    data = open(path, "rb").read()
    assert rs and rs[0][2] == 0 and rs[-1][3] == len(data), rs
    shas = [ln.split()[7] for ln in open(plan) if ln.startswith("range ")]
    for i, (item, shard, off, end, base, head) in enumerate(rs):
        if i > 0:
            assert off == rs[i - 1][3] and frames.get(off) == base, (off, base, frames.get(off))
            assert shard > rs[i - 1][1]
        assert hashlib.sha256(data[off:end]).hexdigest() == shas[i]
    return rs


@test
def scale_one_capture_cut_mid_connection_merges_to_the_single_answer():
    hdr, recs, body = _long_capture()
    d = os.path.join(TMP, "scale-long-in")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "link.pcap")
    with open(path, "wb") as f:
        f.write(hdr + b"".join(recs))
    single = _single([d], "scale-long")
    s = db(single)
    up = s.execute("SELECT f.id, f.first_frame, f.last_frame, f.c_payload_bytes, f.end_reason "
                   "FROM flow f WHERE f.server_port = 80 AND f.client_addr = '10.1.1.77'"
                   ).fetchall()
    assert len(up) == 1 and up[0][3] > len(body) and up[0][4] == "fin", up
    sha = hashlib.sha256(body).hexdigest()
    assert s.execute("SELECT count(*) FROM object WHERE sha256 = ? AND flow_id = ?",
                     (sha, up[0][0])).fetchone()[0] == 1
    heur = set(s.execute("SELECT heuristic, destination FROM finding").fetchall())
    assert ("beacon", "203.0.113.99") in heur, heur
    assert any(h == "dns_tunnel" and "t2.exfil.example" in (dst or "") for h, dst in heur), heur
    for n in (1, 2, 4, 7):
        plan, shards, merged = _scale_run([d], n, "scale-long%d" % n)
        if n > 1:
            rs = _check_plan_cuts(plan, path)
            assert len(rs) == n, rs
            # the upload spans every cut; the tunnel's queries and the beacon's connections
            # are spread over several shards
            assert all(up[0][1] <= base < up[0][2] for *_, base, _h in rs[1:]), (rs, up)
            for what, sql in (("tunnel", "SELECT count(*) FROM dns_query WHERE qname LIKE "
                                         "'%.t2.exfil.example'"),
                              ("beacon", "SELECT count(*) FROM flow WHERE server_addr = "
                                         "'203.0.113.99'")):
                seen = [db(x).execute(sql).fetchone()[0] for x in shards]
                assert sum(1 for c in seen if c) >= 2, (what, seen)
            # each shard held a piece of the upload, none all of it
            pieces = [db(x).execute("SELECT count(*) FROM flow WHERE server_port = 80 AND "
                                    "client_addr = '10.1.1.77'").fetchone()[0] for x in shards]
            assert pieces == [1] * n, pieces
        d_ = scale_differences(single, merged)
        assert d_ == [], "N=%d:\n  %s" % (n, "\n  ".join(d_))
        run("verify", merged, check=0)
        assert db(merged).execute("SELECT count(*) FROM anomaly WHERE kind LIKE 'scale.%'"
                                  ).fetchone()[0] == 0


@test
def scale_byte_ranges_of_pcapng_big_endian_and_nanosecond_captures():
    # the same traffic as big-endian nanosecond pcap, little- and big-endian pcapng: the plan
    # cuts each at packet records it walked, and 3 shards merge to that file's single run
    hdr, recs, _ = _long_capture()
    recs = _records(recs)
    for tag, write in (("be-ns", lambda p: _write_pcap(p, recs, big=True, nano=True)),
                       ("ng-le", lambda p: _write_pcapng(p, recs)),
                       ("ng-be", lambda p: _write_pcapng(p, recs, big=True))):
        d = os.path.join(TMP, "scale-fmt-%s" % tag)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        path = os.path.join(d, "link.cap")
        write(path)
        single = _single([d], "scale-fmt-" + tag)
        fmt = db(single).execute("SELECT format, packets FROM evidence_item").fetchone()
        assert fmt == ({"be-ns": "pcap-ns"}.get(tag, "pcapng"), len(recs)), (tag, fmt)
        plan, shards, merged = _scale_run([d], 3, "scale-fmt3-" + tag)
        assert len(_check_plan_cuts(plan, path)) == 3
        d_ = scale_differences(single, merged)
        assert d_ == [], "%s:\n  %s" % (tag, "\n  ".join(d_))


@test
def scale_byte_range_changed_after_the_plan_is_refused():
    hdr, recs, _ = _long_capture()
    d = os.path.join(TMP, "scale-rchg-in")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "link.pcap")
    with open(path, "wb") as f:
        f.write(hdr + b"".join(recs))
    plan = os.path.join(TMP, "scale-rchg.plan")
    run("plan", "-q", d, "--shards", "2", "-o", plan, check=0)
    rs = _plan_ranges(plan)
    assert len(rs) == 2
    # one byte of the second range's last packet changed (same size): the second shard reads
    # it and the merge finds its range's SHA-256 is not the plan's
    with open(path, "r+b") as f:
        f.seek(rs[1][3] - 1)
        c = f.read(1)
        f.seek(rs[1][3] - 1)
        f.write(bytes([c[0] ^ 0xff]))
    shards = []
    for i in range(2):
        shards.append(case("scale-rchg-shard%d" % i))
        run("analyze", "-q", "--plan", plan, "--shard", str(i), "-o", shards[-1], check=0)
    p = run("merge", "-q", "-o", case("scale-rchg-merged"), *shards, check=2)
    assert "not those of the plan" in p.stderr and "shard 1" in p.stderr, p.stderr
