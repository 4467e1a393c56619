#!/usr/bin/env node
// STOMP 1.2 with 1 s heart-beats through RabbitMQ Web-STOMP, client
// @stomp/stompjs 7 over node `ws` 8 (perMessageDeflate off), for wsdump's
// `conns` fixture gen__health-stomp (see record.sh, which runs the broker).
//
// usage: node health-stomp.js --url ws://127.0.0.1:15690/ws
//                             --manifest OUT.messages.tsv --expect OUT.expect.json
//
// Session: CONNECT with heart-beat 1000,1000; SUBSCRIBE /queue/wsdump-health;
// three SENDs that come back as MESSAGEs; then 6 s of silence in which only
// heart-beats (EOL frames, a text message "\n") flow both ways; then
// DISCONNECT, to which RabbitMQ 3.10 answers by closing the WebSocket itself
// (1000 "STOMP died"). The manifest records every message the client sent
// and received through the WebSocket (so it includes the broker's frames,
// whose session id changes from run to run); the expect file counts the
// heart-beats each way and gives the negotiated intervals.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const { WebSocket } = require('ws');
const { Client } = require('@stomp/stompjs');

const { arg, sleep } = require('./common');
const url = arg('url', 'ws://127.0.0.1:15690/ws');
const manifestPath = arg('manifest', '/dev/null');
const expectPath = arg('expect', '/dev/null');
setTimeout(() => { console.error('health-stomp: timeout'); process.exit(1); }, 40000);

const manifest = [];
const beats = { c2s: 0, s2c: 0 };
let connected = '';
let initiator = 'server'; // unless the client's Close went first
let closeCode = null; // the code in the Close frame the client received
let closeReason = '';
let bothCloses = false;
function record(dir, data, isBinary) {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (!isBinary && (b.toString() === '\n' || b.toString() === '\r\n')) beats[dir]++;
  if (!isBinary && b.toString().startsWith('CONNECTED')) connected = b.toString();
  const sha = crypto.createHash('sha256').update(b).digest('hex');
  manifest.push(`${dir}\t${isBinary ? 2 : 1}\t${b.length}\t${sha}`);
}

const client = new Client({
  heartbeatIncoming: 1000,
  heartbeatOutgoing: 1000,
  reconnectDelay: 0,
  connectHeaders: { login: 'guest', passcode: 'guest', host: '/' },
  webSocketFactory: () => {
    const ws = new WebSocket(url, ['v12.stomp', 'v11.stomp', 'v10.stomp'], { perMessageDeflate: false });
    const send = ws.send.bind(ws);
    ws.send = (data, ...rest) => { record('c2s', data, typeof data !== 'string'); return send(data, ...rest); };
    const close = ws.close.bind(ws);
    ws.close = (code, reason) => {
      if (!ws._closeFrameReceived && ws.readyState === WebSocket.OPEN) initiator = 'client';
      return close(code, reason);
    };
    ws.on('message', (data, isBinary) => record('s2c', data, isBinary));
    ws.on('close', (code, reason) => {
      closeCode = code;
      closeReason = reason.toString();
      bothCloses = ws._closeFrameSent && ws._closeFrameReceived;
      setTimeout(done, 200);
    });
    return ws;
  },
});

client.onConnect = async () => {
  let got = 0;
  client.subscribe('/queue/wsdump-health', () => { got++; });
  for (let i = 1; i <= 3; i++) client.publish({ destination: '/queue/wsdump-health', body: `tick ${i}` });
  await sleep(6000);
  if (got !== 3) console.error(`health-stomp: got ${got} of 3 messages`);
  await client.deactivate();
};
client.onStompError = (f) => { console.error('STOMP error', f.headers.message); process.exit(1); };

let finished = false;
function done() {
  if (finished) return;
  finished = true;
  const hb = /\nheart-beat:(\d+),(\d+)/.exec(connected);
  // CONNECTED heart-beat:sx,sy: the broker beats every max(sx, cy) ms and
  // expects beats every max(cx, sy) ms (STOMP 1.2, "Heart-beating").
  const sx = hb ? Number(hb[1]) : 0;
  const sy = hb ? Number(hb[2]) : 0;
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.map((l) => l + '\n').join(''));
  fs.writeFileSync(expectPath, JSON.stringify({
    scenario: 'stomp',
    heartbeat_text: '\\r?\\n',
    interval: 1.0,
    conns: [{
      status: 101, subprotocol: 'v12.stomp', end: bothCloses ? 'clean' : 'close_unanswered',
      initiator, close_code: closeCode, close_reason: closeReason,
      connected_heart_beat: hb ? hb[0].trim() : null,
      negotiated: { c2s: Math.max(1000, sy) / 1000, s2c: sx ? Math.max(sx, 1000) / 1000 : 0 },
      text_beats: beats,
    }],
  }, null, 2) + '\n');
  process.exit(0);
}
client.activate();
