#!/usr/bin/env bash
# inflate.sh FILE: the floor that inflating puts under every view (bench/README.md section 15).
# Dumps FILE's compressed messages (wsdump --format jsonl, bench/inflatedump.py), then times, in one
# run: tcpdump -r FILE -w /dev/null (CPU s, median of REPEAT), zlib (bench/zlib/zlibinflate.c, best of
# REPEAT; needs cc and zlib.h, package zlib1g-dev), and wsdump's inflater and compress/flate on the
# same messages (BenchmarkInflateDump, -count REPEAT). WSDUMP: the binary to dump with (default:
# go run ./cmd/wsdump).
set -euo pipefail
FILE=${1:?usage: bench/inflate.sh FILE}
REPEAT=${REPEAT:-5}
cd "$(dirname "$0")/.."
DUMP=$(mktemp /tmp/wsdump-inflate.XXXXXX)
ZLIB=$(mktemp /tmp/wsdump-zlibinflate.XXXXXX)
trap 'rm -f "$DUMP" "$ZLIB"' EXIT
if [ -n "${WSDUMP:-}" ]; then run=("$WSDUMP"); else run=(go run ./cmd/wsdump); fi
"${run[@]}" -r "$FILE" --format jsonl -j 1 | python3 bench/inflatedump.py dump "$DUMP"
if command -v tcpdump > /dev/null; then
  for i in $(seq "$REPEAT"); do
    /usr/bin/time -f '%U %S' tcpdump -r "$FILE" -w /dev/null 2>&1 > /dev/null | tail -1 | awk '{print $1+$2}'
  done | sort -n | awk '{a[NR]=$1} END {printf "tcpdump -r FILE -w /dev/null: median of %d: %.3f CPU s\n", NR, a[int((NR+1)/2)]}'
fi
if cc -O2 -o "$ZLIB" bench/zlib/zlibinflate.c -lz 2> /dev/null; then
  "$ZLIB" "$DUMP" "$REPEAT"
else
  echo "zlib: not timed (no cc or no zlib.h: apt-get install gcc zlib1g-dev)"
fi
WSDUMP_INFLATE_DUMP=$DUMP go test ./wsparse -run '^$' -bench 'InflateDump' -count "$REPEAT" | grep Benchmark
