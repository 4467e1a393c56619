#!/usr/bin/env bash
# Many inputs (issue 20): a big capture cut into FILES rotated pieces
# (editcap -F pcap -c, as tcpdump -C cuts), read merged (-r DIR: one capture, the
# connections whole across the cuts) and --per-file (each piece alone, one
# piece per -j worker), next to the whole file, timed with /usr/bin/time.
#
#   bash bench/rotate.sh bench/data/ws-bench-200mb.pcap
#   FILES=100 REPEAT=1 bash bench/rotate.sh FILE
#   WSDUMP=/tmp/wsdump-old bash bench/rotate.sh FILE
#
# Needs editcap (package tshark) and /usr/bin/time (package time). The
# pieces go to bench/data/rotated-<name>-<FILES>/ (git-ignored). Prints one
# line per run (the median of REPEAT by wall time): view, input, wall
# seconds, CPU seconds (user+sys), peak RSS (MiB), MB/s of the input by wall
# time, and a check that the merged output equals the whole file's
# (jsonl: byte for byte; -j 1 and -j 0 give the same output).
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${1:?usage: bench/rotate.sh CAPTURE}
FILES=${FILES:-20}
REPEAT=${REPEAT:-3}
OUT=${OUT:-bench/data}
if [ -z "${WSDUMP:-}" ]; then
	WSDUMP=$OUT/wsdump-rotate
	go build -o "$WSDUMP" ./cmd/wsdump
fi
name=$(basename "$FILE" .pcap)
dir=$OUT/rotated-$name-$FILES
if [ ! -d "$dir" ]; then
	packets=$(capinfos -c -M "$FILE" | awk '/Number of packets/ {print $NF}')
	mkdir -p "$dir"
	editcap -F pcap -c $(((packets + FILES - 1) / FILES)) "$FILE" "$dir/$name.pcap"
fi
bytes=$(stat -c %s "$FILE")
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $FILE: $((bytes / 1000000)) MB, $(ls "$dir" | wc -l) pieces in $dir"
printf '%-28s %-10s %8s %8s %8s %8s\n' view input wall_s cpu_s rss_MiB MB/s

# run LABEL INPUT ARGS...: REPEAT runs, the median by wall time.
run() {
	local label=$1 input=$2
	shift 2
	local i t
	t=$(mktemp)
	for i in $(seq "$REPEAT"); do
		/usr/bin/time -f '%e %U %S %M' -o "$t.$i" "$WSDUMP" "$@" >/dev/null 2>"$t.err" || {
			echo "$label: exit $?: $(head -1 "$t.err")" >&2
		}
	done
	cat "$t".[0-9]* | sort -n | sed -n "$(((REPEAT + 1) / 2))p" | awk -v l="$label" -v inp="$input" -v b="$bytes" \
		'{printf "%-28s %-10s %8.2f %8.2f %8.0f %8.0f\n", l, inp, $1, $2 + $3, $4 / 1024, b / 1e6 / $1}'
	rm -f "$t" "$t".*
}

for view in "jsonl:--format jsonl" "conns:conns"; do
	label=${view%%:*}
	args=${view#*:}
	# shellcheck disable=SC2086
	{
		run "$label -j 0" whole $args -r "$FILE"
		run "$label -j 0" merged $args -r "$dir"
		run "$label --per-file -j 0" per-file $args --per-file -r "$dir"
		run "$label -j 1" whole $args -j 1 -r "$FILE"
		run "$label -j 1" merged $args -j 1 -r "$dir"
		run "$label --per-file -j 1" per-file $args --per-file -j 1 -r "$dir"
	}
done

# The merged pieces give the whole file's output.
a=$(mktemp) b=$(mktemp)
"$WSDUMP" --format jsonl -r "$FILE" >"$a" 2>/dev/null || true
"$WSDUMP" --format jsonl -r "$dir" >"$b" 2>/dev/null || true
if cmp -s "$a" "$b"; then
	echo "# merged jsonl == whole jsonl ($(wc -l <"$a") lines)"
else
	echo "# merged jsonl DIFFERS from whole jsonl: $(cmp "$a" "$b" | head -1)"
fi
rm -f "$a" "$b"
