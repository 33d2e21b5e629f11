"""The aio differential runner: one script (``gen.py``'s language) on one implementation and
one event loop, logging what is observable in the same strings whatever runs it.

Implementations: ``"asyncio-ssl"`` (``loop.create_server``/``loop.create_connection`` with
``ssl=`` an ``ssl.SSLContext``: ``asyncio.sslproto`` on the asyncio loop, uvloop's own SSL
transport on uvloop), ``"asyncio-sslproto"`` (the same calls, ``asyncio.sslproto`` on uvloop's
loop too: ``sslproto_loop.py``; the third reference, uvloop only) and ``"nodetls-aio"``
(``nodetls.aio.create_server``/``create_connection``). Loops: ``"asyncio"`` and ``"uvloop"``. :func:`run` runs one script in a
fresh loop of its own (``asyncio.Runner``), so it is called from synchronous code.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

IMPLS = ("asyncio-ssl", "asyncio-sslproto", "nodetls-aio")
LOOPS = ("asyncio", "uvloop")
QUIET = 0.040
SETTLE_MAX = 2.0
T = 10.0  # bound of every other wait
X = TypeVar("X")


async def wait_for(aw: Awaitable[X], timeout: float) -> X:
    """``asyncio.wait_for`` as CPython 3.11 runs it, on every Python: ``aw`` in a task of its
    own (a future as it is), the caller woken through a waiter future, so one loop step after
    ``aw`` is done. CPython 3.12 rebuilt ``wait_for`` on ``asyncio.timeout``: it awaits a
    coroutine inline and a future directly, and the caller resumes a step sooner (two for a
    coroutine). A script's ops start right after both sides' ``connection_made``: with 3.12's
    ``wait_for`` they start at another point of the connection's first steps (a TLS 1.3 client
    has not read its session tickets yet...), where the seeds and named cases, chosen under
    3.11, no longer run alike (CPython 3.12 and 3.13 failed 5 named cases that way, and 3.11
    did with 3.12's wait_for patched in; asyncio.sslproto itself is the same in 3.11 and 3.12).
    The harness waits with this everywhere, so every Python runs the scripts from the same step."""
    loop = asyncio.get_running_loop()
    fut = asyncio.ensure_future(aw)
    waiter: asyncio.Future[None] = loop.create_future()

    def release(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    fut.add_done_callback(release)
    timer = loop.call_later(timeout, release)
    try:
        await waiter
    finally:
        timer.cancel()
        if not fut.done():  # timed out, or the caller was cancelled: so is aw
            fut.remove_done_callback(release)
            fut.cancel()
    if not fut.done():
        raise TimeoutError(f"not done within {timeout} s")
    return fut.result()


def chunk(a: Any) -> bytes:
    if isinstance(a, list):
        return bytes([a[1]]) * int(a[0])
    return bytes.fromhex(str(a))


def data_str(buf: bytes) -> str:
    if len(buf) <= 48:
        return f"data {buf.hex()}"
    return f"data len={len(buf)},sha={hashlib.sha256(buf).hexdigest()[:16]}"


class Log:
    """One side's log; consecutive data are joined (rendered at the end)."""

    def __init__(self, clock: list[float]) -> None:
        self.items: list[Any] = []
        self.clock = clock

    def add(self, s: str) -> None:
        self.items.append(s)
        self.clock[0] = time.monotonic()

    def data(self, buf: bytes) -> None:
        last = self.items[-1] if self.items else None
        if isinstance(last, list):
            last.append(buf)
        else:
            self.items.append([buf])
        self.clock[0] = time.monotonic()

    def render(self) -> list[str]:
        return [x if isinstance(x, str) else data_str(b"".join(x)) for x in self.items]


def exc_name(exc: BaseException | None) -> str:
    """An exception as logged: its first builtin class (what ``isinstance`` checks see alike:
    nodetls's ``ConnectionResetNodeError`` is a ``ConnectionResetError``), ``ssl.SSLError``
    and nodetls's TLS errors as ``TLSError``."""
    if exc is None:
        return "None"
    for cls in type(exc).__mro__:
        if cls.__name__ in ("SSLError", "TLSError", "CertificateError"):
            return "TLSError"
        if cls.__module__ == "builtins":
            return cls.__name__
    return type(exc).__name__


class _Base:
    transport: Any = None

    def __init__(self, log: Log, eof_ret: Any, made: asyncio.Future[Any]) -> None:
        self.log, self.eof_ret, self.made = log, eof_ret, made
        self.lost = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.log.add("made")
        if not self.made.done():
            self.made.set_result(transport)

    def eof_received(self) -> Any:
        self.log.add(f"eof -> {self.eof_ret}")
        if self.eof_ret == "raise":
            raise ValueError("eof_received")
        return self.eof_ret

    def pause_writing(self) -> None:
        self.log.add("pause_writing")

    def resume_writing(self) -> None:
        self.log.add("resume_writing")

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = True
        self.log.add(f"lost {exc_name(exc)}")


class PlainProto(_Base, asyncio.Protocol):
    def data_received(self, data: bytes) -> None:
        self.log.data(bytes(data))


class BufferedProto(_Base, asyncio.BufferedProtocol):
    def __init__(self, log: Log, eof_ret: Any, made: asyncio.Future[Any]) -> None:
        super().__init__(log, eof_ret, made)
        self.buf = bytearray(4096)

    def get_buffer(self, sizehint: int) -> memoryview:
        # (a view, not the bytearray: asyncio's SSL transport fills the rest of a buffer with
        # buf[offset:], a copy of a bytearray, so its second read into one buffer is lost and
        # the protocol sees stale bytes; an asyncio bug, sidestepped; seeds 5358, 5457)
        return memoryview(self.buf)

    def buffer_updated(self, nbytes: int) -> None:
        self.log.data(bytes(self.buf[:nbytes]))


def _extra(t: Any, key: str, addrs: dict[str, Any]) -> str:
    v = t.get_extra_info(key)
    if v is None:
        return "None"
    if key in ("peername", "sockname"):
        return "addr" if tuple(v[:2]) in addrs.values() else f"other {v!r}"
    if key == "cipher":
        return f"{type(v).__name__}{len(v)} {v[1]}"
    return "present"


def _op(op: list[Any], t: Any, addrs: dict[str, Any]) -> str:
    name, args = op[1], op[2:]
    if name == "write":
        return repr(t.write(chunk(args[0])))
    if name == "writelines":
        return repr(t.writelines([chunk(a) for a in args[0]]))
    if name == "set_write_buffer_limits":
        return repr(t.set_write_buffer_limits(high=args[0], low=args[1]))
    if name == "extra":
        return _extra(t, args[0], addrs)
    return repr(getattr(t, name)())


def _op_str(op: list[Any]) -> str:
    def a(x: Any) -> str:
        if isinstance(x, list) and len(x) == 2 and isinstance(x[0], int):
            return f"{x[0]}x{x[1]:02x}"
        if isinstance(x, list):
            return "[" + ",".join(a(y) for y in x) + "]"
        return str(x)
    return " ".join(["> " + op[1], *(a(x) for x in op[2:])])


class _Material:
    """What both implementations serve and trust: the server's key and chain, the CA."""

    def __init__(self, bundle: Any) -> None:
        self.key_pem: bytes = bundle.key_pem
        self.chain_pem: bytes = bundle.chain_pem
        self.ca_pem: bytes = bundle.ca_pem
        self.key_path = str(bundle.key_path)
        self.chain_path = str(bundle.chain_path)


async def _settle(clock: list[float]) -> None:
    start = time.monotonic()
    while time.monotonic() - start < SETTLE_MAX:
        await asyncio.sleep(QUIET / 4)
        if time.monotonic() - clock[0] >= QUIET:
            return


async def settle_logs(clock: list[float], logs: dict[str, Log]) -> None:
    """A script's ``settle``: wait until quiet, then mark it in both logs."""
    await _settle(clock)
    for log in logs.values():
        log.add("~")


async def connect_pair(script: dict[str, Any], impl: str, m: _Material, server_side: Any,
                       client_side: Any, stream: bool = False) -> tuple[Any, Any]:
    """A server and one client connected to it with ``impl``: ``(server, client)``.
    Protocol forms (``server_side``/``client_side`` protocol factories; client: ``(transport,
    protocol)``) or, with ``stream``, the stream forms (``server_side`` the
    ``client_connected_cb``, ``client_side`` unused; client: ``(reader, writer)``). The
    script's optional ``shutdown_timeout`` is both sides' ``ssl_shutdown_timeout``, its
    ``limit`` the streams' buffer limit."""
    loop = asyncio.get_running_loop()
    version = script["tls"]
    kw: dict[str, Any] = {}
    if script.get("shutdown_timeout") is not None:
        kw["ssl_shutdown_timeout"] = script["shutdown_timeout"]
    if stream:
        kw["limit"] = script.get("limit", 2 ** 16)
    server: Any
    if impl in ("asyncio-ssl", "asyncio-sslproto"):
        tv = ssl.TLSVersion.TLSv1_3 if version == "TLSv1.3" else ssl.TLSVersion.TLSv1_2
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(m.chain_path, m.key_path)
        cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cctx.load_verify_locations(cadata=m.ca_pem.decode())
        for ctx in (sctx, cctx):
            ctx.minimum_version = ctx.maximum_version = tv
        if stream:
            server = await asyncio.start_server(server_side, "127.0.0.1", 0, ssl=sctx, **kw)
            connect: Any = asyncio.open_connection(
                "127.0.0.1", server.sockets[0].getsockname()[1], ssl=cctx,
                server_hostname="localhost", **kw)
        else:
            server = await loop.create_server(server_side, "127.0.0.1", 0, ssl=sctx, **kw)
            connect = loop.create_connection(
                client_side, "127.0.0.1", server.sockets[0].getsockname()[1], ssl=cctx,
                server_hostname="localhost", **kw)
    else:
        from nodetls import aio
        opts = {"min_version": version, "max_version": version, **kw}
        if stream:
            server = await aio.start_server(server_side, "127.0.0.1", 0, key=m.key_pem,
                                            cert=m.chain_pem, **opts)
            connect = aio.open_connection(
                "127.0.0.1", server.sockets[0].getsockname()[1], ca=m.ca_pem,
                servername="localhost", **opts)
        else:
            server = await aio.create_server(server_side, "127.0.0.1", 0, key=m.key_pem,
                                             cert=m.chain_pem, **opts)
            connect = aio.create_connection(
                client_side, "127.0.0.1", server.sockets[0].getsockname()[1], ca=m.ca_pem,
                servername="localhost", **opts)
    return server, await wait_for(connect, T)


def start_logs(loop: asyncio.AbstractEventLoop) -> tuple[list[float], dict[str, Log], list[str]]:
    """A script's clock, its two sides' logs, and the messages the loop's exception handler
    gets from now on (installed here)."""
    clock = [time.monotonic()]
    logs = {"c": Log(clock), "s": Log(clock)}
    handled: list[str] = []
    loop.set_exception_handler(
        lambda _loop, ctx: handled.append(
            f"{ctx.get('message')} {exc_name(ctx.get('exception'))}"))
    return clock, logs, handled


async def run_script(script: dict[str, Any], impl: str, bundle: Any) -> dict[str, Any]:
    """Run ``script`` on the running loop with ``impl``; the result: both logs, the loop's
    exception-handler messages, and each side's final ``is_closing()``."""
    if script.get("mode") == "stream":
        from .streams import run_stream_script
        return await run_stream_script(script, impl, _Material(bundle))
    m = _Material(bundle)
    loop = asyncio.get_running_loop()
    clock, logs, handled = start_logs(loop)
    made = {t: loop.create_future() for t in "cs"}
    protos: dict[str, Any] = {}

    def factory(t: str) -> Any:
        def make() -> Any:
            cls = BufferedProto if script["proto"][t] == "buffered" else PlainProto
            p = protos[t] = cls(logs[t], script["eof"][t], made[t])
            return p
        return make

    server, _ = await connect_pair(script, impl, m, factory("s"), factory("c"))
    try:
        tr = {t: await wait_for(made[t], T) for t in "cs"}
        addrs = {t: tuple(tr[t].get_extra_info("sockname")[:2]) for t in "cs"}
        for op in script["ops"]:
            if op[0] == "settle":
                await settle_logs(clock, logs)
                continue
            log = logs[op[0]]
            log.add(_op_str(op))
            try:
                res = _op(op, tr[op[0]], addrs)
            except Exception as exc:  # noqa: BLE001 - logged, compared
                log.add(f"! {exc_name(exc)}")
            else:
                log.add(f"= {res}")
        final = {t: {"closing": tr[t].is_closing(), "lost": protos[t].lost} for t in "cs"}
    finally:
        for t in "cs":
            p = protos.get(t)
            if p is not None and p.transport is not None and not p.lost:
                p.transport.abort()
        server.close()
        await wait_for(server.wait_closed(), T)
        await asyncio.sleep(0)
    return {"c": logs["c"].render(), "s": logs["s"].render(), "handled": handled,
            "final": final}


def new_loop(name: str, impl: str = "") -> asyncio.AbstractEventLoop:
    """A new ``name`` loop; for ``"asyncio-sslproto"`` on uvloop, uvloop's loop whose SSL
    transport is asyncio's."""
    if name == "uvloop":
        if impl == "asyncio-sslproto":
            from .sslproto_loop import SslprotoUVLoop
            return SslprotoUVLoop()
        import uvloop
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def _quiet_asyncio() -> None:
    """asyncio's SSL transport warns on its logger ('returning true from eof_received() has no
    effect when using ssl'): kept off stderr (that difference is accepted, compare.py)."""
    log = logging.getLogger("asyncio")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())
        log.propagate = False


def run(script: dict[str, Any], impl: str, loop: str, bundle: Any) -> dict[str, Any]:
    """``script`` on ``impl`` in a new ``loop`` (``"asyncio"`` or ``"uvloop"``)."""
    _quiet_asyncio()
    with asyncio.Runner(loop_factory=lambda: new_loop(loop, impl)) as runner:
        return runner.run(wait_for(run_script(script, impl, bundle), 60))


def run_many(scripts: list[dict[str, Any]], impl: str, loop: str,
             bundle: Any) -> list[dict[str, Any]]:
    """Several scripts, one after the other, in one new loop."""
    _quiet_asyncio()
    async def go() -> list[dict[str, Any]]:
        return [await wait_for(run_script(sc, impl, bundle), 60) for sc in scripts]
    with asyncio.Runner(loop_factory=lambda: new_loop(loop, impl)) as runner:
        return runner.run(go())
