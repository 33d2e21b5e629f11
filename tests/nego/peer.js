'use strict';
// The negotiation differential's Node side (peer.py is nodetls's; gen.py describes the cases).
//   node peer.js server cases.json   prints the ports ([port|null], one line), waits for its
//                                    stdin to close, then prints the servers' records
//   node peer.js client cases.json ports.json   prints the clients' records
// Certificates: the files of $NODETLS_NEGO_CERTS (certs.py).
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const { constants } = require('crypto');

const D = process.env.NODETLS_NEGO_CERTS;
const rd = (n) => fs.readFileSync(path.join(D, n));
const codeOf = (e) => (e ? e.code || '<' + (e.name || typeof e) + '>' : null);
const LIMIT = 5000;

function pairs(certs, role) {
  const kinds = certs.split('+');
  return { key: kinds.map((k) => rd(`${role}-${k}.key`)),
           cert: kinds.map((k) => rd(`${role}-${k}.pem`)) };
}

function common(o) {
  const r = {};
  for (const k of ['minVersion', 'maxVersion', 'ciphers', 'ecdhCurve', 'sigalgs', 'ALPNProtocols']) {
    if (o[k] !== null) r[k] = o[k];
  }
  if (o.secureOptions.length) r.secureOptions = o.secureOptions.reduce((a, n) => a | constants[n], 0);
  return r;
}

function q(f) {
  try { const v = f(); return v === undefined ? null : v; } catch (e) { return '!' + codeOf(e); }
}

function info(s) {
  return { protocol: q(() => s.getProtocol()), cipher: q(() => s.getCipher()),
           alpn: q(() => s.alpnProtocol), servername: q(() => s.servername),
           eph: q(() => s.getEphemeralKeyInfo()), sigalgs: q(() => s.getSharedSigalgs()),
           reused: q(() => s.isSessionReused()), authorized: q(() => s.authorized),
           authError: q(() => { const e = s.authorizationError; return e && (e.code || String(e)); }) };
}

function readStdinEnd() {
  return new Promise((resolve) => { process.stdin.on('data', () => {}); process.stdin.on('end', resolve); });
}

async function server(cases) {
  const out = cases.map(() => ({ create: null, conns: [] }));
  const servers = [];
  const ports = [];
  for (const [i, c] of cases.entries()) {
    const o = c.server;
    const opts = { ...common(o), ...pairs(o.certs, 'server'), ca: rd('client-ca.pem'),
                   requestCert: o.requestCert, rejectUnauthorized: o.rejectUnauthorized };
    if (o.honorCipherOrder !== null) opts.honorCipherOrder = o.honorCipherOrder;
    if (o.dhparam) opts.dhparam = o.dhparam === 'auto' ? 'auto' : rd('dh.pem');
    let s;
    try {
      if (o.sni) {
        const sniOpts = pairs(o.sni.certs, 'other');
        if (o.sni.ciphers !== null) sniOpts.ciphers = o.sni.ciphers;
        const ctx = tls.createSecureContext(sniOpts);
        opts.SNICallback = (name, cb) => cb(null, name === 'other.example' ? ctx : undefined);
      }
      s = tls.createServer(opts);
    } catch (e) {
      out[i].create = codeOf(e);
      ports.push(null);
      continue;
    }
    s.on('secureConnection', (sock) => {
      const rec = { ev: 'secure', ...info(sock) };
      out[i].conns.push(rec);
      sock.on('error', (e) => { rec.err = codeOf(e); });
      sock.end('x');
    });
    s.on('tlsClientError', (e) => out[i].conns.push({ ev: 'tlsClientError', code: codeOf(e) }));
    await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
    servers.push(s);
    ports.push(s.address().port);
  }
  process.stdout.write(JSON.stringify(ports) + '\n');
  await readStdinEnd();
  const deadline = Date.now() + 3000;
  for (const s of servers) {
    while (Date.now() < deadline) {
      const n = await new Promise((resolve) => s.getConnections((e, k) => resolve(k)));
      if (!n) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    s.close();
  }
  process.stdout.write(JSON.stringify(out));
}

function connectOnce(opts) {
  return new Promise((resolve) => {
    const rec = {};
    let session = null;
    let s;
    try {
      s = tls.connect(opts);
    } catch (e) {
      resolve({ rec: { create: codeOf(e) }, session });
      return;
    }
    const timer = setTimeout(() => { rec.timeout = true; s.destroy(); }, LIMIT);
    s.on('secureConnect', () => { Object.assign(rec, { ev: 'secureConnect' }, info(s)); });
    s.on('session', (b) => { session = b; });
    s.on('data', (d) => { rec.data = (rec.data || '') + d.toString('latin1'); });
    s.on('error', (e) => { if (!rec.err) rec.err = codeOf(e); });
    s.on('close', () => { clearTimeout(timer); resolve({ rec, session }); });
  });
}

async function client(cases, ports) {
  const out = [];
  for (const [i, c] of cases.entries()) {
    if (ports[i] === null) { out.push(null); continue; }
    const o = c.client;
    const opts = { ...common(o), host: '127.0.0.1', port: ports[i], ca: rd('root.pem'),
                   rejectUnauthorized: false };
    if (o.servername !== null) opts.servername = o.servername;
    if (o.cert) { opts.key = rd(`client-${o.cert}.key`); opts.cert = rd(`client-${o.cert}.pem`); }
    const first = await connectOnce(opts);
    const recs = [first.rec];
    if (o.resume && first.session) recs.push((await connectOnce({ ...opts, session: first.session })).rec);
    out.push(recs);
  }
  process.stdout.write(JSON.stringify(out));
}

const cases = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
if (process.argv[2] === 'server') server(cases);
else client(cases, JSON.parse(fs.readFileSync(process.argv[4], 'utf8')));
