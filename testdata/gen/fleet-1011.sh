#!/usr/bin/env bash
# Records testdata/pcaps/rotated/fleet-1011/ (fleet-1011.js: two hosts'
# servers close with 1011, four clients reconnect), as root:
#   bash testdata/gen/fleet-1011.sh
# In a private network namespace (lo up, Ethernet-sized segments), one
# tcpdump per "host", each seeing only its server's address and rotating
# every 3 s (-G 3): host-a_*.pcap and host-b_*.pcap. The expect file goes
# to testdata/pcaps/gen__fleet-1011.expect.json.
set -euo pipefail
GEN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(cd "$GEN/../pcaps" && pwd)
DIR="$OUT/rotated/fleet-1011"

if [ "${1:-}" != __inns ]; then
	rm -rf "$DIR"
	mkdir -p "$DIR"
	exec unshare --net bash "$0" __inns
fi

ip link set lo up mtu 1500
ip link set dev lo gso_max_size 1500
tmp=$(mktemp -d)
pids=()
trap 'kill -INT "${pids[@]}" 2>/dev/null || true' EXIT
for h in a b; do
	[ $h = a ] && ip=127.0.1.1 || ip=127.0.2.1
	tcpdump -Z root -i lo -B 8192 -s 0 -G 3 -w "$DIR/host-${h}_%Y%m%d%H%M%S.pcap" "tcp and host $ip" >/dev/null 2>"$tmp/$h.log" &
	pids+=($!)
done
for h in a b; do
	for _ in $(seq 100); do grep -q 'listening on' "$tmp/$h.log" && break; sleep 0.1; done
	grep -q 'listening on' "$tmp/$h.log" || { cat "$tmp/$h.log"; exit 1; }
done
node "$GEN/fleet-1011.js" --expect "$OUT/gen__fleet-1011.expect.json"
sleep 2
kill -INT "${pids[@]}"; trap - EXIT
wait "${pids[@]}" || true
cat "$tmp"/*.log >&2
rm -rf "$tmp"
ls -l "$DIR" >&2
