#!/usr/bin/env python3
"""A listener that accepts and resets at once, and a client that retries.

The server accepts each connection and closes it with SO_LINGER {on, 0}:
the kernel sends RST (no FIN), before any byte either way. The client
connects --tries times, --delay seconds apart, waits for the connection to
end (recv raises ECONNRESET) and tries again, as a reconnect loop whose
server's backend is down. Writes the manifest (--manifest: the header of
messages.tsv, no WebSocket message) and --expect (each connect: its client
port, when it connected, when it saw the reset and the error).
"""
import argparse
import errno
import json
import socket
import struct
import threading
import time


def serve(srv, n, accepted):
    for _ in range(n):
        c, addr = srv.accept()
        accepted.append({"client_port": addr[1], "time": round(time.time(), 6)})
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()  # RST, no FIN


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tries", type=int, default=4)
    ap.add_argument("--delay", type=float, default=1.0)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--expect", required=True)
    a = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", a.port))
    srv.listen(16)
    accepted = []
    t = threading.Thread(target=serve, args=(srv, a.tries, accepted), daemon=True)
    t.start()
    tries = []
    for i in range(a.tries):
        if i:
            time.sleep(a.delay)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(("127.0.0.1", a.port))
        rec = {"try": i + 1, "client_port": s.getsockname()[1], "connected": round(time.time(), 6)}
        try:
            data = s.recv(1)
            rec["error"] = "EOF" if data == b"" else "data"
        except OSError as e:
            rec["error"] = errno.errorcode.get(e.errno, str(e.errno))
        rec["ended"] = round(time.time(), 6)
        s.close()
        tries.append(rec)
    t.join(5)
    srv.close()
    with open(a.manifest, "w") as f:
        f.write("dir\topcode\tlen\tsha256\n")
    with open(a.expect, "w") as f:
        json.dump({"scenario": "conn-reset", "server": "python3 socket: accept, SO_LINGER {1, 0}, close (RST)",
                   "client": "python3 socket: connect, recv until the reset, " + str(a.delay) + " s, again",
                   "server_port": a.port, "delay": a.delay, "tries": tries, "accepted": accepted}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
