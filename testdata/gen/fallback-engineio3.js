#!/usr/bin/env node
// Engine.IO v3 over HTTP long polling (issue 18): socket.io 2.5.1 server
// (engine.io 3.6.2) and socket.io-client 2.5.0 (engine.io-client 3.5.6,
// engine.io-parser 2.2.1), installed as the npm aliases socket.io-v2 and
// socket.io-client-v2, in one process, for
// testdata/pcaps/gen__engineio-v3-{polling,upgrade}.pcap. The same script as
// fallback-engineio.js (see there), in the older protocol:
//
//   - EIO=3 in the URLs; the CLIENT pings (`2` every pingInterval) and the
//     server answers `3` (v4 turned that round);
//   - polling payloads: text payloads as `<length>:<packet>` with the length
//     in UTF-16 code units (JS string length), binary packets inside them as
//     `b<type><base64>`; a payload that carries a binary packet goes as a
//     BINARY payload (Content-Type application/octet-stream): per packet a
//     byte 0 (string) or 1 (binary), the length as one byte per decimal
//     digit, 0xff, then the packet (a string packet UTF-8 encoded and its
//     length in bytes; a binary packet as its type byte 0x04 and the data);
//   - on a WebSocket a binary packet is a binary message starting with its
//     type byte 0x04.
//
// usage: node fallback-engineio3.js --mode polling|upgrade --port P
//                                   --manifest OUT.messages.tsv --app OUT.app.tsv --expect OUT.expect.json
//                                   [--client browser [--control-port C]]   (--mode polling only)
//
// --client browser: as in fallback-engineio.js, with socket.io-client 2.5.0
// dist/socket.io.js. A browser has XHR2, so unlike the node client it does
// not ask for base64: payloads that carry binary packets go as BINARY
// payloads both ways (application/octet-stream); and it accepts gzip.
//
// --manifest: one line per Engine.IO packet as the same version would send it
// as one WebSocket message (dir opcode len sha256): text packets as their
// string, binary packets opcode 2 as the type byte 0x04 + data; after an
// upgrade, the WebSocket messages (tapped in ws 7.5.14). --app and --expect as
// in fallback-engineio.js; the app lines' Socket.IO type names are
// socket.io-parser 3's (ERROR for 4), the attachments without the type byte.
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
const V2 = require('path').join(__dirname, 'node_modules/socket.io-client-v2/node_modules');
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
const modeSeed = process.argv.includes('browser') ? 6 : mode === 'polling' ? 3 : 4;
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
  scenario: 'engineio-v3-' + mode,
  stack: `socket.io 2.5.1 server (engine.io 3.6.2) + socket.io-client 2.5.0 (engine.io-client 3.5.6, engine.io-parser 2.2.1), node ${process.version}, ` +
    (mode === 'polling' ? "client transports ['polling']" : 'default transports (polling, then upgrade to websocket)'),
  url: `http://${host}:${port}/socket.io/`,
  server_port: port,
  engineio_version: 3,
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
  if (opcode === 2 && buf[0] !== 4) throw new Error('v3 binary packet without type byte 4');
  const type = opcode === 2 ? 'binary' : pkType[s[0]];
  ex.packets.push({ dir, time: t, carrier, type, len: buf.length, data: s && s.length <= 40 ? s : undefined });
  if (type === 'ping' || type === 'pong') ex.pings.push({ dir, type, time: t, carrier, probe: s.slice(1) === 'probe' || undefined });
  if (s && s.startsWith('42["status"')) ex.beats.push({ dir, key: 'socketio status', time: t, carrier });
  if (s && s.startsWith('42["news"')) ex.beats.push({ dir, key: 'socketio news', time: t, carrier });
}
const eioParser = require(path.join(V2, 'engine.io-parser'));
// A payload's packets, each as the same version sends it as one WebSocket message.
function tapPayload(dir, data, time) {
  eioParser.decodePayload(data, 'nodebuffer', (packet) => {
    eioParser.encodePacket(packet, true, false, (enc) => {
      if (typeof enc === 'string') tapPacket(dir, 1, Buffer.from(enc, 'utf8'), 'polling', time);
      else tapPacket(dir, 2, Buffer.from(enc), 'polling', time);
    });
  });
}
{
  const Polling = require(path.join(V2, 'engine.io-client/lib/transports/polling.js'));
  const XHR = require(path.join(V2, 'engine.io-client/lib/transports/polling-xhr.js'));
  const onData = Polling.prototype.onData;
  Polling.prototype.onData = function (data) {
    tapPayload('s2c', data);
    return onData.apply(this, arguments);
  };
  const doWrite = XHR.prototype.doWrite;
  XHR.prototype.doWrite = function (data) {
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
for (const m of ['socket.io-client-v2/node_modules/ws']) {
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
  setTimeout(() => { console.error('fallback-engineio3: timeout'); process.exit(1); }, (RUN + 30) * 1000).unref();
  const httpServer = http.createServer();
  // browser: the page is on another origin, and a binary payload POST
  // (Content-Type application/octet-stream) needs a CORS preflight, which
  // engine.io 3 leaves to the application: answer it as apps do.
  const io = require('socket.io-v2')(httpServer, Object.assign({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, serveClient: false },
    clientKind === 'browser' ? {
      handlePreflightRequest: (req, res) => {
        res.writeHead(200, {
          'Access-Control-Allow-Origin': req.headers.origin, 'Access-Control-Allow-Methods': 'GET, POST',
          'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '', 'Access-Control-Allow-Credentials': 'true',
        });
        res.end();
      },
    } : {}));
  io.on('connection', (s) => {
    s.emit('welcome', { motd: 'polling first ' + text(40), unicode: 'é ✓ \u2028 😀', n: 1 });
    s.emit('file', 'pic.bin', binary(64), { meta: true, thumb: binary(16) });
    for (let i = 0; i < 3; i++) s.emit('tick', i, text(10));
    s.on('hello', (m, ack) => ack({ hi: m }));
    s.on('chat', (m) => s.emit('chat', 'echo: ' + String(m).slice(0, 100)));
    s.on('blob', (name, buf, ack) => {
      const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf); // an ArrayBuffer when it came in a binary payload
      ack(b.length, Buffer.from(b.subarray(0, 8)));
    });
    s.on('status', () => {});
    let n = 0;
    const t = setInterval(() => s.emit('news', { n: ++n, v: Math.floor(rnd() * 1e6) }), 1500);
    // browser: a response over engine.io's 1024-byte compression threshold
    const big = clientKind === 'browser' ? setTimeout(() => s.emit('report', { rows: text(3000) }), 4500) : null;
    s.on('disconnect', (reason) => { clearInterval(t); clearTimeout(big); ex.end.server_disconnect = { time: now(), reason }; });
  });
  await new Promise((r) => httpServer.listen(port, host, r));
  if (clientKind === 'browser') return browserClient(io, httpServer);

  const client = require('socket.io-client-v2');
  // polling: a keep-alive agent, as a browser reuses its connections
  // (engine.io-client's default in node, agent: false, opens a TCP
  // connection per request: the upgrade capture keeps that default).
  const opts = mode === 'polling' ? { transports: ['polling'], agent: new http.Agent({ keepAlive: true }) } : {};
  if (mode === 'upgrade') {
    // The WebSocket probe is held back 2.5 s (as behind a slow proxy), so
    // that client events and a ping/pong also ride on polling before the
    // upgrade, and the pending poll is answered with a noop when it happens.
    const WS = require(path.join(V2, 'engine.io-client/lib/transports/websocket.js'));
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
  ex.stack = 'socket.io 2.5.1 server (engine.io 3.6.2) + headless Chromium ' + String(execFileSync(chromium, ['--version'])).trim() +
    ` with socket.io-client 2.5.0 dist/socket.io.js, transports ['polling'] (page fallback-engineio-browser.html from a control server on port ${controlPort}, not captured: cross-origin XHRs with CORS)`;
  const events = [];
  let onEvent = () => {};
  const files = {
    '/page.html': [path.join(__dirname, 'fallback-engineio-browser.html'), 'text/html'],
    '/socket.io.min.js': [path.join(__dirname, 'node_modules/socket.io-client-v2/dist/socket.io.js'), 'application/javascript'],
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

// Socket.IO packets (socket.io-parser 3 string format: type, [attachments-],
// [/nsp,], [id], [JSON]) parsed here: socket.io-parser 3's Decoder holds a
// binary packet back until its attachments are in.
const SIO_TYPES = ['CONNECT', 'DISCONNECT', 'EVENT', 'ACK', 'ERROR', 'BINARY_EVENT', 'BINARY_ACK'];
function parseSio(str) {
  let i = 0;
  const p = { type: Number(str[i++]), nsp: '/' };
  if (p.type === 5 || p.type === 6) {
    const d = str.indexOf('-', i);
    p.attachments = Number(str.slice(i, d));
    i = d + 1;
  }
  if (str[i] === '/') {
    const c = str.indexOf(',', i);
    p.nsp = c < 0 ? str.slice(i) : str.slice(i, c);
    i = c < 0 ? str.length : c + 1;
  }
  let id = '';
  while (i < str.length && str[i] >= '0' && str[i] <= '9') id += str[i++];
  if (id) p.id = Number(id);
  if (i < str.length) p.data = JSON.parse(str.slice(i));
  return p;
}
function writeApp() {
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
      out(dir, 'socketio', 'ATTACHMENT', kv([['n', pa[1] - pa[0] + 1]]), t.buf.subarray(1));
      pa[0]--;
      continue;
    }
    const s = t.buf.toString('utf8');
    const type = pkType[s[0]];
    if (type !== 'message') {
      out(dir, 'engineio', type, s.slice(1) === 'probe' ? 'probe' : '-', type === 'open' ? s.slice(1) : null);
      continue;
    }
    const p = parseSio(s.slice(1));
    let event;
    if ((p.type === 2 || p.type === 5) && Array.isArray(p.data)) event = p.data[0];
    if (p.attachments) pending[dir] = [p.attachments, p.attachments];
    out(dir, 'socketio', SIO_TYPES[p.type], kv([['nsp', p.nsp], ['event', event], ['id', p.id], ['attachments', p.attachments]]),
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
    // v3: the client pings, the server answers
    client_pings: times((p) => p.dir === 'c2s' && p.type === 'ping' && !p.probe).length,
    client_ping_gaps: gaps(times((p) => p.dir === 'c2s' && p.type === 'ping' && !p.probe)),
    server_pongs: times((p) => p.dir === 's2c' && p.type === 'pong' && !p.probe).length,
    pings_by_carrier: {
      polling: ex.pings.filter((p) => p.dir === 'c2s' && p.type === 'ping' && !p.probe && p.carrier === 'polling').length,
      websocket: ex.pings.filter((p) => p.dir === 'c2s' && p.type === 'ping' && !p.probe && p.carrier === 'websocket').length,
    },
    status_beats_c2s: ex.beats.filter((b) => b.key === 'socketio status').length,
    news_s2c: ex.beats.filter((b) => b.key === 'socketio news').length,
    upgraded: ex.upgrade && ex.upgrade.done ? Math.round((ex.upgrade.done - ex.open.time) * 1000) / 1000 : null,
    ended: ex.end.how,
  };
  fs.writeFileSync(expectPath, JSON.stringify(ex, null, 2) + '\n');
  console.error(`[fallback-engineio3] ${mode}: ${JSON.stringify(ex.summary)}`);
  setTimeout(() => process.exit(0), 200);
}

main().catch((e) => { console.error(e); process.exit(1); });
