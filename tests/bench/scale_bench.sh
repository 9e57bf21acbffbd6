#!/usr/bin/env bash
# Scale-out cost (issue 19): the hospital capture (gen_hospital.py) rotated into 16 files,
# one run with -j 2 against a plan of 2 shards run at once with -j 1 each, then their merge.
# Prints the seconds of each step, the merge's own copy (stage_seconds:capture of the merged
# case: the rows and objects of the shards) per GB of input and per million flows, and checks
# that the merged case has the single run's flows, objects, individuals and verdict.
#   BENCH_SCALE_MB=200 (capture size), BENCH_SCALE_SEED=5
set -euo pipefail
cd "$(dirname "$0")/../.."
MB=${BENCH_SCALE_MB:-200}
dir=build/bench/scale
rm -rf "$dir"
mkdir -p "$dir"
make --no-print-directory phitrace >/dev/null
python3 tests/bench/gen_hospital.py --mb "$MB" --seed "${BENCH_SCALE_SEED:-5}" \
    "$dir/hospital.pcap" "$dir/truth.json"
python3 tests/bench/rotate_pcap.py "$dir/hospital.pcap" "$dir/in" 16 >/dev/null
rm -f "$dir/hospital.pcap"
now() { date +%s.%N; }
t0=$(now)
./phitrace analyze -q -j 2 "$dir/in" -o "$dir/single"
t1=$(now)
./phitrace plan -q "$dir/in" --shards 2 -o "$dir/plan.txt"
t2=$(now)
./phitrace analyze -q -j 1 --plan "$dir/plan.txt" --shard 0 -o "$dir/s0" &
./phitrace analyze -q -j 1 --plan "$dir/plan.txt" --shard 1 -o "$dir/s1" &
wait
t3=$(now)
./phitrace merge -q -j 2 -o "$dir/merged" "$dir/s0" "$dir/s1"
t4=$(now)
q() { sqlite3 "$1/evidence.db" "$2"; }
for t in "SELECT count(*), sum(c_pkts + s_pkts) FROM flow" \
         "SELECT count(*), count(DISTINCT sha256) FROM object" \
         "SELECT scope, estimate, lower, upper FROM individuals ORDER BY scope" \
         "SELECT verdict FROM verdict WHERE scope = 'overall'"; do
    a=$(q "$dir/single" "$t")
    b=$(q "$dir/merged" "$t")
    if [ -z "$a" ] || [ "$a" != "$b" ]; then
        echo "scale bench: the merged case differs from the single run: $t"; exit 1
    fi
done
gb=$(echo "$(q "$dir/merged" "SELECT sum(size) FROM evidence_item") / 1073741824" | bc -l)
flows=$(q "$dir/merged" "SELECT count(*) FROM flow")
copy=$(q "$dir/merged" "SELECT value FROM run_manifest WHERE key = 'stage_seconds:capture'")
single=$(echo "$t1 - $t0" | bc -l)
sharded=$(echo "$t4 - $t1" | bc -l)
printf 'scale-out, %s MB hospital capture in 16 files, %s flows, 2 cores (load %s):\n' \
    "$MB" "$flows" "$(cut -d' ' -f1 /proc/loadavg)"
printf '  single run -j2      %7.2f s\n' "$single"
printf '  plan                %7.2f s\n' "$(echo "$t2 - $t1" | bc -l)"
printf '  2 shards at once    %7.2f s\n' "$(echo "$t3 - $t2" | bc -l)"
printf '  merge (all stages)  %7.2f s, of which copying the shards %s s (%.2f s/GB of input, %.1f s per million flows)\n' \
    "$(echo "$t4 - $t3" | bc -l)" "$copy" "$(echo "$copy / $gb" | bc -l)" \
    "$(echo "$copy * 1000000 / $flows" | bc -l)"
printf '  speed-up of plan + 2 shards + merge over one run: %.2fx (the merge runs the PHI scan,\n' \
    "$(echo "$single / $sharded" | bc -l)"
printf '  verdict and reports once: stage_seconds:content %s s, verdict %s s)\n' \
    "$(q "$dir/merged" "SELECT value FROM run_manifest WHERE key = 'stage_seconds:content'")" \
    "$(q "$dir/merged" "SELECT value FROM run_manifest WHERE key = 'stage_seconds:verdict'")"
