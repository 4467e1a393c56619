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
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem \
	-days 2 -subj /CN=wsdump.test 2>/dev/null
python3 - "$manifest" <<'PY'
import hashlib, sys
open("req", "wb").write(b"GET /chat HTTP/1.1\r\nHost: wsdump.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
open("resp", "wb").write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
rows = ["dir\topcode\tlen\tsha256"]
for side in ("s", "c"):
    for i in range(2):
        p = b"%s msg %d" % (b"server" if side == "s" else b"client", i)
        k = b"\x01\x02\x03\x04"
        f = bytes([0x81, (0x80 if side == "c" else 0) | len(p)])
        f += k + bytes(b ^ k[j % 4] for j, b in enumerate(p)) if side == "c" else p
        open(side + str(i), "wb").write(f)
        rows.append("%s\t1\t%d\t%s" % ("c2s" if side == "c" else "s2c", len(p), hashlib.sha256(p).hexdigest()))
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
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
