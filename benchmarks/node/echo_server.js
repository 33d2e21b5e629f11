'use strict';
// The Node side of benchmarks/bench.py: Node's tls.createServer docs echo server, minus the
// greeting and the logging (socket.pipe(socket)), TLS 1.3 only, TCP_NODELAY.
//
//   node echo_server.js CERT KEY [PORT=0] [HOST=127.0.0.1]
//
// Prints "LISTENING <port>" once listening; runs until killed.
const tls = require('node:tls');
const fs = require('node:fs');

const [certFile, keyFile, port = '0', host = '127.0.0.1'] = process.argv.slice(2);
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
