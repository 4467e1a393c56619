#!/usr/bin/env python3
"""Slow command streams for the long-lived sessions of nonws__mixed-midstream.

usage: python3 slowpipe.py bytes FILE        FILE's bytes at ~10 KB/s (1 KB every 100 ms)
       python3 slowpipe.py redis VALUEFILE   RESP SET commands (binary values cut from VALUEFILE), one per 50 ms
       python3 slowpipe.py sql               psql statements (bytea rows, COPY TO STDOUT), a pair per 100 ms
"""
import sys
import time

out = sys.stdout.buffer
if sys.argv[1] == 'bytes':
    data = open(sys.argv[2], 'rb').read()
    for i in range(0, len(data), 1024):
        out.write(data[i:i + 1024])
        out.flush()
        time.sleep(0.1)
elif sys.argv[1] == 'redis':
    data = open(sys.argv[2], 'rb').read()
    for i in range(400):
        k = b'slow:%d' % i
        v = data[i * 50 % 900:][:i % 120]
        out.write(b'*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' % (len(k), k, len(v), v))
        out.flush()
        time.sleep(0.05)
else:
    for i in range(200):
        out.write(b'SELECT id, name, payload, meta FROM items WHERE id %% 40 = %d;\n' % (i % 40))
        out.write(b'COPY (SELECT id, digest FROM blobs WHERE id %% 50 = %d) TO STDOUT;\n' % (i % 50))
        out.flush()
        time.sleep(0.1)
