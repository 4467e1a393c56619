#!/usr/bin/env python3
"""Checks wsdump's decode of a benchmark capture against the generator's manifest
and prints the capture's make-up as wsdump sees it.

    python3 bench/verify.py bench/data/ws-bench-100mb.pcap [WSDUMP]

Runs `WSDUMP -r FILE --format jsonl` (default: bench/data/wsdump, which
bench/run.sh builds), maps each connection to the generator's connection
number through the request URI (/bench/N?...), and compares every data
message, per connection and direction, in order, with NAME.messages.tsv
(opcode, length, SHA-256 of the uncompressed payload). Exit status 1 on any
difference.
"""
import base64
import collections
import hashlib
import json
import os
import re
import subprocess
import sys


def main():
    pcap = sys.argv[1]
    wsdump = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "data", "wsdump")
    manifest_path = re.sub(r"\.pcap(ng)?$", "", pcap) + ".messages.tsv"

    want = collections.defaultdict(list)  # (conn, dir) -> [(opcode, len, sha)]
    with open(manifest_path) as f:
        next(f)
        for line in f:
            c, d, _n, op, ln, sha = line.rstrip("\n").split("\t")
            want[(int(c), d)].append((int(op), int(ln), sha))

    got = collections.defaultdict(list)
    plan_conn = {}  # wsdump conn id -> generator conn number
    conns = []
    proc = subprocess.Popen([wsdump, "-r", pcap, "--format", "jsonl"], stdout=subprocess.PIPE, text=True)
    pending = collections.defaultdict(list)  # messages seen before their handshake (never expected)
    for line in proc.stdout:
        o = json.loads(line)
        t = o["type"]
        if t == "handshake":
            m = re.match(r"/bench/(\d+)\?", o.get("uri", ""))
            if m:
                plan_conn[o["conn"]] = int(m.group(1))
        elif t == "message" and o["opcode"] in (1, 2):
            key = o["conn"]
            data = base64.b64decode(o.get("data", ""))
            rec = (o["opcode"], len(data), hashlib.sha256(data).hexdigest(), o.get("anomalies", []))
            if key in plan_conn:
                got[(plan_conn[key], o["dir"])].append(rec)
            else:
                pending[key].append(rec)
        elif t == "conn":
            conns.append(o)
    if proc.wait() != 0:
        sys.exit(f"verify: wsdump exited with {proc.returncode}")

    bad = 0
    matched = 0
    extra = 0
    for key in sorted(set(want) | set(got)):
        w, g = want.get(key, []), got.get(key, [])
        for i, exp in enumerate(w):
            if i >= len(g):
                print(f"conn {key[0]} {key[1]}: message {i} missing (want {exp[0]} len {exp[1]})")
                bad += 1
                break
            if g[i][:3] != exp:
                print(f"conn {key[0]} {key[1]}: message {i}: got opcode {g[i][0]} len {g[i][1]} {g[i][3]}, want opcode {exp[0]} len {exp[1]}")
                bad += 1
                break
            matched += 1
        # an abrupt ending may cut one message the manifest does not list
        extra += max(0, len(g) - len(w))
    n = len(conns)
    v6 = sum(1 for c in conns if c["client"].startswith("["))
    defl = sum(1 for c in conns if "permessage-deflate" in c.get("extensions", ""))
    ends = collections.Counter(c.get("end", "?") for c in conns)
    print(f"connections {n} (IPv6 {v6}, permessage-deflate {defl} = {100 * defl / max(n, 1):.0f}%), endings {dict(ends)}")
    print(f"messages: {matched} of {sum(len(v) for v in want.values())} match the manifest, "
          f"{extra} more (cut by abrupt endings), {sum(len(v) for v in pending.values())} without handshake; "
          f"{bad} connection-directions differ")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
