#!/usr/bin/env bash
# Re-records wsdump's real-traffic fixtures testdata/pcaps/gen__*.pcap(ng)
# and their manifests gen__*.messages.tsv.
#
#   sudo bash testdata/gen/record.sh            # all scenarios
#   sudo bash testdata/gen/record.sh gorilla    # only scenarios whose name contains "gorilla"
#
# Needs: root, tcpdump, dumpcap + capinfos + tshark (Debian package tshark),
# iproute2, unshare, node 20 + npm, go. All traffic stays on loopback
# (127.0.0.1 / ::1) or inside a private network namespace.
#
# Payloads are seeded, so the manifests are identical on every run; ports,
# masking keys, timestamps and TCP segmentation differ from run to run.
set -euo pipefail

GEN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(mkdir -p "$GEN/../pcaps" && cd "$GEN/../pcaps" && pwd)
BIN="$GEN/.bin"
SELF="$GEN/record.sh"

log() { printf '[record] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# capture TOOL IFACE FILE FILTER -- CMD...
# Starts TOOL (tcpdump|dumpcap) on IFACE, waits until it is listening, runs
# CMD, waits 2 s so the capture ring hands over the tail, then stops it.
capture() {
	local tool=$1 iface=$2 file=$3 filter=$4
	shift 5
	local err
	err=$(mktemp)
	rm -f "$file"
	case $tool in
	tcpdump) tcpdump -i "$iface" -B 16384 -s 0 -Z root -w "$file" "$filter" 2>"$err" &
		local ready='listening on' ;;
	dumpcap) dumpcap -i "$iface" -B 16 -s 0 -f "$filter" -w "$file" 2>"$err" &
		local ready='Capturing on' ;;
	*) die "unknown capture tool $tool" ;;
	esac
	local cpid=$!
	local i
	for i in $(seq 100); do
		grep -q "$ready" "$err" && break
		kill -0 "$cpid" 2>/dev/null || { cat "$err" >&2; die "$tool exited"; }
		sleep 0.1
	done
	grep -q "$ready" "$err" || { kill -INT "$cpid"; cat "$err" >&2; die "$tool not ready"; }
	local rc=0
	timeout 60 "$@" || rc=$?
	sleep 2
	kill -INT "$cpid"
	wait "$cpid" || true
	if grep -E '[1-9][0-9]* packets? dropped' "$err" >&2; then
		log "WARNING: $tool reported drops for $file"
	fi
	rm -f "$err"
	chmod 644 "$file" # dumpcap creates 0600 files
	[ "$rc" = 0 ] || die "traffic generator failed ($rc): $*"
	log "wrote $file ($(stat -c %s "$file") bytes)"
}

# free_port BASE: first TCP port >= BASE that nobody listens on (v4 or v6).
free_port() {
	local p=$1
	while ss -Htan "( sport = :$p or dport = :$p )" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

# Internal entry point: run inside `unshare --net`, where lo is private.
if [ "${1:-}" = __netns ]; then
	shift
	ip link set lo up mtu 1500
	ip link set dev lo gso_max_size 1500
	# No GSO/TSO/GRO on the private lo, so each segment is Ethernet-sized.
	ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || true
	capture "$@"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root (tcpdump/dumpcap/unshare need it)"
for t in tcpdump dumpcap capinfos node npm go ip unshare ss timeout; do
	command -v "$t" >/dev/null || die "missing $t"
done

log "installing node deps (npm ci) and building Go generators"
(cd "$GEN" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$GEN" && go build -o "$BIN/gorilla" ./gorilla && go build -o "$BIN/coder" ./coder)

NODE=(node "$GEN/ws-node.js")
only=${1:-}
want() { [ -z "$only" ] || [[ $1 == *"$only"* ]]; }

name=gen__ws-node-basic
if want $name; then
	p=$(free_port 47010)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"${NODE[@]}" --scenario basic --host 127.0.0.1 --port "$p" --manifest "$OUT/$name.messages.tsv"
fi

name=gen__ws-node-ipv6
if want $name; then
	p=$(free_port 47020)
	capture tcpdump lo "$OUT/$name.pcap" "ip6 and tcp port $p" -- \
		"${NODE[@]}" --scenario basic --host ::1 --port "$p" --manifest "$OUT/$name.messages.tsv"
fi

name=gen__ws-node-sll2
if want $name; then
	p=$(free_port 47030)
	# -i any: tcpdump 4.99 writes Linux cooked v2 (LINUX_SLL2, DLT 276)
	capture tcpdump any "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"${NODE[@]}" --scenario basic --host 127.0.0.1 --port "$p" --manifest "$OUT/$name.messages.tsv"
fi

name=gen__ws-node-dumpcap
if want $name; then
	p=$(free_port 47040)
	capture dumpcap lo "$OUT/$name.pcapng" "ip and tcp port $p" -- \
		"${NODE[@]}" --scenario basic --host 127.0.0.1 --port "$p" --manifest "$OUT/$name.messages.tsv"
fi

name=gen__ws-node-ethernet-mtu
if want $name; then
	p=47050 # private namespace: nothing else listens there
	unshare --net bash "$SELF" __netns tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"${NODE[@]}" --scenario basic --host 127.0.0.1 --port "$p" --manifest "$OUT/$name.messages.tsv"
fi

name=gen__ws-node-many-small
if want $name; then
	p=$(free_port 47060)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"${NODE[@]}" --scenario many-small --host 127.0.0.1 --port "$p" --manifest "$OUT/$name.messages.tsv"
fi

name=gen__ws-node-many-small-mtu
if want $name; then
	p=47065 # private namespace with Ethernet-sized lo: small frames straddle segments
	unshare --net bash "$SELF" __netns tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"${NODE[@]}" --scenario many-small --host 127.0.0.1 --port "$p" --manifest "$OUT/$name.messages.tsv"
fi

name=gen__gorilla
if want $name; then
	p=$(free_port 47070)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"$BIN/gorilla" -addr "127.0.0.1:$p" -manifest "$OUT/$name.messages.tsv"
fi

name=gen__coder
if want $name; then
	p=$(free_port 47080)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"$BIN/coder" -addr "127.0.0.1:$p" -manifest "$OUT/$name.messages.tsv"
fi

# permessage-deflate (RFC 7692). Manifests list the uncompressed payloads;
# verify.py inflates the captured messages itself.
name=gen__deflate-node-takeover
if want $name; then
	p=47110 # private namespace with Ethernet-sized lo: compressed frames span many segments
	unshare --net bash "$SELF" __netns tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"${NODE[@]}" --scenario deflate-takeover --host 127.0.0.1 --port "$p" --manifest "$OUT/$name.messages.tsv"
fi

name=gen__deflate-node-nocontext
if want $name; then
	p=$(free_port 47120)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"${NODE[@]}" --scenario deflate-nocontext --host 127.0.0.1 --port "$p" --manifest "$OUT/$name.messages.tsv"
fi

name=gen__deflate-node-window10
if want $name; then
	p=$(free_port 47130)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"${NODE[@]}" --scenario deflate-window10 --host 127.0.0.1 --port "$p" --manifest "$OUT/$name.messages.tsv"
fi

name=gen__deflate-coder-takeover
if want $name; then
	p=$(free_port 47140)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"$BIN/coder" -addr "127.0.0.1:$p" -compression takeover -manifest "$OUT/$name.messages.tsv"
fi

name=gen__deflate-coder-nocontext
if want $name; then
	p=$(free_port 47150)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"$BIN/coder" -addr "127.0.0.1:$p" -compression nocontext -manifest "$OUT/$name.messages.tsv"
fi

name=gen__deflate-gorilla
if want $name; then
	p=$(free_port 47160)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"$BIN/gorilla" -addr "127.0.0.1:$p" -compress -manifest "$OUT/$name.messages.tsv"
fi

# Summary: size, packets, link type and WebSocket frames as tshark sees them.
if command -v tshark >/dev/null; then
	for f in "$OUT"/gen__*.pcap "$OUT"/gen__*.pcapng; do
		[ -e "$f" ] || continue
		want "$(basename "$f")" || continue
		pk=$(capinfos -c -M -T "$f" | awk -F'\t' 'NR==2{print $2}')
		enc=$(capinfos -E -T "$f" | awk -F'\t' 'NR==2{print $2}')
		fr=$(tshark -o tcp.reassemble_out_of_order:TRUE -o gui.max_tree_depth:10000 -r "$f" -Y websocket \
			-T fields -e websocket.opcode 2>/dev/null | tr ',' '\n' | grep -c .)
		m=${f%.pcap*}.messages.tsv
		log "$(basename "$f"): $(stat -c %s "$f") bytes, $pk packets, $enc, $fr ws frames, $(($(wc -l <"$m") - 1)) messages in manifest"
	done
fi
