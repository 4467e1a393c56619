#!/usr/bin/env python3
"""Cross-check recorded captures against their manifests, independently of wsdump.

    python3 testdata/gen/verify.py [testdata/pcaps/gen__X.pcap ...]

For each capture: tshark's "follow tcp raw" gives both byte streams of the
single TCP connection; this script skips the HTTP upgrade, parses WebSocket
frames itself (unmasking client frames), reassembles data messages and
compares (dir, opcode, len, sha256) with NAME.messages.tsv. Exit status 1 on
any mismatch.

permessage-deflate (RFC 7692): the parameters come from the 101 response's
Sec-WebSocket-Extensions. A message whose first frame has RSV1 set is
inflated here with zlib (raw deflate, window = the negotiated
{client,server}_max_window_bits of the sending side, default 15) after
appending 00 00 ff ff; the inflater is kept across the messages of a
direction unless that direction has {client,server}_no_context_takeover,
in which case each compressed message gets a fresh one. Uncompressed
messages on the same connection neither use nor disturb the context.
"""
import glob
import hashlib
import os
import re
import subprocess
import sys
import zlib


# Captures of several WebSocket connections one after the other, whose
# manifests list the connections' messages in turn: every TCP stream is
# checked, in order (the others hold one connection: stream 0).
SEQUENTIAL = {"gen__ws-node-nflog"}


def stream_count(path):
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "tcp.stream"],
                         check=True, capture_output=True, text=True).stdout
    return len({l for l in out.split() if l})


def streams(path, n=0):
    out = subprocess.run(
        ["tshark", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", path, "-q",
         "-z", f"follow,tcp,raw,{n}"],
        check=True, capture_output=True, text=True).stdout
    c2s, s2c = bytearray(), bytearray()
    body = False
    for line in out.splitlines():
        if line.startswith("Node 1:"):
            body = True
            continue
        if not body or not line.strip() or line.startswith("====="):
            continue
        if line.startswith("\t"):
            s2c += bytes.fromhex(line.strip())
        else:
            c2s += bytes.fromhex(line.strip())
    return bytes(c2s), bytes(s2c)


def extensions(s2c):
    """Negotiated permessage-deflate parameters from the 101 response, or None."""
    head = s2c[:s2c.index(b"\r\n\r\n")].decode("latin-1")
    vals = [m.group(1).strip() for m in
            re.finditer(r"(?im)^sec-websocket-extensions:(.*)$", head)]
    if not vals:
        return None, None
    line = ", ".join(vals)
    exts = [e.strip() for e in line.split(",") if e.strip()]
    if len(exts) != 1:
        raise ValueError(f"expected one extension, got {line!r}")
    parts = [x.strip() for x in exts[0].split(";")]
    if parts[0] != "permessage-deflate":
        raise ValueError(f"unsupported extension {line!r}")
    params = {}
    for x in parts[1:]:
        k, _, v = x.partition("=")
        params[k.strip()] = v.strip().strip('"') or True
    return line, params


class Inflater:
    """Per-direction permessage-deflate decoder (endpoint "client" or "server")."""

    def __init__(self, params, endpoint):
        bits = params.get(f"{endpoint}_max_window_bits", True)
        self.wbits = 15 if bits is True else int(bits)
        self.takeover = f"{endpoint}_no_context_takeover" not in params
        self.d = None

    def inflate(self, payload):
        if self.d is None or not self.takeover:
            self.d = zlib.decompressobj(-self.wbits)
        out = self.d.decompress(bytes(payload) + b"\x00\x00\xff\xff")
        if self.d.unconsumed_tail:
            raise ValueError("inflate: unconsumed input")
        if self.d.eof:  # BFINAL block: the next message starts a new stream
            self.d = None
        return out


def frames(data):
    i = data.index(b"\r\n\r\n") + 4
    while i < len(data):
        b0, b1 = data[i], data[i + 1]
        i += 2
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(data[i:i + 2], "big")
            i += 2
        elif n == 127:
            n = int.from_bytes(data[i:i + 8], "big")
            i += 8
        key = None
        if b1 & 0x80:
            key = data[i:i + 4]
            i += 4
        p = data[i:i + n]
        if len(p) != n:
            raise ValueError("truncated frame")
        i += n
        if key:
            p = bytes(c ^ key[j % 4] for j, c in enumerate(p))
        yield bool(b0 & 0x80), bool(b0 & 0x40), b0 & 0x0F, p


def messages(data, dirname, notes, inflater=None):
    msgs, cur, op, nframes = [], None, 0, 0
    compressed, mframes = False, 0
    stats = {"compressed": [], "plain": [], "fragmented": []}
    for fin, rsv1, opcode, p in frames(data):
        nframes += 1
        if rsv1 and (opcode == 0 or opcode >= 8):
            raise ValueError(f"{dirname}: RSV1 on opcode {opcode}")
        if rsv1 and inflater is None:
            raise ValueError(f"{dirname}: RSV1 without permessage-deflate")
        if opcode >= 8:
            if opcode == 8:
                code = int.from_bytes(p[:2], "big") if len(p) >= 2 else None
                notes.append(f"{dirname} close code={code} reason={p[2:].decode()!r}")
            else:
                notes.append(f"{dirname} {'ping' if opcode == 9 else 'pong'} {p!r}")
            continue
        if opcode == 0:
            if len(p) == 0 and fin:
                notes.append(f"{dirname} empty FIN continuation after {len(cur)} bytes")
            cur += p
            mframes += 1
        else:
            cur, op, compressed, mframes = bytearray(p), opcode, rsv1, 1
        if fin:
            wire = len(cur)
            if compressed:
                cur = inflater.inflate(cur)
            i = len(msgs)
            stats["compressed" if compressed else "plain"].append(i)
            if mframes > 1:
                stats["fragmented"].append(f"#{i}:{mframes}{'z' if compressed else ''}")
            if compressed:
                stats.setdefault("ratio", []).append((wire, len(cur)))
            msgs.append(f"{dirname}\t{op}\t{len(cur)}\t{hashlib.sha256(cur).hexdigest()}")
    return msgs, nframes, stats


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(here, "..", "pcaps", "gen__*.pcap*")))
    # HTTP fallback transports (SockJS, Engine.IO polling, issue 18): verify-fallback.py checks those
    fallback = re.compile(r"gen__(sockjs-|engineio-(polling|upgrade|v3-))")
    if not sys.argv[1:]:
        files = [f for f in files if not fallback.search(os.path.basename(f))]
    bad = 0
    for f in files:
        manifest = f.rsplit(".pcap", 1)[0] + ".messages.tsv"
        with open(manifest) as fh:
            want = [l.rstrip("\n") for l in fh][1:]
        n = stream_count(f) if os.path.basename(f).rsplit(".pcap", 1)[0] in SEQUENTIAL else 1
        mc, fc, ms, fs, notes = [], 0, [], 0, []
        for k in range(n):
            c2s, s2c = streams(f, k)
            ext, params = extensions(s2c)
            ic = Inflater(params, "client") if params is not None else None
            is_ = Inflater(params, "server") if params is not None else None
            m, fr, sc = messages(c2s, "c2s", notes, ic)
            mc, fc = mc + m, fc + fr
            m, fr, ss = messages(s2c, "s2c", notes, is_)
            ms, fs = ms + m, fs + fr
        wc = [l for l in want if l.startswith("c2s")]
        ws = [l for l in want if l.startswith("s2c")]
        ok = mc == wc and ms == ws
        bad += not ok
        print(f"{'OK  ' if ok else 'FAIL'} {os.path.basename(f)}: frames c2s={fc} s2c={fs}, "
              f"messages c2s={len(mc)}/{len(wc)} s2c={len(ms)}/{len(ws)}")
        if ext is not None:
            print(f"      Sec-WebSocket-Extensions: {ext}")
            for d, st, inf in (("c2s", sc, ic), ("s2c", ss, is_)):
                wire = sum(w for w, _ in st.get("ratio", []))
                raw = sum(r for _, r in st.get("ratio", []))
                print(f"      {d} window={inf.wbits} {'takeover' if inf.takeover else 'no-context'}: "
                      f"{len(st['compressed'])} compressed ({raw} -> {wire} B), "
                      f"uncompressed #{','.join(map(str, st['plain'])) or '-'}")
                print(f"      {d} fragmented (#msg:frames, z=compressed): {' '.join(st['fragmented']) or '-'}")
        for n in notes:
            if "ping" in n or "pong" in n or "close" in n or "empty" in n:
                print("      " + n)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
