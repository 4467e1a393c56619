#!/usr/bin/env node
// A real browser doing WebSocket over HTTP/2 (RFC 8441), for
// testdata/pcaps/gen__h2-browser (issue 22): headless Chromium (Debian
// package, launched as in seed-browser.js, plus --ignore-certificate-errors
// and SSLKEYLOGFILE=OUT.keys) loads https://127.0.0.1:PORT/ from Node's
// http2.createSecureServer({settings: {enableConnectProtocol: true}}) (TLS,
// ALPN h2, the `wss -gencert` certificate), and the page (h2-browser.html)
// opens wss://127.0.0.1:PORT/ws/echo with subprotocols chat.v1, chat.v2.
// Chromium reuses the page's HTTP/2 connection and sends an extended CONNECT
// (:protocol websocket) when the server advertised the setting.
//
// usage: node h2-browser.js --port P --cert DIR --keylog OUT.keys
//                           --manifest OUT.messages.tsv --expect OUT.expect.json [--chromium chromium]
//
// The server answers the CONNECT with 200, the first offered subprotocol
// and, if offered, "permessage-deflate" (context takeover both ways): it
// inflates the page's compressed messages and compresses its own (except
// one sent uncompressed). It sends 6 messages (see serverScript), pings
// once, echoes the page's Close and ends its half of the stream (END_STREAM)
// when the page ends its half. After the close the page POSTs /report
// (over the same connection) with what it sent and received (SHA-256 per
// message, WebSocket.protocol / .extensions, close event); then the server
// closes the session (GOAWAY) and the browser is stopped.
//
// Manifest: c2s lines are the page's report of what it sent (checked equal
// to what the server received and decoded), s2c lines what the server sent
// (checked equal to what the page reports it received); dir opcode len
// sha256, uncompressed payloads, in send order. The expect file has the
// shape of h2-connect.js's (streams, requests, controls, messages with
// stream id, compressed flag and frame count) plus the browser's report.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http2 = require('http2');
const os = require('os');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const { WsEndpoint, parseExtensions } = require('./h2-wsframe');

const { arg, sleep } = require('./common');
const host = '127.0.0.1';
const port = Number(arg('port', '47820'));
const certDir = arg('cert', '.');
const keylogPath = path.resolve(arg('keylog', 'h2-browser.keys'));
const manifestPath = arg('manifest', '/dev/null');
const expectPath = arg('expect', '/dev/null');
const chromium = arg('chromium', 'chromium');
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

// mulberry32, as in h2-connect.js (server payloads; the page has its own seed)
const { prng } = require('./prng');
const rnd = prng(0x68327376); // "h2sv"
const WORDS = 'stream frame header settings window deflate websocket connect protocol data ping close'.split(' ');
const words = (n) => { let s = ''; while (s.length < n) s += WORDS[Math.floor(rnd() * WORDS.length)] + ' '; return Buffer.from(s.slice(0, n)); };
const binary = (n) => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256); return b; };
// after the page's message #k (1-based count received), send these
const serverScript = {
  1: [[1, Buffer.from('hello from node http2 \u2713')], [2, binary(30000)] /* random: stays > 16 KiB compressed */],
  7: [[1, words(3000)], [1, Buffer.alloc(0)], [2, binary(200), { compress: false }]],
  8: [[1, Buffer.from('last message from the server')]],
};

const messages = [];
const controls = [];
const requests = [];
const received = [];
let report = null;
let wsStream = null;
let ep = null;
let waiters = [];
function wake() { waiters = waiters.filter((w) => !w()); }
const until = (pred) => new Promise((r) => { const w = () => (pred() ? (r(), true) : false); if (!w()) waiters.push(w); });

const page = fs.readFileSync(path.join(__dirname, 'h2-browser.html'));
const server = http2.createSecureServer({
  key: fs.readFileSync(path.join(certDir, 'key.pem')),
  cert: fs.readFileSync(path.join(certDir, 'cert.pem')),
  settings: { enableConnectProtocol: true },
});
const sessions = [];
server.on('session', (s) => sessions.push(s));
server.on('stream', (stream, headers) => {
  const r = { stream_id: stream.id, method: headers[':method'], path: headers[':path'], protocol: headers[':protocol'] };
  if (headers[':method'] === 'CONNECT' && headers[':protocol'] === 'websocket') {
    const offer = parseExtensions(headers['sec-websocket-extensions']);
    const rh = { ':status': 200 };
    let deflate = null;
    if (offer.some((e) => e.name === 'permessage-deflate')) {
      rh['sec-websocket-extensions'] = 'permessage-deflate';
      deflate = { sendTakeover: true, recvTakeover: true };
    }
    if (headers['sec-websocket-protocol']) rh['sec-websocket-protocol'] = headers['sec-websocket-protocol'].split(',')[0].trim();
    stream.respond(rh);
    wsStream = { stream_id: stream.id, request: headers, status: 200, response: rh, extensions: rh['sec-websocket-extensions'] || null, subprotocol: rh['sec-websocket-protocol'] || null, end: {} };
    stream.on('end', () => { wsStream.end.end_stream_c2s = true; stream.end(); wsStream.end.end_stream_s2c = true; wake(); });
    stream.on('close', () => { wsStream.end.server_saw_rst_code = stream.rstCode; wsStream.end.closed = true; wake(); });
    stream.on('error', (e) => { wsStream.end.error = e.code; });
    ep = new WsEndpoint(stream, {
      client: false, deflate,
      onSent: (m) => messages.push({ stream: 'echo', stream_id: stream.id, ...m }),
      onMessage: (m) => { received.push({ dir: 'c2s', opcode: m.opcode, len: m.payload.length, sha256: sha(m.payload), compressed: m.compressed, frames: m.frames, time: Date.now() / 1000 }); wake(); },
      onControl: (c) => {
        const x = { stream: 'echo', dir: 'c2s', kind: { 8: 'close', 9: 'ping', 10: 'pong' }[c.opcode] };
        if (c.opcode === 8) Object.assign(x, { code: c.payload.length >= 2 ? c.payload.readUInt16BE(0) : null, reason: c.payload.subarray(2).toString() });
        else x.payload = c.payload.toString();
        controls.push(x);
        wake();
      },
    });
    requests.push(r);
    wake();
    return;
  }
  requests.push(r);
  if (headers[':path'] === '/report' && headers[':method'] === 'POST') {
    const body = [];
    stream.on('data', (d) => body.push(d));
    stream.on('end', () => {
      report = JSON.parse(Buffer.concat(body).toString());
      r.status = 204;
      stream.respond({ ':status': 204 });
      stream.end();
      wake();
    });
    return;
  }
  if (headers[':path'] === '/' || headers[':path'] === '/index.html') {
    r.status = 200;
    stream.respond({ ':status': 200, 'content-type': 'text/html; charset=utf-8' });
    stream.end(page);
    return;
  }
  r.status = 404;
  stream.respond({ ':status': 404 });
  stream.end();
});

async function main() {
  setTimeout(() => { console.error('h2-browser: timeout'); finish(1); }, 60000).unref();
  fs.writeFileSync(keylogPath, '');
  await new Promise((r) => server.listen(port, host, r));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wsdump-chromium-'));
  const url = `https://${host}:${port}/`;
  const browser = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions',
    '--ignore-certificate-errors', ...(process.env.H2_DEBUG ? ['--enable-logging=stderr', '--v=0'] : []),
    `--user-data-dir=${profile}`, url], { env: { ...process.env, SSLKEYLOGFILE: keylogPath }, stdio: ['ignore', 'ignore', process.env.H2_DEBUG ? 'inherit' : 'ignore'] });
  process.on('exit', () => browser.kill('SIGKILL'));
  main.browser = browser;
  main.profile = profile;

  // the server's side of the script, driven by what the page sends
  let done = 0;
  for (const k of Object.keys(serverScript).map(Number).sort((a, b) => a - b)) {
    await until(() => received.length >= k || report);
    if (report && report.error) break;
    for (const [op, payload, o] of serverScript[k]) await ep.send(op, payload, { compress: true, ...o });
    if (done++ === 0) await ep.ping('ping from node');
  }
  await until(() => report);
  await until(() => wsStream && wsStream.end.closed);
  await sleep(200);
  for (const s of sessions) s.close(); // GOAWAY NO_ERROR
  await sleep(500);
  finish(0);
}

async function finish(code) {
  const b = main.browser;
  if (b) {
    const exited = new Promise((r) => b.once('exit', r));
    b.kill('SIGTERM');
    await Promise.race([exited, sleep(3000)]);
    b.kill('SIGKILL');
    fs.rmSync(main.profile, { recursive: true, force: true });
  }
  for (const s of sessions) s.destroy();
  server.close();
  let bad = code;
  const ver = String(execFileSync(chromium, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] })).trim();
  const rep = report || { sent: [], received: [] };
  if (report && report.error) { console.error('h2-browser: page error', report.error); bad = 1; }
  // the page's sent list against what the server decoded, and the server's sent list against the page's received
  const k = (m) => `${m.opcode} ${m.len} ${m.sha256}`;
  if (rep.sent.map(k).join() !== received.map(k).join()) { console.error('h2-browser: page sent != server received'); bad = 1; }
  if (messages.map(k).join() !== rep.received.map(k).join()) { console.error('h2-browser: server sent != page received'); bad = 1; }
  if (!wsStream) { console.error('h2-browser: NO extended CONNECT from the browser', JSON.stringify(requests)); bad = 1; }
  if (wsStream) {
    const cl = (d) => controls.find((c) => c.kind === 'close' && c.dir === d) || (d === 's2c' && ep && ep.closeSent ? { code: ep.closeSent.code, reason: ep.closeSent.reason } : null);
    wsStream.end.how = 'close then END_STREAM';
    wsStream.end.close_c2s = cl('c2s') && { code: cl('c2s').code, reason: cl('c2s').reason };
    wsStream.end.close_s2c = cl('s2c');
  }
  const all = [];
  rep.sent.forEach((m, i) => all.push({ stream: 'echo', stream_id: wsStream && wsStream.stream_id, dir: 'c2s', opcode: m.opcode, len: m.len, sha256: m.sha256, time: m.time,
    compressed: received[i] ? received[i].compressed : null, frames: received[i] ? received[i].frames : null }));
  for (const m of messages) all.push(m);
  all.sort((a, b) => a.time - b.time);
  // per direction the order is the send order; the c2s/s2c interleaving by time is informative
  const manifest = all.map((m) => `${m.dir}\t${m.opcode}\t${m.len}\t${m.sha256}`);
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.map((l) => l + '\n').join(''));
  const expect = {
    scenario: 'h2-browser',
    stack: { browser: `headless ${ver} (--headless=new, --ignore-certificate-errors, SSLKEYLOGFILE)`, node: process.version, nghttp2: process.versions.nghttp2, openssl: process.versions.openssl, websocket_server: 'h2-wsframe.js (node zlib)' },
    url: `https://${host}:${port}/`,
    server_port: port,
    rfc8441: !!wsStream,
    streams: wsStream ? [{ name: 'echo', ...wsStream, request: wsStream.request, messages: { c2s: rep.sent.length, s2c: messages.length } }] : [],
    requests,
    controls,
    page: { log: rep.log, user_agent: rep.userAgent },
    messages: all,
  };
  fs.writeFileSync(expectPath, JSON.stringify(expect, null, 2) + '\n');
  console.error(`h2-browser: rfc8441=${!!wsStream} extensions=${JSON.stringify(wsStream && wsStream.request['sec-websocket-extensions'])} ${all.length} messages, requests ${requests.map((r) => r.method + ' ' + r.path + (r.protocol ? ' ' + r.protocol : '')).join(', ')}`);
  setTimeout(() => process.exit(bad ? 1 : 0), 100);
}

process.on('uncaughtException', (e) => { console.error('h2-browser: uncaught', e); finish(1); });
main().catch((e) => { console.error(e); finish(1); });
