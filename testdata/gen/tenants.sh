#!/usr/bin/env bash
# The network of gen__tenant-reconnect (record.sh): two tenants with the
# same addresses, in two VXLAN segments over one underlay.
#
#   bash tenants.sh up     # namespaces and links
#   bash tenants.sh down   # deletes them
#
# tn-ua and tn-ub hold the underlay, a veth pair tn-u / tn-v (192.0.2.1-2/24,
# where the capture is taken). In each, the kernel's VXLAN devices vx10 and
# vx20 (VNI 10 and 20, UDP 4789) are made, then moved to the tenants'
# namespaces (their UDP sockets stay on the underlay): tn-c10 and tn-c20
# hold the clients, 10.9.0.1/24 in both; tn-s10 and tn-s20 the servers,
# 10.9.0.2/24 in both. The kernel here has no 802.1Q driver (`ip link add
# type vlan` fails with "Unknown device type"), hence VXLAN for the tenants.
set -euo pipefail
ns=(tn-ua tn-ub tn-c10 tn-c20 tn-s10 tn-s20)
case ${1:-} in
up)
	for n in "${ns[@]}"; do ip netns add "$n"; ip -n "$n" link set lo up; done
	ip -n tn-ua link add tn-u type veth peer name tn-v netns tn-ub
	ip -n tn-ua addr add 192.0.2.1/24 dev tn-u
	ip -n tn-ub addr add 192.0.2.2/24 dev tn-v
	for d in tn-ua:tn-u tn-ub:tn-v; do
		ip netns exec "${d%%:*}" ethtool -K "${d#*:}" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
		ip -n "${d%%:*}" link set "${d#*:}" up
	done
	for v in 10 20; do
		ip -n tn-ua link add vx$v type vxlan id $v local 192.0.2.1 remote 192.0.2.2 dstport 4789
		ip -n tn-ub link add vx$v type vxlan id $v local 192.0.2.2 remote 192.0.2.1 dstport 4789
		ip -n tn-ua link set vx$v netns tn-c$v
		ip -n tn-ub link set vx$v netns tn-s$v
		ip -n tn-c$v addr add 10.9.0.1/24 dev vx$v
		ip -n tn-s$v addr add 10.9.0.2/24 dev vx$v
		ip -n tn-c$v link set vx$v up
		ip -n tn-s$v link set vx$v up
	done
	;;
down)
	for n in "${ns[@]}"; do ip netns del "$n" 2>/dev/null || true; done
	;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac
