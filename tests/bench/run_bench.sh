#!/usr/bin/env bash
# make bench: phitrace against tcpflow and tshark on the same generated capture, in one run.
# Each tool runs three times; the median time and the largest peak RSS are printed, with the
# ratios. tcpflow writes every flow to a file, so its rate follows the disk (and varies).
# Two captures: the mixed one (few large flows, build/gen_samples --bench) and the hospital
# one (tests/bench/gen_hospital.py: many small objects and hundreds of thousands of patient
# records, issue 16), each with phitrace, tcpflow, tshark and yara on the same file.
# Not part of `make test`.
#   BENCH_MB=320            size of the mixed capture (and a half-size one)
#   BENCH_MIXED=0           skip the mixed capture and the PHI text scan
#   BENCH_HOSPITAL=0        skip the hospital capture
#   BENCH_SCALE=0           skip the scale-out measure (tests/bench/scale_bench.sh)
#   BENCH_LOGS=0            skip the mixed-logs measure (tests/bench/log_bench.sh; BENCH_LOGS_MB=200,
#                           BENCH_LOGS_MIX="worst realistic hospital": the mixes of gen_logs.py)
#   BENCH_HOSPITAL_MB=500   size of the hospital capture; BENCH_HOSPITAL_SEED=1
#   BENCH_HOSPITAL_RUNS=1   runs of each tool on it (median time, largest RSS)
set -euo pipefail
cd "$(dirname "$0")/../.."
MB=${BENCH_MB:-320}
dir=build/bench
mkdir -p "$dir"
make --no-print-directory build/gen_samples phitrace build/phi_bench >/dev/null
for tool in tcpflow tshark yara bc sqlite3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (make deps; yara: apt-get install yara)"; exit 1; }
done
RUNS=3
YARA_RULES=(signatures/healthcare_formats.yar signatures/exfil_tools.yar signatures/ransomware.yar
            signatures/dicom_polyglot.yar)
measure() { # name, then the command; prints "name median_seconds max_rss_kb" over $RUNS runs
    local name=$1; shift
    local t0 t1 times=() cpus=() rss=0 r u k
    for ((run = 1; run <= RUNS; run++)); do
        # Every run writes into a fresh directory ($dir/out links to it): ext4 is slow to
        # allocate inodes in a directory whose files were just deleted, which made the
        # timings depend on the previous run. sync: earlier runs' files reach the disk first.
        rm -rf "$dir"/run.*
        ln -sfn "$(basename "$(mktemp -d "$dir/run.XXXXXX")")" "$dir/out"; mkdir -p "$dir/out/tcpflow"
        sync
        t0=$(date +%s.%N)
        /usr/bin/time -f "%M %U %S" -o "$dir/rss" "$@" > /dev/null 2> "$dir/$name.err" || {
            echo "bench: $name failed:"; tail -5 "$dir/$name.err"; exit 1; }
        t1=$(date +%s.%N)
        times+=("$(echo "$t1 - $t0" | bc -l)")
        read -r r u k < "$dir/rss"; [ "$r" -gt "$rss" ] && rss=$r
        cpus+=("$(echo "$u + $k" | bc -l)")
    done
    # name, median wall seconds, largest peak RSS (KB), median CPU seconds (user + system)
    local mid=$(( (RUNS + 1) / 2 ))
    echo "$name $(printf '%s\n' "${times[@]}" | sort -g | sed -n "${mid}p") $rss" \
        "$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n "${mid}p")"
}

mixed() {
for size in $((MB / 2)) $MB; do
    f=$dir/bench-$size.pcap
    [ -s "$f" ] || build/gen_samples --bench "$size" "$f"
done
big=$dir/bench-$MB.pcap
half=$dir/bench-$((MB / 2)).pcap
bytes=$(stat -c %s "$big")
cat "$big" "$half" > /dev/null   # warm the page cache for every tool alike

results=()
results+=("$(measure phitrace ./phitrace analyze -q "$big" -o "$dir/out/case")")
results+=("$(measure phitrace-half ./phitrace analyze -q "$half" -o "$dir/out/case")")
results+=("$(measure flows-only ./phitrace analyze -q --flows-only "$big" -o "$dir/out/case")")
results+=("$(measure tcpflow tcpflow -r "$big" -o "$dir/out/tcpflow")")
results+=("$(measure tshark tshark -n -q -r "$big" -z conv,tcp)")
results+=("$(measure yara yara -s "${YARA_RULES[@]}" "$big")")
rm -rf "$dir"/run.* "$dir/out" "$dir"/case "$dir"/final.*
final=$(mktemp -d "$dir/final.XXXXXX")/case
sync   # let tcpflow's thousands of files reach the disk before the timed stages below
./phitrace analyze -q "$big" -o "$final"

printf '\ncapture: %s (%.1f MB), %s packets\n' "$big" "$(echo "$bytes / 1000000" | bc -l)" \
    "$(sqlite3 "$final/evidence.db" 'select packets from evidence_item')"
printf '%-14s %10s %10s %12s\n' tool seconds MB/s "peak RSS MB"
declare -A rate
for r in "${results[@]}"; do
    set -- $r
    size=$bytes
    [ "$1" = phitrace-half ] && size=$(stat -c %s "$half")
    rate[$1]=$(echo "$size / $2 / 1000000" | bc -l)
    printf '%-14s %10.2f %10.1f %12.1f\n' "$1" "$2" "${rate[$1]}" "$(echo "$3 / 1024" | bc -l)"
done
printf '\nphitrace / tcpflow: %.2fx   phitrace / tshark conv: %.2fx\n' \
    "$(echo "${rate[phitrace]} / ${rate[tcpflow]}" | bc -l)" \
    "$(echo "${rate[phitrace]} / ${rate[tshark]}" | bc -l)"
echo "peak RSS, half-size vs full-size capture: see phitrace-half vs phitrace above"

# Stages of the full run (run_manifest of the last case): capture, content (PHI and YARA),
# verdict; heuristics plus reports against the whole analysis.
stage() { sqlite3 "$final/evidence.db" "select value from run_manifest where key='stage_seconds:$1'"; }
cap=$(stage capture); con=$(stage content); ver=$(stage verdict)
printf '\nstages of the full run: capture %.3f s, content (PHI + YARA) %.3f s, verdict %.3f s\n' \
    "$cap" "$con" "$ver"
t0=$(date +%s.%N); ./phitrace report "$final" >/dev/null; t1=$(date +%s.%N)
rep=$(echo "$t1 - $t0" | bc -l)
full=$(echo "$bytes / ${rate[phitrace]} / 1000000" | bc -l)
printf 'heuristics + reports: %.3f s = %.1f%% of the analysis (median full run, %.3f s)\n' \
    "$(echo "$ver + $rep" | bc -l)" "$(echo "100 * ($ver + $rep) / $full" | bc -l)" "$full"

# PHI candidate scanning of cleartext, one core: clinic notes with planted PHI among prose and
# logs (mixed), the prose and notes alone, and number-dense log lines alone.
text=$dir/text
if [ ! -s "$text/mixed.txt" ]; then
    rm -rf "$text"; mkdir -p "$text"
    python3 tests/phi/gen_labelled.py "$text/lab" "$text/labels.json" >/dev/null
    python3 tests/bench/make_text.py "$text/lab/notes" 256 "$text/mixed.txt"
    python3 - "$text" <<'PY'
import random, sys
d = sys.argv[1]
rnd = random.Random(3)
lines = open(d + "/mixed.txt", "rb").read().split(b"\n")
prose = [l for l in lines if l and not l[:2].isdigit()]
logs = [l for l in lines if l[:4].isdigit()]
for name, src in (("prose", prose), ("logs", logs)):
    with open("%s/%s.txt" % (d, name), "wb") as f:
        n = 0
        while n < 128_000_000:
            chunk = b"\n".join(rnd.choice(src) for _ in range(30)) + b"\n\n"
            f.write(chunk)
            n += len(chunk)
PY
fi
printf '\nPHI free-text scan (one core)   seconds       MB/s   hits\n'
for mix in mixed prose logs; do
    set -- $(build/phi_bench "$text/$mix.txt" signatures)
    printf '  %-28s %8.3f %10.1f %6s\n' "$mix ($(du -m "$text/$mix.txt" | cut -f1) MB)" "$2" "$3" "$4"
done
set -- $( { /usr/bin/time -f "%e" yara -s -r signatures/healthcare_formats.yar "$text/mixed.txt" >/dev/null; } 2>&1 | tail -1)
printf '  yara (shipped healthcare rules) on mixed: %.3f s, %.1f MB/s\n' "$1" \
    "$(echo "$(stat -c %s "$text/mixed.txt") / $1 / 1000000" | bc -l)"
}

# The hospital capture (issue 16): cleartext HL7/MLLP, DICOM, FHIR, CSV, e-mail and web objects,
# cached by size, seed and the generator's own hash; its ground truth is beside it.
hospital() {
local hmb=${BENCH_HOSPITAL_MB:-500} seed=${BENCH_HOSPITAL_SEED:-1}
local gen=tests/bench/gen_hospital.py
local cap=$dir/hospital-$hmb-s$seed-$(sha256sum "$gen" | cut -c1-8).pcap
if [ ! -s "$cap" ] || [ ! -s "$cap.truth.json" ]; then
    rm -f "$dir"/hospital-"$hmb"-s"$seed"-*.pcap*
    t0=$(date +%s.%N)
    python3 "$gen" --mb "$hmb" --seed "$seed" "$cap"
    printf 'generated %s in %.1f s\n' "$cap" "$(echo "$(date +%s.%N) - $t0" | bc -l)"
fi
local bytes case=$dir/hospital-case
bytes=$(stat -c %s "$cap")
cat "$cap" > /dev/null   # warm the page cache for every tool alike
RUNS=${BENCH_HOSPITAL_RUNS:-1}
local results=()
rm -rf "$case"
results+=("$(measure phitrace ./phitrace analyze -q "$cap" -o "$dir/out/case")")
mv "$dir/out/case" "$case"   # the last run's case, for its size, stages and individuals
results+=("$(measure tcpflow tcpflow -r "$cap" -o "$dir/out/tcpflow")")
results+=("$(measure tshark tshark -n -q -r "$cap" -z conv,tcp)")
results+=("$(measure yara yara -s "${YARA_RULES[@]}" "$cap")")
rm -rf "$dir"/run.* "$dir/out"

local q="sqlite3 $case/evidence.db"
printf '\nhospital capture: %s (%.1f MB), %s packets, %s objects, %s PHI records (%d runs each)\n' \
    "$cap" "$(echo "$bytes / 1000000" | bc -l)" "$($q 'select sum(packets) from evidence_item')" \
    "$($q 'select count(*) from object')" "$($q 'select count(*) from phi_record')" "$RUNS"
printf '%-10s %9s %8s %10s %12s %9s\n' tool seconds MB/s "x tcpflow" "peak RSS MB" "CPU s"
local -A rate secs rss cpu
for r in "${results[@]}"; do
    set -- $r
    secs[$1]=$2; rss[$1]=$3; cpu[$1]=$4
    rate[$1]=$(echo "$bytes / $2 / 1000000" | bc -l)
done
for t in phitrace tcpflow tshark yara; do
    printf '%-10s %9.2f %8.1f %9.2fx %12.1f %9.2f\n' "$t" "${secs[$t]}" "${rate[$t]}" \
        "$(echo "${rate[$t]} / ${rate[tcpflow]}" | bc -l)" "$(echo "${rss[$t]} / 1024" | bc -l)" \
        "${cpu[$t]}"
done
echo "(CPU s: user + system of all threads; on a shared machine wall seconds also hold waiting)"

# case size against the input
local du dbsz rj rh rl
du=$(du -sb "$case" | cut -f1); dbsz=$(stat -c %s "$case/evidence.db")
rj=$(stat -c %s "$case/report.json" 2>/dev/null || echo 0)
rh=$(( $(stat -c %s "$case/report.html" 2>/dev/null || echo 0) + $(stat -c %s "$case/report.txt" 2>/dev/null || echo 0) ))
rl=$(du -sb "$case/report" 2>/dev/null | cut -f1); rl=${rl:-0}   # the long lists' files
printf '\ncase size: %.1f MB = %.1f%% of the input (evidence.db %.1f MB = %.1f%%, objects/ %.1f MB, report.json %.2f MB, report.html + .txt %.2f MB, report/ lists %.2f MB); %s phi_hit rows\n' \
    "$(echo "$du / 1000000" | bc -l)" "$(echo "100 * $du / $bytes" | bc -l)" \
    "$(echo "$dbsz / 1000000" | bc -l)" "$(echo "100 * $dbsz / $bytes" | bc -l)" \
    "$(echo "$(du -sb "$case/objects" | cut -f1) / 1000000" | bc -l)" "$(echo "$rj / 1000000" | bc -l)" \
    "$(echo "$rh / 1000000" | bc -l)" "$(echo "$rl / 1000000" | bc -l)" \
    "$($q 'select count(*) from phi_hit')"

# stages of the phitrace run (run_manifest stage_seconds:*), against its wall time, then
# their CPU seconds (stage_seconds:*_cpu, every thread) against the run's
printf '\nphitrace stages (s):'
$q "select substr(key, 15), value from run_manifest where key like 'stage_seconds%' and key not like '%_cpu' order by rowid" |
    while IFS='|' read -r k v; do printf ' %s %.2f (%.0f%%),' "$k" "$v" "$(echo "100 * $v / ${secs[phitrace]}" | bc -l)"; done
printf ' of %.2f s wall\n' "${secs[phitrace]}"
printf 'phitrace stages (CPU s):'
$q "select substr(key, 15, length(key) - 18), value from run_manifest where key like 'stage_seconds%_cpu' order by rowid" |
    while IFS='|' read -r k v; do printf ' %s %.2f (%.0f%%),' "$k" "$v" "$(echo "100 * $v / ${cpu[phitrace]}" | bc -l)"; done
printf ' of %.2f CPU s\n' "${cpu[phitrace]}"

# individuals found against the patients planted
python3 - "$case/evidence.db" "$cap.truth.json" <<'PY'
import json, sqlite3, sys
t = json.load(open(sys.argv[2]))
got = {s: (e, lo, up) for s, e, lo, up in sqlite3.connect(sys.argv[1]).execute(
    "SELECT scope, estimate, lower, upper FROM individuals")}
for scope in ("all", "outbound"):
    e, lo, up = got.get(scope, (None, None, None))
    want = t["patients"][scope]
    print("individuals %-8s phitrace %s (bounds %s-%s), planted %d: %s" %
          (scope, e, lo, up, want, "exact" if e == want else "DIFFERS by %+d" % ((e or 0) - want)))
print("planted: %d records (%d in gzip, base64 or zip), %d objects, %d TCP connections, "
      "%d internal hosts" % (t["records"], t["records_in_gzip_base64_zip"], t["objects"],
                             t["tcp_connections"], t["internal_hosts"]))
PY
}

[ "${BENCH_MIXED:-1}" = 0 ] || mixed
[ "${BENCH_HOSPITAL:-1}" = 0 ] || hospital
[ "${BENCH_DISK:-1}" = 0 ] || bash tests/bench/disk_bench.sh
[ "${BENCH_SCALE:-1}" = 0 ] || bash tests/bench/scale_bench.sh
[ "${BENCH_LOGS:-1}" = 0 ] || bash tests/bench/log_bench.sh
