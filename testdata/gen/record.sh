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
# CMD (at most CAPTURE_TIMEOUT seconds, default 60), waits 2 s so the capture
# ring hands over the tail, then stops it.
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
	timeout "${CAPTURE_TIMEOUT:-60}" "$@" || rc=$?
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

# Internal entry point: run inside `unshare --net`: nftables logs every TCP
# packet to or from PORT or PORT+1 leaving lo (each loopback packet once) to
# NFLOG group GROUP, and capture's tool reads the group (nflog:GROUP).
#   __nflog GROUP PORT capture-args...
if [ "${1:-}" = __nflog ]; then
	shift
	group=$1 port=$2
	shift 2
	ip link set lo up mtu 1500
	ip link set dev lo gso_max_size 1500
	ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || true
	nft -f - <<EOF
table inet wsdump_nflog {
	chain out {
		type filter hook output priority 0; policy accept;
		tcp sport { $port, $((port + 1)) } log group $group
		tcp dport { $port, $((port + 1)) } log group $group
	}
}
EOF
	capture "$@"
	exit 0
fi

# Internal entry point: run inside a network namespace made by tunnels.sh
# (`ip netns exec NS bash record.sh __inns capture-args...`).
if [ "${1:-}" = __inns ]; then
	shift
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

# TCP urgent data: a client of its own (urgent.py; no WebSocket library
# sends MSG_OOB) against a node ws server (urgent-server.js), two
# connections with a send() with MSG_OOB each, in a private namespace whose
# lo is Ethernet-sized (the 3000-byte urgent send goes out in 3 segments,
# each with URG). Writes gen__ws-urgent.expect.json: what the server read.
name=gen__ws-urgent
if want $name; then
	p=47750 # private namespace: nothing else listens there
	unshare --net bash "$SELF" __netns tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		python3 "$GEN/urgent.py" --port "$p" --expect "$OUT/$name.expect.json"
fi

# NFLOG (link type 239): what `iptables/nft ... log group N` hands to
# `tcpdump -i nflog:N`, only the packets a rule matched. The basic session
# over IPv4 (port 47090), then over IPv6 (47091), in a private namespace;
# lo as in ethernet-mtu, so no packet is larger than the kernel copies into
# an NFLOG record (65531 bytes). libpcap cannot compile filters for NFLOG:
# the nft rules are the filter. The manifest is the two sessions' in turn.
name=gen__ws-node-nflog
if want $name; then
	command -v nft >/dev/null || die "missing nft (apt-get install nftables)"
	p=47090 # private namespace: nothing else listens there
	nfm=$(mktemp -d)
	unshare --net bash "$SELF" __nflog 5 "$p" tcpdump nflog:5 "$OUT/$name.pcap" "" -- \
		sh -c "${NODE[*]} --scenario basic --host 127.0.0.1 --port $p --manifest $nfm/v4.tsv &&
			${NODE[*]} --scenario basic --host ::1 --port $((p + 1)) --manifest $nfm/v6.tsv"
	{ cat "$nfm/v4.tsv"; tail -n +2 "$nfm/v6.tsv"; } >"$OUT/$name.messages.tsv"
	rm -r "$nfm"
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

name=gen__ws-node-chatty-mtu
if want $name; then
	p=47067 # private namespace with Ethernet-sized lo: ~2000 interleaved messages, Nagle on
	unshare --net bash "$SELF" __netns tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"${NODE[@]}" --scenario chatty --host 127.0.0.1 --port "$p" --manifest "$OUT/$name.messages.tsv"
fi

name=gen__gorilla
if want $name; then
	p=$(free_port 47070)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"$BIN/gorilla" -addr "127.0.0.1:$p" -manifest "$OUT/$name.messages.tsv"
fi

name=gen__gorilla-big
if want $name; then
	p=$(free_port 47075)
	# host lo: segments up to 64 KiB, so a 256 KiB fragment spans about four
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		"$BIN/gorilla" -big -addr "127.0.0.1:$p" -manifest "$OUT/$name.messages.tsv"
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

# wss (issue 11): WebSocket over TLS, with the NSS key log beside each
# capture (gen__wss-*.keys). A manifest lists the messages that the key log
# beside it can decrypt: those of logged connections, none for a wrong key.
wss_capture() { # NAME PORT CMD...: capture, then check the keys with tshark
	local name=$1 p=$2
	shift 2
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- "$@"
	if command -v tshark >/dev/null; then
		local n
		n=$(tshark -o tls.keylog_file:"$OUT/$name.keys" -o tcp.reassemble_out_of_order:TRUE -r "$OUT/$name.pcap" \
			-Y websocket -T fields -e websocket.opcode 2>/dev/null | tr ',' '\n' | grep -c . || true)
		log "$name: tshark decrypts $n ws frames with $name.keys"
	fi
}
if [ -z "$only" ] || [[ $only == *wss* ]] || [[ gen__wss- == *"$only"* ]] || [[ $only == *h2-tls12-reneg* ]]; then # e.g. record.sh wss
	(cd "$GEN" && go build -o "$BIN/wss" ./wss)
	WSS=("$BIN/wss")
	for s in tls13:47700 tls13-hrr:47705 tls12-aes128gcm:47710 tls12-aes256gcm:47715 tls12-aes128cbc-sha:47720 \
		tls12-aes128cbc-sha256:47725 tls12-chacha20:47730; do
		name=gen__wss-go-${s%%:*}
		want $name || continue
		p=$(free_port "${s##*:}")
		wss_capture $name "$p" "${WSS[@]}" -addr "127.0.0.1:$p" -suite "${s%%:*}" \
			-keylog "$OUT/$name.keys" -manifest "$OUT/$name.messages.tsv"
	done
	name=gen__wss-go-missing-key # two TLS 1.3 connections, keys for the first only
	if want $name; then
		p=$(free_port 47740)
		wss_capture $name "$p" "${WSS[@]}" -addr "127.0.0.1:$p" -conns 2 -keylog-conns 1 \
			-keylog "$OUT/$name.keys" -manifest "$OUT/$name.messages.tsv"
	fi
	name=gen__wss-go-wrong-key # TLS 1.3, every logged secret has its last bit flipped
	if want $name; then
		p=$(free_port 47750)
		wss_capture $name "$p" "${WSS[@]}" -addr "127.0.0.1:$p" -corrupt-keylog \
			-keylog "$OUT/$name.keys" -manifest "$OUT/$name.messages.tsv"
	fi
	name=gen__wss-openssl-0rtt # TLS 1.3 0-RTT: the upgrade request is early data
	if want $name; then
		p=$(free_port 47755)
		wss_capture $name "$p" "$GEN/wss/openssl-0rtt.sh" "$p" "$OUT/$name.keys" "$OUT/$name.messages.tsv"
	fi
	name=gen__wss-openssl-0rtt-reject # TLS 1.3 0-RTT that a restarted server rejects: the request sent again
	if want $name; then
		p=$(free_port 47795)
		wss_capture $name "$p" "$GEN/wss/openssl-0rtt-reject.sh" "$p" "$OUT/$name.keys" "$OUT/$name.messages.tsv"
	fi
	name=gen__h2-tls12-reneg # HTTP/2 over TLS 1.2 that renegotiates after its preface (RFC 9113 §9.2.1)
	if want $name; then
		p=$(free_port 47790)
		wss_capture $name "$p" "$GEN/wss/openssl-h2-reneg.sh" "$p" "$OUT/$name.keys" "$OUT/$name.messages.tsv"
	fi
	name=gen__h2-tls12-reneg-before-preface # the same renegotiating before any HTTP/2 byte, as RFC 9113 §9.2.1 allows
	if want $name; then
		p=$(free_port 47792)
		wss_capture $name "$p" "$GEN/wss/openssl-h2-reneg.sh" "$p" "$OUT/$name.keys" "$OUT/$name.messages.tsv" before-preface
	fi
	name=gen__wss-go-tls13-mtu # TLS 1.3 on an Ethernet-sized lo: the ClientHello (X25519MLKEM768) and the server's flight each over 2 segments
	if want $name; then
		p=47795
		unshare --net bash "$SELF" __netns tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
			"${WSS[@]}" -addr "127.0.0.1:$p" -suite tls13 -keylog "$OUT/$name.keys" -manifest "$OUT/$name.messages.tsv"
		# The same with the first segment of each side's first flight dropped (wss/drop-first-segment.sh)
		bash "$GEN/wss/drop-first-segment.sh" "$OUT/$name.pcap" "$OUT/gen__lost-wss-go-tls13-mtu-nohello.pcap"
	fi
	name=gen__wss-go-tls13-dsb # the tls13 capture with its keys in a pcapng Decryption Secrets Block
	if want $name && [ -e "$OUT/gen__wss-go-tls13.pcap" ]; then
		editcap --inject-secrets tls,"$OUT/gen__wss-go-tls13.keys" "$OUT/gen__wss-go-tls13.pcap" "$OUT/$name.pcapng"
		cp "$OUT/gen__wss-go-tls13.messages.tsv" "$OUT/$name.messages.tsv"
		log "wrote $OUT/$name.pcapng ($(stat -c %s "$OUT/$name.pcapng") bytes)"
	fi
	certs=$(mktemp -d)
	"${WSS[@]}" -gencert "$certs"
	for s in default:47760 TLS_CHACHA20_POLY1305_SHA256:47770; do
		suite=${s%%:*}
		name=gen__wss-node-tls13
		[ "$suite" = default ] || name=gen__wss-node-tls13-chacha20
		want $name || continue
		p=$(free_port "${s##*:}")
		extra=()
		[ "$suite" = default ] || extra=(--ciphersuites "$suite")
		wss_capture $name "$p" node "$GEN/wss/ws-node-wss.js" --host 127.0.0.1 --port "$p" --cert "$certs" \
			--keylog "$OUT/$name.keys" --manifest "$OUT/$name.messages.tsv" "${extra[@]}"
	done
	# TLS 1.2 renegotiation: the node server renegotiates twice, the second
	# time in the middle of a frame; abbreviated (the session resumed) by
	# default, full handshakes with --full. Times beside the manifest.
	for s in reneg:47780 reneg-full:47785; do
		name=gen__wss-node-tls12-${s%%:*}
		want $name || continue
		p=$(free_port "${s##*:}")
		extra=()
		[ "${s%%:*}" = reneg ] || extra=(--full)
		wss_capture $name "$p" node "$GEN/wss/ws-node-wss-reneg.js" --host 127.0.0.1 --port "$p" --cert "$certs" \
			--keylog "$OUT/$name.keys" --manifest "$OUT/$name.messages.tsv" --times "$OUT/$name.times.tsv" "${extra[@]}"
	done
	rm -rf "$certs"
fi

# Connection health (wsdump conns): heartbeats, ping/pong, closes, reconnects.
# Each scenario also writes gen__NAME.expect.json: what the generator knows
# happened, which cmd/wsdump/conns_test.go checks wsdump's numbers against.
HEALTH=(node "$GEN/health-node.js")
hport=47400
for sc in text-ping ws-ping reconnect rst; do
	name=gen__health-$sc
	hport=$((hport + 10))
	if want $name; then
		p=$(free_port $hport)
		capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
			"${HEALTH[@]}" --scenario $sc --host 127.0.0.1 --port "$p" \
			--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
	fi
done

# STOMP heart-beats through RabbitMQ Web-STOMP: a private broker node with
# its state in a temporary folder (ports AMQP 5690, STOMP 61630, Web-STOMP
# 15690, distribution 25690), stopped when done.
name=gen__health-stomp
if want $name; then
	command -v rabbitmq-server >/dev/null || die "missing rabbitmq-server (apt-get install rabbitmq-server)"
	rmq=$(mktemp -d /tmp/wsdump-health-rabbit.XXXXXX)
	echo '[rabbitmq_web_stomp].' >"$rmq/enabled_plugins"
	cat >"$rmq/rabbitmq.conf" <<-'CONF'
		listeners.tcp.default = 127.0.0.1:5690
		stomp.listeners.tcp.1 = 127.0.0.1:61630
		web_stomp.tcp.port = 15690
		web_stomp.tcp.ip = 127.0.0.1
	CONF
	chown -R rabbitmq:rabbitmq "$rmq" 2>/dev/null || chmod -R a+rwX "$rmq"
	rmq_env=(env RABBITMQ_NODENAME=wsdump-health@localhost RABBITMQ_MNESIA_BASE="$rmq/mnesia"
		RABBITMQ_LOG_BASE="$rmq/log" RABBITMQ_ENABLED_PLUGINS_FILE="$rmq/enabled_plugins"
		RABBITMQ_CONFIG_FILE="$rmq/rabbitmq" RABBITMQ_NODE_PORT=5690 RABBITMQ_DIST_PORT=25690
		RABBITMQ_PID_FILE="$rmq/pid" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
		RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}")
	stop_rmq() {
		"${rmq_env[@]}" rabbitmqctl -n wsdump-health@localhost stop >/dev/null 2>&1 || true
		rm -rf "$rmq"
	}
	trap stop_rmq EXIT
	log "starting RabbitMQ node wsdump-health@localhost (state in $rmq)"
	("${rmq_env[@]}" setsid rabbitmq-server >"$rmq/server.out" 2>&1 &)
	for i in $(seq 60); do
		ss -Hltn "( sport = :15690 )" | grep -q . && break
		sleep 1
	done
	ss -Hltn "( sport = :15690 )" | grep -q . || { cat "$rmq/server.out" >&2; die "Web-STOMP did not start"; }
	# The listener opens before the broker has finished booting.
	"${rmq_env[@]}" rabbitmqctl -n wsdump-health@localhost await_startup >/dev/null
	capture tcpdump lo "$OUT/$name.pcap" "tcp port 15690" -- \
		node "$GEN/health-stomp.js" --url ws://127.0.0.1:15690/ws \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
	stop_rmq
	trap - EXIT
fi

# Application protocols over WebSocket (issue 6, package appproto): real
# libraries, one WebSocket connection per capture. Each also writes
# gen__app-NAME.app.tsv, the application messages as the libraries' own
# parsers decode them (see PROVENANCE.md); cmd/wsdump/appproto_test.go
# checks appproto against it. Ports 47200-47299; RabbitMQ node
# wsdump-app@localhost (AMQP 5680, STOMP 61620, Web-STOMP 15680, dist 25680).
APP=(node "$GEN/app-node.js")
app_capture() { # NAME SCENARIO CAPTURE_PORT [BROKER_PORT] [SERVER_PORT]
	local name=$1 sc=$2 cp=$3 bp=${4:-0} sp=${5:-$3}
	capture tcpdump lo "$OUT/$name.pcap" "tcp port $cp" -- \
		"${APP[@]}" --scenario "$sc" --port "$sp" --broker-port "$bp" \
		--manifest "$OUT/$name.messages.tsv" --app "$OUT/$name.app.tsv"
}
if want gen__app-stomp-rabbitmq-nodeflate || want gen__app-stomp-rabbitmq-deflate || want gen__app-sockjs-stomp; then
	command -v rabbitmq-server >/dev/null || die "missing rabbitmq-server (apt-get install rabbitmq-server)"
	app_rmq=$(mktemp -d /tmp/wsdump-app-rabbit.XXXXXX)
	trap 'bash "$GEN/rabbitmq-app.sh" stop "$app_rmq"; rm -rf "$app_rmq"' EXIT
	log "starting RabbitMQ node wsdump-app@localhost (state in $app_rmq)"
	bash "$GEN/rabbitmq-app.sh" start "$app_rmq" || die "RabbitMQ did not start"
	want gen__app-stomp-rabbitmq-nodeflate && app_capture gen__app-stomp-rabbitmq-nodeflate stomp-rabbitmq-nodeflate 15680 15680
	want gen__app-stomp-rabbitmq-deflate && app_capture gen__app-stomp-rabbitmq-deflate stomp-rabbitmq 15680 15680
	want gen__app-sockjs-stomp && app_capture gen__app-sockjs-stomp sockjs-stomp "$(free_port 47210)" 61620
	bash "$GEN/rabbitmq-app.sh" stop "$app_rmq"
	rm -rf "$app_rmq"
	trap - EXIT
fi
want gen__app-socketio-ws && app_capture gen__app-socketio-ws socketio-ws "$(free_port 47220)"
want gen__app-socketio-upgrade && app_capture gen__app-socketio-upgrade socketio-upgrade "$(free_port 47230)"
want gen__app-mqtt-v311-aedes && app_capture gen__app-mqtt-v311-aedes mqtt-v4 "$(free_port 47240)"
if want gen__app-mqtt-v5-mosquitto; then
	command -v mosquitto >/dev/null || die "missing mosquitto (apt-get install mosquitto)"
	app_capture gen__app-mqtt-v5-mosquitto mqtt-v5 "$(free_port 47250)" "$(free_port 47255)"
fi
want gen__app-graphql-transport-ws && app_capture gen__app-graphql-transport-ws graphql-ws "$(free_port 47260)"
want gen__app-graphql-legacy && app_capture gen__app-graphql-legacy graphql-legacy "$(free_port 47270)"
want gen__app-jsonrpc && app_capture gen__app-jsonrpc jsonrpc "$(free_port 47280)"

# Issue 15: the user's seed stack (stompjs 2.3.3 over sockjs-client, a STOMP
# SEND "ping" every 10 s, the 10-try reconnect loop) against a SockJS STOMP
# endpoint (npm sockjs server bridged to RabbitMQ's plain STOMP port) that is
# SIGKILLed and restarted: see seed-sockjs-stomp.js. Real time (10 s beats):
# about 2 and 2.5 minutes. Private RabbitMQ node wsdump-seed@localhost (AMQP
# 5670, STOMP 61610, Web-STOMP 15670, dist 25670); ports 47300-47319.
# The same seed in headless Chromium (seed-browser.js, seed-browser.html; Debian
# package chromium): gen__seed-browser, gen__seed-browser-twotimers, ports
# 47340-47359 (the page's control server on port + 5 is not captured).
if want gen__seed-sockjs-stomp || want gen__seed-sockjs-stomp-twotimers || want gen__seed-browser || want gen__seed-browser-twotimers; then
	command -v rabbitmq-server >/dev/null || die "missing rabbitmq-server (apt-get install rabbitmq-server)"
	seed_rmq=$(mktemp -d /tmp/wsdump-seed-rabbit.XXXXXX)
	seed_env=(env RMQ_NAME=wsdump-seed RMQ_PORT_BASE=70)
	trap '"${seed_env[@]}" bash "$GEN/rabbitmq-app.sh" stop "$seed_rmq"; rm -rf "$seed_rmq"' EXIT
	log "starting RabbitMQ node wsdump-seed@localhost (state in $seed_rmq)"
	"${seed_env[@]}" bash "$GEN/rabbitmq-app.sh" start "$seed_rmq" || die "RabbitMQ did not start"
	for v in clear:47300 twotimers:47310; do
		name=gen__seed-sockjs-stomp
		[ "${v%%:*}" = clear ] || name=$name-${v%%:*}
		# "want" matches substrings: record.sh gen__seed-sockjs-stomp records both
		want $name || continue
		p=$(free_port "${v##*:}")
		CAPTURE_TIMEOUT=300 capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
			node "$GEN/seed-sockjs-stomp.js" --variant "${v%%:*}" --port "$p" --broker-port 61610 \
			--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
	done
	for v in clear:47340 twotimers:47350; do
		name=gen__seed-browser
		[ "${v%%:*}" = clear ] || name=$name-${v%%:*}
		want $name || continue
		command -v chromium >/dev/null || die "missing chromium (apt-get install chromium)"
		p=$(free_port "${v##*:}")
		CAPTURE_TIMEOUT=300 capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
			node "$GEN/seed-browser.js" --variant "${v%%:*}" --port "$p" --control-port $((p + 5)) --broker-port 61610 \
			--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
	done
	"${seed_env[@]}" bash "$GEN/rabbitmq-app.sh" stop "$seed_rmq"
	rm -rf "$seed_rmq"
	trap - EXIT
fi

# The seed's reconnect loop forking (seed-fork.js): stompjs 2.3.3 calls the
# error callback twice (ERROR frame, "Lost connection") when the server
# refuses CONNECT, and the seed reconnects on each: 1, 2, 4 tries at once. The
# server is the npm sockjs server answering STOMP itself (no broker). About 30 s
# (10 s beats). Port 47360.
name=gen__reconnect-fork
if want $name; then
	p=$(free_port 47360)
	CAPTURE_TIMEOUT=120 capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/seed-fork.js" --port "$p" \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
fi

# The seed's reconnect loop against a server that never comes back:
# connected, the server SIGKILLed 12 s after CONNECTED and not restarted,
# 9 tries refused 3 s apart, the seed gives up. About 45 s. Port 47365.
name=gen__reconnect-dead
if want $name; then
	p=$(free_port 47365)
	CAPTURE_TIMEOUT=120 capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/seed-fork.js" --port "$p" --up 0 --delay 3000 --down-after 12 \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
fi

# The seed's reconnect loop against a port nobody listens on, from the
# start: its 10 tries' /info connects refused (SYN answered by RST) 3 s
# apart, the seed gives up. About 30 s. Port 47367.
name=gen__reconnect-never
if want $name; then
	p=$(free_port 47367)
	CAPTURE_TIMEOUT=120 capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/seed-fork.js" --port "$p" --never-up --delay 3000 \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
fi

# A listener that accepts and resets at once (SO_LINGER 0: RST, no FIN,
# before any byte) and a client that retries 4 times 1 s apart
# (conn-reset.py), in a private network namespace. About 6 s. Port 47368.
name=gen__conn-reset
if want $name; then
	p=47368
	unshare --net bash "$SELF" __netns tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		python3 "$GEN/conn-reset.py" --port "$p" --tries 4 --delay 1 \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
fi

# A STOMP-over-SockJS server SIGSTOPped mid-session while the capture runs
# 35 s more, kept going by a second, healthy session; no connection closed
# (hb-stopped.js runs tcpdump itself, stopping it before anything is killed,
# so it is no capture() run). About 50 s (2 s beats). Ports 47370 and 47371.
name=gen__hb-stopped
if want $name; then
	p=$(free_port 47370)
	timeout 120 node "$GEN/hb-stopped.js" --port "$p" --pcap "$OUT/$name.pcap" \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
fi

# Issue 15: a Socket.IO app whose server is SIGSTOPped past pingInterval +
# pingTimeout, then SIGCONTed (engineio-stall.js, ~75 s), and a load run of
# 120 concurrent connections, 8 at a time, from one client (load-concurrent.js).
name=gen__engineio-stall
if want $name; then
	p=$(free_port 47320)
	CAPTURE_TIMEOUT=200 capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/engineio-stall.js" --port "$p" \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
fi
name=gen__load-concurrent
if want $name; then
	p=$(free_port 47330)
	capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/load-concurrent.js" --port "$p" --conns 120 --parallel 8 --messages 3 \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
fi

# Issue 22: WebSockets over HTTP/2 (RFC 8441 extended CONNECT). Node's http2
# server with enableConnectProtocol and its http2 client on one connection:
# three WebSocket streams (permessage-deflate on one, a subprotocol on
# another; ended by Close + END_STREAM, RST_STREAM CANCEL, GOAWAY + FIN)
# between ordinary GETs; cleartext h2c (prior knowledge) and TLS (ALPN h2,
# key log beside the capture). Each writes gen__NAME.expect.json (streams,
# ends, GOAWAY, every message with its stream). Ports 47800-47899.
name=gen__h2c-connect
if want $name; then
	p=$(free_port 47800)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		node "$GEN/h2-connect.js" --host 127.0.0.1 --port "$p" \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
fi
name=gen__h2c-connect-padded # padded DATA/HEADERS, a header block in HEADERS + CONTINUATION
if want $name; then
	p=$(free_port 47805)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		node "$GEN/h2-connect.js" --host 127.0.0.1 --port "$p" --variant padded \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
fi
name=gen__h2-tls-connect
if want $name; then
	(cd "$GEN" && go build -o "$BIN/wss" ./wss)
	h2certs=$(mktemp -d)
	"$BIN/wss" -gencert "$h2certs"
	p=$(free_port 47810)
	capture tcpdump lo "$OUT/$name.pcap" "ip and tcp port $p" -- \
		node "$GEN/h2-connect.js" --host 127.0.0.1 --port "$p" --tls "$h2certs" --keylog "$OUT/$name.keys" \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
	rm -rf "$h2certs"
fi
# A real browser: headless Chromium (Debian package chromium) loads a page over
# h2 from node's http2 secure server (enableConnectProtocol) and opens wss://
# to the same origin; key log from Chromium's SSLKEYLOGFILE (h2-browser.js).
name=gen__h2-browser
if want $name; then
	command -v chromium >/dev/null || die "missing chromium (apt-get install chromium)"
	(cd "$GEN" && go build -o "$BIN/wss" ./wss)
	h2certs=$(mktemp -d)
	"$BIN/wss" -gencert "$h2certs"
	p=$(free_port 47820)
	capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/h2-browser.js" --port "$p" --cert "$h2certs" --keylog "$OUT/$name.keys" \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
	rm -rf "$h2certs"
fi
# Issue 18: sessions that never become WebSockets. SockJS fallback transports
# (fallback-sockjs.js: the seed's stompjs 2.3.3 + sockjs-client 1.6.1 with
# transports [T] against the npm sockjs 0.3.24 server and a STOMP responder in
# the same process, ~19 s each) and Engine.IO long polling (~11 s each)
# (fallback-engineio.js: socket.io 4.8.1 + socket.io-client 4.8.1, polling only
# and polling-then-upgrade). Each writes .messages.tsv, .app.tsv and
# .expect.json. Ports 47600-47699.
for v in xhr-streaming:47600 xhr-polling:47610 eventsource:47620; do
	name=gen__sockjs-${v%%:*}
	want $name || continue
	p=$(free_port "${v##*:}")
	capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/fallback-sockjs.js" --transport "${v%%:*}" --port "$p" \
		--manifest "$OUT/$name.messages.tsv" --app "$OUT/$name.app.tsv" --expect "$OUT/$name.expect.json"
done

for v in polling:47630 upgrade:47640; do
	name=gen__engineio-${v%%:*}
	want $name || continue
	p=$(free_port "${v##*:}")
	capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/fallback-engineio.js" --mode "${v%%:*}" --port "$p" \
		--manifest "$OUT/$name.messages.tsv" --app "$OUT/$name.app.tsv" --expect "$OUT/$name.expect.json"
done
# The xhr-streaming session over https (TLS 1.3, node's https server; the NSS
# key log beside it as gen__sockjs-xhr-streaming-tls.keys).
name=gen__sockjs-xhr-streaming-tls
if want $name; then
	(cd "$GEN" && go build -o "$BIN/wss" ./wss)
	certs=$(mktemp -d)
	"$BIN/wss" -gencert "$certs"
	p=$(free_port 47690)
	capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/fallback-sockjs.js" --transport xhr-streaming --port "$p" --cert "$certs" --keylog "$OUT/$name.keys" \
		--manifest "$OUT/$name.messages.tsv" --app "$OUT/$name.app.tsv" --expect "$OUT/$name.expect.json"
	rm -rf "$certs"
fi
# The xhr-streaming session with the client in headless Chromium (browser
# builds; the page's control server on port + 5 is not captured).
name=gen__sockjs-xhr-streaming-browser
if want $name; then
	command -v chromium >/dev/null || die "missing chromium (apt-get install chromium)"
	p=$(free_port 47660)
	capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/fallback-sockjs.js" --client browser --transport xhr-streaming --port "$p" --control-port $((p + 5)) \
		--manifest "$OUT/$name.messages.tsv" --app "$OUT/$name.app.tsv" --expect "$OUT/$name.expect.json"
fi
# jsonp-polling needs a DOM (script tags, a form posted into an iframe): browser only.
name=gen__sockjs-jsonp-polling-browser
if want $name; then
	command -v chromium >/dev/null || die "missing chromium (apt-get install chromium)"
	p=$(free_port 47670)
	capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/fallback-sockjs.js" --client browser --transport jsonp-polling --port "$p" --control-port $((p + 5)) \
		--manifest "$OUT/$name.messages.tsv" --app "$OUT/$name.app.tsv" --expect "$OUT/$name.expect.json"
fi
# Engine.IO polling from headless Chromium: gzip (a browser sends Accept-Encoding).
name=gen__engineio-polling-browser
if want $name; then
	command -v chromium >/dev/null || die "missing chromium (apt-get install chromium)"
	p=$(free_port 47680)
	capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/fallback-engineio.js" --client browser --mode polling --port "$p" --control-port $((p + 5)) \
		--manifest "$OUT/$name.messages.tsv" --app "$OUT/$name.app.tsv" --expect "$OUT/$name.expect.json"
fi
# Socket.IO in headless Chromium across a server restart: the server (a
# child process) SIGKILLed 8 s after the page's upgrade, started again 7 s
# later; the page's own reconnect attempts in between are refused. About
# 30 s. Port 47700, the page's control server 47705 (not captured).
name=gen__socketio-restart-browser
if want $name; then
	command -v chromium >/dev/null || die "missing chromium (apt-get install chromium)"
	p=$(free_port 47700)
	capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/socketio-restart-browser.js" --port "$p" --control-port $((p + 5)) \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
fi
# Engine.IO v3 (EIO=3): socket.io 2.5.1 + socket.io-client 2.5.0 (npm aliases
# socket.io-v2, socket.io-client-v2), fallback-engineio3.js.
for v in polling:47650 upgrade:47655; do
	name=gen__engineio-v3-${v%%:*}
	want $name || continue
	p=$(free_port "${v##*:}")
	capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/fallback-engineio3.js" --mode "${v%%:*}" --port "$p" \
		--manifest "$OUT/$name.messages.tsv" --app "$OUT/$name.app.tsv" --expect "$OUT/$name.expect.json"
done
# The v3 client in headless Chromium: XHR2, so binary payloads (application/octet-stream).
name=gen__engineio-v3-polling-browser
if want $name; then
	command -v chromium >/dev/null || die "missing chromium (apt-get install chromium)"
	p=$(free_port 47686)
	capture tcpdump lo "$OUT/$name.pcap" "tcp port $p" -- \
		node "$GEN/fallback-engineio3.js" --client browser --mode polling --port "$p" --control-port $((p + 5)) \
		--manifest "$OUT/$name.messages.tsv" --app "$OUT/$name.app.tsv" --expect "$OUT/$name.expect.json"
fi
# Each of them against its manifest, without wsdump (tshark + its own HTTP parsing).
if command -v tshark >/dev/null; then
	for f in "$OUT"/gen__sockjs-*.pcap "$OUT"/gen__engineio-{polling,upgrade,v3-}*.pcap; do
		[ -e "$f" ] || continue
		want "$(basename "$f")" || continue
		python3 "$GEN/verify-fallback.py" "$f" >&2 || log "WARNING: verify-fallback.py: $(basename "$f") does not match its manifest"
	done
fi

# WebSocket carried in network tunnels, captured on the underlay only (as
# cloud traffic mirroring and tunnelled links deliver it): namespaces wst-a
# (client) and wst-b (server) joined by a veth pair, ten tunnels over it
# (tunnels.sh: VXLAN by the kernel over IPv4 and IPv6; GRE with a key,
# GRETAP, GENEVE, IPIP, SIT, ip6gre, ip6ip6 and ERSPAN II by tunnel-relay.py, as the
# kernel here has no driver for them), one WebSocket connection in each
# (ws-tunnels.js). tcpdump on the client's veth end, so every packet of the
# capture is encapsulated. Also writes gen__ws-tunnels.expect.json.
name=gen__ws-tunnels
if want $name; then
	for t in ethtool python3; do command -v $t >/dev/null || die "missing $t"; done
	trap 'bash "$GEN/tunnels.sh" down' EXIT
	bash "$GEN/tunnels.sh" up
	sleep 3 # past the MLD reports that adding the inner IPv6 addresses sends
	tconns=()
	for c in $(bash "$GEN/tunnels.sh" conns); do tconns+=(--conn "$c"); done
	ip netns exec wst-a bash "$SELF" __inns tcpdump wst-ua "$OUT/$name.pcap" \
		"udp port 4789 or udp port 6081 or proto 47 or proto 4 or proto 41" -- \
		node "$GEN/ws-tunnels.js" --server-netns wst-b --port 8080 "${tconns[@]}" --deflate vxlan \
		--manifest "$OUT/$name.messages.tsv" --expect "$OUT/$name.expect.json"
	bash "$GEN/tunnels.sh" down
	trap - EXIT
fi

# Two tenants with the same client and server addresses in VXLAN segments
# 10 and 20 (tenants.sh), node ws reconnecting in a loop in each; tenant
# 20's server is down for a while. Recorded on the underlay. Also writes
# gen__tenant-reconnect.expect.json.
name=gen__tenant-reconnect
if want $name; then
	trap 'bash "$GEN/tenants.sh" down' EXIT
	bash "$GEN/tenants.sh" down
	bash "$GEN/tenants.sh" up
	sleep 2
	ip netns exec tn-ua bash "$SELF" __inns tcpdump tn-u "$OUT/$name.pcap" "udp port 4789" -- \
		node "$GEN/tenant-reconnect.js" --role run --port 8080 --attempts 10 --down 1.25 --up 2.6 \
		--expect "$OUT/$name.expect.json"
	bash "$GEN/tenants.sh" down
	trap - EXIT
fi

# Two hosts' node ws servers close with 1011 while four clients on
# 127.0.0.11-14 reconnect, one of them fast (fleet-1011.sh, fleet-1011.js):
# one tcpdump per host rotating every 3 s into
# testdata/pcaps/rotated/fleet-1011/; writes gen__fleet-1011.expect.json.
name=gen__fleet-1011
if want $name; then
	bash "$GEN/fleet-1011.sh"
fi

# Non-WebSocket traffic (nonws__*: HTTP/1.1, TLS, SSH, Redis, PostgreSQL, and all of
# them captured mid-stream) and mid-stream WebSocket (gen__ws-midstream*): see nonws/record.sh.
record_nonws() {
	bash "$GEN/nonws/record.sh" "$only"
}
record_nonws

# Summary: size, packets, link type and WebSocket frames as tshark sees them.
if command -v tshark >/dev/null; then
	for f in "$OUT"/gen__*.pcap "$OUT"/gen__*.pcapng; do
		[ -e "$f" ] || continue
		want "$(basename "$f")" || continue
		pk=$(capinfos -c -M -T "$f" | awk -F'\t' 'NR==2{print $2}')
		enc=$(capinfos -E -T "$f" | awk -F'\t' 'NR==2{print $2}')
		fr=$(tshark -o tcp.reassemble_out_of_order:TRUE -o gui.max_tree_depth:10000 -r "$f" -Y websocket \
			-T fields -e websocket.opcode 2>/dev/null | tr ',' '\n' | grep -c . || true)
		m=${f%.pcap*}.messages.tsv
		log "$(basename "$f"): $(stat -c %s "$f") bytes, $pk packets, $enc, $fr ws frames, $(($(wc -l <"$m") - 1)) messages in manifest"
	done
fi
