'use strict';
// What the socket runners' Node sides (tests/net/diff/runner.js, tests/tls/diff/runner.js)
// share, on top of difftest.js; difftest_sockets.py is the nodetls side and describes the
// script language they have in common (two sockets, c and s, each with its own Log; ops
// ["settle"] or [T, NAME, ARGS...]).
const crypto = require('crypto');
const { codeOf, boom, hex } = require('./difftest');

const QUIET = 30;
const SETTLE_MAX = 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// a script's CHUNK (hex, or [N, BYTE]: N bytes of value BYTE) as a Buffer; null stays
function arg(a) {
  if (a === null || a === undefined) return null;
  if (Array.isArray(a)) return Buffer.alloc(a[0], a[1]);
  return Buffer.from(a, 'hex');
}

// one 'data' line: data b:HEX (Buffers) or data s:HEX (strings, their UTF-8); longer than
// 48 bytes, len=N,sha=...
function dataStr(kind, buf) {
  if (buf.length <= 48) return `data ${kind}:${hex(buf)}`;
  const sha = crypto.createHash('sha256').update(buf).digest('hex').slice(0, 16);
  return `data ${kind}:len=${buf.length},sha=${sha}`;
}

// when any socket last logged something (for settle())
let lastEvent = 0;

// one socket's log; consecutive 'data' are one line (chunking is the kernel's)
class Log {
  constructor() { this.items = []; }
  add(s) { this.items.push(s); lastEvent = Date.now(); }
  data(chunk) {
    const kind = typeof chunk === 'string' ? 's' : 'b';
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const last = this.items[this.items.length - 1];
    if (last && typeof last === 'object' && last.kind === kind) last.bufs.push(buf);
    else this.items.push({ kind, bufs: [buf] });
    lastEvent = Date.now();
  }
  render() {
    return this.items.map((x) => (typeof x === 'string' ? x : dataStr(x.kind, Buffer.concat(x.bufs))));
  }
}

// log `events` (no arguments), 'data', 'error CODE' and 'close HAD_ERROR' of sock
function watch(sock, log, events) {
  for (const ev of events) sock.on(ev, () => log.add(ev));
  sock.on('data', (c) => log.data(c));
  sock.on('error', (e) => log.add(`error ${codeOf(e)}`));
  sock.on('close', (h) => log.add(`close ${h}`));
}

const STATE = ['bytesRead', 'bytesWritten', 'readyState', 'destroyed', 'pending',
  'connecting', 'allowHalfOpen', 'readable', 'writable', 'readableLength', 'readableEnded',
  'readableFlowing', 'writableLength', 'writableEnded', 'writableFinished', 'writableNeedDrain'];

// a socket's final state: net.Socket's properties, the `extra` ones, timeout and errored
function state(s, extra = []) {
  const o = {};
  for (const k of [...STATE, ...extra]) o[k] = s[k] === undefined ? null : s[k];
  o.timeout = s.timeout === undefined ? null : s.timeout;
  o.errored = s.errored ? codeOf(s.errored) : null;
  return o;
}

// wait until no socket logged anything for QUIET ms, at most SETTLE_MAX ms
async function settle() {
  const start = Date.now();
  lastEvent = Math.max(lastEvent, start);
  for (;;) {
    await sleep(5);
    const now = Date.now();
    if (now - lastEvent >= QUIET || now - start > SETTLE_MAX) return;
  }
}

// the ops both languages have; undefined (not run) for another
const COMMON = {
  write: (s, op, k, L) => s.write(arg(op[2]), (e) => L.add(`wcb@${k} ${codeOf(e)}`)),
  end: (s, op, k, L) => {
    const cb = (e) => L.add(`endcb@${k} ${codeOf(e)}`);
    return op[2] === null ? s.end(cb) : s.end(arg(op[2]), cb);
  },
  destroy: (s, op) => s.destroy(op[2] ? boom('EBOOM') : undefined),
  destroy_soon: (s) => s.destroySoon(),
  pause: (s) => s.pause(),
  resume: (s) => s.resume(),
  enc: (s, op) => s.setEncoding(op[2]),
  timeout: (s, op) => s.setTimeout(op[2]),
};

// run the op `op` (index k) on its socket and log it; own(name, s, op, k, L, socks) runs
// the area's own ops
function runOp(op, k, socks, logs, own) {
  const [t, name] = op;
  const s = socks[t];
  const L = logs[t];
  L.add(`> ${name}`);
  if (!s) {
    L.add('= nosock');
    return;
  }
  let ret;
  try {
    ret = Object.hasOwn(COMMON, name) ? COMMON[name](s, op, k, L) : own(name, s, op, k, L, socks);
    ret = ret === s ? 'this' : ret === undefined ? '' : String(ret);
  } catch (e) {
    ret = 'throw ' + codeOf(e);
  }
  L.add(`= ${ret}`);
}

// '~' in both logs, then settle()
async function settleLogged(logs) {
  for (const L of Object.values(logs)) L.add('~');
  await settle();
}

// run ops (indexed from `first`) in turn, then settle a last time
async function runOps(ops, first, socks, logs, own) {
  for (let k = 0; k < ops.length; k++) {
    if (ops[k][0] === 'settle') await settleLogged(logs);
    else runOp(ops[k], first + k, socks, logs, own);
  }
  await settleLogged(logs);
}

module.exports = { arg, dataStr, Log, watch, state, settle, runOp, runOps };
