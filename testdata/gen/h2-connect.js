#!/usr/bin/env node
// WebSockets over HTTP/2 (RFC 8441) between Node's own `http2` server and
// client, in one process, for testdata/pcaps/gen__h2c-connect and
// gen__h2-tls-connect (issue 22).
//
// usage: node h2-connect.js --port N [--host 127.0.0.1] [--tls CERTDIR --keylog OUT.keys] [--variant padded]
//                           --manifest OUT.messages.tsv --expect OUT.expect.json
//
// Without --tls: cleartext h2c with prior knowledge (the client sends the
// connection preface at once). With --tls: http2.createSecureServer, ALPN h2,
// TLS 1.3, the certificate CERTDIR/cert.pem + key.pem (`wss -gencert`, for
// wsdump.test, sent as SNI); the key log is written from the server's
// 'keylog' event.
//
// The server sends SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (settings
// {enableConnectProtocol: true}); the client waits for that setting before
// any extended CONNECT. One TCP connection carries, in this order:
//   GET /index.html
//   CONNECT /ws/a  :protocol websocket, offers
//                  "permessage-deflate; client_max_window_bits"; the server
//                  answers "permessage-deflate; server_no_context_takeover":
//                  c2s messages are compressed WITH context takeover (one
//                  raw-deflate stream, Z_SYNC_FLUSH, 00 00 ff ff stripped),
//                  s2c WITHOUT (a fresh deflater per message); RSV1 on the
//                  first frame of each compressed message
//   CONNECT /ws/b  offers sec-websocket-protocol "chat.v2, chat.v1", gets chat.v2;
//                  no extension
//   messages both ways on a and b, interleaved with GET /data.bin (20000 B
//   body) and GET /style.css: a 40000 B text c2s on a (compressed to ~31 KB:
//   2 DATA frames), 50000 B binary s2c on b (4 DATA frames) sent while the
//   server writes /data.bin, fragmented messages (a c2s: compressed, 3
//   frames with a ping between; b c2s: 4 frames with an empty middle one;
//   b s2c: 2 frames), an uncompressed message s2c on the deflate stream
//   (RSV1 clear), empty messages, pings with payload both ways (answered)
//   stream a ends: client Close 1000 "bye a", server echoes 1000, then both
//                  halves END_STREAM (stream.end())
//   stream b ends: the client resets it, RST_STREAM CANCEL (0x8), no Close
//   GET /after-reset
//   CONNECT /ws/c  no extension, no subprotocol; two messages each way (a
//                  66000 B binary c2s: 64-bit length, 5 DATA frames; a 70000 B
//                  binary s2c) and a server ping; then the server closes the connection:
//                  GOAWAY NO_ERROR (session.close()), and 300 ms later
//                  session.destroy(): TCP FIN with stream c still open.
//
// The manifest lists every data message as sent, in send order across all
// streams (dir opcode len sha256, uncompressed payload, like the other gen__
// manifests). The expect file has the streams (id, headers, status, how each
// ended), the GOAWAY, and every message with its stream id, send time,
// compressed flag and frame count. The generator checks that every message
// arrived intact at the other end and exits 1 if not.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http2 = require('http2');
const path = require('path');
const { WsEndpoint, parseExtensions } = require('./h2-wsframe');

const { arg, sleep } = require('./common');
const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '47800'));
const certDir = arg('tls', '');
const keylogPath = arg('keylog', '');
const manifestPath = arg('manifest', '/dev/null');
const expectPath = arg('expect', '/dev/null');
const tls = !!certDir;
// --variant padded: both ends pad every DATA and HEADERS frame
// (paddingStrategy PADDING_STRATEGY_MAX: nghttp2 adds up to 255 bytes), and
// the CONNECT of /ws/b carries a 20000-byte header (x-large), so its header
// block goes out as HEADERS + CONTINUATION.
const variant = arg('variant', '');
const padded = variant === 'padded';
const pad = padded ? { paddingStrategy: http2.constants.PADDING_STRATEGY_MAX } : {};
const C = http2.constants;
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

// mulberry32, as in ws-node.js
const { prng } = require('./prng');
const rnd = prng(0x68327773); // "h2ws"
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_!?';
function text(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  return Buffer.from(s, 'ascii');
}
function binary(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}
const WORDS = 'stream frame header settings window deflate websocket connect protocol data ping close'.split(' ');
function words(n) { // compressible text of exactly n bytes
  let s = '';
  while (s.length < n) s += WORDS[Math.floor(rnd() * WORDS.length)] + ' ';
  return Buffer.from(s.slice(0, n), 'ascii');
}
// All payloads up front, so they do not depend on timing.
const P = {
  index: Buffer.from('<!doctype html><title>h2</title>' + words(1200).toString()),
  dataBin: binary(20000),
  css: words(3000),
  after: Buffer.from('reset done\n'),
  a: {
    c2s: [words(40), Buffer.alloc(0), text(40000) /* ~31 KB compressed: 2 DATA frames */, words(300)],
    c2sFrag: [words(500), words(900), words(700)],
    s2c: [Buffer.from('{"hello":"a","deflate":true}'), words(5000), words(120) /* sent uncompressed */, Buffer.alloc(0)],
  },
  b: {
    c2s: [Buffer.from('hello b'), binary(125), text(126)],
    c2sFrag: [text(10), text(200), text(5)], // + an empty middle continuation
    s2c: [binary(300), binary(50000), Buffer.from('gr\u00fc\u00dfe \u00fcber h2 \u2713', 'utf8')],
    s2cFrag: [binary(3), binary(1000)],
  },
  c: { c2s: [text(64), binary(66000) /* 64-bit length, masked, 5 DATA frames */], s2c: [text(1), binary(70000)] },
};

const manifest = [];
const messages = [];
const streams = {}; // by name
const expect = {
  scenario: (tls ? 'h2-tls-connect' : 'h2c-connect') + (variant ? '-' + variant : ''),
  stack: {
    node: process.version,
    nghttp2: process.versions.nghttp2,
    openssl: tls ? process.versions.openssl : undefined,
    websocket: 'RFC 6455 framing and RFC 7692 permessage-deflate written in h2-wsframe.js (node zlib)',
  },
  transport: tls ? 'TLS 1.3, ALPN h2, SNI wsdump.test' : 'h2c, prior knowledge (client preface first, no Upgrade)',
  server_port: port,
};
function onSent(name) {
  return (rec) => {
    manifest.push(`${rec.dir}\t${rec.opcode}\t${rec.len}\t${rec.sha256}`);
    messages.push({ stream: name, ...rec });
  };
}
const received = { c2s: {}, s2c: {} };
function onMessage(name, dir) {
  return (m) => {
    (received[dir][name] = received[dir][name] || []).push({ opcode: m.opcode, len: m.payload.length, sha256: sha(m.payload), compressed: m.compressed, frames: m.frames });
    wake();
  };
}
let waiters = [];
function wake() { waiters = waiters.filter((w) => !w()); }
function until(pred) {
  return new Promise((resolve) => {
    const w = () => { if (pred()) { resolve(); return true; } return false; };
    if (!w()) waiters.push(w);
  });
}
const count = (dir, name) => (received[dir][name] || []).length;

// ---- server ----
const settings = { enableConnectProtocol: true, initialWindowSize: 1 << 20 };
const serverOpts = { settings, ...pad };
if (tls) {
  Object.assign(serverOpts, {
    key: fs.readFileSync(path.join(certDir, 'key.pem')),
    cert: fs.readFileSync(path.join(certDir, 'cert.pem')),
    minVersion: 'TLSv1.3',
    allowHTTP1: false,
  });
}
const server = tls ? http2.createSecureServer(serverOpts) : http2.createServer(serverOpts);
if (tls) {
  if (keylogPath) fs.writeFileSync(keylogPath, '');
  server.on('keylog', (line) => fs.appendFileSync(keylogPath, line));
}
const serverEp = {};
let serverSession = null;
server.on('session', (s) => {
  serverSession = s;
  s.setLocalWindowSize(1 << 24);
});
const files = { '/index.html': ['text/html', P.index], '/data.bin': ['application/octet-stream', P.dataBin], '/style.css': ['text/css', P.css], '/after-reset': ['text/plain', P.after] };
server.on('stream', (stream, headers) => {
  const m = headers[':method'];
  if (m === 'CONNECT' && headers[':protocol'] === 'websocket') {
    const name = headers[':path'].replace('/ws/', '');
    const rh = { ':status': 200 };
    const offer = parseExtensions(headers['sec-websocket-extensions']);
    let deflate = null;
    if (offer.some((e) => e.name === 'permessage-deflate')) {
      rh['sec-websocket-extensions'] = 'permessage-deflate; server_no_context_takeover';
      deflate = { sendTakeover: false, recvTakeover: true };
    }
    if (headers['sec-websocket-protocol']) rh['sec-websocket-protocol'] = headers['sec-websocket-protocol'].split(',')[0].trim();
    stream.respond(rh);
    const st = streams[name];
    st.server = { stream_id: stream.id, request_headers: headers };
    st.server_close = null;
    stream.on('close', () => { st.server.rst_code = stream.rstCode; wake(); });
    stream.on('end', () => { st.server.end_stream_received = true; wake(); });
    serverEp[name] = new WsEndpoint(stream, { client: false, deflate, onSent: onSent(name), onMessage: onMessage(name, 'c2s'), onControl: (c) => control(name, 'c2s', c) });
    wake();
    return;
  }
  const f = files[headers[':path']];
  if (m !== 'GET' || !f) {
    stream.respond({ ':status': 404 });
    stream.end();
    return;
  }
  stream.respond({ ':status': 200, 'content-type': f[0], 'content-length': f[1].length });
  stream.end(f[1]);
});
const controls = [];
function control(name, dir, c) {
  const kind = { 8: 'close', 9: 'ping', 10: 'pong' }[c.opcode];
  const r = { stream: name, dir, kind, payload: c.payload.toString('utf8') };
  if (c.opcode === 8) {
    r.code = c.payload.length >= 2 ? c.payload.readUInt16BE(0) : null;
    r.payload = c.payload.subarray(2).toString('utf8');
    r.reason = r.payload;
    delete r.payload;
  }
  controls.push(r);
  wake();
}

// ---- client ----
const requests = [];
function get(session, p) {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'GET', ':path': p });
    const r = { path: p, method: 'GET' };
    requests.push(r);
    req.on('response', (h) => { r.stream_id = req.id; r.status = h[':status']; });
    const body = [];
    req.on('data', (d) => body.push(d));
    req.on('end', () => { r.body_len = Buffer.concat(body).length; r.body_sha256 = sha(Buffer.concat(body)); resolve(r); });
    req.on('error', reject);
    req.end();
  });
}
function connectWs(session, name, extra, signal) {
  return new Promise((resolve, reject) => {
    const h = {
      ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': tls ? 'https' : 'http', ':path': '/ws/' + name,
      ':authority': `${host}:${port}`, 'sec-websocket-version': '13', origin: `${tls ? 'https' : 'http'}://${host}:${port}`, ...extra,
    };
    const st = { name, request: h, end: null };
    streams[name] = st;
    const req = session.request(h, { endStream: false, signal });
    req.on('response', (rh) => {
      st.stream_id = req.id;
      st.status = rh[':status'];
      st.response = { ...rh };
      const ext = parseExtensions(rh['sec-websocket-extensions']);
      const deflate = ext.some((e) => e.name === 'permessage-deflate')
        ? { sendTakeover: !ext[0].params.client_no_context_takeover, recvTakeover: !ext[0].params.server_no_context_takeover } : null;
      st.deflate = deflate && { c2s: deflate.sendTakeover ? 'context takeover' : 'no context takeover', s2c: deflate.recvTakeover ? 'context takeover' : 'no context takeover' };
      const ep = new WsEndpoint(req, { client: true, deflate, onSent: onSent(name), onMessage: onMessage(name, 's2c'), onControl: (c) => control(name, 's2c', c) });
      st.client = { rst_code: null };
      req.on('end', () => { st.client.end_stream_received = true; wake(); });
      req.on('close', () => { st.client.rst_code = req.rstCode; st.client.closed = true; wake(); });
      req.on('error', (e) => { st.client.error = e.code; });
      resolve(ep);
    });
    req.on('error', reject);
  });
}

async function main() {
  setTimeout(() => { console.error('h2-connect: timeout'); process.exit(1); }, 30000).unref();
  await new Promise((r) => server.listen(port, host, r));
  const origin = `${tls ? 'https' : 'http'}://${host}:${port}`;
  const copts = { settings: { initialWindowSize: 1 << 20 }, ...pad };
  if (tls) Object.assign(copts, { ca: fs.readFileSync(path.join(certDir, 'cert.pem')), servername: 'wsdump.test', minVersion: 'TLSv1.3' });
  const session = http2.connect(origin, copts);
  session.on('error', (e) => { expect.client_session_error = e.code || String(e); });
  await new Promise((resolve) => session.on('remoteSettings', (s) => { if (s.enableConnectProtocol) resolve(); }));
  session.setLocalWindowSize(1 << 24);
  expect.settings = { server: session.remoteSettings };
  if (tls) expect.alpn = session.alpnProtocol;
  // every GOAWAY either side receives, in order
  expect.goaways = [];
  const goaway = new Promise((resolve) => session.on('goaway', (code, last, opaque) => {
    const g = { sent_by: 'server', code, last_stream_id: last, opaque_len: opaque ? opaque.length : 0, time: Date.now() / 1000 };
    if (!expect.goaway) expect.goaway = g;
    expect.goaways.push(g);
    resolve();
  }));
  serverSession.on('goaway', (code, last, opaque) => {
    expect.goaways.push({ sent_by: 'client', code, last_stream_id: last, opaque_len: opaque ? opaque.length : 0, time: Date.now() / 1000 });
  });

  await get(session, '/index.html');
  const a = await connectWs(session, 'a', { 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' });
  const abortB = new AbortController();
  const bh = { 'sec-websocket-protocol': 'chat.v2, chat.v1' };
  if (padded) bh['x-large'] = 'x'.repeat(20000);
  const b = await connectWs(session, 'b', bh, abortB.signal);
  await until(() => serverEp.a && serverEp.b);
  const sa = serverEp.a;
  const sb = serverEp.b;

  // greetings, interleaved across streams and directions
  a.send(1, P.a.c2s[0], { compress: true });
  b.send(1, P.b.c2s[0]);
  await until(() => count('c2s', 'a') === 1 && count('c2s', 'b') === 1);
  sa.send(1, P.a.s2c[0], { compress: true });
  sb.send(2, P.b.s2c[0]);
  await until(() => count('s2c', 'a') === 1 && count('s2c', 'b') === 1);
  await a.ping('ping a 1');
  await until(() => controls.some((c) => c.kind === 'pong' && c.stream === 'a'));

  // big ones: 40000 B compressed text c2s on a while the server answers
  // GET /data.bin and sends 50000 B binary on b (DATA frames of /data.bin
  // and b interleave on the wire)
  const big = [a.send(1, P.a.c2s[2], { compress: true }), get(session, '/data.bin')];
  await sleep(5);
  sb.send(2, P.b.s2c[1]);
  a.send(1, P.a.c2s[1], { compress: true }); // empty: one byte 00
  await Promise.all(big);
  await until(() => count('c2s', 'a') === 3 && count('s2c', 'b') === 2);

  // fragmented messages
  await a.send(1, Buffer.concat(P.a.c2sFrag), { compress: true, fragments: [30, 60], pingBetween: 'ping a mid-message' });
  await b.send(1, Buffer.concat(P.b.c2sFrag), { fragments: [10, 210], emptyMiddle: true });
  await sb.send(2, Buffer.concat(P.b.s2cFrag), { fragments: [3] });
  await sb.ping('ping b from server');
  await until(() => count('c2s', 'a') === 4 && count('c2s', 'b') === 2 && count('s2c', 'b') === 3);
  const css = get(session, '/style.css');
  await sa.send(1, P.a.s2c[1], { compress: true });
  await sa.send(1, P.a.s2c[2], { compress: false }); // RSV1 clear on a deflate stream
  await sa.send(2, P.a.s2c[3], { compress: true });
  await b.send(2, P.b.c2s[1]);
  await b.send(1, P.b.c2s[2]);
  await a.send(1, P.a.c2s[3], { compress: true });
  await sb.send(1, P.b.s2c[2]);
  await css;
  await until(() => count('s2c', 'a') === 4 && count('c2s', 'b') === 4 && count('c2s', 'a') === 5 && count('s2c', 'b') === 4);

  // stream a: Close handshake, then END_STREAM both ways
  await a.close(1000, 'bye a');
  await until(() => controls.some((c) => c.kind === 'close' && c.stream === 'a' && c.dir === 's2c'));
  streams.a.end = { how: 'close then END_STREAM', close_c2s: { code: 1000, reason: 'bye a' }, close_s2c: { code: 1000, reason: '' } };
  a.stream.end();
  await until(() => streams.a.server.end_stream_received);
  sa.stream.end();
  await until(() => streams.a.client.closed);
  streams.a.end.end_stream = ['c2s', 's2c'];

  // stream b: reset by the client (RST_STREAM CANCEL), no Close
  await sleep(20);
  // Aborting the request's signal makes node send RST_STREAM CANCEL alone:
  // Http2Stream.close(CANCEL) sends an empty END_STREAM DATA frame first, and
  // destroy() sends RST_STREAM NO_ERROR.
  abortB.abort();
  await until(() => streams.b.client.closed && streams.b.server.rst_code !== undefined);
  streams.b.end = { how: 'RST_STREAM', by: 'client', code: C.NGHTTP2_CANCEL, code_name: 'CANCEL', close_frames: 0 };
  await get(session, '/after-reset');

  // stream c: open when the server sends GOAWAY and closes the connection
  const c = await connectWs(session, 'c', {});
  await until(() => serverEp.c);
  const sc = serverEp.c;
  c.send(1, P.c.c2s[0]);
  await sc.send(1, P.c.s2c[0]);
  await sc.send(2, P.c.s2c[1]);
  await c.send(2, P.c.c2s[1]);
  await sc.ping('ping c');
  await until(() => count('c2s', 'c') === 2 && count('s2c', 'c') === 2 && controls.some((x) => x.kind === 'pong' && x.stream === 'c'));
  await sleep(20);
  serverSession.close(); // GOAWAY NO_ERROR, waits for open streams
  await goaway;
  await sleep(300);
  serverSession.destroy(); // TCP FIN with stream c open
  await until(() => streams.c.client.closed);
  streams.c.end = {
    how: 'GOAWAY then TCP close', by: 'server', goaway_code: expect.goaway.code, close_frames: 0, rst_stream_frames: 0,
    note: 'server session.close(): GOAWAY NO_ERROR (last stream = c); node\'s client answers with its own GOAWAY; ' +
      '300 ms later the server\'s session.destroy() sends GOAWAY again and closes TCP (FIN) with stream c open',
  };
  expect.settings.client = session.localSettings;
  session.destroy();
  server.close();
  finish();
}

function finish() {
  // every message arrived intact?
  let bad = 0;
  for (const dir of ['c2s', 's2c']) {
    for (const name of Object.keys(streams)) {
      const sent = messages.filter((m) => m.stream === name && m.dir === dir).map((m) => `${m.opcode} ${m.len} ${m.sha256}`);
      const got = (received[dir][name] || []).map((m) => `${m.opcode} ${m.len} ${m.sha256}`);
      if (sent.join('\n') !== got.join('\n')) {
        console.error(`h2-connect: stream ${name} ${dir}: sent ${sent.length}, received ${got.length} differing`);
        bad++;
      }
    }
  }
  expect.streams = Object.values(streams).map((s) => ({
    name: s.name,
    stream_id: s.stream_id,
    request: s.request['x-large'] ? { ...s.request, 'x-large': `(${s.request['x-large'].length} x characters)` } : s.request,
    status: s.status,
    response: s.response,
    subprotocol: s.response['sec-websocket-protocol'] || null,
    extensions: s.response['sec-websocket-extensions'] || null,
    deflate: s.deflate || null,
    end: s.end,
    server_saw_rst_code: s.server.rst_code,
    messages: {
      c2s: messages.filter((m) => m.stream === s.name && m.dir === 'c2s').length,
      s2c: messages.filter((m) => m.stream === s.name && m.dir === 's2c').length,
    },
  }));
  expect.requests = requests;
  expect.controls = controls;
  expect.messages = messages.map((m) => ({ stream: m.stream, stream_id: streams[m.stream].stream_id, ...m }));
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.map((l) => l + '\n').join(''));
  fs.writeFileSync(expectPath, JSON.stringify(expect, null, 2) + '\n');
  console.error(`h2-connect: ${messages.length} messages on ${Object.keys(streams).length} WebSocket streams, ${requests.length} GETs, GOAWAY ${JSON.stringify(expect.goaway)}`);
  setTimeout(() => process.exit(bad ? 1 : 0), 100);
}

main().catch((e) => { console.error(e); process.exit(1); });
