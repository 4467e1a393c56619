'use strict';
// mulberry32: a small seeded PRNG, so that the generators' payloads are
// the same on every run (their manifests with them).
function prng(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// payloads returns the generators' text (of ALPHABET) and binary payload
// makers drawing on rnd, as ws-node.js and the generators after it wrote
// each their own copy of.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_!?';
function payloads(rnd) {
  return {
    text(n) {
      let s = '';
      for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
      return Buffer.from(s, 'ascii');
    },
    binary(n) {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
      return b;
    },
  };
}

module.exports = { prng, payloads };
