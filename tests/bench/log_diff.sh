#!/usr/bin/env bash
# Do two versions of the log parsers (ingest/logparse.c) read every log alike? log_diff.c
# linked once with REF's logparse.c (default main) and once with the work tree's, the rest of
# the analyzer the same, is run over the fuzz corpus, the repository's logs, the shared
# corpus's logs (when ../shared is there) and gen_logs.py output; every file is read as every
# line format, and so is every seed line cut at every offset and with each byte dropped or
# blanked in turn. Prints the files, records, formats seen and whether the hashes match, then the
# parse time of each (best of 3). Exit 1 when any line differs.
#   tests/bench/log_diff.sh [REF]      LOG_DIFF_MB=20 (gen_logs.py size)
set -euo pipefail
cd "$(dirname "$0")/../.."
ref=${1:-main}
dir=build/logdiff
mkdir -p "$dir"
make --no-print-directory WERROR=1 phitrace >/dev/null
objs=$(find build/rel -name '*.o' ! -name logparse.o ! -name main.o ! -name evtx_reader.o ! -path '*/tests/*' | sort)
cflags="-std=c11 -D_GNU_SOURCE -O2 -Ianalyzer -Ianalyzer/ingest $(pkg-config --cflags sqlite3)"
libs="$(pkg-config --libs libpcap libmagic yara sqlite3 zlib libcrypto libarchive tsk libewf \
    libqcow libmaxminddb) -levtx -lpthread -lm"
git show "$ref:analyzer/ingest/logparse.c" > "$dir/logparse_ref.c"
for v in ref new; do
    src=$dir/logparse_ref.c
    [ $v = new ] && src=analyzer/ingest/logparse.c
    # the reference copy includes its headers relative to analyzer/ingest
    cc $cflags -iquote analyzer/ingest -c "$src" -o "$dir/logparse_$v.o"
    cc $cflags tests/bench/log_diff.c "$dir/logparse_$v.o" $objs $libs -o "$dir/log_diff_$v"
done
gen=$dir/gen
[ -f "$gen/conn.log" ] || python3 tests/bench/gen_logs.py "$gen" "${LOG_DIFF_MB:-20}" 1 >/dev/null
# every line of the fuzz seeds cut at every offset, and with each byte in turn dropped or
# made a space: the parsers' edges, compared
python3 - "$dir/edges.log" tests/fuzz/corpus/logparse/* <<'PY'
import sys
out = open(sys.argv[1], "wb")
for f in sys.argv[2:]:
    for line in open(f, "rb").read().split(b"\n"):
        for k in range(len(line) + 1):
            out.write(line[:k] + b"\n")
            if k < len(line):
                out.write(line[:k] + line[k + 1:] + b"\n")
                out.write(line[:k] + b" " + line[k + 1:] + b"\n")
PY
list=$dir/files
{
    echo "$dir/edges.log"
    find tests/fuzz/corpus/logparse -type f
    find samples tests -type f \( -name '*.log' -o -name '*.txt' -o -name '*.csv' \
        -o -name '*access*' -o -name '*syslog*' -o -name 'messages*' \) -size -20M \
        ! -path 'tests/fuzz/corpus/*'
    if [ -d ../shared/corpus ]; then
        find ../shared/corpus -type f \( -name '*.log' -o -name '*.log.[0-9]' -o -name '*.csv' \
            -o -name '*access*' -o -name '*syslog*' -o -name 'messages*' -o -name '*_2k*' \) \
            -size -20M
    else
        echo "log_diff: ../shared/corpus is absent: its logs are not compared" >&2
    fi
    ls "$gen"/*.log
} | sort -u > "$list"
mapfile -t logs < "$list"
"$dir/log_diff_ref" "${logs[@]}" > "$dir/out_ref"
"$dir/log_diff_new" "${logs[@]}" > "$dir/out_new"
files=$(wc -l < "$list")
recs=$(awk '{for (i = 3; i <= 6; i++) {split($i, kv, "="); s += kv[2]}} END {print s}' "$dir/out_ref")
fmts=$(awk '{split($3,a,"=");split($4,b,"=");split($5,c,"=");split($6,d,"=");
            if (a[2]+b[2]+c[2]+d[2] > 0) print $2}' "$dir/out_ref" | sort | uniq -c | tr '\n' ' ')
echo "log_diff: $files files x 13 formats, $recs records (ref $ref); files with records, per format: $fmts"
if cmp -s "$dir/out_ref" "$dir/out_new"; then
    echo "log_diff: every (file, format) hash matches"
else
    echo "log_diff: DIFFERENT output:"; diff "$dir/out_ref" "$dir/out_new" | head -40
    exit 1
fi
for v in ref new; do
    for k in 1 2 3; do
        "$dir/log_diff_$v" -t "${logs[@]}" 2>&1 >/dev/null
    done | awk -v v="$v" '{ if (!($1 in best) || $2 < best[$1]) best[$1] = $2 }
        END { printf "log_diff: %s parse seconds (best of 3):", v;
              for (f in best) printf " %s %.3f", f, best[f]; print "" }'
done
