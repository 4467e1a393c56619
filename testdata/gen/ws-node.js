#!/usr/bin/env node
// Deterministic WebSocket session between a node `ws` server and a node `ws`
// client in one process, used to record wsdump's real-traffic fixtures.
//
// usage: node ws-node.js --scenario SCENARIO --host 127.0.0.1|::1
//                        --port N --manifest OUT.messages.tsv
//
// Scenarios: basic, many-small (perMessageDeflate off), and the
// permessage-deflate (RFC 7692) ones, which all play deflateScript():
//   deflate-takeover   perMessageDeflate {threshold: 0}: context takeover both ways
//   deflate-nocontext  {serverNoContextTakeover, clientNoContextTakeover} (default
//                      threshold 1024: smaller messages go uncompressed)
//   deflate-window10   {threshold: 0, serverMaxWindowBits: 10, clientMaxWindowBits: 10}
//
// The manifest lists every data message sent by either side, in send order,
// with the UNCOMPRESSED payload:
//   dir  opcode  len  sha256
// Control frames (ping/pong/close) are not listed; they are described below.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const { WebSocketServer, WebSocket } = require('ws');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 ? process.argv[i + 1] : def;
}
const scenario = arg('scenario', 'basic');
const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '8080'));
const manifestPath = arg('manifest', '/dev/null');

// mulberry32: small seeded PRNG so payloads are the same on every run.
function prng(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(0x77736475); // "wsdu"
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_!?';
function text(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  return Buffer.from(s, 'ascii');
}
function binary(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

const manifest = [];
function record(dir, opcode, payload) {
  const sha = crypto.createHash('sha256').update(payload).digest('hex');
  manifest.push(`${dir}\t${opcode}\t${payload.length}\t${sha}`);
}
function writeManifest() {
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.map((l) => l + '\n').join(''));
}

// send one whole message and record it
function send(ws, dir, opcode, payload) {
  record(dir, opcode, payload);
  ws.send(payload, { binary: opcode === 2, fin: true });
}
// send one whole message with compression turned off for it (RSV1 clear)
function sendUncompressed(ws, dir, opcode, payload) {
  record(dir, opcode, payload);
  ws.send(payload, { binary: opcode === 2, fin: true, compress: false });
}
// send one message as several frames (first frame + continuations); a part
// that is the string 'PING' is not data: the sender pings between fragments.
function sendFragmented(ws, dir, opcode, parts) {
  const data = parts.filter((p) => p !== 'PING');
  record(dir, opcode, Buffer.concat(data));
  let i = 0;
  for (const p of parts) {
    if (p === 'PING') ws.ping(PING_FRAG);
    else ws.send(p, { binary: opcode === 2, fin: ++i === data.length });
  }
}

// Scripts: list of steps per direction; built once, up front, so the PRNG
// sequence does not depend on timing.
function basicScript() {
  const utf8 = Buffer.from('h\u00e9llo w\u00f6rld \u2713 \ud83d\ude80 \u65e5\u672c\u8a9e', 'utf8');
  const c2s = [
    [1, text(0)],
    [1, text(1)],
    [2, binary(125)],
    [1, text(126)],
    [1, utf8],
    [2, binary(65535)],
    ['frag', 1, [text(10), text(200), text(0), text(5)]],
    [2, binary(102400)], // > 64 KiB: 64-bit extended length
  ];
  const s2c = [
    [2, binary(0)],
    [2, binary(1)],
    [1, text(125)],
    [2, binary(126)],
    [1, text(127)],
    [1, text(65536)], // exactly 64 KiB: 64-bit extended length
    ['frag', 2, [binary(3), binary(1000)]],
    [1, Buffer.from('done', 'ascii')],
  ];
  return { c2s, s2c };
}
function manySmallScript() {
  const c2s = [];
  const s2c = [];
  for (let i = 0; i < 500; i++) {
    const n = 1 + Math.floor(rnd() * 20);
    c2s.push(i % 5 === 4 ? [2, binary(n)] : [1, text(n)]);
  }
  for (let i = 0; i < 500; i++) {
    const n = 1 + Math.floor(rnd() * 20);
    s2c.push(i % 7 === 6 ? [2, binary(n)] : [1, text(n)]);
  }
  return { c2s, s2c };
}

// Compressible, repetitive-but-varied content for the permessage-deflate
// scenarios: JSON-ish event records that share keys and draw values from
// small vocabularies, so later messages find matches in earlier ones through
// the sliding window (when context takeover is on).
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];
const EVENTS = ['login', 'logout', 'click', 'view', 'purchase', 'scroll', 'search', 'error'];
const WORDS = ('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ' +
  'incididunt ut labore et dolore magna aliqua websocket frame deflate window').split(' ');
let recSeq = 0;
function jsonRecord() {
  const seq = recSeq++;
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const words = [];
  for (let i = 0, n = 2 + Math.floor(rnd() * 6); i < n; i++) words.push(pick(WORDS));
  return `{"seq":${seq},"user":"${pick(USERS)}","event":"${pick(EVENTS)}",` +
    `"ts":${1700000000000 + seq * 37 + Math.floor(rnd() * 30)},"path":"/api/v1/items/${Math.floor(rnd() * 500)}",` +
    `"ok":${rnd() < 0.9},"latency_ms":${(rnd() * 250).toFixed(2)},"note":"${words.join(' ')}"}`;
}
// jsonText(n): exactly n bytes of ASCII: a JSON array of records, padded with
// spaces (or cut, for tiny n)
function jsonText(n) {
  let s = '[';
  for (;;) {
    const r = (s.length > 1 ? ',\n' : '') + jsonRecord();
    if (s.length + r.length + 1 > n) break;
    s += r;
  }
  s += ']';
  s = s.length > n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
  return Buffer.from(s, 'ascii');
}
// structBinary(n): n bytes of 32-byte binary records: magic, seq, timestamp,
// a type from a small set and one of 8 fixed 16-byte bodies, with a few
// random bytes
let BODIES; // set by deflateScript, so other scenarios' PRNG sequence is unchanged
function structBinary(n) {
  const b = Buffer.alloc(Math.ceil(n / 32) * 32);
  for (let off = 0; off < b.length; off += 32) {
    const seq = recSeq++;
    b.write('WSDR', off, 'ascii');
    b.writeUInt32BE(seq, off + 4);
    b.writeUInt32BE(1700000000 + seq * 3, off + 8);
    b.writeUInt16BE(1 + Math.floor(rnd() * 5), off + 12);
    b.writeUInt16BE(Math.floor(rnd() * 65536), off + 14);
    BODIES[Math.floor(rnd() * BODIES.length)].copy(b, off + 16);
  }
  return b.subarray(0, n);
}
function deflateScript() {
  BODIES = Array.from({ length: 8 }, () => binary(16));
  const utf8 = Buffer.from('{"msg":"h\u00e9llo w\u00f6rld \u2713 \ud83d\ude80 \u65e5\u672c\u8a9e","n":1}', 'utf8');
  const T = (n) => [1, jsonText(n)];
  const B = (n) => [2, structBinary(n)];
  const c2sRepeat = jsonText(3000);
  const c2s = [
    T(0), T(1), T(2), T(20), B(0), B(5), T(100), T(125), T(126), T(127),
    B(64), T(300), [1, utf8], T(1000), T(1023), T(1024), T(1025), B(500),
    ['nocompress', 1, jsonText(2000)], // compress: false on a compressing connection
    [1, c2sRepeat], T(4096), B(3000), [1, c2sRepeat], // exact repeat: a few bytes when the context is kept
    ['frag', 1, [jsonText(6000), jsonText(5000), 'PING', jsonText(4000)]], // ping between fragments
    T(8000), B(9000), T(12000), T(20000),
    [2, binary(70000)], // random: incompressible, the compressed frame still needs a 64-bit length
    T(32768), B(40000), T(50000), T(65535), T(65536),
    ['frag', 2, [structBinary(10000), structBinary(0), structBinary(20000)]], // empty middle fragment
    T(100000), B(100000), T(200), T(50), [1, Buffer.from('client done', 'ascii')],
  ];
  const s2cRepeat = structBinary(5000);
  const s2c = [
    B(0), T(0), B(1), T(3), T(60), B(125), T(126), B(130), T(400), T(999),
    [1, utf8], B(1024), T(1100), ['nocompress', 2, structBinary(1500)],
    [2, s2cRepeat], T(2500), [2, s2cRepeat],
    ['frag', 1, [jsonText(100), jsonText(30000), jsonText(100)]],
    T(5000), B(7000), T(10000), [2, binary(70000)], T(15000), B(25000), T(33000),
    ['frag', 2, [structBinary(50000), structBinary(2)]],
    T(45000), B(60000), T(65536), T(70000), T(100000), B(80000), T(700), B(300),
    T(10), B(10), T(1500), [1, Buffer.from('server done', 'ascii')],
  ];
  return { c2s, s2c };
}

const DEFLATE = {
  'deflate-takeover': { threshold: 0 },
  'deflate-nocontext': { serverNoContextTakeover: true, clientNoContextTakeover: true },
  'deflate-window10': { threshold: 0, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
};
if (!['basic', 'many-small', ...Object.keys(DEFLATE)].includes(scenario)) {
  console.error('ws-node: unknown scenario ' + scenario);
  process.exit(2);
}
const perMessageDeflate = DEFLATE[scenario] || false;
const script =
  scenario === 'many-small' ? manySmallScript() : scenario in DEFLATE ? deflateScript() : basicScript();

function play(ws, dir, steps) {
  for (const s of steps) {
    if (s[0] === 'frag') sendFragmented(ws, dir, s[1], s[2]);
    else if (s[0] === 'nocompress') sendUncompressed(ws, dir, s[1], s[2]);
    else send(ws, dir, s[0], s[1]);
  }
}

const PING_FRAG = Buffer.from('ping between fragments', 'ascii');
const PING_C2S = Buffer.from('ping from client 0123456789', 'ascii');
const PING_S2C = Buffer.from('srv-ping', 'ascii');
const CLOSE_REASON = 'normal closure, bye';

const fail = (msg) => {
  console.error('ws-node: ' + msg);
  process.exit(1);
};
setTimeout(() => fail('timeout'), 20000).unref();

const wss = new WebSocketServer({ host, port, perMessageDeflate, maxPayload: 1 << 24 });
wss.on('listening', () => {
  const url = `ws://${host.includes(':') ? '[' + host + ']' : host}:${port}/echo?scenario=${scenario}`;
  const ws = new WebSocket(url, { perMessageDeflate, maxPayload: 1 << 24 });
  let got = 0;
  ws.on('open', () => play(ws, 'c2s', script.c2s));
  ws.on('message', () => {
    got++;
    if (got === script.s2c.length) ws.ping(PING_C2S); // after all server messages
  });
  ws.on('ping', (d) => {
    if (!d.equals(PING_S2C)) fail('bad server ping payload');
  });
  ws.on('pong', (d) => {
    if (d.equals(PING_FRAG)) return; // answer to the ping sent between fragments
    if (!d.equals(PING_C2S)) fail('bad pong payload');
    ws.close(1000, CLOSE_REASON);
  });
  ws.on('close', (code, reason) => {
    if (code !== 1000 || reason.toString() !== CLOSE_REASON) fail(`client close ${code} ${reason}`);
    if (got !== script.s2c.length) fail(`client got ${got} messages, want ${script.s2c.length}`);
    writeManifest();
    wss.close();
  });
});
wss.on('connection', (ws) => {
  let got = 0;
  ws.on('message', () => {
    got++;
    if (got === script.c2s.length) {
      // the server answers once it has every client message
      ws.ping(PING_S2C);
      play(ws, 's2c', script.s2c);
    }
  });
  ws.on('close', (code) => {
    if (got !== script.c2s.length) fail(`server got ${got} messages, want ${script.c2s.length}`);
    if (code !== 1000) fail(`server close ${code}`);
  });
});
wss.on('error', (e) => fail(String(e)));
