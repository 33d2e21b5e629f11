'use strict';
// Differential TLS runner (Node side): runs each script of a JSON file of scripts (one
// tls.createServer and one tls.connect client over 127.0.0.1) against Node's own tls module
// and prints one JSON result per script (a JSON array).
// Usage: NODETLS_TLSDIFF_CERTS=DIR node runner.js scripts.json > results.json
// (DIR: the certificates runner.py's cert_dir() writes). The script language is described in
// gen.py; runner.py is the nodetls side. Both must log exactly the same strings for the same
// observable behaviour.
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { codeOf, boom, hex, runAll } = require('../../helpers/difftest');

const QUIET = 30;
const SETTLE_MAX = 1000;
const SECURE_MAX = 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const DIR = process.env.NODETLS_TLSDIFF_CERTS;
const pem = (name) => fs.readFileSync(path.join(DIR, name));
const CERTS = {
  serverKey: pem('server-key.pem'), serverChain: pem('server-chain.pem'), root: pem('root.pem'),
  clientCa: pem('client-ca.pem'), clientKey: pem('client-key.pem'),
  clientCert: pem('client-cert.pem'), selfKey: pem('client-self-key.pem'),
  selfCert: pem('client-self-cert.pem'),
};

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
  for (const ev of ['connect', 'ready', 'secure', 'secureConnect', 'end', 'finish', 'drain',
    'timeout']) {
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
    'readableFlowing', 'writableLength', 'writableEnded', 'writableFinished', 'writableNeedDrain',
    'authorized', 'authorizationError', 'alpnProtocol', 'servername', 'encrypted']) {
    o[k] = s[k] === undefined ? null : s[k];
  }
  o.timeout = s.timeout === undefined ? null : s.timeout;
  o.errored = s.errored ? codeOf(s.errored) : null;
  return o;
}

// a query's value as the logs show it: null/undefined 'null', a throw '!CODE'
function q(f) {
  let v;
  try {
    v = f();
  } catch (e) {
    return '!' + codeOf(e);
  }
  return v === undefined || v === null ? 'null' : String(v);
}

function info(s) {
  const cipher = (k) => q(() => { const c = s.getCipher(); return c ? c[k] : null; });
  return [`p=${q(() => s.getProtocol())}`,
    `c=${cipher('name')}/${cipher('standardName')}/${cipher('version')}`,
    `alpn=${q(() => s.alpnProtocol)}`, `a=${q(() => s.authorized)}`,
    `e=${q(() => s.authorizationError)}`,
    `cn=${q(() => { const c = s.getPeerCertificate(); return c && c.subject ? c.subject.CN : null; })}`,
    `r=${q(() => s.isSessionReused())}`,
    `f=${q(() => { const f = s.getFinished(); return f ? f.length : null; })}` +
      `/${q(() => { const f = s.getPeerFinished(); return f ? f.length : null; })}`,
    `sn=${q(() => s.servername)}`].join(' ');
}

function ekm(a, b) {
  if (!b) return 'nosock';
  if (a.destroyed || b.destroyed) return 'gone';
  const x = q(() => a.exportKeyingMaterial(16, 'nodetls diff').toString('hex'));
  const y = q(() => b.exportKeyingMaterial(16, 'nodetls diff').toString('hex'));
  if (x.startsWith('!') || y.startsWith('!')) return `c:${x.startsWith('!') ? x : 'ok'} s:${y.startsWith('!') ? y : 'ok'}`;
  return x === y ? 'same' : 'differ';
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

function versions(o, side) {
  if (side.minVersion) o.minVersion = side.minVersion;
  if (side.maxVersion) o.maxVersion = side.maxVersion;
  if (side.ALPNProtocols) o.ALPNProtocols = side.ALPNProtocols;
  return o;
}

function serverOptions(sc) {
  const o = versions({ key: CERTS.serverKey, cert: CERTS.serverChain, ca: CERTS.clientCa,
    allowHalfOpen: sc.allowHalfOpen, pauseOnConnect: sc.pauseOnConnect,
    requestCert: sc.requestCert, rejectUnauthorized: sc.rejectUnauthorized }, sc);
  if (sc.handshakeTimeout !== null) o.handshakeTimeout = sc.handshakeTimeout;
  if (!sc.tickets) o.secureOptions = crypto.constants.SSL_OP_NO_TICKET;
  return o;
}

function clientOptions(cc, port) {
  const o = versions({ port, host: '127.0.0.1', allowHalfOpen: cc.allowHalfOpen,
    rejectUnauthorized: cc.rejectUnauthorized }, cc);
  if (cc.servername !== null) o.servername = cc.servername;
  if (cc.ca) o.ca = CERTS.root;
  if (cc.cert === 'good') Object.assign(o, { key: CERTS.clientKey, cert: CERTS.clientCert });
  if (cc.cert === 'self') Object.assign(o, { key: CERTS.selfKey, cert: CERTS.selfCert });
  return o;
}

function runOp(op, k, socks, logs) {
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
      case 'maxfrag': ret = s.destroyed ? 'gone' : s.setMaxSendFragment(op[2]); break;
      case 'noreneg': ret = s.disableRenegotiation(); break;
      case 'reneg':
        ret = s.renegotiate({ rejectUnauthorized: op[2] }, (e) => L.add(`renegcb@${k} ${codeOf(e)}`));
        break;
      case 'info': ret = info(s); break;
      case 'ekm': ret = ekm(s, socks.s); break;
      default: throw new Error('bad op ' + name);
    }
    ret = ret === s ? 'this' : ret === undefined ? '' : String(ret);
  } catch (e) {
    ret = 'throw ' + codeOf(e);
  }
  L.add(`= ${ret}`);
}

async function runScript(script) {
  const logs = { c: new Log(), s: new Log() };
  const counts = { keylogC: 0, keylogS: 0, session: 0 };
  const socks = { c: null, s: null };
  let serverDone;
  const serverSettled = new Promise((res) => { serverDone = res; });
  const server = tls.createServer(serverOptions(script.server));
  server.on('secureConnection', (s) => {
    logs.s.add('secureConnection');
    if (!socks.s) {
      socks.s = s;
      watch(s, logs.s);
    }
    serverDone();
  });
  server.on('tlsClientError', (e) => {
    logs.s.add(`tlsClientError ${codeOf(e)}`);
    serverDone();
  });
  server.on('keylog', () => { counts.keylogS++; });
  const raws = [];
  server.on('connection', (raw) => raws.push(raw));
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const client = tls.connect(clientOptions(script.client, server.address().port));
  socks.c = client;
  watch(client, logs.c);
  client.on('session', () => { counts.session++; });
  let protocol = null;
  client.once('secureConnect', () => { protocol = client.getProtocol(); });
  client.on('keylog', () => { counts.keylogC++; });
  const clientSettled = new Promise((res) => {
    client.once('secureConnect', res);
    client.once('close', res);
  });
  script.pre.forEach((op, k) => runOp(op, k, socks, logs));
  let timer;
  await Promise.race([Promise.all([serverSettled, clientSettled]),
    new Promise((res) => { timer = setTimeout(res, SECURE_MAX); })]);
  clearTimeout(timer);
  const ops = script.ops;
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k];
    if (op[0] === 'settle') {
      logs.c.add('~');
      logs.s.add('~');
      await settle();
      continue;
    }
    runOp(op, script.pre.length + k, socks, logs);
  }
  logs.c.add('~');
  logs.s.add('~');
  await settle();
  const result = { c: logs.c.render(), s: logs.s.render(),
    state: { c: state(client), s: socks.s ? state(socks.s) : null },
    counts: { keylog: { c: counts.keylogC, s: counts.keylogS }, session: protocol === 'TLSv1.2' ? counts.session : null } };
  client.destroy();
  if (socks.s) socks.s.destroy();
  for (const raw of raws) raw.destroy();
  server.close();
  return result;
}

runAll(runScript);
