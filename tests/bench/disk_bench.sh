#!/usr/bin/env bash
# disk_bench.sh - disk-image throughput (issue 15): phitrace's image reader (libtsk walk,
# content, unallocated blocks carved) and a whole `analyze`, against fls + icat of every file
# and a raw printable-run scan (`strings`, as bulk_extractor-style scanning reads an image),
# on a 512 MiB ext4 image holding 51 files (an image with little content), its free space
# random bytes, then zeros.
# Run from `make bench` (BENCH_DISK=0 skips it); needs e2fsprogs and sleuthkit.
set -euo pipefail
BIN=${PHITRACE:-./phitrace}
SIZE_MB=${BENCH_DISK_MB:-512}
for t in mkfs.ext4 fls icat strings; do
    command -v "$t" >/dev/null || { echo "disk bench: $t is missing, skipped"; exit 0; }
done
dir=$(mktemp -d /tmp/phitrace-diskbench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/src/staging"
for i in $(seq 1 50); do head -c 200000 /dev/urandom > "$dir/src/f$i.bin"; done
printf 'mrn,last_name,first_name,dob,ssn\n4100001,DOE,JANE,1961-04-12,536-22-5401\n' \
    > "$dir/src/staging/roster.csv"
mbs() { echo "$bytes / 1000000 / $1" | bc -l; }
row() { # label wall cpu note
    printf '  %-17s %6.2f s wall %7.0f MB/s  %6.2f s CPU %7.0f MB/s per CPU-s  %s\n' "$1" "$2" \
        "$(mbs "$2")" "$3" "$(mbs "$3")" "$4"
}
# "wall cpu" seconds of "$@" (output discarded); cpu = user + system, children included
# (the image reader is a child), which is what a shared machine measures fairly
t() {
    local TIMEFORMAT='%R %U %S' out
    out=$( { time "$@" > /dev/null 2>&1; } 2>&1 ) || true
    echo "$out" | tail -1 | awk '{printf "%s %s", $1, $2 + $3}'
}
# one image: its free space random bytes (the worst case: every page has "content" for the
# raw scans) or zeros (a fresh or wiped disk: the little content is the files)
bench_fill() {
    local fill=$1 img="$dir/disk-$1.img"
    if [ "$fill" = random ]; then head -c "${SIZE_MB}M" /dev/urandom > "$img"; else
        rm -f "$img"; truncate -s "${SIZE_MB}M" "$img"; fi
    mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0 -d "$dir/src" "$img"
    cat "$img" > /dev/null # page cache: every tool reads it warm
    bytes=$(stat -c %s "$img")
    read -r reader reader_cpu <<< "$(t "$BIN" image-child "$img")"
    read -r analyze analyze_cpu <<< "$(t "$BIN" analyze -q "$img" -o "$dir/case-$fill")"
    read -r fls_s fls_cpu <<< "$(t fls -r -p "$img")"
    read -r icat_s icat_cpu <<< "$(t bash -c "for i in \$(fls -r -p '$img' | sed -nE 's/^r\\/r ([0-9]+):.*/\\1/p'); do icat '$img' \$i; done")"
    read -r strings_s strings_cpu <<< "$(t strings -a -n 6 "$img")"
    printf '\ndisk image: %d MB ext4, 51 files, free space %s (load average %s)\n' \
        "$((bytes / 1000000))" "$fill" "$(cut -d' ' -f1 /proc/loadavg)"
    row "phitrace reader" "$reader" "$reader_cpu" "(walk, content, carving of unallocated blocks)"
    row "phitrace analyze" "$analyze" "$analyze_cpu" "(all stages: the raw printable-run floor too)"
    row "fls + icat" "$(echo "$fls_s + $icat_s" | bc -l)" "$(echo "$fls_cpu + $icat_cpu" | bc -l)" ""
    row "strings -a -n 6" "$strings_s" "$strings_cpu" "(raw scan)"
    rm -rf "$img" "$dir/case-$fill"
}
bench_fill random
bench_fill zero
