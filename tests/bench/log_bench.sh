#!/usr/bin/env bash
# The mixed-logs bench (issue 14), called by run_bench.sh: phitrace on generated logs (a Zeek
# conn log, an nginx access log, a dnsmasq query log: tests/bench/gen_logs.py) of half and all
# of BENCH_LOGS_MB, so that the rate and the peak RSS at two sizes show whether memory stays
# flat. Prints wall and CPU (user + system) seconds, MB/s on each, the peak RSS, the case's
# size and the stage seconds of the run manifest. The logs are cached in build/bench/.
# Two mixes of the Zeek connections (gen_logs.py's MIX), each printed under its own heading:
# "worst" (every connection to a random address, a fifth of them uploads: nearly one finding
# and one event per upload) and "realistic" (destinations from a Zipf-like popularity over
# 3,000 sites, 1% uploads) and "hospital" (as realistic, the inside hosts from 2,000
# addresses, so the (inside, outside) pairs repeat as on a real site).
#   BENCH_LOGS_MB=200   size of the larger set of logs; BENCH_LOGS_SEED=1
#   BENCH_LOGS_MIX="worst realistic hospital"   the mixes to run
set -euo pipefail
cd "$(dirname "$0")/../.."
MB=${BENCH_LOGS_MB:-200}
seed=${BENCH_LOGS_SEED:-1}
dir=build/bench
gen=tests/bench/gen_logs.py
mkdir -p "$dir"
make --no-print-directory phitrace >/dev/null
for tool in bc sqlite3 python3; do
    command -v "$tool" >/dev/null || { echo "log bench: $tool is not installed (make deps)"; exit 1; }
done
tag=$(sha256sum "$gen" | cut -c1-8)
for mix in ${BENCH_LOGS_MIX:-worst realistic hospital}; do
case $mix in
    worst) what="worst case: random destinations, a fifth of the connections uploads";;
    realistic) what="realistic mix: Zipf-like destinations over 3,000 sites, 1% uploads";;
    hospital) what="hospital mix: as realistic, inside hosts from 2,000 addresses";;
    *) echo "log bench: BENCH_LOGS_MIX: worst, realistic or hospital, not $mix"; exit 1;;
esac
printf '\nmixed logs, %s (Zeek conn TSV, nginx access, dnsmasq; %s %s):\n' "$what" "$gen" "$mix"
printf '%-8s %8s %8s %8s %8s %8s %9s %9s  %s\n' MB wall_s cpu_s MB/s MB/s_cpu \
    "RSS_MB" "case_MB" findings "stage seconds"
for mb in $((MB / 2)) "$MB"; do
    logs=$dir/logs-$mix-$mb-s$seed-$tag
    if [ ! -s "$logs/dnsmasq.log" ]; then
        rm -rf "$dir"/logs-"$mix"-"$mb"-s"$seed"-* "$dir"/logs-"$mb"-s"$seed"-*
        python3 "$gen" "$logs" "$mb" "$seed" "$mix" >/dev/null
    fi
    bytes=$(cat "$logs"/*.log | wc -c)
    case=$dir/logs-case
    rm -rf "$case"
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M %U %S" -o "$dir/logs.rss" ./phitrace analyze -q --home-net 10.0.0.0/8 \
        "$logs/conn.log" "$logs/access.log" "$logs/dnsmasq.log" -o "$case" > /dev/null \
        2> "$dir/logs.err" || { echo "log bench: phitrace failed:"; tail -5 "$dir/logs.err"; exit 1; }
    t1=$(date +%s.%N)
    read -r rss u k < "$dir/logs.rss"
    wall=$(echo "$t1 - $t0" | bc -l)
    cpu=$(echo "$u + $k" | bc -l)
    stages=$(sqlite3 "$case/evidence.db" "SELECT group_concat(substr(key, 15) || ' ' || value, \
        ', ') FROM run_manifest WHERE key LIKE 'stage_seconds:%'")
    findings=$(sqlite3 "$case/evidence.db" "SELECT count(*) FROM finding")
    printf '%-8.1f %8.1f %8.1f %8.1f %8.1f %8.0f %9.1f %9s  %s\n' "$(echo "$bytes / 1000000" | bc -l)" \
        "$wall" "$cpu" "$(echo "$bytes / 1000000 / $wall" | bc -l)" \
        "$(echo "$bytes / 1000000 / $cpu" | bc -l)" "$(echo "$rss / 1024" | bc -l)" \
        "$(echo "$(du -sb "$case" | cut -f1) / 1000000" | bc -l)" "$findings" "$stages"
    rm -rf "$case"
done
done
