'use strict';
// What the differential runners' Node sides (tests/*/diff/runner.js) share; difftest.py is
// the Python side. A runner is `node runner.js scripts.json > results.json`: runAll() reads
// the JSON array of scripts, runs each in turn and prints the JSON array of their results.
const fs = require('fs');

// an error as the runners log it: its code, else <Name>; 'null' for none
function codeOf(e) {
  if (e === null || e === undefined) return 'null';
  return e.code || ('<' + (e.name || typeof e) + '>');
}

// the scripts' own errors: an Error with a code
function boom(code) {
  const e = new Error('boom ' + code);
  e.code = code;
  return e;
}

// a Buffer's bytes, or a string's UTF-8, in hex
function hex(x) {
  return (typeof x === 'string' ? Buffer.from(x, 'utf8') : x).toString('hex');
}

// the log of the script running (newLog() starts one), where runAll's logUncaught puts an
// exception no one caught
let current = null;

function newLog() {
  current = [];
  return current;
}

function currentLog() {
  return current;
}

// runScript(script) -> result (or a promise of it), for each script of the file argv[2], in
// turn; logUncaught: an uncaught exception is logged ('uncaught CODE') in the current log
async function runAll(runScript, { logUncaught = false } = {}) {
  const scripts = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  if (logUncaught) {
    process.on('uncaughtException', (e) => { if (current) current.push('uncaught ' + codeOf(e)); });
  }
  const out = [];
  for (const sc of scripts) out.push(await runScript(sc));
  process.stdout.write(JSON.stringify(out));
}

module.exports = { codeOf, boom, hex, newLog, currentLog, runAll };
