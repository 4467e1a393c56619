# openssl-ws-files.sh, sourced by the openssl generators in the current
# (temporary) folder with MANIFEST in $manifest: a self-signed certificate
# (cert.pem, key.pem), the WebSocket upgrade request and its 101 (req,
# resp), two text frames each way (c0 c1 masked, s0 s1), and MANIFEST listing
# the four messages (dir, opcode, len, SHA-256).
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
