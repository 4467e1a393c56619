'use strict';
// What every node generator here starts with: its command-line flags, the
// epoch clock its expect files use, and a sleep.

// arg returns the value after --name on the command line, or def.
function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 ? process.argv[i + 1] : def;
}

const { performance } = require('perf_hooks');
// now is the epoch time in seconds, at millisecond precision.
const now = () => Math.round(performance.timeOrigin + performance.now()) / 1000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { arg, now, sleep };
