#!/usr/bin/env bash
# The network of the gen__ws-tunnels* captures (record.sh): two network
# namespaces, wst-a (client) and wst-b (server), joined by a veth pair
# wst-ua / wst-ub (the underlay: 192.0.2.1-2/24 and 2001:db8::1-2/64,
# MTU 1500), and tunnels over it, each with inner addresses of its own.
#
#   bash tunnels.sh up      # the namespaces and every tunnel
#   bash tunnels.sh conns   # NAME=HOST per tunnel (the server's inner address), for ws-tunnels.js --conn
#   bash tunnels.sh down    # stops the relays, deletes the namespaces
#
# Tunnels (NAME: what, inner addresses):
#   vxlan   kernel VXLAN VNI 42, UDP 4789 over IPv4, Ethernet + IPv4 inside  10.42.0.1-2
#   vxlan6  kernel VXLAN VNI 43, UDP 4789 over IPv6, Ethernet + IPv6 inside  fd00:43::1-2
#   gre     GRE with key 1234, IPv4 inside, over IPv4                          10.47.0.1-2
#   gretap  GRE, Ethernet (0x6558) + IPv4 inside, over IPv4                    10.65.0.1-2
#   geneve  GENEVE VNI 7, UDP 6081 over IPv4, Ethernet + IPv4 inside           10.61.0.1-2
#   ipip    IPv4 in IPv4 (protocol 4)                                          10.4.0.1-2
#   sit     IPv6 in IPv4 (protocol 41)                                         fd00:41::1-2
#   ip6gre  GRE, IPv4 inside, over IPv6                                        10.66.0.1-2
#   ip6ip6  IPv6 in IPv6 (next header 41)                                      fd00:66::1-2
#   erspan  ERSPAN type II, session 123 (GRE 0x88be with sequence numbers),   10.88.0.1-2
#           Ethernet + IPv4 inside, over IPv4
#
# The kernel here has VXLAN built in and no GRE (so no ERSPAN), GENEVE, IPIP, SIT or ip6
# tunnel drivers (CONFIG_NET_IPGRE_DEMUX, CONFIG_GENEVE, CONFIG_NET_IPIP,
# CONFIG_IPV6_SIT, CONFIG_IPV6_TUNNEL not set, no modules): `ip link add
# type gre|gretap|erspan|geneve|ipip|sit|ip6gre|ip6tnl` fails with "Unknown device
# type". Those tunnels are TUN/TAP devices relayed by tunnel-relay.py.
#
# Offloads (TSO, GSO, GRO, checksum) are off on every device, so each packet
# on the underlay is one real datagram with its checksums written; MTUs leave
# room for each tunnel's headers, so no inner packet is IP-fragmented.
# Inner neighbours are static and inner IPv6 has no link-local address and
# no DAD, so the tunnels carry only the TCP of the WebSocket connections
# (record.sh also waits before capturing, for the MLD reports that adding
# an IPv6 address sends).
set -euo pipefail

GEN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
A=wst-a
B=wst-b
RELAY_PIDS=/run/wsdump-wst-relay.pids

ia() { ip -n $A "$@"; }
ib() { ip -n $B "$@"; }
on() { ip netns exec "$@"; }

offloads_off() { # NS DEV
	on "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 ||
		on "$1" ethtool -K "$2" gso off gro off >/dev/null 2>&1 || true
}

# inner NS DEV ADDR PEER MAC PEERMAC MTU: configure one end of a tunnel device.
# ADDR/PEER are IPv4 or IPv6; MAC is "" for devices without Ethernet (TUN).
inner() {
	local ns=$1 dev=$2 addr=$3 peer=$4 mac=$5 peermac=$6 mtu=$7
	ip -n "$ns" link set dev "$dev" addrgenmode none 2>/dev/null || true
	[ -z "$mac" ] || ip -n "$ns" link set dev "$dev" address "$mac"
	ip -n "$ns" link set dev "$dev" mtu "$mtu"
	if [[ $addr == *:* ]]; then
		# A /64 on the link (the "peer" form's route does not survive the
		# link coming up); a TUN device has no neighbours to resolve.
		ip -n "$ns" -6 addr add "$addr/64" dev "$dev" nodad
		[ -z "$mac" ] || ip -n "$ns" -6 neigh replace "$peer" lladdr "$peermac" dev "$dev" nud permanent
	else
		on "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
		if [ -n "$mac" ]; then
			ip -n "$ns" addr add "$addr/24" dev "$dev"
			ip -n "$ns" neigh replace "$peer" lladdr "$peermac" dev "$dev" nud permanent
		else
			ip -n "$ns" addr add "$addr" peer "$peer" dev "$dev"
		fi
	fi
	offloads_off "$ns" "$dev"
	ip -n "$ns" link set dev "$dev" up
}

# both DEV ADDR_A ADDR_B MTU [L2]: configure both ends; L2 (any word) gives
# the devices fixed MACs 02:00:00:00:NN:01 and :02 (NN from the last byte of
# the inner subnet).
both() {
	local dev=$1 a=$2 b=$3 mtu=$4 l2=${5:-}
	local ma="" mb=""
	if [ -n "$l2" ]; then
		ma=02:00:00:00:$l2:01
		mb=02:00:00:00:$l2:02
	fi
	inner $A "$dev" "$a" "$b" "$ma" "$mb" "$mtu"
	inner $B "$dev" "$b" "$a" "$mb" "$ma" "$mtu"
}

underlay() {
	down
	ip netns add $A
	ip netns add $B
	ip link add wst-ua netns $A type veth peer name wst-ub netns $B
	for ns in $A $B; do
		on $ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
		ip -n $ns link set lo up
	done
	ia addr add 192.0.2.1/24 dev wst-ua
	ib addr add 192.0.2.2/24 dev wst-ub
	ia -6 addr add 2001:db8::1/64 dev wst-ua nodad
	ib -6 addr add 2001:db8::2/64 dev wst-ub nodad
	offloads_off $A wst-ua
	offloads_off $B wst-ub
	ia link set wst-ua up
	ib link set wst-ub up
}

up() {
	underlay
	# VXLAN by the kernel (MTU: 1500 - outer IP - UDP 8 - VXLAN 8 - Ethernet 14)
	ia link add wst-vx42 type vxlan id 42 local 192.0.2.1 remote 192.0.2.2 dstport 4789
	ib link add wst-vx42 type vxlan id 42 local 192.0.2.2 remote 192.0.2.1 dstport 4789
	both wst-vx42 10.42.0.1 10.42.0.2 1450 42
	ia link add wst-vx43 type vxlan id 43 local 2001:db8::1 remote 2001:db8::2 dstport 4789
	ib link add wst-vx43 type vxlan id 43 local 2001:db8::2 remote 2001:db8::1 dstport 4789
	both wst-vx43 fd00:43::1 fd00:43::2 1430 43
	: >"$RELAY_PIDS"
	# The kernel has no driver for these (see above): tunnel-relay.py, one per namespace.
	local ns side lo re
	for ns in $A $B; do
		if [ $ns = $A ]; then lo=1 re=2; else lo=2 re=1; fi
		local ready
		ready=$(mktemp)
		# ip netns exec execs python3, so $! is the relay's pid (a shell function
		# run with & would be a subshell's).
		ip netns exec $ns python3 "$GEN/tunnel-relay.py" \
			gre,wst-gre,192.0.2.$lo,192.0.2.$re,1234 \
			gretap,wst-gtap,192.0.2.$lo,192.0.2.$re \
			geneve,wst-gnv7,192.0.2.$lo,192.0.2.$re,7 \
			erspan,wst-ersp,192.0.2.$lo,192.0.2.$re,123 \
			ipip,wst-ipip,192.0.2.$lo,192.0.2.$re \
			sit,wst-sit,192.0.2.$lo,192.0.2.$re \
			ip6gre,wst-g6,2001:db8::$lo,2001:db8::$re \
			ip6ip6,wst-t6,2001:db8::$lo,2001:db8::$re >"$ready" &
		echo $! >>"$RELAY_PIDS"
		for side in $(seq 50); do
			grep -q ready "$ready" && break
			sleep 0.1
		done
		grep -q ready "$ready" || { echo "tunnel-relay did not start in $ns" >&2; exit 1; }
		rm -f "$ready"
	done
	# MTU: 1500 - outer IP - tunnel header (- 14 for Ethernet inside)
	both wst-gre 10.47.0.1 10.47.0.2 1472         # 20 + GRE 8 (key)
	both wst-gtap 10.65.0.1 10.65.0.2 1462 65     # 20 + GRE 4 + 14
	both wst-gnv7 10.61.0.1 10.61.0.2 1450 61     # 20 + UDP 8 + GENEVE 8 + 14
	both wst-ersp 10.88.0.1 10.88.0.2 1450 88     # 20 + GRE 8 (sequence) + ERSPAN 8 + 14
	both wst-ipip 10.4.0.1 10.4.0.2 1480          # 20
	both wst-sit fd00:41::1 fd00:41::2 1480       # 20
	both wst-g6 10.66.0.1 10.66.0.2 1456          # 40 + GRE 4
	both wst-t6 fd00:66::1 fd00:66::2 1460        # 40
}

conns() {
	echo vxlan=10.42.0.2 vxlan6=[fd00:43::2] gre=10.47.0.2 gretap=10.65.0.2 geneve=10.61.0.2 \
		ipip=10.4.0.2 sit=[fd00:41::2] ip6gre=10.66.0.2 ip6ip6=[fd00:66::2] erspan=10.88.0.2
}

down() {
	if [ -e "$RELAY_PIDS" ]; then
		local p
		while read -r p; do kill "$p" 2>/dev/null || true; done <"$RELAY_PIDS"
		rm -f "$RELAY_PIDS"
	fi
	ip netns del $A 2>/dev/null || true
	ip netns del $B 2>/dev/null || true
}

"$@"
