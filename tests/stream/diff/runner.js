'use strict';
// Differential stream runner (Node side): runs each script of a JSON file of scripts against
// Node's own stream module and prints one JSON log per script (a JSON array of logs).
// Usage: node runner.js scripts.json > logs.json
// The script language is described in gen.py; runner.py is the nodetls side. Both must log
// exactly the same strings for the same observable behaviour.
const stream = require('stream');
const { codeOf, boom, hex, newLog, currentLog, runAll } = require('../../helpers/difftest');

function chunkStr(c) {
  if (c === null) return 'null';
  if (c === undefined) return 'undef';
  if (typeof c === 'string') return 's:' + hex(c);
  if (Buffer.isBuffer(c)) return hex(c);
  return '?' + typeof c;
}

function arg(a) {
  // a chunk argument: hex string (a Buffer), ["s", text] (a string) or null
  if (a === null || a === undefined) return null;
  if (Array.isArray(a)) return a[1];
  return Buffer.from(a, 'hex');
}

// Node v20's fromList, a string stream's read(n) spanning chunks, compares the n characters
// still wanted with the number of buffered chunks (`n === buf.length`) rather than the chunk's
// length: it may return more than n characters (and its readableLength goes wrong), or, when
// the n characters end exactly at a chunk's end with more chunks behind it, leave an empty
// string at the buffer's head, which stops flowing mode (read() sees a first chunk of length 0
// and returns null: a 'data' listener then gets nothing). Marked, so that
// compare.py leaves the script out (nodetls returns n characters and flows on).
function overrun(c, n, s) {
  if (typeof c !== 'string' || !(n > 0)) return;
  const buf = s.readableBuffer;
  if (c.length > n || (Array.isArray(buf) && buf.includes(''))) {
    currentLog().push('node-bug read-overrun');
  }
}

const tick = () => new Promise((r) => setImmediate(r));

async function runScript(script) {
  // gen2.py's scripts start as every later script of a file does (in a promise reaction,
  // where the reactions the ops queue run before their nextTicks), the first one too
  if (script.v === 2) await tick();
  const log = newLog();
  const L = (s) => log.push(s);
  // gen2.py's scripts ("v": 2): what runs on promises logs here (see gen2.py)
  const alog = [];
  const A = (s) => alog.push(s);
  const streams = [];
  const pendingW = [];
  const pendingC = [];
  const ac = new AbortController();

  function make(i, spec) {
    const opts = {};
    if (spec.hwm !== null && spec.hwm !== undefined) opts.highWaterMark = spec.hwm;
    if (spec.autoDestroy === false) opts.autoDestroy = false;
    if (spec.allowHalfOpen === false) opts.allowHalfOpen = false;
    if (spec.decodeStrings === false) opts.decodeStrings = false;
    if (spec.emitClose === false) opts.emitClose = false;
    const kind = spec.kind;
    let s;
    const src = (spec.src || []).slice();
    const readHook = function(n) {
      L(`${i} _read ${n}`);
      if (spec.read === 'noop' || src.length === 0) return;
      const c = arg(src.shift());
      if (spec.read === 'sync') {
        L(`${i} _push ${chunkStr(c)} -> ${s.push(c)}`);
      } else {
        process.nextTick(() => { L(`${i} _push ${chunkStr(c)} -> ${s.push(c)}`); });
      }
    };
    const doneW = (cb, data) => {
      if (spec.write === 'sync') cb(null, data);
      else if (spec.write === 'tick') process.nextTick(cb, null, data);
      else pendingW.push({ i, cb, data });
    };
    const writeHook = function(chunk, enc, cb) {
      L(`${i} _write ${chunkStr(chunk)}`);
      doneW(cb);
    };
    const transformHook = function(chunk, enc, cb) {
      L(`${i} _transform ${chunkStr(chunk)}`);
      doneW(cb, chunk);
    };
    const writevHook = function(chunks, cb) {
      L(`${i} _writev ${chunks.map((c) => chunkStr(c.chunk)).join(',')}`);
      doneW(cb);
    };
    const finalHook = function(cb) {
      L(`${i} _final`);
      if (spec.final === 'sync') cb();
      else if (spec.final === 'tick') process.nextTick(cb);
      else process.nextTick(cb, boom('EFINAL'));
    };
    const flushHook = function(cb) {
      L(`${i} _flush`);
      if (spec.final === 'sync') cb(null, Buffer.from('ff', 'hex'));
      else if (spec.final === 'tick') process.nextTick(cb, null, Buffer.from('ff', 'hex'));
      else process.nextTick(cb, boom('EFINAL'));
    };
    if (spec.construct) {
      opts.construct = function(cb) {
        L(`${i} _construct`);
        if (spec.construct === 'sync') cb();
        else if (spec.construct === 'tick') process.nextTick(cb);
        else if (spec.construct === 'error') process.nextTick(cb, boom('ECONSTRUCT'));
        else pendingC.push({ i, cb });
      };
    }
    if (kind === 'from') {
      opts.objectMode = false;
      const items = src.map(arg);
      const it = spec.async ? (async function* () { for (const c of items) yield c; })() : items;
      s = stream.Readable.from(it, opts);
    } else if (kind === 'readable') {
      opts.read = readHook;
      s = new stream.Readable(opts);
    } else if (kind === 'writable') {
      opts.write = writeHook;
      if (spec.writev) opts.writev = writevHook;
      if (spec.final) opts.final = finalHook;
      s = new stream.Writable(opts);
    } else if (kind === 'duplex') {
      opts.read = readHook;
      opts.write = writeHook;
      if (spec.writev) opts.writev = writevHook;
      if (spec.final) opts.final = finalHook;
      s = new stream.Duplex(opts);
    } else if (kind === 'transform') {
      opts.transform = transformHook;
      if (spec.final) opts.flush = flushHook;
      s = new stream.Transform(opts);
    } else if (kind === 'passthrough') {
      s = new stream.PassThrough(opts);
    } else {
      throw new Error('bad kind ' + kind);
    }
    // passive listeners: they change nothing in the stream's behaviour
    s.on('error', (e) => L(`${i} error ${codeOf(e)}`));
    s.on('close', () => L(`${i} close`));
    if (kind !== 'writable') s.on('end', () => L(`${i} end`));
    if (kind !== 'readable' && kind !== 'from') {
      s.on('finish', () => L(`${i} finish`));
      s.on('drain', () => L(`${i} drain`));
    }
    s.__listeners = {};
    return s;
  }

  script.streams.forEach((spec, i) => streams.push(make(i, spec)));

  function state(s) {
    const o = {};
    o.readable = s.readable === undefined ? null : s.readable;
    o.writable = s.writable === undefined ? null : s.writable;
    o.destroyed = s.destroyed;
    o.closed = s.closed;
    o.errored = s.errored ? codeOf(s.errored) : null;
    for (const k of ['readableLength', 'readableEnded', 'readableFlowing', 'writableLength',
      'writableEnded', 'writableFinished', 'writableNeedDrain', 'writableCorked']) {
      o[k] = s[k] === undefined ? null : s[k];
    }
    return o;
  }

  function valStr(v) {
    return v === undefined ? 'undef' : String(v);
  }

  // a pipeline stage: a stream, or a function of gen2.py's
  function stage(st, n) {
    if (typeof st === 'number') return streams[st];
    if (Array.isArray(st)) {  // ['gen', chunks]: a source
      const items = st[1].map(arg);
      return async function* () {
        for (const c of items) { A(`g@${n} yield ${chunkStr(c)}`); yield c; }
      };
    }
    if (st === 'agen') {
      return async function* (source) {
        for await (const c of source) { A(`a@${n} ${chunkStr(c)}`); yield c; }
      };
    }
    if (st === 'adest') {
      return async function(source) {
        for await (const c of source) A(`d@${n} ${chunkStr(c)}`);
        return 'v';
      };
    }
    throw new Error('bad stage ' + st);
  }

  const ops = script.ops;
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k];
    const name = op[0];
    if (name === 'tick') {
      L('tick');
      for (let j = 0; j < 3; j++) await tick();
      continue;
    }
    const t = op[1];
    const s = streams[t];
    L(`> ${t} ${name}`);
    let ret;
    try {
      switch (name) {
        case 'push': ret = String(s.push(arg(op[2]))); break;
        case 'read': {
          const c = s.read(op[2] === null ? undefined : op[2]);
          overrun(c, op[2], s);
          ret = chunkStr(c);
          break;
        }
        case 'write': {
          const n = k;
          ret = String(s.write(arg(op[2]), (e) => L(`${t} wcb@${n} ${codeOf(e)}`)));
          break;
        }
        case 'end': {
          const n = k;
          const cb = (e) => L(`${t} endcb@${n} ${codeOf(e)}`);
          if (op[2] === null) s.end(cb); else s.end(arg(op[2]), cb);
          break;
        }
        case 'cork': s.cork(); break;
        case 'uncork': s.uncork(); break;
        case 'pause': s.pause(); break;
        case 'resume': s.resume(); break;
        case 'enc': s.setEncoding(op[2]); break;
        case 'destroy': {
          const n = k;
          if (op[3]) s.destroy(op[2] ? boom('EBOOM') : null, (e) => L(`${t} dcb@${n} ${codeOf(e)}`));
          else s.destroy(op[2] ? boom('EBOOM') : undefined);
          break;
        }
        case 'unshift': s.unshift(arg(op[2])); break;
        case 'on': {
          const ev = op[2];
          let fn;
          let once = false;
          if (ev === 'data') {
            fn = (c) => {
              L(`${t} data ${chunkStr(c)}`);
              if (op[3] === 'pause') s.pause();
              else if (op[3] === 'destroy') s.destroy();
              else if (op[3] === 'unshift' && !once) { once = true; s.unshift(c); }
            };
          } else if (ev !== 'readable') {
            // 'end', 'finish', 'drain': an action in the listener
            fn = () => {
              L(`${t} on-${ev}`);
              if (once) return;  // (once: a drain listener writing again would never end)
              once = true;
              const a = op[3];
              if (a === 'end') s.end();
              else if (a === 'write') L(`${t} write-in-${ev} ${s.write(Buffer.from('7a', 'hex'))}`);
              else if (a === 'resume') s.resume();
              else if (a === 'destroy') s.destroy();
              else if (a === 'push') L(`${t} push-in-${ev} ${s.push(Buffer.from('79', 'hex'))}`);
            };
          } else if (op[3] === 'drain') {
            fn = () => {
              L(`${t} readable`);
              let c;
              while ((c = s.read()) !== null) L(`${t} read ${chunkStr(c)}`);
            };
          } else if (op[3] === 'read1') {
            fn = () => {
              L(`${t} readable`);
              const c = s.read(1);
              L(`${t} read ${chunkStr(c)}`);
              overrun(c, 1, s);
            };
          } else fn = () => L(`${t} readable`);
          s.__listeners[ev] = s.__listeners[ev] || [];
          s.__listeners[ev].push(fn);
          s.on(ev, fn);
          break;
        }
        case 'off': {
          const fns = s.__listeners[op[2]] || [];
          if (fns.length) s.removeListener(op[2], fns.shift());
          break;
        }
        case 'wcb': {
          const idx = pendingW.findIndex((p) => p.i === t);
          if (idx >= 0) {
            const p = pendingW.splice(idx, 1)[0];
            if (op[2]) p.cb(boom('EWRITE')); else p.cb(null, p.data);
          } else ret = 'none';
          break;
        }
        case 'ccb': {
          const idx = pendingC.findIndex((p) => p.i === t);
          if (idx >= 0) {
            const p = pendingC.splice(idx, 1)[0];
            if (op[2]) p.cb(boom('ECONSTRUCT')); else p.cb();
          } else ret = 'none';
          break;
        }
        case 'pipe': s.pipe(streams[op[2]], { end: op[3] }); break;
        case 'pipeline': {
          const n = k;
          const stages = op[2].map((st) => stage(st, n));
          if (op[3] === 'cb') {
            stream.pipeline(...stages, (e, v) => L(`pl@${n} ${codeOf(e)} ${valStr(v)}`));
          } else {
            stream.promises.pipeline(...stages, { end: op[4] }).then(
              (v) => A(`pl@${n} resolve ${valStr(v)}`), (e) => A(`pl@${n} reject ${codeOf(e)}`));
          }
          break;
        }
        case 'finished': {
          const n = k;
          const o = op[2] === null ? undefined : op[2];
          if (op[3] === 'cb') {
            const cb = (e) => L(`fin@${n} ${codeOf(e)}`);
            if (o === undefined) stream.finished(s, cb); else stream.finished(s, o, cb);
          } else {
            stream.promises.finished(s, o).then(
              () => A(`fin@${n} ok`), (e) => A(`fin@${n} reject ${codeOf(e)}`));
          }
          break;
        }
        case 'iter': {
          const n = k;
          const lim = op[2];
          const it = op[3] === null ? s : s.iterator({ destroyOnReturn: op[3] });
          (async () => {
            let got = 0;
            try {
              for await (const c of it) {
                A(`it@${n} ${chunkStr(c)}`);
                if (lim !== null && ++got >= lim) { A(`it@${n} break`); break; }
              }
              A(`it@${n} done`);
            } catch (e) {
              A(`it@${n} error ${codeOf(e)}`);
            }
          })();
          break;
        }
        case 'signal': stream.addAbortSignal(ac.signal, s); break;
        case 'abort': ac.abort(); break;
        case 'unpipe': s.unpipe(streams[op[2]]); break;
        default: throw new Error('bad op ' + name);
      }
    } catch (e) {
      ret = 'throw ' + codeOf(e);
    }
    L(`= ${ret === undefined ? '' : ret}`);
  }
  L('tick');
  for (let j = 0; j < 3; j++) await tick();
  if (script.v === 2) {
    // compared consumer by consumer (runner2.py's alog_key): a stable sort by the line's tag
    const key = (line) => line.split(' ')[0];
    const sorted = alog.map((l, j) => [key(l), j, l])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1])).map((x) => x[2]);
    return { log, alog: sorted, state: streams.map(state) };
  }
  return { log, state: streams.map(state) };
}

runAll(runScript, { logUncaught: true });
