#!/usr/bin/env python3
"""The floor of inflating a capture's compressed messages (bench/inflate.sh).

  wsdump -r F --format jsonl -j 1 | inflatedump.py dump OUT
      writes the compressed messages (permessage-deflate, RSV1) of every
      direction, in order, to OUT: per message a u32 direction, a u8
      no_context_takeover flag, a u32 length and the bytes without the
      00 00 ff ff tail (little-endian). A direction stops at a message whose
      frames were not kept whole (its window would be wrong after it).

bench/zlib/zlibinflate.c inflates them with zlib, BenchmarkInflateDump (wsparse,
WSDUMP_INFLATE_DUMP=OUT) with wsdump's inflater and with compress/flate.
"""
import base64, json, struct, sys


def dump(path):
    out = open(path, "wb")
    params = {}   # (conn, stream) -> (c2s noctx, s2c noctx)
    cur = {}      # (conn, stream, dir) -> bytearray of the message being read
    broken = set()
    ids = {}
    n = total = 0
    for line in sys.stdin:
        if line.startswith('{"type":"handshake"'):
            h = json.loads(line)
            ws = (h["conn"], h.get("stream", 0))  # an HTTP/2 connection's WebSockets are its streams
            d = h.get("deflate")
            if d:
                params[ws] = (d["client_no_context_takeover"], d["server_no_context_takeover"])
            else:
                params.pop(ws, None)
            continue
        if not line.startswith('{"type":"frame"'):
            continue
        f = json.loads(line)
        ws = (f["conn"], f.get("stream", 0))
        key = ws + (f["dir"],)
        if ws not in params or key in broken:
            continue
        op = f["opcode"]
        if op in (1, 2):
            cur.pop(key, None)
            if f["rsv"] & 4 == 0:
                continue
            cur[key] = bytearray()
        elif op != 0 or key not in cur:
            continue
        p = base64.b64decode(f.get("payload", ""))
        if len(p) != f["len"]:
            broken.add(key)
            cur.pop(key, None)
            continue
        cur[key] += p
        if f["fin"]:
            m = cur.pop(key)
            sid = ids.setdefault(key, len(ids))
            noctx = params[ws][0 if f["dir"] == "c2s" else 1]
            out.write(struct.pack("<IBI", sid, 1 if noctx else 0, len(m)))
            out.write(m)
            n += 1
            total += len(m)
    print(f"{n} messages, {total} bytes, {len(ids)} directions, {len(broken)} broken", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "dump":
        dump(sys.argv[2])
    else:
        sys.exit(__doc__)
