#!/usr/bin/env node
// The seed's reconnect loop forking (/work/shared/SEED-SCENARIO.md): stompjs
// 2.3.3 calls the connect's error callback twice when a server answers
// CONNECT with a STOMP ERROR and then closes: once for the ERROR frame,
// once more for "Whoops! Lost connection". The seed's errorCallBack calls
// reconnect(url) each time, so every failed try starts two: 1, 2, 4 tries in
// parallel. Used for testdata/pcaps/gen__reconnect-fork.
//
// usage: node seed-fork.js --port P --manifest OUT.messages.tsv --expect OUT.expect.json
//        node seed-fork.js --serve --port P --up MS   (the server process)
//
// With --down-after S (used for testdata/pcaps/gen__reconnect-dead, with
// --up 0 --delay 3000) the server is up from the start, the first try
// connects, and S seconds after its CONNECTED the server is SIGKILLed and
// never restarted: every later try's /info is refused (SYN answered by
// RST) until the seed gives up after its 10th try and calls disconnect();
// the capture ends a few seconds later.
//
// With --never-up (used for testdata/pcaps/gen__reconnect-never, with
// --delay 3000) no server is ever started: nobody listens on the port, so
// every try's /info is refused (SYN answered by RST) from the first, the
// seed gives up after its 10th try, and the capture ends 2 s later.
//
// The server (a child process) is the npm `sockjs` 0.3.24 server on
// http://127.0.0.1:P/stomp answering STOMP itself, as Spring's STOMP broker
// relay does while its broker is unavailable: for the first --up ms a
// CONNECT is answered `ERROR message:Broker not available.` and the session
// closed (SockJS close frame, then the WebSocket Close); afterwards CONNECT
// is answered `CONNECTED version:1.1 heart-beat:0,10000` (the server wants
// the client's beats every 10 s and sends none) and SUBSCRIBE/SEND are
// taken silently.
//
// The client is the seed's code (connect callback: clearInterval, a 10 s
// setInterval sending "ping", a subscribe; error callback: reconnect(url)
// while number <= 10), but with a fixed --delay (default 1000 ms) before
// each reconnect(url), as gen__seed-sockjs-stomp waits 3 s: at once, the
// forks race in a few ms and the 10 tries are gone before the server is back.
// --run seconds after the last CONNECTED the client disconnects (the seed's
// disconnect(): the global stompClient, the last one made) and the server is
// stopped (SIGTERM: it closes the sessions still open).
//
// --manifest gets every WebSocket data message the client sent and received
// (dir opcode len sha256, in the order the client saw them); --expect what
// the client did, with epoch times: every try (its number, start, the errors
// its callback got, CONNECTED), every TCP connection (info-request,
// websocket), every beat sent (SEND ping, STOMP EOL), the timers.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const { spawn } = require('child_process');

const { arg, now, sleep } = require('./common');
const host = '127.0.0.1';
const port = Number(arg('port', '47360'));

// ---- the server process ---------------------------------------------------

if (process.argv.includes('--serve')) {
  const UP = Number(arg('up', '2500'));
  const faye = require('faye-websocket');
  const API = Object.getPrototypeOf(faye.Client.prototype);
  API.ping = function () {
    return false; // no WebSocket pings: sockjs sends SockJS h frames (every 25 s) instead
  };
  const sockjs = require('sockjs');
  const srv = sockjs.createServer({ prefix: '/stomp', log: () => {} });
  const started = Date.now();
  srv.on('connection', (conn) => {
    let buf = '';
    conn.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\0')) >= 0) {
        const frame = buf.slice(0, i).replace(/^\n+/, '');
        buf = buf.slice(i + 1).replace(/^\n+/, '');
        const cmd = frame.split('\n', 1)[0];
        if (cmd !== 'CONNECT' && cmd !== 'STOMP') continue; // SUBSCRIBE, SEND: taken
        if (Date.now() - started < UP) {
          const body = 'Broker not available.';
          conn.write(`ERROR\nmessage:Broker not available.\ncontent-type:text/plain\ncontent-length:${body.length}\n\n${body}\0`);
          conn.close(1002, 'STOMP ERROR');
          return;
        }
        conn.write('CONNECTED\nversion:1.1\nheart-beat:0,10000\n\n\0');
      }
    });
  });
  const server = http.createServer();
  srv.installHandlers(server);
  server.listen(port, host, () => process.stdout.write('listening\n'));
  process.on('SIGTERM', () => {
    for (const c of Object.values(srv._sessions || {})) c.close && c.close(1001, 'going away');
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  });
  return;
}

// ---- the client -------------------------------------------------------------

const manifestPath = arg('manifest', '/dev/null');
const expectPath = arg('expect', '/dev/null');
const DELAY = Number(arg('delay', '1000'));
const UP = Number(arg('up', '2500'));
const RUN = Number(arg('run', '25'));
const DOWN = Number(arg('down-after', '0'));
const NEVER = process.argv.includes('--never-up');
const URL_ = `http://${host}:${port}/stomp`;

const { prng } = require('./prng');
Math.random = prng(0x666f726b); // "fork": SockJS server and session ids

const ex = {
  scenario: 'seed-fork',
  stack: {
    client: 'stompjs 2.3.3 Stomp.over(new SockJS(url)), sockjs-client 1.6.1 (node, faye-websocket driver), the seed code',
    server: 'npm sockjs 0.3.24 answering STOMP itself: ERROR "Broker not available." then close, until it is up',
  },
  url: URL_,
  server_port: port,
  retry: { delay: DELAY / 1000, max_tries: 10 },
  server_up_after: UP / 1000,
  server: [],
  tries: [],
  tcp: [],
  conns: [],
  timers: [],
  beats: [],
};

const manifest = [];
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const toBuf = (d) => (typeof d === 'string' ? Buffer.from(d, 'utf8') : Buffer.from(d));
const faye = require('faye-websocket');
{
  const API = Object.getPrototypeOf(faye.Client.prototype);
  const send = API.send;
  API.send = function (data) {
    if (this.readyState === 1) {
      const b = toBuf(data);
      manifest.push(['c2s', Buffer.isBuffer(data) ? 2 : 1, b.length, sha(b)].join('\t'));
      const s = b.toString();
      if (s === '["\\n"]') ex.beats.push({ conn: this._wsdumpConn, kind: 'stomp-eol', time: now() });
      else if (s.startsWith('["SEND\\ndestination:ping')) ex.beats.push({ conn: this._wsdumpConn, kind: 'SEND ping', time: now() });
    }
    return send.apply(this, arguments);
  };
  const Hybi = require('websocket-driver/lib/websocket/driver/hybi');
  const emitMessage = Hybi.prototype._emitMessage;
  Hybi.prototype._emitMessage = function () {
    const m = this._message;
    const r = emitMessage.apply(this, arguments);
    const b = m.read();
    manifest.push(['s2c', m.opcode === 2 ? 2 : 1, b.length, sha(b)].join('\t'));
    return r;
  };
}
let curTry = 0;
{
  const drv = require.resolve('sockjs-client/lib/transport/driver/websocket');
  const Client = require(drv);
  require.cache[drv].exports = function (url, protocols, options) {
    const ws = new Client(url, protocols, options);
    const c = { index: -1, try: curTry, start: now(), open: null, end: null, close_code: null, lport: null };
    ex.tcp.push(c.rec = { try: curTry, time: c.start, kind: 'websocket', outcome: 'pending' });
    ws.on('open', () => {
      c.open = now();
      c.lport = ws._stream && ws._stream.localPort;
      c.rec.outcome = '101 open';
      c.rec.lport = c.lport;
      c.index = ex.conns.length;
      ws._wsdumpConn = c.index;
      ex.conns.push(c);
    });
    ws.on('close', (e) => {
      c.end = now();
      c.close_code = e.code;
    });
    return ws;
  };
}
{
  const request = http.request;
  http.request = function (options, cb) {
    const p = typeof options === 'string' ? new URL(options).pathname : options.path;
    const rec = { try: curTry, time: now(), kind: /\/info(\?|$)/.test(p) ? 'info-request' : 'polling', outcome: 'pending' };
    ex.tcp.push(rec);
    const req = request.call(this, options, (res) => {
      rec.outcome = `http ${res.statusCode}`;
      if (cb) cb(res);
    });
    req.on('socket', (s) => {
      if (req.reusedSocket) rec.tcp = 'reused';
      else s.once('connect', () => { rec.tcp = 'connected'; rec.lport = s.localPort; });
    });
    req.on('error', (e) => { rec.outcome = e.code || e.message; });
    return req;
  };
}

let server = null;
function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--serve', '--port', String(port), '--up', String(UP)], { stdio: ['ignore', 'pipe', 'inherit'] });
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

// ---- the seed --------------------------------------------------------------

const SockJS = require('sockjs-client');
const Stomp = require('stompjs');

let number = 1;
let stompClient = null;
let timeId = null;
let timerSeq = 0;
let lastConnected = 0;

function reconnect(url) {
  curTry++;
  const tr = { try: curTry, time: now(), number, errors: [] };
  ex.tries.push(tr);
  let socket = new SockJS(url);
  const client = (stompClient = Stomp.over(socket));
  stompClient.debug = null;
  stompClient.connect(
    {},
    function connectCallback(frame) {
      tr.connected = lastConnected = now();
      tr.heart_beat = frame.headers['heart-beat'];
      tr.conn = client.ws._transport && client.ws._transport.ws && client.ws._transport.ws._wsdumpConn;
      const old = ex.timers.find((x) => x.handle === timeId);
      clearInterval(timeId);
      if (old && old.cleared === null) old.cleared = now();
      const timer = { id: ++timerSeq, try: tr.try, started: now(), period: 10, cleared: null, ticks: 0 };
      ex.timers.push(timer);
      // The seed uses the global stompClient: the last one made, which may
      // be a parallel try still connecting. A browser logs what that throws
      // and goes on: so do we, and record it.
      timeId = this.timeoutObj = setInterval(function () {
        timer.ticks++;
        try {
          stompClient.send('ping');
        } catch (e) {
          (timer.threw = timer.threw || []).push({ time: now(), error: e.message });
        }
      }, 10000);
      timer.handle = timeId;
      try {
        stompClient.subscribe('/some/destination', () => {});
      } catch (e) {
        tr.subscribe_threw = e.message;
      }
    },
    function errorCallBack(err) {
      const e = { time: now(), error: typeof err === 'string' ? err.replace(/ to .*/, '') : 'ERROR ' + (err.headers && err.headers.message), number_before: number };
      tr.errors.push(e);
      number += 1;
      if (number <= 10) {
        e.next_try_in = DELAY / 1000;
        setTimeout(() => reconnect(url), DELAY);
        return;
      }
      number = 1;
      e.gave_up = true;
      try {
        disconnect();
      } catch (x) {
        e.disconnect_threw = x.message; // the seed's disconnect() on a client whose socket never opened
      }
    },
  );
}

function disconnect() {
  stompClient.disconnect(function () {
    const t = ex.timers.find((x) => x.handle === timeId);
    clearInterval(timeId);
    if (t && t.cleared === null) t.cleared = now();
  });
}

async function main() {
  setTimeout(() => { console.error('seed-fork: timeout'); process.exit(1); }, (RUN + 60) * 1000).unref();
  if (NEVER) {
    ex.server_never_up = true; // nobody listens on server_port
    reconnect(URL_);
    while (!ex.tries.some((x) => x.errors.some((e) => e.gave_up))) await sleep(200);
    await sleep(2000);
    finish();
    return;
  }
  await startServer();
  await sleep(300);
  reconnect(URL_);
  if (DOWN > 0) {
    ex.server_down_after = DOWN;
    while (!lastConnected) await sleep(50);
    await sleep(DOWN * 1000);
    const t = now();
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    ex.server.push({ event: 'kill', signal: 'SIGKILL', time: t, restarted: false });
    // Until the seed gives up (its 10th try failed), then a little longer.
    while (!ex.tries.some((x) => x.errors.some((e) => e.gave_up))) await sleep(200);
    await sleep(2000);
    finish();
    return;
  }
  // Until every try has settled: connected, or failed with nothing pending.
  for (;;) {
    await sleep(200);
    const pending = ex.tries.some((t) => !t.connected && t.errors.length < 2);
    if (!pending && lastConnected && now() - lastConnected > 1.5) break;
  }
  await sleep(Math.max(0, (lastConnected + RUN - now()) * 1000));
  ex.disconnect = now();
  disconnect();
  await sleep(1500);
  const t = now();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  ex.server.push({ event: 'stop', signal: 'SIGTERM', time: t });
  await sleep(500);
  finish();
}

function finish() {
  ex.finished = now();
  for (const t of ex.timers) delete t.handle;
  for (const c of ex.conns) delete c.rec;
  // The waves of tries: those started within 100 ms of one another.
  const waves = [];
  for (const t of ex.tries) {
    const w = waves[waves.length - 1];
    if (w && t.time - w.start < 0.1) w.tries.push(t.try);
    else waves.push({ start: t.time, tries: [t.try] });
  }
  ex.summary = {
    tries: ex.tries.length,
    waves: waves.map((w) => w.tries.length),
    max_parallel: Math.max(...waves.map((w) => w.tries.length)),
    errors_per_try: ex.tries.map((t) => t.errors.length),
    connected: ex.tries.filter((t) => t.connected).length,
    websockets: ex.tcp.filter((x) => x.kind === 'websocket').length,
    info_requests: ex.tcp.filter((x) => x.kind === 'info-request').length,
    send_ping: ex.beats.filter((b) => b.kind === 'SEND ping').length,
    stomp_eol: ex.beats.filter((b) => b.kind === 'stomp-eol').length,
    timers_left_running: ex.timers.filter((t) => t.cleared === null).length,
  };
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.map((l) => l + '\n').join(''));
  fs.writeFileSync(expectPath, JSON.stringify(ex, null, 2) + '\n');
  setTimeout(() => process.exit(0), 200);
}

process.on('exit', () => { if (server && server.exitCode === null) server.kill('SIGKILL'); });
main().catch((e) => { console.error(e); if (server) server.kill('SIGKILL'); process.exit(1); });
