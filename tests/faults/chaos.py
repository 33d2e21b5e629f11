"""Randomized socket chaos: nothing a program does to its sockets may kill the process.

A *plan* (:func:`generate`, from a seed) is one nodetls server and a few clients over 127.0.0.1
-- nodetls ``net`` or ``tls`` clients (the server's form) and raw Python sockets that stop
reading, reset (``SO_LINGER`` 0) or half-close -- and a list of actions, each run at a random
moment (a number of loop steps after the start, a timer, or the n-th ``'data'``, ``'drain'``,
``'end'``, ``'finish'``, ``'close'``, ``'connect'`` event of some socket, from the listener or a
``call_soon`` of it) on some socket: writes from a byte to several MiB (so that writes queue),
``pause()``/``resume()``, ``end()``, ``end(data)``, ``destroy()``, ``destroy(err)``,
``reset_and_destroy()``, ``destroy_soon()``, ``set_no_delay``, ``set_keep_alive``,
``set_timeout``, ``server.close()`` and TLS 1.2 ``renegotiate()``.

Each plan runs on a fresh event loop under :func:`nodetls.run`, in a child process (one child
runs a batch of seeds; a seed that kills it is reported by the signal, and the batch goes on in
a new child). A seed passes when the child lives, every socket emitted ``'close'``, the loop's
exception handler saw nothing, no action raised, the run finished within its bound, and no
socket descriptor of the process is left open once the loop has closed.

Usage (from the repository root)::

    python -m tests.faults.chaos run --loop uvloop --form net --seeds 0-999
    python -m tests.faults.chaos one 123 --loop asyncio --form tls      # one seed, verbose
    python -m tests.faults.chaos minimise 123 --loop uvloop --form net  # smallest failing plan
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import faulthandler
import gc
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback
from typing import Any

LOOPS = ("asyncio", "uvloop")
FORMS = ("net", "tls")
#: Write sizes: a byte to several MiB (the large ones queue in the transport).
SIZES = (1, 100, 16_384, 65_536, 300_000, 1 << 20, 3 << 20)
#: Socket events an action can be triggered by.
EVENTS = ("data", "drain", "end", "finish", "close", "connect", "timeout", "secureConnect")
OPS = ("write", "write", "write", "write_cb", "pause", "resume", "end", "end_data", "destroy",
       "destroy_err", "reset_and_destroy", "destroy_soon", "no_delay", "keep_alive",
       "set_timeout", "server_close", "renegotiate", "flood", "flood", "write_end_destroy",
       "write_kind", "write_kind", "set_encoding", "cork", "uncork", "write_cb_destroy",
       "pause_resume")
#: What ``write_kind`` writes: a bytearray (changed in place once written, never resized: a
#: buffer given to write() is not copied), a memoryview, text.
KINDS = ("bytearray", "memoryview", "utf8", "latin1", "hex", "base64")
RAW_OPS = ("raw_send", "raw_rst", "raw_shut", "raw_close", "raw_read")
#: Problems of others, known and reported there: not counted as failures (the child reports
#: them as ``known: ...``). CPython 3.11's selector transport calls ``_call_connection_lost``
#: twice when ``resume_writing()`` closes it (python/cpython#156512, fixed in later releases):
#: a nodetls client socket destroyed from the write callback that empties its buffer, on
#: asyncio's loop (test_chaos_cases.py's strict xfail).
KNOWN = ("_SelectorSocketTransport._call_connection_lost",)
#: Bounds: the actions' phase, then the close of everything (seconds).
PHASE = 0.6
CLOSE_BOUND = 8.0
#: A child process's bound per seed (a hang beyond it is killed and reported).
SEED_BOUND = 25.0


# -- plans --------------------------------------------------------------------------------------

def generate(seed: int, form: str) -> dict[str, Any]:
    """The plan of ``seed`` for ``form`` (``'net'`` or ``'tls'``): plain data, JSON-able."""
    r = random.Random(f"{seed}:{form}")
    n = r.randint(1, 3)
    conns = []
    for _i in range(n):
        kind = "raw" if r.random() < 0.3 else form
        conns.append({"kind": kind,
                      "creads": r.random() < 0.7,  # the client listens to 'data'
                      "sreads": r.random() < 0.7,  # the server side does
                      "half_open": r.random() < 0.3})
    plan: dict[str, Any] = {
        "seed": seed, "form": form, "conns": conns,
        "server_half_open": r.random() < 0.3,
        "pause_on_connect": r.random() < 0.15,
        "tls12": form == "tls" and r.random() < 0.5,
        "actions": [],
    }
    names = [f"{side}{i}" for i in range(n) for side in "cs"]
    plan["finale"] = r.choice(("destroy", "destroy", "end", "reset", "mixed"))
    for _ in range(r.randint(1, 20)):
        target = r.choice(names)
        raw = target[0] == "c" and conns[int(target[1:])]["kind"] == "raw"
        op = r.choice(RAW_OPS) if raw else r.choice(OPS)
        arg: Any = None
        if op in ("write", "write_cb", "end_data", "raw_send", "write_end_destroy",
                  "write_cb_destroy"):
            arg = r.choice(SIZES)
        elif op == "write_kind":
            arg = [r.choice(KINDS), r.choice(SIZES)]
        elif op == "set_encoding":
            arg = r.choice(("utf8", "latin1", "hex", "base64", "utf16le"))
        elif op == "no_delay":
            arg = r.random() < 0.5
        elif op == "keep_alive":
            arg = [r.random() < 0.7, r.choice((0, 1, 60))]
        elif op == "set_timeout":
            arg = r.choice((0, 1, 5, 30, 200))
        k = r.random()
        if k < 0.3:
            trig: list[Any] = ["tick", r.randint(0, 30)]
        elif k < 0.55:
            trig = ["timer", r.choice((0, 1, 2, 5, 10, 20, 50, 100, 200, 400))]
        else:
            ev = r.choice(EVENTS)
            nth = r.randint(1, 3) if ev in ("data", "drain") else 1
            trig = ["ev", r.choice(names), ev, nth, r.random() < 0.3]
        plan["actions"].append({"at": trig, "on": target, "op": op, "arg": arg})
    return plan


# -- the child: one plan on one loop ------------------------------------------------------------

def _self_signed() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            cert.public_bytes(serialization.Encoding.PEM))


_KEYS: tuple[bytes, bytes] | None = None


def _open_sockets() -> set[tuple[str, str]]:
    from ..helpers.open_sockets import open_sockets

    return open_sockets()


class _Run:
    """One plan's run: its sockets, what they emitted, what went wrong."""

    def __init__(self, plan: dict[str, Any], verbose: bool = False) -> None:
        self.plan = plan
        self.verbose = verbose
        self.socks: dict[str, Any] = {}
        self.raws: dict[str, socket.socket] = {}
        #: a raw peer's ``sock_connect`` while it runs (an action may close the peer first)
        self.connecting: dict[str, asyncio.Task[None]] = {}
        self.closed: set[str] = set()
        self.counts: dict[tuple[str, str], int] = {}
        self.problems: list[str] = []
        self.errors: list[str] = []
        self.waiters: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        self.server: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.under: dict[str, Any] = {}

    def log(self, *what: Any) -> None:
        if self.verbose:
            print(f"{time.monotonic():.4f}", *what, file=sys.stderr, flush=True)

    # -- events and actions

    def watch(self, name: str, sock: Any) -> None:
        self.socks[name] = sock
        for ev in EVENTS:
            sock.on(ev, lambda *a, ev=ev: self.on_event(name, ev))
        sock.on("error", lambda e: self.errors.append(f"{name}: {getattr(e, 'code', e)!s}"))
        i = int(name[1:])
        if self.plan["conns"][i]["creads" if name[0] == "c" else "sreads"]:
            sock.on("data", lambda d: None)
        elif self.plan["form"] == "tls":
            pass  # (a TLS socket not read is paused: nothing to do)

    def on_event(self, name: str, ev: str) -> None:
        key = (name, ev)
        n = self.counts[key] = self.counts.get(key, 0) + 1
        if ev == "close":
            self.closed.add(name)
        self.log(name, ev, n)
        for act in self.waiters.pop((name, ev, n), ()):
            if act["at"][4]:
                self._loop().call_soon(self.act, act)
            else:
                self.act(act)

    def _loop(self) -> asyncio.AbstractEventLoop:
        assert self.loop is not None
        return self.loop

    def act(self, act: dict[str, Any]) -> None:
        name, op, arg = act["on"], act["op"], act["arg"]
        self.log("act", name, op, arg)
        try:
            if op.startswith("raw_"):
                self.raw_act(name, op, arg)
                return
            if op == "server_close":
                if self.server.listening:
                    self.server.close()
                return
            s = self.socks.get(name)
            if s is None:
                return
            if op == "write":
                s.write(bytes(arg))
            elif op == "flood":  # (writes until the transport's buffer is above its mark)
                for _ in range(256):
                    if not s.write(bytes(65536)):
                        break
            elif op == "write_end_destroy":
                s.write(bytes(arg))
                s.end()
                s.destroy()
            elif op == "write_kind":
                kind, n = arg
                if kind == "bytearray":
                    # Written, then changed in place, never resized: write() does not copy
                    # (Node's rule, docs/net.md), and uvloop keeps a bytearray waiting to be
                    # sent exported, so resizing it then raises BufferError (a program's error).
                    buf = bytearray(n)
                    s.write(buf)
                    buf[:n // 2] = b"x" * (n // 2)
                elif kind == "memoryview":
                    s.write(memoryview(bytearray(n))[1:])
                else:
                    s.write("\u00e9" * (n // 2) if kind == "utf8" else "ab" * (n // 2), kind)
            elif op == "set_encoding":
                s.set_encoding(arg)
            elif op == "cork":
                s.cork()
            elif op == "uncork":
                s.uncork()
            elif op == "write_cb_destroy":
                s.write(bytes(arg), lambda *e: s.destroy())
            elif op == "pause_resume":
                s.pause()
                s.resume()
            elif op == "write_cb":
                s.write(bytes(arg), lambda *e: None)
            elif op == "pause":
                s.pause()
            elif op == "resume":
                s.resume()
            elif op == "end":
                s.end()
            elif op == "end_data":
                s.end(bytes(arg))
            elif op == "destroy":
                s.destroy()
            elif op == "destroy_err":
                s.destroy(RuntimeError("chaos"))
            elif op == "reset_and_destroy":
                s.reset_and_destroy()
            elif op == "destroy_soon":
                s.destroy_soon()
            elif op == "no_delay":
                s.set_no_delay(arg)
            elif op == "keep_alive":
                s.set_keep_alive(arg[0], arg[1])
            elif op == "set_timeout":
                s.set_timeout(arg / 1000, (lambda: None) if arg else None)
            elif op == "abort_process":  # (the harness's self-test: a child that dies)
                os.abort()
            elif op == "renegotiate":
                if hasattr(s, "renegotiate"):
                    s.renegotiate({}, lambda *e: None)
            else:
                raise ValueError(op)
        except Exception as exc:  # (an action must never raise: Node's emit errors instead)
            self.problems.append(f"action {name} {op} raised {type(exc).__name__}: {exc}")
            self.log(traceback.format_exc())

    def raw_act(self, name: str, op: str, arg: Any) -> None:
        raw = self.raws.get(name)
        if raw is None or raw.fileno() < 0:
            return
        try:
            if op == "raw_send":
                raw.send(bytes(min(arg, 65536)))
            elif op == "raw_rst":
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.raw_close(name)
            elif op == "raw_shut":
                raw.shutdown(socket.SHUT_WR)
            elif op == "raw_close":
                self.raw_close(name)
            elif op == "raw_read":
                self.raw_reader(name)
        except OSError:
            pass  # (the raw peer's own failures: not ours)

    def raw_close(self, name: str) -> None:
        """Close a raw peer, taking its descriptor out of the loop first: an action may close
        it while the harness's ``sock_connect`` for it waits, registered for writing, and
        asyncio's selector never hears of a closed descriptor (the socket accepted next on the
        same number would inherit the registration, and lose its own when the connect gave
        up); the connect's task is cancelled."""
        raw = self.raws[name]
        if raw.fileno() >= 0:
            try:
                self._loop().remove_reader(raw.fileno())
                self._loop().remove_writer(raw.fileno())
            except Exception:
                pass
            raw.close()
            self.closed.add(name)
        connecting = self.connecting.pop(name, None)
        if connecting is not None:
            connecting.cancel()

    def raw_reader(self, name: str) -> None:
        raw = self.raws[name]

        def readable() -> None:
            try:
                data = raw.recv(1 << 20)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._loop().remove_reader(raw.fileno())

        self._loop().add_reader(raw.fileno(), readable)

    # -- the run

    async def main(self) -> None:
        loop = self.loop = asyncio.get_running_loop()
        loop.set_exception_handler(self.on_loop_exception)
        import nodetls as tls
        from nodetls import net

        plan = self.plan
        if plan["form"] == "tls":
            key, cert = _KEYS or _self_signed()
            opts: dict[str, Any] = {"key": key, "cert": cert,
                                    "allowHalfOpen": plan["server_half_open"],
                                    "pauseOnConnect": plan["pause_on_connect"]}
            if plan["tls12"]:
                opts["maxVersion"] = "TLSv1.2"
            server = self.server = tls.create_server(opts)
            server.on("secureConnection", self.on_connection)
            server.on("connection", self.on_tcp_connection)
            server.on("tlsClientError", lambda e, s: self.errors.append(f"tlsClientError {e}"))
        else:
            server = self.server = net.create_server(
                {"allowHalfOpen": plan["server_half_open"],
                 "pauseOnConnect": plan["pause_on_connect"]})
            server.on("connection", self.on_connection)
        server.on("error", lambda e: self.problems.append(f"server error {e}"))
        await asyncio.wait_for(server.listen(0, "127.0.0.1"), 5)
        port = server.address()["port"]
        self.order: list[str] = []
        for act in plan["actions"]:
            at = act["at"]
            if at[0] == "ev":
                self.waiters.setdefault((at[1], at[2], at[3]), []).append(act)
        for i, c in enumerate(plan["conns"]):
            name = f"c{i}"
            self.order.append(name)
            if c["kind"] == "raw":
                raw = socket.socket()
                raw.setblocking(False)
                self.raws[name] = raw
                connect = self.connecting[name] = loop.create_task(
                    loop.sock_connect(raw, ("127.0.0.1", port)))
                await asyncio.wait({connect}, timeout=5)
                self.connecting.pop(name, None)
                if not connect.done():  # (beyond the bound: a failure to connect)
                    connect.cancel()
                    self.raw_close(name)
                elif not connect.cancelled() and connect.exception() is not None:
                    self.raw_close(name)  # (an action closed the server already)
            elif c["kind"] == "tls":
                self.watch(name, tls.connect(port, {"host": "127.0.0.1",
                                                    "rejectUnauthorized": False,
                                                    "allowHalfOpen": c["half_open"]}))
            else:
                self.watch(name, net.connect({"port": port, "host": "127.0.0.1",
                                              "allowHalfOpen": c["half_open"]}))
        for act in plan["actions"]:
            at = act["at"]
            if at[0] == "tick":
                self.after_ticks(at[1], act)
            elif at[0] == "timer":
                loop.call_later(at[1] / 1000, self.act, act)
        # The actions' phase: until the last timer, and a little more for what it starts
        last = max([a["at"][1] / 1000 for a in plan["actions"] if a["at"][0] == "timer"],
                   default=0.0)
        await asyncio.sleep(min(PHASE, last + 0.05))
        await self.close_all()

    def after_ticks(self, n: int, act: dict[str, Any]) -> None:
        if n <= 0:
            self.act(act)
        else:
            self._loop().call_soon(self.after_ticks, n - 1, act)

    def on_connection(self, sock: Any) -> None:
        n = sum(1 for k in self.socks if k[0] == "s")
        self.watch(f"s{n}", sock)
        # (accept order may differ from connect order: the names are only labels)

    def on_tcp_connection(self, sock: Any) -> None:
        """A TLS server's TCP connection (its TLS socket is watched once secure): destroyed at
        the end, for a handshake a peer never completes (Node's waits for its timeout)."""
        name = f"t{len(self.under)}"
        self.under[name] = sock
        sock.on("close", lambda *a: self.closed.add(name))

    def on_loop_exception(self, loop: Any, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        msg = context.get("message", "")
        self.problems.append(f"loop exception: {msg} {type(exc).__name__ if exc else ''} {exc!s}"
                             [:300])
        if self.verbose and exc is not None:
            traceback.print_exception(exc, file=sys.stderr)

    async def close_all(self) -> None:
        for name in list(self.raws):
            self.raw_close(name)
        every = {**self.socks, **self.under}
        finale = self.plan.get("finale", "destroy")
        r = random.Random(self.plan["seed"])
        for name, s in every.items():
            how = r.choice(("destroy", "end", "reset")) if finale == "mixed" else finale
            if how == "end" and name[0] != "t":
                s.end()
                s.set_timeout(0.5, s.destroy)  # (a peer that never ends: destroyed later)
            elif how == "reset" and name[0] != "t":
                s.reset_and_destroy()
            else:
                s.destroy()
        waits = [s.wait_closed() for s in every.values()]
        if self.server.listening:
            waits.append(self.server.close())
        try:
            await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), CLOSE_BOUND)
        except TimeoutError:
            self.problems.append(f"not all closed within {CLOSE_BOUND} s (server listening: "
                                 f"{self.server.listening})")
        for name in every:
            if name not in self.closed:
                self.problems.append(f"no 'close' for {name} ({every[name]!r})"[:300])


def run_plan(plan: dict[str, Any], loop_name: str, verbose: bool = False) -> list[str]:
    """Run ``plan`` on a new ``loop_name`` loop here; return the problems found."""
    import nodetls

    before = _open_sockets()
    run = _Run(plan, verbose)
    problems = run.problems
    t0 = time.monotonic()
    try:
        nodetls.run(run.main, loop=loop_name)
    except BaseException as exc:  # noqa: BLE001 (reported)
        problems.append(f"run() raised {type(exc).__name__}: {exc}"[:300])
        if verbose:
            traceback.print_exc()
    if time.monotonic() - t0 > PHASE + CLOSE_BOUND + 2:
        problems.append(f"slow: {time.monotonic() - t0:.1f} s")
    problems[:] = [("known: " + p) if any(k in p for k in KNOWN) else p for p in problems]
    left = _open_sockets() - before
    if left:
        problems.append(f"descriptors left open: {sorted(left)}")
        with_gc = (gc.collect(), _open_sockets() - before)[1]
        if not with_gc:
            problems[-1] += " (closed by gc)"
    return problems


def child(loop_name: str, form: str, seeds: list[int], verbose: bool) -> None:
    """Run ``seeds`` in turn, one JSON line per seed on stdout (``start`` first, flushed: a
    seed that kills the process is the one started last)."""
    global _KEYS
    if form == "tls":
        _KEYS = _self_signed()
    faulthandler.enable()
    for seed in seeds:
        print(json.dumps({"start": seed}), flush=True)
        faulthandler.dump_traceback_later(SEED_BOUND - 3, exit=False)
        t0 = time.monotonic()
        problems = run_plan(generate(seed, form), loop_name, verbose)
        faulthandler.cancel_dump_traceback_later()
        print(json.dumps({"seed": seed, "problems": problems,
                          "secs": round(time.monotonic() - t0, 3)}), flush=True)


def child_plan(loop_name: str, plan: dict[str, Any], verbose: bool) -> int:
    global _KEYS
    if plan["form"] == "tls":
        _KEYS = _self_signed()
    faulthandler.enable()
    problems = run_plan(plan, loop_name, verbose)
    print(json.dumps({"seed": plan["seed"], "problems": problems}), flush=True)
    return 1 if any(not p.startswith("known: ") for p in problems) else 0


# -- the parent: batches of seeds in children ---------------------------------------------------

def _cmd() -> list[str]:
    return [sys.executable, "-m", "tests.faults.chaos"]


def _root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_seeds(loop_name: str, form: str, seeds: list[int], batch: int = 50,
              verbose: bool = False) -> dict[int, str]:
    """Run ``seeds`` in child processes (``batch`` seeds per child); return the failing seeds,
    each with a one-line description (``signal SIGABRT``, ``hang``, or the problems)."""
    failures: dict[int, str] = {}
    todo = list(seeds)
    while todo:
        chunk, todo = todo[:batch], todo[batch:]
        args = _cmd() + ["child", "--loop", loop_name, "--form", form,
                         "--seeds", ",".join(map(str, chunk))]
        proc = subprocess.Popen(args, cwd=_root(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        started: int | None = None
        done: set[int] = set()
        deadline = time.monotonic() + SEED_BOUND * len(chunk)
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            killed = True
        else:
            killed = False
        for line in out.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if "start" in rec:
                started = rec["start"]
            elif "seed" in rec:
                done.add(rec["seed"])
                real = [p for p in rec["problems"] if not p.startswith("known: ")]
                if real:
                    failures[rec["seed"]] = "; ".join(real)
        if started is not None and started not in done:
            rc = proc.returncode
            if killed:
                what = "hang (killed)"
            elif rc < 0:
                what = f"signal {signal.Signals(-rc).name}"
            else:
                what = f"exit {rc}"
            tail = err.strip().splitlines()[-12:]
            failures[started] = what + " | " + " / ".join(tail)
            rest = chunk[chunk.index(started) + 1:]
            todo = rest + todo
        elif proc.returncode not in (0, None) and not killed:
            failures[-1] = f"child exit {proc.returncode}: {err[-500:]}"
        if verbose:
            print(f"{loop_name}/{form}: through seed {chunk[-1]}, {len(failures)} failing",
                  file=sys.stderr, flush=True)
    return failures


def run_one(loop_name: str, plan: dict[str, Any], verbose: bool = True,
            timeout: float = SEED_BOUND) -> tuple[str, str]:
    """Run one ``plan`` in a child; return (outcome, stderr): ``ok``, ``problems: ...``,
    ``signal ...`` or ``hang``."""
    args = _cmd() + ["plan", "--loop", loop_name] + (["-v"] if verbose else [])
    try:
        proc = subprocess.run(args, cwd=_root(), input=json.dumps(plan), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        e = exc.stderr
        return "hang", e.decode() if isinstance(e, bytes) else (e or "")
    if proc.returncode < 0:
        return f"signal {signal.Signals(-proc.returncode).name}", proc.stderr
    for line in proc.stdout.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        real = [p for p in rec.get("problems", ()) if not p.startswith("known: ")]
        if real:
            return "problems: " + "; ".join(real), proc.stderr
    if proc.returncode:
        return f"exit {proc.returncode}", proc.stderr
    return "ok", proc.stderr


def minimise(loop_name: str, plan: dict[str, Any], tries: int = 3) -> dict[str, Any]:
    """Drop actions (and connections no action names) while the plan still fails the same way
    (the outcome's first word) in one of ``tries`` runs."""
    first, _ = run_one(loop_name, plan, verbose=False)
    kind = first.split(":")[0].split(" ")[0]
    if kind == "ok":
        return plan

    def fails(p: dict[str, Any]) -> bool:
        for _ in range(tries):
            out, _ = run_one(loop_name, p, verbose=False)
            if out.split(":")[0].split(" ")[0] == kind:
                return True
        return False

    changed = True
    while changed:
        changed = False
        i = 0
        while i < len(plan["actions"]):
            cand = dict(plan, actions=plan["actions"][:i] + plan["actions"][i + 1:])
            if fails(cand):
                plan, changed = cand, True
            else:
                i += 1
    return plan


def _seeds(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.faults.chaos")
    p.add_argument("cmd", choices=("run", "one", "minimise", "child", "plan"))
    p.add_argument("seed", nargs="?", type=int)
    p.add_argument("--loop", choices=LOOPS, default="uvloop")
    p.add_argument("--form", choices=FORMS, default="net")
    p.add_argument("--seeds", default="0-99")
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("-v", action="store_true")
    a = p.parse_args(argv)
    if a.cmd == "child":
        child(a.loop, a.form, _seeds(a.seeds), a.v)
        return 0
    if a.cmd == "plan":
        return child_plan(a.loop, json.loads(sys.stdin.read()), a.v)
    if a.cmd == "run":
        t0 = time.monotonic()
        seeds = _seeds(a.seeds)
        failures = run_seeds(a.loop, a.form, seeds, a.batch, verbose=True)
        for seed, what in sorted(failures.items()):
            print(f"{a.loop} {a.form} seed {seed}: {what}")
        print(f"{a.loop} {a.form}: {len(seeds)} seeds, {len(failures)} failing, "
              f"{time.monotonic() - t0:.0f} s")
        return 1 if failures else 0
    assert a.seed is not None, "a seed"
    plan = generate(a.seed, a.form)
    if a.cmd == "minimise":
        plan = minimise(a.loop, plan)
    print(json.dumps(plan))
    out, err = run_one(a.loop, plan, verbose=True)
    print(err[-6000:], file=sys.stderr)
    print(out)
    return 0 if out == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
