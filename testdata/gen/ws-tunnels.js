#!/usr/bin/env node
// WebSocket connections carried in network tunnels, for wsdump's
// gen__ws-tunnels* fixtures: a node `ws` client in one network namespace and
// a node `ws` server in another, one connection per tunnel, one after the
// other. record.sh builds the namespaces and tunnels (tunnels.sh) and
// captures the underlay only, so every packet of the capture is
// encapsulated.
//
// usage (in the client's namespace):
//   node ws-tunnels.js --server-netns NS --port P --conn NAME=HOST ... [--deflate NAME]
//                      --manifest OUT.messages.tsv --expect OUT.expect.json
// The client starts the server itself (`ip netns exec NS node ws-tunnels.js
// --serve --port P`), which listens on [::]:P (IPv4 too) and prints one JSON
// line per message it sends, then connects to ws://HOST:P/NAME for each
// --conn in order. HOST is the server's address inside the tunnel NAME.
//
// Each connection (ws 8.18.3 both ends, perMessageDeflate off except on the
// --deflate connection, where both ends use {threshold: 0}) plays script(NAME):
// seeded text and binary messages of several sizes both ways, one of them
// larger than the tunnel's MTU (so it spans several TCP segments) and a
// text message in two fragments; then a client ping, then the close: the
// client closes with 1000 "done NAME" on even-numbered connections (0, 2,
// ...), the server with 1001 "going away NAME" on odd ones.
//
// The manifest lists every data message (dir opcode len sha256, the
// uncompressed payload), connection after connection, each side in send
// order, as the other gen__ manifests. --expect: per connection, the tunnel,
// the inner addresses and ports, the messages in the same form and the close
// (who closed, code, reason, and the code the other end replied with).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const readline = require('readline');
const { spawn } = require('child_process');
const { WebSocketServer, WebSocket } = require('ws');

const { arg } = require('./common');
function args(name) {
  const out = [];
  process.argv.forEach((a, i) => { if (a === '--' + name) out.push(process.argv[i + 1]); });
  return out;
}
const port = Number(arg('port', '8080'));

// mulberry32: small seeded PRNG so payloads are the same on every run.
const { prng } = require('./prng');
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_!?';

// script(name): the messages of the connection in tunnel NAME, both
// directions, from a PRNG seeded with the name; client and server each
// build it and play their side. A 'frag' step is one text message sent as
// two frames.
function script(name) {
  const rnd = prng(crypto.createHash('sha256').update('ws-tunnels ' + name).digest().readUInt32BE(0));
  const text = (n) => {
    let s = '';
    for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
    return Buffer.from(s, 'ascii');
  };
  const binary = (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
    return b;
  };
  const c2s = [
    [1, Buffer.from(`hello over ${name}`, 'ascii')],
    [2, binary(125)],
    [1, text(126)], // 16-bit extended length
    [2, binary(3000)], // larger than every tunnel's MTU: several segments
    ['frag', 1, [text(40), text(700)]],
    [1, Buffer.from(`{"tunnel":"${name}","h\u00e9llo":"w\u00f6rld \u2713"}`, 'utf8')],
  ];
  const s2c = [
    [1, Buffer.from(`welcome to ${name}`, 'ascii')],
    [2, binary(200)],
    [1, text(2000)], // larger than the MTU
    [2, binary(0)],
  ];
  return { c2s, s2c };
}

function sha(b) { return crypto.createHash('sha256').update(b).digest('hex'); }
function entry(dir, opcode, payload) { return { dir, opcode, len: payload.length, sha256: sha(payload) }; }

// play sends one side's steps and returns the manifest entries.
function play(ws, dir, steps) {
  const sent = [];
  for (const s of steps) {
    if (s[0] === 'frag') {
      const [, opcode, parts] = s;
      sent.push(entry(dir, opcode, Buffer.concat(parts)));
      parts.forEach((p, i) => ws.send(p, { binary: opcode === 2, fin: i === parts.length - 1 }));
    } else {
      const [opcode, p] = s;
      sent.push(entry(dir, opcode, p));
      ws.send(p, { binary: opcode === 2, fin: true });
    }
  }
  return sent;
}

// expected(steps): the manifest entries of steps, to check what arrived.
function expected(dir, steps) {
  return steps.map((s) => (s[0] === 'frag' ? entry(dir, s[1], Buffer.concat(s[2])) : entry(dir, s[0], s[1])));
}
function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

function serve() {
  const wss = new WebSocketServer({ host: '::', port, perMessageDeflate: { threshold: 0 } });
  const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
  wss.on('listening', () => out({ listening: port }));
  wss.on('connection', (ws, req) => {
    const name = decodeURIComponent(req.url.slice(1));
    const odd = Number(new URL(req.url, 'http://x').searchParams.get('i') || 0) % 2 === 1;
    const conn = name.split('?')[0];
    const sc = script(conn);
    const want = expected('c2s', sc.c2s);
    const got = [];
    for (const e of play(ws, 's2c', sc.s2c)) out({ conn, ...e });
    ws.on('message', (data, isBinary) => {
      got.push(entry('c2s', isBinary ? 2 : 1, Buffer.isBuffer(data) ? data : Buffer.concat(data)));
      if (got.length === want.length) {
        if (!same(got, want)) out({ conn, error: 'c2s messages differ from the script' });
        if (odd) ws.close(1001, `going away ${conn}`);
      }
    });
    ws.on('close', (code, reason) => out({ conn, closed: code, reason: reason.toString() }));
  });
}

let server; // the server's process, killed on failure too
async function client() {
  const manifestPath = arg('manifest', '/dev/null');
  const expectPath = arg('expect', '/dev/null');
  const deflate = arg('deflate', '');
  const conns = args('conn').map((c) => ({ name: c.split('=')[0], host: c.slice(c.indexOf('=') + 1) }));
  setTimeout(() => { console.error('ws-tunnels: timeout'); if (server) server.kill('SIGTERM'); process.exit(1); }, 50000).unref();

  const srv = server = spawn('ip', ['netns', 'exec', arg('server-netns'), process.execPath, __filename, '--serve', '--port', String(port)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const events = []; // the server's lines
  let wake = () => {};
  readline.createInterface({ input: srv.stdout }).on('line', (l) => { events.push(JSON.parse(l)); wake(); });
  const until = (pred) => new Promise((resolve) => {
    const check = () => { const e = events.find(pred); if (e) resolve(e); };
    wake = check;
    check();
  });
  await until((e) => e.listening);

  const manifest = [];
  const ex = { scenario: 'ws-tunnels', port, conns: [] };
  for (const [i, c] of conns.entries()) {
    const sc = script(c.name);
    const odd = i % 2 === 1;
    const ws = new WebSocket(`ws://${c.host}:${port}/${c.name}?i=${i}`,
      { perMessageDeflate: c.name === deflate ? { threshold: 0 } : false });
    const wantS2C = expected('s2c', sc.s2c);
    const gotS2C = [];
    const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data, isBinary) => gotS2C.push(entry('s2c', isBinary ? 2 : 1, data)));
    await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
    // Now: the socket is gone once the server has closed it.
    const local = { address: ws._socket.localAddress, port: ws._socket.localPort };
    const sent = play(ws, 'c2s', sc.c2s);
    ws.ping(Buffer.from(`ping ${c.name}`, 'ascii'));
    // Wait for the server's messages before closing, so none crosses the close.
    while (gotS2C.length < wantS2C.length) await new Promise((r) => setTimeout(r, 10));
    if (!same(gotS2C, wantS2C)) throw new Error(`${c.name}: s2c messages differ from the script`);
    if (!odd) ws.close(1000, `done ${c.name}`);
    const clientSaw = await closed;
    const srvClose = await until((e) => e.conn === c.name && e.closed !== undefined);
    const err = events.find((e) => e.conn === c.name && e.error);
    if (err) throw new Error(`${c.name}: ${err.error}`);
    const s2c = events.filter((e) => e.conn === c.name && e.dir === 's2c').map(({ conn, ...e }) => e);
    for (const e of [...sent, ...s2c]) manifest.push(`${e.dir}\t${e.opcode}\t${e.len}\t${e.sha256}`);
    ex.conns.push({
      index: i,
      tunnel: c.name,
      client: local,
      server: { address: c.host.replace(/^\[|\]$/g, ''), port },
      permessage_deflate: c.name === deflate,
      messages: [...sent, ...s2c],
      close: odd
        ? { by: 'server', code: 1001, reason: `going away ${c.name}`, reply_code: clientSaw.code }
        : { by: 'client', code: 1000, reason: `done ${c.name}`, reply_code: srvClose.closed },
    });
    process.stderr.write(`ws-tunnels: ${c.name}: ${sent.length} + ${s2c.length} messages, closed\n`);
  }
  srv.kill('SIGTERM');
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.map((l) => l + '\n').join(''));
  fs.writeFileSync(expectPath, JSON.stringify(ex, null, 2) + '\n');
}

if (process.argv.includes('--serve')) serve();
else client().catch((e) => { console.error('ws-tunnels:', e); if (server) server.kill('SIGTERM'); process.exit(1); });
