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
//   chatty             ~2000 interleaved messages both ways, Nagle on (see chatty() below)
//
// The manifest lists every data message sent by either side, in send order,
// with the UNCOMPRESSED payload:
//   dir  opcode  len  sha256
// Control frames (ping/pong/close) are not listed; they are described below.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const { WebSocketServer, WebSocket } = require('ws');

const { arg } = require('./common');
const scenario = arg('scenario', 'basic');
const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '8080'));
const manifestPath = arg('manifest', '/dev/null');

// mulberry32: small seeded PRNG so payloads are the same on every run.
const { prng } = require('./prng');
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

// chatty (perMessageDeflate off): a long interleaved session for loss tests,
// with its own server + client below (the scripted scenarios are not used).
// The client sends bursts of 1-20 messages at seeded random times, with small
// awaits inside a burst; the server replies to every client message and also
// pushes unsolicited updates on its own timers; the client pings every 200 ms;
// a few 20-60 KB messages and a few fragmented ones (2-4 frames) both ways;
// close 1000 "chatty done" by the client at the end. ws disables Nagle
// (setNoDelay()); both sides turn it back on so frames coalesce in segments.
// Sizes: log-normal (median ~90 B) clamped to 1 B - 8 KB, ~20% binary, the
// text JSON-ish. Both directions' payloads are drawn up front from a seeded
// PRNG (the nth s2c message is the same payload whether it goes out as a
// reply or a push), so each direction's sequence is fixed; how the two
// directions interleave depends on timing, so the manifest lists every c2s
// message, then every s2c one, each in send order.
const CHATTY = { c2s: 800, replies: 800, pushes: 400, big: 3, frag: 4 };
function chattyScript() {
  const r = prng(0x63686174); // "chat"; the shared rnd is left alone
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const size = () => Math.max(1, Math.min(8192, Math.round(90 * Math.exp(gauss()))));
  const pick = (a) => a[Math.floor(r() * a.length)];
  const ascii = (n) => {
    let s = '';
    for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
    return s;
  };
  const bytes = (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
    return b;
  };
  const KINDS = ['chat', 'presence', 'typing', 'ack', 'update', 'quote', 'cursor', 'notify'];
  const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];
  let seq = 0;
  // JSON-ish text of exactly n bytes (plain ASCII when n is too small for JSON)
  const json = (n) => {
    const s = seq++;
    const long = `{"seq":${s},"kind":"${pick(KINDS)}","user":"${pick(NAMES)}",` +
      `"ts":${1700000000000 + s * 41 + Math.floor(r() * 40)},"body":"`;
    const short = `{"id":${s},"v":"`;
    const head = long.length + 2 <= n ? long : short.length + 2 <= n ? short : null;
    return Buffer.from(head ? head + ascii(n - head.length - 2) + '"}' : ascii(n), 'ascii');
  };
  const list = (count) => {
    const big = new Set();
    const frag = new Set();
    while (big.size < CHATTY.big) big.add(Math.floor(r() * count));
    while (frag.size < CHATTY.frag) frag.add(Math.floor(r() * count));
    const out = [];
    for (let i = 0; i < count; i++) {
      const n = big.has(i) ? 20000 + Math.floor(r() * 40001) : size();
      const op = r() < 0.2 ? 2 : 1;
      const p = op === 2 ? bytes(n) : json(n);
      if (!frag.has(i)) {
        out.push([op, p]);
        continue;
      }
      const cuts = [];
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) cuts.push(Math.floor(r() * (p.length + 1)));
      cuts.sort((a, b) => a - b);
      const parts = [];
      let prev = 0;
      for (const c of cuts) parts.push(p.subarray(prev, (prev = c)));
      parts.push(p.subarray(prev));
      out.push(['frag', op, parts]);
    }
    return out;
  };
  return { c2s: list(CHATTY.c2s), s2c: list(CHATTY.replies + CHATTY.pushes) };
}
function chatty() {
  const die = (msg) => {
    console.error('ws-node: ' + msg);
    process.exit(1);
  };
  setTimeout(() => die('timeout'), 45000).unref();
  const { c2s, s2c } = chattyScript();
  const t = prng(0x74696d65); // "time": seeded schedule (real timing still varies)
  const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
  const expo = (mean, max) => Math.min(max, Math.round(-mean * Math.log(1 - t())));
  const bursts = [];
  for (let left = c2s.length; left > 0; ) {
    const n = Math.min(left, 1 + Math.floor(t() * 20));
    const waits = Array.from({ length: n }, () => (t() < 0.8 ? Math.floor(t() * 6) : -1));
    bursts.push({ gap: expo(100, 500), waits });
    left -= n;
  }
  const pushes = [];
  for (let left = CHATTY.pushes; left > 0; ) {
    const n = Math.min(left, 1 + Math.floor(t() * 4));
    pushes.push({ gap: expo(60, 300), n });
    left -= n;
  }
  const sendStep = (ws, dir, s) => (s[0] === 'frag' ? sendFragmented(ws, dir, s[1], s[2]) : send(ws, dir, s[0], s[1]));
  const CLOSE = 'chatty done';

  const wss = new WebSocketServer({ host, port, perMessageDeflate: false, maxPayload: 1 << 24 });
  wss.on('error', (e) => die(String(e)));
  wss.on('connection', (ws) => {
    ws._socket.setNoDelay(false); // Nagle back on
    let got = 0;
    let sent = 0;
    const next = () => {
      if (sent >= s2c.length) die('server: out of s2c messages');
      sendStep(ws, 's2c', s2c[sent++]);
    };
    ws.on('message', () => {
      got++;
      next(); // reply
    });
    (async () => {
      for (const p of pushes) {
        await sleep(p.gap);
        for (let i = 0; i < p.n; i++) next(); // unsolicited update(s)
      }
    })();
    ws.on('close', (code) => {
      if (got !== c2s.length) die(`server got ${got} messages, want ${c2s.length}`);
      if (sent !== s2c.length) die(`server sent ${sent} messages, want ${s2c.length}`);
      if (code !== 1000) die(`server close ${code}`);
    });
  });
  wss.on('listening', () => {
    const ws = new WebSocket(`ws://${host.includes(':') ? '[' + host + ']' : host}:${port}/chat`, {
      perMessageDeflate: false,
      maxPayload: 1 << 24,
    });
    let got = 0;
    let done = false;
    let pings = 0;
    let timer;
    const finish = () => {
      if (!done || got !== s2c.length) return;
      clearInterval(timer);
      ws.close(1000, CLOSE);
    };
    ws.on('open', async () => {
      ws._socket.setNoDelay(false); // Nagle back on
      timer = setInterval(() => ws.ping(Buffer.from(`hb ${++pings}`, 'ascii')), 200);
      let i = 0;
      for (const b of bursts) {
        await sleep(b.gap);
        for (const w of b.waits) {
          if (w >= 0) await sleep(w);
          sendStep(ws, 'c2s', c2s[i++]);
        }
      }
      done = true;
      finish();
    });
    ws.on('message', () => {
      got++;
      finish();
    });
    ws.on('close', (code, reason) => {
      if (code !== 1000 || reason.toString() !== CLOSE) die(`client close ${code} ${reason}`);
      if (got !== s2c.length) die(`client got ${got} messages, want ${s2c.length}`);
      // stable sort: c2s then s2c, each in send order
      manifest.sort((a, b) => (a.slice(0, 3) === b.slice(0, 3) ? 0 : a.startsWith('c2s') ? -1 : 1));
      writeManifest();
      wss.close();
    });
  });
}
if (scenario === 'chatty') return chatty(); // the rest of the file plays the scripted scenarios

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
