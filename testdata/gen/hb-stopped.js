#!/usr/bin/env node
// A STOMP-over-SockJS server that stops beating while its connection stays
// open: the server process is SIGSTOPped mid-session (a frozen gateway, a
// stop-the-world pause) and the capture runs on, kept going by another,
// healthy session. Nobody closes anything. Used for
// testdata/pcaps/gen__hb-stopped (wsdump judges a connection open at the
// capture's end to the capture's end, not to its last byte).
//
// usage: node hb-stopped.js --port P --pcap OUT.pcap --manifest OUT.messages.tsv --expect OUT.expect.json
//        node hb-stopped.js --serve --port P   (a server process)
//
// It runs tcpdump itself (as root: -i lo, tcp ports P and P+1), so that the
// capture stops while both connections are still open: the clients and the
// servers are killed only after tcpdump has exited, and their FIN or RST is
// not in the capture.
//
// Two server processes, "stopped" on port P and "healthy" on P+1, are the
// npm `sockjs` 0.3.24 server on http://127.0.0.1:PORT/stomp answering STOMP
// itself (as seed-fork.js): CONNECT is answered `CONNECTED version:1.2
// heart-beat:2000,2000` and from then on the server writes a STOMP
// heart-beat (an EOL, in a SockJS `a` frame) every 2 s, when the client
// wants them; SUBSCRIBE and SEND are taken silently.
//
// The clients are the user's stack (/work/shared/SEED-SCENARIO.md): stompjs
// 2.3.3 `Stomp.over(new SockJS(url))`, sockjs-client 1.6.1, in this process.
//   - "stopped": heart-beat 0,2000 (it wants the server's beats every 2 s and
//     sends none) and no application ping; stompjs's own check of the
//     server's beats (it closes the WebSocket after 2 intervals of silence)
//     is cleared in the connect callback: a client that does not notice the
//     server is gone. At its CONNECTED + --before (10 s) its server is
//     SIGSTOPped: from then on nothing flows on that connection.
//   - "healthy": heart-beat 2000,2000 and the seed's application heartbeat,
//     `stompClient.send("ping")`, every 5 s, against the other server.
// --after (35 s) after the SIGSTOP the healthy session is quietened (its
// client's timers cleared, its server SIGSTOPped too) and 2.5 s later
// tcpdump is stopped (SIGINT), so that every message is in the capture;
// then everything is killed.
//
// --manifest gets every WebSocket data message the clients sent and received
// (dir opcode len sha256, in the order the clients saw them); --expect
// what happened with epoch times (float seconds, ms precision), per
// connection: its server port, CONNECTED, every beat (server EOLs received,
// client EOLs and pings sent); the SIGSTOP; tcpdump's start and stop.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const { spawn } = require('child_process');

const { arg, now, sleep } = require('./common');
const host = '127.0.0.1';
const port = Number(arg('port', '47370'));

// ---- the server process ---------------------------------------------------

if (process.argv.includes('--serve')) {
  const faye = require('faye-websocket');
  const API = Object.getPrototypeOf(faye.Client.prototype);
  API.ping = function () {
    return false; // no WebSocket pings: sockjs sends SockJS h frames (every 25 s) instead
  };
  const sockjs = require('sockjs');
  const srv = sockjs.createServer({ prefix: '/stomp', log: () => {} });
  srv.on('connection', (conn) => {
    let buf = '';
    let beat = null;
    conn.on('close', () => clearInterval(beat));
    conn.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\0')) >= 0) {
        const frame = buf.slice(0, i).replace(/^\n+/, '');
        buf = buf.slice(i + 1).replace(/^\n+/, '');
        const cmd = frame.split('\n', 1)[0];
        if (cmd !== 'CONNECT' && cmd !== 'STOMP') continue; // SUBSCRIBE, SEND: taken
        conn.write('CONNECTED\nversion:1.2\nheart-beat:2000,2000\n\n\0');
        clearInterval(beat);
        const hb = /\nheart-beat:(\d+),(\d+)/.exec(frame);
        if (hb && Number(hb[2]) > 0) beat = setInterval(() => conn.write('\n'), Math.max(2000, Number(hb[2])));
      }
      buf = buf.replace(/^\n+/, ''); // the client's heart-beats
    });
  });
  const server = http.createServer();
  srv.installHandlers(server);
  server.listen(port, host, () => process.stdout.write('listening\n'));
  return;
}

// ---- the client -------------------------------------------------------------

const pcapPath = arg('pcap', '/dev/null');
const manifestPath = arg('manifest', '/dev/null');
const expectPath = arg('expect', '/dev/null');
const BEFORE = Number(arg('before', '10'));
const AFTER = Number(arg('after', '35'));
const names = { [port]: 'stopped', [port + 1]: 'healthy' };

const { prng } = require('./prng');
Math.random = prng(0x73746f70); // "stop": SockJS server and session ids

const ex = {
  scenario: 'hb-stopped',
  stack: {
    client: 'stompjs 2.3.3 Stomp.over(new SockJS(url)), sockjs-client 1.6.1 (node, faye-websocket driver), its check of the server beats cleared; stopped: heart-beat 0,2000, no ping; healthy: heart-beat 2000,2000, SEND ping every 5 s',
    server: 'npm sockjs 0.3.24 answering STOMP itself: CONNECTED heart-beat:2000,2000, an EOL every 2 s; stopped: SIGSTOPped mid-session',
  },
  conns: {
    stopped: { server_port: port, heart_beat_sent: '0,2000', negotiated: { c2s: 0, s2c: 2 }, ping_period: null, server: [], beats: [], messages: { c2s: 0, s2c: 0 } },
    healthy: { server_port: port + 1, heart_beat_sent: '2000,2000', negotiated: { c2s: 2, s2c: 2 }, ping_period: 5, server: [], beats: [], messages: { c2s: 0, s2c: 0 } },
  },
};
// beats: {dir, kind: stomp-eol | SEND ping, time}

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
      const c = this._wsdumpName;
      manifest.push(['c2s', Buffer.isBuffer(data) ? 2 : 1, b.length, sha(b)].join('\t'));
      ex.conns[c].messages.c2s++;
      const s = b.toString();
      if (s === '["\\n"]') ex.conns[c].beats.push({ dir: 'c2s', kind: 'stomp-eol', time: now() });
      else if (s.startsWith('["SEND\\ndestination:ping')) ex.conns[c].beats.push({ dir: 'c2s', kind: 'SEND ping', time: now() });
    }
    return send.apply(this, arguments);
  };
  const Hybi = require('websocket-driver/lib/websocket/driver/hybi');
  const emitMessage = Hybi.prototype._emitMessage;
  Hybi.prototype._emitMessage = function () {
    const m = this._message;
    const r = emitMessage.apply(this, arguments);
    const b = m.read();
    const c = this._wsdumpName;
    manifest.push(['s2c', m.opcode === 2 ? 2 : 1, b.length, sha(b)].join('\t'));
    ex.conns[c].messages.s2c++;
    if (b.toString() === 'a["\\n"]') ex.conns[c].beats.push({ dir: 's2c', kind: 'stomp-eol', time: now() });
    return r;
  };
  const drv = require.resolve('sockjs-client/lib/transport/driver/websocket');
  const Client = require(drv);
  require.cache[drv].exports = function (url, protocols, options) {
    const ws = new Client(url, protocols, options);
    const name = names[new URL(url).port];
    ws._wsdumpName = name;
    ws._driver._wsdumpName = name;
    ws.on('open', () => { ex.conns[name].lport = ws._stream && ws._stream.localPort; });
    ws.on('close', (e) => { ex.conns[name].closed = { time: now(), code: e.code }; });
    return ws;
  };
}

const servers = [];
let tcpdump = null;
function startServer(name) {
  const p = ex.conns[name].server_port;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--serve', '--port', String(p)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d) => {
      if (String(d).includes('listening')) {
        ex.conns[name].server.push({ event: 'start', time: now(), pid: child.pid });
        resolve(child);
      }
    });
    child.on('exit', (code, sig) => { if (code) reject(new Error('server exited ' + code + ' ' + sig)); });
    servers.push(child);
  });
}

function startTcpdump() {
  return new Promise((resolve, reject) => {
    const t = spawn('tcpdump', ['-i', 'lo', '-B', '16384', '-s', '0', '-Z', 'root', '-w', pcapPath, `tcp port ${port} or tcp port ${port + 1}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    t.stderr.on('data', (d) => {
      err += d;
      if (err.includes('listening on')) resolve(t);
    });
    t.on('exit', (code) => reject(new Error('tcpdump exited ' + code + ': ' + err)));
    tcpdump = t;
    tcpdump.err = () => err;
  });
}

const SockJS = require('sockjs-client');
const Stomp = require('stompjs');

// connect runs the seed's connect for one of the clients.
function connect(name) {
  const c = ex.conns[name];
  return new Promise((resolve, reject) => {
    const stompClient = Stomp.over(new SockJS(`http://${host}:${c.server_port}/stomp`));
    stompClient.debug = null;
    stompClient.heartbeat.outgoing = Number(c.heart_beat_sent.split(',')[0]);
    stompClient.heartbeat.incoming = Number(c.heart_beat_sent.split(',')[1]);
    stompClient.connect({}, function (frame) {
      c.connected = now();
      c.heart_beat = frame.headers['heart-beat'];
      clearInterval(stompClient.ponger); // see the top: the server's silence goes unnoticed
      if (c.ping_period) c.pinger = setInterval(() => stompClient.send('ping'), c.ping_period * 1000);
      c.client = stompClient;
      stompClient.subscribe('/some/destination', () => {});
      resolve();
    }, (e) => reject(new Error(String(e))));
  });
}

async function main() {
  setTimeout(() => { console.error('hb-stopped: timeout'); process.exit(1); }, (BEFORE + AFTER + 60) * 1000).unref();
  await startTcpdump();
  ex.capture_start = now();
  const stopped = await startServer('stopped');
  const healthy = await startServer('healthy');
  await sleep(300);
  await connect('healthy');
  await sleep(500);
  await connect('stopped');
  const c = ex.conns.stopped;
  await sleep(Math.max(0, (c.connected + BEFORE - now()) * 1000));
  stopped.kill('SIGSTOP');
  c.server.push({ event: 'SIGSTOP', time: now() });
  await sleep(AFTER * 1000);
  // Quiet before tcpdump stops, so that every message is in the capture
  // (its ring hands packets over late: REAL-TRAFFIC.md): the healthy
  // client's timers cleared and its server stopped 2.5 s before, less than
  // 1.5 intervals of 2 s.
  const h = ex.conns.healthy;
  clearInterval(h.pinger);
  clearInterval(h.client.pinger);
  healthy.kill('SIGSTOP');
  h.server.push({ event: 'SIGSTOP', time: now() });
  ex.quiet = now();
  await sleep(2500);
  ex.capture_stop = now();
  tcpdump.removeAllListeners('exit'); // its exit is no failure now
  const exited = new Promise((r) => tcpdump.once('exit', r));
  tcpdump.kill('SIGINT');
  await Promise.race([exited, sleep(5000)]);
  const m = /(\d+) packets? dropped by kernel/.exec(tcpdump.err());
  ex.tcpdump_dropped = m ? Number(m[1]) : null;
  for (const s of servers) s.kill('SIGKILL');
  finish();
}

function finish() {
  for (const c of Object.values(ex.conns)) {
    delete c.client;
    delete c.pinger;
    const times = (dir, kind) => c.beats.filter((b) => b.dir === dir && b.kind === kind).map((b) => b.time);
    const s2c = times('s2c', 'stomp-eol');
    c.summary = {
      s2c_stomp_eol: s2c.length,
      s2c_last_beat: s2c.length ? s2c[s2c.length - 1] : null,
      c2s_stomp_eol: times('c2s', 'stomp-eol').length,
      c2s_send_ping: times('c2s', 'SEND ping').length,
      silent_before_capture_stop: s2c.length ? Math.round((ex.capture_stop - s2c[s2c.length - 1]) * 1000) / 1000 : null,
      closed: c.closed || null,
    };
  }
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.map((l) => l + '\n').join(''));
  fs.writeFileSync(expectPath, JSON.stringify(ex, null, 2) + '\n');
  process.exit(0);
}

process.on('exit', () => {
  for (const s of servers) if (s.exitCode === null) s.kill('SIGKILL');
  if (tcpdump && tcpdump.exitCode === null) tcpdump.kill('SIGINT');
});
main().catch((e) => { console.error(e); process.exit(1); });
