'use strict';
// Node's client for the client-side workloads of benchmarks/bench.py (clients/nodetls_load.py is
// the same client written with nodetls): drives an echo server and prints one JSON line.
//
//   node load.js '{"mode": "hs", "port": 4433, "ca": "ca.pem", ...}'
//
// Modes (options in the JSON; times in seconds):
//   hs      full handshakes: `concurrency` loops of connect -> 'secureConnect' -> end() -> 'close'
//   resume  the same, every connection resuming the session of one first connection
//   rr      one connection: write `size` bytes, wait for them to come back, repeat
//   rrcb    as rr, the next write from the 'data' listener (no promise per round trip)
// hs/resume/rr/rrcb run for `warmup` s unmeasured, then for `duration` s measured. The JSON line has
// `ops` (in the measured window), `seconds`, `rate` (ops/s), `total_ops` (warmup and tail
// included: what the server did while this process ran), `cpu` (this process's CPU seconds in
// the measured window), `errors`, and for resume `not_resumed`.
const tls = require('node:tls');
const fs = require('node:fs');

const opt = Object.assign({
  host: '127.0.0.1', servername: 'localhost', duration: 2, warmup: 0.3, concurrency: 8,
  size: 64,
}, JSON.parse(process.argv[2]));
// One context for every connection (tls.connect with `ca` would build one per connection).
const secureContext = tls.createSecureContext({ ca: [fs.readFileSync(opt.ca)], minVersion: 'TLSv1.3' });
const now = () => Number(process.hrtime.bigint()) / 1e9;
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

function connect(extra = {}) {
  const s = tls.connect(Object.assign({
    host: opt.host, port: opt.port, servername: opt.servername, secureContext,
  }, extra));
  s.setNoDelay(true);  // TCP_NODELAY, as nodetls (asyncio) has by default
  return s;
}

// One connection to completion; resolves with isSessionReused().
function oneConnection(session) {
  return new Promise((resolve, reject) => {
    const s = connect(session ? { session } : {});
    let reused = false;
    s.on('secureConnect', () => { reused = s.isSessionReused(); s.end(); });
    s.on('error', reject);
    s.on('close', () => resolve(reused));
    s.resume();
  });
}

// A session to resume: from a first connection that also exchanged one byte (Node's server
// sends its TLS 1.3 tickets only once it writes).
function firstSession() {
  return new Promise((resolve, reject) => {
    const s = connect();
    let session = null;
    let echoed = false;
    const done = () => { if (session && echoed) { s.end(); resolve(session); } };
    s.on('session', (sess) => { session = session || sess; done(); });
    s.on('secureConnect', () => s.write('x'));
    s.on('data', () => { echoed = true; done(); });
    s.on('error', reject);
  });
}

// Run `step` (a function returning a promise) in `loops` parallel loops for warmup + duration.
async function timed(loops, step) {
  const t0 = now();
  const tMeasure = t0 + opt.warmup;
  const tEnd = tMeasure + opt.duration;
  let ops = 0, totalOps = 0, errors = 0, cpu0 = null, cpu1 = null, t1 = null;
  const worker = async () => {
    for (;;) {
      const t = now();
      if (cpu0 === null && t >= tMeasure) cpu0 = cpuNow();
      if (t >= tEnd) {
        if (cpu1 === null) { cpu1 = cpuNow(); t1 = t; }
        return;
      }
      try {
        await step();
        totalOps++;
        const tDone = now();
        if (tDone >= tMeasure && tDone < tEnd) ops++;
      } catch (err) {
        errors++;
        if (errors > 100) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: loops }, worker));
  const seconds = Math.min(t1, tEnd) - tMeasure;
  return { ops, seconds, rate: ops / seconds, total_ops: totalOps, cpu: cpu1 - cpu0, errors };
}

async function handshakes(resume) {
  const session = resume ? await firstSession() : null;
  let notResumed = 0;
  const res = await timed(opt.concurrency, async () => {
    const reused = await oneConnection(session);
    if (resume && !reused) notResumed++;
  });
  if (resume) { res.not_resumed = notResumed; res.total_ops += 1; }
  return res;
}

// An open connection with a reader: `until(n)` resolves once n more bytes have arrived.
function openReader() {
  return new Promise((resolve, reject) => {
    const s = connect();
    let got = 0, want = Infinity, wake = null;
    s.on('data', (chunk) => {
      got += chunk.length;
      if (got >= want) { const w = wake; wake = null; want = Infinity; w(); }
    });
    s.on('error', reject);
    s.on('secureConnect', () => resolve({
      socket: s,
      until(n) {
        return new Promise((res) => {
          want = got + n;
          wake = res;
          if (got >= want) { wake = null; want = Infinity; res(); }
        });
      },
      close() { return new Promise((res) => { s.on('close', res); s.end(); }); },
    }));
  });
}

async function roundTrips() {
  const conn = await openReader();
  const msg = Buffer.alloc(opt.size, 'r');
  const res = await timed(1, () => { const p = conn.until(msg.length); conn.socket.write(msg); return p; });
  await conn.close();
  return res;
}

// rrcb: as rr, the next write from the 'data' listener (no promise per round trip), so only the
// TLS client's path and the event loop are measured. The window as timed()'s: CPU from the first
// round trip done after the warm-up to the first done after the end, the ones in between counted.
function roundTripsInCallbacks() {
  return new Promise((resolve, reject) => {
    const s = connect();
    const msg = Buffer.alloc(opt.size, 'r');
    let got = 0, ops = 0, totalOps = 0, cpu0 = null, tMeasure = 0, tEnd = 0, finished = false;
    s.on('error', reject);
    s.on('data', (chunk) => {
      got += chunk.length;
      if (got < msg.length || finished) return;
      got -= msg.length;
      totalOps++;
      const t = now();
      if (cpu0 === null) {
        if (t >= tMeasure) cpu0 = cpuNow();
      } else if (t < tEnd) {
        ops++;
      } else {
        finished = true;
        const cpu = cpuNow() - cpu0;
        const seconds = Math.min(t, tEnd) - tMeasure;
        s.on('close', () => resolve({ ops, seconds, rate: ops / seconds, total_ops: totalOps,
          cpu, errors: 0 }));
        s.end();
        return;
      }
      s.write(msg);
    });
    s.on('secureConnect', () => {
      tMeasure = now() + opt.warmup;
      tEnd = tMeasure + opt.duration;
      s.write(msg);
    });
  });
}

const modes = {
  hs: () => handshakes(false), resume: () => handshakes(true), rr: roundTrips,
  rrcb: roundTripsInCallbacks,
};
modes[opt.mode]().then((res) => {
  console.log(JSON.stringify(Object.assign({ mode: opt.mode, client: 'node' }, res)));
  process.exit(0);
}, (err) => {
  console.error(`load.js ${opt.mode}: ${err.stack || err}`);
  process.exit(1);
});
