#!/usr/bin/env bash
# Records the benchmark capture: real node `ws` traffic on loopback, seeded.
#
#   sudo bash bench/gen.sh                 # bench/data/ws-bench-100mb.pcap
#   sudo SIZE_MB=1000 bash bench/gen.sh    # about 1 GB
#   sudo MTU=1500 bash bench/gen.sh        # Ethernet-sized segments (private netns)
#   sudo SHAPE=json bash bench/gen.sh      # large messages are valid JSON objects
#
# Environment: SIZE_MB (default 100, approximate capture size), CONNS (600),
# SEED (1), PORT (48000; v4 and v6 servers share it), CONCURRENCY (48 open
# connections at most), MTU (unset: the host's lo, 64 KiB segments; set: run
# everything in a private network namespace whose lo has that MTU), SHAPE
# (mixed: medium and large text messages are cut slices of JSON text; json:
# they are valid JSON objects of four shapes, for application decoding).
#
# Writes bench/data/NAME.pcap, NAME.messages.tsv (every data message sent:
# conn dir n opcode len sha256, uncompressed payload) and NAME.info (the
# workload's make-up, capinfos and tcpdump's counters, kernel drops included).
# The workload is described in testdata/gen/ws-bench.js.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GEN=$(cd "$BENCH/../testdata/gen" && pwd)
SELF="$BENCH/gen.sh"
SIZE_MB=${SIZE_MB:-100}
CONNS=${CONNS:-600}
SEED=${SEED:-1}
PORT=${PORT:-48000}
CONCURRENCY=${CONCURRENCY:-48}
MTU=${MTU:-}
SHAPE=${SHAPE:-mixed}
case $SHAPE in mixed) shape_name= ;; json) shape_name=json- ;; *) echo "gen.sh: SHAPE is mixed or json" >&2; exit 2 ;; esac
NAME=${NAME:-ws-bench-${shape_name}${SIZE_MB}mb${MTU:+-mtu$MTU}}
DATA="$BENCH/data"
PCAP="$DATA/$NAME.pcap"

log() { printf '[gen] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

WORKLOAD=(--port "$PORT" --size-mb "$SIZE_MB" --conns "$CONNS" --seed "$SEED" --shape "$SHAPE")

# record: tcpdump on lo around one server and one client process.
record() {
	local tmp
	tmp=$(mktemp -d)
	rm -f "$PCAP"
	# -B in KiB: 512 MiB of ring, so bursts do not overflow while tcpdump
	# writes; no --immediate-mode (it causes drops).
	tcpdump -i lo -B 524288 -s 0 -Z root -w "$PCAP" "tcp port $PORT" 2>"$tmp/tcpdump" &
	local tpid=$!
	local i
	for i in $(seq 100); do
		grep -qs 'listening on' "$tmp/tcpdump" && break
		kill -0 "$tpid" 2>/dev/null || { cat "$tmp/tcpdump" >&2; die "tcpdump exited"; }
		sleep 0.1
	done
	grep -q 'listening on' "$tmp/tcpdump" || { kill -INT "$tpid"; die "tcpdump not ready"; }

	node "$GEN/ws-bench.js" --role server "${WORKLOAD[@]}" --manifest "$tmp/s2c.tsv" >"$tmp/server.out" 2>"$tmp/server.err" &
	local spid=$!
	for i in $(seq 100); do
		grep -qs ready "$tmp/server.out" && break
		kill -0 "$spid" 2>/dev/null || { cat "$tmp/server.err" >&2; kill -INT "$tpid"; die "server exited"; }
		sleep 0.1
	done
	local t0 rc=0
	t0=$(date +%s.%N)
	node "$GEN/ws-bench.js" --role client "${WORKLOAD[@]}" --concurrency "$CONCURRENCY" \
		--manifest "$tmp/c2s.tsv" 2>"$tmp/client.err" || rc=$?
	local secs
	secs=$(echo "$(date +%s.%N) - $t0" | bc)
	kill -TERM "$spid"
	wait "$spid" || true
	sleep 2 # the capture ring hands over its tail only after ~1 s
	kill -INT "$tpid"
	wait "$tpid" || true
	cat "$tmp/client.err" "$tmp/server.err" >&2
	[ "$rc" = 0 ] || die "client failed ($rc)"
	{
		printf 'conn\tdir\tn\topcode\tlen\tsha256\n'
		cat "$tmp/c2s.tsv" "$tmp/s2c.tsv" | sort -t $'\t' -k1,1n -k2,2 -k3,3n
	} >"$DATA/$NAME.messages.tsv"
	{
		echo "traffic_seconds $secs"
		grep -E 'packets (captured|received by filter|dropped by kernel)' "$tmp/tcpdump" | sed 's/^/tcpdump /'
	} >"$tmp/counters"
	cp "$tmp/counters" "$DATA/$NAME.counters"
	rm -rf "$tmp"
}

# Internal entry point: inside `unshare --net`, where lo is private.
if [ "${1:-}" = __netns ]; then
	ip link set lo up mtu "$MTU"
	ip link set dev lo gso_max_size "$MTU"
	ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || true
	record
	exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root (tcpdump and unshare need it)"
for t in tcpdump capinfos node npm bc; do
	command -v "$t" >/dev/null || die "missing $t"
done
mkdir -p "$DATA"
[ -d "$GEN/node_modules/ws" ] || (cd "$GEN" && npm ci --no-audit --no-fund --loglevel=error)
if [ -z "$MTU" ]; then
	for p in "$PORT"; do
		ss -Hltn "( sport = :$p )" | grep -q . && die "port $p is busy"
	done
fi

log "recording $PCAP: ${SIZE_MB} MB target, $CONNS connections, seed $SEED${MTU:+, lo mtu $MTU in a private netns}"
if [ -n "$MTU" ]; then
	MTU=$MTU unshare --net bash "$SELF" __netns
else
	record
fi

# NAME.info: the workload, the file, the recorder's counters.
{
	echo "name $NAME"
	echo "recorded $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -r), tcpdump $(tcpdump --version 2>&1 | head -1 | awk '{print $3}'), node $(node --version), ws $(node -p "require('$GEN/node_modules/ws/package.json').version")"
	echo "params SIZE_MB=$SIZE_MB CONNS=$CONNS SEED=$SEED PORT=$PORT CONCURRENCY=$CONCURRENCY MTU=${MTU:-host} SHAPE=$SHAPE"
	echo "workload $(node "$GEN/ws-bench.js" --role plan "${WORKLOAD[@]}")"
	cat "$DATA/$NAME.counters"
	capinfos -M -c -s -d -u -y -x -E "$PCAP" | sed 1d
} >"$DATA/$NAME.info"
rm -f "$DATA/$NAME.counters"
cat "$DATA/$NAME.info" >&2
if grep -Eq 'dropped by kernel' "$DATA/$NAME.info" && ! grep -Eq '^tcpdump 0 packets dropped by kernel' "$DATA/$NAME.info"; then
	log "WARNING: kernel drops: the capture has holes (wsdump will report gaps)"
fi
