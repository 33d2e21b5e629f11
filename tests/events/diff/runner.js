'use strict';
// Differential EventEmitter runner (Node side): runs each script of a JSON file of scripts
// against Node's own events module and prints one JSON result per script (a JSON array).
// Usage: node runner.js scripts.json > results.json
// The script language is described in gen.py; runner.py is the nodetls side. Both must log
// exactly the same strings for the same observable behaviour.
const events = require('events');
const stream = require('stream');
const { codeOf, boom, runAll } = require('../../helpers/difftest');

const EV = (name) => (name === 'monitor' ? events.errorMonitor : name);

let warnings = [];
process.on('warning', (w) => {
  if (w.name === 'MaxListenersExceededWarning') {
    warnings.push(`warn ${w.type === events.errorMonitor ? 'monitor' : String(w.type)} ${w.count}`);
  }
});

function runScript(script) {
  const log = [];
  const L = (s) => log.push(s);
  const em = script.kind === 'readable' ? new stream.Readable({ read() {} }) : new events.EventEmitter();
  const names = new Map();
  const fns = [];
  let depth = 0;

  function show(x) {
    if (typeof x === 'function') {
      if (names.has(x)) return names.get(x);
      if (x.listener && names.has(x.listener)) return `w(${names.get(x.listener)})`;
      return '<fn>';
    }
    if (x === events.errorMonitor) return 'monitor';
    if (x instanceof Error) return 'E:' + codeOf(x);
    if (x === undefined) return 'undef';
    return String(x);
  }
  const list = (a) => '[' + a.map(show).join(',') + ']';

  // one action (of an op or of a listener), its result as logged
  function act(a) {
    switch (a[0]) {
      case 'on': return em.on(EV(a[1]), fns[a[2]]) === em ? 'this' : '?';
      case 'once': return em.once(EV(a[1]), fns[a[2]]) === em ? 'this' : '?';
      case 'prepend': return em.prependListener(EV(a[1]), fns[a[2]]) === em ? 'this' : '?';
      case 'prepend_once': return em.prependOnceListener(EV(a[1]), fns[a[2]]) === em ? 'this' : '?';
      case 'off': return em.off(EV(a[1]), fns[a[2]]) === em ? 'this' : '?';
      case 'rmall': {
        const r = a[1] === null ? em.removeAllListeners() : em.removeAllListeners(EV(a[1]));
        return r === em ? 'this' : '?';
      }
      case 'emit': {
        if (a.length < 3) return String(em.emit(EV(a[1]), 'x'));
        const args = [];
        if (a[1] === 'error') {
          if (a[2] === 1) args.push(boom('EBOOM'));
          else if (a[2] === 2) args.push('x0');
        } else {
          for (let i = 0; i < a[2]; i++) args.push('x' + i);
        }
        return String(em.emit(EV(a[1]), ...args));
      }
      case 'max': return em.setMaxListeners(a[1]) === em ? 'this' : '?';
      case 'count':
        if (a.length > 2 && a[2] !== null) return String(em.listenerCount(EV(a[1]), fns[a[2]]));
        return String(em.listenerCount(EV(a[1])));
      case 'names': return list(em.eventNames());
      case 'listeners': return list(em.listeners(EV(a[1])));
      case 'raw': return list(em.rawListeners(EV(a[1])));
      case 'bad': {
        const m = { on: 'on', once: 'once', prepend: 'prependListener',
          prepend_once: 'prependOnceListener', off: 'removeListener' }[a[1]];
        return String(em[m]('a', 42));
      }
      case 'log': return null;
      default: throw new Error('bad op ' + a[0]);
    }
  }

  script.fns.forEach((spec, i) => {
    let calls = 0;
    const reps = spec[0] === 'log' ? 0 : 1;
    const fn = function(...args) {
      L(`f${i} ${args.map(show).join(' ')}`.trimEnd());
      calls++;
      if (calls > reps || depth >= 6) return;
      depth++;
      try {
        const r = act(spec);
        L(`f${i} ${spec[0]} -> ${r}`);
      } catch (e) {
        L(`f${i} throw ${codeOf(e)}`);
      } finally {
        depth--;
      }
    };
    names.set(fn, `f${i}`);
    fns.push(fn);
  });

  warnings = [];
  for (const op of script.ops) {
    L(`> ${op.map((x) => (x === null ? 'null' : String(x))).join(' ')}`);
    let r;
    try {
      r = act(op);
    } catch (e) {
      r = 'throw ' + codeOf(e);
    }
    L(`= ${r}`);
  }
  const state = {
    names: list(em.eventNames()),
    counts: ['a', 'b', 'error', 'newListener', 'removeListener', 'monitor', 'close'].map(
      (e) => em.listenerCount(EV(e))),
    max: em.getMaxListeners(),
  };
  return { log, state };
}

// the warnings come on a later tick
runAll(async (sc) => {
  const r = runScript(sc);
  await new Promise((res) => setImmediate(res));
  r.warnings = warnings;
  return r;
});
