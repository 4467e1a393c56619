#!/usr/bin/env node
// Large, seeded WebSocket workload for wsdump's benchmark capture
// (bench/gen.sh). Real node `ws` servers and clients over loopback, in two
// processes so that both ends (and tcpdump) get a core:
//
//   node ws-bench.js --role server|client --port 48000 [--size-mb 100]
//                    [--conns 600] [--seed 1] [--manifest OUT.tsv]
//                    [--shape mixed|json]
//                    [--concurrency 48]  (client only)
//   node ws-bench.js --role plan ...   prints the workload's make-up as JSON
//
// Both processes must get the same --size-mb, --conns and --seed: each
// derives every connection's script from them (the client also sends them in
// the request URL, and the server refuses a mismatch).
//
// The server listens on 127.0.0.1 and ::1 (same port) and prints "ready".
// The client opens --conns connections over time (at most --concurrency at
// once), every third one over IPv6. Each connection's script is
// a pure function of (seed, connection number), computed by both processes,
// so the payloads are the same on every run; only ports, masks, timing and
// segmentation change.
//
// A connection plays rounds: the client sends 1-3 messages, the server
// answers with 0-4 (counting tells each side when the other is done). Sizes:
// 90% small JSON records or binary blobs (8-300 B), 9% 1-64 KiB
// (log-uniform), 1% 64-256 KiB; text
// and binary; some messages fragmented, pings both ways. About a quarter of
// the connections offer permessage-deflate (half with context takeover, half
// without; threshold 256 B so small messages stay uncompressed). Endings:
// client close 1000, server close 1001, client terminate (FIN, no close frame),
// client RST, and RST in the middle of a fragmented message.
//
// --shape json (bench/gen.sh SHAPE=json; issue 17's second capture kind):
// the same workload, but every medium and large text message is a valid
// JSON object instead of a cut slice of JSON text, in the shapes real
// services send: a batch array of records, an index object with one member
// per record, a wide flat object of many scalar members (1 in 8 of them
// with a repeated key), and a tree of nested objects. The default shape
// (mixed) is unchanged, byte for byte.
//
// The manifest lists each data message sent by this process:
//   conn  dir  n  opcode  len  sha256   (uncompressed payload)
// A message cut short by an abrupt ending is not listed.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const { arg } = require('./common');
const role = arg('role', 'client');
const port = Number(arg('port', '48000'));
const seed = Number(arg('seed', '1'));
const conns = Number(arg('conns', '600'));
const sizeMB = Number(arg('size-mb', '100'));
const concurrency = Number(arg('concurrency', '48'));
const shape = arg('shape', 'mixed');
if (shape !== 'mixed' && shape !== 'json') {
  console.error(`ws-bench: unknown --shape ${shape} (mixed or json)`);
  process.exit(2);
}
const workload = `?seed=${seed}&conns=${conns}&size-mb=${sizeMB}` + (shape === 'mixed' ? '' : `&shape=${shape}`);
const manifestPath = arg('manifest', '');

const { prng } = require('./prng'); // mulberry32, seeded
const int = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1)); // [lo, hi]
const pick = (r, a) => a[Math.floor(r() * a.length)];

// Shared content pools, from the seed: 4 MiB of JSON-ish text, 2 MiB of
// structured binary records, 2 MiB of random bytes. Medium and large
// messages are slices of them behind a unique header.
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];
const EVENTS = ['login', 'logout', 'click', 'view', 'purchase', 'scroll', 'search', 'error', 'tick', 'quote'];
const SYMS = ['AAPL', 'MSFT', 'GOOG', 'AMZN', 'TSLA', 'NVDA', 'META', 'ORCL', 'IBM', 'INTC'];
const WORDS = ('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ' +
  'incididunt ut labore et dolore magna aliqua websocket frame deflate window stream').split(' ');
function jsonRecord(r, seq) {
  const words = [];
  for (let i = 0, n = int(r, 1, 6); i < n; i++) words.push(pick(r, WORDS));
  switch (int(r, 0, 2)) {
    case 0:
      return `{"type":"event","seq":${seq},"user":"${pick(r, USERS)}","event":"${pick(r, EVENTS)}",` +
        `"ts":${1700000000000 + seq * 37 + int(r, 0, 30)},"path":"/api/v1/items/${int(r, 0, 499)}",` +
        `"ok":${r() < 0.9},"latency_ms":${(r() * 250).toFixed(2)},"note":"${words.join(' ')}"}`;
    case 1:
      return `{"type":"quote","seq":${seq},"sym":"${pick(r, SYMS)}","bid":${(r() * 500).toFixed(2)},` +
        `"ask":${(r() * 500).toFixed(2)},"vol":${int(r, 1, 100000)}}`;
    default:
      return `{"type":"chat","seq":${seq},"from":"${pick(r, USERS)}","to":"${pick(r, USERS)}","text":"${words.join(' ')}"}`;
  }
}
const pools = (() => {
  const r = prng(seed * 7919 + 1);
  const parts = [];
  let n = 0;
  for (let seq = 0; n < 4 << 20; seq++) {
    const s = jsonRecord(r, seq) + ',\n';
    parts.push(s);
    n += s.length;
  }
  const json = Buffer.from(parts.join(''), 'ascii');
  const records = parts.map((p) => p.slice(0, -2)); // whole records, for --shape json
  const bodies = Array.from({ length: 16 }, () => Buffer.from(Array.from({ length: 24 }, () => int(r, 0, 255))));
  const struct = Buffer.alloc(2 << 20);
  for (let off = 0, seq = 0; off < struct.length; off += 32, seq++) {
    struct.write('WSDR', off, 'ascii');
    struct.writeUInt32BE(seq, off + 4);
    bodies[int(r, 0, bodies.length - 1)].copy(struct, off + 8);
  }
  const random = Buffer.alloc(2 << 20);
  for (let i = 0; i < random.length; i += 4) random.writeUInt32LE((r() * 4294967296) >>> 0, i);
  return { json, records, struct, random };
})();

// jsonObject(r, c, seq, n): a valid JSON object of about n bytes (at least
// n, less one record), of one of four shapes, from the records of the pool.
function jsonObject(r, c, seq, n) {
  const recs = pools.records;
  let k = int(r, 0, recs.length - 1);
  const rec = () => recs[k++ % recs.length];
  const head = `{"conn":${c},"seq":${seq},`;
  const parts = [head];
  let size = head.length + 2;
  const add = (s) => {
    parts.push(s);
    size += s.length;
  };
  switch (int(r, 0, 3)) {
    case 0: { // {"batch":[rec, rec, ...]}
      add('"batch":[');
      for (let i = 0; size < n; i++) add((i ? ',' : '') + rec());
      add(']');
      break;
    }
    case 1: { // {"items":{"id-N":rec, ...}}
      add('"items":{');
      for (let i = 0; size < n; i++) add(`${i ? ',' : ''}"id-${seq}-${i}":${rec()}`);
      add('}');
      break;
    }
    case 2: { // flat: "f<i>":scalar, some keys repeated
      add('"kind":"wide"');
      for (let i = 0; size < n; i++) {
        const key = r() < 0.125 && i > 0 ? `f${int(r, 0, i - 1)}` : `f${i}`;
        const v = int(r, 0, 2);
        add(`,"${key}":` + (v === 0 ? int(r, 0, 1e9) : v === 1 ? `"${pick(r, WORDS)} ${pick(r, USERS)}"` : r() < 0.5));
      }
      break;
    }
    default: { // a tree of nodes, records as leaves, up to 64 deep
      add('"tree":{"level":0,"children":[');
      let depth = 1;
      let first = true;
      while (size < n) {
        if (depth < 64 && r() < 0.25) {
          add(`${first ? '' : ','}{"level":${depth},"children":[`);
          depth++;
          first = true;
          continue;
        }
        add((first ? '' : ',') + rec());
        first = false;
        if (depth > 1 && r() < 0.15) {
          add(']}');
          depth--;
        }
      }
      while (depth-- > 0) add(']}');
      break;
    }
  }
  parts.push('}');
  return parts.join('');
}

function slice(r, pool, n) {
  const off = int(r, 0, pool.length - n);
  return pool.subarray(off, off + n);
}
// payload(r, conn, n, opcode, size): deterministic message bytes
function payload(r, c, seq, opcode, size) {
  if (size === 'small') {
    if (opcode === 2) {
      const b = Buffer.alloc(int(r, 8, 200));
      for (let i = 0; i < b.length; i++) b[i] = int(r, 0, 255);
      return b;
    }
    return Buffer.from(jsonRecord(r, seq), 'ascii');
  }
  // medium: log-uniform over 1 KiB - 64 KiB; large: uniform over 64 - 256 KiB
  const n = size === 'medium' ? Math.min(65535, Math.floor(1024 * Math.pow(64, r()))) : int(r, 65536, 262144);
  const head = Buffer.from(`{"conn":${c},"seq":${seq},"batch":[\n`, 'ascii');
  if (opcode === 1 && shape === 'json') return Buffer.from(jsonObject(r, c, seq, n), 'ascii');
  if (opcode === 1) return Buffer.concat([head, slice(r, pools.json, n - head.length)]);
  return Buffer.concat([head, slice(r, r() < 0.7 ? pools.struct : pools.random, n - head.length)]);
}

// Mean wire bytes of one message, used to turn --size-mb into a message
// count: calibrated on loopback captures (packet headers, pcap records, ACKs,
// compression on a quarter of the connections).
const WIRE_PER_MESSAGE = 2800;

// plan(c): the whole script of connection c, the same in both processes.
function plan(c) {
  const r = prng(seed * 1000003 + c * 7 + 3);
  const p = {
    ipv6: c % 3 === 2,
    deflate: r() < 0.25 ? (r() < 0.5 ? 'takeover' : 'nocontext') : null,
    rounds: [],
  };
  const e = r();
  p.ending = e < 0.6 ? 'client-close' : e < 0.8 ? 'server-close' : e < 0.88 ? 'terminate' : e < 0.95 ? 'reset' : 'reset-mid-message';
  const nmsg = Math.max(2, Math.round(messagesPer[c]));
  let seq = 0;
  const msg = () => {
    const opcode = r() < 0.8 ? 1 : 2;
    const x = r();
    const size = x < 0.9 ? 'small' : x < 0.99 ? 'medium' : 'large';
    const data = payload(r, c, seq++, opcode, size);
    const frag = size !== 'small' && r() < 0.15 ? int(r, 2, 4) : 1;
    return { opcode, data, frag, ping: r() < 0.03 };
  };
  for (let sent = 0; sent < nmsg;) {
    const round = { c2s: [], s2c: [] };
    for (let i = 0, k = int(r, 1, 3); i < k; i++) round.c2s.push(msg());
    for (let i = 0, k = int(r, 0, 4); i < k; i++) round.s2c.push(msg());
    sent += round.c2s.length + round.s2c.length;
    p.rounds.push(round);
  }
  return p;
}
// messagesPer[c]: heavy-tailed share of the total message count
const messagesPer = (() => {
  const r = prng(seed * 31 + 17);
  const w = Array.from({ length: conns }, () => Math.pow(1 - r(), -0.7)); // Pareto-ish
  const sum = w.reduce((a, b) => a + b, 0);
  const total = (sizeMB * 1e6) / WIRE_PER_MESSAGE;
  return w.map((x) => (x / sum) * total);
})();

const manifest = [];
function record(c, dir, n, opcode, data) {
  if (!manifestPath) return;
  const sha = crypto.createHash('sha256').update(data).digest('hex');
  manifest.push(`${c}\t${dir}\t${n}\t${opcode}\t${data.length}\t${sha}\n`);
}
function writeManifest() {
  if (manifestPath) fs.writeFileSync(manifestPath, manifest.join(''));
}

// send one message, fragmented if asked; a ping goes before it
function sendMsg(ws, c, dir, n, m) {
  if (m.ping) ws.ping(Buffer.from(`${dir} ping ${c}/${n}`));
  record(c, dir, n, m.opcode, m.data);
  const binary = m.opcode === 2;
  if (m.frag === 1) return ws.send(m.data, { binary });
  const step = Math.ceil(m.data.length / m.frag);
  for (let off = 0; off < m.data.length; off += step) {
    ws.send(m.data.subarray(off, off + step), { binary, fin: off + step >= m.data.length });
  }
}

const DEFLATE_SERVER = { threshold: 256, concurrencyLimit: 4 };
const DEFLATE_CLIENT = {
  takeover: { threshold: 256 },
  nocontext: { threshold: 256, clientNoContextTakeover: true, serverNoContextTakeover: true },
};
const quiet = () => {};

if (role === 'server') {
  const servers = [];
  let counter = 0; // messages of this process, for the final log
  const onConn = (ws, req) => {
    const c = Number(/\/bench\/(\d+)/.exec(req.url)[1]);
    if (!req.url.endsWith(workload)) {
      console.error(`ws-bench server: workload mismatch: ${req.url}, want ${workload}`);
      process.exit(1);
    }
    const p = plan(c);
    let round = 0;
    let got = 0;
    let n = 0;
    ws.on('error', (e) => console.error(`ws-bench server: connection ${c}: ${e.message}`));
    const next = () => {
      // answer the round whose client messages have all arrived
      const rd = p.rounds[round];
      for (const m of rd.s2c) sendMsg(ws, c, 's2c', n++, m);
      counter += rd.s2c.length;
      round++;
      got = 0;
      if (round === p.rounds.length && p.ending === 'server-close') ws.close(1001, 'server going away');
    };
    ws.on('message', () => {
      if (round >= p.rounds.length) return;
      if (++got === p.rounds[round].c2s.length) next();
    });
  };
  let ready = 0;
  for (const host of ['127.0.0.1', '::1']) {
    const srv = http.createServer();
    const wss = new WebSocketServer({ server: srv, perMessageDeflate: DEFLATE_SERVER, maxPayload: 1 << 26 });
    wss.on('connection', onConn);
    srv.listen({ host, port, ipv6Only: host === '::1' }, () => {
      if (++ready === 2) console.log('ready');
    });
    servers.push(srv);
  }
  process.on('SIGTERM', () => {
    writeManifest();
    fs.writeSync(2, `ws-bench server: sent ${counter} messages\n`);
    process.exit(0);
  });
} else if (role === 'plan') {
  // what the workload holds, without any traffic
  const t = { conns, ipv6: 0, deflate: { takeover: 0, nocontext: 0 }, endings: {}, messages: 0, fragmented: 0, pings: 0,
    sizes: { small: 0, medium: 0, large: 0 }, payloadBytes: 0 };
  for (let c = 0; c < conns; c++) {
    const p = plan(c);
    if (p.ipv6) t.ipv6++;
    if (p.deflate) t.deflate[p.deflate]++;
    t.endings[p.ending] = (t.endings[p.ending] || 0) + 1;
    for (const rd of p.rounds) {
      for (const m of [...rd.c2s, ...rd.s2c]) {
        t.messages++;
        t.payloadBytes += m.data.length;
        if (m.frag > 1) t.fragmented++;
        if (m.ping) t.pings++;
        if (shape === 'json' && m.opcode === 1) {
          // every text message of this shape is one valid JSON object
          t.jsonObjects = (t.jsonObjects || 0) + 1;
          try {
            if (typeof JSON.parse(m.data) !== 'object') throw new Error('not an object');
          } catch (e) {
            t.jsonInvalid = (t.jsonInvalid || 0) + 1;
          }
        }
        t.sizes[m.data.length < 1024 ? 'small' : m.data.length < 65536 ? 'medium' : 'large']++;
      }
    }
  }
  console.log(JSON.stringify(t));
} else {
  let next = 0;
  let active = 0;
  let done = 0;
  let sentMsgs = 0;
  const t0 = Date.now();
  const start = () => {
    while (active < concurrency && next < conns) open(next++);
  };
  const finished = () => {
    active--;
    if (++done === conns) {
      writeManifest();
      fs.writeSync(2, `ws-bench client: ${conns} connections, ${sentMsgs} client messages, ${(Date.now() - t0) / 1000}s\n`);
      process.exit(0);
    }
    // spread connection starts over time
    setTimeout(start, 5);
  };
  const open = (c) => {
    active++;
    const p = plan(c);
    const host = p.ipv6 ? '[::1]' : '127.0.0.1';
    const ws = new WebSocket(`ws://${host}:${port}/bench/${c}${workload}`, {
      perMessageDeflate: p.deflate ? DEFLATE_CLIENT[p.deflate] : false,
      maxPayload: 1 << 26,
    });
    let round = 0;
    let got = 0;
    let n = 0;
    let ended = false;
    const end = () => {
      if (!ended) {
        ended = true;
        finished();
      }
    };
    ws.on('error', (e) => {
      console.error(`ws-bench client: connection ${c}: ${e.message}`);
      end();
    });
    ws.on('close', end);
    const finish = () => {
      switch (p.ending) {
        case 'client-close': return ws.close(1000, 'client done');
        case 'server-close': return; // the server closes after its last round
        // abrupt endings wait a little so queued (deflating) sends go out first
        case 'terminate': return setTimeout(() => ws.terminate(), 200);
        case 'reset': return setTimeout(() => ws._socket.resetAndDestroy(), 200);
        case 'reset-mid-message': {
          const part = slice(prng(c), pools.json, 3000);
          ws.send(part, { fin: false });
          return setTimeout(() => ws._socket.resetAndDestroy(), 200);
        }
      }
    };
    const play = () => {
      if (round === p.rounds.length) return finish();
      const rd = p.rounds[round];
      for (const m of rd.c2s) sendMsg(ws, c, 'c2s', n++, m);
      sentMsgs += rd.c2s.length;
      got = 0;
      if (rd.s2c.length === 0) {
        round++;
        setImmediate(play);
      }
    };
    ws.on('message', () => {
      if (round >= p.rounds.length) return;
      if (++got === p.rounds[round].s2c.length) {
        round++;
        play();
      }
    });
    ws.on('open', play);
  };
  setTimeout(() => {
    console.error('ws-bench client: timeout');
    process.exit(1);
  }, Number(arg('timeout', '3600')) * 1000).unref();
  start();
}
