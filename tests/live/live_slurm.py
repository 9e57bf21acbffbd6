#!/usr/bin/env python3
"""make test-live, part "slurm" (issue 19): a real single-node Slurm runs the shards of
tools/scale/phitrace-slurm.sh as a job array and its merge as a dependent job.

As root, with slurm-wlm and munge installed (make test-deps), the test writes a private
configuration into a temporary directory (one node on 127.0.0.1 with 2 CPUs, its own ports,
its own munge key and socket, state, spool and logs in that directory), starts munged,
slurmctld and slurmd in the foreground as its own children, and runs

    tools/scale/phitrace-slurm.sh -n 2 -o CASE -c 1 -m 100M -b PHITRACE INPUT

on the sample capture, which the plan cuts in 2 byte ranges. It waits for both jobs (a timeout), prints the
`sacct -c` lines of the array and merge jobs and `scontrol show job` of each, checks that
every task and the merge COMPLETED with exit code 0:0, and that the merged case equals a
single run over the same inputs table by table (scale_differences of tests/e2e/e2e_scale.py)
and passes `phitrace verify`. The daemons are stopped (their process ids, SIGTERM, then
SIGKILL) whatever happens.

Accounting: sacct normally reads slurmdbd (and its MariaDB). Without a database daemon the
test sets AccountingStorageType=accounting_storage/none and JobCompType=jobcomp/filetxt:
slurmctld appends one line per finished job to a text file and `sacct -c` (--completion)
reads it, which gives JobID, JobName, State, ExitCode and Elapsed of every array task and
of the merge. `scontrol show job` is printed as well while slurmctld still knows the jobs.

Skipped (exit 0, the reason printed) when not root, when a program is missing, or when a
daemon cannot start in this container (its log's last lines printed). Ends with the plain
"slurm: N passed, N failed" line.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.abspath(os.environ.get("PHITRACE", os.path.join(ROOT, "phitrace")))
SAMPLE = os.path.join(ROOT, "samples", "evidence", "radiology-breach.pcap")
PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "sacct", "scontrol", "squeue", "sinfo")
JOB_TIMEOUT = 600   # seconds for the array and the merge together
START_TIMEOUT = 60  # seconds for the daemons to come up


class Skip(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError as e:
        return "(no log: %s)\n" % e


class Cluster:
    """munged, slurmctld and slurmd of a private configuration in `d`."""

    def __init__(self, d):
        self.d = d
        self.procs = []
        self.env = dict(os.environ, SLURM_CONF=os.path.join(d, "slurm.conf"))
        for k in [k for k in self.env if k.startswith(("SLURM_", "SBATCH_", "SQUEUE_"))]:
            if k != "SLURM_CONF":
                del self.env[k]

    def write_conf(self):
        d = self.d
        for sub in ("state", "spool", "munge"):
            os.makedirs(os.path.join(d, sub), mode=0o700, exist_ok=True)
        key = os.path.join(d, "munge", "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        host = socket.gethostname().split(".")[0]
        cpus = 2 if (os.cpu_count() or 1) >= 2 else 1
        conf = """\
ClusterName=phitrace-live
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={p1}
SlurmdPort={p2}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={d}/munge/munge.socket
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={d}/jobcomp.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=phitrace-node NodeHostname={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=1000 State=UNKNOWN
PartitionName=live Nodes=phitrace-node Default=YES MaxTime=INFINITE State=UP
""".format(host=host, p1=free_port(), p2=free_port(), d=d, cpus=cpus)
        with open(os.path.join(d, "slurm.conf"), "w") as f:
            f.write(conf)
        # cgroup.conf is read by some plugins even when none is used; an empty one is enough
        open(os.path.join(d, "cgroup.conf"), "w").close()

    def start(self, name, argv, log):
        out = open(os.path.join(self.d, name + ".out"), "w")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=self.env,
                             start_new_session=True)
        out.close()
        self.procs.append((name, p, log))
        return p

    def alive_or_skip(self, name, p, log):
        if p.poll() is not None:
            raise Skip("%s exited (%d) at start in this container:\n%s%s" % (
                name, p.returncode, tail(os.path.join(self.d, name + ".out")), tail(log)))

    def up(self):
        d = self.d
        sock = os.path.join(d, "munge", "munge.socket")
        m = self.start("munged", ["munged", "-F", "--force", "--key-file",
                                  os.path.join(d, "munge", "munge.key"), "--socket", sock,
                                  "--pid-file", os.path.join(d, "munge", "munged.pid"),
                                  "--log-file", os.path.join(d, "munge", "munged.log"),
                                  "--seed-file", os.path.join(d, "munge", "munged.seed")],
                       os.path.join(d, "munge", "munged.log"))
        self.wait_for(lambda: os.path.exists(sock), "munged", m)
        c = self.start("slurmctld", ["slurmctld", "-D", "-i", "-f", self.env["SLURM_CONF"]],
                       os.path.join(d, "slurmctld.log"))
        self.wait_for(lambda: self.ok(["scontrol", "ping"], "UP"), "slurmctld", c)
        s = self.start("slurmd", ["slurmd", "-D", "-N", "phitrace-node", "-f",
                                  self.env["SLURM_CONF"]], os.path.join(d, "slurmd.log"))
        self.wait_for(lambda: self.ok(["sinfo", "-h", "-N", "-o", "%T"], "idle"), "slurmd", s)

    def ok(self, argv, want):
        try:
            p = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=20)
        except subprocess.TimeoutExpired:
            return False
        return p.returncode == 0 and want in p.stdout

    def wait_for(self, cond, name, p):
        end = time.monotonic() + START_TIMEOUT
        log = [x[2] for x in self.procs if x[0] == name][0]
        while time.monotonic() < end:
            self.alive_or_skip(name, p, log)
            if cond():
                return
            time.sleep(0.5)
        raise Skip("%s did not come up within %d s in this container:\n%s%s" % (
            name, START_TIMEOUT, tail(os.path.join(self.d, name + ".out")), tail(log)))

    def down(self):
        for name, p, _ in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)  # its own session: it and its children
                except ProcessLookupError:
                    pass
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    p.wait(timeout=20)
        self.procs = []

    def run(self, argv, timeout=60, cwd=None):
        return subprocess.run(argv, capture_output=True, text=True, env=self.env,
                              timeout=timeout, cwd=cwd)


def scale_differences_fn():
    """scale_differences of tests/e2e/e2e_scale.py (the comparison the e2e test makes)."""
    import sqlite3
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    import conv
    ns = {"__name__": "e2e_scale", "sys": sys, "os": os, "ROOT": ROOT,
          "test": lambda f: f, "db": lambda c: sqlite3.connect(os.path.join(c, "evidence.db")),
          "select_columns": conv.select_columns}
    path = os.path.join(ROOT, "tests", "e2e", "e2e_scale.py")
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), ns)
    return ns["scale_differences"]


def wait_jobs(cl, ids):
    end = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < end:
        p = cl.run(["squeue", "-h", "-j", ",".join(ids), "-o", "%i %T %r"])
        if p.returncode == 0 and p.stdout.strip() == "":
            return True
        if "DependencyNeverSatisfied" in p.stdout:
            return False
        time.sleep(1)
    return False


def main():
    if os.geteuid() != 0:
        print("test-live slurm: skipped: needs root (it starts munged, slurmctld and slurmd)")
        print("slurm: 0 passed, 0 failed")
        return 0
    missing = [t for t in PROGRAMS if shutil.which(t) is None]
    if missing:
        print("test-live slurm: skipped: %s not installed (make test-deps installs slurm-wlm "
              "and munge)" % ", ".join(missing))
        print("slurm: 0 passed, 0 failed")
        return 0
    if not os.access(BIN, os.X_OK):
        print("test-live slurm: %s is not built" % BIN)
        print("slurm: 0 passed, 1 failed")
        return 1
    d = tempfile.mkdtemp(prefix="phitrace-slurm-")
    os.chmod(d, 0o700)
    cl = Cluster(d)
    failed, passed = [], 0
    try:
        cl.write_conf()
        cl.up()
        print("test-live slurm: munged, slurmctld and slurmd up (%s)" % d)
        # the sample capture alone: the plan cuts it in 2 byte ranges, one per task, and the
        # merge job re-reads the connections open across the cut
        inputs = os.path.join(d, "inputs")
        os.makedirs(inputs)
        shutil.copyfile(SAMPLE, os.path.join(inputs, "link.pcap"))
        merged = os.path.join(d, "merged")
        p = cl.run(["sh", os.path.join(ROOT, "tools", "scale", "phitrace-slurm.sh"), "-n", "2",
                    "-o", merged, "-c", "1", "-m", "100M", "-T", "00:20:00", "-b", BIN,
                    inputs], timeout=300, cwd=d)
        print(p.stdout + p.stderr, end="")
        if p.returncode != 0:
            raise AssertionError("phitrace-slurm.sh failed (%d)" % p.returncode)
        words = p.stdout.split()
        array = words[words.index("array") + 1]
        merge = words[words.index("job", words.index("merge:")) + 1]
        done = wait_jobs(cl, [array, merge])
        # raw job ids of the array's tasks: jobcomp/filetxt records each task under its own id
        raw = {}
        for job in (array, merge):
            sj = cl.run(["scontrol", "-o", "show", "job", job])
            for rec in sj.stdout.splitlines():
                kv = dict(w.split("=", 1) for w in rec.split() if "=" in w)
                print("scontrol show job: " + " ".join(
                    "%s=%s" % (k, kv[k]) for k in ("JobId", "ArrayJobId", "ArrayTaskId",
                                                   "JobName", "JobState", "ExitCode", "RunTime",
                                                   "NodeList") if k in kv))
                name = ("%s_%s" % (kv["ArrayJobId"], kv["ArrayTaskId"])
                        if "ArrayTaskId" in kv else kv.get("JobId"))
                raw[name] = kv.get("JobId")
        time.sleep(1)  # the completion record is written as the job ends
        sa = cl.run(["sacct", "-c", "--format=JobID,JobName%16,State,ExitCode,Elapsed,NodeList"])
        print("sacct -c (jobcomp/filetxt; an array task under its own job id):\n%s%s" % (
            sa.stdout, "\n".join(l for l in sa.stderr.splitlines()
                                 if "Unknown type Array" not in l)), end="")
        if not done:
            raise AssertionError("the jobs did not finish within %d s" % JOB_TIMEOUT)
        states = {}
        for line in sa.stdout.splitlines()[2:]:
            f = line.split()
            if len(f) >= 4:
                states[f[0]] = (f[1], f[2], f[3])
        want = {"%s_0" % array: "phitrace-shard", "%s_1" % array: "phitrace-shard",
                merge: "phitrace-merge"}
        bad = [(j, raw.get(j), states.get(raw.get(j))) for j in want
               if states.get(raw.get(j)) != (want[j], "COMPLETED", "0:0")]
        if bad:
            raise AssertionError("jobs not COMPLETED 0:0 in sacct -c: %r" % bad)
        ranges = [ln for ln in open(os.path.join(d, "merged.work", "plan.txt"))
                  if ln.startswith("range ")]
        if len(ranges) != 2:
            raise AssertionError("the plan did not cut the capture in 2 ranges: %r" % ranges)
        passed += 1
        single = os.path.join(d, "single")
        r = subprocess.run([BIN, "analyze", "-q", inputs, "-o", single], capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        diffs = scale_differences_fn()(single, merged)
        if diffs:
            raise AssertionError("the merged case differs from the single run: %s" % diffs[:5])
        passed += 1
        v = subprocess.run([BIN, "verify", merged], capture_output=True, text=True, timeout=600)
        if v.returncode != 0:
            raise AssertionError("verify of the merged case failed: %s" % v.stderr[-1000:])
        passed += 1
    except Skip as e:
        print("test-live slurm: skipped: %s" % e)
    except (AssertionError, subprocess.TimeoutExpired, ValueError, IndexError) as e:
        failed.append(str(e))
        print("test-live slurm: FAILED: %s" % e)
        for log in ("slurmctld.log", "slurmd.log"):
            print("--- %s\n%s" % (log, tail(os.path.join(d, log), 25)), end="")
        for log in sorted(os.listdir(os.path.join(d, "merged.work"))
                          if os.path.isdir(os.path.join(d, "merged.work")) else []):
            if log.endswith(".log"):
                print("--- %s\n%s" % (log, tail(os.path.join(d, "merged.work", log))), end="")
    finally:
        cl.down()
        if not failed:
            shutil.rmtree(d, ignore_errors=True)
    print("slurm: %d passed, %d failed" % (passed, len(failed)))
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
