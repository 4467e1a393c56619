#!/usr/bin/env node
// A node `ws` server on `https` (TLS 1.2 only) that renegotiates twice in
// the middle of a conversation with a node `ws` client, writing the NSS key
// log from the server's 'keylog' event (one CLIENT_RANDOM line per
// handshake: the first and each renegotiation).
//
// usage: node ws-node-wss-reneg.js --host 127.0.0.1 --port N --cert DIR
//          --keylog OUT.keys --manifest OUT.messages.tsv --times OUT.times.tsv [--full]
//
// DIR holds cert.pem and key.pem (`wss -gencert DIR`); the client does not
// check it (rejectUnauthorized: false). perMessageDeflate is off.
//
// The conversation, each step waiting for the one before:
//   c2s 3 messages, s2c 2 messages (under the first handshake's keys);
//   renegotiation 1: tls.TLSSocket#renegotiate() on the server's socket
//     (HelloRequest, then a full handshake inside the encrypted channel);
//   c2s 2 messages, s2c 2 messages;
//   renegotiation 2 in the middle of a frame: the server writes the first
//     half of a binary frame's bytes to its TLS socket, renegotiates, and
//     writes the second half once the renegotiation is done;
//   c2s 2 messages (one of 40 000 bytes: several records), s2c 1; close.
//
// Manifest: one line per data message sent (dir opcode len sha256).
// Times: one line per message and per renegotiation (event, dir or number,
// time since the epoch in ms): when each was sent or asked for, and when
// node said the renegotiation was done.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const path = require('path');
const tls = require('tls');
const { WebSocketServer, WebSocket } = require('ws');

// node's guard against client-initiated renegotiation floods counts every
// handshake on a server socket, the server's own renegotiations too: at
// its default (3 in 10 minutes) the second renegotiation ends the socket.
tls.CLIENT_RENEG_LIMIT = 10;

const { arg } = require('../common');
const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '8443'));
const certDir = arg('cert', '.');
const keylogPath = arg('keylog', '/dev/null');
const manifestPath = arg('manifest', '/dev/null');
const timesPath = arg('times', '/dev/null');
// --full: the server refuses to resume a session on renegotiation
// (SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION): each renegotiation is a
// full handshake with a new master secret. Without it OpenSSL resumes the
// session (its ticket): an abbreviated handshake, the same master secret
// with new randoms.
const full = process.argv.includes('--full');

const { prng, payloads } = require('../prng'); // mulberry32, seeded
const { text, binary } = payloads(prng(0x72656e67)); // "reng"
const sha = (p) => crypto.createHash('sha256').update(p).digest('hex');

const manifest = [];
const times = [];
function note(event, what) {
  times.push(`${event}\t${what}\t${Date.now()}\n`);
}
function send(ws, dir, opcode, payload) {
  manifest.push(`${dir}\t${opcode}\t${payload.length}\t${sha(payload)}\n`);
  note('message', `${dir} ${opcode} ${payload.length}`);
  ws.send(payload, { binary: opcode === 2, fin: true });
}

// An unmasked server frame (RFC 6455 §5.2) of a binary payload, written
// by hand so that its bytes can straddle a renegotiation.
function serverFrame(payload) {
  let hdr;
  if (payload.length < 126) hdr = Buffer.from([0x82, payload.length]);
  else if (payload.length < 65536) hdr = Buffer.from([0x82, 126, payload.length >> 8, payload.length & 0xff]);
  else throw new Error('frame too long');
  return Buffer.concat([hdr, payload]);
}

const steps = {
  c2s: [
    [[1, Buffer.from('hello before any renegotiation')], [2, binary(300)], [1, text(5000)]],
    [[1, Buffer.from('between the two renegotiations')], [2, binary(2000)]],
    [[1, Buffer.from('after the second renegotiation')], [2, binary(40000)]],
  ],
  s2c: [
    [[1, text(20)], [2, binary(1000)]],
    [[1, Buffer.from('server: renegotiated once')], [1, text(3000)]],
    [[1, Buffer.from('server: done')]],
  ],
};
const straddle = binary(1200); // s2c, its frame split by renegotiation 2

const keylog = fs.createWriteStream(keylogPath);
const server = https.createServer({
  cert: fs.readFileSync(path.join(certDir, 'cert.pem')),
  key: fs.readFileSync(path.join(certDir, 'key.pem')),
  ALPNProtocols: ['http/1.1'],
  maxVersion: 'TLSv1.2',
  ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256',
  secureOptions: full ? crypto.constants.SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION : 0,
});
server.on('keylog', (line) => keylog.write(line));
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const timer = setTimeout(() => {
  console.error('ws-node-wss-reneg: timeout');
  process.exit(1);
}, 20000);
function fail(what, e) {
  console.error('ws-node-wss-reneg:', what, e);
  process.exit(1);
}

function renegotiate(sock, n, then) {
  note('renegotiate', `${n} asked`);
  const ok = sock.renegotiate({ rejectUnauthorized: false }, (err) => {
    if (err) fail(`renegotiation ${n}`, err);
    note('renegotiated', `${n} done`);
    then();
  });
  if (!ok) fail(`renegotiation ${n}`, 'renegotiate() returned false');
}

wss.on('connection', (sws, req) => {
  const sock = req.socket;
  sock.on('error', (e) => fail('server socket', e));
  let step = 0;
  let got = 0;
  sws.on('message', () => {
    if (++got !== steps.c2s[step].length) return;
    got = 0;
    for (const [op, p] of steps.s2c[step]) send(sws, 's2c', op, p);
    if (step === 0) {
      step = 1;
      renegotiate(sock, 1, () => send(sws, 's2c', 1, Buffer.from('go on')));
    } else if (step === 1) {
      step = 2;
      const f = serverFrame(straddle);
      const half = Math.floor(f.length / 2);
      manifest.push(`s2c\t2\t${straddle.length}\t${sha(straddle)}\n`);
      note('message', `s2c 2 ${straddle.length} (frame split by renegotiation 2)`);
      // (once the bytes before are out: node sends the HelloRequest at
      // once, ahead of writes still queued on the socket)
      sock.write(f.subarray(0, half), () => renegotiate(sock, 2, () => sock.write(f.subarray(half))));
    }
  });
});

server.listen(port, host, () => {
  const ws = new WebSocket(`wss://${host}:${port}/reneg`, {
    rejectUnauthorized: false,
    servername: 'wsdump.test',
    ALPNProtocols: ['http/1.1'],
    perMessageDeflate: false,
    maxVersion: 'TLSv1.2',
  });
  let got = 0;
  let step = 0;
  const sendStep = () => {
    for (const [op, p] of steps.c2s[step]) send(ws, 'c2s', op, p);
  };
  ws.on('open', sendStep);
  ws.on('message', () => {
    got++;
    // s2c: 2 messages, "go on" after renegotiation 1 (the client's next
    // step), 2 more and the straddling one, then "done".
    if (got === 3 || got === 6) {
      step++;
      sendStep();
    } else if (got === 7) {
      ws.close(1000, 'bye');
    }
  });
  ws.on('close', () => {
    clearTimeout(timer);
    wss.close();
    server.close();
    keylog.end(() => {
      fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.join(''));
      fs.writeFileSync(timesPath, 'event\twhat\tms\n' + times.join(''));
    });
  });
  ws.on('error', (e) => fail('client', e));
});
