#!/usr/bin/env python3
"""Peak memory of one phitrace run, in all and per stage (issue 14).

    tests/bench/stage_mem.py [--interval S] -- ./phitrace analyze -q ... -o CASE

Runs the command with --progress=json added after its subcommand, samples
/proc/PID/status (RssAnon, RssFile) every --interval seconds (0.2) and prints
one JSON object: the peak RSS of the whole run (ru_maxrss, as /usr/bin/time's %M),
the CPU seconds (user + system), and per stage of --progress=json the peak RssAnon
and peak RSS sampled while that stage ran; all memory in MB (10^6 bytes).
"""
import json
import os
import subprocess
import sys
import threading
import time


def status_kb(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("RssAnon", "RssFile", "RssShmem"):
                    out[key] = int(rest.split()[0])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    return out


def main():
    args = sys.argv[1:]
    interval = 0.2
    if args[:1] == ["--interval"]:
        interval = float(args[1])
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    cmd = [args[0], args[1], "--progress=json"] + args[2:]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stage = ["start"]
    errors = []

    def read_stderr():
        for line in proc.stderr:
            if line.startswith("{"):
                try:
                    stage[0] = json.loads(line)["stage"]
                except (ValueError, KeyError):
                    pass
            else:
                errors.append(line)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    peaks = {}
    order = []
    while True:
        pid_done, wstatus, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid_done == proc.pid:
            break
        kb = status_kb(proc.pid)
        if kb is not None:
            s = stage[0]
            if s not in peaks:
                peaks[s] = [0, 0]
                order.append(s)
            anon = kb.get("RssAnon", 0)
            peaks[s][0] = max(peaks[s][0], anon)
            peaks[s][1] = max(peaks[s][1], anon + kb.get("RssFile", 0) + kb.get("RssShmem", 0))
        time.sleep(interval)
    reader.join(timeout=5)
    rc = os.waitstatus_to_exitcode(wstatus)
    proc.returncode = rc
    mb = lambda kb: round(kb * 1024 / 1e6, 1)
    print(json.dumps({
        "rc": rc,
        "peak_rss_mb": mb(usage.ru_maxrss),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "stages": {s: {"anon_mb": mb(peaks[s][0]), "rss_mb": mb(peaks[s][1])} for s in order},
    }))
    if rc != 0:
        sys.stderr.write("".join(errors[-10:]))
    return rc


if __name__ == "__main__":
    sys.exit(main())
