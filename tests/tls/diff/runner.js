'use strict';
// Differential TLS runner (Node side): runs each script of a JSON file of scripts (one
// tls.createServer and one tls.connect client over 127.0.0.1) against Node's own tls module
// and prints one JSON result per script (a JSON array).
// Usage: NODETLS_TLSDIFF_CERTS=DIR node runner.js scripts.json > results.json
// (DIR: the certificates runner.py's cert_dir() writes). The script language is described in
// gen.py; runner.py is the nodetls side. Both must log exactly the same strings for the same
// observable behaviour. Node's sockets get setNoDelay(true) (the client, the server's
// accepted ones): nodetls's TLS sockets have TCP_NODELAY by default (a deliberate difference,
// docs/DESIGN.md); without it Nagle holds a small write behind an unacknowledged one until the
// peer's delayed ACK (40 ms), longer than a settle waits.
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { codeOf, runAll } = require('../../helpers/difftest');
const { Log, watch, state, runOp, runOps } = require('../../helpers/difftest_sockets');

const SECURE_MAX = 1000;
const EVENTS = ['connect', 'ready', 'secure', 'secureConnect', 'end', 'finish', 'drain',
  'timeout'];
const EXTRA_STATE = ['authorized', 'authorizationError', 'alpnProtocol', 'servername',
  'encrypted'];

const DIR = process.env.NODETLS_TLSDIFF_CERTS;
const pem = (name) => fs.readFileSync(path.join(DIR, name));
const CERTS = {
  serverKey: pem('server-key.pem'), serverChain: pem('server-chain.pem'), root: pem('root.pem'),
  clientCa: pem('client-ca.pem'), clientKey: pem('client-key.pem'),
  clientCert: pem('client-cert.pem'), selfKey: pem('client-self-key.pem'),
  selfCert: pem('client-self-cert.pem'),
};

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

// the ops only TLS scripts have
function own(name, s, op, k, L, socks) {
  switch (name) {
    case 'maxfrag': return s.destroyed ? 'gone' : s.setMaxSendFragment(op[2]);
    case 'noreneg': return s.disableRenegotiation();
    case 'reneg':
      return s.renegotiate({ rejectUnauthorized: op[2] }, (e) => L.add(`renegcb@${k} ${codeOf(e)}`));
    case 'info': return info(s);
    case 'ekm': return ekm(s, socks.s);
    default: throw new Error('bad op ' + name);
  }
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
      watch(s, logs.s, EVENTS);
    }
    serverDone();
  });
  server.on('tlsClientError', (e) => {
    logs.s.add(`tlsClientError ${codeOf(e)}`);
    serverDone();
  });
  server.on('keylog', () => { counts.keylogS++; });
  const raws = [];
  server.on('connection', (raw) => { raw.setNoDelay(true); raws.push(raw); });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const client = tls.connect(clientOptions(script.client, server.address().port));
  client.setNoDelay(true);
  socks.c = client;
  watch(client, logs.c, EVENTS);
  client.on('session', () => { counts.session++; });
  let protocol = null;
  client.once('secureConnect', () => { protocol = client.getProtocol(); });
  client.on('keylog', () => { counts.keylogC++; });
  const clientSettled = new Promise((res) => {
    client.once('secureConnect', res);
    client.once('close', res);
  });
  script.pre.forEach((op, k) => runOp(op, k, socks, logs, own));
  let timer;
  await Promise.race([Promise.all([serverSettled, clientSettled]),
    new Promise((res) => { timer = setTimeout(res, SECURE_MAX); })]);
  clearTimeout(timer);
  await runOps(script.ops, script.pre.length, socks, logs, own);
  const result = { c: logs.c.render(), s: logs.s.render(),
    state: { c: state(client, EXTRA_STATE), s: socks.s ? state(socks.s, EXTRA_STATE) : null },
    counts: { keylog: { c: counts.keylogC, s: counts.keylogS }, session: protocol === 'TLSv1.2' ? counts.session : null } };
  client.destroy();
  if (socks.s) socks.s.destroy();
  for (const raw of raws) raw.destroy();
  server.close();
  return result;
}

runAll(runScript);
