'use strict';
// Two tenants on the same addresses (gen__tenant-reconnect, record.sh):
// client 10.9.0.1 and server 10.9.0.2 in each of two VXLAN segments (VNI
// 10 and 20, tenants.sh), the same Host and URL. A node ws client in each
// tenant reconnects in a loop: connect, send 3 text messages, read their
// echoes, hold 200 ms, close 1000, wait 300 ms, again. Tenant 10's server
// is up throughout; tenant 20's is stopped (killed: its open connection
// ends without a close) at --down and started again at --up, so its
// client sees an error, then refused connects, then good connections.
//
//   node tenant-reconnect.js --role run --expect FILE
//   node tenant-reconnect.js --role server --port 8080      (in a server namespace)
//   node tenant-reconnect.js --role client --vni 10 --attempts 8   (in a client namespace)
//
// The run role starts the servers and clients with `ip netns exec` and
// writes the expect file (per tenant: each attempt's start and end, epoch
// seconds, its outcome as the client saw it, its messages' SHA-256);
// no messages.tsv: the two tenants' connections overlap, so the order of
// their messages in one list is not known to the clients; the expect
// file has them per attempt, which the test compares per connection.
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const { arg, now, sleep } = require('./common');

const role = arg('role', 'run');
const port = Number(arg('port', '8080'));
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

if (role === 'server') {
  const { WebSocketServer } = require('ws');
  const wss = new WebSocketServer({ port, host: '10.9.0.2', perMessageDeflate: false });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  wss.on('listening', () => process.stdout.write('ready\n'));
} else if (role === 'client') {
  client().then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
} else {
  run().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

// client makes --attempts attempts and returns what each did.
async function client() {
  const WebSocket = require('ws');
  const vni = Number(arg('vni', '10'));
  const n = Number(arg('attempts', '8'));
  const attempts = [];
  for (let i = 0; i < n; i++) {
    const a = { start: now(), outcome: '', messages: [] };
    attempts.push(a);
    await new Promise((resolve) => {
      const ws = new WebSocket(`ws://10.9.0.2:${port}/feed`, { perMessageDeflate: false, headers: { Host: 'feed.example' } });
      let got = 0;
      ws.on('open', () => {
        for (let k = 0; k < 3; k++) {
          const text = `tenant ${vni} attempt ${i} message ${k}`;
          a.messages.push({ dir: 'c2s', opcode: 1, len: Buffer.byteLength(text), sha256: sha(text) });
          ws.send(text);
        }
      });
      ws.on('message', async (data) => {
        a.messages.push({ dir: 's2c', opcode: 1, len: data.length, sha256: sha(data) });
        if (++got === 3) {
          await sleep(200);
          if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'bye');
        }
      });
      ws.on('error', (e) => {
        if (!a.outcome) a.outcome = e.code === 'ECONNREFUSED' ? 'conn_refused' : 'error';
      });
      ws.on('close', (code) => {
        if (!a.outcome) a.outcome = code === 1000 ? 'ok' : 'error';
        a.end = now();
        resolve();
      });
    });
    if (a.outcome === 'conn_refused') a.messages = [];
    await sleep(300);
  }
  return { vni, attempts };
}

function netns(ns, args) {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, __filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function ready(p) {
  return new Promise((resolve, reject) => {
    p.stdout.once('data', resolve);
    p.once('exit', (c) => reject(new Error('server exited ' + c)));
  });
}

function result(p) {
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  return new Promise((resolve) => p.on('exit', () => resolve(JSON.parse(out))));
}

async function run() {
  const down = Number(arg('down', '1.2')) * 1000;
  const up = Number(arg('up', '3.0')) * 1000;
  const attempts = arg('attempts', '8');
  const s10 = netns('tn-s10', ['--role', 'server', '--port', String(port)]);
  let s20 = netns('tn-s20', ['--role', 'server', '--port', String(port)]);
  await Promise.all([ready(s10), ready(s20)]);
  const t0 = Date.now();
  const c10 = result(netns('tn-c10', ['--role', 'client', '--vni', '10', '--port', String(port), '--attempts', attempts]));
  const c20 = result(netns('tn-c20', ['--role', 'client', '--vni', '20', '--port', String(port), '--attempts', attempts]));
  await sleep(down - (Date.now() - t0));
  const stopped = now();
  s20.kill('SIGKILL');
  await sleep(up - (Date.now() - t0));
  const started = now();
  s20 = netns('tn-s20', ['--role', 'server', '--port', String(port)]);
  await ready(s20);
  const tenants = [await c10, await c20];
  s10.kill();
  s20.kill();
  const expect = { client: '10.9.0.1', server: `10.9.0.2:${port}`, host: 'feed.example', path: '/feed', server20_stopped: stopped, server20_started: started, tenants };
  fs.writeFileSync(arg('expect'), JSON.stringify(expect, null, 1) + '\n');
  for (const t of tenants) console.error(`vni ${t.vni}: ${t.attempts.map((a) => a.outcome).join(' ')}`);
}
