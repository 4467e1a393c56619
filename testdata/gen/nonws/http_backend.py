#!/usr/bin/env python3
"""Small HTTP/1.1 upstream behind nginx (proxy_pass, upstream keep-alive) for
nonws/record.sh. Python's stdlib http.server with keep-alive on.

usage: python3 http_backend.py PORT

POST /api/echo     reads the body (Content-Length or chunked) and answers with a
                   chunked JSON summary (length, sha256, first bytes) followed by
                   the body itself reversed, in several chunks
GET  /api/stream?n=N
                   N chunks of seeded text and binary (Transfer-Encoding: chunked)
"""
import hashlib
import http.server
import json
import random
import sys
import urllib.parse


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def body(self):
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            out = b''
            while True:
                size = int(self.rfile.readline().split(b';')[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get('Content-Length', 0)))

    def chunked(self, ctype, parts):
        self.send_response(200)
        self.send_header('Content-Type', ctype)
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        for p in parts:
            if p:
                self.wfile.write(b'%x\r\n%s\r\n' % (len(p), p))
        self.wfile.write(b'0\r\n\r\n')

    def do_POST(self):
        b = self.body()
        head = json.dumps({'len': len(b), 'sha256': hashlib.sha256(b).hexdigest(),
                           'first': b[:16].hex(), 'path': self.path}).encode() + b'\n'
        rev = b[::-1]
        self.chunked('application/octet-stream', [head] + [rev[i:i + 7919] for i in range(0, len(rev), 7919)])

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        n = int(urllib.parse.parse_qs(u.query).get('n', ['10'])[0])
        r = random.Random(n)
        parts = []
        for i in range(n):
            if i % 3 == 2:
                parts.append(bytes(r.getrandbits(8) for _ in range(r.randint(1, 4000))))
            else:
                parts.append((f'event {i} ' + 'x' * r.randint(0, 2000) + '\n').encode())
        self.chunked('application/octet-stream', parts)


http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
