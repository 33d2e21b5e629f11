'use strict';
// The Node side of benchmarks/bench.py: Node's tls.createServer docs echo server, minus the
// greeting and the logging (socket.pipe(socket)), TLS 1.3 only, TCP_NODELAY.
//
//   node echo_server.js CERT KEY [PORT=0] [HOST=127.0.0.1] [WORKERS=1] [POLICY=rr]
//
// Prints "LISTENING <port>" once listening (once per worker); runs until killed. WORKERS > 1:
// Node's cluster module forks that many workers sharing the port, the reference for nodetls's
// run(workers=N). POLICY: 'rr' (Node's default on Linux: the primary accepts every connection
// and hands it to a worker in turn) or 'none' (the workers accept on the shared socket
// themselves, as the kernel wakes them).
const cluster = require('node:cluster');
const tls = require('node:tls');
const fs = require('node:fs');

const [certFile, keyFile, port = '0', host = '127.0.0.1', workers = '1', policy = 'rr'] =
  process.argv.slice(2);

if (Number(workers) > 1 && cluster.isPrimary) {
  cluster.schedulingPolicy = policy === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR;
  for (let i = 0; i < Number(workers); i++) cluster.fork();
  const stop = () => {
    for (const w of Object.values(cluster.workers)) w.kill();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else {
  const options = {
    key: fs.readFileSync(keyFile),
    cert: fs.readFileSync(certFile),
    minVersion: 'TLSv1.3',
    noDelay: true,  // TCP_NODELAY, as asyncio (and so nodetls) sets on every TCP socket
  };

  const server = tls.createServer(options, (socket) => {
    socket.on('error', () => {});  // a load generator going away is not the server's problem
    socket.pipe(socket);
  });
  server.on('tlsClientError', () => {});
  server.listen(Number(port), host, () => {
    console.log('LISTENING', server.address().port);
  });
}
