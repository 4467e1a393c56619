#!/usr/bin/env python3
"""Cross-check recorded captures against their manifests, independently of wsdump.

    python3 testdata/gen/verify.py [testdata/pcaps/gen__X.pcap ...]

For each capture: tshark's "follow tcp raw" gives both byte streams of the
single TCP connection; this script skips the HTTP upgrade, parses WebSocket
frames itself (unmasking client frames), reassembles data messages and
compares (dir, opcode, len, sha256) with NAME.messages.tsv. Exit status 1 on
any mismatch.
"""
import glob
import hashlib
import os
import subprocess
import sys


def streams(path):
    out = subprocess.run(
        ["tshark", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", path, "-q",
         "-z", "follow,tcp,raw,0"],
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
        yield bool(b0 & 0x80), b0 & 0x0F, p


def messages(data, dirname, notes):
    msgs, cur, op, nframes = [], None, 0, 0
    for fin, opcode, p in frames(data):
        nframes += 1
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
        else:
            cur, op = bytearray(p), opcode
        if fin:
            msgs.append(f"{dirname}\t{op}\t{len(cur)}\t{hashlib.sha256(cur).hexdigest()}")
    return msgs, nframes


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(here, "..", "pcaps", "gen__*.pcap*")))
    bad = 0
    for f in files:
        manifest = f.rsplit(".pcap", 1)[0] + ".messages.tsv"
        with open(manifest) as fh:
            want = [l.rstrip("\n") for l in fh][1:]
        c2s, s2c = streams(f)
        notes = []
        mc, fc = messages(c2s, "c2s", notes)
        ms, fs = messages(s2c, "s2c", notes)
        wc = [l for l in want if l.startswith("c2s")]
        ws = [l for l in want if l.startswith("s2c")]
        ok = mc == wc and ms == ws
        bad += not ok
        print(f"{'OK  ' if ok else 'FAIL'} {os.path.basename(f)}: frames c2s={fc} s2c={fs}, "
              f"messages c2s={len(mc)}/{len(wc)} s2c={len(ms)}/{len(ws)}")
        for n in notes:
            if "ping" in n or "pong" in n or "close" in n or "empty" in n:
                print("      " + n)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
