#!/usr/bin/env bash
# make bench-floor: what the throughput targets of issues 14 and 16 leave for phitrace, measured
# on this machine against the work those issues themselves require, each part done by another
# program (or by SQLite alone) at its fastest. Not part of `make test` or of `make bench`.
#
# Capture (issue 16: "full analysis at 2x tcpflow or better"): on the hospital capture,
#   tcpflow          the reference: its wall seconds halved are phitrace's whole budget;
#   yara             the shipped rules over the same bytes (the issue keeps YARA on every
#                    object), and one rule with no strings (libyara's pass over the bytes);
#   sha256           openssl's SHA-256 of the same bytes (every object is named by its hash);
#   read             tcpdump reading every packet and writing none;
#   PHI              phitrace's free-text PHI scanner alone over the same bytes on one core
#                    (build/phi_bench: the scan every object's text gets, less the parsers);
#   phitrace         the stage seconds of one full analysis.
# The floor is the sum of the CPU seconds of yara (shipped rules), sha256, read and PHI spread
# over both cores without loss: no analysis can take less, whatever else it does (reassembly,
# the formats' parsers, the database, the verdict and the reports come on top).
#
# Logs (issue 14: "at least 200 MB/s of mixed logs on 2 cores"): on the hospital log mix,
#   budget           the logs' size at 200 MB/s;
#   rows             SQLite alone copying a full analysis's rows of the flows (with the indexes
#                    that join them to captured flows and feed the heuristics), and then every
#                    row, from that case into an empty database of the same schema
#                    (INSERT ... SELECT, no parsing, no binding, journal off): a floor for
#                    writing the evidence the issue asks for (a flow per logged connection).
#
#   BENCH_HOSPITAL_MB=100 BENCH_HOSPITAL_SEED=1   the capture (tests/bench/gen_hospital.py)
#   BENCH_LOGS_MB=40                              the logs (tests/bench/gen_logs.py, hospital mix)
#   BENCH_RUNS=3                                  runs of each timing (median printed)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=build/bench
mkdir -p "$dir"
make --no-print-directory phitrace build/phi_bench >/dev/null
for tool in tcpflow yara openssl tcpdump bc sqlite3 python3; do
    command -v "$tool" >/dev/null || { echo "bench-floor: $tool is not installed (make deps; yara: apt-get install yara)"; exit 1; }
done
RUNS=${BENCH_RUNS:-3}
hmb=${BENCH_HOSPITAL_MB:-100}
seed=${BENCH_HOSPITAL_SEED:-1}
lmb=${BENCH_LOGS_MB:-40}
work=$(mktemp -d "$dir/floor.XXXXXX")
trap 'rm -rf "$work"' EXIT

# median CPU (user + system) and wall seconds of a command over $RUNS runs: "cpu wall"
timed() {
    local cpus=() walls=() u k w
    for ((run = 1; run <= RUNS; run++)); do
        rm -rf "$work/out"; mkdir -p "$work/out"; sync
        /usr/bin/time -f "%U %S %e" -o "$work/t" "$@" > /dev/null 2> "$work/err" || {
            echo "bench-floor: failed: $*"; tail -3 "$work/err"; exit 1; }
        read -r u k w < "$work/t"
        cpus+=("$(echo "$u + $k" | bc -l)"); walls+=("$w")
    done
    local mid=$(( (RUNS + 1) / 2 ))
    echo "$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n "${mid}p")" \
         "$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "${mid}p")"
}

gen=tests/bench/gen_hospital.py
cap=$dir/hospital-$hmb-s$seed-$(sha256sum "$gen" | cut -c1-8).pcap
if [ ! -s "$cap" ] || [ ! -s "$cap.truth.json" ]; then
    rm -f "$dir"/hospital-"$hmb"-s"$seed"-*.pcap*
    python3 "$gen" --mb "$hmb" --seed "$seed" --tls 0 "$cap"
fi
mb=$(echo "$(stat -c %s "$cap") / 1000000" | bc -l)
cat "$cap" > /dev/null   # every tool reads it from the page cache
printf 'floor of issue 16 on %s (%.1f MB), median of %d runs (CPU s, wall s):\n' "$cap" "$mb" "$RUNS"
echo 'rule no_strings { condition: false }' > "$work/none.yar"
read -r tf_cpu tf_wall < <(timed tcpflow -r "$cap" -o "$work/out")
read -r y_cpu y_wall < <(timed yara -w signatures/healthcare_formats.yar signatures/exfil_tools.yar \
    signatures/ransomware.yar signatures/dicom_polyglot.yar "$cap")
read -r y0_cpu y0_wall < <(timed yara -w "$work/none.yar" "$cap")
read -r s_cpu s_wall < <(timed openssl dgst -sha256 "$cap")
read -r r_cpu r_wall < <(timed tcpdump -nr "$cap" -w /dev/null)
# phi_bench prints "phi-text SECONDS MB/s HITS", the median of its three scans
read -r _ x_cpu _ _ < <(build/phi_bench "$cap" signatures)
read -r p_cpu p_wall < <(timed ./phitrace analyze -q --signatures signatures "$cap" -o "$work/out/case")
budget=$(echo "$tf_wall / 2" | bc -l)
floor=$(echo "($y_cpu + $s_cpu + $r_cpu + $x_cpu) / 2" | bc -l)
floor0=$(echo "($y0_cpu + $s_cpu + $r_cpu + $x_cpu) / 2" | bc -l)
printf '  %-44s %6.2f %6.2f\n' "tcpflow" "$tf_cpu" "$tf_wall" \
    "yara, the shipped rules" "$y_cpu" "$y_wall" \
    "yara, one rule without strings" "$y0_cpu" "$y0_wall" \
    "openssl dgst -sha256" "$s_cpu" "$s_wall" \
    "tcpdump -r (read every packet)" "$r_cpu" "$r_wall" \
    "PHI text scan, one core (build/phi_bench)" "$x_cpu" "$x_cpu" \
    "phitrace analyze" "$p_cpu" "$p_wall"
printf '  budget at 2x tcpflow: %.2f s of wall (%.0f MB/s)\n' "$budget" "$(echo "$mb / $budget" | bc -l)"
printf '  floor on 2 cores (yara + sha256 + read + PHI, no loss): %.2f s of wall, %.1fx the budget\n' \
    "$floor" "$(echo "$floor / $budget" | bc -l)"
printf '  the same with a rule set that costs nothing past libyara'"'"'s pass: %.2f s, %.1fx\n' \
    "$floor0" "$(echo "$floor0 / $budget" | bc -l)"
printf '  phitrace: %.2fx tcpflow by wall\n' "$(echo "$tf_wall / $p_wall" | bc -l)"

lgen=tests/bench/gen_logs.py
logs=$dir/logs-hospital-$lmb-s1-$(sha256sum "$lgen" | cut -c1-8)
if [ ! -s "$logs/dnsmasq.log" ]; then
    rm -rf "$dir"/logs-hospital-"$lmb"-s1-*
    python3 "$lgen" "$logs" "$lmb" 1 hospital > /dev/null
fi
lbytes=$(cat "$logs"/*.log | wc -c)
lmbs=$(echo "$lbytes / 1000000" | bc -l)
case=$work/logcase
./phitrace analyze -q --home-net 10.0.0.0/8 "$logs/conn.log" "$logs/access.log" \
    "$logs/dnsmasq.log" -o "$case" > /dev/null 2> "$work/err" || {
    echo "bench-floor: phitrace failed on the logs"; tail -3 "$work/err"; exit 1; }
sqlite3 "$case/evidence.db" .schema | grep -v '^CREATE TABLE sqlite_' > "$work/schema.sql"
# copy NAME TABLES...: $work/NAME.sh copies the named tables' rows into a fresh database of
# the same schema (the schema's few statements are timed with it)
copy() {
    local name=$1; shift
    {
        echo "PRAGMA journal_mode=off; PRAGMA synchronous=off; PRAGMA cache_size=-65536;"
        echo "ATTACH '$case/evidence.db' AS o; BEGIN;"
        # WHERE 1: not SQLite's transfer of whole pages, which only an empty copy allows
        for t in "$@"; do echo "INSERT INTO main.\"$t\" SELECT * FROM o.\"$t\" WHERE 1;"; done
        echo "COMMIT;"
    } > "$work/$name.sql"
    printf 'rm -f %s/copy.db && sqlite3 %s/copy.db < %s/schema.sql && sqlite3 %s/copy.db < %s/%s.sql\n' \
        "$work" "$work" "$work" "$work" "$work" "$name" > "$work/$name.sh"
}
mapfile -t tables < <(sqlite3 "$case/evidence.db" \
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
flows=$(sqlite3 "$case/evidence.db" "SELECT count(*) FROM flow")
rows=$(for t in "${tables[@]}"; do sqlite3 "$case/evidence.db" "SELECT count(*) FROM \"$t\""; done |
    paste -sd+ | bc)
copy flows flow
copy all "${tables[@]}"
read -r f_cpu f_wall < <(timed sh "$work/flows.sh")
read -r a_cpu a_wall < <(timed sh "$work/all.sh")
lbudget=$(echo "$lmbs / 200" | bc -l)
printf '\nfloor of issue 14 on %s (%.1f MB of logs), median of %d runs (CPU s, wall s):\n' "$logs" "$lmbs" "$RUNS"
printf '  %-44s %6.2f %6.2f\n' "SQLite: the $flows flows, with their indexes" "$f_cpu" "$f_wall" \
    "SQLite: all $rows rows of the case" "$a_cpu" "$a_wall"
printf '  budget at 200 MB/s: %.2f s of wall; one writer: the flows alone take %.1fx it\n' \
    "$lbudget" "$(echo "$f_cpu / $lbudget" | bc -l)"
