#!/usr/bin/env node
// The seed stack in a real browser: headless Chromium runs the user's seed
// code (seed-browser.html) with the browser builds of sockjs-client 1.6.1
// (dist/sockjs.min.js) and stompjs 2.3.3 (lib/stomp.min.js) against the same
// SockJS STOMP server as seed-sockjs-stomp.js (its --serve mode: npm sockjs
// 0.3.24 bridged to RabbitMQ's plain STOMP port), killed and restarted the
// same way. For testdata/pcaps/gen__seed-browser*.pcap (issue 15).
//
// usage: node seed-browser.js --variant clear|twotimers --port P --control-port C
//                             --broker-port B --manifest OUT.messages.tsv --expect OUT.expect.json
//
// The page is served, and reports every event (tries, SockJS /info XHRs,
// WebSockets, messages, timer ticks) by fetch, to a control server on port C
// (not captured). The page waits a fixed --delay (3000 ms) before each
// reconnect(url), as seed-sockjs-stomp.js does, and disconnects --second s
// after its second CONNECTED. The manifest lists what the page's WebSocket
// objects sent and delivered (a browser delivers no message after close()).
// The expect file has the keys of seed-sockjs-stomp.js's; a refused try is
// seen by the page as an XHR with status 0 while the server was down.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const { arg, now, sleep } = require('./common');
const host = '127.0.0.1';
const variant = arg('variant', 'clear');
const port = Number(arg('port', '47340'));
const controlPort = Number(arg('control-port', String(port + 5)));
const brokerPort = Number(arg('broker-port', '61610'));
const manifestPath = arg('manifest', '/dev/null');
const expectPath = arg('expect', '/dev/null');
const chromium = arg('chromium', 'chromium');
const DELAY = Number(arg('delay', '3000'));
const FIRST = Number(arg('first', variant === 'twotimers' ? '83' : '53'));
const DOWN = Number(arg('down', '16.5'));
const SECOND = Number(arg('second', '45'));
const WITHHOLD = arg('withhold', variant === 'twotimers' ? '3,4,5' : '');
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const URL_ = `http://${host}:${port}/stomp`;

const events = [];
let onEvent;
const files = {
  '/seed-browser.html': [path.join(__dirname, 'seed-browser.html'), 'text/html'],
  '/sockjs.min.js': [path.join(__dirname, 'node_modules/sockjs-client/dist/sockjs.min.js'), 'application/javascript'],
  '/stomp.min.js': [path.join(__dirname, 'node_modules/stompjs/lib/stomp.min.js'), 'application/javascript'],
};
const control = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (req.method === 'POST' && u.pathname === '/event') {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const ev = JSON.parse(body);
      events.push(ev);
      if (process.env.SEED_DEBUG || ['try', 'connected', 'error', 'done', 'gave-up'].includes(ev.type)) console.error('seed-browser: page', JSON.stringify(ev).slice(0, 160));
      onEvent(ev);
      res.writeHead(204);
      res.end();
    });
    return;
  }
  const f = files[u.pathname];
  if (!f) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': f[1] });
  res.end(fs.readFileSync(f[0]));
});

let server = null;
const serverEvents = [];
function startServer() {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'seed-sockjs-stomp.js'), '--serve', '--port', String(port), '--broker-port', String(brokerPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d) => {
      if (String(d).includes('listening')) {
        serverEvents.push({ event: serverEvents.length ? 'restart' : 'start', time: now(), pid: child.pid });
        resolve(child);
      }
    });
    server = child;
  });
}
async function signalServer(sig, event) {
  const child = server;
  const t = now();
  child.kill(sig);
  await new Promise((r) => child.once('exit', r));
  serverEvents.push({ event, signal: sig, time: t, pid: child.pid });
}
const waiters = [];
onEvent = (ev) => {
  for (const w of waiters.slice()) {
    if (w.pred(ev)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(ev);
    }
  }
};
function waitEvent(pred) {
  return new Promise((resolve) => waiters.push({ pred, resolve }));
}

async function main() {
  setTimeout(() => { console.error('seed-browser: timeout'); if (server) server.kill('SIGKILL'); process.exit(1); }, (FIRST + DOWN + SECOND + 120) * 1000).unref();
  await new Promise((r) => control.listen(controlPort, host, r));
  await startServer();
  // publisher as in seed-sockjs-stomp.js: a plain STOMP connection, not captured
  const net = require('net');
  const pub = net.connect(brokerPort, host);
  pub.on('data', () => {});
  await new Promise((r) => pub.once('connect', r));
  pub.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\nheart-beat:0,0\n\n\0');
  let n = 0;
  const published = [];
  const pubTimer = setInterval(() => {
    n++;
    const body = JSON.stringify({ n, value: (n * 7919) % 1000003 });
    pub.write(`SEND\ndestination:/topic/some.destination\ncontent-type:application/json\n\n${body}\0`);
    published.push({ n, time: now(), body });
  }, 7000);

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wsdump-chromium-'));
  const page = `http://${host}:${controlPort}/seed-browser.html?` + new URLSearchParams({ variant, url: URL_, delay: DELAY, second: SECOND, withhold: WITHHOLD });
  const c1 = waitEvent((e) => e.type === 'connected');
  const done = waitEvent((e) => e.type === 'done' || e.type === 'gave-up');
  const browser = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions',
    ...(process.env.SEED_DEBUG ? ['--enable-logging=stderr', '--v=0'] : []),
    `--user-data-dir=${profile}`, page], { stdio: ['ignore', 'ignore', process.env.SEED_DEBUG ? 'inherit' : 'ignore'] });
  process.on('exit', () => { browser.kill('SIGKILL'); if (server) server.kill('SIGKILL'); });
  const first = await c1;
  await sleep(Math.max(0, (first.time + FIRST - now()) * 1000));
  await signalServer('SIGKILL', 'kill');
  await sleep(DOWN * 1000);
  await startServer();
  await done;
  await sleep(1000);
  console.error('seed-browser: stopping the server');
  await signalServer('SIGTERM', 'stop');
  console.error('seed-browser: stopping the browser');
  clearInterval(pubTimer);
  pub.end('DISCONNECT\n\n\0');
  const exited = new Promise((r) => browser.once('exit', r));
  browser.kill('SIGTERM');
  await Promise.race([exited, sleep(3000)]);
  browser.kill('SIGKILL');
  fs.rmSync(profile, { recursive: true, force: true });
  control.close();
  finish(published);
}

function finish(published) {
  events.sort((a, b) => a.seq - b.seq);
  const ex = {
    scenario: 'seed-browser' + (variant === 'twotimers' ? '-twotimers' : ''),
    variant,
    stack: {
      client: 'headless Chromium ' + String(require('child_process').execFileSync(chromium, ['--version'])).trim() +
        ': stompjs 2.3.3 lib/stomp.min.js Stomp.over(new SockJS(url)), sockjs-client 1.6.1 dist/sockjs.min.js, default transports',
      server: 'npm sockjs 0.3.24 (heartbeat_delay 25000, h frames) bridged to RabbitMQ 3.10.8 plain STOMP',
    },
    url: URL_,
    server_port: port,
    heartbeat: { kind: 'stomp', key: 'SEND ping', dir: 'c2s', interval: 10, destination: 'ping', body_len: 0,
      ws_message: JSON.stringify(['SEND\ndestination:ping\n\n\u0000']) },
    subscribe: '/topic/some.destination',
    retry: { delay: DELAY / 1000, rhythm: 'fixed', max_tries: 10 },
    server: serverEvents, tries: [], tcp: [], conns: [], timers: [], ticks: [], beats: [], withheld: [], stomp_eol: [],
    published, received: [],
  };
  const down = (t) => {
    const k = serverEvents.find((s) => s.event === 'kill');
    const r = serverEvents.find((s) => s.event === 'restart');
    return k && t >= k.time && (!r || t < r.time);
  };
  const manifest = [];
  const wsConn = {};
  let curConn = -1;
  let curTry = 0;
  for (const e of events) {
    switch (e.type) {
      case 'try': curTry = e.try; ex.tries.push({ try: e.try, time: e.time, number: e.number }); break;
      case 'connected': Object.assign(ex.tries[e.try - 1], { outcome: 'connected', connected: e.time, heart_beat: e.heart_beat, conn: curConn }); break;
      case 'error': {
        const tr = ex.tries[e.try - 1];
        if (!tr.outcome) tr.outcome = 'error';
        (tr.errors = tr.errors || []).push({ time: e.time, error: e.error, number_before: e.number_before, next_try_in: DELAY / 1000 });
        break;
      }
      case 'xhr': {
        const rec = { try: curTry, time: e.time, kind: 'info-request', path: e.path, outcome: e.status ? `http ${e.status}` : 'xhr status 0 (network error)' };
        if (!/\/info$/.test(e.path)) rec.kind = 'polling';
        if (!e.status && down(e.time)) { rec.kind = 'tcp-refused'; rec.for = 'info-request'; rec.tcp = 'refused (server port closed)'; }
        ex.tcp.push(rec);
        break;
      }
      case 'ws-new': wsConn[e.ws] = { rec: { try: curTry, time: e.time, kind: 'websocket', path: new URL(e.url).pathname, outcome: 'pending' }, url: e.url, start: e.time }; ex.tcp.push(wsConn[e.ws].rec); break;
      case 'ws-open': {
        const w = wsConn[e.ws];
        w.rec.outcome = '101 open';
        w.index = curConn = ex.conns.length;
        ex.conns.push({ index: w.index, try: curTry, url: w.url, start: w.start, open: e.time, end: null, close_code: null, close_reason: null });
        break;
      }
      case 'ws-close': {
        const w = wsConn[e.ws];
        if (w.index === undefined) { w.rec.outcome = `failed ${e.code}`; break; }
        Object.assign(ex.conns[w.index], { end: e.time, close_code: e.code, close_reason: e.reason, clean: e.clean });
        if (curConn === w.index) curConn = -1;
        break;
      }
      case 'msg': {
        const b = Buffer.from(e.data, 'utf8');
        manifest.push([e.dir, 1, b.length, sha(b)].join('\t'));
        const c = wsConn[e.ws].index;
        if (e.dir === 'c2s' && e.data === '["\\n"]') ex.stomp_eol.push({ conn: c, dir: 'c2s', time: e.time });
        if (e.dir === 's2c' && e.data === 'a["\\n"]') ex.stomp_eol.push({ conn: c, dir: 's2c', time: e.time });
        if (e.dir === 's2c' && e.data === 'h') ex.stomp_eol.push({ conn: c, dir: 's2c', time: e.time, sockjs_h: true });
        break;
      }
      case 'timer': ex.timers.push({ id: e.timer, conn: curConn, started: e.time, period: 10, cleared: null, ticks: 0, withhold: e.timer === 1 && WITHHOLD ? WITHHOLD.split(',').map(Number) : [] }); break;
      case 'timer-cleared': { const t = ex.timers.find((x) => x.id === e.timer); if (t && t.cleared === null) t.cleared = e.time; break; }
      case 'tick': {
        const t = { timer: e.timer, n: e.n, time: e.time, conn: curConn, outcome: e.outcome };
        ex.timers.find((x) => x.id === e.timer).ticks = e.n;
        ex.ticks.push(t);
        if (e.outcome === 'withheld') ex.withheld.push({ conn: curConn, timer: e.timer, tick: e.n, time: e.time, key: 'SEND ping' });
        if (e.outcome === 'sent') ex.beats.push({ conn: curConn, dir: 'c2s', key: 'SEND ping', time: e.time, timer: e.timer, tick: e.n });
        break;
      }
      case 'received': ex.received.push({ conn: curConn, time: e.time, body: e.body }); break;
      case 'disconnect': ex.disconnect = e.time; break;
      default: break;
    }
  }
  for (const t of ex.timers) if (t.cleared === null) t.still_running_at_exit = true;
  ex.tcp.sort((a, b) => a.time - b.time); // XHRs are reported when they end
  const lost = ex.conns[0].end;
  const tries = ex.tries.slice(1);
  const refused = tries.filter((t) => ex.tcp.some((x) => x.try === t.try && x.kind === 'tcp-refused'));
  ex.group = {
    lost,
    reconnected: tries.length ? tries[tries.length - 1].connected || null : null,
    reconnect_ws_open: ex.conns[1] ? ex.conns[1].open : null,
    outage: ex.conns[1] ? Math.round((ex.conns[1].open - lost) * 1000) / 1000 : null,
    server_down: Math.round((serverEvents[2].time - serverEvents[1].time) * 1000) / 1000,
    tries: tries.length,
    refused: refused.length,
    outcomes: tries.map((t) => (refused.includes(t) ? 'refused' : t.outcome)),
    try_times: tries.map((t) => t.time),
    delays: tries.map((t, i) => Math.round((t.time - (i === 0 ? lost : tries[i - 1].errors[tries[i - 1].errors.length - 1].time)) * 1000) / 1000),
    rhythm: 'fixed',
  };
  ex.summary = {
    conns: ex.conns.length,
    beats_per_conn: ex.conns.map((c) => ex.beats.filter((b) => b.conn === c.index).length),
    withheld_per_conn: ex.conns.map((c) => ex.withheld.filter((b) => b.conn === c.index).length),
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
