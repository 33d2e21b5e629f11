'use strict';
// Differential net runner (Node side): runs each script of a JSON file of scripts (one server
// and one client over 127.0.0.1) against Node's own net module and prints one JSON result per
// script (a JSON array). Usage: node runner.js scripts.json > results.json
// The script language is described in gen.py; runner.py is the nodetls side. Both must log
// exactly the same strings for the same observable behaviour.
const net = require('net');
const crypto = require('crypto');
const { codeOf, boom, hex, runAll } = require('../../helpers/difftest');

const QUIET = 30;
const SETTLE_MAX = 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function arg(a) {
  if (a === null || a === undefined) return null;
  if (Array.isArray(a)) return Buffer.alloc(a[0], a[1]);
  return Buffer.from(a, 'hex');
}

function dataStr(kind, buf) {
  if (buf.length <= 48) return `data ${kind}:${hex(buf)}`;
  const sha = crypto.createHash('sha256').update(buf).digest('hex').slice(0, 16);
  return `data ${kind}:len=${buf.length},sha=${sha}`;
}

let lastEvent = 0;

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

function watch(sock, log) {
  for (const ev of ['connect', 'ready', 'end', 'finish', 'drain', 'timeout']) {
    sock.on(ev, () => log.add(ev));
  }
  sock.on('data', (c) => log.data(c));
  sock.on('error', (e) => log.add(`error ${codeOf(e)}`));
  sock.on('close', (h) => log.add(`close ${h}`));
}

function state(s) {
  const o = {};
  for (const k of ['bytesRead', 'bytesWritten', 'readyState', 'destroyed', 'pending',
    'connecting', 'allowHalfOpen', 'readable', 'writable', 'readableLength', 'readableEnded',
    'readableFlowing', 'writableLength', 'writableEnded', 'writableFinished', 'writableNeedDrain']) {
    o[k] = s[k] === undefined ? null : s[k];
  }
  o.timeout = s.timeout === undefined ? null : s.timeout;
  o.errored = s.errored ? codeOf(s.errored) : null;
  return o;
}

async function settle() {
  const start = Date.now();
  lastEvent = Math.max(lastEvent, start);
  for (;;) {
    await sleep(5);
    const now = Date.now();
    if (now - lastEvent >= QUIET || now - start > SETTLE_MAX) return;
  }
}

async function runScript(script) {
  const logs = { c: new Log(), s: new Log() };
  const server = net.createServer({ allowHalfOpen: script.server.allowHalfOpen,
    pauseOnConnect: script.server.pauseOnConnect });
  let accepted = null;
  const gotConn = new Promise((res) => server.on('connection', (s) => {
    accepted = s;
    watch(s, logs.s);
    res();
  }));
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const client = net.connect({ port: server.address().port, host: '127.0.0.1',
    allowHalfOpen: script.client.allowHalfOpen });
  watch(client, logs.c);
  const connected = new Promise((res) => client.once('connect', res));
  let timer;
  await Promise.race([Promise.all([gotConn, connected]),
    new Promise((res) => { timer = setTimeout(res, 3000); })]);
  clearTimeout(timer);
  const socks = { c: client, s: accepted };
  const ops = script.ops;
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k];
    if (op[0] === 'settle') {
      logs.c.add('~');
      logs.s.add('~');
      await settle();
      continue;
    }
    const [t, name] = op;
    const s = socks[t];
    const L = logs[t];
    L.add(`> ${name}`);
    let ret;
    try {
      switch (name) {
        case 'write': ret = s.write(arg(op[2]), (e) => L.add(`wcb@${k} ${codeOf(e)}`)); break;
        case 'end': {
          const cb = (e) => L.add(`endcb@${k} ${codeOf(e)}`);
          ret = op[2] === null ? s.end(cb) : s.end(arg(op[2]), cb);
          break;
        }
        case 'destroy': ret = s.destroy(op[2] ? boom('EBOOM') : undefined); break;
        case 'destroy_soon': ret = s.destroySoon(); break;
        case 'pause': ret = s.pause(); break;
        case 'resume': ret = s.resume(); break;
        case 'enc': ret = s.setEncoding(op[2]); break;
        case 'timeout': ret = s.setTimeout(op[2]); break;
        case 'nodelay': ret = s.setNoDelay(true); break;
        case 'ref': ret = s.ref(); break;
        case 'unref': ret = s.unref(); break;
        default: throw new Error('bad op ' + name);
      }
      ret = ret === s ? 'this' : ret === undefined ? '' : String(ret);
    } catch (e) {
      ret = 'throw ' + codeOf(e);
    }
    L.add(`= ${ret}`);
  }
  logs.c.add('~');
  logs.s.add('~');
  await settle();
  const result = { c: logs.c.render(), s: logs.s.render(),
    state: { c: state(client), s: accepted ? state(accepted) : null } };
  client.destroy();
  if (accepted) accepted.destroy();
  await new Promise((res) => server.close(res));
  return result;
}

runAll(runScript);
