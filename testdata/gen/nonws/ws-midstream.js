#!/usr/bin/env node
// WebSocket session for the mid-stream fixtures gen__ws-midstream*.pcap: a
// node `ws` server and client in one process exchange 150 seeded messages
// (one every 40 ms, ~6 s) while nonws/record.sh starts tcpdump ~2 s after the
// connection is open, so the capture has no handshake and starts in the
// middle of the session -- and, by construction, inside a frame.
//
// usage: node ws-midstream.js --port N [--host 127.0.0.1] [--deflate]
//          --manifest OUT.messages.tsv --captured-from OUT.captured-from.txt
//          --sigdir DIR
//
// How the capture start is placed (files in --sigdir):
//   1. Steps 0..BOUNDARY-1 are sent, paced. Then we wait until the peer has
//      received every message sent so far (both directions) and take that as
//      the snapshot: none of their bytes can be in the capture.
//   2. The client stops reading its socket (ws pause()), and the server sends
//      step BOUNDARY: 100000 random bytes (binary, incompressible). The
//      client's receive window (tcp_rmem is kept small in the recording
//      namespace) takes only part of it; the rest waits in the server's
//      send buffer.
//   3. We write `ready`. The recorder starts tcpdump and, once it says
//      "listening on", writes `go` (content: that wall-clock time).
//   4. On `go` the client resumes reading -- the tail of the BOUNDARY frame
//      crosses the wire inside the capture -- and paced sending continues
//      with step BOUNDARY+1, the first message sent after `go`.
// The indices actually observed are written to --captured-from (see there).
//
// Manifest: every data message sent by either side, in send order (global
// index = data row, 0-based, header excluded): dir opcode len sha256.
// Pings (client every 500 ms, server every 750 ms) and the close are not listed.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { WebSocketServer, WebSocket } = require('ws');

const { arg } = require('../common');
const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '49100'));
const deflate = process.argv.includes('--deflate');
const manifestPath = arg('manifest', '/dev/null');
const capturedFromPath = arg('captured-from', '/dev/null');
const sigdir = arg('sigdir', '/tmp');
const sig = (n) => path.join(sigdir, n);

const { prng } = require('../prng'); // mulberry32, seeded
const rnd = prng(0x6d696473); // "mids"
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const WORDS = 'lorem ipsum dolor sit amet stream segment capture frame window socket midstream'.split(' ');
let seq = 0;
function jsonText(n) {
  let s = '[';
  while (s.length < n) {
    s += (s.length > 1 ? ',' : '') + `{"seq":${seq++},"user":"${USERS[int(0, 5)]}","v":${(rnd() * 1e4).toFixed(3)},` +
      `"note":"${Array.from({ length: int(1, 6) }, () => WORDS[int(0, WORDS.length - 1)]).join(' ')}"}`;
  }
  s = (s + ']').slice(0, n);
  return Buffer.from(s, 'ascii');
}
function binary(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i % 16 < 4 ? (i >> 4) & 0xff : Math.floor(rnd() * 256);
  return b;
}
// size classes: small (7-bit length), medium (16-bit), above one Ethernet MSS,
// and large (some > 64 KiB: 64-bit length)
function size() {
  const r = rnd();
  if (r < 0.45) return int(0, 125);
  if (r < 0.7) return int(126, 1460);
  if (r < 0.95) return int(1461, 12000);
  return int(20000, 70000);
}

// the script, built up front so the PRNG sequence does not depend on timing
const STEPS = 150;
const TICK_MS = 40;
const BOUNDARY = 50; // ~2 s after the connection is open
const script = [];
for (let i = 0; i < STEPS; i++) {
  if (i === BOUNDARY) {
    script.push({ dir: 's2c', opcode: 2, payload: binary(100000), frag: null });
    continue;
  }
  const dir = rnd() < 0.5 ? 'c2s' : 's2c';
  const opcode = rnd() < 0.55 ? 1 : 2;
  const n = size();
  const payload = opcode === 1 ? jsonText(n) : binary(n);
  const frag = n > 300 && rnd() < 0.12 ? [int(1, Math.floor(n / 3)), int(Math.floor(n / 3) + 1, n - 1)] : null;
  script.push({ dir, opcode, payload, frag });
}
const nC2S = script.filter((s) => s.dir === 'c2s').length;
const nS2C = STEPS - nC2S;

const manifest = [];
const ordinal = { c2s: [], s2c: [] }; // global manifest indices per direction
let armed = null; // { t, c2s, s2c }: messages completely received per direction before tcpdump
let go = null; // { t, tcpdump, first }
const t0 = Date.now();
const fail = (m) => {
  console.error('ws-midstream: ' + m);
  process.exit(1);
};
setTimeout(() => fail('timeout'), 40000).unref();

function checkGo() {
  if (!go && armed && fs.existsSync(sig('go'))) {
    go = { t: Date.now(), tcpdump: fs.readFileSync(sig('go'), 'utf8').trim(), first: manifest.length };
    return true;
  }
  return false;
}
function send(ws, s) {
  checkGo();
  ordinal[s.dir].push(manifest.length);
  const sha = crypto.createHash('sha256').update(s.payload).digest('hex');
  manifest.push(`${s.dir}\t${s.opcode}\t${s.payload.length}\t${sha}`);
  const binary = s.opcode === 2;
  if (!s.frag) return ws.send(s.payload, { binary, fin: true });
  const cuts = [0, ...s.frag, s.payload.length];
  for (let i = 0; i + 1 < cuts.length; i++) {
    ws.send(s.payload.subarray(cuts[i], cuts[i + 1]), { binary, fin: i + 2 === cuts.length });
  }
}

const recv = { c2s: 0, s2c: 0 };
let server, client;

function ranges(list) {
  const out = [];
  for (let i = 0; i < list.length; i++) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j] + 1) j++;
    out.push(i === j ? `${list[i]}` : `${list[i]}-${list[j]}`);
    i = j;
  }
  return out.join(',') || '-';
}
function finish() {
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.map((l) => l + '\n').join(''));
  const N = manifest.length;
  const K = go ? go.first : N;
  const absent = armed
    ? [...ordinal.c2s.slice(0, armed.c2s), ...ordinal.s2c.slice(0, armed.s2c)].sort((a, b) => a - b)
    : [...Array(N).keys()];
  const inFlight = [];
  for (let i = 0; i < K; i++) if (!absent.includes(i)) inFlight.push(i);
  const iso = (t) => new Date(t).toISOString();
  const lines = [
    `# ${path.basename(capturedFromPath).replace('.captured-from.txt', '.pcap')}: tcpdump started after the WebSocket`,
    '# connection was open (no handshake in the capture). Indices are 0-based data rows of the manifest',
    `# ${path.basename(manifestPath)} (header excluded), i.e. global send order over both directions.`,
    '# Rule: every message with index >= first_full_index is entirely inside the capture (sent after',
    '# tcpdump was listening). Messages in absent_indices were completely received by the peer before',
    '# tcpdump was launched: none of their bytes is in the capture. in_flight_indices (normally just',
    `# ${BOUNDARY}, a 100000-byte s2c binary message held back by a paused reader) were on their way at`,
    '# the capture start: the capture begins inside that frame, so only its tail is captured.',
    '# Per direction: the first absent_c2s c2s and the first absent_s2c s2c messages are the absent ones.',
    `deflate=${deflate ? 'permessage-deflate, context takeover both ways (threshold 0)' : 'off'}`,
    `connection_open=${iso(t0Open)}`,
    `tcpdump_listening=${go ? go.tcpdump : 'never'}`,
    `snapshot=${armed ? iso(armed.t) : 'never'}`,
    `go_seen=${go ? iso(go.t) : 'never'}`,
    `messages=${N}`,
    `first_full_index=${K}`,
    `absent_c2s=${armed ? armed.c2s : nC2S}`,
    `absent_s2c=${armed ? armed.s2c : nS2C}`,
    `absent_indices=${ranges(absent)}`,
    `in_flight_indices=${ranges(inFlight)}`,
    `full_indices=${K < N ? `${K}-${N - 1}` : '-'}`,
  ];
  if (deflate) {
    lines.push('# With context takeover, messages after the capture start may back-reference bytes of earlier');
    lines.push('# messages in the LZ77 window, so they cannot in general be inflated from the capture alone.');
  }
  fs.writeFileSync(capturedFromPath, lines.join('\n') + '\n');
}

let t0Open = 0;
const perMessageDeflate = deflate ? { threshold: 0 } : false;
const wss = new WebSocketServer({ host, port, perMessageDeflate, maxPayload: 1 << 24 });
wss.on('error', (e) => fail(String(e)));
wss.on('connection', (ws) => {
  server = ws;
  ws.on('message', () => recv.c2s++);
  let n = 0;
  const ping = setInterval(() => ws.ping(Buffer.from(`srv-ping ${n++}`)), 750);
  ws.on('close', (code) => {
    clearInterval(ping);
    if (code !== 1000) fail(`server close ${code}`);
    if (recv.c2s !== nC2S) fail(`server got ${recv.c2s} of ${nC2S}`);
  });
});
wss.on('listening', () => {
  client = new WebSocket(`ws://${host}:${port}/midstream`, { perMessageDeflate, maxPayload: 1 << 24 });
  client.on('message', () => {
    recv.s2c++;
    maybeClose();
  });
  let n = 0;
  let ping;
  client.on('open', () => {
    t0Open = Date.now();
    fs.writeFileSync(sig('open'), String(t0Open));
    ping = setInterval(() => client.ping(Buffer.from(`cli-ping ${n++}`)), 500);
    let i = 0;
    const sent = { c2s: 0, s2c: 0 };
    const step = () => {
      const s = script[i++];
      sent[s.dir]++;
      send(s.dir === 'c2s' ? client : server, s);
    };
    const paced = (last, then) => {
      const tick = setInterval(() => {
        step();
        if (i === last) {
          clearInterval(tick);
          then();
        }
      }, TICK_MS);
    };
    paced(BOUNDARY, () => {
      const quiet = setInterval(() => {
        if (recv.c2s !== sent.c2s || recv.s2c !== sent.s2c) return;
        clearInterval(quiet);
        armed = { t: Date.now(), c2s: recv.c2s, s2c: recv.s2c };
        client.pause();
        step(); // BOUNDARY: the big s2c message, only partly sent until the client reads again
        fs.writeFileSync(sig('ready'), String(armed.t));
        const wait = setInterval(() => {
          if (!checkGo()) return;
          clearInterval(wait);
          client.resume();
          paced(STEPS, maybeClose);
        }, 5);
      }, 5);
    });
  });
  let closing = false;
  function maybeClose() {
    if (closing || manifest.length !== STEPS || recv.s2c !== nS2C) return;
    closing = true;
    // wait for the server to have every c2s message too
    const t = setInterval(() => {
      if (recv.c2s !== nC2S) return;
      clearInterval(t);
      clearInterval(ping);
      client.close(1000, 'midstream done');
    }, 10);
  }
  client.on('close', (code) => {
    if (code !== 1000) fail(`client close ${code}`);
    finish();
    wss.close();
    console.log(`ws-midstream: ${STEPS} messages, first_full_index=${go ? go.first : 'none'}`);
  });
});
