#!/usr/bin/env python3
"""Checks the fallback-transport captures (issue 18) against their manifests,
independently of wsdump and of the generators: reads the TCP payloads with
tshark, reassembles each direction of each TCP connection by sequence number,
(for a capture with a key log beside it, gen__NAME.keys, the bytes tshark
decrypts with it), parses the HTTP/1.1 requests and responses on it (Content-Length, chunked,
keep-alive, pipelining; gzip bodies are inflated), takes the SockJS frames /
Engine.IO packets out of them and, for an Engine.IO upgrade, the WebSocket
messages (unmasked), orders them per direction by the time of the packet that
completed each, and compares with gen__NAME.messages.tsv (dir opcode len
sha256).

  python3 testdata/gen/verify-fallback.py [testdata/pcaps/gen__sockjs-xhr-streaming.pcap ...]

With no argument: every gen__sockjs-* and gen__engineio-{polling,upgrade,v3-*}
capture. Prints one summary line per capture (TCP connections, HTTP requests,
chunked / keep-alive / gzip seen, session ids) and exits 1 on a mismatch.
"""
import base64
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.parse
import zlib


def tshark_segments(pcap):
    out = subprocess.run(
        ['tshark', '-r', pcap, '-o', 'tcp.reassemble_out_of_order:TRUE', '-o', 'tcp.relative_sequence_numbers:FALSE',
         '-Y', 'tcp', '-T', 'fields', '-E', 'separator=\t',
         '-e', 'tcp.stream', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.dstport',
         '-e', 'tcp.seq', '-e', 'tcp.flags.syn', '-e', 'tcp.payload'],
        check=True, capture_output=True, text=True).stdout
    streams = {}
    for line in out.splitlines():
        f = line.split('\t')
        st, t, src, sp, dst, dp, seq, syn, pay = f + [''] * (9 - len(f))
        s = streams.setdefault(int(st), {'client': None, 'dirs': {}})
        key = (src, int(sp))
        if syn == '1' or syn == 'True':
            if s['client'] is None:
                s['client'] = key  # the first SYN is the client's
            s['dirs'].setdefault(key, {'isn': int(seq), 'segs': []})
            continue
        d = s['dirs'].setdefault(key, {'isn': None, 'segs': []})
        if pay:
            d['segs'].append((int(seq), float(t), bytes.fromhex(pay.replace(':', ''))))
    res = {}
    for st, s in streams.items():
        dirs = {}
        for key, d in s['dirs'].items():
            base = d['isn'] + 1 if d['isn'] is not None else min((x[0] for x in d['segs']), default=0)
            buf = bytearray()
            times = []
            for seq, t, pay in sorted(d['segs'], key=lambda x: (x[0], x[1])):
                off = (seq - base) % (1 << 32)
                if off + len(pay) <= len(buf):
                    continue  # retransmission
                if off > len(buf):
                    raise SystemExit(f'stream {st}: gap of {off - len(buf)} bytes')
                pay = pay[len(buf) - off:]
                buf += pay
                times += [t] * len(pay)
            dirs[key] = (bytes(buf), times)
        client = s['client']
        server = next((k for k in dirs if k != client), None)
        res[st] = {'c2s': dirs.get(client, (b'', [])), 's2c': dirs.get(server, (b'', [])), 'client': client}
    return res


def tshark_tls_streams(pcap, keys):
    """The decrypted bytes of each TLS connection (tshark with the key log, http
    turned off so that they come as data), with the time of each byte's frame."""
    out = subprocess.run(
        ['tshark', '-r', pcap, '--disable-protocol', 'http', '-o', 'tls.keylog_file:' + keys,
         '-o', 'tcp.reassemble_out_of_order:TRUE', '-T', 'fields', '-E', 'separator=\t',
         '-e', 'tcp.stream', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'data.data'],
        check=True, capture_output=True, text=True).stdout
    streams = {}
    for line in out.splitlines():
        st, t, src, sp, data = (line.split('\t') + [''] * 5)[:5]
        if not data:
            continue
        s = streams.setdefault(int(st), {'client': None, 'dirs': {}})
        key = (src, int(sp))
        if s['client'] is None:
            s['client'] = key  # HTTP: the client speaks first
        buf, times = s['dirs'].setdefault(key, (bytearray(), []))
        for rec in data.split(','):
            b = bytes.fromhex(rec)
            buf += b
            times += [float(t)] * len(b)
    res = {}
    for st, s in streams.items():
        client = s['client']
        server = next((k for k in s['dirs'] if k != client), None)
        c = s['dirs'].get(client, (b'', []))
        v = s['dirs'].get(server, (b'', []))
        res[st] = {'c2s': (bytes(c[0]), c[1]), 's2c': (bytes(v[0]), v[1]), 'client': client}
    return res


class Msg:
    def __init__(self, data, times, start):
        self.data, self.times, self.start = data, times, start


def parse_http(buf, times, is_request, request_methods=None):
    """Yields (start_line, headers, body, body_end_times) for each message; body_end_times[i] is the time of byte i."""
    pos = 0
    n = 0
    while pos < len(buf):
        end = buf.find(b'\r\n\r\n', pos)
        if end < 0:
            raise SystemExit('truncated HTTP header')
        head = buf[pos:end].decode('latin-1').split('\r\n')
        hdr = {}
        for l in head[1:]:
            k, _, v = l.partition(':')
            hdr[k.strip().lower()] = v.strip()
        p = end + 4
        body = bytearray()
        btimes = []
        status = None if is_request else int(head[0].split()[1])
        if 'chunked' in hdr.get('transfer-encoding', '').lower():
            while True:
                e = buf.find(b'\r\n', p)
                if e < 0:
                    break  # aborted mid-stream
                size = int(buf[p:e].split(b';')[0], 16)
                p = e + 2
                if size == 0:
                    e2 = buf.find(b'\r\n', p)
                    p = e2 + 2
                    break
                body += buf[p:p + size]
                btimes += times[p:p + size]
                p += size + 2
        elif 'content-length' in hdr:
            ln = int(hdr['content-length'])
            body += buf[p:p + ln]
            btimes += times[p:p + ln]
            p += ln
        elif is_request or status in (101, 204, 304) or (request_methods and request_methods[n] == 'HEAD'):
            pass
        else:  # until close
            body += buf[p:]
            btimes += times[p:]
            p = len(buf)
        yield head[0], hdr, bytes(body), btimes, status
        n += 1
        if status == 101 or (is_request and hdr.get('upgrade', '').lower() == 'websocket'):
            yield 'UPGRADED', {}, buf[p:], times[p:], 101
            return
        pos = p


def ws_messages(buf, times, masked):
    """Data messages (opcode, payload, time) of a WebSocket byte stream."""
    p = 0
    msg = None
    op0 = 0
    out = []
    while p + 2 <= len(buf):
        b0, b1 = buf[p], buf[p + 1]
        fin, op = b0 & 0x80, b0 & 0x0f
        ln = b1 & 0x7f
        q = p + 2
        if ln == 126:
            ln = int.from_bytes(buf[q:q + 2], 'big'); q += 2
        elif ln == 127:
            ln = int.from_bytes(buf[q:q + 8], 'big'); q += 8
        key = None
        if b1 & 0x80:
            key = buf[q:q + 4]; q += 4
        pay = bytearray(buf[q:q + ln])
        if len(pay) < ln:
            break
        if key:
            for i in range(ln):
                pay[i] ^= key[i % 4]
        p = q + ln
        if op >= 8:
            continue
        if op != 0:
            msg, op0 = bytearray(), op
        msg += pay
        if fin:
            out.append((op0, bytes(msg), times[p - 1]))
    return out


def sockjs_frames(kind, body, btimes):
    """SockJS frames of one response body: (frame, time)."""
    out = []
    if kind in ('xhr_streaming', 'xhr'):
        p = 0
        if kind == 'xhr_streaming' and body.startswith(b'h' * 2048 + b'\n'):
            p = 2049
        while True:
            e = body.find(b'\n', p)
            if e < 0:
                break
            out.append((body[p:e], btimes[e]))
            p = e + 1
    elif kind == 'jsonp':
        # /**/CALLBACK("<frame as a JSON string>");\r\n, one frame per response
        for m in re.finditer(rb'/\*\*/[A-Za-z0-9_.-]+\((".*?")\);\r\n', body, re.S):
            out.append((json.loads(m.group(1)).encode('utf-8'), btimes[m.end() - 1]))
    elif kind == 'eventsource':
        p = 2 if body.startswith(b'\r\n') else 0
        while True:
            e = body.find(b'\r\n\r\n', p)
            if e < 0:
                break
            ev = body[p:e]
            if ev.startswith(b'data: '):
                out.append((urllib.parse.unquote_to_bytes(ev[6:]), btimes[e + 3]))  # sockjs-client decodeURI()s it
            p = e + 4
    return out


def eio_packets(payload, version, binary_payload=False):
    """Engine.IO packets of a polling payload: (opcode, bytes), each as the
    same version sends it as one WebSocket message (v3 binary: type byte + data)."""
    out = []
    if version == 4:
        for part in payload.decode('utf-8').split('\x1e'):
            if part.startswith('b'):
                out.append((2, base64.b64decode(part[1:])))
            else:
                out.append((1, part.encode('utf-8')))
        return out
    if binary_payload:
        # v3 binary payload: per packet 0 (string) / 1 (binary), decimal digits as bytes, 0xff, packet
        p = 0
        while p < len(payload):
            kind = payload[p]
            q = payload.index(0xff, p + 1)
            n = int(''.join(str(d) for d in payload[p + 1:q]))
            pk = payload[q + 1:q + 1 + n]
            out.append((2 if kind == 1 else 1, bytes(pk)))
            p = q + 1 + n
        return out
    # v3 text payload: <length in UTF-16 units>:<packet>..., binary as b<type><base64>
    s = payload.decode('utf-8')
    i = 0
    while i < len(s):
        c = s.index(':', i)
        n = int(s[i:c])
        j = c + 1
        units = 0
        while units < n:
            units += 2 if ord(s[j]) > 0xffff else 1
            j += 1
        pk = s[c + 1:j]
        i = j
        if pk.startswith('b'):
            out.append((2, bytes([int(pk[1])]) + base64.b64decode(pk[2:])))
        else:
            out.append((1, pk.encode('utf-8')))
    return out


def verify(pcap):
    base = re.sub(r'\.pcapn?g?$', '', pcap)
    want = {'c2s': [], 's2c': []}
    with open(base + '.messages.tsv') as f:
        for line in f.read().splitlines()[1:]:
            d, op, ln, h = line.split('\t')
            want[d].append(f'{op} {ln} {h}')
    keys = base + '.keys'
    streams = tshark_tls_streams(pcap, keys) if os.path.exists(keys) else tshark_segments(pcap)
    got = {'c2s': [], 's2c': []}
    info = {'tcp': len(streams), 'requests': 0, 'chunked': 0, 'keepalive_reuse': 0, 'gzip': 0, 'sessions': set(), 'kinds': {}}
    for st, s in sorted(streams.items()):
        cbuf, ctimes = s['c2s']
        reqs = list(parse_http(cbuf, ctimes, True)) if cbuf else []
        reqs = [r for r in reqs if r[0] != 'UPGRADED']
        info['requests'] += len(reqs)
        if len(reqs) > 1:
            info['keepalive_reuse'] += len(reqs) - 1
        sbuf, stimes = s['s2c']
        resps = list(parse_http(sbuf, stimes, False, [r[0].split()[0] for r in reqs])) if sbuf else []
        upgraded = None
        for i, (line, hdr, body, btimes, status) in enumerate(resps):
            if line == 'UPGRADED':
                upgraded = (body, btimes)
                continue
            if 'chunked' in hdr.get('transfer-encoding', ''):
                info['chunked'] += 1
            if hdr.get('content-encoding') == 'gzip':
                info['gzip'] += 1
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
                btimes = [btimes[-1]] * len(body)
            req = reqs[i]
            uri = req[0].split()[1]
            m = re.search(r'/stomp/([^/]+)/([^/]+)/([a-z_]+)', uri)
            if m:
                kind = m.group(3)
                info['sessions'].add(m.group(2))
                info['kinds'][kind] = info['kinds'].get(kind, 0) + 1
                for fr, t in sockjs_frames(kind, body, btimes):
                    got['s2c'].append((t, fr, 1))
            elif '/socket.io/' in uri:
                q = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
                v = int(q['EIO'][0])
                tr = q['transport'][0]
                info['kinds'][f'{tr} {req[0].split()[0]}'] = info['kinds'].get(f'{tr} {req[0].split()[0]}', 0) + 1
                if 'sid' in q:
                    info['sessions'].add(q['sid'][0])
                if tr == 'polling' and req[0].startswith('GET') and status == 200:
                    for op, pk in eio_packets(body, v, hdr.get('content-type', '').startswith('application/octet-stream')):
                        got['s2c'].append((btimes[-1], pk, op))
        for i, (line, hdr, body, btimes, status) in enumerate(reqs):
            uri = line.split()[1]
            if re.search(r'/xhr_send(\?|$)', uri):
                got['c2s'].append((btimes[-1] if btimes else 0, body, 1))
            elif re.search(r'/jsonp_send(\?|$)', uri):
                d = urllib.parse.parse_qs(body.decode('ascii'), keep_blank_values=True)['d'][0]  # a form field
                got['c2s'].append((btimes[-1], d.encode('utf-8'), 1))
            elif '/socket.io/' in uri and line.startswith('POST'):
                q = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
                for op, pk in eio_packets(body, int(q['EIO'][0]), hdr.get('content-type', '').startswith('application/octet-stream')):
                    got['c2s'].append((btimes[-1], pk, op))
        if upgraded is not None:
            for op, pay, t in ws_messages(*upgraded, masked=False):
                got['s2c'].append((t, pay, op))
            # the client's frames after its upgrade request
            reqend = cbuf.find(b'\r\n\r\n') + 4
            for op, pay, t in ws_messages(cbuf[reqend:], ctimes[reqend:], masked=True):
                got['c2s'].append((t, pay, op))
            info['websocket'] = info.get('websocket', 0) + 1
    bad = 0
    for d in ('c2s', 's2c'):
        g = [f'{op} {len(x)} {hashlib.sha256(x).hexdigest()}' for t, x, op in sorted(got[d], key=lambda y: y[0])]
        if g != want[d]:
            bad += 1
            print(f'{os.path.basename(pcap)} {d}: capture has {len(g)}, manifest {len(want[d])}')
            for i, (a, b) in enumerate(zip(g, want[d])):
                if a != b:
                    print(f'  first difference at {i}: capture {a} / manifest {b}')
                    break
    info['sessions'] = sorted(info['sessions'])
    print(f"{os.path.basename(pcap)}: {'OK' if not bad else 'MISMATCH'} c2s {len(got['c2s'])} s2c {len(got['s2c'])}; "
          f"tcp {info['tcp']}, http requests {info['requests']} {json.dumps(info['kinds'])}, reused {info['keepalive_reuse']}, "
          f"chunked responses {info['chunked']}, gzip {info['gzip']}, websocket {info.get('websocket', 0)}, sessions {info['sessions']}")
    return bad == 0


def main():
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(os.path.dirname(__file__), '..', 'pcaps', 'gen__sockjs-*.pcap')) +
                                   glob.glob(os.path.join(os.path.dirname(__file__), '..', 'pcaps', 'gen__engineio-*.pcap')))
    files = [f for f in files if 'engineio-stall' not in f]
    ok = all([verify(f) for f in files])
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
