#!/usr/bin/env node
// Socket.IO in a real browser across a server restart, for
// testdata/pcaps/gen__socketio-restart-browser.pcap.
//
// usage: node socketio-restart-browser.js --port P [--control-port C]
//                 --manifest OUT.messages.tsv --expect OUT.expect.json
//        node socketio-restart-browser.js --serve --port P --life N   (the server, run by the above)
//
// The server: socket.io 4.8.1 (engine.io 6.6.12, Engine.IO v4), pingInterval
// 2000, pingTimeout 3000 (it pings `2` every 2 s, the client answers `3`),
// CORS for the page's origin; on connection it emits "welcome", then "news"
// every 1.5 s, and echoes "chat". It runs in a child process so that it can
// be SIGKILLed: the kernel then FINs its connections (no Engine.IO close
// packet, no WebSocket Close). Session ids are seeded per server life.
//
// The client: headless Chromium (Debian package) loads
// socketio-restart-browser.html from a control server on port C = P + 5 (not
// captured): socket.io-client 4.8.1 dist/socket.io.min.js with its defaults
// (polling, then the upgrade to websocket; reconnection 1 s doubling to 5 s,
// randomization 0.5, no limit), "hello" on each connect and a "status" every
// 2 s (the application's beat).
//
// The run: --first s (8) after the page's first connect and upgrade the
// server is SIGKILLed; --down s (7) later it is started again; the page's
// reconnect attempts in between are refused (SYN answered by RST: the XHR of
// the polling handshake fails, status 0), with the browser's own randomized
// backoff. After the reconnect the page runs --run s (8) and calls
// socket.disconnect() (`41`, then Engine.IO `1` close).
//
// --manifest: one line per Engine.IO packet as one WebSocket message would be
// (dir opcode len sha256), as the page sent and received them: polling bodies
// split at \x1e, then each WebSocket message; all text here (no binary
// events). Per direction in the order the page saw them, session after
// session. --expect: the page's events (opens with sid and transport,
// upgrades, engine closes with their reason, reconnect attempts and errors,
// XHRs with status), every packet with carrier and time, pings and pongs,
// "status" beats, the server's starts and its kill (epoch seconds).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { spawn, execFileSync } = require('child_process');

const { arg, now, sleep } = require('./common');
const host = '127.0.0.1';
const port = Number(arg('port', '47700'));
const controlPort = Number(arg('control-port', String(port + 5)));
const chromium = arg('chromium', 'chromium');
const FIRST = Number(arg('first', '8'));
const DOWN = Number(arg('down', '7'));
const RUN = Number(arg('run', '8'));
const PING_INTERVAL = 2000;
const PING_TIMEOUT = 3000;
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

if (process.argv.includes('--serve')) serve();
else main().catch((e) => { console.error(e); process.exit(1); });

// ---- the server (child process) ---------------------------------------------

function serve() {
  const { prng } = require('./prng');
  const life = Number(arg('life', '1'));
  Math.random = prng(0x73696f72 + life); // "sior"
  const seeded = prng(0x65696f73 + life);
  const randomBytes = crypto.randomBytes;
  crypto.randomBytes = function (n, cb) { // engine.io's base64id: seeded sids
    if (cb) return randomBytes.apply(this, arguments);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(seeded() * 256);
    return b;
  };
  const rnd = prng(0x6e657773 + life); // "news"
  const { Server } = require('socket.io');
  const httpServer = http.createServer();
  const io = new Server(httpServer, { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, cors: { origin: `http://${host}:${controlPort}` } });
  io.on('connection', (s) => {
    s.emit('welcome', { life, motd: 'server life ' + life });
    let n = 0;
    const t = setInterval(() => s.emit('news', { n: ++n, v: Math.floor(rnd() * 1e6) }), 1500);
    s.on('chat', (m) => s.emit('chat', 'echo: ' + String(m).slice(0, 100)));
    s.on('hello', () => {});
    s.on('status', () => {});
    s.on('disconnect', () => clearInterval(t));
  });
  httpServer.listen(port, host, () => console.log('listening'));
}

// ---- the run ------------------------------------------------------------------

async function main() {
  const manifestPath = arg('manifest', '/dev/null');
  const expectPath = arg('expect', '/dev/null');
  setTimeout(() => { console.error('socketio-restart-browser: timeout'); process.exit(1); }, (FIRST + DOWN + RUN + 90) * 1000).unref();
  const events = [];
  const server = { child: null, events: [] };
  let waiters = [];
  const files = {
    '/page.html': [path.join(__dirname, 'socketio-restart-browser.html'), 'text/html'],
    '/socket.io.min.js': [path.join(__dirname, 'node_modules/socket.io-client/dist/socket.io.min.js'), 'application/javascript'],
  };
  const control = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (req.method === 'POST' && u.pathname === '/event') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const ev = JSON.parse(body);
        events.push(ev);
        waiters = waiters.filter((w) => !w(ev));
        res.writeHead(204);
        res.end();
      });
      return;
    }
    const f = files[u.pathname];
    if (!f) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': f[1] });
    res.end(fs.readFileSync(f[0]));
  });
  const waitFor = (pred) => new Promise((r) => waiters.push((ev) => { if (pred(ev)) { r(ev); return true; } return false; }));
  async function start(life) {
    const child = spawn(process.execPath, [__filename, '--serve', '--port', String(port), '--control-port', String(controlPort), '--life', String(life)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r, j) => {
      child.stdout.on('data', (d) => { if (String(d).includes('listening')) r(); });
      child.once('exit', () => j(new Error('server exited')));
    });
    server.child = child;
    server.events.push({ event: 'start', life, time: now(), pid: child.pid });
  }
  process.on('exit', () => { if (server.child) server.child.kill('SIGKILL'); });
  await new Promise((r) => control.listen(controlPort, host, r));
  await start(1);
  const upgraded = waitFor((e) => e.type === 'upgrade');
  const done = waitFor((e) => e.type === 'done');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wsdump-chromium-'));
  const page = `http://${host}:${controlPort}/page.html?` + new URLSearchParams({ url: `http://${host}:${port}`, run: RUN });
  const browser = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions',
    `--user-data-dir=${profile}`, page], { stdio: ['ignore', 'ignore', 'ignore'] });
  process.on('exit', () => browser.kill('SIGKILL'));
  const up = await upgraded;
  await sleep(Math.max(0, (up.time + FIRST - now()) * 1000));
  server.events.push({ event: 'kill', signal: 'SIGKILL', life: 1, time: now() });
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGKILL');
  await exited;
  server.child = null;
  await sleep(DOWN * 1000);
  await start(2);
  await done;
  await sleep(500);
  browser.kill('SIGTERM');
  await sleep(1000);
  browser.kill('SIGKILL');
  server.child.kill('SIGTERM');
  control.close();
  fs.rmSync(profile, { recursive: true, force: true });
  events.sort((a, b) => a.seq - b.seq);

  // manifest: per direction, in the page's order
  const pk = events.filter((e) => e.type === 'packet');
  const lines = ['dir\topcode\tlen\tsha256'];
  for (const dir of ['c2s', 's2c']) {
    for (const p of pk.filter((e) => e.dir === dir)) {
      const b = Buffer.from(p.data, 'utf8');
      lines.push([dir, 1, b.length, sha(b)].join('\t'));
    }
  }
  fs.writeFileSync(manifestPath, lines.join('\n') + '\n');
  const kind = { 0: 'open', 1: 'close', 2: 'ping', 3: 'pong', 4: 'message', 5: 'upgrade', 6: 'noop' };
  const ex = {
    scenario: 'socketio-restart-browser',
    stack: 'socket.io 4.8.1 server (engine.io 6.6.12), node ' + process.version + ', in a child process; headless ' +
      String(execFileSync(chromium, ['--version'])).trim() + ' with socket.io-client 4.8.1 dist/socket.io.min.js, default transports and reconnection',
    url: `http://${host}:${port}/socket.io/`,
    server_port: port,
    ping_interval: PING_INTERVAL / 1000,
    ping_timeout: PING_TIMEOUT / 1000,
    server: server.events,
    page: events.filter((e) => e.type !== 'packet').map((e) => { const o = Object.assign({}, e); delete o.seq; return o; }),
    packets: pk.map((e) => ({ dir: e.dir, carrier: e.carrier, time: e.time, type: kind[e.data[0]], len: Buffer.byteLength(e.data), data: e.data.length <= 60 ? e.data : undefined, sha256: sha(Buffer.from(e.data, 'utf8')) })),
    pings: pk.filter((e) => e.data[0] === '2' || e.data[0] === '3').map((e) => ({ dir: e.dir, type: kind[e.data[0]], carrier: e.carrier, time: e.time, probe: e.data.slice(1) === 'probe' || undefined })),
    beats: pk.filter((e) => e.data.startsWith('42["status"')).map((e) => ({ dir: e.dir, key: 'socketio status', carrier: e.carrier, time: e.time })),
  };
  fs.writeFileSync(expectPath, JSON.stringify(ex, null, 1) + '\n');
  const att = events.filter((e) => e.type === 'reconnect-attempt').length;
  const errs = events.filter((e) => e.type === 'reconnect-error').length;
  console.error(`socketio-restart-browser: ${pk.length} packets, ${att} reconnect attempts, ${errs} errors, sids ${events.filter((e) => e.type === 'open').map((e) => e.sid).join(' ')}`);
  process.exit(0);
}
