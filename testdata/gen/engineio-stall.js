#!/usr/bin/env node
// A Socket.IO app whose server stops answering, for wsdump's reconnect
// fixtures (testdata/pcaps/gen__engineio-stall.pcap, issue 15).
//
// usage: node engineio-stall.js --port P --manifest OUT.messages.tsv --expect OUT.expect.json
//        node engineio-stall.js --serve --port P      (the server process)
//
// Server: socket.io 4.8.1 (engine.io 6.6) in a child process, pingInterval
// 5000 ms, pingTimeout 4000 ms (the defaults 25 s / 20 s scaled down), default
// transports (polling, then the upgrade to websocket); it emits "news" to each
// client every 3 s and acks "hello". Client: socket.io-client 4.8.1 in this
// process with its default reconnection (delay 1000 ms doubling up to 5000,
// randomizationFactor 0.5: Math.random is seeded) and a 4000 ms connect
// timeout; it emits "hello" (with ack) on each connect and "status" every 4 s.
//
// Timeline (seconds; S1 = first connect): at S1+--run the server process
// gets SIGSTOP. Its kernel still completes TCP handshakes (listen backlog),
// but nothing is answered: no Engine.IO ping, no reply to the reconnect's
// polling requests. The client drops the session after pingInterval +
// pingTimeout without a ping ("ping timeout") and retries: each try is an
// HTTP long-polling GET that goes unanswered until the connect timeout. After
// --stall seconds the server gets SIGCONT; the next try connects; after
// --after seconds the client disconnects and the server is stopped.
//
// --manifest lists the WebSocket data messages as the client sent and
// received them (dir opcode len sha256; polling payloads are not WebSocket
// messages and are not listed). --expect: what the client saw, with epoch
// times (float seconds): server events, every HTTP request / WebSocket
// upgrade it made (kind polling / websocket, outcome), the Engine.IO
// sessions, pings received, the disconnect, every reconnect attempt and
// its outcome.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { spawn } = require('child_process');

const { arg, now, sleep } = require('./common');
const host = '127.0.0.1';
const port = Number(arg('port', '47320'));
const PING_INTERVAL = 5000;
const PING_TIMEOUT = 4000;
const CONNECT_TIMEOUT = 4000;

const { prng } = require('./prng');
Math.random = prng(0x7374616c); // "stal": reconnect jitter, client ids
{
  // Engine.IO session ids (base64id) come from sync crypto.randomBytes.
  const seeded = prng(0x73696473);
  const randomBytes = crypto.randomBytes;
  crypto.randomBytes = function (n, cb) {
    if (cb) return randomBytes.apply(this, arguments);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(seeded() * 256);
    return b;
  };
}

// ---- the server process ---------------------------------------------------

if (process.argv.includes('--serve')) {
  const { Server } = require('socket.io');
  const rnd = prng(0x6e657773);
  const httpServer = http.createServer();
  const io = new Server(httpServer, { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
  let n = 0;
  io.on('connection', (s) => {
    s.on('hello', (m, ack) => ack({ hi: m }));
    s.on('status', () => {});
    const t = setInterval(() => s.emit('news', { n: ++n, v: Math.floor(rnd() * 1e6) }), 3000);
    s.on('disconnect', () => clearInterval(t));
  });
  httpServer.listen(port, host, () => process.stdout.write('listening\n'));
  process.on('SIGTERM', () => { io.close(); process.exit(0); });
  return;
}

// ---- the client -------------------------------------------------------------

const manifestPath = arg('manifest', '/dev/null');
const expectPath = arg('expect', '/dev/null');
const RUN = Number(arg('run', '20'));
const STALL = Number(arg('stall', '35'));
const AFTER = Number(arg('after', '15'));

const ex = {
  scenario: 'engineio-stall',
  stack: 'socket.io 4.8.1 server (engine.io 6.6.12) + socket.io-client 4.8.1 (engine.io-client 6.6.8), default transports',
  url: `http://${host}:${port}/socket.io/`,
  server_port: port,
  ping_interval: PING_INTERVAL / 1000,
  ping_timeout: PING_TIMEOUT / 1000,
  connect_timeout: CONNECT_TIMEOUT / 1000,
  reconnection: { delay: 1, delay_max: 5, randomization: 0.5, rhythm: 'exponential' },
  server: [],
  requests: [],
  sessions: [],
  pings: [],
  disconnects: [],
  attempts: [],
  emitted: [],
};

const manifest = [];
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
function toBuf(data) {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data.map(toBuf));
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(String(data), 'utf8');
}
function tapWs(W) {
  const send = W.prototype.send;
  W.prototype.send = function (data, opts) {
    if (!this._isServer && this.readyState === 1) {
      const bin = opts && typeof opts === 'object' && opts.binary !== undefined ? opts.binary : typeof data !== 'string';
      const b = toBuf(data);
      manifest.push(['c2s', bin ? 2 : 1, b.length, sha(b)].join('\t'));
    }
    return send.apply(this, arguments);
  };
  const emit = W.prototype.emit;
  W.prototype.emit = function (ev, data, isBinary) {
    if (ev === 'message' && !this._isServer) {
      const bin = isBinary !== undefined ? isBinary : typeof data !== 'string';
      const b = toBuf(data);
      manifest.push(['s2c', bin ? 2 : 1, b.length, sha(b)].join('\t'));
    }
    return emit.apply(this, arguments);
  };
}
for (const m of ['ws', 'engine.io-client/node_modules/ws']) {
  let W;
  try {
    W = require(path.join(__dirname, 'node_modules', m));
  } catch (e) {
    continue;
  }
  tapWs(W.WebSocket || W);
}

// Every HTTP request the client makes: Engine.IO polling (xmlhttprequest-ssl)
// and the WebSocket upgrade (ws) both go through http.request.
{
  const request = http.request;
  http.request = function (options, cb) {
    const u = new URL(typeof options === 'string' ? options : `http://${options.hostname || options.host}:${options.port}${options.path}`);
    const rec = {
      time: now(), attempt: curAttempt, kind: u.searchParams.get('transport') || 'http', method: (options.method || 'GET').toUpperCase(),
      sid: u.searchParams.get('sid'), outcome: 'pending',
    };
    ex.requests.push(rec);
    const req = request.apply(this, arguments);
    req.on('response', (res) => { rec.outcome = `http ${res.statusCode}`; rec.answered = now(); });
    req.on('upgrade', (res) => { rec.outcome = `${res.statusCode} upgrade`; rec.answered = now(); });
    req.on('socket', (s) => {
      if (req.reusedSocket) rec.tcp = 'reused';
      else s.once('connect', () => { rec.tcp = 'connected'; rec.lport = s.localPort; });
    });
    req.on('error', (e) => { if (rec.outcome === 'pending') rec.outcome = e.code || e.message; });
    req.on('close', () => {
      rec.closed = now();
      if (rec.outcome === 'pending') rec.outcome = 'aborted unanswered';
    });
    return req;
  };
}
let curAttempt = 0;

let server = null;
function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--serve', '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d) => {
      if (String(d).includes('listening')) {
        ex.server.push({ event: 'start', time: now(), pid: child.pid });
        resolve(child);
      }
    });
    child.on('exit', (code) => { if (code) reject(new Error('server exited ' + code)); });
    server = child;
  });
}

async function main() {
  setTimeout(() => { console.error('engineio-stall: timeout'); if (server) server.kill('SIGKILL'); process.exit(1); }, (RUN + STALL + AFTER + 90) * 1000).unref();
  await startServer();
  const { io } = require('socket.io-client');
  const sock = io(`http://${host}:${port}`, { timeout: CONNECT_TIMEOUT, reconnectionDelay: 1000, reconnectionDelayMax: 5000, randomizationFactor: 0.5 });
  const manager = sock.io;
  let connected = null;
  const nextConnect = () => new Promise((r) => { connected = r; });
  manager.on('open', () => {
    const eng = manager.engine;
    const s = { sid: eng.id, open: now(), transport: eng.transport.name, attempt: curAttempt, upgraded: null, closed: null, close_reason: null };
    ex.sessions.push(s);
    eng.on('upgrade', (t) => { s.upgraded = now(); s.transport = t.name; });
    eng.on('ping', () => ex.pings.push({ sid: s.sid, time: now(), transport: eng.transport.name }));
    eng.on('close', (reason) => { s.closed = now(); s.close_reason = reason; });
  });
  manager.on('reconnect_attempt', (n) => {
    curAttempt = n;
    const prev = ex.attempts[ex.attempts.length - 1];
    const since = prev ? prev.failed : ex.disconnects[ex.disconnects.length - 1].time;
    ex.attempts.push({ attempt: n, time: now(), delay: Math.round((now() - since) * 1000) / 1000, outcome: 'pending' });
  });
  manager.on('reconnect_error', (e) => {
    const a = ex.attempts[ex.attempts.length - 1];
    a.outcome = e.message;
    a.failed = now();
  });
  manager.on('reconnect', (n) => {
    const a = ex.attempts[ex.attempts.length - 1];
    a.outcome = 'connected';
    a.connected = now();
  });
  sock.on('connect', () => {
    const t = now();
    sock.emit('hello', 'client', () => {});
    ex.emitted.push({ event: 'hello', time: t });
    if (connected) connected(t);
  });
  sock.on('disconnect', (reason) => ex.disconnects.push({ time: now(), reason, sid: ex.sessions.length ? ex.sessions[ex.sessions.length - 1].sid : null }));
  const status = setInterval(() => {
    if (!sock.connected) return;
    sock.emit('status', { ok: true });
    ex.emitted.push({ event: 'status', time: now() });
  }, 4000);

  let c = nextConnect();
  const s1 = await c;
  await sleep(RUN * 1000 - (now() - s1) * 1000);
  c = nextConnect();
  server.kill('SIGSTOP');
  ex.server.push({ event: 'stop', signal: 'SIGSTOP', time: now() });
  await sleep(STALL * 1000);
  server.kill('SIGCONT');
  ex.server.push({ event: 'cont', signal: 'SIGCONT', time: now() });
  const s2 = await c;
  await sleep(AFTER * 1000 - (now() - s2) * 1000);
  clearInterval(status);
  ex.client_disconnect = now();
  sock.disconnect();
  await sleep(1500);
  const t = now();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  ex.server.push({ event: 'term', signal: 'SIGTERM', time: t });
  finish();
}

function finish() {
  const lost = ex.disconnects[0];
  const s2 = ex.sessions.find((s) => s.open > lost.time);
  const lastPing = ex.pings.filter((p) => p.time < lost.time).pop();
  ex.summary = {
    sessions: ex.sessions.length,
    websockets: ex.requests.filter((r) => r.kind === 'websocket').length,
    polling_requests: ex.requests.filter((r) => r.kind === 'polling').length,
    // polling handshakes of failed attempts: unanswered until the attempt
    // timed out (engine.io-client gives up on them but leaves the request
    // open, so the server may answer it after SIGCONT)
    unanswered_polling: ex.requests.filter((r) => r.kind === 'polling' && r.attempt > 0 &&
      ex.attempts[r.attempt - 1].outcome !== 'connected' && (!r.answered || r.answered > ex.attempts[r.attempt - 1].failed)).length,
    pings_per_session: ex.sessions.map((s) => ex.pings.filter((p) => p.sid === s.sid).length),
    last_ping_before_stall: lastPing ? lastPing.time : null,
    lost: lost.time,
    lost_reason: lost.reason,
    lost_after_last_ping: lastPing ? Math.round((lost.time - lastPing.time) * 1000) / 1000 : null,
    attempts: ex.attempts.length,
    failed_attempts: ex.attempts.filter((a) => a.outcome !== 'connected').length,
    delays: ex.attempts.map((a) => a.delay),
    outage: s2 ? Math.round((s2.open - lost.time) * 1000) / 1000 : null,
  };
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.map((l) => l + '\n').join(''));
  fs.writeFileSync(expectPath, JSON.stringify(ex, null, 2) + '\n');
  setTimeout(() => process.exit(0), 200);
}

main().catch((e) => { console.error(e); if (server) server.kill('SIGKILL'); process.exit(1); });
