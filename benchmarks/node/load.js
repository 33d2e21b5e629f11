'use strict';
// The load generator of benchmarks/bench_tls.py: drives an echo server (nodetls's or Node's)
// with Node's tls client and prints one JSON line with what it measured.
//
//   node load.js '{"mode": "hs", "port": 4433, "ca": "ca.pem", ...}'
//
// Modes (options in the JSON; times in seconds):
//   hs      full handshakes: `concurrency` loops of connect -> 'secureConnect' -> end() -> 'close'
//   resume  the same, every connection resuming the session of one first connection
//   rr      one connection: write `size` bytes, wait for them to come back, repeat
//   bulk    one connection: write `bytes` bytes (64 KiB writes, with backpressure) and read the
//           echo back; timed from the first write to the last byte back
//   idle    open `connections` connections (each sends one byte and gets it back, so the server
//           has finished its handshake), print "READY <n>", hold them until stdin closes
// hs/resume/rr run for `warmup` s unmeasured, then for `duration` s measured. The JSON line has
// `ops` (in the measured window), `seconds`, `rate` (ops/s), `total_ops` (warmup and tail
// included: what the server did while this process ran), `cpu` (this process's CPU seconds in
// the measured window), `errors`, and for resume `not_resumed`.
const tls = require('node:tls');
const fs = require('node:fs');

const opt = Object.assign({
  host: '127.0.0.1', servername: 'localhost', duration: 2, warmup: 0.3, concurrency: 8,
  size: 64, bytes: 64 * 1024 * 1024, connections: 500,
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

function writeAll(socket, total) {
  const chunk = Buffer.alloc(64 * 1024, 'b');
  return new Promise((resolve) => {
    let left = total;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
      resolve();
    };
    pump();
  });
}

async function bulk() {
  const conn = await openReader();
  const warm = Math.min(opt.bytes, 4 * 1024 * 1024) >> 2;
  let p = conn.until(warm);
  await writeAll(conn.socket, warm);
  await p;
  const t0 = now(), cpu0 = cpuNow();
  p = conn.until(opt.bytes);
  await writeAll(conn.socket, opt.bytes);
  await p;
  const seconds = now() - t0;
  const cpu = cpuNow() - cpu0;
  await conn.close();
  return { ops: opt.bytes, seconds, rate: opt.bytes / seconds, total_ops: opt.bytes + warm, cpu, errors: 0 };
}

async function idle() {
  const conns = [];
  let next = 0;
  const openOne = async () => {
    while (next < opt.connections) {
      next++;
      const conn = await openReader();
      const p = conn.until(1);
      conn.socket.write('i');
      await p;
      conns.push(conn);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opt.concurrency, opt.connections) }, openOne));
  console.log('READY', conns.length);
  await new Promise((resolve) => { process.stdin.on('end', resolve); process.stdin.resume(); });
  await Promise.all(conns.map((c) => c.close()));
  return { ops: conns.length, seconds: 0, rate: 0, total_ops: conns.length, cpu: 0, errors: 0 };
}

const modes = { hs: () => handshakes(false), resume: () => handshakes(true), rr: roundTrips, bulk, idle };
modes[opt.mode]().then((res) => {
  console.log(JSON.stringify(Object.assign({ mode: opt.mode, client: 'node' }, res)));
  process.exit(0);
}, (err) => {
  console.error(`load.js ${opt.mode}: ${err.stack || err}`);
  process.exit(1);
});
