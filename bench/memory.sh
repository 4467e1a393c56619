#!/usr/bin/env bash
# Peak RSS of wsdump on the memory cases of issue 16, on generated inputs
# (bench/memgen; written to bench/data/, never committed):
#   - 100 000 open connections, each with a handshake, a 64 B frame and an
#     unfinished 1000 B fragment (185 MB pcap), with the default -j and -j 1,
#     at the default --max-connections and at 200000 (no eviction);
#   - the same 100 000 connections idle: no message open at the end (78 MB);
#   - the same 100 000 connections whose last frame's header claims 1 MiB
#     (its payload still coming at the end);
#   - 20 000 connections open after a permessage-deflate message each way
#     that inflates to 32 KiB (memgen -zconns; 22 MB): each direction's
#     window waits for the next message (ZCONNS=0 skips them);
#   - 400 connections each in the middle of a 1.5 MB message (memgen
#     -conns 400 -frag 1500000; 629 MB): over 64 KiB, spilled in chunks
#     (BIGS=0 skips them);
#   - the 100 000 open connections written as Parquet datasets (--format
#     parquet -o DIR, into a temporary directory removed after), and through
#     every other view: csv, --messages, -T fields, -Y (one reading conn.*,
#     two passes), lint, follow, report, export, diff of the capture with
#     itself (VIEWS=0 skips these);
#   - a 1 000 000-line key log (176 MB) with a wss capture;
#   - one capture per buffering limit, whose connections all hit it at
#     once (memgen -bound): --max-pending, --max-pending-total (600
#     clients of 1 000 000 bytes, a 629 MB pcap), --max-sniff,
#     --max-sniff-total (640 connections, 538 MB), --max-http-header
#     (heads: not bounded in all), HTTP/2 DATA held under --max-pending
#     and --max-pending-total (640 connections, 644 MB), --max-reorder,
#     --max-reorder-total (BOUNDS=0 skips them);
#   - a flood of 1 000 000 bare SYNs from distinct sources (40 MB), at the
#     default --max-connections (100000) and at 1000: eviction bounds the
#     table (SYNS=0 skips it);
#   - a permessage-deflate bomb of 1 GiB (1.3 MB compressed), inflated to
#     its end with the default --max-inflate-ratio and stopped at 200
#     (BOMB=0 skips it).
#
#   bash bench/memory.sh                     # all of it
#   CONNS=20000 bash bench/memory.sh         # a smaller capture
#   CONNS=0 KEYLINES=0 BOUNDS=0 bash bench/memory.sh   # the SYN flood and the bomb only
#   WSDUMP=/tmp/wsdump-old bash bench/memory.sh   # another binary
#
# Needs /usr/bin/time (apt-get install -y time). Prints one line per run:
# peak RSS (MiB, from time's "Maximum resident set size"), wall seconds,
# exit status and wsdump's stderr, first line.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-100000}
ZCONNS=${ZCONNS:-20000}
KEYLINES=${KEYLINES:-1000000}
OUT=${OUT:-bench/data}
mkdir -p "$OUT"
if [ -z "${WSDUMP:-}" ]; then
	WSDUMP=$OUT/wsdump
	go build -o "$WSDUMP" ./cmd/wsdump
fi
pcap=$OUT/open-$CONNS.pcap
idle=$OUT/idle-$CONNS.pcap
if [ "$CONNS" != 0 ]; then
	[ -s "$pcap" ] || go run ./bench/memgen -conns "$CONNS" -o "$pcap"
	[ -s "$idle" ] || go run ./bench/memgen -conns "$CONNS" -frag 0 -o "$idle"
	claim=$OUT/claim-$CONNS.pcap
	[ -s "$claim" ] || go run ./bench/memgen -conns "$CONNS" -claim 1048576 -o "$claim"
fi
wss=testdata/pcaps/gen__wss-go-tls12-aes128gcm
keys=$OUT/keys-$KEYLINES.txt
if [ "$KEYLINES" != 0 ]; then
	[ -s "$keys" ] || go run ./bench/memgen -keylog "$KEYLINES" -append "$wss.keys" -o "$keys"
fi
SYNS=${SYNS:-1000000}
if [ "$SYNS" != 0 ]; then
	syns=$OUT/syns-$SYNS.pcap
	[ -s "$syns" ] || go run ./bench/memgen -syns "$SYNS" -o "$syns"
fi
BOMB=${BOMB:-1024}
if [ "$BOMB" != 0 ]; then
	bomb=$OUT/bomb-$BOMB.pcap
	[ -s "$bomb" ] || go run ./bench/memgen -bomb "$BOMB" -o "$bomb"
fi
BOUNDS=${BOUNDS:-pending pending-total sniff sniff-total heads h2-pending h2-pending-total reorder reorder-total}
[ "$BOUNDS" = 0 ] && BOUNDS=
for b in $BOUNDS; do
	[ -s "$OUT/bound-$b.pcap" ] || go run ./bench/memgen -bound "$b" -o "$OUT/bound-$b.pcap"
done

run() {
	local name=$1
	shift
	local err
	err=$(mktemp)
	local code=0
	/usr/bin/time -f '%M %e' -o "$err.time" "$WSDUMP" "$@" >/dev/null 2>"$err" || code=$?
	read -r kib secs < <(tail -1 "$err.time")
	printf '%-40s %6d MiB %7.2f s  exit %d  %s\n' "$name" $((kib / 1024)) "$secs" "$code" "$(head -1 "$err")"
	rm -f "$err" "$err.time"
}

echo "# $("$WSDUMP" --version 2>/dev/null || echo wsdump) $(git rev-parse --short HEAD) $(date -u +%FT%TZ) $(nproc) cores"
for fmt in jsonl table; do
	[ "$CONNS" != 0 ] || break
	run "open-$CONNS $fmt" -r "$pcap" --format "$fmt"
	run "open-$CONNS $fmt -j 1" -r "$pcap" --format "$fmt" -j 1
	run "open-$CONNS $fmt max-conn 200000" -r "$pcap" --format "$fmt" --max-connections 200000
	run "open-$CONNS $fmt -j 1 max-conn 200000" -r "$pcap" --format "$fmt" -j 1 --max-connections 200000
done
# 400 connections each in the middle of a 1.5 MB message (its first
# fragment ended, FIN not seen; 629 MB): messages over 64 KiB at rest are
# spilled in chunks (BIGS=0 skips them).
BIGS=${BIGS:-400}
if [ "$BIGS" != 0 ]; then
	big=$OUT/big-$BIGS.pcap
	[ -s "$big" ] || go run ./bench/memgen -conns "$BIGS" -frag 1500000 -o "$big"
	run "big-$BIGS jsonl" -r "$big" --format jsonl
	run "big-$BIGS jsonl -j 1" -r "$big" --format jsonl -j 1
fi
if [ "$ZCONNS" != 0 ]; then
	zpcap=$OUT/zopen-$ZCONNS.pcap
	[ -s "$zpcap" ] || go run ./bench/memgen -zconns "$ZCONNS" -o "$zpcap"
	run "zopen-$ZCONNS jsonl" -r "$zpcap" --format jsonl
	run "zopen-$ZCONNS jsonl -j 1" -r "$zpcap" --format jsonl -j 1
fi
if [ "$CONNS" != 0 ]; then
	run "claim-$CONNS jsonl" -r "$claim" --format jsonl
	run "claim-$CONNS jsonl -j 1" -r "$claim" --format jsonl -j 1
	run "idle-$CONNS jsonl" -r "$idle" --format jsonl
	run "idle-$CONNS jsonl -j 1" -r "$idle" --format jsonl -j 1
	run "idle-$CONNS table" -r "$idle" --format table
	run "idle-$CONNS table -j 1" -r "$idle" --format table -j 1
	run "idle-$CONNS conns" conns -r "$idle" --format jsonl
	run "idle-$CONNS conns -j 1" conns -r "$idle" --format jsonl -j 1
	run "open-$CONNS conns" conns -r "$pcap" --format jsonl
	run "open-$CONNS conns -j 1" conns -r "$pcap" --format jsonl -j 1
	run "open-$CONNS conns table" conns -r "$pcap"
	run "open-$CONNS conns table -j 1" conns -r "$pcap" -j 1
	for j in "" "-j 1"; do
		pq=$(mktemp -d)
		run "open-$CONNS parquet${j:+ $j}" -r "$pcap" --format parquet -o "$pq/out" $j
		rm -rf "$pq"
	done
fi
if [ "$CONNS" != 0 ] && [ "${VIEWS:-1}" != 0 ]; then
	# Every other view on the same open connections (VIEWS=0 skips them).
	tmp=$(mktemp -d)
	for j in "" "-j 1"; do
		# shellcheck disable=SC2086 # $j is empty or two words
		{
			run "open-$CONNS csv${j:+ $j}" -r "$pcap" --format csv $j
			run "open-$CONNS messages${j:+ $j}" -r "$pcap" --messages $j
			run "open-$CONNS -T fields${j:+ $j}" -r "$pcap" -T fields -e opcode -e len $j
			run "open-$CONNS -T fields host${j:+ $j}" -r "$pcap" -T fields -e host -e opcode $j
			run "open-$CONNS -Y opcode${j:+ $j}" -r "$pcap" --format jsonl -Y 'opcode == 1' $j
			run "open-$CONNS -Y conn.*${j:+ $j}" -r "$pcap" --format jsonl -Y 'conn.heartbeat.missed > 0' $j
			run "open-$CONNS -Y host${j:+ $j}" -r "$pcap" -Y 'host != "x"' $j
			run "open-$CONNS lint${j:+ $j}" lint -r "$pcap" $j
			run "open-$CONNS follow${j:+ $j}" follow -r "$pcap" $j
			run "open-$CONNS report${j:+ $j}" report -r "$pcap" -o "$tmp/r.html" $j
			rm -rf "$tmp/export"
			run "open-$CONNS export${j:+ $j}" export -r "$pcap" -o "$tmp/export" $j
			run "open-$CONNS diff (A and B)${j:+ $j}" diff "$pcap" "$pcap" $j
		}
	done
	rm -rf "$tmp"
fi
if [ "$KEYLINES" != 0 ]; then
	run "keylog-$KEYLINES" -r "$wss.pcap" --keylog "$keys" --format jsonl
	run "keylog-$KEYLINES -j 1" -r "$wss.pcap" --keylog "$keys" --format jsonl -j 1
fi
for b in $BOUNDS; do
	run "bound-$b" -r "$OUT/bound-$b.pcap" --format jsonl
	run "bound-$b -j 1" -r "$OUT/bound-$b.pcap" --format jsonl -j 1
done
if [ "$SYNS" != 0 ]; then
	run "syns-$SYNS" -r "$syns"
	run "syns-$SYNS max-conn 1000" -r "$syns" --max-connections 1000
fi
if [ "$BOMB" != 0 ]; then
	run "bomb-${BOMB}MiB jsonl" -r "$bomb" --format jsonl
	run "bomb-${BOMB}MiB jsonl ratio 200" -r "$bomb" --format jsonl --max-inflate-ratio 200
	run "bomb-${BOMB}MiB messages ratio 200" -r "$bomb" --messages --max-message 1048576 --max-inflate-ratio 200
fi
