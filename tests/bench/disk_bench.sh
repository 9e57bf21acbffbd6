#!/usr/bin/env bash
# disk_bench.sh - disk-image throughput (issue 15): phitrace's image reader (libtsk walk,
# content, unallocated blocks carved) and a whole `analyze`, against fls + icat of every file
# and a raw printable-run scan (`strings`, as bulk_extractor-style scanning reads an image),
# on a 512 MiB ext4 image of random bytes holding 50 files (an image with little content).
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
img="$dir/disk.img"
head -c "${SIZE_MB}M" /dev/urandom > "$img"
mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0 -d "$dir/src" "$img"
cat "$img" > /dev/null # page cache: every tool reads it warm
bytes=$(stat -c %s "$img")
t() { # seconds of "$@" (output discarded)
    local s e
    s=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || true
    e=$(date +%s.%N)
    echo "$e - $s" | bc -l
}
reader=$(t "$BIN" image-child "$img")
analyze=$(t "$BIN" analyze -q "$img" -o "$dir/case")
fls_s=$(t fls -r -p "$img")
icat_s=$(t bash -c "for i in \$(fls -r -p '$img' | sed -nE 's/^r\\/r ([0-9]+):.*/\\1/p'); do icat '$img' \$i; done")
strings_s=$(t strings -a -n 6 "$img")
mbs() { echo "$bytes / 1000000 / $1" | bc -l; }
printf '\ndisk image: %d MB ext4, 51 files\n' "$((bytes / 1000000))"
printf '  phitrace reader   %6.2f s  %7.0f MB/s (walk, content, carving of unallocated blocks)\n' \
    "$reader" "$(mbs "$reader")"
printf '  phitrace analyze  %6.2f s  %7.0f MB/s (all stages: the raw printable-run floor too)\n' \
    "$analyze" "$(mbs "$analyze")"
printf '  fls + icat        %6.2f s  %7.0f MB/s\n' "$(echo "$fls_s + $icat_s" | bc -l)" \
    "$(mbs "$(echo "$fls_s + $icat_s" | bc -l)")"
printf '  strings -a -n 6   %6.2f s  %7.0f MB/s (raw scan)\n' "$strings_s" "$(mbs "$strings_s")"
