#!/usr/bin/env bash
# Times wsdump against tcpdump and tshark on one capture, in the same run.
#
#   bash bench/run.sh bench/data/ws-bench-100mb.pcap
#
# Rows: tcpdump, tshark (fields, json), wsdump's jsonl, table, messages and
# conns (summary) views on all cores, and jsonl, table and conns with -j 1.
#
# Environment: REPEAT (3; the median is reported), WSDUMP (a wsdump binary;
# default: built from this checkout into bench/data/wsdump), TSHARK_JSON
# (1; 0 skips the slow `tshark -T json` run), TOOLS (a space-separated subset
# of the row names below).
#
# Every command reads FILE from the page cache (warmed first) and writes to
# /dev/null. Wall time is taken around each command; peak RSS comes from
# /usr/bin/time -v, with the CPU time (user + sys, less sensitive than wall
# time to other load on the machine). Ratios are throughput ratios: tshark's time over the
# tool's time (higher is faster than tshark).
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FILE=${1:?usage: bench/run.sh FILE}
REPEAT=${REPEAT:-3}
TSHARK_JSON=${TSHARK_JSON:-1}
[ -r "$FILE" ] || { echo "run.sh: cannot read $FILE" >&2; exit 1; }
for t in tcpdump tshark capinfos /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "run.sh: missing $t (apt-get install tcpdump tshark time)" >&2; exit 1; }
done
if [ -z "${WSDUMP:-}" ]; then
	WSDUMP="$BENCH/data/wsdump"
	mkdir -p "$BENCH/data"
	(cd "$BENCH/.." && go build -o "$WSDUMP" ./cmd/wsdump)
fi

# tshark follows out-of-order segments and deep frame trees only when told
# (loopback captures have both; see /work/shared/corpus/INDEX.md).
TSHARK=(tshark -o tcp.reassemble_out_of_order:TRUE -o gui.max_tree_depth:10000 -r "$FILE" -Y websocket)

# name|command (run by bash; stdout goes to /dev/null)
ROWS=(
	"tcpdump|tcpdump -r '$FILE' -w /dev/null"
	"tshark-fields|${TSHARK[*]} -T fields -e websocket.opcode"
)
[ "$TSHARK_JSON" = 1 ] && ROWS+=("tshark-json|${TSHARK[*]} -T json")
# wsdump runs on every core by default (-j N, N = cores); the -j1 rows run
# one decoding worker (the output is the same).
ROWS+=(
	"wsdump-jsonl|'$WSDUMP' -r '$FILE' --format jsonl"
	"wsdump-jsonl-j1|'$WSDUMP' -r '$FILE' --format jsonl -j 1"
	"wsdump-table|'$WSDUMP' -r '$FILE'"
	"wsdump-table-j1|'$WSDUMP' -r '$FILE' -j 1"
	"wsdump-messages|'$WSDUMP' -r '$FILE' --messages"
	"wsdump-csv|'$WSDUMP' -r '$FILE' --format csv"
	"wsdump-csv-j1|'$WSDUMP' -r '$FILE' --format csv -j 1"
	"wsdump-conns|'$WSDUMP' conns -r '$FILE'"
	"wsdump-conns-j1|'$WSDUMP' conns -r '$FILE' -j 1"
)

bytes=$(stat -L -c %s "$FILE")
packets=$(capinfos -M -c "$FILE" | awk -F': *' '/Number of packets/{print $2}')

echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:  $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r)"
echo "versions: $("$WSDUMP" --version 2>&1 | head -1); $(go version 2>/dev/null | awk '{print $3}'); tcpdump $(tcpdump --version 2>&1 | awk 'NR==1{print $3}'); $(tshark --version 2>/dev/null | head -1)"
echo "file:     $FILE, $bytes bytes, $packets packets; median of $REPEAT runs"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) at the start (other work on the machine skews wall times)"
echo

cat "$FILE" >/dev/null # page cache

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

declare -A SECS RSS CPU
names=()
for row in "${ROWS[@]}"; do
	name=${row%%|*} cmd=${row#*|}
	if [ -n "${TOOLS:-}" ] && [[ " $TOOLS " != *" $name "* ]]; then continue; fi
	names+=("$name")
	: >"$tmp/secs"
	: >"$tmp/rss"
	: >"$tmp/cpu"
	for i in $(seq "$REPEAT"); do
		t0=$(date +%s%N)
		if ! /usr/bin/time -v -o "$tmp/time" bash -c "exec $cmd" >/dev/null 2>"$tmp/err"; then
			echo "run.sh: $name failed:" >&2
			tail -5 "$tmp/err" >&2
			exit 1
		fi
		t1=$(date +%s%N)
		echo "($t1 - $t0) / 1000000000" | bc -l >>"$tmp/secs"
		awk -F': ' '/Maximum resident set size/{print $2}' "$tmp/time" >>"$tmp/rss"
		awk -F': ' '/(User|System) time \(seconds\)/{s+=$2} END{print s}' "$tmp/time" >>"$tmp/cpu"
	done
	SECS[$name]=$(median <"$tmp/secs")
	RSS[$name]=$(median <"$tmp/rss")
	CPU[$name]=$(median <"$tmp/cpu")
	printf '  %-16s %s s\n' "$name" "$(paste -sd' ' "$tmp/secs" | xargs printf '%.3f ')" >&2
done
echo >&2
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo

printf '%-16s %8s %8s %9s %9s %11s %9s %8s %8s %8s %8s\n' tool "wall s" "CPU s" "MB/s" "MB/s cpu" "packets/s" "RSS MB" "xTf" "xTf cpu" "xTj" "xTj cpu"
for name in "${names[@]}"; do
	awk -v n="$name" -v s="${SECS[$name]}" -v c="${CPU[$name]}" -v b="$bytes" -v p="$packets" -v r="${RSS[$name]}" \
		-v tf="${SECS[tshark-fields]:-}" -v tfc="${CPU[tshark-fields]:-}" \
		-v tj="${SECS[tshark-json]:-}" -v tjc="${CPU[tshark-json]:-}" '
	function ratio(t, u) { return t == "" ? "-" : sprintf("%.2f", t / u) }
	BEGIN{
		printf "%-16s %8.3f %8.2f %9.1f %9.1f %11.0f %9.1f %8s %8s %8s %8s\n", n, s, c, b/1e6/s, b/1e6/c, p/s, r/1024,
			ratio(tf, s), ratio(tfc, c), ratio(tj, s), ratio(tjc, c)
	}'
done
cat <<'EOF'

MB/s, packets/s: per wall-clock second (median run); "cpu" columns use user+sys
CPU seconds instead, which hold up better when other work shares the machine.
RSS MB: peak resident set. xTf / xTj: throughput relative to tshark -T fields /
tshark -T json (tshark's time over the tool's time; higher is faster).
EOF
