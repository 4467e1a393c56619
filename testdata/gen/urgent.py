#!/usr/bin/env python3
"""gen__ws-urgent: TCP urgent data (MSG_OOB) from a WebSocket client.

    python3 urgent.py --port N --expect OUT.expect.json

Starts urgent-server.js (node `ws`, which like every node and Go server reads
without SO_OOBINLINE) and plays two connections from this client, which
frames its messages itself (RFC 6455, masked, seeded keys) because no
WebSocket library sends urgent data: send() with MSG_OOB sets the TCP URG
flag and the urgent pointer, and the receiving Linux kernel (tcp_stdurg 0)
takes the last byte of that send out of the stream.

  /urgent/hidden-byte   text "before the urgent byte"; one byte 0x81 sent
                        with MSG_OOB; text "hello"; text "after the urgent
                        byte"; Close 1000. The server never reads the 0x81
                        and reads the three messages as sent; a decoder
                        with the byte in the stream (tshark, wsdump) frames
                        81 81 85 ... instead.
  /urgent/urgent-frame  text "before"; a binary frame of 3000 bytes on the
                        wire (2992 seeded bytes) in one send with MSG_OOB,
                        so the urgent byte is its last; text "after". The
                        server misses that last byte, takes the next
                        frame's first byte (0x81) in its place, then reads
                        0x85 as a header (opcode 5) and closes with 1002.
                        A decoder with the byte in the stream reads every
                        frame as sent.

The manifest, NAME.expect.json, has per connection: the client port, every
send (time, bytes, SHA-256, MSG_OOB or not, what it holds), the messages
sent (opcode, length, SHA-256), what the server read (its messages, the
bytes its socket handed over after the upgrade, its error and Close), the
bytes taken out (offset in the client's bytes after its request, value:
checked here against what the server read), and the Close the client got.
There is no NAME.messages.tsv: on /urgent/hidden-byte what was sent is not
what a decoder of the captured stream reads, by design.
"""
import argparse
import base64
import hashlib
import json
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HERE = os.path.dirname(os.path.abspath(__file__))
rnd = random.Random(0x75726721)  # "urg!": keys and payloads the same on every run


def sha(b):
    return hashlib.sha256(b).hexdigest()


def frame(opcode, payload):
    """A masked client frame (RFC 6455 §5.2) with a seeded key."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    key = bytes(rnd.randrange(256) for _ in range(4))
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class Conn:
    def __init__(self, port, path):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rec = {"path": path, "client_port": self.s.getsockname()[1], "sends": [], "messages": [], "_bytes": []}
        key = base64.b64encode(bytes(rnd.randrange(256) for _ in range(16)))
        self.s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1:" + str(port).encode() +
                       b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                       b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            b = self.s.recv(4096)
            if not b:
                sys.exit("urgent.py: server closed during the handshake")
            head += b
        head, self.buf = head.split(b"\r\n\r\n", 1)
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        if not head.startswith(b"HTTP/1.1 101") or b"Sec-WebSocket-Accept: " + accept not in head:
            sys.exit("urgent.py: no 101 with the right accept: %r" % head)

    def send(self, data, oob, what):
        """One send() call (MSG_OOB or not), recorded."""
        t = time.time()
        n = self.s.send(data, socket.MSG_OOB if oob else 0)
        if n != len(data):
            sys.exit("urgent.py: short send %d of %d" % (n, len(data)))
        self.rec["_bytes"].append(data)
        self.rec["sends"].append({"t": round(t, 6), "len": len(data), "sha256": sha(data), "oob": oob, "what": what})
        time.sleep(0.1)  # each send its own segments, read by the server before the next

    def message(self, opcode, payload, oob=False):
        self.rec["messages"].append({"opcode": opcode, "len": len(payload), "sha256": sha(payload)})
        self.send(frame(opcode, payload), oob, "%s frame, payload %d bytes" % ({1: "text", 2: "binary"}[opcode], len(payload)))

    def close(self):
        """Close 1000 unless the server closes first (its Close is echoed); then the server's FIN."""
        self.s.settimeout(3)
        got, sent = None, False
        while True:
            while len(self.buf) >= 2 and len(self.buf) >= 2 + (self.buf[1] & 0x7f):
                op, n = self.buf[0] & 0x0f, self.buf[1] & 0x7f  # the server sends only a short Close
                body, self.buf = self.buf[2:2 + n], self.buf[2 + n:]
                if op == 8 and got is None:
                    got = {"t": round(time.time(), 6), "code": struct.unpack(">H", body[:2])[0] if len(body) >= 2 else None,
                           "reason": body[2:].decode("utf-8", "replace")}
                    if not sent:
                        sent = True
                        self.send(frame(8, body[:2]), False, "close frame, the server's code echoed")
            if not sent and not select.select([self.s], [], [], 0.5)[0]:
                sent = True
                self.send(frame(8, struct.pack(">H", 1000) + b"bye"), False, "close frame 1000 bye")
                continue
            b = self.s.recv(4096)
            if not b:
                break
            self.buf += b
        self.s.close()
        self.rec["close_received"] = got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--expect", required=True)
    a = ap.parse_args()
    srv = subprocess.Popen(["node", os.path.join(HERE, "urgent-server.js"), "--port", str(a.port)],
                           stdout=subprocess.PIPE, text=True)
    try:
        if srv.stdout.readline().strip() != "listening":
            sys.exit("urgent.py: the server did not start")
        play(a, srv)
    finally:
        srv.kill()
        srv.wait()


def play(a, srv):
    conns = []

    c = Conn(a.port, "/urgent/hidden-byte")
    c.message(1, b"before the urgent byte")
    c.send(b"\x81", True, "one byte 0x81 (a text frame's first header byte)")
    c.message(1, b"hello")
    c.message(1, b"after the urgent byte")
    c.close()
    conns.append(c.rec)

    c = Conn(a.port, "/urgent/urgent-frame")
    c.message(1, b"before")
    c.message(2, bytes(rnd.randrange(256) for _ in range(2992)), oob=True)
    c.message(1, b"after")
    c.close()
    conns.append(c.rec)

    for rec in conns:
        got = json.loads(srv.stdout.readline())
        if got["client_port"] != rec["client_port"]:
            sys.exit("urgent.py: server's report of port %d, want %d" % (got["client_port"], rec["client_port"]))
        del got["client_port"], got["path"]
        rec["server_read"] = got
        rec["oob_sends"] = sum(s["oob"] for s in rec["sends"])
        rec["sent_bytes"] = sum(s["len"] for s in rec["sends"])
        sent = rec.pop("_bytes")
        rec["sent_sha256"] = sha(b"".join(sent))
        # Linux (tcp_stdurg 0) takes out the last byte of each MSG_OOB send:
        # check that the server read every other byte, in order.
        kept, rec["taken_out"], off = [], [], 0
        for s, b in zip(rec["sends"], sent):
            if s["oob"]:
                rec["taken_out"].append({"offset": off + len(b) - 1, "byte": b[-1]})
                b = b[:-1]
            kept.append(b)
            off += s["len"]
        if sha(b"".join(kept)) != got["read_sha256"]:
            sys.exit("urgent.py: %s: the server read %d bytes, not the %d sent less the urgent ones" % (rec["path"], got["read_bytes"], len(b"".join(kept))))

    with open(a.expect, "w") as f:
        json.dump({"kernel": os.uname().release, "tcp_stdurg": open("/proc/sys/net/ipv4/tcp_stdurg").read().strip(),
                   "server": "node ws 8.18.3 (no SO_OOBINLINE)", "connections": conns}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
