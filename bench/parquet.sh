#!/usr/bin/env bash
# Parquet against jsonl on one capture, in the same run: wall time (median
# of REPEAT runs, alternated), MB/s of capture, peak RSS (max), user and
# system CPU (medians),
# and the output's size.
#
#   bash bench/parquet.sh bench/data/ws-bench-200mb.pcap
#
# jsonl is written to a file in OUT (the same file system as the
# datasets) and to /dev/null; the datasets are written to a fresh
# directory each run.
set -euo pipefail
FILE=${1:?usage: bench/parquet.sh FILE}
REPEAT=${REPEAT:-3}
OUT=${OUT:-$(mktemp -d)}
WSDUMP=${WSDUMP:-}
if [ -z "$WSDUMP" ]; then
	WSDUMP=$OUT/wsdump
	CGO_ENABLED=0 go build -o "$WSDUMP" ./cmd/wsdump
fi
size=$(stat -c %s "$FILE")
declare -A wall user sys rss bytes
run() { # name, command...
	local name=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$OUT/time" "$@" 2>/dev/null
	read -r w u s m <"$OUT/time"
	wall[$name]+="$w "
	user[$name]+="$u "
	sys[$name]+="$s "
	[ "${rss[$name]:-0}" -lt "$m" ] && rss[$name]=$m
	return 0
}
for _ in $(seq "$REPEAT"); do
	run jsonl-devnull sh -c "'$WSDUMP' -r '$FILE' --format jsonl >/dev/null"
	run jsonl-file sh -c "'$WSDUMP' -r '$FILE' --format jsonl >'$OUT/out.jsonl' && sync '$OUT/out.jsonl'"
	bytes[jsonl-file]=$(stat -c %s "$OUT/out.jsonl")
	rm -rf "$OUT/ds" "$OUT/out.jsonl"
	run parquet sh -c "'$WSDUMP' -r '$FILE' --format parquet -o '$OUT/ds' && sync -f '$OUT/ds'"
	bytes[parquet]=$(du -sb "$OUT/ds" | cut -f1)
	rm -rf "$OUT/ds"
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%s: %d bytes, %d runs each, %s cores (nproc), load %s\n' "$FILE" "$size" "$REPEAT" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-14s %8s %8s %8s %8s %10s %12s\n' output wall_s MB/s user_s sys_s peak_RSS_MB out_MB
for name in jsonl-devnull jsonl-file parquet; do
	w=$(echo "${wall[$name]}" | median)
	u=$(echo "${user[$name]}" | median)
	s=$(echo "${sys[$name]}" | median)
	printf '%-14s %8s %8.0f %8s %8s %10.0f %12s\n' "$name" "$w" "$(echo "$size / 1000000 / $w" | bc -l)" "$u" "$s" \
		"$(echo "${rss[$name]} / 1024" | bc -l)" "$( [ -n "${bytes[$name]:-}" ] && echo $(( ${bytes[$name]} / 1000000 )) || echo -)"
done
