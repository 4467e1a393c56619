#!/usr/bin/env bash
# Records testdata/pcaps/gen__late-retransmit.pcap: a gorilla server
# (late/main.go) in network namespace wsl-b (198.51.100.1) sends a client in
# wsl-a (192.0.2.1), through a router namespace wsl-r (veth pairs, MTU
# 1500, offloads off), a message whose segments an iptables rule on the
# router (-m string LATE-MARK) drops for 4 s (a drop on the server itself
# is a local error to its TCP, which then holds the later writes back in
# the same unsent segment); the server's TCP retransmits it, backing off, and the
# copy that passes reaches the client seconds after the 4 messages sent
# after it. tcpdump records at the client, the receiver, as a monitor
# there would. The manifest (gen__late-retransmit.messages.tsv) is what the
# server sent and received; gen__late-retransmit.times.tsv its send times.
#
#   sudo bash testdata/gen/late-retransmit.sh
set -euo pipefail
GEN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(cd "$GEN/../pcaps" && pwd)
name=gen__late-retransmit
A=wsl-a
R=wsl-r
B=wsl-b
cleanup() {
	[ -z "${TCPDUMP:-}" ] || kill -INT "$TCPDUMP" 2>/dev/null || true
	for ns in $A $R $B; do ip netns del $ns 2>/dev/null || true; done
}
trap cleanup EXIT
cleanup
(cd "$GEN" && go build -o /tmp/wsdump-gen-late ./late)
for ns in $A $R $B; do
	ip netns add $ns
	ip -n $ns link set lo up
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ip link add wsl-a0 netns $A type veth peer name wsl-r0 netns $R
ip link add wsl-b0 netns $B type veth peer name wsl-r1 netns $R
ip -n $A addr add 192.0.2.1/24 dev wsl-a0
ip -n $R addr add 192.0.2.2/24 dev wsl-r0
ip -n $R addr add 198.51.100.2/24 dev wsl-r1
ip -n $B addr add 198.51.100.1/24 dev wsl-b0
for x in "$A wsl-a0" "$R wsl-r0" "$R wsl-r1" "$B wsl-b0"; do
	set -- $x
	ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
	ip -n "$1" link set "$2" up
done
ip -n $A route add default via 192.0.2.2
ip -n $B route add default via 198.51.100.2
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
# The router loses the marked message's segments (the server's TCP has
# sent them, and retransmits them), until the server runs -unblock.
rule="FORWARD -p tcp --sport 8080 -m string --string LATE-MARK --algo bm -j DROP"
ip netns exec $R iptables -A $rule
err=$(mktemp)
ip netns exec $A tcpdump -i wsl-a0 -B 16384 -s 0 -Z root -w "$OUT/$name.pcap" tcp port 8080 2>"$err" &
TCPDUMP=$!
for _ in $(seq 100); do grep -q 'listening on' "$err" && break; sleep 0.1; done
ip netns exec $B /tmp/wsdump-gen-late -serve 198.51.100.1:8080 -manifest "$OUT/$name.messages.tsv" \
	-times "$OUT/$name.times.tsv" -unblock "ip netns exec $R iptables -D $rule" &
SERVER=$!
sleep 0.5 # listening
ip netns exec $A /tmp/wsdump-gen-late -dial 198.51.100.1:8080
wait $SERVER
sleep 2
kill -INT $TCPDUMP
wait $TCPDUMP || true
TCPDUMP=
cat "$err" >&2
chmod 644 "$OUT/$name.pcap"
echo "wrote $OUT/$name.pcap ($(stat -c %s "$OUT/$name.pcap") bytes)"
