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
#   BENCH_TLS=0             skip the TLS-heavy capture (the hospital generator with --tls)
#   BENCH_TLS_MB=100        its size (the issue's was 373 MB); BENCH_TLS_SHARE=0.85 of it TLS
#   BENCH_RUNS=1            rounds on the hospital and TLS-heavy captures (each round runs
#                           phitrace, tcpflow, tshark, yara once; min/median/max printed;
#                           BENCH_HOSPITAL_RUNS is the old name); BENCH_RUNS=8 for the issue's
#                           table of eight runs
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

# rounds CAP TOOL...: $RUNS rounds, each running every tool once on CAP in the order given, so
# that every tool sees the same load (the machine may be shared); $dir/t.TOOL gets one line a
# run: wall seconds, CPU seconds (user + system of every thread), peak RSS KB. phitrace's last
# case is moved to $dir/pcap-case.
rounds() {
    local cap=$1; shift
    local t r u k
    for t in "$@"; do : > "$dir/t.$t"; done
    for ((run = 1; run <= RUNS; run++)); do
        for t in "$@"; do
            # a fresh directory every run (see measure), earlier runs' files on the disk first
            rm -rf "$dir"/run.*
            ln -sfn "$(basename "$(mktemp -d "$dir/run.XXXXXX")")" "$dir/out"; mkdir -p "$dir/out/tcpflow"
            sync
            local cmd=()
            case $t in
                phitrace) cmd=(./phitrace analyze -q "$cap" -o "$dir/out/case") ;;
                tcpflow) cmd=(tcpflow -r "$cap" -o "$dir/out/tcpflow") ;;
                tshark) cmd=(tshark -n -q -r "$cap" -z conv,tcp) ;;
                yara) cmd=(yara -s "${YARA_RULES[@]}" "$cap") ;;
            esac
            local t0 t1
            t0=$(date +%s.%N)
            /usr/bin/time -f "%M %U %S" -o "$dir/rss" "${cmd[@]}" > /dev/null 2> "$dir/$t.err" || {
                echo "bench: $t failed:"; tail -5 "$dir/$t.err"; exit 1; }
            t1=$(date +%s.%N)
            read -r r u k < "$dir/rss"
            echo "$(echo "$t1 - $t0" | bc -l) $(echo "$u + $k" | bc -l) $r" >> "$dir/t.$t"
            if [ "$t" = phitrace ]; then rm -rf "$dir/pcap-case"; mv "$dir/out/case" "$dir/pcap-case"; fi
        done
    done
    rm -rf "$dir"/run.* "$dir/out"
}

# stat3 FILE COLUMN: "min median max" of a column of numbers (the lower median for even counts)
stat3() {
    cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END { printf "%s %s %s", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

# The hospital capture (issue 16): cleartext HL7/MLLP, DICOM, FHIR, CSV, e-mail and web objects,
# cached by size, seed and the generator's own hash; its ground truth is beside it. With a TLS
# share (the TLS-heavy bench) most of its bytes are HTTPS sessions instead.
# bench_pcap LABEL MB TLS_SHARE
bench_pcap() {
local label=$1 hmb=$2 tls=$3 seed=${BENCH_HOSPITAL_SEED:-1}
local gen=tests/bench/gen_hospital.py tag=""
[ "$tls" = 0 ] || tag=-tls$tls
local cap=$dir/hospital-$hmb$tag-s$seed-$(sha256sum "$gen" | cut -c1-8).pcap
if [ ! -s "$cap" ] || [ ! -s "$cap.truth.json" ]; then
    rm -f "$dir"/hospital-"$hmb$tag"-s"$seed"-*.pcap*
    t0=$(date +%s.%N)
    python3 "$gen" --mb "$hmb" --seed "$seed" --tls "$tls" "$cap"
    printf 'generated %s in %.1f s\n' "$cap" "$(echo "$(date +%s.%N) - $t0" | bc -l)"
fi
local bytes case=$dir/hospital-case
bytes=$(stat -c %s "$cap")
cat "$cap" > /dev/null   # warm the page cache for every tool alike
RUNS=${BENCH_RUNS:-${BENCH_HOSPITAL_RUNS:-1}}
local tools=(phitrace tcpflow tshark yara)
rounds "$cap" "${tools[@]}"
rm -rf "$case"; mv "$dir/pcap-case" "$case"   # the last run's case: size, stages, individuals

local q="sqlite3 $case/evidence.db"
printf '\n%s capture: %s (%.1f MB), %s packets, %s objects, %s PHI records, %s TLS sessions (%d runs each, one round = every tool once)\n' \
    "$label" "$cap" "$(echo "$bytes / 1000000" | bc -l)" "$($q 'select sum(packets) from evidence_item')" \
    "$($q 'select count(*) from object')" "$($q 'select count(*) from phi_record')" \
    "$($q 'select count(*) from tls_session')" "$RUNS"
printf '%-9s %-20s %-20s %7s %-20s %-20s %8s\n' tool "wall s min/med/max" "CPU s min/med/max" \
    "MB/s" "x tcpflow wall" "x tcpflow CPU" "RSS MB"
local t w c
# per round, tcpflow's seconds over the tool's: above 1 the tool is faster than tcpflow
ratios() { paste -d' ' "$dir/t.tcpflow" "$dir/t.$1" | awk -v c="$2" '{ print $c / $(c + 3) }' > "$dir/ratio"
           stat3 "$dir/ratio" 1; }
local -A med
for t in "${tools[@]}"; do
    read -r w1 w2 w3 <<< "$(stat3 "$dir/t.$t" 1)"; read -r c1 c2 c3 <<< "$(stat3 "$dir/t.$t" 2)"
    read -r x1 x2 x3 <<< "$(ratios "$t" 1)"; read -r y1 y2 y3 <<< "$(ratios "$t" 2)"
    med[$t]=$w2; med[${t}_cpu]=$c2
    printf '%-9s %-20s %-20s %7.1f %-20s %-20s %8.1f\n' "$t" \
        "$(printf '%.2f/%.2f/%.2f' "$w1" "$w2" "$w3")" "$(printf '%.2f/%.2f/%.2f' "$c1" "$c2" "$c3")" \
        "$(echo "$bytes / $w2 / 1000000" | bc -l)" \
        "$(printf '%.2f/%.2f/%.2fx' "$x1" "$x2" "$x3")" "$(printf '%.2f/%.2f/%.2fx' "$y1" "$y2" "$y3")" \
        "$(echo "$(stat3 "$dir/t.$t" 3 | cut -d' ' -f3) / 1024" | bc -l)"
done
echo "(MB/s at the median wall time; x tcpflow: per round, tcpflow's seconds over the tool's, min/median/max"
echo " over the rounds, so 2.00x is twice tcpflow's speed; CPU s: user + system of all threads; RSS: largest"
printf ' peak; load average %s)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

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

# stages of the last phitrace run (run_manifest stage_seconds:*), against its median wall time,
# then their CPU seconds (stage_seconds:*_cpu, every thread) against the median CPU seconds
printf '\nphitrace stages (s, last run):'
$q "select substr(key, 15), value from run_manifest where key like 'stage_seconds%' and key not like '%_cpu' order by rowid" |
    while IFS='|' read -r k v; do printf ' %s %.2f (%.0f%%),' "$k" "$v" "$(echo "100 * $v / ${med[phitrace]}" | bc -l)"; done
printf ' of %.2f s wall (median)\n' "${med[phitrace]}"
printf 'phitrace stages (CPU s, last run):'
$q "select substr(key, 15, length(key) - 18), value from run_manifest where key like 'stage_seconds%_cpu' order by rowid" |
    while IFS='|' read -r k v; do printf ' %s %.2f (%.0f%%),' "$k" "$v" "$(echo "100 * $v / ${med[phitrace_cpu]}" | bc -l)"; done
printf ' of %.2f CPU s (median)\n' "${med[phitrace_cpu]}"
rm -f "$dir"/t.* "$dir/ratio"

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
[ "${BENCH_HOSPITAL:-1}" = 0 ] || bench_pcap hospital "${BENCH_HOSPITAL_MB:-500}" 0
[ "${BENCH_TLS:-1}" = 0 ] || bench_pcap TLS-heavy "${BENCH_TLS_MB:-100}" "${BENCH_TLS_SHARE:-0.85}"
[ "${BENCH_DISK:-1}" = 0 ] || bash tests/bench/disk_bench.sh
[ "${BENCH_SCALE:-1}" = 0 ] || bash tests/bench/scale_bench.sh
[ "${BENCH_LOGS:-1}" = 0 ] || bash tests/bench/log_bench.sh
