#!/usr/bin/env node
// SockJS sessions that never become WebSockets (issue 18): the seed's stack,
// stompjs 2.3.3 `Stomp.over(new SockJS(url, null, {transports: [T]}))` with
// sockjs-client 1.6.1 in node, against the npm `sockjs` 0.3.24 server, for
// testdata/pcaps/gen__sockjs-{xhr-streaming,xhr-polling,eventsource}.pcap.
//
// usage: node fallback-sockjs.js --transport xhr-streaming|xhr-polling|eventsource --port P
//                                --manifest OUT.messages.tsv --app OUT.app.tsv --expect OUT.expect.json
//                                [--client browser [--control-port C] [--chromium PATH]]
//                                [--cert DIR --keylog OUT.keys]   (https, node client)
//
// --cert: the server is node's https server (TLS 1.3 by default) with DIR's
// cert.pem / key.pem (`wss -gencert DIR`), writing the NSS key log of every
// TLS connection to --keylog (the server's 'keylog' event), for wsdump's
// --keylog.
//
// --client browser runs the same client script in headless Chromium
// (fallback-sockjs-browser.html with the browser builds sockjs-client
// dist/sockjs.min.js and stompjs lib/stomp.min.js, served with the page by a
// control server on port C = P + 5, not captured; the page reports its XHRs,
// the xhr_send bodies and the frames sockjs-client receives). A browser sends
// xhr_send bodies with Content-Length (node's http.request sends them
// chunked) and pools its keep-alive connections its own way; its session id
// is not seeded.
//
// Server (this process): sockjs 0.3.24 on http://127.0.0.1:P/stomp,
// heartbeat_delay 5000 (SockJS `h` frames), response_limit 4096 (an
// xhr_streaming response ends after 4 KiB of frames and the client opens the
// next one), disconnect_delay 5000; node's http server (keep-alive, chunked
// responses: sockjs sets no Content-Length on streams and polls). sockjs
// 0.3.24 has no gzip. Behind it a small STOMP 1.1 responder instead of a
// broker (deterministic frames, no broker session ids): CONNECTED
// `heart-beat:0,3000` (it sends no EOL beats, wants the client's every 3 s),
// MESSAGE frames to the client's subscription on a fixed schedule (bursts
// with 5-6 s gaps so that SockJS `h` frames also appear on polling), RECEIPT
// for a SEND or DISCONNECT with a receipt header, an echo MESSAGE for a SEND
// to /app/echo, and after DISCONNECT it closes the SockJS session
// (conn.close(): frame `c[1000,"Normal closure"]` in sockjs 0.3.24), as brokers close after
// DISCONNECT.
//
// Client: the seed's connect callback (clearInterval; setInterval(() =>
// stompClient.send("ping"), 2500); subscribe), the STOMP heart-beat 3000,0
// (EOL beats `["\n"]` c2s every 3 s), a SEND with receipt to /app/echo at
// +4 s, DISCONNECT (receipt disc-1) at +16.2 s. stompjs 2.3.3 calls
// sock.close() right after sending DISCONNECT, and sockjs-client's close()
// aborts the xhr_send that carries it (or drops it from the send buffer): the
// generator defers that close() by 1 s so the DISCONNECT reaches the server
// (the server's c frame then closes the session first).
//
// Taps (all at the client): every HTTP request (sockjs-client's XHR driver
// and the `eventsource` package both call http.request): time, method, path,
// kind (info, xhr_streaming, xhr, xhr_send, eventsource), status, new or
// reused TCP connection, local port, when it ended. --manifest lists the
// SockJS traffic in the granularity of a SockJS-over-WebSocket session, one
// line per "message" (dir opcode len sha256, opcode always 1): c2s each
// xhr_send request body (a JSON array of strings, as sent: recorded when the
// body is flushed to the socket), s2c each SockJS frame the client received
// (`o`, `h`, `a[...]`, `c[...]`; without its transport framing: the `\n` of
// xhr_streaming / xhr, the `data: ` line and `\r\n\r\n` of eventsource, whose
// %-escapes sockjs-client undoes; the xhr_streaming prelude, 2048 `h` + `\n`
// at the start of each streaming response, is not a frame and not listed).
// --app: the application messages inside, as app-node.js writes them (SockJS
// o/h/a/c lines, then the STOMP frames / HEARTBEAT inside each array, parsed
// by @stomp/stompjs's Parser). --expect: the session id, transport, requests,
// TCP connections, beats per direction with times, how the session ended.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const { performance } = require('perf_hooks');

const { arg, now, sleep } = require('./common');
const host = '127.0.0.1';
const transport = arg('transport', 'xhr-streaming');
const port = Number(arg('port', '47600'));
const manifestPath = arg('manifest', '/dev/null');
const appPath = arg('app', '/dev/null');
const expectPath = arg('expect', '/dev/null');
const certDir = arg('cert', ''); // https: DIR with cert.pem and key.pem (`wss -gencert DIR`)
const keylogPath = arg('keylog', '/dev/null'); // https: the server's NSS key log
const clientKind = arg('client', 'node'); // node | browser (headless Chromium)
const controlPort = Number(arg('control-port', String(port + 5)));
const chromium = arg('chromium', 'chromium');
const RUN = Number(arg('run', '16.2')); // s from CONNECTED to DISCONNECT
const BEAT = 2500; // ms, SEND ping
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
if (!['xhr-streaming', 'xhr-polling', 'eventsource', 'jsonp-polling'].includes(transport)) throw new Error('bad --transport ' + transport);
if (!['node', 'browser'].includes(clientKind)) throw new Error('bad --client ' + clientKind);
if (certDir && clientKind !== 'node') throw new Error('--cert: node client only');
if (transport === 'jsonp-polling' && clientKind !== 'browser') throw new Error('jsonp-polling needs a DOM: use --client browser');

const { prng } = require('./prng');
Math.random = prng(0x666c6273); // "flbs": sockjs-client server id
{
  // sockjs-client's session id and sockjs's entropy come from sync crypto.randomBytes.
  // One seed per transport: the three captures get different session ids.
  const seeded = prng(0x73657373 + [...transport].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 0) + (certDir ? 7 : 0));
  const randomBytes = crypto.randomBytes;
  crypto.randomBytes = function (n, cb) {
    if (cb) return randomBytes.apply(this, arguments);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(seeded() * 256);
    return b;
  };
}
const rnd = prng(0x626f6479); // "body": MESSAGE bodies
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_!?';
const text = (n) => Array.from({ length: n }, () => ALPHABET[Math.floor(rnd() * ALPHABET.length)]).join('');

const ex = {
  scenario: 'sockjs-' + transport,
  stack: {
    client: `stompjs 2.3.3 Stomp.over(new SockJS(url, null, {transports: ['${transport}']})), sockjs-client 1.6.1 (node ${process.version})`,
    server: 'npm sockjs 0.3.24 (heartbeat_delay 5000, response_limit 4096, disconnect_delay 5000) + a STOMP 1.1 responder in the same process',
  },
  url: `${certDir ? 'https' : 'http'}://${host}:${port}/stomp`,
  server_port: port,
  transport,
  session_id: null,
  server_id: null,
  heartbeat: { kind: 'stomp', key: 'SEND ping', dir: 'c2s', interval: BEAT / 1000, destination: 'ping', body_len: 0,
    sockjs_message: 'SEND\ndestination:ping\n\n\u0000' },
  stomp_heart_beat: { client: '3000,0', server: '0,3000', eol_c2s_interval: 3 },
  sockjs_heartbeat_delay: 5,
  requests: [],
  frames: [], // s2c SockJS frames and c2s xhr_send bodies, with times
  beats: [], // SEND ping (c2s), STOMP EOL (c2s), SockJS h (s2c)
  received: [], // STOMP MESSAGE / RECEIPT bodies the client got
  server_log: [],
  end: {},
};

// ---- taps -------------------------------------------------------------------

const tapped = []; // {dir, buf, time}
function tapFrame(dir, s, extra, time) {
  const t = time || now();
  tapped.push({ dir, buf: Buffer.from(s, 'utf8'), time: t });
  ex.frames.push(Object.assign({ dir, time: t, kind: dir === 'c2s' ? 'xhr_send' : s[0], len: Buffer.byteLength(s) }, extra || {}));
  if (dir === 's2c' && s === 'h') ex.beats.push({ dir: 's2c', key: 'sockjs h', time: t });
  if (dir === 'c2s') {
    for (const m of JSON.parse(s)) {
      if (m === '\n') ex.beats.push({ dir: 'c2s', key: 'STOMP EOL', time: t });
      else if (m === ex.heartbeat.sockjs_message) ex.beats.push({ dir: 'c2s', key: 'SEND ping', time: t });
    }
  }
}
const kindOf = (p) => {
  const m = /\/stomp\/(?:[^/]+\/[^/]+\/)?([a-z_]+)(?:\?|$)/.exec(p);
  return m ? m[1] : 'other';
};
for (const mod of [http, require('https')]) {
  const request = mod.request;
  mod.request = function (options) {
    const p = typeof options === 'string' ? new URL(options).pathname : options.path;
    const rec = { time: now(), method: (options.method || 'GET').toUpperCase(), path: p.replace(/\?.*/, ''), kind: kindOf(p), status: null };
    const sm = /\/stomp\/([^/]+)\/([^/]+)\//.exec(p);
    if (sm) { ex.server_id = sm[1]; ex.session_id = sm[2]; }
    ex.requests.push(rec);
    const req = request.apply(this, arguments);
    let body = '';
    const write = req.write;
    req.write = function (chunk) {
      body += chunk;
      return write.apply(this, arguments);
    };
    req.on('finish', () => {
      rec.sent = now();
      if (rec.kind === 'xhr_send') tapFrame('c2s', body, { request: ex.requests.indexOf(rec) });
    });
    req.on('socket', (s) => {
      if (req.reusedSocket) { rec.tcp = 'reused'; rec.lport = s.localPort; } else s.once('connect', () => { rec.tcp = 'new'; rec.lport = s.localPort; });
    });
    req.on('response', (res) => {
      rec.status = res.statusCode;
      rec.answered = now();
      rec.transfer_encoding = res.headers['transfer-encoding'] || null;
      rec.content_length = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : null;
      rec.content_encoding = res.headers['content-encoding'] || null;
      rec.connection = res.headers.connection || null;
      res.on('end', () => { rec.ended = now(); });
    });
    req.on('error', (e) => { rec.error = e.code || e.message; });
    req.on('close', () => {
      rec.closed = now();
      if (!rec.ended) rec.aborted = true;
    });
    return req;
  };
}

// ---- the server ---------------------------------------------------------------

function stompFrame(cmd, headers, body) {
  return cmd + '\n' + Object.entries(headers).map(([k, v]) => `${k}:${v}`).join('\n') + '\n\n' + (body || '') + '\0';
}
function startServer() {
  const sockjs = require('sockjs');
  const srv = sockjs.createServer({
    prefix: '/stomp', heartbeat_delay: 5000, response_limit: 4096, disconnect_delay: 5000, log: () => {},
  });
  srv.on('connection', (conn) => {
    ex.server_log.push({ event: 'session open', time: now(), protocol: conn.protocol });
    let buf = '';
    let sub = null;
    let mid = 0;
    const timers = [];
    const message = (body, extra) => {
      if (!sub) return;
      conn.write(stompFrame('MESSAGE', Object.assign({
        subscription: sub.id, 'message-id': `m-${++mid}`, destination: sub.destination,
        'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
      }, extra || {}), body));
    };
    const frame = (f) => {
      const i = f.indexOf('\n\n');
      const lines = f.slice(0, i).split('\n');
      const cmd = lines.shift();
      const h = {};
      for (const l of lines) { const k = l.indexOf(':'); if (!(l.slice(0, k) in h)) h[l.slice(0, k)] = l.slice(k + 1); }
      const body = f.slice(i + 2);
      ex.server_log.push({ event: 'stomp ' + cmd, time: now(), destination: h.destination });
      switch (cmd) {
        case 'CONNECT': case 'STOMP':
          conn.write(stompFrame('CONNECTED', { version: '1.1', 'heart-beat': '0,3000', server: 'wsdump-stomp/1.0', session: 'sess-1' }));
          break;
        case 'SUBSCRIBE': {
          sub = { id: h.id, destination: h.destination };
          // bursts with gaps longer than heartbeat_delay, so idle polls get h frames
          const plan = [
            [300, () => JSON.stringify({ n: 1, kind: 'price', value: Math.floor(rnd() * 1e6) })],
            [350, () => JSON.stringify({ n: 2, text: 'quote " backslash \\ newline \n tab \t unicode é ✓ \u2028 \u00ff 😀' })],
            [1000, () => JSON.stringify({ n: 3, blob: text(3000) })],
            [7000, () => JSON.stringify({ n: 4, kind: 'price', value: Math.floor(rnd() * 1e6) })],
            [7050, () => JSON.stringify({ n: 5, items: Array.from({ length: 20 }, () => Math.floor(rnd() * 1000)) })],
            [12500, () => JSON.stringify({ n: 6, kind: 'bye-soon', value: Math.floor(rnd() * 1e6) })],
          ];
          for (const [ms, body] of plan) timers.push(setTimeout(() => message(body()), ms));
          break;
        }
        case 'SEND':
          if (h.destination === '/app/echo') message(JSON.stringify({ echo: body }), { 'reply-to': h.receipt || '' });
          if (h.receipt) conn.write(stompFrame('RECEIPT', { 'receipt-id': h.receipt }));
          break;
        case 'DISCONNECT':
          if (h.receipt) conn.write(stompFrame('RECEIPT', { 'receipt-id': h.receipt }));
          ex.server_log.push({ event: 'session close (after DISCONNECT)', time: now() });
          conn.close();
          break;
        default:
          break;
      }
    };
    conn.on('data', (d) => {
      buf += d;
      for (;;) {
        while (buf[0] === '\n' || buf.startsWith('\r\n')) buf = buf.slice(buf[0] === '\n' ? 1 : 2); // EOL beats
        const z = buf.indexOf('\0');
        if (z < 0) break;
        frame(buf.slice(0, z));
        buf = buf.slice(z + 1);
      }
    });
    conn.on('close', () => {
      timers.forEach(clearTimeout);
      ex.server_log.push({ event: 'session closed', time: now() });
    });
  });
  let server;
  if (certDir) {
    const https = require('https');
    const path = require('path');
    const cert = fs.readFileSync(path.join(certDir, 'cert.pem'));
    server = https.createServer({ cert, key: fs.readFileSync(path.join(certDir, 'key.pem')), ALPNProtocols: ['http/1.1'] });
    const keylog = fs.createWriteStream(keylogPath);
    server.on('keylog', (line) => keylog.write(line));
    ex.tls = { server: `node ${process.version} https (OpenSSL ${process.versions.openssl}), default TLS settings, self-signed certificate for wsdump.test`,
      keylog: 'NSS key log from the server\'s keylog event' };
    // sockjs-client's XHR driver calls https.request with no TLS options: trust the
    // test certificate through the global agent (its name is wsdump.test, not 127.0.0.1).
    https.globalAgent.options.ca = cert;
    https.globalAgent.options.servername = 'wsdump.test';
    https.globalAgent.options.checkServerIdentity = () => undefined;
  } else server = http.createServer();
  srv.installHandlers(server);
  return new Promise((r) => server.listen(port, host, () => r(server)));
}

// ---- the client (the seed) ---------------------------------------------------------

async function main() {
  setTimeout(() => { console.error('fallback-sockjs: timeout'); process.exit(1); }, (RUN + 40) * 1000).unref();
  const server = await startServer();
  // Event-loop lag (client and server share this process): a loaded machine
  // delays timers, which shows in the beat gaps.
  ex.event_loop = { max_lag_ms: 0, lags_over_200ms: [] };
  let last = performance.now();
  const lagTimer = setInterval(() => {
    const t = performance.now();
    const lag = Math.round(t - last - 100);
    last = t;
    if (lag > ex.event_loop.max_lag_ms) ex.event_loop.max_lag_ms = lag;
    if (lag > 200) ex.event_loop.lags_over_200ms.push({ time: now(), lag_ms: lag });
  }, 100);
  lagTimer.unref();
  if (clientKind === 'browser') return browserClient(server);
  const SockJS = require('sockjs-client');
  const Stomp = require('stompjs');
  const tm = SockJS.prototype._transportMessage;
  SockJS.prototype._transportMessage = function (msg) {
    if (!(msg.length > 1 && /^h+$/.test(msg))) tapFrame('s2c', msg, { transport: this.transport });
    else ex.frames.push({ dir: 's2c', time: now(), kind: 'prelude', len: msg.length + 1 });
    return tm.apply(this, arguments);
  };

  const socket = new SockJS(ex.url, null, { transports: [transport] });
  const sockClose = socket.close;
  socket.close = function () {
    ex.end.client_close_called = now();
    setTimeout(() => { ex.end.client_close_done = now(); sockClose.apply(socket, arguments); }, 1000);
  };
  socket.addEventListener('close', (e) => {
    ex.end.sockjs_close = { time: now(), code: e.code, reason: e.reason, wasClean: e.wasClean };
  });
  const stompClient = Stomp.over(socket);
  stompClient.debug = null;
  stompClient.heartbeat.outgoing = 3000;
  stompClient.heartbeat.incoming = 0;
  let timeId = null;
  let connected;
  const c = new Promise((r) => (connected = r));
  stompClient.connect({}, function connectCallback(frame) {
    ex.connected = { time: now(), transport: socket.transport, heart_beat: frame.headers['heart-beat'], version: frame.headers.version };
    clearInterval(timeId);
    timeId = setInterval(function () {
      stompClient.send('ping');
    }, BEAT);
    stompClient.subscribe('/topic/news', function (data) {
      if (data) ex.received.push({ time: now(), command: data.command, destination: data.headers.destination, len: Buffer.byteLength(data.body) });
    });
    connected();
  }, function errorCallBack(err) {
    ex.end.stomp_error = { time: now(), error: String(err && (err.command || err)) };
  });
  stompClient.onreceipt = (f) => ex.received.push({ time: now(), command: 'RECEIPT', receipt: f.headers['receipt-id'] });
  await c;
  await sleep(4000);
  stompClient.send('/app/echo', { receipt: 'rcpt-1' }, 'hello over ' + transport);
  await sleep(Math.max(0, (ex.connected.time + RUN - now()) * 1000));
  clearInterval(timeId);
  ex.end.disconnect = now();
  stompClient.disconnect(() => {}, { receipt: 'disc-1' });
  await sleep(2500);
  ex.end.server_stop = now();
  await new Promise((r) => { server.close(r); server.closeAllConnections(); });
  finish();
}


// ---- the client in headless Chromium (--client browser) -------------------------

async function browserClient(server) {
  const os = require('os');
  const path = require('path');
  const { spawn, execFileSync } = require('child_process');
  ex.scenario += '-browser';
  ex.stack.client = 'headless Chromium ' + String(execFileSync(chromium, ['--version'])).trim() +
    `: stompjs 2.3.3 lib/stomp.min.js Stomp.over(new SockJS(url, null, {transports: ['${transport}']})), sockjs-client 1.6.1 dist/sockjs.min.js` +
    ` (page fallback-sockjs-browser.html from a control server on port ${controlPort}, not captured: cross-origin XHR with CORS)`;
  const events = [];
  let onEvent = () => {};
  const files = {
    '/page.html': [path.join(__dirname, 'fallback-sockjs-browser.html'), 'text/html'],
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
        onEvent(ev);
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
  await new Promise((r) => control.listen(controlPort, host, r));
  const done = new Promise((r) => { onEvent = (e) => { if (e.type === 'done') r(); }; });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wsdump-chromium-'));
  const page = `http://${host}:${controlPort}/page.html?` + new URLSearchParams({ transport, url: ex.url, run: RUN, beat: BEAT });
  const browser = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions',
    `--user-data-dir=${profile}`, page], { stdio: ['ignore', 'ignore', 'ignore'] });
  process.on('exit', () => browser.kill('SIGKILL'));
  await done;
  await sleep(500);
  ex.end.server_stop = now();
  await new Promise((r) => { server.close(r); server.closeAllConnections(); });
  const exited = new Promise((r) => browser.once('exit', r));
  browser.kill('SIGTERM');
  await Promise.race([exited, sleep(3000)]);
  browser.kill('SIGKILL');
  await sleep(1000); // Chromium's helpers may still write to the profile
  try {
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  } catch (e) {
    console.error('fallback-sockjs: could not remove ' + profile + ': ' + e.message);
  }
  control.close();
  events.sort((a, b) => a.seq - b.seq);
  for (const e of events) {
    switch (e.type) {
      case 'frame': tapFrame(e.dir, e.data, e.transport ? { transport: e.transport } : {}, e.time); break;
      case 'prelude': ex.frames.push({ dir: 's2c', time: e.time, kind: 'prelude', len: e.len }); break;
      case 'xhr': {
        const sm = /\/stomp\/([^/]+)\/([^/]+)\//.exec(e.path);
        if (sm) { ex.server_id = sm[1]; ex.session_id = sm[2]; }
        ex.requests.push({ time: e.time, method: e.method, path: e.path, kind: kindOf(e.path), status: e.status, ended: e.done });
        break;
      }
      case 'connected': ex.connected = { time: e.time, transport: e.transport, heart_beat: e.heart_beat, version: e.version }; break;
      case 'received': ex.received.push({ time: e.time, command: e.command, destination: e.destination, receipt: e.receipt, len: e.len }); break;
      case 'disconnect': ex.end.disconnect = e.time; break;
      case 'client-close-called': ex.end.client_close_called = e.time; break;
      case 'client-close-done': ex.end.client_close_done = e.time; break;
      case 'sockjs-close': ex.end.sockjs_close = { time: e.time, code: e.code, reason: e.reason, wasClean: e.wasClean }; break;
      case 'stomp-error': ex.end.stomp_error = { time: e.time, error: e.error }; break;
      default: break;
    }
  }
  ex.requests.sort((a, b) => a.time - b.time);
  ex.browser_note = 'requests are as the page saw them (XHR loadend; an EventSource when created): no TCP details; count connections with tshark';
  finish();
}

// ---- manifests ------------------------------------------------------------------

function writeApp() {
  const { Parser } = require('@stomp/stompjs');
  const lines = [];
  const out = (dir, protocol, type, key, body) => {
    const b = body ? Buffer.from(body) : Buffer.alloc(0);
    lines.push([dir, protocol, type, key || '-', b.length, sha(b)].join('\t'));
  };
  const kv = (pairs) => pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => `${k}=${v}`).join(',') || '-';
  const p = {};
  for (const dir of ['c2s', 's2c']) {
    p[dir] = new Parser((f) => {
      const h = Object.fromEntries(f.headers.slice().reverse());
      out(dir, 'stomp', f.command, kv([['destination', h.destination]]), Buffer.from(f.binaryBody));
    }, () => out(dir, 'stomp', 'HEARTBEAT', '-', null));
  }
  const inner = (dir, m) => p[dir].parseChunk(new Uint8Array(Buffer.from(m, 'utf8')).buffer);
  for (const t of tapped) {
    const s = t.buf.toString('utf8');
    if (t.dir === 'c2s') {
      const arr = JSON.parse(s);
      out('c2s', 'sockjs', 'a', kv([['n', arr.length]]), null);
      arr.forEach((m) => inner('c2s', m));
      continue;
    }
    switch (s[0]) {
      case 'o': case 'h': out('s2c', 'sockjs', s[0], '-', null); break;
      case 'c': out('s2c', 'sockjs', 'c', kv([['code', JSON.parse(s.slice(1))[0]]]), null); break;
      case 'a': {
        const arr = JSON.parse(s.slice(1));
        out('s2c', 'sockjs', 'a', kv([['n', arr.length]]), null);
        arr.forEach((m) => inner('s2c', m));
        break;
      }
      default: throw new Error('unexpected SockJS frame ' + s.slice(0, 20));
    }
  }
  fs.writeFileSync(appPath, 'dir\tprotocol\ttype\tkey\tlen\tsha256\n' + lines.map((l) => l + '\n').join(''));
  return lines.length;
}

function finish() {
  const lines = tapped.map((t) => `${t.dir}\t1\t${t.buf.length}\t${sha(t.buf)}\n`);
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + lines.join(''));
  const nApp = writeApp();
  const reqs = ex.requests;
  const kinds = {};
  for (const r of reqs) kinds[r.kind] = (kinds[r.kind] || 0) + 1;
  const by = (dir, key) => ex.beats.filter((b) => b.dir === dir && b.key === key).map((b) => b.time);
  const gaps = (ts) => ts.slice(1).map((t, i) => Math.round((t - ts[i]) * 1000) / 1000);
  ex.end.how = ex.end.sockjs_close ? `server closed the SockJS session after DISCONNECT: c[${ex.end.sockjs_close.code},"${ex.end.sockjs_close.reason}"]` : 'client close()';
  ex.summary = {
    session_id: ex.session_id,
    server_id: ex.server_id,
    transport,
    http_requests: reqs.length,
    requests_by_kind: kinds,
    tcp_connections: reqs.filter((r) => r.tcp === 'new').length,
    reused_requests: reqs.filter((r) => r.tcp === 'reused').length,
    aborted_requests: reqs.filter((r) => r.aborted).length,
    chunked_responses: reqs.filter((r) => r.transfer_encoding === 'chunked').length,
    gzip_responses: reqs.filter((r) => r.content_encoding === 'gzip').length,
    messages: { c2s: tapped.filter((t) => t.dir === 'c2s').length, s2c: tapped.filter((t) => t.dir === 's2c').length },
    app_messages: nApp,
    stomp_messages_received: ex.received.filter((r) => r.command === 'MESSAGE').length,
    receipts: ex.received.filter((r) => r.command === 'RECEIPT').map((r) => r.receipt),
    send_ping: by('c2s', 'SEND ping').length,
    send_ping_gaps: gaps(by('c2s', 'SEND ping')),
    stomp_eol_c2s: by('c2s', 'STOMP EOL').length,
    stomp_eol_c2s_gaps: gaps(by('c2s', 'STOMP EOL')),
    sockjs_h_s2c: by('s2c', 'sockjs h').length,
    sockjs_h_times: by('s2c', 'sockjs h'),
    ended: ex.end.how,
  };
  fs.writeFileSync(expectPath, JSON.stringify(ex, null, 2) + '\n');
  console.error(`[fallback-sockjs] ${transport}: ${JSON.stringify(ex.summary)}`);
  setTimeout(() => process.exit(0), 200);
}

main().catch((e) => { console.error(e); process.exit(1); });
