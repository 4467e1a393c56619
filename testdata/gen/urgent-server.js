#!/usr/bin/env node
// The server of gen__ws-urgent (urgent.py drives it): a node `ws` 8.18.3
// server (perMessageDeflate off) that sends nothing but its Close and
// reports, per connection, what it actually read: every data message
// (opcode, length, SHA-256, time), the bytes its socket handed over after
// the upgrade (count and SHA-256), an error ws raised, and the Close codes.
// node, like Go, never sets SO_OOBINLINE: on Linux (tcp_stdurg 0) the byte
// an urgent pointer marks is taken out of the stream before read() sees it.
//
// usage: node urgent-server.js --port N
// Prints "listening" once ready, then one JSON line per connection as it
// closes.
'use strict';

const crypto = require('crypto');
const { WebSocketServer } = require('ws');
const { arg, now } = require('./common');

const port = Number(arg('port', '8080'));
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
wss.on('listening', () => console.log('listening'));
wss.on('connection', (ws, req) => {
  const got = { path: req.url, client_port: req.socket.remotePort, messages: [], error: null };
  const raw = [];
  // ws reads the socket with its own 'data' listener and unmasks in place:
  // this one, put before it, copies each chunk as the socket handed it over.
  ws._socket.prependListener('data', (b) => raw.push(Buffer.from(b)));
  ws.on('message', (data, isBinary) => {
    const b = Buffer.isBuffer(data) ? data : Buffer.concat(data);
    got.messages.push({ t: now(), opcode: isBinary ? 2 : 1, len: b.length, sha256: sha(b) });
  });
  ws.on('error', (e) => {
    got.error = { t: now(), message: e.message, code: e.code || null };
  });
  ws.on('close', (code, reason) => {
    const all = Buffer.concat(raw);
    got.read_bytes = all.length;
    got.read_sha256 = sha(all);
    got.close = { t: now(), code, reason: reason.toString() };
    console.log(JSON.stringify(got));
  });
});
process.on('SIGTERM', () => process.exit(0));
