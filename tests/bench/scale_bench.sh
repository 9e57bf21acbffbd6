#!/usr/bin/env bash
# Scale-out cost (issue 19): the hospital capture (gen_hospital.py) rotated into 16 files,
# one run with -j 2 against a plan of 2 shards run at once with -j 1 each, then their merge;
# then the same capture as one file, cut by the plan in 2 byte ranges, whose merge re-reads
# the connections open across the cut (stitch.c). Wall and CPU seconds (user + system) of
# each step: on a loaded machine the CPU seconds are the measure.
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
mkdir -p "$dir/one"
mv "$dir/hospital.pcap" "$dir/one/"
now() { date +%s.%N; }
# cpu TAG CMD...: run CMD, keep its CPU seconds (user + system) in $dir/TAG.cpu
cpu() {
    local tag=$1
    shift
    /usr/bin/time -f '%U %S' -o "$dir/$tag.time" "$@"
    awk '{ printf "%.2f", $1 + $2 }' "$dir/$tag.time" > "$dir/$tag.cpu"
}
c() { cat "$dir/$1.cpu"; }
t0=$(now)
cpu single ./phitrace analyze -q -j 2 "$dir/in" -o "$dir/single"
t1=$(now)
cpu plan ./phitrace plan -q "$dir/in" --shards 2 -o "$dir/plan.txt"
t2=$(now)
cpu s0 ./phitrace analyze -q -j 1 --plan "$dir/plan.txt" --shard 0 -o "$dir/s0" &
cpu s1 ./phitrace analyze -q -j 1 --plan "$dir/plan.txt" --shard 1 -o "$dir/s1" &
wait
t3=$(now)
cpu merge ./phitrace merge -q -j 2 -o "$dir/merged" "$dir/s0" "$dir/s1"
t4=$(now)
# one file in 2 byte ranges
r0=$(now)
cpu rsingle ./phitrace analyze -q -j 2 "$dir/one" -o "$dir/rsingle"
r1=$(now)
cpu rplan ./phitrace plan -q "$dir/one" --shards 2 -o "$dir/rplan.txt"
r2=$(now)
cpu r0 ./phitrace analyze -q -j 1 --plan "$dir/rplan.txt" --shard 0 -o "$dir/r0" &
cpu r1 ./phitrace analyze -q -j 1 --plan "$dir/rplan.txt" --shard 1 -o "$dir/r1" &
wait
r3=$(now)
cpu rmerge ./phitrace merge -q -j 2 -o "$dir/rmerged" "$dir/r0" "$dir/r1"
r4=$(now)
q() { sqlite3 "$1/evidence.db" "$2"; }
for pair in single:merged rsingle:rmerged; do
    for t in "SELECT count(*), sum(c_pkts + s_pkts), sum(c_payload_bytes) FROM flow" \
             "SELECT count(*), count(DISTINCT sha256) FROM object" \
             "SELECT scope, estimate, lower, upper FROM individuals ORDER BY scope" \
             "SELECT verdict FROM verdict WHERE scope = 'overall'"; do
        a=$(q "$dir/${pair%%:*}" "$t")
        b=$(q "$dir/${pair##*:}" "$t")
        if [ -z "$a" ] || [ "$a" != "$b" ]; then
            echo "scale bench: ${pair##*:} differs from the single run: $t"; exit 1
        fi
    done
done
gb=$(echo "$(q "$dir/merged" "SELECT sum(size) FROM evidence_item") / 1073741824" | bc -l)
flows=$(q "$dir/merged" "SELECT count(*) FROM flow")
copy=$(q "$dir/merged" "SELECT value FROM run_manifest WHERE key = 'stage_seconds:capture'")
single=$(echo "$t1 - $t0" | bc -l)
sharded=$(echo "$t4 - $t1" | bc -l)
printf 'scale-out, %s MB hospital capture in 16 files, %s flows, 2 cores (load %s):\n' \
    "$MB" "$flows" "$(cut -d' ' -f1 /proc/loadavg)"
printf '                      wall s   CPU s\n'
printf '  single run -j2      %7.2f %7s\n' "$single" "$(c single)"
printf '  plan                %7.2f %7s\n' "$(echo "$t2 - $t1" | bc -l)" "$(c plan)"
printf '  2 shards at once    %7.2f %7s (shard 0 %s, shard 1 %s)\n' "$(echo "$t3 - $t2" | bc -l)" \
    "$(echo "$(c s0) + $(c s1)" | bc -l)" "$(c s0)" "$(c s1)"
printf '  merge (all stages)  %7.2f %7s, of which copying the shards %s s (%.2f s/GB of input, %.1f s per million flows)\n' \
    "$(echo "$t4 - $t3" | bc -l)" "$(c merge)" "$copy" "$(echo "$copy / $gb" | bc -l)" \
    "$(echo "$copy * 1000000 / $flows" | bc -l)"
printf '  speed-up of plan + 2 shards + merge over one run: %.2fx wall (the merge runs the PHI scan,\n' \
    "$(echo "$single / $sharded" | bc -l)"
printf '  verdict and reports once: stage_seconds:content %s s, verdict %s s)\n' \
    "$(q "$dir/merged" "SELECT value FROM run_manifest WHERE key = 'stage_seconds:content'")" \
    "$(q "$dir/merged" "SELECT value FROM run_manifest WHERE key = 'stage_seconds:verdict'")"
rcopy=$(q "$dir/rmerged" "SELECT value FROM run_manifest WHERE key = 'stage_seconds:capture'")
printf 'the same capture as one file, cut in %s byte ranges:\n' \
    "$(grep -c '^range ' "$dir/rplan.txt")"
printf '  single run -j2      %7.2f %7s\n' "$(echo "$r1 - $r0" | bc -l)" "$(c rsingle)"
printf '  plan (walk + hash)  %7.2f %7s\n' "$(echo "$r2 - $r1" | bc -l)" "$(c rplan)"
printf '  2 shards at once    %7.2f %7s (shard 0 %s, shard 1 %s)\n' "$(echo "$r3 - $r2" | bc -l)" \
    "$(echo "$(c r0) + $(c r1)" | bc -l)" "$(c r0)" "$(c r1)"
printf '  merge (all stages)  %7.2f %7s, of which copying the shards and re-reading the connections cut (%s flows fewer than the shards had) %s s\n' \
    "$(echo "$r4 - $r3" | bc -l)" "$(c rmerge)" \
    "$(echo "$(q "$dir/r0" "SELECT count(*) FROM flow") + $(q "$dir/r1" "SELECT count(*) FROM flow") - $(q "$dir/rmerged" "SELECT count(*) FROM flow")" | bc)" "$rcopy"
printf '  speed-up of plan + 2 shards + merge over one run: %.2fx wall\n' \
    "$(echo "($r1 - $r0) / ($r4 - $r1)" | bc -l)"
