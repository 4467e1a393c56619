#!/usr/bin/env node
// Engine.IO over HTTP long polling (issue 18): socket.io 4.8.1 server
// (engine.io 6.6.12, Engine.IO v4) and socket.io-client 4.8.1 (engine.io-client
// 6.6.8) in one process, for testdata/pcaps/gen__engineio-{polling,upgrade}.pcap.
//
// usage: node fallback-engineio.js --mode polling|upgrade --port P
//                                  --manifest OUT.messages.tsv --app OUT.app.tsv --expect OUT.expect.json
//                                  [--client browser [--control-port C]]   (--mode polling only)
//
// --client browser: the client script in headless Chromium
// (fallback-engineio-browser.html, socket.io-client dist/socket.io.min.js,
// served by a control server on port C = P + 5, not captured; its payloads
// are seeded in the page). A browser sends Accept-Encoding: gzip, so
// engine.io gzips polling responses over 1024 bytes: the server then also
// emits a 3000-byte "report" at +4.5 s. The page taps its XHRs: the
// payloads as the browser hands them over (gunzipped).
//
//   polling  the client has transports: ['polling'] only: the whole session
//            is HTTP GETs (long polls) and POSTs (client packets).
//            With a keep-alive http.Agent (as a browser keeps connections).
//   upgrade  default transports: polling first (engine.io-client's default
//            in node: a new TCP connection per request), then the WebSocket
//            probe (2probe / 3probe, 5 upgrade, the pending poll answered with
//            a 6 noop) and the rest over it. The probe is held back 2.5 s
//            (as behind a slow proxy; it would start at once) so that events
//            both ways and a ping/pong ride on polling first.
//
// Server: pingInterval 2000, pingTimeout 3000 (server pings `2`, the client
// answers `3`); on connection it emits "welcome" (JSON), a binary "file"
// (2 attachments) and a burst of 3 "tick" events in one go (several packets
// in one polling response, separated by \x1e); every 1.5 s a "news" event;
// acks "hello", echoes "chat", answers "blob" (binary in, binary out).
// Client: on connect "hello" (ack), "chat" with UTF-8 text, a "blob" with a
// 300-byte binary attachment, a burst of 3 "chat" in one go (one POST with 3
// packets); then every 2 s a "status" (the application beat); at +4 s a
// 6000-byte "chat"; at +9 s socket.disconnect() (Socket.IO `41`, Engine.IO
// `1` close), then the server stops.
//
// --manifest: one line per Engine.IO packet as it would be one WebSocket
// message (dir opcode len sha256): the packets of every polling payload
// (c2s each POST body, s2c each GET response, split at the \x1e separator;
// `b`+base64 packets are binary: opcode 2 with the decoded bytes) and, after
// the upgrade, the WebSocket messages (tapped in `ws`). Per direction in the
// order the client sent / received them. --app: Engine.IO / Socket.IO
// packets as in the gen__app-* manifests. --expect: the Engine.IO sid, every
// HTTP request (kind polling GET / POST / websocket, status, TCP new or
// reused, local port), every packet with its time and carrier, pings/pongs
// with times, the upgrade, how the session ended.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

const { arg, now, sleep } = require('./common');
const host = '127.0.0.1';
const mode = arg('mode', 'polling');
const port = Number(arg('port', '47630'));
const manifestPath = arg('manifest', '/dev/null');
const appPath = arg('app', '/dev/null');
const expectPath = arg('expect', '/dev/null');
const PING_INTERVAL = 2000;
const PING_TIMEOUT = 3000;
const RUN = Number(arg('run', '9'));
const clientKind = arg('client', 'node'); // node | browser (headless Chromium, polling only)
const controlPort = Number(arg('control-port', String(port + 5)));
const chromium = arg('chromium', 'chromium');
const UPGRADE_DELAY = 2500; // ms, upgrade mode: the WebSocket probe's delay
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
if (!['polling', 'upgrade'].includes(mode)) throw new Error('bad --mode ' + mode);
if (clientKind === 'browser' && mode !== 'polling') throw new Error('--client browser records --mode polling only');

const { prng } = require('./prng');
const modeSeed = process.argv.includes('browser') ? 5 : mode === 'polling' ? 1 : 2;
Math.random = prng(0x666c6265 + modeSeed); // "flbe"
{
  // Engine.IO session ids (base64id) come from sync crypto.randomBytes.
  const seeded = prng(0x65696f73 + modeSeed);
  const randomBytes = crypto.randomBytes;
  crypto.randomBytes = function (n, cb) {
    if (cb) return randomBytes.apply(this, arguments);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(seeded() * 256);
    return b;
  };
}
const rnd = prng(0x7061796c); // "payl"
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_!?';
const text = (n) => Array.from({ length: n }, () => ALPHABET[Math.floor(rnd() * ALPHABET.length)]).join('');
const binary = (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));

const ex = {
  scenario: 'engineio-' + mode,
  stack: `socket.io 4.8.1 server (engine.io 6.6.12) + socket.io-client 4.8.1 (engine.io-client 6.6.8), node ${process.version}, ` +
    (mode === 'polling' ? "client transports ['polling']" : 'default transports (polling, then upgrade to websocket)'),
  url: `http://${host}:${port}/socket.io/`,
  server_port: port,
  engineio_version: 4,
  ping_interval: PING_INTERVAL / 1000,
  ping_timeout: PING_TIMEOUT / 1000,
  sid: null,
  requests: [],
  packets: [],
  pings: [],
  beats: [],
  upgrade: null,
  end: {},
};

// ---- taps -------------------------------------------------------------------

const tapped = []; // {dir, opcode, buf, time, carrier}
const pkType = { 0: 'open', 1: 'close', 2: 'ping', 3: 'pong', 4: 'message', 5: 'upgrade', 6: 'noop' };
function tapPacket(dir, opcode, buf, carrier, time) {
  const t = time || now();
  tapped.push({ dir, opcode, buf, time: t, carrier });
  const s = opcode === 1 ? buf.toString('utf8') : null;
  const type = opcode === 2 ? 'binary' : pkType[s[0]];
  ex.packets.push({ dir, time: t, carrier, type, len: buf.length, data: s && s.length <= 40 ? s : undefined });
  if (type === 'ping' || type === 'pong') ex.pings.push({ dir, type, time: t, carrier, probe: s.slice(1) === 'probe' || undefined });
  if (s && s.startsWith('42["status"')) ex.beats.push({ dir, key: 'socketio status', time: t, carrier });
  if (s && s.startsWith('42["news"')) ex.beats.push({ dir, key: 'socketio news', time: t, carrier });
}
function tapPayload(dir, data, time) {
  for (const p of String(data).split('\x1e')) {
    if (p[0] === 'b') tapPacket(dir, 2, Buffer.from(p.slice(1), 'base64'), 'polling', time);
    else tapPacket(dir, 1, Buffer.from(p, 'utf8'), 'polling', time);
  }
}
{
  const { Polling } = require(path.join(__dirname, 'node_modules/engine.io-client/build/cjs/transports/polling.js'));
  const { BaseXHR } = require(path.join(__dirname, 'node_modules/engine.io-client/build/cjs/transports/polling-xhr.js'));
  const onData = Polling.prototype.onData;
  Polling.prototype.onData = function (data) {
    tapPayload('s2c', data);
    return onData.apply(this, arguments);
  };
  const doWrite = BaseXHR.prototype.doWrite;
  BaseXHR.prototype.doWrite = function (data) {
    tapPayload('c2s', data);
    return doWrite.apply(this, arguments);
  };
}
function toBuf(data) {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return Buffer.from(data);
  if (Array.isArray(data)) return Buffer.concat(data.map(toBuf));
  if (data instanceof ArrayBuffer) return Buffer.from(data.slice(0));
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return Buffer.from(String(data), 'utf8');
}
for (const m of ['ws', 'engine.io-client/node_modules/ws']) {
  let W;
  try {
    W = require(path.join(__dirname, 'node_modules', m));
  } catch (e) {
    continue;
  }
  W = W.WebSocket || W;
  const send = W.prototype.send;
  W.prototype.send = function (data, opts) {
    if (!this._isServer && this.readyState === 1) {
      const bin = opts && typeof opts === 'object' && opts.binary !== undefined ? opts.binary : typeof data !== 'string';
      tapPacket('c2s', bin ? 2 : 1, toBuf(data), 'websocket');
    }
    return send.apply(this, arguments);
  };
  const emit = W.prototype.emit;
  W.prototype.emit = function (ev, data, isBinary) {
    if (ev === 'message' && !this._isServer) {
      const bin = isBinary !== undefined ? isBinary : typeof data !== 'string';
      tapPacket('s2c', bin ? 2 : 1, toBuf(data), 'websocket');
    }
    return emit.apply(this, arguments);
  };
}
{
  const request = http.request;
  http.request = function (options) {
    const u = new URL(typeof options === 'string' ? options : `http://${options.hostname || options.host}:${options.port}${options.path}`);
    const rec = {
      time: now(), method: (options.method || 'GET').toUpperCase(), kind: u.searchParams.get('transport') || 'http',
      sid: u.searchParams.get('sid'), status: null,
    };
    ex.requests.push(rec);
    const req = request.apply(this, arguments);
    req.on('socket', (s) => {
      if (req.reusedSocket) { rec.tcp = 'reused'; rec.lport = s.localPort; } else s.once('connect', () => { rec.tcp = 'new'; rec.lport = s.localPort; });
    });
    req.on('response', (res) => {
      rec.status = res.statusCode;
      rec.answered = now();
      rec.transfer_encoding = res.headers['transfer-encoding'] || null;
      rec.content_length = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : null;
      rec.content_encoding = res.headers['content-encoding'] || null;
    });
    req.on('upgrade', (res) => { rec.status = res.statusCode; rec.answered = now(); });
    req.on('error', (e) => { rec.error = e.code || e.message; });
    req.on('close', () => { rec.closed = now(); });
    return req;
  };
}

// ---- server and client --------------------------------------------------------------

async function main() {
  setTimeout(() => { console.error('fallback-engineio: timeout'); process.exit(1); }, (RUN + 30) * 1000).unref();
  const { Server } = require('socket.io');
  const httpServer = http.createServer();
  // browser: the page comes from the control server (another origin); socket.io 3+ needs CORS enabled for it
  const io = new Server(httpServer, Object.assign({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT },
    clientKind === 'browser' ? { cors: { origin: `http://${host}:${controlPort}` } } : {}));
  io.on('connection', (s) => {
    s.emit('welcome', { motd: 'polling first ' + text(40), unicode: 'é ✓ \u2028 😀', n: 1 });
    s.emit('file', 'pic.bin', binary(64), { meta: true, thumb: binary(16) });
    for (let i = 0; i < 3; i++) s.emit('tick', i, text(10));
    s.on('hello', (m, ack) => ack({ hi: m }));
    s.on('chat', (m) => s.emit('chat', 'echo: ' + String(m).slice(0, 100)));
    s.on('blob', (name, buf, ack) => ack(buf.length, buf.subarray(0, 8)));
    s.on('status', () => {});
    let n = 0;
    const t = setInterval(() => s.emit('news', { n: ++n, v: Math.floor(rnd() * 1e6) }), 1500);
    // browser: a response over engine.io's 1024-byte compression threshold
    // (a browser sends Accept-Encoding: gzip, so it comes gzipped)
    const big = clientKind === 'browser' ? setTimeout(() => s.emit('report', { rows: text(3000) }), 4500) : null;
    s.on('disconnect', (reason) => { clearInterval(t); clearTimeout(big); ex.end.server_disconnect = { time: now(), reason }; });
  });
  await new Promise((r) => httpServer.listen(port, host, r));
  if (clientKind === 'browser') return browserClient(io, httpServer);

  const { io: client } = require('socket.io-client');
  // polling: a keep-alive agent, as a browser reuses its connections
  // (engine.io-client's default in node, agent: false, opens a TCP
  // connection per request: the upgrade capture keeps that default).
  const opts = mode === 'polling' ? { transports: ['polling'], agent: new http.Agent({ keepAlive: true }) } : {};
  if (mode === 'upgrade') {
    // The WebSocket probe is held back 2.5 s (as behind a slow proxy), so
    // that client events and a ping/pong also ride on polling before the
    // upgrade, and the pending poll is answered with a noop when it happens.
    const { WS } = require(path.join(__dirname, 'node_modules/engine.io-client/build/cjs/transports/websocket.node.js'));
    const doOpen = WS.prototype.doOpen;
    WS.prototype.doOpen = function () {
      ex.probe_delayed = { from: now(), ms: UPGRADE_DELAY };
      setTimeout(() => doOpen.apply(this, arguments), UPGRADE_DELAY);
    };
  }
  const sock = client(`http://${host}:${port}`, opts);
  sock.io.on('open', () => {
    const eng = sock.io.engine;
    ex.sid = eng.id;
    ex.open = { time: now(), transport: eng.transport.name };
    eng.on('upgrading', (t) => { ex.upgrade = { started: now(), to: t.name }; });
    eng.on('upgrade', (t) => { ex.upgrade = Object.assign(ex.upgrade || {}, { done: now(), to: t.name }); });
    eng.on('close', (reason, desc) => { ex.end.engine_close = { time: now(), reason }; });
  });
  await new Promise((r) => sock.once('connect', r));
  ex.connected = now();
  ex.agent = mode === 'polling' ? 'http.Agent keepAlive' : 'none (agent: false, engine.io-client default in node)';
  // Sent at once, while the client is still polling (in upgrade mode the
  // probe is under way): they go out on polling.
  sock.emit('hello', 'client', () => {});
  sock.emit('chat', 'héllo ✓ ' + text(30));
  sock.emit('blob', 'up.bin', binary(300), () => {});
  for (let i = 0; i < 3; i++) sock.emit('chat', `burst ${i} ` + text(20));
  const status = setInterval(() => {
    sock.emit('status', { ok: true, t: Math.floor(rnd() * 1000) });
  }, 2000);
  if (mode === 'upgrade') {
    if (!ex.upgrade || !ex.upgrade.done) await new Promise((r) => sock.io.engine.once('upgrade', r));
    await sleep(50);
    sock.emit('chat', 'after the upgrade ' + text(20));
    sock.emit('blob', 'ws.bin', binary(200), () => {});
  }
  await sleep(Math.max(0, (ex.connected + 4 - now()) * 1000));
  sock.emit('chat', text(6000));
  await sleep(Math.max(0, (ex.connected + RUN - now()) * 1000));
  clearInterval(status);
  ex.end.client_disconnect = now();
  sock.disconnect();
  await sleep(1500);
  ex.end.server_stop = now();
  io.close();
  await new Promise((r) => { httpServer.close(r); httpServer.closeAllConnections(); });
  finish();
}


// ---- the client in headless Chromium (--client browser) -------------------------

async function browserClient(io, httpServer) {
  const os = require('os');
  const { spawn, execFileSync } = require('child_process');
  ex.scenario += '-browser';
  ex.stack = 'socket.io 4.8.1 server (engine.io 6.6.12) + headless Chromium ' + String(execFileSync(chromium, ['--version'])).trim() +
    ` with socket.io-client 4.8.1 dist/socket.io.min.js, transports ['polling'] (page fallback-engineio-browser.html from a control server on port ${controlPort}, not captured: cross-origin XHRs with CORS)`;
  const events = [];
  let onEvent = () => {};
  const files = {
    '/page.html': [path.join(__dirname, 'fallback-engineio-browser.html'), 'text/html'],
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
  const page = `http://${host}:${controlPort}/page.html?` + new URLSearchParams({ url: `http://${host}:${port}`, run: RUN });
  const browser = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions',
    `--user-data-dir=${profile}`, page], { stdio: ['ignore', 'ignore', 'ignore'] });
  process.on('exit', () => browser.kill('SIGKILL'));
  await done;
  ex.end.server_stop = now();
  io.close();
  await new Promise((r) => { httpServer.close(r); httpServer.closeAllConnections(); });
  const exited = new Promise((r) => browser.once('exit', r));
  browser.kill('SIGTERM');
  await Promise.race([exited, sleep(3000)]);
  browser.kill('SIGKILL');
  await sleep(1000); // Chromium's helpers may still write to the profile
  try {
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  } catch (e) {
    console.error('fallback-engineio: could not remove ' + profile + ': ' + e.message);
  }
  control.close();
  events.sort((a, b) => a.seq - b.seq);
  for (const e of events) {
    switch (e.type) {
      case 'payload': tapPayload(e.dir, e.base64 !== undefined ? Buffer.from(e.base64, 'base64') : e.data, e.time); break;
      case 'xhr': {
        const u = new URL(e.url);
        ex.requests.push({ time: e.time, method: e.method, kind: u.searchParams.get('transport'), sid: u.searchParams.get('sid'), status: e.status,
          answered: e.done, content_encoding: e.content_encoding });
        break;
      }
      case 'open': ex.sid = e.sid; ex.open = { time: e.time, transport: e.transport }; break;
      case 'connected': ex.connected = e.time; break;
      case 'disconnect': ex.end.client_disconnect = e.time; break;
      case 'engine-close': ex.end.engine_close = { time: e.time, reason: e.reason }; break;
      default: break;
    }
  }
  ex.requests.sort((a, b) => a.time - b.time);
  ex.browser_note = 'requests are as the page saw them (XHR loadend): no TCP details; count connections with tshark';
  finish();
}

// ---- manifests ------------------------------------------------------------------

function writeApp() {
  const { Decoder, PacketType } = require('socket.io-parser');
  const dec = new Decoder();
  const names = Object.fromEntries(Object.entries(PacketType).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k]));
  const pending = { c2s: [0, 0], s2c: [0, 0] };
  const lines = [];
  const out = (dir, protocol, type, key, body) => {
    const b = body === undefined || body === null ? Buffer.alloc(0) : toBuf(body);
    lines.push([dir, protocol, type, key || '-', b.length, sha(b)].join('\t'));
  };
  const kv = (pairs) => pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => `${k}=${v}`).join(',') || '-';
  for (const t of tapped) {
    const dir = t.dir;
    if (t.opcode === 2) {
      const pa = pending[dir];
      out(dir, 'socketio', 'ATTACHMENT', kv([['n', pa[1] - pa[0] + 1]]), t.buf);
      pa[0]--;
      continue;
    }
    const s = t.buf.toString('utf8');
    const type = pkType[s[0]];
    if (type !== 'message') {
      out(dir, 'engineio', type, s.slice(1) === 'probe' ? 'probe' : '-', type === 'open' ? s.slice(1) : null);
      continue;
    }
    const p = dec.decodeString(s.slice(1));
    let event;
    if ((p.type === PacketType.EVENT || p.type === PacketType.BINARY_EVENT) && Array.isArray(p.data)) event = p.data[0];
    if (p.attachments) pending[dir] = [p.attachments, p.attachments];
    out(dir, 'socketio', names[p.type], kv([['nsp', p.nsp], ['event', event], ['id', p.id], ['attachments', p.attachments]]),
      p.data === undefined ? null : JSON.stringify(p.data));
  }
  fs.writeFileSync(appPath, 'dir\tprotocol\ttype\tkey\tlen\tsha256\n' + lines.map((l) => l + '\n').join(''));
  return lines.length;
}

function finish() {
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + tapped.map((t) => `${t.dir}\t${t.opcode}\t${t.buf.length}\t${sha(t.buf)}\n`).join(''));
  const nApp = writeApp();
  const reqs = ex.requests;
  const kinds = {};
  for (const r of reqs) { const k = `${r.kind} ${r.method}`; kinds[k] = (kinds[k] || 0) + 1; }
  const times = (f) => ex.pings.filter(f).map((p) => p.time);
  const gaps = (ts) => ts.slice(1).map((t, i) => Math.round((t - ts[i]) * 1000) / 1000);
  const last = ex.packets.filter((p) => p.dir === 'c2s' && p.time >= ex.end.client_disconnect).map((p) => `${p.data} (${p.carrier})`);
  ex.end.how = `client socket.disconnect(): ${last.join(' then ')}` + (mode === 'upgrade' ? ', then a WebSocket Close without status code both ways' : '') +
    (ex.end.server_disconnect ? `; server saw "${ex.end.server_disconnect.reason}"` : '');
  ex.summary = {
    sid: ex.sid,
    mode,
    http_requests: reqs.length,
    requests_by_kind: kinds,
    tcp_connections: reqs.filter((r) => r.tcp === 'new').length,
    reused_requests: reqs.filter((r) => r.tcp === 'reused').length,
    chunked_responses: reqs.filter((r) => r.transfer_encoding === 'chunked').length,
    gzip_responses: reqs.filter((r) => r.content_encoding === 'gzip').length,
    messages: { c2s: tapped.filter((t) => t.dir === 'c2s').length, s2c: tapped.filter((t) => t.dir === 's2c').length },
    messages_by_carrier: {
      polling: tapped.filter((t) => t.carrier === 'polling').length,
      websocket: tapped.filter((t) => t.carrier === 'websocket').length,
    },
    binary_packets: tapped.filter((t) => t.opcode === 2).length,
    app_messages: nApp,
    server_pings: times((p) => p.dir === 's2c' && p.type === 'ping' && !p.probe).length,
    server_ping_gaps: gaps(times((p) => p.dir === 's2c' && p.type === 'ping' && !p.probe)),
    client_pongs: times((p) => p.dir === 'c2s' && p.type === 'pong' && !p.probe).length,
    pings_by_carrier: {
      polling: ex.pings.filter((p) => p.dir === 's2c' && p.type === 'ping' && !p.probe && p.carrier === 'polling').length,
      websocket: ex.pings.filter((p) => p.dir === 's2c' && p.type === 'ping' && !p.probe && p.carrier === 'websocket').length,
    },
    status_beats_c2s: ex.beats.filter((b) => b.key === 'socketio status').length,
    news_s2c: ex.beats.filter((b) => b.key === 'socketio news').length,
    upgraded: ex.upgrade && ex.upgrade.done ? Math.round((ex.upgrade.done - ex.open.time) * 1000) / 1000 : null,
    ended: ex.end.how,
  };
  fs.writeFileSync(expectPath, JSON.stringify(ex, null, 2) + '\n');
  console.error(`[fallback-engineio] ${mode}: ${JSON.stringify(ex.summary)}`);
  setTimeout(() => process.exit(0), 200);
}

main().catch((e) => { console.error(e); process.exit(1); });
