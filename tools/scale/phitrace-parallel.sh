#!/bin/sh
# phitrace-parallel.sh - one phitrace case from N shards run by GNU parallel (issue 19):
# `phitrace plan`, then `phitrace analyze --plan --shard` for every shard on local cores or on
# the hosts of --sshlogin, then `phitrace merge`.
#
#   tools/scale/phitrace-parallel.sh -n SHARDS -o CASE [-w WORKDIR] [-j JOBS] [-t THREADS]
#                                   [-S SSHLOGINS] [-b PHITRACE] [-- PLAN-SETTINGS...] INPUT...
#
#   -n SHARDS     shards in the plan
#   -o CASE       the merged case directory
#   -w WORKDIR    where the plan and the shard cases go (default CASE.work); with -S it must
#                 be on a file system every host mounts at the same path, as must the inputs
#   -j JOBS       shards at once per host (default: GNU parallel's, one per core)
#   -t THREADS    worker threads of each shard (phitrace -j; default 1 when -j JOBS > 1)
#   -S SSHLOGINS  GNU parallel's --sshlogin (for example "8/node1,8/node2"); phitrace must be
#                 installed on every host at the path given by -b
#   -b PHITRACE   the phitrace binary (default: phitrace on PATH)
#   -- ...        analyze settings fixed in the plan (--home-net, --memcap, --keep-phi ...)
#
# A shard that fails is retried once (--retries 2). Running the script again with the same
# WORKDIR reruns only the shards that failed or never ran (GNU parallel's --joblog
# --resume-failed) and merges again; the plan is made only when WORKDIR/plan.txt is absent
# (delete WORKDIR to start over). Every shard command is idempotent: it replaces its case.
set -eu

n= case_dir= work= jobs= threads= ssh= bin=phitrace
while getopts n:o:w:j:t:S:b: opt; do
    case $opt in
        n) n=$OPTARG ;;
        o) case_dir=$OPTARG ;;
        w) work=$OPTARG ;;
        j) jobs=$OPTARG ;;
        t) threads=$OPTARG ;;
        S) ssh=$OPTARG ;;
        b) bin=$OPTARG ;;
        *) sed -n '2,22p' "$0"; exit 1 ;;
    esac
done
shift $((OPTIND - 1))
if [ -z "$n" ] || [ -z "$case_dir" ] || [ $# -eq 0 ]; then
    sed -n '2,22p' "$0" >&2
    exit 1
fi
command -v parallel >/dev/null || { echo "$0: GNU parallel is not installed" >&2; exit 1; }
work=${work:-$case_dir.work}
mkdir -p "$work"
chmod 700 "$work"
work=$(cd "$work" && pwd)
plan=$work/plan.txt
if [ ! -f "$plan" ]; then
    rm -f "$work/joblog"
    "$bin" plan -q "$@" --shards "$n" -o "$plan"
fi
if [ -z "$threads" ]; then
    threads=1
    if [ "$jobs" = 1 ]; then threads=$(nproc); fi
fi
set -- --halt soon,fail=1 --retries 2 --line-buffer
if [ -n "$jobs" ]; then set -- "$@" -j "$jobs"; fi
if [ -n "$ssh" ]; then set -- "$@" --sshlogin "$ssh"; fi
# the job log makes a second run of this script rerun only the shards that failed or never ran
seq 0 $((n - 1)) | parallel "$@" --joblog "$work/joblog" --resume-failed \
    "'$bin' analyze -q -j $threads --plan '$plan' --shard {} -o '$work/shard-{}'"
shards=
i=0
while [ "$i" -lt "$n" ]; do
    shards="$shards $work/shard-$i"
    i=$((i + 1))
done
# shellcheck disable=SC2086 # one word per shard directory
"$bin" merge -o "$case_dir" --force $shards
