#!/usr/bin/env node
// Application protocols over WebSocket, recorded with the real libraries, for
// wsdump's appproto fixtures (testdata/pcaps/gen__app-*.pcap).
//
// usage: node app-node.js --scenario S --port N [--broker-port N]
//                         --manifest OUT.messages.tsv --app OUT.app.tsv
//
// Scenarios:
//   stomp-rabbitmq           @stomp/stompjs 7 (ws) -> RabbitMQ Web-STOMP (--broker-port), deflate on
//   stomp-rabbitmq-nodeflate the same with perMessageDeflate: false
//   sockjs-stomp             stompjs 2.3.3 over sockjs-client -> npm sockjs server on --port,
//                            bridged to RabbitMQ's plain STOMP port (--broker-port)
//   socketio-ws              socket.io 4.8 server + client, transports: ['websocket']
//   socketio-upgrade         the same, polling first, then the upgrade to WebSocket
//   mqtt-v4                  aedes broker over ws + mqtt client, protocolVersion 4
//   mqtt-v5                  mosquitto (TCP, --broker-port) behind a ws bridge + mqtt client, protocolVersion 5
//   graphql-ws               graphql-ws server + client (graphql-transport-ws)
//   graphql-legacy           subscriptions-transport-ws server + client (graphql-ws)
//   jsonrpc                  ws server + client speaking JSON-RPC 2.0
//
// Every WebSocket data message is tapped at the CLIENT: what it sends (c2s)
// and what it receives (s2c), in order. The tap writes:
//   --manifest  dir opcode len sha256          (as ws-node.js; uncompressed payload)
//   --app       dir protocol type key len sha256
// The app manifest is made by decoding the tapped messages with the
// libraries' OWN parsers (@stomp/stompjs Parser, engine.io-parser,
// socket.io-parser, mqtt-packet, JSON.parse), not with wsdump's; the format
// is described in testdata/pcaps/PROVENANCE.md.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const net = require('net');

const { arg, sleep } = require('./common');
const scenario = arg('scenario', 'jsonrpc');
const port = Number(arg('port', '47200'));
const brokerPort = Number(arg('broker-port', '0'));
const manifestPath = arg('manifest', '/dev/null');
const appPath = arg('app', '/dev/null');
const host = '127.0.0.1';

// mulberry32, seeded: payloads are identical on every run.
const { prng } = require('./prng');
const rnd = prng(0x61707073); // "apps"
// The libraries' own randomness too (MQTT packet ids, SockJS server/session
// ids): seeded so manifests do not change between recordings.
Math.random = prng(0x77736470);
// Engine.IO session ids (base64id) come from crypto.randomBytes: seeded too.
// Masking keys (crypto.randomFillSync) stay random.
{
  const seeded = prng(0x73696473);
  const randomBytes = crypto.randomBytes;
  crypto.randomBytes = function (n, cb) {
    if (cb) return randomBytes.apply(this, arguments);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(seeded() * 256);
    return b;
  };
}
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_!?';
function text(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  return s;
}
function binary(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

// ---- the tap -------------------------------------------------------------

const tapped = []; // {dir, opcode, buf}
function toBuf(data) {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data.map(toBuf));
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(String(data), 'utf8');
}
function tap(dir, opcode, data) {
  tapped.push({ dir, opcode, buf: Buffer.from(toBuf(data)) });
}
// tapWs patches a `ws` WebSocket class (8.x or 7.x): client sockets only.
function tapWs(W) {
  const send = W.prototype.send;
  W.prototype.send = function (data, opts, cb) {
    if (!this._isServer && this.readyState === 1) {
      const bin = opts && typeof opts === 'object' && opts.binary !== undefined ? opts.binary : typeof data !== 'string';
      tap('c2s', bin ? 2 : 1, data);
    }
    return send.apply(this, arguments);
  };
  const emit = W.prototype.emit;
  W.prototype.emit = function (ev, data, isBinary) {
    if (ev === 'message' && !this._isServer) {
      const bin = isBinary !== undefined ? isBinary : typeof data !== 'string';
      tap('s2c', bin ? 2 : 1, data);
    }
    return emit.apply(this, arguments);
  };
}
// Libraries may bring their own copy of ws (npm nests other versions).
for (const m of ['ws', 'engine.io-client/node_modules/ws', 'subscriptions-transport-ws/node_modules/ws', 'mqtt/node_modules/ws']) {
  let W;
  try {
    W = require(require('path').join(__dirname, 'node_modules', m)); // a path: some packages' "exports" hide node_modules
  } catch (e) {
    continue; // not nested in this install
  }
  tapWs(W.WebSocket || W);
}
// faye-websocket (sockjs-client's driver in node): patch the client API.
{
  const faye = require('faye-websocket');
  const API = Object.getPrototypeOf(faye.Client.prototype);
  const send = API.send;
  API.send = function (data) {
    if (this instanceof faye.Client && this.readyState === 1) tap('c2s', Buffer.isBuffer(data) ? 2 : 1, data);
    return send.apply(this, arguments);
  };
  // sockjs 0.3.24 heartbeats with WebSocket pings when the driver has them,
  // and only otherwise with SockJS h frames (which other SockJS servers,
  // e.g. Spring's, always send): report pings unsupported on the server side
  // so the capture has h frames.
  const ping = API.ping;
  API.ping = function () {
    if (!(this instanceof faye.Client)) return false;
    return ping.apply(this, arguments);
  };
  const recv = API._receiveMessage;
  API._receiveMessage = function (data) {
    if (this instanceof faye.Client && this.readyState === 1) tap('s2c', Buffer.isBuffer(data) ? 2 : 1, data);
    return recv.apply(this, arguments);
  };
}

// ---- oracles: the libraries' own parsers ---------------------------------

const appLines = [];
function out(dir, protocol, type, key, body) {
  const b = body === undefined || body === null ? Buffer.alloc(0) : toBuf(body);
  appLines.push([dir, protocol, type, key || '-', b.length, sha(b)].join('\t'));
}
function kv(pairs) {
  const s = pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => `${k}=${v}`).join(',');
  return s || '-';
}

function stompOracle() {
  const { Parser } = require('@stomp/stompjs');
  const p = {};
  for (const dir of ['c2s', 's2c']) {
    p[dir] = new Parser(
      (f) => {
        const h = Object.fromEntries(f.headers.slice().reverse()); // first occurrence wins
        out(dir, 'stomp', f.command, kv([['destination', h.destination]]), Buffer.from(f.binaryBody));
      },
      () => out(dir, 'stomp', 'HEARTBEAT', '-', null),
    );
  }
  return (dir, opcode, buf) => p[dir].parseChunk(new Uint8Array(buf).buffer);
}

function sockjsOracle(inner) {
  return (dir, opcode, buf) => {
    const s = buf.toString('utf8');
    if (dir === 'c2s') {
      const arr = JSON.parse(s);
      out(dir, 'sockjs', 'a', kv([['n', arr.length]]), null);
      for (const m of arr) inner(dir, 1, Buffer.from(m, 'utf8'));
      return;
    }
    switch (s[0]) {
      case 'o': case 'h': out(dir, 'sockjs', s[0], '-', null); break;
      case 'c': out(dir, 'sockjs', 'c', kv([['code', JSON.parse(s.slice(1))[0]]]), null); break;
      case 'm': out(dir, 'sockjs', 'm', '-', null); inner(dir, 1, Buffer.from(JSON.parse(s.slice(1)), 'utf8')); break;
      case 'a': {
        const arr = JSON.parse(s.slice(1));
        out(dir, 'sockjs', 'a', kv([['n', arr.length]]), null);
        for (const m of arr) inner(dir, 1, Buffer.from(m, 'utf8'));
        break;
      }
      default: throw new Error('bad sockjs frame ' + s.slice(0, 20));
    }
  };
}

function socketioOracle() {
  const eio = require('engine.io-parser');
  const { Decoder, PacketType } = require('socket.io-parser');
  const dec = new Decoder();
  const names = Object.fromEntries(Object.entries(PacketType).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k]));
  const pending = { c2s: [0, 0], s2c: [0, 0] }; // [left, total] attachments
  return (dir, opcode, buf) => {
    if (opcode === 2) {
      const pa = pending[dir];
      out(dir, 'socketio', 'ATTACHMENT', kv([['n', pa[1] - pa[0] + 1]]), buf);
      pa[0]--;
      return;
    }
    const pk = eio.decodePacket(buf.toString('utf8'));
    if (pk.type !== 'message') {
      out(dir, 'engineio', pk.type, pk.data === 'probe' ? 'probe' : '-', pk.type === 'open' ? pk.data : null);
      return;
    }
    const p = dec.decodeString(pk.data);
    let event;
    if ((p.type === PacketType.EVENT || p.type === PacketType.BINARY_EVENT) && Array.isArray(p.data)) event = p.data[0];
    if (p.attachments) pending[dir] = [p.attachments, p.attachments];
    out(dir, 'socketio', names[p.type], kv([['nsp', p.nsp], ['event', event], ['id', p.id], ['attachments', p.attachments]]),
      p.data === undefined ? null : JSON.stringify(p.data));
  };
}

function mqttOracle(version) {
  const mp = require('mqtt-packet');
  const p = {};
  for (const dir of ['c2s', 's2c']) {
    p[dir] = mp.parser({ protocolVersion: version });
    p[dir].on('packet', (pk) => {
      let key;
      switch (pk.cmd) {
        case 'connect': key = kv([['client', pk.clientId], ['keepalive', pk.keepalive], ['v', pk.protocolVersion]]); break;
        case 'connack': key = kv([['rc', version === 5 ? pk.reasonCode : pk.returnCode]]); break;
        case 'publish': key = kv([['topic', pk.topic], ['qos', pk.qos], ['id', pk.qos > 0 ? pk.messageId : undefined]]); break;
        case 'subscribe': key = kv([['id', pk.messageId], ['topics', pk.subscriptions.map((s) => s.topic).join('|')]]); break;
        case 'unsubscribe': key = kv([['id', pk.messageId], ['topics', pk.unsubscriptions.join('|')]]); break;
        case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': case 'suback': case 'unsuback':
          key = kv([['id', pk.messageId]]); break;
        default: key = '-';
      }
      out(dir, 'mqtt', pk.cmd.toUpperCase(), key, pk.cmd === 'publish' ? pk.payload : null);
    });
    p[dir].on('error', (e) => { throw e; });
  }
  return (dir, opcode, buf) => p[dir].parse(buf);
}

function graphqlOracle(proto) {
  return (dir, opcode, buf) => {
    const m = JSON.parse(buf.toString('utf8'));
    out(dir, proto, m.type, kv([['id', m.id]]), m.payload === undefined ? null : JSON.stringify(m.payload));
  };
}

function jsonrpcOracle() {
  const methods = new Map();
  return (dir, opcode, buf) => {
    const m = JSON.parse(buf.toString('utf8'));
    for (const x of Array.isArray(m) ? m : [m]) {
      if (x.method !== undefined) {
        if (x.id !== undefined) methods.set(JSON.stringify(x.id), x.method);
        out(dir, 'jsonrpc', x.id === undefined ? 'notification' : 'request', kv([['id', x.id], ['method', x.method]]),
          x.params === undefined ? null : JSON.stringify(x.params));
      } else {
        const method = methods.get(JSON.stringify(x.id));
        out(dir, 'jsonrpc', x.error !== undefined ? 'error' : 'response', kv([['id', x.id], ['method', method]]),
          JSON.stringify(x.error !== undefined ? x.error : x.result));
      }
    }
  };
}

function writeManifests(oracle) {
  const lines = tapped.map((t) => `${t.dir}\t${t.opcode}\t${t.buf.length}\t${sha(t.buf)}\n`);
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + lines.join(''));
  for (const t of tapped) oracle(t.dir, t.opcode, t.buf);
  fs.writeFileSync(appPath, 'dir\tprotocol\ttype\tkey\tlen\tsha256\n' + appLines.map((l) => l + '\n').join(''));
  console.error(`[app-node] ${scenario}: ${tapped.length} ws messages, ${appLines.length} app messages`);
}

// ---- scenarios -----------------------------------------------------------

async function stompRabbit(deflate) {
  const { Client } = require('@stomp/stompjs');
  const { WebSocket } = require('ws');
  const received = [];
  let done;
  const finished = new Promise((r) => (done = r));
  const client = new Client({
    brokerURL: `ws://${host}:${brokerPort}/ws`,
    webSocketFactory: () => new WebSocket(`ws://${host}:${brokerPort}/ws`, ['v12.stomp', 'v11.stomp', 'v10.stomp'], { perMessageDeflate: deflate, skipUTF8Validation: true }),
    connectHeaders: { login: 'guest', passcode: 'guest', host: '/' },
    heartbeatIncoming: 1000,
    heartbeatOutgoing: 1000,
    reconnectDelay: 0,
    debug: process.env.APP_DEBUG ? (m) => console.error(m.slice(0, 200)) : () => {},
  });
  client.onConnect = async () => {
    client.subscribe('/topic/wsdump.a', (m) => received.push(m), { id: 'sub-a' });
    client.subscribe('/queue/wsdump-q', (m) => received.push(m), { id: 'sub-q', ack: 'client-individual' });
    await sleep(200);
    client.publish({ destination: '/topic/wsdump.a', body: 'hello stomp' });
    client.publish({ destination: '/topic/wsdump.a', body: text(300), headers: { 'content-type': 'text/plain', 'x-seq': '2' } });
    client.publish({ destination: '/queue/wsdump-q', body: text(20000) }); // > 16 KiB
    client.publish({ destination: '/topic/wsdump.a', binaryBody: binary(64), headers: { 'content-type': 'application/octet-stream' } });
    client.publish({ destination: '/topic/wsdump.a', body: 'colon:and\\backslash header', headers: { 'x-esc': 'a:b\\c' } });
    client.publish({ destination: '/topic/wsdump.a', body: '' });
    await sleep(500);
    for (const m of received) if (m.headers.subscription === 'sub-q') m.ack();
    await sleep(3500); // heart-beats both ways
    client.publish({ destination: '/topic/wsdump.a', body: 'last', headers: { receipt: 'r-last' } });
    await sleep(200);
    await client.deactivate();
    done();
  };
  client.activate();
  await finished;
  await sleep(300);
  writeManifests(stompOracle());
}

async function sockjsStomp() {
  const sockjs = require('sockjs');
  const SockJS = require('sockjs-client');
  const Stomp = require('stompjs');
  const srv = sockjs.createServer({ prefix: '/stomp', heartbeat_delay: 1000, log: () => {} });
  srv.on('connection', (conn) => {
    // bridge to RabbitMQ's plain STOMP listener
    const tcp = net.connect(brokerPort, host);
    tcp.setEncoding('utf8');
    tcp.on('data', (d) => conn.write(d));
    tcp.on('close', () => conn.close());
    conn.on('data', (d) => tcp.write(d));
    conn.on('close', () => tcp.end());
  });
  const httpServer = http.createServer();
  srv.installHandlers(httpServer);
  await new Promise((r) => httpServer.listen(port, host, r));

  const sock = new SockJS(`http://${host}:${port}/stomp`, null, { transports: ['websocket'] });
  const client = Stomp.over(sock);
  client.debug = null;
  client.heartbeat.outgoing = 1000;
  client.heartbeat.incoming = 0; // leaves the server idle, so SockJS sends its own h frames
  const got = [];
  await new Promise((resolve, reject) => client.connect({ login: 'guest', passcode: 'guest', host: '/' }, resolve, reject));
  client.subscribe('/topic/wsdump.sockjs', (m) => got.push(m), { id: 'sub-0' });
  await sleep(200);
  client.send('/topic/wsdump.sockjs', {}, 'hello over sockjs');
  client.send('/topic/wsdump.sockjs', { 'content-type': 'text/plain' }, text(40000)); // stompjs splits at 16 KiB
  client.send('/topic/wsdump.sockjs', {}, 'quote " and \\ and \n newline');
  await sleep(3000); // STOMP EOL beats and SockJS h frames
  await new Promise((r) => client.disconnect(r));
  await sleep(500);
  httpServer.close();
  writeManifests(sockjsOracle(stompOracle()));
}

async function socketio(upgrade) {
  const { Server } = require('socket.io');
  const { io } = require('socket.io-client');
  const httpServer = http.createServer();
  const server = new Server(httpServer, { pingInterval: 1000, pingTimeout: 2000, transports: ['polling', 'websocket'] });
  server.on('connection', (s) => {
    s.on('chat', (msg, ack) => { if (ack) ack({ ok: true, len: msg.length }); s.emit('chat', 'echo: ' + msg); });
    s.on('blob', (name, buf, ack) => { ack(buf.length); s.emit('blob', name + '-back', buf.subarray(0, 16), binary(32)); });
    s.on('ask', (ack) => ack('answer', 42));
  });
  server.of('/admin').on('connection', (s) => {
    s.emit('welcome', { role: 'admin', motd: text(50) });
    s.on('kick', (who) => s.emit('kicked', who));
  });
  await new Promise((r) => httpServer.listen(port, host, r));
  const url = `http://${host}:${port}`;
  const opts = upgrade ? { transports: ['polling', 'websocket'] } : { transports: ['websocket'] };
  const sock = io(url, opts);
  await new Promise((r) => sock.on('connect', r));
  if (upgrade && sock.io.engine.transport.name !== 'websocket') await new Promise((r) => sock.io.engine.once('upgrade', r));
  await sleep(100);
  const admin = io(url + '/admin', opts); // multiplexed on the same engine
  await new Promise((r) => admin.once('welcome', r));
  const next = (s, ev) => new Promise((r) => s.once(ev, r)); // listen before emitting
  let echo = next(sock, 'chat');
  await sock.emitWithAck('chat', 'hello socket.io');
  await echo;
  echo = next(sock, 'chat');
  sock.emit('chat', text(200));
  await echo;
  const back = next(sock, 'blob');
  await sock.emitWithAck('blob', 'pic', binary(1000));
  await back;
  await sock.emitWithAck('ask');
  const kicked = next(admin, 'kicked');
  admin.emit('kick', 'mallory');
  await kicked;
  await sleep(2500); // a few Engine.IO ping/pong
  admin.disconnect();
  await sleep(100);
  sock.disconnect();
  await sleep(300);
  server.close();
  writeManifests(socketioOracle());
}

// MQTT 3.1.1: the aedes broker handles the WebSocket stream itself.
// MQTT 5.0 (aedes has no 5.0): Debian's mosquitto 2.0 on --broker-port (TCP;
// Debian builds it without websockets) behind a ws <-> TCP bridge that
// relays bytes both ways, each TCP read becoming one binary message.
async function mqttScenario(version) {
  const { WebSocketServer, createWebSocketStream } = require('ws');
  const mqtt = require('mqtt');
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false, handleProtocols: (p) => (p.has('mqtt') ? 'mqtt' : false) });
  let broker;
  let mosquitto;
  if (version === 5) {
    const conf = require('path').join(require('os').tmpdir(), `wsdump-mosquitto-${process.pid}.conf`);
    fs.writeFileSync(conf, `listener ${brokerPort} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    mosquitto = require('child_process').spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      const up = await new Promise((r) => { const c = net.connect(brokerPort, host, () => { c.destroy(); r(true); }); c.on('error', () => r(false)); });
      if (up) break;
      await sleep(100);
    }
    wss.on('connection', (ws) => {
      const tcp = net.connect(brokerPort, host);
      tcp.on('data', (d) => ws.send(d));
      tcp.on('close', () => ws.close());
      ws.on('message', (d) => tcp.write(d));
      ws.on('close', () => tcp.end());
    });
  } else {
    const { Aedes } = require('aedes');
    broker = await Aedes.createBroker();
    wss.on('connection', (ws) => broker.handle(createWebSocketStream(ws)));
  }
  await new Promise((r) => httpServer.listen(port, host, r));
  const client = mqtt.connect(`ws://${host}:${port}/mqtt`, {
    protocolVersion: version, clientId: 'wsdump-' + version, keepalive: 1, reconnectPeriod: 0, clean: true,
    wsOptions: { perMessageDeflate: false },
  });
  await new Promise((r, j) => { client.on('connect', r); client.on('error', j); });
  await client.subscribeAsync({ 'wsdump/a': { qos: 0 }, 'wsdump/b/#': { qos: 2 } });
  const got = [];
  client.on('message', (t, p) => got.push([t, p]));
  await client.publishAsync('wsdump/a', 'hello mqtt qos0', { qos: 0 });
  await client.publishAsync('wsdump/b/1', text(500), { qos: 1 });
  await client.publishAsync('wsdump/b/2', binary(100), { qos: 2 });
  await client.publishAsync('wsdump/b/big', text(70000), { qos: 1 }); // remaining length in 3 bytes
  await client.publishAsync('wsdump/c', 'retained', { qos: 1, retain: true });
  await sleep(2500); // keepalive 1 s: PINGREQ / PINGRESP
  await client.unsubscribeAsync('wsdump/a');
  await client.endAsync();
  await sleep(300);
  if (broker) await new Promise((r) => broker.close(r));
  if (mosquitto) mosquitto.kill();
  httpServer.close();
  writeManifests(mqttOracle(version));
}

function graphqlSchema() {
  const { buildSchema } = require('graphql');
  const schema = buildSchema('type Query { hello(name: String): String } type Subscription { tick(n: Int): Int }');
  const roots = {
    hello: ({ name }) => 'hello ' + name,
    tick: async function* ({ n }) { for (let i = 1; i <= n; i++) { await sleep(50); yield { tick: i }; } },
  };
  return { schema, roots };
}

async function graphqlWs() {
  const { WebSocketServer, WebSocket } = require('ws');
  const { useServer } = require('graphql-ws/use/ws');
  const { createClient } = require('graphql-ws');
  const { schema, roots } = graphqlSchema();
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql', perMessageDeflate: false });
  useServer({ schema, roots: { query: roots, subscription: roots } }, wss);
  await new Promise((r) => httpServer.listen(port, host, r));
  let n = 0;
  const client = createClient({
    url: `ws://${host}:${port}/graphql`, webSocketImpl: WebSocket, keepAlive: 500,
    generateID: () => 'op-' + ++n, connectionParams: { token: 'seeded-token' }, lazy: false,
  });
  await new Promise((r) => client.on('connected', r));
  const q = client.iterate({ query: 'query Q($n: String) { hello(name: $n) }', variables: { n: 'wsdump' } });
  for await (const r of q) void r;
  const sub = client.iterate({ query: 'subscription { tick(n: 3) }' });
  for await (const r of sub) void r;
  await sleep(1200); // keep-alive pings
  await client.dispose();
  await sleep(300);
  httpServer.close();
  writeManifests(graphqlOracle('graphql-transport-ws'));
}

async function graphqlLegacy() {
  const { SubscriptionServer, SubscriptionClient } = require('subscriptions-transport-ws');
  const W = require('subscriptions-transport-ws/node_modules/ws');
  const { execute, subscribe, parse } = require('graphql');
  const { schema, roots } = graphqlSchema();
  const httpServer = http.createServer();
  await new Promise((r) => httpServer.listen(port, host, r));
  SubscriptionServer.create({ schema, execute, subscribe, rootValue: roots, keepAlive: 500 }, { server: httpServer, path: '/subscriptions' });
  const client = new SubscriptionClient(`ws://${host}:${port}/subscriptions`, { reconnect: false, connectionParams: { token: 'seeded-token' } }, W);
  await new Promise((r) => client.onConnected(r));
  await new Promise((r) => client.request({ query: 'query { hello(name: "legacy") }' }).subscribe({ next: () => {}, complete: r, error: r }));
  await new Promise((r) => client.request({ query: 'subscription { tick(n: 3) }' }).subscribe({ next: () => {}, complete: r, error: r }));
  await sleep(1200);
  client.close();
  await sleep(300);
  httpServer.close();
  void parse;
  writeManifests(graphqlOracle('graphql-ws'));
}

async function jsonrpc() {
  const { WebSocketServer, WebSocket } = require('ws');
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.on('message', async (data) => {
      const handle = async (m) => {
        if (m.id === undefined) return null;
        await sleep(m.method === 'slow' ? 120 : 5);
        switch (m.method) {
          case 'sum': return { jsonrpc: '2.0', id: m.id, result: m.params.reduce((a, b) => a + b, 0) };
          case 'echo': case 'slow': return { jsonrpc: '2.0', id: m.id, result: m.params };
          default: return { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } };
        }
      };
      const m = JSON.parse(data.toString());
      if (Array.isArray(m)) {
        ws.send(JSON.stringify((await Promise.all(m.map(handle))).filter((x) => x)));
      } else {
        const r = await handle(m);
        if (r) ws.send(JSON.stringify(r));
      }
    });
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'server.hello', params: { version: '1.0' } }));
  });
  await new Promise((r) => httpServer.listen(port, host, r));
  const ws = new WebSocket(`ws://${host}:${port}/rpc`, { perMessageDeflate: false });
  const replies = [];
  ws.on('message', (d) => replies.push(d));
  await new Promise((r) => ws.on('open', r));
  const send = (o) => ws.send(JSON.stringify(o));
  send({ jsonrpc: '2.0', id: 1, method: 'sum', params: [1, 2, 3] });
  send({ jsonrpc: '2.0', id: 'abc', method: 'echo', params: { s: text(40) } });
  send({ jsonrpc: '2.0', method: 'log', params: ['notification'] });
  send({ jsonrpc: '2.0', id: 3, method: 'slow', params: [] });
  send({ jsonrpc: '2.0', id: 4, method: 'nope' });
  send([{ jsonrpc: '2.0', id: 5, method: 'sum', params: [10, 20] }, { jsonrpc: '2.0', id: 6, method: 'echo', params: ['x'] }]);
  while (replies.length < 6) await sleep(20);
  ws.close(1000, 'done');
  await sleep(300);
  httpServer.close();
  for (const c of wss.clients) c.terminate();
  writeManifests(jsonrpcOracle());
}

const scenarios = {
  'stomp-rabbitmq': () => stompRabbit(true),
  'stomp-rabbitmq-nodeflate': () => stompRabbit(false),
  'sockjs-stomp': sockjsStomp,
  'socketio-ws': () => socketio(false),
  'socketio-upgrade': () => socketio(true),
  'mqtt-v4': () => mqttScenario(4),
  'mqtt-v5': () => mqttScenario(5),
  'graphql-ws': graphqlWs,
  'graphql-legacy': graphqlLegacy,
  jsonrpc,
};
if (!scenarios[scenario]) {
  console.error('unknown scenario ' + scenario);
  process.exit(2);
}
scenarios[scenario]().then(
  () => process.exit(0),
  (e) => { console.error(e); process.exit(1); },
);
