#!/usr/bin/env node
// The user's seed stack (/work/shared/SEED-SCENARIO.md, issue 15) recorded for
// real: stompjs 2.3.3 `Stomp.over(new SockJS(url))` with sockjs-client 1.6.1,
// the seed's connect callback (clearInterval, setInterval(() =>
// stompClient.send("ping"), 10000), a subscribe) and its error callback that
// calls reconnect(url) up to 10 times, against a SockJS STOMP endpoint that is
// killed and restarted. Used for testdata/pcaps/gen__seed-sockjs-stomp*.
//
// usage: node seed-sockjs-stomp.js --variant clear|twotimers --port P --broker-port B
//                                  --manifest OUT.messages.tsv --expect OUT.expect.json
//        node seed-sockjs-stomp.js --serve --port P --broker-port B   (the server process)
//
// The server (a child process, so that it can be killed like a real one) is
// the npm `sockjs` 0.3.24 server on http://127.0.0.1:P/stomp (default options:
// heartbeat_delay 25 s) bridging each SockJS session over TCP to RabbitMQ's
// plain STOMP listener (port B; RabbitMQ 3.10's Web-STOMP has no SockJS
// endpoint). sockjs 0.3.24 heartbeats with WebSocket pings when its driver has
// them and with SockJS `h` frames otherwise; the server reports pings
// unsupported, so it sends `h` frames every 25 s as Spring's SockJS does.
//
// Timeline (seconds; C1 = first STOMP CONNECTED):
//   connect; beats every 10 s; a publisher (plain STOMP to the broker, not
//   captured) sends a small MESSAGE to the subscribed topic every 7 s;
//   at C1+--first the server process is SIGKILLed (the kernel closes its
//   sockets: FIN to the client; afterwards the port is closed, so each try's
//   SockJS /info request is refused: SYN answered by RST); after --down
//   seconds it is started again; the client's next try connects; after
//   --second seconds on the new connection the client disconnects (STOMP
//   DISCONNECT, WebSocket Close 1000) and the server is stopped.
//
// The seed calls reconnect(url) right away from the error callback. Against
// a closed port sockjs-client fails in about a millisecond, so the 10 tries
// would be used up in a few ms (see --delay 0); like the observed
// capture, this generator waits a FIXED --delay (default 3000 ms) before each
// reconnect(url). The seed never resets its try counter on success; nor do we.
//
// Variants:
//   clear      the seed as written: clearInterval(timeId) in the connect callback.
//   twotimers  the connect callback does NOT clear the previous timer: after the
//              reconnect two timers run (the first one still calls the
//              global stompClient, i.e. the new connection). In the first
//              connection ticks --withhold (default 3,4,5) of timer 1 are
//              WITHHELD on purpose: the tick fires but sends nothing.
//
// Every WebSocket data message is tapped at the client (faye-websocket, the
// sockjs-client driver in node) and written to --manifest (dir opcode len
// sha256, as the other gen__ manifests). --expect gets what the client did,
// with epoch times (float seconds): every try and every TCP connection it
// made (kind tcp-refused / info-request / websocket, outcome as seen by the
// client), every timer and its ticks, the beats sent, the beats withheld,
// the STOMP EOL heart-beats, the server's start/kill/restart/stop times.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');

const { arg, now, sleep } = require('./common');
const host = '127.0.0.1';
const port = Number(arg('port', '47300'));
const brokerPort = Number(arg('broker-port', '61610'));

// ---- the server process ---------------------------------------------------

if (process.argv.includes('--serve')) {
  const faye = require('faye-websocket');
  const API = Object.getPrototypeOf(faye.Client.prototype);
  API.ping = function () {
    return false; // no WebSocket pings: sockjs sends SockJS h frames instead
  };
  const sockjs = require('sockjs');
  const srv = sockjs.createServer({ prefix: '/stomp', log: () => {} });
  srv.on('connection', (conn) => {
    const tcp = net.connect(brokerPort, host); // bridge to the broker's STOMP port
    tcp.setEncoding('utf8');
    tcp.on('data', (d) => conn.write(d));
    tcp.on('close', () => conn.close());
    tcp.on('error', () => conn.close());
    conn.on('data', (d) => tcp.write(d));
    conn.on('close', () => tcp.end());
  });
  const server = http.createServer();
  srv.installHandlers(server);
  server.listen(port, host, () => process.stdout.write('listening\n'));
  process.on('SIGTERM', () => {
    // idle keep-alive connections (a browser's /info XHR) would hold close() up
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
  return;
}

// ---- the client -------------------------------------------------------------

const variant = arg('variant', 'clear');
const manifestPath = arg('manifest', '/dev/null');
const expectPath = arg('expect', '/dev/null');
const DELAY = Number(arg('delay', '3000')); // ms before each reconnect(url)
const FIRST = Number(arg('first', variant === 'twotimers' ? '83' : '53')); // s after C1: kill
const DOWN = Number(arg('down', '16.5')); // s the server stays down
const SECOND = Number(arg('second', '45')); // s after the reconnect's CONNECTED: disconnect
const WITHHOLD = (arg('withhold', variant === 'twotimers' ? '3,4,5' : '') || '').split(',').filter(Boolean).map(Number);
const URL_ = `http://${host}:${port}/stomp`;
if (!['clear', 'twotimers'].includes(variant)) throw new Error('bad --variant ' + variant);

// Seeded: SockJS server id and session id, publisher bodies.
const { prng } = require('./prng');
Math.random = prng(0x73656564); // "seed"

const ex = {
  scenario: 'seed-sockjs-stomp' + (variant === 'twotimers' ? '-twotimers' : ''),
  variant,
  stack: {
    client: 'stompjs 2.3.3 Stomp.over(new SockJS(url)), sockjs-client 1.6.1 (node, faye-websocket driver), default transports',
    server: 'npm sockjs 0.3.24 (heartbeat_delay 25000, h frames) bridged to RabbitMQ 3.10.8 plain STOMP',
  },
  url: URL_,
  server_port: port,
  heartbeat: { kind: 'stomp', key: 'SEND ping', dir: 'c2s', interval: 10, destination: 'ping', body_len: 0,
    ws_message: JSON.stringify(['SEND\ndestination:ping\n\n\u0000']) },
  subscribe: '/topic/some.destination',
  retry: { delay: DELAY / 1000, rhythm: DELAY > 0 ? 'fixed' : 'immediate', max_tries: 10 },
  server: [],
  tries: [],
  tcp: [],
  conns: [],
  timers: [],
  ticks: [],
  beats: [],
  withheld: [],
  stomp_eol: [],
  published: [],
  received: [],
};

// ---- taps ------------------------------------------------------------------

const manifest = [];
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const toBuf = (d) => (typeof d === 'string' ? Buffer.from(d, 'utf8') : Buffer.from(d));
let curConn = -1; // index in ex.conns of the WebSocket the client has open
const faye = require('faye-websocket');
{
  const API = Object.getPrototypeOf(faye.Client.prototype);
  const send = API.send;
  API.send = function (data) {
    if (this.readyState === 1) {
      const b = toBuf(data);
      manifest.push(['c2s', Buffer.isBuffer(data) ? 2 : 1, b.length, sha(b)].join('\t'));
      if (b.toString() === '["\\n"]') ex.stomp_eol.push({ conn: this._wsdumpConn, dir: 'c2s', time: now() });
    }
    return send.apply(this, arguments);
  };
  // Received messages are tapped in the protocol driver (websocket-driver's
  // hybi parser), not in the faye API: after the client has sent its Close,
  // faye (its extension pipeline) drops data messages that still arrive,
  // but they are on the wire and belong in the manifest.
  const Hybi = require('websocket-driver/lib/websocket/driver/hybi');
  const emitMessage = Hybi.prototype._emitMessage;
  Hybi.prototype._emitMessage = function () {
    const m = this._message;
    const r = emitMessage.apply(this, arguments);
    const b = m.read();
    manifest.push(['s2c', m.opcode === 2 ? 2 : 1, b.length, sha(b)].join('\t'));
    const s = b.toString();
    const conn = this._wsdumpConn;
    if (s === 'h') ex.stomp_eol.push({ conn, dir: 's2c', time: now(), sockjs_h: true });
    else if (s === 'a["\\n"]') ex.stomp_eol.push({ conn, dir: 's2c', time: now() });
    return r;
  };
}
let curTry = 0;
// The WebSocket driver of sockjs-client: record every WebSocket it opens.
{
  const drv = require.resolve('sockjs-client/lib/transport/driver/websocket');
  const Client = require(drv);
  require.cache[drv].exports = function (url, protocols, options) {
    const ws = new Client(url, protocols, options);
    const c = { index: -1, try: curTry, url, start: now(), open: null, end: null, close_code: null, close_reason: null, lport: null };
    ex.tcp.push(c.tcpRec = { try: curTry, time: c.start, kind: 'websocket', path: new URL(url).pathname, outcome: 'pending' });
    ws.on('open', () => {
      c.open = now();
      c.lport = ws._stream && ws._stream.localPort;
      c.tcpRec.outcome = '101 open';
      c.tcpRec.lport = c.lport;
      c.index = ex.conns.length;
      ws._wsdumpConn = c.index;
      ws._driver._wsdumpConn = c.index;
      curConn = c.index;
      ex.conns.push(c);
    });
    ws.on('close', (e) => {
      c.end = now();
      c.close_code = e.code;
      c.close_reason = e.reason;
      if (c.open === null) c.tcpRec.outcome = `failed ${e.code}`;
      if (curConn === c.index) curConn = -1;
    });
    return ws;
  };
}
// HTTP requests (the SockJS /info, and polling if sockjs-client fell back to it).
{
  const request = http.request;
  http.request = function (options, cb) {
    const p = typeof options === 'string' ? new URL(options).pathname : options.path;
    const rec = { try: curTry, time: now(), kind: /\/info(\?|$)/.test(p) ? 'info-request' : 'polling', path: p.replace(/\?.*/, ''), outcome: 'pending' };
    ex.tcp.push(rec);
    const req = request.call(this, options, (res) => {
      rec.outcome = `http ${res.statusCode}`;
      if (cb) cb(res);
    });
    req.on('socket', (s) => {
      if (req.reusedSocket) {
        rec.tcp = 'reused';
        rec.lport = s.localPort;
      } else s.once('connect', () => { rec.tcp = 'connected'; rec.lport = s.localPort; });
    });
    req.on('error', (e) => {
      rec.outcome = e.code || e.message;
      if (e.code === 'ECONNREFUSED') { rec.kind = 'tcp-refused'; rec.for = 'info-request'; rec.tcp = 'refused'; }
    });
    return req;
  };
}

// ---- the server child and the publisher ----------------------------------

let server = null;
function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--serve', '--port', String(port), '--broker-port', String(brokerPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d) => {
      if (String(d).includes('listening')) {
        ex.server.push({ event: ex.server.length ? 'restart' : 'start', time: now(), pid: child.pid });
        resolve(child);
      }
    });
    child.on('exit', (code, sig) => { if (!server || server === child) server = null; if (code && code !== 0) reject(new Error('server exited ' + code + sig)); });
    server = child;
  });
}
async function killServer() {
  const child = server;
  const t = now();
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  ex.server.push({ event: 'kill', signal: 'SIGKILL', time: t, pid: child.pid });
}
async function stopServer() {
  const child = server;
  const t = now();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  ex.server.push({ event: 'stop', signal: 'SIGTERM', time: t, pid: child.pid });
}
// Publisher: a plain STOMP connection to the broker (not captured).
const pubRnd = prng(0x70756273);
let pub = null;
async function startPublisher() {
  pub = net.connect(brokerPort, host);
  pub.on('data', () => {});
  await new Promise((r) => pub.once('connect', r));
  pub.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\nheart-beat:0,0\n\n\0');
  let n = 0;
  pub.timer = setInterval(() => {
    n++;
    const body = JSON.stringify({ n, value: Math.floor(pubRnd() * 1e6) });
    pub.write(`SEND\ndestination:/topic/some.destination\ncontent-type:application/json\n\n${body}\0`);
    ex.published.push({ n, time: now(), body });
  }, 7000);
}

// ---- the seed --------------------------------------------------------------

const SockJS = require('sockjs-client');
const Stomp = require('stompjs');

let number = 1;
let stompClient = null;
let timeId = null;
let timerSeq = 0;
let done = null;

// One tick of a timer: what the seed's setInterval callback does,
// stompClient.send("ping"), with the outcome recorded. A browser logs an
// exception thrown by a timer and goes on: so do we.
function tick(timer) {
  timer.ticks++;
  const t = { timer: timer.id, n: timer.ticks, time: now(), conn: curConn };
  ex.ticks.push(t);
  if (timer.withhold.includes(timer.ticks)) {
    t.outcome = 'withheld';
    ex.withheld.push({ conn: curConn, timer: timer.id, tick: timer.ticks, time: t.time, key: 'SEND ping' });
    return;
  }
  const rs = stompClient.ws.readyState;
  try {
    stompClient.send('ping');
    t.outcome = rs === 1 ? 'sent' : 'dropped (SockJS readyState ' + rs + ')';
  } catch (e) {
    t.outcome = 'threw: ' + e.message;
  }
  if (t.outcome === 'sent') ex.beats.push({ conn: curConn, dir: 'c2s', key: 'SEND ping', time: t.time, timer: timer.id, tick: timer.ticks });
}

function reconnect(url, messageCallback) {
  curTry++;
  ex.tries.push({ try: curTry, time: now(), number });
  // url must be the full http(s) address; SockJS and STOMP turn it into ws
  let socket = new SockJS(url);
  stompClient = Stomp.over(socket);
  stompClient.debug = null; // the browser would log to its console
  stompClient.connect(
    {},
    function connectCallback(frame) {
      const tr = ex.tries[ex.tries.length - 1];
      tr.outcome = 'connected';
      tr.connected = now();
      tr.heart_beat = frame.headers['heart-beat'];
      tr.conn = curConn;
      if (variant === 'clear') {
        clearInterval(timeId);
        const old = ex.timers.find((x) => x.handle === timeId);
        if (old && old.cleared === null) old.cleared = now();
      }
      // heartbeat: just keep sending a message every so often
      const timer = { id: ++timerSeq, conn: curConn, started: now(), period: 10, cleared: null, ticks: 0 };
      timer.withhold = timer.id === 1 ? WITHHOLD : [];
      ex.timers.push(timer);
      timeId = this.timeoutObj = setInterval(function () {
        tick(timer);
      }, 10000);
      timer.handle = timeId;
      stompClient.subscribe('/topic/some.destination', function (data) {
        if (data) (messageCallback || onMessage)(data);
      });
      if (onConnected) onConnected(curConn);
    },
    function errorCallBack(err) {
      const tr = ex.tries[ex.tries.length - 1];
      if (!tr.outcome) tr.outcome = 'error';
      const e = { time: now(), error: typeof err === 'string' ? err : String(err && err.command), number_before: number };
      (tr.errors = tr.errors || []).push(e);
      // on failure, try again, up to 10 times
      number += 1;
      if (number <= 10) {
        e.next_try_in = DELAY / 1000;
        if (DELAY > 0) setTimeout(() => reconnect(url), DELAY);
        else reconnect(url);
        return;
      }
      number = 1;
      e.gave_up = true;
      disconnect();
      if (onConnected) onConnected(-1); // main: the loop gave up
    },
  );
}

function disconnect() {
  stompClient.disconnect(function () {
    clearInterval(timeId);
    const t = ex.timers.find((x) => x.handle === timeId);
    if (t && t.cleared === null) t.cleared = now();
  });
}

function onMessage(m) {
  ex.received.push({ conn: curConn, time: now(), body: m.body });
}
let onConnected = null;
function nextConnect() {
  return new Promise((r) => { onConnected = (c) => { onConnected = null; r(c); }; });
}

async function main() {
  setTimeout(() => { console.error('seed-sockjs-stomp: timeout'); process.exit(1); }, (FIRST + DOWN + SECOND + 120) * 1000).unref();
  await startServer();
  await startPublisher();
  await sleep(500);
  let c = nextConnect();
  reconnect(URL_);
  await c;
  const c1 = ex.tries[0].connected;
  await sleep(Math.max(0, (c1 + FIRST - now()) * 1000));
  c = nextConnect();
  await killServer();
  await sleep(DOWN * 1000);
  await startServer();
  if ((await c) < 0) {
    await sleep(1500);
    await stopServer();
    return finish();
  }
  const c2 = ex.tries[ex.tries.length - 1].connected;
  await sleep(Math.max(0, (c2 + SECOND - now()) * 1000));
  ex.disconnect = now();
  disconnect();
  await sleep(1500);
  await stopServer();
  clearInterval(pub.timer);
  pub.end('DISCONNECT\n\n\0');
  finish();
}

function finish() {
  ex.finished = now();
  for (const t of ex.timers) {
    if (t.cleared === null) t.still_running_at_exit = true;
    delete t.handle;
  }
  for (const c of ex.conns) delete c.tcpRec;
  // The reconnect group as the client saw it: the tries from the lost
  // connection's end to the next CONNECTED.
  const lost = ex.conns[0].end;
  const tries = ex.tries.slice(1);
  const refused = tries.filter((t) => ex.tcp.some((x) => x.try === t.try && x.kind === 'tcp-refused'));
  ex.group = {
    lost: lost,
    reconnected: tries[tries.length - 1].connected || null,
    reconnect_ws_open: ex.conns[1] ? ex.conns[1].open : null,
    outage: ex.conns[1] ? Math.round((ex.conns[1].open - lost) * 1000) / 1000 : null,
    server_down: Math.round((ex.server[2].time - ex.server[1].time) * 1000) / 1000,
    tries: tries.length,
    refused: refused.length,
    outcomes: tries.map((t) => (refused.includes(t) ? 'refused' : t.outcome)),
    try_times: tries.map((t) => t.time),
    delays: tries.map((t, i) => Math.round((t.time - (i === 0 ? lost : tries[i - 1].errors[tries[i - 1].errors.length - 1].time)) * 1000) / 1000),
    rhythm: DELAY > 0 ? 'fixed' : 'immediate',
  };
  ex.summary = {
    conns: ex.conns.length,
    beats_per_conn: ex.conns.map((c) => ex.beats.filter((b) => b.conn === c.index).length),
    withheld_per_conn: ex.conns.map((c) => ex.withheld.filter((b) => b.conn === c.index).length),
    // timers that ticked (sent or withheld a beat) on the connection
    timers_per_conn: ex.conns.map((c) => new Set(ex.ticks.filter((t) => t.conn === c.index).map((t) => t.timer)).size),
    stomp_eol_c2s_per_conn: ex.conns.map((c) => ex.stomp_eol.filter((b) => b.conn === c.index && b.dir === 'c2s').length),
    stomp_eol_s2c_per_conn: ex.conns.map((c) => ex.stomp_eol.filter((b) => b.conn === c.index && b.dir === 's2c' && !b.sockjs_h).length),
    sockjs_h_per_conn: ex.conns.map((c) => ex.stomp_eol.filter((b) => b.conn === c.index && b.sockjs_h).length),
    tcp_refused: ex.tcp.filter((x) => x.kind === 'tcp-refused').length,
    info_requests: ex.tcp.filter((x) => x.kind === 'info-request').length,
    websockets: ex.tcp.filter((x) => x.kind === 'websocket').length,
    polling: ex.tcp.filter((x) => x.kind === 'polling').length,
  };
  if (ex.timers.length > 1) {
    const p = ex.timers.map((t) => t.started);
    ex.summary.timer_offset = Math.round((((p[1] - p[0]) % 10) + 10) % 10 * 1000) / 1000;
  }
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.map((l) => l + '\n').join(''));
  fs.writeFileSync(expectPath, JSON.stringify(ex, null, 2) + '\n');
  setTimeout(() => process.exit(0), 200);
}

main().catch((e) => { console.error(e); if (server) server.kill('SIGKILL'); process.exit(1); });
