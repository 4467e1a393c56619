#!/usr/bin/env bash
# drop-first-segment.sh IN.pcap OUT.pcap [SIDES]
# Writes IN without the first data segment of each side named in SIDES
# ("client server", the default; or one of them) of its first TCP
# connection: on an Ethernet-sized link a TLS 1.3 ClientHello offering
# X25519MLKEM768 (about 1.5 KB) and the server's first flight each take two
# segments, so the capture loses the hellos and each side's bytes resume
# inside a record (a loss that ends inside a record). Needs tshark, editcap.
set -euo pipefail
in=$1 out=$2 sides=${3:-client server}
frames=()
# The SYN's sender is the client.
client=$(tshark -r "$in" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.srcport 2>/dev/null | head -1)
for side in $sides; do
	case $side in
	client) f='tcp.srcport=='$client ;;
	server) f='tcp.dstport=='$client ;;
	*) echo "drop-first-segment.sh: side $side?" >&2; exit 2 ;;
	esac
	n=$(tshark -r "$in" -Y "$f && tcp.len>0" -T fields -e frame.number 2>/dev/null | head -1)
	[ -n "$n" ] || { echo "drop-first-segment.sh: no data from the $side" >&2; exit 1; }
	frames+=("$n")
done
editcap "$in" "$out" "${frames[@]}"
echo "drop-first-segment.sh: $out is $in without frames ${frames[*]}" >&2
