#!/bin/bash
# openssl-h2-reneg.sh PORT KEYS MANIFEST [before-preface]: HTTP/2 over TLS 1.2 between openssl
# s_client and s_server on 127.0.0.1:PORT (ALPN h2), which renegotiates
# after the connection preface, as RFC 9113 §9.2.1 forbids. Both programs
# only carry bytes: the HTTP/2 frames (the server's SETTINGS with
# SETTINGS_ENABLE_CONNECT_PROTOCOL=1, the client preface, an extended
# CONNECT for websocket on stream 1 and its 200, HPACK literals only) and
# the WebSocket frames in DATA are written here, to each program's stdin.
# After one message each way, `r` on s_server's stdin renegotiates (its
# HelloRequest; s_client answers with a ClientHello resuming the session);
# then one message each way, the Close handshake and END_STREAM both ways.
# No HTTP/2 library renegotiates: node's http2 refuses (its socket's
# disableRenegotiation) and, with that bypassed, aborts on an assertion.
# With before-preface, `r` comes right after the first handshake, before
# any HTTP/2 byte (which RFC 9113 §9.2.1 allows), and not again.
# s_client writes the key log; MANIFEST lists the four data messages.
set -euo pipefail
port=$1 keys=$2 manifest=$3 when=${4:-after-preface}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem \
	-days 2 -subj /CN=wsdump.test 2>/dev/null
rm -f "$keys"
python3 - "$port" "$keys" "$manifest" "$when" <<'PY'
import hashlib, struct, subprocess, sys, time
port, keys, manifest, when = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def frame(typ, flags, sid, payload):  # RFC 9113 §4.1
    return struct.pack(">I", len(payload))[1:] + bytes([typ, flags]) + struct.pack(">I", sid) + payload
def lit(idx, val):  # RFC 7541 §6.2.2: literal without indexing, indexed name
    return bytes([idx, len(val)]) + val
def litname(name, val):  # and a new name
    return bytes([0, len(name)]) + name + bytes([len(val)]) + val
rows = ["dir\topcode\tlen\tsha256"]
def ws(op, payload, client):  # RFC 6455 §5.2, payloads under 126 bytes
    if op == 1:
        rows.append("%s\t1\t%d\t%s" % ("c2s" if client else "s2c", len(payload), hashlib.sha256(payload).hexdigest()))
    if not client:
        return bytes([0x80 | op, len(payload)]) + payload
    key = b"\x5a\x17\xc3\x08"
    return bytes([0x80 | op, 0x80 | len(payload)]) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
DATA, HEADERS, SETTINGS = 0, 1, 4
srv = subprocess.Popen(["openssl", "s_server", "-accept", str(port), "-cert", "cert.pem", "-key", "key.pem",
                        "-tls1_2", "-alpn", "h2", "-naccept", "1"], stdin=subprocess.PIPE, stdout=open("server.log", "w"), stderr=subprocess.STDOUT)
time.sleep(0.5)
cli = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_2", "-alpn", "h2",
                        "-servername", "wsdump.test", "-keylogfile", keys], stdin=subprocess.PIPE, stdout=open("client.log", "w"), stderr=subprocess.STDOUT)
time.sleep(0.5)
def send(p, b):
    p.stdin.write(b)
    p.stdin.flush()
    time.sleep(0.2)
if when == "before-preface":
    send(srv, b"r\n")  # before any HTTP/2 byte: allowed
    time.sleep(0.5)
send(srv, frame(SETTINGS, 0, 0, struct.pack(">HI", 8, 1)))  # RFC 8441 §3
hdr = lit(2, b"CONNECT") + litname(b":protocol", b"websocket") + b"\x87" + lit(4, b"/ws") + lit(1, b"wsdump.test:%d" % port)
send(cli, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0, b"") + frame(SETTINGS, 1, 0, b"") + frame(HEADERS, 4, 1, hdr))
send(srv, frame(SETTINGS, 1, 0, b"") + frame(HEADERS, 4, 1, b"\x88"))  # :status 200
send(cli, frame(DATA, 0, 1, ws(1, b"client: before the renegotiation", True)))
send(srv, frame(DATA, 0, 1, ws(1, b"server: before the renegotiation", False)))
if when != "before-preface":
    send(srv, b"r\n")  # s_server: SSL_renegotiate, a HelloRequest
    time.sleep(0.5)
send(cli, frame(DATA, 0, 1, ws(1, b"client: after the renegotiation", True)))
send(srv, frame(DATA, 0, 1, ws(1, b"server: after the renegotiation", False)))
send(cli, frame(DATA, 0, 1, ws(8, b"\x03\xe8", True)))
send(srv, frame(DATA, 1, 1, ws(8, b"\x03\xe8", False)))  # and END_STREAM
send(cli, frame(DATA, 1, 1, b""))
time.sleep(0.3)
cli.stdin.close()
srv.stdin.close()
time.sleep(0.5)
cli.kill()
srv.kill()
open(manifest, "w").write("\n".join(rows) + "\n")
PY
grep -q 'Secure Renegotiation IS supported' client.log || { echo "openssl-h2-reneg: no secure renegotiation" >&2; exit 1; }
# The renegotiation's handshake is logged under its own client random.
[ "$(grep -c '^CLIENT_RANDOM ' "$keys")" = 2 ] || { echo "openssl-h2-reneg: no renegotiation in the key log" >&2; exit 1; }
