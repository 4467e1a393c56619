#!/usr/bin/env bash
# Times wsdump against tcpdump and tshark on one or more captures, in the
# same run, and checks issue 17's goals on each.
#
#   bash bench/run.sh bench/data/ws-bench-100mb.pcap
#   REPEAT=5 TSHARK_JSON=0 bash bench/run.sh LOAD.pcap JSON.pcap   # both capture kinds
#
# Rows: tcpdump, tshark (fields, json), wsdump's jsonl (with and without
# application decoding), table, messages, CSV and conns (summary) views on
# all cores, and the same with -j 1.
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
#
# After each capture's table, "goals" compares the medians with issue 17's
# goals: jsonl >= 15 and the table >= 20 times tshark -T fields, conns at
# least tcpdump's speed, application decoding <= 30% over --decode none
# (CPU), -j N >= 1.8 times -j 1 (wall), and peak RSS <= 100 MB for every row.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: bench/run.sh FILE..." >&2; exit 2; }
REPEAT=${REPEAT:-3}
TSHARK_JSON=${TSHARK_JSON:-1}
for FILE in "$@"; do
	[ -r "$FILE" ] || { echo "run.sh: cannot read $FILE" >&2; exit 1; }
done
for t in tcpdump tshark capinfos /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "run.sh: missing $t (apt-get install tcpdump tshark time)" >&2; exit 1; }
done
if [ -z "${WSDUMP:-}" ]; then
	WSDUMP="$BENCH/data/wsdump"
	mkdir -p "$BENCH/data"
	(cd "$BENCH/.." && go build -o "$WSDUMP" ./cmd/wsdump)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

declare -A ALLRSS # row name -> its peak RSS (KiB) on each capture, in order

# one times every row on one capture and prints its table and goals.
one() {
	local FILE=$1
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
		"wsdump-jsonl-none|'$WSDUMP' -r '$FILE' --format jsonl --decode none"
		"wsdump-jsonl-none-j1|'$WSDUMP' -r '$FILE' --format jsonl --decode none -j 1"
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
		ALLRSS[$name]+="${RSS[$name]} "
		printf '  %-21s %s s\n' "$name" "$(paste -sd' ' "$tmp/secs" | xargs printf '%.3f ')" >&2
	done
	echo >&2
	echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	echo

	printf '%-21s %8s %8s %9s %9s %11s %9s %8s %8s %8s %8s\n' tool "wall s" "CPU s" "MB/s" "MB/s cpu" "packets/s" "RSS MB" "xTf" "xTf cpu" "xTj" "xTj cpu"
	for name in "${names[@]}"; do
		awk -v n="$name" -v s="${SECS[$name]}" -v c="${CPU[$name]}" -v b="$bytes" -v p="$packets" -v r="${RSS[$name]}" \
			-v tf="${SECS[tshark-fields]:-}" -v tfc="${CPU[tshark-fields]:-}" \
			-v tj="${SECS[tshark-json]:-}" -v tjc="${CPU[tshark-json]:-}" '
		function ratio(t, u) { return t == "" ? "-" : sprintf("%.2f", t / u) }
		BEGIN{
			printf "%-21s %8.3f %8.2f %9.1f %9.1f %11.0f %9.1f %8s %8s %8s %8s\n", n, s, c, b/1e6/s, b/1e6/c, p/s, r/1024,
				ratio(tf, s), ratio(tfc, c), ratio(tj, s), ratio(tjc, c)
		}'
	done
	cat <<'EOF'

MB/s, packets/s: per wall-clock second (median run); "cpu" columns use user+sys
CPU seconds instead, which hold up better when other work shares the machine.
RSS MB: peak resident set. xTf / xTj: throughput relative to tshark -T fields /
tshark -T json (tshark's time over the tool's time; higher is faster).
EOF
	goals
}

# goals prints issue 17's goals against this capture's medians (SECS, CPU,
# RSS of the rows run): "met", "NOT met", or "-" when a row is missing.
goals() {
	echo
	echo "goals (issue 17), $FILE:"
	awk -v names="${names[*]}" -v secs="$(for n in "${names[@]}"; do printf '%s ' "${SECS[$n]}"; done)" \
		-v cpus="$(for n in "${names[@]}"; do printf '%s ' "${CPU[$n]}"; done)" \
		-v rsss="$(for n in "${names[@]}"; do printf '%s ' "${RSS[$n]}"; done)" '
	function have(n) { return n in S }
	function line(what, v, want, ok) { printf "  %-52s %8s  want %-7s %s\n", what, v, want, ok ? "met" : "NOT met" }
	function ratio(what, a, b, want) {
		if (!have(a) || !have(b)) { printf "  %-52s %8s\n", what, "-"; return }
		line(what, sprintf("%.2f", S[a] / S[b]), ">= " want, S[a] / S[b] >= want)
	}
	function over(what, a, b) {
		if (!have(a) || !have(b)) { printf "  %-52s %8s\n", what, "-"; return }
		v = (C[a] - C[b]) / C[b] * 100
		line(what, sprintf("%+.0f%%", v), "<= 30%", v <= 30)
	}
	BEGIN {
		n = split(names, N, " "); split(secs, W, " "); split(cpus, X, " "); split(rsss, R, " ")
		for (i = 1; i <= n; i++) { S[N[i]] = W[i]; C[N[i]] = X[i]; M[N[i]] = R[i] / 1024 }
		ratio("jsonl, x tshark -T fields (wall)", "tshark-fields", "wsdump-jsonl", 15)
		ratio("table, x tshark -T fields (wall)", "tshark-fields", "wsdump-table", 20)
		ratio("conns, x tcpdump -r F -w /dev/null (wall)", "tcpdump", "wsdump-conns", 1)
		over("application decoding, jsonl over --decode none (CPU)", "wsdump-jsonl", "wsdump-jsonl-none")
		over("the same, -j 1 (CPU)", "wsdump-jsonl-j1", "wsdump-jsonl-none-j1")
		ratio("jsonl -j N over -j 1 (wall)", "wsdump-jsonl-j1", "wsdump-jsonl", 1.8)
		ratio("table -j N over -j 1 (wall)", "wsdump-table-j1", "wsdump-table", 1.8)
		ratio("csv -j N over -j 1 (wall)", "wsdump-csv-j1", "wsdump-csv", 1.8)
		ratio("conns -j N over -j 1 (wall)", "wsdump-conns-j1", "wsdump-conns", 1.8)
		worst = ""; top = 0
		for (i = 1; i <= n; i++) if (N[i] ~ /^wsdump/ && M[N[i]] > top) { top = M[N[i]]; worst = N[i] }
		if (worst != "") line("peak RSS, highest wsdump row (" worst ", MB)", sprintf("%.1f", top), "<= 100", top <= 100)
	}'
}

for FILE in "$@"; do
	one "$FILE"
	[ "$FILE" = "${@: -1}" ] || echo
done

# With several captures (small and large), peak RSS by row across them: the
# goal is <= 100 MB and flat (the spread is the largest less the smallest, and
# as a share of the smallest).
if [ $# -gt 1 ]; then
	echo
	echo "peak RSS MB by capture ($(for f in "$@"; do printf '%s ' "$(basename "$f")"; done)):"
	for name in "${!ALLRSS[@]}"; do
		[[ $name == wsdump* ]] || continue
		echo "$name ${ALLRSS[$name]}"
	done | sort | awk '{
		lo = hi = $2
		line = ""
		for (i = 2; i <= NF; i++) { v = $i / 1024; line = line sprintf(" %7.1f", v); if ($i < lo) lo = $i; if ($i > hi) hi = $i }
		printf "  %-21s%s   spread %5.1f (+%2.0f%%)  %s\n", $1, line, (hi - lo) / 1024, (hi - lo) / lo * 100, hi / 1024 <= 100 ? "" : "OVER 100"
	}'
fi
