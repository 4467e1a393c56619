#!/usr/bin/env node
// Connection-health scenarios between a node `ws` 8 server and client in one
// process, for wsdump's `conns` fixtures (testdata/pcaps/gen__health-*).
//
// usage: node health-node.js --scenario SCENARIO --host 127.0.0.1 --port N
//                            --manifest OUT.messages.tsv --expect OUT.expect.json
//
// Scenarios (perMessageDeflate off everywhere):
//   text-ping  the browser-stack heartbeat scaled down from 10 s: the client
//              sends a text "ping" every 1 s and the server answers "pong"
//              to the first 5 only; when 4 pings are outstanding the client
//              closes with 4000 "heartbeat timeout" (the server echoes it).
//   ws-ping    the client sends a WebSocket Ping ("hb-N") every 500 ms;
//              the server (autoPong: false) pongs the first 6 and then
//              ignores pings; with 4 outstanding the client gives up with
//              ws.terminate(): TCP FIN, no Close frame.
//   reconnect  the client retries with exponential backoff (100, 200, 400,
//              800, 1600 ms after each close): attempts 1-3 get "403
//              Forbidden" to the upgrade, 4-5 are upgraded then closed by the
//              server with 1013 "try again later", 6 succeeds, exchanges two
//              messages and closes with 1000.
//   rst        a few messages, then the server kills the connection with
//              socket.resetAndDestroy() (SO_LINGER 0: TCP RST, no Close).
//
// The manifest lists every data message in send order (dir opcode len
// sha256), like ws-node.js; the expect file states what the generator
// knows happened, for cmd/wsdump's conns tests.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const { arg, sleep } = require('./common');
const scenario = arg('scenario', 'text-ping');
const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '47400'));
const manifestPath = arg('manifest', '/dev/null');
const expectPath = arg('expect', '/dev/null');
const url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}/health/${scenario}`;

const manifest = [];
function record(dir, opcode, payload) {
  const sha = crypto.createHash('sha256').update(payload).digest('hex');
  manifest.push(`${dir}\t${opcode}\t${payload.length}\t${sha}`);
}
function send(ws, dir, s) {
  const payload = Buffer.from(s, 'utf8');
  record(dir, 1, payload);
  ws.send(payload, { binary: false });
}
function finish(expect) {
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.map((l) => l + '\n').join(''));
  fs.writeFileSync(expectPath, JSON.stringify({ scenario, ...expect }, null, 2) + '\n');
  setTimeout(() => process.exit(0), 300);
}
setTimeout(() => { console.error('health-node: timeout'); process.exit(1); }, 40000);

// Every connection runs on its own server so the scenario decides all.
function listen(opts, onConn) {
  const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, ...opts });
  server.on('upgrade', (req, socket, head) => onConn(req, socket, head, wss));
  return new Promise((r) => server.listen(port, host, () => r(server)));
}
function client(opts) {
  return new WebSocket(url, { perMessageDeflate: false, ...opts });
}

async function textPing() {
  const ANSWER = 5;
  let pongs = 0;
  let pings = 0;
  await listen({}, (req, socket, head, wss) => wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', (data) => {
      const s = data.toString();
      if (s === 'ping') {
        if (pongs < ANSWER) { pongs++; send(ws, 's2c', 'pong'); }
      } else {
        send(ws, 's2c', 'echo ' + s);
      }
    });
  }));
  const ws = client();
  let outstanding = 0;
  ws.on('message', (data) => { if (data.toString() === 'pong') outstanding = 0; });
  ws.on('open', () => {
    for (const s of ['{"op":"subscribe","topic":"prices"}', '{"op":"hello"}']) send(ws, 'c2s', s);
    const t = setInterval(() => {
      if (outstanding >= 4) {
        clearInterval(t);
        ws.close(4000, 'heartbeat timeout');
        return;
      }
      pings++;
      outstanding++;
      send(ws, 'c2s', 'ping');
    }, 1000);
  });
  ws.on('close', (code, reason) => finish({
    heartbeat_text: 'ping|pong',
    interval: 1.0,
    conns: [{
      status: 101, end: 'clean', initiator: 'client', close_code: 4000, close_reason: 'heartbeat timeout',
      echoed_code: code, echoed_reason: reason.toString(),
      text_beats: { c2s: pings, s2c: pongs }, unanswered_beats: pings - pongs,
    }],
  }));
}

async function wsPing() {
  const ANSWER = 6;
  let pongs = 0;
  let pings = 0;
  await listen({ autoPong: false }, (req, socket, head, wss) => wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('ping', (data) => { if (pongs < ANSWER) { pongs++; ws.pong(data); } });
    ws.on('message', (data) => send(ws, 's2c', 'echo ' + data.toString()));
  }));
  const ws = client();
  const outstanding = new Set();
  ws.on('pong', (data) => outstanding.delete(data.toString()));
  ws.on('open', () => {
    send(ws, 'c2s', 'hello');
    const t = setInterval(() => {
      if (outstanding.size >= 4) {
        clearInterval(t);
        ws.terminate();
        return;
      }
      const p = 'hb-' + ++pings;
      outstanding.add(p);
      ws.ping(p);
    }, 500);
  });
  ws.on('close', () => finish({
    interval: 0.5,
    conns: [{
      status: 101, end: 'fin_without_close',
      pings: { c2s: { sent: pings, answered: pongs, unanswered: pings - pongs } },
    }],
  }));
}

async function reconnect() {
  const plan = ['403', '403', '403', '1013', '1013', 'ok'];
  const delays = [100, 200, 400, 800, 1600];
  let n = 0; // upgrades seen by the server
  await listen({}, (req, socket, head, wss) => {
    const what = plan[n++];
    if (what === '403') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 14\r\nConnection: close\r\n\r\ntoo many users');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (what === '1013') { ws.close(1013, 'try again later'); return; }
      ws.on('message', (data) => send(ws, 's2c', 'echo ' + data.toString()));
    });
  });
  let attempt = 0;
  const connect = () => {
    attempt++;
    const ws = client();
    ws.on('error', () => {});
    ws.on('open', () => {
      if (plan[attempt - 1] !== 'ok') return;
      send(ws, 'c2s', 'hello after ' + attempt + ' attempts');
      send(ws, 'c2s', '{"op":"subscribe"}');
      setTimeout(() => ws.close(1000, 'done'), 300);
    });
    ws.on('close', () => {
      if (attempt < plan.length) setTimeout(connect, delays[attempt - 1]);
      else finish({
        conns: plan.map((p) => p === '403' ? { status: 403, end: 'not_upgraded' }
          : p === '1013' ? { status: 101, end: 'clean', initiator: 'server', close_code: 1013, close_reason: 'try again later' }
            : { status: 101, end: 'clean', initiator: 'client', close_code: 1000, close_reason: 'done' }),
        groups: [{
          attempts: plan.length, refused: 3, errors: 2,
          outcomes: ['refused', 'refused', 'refused', 'error', 'error', 'ok'],
          delays: delays.map((d) => d / 1000), backoff: 'exponential', storm: true,
        }],
      });
    });
  };
  connect();
}

async function rst() {
  await listen({}, (req, socket, head, wss) => wss.handleUpgrade(req, socket, head, async (ws) => {
    ws.on('message', (data) => send(ws, 's2c', 'echo ' + data.toString()));
    await sleep(400);
    ws._socket.resetAndDestroy();
  }));
  const ws = client();
  ws.on('error', () => {});
  ws.on('open', () => { send(ws, 'c2s', 'one'); send(ws, 'c2s', 'two'); });
  ws.on('close', (code) => finish({
    conns: [{ status: 101, end: 'rst_without_close', rst_from: 'server', client_saw_code: code }],
  }));
}

({ 'text-ping': textPing, 'ws-ping': wsPing, reconnect, rst })[scenario]().catch((e) => {
  console.error(e);
  process.exit(1);
});
