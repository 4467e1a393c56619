#!/usr/bin/env python3
"""The text messages of a capture, for appproto's BenchmarkScanBodies.

  wsdump -r F --format jsonl -j 1 | python3 bench/bodies.py OUT

writes the data of every text message (opcode 1), in order, to OUT: per
message a u32 length (little-endian) and the bytes. Then, in appproto:

  WSDUMP_JSON_BODIES=OUT go test -run '^$' -bench ScanBodies -benchtime 1x -cpu 1

(section 23). Prints the number of messages and their bytes.
"""
import base64, json, struct, sys


def main():
    out = open(sys.argv[1], "wb")
    n = total = 0
    for line in sys.stdin:
        if not line.startswith('{"type":"message"'):
            continue
        m = json.loads(line)
        if m.get("opcode") != 1:
            continue
        data = base64.b64decode(m["data"])
        out.write(struct.pack("<I", len(data)))
        out.write(data)
        n += 1
        total += len(data)
    out.close()
    print(n, "messages,", total, "bytes")


if __name__ == "__main__":
    main()
