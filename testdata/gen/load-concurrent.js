#!/usr/bin/env node
// A load run: many concurrent WebSocket connections from one client to one
// URL, for wsdump's reconnect fixtures (testdata/pcaps/gen__load-concurrent,
// issue 15): none of these connections is a retry of another, so a
// reconnect analysis must find no storm and no negative delay.
//
// usage: node load-concurrent.js --port P [--conns 120] [--parallel 8] [--messages 3]
//                                --manifest OUT.messages.tsv --expect OUT.expect.json
//
// A node `ws` 8.18.3 server (perMessageDeflate off) on ws://127.0.0.1:P/load
// echoes every text message. The client runs --parallel workers; each opens
// a connection, sends --messages small seeded JSON messages one after the
// other (waiting for each echo), closes with 1000 "done", waits for the
// close to finish and opens the next, until --conns connections are done.
// So --parallel connections overlap at any time, all from 127.0.0.1 to the
// same URL.
//
// The manifest lists the data messages in the order they were written to
// the sockets (c2s by the client, s2c by the server's echo, both in this
// process; on loopback a write reaches the capture at once, so this is the
// capture order); dir opcode len sha256 as the other gen__ manifests.
// --expect: every connection with its worker, start (before the TCP
// connect), open, close times, local port and close code.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const { performance } = require('perf_hooks');
const { WebSocketServer, WebSocket } = require('ws');

const { arg } = require('./common');
const host = '127.0.0.1';
const port = Number(arg('port', '47330'));
const CONNS = Number(arg('conns', '120'));
const PARALLEL = Number(arg('parallel', '8'));
const MESSAGES = Number(arg('messages', '3'));
const manifestPath = arg('manifest', '/dev/null');
const expectPath = arg('expect', '/dev/null');
const now = () => Math.round((performance.timeOrigin + performance.now()) * 1000) / 1e6; // epoch s, µs precision
const url = `ws://${host}:${port}/load`;

const { prng } = require('./prng');
const rnd = prng(0x6c6f6164); // "load"

const manifest = [];
function record(dir, s) {
  const b = Buffer.from(s, 'utf8');
  manifest.push(`${dir}\t1\t${b.length}\t${crypto.createHash('sha256').update(b).digest('hex')}`);
}

const ex = { scenario: 'load-concurrent', url, conns_total: CONNS, parallel: PARALLEL, messages_per_conn: MESSAGES, conns: [] };

async function main() {
  setTimeout(() => { console.error('load-concurrent: timeout'); process.exit(1); }, 50000).unref();
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      const s = data.toString();
      record('s2c', s);
      ws.send(s);
    });
  });
  await new Promise((r) => server.listen(port, host, r));

  // Payloads are fixed before the run, so the manifest does not depend on
  // which worker gets which connection.
  const payloads = [];
  for (let i = 0; i < CONNS; i++) {
    const m = [];
    for (let j = 0; j < MESSAGES; j++) m.push(JSON.stringify({ op: 'sample', conn: i, seq: j, v: Math.floor(rnd() * 1e9) }));
    payloads.push(m);
  }
  let next = 0;
  async function worker(w) {
    while (next < CONNS) {
      const i = next++;
      const c = { index: i, worker: w, start: now(), open: null, closed: null, lport: null, close_code: null, messages: MESSAGES };
      ex.conns.push(c);
      const ws = new WebSocket(url, { perMessageDeflate: false });
      await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
      c.open = now();
      c.lport = ws._socket.localPort;
      for (const m of payloads[i]) {
        const echo = new Promise((r) => ws.once('message', r));
        record('c2s', m);
        ws.send(m);
        await echo;
      }
      const closed = new Promise((r) => ws.once('close', (code) => r(code)));
      ws.close(1000, 'done');
      c.close_code = await closed;
      c.closed = now();
    }
  }
  const t0 = now();
  await Promise.all(Array.from({ length: PARALLEL }, (_, w) => worker(w)));
  ex.start = t0;
  ex.end = now();
  await new Promise((r) => setTimeout(r, 300));
  wss.close();
  server.close();
  ex.conns.sort((a, b) => a.start - b.start);
  // How many connections were open at once, measured at each start.
  let maxOpen = 0;
  for (const c of ex.conns) {
    const open = ex.conns.filter((d) => d.start <= c.start && (d.closed === null || d.closed > c.start)).length;
    maxOpen = Math.max(maxOpen, open);
  }
  ex.summary = {
    conns: ex.conns.length,
    clean_1000: ex.conns.filter((c) => c.close_code === 1000).length,
    max_concurrent: maxOpen,
    messages_c2s: CONNS * MESSAGES,
    messages_s2c: CONNS * MESSAGES,
    duration: Math.round((ex.end - ex.start) * 1000) / 1000,
    retries: 0,
    storm: false,
  };
  fs.writeFileSync(manifestPath, 'dir\topcode\tlen\tsha256\n' + manifest.map((l) => l + '\n').join(''));
  fs.writeFileSync(expectPath, JSON.stringify(ex, null, 2) + '\n');
  setTimeout(() => process.exit(0), 200);
}

main().catch((e) => { console.error(e); process.exit(1); });
