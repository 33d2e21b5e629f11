'use strict';
// The Node side of the bad-arguments differential (gen.py describes the calls; runner.py is the
// nodetls side): `node runner.js calls.json > results.json`. Each call is made synchronously;
// its result is {threw: false} or {threw: true, cls, code, msg}; then every object made is
// destroyed or closed before the next call.
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const tls = require('tls');

const PEM = {
  cert: fs.readFileSync(path.join(__dirname, 'cert.pem'), 'utf8'),
  key: fs.readFileSync(path.join(__dirname, 'key.pem'), 'utf8'),
};
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'nodetls-opts-'));
// removed however the process ends (but a signal): its last call may throw out of main()
process.on('exit', () => fs.rmSync(DIR, { recursive: true, force: true }));
let made = [];
let nPaths = 0;
const noop = () => {};

function track(obj) {
  if (obj && typeof obj.on === 'function') obj.on('error', noop);
  made.push(obj);
  return obj;
}

function decode(v) {
  if (v === null) return undefined;
  if (Array.isArray(v)) return v.map(decode);
  if (typeof v !== 'object') return v;
  switch (v.$) {
    case 'nan': return NaN;
    case 'inf': return Infinity;
    case '-inf': return -Infinity;
    case 'bytes': return Buffer.from(v.hex, 'hex');
    case 'obj': {
      const o = {};
      for (const [k, x] of Object.entries(v.v)) o[k] = decode(x);
      return o;
    }
    case 'fn': return function fn() {};
    case 'pem': return v.as === 'bytes' ? Buffer.from(PEM[v.which]) : PEM[v.which];
    case 'ctx': return tls.createSecureContext();
    case 'sock': return track(new net.Socket());
    case 'sockpath': return path.join(DIR, `s${nPaths++}.sock`);
    default: throw new Error('bad value ' + JSON.stringify(v));
  }
}

const CAMEL = {
  set_timeout: 'setTimeout', set_no_delay: 'setNoDelay', set_keep_alive: 'setKeepAlive',
  write: 'write', end: 'end', set_encoding: 'setEncoding', set_ticket_keys: 'setTicketKeys',
  set_max_send_fragment: 'setMaxSendFragment',
};

function options(call, defaults) {
  const o = { ...defaults };
  for (const [, node, value] of call.opts) o[node] = decode(value);
  return o;
}

// Node v20 aborts the process (an assertion in TLSWrap::SetALPNProtocols) when a client's
// ALPNProtocols do not make a valid wire list: an empty name, or a Buffer that is no list.
function alpnAborts(alpn) {
  if (Array.isArray(alpn)) {
    return alpn.every((p) => typeof p === 'string' && Buffer.byteLength(p) <= 255) &&
      alpn.some((p) => p.length === 0);
  }
  if (!ArrayBuffer.isView(alpn)) return false;
  const b = Buffer.from(alpn.buffer, alpn.byteOffset, alpn.byteLength);
  let i = 0;
  while (i < b.length) {
    if (b[i] === 0) return true;
    i += 1 + b[i];
  }
  return i !== b.length;
}

class NodeAbort extends Error {
  constructor() {
    super('node aborts: SetALPNProtocols assertion');
    this.name = 'Abort';
    this.code = 'NODE_ABORT';
  }
}

function guard(call, opts) {
  const client = call.target === 'tls_connect' ||
    (call.target === 'tls_socket' && !opts.isServer);
  if (client && opts.ALPNProtocols !== undefined && alpnAborts(opts.ALPNProtocols)) {
    throw new NodeAbort();
  }
  return opts;
}

function make(call) {
  const args = call.args.map((a) => decode(a[0]));
  const dest = { port: 1, host: '127.0.0.1' };
  switch (call.target) {
    case 'ctx': return tls.createSecureContext(options(call, {}));
    case 'tls_server': return track(tls.createServer(options(call, {})));
    case 'tls_socket': return track(new tls.TLSSocket(undefined, guard(call, options(call, {}))));
    case 'tls_connect': return track(tls.connect(guard(call, options(call, dest))));
    case 'net_socket': return track(new net.Socket(options(call, {})));
    case 'net_connect': return track(net.connect(options(call, dest)));
    case 'net_server': return track(net.createServer(options(call, {})));
    case 'listen': return track(net.createServer()).listen(options(call, {}));
    case 'listen_args': return track(net.createServer()).listen(...args);
    case 'net_connect_args': return track(net.connect(...args));
    case 'tls_connect_args': return track(tls.connect(...args));
    case 'method': {
      let obj;
      if (call.on === 'net_socket') obj = new net.Socket();
      else if (call.on === 'tls_server') obj = tls.createServer();
      else obj = new tls.TLSSocket();
      track(obj);
      return obj[CAMEL[call.method]](...args);
    }
    default: throw new Error('bad target ' + call.target);
  }
}

function cleanup() {
  for (const obj of made) {
    try {
      if (obj instanceof net.Server) obj.close(noop);
      else if (obj && typeof obj.destroy === 'function') obj.destroy();
    } catch { /* already gone */ }
  }
  made = [];
}

function runCall(call) {
  let result;
  try {
    make(call);
    result = { threw: false };
  } catch (e) {
    result = { threw: true, cls: (e && e.name) || typeof e, code: (e && e.code) || null,
      msg: String(e && e.message) };
  }
  cleanup();
  return result;
}

async function main() {
  const calls = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  process.on('uncaughtException', noop); // asynchronous failures are not compared
  const out = [];
  for (let i = 0; i < calls.length; i++) {
    out.push(runCall(calls[i]));
    if (i % 50 === 49) await new Promise((res) => setImmediate(res));
  }
  // (the reader may be busy with its own side: exit once the pipe took all of it, not before)
  const flushed = new Promise((res) => process.stdout.write(JSON.stringify(out), res));
  await new Promise((res) => setTimeout(res, 50));
  await flushed;
  process.exit(0);
}

main();
