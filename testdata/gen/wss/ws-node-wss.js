#!/usr/bin/env node
// A node `ws` server on `https` and a node `ws` client in one process, over
// TLS 1.3, writing the NSS key log from the server's 'keylog' event.
//
// usage: node ws-node-wss.js --host 127.0.0.1 --port N --cert DIR
//          --keylog OUT.keys --manifest OUT.messages.tsv [--ciphersuites TLS_...]
//
// DIR holds cert.pem and key.pem (`wss -gencert DIR`), a self-signed
// certificate for wsdump.test, sent as SNI; the client offers ALPN http/1.1.
// Without --ciphersuites (given to both ends as `ciphers`) OpenSSL's TLS 1.3 default picks
// TLS_AES_256_GCM_SHA384; --ciphersuites restricts both ends (e.g.
// TLS_CHACHA20_POLY1305_SHA256). perMessageDeflate is off. The server sends
// two NewSessionTickets after the handshake (OpenSSL's default).
//
// Manifest: one line per data message sent (dir opcode len sha256).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const path = require('path');
const { WebSocketServer, WebSocket } = require('ws');

const { arg } = require('../common');
const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '8443'));
const certDir = arg('cert', '.');
const keylogPath = arg('keylog', '/dev/null');
const manifestPath = arg('manifest', '/dev/null');
const ciphersuites = arg('ciphersuites', undefined);

const { prng } = require('../prng'); // mulberry32, seeded
const rnd = prng(0x777373); // "wss"
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

const manifest = [];
function send(ws, dir, opcode, payload) {
  const sha = crypto.createHash('sha256').update(payload).digest('hex');
  manifest.push(`${dir}\t${opcode}\t${payload.length}\t${sha}\n`);
  ws.send(payload, { binary: opcode === 2, fin: true });
}

// c2s: empty text, short text, 126-byte binary, 17000-byte text (two TLS
// records), 3-frame fragmented binary; s2c: 1-byte text, 50000-byte binary,
// UTF-8 text, "done".
const c2s = [
  [1, text(0)],
  [1, Buffer.from('hello from node over wss')],
  [2, binary(126)],
  [1, text(17000)],
];
const c2sFragments = [binary(100), binary(0), binary(3000)];
const s2c = [
  [1, text(1)],
  [2, binary(50000)],
  [1, Buffer.from('grüße über TLS ✓')],
  [1, Buffer.from('done')],
];
const wantFromClient = c2s.length + 1;

const tlsOpts = ciphersuites ? { ciphers: ciphersuites, minVersion: 'TLSv1.3' } : { minVersion: 'TLSv1.3' };
const keylog = fs.createWriteStream(keylogPath);
const server = https.createServer({
  cert: fs.readFileSync(path.join(certDir, 'cert.pem')),
  key: fs.readFileSync(path.join(certDir, 'key.pem')),
  ALPNProtocols: ['http/1.1'],
  ...tlsOpts,
});
server.on('keylog', (line) => keylog.write(line));
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const timer = setTimeout(() => {
  console.error('ws-node-wss: timeout');
  process.exit(1);
}, 20000);

wss.on('connection', (sws) => {
  let n = 0;
  sws.on('message', () => {
    if (++n !== wantFromClient) return;
    sws.ping('node server ping');
    for (const [op, p] of s2c) send(sws, 's2c', op, p);
  });
});

server.listen(port, host, () => {
  const ws = new WebSocket(`wss://${host.includes(':') ? '[' + host + ']' : host}:${port}/wss`, {
    ca: fs.readFileSync(path.join(certDir, 'cert.pem')),
    servername: 'wsdump.test',
    ALPNProtocols: ['http/1.1'],
    perMessageDeflate: false,
    ...tlsOpts,
  });
  let got = 0;
  ws.on('open', () => {
    for (const [op, p] of c2s) send(ws, 'c2s', op, p);
    const all = Buffer.concat(c2sFragments);
    manifest.push(`c2s\t2\t${all.length}\t${crypto.createHash('sha256').update(all).digest('hex')}\n`);
    c2sFragments.forEach((p, i) => ws.send(p, { binary: true, fin: i === c2sFragments.length - 1 }));
  });
  ws.on('message', () => {
    if (++got === s2c.length) ws.close(1000, 'bye');
  });
  ws.on('close', () => {
    clearTimeout(timer);
    wss.close();
    server.close();
    keylog.end(() => {
      fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.join(''));
    });
  });
  ws.on('error', (e) => {
    console.error('ws-node-wss:', e);
    process.exit(1);
  });
});
