'use strict';
// Node's reference for tests/faults/test_callback_misuse.py.  For each pause-point callback
// (SNICallback, 'OCSPRequest', 'resumeSession', 'newSession') and each misuse (called twice at
// once, twice after 'secureConnection', never, after the client left): what the server reports
// about that connection, what the extra call does, whether the next client is served.
// One JSON line per case.  argv: KEY CERT CA
const tls = require('tls');
const fs = require('fs');
const { SSL_OP_NO_TICKET } = require('constants');
const [key, cert, ca] = process.argv.slice(2).map((p) => fs.readFileSync(p));

function scenario(point, mode) {
  return new Promise((resolve) => {
    const out = { point, mode, server: [], call: null, served: false };
    const sopts = { key, cert, handshakeTimeout: 1000, maxVersion: 'TLSv1.2',
                    secureOptions: SSL_OP_NO_TICKET };
    const copts = { host: '127.0.0.1', ca, servername: 'localhost', maxVersion: 'TLSv1.2' };
    let armed = point !== 'resumeSession';
    let recording = armed;
    let late = null;
    let faulty = null;
    const record = (what) => { if (recording) out.server.push(what); };
    const extra = (cb, args) => {
      try { cb(...args); out.call = 'returned'; } catch (e) { out.call = 'threw:' + (e.code || e.message); }
    };
    function answer(cb, ...args) {
      if (!armed) return cb(...args);
      armed = false;
      if (mode === 'never') return;
      if (mode === 'gone') { late = () => extra(cb, args); faulty.destroy(); return; }
      cb(...args);
      if (mode === 'twice') extra(cb, args);
      if (mode === 'twice_late') late = () => extra(cb, args);
    }
    if (point === 'SNICallback') sopts.SNICallback = (name, cb) => answer(cb, null, null);
    if (point === 'OCSPRequest') copts.requestOCSP = true;
    const server = tls.createServer(sopts, (s) => {
      record('secureConnection');
      s.on('error', (e) => record('error:' + (e.code || e.message)));
      s.on('data', (d) => s.write(d));
      s.on('end', () => s.end());
      if (late && mode === 'twice_late') { const f = late; late = null; setImmediate(f); }
    });
    server.on('tlsClientError', (e) => record('tlsClientError:' + (e.code || e.message)));
    if (point === 'OCSPRequest') server.on('OCSPRequest', (c, i, cb) => answer(cb, null, null));
    const store = new Map();
    server.on('newSession', (id, data, cb) => {
      store.set(id.toString('hex'), data);
      if (point === 'newSession') answer(cb); else cb();
    });
    if (point === 'resumeSession') {
      server.on('resumeSession', (id, cb) => answer(cb, null, store.get(id.toString('hex')) || null));
    }
    server.listen(0, '127.0.0.1', async () => {
      const port = server.address().port;
      const o = { ...copts, port };
      if (point === 'resumeSession') {  // a first, normal connection makes the session offered
        o.session = await new Promise((res) => {
          const c = tls.connect({ ...copts, port });
          let sess;
          c.on('session', (x) => { sess = x; });
          c.on('secureConnect', () => c.end());
          c.on('close', () => res(sess));
        });
        armed = recording = true;
      }
      faulty = tls.connect(o);
      faulty.on('secureConnect', () => faulty.write('hi'));
      faulty.on('data', () => faulty.end());
      faulty.on('error', () => {});
      faulty.on('close', () => {
        setTimeout(() => {  // the server has reported by then
          if (late) { late(); late = null; }
          setTimeout(() => {
            recording = false;
            const c2 = tls.connect({ ...copts, port }, () => c2.write('again'));
            c2.on('data', (d) => { out.served = String(d) === 'again'; c2.destroy(); });
            c2.on('error', () => {});
            c2.on('close', () => { server.close(); resolve(out); });
          }, 100);
        }, 100);
      });
      if (mode === 'never') setTimeout(() => faulty.destroy(), 1600);
    });
  });
}

// The four callbacks' scenarios run side by side (each on its own server), the modes of one
// callback one after the other: most of a scenario's time is its timers ('never': the handshake
// timeout), so this takes the time of one callback's four, not sixteen.  Printed in order.
(async () => {
  const points = ['SNICallback', 'OCSPRequest', 'resumeSession', 'newSession'];
  const rows = await Promise.all(points.map(async (point) => {
    const out = [];
    for (const mode of ['twice', 'twice_late', 'never', 'gone']) out.push(await scenario(point, mode));
    return out;
  }));
  for (const row of rows.flat()) console.log(JSON.stringify(row));
})();
