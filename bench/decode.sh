#!/usr/bin/env bash
# The cost of application decoding (issue 17): CPU time (user + sys) of
# `wsdump --format jsonl` against `--format jsonl --decode none`, with -j 1
# and the default -j, for one or more wsdump binaries, runs interleaved so
# that other load on the machine hits them alike.
#
#   bash bench/decode.sh FILE [WSDUMP...]
#   REPEAT=7 bash bench/decode.sh bench/data/ws-bench-200mb.pcap /tmp/wsdump-old bench/data/wsdump
#
# Prints, per binary and -j, the median CPU seconds of both and the
# overhead of decoding ((jsonl - none) / none; the goal is <= 30%). With
# PROFILE=DIR it also writes DIR/<n>-jsonl.prof and DIR/<n>-none.prof (-j 1,
# WSDUMP_CPUPROFILE) for `go tool pprof -top`. Default binary: built from
# this checkout into bench/data/wsdump.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FILE=${1:?usage: bench/decode.sh FILE [WSDUMP...]}
shift
REPEAT=${REPEAT:-5}
BINS=("$@")
if [ ${#BINS[@]} -eq 0 ]; then
	mkdir -p "$BENCH/data"
	(cd "$BENCH/.." && go build -o "$BENCH/data/wsdump" ./cmd/wsdump)
	BINS=("$BENCH/data/wsdump")
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat "$FILE" >/dev/null # page cache

cpu() { # cpu OUT CMD...: appends user+sys seconds of CMD to OUT
	local out=$1
	shift
	/usr/bin/time -f '%U %S' -o "$TMP/t" "$@" >/dev/null
	awk '{print $1 + $2}' "$TMP/t" >>"$out"
}
median() { sort -g "$1" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

for ((r = 0; r < REPEAT; r++)); do
	for i in "${!BINS[@]}"; do
		for j in 0 1; do
			jflag=()
			[ $j = 1 ] && jflag=(-j 1)
			cpu "$TMP/$i-$j-jsonl" "${BINS[$i]}" -r "$FILE" --format jsonl "${jflag[@]}"
			cpu "$TMP/$i-$j-none" "${BINS[$i]}" -r "$FILE" --format jsonl --decode none "${jflag[@]}"
		done
	done
done
printf '%-40s %-8s %10s %10s %9s\n' binary j jsonl_cpu none_cpu overhead
for i in "${!BINS[@]}"; do
	for j in 0 1; do
		a=$(median "$TMP/$i-$j-jsonl")
		n=$(median "$TMP/$i-$j-none")
		jn=default
		[ $j = 1 ] && jn=1
		printf '%-40s %-8s %10s %10s %8.1f%%\n' "${BINS[$i]}" "$jn" "$a" "$n" "$(awk -v a="$a" -v n="$n" 'BEGIN {print 100 * (a - n) / n}')"
	done
	if [ -n "${PROFILE:-}" ]; then
		mkdir -p "$PROFILE"
		WSDUMP_CPUPROFILE="$PROFILE/$i-jsonl.prof" "${BINS[$i]}" -r "$FILE" --format jsonl -j 1 >/dev/null
		WSDUMP_CPUPROFILE="$PROFILE/$i-none.prof" "${BINS[$i]}" -r "$FILE" --format jsonl -j 1 --decode none >/dev/null
	fi
done
