#!/usr/bin/env python3
"""Writes the deterministic (seeded) payload files used by nonws/record.sh.

usage: python3 mkdata.py DIR

DIR/www/      files served by nginx (HTML, JSON, text log, a real PNG, random
              binary, a pre-gzipped file) and a few large files for the
              throttled mid-stream transfers
DIR/data/     request bodies, scp files, Redis values and command streams,
              SQL scripts, psql COPY input
Same bytes on every run (random.Random seeded), so re-recorded captures
carry the same payloads.
"""
import gzip
import json
import os
import random
import struct
import sys
import zlib

R = random.Random(0x6E6F6E7773)  # "nonws"
WORDS = ('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor '
         'incididunt ut labore et dolore magna aliqua packet capture stream segment '
         'window socket frame handshake').split()


def rbytes(n):
    return R.randbytes(n)


def sentence(n_words):
    return ' '.join(R.choice(WORDS) for _ in range(n_words))


def html(n):
    parts = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
             '<title>wsdump non-WebSocket fixture</title>'
             '<link rel="stylesheet" href="/style.css"></head>\n<body>\n']
    i = 0
    while sum(map(len, parts)) < n - 40:
        parts.append(f'<section id="s{i}"><h2>{sentence(3).title()}</h2>\n'
                     f'<p>{sentence(R.randint(20, 60))}.</p>\n'
                     f'<p class="n">caf\u00e9 \u2713 \u65e5\u672c {R.randint(0, 10**9)}</p></section>\n')
        i += 1
    parts.append('</body></html>\n')
    return ''.join(parts).encode('utf-8')


def json_doc(n_items):
    items = [{'id': i, 'user': R.choice(['alice', 'bob', 'carol', 'dave', 'erin']),
              'score': round(R.random() * 1000, 3), 'tags': [R.choice(WORDS) for _ in range(R.randint(0, 5))],
              'active': R.random() < 0.7, 'note': sentence(R.randint(3, 12))} for i in range(n_items)]
    return json.dumps({'items': items, 'count': n_items}, indent=1).encode()


def log_text(n):
    out, t = [], 1700000000
    while sum(map(len, out)) < n:
        t += R.randint(0, 3)
        out.append(f'{t} 127.0.0.1 "{R.choice(["GET", "POST", "PUT"])} /api/v1/items/{R.randint(1, 999)} HTTP/1.1" '
                   f'{R.choice([200, 200, 200, 201, 304, 404, 500])} {R.randint(0, 99999)} "{sentence(4)}"\n')
    return ''.join(out).encode()[:n]


def png(w, h):
    """A real RGB PNG: smooth gradients plus noise (compresses partly)."""
    raw = bytearray()
    for y in range(h):
        raw.append(0)  # filter type None
        for x in range(w):
            raw += bytes(((x * 255 // w) ^ R.getrandbits(5), (y * 255 // h), (x + y + R.getrandbits(6)) & 255))

    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(bytes(raw), 9)) + chunk(b'IEND', b''))


def resp(*args):
    """One Redis command in RESP (what redis-cli --pipe expects)."""
    out = b'*%d\r\n' % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b'$%d\r\n%s\r\n' % (len(a), a)
    return out


def main():
    d = sys.argv[1]
    www, data = os.path.join(d, 'www'), os.path.join(d, 'data')
    for p in (www, os.path.join(www, 'dav'), data):
        os.makedirs(p, exist_ok=True)

    def put(path, b):
        with open(path, 'wb') as f:
            f.write(b)

    # nginx document root
    put(f'{www}/index.html', html(24000))
    put(f'{www}/style.css', ('body{font-family:sans-serif;margin:0 auto;max-width:60em}\n' +
                             ''.join(f'.c{i}{{color:#{R.getrandbits(24):06x};padding:{i % 7}px}}\n'
                                     for i in range(300))).encode())
    put(f'{www}/data.json', json_doc(500))
    put(f'{www}/log.txt', log_text(90000))
    put(f'{www}/image.png', png(160, 120))
    put(f'{www}/blob.bin', rbytes(80000))
    put(f'{www}/archive.txt.gz', gzip.compress(log_text(60000), 6, mtime=0))
    put(f'{www}/big.bin', rbytes(200000))  # TLS downloads
    put(f'{www}/slow.bin', rbytes(1000000))  # throttled mid-stream downloads (only a part is captured)
    # request bodies and other client data
    put(f'{data}/form.json', json_doc(25))
    put(f'{data}/upload.bin', rbytes(40000))
    put(f'{data}/put.bin', rbytes(60000))
    put(f'{data}/tls-up.bin', rbytes(120000))
    put(f'{data}/rev.txt', b''.join(sentence(R.randint(4, 14)).encode() + b'\n' for _ in range(800)))
    put(f'{data}/scp-300k.bin', rbytes(300 * 1024))
    put(f'{data}/slow-up.bin', rbytes(1000000))
    put(f'{data}/ssh-text.txt', log_text(60000))
    # Redis values: binary with CR LF, NUL and RESP-looking bytes, text
    put(f'{data}/v-tiny.bin', b'\x00\r\n$-1\r\n*\xff\x81')
    put(f'{data}/v-1k.bin', rbytes(1024))
    put(f'{data}/v-16k.bin', rbytes(16384))
    put(f'{data}/v-100k.bin', rbytes(100000))
    put(f'{data}/v-text.txt', log_text(5000))
    cmds = b''
    for i in range(200):
        k = R.randrange(6)
        if k == 0:
            cmds += resp('SET', f'pipe:str:{i}', sentence(R.randint(1, 30)))
        elif k == 1:
            cmds += resp('SET', f'pipe:bin:{i}', rbytes(R.choice([1, 7, 100, 600, 3000])))
        elif k == 2:
            cmds += resp('HSET', f'pipe:h:{i % 10}', f'f{i}', rbytes(R.randint(0, 64)), 'name', sentence(2))
        elif k == 3:
            cmds += resp('LPUSH', 'pipe:list', *[sentence(R.randint(1, 4)) for _ in range(R.randint(1, 8))])
        elif k == 4:
            cmds += resp('INCRBY', 'pipe:counter', R.randint(1, 1000))
        else:
            cmds += resp('ZADD', 'pipe:z', R.randint(0, 10**6), f'member-{i}')
    cmds += resp('EXPIRE', 'pipe:list', 3600)
    put(f'{data}/redis-pipe.resp', cmds)
    # reads, pipelined on one connection: RESP2 replies (bulk, arrays, integers, nil, error) ...
    put(f'{data}/redis-reads.resp', b''.join(resp(*c.split()) for c in [
        'GET bin:1k', 'GET bin:100k', 'MGET bin:tiny text:5k nosuchkey', 'HGETALL pipe:h:3',
        'LRANGE pipe:list 0 -1', 'ZRANGE pipe:z 0 20 WITHSCORES', 'INCR bin:1k', 'TTL pipe:list',
        'SCAN 0 COUNT 50', 'INFO server']))
    # ... and RESP3 after HELLO 3 (maps, doubles, sets)
    put(f'{data}/redis-reads3.resp', b''.join(resp(*c.split()) for c in [
        'HELLO 3', 'HGETALL pipe:h:5', 'ZRANGE pipe:z 0 10 WITHSCORES', 'SMEMBERS nosuchset',
        'CONFIG GET maxmemory*', 'GET bin:16k', 'ZSCORE pipe:z member-5']))
    put(f'{data}/redis-publish.resp', b''.join(
        resp('PUBLISH', 'news', (f'message {i} ' + sentence(i * 3)).encode() if i % 4 else rbytes(i * 40))
        for i in range(1, 21)))
    # PostgreSQL: schema + rows (COPY FROM STDIN inline), then queries
    rows = []
    for i in range(1, 401):
        rows.append('\t'.join([str(i), sentence(R.randint(1, 6)), str(R.randint(-10**6, 10**6)),
                               f'{R.random() * 1e4:.4f}', f'2024-{R.randint(1, 12):02d}-{R.randint(1, 28):02d} '
                               f'{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:00+00',
                               '\\\\x' + rbytes(R.choice([0, 1, 16, 64, 200])).hex(),
                               json.dumps({'k': R.choice(WORDS), 'v': R.randint(0, 99)})]))
    put(f'{data}/pg-setup.sql', (
        "SELECT setseed(0.42);\n"
        "CREATE TABLE items (id int PRIMARY KEY, name text, n bigint, price numeric(12,4),\n"
        "  ts timestamptz, payload bytea, meta jsonb);\n"
        "COPY items FROM STDIN;\n" + '\n'.join(rows) + "\n\\.\n"
        "CREATE TABLE blobs AS SELECT g AS id, decode(md5(g::text) || md5((g*7)::text), 'hex') AS digest,\n"
        "  convert_to(repeat(chr(65 + g % 26), g % 300), 'UTF8') || sha256(g::text::bytea) AS data,\n"
        "  (random() * 1000)::int AS r FROM generate_series(1, 300) g;\n"
        "CREATE INDEX ON items (n);\n"
        "ANALYZE;\n").encode())
    put(f'{data}/pg-queries.sql', (
        "\\pset pager off\n"
        "SELECT version();\n"
        "SELECT id, name, n, price, ts, payload, meta FROM items WHERE id <= 150 ORDER BY id;\n"
        "SELECT id, digest, data, r FROM blobs WHERE id % 3 = 0 ORDER BY id;\n"
        "SELECT name, count(*), sum(n), avg(price) FROM items GROUP BY name ORDER BY 2 DESC LIMIT 40;\n"
        "SELECT g, md5(g::text), now() - g * interval '1 hour', g::float / 7, g % 2 = 0, NULL\n"
        "  FROM generate_series(1, 120) g;\n"
        "SELECT 'caf\u00e9 \u2713 \u65e5\u672c' AS utf8, E'\\\\x00ff10'::bytea AS b, ARRAY[1,2,3] AS a, '{\"x\":[1,2]}'::jsonb AS j;\n"
        "COPY (SELECT * FROM items WHERE id > 250) TO STDOUT;\n"
        "COPY (SELECT id, digest, data FROM blobs WHERE id <= 120) TO STDOUT (FORMAT binary);\n"
        "COPY (SELECT id, name, price FROM items ORDER BY id LIMIT 100) TO STDOUT (FORMAT csv, HEADER);\n"
        "SELECT no_such_column FROM items;\n"
        "DO $$ BEGIN RAISE NOTICE 'notice with % and %', 42, 'text'; END $$;\n"
        "BEGIN; UPDATE items SET n = n + 1 WHERE id < 50; SAVEPOINT s1; DELETE FROM blobs WHERE id > 290;\n"
        "ROLLBACK TO s1; COMMIT;\n"
        "LISTEN chan; NOTIFY chan, 'payload \u2713'; SELECT pg_sleep(0.05);\n").encode('utf-8'))
    put(f'{data}/pgbench.sql', (
        "\\set id random(1, 400)\n"
        "\\set b random(1, 300)\n"
        "SELECT id, name, payload, meta FROM items WHERE id = :id;\n"
        "SELECT digest, data FROM blobs WHERE id = :b;\n"
        "UPDATE items SET n = n + 1 WHERE id = :id;\n").encode())


if __name__ == '__main__':
    main()
