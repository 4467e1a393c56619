#!/bin/bash
# openssl-0rtt-reject.sh PORT KEYS MANIFEST: TLS 1.3 0-RTT that the server
# rejects, between openssl s_client and s_server on 127.0.0.1:PORT. A first
# s_server (-early_data) gives the client a session ticket that allows
# early data and exits; a second s_server on the same port, without
# -early_data and with its own ticket key (a restarted server), cannot
# resume it: the client's early data (the WebSocket upgrade request) is
# rejected, and the client sends the request again after the handshake,
# then two masked text frames; the server answers 101 and two text frames.
# Both write the key log (CLIENT_EARLY_TRAFFIC_SECRET included); MANIFEST
# lists the four messages.
set -euo pipefail
port=$1 keys=$2 manifest=$3
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
. "$here/openssl-ws-files.sh"
rm -f "$keys"
sleep 2 | timeout 5 openssl s_server -accept "$port" -cert cert.pem -key key.pem -alpn http/1.1 -keylogfile "$keys" -early_data -naccept 1 \
	>server1.log 2>&1 &
sleep 0.5
sleep 1 | timeout 5 openssl s_client -connect "127.0.0.1:$port" -servername wsdump.test -alpn http/1.1 -sess_out sess.pem -keylogfile "$keys" >c1.log 2>&1 || true
wait
(sleep 3.5; cat resp; sleep 0.3; cat s0; sleep 0.3; cat s1; sleep 3) |
	timeout 12 openssl s_server -accept "$port" -cert cert.pem -key key.pem -alpn http/1.1 -keylogfile "$keys" -naccept 1 \
		>server.log 2>&1 &
sleep 0.5
(sleep 2; cat req; sleep 0.3; cat c0; sleep 0.3; cat c1; sleep 2) |
	timeout 8 openssl s_client -connect "127.0.0.1:$port" -servername wsdump.test -alpn http/1.1 -sess_in sess.pem -early_data req -keylogfile "$keys" >c2.log 2>&1 || true
wait
grep -q 'Early data was rejected' c2.log || { echo "openssl-0rtt-reject: early data not rejected" >&2; exit 1; }
