#!/usr/bin/env python3
"""Cross-check the WebSocket-over-HTTP/2 captures (gen__h2*) against their
manifests, independently of wsdump.

    python3 testdata/gen/verify-h2.py [testdata/pcaps/gen__h2c-connect.pcap ...]

For each capture: tshark's "follow tcp raw" (cleartext) or "follow tls raw"
with the key log beside it (NAME.keys) gives both byte streams of the single
TCP connection; this script parses the HTTP/2 frames itself (preface, frame
headers, padding; no HPACK: the WebSocket streams' ids come from
NAME.expect.json), concatenates each stream's DATA per direction, parses the
WebSocket frames in it (unmasking client frames), inflates permessage-deflate
messages (verify.py's Inflater, parameters from the stream's
sec-websocket-extensions response header as the generator recorded it),
and compares (dir, opcode, len, sha256) per stream with the expect file's
messages and, all streams together in the order each message's last byte
appears in its direction's byte stream, with NAME.messages.tsv. It prints
the frame types per stream (HEADERS flags, DATA, RST_STREAM code, GOAWAY).
Exit status 1 on any mismatch.
"""
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verify import Inflater  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
TYPES = {0: "DATA", 1: "HEADERS", 2: "PRIORITY", 3: "RST_STREAM", 4: "SETTINGS", 5: "PUSH_PROMISE",
         6: "PING", 7: "GOAWAY", 8: "WINDOW_UPDATE", 9: "CONTINUATION"}


def streams(path, keys):
    args = ["tshark", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", path, "-q"]
    if keys:
        args[1:1] = ["-o", f"tls.keylog_file:{keys}"]
        args += ["-z", "follow,tls,raw,0"]
    else:
        args += ["-z", "follow,tcp,raw,0"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    c2s, s2c = bytearray(), bytearray()
    body = False
    for line in out.splitlines():
        if line.startswith("Node 1:"):
            body = True
            continue
        if not body or not line.strip() or line.startswith("====="):
            continue
        (s2c if line.startswith("\t") else c2s).extend(bytes.fromhex(line.strip()))
    if s2c.startswith(PREFACE):  # follow,tls names the nodes by the first decrypted record
        c2s, s2c = s2c, c2s
    return bytes(c2s), bytes(s2c)


def h2frames(data, client):
    """(type, flags, stream, payload, end_offset) per HTTP/2 frame; DATA payload without padding."""
    i = 0
    if client:
        if not data.startswith(PREFACE):
            raise ValueError("no client connection preface")
        i = len(PREFACE)
    while i + 9 <= len(data):
        n = int.from_bytes(data[i:i + 3], "big")
        t, fl = data[i + 3], data[i + 4]
        sid = int.from_bytes(data[i + 5:i + 9], "big") & 0x7FFFFFFF
        p = data[i + 9:i + 9 + n]
        if len(p) != n:
            raise ValueError("truncated HTTP/2 frame")
        if t in (0, 1) and fl & 0x8:  # PADDED
            p = p[1:len(p) - p[0]]
        i += 9 + n
        yield t, fl, sid, p, i
    if i != len(data):
        raise ValueError(f"{len(data) - i} trailing bytes")


def ws_messages(chunks, dirname, inflater, notes):
    """chunks: [(bytes, end_offset)] of one stream and direction. Yields (end_offset, line)."""
    buf = bytearray()
    ends = []  # (cumulative length, connection offset)
    for b, off in chunks:
        buf += b
        ends.append((len(buf), off))

    def where(pos):  # connection offset of the DATA frame holding byte pos-1
        for n, off in ends:
            if n >= pos:
                return off
        return ends[-1][1]

    i, cur, op, comp, nfr = 0, None, 0, False, 0
    while i < len(buf):
        b0, b1 = buf[i], buf[i + 1]
        i += 2
        n = b1 & 0x7F
        if n == 126:
            n, i = int.from_bytes(buf[i:i + 2], "big"), i + 2
        elif n == 127:
            n, i = int.from_bytes(buf[i:i + 8], "big"), i + 8
        key = None
        if b1 & 0x80:
            key, i = buf[i:i + 4], i + 4
        if (key is not None) != (dirname == "c2s"):
            raise ValueError(f"{dirname}: masking wrong")
        p = bytes(buf[i:i + n])
        if len(p) != n:
            notes.append(f"{dirname}: truncated WebSocket frame at stream end ({len(p)}/{n} bytes)")
            return
        i += n
        if key:
            p = bytes(c ^ key[j % 4] for j, c in enumerate(p))
        fin, rsv1, opcode = bool(b0 & 0x80), bool(b0 & 0x40), b0 & 0x0F
        if opcode >= 8:
            if opcode == 8:
                notes.append(f"{dirname} close code={int.from_bytes(p[:2], 'big') if len(p) >= 2 else None} reason={p[2:].decode()!r}")
            else:
                notes.append(f"{dirname} {'ping' if opcode == 9 else 'pong'} {p.decode(errors='replace')!r}")
            continue
        if opcode:
            cur, op, comp, nfr = bytearray(p), opcode, rsv1, 1
        else:
            cur += p
            nfr += 1
        if fin:
            data = inflater.inflate(cur) if comp else bytes(cur)
            yield where(i), f"{dirname}\t{op}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}", comp, nfr


def params_of(ext):
    if not ext:
        return None
    parts = [x.strip() for x in ext.split(",")[0].split(";")]
    d = {}
    for x in parts[1:]:
        k, _, v = x.partition("=")
        d[k.strip()] = v.strip().strip('"') or True
    return d


def check(path):
    base = re.sub(r"\.pcap(ng)?$", "", path)
    keys = base + ".keys" if os.path.exists(base + ".keys") else None
    exp = json.load(open(base + ".expect.json"))
    with open(base + ".messages.tsv") as fh:
        manifest = [l.rstrip("\n") for l in fh][1:]
    c2s, s2c = streams(path, keys)
    ok = True
    wire = []
    summary = {}
    for dirname, data in (("c2s", c2s), ("s2c", s2c)):
        per = {}
        for t, fl, sid, p, end in h2frames(data, dirname == "c2s"):
            name = TYPES.get(t, str(t))
            s = summary.setdefault((sid, dirname), [])
            label = name
            if t == 0:
                per.setdefault(sid, []).append((p, end))
                label = f"DATA{'+ES' if fl & 1 else ''}"
            elif t == 1:
                label = f"HEADERS{'+ES' if fl & 1 else ''}{'' if fl & 4 else '(no END_HEADERS)'}"
            elif t == 3:
                label = f"RST_STREAM({int.from_bytes(p[:4], 'big')})"
            elif t == 7:
                label = f"GOAWAY(last={int.from_bytes(p[:4], 'big') & 0x7FFFFFFF},code={int.from_bytes(p[4:8], 'big')})"
            elif t in (4, 8, 6):
                continue
            s.append(label)
        for st in exp["streams"]:
            sid = st["stream_id"]
            prm = params_of(st.get("extensions"))
            inf = Inflater(prm, "client" if dirname == "c2s" else "server") if prm is not None else None
            notes = []
            got = list(ws_messages(per.get(sid, []), dirname, inf, notes))
            want = [m for m in exp["messages"] if m["stream_id"] == sid and m["dir"] == dirname]
            g = [x[1] for x in got]
            w = [f"{m['dir']}\t{m['opcode']}\t{m['len']}\t{m['sha256']}" for m in want]
            good = g == w and [x[2] for x in got] == [m["compressed"] for m in want] and [x[3] for x in got] == [m["frames"] for m in want]
            ok &= good
            print(f"  {'ok  ' if good else 'FAIL'} stream {sid} {st['request'][':path']} {dirname}: {len(g)}/{len(w)} messages"
                  f" ({sum(x[2] for x in got)} compressed, fragmented: {[x[3] for x in got if x[3] > 1] or '-'}); {'; '.join(notes) or 'no control frames'}")
            wire += [(dirname, x[0], x[1]) for x in got]
    for (sid, d), labels in sorted(summary.items()):
        if not labels:
            continue
        runs = []  # run-length: DATAx12
        for lb in labels:
            if runs and runs[-1][0] == lb:
                runs[-1][1] += 1
            else:
                runs.append([lb, 1])
        print(f"  stream {sid} {d}: {' '.join(lb if n == 1 else f'{lb}x{n}' for lb, n in runs)}")
    for dirname in ("c2s", "s2c"):
        order = [x[2] for x in sorted((x for x in wire if x[0] == dirname), key=lambda x: x[1])]
        m = [l for l in manifest if l.startswith(dirname)]
        same = order == m
        ok &= same
        print(f"  {'ok  ' if same else 'FAIL'} {dirname}: wire order of all streams' messages {'equals' if same else 'DIFFERS from'} the manifest ({len(order)}/{len(m)})")
    return ok


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(here, "..", "pcaps", "gen__h2*.pcap*")))
    bad = 0
    for f in files:
        print(os.path.basename(f))
        good = check(f)
        bad += not good
        print("  => " + ("OK" if good else "FAIL"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
