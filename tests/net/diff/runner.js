'use strict';
// Differential net runner (Node side): runs each script of a JSON file of scripts (one server
// and one client over 127.0.0.1) against Node's own net module and prints one JSON result per
// script (a JSON array). Usage: node runner.js scripts.json > results.json
// The script language is described in gen.py; runner.py is the nodetls side. Both must log
// exactly the same strings for the same observable behaviour.
const net = require('net');
const { runAll } = require('../../helpers/difftest');
const { Log, watch, state, runOps } = require('../../helpers/difftest_sockets');

const EVENTS = ['connect', 'ready', 'end', 'finish', 'drain', 'timeout'];

// the ops only net's scripts have
function own(name, s) {
  switch (name) {
    case 'nodelay': return s.setNoDelay(true);
    case 'ref': return s.ref();
    case 'unref': return s.unref();
    default: throw new Error('bad op ' + name);
  }
}

async function runScript(script) {
  const logs = { c: new Log(), s: new Log() };
  const server = net.createServer({ allowHalfOpen: script.server.allowHalfOpen,
    pauseOnConnect: script.server.pauseOnConnect });
  let accepted = null;
  const gotConn = new Promise((res) => server.on('connection', (s) => {
    accepted = s;
    watch(s, logs.s, EVENTS);
    res();
  }));
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const client = net.connect({ port: server.address().port, host: '127.0.0.1',
    allowHalfOpen: script.client.allowHalfOpen });
  watch(client, logs.c, EVENTS);
  const connected = new Promise((res) => client.once('connect', res));
  let timer;
  await Promise.race([Promise.all([gotConn, connected]),
    new Promise((res) => { timer = setTimeout(res, 3000); })]);
  clearTimeout(timer);
  await runOps(script.ops, 0, { c: client, s: accepted }, logs, own);
  const result = { c: logs.c.render(), s: logs.s.render(),
    state: { c: state(client), s: accepted ? state(accepted) : null } };
  client.destroy();
  if (accepted) accepted.destroy();
  await new Promise((res) => server.close(res));
  return result;
}

runAll(runScript);
