// RFC 6455 framing and RFC 7692 permessage-deflate over any duplex byte
// stream, for the WebSocket-over-HTTP/2 (RFC 8441) generators h2-connect.js
// and h2-browser.js: an extended CONNECT stream carries WebSocket frames
// with no HTTP/1.1 handshake, so neither end can use the `ws` library's
// upgrade path. Small on purpose; every data message sent is reported to
// onSent (what the manifests are written from) and every message received
// is reassembled, inflated and reported to onMessage (the generators check
// it equals what the other side sent).
'use strict';

const crypto = require('crypto');
const zlib = require('zlib');

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

// A raw-deflate stream run with Z_SYNC_FLUSH per call, kept across calls
// (context takeover) or made fresh per call (no context takeover).
class Flater {
  constructor(kind, takeover, windowBits) {
    this.kind = kind; // 'deflate' | 'inflate'
    this.takeover = takeover;
    this.windowBits = windowBits || 15;
    this.z = null;
    this.queue = Promise.resolve();
  }
  make() {
    const o = { windowBits: this.windowBits };
    return this.kind === 'deflate' ? zlib.createDeflateRaw(o) : zlib.createInflateRaw(o);
  }
  // run(buf) -> Promise<Buffer>: calls are serialised.
  run(buf) {
    const p = this.queue.then(() => new Promise((resolve, reject) => {
      if (!this.z || !this.takeover) {
        if (this.z) this.z.close();
        this.z = this.make();
      }
      const z = this.z;
      const out = [];
      const onData = (d) => out.push(d);
      z.on('data', onData);
      z.once('error', reject);
      z.write(this.kind === 'inflate' ? Buffer.concat([buf, TAIL]) : buf);
      z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        z.removeListener('data', onData);
        z.removeListener('error', reject);
        let r = Buffer.concat(out);
        if (this.kind === 'deflate') {
          if (!r.subarray(r.length - 4).equals(TAIL)) return reject(new Error('deflate output without sync tail'));
          r = r.subarray(0, r.length - 4);
          if (r.length === 0) r = Buffer.from([0x00]); // RFC 7692 7.2.3.6: empty message
        }
        resolve(r);
      });
    }));
    this.queue = p.catch(() => {});
    return p;
  }
}

// parseExtensions("permessage-deflate; client_max_window_bits, x") -> [{name, params}]
function parseExtensions(v) {
  if (!v) return [];
  return String(v).split(',').map((e) => {
    const parts = e.split(';').map((s) => s.trim()).filter(Boolean);
    const params = {};
    for (const p of parts.slice(1)) {
      const i = p.indexOf('=');
      if (i < 0) params[p] = true;
      else params[p.slice(0, i).trim()] = p.slice(i + 1).trim().replace(/^"|"$/g, '');
    }
    return { name: parts[0], params };
  }).filter((e) => e.name);
}

// WsEndpoint: one end of a WebSocket over `stream`.
//   client        true: mask every frame (RFC 6455 5.3)
//   deflate       null, or {sendTakeover, recvTakeover, sendBits, recvBits}
//   dir           the direction this end sends ('c2s' | 's2c')
//   onSent(rec)   {dir, opcode, len, sha256, time, compressed, frames} per data message
//   onMessage(m)  {opcode, payload, compressed, frames} per data message received
//   onControl(c)  {opcode, payload} per control frame received (before the automatic reply)
//   autoPong      answer pings (default true); autoClose: echo a Close (default true)
class WsEndpoint {
  constructor(stream, opts) {
    this.stream = stream;
    this.client = !!opts.client;
    this.dir = opts.dir || (this.client ? 'c2s' : 's2c');
    this.onSent = opts.onSent || (() => {});
    this.onMessage = opts.onMessage || (() => {});
    this.onControl = opts.onControl || (() => {});
    this.autoPong = opts.autoPong !== false;
    this.autoClose = opts.autoClose !== false;
    this.rnd = opts.maskRandom || crypto.randomBytes;
    const d = opts.deflate;
    this.deflater = d ? new Flater('deflate', d.sendTakeover, d.sendBits) : null;
    this.inflater = d ? new Flater('inflate', d.recvTakeover, d.recvBits) : null;
    this.buf = Buffer.alloc(0);
    this.msg = null; // {opcode, compressed, parts, frames}
    this.closeSent = false;
    this.closeReceived = null;
    this.sendQueue = Promise.resolve();
    this.recvQueue = Promise.resolve();
    stream.on('data', (d) => this.feed(d));
  }

  frame(fin, rsv1, opcode, payload) {
    const n = payload.length;
    let hlen = 2 + (n < 126 ? 0 : n < 65536 ? 2 : 8) + (this.client ? 4 : 0);
    const h = Buffer.alloc(hlen);
    h[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
    let o = 2;
    if (n < 126) h[1] = n;
    else if (n < 65536) { h[1] = 126; h.writeUInt16BE(n, 2); o = 4; }
    else { h[1] = 127; h.writeBigUInt64BE(BigInt(n), 2); o = 10; }
    if (!this.client) return Buffer.concat([h, payload]);
    h[1] |= 0x80;
    const key = this.rnd(4);
    key.copy(h, o);
    const p = Buffer.from(payload);
    for (let i = 0; i < p.length; i++) p[i] ^= key[i & 3];
    return Buffer.concat([h, p]);
  }

  write(b) {
    return new Promise((resolve) => this.stream.write(b, resolve));
  }

  // send(opcode, payload, {compress, fragments}) -> Promise: fragments is a
  // list of payload split points (uncompressed message) or of compressed
  // byte counts per frame (compressed message; the last frame takes the rest).
  send(opcode, payload, o = {}) {
    const p = this.sendQueue.then(async () => {
      const compress = !!(o.compress && this.deflater);
      let body = payload;
      if (compress) body = await this.deflater.run(payload);
      const cuts = [0, ...(o.fragments || []).filter((c) => c > 0 && c < body.length), body.length];
      if (o.emptyMiddle) cuts.splice(2, 0, cuts[1]); // an empty continuation frame in the middle
      const frames = [];
      for (let i = 0; i + 1 < cuts.length; i++) {
        frames.push(this.frame(i + 2 === cuts.length, compress && i === 0, i === 0 ? opcode : 0, body.subarray(cuts[i], cuts[i + 1])));
      }
      const rec = {
        dir: this.dir, opcode, len: payload.length,
        sha256: crypto.createHash('sha256').update(payload).digest('hex'),
        time: Date.now() / 1000, compressed: compress, wire_len: body.length, frames: frames.length,
      };
      this.onSent(rec);
      for (const f of frames) {
        await this.write(f);
        if (o.pingBetween && f !== frames[frames.length - 1]) {
          await this.write(this.frame(true, false, 9, Buffer.from(o.pingBetween)));
          o.pingBetween = null;
        }
      }
      return rec;
    });
    this.sendQueue = p.catch(() => {});
    return p;
  }

  control(opcode, payload) {
    const p = this.sendQueue.then(() => this.write(this.frame(true, false, opcode, payload)));
    this.sendQueue = p.catch(() => {});
    return p;
  }
  ping(s) { return this.control(9, Buffer.from(s)); }
  close(code, reason) {
    this.closeSent = { code, reason };
    const b = Buffer.alloc(2 + Buffer.byteLength(reason || ''));
    b.writeUInt16BE(code, 0);
    if (reason) b.write(reason, 2);
    return this.control(8, b);
  }

  feed(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      let n = b[1] & 0x7f;
      let o = 2;
      if (n === 126) { if (b.length < 4) return; n = b.readUInt16BE(2); o = 4; }
      else if (n === 127) { if (b.length < 10) return; n = Number(b.readBigUInt64BE(2)); o = 10; }
      const masked = !!(b[1] & 0x80);
      if (masked !== !this.client) throw new Error(`frame masking wrong for ${this.client ? 'client' : 'server'} side`);
      const key = masked ? b.subarray(o, o + 4) : null;
      if (masked) o += 4;
      if (b.length < o + n) return;
      const payload = Buffer.from(b.subarray(o, o + n));
      if (key) for (let i = 0; i < n; i++) payload[i] ^= key[i & 3];
      this.buf = b.subarray(o + n);
      this.onFrame(!!(b[0] & 0x80), !!(b[0] & 0x40), b[0] & 0x0f, payload);
    }
  }

  onFrame(fin, rsv1, opcode, payload) {
    if (opcode >= 8) {
      this.onControl({ opcode, payload });
      if (opcode === 9 && this.autoPong) this.control(10, payload);
      if (opcode === 8) {
        this.closeReceived = { code: payload.length >= 2 ? payload.readUInt16BE(0) : null, reason: payload.subarray(2).toString() };
        if (this.autoClose && !this.closeSent) this.close(this.closeReceived.code || 1000, '');
      }
      return;
    }
    if (opcode !== 0) this.msg = { opcode, compressed: rsv1, parts: [], frames: 0 };
    const m = this.msg;
    m.parts.push(payload);
    m.frames++;
    if (!fin) return;
    this.msg = null;
    const body = Buffer.concat(m.parts);
    this.recvQueue = this.recvQueue.then(async () => {
      const data = m.compressed ? await this.inflater.run(body) : body;
      this.onMessage({ opcode: m.opcode, payload: data, compressed: m.compressed, frames: m.frames });
    });
  }
}

module.exports = { WsEndpoint, Flater, parseExtensions };
