#!/bin/sh
# phitrace-slurm.sh - one phitrace case from N shards on Slurm (issue 19): the plan is made
# here (on the submit host), the shards are one job array (sbatch --array=0-(N-1)), and the
# merge is a job that starts once every shard succeeded (--dependency=afterok:ARRAY).
#
#   tools/scale/phitrace-slurm.sh -n SHARDS -o CASE [-w WORKDIR] [-p PARTITION] [-c CPUS]
#                                [-m MEM] [-T TIME] [-b PHITRACE] [-- PLAN-SETTINGS...] INPUT...
#
#   -n SHARDS     shards (array tasks)
#   -o CASE       the merged case directory
#   -w WORKDIR    the plan, the shard cases and the job logs (default CASE.work); it, CASE and
#                 the inputs must be on a file system every node mounts at the same path
#   -p PARTITION  sbatch --partition       -c CPUS  --cpus-per-task (phitrace -j), default 2
#   -m MEM        sbatch --mem (default 2G) -T TIME  --time (default 1-00:00:00)
#   -b PHITRACE   the phitrace binary as the nodes see it (default: phitrace on PATH)
#   -- ...        analyze settings fixed in the plan (--home-net, --memcap, --keep-phi ...)
#
# Prints the two job ids. When a shard fails, the merge job stays pending with reason
# DependencyNeverSatisfied: rerun the failed task alone (its command replaces its case), e.g.
#   sbatch --array=3 WORKDIR/shard.sbatch
# then cancel the stale merge and submit it again: sbatch WORKDIR/merge.sbatch.
# Environment: SBATCH (default sbatch), for tests and wrappers.
set -eu

n= case_dir= work= part= cpus=2 mem=2G time=1-00:00:00 bin=phitrace
while getopts n:o:w:p:c:m:T:b: opt; do
    case $opt in
        n) n=$OPTARG ;;
        o) case_dir=$OPTARG ;;
        w) work=$OPTARG ;;
        p) part=$OPTARG ;;
        c) cpus=$OPTARG ;;
        m) mem=$OPTARG ;;
        T) time=$OPTARG ;;
        b) bin=$OPTARG ;;
        *) sed -n '2,24p' "$0"; exit 1 ;;
    esac
done
shift $((OPTIND - 1))
if [ -z "$n" ] || [ -z "$case_dir" ] || [ $# -eq 0 ]; then
    sed -n '2,24p' "$0" >&2
    exit 1
fi
sbatch=${SBATCH:-sbatch}
work=${work:-$case_dir.work}
mkdir -p "$work"
chmod 700 "$work"
work=$(cd "$work" && pwd)
case $case_dir in /*) ;; *) case_dir=$(pwd)/$case_dir ;; esac
plan=$work/plan.txt
"$bin" plan -q "$@" --shards "$n" -o "$plan"

# The job scripts are kept in WORKDIR so a failed task can be resubmitted alone.
{
    echo '#!/bin/sh'
    echo "#SBATCH --job-name=phitrace-shard"
    echo "#SBATCH --cpus-per-task=$cpus"
    echo "#SBATCH --mem=$mem"
    echo "#SBATCH --time=$time"
    echo "#SBATCH --output=$work/shard-%a.log"
    if [ -n "$part" ]; then echo "#SBATCH --partition=$part"; fi
    echo 'set -eu'
    echo "exec '$bin' analyze -q -j $cpus --plan '$plan' --shard \"\$SLURM_ARRAY_TASK_ID\" \\"
    echo "    -o '$work/shard-'\"\$SLURM_ARRAY_TASK_ID\""
} > "$work/shard.sbatch"
{
    echo '#!/bin/sh'
    echo "#SBATCH --job-name=phitrace-merge"
    echo "#SBATCH --cpus-per-task=$cpus"
    echo "#SBATCH --mem=$mem"
    echo "#SBATCH --time=$time"
    echo "#SBATCH --output=$work/merge.log"
    if [ -n "$part" ]; then echo "#SBATCH --partition=$part"; fi
    echo 'set -eu'
    printf "exec '%s' merge -q -j %s --force -o '%s'" "$bin" "$cpus" "$case_dir"
    i=0
    while [ "$i" -lt "$n" ]; do
        printf " '%s/shard-%d'" "$work" "$i"
        i=$((i + 1))
    done
    echo
} > "$work/merge.sbatch"

array=$("$sbatch" --parsable --array=0-$((n - 1)) "$work/shard.sbatch")
array=${array%%;*}
merge=$("$sbatch" --parsable --dependency=afterok:"$array" "$work/merge.sbatch")
merge=${merge%%;*}
echo "shards: job array $array (tasks 0-$((n - 1))); merge: job $merge (after all shards)"
echo "watch:  sacct -j $array,$merge --format=JobID,JobName,State,ExitCode,Elapsed"
