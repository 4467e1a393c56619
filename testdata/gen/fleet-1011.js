'use strict';
// Two hosts' backends fail and close their WebSockets with 1011
// (gen__fleet-1011, record.sh): a node ws 8 server on each "host",
// 127.0.1.1:47470 (host a) and 127.0.2.1:47470 (host b), and four node ws
// clients on their own source addresses 127.0.0.11-14, each in a reconnect
// loop. c1 and c2 use host a, c3 and c4 host b. c1, c2 and c4 back off
// (0.5 s, doubling to 4 s, back to 0.5 s after a connection that got a
// tick); c3 waits a fixed --fast ms: it is the client that reconnects most.
//
// Each server sends its client a seeded text "tick" every 400 ms and echoes
// what the client sends. At --b-down s host b's backend fails: the server
// closes every open connection with 1011 "backend unavailable", and every
// new one right after its 101, until --b-up; host a's does the same from
// --a-down to --a-up (host b's outage starts first). The clients send a
// hello on open and a seeded message every 700 ms; at --end they close with
// 1000 "done" and stop.
//
// Run it inside its own network namespace (record.sh: `unshare --net`,
// lo up), with one tcpdump per host on lo. It writes --expect FILE: the
// hosts, the outages (epoch seconds), per client its address, host and
// every attempt (start, its local port, open or not, its messages in
// both directions with SHA-256 as sent, the close it saw: code, reason,
// time, and who sent the first Close), and every 1011 the servers sent
// (time, host, client, client port).
const crypto = require('crypto');
const fs = require('fs');
const WebSocket = require('ws');
const { arg, now, sleep } = require('./common');
const { prng, payloads } = require('./prng');

const port = Number(arg('port', '47470'));
const fast = Number(arg('fast', '150'));
const endAt = Number(arg('end', '12'));
const outages = {
  a: [Number(arg('a-down', '7')), Number(arg('a-up', '9.5'))],
  b: [Number(arg('b-down', '4')), Number(arg('b-up', '9'))],
};
const hosts = { a: '127.0.1.1', b: '127.0.2.1' };
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const rnd = prng(1011);
const pay = payloads(rnd);
const t0 = now();
const expect = { hosts, port, t0, outages: {}, clients: [], closes_1011: [] };

function server(name) {
  const down = { on: false };
  const wss = new WebSocket.WebSocketServer({ host: hosts[name], port, perMessageDeflate: false });
  const fail = (ws, peer) => {
    expect.closes_1011.push({ time: now(), host: name, client: peer.address, client_port: peer.port });
    ws.close(1011, 'backend unavailable');
  };
  wss.on('connection', (ws, req) => {
    const peer = { address: req.socket.remoteAddress, port: req.socket.remotePort };
    ws.peer = peer;
    if (down.on) return fail(ws, peer);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.tick = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(pay.text(20 + Math.floor(rnd() * 180)));
    }, 400);
    ws.on('close', () => clearInterval(ws.tick));
  });
  return {
    wss,
    down() {
      down.on = true;
      expect.outages[name] = { down: now() };
      for (const ws of wss.clients) {
        clearInterval(ws.tick);
        if (ws.readyState === WebSocket.OPEN) fail(ws, ws.peer);
      }
    },
    up() {
      down.on = false;
      expect.outages[name].up = now();
    },
  };
}

async function client(id, addr, host, backoff) {
  const c = { id, address: addr, host, backoff: backoff ? 'exponential 0.5-4 s' : `fixed ${fast} ms`, attempts: [] };
  expect.clients.push(c);
  let delay = 500;
  let seq = 0;
  while (now() - t0 < endAt) {
    const a = { start: now(), opened: false, messages: [] };
    c.attempts.push(a);
    const gotTick = await new Promise((resolve) => {
      const ws = new WebSocket(`ws://${hosts[host]}:${port}/feed`, { localAddress: addr, perMessageDeflate: false });
      let ticks = 0;
      let timer = null;
      const send = (text) => {
        ws.send(text, (err) => {
          if (!err) a.messages.push({ dir: 'c2s', len: Buffer.byteLength(text), sha256: sha(text) });
        });
      };
      ws.on('open', () => {
        a.opened = true;
        a.local_port = ws._socket.localPort;
        send(`hello from ${id} attempt ${c.attempts.length}`);
        timer = setInterval(() => {
          if (ws.readyState !== WebSocket.OPEN) return;
          if (now() - t0 >= endAt) {
            a.closed_by = 'client';
            ws.close(1000, 'done');
            return;
          }
          send(`${id} #${++seq} ` + pay.text(10 + Math.floor(rnd() * 60)).toString());
        }, 700);
      });
      ws.on('message', (data) => {
        ticks++;
        a.messages.push({ dir: 's2c', len: data.length, sha256: sha(data) });
      });
      ws.on('close', (code, reason) => {
        clearInterval(timer);
        a.close = { code, reason: reason.toString(), time: now(), first_by: a.closed_by || 'server' };
        resolve(ticks > 0);
      });
      ws.on('error', (e) => {
        a.error = e.code || e.message;
      });
    });
    if (now() - t0 >= endAt) break;
    if (!backoff) {
      await sleep(fast);
      continue;
    }
    if (gotTick) delay = 500;
    await sleep(delay);
    delay = Math.min(delay * 2, 4000);
  }
}

async function main() {
  const out = arg('expect', 'fleet-1011.expect.json');
  const srv = { a: server('a'), b: server('b') };
  await Promise.all(Object.values(srv).map((s) => new Promise((r) => s.wss.on('listening', r))));
  for (const h of ['a', 'b']) {
    setTimeout(() => srv[h].down(), outages[h][0] * 1000);
    setTimeout(() => srv[h].up(), outages[h][1] * 1000);
  }
  await Promise.all([
    client('c1', '127.0.0.11', 'a', true),
    client('c2', '127.0.0.12', 'a', true),
    client('c3', '127.0.0.13', 'b', false),
    client('c4', '127.0.0.14', 'b', true),
  ]);
  await sleep(300);
  for (const s of Object.values(srv)) s.wss.close();
  fs.writeFileSync(out, JSON.stringify(expect, null, 1) + '\n');
  const n = expect.clients.map((c) => `${c.id} ${c.attempts.length}`).join(', ');
  console.error(`fleet-1011: attempts ${n}; ${expect.closes_1011.length} closes with 1011`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
